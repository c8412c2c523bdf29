//! Flat sample orders (CSV or Parquet) for batch SQL.

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};

use super::rng::{Rng, civil_from_days};

pub(crate) const COUNTRIES: [&str; 8] = ["DE", "FR", "US", "GB", "JP", "BR", "IN", "ES"];

/// Writes `rows` sample orders to `path` as CSV with a header.
pub fn write_orders_csv(path: &Path, rows: u64, seed: u64) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let mut rng = Rng::new(seed);
    writeln!(w, "order_id,ts,user_id,country,sku,qty,price,store_id")?;
    // 2026-01-01T00:00:00Z, then about one order per second.
    let start = 1_767_225_600u64;
    for i in 0..rows {
        let secs = start + i + rng.below(120);
        let (d, rem) = (secs / 86_400, secs % 86_400);
        let (y, m, day) = civil_from_days(d as i64);
        let country = COUNTRIES[rng.below(COUNTRIES.len() as u64) as usize];
        // A skewed product popularity: a few SKUs sell most.
        let sku = (rng.below(1000) * rng.below(1000)) / 1000;
        let qty = 1 + rng.below(5);
        let cents = 99 + rng.below(20_000);
        writeln!(
            w,
            "o-{i:09},{y:04}-{m:02}-{day:02} {:02}:{:02}:{:02},u-{},{country},sku-{sku:04},{qty},{}.{:02},{}",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            rng.below(50_000),
            cents / 100,
            cents % 100,
            rng.below(1000)
        )?;
    }
    w.flush()?;
    Ok(())
}

/// Writes `rows` sample orders as a Parquet directory at `path`, converting the CSV form
/// with the engine itself (CSV schema inference, then the Parquet writer).
pub fn write_orders_parquet(path: &Path, rows: u64, seed: u64) -> Result<()> {
    let tmp = tempfile::tempdir().context("creating a temporary directory")?;
    let csv = tmp.path().join("orders.csv");
    write_orders_csv(&csv, rows, seed)?;
    let spark = engine_sql::session::Session::builder()
        .config("spark.sql.session.timeZone", "UTC")
        .build()?;
    spark
        .read()
        .format("csv")
        .option("header", "true")
        .option("inferSchema", "true")
        .load(&csv.to_string_lossy())?
        .write()
        .mode("overwrite")
        .format("parquet")
        .save(&path.to_string_lossy())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
        write_orders_csv(&a, 100, 7).unwrap();
        write_orders_csv(&b, 100, 7).unwrap();
        let text = std::fs::read_to_string(&a).unwrap();
        assert_eq!(text, std::fs::read_to_string(&b).unwrap());
        assert_eq!(text.lines().count(), 101);
    }
}
