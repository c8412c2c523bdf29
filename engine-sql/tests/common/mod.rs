//! Helpers shared by the streaming integration tests (`streaming.rs`, `streaming_files.rs`,
//! `crash.rs`); each includes this file with `mod common;`.

#![allow(dead_code)] // each test binary uses only some of these
#![allow(clippy::unwrap_used)] // helpers of tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use arrow::array::AsArray;
use arrow::datatypes::Int64Type;
use engine_sql::dataframe::DataFrame;

/// The modification time `put`'s `secs` count from (seconds since the epoch, in 2023).
pub const T0: u64 = 1_700_000_000;

/// Writes `content` to `dir/name` (creating folders) with modification time `T0 + secs`.
/// File sources take files oldest first, so tests set the times explicitly instead of
/// relying on the clock between writes.
pub fn put(dir: &Path, name: &str, content: &str, secs: i64) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, content).unwrap();
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs((T0 as i64 + secs) as u64);
    std::fs::File::options()
        .write(true)
        .open(&p)
        .unwrap()
        .set_modified(t)
        .unwrap();
    p
}

/// The BIGINT column `id` of `df`'s rows, sorted: what a sink committed, compared as a set
/// of ids whatever the order the tasks wrote them in.
pub fn sorted_ids(df: &DataFrame) -> Vec<i64> {
    let mut ids: Vec<i64> = df
        .collect()
        .unwrap()
        .iter()
        .flat_map(|b| {
            let idx = b.schema().index_of("id").unwrap();
            b.column(idx).as_primitive::<Int64Type>().values().to_vec()
        })
        .collect();
    ids.sort_unstable();
    ids
}

/// The rows of `df` as comma-joined text, sorted: a result to compare regardless of order.
pub fn sorted_rows(df: &DataFrame) -> Vec<String> {
    let mut rows: Vec<String> = df
        .collect_rows()
        .unwrap()
        .iter()
        .map(|r| r.join(","))
        .collect();
    rows.sort();
    rows
}
