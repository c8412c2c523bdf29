//! Time for triggers: the system clock, or a manual one tests move by hand (Spark's
//! `ManualClock`), so no test depends on wall-clock time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of milliseconds that trigger loops wait on.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, ms since the epoch.
    fn now_ms(&self) -> i64;

    /// Blocks until [`Self::now_ms`] reaches `target_ms` or `stop` is set (checked at least
    /// every few milliseconds).
    fn wait_until(&self, target_ms: i64, stop: &AtomicBool);
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    }

    fn wait_until(&self, target_ms: i64, stop: &AtomicBool) {
        // Sleep in short slices so `stop()` is honoured promptly.
        loop {
            let left = target_ms - self.now_ms();
            if left <= 0 || stop.load(Ordering::Acquire) {
                return;
            }
            std::thread::sleep(Duration::from_millis(left.min(10) as u64));
        }
    }
}

/// A clock that only moves when told to ([`ManualClock::advance`]); waiters wake up when it
/// passes their target. Also reports how many threads are waiting, so a test can step the
/// clock exactly when the query is idle.
#[derive(Debug, Default)]
pub struct ManualClock {
    state: Mutex<(i64, usize)>,
    moved: Condvar,
}

impl ManualClock {
    /// A clock at `start_ms`.
    pub fn new(start_ms: i64) -> Self {
        ManualClock {
            state: Mutex::new((start_ms, 0)),
            moved: Condvar::new(),
        }
    }

    /// Moves the clock forward and wakes waiters.
    pub fn advance(&self, ms: i64) {
        let mut s = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        s.0 += ms;
        self.moved.notify_all();
    }

    /// Sets the time (never backwards).
    pub fn set_ms(&self, ms: i64) {
        let mut s = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        s.0 = s.0.max(ms);
        self.moved.notify_all();
    }

    /// Blocks until some thread waits on this clock (or `timeout` passes); true if one does.
    pub fn wait_for_waiter(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        let mut s = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while s.1 == 0 {
            let now = std::time::Instant::now();
            if now >= deadline {
                return false;
            }
            s = self
                .moved
                .wait_timeout(s, (deadline - now).min(Duration::from_millis(5)))
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        true
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0
    }

    fn wait_until(&self, target_ms: i64, stop: &AtomicBool) {
        let mut s = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        s.1 += 1;
        self.moved.notify_all();
        while s.0 < target_ms && !stop.load(Ordering::Acquire) {
            s = self
                .moved
                .wait_timeout(s, Duration::from_millis(5))
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        s.1 -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn manual_clock_wakes_waiters_only_when_moved_past_their_target() {
        let clock = Arc::new(ManualClock::new(100));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (clock.clone(), stop.clone());
        let waiter = std::thread::spawn(move || {
            c.wait_until(1_000, &s);
            c.now_ms()
        });
        assert!(clock.wait_for_waiter(Duration::from_secs(10)));
        clock.advance(500);
        // Still short of 1000: the waiter is still waiting.
        assert!(clock.wait_for_waiter(Duration::from_secs(10)));
        clock.set_ms(1_000);
        assert_eq!(waiter.join().unwrap(), 1_000);
        // `stop` releases a waiter whose time never comes.
        let (c, s) = (clock.clone(), stop.clone());
        let waiter = std::thread::spawn(move || c.wait_until(i64::MAX, &s));
        assert!(clock.wait_for_waiter(Duration::from_secs(10)));
        stop.store(true, Ordering::Release);
        waiter.join().unwrap();
    }

    #[test]
    fn system_clock_returns_at_once_for_past_targets() {
        let stop = AtomicBool::new(false);
        SystemClock.wait_until(0, &stop);
        assert!(SystemClock.now_ms() > 0);
    }
}
