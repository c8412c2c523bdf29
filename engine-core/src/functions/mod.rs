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
mod array_build;
pub mod array_extra;
pub mod array_nest;
pub mod array_set;
mod bytes;
pub mod cast;
pub mod cast_functions;
mod ceil_floor_scale;
pub(crate) mod charset;
pub mod collection;
pub mod conditional;
pub mod datetime;
pub mod datetime_calendar;
mod datetime_convert;
pub mod datetime_format;
pub mod datetime_make;
pub mod datetime_ntz;
pub mod datetime_part;
pub mod datetime_units;
pub(crate) mod decimal;
pub mod default_args;
mod digest;
pub mod dsl;
mod encoding;
mod format_number;
mod format_string;
mod hash;
pub mod higher_order;
pub mod interval;
mod interval_make;
pub mod json;
mod map_build;
mod map_concat;
pub mod map_extra;
mod mask;
pub mod math;
pub mod math_bits;
pub mod math_sign;
pub mod math_trig;
mod overlay;
mod regexp_extra;
pub mod registry;
mod sequence;
pub mod string;
mod string_codes;
mod string_extra;
pub mod try_arith;
pub mod window;

pub use crate::expr::function::{
    AggregateFunction, FunctionContext, GroupsAccumulator, ScalarFunction, ordinal,
    unexpected_input_type, wrong_num_args,
};
pub use registry::{
    contains_aggregate, is_aggregate_name, lookup_aggregate, lookup_higher_order, lookup_scalar,
};
