//! Data sources and sinks: files (csv, json, parquet, text) and in-memory tables.

pub mod memory;
pub mod reader;
