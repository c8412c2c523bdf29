//! Executable plans and compiled expressions.

pub mod expr;
pub mod plan;
pub mod planner;
pub mod table;

pub use table::{TableProvider, provider_as_source, source_as_provider};
