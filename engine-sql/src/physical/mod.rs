//! Executable plans and compiled expressions.

pub mod expr;
pub mod plan;
pub mod planner;
