//! The exactly-once mode's transactional parts: the per-task transactional producer and its
//! commit message, the writer's identifying headers and deterministic partitioning state, and
//! the read-back that finds what an earlier attempt of a batch already committed.
//!
//! The four headers identify a record across attempts of a batch: [`HEADER_QUERY`] the query
//! id, [`HEADER_BATCH`] the batch id, [`HEADER_TASK`] the writing task, [`HEADER_SEQ`] the
//! record's position among that task's records of the batch. The read-back matches on them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use engine_core::{EngineError, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::producer::Producer;
use rdkafka::{Offset, TopicPartitionList};

use super::TIMEOUT;
use super::delivery::SinkProducer;
use crate::consumer::{client_config, client_error};

/// Header names the exactly-once mode adds to every record.
pub const HEADER_QUERY: &str = "sstream.query";
/// See [`HEADER_QUERY`].
pub const HEADER_BATCH: &str = "sstream.batch";
/// See [`HEADER_QUERY`].
pub const HEADER_TASK: &str = "sstream.task";
/// See [`HEADER_QUERY`].
pub const HEADER_SEQ: &str = "sstream.seq";

/// A transactional producer of one sink task (exactly-once mode).
pub(super) struct TxnProducer {
    pub(super) producer: SinkProducer,
}

/// What an exactly-once writer hands to [`Sink::commit`](engine_core::connector::Sink::commit):
/// its producer with the open transaction.
pub(super) struct TxnCommit {
    pub(super) task: usize,
    pub(super) producer: TxnProducer,
}

pub(super) struct EosState {
    pub(super) query: String,
    batch: u64,
    pub(super) task: usize,
    /// `batch` and `task` as header values, formatted once per writer rather than per record.
    pub(super) batch_s: String,
    pub(super) task_s: String,
    pub(super) seq: u64,
    read_back: bool,
    /// Records older than this (ms since the epoch) cannot be an earlier attempt of this batch:
    /// the batch timestamp minus `readBackClockSkewMs` (micro-batches only).
    not_before_ms: Option<i64>,
    /// Per topic, per partition: seqs of this (query, batch, task) already in Kafka.
    present: HashMap<String, HashMap<i32, HashSet<u64>>>,
    consumer_params: BTreeMap<String, String>,
    /// Created on the first read-back.
    read_back_consumer: Option<BaseConsumer>,
    partition_counts: HashMap<String, i32>,
}

impl EosState {
    pub(super) fn new(
        query: String,
        batch: u64,
        task: usize,
        read_back: bool,
        not_before_ms: Option<i64>,
        consumer_params: BTreeMap<String, String>,
    ) -> Self {
        EosState {
            query,
            batch,
            task,
            batch_s: batch.to_string(),
            task_s: task.to_string(),
            seq: 0,
            read_back,
            not_before_ms,
            present: HashMap::new(),
            consumer_params,
            read_back_consumer: None,
            partition_counts: HashMap::new(),
        }
    }

    /// The partition count of `topic` (metadata fetched once per writer and topic).
    pub(super) fn partition_count(&mut self, producer: &SinkProducer, topic: &str) -> Result<i32> {
        if let Some(n) = self.partition_counts.get(topic) {
            return Ok(*n);
        }
        let n = topic_partition_count(producer, topic)?;
        self.partition_counts.insert(topic.to_string(), n);
        Ok(n)
    }

    /// Whether record `seq` of this (query, batch, task) is already in `topic`/`partition`
    /// (read back once per partition, only when this batch may be a replay).
    pub(super) fn already_written(
        &mut self,
        topic: &str,
        partition: i32,
        seq: u64,
    ) -> Result<bool> {
        if !self.read_back {
            return Ok(false);
        }
        if !self.present.contains_key(topic) {
            self.present.insert(topic.to_string(), HashMap::new());
        }
        let by_partition = self
            .present
            .get_mut(topic)
            .ok_or_else(|| EngineError::Internal("eos read-back state".into()))?;
        if let Some(found) = by_partition.get(&partition) {
            return Ok(found.contains(&seq));
        }
        if self.read_back_consumer.is_none() {
            self.read_back_consumer = Some(read_back_consumer(&self.consumer_params, &self.query)?);
        }
        let consumer = self
            .read_back_consumer
            .as_ref()
            .ok_or_else(|| EngineError::Internal("eos read-back consumer".into()))?;
        let found = read_back(
            consumer,
            topic,
            partition,
            &ReadBackTarget {
                query: &self.query,
                batch: self.batch,
                task: self.task,
                not_before_ms: self.not_before_ms,
            },
        )?;
        let hit = found.contains(&seq);
        by_partition.insert(partition, found);
        Ok(hit)
    }
}

/// Formats `v` in decimal into `buf` without allocating (one header value per record).
pub(super) fn format_u64(v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &buf[i..]
}

fn topic_partition_count(producer: &SinkProducer, topic: &str) -> Result<i32> {
    let md = producer
        .client()
        .fetch_metadata(Some(topic), TIMEOUT)
        .map_err(|e| EngineError::external(format!("fetching metadata of topic {topic}"), e))?;
    md.topics()
        .first()
        .filter(|t| t.error().is_none())
        .map(|t| t.partitions().len() as i32)
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            EngineError::execution(
                "KAFKA_UNKNOWN_TOPIC",
                format!("topic '{topic}' does not exist (or has no partitions)"),
            )
        })
}

fn header_str<'a, H: Headers>(h: &'a H, name: &str) -> Option<&'a [u8]> {
    h.iter().find(|x| x.key == name).and_then(|x| x.value)
}

/// The read_committed consumer a writer uses to read back its partitions (one per writer,
/// reused for every partition: creating a librdkafka client per partition cost ~0.1 s each).
fn read_back_consumer(params: &BTreeMap<String, String>, query: &str) -> Result<BaseConsumer> {
    let mut p = params.clone();
    p.retain(|k, _| {
        !k.starts_with("transactional")
            && k != "enable.idempotence"
            && k != "partitioner"
            && k != "queue.buffering.max.messages"
    });
    p.insert("group.id".into(), format!("sstream-readback-{query}"));
    p.insert("isolation.level".into(), "read_committed".into());
    p.insert("enable.auto.commit".into(), "false".into());
    p.insert("enable.partition.eof".into(), "true".into());
    p.insert("auto.offset.reset".into(), "earliest".into());
    // Reassigned from partition to partition, reading windows that grow past librdkafka's
    // prefetch threshold: without these, the exactly-once bench's first attempts took 8-35 s.
    crate::consumer::fetch_defaults(&mut p);
    client_config(&p)
        .create()
        .map_err(|e| client_error("creating the read-back consumer", e))
}

/// Records the exactly-once read-back has scanned in this process (for tests and diagnostics).
pub fn read_back_records_scanned() -> u64 {
    READ_BACK_SCANNED.load(Ordering::Relaxed)
}

static READ_BACK_SCANNED: AtomicU64 = AtomicU64::new(0);

/// Whose records a read-back looks for.
struct ReadBackTarget<'a> {
    query: &'a str,
    batch: u64,
    task: usize,
    /// See [`EosState::not_before_ms`].
    not_before_ms: Option<i64>,
}

/// Reads (read_committed) the records of (query, batch, task) already in `topic`/`partition`,
/// scanning backwards from the end in growing windows. It stops at a record of an earlier
/// batch of the same query (everything of this batch comes after it), at a window whose
/// records are all older than `not_before_ms` (an earlier attempt of this batch started after
/// the batch timestamp, so it cannot be further back), or at the log start. Without the
/// timestamp rule, the first batch of a new query would scan the whole topic.
fn read_back(
    consumer: &BaseConsumer,
    topic: &str,
    partition: i32,
    target: &ReadBackTarget<'_>,
) -> Result<HashSet<u64>> {
    let (lo, hi) = consumer
        .fetch_watermarks(topic, partition, TIMEOUT)
        .map_err(|e| {
            EngineError::external(format!("fetching offsets of {topic}-{partition}"), e)
        })?;
    let batch_s = target.batch.to_string();
    let task_s = target.task.to_string();
    let mut found = HashSet::new();
    let mut end = hi;
    let mut window: i64 = 4096;
    while end > lo {
        let start = (end - window).max(lo);
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topic, partition, Offset::Offset(start))
            .map_err(|e| EngineError::external("read-back", e))?;
        consumer
            .assign(&tpl)
            .map_err(|e| EngineError::external("read-back", e))?;
        let mut older = false;
        // The newest timestamp in this window (None: no record with a timestamp).
        let mut newest: Option<i64> = None;
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if Instant::now() > deadline {
                return Err(EngineError::execution(
                    "KAFKA_READ_BACK_TIMEOUT",
                    format!("reading back {topic}-{partition} timed out"),
                ));
            }
            match consumer.poll(Duration::from_millis(100)) {
                None => continue,
                // The consumer is reused across partitions: ignore what belongs to another.
                Some(Err(KafkaError::PartitionEOF(p))) if p != partition => continue,
                Some(Err(KafkaError::PartitionEOF(_))) => break,
                Some(Err(e)) => {
                    return Err(EngineError::external(
                        format!("reading back {topic}-{partition}"),
                        e,
                    ));
                }
                Some(Ok(m)) if m.partition() != partition || m.topic() != topic => continue,
                Some(Ok(m)) => {
                    if m.offset() >= end {
                        break;
                    }
                    READ_BACK_SCANNED.fetch_add(1, Ordering::Relaxed);
                    if let Some(ts) = m.timestamp().to_millis() {
                        newest = Some(newest.map_or(ts, |n| n.max(ts)));
                    }
                    if let Some(h) = m.headers()
                        && header_str(h, HEADER_QUERY) == Some(target.query.as_bytes())
                    {
                        let b =
                            header_str(h, HEADER_BATCH).and_then(|b| std::str::from_utf8(b).ok());
                        if b == Some(batch_s.as_str()) {
                            if header_str(h, HEADER_TASK) == Some(task_s.as_bytes())
                                && let Some(seq) = header_str(h, HEADER_SEQ)
                                    .and_then(|s| std::str::from_utf8(s).ok())
                                    .and_then(|s| s.parse::<u64>().ok())
                            {
                                found.insert(seq);
                            }
                        } else if b
                            .and_then(|b| b.parse::<u64>().ok())
                            .is_some_and(|b| b < target.batch)
                        {
                            older = true;
                        }
                    }
                    if m.offset() + 1 >= end {
                        break;
                    }
                }
            }
        }
        let before_batch = matches!(
            (newest, target.not_before_ms),
            (Some(newest), Some(limit)) if newest < limit
        );
        if older || before_batch {
            break;
        }
        end = start;
        window = window.saturating_mul(2);
    }
    Ok(found)
}
