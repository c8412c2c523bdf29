//! The disk provider's working space: one embedded LSM (fjall) per [`crate::StateStores`],
//! in a fresh directory under `spark.local.dir`, one keyspace per store, deleted on drop.
//!
//! One LSM for all stores, not one per store as Spark's RocksDB provider has: every partition
//! shares the background threads and the block cache, which bounds memory the way Spark's
//! `boundedMemoryUsage` does. The working copy is a cache of the checkpoint, never the source
//! of truth, so its journal is not synced: a new process rebuilds from the checkpoint files.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use engine_core::{EngineError, Result};
use fjall::config::PinningPolicy;
use fjall::{Database, Keyspace, KeyspaceCreateOptions};

use crate::conf::{DiskConf, StateStoreConf};

/// The LSM shared by the disk providers of one query run.
pub struct DiskEnv {
    db: Database,
    dir: PathBuf,
    conf: DiskConf,
    next_keyspace: AtomicU64,
    live_keyspaces: AtomicU64,
}

/// A fjall failure as an engine error.
pub(crate) fn lsm_error(what: impl std::fmt::Display, e: fjall::Error) -> EngineError {
    EngineError::external(format!("state store working copy: {what}"), e)
}

impl DiskEnv {
    /// Creates the working directory and opens the LSM with the conf's memory settings.
    pub fn open(conf: &StateStoreConf) -> Result<Arc<DiskEnv>> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = conf.local_dir.join(format!(
            "sstream-state-{}-{nanos}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| EngineError::io(format!("creating {}", dir.display()), e))?;
        let d = &conf.disk;
        let cache = if d.bounded_memory {
            // Spark's bounded mode splits the cap between block cache and write buffers.
            d.max_memory_bytes / 2
        } else {
            d.block_cache_bytes
        };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
        let db = Database::builder(&dir)
            .cache_size(cache.max(1 << 20))
            .manual_journal_persist(true)
            .worker_threads(threads)
            .temporary(true)
            .open()
            .map_err(|e| lsm_error(format!("opening {}", dir.display()), e))?;
        Ok(Arc::new(DiskEnv {
            db,
            dir,
            conf: d.clone(),
            next_keyspace: AtomicU64::new(0),
            live_keyspaces: AtomicU64::new(0),
        }))
    }

    /// The working directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The LSM.
    pub(crate) fn db(&self) -> &Database {
        &self.db
    }

    /// A new empty keyspace for one store's working copy.
    pub(crate) fn new_keyspace(&self) -> Result<Keyspace> {
        let n = self.next_keyspace.fetch_add(1, Ordering::Relaxed);
        let live = self.live_keyspaces.fetch_add(1, Ordering::Relaxed) + 1;
        let memtable = if self.conf.bounded_memory {
            (self.conf.max_memory_bytes / 2 / live).min(self.conf.write_buffer_bytes)
        } else {
            self.conf.write_buffer_bytes
        };
        let memtable = memtable.max(1 << 20);
        let name = format!("s{n}");
        // Filters and indexes stay pinned in memory (about 1.3 bytes per key): with a small
        // block cache, an unpinned filter of a large table is read and checksummed again on
        // every point read, which the row counting at commit does for every changed key.
        self.db
            .keyspace(&name, || {
                KeyspaceCreateOptions::default()
                    .max_memtable_size(memtable)
                    .filter_block_pinning_policy(PinningPolicy::all(true))
                    .index_block_pinning_policy(PinningPolicy::all(true))
            })
            .map_err(|e| lsm_error(format!("creating keyspace {name}"), e))
    }

    /// Deletes a keyspace no store uses any more.
    pub(crate) fn drop_keyspace(&self, ks: Keyspace) -> Result<()> {
        self.live_keyspaces.fetch_sub(1, Ordering::Relaxed);
        self.db
            .delete_keyspace(ks)
            .map_err(|e| lsm_error("deleting a keyspace", e))
    }

    /// Bytes held by the block cache and the memtables.
    pub fn memory_bytes(&self) -> u64 {
        self.db.cache_size() + self.db.write_buffer_size()
    }

    /// Bytes of the LSM on disk.
    pub fn disk_bytes(&self) -> u64 {
        self.db.disk_space().unwrap_or(0)
    }
}
