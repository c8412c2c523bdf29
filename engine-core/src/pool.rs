//! The worker pool that runs one task per partition.
//!
//! `local[N]` gives `N` workers. Tasks of one stage are pulled from a shared counter by at
//! most `N` scoped threads, so a nested stage (an exchange feeding a join) never deadlocks
//! waiting for a worker: it gets threads of its own, bounded by the same `N`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::error::{EngineError, Result};

/// Runs independent partition tasks on up to `threads` OS threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerPool {
    threads: usize,
}

impl WorkerPool {
    /// A pool of `threads` workers (at least one).
    pub fn new(threads: usize) -> Self {
        WorkerPool {
            threads: threads.max(1),
        }
    }

    /// A pool as wide as the machine (`local[*]`).
    pub fn all_cores() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// How many workers this pool runs at most.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `task(i)` for every `i` in `0..n` and returns the results in partition order.
    ///
    /// Promises: every task runs at most once; after the first error no new task starts and
    /// the first error (by partition) is returned. A task that panics fails with an error
    /// (on one worker as on several) instead of unwinding into the caller.
    ///
    /// ```
    /// use engine_core::pool::WorkerPool;
    /// let squares = WorkerPool::new(2).run(4, |i| Ok(i * i)).unwrap();
    /// assert_eq!(squares, vec![0, 1, 4, 9]);
    /// ```
    pub fn run<T, F>(&self, n: usize, task: F) -> Result<Vec<T>>
    where
        T: Send,
        F: Fn(usize) -> Result<T> + Sync,
    {
        let workers = self.threads.min(n);
        let task = |i: usize| {
            crate::guard::catch_panic(|| task(i))
                .unwrap_or_else(|m| Err(crate::guard::panicked("a task", None, &m)))
        };
        if workers <= 1 {
            return (0..n).map(task).collect();
        }
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let mut slots: Vec<Option<Result<T>>> = (0..n).map(|_| None).collect();
        let results = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        while !failed.load(Ordering::Relaxed) {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= n {
                                break;
                            }
                            let r = task(i);
                            if r.is_err() {
                                failed.store(true, Ordering::Relaxed);
                            }
                            done.push((i, r));
                        }
                        done
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .map_err(|_| EngineError::Internal("a worker thread panicked".into()))
                })
                .collect::<Result<Vec<_>>>()
        })?;
        for (i, r) in results.into_iter().flatten() {
            slots[i] = Some(r);
        }
        // Report the first real failure by partition; a skipped slot only means the stage
        // stopped early because of that failure.
        if let Some(pos) = slots.iter().position(|s| matches!(s, Some(Err(_))))
            && let Some(Some(Err(e))) = slots.get_mut(pos).map(Option::take)
        {
            return Err(e);
        }
        let mut out = Vec::with_capacity(n);
        for slot in slots {
            match slot {
                Some(Ok(v)) => out.push(v),
                _ => {
                    return Err(EngineError::Internal(
                        "a task was skipped without a recorded failure".into(),
                    ));
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_every_partition_in_order() {
        let out = WorkerPool::new(3).run(10, |i| Ok(i + 1)).unwrap();
        assert_eq!(out, (1..=10).collect::<Vec<_>>());
    }

    #[test]
    fn reports_an_error() {
        let r = WorkerPool::new(2).run(8, |i| {
            if i == 5 {
                Err(EngineError::Unsupported("five".into()))
            } else {
                Ok(i)
            }
        });
        assert!(r.is_err());
    }

    #[test]
    fn a_panicking_task_is_an_error_on_one_worker_as_on_several() {
        for threads in [1, 3] {
            let r = WorkerPool::new(threads).run(4, |i| {
                if i == 2 {
                    panic!("bad record");
                }
                Ok(i)
            });
            let e = r.unwrap_err().to_string();
            assert!(e.contains("a task panicked: bad record"), "{threads}: {e}");
        }
    }

    #[test]
    fn zero_tasks_is_fine() {
        let out: Vec<usize> = WorkerPool::new(4).run(0, Ok).unwrap();
        assert!(out.is_empty());
    }
}
