//! Watermark and window semantics as properties, over random event times, delays, batch
//! splits and restarts (proptest). A small model of Spark's rules (the ones the golden cases
//! pin against PySpark) says what every batch must emit; the engine runs the same windowed
//! aggregation on a memory stream, one added batch per micro-batch:
//!
//! 1. Append: every batch emits exactly the model's windows, so the union of everything
//!    emitted is the aggregation of the rows not dropped, over windows that ended at or
//!    before the final watermark;
//! 2. no window is emitted twice; Update's last value per window equals Complete's;
//! 3. after every batch the state holds exactly the windows the watermark has not passed
//!    (`numRowsTotal`);
//! 4. the rows counted as dropped are the windows of the batch (after its rows merged) that
//!    ended at or before the batch before's watermark;
//! 5. a run stopped and restarted after every batch emits exactly what an uninterrupted run
//!    emits, batch by batch.
//!
//! Session windows (at the end): whatever the batch split and restarts, the stream's sessions
//! end up as the batch query's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use arrow::array::{AsArray, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef, TimeUnit};
use engine_sql::functions::dsl::{session_window, window};
use engine_sql::prelude::*;
use engine_sql::streaming::MemoryStream;
use proptest::prelude::*;

const MIN_MS: i64 = 60_000;
/// Window size: 10 minutes.
const SIZE_MS: i64 = 10 * MIN_MS;

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("k", DataType::Utf8, false),
        Field::new("v", DataType::Int64, false),
    ]))
}

/// One event: minute of the event time, key, value.
type Event = (i64, &'static str, i64);

fn batch(events: &[Event]) -> RecordBatch {
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(
                TimestampMicrosecondArray::from(
                    events
                        .iter()
                        .map(|e| e.0 * MIN_MS * 1000)
                        .collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            ),
            Arc::new(StringArray::from(
                events.iter().map(|e| e.1).collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(
                events.iter().map(|e| e.2).collect::<Vec<_>>(),
            )),
        ],
    )
    .unwrap()
}

/// (key, window start ms) -> (count, sum).
type Windows = BTreeMap<(String, i64), (i64, i64)>;

/// What a batch must do, by Spark's rules.
#[derive(Debug, Clone, PartialEq)]
struct Step {
    emitted: Windows,
    state_rows: i64,
    dropped: i64,
}

/// Spark's semantics for a tumbling window count/sum per key in `mode`, `delay` minutes
/// late allowed; one step per batch, then the trailing batch without data when the
/// watermark moved (Append and Update).
fn model(batches: &[Vec<Event>], delay: i64, mode: OutputMode) -> Vec<Step> {
    model_with_late(batches, delay, mode).0
}

/// [`model`], and the windows that had rows dropped as late.
fn model_with_late(
    batches: &[Vec<Event>],
    delay: i64,
    mode: OutputMode,
) -> (Vec<Step>, Vec<(String, i64)>) {
    let late_keys = std::cell::RefCell::new(Vec::new());
    let mut wm = 0i64;
    let mut last_wm = 0i64;
    let mut state = Windows::new();
    let mut steps = Vec::new();
    let run = |events: &[Event], late: i64, evict: i64, state: &mut Windows| -> Step {
        let mut merged = Windows::new();
        for (m, k, v) in events {
            let start = (m * MIN_MS).div_euclid(SIZE_MS) * SIZE_MS;
            let e = merged.entry((k.to_string(), start)).or_insert((0, 0));
            e.0 += 1;
            e.1 += v;
        }
        let mut dropped = 0;
        let mut updated = Windows::new();
        for (key, (c, s)) in merged {
            if mode != OutputMode::Complete && key.1 + SIZE_MS <= late {
                dropped += 1;
                late_keys.borrow_mut().push(key);
                continue;
            }
            let e = state.entry(key.clone()).or_insert((0, 0));
            e.0 += c;
            e.1 += s;
            updated.insert(key, *e);
        }
        let emitted = match mode {
            OutputMode::Append => {
                let done: Vec<_> = state
                    .keys()
                    .filter(|k| k.1 + SIZE_MS <= evict)
                    .cloned()
                    .collect();
                done.into_iter()
                    .map(|k| {
                        let v = state.remove(&k).unwrap();
                        (k, v)
                    })
                    .collect()
            }
            OutputMode::Update => {
                state.retain(|k, _| k.1 + SIZE_MS > evict);
                updated
            }
            OutputMode::Complete => state.clone(),
        };
        Step {
            emitted,
            state_rows: state.len() as i64,
            dropped,
        }
    };
    for events in batches {
        steps.push(run(events, last_wm, wm, &mut state));
        last_wm = wm;
        if let Some(max) = events.iter().map(|e| e.0 * MIN_MS).max() {
            wm = wm.max(max - delay * MIN_MS);
        }
    }
    if mode != OutputMode::Complete && wm > last_wm {
        steps.push(run(&[], last_wm, wm, &mut state));
    }
    (steps, late_keys.into_inner())
}

fn spark() -> Session {
    Session::builder()
        .master("local[2]")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .build()
        .unwrap()
}

/// The windowed aggregation over `input`.
fn query(input: &MemoryStream, delay: i64) -> DataFrame {
    input
        .to_df()
        .unwrap()
        .with_watermark("ts", &format!("{delay} minutes"))
        .unwrap()
        .group_by(vec![col("k"), window(col("ts"), "10 minutes", None, None)])
        .agg(vec![count(lit(1)).alias("n"), sum(col("v")).alias("s")])
        .unwrap()
        .select(vec![
            col("k"),
            col("window.start").alias("w"),
            col("n"),
            col("s"),
        ])
        .unwrap()
}

type Seen = Arc<Mutex<Vec<(u64, Windows)>>>;

/// Runs the query to the end (Trigger::AvailableNow) on `ckpt`; the batches it ran with
/// their emitted windows, numRowsTotal and numRowsDroppedByWatermark.
fn run(df: &DataFrame, mode: OutputMode, ckpt: &Path, trigger: Trigger) -> Vec<(u64, Step)> {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let q = df
        .write_stream()
        .foreach_batch(move |df, id| {
            let mut w = Windows::new();
            for b in df.collect()? {
                let k = b.column(0).as_string::<i32>();
                let start = arrow::compute::cast(b.column(1), &DataType::Int64).unwrap();
                let start = start.as_primitive::<Int64Type>();
                let n = b.column(2).as_primitive::<Int64Type>();
                let sum = b.column(3).as_primitive::<Int64Type>();
                for i in 0..b.num_rows() {
                    let key = (k.value(i).to_string(), start.value(i) / 1000);
                    assert!(
                        w.insert(key.clone(), (n.value(i), sum.value(i))).is_none(),
                        "window {key:?} twice in batch {id}"
                    );
                }
            }
            s.lock().unwrap().push((id, w));
            Ok(())
        })
        .output_mode(mode)
        .option("checkpointLocation", ckpt.display())
        .trigger(trigger)
        .start()
        .unwrap();
    q.await_termination(None).unwrap();
    let progress = q.recent_progress();
    let seen = seen.lock().unwrap().clone();
    seen.into_iter()
        .map(|(id, emitted)| {
            let p = progress
                .iter()
                .find(|p| p.batch_id == id as i64)
                .expect("progress of a batch");
            let op = &p.state_operators[0];
            (
                id,
                Step {
                    emitted,
                    state_rows: op.num_rows_total,
                    dropped: op.num_rows_dropped_by_watermark,
                },
            )
        })
        .collect()
}

/// One added batch per micro-batch, straight through.
fn uninterrupted(batches: &[Vec<Event>], delay: i64, mode: OutputMode) -> Vec<(u64, Step)> {
    let spark = spark();
    let input = MemoryStream::new(&spark, schema());
    input.set_max_rows_per_trigger(Some(1));
    for b in batches {
        input.add_data(batch(b)).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    run(
        &query(&input, delay),
        mode,
        dir.path(),
        Trigger::AvailableNow,
    )
}

/// Stopped and restarted after every batch: each run takes one new batch (Trigger::Once
/// runs exactly one), then a last run applies the final watermark.
fn restarted(batches: &[Vec<Event>], delay: i64, mode: OutputMode) -> Vec<(u64, Step)> {
    let spark = spark();
    let input = MemoryStream::new(&spark, schema());
    let dir = tempfile::tempdir().unwrap();
    let df = query(&input, delay);
    let mut out = Vec::new();
    for b in batches {
        input.add_data(batch(b)).unwrap();
        out.extend(run(&df, mode, dir.path(), Trigger::Once));
    }
    out.extend(run(&df, mode, dir.path(), Trigger::AvailableNow));
    out
}

fn events() -> impl Strategy<Value = Vec<Vec<Event>>> {
    let event = (
        0i64..90,
        prop::sample::select(vec!["a", "b", "c"]),
        1i64..10,
    );
    prop::collection::vec(prop::collection::vec(event, 1..6), 1..6)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn append_emits_the_models_windows_once_and_survives_restarts(
        batches in events(),
        delay in 0i64..30,
    ) {
        let want: Vec<(u64, Step)> = model(&batches, delay, OutputMode::Append)
            .into_iter()
            .enumerate()
            .map(|(i, s)| (i as u64, s))
            .collect();
        let got = uninterrupted(&batches, delay, OutputMode::Append);
        prop_assert_eq!(&got, &want);
        // No window twice across batches.
        let mut all = Windows::new();
        for (_, s) in &got {
            for (k, v) in &s.emitted {
                prop_assert!(all.insert(k.clone(), *v).is_none(), "{:?} emitted twice", k);
            }
        }
        prop_assert_eq!(restarted(&batches, delay, OutputMode::Append), want);
    }

    #[test]
    fn update_ends_where_complete_does(batches in events(), delay in 0i64..30) {
        let update = uninterrupted(&batches, delay, OutputMode::Update);
        let (steps, late) = model_with_late(&batches, delay, OutputMode::Update);
        let want: Vec<(u64, Step)> = steps
            .into_iter()
            .enumerate()
            .map(|(i, s)| (i as u64, s))
            .collect();
        prop_assert_eq!(&update, &want);
        let complete = uninterrupted(&batches, delay, OutputMode::Complete);
        let last: Windows = update
            .iter()
            .flat_map(|(_, s)| s.emitted.clone())
            .collect();
        // Complete keeps every window (nothing late, nothing evicted); Update's last value
        // of each window it emitted is Complete's final one, for windows no late row missed.
        let final_complete = &complete.last().unwrap().1.emitted;
        for (k, v) in &last {
            if !late.contains(k) {
                prop_assert_eq!(final_complete.get(k), Some(v), "window {:?}", k);
            }
        }
        prop_assert_eq!(restarted(&batches, delay, OutputMode::Update), want);
    }
}

// Session windows across micro-batches: however the events are split into batches, and
// whether the query is stopped and restarted between them, the stream's sessions in Complete
// mode (no watermark: nothing late, nothing evicted) after the last batch are exactly the
// batch query's sessions over all the events. That covers what the stateful operator does
// between batches: new events merging with the key's stored sessions, bridging two of them
// into one, and sessions of several keys side by side.

/// (key, session start, session end in minutes) -> (count, sum).
type Sessions = BTreeMap<(String, i64, i64), (i64, i64)>;

/// Count and sum per key and 5-minute session, flattened.
fn sessions_of(df: DataFrame) -> DataFrame {
    df.group_by(vec![col("k"), session_window(col("ts"), lit("5 minutes"))])
        .agg(vec![count(lit(1)).alias("n"), sum(col("v")).alias("s")])
        .unwrap()
        .select(vec![
            col("k"),
            col("session_window.start").alias("start"),
            col("session_window.end").alias("end"),
            col("n"),
            col("s"),
        ])
        .unwrap()
}

fn collect_sessions(batches: &[RecordBatch]) -> Sessions {
    let mut out = Sessions::new();
    for b in batches {
        let k = b.column(0).as_string::<i32>();
        let minutes = |c: usize| {
            let c = arrow::compute::cast(b.column(c), &DataType::Int64).unwrap();
            c.as_primitive::<Int64Type>()
                .values()
                .iter()
                .map(|us| us / (MIN_MS * 1000))
                .collect::<Vec<_>>()
        };
        let (start, end) = (minutes(1), minutes(2));
        let n = b.column(3).as_primitive::<Int64Type>();
        let s = b.column(4).as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            let key = (k.value(i).to_string(), start[i], end[i]);
            assert!(
                out.insert(key.clone(), (n.value(i), s.value(i))).is_none(),
                "session {key:?} twice in one output"
            );
        }
    }
    out
}

/// Runs the streaming query on `ckpt` with `trigger`; the sessions of its last batch.
fn run_sessions(df: &DataFrame, ckpt: &Path, trigger: Trigger) -> Option<Sessions> {
    let last: Arc<Mutex<Option<Sessions>>> = Arc::default();
    let l = last.clone();
    let q = df
        .write_stream()
        .foreach_batch(move |df, _| {
            *l.lock().unwrap() = Some(collect_sessions(&df.collect()?));
            Ok(())
        })
        .output_mode(OutputMode::Complete)
        .option("checkpointLocation", ckpt.display())
        .trigger(trigger)
        .start()
        .unwrap();
    q.await_termination(None).unwrap();
    last.lock().unwrap().take()
}

/// Minutes 0..60 (so sessions of 5 minutes often touch and bridge), up to 8 per batch.
fn session_events() -> impl Strategy<Value = Vec<Vec<Event>>> {
    let event = (
        0i64..60,
        prop::sample::select(vec!["a", "b", "c"]),
        1i64..10,
    );
    prop::collection::vec(prop::collection::vec(event, 1..8), 1..6)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn the_streams_sessions_are_the_batch_querys_however_the_events_are_split(
        batches in session_events(),
    ) {
        let spark = spark();
        let all: Vec<Event> = batches.iter().flatten().copied().collect();
        let want = collect_sessions(
            &sessions_of(spark.create_dataframe(vec![batch(&all)]).unwrap())
                .collect()
                .unwrap(),
        );

        // One added batch per micro-batch, straight through.
        let input = MemoryStream::new(&spark, schema());
        input.set_max_rows_per_trigger(Some(1));
        for b in &batches {
            input.add_data(batch(b)).unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let df = sessions_of(input.to_df().unwrap());
        prop_assert_eq!(run_sessions(&df, dir.path(), Trigger::AvailableNow), Some(want.clone()));

        // Stopped and restarted after every batch: the sessions come back from the state.
        let input = MemoryStream::new(&spark, schema());
        let dir = tempfile::tempdir().unwrap();
        let df = sessions_of(input.to_df().unwrap());
        let mut last = None;
        for b in &batches {
            input.add_data(batch(b)).unwrap();
            last = run_sessions(&df, dir.path(), Trigger::Once);
        }
        prop_assert_eq!(last, Some(want));
    }
}
