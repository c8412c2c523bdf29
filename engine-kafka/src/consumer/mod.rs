//! Reading one offset range of one topic-partition into Arrow batches, with pooled consumers
//! (Spark's `KafkaDataConsumer` and `spark.kafka.consumer.cache.*`).

mod batch_poll;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use arrow::array::{
    ArrayRef, BinaryBuilder, Int32Array, Int32Builder, Int64Builder, ListBuilder, StringArray,
    StringBuilder, StructBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use batch_poll::{BatchPoller, RawRecord};
use engine_core::{EngineError, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Offset, Timestamp, TopicPartitionList};

use crate::offsets::{OffsetRange, TopicPartition};
use crate::options::{
    INSTRUCTION_FOR_FAIL_ON_DATA_LOSS_FALSE, INSTRUCTION_FOR_FAIL_ON_DATA_LOSS_TRUE,
};

/// Rows per Arrow batch a reader emits.
pub const BATCH_ROWS: usize = 16 * 1024;

fn header_fields() -> Fields {
    Fields::from(vec![
        Field::new("key", DataType::Utf8, true),
        Field::new("value", DataType::Binary, true),
    ])
}

/// Spark's fixed Kafka schema (`KafkaRecordToRowConverter.kafkaSchema`), with `headers`
/// (`array<struct<key:string,value:binary>>`) when `include_headers`.
pub fn kafka_schema(include_headers: bool) -> SchemaRef {
    let mut fields = vec![
        Field::new("key", DataType::Binary, true),
        Field::new("value", DataType::Binary, true),
        Field::new("topic", DataType::Utf8, true),
        Field::new("partition", DataType::Int32, true),
        Field::new("offset", DataType::Int64, true),
        Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        Field::new("timestampType", DataType::Int32, true),
    ];
    if include_headers {
        fields.push(Field::new(
            "headers",
            DataType::List(Arc::new(Field::new(
                "element",
                DataType::Struct(header_fields()),
                true,
            ))),
            true,
        ));
    }
    Arc::new(Schema::new(fields))
}

/// `ClientConfig` from pass-through params (keys without the `kafka.` prefix).
pub fn client_config(params: &BTreeMap<String, String>) -> ClientConfig {
    let mut c = ClientConfig::new();
    for (k, v) in params {
        c.set(k.as_str(), v.as_str());
    }
    if !params.contains_key("log_level") {
        c.set("log_level", "3");
    }
    c
}

/// An error from creating a Kafka client, with a secret option's value never shown: librdkafka
/// quotes the offending value of an invalid option in its message.
pub fn client_error(context: &str, e: KafkaError) -> EngineError {
    match e {
        KafkaError::ClientConfig(_, desc, key, _) => EngineError::execution(
            "KAFKA_CLIENT_CONFIG",
            format!(
                "{context}: invalid Kafka option 'kafka.{key}': {}{}",
                if crate::options::is_secret_key(&key) {
                    "(message hidden: the option holds a secret)".to_string()
                } else {
                    desc
                },
                java_option_hint(&key)
                    .map(|h| format!(". {h}"))
                    .unwrap_or_default()
            ),
        ),
        e => EngineError::external(context.to_string(), e),
    }
}

/// What to use instead of a Java client option librdkafka does not have (Spark users bring
/// Java client settings).
fn java_option_hint(key: &str) -> Option<&'static str> {
    let k = key.to_ascii_lowercase();
    if k.starts_with("ssl.truststore.") {
        Some(
            "librdkafka has no Java trust stores: give the CA certificates as PEM with kafka.ssl.ca.location (a file) or kafka.ssl.ca.pem",
        )
    } else if k == "ssl.keystore.type" {
        Some(
            "librdkafka reads a PKCS#12 key store from kafka.ssl.keystore.location, or PEM from kafka.ssl.certificate.location and kafka.ssl.key.location",
        )
    } else if k.starts_with("sasl.kerberos.") || k == "sasl.login.callback.handler.class" {
        Some("this build has no Kerberos (GSSAPI); use SASL PLAIN, SCRAM or OAUTHBEARER")
    } else {
        None
    }
}

/// Executor consumer params: what the user gave plus what the engine requires.
pub fn executor_params(
    user: &BTreeMap<String, String>,
    group_id: &str,
) -> BTreeMap<String, String> {
    let mut p = user.clone();
    // Only offsets the driver planned are read; running out of range is data loss, not a reset.
    p.insert("auto.offset.reset".into(), "error".into());
    p.insert("enable.auto.commit".into(), "false".into());
    p.insert("enable.auto.offset.store".into(), "false".into());
    p.insert("enable.partition.eof".into(), "true".into());
    p.entry("group.id".into())
        .or_insert_with(|| group_id.into());
    // Kafka's Java consumer (Spark's) reads uncommitted by default; librdkafka's default is
    // read_committed.
    p.entry("isolation.level".into())
        .or_insert_with(|| "read_uncommitted".into());
    fetch_defaults(&mut p);
    p
}

/// Fetch settings for a consumer that is reassigned from partition to partition and reads
/// ranges to their end, unless the user set them:
/// - `fetch.wait.max.ms` 10 (librdkafka: 500): a newly assigned partition's first fetch waits
///   behind the previous partition's long poll at the broker.
/// - `fetch.queue.backoff.ms` 10 (librdkafka: 1000): librdkafka stops fetching a partition for
///   that long once its prefetch queue passes `queued.min.messages` (100k) or
///   `queued.max.messages.kbytes`, so a longer range (any catch-up) drained the queue in
///   milliseconds and stalled for the rest of the second. Measured: 28k instead of 1.6M
///   records/s.
pub fn fetch_defaults(p: &mut BTreeMap<String, String>) {
    p.entry("fetch.wait.max.ms".into())
        .or_insert_with(|| "10".into());
    p.entry("fetch.queue.backoff.ms".into())
        .or_insert_with(|| "10".into());
}

/// One consumer kept for a topic-partition and config, with where it stopped reading.
///
/// `poller` is declared before `consumer` so it is dropped first: librdkafka must get its
/// queue reference and taken records back before the client is destroyed.
struct PooledConsumer {
    /// Records come through here, many per call; it also holds a record read past the end
    /// of the last range (a gap of control records), kept for the next range.
    poller: BatchPoller,
    consumer: BaseConsumer,
    assigned: Option<TopicPartition>,
    next_offset: i64,
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

    fn key(params: &BTreeMap<String, String>) -> String {
        params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("\u{1}")
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<PooledConsumer>>> {
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
    fn take(
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

    fn give_back(&self, params: &BTreeMap<String, String>, mut c: PooledConsumer) {
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

/// Settings of one range read.
#[derive(Clone, Debug)]
pub struct ReadSettings {
    /// Consumer params (see [`executor_params`]).
    pub params: crate::options::KafkaParams,
    /// `kafkaConsumer.pollTimeoutMs`.
    pub poll_timeout: Duration,
    /// `failOnDataLoss`.
    pub fail_on_data_loss: bool,
    /// `includeHeaders`.
    pub include_headers: bool,
}

/// Reports data loss: an error when `fail`, else a warning on stderr (Spark logs a warning).
pub fn report_data_loss(fail: bool, class: &str, message: &str) -> Result<()> {
    if fail {
        Err(EngineError::execution(
            format!("KAFKA_DATA_LOSS.{class}"),
            format!("{message}. {INSTRUCTION_FOR_FAIL_ON_DATA_LOSS_TRUE}"),
        ))
    } else {
        eprintln!("WARN kafka source: {message}. {INSTRUCTION_FOR_FAIL_ON_DATA_LOSS_FALSE}");
        Ok(())
    }
}

struct Columns {
    key: BinaryBuilder,
    value: BinaryBuilder,
    offset: Int64Builder,
    ts: TimestampMicrosecondBuilder,
    ts_type: Int32Builder,
    headers: Option<ListBuilder<StructBuilder>>,
    rows: usize,
}

impl Columns {
    fn new(include_headers: bool) -> Self {
        Columns {
            key: BinaryBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 16),
            value: BinaryBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 128),
            offset: Int64Builder::with_capacity(BATCH_ROWS),
            ts: TimestampMicrosecondBuilder::with_capacity(BATCH_ROWS).with_timezone("UTC"),
            ts_type: Int32Builder::with_capacity(BATCH_ROWS),
            headers: include_headers.then(|| {
                ListBuilder::new(StructBuilder::from_fields(header_fields(), 0)).with_field(
                    Arc::new(Field::new(
                        "element",
                        DataType::Struct(header_fields()),
                        true,
                    )),
                )
            }),
            rows: 0,
        }
    }

    fn append(&mut self, m: &RawRecord) {
        self.key.append_option(m.key());
        self.value.append_option(m.payload());
        self.offset.append_value(m.offset());
        let (ts, kind) = match m.timestamp() {
            Timestamp::CreateTime(ms) => (ms, 0),
            Timestamp::LogAppendTime(ms) => (ms, 1),
            Timestamp::NotAvailable => (-1, -1),
        };
        self.ts.append_value(ts.saturating_mul(1000));
        self.ts_type.append_value(kind);
        if let Some(hb) = self.headers.as_mut() {
            m.for_each_header(|key, value| {
                let s = hb.values();
                if let Some(b) = s.field_builder::<StringBuilder>(0) {
                    b.append_value(key);
                }
                if let Some(b) = s.field_builder::<BinaryBuilder>(1) {
                    b.append_option(value);
                }
                s.append(true);
            });
            // Spark gives an empty array (not NULL) for a record without headers.
            hb.append(true);
        }
        self.rows += 1;
    }

    fn finish(&mut self, tp: &TopicPartition, schema: &SchemaRef) -> Result<RecordBatch> {
        let n = self.rows;
        self.rows = 0;
        let topic: ArrayRef = Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
            tp.topic.as_str(),
            n,
        )));
        let partition: ArrayRef = Arc::new(Int32Array::from_value(tp.partition, n));
        let mut cols: Vec<ArrayRef> = vec![
            Arc::new(self.key.finish()),
            Arc::new(self.value.finish()),
            topic,
            partition,
            Arc::new(self.offset.finish()),
            Arc::new(self.ts.finish()),
            Arc::new(self.ts_type.finish()),
        ];
        if let Some(h) = self.headers.as_mut() {
            cols.push(Arc::new(h.finish()));
        }
        Ok(RecordBatch::try_new(Arc::clone(schema), cols)?)
    }
}

/// Iterator over the Arrow batches of one offset range; returns its consumer to the pool when
/// done or dropped.
pub struct RangeReader {
    range: OffsetRange,
    settings: ReadSettings,
    schema: SchemaRef,
    consumer: Option<PooledConsumer>,
    next: i64,
    done: bool,
    cols: Columns,
    stop_fetching_when_done: bool,
}

impl RangeReader {
    /// Starts reading `range` (nothing is fetched until the first `next()`).
    pub fn new(range: OffsetRange, settings: ReadSettings) -> Result<Self> {
        let schema = kafka_schema(settings.include_headers);
        let consumer = ConsumerPool::global().take(&settings.params, &range.tp, range.from)?;
        let next = range.from;
        let cols = Columns::new(settings.include_headers);
        Ok(RangeReader {
            done: range.size() <= 0,
            range,
            settings,
            schema,
            consumer: Some(consumer),
            next,
            cols,
            stop_fetching_when_done: false,
        })
    }

    /// When `stop` and the whole range was read, the consumer goes back to the pool
    /// unassigned: librdkafka keeps fetching an assigned partition in the background (every
    /// `fetch.wait.max.ms`, also at its end), which is wasted when the range ended at the
    /// partition's end. Spark's consumer only fetches inside `poll`. Left assigned otherwise, so
    /// what it prefetched past the range serves the next batch.
    pub fn stop_fetching_when_done(mut self, stop: bool) -> Self {
        self.stop_fetching_when_done = stop;
        self
    }

    fn assign(c: &mut PooledConsumer, tp: &TopicPartition, offset: i64) -> Result<()> {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(offset))
            .map_err(|e| EngineError::external("assigning a Kafka partition", e))?;
        c.consumer
            .assign(&tpl)
            .map_err(|e| EngineError::external("assigning a Kafka partition", e))?;
        c.assigned = Some(tp.clone());
        c.next_offset = offset;
        c.poller.clear();
        Ok(())
    }

    fn fill(&mut self) -> Result<()> {
        let Some(c) = self.consumer.as_mut() else {
            self.done = true;
            return Ok(());
        };
        let tp = &self.range.tp;
        let until = self.range.until;
        if c.assigned.as_ref() != Some(tp) || c.next_offset != self.next {
            Self::assign(c, tp, self.next)?;
        }
        // When polls started coming back empty. The clock is read only then: a clock read per
        // record was ~2% of the source's profile.
        let mut idle_since: Option<Instant> = None;
        while self.cols.rows < BATCH_ROWS && self.next < until {
            let polled = c
                .poller
                .next(Duration::from_millis(100))
                .map(|r| match r.error() {
                    None => Ok(r),
                    Some(e) => Err(e),
                });
            match polled {
                None => {
                    let since = *idle_since.get_or_insert_with(Instant::now);
                    if since.elapsed() > self.settings.poll_timeout {
                        return Err(EngineError::execution(
                            "KAFKA_FETCH_TIMEOUT",
                            format!(
                                "Cannot fetch record for offset {} in {} milliseconds (topic-partition {tp})",
                                self.next,
                                self.settings.poll_timeout.as_millis()
                            ),
                        ));
                    }
                }
                Some(Ok(m)) => {
                    idle_since = None;
                    let off = m.offset();
                    if off >= until {
                        // Past this range (a gap of control records, or records prefetched
                        // past its end): keep it for the next read.
                        c.poller.put_back(m);
                        self.next = until;
                    } else if off >= self.next {
                        self.cols.append(&m);
                        self.next = off + 1;
                    }
                }
                Some(Err(KafkaError::PartitionEOF(_))) => {
                    let pos = position(&c.consumer, tp).unwrap_or(self.next);
                    if pos >= until {
                        self.next = until;
                        continue;
                    }
                    // An end-of-partition event can be stale: it answers a fetch sent before
                    // the records of this range were produced (a pooled consumer, or a
                    // producer writing while we plan). Only the broker's current high
                    // watermark tells whether the log really ends before the range does.
                    let (_, high) = watermarks(&c.consumer, tp)?;
                    if high >= until {
                        continue;
                    }
                    idle_since = None;
                    {
                        // The log ends before the planned range does: it was truncated.
                        report_data_loss(
                            self.settings.fail_on_data_loss,
                            "PARTITION_OFFSET_CHANGED",
                            &format!(
                                "Partition {tp}'s offset was changed from {until} to {pos}, some data may have been missed"
                            ),
                        )?;
                        self.next = until;
                    }
                }
                Some(Err(KafkaError::MessageConsumption(
                    RDKafkaErrorCode::OffsetOutOfRange | RDKafkaErrorCode::AutoOffsetReset,
                ))) => {
                    let (lo, hi) = watermarks(&c.consumer, tp)?;
                    let group = self
                        .settings
                        .params
                        .get("group.id")
                        .cloned()
                        .unwrap_or_default();
                    report_data_loss(
                        self.settings.fail_on_data_loss,
                        "COULD_NOT_READ_OFFSET_RANGE",
                        &format!(
                            "Cannot fetch offset {} (GroupId: {group}, TopicPartition: {tp}); the earliest available offset is {lo} (latest {hi})",
                            self.next
                        ),
                    )?;
                    if lo >= until || lo <= self.next {
                        self.next = until;
                    } else {
                        self.next = lo;
                        Self::assign(c, tp, lo)?;
                    }
                }
                Some(Err(e)) => {
                    // Transient broker errors surface here; librdkafka retries internally, so
                    // anything else is fatal for this task.
                    if !is_transient(&e) {
                        return Err(EngineError::external(format!("reading {tp}"), e));
                    }
                }
            }
        }
        c.next_offset = self.next;
        if self.next >= until {
            self.done = true;
        }
        Ok(())
    }

    fn release(&mut self) {
        if let Some(mut c) = self.consumer.take() {
            if self.stop_fetching_when_done
                && self.next >= self.range.until
                && c.assigned.is_some()
                && c.consumer.unassign().is_ok()
            {
                c.assigned = None;
                c.poller.clear();
            }
            ConsumerPool::global().give_back(&self.settings.params, c);
        }
    }
}

/// The broker's (low, high) watermarks of `tp`, asked now.
fn watermarks(consumer: &BaseConsumer, tp: &TopicPartition) -> Result<(i64, i64)> {
    consumer
        .fetch_watermarks(&tp.topic, tp.partition, Duration::from_secs(30))
        .map_err(|e| EngineError::external(format!("fetching watermarks of {tp}"), e))
}

fn is_transient(e: &KafkaError) -> bool {
    matches!(
        e.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::BrokerTransportFailure
                | RDKafkaErrorCode::AllBrokersDown
                | RDKafkaErrorCode::RequestTimedOut
                | RDKafkaErrorCode::NotLeaderForPartition
                | RDKafkaErrorCode::LeaderNotAvailable
        )
    )
}

fn position(consumer: &BaseConsumer, tp: &TopicPartition) -> Option<i64> {
    let pos = consumer.position().ok()?;
    match pos.find_partition(&tp.topic, tp.partition)?.offset() {
        Offset::Offset(o) => Some(o),
        _ => None,
    }
}

impl Iterator for RangeReader {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.cols.rows == 0 && self.done {
                self.release();
                return None;
            }
            if !self.done
                && let Err(e) = self.fill()
            {
                self.done = true;
                // A consumer in an unknown state is not returned to the pool.
                self.consumer = None;
                return Some(Err(e));
            }
            if self.cols.rows > 0 {
                let batch = self.cols.finish(&self.range.tp, &self.schema);
                if self.done {
                    self.release();
                }
                return Some(batch);
            }
        }
    }
}

impl Drop for RangeReader {
    fn drop(&mut self) {
        // A reader dropped part-way leaves the consumer mid-range; its next_offset says where,
        // so the next read re-seeks if it must.
        self.release();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use arrow::array::AsArray;

    // Creating a librdkafka client is local: no broker is contacted until it is used.
    fn params(group: &str) -> BTreeMap<String, String> {
        executor_params(
            &[("bootstrap.servers".to_string(), "127.0.0.1:1".to_string())].into(),
            group,
        )
    }

    fn tp(p: i32) -> TopicPartition {
        TopicPartition {
            topic: "t".into(),
            partition: p,
        }
    }

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
    fn a_consumer_whose_range_ended_at_the_partition_end_stops_fetching() {
        use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
        let broker = crate::testing::EmbeddedBroker::start().unwrap();
        broker.create_topic("t", 1).unwrap();
        let bootstrap = broker.bootstrap_servers();
        let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .create()
            .unwrap();
        for i in 0..10 {
            let v = i.to_string();
            producer
                .send(BaseRecord::<str, str>::to("t").payload(&v))
                .map_err(|(e, _)| e)
                .unwrap();
        }
        producer.flush(Duration::from_secs(10)).unwrap();
        let user: BTreeMap<String, String> = [("bootstrap.servers".to_string(), bootstrap)].into();
        let params = executor_params(&user, &crate::testing::unique_topic("end"));
        let settings = ReadSettings {
            params: params.clone().into(),
            poll_timeout: Duration::from_secs(10),
            fail_on_data_loss: true,
            include_headers: false,
        };
        let read = |from, until, at_end| {
            let range = OffsetRange {
                tp: tp(0),
                from,
                until,
            };
            // (offset, value) of every record read: exactly the range, in order.
            let got: Vec<(i64, String)> = RangeReader::new(range, settings.clone())
                .unwrap()
                .stop_fetching_when_done(at_end)
                .flat_map(|b| {
                    let b = b.unwrap();
                    let offsets = b.column(4).as_primitive::<arrow::datatypes::Int64Type>();
                    let values = b.column(1).as_binary::<i32>();
                    (0..b.num_rows())
                        .map(|i| {
                            let v = String::from_utf8(values.value(i).to_vec()).unwrap();
                            (offsets.value(i), v)
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
            let expected: Vec<(i64, String)> = (from..until).map(|o| (o, o.to_string())).collect();
            assert_eq!(got, expected);
            got.len()
        };
        let idle_assigned = || {
            let pool = ConsumerPool::global().lock();
            let list = pool.get(&ConsumerPool::key(&params)).unwrap();
            assert_eq!(list.len(), 1);
            (list[0].assigned.clone(), list[0].next_offset)
        };
        // Not at the partition's end: it stays assigned (and keeps what it prefetched).
        assert_eq!(read(0, 4, false), 4);
        assert_eq!(idle_assigned(), (Some(tp(0)), 4));
        // At the end: unassigned, so it does not poll the broker while idle.
        assert_eq!(read(4, 10, true), 6);
        assert_eq!(idle_assigned().0, None);
        // Reused, it is assigned again where the next range starts.
        assert_eq!(read(2, 10, true), 8);
        ConsumerPool::global().close_all(&params);
    }

    #[test]
    fn executor_params_keep_fetching_without_long_backoffs_unless_the_user_says_otherwise() {
        let p = params("g");
        assert_eq!(p["fetch.wait.max.ms"], "10");
        assert_eq!(p["fetch.queue.backoff.ms"], "10");
        assert_eq!(p["auto.offset.reset"], "error");
        let user: BTreeMap<String, String> = [
            ("bootstrap.servers".to_string(), "127.0.0.1:1".to_string()),
            ("fetch.queue.backoff.ms".to_string(), "500".to_string()),
        ]
        .into();
        assert_eq!(executor_params(&user, "g")["fetch.queue.backoff.ms"], "500");
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
