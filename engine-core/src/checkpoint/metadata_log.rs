//! Spark's `HDFSMetadataLog`: a directory of files named by batch id.

use std::fs;
use std::path::{Path, PathBuf};

use super::atomic::{PreparedFile, prepare_atomic};
use crate::{EngineError, Result};

/// A write-once log of text entries keyed by batch id: `<dir>/<id>`. Entries are added
/// atomically and never overwritten; old ones are purged.
#[derive(Debug, Clone)]
pub struct MetadataLog {
    dir: PathBuf,
}

impl MetadataLog {
    /// The log in `dir` (created when the first entry is added).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        MetadataLog { dir: dir.into() }
    }

    /// The directory of this log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of entry `id`.
    pub fn path_of(&self, id: u64) -> PathBuf {
        self.dir.join(id.to_string())
    }

    /// Adds entry `id`. Fails if it already exists: an entry is written once, and a second
    /// writer for the same id means two queries share one checkpoint.
    pub fn add(&self, id: u64, text: &str) -> Result<()> {
        self.prepare(id, text)?.add()
    }

    /// The first half of [`MetadataLog::add`]: entry `id` written and fsynced under a hidden
    /// temp name, added to the log by [`PreparedEntry::add`]. Lets the fsync overlap other
    /// work while the entry must not be visible yet.
    pub fn prepare(&self, id: u64, text: &str) -> Result<PreparedEntry> {
        Ok(PreparedEntry {
            file: prepare_atomic(&self.path_of(id), text.as_bytes())?,
            id,
            dir: self.dir.clone(),
        })
    }

    /// The text of entry `id`, if present.
    pub fn get(&self, id: u64) -> Result<Option<String>> {
        let p = self.path_of(id);
        match fs::read_to_string(&p) {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(EngineError::io(format!("reading {}", p.display()), e)),
        }
    }

    /// The ids present, ascending. Files whose name is not a number (temp files, `.crc`
    /// files Spark's Hadoop file system leaves) are ignored, as Spark does.
    pub fn ids(&self) -> Result<Vec<u64>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => {
                return Err(EngineError::io(
                    format!("listing {}", self.dir.display()),
                    e,
                ));
            }
        };
        let mut ids = Vec::new();
        for entry in entries {
            let entry =
                entry.map_err(|e| EngineError::io(format!("listing {}", self.dir.display()), e))?;
            if let Some(id) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u64>().ok())
            {
                ids.push(id);
            }
        }
        ids.sort_unstable();
        Ok(ids)
    }

    /// The entry with the highest id.
    pub fn latest(&self) -> Result<Option<(u64, String)>> {
        for id in self.ids()?.into_iter().rev() {
            if let Some(text) = self.get(id)? {
                return Ok(Some((id, text)));
            }
        }
        Ok(None)
    }

    /// Deletes every entry with an id below `min_id_to_keep` (Spark's `purge(thresholdBatchId)`).
    pub fn purge(&self, min_id_to_keep: u64) -> Result<()> {
        for id in self.ids()? {
            if id >= min_id_to_keep {
                break;
            }
            let p = self.path_of(id);
            match fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(EngineError::io(format!("deleting {}", p.display()), e)),
            }
        }
        Ok(())
    }
}

/// A log entry written and fsynced but not yet in the log (see [`MetadataLog::prepare`]);
/// dropping it discards it.
#[derive(Debug)]
pub struct PreparedEntry {
    file: PreparedFile,
    id: u64,
    dir: PathBuf,
}

impl PreparedEntry {
    /// Puts the entry into the log (durably, once this returns). Fails if the log already
    /// has an entry with this id: a second writer for the same id means two queries share
    /// one checkpoint.
    pub fn add(self) -> Result<()> {
        let PreparedEntry { file, id, dir } = self;
        if file.create()? {
            Ok(())
        } else {
            Err(EngineError::execution(
                "CONCURRENT_STREAM_LOG_UPDATE",
                format!(
                    "Concurrent update to the log. Multiple streaming jobs detected for {id}. Please make sure only one streaming query with a specific checkpoint location runs at a time. (log: {})",
                    dir.display()
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_get_latest_purge() {
        let d = std::env::temp_dir().join(format!("engine-core-mlog-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        let log = MetadataLog::new(&d);
        assert_eq!(log.latest().unwrap(), None);
        for i in 0..5 {
            log.add(i, &format!("e{i}")).unwrap();
        }
        assert!(log.add(3, "again").is_err());
        let early = log.prepare(5, "e5").unwrap();
        let twice = log.prepare(5, "other").unwrap();
        assert_eq!(
            log.get(5).unwrap(),
            None,
            "a prepared entry is not in the log yet"
        );
        early.add().unwrap();
        let e = twice.add().unwrap_err().to_string();
        assert!(e.contains("CONCURRENT_STREAM_LOG_UPDATE"), "{e}");
        assert_eq!(log.get(5).unwrap().as_deref(), Some("e5"));
        fs::write(d.join(".3.tmp"), "junk").unwrap();
        assert_eq!(log.get(3).unwrap().as_deref(), Some("e3"));
        assert_eq!(log.latest().unwrap(), Some((5, "e5".to_string())));
        log.purge(3).unwrap();
        assert_eq!(log.ids().unwrap(), vec![3, 4, 5]);
        assert_eq!(log.get(1).unwrap(), None);
        fs::remove_dir_all(d).unwrap();
    }
}
