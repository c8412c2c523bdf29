//! `sstream demo`: the zero-setup first run. Generates sample orders and runs a SQL report
//! over them. (The streaming Kafka demo replaces it when the streaming runtime lands.)

use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use engine_sql::session::Session;

use engine_cli::generate::write_orders_csv;

/// Arguments of `sstream demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many sample orders to generate.
    #[arg(long, default_value_t = 200_000)]
    events: u64,
}

const REPORT: &[(&str, &str)] = &[
    (
        "Revenue per country",
        "SELECT country, count(*) AS orders, sum(qty) AS items, round(sum(qty * price), 2) AS revenue \
         FROM orders GROUP BY country ORDER BY revenue DESC",
    ),
    (
        "Top 5 products",
        "SELECT sku, sum(qty) AS sold FROM orders GROUP BY sku ORDER BY sold DESC, sku LIMIT 5",
    ),
    (
        "Orders per hour of the first day",
        "SELECT hour(ts) AS hour, count(*) AS orders FROM orders \
         WHERE to_date(ts) = DATE '2026-01-01' GROUP BY hour(ts) ORDER BY hour LIMIT 6",
    ),
];

/// Runs the demo.
pub fn run(args: DemoArgs) -> Result<()> {
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let path = dir.path().join("orders.csv");
    let started = Instant::now();
    write_orders_csv(&path, args.events, 42)?;
    println!("Generated {} orders in {}", args.events, path.display());

    let spark = Session::builder()
        .app_name("sstream-demo")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.session.timeZone", "UTC")
        .build()?;
    spark.sql(&format!(
        "CREATE TEMPORARY VIEW orders USING csv OPTIONS (path '{}', header 'true', inferSchema 'true')",
        path.display()
    ))?;
    println!("\nSchema inferred from the CSV header and values:");
    spark.table("orders")?.print_schema()?;
    for (title, sql) in REPORT {
        println!("\n{title}:\n  {sql}");
        spark.sql(sql)?.show(20, 20)?;
    }
    println!(
        "Done: {} rows read per query, {} queries, {:.2?} in total.",
        args.events,
        REPORT.len(),
        started.elapsed()
    );
    Ok(())
}
