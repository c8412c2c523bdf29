//! Hash aggregate with 1k keys over 10M rows on one core.
//!
//! `cargo bench -p engine-sql --bench aggregate`

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
        .group_by(vec![col("k")])
        .agg(vec![
            count(lit(1)),
            sum(col("a")),
            avg(col("x")),
            max(col("x")),
        ])
        .expect("agg");
    let mut g = c.benchmark_group("aggregate");
    g.sample_size(10);
    g.throughput(Throughput::Elements(ROWS as u64));
    g.bench_function("group_by_1k_keys_10M", |b| {
        b.iter(|| query.collect().expect("run"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
