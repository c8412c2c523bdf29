//! Streaming benchmark hook: JSON event files -> filter -> parquet file sink, `AvailableNow`.
//!
//! ```text
//! sstream gen events --events 1000000 --files 20 --out target/bench-data/events-1m
//! cargo run --release -p engine-sql --example stream_bench -- \
//!     target/bench-data/events-1m target/bench-data/out 2
//! ```
//!
//! Arguments: the input directory (JSON lines with the events schema), a scratch directory
//! (emptied first; holds the sink output and the checkpoint), the number of worker threads
//! and the pipeline:
//!
//! - `full` (the issue's): text file source -> `from_json(value, schema)` -> `explode(items)`
//!   -> `filter(item.qty > 1)` -> parquet sink; needs `from_json`/`explode` (branch `json`);
//! - `simple` (default until those are on main): json file source with the events schema ->
//!   `filter(channel <> 'store')` -> parquet sink.
//!
//! An optional fifth argument sets the source's `spark.sql.files.maxPartitionBytes` (default
//! `32m` here: more, smaller scan tasks balance two cores better than Spark's 128 MiB and
//! bound the memory of a task).
//!
//! Prints one JSON object: input events, output rows, seconds, events/s, events/s per core,
//! the time from `start()` to the first batch, and the peak RSS.

#![allow(clippy::unwrap_used)] // a benchmark driver: failing loudly is the point

use std::time::Instant;

use engine_sql::prelude::*;
use engine_sql::streaming::Trigger;

/// The events' schema (engine-cli's `EVENT_SCHEMA`).
const EVENT_SCHEMA: &str = "order_id STRING, user STRUCT<id: STRING, country: STRING, tier: STRING>, \
channel STRING, items ARRAY<STRUCT<sku: STRING, qty: INT, price: DOUBLE>>, \
payment STRUCT<method: STRING, currency: STRING>, ts TIMESTAMP";

/// Peak resident set size in MiB (`VmHWM`), where /proc has it.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let input = args
        .get(1)
        .map_or("target/bench-data/events", String::as_str);
    let scratch = std::path::PathBuf::from(
        args.get(2)
            .map_or("target/bench-data/stream-out", String::as_str),
    );
    let threads: usize = args.get(3).and_then(|t| t.parse().ok()).unwrap_or(2);
    let pipeline = args.get(4).map_or("simple", String::as_str);
    // Smaller scan tasks than Spark's 128 MiB balance 2 cores better and bound memory.
    let split = args.get(5).map_or("32m", String::as_str);
    let _ = std::fs::remove_dir_all(&scratch);
    let spark = Session::builder()
        .master(&format!("local[{threads}]"))
        .config("spark.sql.session.timeZone", "UTC")
        .build()?;
    let kept = if pipeline == "full" {
        let ddl = EVENT_SCHEMA.replace('\'', "\\'");
        spark
            .read_stream()
            .format("text")
            .option("spark.sql.files.maxPartitionBytes", split)
            .load_path(input)?
            .select_expr(&[&format!("from_json(value, '{ddl}') AS e")])?
            .select_expr(&["e.order_id", "e.ts", "explode(e.items) AS item"])?
            .filter_expr("item.qty > 1")?
    } else {
        spark
            .read_stream()
            .format("json")
            .option("spark.sql.files.maxPartitionBytes", split)
            .schema_ddl(EVENT_SCHEMA)?
            .load_path(input)?
            .filter_expr("channel <> 'store'")?
    };
    let t0 = Instant::now();
    let started_ms = chrono::Utc::now().timestamp_millis();
    let query = kept
        .write_stream()
        .format("parquet")
        .option("checkpointLocation", scratch.join("checkpoint").display())
        .trigger(Trigger::AvailableNow)
        .start_path(&scratch.join("out").display().to_string())?;
    query.await_termination(None)?;
    let secs = t0.elapsed().as_secs_f64();
    let progress = query.recent_progress();
    let events: i64 = progress.iter().map(|p| p.num_input_rows).sum();
    let first_batch_ms = progress
        .first()
        .and_then(|p| chrono::DateTime::parse_from_rfc3339(&p.timestamp).ok())
        .map(|t| t.timestamp_millis() - started_ms);
    println!(
        "{}",
        serde_json::json!({
            "pipeline": if pipeline == "full" {
                "text files -> from_json -> explode -> filter -> parquet sink (AvailableNow)"
            } else {
                "json files -> filter -> parquet sink (AvailableNow)"
            },
            "output_rows": progress
                .iter()
                .map(|p| p.sink.num_output_rows)
                .sum::<i64>(),
            "events": events,
            "batches": progress.len(),
            "threads": threads,
            "max_partition_bytes": split,
            "seconds": secs,
            "events_per_second": events as f64 / secs,
            "events_per_second_per_core": events as f64 / secs / threads as f64,
            "first_batch_after_start_ms": first_batch_ms,
            "peak_rss_mib": peak_rss_mib(),
        })
    );
    Ok(())
}
