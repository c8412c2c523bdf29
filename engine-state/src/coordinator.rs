//! `StateStores`: the providers of one query run, by store id, and the maintenance thread
//! that snapshots and cleans them every `maintenanceInterval` (Spark's executor-side
//! `StateStore` object with its maintenance task).

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use engine_core::Result;

use crate::conf::{ProviderKind, StateStoreConf};
use crate::disk::{DiskEnv, DiskProvider};
use crate::id::StateStoreId;
use crate::memory::MemoryProvider;
use crate::store::{ReadStateStore, StateStore, StateStoreProvider};

type Providers = HashMap<StateStoreId, Arc<dyn StateStoreProvider>>;

struct Shared {
    conf: StateStoreConf,
    providers: Mutex<Providers>,
    disk_env: OnceLock<Arc<DiskEnv>>,
    stop: Mutex<bool>,
    wake: Condvar,
}

/// The state stores of one query run. Create one when the query starts and keep it for the
/// whole run: providers keep their working copies between batches. `Send + Sync`: tasks on
/// the worker pool open and commit their partitions' stores in parallel.
pub struct StateStores {
    shared: Arc<Shared>,
    maintenance: Option<JoinHandle<()>>,
}

impl StateStores {
    /// The stores of a query run with `conf`; starts the maintenance thread unless the
    /// interval is 0 (then call [`StateStores::run_maintenance`] yourself).
    pub fn new(conf: StateStoreConf) -> Result<StateStores> {
        let interval = conf.maintenance_interval_ms;
        let shared = Arc::new(Shared {
            conf,
            providers: Mutex::new(HashMap::new()),
            disk_env: OnceLock::new(),
            stop: Mutex::new(false),
            wake: Condvar::new(),
        });
        let maintenance = if interval > 0 {
            let shared = Arc::clone(&shared);
            Some(
                std::thread::Builder::new()
                    .name("state-store-maintenance".into())
                    .spawn(move || maintenance_loop(&shared, Duration::from_millis(interval)))
                    .map_err(|e| {
                        engine_core::EngineError::io(
                            "starting the state store maintenance thread",
                            e,
                        )
                    })?,
            )
        } else {
            None
        };
        Ok(StateStores {
            shared,
            maintenance,
        })
    }

    /// The conf the stores run with.
    pub fn conf(&self) -> &StateStoreConf {
        &self.shared.conf
    }

    /// The provider of `id`, created on first use with the conf's provider kind.
    pub fn provider(&self, id: &StateStoreId) -> Result<Arc<dyn StateStoreProvider>> {
        let mut providers = self
            .shared
            .providers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(p) = providers.get(id) {
            return Ok(Arc::clone(p));
        }
        let conf = self.shared.conf.clone();
        let p: Arc<dyn StateStoreProvider> = match conf.provider {
            ProviderKind::Memory => Arc::new(MemoryProvider::new(id.clone(), conf)),
            ProviderKind::Disk => {
                let env = match self.shared.disk_env.get() {
                    Some(env) => Arc::clone(env),
                    None => {
                        let env = DiskEnv::open(&conf)?;
                        Arc::clone(self.shared.disk_env.get_or_init(|| env))
                    }
                };
                Arc::new(DiskProvider::new(id.clone(), conf, env))
            }
        };
        providers.insert(id.clone(), Arc::clone(&p));
        Ok(p)
    }

    /// A writable store of `id` at `version` (the state after batch `version - 1`).
    pub fn get_store(&self, id: &StateStoreId, version: u64) -> Result<Box<dyn StateStore>> {
        self.provider(id)?.get_store(version)
    }

    /// A read-only store of `id` at `version`.
    pub fn get_read_store(
        &self,
        id: &StateStoreId,
        version: u64,
    ) -> Result<Box<dyn ReadStateStore>> {
        self.provider(id)?.get_read_store(version)
    }

    /// Runs maintenance of every provider now, returning the first error (the others still
    /// run).
    pub fn run_maintenance(&self) -> Result<()> {
        run_all(&self.shared)
    }

    /// Forgets the providers of `operator_id`'s stores (a query that no longer has it).
    pub fn unload_operator(&self, operator_id: u64) {
        let mut providers = self
            .shared
            .providers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        providers.retain(|id, _| id.operator_id != operator_id);
    }

    /// The disk provider's working directory, once a disk store was opened.
    pub fn working_dir(&self) -> Option<std::path::PathBuf> {
        self.shared.disk_env.get().map(|e| e.dir().to_path_buf())
    }
}

fn run_all(shared: &Shared) -> Result<()> {
    let providers: Vec<_> = shared
        .providers
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .values()
        .cloned()
        .collect();
    let mut first = None;
    for p in providers {
        if let Err(e) = p.do_maintenance() {
            log::warn!("state store maintenance of {} failed: {e}", p.id());
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), Err)
}

fn maintenance_loop(shared: &Shared, interval: Duration) {
    let mut stop = shared.stop.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        let (guard, _) = shared
            .wake
            .wait_timeout(stop, interval)
            .unwrap_or_else(PoisonError::into_inner);
        stop = guard;
        if *stop {
            return;
        }
        drop(stop);
        // Failures are logged; the next run tries again, as Spark's maintenance task does.
        let _ = run_all(shared);
        stop = shared.stop.lock().unwrap_or_else(PoisonError::into_inner);
        if *stop {
            return;
        }
    }
}

impl Drop for StateStores {
    fn drop(&mut self) {
        *self
            .shared
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
        self.shared.wake.notify_all();
        if let Some(h) = self.maintenance.take() {
            let _ = h.join();
        }
        // Providers before the LSM they live in.
        self.shared
            .providers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}
