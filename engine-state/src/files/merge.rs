//! A version's whole state as one sorted stream: its snapshot and the deltas after it, merged
//! key by key (the newest file wins, removes drop the key).
//!
//! Every provider loads through this stream and maintenance writes snapshots from it, so no
//! step needs the whole state in memory beyond what the caller builds from it.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::path::Path;

use engine_core::{EngineError, Result};

use super::format::{FileKind, FileReader, Record};
use super::listing::StoreFiles;
use crate::errors::{corrupt_file, load_error};

/// The next record of one file; the heap pops the smallest key, and for equal keys the newest
/// file first.
struct Head {
    key: Vec<u8>,
    value: Option<Vec<u8>>,
    source: usize,
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap: reverse the key order, keep the newer source greater.
        other
            .key
            .cmp(&self.key)
            .then(self.source.cmp(&other.source))
    }
}

/// The `(key, value)` pairs of one version in key order.
pub struct StateStream {
    readers: Vec<FileReader>,
    heap: BinaryHeap<Head>,
    rows: u64,
    version: u64,
    last_file: Option<std::path::PathBuf>,
    done: bool,
}

impl StateStream {
    /// Opens the files that make `version` of the store in `files`. `provider` names the
    /// reader in errors.
    pub fn open(files: &StoreFiles, version: u64, provider: &str) -> Result<StateStream> {
        let plan = files.plan(version, provider)?;
        let mut readers = Vec::with_capacity(plan.deltas.len() + 1);
        let mut last_file = None;
        if let Some(s) = plan.snapshot {
            let path = files.path(s, FileKind::Snapshot);
            readers.push(open_file(&path, FileKind::Snapshot, s, provider)?);
            last_file = Some(path);
        }
        for d in plan.deltas {
            let path = files.path(d, FileKind::Delta);
            readers.push(open_file(&path, FileKind::Delta, d, provider)?);
            last_file = Some(path);
        }
        let mut stream = StateStream {
            readers,
            heap: BinaryHeap::new(),
            rows: 0,
            version,
            last_file,
            done: false,
        };
        for source in 0..stream.readers.len() {
            stream.advance(source)?;
        }
        Ok(stream)
    }

    fn advance(&mut self, source: usize) -> Result<()> {
        let reader = self
            .readers
            .get_mut(source)
            .ok_or_else(|| EngineError::Internal(format!("no state file {source}")))?;
        if let Some((key, value)) = reader.next_record()? {
            self.heap.push(Head { key, value, source });
        }
        Ok(())
    }

    fn next_pair(&mut self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        while let Some(head) = self.heap.pop() {
            self.advance(head.source)?;
            // Older files' records of the same key are superseded.
            while self.heap.peek().is_some_and(|h| h.key == head.key) {
                if let Some(old) = self.heap.pop() {
                    self.advance(old.source)?;
                }
            }
            if let Some(value) = head.value {
                self.rows += 1;
                return Ok(Some((head.key, value)));
            }
        }
        self.check_rows()?;
        Ok(None)
    }

    /// The newest file's end marker says how many keys the version has; a different count
    /// means a file was damaged in a way its checksums could not see.
    fn check_rows(&mut self) -> Result<()> {
        let Some(last) = self.readers.pop() else {
            return Ok(());
        };
        let trailer = last.finish()?;
        if trailer.rows != super::UNKNOWN_ROWS && trailer.rows != self.rows {
            let path = self.last_file.clone().unwrap_or_default();
            return Err(corrupt_file(
                &path,
                self.version,
                format_args!(
                    "the version should have {} keys but its files hold {}",
                    trailer.rows, self.rows
                ),
            ));
        }
        Ok(())
    }
}

impl Iterator for StateStream {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_pair() {
            Ok(Some(kv)) => Some(Ok(kv)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Opens one state file, turning a missing file into Spark's message.
pub fn open_file(path: &Path, kind: FileKind, version: u64, provider: &str) -> Result<FileReader> {
    match FileReader::open(path, kind, version) {
        Err(EngineError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            let (sub, what) = match kind {
                FileKind::Delta => ("CANNOT_READ_DELTA_FILE_NOT_EXISTS", "delta"),
                FileKind::Snapshot => ("CANNOT_READ_MISSING_SNAPSHOT_FILE", "snapshot"),
            };
            Err(load_error(
                sub,
                format!(
                    "Error reading {what} file {f} of {provider}: {f} does not exist.",
                    f = path.display()
                ),
            ))
        }
        other => other,
    }
}

/// Every record of one delta file, in key order (the change feed reads them).
pub fn read_delta(dir: &Path, version: u64, provider: &str) -> Result<Vec<Record>> {
    let path = super::listing::file_path(dir, version, FileKind::Delta);
    let mut reader = open_file(&path, FileKind::Delta, version, provider)?;
    let mut out = Vec::new();
    while let Some(r) = reader.next_record()? {
        out.push(r);
    }
    reader.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conf::Codec;
    use crate::files::format::FileWriter;

    fn write(dir: &Path, kind: FileKind, v: u64, recs: &[(&str, Option<&str>)], rows: u64) {
        let mut w = FileWriter::create(
            &super::super::listing::file_path(dir, v, kind),
            kind,
            v,
            Codec::Lz4,
        )
        .unwrap();
        for (k, val) in recs {
            match val {
                Some(x) => w.put(k.as_bytes(), x.as_bytes()).unwrap(),
                None => w.remove(k.as_bytes()).unwrap(),
            }
        }
        w.finish(rows).unwrap();
    }

    fn load(dir: &Path, v: u64) -> Result<Vec<(String, String)>> {
        let files = StoreFiles::list(dir)?;
        StateStream::open(&files, v, "test")?
            .map(|r| r.map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap())))
            .collect()
    }

    #[test]
    fn newest_file_wins_and_removes_drop_keys() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            FileKind::Delta,
            1,
            &[("a", Some("1")), ("b", Some("1"))],
            2,
        );
        write(
            d.path(),
            FileKind::Delta,
            2,
            &[("a", None), ("c", Some("2"))],
            2,
        );
        write(
            d.path(),
            FileKind::Snapshot,
            2,
            &[("b", Some("1")), ("c", Some("2"))],
            2,
        );
        write(
            d.path(),
            FileKind::Delta,
            3,
            &[("b", Some("3")), ("d", Some("3"))],
            3,
        );
        let s = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(load(d.path(), 1).unwrap(), s(&[("a", "1"), ("b", "1")]));
        assert_eq!(load(d.path(), 2).unwrap(), s(&[("b", "1"), ("c", "2")]));
        assert_eq!(
            load(d.path(), 3).unwrap(),
            s(&[("b", "3"), ("c", "2"), ("d", "3")])
        );
        assert_eq!(load(d.path(), 0).unwrap(), vec![]);
    }

    #[test]
    fn a_wrong_row_count_is_caught() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), FileKind::Delta, 1, &[("a", Some("1"))], 5);
        let e = load(d.path(), 1).unwrap_err().to_string();
        assert!(
            e.contains("1.delta") && e.contains("should have 5 keys"),
            "{e}"
        );
    }

    #[test]
    fn a_snapshot_deleted_after_listing_is_sparks_error() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), FileKind::Snapshot, 4, &[("a", Some("1"))], 1);
        let files = StoreFiles::list(d.path()).unwrap();
        std::fs::remove_file(d.path().join("4.snapshot")).unwrap();
        let e = StateStream::open(&files, 4, "P").err().unwrap();
        assert_eq!(
            e.error_class(),
            Some("CANNOT_LOAD_STATE_STORE.CANNOT_READ_MISSING_SNAPSHOT_FILE")
        );
    }
}
