//! The Kafka source: streaming (Spark's `KafkaMicroBatchStream`) and batch (`KafkaBatch`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arrow::datatypes::SchemaRef;
use engine_core::connector::{BatchIter, InputPartition, Offset, ReadLimit, Source};
use engine_core::{EngineError, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset as KOffset, TopicPartitionList};

use crate::consumer::{
    RangeReader, ReadSettings, SharedConsumer, client_config, client_error, executor_params,
    kafka_schema, report_data_loss,
};
use crate::offsets::{
    EARLIEST, LATEST, OffsetRange, PartitionOffsets, TopicPartition, from_offset, rate_limit,
    split_ranges, to_offset,
};
use crate::options::{NoMatchStrategy, OffsetSpec, SourceOptions, Strategy};

const METADATA_TIMEOUT: Duration = Duration::from_secs(30);

/// Kafka's ListOffsets timestamp for a partition's end (its high watermark, or the last stable
/// offset under `read_committed`).
const LIST_LATEST: KOffset = KOffset::End;
/// Kafka's ListOffsets timestamp for a partition's first offset.
const LIST_EARLIEST: KOffset = KOffset::Beginning;

/// The driver's view of Kafka: which partitions exist and their offsets (Spark's
/// `KafkaOffsetReader`), with `fetchOffset.numRetries` retries.
pub struct OffsetReader {
    consumer: BaseConsumer,
    strategy: Strategy,
    pattern: Option<regex::Regex>,
    retries: u32,
    retry_interval: Duration,
}

impl OffsetReader {
    /// A reader for `opts` whose consumer uses `group_id` (unless `kafka.group.id` is set).
    pub fn new(opts: &SourceOptions, group_id: &str) -> Result<Self> {
        let mut params = opts.kafka_params.clone();
        params
            .entry("group.id".into())
            .or_insert_with(|| group_id.into());
        params.insert("enable.auto.commit".into(), "false".into());
        let consumer: BaseConsumer = client_config(&params)
            .create()
            .map_err(|e| client_error("creating the Kafka offset reader", e))?;
        let pattern = match &opts.strategy {
            Strategy::SubscribePattern(p) => Some(
                regex::Regex::new(&format!("^(?:{p})$"))
                    .map_err(|e| EngineError::invalid_option("subscribePattern", e.to_string()))?,
            ),
            _ => None,
        };
        Ok(OffsetReader {
            consumer,
            strategy: opts.strategy.clone(),
            pattern,
            retries: opts.fetch_offset_num_retries,
            retry_interval: opts.fetch_offset_retry_interval,
        })
    }

    fn with_retries<T>(&self, what: &str, mut f: impl FnMut() -> Result<T>) -> Result<T> {
        let mut attempt = 0;
        loop {
            match f() {
                Ok(v) => return Ok(v),
                Err(e) if attempt < self.retries => {
                    attempt += 1;
                    eprintln!("WARN kafka source: {what} failed (attempt {attempt}): {e}");
                    std::thread::sleep(self.retry_interval);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The partitions the strategy selects right now (subscribed topics that do not exist yet
    /// have none).
    pub fn partitions(&self) -> Result<BTreeSet<TopicPartition>> {
        if let Strategy::Assign(tps) = &self.strategy {
            return Ok(tps.clone());
        }
        self.with_retries("fetching topic metadata", || {
            let md = self
                .consumer
                .fetch_metadata(None, METADATA_TIMEOUT)
                .map_err(|e| EngineError::external("fetching Kafka metadata", e))?;
            let mut out = BTreeSet::new();
            for t in md.topics() {
                let wanted = match (&self.strategy, &self.pattern) {
                    (Strategy::Subscribe(topics), _) => topics.iter().any(|x| x == t.name()),
                    // Pattern subscriptions skip Kafka's internal topics, as Kafka's consumer does.
                    (_, Some(re)) => !t.name().starts_with("__") && re.is_match(t.name()),
                    _ => false,
                };
                if wanted && t.error().is_none() {
                    for p in t.partitions() {
                        out.insert(TopicPartition::new(t.name(), p.id()));
                    }
                }
            }
            Ok(out)
        })
    }

    /// The offsets of `tps` at `which` (Kafka's ListOffsets timestamps: [`LIST_LATEST`] or
    /// [`LIST_EARLIEST`]), asked in one request per leader broker rather than one round
    /// trip per partition: on 64 partitions the per-partition queries took a large part of
    /// a millisecond trigger.
    fn list_offsets(
        &self,
        tps: &BTreeSet<TopicPartition>,
        which: KOffset,
    ) -> Result<PartitionOffsets> {
        if tps.is_empty() {
            return Ok(PartitionOffsets::new());
        }
        let what = if which == LIST_LATEST {
            "latest"
        } else {
            "earliest"
        };
        self.with_retries("fetching offsets", || {
            let mut tpl = TopicPartitionList::new();
            for tp in tps {
                tpl.add_partition_offset(&tp.topic, tp.partition, which)
                    .map_err(|e| EngineError::external("building an offset lookup", e))?;
            }
            let found = self
                .consumer
                .offsets_for_times(tpl, METADATA_TIMEOUT)
                .map_err(|e| EngineError::external(format!("fetching the {what} offsets"), e))?;
            let mut out = PartitionOffsets::new();
            for e in found.elements() {
                let tp = TopicPartition::new(e.topic(), e.partition());
                if let Err(err) = e.error() {
                    return Err(EngineError::external(
                        format!("fetching the {what} offset of {tp}"),
                        err,
                    ));
                }
                let off = match e.offset() {
                    KOffset::Offset(o) => o,
                    other => {
                        return Err(EngineError::execution(
                            "KAFKA_OFFSET_LOOKUP",
                            format!("the broker gave no {what} offset for {tp} ({other:?})"),
                        ));
                    }
                };
                out.insert(tp, off);
            }
            if out.len() != tps.len() {
                return Err(EngineError::execution(
                    "KAFKA_OFFSET_LOOKUP",
                    format!(
                        "the broker answered {} of {} partitions' {what} offsets",
                        out.len(),
                        tps.len()
                    ),
                ));
            }
            Ok(out)
        })
    }

    /// `(earliest, latest)` of each partition.
    pub fn watermarks(
        &self,
        tps: &BTreeSet<TopicPartition>,
    ) -> Result<BTreeMap<TopicPartition, (i64, i64)>> {
        let earliest = self.list_offsets(tps, LIST_EARLIEST)?;
        let latest = self.list_offsets(tps, LIST_LATEST)?;
        Ok(earliest
            .into_iter()
            .filter_map(|(tp, lo)| latest.get(&tp).map(|hi| (tp, (lo, *hi))))
            .collect())
    }

    /// Latest offsets of all current partitions.
    pub fn latest(&self) -> Result<PartitionOffsets> {
        let tps = self.partitions()?;
        self.list_offsets(&tps, LIST_LATEST)
    }

    /// Earliest offsets of `tps`.
    pub fn earliest(&self, tps: &BTreeSet<TopicPartition>) -> Result<PartitionOffsets> {
        self.list_offsets(tps, LIST_EARLIEST)
    }

    /// Offsets of the first records at or after each timestamp (ms). Not answered by
    /// librdkafka's mock broker (the query fails there); tested against tansu when installed.
    pub fn offsets_for_times(
        &self,
        times: &PartitionOffsets,
        no_match: NoMatchStrategy,
    ) -> Result<PartitionOffsets> {
        let mut tpl = TopicPartitionList::new();
        for (tp, ts) in times {
            tpl.add_partition_offset(&tp.topic, tp.partition, KOffset::Offset(*ts))
                .map_err(|e| EngineError::external("building a timestamp lookup", e))?;
        }
        let found = self.with_retries("looking up offsets by timestamp", || {
            self.consumer
                .offsets_for_times(tpl.clone(), METADATA_TIMEOUT)
                .map_err(|e| EngineError::external("looking up offsets by timestamp", e))
        })?;
        let mut out = PartitionOffsets::new();
        for e in found.elements() {
            let tp = TopicPartition::new(e.topic(), e.partition());
            let off = match e.offset() {
                KOffset::Offset(o) => o,
                _ => match no_match {
                    NoMatchStrategy::Latest => {
                        let (_, hi) = self
                            .consumer
                            .fetch_watermarks(&tp.topic, tp.partition, METADATA_TIMEOUT)
                            .map_err(|e| EngineError::external("fetching offsets", e))?;
                        hi
                    }
                    NoMatchStrategy::Error => {
                        return Err(EngineError::execution(
                            "KAFKA_NO_OFFSET_FOR_TIMESTAMP",
                            format!(
                                "No offset matched from request of topic-partition {tp} and timestamp {}.",
                                times.get(&tp).copied().unwrap_or_default()
                            ),
                        ));
                    }
                },
            };
            out.insert(tp, off);
        }
        Ok(out)
    }

    /// Resolves a starting or ending spec to concrete offsets.
    pub fn resolve(&self, spec: &OffsetSpec, fail_on_data_loss: bool) -> Result<PartitionOffsets> {
        match spec {
            OffsetSpec::Earliest => {
                let tps = self.partitions()?;
                self.earliest(&tps)
            }
            OffsetSpec::Latest => self.latest(),
            OffsetSpec::Specific(given) => {
                let tps: BTreeSet<TopicPartition> = given.keys().cloned().collect();
                let marks = self.watermarks(&tps)?;
                let mut out = PartitionOffsets::new();
                for (tp, off) in given {
                    let (lo, hi) = marks[tp];
                    let resolved = match *off {
                        EARLIEST => lo,
                        LATEST => hi,
                        o => {
                            if o < lo {
                                report_data_loss(
                                    fail_on_data_loss,
                                    "START_OFFSET_RESET",
                                    &format!(
                                        "Starting offset for {tp} was {o} but the earliest available offset is {lo}"
                                    ),
                                )?;
                            }
                            o
                        }
                    };
                    out.insert(tp.clone(), resolved);
                }
                Ok(out)
            }
            OffsetSpec::SpecificTimestamp(times, no_match) => {
                self.offsets_for_times(times, *no_match)
            }
            OffsetSpec::GlobalTimestamp(ts, no_match) => {
                let times = self.partitions()?.into_iter().map(|tp| (tp, *ts)).collect();
                self.offsets_for_times(&times, *no_match)
            }
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

/// One task of a Kafka read: an offset range of one topic-partition.
#[derive(Debug, Clone)]
pub struct KafkaInputPartition {
    range: OffsetRange,
    settings: ReadSettings,
    /// The range ends where the partition ended when the batch was planned (or this is a
    /// batch read, which is read once): a pooled consumer stops fetching when done.
    ends_at_latest: bool,
    /// The streaming query's consumer, whose queue for this partition the task reads from
    /// when it is free; `None` for batch reads (read once: pooled consumers).
    shared: Option<Arc<SharedConsumer>>,
}

impl KafkaInputPartition {
    /// The range this task reads.
    pub fn range(&self) -> &OffsetRange {
        &self.range
    }
}

impl InputPartition for KafkaInputPartition {
    fn read(&self) -> Result<BatchIter> {
        let reader = match &self.shared {
            Some(shared) => {
                RangeReader::from_shared(self.range.clone(), self.settings.clone(), shared)?
            }
            None => RangeReader::new(self.range.clone(), self.settings.clone())?,
        };
        Ok(Box::new(
            reader.stop_fetching_when_done(self.ends_at_latest),
        ))
    }
}

/// Computes the offset ranges between `start` and `end`, reporting data loss as Spark's
/// `getOffsetRangesFromResolvedOffsets` does; partitions new in `end` start at their earliest.
fn offset_ranges(
    reader: &OffsetReader,
    start: &PartitionOffsets,
    end: &PartitionOffsets,
    fail_on_data_loss: bool,
) -> Result<Vec<OffsetRange>> {
    let new: BTreeSet<TopicPartition> = end
        .keys()
        .filter(|tp| !start.contains_key(*tp))
        .cloned()
        .collect();
    let new_starts = if new.is_empty() {
        PartitionOffsets::new()
    } else {
        reader.earliest(&new)?
    };
    for (tp, off) in &new_starts {
        if *off != 0 {
            report_data_loss(
                fail_on_data_loss,
                "ADDED_PARTITION_DOES_NOT_START_FROM_OFFSET_ZERO",
                &format!(
                    "Added partition {tp} starts from {off} instead of 0. Some data may have been missed"
                ),
            )?;
        }
    }
    let deleted: Vec<String> = start
        .keys()
        .filter(|tp| !end.contains_key(*tp))
        .map(ToString::to_string)
        .collect();
    if !deleted.is_empty() {
        report_data_loss(
            fail_on_data_loss,
            "PARTITIONS_DELETED",
            &format!(
                "{} are gone. Some data may have been missed",
                deleted.join(", ")
            ),
        )?;
    }
    let mut ranges = Vec::new();
    for (tp, until) in end {
        let from = start
            .get(tp)
            .or_else(|| new_starts.get(tp))
            .copied()
            .unwrap_or(0);
        if *until < from {
            report_data_loss(
                fail_on_data_loss,
                "PARTITION_OFFSET_CHANGED",
                &format!(
                    "Partition {tp}'s offset was changed from {from} to {until}, some data may have been missed"
                ),
            )?;
            continue;
        }
        ranges.push(OffsetRange {
            tp: tp.clone(),
            from,
            until: *until,
        });
    }
    Ok(ranges)
}

/// A partition whose range in a batch holds more offsets than this is read through the
/// consumer pool and leaves the shared consumer until its ranges are small again. The shared
/// consumer saves each task the first fetch of a reassigned consumer (2-8 ms), which is most of
/// a small task; a large range (a catch-up, a first batch over a backlog) is read faster by a
/// consumer of its own, since the pool's consumers fetch their partitions side by side, and
/// the shared consumer would only prefetch what that consumer reads anyway. At about 10k
/// records the two cost the same on the local broker (see BENCHMARKS.md).
pub const SHARED_RANGE_LIMIT: i64 = 8192;

/// Where the shared consumer stands for a batch over `ranges` ending at `end`: every partition
/// of `end` at the offset the batch starts reading it (at its end where there is nothing
/// new), except those with a range over [`SHARED_RANGE_LIMIT`]. Partitions not in `end`
/// (deleted, no longer matching) leave the assignment.
fn shared_positions(end: &PartitionOffsets, ranges: &[OffsetRange]) -> PartitionOffsets {
    let mut positions = end.clone();
    for r in ranges {
        if r.size() > SHARED_RANGE_LIMIT {
            positions.remove(&r.tp);
        } else {
            positions.insert(r.tp.clone(), r.from);
        }
    }
    positions
}

/// How many clients the shared consumer spreads its partitions over: one per core (at most
/// four), so fetching keeps pace with the worker threads reading.
fn shared_members() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4))
}

/// Streaming Kafka source.
pub struct KafkaSource {
    opts: SourceOptions,
    reader: OffsetReader,
    settings: ReadSettings,
    metadata_path: PathBuf,
    latest: Option<PartitionOffsets>,
    available_now: Option<PartitionOffsets>,
    is_available_now: bool,
    last_trigger_ms: u64,
    clock: Arc<dyn Fn() -> u64 + Send + Sync>,
    /// Made at the first planned batch; every partition of the query stays assigned to it.
    shared: Option<Arc<SharedConsumer>>,
}

impl KafkaSource {
    /// A source from validated options; `metadata_path` is the source's own checkpoint
    /// directory, `query_id` names its consumer group.
    pub fn new(opts: SourceOptions, metadata_path: PathBuf, query_id: &str) -> Result<Self> {
        let prefix = opts
            .group_id_prefix
            .clone()
            .unwrap_or_else(|| "spark-kafka-source".into());
        // Spark: <prefix>-<random uuid>-<hash of the metadata path>; the query id makes it
        // stable and unique per query here.
        let group = format!("{prefix}-{query_id}-{}", uuid::Uuid::new_v4());
        let reader = OffsetReader::new(&opts, &format!("{group}-driver"))?;
        let settings = ReadSettings {
            params: executor_params(&opts.kafka_params, &format!("{group}-executor")).into(),
            poll_timeout: opts.poll_timeout,
            fail_on_data_loss: opts.fail_on_data_loss,
            include_headers: opts.include_headers,
        };
        Ok(KafkaSource {
            opts,
            reader,
            settings,
            metadata_path,
            latest: None,
            available_now: None,
            is_available_now: false,
            last_trigger_ms: 0,
            clock: Arc::new(now_ms),
            shared: None,
        })
    }

    /// The query's shared consumer, once a batch was planned (diagnostics and tests: its
    /// [`SharedConsumer::assigned`] partitions).
    pub fn shared_consumer(&self) -> Option<&Arc<SharedConsumer>> {
        self.shared.as_ref()
    }

    /// Replaces the clock used by `minOffsetsPerTrigger`/`maxTriggerDelay` (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Fn() -> u64 + Send + Sync>) -> Self {
        self.clock = clock;
        self
    }

    fn delay_batch(
        &mut self,
        min: u64,
        max_delay_ms: u64,
        latest: &PartitionOffsets,
        start: &PartitionOffsets,
    ) -> bool {
        let now = (self.clock)();
        if now.saturating_sub(self.last_trigger_ms) >= max_delay_ms {
            self.last_trigger_ms = now;
            return false;
        }
        let new_records: i64 = latest
            .iter()
            .map(|(tp, off)| off - start.get(tp).copied().unwrap_or(0))
            .sum();
        if (new_records as f64) < min as f64 {
            true
        } else {
            self.last_trigger_ms = now;
            false
        }
    }
}

impl Source for KafkaSource {
    fn description(&self) -> String {
        format!("KafkaV2[{}]", self.opts.strategy)
    }

    fn schema(&self) -> SchemaRef {
        kafka_schema(self.opts.include_headers)
    }

    fn initial_offset(&mut self) -> Result<Offset> {
        // Like Spark's KafkaSourceInitialOffsetWriter: the first resolution of `latest` is
        // written down, so a restart before the first batch is logged starts at the same place.
        let path = self.metadata_path.join("0");
        if let Ok(text) = std::fs::read_to_string(&path)
            && let Some(json) = text.lines().nth(1)
        {
            return Ok(Offset::new(json));
        }
        let offsets = self
            .reader
            .resolve(&self.opts.starting, self.opts.fail_on_data_loss)?;
        let offset = to_offset(&offsets);
        engine_core::checkpoint::create_atomic(&path, format!("v1\n{}", offset.json()).as_bytes())?;
        Ok(offset)
    }

    fn default_read_limit(&self) -> ReadLimit {
        let min = self
            .opts
            .min_offsets_per_trigger
            .map(|min| ReadLimit::MinRows {
                min,
                max_trigger_delay_ms: self.opts.max_trigger_delay.as_millis() as u64,
            });
        let max = self.opts.max_offsets_per_trigger.map(ReadLimit::MaxRows);
        match (min, max) {
            (Some(min), Some(max)) => ReadLimit::Composite(vec![min, max]),
            (Some(min), None) => min,
            (None, Some(max)) => max,
            (None, None) => ReadLimit::AllAvailable,
        }
    }

    fn latest_offset(&mut self, start: &Offset, limit: &ReadLimit) -> Result<Offset> {
        let start_offsets = from_offset(start)?;
        let latest = match (&self.available_now, self.is_available_now) {
            (Some(fixed), true) => fixed.clone(),
            (None, true) => {
                let l = self.reader.latest()?;
                self.available_now = Some(l.clone());
                l
            }
            _ => self.reader.latest()?,
        };
        self.latest = Some(latest.clone());
        let limits: Vec<&ReadLimit> = match limit {
            ReadLimit::Composite(ls) => ls.iter().collect(),
            l => vec![l],
        };
        let offsets = if limits.iter().any(|l| matches!(l, ReadLimit::AllAvailable)) {
            latest
        } else {
            let lower = limits.iter().find_map(|l| match l {
                ReadLimit::MinRows {
                    min,
                    max_trigger_delay_ms,
                } => Some((*min, *max_trigger_delay_ms)),
                _ => None,
            });
            let upper = limits.iter().find_map(|l| match l {
                ReadLimit::MaxRows(n) => Some(*n),
                _ => None,
            });
            if let Some((min, delay)) = lower
                && self.delay_batch(min, delay, &latest, &start_offsets)
            {
                start_offsets.clone()
            } else if let Some(max) = upper {
                let new: BTreeSet<TopicPartition> = latest
                    .keys()
                    .filter(|tp| !start_offsets.contains_key(*tp))
                    .cloned()
                    .collect();
                let new_starts = if new.is_empty() {
                    PartitionOffsets::new()
                } else {
                    self.reader.earliest(&new)?
                };
                rate_limit(max, &start_offsets, &latest, &new_starts)
            } else {
                latest
            }
        };
        if offsets.is_empty() {
            return Ok(start.clone());
        }
        Ok(to_offset(&offsets))
    }

    fn report_latest_offset(&self) -> Option<Offset> {
        self.latest
            .as_ref()
            .filter(|l| !l.is_empty())
            .map(to_offset)
    }

    fn prepare_for_trigger_available_now(&mut self) -> Result<()> {
        self.is_available_now = true;
        Ok(())
    }

    fn plan_partitions(
        &mut self,
        start: &Offset,
        end: &Offset,
    ) -> Result<Vec<Arc<dyn InputPartition>>> {
        let start = from_offset(start)?;
        let end = from_offset(end)?;
        let ranges = offset_ranges(&self.reader, &start, &end, self.opts.fail_on_data_loss)?;
        let positions = shared_positions(&end, &ranges);
        // Made once a batch has a partition for it (a batch of catch-up ranges needs none).
        if self.shared.is_none() && !positions.is_empty() {
            self.shared = Some(SharedConsumer::new(
                &self.settings.params,
                shared_members(),
            )?);
        }
        let shared = self.shared.clone();
        if let Some(s) = &shared {
            s.sync(&positions)?;
        }
        let ranges = split_ranges(
            ranges,
            self.opts.min_partitions,
            self.opts.max_records_per_partition,
        );
        let latest = self.latest.as_ref();
        Ok(ranges
            .into_iter()
            .map(|range| {
                let ends_at_latest = latest
                    .and_then(|l| l.get(&range.tp))
                    .is_some_and(|l| range.until >= *l);
                Arc::new(KafkaInputPartition {
                    range,
                    settings: self.settings.clone(),
                    ends_at_latest,
                    shared: shared.clone(),
                }) as Arc<dyn InputPartition>
            })
            .collect())
    }

    fn stop(&mut self) -> Result<()> {
        // The shared consumer closes when the last task holding it is gone (normally now).
        self.shared = None;
        // This source's pooled consumers have a group id no other source uses: close them.
        crate::consumer::ConsumerPool::global().close_all(&self.settings.params);
        Ok(())
    }

    fn metrics(&self, latest_consumed: Option<&Offset>) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let (Some(consumed), Some(latest)) = (latest_consumed, self.latest.as_ref()) else {
            return out;
        };
        let Ok(consumed) = from_offset(consumed) else {
            return out;
        };
        let behind: Vec<i64> = latest
            .iter()
            .map(|(tp, off)| off - consumed.get(tp).copied().unwrap_or(0))
            .collect();
        if let (Some(min), Some(max)) = (behind.iter().min(), behind.iter().max()) {
            let avg = behind.iter().sum::<i64>() as f64 / behind.len() as f64;
            out.insert("minOffsetsBehindLatest".into(), min.to_string());
            out.insert("maxOffsetsBehindLatest".into(), max.to_string());
            // Java's Double.toString of the average, e.g. "0.0", "12.5".
            out.insert("avgOffsetsBehindLatest".into(), java_double(avg));
        }
        out
    }
}

fn java_double(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e7 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// The partitions of a batch read (`spark.read.format("kafka")`) between `startingOffsets`
/// (default earliest) and `endingOffsets` (default latest).
pub fn batch_partitions(opts: &SourceOptions) -> Result<Vec<Arc<dyn InputPartition>>> {
    let prefix = opts
        .group_id_prefix
        .clone()
        .unwrap_or_else(|| "spark-kafka-relation".into());
    let group = format!("{prefix}-{}", uuid::Uuid::new_v4());
    let reader = OffsetReader::new(opts, &format!("{group}-driver"))?;
    let start = reader.resolve(&opts.starting, opts.fail_on_data_loss)?;
    let end = reader.resolve(&opts.ending, opts.fail_on_data_loss)?;
    // Partitions only in `end` (subscribe with earliest/latest) start at their earliest.
    let ranges = offset_ranges(&reader, &start, &end, opts.fail_on_data_loss)?;
    let ranges = split_ranges(ranges, opts.min_partitions, opts.max_records_per_partition);
    let settings = ReadSettings {
        params: executor_params(&opts.kafka_params, &format!("{group}-executor")).into(),
        poll_timeout: opts.poll_timeout,
        fail_on_data_loss: opts.fail_on_data_loss,
        include_headers: opts.include_headers,
    };
    Ok(ranges
        .into_iter()
        .map(|range| {
            Arc::new(KafkaInputPartition {
                range,
                settings: settings.clone(),
                // A batch read is read once: nothing to prefetch for.
                ends_at_latest: true,
                shared: None,
            }) as Arc<dyn InputPartition>
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_consumer_keeps_every_partition_but_those_with_a_large_range() {
        let tp = |p| TopicPartition::new("t", p);
        let range = |p, from, until| OffsetRange {
            tp: tp(p),
            from,
            until,
        };
        let end: PartitionOffsets = [
            (tp(0), 10),
            (tp(1), 5),
            (tp(2), SHARED_RANGE_LIMIT + 1),
            (tp(3), 7),
        ]
        .into_iter()
        .collect();
        let ranges = [
            range(0, 4, 10),
            range(1, 5, 5),
            range(2, 0, SHARED_RANGE_LIMIT + 1),
        ];
        let got = shared_positions(&end, &ranges);
        // Small ranges at their start, empty ones and partitions without a range at the end,
        // the large range's partition not at all.
        let want: PartitionOffsets = [(tp(0), 4), (tp(1), 5), (tp(3), 7)].into_iter().collect();
        assert_eq!(got, want);
    }
}
