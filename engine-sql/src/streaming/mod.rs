//! Structured Streaming: a stream is an unbounded table; the same DataFrame plan runs
//! incrementally in micro-batches, with Spark's checkpoint layout, triggers and output modes.
//!
//! - [`formats`]: format names to [`engine_core::connector::Format`]s (built-ins, then the
//!   global registry).
//! - [`sources`]: built-in streaming sources (memory stream; file and rate sources).
//! - [`sinks`]: built-in sinks (console, memory, foreach, foreachBatch; file sink).

pub mod crash;
pub mod formats;
pub mod sinks;
pub mod sources;
