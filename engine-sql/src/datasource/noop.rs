//! Spark's `noop` format: runs the whole query and throws its rows away.
//!
//! It is how Spark users time a query without the cost of a sink
//! (`df.write.format("noop").mode("overwrite").save()`, `writeStream.format("noop")`), and
//! how this project measures a pipeline without its output. Behaviour pinned against PySpark
//! 4.3:
//! - batch writes accept only the `append` and `overwrite` modes (the default `errorifexists`
//!   and `ignore` fail with `UNSUPPORTED_DATA_SOURCE_SAVE_MODE`), ignore a path, and reject
//!   `partitionBy` (Spark with an `IllegalArgumentException` about the table's partitioning;
//!   here with `INVALID_PARTITIONING` and a message that says what to do);
//! - streaming writes take any output mode the query allows, `partitionBy`, and no checkpoint
//!   location (a temporary one is used);
//! - it cannot be read from.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use engine_core::connector::{
    DataWriter, Format, Sink, SinkContext, WriterCommitMessage, WriterContext,
};
use engine_core::options::Options;
use engine_core::{EngineError, Result};

use super::writer::SaveMode;
use engine_core::options::partition_columns;

/// The `noop` format: a sink that discards every row.
///
/// ```
/// use engine_sql::prelude::*;
///
/// let spark = Session::builder().master("local[1]").build()?;
/// let df = spark.sql("SELECT id, id * 2 AS twice FROM VALUES (1), (2), (3) AS t(id)")?;
/// df.write().format("noop").mode("overwrite").save_no_path()?;
///
/// // Spark's default save mode is refused, as in Spark.
/// let err = df.write().format("noop").save_no_path().unwrap_err();
/// assert!(err.to_string().contains("UNSUPPORTED_DATA_SOURCE_SAVE_MODE"));
/// # Ok::<(), engine_core::EngineError>(())
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopFormat;

impl Format for NoopFormat {
    fn short_name(&self) -> &str {
        "noop"
    }

    fn schema(&self, _options: &Options, _user_schema: Option<SchemaRef>) -> Result<SchemaRef> {
        // Spark: `spark.read.format("noop").load()` fails with this text.
        Err(EngineError::analysis(
            "_LEGACY_ERROR_TEMP_1135",
            "noop is not a valid Spark SQL Data Source.",
        ))
    }

    fn create_sink(&self, ctx: SinkContext) -> Result<Arc<dyn Sink>> {
        if let Some(mode) = &ctx.save_mode {
            check_save_mode(mode)?;
            let cols = partition_columns(&ctx.options)?;
            if !cols.is_empty() {
                return Err(EngineError::analysis(
                    "INVALID_PARTITIONING",
                    format!(
                        "The noop format has no partitioning, so it cannot be written with partitionBy({}): remove partitionBy from the write.",
                        cols.join(", ")
                    ),
                ));
            }
        }
        Ok(Arc::new(NoopSink))
    }
}

/// Spark's DataSource V2 rule for a table that always exists: only `append` and `overwrite`.
fn check_save_mode(mode: &str) -> Result<()> {
    let shown = match SaveMode::parse(mode)? {
        SaveMode::Append | SaveMode::Overwrite => return Ok(()),
        SaveMode::ErrorIfExists => "ErrorIfExists",
        SaveMode::Ignore => "Ignore",
    };
    Err(EngineError::analysis(
        "UNSUPPORTED_DATA_SOURCE_SAVE_MODE",
        format!(
            "The data source \"noop\" cannot be written in the \"{shown}\" mode. Please use either the \"Append\" or \"Overwrite\" mode instead. SQLSTATE: 0A000"
        ),
    ))
}

/// Discards rows; every commit succeeds, so it is trivially exactly-once.
#[derive(Debug)]
pub struct NoopSink;

impl Sink for NoopSink {
    fn description(&self) -> String {
        // What Spark's progress shows for this sink.
        "NoopTable".into()
    }

    fn create_writer(&self, _ctx: WriterContext) -> Result<Box<dyn DataWriter>> {
        Ok(Box::new(NoopWriter))
    }

    fn commit(&self, _batch_id: u64, _messages: Vec<WriterCommitMessage>) -> Result<()> {
        Ok(())
    }
}

/// A task writer that drops what it is given.
#[derive(Debug)]
struct NoopWriter;

impl DataWriter for NoopWriter {
    fn write(&mut self, _batch: &RecordBatch) -> Result<()> {
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<WriterCommitMessage> {
        Ok(Box::new(()))
    }

    fn abort(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::Schema;
    use engine_core::connector::OutputMode;
    use engine_core::options::PARTITION_COLUMNS_OPTION;

    fn ctx(save_mode: Option<&str>, options: &[(&str, &str)]) -> SinkContext {
        let mut opts = Options::default();
        for (k, v) in options {
            opts.set(k, *v);
        }
        SinkContext {
            options: opts,
            schema: Arc::new(Schema::empty()),
            output_mode: OutputMode::Append,
            query_id: save_mode.is_none().then(|| "q".to_string()),
            save_mode: save_mode.map(str::to_string),
        }
    }

    #[test]
    fn batch_writes_take_append_and_overwrite_only() {
        for ok in ["append", "Overwrite"] {
            assert!(NoopFormat.create_sink(ctx(Some(ok), &[])).is_ok(), "{ok}");
        }
        for (mode, shown) in [
            ("errorifexists", "ErrorIfExists"),
            ("error", "ErrorIfExists"),
            ("default", "ErrorIfExists"),
            ("ignore", "Ignore"),
        ] {
            let err = NoopFormat
                .create_sink(ctx(Some(mode), &[]))
                .err()
                .unwrap()
                .to_string();
            assert_eq!(
                err,
                format!(
                    "[UNSUPPORTED_DATA_SOURCE_SAVE_MODE] The data source \"noop\" cannot be written in the \"{shown}\" mode. Please use either the \"Append\" or \"Overwrite\" mode instead. SQLSTATE: 0A000"
                )
            );
        }
    }

    #[test]
    fn batch_partition_by_is_refused_but_streaming_takes_it() {
        let err = NoopFormat
            .create_sink(ctx(
                Some("overwrite"),
                &[(PARTITION_COLUMNS_OPTION, r#"["id","k"]"#)],
            ))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("partitionBy(id, k)"), "{err}");
        assert!(
            NoopFormat
                .create_sink(ctx(None, &[(PARTITION_COLUMNS_OPTION, r#"["id"]"#)]))
                .is_ok()
        );
    }

    #[test]
    fn cannot_be_read() {
        let err = NoopFormat
            .schema(&Options::default(), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("noop is not a valid Spark SQL Data Source."));
    }

    #[test]
    fn writers_discard_and_commit() {
        let sink = NoopFormat.create_sink(ctx(None, &[])).unwrap();
        assert_eq!(sink.description(), "NoopTable");
        let mut w = sink
            .create_writer(WriterContext {
                batch_id: 0,
                partition: 0,
                num_partitions: 1,
                batch_timestamp_ms: None,
            })
            .unwrap();
        w.write(&RecordBatch::new_empty(Arc::new(Schema::empty())))
            .unwrap();
        let msg = w.commit().unwrap();
        sink.commit(0, vec![msg]).unwrap();
    }
}
