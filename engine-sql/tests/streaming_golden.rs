//! Streaming queries against Spark's answers, batch by batch: every case of
//! `tests/streaming_golden/cases` (written by `spark_golden.py` with PySpark 4.3) runs
//! through the engine with the same input files, one per micro-batch, and must give the
//! same batch ids, the same rows in each batch, the same watermark in force, and the same
//! state sizes and late-row counts per stateful operator.
//!
//! `cargo test --test streaming_golden -- <name>` runs the cases whose name contains `<name>`
//! (a harness of its own, as `sqllogictest.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use engine_sql::prelude::*;
use serde_json::Value;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/streaming_golden/cases")
}

/// What one batch gave: id, sorted rows, watermark, per operator (rows total, dropped).
#[derive(Debug, PartialEq)]
struct Batch {
    id: u64,
    rows: Vec<String>,
    watermark: Option<String>,
    state: Vec<(i64, i64)>,
}

fn expected(case: &Path) -> Vec<Batch> {
    let v: Value =
        serde_json::from_str(&fs::read_to_string(case.join("expected.json")).unwrap()).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| Batch {
            id: b["batch_id"].as_u64().unwrap(),
            rows: b["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap().to_string())
                .collect(),
            watermark: b["watermark"].as_str().map(str::to_string),
            state: b["state"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| {
                    (
                        o["numRowsTotal"].as_i64().unwrap(),
                        o["numRowsDroppedByWatermark"].as_i64().unwrap(),
                    )
                })
                .collect(),
        })
        .collect()
}

/// Each column cast to STRING, NULL as `NULL`, joined with ` | `; sorted.
fn render(df: &DataFrame) -> Vec<String> {
    let cols: Vec<Expr> = df
        .columns()
        .unwrap()
        .iter()
        .map(|c| col(&format!("`{c}`")).cast(arrow::datatypes::DataType::Utf8))
        .collect();
    let mut out: Vec<String> = df
        .select(cols)
        .unwrap()
        .collect_rows()
        .unwrap()
        .iter()
        .map(|r| r.join(" | "))
        .collect();
    out.sort();
    out
}

/// (batch id, rendered rows) per foreachBatch call.
type Seen = Arc<Mutex<Vec<(u64, Vec<String>)>>>;

fn run_case(case: &Path) -> Vec<Batch> {
    let meta: Value =
        serde_json::from_str(&fs::read_to_string(case.join("case.json")).unwrap()).unwrap();
    let mut builder = Session::builder()
        .master("local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2");
    for (k, v) in meta["conf"].as_object().unwrap() {
        builder = builder.config(k, v.as_str().unwrap());
    }
    let spark = builder.build().unwrap();
    let work = tempfile::tempdir().unwrap();
    let base = SystemTime::now() - Duration::from_secs(10_000);
    for s in meta["sources"].as_array().unwrap() {
        let name = s["name"].as_str().unwrap();
        let dir = work.path().join(name);
        fs::create_dir_all(&dir).unwrap();
        for i in 0..s["files"].as_u64().unwrap() {
            let file = format!("{i:03}.json");
            let to = dir.join(&file);
            fs::copy(case.join("input").join(name).join(&file), &to).unwrap();
            // Files are taken in modification-time order, one per batch.
            let f = fs::File::options().write(true).open(&to).unwrap();
            f.set_modified(base + Duration::from_secs(i)).unwrap();
        }
        if s["static"].as_bool() == Some(true) {
            // A batch table beside the streams: every file at once.
            spark
                .read()
                .schema_ddl(s["schema"].as_str().unwrap())
                .unwrap()
                .json(dir.to_str().unwrap())
                .unwrap()
                .create_or_replace_temp_view(name)
                .unwrap();
            continue;
        }
        let mut reader = spark
            .read_stream()
            .schema_ddl(s["schema"].as_str().unwrap())
            .unwrap();
        // One file per batch unless the case says otherwise (a NULL option is unset).
        let opts = s["opts"].as_object().cloned().unwrap_or_default();
        if !opts.contains_key("maxFilesPerTrigger") {
            reader = reader.option("maxFilesPerTrigger", 1);
        }
        for (k, v) in &opts {
            if let Some(v) = v.as_str() {
                reader = reader.option(k, v);
            }
        }
        let mut df = reader.json(dir.to_str().unwrap()).unwrap();
        if let Some(w) = s["watermark"].as_array() {
            df = df
                .with_watermark(w[0].as_str().unwrap(), w[1].as_str().unwrap())
                .unwrap();
        }
        df.create_or_replace_temp_view(name).unwrap();
    }
    let mut df = spark.sql(meta["sql"].as_str().unwrap()).unwrap();
    for step in meta["steps"].as_array().unwrap() {
        let (op, cols) = step.as_object().unwrap().iter().next().unwrap();
        let cols: Vec<&str> = cols
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        df = match op.as_str() {
            "dropDuplicates" => df.drop_duplicates(&cols).unwrap(),
            "dropDuplicatesWithinWatermark" => df.drop_duplicates_within_watermark(&cols).unwrap(),
            "distinct" => df.distinct().unwrap(),
            other => panic!("unknown step {other}"),
        };
    }
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let q = df
        .write_stream()
        .foreach_batch(move |df, id| {
            s.lock().unwrap().push((id, render(&df)));
            Ok(())
        })
        .output_mode_str(meta["mode"].as_str().unwrap())
        .option("checkpointLocation", work.path().join("ckpt").display())
        .trigger(Trigger::AvailableNow)
        .start()
        .unwrap();
    q.await_termination(None).unwrap();
    let progress = q.recent_progress();
    let seen = seen.lock().unwrap().clone();
    seen.into_iter()
        .map(|(id, rows)| {
            let p = progress.iter().find(|p| p.batch_id == id as i64);
            Batch {
                id,
                rows,
                watermark: p.and_then(|p| p.event_time.get("watermark").cloned()),
                state: p
                    .map(|p| {
                        p.state_operators
                            .iter()
                            .map(|o| (o.num_rows_total, o.num_rows_dropped_by_watermark))
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect()
}

fn main() {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut names: Vec<PathBuf> = fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.json").exists())
        .filter(|p| {
            filter
                .as_deref()
                .is_none_or(|f| p.file_name().unwrap().to_string_lossy().contains(f))
        })
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no golden streaming case matched");
    let mut failures = Vec::new();
    for case in &names {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let want = expected(case);
        let got = std::panic::catch_unwind(|| run_case(case));
        match got {
            Ok(got) if got == want => println!("ok      {name}"),
            Ok(got) => {
                println!("FAILED  {name}");
                let n = want.len().max(got.len());
                for i in 0..n {
                    let (w, g) = (want.get(i), got.get(i));
                    if w != g {
                        println!("  batch {i}:\n    spark:  {w:?}\n    engine: {g:?}");
                    }
                }
                failures.push(name);
            }
            Err(_) => {
                println!("FAILED  {name} (panicked)");
                failures.push(name);
            }
        }
    }
    if !failures.is_empty() {
        eprintln!("cases differing from Spark: {failures:?}");
        std::process::exit(1);
    }
    println!("{} golden streaming cases passed", names.len());
}
