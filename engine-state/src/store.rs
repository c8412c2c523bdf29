//! The store API the stateful operators use: [`StateStoreProvider`] opens a [`StateStore`]
//! (read-write) or a [`ReadStateStore`] at a version.
//!
//! Contract, relied on for exactly-once output:
//! - Versions are Spark's: version `v` is the state after batch `v - 1`; version 0 is empty.
//!   A store opened at `v` sees exactly the state committed as `v`, plus its own writes.
//! - [`StateStore::commit`] writes version `v + 1` (the delta file first, durably, then the
//!   provider's working copy) and returns `v + 1`. Committing the same version again (a batch
//!   re-run after a crash) writes the same content again and is harmless.
//! - [`StateStore::abort`], or dropping an uncommitted store, leaves version `v` as it was and
//!   writes nothing.
//! - After a crash in the middle of writing `v + 1`, opening `v` gives exactly `v`; opening
//!   `v + 1` gives it whole or fails with an error naming the missing or damaged file.
//!
//! Keys are compared as bytes: with keys in Arrow's row format (see [`crate::rows`]) byte
//! order is the key's sort order, so an event-time-first key makes eviction a range scan.

use std::collections::BTreeMap;
use std::ops::Bound;

use engine_core::Result;

use crate::id::StateStoreId;

/// A key and its value, as stored.
pub type KeyValue = (Vec<u8>, Vec<u8>);

/// Pairs in ascending key order.
pub type KvIter<'a> = Box<dyn Iterator<Item = Result<KeyValue>> + 'a>;

/// A visitor of borrowed pairs (key, value); an error stops the walk.
pub type VisitPair<'a> = dyn FnMut(&[u8], &[u8]) -> Result<()> + 'a;

/// A read-only view of one version.
pub trait ReadStateStore: Send {
    /// Which store.
    fn id(&self) -> &StateStoreId;

    /// The version this store was opened at.
    fn version(&self) -> u64;

    /// The value of `key`, if present.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// The pairs with `start <= key < end` (as the bounds say), in key order.
    fn range(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Result<KvIter<'_>>;

    /// The pairs whose key starts with `prefix`, in key order (a session window's sessions
    /// of one key).
    fn prefix_scan(&self, prefix: &[u8]) -> Result<KvIter<'_>> {
        let end = prefix_end(prefix);
        let end = match &end {
            Some(e) => Bound::Excluded(e.as_slice()),
            None => Bound::Unbounded,
        };
        self.range(Bound::Included(prefix), end)
    }

    /// Every pair, in key order.
    fn iter(&self) -> Result<KvIter<'_>> {
        self.range(Bound::Unbounded, Bound::Unbounded)
    }

    /// Calls `visit` with every pair, in no particular order, lending the bytes where the
    /// provider can (the memory provider walks its hash table: no ordered index, no copies).
    /// For a scan that must look at every pair but keeps few of them, such as a session
    /// window's eviction, whose sessions are ordered by key rather than by end.
    fn for_each_unordered(&self, visit: &mut VisitPair<'_>) -> Result<()> {
        for pair in self.iter()? {
            let (k, v) = pair?;
            visit(&k, &v)?;
        }
        Ok(())
    }

    /// Keys in this version with the store's own writes (before commit this looks up every
    /// changed key); [`crate::files::UNKNOWN_ROWS`] when the disk provider does not track rows.
    fn num_rows(&self) -> Result<u64>;
}

/// A writable store of one version; see the module's contract.
pub trait StateStore: ReadStateStore {
    /// Sets `key` to `value`.
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()>;

    /// Removes `key` (nothing happens if it is absent).
    fn remove(&mut self, key: &[u8]) -> Result<()>;

    /// Writes the next version and returns its number; the store is read-only afterwards.
    fn commit(&mut self) -> Result<u64>;

    /// Drops this version's writes; the store is unusable afterwards.
    fn abort(&mut self);

    /// True once [`StateStore::commit`] succeeded.
    fn has_committed(&self) -> bool;

    /// Counters of this store (final after commit), with Spark's names.
    fn metrics(&self) -> StateStoreMetrics;
}

/// One store's numbers for the progress report's `stateOperators` (Spark's names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateStoreMetrics {
    /// `numRowsTotal`: keys in the store after the writes.
    pub num_rows_total: u64,
    /// `numRowsUpdated`: puts.
    pub num_rows_updated: u64,
    /// `numRowsRemoved`: removes of keys that were present.
    pub num_rows_removed: u64,
    /// `memoryUsedBytes`: an estimate of the memory the store holds.
    pub memory_used_bytes: u64,
    /// `commitTimeMs`: time spent in commit.
    pub commit_time_ms: u64,
    /// Provider-specific metrics (`loadedMapCacheHitCount`, `rocksdbSstFileSize`, ...).
    pub custom: BTreeMap<String, i64>,
}

impl StateStoreMetrics {
    /// Adds another partition's numbers (the operator's totals are sums, as in Spark).
    pub fn add(&mut self, other: &StateStoreMetrics) {
        self.num_rows_total += other.num_rows_total;
        self.num_rows_updated += other.num_rows_updated;
        self.num_rows_removed += other.num_rows_removed;
        self.memory_used_bytes += other.memory_used_bytes;
        self.commit_time_ms += other.commit_time_ms;
        for (k, v) in &other.custom {
            *self.custom.entry(k.clone()).or_insert(0) += v;
        }
    }
}

/// Opens the stores of one (operator, partition, store name) at any version; one provider
/// per store lives for the whole query run, so it can keep the working copy between batches.
pub trait StateStoreProvider: Send + Sync {
    /// Which store.
    fn id(&self) -> &StateStoreId;

    /// Spark's class name of this provider.
    fn class_name(&self) -> &'static str;

    /// A writable store at `version`.
    fn get_store(&self, version: u64) -> Result<Box<dyn StateStore>>;

    /// A read-only store at `version`.
    fn get_read_store(&self, version: u64) -> Result<Box<dyn ReadStateStore>>;

    /// Snapshot and cleanup (see [`crate::maintenance`]); called by the maintenance thread.
    fn do_maintenance(&self) -> Result<()>;

    /// The oldest version a store of this provider currently has open (maintenance keeps it
    /// loadable), if any.
    fn oldest_open_version(&self) -> Option<u64>;
}

/// The smallest byte string greater than every string starting with `prefix` (`None`: no
/// bound, the prefix is all `0xff`).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_is_the_next_string_after_the_prefix() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
        assert_eq!(prefix_end(b""), None);
    }
}
