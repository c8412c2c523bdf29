//! Aggregate functions: count, sum, avg, min, max, first, last, collect_list.
//!
//! Each is a [`GroupsAccumulator`](super::GroupsAccumulator) over dense group indices:
//! a few vectors indexed by group, updated with tight loops over whole arrays.

mod avg;
mod count;
mod distinct;
mod first_last;
mod min_max;
mod sum;

use std::sync::Arc;

use arrow::datatypes::DataType;
use engine_core::Result;

use super::{AggregateFunction, wrong_num_args};

pub use distinct::DistinctAccumulator;

/// Every built-in aggregate with its names.
pub fn functions() -> Vec<(&'static str, Arc<dyn AggregateFunction>)> {
    let first: Arc<dyn AggregateFunction> = Arc::new(first_last::FirstLast::first());
    let last: Arc<dyn AggregateFunction> = Arc::new(first_last::FirstLast::last());
    let avg: Arc<dyn AggregateFunction> = Arc::new(avg::Avg);
    vec![
        ("count", Arc::new(count::Count)),
        ("sum", Arc::new(sum::Sum)),
        ("avg", avg.clone()),
        ("mean", avg),
        ("min", Arc::new(min_max::MinMax::min())),
        ("max", Arc::new(min_max::MinMax::max())),
        ("first", first.clone()),
        ("first_value", first),
        ("last", last.clone()),
        ("last_value", last),
        (
            "collect_list",
            Arc::new(first_last::FirstLast::collect_list()),
        ),
    ]
}

/// Checks that an aggregate got exactly one argument.
fn one_arg<'a>(name: &str, args: &'a [DataType]) -> Result<&'a DataType> {
    match args {
        [t] => Ok(t),
        _ => Err(wrong_num_args(name, "1", args.len())),
    }
}
