//! Spark's `MicroBatchExecution`: the checkpointed trigger loop.
//!
//! Per batch: ask every source for its next end offset (respecting its read limit), write
//! `offsets/N` *before* reading, plan the sources' partitions into the per-batch plan, run it
//! on the worker pool with one sink writer per task, `Sink::commit(N)`, report progress.
//! `commits/N` is written (then old log entries purged) on a background thread while the
//! next trigger plans; it is durable, and the sources are told, before `offsets/N+1` joins
//! its log, before an idle trigger, and before the query ends. On restart the last logged
//! batch is replayed with exactly its logged offsets and metadata if it has no commit.
//! Batches run with a batch id and a watermark, so stateful operators slot in later.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use engine_core::checkpoint::{
    CommitLog, CommitMetadata, OffsetSeq, OffsetSeqLog, OffsetSeqMetadata,
};
use engine_core::connector::{Offset, ReadLimit, Sink, Source, SourceContext};
use engine_core::progress::{
    QueryIdleEvent, QueryProgressEvent, SinkProgress, SourceProgress, StateOperatorProgress,
    StreamingQueryProgress, offset_value,
};
use engine_core::{EngineError, Result};

use super::incremental::{IncrementalPlan, collect_sources, incrementalize};
use super::progress::{Timings, WatermarkTracker, event_time_map};
use crate::queries::StreamingQueryManager;
use crate::queries::query::QueryInner;
use crate::streaming::clock::Clock;
use crate::streaming::format_timestamp_ms;
use crate::streaming::stateful::operator::BatchInfo;
use crate::streaming::stateful::planner::{
    StatefulOperators, StatefulPlanner, rewrite as rewrite_stateful,
};
use crate::streaming::trigger::Trigger;
use engine_core::conf::SessionConf;
use engine_core::logical::LogicalPlan;
use engine_core::physical::plan::{StreamingBatch, TaskContext, display_tree};

/// `spark.sql.streaming.minBatchesToRetain` (default 100).
pub const MIN_BATCHES_TO_RETAIN: &str = "spark.sql.streaming.minBatchesToRetain";
/// `spark.sql.streaming.noDataProgressEventInterval` (default 10000 ms).
pub const NO_DATA_PROGRESS_EVENT_INTERVAL: &str = "spark.sql.streaming.noDataProgressEventInterval";
/// `spark.sql.streaming.pollingDelay`: sleep after a trigger without data (default 10 ms).
pub const POLLING_DELAY: &str = "spark.sql.streaming.pollingDelay";
/// `spark.sql.streaming.multipleWatermarkPolicy`: `min` (default) or `max`.
pub const MULTIPLE_WATERMARK_POLICY: &str = "spark.sql.streaming.multipleWatermarkPolicy";

/// Conf keys pinned in `offsets/N` and restored on restart (a subset of Spark's
/// `OffsetSeqMetadata.relevantSQLConfs`).
const PINNED_CONF: &[(&str, &str)] = &[
    ("spark.sql.shuffle.partitions", "200"),
    (MULTIPLE_WATERMARK_POLICY, "min"),
    (
        STATE_STORE_PROVIDER,
        "org.apache.spark.sql.execution.streaming.state.HDFSBackedStateStoreProvider",
    ),
];

/// `spark.sql.streaming.stateStore.providerClass`: recorded in the checkpoint, so a restart
/// keeps the provider the state was written with (as Spark does).
const STATE_STORE_PROVIDER: &str = "spark.sql.streaming.stateStore.providerClass";

/// `spark.sql.streaming.noDataMicroBatches.enabled` (default true): run a batch without new
/// data when the watermark moved and stateful operators can emit or evict with it.
const NO_DATA_MICRO_BATCHES: &str = "spark.sql.streaming.noDataMicroBatches.enabled";

/// Options that choose where a source starts; ignored once the checkpoint has offsets.
const STARTING_OPTIONS: &[&str] = &[
    "startingOffsets",
    "startingOffsetsByTimestamp",
    "startingTimestamp",
    "startingVersion",
];

/// Everything the executor needs to start.
pub(crate) struct QuerySetup {
    pub session: crate::session::Session,
    pub plan: Arc<LogicalPlan>,
    pub sink: Arc<dyn Sink>,
    pub trigger: Trigger,
    pub clock: Arc<dyn Clock>,
    pub checkpoint: PathBuf,
    pub query_id: String,
    pub output_mode: engine_core::connector::OutputMode,
}

/// The stateful side of a query run.
struct StateRun {
    stores: Arc<engine_state::StateStores>,
    root: PathBuf,
    operators: StatefulOperators,
    /// `spark.sql.streaming.stateStore.stateSchemaCheck`.
    schema_check: bool,
    /// Whether the run's first batch (which checks schemas and metadata) is still to come.
    first_batch: bool,
}

/// One run of a query over its checkpoint.
pub(crate) struct MicroBatchExecution {
    conf: SessionConf,
    /// The session's registry of queries, told of progress and idle triggers.
    pub manager: StreamingQueryManager,
    plan: IncrementalPlan,
    sources: Vec<Box<dyn Source>>,
    descriptions: Vec<String>,
    limits: Vec<ReadLimit>,
    sink: Arc<dyn Sink>,
    offsets: OffsetSeqLog,
    commits: CommitLog,
    trigger: Trigger,
    clock: Arc<dyn Clock>,
    next_batch_id: u64,
    /// Where the next batch starts, per source.
    committed: Vec<Offset>,
    /// Whether `committed` came from a finished batch (else: the sources' initial offsets;
    /// progress then reports `startOffset: null`, as Spark).
    committed_known: bool,
    /// A logged batch without a commit, to replay first.
    pending: Option<(u64, OffsetSeq)>,
    watermark: WatermarkTracker,
    min_batches_to_retain: u64,
    no_data_interval_ms: i64,
    polling_delay: Duration,
    last_idle_event_ms: Option<i64>,
    last_trigger_start_ms: Option<i64>,
    /// The watermark the last batch ran with (late rows of the next batch are judged by it).
    last_batch_watermark_ms: i64,
    /// `spark.sql.streaming.noDataMicroBatches.enabled`.
    no_data_batches: bool,
    /// The state stores, when the query has stateful operators.
    state: Option<StateRun>,
    /// The last batch's `commits/N`, still being written (see [`CommitInFlight`]).
    commit_in_flight: Option<CommitInFlight>,
}

/// `commits/N` of a finished batch, written (and the logs purged) on a thread of its own.
///
/// The batch's output is complete before this starts; the entry only records that, for a
/// restart. Writing it in the background takes its fsyncs off the batch's latency and lets
/// them overlap the next batch's planning and its own `offsets/N+1` fsync. The ordering a
/// restart relies on (the latest commit is the latest offsets entry or one behind) holds
/// because `offsets/N+1` is only linked into its log after this thread has made
/// `commits/N` durable ([`MicroBatchExecution::finish_commit`]), and the sources are told
/// of the commit (e.g. the file source's `cleanSource`) only then too.
struct CommitInFlight {
    /// Where the committed batch ended, per source.
    ends: Vec<Offset>,
    /// The writer: `commits/N`, then the purge of old entries of both logs.
    handle: std::thread::JoinHandle<Result<()>>,
}

fn conf_i64(conf: &SessionConf, key: &str, default: i64) -> Result<i64> {
    match conf.get(key) {
        None => Ok(default),
        Some(v) => {
            let v = v.trim();
            // Spark accepts time strings with a unit for these (`10s`, `10000ms`).
            let (num, scale) = if let Some(n) = v.strip_suffix("ms") {
                (n, 1)
            } else if let Some(n) = v.strip_suffix('s') {
                (n, 1000)
            } else {
                (v, 1)
            };
            num.trim().parse::<i64>().map(|n| n * scale).map_err(|_| {
                EngineError::invalid_option(key, format!("expected a number, got `{v}`"))
            })
        }
    }
}

impl MicroBatchExecution {
    /// Creates the sources and recovers the position from the checkpoint.
    pub fn new(setup: QuerySetup) -> Result<Self> {
        let QuerySetup {
            session,
            plan,
            sink,
            trigger,
            clock,
            checkpoint,
            query_id,
            output_mode,
        } = setup;
        let offsets = OffsetSeqLog::new(checkpoint.join("offsets"));
        let commits = CommitLog::new(checkpoint.join("commits"));
        let relations = collect_sources(&plan);
        let latest = offsets.latest()?;
        let mut conf = session.conf();
        if let Some((n, seq)) = &latest {
            if seq.offsets.len() != relations.len() {
                return Err(EngineError::analysis(
                    "STREAMING_CHECKPOINT_INCOMPATIBLE",
                    format!(
                        "The checkpoint at {} was written by a query with {} source(s), but this query has {}: offsets/{n} cannot be matched to its sources. Use a new checkpoint location for a changed query.",
                        checkpoint.display(),
                        seq.offsets.len(),
                        relations.len()
                    ),
                ));
            }
            // The checkpoint pins what must not change between runs (Spark restores them).
            for (key, value) in &seq.metadata.conf {
                if PINNED_CONF.iter().any(|(k, _)| k == key) {
                    if conf.get(key).is_some_and(|v| v != value) {
                        log::warn!(
                            "Updating the value of conf '{key}' to {value} as recorded in the checkpoint"
                        );
                    }
                    conf.set(key.clone(), value.clone());
                }
            }
        }
        let mut sources = Vec::with_capacity(relations.len());
        for (i, r) in relations.iter().enumerate() {
            if latest.is_some() {
                for opt in STARTING_OPTIONS {
                    if r.options.get(opt).is_some() {
                        log::warn!(
                            "Option {opt} of source {i} ({}) is ignored: the query resumes from its checkpoint",
                            r.format_name
                        );
                    }
                }
            }
            sources.push(r.format.create_source(SourceContext {
                options: conf.with_session_settings(&r.options),
                user_schema: r.user_schema.clone(),
                metadata_path: checkpoint.join("sources").join(i.to_string()),
                query_id: query_id.clone(),
            })?);
        }
        let descriptions: Vec<String> = sources.iter().map(|s| s.description()).collect();
        let limits = sources
            .iter()
            .map(|s| match trigger {
                Trigger::Once => ReadLimit::AllAvailable,
                _ => s.default_read_limit(),
            })
            .collect();
        // Stateful nodes replace the stream's aggregations while it still reads streams.
        let (plan, operators) = rewrite_stateful(&plan, output_mode)?;
        let incremental = incrementalize(&plan, &relations, &descriptions, &conf)?;
        let state = if operators.count > 0 {
            let pairs: Vec<(String, String)> = conf
                .entries()
                .filter(|(k, _)| k.starts_with("spark."))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let store_conf = engine_state::StateStoreConf::from_pairs(pairs)?;
            Some(StateRun {
                schema_check: store_conf.state_schema_check,
                stores: Arc::new(engine_state::StateStores::new(store_conf)?),
                root: checkpoint.join("state"),
                operators,
                first_batch: true,
            })
        } else {
            None
        };
        let use_max = conf
            .get(MULTIPLE_WATERMARK_POLICY)
            .is_some_and(|p| p.eq_ignore_ascii_case("max"));
        let mut exec = MicroBatchExecution {
            manager: session.streams(),
            watermark: WatermarkTracker::new(incremental.watermarks.len(), use_max, 0),
            plan: incremental,
            sources,
            descriptions,
            limits,
            sink,
            offsets,
            commits,
            trigger,
            clock,
            next_batch_id: 0,
            committed: vec![],
            committed_known: false,
            pending: None,
            min_batches_to_retain: conf_i64(&conf, MIN_BATCHES_TO_RETAIN, 100)?.max(1) as u64,
            no_data_interval_ms: conf_i64(&conf, NO_DATA_PROGRESS_EVENT_INTERVAL, 10_000)?,
            polling_delay: Duration::from_millis(conf_i64(&conf, POLLING_DELAY, 10)?.max(0) as u64),
            last_idle_event_ms: None,
            last_trigger_start_ms: None,
            last_batch_watermark_ms: 0,
            no_data_batches: conf.get_bool(NO_DATA_MICRO_BATCHES, true)?,
            commit_in_flight: None,
            state,
            conf,
        };
        exec.recover(latest)?;
        Ok(exec)
    }

    /// Spark's `populateStartOffsets`.
    fn recover(&mut self, latest: Option<(u64, OffsetSeq)>) -> Result<()> {
        let Some((n, seq)) = latest else {
            self.committed = self
                .sources
                .iter_mut()
                .map(|s| s.initial_offset())
                .collect::<Result<_>>()?;
            return Ok(());
        };
        let last_commit = self.commits.latest()?;
        match last_commit {
            Some((c, meta)) if c == n => {
                // Batch n finished: continue after it.
                self.committed = self.offsets_of(&seq)?;
                self.committed_known = true;
                self.watermark.current_ms = meta.next_batch_watermark_ms;
                self.last_batch_watermark_ms = seq.metadata.batch_watermark_ms;
                self.next_batch_id = n + 1;
                for (s, end) in self.sources.iter_mut().zip(&self.committed) {
                    s.commit(end)?;
                }
            }
            ref c if c.as_ref().map(|(c, _)| c + 1) == Some(n) || (c.is_none() && n == 0) => {
                // Batch n was logged but not committed: replay it exactly.
                if n == 0 {
                    self.committed = self
                        .sources
                        .iter_mut()
                        .map(|s| s.initial_offset())
                        .collect::<Result<_>>()?;
                } else {
                    let prev = self.offsets.get(n - 1)?.ok_or_else(|| {
                        EngineError::execution(
                            "STREAMING_CHECKPOINT_CORRUPT",
                            format!("offsets/{} is missing: batch {n} cannot be replayed", n - 1),
                        )
                    })?;
                    self.committed = self.offsets_of(&prev)?;
                    self.committed_known = true;
                    self.last_batch_watermark_ms = prev.metadata.batch_watermark_ms;
                }
                self.watermark.current_ms = seq.metadata.batch_watermark_ms;
                self.next_batch_id = n;
                self.pending = Some((n, seq));
            }
            other => {
                return Err(EngineError::execution(
                    "STREAMING_CHECKPOINT_CORRUPT",
                    format!(
                        "The checkpoint is inconsistent: the last offsets are for batch {n} but the last commit is for batch {:?}",
                        other.map(|(c, _)| c)
                    ),
                ));
            }
        }
        Ok(())
    }

    fn offsets_of(&mut self, seq: &OffsetSeq) -> Result<Vec<Offset>> {
        seq.offsets
            .iter()
            .zip(self.sources.iter_mut())
            .map(|(o, s)| match o {
                Some(o) => Ok(o.clone()),
                None => s.initial_offset(),
            })
            .collect()
    }

    /// Runs triggers until the trigger kind says stop, `stop()` is called, or an error.
    /// Returns once the last batch's commit is durable, also after an error.
    pub fn run(&mut self, q: &QueryInner) -> Result<()> {
        let ran = self.run_triggers(q);
        let committed = self.finish_commit();
        ran.and(committed)
    }

    /// [`MicroBatchExecution::run`] without its final wait for the commit log.
    fn run_triggers(&mut self, q: &QueryInner) -> Result<()> {
        match self.trigger {
            Trigger::Once => {
                log::warn!(
                    "Trigger.Once is deprecated; use Trigger.AvailableNow, which also respects the sources' read limits"
                );
                self.run_trigger(q)?;
            }
            Trigger::AvailableNow => {
                for s in &mut self.sources {
                    s.prepare_for_trigger_available_now()?;
                }
                while !q.stopping() {
                    let had_pending = self.pending.is_some();
                    if !self.run_trigger(q)? && !had_pending {
                        break;
                    }
                }
            }
            Trigger::ProcessingTime(interval) => {
                while !q.stopping() {
                    let start = self.clock.now_ms();
                    let next = Trigger::next_batch_time(interval, start);
                    let ran = self.run_trigger(q)?;
                    if q.stopping() {
                        break;
                    }
                    if interval.is_zero() {
                        if !ran {
                            std::thread::sleep(self.polling_delay);
                        }
                    } else {
                        let elapsed = self.clock.now_ms() - start;
                        if elapsed > interval.as_millis() as i64 {
                            log::warn!(
                                "Current batch is falling behind. The trigger interval is {} milliseconds, but spent {elapsed} milliseconds",
                                interval.as_millis()
                            );
                        }
                        q.update(|s| s.status.message = "Waiting for next trigger".into());
                        self.clock.wait_until(next, &q.stop);
                    }
                }
            }
            Trigger::Continuous(_) => self.run_continuous(q)?,
        }
        Ok(())
    }

    /// Continuous processing (`Trigger::Continuous`): stateless map/filter queries with
    /// millisecond latency.
    ///
    /// Spark runs long-lived tasks that write continuously and checkpoint epochs every
    /// interval (at-least-once). This engine gets the same latency from its cheap
    /// micro-batches: the loop polls the sources every millisecond and runs an epoch as soon
    /// as rows arrive, each epoch logged in the checkpoint like a micro-batch. That is at
    /// least as strong as Spark's guarantee (exactly-once with an idempotent sink). The
    /// checkpoint interval is accepted for compatibility but not needed: every epoch is
    /// checkpointed as it completes. Which plans are allowed is checked up front with
    /// Spark's rules ([`engine_core::analyzer::streaming_checks::check_continuous`]).
    fn run_continuous(&mut self, q: &QueryInner) -> Result<()> {
        // Poll fast: latency is the point of continuous mode.
        let idle = self.polling_delay.min(Duration::from_millis(1));
        while !q.stopping() {
            if !self.run_trigger(q)? {
                std::thread::sleep(idle);
            }
        }
        Ok(())
    }

    /// One trigger: a batch if there is new data (or a logged batch to replay). Returns
    /// whether a batch ran.
    pub(crate) fn run_trigger(&mut self, q: &QueryInner) -> Result<bool> {
        let trigger_start_ms = self.clock.now_ms();
        let mut timings = Timings::default();
        let total = std::time::Instant::now();
        q.update(|s| {
            s.triggers += 1;
            s.status.is_trigger_active = true;
        });
        let trigger_seq = q.lock().triggers;
        let (batch_id, seq, latest) = match self.pending.take() {
            Some((n, seq)) => {
                self.finish_commit()?;
                let latest: Vec<Option<Offset>> = self
                    .sources
                    .iter()
                    .map(|s| s.report_latest_offset())
                    .collect();
                (n, seq, latest)
            }
            None => {
                let ends = timings.time("latestOffset", || {
                    self.sources
                        .iter_mut()
                        .zip(&self.committed)
                        .zip(&self.limits)
                        .map(|((s, start), limit)| s.latest_offset(start, limit))
                        .collect::<Result<Vec<_>>>()
                })?;
                if ends == self.committed && !self.another_batch_needed() {
                    // Idle: the last batch's commit is durable before the query reports
                    // that it has processed everything available.
                    self.finish_commit()?;
                    self.finish_idle(q, trigger_seq, trigger_start_ms);
                    return Ok(false);
                }
                let latest = self
                    .sources
                    .iter()
                    .zip(&ends)
                    .map(|(s, e)| s.report_latest_offset().or_else(|| Some(e.clone())))
                    .collect();
                let seq = OffsetSeq {
                    offsets: ends.into_iter().map(Some).collect(),
                    metadata: OffsetSeqMetadata {
                        batch_watermark_ms: self.watermark.current_ms,
                        batch_timestamp_ms: trigger_start_ms,
                        conf: PINNED_CONF
                            .iter()
                            .map(|(k, d)| {
                                (k.to_string(), self.conf.get(k).unwrap_or(d).to_string())
                            })
                            .collect(),
                    },
                };
                let id = self.next_batch_id;
                timings.time("walCommit", || -> Result<()> {
                    // The entry's own fsync runs while the last batch's commit is still
                    // being written; it joins the log only once that commit is durable.
                    let entry = self.offsets.prepare(id, &seq)?;
                    self.finish_commit()?;
                    entry.add()
                })?;
                crate::streaming::crash::crash_point("driver.offsets_written");
                (id, seq, latest)
            }
        };
        q.update(|s| {
            s.status.message = "Processing new data".into();
            s.status.is_data_available = true;
        });
        let ends = self.offsets_of(&seq)?;
        let (output_rows, malformed_rows, state_operators) =
            self.run_batch(q, batch_id, &seq.metadata, &ends, &mut timings)?;
        self.last_batch_watermark_ms = seq.metadata.batch_watermark_ms;
        let starts = std::mem::replace(&mut self.committed, ends.clone());
        let start_known = std::mem::replace(&mut self.committed_known, true);
        let stats: Vec<_> = self
            .plan
            .watermarks
            .iter()
            .map(|(s, d)| (s.take(), *d))
            .collect();
        timings.time("commitOffsets", || -> Result<()> {
            self.watermark.update(&stats);
            let meta = CommitMetadata {
                next_batch_watermark_ms: self.watermark.current_ms,
            };
            self.start_commit(batch_id, meta, ends.clone())
        })?;
        self.next_batch_id = batch_id + 1;
        timings.durations.insert(
            "triggerExecution".into(),
            total.elapsed().as_millis() as i64,
        );
        let progress = self.progress(
            q,
            ProgressInput {
                batch_id,
                trigger_start_ms,
                timings,
                starts: if start_known { Some(starts) } else { None },
                ends,
                latest,
                output_rows,
                malformed_rows,
                stats,
                batch_watermark_ms: seq.metadata.batch_watermark_ms,
                state_operators,
            },
        );
        self.last_trigger_start_ms = Some(trigger_start_ms);
        self.last_idle_event_ms = Some(self.clock.now_ms());
        q.update(|s| {
            s.status.is_trigger_active = false;
            s.status.message = "Waiting for data to arrive".into();
            s.recent.push_back(progress.clone());
            while s.recent.len() > q.recent_limit {
                s.recent.pop_front();
            }
        });
        self.manager.post_progress(&QueryProgressEvent { progress });
        Ok(true)
    }

    /// Starts writing `commits/<batch_id>` in the background ([`CommitInFlight`]), with the
    /// purge of entries older than `spark.sql.streaming.minBatchesToRetain` after it.
    fn start_commit(
        &mut self,
        batch_id: u64,
        meta: CommitMetadata,
        ends: Vec<Offset>,
    ) -> Result<()> {
        // At most one in flight: a batch only starts after the previous commit finished.
        self.finish_commit()?;
        let commits = self.commits.clone();
        let offsets = self.offsets.clone();
        let keep_from = (batch_id + 1).checked_sub(self.min_batches_to_retain);
        let handle = std::thread::Builder::new()
            .name(format!("commit-log-{batch_id}"))
            .spawn(move || -> Result<()> {
                commits.add(batch_id, meta)?;
                if let Some(keep_from) = keep_from.filter(|k| *k > 0) {
                    offsets.purge(keep_from)?;
                    commits.purge(keep_from)?;
                }
                Ok(())
            })
            .map_err(|e| EngineError::io("starting the commit log writer", e))?;
        self.commit_in_flight = Some(CommitInFlight { ends, handle });
        Ok(())
    }

    /// Waits until the last batch's `commits/N` is durable, then tells the sources that
    /// everything up to its end is processed. A no-op when no commit is in flight.
    fn finish_commit(&mut self) -> Result<()> {
        let Some(CommitInFlight { ends, handle }) = self.commit_in_flight.take() else {
            return Ok(());
        };
        handle
            .join()
            .map_err(|_| EngineError::Internal("the commit log writer panicked".into()))??;
        crate::streaming::crash::crash_point("driver.commit_written");
        for (s, end) in self.sources.iter_mut().zip(&ends) {
            s.commit(end)?;
        }
        Ok(())
    }

    /// Spark's `shouldRunAnotherBatch`: with no new data, a batch still runs when the
    /// watermark moved past the one the last batch ran with and a stateful operator emits or
    /// evicts by it.
    fn another_batch_needed(&self) -> bool {
        self.no_data_batches
            && self
                .state
                .as_ref()
                .is_some_and(|s| s.operators.evicts_by_watermark)
            && self.watermark.current_ms > self.last_batch_watermark_ms
    }

    /// A trigger without data: status, and an idle event at most once per
    /// `noDataProgressEventInterval`.
    fn finish_idle(&mut self, q: &QueryInner, trigger_seq: u64, trigger_start_ms: i64) {
        q.update(|s| {
            s.status.is_trigger_active = false;
            s.status.is_data_available = false;
            s.status.message = "Waiting for data to arrive".into();
            s.last_idle_trigger = s.last_idle_trigger.max(trigger_seq);
        });
        let now = self.clock.now_ms();
        if self
            .last_idle_event_ms
            .is_none_or(|l| now - l >= self.no_data_interval_ms)
        {
            self.last_idle_event_ms = Some(now);
            self.manager.post_idle(&QueryIdleEvent {
                id: q.id.clone(),
                run_id: q.run_id.clone(),
                timestamp: format_timestamp_ms(trigger_start_ms),
            });
        }
    }

    /// Reads `(committed, ends]` of every source through the per-batch plan into the sink.
    /// Returns the number of rows written and of malformed records met on the way.
    fn run_batch(
        &mut self,
        q: &QueryInner,
        batch_id: u64,
        metadata: &OffsetSeqMetadata,
        ends: &[Offset],
        timings: &mut Timings,
    ) -> Result<(u64, u64, Vec<StateOperatorProgress>)> {
        timings.time("getBatch", || -> Result<()> {
            for ((source, slot), (start, end)) in self
                .sources
                .iter_mut()
                .zip(&self.plan.slots)
                .zip(self.committed.iter().zip(ends))
            {
                let parts = if start == end {
                    vec![]
                } else {
                    source.plan_partitions(start, end)?
                };
                slot.fill(parts);
            }
            Ok(())
        })?;
        let (ctx, physical, planner) = timings.time("queryPlanning", || -> Result<_> {
            let mut ctx = TaskContext::new(Arc::new(self.conf.clone()))?;
            // Every row of a batch sees the batch timestamp as `current_timestamp()`, also
            // when the batch is replayed.
            let mut functions = (*ctx.functions).clone();
            functions.query_start_micros = metadata.batch_timestamp_ms * 1000;
            ctx.functions = Arc::new(functions);
            ctx.streaming = Some(StreamingBatch {
                batch_id,
                watermark_ms: metadata.batch_watermark_ms,
                late_watermark_ms: self.last_batch_watermark_ms,
                timestamp_ms: metadata.batch_timestamp_ms,
            });
            let ctx = Arc::new(ctx);
            let planner = self.state.as_ref().map(|s| {
                Arc::new(StatefulPlanner {
                    stores: s.stores.clone(),
                    state_root: s.root.clone(),
                    batch: BatchInfo {
                        batch_id,
                        eviction_watermark_ms: metadata.batch_watermark_ms,
                        late_watermark_ms: self.last_batch_watermark_ms,
                    },
                    schema_check: s.first_batch.then_some(s.schema_check),
                    operators: Default::default(),
                })
            });
            let extensions: Vec<Arc<dyn engine_core::physical::planner::ExtensionPlanner>> =
                planner
                    .iter()
                    .map(|p| p.clone() as Arc<dyn engine_core::physical::planner::ExtensionPlanner>)
                    .collect();
            let physical = engine_core::physical::planner::create_physical_plan_with_extensions(
                &self.plan.optimized,
                &ctx,
                &extensions,
            )?;
            if let (Some(p), Some(s)) = (&planner, &mut self.state)
                && s.first_batch
            {
                engine_state::metadata::validate_and_write(&s.root, &p.metadata())?;
                s.first_batch = false;
            }
            Ok((ctx, physical, planner))
        })?;
        q.update(|s| s.last_plan = Some(display_tree(&physical)));
        let sink = self.sink.clone();
        let written = timings.time("addBatch", || {
            engine_core::physical::plan::sink_write::write_to_sink(&physical, &ctx, &sink, batch_id)
        })?;
        let malformed = ctx
            .functions
            .malformed_records
            .load(std::sync::atomic::Ordering::Relaxed);
        let state_operators = planner
            .map(|p| p.operators().iter().map(|o| o.progress()).collect())
            .unwrap_or_default();
        Ok((written, malformed as u64, state_operators))
    }

    fn progress(&self, q: &QueryInner, p: ProgressInput) -> StreamingQueryProgress {
        let duration = p
            .timings
            .durations
            .get("triggerExecution")
            .copied()
            .unwrap_or(0);
        let processing_sec = duration.max(1) as f64 / 1000.0;
        let input_sec = match self.last_trigger_start_ms {
            Some(last) => (p.trigger_start_ms - last) as f64 / 1000.0,
            None => f64::INFINITY,
        };
        let rate = |rows: u64, secs: f64| rows as f64 / secs;
        let sources: Vec<SourceProgress> = (0..self.sources.len())
            .map(|i| {
                let rows = self.plan.slots[i].rows_read();
                SourceProgress {
                    description: self.descriptions[i].clone(),
                    start_offset: offset_value(p.starts.as_ref().map(|s| s[i].json())),
                    end_offset: offset_value(Some(p.ends[i].json())),
                    latest_offset: offset_value(p.latest[i].as_ref().map(Offset::json)),
                    num_input_rows: rows as i64,
                    input_rows_per_second: rate(rows, input_sec),
                    processed_rows_per_second: rate(rows, processing_sec),
                    metrics: self.sources[i].metrics(Some(&p.ends[i])),
                }
            })
            .collect();
        let input: u64 = sources.iter().map(|s| s.num_input_rows as u64).sum();
        StreamingQueryProgress {
            id: q.id.clone(),
            run_id: q.run_id.clone(),
            name: q.name.clone(),
            timestamp: format_timestamp_ms(p.trigger_start_ms),
            batch_id: p.batch_id as i64,
            batch_duration: duration,
            num_input_rows: input as i64,
            input_rows_per_second: rate(input, input_sec),
            processed_rows_per_second: rate(input, processing_sec),
            duration_ms: p.timings.durations,
            event_time: event_time_map(&p.stats, p.batch_watermark_ms),
            state_operators: p.state_operators,
            sources,
            sink: SinkProgress {
                description: self.sink.description(),
                num_output_rows: p.output_rows as i64,
                metrics: Default::default(),
            },
            observed_metrics: Default::default(),
            num_malformed_rows: p.malformed_rows as i64,
        }
    }

    /// Releases the sources.
    pub fn stop_sources(&mut self) {
        for s in &mut self.sources {
            if let Err(e) = s.stop() {
                log::warn!("stopping source {} failed: {e}", s.description());
            }
        }
    }
}

struct ProgressInput {
    batch_id: u64,
    trigger_start_ms: i64,
    timings: Timings,
    starts: Option<Vec<Offset>>,
    ends: Vec<Offset>,
    latest: Vec<Option<Offset>>,
    output_rows: u64,
    malformed_rows: u64,
    stats: Vec<(engine_core::logical::EventTimeSummary, Duration)>,
    batch_watermark_ms: i64,
    state_operators: Vec<StateOperatorProgress>,
}
