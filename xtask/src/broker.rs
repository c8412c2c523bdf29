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

/// Starts the local broker unless one runs; returns whether this call started it.
pub fn ensure_broker() -> Result<bool> {
    let bin = build_broker()?;
    let running = Command::new(&bin)
        .arg("status")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .context("running sstream-broker status")?
        .success();
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
