//! The disk provider (the role of Spark's `RocksDBStateStoreProvider`): the working copy of
//! the state in an embedded LSM on local disk, memory bounded by the block cache and the
//! write buffers, every version's changes in the same delta files as the memory provider.
//!
//! Loading version `v`: the working copy is reused when it is at `v`; when it is behind and
//! the deltas up to `v` exist, they are replayed onto it; otherwise (a new process, a retry of
//! an older version) a fresh keyspace is bulk-loaded from the checkpoint's merged stream, which
//! is sorted, so it goes straight into table files without the memtable. A commit writes its
//! delta file, then its changes into the working copy: a large change set as a table file of
//! its own, the same way, a small one through the LSM's journal and memtable.

mod env;
mod filter;

pub use env::DiskEnv;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Instant;

use engine_core::{EngineError, Result};
use fjall::Keyspace;

use crate::changes::{Base, Phase, WriteCore, is_empty_range, read_through_core};
use crate::conf::{ROCKSDB_PROVIDER_CLASS, StateStoreConf};
use crate::errors::{commit_error, out_of_order};
use crate::files::{FileKind, StoreFiles, UNKNOWN_ROWS, merge::open_file};
use crate::id::StateStoreId;
use crate::maintenance;
use crate::pins::Pins;
use crate::store::{KvIter, ReadStateStore, StateStore, StateStoreMetrics, StateStoreProvider};
use crate::table::Entry;
use env::lsm_error;
use filter::KeyFilter;

/// fjall's key size limit.
const MAX_KEY_BYTES: usize = 65_535;

/// Level-0 tables at which a commit waits for the compactions before ingesting more: fjall
/// halts its own writers at 30 level-0 runs.
const L0_HALT_TABLES: usize = 30;

/// The longest a commit waits for the compactions.
const MAX_STALL: std::time::Duration = std::time::Duration::from_secs(30);

/// The working copy of one store.
#[derive(Default)]
struct Local {
    keyspace: Option<Keyspace>,
    /// The version the keyspace holds.
    version: Option<u64>,
    rows: u64,
    /// The keys the keyspace may hold, when rows are tracked (a writable store holds it while
    /// it is open).
    filter: Option<KeyFilter>,
    /// A writable store is open on it.
    checked_out: bool,
}

struct Inner {
    id: StateStoreId,
    conf: StateStoreConf,
    env: Arc<DiskEnv>,
    name: String,
    local: Mutex<Local>,
    pins: Pins,
    files: RwLock<()>,
    reused: AtomicU64,
    replayed: AtomicU64,
    reloaded: AtomicU64,
}

/// The on-disk provider of one store.
pub struct DiskProvider {
    inner: Arc<Inner>,
}

impl DiskProvider {
    /// The provider of `id`, keeping its working copy in `env`.
    pub fn new(id: StateStoreId, conf: StateStoreConf, env: Arc<DiskEnv>) -> Self {
        let name = id.provider_name("RocksDBStateStoreProvider");
        DiskProvider {
            inner: Arc::new(Inner {
                id,
                conf,
                env,
                name,
                local: Mutex::new(Local::default()),
                pins: Pins::default(),
                files: RwLock::new(()),
                reused: AtomicU64::new(0),
                replayed: AtomicU64::new(0),
                reloaded: AtomicU64::new(0),
            }),
        }
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Local> {
        self.local.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Brings the working copy to `version`; returns its keyspace.
    fn prepare(&self, local: &mut Local, version: u64) -> Result<Keyspace> {
        if let (Some(ks), Some(v)) = (&local.keyspace, local.version) {
            if v == version {
                self.reused.fetch_add(1, Ordering::Relaxed);
                return Ok(ks.clone());
            }
            if v < version {
                let files = StoreFiles::list(&self.id.dir())?;
                if (v + 1..=version).all(|d| files.deltas.contains(&d)) {
                    let ks = ks.clone();
                    self.replay(local, &ks, &files, v, version)?;
                    self.replayed.fetch_add(1, Ordering::Relaxed);
                    return Ok(ks);
                }
            }
        }
        self.reload(local, version)
    }

    /// Applies the deltas after `from` up to `to` onto the working copy.
    fn replay(
        &self,
        local: &mut Local,
        ks: &Keyspace,
        files: &StoreFiles,
        from: u64,
        to: u64,
    ) -> Result<()> {
        // The copy is at no known version while half replayed.
        local.version = None;
        for v in from + 1..=to {
            let mut reader = {
                let _listing = self.files.read().unwrap_or_else(PoisonError::into_inner);
                open_file(
                    &files.path(v, FileKind::Delta),
                    FileKind::Delta,
                    v,
                    &self.name,
                )?
            };
            let mut batch = self.env.db().batch().durability(None);
            while let Some((k, value)) = reader.next_record()? {
                match value {
                    Some(value) => {
                        if let Some(f) = local.filter.as_mut() {
                            f.insert(&k);
                        }
                        batch.insert(ks, &*lsm_key(&k), value)
                    }
                    None => batch.remove(ks, &*lsm_key(&k)),
                }
            }
            let trailer = reader.finish()?;
            batch
                .commit()
                .map_err(|e| lsm_error(format!("replaying version {v}"), e))?;
            local.rows = trailer.rows;
        }
        local.version = Some(to);
        Ok(())
    }

    /// Builds a fresh keyspace at `version` from the checkpoint and drops the old one.
    fn reload(&self, local: &mut Local, version: u64) -> Result<Keyspace> {
        self.reloaded.fetch_add(1, Ordering::Relaxed);
        local.version = None;
        local.filter = None;
        if let Some(old) = local.keyspace.take() {
            self.env.drop_keyspace(old)?;
        }
        let stream = maintenance::open_version(&self.id.dir(), version, &self.name, &self.files)?;
        let ks = self.env.new_keyspace()?;
        local.keyspace = Some(ks.clone());
        let mut rows = 0u64;
        let mut ingestion = None;
        let mut filter = self.conf.disk.track_total_rows.then(KeyFilter::default);
        for kv in stream {
            let (k, v) = kv?;
            if let Some(f) = filter.as_mut() {
                f.insert(&k);
            }
            if ingestion.is_none() {
                ingestion = Some(
                    ks.start_ingestion()
                        .map_err(|e| lsm_error("starting a bulk load", e))?,
                );
            }
            if let Some(ing) = ingestion.as_mut() {
                // The stream's keys are strictly ascending (the file reader checks it), as
                // the bulk load requires.
                ing.write(&*lsm_key(&k), v)
                    .map_err(|e| lsm_error(format!("loading version {version}"), e))?;
            }
            rows += 1;
        }
        if let Some(ing) = ingestion {
            ing.finish()
                .map_err(|e| lsm_error(format!("loading version {version}"), e))?;
        }
        local.rows = rows;
        local.filter = filter;
        local.version = Some(version);
        Ok(ks)
    }

    fn custom_metrics(&self) -> BTreeMap<String, i64> {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        BTreeMap::from([
            ("rocksdbSstFileSize".to_string(), n(self.env.disk_bytes())),
            (
                "workingCopyReusedCount".to_string(),
                n(self.reused.load(Ordering::Relaxed)),
            ),
            (
                "workingCopyReplayedCount".to_string(),
                n(self.replayed.load(Ordering::Relaxed)),
            ),
            (
                "workingCopyReloadedCount".to_string(),
                n(self.reloaded.load(Ordering::Relaxed)),
            ),
        ])
    }
}

impl StateStoreProvider for DiskProvider {
    fn id(&self) -> &StateStoreId {
        &self.inner.id
    }

    fn class_name(&self) -> &'static str {
        ROCKSDB_PROVIDER_CLASS
    }

    fn get_store(&self, version: u64) -> Result<Box<dyn StateStore>> {
        let mut local = self.inner.lock();
        if local.checked_out {
            return Err(out_of_order(format!(
                "a second writable store of {} was requested while one is open",
                self.inner.id
            )));
        }
        let ks = self.inner.prepare(&mut local, version)?;
        local.checked_out = true;
        self.inner.pins.pin(version);
        Ok(Box::new(DiskStore {
            core: WriteCore::new(self.inner.id.clone(), version, DiskBase(ks), local.rows),
            filter: local.filter.take(),
            commit_ms: 0,
            inner: Arc::clone(&self.inner),
        }))
    }

    fn get_read_store(&self, version: u64) -> Result<Box<dyn ReadStateStore>> {
        let mut local = self.inner.lock();
        if local.checked_out && local.version != Some(version) {
            return Err(out_of_order(format!(
                "a read store of {} at version {version} was requested while a writable store is open",
                self.inner.id
            )));
        }
        let ks = self.inner.prepare(&mut local, version)?;
        self.inner.pins.pin(version);
        Ok(Box::new(DiskReadStore {
            id: self.inner.id.clone(),
            version,
            rows: local.rows,
            snapshot: DiskSnapshot {
                snapshot: self.inner.env.db().snapshot(),
                ks,
            },
            inner: Arc::clone(&self.inner),
        }))
    }

    fn do_maintenance(&self) -> Result<()> {
        let i = &self.inner;
        maintenance::run(&i.id.dir(), &i.conf, &i.name, &i.files, i.pins.oldest())
    }

    fn oldest_open_version(&self) -> Option<u64> {
        self.inner.pins.oldest()
    }
}

impl Drop for DiskProvider {
    fn drop(&mut self) {
        let mut local = self.inner.lock();
        if let Some(ks) = local.keyspace.take()
            && let Err(e) = self.inner.env.drop_keyspace(ks)
        {
            log::warn!("dropping the working copy of {}: {e}", self.inner.id);
        }
    }
}

/// The committed state in the working copy (a writable store is its only writer).
struct DiskBase(Keyspace);

/// A state key as the LSM tree holds it. The tree cannot hold an empty key (a global
/// aggregation's, a streaming limit's are empty), so the empty key is `[0]` and a key that
/// starts with 0 gets one more 0 in front; every other key (row-encoded keys start with a
/// validity byte of 1 or more) is stored as it is. The map keeps the order of keys and is
/// one-to-one, so range scans and the bulk loads' ascending order carry over unchanged.
fn lsm_key(key: &[u8]) -> Cow<'_, [u8]> {
    match key.first() {
        None => Cow::Borrowed(&[0]),
        Some(0) => {
            let mut k = Vec::with_capacity(key.len() + 1);
            k.push(0);
            k.extend_from_slice(key);
            Cow::Owned(k)
        }
        Some(_) => Cow::Borrowed(key),
    }
}

/// The state key of a key the LSM tree holds (the inverse of [`lsm_key`]).
fn state_key(stored: &[u8]) -> &[u8] {
    match stored {
        [0] => &[],
        [0, rest @ ..] => rest,
        other => other,
    }
}

fn owned_range(start: Bound<&[u8]>, end: Bound<&[u8]>) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let own = |k: &[u8]| lsm_key(k).into_owned();
    (start.map(own), end.map(own))
}

fn guard_pair(g: fjall::Guard) -> Result<(Vec<u8>, Vec<u8>)> {
    let (k, v) = g
        .into_inner()
        .map_err(|e| lsm_error("reading the working copy", e))?;
    Ok((state_key(&k).to_vec(), v.to_vec()))
}

impl Base for DiskBase {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.0
            .get(lsm_key(key))
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| lsm_error("reading the working copy", e))
    }

    fn contains(&self, key: &[u8]) -> Result<bool> {
        self.0
            .contains_key(lsm_key(key))
            .map_err(|e| lsm_error("reading the working copy", e))
    }

    fn range<'a>(&'a self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> KvIter<'a> {
        Box::new(self.0.range(owned_range(start, end)).map(guard_pair))
    }
}

/// A consistent view of one version for read stores, unaffected by later commits.
struct DiskSnapshot {
    snapshot: fjall::Snapshot,
    ks: Keyspace,
}

impl Base for DiskSnapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        use fjall::Readable;
        self.snapshot
            .get(&self.ks, lsm_key(key))
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| lsm_error("reading the working copy", e))
    }

    fn contains(&self, key: &[u8]) -> Result<bool> {
        use fjall::Readable;
        self.snapshot
            .contains_key(&self.ks, lsm_key(key))
            .map_err(|e| lsm_error("reading the working copy", e))
    }

    fn range<'a>(&'a self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> KvIter<'a> {
        use fjall::Readable;
        Box::new(
            self.snapshot
                .range(&self.ks, owned_range(start, end))
                .map(guard_pair),
        )
    }
}

/// A writable store of the disk provider.
struct DiskStore {
    core: WriteCore<DiskBase>,
    /// The working copy's key filter, checked out with the store.
    filter: Option<KeyFilter>,
    commit_ms: u64,
    inner: Arc<Inner>,
}

impl DiskStore {
    fn release(&mut self, committed_rows: Option<u64>) {
        let mut local = self.inner.lock();
        local.checked_out = false;
        local.filter = self.filter.take();
        if let Some(rows) = committed_rows {
            local.version = Some(self.core.version + 1);
            local.rows = rows;
        }
        self.inner.pins.unpin(self.core.version);
    }

    /// Applies `sorted` (the changes in key order) to the working copy: a large change set
    /// (`ingest_min_bytes`) as a table file of its own, a small one through the journal and
    /// the memtable. Per key the table is far cheaper: no journal record (the delta file
    /// already made the version durable), no skip-list insert, no flush later. Per commit it
    /// costs a file, its index and filter and a new LSM version, which only a large change
    /// set repays.
    fn apply(&self, sorted: &[&Entry], new_keys: usize) -> Result<()> {
        let ks = &self.core.base.0;
        let bytes: u64 = sorted
            .iter()
            .map(|e| (e.key().len() + e.value().map_or(0, <[u8]>::len)) as u64)
            .sum();
        // Only when most keys are new: updates of keys the state holds are read again by
        // later batches (their point reads, and the row count's), and those reads are much
        // cheaper in the memtable and the few pinned level-0 tables of flushes than through
        // many small ingested tables, whose filters and indexes are not pinned.
        if bytes >= self.inner.conf.disk.ingest_min_bytes && new_keys * 2 >= sorted.len() {
            self.ingest(ks, sorted)?;
        } else {
            let mut batch = self.inner.env.db().batch().durability(None);
            for e in sorted {
                match e.value() {
                    Some(v) => batch.insert(ks, &*lsm_key(e.key()), v),
                    None => batch.remove(ks, &*lsm_key(e.key())),
                }
            }
            batch
                .commit()
                .map_err(|e| lsm_error("writing the working copy", e))?;
        }
        if self.inner.conf.disk.compact_on_commit {
            ks.major_compact()
                .map_err(|e| lsm_error("compacting the working copy", e))?;
        }
        Ok(())
    }

    /// Writes `sorted` as a new level-0 table (fjall's bulk ingestion: the table writer the
    /// flushes use, with a sequence number above every earlier write, so the new values and
    /// tombstones shadow the older ones as a memtable flush would). The keys are strictly
    /// ascending, as the ingestion requires: a change set holds each key once, sorted.
    fn ingest(&self, ks: &Keyspace, sorted: &[&Entry]) -> Result<()> {
        // Ingestion bypasses fjall's write stall: wait, as fjall's own writes would, while the
        // compactions are behind; bounded, so a failed compaction thread cannot hang commits.
        let stalled = Instant::now();
        while ks.l0_table_count() >= L0_HALT_TABLES && stalled.elapsed() < MAX_STALL {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let mut ingestion = ks
            .start_ingestion()
            .map_err(|e| lsm_error("writing the working copy", e))?;
        for e in sorted {
            match e.value() {
                Some(v) => ingestion.write(&*lsm_key(e.key()), v),
                None => ingestion.write_tombstone(&*lsm_key(e.key())),
            }
            .map_err(|e| lsm_error("writing the working copy", e))?;
        }
        ingestion
            .finish()
            .map_err(|e| lsm_error("writing the working copy", e))
    }
}

read_through_core!(DiskStore);

impl StateStore for DiskStore {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        if key.len() > MAX_KEY_BYTES {
            return Err(EngineError::Unsupported(format!(
                "a state key of {} bytes: the disk state store provider keeps keys of at most {MAX_KEY_BYTES} bytes",
                key.len()
            )));
        }
        self.core.put(key, value)
    }

    fn remove(&mut self, key: &[u8]) -> Result<()> {
        self.core.remove(key)
    }

    fn commit(&mut self) -> Result<u64> {
        let start = Instant::now();
        self.core.check_open("commit")?;
        let sorted = self.core.changes.sorted();
        // Changes that put a key the working copy does not hold (counted only with the rows).
        let mut new_keys = sorted.len();
        let counts = if self.inner.conf.disk.track_total_rows && self.core.base_rows != UNKNOWN_ROWS
        {
            let (base, filter) = (&self.core.base, &mut self.filter);
            // The filter's verdicts for all the changed keys first, in one batched pass.
            let hashes: Vec<u64> = filter.as_ref().map_or_else(Vec::new, |f| {
                sorted.iter().map(|e| f.hash(e.key())).collect()
            });
            let maybe = filter
                .as_ref()
                .map_or_else(Vec::new, |f| f.may_contain_all(&hashes));
            let mut next = 0usize;
            new_keys = 0;
            self.core
                .count_by(sorted.iter().copied(), |key, put| {
                    let i = next;
                    next += 1;
                    let Some(f) = filter.as_mut() else {
                        return base.contains(key);
                    };
                    // A key the filter never saw is new: no point read. (`count_by` calls
                    // this once per change, in `sorted`'s order, so `i` is the key's index.)
                    let existed = maybe.get(i).copied().unwrap_or(true) && base.contains(key)?;
                    if put && !existed {
                        new_keys += 1;
                        match hashes.get(i) {
                            Some(h) => f.insert_hash(*h),
                            None => f.insert(key),
                        }
                    }
                    Ok(existed)
                })
                .map_err(|e| commit_error(&self.inner.name, e))?
        } else {
            // Keys are written uncounted: the filter would miss them.
            self.filter = None;
            (UNKNOWN_ROWS, 0)
        };
        self.core
            .write_delta(
                &sorted,
                &self.core.id.dir(),
                self.inner.conf.codec,
                counts.0,
            )
            .map_err(|e| commit_error(&self.inner.name, e))?;
        // The delta is durable: from here a failure only leaves the working copy behind,
        // and the next load replays the delta onto it.
        let applied = self.apply(&sorted, new_keys);
        drop(sorted);
        self.core.phase = Phase::Committed;
        self.core.committed = Some(counts);
        match applied {
            Ok(()) => self.release(Some(counts.0)),
            Err(e) => {
                self.release(None);
                self.inner.lock().version = None;
                return Err(commit_error(&self.inner.name, e));
            }
        }
        self.core.changes.clear();
        self.commit_ms = start.elapsed().as_millis() as u64;
        Ok(self.core.version + 1)
    }

    fn abort(&mut self) {
        if self.core.phase != Phase::Open {
            return;
        }
        self.core.phase = Phase::Aborted;
        self.core.changes.clear();
        self.release(None);
    }

    fn has_committed(&self) -> bool {
        self.core.phase == Phase::Committed
    }

    fn metrics(&self) -> StateStoreMetrics {
        let rows = self.core.rows().unwrap_or(self.core.base_rows);
        StateStoreMetrics {
            // Spark reports 0 when the rows are not tracked.
            num_rows_total: if rows == UNKNOWN_ROWS { 0 } else { rows },
            num_rows_updated: self.core.updated,
            num_rows_removed: self.core.removed(),
            memory_used_bytes: self.inner.env.memory_bytes()
                + self.core.change_bytes
                + self.filter.as_ref().map_or(0, KeyFilter::bytes),
            commit_time_ms: self.commit_ms,
            custom: self.inner.custom_metrics(),
        }
    }
}

impl Drop for DiskStore {
    fn drop(&mut self) {
        self.abort();
    }
}

/// A read-only store of the disk provider.
struct DiskReadStore {
    id: StateStoreId,
    version: u64,
    rows: u64,
    snapshot: DiskSnapshot,
    inner: Arc<Inner>,
}

impl ReadStateStore for DiskReadStore {
    fn id(&self) -> &StateStoreId {
        &self.id
    }
    fn version(&self) -> u64 {
        self.version
    }
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.snapshot.get(key)
    }
    fn range(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Result<KvIter<'_>> {
        if is_empty_range(start, end) {
            return Ok(Box::new(std::iter::empty()));
        }
        Ok(self.snapshot.range(start, end))
    }
    fn num_rows(&self) -> Result<u64> {
        Ok(self.rows)
    }
}

impl Drop for DiskReadStore {
    fn drop(&mut self) {
        self.inner.pins.unpin(self.version);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key() -> impl Strategy<Value = Vec<u8>> {
        // Short keys over few byte values, so empty keys, zeros and shared prefixes are common.
        prop::collection::vec(
            prop_oneof![Just(0u8), Just(1u8), Just(2u8), any::<u8>()],
            0..4,
        )
    }

    proptest! {
        #[test]
        fn the_tree_form_of_keys_keeps_their_order_and_comes_back(a in key(), b in key()) {
            let (la, lb) = (lsm_key(&a), lsm_key(&b));
            prop_assert!(!la.is_empty());
            prop_assert_eq!(a.cmp(&b), la.cmp(&lb));
            prop_assert_eq!(state_key(&la), a.as_slice());
        }
    }
}
