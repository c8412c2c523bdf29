//! The State Data Source through engine-core's `Format` / `InputPartition` traits, as the SQL
//! layer calls it: `format("statestore")` with its options and `format("state-metadata")`.

#![allow(clippy::unwrap_used)] // helpers of tests: a failed unwrap is a failed test

use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Int32Type, Int64Type, Schema};
use engine_core::checkpoint::{CommitLog, CommitMetadata};
use engine_core::connector::FormatRegistry;
use engine_core::options::Options;
use engine_state::conf::StateStoreConf;
use engine_state::metadata::{OperatorInfo, OperatorMetadata, StoreInfo, validate_and_write};
use engine_state::rows::{KeyValueCodec, StateSchema};
use engine_state::schema::check_state_schema;
use engine_state::{StateStoreId, StateStores};

fn state_schema() -> StateSchema {
    StateSchema {
        key: Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, false)])),
        value: Arc::new(Schema::new(vec![
            Field::new("s", DataType::Utf8, true),
            Field::new("n", DataType::Int64, false),
        ])),
    }
}

/// Two batches on two partitions: batch 0 puts k=1..=4 (partition k % 2), batch 1 updates
/// k=2 and removes k=3.
fn checkpoint(dir: &Path) {
    let state = dir.join("state");
    let schema = state_schema();
    check_state_schema(&state, 0, "default", &schema, true, false).unwrap();
    validate_and_write(
        &state,
        &[OperatorMetadata {
            operator_info: OperatorInfo {
                operator_id: 0,
                operator_name: "stateStoreSave".into(),
            },
            state_store_info: vec![StoreInfo {
                store_name: "default".into(),
                num_cols_prefix_key: 0,
                num_partitions: 2,
            }],
        }],
    )
    .unwrap();
    let codec = KeyValueCodec::new(&schema).unwrap();
    let stores = StateStores::new(StateStoreConf {
        maintenance_interval_ms: 0,
        ..StateStoreConf::default()
    })
    .unwrap();
    let commits = CommitLog::new(dir.join("commits"));
    let batches: [&[(i64, Option<&str>)]; 2] = [
        &[
            (1, Some("a")),
            (2, Some("b")),
            (3, Some("c")),
            (4, Some("d")),
        ],
        &[(2, Some("bb")), (3, None)],
    ];
    for (batch, changes) in batches.iter().enumerate() {
        for p in 0..2u32 {
            let id = StateStoreId::new(&state, 0, p);
            let mut store = stores.get_store(&id, batch as u64).unwrap();
            for (k, v) in changes.iter().filter(|(k, _)| k % 2 == p as i64) {
                let key = codec
                    .key
                    .encode(&[Arc::new(Int64Array::from(vec![*k])) as ArrayRef])
                    .unwrap();
                match v {
                    Some(s) => {
                        let value = codec
                            .value
                            .encode(&[
                                Arc::new(StringArray::from(vec![*s])) as ArrayRef,
                                Arc::new(Int64Array::from(vec![k * 10])),
                            ])
                            .unwrap();
                        store.put(key.row(0).data(), value.row(0).data()).unwrap();
                    }
                    None => store.remove(key.row(0).data()).unwrap(),
                }
            }
            store.commit().unwrap();
        }
        commits
            .add(batch as u64, CommitMetadata::default())
            .unwrap();
    }
}

fn read(format: &str, pairs: &[(&str, &str)]) -> engine_core::Result<Vec<RecordBatch>> {
    engine_state::register();
    let f = FormatRegistry::global().get(format).unwrap();
    let options = Options::new(pairs.iter().copied());
    let schema = f.schema(&options, None)?;
    let mut out = Vec::new();
    for p in f.create_batch_scan(&options, schema.clone())? {
        for b in p.read()? {
            let b = b?;
            assert_eq!(b.schema(), schema);
            out.push(b);
        }
    }
    Ok(out)
}

/// (key k, value s, value n, partition) rows, sorted by k.
fn rows(batches: &[RecordBatch]) -> Vec<(i64, Option<String>, Option<i64>, i32)> {
    let mut out = Vec::new();
    for b in batches {
        let key = b.column_by_name("key").unwrap().as_struct();
        let value = b.column_by_name("value").unwrap().as_struct();
        let part = b
            .column_by_name("partition_id")
            .unwrap()
            .as_primitive::<Int32Type>();
        for i in 0..b.num_rows() {
            let k = key.column(0).as_primitive::<Int64Type>().value(i);
            let (s, n) = if value.is_null(i) {
                (None, None)
            } else {
                (
                    Some(value.column(0).as_string::<i32>().value(i).to_string()),
                    Some(value.column(1).as_primitive::<Int64Type>().value(i)),
                )
            };
            out.push((k, s, n, part.value(i)));
        }
    }
    out.sort_by_key(|r| r.0);
    out
}

#[test]
fn reads_the_state_after_the_last_committed_batch_and_after_any_batch() {
    let d = tempfile::tempdir().unwrap();
    checkpoint(d.path());
    let path = d.path().to_str().unwrap();
    let latest = read("statestore", &[("path", path)]).unwrap();
    assert_eq!(
        rows(&latest),
        vec![
            (1, Some("a".into()), Some(10), 1),
            (2, Some("bb".into()), Some(20), 0),
            (4, Some("d".into()), Some(40), 0),
        ]
    );
    let first = read("statestore", &[("path", path), ("batchId", "0")]).unwrap();
    assert_eq!(rows(&first).len(), 4);
    let schema = latest[0].schema();
    let names: Vec<_> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, vec!["key", "value", "partition_id"]);
}

#[test]
fn the_change_feed_has_updates_and_deletes_per_batch() {
    let d = tempfile::tempdir().unwrap();
    checkpoint(d.path());
    let path = d.path().to_str().unwrap();
    let batches = read(
        "statestore",
        &[
            ("path", path),
            ("readChangeFeed", "true"),
            ("changeStartBatchId", "1"),
        ],
    )
    .unwrap();
    let names: Vec<_> = batches[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        vec!["batch_id", "change_type", "key", "value", "partition_id"]
    );
    let mut changes = Vec::new();
    for b in &batches {
        let batch_ids = b.column(0).as_primitive::<Int64Type>();
        let kinds = b.column(1).as_string::<i32>();
        for i in 0..b.num_rows() {
            changes.push((batch_ids.value(i), kinds.value(i).to_string()));
        }
    }
    changes.sort();
    assert_eq!(
        changes,
        vec![(1, "delete".to_string()), (1, "update".to_string())]
    );
    assert_eq!(
        rows(&batches),
        vec![(2, Some("bb".into()), Some(20), 0), (3, None, None, 1)]
    );
    let all = read(
        "statestore",
        &[
            ("path", path),
            ("readChangeFeed", "true"),
            ("changeStartBatchId", "0"),
            ("changeEndBatchId", "1"),
        ],
    )
    .unwrap();
    assert_eq!(rows(&all).len(), 6);
}

#[test]
fn options_are_checked_as_spark_checks_them() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().to_str().unwrap();
    let class = |pairs: &[(&str, &str)]| {
        read("statestore", pairs)
            .unwrap_err()
            .error_class()
            .map(str::to_string)
    };
    assert_eq!(
        class(&[]).as_deref(),
        Some("STDS_REQUIRED_OPTION_UNSPECIFIED")
    );
    assert_eq!(
        class(&[("path", path)]).as_deref(),
        Some("STDS_COMMITTED_BATCH_UNAVAILABLE")
    );
    checkpoint(d.path());
    assert_eq!(
        class(&[("path", path), ("operatorId", "-1")]).as_deref(),
        Some("STDS_INVALID_OPTION_VALUE.IS_NEGATIVE")
    );
    assert_eq!(
        class(&[("path", path), ("storeName", " ")]).as_deref(),
        Some("STDS_INVALID_OPTION_VALUE.IS_EMPTY")
    );
    assert_eq!(
        class(&[("path", path), ("readChangeFeed", "true"), ("batchId", "0")]).as_deref(),
        Some("STDS_CONFLICT_OPTIONS")
    );
    assert_eq!(
        class(&[("path", path), ("readChangeFeed", "true")]).as_deref(),
        Some("STDS_REQUIRED_OPTION_UNSPECIFIED")
    );
    assert_eq!(
        class(&[("path", path), ("changeStartBatchId", "0")]).as_deref(),
        Some("STDS_INVALID_OPTION_VALUE.WITH_MESSAGE")
    );
    assert_eq!(
        class(&[("path", path), ("operatorId", "7")]).as_deref(),
        Some("STDS_FAILED_TO_READ_STATE_SCHEMA")
    );
    // A batch whose state was never written names the missing file.
    let e = read("statestore", &[("path", path), ("batchId", "5")]).unwrap_err();
    assert_eq!(
        e.error_class(),
        Some("CANNOT_LOAD_STATE_STORE.CANNOT_READ_DELTA_FILE_NOT_EXISTS")
    );
}

#[test]
fn state_metadata_lists_operators_and_batch_range() {
    let d = tempfile::tempdir().unwrap();
    checkpoint(d.path());
    let batches = read("state-metadata", &[("path", d.path().to_str().unwrap())]).unwrap();
    let b = &batches[0];
    assert_eq!(b.num_rows(), 1);
    assert_eq!(b.column(1).as_string::<i32>().value(0), "stateStoreSave");
    assert_eq!(b.column(2).as_string::<i32>().value(0), "default");
    assert_eq!(b.column(3).as_primitive::<Int32Type>().value(0), 2);
    assert_eq!(b.column(4).as_primitive::<Int64Type>().value(0), 0);
    assert_eq!(b.column(5).as_primitive::<Int64Type>().value(0), 1);
}
