//! Scenario 3: Kafka -> nested JSON (`from_json`) -> one row per item (`explode`) ->
//! aggregate.
//!
//!   cargo run -p engine-cli --example kafka_explode_aggregate
//!
//! Streaming aggregation (`groupBy` on a stream, in update or complete mode) needs the state
//! store, which this engine does not have yet (it comes with the windows issue): starting
//! such a query is refused with a clear message, shown below. So the aggregate is computed
//! per micro-batch in `foreach_batch`, with a batch `GROUP BY` over each batch, and the
//! program merges the per-batch results itself. (In Spark you would write
//! `items.groupBy("country").agg(...).writeStream.outputMode("update")`.)
//!
//! Needs nothing installed (an in-process Kafka-protocol broker). `cargo test --examples`
//! runs it: the merged totals must equal a batch aggregate over the whole topic.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use anyhow::{Result, anyhow, bail, ensure};
use arrow::array::{RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use engine_cli::generate::{EVENT_SCHEMA, EventOptions, event_lines};
use engine_kafka::testing::EmbeddedBroker;
use engine_sql::dataframe::DataFrame;
use engine_sql::session::Session;
use engine_sql::streaming::Trigger;

/// country -> (items, total quantity), merged over the micro-batches.
type Totals = BTreeMap<String, (i64, i64)>;

fn main() -> Result<()> {
    engine_kafka::register();
    let broker = EmbeddedBroker::start()?;
    let servers = broker.bootstrap_servers();
    broker.create_topic("orders", 3)?;
    let spark = Session::builder()
        .app_name("kafka_explode_aggregate")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .build()?;

    // 1000 nested order events (a few malformed) into `orders`, one JSON document a record.
    let lines: Vec<String> = event_lines(&EventOptions {
        events: 1000,
        ..EventOptions::default()
    })
    .collect();
    let schema = Arc::new(Schema::new(vec![Field::new("value", DataType::Utf8, true)]));
    let batch = RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(lines))])?;
    spark
        .create_dataframe(vec![batch])?
        .write()
        .format("kafka")
        .option("kafka.bootstrap.servers", &servers)
        .option("topic", "orders")
        .mode("append")
        .save_no_path()?;

    // The stream: bytes -> STRUCT -> one row per item.
    let orders = spark
        .read_stream()
        .format("kafka")
        .option("kafka.bootstrap.servers", &servers)
        .option("subscribe", "orders")
        .option("startingOffsets", "earliest")
        // Several micro-batches, to show the per-batch merge.
        .option("maxOffsetsPerTrigger", "300")
        .load()?;
    orders.create_or_replace_temp_view("orders")?;
    let items = spark.sql(&format!(
        "SELECT o.user.country AS country, item.sku AS sku, item.qty AS qty, item.price AS price \
         FROM (SELECT from_json(CAST(value AS STRING), '{EVENT_SCHEMA}') AS o FROM orders) \
         LATERAL VIEW explode(o.items) t AS item"
    ))?;
    items.create_or_replace_temp_view("items")?;

    // What Spark would run, refused until the state store exists.
    match spark
        .sql("SELECT country, count(*) AS items FROM items GROUP BY country")?
        .write_stream()
        .format("console")
        .output_mode_str("update")
        .start()
    {
        Err(e) => println!("streaming GROUP BY is refused for now:\n  {e}\n"),
        Ok(q) => {
            q.stop()?;
            println!("streaming GROUP BY is supported now: this example could use it\n");
        }
    }

    let checkpoint = tempfile::tempdir()?;
    let totals: Arc<Mutex<Totals>> = Arc::default();
    let sink_totals = Arc::clone(&totals);
    let query = items
        .write_stream()
        .foreach_batch(move |batch: DataFrame, batch_id: u64| {
            // A batch query over this micro-batch's rows.
            batch.create_or_replace_temp_view("items_batch")?;
            let per_country = batch
                .session()
                .sql("SELECT country, count(*) AS items, sum(qty) AS qty FROM items_batch GROUP BY country")?;
            let rows = per_country.collect_rows()?;
            println!("batch {batch_id}: {} countries", rows.len());
            let mut totals = sink_totals
                .lock()
                .map_err(|_| engine_core::EngineError::execution("EXAMPLE", "lock poisoned"))?;
            for r in rows {
                let text: Vec<String> = r.values.iter().map(|v| v.to_string()).collect();
                let n: i64 = text[1].parse().unwrap_or(0);
                let q: i64 = text[2].parse().unwrap_or(0);
                let e = totals.entry(text[0].clone()).or_default();
                e.0 += n;
                e.1 += q;
            }
            Ok(())
        })
        .option("checkpointLocation", checkpoint.path().to_string_lossy())
        .trigger(Trigger::AvailableNow)
        .start()?;
    query.await_termination(None)?;
    if let Some(e) = query.exception() {
        bail!("the query failed: {e}");
    }
    let batches = query.recent_progress().len();
    ensure!(
        batches >= 4,
        "1000 records at 300 per trigger: {batches} batches"
    );

    // The same aggregate as one batch query over the whole topic.
    spark
        .read()
        .format("kafka")
        .option("kafka.bootstrap.servers", &servers)
        .option("subscribe", "orders")
        .load_no_path()?
        .create_or_replace_temp_view("orders_all")?;
    let expected: Totals = spark
        .sql(&format!(
            "SELECT country, count(*), sum(qty) FROM ( \
               SELECT o.user.country AS country, item.qty AS qty \
               FROM (SELECT from_json(CAST(value AS STRING), '{EVENT_SCHEMA}') AS o FROM orders_all) \
               LATERAL VIEW explode(o.items) t AS item) \
             GROUP BY country"
        ))?
        .collect_rows()?
        .iter()
        .map(|r| {
            let t: Vec<String> = r.values.iter().map(|v| v.to_string()).collect();
            Ok((t[0].clone(), (t[1].parse()?, t[2].parse()?)))
        })
        .collect::<Result<_>>()?;
    let got = totals.lock().map_err(|_| anyhow!("lock poisoned"))?.clone();
    println!("\ncountry  items  qty");
    for (c, (n, q)) in &got {
        println!("{c:<8} {n:>5}  {q:>4}");
    }
    ensure!(!got.is_empty(), "no items aggregated");
    ensure!(
        got == expected,
        "merged per-batch totals differ from the batch aggregate: {got:?} vs {expected:?}"
    );
    println!("kafka_explode_aggregate: {batches} micro-batches merged: OK");
    Ok(())
}
