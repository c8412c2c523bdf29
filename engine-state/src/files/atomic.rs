//! A file written in pieces that appears whole or not at all: temp file, fsync, rename,
//! directory fsync.
//!
//! `engine_core::checkpoint::write_atomic` does the same for bytes already in memory; state
//! files are streamed (a snapshot of millions of keys never sits in memory whole), so they
//! need a writer.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use engine_core::{EngineError, Result};

/// A hidden temp file next to its final path; removed on drop unless committed.
pub struct TempFile {
    file: Option<File>,
    tmp: PathBuf,
    path: PathBuf,
    written: u64,
}

impl TempFile {
    /// Creates the temp file for `path` (and `path`'s directory if missing).
    pub fn create(path: &Path) -> Result<TempFile> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir)
            .map_err(|e| EngineError::io(format!("creating {}", dir.display()), e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Hidden (leading dot) so listings of versions skip it; unique per process and call.
        let tmp = dir.join(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let file = File::create(&tmp)
            .map_err(|e| EngineError::io(format!("creating {}", tmp.display()), e))?;
        Ok(TempFile {
            file: Some(file),
            tmp,
            path: path.to_path_buf(),
            written: 0,
        })
    }

    /// Fsyncs, renames over the final path and fsyncs the directory; returns the size.
    pub fn commit(mut self) -> io::Result<u64> {
        let file = self
            .file
            .take()
            .ok_or_else(|| io::Error::other("already committed"))?;
        let moved = file.sync_all().and_then(|()| {
            drop(file);
            fs::rename(&self.tmp, &self.path)
        });
        if let Err(e) = moved {
            let _ = fs::remove_file(&self.tmp);
            return Err(e);
        }
        if let Some(dir) = self.path.parent() {
            // Makes the rename durable on Unix; elsewhere opening a directory may fail and
            // the rename is as durable as the platform makes it.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(self.written)
    }
}

impl Write for TempFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("write after commit"))?;
        let n = file.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}
