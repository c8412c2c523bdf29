//! `cargo xtask bench-streaming --stateful [--vs-spark]`: the stateful streaming queries of
//! `engine-sql/examples/stateful_bench.rs` over generated JSON event files (20 files, one per
//! micro-batch), with both state providers, and the same queries in PySpark when asked
//! (`xtask/scripts/stateful_bench_spark.py`). Prints a Markdown table: events/s from the
//! query's own clock, CPU seconds and peak RSS of the whole process tree.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::proctree::{Usage, run_measured};
use crate::util::run;

/// The queries, in the order they are reported.
const QUERIES: &[(&str, &str)] = &[
    (
        "sliding",
        "count per 10m/5m sliding window x channel (append)",
    ),
    (
        "items_append",
        "explode(items) -> count, sum(qty) per 1m window x country (append)",
    ),
    (
        "items_update",
        "explode(items) -> count, sum(qty) per 1m window x country (update)",
    ),
    ("session", "count per 5m session window x user (append)"),
];

/// One measured run.
struct Row {
    events_per_s: f64,
    seconds: f64,
    usage: Usage,
}

/// Runs one measured command and reads the JSON line it prints last.
fn measure(mut cmd: Command) -> Result<Row> {
    let (out, usage) = run_measured(&mut cmd)?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .context("no JSON report printed")?;
    let v: serde_json::Value = serde_json::from_str(line)?;
    Ok(Row {
        events_per_s: v["events_per_second"].as_f64().unwrap_or(f64::NAN),
        seconds: v["seconds"].as_f64().unwrap_or(f64::NAN),
        usage,
    })
}

/// Installs pyspark with pip when `import pyspark` fails.
fn ensure_pyspark() -> Result<()> {
    let ok = Command::new("python3")
        .args(["-c", "import pyspark"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let mut pip = Command::new("python3");
        pip.args(["-m", "pip", "install", "--quiet", "pyspark"]);
        run(pip)?;
    }
    Ok(())
}

/// Runs the stateful benchmark.
pub fn bench_stateful(
    events: &[u64],
    threads: usize,
    data_dir: &Path,
    vs_spark: bool,
) -> Result<()> {
    let (sstream, bench) = crate::bench::build_release_tools("stateful_bench")?;
    if vs_spark {
        ensure_pyspark()?;
    }
    let script = std::env::current_dir()?
        .join("xtask")
        .join("scripts")
        .join("stateful_bench_spark.py");
    std::fs::create_dir_all(data_dir)?;
    let data_dir = std::fs::canonicalize(data_dir)?;
    println!(
        "| query | events | engine | events/s | query s | process s | CPU s | peak RSS MiB | vs PySpark events/s | vs PySpark RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for &n in events {
        let input = crate::bench::ensure_events(&sstream, &data_dir, n)?;
        let scratch = data_dir.join("stateful-out");
        for (query, _) in QUERIES {
            let spark = if vs_spark {
                let mut cmd = Command::new("python3");
                cmd.arg(&script)
                    .arg(&input)
                    .arg(&scratch)
                    .arg(query)
                    .arg(threads.to_string());
                Some(measure(cmd)?)
            } else {
                None
            };
            if let Some(s) = &spark {
                print_row(query, n, "PySpark 4 (HDFS state store)", s, None);
            }
            for provider in ["memory", "disk"] {
                let mut cmd = Command::new(&bench);
                cmd.arg(&input)
                    .arg(&scratch)
                    .arg(query)
                    .arg(provider)
                    .arg(threads.to_string());
                let row = measure(cmd)?;
                print_row(
                    query,
                    n,
                    &format!("sstream, {provider}"),
                    &row,
                    spark.as_ref(),
                );
            }
        }
        let _ = std::fs::remove_dir_all(&scratch);
    }
    println!();
    for (query, what) in QUERIES {
        println!("- `{query}`: {what}");
    }
    Ok(())
}

fn print_row(query: &str, n: u64, engine: &str, r: &Row, spark: Option<&Row>) {
    let (ratio, rss) = match spark {
        Some(s) => (
            format!("{:.1}x", r.events_per_s / s.events_per_s),
            format!("1/{:.0}", s.usage.peak_rss_mib / r.usage.peak_rss_mib),
        ),
        None => ("".into(), "".into()),
    };
    println!(
        "| {query} | {n} | {engine} | {:.0}K | {:.2} | {:.2} | {:.1} | {:.0} | {ratio} | {rss} |",
        r.events_per_s / 1e3,
        r.seconds,
        r.usage.wall_s,
        r.usage.cpu_s,
        r.usage.peak_rss_mib,
    );
}
