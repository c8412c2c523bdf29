//! Data sources and sinks: files (csv, json, parquet, text) and in-memory tables.
//!
//! Reading: [`crate::dataframe::DataFrameReader`] (`session.read()`) lists the files
//! ([`listing`]: directories, globs, hidden files, `col=value` partition directories),
//! settles the schema (given, or inferred by [`csv`], [`json`], [`parquet`]) and returns a
//! DataFrame over a [`table::FileTable`]. Its scan, [`table::FileScanExec`], runs one task
//! per file or per split of a big file ([`split`], Parquet row groups), projects columns,
//! skips files and row groups with [`pruning`], and stops at a limit.
//!
//! Writing: [`crate::dataframe::DataFrameWriter`] (`df.write()`) and the file sink use
//! [`writer`]: save modes, `partition_by`,
//! `part-NNNNN-<uuid>-cNNN.<ext>` files and a `_SUCCESS` marker.

pub mod connector;
pub mod csv;
pub mod csv_writer;
pub mod file_stream_log;
pub mod formats;
pub mod json;
pub mod listing;
pub mod noop;
pub mod options;
pub mod parquet;
pub mod paths;
pub mod pruning;
pub mod split;
pub mod table;
pub mod text;
pub mod values;
pub mod writer;

/// In-memory tables live with the batch operators in engine-core; re-exported here beside
/// the other data sources.
pub use engine_core::physical::table::memory;
