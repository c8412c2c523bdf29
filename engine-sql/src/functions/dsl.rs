//! DataFrame DSL builders.
