//! Crash tests of the streaming runtime (`read_stream` -> `write_stream`, the real
//! `MicroBatchExecution`): a file-source -> file-sink query runs in a child process that is killed with
//! SIGKILL at points proptest picks (a named step: after the source logged its files,
//! before the sink writes, between sink writes, after the sink's files are written but not
//! logged, after the sink log but before `commits/N`, ...; or after a random delay), then
//! restarted until it finishes. The committed output, read back through the
//! `_spark_metadata`-aware batch reader, must equal the uninterrupted run's: no row lost,
//! none duplicated.
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

/// The child: runs the job in the environment, if any.
#[test]
#[ignore = "run by runtime_crash_kills_never_lose_or_duplicate_rows in a child process"]
fn runtime_crash_child() {
    let Ok(job) = std::env::var(JOB_ENV) else {
        return;
    };
    let dirs: Vec<PathBuf> = job.split('|').map(PathBuf::from).collect();
    run_query(&dirs[0], &dirs[1], &dirs[2]).unwrap();
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
    let job = dirs
        .iter()
        .map(|d| d.display().to_string())
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
                Ok(())
            },
        )
        .unwrap();
    let kills = kills.load(Ordering::SeqCst);
    eprintln!("{kills} SIGKILLs");
    assert!(kills >= 50, "only {kills} kills happened");
}
