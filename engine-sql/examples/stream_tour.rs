//! The README's streaming tour: a directory of JSON order events -> one row per item ->
//! Parquet, exactly once, with a checkpoint; run twice to see the restart skip what is done.
//!
//! `cargo run -p engine-sql --example stream_tour [EVENTS_DIR OUT_DIR CHECKPOINT_DIR]`
//! (without arguments it makes a small input in a temporary directory and checks the result;
//! the test suite runs it that way).

use engine_sql::prelude::*;

const SCHEMA: &str = "order_id STRING, user STRUCT<id: STRING, country: STRING>, \
items ARRAY<STRUCT<sku: STRING, qty: INT, price: DOUBLE>>, ts TIMESTAMP";

/// Starts the query and runs it until everything available now is processed.
fn run_once(spark: &Session, events: &str, out: &str, checkpoint: &str) -> Result<i64> {
    let query = spark
        .read_stream()
        .format("json")
        .schema_ddl(SCHEMA)?
        .option("maxFilesPerTrigger", 1)
        .load_path(events)?
        .select(vec![
            col("order_id"),
            col("user.country").alias("country"),
            explode(col("items")).alias("item"),
        ])?
        .select_expr(&["order_id", "country", "item.sku AS sku", "item.qty AS qty"])?
        .filter(col("qty").gt(lit(1)))?
        .write_stream()
        .format("parquet")
        .option("checkpointLocation", checkpoint)
        .trigger(Trigger::AvailableNow)
        .start_path(out)?;
    query.await_termination(None)?;
    // Rows this run wrote, from the progress reports Spark users know.
    Ok(query
        .recent_progress()
        .iter()
        .map(|p| p.sink.num_output_rows)
        .sum())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tmp = std::env::temp_dir().join(format!("sstream-stream-tour-{}", std::process::id()));
    let (events, out, checkpoint) = match args.as_slice() {
        [e, o, c] => (e.clone(), o.clone(), c.clone()),
        _ => {
            let dir = tmp.join("events");
            std::fs::create_dir_all(&dir)
                .map_err(|e| EngineError::io(format!("creating {}", dir.display()), e))?;
            for (i, line) in [
                r#"{"order_id":"o-1","user":{"id":"u-1","country":"DE"},"items":[{"sku":"a","qty":2,"price":1.5},{"sku":"b","qty":1,"price":9.0}],"ts":"2026-01-01T10:00:00Z"}"#,
                r#"{"order_id":"o-2","user":{"id":"u-2","country":"FR"},"items":[{"sku":"c","qty":3,"price":2.0}],"ts":"2026-01-01T10:00:05Z"}"#,
            ]
            .iter()
            .enumerate()
            {
                let f = dir.join(format!("events-{i}.json"));
                std::fs::write(&f, format!("{line}\n"))
                    .map_err(|e| EngineError::io(format!("writing {}", f.display()), e))?;
            }
            let s = |p: &str| tmp.join(p).to_string_lossy().into_owned();
            (s("events"), s("out"), s("checkpoint"))
        }
    };
    let spark = Session::builder()
        .app_name("stream-tour")
        .config("spark.sql.session.timeZone", "UTC")
        .build()?;

    let first = run_once(&spark, &events, &out, &checkpoint)?;
    // The restart finds every file in the checkpoint's source log: nothing is read twice.
    let second = run_once(&spark, &events, &out, &checkpoint)?;
    println!("first run wrote {first} rows, the restart wrote {second}");
    spark
        .read()
        .parquet(&out)?
        .order_by(vec![col("order_id").asc(), col("sku").asc()])?
        .show(20, 20)?;

    if args.is_empty() {
        // Run as a test: the two orders have items a (qty 2) and c (qty 3) above 1.
        let kept = spark.read().parquet(&out)?.count()?;
        let _ = std::fs::remove_dir_all(&tmp);
        if (first, second, kept) != (2, 0, 2) {
            return Err(EngineError::Internal(format!(
                "stream_tour: expected 2 rows then 0 and 2 in the output, got {first}, {second}, {kept}"
            )));
        }
    }
    Ok(())
}
