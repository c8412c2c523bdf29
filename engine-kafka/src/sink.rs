//! The Kafka sink (Spark's `KafkaWriter`/`KafkaStreamingWrite`), plus an exactly-once mode that
//! Spark does not have.
//!
//! Columns: `value` (required, string or binary), `key` (string or binary), `topic` (string;
//! the `topic` option overrides it), `partition` (int; NULL or absent lets the producer's
//! partitioner choose), `headers` (`array<struct<key:string,value:binary>>`).
//!
//! # Delivery guarantees (option `deliveryGuarantee`, alias `kafka.delivery.guarantee`)
//!
//! - `at_least_once` (default, Spark's behaviour): an idempotent producer shared through the
//!   [`ProducerCache`]; a replayed batch is written again.
//! - `exactly_once` (beyond Spark): one transactional producer per sink task with
//!   `transactional.id = <transactionalIdPrefix>-<query id>-<task>`, initialised once per
//!   process (which fences zombies of an earlier run and aborts their open transaction). Each
//!   task's records of a micro-batch form one transaction, committed in [`Sink::commit`], i.e.
//!   only after every task of the batch finished. Every record carries the headers
//!   `sstream.query`, `sstream.batch`, `sstream.task`, `sstream.seq`; partitions are chosen by the
//!   sink itself (Kafka's murmur2 of the key, `(task + seq) mod n` without a key, or the
//!   `partition` column), so a replay puts each record where the first attempt did. When a
//!   task writes a batch that may be a replay (its first batch in this process, or a batch id it
//!   has written before), it first reads back (read_committed) the partitions it writes to and
//!   skips the records of (query, batch, task) already there. The read-back scans each
//!   partition backwards from its end and stops at a record of an earlier batch of the query,
//!   or at records older than the batch timestamp (which the offset log fixed before the
//!   first attempt) minus `readBackClockSkewMs` (default 10 minutes), so it reads what was
//!   written since the batch began, not the topic's history. A producer clock more than that
//!   behind the query's, or another writer appending records with older timestamps after a
//!   crashed attempt, could hide that attempt's records; raise the option if either can
//!   happen. Batch (non-streaming) writes are never replayed and never read back. This keeps
//!   the output exactly-once even on brokers that show aborted records to read_committed
//!   consumers (both brokers available here do). Requires a deterministic query (same rows
//!   per task on replay), which replayable sources and the engine's plans give.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, Int32Array, LargeBinaryArray, LargeStringArray,
    ListArray, StringArray, StructArray,
};
use arrow::datatypes::{DataType, SchemaRef};
use arrow::record_batch::RecordBatch;
use engine_core::connector::{DataWriter, Sink, SinkContext, WriterCommitMessage, WriterContext};
use engine_core::{EngineError, Result};
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{DeliveryResult, Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};

use crate::consumer::{client_config, client_error};
use crate::murmur2::partition_for_key;
use crate::options::{DeliveryGuarantee, SinkOptions};
use crate::producer_cache::{CachedProducer, Clock, ProducerCache, ProducerKey, SystemClock};

const TIMEOUT: Duration = Duration::from_secs(60);

/// Header names the exactly-once mode adds to every record.
pub const HEADER_QUERY: &str = "sstream.query";
/// See [`HEADER_QUERY`].
pub const HEADER_BATCH: &str = "sstream.batch";
/// See [`HEADER_QUERY`].
pub const HEADER_TASK: &str = "sstream.task";
/// See [`HEADER_QUERY`].
pub const HEADER_SEQ: &str = "sstream.seq";

/// Counts a writer's records in flight and keeps its first delivery error.
#[derive(Debug, Default)]
pub struct DeliveryTracker {
    pending: AtomicI64,
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

fn create_producer(params: &ProducerKey) -> Result<SinkProducer> {
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

fn analysis(msg: impl Into<String>) -> EngineError {
    // Spark wraps KafkaWriter.validateQuery's messages in this class.
    EngineError::analysis("_LEGACY_ERROR_TEMP_3080", msg)
}

fn type_name(t: &DataType) -> String {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "binary".into(),
        DataType::Int32 => "int".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Int16 => "smallint".into(),
        DataType::Int8 => "tinyint".into(),
        DataType::Float64 => "double".into(),
        DataType::Float32 => "float".into(),
        DataType::Boolean => "boolean".into(),
        other => other.to_string().to_lowercase(),
    }
}

fn is_bytes(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Binary | DataType::LargeBinary
    )
}

/// Which input columns the sink uses, checked against Spark's rules.
#[derive(Clone, Debug)]
pub struct ColumnPlan {
    value: usize,
    key: Option<usize>,
    topic: Option<usize>,
    partition: Option<usize>,
    headers: Option<usize>,
}

impl ColumnPlan {
    /// Checks `schema` (Spark's `KafkaWriter.validateQuery`); `topic_option` is the `topic`
    /// option.
    pub fn new(
        schema: &SchemaRef,
        topic_option: Option<&str>,
        include_headers: Option<bool>,
    ) -> Result<Self> {
        let find = |name: &str| schema.fields().iter().position(|f| f.name() == name);
        let topic = find("topic");
        if topic_option.is_none() {
            match topic {
                None => {
                    return Err(analysis(
                        "topic option required when no 'topic' attribute is present. Use the topic option for setting a topic.",
                    ));
                }
                Some(i) => {
                    let t = schema.field(i).data_type();
                    if !matches!(t, DataType::Utf8 | DataType::LargeUtf8) {
                        return Err(analysis(format!(
                            "topic attribute unsupported type {}. topic must be a(n) string",
                            type_name(t)
                        )));
                    }
                }
            }
        }
        let key = find("key");
        if let Some(i) = key {
            let t = schema.field(i).data_type();
            if !is_bytes(t) {
                return Err(analysis(format!(
                    "key attribute unsupported type {}. key must be a(n) string or binary",
                    type_name(t)
                )));
            }
        }
        let value =
            find("value").ok_or_else(|| analysis("Required attribute 'value' not found"))?;
        let t = schema.field(value).data_type();
        if !is_bytes(t) {
            return Err(analysis(format!(
                "value attribute unsupported type {}. value must be a(n) string or binary",
                type_name(t)
            )));
        }
        let mut headers = find("headers");
        if include_headers == Some(false) {
            headers = None;
        }
        if let Some(i) = headers {
            let t = schema.field(i).data_type();
            let ok = match t {
                DataType::List(f) => match f.data_type() {
                    DataType::Struct(fs) => {
                        fs.len() == 2
                            && fs[0].name() == "key"
                            && matches!(fs[0].data_type(), DataType::Utf8)
                            && fs[1].name() == "value"
                            && matches!(fs[1].data_type(), DataType::Binary)
                    }
                    _ => false,
                },
                _ => false,
            };
            if !ok {
                return Err(analysis(format!(
                    "headers attribute unsupported type {}. headers must be a(n) array<struct<key:string,value:binary>>",
                    type_name(t)
                )));
            }
        }
        let partition = find("partition");
        if let Some(i) = partition {
            let t = schema.field(i).data_type();
            if !matches!(t, DataType::Int32) {
                return Err(analysis(format!(
                    "partition attribute unsupported type {}. partition must be a(n) int",
                    type_name(t)
                )));
            }
        }
        Ok(ColumnPlan {
            value,
            key,
            topic: if topic_option.is_some() { None } else { topic },
            partition,
            headers,
        })
    }
}

/// A string or binary column, resolved once per batch.
enum Bytes<'a> {
    Bin(&'a BinaryArray),
    LargeBin(&'a LargeBinaryArray),
    Str(&'a StringArray),
    LargeStr(&'a LargeStringArray),
}

impl<'a> Bytes<'a> {
    fn new(a: &'a ArrayRef) -> Result<Self> {
        Ok(match a.data_type() {
            DataType::Binary => Bytes::Bin(a.as_binary()),
            DataType::LargeBinary => Bytes::LargeBin(a.as_binary()),
            DataType::Utf8 => Bytes::Str(a.as_string()),
            DataType::LargeUtf8 => Bytes::LargeStr(a.as_string()),
            t => {
                return Err(EngineError::Internal(format!(
                    "kafka sink: unexpected column type {t}"
                )));
            }
        })
    }

    #[inline]
    fn get(&self, i: usize) -> Option<&'a [u8]> {
        match self {
            Bytes::Bin(a) => a.is_valid(i).then(|| a.value(i)),
            Bytes::LargeBin(a) => a.is_valid(i).then(|| a.value(i)),
            Bytes::Str(a) => a.is_valid(i).then(|| a.value(i).as_bytes()),
            Bytes::LargeStr(a) => a.is_valid(i).then(|| a.value(i).as_bytes()),
        }
    }
}

fn topic_at<'a>(
    topic_option: Option<&'a str>,
    col: &Option<Bytes<'a>>,
    i: usize,
) -> Result<&'a str> {
    if let Some(t) = topic_option {
        return Ok(t);
    }
    col.as_ref()
        .and_then(|c| c.get(i))
        .and_then(|b| std::str::from_utf8(b).ok())
        .ok_or_else(|| {
            EngineError::execution(
                "NULL_TOPIC",
                "null topic present in the data. Use the topic option for setting a topic.",
            )
        })
}

fn user_headers(list: Option<&ListArray>, i: usize, cap: usize) -> OwnedHeaders {
    let mut out = OwnedHeaders::new_with_capacity(cap);
    let Some(list) = list else {
        return out;
    };
    if list.is_null(i) {
        return out;
    }
    let entries = list.value(i);
    let Some(s) = entries.as_any().downcast_ref::<StructArray>() else {
        return out;
    };
    let keys = s.column(0).as_string::<i32>();
    let values = s.column(1).as_binary::<i32>();
    for j in 0..s.len() {
        let key = if keys.is_valid(j) { keys.value(j) } else { "" };
        let value = values.is_valid(j).then(|| values.value(j));
        out = out.insert(Header { key, value });
    }
    out
}

/// A transactional producer of one sink task (exactly-once mode).
struct TxnProducer {
    producer: SinkProducer,
}

/// What an exactly-once writer hands to [`Sink::commit`]: its producer with the open
/// transaction.
struct TxnCommit {
    task: usize,
    producer: TxnProducer,
}

/// The Kafka sink.
pub struct KafkaSink {
    opts: SinkOptions,
    plan: ColumnPlan,
    query_id: String,
    txn_producers: Mutex<HashMap<usize, TxnProducer>>,
    last_written: Mutex<HashMap<usize, u64>>,
}

impl std::fmt::Debug for KafkaSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description())
    }
}

impl KafkaSink {
    /// A sink from its context; checks options and columns (errors name what to fix).
    pub fn new(ctx: &SinkContext) -> Result<Self> {
        if let Some(mode) = &ctx.save_mode {
            let m = mode.to_ascii_lowercase();
            if m == "overwrite" || m == "ignore" {
                let shown = if m == "overwrite" {
                    "Overwrite"
                } else {
                    "Ignore"
                };
                return Err(EngineError::analysis(
                    "_LEGACY_ERROR_TEMP_3081",
                    format!(
                        "Save mode {shown} not allowed for Kafka. Allowed save modes are Append and ErrorIfExists (default)."
                    ),
                ));
            }
        }
        // The cache is process-wide: the first sink's session settings configure it, as
        // Spark's executor-wide cache takes them from the first SparkConf it sees.
        let timeout_ms = ctx
            .options
            .time_ms("spark.kafka.producer.cache.timeout", 600_000)?;
        let evictor_ms = ctx.options.time_ms(
            "spark.kafka.producer.cache.evictorThreadRunInterval",
            60_000,
        )?;
        configure_producer_cache(
            Duration::from_millis(timeout_ms.max(0) as u64),
            // Non-positive disables the evictor, as in Spark.
            Duration::from_millis(evictor_ms.max(0) as u64),
        );
        let opts = SinkOptions::parse(&ctx.options)?;
        let plan = ColumnPlan::new(&ctx.schema, opts.topic.as_deref(), opts.include_headers)?;
        let query_id = ctx
            .query_id
            .clone()
            .unwrap_or_else(|| format!("batch-{}", uuid::Uuid::new_v4()));
        Ok(KafkaSink {
            opts,
            plan,
            query_id,
            txn_producers: Mutex::new(HashMap::new()),
            last_written: Mutex::new(HashMap::new()),
        })
    }

    /// The delivery guarantee in force.
    pub fn delivery_guarantee(&self) -> DeliveryGuarantee {
        self.opts.delivery
    }

    fn transactional_id(&self, task: usize) -> String {
        format!(
            "{}-{}-{task}",
            self.opts.transactional_id_prefix, self.query_id
        )
    }

    fn take_txn_producer(&self, task: usize) -> Result<TxnProducer> {
        if let Some(p) = self
            .txn_producers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&task)
        {
            return Ok(p);
        }
        let mut params = self.opts.producer_params.clone();
        params.insert("transactional.id".into(), self.transactional_id(task));
        params.insert("enable.idempotence".into(), "true".into());
        let producer = create_producer(&params)?;
        // Fences any earlier producer with this id and aborts its open transaction.
        producer
            .init_transactions(TIMEOUT)
            .map_err(|e| EngineError::external("initialising Kafka transactions", e))?;
        Ok(TxnProducer { producer })
    }

    /// Whether the task must read back before writing `batch_id`: its first batch in this
    /// process, a batch id it wrote before, or anything after a failure. The entry is taken out
    /// here and put back only by a successful [`Sink::commit`], so a writer that fails or aborts
    /// in between leaves the task "unknown" and its retry reads back.
    fn take_read_back_decision(&self, task: usize, batch_id: u64) -> bool {
        self.last_written
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&task)
            .is_none_or(|last| batch_id <= last)
    }
}

impl Sink for KafkaSink {
    fn description(&self) -> String {
        let target = self
            .opts
            .topic
            .as_deref()
            .map(|t| format!("topic={t}"))
            .unwrap_or_else(|| "topic=<column>".into());
        let mode = match self.opts.delivery {
            DeliveryGuarantee::AtLeastOnce => "at_least_once",
            DeliveryGuarantee::ExactlyOnce => "exactly_once",
        };
        format!("KafkaSink[{target}, {mode}]")
    }

    fn create_writer(&self, ctx: WriterContext) -> Result<Box<dyn DataWriter>> {
        let tracker = Arc::new(DeliveryTracker::default());
        match self.opts.delivery {
            DeliveryGuarantee::AtLeastOnce => {
                let mut params = self.opts.producer_params.clone();
                // Java-compatible key hashing when the producer chooses the partition.
                params
                    .entry("partitioner".into())
                    .or_insert_with(|| "murmur2_random".into());
                Ok(Box::new(KafkaDataWriter {
                    producer: WriterProducer::Cached(producer_cache().acquire(&params)?),
                    plan: self.plan.clone(),
                    topic: self.opts.topic.clone(),
                    tracker,
                    eos: None,
                }))
            }
            DeliveryGuarantee::ExactlyOnce => {
                let txn = self.take_txn_producer(ctx.partition)?;
                txn.producer
                    .begin_transaction()
                    .map_err(|e| EngineError::external("beginning a Kafka transaction", e))?;
                // Only a micro-batch can be a replay: a batch write is never retried.
                let read_back = ctx.batch_timestamp_ms.is_some()
                    && self.take_read_back_decision(ctx.partition, ctx.batch_id);
                Ok(Box::new(KafkaDataWriter {
                    producer: WriterProducer::Txn(txn),
                    plan: self.plan.clone(),
                    topic: self.opts.topic.clone(),
                    tracker,
                    eos: Some(EosState::new(
                        self.query_id.clone(),
                        ctx.batch_id,
                        ctx.partition,
                        read_back,
                        ctx.batch_timestamp_ms
                            .map(|t| t.saturating_sub(self.opts.read_back_clock_skew_ms)),
                        self.opts.producer_params.0.clone(),
                    )),
                }))
            }
        }
    }

    fn commit(&self, batch_id: u64, messages: Vec<WriterCommitMessage>) -> Result<()> {
        for m in messages {
            let m = match m.downcast::<PendingAcks>() {
                Ok(acks) => {
                    await_acks(&acks.producer, &acks.tracker)?;
                    continue;
                }
                Err(m) => m,
            };
            let Ok(txn) = m.downcast::<TxnCommit>() else {
                continue;
            };
            let TxnCommit { task, producer } = *txn;
            producer
                .producer
                .commit_transaction(TIMEOUT)
                .map_err(|e| EngineError::external("committing a Kafka transaction", e))?;
            self.last_written
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(task, batch_id);
            self.txn_producers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(task, producer);
        }
        Ok(())
    }

    fn abort(&self, _batch_id: u64, messages: Vec<WriterCommitMessage>) -> Result<()> {
        for m in messages {
            if let Ok(txn) = m.downcast::<TxnCommit>() {
                let TxnCommit { task, producer } = *txn;
                if producer.producer.abort_transaction(TIMEOUT).is_ok() {
                    self.txn_producers
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .insert(task, producer);
                }
            }
        }
        Ok(())
    }
}

enum WriterProducer {
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

struct EosState {
    query: String,
    batch: u64,
    task: usize,
    /// `batch` and `task` as header values, formatted once per writer rather than per record.
    batch_s: String,
    task_s: String,
    seq: u64,
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
    fn new(
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
    fn partition_count(&mut self, producer: &SinkProducer, topic: &str) -> Result<i32> {
        if let Some(n) = self.partition_counts.get(topic) {
            return Ok(*n);
        }
        let n = topic_partition_count(producer, topic)?;
        self.partition_counts.insert(topic.to_string(), n);
        Ok(n)
    }

    /// Whether record `seq` of this (query, batch, task) is already in `topic`/`partition`
    /// (read back once per partition, only when this batch may be a replay).
    fn already_written(&mut self, topic: &str, partition: i32, seq: u64) -> Result<bool> {
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
fn format_u64(v: u64, buf: &mut [u8; 20]) -> &[u8] {
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

struct KafkaDataWriter {
    producer: WriterProducer,
    plan: ColumnPlan,
    topic: Option<String>,
    tracker: Arc<DeliveryTracker>,
    eos: Option<EosState>,
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
                        return Err(EngineError::execution(
                            "KAFKA_PRODUCER_QUEUE_FULL",
                            "the Kafka producer's queue stayed full for 60 s",
                        ));
                    }
                    record = r;
                    std::thread::sleep(Duration::from_micros(200));
                }
                Err((e, _)) => {
                    tracker.pending.fetch_sub(1, Ordering::AcqRel);
                    return Err(EngineError::external(
                        format!("sending to topic {topic}"),
                        e,
                    ));
                }
            }
        }
    }

    fn check_failed(&self) -> Result<()> {
        check_failed(&self.tracker)
    }
}

fn check_failed(tracker: &DeliveryTracker) -> Result<()> {
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
fn await_acks(producer: &SinkProducer, tracker: &DeliveryTracker) -> Result<()> {
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
/// their acknowledgements happens in [`Sink::commit`], once for the whole batch, so a task
/// does not sit idle for its last records' round trip (and the producer's linger) before the
/// worker thread can start the next task; the batch still commits only after every record
/// of it is acknowledged.
struct PendingAcks {
    producer: CachedProducer<SinkProducer>,
    tracker: Arc<DeliveryTracker>,
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
            for i in 0..batch.num_rows() {
                let topic = topic_at(topic_opt, &topic_col, i)?;
                let k = key.as_ref().and_then(|c| c.get(i));
                let v = value.get(i);
                let p = partition.and_then(|a| a.is_valid(i).then(|| a.value(i)));
                let h = headers.map(|h| user_headers(Some(h), i, 2));
                Self::send_one(producer, tracker, topic, k, v, p, h)?;
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

/// Re-exported for the format: builds a sink from a context.
pub fn create_sink(ctx: &SinkContext) -> Result<Arc<dyn Sink>> {
    Ok(Arc::new(KafkaSink::new(ctx)?))
}
