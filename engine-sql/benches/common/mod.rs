//! Shared data for the criterion benchmarks: deterministic in-memory tables.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use engine_sql::datasource::memory::MemTable;
use engine_sql::prelude::*;

/// `rows` rows of (k BIGINT in 0..keys, a BIGINT, x DOUBLE) in batches of 8192, one partition.
pub fn table(spark: &Session, rows: usize, keys: i64) -> DataFrame {
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Int64, false),
        Field::new("a", DataType::Int64, false),
        Field::new("x", DataType::Float64, false),
    ]));
    let mut batches = Vec::new();
    let mut next = xorshift();
    let mut left = rows;
    while left > 0 {
        let n = left.min(8192);
        left -= n;
        let k: Int64Array = (0..n).map(|_| (next() % keys as u64) as i64).collect();
        let a: Int64Array = (0..n).map(|_| (next() % 1000) as i64).collect();
        let x: Float64Array = (0..n).map(|_| (next() % 10_000) as f64 / 100.0).collect();
        batches.push(
            RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(k) as ArrayRef, Arc::new(a), Arc::new(x)],
            )
            .expect("bench batch"),
        );
    }
    let t = MemTable::try_new(schema, vec![batches]).expect("bench table");
    spark
        .dataframe_from_table(Arc::new(t))
        .expect("bench frame")
}

/// The deterministic pseudo-random sequence every benchmark's data comes from (xorshift64).
pub fn xorshift() -> impl FnMut() -> u64 {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

/// A one-core session, as the per-core targets are stated.
pub fn session() -> Session {
    Session::builder()
        .master("local[1]")
        .config("spark.sql.shuffle.partitions", "1")
        .build()
        .expect("bench session")
}
