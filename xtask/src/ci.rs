//! `cargo xtask test`: exactly what CI runs.

use anyhow::Result;

use crate::broker::{ensure_broker, stop_broker};
use crate::util::{cargo, run};

/// Format check, the layering check, clippy with `-D warnings`, then every test with the
/// local broker running.
pub fn test() -> Result<()> {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    run(fmt)?;
    crate::depcheck::check(&crate::util::workspace_root()?)?;
    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    run(clippy)?;
    // engine-kafka's integration tests need the local broker; CI starts on a clean machine.
    let started_broker = ensure_broker()?;
    let result = run_tests();
    if started_broker {
        stop_broker()?;
    }
    result
}

fn run_tests() -> Result<()> {
    let mut tests = cargo();
    // Benches are compiled by clippy above; running them belongs to `cargo bench`.
    tests.args([
        "test",
        "--workspace",
        "--lib",
        "--bins",
        "--tests",
        "--examples",
    ]);
    run(tests)?;
    let mut doc_tests = cargo();
    doc_tests.args(["test", "--workspace", "--doc"]);
    run(doc_tests)
}
