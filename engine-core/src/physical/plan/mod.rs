//! Executable plans: operators over Arrow record batches, one iterator per partition.
//!
//! Narrow operators (filter, project, limit) wrap their input's iterator, so a chain of them
//! is one fused pipeline per partition with no intermediate materialization. Wide operators
//! (aggregate, join, sort) sit behind an exchange that repartitions by key.

pub mod aggregate;
pub mod exchange;
pub mod filter;
pub mod generate;
pub mod guard;
pub mod hash;
pub mod hash_join;
pub mod limit;
pub mod merge_sessions;
pub mod partition_scan;
pub mod projection;
pub mod sink_write;
pub mod sort;
pub mod streaming_relation;
pub mod union;
pub mod watermark;

use std::fmt;
use std::sync::Arc;

use crate::Result;
use crate::pool::WorkerPool;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::conf::SessionConf;
use crate::functions::FunctionContext;

/// A stream of record batches of one partition.
pub type BatchIter = Box<dyn Iterator<Item = Result<RecordBatch>> + Send>;

/// What every running task can see: the session conf, the worker pool and the function
/// context (time zone, ANSI mode, query start time).
#[derive(Debug, Clone)]
pub struct TaskContext {
    /// The session configuration at the time the query started.
    pub conf: Arc<SessionConf>,
    /// Workers for partition tasks (`local[N]`).
    pub pool: WorkerPool,
    /// Shared by every function call of this query.
    pub functions: Arc<FunctionContext>,
    /// Set when this is one micro-batch of a streaming query: the batch id and the
    /// watermark stateful operators use to drop late rows and evict state.
    pub streaming: Option<StreamingBatch>,
}

/// Which micro-batch a task belongs to (Spark's `IncrementalExecution` fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamingBatch {
    /// The batch id (the state version stateful operators read is `batch_id`, and they
    /// write `batch_id + 1`).
    pub batch_id: u64,
    /// The event-time watermark of the batch, ms since the epoch: stateful operators evict
    /// and emit with it (Spark's `eventTimeWatermarkForEviction`).
    pub watermark_ms: i64,
    /// The watermark of the batch before, ms since the epoch (0 for the first batch): rows
    /// at or before it are late (Spark's `eventTimeWatermarkForLateEvents`).
    pub late_watermark_ms: i64,
    /// The batch timestamp (what `current_timestamp()` returns), ms since the epoch.
    pub timestamp_ms: i64,
}

impl TaskContext {
    /// A context from a conf snapshot, stamped with the current time as query start.
    pub fn new(conf: Arc<SessionConf>) -> Result<Self> {
        let functions = Arc::new(conf.function_context()?);
        Ok(TaskContext {
            pool: WorkerPool::new(conf.worker_threads()?),
            conf,
            functions,
            streaming: None,
        })
    }

    /// Target number of rows per batch (`spark.sql.execution.arrow.maxRecordsPerBatch`-like).
    pub fn batch_size(&self) -> usize {
        self.conf.batch_size()
    }
}

/// An executable operator.
pub trait ExecutionPlan: Send + Sync + fmt::Debug {
    /// Spark-style operator name for `explain` (`Filter`, `HashAggregate`, `Exchange`).
    fn name(&self) -> &'static str;

    /// One-line description with arguments, for `explain`.
    fn describe(&self) -> String {
        self.name().to_string()
    }

    /// The schema of every batch this operator returns.
    fn schema(&self) -> SchemaRef;

    /// The inputs.
    fn children(&self) -> Vec<Arc<dyn ExecutionPlan>>;

    /// How many partitions [`Self::execute`] can be called with (`0..n`).
    fn output_partitions(&self) -> usize;

    /// Starts partition `partition`. Each partition is executed at most once per query.
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter>;
}

/// Shared [`ExecutionPlan`].
pub type ExecutionPlanRef = Arc<dyn ExecutionPlan>;

/// Runs every partition of `plan` on the worker pool and returns all batches, partition by
/// partition.
pub fn collect_partitions(
    plan: &ExecutionPlanRef,
    ctx: &Arc<TaskContext>,
) -> Result<Vec<Vec<RecordBatch>>> {
    let n = plan.output_partitions();
    ctx.pool
        .run(n, |p| plan.execute(p, ctx)?.collect::<Result<Vec<_>>>())
}

/// Runs `plan` and returns all batches in partition order.
pub fn collect(plan: &ExecutionPlanRef, ctx: &Arc<TaskContext>) -> Result<Vec<RecordBatch>> {
    Ok(collect_partitions(plan, ctx)?
        .into_iter()
        .flatten()
        .collect())
}

/// The tree of an executable plan, Spark's layout, for `explain`.
pub fn display_tree(plan: &ExecutionPlanRef) -> String {
    fn walk(p: &ExecutionPlanRef, out: &mut String, first: &str, rest: &str) {
        out.push_str(first);
        out.push_str(&p.describe());
        out.push('\n');
        let children = p.children();
        let n = children.len();
        for (i, c) in children.iter().enumerate() {
            let last = i + 1 == n;
            let (h, t) = if last { ("+- ", "   ") } else { (":- ", ":  ") };
            walk(c, out, &format!("{rest}{h}"), &format!("{rest}{t}"));
        }
    }
    let mut out = String::new();
    walk(plan, &mut out, "", "");
    out.trim_end().to_string()
}
