//! The stateful operators of the streaming runtime, on `engine-state`'s stores: streaming
//! aggregation (grouped, windowed, in every output mode), session window aggregation, and
//! deduplication (`dropDuplicates`, `dropDuplicatesWithinWatermark`), and limits in Append
//! mode.
//!
//! [`planner::rewrite`] puts them into a query's per-batch plan once; every batch,
//! [`planner::StatefulPlanner`] plans them with the batch's version and watermarks. Each
//! operator opens its store of a partition at version `batch id`, drops late rows by the
//! batch before's watermark, updates state, emits and evicts by this batch's watermark as
//! the output mode says, and commits version `batch id + 1` before any row leaves it.

pub mod aggregate;
pub mod dedupe;
pub mod keys;
pub mod limit;
pub mod operator;
pub mod planner;
pub mod session;
