//! Helpers every task uses: the workspace root, cargo, running commands.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The workspace root (xtask's parent directory).
pub fn workspace_root() -> Result<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .context("xtask must live one level below the workspace root")
}

/// The cargo that runs xtask (`$CARGO`), so toolchain overrides carry over.
pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Becomes `cmd` (Unix `exec`), so Ctrl-C and the exit code reach it and nothing of xtask
/// is left waiting; elsewhere runs it and exits with its code.
pub fn replace_process(mut cmd: Command) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let err = cmd.exec();
        Err(err).with_context(|| format!("starting {cmd:?}"))
    }
    #[cfg(not(unix))]
    {
        let status = cmd.status().with_context(|| format!("starting {cmd:?}"))?;
        std::process::exit(status.code().unwrap_or(1));
    }
}

/// Runs `cmd`, echoing it; a non-zero exit is an error.
pub fn run(mut cmd: Command) -> Result<()> {
    eprintln!("$ {cmd:?}");
    let status = cmd.status().with_context(|| format!("starting {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

/// The shared target directory (`$CARGO_TARGET_DIR` or `target`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// Installs the system packages the build needs (OpenSSL's headers for librdkafka's SSL and
/// SASL support) with apt when pkg-config cannot find them; does nothing when they are there.
pub fn ensure_system_packages() -> anyhow::Result<()> {
    let has_openssl = std::process::Command::new("pkg-config")
        .args(["--exists", "openssl"])
        .status()
        .is_ok_and(|s| s.success());
    if has_openssl {
        return Ok(());
    }
    eprintln!("installing libssl-dev and pkg-config (librdkafka is built with SSL)");
    let mut update = std::process::Command::new("apt-get");
    update.arg("update");
    run(update)?;
    let mut install = std::process::Command::new("apt-get");
    install.args(["install", "-y", "libssl-dev", "pkg-config"]);
    run(install)
}
