//! The session's queries and listeners: Spark's `StreamingQueryManager`.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use engine_core::progress::{
    QueryIdleEvent, QueryProgressEvent, QueryStartedEvent, QueryTerminatedEvent,
    StreamingQueryListener,
};
use engine_core::{EngineError, Result};

use super::query::StreamingQuery;

#[derive(Default)]
struct State {
    active: BTreeMap<String, StreamingQuery>,
    listeners: Vec<Arc<dyn StreamingQueryListener>>,
    /// Set when any query terminates, until `reset_terminated`.
    terminated: Option<StreamingQuery>,
}

#[derive(Default)]
struct Inner {
    state: Mutex<State>,
    changed: Condvar,
}

/// Active queries and listeners of one session (`session.streams()`). Cheap to clone.
#[derive(Clone, Default)]
pub struct StreamingQueryManager {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for StreamingQueryManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.lock();
        f.debug_struct("StreamingQueryManager")
            .field("active", &s.active.keys().collect::<Vec<_>>())
            .field("listeners", &s.listeners.len())
            .finish()
    }
}

impl StreamingQueryManager {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The running queries.
    pub fn active(&self) -> Vec<StreamingQuery> {
        self.lock().active.values().cloned().collect()
    }

    /// The running query with this id.
    pub fn get(&self, id: &str) -> Option<StreamingQuery> {
        self.lock().active.get(id).cloned()
    }

    /// Waits until any query of the session terminates (since the last
    /// [`Self::reset_terminated`]); returns its error if it failed, `Ok(false)` on timeout.
    pub fn await_any_termination(&self, timeout: Option<Duration>) -> Result<bool> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut s = self.lock();
        loop {
            if let Some(q) = &s.terminated {
                return match q.exception() {
                    Some(e) => Err(e.to_error()),
                    None => Ok(true),
                };
            }
            let mut wait = Duration::from_millis(50);
            if let Some(d) = deadline {
                let now = Instant::now();
                if now >= d {
                    return Ok(false);
                }
                wait = wait.min(d - now);
            }
            s = self
                .inner
                .changed
                .wait_timeout(s, wait)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// Forgets past terminations, so [`Self::await_any_termination`] waits for a new one.
    pub fn reset_terminated(&self) {
        self.lock().terminated = None;
    }

    /// Adds a listener for every query of the session.
    pub fn add_listener(&self, listener: Arc<dyn StreamingQueryListener>) {
        self.lock().listeners.push(listener);
    }

    /// Removes a listener added before (compared by pointer).
    pub fn remove_listener(&self, listener: &Arc<dyn StreamingQueryListener>) {
        self.lock()
            .listeners
            .retain(|l| !std::ptr::addr_eq(Arc::as_ptr(l), Arc::as_ptr(listener)));
    }

    fn listeners(&self) -> Vec<Arc<dyn StreamingQueryListener>> {
        self.lock().listeners.clone()
    }

    /// Registers a starting query; fails if one with its name or id is running (Spark's
    /// rules: one run per checkpoint, names unique among active queries).
    pub(crate) fn register(&self, q: &StreamingQuery) -> Result<()> {
        let mut s = self.lock();
        if let Some(name) = q.name()
            && s.active.values().any(|a| a.name() == Some(name))
        {
            return Err(EngineError::analysis(
                "_LEGACY_ERROR_TEMP_3098",
                format!(
                    "Cannot start query with name {name} as a query with that name is already active in this SparkSession"
                ),
            ));
        }
        if s.active.contains_key(q.id()) {
            return Err(EngineError::execution(
                "CONCURRENT_QUERY",
                format!(
                    "Cannot start query with id {} as another query with same id is already active. Perhaps you are attempting to restart a query from checkpoint that is already active.",
                    q.id()
                ),
            ));
        }
        s.active.insert(q.id().to_string(), q.clone());
        Ok(())
    }

    /// A query that failed to start: forget it without counting it as terminated.
    pub(crate) fn forget(&self, q: &StreamingQuery) {
        let mut s = self.lock();
        if s.active
            .get(q.id())
            .is_some_and(|a| a.run_id() == q.run_id())
        {
            s.active.remove(q.id());
        }
    }

    /// A query ended: forget it and wake `await_any_termination`.
    pub(crate) fn deregister(&self, q: &StreamingQuery) {
        let mut s = self.lock();
        if s.active
            .get(q.id())
            .is_some_and(|a| a.run_id() == q.run_id())
        {
            s.active.remove(q.id());
        }
        s.terminated = Some(q.clone());
        self.inner.changed.notify_all();
    }

    pub(crate) fn post_started(&self, e: &QueryStartedEvent) {
        for l in self.listeners() {
            l.on_query_started(e);
        }
    }

    pub(crate) fn post_progress(&self, e: &QueryProgressEvent) {
        for l in self.listeners() {
            l.on_query_progress(e);
        }
    }

    pub(crate) fn post_idle(&self, e: &QueryIdleEvent) {
        for l in self.listeners() {
            l.on_query_idle(e);
        }
    }

    pub(crate) fn post_terminated(&self, e: &QueryTerminatedEvent) {
        for l in self.listeners() {
            l.on_query_terminated(e);
        }
    }
}
