//! `sstream gen`: deterministic sample data for the demo, examples and benchmarks.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

/// Arguments of `sstream gen`.
#[derive(Debug, Args)]
pub struct GenArgs {
    #[command(subcommand)]
    what: GenWhat,
}

#[derive(Debug, Subcommand)]
enum GenWhat {
    /// Orders: order_id, ts, user_id, country, sku, qty, price, store_id (CSV with a header, or a
    /// Parquet directory).
    Orders {
        /// Number of rows.
        #[arg(long, default_value_t = 100_000)]
        rows: u64,
        /// Output CSV file.
        #[arg(long)]
        out: PathBuf,
        /// Seed of the generator; the same seed gives the same file.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// `csv` (one file) or `parquet` (a directory written by the engine).
        #[arg(long, default_value = "csv")]
        format: String,
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
            Ok(())
        }
    }
}

/// A small deterministic generator (SplitMix64): the data must be the same on every
/// machine and run, so benchmarks and examples are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const COUNTRIES: [&str; 8] = ["DE", "FR", "US", "GB", "JP", "BR", "IN", "ES"];

/// Writes `rows` sample orders to `path` as CSV with a header.
pub fn write_orders_csv(path: &Path, rows: u64, seed: u64) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let mut rng = Rng(seed);
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

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
    }

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
