//! `sstream demo`: the zero-setup first run. An embedded Kafka-protocol broker, generated order
//! events produced into it while the flagship pipeline (Kafka -> from_json -> explode ->
//! filter -> to_json -> Kafka, exactly once), the canonical windowed query (orders per sliding
//! window and channel with a 10-minute watermark, printed live in update mode) and a console
//! query of the malformed records run, a live status line, and a summary.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use arrow::array::{RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use clap::Args;
use engine_cli::generate::{EventOptions, event_lines};
use engine_cli::pipeline::{parse_pipeline_with, session_for, start_pipeline};
use engine_core::progress::{
    QueryProgressEvent, QueryStartedEvent, QueryTerminatedEvent, StreamingQueryListener,
};
use engine_kafka::testing::EmbeddedBroker;
use engine_sql::session::Session;
use indicatif::{ProgressBar, ProgressStyle};

/// The pipeline the demo runs; the same file is in `examples/pipelines/`.
const PIPELINE: &str = include_str!("../../../examples/pipelines/kafka_orders_to_items.toml");

/// Arguments of `sstream demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many order events to produce (about 0.5% of them malformed).
    #[arg(long, default_value_t = 20_000)]
    events: u64,
    /// Spread the production over this long (Spark interval text: "10 seconds").
    #[arg(long, default_value = "3 seconds")]
    duration: String,
}

/// Sums what the flagship query read and wrote over every batch (recent_progress keeps only
/// the last hundred).
#[derive(Default)]
struct Totals {
    input_rows: AtomicI64,
    output_rows: AtomicI64,
    batches: AtomicU64,
    query_id: std::sync::Mutex<Option<String>>,
}

impl StreamingQueryListener for Totals {
    fn on_query_started(&self, _event: &QueryStartedEvent) {}
    fn on_query_progress(&self, event: &QueryProgressEvent) {
        let p = &event.progress;
        let mine = self
            .query_id
            .lock()
            .map(|id| id.as_deref() == Some(p.id.as_str()))
            .unwrap_or(false);
        if mine {
            self.input_rows
                .fetch_add(p.num_input_rows, Ordering::Relaxed);
            self.output_rows
                .fetch_add(p.sink.num_output_rows.max(0), Ordering::Relaxed);
            self.batches.fetch_add(1, Ordering::Relaxed);
        }
    }
    fn on_query_terminated(&self, _event: &QueryTerminatedEvent) {}
}

/// Runs the demo.
pub fn run(args: DemoArgs) -> Result<()> {
    let started = Instant::now();
    let spread = engine_core::interval::parse_interval(&args.duration)
        .with_context(|| format!("--duration `{}`", args.duration))?;
    let broker = EmbeddedBroker::start().context("starting the embedded Kafka broker")?;
    let servers = broker.bootstrap_servers();
    broker.create_topic("orders", 3)?;
    broker.create_topic("items", 3)?;
    let workdir = tempfile::tempdir().context("creating a temporary directory")?;
    let checkpoint = workdir.path().join("checkpoint");
    println!("Embedded Kafka broker on {servers}: topics `orders` and `items`, 3 partitions each.");

    let pipeline = parse_pipeline_with(
        PIPELINE,
        "examples/pipelines/kafka_orders_to_items.toml",
        &[
            format!("source.orders.options.kafka.bootstrap.servers={servers}"),
            format!("sink.options.kafka.bootstrap.servers={servers}"),
            format!("sink.checkpointLocation={}", checkpoint.display()),
        ],
    )?;
    println!(
        "\nThe pipeline (examples/pipelines/kafka_orders_to_items.toml):\n  {}\n",
        pipeline.query
    );
    let spark = session_for(&pipeline)?;
    let totals = Arc::new(Totals::default());
    spark.streams().add_listener(totals.clone());
    let query = start_pipeline(&spark, &pipeline)?;
    if let Ok(mut id) = totals.query_id.lock() {
        *id = Some(query.id().to_string());
    }
    // The second query shows the bad records PERMISSIVE mode kept, on the console sink.
    let malformed = spark
        .sql("SELECT partition, offset, _corrupt_record FROM parsed WHERE _corrupt_record IS NOT NULL")?
        .write_stream()
        .format("console")
        .option("numRows", "3")
        .option("truncate", "true")
        .option(
            "checkpointLocation",
            workdir.path().join("console").display().to_string(),
        )
        .start()?;

    let windowed = windowed_counts(&spark, &workdir.path().join("windows"))?;

    let produced = produce(&spark, &servers, args.events, spread, &query, &totals)?;
    query.process_all_available()?;
    malformed.process_all_available()?;
    windowed.process_all_available()?;
    query.stop()?;
    malformed.stop()?;
    windowed.stop()?;
    if let Some(e) = windowed.exception() {
        anyhow::bail!("the windowed query failed: {e}");
    }
    if let Some(e) = query.exception() {
        anyhow::bail!("the pipeline failed: {e}");
    }

    summary(&spark, &servers, produced, &totals, started)?;
    drop(broker);
    Ok(())
}

/// The SQL of the windowed query: Structured Streaming's canonical example on the pipeline's
/// `parsed` view, which carries the 10-minute watermark on `ts`.
const WINDOWED_SQL: &str = "SELECT window.start AS window_start, window.end AS window_end, channel, count(*) AS orders \
FROM parsed WHERE _corrupt_record IS NULL \
GROUP BY window(ts, '1 minute', '30 seconds'), channel";

/// Starts the windowed query: orders per 1-minute window sliding every 30 seconds and
/// channel, the windows a batch changed printed on the console (update mode).
fn windowed_counts(
    spark: &Session,
    checkpoint: &std::path::Path,
) -> Result<engine_sql::streaming::StreamingQuery> {
    println!(
        "The windowed query, printed live (update mode: the windows each batch changed):\n  {WINDOWED_SQL}\n"
    );
    Ok(spark
        .sql(WINDOWED_SQL)?
        .write_stream()
        .format("console")
        .output_mode(engine_sql::streaming::OutputMode::Update)
        .option("numRows", "12")
        .option("truncate", "false")
        .option("checkpointLocation", checkpoint.display().to_string())
        .start()?)
}

/// Produces the events in waves spread over `spread`, as JSON strings, through the engine's
/// own batch Kafka sink; shows the pipeline's status meanwhile. Returns how many were sent.
fn produce(
    spark: &Session,
    servers: &str,
    events: u64,
    spread: Duration,
    query: &engine_sql::streaming::StreamingQuery,
    totals: &Totals,
) -> Result<u64> {
    let bar = ProgressBar::new(events);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} events produced | {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let waves = 10u64;
    let opts = EventOptions {
        events,
        ..EventOptions::default()
    };
    let lines: Vec<String> = event_lines(&opts).collect();
    let schema = Arc::new(Schema::new(vec![Field::new("value", DataType::Utf8, true)]));
    let per_wave = events.div_ceil(waves).max(1) as usize;
    let mut sent = 0u64;
    for chunk in lines.chunks(per_wave) {
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(StringArray::from_iter_values(chunk.iter()))],
        )?;
        spark
            .create_dataframe(vec![batch])?
            .write()
            .format("kafka")
            .option("kafka.bootstrap.servers", servers)
            .option("topic", "orders")
            .mode("append")
            .save_no_path()?;
        sent += chunk.len() as u64;
        bar.set_position(sent);
        let deadline = Instant::now() + spread / waves as u32;
        while Instant::now() < deadline {
            if let Some(p) = query.last_progress() {
                bar.set_message(format!(
                    "pipeline: batch {} | {} rows in | {:.0} rows/s processed",
                    p.batch_id,
                    totals.input_rows.load(Ordering::Relaxed),
                    if p.processed_rows_per_second.is_finite() {
                        p.processed_rows_per_second
                    } else {
                        0.0
                    }
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    bar.finish_and_clear();
    Ok(sent)
}

/// What the run did, read back from Kafka with batch queries.
fn summary(
    spark: &Session,
    servers: &str,
    produced: u64,
    totals: &Totals,
    started: Instant,
) -> Result<()> {
    let orders = spark
        .read()
        .format("kafka")
        .option("kafka.bootstrap.servers", servers)
        .option("subscribe", "orders")
        .load_no_path()?;
    orders.create_or_replace_temp_view("orders_batch")?;
    let malformed = spark
        .sql(
            "SELECT count(*) AS n FROM (SELECT from_json(CAST(value AS STRING), 'order_id STRING, _corrupt_record STRING') AS o FROM orders_batch) WHERE o._corrupt_record IS NOT NULL",
        )?
        .collect_rows()?;
    let items = spark
        .read()
        .format("kafka")
        .option("kafka.bootstrap.servers", servers)
        .option("subscribe", "items")
        .option("kafka.isolation.level", "read_committed")
        .load_no_path()?;
    let committed = items.count()?;
    println!("\nSummary");
    println!("  events produced to `orders`:        {produced}");
    println!(
        "  rows read by the pipeline:          {} in {} micro-batches",
        totals.input_rows.load(Ordering::Relaxed),
        totals.batches.load(Ordering::Relaxed)
    );
    println!(
        "  malformed records (kept in _corrupt_record, not dropped): {}",
        malformed
            .first()
            .and_then(|r| r.values.first())
            .map(|v| v.to_string())
            .unwrap_or_else(|| "?".into())
    );
    println!(
        "  item rows written to `items`:       {} (read back with read_committed: {committed})",
        totals.output_rows.load(Ordering::Relaxed)
    );
    println!("\nA sample of `items`:");
    items
        .select_expr(&[
            "CAST(key AS STRING) AS key",
            "CAST(value AS STRING) AS value",
        ])?
        .show(5, 0)?;
    println!("Done in {:.1?}.", started.elapsed());
    Ok(())
}
