//! The memory provider (the role of Spark's `HDFSBackedStateStoreProvider`, the default): the
//! state as a hash table in memory with an ordered index for scans (see [`crate::table`]),
//! every version's changes in a delta file.
//!
//! The newest committed version stays cached between batches (a hit); any other version is
//! rebuilt from the checkpoint files (a miss), as Spark counts them in
//! `loadedMapCacheHitCount` / `loadedMapCacheMissCount`. A writable store takes the cached map
//! and writes into a change set beside it; commit applies the changes in place, so a batch
//! costs what it changes, not the size of the state. Only the newest version is cached
//! (Spark keeps `maxBatchesToRetainInMemory` = 2 copies): keeping an older one would cost a
//! copy of the whole map per batch; `maxBatchesToRetainInMemory = 0` turns the cache off.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Instant;

use engine_core::Result;

use crate::changes::{Base, Phase, WriteCore, is_empty_range, read_through_core};
use crate::conf::{HDFS_PROVIDER_CLASS, StateStoreConf};
use crate::errors::commit_error;
use crate::files::{FileKind, FileWriter, file_path};
use crate::id::StateStoreId;
use crate::maintenance;
use crate::pins::Pins;
use crate::store::{KvIter, ReadStateStore, StateStore, StateStoreMetrics, StateStoreProvider};
use crate::table::{Entry, KeyTable};

/// The state of one version.
type Map = KeyTable;

/// Estimated bytes per entry beyond its key and value: the hash table's slot at its load
/// factor (16-byte pointer and a control byte), the entry's header and the allocator's.
const ENTRY_OVERHEAD: u64 = 48;

fn entry_bytes(k: &[u8], v: &[u8]) -> u64 {
    (k.len() + v.len()) as u64 + ENTRY_OVERHEAD
}

/// A committed version in memory.
struct Cached {
    version: u64,
    map: Arc<Map>,
    bytes: u64,
}

struct Inner {
    id: StateStoreId,
    conf: StateStoreConf,
    /// Spark's provider description, used in error messages.
    name: String,
    cache: Mutex<Option<Cached>>,
    hits: AtomicU64,
    misses: AtomicU64,
    pins: Pins,
    /// Loads list and open their files under the read lock, cleanup deletes under the write
    /// lock, so a load never finds a file it listed deleted.
    files: RwLock<()>,
}

/// The in-memory provider of one store.
pub struct MemoryProvider {
    inner: Arc<Inner>,
}

impl MemoryProvider {
    /// The provider of `id` with `conf`.
    pub fn new(id: StateStoreId, conf: StateStoreConf) -> Self {
        let name = id.provider_name("HDFSStateStoreProvider");
        MemoryProvider {
            inner: Arc::new(Inner {
                id,
                conf,
                name,
                cache: Mutex::new(None),
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
                pins: Pins::default(),
                files: RwLock::new(()),
            }),
        }
    }
}

impl Inner {
    /// The map of `version`: the cached one (taken out when `take`, shared otherwise) or one
    /// rebuilt from the files.
    fn map_at(&self, version: u64, take: bool) -> Result<Cached> {
        {
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            if cache.as_ref().is_some_and(|c| c.version == version) {
                self.hits.fetch_add(1, Ordering::Relaxed);
                if take {
                    if let Some(c) = cache.take() {
                        return Ok(c);
                    }
                } else if let Some(c) = cache.as_ref() {
                    return Ok(Cached {
                        version,
                        map: Arc::clone(&c.map),
                        bytes: c.bytes,
                    });
                }
            }
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let stream = maintenance::open_version(&self.id.dir(), version, &self.name, &self.files)?;
        let mut bytes = 0;
        let mut map = Map::default();
        for kv in stream {
            let (k, v) = kv?;
            bytes += entry_bytes(&k, &v);
            map.insert(Entry::new(&k, Some(&v))?);
        }
        Ok(Cached {
            version,
            map: Arc::new(map),
            bytes,
        })
    }

    /// Keeps `c` as the cached version unless a newer one is cached.
    fn give_back(&self, c: Cached) {
        if self.conf.max_versions_in_memory == 0 {
            return;
        }
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.as_ref().is_none_or(|old| old.version <= c.version) {
            *cache = Some(c);
        }
    }

    fn custom_metrics(&self, state_bytes: u64) -> BTreeMap<String, i64> {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        BTreeMap::from([
            (
                "loadedMapCacheHitCount".to_string(),
                n(self.hits.load(Ordering::Relaxed)),
            ),
            (
                "loadedMapCacheMissCount".to_string(),
                n(self.misses.load(Ordering::Relaxed)),
            ),
            ("stateOnCurrentVersionSizeBytes".to_string(), n(state_bytes)),
        ])
    }
}

impl Base for Arc<Map> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self
            .as_ref()
            .get(key)
            .and_then(Entry::value)
            .map(<[u8]>::to_vec))
    }

    fn contains(&self, key: &[u8]) -> Result<bool> {
        Ok(self.as_ref().get(key).is_some())
    }

    fn range<'a>(&'a self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> KvIter<'a> {
        Box::new(
            self.as_ref()
                .range(start, end)
                .filter_map(|e| e.value().map(|v| Ok((e.key().to_vec(), v.to_vec())))),
        )
    }

    fn for_each(&self, visit: &mut crate::store::VisitPair<'_>) -> Result<()> {
        for e in self.as_ref().iter() {
            if let Some(v) = e.value() {
                visit(e.key(), v)?;
            }
        }
        Ok(())
    }
}

impl StateStoreProvider for MemoryProvider {
    fn id(&self) -> &StateStoreId {
        &self.inner.id
    }

    fn class_name(&self) -> &'static str {
        HDFS_PROVIDER_CLASS
    }

    fn get_store(&self, version: u64) -> Result<Box<dyn StateStore>> {
        let cached = self.inner.map_at(version, true)?;
        self.inner.pins.pin(version);
        let rows = cached.map.len() as u64;
        Ok(Box::new(MemoryStore {
            core: WriteCore::new(self.inner.id.clone(), version, cached.map, rows),
            bytes: cached.bytes,
            dirty: false,
            commit_ms: 0,
            inner: Arc::clone(&self.inner),
        }))
    }

    fn get_read_store(&self, version: u64) -> Result<Box<dyn ReadStateStore>> {
        let cached = self.inner.map_at(version, false)?;
        self.inner.pins.pin(version);
        Ok(Box::new(MemoryReadStore {
            id: self.inner.id.clone(),
            version,
            map: cached.map,
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

/// A writable store of the memory provider.
struct MemoryStore {
    core: WriteCore<Arc<Map>>,
    /// Estimated bytes of the committed map.
    bytes: u64,
    /// The map holds changes of a commit that failed: it is no version, never cache it.
    dirty: bool,
    commit_ms: u64,
    inner: Arc<Inner>,
}

impl MemoryStore {
    /// Writes the delta file while applying the changes to the map in place (unless a read
    /// store shares this version: then it keeps its copy). Whether each key existed comes from
    /// the map itself. On an error the map is half changed: it is marked dirty and never
    /// cached.
    fn write_and_apply(&mut self) -> Result<(u64, u64)> {
        let next = self.core.version + 1;
        let path = file_path(&self.core.id.dir(), next, FileKind::Delta);
        let mut w = FileWriter::create(&path, FileKind::Delta, next, self.inner.conf.codec)?;
        let changes = self.core.changes.drain_sorted();
        self.dirty = true;
        let map = Arc::make_mut(&mut self.core.base);
        let (mut rows, mut removed) = (self.core.base_rows, 0u64);
        for e in changes {
            let old = match e.value() {
                Some(v) => {
                    w.put(e.key(), v)?;
                    self.bytes += entry_bytes(e.key(), v);
                    // The change's entry becomes the committed one: no copy.
                    let old = map.insert(e);
                    rows += u64::from(old.is_none());
                    old
                }
                None => {
                    w.remove(e.key())?;
                    let old = map.remove(e.key());
                    if old.is_some() {
                        rows = rows.saturating_sub(1);
                        removed += 1;
                    }
                    old
                }
            };
            if let Some(old) = old {
                let old_bytes = entry_bytes(old.key(), old.value().unwrap_or(&[]));
                self.bytes = self.bytes.saturating_sub(old_bytes);
            }
        }
        w.finish(rows)?;
        self.dirty = false;
        Ok((rows, removed))
    }
}

read_through_core!(MemoryStore);

impl StateStore for MemoryStore {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.core.put(key, value)
    }

    fn remove(&mut self, key: &[u8]) -> Result<()> {
        self.core.remove(key)
    }

    fn commit(&mut self) -> Result<u64> {
        let start = Instant::now();
        self.core.check_open("commit")?;
        let counts = self
            .write_and_apply()
            .map_err(|e| commit_error(&self.inner.name, e))?;
        self.core.committed = Some(counts);
        self.core.phase = Phase::Committed;
        self.inner.pins.unpin(self.core.version);
        let next = self.core.version + 1;
        self.inner.give_back(Cached {
            version: next,
            map: Arc::clone(&self.core.base),
            bytes: self.bytes,
        });
        self.commit_ms = start.elapsed().as_millis() as u64;
        Ok(next)
    }

    fn abort(&mut self) {
        if self.core.phase != Phase::Open {
            return;
        }
        self.core.phase = Phase::Aborted;
        self.core.changes.clear();
        self.inner.pins.unpin(self.core.version);
        if !self.dirty {
            self.inner.give_back(Cached {
                version: self.core.version,
                map: Arc::clone(&self.core.base),
                bytes: self.bytes,
            });
        }
    }

    fn has_committed(&self) -> bool {
        self.core.phase == Phase::Committed
    }

    fn metrics(&self) -> StateStoreMetrics {
        let change_bytes = match self.core.phase {
            Phase::Open => self.core.change_bytes,
            _ => 0,
        };
        StateStoreMetrics {
            num_rows_total: self.core.rows().unwrap_or(self.core.base_rows),
            num_rows_updated: self.core.updated,
            num_rows_removed: self.core.removed(),
            memory_used_bytes: self.bytes + change_bytes + self.core.base.index_bytes(),
            commit_time_ms: self.commit_ms,
            custom: self.inner.custom_metrics(self.bytes),
        }
    }
}

impl Drop for MemoryStore {
    fn drop(&mut self) {
        self.abort();
    }
}

/// A read-only store of the memory provider: shares the version's map.
struct MemoryReadStore {
    id: StateStoreId,
    version: u64,
    map: Arc<Map>,
    inner: Arc<Inner>,
}

impl ReadStateStore for MemoryReadStore {
    fn id(&self) -> &StateStoreId {
        &self.id
    }
    fn version(&self) -> u64 {
        self.version
    }
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Base::get(&self.map, key)
    }
    fn range(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Result<KvIter<'_>> {
        if is_empty_range(start, end) {
            return Ok(Box::new(std::iter::empty()));
        }
        Ok(Base::range(&self.map, start, end))
    }
    fn num_rows(&self) -> Result<u64> {
        Ok(self.map.len() as u64)
    }
}

impl Drop for MemoryReadStore {
    fn drop(&mut self) {
        self.inner.pins.unpin(self.version);
    }
}
