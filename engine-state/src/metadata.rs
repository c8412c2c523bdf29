//! Operator metadata, `state/<op>/_metadata/metadata`, in Spark's `OperatorStateMetadataV1`
//! format: which operator keeps state at each id, its stores and partitions. A restart whose
//! plan has another operator at the same id fails with
//! `STREAMING_STATEFUL_OPERATOR_NOT_MATCH_IN_STATE_METADATA`, naming both.

use std::path::{Path, PathBuf};

use engine_core::checkpoint::write_atomic;
use engine_core::{EngineError, Result};
use serde::{Deserialize, Serialize};

use crate::id::operator_dir;

/// One operator's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatorMetadata {
    /// Which operator.
    pub operator_info: OperatorInfo,
    /// Its stores.
    pub state_store_info: Vec<StoreInfo>,
}

/// An operator's id and name (Spark's short names: `stateStoreSave`, `dedupe`,
/// `sessionWindowStateStoreSaveExec`, `symmetricHashJoin`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatorInfo {
    /// The id in the plan.
    pub operator_id: u64,
    /// The operator's name.
    pub operator_name: String,
}

/// One store of an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreInfo {
    /// The store's name.
    pub store_name: String,
    /// Leading key columns a prefix scan uses (session windows: the grouping key).
    pub num_cols_prefix_key: u32,
    /// The partitions (`spark.sql.shuffle.partitions` of the first run).
    pub num_partitions: u32,
}

impl OperatorMetadata {
    /// `state/<op>/_metadata/metadata`.
    pub fn path(state_root: &Path, operator_id: u64) -> PathBuf {
        operator_dir(state_root, operator_id)
            .join("_metadata")
            .join("metadata")
    }

    /// Writes this operator's file (replacing an older one), Spark's `v1` + JSON.
    pub fn write(&self, state_root: &Path) -> Result<()> {
        let json = serde_json::to_string(self)
            .map_err(|e| EngineError::external("writing operator metadata", e))?;
        write_atomic(
            &Self::path(state_root, self.operator_info.operator_id),
            format!("v1\n{json}").as_bytes(),
        )
    }

    /// Reads operator `operator_id`'s file, if there is one.
    pub fn read(state_root: &Path, operator_id: u64) -> Result<Option<OperatorMetadata>> {
        let path = Self::path(state_root, operator_id);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(EngineError::io(format!("reading {}", path.display()), e)),
        };
        let body = text.strip_prefix("v1\n").ok_or_else(|| {
            EngineError::analysis(
                "STDS_FAILED_TO_READ_OPERATOR_METADATA",
                format!(
                    "Failed to read the operator metadata at {}: it should start with `v1`. SQLSTATE: 42K03",
                    path.display()
                ),
            )
        })?;
        serde_json::from_str(body)
            .map(Some)
            .map_err(|e| EngineError::external(format!("reading {}", path.display()), e))
    }
}

/// Every operator with a metadata file under `state_root`, by id.
pub fn read_all(state_root: &Path) -> Result<Vec<OperatorMetadata>> {
    let mut out = Vec::new();
    for id in numeric_dirs(state_root)? {
        if let Some(m) = OperatorMetadata::read(state_root, id)? {
            out.push(m);
        }
    }
    Ok(out)
}

/// Checks the current plan's stateful operators against the checkpoint's metadata, then
/// writes the current metadata (Spark checks on restart and writes with the first batch).
pub fn validate_and_write(state_root: &Path, current: &[OperatorMetadata]) -> Result<()> {
    let stored = read_all(state_root)?;
    let mismatch = current.iter().any(|c| {
        stored.iter().any(|s| {
            s.operator_info.operator_id == c.operator_info.operator_id
                && s.operator_info.operator_name != c.operator_info.operator_name
        })
    });
    if mismatch {
        let list = |ops: &mut dyn Iterator<Item = &OperatorMetadata>| {
            ops.map(|m| {
                format!(
                    "(OperatorId: {} -> OperatorName: {})",
                    m.operator_info.operator_id, m.operator_info.operator_name
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
        };
        return Err(EngineError::analysis(
            "STREAMING_STATEFUL_OPERATOR_NOT_MATCH_IN_STATE_METADATA",
            format!(
                "Streaming stateful operator name does not match with the operator in state metadata. This likely to happen when user adds/removes/changes stateful operator of existing streaming query. Stateful operators in the metadata: [{}]; Stateful operators in current batch: [{}]. SQLSTATE: 42K03",
                list(&mut stored.iter()),
                list(&mut current.iter())
            ),
        ));
    }
    for m in current {
        m.write(state_root)?;
    }
    Ok(())
}

/// The numeric subdirectories of `dir`, ascending (operator ids, partition ids).
pub(crate) fn numeric_dirs(dir: &Path) -> Result<Vec<u64>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(EngineError::io(format!("listing {}", dir.display()), e)),
    };
    let mut ids = Vec::new();
    for e in entries {
        let e = e.map_err(|e| EngineError::io(format!("listing {}", dir.display()), e))?;
        let name = e.file_name();
        let name = name.to_string_lossy();
        if !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_digit())
            && e.path().is_dir()
            && let Ok(id) = name.parse()
        {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(id: u64, name: &str) -> OperatorMetadata {
        OperatorMetadata {
            operator_info: OperatorInfo {
                operator_id: id,
                operator_name: name.into(),
            },
            state_store_info: vec![StoreInfo {
                store_name: "default".into(),
                num_cols_prefix_key: 0,
                num_partitions: 5,
            }],
        }
    }

    #[test]
    fn sparks_file_format() {
        let d = tempfile::tempdir().unwrap();
        op(0, "stateStoreSave").write(d.path()).unwrap();
        let text = std::fs::read_to_string(d.path().join("0/_metadata/metadata")).unwrap();
        assert_eq!(
            text,
            "v1\n{\"operatorInfo\":{\"operatorId\":0,\"operatorName\":\"stateStoreSave\"},\"stateStoreInfo\":[{\"storeName\":\"default\",\"numColsPrefixKey\":0,\"numPartitions\":5}]}"
        );
        assert_eq!(
            OperatorMetadata::read(d.path(), 0).unwrap(),
            Some(op(0, "stateStoreSave"))
        );
    }

    #[test]
    fn another_operator_at_the_same_id_is_refused_naming_both() {
        let d = tempfile::tempdir().unwrap();
        validate_and_write(d.path(), &[op(0, "stateStoreSave"), op(1, "dedupe")]).unwrap();
        validate_and_write(d.path(), &[op(0, "stateStoreSave"), op(1, "dedupe")]).unwrap();
        let e = validate_and_write(d.path(), &[op(0, "dedupe")]).unwrap_err();
        assert_eq!(
            e.error_class(),
            Some("STREAMING_STATEFUL_OPERATOR_NOT_MATCH_IN_STATE_METADATA")
        );
        let t = e.to_string();
        assert!(
            t.contains("in the metadata: [(OperatorId: 0 -> OperatorName: stateStoreSave), (OperatorId: 1 -> OperatorName: dedupe)]")
                && t.contains("in current batch: [(OperatorId: 0 -> OperatorName: dedupe)]"),
            "{t}"
        );
    }
}
