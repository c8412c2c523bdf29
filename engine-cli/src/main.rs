//! `sstream`: run SQL and pipelines on the sstream engine from the command line.

mod commands;
mod output;

use clap::{Parser, Subcommand};

/// Spark Structured Streaming's model, in one small binary.
#[derive(Debug, Parser)]
#[command(name = "sstream", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a streaming query described by a pipeline file until it ends (availableNow/once)
    /// or Ctrl-C (the current batch finishes and commits; a second Ctrl-C aborts).
    ///
    /// Examples:
    ///   sstream run examples/pipelines/json_dir_to_parquet.toml
    ///   sstream run pipeline.toml --set sink.checkpointLocation=/tmp/ck --progress json
    Run(commands::run::RunArgs),
    /// Run SQL statements and print the result of each query.
    ///
    /// Examples:
    ///   sstream sql -e "SELECT 1 + 1 AS two"
    ///   sstream sql -e "CREATE TEMPORARY VIEW t USING csv OPTIONS (path 'orders.csv', header 'true', inferSchema 'true'); SELECT country, count(*) FROM t GROUP BY country"
    ///   sstream sql -f report.sql --output json
    Sql(commands::sql::SqlArgs),
    /// The zero-setup demo: an embedded Kafka broker, generated order events and the
    /// flagship streaming pipeline (Kafka -> from_json -> explode -> filter -> to_json ->
    /// Kafka, exactly once), with a live status and a summary.
    ///
    /// Example:
    ///   sstream demo --events 50000 --duration "5 seconds"
    Demo(commands::demo::DemoArgs),
    /// Generate deterministic sample data (flat orders, or nested order events).
    ///
    /// Examples:
    ///   sstream gen orders --rows 1000000 --out /tmp/orders.csv
    ///   sstream gen events --events 100000 --files 10 --out /tmp/events
    Gen(commands::gen_data::GenArgs),
    /// Send a CSV file (each row as `to_json(struct(*))`) or a JSON-lines file to a topic.
    ///
    /// Examples:
    ///   sstream produce --bootstrap-servers 127.0.0.1:9092 --topic orders --csv orders.csv --header --key-column order_id
    ///   sstream produce --bootstrap-servers 127.0.0.1:9092 --topic orders --jsonl events.json --rate 1000
    Produce(commands::produce::ProduceArgs),
    /// Print a topic's records: partition, offset, key and value, tab-separated.
    ///
    /// Examples:
    ///   sstream consume --bootstrap-servers 127.0.0.1:9092 --topic items --max 10
    ///   sstream consume --bootstrap-servers 127.0.0.1:9092 --topic items --from latest --isolation read_committed
    Consume(commands::consume::ConsumeArgs),
    /// Inspect a streaming query's checkpoint.
    ///
    /// Example:
    ///   sstream checkpoint inspect /tmp/ckpt/orders
    Checkpoint(commands::checkpoint::CheckpointArgs),
}

fn main() {
    // `format("kafka")` in SQL, pipelines and streams.
    engine_kafka::register();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => commands::run::run(args),
        Command::Sql(args) => commands::sql::run(args),
        Command::Demo(args) => commands::demo::run(args),
        Command::Gen(args) => commands::gen_data::run(args),
        Command::Checkpoint(args) => commands::checkpoint::run(args),
        Command::Produce(args) => commands::produce::run(args),
        Command::Consume(args) => commands::consume::run(args),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
