//! The file streaming source (Spark's `FileStreamSource`): new files of a directory (or a
//! glob) become micro-batches, in modification-time order.
//!
//! Every `latest_offset` call that finds new files appends them to the source's log in the
//! checkpoint (`sources/<i>/N`, Spark's `FileStreamSourceLog`: `v1` then
//! `{"path":"file:///..","timestamp":..,"batchId":N}` lines, compacted every
//! `spark.sql.streaming.fileSource.log.compactInterval` batches) *before* the offset
//! `{"logOffset":N}` is returned, so a restart knows every file it ever took: a logged batch
//! is replayed with exactly its files, and a file is never taken twice or skipped.
//!
//! Options (Spark's names and semantics): `maxFilesPerTrigger`, `maxBytesPerTrigger` (not
//! both), `latestFirst`, `maxFileAge` (default `7d`, relative to the newest file seen, and
//! ignored when `latestFirst` is combined with a per-trigger limit), `fileNameOnly`,
//! `maxCachedFiles`, `discardCachedInputRatio`, `cleanSource` (`off`, `archive` with
//! `sourceArchiveDir`, `delete`, applied in [`Source::commit`]), plus every option of the
//! batch reader of the format (csv `header`, `sep`, `mode`, ...), `pathGlobFilter` /
//! `recursiveFileLookup` and `ignoreMissingFiles` (a logged file deleted before its batch
//! ran is skipped instead of failing the query).
//!
//! `DataStreamReader` requires a schema for csv, json and parquet unless
//! `spark.sql.streaming.schemaInference` is true; without one the format infers it from the
//! files present when the stream is created. Text has its fixed `value STRING` column. Columns from `col=value` directories are discovered when the
//! stream is created and added after the data columns, as in batch reads.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};
use engine_core::connector::{BatchIter, InputPartition, Offset, ReadLimit, Source, SourceContext};
use engine_core::options::Options;
use engine_core::{EngineError, Result};

use crate::datasource::csv::{self, CsvFormat, CsvOptions};
use crate::datasource::file_stream_log::{
    CompactibleLog, SOURCE_COMPACT_INTERVAL, SourceFileEntry, cleanup_delay, modification_millis,
    path_to_uri, uri_to_path,
};
use crate::datasource::json::{self, JsonFormat, JsonOptions};
use crate::datasource::listing::{
    self, FileEntry, Listing, ListingOptions, absolute, glob_regex, has_glob, list_files_with,
    partition_values_for,
};
use crate::datasource::parquet::{self, ParquetFormat};
use crate::datasource::paths::path_option;
use crate::datasource::table::{FileFormat, FileTable};
use crate::datasource::text::{TextFormat, text_schema};
use engine_core::conf::SessionConf;
use engine_core::physical::TableProvider;
use engine_core::physical::plan::{ExecutionPlan, TaskContext};

/// The schema of a file stream of format `name` with these options: the user's (partition
/// columns added after the data columns) or, when none is given, the one inferred from the
/// files present now.
pub fn stream_schema(
    name: &str,
    options: &Options,
    user_schema: Option<SchemaRef>,
    conf: &SessionConf,
) -> Result<SchemaRef> {
    Ok(ResolvedFiles::resolve(name, options, user_schema, conf)?.schema)
}

/// A format, its schemas and where partition values come from, fixed when a stream is
/// created.
#[derive(Debug, Clone)]
struct ResolvedFiles {
    format: Arc<dyn FileFormat>,
    /// The user's (or inferred) columns, partition columns included if the user named them.
    full_data_schema: SchemaRef,
    partition_schema: SchemaRef,
    schema: SchemaRef,
}

impl ResolvedFiles {
    fn resolve(
        name: &str,
        options: &Options,
        user_schema: Option<SchemaRef>,
        conf: &SessionConf,
    ) -> Result<Self> {
        let path = path_option(options)?;
        // As Spark: a missing non-glob path fails at load(); a glob may match later.
        if !has_glob(&path) && !Path::new(&path).exists() {
            return Err(listing::path_not_found(Path::new(&path)));
        }
        // Spark's "Schema must be specified" check (unless schemaInference) is made by
        // DataStreamReader, which sees the session conf; here a missing schema is inferred.
        let listing_opts = ListingOptions::parse(options)?;
        let listing = list_files_with(std::slice::from_ref(&path), &listing_opts).ok();
        let files: &[FileEntry] = listing.as_ref().map_or(&[], |l| l.files.as_slice());
        let tz = conf.time_zone()?;
        let (format, inferred): (Arc<dyn FileFormat>, Option<SchemaRef>) = match name {
            "csv" => {
                let o = CsvOptions::parse(options)?;
                let inferred = match &user_schema {
                    None => csv::infer_schema(files, &o, &tz)?,
                    Some(_) => None,
                };
                (Arc::new(CsvFormat::new(o)), inferred)
            }
            "json" => {
                let o = JsonOptions::parse(options)?;
                let inferred = match &user_schema {
                    None => json::infer_schema(files, &o)?,
                    Some(_) => None,
                };
                (Arc::new(JsonFormat::new(o)), inferred)
            }
            "parquet" => {
                let inferred = match &user_schema {
                    None => parquet::infer_schema(files)?,
                    Some(_) => None,
                };
                (Arc::new(ParquetFormat::new()), inferred)
            }
            _ => (Arc::new(TextFormat::new(options)?), Some(text_schema())),
        };
        let data = match (user_schema, inferred) {
            (Some(s), _) | (None, Some(s)) => s,
            (None, None) => {
                return Err(EngineError::analysis(
                    "UNABLE_TO_INFER_SCHEMA",
                    format!(
                        "Unable to infer schema for {}. It must be specified manually. SQLSTATE: 42KD9",
                        name.to_uppercase()
                    ),
                ));
            }
        };
        let data: SchemaRef = Arc::new(Schema::new(
            data.fields()
                .iter()
                .map(|f| f.as_ref().clone().with_nullable(true))
                .collect::<Vec<_>>(),
        ));
        // Partition columns found now stay fixed for the life of the stream; a type the
        // user gave for one wins over the inferred type where values can be typed so.
        let partition_fields: Vec<Field> = listing
            .as_ref()
            .map(|l| {
                l.partition_schema
                    .fields()
                    .iter()
                    .map(|f| {
                        let user = data
                            .fields()
                            .iter()
                            .find(|u| u.name().eq_ignore_ascii_case(f.name()))
                            .filter(|u| {
                                matches!(
                                    u.data_type(),
                                    arrow::datatypes::DataType::Int32
                                        | arrow::datatypes::DataType::Int64
                                        | arrow::datatypes::DataType::Float64
                                        | arrow::datatypes::DataType::Date32
                                        | arrow::datatypes::DataType::Utf8
                                )
                            });
                        Field::new(
                            f.name(),
                            user.map_or_else(|| f.data_type().clone(), |u| u.data_type().clone()),
                            true,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let partition_schema = Arc::new(Schema::new(partition_fields));
        // The same column layout a batch FileTable gives: data columns, then partitions.
        let table = FileTable::new(
            format.clone(),
            Listing {
                roots: vec![],
                files: vec![],
                partition_schema: partition_schema.clone(),
            },
            data.clone(),
        );
        Ok(ResolvedFiles {
            format,
            full_data_schema: data,
            partition_schema,
            schema: table.schema(),
        })
    }
}

/// `cleanSource`: what happens to a file once its batch is committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CleanSource {
    /// Leave it (default).
    Off,
    /// Move it below `sourceArchiveDir`, keeping its absolute path.
    Archive(PathBuf),
    /// Delete it.
    Delete,
}

/// The file source's own options (Spark's `FileStreamOptions`).
#[derive(Debug, Clone, PartialEq)]
pub struct FileStreamOptions {
    /// `maxFilesPerTrigger`.
    pub max_files_per_trigger: Option<u64>,
    /// `maxBytesPerTrigger`.
    pub max_bytes_per_trigger: Option<u64>,
    /// `latestFirst`: newest files first.
    pub latest_first: bool,
    /// `fileNameOnly`: a file is identified by its name, not its full path.
    pub file_name_only: bool,
    /// `maxFileAge` in ms (default 7 days).
    pub max_file_age_ms: i64,
    /// `maxCachedFiles`: listed but unread files kept for later batches (default 10000).
    pub max_cached_files: usize,
    /// `discardCachedInputRatio` (default 0.2).
    pub discard_cached_input_ratio: f64,
    /// `cleanSource` (+ `sourceArchiveDir`).
    pub clean_source: CleanSource,
}

fn positive(options: &Options, key: &str) -> Result<Option<u64>> {
    options
        .get(key)
        .map(|v| {
            v.trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    EngineError::invalid_option(
                        key,
                        format!(
                            "Invalid value '{v}' for option '{key}', must be a positive integer"
                        ),
                    )
                })
        })
        .transpose()
}

pub use engine_core::options::time_string_as_ms;

impl FileStreamOptions {
    /// Parses and checks the options, with Spark's messages.
    pub fn parse(options: &Options) -> Result<Self> {
        let max_files_per_trigger = positive(options, "maxFilesPerTrigger")?;
        let max_bytes_per_trigger = positive(options, "maxBytesPerTrigger")?;
        if max_files_per_trigger.is_some() && max_bytes_per_trigger.is_some() {
            return Err(EngineError::invalid_option(
                "maxBytesPerTrigger",
                "Options 'maxFilesPerTrigger' and 'maxBytesPerTrigger' can't be both set at the same time".to_string(),
            ));
        }
        let bool_opt = |key: &str| -> Result<bool> {
            match options.get(key) {
                None => Ok(false),
                Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                    "true" => Ok(true),
                    "false" => Ok(false),
                    _ => Err(EngineError::invalid_option(
                        key,
                        format!("Invalid value '{v}' for option '{key}', must be true or false"),
                    )),
                },
            }
        };
        let max_file_age_ms =
            time_string_as_ms("maxFileAge", options.get("maxFileAge").unwrap_or("7d"))?;
        let max_cached_files = match options.get("maxCachedFiles") {
            None => 10_000,
            Some(v) => v.trim().parse::<usize>().map_err(|_| {
                EngineError::invalid_option(
                    "maxCachedFiles",
                    format!("Invalid value '{v}' for option 'maxCachedFiles', must be a non-negative integer"),
                )
            })?,
        };
        let discard_cached_input_ratio = match options.get("discardCachedInputRatio") {
            None => 0.2,
            Some(v) => v
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|r| (0.0..=1.0).contains(r))
                .ok_or_else(|| {
                    EngineError::invalid_option(
                        "discardCachedInputRatio",
                        format!("Invalid value '{v}' for option 'discardCachedInputRatio', must be between 0 and 1"),
                    )
                })?,
        };
        let clean_source = match options
            .get("cleanSource")
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("off") => CleanSource::Off,
            Some("delete") => CleanSource::Delete,
            Some("archive") => match options.get("sourceArchiveDir") {
                Some(d) => CleanSource::Archive(absolute(Path::new(d))),
                None => {
                    return Err(EngineError::invalid_option(
                        "sourceArchiveDir",
                        "Archive mode must be used with 'sourceArchiveDir' option.".to_string(),
                    ));
                }
            },
            Some(_) => {
                return Err(EngineError::invalid_option(
                    "cleanSource",
                    format!(
                        "Invalid mode for clean source option {}. Must be one of ARCHIVE, DELETE, OFF",
                        options.get("cleanSource").unwrap_or_default()
                    ),
                ));
            }
        };
        Ok(FileStreamOptions {
            max_files_per_trigger,
            max_bytes_per_trigger,
            latest_first: bool_opt("latestFirst")?,
            file_name_only: bool_opt("fileNameOnly")?,
            max_file_age_ms,
            max_cached_files,
            discard_cached_input_ratio,
            clean_source,
        })
    }

    /// The age limit in effect: none when `latestFirst` is combined with a per-trigger limit
    /// (Spark: the newest files are taken first, so age would drop the backlog).
    pub fn effective_max_file_age_ms(&self) -> i64 {
        if self.latest_first
            && (self.max_files_per_trigger.is_some() || self.max_bytes_per_trigger.is_some())
        {
            i64::MAX
        } else {
            self.max_file_age_ms
        }
    }
}

/// The files already taken, aged out relative to the newest one (Spark's `SeenFilesMap`).
#[derive(Debug, Clone)]
pub struct SeenFiles {
    max_age_ms: i64,
    file_name_only: bool,
    map: HashMap<String, i64>,
    latest_timestamp: i64,
    last_purge_timestamp: i64,
}

impl SeenFiles {
    /// An empty map.
    pub fn new(max_age_ms: i64, file_name_only: bool) -> Self {
        SeenFiles {
            max_age_ms,
            file_name_only,
            map: HashMap::new(),
            latest_timestamp: 0,
            last_purge_timestamp: 0,
        }
    }

    fn key(&self, uri: &str) -> String {
        if self.file_name_only {
            uri.rsplit('/').next().unwrap_or(uri).to_string()
        } else {
            uri.to_string()
        }
    }

    /// Records a taken file.
    pub fn add(&mut self, uri: &str, timestamp: i64) {
        self.map.insert(self.key(uri), timestamp);
        self.latest_timestamp = self.latest_timestamp.max(timestamp);
    }

    /// New: not seen, and not older than the last purge.
    pub fn is_new(&self, uri: &str, timestamp: i64) -> bool {
        timestamp >= self.last_purge_timestamp && !self.map.contains_key(&self.key(uri))
    }

    /// Forgets files older than the newest minus the maximum age; returns how many.
    pub fn purge(&mut self) -> usize {
        self.last_purge_timestamp = self.latest_timestamp.saturating_sub(self.max_age_ms);
        let before = self.map.len();
        let limit = self.last_purge_timestamp;
        self.map.retain(|_, t| *t >= limit);
        before - self.map.len()
    }

    /// Files tracked.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no file is tracked.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// A listed file.
#[derive(Debug, Clone, PartialEq)]
struct NewFile {
    uri: String,
    size: u64,
    timestamp: i64,
}

/// `{"logOffset":N}`.
pub fn log_offset(n: i64) -> Offset {
    Offset::new(format!("{{\"logOffset\":{n}}}"))
}

/// The N of `{"logOffset":N}` (Spark also accepts a bare number from old checkpoints).
pub fn parse_log_offset(offset: &Offset) -> Result<i64> {
    let text = offset.json().trim();
    if let Ok(n) = text.parse::<i64>() {
        return Ok(n);
    }
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("logOffset").and_then(serde_json::Value::as_i64))
        .ok_or_else(|| {
            EngineError::execution(
                "INVALID_OFFSET",
                format!("Invalid file source offset `{text}`; expected {{\"logOffset\":N}}"),
            )
        })
}

/// The streaming file source. Created by [`crate::streaming::file_format::FileStreamFormat`].
pub struct FileStreamSource {
    path: String,
    root: PathBuf,
    resolved: ResolvedFiles,
    listing_opts: ListingOptions,
    opts: FileStreamOptions,
    ctx: Arc<TaskContext>,
    log: CompactibleLog,
    current: i64,
    seen: SeenFiles,
    unread: Option<Vec<NewFile>>,
    available_now: Option<Vec<NewFile>>,
    ignore_missing: bool,
}

impl std::fmt::Debug for FileStreamSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description())
    }
}

/// The directory part of a path that may hold glob characters: partition directories are
/// relative to it.
fn glob_free_prefix(path: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for c in Path::new(path).components() {
        if has_glob(&c.as_os_str().to_string_lossy()) {
            break;
        }
        out.push(c.as_os_str());
    }
    absolute(&out)
}

impl FileStreamSource {
    /// A source of format `name` from `ctx` (options, schema, checkpoint directory).
    pub fn new(name: &str, ctx: SourceContext, conf: Arc<SessionConf>) -> Result<Self> {
        let resolved = ResolvedFiles::resolve(name, &ctx.options, ctx.user_schema, &conf)?;
        let path = path_option(&ctx.options)?;
        let opts = FileStreamOptions::parse(&ctx.options)?;
        let root = if has_glob(&path) {
            glob_free_prefix(&path)
        } else {
            absolute(Path::new(&path))
        };
        if let CleanSource::Archive(dir) = &opts.clean_source {
            check_archive_dir(&path, dir)?;
        }
        let interval = conf
            .get(SOURCE_COMPACT_INTERVAL)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(10);
        if opts.latest_first {
            log::warn!(
                "'latestFirst' is true. New files will be processed first, which may affect the watermark value. In addition, 'maxFileAge' will be ignored."
            );
        }
        if opts.file_name_only {
            log::warn!(
                "'fileNameOnly' is enabled. Make sure your file names are unique (e.g. using UUID), otherwise, files with the same name but under different paths will be considered the same and causes data lost."
            );
        }
        let delay = cleanup_delay("spark.sql.streaming.fileSource.log", |k| {
            conf.get(k).map(str::to_string)
        })?;
        let log = CompactibleLog::new(ctx.metadata_path.clone(), interval).with_cleanup(delay);
        let current = log.latest_id()?.map_or(-1, |id| id as i64);
        let mut seen = SeenFiles::new(opts.effective_max_file_age_ms(), opts.file_name_only);
        for e in log.all::<SourceFileEntry>()? {
            seen.add(&e.path, e.timestamp);
        }
        seen.purge();
        // Spark's `ignoreMissingFiles` option, or the session's
        // `spark.sql.files.ignoreMissingFiles`.
        let ignore_missing = match ctx.options.get("ignoreMissingFiles") {
            Some(v) => engine_core::options::parse_bool("ignoreMissingFiles", v)?,
            None => conf.get_bool("spark.sql.files.ignoreMissingFiles", false)?,
        };
        Ok(FileStreamSource {
            path,
            root,
            resolved,
            listing_opts: ListingOptions::parse(&ctx.options)?,
            opts,
            ctx: Arc::new(TaskContext::new(conf)?),
            log,
            current,
            seen,
            unread: None,
            available_now: None,
            ignore_missing,
        })
    }

    /// The newest log offset written (-1 before the first batch).
    pub fn current_log_offset(&self) -> i64 {
        self.current
    }

    /// Every file under the path now, oldest first (newest first with `latestFirst`); ties
    /// are broken by path so the order never depends on the directory listing's.
    fn fetch_all_files(&self) -> Result<Vec<NewFile>> {
        let listing = match list_files_with(std::slice::from_ref(&self.path), &self.listing_opts) {
            Ok(l) => l,
            // The directory (or every match of the glob) may come and go.
            Err(EngineError::Analysis { class, .. }) if class == "PATH_NOT_FOUND" => {
                return Ok(vec![]);
            }
            Err(e) => return Err(e),
        };
        let mut files = Vec::with_capacity(listing.files.len());
        for f in &listing.files {
            let Ok(meta) = std::fs::metadata(&f.path) else {
                continue; // deleted since listed
            };
            files.push(NewFile {
                uri: path_to_uri(&f.path),
                size: meta.len(),
                timestamp: modification_millis(&meta),
            });
        }
        if self.opts.latest_first {
            files.sort_by(|a, b| b.timestamp.cmp(&a.timestamp).then(a.uri.cmp(&b.uri)));
        } else {
            files.sort_by(|a, b| a.timestamp.cmp(&b.timestamp).then(a.uri.cmp(&b.uri)));
        }
        Ok(files)
    }

    /// Spark's `takeFilesUntilMax`: the first file always, then files while the total stays
    /// within `max`; returns the taken files and the rest with its total size.
    fn take_until_max(files: Vec<NewFile>, max: u64) -> (Vec<NewFile>, Vec<NewFile>, u64) {
        let mut taken = Vec::new();
        let mut rest = Vec::new();
        let (mut l_size, mut r_size) = (0u64, 0u64);
        for (i, f) in files.into_iter().enumerate() {
            let new_size = l_size.saturating_add(f.size);
            if i == 0 || (rest.is_empty() && new_size <= max) {
                l_size = new_size;
                taken.push(f);
            } else {
                r_size = r_size.saturating_add(f.size);
                rest.push(f);
            }
        }
        (taken, rest, r_size)
    }

    /// The log entries of batches `(start, end]`.
    fn logged_files(&self, start: i64, end: i64) -> Result<Vec<SourceFileEntry>> {
        let mut out = Vec::new();
        for id in (start + 1).max(0)..=end {
            let entries = self
                .log
                .get::<SourceFileEntry>(id as u64, |e| e.batch_id == id)?
                .ok_or_else(|| {
                    EngineError::execution(
                        "FILE_SOURCE_LOG_MISSING",
                        format!(
                            "The file source log in {} has no batch {id}; the checkpoint is incomplete",
                            self.log.dir().display()
                        ),
                    )
                })?;
            out.extend(entries);
        }
        Ok(out)
    }

    fn clean(&self, entry: &SourceFileEntry) {
        let path = uri_to_path(&entry.path);
        // Spark logs and skips a file it cannot clean rather than stopping the query.
        match &self.opts.clean_source {
            CleanSource::Off => {}
            CleanSource::Delete => {
                let _ = std::fs::remove_file(&path);
            }
            CleanSource::Archive(dir) => {
                let rel = path.strip_prefix("/").unwrap_or(&path);
                let target = dir.join(rel);
                if let Some(parent) = target.parent() {
                    let _ = std::fs::create_dir_all(parent);
                }
                let _ = std::fs::rename(&path, &target);
            }
        }
    }
}

/// Spark's check that archived files can never match the source pattern again: compared
/// component by component up to the shorter path's depth.
fn check_archive_dir(source: &str, archive: &Path) -> Result<()> {
    let src: Vec<String> = absolute(Path::new(source))
        .components()
        .skip(1)
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    let arc: Vec<String> = archive
        .components()
        .skip(1)
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    let depth = src.len().min(arc.len());
    let mut matched = true;
    for (s, a) in src.iter().zip(&arc).take(depth) {
        if !glob_regex(s)?.is_match(a) {
            matched = false;
            break;
        }
    }
    if matched {
        return Err(EngineError::invalid_option(
            "sourceArchiveDir",
            "Base archive path cannot be set to the path where archived path can possibly match with source pattern. Ensure the base archive path doesn't match with source pattern in depth, where the depth is minimum of depth on both paths.".to_string(),
        ));
    }
    Ok(())
}

/// One task of a file source batch: one partition of the batch FileTable's scan.
#[derive(Debug)]
struct FileStreamPartition {
    /// The batch's files as a table (a scan of it splits them the same way every time).
    table: Arc<FileTable>,
    plan: Arc<dyn ExecutionPlan>,
    partition: usize,
    ctx: Arc<TaskContext>,
}

impl InputPartition for FileStreamPartition {
    fn read(&self) -> Result<BatchIter> {
        self.plan.execute(self.partition, &self.ctx)
    }

    /// The format decodes only the projected columns (a JSON record's other fields are
    /// skipped, not built), as Spark's file scan reads only its required schema.
    fn read_projected(&self, projection: &[usize]) -> Result<BatchIter> {
        let plan = self.table.scan(Some(projection), &[], None, &self.ctx)?;
        plan.execute(self.partition, &self.ctx)
    }
}

/// The first per-trigger file or byte limit in `limit`.
fn file_limit(limit: &ReadLimit) -> Option<&ReadLimit> {
    match limit {
        ReadLimit::MaxFiles(_) | ReadLimit::MaxBytes(_) => Some(limit),
        ReadLimit::Composite(all) => all.iter().find_map(file_limit),
        _ => None,
    }
}

impl Source for FileStreamSource {
    fn description(&self) -> String {
        format!(
            "FileStreamSource[{}]",
            listing::qualified(Path::new(&self.path))
        )
    }

    fn schema(&self) -> SchemaRef {
        self.resolved.schema.clone()
    }

    fn initial_offset(&mut self) -> Result<Offset> {
        Ok(log_offset(-1))
    }

    fn default_read_limit(&self) -> ReadLimit {
        match (
            self.opts.max_files_per_trigger,
            self.opts.max_bytes_per_trigger,
        ) {
            (Some(n), _) => ReadLimit::MaxFiles(n),
            (None, Some(b)) => ReadLimit::MaxBytes(b),
            (None, None) => ReadLimit::AllAvailable,
        }
    }

    fn latest_offset(&mut self, _start: &Offset, limit: &ReadLimit) -> Result<Offset> {
        let new_files: Vec<NewFile> = match self.unread.take() {
            Some(u) => u,
            None => {
                let all = match &self.available_now {
                    Some(fixed) => fixed.clone(),
                    None => self.fetch_all_files()?,
                };
                all.into_iter()
                    .filter(|f| self.seen.is_new(&f.uri, f.timestamp))
                    .collect()
            }
        };
        let ratio = self.opts.discard_cached_input_ratio;
        let (batch, unselected): (Vec<NewFile>, Vec<NewFile>) = match file_limit(limit) {
            Some(ReadLimit::MaxFiles(n)) => {
                let n = (*n).min(usize::MAX as u64) as usize;
                let mut files = new_files;
                let rest = files.split_off(n.min(files.len()));
                if self.opts.latest_first || (rest.len() as f64) < n as f64 * ratio {
                    (files, vec![])
                } else {
                    (files, rest)
                }
            }
            Some(ReadLimit::MaxBytes(max)) => {
                let (taken, rest, rest_size) = Self::take_until_max(new_files, *max);
                if self.opts.latest_first || (rest_size as f64) < *max as f64 * ratio {
                    (taken, vec![])
                } else {
                    (taken, rest)
                }
            }
            _ => (new_files, vec![]),
        };
        if !unselected.is_empty() && self.opts.max_cached_files > 0 {
            self.unread = Some(
                unselected
                    .into_iter()
                    .take(self.opts.max_cached_files)
                    .collect(),
            );
        }
        for f in &batch {
            self.seen.add(&f.uri, f.timestamp);
        }
        self.seen.purge();
        if !batch.is_empty() {
            let id = self.current + 1;
            let entries: Vec<SourceFileEntry> = batch
                .iter()
                .map(|f| SourceFileEntry {
                    path: f.uri.clone(),
                    timestamp: f.timestamp,
                    batch_id: id,
                })
                .collect();
            if !self.log.add(id as u64, &entries)? {
                return Err(EngineError::execution(
                    "CONCURRENT_QUERY",
                    format!(
                        "Concurrent update to the log. Multiple streaming jobs detected for {id}"
                    ),
                ));
            }
            self.current = id;
            crate::streaming::crash::crash_point("file_source.log_written");
        }
        Ok(log_offset(self.current))
    }

    fn prepare_for_trigger_available_now(&mut self) -> Result<()> {
        self.available_now = Some(self.fetch_all_files()?);
        Ok(())
    }

    fn plan_partitions(
        &mut self,
        start: &Offset,
        end: &Offset,
    ) -> Result<Vec<Arc<dyn InputPartition>>> {
        let (s, e) = (parse_log_offset(start)?, parse_log_offset(end)?);
        if e <= s {
            return Ok(vec![]);
        }
        let entries = self.logged_files(s, e)?;
        let mut files = Vec::with_capacity(entries.len());
        for entry in &entries {
            let path = uri_to_path(&entry.path);
            let size = match std::fs::metadata(&path) {
                Ok(m) => m.len(),
                // `ignoreMissingFiles`: a file deleted after it was logged is skipped.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && self.ignore_missing => {
                    log::warn!("Skipped missing file: {}", path.display());
                    continue;
                }
                Err(e) => return Err(EngineError::io(format!("reading {}", path.display()), e)),
            };
            let partition_values =
                partition_values_for(&self.root, &path, &self.resolved.partition_schema);
            files.push(FileEntry {
                path,
                size,
                partition_values,
            });
        }
        let table = FileTable::new(
            self.resolved.format.clone(),
            Listing {
                roots: vec![self.root.clone()],
                files,
                partition_schema: self.resolved.partition_schema.clone(),
            },
            self.resolved.full_data_schema.clone(),
        );
        let table = Arc::new(table);
        let plan = table.scan(None, &[], None, &self.ctx)?;
        Ok((0..plan.output_partitions())
            .map(|partition| {
                Arc::new(FileStreamPartition {
                    table: table.clone(),
                    plan: plan.clone(),
                    partition,
                    ctx: self.ctx.clone(),
                }) as Arc<dyn InputPartition>
            })
            .collect())
    }

    fn commit(&mut self, end: &Offset) -> Result<()> {
        if self.opts.clean_source == CleanSource::Off {
            return Ok(());
        }
        let id = parse_log_offset(end)?;
        if id < 0 {
            return Ok(());
        }
        let entries = self
            .log
            .get::<SourceFileEntry>(id as u64, |e| e.batch_id == id)?
            .unwrap_or_default();
        for e in entries.iter().filter(|e| e.batch_id == id) {
            self.clean(e);
            crate::streaming::crash::crash_point("file_source.cleaned_one");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_follow_spark() {
        let o =
            |pairs: &[(&str, &str)]| FileStreamOptions::parse(&Options::new(pairs.iter().copied()));
        let e = o(&[("maxFilesPerTrigger", "0")]).unwrap_err().to_string();
        assert!(
            e.contains(
                "Invalid value '0' for option 'maxFilesPerTrigger', must be a positive integer"
            ),
            "{e}"
        );
        let e = o(&[("maxFilesPerTrigger", "1"), ("maxBytesPerTrigger", "1")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("can't be both set"), "{e}");
        let e = o(&[("cleanSource", "archive")]).unwrap_err().to_string();
        assert!(
            e.contains("Archive mode must be used with 'sourceArchiveDir' option."),
            "{e}"
        );
        let e = o(&[("cleanSource", "move")]).unwrap_err().to_string();
        assert!(e.contains("Must be one of ARCHIVE, DELETE, OFF"), "{e}");
        let d = o(&[]).unwrap();
        assert_eq!(d.max_file_age_ms, 7 * 86_400_000);
        let lf = o(&[
            ("latestFirst", "true"),
            ("maxFilesPerTrigger", "2"),
            ("maxFileAge", "1h"),
        ])
        .unwrap();
        assert_eq!(lf.effective_max_file_age_ms(), i64::MAX);
        let lf = o(&[("latestFirst", "true"), ("maxFileAge", "1h")]).unwrap();
        assert_eq!(lf.effective_max_file_age_ms(), 3_600_000);
        assert_eq!(time_string_as_ms("k", "250").unwrap(), 250);
        assert_eq!(time_string_as_ms("k", "2min").unwrap(), 120_000);
        assert!(time_string_as_ms("k", "2 parsecs").is_err());
    }

    #[test]
    fn seen_files_purge_relative_to_newest() {
        let mut s = SeenFiles::new(100, false);
        s.add("file:///a", 1000);
        s.add("file:///b", 1150);
        assert_eq!(s.purge(), 1);
        assert!(!s.is_new("file:///b", 1150));
        assert!(!s.is_new("file:///old", 1049), "older than the purge line");
        assert!(s.is_new("file:///c", 1050));
        let mut by_name = SeenFiles::new(i64::MAX, true);
        by_name.add("file:///x/a.json", 1);
        assert!(!by_name.is_new("file:///y/a.json", 5));
    }

    #[test]
    fn archive_dir_must_not_match_the_source_pattern() {
        assert!(check_archive_dir("/data/in/*", Path::new("/data/in/archive")).is_err());
        assert!(check_archive_dir("/data/in", Path::new("/data/archive")).is_ok());
        assert!(check_archive_dir("/data/*/x", Path::new("/data/archive")).is_err());
    }

    #[test]
    fn offsets_parse_both_forms() {
        assert_eq!(parse_log_offset(&log_offset(3)).unwrap(), 3);
        assert_eq!(parse_log_offset(&Offset::new("7")).unwrap(), 7);
        assert!(parse_log_offset(&Offset::new("{}")).is_err());
    }
}
