//! The consumer pool, the streaming source's shared consumer and the sink's acknowledgement
//! wait, against the broker process. In a test binary of its own: the pool is process-wide, so
//! other tests reading in parallel would change its counts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use engine_core::connector::{ReadLimit, Source};
use engine_core::options::Options;
use engine_kafka::consumer::{BATCH_ROWS, ConsumerPool, SPARE_CONSUMERS, repositions};
use engine_kafka::options::SourceOptions;
use engine_kafka::sink::KafkaSink;
use engine_kafka::source::{KafkaSource, batch_partitions};
use engine_kafka::testing::unique_topic;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

/// Held by the tests that count the process-wide pool's consumers, so they do not run side
/// by side.
static POOL_COUNTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn counting() -> std::sync::MutexGuard<'static, ()> {
    POOL_COUNTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A new topic of `partitions` partitions holding `v0..v{rows - 1}`.
fn topic_with(
    prefix: &str,
    partitions: i32,
    rows: usize,
) -> (engine_kafka::broker::BrokerInfo, String) {
    let b = broker();
    let topic = unique_topic(prefix);
    b.create_topic(&topic, partitions).unwrap();
    let sink = KafkaSink::new(&sink_ctx(
        &[("kafka.bootstrap.servers", &b.bootstrap), ("topic", &topic)],
        kv_schema(),
        None,
    ))
    .unwrap();
    write_batch(&sink, 0, &[kv_batch(0..rows)]);
    (b, topic)
}

/// A 12-partition topic holding `v0..v1199`.
fn twelve_partitions(prefix: &str) -> (engine_kafka::broker::BrokerInfo, String) {
    topic_with(prefix, 12, 1200)
}

fn all_values() -> Vec<String> {
    let mut expected: Vec<String> = (0..1200).map(|i| format!("v{i}")).collect();
    expected.sort();
    expected
}

#[test]
fn a_batch_read_shares_a_few_pooled_consumers_across_partitions() {
    let (b, topic) = twelve_partitions("pool");
    let opts = SourceOptions::for_batch(&Options::new([
        ("kafka.bootstrap.servers", b.bootstrap.as_str()),
        ("subscribe", topic.as_str()),
    ]))
    .unwrap();
    let parts = batch_partitions(&opts).unwrap();
    assert_eq!(parts.len(), 12);
    let _counting = counting();
    // Read one after the other, as one worker thread would: the ranges share a few consumers
    // (a just-returned one is passed over for a spare) instead of one per partition.
    let before = ConsumerPool::global().idle_count();
    let mut values = read_values(&parts);
    let made = ConsumerPool::global().idle_count() - before;
    assert!((1..=SPARE_CONSUMERS).contains(&made), "{made} consumers");
    values.sort();
    assert_eq!(values, all_values());
    // The same ranges again still read everything through reassigned consumers.
    assert_eq!(read_values(&parts).len(), 1200);
    assert!(ConsumerPool::global().idle_count() - before <= SPARE_CONSUMERS);
}

#[test]
fn a_streaming_query_reads_every_partition_through_one_consumer_and_stop_closes_it() {
    let (b, topic) = twelve_partitions("shared");
    let dir = tempfile::tempdir().unwrap();
    let opts = SourceOptions::for_stream(&Options::new([
        ("kafka.bootstrap.servers", b.bootstrap.as_str()),
        ("subscribe", topic.as_str()),
        ("startingOffsets", "earliest"),
    ]))
    .unwrap();
    let mut src = KafkaSource::new(opts, dir.path().to_path_buf(), "shared").unwrap();
    let start = src.initial_offset().unwrap();
    let end = src.latest_offset(&start, &ReadLimit::AllAvailable).unwrap();
    let parts = src.plan_partitions(&start, &end).unwrap();
    assert_eq!(parts.len(), 12);
    let _counting = counting();
    let before = ConsumerPool::global().idle_count();
    let mut values = read_values(&parts);
    values.sort();
    assert_eq!(values, all_values());
    // Every range came from the query's own consumer: no pooled consumer was made.
    assert_eq!(ConsumerPool::global().idle_count(), before);
    // A replay of the same ranges seeks back and reads them again.
    assert_eq!(read_values(&parts).len(), 1200);
    assert_eq!(ConsumerPool::global().idle_count(), before);
    src.stop().unwrap();
    drop(parts);
    assert_eq!(ConsumerPool::global().idle_count(), before);
}

#[test]
fn a_range_longer_than_one_arrow_batch_is_read_without_reseeking() {
    let n = 2 * BATCH_ROWS + 100;
    let (b, topic) = topic_with("longrange", 1, n);
    let opts = SourceOptions::for_batch(&Options::new([
        ("kafka.bootstrap.servers", b.bootstrap.as_str()),
        ("subscribe", topic.as_str()),
    ]))
    .unwrap();
    let parts = batch_partitions(&opts).unwrap();
    assert_eq!(parts.len(), 1);
    let _counting = counting();
    let before = repositions();
    let batches: Vec<usize> = parts[0]
        .read()
        .unwrap()
        .map(|b| b.unwrap().num_rows())
        .collect();
    assert_eq!(batches, vec![BATCH_ROWS, BATCH_ROWS, 100]);
    // One assignment at the start: a re-seek between the Arrow batches would drop what the
    // consumer prefetched and wait for a new fetch each time.
    assert_eq!(repositions() - before, 1);
}

#[test]
fn at_least_once_batch_commits_only_after_every_record_is_acknowledged() {
    let b = broker();
    let topic = unique_topic("acks");
    b.create_topic(&topic, 2).unwrap();
    // A long linger keeps records in the producer unless something waits for them.
    let sink = KafkaSink::new(&sink_ctx(
        &[
            ("kafka.bootstrap.servers", &b.bootstrap),
            ("topic", &topic),
            ("kafka.linger.ms", "2000"),
        ],
        kv_schema(),
        None,
    ))
    .unwrap();
    write_batch(&sink, 0, &[kv_batch(0..300), kv_batch(300..500)]);
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &b.bootstrap)
        .set("group.id", "acks-check")
        .create()
        .unwrap();
    let total: i64 = (0..2)
        .map(|p| {
            consumer
                .fetch_watermarks(&topic, p, Duration::from_secs(10))
                .unwrap()
                .1
        })
        .sum();
    assert_eq!(
        total, 500,
        "Sink::commit returned before the broker had the batch"
    );
}
