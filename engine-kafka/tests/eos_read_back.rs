//! How far the exactly-once sink's read-back looks, against the broker process. In a test
//! binary of its own: the scan counter is process-wide.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use engine_core::connector::{Sink, WriterContext};
use engine_kafka::sink::{KafkaSink, read_back_records_scanned};
use engine_kafka::testing::unique_topic;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};

const HISTORY: i64 = 20_000;

fn eos_sink(bootstrap: &str, topic: &str, query: Option<&str>) -> KafkaSink {
    KafkaSink::new(&sink_ctx(
        &[
            ("kafka.bootstrap.servers", bootstrap),
            ("topic", topic),
            ("deliveryGuarantee", "exactly_once"),
        ],
        kv_schema(),
        query,
    ))
    .unwrap()
}

fn write(sink: &KafkaSink, batch_id: u64, timestamp: Option<i64>) {
    let mut w = sink
        .create_writer(WriterContext {
            batch_id,
            partition: 0,
            num_partitions: 1,
            batch_timestamp_ms: timestamp,
        })
        .unwrap();
    w.write(&kv_batch(0..10)).unwrap();
    sink.commit(batch_id, vec![w.commit().unwrap()]).unwrap();
}

fn end_offset(bootstrap: &str, topic: &str) -> i64 {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "read-back-check")
        .create()
        .unwrap();
    c.fetch_watermarks(topic, 0, Duration::from_secs(10))
        .unwrap()
        .1
}

#[test]
fn read_back_stops_at_records_older_than_the_batch_and_batch_writes_skip_it() {
    let b = broker();
    let topic = unique_topic("readback");
    b.create_topic(&topic, 1).unwrap();
    // Someone else's history in the output topic, two hours old.
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", &b.bootstrap)
        .set("linger.ms", "5")
        .create()
        .unwrap();
    let old = now_ms() - 2 * 3600 * 1000;
    for i in 0..HISTORY {
        let v = format!("old-{i}");
        producer
            .send(
                BaseRecord::<str, str>::to(&topic)
                    .payload(&v)
                    .timestamp(old),
            )
            .map_err(|(e, _)| e)
            .unwrap();
    }
    producer.flush(Duration::from_secs(30)).unwrap();
    assert_eq!(end_offset(&b.bootstrap, &topic), HISTORY);

    // The first batch of a new query may be a replay, so it reads back; the history is older
    // than the batch, so one window of it is enough (not all 20k records).
    let query = unique_topic("q");
    let batch_ts = now_ms();
    let before = read_back_records_scanned();
    write(
        &eos_sink(&b.bootstrap, &topic, Some(&query)),
        0,
        Some(batch_ts),
    );
    let scanned = read_back_records_scanned() - before;
    assert!(scanned > 0 && scanned <= 4096, "scanned {scanned} records");
    // 10 records, and a transaction marker where the broker writes one.
    let first_end = end_offset(&b.bootstrap, &topic);
    assert!(
        (HISTORY + 10..=HISTORY + 11).contains(&first_end),
        "{first_end}"
    );

    // A restarted query replays batch 0 with the timestamp the offset log kept: its first
    // attempt's records are newer than that, so the read-back finds them and nothing is sent
    // twice.
    write(
        &eos_sink(&b.bootstrap, &topic, Some(&query)),
        0,
        Some(batch_ts),
    );
    let end = end_offset(&b.bootstrap, &topic);
    // The transaction markers take offsets too; records of the replay would be 10 more.
    assert!(end < HISTORY + 20, "replay wrote again: end offset {end}");
    let values = consume_committed(&b.bootstrap, &topic, 1);
    assert_eq!(
        values.iter().filter(|(v, _)| v.starts_with('v')).count(),
        10
    );

    // A batch write cannot be a replay: no read-back at all.
    let before = read_back_records_scanned();
    write(&eos_sink(&b.bootstrap, &topic, None), 0, None);
    assert_eq!(read_back_records_scanned(), before);
}
