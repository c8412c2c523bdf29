//! `CAST(x AS type)` with Spark 4 semantics.
//!
//! Three modes: ANSI (`spark.sql.ansi.enabled=true`) fails on malformed input
//! (`CAST_INVALID_INPUT`) and overflow (`CAST_OVERFLOW`, `NUMERIC_VALUE_OUT_OF_RANGE`);
//! legacy returns NULL for malformed input and wraps/truncates numbers like Java;
//! `try_cast` returns NULL for both. Strings are trimmed before parsing; text forms of
//! values come from [`crate::format`] (Java double text, timestamps in the session zone).
//! The kernel itself, shared with the functions that cast (`from_csv`), is
//! [`crate::functions::cast`]; this is its compiled expression.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use super::{ColumnarValue, PhysicalExpr, PhysicalExprRef, apply_unary};
use crate::Result;
use crate::expr::CastMode;
use crate::functions::FunctionContext;
pub use crate::functions::cast::cast_array;
use crate::types::sql_type_name;

/// `CAST(expr AS to)`.
#[derive(Debug)]
pub struct CastExpr {
    expr: PhysicalExprRef,
    to: DataType,
    mode: CastMode,
    ctx: Arc<FunctionContext>,
}

impl CastExpr {
    /// Casts `expr` to `to`; `ctx` supplies the session time zone.
    pub fn new(
        expr: PhysicalExprRef,
        to: DataType,
        mode: CastMode,
        ctx: Arc<FunctionContext>,
    ) -> Self {
        CastExpr {
            expr,
            to,
            mode,
            ctx,
        }
    }
}

impl fmt::Display for CastExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = if self.mode == CastMode::Try {
            "try_cast"
        } else {
            "cast"
        };
        write!(f, "{name}({} as {})", self.expr, sql_type_name(&self.to))
    }
}

impl PhysicalExpr for CastExpr {
    fn data_type(&self) -> &DataType {
        &self.to
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let v = self.expr.evaluate(batch)?;
        apply_unary(v, |a| cast_array(a, &self.to, self.mode, &self.ctx))
    }
}
