//! Which versions a store directory holds, and which files load a version.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use engine_core::{EngineError, Result};

use super::format::FileKind;
use crate::errors::load_error;

/// The `<v>.delta` and `<v>.snapshot` files of one store directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreFiles {
    /// The store directory.
    pub dir: PathBuf,
    /// Versions with a delta file.
    pub deltas: BTreeSet<u64>,
    /// Versions with a snapshot file.
    pub snapshots: BTreeSet<u64>,
}

/// The files that rebuild one version: a snapshot (or the empty state) and the deltas after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadPlan {
    /// The snapshot to start from; `None` starts from the empty version 0.
    pub snapshot: Option<u64>,
    /// The deltas to apply in order.
    pub deltas: Vec<u64>,
}

impl StoreFiles {
    /// Lists `dir`; a missing directory holds no versions. Hidden temp files and names that
    /// are not `<number>.delta` / `<number>.snapshot` are ignored, as Spark ignores `.crc`
    /// files.
    pub fn list(dir: &Path) -> Result<StoreFiles> {
        let mut files = StoreFiles {
            dir: dir.to_path_buf(),
            ..Default::default()
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(files),
            Err(e) => return Err(EngineError::io(format!("listing {}", dir.display()), e)),
        };
        for entry in entries {
            let entry =
                entry.map_err(|e| EngineError::io(format!("listing {}", dir.display()), e))?;
            let name = entry.file_name();
            let Some((version, kind)) = parse_name(&name.to_string_lossy()) else {
                continue;
            };
            match kind {
                FileKind::Delta => files.deltas.insert(version),
                FileKind::Snapshot => files.snapshots.insert(version),
            };
        }
        Ok(files)
    }

    /// The newest version with a file, 0 when there is none.
    pub fn latest_version(&self) -> u64 {
        let d = self.deltas.last().copied().unwrap_or(0);
        let s = self.snapshots.last().copied().unwrap_or(0);
        d.max(s)
    }

    /// The versions (above 0, which is always the empty state) that can be loaded: a
    /// snapshot, or a delta on top of a loadable version.
    pub fn loadable_versions(&self) -> Vec<u64> {
        let all: BTreeSet<u64> = self.deltas.union(&self.snapshots).copied().collect();
        let mut out: Vec<u64> = Vec::new();
        for v in all {
            let below_ok = v == 1 || out.last() == Some(&(v - 1));
            if v > 0 && (self.snapshots.contains(&v) || (self.deltas.contains(&v) && below_ok)) {
                out.push(v);
            }
        }
        out
    }

    /// The path of version `v`'s file of `kind`.
    pub fn path(&self, version: u64, kind: FileKind) -> PathBuf {
        file_path(&self.dir, version, kind)
    }

    /// The files that rebuild `version`, as Spark's HDFS provider finds them: from `version`
    /// down, the first snapshot ends the walk, every version above it needs its delta.
    /// `provider` names the reader in the error.
    pub fn plan(&self, version: u64, provider: &str) -> Result<LoadPlan> {
        let mut deltas = Vec::new();
        let mut v = version;
        while v > 0 {
            if self.snapshots.contains(&v) {
                deltas.reverse();
                return Ok(LoadPlan {
                    snapshot: Some(v),
                    deltas,
                });
            }
            if !self.deltas.contains(&v) {
                let file = self.path(v, FileKind::Delta);
                return Err(load_error(
                    "CANNOT_READ_DELTA_FILE_NOT_EXISTS",
                    format!(
                        "Error reading delta file {f} of {provider}: {f} does not exist.",
                        f = file.display()
                    ),
                ));
            }
            deltas.push(v);
            v -= 1;
        }
        deltas.reverse();
        Ok(LoadPlan {
            snapshot: None,
            deltas,
        })
    }
}

/// `<dir>/<version>.<kind>`.
pub fn file_path(dir: &Path, version: u64, kind: FileKind) -> PathBuf {
    dir.join(format!("{version}.{}", kind.extension()))
}

fn parse_name(name: &str) -> Option<(u64, FileKind)> {
    let (num, ext) = name.split_once('.')?;
    let kind = match ext {
        "delta" => FileKind::Delta,
        "snapshot" => FileKind::Snapshot,
        _ => return None,
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((num.parse().ok()?, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(deltas: &[u64], snapshots: &[u64]) -> StoreFiles {
        StoreFiles {
            dir: PathBuf::from("/s"),
            deltas: deltas.iter().copied().collect(),
            snapshots: snapshots.iter().copied().collect(),
        }
    }

    #[test]
    fn plans_start_at_the_newest_reachable_snapshot() {
        let f = files(&[1, 2, 3, 4, 5, 6], &[3]);
        assert_eq!(
            f.plan(0, "p").unwrap(),
            LoadPlan {
                snapshot: None,
                deltas: vec![]
            }
        );
        assert_eq!(
            f.plan(2, "p").unwrap(),
            LoadPlan {
                snapshot: None,
                deltas: vec![1, 2]
            }
        );
        assert_eq!(
            f.plan(3, "p").unwrap(),
            LoadPlan {
                snapshot: Some(3),
                deltas: vec![]
            }
        );
        assert_eq!(
            f.plan(6, "p").unwrap(),
            LoadPlan {
                snapshot: Some(3),
                deltas: vec![4, 5, 6]
            }
        );
        assert_eq!(f.latest_version(), 6);
        assert_eq!(f.loadable_versions(), vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn a_missing_delta_is_sparks_error() {
        let f = files(&[5, 6], &[3]);
        let e = f.plan(6, "HDFSStateStoreProvider").unwrap_err();
        assert_eq!(
            e.error_class(),
            Some("CANNOT_LOAD_STATE_STORE.CANNOT_READ_DELTA_FILE_NOT_EXISTS")
        );
        assert!(e.to_string().contains("/s/4.delta does not exist"), "{e}");
        assert_eq!(f.loadable_versions(), vec![3]);
        assert_eq!(
            files(&[4, 5, 6], &[3]).loadable_versions(),
            vec![3, 4, 5, 6]
        );
    }

    #[test]
    fn names_are_parsed_strictly() {
        assert_eq!(parse_name("12.delta"), Some((12, FileKind::Delta)));
        assert_eq!(parse_name("3.snapshot"), Some((3, FileKind::Snapshot)));
        for bad in [
            ".3.delta.1.tmp",
            "3.delta.crc",
            "x.delta",
            ".delta",
            "3.zip",
            "-1.delta",
        ] {
            assert_eq!(parse_name(bad), None, "{bad}");
        }
    }
}
