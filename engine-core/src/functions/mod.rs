//! The function library: scalar functions and aggregates, looked up by Spark's names.
//!
//! A function is a small trait object. The analyzer asks it which argument types it wants
//! (it inserts the casts) and what it returns; the physical planner wraps it in an evaluator
//! that calls [`ScalarFunction::invoke`] once per batch, never per row.
//!
//! Each area lives in its own module and contributes a `functions()` list to the
//! [`registry`]: adding a function never touches the analyzer or planner. Functions that
//! take lambdas ([`higher_order`]) implement
//! [`HigherOrderFunction`](crate::expr::lambda::HigherOrderFunction) instead, and call their
//! lambdas on whole arrays of elements.

pub mod aggregate;
mod bytes;
pub mod cast;
pub mod collection;
pub mod conditional;
pub mod datetime;
pub mod datetime_format;
pub(crate) mod decimal;
mod digest;
pub mod dsl;
mod encoding;
mod format_number;
mod hash;
pub mod higher_order;
pub mod interval;
pub mod json;
mod map_concat;
mod mask;
pub mod math;
mod regexp_extra;
pub mod registry;
mod sequence;
pub mod string;
mod string_codes;
mod string_extra;
pub mod window;

pub use crate::expr::function::{
    AggregateFunction, FunctionContext, GroupsAccumulator, ScalarFunction, ordinal,
    unexpected_input_type, wrong_num_args,
};
pub use registry::{
    contains_aggregate, is_aggregate_name, lookup_aggregate, lookup_higher_order, lookup_scalar,
};
