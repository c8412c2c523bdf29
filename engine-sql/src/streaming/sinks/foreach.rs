//! `foreachBatch` (a function per batch) and `foreach` (a row writer per task).

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use engine_core::connector::{DataWriter, Sink, WriterCommitMessage, WriterContext};
use engine_core::{EngineError, Result};

use super::{CollectingWriter, collected};
use crate::dataframe::{DataFrame, Row};
use crate::session::Session;
use engine_core::physical::table::memory::MemTable;
use engine_core::scalar::ScalarValue;

/// The function `foreach_batch` runs: the batch's rows as a DataFrame, and the batch id.
pub type ForeachBatchFn = Arc<dyn Fn(DataFrame, u64) -> Result<()> + Send + Sync>;

/// Runs a function on every batch (Spark's `ForeachBatchSink`). At-least-once: after a crash
/// the function sees the replayed batch again with the same id, so it can deduplicate.
pub struct ForeachBatchSink {
    session: Session,
    schema: SchemaRef,
    func: ForeachBatchFn,
}

impl ForeachBatchSink {
    /// A sink calling `func`.
    pub fn new(session: &Session, schema: SchemaRef, func: ForeachBatchFn) -> Self {
        ForeachBatchSink {
            session: session.clone(),
            schema,
            func,
        }
    }
}

impl Sink for ForeachBatchSink {
    fn description(&self) -> String {
        "ForeachBatchSink".into()
    }

    fn create_writer(&self, _ctx: WriterContext) -> Result<Box<dyn DataWriter>> {
        Ok(Box::new(CollectingWriter::default()))
    }

    fn commit(&self, batch_id: u64, messages: Vec<WriterCommitMessage>) -> Result<()> {
        let table = MemTable::try_new(self.schema.clone(), collected(messages)?)?;
        let df = self.session.dataframe_from_table(Arc::new(table))?;
        (self.func)(df, batch_id)
    }
}

/// Writes rows one at a time (Spark's `ForeachWriter`). One clone of the writer runs per
/// task: `open` once, `process` per row if `open` returned true, then `close`.
pub trait ForeachWriter: Send {
    /// Starts a task of batch `epoch_id`; return false to skip its rows (e.g. already
    /// written before a crash).
    fn open(&mut self, partition_id: usize, epoch_id: u64) -> Result<bool>;
    /// One row.
    fn process(&mut self, row: &Row) -> Result<()>;
    /// The task ended, with the error that ended it, if any.
    fn close(&mut self, error: Option<&EngineError>);
}

/// Makes a fresh writer per task.
pub type ForeachWriterFactory = Arc<dyn Fn() -> Box<dyn ForeachWriter> + Send + Sync>;

/// Spark's `ForeachWriterTable` sink.
pub struct ForeachSink {
    factory: ForeachWriterFactory,
}

impl ForeachSink {
    /// A sink cloning writers from `factory`.
    pub fn new(factory: ForeachWriterFactory) -> Self {
        ForeachSink { factory }
    }
}

impl Sink for ForeachSink {
    fn description(&self) -> String {
        "ForeachSink".into()
    }

    fn create_writer(&self, ctx: WriterContext) -> Result<Box<dyn DataWriter>> {
        let mut writer = (self.factory)();
        let enabled = writer.open(ctx.partition, ctx.batch_id)?;
        Ok(Box::new(ForeachDataWriter { writer, enabled }))
    }

    fn commit(&self, _batch_id: u64, _messages: Vec<WriterCommitMessage>) -> Result<()> {
        Ok(())
    }
}

struct ForeachDataWriter {
    writer: Box<dyn ForeachWriter>,
    enabled: bool,
}

impl ForeachDataWriter {
    fn write_rows(&mut self, batch: &RecordBatch) -> Result<()> {
        for r in 0..batch.num_rows() {
            let values = batch
                .columns()
                .iter()
                .map(|c| ScalarValue::try_from_array(c.as_ref(), r))
                .collect::<Result<Vec<_>>>()?;
            self.writer.process(&Row { values })?;
        }
        Ok(())
    }
}

impl DataWriter for ForeachDataWriter {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if !self.enabled {
            return Ok(());
        }
        let r = self.write_rows(batch);
        if let Err(e) = &r {
            // Spark closes the writer with the error, then fails the task.
            self.writer.close(Some(e));
            self.enabled = false;
        }
        r
    }

    fn commit(mut self: Box<Self>) -> Result<WriterCommitMessage> {
        self.writer.close(None);
        Ok(Box::new(()))
    }

    fn abort(mut self: Box<Self>) -> Result<()> {
        if self.enabled {
            self.writer.close(Some(&EngineError::execution(
                "TASK_WRITE_FAILED",
                "the batch failed",
            )));
        }
        Ok(())
    }
}
