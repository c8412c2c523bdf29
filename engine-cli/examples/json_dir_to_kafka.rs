//! Scenario 2: a directory of JSON files streamed into Kafka, with a checkpoint and
//! `maxFilesPerTrigger`. Run twice: the second run finds every file in the checkpoint and
//! sends nothing; add files and run again: only they are sent.
//!
//!   cargo run -p engine-cli --example json_dir_to_kafka
//!
//! Spark's equivalent:
//!
//! ```python
//! events = (spark.readStream.schema(ddl).option("maxFilesPerTrigger", 1).json("events/")
//!           .where("_corrupt_record IS NULL"))
//! (events.selectExpr("order_id AS key", "to_json(struct(order_id, user, items, ts)) AS value")
//!    .writeStream.format("kafka").option("kafka.bootstrap.servers", servers)
//!    .option("topic", "events").option("checkpointLocation", "ckpt/")
//!    .trigger(availableNow=True).start().awaitTermination())
//! ```
//!
//! Needs nothing installed (an in-process Kafka-protocol broker, temp directories). `cargo
//! test --examples` runs it; it exits non-zero on a wrong result.

use std::path::Path;

use anyhow::{Result, bail, ensure};
use engine_cli::generate::{EVENT_SCHEMA, EventOptions, write_event_files};
use engine_kafka::testing::EmbeddedBroker;
use engine_sql::session::Session;
use engine_sql::streaming::Trigger;

fn main() -> Result<()> {
    engine_kafka::register();
    let broker = EmbeddedBroker::start()?;
    let servers = broker.bootstrap_servers();
    broker.create_topic("events", 2)?;

    let dir = tempfile::tempdir()?;
    let (staging, events, checkpoint) = (
        dir.path().join("staging"),
        dir.path().join("events"),
        dir.path().join("checkpoint"),
    );
    // Six files of generated events (a few malformed); four go in now, two later.
    let opts = EventOptions {
        events: 600,
        ..EventOptions::default()
    };
    let files = write_event_files(&staging, 6, &opts)?;
    std::fs::create_dir_all(&events)?;
    for f in &files[..4] {
        move_into(f, &events)?;
    }

    let spark = Session::builder()
        .app_name("json_dir_to_kafka")
        .config("spark.sql.session.timeZone", "UTC")
        .build()?;

    let batches = run_once(&spark, &servers, &events, &checkpoint)?;
    ensure!(
        batches == 4,
        "maxFilesPerTrigger=1 over 4 files: {batches} batches"
    );
    let first = topic_count(&spark, &servers)?;
    let valid_in_4 = valid_records(&spark, &events)?;
    ensure!(
        first == valid_in_4,
        "{first} records sent, {valid_in_4} valid"
    );
    println!("run 1: {batches} batches, {first} records sent");

    // Same checkpoint, no new file: the query starts, finds nothing to do, sends nothing.
    let batches = run_once(&spark, &servers, &events, &checkpoint)?;
    ensure!(batches == 0, "second run ran {batches} batches");
    ensure!(
        topic_count(&spark, &servers)? == first,
        "second run sent records"
    );
    println!("run 2: nothing new, nothing sent");

    // Two more files: only their records are sent.
    for f in &files[4..] {
        move_into(f, &events)?;
    }
    let batches = run_once(&spark, &servers, &events, &checkpoint)?;
    ensure!(batches == 2, "third run: {batches} batches");
    let total = topic_count(&spark, &servers)?;
    ensure!(
        total == valid_records(&spark, &events)?,
        "after 6 files: {total} records in the topic"
    );
    // Nothing twice: one record per order id.
    let distinct = spark
        .read()
        .format("kafka")
        .option("kafka.bootstrap.servers", &servers)
        .option("subscribe", "events")
        .load_no_path()?
        .select_expr(&["CAST(key AS STRING) AS key"])?
        .distinct()?
        .count()?;
    ensure!(
        distinct == total,
        "{distinct} distinct keys, {total} records"
    );
    println!(
        "run 3: {batches} batches, {} more records sent; json_dir_to_kafka OK",
        total - first
    );
    Ok(())
}

/// One availableNow run of the streaming query; returns how many micro-batches it ran.
fn run_once(spark: &Session, servers: &str, events: &Path, checkpoint: &Path) -> Result<usize> {
    let source = spark
        .read_stream()
        .format("json")
        .schema_ddl(&format!("{EVENT_SCHEMA}, _corrupt_record STRING"))?
        // One file per micro-batch: a bounded batch size however many files wait.
        .option("maxFilesPerTrigger", "1")
        .load_path(&events.to_string_lossy())?;
    let query = source
        .filter_expr("_corrupt_record IS NULL")?
        .select_expr(&[
            "order_id AS key",
            "to_json(struct(order_id, user, channel, items, payment, ts)) AS value",
        ])?
        .write_stream()
        .format("kafka")
        .option("kafka.bootstrap.servers", servers)
        .option("topic", "events")
        // Which files were read and which batches committed: what makes a rerun resume.
        .option("checkpointLocation", checkpoint.to_string_lossy())
        .trigger(Trigger::AvailableNow)
        .start()?;
    query.await_termination(None)?;
    if let Some(e) = query.exception() {
        bail!("the query failed: {e}");
    }
    Ok(query
        .recent_progress()
        .iter()
        .filter(|p| p.num_input_rows > 0)
        .count())
}

/// Records in the topic, by a batch read.
fn topic_count(spark: &Session, servers: &str) -> Result<usize> {
    Ok(spark
        .read()
        .format("kafka")
        .option("kafka.bootstrap.servers", servers)
        .option("subscribe", "events")
        .load_no_path()?
        .count()?)
}

/// Well-formed records in the directory, by a batch read of the same files.
fn valid_records(spark: &Session, events: &Path) -> Result<usize> {
    Ok(spark
        .read()
        .format("json")
        .schema_ddl(&format!("{EVENT_SCHEMA}, _corrupt_record STRING"))?
        .load(&events.to_string_lossy())?
        .filter_expr("_corrupt_record IS NULL")?
        .count()?)
}

/// Moves a finished file into the watched directory (a rename, so the source never sees half
/// a file).
fn move_into(file: &Path, dir: &Path) -> Result<()> {
    let Some(name) = file.file_name() else {
        bail!("{} has no file name", file.display());
    };
    std::fs::rename(file, dir.join(name))?;
    Ok(())
}
