//! `<checkpoint>/metadata`: the query id that survives restarts (Spark's `StreamMetadata`).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::write_atomic;
use crate::{EngineError, Result};

/// The query's stable id, `{"id":"<uuid>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamMetadata {
    /// The query id (a UUID), the same for every run from this checkpoint.
    pub id: String,
}

impl StreamMetadata {
    /// Reads `path`; `None` if the file does not exist.
    pub fn read(path: &Path) -> Result<Option<StreamMetadata>> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(text.trim())
                .map(Some)
                .map_err(|e| EngineError::external(format!("reading {}", path.display()), e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(EngineError::io(format!("reading {}", path.display()), e)),
        }
    }

    /// Writes `path` atomically, in Spark's form (`{"id":".."}`, no trailing newline).
    pub fn write(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_string(self)
            .map_err(|e| EngineError::external("writing stream metadata", e))?;
        write_atomic(path, json.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let d = std::env::temp_dir().join(format!("engine-core-smeta-{}", std::process::id()));
        let p = d.join("metadata");
        assert_eq!(StreamMetadata::read(&p).unwrap(), None);
        let m = StreamMetadata { id: "abc".into() };
        m.write(&p).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "{\"id\":\"abc\"}");
        assert_eq!(StreamMetadata::read(&p).unwrap(), Some(m));
        std::fs::remove_dir_all(d).unwrap();
    }
}
