//! `commits/N`: which batches finished (Spark's `CommitLog`).

use serde::{Deserialize, Serialize};

use super::{MetadataLog, check_version};
use crate::{EngineError, Result};

/// The content of `commits/N` (Spark's `CommitMetadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitMetadata {
    /// The watermark the next batch runs with, ms since the epoch.
    #[serde(default)]
    pub next_batch_watermark_ms: i64,
}

impl CommitMetadata {
    /// Spark's text form: `v1\n{"nextBatchWatermarkMs":0}`.
    ///
    /// ```
    /// use engine_core::checkpoint::CommitMetadata;
    /// let c = CommitMetadata { next_batch_watermark_ms: 7 };
    /// assert_eq!(c.serialize().unwrap(), "v1\n{\"nextBatchWatermarkMs\":7}");
    /// assert_eq!(CommitMetadata::deserialize("v1\n{\"nextBatchWatermarkMs\":7}").unwrap(), c);
    /// ```
    pub fn serialize(&self) -> Result<String> {
        let json = serde_json::to_string(self)
            .map_err(|e| EngineError::external("writing commit log", e))?;
        Ok(format!("v{}\n{json}", super::LOG_VERSION))
    }

    /// Parses Spark's text form (unknown fields of newer Spark versions are ignored).
    pub fn deserialize(text: &str) -> Result<CommitMetadata> {
        let rest = check_version(text, "commits")?;
        let line = rest.lines().next().unwrap_or("").trim();
        if line.is_empty() {
            return Ok(CommitMetadata::default());
        }
        serde_json::from_str(line).map_err(|e| EngineError::external("reading commit log", e))
    }
}

/// `<checkpoint>/commits`: [`CommitMetadata`] per finished batch id.
#[derive(Debug, Clone)]
pub struct CommitLog {
    log: MetadataLog,
}

impl CommitLog {
    /// The log in `dir` (normally `<checkpoint>/commits`).
    pub fn new(dir: impl Into<std::path::PathBuf>) -> Self {
        CommitLog {
            log: MetadataLog::new(dir),
        }
    }

    /// The underlying generic log.
    pub fn log(&self) -> &MetadataLog {
        &self.log
    }

    /// Writes `commits/<id>`; fails if it exists.
    pub fn add(&self, id: u64, meta: CommitMetadata) -> Result<()> {
        self.log.add(id, &meta.serialize()?)
    }

    /// Reads `commits/<id>`.
    pub fn get(&self, id: u64) -> Result<Option<CommitMetadata>> {
        self.log
            .get(id)?
            .map(|t| CommitMetadata::deserialize(&t))
            .transpose()
    }

    /// The highest committed batch id and its metadata.
    pub fn latest(&self) -> Result<Option<(u64, CommitMetadata)>> {
        match self.log.latest()? {
            Some((id, t)) => Ok(Some((id, CommitMetadata::deserialize(&t)?))),
            None => Ok(None),
        }
    }

    /// Deletes entries below `min_id_to_keep`.
    pub fn purge(&self, min_id_to_keep: u64) -> Result<()> {
        self.log.purge(min_id_to_keep)
    }
}
