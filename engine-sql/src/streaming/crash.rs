//! Named crash points for the crash tests (`tests/crash.rs`).
//!
//! With `SSTREAM_CRASH_POINT=<name>:<n>` in the environment, the `n`-th time (1-based) the
//! process reaches [`crash_point`]`(name)` it writes `SSTREAM-CRASH-POINT <name>` to
//! stderr and stops there, so the test that started it can kill it with SIGKILL at exactly
//! that step (e.g. after the sink wrote its files but before it logged them). Without the
//! variable a crash point is one relaxed atomic load.

use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable that arms a crash point.
pub const CRASH_POINT_ENV: &str = "SSTREAM_CRASH_POINT";

/// The line a process writes to stderr when it stops at a crash point.
pub const CRASH_POINT_MARKER: &str = "SSTREAM-CRASH-POINT";

fn armed() -> Option<&'static (String, u64)> {
    static ARMED: OnceLock<Option<(String, u64)>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let v = std::env::var(CRASH_POINT_ENV).ok()?;
            let (name, n) = v.rsplit_once(':')?;
            Some((name.to_string(), n.parse().ok()?))
        })
        .as_ref()
}

/// Stops the process here if the crash tests armed this point (see the module docs).
pub fn crash_point(name: &str) {
    static HITS: AtomicU64 = AtomicU64::new(0);
    let Some((armed_name, n)) = armed() else {
        return;
    };
    if armed_name != name || HITS.fetch_add(1, Ordering::SeqCst) + 1 != *n {
        return;
    }
    let mut err = std::io::stderr();
    let _ = writeln!(err, "{CRASH_POINT_MARKER} {name}");
    let _ = err.flush();
    // Wait for the SIGKILL; should nobody send it, die anyway rather than go on.
    std::thread::sleep(std::time::Duration::from_secs(30));
    std::process::abort();
}
