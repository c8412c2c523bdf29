//! `cargo xtask fuzz`: every fuzz target for minutes instead of CI's fixed case count.
//!
//! The targets are ordinary tests (`tests/fuzz.rs` of engine-sql and engine-cli, on
//! `engine_core::testing::fuzz`); this runs each alone with `SSTREAM_FUZZ_SECONDS` set, so
//! it draws fresh seeds until its time is up. Built with the dev profile: its overflow
//! checks turn silent wrap-arounds into panics the run reports.

use anyhow::{Result, bail};

use crate::util::{cargo, run};

/// The environment variable the targets read (`engine_core::testing::fuzz::SECONDS_ENV`).
const SECONDS_ENV: &str = "SSTREAM_FUZZ_SECONDS";

/// Every target: (package, its test function in `tests/fuzz.rs`).
const TARGETS: &[(&str, &str)] = &[
    ("engine-sql", "datetime_and_interval_text"),
    ("engine-sql", "cast_string_to_every_type"),
    ("engine-sql", "from_json_and_from_csv_in_every_mode"),
    ("engine-sql", "csv_and_json_file_readers"),
    ("engine-sql", "sql_text_parse_analyze_plan"),
    ("engine-sql", "function_calls_on_edge_arguments"),
    ("engine-cli", "pipeline_files"),
    ("engine-cli", "kafka_option_maps"),
];

/// Runs the targets whose names contain `filter` (all when `None`) for `minutes` each, one
/// after another; stops at the first that finds a panic or a hang.
pub fn fuzz(minutes: u64, filter: Option<&str>) -> Result<()> {
    let chosen: Vec<_> = TARGETS
        .iter()
        .filter(|(_, name)| filter.is_none_or(|f| name.contains(f)))
        .collect();
    if chosen.is_empty() {
        let names: Vec<_> = TARGETS.iter().map(|(_, n)| *n).collect();
        bail!("no fuzz target matches; the targets: {}", names.join(", "));
    }
    let seconds = minutes.saturating_mul(60).max(1);
    for (package, name) in chosen {
        let mut cmd = cargo();
        cmd.args(["test", "-p", package, "--test", "fuzz", name])
            .args(["--", "--exact", "--nocapture"])
            .env(SECONDS_ENV, seconds.to_string());
        run(cmd)?;
    }
    Ok(())
}
