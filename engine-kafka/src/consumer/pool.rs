//! The consumer pool: idle librdkafka consumers kept per consumer config and reassigned from
//! partition to partition (Spark's `spark.kafka.consumer.cache.*`). Batch reads, and tasks
//! that find their partition's shared queue in use, read through it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use engine_core::{EngineError, Result};
use rdkafka::consumer::BaseConsumer;

use super::batch_poll::BatchPoller;
use super::{client_config, client_error};
use crate::offsets::TopicPartition;

/// One consumer kept for a topic-partition and config, with where it stopped reading.
///
/// `poller` is declared before `consumer` so it is dropped first: librdkafka must get its
/// queue reference and taken records back before the client is destroyed.
pub(super) struct PooledConsumer {
    /// Records come through here, many per call; it also holds a record read past the end
    /// of the last range (a gap of control records), kept for the next range.
    pub(super) poller: BatchPoller,
    pub(super) consumer: BaseConsumer,
    /// The partition it is assigned to, if any.
    pub(super) assigned: Option<TopicPartition>,
    /// The offset its next record will have (where the last read stopped).
    pub(super) next_offset: i64,
    /// When it was given back to the pool.
    idle_since: Instant,
}

/// Idle consumers pooled per consumer config and reused across partitions and batches
/// (Spark's `spark.kafka.consumer.cache.*`).
///
/// Spark keys its cache by (group id, topic-partition), which on a 64-partition topic means 64
/// consumers. A librdkafka client is heavier than a Java consumer (its own threads and
/// connections, ~40 ms to destroy), so this pool keys by config only and reassigns a consumer
/// to whatever partition the next task reads: a query keeps a few consumers (its worker
/// threads' plus up to [`SPARE_CONSUMERS`], see [`ConsumerPool::take`]). A consumer that
/// stopped exactly where the next range starts is preferred, so sequential batches of one
/// partition keep their fetch position and prefetched records.
///
/// Idle consumers are closed once idle longer than `spark.kafka.consumer.cache.timeout`
/// (default 5m): checked whenever a consumer is taken or given back, and by an evictor thread
/// every `spark.kafka.consumer.cache.evictorThreadRunInterval` (default 1m; non-positive
/// disables it), as Spark does. At most `spark.kafka.consumer.cache.capacity` (default 64) idle
/// consumers are kept.
pub struct ConsumerPool {
    idle: Mutex<HashMap<String, Vec<PooledConsumer>>>,
    capacity: usize,
    timeout: Duration,
}

/// Settings of the process-wide consumer pool: `spark.kafka.consumer.cache.capacity`,
/// `spark.kafka.consumer.cache.timeout` and `spark.kafka.consumer.cache.evictorThreadRunInterval`
/// (zero: no evictor thread). Takes effect only if called before the first Kafka read of the
/// process (Spark's executor-wide cache also takes the first conf it sees).
pub fn configure_consumer_pool(capacity: usize, timeout: Duration, evictor_interval: Duration) {
    let _ = POOL_SETTINGS.set((capacity, timeout, evictor_interval));
}

static POOL_SETTINGS: OnceLock<(usize, Duration, Duration)> = OnceLock::new();

/// How many idle consumers of one config may be passed over because they were given back
/// too recently (see [`ConsumerPool::take`]); with that many idle, the oldest is reused.
pub const SPARE_CONSUMERS: usize = 4;

impl ConsumerPool {
    /// A pool keeping at most `capacity` idle consumers, each at most `timeout`.
    pub fn new(capacity: usize, timeout: Duration) -> Self {
        ConsumerPool {
            idle: Mutex::new(HashMap::new()),
            capacity,
            timeout,
        }
    }

    /// The process-wide pool (see [`configure_consumer_pool`]).
    pub fn global() -> &'static ConsumerPool {
        static POOL: OnceLock<ConsumerPool> = OnceLock::new();
        static EVICTOR: std::sync::Once = std::sync::Once::new();
        let (capacity, timeout, interval) =
            *POOL_SETTINGS.get_or_init(|| (64, Duration::from_secs(300), Duration::from_secs(60)));
        let pool = POOL.get_or_init(|| ConsumerPool::new(capacity, timeout));
        if !interval.is_zero() {
            EVICTOR.call_once(|| {
                // Without it, the consumers of a finished batch read would stay open until the
                // pool is next used.
                let _ = std::thread::Builder::new()
                    .name("kafka-consumer-pool-evictor".into())
                    .spawn(move || {
                        loop {
                            std::thread::sleep(interval);
                            pool.evict_expired();
                        }
                    });
            });
        }
        pool
    }

    /// Closes the consumers idle for longer than the timeout (what the evictor thread runs).
    pub fn evict_expired(&self) {
        let expired = self.expired(&mut self.lock());
        close(expired);
    }

    /// Removes the consumers idle for longer than the timeout; the caller drops them outside
    /// the lock (destroying a client joins its threads).
    fn expired(&self, idle: &mut HashMap<String, Vec<PooledConsumer>>) -> Vec<PooledConsumer> {
        let mut out = Vec::new();
        for list in idle.values_mut() {
            let mut i = 0;
            while i < list.len() {
                if list[i].idle_since.elapsed() > self.timeout {
                    out.push(list.swap_remove(i));
                } else {
                    i += 1;
                }
            }
        }
        idle.retain(|_, l| !l.is_empty());
        out
    }

    pub(super) fn key(params: &BTreeMap<String, String>) -> String {
        params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("\u{1}")
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<PooledConsumer>>> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// An idle consumer for `params`: one positioned at `tp`/`from` if there is one, else the
    /// one idle the longest, else a new one.
    ///
    /// A consumer given back less than `fetch.wait.max.ms` ago may still have a fetch waiting
    /// at the broker (librdkafka's long poll at the end of its last partition), and a
    /// reassigned consumer's first fetch queues behind it: ~8 ms per task with the 10 ms
    /// default, most of a short task. So while every idle consumer is that fresh and there
    /// are fewer than [`SPARE_CONSUMERS`] of them, a new one is made instead; a query then
    /// rotates through a few more consumers than it has worker threads.
    pub(super) fn take(
        &self,
        params: &BTreeMap<String, String>,
        tp: &TopicPartition,
        from: i64,
    ) -> Result<PooledConsumer> {
        let key = Self::key(params);
        let fetch_wait = params
            .get("fetch.wait.max.ms")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(Duration::from_millis(500), Duration::from_millis);
        let mut idle = self.lock();
        let expired = self.expired(&mut idle);
        let found = idle.get_mut(&key).and_then(|list| {
            let at = list
                .iter()
                .position(|c| c.assigned.as_ref() == Some(tp) && c.next_offset == from)
                .or_else(|| {
                    let (i, c) = list.iter().enumerate().min_by_key(|(_, c)| c.idle_since)?;
                    let fresh = c.idle_since.elapsed() < fetch_wait;
                    (!fresh || list.len() >= SPARE_CONSUMERS).then_some(i)
                });
            at.map(|i| list.swap_remove(i))
        });
        drop(idle);
        close(expired);
        if let Some(c) = found {
            return Ok(c);
        }
        let consumer: BaseConsumer = client_config(params)
            .create()
            .map_err(|e| client_error("creating a Kafka consumer", e))?;
        let poller = BatchPoller::new(&consumer).ok_or_else(|| {
            EngineError::execution(
                "KAFKA_CONSUMER_QUEUE",
                "librdkafka gave no queue for a new consumer",
            )
        })?;
        Ok(PooledConsumer {
            poller,
            consumer,
            assigned: None,
            next_offset: -1,
            idle_since: Instant::now(),
        })
    }

    pub(super) fn give_back(&self, params: &BTreeMap<String, String>, mut c: PooledConsumer) {
        c.idle_since = Instant::now();
        let evicted = {
            let mut idle = self.lock();
            let mut evicted = self.expired(&mut idle);
            let total: usize = idle.values().map(Vec::len).sum();
            // Over capacity: make room by dropping the consumer idle the longest.
            if total >= self.capacity {
                let oldest = idle
                    .iter()
                    .flat_map(|(k, l)| l.iter().enumerate().map(move |(i, c)| (c.idle_since, k, i)))
                    .min()
                    .map(|(_, k, i)| (k.clone(), i));
                if let Some((k, i)) = oldest
                    && let Some(list) = idle.get_mut(&k)
                {
                    evicted.push(list.swap_remove(i));
                }
            }
            if self.capacity > 0 {
                idle.entry(Self::key(params)).or_default().push(c);
            } else {
                evicted.push(c);
            }
            evicted
        };
        close(evicted);
    }

    /// Closes every idle consumer made with `params` (a stopping source's), in parallel:
    /// destroying a librdkafka client takes tens of milliseconds, mostly waiting.
    pub fn close_all(&self, params: &BTreeMap<String, String>) {
        let closing = self.lock().remove(&Self::key(params)).unwrap_or_default();
        close(closing);
    }

    /// Number of idle consumers in the pool.
    pub fn idle_count(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }
}

/// Destroys consumers in parallel: destroying a librdkafka client takes tens of milliseconds,
/// mostly waiting for its threads.
fn close(consumers: Vec<PooledConsumer>) {
    match consumers.len() {
        0 => {}
        1 => drop(consumers),
        _ => std::thread::scope(|s| {
            for c in consumers {
                // If no thread can be started, `c` was moved into the failed closure and is
                // dropped with it, here.
                let _ = std::thread::Builder::new().spawn_scoped(s, move || drop(c));
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::consumer::test_params as params;
    use crate::consumer::test_tp as tp;

    /// `params(group)` with `fetch.wait.max.ms` set.
    fn params_waiting(group: &str, fetch_wait_ms: u64) -> BTreeMap<String, String> {
        let mut p = params(group);
        p.insert("fetch.wait.max.ms".into(), fetch_wait_ms.to_string());
        p
    }

    #[test]
    fn prefers_the_consumer_positioned_where_the_range_starts() {
        let pool = ConsumerPool::new(8, Duration::from_secs(60));
        // No consumer counts as just given back (see the rotation test).
        let g = params_waiting("g", 0);
        let mut a = pool.take(&g, &tp(0), 0).unwrap();
        let mut b = pool.take(&g, &tp(1), 0).unwrap();
        a.assigned = Some(tp(0));
        a.next_offset = 10;
        b.assigned = Some(tp(1));
        b.next_offset = 5;
        pool.give_back(&g, a);
        pool.give_back(&g, b);
        assert_eq!(pool.idle_count(), 2);
        let c = pool.take(&g, &tp(0), 10).unwrap();
        assert_eq!((c.assigned.clone(), c.next_offset), (Some(tp(0)), 10));
        // No positioned match: any idle consumer of the same config, not a new one.
        let d = pool.take(&g, &tp(7), 0).unwrap();
        assert_eq!(d.assigned, Some(tp(1)));
        assert_eq!(pool.idle_count(), 0);
        // Another config never gets them.
        pool.give_back(&g, c);
        let other = pool.take(&params_waiting("other", 0), &tp(0), 10).unwrap();
        assert_eq!(other.assigned, None);
        assert_eq!(pool.idle_count(), 1);
    }

    #[test]
    fn rotates_past_consumers_given_back_within_the_fetch_wait() {
        let pool = ConsumerPool::new(16, Duration::from_secs(60));
        let tag = |c: &mut PooledConsumer, p: i32| {
            c.assigned = Some(tp(p));
            c.next_offset = 1;
        };
        // Within a minute's fetch wait every consumer given back is fresh: a new one is made
        // while fewer than SPARE_CONSUMERS are idle, then the oldest is reused.
        let slow = params_waiting("slow", 60_000);
        let mut taken = Vec::new();
        for p in 0..SPARE_CONSUMERS as i32 {
            let mut c = pool.take(&slow, &tp(p), 0).unwrap();
            tag(&mut c, p);
            taken.push(c);
        }
        for c in taken.drain(..) {
            pool.give_back(&slow, c);
            std::thread::sleep(Duration::from_millis(2));
        }
        let again = pool.take(&slow, &tp(99), 0).unwrap();
        assert_eq!(
            again.assigned,
            Some(tp(0)),
            "the oldest of a full spare set"
        );
        let fresh = pool.take(&slow, &tp(98), 0).unwrap();
        assert_eq!(fresh.assigned, None, "a new consumer while spares are few");
        assert_eq!(pool.idle_count(), SPARE_CONSUMERS - 1);

        // With no wait nothing is fresh: the consumer idle the longest is taken.
        let quick = params_waiting("quick", 0);
        let mut a = pool.take(&quick, &tp(0), 0).unwrap();
        let mut b = pool.take(&quick, &tp(1), 0).unwrap();
        tag(&mut a, 0);
        tag(&mut b, 1);
        pool.give_back(&quick, a);
        std::thread::sleep(Duration::from_millis(2));
        pool.give_back(&quick, b);
        assert_eq!(pool.take(&quick, &tp(5), 0).unwrap().assigned, Some(tp(0)));
    }

    #[test]
    fn capacity_and_idle_timeout_close_consumers() {
        let pool = ConsumerPool::new(1, Duration::from_secs(60));
        let (g1, g2) = (params("g1"), params("g2"));
        let a = pool.take(&g1, &tp(0), 0).unwrap();
        let b = pool.take(&g2, &tp(0), 0).unwrap();
        pool.give_back(&g1, a);
        pool.give_back(&g2, b);
        assert_eq!(pool.idle_count(), 1, "capacity 1 keeps one idle consumer");
        pool.close_all(&g2);
        assert_eq!(pool.idle_count(), 0);

        let pool = ConsumerPool::new(8, Duration::from_millis(1));
        let a = pool.take(&g1, &tp(0), 0).unwrap();
        let b = pool.take(&g1, &tp(1), 0).unwrap();
        pool.give_back(&g1, a);
        std::thread::sleep(Duration::from_millis(20));
        // Giving `b` back closes `a`, idle past the timeout.
        pool.give_back(&g1, b);
        assert_eq!(pool.idle_count(), 1);
        // So does the evictor's sweep, with no other use of the pool.
        std::thread::sleep(Duration::from_millis(20));
        pool.evict_expired();
        assert_eq!(pool.idle_count(), 0);

        let none = ConsumerPool::new(0, Duration::from_secs(60));
        let a = none.take(&g1, &tp(0), 0).unwrap();
        none.give_back(&g1, a);
        assert_eq!(none.idle_count(), 0, "capacity 0 pools nothing");
    }
}
