//! Fuzz targets on stable Rust: a proptest strategy (arbitrary bytes, text, or inputs built
//! from a grammar) fed to a property that must give a value or an error, never a panic and
//! never a hang.
//!
//! Each target runs a fixed number of cases with a fixed seed in `cargo test` (so CI stays
//! bounded and a failure reproduces), and for a time budget with fresh seeds under
//! `cargo xtask fuzz`, which sets [`SECONDS_ENV`]. A case that runs longer than the
//! target's time bound is reported with its input and aborts the test process, so a hang
//! fails instead of stalling the suite. A panic is shrunk by proptest to a small input,
//! printed for a regression test.

use std::cell::Cell;
use std::fmt::Debug;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

/// Seconds each target runs for when set (by `cargo xtask fuzz`); unset: the CI case count.
pub const SECONDS_ENV: &str = "SSTREAM_FUZZ_SECONDS";

/// A fuzz target.
#[derive(Debug, Clone)]
pub struct Target {
    name: &'static str,
    ci_cases: u32,
    case_limit: Duration,
}

impl Target {
    /// A target called `name` that runs `ci_cases` cases in CI, each within 10 seconds.
    pub fn new(name: &'static str, ci_cases: u32) -> Self {
        Target {
            name,
            ci_cases,
            case_limit: Duration::from_secs(10),
        }
    }

    /// How long one case may take before it counts as a hang.
    pub fn case_limit(mut self, limit: Duration) -> Self {
        self.case_limit = limit;
        self
    }

    /// Runs `property` on inputs from `strategy`; panics (failing the test) with the
    /// smallest failing input when a case panics or returns an error, and aborts the
    /// process when a case hangs. Prints how many cases ran and for how long.
    // Failing the calling test is this function's job.
    #[allow(clippy::panic)]
    pub fn run<S>(&self, strategy: S, property: impl Fn(S::Value) -> Result<(), TestCaseError>)
    where
        S: Strategy,
        S::Value: Debug,
    {
        let budget = std::env::var(SECONDS_ENV)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .map(Duration::from_secs);
        let watchdog = Watchdog::start(self.name, self.case_limit);
        let started = Instant::now();
        let mut cases = 0u64;
        let mut round = 0u64;
        loop {
            let (chunk, rng) = match budget {
                None => (
                    self.ci_cases,
                    TestRng::deterministic_rng(RngAlgorithm::ChaCha),
                ),
                Some(_) => (1000, TestRng::from_seed(RngAlgorithm::ChaCha, &seed(round))),
            };
            let config = Config {
                cases: chunk,
                failure_persistence: None,
                max_shrink_iters: 2000,
                ..Config::default()
            };
            let mut runner = TestRunner::new_with_rng(config, rng);
            let counted = Cell::new(0u64);
            let result = runner.run(&strategy, |input| {
                watchdog.begin(&input);
                let r = property(input);
                watchdog.end();
                counted.set(counted.get() + 1);
                r
            });
            watchdog.end();
            cases += counted.get();
            if let Err(e) = result {
                watchdog.stop();
                panic!(
                    "fuzz target {}: {e} (after {cases} cases; round {round})",
                    self.name
                );
            }
            round += 1;
            match budget {
                Some(b) if started.elapsed() < b => continue,
                _ => break,
            }
        }
        watchdog.stop();
        println!(
            "fuzz target {}: {cases} cases in {:.1} s, no panic, no hang",
            self.name,
            started.elapsed().as_secs_f64()
        );
    }
}

/// A fresh seed per round: the round number mixed with the clock.
fn seed(round: u64) -> [u8; 32] {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut s = [0u8; 32];
    for (i, b) in round
        .to_le_bytes()
        .iter()
        .chain(nanos.to_le_bytes().iter())
        .enumerate()
    {
        s[i] = *b;
    }
    s
}

/// Watches the running case from another thread; a case past the limit is printed and the
/// process aborted (the case's thread cannot be stopped from outside).
struct Watchdog {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct Shared {
    /// Milliseconds since `epoch` when the running case began; 0 when none runs.
    began_ms: AtomicU64,
    epoch: Instant,
    input: Mutex<String>,
    stop: AtomicBool,
}

impl Watchdog {
    fn start(name: &'static str, limit: Duration) -> Self {
        let shared = Arc::new(Shared {
            began_ms: AtomicU64::new(0),
            epoch: Instant::now(),
            input: Mutex::new(String::new()),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let thread = std::thread::spawn(move || {
            while !s.stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                let began = s.began_ms.load(Ordering::Relaxed);
                if began == 0 {
                    continue;
                }
                let now = u64::try_from(s.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
                if now.saturating_sub(began) > u64::try_from(limit.as_millis()).unwrap_or(0) {
                    let input = s.input.lock().map(|i| i.clone()).unwrap_or_default();
                    eprintln!(
                        "fuzz target {name}: a case ran longer than {limit:?} (a hang); input:\n{input}"
                    );
                    std::process::abort();
                }
            }
        });
        Watchdog {
            shared,
            thread: Some(thread),
        }
    }

    fn begin(&self, input: &dyn Debug) {
        if let Ok(mut i) = self.shared.input.lock() {
            i.clear();
            use std::fmt::Write;
            let _ = write!(i, "{input:?}");
        }
        let now = u64::try_from(self.shared.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.shared.began_ms.store(now.max(1), Ordering::Relaxed);
    }

    fn end(&self) {
        self.shared.began_ms.store(0, Ordering::Relaxed);
    }

    fn stop(&self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Text near `seeds`: a seed with a few random edits (a character inserted, replaced or
/// removed, a piece repeated), or arbitrary text, or arbitrary bytes read as UTF-8 (lossy),
/// so both the forms a parser knows and the garbage around them are covered.
pub fn mutated(seeds: &[&str]) -> impl Strategy<Value = String> + use<> {
    use proptest::prelude::*;
    let seeds: Vec<String> = seeds.iter().map(|s| s.to_string()).collect();
    let edit = (any::<usize>(), interesting_char(), 0u8..4, 1usize..4);
    let edited = (
        proptest::sample::select(seeds),
        proptest::collection::vec(edit, 0..4),
    )
        .prop_map(|(seed, edits)| {
            let mut chars: Vec<char> = seed.chars().collect();
            for (at, c, kind, n) in edits {
                let i = at % (chars.len() + 1);
                match kind {
                    0 => chars.insert(i, c),
                    1 if i < chars.len() => chars[i] = c,
                    2 if i < chars.len() => {
                        chars.remove(i);
                    }
                    _ => {
                        let end = (i + n).min(chars.len());
                        let piece: Vec<char> = chars[i..end].to_vec();
                        for (k, p) in piece.into_iter().enumerate() {
                            chars.insert(end + k, p);
                        }
                    }
                }
            }
            chars.into_iter().collect::<String>()
        });
    prop_oneof![
        6 => edited,
        1 => any::<String>(),
        1 => proptest::collection::vec(any::<u8>(), 0..64)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

/// Characters that tend to matter to parsers: digits, signs, separators, quotes, brackets,
/// white space and control characters, multi-byte letters, or any character at all.
pub fn interesting_char() -> impl Strategy<Value = char> {
    use proptest::prelude::*;
    prop_oneof![
        3 => proptest::sample::select(
            "0123456789+-:.,;TZ eE/\\'\"`{}[]()<>=*%_$#@!?\t\n\r\u{0}\u{7f}éü€😀\u{a0}\u{2028}"
                .chars()
                .collect::<Vec<_>>()
        ),
        1 => any::<char>(),
    ]
}
