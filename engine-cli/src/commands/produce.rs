//! `sstream produce`: send a CSV or JSON-lines file to a Kafka topic, the notebook's producer.
//! A thin wrapper over the engine's batch Kafka sink.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use engine_sql::dataframe::DataFrame;
use engine_sql::session::Session;

/// Arguments of `sstream produce`.
#[derive(Debug, Args)]
pub struct ProduceArgs {
    /// Kafka bootstrap servers, e.g. 127.0.0.1:9092 (`cargo xtask broker start` prints one).
    #[arg(long)]
    bootstrap_servers: String,
    /// The topic to write to.
    #[arg(long)]
    topic: String,
    /// A CSV file: each row is sent as `to_json(struct(*))`, types inferred from the values.
    #[arg(long, conflicts_with = "jsonl", required_unless_present = "jsonl")]
    csv: Option<PathBuf>,
    /// The CSV file's first line is a header with the column names.
    #[arg(long, requires = "csv")]
    header: bool,
    /// A JSON-lines file: each line is sent as it is (malformed lines too, so bad-record
    /// handling downstream can be tried).
    #[arg(long)]
    jsonl: Option<PathBuf>,
    /// The column (CSV) or top-level field (JSON) whose value is the record key.
    #[arg(long)]
    key_column: Option<String>,
    /// At most this many records per second (default: as fast as possible).
    #[arg(long)]
    rate: Option<u64>,
}

/// Runs `sstream produce`.
pub fn run(args: ProduceArgs) -> Result<()> {
    let spark = Session::builder().app_name("sstream-produce").build()?;
    let records = match (&args.csv, &args.jsonl) {
        (Some(csv), _) => {
            let df = spark
                .read()
                .format("csv")
                .option("header", args.header.to_string())
                .option("inferSchema", "true")
                .load(&csv.to_string_lossy())
                .with_context(|| format!("reading {}", csv.display()))?;
            let mut cols = vec!["to_json(struct(*)) AS value".to_string()];
            if let Some(k) = &args.key_column {
                cols.push(format!("CAST(`{}` AS STRING) AS key", k.replace('`', "``")));
            }
            df.select_expr(&cols.iter().map(String::as_str).collect::<Vec<_>>())?
        }
        (None, Some(jsonl)) => {
            let df = spark
                .read()
                .format("text")
                .load(&jsonl.to_string_lossy())
                .with_context(|| format!("reading {}", jsonl.display()))?;
            let mut cols = vec!["value".to_string()];
            if let Some(k) = &args.key_column {
                cols.push(format!(
                    "get_json_object(value, '$.{}') AS key",
                    k.replace('\'', "\\'")
                ));
            }
            df.select_expr(&cols.iter().map(String::as_str).collect::<Vec<_>>())?
        }
        (None, None) => bail!("give --csv FILE or --jsonl FILE"),
    };
    let started = Instant::now();
    let sent = match args.rate {
        None => {
            let n = records.count()? as u64;
            send(&records, &args)?;
            n
        }
        Some(rate) => send_at_rate(&spark, &records, &args, rate.max(1))?,
    };
    eprintln!(
        "sent {sent} records to {} in {:.2?}",
        args.topic,
        started.elapsed()
    );
    Ok(())
}

fn send(df: &DataFrame, args: &ProduceArgs) -> Result<()> {
    df.write()
        .format("kafka")
        .option("kafka.bootstrap.servers", &args.bootstrap_servers)
        .option("topic", &args.topic)
        .mode("append")
        .save_no_path()?;
    Ok(())
}

/// One write per second of `rate` records.
fn send_at_rate(spark: &Session, df: &DataFrame, args: &ProduceArgs, rate: u64) -> Result<u64> {
    let batches = df.collect()?;
    let rows: Vec<_> = batches
        .iter()
        .flat_map(|b| {
            (0..b.num_rows())
                .step_by(rate as usize)
                .map(move |start| b.slice(start, (rate as usize).min(b.num_rows() - start)))
        })
        .collect();
    let mut sent = 0u64;
    let mut next = Instant::now();
    for slice in rows {
        let n = slice.num_rows() as u64;
        let chunk = spark.create_dataframe(vec![slice])?;
        send(&chunk, args)?;
        sent += n;
        // Slices never span batches, so a short slice only shortens its second.
        next += Duration::from_secs_f64(n as f64 / rate as f64);
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    Ok(sent)
}
