//! Nested order events as JSON lines: what the demo sends through Kafka and the examples and
//! benchmarks read. Realistic on purpose: a user struct, an items array of 0-4 structs, event
//! times that arrive out of order (a few very late), and a few malformed records.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::orders::COUNTRIES;
use super::rng::{Rng, civil_from_days};

/// The Spark DDL schema of one event, for `from_json` and file sources.
pub const EVENT_SCHEMA: &str = "order_id STRING, user STRUCT<id: STRING, country: STRING, tier: STRING>, \
channel STRING, items ARRAY<STRUCT<sku: STRING, qty: INT, price: DOUBLE>>, \
payment STRUCT<method: STRING, currency: STRING>, ts TIMESTAMP";

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct EventOptions {
    /// How many records (malformed ones included).
    pub events: u64,
    /// The generator's seed: the same seed gives the same records.
    pub seed: u64,
    /// Records per thousand that are not valid JSON (truncated or garbage), for the
    /// bad-record modes.
    pub malformed_per_mille: u64,
    /// Event time of the first record, in milliseconds since the epoch.
    pub start_ms: i64,
    /// Event-time spacing: this many records per second of event time.
    pub events_per_second: u64,
    /// Whether one record in a hundred is up to 15 minutes late (otherwise every record lags
    /// its arrival by under a minute, so a watermark delay of a minute drops nothing).
    pub very_late: bool,
}

impl Default for EventOptions {
    fn default() -> Self {
        EventOptions {
            events: 10_000,
            seed: 42,
            malformed_per_mille: 5,
            // 2026-01-01T00:00:00Z
            start_ms: 1_767_225_600_000,
            events_per_second: 100,
            very_late: true,
        }
    }
}

const TIERS: [&str; 3] = ["basic", "silver", "gold"];
const CHANNELS: [&str; 3] = ["web", "app", "store"];
const METHODS: [&str; 3] = ["card", "paypal", "invoice"];
const CURRENCIES: [&str; 3] = ["EUR", "USD", "GBP"];

/// The records, one JSON document per item, in arrival order.
pub fn event_lines(opts: &EventOptions) -> impl Iterator<Item = String> + use<> {
    let mut rng = Rng::new(opts.seed);
    let opts = opts.clone();
    let step_ms = 1000 / opts.events_per_second.max(1) as i64;
    (0..opts.events).map(move |i| {
        let mut line = String::with_capacity(320);
        // Arrival order is i; event time lags behind by up to a minute, and one record in a
        // hundred is up to 15 minutes late, so watermarks have something to do.
        // The draw happens either way, so the rest of a record does not depend on `very_late`.
        let late_ms = if rng.below(100) == 0 && opts.very_late {
            rng.below(15 * 60_000)
        } else {
            rng.below(60_000)
        } as i64;
        let ts = opts.start_ms + i as i64 * step_ms - late_ms;
        let _ = write!(
            line,
            r#"{{"order_id":"o-{i:09}","user":{{"id":"u-{:05}","country":"{}","tier":"{}"}},"channel":"{}","items":["#,
            rng.below(50_000),
            COUNTRIES[rng.below(COUNTRIES.len() as u64) as usize],
            TIERS[rng.below(3) as usize],
            CHANNELS[rng.below(3) as usize],
        );
        let items = rng.below(5);
        for k in 0..items {
            let cents = 99 + rng.below(20_000);
            let _ = write!(
                line,
                r#"{}{{"sku":"sku-{:04}","qty":{},"price":{}.{:02}}}"#,
                if k == 0 { "" } else { "," },
                (rng.below(1000) * rng.below(1000)) / 1000,
                1 + rng.below(5),
                cents / 100,
                cents % 100
            );
        }
        let _ = write!(
            line,
            r#"],"payment":{{"method":"{}","currency":"{}"}},"ts":"{}"}}"#,
            METHODS[rng.below(3) as usize],
            CURRENCIES[rng.below(3) as usize],
            iso_millis(ts)
        );
        if rng.below(1000) < opts.malformed_per_mille {
            // Half are cut off mid-document, half are not JSON at all.
            if rng.below(2) == 0 {
                line.truncate(line.len() / 2);
            } else {
                line = format!("not json: order o-{i:09} lost its braces");
            }
        }
        line
    })
}

/// Writes the records into `files` JSON-lines files `events-NNNNN.json` under `dir` (split
/// evenly, in order), returning their paths.
pub fn write_event_files(dir: &Path, files: u64, opts: &EventOptions) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let files = files.max(1);
    let per_file = opts.events.div_ceil(files).max(1);
    let mut lines = event_lines(opts).peekable();
    let mut paths = Vec::new();
    for f in 0..files {
        if lines.peek().is_none() && f > 0 {
            break;
        }
        let path = dir.join(format!("events-{f:05}.json"));
        // Written under a hidden name and renamed, so a streaming file source watching `dir`
        // never sees half a file.
        let tmp = dir.join(format!(".events-{f:05}.json.tmp"));
        let file =
            std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        for line in lines.by_ref().take(per_file as usize) {
            w.write_all(line.as_bytes())?;
            w.write_all(b"\n")?;
        }
        w.flush()?;
        drop(w);
        std::fs::rename(&tmp, &path).with_context(|| format!("renaming {}", tmp.display()))?;
        paths.push(path);
    }
    Ok(paths)
}

/// `2026-01-01T00:00:01.250Z`: what Spark's JSON writer and parser use for timestamps.
fn iso_millis(ms: i64) -> String {
    let (secs, millis) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_deterministic_json_with_a_few_malformed() {
        let opts = EventOptions {
            events: 2000,
            ..EventOptions::default()
        };
        let a: Vec<String> = event_lines(&opts).collect();
        assert_eq!(a, event_lines(&opts).collect::<Vec<_>>());
        let bad = a
            .iter()
            .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_err())
            .count();
        assert!((1..=30).contains(&bad), "{bad} malformed of 2000");
        let v: serde_json::Value = a.iter().find_map(|l| serde_json::from_str(l).ok()).unwrap();
        assert!(v["user"]["country"].is_string() && v["items"].is_array());
        assert!(v["ts"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn event_times_arrive_out_of_order() {
        let opts = EventOptions {
            malformed_per_mille: 0,
            ..EventOptions::default()
        };
        let ts: Vec<String> = event_lines(&opts)
            .map(|l| serde_json::from_str::<serde_json::Value>(&l).unwrap()["ts"].to_string())
            .collect();
        assert!(ts.windows(2).any(|w| w[1] < w[0]));
        assert_eq!(iso_millis(1_767_225_601_250), "2026-01-01T00:00:01.250Z");
    }

    #[test]
    fn files_split_the_records_evenly() {
        let dir = tempfile::tempdir().unwrap();
        let opts = EventOptions {
            events: 10,
            ..EventOptions::default()
        };
        let paths = write_event_files(dir.path(), 3, &opts).unwrap();
        assert_eq!(paths.len(), 3);
        let total: usize = paths
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap().lines().count())
            .sum();
        assert_eq!(total, 10);
    }
}
