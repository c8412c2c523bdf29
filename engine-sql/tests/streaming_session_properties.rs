//! Session windows across micro-batches as a property (proptest): however the events are
//! split into batches, and whether the query is stopped and restarted between them, the
//! stream's sessions in Complete mode (no watermark: nothing late, nothing evicted) after the
//! last batch are exactly the batch query's sessions over all the events. That covers what
//! the stateful operator does between batches: new events merging with the key's stored
//! sessions, bridging two of them into one, and sessions of several keys side by side.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use arrow::array::{AsArray, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef, TimeUnit};
use engine_sql::functions::dsl::session_window;
use engine_sql::prelude::*;
use engine_sql::streaming::MemoryStream;
use proptest::prelude::*;

const MIN_US: i64 = 60_000_000;

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
                    events.iter().map(|e| e.0 * MIN_US).collect::<Vec<_>>(),
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

/// (key, session start, session end in minutes) -> (count, sum).
type Sessions = BTreeMap<(String, i64, i64), (i64, i64)>;

fn spark() -> Session {
    Session::builder()
        .master("local[2]")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .build()
        .unwrap()
}

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
                .map(|us| us / MIN_US)
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
fn run(df: &DataFrame, ckpt: &Path, trigger: Trigger) -> Option<Sessions> {
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

fn events() -> impl Strategy<Value = Vec<Vec<Event>>> {
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
        batches in events(),
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
        prop_assert_eq!(run(&df, dir.path(), Trigger::AvailableNow), Some(want.clone()));

        // Stopped and restarted after every batch: the sessions come back from the state.
        let input = MemoryStream::new(&spark, schema());
        let dir = tempfile::tempdir().unwrap();
        let df = sessions_of(input.to_df().unwrap());
        let mut last = None;
        for b in &batches {
            input.add_data(batch(b)).unwrap();
            last = run(&df, dir.path(), Trigger::Once);
        }
        prop_assert_eq!(last, Some(want));
    }
}
