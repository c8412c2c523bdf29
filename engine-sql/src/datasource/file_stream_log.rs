//! Spark's compactible file-stream logs: the file sink's `_spark_metadata` directory
//! (`FileStreamSinkLog`) and the file source's seen-files log (`FileStreamSourceLog`).
//!
//! Layout, byte for byte as Spark writes it, so either engine reads the other's output:
//!
//! - one file per batch id, named `N`, holding `v1` then one JSON object per line, with no
//!   trailing newline (`{"path":"file:///abs/part-...","size":..,...,"action":"add"}`);
//! - every `compactInterval` batches (`(N + 1) % interval == 0`) the file is `N.compact`
//!   instead and holds every live entry of the previous compact file, the batches since, and
//!   batch `N` itself, so a reader needs only the newest compact file and the deltas after it;
//!   the files before a compaction are deleted once older than `...log.cleanupDelay`
//!   (default 10 minutes) unless `...log.deletion` is false, as Spark does.
//!
//! Every file is written to a hidden temporary name, fsynced, then linked into place (a link
//! fails when the target exists), so a crash leaves either no file or a whole one, and a
//! batch id can be added once only.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use engine_core::{EngineError, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The version line of both logs (`FileStreamSinkLog.VERSION`, `FileStreamSourceLog.VERSION`).
pub const LOG_VERSION: &str = "v1";

/// The directory of the file sink's log inside its output directory.
pub const SINK_METADATA_DIR: &str = "_spark_metadata";

/// `spark.sql.streaming.fileSink.log.compactInterval` (default 10).
pub const SINK_COMPACT_INTERVAL: &str = "spark.sql.streaming.fileSink.log.compactInterval";

/// `spark.sql.streaming.fileSource.log.compactInterval` (default 10).
pub const SOURCE_COMPACT_INTERVAL: &str = "spark.sql.streaming.fileSource.log.compactInterval";

/// Hadoop's block size for local files (`fs.local.block.size`, 32 MiB), which Spark records
/// in every sink entry.
pub const LOCAL_BLOCK_SIZE: u64 = 32 << 20;

/// One file committed by the file sink (Spark's `SinkFileStatus`); the field order is the
/// JSON key order Spark writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SinkFileStatus {
    /// `file:///abs/path`, URI-encoded.
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// Always false for data files.
    pub is_dir: bool,
    /// Milliseconds since the epoch.
    pub modification_time: i64,
    /// 1 on a local file system.
    pub block_replication: u32,
    /// [`LOCAL_BLOCK_SIZE`] on a local file system.
    pub block_size: u64,
    /// `add` or `delete`.
    pub action: String,
}

impl SinkFileStatus {
    /// The entry for a data file just written, from the file system.
    pub fn added(path: &Path) -> Result<Self> {
        let meta = std::fs::metadata(path)
            .map_err(|e| EngineError::io(format!("reading {}", path.display()), e))?;
        Ok(SinkFileStatus {
            path: path_to_uri(path),
            size: meta.len(),
            is_dir: false,
            modification_time: modification_millis(&meta),
            block_replication: 1,
            block_size: LOCAL_BLOCK_SIZE,
            action: "add".into(),
        })
    }
}

/// One file seen by the file source (Spark's `FileStreamSource.FileEntry`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceFileEntry {
    /// `file:///abs/path`, URI-encoded.
    pub path: String,
    /// The file's modification time, ms since the epoch.
    pub timestamp: i64,
    /// The source log batch that took the file.
    pub batch_id: i64,
}

/// An entry kind of a compactible log: how compaction drops dead entries.
pub trait LogEntry: Serialize + DeserializeOwned + Clone {
    /// The live entries of `entries` (Spark's `compactLogs`).
    fn compact(entries: Vec<Self>) -> Vec<Self> {
        entries
    }
}

impl LogEntry for SourceFileEntry {}

impl LogEntry for SinkFileStatus {
    /// Drops every file that has a `delete` entry (Spark's `FileStreamSinkLog.compactLogs`).
    fn compact(entries: Vec<Self>) -> Vec<Self> {
        let deleted: HashSet<String> = entries
            .iter()
            .filter(|e| e.action == "delete")
            .map(|e| e.path.clone())
            .collect();
        if deleted.is_empty() {
            return entries;
        }
        entries
            .into_iter()
            .filter(|e| !deleted.contains(&e.path))
            .collect()
    }
}

/// A compactible metadata log in a directory (Spark's `CompactibleFileStreamLog`).
#[derive(Debug, Clone)]
pub struct CompactibleLog {
    dir: PathBuf,
    compact_interval: u64,
    /// Delete files a compaction made redundant once they are this old (Spark's
    /// `...log.deletion` + `...log.cleanupDelay`); `None` keeps them.
    cleanup_delay_ms: Option<i64>,
}

/// A batch id parsed from a log file name (`7`, `9.compact`).
fn parse_name(name: &str) -> Option<(u64, bool)> {
    match name.strip_suffix(".compact") {
        Some(id) => id.parse().ok().map(|id| (id, true)),
        None => name.parse().ok().map(|id| (id, false)),
    }
}

impl CompactibleLog {
    /// The log in `dir` (created on the first add), compacting every `compact_interval`
    /// batches.
    pub fn new(dir: impl Into<PathBuf>, compact_interval: u64) -> Self {
        CompactibleLog {
            dir: dir.into(),
            compact_interval: compact_interval.max(1),
            cleanup_delay_ms: None,
        }
    }

    /// Deletes the files older than the newest compact file once they are `delay_ms` old
    /// (Spark's default: 10 minutes, so that readers that listed them can still read them).
    pub fn with_cleanup(mut self, delay_ms: Option<i64>) -> Self {
        self.cleanup_delay_ms = delay_ms;
        self
    }

    /// Removes log files before compact batch `compact_id` older than the cleanup delay
    /// (Spark's `deleteExpiredLog`). Failures only leave files behind.
    fn delete_expired(&self, compact_id: u64) -> Result<()> {
        let Some(delay) = self.cleanup_delay_ms else {
            return Ok(());
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        for (id, compact) in self.batches()? {
            if id >= compact_id {
                break;
            }
            let path = self.file(id, compact);
            let old = std::fs::metadata(&path)
                .map(|m| now - modification_millis(&m) >= delay)
                .unwrap_or(false);
            if old {
                let _ = std::fs::remove_file(&path);
            }
        }
        Ok(())
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether batch `id` is written as `id.compact`.
    pub fn is_compaction_batch(&self, id: u64) -> bool {
        (id + 1).is_multiple_of(self.compact_interval)
    }

    fn file(&self, id: u64, compact: bool) -> PathBuf {
        self.dir.join(if compact {
            format!("{id}.compact")
        } else {
            id.to_string()
        })
    }

    /// Every batch file: `(id, is_compact)`, by id.
    fn batches(&self) -> Result<Vec<(u64, bool)>> {
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => {
                return Err(EngineError::io(
                    format!("listing {}", self.dir.display()),
                    e,
                ));
            }
        };
        let mut out: Vec<(u64, bool)> = rd
            .flatten()
            .filter_map(|e| parse_name(&e.file_name().to_string_lossy()))
            .collect();
        out.sort_unstable();
        Ok(out)
    }

    /// The newest batch id in the log.
    pub fn latest_id(&self) -> Result<Option<u64>> {
        Ok(self.batches()?.last().map(|(id, _)| *id))
    }

    fn read_file<T: LogEntry>(&self, path: &Path) -> Result<Vec<T>> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| EngineError::io(format!("reading {}", path.display()), e))?;
        parse_log_text(&text, path)
    }

    /// The entries batch `id` added (from `id`, or from the compact file that absorbed it,
    /// filtered by `belongs`); `None` when the log does not have the batch.
    pub fn get<T: LogEntry>(
        &self,
        id: u64,
        belongs: impl Fn(&T) -> bool,
    ) -> Result<Option<Vec<T>>> {
        let plain = self.file(id, false);
        if plain.exists() {
            return self.read_file(&plain).map(Some);
        }
        // Spark deletes old delta files after a compaction; their entries live on in the
        // next compact file.
        for (cid, compact) in self.batches()? {
            if compact && cid >= id {
                let all: Vec<T> = self.read_file(&self.file(cid, true))?;
                return Ok(Some(all.into_iter().filter(|e| belongs(e)).collect()));
            }
        }
        Ok(None)
    }

    /// Every live entry: the newest compact file plus the deltas after it.
    pub fn all<T: LogEntry>(&self) -> Result<Vec<T>> {
        let batches = self.batches()?;
        let start = batches.iter().rposition(|(_, c)| *c).unwrap_or(0);
        let mut out = Vec::new();
        for (id, compact) in &batches[start..] {
            // A plain file next to a compact one of the same id is impossible for our
            // writer; prefer the compact one if a foreign writer left both.
            if !compact && batches.contains(&(*id, true)) {
                continue;
            }
            out.extend(self.read_file::<T>(&self.file(*id, *compact))?);
        }
        Ok(T::compact(out))
    }

    /// Adds batch `id`; false (and nothing written) when the batch is already in the log.
    pub fn add<T: LogEntry>(&self, id: u64, entries: &[T]) -> Result<bool> {
        if self.batches()?.iter().any(|(b, _)| *b == id) {
            return Ok(false);
        }
        let compact = self.is_compaction_batch(id);
        let to_write: Vec<T> = if compact {
            let mut all: Vec<T> = self.all()?;
            all.extend(entries.iter().cloned());
            T::compact(all)
        } else {
            entries.to_vec()
        };
        let text = serialize_log(&to_write)?;
        let added = write_new_atomic(&self.file(id, compact), text.as_bytes())?;
        if added && compact {
            self.delete_expired(id)?;
        }
        Ok(added)
    }
}

/// The cleanup delay of a log from `<prefix>.deletion` (default true) and
/// `<prefix>.cleanupDelay` (default `10m`) looked up by `get` (options, then conf); `None`
/// when deletion is off.
pub fn cleanup_delay(prefix: &str, get: impl Fn(&str) -> Option<String>) -> Result<Option<i64>> {
    let deletion_key = format!("{prefix}.deletion");
    let deletion = match get(&deletion_key) {
        Some(v) => engine_core::options::parse_bool(&deletion_key, &v)?,
        None => true,
    };
    if !deletion {
        return Ok(None);
    }
    let delay_key = format!("{prefix}.cleanupDelay");
    let delay = get(&delay_key).unwrap_or_else(|| "10m".to_string());
    engine_core::options::time_string_as_ms(&delay_key, &delay).map(Some)
}

/// `v1` then one JSON object per line, no trailing newline (Spark's `serialize`).
pub fn serialize_log<T: Serialize>(entries: &[T]) -> Result<String> {
    let mut out = String::from(LOG_VERSION);
    for e in entries {
        out.push('\n');
        out.push_str(
            &serde_json::to_string(e)
                .map_err(|e| EngineError::external("serializing a file stream log entry", e))?,
        );
    }
    Ok(out)
}

/// Parses a log file's text.
pub fn parse_log_text<T: DeserializeOwned>(text: &str, path: &Path) -> Result<Vec<T>> {
    let mut lines = text.lines();
    let version = lines.next().unwrap_or("");
    if version.trim() != LOG_VERSION {
        return Err(EngineError::execution(
            "INVALID_LOG_VERSION",
            format!(
                "Log file {} was malformed: expected the version line {LOG_VERSION}, found `{version}`",
                path.display()
            ),
        ));
    }
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .map_err(|e| EngineError::external(format!("reading {}", path.display()), e))
        })
        .collect()
}

/// Writes `bytes` to `path` atomically, failing (returning false) if `path` exists
/// (engine-core's [`engine_core::checkpoint::create_atomic`]: temp file, fsync, hard link
/// into place, fsync of the directory).
pub fn write_new_atomic(path: &Path, bytes: &[u8]) -> Result<bool> {
    engine_core::checkpoint::create_atomic(path, bytes)
}

/// Milliseconds since the epoch of a file's modification time.
pub fn modification_millis(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as i64)
}

/// Characters Hadoop's `Path.toUri` leaves as they are in a path.
fn is_uri_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/-._~!$&'()*+,;=:@".contains(c)
}

/// `file:///abs/path` with URI escaping, as Spark logs local paths.
pub fn path_to_uri(path: &Path) -> String {
    let abs = super::paths::absolute(path);
    let s = abs.to_string_lossy();
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str("file://");
    for c in s.chars() {
        if is_uri_path_char(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// The local path of a logged URI (`file:///a`, `file:/a`, or a bare path).
pub fn uri_to_path(uri: &str) -> PathBuf {
    let rest = uri
        .strip_prefix("file://")
        .or_else(|| uri.strip_prefix("file:"))
        .unwrap_or(uri);
    PathBuf::from(super::paths::unescape_path_name(rest))
}

/// The files the file sink committed in `dir` (from `dir/_spark_metadata`), or `None` when
/// `dir` is not a file sink's output. Spark's `MetadataLogFileIndex`: readers of a sink's
/// directory see only committed files, never those of a failed or replayed attempt.
pub fn committed_files(dir: &Path) -> Result<Option<Vec<SinkFileStatus>>> {
    let meta = dir.join(SINK_METADATA_DIR);
    if !meta.is_dir() {
        return Ok(None);
    }
    // Readers never compact, so the interval does not matter here.
    let log = CompactibleLog::new(meta, 10);
    let all: Vec<SinkFileStatus> = log.all()?;
    Ok(Some(
        all.into_iter().filter(|e| e.action == "add").collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(name: &str) -> SinkFileStatus {
        SinkFileStatus {
            path: format!("file:///out/{name}"),
            size: 8,
            is_dir: false,
            modification_time: 1_795_307_096_604,
            block_replication: 1,
            block_size: LOCAL_BLOCK_SIZE,
            action: "add".into(),
        }
    }

    #[test]
    fn sink_entries_serialize_like_spark() {
        let text = serialize_log(&[status("a.json"), status("b.json")]).unwrap();
        assert_eq!(
            text,
            "v1\n{\"path\":\"file:///out/a.json\",\"size\":8,\"isDir\":false,\"modificationTime\":1795307096604,\"blockReplication\":1,\"blockSize\":33554432,\"action\":\"add\"}\n{\"path\":\"file:///out/b.json\",\"size\":8,\"isDir\":false,\"modificationTime\":1795307096604,\"blockReplication\":1,\"blockSize\":33554432,\"action\":\"add\"}"
        );
        let entry = SourceFileEntry {
            path: "file:///tmp/in/f1.json".into(),
            timestamp: 1_795_307_081_552,
            batch_id: 0,
        };
        assert_eq!(
            serialize_log(&[entry]).unwrap(),
            "v1\n{\"path\":\"file:///tmp/in/f1.json\",\"timestamp\":1795307081552,\"batchId\":0}"
        );
    }

    #[test]
    fn compaction_every_interval_and_reads_across_it() {
        let dir = tempfile::tempdir().unwrap();
        let log = CompactibleLog::new(dir.path(), 3);
        for id in 0..7u64 {
            assert!(log.add(id, &[status(&format!("{id}"))]).unwrap());
        }
        assert!(!log.add(4, &[status("again")]).unwrap());
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        assert_eq!(names, ["0", "1", "2.compact", "3", "4", "5.compact", "6"]);
        let all: Vec<SinkFileStatus> = log.all().unwrap();
        assert_eq!(all.len(), 7);
        assert_eq!(log.latest_id().unwrap(), Some(6));
        // A deleted delta is found in the compact file that absorbed it.
        std::fs::remove_file(dir.path().join("3")).unwrap();
        let three: Vec<SinkFileStatus> = log
            .get(3, |e: &SinkFileStatus| e.path.ends_with("/3"))
            .unwrap()
            .unwrap();
        assert_eq!(three, vec![status("3")]);
    }

    #[test]
    fn compaction_deletes_expired_files() {
        let dir = tempfile::tempdir().unwrap();
        let log = CompactibleLog::new(dir.path(), 3).with_cleanup(Some(0));
        for id in 0..4u64 {
            log.add(id, &[status(&format!("{id}"))]).unwrap();
        }
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        assert_eq!(names, ["2.compact", "3"]);
        assert_eq!(log.all::<SinkFileStatus>().unwrap().len(), 4);
        let one: Vec<SinkFileStatus> = log
            .get(1, |e: &SinkFileStatus| e.path.ends_with("/1"))
            .unwrap()
            .unwrap();
        assert_eq!(one, vec![status("1")]);
        let get = |k: &str| (k == "p.deletion").then(|| "false".to_string());
        assert_eq!(cleanup_delay("p", get).unwrap(), None);
        assert_eq!(cleanup_delay("p", |_| None).unwrap(), Some(600_000));
    }

    #[test]
    fn deletes_drop_files_at_compaction() {
        let mut d = status("a");
        d.action = "delete".into();
        let live = SinkFileStatus::compact(vec![status("a"), status("b"), d]);
        assert_eq!(live, vec![status("b")]);
    }

    #[test]
    fn uris_round_trip() {
        let p = Path::new("/tmp/x y/b=1/part%.json");
        let uri = path_to_uri(p);
        assert_eq!(uri, "file:///tmp/x%20y/b=1/part%25.json");
        assert_eq!(uri_to_path(&uri), p);
        assert_eq!(uri_to_path("file:/tmp/a"), Path::new("/tmp/a"));
    }
}
