//! Getting records to Kafka and knowing they arrived: the sink's producer type, the
//! process-wide producer cache, and the per-writer delivery tracking that commits wait on.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use engine_core::{EngineError, Result};
use rdkafka::client::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::DeliveryResult;
use rdkafka::producer::{Producer, ProducerContext, ThreadedProducer};

use super::TIMEOUT;
use crate::consumer::{client_config, client_error};
use crate::producer_cache::{CachedProducer, Clock, ProducerCache, ProducerKey, SystemClock};

/// Counts a writer's records in flight and keeps its first delivery error.
#[derive(Debug, Default)]
pub struct DeliveryTracker {
    pub(super) pending: AtomicI64,
    error: Mutex<Option<String>>,
    /// Signalled when `pending` drops to zero (taken with `idle_lock` so no wake-up is lost).
    idle: Condvar,
    idle_lock: Mutex<()>,
}

impl DeliveryTracker {
    fn failed(&self) -> Option<String> {
        self.error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// Producer context routing delivery reports to the writer that sent the record.
pub struct SinkProducerContext;

impl ClientContext for SinkProducerContext {}

impl ProducerContext for SinkProducerContext {
    type DeliveryOpaque = Arc<DeliveryTracker>;

    fn delivery(&self, result: &DeliveryResult<'_>, tracker: Arc<DeliveryTracker>) {
        if let Err((e, _)) = result {
            let mut err = tracker
                .error
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            err.get_or_insert_with(|| e.to_string());
        }
        if tracker.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            let _guard = tracker
                .idle_lock
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            tracker.idle.notify_all();
        }
    }
}

/// The producer type of the sink.
pub type SinkProducer = ThreadedProducer<SinkProducerContext>;

pub(super) fn create_producer(params: &ProducerKey) -> Result<SinkProducer> {
    client_config(params)
        .create_with_context(SinkProducerContext)
        .map_err(|e| client_error("creating a Kafka producer", e))
}

/// Settings of the process-wide producer cache: `spark.kafka.producer.cache.timeout` and
/// `spark.kafka.producer.cache.evictorThreadRunInterval`. Takes effect only if called before
/// the first Kafka write of the process.
pub fn configure_producer_cache(timeout: Duration, evictor_interval: Duration) {
    let _ = CACHE_SETTINGS.set((timeout, evictor_interval));
}

static CACHE_SETTINGS: OnceLock<(Duration, Duration)> = OnceLock::new();

/// The process-wide producer cache of the at-least-once sink.
pub fn producer_cache() -> &'static Arc<ProducerCache<SinkProducer>> {
    static CACHE: OnceLock<Arc<ProducerCache<SinkProducer>>> = OnceLock::new();
    CACHE.get_or_init(|| {
        let (timeout, interval) =
            *CACHE_SETTINGS.get_or_init(|| (Duration::from_secs(600), Duration::from_secs(60)));
        let clock: Arc<dyn Clock> = Arc::new(SystemClock::default());
        let cache = Arc::new(ProducerCache::new(create_producer, clock, timeout));
        cache.start_evictor(interval);
        cache
    })
}

pub(super) fn check_failed(tracker: &DeliveryTracker) -> Result<()> {
    match tracker.failed() {
        Some(e) => Err(EngineError::execution(
            "KAFKA_WRITE_FAILED",
            format!("writing to Kafka failed: {e}"),
        )),
        None => Ok(()),
    }
}

/// Waits until every record counted by `tracker` is acknowledged (or failed).
///
/// Does not use rdkafka's `flush`: that waits for the whole producer, which is shared with
/// other tasks that may keep sending, and its event polling spins on a zero timeout for the
/// last millisecond of every slice (profiled: most of the pipeline's CPU went there). The
/// producer's own thread serves delivery reports; this waits on the writer's counter.
pub(super) fn await_acks(producer: &SinkProducer, tracker: &DeliveryTracker) -> Result<()> {
    let deadline = Instant::now() + TIMEOUT;
    let mut guard = tracker
        .idle_lock
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    while tracker.pending.load(Ordering::Acquire) > 0 {
        if Instant::now() > deadline {
            return Err(EngineError::execution(
                "KAFKA_WRITE_TIMEOUT",
                "records were not acknowledged by Kafka within 60 s",
            ));
        }
        // A zero-timeout flush only wakes the producer's broker threads (so lingering
        // batches go out now); it neither waits nor polls.
        match producer.flush(Duration::ZERO) {
            Ok(()) | Err(KafkaError::Flush(RDKafkaErrorCode::OperationTimedOut)) => {}
            Err(e) => return Err(EngineError::external("flushing the Kafka producer", e)),
        }
        guard = tracker
            .idle
            .wait_timeout(guard, Duration::from_millis(5))
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0;
    }
    drop(guard);
    check_failed(tracker)
}

/// An at-least-once writer's commit message: its records may still be in flight. The wait for
/// their acknowledgements happens in [`Sink::commit`](engine_core::connector::Sink::commit),
/// once for the whole batch, so a task does not sit idle for its last records' round trip (and
/// the producer's linger) before the worker thread can start the next task; the batch still
/// commits only after every record of it is acknowledged.
pub(super) struct PendingAcks {
    pub(super) producer: CachedProducer<SinkProducer>,
    pub(super) tracker: Arc<DeliveryTracker>,
}
