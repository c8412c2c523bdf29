//! Connectors: how sources and sinks plug into the engine without depending on the SQL layer.
//!
//! The shapes follow Spark's Data Source V2 streaming API, reduced to what a micro-batch
//! engine on Arrow needs:
//!
//! - [`Source`] is a replayable stream (Spark's `MicroBatchStream` with admission control):
//!   the runtime asks it for the next end offset, logs the range in the checkpoint *before*
//!   reading it, then reads exactly that range through [`InputPartition`]s, one per task.
//!   Replaying a logged range must return the same rows.
//! - [`Sink`] receives a batch through one [`DataWriter`] per task and a final
//!   [`Sink::commit`] with every task's message (Spark's `StreamingWrite`), so a sink can make
//!   its output visible atomically and skip a batch id it has already committed.
//! - [`Format`] creates both from user options and is registered by name in a
//!   [`FormatRegistry`], so a crate such as `engine-kafka` adds the format `kafka` with no
//!   dependency on `engine-sql`.

pub mod format;
pub mod offset;
pub mod sink;
pub mod source;

pub use format::{Format, FormatRegistry, SinkContext, SourceContext};
pub use offset::{Offset, ReadLimit};
pub use sink::{DataWriter, OutputMode, Sink, WriterCommitMessage, WriterContext};
pub use source::{BatchIter, InputPartition, Source};
