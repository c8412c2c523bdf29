//! `cargo xtask bench`: end-to-end benchmarks of the release `sstream` binary.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Result;

use crate::util::{cargo, run};

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

/// Batch SQL over generated orders, CSV and Parquet; prints a Markdown table.
pub fn bench(rows: u64, data_dir: &Path, threads: usize) -> Result<()> {
    let mut build = cargo();
    build.args(["build", "--release", "-p", "engine-cli"]);
    run(build)?;
    let sstream = crate::util::target_dir().join("release").join("sstream");
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

/// Builds (release) the `sstream` binary and engine-sql's example `example`; returns their
/// paths.
pub fn build_release_tools(example: &str) -> Result<(PathBuf, PathBuf)> {
    let mut build = cargo();
    build.args(["build", "--release", "-p", "engine-cli"]);
    run(build)?;
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "-p",
        "engine-sql",
        "--example",
        example,
    ]);
    run(build)?;
    let release = crate::util::target_dir().join("release");
    Ok((
        release.join("sstream"),
        release.join("examples").join(example),
    ))
}

/// `<data_dir>/events-<n>`: `n` generated events in 20 JSON files, generated the first time.
pub fn ensure_events(sstream: &Path, data_dir: &Path, n: u64) -> Result<PathBuf> {
    let input = data_dir.join(format!("events-{n}"));
    if !input.exists() {
        let mut gen_cmd = Command::new(sstream);
        gen_cmd.args(["gen", "events", "--events", &n.to_string(), "--files", "20"]);
        gen_cmd.arg("--out").arg(&input);
        run(gen_cmd)?;
    }
    Ok(input)
}

/// The streaming benchmark: `engine-sql`'s `stream_bench` example over generated event files,
/// one run per event count; prints a Markdown table from its JSON report.
pub fn bench_streaming(events: &[u64], threads: usize, data_dir: &Path) -> Result<()> {
    let (sstream, bench) = build_release_tools("stream_bench")?;
    std::fs::create_dir_all(data_dir)?;
    println!(
        "| events | threads | seconds | events/s | events/s per core | MB/s | first batch after start | peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for &n in events {
        let input = ensure_events(&sstream, data_dir, n)?;
        let bytes: u64 = std::fs::read_dir(&input)?
            .filter_map(|e| e.ok()?.metadata().ok())
            .map(|m| m.len())
            .sum();
        let scratch = data_dir.join("stream-out");
        let out = Command::new(&bench)
            .arg(&input)
            .arg(&scratch)
            .arg(threads.to_string())
            .arg("full")
            .output()?;
        if !out.status.success() {
            anyhow::bail!(
                "stream_bench failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        let secs = report["seconds"].as_f64().unwrap_or(f64::NAN);
        println!(
            "| {n} | {threads} | {secs:.2} | {:.2}M | {:.2}M | {:.0} | {} ms | {:.0} MB |",
            report["events_per_second"].as_f64().unwrap_or(0.0) / 1e6,
            report["events_per_second_per_core"].as_f64().unwrap_or(0.0) / 1e6,
            bytes as f64 / secs / 1e6,
            report["first_batch_after_start_ms"],
            report["peak_rss_mib"].as_f64().unwrap_or(0.0)
        );
        let _ = std::fs::remove_dir_all(&scratch);
    }
    Ok(())
}
