//! A running streaming query: Spark's `StreamingQuery`.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use engine_core::progress::{StreamingQueryProgress, StreamingQueryStatus};
use engine_core::{EngineError, Result};

/// The error that stopped a query (Spark's `StreamingQueryException`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamingQueryException {
    /// The query id.
    pub query_id: String,
    /// The run id.
    pub run_id: String,
    /// The cause's message.
    pub message: String,
    /// The cause's Spark error class, if it has one.
    pub error_class: Option<String>,
}

impl fmt::Display for StreamingQueryException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[STREAM_FAILED] Query [id = {}, runId = {}] terminated with exception: {} SQLSTATE: XXKST",
            self.query_id, self.run_id, self.message
        )
    }
}

impl StreamingQueryException {
    /// As an [`EngineError`] (what `await_termination` returns).
    pub fn to_error(&self) -> EngineError {
        EngineError::execution(
            "STREAM_FAILED",
            format!(
                "Query [id = {}, runId = {}] terminated with exception: {} SQLSTATE: XXKST",
                self.query_id, self.run_id, self.message
            ),
        )
    }
}

#[derive(Debug)]
pub(crate) struct QueryState {
    pub active: bool,
    pub status: StreamingQueryStatus,
    pub recent: VecDeque<StreamingQueryProgress>,
    pub exception: Option<StreamingQueryException>,
    /// Triggers started so far.
    pub triggers: u64,
    /// The last trigger that found no new data.
    pub last_idle_trigger: u64,
    pub last_plan: Option<String>,
}

/// What the query thread and the handles share.
#[derive(Debug)]
pub(crate) struct QueryInner {
    pub id: String,
    pub run_id: String,
    pub name: Option<String>,
    pub state: Mutex<QueryState>,
    pub changed: Condvar,
    pub stop: AtomicBool,
    pub thread: Mutex<Option<JoinHandle<()>>>,
    pub recent_limit: usize,
}

impl QueryInner {
    pub fn new(id: String, run_id: String, name: Option<String>, recent_limit: usize) -> Self {
        QueryInner {
            id,
            run_id,
            name,
            state: Mutex::new(QueryState {
                active: true,
                status: StreamingQueryStatus {
                    message: "Initializing sources".into(),
                    is_data_available: false,
                    is_trigger_active: false,
                },
                recent: VecDeque::new(),
                exception: None,
                triggers: 0,
                last_idle_trigger: 0,
                last_plan: None,
            }),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
            thread: Mutex::new(None),
            recent_limit,
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, QueryState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Updates the state and wakes waiters.
    pub fn update(&self, f: impl FnOnce(&mut QueryState)) {
        let mut s = self.lock();
        f(&mut s);
        self.changed.notify_all();
    }

    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// Waits on the state until `done` holds or `deadline` passes; returns whether it held.
    fn wait(&self, deadline: Option<Instant>, done: impl Fn(&QueryState) -> bool) -> bool {
        let mut s = self.lock();
        loop {
            if done(&s) {
                return true;
            }
            let slice = Duration::from_millis(50);
            let wait = match deadline {
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    (d - now).min(slice)
                }
                None => slice,
            };
            s = self
                .changed
                .wait_timeout(s, wait)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }
}

/// A handle on a started query. Cheap to clone; every clone controls the same query.
#[derive(Debug, Clone)]
pub struct StreamingQuery {
    pub(crate) inner: Arc<QueryInner>,
}

impl StreamingQuery {
    /// The query id: the same for every run from one checkpoint.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The id of this run (new at every start).
    pub fn run_id(&self) -> &str {
        &self.inner.run_id
    }

    /// The `query_name`, if one was given.
    pub fn name(&self) -> Option<&str> {
        self.inner.name.as_deref()
    }

    /// Whether the query is still running.
    pub fn is_active(&self) -> bool {
        self.inner.lock().active
    }

    /// What the query is doing now.
    pub fn status(&self) -> StreamingQueryStatus {
        self.inner.lock().status.clone()
    }

    /// The progress of the last batch that processed data.
    pub fn last_progress(&self) -> Option<StreamingQueryProgress> {
        self.inner.lock().recent.back().cloned()
    }

    /// The latest progress reports, oldest first (at most
    /// `spark.sql.streaming.numRecentProgressUpdates`, default 100).
    pub fn recent_progress(&self) -> Vec<StreamingQueryProgress> {
        self.inner.lock().recent.iter().cloned().collect()
    }

    /// The error that stopped the query, if one did.
    pub fn exception(&self) -> Option<StreamingQueryException> {
        self.inner.lock().exception.clone()
    }

    /// Waits until the query stops (or `timeout` passes: then `Ok(false)`). A query stopped
    /// by an error returns that error (`STREAM_FAILED`).
    pub fn await_termination(&self, timeout: Option<Duration>) -> Result<bool> {
        let deadline = timeout.map(|t| Instant::now() + t);
        if !self.inner.wait(deadline, |s| !s.active) {
            return Ok(false);
        }
        match self.exception() {
            Some(e) => Err(e.to_error()),
            None => Ok(true),
        }
    }

    /// Blocks until every row available when called has been processed and committed: a
    /// trigger that started after the call found no new data (or the query stopped). For
    /// tests; with a processing-time trigger and a manual clock, advance the clock meanwhile.
    pub fn process_all_available(&self) -> Result<()> {
        let since = self.inner.lock().triggers;
        self.inner
            .wait(None, |s| !s.active || s.last_idle_trigger > since);
        match self.exception() {
            Some(e) => Err(e.to_error()),
            None => Ok(()),
        }
    }

    /// Stops the query: the running batch finishes, no new one starts, then the sources are
    /// released. Returns once the query thread has ended.
    pub fn stop(&self) -> Result<()> {
        self.inner.stop.store(true, Ordering::Release);
        self.inner.update(|_| {});
        let handle = self
            .inner
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(h) = handle {
            // Stopping from inside the query (a foreachBatch function) must not join itself.
            if h.thread().id() != std::thread::current().id() {
                h.join()
                    .map_err(|_| EngineError::Internal("the query thread panicked".into()))?;
            }
        }
        Ok(())
    }

    /// The plan of the last batch (Spark's `explain`), or Spark's note before the first one.
    pub fn explain(&self) -> String {
        match &self.inner.lock().last_plan {
            Some(p) => format!("== Physical Plan ==\n{p}\n"),
            None => "No physical plan. Waiting for data.\n".into(),
        }
    }
}
