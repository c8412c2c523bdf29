//! Batch reads and writes of a format registered in engine-core's registry, as engine-kafka
//! registers `kafka`: the planner scans its partitions and writes through its sink.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use arrow::array::{AsArray, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use engine_core::connector::{
    BatchIter, DataWriter, Format, FormatRegistry, InputPartition, Sink, SinkContext,
    WriterCommitMessage, WriterContext,
};
use engine_core::options::Options;
use engine_core::{EngineError, Result};
use engine_sql::session::Session;

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("n", DataType::Int64, false),
        Field::new("sq", DataType::Int64, false),
    ]))
}

/// Batches committed by the sink: (batch id, sorted values).
type Committed = Arc<Mutex<Vec<(u64, Vec<i64>)>>>;

/// `numbers`: `partitions` partitions of `per` consecutive numbers; writes land in `SINK`.
struct Numbers {
    committed: Committed,
}

#[derive(Debug)]
struct Range(i64, i64);

impl InputPartition for Range {
    fn read(&self) -> Result<BatchIter> {
        let n: Int64Array = (self.0..self.1).collect();
        let sq: Int64Array = (self.0..self.1).map(|v| v * v).collect();
        let batch = RecordBatch::try_new(schema(), vec![Arc::new(n), Arc::new(sq)])?;
        Ok(Box::new(std::iter::once(Ok(batch))))
    }
}

struct Collect {
    committed: Committed,
    fail_on: Option<i64>,
}

struct CollectWriter {
    rows: Vec<i64>,
    fail_on: Option<i64>,
}

impl DataWriter for CollectWriter {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let col = batch.column(0).as_primitive::<Int64Type>();
        for v in col.values() {
            if Some(*v) == self.fail_on {
                return Err(EngineError::execution("TEST_FAILURE", format!("row {v}")));
            }
            self.rows.push(*v);
        }
        Ok(())
    }
    fn commit(self: Box<Self>) -> Result<WriterCommitMessage> {
        Ok(Box::new(self.rows))
    }
    fn abort(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

impl Sink for Collect {
    fn description(&self) -> String {
        "collect".into()
    }
    fn create_writer(&self, _ctx: WriterContext) -> Result<Box<dyn DataWriter>> {
        Ok(Box::new(CollectWriter {
            rows: vec![],
            fail_on: self.fail_on,
        }))
    }
    fn commit(&self, batch_id: u64, messages: Vec<WriterCommitMessage>) -> Result<()> {
        let mut rows: Vec<i64> = messages
            .into_iter()
            .flat_map(|m| *m.downcast::<Vec<i64>>().unwrap())
            .collect();
        rows.sort();
        self.committed.lock().unwrap().push((batch_id, rows));
        Ok(())
    }
}

impl Format for Numbers {
    fn short_name(&self) -> &str {
        "numbers"
    }
    fn schema(&self, _: &Options, _: Option<SchemaRef>) -> Result<SchemaRef> {
        Ok(schema())
    }
    fn create_batch_scan(
        &self,
        options: &Options,
        _schema: SchemaRef,
    ) -> Result<Vec<Arc<dyn InputPartition>>> {
        let parts = options.u64("partitions", 2)? as i64;
        let per = options.u64("per", 5)? as i64;
        Ok((0..parts)
            .map(|p| Arc::new(Range(p * per, (p + 1) * per)) as Arc<dyn InputPartition>)
            .collect())
    }
    fn create_sink(&self, ctx: SinkContext) -> Result<Arc<dyn Sink>> {
        assert_eq!(ctx.save_mode.as_deref(), Some("append"));
        Ok(Arc::new(Collect {
            committed: self.committed.clone(),
            fail_on: ctx.options.get("failOn").map(|v| v.parse().unwrap()),
        }))
    }
}

#[test]
fn registered_formats_are_read_and_written_in_batch() {
    let committed = Arc::new(Mutex::new(vec![]));
    FormatRegistry::global().register(Arc::new(Numbers {
        committed: committed.clone(),
    }));
    let spark = Session::builder().master("local[2]").build().unwrap();

    let df = spark
        .read()
        .format("numbers")
        .option("partitions", "3")
        .option("per", "4")
        .load_no_path()
        .unwrap();
    assert_eq!(df.count().unwrap(), 12);
    let filtered = df
        .filter_expr("n % 2 = 0")
        .unwrap()
        .select_expr(&["sq"])
        .unwrap();
    let total: i64 = filtered
        .collect()
        .unwrap()
        .iter()
        .map(|b| {
            b.column(0)
                .as_primitive::<Int64Type>()
                .values()
                .iter()
                .sum::<i64>()
        })
        .sum();
    assert_eq!(
        total,
        [0i64, 2, 4, 6, 8, 10].iter().map(|v| v * v).sum::<i64>()
    );

    df.write()
        .format("numbers")
        .mode("append")
        .save_no_path()
        .unwrap();
    assert_eq!(
        committed.lock().unwrap().last().unwrap(),
        &(0, (0..12).collect::<Vec<i64>>())
    );

    // A failing task aborts the whole write: nothing is committed.
    let before = committed.lock().unwrap().len();
    let e = df
        .write()
        .format("numbers")
        .mode("append")
        .option("failOn", "7")
        .save_no_path()
        .unwrap_err();
    assert!(e.to_string().contains("row 7"), "{e}");
    assert_eq!(committed.lock().unwrap().len(), before);

    let e = spark.read().format("nosuch").load_no_path().unwrap_err();
    assert!(e.to_string().contains("numbers"), "{e}");
    let e = spark.read().format("kafka").load_no_path().unwrap_err();
    assert!(e.to_string().contains("engine_kafka::register()"), "{e}");
}

/// Spark's `noop` format (pinned against PySpark 4.3): the query runs, its rows are dropped;
/// only `append`/`overwrite` are accepted, a path is ignored, partitionBy and reads fail.
#[test]
fn noop_format_runs_the_write_and_keeps_nothing() {
    let spark = Session::builder().master("local[2]").build().unwrap();
    let ids = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
    let df = spark
        .create_dataframe(vec![
            RecordBatch::try_new(ids, vec![Arc::new(Int64Array::from_iter_values(0..100))])
                .unwrap(),
        ])
        .unwrap();
    df.write()
        .format("noop")
        .mode("overwrite")
        .save_no_path()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("never-written");
    df.write()
        .format("NOOP")
        .mode("append")
        .save(path.to_str().unwrap())
        .unwrap();
    assert!(!path.exists());

    for mode in ["errorifexists", "ignore"] {
        let e = df
            .write()
            .format("noop")
            .mode(mode)
            .save_no_path()
            .unwrap_err();
        assert!(
            e.to_string().contains("UNSUPPORTED_DATA_SOURCE_SAVE_MODE"),
            "{e}"
        );
    }
    let e = df
        .write()
        .format("noop")
        .mode("overwrite")
        .partition_by(["id"])
        .save_no_path()
        .unwrap_err();
    assert!(e.to_string().contains("partitionBy(id)"), "{e}");

    // A failing query fails the noop write: the rows are computed, not skipped.
    let e = df
        .select_expr(&["CAST(concat('n', id) AS INT) AS x"])
        .unwrap()
        .write()
        .format("noop")
        .mode("overwrite")
        .save_no_path()
        .unwrap_err();
    assert!(e.to_string().contains("CAST_INVALID_INPUT"), "{e}");

    let e = spark.read().format("noop").load_no_path().unwrap_err();
    assert!(
        e.to_string()
            .contains("noop is not a valid Spark SQL Data Source."),
        "{e}"
    );
}
