//! Helpers shared by engine-cli's integration tests (`cli.rs`, `examples.rs`, `kafka.rs`,
//! `run.rs`), which drive the real `sstream` binary; each includes this file with
//! `mod common;`.

#![allow(dead_code)] // each test binary uses only some of these
#![allow(clippy::unwrap_used)] // helpers of tests: a failed unwrap is a failed test

use std::path::Path;
use std::process::{Command, Output};

use engine_kafka::testing::EmbeddedBroker;

/// The `sstream` binary built for these tests, with `TZ=UTC` so printed times do not depend
/// on the machine's zone.
pub fn sstream_command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sstream"));
    c.env("TZ", "UTC");
    c
}

/// Runs `sstream args...` to the end; the exit status is the caller's to check.
pub fn sstream(args: &[&str]) -> Output {
    sstream_command().args(args).output().unwrap()
}

/// Runs `sstream args...` and fails the test, showing its stderr, unless it succeeds.
pub fn sstream_ok(args: &[&str]) -> Output {
    let o = sstream(args);
    assert!(
        o.status.success(),
        "sstream {args:?} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// `sstream gen events`: `events` generated order events in `files` JSON files under `out`.
pub fn gen_events(out: &Path, events: u64, files: u64) {
    gen_events_with(out, events, files, &[]);
}

/// `sstream gen events` with `extra` options (`--events-per-second`, `--no-very-late`, ...).
pub fn gen_events_with(out: &Path, events: u64, files: u64, extra: &[&str]) {
    let (events, files) = (events.to_string(), files.to_string());
    let mut args = vec!["gen", "events", "--events", &events, "--files", &files];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--out", out.to_str().unwrap()]);
    sstream_ok(&args);
}

/// An embedded Kafka-protocol broker with one topic of `partitions` partitions, and its
/// bootstrap servers. Keep the broker alive while the test uses the topic.
pub fn broker_with_topic(topic: &str, partitions: i32) -> (EmbeddedBroker, String) {
    let broker = EmbeddedBroker::start().unwrap();
    let servers = broker.bootstrap_servers();
    broker.create_topic(topic, partitions).unwrap();
    (broker, servers)
}
