//! Support for the test suites of this and the crates above it (enabled by the `fuzzing`
//! feature, which only their dev-dependencies turn on).

pub mod fuzz;
