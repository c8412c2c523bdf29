//! Project automation: `cargo xtask <command>`.
//!
//! - `test`: the whole suite, exactly what CI runs (format check, the crate and module
//!   layering check, clippy, every test).
//! - `bench`: end-to-end benchmarks of the release `sstream` binary on generated data.
//! - `bench-streaming`: the JSON files -> from_json -> explode -> parquet streaming query.
//! - `bench-kafka`: Kafka source/sink benchmarks against the local broker.
//! - `bench-state`: the state store load test (10M keys, both providers, reload in a new
//!   process, peak RSS).
//! - `fuzz [--minutes N] [TARGET]`: the fuzz targets for N minutes each (10 by default)
//!   instead of CI's fixed case count.
//! - `broker start|stop|status|create-topic T --partitions N`: the local Kafka broker
//!   (librdkafka's mock cluster in a background process, see `engine_kafka::broker`); `start`
//!   prints the bootstrap address `127.0.0.1:PORT` as its last stdout line and reuses a running
//!   broker.

mod bench;
mod bench_state;
mod bench_stateful;
mod broker;
mod ci;
mod depcheck;
mod fuzz;
mod proctree;
mod util;

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "xtask", about = "Project automation for the sstream workspace")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the whole test suite: rustfmt check, layering check, clippy with -D warnings, all
    /// tests.
    Test,
    /// The fuzz targets (JSON, CSV, date/time and interval text, CAST, SQL, functions,
    /// pipeline files, Kafka options) for minutes each, with fresh seeds: a panic or a hang
    /// fails with the smallest input found.
    Fuzz {
        /// Minutes per target.
        #[arg(long, default_value_t = 10)]
        minutes: u64,
        /// Only the targets whose names contain this.
        target: Option<String>,
    },
    /// End-to-end benchmarks on generated data (release build); prints a Markdown table.
    Bench {
        /// Rows of generated orders.
        #[arg(long, default_value_t = 10_000_000)]
        rows: u64,
        /// Where to keep the generated data (reused when present).
        #[arg(long, default_value = "target/bench-data")]
        data_dir: PathBuf,
        /// Worker threads (`spark.master=local[N]`).
        #[arg(long, default_value_t = 1)]
        threads: usize,
    },
    /// The streaming benchmark (release): JSON event files -> from_json -> explode -> filter
    /// -> parquet sink with Trigger.AvailableNow; prints a Markdown table.
    BenchStreaming {
        /// Event counts to run (repeatable; default 1M and 10M, with --stateful 1M and 5M);
        /// each input is generated once and reused.
        #[arg(long)]
        events: Vec<u64>,
        /// The stateful queries (sliding and tumbling windows, sessions) with both state
        /// providers, instead of the stateless pipeline.
        #[arg(long)]
        stateful: bool,
        /// With --stateful: the same queries in PySpark 4 too (installed with pip if missing),
        /// with the ratios.
        #[arg(long, requires = "stateful")]
        vs_spark: bool,
        /// Worker threads (`spark.master=local[N]`).
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Where to keep the generated data.
        #[arg(long, default_value = "target/bench-data")]
        data_dir: PathBuf,
    },
    /// Kafka benchmarks (release): sink alone, source alone, plain consumer, against the local
    /// broker (started if needed); prints a Markdown table.
    BenchKafka {
        /// Messages to write and read.
        #[arg(long, default_value_t = 1_000_000)]
        messages: u64,
        /// Writer/reader threads.
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
    /// The state store load test (release): keys written in batches with a commit per batch,
    /// then reloaded from the checkpoint in a new process, per provider; prints a Markdown
    /// table with times and peak RSS.
    BenchState {
        /// Distinct keys to write.
        #[arg(long, default_value_t = 10_000_000)]
        keys: u64,
        /// Keys per batch (one commit each).
        #[arg(long, default_value_t = 100_000)]
        batch: u64,
        /// Providers to run (repeatable): `disk`, `memory`.
        #[arg(long, default_values_t = ["disk".to_string(), "memory".to_string()])]
        provider: Vec<String>,
        /// Where the checkpoints and working copies go (cleared per provider).
        #[arg(long, default_value = "target/bench-state")]
        dir: PathBuf,
    },
    /// Runs the `sstream` binary with these arguments, after installing the system packages
    /// its build needs: what `cargo sstream ...` (the README's main command) runs, so it works
    /// on a machine without OpenSSL's headers too.
    #[command(disable_help_flag = true)]
    Sstream {
        /// Arguments passed to `sstream` (see `sstream --help`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// The layering check alone (part of `test`): the crate graph, and no import cycle
    /// between sibling modules of an engine crate.
    Layers,
    /// The local Kafka broker: `start`, `stop`, `status`, `create-topic T --partitions N`.
    Broker {
        /// Arguments passed to `sstream-broker` (see `sstream-broker --help`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        args: Vec<String>,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    // `cargo sstream` runs the binary where the user is, so relative paths mean what they say.
    let invoked_from = std::env::current_dir()?;
    let root = util::workspace_root()?;
    std::env::set_current_dir(&root)?;
    // Every command builds engine-kafka, whose librdkafka needs OpenSSL's headers.
    util::ensure_system_packages()?;
    match cli.command {
        Cmd::Test => ci::test(),
        Cmd::Fuzz { minutes, target } => fuzz::fuzz(minutes, target.as_deref()),
        Cmd::Layers => depcheck::check(&root),
        Cmd::Bench {
            rows,
            data_dir,
            threads,
        } => bench::bench(rows, &data_dir, threads),
        Cmd::BenchStreaming {
            events,
            threads,
            data_dir,
            stateful,
            vs_spark,
        } => {
            if stateful {
                let events = if events.is_empty() {
                    vec![1_000_000, 5_000_000]
                } else {
                    events
                };
                bench_stateful::bench_stateful(&events, threads, &data_dir, vs_spark)
            } else {
                let events = if events.is_empty() {
                    vec![1_000_000, 10_000_000]
                } else {
                    events
                };
                bench::bench_streaming(&events, threads, &data_dir)
            }
        }
        Cmd::BenchKafka { messages, threads } => broker::bench_kafka(messages, threads),
        Cmd::BenchState {
            keys,
            batch,
            provider,
            dir,
        } => bench_state::bench_state(keys, batch, &provider, &dir),
        Cmd::Sstream { args } => {
            let mut cmd = util::cargo();
            cmd.args([
                "run",
                "--quiet",
                "--package",
                "engine-cli",
                "--bin",
                "sstream",
                "--",
            ])
            .args(&args)
            .current_dir(&invoked_from);
            util::replace_process(cmd)
        }
        Cmd::Broker { args } => {
            let bin = broker::build_broker()?;
            let mut cmd = Command::new(bin);
            cmd.args(&args);
            let status = cmd.status().context("running sstream-broker")?;
            std::process::exit(status.code().unwrap_or(1));
        }
    }
}
