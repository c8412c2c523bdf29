//! Pipeline files: a streaming query described in TOML with Spark's own option names.
//!
//! ```toml
//! [source.orders]                      # registered as a temp view named "orders"
//! format = "json"
//! path = "/data/orders"
//! schema = "order_id STRING, ts TIMESTAMP"
//! options = { maxFilesPerTrigger = 1 }
//!
//! [view.recent]                        # optional named views, in file order
//! sql = "SELECT * FROM orders WHERE order_id IS NOT NULL"
//! watermark = { column = "ts", delay = "10 minutes" }
//!
//! [query]
//! sql = "SELECT order_id, ts FROM recent"
//!
//! [sink]
//! format = "parquet"                   # or console, memory, json, csv, kafka
//! path = "/data/out"
//! outputMode = "append"
//! trigger = { availableNow = true }    # or processingTime = "5 seconds", once, continuous
//! checkpointLocation = "/tmp/ckpt/orders"
//!
//! [conf]                               # session configuration
//! "spark.sql.shuffle.partitions" = 4
//! ```
//!
//! [`parse`] checks the file completely before anything runs: an unknown key, a missing
//! required key or a value of the wrong kind is an error naming the file, the key and its
//! line, with the closest valid key suggested.

mod parse;
mod spec;
mod start;

pub use parse::{parse_pipeline, parse_pipeline_with, read_pipeline};
pub use spec::{Pipeline, SinkSpec, SourceSpec, TriggerSpec, ViewSpec, Watermark};
pub use start::{session_for, start_pipeline, trigger};
