//! Every `examples/pipelines/*.toml` through the real `sstream run` binary, so none can rot:
//! input made with `sstream gen` / `sstream produce`, paths, checkpoints and bootstrap servers
//! given with `--set`, Kafka served by an embedded broker hosted by this test process, and
//! the output checked against a batch query over the same input. A pipeline file without a
//! case here fails `every_pipeline_file_has_a_test_case`.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use engine_sql::dataframe::DataFrame;
use engine_sql::session::Session;

mod common;
use common::{broker_with_topic, gen_events, gen_events_with, sstream, sstream_ok};

/// The pipeline files this test covers, one `#[test]` of the same name each.
const CASES: &[&str] = &[
    "bad_records",
    "csv_to_kafka",
    "json_dir_to_kafka",
    "json_dir_to_parquet",
    "kafka_explode_aggregate",
    "kafka_orders_to_items",
    "session_windows",
    "sliding_window_by_channel",
    "tumbling_window_counts",
];

const EVENTS_DDL: &str = "order_id STRING, user STRUCT<id: STRING, country: STRING, tier: STRING>, channel STRING, items ARRAY<STRUCT<sku: STRING, qty: INT, price: DOUBLE>>, payment STRUCT<method: STRING, currency: STRING>, ts TIMESTAMP, _corrupt_record STRING";

fn pipelines_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/pipelines")
}

fn pipeline(name: &str) -> String {
    pipelines_dir()
        .join(format!("{name}.toml"))
        .to_str()
        .unwrap()
        .to_string()
}

/// `sstream run PIPELINE --progress json --set ...`; returns the input rows of each batch
/// that read any.
fn run(name: &str, sets: &[String]) -> Vec<i64> {
    let file = pipeline(name);
    let mut args = vec!["run", file.as_str(), "--progress", "json"];
    for s in sets {
        args.push("--set");
        args.push(s);
    }
    let o = sstream_ok(&args);
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["numInputRows"]
                .as_i64()
                .unwrap()
        })
        .filter(|n| *n > 0)
        .collect()
}

fn p(path: &Path) -> String {
    path.to_str().unwrap().to_string()
}

fn session() -> Session {
    engine_kafka::register();
    Session::builder()
        .config("spark.sql.session.timeZone", "UTC")
        .build()
        .unwrap()
}

/// Rows as sorted `a|b|c` lines.
fn rows(df: &DataFrame) -> Vec<String> {
    let mut out: Vec<String> = df
        .collect_rows()
        .unwrap()
        .iter()
        .map(|r| r.join("|"))
        .collect();
    out.sort();
    out
}

/// The committed records of a topic, as a batch DataFrame with STRING key and value.
fn topic(spark: &Session, servers: &str, topic: &str) -> DataFrame {
    spark
        .read()
        .format("kafka")
        .option("kafka.bootstrap.servers", servers)
        .option("subscribe", topic)
        .option("kafka.isolation.level", "read_committed")
        .load_no_path()
        .unwrap()
        .select_expr(&[
            "CAST(key AS STRING) AS key",
            "CAST(value AS STRING) AS value",
        ])
        .unwrap()
}

/// A batch read of generated event files with the pipelines' schema, as the view `e`.
fn events_view(spark: &Session, path: &Path) {
    spark
        .read()
        .format("json")
        .schema_ddl(EVENTS_DDL)
        .unwrap()
        .load(&p(path))
        .unwrap()
        .create_or_replace_temp_view("e")
        .unwrap();
}

fn move_files(from: &Path, names: &[&str], to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for n in names {
        std::fs::rename(from.join(n), to.join(n)).unwrap();
    }
}

#[test]
fn every_pipeline_file_has_a_test_case() {
    let files: BTreeSet<String> = std::fs::read_dir(pipelines_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.file_stem().unwrap().to_str().unwrap().to_string())
        .collect();
    let cases: BTreeSet<String> = CASES.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        files, cases,
        "each examples/pipelines/*.toml needs a test case in engine-cli/tests/examples.rs (and CASES)"
    );
}

#[test]
fn csv_to_kafka() {
    let (_broker, servers) = broker_with_topic("orders", 3);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    sstream_ok(&[
        "gen",
        "orders",
        "--rows",
        "300",
        "--out",
        &p(&input.join("orders.csv")),
    ]);
    let sets = [
        format!("source.orders.path={}", p(&input)),
        format!("sink.checkpointLocation={}", p(&dir.path().join("ckpt"))),
        format!("sink.options.kafka.bootstrap.servers={servers}"),
    ];
    assert_eq!(run("csv_to_kafka", &sets), vec![300]);

    let spark = session();
    let expected = spark
        .read()
        .format("csv")
        .option("header", "true")
        .schema_ddl("order_id STRING, ts TIMESTAMP, user_id STRING, country STRING, sku STRING, qty INT, price DOUBLE, store_id INT")
        .unwrap()
        .load(&p(&input))
        .unwrap()
        .select_expr(&["order_id AS key", "to_json(struct(*)) AS value"])
        .unwrap();
    let expected = rows(&expected);
    assert_eq!(expected.len(), 300);
    assert!(expected[0].contains("\"qty\":"), "{}", expected[0]);
    assert_eq!(rows(&topic(&spark, &servers, "orders")), expected);

    // Nothing new: the second run sends nothing.
    assert!(run("csv_to_kafka", &sets).is_empty());
    assert_eq!(topic(&spark, &servers, "orders").count().unwrap(), 300);
}

#[test]
fn json_dir_to_kafka() {
    let (_broker, servers) = broker_with_topic("events", 3);
    let dir = tempfile::tempdir().unwrap();
    let (staging, input) = (dir.path().join("staging"), dir.path().join("in"));
    gen_events(&staging, 600, 6);
    let first4 = [
        "events-00000.json",
        "events-00001.json",
        "events-00002.json",
        "events-00003.json",
    ];
    move_files(&staging, &first4, &input);
    let sets = [
        format!("source.events.path={}", p(&input)),
        format!("sink.checkpointLocation={}", p(&dir.path().join("ckpt"))),
        format!("sink.options.kafka.bootstrap.servers={servers}"),
    ];
    let spark = session();
    let expected = |spark: &Session| {
        events_view(spark, &input);
        rows(&spark
            .sql("SELECT order_id AS key, to_json(struct(order_id, user, channel, items, payment, ts)) AS value FROM e WHERE _corrupt_record IS NULL")
            .unwrap())
    };

    // maxFilesPerTrigger = 2 over 4 files of 100 lines: two batches of 200.
    assert_eq!(run("json_dir_to_kafka", &sets), vec![200, 200]);
    let after_4 = expected(&spark);
    assert!(after_4.len() > 380, "{}", after_4.len());
    assert_eq!(rows(&topic(&spark, &servers, "events")), after_4);

    // Same checkpoint, no new file: nothing read, nothing sent.
    assert!(run("json_dir_to_kafka", &sets).is_empty());
    assert_eq!(rows(&topic(&spark, &servers, "events")), after_4);

    // Two new files: only they are read.
    move_files(
        &staging,
        &["events-00004.json", "events-00005.json"],
        &input,
    );
    assert_eq!(run("json_dir_to_kafka", &sets), vec![200]);
    assert_eq!(rows(&topic(&spark, &servers, "events")), expected(&spark));
}

#[test]
fn json_dir_to_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("events");
    gen_events(&input, 400, 4);
    let out = dir.path().join("items");
    let sets = [
        format!("source.events.path={}", p(&input)),
        format!("sink.path={}", p(&out)),
        format!("sink.checkpointLocation={}", p(&dir.path().join("ckpt"))),
    ];
    assert_eq!(run("json_dir_to_parquet", &sets), vec![200, 200]);
    let spark = session();
    events_view(&spark, &input);
    let expected = rows(
        &spark
            .sql("SELECT order_id, item.sku, item.qty FROM e LATERAL VIEW explode(items) i AS item WHERE _corrupt_record IS NULL AND item.qty > 1")
            .unwrap(),
    );
    let written = || {
        rows(
            &spark
                .read()
                .format("parquet")
                .load(&p(&out))
                .unwrap()
                .select_expr(&["order_id", "sku", "qty"])
                .unwrap(),
        )
    };
    assert!(expected.len() > 100, "{}", expected.len());
    assert_eq!(written(), expected);
    assert!(run("json_dir_to_parquet", &sets).is_empty());
    assert_eq!(written(), expected);
}

/// Generated events produced into `topic` with `sstream produce`; returns the events file.
fn produce_events(dir: &Path, servers: &str, topic: &str, events: u64) -> PathBuf {
    let input = dir.join("events");
    gen_events(&input, events, 1);
    produce_file(servers, topic, &input);
    input
}

/// `sstream produce` of the one events file generated under `input` into `topic`.
fn produce_file(servers: &str, topic: &str, input: &Path) {
    sstream_ok(&[
        "produce",
        "--bootstrap-servers",
        servers,
        "--topic",
        topic,
        "--jsonl",
        &p(&input.join("events-00000.json")),
    ]);
}

#[test]
fn kafka_orders_to_items() {
    let (broker, servers) = broker_with_topic("orders", 3);
    broker.create_topic("items", 3).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = produce_events(dir.path(), &servers, "orders", 1000);
    let sets = [
        format!("source.orders.options.kafka.bootstrap.servers={servers}"),
        format!("sink.options.kafka.bootstrap.servers={servers}"),
        format!("sink.checkpointLocation={}", p(&dir.path().join("ckpt"))),
        // The file has no trigger (run until Ctrl-C); here, stop when the topic is read.
        "sink.trigger={ availableNow = true }".to_string(),
    ];
    let batches = run("kafka_orders_to_items", &sets);
    assert_eq!(batches.iter().sum::<i64>(), 1000);
    let spark = session();
    events_view(&spark, &input);
    let expected = rows(
        &spark
            .sql("SELECT order_id AS key, to_json(struct(order_id, user.country AS country, item.sku AS sku, item.qty AS qty, item.price AS price, ts)) AS value \
                  FROM e LATERAL VIEW explode(items) t AS item WHERE _corrupt_record IS NULL AND item.qty >= 2")
            .unwrap(),
    );
    assert!(expected.len() > 500, "{}", expected.len());
    assert_eq!(rows(&topic(&spark, &servers, "items")), expected);
}

#[test]
fn kafka_explode_aggregate() {
    let (_broker, servers) = broker_with_topic("orders", 3);
    let dir = tempfile::tempdir().unwrap();
    let input = produce_events(dir.path(), &servers, "orders", 1000);
    let out = dir.path().join("order_items");
    let sets = [
        format!("source.orders.options.kafka.bootstrap.servers={servers}"),
        format!("sink.path={}", p(&out)),
        format!("sink.checkpointLocation={}", p(&dir.path().join("ckpt"))),
    ];
    let batches = run("kafka_explode_aggregate", &sets);
    assert_eq!(batches.iter().sum::<i64>(), 1000);
    assert!(batches.len() >= 2, "{batches:?}");

    // The aggregate of the file's header comment, through `sstream sql`, against the same
    // aggregate over the generated file.
    let csv = |sql: String| {
        String::from_utf8(sstream_ok(&["sql", "--output", "csv", "-e", &sql]).stdout).unwrap()
    };
    let got = csv(format!(
        "CREATE TEMPORARY VIEW items USING parquet OPTIONS (path '{}'); \
         SELECT country, count(*) AS items, sum(qty) AS qty, round(sum(qty * price), 2) AS revenue FROM items GROUP BY country ORDER BY country",
        p(&out)
    ));
    let expected = csv(format!(
        "CREATE TEMPORARY VIEW e ({EVENTS_DDL}) USING json OPTIONS (path '{}'); \
         SELECT country, count(*) AS items, sum(qty) AS qty, round(sum(qty * price), 2) AS revenue FROM ( \
           SELECT user.country AS country, item.qty AS qty, item.price AS price \
           FROM e LATERAL VIEW explode(items) t AS item WHERE _corrupt_record IS NULL) \
         GROUP BY country ORDER BY country",
        p(&input)
    ));
    assert!(expected.lines().count() > 5, "{expected}");
    assert_eq!(got, expected);
}

#[test]
fn bad_records() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("events");
    gen_events(&input, 1000, 1);
    let lines: Vec<String> = std::fs::read_to_string(input.join("events-00000.json"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let malformed: BTreeSet<String> = lines
        .iter()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_err())
        .cloned()
        .collect();
    assert!(!malformed.is_empty());
    let run_mode = |mode: &str| {
        let file = pipeline("bad_records");
        let sets = [
            format!("source.events.path={}", p(&input)),
            format!("source.events.options.mode={mode}"),
            format!("sink.path={}", p(&dir.path().join(mode))),
            format!(
                "sink.checkpointLocation={}",
                p(&dir.path().join(format!("ckpt-{mode}")))
            ),
        ];
        let mut args = vec!["run", file.as_str()];
        for s in &sets {
            args.push("--set");
            args.push(s);
        }
        sstream(&args)
    };
    let spark = session();
    let output = |mode: &str| {
        spark
            .read()
            .format("json")
            // Read back `_corrupt_record` as a plain column.
            .option("columnNameOfCorruptRecord", "_unused")
            .schema_ddl("order_id STRING, channel STRING, items INT, _corrupt_record STRING")
            .unwrap()
            .load(&p(&dir.path().join(mode)))
            .unwrap()
    };

    let o = run_mode("PERMISSIVE");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let all = output("PERMISSIVE");
    assert_eq!(all.count().unwrap(), lines.len());
    let corrupt: BTreeSet<String> = rows(
        &all.filter_expr("_corrupt_record IS NOT NULL")
            .unwrap()
            .select_expr(&["_corrupt_record"])
            .unwrap(),
    )
    .into_iter()
    .collect();
    assert_eq!(corrupt, malformed);

    let o = run_mode("DROPMALFORMED");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let kept = output("DROPMALFORMED");
    assert_eq!(kept.count().unwrap(), lines.len() - malformed.len());
    assert_eq!(
        kept.filter_expr("_corrupt_record IS NOT NULL")
            .unwrap()
            .count()
            .unwrap(),
        0
    );

    let o = run_mode("FAILFAST");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("MALFORMED_RECORD_IN_PARSING"), "{err}");
    assert!(
        malformed.iter().any(|m| err.contains(m.as_str())),
        "the error quotes no malformed line:\n{err}"
    );
}

/// `sstream gen events` with no record more than a minute late, at `per_second` events per
/// second of event time: with a watermark delay of 2 minutes or more nothing is late, so the
/// streaming result equals a batch query over the same files.
fn gen_punctual_events(out: &Path, events: u64, files: u64, per_second: u64) {
    let per_second = per_second.to_string();
    gen_events_with(
        out,
        events,
        files,
        &["--events-per-second", &per_second, "--no-very-late"],
    );
}

/// `max(ts) - delay_minutes` over the generated events (the final watermark of an
/// AvailableNow run over all of them), as a SQL timestamp literal.
fn final_watermark(spark: &Session, delay_minutes: i64) -> String {
    let r = spark
        .sql("SELECT CAST(max(ts) AS STRING) FROM e")
        .unwrap()
        .collect_rows()
        .unwrap();
    let text = r[0].values[0].to_string();
    let max = chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S%.f").unwrap();
    let wm = max - chrono::Duration::minutes(delay_minutes);
    format!("TIMESTAMP '{}'", wm.format("%Y-%m-%d %H:%M:%S%.f"))
}

/// A file-to-file window example over punctual events, `files` of 1000 events each at
/// `per_second`: runs it (one batch per file), then returns the session with the input as
/// view `e`, the final watermark, the output directory and the `--set`s (to run it again).
struct WindowRun {
    _dir: tempfile::TempDir,
    spark: Session,
    watermark: String,
    out: PathBuf,
    sets: Vec<String>,
}

fn run_window_example(name: &str, files: u64, per_second: u64) -> WindowRun {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("events");
    gen_punctual_events(&input, files * 1000, files, per_second);
    let out = dir.path().join("out");
    let sets = vec![
        format!("source.events.path={}", p(&input)),
        format!("sink.path={}", p(&out)),
        format!("sink.checkpointLocation={}", p(&dir.path().join("ckpt"))),
    ];
    assert_eq!(run(name, &sets), vec![1000; files as usize]);
    let spark = session();
    events_view(&spark, &input);
    let watermark = final_watermark(&spark, 2);
    WindowRun {
        _dir: dir,
        spark,
        watermark,
        out,
        sets,
    }
}

#[test]
fn tumbling_window_counts() {
    // 10 minutes of event time over 6 files, one batch each.
    let WindowRun {
        _dir,
        spark,
        watermark: wm,
        out,
        sets,
    } = run_window_example("tumbling_window_counts", 6, 10);
    // Append mode: exactly the windows that ended by the final watermark, once each.
    let expected = rows(
        &spark
            .sql(&format!(
                "SELECT window.start, window.end, user.country, count(*), sum(size(items)) \
                 FROM e WHERE _corrupt_record IS NULL \
                 GROUP BY window(ts, '1 minute'), user.country HAVING window.end <= {wm}"
            ))
            .unwrap(),
    );
    assert!(expected.len() > 40, "{}", expected.len());
    let written = || {
        rows(
            &spark
                .read()
                .format("parquet")
                .load(&p(&out))
                .unwrap()
                .select_expr(&["window_start", "window_end", "country", "orders", "items"])
                .unwrap(),
        )
    };
    assert_eq!(written(), expected);
    // A second run: nothing new, nothing written again.
    assert!(run("tumbling_window_counts", &sets).is_empty());
    assert_eq!(written(), expected);
}

#[test]
fn session_windows() {
    // 50 minutes of event time over 3 files: about one order per 8 s per country, so a 5 s
    // gap makes sessions of one and of several orders.
    let WindowRun {
        _dir,
        spark,
        watermark: wm,
        out,
        ..
    } = run_window_example("session_windows", 3, 1);
    let expected = rows(
        &spark
            .sql(&format!(
                "SELECT user.country, session_window.start, session_window.end, count(*) \
                 FROM e WHERE _corrupt_record IS NULL \
                 GROUP BY user.country, session_window(ts, '5 seconds') \
                 HAVING session_window.end <= {wm}"
            ))
            .unwrap(),
    );
    assert!(expected.len() > 500, "{}", expected.len());
    assert!(
        expected.iter().any(|r| !r.ends_with("|1")),
        "some session has several orders"
    );
    let written = spark
        .read()
        .format("json")
        .schema_ddl("country STRING, session_start TIMESTAMP, session_end TIMESTAMP, orders BIGINT")
        .unwrap()
        .load(&p(&out))
        .unwrap();
    assert_eq!(rows(&written), expected);
}

#[test]
fn sliding_window_by_channel() {
    let (broker, servers) = broker_with_topic("orders", 3);
    broker.create_topic("channel_counts", 1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("events");
    gen_punctual_events(&input, 3000, 1, 100);
    produce_file(&servers, "orders", &input);
    let sets = [
        format!("source.orders.options.kafka.bootstrap.servers={servers}"),
        format!("sink.options.kafka.bootstrap.servers={servers}"),
        format!("sink.checkpointLocation={}", p(&dir.path().join("ckpt"))),
        "source.orders.options.maxOffsetsPerTrigger=700".to_string(),
    ];
    let batches = run("sliding_window_by_channel", &sets);
    assert_eq!(batches.iter().sum::<i64>(), 3000);
    assert!(batches.len() >= 4, "{batches:?}");
    let spark = session();
    // Update mode: the last (and largest: counts only grow) update of each (window, channel)
    // is its count over every event (none is late: each lags under a minute behind, the
    // delay is 10 minutes).
    let records = spark
        .read()
        .format("kafka")
        .option("kafka.bootstrap.servers", &servers)
        .option("subscribe", "channel_counts")
        .option("kafka.isolation.level", "read_committed")
        .load_no_path()
        .unwrap();
    records.create_or_replace_temp_view("out").unwrap();
    let last = rows(
        &spark
            .sql(
                "SELECT k, max(v) FROM (SELECT CAST(key AS STRING) AS k, \
                 CAST(CAST(value AS STRING) AS BIGINT) AS v FROM out) GROUP BY k",
            )
            .unwrap(),
    );
    events_view(&spark, &input);
    let expected = rows(
        &spark
            .sql(
                "SELECT concat(CAST(window.start AS STRING), '/', channel), count(*) \
                 FROM e WHERE ts IS NOT NULL GROUP BY window(ts, '10 minutes', '5 minutes'), channel",
            )
            .unwrap(),
    );
    assert!(expected.len() >= 6, "{expected:?}");
    assert_eq!(last, expected);
    // More updates than keys: windows were updated batch after batch.
    assert!(records.count().unwrap() > expected.len());
}
