#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The streaming runtime end to end: triggers (with a manual clock where time matters),
//! output-mode checks, listeners, progress JSON, checkpoints and restarts, sinks.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow::array::{AsArray, Int64Array, StringArray, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use engine_core::connector::{Sink, WriterContext};
use engine_core::progress::{
    QueryIdleEvent, QueryProgressEvent, QueryStartedEvent, QueryTerminatedEvent,
    StreamingQueryListener, StreamingQueryProgress,
};
use engine_sql::dataframe::Row;
use engine_sql::prelude::*;
use engine_sql::streaming::sinks::console::ConsoleSink;
use engine_sql::streaming::sinks::memory::MemorySink;
use engine_sql::streaming::{
    ForeachWriter, ManualClock, MemoryStream, OutputMode, StreamingQuery, Trigger,
};

mod common;

fn spark() -> Session {
    Session::builder()
        .master("local[2]")
        .config("spark.sql.shuffle.partitions", "2")
        .build()
        .unwrap()
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]))
}

fn batch(values: &[i64]) -> RecordBatch {
    RecordBatch::try_new(schema(), vec![Arc::new(Int64Array::from(values.to_vec()))]).unwrap()
}

fn values(batches: &[RecordBatch]) -> Vec<i64> {
    let mut out: Vec<i64> = batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
        .collect();
    out.sort_unstable();
    out
}

fn table_values(spark: &Session, name: &str) -> Vec<i64> {
    values(
        &spark
            .sql(&format!("SELECT * FROM {name}"))
            .unwrap()
            .collect()
            .unwrap(),
    )
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Waits (bounded) until `cond` holds; the bound only guards against a hang.
fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

type Seen = Arc<Mutex<Vec<(u64, Vec<i64>)>>>;

/// A foreachBatch sink recording (batch id, values) per call.
fn recording(df: &DataFrame) -> (engine_sql::streaming::DataStreamWriter, Seen) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let w = df.write_stream().foreach_batch(move |df, id| {
        let v = values(&df.collect()?);
        s.lock().unwrap().push((id, v));
        Ok(())
    });
    (w, seen)
}

/// Runs `df` into a [`recording`] sink with `Trigger::AvailableNow`, checkpointed at `ckpt`,
/// until it stops; returns the query and the (batch id, values) of each batch it ran.
fn run_available_now(df: &DataFrame, ckpt: &Path) -> (StreamingQuery, Vec<(u64, Vec<i64>)>) {
    let (w, seen) = recording(df);
    let q = w
        .option("checkpointLocation", ckpt.display())
        .trigger(Trigger::AvailableNow)
        .start()
        .unwrap();
    q.await_termination(None).unwrap();
    let seen = seen.lock().unwrap().clone();
    (q, seen)
}

#[test]
fn batch_actions_on_a_stream_are_refused_with_sparks_message() {
    let spark = spark();
    let input = MemoryStream::new(&spark, schema());
    let df = input.to_df().unwrap();
    assert!(df.is_streaming());
    let derived = df.filter(col("v").gt(lit(1i64))).unwrap();
    assert!(derived.is_streaming());
    assert!(!spark.sql("SELECT 1").unwrap().is_streaming());
    for e in [
        derived.collect().unwrap_err(),
        derived.count().unwrap_err(),
        derived.show_string(20, 20).unwrap_err(),
    ] {
        assert!(
            e.to_string().contains(
                "Queries with streaming sources must be executed with writeStream.start()"
            ),
            "{e}"
        );
    }
    // explain works on a streaming DataFrame, as in Spark.
    assert!(
        df.explain_string(false)
            .unwrap()
            .contains("StreamingRelation")
    );
}

#[test]
fn available_now_processes_everything_then_stops() {
    let spark = spark();
    let input = MemoryStream::new(&spark, schema());
    input.add_data(batch(&[1, 2, 3])).unwrap();
    input.add_data(batch(&[4, 5])).unwrap();
    let q = input
        .to_df()
        .unwrap()
        .filter(col("v").gt(lit(1i64)))
        .unwrap()
        .write_stream()
        .format("memory")
        .query_name("avail_now_out")
        .trigger(Trigger::AvailableNow)
        .start()
        .unwrap();
    assert!(q.await_termination(Some(Duration::from_secs(30))).unwrap());
    assert!(!q.is_active());
    assert_eq!(table_values(&spark, "avail_now_out"), vec![2, 3, 4, 5]);
    let p = q.recent_progress();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].num_input_rows, 5);
    assert_eq!(p[0].sink.num_output_rows, 4);
}

#[test]
fn noop_sink_runs_the_query_without_a_checkpoint_and_counts_its_rows() {
    let spark = spark();
    let input = MemoryStream::new(&spark, schema());
    input.add_data(batch(&[1, 2, 3])).unwrap();
    // Spark lets `noop` take partitionBy (unlike memory and console) and a temporary
    // checkpoint.
    let q = input
        .to_df()
        .unwrap()
        .filter(col("v").gt(lit(1i64)))
        .unwrap()
        .write_stream()
        .format("noop")
        .partition_by(["v"])
        .trigger(Trigger::AvailableNow)
        .start()
        .unwrap();
    assert!(q.await_termination(Some(Duration::from_secs(30))).unwrap());
    let p = q.recent_progress();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].num_input_rows, 3);
    assert_eq!(p[0].sink.description, "NoopTable");
    assert_eq!(p[0].sink.num_output_rows, 2);
}

#[test]
fn available_now_splits_by_the_source_limit() {
    let spark = spark();
    let input = MemoryStream::new(&spark, schema());
    input.set_max_rows_per_trigger(Some(2));
    for i in 0..3 {
        input.add_data(batch(&[i * 2, i * 2 + 1])).unwrap();
    }
    let (w, seen) = recording(&input.to_df().unwrap());
    let q = w.trigger(Trigger::AvailableNow).start().unwrap();
    q.await_termination(None).unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![(0, vec![0, 1]), (1, vec![2, 3]), (2, vec![4, 5])]
    );
}

#[test]
fn once_runs_one_batch_of_everything() {
    let spark = spark();
    let input = MemoryStream::new(&spark, schema());
    input.set_max_rows_per_trigger(Some(1));
    input.add_data(batch(&[1])).unwrap();
    input.add_data(batch(&[2])).unwrap();
    let (w, seen) = recording(&input.to_df().unwrap());
    let q = w.trigger(Trigger::Once).start().unwrap();
    q.await_termination(None).unwrap();
    assert_eq!(seen.lock().unwrap().clone(), vec![(0, vec![1, 2])]);
}

#[test]
fn default_trigger_and_process_all_available() {
    let spark = spark();
    let input = MemoryStream::new(&spark, schema());
    let q = input
        .to_df()
        .unwrap()
        .write_stream()
        .format("memory")
        .query_name("default_trigger_out")
        .start()
        .unwrap();
    assert!(q.explain().contains("Waiting for data") || q.explain().contains("Physical Plan"));
    assert_eq!(q.name(), Some("default_trigger_out"));
    input.add_data(batch(&[1, 2])).unwrap();
    q.process_all_available().unwrap();
    assert_eq!(table_values(&spark, "default_trigger_out"), vec![1, 2]);
    input.add_data(batch(&[3])).unwrap();
    q.process_all_available().unwrap();
    assert_eq!(table_values(&spark, "default_trigger_out"), vec![1, 2, 3]);
    assert!(q.is_active());
    assert!(q.explain().contains("MicroBatchScan"), "{}", q.explain());
    q.stop().unwrap();
    assert!(!q.is_active());
    assert_eq!(q.status().message, "Stopped");
}

#[test]
fn processing_time_waits_for_the_clock_and_a_late_batch_starts_the_next_at_once() {
    let spark = spark();
    let input = MemoryStream::new(&spark, schema());
    input.set_max_rows_per_trigger(Some(1));
    for v in 0..4 {
        input.add_data(batch(&[v])).unwrap();
    }
    let clock = Arc::new(ManualClock::new(0));
    let c = clock.clone();
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let q = input
        .to_df()
        .unwrap()
        .write_stream()
        .foreach_batch(move |df, id| {
            if id == 0 {
                // Batch 0 takes 2.5 intervals.
                c.advance(2_500);
            }
            s.lock().unwrap().push((id, values(&df.collect()?)));
            Ok(())
        })
        .trigger(Trigger::processing_time("1 second").unwrap())
        .clock(clock.clone())
        .start()
        .unwrap();
    // Batch 0 at t=0 ran late (until 2500): batch 1 starts at once at 2500, with no
    // make-up batches for the missed triggers at 1000 and 2000; then the query waits for 3000.
    eventually("two batches", || seen.lock().unwrap().len() == 2);
    assert!(clock.wait_for_waiter(Duration::from_secs(30)));
    let stamps: Vec<String> = q
        .recent_progress()
        .iter()
        .map(|p| p.timestamp.clone())
        .collect();
    assert_eq!(
        stamps,
        vec!["1970-01-01T00:00:00.000Z", "1970-01-01T00:00:02.500Z"]
    );
    assert_eq!(seen.lock().unwrap().len(), 2);
    clock.advance(500);
    eventually("third batch", || q.recent_progress().len() == 3);
    assert_eq!(
        q.last_progress().unwrap().timestamp,
        "1970-01-01T00:00:03.000Z"
    );
    q.stop().unwrap();
    assert_eq!(
        seen.lock().unwrap().clone(),
        vec![(0, vec![0]), (1, vec![1]), (2, vec![2])]
    );
}

fn start_err(df: &DataFrame, mode: OutputMode) -> String {
    df.write_stream()
        .format("memory")
        .query_name("never_started")
        .output_mode(mode)
        .start()
        .unwrap_err()
        .to_string()
}

#[test]
fn output_mode_and_operation_checks_use_sparks_messages() {
    let spark = spark();
    let input = MemoryStream::new(&spark, schema());
    let df = input.to_df().unwrap();
    let agg = df.group_by(vec![col("v")]).count().unwrap();
    assert_eq!(
        start_err(&df, OutputMode::Complete),
        "[STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION] Invalid streaming output mode: complete. This output mode is not supported for no streaming aggregations on streaming DataFrames/DataSets. SQLSTATE: 42KDE"
    );
    assert_eq!(
        start_err(&agg, OutputMode::Append),
        "[STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION] Invalid streaming output mode: append. This output mode is not supported for streaming aggregations without watermark on streaming DataFrames/DataSets. SQLSTATE: 42KDE"
    );
    let e = df
        .write_stream()
        .format("memory")
        .output_mode_str("bogus")
        .start()
        .unwrap_err()
        .to_string();
    assert!(e.contains("[STREAMING_OUTPUT_MODE.INVALID] Invalid streaming output mode: bogus. Accepted output modes are 'Append', 'Complete', 'Update'"), "{e}");
    let sorted = df.sort(vec![col("v").asc()]).unwrap();
    assert!(start_err(&sorted, OutputMode::Append).contains(
        "Sorting is not supported on streaming DataFrames/Datasets, unless it is on aggregated DataFrame/Dataset in Complete output mode"
    ));
    let limited = df.limit(3).unwrap();
    assert!(start_err(&limited, OutputMode::Update).contains(
        "Limits are not supported on streaming DataFrames/Datasets in Update output mode"
    ));
    let static_df = spark.sql("SELECT CAST(1 AS BIGINT) AS v").unwrap();
    let full = df.join(&static_df, "v", "full_outer").unwrap();
    assert!(start_err(&full, OutputMode::Append).contains(
        "FullOuter joins with streaming DataFrames/Datasets on the left and a static DataFrame/Dataset on the right is not supported"
    ));
    let other = MemoryStream::new(&spark, schema()).to_df().unwrap();
    let ss = df.join(&other, "v", "inner").unwrap();
    assert!(start_err(&ss, OutputMode::Update).contains(
        "Join between two streaming DataFrames/Datasets is not supported in Update output mode, only in Append output mode"
    ));
    assert!(start_err(&ss, OutputMode::Append).contains("not yet supported"));
    // Aggregations and deduplication run on the state store.
    for (df, mode) in [
        (&agg, OutputMode::Update),
        (&agg, OutputMode::Complete),
        (&df.distinct().unwrap(), OutputMode::Append),
    ] {
        let q = df
            .write_stream()
            .format("memory")
            .query_name("stateful")
            .output_mode(mode)
            .start()
            .unwrap();
        q.stop().unwrap();
    }
    // A batch DataFrame cannot be started.
    let e = start_err(&static_df, OutputMode::Append);
    assert!(
        e.contains("Queries without streaming sources cannot be executed with writeStream.start()"),
        "{e}"
    );
    // Continuous mode: only map/filter.
    let e = agg
        .write_stream()
        .format("memory")
        .query_name("c")
        .output_mode(OutputMode::Complete)
        .trigger(Trigger::continuous("1 second").unwrap())
        .start()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Continuous processing does not support Aggregate operations."),
        "{e}"
    );
}

#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<String>>,
}

impl StreamingQueryListener for Recorder {
    fn on_query_started(&self, e: &QueryStartedEvent) {
        self.events
            .lock()
            .unwrap()
            .push(format!("started {}", e.name.clone().unwrap_or_default()));
    }
    fn on_query_progress(&self, e: &QueryProgressEvent) {
        self.events
            .lock()
            .unwrap()
            .push(format!("progress {}", e.progress.batch_id));
    }
    fn on_query_idle(&self, _e: &QueryIdleEvent) {
        self.events.lock().unwrap().push("idle".into());
    }
    fn on_query_terminated(&self, e: &QueryTerminatedEvent) {
        self.events
            .lock()
            .unwrap()
            .push(format!("terminated {:?}", e.exception));
    }
}

#[test]
fn listeners_see_started_progress_idle_terminated_in_order() {
    let spark = spark();
    // Every trigger without data reports idle (Spark's default throttles to one per 10 s).
    spark
        .conf_set("spark.sql.streaming.noDataProgressEventInterval", "0")
        .unwrap();
    let rec = Arc::new(Recorder::default());
    let l: Arc<dyn StreamingQueryListener> = rec.clone();
    spark.streams().add_listener(l.clone());
    let input = MemoryStream::new(&spark, schema());
    input.add_data(batch(&[1])).unwrap();
    let q = input
        .to_df()
        .unwrap()
        .write_stream()
        .format("memory")
        .query_name("listened")
        .start()
        .unwrap();
    q.process_all_available().unwrap();
    input.add_data(batch(&[2])).unwrap();
    q.process_all_available().unwrap();
    assert_eq!(spark.streams().active().len(), 1);
    assert!(spark.streams().get(q.id()).is_some());
    q.stop().unwrap();
    assert!(spark.streams().active().is_empty());
    assert!(
        spark
            .streams()
            .await_any_termination(Some(Duration::from_secs(5)))
            .unwrap()
    );
    let events = rec.events.lock().unwrap().clone();
    assert_eq!(events.first().unwrap(), "started listened");
    assert_eq!(events.last().unwrap(), "terminated None");
    let progress: Vec<&String> = events
        .iter()
        .filter(|e| e.starts_with("progress"))
        .collect();
    assert_eq!(progress, vec!["progress 0", "progress 1"]);
    // The first trigger without data reports idle (then at most every 10 s).
    let first_idle = events.iter().position(|e| e == "idle").unwrap();
    assert!(first_idle > 1, "{events:?}");
    spark.streams().remove_listener(&l);
    let input2 = MemoryStream::new(&spark, schema());
    let q2 = input2
        .to_df()
        .unwrap()
        .write_stream()
        .format("memory")
        .query_name("unlistened")
        .trigger(Trigger::AvailableNow)
        .start()
        .unwrap();
    q2.await_termination(None).unwrap();
    assert_eq!(rec.events.lock().unwrap().len(), events.len());
}

#[test]
fn progress_json_has_sparks_field_names_and_round_trips() {
    let spark = spark();
    let input = MemoryStream::new(&spark, schema());
    input.add_data(batch(&[1, 2, 3])).unwrap();
    let q = input
        .to_df()
        .unwrap()
        .write_stream()
        .format("memory")
        .query_name("progress_json")
        .trigger(Trigger::AvailableNow)
        .start()
        .unwrap();
    q.await_termination(None).unwrap();
    let p = q.last_progress().unwrap();
    let json = p.json().unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    for key in [
        "id",
        "runId",
        "name",
        "timestamp",
        "batchId",
        "batchDuration",
        "numInputRows",
        "processedRowsPerSecond",
        "durationMs",
        "stateOperators",
        "sources",
        "sink",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {json}");
    }
    assert_eq!(v["name"], "progress_json");
    assert_eq!(v["numInputRows"], 3);
    for phase in [
        "latestOffset",
        "walCommit",
        "getBatch",
        "queryPlanning",
        "addBatch",
        "commitOffsets",
        "triggerExecution",
    ] {
        assert!(
            v["durationMs"].get(phase).is_some(),
            "missing durationMs.{phase} in {json}"
        );
    }
    let src = &v["sources"][0];
    assert_eq!(src["description"], "MemoryStream[v]");
    assert!(src["startOffset"].is_null());
    assert_eq!(src["endOffset"], 0);
    assert_eq!(src["latestOffset"], 0);
    assert_eq!(src["numInputRows"], 3);
    assert_eq!(v["sink"]["description"], "MemorySink");
    assert_eq!(v["sink"]["numOutputRows"], 3);
    assert!(
        v.get("eventTime").is_none(),
        "no watermark, no eventTime: {json}"
    );
    let back = StreamingQueryProgress::from_json(&json).unwrap();
    assert_eq!(back.json().unwrap(), json);
    assert_eq!(back.id, q.id());
}

#[test]
fn restart_resumes_with_a_stable_id_and_a_new_run_id() {
    let spark = spark();
    let dir = tmp();
    let ckpt = dir.path().join("ckpt");
    let input = MemoryStream::new(&spark, schema());
    input.add_data(batch(&[1, 2])).unwrap();
    let run = |input: &MemoryStream| run_available_now(&input.to_df().unwrap(), &ckpt);
    let (q1, seen1) = run(&input);
    assert_eq!(seen1, vec![(0, vec![1, 2])]);
    // Spark's checkpoint layout and formats.
    let meta = std::fs::read_to_string(ckpt.join("metadata")).unwrap();
    assert_eq!(meta, format!("{{\"id\":\"{}\"}}", q1.id()));
    let offsets = std::fs::read_to_string(ckpt.join("offsets/0")).unwrap();
    let lines: Vec<&str> = offsets.lines().collect();
    assert_eq!(lines[0], "v1");
    assert!(
        lines[1].starts_with("{\"batchWatermarkMs\":0,\"batchTimestampMs\":"),
        "{offsets}"
    );
    assert!(
        lines[1].contains("\"spark.sql.shuffle.partitions\":\"2\""),
        "{offsets}"
    );
    assert_eq!(lines[2], "0");
    assert_eq!(
        std::fs::read_to_string(ckpt.join("commits/0")).unwrap(),
        "v1\n{\"nextBatchWatermarkMs\":0}"
    );
    input.add_data(batch(&[3])).unwrap();
    let (q2, seen2) = run(&input);
    assert_eq!(seen2, vec![(1, vec![3])]);
    assert_eq!(q1.id(), q2.id());
    assert_ne!(q1.run_id(), q2.run_id());
    // Nothing new: a third run does nothing.
    let (_, seen3) = run(&input);
    assert!(seen3.is_empty());
}

#[test]
fn the_commit_log_is_durable_before_the_next_batch_and_when_the_query_is_caught_up() {
    // `commits/N` is written in the background while the next trigger plans; a batch only
    // starts once the previous one's commit is on disk (so the latest commit is always the
    // latest offsets entry or one behind), and an idle trigger waits for it too.
    let spark = spark();
    let dir = tmp();
    let ckpt = dir.path().join("ckpt");
    let input = MemoryStream::new(&spark, schema());
    let commits = ckpt.join("commits");
    let missing: Arc<Mutex<Vec<u64>>> = Arc::default();
    let m = missing.clone();
    let c = commits.clone();
    let q = input
        .to_df()
        .unwrap()
        .write_stream()
        .foreach_batch(move |_, id| {
            if id > 0 && !c.join((id - 1).to_string()).exists() {
                m.lock().unwrap().push(id);
            }
            Ok(())
        })
        .option("checkpointLocation", ckpt.display())
        .trigger(Trigger::ProcessingTime(Duration::ZERO))
        .start()
        .unwrap();
    for i in 0..5 {
        input.add_data(batch(&[i])).unwrap();
        q.process_all_available().unwrap();
        assert!(
            commits.join(i.to_string()).exists(),
            "commits/{i} after processAllAvailable"
        );
    }
    q.stop().unwrap();
    assert!(
        missing.lock().unwrap().is_empty(),
        "{:?}",
        missing.lock().unwrap()
    );
}

#[test]
fn an_uncommitted_batch_is_replayed_with_exactly_its_logged_offsets() {
    let spark = spark();
    let dir = tmp();
    let ckpt = dir.path().join("ckpt");
    let input = MemoryStream::new(&spark, schema());
    input.add_data(batch(&[1])).unwrap();
    let run = || run_available_now(&input.to_df().unwrap(), &ckpt).1;
    assert_eq!(run(), vec![(0, vec![1])]);
    // A crash after the sink but before commits/0: the commit is missing.
    std::fs::remove_file(ckpt.join("commits/0")).unwrap();
    input.add_data(batch(&[2])).unwrap();
    // Batch 0 is replayed with its logged range (only [1]), then batch 1 reads the rest.
    assert_eq!(run(), vec![(0, vec![1]), (1, vec![2])]);
}

#[test]
fn a_checkpoint_of_a_different_query_is_refused() {
    let spark = spark();
    let dir = tmp();
    let ckpt = dir.path().join("ckpt");
    let a = MemoryStream::new(&spark, schema());
    a.add_data(batch(&[1])).unwrap();
    run_available_now(&a.to_df().unwrap(), &ckpt);
    let b = MemoryStream::new(&spark, schema());
    let two = a.to_df().unwrap().union(&b.to_df().unwrap()).unwrap();
    let (w, _) = recording(&two);
    let e = w
        .option("checkpointLocation", ckpt.display())
        .trigger(Trigger::AvailableNow)
        .start()
        .unwrap_err()
        .to_string();
    assert!(e.contains("1 source(s), but this query has 2"), "{e}");
}

#[test]
fn checkpoint_location_comes_from_the_conf_and_is_required_for_file_sinks() {
    let spark = spark();
    let input = MemoryStream::new(&spark, schema());
    let e = input
        .to_df()
        .unwrap()
        .write_stream()
        .format("parquet")
        .start_path("/tmp/never")
        .unwrap_err()
        .to_string();
    assert!(e.contains("checkpointLocation must be specified either through option(\"checkpointLocation\", ...) or SparkSession.conf.set(\"spark.sql.streaming.checkpointLocation\", ...)"), "{e}");
    let dir = tmp();
    spark
        .conf_set(
            "spark.sql.streaming.checkpointLocation",
            &dir.path().display().to_string(),
        )
        .unwrap();
    input.add_data(batch(&[1])).unwrap();
    let (w, _) = recording(&input.to_df().unwrap());
    w.query_name("named")
        .trigger(Trigger::AvailableNow)
        .start()
        .unwrap()
        .await_termination(None)
        .unwrap();
    assert!(dir.path().join("named/offsets/0").exists());
}

#[test]
fn stream_static_join() {
    let spark = spark();
    let names = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("v", DataType::Int64, false),
            Field::new("name", DataType::Utf8, false),
        ])),
        vec![
            Arc::new(Int64Array::from(vec![1, 2])),
            Arc::new(StringArray::from(vec!["one", "two"])),
        ],
    )
    .unwrap();
    let static_df = spark.create_dataframe(vec![names]).unwrap();
    let input = MemoryStream::new(&spark, schema());
    input.add_data(batch(&[1, 2, 3])).unwrap();
    let joined = input
        .to_df()
        .unwrap()
        .join(&static_df, "v", "inner")
        .unwrap();
    let left = input
        .to_df()
        .unwrap()
        .join(&static_df, "v", "left")
        .unwrap();
    for (df, name, rows) in [(joined, "joined_out", 2), (left, "left_out", 3)] {
        let q = df
            .write_stream()
            .format("memory")
            .query_name(name)
            .trigger(Trigger::AvailableNow)
            .start()
            .unwrap();
        q.await_termination(None).unwrap();
        let out = spark
            .sql(&format!("SELECT v, name FROM {name} ORDER BY v"))
            .unwrap()
            .collect_rows()
            .unwrap();
        assert_eq!(out.len(), rows, "{name}");
        assert_eq!(out[0].values[1].to_string(), "one");
    }
}

fn ts_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new(
        "ts",
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        false,
    )]))
}

fn ts_batch(seconds: &[i64]) -> RecordBatch {
    let a =
        TimestampMicrosecondArray::from(seconds.iter().map(|s| s * 1_000_000).collect::<Vec<_>>())
            .with_timezone("UTC");
    RecordBatch::try_new(ts_schema(), vec![Arc::new(a)]).unwrap()
}

#[test]
fn watermark_is_tracked_and_reported_in_event_time() {
    let spark = spark();
    let dir = tmp();
    let input = MemoryStream::new(&spark, ts_schema());
    input.set_max_rows_per_trigger(Some(3));
    input.add_data(ts_batch(&[100, 110, 120])).unwrap();
    input.add_data(ts_batch(&[50])).unwrap();
    let df = input
        .to_df()
        .unwrap()
        .with_watermark("ts", "10 seconds")
        .unwrap();
    assert!(df.is_streaming());
    let q = df
        .write_stream()
        .format("memory")
        .query_name("wm_out")
        .option("checkpointLocation", dir.path().display())
        .trigger(Trigger::AvailableNow)
        .start()
        .unwrap();
    q.await_termination(None).unwrap();
    let p = q.recent_progress();
    assert_eq!(p.len(), 2);
    let e0 = &p[0].event_time;
    assert_eq!(e0["min"], "1970-01-01T00:01:40.000Z");
    assert_eq!(e0["max"], "1970-01-01T00:02:00.000Z");
    assert_eq!(e0["avg"], "1970-01-01T00:01:50.000Z");
    assert_eq!(e0["watermark"], "1970-01-01T00:00:00.000Z");
    // Batch 1 runs with max(120 s) - 10 s; a late row never moves the watermark back.
    assert_eq!(p[1].event_time["watermark"], "1970-01-01T00:01:50.000Z");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("commits/1")).unwrap(),
        "v1\n{\"nextBatchWatermarkMs\":110000}"
    );
    let offsets1 = std::fs::read_to_string(dir.path().join("offsets/1")).unwrap();
    assert!(
        offsets1.contains("\"batchWatermarkMs\":110000"),
        "{offsets1}"
    );
    // A memory sink in append mode cannot resume (its rows lived in the old process).
    let e = input
        .to_df()
        .unwrap()
        .write_stream()
        .format("memory")
        .query_name("wm_out2")
        .option("checkpointLocation", dir.path().display())
        .start()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("This query does not support recovering from checkpoint location. Delete"),
        "{e}"
    );
    // The event time column must be a timestamp.
    let e = MemoryStream::new(&spark, schema())
        .to_df()
        .unwrap()
        .with_watermark("v", "1 second")
        .unwrap_err()
        .to_string();
    assert!(e.contains("EVENT_TIME_IS_NOT_ON_TIMESTAMP_TYPE"), "{e}");
    // TIMESTAMP_NTZ too, with Spark 4.3's message.
    let e = MemoryStream::new(&spark, schema())
        .to_df()
        .unwrap()
        .select_expr(&["v", "CAST('2024-01-01 00:00:00' AS TIMESTAMP_NTZ) AS t"])
        .unwrap()
        .with_watermark("t", "1 second")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("[EVENT_TIME_IS_NOT_ON_TIMESTAMP_TYPE] The event time `t` has the invalid type \"TIMESTAMP_NTZ\", but expected \"TIMESTAMP\"."),
        "{e}"
    );
}

#[test]
fn continuous_trigger_runs_map_filter_queries() {
    let spark = spark();
    let input = MemoryStream::new(&spark, schema());
    let q = input
        .to_df()
        .unwrap()
        .filter(col("v").gt(lit(10i64)))
        .unwrap()
        .write_stream()
        .format("memory")
        .query_name("continuous_out")
        .trigger(Trigger::continuous("1 second").unwrap())
        .start()
        .unwrap();
    input.add_data(batch(&[5, 15, 25])).unwrap();
    eventually("continuous rows", || {
        table_values(&spark, "continuous_out") == vec![15, 25]
    });
    q.stop().unwrap();
    assert!(q.exception().is_none());
}

#[derive(Clone, Default)]
struct Collect {
    rows: Arc<Mutex<Vec<String>>>,
    opens: Arc<AtomicUsize>,
    closes: Arc<AtomicUsize>,
}

impl ForeachWriter for Collect {
    fn open(&mut self, _partition: usize, epoch: u64) -> Result<bool> {
        self.opens.fetch_add(1, Ordering::SeqCst);
        Ok(epoch == 0)
    }
    fn process(&mut self, row: &Row) -> Result<()> {
        self.rows.lock().unwrap().push(row.values[0].to_string());
        Ok(())
    }
    fn close(&mut self, error: Option<&EngineError>) {
        assert!(error.is_none());
        self.closes.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn foreach_writer_opens_processes_and_closes_per_task() {
    let spark = spark();
    let input = MemoryStream::new(&spark, schema());
    input.set_max_rows_per_trigger(Some(2));
    input.add_data(batch(&[1, 2])).unwrap();
    input.add_data(batch(&[3])).unwrap();
    let writer = Collect::default();
    let q = input
        .to_df()
        .unwrap()
        .write_stream()
        .foreach(writer.clone())
        .trigger(Trigger::AvailableNow)
        .start()
        .unwrap();
    q.await_termination(None).unwrap();
    // Epoch 1's `open` returned false: its row is skipped.
    let mut rows = writer.rows.lock().unwrap().clone();
    rows.sort();
    assert_eq!(rows, vec!["1", "2"]);
    assert_eq!(
        writer.opens.load(Ordering::SeqCst),
        writer.closes.load(Ordering::SeqCst)
    );
}

#[test]
fn a_failing_batch_stops_the_query_with_its_error() {
    let spark = spark();
    let input = MemoryStream::new(&spark, schema());
    input.add_data(batch(&[1])).unwrap();
    let rec = Arc::new(Recorder::default());
    spark.streams().add_listener(rec.clone());
    let q = input
        .to_df()
        .unwrap()
        .write_stream()
        .foreach_batch(|_, _| Err(EngineError::execution("BOOM", "the sink broke")))
        .start()
        .unwrap();
    let e = q.await_termination(None).unwrap_err().to_string();
    assert!(e.starts_with("[STREAM_FAILED] Query [id = "), "{e}");
    assert!(e.contains("the sink broke"), "{e}");
    assert!(!q.is_active());
    let ex = q.exception().unwrap();
    assert_eq!(ex.error_class.as_deref(), Some("BOOM"));
    let last = rec.events.lock().unwrap().last().cloned().unwrap();
    assert!(
        last.starts_with("terminated Some(") && last.contains("the sink broke"),
        "{last}"
    );
    assert!(
        spark
            .streams()
            .await_any_termination(Some(Duration::from_secs(5)))
            .is_err()
    );
}

#[test]
fn queries_with_the_same_name_cannot_run_together() {
    let spark = spark();
    let input = MemoryStream::new(&spark, schema());
    let start = || {
        input
            .to_df()
            .unwrap()
            .write_stream()
            .format("memory")
            .query_name("dup_name")
            .start()
    };
    let q = start().unwrap();
    let e = start().unwrap_err().to_string();
    assert!(
        e.contains(
            "Cannot start query with name dup_name as a query with that name is already active"
        ),
        "{e}"
    );
    q.stop().unwrap();
    start().unwrap().stop().unwrap();
}

#[test]
fn old_log_entries_are_purged_per_min_batches_to_retain() {
    let spark = spark();
    spark
        .conf_set("spark.sql.streaming.minBatchesToRetain", "2")
        .unwrap();
    let dir = tmp();
    let input = MemoryStream::new(&spark, schema());
    input.set_max_rows_per_trigger(Some(1));
    for v in 0..5 {
        input.add_data(batch(&[v])).unwrap();
    }
    let (_, seen) = run_available_now(&input.to_df().unwrap(), dir.path());
    assert_eq!(seen.len(), 5);
    let mut left: Vec<String> = std::fs::read_dir(dir.path().join("offsets"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, vec!["3", "4"]);
}

#[test]
fn memory_sink_replaces_in_complete_mode_and_skips_replayed_batches() {
    let spark = spark();
    let commit = |sink: &MemorySink, id: u64, v: &[i64]| {
        let mut w = sink
            .create_writer(WriterContext {
                batch_id: id,
                partition: 0,
                num_partitions: 1,
                batch_timestamp_ms: None,
            })
            .unwrap();
        w.write(&batch(v)).unwrap();
        sink.commit(id, vec![w.commit().unwrap()]).unwrap();
    };
    let append = MemorySink::register(&spark, "mem_append", schema(), OutputMode::Append).unwrap();
    commit(&append, 0, &[1]);
    commit(&append, 1, &[2]);
    commit(&append, 1, &[2]);
    assert_eq!(table_values(&spark, "mem_append"), vec![1, 2]);
    let complete =
        MemorySink::register(&spark, "mem_complete", schema(), OutputMode::Complete).unwrap();
    commit(&complete, 0, &[1, 2]);
    commit(&complete, 1, &[3]);
    assert_eq!(table_values(&spark, "mem_complete"), vec![3]);
}

#[test]
fn console_sink_prints_sparks_banner_and_table() {
    let spark = spark();
    let opts = engine_core::options::Options::new([("numRows", "1")]);
    let sink = ConsoleSink::new(&spark, schema(), &opts).unwrap();
    let text = sink.render(7, vec![vec![batch(&[1, 2])]]).unwrap();
    assert!(
        text.starts_with("-------------------------------------------\nBatch: 7\n-------------------------------------------\n+---+\n|  v|\n+---+\n|  1|\n+---+\nonly showing top 1 row\n"),
        "{text}"
    );
}

#[test]
fn file_stream_schema_inference_is_refused_unless_enabled() {
    let spark = spark();
    let e = spark
        .read_stream()
        .json("/tmp/nowhere")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Schema must be specified when creating a streaming source DataFrame"),
        "{e}"
    );
    assert!(e.contains("spark.sql.streaming.schemaInference"), "{e}");
}

/// Writes rows `{"id": i, "name": "n<i>"}` for `ids` to `dir/name`, modified at `T0 + secs`.
fn write_json(dir: &std::path::Path, name: &str, ids: std::ops::Range<i64>, secs: i64) {
    let text: String = ids
        .map(|i| format!("{{\"id\":{i},\"name\":\"n{i}\"}}\n"))
        .collect();
    common::put(dir, name, &text, secs);
}

#[test]
fn file_source_to_file_sink_through_the_runtime_restarts_exactly_once() {
    let spark = spark();
    let dir = tmp();
    let (input, out, ckpt) = (
        dir.path().join("in"),
        dir.path().join("out"),
        dir.path().join("ckpt"),
    );
    write_json(&input, "a.json", 0..10, 1);
    write_json(&input, "b.json", 10..20, 2);
    write_json(&input, "c.json", 20..30, 3);
    let run = || {
        let df = spark
            .read_stream()
            .schema_ddl("id BIGINT, name STRING")
            .unwrap()
            .option("maxFilesPerTrigger", 2)
            .json(input.to_str().unwrap())
            .unwrap()
            .filter_expr("id % 3 != 0")
            .unwrap();
        let q = df
            .write_stream()
            .format("json")
            .option("checkpointLocation", ckpt.display())
            .trigger(Trigger::AvailableNow)
            .start_path(out.to_str().unwrap())
            .unwrap();
        q.await_termination(None).unwrap();
        q.recent_progress()
    };
    let first = run();
    // maxFilesPerTrigger = 2: three files in two batches.
    assert_eq!(first.len(), 2);
    assert_eq!(first[0].num_input_rows, 20);
    let committed = |spark: &Session| {
        common::sorted_ids(
            &spark
                .read()
                .format("json")
                .schema_ddl("id BIGINT, name STRING")
                .unwrap()
                .load(out.to_str().unwrap())
                .unwrap(),
        )
    };
    let expected: Vec<i64> = (0..30).filter(|i| i % 3 != 0).collect();
    assert_eq!(committed(&spark), expected);
    // A crash after the sink committed batch 1 but before commits/1: the replay commits
    // nothing twice; a new file is then read once.
    std::fs::remove_file(ckpt.join("commits/1")).unwrap();
    write_json(&input, "d.json", 30..33, 4);
    let second = run();
    assert_eq!(
        second.iter().map(|p| p.batch_id).collect::<Vec<_>>(),
        vec![1, 2]
    );
    let expected: Vec<i64> = (0..33).filter(|i| i % 3 != 0).collect();
    assert_eq!(committed(&spark), expected);
}

#[test]
fn rate_source_runs_through_the_runtime() {
    let spark = spark();
    let df = spark
        .read_stream()
        .format("rate")
        .option("rowsPerSecond", 1000)
        .load()
        .unwrap();
    assert!(df.is_streaming());
    let q = df
        .select_expr(&["value"])
        .unwrap()
        .write_stream()
        .format("memory")
        .query_name("rate_out")
        .start()
        .unwrap();
    eventually("rate rows", || {
        spark
            .sql("SELECT * FROM rate_out")
            .unwrap()
            .count()
            .unwrap()
            > 0
    });
    q.stop().unwrap();
    let p = q.last_progress().unwrap();
    assert!(
        p.sources[0].description.starts_with("RateStreamV2"),
        "{}",
        p.sources[0].description
    );
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn resumes_from_a_checkpoint_written_by_spark() {
    // Default shuffle partitions (200) in this session: the checkpoint pins 2.
    let spark = Session::builder().master("local[2]").build().unwrap();
    let dir = tmp();
    let ckpt = dir.path().join("ckpt");
    copy_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spark_checkpoint"),
        &ckpt,
    );
    let input = MemoryStream::new(&spark, schema());
    input.add_data(batch(&[1])).unwrap();
    input.add_data(batch(&[2])).unwrap();
    let (q, seen) = run_available_now(&input.to_df().unwrap(), &ckpt);
    assert_eq!(q.id(), "d9542036-525d-4be6-beda-09765dcd853b");
    assert_eq!(seen, vec![(1, vec![2])]);
    let offsets1 = std::fs::read_to_string(ckpt.join("offsets/1")).unwrap();
    assert!(
        offsets1.contains("\"spark.sql.shuffle.partitions\":\"2\""),
        "{offsets1}"
    );
}

#[test]
fn malformed_json_is_counted_in_progress_and_dropped_only_when_asked() {
    let spark = spark();
    let text_schema = Arc::new(Schema::new(vec![Field::new("json", DataType::Utf8, true)]));
    let input = MemoryStream::new(&spark, text_schema.clone());
    let lines = StringArray::from(vec![r#"{"a":1}"#, "{oops", r#"{"a":3}"#, "[1,"]);
    input
        .add_data(RecordBatch::try_new(text_schema, vec![Arc::new(lines)]).unwrap())
        .unwrap();
    let run = |mode: &str, name: &str| {
        let q = input
            .to_df()
            .unwrap()
            .select(vec![
                from_json_with_options(col("json"), "a BIGINT", &[("mode", mode)]).alias("j"),
            ])
            .unwrap()
            .select_expr(&["j.a AS v"])
            .unwrap()
            .write_stream()
            .format("memory")
            .query_name(name)
            .start()
            .unwrap();
        q.process_all_available().unwrap();
        let p = q.last_progress().unwrap();
        q.stop().unwrap();
        (table_values(&spark, name).len(), p)
    };
    let (kept, p) = run("DROPMALFORMED", "malformed_dropped");
    assert_eq!(kept, 2);
    assert_eq!(p.num_malformed_rows, 2);
    assert!(p.json().unwrap().contains("\"numMalformedRows\":2"));
    // PERMISSIVE keeps the rows (as NULLs) and still counts what it could not parse.
    let (kept, p) = run("PERMISSIVE", "malformed_kept");
    assert_eq!(kept, 4);
    assert_eq!(p.num_input_rows, 4);
    assert_eq!(p.num_malformed_rows, 2);
}

/// Issue 16's record: a TIMESTAMP field whose zone is `+aéb` once panicked in the parser
/// and put the query in a crash loop. Now PERMISSIVE gives NULL and the record in
/// `_corrupt_record`, DROPMALFORMED drops and counts it, and both keep running into the next
/// batch; FAILFAST fails with an error that quotes the record.
#[test]
fn a_record_with_a_broken_zone_never_stops_a_permissive_query() {
    let spark = spark();
    let text_schema = Arc::new(Schema::new(vec![Field::new("json", DataType::Utf8, true)]));
    let input = MemoryStream::new(&spark, text_schema.clone());
    let add = |lines: Vec<&str>| {
        input
            .add_data(
                RecordBatch::try_new(
                    text_schema.clone(),
                    vec![Arc::new(StringArray::from(lines))],
                )
                .unwrap(),
            )
            .unwrap();
    };
    add(vec![
        r#"{"id":1,"t":"2024-01-01 10:00:00+05:30"}"#,
        r#"{"id":2,"t":"2024-01-01 10:00:00+aéb"}"#,
    ]);
    let start = |mode: &str, name: &str| {
        input
            .to_df()
            .unwrap()
            .select(vec![
                from_json_with_options(
                    col("json"),
                    "id BIGINT, t TIMESTAMP, _corrupt_record STRING",
                    &[("mode", mode)],
                )
                .alias("j"),
            ])
            .unwrap()
            .select_expr(&[
                "j.id AS id",
                "j.t IS NULL AS no_t",
                "j._corrupt_record AS bad",
            ])
            .unwrap()
            .write_stream()
            .format("memory")
            .query_name(name)
            .start()
            .unwrap()
    };
    let permissive = start("PERMISSIVE", "broken_zone_permissive");
    let dropping = start("DROPMALFORMED", "broken_zone_dropped");
    let failing = start("FAILFAST", "broken_zone_failfast");
    permissive.process_all_available().unwrap();
    dropping.process_all_available().unwrap();
    let e = failing.process_all_available().unwrap_err().to_string();
    assert!(
        e.contains("MALFORMED_RECORD_IN_PARSING") && e.contains("aéb"),
        "{e}"
    );
    assert_eq!(dropping.last_progress().unwrap().num_malformed_rows, 1);
    // The next batch runs too.
    add(vec![r#"{"id":3,"t":"2024-01-01T10:00:00Z"}"#]);
    permissive.process_all_available().unwrap();
    dropping.process_all_available().unwrap();
    let rows =
        |name: &str| common::sorted_rows(&spark.sql(&format!("SELECT * FROM {name}")).unwrap());
    assert_eq!(
        rows("broken_zone_permissive"),
        vec![
            "1,false,NULL".to_string(),
            r#"2,true,{"id":2,"t":"2024-01-01 10:00:00+aéb"}"#.to_string(),
            "3,false,NULL".to_string(),
        ]
    );
    assert_eq!(
        rows("broken_zone_dropped"),
        vec!["1,false,NULL".to_string(), "3,false,NULL".to_string()]
    );
    permissive.stop().unwrap();
    dropping.stop().unwrap();
}

/// Which output modes Spark 4.3 accepts for each kind of stateful query, and its errors
/// (run through PySpark 4.3 with the rate source; the engine's checks must agree).
#[test]
fn output_modes_of_stateful_queries_follow_spark() {
    let spark = spark();
    let rows = || {
        spark
            .read_stream()
            .format("rate")
            .load()
            .unwrap()
            .with_column("k", col("value") % lit(3i64))
            .unwrap()
    };
    let wm = || rows().with_watermark("timestamp", "10 seconds").unwrap();
    let window = |d: DataFrame| {
        d.group_by(vec![engine_sql::functions::dsl::window(
            col("timestamp"),
            "10 seconds",
            None,
            None,
        )])
        .count()
        .unwrap()
    };
    let session = |d: DataFrame| {
        d.group_by(vec![
            col("k"),
            engine_sql::functions::dsl::session_window(col("timestamp"), lit("5 seconds")),
        ])
        .count()
        .unwrap()
    };
    let no_wm = "This output mode is not supported for streaming aggregations without watermark";
    let no_agg = "This output mode is not supported for no streaming aggregations";
    let session_update =
        "This output mode is not supported for session window streaming aggregations";
    let correctness = "Detected pattern of possible 'correctness' issue due to global watermark";
    let distinct_agg = "Distinct aggregations are not supported on streaming DataFrames/Datasets. Consider using approx_count_distinct() instead.";
    let within_no_wm = "dropDuplicatesWithinWatermark is not supported on streaming DataFrames/DataSets without watermark";
    // (query, [append, update, complete]): None starts, Some(text) is the error.
    let cases: Vec<(&str, DataFrame, [Option<&str>; 3])> = vec![
        (
            "agg_no_wm",
            rows().group_by(vec![col("k")]).count().unwrap(),
            [Some(no_wm), None, None],
        ),
        ("window_agg_wm", window(wm()), [None, None, None]),
        (
            "window_agg_no_wm",
            window(rows()),
            [Some(no_wm), None, None],
        ),
        (
            "session_wm",
            session(wm()),
            [None, Some(session_update), None],
        ),
        (
            "session_no_wm",
            session(rows()),
            [Some(no_wm), Some(session_update), None],
        ),
        (
            "dedupe_no_wm",
            rows().drop_duplicates(&["k"]).unwrap(),
            [None, None, Some(no_agg)],
        ),
        (
            "dedupe_wm",
            wm().drop_duplicates(&["k", "timestamp"]).unwrap(),
            [None, None, Some(no_agg)],
        ),
        (
            "dedupe_within_wm",
            wm().drop_duplicates_within_watermark(&["k"]).unwrap(),
            [None, None, Some(no_agg)],
        ),
        (
            "dedupe_within_no_wm",
            rows().drop_duplicates_within_watermark(&["k"]).unwrap(),
            [Some(within_no_wm), Some(within_no_wm), Some(no_agg)],
        ),
        (
            "distinct_agg",
            rows()
                .group_by(vec![col("k")])
                .agg(vec![count_distinct(vec![col("value")])])
                .unwrap(),
            [Some(no_wm), Some(distinct_agg), Some(distinct_agg)],
        ),
        (
            "chained_windows",
            window(wm())
                .group_by(vec![engine_sql::functions::dsl::window(
                    engine_sql::functions::dsl::window_time(col("window")),
                    "1 minute",
                    None,
                    None,
                )])
                .agg(vec![sum(col("count"))])
                .unwrap(),
            [None, Some(correctness), Some(correctness)],
        ),
        (
            "two_aggs",
            rows()
                .group_by(vec![col("k")])
                .count()
                .unwrap()
                .group_by(vec![col("count")])
                .count()
                .unwrap(),
            [Some(no_wm), Some(correctness), Some(correctness)],
        ),
        (
            "agg_then_dedupe_wm",
            wm().group_by(vec![
                engine_sql::functions::dsl::window(col("timestamp"), "10 seconds", None, None),
                col("k"),
            ])
            .count()
            .unwrap()
            .drop_duplicates(&["k"])
            .unwrap(),
            [None, None, None],
        ),
        (
            "dataframe_distinct",
            rows().select(vec![col("k")]).unwrap().distinct().unwrap(),
            [None, None, Some(no_agg)],
        ),
        (
            "global_agg",
            rows().agg(vec![count(lit(1))]).unwrap(),
            [Some(no_wm), None, None],
        ),
    ];
    for (name, df, want) in cases {
        for (mode, want) in [OutputMode::Append, OutputMode::Update, OutputMode::Complete]
            .into_iter()
            .zip(want)
        {
            let got = df
                .write_stream()
                .format("memory")
                .query_name(&format!("m_{name}_{}", mode.name()))
                .output_mode(mode)
                .start();
            match (got, want) {
                (Ok(q), None) => q.stop().unwrap(),
                (Err(e), Some(text)) => {
                    assert!(e.to_string().contains(text), "{name} {mode:?}: {e}")
                }
                (Ok(q), Some(text)) => {
                    q.stop().unwrap();
                    panic!("{name} {mode:?} started; Spark refuses it: {text}");
                }
                (Err(e), None) => panic!("{name} {mode:?} refused; Spark runs it: {e}"),
            }
        }
    }
}

/// `rate-micro-batch` makes the same rows per batch on every run, so a windowed aggregation
/// over it can be compared with Spark batch by batch. Five `AvailableNow` runs on one
/// checkpoint (each runs one data batch, then a no-data batch when the watermark moved),
/// as PySpark 4.3 ran them: batch ids 0-7, the window [0 s, 2 s) emitted by batch 5 with
/// count 8 and sum 28, the watermarks 0, 0, 0 1, 1 2, 2 3 (s) per run.
#[test]
fn rate_micro_batch_windows_match_spark_batch_by_batch() {
    let spark = spark();
    let dir = tmp();
    let df = spark
        .read_stream()
        .format("rate-micro-batch")
        .option("rowsPerBatch", "4")
        .option("numPartitions", "2")
        .option("startTimestamp", "0")
        .option("advanceMillisPerBatch", "1000")
        .load()
        .unwrap()
        .with_watermark("timestamp", "1 second")
        .unwrap();
    df.create_or_replace_temp_view("ticks").unwrap();
    let q = spark
        .sql(
            "SELECT CAST(window.start AS STRING) AS start, count(*) AS n, sum(value) AS s \
             FROM ticks GROUP BY window(timestamp, '2 seconds')",
        )
        .unwrap();
    type Rendered = Arc<Mutex<Vec<(u64, Vec<String>)>>>;
    let seen: Rendered = Arc::default();
    let mut watermarks = Vec::new();
    for _ in 0..5 {
        let s = seen.clone();
        let run = q
            .write_stream()
            .foreach_batch(move |df, id| {
                let mut rows: Vec<String> = df
                    .collect()?
                    .iter()
                    .flat_map(|b| {
                        let start = b.column(0).as_string::<i32>().clone();
                        let n = b.column(1).as_primitive::<Int64Type>().clone();
                        let sum = b.column(2).as_primitive::<Int64Type>().clone();
                        (0..b.num_rows()).map(move |i| {
                            format!("{} {} {}", start.value(i), n.value(i), sum.value(i))
                        })
                    })
                    .collect();
                rows.sort();
                s.lock().unwrap().push((id, rows));
                Ok(())
            })
            .output_mode_str("append")
            .option("checkpointLocation", dir.path().display())
            .trigger(Trigger::AvailableNow)
            .start()
            .unwrap();
        run.await_termination(None).unwrap();
        watermarks.push(
            run.recent_progress()
                .iter()
                .map(|p| p.event_time.get("watermark").cloned().unwrap_or_default())
                .collect::<Vec<_>>(),
        );
    }
    let seen = seen.lock().unwrap().clone();
    let ids: Vec<u64> = seen.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, (0..8).collect::<Vec<_>>());
    for (id, rows) in &seen {
        let want: Vec<String> = if *id == 5 {
            vec!["1970-01-01 00:00:00 8 28".to_string()]
        } else {
            vec![]
        };
        assert_eq!(rows, &want, "batch {id}");
    }
    let s = |t: &[&str]| t.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        watermarks,
        vec![
            s(&["1970-01-01T00:00:00.000Z"]),
            s(&["1970-01-01T00:00:00.000Z"]),
            s(&["1970-01-01T00:00:00.000Z", "1970-01-01T00:00:01.000Z"]),
            s(&["1970-01-01T00:00:01.000Z", "1970-01-01T00:00:02.000Z"]),
            s(&["1970-01-01T00:00:02.000Z", "1970-01-01T00:00:03.000Z"]),
        ]
    );
}
