//! The streaming source's shared consumer against the broker process: every batch reads
//! exactly its planned offset ranges (a property test over batch shapes, replays, splits and
//! task orders), and the assignment follows partitions that appear and disappear.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use arrow::array::AsArray;
use arrow::datatypes::{Int32Type, Int64Type};
use common::*;
use engine_core::connector::{InputPartition, ReadLimit, Source};
use engine_core::options::Options;
use engine_kafka::offsets::{PartitionOffsets, TopicPartition, from_offset, to_offset};
use engine_kafka::options::SourceOptions;
use engine_kafka::source::{KafkaSource, SHARED_RANGE_LIMIT};
use engine_kafka::testing::unique_topic;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rdkafka::ClientConfig;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};

/// Writes `count` records to each of `partitions` partitions of `topic`, valued
/// `"<topic>/<partition>/<offset>"` (the topic is empty before, so offsets start at 0).
fn fill(bootstrap: &str, topic: &str, partitions: i32, from: usize, count: usize) {
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "1")
        .set("log_level", "3")
        .create()
        .unwrap();
    for p in 0..partitions {
        for o in from..from + count {
            let value = format!("{topic}/{p}/{o}");
            producer
                .send(
                    BaseRecord::<str, str>::to(topic)
                        .partition(p)
                        .payload(&value),
                )
                .map_err(|(e, _)| e)
                .unwrap();
        }
    }
    producer.flush(Duration::from_secs(30)).unwrap();
}

fn source(bootstrap: &str, extra: &[(&str, &str)], dir: &std::path::Path) -> KafkaSource {
    let mut options = vec![
        ("kafka.bootstrap.servers", bootstrap),
        ("startingOffsets", "earliest"),
    ];
    options.extend_from_slice(extra);
    let opts = SourceOptions::for_stream(&Options::new(options)).unwrap();
    KafkaSource::new(opts, dir.to_path_buf(), "shared-test").unwrap()
}

/// (topic, partition, offset, value) of one record read.
type Read = (String, i32, i64, String);

/// Reads `parts` in `order` on `threads` threads (each takes the next task in `order`), as the
/// worker pool does.
fn read_tasks(parts: &[Arc<dyn InputPartition>], order: &[usize], threads: usize) -> Vec<Read> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let out = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&task) = order.get(i) else { return };
                    for b in parts[task].read().unwrap() {
                        let b = b.unwrap();
                        let values = b.column(1).as_binary::<i32>();
                        let topics = b.column(2).as_string::<i32>();
                        let partitions = b.column(3).as_primitive::<Int32Type>();
                        let offsets = b.column(4).as_primitive::<Int64Type>();
                        let mut got = out.lock().unwrap();
                        for r in 0..b.num_rows() {
                            got.push((
                                topics.value(r).to_string(),
                                partitions.value(r),
                                offsets.value(r),
                                String::from_utf8(values.value(r).to_vec()).unwrap(),
                            ));
                        }
                    }
                }
            });
        }
    });
    let mut got = out.into_inner().unwrap();
    got.sort();
    got
}

/// Every record of `[start, end)`, as [`fill`] wrote it.
fn expected(start: &PartitionOffsets, end: &PartitionOffsets) -> Vec<Read> {
    let mut out = Vec::new();
    for (tp, until) in end {
        let from = start.get(tp).copied().unwrap_or(0);
        for o in from..*until {
            out.push((
                tp.topic.clone(),
                tp.partition,
                o,
                format!("{}/{}/{o}", tp.topic, tp.partition),
            ));
        }
    }
    out.sort();
    out
}

/// One batch of a property-test case: how far each partition advances (mostly a few
/// offsets, sometimes more than `SHARED_RANGE_LIMIT`), whether the batch is read twice (a
/// replay), and the task order's seed.
#[derive(Debug, Clone)]
struct Step {
    advance: Vec<i64>,
    replay: bool,
    shuffle: u64,
}

const PARTITIONS: i32 = 6;
/// More than `SHARED_RANGE_LIMIT`, so some ranges are read through the consumer pool and
/// their partitions leave the shared consumer and come back.
const RECORDS: usize = SHARED_RANGE_LIMIT as usize + 800;

fn steps() -> impl Strategy<Value = (bool, Vec<Step>)> {
    let advance = prop_oneof![
        6 => 0i64..12,
        1 => SHARED_RANGE_LIMIT - 2..SHARED_RANGE_LIMIT + 400,
    ];
    let step = (
        proptest::collection::vec(advance, PARTITIONS as usize),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|(advance, replay, shuffle)| Step {
            advance,
            replay,
            shuffle,
        });
    (any::<bool>(), proptest::collection::vec(step, 1..6))
}

/// A permutation of `0..n` from `seed` (a small xorshift shuffle).
fn order(n: usize, seed: u64) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    let mut x = seed | 1;
    for i in (1..n).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.swap(i, (x % (i as u64 + 1)) as usize);
    }
    v
}

#[test]
fn every_batch_reads_exactly_its_planned_offsets() {
    let b = broker();
    let topic = unique_topic("exact");
    b.create_topic(&topic, PARTITIONS).unwrap();
    fill(&b.bootstrap, &topic, PARTITIONS, 0, RECORDS);
    let dir = tempfile::tempdir().unwrap();
    // Two long-lived sources, as two queries: one task per partition, and every range split
    // into several tasks (`minPartitions`), which run side by side on two threads.
    let whole = source(
        &b.bootstrap,
        &[("subscribe", &topic)],
        &dir.path().join("a"),
    );
    let split = source(
        &b.bootstrap,
        &[("subscribe", &topic), ("minPartitions", "20")],
        &dir.path().join("b"),
    );
    // Each source's position carries over from case to case (what a replay after a restart
    // or an earlier case left prefetched must never leak into a later range).
    // (The runner takes a `Fn`, hence the cells.)
    let sources = [
        std::cell::RefCell::new(whole),
        std::cell::RefCell::new(split),
    ];
    let at: [std::cell::RefCell<PartitionOffsets>; 2] = Default::default();
    let tps: Vec<TopicPartition> = (0..PARTITIONS)
        .map(|p| TopicPartition::new(&topic, p))
        .collect();
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&steps(), |(use_split, steps)| {
            let which = usize::from(use_split);
            let mut src = sources[which].borrow_mut();
            let mut at = at[which].borrow_mut();
            for step in steps {
                let start: PartitionOffsets = tps
                    .iter()
                    .map(|tp| {
                        let o = at.get(tp).copied().unwrap_or(0);
                        // Past the end: start over from a random earlier point (a replay
                        // of old offsets).
                        let o = if o >= RECORDS as i64 { o % 7 } else { o };
                        (tp.clone(), o)
                    })
                    .collect();
                let end: PartitionOffsets = start
                    .iter()
                    .zip(&step.advance)
                    .map(|((tp, o), a)| (tp.clone(), (o + a).min(RECORDS as i64)))
                    .collect();
                let parts = src
                    .plan_partitions(&to_offset(&start), &to_offset(&end))
                    .unwrap();
                // Partitions with a small range are read from the shared consumer; one with a
                // large range leaves it (its tasks use pooled consumers).
                let small: Vec<TopicPartition> = tps
                    .iter()
                    .filter(|tp| end[*tp] - start[*tp] <= SHARED_RANGE_LIMIT)
                    .cloned()
                    .collect();
                prop_assert_eq!(src.shared_consumer().map(|c| c.assigned()), Some(small));
                let want = expected(&start, &end);
                let task_order = order(parts.len(), step.shuffle);
                prop_assert_eq!(&read_tasks(&parts, &task_order, 2), &want);
                if step.replay {
                    prop_assert_eq!(&read_tasks(&parts, &task_order, 1), &want);
                }
                *at = end;
            }
            Ok(())
        })
        .unwrap();
    let [whole, split] = sources.map(std::cell::RefCell::into_inner);
    for mut s in [whole, split] {
        s.stop().unwrap();
    }
}

/// Plans and reads the next batch of `src` from `start` (all available); returns its end and
/// what was read.
fn next_batch(src: &mut KafkaSource, start: &PartitionOffsets) -> (PartitionOffsets, Vec<Read>) {
    let end = src
        .latest_offset(&to_offset(start), &ReadLimit::AllAvailable)
        .unwrap();
    let parts = src.plan_partitions(&to_offset(start), &end).unwrap();
    let order: Vec<usize> = (0..parts.len()).collect();
    (from_offset(&end).unwrap(), read_tasks(&parts, &order, 2))
}

fn assigned(src: &KafkaSource) -> BTreeSet<TopicPartition> {
    src.shared_consumer()
        .map(|c| c.assigned().into_iter().collect())
        .unwrap_or_default()
}

fn partitions_of(topic: &str, n: i32) -> BTreeSet<TopicPartition> {
    (0..n).map(|p| TopicPartition::new(topic, p)).collect()
}

/// The local broker cannot add partitions to an existing topic (librdkafka's mock cluster
/// has no CreatePartitions), so the partitions are added the other way a subscription grows:
/// a subscribed topic created mid-stream. To the source both are topic-partitions new in the
/// latest offsets, read from offset 0.
#[test]
fn partitions_added_mid_stream_join_the_assignment_from_their_start() {
    let b = broker();
    let first = unique_topic("grow-a");
    let second = format!("{first}-b");
    b.create_topic(&first, 2).unwrap();
    fill(&b.bootstrap, &first, 2, 0, 5);
    let dir = tempfile::tempdir().unwrap();
    let mut src = source(
        &b.bootstrap,
        &[("subscribe", &format!("{first},{second}"))],
        dir.path(),
    );
    let start = from_offset(&src.initial_offset().unwrap()).unwrap();
    let (end, got) = next_batch(&mut src, &start);
    assert_eq!(got, expected(&start, &end));
    assert_eq!(assigned(&src), partitions_of(&first, 2));

    b.create_topic(&second, 3).unwrap();
    fill(&b.bootstrap, &second, 3, 0, 4);
    fill(&b.bootstrap, &first, 2, 5, 2);
    let (end2, got) = next_batch(&mut src, &end);
    assert_eq!(end2.len(), 5);
    assert_eq!(got.len(), 2 * 2 + 3 * 4);
    assert_eq!(got, expected(&end, &end2));
    let mut all = partitions_of(&first, 2);
    all.extend(partitions_of(&second, 3));
    assert_eq!(assigned(&src), all);
    src.stop().unwrap();
}

/// A subscribed topic's partition count grows. The local broker cannot add partitions to a
/// topic, so the growth is shown to the source as a restarted query sees it: the batch before
/// is planned over the first two of the topic's four partitions (as when the topic had two),
/// and the latest offsets then have all four. The new partitions are read from offset 0 and
/// join the assignment beside the partitions of the same topic already assigned.
#[test]
fn a_topic_growing_partitions_mid_stream_reads_the_new_ones_from_offset_zero() {
    let b = broker();
    let topic = unique_topic("grow-count");
    b.create_topic(&topic, 4).unwrap();
    fill(&b.bootstrap, &topic, 4, 0, 5);
    let dir = tempfile::tempdir().unwrap();
    let mut src = source(&b.bootstrap, &[("subscribe", &topic)], dir.path());
    let first_two = |o: i64| -> PartitionOffsets {
        (0..2)
            .map(|p| (TopicPartition::new(&topic, p), o))
            .collect()
    };
    let parts = src
        .plan_partitions(&to_offset(&first_two(0)), &to_offset(&first_two(3)))
        .unwrap();
    assert_eq!(
        read_tasks(&parts, &[0, 1], 2),
        expected(&first_two(0), &first_two(3))
    );
    assert_eq!(assigned(&src), partitions_of(&topic, 2));

    fill(&b.bootstrap, &topic, 4, 5, 2);
    let (end, got) = next_batch(&mut src, &first_two(3));
    let all_at = |o: i64| -> PartitionOffsets {
        (0..4)
            .map(|p| (TopicPartition::new(&topic, p), o))
            .collect()
    };
    assert_eq!(end, all_at(7));
    assert_eq!(got.len(), 2 * 4 + 2 * 7);
    assert_eq!(got, expected(&first_two(3), &end));
    assert_eq!(assigned(&src), partitions_of(&topic, 4));

    // The next batch goes on from there in all four.
    fill(&b.bootstrap, &topic, 4, 7, 1);
    let (end2, got) = next_batch(&mut src, &end);
    assert_eq!(end2, all_at(8));
    assert_eq!(got, expected(&end, &end2));
    src.stop().unwrap();
}

#[test]
fn a_topic_matching_the_pattern_joins_and_a_deleted_one_leaves_without_data_loss_failure() {
    let b = broker();
    let prefix = unique_topic("pattern");
    let (a, c) = (format!("{prefix}-a"), format!("{prefix}-c"));
    b.create_topic(&a, 2).unwrap();
    fill(&b.bootstrap, &a, 2, 0, 3);
    let dir = tempfile::tempdir().unwrap();
    let mut src = source(
        &b.bootstrap,
        &[
            ("subscribePattern", &format!("{prefix}-.*")),
            ("failOnDataLoss", "false"),
        ],
        dir.path(),
    );
    let start = from_offset(&src.initial_offset().unwrap()).unwrap();
    let (end, got) = next_batch(&mut src, &start);
    assert_eq!(got, expected(&start, &end));

    // A new topic matching the pattern: read from its earliest offset, assigned.
    b.create_topic(&c, 2).unwrap();
    fill(&b.bootstrap, &c, 2, 0, 2);
    fill(&b.bootstrap, &a, 2, 3, 1);
    let (end2, got) = next_batch(&mut src, &end);
    assert_eq!(got, expected(&end, &end2));
    assert_eq!(got.len(), 2 + 4);
    let mut both = partitions_of(&a, 2);
    both.extend(partitions_of(&c, 2));
    assert_eq!(assigned(&src), both);

    // `a` is deleted: with failOnDataLoss false the query goes on without it.
    b.delete_topic(&a).unwrap();
    fill(&b.bootstrap, &c, 2, 2, 3);
    let (end3, got) = next_batch(&mut src, &end2);
    assert_eq!(
        end3.keys().cloned().collect::<BTreeSet<_>>(),
        partitions_of(&c, 2)
    );
    assert_eq!(got, expected(&end2, &end3));
    assert_eq!(assigned(&src), partitions_of(&c, 2));
    src.stop().unwrap();
}

#[test]
fn a_deleted_topic_fails_the_batch_when_fail_on_data_loss() {
    let b = broker();
    let prefix = unique_topic("deleted");
    let (a, c) = (format!("{prefix}-a"), format!("{prefix}-c"));
    b.create_topic(&a, 1).unwrap();
    b.create_topic(&c, 1).unwrap();
    fill(&b.bootstrap, &a, 1, 0, 2);
    fill(&b.bootstrap, &c, 1, 0, 2);
    let dir = tempfile::tempdir().unwrap();
    let mut src = source(
        &b.bootstrap,
        &[("subscribe", &format!("{a},{c}"))],
        dir.path(),
    );
    let start = from_offset(&src.initial_offset().unwrap()).unwrap();
    let (end, got) = next_batch(&mut src, &start);
    assert_eq!(got.len(), 4);
    b.delete_topic(&a).unwrap();
    fill(&b.bootstrap, &c, 1, 2, 1);
    let next = src
        .latest_offset(&to_offset(&end), &ReadLimit::AllAvailable)
        .unwrap();
    let err = src.plan_partitions(&to_offset(&end), &next).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("[KAFKA_DATA_LOSS.PARTITIONS_DELETED]"),
        "{text}"
    );
    assert!(text.contains(&format!("{a}-0 are gone")), "{text}");
    assert!(text.contains("failOnDataLoss"), "{text}");
    src.stop().unwrap();
}

/// What a batch read leaves prefetched in the shared consumer never shows up in a later
/// batch of the same source twice, also when the batches come with gaps between them.
#[test]
fn prefetched_records_past_a_range_serve_the_next_batch_once() {
    let b = broker();
    let topic = unique_topic("prefetch");
    b.create_topic(&topic, 1).unwrap();
    fill(&b.bootstrap, &topic, 1, 0, 30);
    let dir = tempfile::tempdir().unwrap();
    let mut src = source(&b.bootstrap, &[("subscribe", &topic)], dir.path());
    let tp = TopicPartition::new(&topic, 0);
    let offsets = |o: i64| -> PartitionOffsets { BTreeMap::from([(tp.clone(), o)]) };
    for (from, until) in [(0, 5), (5, 6), (6, 20), (25, 30), (10, 12), (12, 30)] {
        let parts = src
            .plan_partitions(&to_offset(&offsets(from)), &to_offset(&offsets(until)))
            .unwrap();
        assert_eq!(
            read_tasks(&parts, &[0], 1),
            expected(&offsets(from), &offsets(until)),
            "[{from}, {until})"
        );
    }
    src.stop().unwrap();
}
