//! The engines that run a started query.
//!
//! - [`scan`]: the per-batch leaf the streaming source becomes, and the leaf a batch action
//!   on a streaming plan would hit.
//! - [`incremental`]: turns the analyzed plan into the per-batch plan once per query.
//! - [`microbatch`]: Spark's `MicroBatchExecution` (checkpointed, exactly-once with a
//!   replayable source and an idempotent sink).
//! - [`continuous`]: continuous processing for stateless queries (at-least-once).
//! - [`progress`]: builds progress reports and tracks the watermark.

pub mod continuous;
pub mod incremental;
pub mod microbatch;
pub mod progress;
pub mod scan;
