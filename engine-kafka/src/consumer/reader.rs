//! Reading one offset range of one topic-partition into Arrow batches (Spark's
//! `KafkaDataConsumer.get` loop): exactly the planned offsets, data loss reported as
//! `failOnDataLoss` says.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arrow::array::{
    ArrayRef, BinaryBuilder, Int32Array, Int32Builder, Int64Builder, ListBuilder, StringArray,
    StringBuilder, StructBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, SchemaRef};
use arrow::record_batch::RecordBatch;
use engine_core::{EngineError, Result};
use rdkafka::Timestamp;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

use super::batch_poll::RawRecord;
use super::pool::{ConsumerPool, PooledConsumer};
use super::shared::{PartitionSlot, SharedConsumer};
use super::{BATCH_ROWS, ReadSettings, at_offset, header_fields, kafka_schema, report_data_loss};
use crate::offsets::{OffsetRange, TopicPartition};

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

/// How long a read waits for a record before it asks the broker whether the partition was
/// truncated below the range's end (and again after each such spell).
const TRUNCATION_CHECK: Duration = Duration::from_millis(100);

/// Range reads' repositionings so far, process-wide (see [`repositions`]).
static REPOSITIONS: AtomicU64 = AtomicU64::new(0);

/// How many times range reads in this process moved a consumer (an assignment of a pooled
/// consumer or a seek of a shared partition queue). A move drops what librdkafka prefetched,
/// so a read of one range should move at most once, at its start; diagnostics and tests.
pub fn repositions() -> u64 {
    REPOSITIONS.load(Ordering::Relaxed)
}

/// Where a range read takes its records from.
enum Lease {
    /// A pooled consumer, assigned to this one partition while it reads.
    Pooled(PooledConsumer),
    /// The partition's queue in the query's shared consumer. `slot` is declared before
    /// `owner` so the queue is released before the last reference to the client can go.
    Shared {
        slot: PartitionSlot,
        owner: Arc<SharedConsumer>,
    },
}

impl Lease {
    fn poller(&mut self) -> &mut super::batch_poll::BatchPoller {
        match self {
            Lease::Pooled(c) => &mut c.poller,
            Lease::Shared { slot, .. } => &mut slot.poller,
        }
    }

    fn consumer(&self) -> Result<&BaseConsumer> {
        match self {
            Lease::Pooled(c) => Ok(&c.consumer),
            Lease::Shared { slot, owner } => owner.consumer(slot.member),
        }
    }

    /// Whether the next record handed out will be `tp`'s record at `offset`.
    fn positioned_at(&self, tp: &TopicPartition, offset: i64) -> bool {
        match self {
            Lease::Pooled(c) => c.assigned.as_ref() == Some(tp) && c.next_offset == offset,
            Lease::Shared { slot, .. } => slot.next_offset == Some(offset),
        }
    }

    /// Moves the read position to `offset` of `tp`.
    fn position(&mut self, tp: &TopicPartition, offset: i64) -> Result<()> {
        REPOSITIONS.fetch_add(1, Ordering::Relaxed);
        match self {
            Lease::Pooled(c) => {
                c.consumer
                    .assign(&at_offset(tp, offset)?)
                    .map_err(|e| EngineError::external("assigning a Kafka partition", e))?;
                c.assigned = Some(tp.clone());
                c.next_offset = offset;
                c.poller.clear();
                Ok(())
            }
            Lease::Shared { slot, owner } => owner.seek(slot, tp, offset),
        }
    }

    /// Records where the next read would start: `None` when the position is unknown (after
    /// an error), so the next read repositions first.
    fn stopped_at(&mut self, next: Option<i64>) {
        match self {
            Lease::Pooled(c) => match next {
                Some(n) => c.next_offset = n,
                None => c.assigned = None,
            },
            Lease::Shared { slot, .. } => slot.next_offset = next,
        }
    }
}

/// Iterator over the Arrow batches of one offset range; gives its consumer (or partition
/// queue) back when done or dropped.
pub struct RangeReader {
    range: OffsetRange,
    settings: ReadSettings,
    schema: SchemaRef,
    lease: Option<Lease>,
    next: i64,
    done: bool,
    /// The reader's consumer no longer stands at `next` (an error skipped part of the range).
    position_lost: bool,
    cols: Columns,
    stop_fetching_when_done: bool,
}

impl RangeReader {
    /// Starts reading `range` through a pooled consumer (nothing is fetched until the first
    /// `next()`).
    pub fn new(range: OffsetRange, settings: ReadSettings) -> Result<Self> {
        let consumer = ConsumerPool::global().take(&settings.params, &range.tp, range.from)?;
        Ok(Self::with_lease(range, settings, Lease::Pooled(consumer)))
    }

    /// Starts reading `range` from its partition's queue in `shared`, or through a pooled
    /// consumer when that queue is lent to another task (or the partition is not assigned).
    pub fn from_shared(
        range: OffsetRange,
        settings: ReadSettings,
        shared: &Arc<SharedConsumer>,
    ) -> Result<Self> {
        match shared.take(&range.tp) {
            Some(slot) => Ok(Self::with_lease(
                range,
                settings,
                Lease::Shared {
                    slot,
                    owner: Arc::clone(shared),
                },
            )),
            None => Self::new(range, settings),
        }
    }

    fn with_lease(range: OffsetRange, settings: ReadSettings, lease: Lease) -> Self {
        let schema = kafka_schema(settings.include_headers);
        let next = range.from;
        let cols = Columns::new(settings.include_headers);
        RangeReader {
            done: range.size() <= 0,
            range,
            settings,
            schema,
            lease: Some(lease),
            next,
            position_lost: false,
            cols,
            stop_fetching_when_done: false,
        }
    }

    /// Whether this reader takes its records from a shared consumer's partition queue.
    pub fn is_shared(&self) -> bool {
        matches!(self.lease, Some(Lease::Shared { .. }))
    }

    /// When `stop` and the whole range was read through a pooled consumer, the consumer goes
    /// back to the pool unassigned: librdkafka keeps fetching an assigned partition in the
    /// background (every `fetch.wait.max.ms`, also at its end), which is wasted when the range
    /// ended at the partition's end. Spark's consumer only fetches inside `poll`. Left assigned
    /// otherwise, so what it prefetched past the range serves the next batch. (A shared
    /// consumer keeps fetching every partition of its query: that is its purpose.)
    pub fn stop_fetching_when_done(mut self, stop: bool) -> Self {
        self.stop_fetching_when_done = stop;
        self
    }

    fn fill(&mut self) -> Result<()> {
        let Some(lease) = self.lease.as_mut() else {
            self.done = true;
            return Ok(());
        };
        let tp = &self.range.tp;
        let until = self.range.until;
        if !lease.positioned_at(tp, self.next) {
            lease.position(tp, self.next)?;
        }
        // When polls started coming back empty. The clock is read only then: a clock read per
        // record was ~2% of the source's profile.
        let mut idle_since: Option<Instant> = None;
        // When, into an idle spell, the broker is next asked whether the log was truncated.
        let mut next_check = TRUNCATION_CHECK;
        while self.cols.rows < BATCH_ROWS && self.next < until {
            let Some(m) = lease.poller().next(TRUNCATION_CHECK) else {
                // An empty poll is not always a wait: librdkafka also returns early after
                // serving internal events (the version barrier of a new assignment), so the
                // broker is asked only once nothing came for a while.
                let idle = idle_since.get_or_insert_with(Instant::now).elapsed();
                if idle < next_check {
                    continue;
                }
                next_check = idle + TRUNCATION_CHECK;
                // Nothing for a while: if the log now ends before the range does, it was
                // truncated (end-of-partition events alone cannot tell: one may answer a
                // fetch sent before this range's records were written).
                let (_, high) = watermarks(lease.consumer()?, tp)?;
                if high < until {
                    report_data_loss(
                        self.settings.fail_on_data_loss,
                        "PARTITION_OFFSET_CHANGED",
                        &format!(
                            "Partition {tp}'s offset was changed from {until} to {high}, some data may have been missed"
                        ),
                    )?;
                    self.next = until;
                    self.position_lost = true;
                    break;
                }
                if idle > self.settings.poll_timeout {
                    return Err(EngineError::execution(
                        "KAFKA_FETCH_TIMEOUT",
                        format!(
                            "Cannot fetch record for offset {} in {} milliseconds (topic-partition {tp})",
                            self.next,
                            self.settings.poll_timeout.as_millis()
                        ),
                    ));
                }
                continue;
            };
            if m.is_eof() {
                // The log ended at `m.offset()` when this fetch was answered. At or past the
                // range's end, the offsets still missing are no records (control records of
                // transactions, compacted away): the range is read.
                if m.offset() >= until {
                    self.next = until;
                }
                continue;
            }
            match m.error() {
                None => {
                    idle_since = None;
                    let off = m.offset();
                    if off >= until {
                        // Past this range (a gap of control records, or records prefetched
                        // past its end): keep it for the next read.
                        lease.poller().put_back(m);
                        self.next = until;
                    } else if off >= self.next {
                        self.cols.append(&m);
                        self.next = off + 1;
                    }
                }
                Some(KafkaError::MessageConsumption(
                    RDKafkaErrorCode::OffsetOutOfRange | RDKafkaErrorCode::AutoOffsetReset,
                )) => {
                    let (lo, hi) = watermarks(lease.consumer()?, tp)?;
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
                        // The fetcher stopped at the error: the next read repositions.
                        self.position_lost = true;
                    } else {
                        self.next = lo;
                        lease.position(tp, lo)?;
                    }
                }
                Some(e) => {
                    // Transient broker errors surface here; librdkafka retries internally, so
                    // anything else is fatal for this task.
                    if !is_transient(&e) {
                        return Err(EngineError::external(format!("reading {tp}"), e));
                    }
                }
            }
        }
        // The lease must know where this fill stopped: the next fill of this range asks
        // `positioned_at` and would otherwise re-seek, dropping what librdkafka prefetched
        // (a fetch wait per 16k records: -28% on the source-alone row).
        lease.stopped_at((!self.position_lost).then_some(self.next));
        if self.next >= until {
            self.done = true;
        }
        Ok(())
    }

    fn release(&mut self) {
        let Some(mut lease) = self.lease.take() else {
            return;
        };
        lease.stopped_at((!self.position_lost).then_some(self.next));
        match lease {
            Lease::Pooled(mut c) => {
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
            Lease::Shared { slot, owner } => owner.give_back(&self.range.tp, slot),
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
                // A consumer in an unknown state is not returned to the pool; a shared
                // partition queue is, marked to reposition before its next read.
                if let Some(Lease::Pooled(_)) = self.lease {
                    self.lease = None;
                }
                self.position_lost = true;
                self.release();
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
        // A reader dropped part-way leaves its consumer mid-range; `next` says where, so the
        // next read repositions if it must.
        self.release();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::consumer::executor_params;
    use crate::consumer::test_tp as tp;
    use arrow::array::AsArray;
    use rdkafka::ClientConfig;
    use std::collections::BTreeMap;

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
}
