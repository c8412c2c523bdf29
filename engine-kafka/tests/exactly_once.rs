//! The exactly-once sink mode against the broker process: replays after crashes, including a
//! child process killed with SIGKILL at random points over and over; a read_committed consumer
//! must see every record exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use engine_core::connector::Sink;
use engine_kafka::sink::{HEADER_BATCH, HEADER_QUERY, KafkaSink};
use engine_kafka::testing::unique_topic;

fn eos_sink(bootstrap: &str, topic: &str, query: &str) -> KafkaSink {
    KafkaSink::new(&sink_ctx(
        &[
            ("kafka.bootstrap.servers", bootstrap),
            ("topic", topic),
            ("deliveryGuarantee", "exactly_once"),
        ],
        kv_schema(),
        Some(query),
    ))
    .unwrap()
}

fn assert_exactly_once(values: &[(String, BTreeMap<String, String>)], expected: usize) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (v, _) in values {
        *counts.entry(v.as_str()).or_default() += 1;
    }
    let dups: Vec<_> = counts.iter().filter(|(_, c)| **c > 1).collect();
    assert!(dups.is_empty(), "duplicates: {dups:?}");
    assert_eq!(counts.len(), expected, "missing records");
}

/// Batch `n` of the test's deterministic "query": rows n*100 .. n*100+100 over two tasks.
fn batch_tasks(n: u64) -> Vec<arrow::array::RecordBatch> {
    let base = (n * 100) as usize;
    vec![kv_batch(base..base + 50), kv_batch(base + 50..base + 100)]
}

#[test]
fn replayed_batches_and_abandoned_transactions_land_once() {
    let b = broker();
    let topic = unique_topic("eos");
    b.create_topic(&topic, 3).unwrap();
    let query = unique_topic("query");

    let sink = eos_sink(&b.bootstrap, &topic, &query);
    write_batch(&sink, 0, &batch_tasks(0));
    // A crash after Kafka committed but before the engine recorded the batch: replay.
    let restarted = eos_sink(&b.bootstrap, &topic, &query);
    write_batch(&restarted, 0, &batch_tasks(0));
    // A crash mid-batch: task 0 wrote (its transaction is never committed), task 1 did not.
    {
        let crashed = eos_sink(&b.bootstrap, &topic, &query);
        let mut w = micro_batch_writer(&crashed, 1, 0, 2);
        w.write(&batch_tasks(1)[0]).unwrap();
        // Flushed to the broker, then the process "dies" (the writer is dropped uncommitted).
        let _msg = w.commit().unwrap();
    }
    let again = eos_sink(&b.bootstrap, &topic, &query);
    write_batch(&again, 1, &batch_tasks(1));
    write_batch(&again, 2, &batch_tasks(2));

    let seen = consume_committed(&b.bootstrap, &topic, 3);
    assert_exactly_once(&seen, 300);
    let (_, h) = &seen[0];
    assert_eq!(h[HEADER_QUERY], query);
    assert!(h.contains_key(HEADER_BATCH));
    assert!(h.contains_key("sstream.seq"));
}

const BATCHES: u64 = 30;

/// SIGKILLs `exactly_once_survives_sigkill` lands mid-run.
const KILLS: usize = 8;

/// The child: a minimal micro-batch loop with a commit log, resuming after the last committed
/// batch, as the streaming runtime does. Run only by `exactly_once_survives_sigkill`.
#[test]
#[ignore = "child process of exactly_once_survives_sigkill"]
fn eos_child() {
    let Ok(state) = std::env::var("EOS_CHILD_STATE") else {
        return;
    };
    let bootstrap = std::env::var("EOS_CHILD_BOOTSTRAP").unwrap();
    let topic = std::env::var("EOS_CHILD_TOPIC").unwrap();
    let query = std::env::var("EOS_CHILD_QUERY").unwrap();
    let state = Path::new(&state);
    let sink = eos_sink(&bootstrap, &topic, &query);
    loop {
        let next = (0..BATCHES)
            .find(|n| !state.join(format!("commit-{n}")).exists())
            .unwrap_or(BATCHES);
        if next == BATCHES {
            return;
        }
        write_batch(&sink, next, &batch_tasks(next));
        engine_core::checkpoint::write_atomic(&state.join(format!("commit-{next}")), b"ok")
            .unwrap();
    }
}

fn pseudo_random(bound: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    // xorshift of the clock's nanoseconds: enough spread for kill points.
    let mut x = nanos ^ 0x9E37_79B9_7F4A_7C15;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x % bound
}

#[test]
fn exactly_once_survives_sigkill() {
    let b = broker();
    let topic = unique_topic("eos-kill");
    b.create_topic(&topic, 4).unwrap();
    let query = unique_topic("killed-query");
    let state = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut kills = 0;
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        assert!(Instant::now() < deadline, "the child never finished");
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "eos_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("EOS_CHILD_STATE", state.path())
            .env("EOS_CHILD_BOOTSTRAP", &b.bootstrap)
            .env("EOS_CHILD_TOPIC", &topic)
            .env("EOS_CHILD_QUERY", &query)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Kill mid-run (after a new batch committed, plus a random moment) for the first
        // rounds, then let it finish.
        let committed = || count_files(state.path());
        if kills < KILLS {
            let extra = Duration::from_millis(pseudo_random(20));
            match kill_mid_run(&mut child, committed, extra) {
                ChildEnd::KilledMidRun => {
                    kills += 1;
                    continue;
                }
                ChildEnd::Exited(status) => assert!(status.success(), "child failed: {status}"),
            }
        } else {
            let status = child.wait().unwrap();
            assert!(status.success(), "child failed: {status}");
        }
        let done = (0..BATCHES).all(|n| state.path().join(format!("commit-{n}")).exists());
        if done {
            break;
        }
    }
    // Every kill counted landed between two of the child's commits, never before it
    // started or after it finished; the batches leave room for all of them.
    assert_eq!(kills, KILLS, "only {kills} kills landed mid-run");
    let seen = consume_committed(&b.bootstrap, &topic, 4);
    assert_exactly_once(&seen, (BATCHES * 100) as usize);
    eprintln!("exactly-once held across {kills} SIGKILLs");
}

#[test]
fn a_batch_retried_in_the_same_process_after_an_abort_lands_once() {
    let b = broker();
    let topic = unique_topic("eos-retry");
    b.create_topic(&topic, 2).unwrap();
    let query = unique_topic("retry-query");
    let sink = eos_sink(&b.bootstrap, &topic, &query);
    write_batch(&sink, 0, &batch_tasks(0));
    // Batch 1, task 0 writes and flushes, then the batch is aborted (another task failed).
    let mut w = micro_batch_writer(&sink, 1, 0, 2);
    w.write(&batch_tasks(1)[0]).unwrap();
    let msg = w.commit().unwrap();
    sink.abort(1, vec![msg]).unwrap();
    // The runtime retries batch 1 on the same sink.
    write_batch(&sink, 1, &batch_tasks(1));
    let seen = consume_committed(&b.bootstrap, &topic, 2);
    assert_exactly_once(&seen, 200);
}
