//! The traits every function implements, and what they are given when they run.
//!
//! They live with the expression tree (not with the function library in
//! [`crate::functions`]) because a resolved [`super::Expr`] holds its function: the tree,
//! the analyzer and the planners need the traits, while only the registry needs the
//! implementations.

use std::fmt;

use arrow::datatypes::{DataType, Field};
use chrono_tz::Tz;

use super::columnar::ColumnarValue;
use crate::Result;

/// The function behind SQL subscripts `arr[i]` / `m[k]` (Spark's `GetArrayItem` /
/// `GetMapValue`): 0-based, out-of-bounds fails under ANSI. Displayed as `arr[i]`.
pub const ARRAY_ITEM: &str = "__array_item";

/// What a function may need to know about the session while it runs.
#[derive(Debug, Clone)]
pub struct FunctionContext {
    /// `spark.sql.session.timeZone`.
    pub time_zone: Tz,
    /// `spark.sql.ansi.enabled`: fail on bad input instead of returning NULL.
    pub ansi: bool,
    /// The query's start time in microseconds since the epoch; `current_timestamp()` returns
    /// it so every row of a query (a micro-batch, when streaming) sees the same instant.
    pub query_start_micros: i64,
    /// Malformed records met by `from_json`/`from_csv` in this query (every mode: nulled in
    /// PERMISSIVE, dropped in DROPMALFORMED). Shared by all tasks of the query, so metrics
    /// and streaming progress read one number per query (micro-batch).
    pub malformed_records: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Default for FunctionContext {
    fn default() -> Self {
        FunctionContext {
            time_zone: Tz::UTC,
            ansi: true,
            query_start_micros: 0,
            malformed_records: Default::default(),
        }
    }
}

/// A scalar (row-wise) function such as `upper` or `date_add`, evaluated a batch at a time.
pub trait ScalarFunction: Send + Sync + fmt::Debug {
    /// Spark's name, lower case (`upper`, `regexp_replace`).
    fn name(&self) -> &str;

    /// Checks the argument types and returns the types the arguments must be cast to.
    /// The default accepts any types as they are. Errors here are analysis errors with
    /// Spark's class (`WRONG_NUM_ARGS`, `DATATYPE_MISMATCH...`).
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        Ok(args.to_vec())
    }

    /// The result type for the (coerced) argument types.
    fn return_type(&self, args: &[DataType]) -> Result<DataType>;

    /// Evaluates the function over a batch of `num_rows` rows.
    fn invoke(
        &self,
        args: &[ColumnarValue],
        num_rows: usize,
        ctx: &FunctionContext,
    ) -> Result<ColumnarValue>;

    /// False for functions such as `rand()` whose result differs call to call.
    fn is_deterministic(&self) -> bool {
        true
    }

    /// False for functions that must not be evaluated at planning time even on constant
    /// arguments (`current_timestamp()` depends on when the query runs).
    fn is_foldable(&self) -> bool {
        true
    }

    /// The result when it depends only on the argument types (`typeof`): the call is then
    /// planned as that constant and its arguments are never evaluated, so `typeof(1 / 0)`
    /// is `'double'`, not a division-by-zero error, as in Spark. `None` by default.
    fn result_from_types(&self, _args: &[DataType]) -> Option<crate::scalar::ScalarValue> {
        None
    }

    /// The concrete object, for the analyzer rewrites that need a function's settings
    /// (`from_json` in DROPMALFORMED mode). `None` by default.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}

impl PartialEq for dyn ScalarFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

/// An aggregate function such as `sum`, computed in two phases: partial states per input
/// partition, then merged states per group after the exchange.
pub trait AggregateFunction: Send + Sync + fmt::Debug {
    /// Spark's name, lower case.
    fn name(&self) -> &str;

    /// Checks the argument types and returns the types the arguments must be cast to.
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        Ok(args.to_vec())
    }

    /// The final result type.
    fn return_type(&self, args: &[DataType]) -> Result<DataType>;

    /// Whether the result can be NULL (`count` never is).
    fn nullable(&self) -> bool {
        true
    }

    /// The columns of the partial state exchanged between the two phases.
    fn state_fields(&self, args: &[DataType]) -> Result<Vec<Field>>;

    /// A fresh accumulator for many groups at once.
    fn create_accumulator(&self, args: &[DataType]) -> Result<Box<dyn GroupsAccumulator>>;

    /// For functions with constant parameters (`percentile`'s percentages, `mode`'s
    /// `deterministic`): the function bound to its arguments' values, each a one-row array
    /// of the coerced argument type, `None` where the argument is not constant. The physical
    /// planner calls it once per call, so the accumulators of every phase (and of streaming
    /// state) see the same parameters. `None`, the default: the function needs no values.
    fn bind_constants(
        &self,
        _args: &[Option<arrow::array::ArrayRef>],
    ) -> Result<Option<std::sync::Arc<dyn AggregateFunction>>> {
        Ok(None)
    }
}

impl PartialEq for dyn AggregateFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

/// Accumulates one aggregate for many groups, a batch at a time.
///
/// Group indices are dense (`0..total_num_groups`); the hash table that assigns them lives
/// in the aggregate operator, so an accumulator is just a few vectors indexed by group.
pub trait GroupsAccumulator: Send {
    /// Folds input rows in: row `i` of `values` belongs to group `group_indices[i]`.
    fn update_batch(
        &mut self,
        values: &[arrow::array::ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()>;

    /// Folds partial states (as produced by [`GroupsAccumulator::state`]) in.
    fn merge_batch(
        &mut self,
        states: &[arrow::array::ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()>;

    /// The partial state of every group, one array per state field, `total_num_groups` rows.
    fn state(&mut self) -> Result<Vec<arrow::array::ArrayRef>>;

    /// The final value of every group.
    fn evaluate(&mut self) -> Result<arrow::array::ArrayRef>;

    /// Approximate heap size in bytes, for memory accounting.
    fn size(&self) -> usize;
}

/// Spark's `WRONG_NUM_ARGS` error for `name` called with `got` arguments.
pub fn wrong_num_args(name: &str, expected: &str, got: usize) -> crate::EngineError {
    crate::EngineError::analysis(
        "WRONG_NUM_ARGS.WITHOUT_SUGGESTION",
        format!(
            "The `{name}` requires {expected} parameters but the actual number is {got}. Please, refer to 'https://spark.apache.org/docs/latest/sql-ref-functions.html' for a fix. SQLSTATE: 42605"
        ),
    )
}

/// Spark's `DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE` error.
pub fn unexpected_input_type(
    name: &str,
    position: usize,
    expected: &str,
    got: &DataType,
) -> crate::EngineError {
    crate::EngineError::analysis(
        "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
        format!(
            "Cannot resolve \"{name}\" due to data type mismatch: The {} parameter requires the {expected} type, however it has the type \"{}\". SQLSTATE: 42K09",
            ordinal(position),
            crate::types::sql_type_name(got)
        ),
    )
}

/// `1` -> `first`, `2` -> `second`, ... as in Spark's messages.
pub fn ordinal(position: usize) -> String {
    match position {
        1 => "first".into(),
        2 => "second".into(),
        3 => "third".into(),
        4 => "fourth".into(),
        5 => "fifth".into(),
        n => format!("{n}th"),
    }
}
