//! Filter + project + arithmetic over 10M rows on one core.
//!
//! `cargo bench -p engine-sql --bench evaluator`

// A benchmark harness should stop loudly on broken setup.
#![allow(clippy::expect_used, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use engine_sql::prelude::*;

mod common;

const ROWS: usize = 10_000_000;

fn bench(c: &mut Criterion) {
    let spark = common::session();
    let df = common::table(&spark, ROWS, 1000);
    let query = df
        .filter(col("a").gt(lit(500i64)).and(col("x").lt(lit(90.0))))
        .expect("filter")
        .select(vec![
            (col("a") * lit(2i64) + col("k")).alias("y"),
            (col("x") * lit(1.1) - lit(3.0)).alias("z"),
        ])
        .expect("select");
    let mut g = c.benchmark_group("evaluator");
    g.sample_size(10);
    g.throughput(Throughput::Elements(ROWS as u64));
    g.bench_function("filter_project_arith_10M", |b| {
        b.iter(|| query.collect().expect("run"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
