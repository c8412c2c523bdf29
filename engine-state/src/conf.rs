//! `StateStoreConf`: the state store settings, from Spark's configuration keys and defaults.
//!
//! Built from plain string key/values (the session's `spark.*` settings, or the conf pinned in
//! a checkpoint's offset log), so this crate needs nothing from the SQL layer.

use std::collections::BTreeSet;
use std::path::PathBuf;

use engine_core::options::{Options, time_string_as_ms};
use engine_core::{EngineError, Result};

/// `spark.sql.streaming.stateStore.providerClass`.
pub const PROVIDER_CLASS: &str = "spark.sql.streaming.stateStore.providerClass";
/// `spark.sql.streaming.stateStore.compression.codec`.
pub const COMPRESSION_CODEC: &str = "spark.sql.streaming.stateStore.compression.codec";
/// `spark.sql.streaming.stateStore.maintenanceInterval`.
pub const MAINTENANCE_INTERVAL: &str = "spark.sql.streaming.stateStore.maintenanceInterval";
/// `spark.sql.streaming.stateStore.minDeltasForSnapshot`.
pub const MIN_DELTAS_FOR_SNAPSHOT: &str = "spark.sql.streaming.stateStore.minDeltasForSnapshot";
/// `spark.sql.streaming.minBatchesToRetain`.
pub const MIN_BATCHES_TO_RETAIN: &str = "spark.sql.streaming.minBatchesToRetain";
/// `spark.sql.streaming.maxBatchesToRetainInMemory`: versions the memory provider caches.
pub const MAX_BATCHES_IN_MEMORY: &str = "spark.sql.streaming.maxBatchesToRetainInMemory";
/// `spark.sql.streaming.stateStore.stateSchemaCheck`.
pub const STATE_SCHEMA_CHECK: &str = "spark.sql.streaming.stateStore.stateSchemaCheck";
/// `spark.local.dir`: where the disk provider keeps its working copies.
pub const LOCAL_DIR: &str = "spark.local.dir";
/// The prefix of Spark's RocksDB provider settings.
pub const ROCKSDB_PREFIX: &str = "spark.sql.streaming.stateStore.rocksdb.";

/// Spark's class name of the in-memory provider (the default).
pub const HDFS_PROVIDER_CLASS: &str =
    "org.apache.spark.sql.execution.streaming.state.HDFSBackedStateStoreProvider";
/// Spark's class name of the on-disk provider.
pub const ROCKSDB_PROVIDER_CLASS: &str =
    "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider";

/// The RocksDB settings that mean something here; every other `rocksdb.*` key is accepted and
/// ignored with one log line.
const ROCKSDB_HONOURED: &[&str] = &[
    "blockcachesizemb",
    "boundedmemoryusage",
    "maxmemoryusagemb",
    "writebuffersizemb",
    "compactoncommit",
    "changelogcheckpointing.enabled",
    "tracktotalnumberofrows",
];

/// Which provider keeps the working state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// Every version's map in memory (Spark's `HDFSBackedStateStoreProvider`).
    Memory,
    /// An embedded LSM on local disk with bounded memory (`RocksDBStateStoreProvider`).
    Disk,
}

impl ProviderKind {
    /// Spark's class name, as recorded in a checkpoint's offset log.
    pub fn class_name(self) -> &'static str {
        match self {
            ProviderKind::Memory => HDFS_PROVIDER_CLASS,
            ProviderKind::Disk => ROCKSDB_PROVIDER_CLASS,
        }
    }

    /// Parses Spark's class names and the short names (`hdfs`, `memory`, `rocksdb`, `disk`),
    /// in any case; anything else is an error that lists the choices.
    pub fn parse(value: &str) -> Result<ProviderKind> {
        let v = value.trim();
        let short = v.rsplit('.').next().unwrap_or(v).to_ascii_lowercase();
        match short.as_str() {
            "hdfsbackedstatestoreprovider" | "hdfs" | "memory" => Ok(ProviderKind::Memory),
            "rocksdbstatestoreprovider" | "rocksdb" | "disk" => Ok(ProviderKind::Disk),
            _ => Err(EngineError::invalid_option(
                PROVIDER_CLASS,
                format!(
                    "unknown state store provider `{value}`; choose {HDFS_PROVIDER_CLASS} \
                     (short names `hdfs`, `memory`; the default) or {ROCKSDB_PROVIDER_CLASS} \
                     (short names `rocksdb`, `disk`)"
                ),
            )),
        }
    }
}

/// How checkpoint files are compressed. The codec is written into every file, so a reader
/// never needs the conf that wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// LZ4 block compression (Spark's default `lz4`).
    Lz4,
}

impl Codec {
    /// Parses `spark.sql.streaming.stateStore.compression.codec`.
    pub fn parse(value: &str) -> Result<Codec> {
        match value.trim().to_ascii_lowercase().as_str() {
            "lz4" => Ok(Codec::Lz4),
            other => Err(EngineError::execution(
                "CODEC_NOT_AVAILABLE.WITH_AVAILABLE_CODECS_SUGGESTION",
                format!(
                    "The codec {other} is not available. Available codecs are lz4. SQLSTATE: 56038"
                ),
            )),
        }
    }
}

/// The disk provider's memory settings (Spark's `spark.sql.streaming.stateStore.rocksdb.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskConf {
    /// `blockCacheSizeMB` (8): the block cache, in bytes.
    pub block_cache_bytes: u64,
    /// `writeBufferSizeMB` (-1: RocksDB's default, 64 MiB): one store's memtable, in bytes.
    pub write_buffer_bytes: u64,
    /// `boundedMemoryUsage` (false): cap cache and write buffers of all stores together.
    pub bounded_memory: bool,
    /// `maxMemoryUsageMB` (500): that cap, in bytes.
    pub max_memory_bytes: u64,
    /// `compactOnCommit` (false): compact the store's LSM after every commit.
    pub compact_on_commit: bool,
    /// `trackTotalNumberOfRows` (true): look every changed key up at commit to count the
    /// state's rows; false skips the lookups and reports `numRowsTotal` as 0, as Spark does.
    pub track_total_rows: bool,
    /// Not a Spark setting: a commit whose changes hold at least this many bytes of keys and
    /// values goes into the working copy as a table file of its own (an LSM bulk ingestion)
    /// instead of through the LSM's journal and memtable (default 1 MiB; see
    /// `DiskStore::apply`). Tests lower it to cover both paths.
    pub ingest_min_bytes: u64,
}

/// Every state store setting, with Spark's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateStoreConf {
    /// The provider (`providerClass`; default the memory one).
    pub provider: ProviderKind,
    /// The checkpoint files' codec (`compression.codec`, default lz4).
    pub codec: Codec,
    /// How often the maintenance thread runs, ms (`maintenanceInterval`, 60s).
    pub maintenance_interval_ms: u64,
    /// Deltas since the last snapshot that make maintenance write one (`minDeltasForSnapshot`,
    /// 10).
    pub min_deltas_for_snapshot: u64,
    /// Versions kept loadable behind the newest (`minBatchesToRetain`, 100, at least 1).
    pub min_versions_to_retain: u64,
    /// Versions the memory provider keeps in memory (`maxBatchesToRetainInMemory`, 2; 0
    /// turns the cache off).
    pub max_versions_in_memory: u64,
    /// Whether a restart checks the state schema (`stateSchemaCheck`, true).
    pub state_schema_check: bool,
    /// Where the disk provider keeps its working copies (`spark.local.dir`, the temp dir).
    pub local_dir: PathBuf,
    /// The disk provider's memory settings.
    pub disk: DiskConf,
}

impl Default for StateStoreConf {
    /// Spark's defaults.
    fn default() -> Self {
        StateStoreConf {
            provider: ProviderKind::Memory,
            codec: Codec::Lz4,
            maintenance_interval_ms: 60_000,
            min_deltas_for_snapshot: 10,
            min_versions_to_retain: 100,
            max_versions_in_memory: 2,
            state_schema_check: true,
            local_dir: std::env::temp_dir(),
            disk: DiskConf::default(),
        }
    }
}

impl Default for DiskConf {
    /// Spark's defaults (the write buffer is RocksDB's 64 MiB per store; with many partitions,
    /// `boundedMemoryUsage` caps them all together, as in Spark).
    fn default() -> Self {
        DiskConf {
            block_cache_bytes: 8 << 20,
            write_buffer_bytes: 64 << 20,
            bounded_memory: false,
            max_memory_bytes: 500 << 20,
            compact_on_commit: false,
            track_total_rows: true,
            ingest_min_bytes: 1 << 20,
        }
    }
}

impl StateStoreConf {
    /// The settings in `pairs` (any other keys are ignored); missing ones take Spark's
    /// defaults.
    ///
    /// ```
    /// use engine_state::conf::{ProviderKind, StateStoreConf};
    /// let conf = StateStoreConf::from_pairs([(
    ///     "spark.sql.streaming.stateStore.providerClass",
    ///     "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider",
    /// )])
    /// .unwrap();
    /// assert_eq!(conf.provider, ProviderKind::Disk);
    /// assert_eq!(conf.min_versions_to_retain, 100);
    /// ```
    pub fn from_pairs<K: AsRef<str>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<StateStoreConf> {
        Self::from_options(&Options::new(pairs))
    }

    /// The settings in `options` (case-insensitive keys, as Spark's conf).
    pub fn from_options(o: &Options) -> Result<StateStoreConf> {
        let d = StateStoreConf::default();
        let provider = match o.get(PROVIDER_CLASS) {
            Some(v) => ProviderKind::parse(v)?,
            None => d.provider,
        };
        let codec = match o.get(COMPRESSION_CODEC) {
            Some(v) => Codec::parse(v)?,
            None => d.codec,
        };
        let maintenance_interval_ms = match o.get(MAINTENANCE_INTERVAL) {
            Some(v) => {
                u64::try_from(time_string_as_ms(MAINTENANCE_INTERVAL, v)?).map_err(|_| {
                    EngineError::invalid_option(MAINTENANCE_INTERVAL, "must not be negative")
                })?
            }
            None => d.maintenance_interval_ms,
        };
        let min_deltas_for_snapshot = o.u64(MIN_DELTAS_FOR_SNAPSHOT, d.min_deltas_for_snapshot)?;
        let min_versions_to_retain = o.u64(MIN_BATCHES_TO_RETAIN, d.min_versions_to_retain)?;
        if min_versions_to_retain == 0 {
            // Spark: "minBatchesToRetain has to be positive".
            return Err(EngineError::invalid_option(
                MIN_BATCHES_TO_RETAIN,
                "minBatchesToRetain has to be positive",
            ));
        }
        let max_versions_in_memory = o.u64(MAX_BATCHES_IN_MEMORY, d.max_versions_in_memory)?;
        let state_schema_check = o.bool(STATE_SCHEMA_CHECK, d.state_schema_check)?;
        let local_dir = o
            .get(LOCAL_DIR)
            // Spark's spark.local.dir may list several directories; the first one is used.
            .and_then(|v| v.split(',').map(str::trim).find(|d| !d.is_empty()))
            .map_or(d.local_dir, PathBuf::from);
        let disk = DiskConf::from_options(o)?;
        Ok(StateStoreConf {
            provider,
            codec,
            maintenance_interval_ms,
            min_deltas_for_snapshot,
            min_versions_to_retain,
            max_versions_in_memory,
            state_schema_check,
            local_dir,
            disk,
        })
    }

    /// This conf with `provider` instead (a restart keeps the checkpoint's provider).
    pub fn with_provider(mut self, provider: ProviderKind) -> Self {
        self.provider = provider;
        self
    }
}

impl DiskConf {
    fn from_options(o: &Options) -> Result<DiskConf> {
        let d = DiskConf::default();
        let key = |k: &str| format!("{ROCKSDB_PREFIX}{k}");
        // Sizes are MiB; Spark's -1 (and any negative value) means "the default".
        let mb = |k: &str, default: u64| -> Result<u64> {
            let v = o.i64(&key(k), -1)?;
            Ok(u64::try_from(v)
                .ok()
                .filter(|v| *v > 0)
                .map_or(default, |v| v.saturating_mul(1 << 20)))
        };
        let ignored: BTreeSet<String> = o
            .iter()
            .filter_map(|(k, _)| k.strip_prefix(&ROCKSDB_PREFIX.to_ascii_lowercase()))
            .filter(|k| !ROCKSDB_HONOURED.contains(k))
            .map(str::to_string)
            .collect();
        if !ignored.is_empty() {
            log::info!(
                "state store: ignoring RocksDB settings that have no meaning for the engine's disk provider: {}",
                ignored.into_iter().collect::<Vec<_>>().join(", ")
            );
        }
        // changelogCheckpointing.enabled is validated and then has no effect: every commit
        // here writes a change log (the delta file) already.
        o.bool(&key("changelogCheckpointing.enabled"), false)?;
        Ok(DiskConf {
            block_cache_bytes: mb("blockCacheSizeMB", d.block_cache_bytes)?,
            write_buffer_bytes: mb("writeBufferSizeMB", d.write_buffer_bytes)?,
            bounded_memory: o.bool(&key("boundedMemoryUsage"), d.bounded_memory)?,
            max_memory_bytes: mb("maxMemoryUsageMB", d.max_memory_bytes)?,
            compact_on_commit: o.bool(&key("compactOnCommit"), d.compact_on_commit)?,
            track_total_rows: o.bool(&key("trackTotalNumberOfRows"), d.track_total_rows)?,
            ingest_min_bytes: d.ingest_min_bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_sparks() {
        let c = StateStoreConf::default();
        assert_eq!(c.provider, ProviderKind::Memory);
        assert_eq!(c.codec, Codec::Lz4);
        assert_eq!(c.maintenance_interval_ms, 60_000);
        assert_eq!(c.min_deltas_for_snapshot, 10);
        assert_eq!(c.min_versions_to_retain, 100);
        assert_eq!(c.max_versions_in_memory, 2);
        assert!(c.state_schema_check);
        assert_eq!(c.disk.block_cache_bytes, 8 << 20);
        assert_eq!(c.disk.max_memory_bytes, 500 << 20);
        assert!(!c.disk.bounded_memory);
    }

    #[test]
    fn provider_class_names_and_short_names() {
        for v in [
            ROCKSDB_PROVIDER_CLASS,
            "RocksDB",
            "disk",
            "RocksDBStateStoreProvider",
        ] {
            assert_eq!(ProviderKind::parse(v).unwrap(), ProviderKind::Disk, "{v}");
        }
        for v in [HDFS_PROVIDER_CLASS, "hdfs", "MEMORY"] {
            assert_eq!(ProviderKind::parse(v).unwrap(), ProviderKind::Memory, "{v}");
        }
        let e = ProviderKind::parse("com.example.MyProvider")
            .unwrap_err()
            .to_string();
        assert!(e.contains("com.example.MyProvider"), "{e}");
        assert!(
            e.contains(HDFS_PROVIDER_CLASS) && e.contains(ROCKSDB_PROVIDER_CLASS),
            "{e}"
        );
    }

    #[test]
    fn settings_are_parsed_and_checked() {
        let c = StateStoreConf::from_pairs([
            (MAINTENANCE_INTERVAL, "5s"),
            (MIN_DELTAS_FOR_SNAPSHOT, "3"),
            (MIN_BATCHES_TO_RETAIN, "7"),
            (STATE_SCHEMA_CHECK, "false"),
            (LOCAL_DIR, "/a,/b"),
            (
                "spark.sql.streaming.stateStore.rocksdb.blockCacheSizeMB",
                "64",
            ),
            (
                "spark.sql.streaming.stateStore.rocksdb.writeBufferSizeMB",
                "4",
            ),
            (
                "spark.sql.streaming.stateStore.rocksdb.boundedMemoryUsage",
                "true",
            ),
            ("spark.sql.streaming.stateStore.rocksdb.formatVersion", "5"),
            (
                "spark.sql.streaming.stateStore.rocksdb.trackTotalNumberOfRows",
                "false",
            ),
        ])
        .unwrap();
        assert_eq!(c.maintenance_interval_ms, 5_000);
        assert_eq!(c.min_deltas_for_snapshot, 3);
        assert_eq!(c.min_versions_to_retain, 7);
        assert!(!c.state_schema_check);
        assert_eq!(c.local_dir, PathBuf::from("/a"));
        assert_eq!(c.disk.block_cache_bytes, 64 << 20);
        assert_eq!(c.disk.write_buffer_bytes, 4 << 20);
        assert!(c.disk.bounded_memory);
        assert!(!c.disk.track_total_rows);

        let e = StateStoreConf::from_pairs([(MIN_BATCHES_TO_RETAIN, "0")]).unwrap_err();
        assert!(e.to_string().contains("has to be positive"), "{e}");
        let e = StateStoreConf::from_pairs([(COMPRESSION_CODEC, "zstd")]).unwrap_err();
        assert_eq!(
            e.error_class(),
            Some("CODEC_NOT_AVAILABLE.WITH_AVAILABLE_CODECS_SUGGESTION")
        );
        let e = StateStoreConf::from_pairs([(PROVIDER_CLASS, "nope")]).unwrap_err();
        assert!(e.to_string().contains(PROVIDER_CLASS), "{e}");
    }
}
