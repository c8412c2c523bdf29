//! The 10M-key load test `cargo xtask bench-state` runs, one phase per process:
//!
//! ```text
//! state_load write  --provider disk --dir /tmp/ckpt --keys 10000000 --batch 100000
//! state_load reload --provider disk --dir /tmp/ckpt --keys 10000000 --batch 100000
//! ```
//!
//! `--track-rows false` sets Spark's `rocksdb.trackTotalNumberOfRows=false` for the disk
//! provider. `write` puts `keys` distinct keys (24 bytes) with 32-byte values in batches of `batch`,
//! one commit per batch, then runs maintenance once (a snapshot, as the maintenance thread
//! would). `reload` opens the last version in a new process. Each prints one `RESULT` line with
//! the phase's wall time, rate and the process's peak RSS (`VmHWM`); `write` also gives the CPU
//! seconds of the batches (all threads, the LSM's background work included) and of the
//! maintenance run, from `/proc/self/stat`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a load test that fails just stops

use std::time::Instant;

use engine_state::conf::StateStoreConf;
use engine_state::{ProviderKind, StateStoreId, StateStores};

fn key(i: u64) -> [u8; 24] {
    // A bijective mix spreads consecutive ids over the key space, as hashed keys are.
    let mixed = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut k = [0u8; 24];
    k[..8].copy_from_slice(b"tenant01");
    k[8..16].copy_from_slice(&mixed.to_be_bytes());
    k[16..].copy_from_slice(&i.to_be_bytes());
    k
}

fn value(i: u64) -> [u8; 32] {
    let mut v = [0u8; 32];
    v[..8].copy_from_slice(&1u64.to_le_bytes());
    v[8..16].copy_from_slice(&(i % 1000).to_le_bytes());
    v[16..].copy_from_slice(&key(i)[8..24]);
    v
}

fn peak_rss_mb() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or("n/a".into(), |kb| format!("{:.0}", kb / 1024.0))
}

/// CPU seconds (user + system, every thread) of this process so far, from `/proc/self/stat`
/// (fields 14 and 15, in USER_HZ = 100 ticks per second).
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // The command name (field 2) may hold spaces: count fields after its `)`.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(f64::NAN)
}

/// Bytes this process has passed to `write` and `read` calls so far (`wchar`, `rchar` in
/// `/proc/self/io`): the LSM's flushes and compactions are most of them.
fn io_chars() -> (u64, u64) {
    let io = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    let field = |name: &str| {
        io.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    (field("wchar:"), field("rchar:"))
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .map(|e| {
                let p = e.path();
                if p.is_dir() {
                    dir_bytes(&p)
                } else {
                    e.metadata().map_or(0, |m| m.len())
                }
            })
            .sum()
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let phase = args.get(1).cloned().unwrap_or_default();
    let provider = ProviderKind::parse(&arg("--provider").unwrap_or("disk".into())).unwrap();
    let dir = std::path::PathBuf::from(arg("--dir").expect("--dir"));
    let keys: u64 = arg("--keys").map_or(10_000_000, |v| v.parse().unwrap());
    let batch: u64 = arg("--batch").map_or(100_000, |v| v.parse().unwrap());
    let batches = keys.div_ceil(batch);
    let local = dir.join("local");
    std::fs::create_dir_all(&local).unwrap();
    let mut conf = StateStoreConf {
        provider,
        local_dir: local,
        // No maintenance thread: `write` runs maintenance once itself, after the batches. (On
        // a loaded machine a run outlasts the 60 s interval, and a snapshot in the middle
        // of the batches would be counted with them.)
        maintenance_interval_ms: 0,
        ..StateStoreConf::default()
    };
    // `--track-rows false`: Spark's rocksdb.trackTotalNumberOfRows=false.
    conf.disk.track_total_rows = arg("--track-rows").is_none_or(|v| v != "false");
    let stores = StateStores::new(conf).unwrap();
    let id = StateStoreId::new(dir.join("state"), 0, 0);
    let name = format!("{provider:?}").to_lowercase();
    match phase.as_str() {
        "write" => {
            let start = Instant::now();
            let cpu0 = cpu_seconds();
            let mut commit_ms = Vec::new();
            for b in 0..batches {
                let mut s = stores.get_store(&id, b).unwrap();
                for i in b * batch..((b + 1) * batch).min(keys) {
                    s.put(&key(i), &value(i)).unwrap();
                }
                let c = Instant::now();
                s.commit().unwrap();
                commit_ms.push(c.elapsed().as_secs_f64() * 1000.0);
            }
            let secs = start.elapsed().as_secs_f64();
            let cpu1 = cpu_seconds();
            // The LSM's background compactions may still be paying for the batches' writes:
            // wait until the process is idle (under 5% of a core for a second, at most a
            // minute) and count that work with the batches too.
            let settle = Instant::now();
            let mut last = cpu1;
            let mut idle_ticks = 0;
            while idle_ticks < 4 && settle.elapsed().as_secs() < 60 {
                std::thread::sleep(std::time::Duration::from_millis(250));
                let now = cpu_seconds();
                idle_ticks = if now - last < 0.0125 {
                    idle_ticks + 1
                } else {
                    0
                };
                last = now;
            }
            let cpu_settled = cpu_seconds();
            let m = Instant::now();
            stores.run_maintenance().unwrap();
            let maintenance = m.elapsed().as_secs_f64();
            let cpu2 = cpu_seconds();
            let settled = cpu_settled - cpu0;
            let (wchar, rchar) = io_chars();
            commit_ms.sort_by(f64::total_cmp);
            println!(
                "RESULT phase=write provider={name} keys={keys} batches={batches} seconds={secs:.2} \
                 updates_per_sec={:.0} commit_ms_median={:.1} commit_ms_max={:.1} \
                 maintenance_seconds={maintenance:.2} write_cpu_seconds={:.2} \
                 updates_per_cpu_sec={:.0} settled_cpu_seconds={settled:.2} \
                 updates_per_settled_cpu_sec={:.0} maintenance_cpu_seconds={:.2} checkpoint_bytes={} \
                 written_bytes={wchar} read_bytes={rchar} peak_rss_mb={}",
                keys as f64 / secs,
                commit_ms[commit_ms.len() / 2],
                commit_ms[commit_ms.len() - 1],
                cpu1 - cpu0,
                keys as f64 / (cpu1 - cpu0),
                keys as f64 / settled,
                cpu2 - cpu_settled,
                dir_bytes(&dir.join("state")),
                peak_rss_mb()
            );
        }
        "reload" => {
            let start = Instant::now();
            let s = stores.get_read_store(&id, batches).unwrap();
            let secs = start.elapsed().as_secs_f64();
            // A bulk reload counts the rows even when the writer did not.
            assert_eq!(s.num_rows().unwrap(), keys);
            for i in [0, keys / 2, keys - 1] {
                assert_eq!(s.get(&key(i)).unwrap().as_deref(), Some(&value(i)[..]));
            }
            println!(
                "RESULT phase=reload provider={name} keys={keys} seconds={secs:.2} peak_rss_mb={}",
                peak_rss_mb()
            );
        }
        other => {
            eprintln!(
                "usage: state_load write|reload --provider P --dir D [--keys N] [--batch B] (got `{other}`)"
            );
            std::process::exit(2);
        }
    }
}
