//! Handing many records to librdkafka in one call (`rd_kafka_produce_batch`), instead of one
//! `send` per record.
//!
//! rdkafka's `send` allocates the topic name twice per record and librdkafka then looks the
//! topic up by name, reads two clocks and parses a variadic argument list; in the pipeline's
//! profile that was about a sixth of the CPU. A batch call takes a topic handle created once
//! and one clock read for all its records. librdkafka's batch call cannot carry headers, so
//! records with headers (a `headers` column, the exactly-once mode's batch headers) still go
//! through `send`. Everything unsafe of the sink is here.
#![allow(unsafe_code)]

use std::collections::HashMap;
use std::ffi::CString;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicI64, Ordering};

use rdkafka::bindings as rdsys;
use rdkafka::producer::{Producer, ProducerContext, ThreadedProducer};
use rdkafka::util::IntoOpaque;

/// librdkafka's `RD_KAFKA_PARTITION_UA` (a C macro, not in the bindings): "unassigned", run
/// the partitioner.
const PARTITION_UA: i32 = -1;

/// One record for [`BatchProducer::produce`]. `partition: None` lets the producer's
/// partitioner choose (Kafka's murmur2 of the key, as configured for the sink).
#[derive(Clone, Copy, Debug)]
pub(super) struct OutRecord<'a> {
    /// The key, `None` for a null key.
    pub(super) key: Option<&'a [u8]>,
    /// The value, `None` for a null value (a tombstone).
    pub(super) value: Option<&'a [u8]>,
    /// The partition, or `None` for the partitioner's choice.
    pub(super) partition: Option<i32>,
}

/// Why records could not be handed over.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum EnqueueError {
    /// The producer's queue (`queue.buffering.max.messages`/`.kbytes`) is full: wait for
    /// deliveries and hand over the records from `from` on again.
    QueueFull {
        /// The index of the first record not handed over.
        from: usize,
    },
    /// Another error, as librdkafka names it (unknown topic or partition, a record too
    /// large, a fatal producer error).
    Failed {
        /// The index of the first record that failed.
        at: usize,
        /// librdkafka's text for the error.
        reason: String,
    },
}

/// A librdkafka topic handle. Holds a reference on the client, so it must be dropped before
/// the producer it came from (librdkafka cannot destroy a client with topic handles out).
struct TopicHandle(NonNull<rdsys::rd_kafka_topic_t>);

// SAFETY: librdkafka topic handles are thread-safe and reference counted.
unsafe impl Send for TopicHandle {}

impl Drop for TopicHandle {
    fn drop(&mut self) {
        // SAFETY: the reference taken by rd_kafka_topic_new is released once, here.
        unsafe { rdsys::rd_kafka_topic_destroy(self.0.as_ptr()) }
    }
}

/// One writer's topic handles and scratch space for batch hand-over. Must be dropped before
/// the producer it is used with (see [`TopicHandle`]).
#[derive(Default)]
pub(super) struct BatchProducer {
    topics: HashMap<String, TopicHandle>,
    scratch: Vec<rdsys::rd_kafka_message_t>,
}

// SAFETY: the topic handles are thread-safe (see `TopicHandle`), and `scratch` is emptied
// before `produce` returns, so no pointer into a caller's data outlives the call.
unsafe impl Send for BatchProducer {}

impl std::fmt::Debug for BatchProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchProducer")
            .field("topics", &self.topics.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl BatchProducer {
    /// Hands `records` for `topic` to `producer` in one call. Each record's delivery report
    /// goes to the producer context with `opaque()`'s value, as `send` would; `in_flight` is
    /// raised by the number handed over before librdkafka can report any of them.
    ///
    /// On error, the records before the failing index were handed over (and counted); the
    /// rest were not.
    pub(super) fn produce<C, O>(
        &mut self,
        producer: &ThreadedProducer<C>,
        topic: &str,
        records: &[OutRecord<'_>],
        opaque: impl Fn() -> O,
        in_flight: &AtomicI64,
    ) -> Result<(), EnqueueError>
    where
        C: ProducerContext<DeliveryOpaque = O>,
        O: IntoOpaque,
    {
        if records.is_empty() {
            return Ok(());
        }
        let rkt = self.topic(producer, topic)?;
        self.scratch.clear();
        for r in records {
            let (payload, len) = ptr_len(r.value);
            let (key, key_len) = ptr_len(r.key);
            self.scratch.push(rdsys::rd_kafka_message_t {
                err: rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR,
                rkt: std::ptr::null_mut(),
                partition: r.partition.unwrap_or(PARTITION_UA),
                payload,
                len,
                key,
                key_len,
                offset: 0,
                _private: opaque().into_ptr(),
            });
        }
        let n = self.scratch.len();
        let count = i32::try_from(n).unwrap_or(i32::MAX);
        // Counted first: a delivery report may arrive before this call returns.
        in_flight.fetch_add(n as i64, Ordering::AcqRel);
        // SAFETY: `rkt` is a live handle of this producer's client; `scratch` holds `n`
        // initialised messages whose payload and key pointers are valid for the call
        // (librdkafka copies them: RD_KAFKA_MSG_F_COPY).
        let good = unsafe {
            rdsys::rd_kafka_produce_batch(
                rkt,
                PARTITION_UA,
                rdsys::RD_KAFKA_MSG_F_COPY | rdsys::RD_KAFKA_MSG_F_PARTITION,
                self.scratch.as_mut_ptr(),
                count,
            )
        };
        if usize::try_from(good).ok() == Some(n) {
            self.scratch.clear();
            return Ok(());
        }
        // Some were refused: take their opaques back (no report will come for them).
        let mut first: Option<(usize, rdsys::rd_kafka_resp_err_t)> = None;
        let mut refused = 0i64;
        for (i, m) in self.scratch.iter().enumerate() {
            if m.err != rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                // SAFETY: this pointer came from `into_ptr` above and librdkafka did not
                // take the message, so it is reclaimed exactly once.
                drop(unsafe { O::from_ptr(m._private) });
                refused += 1;
                first.get_or_insert((i, m.err));
            }
        }
        in_flight.fetch_sub(refused, Ordering::AcqRel);
        self.scratch.clear();
        match first {
            None => Ok(()),
            Some((i, rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR__QUEUE_FULL)) => {
                // librdkafka refuses every record after the first full-queue one, so the
                // ones before it were all taken.
                Err(EnqueueError::QueueFull { from: i })
            }
            Some((i, err)) => Err(EnqueueError::Failed {
                at: i,
                reason: rdkafka::types::RDKafkaErrorCode::from(err).to_string(),
            }),
        }
    }

    fn topic<C: ProducerContext>(
        &mut self,
        producer: &ThreadedProducer<C>,
        topic: &str,
    ) -> Result<*mut rdsys::rd_kafka_topic_t, EnqueueError> {
        if let Some(h) = self.topics.get(topic) {
            return Ok(h.0.as_ptr());
        }
        let failed = |reason: String| EnqueueError::Failed { at: 0, reason };
        let name = CString::new(topic)
            .map_err(|_| failed(format!("topic name {topic:?} contains a NUL byte")))?;
        // SAFETY: a live client and a NUL-terminated name; a null config takes the
        // producer's default topic config.
        let ptr = unsafe {
            rdsys::rd_kafka_topic_new(
                producer.client().native_ptr(),
                name.as_ptr(),
                std::ptr::null_mut(),
            )
        };
        let handle = NonNull::new(ptr)
            .map(TopicHandle)
            .ok_or_else(|| failed(format!("librdkafka refused a handle for topic {topic}")))?;
        let raw = handle.0.as_ptr();
        self.topics.insert(topic.to_string(), handle);
        Ok(raw)
    }
}

/// librdkafka's (pointer, length) for optional bytes: null for `None`.
fn ptr_len(b: Option<&[u8]>) -> (*mut std::ffi::c_void, usize) {
    match b {
        // librdkafka only reads through the pointer (it copies the bytes).
        Some(b) => (b.as_ptr().cast_mut().cast(), b.len()),
        None => (std::ptr::null_mut(), 0),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    use rdkafka::message::Message;
    use rdkafka::producer::{DeliveryResult, ProducerContext};
    use rdkafka::{ClientConfig, ClientContext};

    use super::*;

    /// Counts delivered and failed records, through the opaque each record carries.
    struct Counting;
    impl ClientContext for Counting {}
    impl ProducerContext for Counting {
        type DeliveryOpaque = Arc<(AtomicUsize, AtomicUsize)>;
        fn delivery(&self, r: &DeliveryResult<'_>, counts: Self::DeliveryOpaque) {
            let slot = if r.is_ok() { &counts.0 } else { &counts.1 };
            slot.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn producer(bootstrap: &str, extra: &[(&str, &str)]) -> ThreadedProducer<Counting> {
        let mut cfg = ClientConfig::new();
        cfg.set("bootstrap.servers", bootstrap)
            .set("linger.ms", "0");
        for (k, v) in extra {
            cfg.set(*k, *v);
        }
        cfg.create_with_context(Counting).unwrap()
    }

    /// (partition, key, value) of a record read back.
    type Read = (i32, Option<Vec<u8>>, Option<Vec<u8>>);

    fn read_all(bootstrap: &str, topic: &str, partitions: i32, n: usize) -> Vec<Read> {
        let c = crate::testing::consumer_from_beginning(bootstrap, topic, partitions, &[]).unwrap();
        let mut out = Vec::new();
        while out.len() < n {
            let m = c.poll(Duration::from_secs(10)).unwrap().unwrap();
            out.push((
                m.partition(),
                m.key().map(<[u8]>::to_vec),
                m.payload().map(<[u8]>::to_vec),
            ));
        }
        out.sort();
        out
    }

    #[test]
    fn records_arrive_with_keys_nulls_and_chosen_partitions() {
        let broker = crate::testing::EmbeddedBroker::start().unwrap();
        broker.create_topic("t", 4).unwrap();
        let bootstrap = broker.bootstrap_servers();
        let p = producer(&bootstrap, &[("partitioner", "murmur2_random")]);
        let counts = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
        let in_flight = AtomicI64::new(0);
        let mut batch = BatchProducer::default();
        let records = [
            OutRecord {
                key: Some(b"k1"),
                value: Some(b"v1"),
                partition: Some(3),
            },
            OutRecord {
                key: None,
                value: Some(b"v2"),
                partition: Some(1),
            },
            OutRecord {
                key: Some(b"k3"),
                value: None,
                partition: Some(3),
            },
            // The partitioner's choice: Kafka's murmur2 of the key.
            OutRecord {
                key: Some(b"21"),
                value: Some(b""),
                partition: None,
            },
        ];
        batch
            .produce(&p, "t", &records, || Arc::clone(&counts), &in_flight)
            .unwrap();
        assert_eq!(in_flight.load(Ordering::SeqCst), 4);
        p.flush(Duration::from_secs(10)).unwrap();
        assert_eq!(counts.0.load(Ordering::SeqCst), 4);
        let murmur = crate::murmur2::partition_for_key(b"21", 4);
        let mut expected = vec![
            (3, Some(b"k1".to_vec()), Some(b"v1".to_vec())),
            (1, None, Some(b"v2".to_vec())),
            (3, Some(b"k3".to_vec()), None),
            (murmur, Some(b"21".to_vec()), Some(vec![])),
        ];
        expected.sort();
        assert_eq!(read_all(&bootstrap, "t", 4, 4), expected);
        drop(batch);
    }

    #[test]
    fn a_full_queue_says_where_to_resume_and_takes_back_the_rest() {
        let broker = crate::testing::EmbeddedBroker::start().unwrap();
        broker.create_topic("t", 1).unwrap();
        let bootstrap = broker.bootstrap_servers();
        // A queue of two records, held back for 200 ms (while the batch call takes microseconds):
        // the third record cannot be taken.
        let p = producer(
            &bootstrap,
            &[("queue.buffering.max.messages", "2"), ("linger.ms", "200")],
        );
        let counts = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
        let in_flight = AtomicI64::new(0);
        let mut batch = BatchProducer::default();
        let records = vec![
            OutRecord {
                key: None,
                value: Some(b"v"),
                partition: Some(0)
            };
            5
        ];
        let err = batch
            .produce(&p, "t", &records, || Arc::clone(&counts), &in_flight)
            .unwrap_err();
        assert_eq!(err, EnqueueError::QueueFull { from: 2 });
        assert_eq!(in_flight.load(Ordering::SeqCst), 2);
        // The refused records' opaques were dropped: only the two queued ones hold one.
        assert_eq!(Arc::strong_count(&counts), 3);
        p.flush(Duration::from_secs(10)).unwrap();
        assert_eq!(counts.0.load(Ordering::SeqCst), 2);
        assert_eq!(Arc::strong_count(&counts), 1);
        drop(batch);
    }
}
