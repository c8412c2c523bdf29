//! The engines that run a started query.
//!
//! - [`scan`]: the per-batch leaf the streaming source becomes.
//! - [`incremental`]: turns the analyzed plan into the per-batch plan once per query.
//! - [`microbatch`]: Spark's `MicroBatchExecution` (checkpointed, exactly-once with a
//!   replayable source and an idempotent sink); continuous processing runs its epochs as
//!   micro-batches polled every millisecond.
//! - [`progress`]: builds progress reports and tracks the watermark.

pub mod incremental;
pub mod microbatch;
pub mod progress;
pub mod scan;
