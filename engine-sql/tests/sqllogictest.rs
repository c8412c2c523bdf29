//! Golden SQL tests: every `tests/slt/*.slt` file runs against a fresh session, with
//! results rendered as Spark's `CAST(x AS STRING)` would show them, so expected values read
//! like Spark's own output (they were taken from Apache Spark 4).
//!
//! Run one file: `cargo test -p engine-sql --test sqllogictest -- joins`.
//! Refill expectations from Spark (PySpark 4 installed):
//! `python3 tests/slt/fill_from_spark.py tests/slt/joins.slt`. Records the engine cannot run
//! yet keep Spark's answer and carry `# FIXME(area): ...` plus `skipif sstream`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::DataType;
use engine_sql::expr::CastMode;
use engine_sql::physical::expr::cast_array;
use engine_sql::prelude::*;
use sqllogictest::{DBOutput, DefaultColumnType};
use std::path::{Path, PathBuf};

/// One session per test file.
struct SparkDb {
    session: Session,
}

impl SparkDb {
    fn new() -> Result<Self> {
        let session = Session::builder()
            .app_name("sqllogictest")
            .master("local[2]")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.session.timeZone", "UTC")
            .build()?;
        Ok(SparkDb { session })
    }
}

impl sqllogictest::DB for SparkDb {
    type Error = EngineError;
    type ColumnType = DefaultColumnType;

    fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>> {
        let df = self.session.sql(sql)?;
        let schema = df.schema()?;
        if schema.fields().is_empty() {
            return Ok(DBOutput::StatementComplete(0));
        }
        // Values are rendered by the engine's own `CAST(x AS STRING)`, which is how the
        // expected values were taken from Spark.
        let ctx = self.session.conf().function_context()?;
        let types = schema
            .fields()
            .iter()
            .map(|f| column_type(f.data_type()))
            .collect();
        let mut rows = Vec::new();
        for batch in df.collect()? {
            let texts = batch
                .columns()
                .iter()
                .map(|c| {
                    if c.data_type() == &DataType::Null {
                        return Ok(arrow::array::new_null_array(&DataType::Utf8, c.len()));
                    }
                    cast_array(c, &DataType::Utf8, CastMode::Legacy, &ctx)
                })
                .collect::<Result<Vec<_>>>()?;
            for r in 0..batch.num_rows() {
                rows.push(texts.iter().map(|c| render_top(c, r)).collect());
            }
        }
        Ok(DBOutput::Rows { types, rows })
    }

    fn engine_name(&self) -> &str {
        "sstream"
    }
}

fn column_type(dt: &DataType) -> DefaultColumnType {
    match dt {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
            DefaultColumnType::Integer
        }
        DataType::Float32 | DataType::Float64 | DataType::Decimal128(_, _) => {
            DefaultColumnType::FloatingPoint
        }
        _ => DefaultColumnType::Text,
    }
}

/// A top-level value: NULL is `NULL`, the empty string `(empty)` (sqllogictest's spelling).
fn render_top(text: &ArrayRef, row: usize) -> String {
    if text.is_null(row) {
        return "NULL".to_string();
    }
    match text.as_string::<i32>().value(row) {
        "" => "(empty)".to_string(),
        s => s.to_string(),
    }
}

fn slt_files(filter: Option<&str>) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/slt exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "slt"))
        .filter(|p| filter.is_none_or(|f| p.to_string_lossy().contains(f)))
        .collect();
    files.sort();
    files
}

fn main() {
    // Fixture paths in the .slt files are relative to the crate root.
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).expect("crate dir");
    // `cargo test -- <filter>`: the first argument that is not a flag selects files.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let files = slt_files(filter.as_deref());
    if files.is_empty() {
        // A filter that matches nothing would otherwise pass without running anything.
        println!("no .slt file matches {filter:?}");
        std::process::exit(1);
    }
    let mut failures = Vec::new();
    for file in &files {
        let mut runner = sqllogictest::Runner::new(|| async { SparkDb::new() });
        // The type letters are checked: I integer, R floating point or decimal, T the rest.
        runner.with_column_validator(sqllogictest::strict_column_validator);
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        // Run record by record so one file reports all its failures, not only the first.
        let records = match sqllogictest::parse_file::<DefaultColumnType>(file) {
            Ok(r) => r,
            Err(e) => {
                println!("FAILED  {name}: cannot parse: {e}");
                failures.push(name);
                continue;
            }
        };
        let mut errors = 0;
        for record in records {
            if let Err(e) = runner.run(record) {
                errors += 1;
                println!("FAILED  {name}\n{e}\n");
            }
        }
        if errors == 0 {
            println!("ok      {name}");
        } else {
            println!("{errors} failing records in {name}");
            failures.push(name);
        }
    }
    if failures.is_empty() {
        println!("{} slt files passed", files.len());
    } else {
        println!(
            "{} of {} slt files failed: {failures:?}",
            failures.len(),
            files.len()
        );
        std::process::exit(1);
    }
}
