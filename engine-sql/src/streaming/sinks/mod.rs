//! Built-in streaming sinks. Each implements [`engine_core::connector::Sink`].
//!
//! `console`, `memory`, `foreachBatch` and `foreach` need the session (to print with its
//! time zone, to register a view, to build DataFrames), so the writer creates them directly
//! rather than through a [`engine_core::connector::Format`]; file sinks come from
//! [`super::formats`].

pub mod console;
pub mod file;
pub mod foreach;
pub mod memory;
pub mod pending;

use arrow::record_batch::RecordBatch;
use engine_core::connector::{DataWriter, WriterCommitMessage};
use engine_core::{EngineError, Result};

/// A task writer that keeps its rows in memory and hands them to the sink's `commit`
/// (console, memory and foreachBatch sinks all need the whole batch on the driver).
#[derive(Debug, Default)]
pub struct CollectingWriter {
    batches: Vec<RecordBatch>,
}

impl DataWriter for CollectingWriter {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() > 0 {
            self.batches.push(batch.clone());
        }
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<WriterCommitMessage> {
        Ok(Box::new(self.batches))
    }

    fn abort(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

/// The batches of every task, in task order, from [`CollectingWriter`] messages.
pub fn collected(messages: Vec<WriterCommitMessage>) -> Result<Vec<Vec<RecordBatch>>> {
    messages
        .into_iter()
        .map(|m| {
            m.downcast::<Vec<RecordBatch>>()
                .map(|b| *b)
                .map_err(|_| EngineError::Internal("unexpected writer commit message".into()))
        })
        .collect()
}
