//! Runs a plan into a connector [`Sink`]: one writer per partition on the worker pool, then
//! one commit with every task's message. Batch writes of registered formats use it, and so
//! does every micro-batch of a streaming query.

use std::sync::Arc;

use crate::Result;
use crate::connector::{DataWriter, Sink, WriterCommitMessage, WriterContext};

use super::{ExecutionPlanRef, TaskContext};

/// Writes every partition of `plan` through `sink` as batch `batch_id` and commits it;
/// returns the number of rows written. If any task fails, the tasks that committed are
/// handed to [`Sink::abort`] and the first error is returned.
pub fn write_to_sink(
    plan: &ExecutionPlanRef,
    ctx: &Arc<TaskContext>,
    sink: &Arc<dyn Sink>,
    batch_id: u64,
) -> Result<u64> {
    let n = plan.output_partitions();
    // Every task reports back (`Ok` of its own result) so that the messages of the tasks
    // that committed reach `abort` when another one failed.
    let results = ctx.pool.run(n, |partition| {
        Ok(sink
            .create_writer(WriterContext {
                batch_id,
                partition,
                num_partitions: n,
                batch_timestamp_ms: ctx.streaming.as_ref().map(|b| b.timestamp_ms),
            })
            .and_then(|writer| write_partition(plan, ctx, partition, writer)))
    })?;
    let mut messages = Vec::with_capacity(n);
    let mut rows = 0;
    let mut first_error = None;
    for r in results {
        match r {
            Ok((count, message)) => {
                rows += count;
                messages.push(message);
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        // The abort is best effort: the write already failed with the error that matters.
        let _ = sink.abort(batch_id, messages);
        return Err(e);
    }
    sink.commit(batch_id, messages)?;
    Ok(rows)
}

fn write_partition(
    plan: &ExecutionPlanRef,
    ctx: &Arc<TaskContext>,
    partition: usize,
    mut writer: Box<dyn DataWriter>,
) -> Result<(u64, WriterCommitMessage)> {
    let mut rows = 0u64;
    let written = (|| {
        for batch in plan.execute(partition, ctx)? {
            let batch = batch?;
            rows += batch.num_rows() as u64;
            writer.write(&batch)?;
        }
        Ok::<_, crate::EngineError>(())
    })();
    match written {
        Ok(()) => Ok((rows, writer.commit()?)),
        Err(e) => {
            let _ = writer.abort();
            Err(e)
        }
    }
}
