//! Structured Streaming: a stream is an unbounded table; the same DataFrame plan runs
//! incrementally in micro-batches, with Spark's checkpoint layout, triggers and output modes.
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::Int64Array;
//! use arrow::datatypes::{DataType, Field, Schema};
//! use arrow::record_batch::RecordBatch;
//! use engine_sql::prelude::*;
//! use engine_sql::streaming::{MemoryStream, OutputMode, Trigger};
//!
//! let spark = Session::builder().master("local[2]").build().unwrap();
//! let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
//! let input = MemoryStream::new(&spark, schema.clone());
//! input.add_data(RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![1, 2, 3]))]).unwrap()).unwrap();
//! let query = input.to_df().unwrap()
//!     .filter(col("v").gt(lit(1i64))).unwrap()
//!     .write_stream().format("memory").query_name("doc_out")
//!     .output_mode(OutputMode::Append).trigger(Trigger::AvailableNow)
//!     .start().unwrap();
//! query.await_termination(None).unwrap();
//! assert_eq!(spark.sql("SELECT * FROM doc_out").unwrap().count().unwrap(), 2);
//! ```
//!
//! - [`reader`] / [`writer`]: `read_stream()` and `write_stream()`.
//! - Spark's unsupported-operation checks, run before a query starts, are the analyzer's
//!   ([`engine_core::analyzer::streaming_checks`]).
//! - [`execution`]: the micro-batch and continuous engines, and the per-batch scan.
//! - Running queries and the session's registry of them are [`crate::queries`], re-exported
//!   here.
//! - [`formats`], [`sources`], [`sinks`]: connectors by name and the built-in ones.

pub mod clock;
pub mod crash;
pub mod execution;
pub mod file_format;
pub mod formats;
pub mod reader;
pub mod sinks;
pub mod sources;
pub mod stateful;
pub mod trigger;
pub mod writer;

pub use crate::queries::{StreamingQuery, StreamingQueryException, StreamingQueryManager};
pub use clock::{Clock, ManualClock, SystemClock};
pub use engine_core::connector::OutputMode;
pub use reader::DataStreamReader;
pub use sinks::foreach::ForeachWriter;
pub use sources::memory::MemoryStream;
pub use trigger::Trigger;
pub use writer::DataStreamWriter;

pub use engine_core::interval::format_delay;

/// ISO-8601 UTC with milliseconds, as Spark's progress timestamps (`2024-01-01T00:00:00.000Z`).
pub fn format_timestamp_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|| ms.to_string())
}
