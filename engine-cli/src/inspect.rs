//! `sstream checkpoint inspect`: what a streaming checkpoint says, in words. Spark has no such
//! tool; operators otherwise read `offsets/N` and `commits/N` by hand.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use engine_core::checkpoint::{CommitLog, OffsetSeqLog, StreamMetadata};
use engine_state::inspect::{OperatorSummary, summarize};
use serde::Serialize;

/// Everything `inspect` found in a checkpoint directory.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointReport {
    /// The checkpoint directory.
    pub location: PathBuf,
    /// The query id from `metadata` (stable across restarts).
    pub id: Option<String>,
    /// Batches found in `offsets/`, oldest first (older ones may have been purged).
    pub batches: Vec<BatchReport>,
    /// The next batch a restart will run: the first uncommitted one, or the one after the
    /// last commit.
    pub next_batch: u64,
    /// Source-private logs under `sources/`.
    pub sources: Vec<DirReport>,
    /// State operators under `state/` (one entry per operator).
    pub state: Vec<OperatorSummary>,
}

/// One batch: its offsets, watermark, and whether it committed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchReport {
    /// The batch id.
    pub batch_id: u64,
    /// True when `commits/N` exists.
    pub committed: bool,
    /// The watermark the batch ran with, ms since the epoch.
    pub watermark_ms: i64,
    /// When the batch was planned, ms since the epoch.
    pub timestamp_ms: i64,
    /// End offset per source (`None`: no offset yet).
    pub offsets: Vec<Option<String>>,
}

/// A directory's file count and total size.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DirReport {
    /// Path relative to the checkpoint.
    pub name: String,
    /// Files below it, recursively.
    pub files: u64,
    /// Their total size in bytes.
    pub bytes: u64,
}

/// Reads the checkpoint at `dir`.
pub fn inspect(dir: &Path) -> Result<CheckpointReport> {
    if !dir.is_dir() {
        bail!(
            "{}: no such checkpoint directory (give the query's checkpointLocation)",
            dir.display()
        );
    }
    let id = StreamMetadata::read(&dir.join("metadata"))
        .with_context(|| format!("reading {}", dir.join("metadata").display()))?
        .map(|m| m.id);
    let offsets = OffsetSeqLog::new(dir.join("offsets"));
    let commits = CommitLog::new(dir.join("commits"));
    let committed: Vec<u64> = commits.log().ids()?;
    let mut batches = Vec::new();
    for batch_id in offsets.log().ids()? {
        let Some(seq) = offsets.get(batch_id)? else {
            continue;
        };
        batches.push(BatchReport {
            batch_id,
            committed: committed.contains(&batch_id),
            watermark_ms: seq.metadata.batch_watermark_ms,
            timestamp_ms: seq.metadata.batch_timestamp_ms,
            offsets: seq
                .offsets
                .iter()
                .map(|o| o.as_ref().map(|o| o.json().to_string()))
                .collect(),
        });
    }
    let next_batch = match (batches.iter().find(|b| !b.committed), committed.last()) {
        (Some(b), _) => b.batch_id,
        (None, Some(last)) => last + 1,
        (None, None) => 0,
    };
    if id.is_none() && batches.is_empty() {
        bail!(
            "{}: not a streaming checkpoint (no `metadata` file and no `offsets/` log)",
            dir.display()
        );
    }
    Ok(CheckpointReport {
        location: dir.to_path_buf(),
        id,
        batches,
        next_batch,
        sources: subdirs(dir, "sources")?,
        state: summarize(&dir.join("state"))?,
    })
}

fn subdirs(dir: &Path, name: &str) -> Result<Vec<DirReport>> {
    let root = dir.join(name);
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&root) else {
        return Ok(out);
    };
    let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if e.path().is_dir() {
            let (files, bytes) = walk(&e.path())?;
            out.push(DirReport {
                name: format!("{name}/{}", e.file_name().to_string_lossy()),
                files,
                bytes,
            });
        }
    }
    Ok(out)
}

fn walk(dir: &Path) -> Result<(u64, u64)> {
    let mut total = (0, 0);
    for e in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let e = e?;
        let meta = e.metadata()?;
        if meta.is_dir() {
            let (f, b) = walk(&e.path())?;
            total = (total.0 + f, total.1 + b);
        } else {
            total = (total.0 + 1, total.1 + meta.len());
        }
    }
    Ok(total)
}

impl fmt::Display for CheckpointReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "checkpoint  {}", self.location.display())?;
        writeln!(
            f,
            "query id    {}",
            self.id.as_deref().unwrap_or("(no metadata)")
        )?;
        let committed = self.batches.iter().filter(|b| b.committed).count();
        let pending: Vec<u64> = self
            .batches
            .iter()
            .filter(|b| !b.committed)
            .map(|b| b.batch_id)
            .collect();
        writeln!(
            f,
            "batches     {} logged, {committed} committed, pending: {}",
            self.batches.len(),
            if pending.is_empty() {
                "none".to_string()
            } else {
                format!("{pending:?} (a restart replays them with the logged offsets)")
            }
        )?;
        writeln!(f, "next batch  {}", self.next_batch)?;
        for b in &self.batches {
            writeln!(
                f,
                "  batch {:>6}  {:<9}  watermark {}  planned {}",
                b.batch_id,
                if b.committed { "committed" } else { "PENDING" },
                millis_text(b.watermark_ms),
                millis_text(b.timestamp_ms)
            )?;
            for (i, o) in b.offsets.iter().enumerate() {
                writeln!(f, "      source {i}: {}", o.as_deref().unwrap_or("-"))?;
            }
        }
        if self.sources.is_empty() {
            writeln!(f, "sources     none")?;
        }
        for d in &self.sources {
            writeln!(
                f,
                "sources     {}: {} files, {} bytes",
                d.name, d.files, d.bytes
            )?;
        }
        if self.state.is_empty() {
            writeln!(f, "state       none")?;
        }
        for op in &self.state {
            let versions = match op.min_version {
                Some(min) => format!("versions {min}..={}", op.max_version),
                None => "no versions".to_string(),
            };
            writeln!(
                f,
                "state       operator {} ({}): {} partitions, stores {}, {versions}, {} rows, {} files, {} bytes",
                op.operator_id,
                op.operator_name.as_deref().unwrap_or("no metadata"),
                op.partitions,
                op.stores.join(", "),
                op.rows,
                op.files,
                op.bytes
            )?;
        }
        Ok(())
    }
}

/// Milliseconds since the epoch as UTC text; 0 (Spark's "no watermark yet") stays `0`.
fn millis_text(ms: i64) -> String {
    if ms == 0 {
        return "0".into();
    }
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine_core::checkpoint::{CommitMetadata, OffsetSeq, OffsetSeqMetadata};
    use engine_core::connector::Offset;

    #[test]
    fn reports_committed_and_pending_batches() {
        let dir = tempfile::tempdir().unwrap();
        StreamMetadata { id: "q-1".into() }
            .write(&dir.path().join("metadata"))
            .unwrap();
        let offsets = OffsetSeqLog::new(dir.path().join("offsets"));
        for id in 0..3 {
            offsets
                .add(
                    id,
                    &OffsetSeq {
                        offsets: vec![Some(Offset::new(format!("{{\"logOffset\":{id}}}")))],
                        metadata: OffsetSeqMetadata {
                            batch_watermark_ms: 1_767_225_600_000,
                            ..Default::default()
                        },
                    },
                )
                .unwrap();
        }
        let commits = CommitLog::new(dir.path().join("commits"));
        for id in 0..2 {
            commits.add(id, CommitMetadata::default()).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("sources/0")).unwrap();
        std::fs::write(dir.path().join("sources/0/0"), "v1\n").unwrap();
        let stores = engine_state::StateStores::new(engine_state::StateStoreConf {
            maintenance_interval_ms: 0,
            ..Default::default()
        })
        .unwrap();
        for partition in 0..2 {
            let id = engine_state::StateStoreId::new(dir.path().join("state"), 0, partition);
            for version in 0..2 {
                let mut store = stores.get_store(&id, version).unwrap();
                store.put(format!("k{version}").as_bytes(), b"v").unwrap();
                store.commit().unwrap();
            }
        }

        let r = inspect(dir.path()).unwrap();
        assert_eq!(r.id.as_deref(), Some("q-1"));
        assert_eq!(r.next_batch, 2);
        assert_eq!(r.batches.len(), 3);
        assert!(!r.batches[2].committed);
        assert_eq!(r.sources[0].files, 1);
        let text = r.to_string();
        assert!(text.contains("pending: [2]"), "{text}");
        assert!(text.contains("source 0: {\"logOffset\":2}"), "{text}");
        assert!(text.contains("2026-01-01T00:00:00.000Z"), "{text}");
        assert!(
            text.contains("state       operator 0 (no metadata): 2 partitions, stores default, versions 1..=2, 4 rows, 4 files"),
            "{text}"
        );
        assert!(
            serde_json::to_string(&r)
                .unwrap()
                .contains("\"nextBatch\":2")
        );
    }

    #[test]
    fn a_directory_that_is_not_a_checkpoint_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = inspect(dir.path()).unwrap_err().to_string();
        assert!(e.contains("not a streaming checkpoint"), "{e}");
        let e = inspect(&dir.path().join("nope")).unwrap_err().to_string();
        assert!(e.contains("no such checkpoint directory"), "{e}");
    }
}
