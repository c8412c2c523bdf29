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
