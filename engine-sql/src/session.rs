//! The session: configuration, the catalog of temporary views and the registry of streaming
//! queries.
//!
//! The entry points that make DataFrames are defined beside what they make, so this module
//! sits below all of them: `table`, `create_dataframe` and `dataframe_from_table` in
//! [`crate::dataframe`], `read` in [`crate::dataframe::reader`], `sql` in [`crate::command`],
//! `read_stream` in [`crate::streaming::reader`].

use std::sync::{Arc, RwLock};

use arrow::array::RecordBatch;
use engine_core::conf::{self, SessionConf};
use engine_core::logical::LogicalPlan;
use engine_core::physical::plan::TaskContext;
use engine_core::{EngineError, Result};

use crate::catalog::Catalog;
use crate::queries::StreamingQueryManager;

/// The entry point of every program, Spark's `SparkSession`. Cheap to clone: clones share
/// the configuration and the temporary views.
///
/// ```
/// use engine_sql::session::Session;
/// let spark = Session::builder()
///     .app_name("demo")
///     .master("local[2]")
///     .config("spark.sql.shuffle.partitions", "4")
///     .build()
///     .unwrap();
/// assert_eq!(spark.conf_get("spark.sql.shuffle.partitions").as_deref(), Some("4"));
/// ```
#[derive(Debug, Clone)]
pub struct Session {
    inner: Arc<SessionInner>,
}

#[derive(Debug)]
struct SessionInner {
    conf: RwLock<SessionConf>,
    catalog: Catalog,
    streams: StreamingQueryManager,
}

/// Builds a [`Session`].
#[derive(Debug, Default)]
pub struct SessionBuilder {
    conf: SessionConf,
}

impl SessionBuilder {
    /// `spark.app.name`.
    pub fn app_name(mut self, name: &str) -> Self {
        self.conf.set(conf::APP_NAME, name);
        self
    }

    /// `spark.master`: `local`, `local[N]` (N worker threads) or `local[*]`.
    pub fn master(mut self, master: &str) -> Self {
        self.conf.set(conf::MASTER, master);
        self
    }

    /// Any configuration key.
    pub fn config(mut self, key: &str, value: &str) -> Self {
        self.conf.set(key, value);
        self
    }

    /// The session; fails if a setting is invalid.
    pub fn build(self) -> Result<Session> {
        // Validate eagerly so a typo in the builder fails here, not in the first query.
        self.conf.worker_threads()?;
        self.conf.shuffle_partitions()?;
        self.conf.ansi()?;
        self.conf.time_zone()?;
        // The State Data Source (`statestore`, `state-metadata`) reads this crate's own
        // checkpoints, so every session has it, as Spark's does.
        engine_state::register();
        Ok(Session {
            inner: Arc::new(SessionInner {
                conf: RwLock::new(self.conf),
                catalog: Catalog::new(),
                streams: Default::default(),
            }),
        })
    }
}

impl Session {
    /// A builder, as `SparkSession.builder`.
    pub fn builder() -> SessionBuilder {
        SessionBuilder::default()
    }

    /// Warns about the options built-in `format` does not know on `side`, naming the
    /// closest known one; with `spark.sstream.options.failOnUnknown` set, rejects them.
    pub fn check_format_options(
        &self,
        format: &str,
        side: engine_core::known_options::Side,
        options: &engine_core::options::Options,
    ) -> Result<()> {
        let fail = self
            .conf()
            .get_bool(engine_core::known_options::FAIL_ON_UNKNOWN_OPTIONS, false)?;
        engine_core::known_options::check_options(format, side, options, fail)
    }

    /// A snapshot of the configuration.
    pub fn conf(&self) -> SessionConf {
        self.inner
            .conf
            .read()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// The value of one key, if set.
    pub fn conf_get(&self, key: &str) -> Option<String> {
        self.inner
            .conf
            .read()
            .ok()
            .and_then(|c| c.get(key).map(str::to_string))
    }

    /// Sets a key at run time (`spark.conf.set`).
    pub fn conf_set(&self, key: &str, value: &str) -> Result<()> {
        let mut c = self
            .inner
            .conf
            .write()
            .map_err(|_| EngineError::Internal("conf lock poisoned".into()))?;
        c.set(key, value);
        Ok(())
    }

    /// The temporary views.
    pub fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    /// Resolves `plan` against this session's views with its ANSI setting.
    pub fn analyze(&self, plan: &Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
        engine_core::analyzer::analyze(plan, self.catalog(), self.conf().ansi()?)
    }

    /// Runs an analyzed batch plan (optimized with this session's settings) and returns its
    /// batches grouped by output partition: what a DataFrame action and a SQL scalar
    /// subquery both do. Spark's `checkForBatch` refuses a stream here.
    pub fn run_analyzed(&self, analyzed: &Arc<LogicalPlan>) -> Result<Vec<Vec<RecordBatch>>> {
        engine_core::analyzer::streaming_checks::check_batch(analyzed)?;
        let ctx = self.task_context()?;
        let optimized = engine_core::optimizer::optimize_with_conf(analyzed, &self.conf())?;
        let physical = engine_core::physical::planner::create_physical_plan(&optimized, &ctx)?;
        engine_core::physical::plan::collect_partitions(&physical, &ctx)
    }

    /// A task context for a query that starts now.
    pub fn task_context(&self) -> Result<Arc<TaskContext>> {
        Ok(Arc::new(TaskContext::new(Arc::new(self.conf()))?))
    }

    /// The streaming queries of this session and their listeners.
    pub fn streams(&self) -> StreamingQueryManager {
        self.inner.streams.clone()
    }
}
