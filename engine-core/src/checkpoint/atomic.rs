//! Crash-safe file writes: a reader sees the old file or the whole new one.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{EngineError, Result};

/// Writes `bytes` to `path` atomically: a hidden temp file in the same directory, fsync,
/// rename over `path`, fsync of the directory (so the rename itself survives a crash).
/// Creates missing parent directories. Replaces an existing file.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("wa-doc-{}", std::process::id()));
/// let p = dir.join("x");
/// engine_core::checkpoint::write_atomic(&p, b"hello").unwrap();
/// assert_eq!(std::fs::read(&p).unwrap(), b"hello");
/// std::fs::remove_dir_all(dir).unwrap();
/// ```
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = write_temp(path, bytes)?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        EngineError::io(
            format!("renaming {} to {}", tmp.display(), path.display()),
            e,
        )
    })?;
    sync_parent(path)
}

/// Like [`write_atomic`] but never replaces: returns `Ok(false)` (and writes nothing) when
/// `path` already exists. The check and the creation are one atomic step (a hard link of the
/// finished temp file), so two writers racing for the same batch id cannot both win.
pub fn create_atomic(path: &Path, bytes: &[u8]) -> Result<bool> {
    prepare_atomic(path, bytes)?.create()
}

/// The first half of [`create_atomic`]: writes and fsyncs the hidden temp file, leaving the
/// link to `path` (and the directory fsync) to [`PreparedFile::create`].
///
/// The split lets a caller make the slow part, the file's fsync, overlap other work, e.g.
/// a log entry whose own publication must wait until another entry is durable. Nothing is
/// visible under `path` until `create` runs; dropping the value removes the temp file.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("pa-doc-{}", std::process::id()));
/// let p = dir.join("0");
/// let prepared = engine_core::checkpoint::prepare_atomic(&p, b"hello").unwrap();
/// assert!(!p.exists());
/// assert!(prepared.create().unwrap());
/// assert_eq!(std::fs::read(&p).unwrap(), b"hello");
/// std::fs::remove_dir_all(dir).unwrap();
/// ```
pub fn prepare_atomic(path: &Path, bytes: &[u8]) -> Result<PreparedFile> {
    let tmp = write_temp(path, bytes)?;
    Ok(PreparedFile {
        tmp,
        path: path.to_path_buf(),
    })
}

/// A finished, fsynced temp file from [`prepare_atomic`], not yet under its final name.
#[derive(Debug)]
pub struct PreparedFile {
    tmp: PathBuf,
    path: PathBuf,
}

impl PreparedFile {
    /// The final name the file gets from [`PreparedFile::create`].
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Links the temp file to its final name unless that name exists (then `Ok(false)`,
    /// nothing changed), removes the temp name and fsyncs the directory, so the new entry
    /// survives a crash once this returns `Ok(true)`.
    pub fn create(mut self) -> Result<bool> {
        // Taken, so that the drop has nothing left to remove.
        let tmp = std::mem::take(&mut self.tmp);
        let linked = fs::hard_link(&tmp, &self.path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                sync_parent(&self.path)?;
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(EngineError::io(
                format!("creating {}", self.path.display()),
                e,
            )),
        }
    }
}

impl Drop for PreparedFile {
    fn drop(&mut self) {
        // Empty after `create`; otherwise an abandoned temp file (hidden, so log listings
        // skip it anyway) is cleaned up.
        if !self.tmp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Writes and fsyncs a uniquely named hidden temp file next to `path`.
///
/// `fdatasync`, not `fsync`: the data and what is needed to read it back (the size of the
/// new file) are made durable; the timestamps `fsync` would add are not needed by anyone.
/// The name comes later, with the link or rename and the directory's fsync.
fn write_temp(path: &Path, bytes: &[u8]) -> Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)
        .map_err(|e| EngineError::io(format!("creating {}", dir.display()), e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    // Hidden (leading dot) so log listings skip it, unique per process and call.
    let tmp = dir.join(format!(
        ".{name}.{}.{}.{nanos}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_data()
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        EngineError::io(format!("writing {}", tmp.display()), e)
    })?;
    Ok(tmp)
}

/// Fsyncs the directory holding `path` so a rename or link in it is durable.
fn sync_parent(path: &Path) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    // Opening a directory for fsync works on Unix; elsewhere it may fail, and the rename
    // is then as durable as the platform makes it.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "engine-core-atomic-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn replaces_and_leaves_no_temp_files() {
        let d = tmpdir("replace");
        let p = d.join("f");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(&d).unwrap().count(), 1);
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn a_dropped_prepared_file_leaves_nothing() {
        let d = tmpdir("dropped");
        let p = d.join("0");
        let prepared = prepare_atomic(&p, b"a").unwrap();
        assert_eq!(prepared.path(), p.as_path());
        assert_eq!(fs::read_dir(&d).unwrap().count(), 1);
        drop(prepared);
        assert_eq!(fs::read_dir(&d).unwrap().count(), 0);
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn create_never_replaces() {
        let d = tmpdir("create");
        let p = d.join("0");
        assert!(create_atomic(&p, b"a").unwrap());
        assert!(!create_atomic(&p, b"b").unwrap());
        assert_eq!(fs::read(&p).unwrap(), b"a");
        assert_eq!(fs::read_dir(&d).unwrap().count(), 1);
        fs::remove_dir_all(d).unwrap();
    }
}
