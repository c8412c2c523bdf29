//! What a checkpoint's state holds, per stateful operator, without loading it: partitions,
//! stores, loadable versions, rows (from the newest file's end marker) and bytes on disk. For
//! `sstream checkpoint inspect`.

use std::path::Path;

use engine_core::{EngineError, Result};
use serde::Serialize;

use crate::files::{FileKind, FileReader, StoreFiles};
use crate::id::operator_dir;
use crate::metadata::{OperatorMetadata, numeric_dirs};

/// One stateful operator's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatorSummary {
    /// The operator's id (`state/<id>`).
    pub operator_id: u64,
    /// Its name from the operator metadata, when written.
    pub operator_name: Option<String>,
    /// Partition directories.
    pub partitions: u64,
    /// Store names (`default`, or a join's four stores).
    pub stores: Vec<String>,
    /// The oldest version every store can still load (None: no state files).
    pub min_version: Option<u64>,
    /// The newest version of any store.
    pub max_version: u64,
    /// Keys at each store's newest version, summed (stores that do not track rows count 0).
    pub rows: u64,
    /// Files under `state/<id>`.
    pub files: u64,
    /// Their bytes on disk.
    pub bytes: u64,
}

/// Summaries of every operator under `state_root` (`<checkpoint>/state`), by id.
pub fn summarize(state_root: &Path) -> Result<Vec<OperatorSummary>> {
    let mut out = Vec::new();
    for op in numeric_dirs(state_root)? {
        let dir = operator_dir(state_root, op);
        let mut s = OperatorSummary {
            operator_id: op,
            operator_name: OperatorMetadata::read(state_root, op)?
                .map(|m| m.operator_info.operator_name),
            ..Default::default()
        };
        (s.files, s.bytes) = disk_usage(&dir)?;
        let partitions = numeric_dirs(&dir)?;
        s.partitions = partitions.len() as u64;
        for p in partitions {
            let pdir = dir.join(p.to_string());
            let mut store_dirs = vec![("default".to_string(), pdir.clone())];
            for entry in read_dir(&pdir)? {
                if entry.1.is_dir() {
                    store_dirs.push(entry);
                }
            }
            for (name, sdir) in store_dirs {
                let files = StoreFiles::list(&sdir)?;
                let latest = files.latest_version();
                if latest == 0 {
                    continue;
                }
                if !s.stores.contains(&name) {
                    s.stores.push(name);
                }
                s.max_version = s.max_version.max(latest);
                let first = files.loadable_versions().first().copied().unwrap_or(latest);
                s.min_version = Some(s.min_version.map_or(first, |m| m.max(first)));
                let kind = if files.snapshots.contains(&latest) {
                    FileKind::Snapshot
                } else {
                    FileKind::Delta
                };
                let rows = FileReader::read_trailer(&files.path(latest, kind), kind, latest)?.rows;
                if rows != crate::files::UNKNOWN_ROWS {
                    s.rows += rows;
                }
            }
        }
        out.push(s);
    }
    Ok(out)
}

fn read_dir(dir: &Path) -> Result<Vec<(String, std::path::PathBuf)>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(EngineError::io(format!("listing {}", dir.display()), e)),
    };
    for e in entries {
        let e = e.map_err(|e| EngineError::io(format!("listing {}", dir.display()), e))?;
        out.push((e.file_name().to_string_lossy().into_owned(), e.path()));
    }
    out.sort();
    Ok(out)
}

fn disk_usage(dir: &Path) -> Result<(u64, u64)> {
    let mut total = (0, 0);
    for (_, path) in read_dir(dir)? {
        let meta = std::fs::metadata(&path)
            .map_err(|e| EngineError::io(format!("reading {}", path.display()), e))?;
        if meta.is_dir() {
            let (f, b) = disk_usage(&path)?;
            total = (total.0 + f, total.1 + b);
        } else {
            total = (total.0 + 1, total.1 + meta.len());
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conf::StateStoreConf;
    use crate::{StateStoreId, StateStores};

    #[test]
    fn summarizes_operators_partitions_versions_and_rows() {
        let d = tempfile::tempdir().unwrap();
        let stores = StateStores::new(StateStoreConf {
            maintenance_interval_ms: 0,
            ..StateStoreConf::default()
        })
        .unwrap();
        for p in 0..3 {
            for v in 0..4u64 {
                let id = StateStoreId::new(d.path(), 1, p);
                let mut s = stores.get_store(&id, v).unwrap();
                s.put(format!("k{v}").as_bytes(), b"x").unwrap();
                s.commit().unwrap();
                let named = id.with_store_name("right-keyWithIndexToValue");
                let mut s = stores.get_store(&named, v).unwrap();
                s.put(b"k", b"x").unwrap();
                s.commit().unwrap();
            }
        }
        let ops = summarize(d.path()).unwrap();
        assert_eq!(ops.len(), 1);
        let op = &ops[0];
        assert_eq!((op.operator_id, op.partitions), (1, 3));
        assert_eq!(op.stores, vec!["default", "right-keyWithIndexToValue"]);
        assert_eq!((op.min_version, op.max_version), (Some(1), 4));
        assert_eq!(op.rows, 3 * 4 + 3);
        assert_eq!(op.files, 3 * 2 * 4);
        assert!(op.bytes > 0);
        assert!(summarize(&d.path().join("none")).unwrap().is_empty());
    }
}
