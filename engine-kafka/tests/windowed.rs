//! A windowed aggregation from Kafka to Kafka in Update mode with the exactly-once sink:
//! events (JSON, out of order) are counted per 10-minute window and type with a 10-minute
//! watermark, over two runs of the query on one checkpoint; a read_committed consumer sees
//! every update once, and the last update of each window counts its events that were not late
//! (the second run drops those of windows the first run's watermark closed).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use arrow::array::AsArray;
use common::broker;
use engine_kafka::testing::unique_topic;
use engine_sql::prelude::*;

/// Event `i`: minute `i * 7 % 50` of 2024-01-01 10:00, type `t{i % 3}`.
fn event(i: usize) -> String {
    format!(
        r#"{{"id":{i},"type":"t{}","ts":"2024-01-01T10:{:02}:00Z"}}"#,
        i % 3,
        i * 7 % 50
    )
}

fn produce(spark: &Session, bootstrap: &str, topic: &str, events: std::ops::Range<usize>) {
    let values: Vec<String> = events.map(event).collect();
    let rows: Vec<String> = values
        .iter()
        .map(|v| format!("('{}')", v.replace('\'', "''")))
        .collect();
    spark
        .sql(&format!(
            "SELECT * FROM VALUES {} AS t(value)",
            rows.join(", ")
        ))
        .unwrap()
        .write()
        .format("kafka")
        .option("kafka.bootstrap.servers", bootstrap)
        .option("topic", topic)
        .save_no_path()
        .unwrap();
}

fn run(spark: &Session, bootstrap: &str, input: &str, output: &str, ckpt: &std::path::Path) {
    let q = spark
        .read_stream()
        .format("kafka")
        .option("kafka.bootstrap.servers", bootstrap)
        .option("subscribe", input)
        .option("startingOffsets", "earliest")
        .load()
        .unwrap()
        .select_expr(&[
            "from_json(CAST(value AS STRING), 'id INT, type STRING, ts TIMESTAMP') AS e",
        ])
        .unwrap()
        .select_expr(&["e.type AS type", "e.ts AS ts"])
        .unwrap()
        .with_watermark("ts", "10 minutes")
        .unwrap()
        .group_by(vec![
            engine_sql::functions::dsl::window(col("ts"), "10 minutes", None, None),
            col("type"),
        ])
        .count()
        .unwrap()
        .select_expr(&[
            "CAST(window.start AS STRING) || '/' || type AS key",
            "CAST(count AS STRING) AS value",
        ])
        .unwrap()
        .write_stream()
        .format("kafka")
        .option("kafka.bootstrap.servers", bootstrap)
        .option("topic", output)
        .option("deliveryGuarantee", "exactly_once")
        .option("checkpointLocation", ckpt.display())
        .output_mode(OutputMode::Update)
        .trigger(Trigger::AvailableNow)
        .start()
        .unwrap();
    q.await_termination(None).unwrap();
}

#[test]
fn windowed_counts_from_kafka_to_kafka_exactly_once_in_update_mode() {
    engine_kafka::register();
    let b = broker();
    let input = unique_topic("win-in");
    let output = unique_topic("win-out");
    b.create_topic(&input, 3).unwrap();
    b.create_topic(&output, 2).unwrap();
    let spark = Session::builder()
        .master("local[2]")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .build()
        .unwrap();
    let ckpt = tempfile::tempdir().unwrap();
    produce(&spark, &b.bootstrap, &input, 0..30);
    run(&spark, &b.bootstrap, &input, &output, ckpt.path());
    produce(&spark, &b.bootstrap, &input, 30..60);
    run(&spark, &b.bootstrap, &input, &output, ckpt.path());

    // Every update as committed, in offset order per key's partition.
    let updates = spark
        .read()
        .format("kafka")
        .option("kafka.bootstrap.servers", &b.bootstrap)
        .option("subscribe", &output)
        .option("kafka.isolation.level", "read_committed")
        .load_no_path()
        .unwrap()
        .select_expr(&[
            "CAST(key AS STRING) AS k",
            "CAST(value AS STRING) AS v",
            "partition",
            "offset",
        ])
        .unwrap()
        .collect()
        .unwrap();
    let mut seen: Vec<(i64, i64, String, i64)> = Vec::new();
    for batch in &updates {
        let k = batch.column(0).as_string::<i32>();
        let v = batch.column(1).as_string::<i32>();
        let p = batch
            .column(2)
            .as_primitive::<arrow::datatypes::Int32Type>();
        let o = batch
            .column(3)
            .as_primitive::<arrow::datatypes::Int64Type>();
        for i in 0..batch.num_rows() {
            seen.push((
                p.value(i) as i64,
                o.value(i),
                k.value(i).to_string(),
                v.value(i).parse().unwrap(),
            ));
        }
    }
    seen.sort();
    let mut last: BTreeMap<String, i64> = BTreeMap::new();
    for (_, _, k, v) in &seen {
        // Counts only grow: a duplicate or replayed update never goes back.
        let before = last.insert(k.clone(), *v);
        assert!(before.is_none_or(|b| b < *v), "{k}: {before:?} then {v}");
    }
    // The last update of each window is its count of events that were not late. The first
    // run reads events 0..30 in one batch (nothing is late: no watermark yet) and leaves the
    // watermark at their max event time, 10:49, minus 10 minutes = 10:39; the second run drops
    // its events of windows that ended by then (10:00, 10:10, 10:20) and counts the rest.
    let mut want: BTreeMap<String, i64> = BTreeMap::new();
    for i in 0..60 {
        let minute = i * 7 % 50;
        if i >= 30 && minute / 10 * 10 + 10 <= 39 {
            continue;
        }
        let key = format!("2024-01-01 10:{:02}:00/t{}", minute / 10 * 10, i % 3);
        *want.entry(key).or_default() += 1;
    }
    assert_eq!(last, want);
}
