//! Runs a command and measures its whole process tree from `/proc`: peak resident memory
//! (summed over the tree at each sample) and CPU seconds (user + system of every process
//! seen). PySpark's work happens in a JVM its Python process starts, so measuring the first
//! process alone would miss almost all of it.

use std::collections::HashMap;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// What a measured run used.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// Wall seconds from spawn to exit.
    pub wall_s: f64,
    /// User + system CPU seconds of every process of the tree (sampled every 50 ms, so a
    /// process that lives less than that may be missed).
    pub cpu_s: f64,
    /// The largest sum of the tree's resident set sizes seen, MiB.
    pub peak_rss_mib: f64,
}

/// `(ppid, utime + stime ticks)` of a process, from `/proc/<pid>/stat`.
fn stat(pid: u32) -> Option<(u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after it are fixed.
    let rest = text.get(text.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ppid = f.get(1)?.parse().ok()?;
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some((ppid, utime + stime))
}

/// Resident set size of a process in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The root and all its descendants alive now, with their CPU ticks.
fn tree(root: u32) -> Vec<(u32, u64)> {
    let mut procs: Vec<(u32, u32, u64)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            if let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok())
                && let Some((ppid, ticks)) = stat(pid)
            {
                procs.push((pid, ppid, ticks));
            }
        }
    }
    let mut members = vec![root];
    let mut grew = true;
    while grew {
        grew = false;
        for (pid, ppid, _) in &procs {
            if members.contains(ppid) && !members.contains(pid) {
                members.push(*pid);
                grew = true;
            }
        }
    }
    procs
        .into_iter()
        .filter(|(pid, _, _)| members.contains(pid))
        .map(|(pid, _, t)| (pid, t))
        .collect()
}

/// Runs `cmd` to completion (stdout captured, stderr captured) and measures it.
pub fn run_measured(cmd: &mut Command) -> Result<(Output, Usage)> {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {cmd:?}"))?;
    let root = child.id();
    // Drain the pipes on threads so a chatty child never blocks on a full pipe.
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let out_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = std::io::Read::read_to_end(p, &mut v);
        }
        v
    });
    let err_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(p) = err_pipe.as_mut() {
            let _ = std::io::Read::read_to_end(p, &mut v);
        }
        v
    });
    let ticks_per_s = 100.0; // USER_HZ on Linux
    let mut ticks: HashMap<u32, u64> = HashMap::new();
    let mut peak_kib = 0u64;
    let status = loop {
        let members = tree(root);
        let rss: u64 = members.iter().map(|(pid, _)| rss_kib(*pid)).sum();
        peak_kib = peak_kib.max(rss);
        for (pid, t) in members {
            ticks.insert(pid, t);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let wall_s = start.elapsed().as_secs_f64();
    let stdout = out_thread.join().unwrap_or_default();
    let stderr = err_thread.join().unwrap_or_default();
    let usage = Usage {
        wall_s,
        cpu_s: ticks.values().sum::<u64>() as f64 / ticks_per_s,
        peak_rss_mib: peak_kib as f64 / 1024.0,
    };
    Ok((
        Output {
            status,
            stdout,
            stderr,
        },
        usage,
    ))
}
