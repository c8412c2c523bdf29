//! Higher-order functions over 1M rows of arrays (0-8 BIGINT elements, 4M in all) on one
//! core: each lambda runs once per batch on the flattened elements, outer columns repeated
//! per element. `aggregate` is also compared with what one writes without it (`explode`
//! then `GROUP BY` the row).
//!
//! `cargo bench -p engine-sql --bench higher_order`

// A benchmark harness should stop loudly on broken setup.
#![allow(clippy::expect_used, missing_docs)]

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, ListArray};
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use arrow::record_batch::RecordBatch;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use engine_sql::datasource::memory::MemTable;
use engine_sql::prelude::*;

#[allow(dead_code)] // the shared tables are not used here
mod common;

const ROWS: usize = 1_000_000;

/// (id BIGINT, k BIGINT, xs ARRAY<BIGINT>) with 0-8 elements per array, one in 16 NULL.
fn table(spark: &Session) -> DataFrame {
    let list = DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true)));
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("k", DataType::Int64, false),
        Field::new("xs", list, true),
    ]));
    let mut next = common::xorshift();
    let mut batches = Vec::new();
    let mut id = 0i64;
    while (id as usize) < ROWS {
        let n = (ROWS - id as usize).min(8192);
        let ids: Int64Array = (id..id + n as i64).collect();
        id += n as i64;
        let k: Int64Array = (0..n).map(|_| (next() % 100) as i64).collect();
        let xs = ListArray::from_iter_primitive::<Int64Type, _, _>((0..n).map(|_| {
            let len = (next() % 9) as usize;
            (!next().is_multiple_of(16)).then(|| {
                (0..len)
                    .map(|_| Some((next() % 1000) as i64))
                    .collect::<Vec<_>>()
            })
        }));
        batches.push(
            RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(ids) as ArrayRef, Arc::new(k), Arc::new(xs)],
            )
            .expect("bench batch"),
        );
    }
    let t = MemTable::try_new(schema, vec![batches]).expect("bench table");
    spark
        .dataframe_from_table(Arc::new(t))
        .expect("bench frame")
}

fn bench(c: &mut Criterion) {
    let spark = common::session();
    let df = table(&spark);
    let queries = [
        (
            "transform_1M",
            df.select(vec![transform(col("xs"), |x| x * lit(2i64) + col("k"))]),
        ),
        (
            "filter_1M",
            df.select(vec![filter(col("xs"), |x| x.gt(col("k") * lit(5i64)))]),
        ),
        (
            "exists_1M",
            df.select(vec![exists(col("xs"), |x| x.gt(lit(990i64)))]),
        ),
        (
            "aggregate_sum_1M",
            df.select(vec![aggregate(col("xs"), lit(0i64), |acc, x| acc + x)]),
        ),
        (
            "explode_group_by_sum_1M",
            df.select(vec![col("id"), explode(col("xs")).alias("x")])
                .and_then(|e| e.group_by(vec![col("id")]).agg(vec![sum(col("x"))])),
        ),
    ];
    let mut g = c.benchmark_group("higher_order");
    g.sample_size(10);
    g.throughput(Throughput::Elements(ROWS as u64));
    for (name, q) in queries {
        let q = q.expect("query");
        g.bench_function(name, |b| b.iter(|| q.collect().expect("run")));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
