//! What both providers' writable stores share: the version's uncommitted changes kept beside
//! the committed state, reads that see both, the counters, and the delta file.
//!
//! Writes never touch the committed state before commit, so abort is dropping the changes,
//! and the committed version stays readable (by the maintenance thread, a read store, a
//! retry) while a batch runs.

use std::collections::BTreeMap;
use std::iter::Peekable;
use std::ops::Bound;
use std::path::Path;

use engine_core::Result;

use crate::conf::Codec;
use crate::errors::out_of_order;
use crate::files::{FileKind, FileWriter};
use crate::id::StateStoreId;
use crate::store::{KeyValue, KvIter};

/// The committed state a store reads under its changes.
pub(crate) trait Base: Send + Sync {
    /// The committed value of `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Whether `key` is committed.
    fn contains(&self, key: &[u8]) -> Result<bool>;
    /// Committed pairs in `(start, end)`, in key order; only called with a non-empty range.
    fn range<'a>(&'a self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> KvIter<'a>;
}

/// Where a store is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Open,
    Committed,
    Aborted,
}

/// Changes of one version: `Some` value for a put, `None` for a remove.
pub(crate) type Changes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// A writable store's state, generic over the committed state it reads.
pub(crate) struct WriteCore<B> {
    pub id: StateStoreId,
    pub version: u64,
    pub base: B,
    pub changes: Changes,
    /// Keys in the state with the changes applied.
    pub rows: u64,
    pub updated: u64,
    pub removed: u64,
    /// Bytes of keys and values in `changes`.
    pub change_bytes: u64,
    pub phase: Phase,
}

impl<B: Base> WriteCore<B> {
    pub fn new(id: StateStoreId, version: u64, base: B, rows: u64) -> Self {
        WriteCore {
            id,
            version,
            base,
            changes: Changes::new(),
            rows,
            updated: 0,
            removed: 0,
            change_bytes: 0,
            phase: Phase::Open,
        }
    }

    fn check_open(&self, what: &str) -> Result<()> {
        match self.phase {
            Phase::Open => Ok(()),
            phase => Err(out_of_order(format!(
                "{what} on {} at version {} after it was {}",
                self.id,
                self.version,
                if phase == Phase::Committed {
                    "committed"
                } else {
                    "aborted"
                }
            ))),
        }
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.changes.get(key) {
            Some(v) => Ok(v.clone()),
            None => self.base.get(key),
        }
    }

    fn exists(&self, key: &[u8]) -> Result<bool> {
        match self.changes.get(key) {
            Some(v) => Ok(v.is_some()),
            None => self.base.contains(key),
        }
    }

    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.check_open("put")?;
        if !self.exists(key)? {
            self.rows += 1;
        }
        self.updated += 1;
        self.change_bytes += (key.len() + value.len()) as u64;
        match self.changes.get_mut(key) {
            Some(slot) => {
                let v = slot.get_or_insert_with(Vec::new);
                v.clear();
                v.extend_from_slice(value);
            }
            None => {
                self.changes.insert(key.to_vec(), Some(value.to_vec()));
            }
        }
        Ok(())
    }

    pub fn remove(&mut self, key: &[u8]) -> Result<()> {
        self.check_open("remove")?;
        if !self.exists(key)? {
            return Ok(());
        }
        self.rows = self.rows.saturating_sub(1);
        self.removed += 1;
        self.change_bytes += key.len() as u64;
        self.changes.insert(key.to_vec(), None);
        Ok(())
    }

    pub fn range(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> KvIter<'_> {
        if is_empty_range(start, end) {
            return Box::new(std::iter::empty());
        }
        Box::new(MergeIter {
            base: self.base.range(start, end).peekable(),
            changes: self.changes.range::<[u8], _>((start, end)).peekable(),
        })
    }

    /// Writes the changes as `<dir>/<version + 1>.delta`; returns its size in bytes.
    pub fn write_delta(&self, dir: &Path, codec: Codec) -> Result<u64> {
        self.check_open("commit")?;
        let next = self.version + 1;
        let path = crate::files::file_path(dir, next, FileKind::Delta);
        let mut w = FileWriter::create(&path, FileKind::Delta, next, codec)?;
        for (k, v) in &self.changes {
            match v {
                Some(v) => w.put(k, v)?,
                None => w.remove(k)?,
            }
        }
        w.finish(self.rows)
    }
}

/// True when no key can lie between the bounds (`BTreeMap::range` panics on such ranges).
pub(crate) fn is_empty_range(start: Bound<&[u8]>, end: Bound<&[u8]>) -> bool {
    match (start, end) {
        (Bound::Included(s), Bound::Included(e)) => s > e,
        (Bound::Included(s), Bound::Excluded(e))
        | (Bound::Excluded(s), Bound::Included(e))
        | (Bound::Excluded(s), Bound::Excluded(e)) => s >= e,
        _ => false,
    }
}

/// Committed pairs merged with the changes: a changed key takes its new value, a removed
/// one disappears.
struct MergeIter<'a, C: Iterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)>> {
    base: Peekable<KvIter<'a>>,
    changes: Peekable<C>,
}

impl<'a, C: Iterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)>> Iterator for MergeIter<'a, C> {
    type Item = Result<KeyValue>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let take_change = match (self.base.peek(), self.changes.peek()) {
                (None, None) => return None,
                (Some(Err(_)), _) => return self.base.next(),
                (Some(Ok((bk, _))), Some((ck, _))) => {
                    if bk.as_slice() == ck.as_slice() {
                        // The change supersedes the committed pair.
                        self.base.next();
                        true
                    } else {
                        ck.as_slice() < bk.as_slice()
                    }
                }
                (None, Some(_)) => true,
                (Some(_), None) => false,
            };
            if !take_change {
                return self.base.next();
            }
            if let Some((k, Some(v))) = self.changes.next() {
                return Some(Ok((k.clone(), v.clone())));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct MapBase(BTreeMap<Vec<u8>, Vec<u8>>);

    impl Base for MapBase {
        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
            Ok(self.0.get(key).cloned())
        }
        fn contains(&self, key: &[u8]) -> Result<bool> {
            Ok(self.0.contains_key(key))
        }
        fn range<'a>(&'a self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> KvIter<'a> {
            Box::new(
                self.0
                    .range::<[u8], _>((start, end))
                    .map(|(k, v)| Ok((k.clone(), v.clone()))),
            )
        }
    }

    #[test]
    fn reads_see_changes_and_counts_follow() {
        let base = MapBase(
            [
                (b"a".to_vec(), b"1".to_vec()),
                (b"c".to_vec(), b"3".to_vec()),
            ]
            .into_iter()
            .collect(),
        );
        let mut core = WriteCore::new(StateStoreId::new("/x", 0, 0), 1, base, 2);
        core.put(b"b", b"2").unwrap();
        core.put(b"c", b"30").unwrap();
        core.remove(b"a").unwrap();
        core.remove(b"zz").unwrap();
        let all: Vec<_> = core
            .range(Bound::Unbounded, Bound::Unbounded)
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(
            all,
            vec![
                (b"b".to_vec(), b"2".to_vec()),
                (b"c".to_vec(), b"30".to_vec())
            ]
        );
        assert_eq!((core.rows, core.updated, core.removed), (2, 2, 1));
        assert_eq!(core.get(b"a").unwrap(), None);
        assert!(
            core.range(Bound::Excluded(b"b"), Bound::Excluded(b"b"))
                .next()
                .is_none()
        );
        core.phase = Phase::Committed;
        assert!(core.put(b"x", b"y").is_err());
    }
}
