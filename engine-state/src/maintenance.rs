//! Snapshots and cleanup of one store directory, as Spark's HDFS provider does them, for both
//! providers.
//!
//! - Snapshot: when the newest version has more than `minDeltasForSnapshot` deltas above its
//!   base snapshot, write `<newest>.snapshot`, built from the files themselves (the merge
//!   stream), so maintenance never touches, locks or copies a provider's live state.
//! - Cleanup: keep every version from `newest - minBatchesToRetain` on loadable, and also
//!   every version a store has open (`pinned`): delete the files of versions below the base
//!   snapshot of the oldest version to keep. The newest version is always kept, so the version
//!   a running or restarting query loads next is never deleted.

use std::path::Path;
use std::sync::{PoisonError, RwLock};

use engine_core::{EngineError, Result};

use crate::conf::StateStoreConf;
use crate::files::{FileKind, FileWriter, StateStream, StoreFiles};

/// What one maintenance run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaintenanceReport {
    /// The version a snapshot was written for.
    pub snapshot: Option<u64>,
    /// Files deleted.
    pub deleted: Vec<String>,
}

/// One maintenance run of the store in `dir`: the snapshot if due, then the cleanup under the
/// write side of `files` (loads list and open their files under the read side, so a file they
/// listed is never deleted before it is open). `pinned` is the oldest version a store has open.
pub(crate) fn run(
    dir: &Path,
    conf: &StateStoreConf,
    provider: &str,
    files: &RwLock<()>,
    pinned: Option<u64>,
) -> Result<()> {
    snapshot_if_due(dir, conf, provider)?;
    let _cleaning = files.write().unwrap_or_else(PoisonError::into_inner);
    cleanup(dir, conf, pinned, provider)?;
    Ok(())
}

/// Lists and opens the files of `version` of the store in `dir` under the read side of
/// `files` (see [`run`]).
pub(crate) fn open_version(
    dir: &Path,
    version: u64,
    provider: &str,
    files: &RwLock<()>,
) -> Result<StateStream> {
    let _listing = files.read().unwrap_or_else(PoisonError::into_inner);
    StateStream::open(&StoreFiles::list(dir)?, version, provider)
}

/// Writes the snapshot if due. `provider` names the store in errors.
pub fn snapshot_if_due(dir: &Path, conf: &StateStoreConf, provider: &str) -> Result<Option<u64>> {
    let files = StoreFiles::list(dir)?;
    let latest = files.latest_version();
    if latest == 0 || files.snapshots.contains(&latest) {
        return Ok(None);
    }
    let plan = files.plan(latest, provider)?;
    if (plan.deltas.len() as u64) <= conf.min_deltas_for_snapshot {
        return Ok(None);
    }
    let path = files.path(latest, FileKind::Snapshot);
    let mut w = FileWriter::create(&path, FileKind::Snapshot, latest, conf.codec)?;
    for kv in StateStream::open(&files, latest, provider)? {
        let (k, v) = kv?;
        w.put(&k, &v)?;
    }
    let rows = w.records();
    w.finish(rows)?;
    Ok(Some(latest))
}

/// Deletes the files no version to keep needs. `pinned` is the oldest version a store has
/// open, if any.
pub fn cleanup(
    dir: &Path,
    conf: &StateStoreConf,
    pinned: Option<u64>,
    provider: &str,
) -> Result<Vec<String>> {
    let files = StoreFiles::list(dir)?;
    let latest = files.latest_version();
    let mut keep_from = latest.saturating_sub(conf.min_versions_to_retain);
    if let Some(p) = pinned {
        keep_from = keep_from.min(p);
    }
    if keep_from == 0 {
        return Ok(Vec::new());
    }
    // A version that cannot be loaded any more needs nothing kept for it.
    let base = match files.plan(keep_from, provider) {
        Ok(plan) => plan.snapshot.unwrap_or(0),
        Err(_) => return Ok(Vec::new()),
    };
    let mut deleted = Vec::new();
    let doomed = files
        .deltas
        .iter()
        .filter(|v| **v < base)
        .map(|v| (*v, FileKind::Delta))
        .chain(
            files
                .snapshots
                .iter()
                .filter(|v| **v < base)
                .map(|v| (*v, FileKind::Snapshot)),
        );
    for (v, kind) in doomed {
        let path = files.path(v, kind);
        match std::fs::remove_file(&path) {
            Ok(()) => deleted.push(path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(EngineError::io(format!("deleting {}", path.display()), e)),
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conf::Codec;

    fn delta(dir: &Path, v: u64) {
        let mut w = FileWriter::create(
            &crate::files::file_path(dir, v, FileKind::Delta),
            FileKind::Delta,
            v,
            Codec::Lz4,
        )
        .unwrap();
        w.put(format!("k{v:04}").as_bytes(), b"x").unwrap();
        w.finish(v).unwrap();
    }

    fn conf(min_deltas: u64, retain: u64) -> StateStoreConf {
        StateStoreConf {
            min_deltas_for_snapshot: min_deltas,
            min_versions_to_retain: retain,
            ..StateStoreConf::default()
        }
    }

    #[test]
    fn snapshots_after_more_than_min_deltas_then_cleans_below_the_base() {
        let d = tempfile::tempdir().unwrap();
        for v in 1..=3 {
            delta(d.path(), v);
        }
        let c = conf(3, 2);
        assert_eq!(snapshot_if_due(d.path(), &c, "p").unwrap(), None);
        delta(d.path(), 4);
        assert_eq!(snapshot_if_due(d.path(), &c, "p").unwrap(), Some(4));
        for v in 5..=7 {
            delta(d.path(), v);
        }
        // Keep 5..=7 loadable: their base is the snapshot at 4, so 1..=3 go.
        let deleted = cleanup(d.path(), &c, None, "p").unwrap();
        assert_eq!(deleted.len(), 3, "{deleted:?}");
        let files = StoreFiles::list(d.path()).unwrap();
        assert_eq!(files.loadable_versions(), vec![4, 5, 6, 7]);
        let rows: Vec<_> = StateStream::open(&files, 7, "p")
            .unwrap()
            .map(|r| r.unwrap().0)
            .collect();
        assert_eq!(rows.len(), 7);
    }

    #[test]
    fn a_pinned_version_stays_loadable() {
        let d = tempfile::tempdir().unwrap();
        for v in 1..=6 {
            delta(d.path(), v);
        }
        let c = conf(1, 1);
        assert_eq!(snapshot_if_due(d.path(), &c, "p").unwrap(), Some(6));
        delta(d.path(), 7);
        delta(d.path(), 8);
        // Without the pin, keeping 7.. needs nothing below the snapshot at 6.
        assert!(cleanup(d.path(), &c, Some(2), "p").unwrap().is_empty());
        assert_eq!(
            StoreFiles::list(d.path()).unwrap().loadable_versions(),
            (1..=8).collect::<Vec<_>>()
        );
        assert_eq!(cleanup(d.path(), &c, None, "p").unwrap().len(), 5);
        assert_eq!(
            StoreFiles::list(d.path()).unwrap().loadable_versions(),
            vec![6, 7, 8]
        );
    }
}
