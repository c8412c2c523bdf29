//! Stateful streaming benchmark hook: JSON event files, one file per micro-batch
//! (`maxFilesPerTrigger` 1), `Trigger.AvailableNow`, a 10-minute watermark on `ts`, into the
//! `noop` sink, with `spark.sql.shuffle.partitions=4`.
//!
//! ```text
//! sstream gen events --events 1000000 --files 20 --out target/bench-data/events-1000000
//! cargo run --release -p engine-sql --example stateful_bench -- \
//!     target/bench-data/events-1000000 target/bench-data/stateful-out sliding memory 2
//! ```
//!
//! Arguments: the input directory, a scratch directory (emptied first; holds the checkpoint
//! and, for the disk provider, its working copy), the query, the state provider (`memory` or
//! `disk`) and the number of worker threads. The queries (`xtask/scripts/stateful_bench_spark.py`
//! runs the same ones in PySpark):
//!
//! - `sliding`: count per 10-minute window sliding every 5 minutes and channel (append);
//! - `items_append` / `items_update`: `explode(items)`, then count and sum of `qty` per
//!   1-minute tumbling window and country (append / update);
//! - `session`: count per 5-minute session window and user (append).
//!
//! Prints one JSON object: events, output rows, batches, seconds from `start()` to the end,
//! events/s, and the rows in state after the last batch.

#![allow(clippy::unwrap_used)] // a benchmark driver: failing loudly is the point

use std::time::Instant;

use engine_sql::expr::{count, sum};
use engine_sql::functions::dsl::{explode, session_window, window};
use engine_sql::prelude::*;
use engine_sql::streaming::{OutputMode, Trigger};

/// The events' schema (engine-cli's `EVENT_SCHEMA`).
const EVENT_SCHEMA: &str = "order_id STRING, user STRUCT<id: STRING, country: STRING, tier: STRING>, \
channel STRING, items ARRAY<STRUCT<sku: STRING, qty: INT, price: DOUBLE>>, \
payment STRUCT<method: STRING, currency: STRING>, ts TIMESTAMP";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let input = args
        .get(1)
        .map_or("target/bench-data/events-1000000", String::as_str);
    let scratch = std::path::PathBuf::from(
        args.get(2)
            .map_or("target/bench-data/stateful-out", String::as_str),
    );
    let query = args.get(3).map_or("sliding", String::as_str);
    let provider = args.get(4).map_or("memory", String::as_str);
    let threads: usize = args.get(5).and_then(|t| t.parse().ok()).unwrap_or(2);
    let _ = std::fs::remove_dir_all(&scratch);
    let spark = Session::builder()
        .master(&format!("local[{threads}]"))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.streaming.stateStore.providerClass", provider)
        .config(
            "spark.local.dir",
            &scratch.join("local").display().to_string(),
        )
        .build()?;
    let events = spark
        .read_stream()
        .format("json")
        .schema_ddl(EVENT_SCHEMA)?
        .option("maxFilesPerTrigger", "1")
        .load_path(input)?
        .with_watermark("ts", "10 minutes")?;
    let (df, mode) = match query {
        "sliding" => (
            events
                .group_by(vec![
                    window(col("ts"), "10 minutes", Some("5 minutes"), None),
                    col("channel"),
                ])
                .count()?,
            OutputMode::Append,
        ),
        "items_append" | "items_update" => (
            events
                .select(vec![
                    col("ts"),
                    col("user.country").alias("country"),
                    explode(col("items")).alias("item"),
                ])?
                .group_by(vec![
                    window(col("ts"), "1 minute", None, None),
                    col("country"),
                ])
                .agg(vec![
                    count(lit(1)).alias("items"),
                    sum(col("item.qty")).alias("qty"),
                ])?,
            if query == "items_append" {
                OutputMode::Append
            } else {
                OutputMode::Update
            },
        ),
        "session" => (
            events
                .group_by(vec![
                    session_window(col("ts"), lit("5 minutes")),
                    col("user.id"),
                ])
                .count()?,
            OutputMode::Append,
        ),
        other => {
            return Err(EngineError::Unsupported(format!(
                "unknown query `{other}`: sliding, items_append, items_update or session"
            )));
        }
    };
    let t0 = Instant::now();
    let q = df
        .write_stream()
        .format("noop")
        .output_mode(mode)
        .option("checkpointLocation", scratch.join("checkpoint").display())
        .trigger(Trigger::AvailableNow)
        .start()?;
    q.await_termination(None)?;
    let secs = t0.elapsed().as_secs_f64();
    let progress = q.recent_progress();
    let n: i64 = progress.iter().map(|p| p.num_input_rows).sum();
    // Where the time went, summed over the batches (each phase of Spark's `durationMs`).
    let mut phases = std::collections::BTreeMap::<String, i64>::new();
    for p in &progress {
        for (k, v) in &p.duration_ms {
            *phases.entry(k.clone()).or_default() += v;
        }
        // The stateful operators' own clocks (summed over their tasks, which overlap).
        for o in &p.state_operators {
            for (k, v) in [
                ("state.allUpdatesTimeMs", o.all_updates_time_ms),
                ("state.allRemovalsTimeMs", o.all_removals_time_ms),
                ("state.commitTimeMs", o.commit_time_ms),
            ] {
                *phases.entry(k.to_string()).or_default() += v;
            }
        }
    }
    println!(
        "{}",
        serde_json::json!({
            "query": query,
            "provider": provider,
            "events": n,
            "output_rows": progress.iter().map(|p| p.sink.num_output_rows).sum::<i64>(),
            "batches": progress.len(),
            "duration_ms": phases,
            "seconds": secs,
            "events_per_second": n as f64 / secs,
            "state_rows": progress
                .last()
                .map(|p| p.state_operators.iter().map(|o| o.num_rows_total).sum::<i64>()),
        })
    );
    Ok(())
}
