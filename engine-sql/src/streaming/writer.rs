//! `df.write_stream()`: Spark's `DataStreamWriter`, which checks the query, resolves the
//! sink and the checkpoint, and starts the query thread.

use std::path::PathBuf;
use std::sync::Arc;

use engine_core::checkpoint::StreamMetadata;
use engine_core::connector::{OutputMode, Sink, SinkContext};
use engine_core::options::Options;
use engine_core::progress::{QueryStartedEvent, QueryTerminatedEvent};
use engine_core::{EngineError, Result};

use super::clock::{Clock, SystemClock};
use super::execution::microbatch::{MicroBatchExecution, QuerySetup};
use super::format_timestamp_ms;
use super::sinks::console::ConsoleSink;
use super::sinks::foreach::{
    ForeachBatchFn, ForeachBatchSink, ForeachSink, ForeachWriter, ForeachWriterFactory,
};
use super::sinks::memory::MemorySink;
use super::trigger::Trigger;
use crate::dataframe::DataFrame;
use crate::queries::query::{QueryInner, StreamingQuery, StreamingQueryException};
use engine_core::analyzer::streaming_checks as checks;

/// `spark.sql.streaming.checkpointLocation`: the default parent of checkpoints
/// (`<it>/<query name or a uuid>`).
pub const CHECKPOINT_LOCATION: &str = "spark.sql.streaming.checkpointLocation";
/// `spark.sql.streaming.numRecentProgressUpdates` (default 100).
pub const NUM_RECENT_PROGRESS: &str = "spark.sql.streaming.numRecentProgressUpdates";

/// Sinks that may run without a checkpoint location (Spark's
/// `SOURCES_ALLOW_ONE_TIME_QUERY`): a temporary one is used and deleted on a clean stop.
const TEMP_CHECKPOINT_SINKS: &[&str] = &["memory", "console", "foreach", "foreachbatch", "noop"];

enum SinkChoice {
    Format(String),
    ForeachBatch(ForeachBatchFn),
    Foreach(ForeachWriterFactory),
}

/// Configures and starts a streaming query.
pub struct DataStreamWriter {
    df: DataFrame,
    sink: SinkChoice,
    options: Options,
    output_mode: OutputMode,
    output_mode_error: Option<EngineError>,
    trigger: Trigger,
    query_name: Option<String>,
    partition_by: Vec<String>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for DataStreamWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataStreamWriter")
            .field("output_mode", &self.output_mode)
            .field("trigger", &self.trigger)
            .field("query_name", &self.query_name)
            .finish()
    }
}

impl DataFrame {
    /// Starts building a streaming query over this (streaming) DataFrame.
    pub fn write_stream(&self) -> DataStreamWriter {
        let default = self
            .session()
            .conf_get("spark.sql.sources.default")
            .unwrap_or_else(|| "parquet".into());
        DataStreamWriter {
            df: self.clone(),
            sink: SinkChoice::Format(default),
            options: Options::default(),
            output_mode: OutputMode::Append,
            output_mode_error: None,
            trigger: Trigger::default(),
            query_name: None,
            partition_by: vec![],
            clock: Arc::new(SystemClock),
        }
    }
}

impl DataStreamWriter {
    /// The sink format: `console`, `memory`, `parquet`, `json`, `kafka`, ...
    pub fn format(mut self, format: &str) -> Self {
        self.sink = SinkChoice::Format(format.to_string());
        self
    }

    /// One sink option (`checkpointLocation`, `path`, `numRows`, ...).
    pub fn option(mut self, key: &str, value: impl ToString) -> Self {
        self.options.set(key, value.to_string());
        self
    }

    /// Several options.
    pub fn options<'a>(mut self, opts: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        for (k, v) in opts {
            self.options.set(k, v);
        }
        self
    }

    /// Append (default), update or complete.
    pub fn output_mode(mut self, mode: OutputMode) -> Self {
        self.output_mode = mode;
        self.output_mode_error = None;
        self
    }

    /// The output mode by Spark's name; an unknown name fails at `start()` with Spark's
    /// `STREAMING_OUTPUT_MODE.INVALID`.
    pub fn output_mode_str(mut self, mode: &str) -> Self {
        match mode.trim().to_ascii_lowercase().as_str() {
            "append" => self.output_mode = OutputMode::Append,
            "update" => self.output_mode = OutputMode::Update,
            "complete" => self.output_mode = OutputMode::Complete,
            _ => {
                self.output_mode_error = Some(EngineError::analysis(
                    "STREAMING_OUTPUT_MODE.INVALID",
                    format!(
                        "Invalid streaming output mode: {mode}. Accepted output modes are 'Append', 'Complete', 'Update'. SQLSTATE: 42KDE"
                    ),
                ))
            }
        }
        self
    }

    /// When batches run (default: as fast as possible).
    pub fn trigger(mut self, trigger: Trigger) -> Self {
        self.trigger = trigger;
        self
    }

    /// The query name: the memory sink's table name, and the default checkpoint
    /// sub-directory under `spark.sql.streaming.checkpointLocation`.
    pub fn query_name(mut self, name: &str) -> Self {
        self.query_name = Some(name.to_string());
        self
    }

    /// Partition columns for file sinks (passed as the `__partition_columns` option, a JSON
    /// list, as Spark passes them).
    pub fn partition_by<'a>(mut self, cols: impl IntoIterator<Item = &'a str>) -> Self {
        self.partition_by = cols.into_iter().map(str::to_string).collect();
        self
    }

    /// Calls `f` with every batch's result as a DataFrame and the batch id.
    pub fn foreach_batch(
        mut self,
        f: impl Fn(DataFrame, u64) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.sink = SinkChoice::ForeachBatch(Arc::new(f));
        self
    }

    /// Writes every row through a clone of `writer` per task.
    pub fn foreach<W: ForeachWriter + Clone + Sync + 'static>(mut self, writer: W) -> Self {
        self.sink = SinkChoice::Foreach(Arc::new(move || Box::new(writer.clone())));
        self
    }

    /// The clock triggers wait on (tests pass a [`super::ManualClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// `start(path)`: the `path` option, then [`Self::start`].
    pub fn start_path(self, path: &str) -> Result<StreamingQuery> {
        self.option("path", path).start()
    }

    fn sink_name(&self) -> String {
        match &self.sink {
            SinkChoice::Format(f) => f.to_ascii_lowercase(),
            SinkChoice::ForeachBatch(_) => "foreachbatch".into(),
            SinkChoice::Foreach(_) => "foreach".into(),
        }
    }

    /// Checks the query, resolves sink and checkpoint, and starts it on its own thread.
    /// Errors in the plan, the options or the checkpoint are returned here; errors while
    /// running stop the query and are returned by `await_termination` / `exception`.
    pub fn start(mut self) -> Result<StreamingQuery> {
        if let Some(e) = self.output_mode_error.take() {
            return Err(e);
        }
        let session = self.df.session().clone();
        let plan = self.df.logical_plan().clone();
        let conf = session.conf();
        match self.trigger {
            Trigger::Continuous(_) => checks::check_continuous(&plan, self.output_mode, &conf)?,
            _ => checks::check_streaming(&plan, self.output_mode, &conf)?,
        }
        let schema = self.df.schema()?;
        let sink_name = self.sink_name();
        if let SinkChoice::Format(f) = &self.sink {
            session.check_format_options(
                f,
                engine_core::known_options::Side::Write,
                &self.options,
            )?;
        }
        // Spark refuses partitionBy for these sinks, but not for `noop`, which ignores it.
        if !self.partition_by.is_empty()
            && sink_name != "noop"
            && TEMP_CHECKPOINT_SINKS.contains(&sink_name.as_str())
        {
            let shown = match &self.sink {
                SinkChoice::Format(f) => f.clone(),
                SinkChoice::ForeachBatch(_) => "foreachBatch".into(),
                SinkChoice::Foreach(_) => "foreach".into(),
            };
            return Err(EngineError::analysis(
                "_LEGACY_ERROR_TEMP_1197",
                format!("'{shown}' does not support partitioning"),
            ));
        }
        let (checkpoint, temporary) = self.checkpoint_location(&sink_name)?;
        // Spark: a memory sink keeps its rows in this process only, so it can resume from a
        // checkpoint only in complete mode (which rewrites everything each batch).
        if sink_name == "memory"
            && self.output_mode != OutputMode::Complete
            && !engine_core::checkpoint::MetadataLog::new(checkpoint.join("offsets"))
                .ids()?
                .is_empty()
        {
            return Err(EngineError::analysis(
                "_LEGACY_ERROR_TEMP_1299",
                format!(
                    "This query does not support recovering from checkpoint location. Delete {}/offsets to start over.",
                    checkpoint.display()
                ),
            ));
        }
        let metadata_path = checkpoint.join("metadata");
        let query_id = match StreamMetadata::read(&metadata_path)? {
            Some(m) => m.id,
            None => {
                let m = StreamMetadata {
                    id: uuid::Uuid::new_v4().to_string(),
                };
                m.write(&metadata_path)?;
                m.id
            }
        };
        super::sinks::file::set_partition_columns(&mut self.options, &self.partition_by);
        let sink: Arc<dyn Sink> =
            match std::mem::replace(&mut self.sink, SinkChoice::Format(String::new())) {
                SinkChoice::ForeachBatch(f) => {
                    Arc::new(ForeachBatchSink::new(&session, schema.clone(), f))
                }
                SinkChoice::Foreach(f) => Arc::new(ForeachSink::new(f)),
                SinkChoice::Format(name) => match name.to_ascii_lowercase().as_str() {
                    "console" => {
                        Arc::new(ConsoleSink::new(&session, schema.clone(), &self.options)?)
                    }
                    "memory" => {
                        let name = self.query_name.as_deref().ok_or_else(|| {
                            EngineError::analysis(
                                "_LEGACY_ERROR_TEMP_1194",
                                "queryName must be specified for memory sink",
                            )
                        })?;
                        MemorySink::register(&session, name, schema.clone(), self.output_mode)?
                    }
                    _ => super::formats::lookup(&name)?.create_sink(SinkContext {
                        options: session.conf().with_session_settings(&self.options),
                        schema: schema.clone(),
                        output_mode: self.output_mode,
                        query_id: Some(query_id.clone()),
                        save_mode: None,
                    })?,
                },
            };
        let run_id = uuid::Uuid::new_v4().to_string();
        let recent_limit = session.conf().get_usize(NUM_RECENT_PROGRESS, 100)?;
        let manager = session.streams();
        let inner = Arc::new(QueryInner::new(
            query_id.clone(),
            run_id.clone(),
            self.query_name.clone(),
            recent_limit,
        ));
        let query = StreamingQuery {
            inner: inner.clone(),
        };
        manager.register(&query)?;
        let exec = MicroBatchExecution::new(QuerySetup {
            session,
            plan,
            sink,
            trigger: self.trigger,
            clock: self.clock.clone(),
            checkpoint: checkpoint.clone(),
            query_id: query_id.clone(),
            output_mode: self.output_mode,
        });
        let mut exec = match exec {
            Ok(e) => e,
            Err(e) => {
                inner.update(|s| s.active = false);
                manager.forget(&query);
                return Err(e);
            }
        };
        manager.post_started(&QueryStartedEvent {
            id: query_id,
            run_id,
            name: self.query_name.clone(),
            timestamp: format_timestamp_ms(self.clock.now_ms()),
        });
        let thread_query = query.clone();
        let handle = std::thread::Builder::new()
            .name(format!(
                "stream execution thread for {}",
                self.query_name.as_deref().unwrap_or(query.id())
            ))
            .spawn(move || run_query(&mut exec, &thread_query, checkpoint, temporary))
            .map_err(|e| EngineError::io("starting the query thread", e))?;
        *inner
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(handle);
        Ok(query)
    }

    /// Spark's rules: the `checkpointLocation` option; else
    /// `spark.sql.streaming.checkpointLocation`/`<query name or uuid>`; else a temporary
    /// directory for sinks that allow one-time queries; else an error.
    fn checkpoint_location(&self, sink_name: &str) -> Result<(PathBuf, bool)> {
        if let Some(p) = self.options.get("checkpointLocation") {
            return Ok((PathBuf::from(p), false));
        }
        if let Some(parent) = self.df.session().conf_get(CHECKPOINT_LOCATION) {
            let sub = self
                .query_name
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            return Ok((PathBuf::from(parent).join(sub), false));
        }
        if TEMP_CHECKPOINT_SINKS.contains(&sink_name) {
            let dir = std::env::temp_dir().join(format!("temporary-{}", uuid::Uuid::new_v4()));
            return Ok((dir, true));
        }
        Err(EngineError::analysis(
            "_LEGACY_ERROR_TEMP_1298",
            "checkpointLocation must be specified either through option(\"checkpointLocation\", ...) or SparkSession.conf.set(\"spark.sql.streaming.checkpointLocation\", ...).",
        ))
    }
}

/// The query thread: run, record the outcome, tell listeners, clean up.
fn run_query(
    exec: &mut MicroBatchExecution,
    query: &StreamingQuery,
    checkpoint: PathBuf,
    temporary: bool,
) {
    let inner = &query.inner;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| exec.run(inner)))
        .unwrap_or_else(|_| Err(EngineError::Internal("the streaming query panicked".into())));
    exec.stop_sources();
    let exception = outcome.err().map(|e| StreamingQueryException {
        query_id: inner.id.clone(),
        run_id: inner.run_id.clone(),
        error_class: e.error_class().map(str::to_string),
        message: e.to_string(),
    });
    if let Some(e) = &exception {
        log::error!("{e}");
    } else if temporary {
        // Spark deletes a temporary checkpoint when the query ends without error.
        let _ = std::fs::remove_dir_all(&checkpoint);
    }
    // Spark's order: record the error, leave the manager, tell listeners, and only then
    // release `await_termination` waiters.
    inner.update(|s| {
        s.exception = exception.clone();
        s.status.is_trigger_active = false;
        s.status.is_data_available = false;
        s.status.message = "Stopped".into();
    });
    let manager = &exec.manager;
    manager.deregister(query);
    manager.post_terminated(&QueryTerminatedEvent {
        id: inner.id.clone(),
        run_id: inner.run_id.clone(),
        exception: exception.as_ref().map(|e| e.message.clone()),
        error_class_on_exception: exception.and_then(|e| e.error_class),
    });
    inner.update(|s| s.active = false);
}
