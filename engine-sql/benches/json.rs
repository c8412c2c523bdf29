//! `from_json` on the event shape (≈500-byte documents) alone and followed by `explode`.
//!
//! `cargo bench -p engine-sql --bench json`

// A benchmark harness should stop loudly on broken setup.
#![allow(clippy::expect_used, missing_docs)]

use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use engine_sql::datasource::options::Options;
use engine_sql::functions::dsl::{explode, from_json};
use engine_sql::functions::json::{from_json_function, parse_schema};
use engine_sql::prelude::*;

#[allow(dead_code)] // the shared tables are not used here
mod common;

const ROWS: usize = 200_000;
const BATCH: usize = 8192;
const SCHEMA: &str = "event_id STRING, user STRUCT<id: STRING, country: STRING>, items ARRAY<STRUCT<sku: STRING, qty: INT, price: DOUBLE>>, ts TIMESTAMP";

/// Deterministic event documents: 0-4 items, plus fields the schema does not read (as real
/// producers send), padded so the average document is about 500 bytes.
fn documents() -> Vec<String> {
    let mut next = common::xorshift();
    let countries = ["FR", "US", "DE", "JP", "BR"];
    (0..ROWS)
        .map(|i| {
            let n = (next() % 5) as usize;
            let items: Vec<String> = (0..n)
                .map(|k| {
                    format!(
                        r#"{{"sku":"SKU-{:06}","qty":{},"price":{}.{:02},"category":"cat-{}"}}"#,
                        next() % 1_000_000,
                        1 + next() % 9,
                        next() % 500,
                        next() % 100,
                        k
                    )
                })
                .collect();
            let pad = 480usize.saturating_sub(75 * n);
            format!(
                r#"{{"event_id":"evt-{i:010}","user":{{"id":"user-{:08}","country":"{}","tier":"gold"}},"items":[{}],"ts":"2024-03-{:02}T{:02}:{:02}:{:02}.{:03}Z","session":"{}","agent":"Mozilla/5.0 (X11; Linux x86_64)"}}"#,
                next() % 100_000_000,
                countries[(next() % 5) as usize],
                items.join(","),
                1 + next() % 28,
                next() % 24,
                next() % 60,
                next() % 60,
                next() % 1000,
                "s".repeat(pad / 2),
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let docs = documents();
    let bytes: usize = docs.iter().map(String::len).sum();
    let batches: Vec<StringArray> = docs
        .chunks(BATCH)
        .map(|c| StringArray::from(c.iter().map(String::as_str).collect::<Vec<_>>()))
        .collect();

    let f = from_json_function(parse_schema(SCHEMA).expect("schema"), &Options::default())
        .expect("from_json");
    let mut g = c.benchmark_group("json");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("from_json_decode_200k_events", |b| {
        b.iter(|| {
            for a in &batches {
                let d = f.decode(a, chrono_tz::Tz::UTC).expect("decode");
                assert!(!d.malformed.iter().any(|m| *m));
            }
        })
    });

    let spark = common::session();
    let schema = Arc::new(Schema::new(vec![Field::new(
        "value",
        DataType::Utf8,
        false,
    )]));
    let rbs: Vec<RecordBatch> = batches
        .iter()
        .map(|a| {
            RecordBatch::try_new(schema.clone(), vec![Arc::new(a.clone()) as ArrayRef])
                .expect("batch")
        })
        .collect();
    let df = spark.create_dataframe(rbs).expect("df");
    let query = df
        .select(vec![from_json(col("value"), SCHEMA).alias("e")])
        .expect("from_json")
        .select(vec![
            col("e.event_id"),
            col("e.user.country"),
            col("e.ts"),
            explode(col("e.items")).alias("item"),
        ])
        .expect("explode")
        .select(vec![
            col("event_id"),
            col("country"),
            col("ts"),
            col("item.sku"),
            col("item.qty"),
            col("item.price"),
        ])
        .expect("flatten");
    g.throughput(Throughput::Elements(ROWS as u64));
    g.bench_function("from_json_explode_200k_events", |b| {
        b.iter(|| query.collect().expect("run"))
    });
    g.finish();
    println!(
        "{} documents, {} bytes, {:.0} bytes/document",
        ROWS,
        bytes,
        bytes as f64 / ROWS as f64
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
