//! A limit on a stream in Append mode (Spark's `StreamingGlobalLimitExec` over
//! `StreamingLocalLimitExec`): the first `n` rows the query appends, over all batches.
//!
//! Each input partition passes at most `n` rows, they meet in one partition (in partition
//! order), and the operator passes as many as the count of rows already emitted leaves,
//! in the order they come; a batch after the limit was reached emits nothing.
//!
//! Spark pulls rows one at a time, so an event-time watermark below the limit (through
//! projections, filters and generators only) observes just the rows pulled until each
//! partition's local limit was met. [`pull_row_by_row`] puts a [`RowByRow`] node under such
//! a watermark, so it sees the same rows here (which decides the next batch's watermark). Store: one pair, the count so far, written only when it grew
//! (as Spark writes it, so `numRowsTotal` is 0 until a row was emitted).

use std::any::Any;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use engine_core::expr::Expr;
use engine_core::logical::{Extension, LogicalPlan, UserDefinedLogicalNode};
use engine_core::physical::plan::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};
use engine_core::schema::PlanSchema;
use engine_core::{EngineError, Result};
use engine_state::rows::StateSchema;

use super::operator::{Phases, StateOperator, timed};

/// The single key of the count (Spark's key is one NULL).
const COUNT_KEY: &[u8] = &[];

/// A limit on a stream in Append mode, in the per-batch plan.
#[derive(Debug, Clone)]
pub struct StreamingGlobalLimit {
    /// The operator id.
    pub id: u64,
    /// How many rows the query emits at most.
    pub n: usize,
    /// The input.
    pub input: Arc<LogicalPlan>,
}

impl StreamingGlobalLimit {
    /// What the operator computes, for the restart check.
    pub fn properties(&self) -> String {
        format!("limit {}", self.n)
    }
}

impl UserDefinedLogicalNode for StreamingGlobalLimit {
    fn name(&self) -> &str {
        "StreamingGlobalLimit"
    }

    fn inputs(&self) -> Vec<&Arc<LogicalPlan>> {
        vec![&self.input]
    }

    fn with_new_inputs(
        &self,
        inputs: Vec<Arc<LogicalPlan>>,
    ) -> Result<Arc<dyn UserDefinedLogicalNode>> {
        let input = engine_core::logical::single_input("StreamingGlobalLimit", inputs)?;
        Ok(Arc::new(StreamingGlobalLimit {
            input,
            ..self.clone()
        }))
    }

    fn schema(&self) -> Result<PlanSchema> {
        self.input.schema()
    }

    fn expressions(&self) -> Vec<&Expr> {
        vec![]
    }

    fn describe(&self) -> String {
        format!("{}, operator {}", self.n, self.id)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Splits its input into one-row batches, so the operators above it (a watermark, then
/// projections and filters up to a limit) see and pass exactly the rows pulled.
#[derive(Debug, Clone)]
pub struct RowByRow {
    /// The input.
    pub input: Arc<LogicalPlan>,
}

impl UserDefinedLogicalNode for RowByRow {
    fn name(&self) -> &str {
        "RowByRow"
    }

    fn inputs(&self) -> Vec<&Arc<LogicalPlan>> {
        vec![&self.input]
    }

    fn with_new_inputs(
        &self,
        inputs: Vec<Arc<LogicalPlan>>,
    ) -> Result<Arc<dyn UserDefinedLogicalNode>> {
        let input = engine_core::logical::single_input("RowByRow", inputs)?;
        Ok(Arc::new(RowByRow { input }))
    }

    fn schema(&self) -> Result<PlanSchema> {
        self.input.schema()
    }

    fn expressions(&self) -> Vec<&Expr> {
        vec![]
    }

    fn describe(&self) -> String {
        String::new()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `plan` (a limit's input) with a [`RowByRow`] under each watermark reached from its top
/// through operators that pull rows lazily (projections, filters, generators, unions,
/// aliases).
pub fn pull_row_by_row(plan: &Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
    match plan.as_ref() {
        LogicalPlan::EventTimeWatermark(w) => {
            let mut w = w.clone();
            w.input = Extension::plan(RowByRow {
                input: w.input.clone(),
            });
            Ok(Arc::new(LogicalPlan::EventTimeWatermark(w)))
        }
        // A union's partitions are its inputs' partitions, each limited on its own.
        LogicalPlan::Projection { .. }
        | LogicalPlan::Filter { .. }
        | LogicalPlan::Generate(_)
        | LogicalPlan::Union { .. }
        | LogicalPlan::SubqueryAlias { .. } => {
            let inputs = plan
                .inputs()
                .into_iter()
                .map(pull_row_by_row)
                .collect::<Result<Vec<_>>>()?;
            Ok(Arc::new(plan.with_new_inputs(inputs)?))
        }
        _ => Ok(plan.clone()),
    }
}

/// The executor of [`RowByRow`].
#[derive(Debug)]
pub struct RowByRowExec {
    input: ExecutionPlanRef,
}

impl RowByRowExec {
    /// Over `input`.
    pub fn new(input: ExecutionPlanRef) -> Self {
        RowByRowExec { input }
    }
}

impl ExecutionPlan for RowByRowExec {
    fn name(&self) -> &'static str {
        "RowByRow"
    }

    fn describe(&self) -> String {
        "RowByRow".into()
    }

    fn schema(&self) -> SchemaRef {
        self.input.schema()
    }

    fn children(&self) -> Vec<ExecutionPlanRef> {
        vec![self.input.clone()]
    }

    fn output_partitions(&self) -> usize {
        self.input.output_partitions()
    }

    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let input = self.input.execute(partition, ctx)?;
        // Lazily: a limit above stops pulling, so the rest of a batch is never sliced.
        Ok(Box::new(input.flat_map(|b| -> BatchIter {
            match b {
                Ok(b) => Box::new((0..b.num_rows()).map(move |i| Ok(b.slice(i, 1)))),
                Err(e) => Box::new(std::iter::once(Err(e))),
            }
        })))
    }
}

/// The store's schemas (for the restart check): Spark's NULL key and LONG count.
pub fn limit_state_schema() -> StateSchema {
    StateSchema {
        key: Arc::new(Schema::new(vec![Field::new("key", DataType::Null, true)])),
        value: Arc::new(Schema::new(vec![Field::new(
            "value",
            DataType::Int64,
            false,
        )])),
    }
}

/// The stateful stage: one partition holding the count.
#[derive(Debug)]
pub struct StreamingGlobalLimitExec {
    input: ExecutionPlanRef,
    n: usize,
    op: Arc<StateOperator>,
}

impl StreamingGlobalLimitExec {
    /// The limit over `input` (one partition, rows in the order to emit them).
    pub fn new(input: ExecutionPlanRef, n: usize, op: Arc<StateOperator>) -> Self {
        StreamingGlobalLimitExec { input, n, op }
    }

    fn run(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<Vec<RecordBatch>> {
        let mut phases = Phases::default();
        let mut store = self.op.open(partition)?;
        let limit = u64::try_from(self.n).unwrap_or(u64::MAX);
        let before = match store.get(COUNT_KEY)? {
            Some(v) => <[u8; 8]>::try_from(v.as_slice())
                .map(u64::from_be_bytes)
                .map_err(|_| {
                    EngineError::Internal("a streaming limit's count is not 8 bytes".into())
                })?,
            None => 0,
        };
        let mut count = before;
        let mut out = Vec::new();
        // The input runs to its end even once the limit is reached: stateful operators below
        // must still take in their rows and commit every batch.
        for b in self.input.execute(partition, ctx)? {
            let b = b?;
            let left = usize::try_from(limit.saturating_sub(count)).unwrap_or(usize::MAX);
            let take = b.num_rows().min(left);
            if take > 0 {
                out.push(b.slice(0, take));
                count += take as u64;
            }
        }
        timed(&mut phases.updates_ms, || {
            if count > before {
                store.put(COUNT_KEY, &count.to_be_bytes())?;
            }
            Ok(())
        })?;
        self.op.commit(store.as_mut(), phases, 0, &[])?;
        Ok(out)
    }
}

impl ExecutionPlan for StreamingGlobalLimitExec {
    fn name(&self) -> &'static str {
        "StreamingGlobalLimit"
    }

    fn describe(&self) -> String {
        format!("StreamingGlobalLimit {}, operator {}", self.n, self.op.id)
    }

    fn schema(&self) -> SchemaRef {
        self.input.schema()
    }

    fn children(&self) -> Vec<ExecutionPlanRef> {
        vec![self.input.clone()]
    }

    fn output_partitions(&self) -> usize {
        self.input.output_partitions()
    }

    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let out = self.run(partition, ctx)?;
        Ok(Box::new(out.into_iter().map(Ok)))
    }
}
