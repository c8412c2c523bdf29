//! Data sources and sinks: files (csv, json, parquet, text) and in-memory tables.

pub mod csv;
pub mod json;
pub mod listing;
pub mod memory;
pub mod options;
pub mod parquet;
pub mod pruning;
pub mod reader;
pub mod split;
pub mod table;
pub mod text;
pub mod values;
pub mod writer;
