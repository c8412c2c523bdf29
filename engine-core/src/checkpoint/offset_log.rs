//! `offsets/N`: the write-ahead log of what each batch reads (Spark's `OffsetSeqLog`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{MetadataLog, PreparedEntry, check_version};
use crate::connector::Offset;
use crate::{EngineError, Result};

/// Batch metadata logged with the offsets (Spark's `OffsetSeqMetadata`): the watermark the
/// batch runs with, its timestamp (what `current_timestamp()` returns in it) and the conf
/// values that must not change across restarts (`spark.sql.shuffle.partitions`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OffsetSeqMetadata {
    /// The event-time watermark of the batch, ms since the epoch (0 before any).
    #[serde(default)]
    pub batch_watermark_ms: i64,
    /// When the batch was planned, ms since the epoch.
    #[serde(default)]
    pub batch_timestamp_ms: i64,
    /// Session conf pinned by the checkpoint.
    #[serde(default)]
    pub conf: BTreeMap<String, String>,
}

/// The content of `offsets/N`: one entry per source, in the order the query's sources
/// appear in the plan; `None` (Spark's `-`) for a source that has no offset yet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OffsetSeq {
    /// End offsets of the batch, per source.
    pub offsets: Vec<Option<Offset>>,
    /// The batch metadata.
    pub metadata: OffsetSeqMetadata,
}

impl OffsetSeq {
    /// Spark's text form: `v1`, the metadata JSON, then one line per source, no trailing
    /// newline.
    ///
    /// ```
    /// use engine_core::checkpoint::{OffsetSeq, OffsetSeqMetadata};
    /// use engine_core::connector::Offset;
    /// let seq = OffsetSeq {
    ///     offsets: vec![Some(Offset::new("{\"logOffset\":3}")), None],
    ///     metadata: OffsetSeqMetadata { batch_watermark_ms: 0, batch_timestamp_ms: 5, ..Default::default() },
    /// };
    /// let text = seq.serialize().unwrap();
    /// assert_eq!(text, "v1\n{\"batchWatermarkMs\":0,\"batchTimestampMs\":5,\"conf\":{}}\n{\"logOffset\":3}\n-");
    /// assert_eq!(OffsetSeq::deserialize(&text).unwrap(), seq);
    /// ```
    pub fn serialize(&self) -> Result<String> {
        let mut out = format!("v{}\n", super::LOG_VERSION);
        out.push_str(
            &serde_json::to_string(&self.metadata)
                .map_err(|e| EngineError::external("writing offset log metadata", e))?,
        );
        for o in &self.offsets {
            out.push('\n');
            match o {
                Some(o) => out.push_str(o.json()),
                None => out.push('-'),
            }
        }
        Ok(out)
    }

    /// Parses Spark's text form (also Spark's own files).
    pub fn deserialize(text: &str) -> Result<OffsetSeq> {
        let rest = check_version(text, "offsets")?;
        let mut lines = rest.lines();
        let meta_line = lines.next().unwrap_or("").trim();
        let metadata = if meta_line.is_empty() {
            OffsetSeqMetadata::default()
        } else {
            serde_json::from_str(meta_line)
                .map_err(|e| EngineError::external("reading offset log metadata", e))?
        };
        let offsets = lines
            .map(|l| {
                let l = l.trim();
                if l == "-" || l.is_empty() {
                    None
                } else {
                    Some(Offset::new(l))
                }
            })
            .collect();
        Ok(OffsetSeq { offsets, metadata })
    }
}

/// `<checkpoint>/offsets`: [`OffsetSeq`] per batch id.
#[derive(Debug, Clone)]
pub struct OffsetSeqLog {
    log: MetadataLog,
}

impl OffsetSeqLog {
    /// The log in `dir` (normally `<checkpoint>/offsets`).
    pub fn new(dir: impl Into<std::path::PathBuf>) -> Self {
        OffsetSeqLog {
            log: MetadataLog::new(dir),
        }
    }

    /// The underlying generic log.
    pub fn log(&self) -> &MetadataLog {
        &self.log
    }

    /// Writes `offsets/<id>`; fails if it exists.
    pub fn add(&self, id: u64, seq: &OffsetSeq) -> Result<()> {
        self.log.add(id, &seq.serialize()?)
    }

    /// Writes and fsyncs `offsets/<id>` under a temp name; [`PreparedEntry::add`] puts it
    /// in the log (see [`MetadataLog::prepare`]).
    pub fn prepare(&self, id: u64, seq: &OffsetSeq) -> Result<PreparedEntry> {
        self.log.prepare(id, &seq.serialize()?)
    }

    /// Reads `offsets/<id>`.
    pub fn get(&self, id: u64) -> Result<Option<OffsetSeq>> {
        self.log
            .get(id)?
            .map(|t| OffsetSeq::deserialize(&t))
            .transpose()
    }

    /// The highest batch id and its offsets.
    pub fn latest(&self) -> Result<Option<(u64, OffsetSeq)>> {
        match self.log.latest()? {
            Some((id, t)) => Ok(Some((id, OffsetSeq::deserialize(&t)?))),
            None => Ok(None),
        }
    }

    /// Deletes entries below `min_id_to_keep`.
    pub fn purge(&self, min_id_to_keep: u64) -> Result<()> {
        self.log.purge(min_id_to_keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_spark_written_offsets() {
        let spark = "v1\n{\"batchWatermarkMs\":0,\"batchTimestampMs\":1502872590006,\"conf\":{\"spark.sql.shuffle.partitions\":\"200\"}}\n51";
        let seq = OffsetSeq::deserialize(spark).unwrap();
        assert_eq!(seq.offsets, vec![Some(Offset::new("51"))]);
        assert_eq!(seq.metadata.batch_timestamp_ms, 1502872590006);
        assert_eq!(seq.metadata.conf["spark.sql.shuffle.partitions"], "200");
        assert_eq!(seq.serialize().unwrap(), spark);
    }

    #[test]
    fn newer_versions_are_refused() {
        let e = OffsetSeq::deserialize("v2\n{}\n1").unwrap_err();
        assert!(
            e.to_string()
                .contains("maximum supported log version is v1"),
            "{e}"
        );
    }
}
