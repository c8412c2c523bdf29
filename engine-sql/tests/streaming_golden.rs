//! Streaming queries against Spark's answers, batch by batch: every case of
//! `tests/streaming_golden/cases` (written by `spark_golden.py` with PySpark 4.3) runs
//! through the engine with the same input files, one per micro-batch, and must give the
//! same batch ids, the same rows in each batch, the same watermark in force, and the same
//! state sizes and late-row counts per stateful operator, with either state store provider.
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

/// The committed cases, or `GOLDEN_CASES_DIR` (cases `random_cases.py` drew, for instance).
fn cases_dir() -> PathBuf {
    std::env::var_os("GOLDEN_CASES_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/streaming_golden/cases"),
        PathBuf::from,
    )
}

/// What one batch gave: id, sorted rows, watermark, per operator (rows total, dropped).
#[derive(Debug, PartialEq)]
struct Batch {
    id: u64,
    rows: Vec<String>,
    watermark: Option<String>,
    state: Vec<(i64, i64)>,
}

/// Spark's batches, or what the engine's error must contain: the error class Spark refused
/// the query with, or the cause's message when the query failed while running.
fn expected(case: &Path) -> Result<Vec<Batch>, String> {
    let v: Value =
        serde_json::from_str(&fs::read_to_string(case.join("expected.json")).unwrap()).unwrap();
    if let Some(class) = v.get("error") {
        // Spark raises some refusals only once the query runs (STREAM_FAILED around the
        // cause); the engine may refuse them at start: the cause's message must match.
        let class = class.as_str().unwrap();
        return Err(match v["cause"].as_str() {
            Some(cause) if class == "STREAM_FAILED" => cause.to_string(),
            _ => class.to_string(),
        });
    }
    Ok(v.as_array()
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
        .collect())
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

/// The engine's batches, or the error it refused the query with.
fn run_case(case: &Path, provider: &str) -> Result<Vec<Batch>, String> {
    let meta: Value =
        serde_json::from_str(&fs::read_to_string(case.join("case.json")).unwrap()).unwrap();
    let mut builder = Session::builder()
        .master("local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.streaming.stateStore.providerClass", provider);
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
                .map_err(|e| e.to_string())?;
        }
        df.create_or_replace_temp_view(name).unwrap();
    }
    let err = |e: EngineError| e.to_string();
    let mut df = spark.sql(meta["sql"].as_str().unwrap()).map_err(err)?;
    for step in meta["steps"].as_array().unwrap() {
        let (op, cols) = step.as_object().unwrap().iter().next().unwrap();
        let cols: Vec<&str> = cols
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        df = match op.as_str() {
            "dropDuplicates" => df.drop_duplicates(&cols),
            "dropDuplicatesWithinWatermark" => df.drop_duplicates_within_watermark(&cols),
            "distinct" => df.distinct(),
            other => panic!("unknown step {other}"),
        }
        .map_err(err)?;
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
        .trigger(match meta["trigger"].as_str() {
            Some("once") => Trigger::Once,
            _ => Trigger::AvailableNow,
        })
        .start()
        .map_err(err)?;
    q.await_termination(None).map_err(err)?;
    let progress = q.recent_progress();
    let seen = seen.lock().unwrap().clone();
    Ok(seen
        .into_iter()
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
        .collect())
}

/// How the engine's answer differs from Spark's; `None` when it is the same (a refusal is
/// the same when the engine's message carries Spark's error class).
fn differences(
    want: &Result<Vec<Batch>, String>,
    got: std::thread::Result<Result<Vec<Batch>, String>>,
) -> Option<String> {
    match (want, got) {
        (_, Err(_)) => Some(" (panicked)".into()),
        (Ok(want), Ok(Ok(got))) if *want == got => None,
        (Err(class), Ok(Err(e))) if e.contains(class.as_str()) => None,
        (want, Ok(Err(e))) => Some(format!("\n  spark:  {want:?}\n  engine: {e}")),
        (Err(class), Ok(Ok(_))) => Some(format!(": spark refused it ({class}), the engine ran it")),
        (Ok(want), Ok(Ok(got))) => {
            let mut out = String::new();
            for i in 0..want.len().max(got.len()) {
                let (w, g) = (want.get(i), got.get(i));
                if w != g {
                    out.push_str(&format!(
                        "\n  batch {i}:\n    spark:  {w:?}\n    engine: {g:?}"
                    ));
                }
            }
            Some(out)
        }
    }
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
        // Both state store providers must give Spark's answer.
        let failed = ["hdfs", "rocksdb"].into_iter().find_map(|provider| {
            let got = std::panic::catch_unwind(|| run_case(case, provider));
            differences(&want, got).map(|d| format!("FAILED  {name} ({provider}){d}"))
        });
        match failed {
            Some(report) => {
                println!("{report}");
                failures.push(name);
            }
            None => println!("ok      {name}"),
        }
    }
    if !failures.is_empty() {
        eprintln!("cases differing from Spark: {failures:?}");
        std::process::exit(1);
    }
    println!("{} golden streaming cases passed", names.len());
}
