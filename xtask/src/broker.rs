//! `cargo xtask broker ...`: the local Kafka broker (librdkafka's mock cluster in its own
//! process, `engine-kafka`'s `sstream-broker` binary).

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};

use crate::util::{cargo, run, target_dir};

/// Builds the `sstream-broker` binary (debug profile) and returns its path.
pub fn build_broker() -> Result<PathBuf> {
    let mut build = cargo();
    build.args([
        "build",
        "--quiet",
        "-p",
        "engine-kafka",
        "--bin",
        "sstream-broker",
    ]);
    run(build)?;
    Ok(target_dir().join("debug").join("sstream-broker"))
}

/// The broker's state file (`$SSTREAM_BROKER_DIR` or the temp dir's `sstream-broker/`).
fn broker_state_file() -> std::path::PathBuf {
    std::env::var_os("SSTREAM_BROKER_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("sstream-broker"))
        .join("broker.json")
}

/// Starts the local broker unless one runs; returns whether this call started it. A broker
/// started before its binary was last rebuilt is restarted, so tests never talk to an older
/// broker that lacks a newer control command.
pub fn ensure_broker() -> Result<bool> {
    let bin = build_broker()?;
    let mut running = Command::new(&bin)
        .arg("status")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .context("running sstream-broker status")?
        .success();
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if running
        && let (Some(built), Some(started)) = (modified(&bin), modified(&broker_state_file()))
        && built > started
    {
        eprintln!("the running broker predates its binary: restarting it");
        stop_broker()?;
        running = false;
    }
    if !running {
        let mut start = Command::new(&bin);
        start.arg("start");
        run(start)?;
    }
    Ok(!running)
}

pub fn stop_broker() -> Result<()> {
    let mut stop = Command::new(target_dir().join("debug").join("sstream-broker"));
    stop.arg("stop");
    run(stop)
}

/// `cargo xtask bench-kafka`: builds `engine-kafka`'s `kafka_bench` example (release) and runs it
/// against the local broker (started if needed).
pub fn bench_kafka(messages: u64, threads: usize) -> Result<()> {
    ensure_broker()?;
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "-p",
        "engine-kafka",
        "--example",
        "kafka_bench",
    ]);
    run(build)?;
    let status = Command::new(target_dir().join("debug").join("sstream-broker"))
        .arg("status")
        .output()
        .context("running sstream-broker status")?;
    let bootstrap = String::from_utf8_lossy(&status.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_string();
    let mut bench = Command::new(
        target_dir()
            .join("release")
            .join("examples")
            .join("kafka_bench"),
    );
    bench.args([bootstrap, messages.to_string(), threads.to_string()]);
    run(bench)
}
