//! What both providers' writable stores share: the version's uncommitted changes kept beside
//! the committed state, reads that see both, the counters, and the delta file.
//!
//! Writes never touch the committed state before commit, so abort is dropping the changes,
//! and the committed version stays readable (by the maintenance thread, a read store, a
//! retry) while a batch runs. A put or remove is one insert into the change set (a hash table,
//! sorted once at commit): whether the key existed (for `numRowsTotal` / `numRowsRemoved`) is
//! settled at commit, in key order, where the memory provider learns it for free from applying
//! the change.

use std::iter::Peekable;
use std::ops::Bound;
use std::path::Path;

use engine_core::Result;

use crate::conf::Codec;
use crate::errors::out_of_order;
use crate::files::{FileKind, FileWriter};
use crate::id::StateStoreId;
use crate::store::{KeyValue, KvIter, VisitPair};
use crate::table::{Entry, KeyTable};

/// The committed state a store reads under its changes.
pub(crate) trait Base: Send + Sync {
    /// The committed value of `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Whether `key` is committed.
    fn contains(&self, key: &[u8]) -> Result<bool>;
    /// Committed pairs in `(start, end)`, in key order; only called with a non-empty range.
    fn range<'a>(&'a self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> KvIter<'a>;
    /// Every committed pair, in any order (the ordered scan unless the base has a cheaper one).
    fn for_each(&self, visit: &mut VisitPair<'_>) -> Result<()> {
        for pair in self.range(Bound::Unbounded, Bound::Unbounded) {
            let (k, v) = pair?;
            visit(&k, &v)?;
        }
        Ok(())
    }
}

/// Where a store is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Open,
    Committed,
    Aborted,
}

/// Changes of one version: entries with a value for a put, without for a remove.
pub(crate) type Changes = KeyTable;

/// A writable store's state, generic over the committed state it reads.
pub(crate) struct WriteCore<B> {
    pub id: StateStoreId,
    pub version: u64,
    pub base: B,
    pub changes: Changes,
    /// Keys in the committed version this store was opened at.
    pub base_rows: u64,
    /// Keys and removed keys after commit (settled by the provider's commit).
    pub committed: Option<(u64, u64)>,
    pub updated: u64,
    /// Bytes of keys and values in `changes`.
    pub change_bytes: u64,
    pub phase: Phase,
}

impl<B: Base> WriteCore<B> {
    pub fn new(id: StateStoreId, version: u64, base: B, base_rows: u64) -> Self {
        WriteCore {
            id,
            version,
            base,
            changes: Changes::default(),
            base_rows,
            committed: None,
            updated: 0,
            change_bytes: 0,
            phase: Phase::Open,
        }
    }

    pub fn check_open(&self, what: &str) -> Result<()> {
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
            Some(e) => Ok(e.value().map(<[u8]>::to_vec)),
            None => self.base.get(key),
        }
    }

    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.check_open("put")?;
        self.updated += 1;
        self.change_bytes += (key.len() + value.len()) as u64;
        self.changes.set(key, Some(value))
    }

    pub fn remove(&mut self, key: &[u8]) -> Result<()> {
        self.check_open("remove")?;
        self.change_bytes += key.len() as u64;
        self.changes.set(key, None)
    }

    /// Keys after the changes and keys the changes remove, by looking each changed key up in
    /// the committed state.
    pub fn count_changes(&self) -> Result<(u64, u64)> {
        self.count(self.changes.iter())
    }

    /// [`WriteCore::count_changes`] over `changes` (all of them; in key order the committed
    /// state's lookups are cheaper).
    pub fn count<'a>(&self, changes: impl Iterator<Item = &'a Entry>) -> Result<(u64, u64)> {
        self.count_by(changes, |key, _| self.base.contains(key))
    }

    /// [`WriteCore::count`] with `existed(key, is_put)` saying whether each changed key is in
    /// the committed state.
    pub fn count_by<'a>(
        &self,
        changes: impl Iterator<Item = &'a Entry>,
        mut existed: impl FnMut(&[u8], bool) -> Result<bool>,
    ) -> Result<(u64, u64)> {
        if self.base_rows == crate::files::UNKNOWN_ROWS {
            return Ok((crate::files::UNKNOWN_ROWS, 0));
        }
        let (mut rows, mut removed) = (self.base_rows, 0u64);
        for e in changes {
            let put = e.value().is_some();
            match (existed(e.key(), put)?, put) {
                (false, true) => rows += 1,
                (true, false) => {
                    rows = rows.saturating_sub(1);
                    removed += 1;
                }
                _ => {}
            }
        }
        Ok((rows, removed))
    }

    /// Keys in the state with the changes applied.
    pub fn rows(&self) -> Result<u64> {
        match self.committed {
            Some((rows, _)) => Ok(rows),
            None => Ok(self.count_changes()?.0),
        }
    }

    /// Keys the committed changes removed (0 before commit).
    pub fn removed(&self) -> u64 {
        self.committed.map_or(0, |(_, r)| r)
    }

    pub fn range(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> KvIter<'_> {
        if is_empty_range(start, end) {
            return Box::new(std::iter::empty());
        }
        Box::new(MergeIter {
            base: self.base.range(start, end).peekable(),
            changes: self.changes.range(start, end).peekable(),
        })
    }

    /// Every pair with the changes applied, in no particular order: the committed pairs the
    /// changes do not touch, then the changes' puts.
    pub fn for_each_unordered(&self, visit: &mut VisitPair<'_>) -> Result<()> {
        self.base.for_each(&mut |k, v| {
            if self.changes.get(k).is_none() {
                visit(k, v)?;
            }
            Ok(())
        })?;
        for e in self.changes.iter() {
            if let Some(v) = e.value() {
                visit(e.key(), v)?;
            }
        }
        Ok(())
    }

    /// Writes `sorted` (the changes in key order) as `<dir>/<version + 1>.delta`, with `rows`
    /// keys after them; returns its size in bytes.
    pub fn write_delta(
        &self,
        sorted: &[&Entry],
        dir: &Path,
        codec: Codec,
        rows: u64,
    ) -> Result<u64> {
        self.check_open("commit")?;
        let next = self.version + 1;
        let path = crate::files::file_path(dir, next, FileKind::Delta);
        let mut w = FileWriter::create(&path, FileKind::Delta, next, codec)?;
        for e in sorted {
            match e.value() {
                Some(v) => w.put(e.key(), v)?,
                None => w.remove(e.key())?,
            }
        }
        w.finish(rows)
    }
}

/// `ReadStateStore` for a writable store type whose `core` field is a [`WriteCore`].
macro_rules! read_through_core {
    ($store:ty) => {
        impl crate::store::ReadStateStore for $store {
            fn id(&self) -> &crate::id::StateStoreId {
                &self.core.id
            }
            fn version(&self) -> u64 {
                self.core.version
            }
            fn get(&self, key: &[u8]) -> engine_core::Result<Option<Vec<u8>>> {
                self.core.get(key)
            }
            fn range(
                &self,
                start: std::ops::Bound<&[u8]>,
                end: std::ops::Bound<&[u8]>,
            ) -> engine_core::Result<crate::store::KvIter<'_>> {
                Ok(self.core.range(start, end))
            }
            fn num_rows(&self) -> engine_core::Result<u64> {
                self.core.rows()
            }
            fn for_each_unordered(
                &self,
                visit: &mut crate::store::VisitPair<'_>,
            ) -> engine_core::Result<()> {
                self.core.for_each_unordered(visit)
            }
        }
    };
}
pub(crate) use read_through_core;

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
struct MergeIter<'a, C: Iterator<Item = &'a Entry>> {
    base: Peekable<KvIter<'a>>,
    changes: Peekable<C>,
}

impl<'a, C: Iterator<Item = &'a Entry>> Iterator for MergeIter<'a, C> {
    type Item = Result<KeyValue>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let take_change = match (self.base.peek(), self.changes.peek()) {
                (None, None) => return None,
                (Some(Err(_)), _) => return self.base.next(),
                (Some(Ok((bk, _))), Some(c)) => {
                    if bk.as_slice() == c.key() {
                        // The change supersedes the committed pair.
                        self.base.next();
                        true
                    } else {
                        c.key() < bk.as_slice()
                    }
                }
                (None, Some(_)) => true,
                (Some(_), None) => false,
            };
            if !take_change {
                return self.base.next();
            }
            if let Some(c) = self.changes.next()
                && let Some(v) = c.value()
            {
                return Some(Ok((c.key().to_vec(), v.to_vec())));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

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
        core.put(b"c", b"3").unwrap();
        core.put(b"b", b"2").unwrap();
        core.put(b"c", b"30").unwrap();
        core.remove(b"a").unwrap();
        core.remove(b"zz").unwrap();
        core.put(b"y", b"1").unwrap();
        core.remove(b"y").unwrap();
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
        assert_eq!(core.count_changes().unwrap(), (2, 1));
        assert_eq!(core.updated, 4);
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
