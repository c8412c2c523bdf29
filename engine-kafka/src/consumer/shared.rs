//! One long-lived consumer per streaming query with every partition of the query assigned
//! once, each partition read from its own queue.
//!
//! Reassigning pooled consumers from partition to partition made every task of a micro-batch
//! wait for its partition's first fetch (2-8 ms each, 64 tasks: most of a 260-350 ms trigger
//! over 64 partitions). Here the fetcher keeps every partition of the query fetched: one fetch
//! request covers them all, records arrive while the previous batch runs, and a task finds
//! its range already queued. The queues are librdkafka's per-partition queues
//! (`rd_kafka_queue_get_partition`, taken out of the consumer's queue), so tasks of different
//! partitions read in parallel without seeing each other's records.
//!
//! A partition's queue (a [`PartitionSlot`]) is lent to one task at a time; a task whose
//! partition is lent out already (`minPartitions` splits running side by side) reads through
//! the [`ConsumerPool`](super::ConsumerPool) instead. A task reads exactly `[from, until)`:
//! records prefetched past `until` stay queued for the next batch, and a slot positioned
//! elsewhere (a replay, a split read out of order) is moved with a seek, which drops what was
//! prefetched.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use engine_core::{EngineError, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use super::batch_poll::BatchPoller;
use super::{at_offset, client_config, client_error};
use crate::offsets::TopicPartition;

/// How long a seek may take before the read fails.
const SEEK_TIMEOUT: Duration = Duration::from_secs(30);

/// Prefetch bound per assigned partition, in KiB (`queued.max.messages.kbytes`), unless the
/// user set one. librdkafka's 64 MiB applies to each partition queue once they are split off
/// the consumer's queue, so a query over 64 partitions that is behind could hold 4 GiB; 4 MiB
/// each is ~36k records of 110 bytes, refilled within `fetch.queue.backoff.ms`.
const PREFETCH_KIB: &str = "4096";

/// librdkafka's default `fetch.max.bytes` (50 MiB). Set explicitly because librdkafka
/// otherwise lowers it to `queued.max.messages.kbytes`, which would make one fetch request
/// carry at most 4 MiB across all partitions.
const FETCH_MAX_BYTES: &str = "52428800";

/// One assigned partition's queue and where it stands.
pub(super) struct PartitionSlot {
    /// Which of the shared consumer's clients the partition is assigned to.
    pub(super) member: usize,
    /// The partition's own queue; it also holds records taken past the last range's end.
    pub(super) poller: BatchPoller,
    /// The offset of the next record the queue hands out, `None` when unknown (after an
    /// error): the next read seeks first.
    pub(super) next_offset: Option<i64>,
}

/// The query's consumer: every partition the query reads is assigned to it (see the module
/// docs). Shared by the source and the tasks of its batches through an `Arc`; the client is
/// closed when the last holder lets go.
pub struct SharedConsumer {
    /// Every assigned partition, with its slot unless lent to a task. Declared before
    /// `members` so the queues are released before the clients are destroyed.
    slots: Mutex<HashMap<TopicPartition, Assigned>>,
    /// The clients; each partition is assigned to one of them.
    members: Vec<BaseConsumer>,
}

/// An assigned partition: its client, and its slot unless lent to a task.
struct Assigned {
    member: usize,
    slot: Option<PartitionSlot>,
}

/// `params` with the per-partition prefetch bounded ([`PREFETCH_KIB`]) unless the user set
/// `queued.max.messages.kbytes`.
fn prefetch_bounded(params: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut params = params.clone();
    if !params.contains_key("queued.max.messages.kbytes") {
        params.insert("queued.max.messages.kbytes".into(), PREFETCH_KIB.into());
        params
            .entry("fetch.max.bytes".into())
            .or_insert_with(|| FETCH_MAX_BYTES.into());
    }
    params
}

impl std::fmt::Debug for SharedConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedConsumer")
            .field("assigned", &self.assigned().len())
            .finish()
    }
}

impl SharedConsumer {
    /// A consumer of `members` clients made from `params` (see [`super::executor_params`]),
    /// nothing assigned yet. Partitions are spread over the clients: each has its own
    /// connection and fetcher thread, and one fetcher alone could not keep up with a
    /// catch-up read over many partitions.
    pub fn new(params: &BTreeMap<String, String>, members: usize) -> Result<Arc<SharedConsumer>> {
        let params = prefetch_bounded(params);
        let members = (0..members.max(1))
            .map(|_| {
                client_config(&params)
                    .create()
                    .map_err(|e| client_error("creating a Kafka consumer", e))
            })
            .collect::<Result<Vec<BaseConsumer>>>()?;
        Ok(Arc::new(SharedConsumer {
            slots: Mutex::new(HashMap::new()),
            members,
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TopicPartition, Assigned>> {
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The partitions assigned now, sorted.
    pub fn assigned(&self) -> Vec<TopicPartition> {
        let mut out: Vec<TopicPartition> = self.lock().keys().cloned().collect();
        out.sort();
        out
    }

    /// Makes the assignment exactly `positions`' partitions: new ones are assigned at their
    /// offset (fetching starts at once), ones no longer wanted (a deleted topic or partition,
    /// a topic that stopped matching) are unassigned. Partitions already assigned keep their
    /// position and what they prefetched.
    pub fn sync(&self, positions: &BTreeMap<TopicPartition, i64>) -> Result<()> {
        let mut slots = self.lock();
        let mut unassign: Vec<TopicPartitionList> = self
            .members
            .iter()
            .map(|_| TopicPartitionList::new())
            .collect();
        slots.retain(|tp, a| {
            let keep = positions.contains_key(tp);
            if !keep && let Some(list) = unassign.get_mut(a.member) {
                list.add_partition(&tp.topic, tp.partition);
            }
            // A slot lent out is dropped when given back (it is no longer in the map).
            keep
        });
        for (c, list) in self.members.iter().zip(&unassign) {
            if list.count() > 0 {
                c.incremental_unassign(list)
                    .map_err(|e| EngineError::external("unassigning Kafka partitions", e))?;
            }
        }
        let mut load = vec![0usize; self.members.len()];
        for a in slots.values() {
            if let Some(n) = load.get_mut(a.member) {
                *n += 1;
            }
        }
        let mut assign: Vec<TopicPartitionList> = self
            .members
            .iter()
            .map(|_| TopicPartitionList::new())
            .collect();
        let mut added = Vec::new();
        for (tp, offset) in positions {
            if slots.contains_key(tp) {
                continue;
            }
            // The least loaded client takes it.
            let member = (0..load.len()).min_by_key(|i| load[*i]).unwrap_or(0);
            let (Some(client), Some(list), Some(n)) = (
                self.members.get(member),
                assign.get_mut(member),
                load.get_mut(member),
            ) else {
                continue;
            };
            *n += 1;
            // The queue is split off before the partition is assigned, so no record of it
            // reaches the consumer's queue.
            let poller =
                BatchPoller::for_partition(client, &tp.topic, tp.partition).ok_or_else(|| {
                    EngineError::execution(
                        "KAFKA_CONSUMER_QUEUE",
                        format!("librdkafka gave no queue for partition {tp}"),
                    )
                })?;
            list.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*offset))
                .map_err(|e| EngineError::external("assigning a Kafka partition", e))?;
            added.push((
                tp.clone(),
                PartitionSlot {
                    member,
                    poller,
                    next_offset: Some(*offset),
                },
            ));
        }
        for (c, list) in self.members.iter().zip(&assign) {
            if list.count() > 0 {
                c.incremental_assign(list)
                    .map_err(|e| EngineError::external("assigning Kafka partitions", e))?;
            }
        }
        for (tp, slot) in added {
            slots.insert(
                tp,
                Assigned {
                    member: slot.member,
                    slot: Some(slot),
                },
            );
        }
        drop(slots);
        self.drain_events();
        Ok(())
    }

    /// Serves the consumer's own queue, which only carries client-level events once every
    /// partition has its own queue (errors such as a lost broker connection, which
    /// librdkafka retries by itself); without it they would pile up.
    fn drain_events(&self) {
        for c in &self.members {
            for _ in 0..1024 {
                match c.poll(Duration::ZERO) {
                    None => break,
                    Some(Err(e)) => eprintln!("WARN kafka source: consumer event: {e}"),
                    Some(Ok(_)) => {}
                }
            }
        }
    }

    /// Lends `tp`'s slot to a task, unless it is not assigned or lent out already.
    pub(super) fn take(&self, tp: &TopicPartition) -> Option<PartitionSlot> {
        self.lock().get_mut(tp).and_then(|a| a.slot.take())
    }

    /// Takes back a slot lent by [`Self::take`]; dropped if the partition was unassigned
    /// meanwhile.
    pub(super) fn give_back(&self, tp: &TopicPartition, slot: PartitionSlot) {
        let mut slots = self.lock();
        if let Some(entry) = slots.get_mut(tp) {
            entry.slot = Some(slot);
        }
    }

    /// Moves `tp`'s fetch position to `offset`, dropping what was prefetched: a seek, or,
    /// where librdkafka refuses one (its fetcher stopped after an error), the partition is
    /// assigned afresh.
    pub(super) fn seek(
        &self,
        slot: &mut PartitionSlot,
        tp: &TopicPartition,
        offset: i64,
    ) -> Result<()> {
        slot.poller.clear();
        slot.next_offset = None;
        let client = self.consumer(slot.member)?;
        if client
            .seek(
                &tp.topic,
                tp.partition,
                Offset::Offset(offset),
                SEEK_TIMEOUT,
            )
            .is_err()
        {
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition(&tp.topic, tp.partition);
            // Not assigned (any more) is fine: it is assigned below.
            let _ = client.incremental_unassign(&tpl);
            client
                .incremental_assign(&at_offset(tp, offset)?)
                .map_err(|e| EngineError::external("assigning a Kafka partition", e))?;
            slot.poller.clear();
        }
        slot.next_offset = Some(offset);
        Ok(())
    }

    /// Client `member` (the one a slot's partition is assigned to), for seeks and watermark
    /// queries.
    pub(super) fn consumer(&self, member: usize) -> Result<&BaseConsumer> {
        self.members.get(member).ok_or_else(|| {
            EngineError::Internal(format!("no Kafka client {member} in the shared consumer"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefetch_is_bounded_per_partition_unless_the_user_set_it() {
        let user = |kv: &[(&str, &str)]| -> BTreeMap<String, String> {
            kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let p = prefetch_bounded(&user(&[("bootstrap.servers", "x")]));
        assert_eq!(p["queued.max.messages.kbytes"], PREFETCH_KIB);
        assert_eq!(p["fetch.max.bytes"], FETCH_MAX_BYTES);
        let p = prefetch_bounded(&user(&[("fetch.max.bytes", "1048576")]));
        assert_eq!(p["fetch.max.bytes"], "1048576");
        let p = prefetch_bounded(&user(&[("queued.max.messages.kbytes", "65536")]));
        assert_eq!(p["queued.max.messages.kbytes"], "65536");
        assert!(!p.contains_key("fetch.max.bytes"));
    }
}
