//! Batch DataFrames through engine-sql: the CSV-to-Kafka notebook case (`to_json(struct(*))` as
//! value, a column as key) and `read().format("kafka")` between offsets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use arrow::array::{Array, AsArray};
use common::broker;
use engine_kafka::testing::unique_topic;
use engine_sql::prelude::*;

#[test]
fn csv_to_kafka_and_back_with_batch_dataframes() {
    engine_kafka::register();
    let b = broker();
    let topic = unique_topic("csv");
    b.create_topic(&topic, 2).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("orders.csv");
    let mut text = String::from("order_id,country,amount\n");
    for i in 0..50 {
        text.push_str(&format!("{i},{},{}.5\n", ["DE", "FR"][i % 2], i));
    }
    std::fs::write(&csv, text).unwrap();
    let spark = Session::builder().master("local[2]").build().unwrap();
    let df = spark
        .read()
        .option("header", "true")
        .option("inferSchema", "true")
        .csv(&csv.display().to_string())
        .unwrap();
    df.select_expr(&[
        "CAST(order_id AS STRING) AS key",
        "to_json(struct(*)) AS value",
    ])
    .unwrap()
    .write()
    .format("kafka")
    .option("kafka.bootstrap.servers", &b.bootstrap)
    .option("topic", &topic)
    .save_no_path()
    .unwrap();

    let read = spark
        .read()
        .format("kafka")
        .option("kafka.bootstrap.servers", &b.bootstrap)
        .option("subscribe", &topic)
        .load_no_path()
        .unwrap()
        .select_expr(&[
            "CAST(key AS STRING) AS k",
            "CAST(value AS STRING) AS v",
            "partition",
        ])
        .unwrap();
    let batches = read.collect().unwrap();
    let mut values = Vec::new();
    for batch in &batches {
        let k = batch.column(0).as_string::<i32>();
        let v = batch.column(1).as_string::<i32>();
        for i in 0..batch.num_rows() {
            values.push((k.value(i).to_string(), v.value(i).to_string()));
        }
    }
    values.sort_by_key(|(k, _)| k.parse::<i64>().unwrap());
    assert_eq!(values.len(), 50);
    assert_eq!(values[3].0, "3");
    assert_eq!(values[3].1, r#"{"order_id":3,"country":"FR","amount":3.5}"#);
    // The same key always lands in the same partition (Kafka's murmur2 partitioner).
    let counts = spark
        .read()
        .format("kafka")
        .option("kafka.bootstrap.servers", &b.bootstrap)
        .option("assign", format!(r#"{{"{topic}":[0]}}"#))
        .option("endingOffsets", format!(r#"{{"{topic}":{{"0":5}}}}"#))
        .load_no_path()
        .unwrap()
        .collect()
        .unwrap();
    let n: usize = counts.iter().map(|b| b.num_rows()).sum();
    assert_eq!(n, 5);
    assert!(counts.iter().all(|b| b.column(3).null_count() == 0));

    // Overwrite is refused with Spark's message.
    let e = df
        .select_expr(&["to_json(struct(*)) AS value"])
        .unwrap()
        .write()
        .format("kafka")
        .mode("overwrite")
        .option("kafka.bootstrap.servers", &b.bootstrap)
        .option("topic", &topic)
        .save_no_path()
        .unwrap_err();
    assert!(e.to_string().contains("not allowed for Kafka"), "{e}");
}
