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
//!   [`ProducerCache`](crate::producer_cache::ProducerCache); a replayed batch is written again.
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

mod batch_produce;
mod columns;
mod delivery;
mod exactly_once;
mod writer;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use engine_core::connector::{DataWriter, Sink, SinkContext, WriterCommitMessage, WriterContext};
use engine_core::{EngineError, Result};
use rdkafka::producer::Producer;

pub use columns::ColumnPlan;
pub use delivery::{
    DeliveryTracker, SinkProducer, SinkProducerContext, configure_producer_cache, producer_cache,
};
pub use exactly_once::{
    HEADER_BATCH, HEADER_QUERY, HEADER_SEQ, HEADER_TASK, read_back_records_scanned,
};

use crate::options::{DeliveryGuarantee, SinkOptions};
use batch_produce::BatchProducer;
use delivery::{PendingAcks, await_acks, create_producer};
use exactly_once::{EosState, TxnCommit, TxnProducer};
use writer::{KafkaDataWriter, WriterProducer};

const TIMEOUT: Duration = Duration::from_secs(60);

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
                    batch: BatchProducer::default(),
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
                    batch: BatchProducer::default(),
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
        let mut txns = Vec::new();
        for m in messages {
            let m = match m.downcast::<PendingAcks>() {
                Ok(acks) => {
                    await_acks(&acks.producer, &acks.tracker)?;
                    continue;
                }
                Err(m) => m,
            };
            if let Ok(txn) = m.downcast::<TxnCommit>() {
                txns.push(*txn);
            }
        }
        // Each commit waits for the broker's EndTxn round trip (and the transaction markers):
        // committed one after the other, a batch over k tasks took k round trips.
        let results: Vec<Result<(usize, TxnProducer)>> = match txns.len() {
            0 => Vec::new(),
            1 => txns.into_iter().map(commit_transaction).collect(),
            _ => std::thread::scope(|s| {
                let handles: Vec<_> = txns
                    .into_iter()
                    .map(|t| s.spawn(move || commit_transaction(t)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(EngineError::Internal(
                                "a thread committing a Kafka transaction panicked".into(),
                            ))
                        })
                    })
                    .collect()
            }),
        };
        let mut first_error = None;
        for result in results {
            match result {
                Ok((task, producer)) => {
                    self.last_written
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .insert(task, batch_id);
                    self.txn_producers
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .insert(task, producer);
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
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

/// Commits one task's transaction; gives back the task and its producer. A producer whose
/// commit failed is dropped: the task's next writer makes a new one, which fences it, and
/// reads back.
fn commit_transaction(txn: TxnCommit) -> Result<(usize, TxnProducer)> {
    let TxnCommit { task, producer } = txn;
    producer
        .producer
        .commit_transaction(TIMEOUT)
        .map_err(|e| EngineError::external("committing a Kafka transaction", e))?;
    Ok((task, producer))
}

/// Re-exported for the format: builds a sink from a context.
pub fn create_sink(ctx: &SinkContext) -> Result<Arc<dyn Sink>> {
    Ok(Arc::new(KafkaSink::new(ctx)?))
}
