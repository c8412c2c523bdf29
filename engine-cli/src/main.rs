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
    /// Run SQL statements and print the result of each query.
    ///
    /// Examples:
    ///   sstream sql -e "SELECT 1 + 1 AS two"
    ///   sstream sql -e "CREATE TEMPORARY VIEW t USING csv OPTIONS (path 'orders.csv', header 'true', inferSchema 'true'); SELECT country, count(*) FROM t GROUP BY country"
    ///   sstream sql -f report.sql --output json
    Sql(commands::sql::SqlArgs),
    /// A zero-setup demo: generates sample orders and runs a SQL report over them.
    Demo(commands::demo::DemoArgs),
    /// Generate deterministic sample data (flat orders, or nested order events).
    ///
    /// Examples:
    ///   sstream gen orders --rows 1000000 --out /tmp/orders.csv
    ///   sstream gen events --events 100000 --files 10 --out /tmp/events
    Gen(commands::gen_data::GenArgs),
    /// Inspect a streaming query's checkpoint.
    ///
    /// Example:
    ///   sstream checkpoint inspect /tmp/ckpt/orders
    Checkpoint(commands::checkpoint::CheckpointArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sql(args) => commands::sql::run(args),
        Command::Demo(args) => commands::demo::run(args),
        Command::Gen(args) => commands::gen_data::run(args),
        Command::Checkpoint(args) => commands::checkpoint::run(args),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
