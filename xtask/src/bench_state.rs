//! `cargo xtask bench-state`: the state store load test. For each provider, 10M distinct keys
//! written in batches of 100k with a commit per batch, then the last version reloaded from the
//! checkpoint in a new process; each phase reports its time and its process's peak RSS.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::util::{cargo, run, target_dir};

/// Runs the load test for `providers` and prints a Markdown table.
pub fn bench_state(keys: u64, batch: u64, providers: &[String], dir: &Path) -> Result<()> {
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "-p",
        "engine-state",
        "--example",
        "state_load",
    ]);
    run(build)?;
    let bin = target_dir()
        .join("release")
        .join("examples")
        .join("state_load");
    println!(
        "| provider | phase | keys | seconds | updates/s | commit ms (median / max) | peak RSS MB | checkpoint MB |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for provider in providers {
        let ckpt = dir.join(provider);
        if ckpt.exists() {
            std::fs::remove_dir_all(&ckpt)
                .with_context(|| format!("clearing {}", ckpt.display()))?;
        }
        for phase in ["write", "reload"] {
            let mut cmd = Command::new(&bin);
            cmd.args([phase, "--provider", provider, "--keys"])
                .arg(keys.to_string())
                .arg("--batch")
                .arg(batch.to_string())
                .arg("--dir")
                .arg(&ckpt);
            eprintln!("$ {cmd:?}");
            let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
            if !out.status.success() {
                bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
            }
            let text = String::from_utf8_lossy(&out.stdout);
            let line = text
                .lines()
                .find(|l| l.starts_with("RESULT "))
                .context("no RESULT line")?;
            eprintln!("{line}");
            let field = |name: &str| {
                line.split_whitespace()
                    .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                    .unwrap_or("-")
                    .to_string()
            };
            let mb = |name: &str| {
                field(name)
                    .parse::<f64>()
                    .map_or("-".to_string(), |b| format!("{:.0}", b / 1e6))
            };
            println!(
                "| {provider} | {phase} | {keys} | {} | {} | {} / {} | {} | {} |",
                field("seconds"),
                field("updates_per_sec"),
                field("commit_ms_median"),
                field("commit_ms_max"),
                field("peak_rss_mb"),
                mb("checkpoint_bytes"),
            );
        }
        std::fs::remove_dir_all(&ckpt).ok();
    }
    Ok(())
}
