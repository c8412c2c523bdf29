//! `sstream run`, `gen events` and `checkpoint inspect` through the real binary: a pipeline
//! file end to end, restarts, bad files, and Ctrl-C leaving a checkpoint the next run resumes.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{gen_events, sstream_command, sstream_ok};

const PIPELINE: &str = r#"
[conf]
"spark.sql.session.timeZone" = "UTC"

[source.events]
format = "json"
path = "DIR/events"
schema = "order_id STRING, items ARRAY<STRUCT<sku: STRING, qty: INT, price: DOUBLE>>, ts TIMESTAMP, _corrupt_record STRING"
options = { maxFilesPerTrigger = 1 }

[view.items]
sql = "SELECT order_id, item.sku AS sku, item.qty AS qty FROM events LATERAL VIEW explode(items) t AS item WHERE _corrupt_record IS NULL"

[query]
sql = "SELECT * FROM items"

[sink]
format = "json"
path = "DIR/out"
checkpointLocation = "DIR/ckpt"
trigger = { availableNow = true }
"#;

fn setup(dir: &Path, events: u64, files: u64) -> String {
    gen_events(&dir.join("events"), events, files);
    let file = dir.join("pipeline.toml");
    std::fs::write(&file, PIPELINE.replace("DIR", dir.to_str().unwrap())).unwrap();
    file.to_str().unwrap().to_string()
}

/// Rows in the committed output, through a batch read that honours `_spark_metadata`.
fn committed_rows(dir: &Path) -> Vec<String> {
    csv_rows(&format!(
        "CREATE TEMPORARY VIEW o USING json OPTIONS (path '{}'); SELECT order_id, sku, qty FROM o ORDER BY order_id, sku, qty",
        dir.join("out").display()
    ))
}

/// The rows the pipeline must produce, computed by a batch query over the same files.
fn expected_rows(dir: &Path) -> Vec<String> {
    csv_rows(&format!(
        "CREATE TEMPORARY VIEW e (order_id STRING, items ARRAY<STRUCT<sku: STRING, qty: INT, price: DOUBLE>>, ts TIMESTAMP, _corrupt_record STRING) USING json OPTIONS (path '{}'); \
         SELECT order_id, item.sku AS sku, item.qty AS qty FROM e LATERAL VIEW explode(items) t AS item WHERE _corrupt_record IS NULL ORDER BY order_id, sku, qty",
        dir.join("events").display()
    ))
}

/// The rows `sstream sql --output csv` prints for `sql`, header dropped.
fn csv_rows(sql: &str) -> Vec<String> {
    let o = sstream_ok(&["sql", "--output", "csv", "-e", sql]);
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect()
}

#[test]
fn run_a_pipeline_restart_and_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let file = setup(dir.path(), 400, 4);
    let o = sstream_ok(&["run", &file, "--progress", "json"]);
    let progress: Vec<serde_json::Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // maxFilesPerTrigger = 1 over 4 files: 4 batches, Spark's progress field names.
    assert_eq!(progress.len(), 4, "{progress:?}");
    assert_eq!(progress[3]["batchId"], 3);
    assert!(progress[0]["sources"][0]["endOffset"].is_object());
    let expected = expected_rows(dir.path());
    assert!(expected.len() > 400, "{}", expected.len());
    assert_eq!(committed_rows(dir.path()), expected);

    // A second run finds nothing new and writes nothing.
    sstream_ok(&["run", &file]);
    assert_eq!(committed_rows(dir.path()), expected);

    let o = sstream_ok(&[
        "checkpoint",
        "inspect",
        dir.path().join("ckpt").to_str().unwrap(),
    ]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("4 logged, 4 committed, pending: none"),
        "{text}"
    );
    assert!(text.contains("next batch  4"), "{text}");
}

#[test]
fn bad_pipeline_files_name_the_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        PIPELINE.replace("checkpointLocation", "checkpointLocaton"),
    )
    .unwrap();
    let o = sstream_command()
        .args(["run", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.toml:20: unknown key `sink.checkpointLocaton`"),
        "{err}"
    );
    assert!(err.contains("did you mean `checkpointLocation`?"), "{err}");

    std::fs::write(&file, PIPELINE.replace("[query]\nsql", "[query]\nsq")).unwrap();
    let o = sstream_command()
        .args(["run", file.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("unknown key `query.sq`; did you mean `sql`?"),
        "{err}"
    );
}

#[test]
fn ctrl_c_stops_after_a_committed_batch_and_the_next_run_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let file = setup(dir.path(), 2000, 20);
    // A processing-time trigger never ends on its own: only Ctrl-C stops it.
    let mut child = sstream_command()
        .args([
            "run",
            &file,
            "--progress",
            "json",
            "--set",
            "sink.trigger={ processingTime = \"200 milliseconds\" }",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // Wait for the first progress event, then interrupt.
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("\"batchId\":0"), "{first}");
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "sstream run did not stop after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let partial = committed_rows(dir.path());
    let expected = expected_rows(dir.path());
    assert!(
        partial.len() < expected.len(),
        "Ctrl-C came too late to test anything"
    );

    // The next run resumes from the checkpoint: nothing lost, nothing twice.
    sstream_ok(&["run", &file]);
    assert_eq!(committed_rows(dir.path()), expected);
}
