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
use fjall::compaction::Leveled;
use fjall::config::{PartitioningPolicy, PinningPolicy};
use fjall::{Database, Keyspace, KeyspaceCreateOptions};

use crate::conf::{DiskConf, StateStoreConf};

/// Level-0 tables that start a compaction into level 1 (fjall's default is 4, for tables of
/// a 64 MiB memtable). A large commit is a level-0 table of its own, a few MiB, and with
/// random keys every level-0 compaction rewrites all of level 1: merging 16 such tables at a
/// time instead of 4 rewrote about half as many bytes on 10M keys in commits of 100k.
const L0_TABLES_TO_COMPACT: u8 = 16;

/// Table size compactions aim at (fjall's default 64 MiB). Level 1 holds
/// `L0_TABLES_TO_COMPACT` times this (256 MiB, as with fjall's defaults); smaller tables make
/// each compaction from level 1 down smaller and better targeted.
const TABLE_TARGET_BYTES: u64 = 16 << 20;

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
        let db = Database::builder(&dir)
            .cache_size(cache.max(1 << 20))
            .manual_journal_persist(true)
            // One background thread. fjall 3.1's first worker, when there are several, hands
            // every compaction request back to the queue to stay free for flushes, and with
            // nothing else queued it takes the same request again at once: a busy loop while
            // the other worker compacts (14% of the CPU of a 10M-key load). Large commits
            // bypass the memtable (see `DiskStore::ingest`), so flushes are few.
            .worker_threads(1)
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
        // fjall never pins those of an ingested table (a large commit's, or a reload's): the
        // tables it ingests (its level-1 settings) get partitioned filters and indexes, so a
        // point read loads one small partition through the cache, not the whole block (with
        // whole blocks, 100k updates of a 1M-key state took 30 s instead of 1 s).
        self.db
            .keyspace(&name, || {
                KeyspaceCreateOptions::default()
                    .max_memtable_size(memtable)
                    .filter_block_pinning_policy(PinningPolicy::all(true))
                    .index_block_pinning_policy(PinningPolicy::all(true))
                    .filter_block_partitioning_policy(PartitioningPolicy::new([false, true, false]))
                    .index_block_partitioning_policy(PartitioningPolicy::new([false, true, false]))
                    .compaction_strategy(Arc::new(
                        Leveled::default()
                            .with_l0_threshold(L0_TABLES_TO_COMPACT)
                            .with_table_target_size(TABLE_TARGET_BYTES),
                    ))
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
