//! Spark datetime patterns.
