//! Sinks: a writer per task, then one commit per batch.

use std::any::Any;
use std::fmt;
use std::str::FromStr;

use arrow::record_batch::RecordBatch;

use crate::{EngineError, Result};

/// What one task's writer hands back to [`Sink::commit`] (written files, transaction
/// handles, counts); the sink that made it downcasts it.
pub type WriterCommitMessage = Box<dyn Any + Send>;

/// Which rows of the result table a streaming query writes each trigger (Spark's
/// `OutputMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum OutputMode {
    /// Only rows appended since the last trigger; they never change afterwards.
    #[default]
    Append,
    /// Only rows that changed since the last trigger.
    Update,
    /// The whole result table, every trigger.
    Complete,
}

impl OutputMode {
    /// Spark's lower-case name (`append`, `update`, `complete`).
    pub fn name(self) -> &'static str {
        match self {
            OutputMode::Append => "append",
            OutputMode::Update => "update",
            OutputMode::Complete => "complete",
        }
    }
}

impl fmt::Display for OutputMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Spark prints the mode capitalised in plans and messages (`Append`).
        f.write_str(match self {
            OutputMode::Append => "Append",
            OutputMode::Update => "Update",
            OutputMode::Complete => "Complete",
        })
    }
}

impl FromStr for OutputMode {
    type Err = EngineError;

    /// Parses Spark's names in any case; the error lists the valid ones, as Spark's does.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "append" => Ok(OutputMode::Append),
            "update" => Ok(OutputMode::Update),
            "complete" => Ok(OutputMode::Complete),
            _ => Err(EngineError::invalid_option(
                "outputMode",
                format!(
                    "Unknown output mode {s}. Accepted output modes are 'append', 'complete', 'update'"
                ),
            )),
        }
    }
}

/// Which task of which batch a [`DataWriter`] writes for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriterContext {
    /// The micro-batch id (0 for a batch write).
    pub batch_id: u64,
    /// The task's partition index, stable across replays of the same batch.
    pub partition: usize,
    /// How many tasks write this batch.
    pub num_partitions: usize,
    /// A micro-batch's timestamp (ms since the epoch) as the offset log recorded it before the
    /// batch's first attempt, so every attempt of the batch started after it; `None` for batch
    /// writes. Lets a sink bound how far back it looks for an earlier attempt's output.
    pub batch_timestamp_ms: Option<i64>,
}

/// Writes one task's rows. Nothing it writes may become visible to readers before
/// [`Sink::commit`] (or, for at-least-once sinks, it must be harmless to write again).
pub trait DataWriter: Send {
    /// Writes some rows.
    fn write(&mut self, batch: &RecordBatch) -> Result<()>;

    /// The task succeeded: finish and describe what was written.
    fn commit(self: Box<Self>) -> Result<WriterCommitMessage>;

    /// The task failed: clean up what can be cleaned up.
    fn abort(self: Box<Self>) -> Result<()>;
}

/// Where a streaming query's (or a batch write's) rows go: Spark's `StreamingWrite`.
///
/// Contract, relied on for exactly-once output: [`Sink::commit`] for a batch id may be called
/// again after a crash (with writers that wrote the same rows again); the sink must then make
/// the batch visible once, not twice.
pub trait Sink: Send + Sync {
    /// One line that identifies the sink in progress reports and `explain`; no secrets.
    fn description(&self) -> String;

    /// A writer for one task of one batch.
    fn create_writer(&self, ctx: WriterContext) -> Result<Box<dyn DataWriter>>;

    /// Every task of `batch_id` committed: make the batch visible, atomically if the sink can.
    fn commit(&self, batch_id: u64, messages: Vec<WriterCommitMessage>) -> Result<()>;

    /// Some task of `batch_id` failed; `messages` are those of the tasks that committed.
    fn abort(&self, _batch_id: u64, _messages: Vec<WriterCommitMessage>) -> Result<()> {
        Ok(())
    }
}
