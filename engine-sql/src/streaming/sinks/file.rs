//! The exactly-once file sink (Spark's `FileStreamSink` with `ManifestFileCommitProtocol`):
//! json, csv, parquet or text files under a directory, `partition_by` into Hive-style
//! `col=value` directories.
//!
//! Every task writes files under fresh names (`part-00003-<uuid>-c000.json`), invisible to
//! readers until [`Sink::commit`] appends the batch to `<path>/_spark_metadata/<batch id>`
//! in Spark's `FileStreamSinkLog` format (compacted every
//! `spark.sql.streaming.fileSink.log.compactInterval` batches, default 10). A batch id the
//! log already has is not written again: writers of a replayed batch write nothing (as
//! Spark's `addBatch` skips the batch) and files a failed or replayed attempt left are never
//! committed. Readers that honour `_spark_metadata` (Spark, and this engine's batch reader)
//! see each batch once. Unlike Spark, which leaves the files of a killed attempt in the
//! folder, we delete them: those of a failed task at once, and those of a killed process
//! when the query next writes, through the journal of [`super::pending`], so readers that
//! list the folder (pandas, DuckDB, a Hive table) see each row once too.
//!
//! Partition columns come from the option `__partition_columns` (the key Spark's
//! `DataStreamWriter.partitionBy` uses) or `partitionBy`: a JSON array of names or a
//! comma-separated list.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use engine_core::connector::{
    DataWriter, OutputMode, Sink, SinkContext, WriterCommitMessage, WriterContext,
};
use engine_core::{EngineError, Result};

use crate::datasource::file_stream_log::{
    CompactibleLog, SINK_COMPACT_INTERVAL, SINK_METADATA_DIR, SinkFileStatus, cleanup_delay,
    committed_files, uri_to_path,
};
use crate::datasource::listing::absolute;
use crate::datasource::paths::path_option;
use crate::datasource::writer::{
    FileWriter, SaveMode, WriteLayout, WriteSpec, file_extension, split_by_partition,
    validate_write,
};
use engine_core::conf::SessionConf;

use super::pending::PendingFiles;

pub use engine_core::options::{
    PARTITION_COLUMNS_OPTION, partition_columns, set_partition_columns,
};

/// What every writer of the sink shares.
#[derive(Debug)]
struct SinkShared {
    path: PathBuf,
    spec: WriteSpec,
    layout: WriteLayout,
    schema: SchemaRef,
    data_idx: Vec<usize>,
    data_schema: SchemaRef,
    log: CompactibleLog,
    /// The journal of files written but not committed; `None` for a write without a query
    /// id (nothing restarts it).
    pending: Option<PendingFiles>,
    /// Whether the files a killed run of the query left have been deleted yet (done before
    /// the first writer of this run starts, never while another run could still write).
    cleaned: Mutex<bool>,
}

/// The file sink. Created by the json/csv/parquet/text streaming formats.
#[derive(Debug)]
pub struct FileStreamSink {
    given_path: String,
    shared: Arc<SinkShared>,
}

impl FileStreamSink {
    /// A sink of format `name` (`json`, `csv`, `parquet`, `text`) writing to the `path`
    /// option; `conf` gives the time zone of timestamps written as text and the compaction
    /// interval.
    pub fn new(name: &str, ctx: SinkContext, conf: &SessionConf) -> Result<Self> {
        // As Spark's DataSource.createSink: a file sink only appends.
        if ctx.save_mode.is_none() && ctx.output_mode != OutputMode::Append {
            return Err(EngineError::analysis(
                "STREAMING_OUTPUT_MODE.UNSUPPORTED_DATASOURCE",
                format!(
                    "Invalid streaming output mode: {}. This output mode is not supported in Data Source {name}. SQLSTATE: 42KDE",
                    ctx.output_mode.name()
                ),
            ));
        }
        let given_path = path_option(&ctx.options)?;
        let path = absolute(Path::new(&given_path));
        let spec = WriteSpec {
            format: name.to_ascii_lowercase(),
            options: ctx.options.clone(),
            mode: SaveMode::Append,
            partition_by: partition_columns(&ctx.options)?,
            time_zone: conf.time_zone()?,
        };
        let layout = validate_write(&ctx.schema, &spec)?;
        let data_idx: Vec<usize> = (0..ctx.schema.fields().len())
            .filter(|i| !layout.part_idx.contains(i))
            .collect();
        let data_schema = Arc::new(ctx.schema.project(&data_idx)?);
        let interval = ctx
            .options
            .get(SINK_COMPACT_INTERVAL)
            .or_else(|| conf.get(SINK_COMPACT_INTERVAL))
            .map(|v| {
                v.trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        EngineError::invalid_option(
                            SINK_COMPACT_INTERVAL,
                            format!("`{v}` is not a positive integer"),
                        )
                    })
            })
            .transpose()?
            .unwrap_or(10);
        std::fs::create_dir_all(&path)
            .map_err(|e| EngineError::io(format!("creating {}", path.display()), e))?;
        let delay = cleanup_delay("spark.sql.streaming.fileSink.log", |k| {
            ctx.options
                .get(k)
                .or_else(|| conf.get(k))
                .map(str::to_string)
        })?;
        let log = CompactibleLog::new(path.join(SINK_METADATA_DIR), interval).with_cleanup(delay);
        let pending = ctx
            .query_id
            .as_deref()
            .map(|id| PendingFiles::new(&path, id));
        Ok(FileStreamSink {
            given_path,
            shared: Arc::new(SinkShared {
                path,
                spec,
                layout,
                schema: ctx.schema,
                data_idx,
                data_schema,
                log,
                pending,
                cleaned: Mutex::new(false),
            }),
        })
    }

    /// The output directory.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// The newest committed batch id.
    pub fn latest_batch_id(&self) -> Result<Option<u64>> {
        self.shared.log.latest_id()
    }

    /// Deletes, once per run, the data files a killed run wrote that no committed batch
    /// lists: before this run's first writer, so before a replayed batch writes again.
    fn clean_orphans(&self) -> Result<()> {
        let Some(pending) = &self.shared.pending else {
            return Ok(());
        };
        let mut cleaned = self
            .shared
            .cleaned
            .lock()
            .map_err(|_| EngineError::Internal("the file sink's lock is poisoned".into()))?;
        if *cleaned {
            return Ok(());
        }
        let committed: HashSet<PathBuf> = committed_files(&self.shared.path)?
            .unwrap_or_default()
            .iter()
            .map(|f| uri_to_path(&f.path))
            .collect();
        let deleted = pending.clean(&committed)?;
        if deleted > 0 {
            log::info!(
                "file sink {}: deleted {deleted} data files a killed run left uncommitted",
                self.given_path
            );
        }
        *cleaned = true;
        Ok(())
    }

    fn committed(&self, batch_id: u64) -> Result<bool> {
        Ok(self
            .shared
            .log
            .latest_id()?
            .is_some_and(|latest| batch_id <= latest))
    }
}

/// Deletes files no batch will list, and forgets them.
fn delete_files(shared: &SinkShared, files: &[SinkFileStatus]) {
    let paths: Vec<PathBuf> = files.iter().map(|f| uri_to_path(&f.path)).collect();
    for p in &paths {
        let _ = std::fs::remove_file(p);
    }
    forget(shared, &paths);
}

/// Takes `paths` out of the journal of uncommitted files.
fn forget(shared: &SinkShared, paths: &[PathBuf]) {
    if let Some(pending) = &shared.pending {
        pending.forget(paths.iter().map(PathBuf::as_path));
    }
}

fn take_messages(messages: Vec<WriterCommitMessage>) -> Result<Vec<SinkFileStatus>> {
    let mut out = Vec::new();
    for m in messages {
        let files = m.downcast::<Vec<SinkFileStatus>>().map_err(|_| {
            EngineError::Internal("the file sink got a commit message it did not make".into())
        })?;
        out.extend(*files);
    }
    Ok(out)
}

impl Sink for FileStreamSink {
    fn description(&self) -> String {
        format!("FileSink[{}]", self.given_path)
    }

    fn create_writer(&self, ctx: WriterContext) -> Result<Box<dyn DataWriter>> {
        crate::streaming::crash::crash_point("file_sink.writer_created");
        self.clean_orphans()?;
        let skip = self.committed(ctx.batch_id)?;
        Ok(Box::new(FileSinkWriter {
            shared: self.shared.clone(),
            partition: ctx.partition,
            skip,
            open: HashMap::new(),
            done: Vec::new(),
            file_counter: 0,
        }))
    }

    fn commit(&self, batch_id: u64, messages: Vec<WriterCommitMessage>) -> Result<()> {
        let files = take_messages(messages)?;
        if self.committed(batch_id)? {
            // Replayed after a crash that came after the log write: already visible once.
            delete_files(&self.shared, &files);
            return Ok(());
        }
        crate::streaming::crash::crash_point("file_sink.before_log");
        let added = self.shared.log.add(batch_id, &files)?;
        crate::streaming::crash::crash_point("file_sink.log_written");
        if added {
            let paths: Vec<PathBuf> = files.iter().map(|f| uri_to_path(&f.path)).collect();
            forget(&self.shared, &paths);
        } else {
            delete_files(&self.shared, &files);
        }
        Ok(())
    }

    fn abort(&self, _batch_id: u64, messages: Vec<WriterCommitMessage>) -> Result<()> {
        delete_files(&self.shared, &take_messages(messages)?);
        Ok(())
    }
}

/// An open file and how many rows it has.
#[derive(Debug)]
struct OpenFile {
    writer: FileWriter,
    rows: usize,
}

/// One task's writer: a file per partition directory, rolled at `maxRecordsPerFile`.
#[derive(Debug)]
struct FileSinkWriter {
    shared: Arc<SinkShared>,
    partition: usize,
    skip: bool,
    /// Open files by relative partition directory.
    open: HashMap<PathBuf, OpenFile>,
    done: Vec<PathBuf>,
    file_counter: usize,
}

impl FileSinkWriter {
    fn new_file(&mut self, dir: &Path) -> Result<FileWriter> {
        let dir = self.shared.path.join(dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| EngineError::io(format!("creating {}", dir.display()), e))?;
        // Spark's names: `-c000` in a flat directory, `.c000` below partition directories,
        // the counter counting this task's files.
        let sep = if self.shared.layout.part_idx.is_empty() {
            '-'
        } else {
            '.'
        };
        let name = format!(
            "part-{:05}-{}{sep}c{:03}.{}",
            self.partition,
            uuid::Uuid::new_v4(),
            self.file_counter,
            file_extension(&self.shared.spec)
        );
        self.file_counter += 1;
        let file = dir.join(name);
        if let Some(pending) = &self.shared.pending {
            pending.begin(&file)?;
        }
        FileWriter::create(&file, &self.shared.data_schema, &self.shared.spec)
    }

    /// Appends data-column rows to the file of `dir`, rolling files at the row limit.
    fn append(&mut self, dir: PathBuf, rows: &RecordBatch) -> Result<()> {
        let max = self.shared.layout.max_records;
        let mut offset = 0;
        while offset < rows.num_rows() {
            if !self.open.contains_key(&dir) {
                let writer = self.new_file(&dir)?;
                self.open.insert(dir.clone(), OpenFile { writer, rows: 0 });
            }
            let full = {
                let Some(f) = self.open.get_mut(&dir) else {
                    break;
                };
                let n = (rows.num_rows() - offset).min(max - f.rows);
                f.writer.write(&rows.slice(offset, n))?;
                f.rows += n;
                offset += n;
                f.rows >= max
            };
            if full && let Some(f) = self.open.remove(&dir) {
                self.done.push(f.writer.path().to_path_buf());
                f.writer.finish()?;
            }
        }
        Ok(())
    }
}

impl DataWriter for FileSinkWriter {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if self.skip || batch.num_rows() == 0 {
            return Ok(());
        }
        if self.shared.layout.part_idx.is_empty() {
            self.append(PathBuf::new(), batch)?;
            crate::streaming::crash::crash_point("file_sink.rows_written");
            return Ok(());
        }
        let batch = if batch.schema().fields().len() == self.shared.schema.fields().len() {
            batch.clone()
        } else {
            return Err(EngineError::Internal(format!(
                "the file sink expected {} columns, got {}",
                self.shared.schema.fields().len(),
                batch.num_columns()
            )));
        };
        for (dir, rows) in split_by_partition(&batch, &self.shared.layout.part_idx)? {
            let data = rows.project(&self.shared.data_idx)?;
            self.append(dir, &data)?;
        }
        crate::streaming::crash::crash_point("file_sink.rows_written");
        Ok(())
    }

    fn commit(mut self: Box<Self>) -> Result<WriterCommitMessage> {
        let mut paths = std::mem::take(&mut self.done);
        for (_, f) in self.open.drain() {
            paths.push(f.writer.path().to_path_buf());
            f.writer.finish()?;
        }
        paths.sort();
        let files = paths
            .iter()
            .map(|p| SinkFileStatus::added(p))
            .collect::<Result<Vec<_>>>()?;
        crate::streaming::crash::crash_point("file_sink.task_committed");
        Ok(Box::new(files))
    }

    fn abort(mut self: Box<Self>) -> Result<()> {
        let mut paths = std::mem::take(&mut self.done);
        for (_, f) in self.open.drain() {
            paths.push(f.writer.path().to_path_buf());
            let _ = f.writer.finish();
        }
        for p in &paths {
            let _ = std::fs::remove_file(p);
        }
        forget(&self.shared, &paths);
        Ok(())
    }
}
