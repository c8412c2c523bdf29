//! The sink's per-task writer: turns each input row into a Kafka record, at-least-once through
//! the shared producer or exactly-once inside the task's transaction.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use arrow::array::{Array, AsArray, Int32Array, ListArray};
use arrow::record_batch::RecordBatch;
use engine_core::connector::{DataWriter, WriterCommitMessage};
use engine_core::{EngineError, Result};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer};

use super::TIMEOUT;
use super::batch_produce::{BatchProducer, EnqueueError, OutRecord};
use super::columns::{Bytes, ColumnPlan, topic_at, user_headers};
use super::delivery::{DeliveryTracker, PendingAcks, SinkProducer, await_acks, check_failed};
use super::exactly_once::{
    EosState, HEADER_BATCH, HEADER_QUERY, HEADER_SEQ, HEADER_TASK, TxnCommit, TxnProducer,
    format_u64,
};
use crate::murmur2::partition_for_key;
use crate::producer_cache::CachedProducer;

/// Records handed to librdkafka per batch call: enough to amortise the call, small enough
/// that a full queue is retried in modest steps.
const HAND_OVER_CHUNK: usize = 4096;

/// The error when librdkafka's queue stays full for [`TIMEOUT`] (the broker does not keep up
/// or is unreachable).
fn queue_full() -> EngineError {
    EngineError::execution(
        "KAFKA_PRODUCER_QUEUE_FULL",
        "the Kafka producer's queue stayed full for 60 s",
    )
}

pub(super) struct KafkaDataWriter {
    /// Declared before `producer` so its topic handles are released first (librdkafka cannot
    /// destroy a client while topic handles are out).
    pub(super) batch: BatchProducer,
    pub(super) producer: WriterProducer,
    pub(super) plan: ColumnPlan,
    pub(super) topic: Option<String>,
    pub(super) tracker: Arc<DeliveryTracker>,
    pub(super) eos: Option<EosState>,
}

pub(super) enum WriterProducer {
    Cached(CachedProducer<SinkProducer>),
    Txn(TxnProducer),
}

impl WriterProducer {
    fn get(&self) -> &SinkProducer {
        match self {
            WriterProducer::Cached(p) => p,
            WriterProducer::Txn(t) => &t.producer,
        }
    }
}

impl KafkaDataWriter {
    fn send_one(
        producer: &SinkProducer,
        tracker: &Arc<DeliveryTracker>,
        topic: &str,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        partition: Option<i32>,
        headers: Option<OwnedHeaders>,
    ) -> Result<()> {
        let mut record: BaseRecord<'_, [u8], [u8], Arc<DeliveryTracker>> =
            BaseRecord::with_opaque_to(topic, Arc::clone(tracker));
        if let Some(k) = key {
            record = record.key(k);
        }
        if let Some(v) = value {
            record = record.payload(v);
        }
        if let Some(p) = partition {
            record = record.partition(p);
        }
        if let Some(h) = headers {
            record = record.headers(h);
        }
        tracker.pending.fetch_add(1, Ordering::AcqRel);
        let mut record = record;
        // Read the clock only once the queue is full: a clock read per record showed up in
        // profiles of the send path.
        let mut started: Option<Instant> = None;
        loop {
            match producer.send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    if started.get_or_insert_with(Instant::now).elapsed() > TIMEOUT {
                        tracker.pending.fetch_sub(1, Ordering::AcqRel);
                        return Err(queue_full());
                    }
                    record = r;
                    std::thread::sleep(Duration::from_micros(200));
                }
                Err((e, _)) => {
                    tracker.pending.fetch_sub(1, Ordering::AcqRel);
                    // A transactional producer refuses records ("Erroneous state") once an
                    // earlier record of the transaction failed: that failure is the cause.
                    check_failed(tracker)?;
                    return Err(EngineError::external(
                        format!("sending to topic {topic}"),
                        e,
                    ));
                }
            }
        }
    }

    /// Hands `records` for `topic` to librdkafka in one call (or a few, while its queue is
    /// full), with the same queue-full patience as [`Self::send_one`].
    fn send_batch(
        batch: &mut BatchProducer,
        producer: &SinkProducer,
        tracker: &Arc<DeliveryTracker>,
        topic: &str,
        records: &[OutRecord<'_>],
    ) -> Result<()> {
        let mut from = 0;
        let mut started: Option<Instant> = None;
        while from < records.len() {
            let rest = &records[from..];
            match batch.produce(
                producer,
                topic,
                rest,
                || Arc::clone(tracker),
                &tracker.pending,
            ) {
                Ok(()) => return Ok(()),
                Err(EnqueueError::QueueFull { from: taken }) => {
                    from += taken;
                    if taken > 0 {
                        started = None;
                    } else if started.get_or_insert_with(Instant::now).elapsed() > TIMEOUT {
                        return Err(queue_full());
                    } else {
                        std::thread::sleep(Duration::from_micros(200));
                    }
                }
                Err(EnqueueError::Failed { at, reason }) => {
                    let partition = rest
                        .get(at)
                        .and_then(|r| r.partition)
                        .map(|p| format!(" partition {p}"))
                        .unwrap_or_default();
                    return Err(EngineError::execution(
                        "KAFKA_WRITE_FAILED",
                        format!("sending to topic {topic}{partition} failed: {reason}"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_failed(&self) -> Result<()> {
        check_failed(&self.tracker)
    }
}

impl DataWriter for KafkaDataWriter {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let cols = batch.columns();
        let value = Bytes::new(&cols[self.plan.value])?;
        let key = self.plan.key.map(|i| Bytes::new(&cols[i])).transpose()?;
        let topic_col = self.plan.topic.map(|i| Bytes::new(&cols[i])).transpose()?;
        let partition: Option<&Int32Array> = self.plan.partition.map(|i| cols[i].as_primitive());
        let headers: Option<&ListArray> = self.plan.headers.map(|i| cols[i].as_list::<i32>());
        let topic_opt = self.topic.as_deref();
        let producer = self.producer.get();
        let tracker = &self.tracker;
        let Some(eos) = self.eos.as_mut() else {
            if headers.is_some() {
                // librdkafka's batch call cannot carry headers.
                for i in 0..batch.num_rows() {
                    let topic = topic_at(topic_opt, &topic_col, i)?;
                    let k = key.as_ref().and_then(|c| c.get(i));
                    let v = value.get(i);
                    let p = partition.and_then(|a| a.is_valid(i).then(|| a.value(i)));
                    let h = headers.map(|h| user_headers(Some(h), i, 2));
                    Self::send_one(producer, tracker, topic, k, v, p, h)?;
                }
                return self.check_failed();
            }
            // Runs of rows for the same topic, handed over a chunk at a time.
            let n = batch.num_rows();
            let mut records: Vec<OutRecord<'_>> = Vec::with_capacity(n.min(HAND_OVER_CHUNK));
            let mut i = 0;
            while i < n {
                let topic = topic_at(topic_opt, &topic_col, i)?;
                records.clear();
                while i < n && records.len() < HAND_OVER_CHUNK {
                    if topic_col.is_some() && topic_at(topic_opt, &topic_col, i)? != topic {
                        break;
                    }
                    records.push(OutRecord {
                        key: key.as_ref().and_then(|c| c.get(i)),
                        value: value.get(i),
                        partition: partition.and_then(|a| a.is_valid(i).then(|| a.value(i))),
                    });
                    i += 1;
                }
                Self::send_batch(&mut self.batch, producer, tracker, topic, &records)?;
            }
            return self.check_failed();
        };
        // Exactly-once: deterministic partition, identifying headers, skip what landed.
        let mut seq_buf = [0u8; 20];
        for i in 0..batch.num_rows() {
            let topic = topic_at(topic_opt, &topic_col, i)?;
            let k = key.as_ref().and_then(|c| c.get(i));
            let v = value.get(i);
            let p = partition.and_then(|a| a.is_valid(i).then(|| a.value(i)));
            let n = eos.partition_count(producer, topic)?;
            let seq = eos.seq;
            eos.seq += 1;
            let target = match (p, k) {
                (Some(p), _) => p,
                (None, Some(k)) => partition_for_key(k, n),
                (None, None) => ((eos.task as u64 + seq) % n as u64) as i32,
            };
            if eos.already_written(topic, target, seq)? {
                continue;
            }
            let h = user_headers(headers, i, 6)
                .insert(Header {
                    key: HEADER_QUERY,
                    value: Some(eos.query.as_bytes()),
                })
                .insert(Header {
                    key: HEADER_BATCH,
                    value: Some(eos.batch_s.as_bytes()),
                })
                .insert(Header {
                    key: HEADER_TASK,
                    value: Some(eos.task_s.as_bytes()),
                })
                .insert(Header {
                    key: HEADER_SEQ,
                    value: Some(format_u64(seq, &mut seq_buf)),
                });
            Self::send_one(producer, tracker, topic, k, v, Some(target), Some(h))?;
        }
        self.check_failed()
    }

    fn commit(self: Box<Self>) -> Result<WriterCommitMessage> {
        let this = *self;
        match (this.producer, this.eos) {
            (WriterProducer::Txn(producer), Some(eos)) => {
                await_acks(&producer.producer, &this.tracker)?;
                Ok(Box::new(TxnCommit {
                    task: eos.task,
                    producer,
                }))
            }
            (WriterProducer::Cached(producer), _) => {
                check_failed(&this.tracker)?;
                Ok(Box::new(PendingAcks {
                    producer,
                    tracker: this.tracker,
                }))
            }
            (WriterProducer::Txn(producer), None) => {
                await_acks(&producer.producer, &this.tracker)?;
                Ok(Box::new(()))
            }
        }
    }

    fn abort(self: Box<Self>) -> Result<()> {
        if let WriterProducer::Txn(t) = &self.producer {
            let _ = t.producer.abort_transaction(TIMEOUT);
        }
        Ok(())
    }
}
