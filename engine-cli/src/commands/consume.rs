//! `sstream consume`: print a topic's records, like `kafka-console-consumer`. A streaming
//! Kafka read with a foreachBatch sink that prints.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use engine_sql::session::Session;
use engine_sql::streaming::Trigger;

/// Arguments of `sstream consume`.
#[derive(Debug, Args)]
pub struct ConsumeArgs {
    /// Kafka bootstrap servers, e.g. 127.0.0.1:9092.
    #[arg(long)]
    bootstrap_servers: String,
    /// The topic to read.
    #[arg(long)]
    topic: String,
    /// Start at the oldest record or only print new ones.
    #[arg(long, value_enum, default_value_t = From::Earliest)]
    from: From,
    /// `read_committed` hides records of open or aborted transactions (on brokers that
    /// filter them) and waits for open transactions.
    #[arg(long, value_enum, default_value_t = Isolation::ReadUncommitted)]
    isolation: Isolation,
    /// Stop after this many records (default: follow until Ctrl-C).
    #[arg(long)]
    max: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum From {
    Earliest,
    Latest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Isolation {
    #[value(name = "read_uncommitted")]
    ReadUncommitted,
    #[value(name = "read_committed")]
    ReadCommitted,
}

/// Runs `sstream consume`: one line per record, `partition<TAB>offset<TAB>key<TAB>value`
/// (`null` for a missing key).
pub fn run(args: ConsumeArgs) -> Result<()> {
    let spark = Session::builder().app_name("sstream-consume").build()?;
    let checkpoint = tempfile::tempdir().context("creating a temporary checkpoint")?;
    let printed = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let max = args.max.unwrap_or(u64::MAX);
    let stop = Arc::new(AtomicBool::new(false));
    let on_interrupt = Arc::clone(&stop);
    ctrlc::set_handler(move || on_interrupt.store(true, Ordering::SeqCst))
        .context("installing the Ctrl-C handler")?;

    let records = spark
        .read_stream()
        .format("kafka")
        .option("kafka.bootstrap.servers", &args.bootstrap_servers)
        .option("subscribe", &args.topic)
        .option(
            "startingOffsets",
            match args.from {
                From::Earliest => "earliest",
                From::Latest => "latest",
            },
        )
        .option(
            "kafka.isolation.level",
            match args.isolation {
                Isolation::ReadUncommitted => "read_uncommitted",
                Isolation::ReadCommitted => "read_committed",
            },
        )
        .load()?
        .select_expr(&[
            "partition",
            "offset",
            "coalesce(CAST(key AS STRING), 'null') AS key",
            "CAST(value AS STRING) AS value",
        ])?;
    let (count, finished) = (Arc::clone(&printed), Arc::clone(&done));
    let query = records
        .write_stream()
        .option(
            "checkpointLocation",
            checkpoint.path().display().to_string(),
        )
        .trigger(Trigger::ProcessingTime(Duration::from_millis(100)))
        .foreach_batch(move |df, _batch_id| {
            for row in df.collect_rows()? {
                if count.load(Ordering::SeqCst) >= max {
                    finished.store(true, Ordering::SeqCst);
                    break;
                }
                println!("{}", row.join("\t"));
                count.fetch_add(1, Ordering::SeqCst);
            }
            if count.load(Ordering::SeqCst) >= max {
                finished.store(true, Ordering::SeqCst);
            }
            Ok(())
        })
        .start()?;
    while !done.load(Ordering::SeqCst) && !stop.load(Ordering::SeqCst) {
        if query.await_termination(Some(Duration::from_millis(100)))? {
            break;
        }
    }
    query.stop()?;
    if let Some(e) = query.exception() {
        anyhow::bail!("{e}");
    }
    eprintln!("{} records", printed.load(Ordering::SeqCst));
    Ok(())
}
