//! The data files a streaming query's file sink is writing but has not committed, journaled
//! so that a restart after a kill deletes those no committed batch lists.
//!
//! Spark leaves such files in the output directory: its own readers skip them through
//! `_spark_metadata`, but pandas, DuckDB, pyarrow or a Hive table over the folder read
//! them, and see those rows twice once the replayed batch writes them again. Data file
//! names are random (`part-00000-<uuid>-c000.json`), so which files a query wrote cannot be
//! told from the folder; instead, before a writer creates a data file it leaves a marker
//! under `<output>/_sstream_pending/<query id>/` (a directory every reader skips, as its name
//! starts with `_`) naming the file, and the marker goes once the batch is committed or the
//! file deleted. A new run of the query (which comes before any replayed batch writes)
//! deletes every marked file the sink's log does not list. Markers are per query, so a
//! restart never touches files of another query or of the user.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use engine_core::{EngineError, Result};

/// The directory of the journals, under the output directory.
pub const PENDING_DIR: &str = "_sstream_pending";

/// One query's journal of uncommitted data files.
#[derive(Debug, Clone)]
pub struct PendingFiles {
    /// `<output>/_sstream_pending/<query id>`.
    dir: PathBuf,
    /// The output directory (markers hold paths relative to it).
    out: PathBuf,
}

impl PendingFiles {
    /// The journal of query `query_id` writing to `out`.
    pub fn new(out: &Path, query_id: &str) -> Self {
        // A query id is a UUID; anything else is kept to one safe path component.
        let id: String = query_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        PendingFiles {
            dir: out.join(PENDING_DIR).join(id),
            out: out.to_path_buf(),
        }
    }

    /// The marker of data file `file`: its name is unique (it holds a UUID).
    fn marker(&self, file: &Path) -> Option<PathBuf> {
        file.file_name().map(|n| self.dir.join(n))
    }

    /// Records that `file` (under the output directory) is about to be created.
    pub fn begin(&self, file: &Path) -> Result<()> {
        let Some(marker) = self.marker(file) else {
            return Ok(());
        };
        let relative = file.strip_prefix(&self.out).unwrap_or(file);
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| EngineError::io(format!("creating {}", self.dir.display()), e))?;
        std::fs::write(&marker, relative.to_string_lossy().as_bytes())
            .map_err(|e| EngineError::io(format!("writing {}", marker.display()), e))
    }

    /// Forgets `files`: committed, or deleted.
    pub fn forget<'a>(&self, files: impl IntoIterator<Item = &'a Path>) {
        for f in files {
            if let Some(marker) = self.marker(f) {
                // A marker that is already gone is what we want.
                let _ = std::fs::remove_file(marker);
            }
        }
    }

    /// Deletes every journaled file that `committed` (absolute paths) does not hold, and
    /// forgets them all; returns how many files it deleted. Run before the query writes.
    pub fn clean(&self, committed: &HashSet<PathBuf>) -> Result<usize> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => {
                return Err(EngineError::io(
                    format!("listing {}", self.dir.display()),
                    e,
                ));
            }
        };
        let mut deleted = 0;
        for entry in entries {
            let marker = entry
                .map_err(|e| EngineError::io(format!("listing {}", self.dir.display()), e))?
                .path();
            // A marker cut short by the kill names no file; an unreadable one is skipped.
            if let Ok(relative) = std::fs::read_to_string(&marker)
                && !relative.is_empty()
            {
                let file = self.out.join(relative);
                if !committed.contains(&file) && std::fs::remove_file(&file).is_ok() {
                    deleted += 1;
                }
            }
            let _ = std::fs::remove_file(&marker);
        }
        Ok(deleted)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_restart_deletes_uncommitted_files_of_its_query_only() {
        let out = tempfile::tempdir().unwrap();
        let out = out.path();
        let file = |name: &str| out.join(name);
        let q = PendingFiles::new(out, "q-1");
        let other = PendingFiles::new(out, "q/2");
        for (journal, name) in [(&q, "a.json"), (&q, "b.json"), (&other, "c.json")] {
            journal.begin(&file(name)).unwrap();
            std::fs::write(file(name), "{}").unwrap();
        }
        // Marked, then killed before the file was created.
        q.begin(&file("never.json")).unwrap();
        std::fs::write(file("user.json"), "{}").unwrap();
        let committed: HashSet<PathBuf> = [file("a.json")].into_iter().collect();
        assert_eq!(q.clean(&committed).unwrap(), 1);
        assert!(file("a.json").exists() && !file("b.json").exists());
        assert!(file("c.json").exists() && file("user.json").exists());
        assert_eq!(
            q.clean(&committed).unwrap(),
            0,
            "the journal is empty after a clean"
        );
        // Forgotten files are never deleted.
        other.forget([file("c.json").as_path()]);
        assert_eq!(other.clean(&HashSet::new()).unwrap(), 0);
        assert!(file("c.json").exists());
    }
}
