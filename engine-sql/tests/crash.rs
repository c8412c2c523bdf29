//! Crash tests of the streaming runtime (`read_stream` -> `write_stream`, the real
//! `MicroBatchExecution`): a file-source -> file-sink query runs in a child process that is killed with
//! SIGKILL at points proptest picks (a named step: after the source logged its files,
//! before the sink writes, between sink writes, after the sink's files are written but not
//! logged, after the sink log but before `commits/N`, ...; or after a random delay), then
//! restarted until it finishes. The committed output, read back through the
//! `_spark_metadata`-aware batch reader, must equal the uninterrupted run's: no row lost,
//! none duplicated. So must every data file in the output folder, read without the log (as
//! pandas, DuckDB or a Hive table would): a killed attempt's files are deleted on restart.
//!
//! The child is this test binary itself, re-run with `--exact crash_child --ignored` and the
//! job in the environment.

#![allow(clippy::unwrap_used)] // helpers of tests: a failed unwrap is a failed test

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use engine_sql::prelude::*;
use engine_sql::streaming::Trigger;
use engine_sql::streaming::crash::{CRASH_POINT_ENV, CRASH_POINT_MARKER};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

mod common;

const JOB_ENV: &str = "SSTREAM_RUNTIME_CRASH_JOB";
const FILES: usize = 12;
const ROWS_PER_FILE: i64 = 40;
const SCHEMA: &str = "id BIGINT, name STRING";

/// Every step a kill can be aimed at, in the order a batch reaches them.
const POINTS: &[&str] = &[
    "file_source.log_written",
    "driver.offsets_written",
    "file_sink.writer_created",
    "file_sink.rows_written",
    "file_sink.task_committed",
    "file_sink.before_log",
    "file_sink.log_written",
    "driver.commit_written",
    "file_source.cleaned_one",
];

fn write_input(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for f in 0..FILES {
        let mut text = String::new();
        for r in 0..ROWS_PER_FILE {
            let id = f as i64 * ROWS_PER_FILE + r;
            text.push_str(&format!("{{\"id\":{id},\"name\":\"n{id}\"}}\n"));
        }
        // Distinct modification times: the source takes files oldest first.
        common::put(dir, &format!("in-{f:03}.json"), &text, f as i64);
    }
}

/// The query: `id % 3 != 0`, 3 files a trigger, 2 sink tasks, until the input is drained;
/// read files are archived next to the input (`cleanSource`).
/// Follows the runtime's protocol: source logs files, `offsets/N`, sink writes and commits,
/// `commits/N`, then the source may clean up. A restart replays an uncommitted `offsets/N`.
fn run_query(input: &Path, checkpoint: &Path, out: &Path) -> Result<()> {
    let spark = Session::builder()
        .master("local[2]")
        .config("spark.sql.shuffle.partitions", "2")
        .build()?;
    let archive = input.with_extension("archive");
    let query = spark
        .read_stream()
        .schema_ddl(SCHEMA)?
        .option("maxFilesPerTrigger", 3)
        .option("cleanSource", "archive")
        .option("sourceArchiveDir", archive.display())
        .json(&input.display().to_string())?
        .filter_expr("id % 3 != 0")?
        .write_stream()
        .format("json")
        .option("checkpointLocation", checkpoint.display())
        .option("spark.sql.streaming.fileSink.log.compactInterval", 3)
        .trigger(Trigger::AvailableNow)
        .start_path(&out.display().to_string())?;
    query.await_termination(None)?;
    Ok(())
}

/// Event files for the windowed query: every file has events a few seconds apart,
/// slightly out of order, two keys; some events are late.
fn write_events(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for f in 0..FILES {
        let mut text = String::new();
        for r in 0..ROWS_PER_FILE {
            // Minute f, with every 7th event 75 s late (late once the watermark passed it).
            let mut secs = f as i64 * 60 + r;
            if r % 7 == 0 {
                secs -= 75;
            }
            let k = if r % 2 == 0 { "a" } else { "b" };
            // From 2024-01-01 01:00:00 UTC.
            let t = chrono::DateTime::from_timestamp(1_704_070_800 + secs, 0).unwrap();
            text.push_str(&format!(
                "{{\"t\":\"{}\",\"k\":\"{k}\"}}\n",
                t.format("%Y-%m-%dT%H:%M:%SZ")
            ));
        }
        common::put(dir, &format!("ev-{f:03}.json"), &text, f as i64);
    }
}

/// The windowed query: a 1-minute count per key with a 30-second watermark, Append, into
/// the JSON file sink, 2 files a trigger.
fn run_window_query(input: &Path, checkpoint: &Path, out: &Path) -> Result<()> {
    let spark = Session::builder()
        .master("local[2]")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .build()?;
    let query = spark
        .read_stream()
        .schema_ddl("t TIMESTAMP, k STRING")?
        .option("maxFilesPerTrigger", 2)
        .json(&input.display().to_string())?
        .with_watermark("t", "30 seconds")?
        .group_by(vec![
            col("k"),
            engine_sql::functions::dsl::window(col("t"), "1 minute", None, None),
        ])
        .count()?
        .select_expr(&["k", "CAST(window.start AS STRING) AS w", "count"])?
        .write_stream()
        .format("json")
        .option("checkpointLocation", checkpoint.display())
        .trigger(Trigger::AvailableNow)
        .start_path(&out.display().to_string())?;
    query.await_termination(None)?;
    Ok(())
}

/// The child: runs the job in the environment, if any (`kind|input|checkpoint|output`).
#[test]
#[ignore = "run by the crash tests in a child process"]
fn runtime_crash_child() {
    let Ok(job) = std::env::var(JOB_ENV) else {
        return;
    };
    let parts: Vec<&str> = job.split('|').collect();
    let dirs: Vec<PathBuf> = parts[1..].iter().map(PathBuf::from).collect();
    match parts[0] {
        "window" => run_window_query(&dirs[0], &dirs[1], &dirs[2]).unwrap(),
        _ => run_query(&dirs[0], &dirs[1], &dirs[2]).unwrap(),
    }
}

/// How one run of the child ends.
#[derive(Debug, Clone)]
enum Kill {
    /// SIGKILL when the child reports reaching the `n`-th hit of a crash point.
    At(&'static str, u64),
    /// SIGKILL after this many milliseconds.
    After(u64),
}

fn kill_strategy() -> impl Strategy<Value = Kill> {
    prop_oneof![
        3 => (0..POINTS.len(), 1u64..3).prop_map(|(i, n)| Kill::At(POINTS[i], n)),
        1 => (0u64..60).prop_map(Kill::After),
    ]
}

/// Runs the child once; true if it was killed, false if it finished.
fn run_child(dirs: &[&Path; 3], kill: Option<&Kill>) -> bool {
    run_job("filter", dirs, kill)
}

/// Runs the child on the job `kind` once; true if it was killed, false if it finished.
fn run_job(kind: &str, dirs: &[&Path; 3], kill: Option<&Kill>) -> bool {
    let job = std::iter::once(kind.to_string())
        .chain(dirs.iter().map(|d| d.display().to_string()))
        .collect::<Vec<_>>()
        .join("|");
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "runtime_crash_child",
        "--ignored",
        "--test-threads=1",
    ])
    .env(JOB_ENV, job)
    .env_remove(CRASH_POINT_ENV)
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    if let Some(Kill::At(point, n)) = kill {
        cmd.env(CRASH_POINT_ENV, format!("{point}:{n}"));
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let child = Arc::new(Mutex::new(child));
    let killed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let timer = if let Some(Kill::After(ms)) = kill {
        let (child, killed, ms) = (child.clone(), killed.clone(), *ms);
        Some(std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(ms));
            let mut c = child.lock().unwrap();
            if c.try_wait().unwrap().is_none() && c.kill().is_ok() {
                killed.store(true, Ordering::SeqCst);
            }
        }))
    } else {
        None
    };
    let mut log = Vec::new();
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        if line.starts_with(CRASH_POINT_MARKER) {
            child.lock().unwrap().kill().unwrap();
            killed.store(true, Ordering::SeqCst);
            break;
        }
        log.push(line);
    }
    let status = child.lock().unwrap().wait().unwrap();
    if let Some(t) = timer {
        t.join().unwrap();
    }
    let killed = killed.load(Ordering::SeqCst);
    assert!(
        killed || status.success(),
        "the child failed on its own ({status}):\n{}",
        log.join("\n")
    );
    killed && !status.success()
}

fn committed_ids(out: &Path) -> Vec<i64> {
    let session = Session::builder().master("local[2]").build().unwrap();
    let df = session
        .read()
        .schema_ddl(SCHEMA)
        .unwrap()
        .json(&out.display().to_string())
        .unwrap();
    common::sorted_ids(&df)
}

/// The JSON records of every data file in `out` and its partition directories, read as a
/// tool that knows nothing of `_spark_metadata` reads them (names starting with `_` or `.`
/// are skipped, as pyarrow and Hive do).
fn records_in_folder(out: &Path) -> Vec<serde_json::Value> {
    let mut records = Vec::new();
    let mut dirs = vec![out.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if name.starts_with('_') || name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                dirs.push(path);
            } else {
                for line in std::fs::read_to_string(&path).unwrap().lines() {
                    records.push(serde_json::from_str(line).unwrap());
                }
            }
        }
    }
    records
}

fn ids_in_folder(out: &Path) -> Vec<i64> {
    let mut ids: Vec<i64> = records_in_folder(out)
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

#[test]
fn runtime_crash_kills_never_lose_or_duplicate_rows() {
    let base = tempfile::tempdir().unwrap();
    let input = base.path().join("input");
    write_input(&input);
    // The uninterrupted run.
    let clean_ck = base.path().join("clean-ck");
    let clean_out = base.path().join("clean-out");
    assert!(!run_child(&[&input, &clean_ck, &clean_out], None));
    assert_eq!(
        std::fs::read_dir(&input).unwrap().count(),
        0,
        "cleanSource archived all"
    );
    let expected = committed_ids(&clean_out);
    let all: Vec<i64> = (0..FILES as i64 * ROWS_PER_FILE)
        .filter(|i| i % 3 != 0)
        .collect();
    assert_eq!(expected, all);

    let kills = Arc::new(AtomicUsize::new(0));
    let case = Arc::new(AtomicUsize::new(0));
    let mut runner = TestRunner::new(Config {
        cases: 32,
        failure_persistence: None,
        ..Config::default()
    });
    let (kills2, case2) = (kills.clone(), case.clone());
    let base_path = base.path().to_path_buf();
    runner
        .run(
            &proptest::collection::vec(kill_strategy(), 3..8),
            move |plan| {
                let n = case2.fetch_add(1, Ordering::SeqCst);
                let ck = base_path.join(format!("ck-{n}"));
                let out = base_path.join(format!("out-{n}"));
                let input = base_path.join(format!("input-{n}"));
                write_input(&input);
                for kill in &plan {
                    if run_child(&[&input, &ck, &out], Some(kill)) {
                        kills2.fetch_add(1, Ordering::SeqCst);
                    }
                }
                // Restart until it finishes.
                let mut runs = 0;
                while run_child(&[&input, &ck, &out], None) {
                    runs += 1;
                    prop_assert!(runs < 3);
                }
                let got = committed_ids(&out);
                prop_assert_eq!(
                    got.len(),
                    expected.len(),
                    "rows lost or duplicated after {:?}",
                    plan
                );
                prop_assert_eq!(&got, &expected);
                prop_assert_eq!(
                    &ids_in_folder(&out),
                    &expected,
                    "the folder read without the log after {:?}",
                    plan
                );
                Ok(())
            },
        )
        .unwrap();
    let kills = kills.load(Ordering::SeqCst);
    eprintln!("{kills} SIGKILLs");
    assert!(kills >= 50, "only {kills} kills happened");
}

/// Every step a kill of the windowed query can be aimed at.
const WINDOW_POINTS: &[&str] = &[
    "file_source.log_written",
    "driver.offsets_written",
    "state.before_commit",
    "state.committed",
    "file_sink.rows_written",
    "file_sink.log_written",
    "driver.commit_written",
];

fn window_rows(out: &Path) -> Vec<String> {
    let session = Session::builder().master("local[2]").build().unwrap();
    let df = session
        .read()
        .schema_ddl("k STRING, w STRING, count BIGINT")
        .unwrap()
        .json(&out.display().to_string())
        .unwrap();
    common::sorted_rows(&df)
}

#[test]
fn windowed_aggregation_survives_kills_with_the_same_output() {
    let base = tempfile::tempdir().unwrap();
    let input = base.path().join("input");
    write_events(&input);
    let clean_ck = base.path().join("clean-ck");
    let clean_out = base.path().join("clean-out");
    assert!(!run_job("window", &[&input, &clean_ck, &clean_out], None));
    let expected = window_rows(&clean_out);
    assert!(expected.len() > 10, "{expected:?}");
    let kills = Arc::new(AtomicUsize::new(0));
    let case = Arc::new(AtomicUsize::new(0));
    let mut runner = TestRunner::new(Config {
        cases: 12,
        failure_persistence: None,
        ..Config::default()
    });
    let (kills2, case2) = (kills.clone(), case.clone());
    let base_path = base.path().to_path_buf();
    let strategy = proptest::collection::vec(
        prop_oneof![
            3 => (0..WINDOW_POINTS.len(), 1u64..4).prop_map(|(i, n)| Kill::At(WINDOW_POINTS[i], n)),
            1 => (0u64..80).prop_map(Kill::After),
        ],
        3..7,
    );
    runner
        .run(&strategy, move |plan| {
            let n = case2.fetch_add(1, Ordering::SeqCst);
            let ck = base_path.join(format!("wck-{n}"));
            let out = base_path.join(format!("wout-{n}"));
            let input = base_path.join("input");
            for kill in &plan {
                if run_job("window", &[&input, &ck, &out], Some(kill)) {
                    kills2.fetch_add(1, Ordering::SeqCst);
                }
            }
            let mut runs = 0;
            while run_job("window", &[&input, &ck, &out], None) {
                runs += 1;
                prop_assert!(runs < 3);
            }
            prop_assert_eq!(window_rows(&out), expected.clone(), "after {:?}", plan);
            prop_assert_eq!(
                records_in_folder(&out).len(),
                expected.len(),
                "the folder read without the log after {:?}",
                plan
            );
            Ok(())
        })
        .unwrap();
    let kills = kills.load(Ordering::SeqCst);
    eprintln!("{kills} SIGKILLs of the windowed query");
    assert!(kills >= 20, "only {kills} kills happened");
}
