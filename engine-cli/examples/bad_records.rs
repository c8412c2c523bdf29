//! Scenario 4: the three bad-record modes, with `from_json` over Kafka values.
//!
//!   cargo run -p engine-cli --example bad_records
//!
//! - PERMISSIVE (the default): every record gives a row; a malformed one keeps what parsed
//!   (fields of the wrong type are NULL) and its raw text goes to `_corrupt_record` when the
//!   schema has that column (`columnNameOfCorruptRecord` renames it).
//! - DROPMALFORMED: malformed records give no row. Spark rejects this mode for `from_json`
//!   (it only has it for file sources); this engine supports it as an extension. How many
//!   were dropped shows in the progress metrics: the source's `numInputRows` minus the
//!   sink's `numOutputRows`.
//! - FAILFAST: the first malformed record stops the query with
//!   `MALFORMED_RECORD_IN_PARSING`, quoting the record.
//!
//! Needs nothing installed (an in-process Kafka-protocol broker). `cargo test --examples`
//! runs it; it exits non-zero on a wrong result.

use anyhow::{Result, bail, ensure};
use engine_kafka::testing::EmbeddedBroker;
use engine_sql::session::Session;
use engine_sql::streaming::{StreamingQuery, Trigger};

const RECORDS: [&str; 5] = [
    r#"{"id":1,"name":"ann"}"#,
    r#"{"id":2,"name":"bob""#,       // truncated
    r#"not json"#,                   // not JSON at all
    r#"{"id":"three","name":"cy"}"#, // valid JSON, but `id` is not an INT
    r#"{"id":4,"name":"dee"}"#,
];

fn main() -> Result<()> {
    engine_kafka::register();
    let broker = EmbeddedBroker::start()?;
    let servers = broker.bootstrap_servers();
    // One partition, so the records are read in the order written.
    broker.create_topic("people", 1)?;
    // One worker thread: the batch write's tasks then run in partition order, so the records
    // land in the topic in the order written and `ORDER BY offset` is that order.
    let spark = Session::builder()
        .app_name("bad_records")
        .master("local[1]")
        .config("spark.sql.session.timeZone", "UTC")
        .build()?;
    let values: Vec<String> = RECORDS.iter().map(|r| sql_string(r)).collect();
    spark
        .sql(&format!(
            "SELECT col AS value FROM VALUES {} AS t(col)",
            values
                .iter()
                .map(|v| format!("({v})"))
                .collect::<Vec<_>>()
                .join(", ")
        ))?
        .write()
        .format("kafka")
        .option("kafka.bootstrap.servers", &servers)
        .option("topic", "people")
        .mode("append")
        .save_no_path()?;
    spark
        .read_stream()
        .format("kafka")
        .option("kafka.bootstrap.servers", &servers)
        .option("subscribe", "people")
        .option("startingOffsets", "earliest")
        .load()?
        .create_or_replace_temp_view("people_topic")?;
    let dir = tempfile::tempdir()?;

    // PERMISSIVE: five rows; the three bad records are kept, raw, in _corrupt_record.
    let q = parse_into_memory(&spark, "PERMISSIVE", "permissive", &dir)?;
    finish(&q)?;
    let rows = text_rows(
        &spark,
        "SELECT p.id AS id, p.name AS name, p._corrupt_record AS bad FROM permissive ORDER BY offset",
    )?;
    println!("PERMISSIVE:\n  {}", rows.join("\n  "));
    ensure!(
        rows == [
            "1|ann|NULL".to_string(),
            format!("NULL|NULL|{}", RECORDS[1]),
            format!("NULL|NULL|{}", RECORDS[2]),
            format!("NULL|cy|{}", RECORDS[3]),
            "4|dee|NULL".to_string(),
        ],
        "PERMISSIVE gave {rows:?}"
    );

    // DROPMALFORMED: two rows; the progress shows 5 rows in and 2 out.
    let q = parse_into_memory(&spark, "DROPMALFORMED", "dropmalformed", &dir)?;
    finish(&q)?;
    let rows = text_rows(
        &spark,
        "SELECT p.id AS id, p.name AS name FROM dropmalformed ORDER BY offset",
    )?;
    println!("DROPMALFORMED:\n  {}", rows.join("\n  "));
    ensure!(rows == ["1|ann", "4|dee"], "DROPMALFORMED gave {rows:?}");
    let progress = q.recent_progress();
    let read: i64 = progress.iter().map(|p| p.num_input_rows).sum();
    let written: i64 = progress.iter().map(|p| p.sink.num_output_rows).sum();
    println!(
        "  progress: {read} input rows, {written} output rows, {} dropped",
        read - written
    );
    ensure!(
        read == 5 && written == 2,
        "progress: {read} in, {written} out"
    );

    // FAILFAST: the query stops at the first bad record, quoted in the error.
    let q = parse_into_memory(&spark, "FAILFAST", "failfast", &dir)?;
    let _ = q.await_termination(None);
    let Some(e) = q.exception() else {
        bail!("FAILFAST: the query did not fail");
    };
    let message = e.to_string();
    println!("FAILFAST:\n  {message}");
    ensure!(
        message.contains("MALFORMED_RECORD_IN_PARSING") && message.contains(RECORDS[1]),
        "FAILFAST error: {message}"
    );
    println!("bad_records: OK");
    Ok(())
}

/// Starts `from_json(value)` in `mode` into the memory sink `name` (a table of that name).
fn parse_into_memory(
    spark: &Session,
    mode: &str,
    name: &str,
    dir: &tempfile::TempDir,
) -> Result<StreamingQuery> {
    Ok(spark
        .sql(&format!(
            "SELECT from_json(CAST(value AS STRING), 'id INT, name STRING, _corrupt_record STRING', \
             map('mode', '{mode}')) AS p, offset FROM people_topic"
        ))?
        .write_stream()
        .format("memory")
        .query_name(name)
        .option(
            "checkpointLocation",
            dir.path().join(name).to_string_lossy(),
        )
        .trigger(Trigger::AvailableNow)
        .start()?)
}

/// Waits for an availableNow query and fails on its error.
fn finish(q: &StreamingQuery) -> Result<()> {
    q.await_termination(None)?;
    if let Some(e) = q.exception() {
        bail!("the query failed: {e}");
    }
    Ok(())
}

/// The rows of a batch query as `a|b|c` text.
fn text_rows(spark: &Session, sql: &str) -> Result<Vec<String>> {
    Ok(spark
        .sql(sql)?
        .collect_rows()?
        .iter()
        .map(|r| r.join("|"))
        .collect())
}

/// A SQL string literal.
fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}
