//! `sstream gen`: deterministic sample data for the demo, examples and benchmarks.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use engine_cli::generate::{
    EventOptions, write_event_files, write_orders_csv, write_orders_parquet,
};

/// Arguments of `sstream gen`.
#[derive(Debug, Args)]
pub struct GenArgs {
    #[command(subcommand)]
    what: GenWhat,
}

#[derive(Debug, Subcommand)]
enum GenWhat {
    /// Flat orders: order_id, ts, user_id, country, sku, qty, price, store_id (CSV with a
    /// header, or a Parquet directory).
    ///
    /// Example:
    ///   sstream gen orders --rows 1000000 --out /tmp/orders.csv
    Orders {
        /// Number of rows.
        #[arg(long, default_value_t = 100_000)]
        rows: u64,
        /// Output CSV file (or Parquet directory).
        #[arg(long)]
        out: PathBuf,
        /// Seed of the generator; the same seed gives the same file.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// `csv` (one file) or `parquet` (a directory written by the engine).
        #[arg(long, default_value = "csv")]
        format: String,
    },
    /// Nested order events as JSON lines (user struct, items array, out-of-order event
    /// times, a few malformed records), split over several files.
    ///
    /// Example:
    ///   sstream gen events --events 100000 --files 10 --out /tmp/events
    Events {
        /// Number of records.
        #[arg(long, default_value_t = 10_000)]
        events: u64,
        /// Number of files to split them over.
        #[arg(long, default_value_t = 1)]
        files: u64,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Seed of the generator; the same seed gives the same files.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Malformed records per thousand.
        #[arg(long, default_value_t = 5)]
        malformed_per_mille: u64,
        /// Records per second of event time (the first is at 2026-01-01T00:00:00Z).
        #[arg(long, default_value_t = 100)]
        events_per_second: u64,
        /// No record more than a minute late (by default one in a hundred is up to 15
        /// minutes late).
        #[arg(long)]
        no_very_late: bool,
    },
}

/// Runs `sstream gen`.
pub fn run(args: GenArgs) -> Result<()> {
    match args.what {
        GenWhat::Orders {
            rows,
            out,
            seed,
            format,
        } => {
            match format.as_str() {
                "csv" => write_orders_csv(&out, rows, seed)?,
                "parquet" => write_orders_parquet(&out, rows, seed)?,
                other => anyhow::bail!("--format `{other}`: use csv or parquet"),
            }
            eprintln!("wrote {rows} orders to {}", out.display());
        }
        GenWhat::Events {
            events,
            files,
            out,
            seed,
            malformed_per_mille,
            events_per_second,
            no_very_late,
        } => {
            let opts = EventOptions {
                events,
                seed,
                malformed_per_mille,
                events_per_second,
                very_late: !no_very_late,
                ..EventOptions::default()
            };
            let paths = write_event_files(&out, files, &opts)?;
            eprintln!(
                "wrote {events} events in {} files to {}",
                paths.len(),
                out.display()
            );
        }
    }
    Ok(())
}
