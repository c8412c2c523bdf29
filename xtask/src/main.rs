//! Project automation: `cargo xtask <command>`.
//!
//! - `test`: the whole suite, exactly what CI runs (format check, clippy, every test).
//! - `bench`: end-to-end benchmarks of the release `sstream` binary on generated data.
//! - `broker start|stop|status|create-topic T --partitions N`: the local Kafka broker
//!   (librdkafka's mock cluster in a background process, see `engine_kafka::broker`); `start`
//!   prints the bootstrap address `127.0.0.1:PORT` as its last stdout line and reuses a running
//!   broker.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "xtask", about = "Project automation for the sstream workspace")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the whole test suite: rustfmt check, clippy with -D warnings, all tests.
    Test,
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
    /// The local Kafka broker: `start`, `stop`, `status`, `create-topic T --partitions N`.
    Broker {
        /// Arguments passed to `sstream-broker` (see `sstream-broker --help`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        args: Vec<String>,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let root = workspace_root()?;
    std::env::set_current_dir(&root)?;
    match cli.command {
        Cmd::Test => test(),
        Cmd::Bench {
            rows,
            data_dir,
            threads,
        } => bench(rows, &data_dir, threads),
        Cmd::BenchKafka { messages, threads } => bench_kafka(messages, threads),
        Cmd::Broker { args } => {
            let bin = build_broker()?;
            let mut cmd = Command::new(bin);
            cmd.args(&args);
            let status = cmd.status().context("running sstream-broker")?;
            std::process::exit(status.code().unwrap_or(1));
        }
    }
}

fn workspace_root() -> Result<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .context("xtask must live one level below the workspace root")
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn run(mut cmd: Command) -> Result<()> {
    eprintln!("$ {cmd:?}");
    let status = cmd.status().with_context(|| format!("starting {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// Builds the `sstream-broker` binary (debug profile) and returns its path.
fn build_broker() -> Result<PathBuf> {
    let mut build = cargo();
    build.args([
        "build",
        "--quiet",
        "-p",
        "engine-kafka",
        "--bin",
        "sstream-broker",
    ]);
    run(build)?;
    Ok(target_dir().join("debug").join("sstream-broker"))
}

/// Starts the local broker unless one runs; returns whether this call started it.
fn ensure_broker() -> Result<bool> {
    let bin = build_broker()?;
    let running = Command::new(&bin)
        .arg("status")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .context("running sstream-broker status")?
        .success();
    if !running {
        let mut start = Command::new(&bin);
        start.arg("start");
        run(start)?;
    }
    Ok(!running)
}

fn bench_kafka(messages: u64, threads: usize) -> Result<()> {
    ensure_broker()?;
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "-p",
        "engine-kafka",
        "--example",
        "kafka_bench",
    ]);
    run(build)?;
    let status = Command::new(target_dir().join("debug").join("sstream-broker"))
        .arg("status")
        .output()
        .context("running sstream-broker status")?;
    let bootstrap = String::from_utf8_lossy(&status.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_string();
    let mut bench = Command::new(
        target_dir()
            .join("release")
            .join("examples")
            .join("kafka_bench"),
    );
    bench.args([bootstrap, messages.to_string(), threads.to_string()]);
    run(bench)
}

fn stop_broker() -> Result<()> {
    let mut stop = Command::new(target_dir().join("debug").join("sstream-broker"));
    stop.arg("stop");
    run(stop)
}

fn test() -> Result<()> {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    run(fmt)?;
    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    run(clippy)?;
    // engine-kafka's integration tests need the local broker; CI starts on a clean machine.
    let started_broker = ensure_broker()?;
    let result = run_tests();
    if started_broker {
        stop_broker()?;
    }
    result
}

fn run_tests() -> Result<()> {
    let mut tests = cargo();
    // Benches are compiled by clippy above; running them belongs to `cargo bench`.
    tests.args([
        "test",
        "--workspace",
        "--lib",
        "--bins",
        "--tests",
        "--examples",
    ]);
    run(tests)?;
    let mut doc_tests = cargo();
    doc_tests.args(["test", "--workspace", "--doc"]);
    run(doc_tests)
}

struct Case {
    name: &'static str,
    sql: &'static str,
}

// Each query consumes every column it computes, so column pruning cannot skip the work.
const CASES: &[Case] = &[
    Case {
        name: "scan + filter + project, numeric",
        sql: "SELECT count(*), sum(amount) FROM \
              (SELECT qty * price AS amount FROM orders WHERE qty > 2 AND price < 150.0)",
    },
    Case {
        name: "scan + filter + project, with a string column",
        sql: "SELECT count(*), sum(amount), max(order_id) FROM \
              (SELECT order_id, qty * price AS amount FROM orders WHERE qty > 2 AND country = 'DE')",
    },
    Case {
        name: "group-by, 1k integer keys",
        sql: "SELECT count(*), sum(n), sum(items), sum(avg_price) FROM \
              (SELECT store_id, count(*) AS n, sum(qty) AS items, avg(price) AS avg_price FROM orders GROUP BY store_id)",
    },
    Case {
        name: "group-by, 1k string keys",
        sql: "SELECT count(*), sum(n), sum(items), sum(avg_price) FROM \
              (SELECT sku, count(*) AS n, sum(qty) AS items, avg(price) AS avg_price FROM orders GROUP BY sku)",
    },
];

fn bench(rows: u64, data_dir: &Path, threads: usize) -> Result<()> {
    let mut build = cargo();
    build.args(["build", "--release", "-p", "engine-cli"]);
    run(build)?;
    let sstream = PathBuf::from("target/release/sstream");
    std::fs::create_dir_all(data_dir)?;
    let csv = data_dir.join(format!("orders-v2-{rows}.csv"));
    if !csv.exists() {
        let mut gen_cmd = Command::new(&sstream);
        gen_cmd.args(["gen", "orders", "--rows", &rows.to_string(), "--out"]);
        gen_cmd.arg(&csv);
        run(gen_cmd)?;
    }
    let parquet = data_dir.join(format!("orders-v2-{rows}.parquet"));
    if !parquet.exists() {
        let mut gen_cmd = Command::new(&sstream);
        gen_cmd.args([
            "gen",
            "orders",
            "--rows",
            &rows.to_string(),
            "--format",
            "parquet",
            "--out",
        ]);
        gen_cmd.arg(&parquet);
        run(gen_cmd)?;
    }
    println!("| source | query | rows | threads | seconds | rows/s |");
    println!("|---|---|---|---|---|---|");
    for (source, path) in [("csv", &csv), ("parquet", &parquet)] {
        for case in CASES {
            let create = match source {
                "csv" => format!(
                    "CREATE TEMPORARY VIEW orders USING csv OPTIONS (path '{}', header 'true', inferSchema 'true')",
                    path.display()
                ),
                _ => format!(
                    "CREATE TEMPORARY VIEW orders USING parquet OPTIONS (path '{}')",
                    path.display()
                ),
            };
            let sql = format!("{create}; {}", case.sql);
            let mut cmd = Command::new(&sstream);
            cmd.args([
                "sql",
                "--conf",
                &format!("spark.master=local[{threads}]"),
                "-e",
                &sql,
            ]);
            cmd.stdout(std::process::Stdio::null());
            let start = Instant::now();
            run(cmd)?;
            let secs = start.elapsed().as_secs_f64();
            println!(
                "| {source} | {} | {rows} | {threads} | {secs:.2} | {:.1}M |",
                case.name,
                rows as f64 / secs / 1e6
            );
        }
    }
    Ok(())
}
