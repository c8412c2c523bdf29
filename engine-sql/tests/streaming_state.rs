//! Stateful queries and their state across runs: a restart with a changed query fails at
//! start naming the operator and what changed; both state store providers give the same
//! rows; the State Data Source reads what a query kept.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::{Arc, Mutex};

use arrow::array::{Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use engine_sql::functions::dsl::window;
use engine_sql::prelude::*;
use engine_sql::streaming::MemoryStream;

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

/// Events at the given minutes, key `a` unless odd minute, value 1.
fn batch(minutes: &[i64]) -> RecordBatch {
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(
                TimestampMicrosecondArray::from(
                    minutes.iter().map(|m| m * 60_000_000).collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            ),
            Arc::new(StringArray::from(
                minutes
                    .iter()
                    .map(|m| if m % 2 == 0 { "a" } else { "b" })
                    .collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(vec![1; minutes.len()])),
        ],
    )
    .unwrap()
}

fn spark(provider: &str) -> Session {
    Session::builder()
        .master("local[2]")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.streaming.stateStore.providerClass", provider)
        .build()
        .unwrap()
}

/// (batch id, rows) per foreachBatch call.
type Seen = Arc<Mutex<Vec<(u64, Vec<String>)>>>;

/// Runs `df` with AvailableNow in `mode` on `ckpt`: every batch's rows (sorted, as text).
fn run(df: &DataFrame, ckpt: &Path) -> Result<Vec<(u64, Vec<String>)>> {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let q = df
        .write_stream()
        .foreach_batch(move |df, id| {
            let mut rows: Vec<String> = df.collect_rows()?.iter().map(|r| r.join(",")).collect();
            rows.sort();
            s.lock().unwrap().push((id, rows));
            Ok(())
        })
        .output_mode(OutputMode::Append)
        .option("checkpointLocation", ckpt.display())
        .trigger(Trigger::AvailableNow)
        .start()?;
    q.await_termination(None)?;
    let out = seen.lock().unwrap().clone();
    Ok(out)
}

fn windowed(input: &MemoryStream, size: &str, key: Expr, agg: Expr) -> DataFrame {
    input
        .to_df()
        .unwrap()
        .with_watermark("ts", "5 minutes")
        .unwrap()
        .group_by(vec![key, window(col("ts"), size, None, None)])
        .agg(vec![agg])
        .unwrap()
}

#[test]
fn a_restart_with_a_changed_query_fails_naming_the_operator() {
    let dir = tempfile::tempdir().unwrap();
    let spark = spark("hdfs");
    let input = MemoryStream::new(&spark, schema());
    input.add_data(batch(&[1, 2, 12])).unwrap();
    run(
        &windowed(&input, "10 minutes", col("k"), count(lit(1))),
        dir.path(),
    )
    .unwrap();
    input.add_data(batch(&[30])).unwrap();
    let changed = [
        (
            windowed(&input, "5 minutes", col("k"), count(lit(1))),
            "STREAMING_STATEFUL_OPERATOR_NOT_MATCH_IN_STATE_METADATA",
            "window(300000000, 300000000, 0)",
        ),
        (
            windowed(&input, "10 minutes", col("k"), sum(col("v"))),
            "STREAMING_STATEFUL_OPERATOR_NOT_MATCH_IN_STATE_METADATA",
            "sum(v)",
        ),
        (
            windowed(&input, "10 minutes", col("v").alias("k"), count(lit(1))),
            "STATE_STORE_KEY_SCHEMA_NOT_COMPATIBLE",
            "",
        ),
    ];
    for (df, class, detail) in changed {
        let e = run(&df, dir.path()).unwrap_err().to_string();
        assert!(e.contains(class), "{e}");
        assert!(e.contains(detail), "{e}");
    }
    // The unchanged query resumes and emits the rest.
    let rest = run(
        &windowed(&input, "10 minutes", col("k"), count(lit(1))),
        dir.path(),
    )
    .unwrap();
    let rows: Vec<String> = rest.into_iter().flat_map(|(_, r)| r).collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
}

#[test]
fn both_providers_give_the_same_rows_and_the_state_can_be_read() {
    let mut outputs = Vec::new();
    for provider in [
        "org.apache.spark.sql.execution.streaming.state.HDFSBackedStateStoreProvider",
        "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let spark = spark(provider);
        let input = MemoryStream::new(&spark, schema());
        input.set_max_rows_per_trigger(Some(1));
        for b in [&[1, 2, 3][..], &[12, 14], &[4, 25], &[40]] {
            input.add_data(batch(b)).unwrap();
        }
        let out = run(
            &windowed(&input, "10 minutes", col("k"), count(lit(1))),
            dir.path(),
        )
        .unwrap();
        // The state of the last batch: the windows the watermark has not passed.
        let state = spark
            .read()
            .format("statestore")
            .load(dir.path().to_str().unwrap())
            .unwrap();
        assert_eq!(state.count().unwrap(), 1);
        let meta = spark
            .read()
            .format("state-metadata")
            .load(dir.path().to_str().unwrap())
            .unwrap()
            .collect_rows()
            .unwrap();
        assert!(
            meta.iter().any(|r| r.join(",").contains("stateStoreSave")),
            "{meta:?}"
        );
        outputs.push(out);
    }
    assert_eq!(outputs[0], outputs[1]);
    assert!(outputs[0].iter().any(|(_, rows)| !rows.is_empty()));
}

/// Runs `aggs(seconds)` over 10-minute windows in two runs on one checkpoint (minutes 1
/// and 2, then 3, 4 and 30): the first run emits nothing and keeps the window's partial
/// state, the second merges it with its own rows and emits the window's one row.
fn one_window_across_a_restart(aggs: impl Fn(Expr) -> Vec<Expr>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let spark = spark("hdfs");
    let input = MemoryStream::new(&spark, schema());
    let query = |input: &MemoryStream| {
        input
            .to_df()
            .unwrap()
            .with_watermark("ts", "5 minutes")
            .unwrap()
            .group_by(vec![window(col("ts"), "10 minutes", None, None)])
            .agg(aggs(col("ts").cast(DataType::Int64)))
            .unwrap()
    };
    input.add_data(batch(&[1, 2])).unwrap();
    let first = run(&query(&input), dir.path()).unwrap();
    assert!(first.iter().all(|(_, rows)| rows.is_empty()), "{first:?}");
    input.add_data(batch(&[3, 4, 30])).unwrap();
    let rows: Vec<String> = run(&query(&input), dir.path())
        .unwrap()
        .into_iter()
        .flat_map(|(_, r)| r)
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows[0].clone()
}

#[test]
fn new_aggregates_merge_state_kept_across_a_restart() {
    // The window's result must merge the partial state the first run kept (a moment
    // buffer, a max_by pair, a set, a count) with the second run's rows.
    let row = one_window_across_a_restart(|seconds| {
        vec![
            call("var_pop", vec![seconds]),
            call("max_by", vec![col("k"), col("ts")]),
            call("array_sort", vec![call("collect_set", vec![col("k")])]),
            call("count_if", vec![col("k").eq(lit("a"))]),
        ]
    });
    // Seconds 60, 120, 180, 240: population variance 4500; the latest row has key `a`.
    assert!(row.ends_with(",4500.0,a,[a, b],2"), "{row}");
}

#[test]
fn newer_aggregate_states_survive_a_restart() {
    // Kept states: a sum with its count, a bit fold, a product, value counts, a quantile
    // summary, HLL++ registers.
    let row = one_window_across_a_restart(|seconds| {
        vec![
            call("try_sum", vec![seconds.clone()]),
            call("try_avg", vec![seconds.clone()]),
            call("bit_or", vec![seconds.clone()]),
            call("product", vec![seconds.clone()]),
            call("percentile", vec![seconds.clone(), lit(0.25)]),
            call("percentile_approx", vec![seconds, lit(0.5)]),
            call("mode", vec![col("k"), lit(true)]),
            call("approx_count_distinct", vec![col("k")]),
        ]
    });
    // Seconds 60, 120, 180, 240: sum 600, mean 150, OR 252, product 311040000, first
    // quartile 105, approximate median 120; keys a, b, a, b tie and mode(k, true) takes
    // the smaller; two distinct keys.
    assert!(
        row.ends_with(",600,150.0,252,3.1104E8,105.0,120,a,2"),
        "{row}"
    );
}

#[test]
fn a_limit_on_a_stream_keeps_its_count_across_restarts_with_either_provider() {
    for provider in ["hdfs", "rocksdb"] {
        let dir = tempfile::tempdir().unwrap();
        let spark = spark(provider);
        let input = MemoryStream::new(&spark, schema());
        let query = |input: &MemoryStream| {
            input
                .to_df()
                .unwrap()
                .select(vec![col("ts").cast(DataType::Int64).alias("t")])
                .unwrap()
                .limit(3)
                .unwrap()
        };
        input.add_data(batch(&[1, 2])).unwrap();
        let first = run(&query(&input), dir.path()).unwrap();
        // Seconds; each batch's rows are sorted as text.
        assert_eq!(first, vec![(0, vec!["120".into(), "60".into()])]);
        input.add_data(batch(&[3, 4])).unwrap();
        input.add_data(batch(&[5])).unwrap();
        // The restart reads the count (2) back: one more row, the next in order, then none.
        let rest = run(&query(&input), dir.path()).unwrap();
        let rows: Vec<String> = rest.into_iter().flat_map(|(_, r)| r).collect();
        assert_eq!(rows, vec!["180".to_string()], "{provider}");
    }
}
