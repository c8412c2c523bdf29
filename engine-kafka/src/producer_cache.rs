//! Spark's `CachedKafkaProducer`: producers shared by every task with the same producer
//! configuration (credentials included in the key), reference-counted so one in use is never
//! closed, and closed by an evictor after `spark.kafka.producer.cache.timeout` (default 10m)
//! idle; the evictor runs every `spark.kafka.producer.cache.evictorThreadRunInterval` (default
//! 1m; zero or negative disables it).
//!
//! The cache is generic over the producer type and takes a [`Clock`], so its rules are
//! unit-tested without a broker or real time.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use engine_core::Result;

/// Milliseconds on some monotonic scale.
pub trait Clock: Send + Sync {
    /// Now, in milliseconds.
    fn now_ms(&self) -> u64;
}

/// The real clock.
#[derive(Debug)]
pub struct SystemClock(Instant);

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock(Instant::now())
    }
}

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        self.0.elapsed().as_millis() as u64
    }
}

/// A clock that only moves when told to (tests).
#[derive(Debug, Default)]
pub struct ManualClock(Mutex<u64>);

impl ManualClock {
    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut t = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *t += by.as_millis() as u64;
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Builds a producer from its configuration.
pub type ProducerFactory<P> = Box<dyn Fn(&ProducerKey) -> Result<P> + Send + Sync>;

/// The cache key: the whole producer configuration, sorted.
pub type ProducerKey = BTreeMap<String, String>;

struct Entry<P> {
    producer: Arc<P>,
    ref_count: usize,
    last_release_ms: u64,
}

struct Inner<P> {
    entries: HashMap<Vec<(String, String)>, Entry<P>>,
}

/// A cache of producers `P` built by a factory.
pub struct ProducerCache<P: Send + Sync + 'static> {
    inner: Arc<Mutex<Inner<P>>>,
    factory: ProducerFactory<P>,
    clock: Arc<dyn Clock>,
    timeout: Duration,
}

/// A producer borrowed from the cache; dropping it releases it (refcount - 1).
pub struct CachedProducer<P: Send + Sync + 'static> {
    producer: Arc<P>,
    key: Vec<(String, String)>,
    inner: Weak<Mutex<Inner<P>>>,
    clock: Arc<dyn Clock>,
}

impl<P: Send + Sync + 'static> std::ops::Deref for CachedProducer<P> {
    type Target = P;
    fn deref(&self) -> &P {
        &self.producer
    }
}

impl<P: Send + Sync + 'static> Drop for CachedProducer<P> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.upgrade() {
            let mut inner = inner
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(e) = inner.entries.get_mut(&self.key) {
                e.ref_count = e.ref_count.saturating_sub(1);
                e.last_release_ms = self.clock.now_ms();
            }
        }
    }
}

impl<P: Send + Sync + 'static> ProducerCache<P> {
    /// A cache whose entries expire after `timeout` idle, by `clock`.
    pub fn new(
        factory: impl Fn(&ProducerKey) -> Result<P> + Send + Sync + 'static,
        clock: Arc<dyn Clock>,
        timeout: Duration,
    ) -> Self {
        ProducerCache {
            inner: Arc::new(Mutex::new(Inner {
                entries: HashMap::new(),
            })),
            factory: Box::new(factory),
            clock,
            timeout,
        }
    }

    /// The producer for `key`, created on first use; it stays open while borrowed.
    pub fn acquire(&self, key: &ProducerKey) -> Result<CachedProducer<P>> {
        let k: Vec<(String, String)> = key.iter().map(|(a, b)| (a.clone(), b.clone())).collect();
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let producer = match inner.entries.get_mut(&k) {
            Some(e) => {
                e.ref_count += 1;
                Arc::clone(&e.producer)
            }
            None => {
                // Created under the lock: two tasks asking at once must share one producer.
                let p = Arc::new((self.factory)(key)?);
                inner.entries.insert(
                    k.clone(),
                    Entry {
                        producer: Arc::clone(&p),
                        ref_count: 1,
                        last_release_ms: self.clock.now_ms(),
                    },
                );
                p
            }
        };
        Ok(CachedProducer {
            producer,
            key: k,
            inner: Arc::downgrade(&self.inner),
            clock: Arc::clone(&self.clock),
        })
    }

    /// Closes (drops) every producer idle for at least the timeout and not in use; returns how
    /// many were closed. The evictor thread calls this; tests call it directly.
    pub fn evict_expired(&self) -> usize {
        let now = self.clock.now_ms();
        let timeout = self.timeout.as_millis() as u64;
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let before = inner.entries.len();
        inner
            .entries
            .retain(|_, e| e.ref_count > 0 || now.saturating_sub(e.last_release_ms) < timeout);
        before - inner.entries.len()
    }

    /// Number of cached producers.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entries
            .len()
    }

    /// True when no producer is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Starts the evictor thread, running every `interval`; a zero interval disables it
    /// (Spark: non-positive). The thread stops when the cache is dropped.
    pub fn start_evictor(self: &Arc<Self>, interval: Duration) {
        if interval.is_zero() {
            return;
        }
        let weak = Arc::downgrade(self);
        let _ = std::thread::Builder::new()
            .name("kafka-producer-cache-evictor".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(interval);
                    match weak.upgrade() {
                        Some(cache) => {
                            cache.evict_expired();
                        }
                        None => return,
                    }
                }
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn key(v: &str) -> ProducerKey {
        [("bootstrap.servers".to_string(), v.to_string())].into()
    }

    #[test]
    fn shared_refcounted_and_evicted_only_when_idle_long_enough() {
        let clock = Arc::new(ManualClock::default());
        let created = Arc::new(AtomicUsize::new(0));
        let c2 = Arc::clone(&created);
        let cache = ProducerCache::new(
            move |k: &ProducerKey| {
                c2.fetch_add(1, Ordering::SeqCst);
                Ok(k["bootstrap.servers"].clone())
            },
            Arc::clone(&clock) as Arc<dyn Clock>,
            Duration::from_secs(600),
        );
        let a = cache.acquire(&key("x")).unwrap();
        let b = cache.acquire(&key("x")).unwrap();
        let other = cache.acquire(&key("y")).unwrap();
        assert_eq!(created.load(Ordering::SeqCst), 2);
        assert!(Arc::ptr_eq(&a.producer, &b.producer));
        assert_eq!(&*other, "y");
        drop(a);
        // In use (b) -> never evicted, however long.
        clock.advance(Duration::from_secs(3600));
        drop(other);
        assert_eq!(cache.evict_expired(), 0, "y was just released, x in use");
        drop(b);
        clock.advance(Duration::from_secs(599));
        assert_eq!(cache.evict_expired(), 0);
        clock.advance(Duration::from_secs(1));
        assert_eq!(cache.evict_expired(), 2);
        assert!(cache.is_empty());
        let _again = cache.acquire(&key("x")).unwrap();
        assert_eq!(created.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn credentials_are_part_of_the_key() {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::default());
        let cache = ProducerCache::new(|_k: &ProducerKey| Ok(()), clock, Duration::from_secs(1));
        let mut k1 = key("x");
        k1.insert("sasl.password".into(), "a".into());
        let mut k2 = key("x");
        k2.insert("sasl.password".into(), "b".into());
        let _p1 = cache.acquire(&k1).unwrap();
        let _p2 = cache.acquire(&k2).unwrap();
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn evictor_thread_closes_idle_producers() {
        let clock = Arc::new(ManualClock::default());
        let cache = Arc::new(ProducerCache::new(
            |_k: &ProducerKey| Ok(()),
            Arc::clone(&clock) as Arc<dyn Clock>,
            Duration::from_millis(10),
        ));
        drop(cache.acquire(&key("x")).unwrap());
        clock.advance(Duration::from_millis(20));
        cache.start_evictor(Duration::from_millis(1));
        // The evictor runs on its own schedule; wait for its effect, not for a time.
        for _ in 0..5000 {
            if cache.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(cache.is_empty());
    }
}
