//! The local broker process answers real Kafka clients: produce, then consume the same records.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use engine_kafka::testing::{EmbeddedBroker, shared_broker, unique_topic};
use rdkafka::consumer::Consumer;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Message};

fn round_trip(bootstrap: &str, topic: &str, partitions: i32) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", "true")
        .create()
        .unwrap();
    for i in 0..100 {
        let key = format!("k{i}");
        let value = format!("v{i}");
        producer
            .send(
                BaseRecord::to(topic)
                    .key(&key)
                    .payload(&value)
                    .partition(i % partitions),
            )
            .unwrap();
    }
    producer.flush(Duration::from_secs(10)).unwrap();

    let consumer =
        engine_kafka::testing::consumer_from_beginning(bootstrap, topic, partitions, &[]).unwrap();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.len() < 100 && Instant::now() < deadline {
        if let Some(msg) = consumer.poll(Duration::from_millis(200)) {
            let msg = msg.unwrap();
            seen.push(String::from_utf8(msg.payload().unwrap().to_vec()).unwrap());
        }
    }
    seen.sort();
    let mut expected: Vec<String> = (0..100).map(|i| format!("v{i}")).collect();
    expected.sort();
    assert_eq!(seen, expected);
    for p in 0..partitions {
        let (lo, hi) = consumer
            .fetch_watermarks(topic, p, Duration::from_secs(10))
            .unwrap();
        assert_eq!(
            (lo, hi),
            (
                0,
                (100 / partitions + i32::from(p < 100 % partitions)) as i64
            )
        );
    }
}

#[test]
fn shared_broker_process_round_trip() {
    let broker = shared_broker(env!("CARGO_BIN_EXE_sstream-broker")).unwrap();
    assert!(broker.bootstrap.starts_with("127.0.0.1:"));
    let topic = unique_topic("roundtrip");
    broker.create_topic(&topic, 3).unwrap();
    // Creating it again is a no-op, not an error.
    broker.create_topic(&topic, 3).unwrap();
    round_trip(&broker.bootstrap, &topic, 3);
}

#[test]
fn embedded_broker_round_trip() {
    let broker = EmbeddedBroker::start().unwrap();
    broker.create_topic("t", 2).unwrap();
    let err = broker.create_topic("t", 2).unwrap_err();
    assert_eq!(err.error_class(), Some("KAFKA_TOPIC_ALREADY_EXISTS"));
    round_trip(&broker.bootstrap_servers(), "t", 2);
}
