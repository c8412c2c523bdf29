//! Aggregate functions: count, sum, avg, min, max, first, last, collect_list.

use std::sync::Arc;

use super::AggregateFunction;

/// Every built-in aggregate with its names.
pub fn functions() -> Vec<(&'static str, Arc<dyn AggregateFunction>)> {
    vec![]
}
