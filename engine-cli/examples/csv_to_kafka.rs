//! Scenario 1: a CSV file to Kafka as JSON, a batch write with a key column, then the topic
//! read back in batch.
//!
//!   cargo run -p engine-cli --example csv_to_kafka
//!
//! Spark's equivalent:
//!
//! ```python
//! df = spark.read.option("header", True).option("inferSchema", True).csv("orders.csv")
//! (df.selectExpr("CAST(order_id AS STRING) AS key", "to_json(struct(*)) AS value")
//!    .write.format("kafka").option("kafka.bootstrap.servers", servers)
//!    .option("topic", "orders").save())
//! spark.read.format("kafka").option("subscribe", "orders").load()
//! ```
//!
//! Needs nothing installed: it starts an in-process Kafka-protocol broker. `cargo test
//! --examples` runs it too; it checks what it read back and exits non-zero on a wrong result.

use anyhow::{Result, ensure};
use engine_kafka::testing::EmbeddedBroker;
use engine_sql::dataframe::DataFrame;
use engine_sql::session::Session;

const ROWS: u64 = 500;

fn main() -> Result<()> {
    // `format("kafka")` is a plug-in: register it once per process.
    engine_kafka::register();
    let broker = EmbeddedBroker::start()?;
    let servers = broker.bootstrap_servers();
    broker.create_topic("orders", 3)?;

    let dir = tempfile::tempdir()?;
    let csv = dir.path().join("orders.csv");
    // order_id,ts,user_id,country,sku,qty,price,store_id
    engine_cli::generate::write_orders_csv(&csv, ROWS, 7)?;

    let spark = Session::builder()
        .app_name("csv_to_kafka")
        .config("spark.sql.session.timeZone", "UTC")
        .build()?;
    let orders = spark
        .read()
        .format("csv")
        .option("header", "true")
        .option("inferSchema", "true")
        .load(&csv.to_string_lossy())?;
    orders.print_schema()?;

    // The Kafka sink takes `key` and `value` columns (STRING or BINARY); the key picks the
    // partition (murmur2, as Kafka's Java client), so one order's records stay in order.
    let records = orders.select_expr(&[
        "CAST(order_id AS STRING) AS key",
        "to_json(struct(*)) AS value",
    ])?;
    records
        .write()
        .format("kafka")
        .option("kafka.bootstrap.servers", &servers)
        .option("topic", "orders")
        .mode("append")
        .save_no_path()?;

    // Read the topic back in batch: key, value, topic, partition, offset, timestamp, ...
    let topic = spark
        .read()
        .format("kafka")
        .option("kafka.bootstrap.servers", &servers)
        .option("subscribe", "orders")
        .load_no_path()?;
    topic.create_or_replace_temp_view("orders_topic")?;
    spark
        .sql("SELECT CAST(key AS STRING) AS key, CAST(value AS STRING) AS value, partition, offset FROM orders_topic")?
        .show(3, 0)?;

    // Every CSV row arrived exactly once, under its key, as its to_json text.
    let mut sent = strings(&records)?;
    let mut got = strings(&spark.sql(
        "SELECT CAST(key AS STRING) AS key, CAST(value AS STRING) AS value FROM orders_topic",
    )?)?;
    sent.sort();
    got.sort();
    ensure!(sent.len() == ROWS as usize, "{} rows sent", sent.len());
    ensure!(got == sent, "the topic does not hold the CSV rows");

    // The key decides the partition: one key, one partition; and all 3 partitions got rows.
    let per_key = spark.sql(
        "SELECT max(n) FROM (SELECT key, count(DISTINCT partition) AS n FROM orders_topic GROUP BY key)",
    )?;
    let partitions = spark.sql("SELECT count(DISTINCT partition) FROM orders_topic")?;
    let row = (strings(&per_key)?, strings(&partitions)?);
    ensure!(
        row == (vec!["1".into()], vec!["3".into()]),
        "partitioning by key: {row:?}"
    );

    // The values parse back into the CSV's columns and types.
    let back = spark.sql(
        "SELECT sum(o.qty) AS qty, count(o.ts) AS with_ts FROM (SELECT from_json(CAST(value AS STRING), \
         'order_id STRING, ts TIMESTAMP, user_id STRING, country STRING, sku STRING, qty INT, price DOUBLE, store_id INT') AS o FROM orders_topic)",
    )?;
    orders.create_or_replace_temp_view("orders_csv")?;
    let expected = spark.sql("SELECT sum(qty) AS qty, count(ts) AS with_ts FROM orders_csv")?;
    ensure!(
        strings(&back)? == strings(&expected)?,
        "from_json(value) does not give back the CSV's values"
    );
    println!("csv_to_kafka: {ROWS} CSV rows written to `orders` as JSON and read back: OK");
    Ok(())
}

/// The rows of `df` as `a|b|c` text (Spark's display of each value), for comparisons.
fn strings(df: &DataFrame) -> Result<Vec<String>> {
    Ok(df.collect_rows()?.iter().map(|r| r.join("|")).collect())
}
