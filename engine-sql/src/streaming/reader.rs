//! `session.read_stream()`: Spark's `DataStreamReader`.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use engine_core::options::Options;
use engine_core::{EngineError, Result};

use crate::dataframe::DataFrame;
use crate::session::Session;
use engine_core::logical::{LogicalPlan, StreamingRelation};

/// `spark.sql.streaming.schemaInference`: let file sources infer their schema (default false).
pub const SCHEMA_INFERENCE: &str = "spark.sql.streaming.schemaInference";

/// File formats whose streaming schema must be given unless inference is enabled (`text`
/// has a fixed schema, as in Spark).
const INFERRING_FORMATS: &[&str] = &["json", "csv", "parquet", "orc", "avro", "xml"];

/// Builds a streaming DataFrame: `format`, `option`s, `schema`, then `load`.
///
/// ```
/// use engine_sql::prelude::*;
/// let spark = Session::builder().build().unwrap();
/// let e = spark.read_stream().format("json").load_path("/tmp/in").unwrap_err();
/// assert!(e.to_string().contains("Schema must be specified"), "{e}");
/// ```
#[derive(Debug, Clone)]
pub struct DataStreamReader {
    session: Session,
    format: String,
    options: Options,
    schema: Option<SchemaRef>,
}

impl Session {
    /// Reads a stream: `session.read_stream().format("rate").load()`.
    pub fn read_stream(&self) -> DataStreamReader {
        DataStreamReader::new(self.clone())
    }
}

impl DataStreamReader {
    /// A reader with Spark's default format (`spark.sql.sources.default`, parquet).
    pub fn new(session: Session) -> Self {
        let format = session
            .conf_get("spark.sql.sources.default")
            .unwrap_or_else(|| "parquet".into());
        DataStreamReader {
            session,
            format,
            options: Options::default(),
            schema: None,
        }
    }

    /// The source format (`rate`, `json`, `kafka`, ...).
    pub fn format(mut self, format: &str) -> Self {
        self.format = format.to_string();
        self
    }

    /// One option.
    pub fn option(mut self, key: &str, value: impl ToString) -> Self {
        self.options.set(key, value.to_string());
        self
    }

    /// Several options.
    pub fn options<'a>(mut self, opts: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        for (k, v) in opts {
            self.options.set(k, v);
        }
        self
    }

    /// The schema of the rows (required for file formats unless inference is enabled).
    pub fn schema(mut self, schema: SchemaRef) -> Self {
        self.schema = Some(schema);
        self
    }

    /// The schema as DDL (`"id INT, name STRING"`).
    pub fn schema_ddl(mut self, ddl: &str) -> Result<Self> {
        self.schema = Some(Arc::new(engine_core::types::parse_ddl_schema(ddl)?));
        Ok(self)
    }

    /// The streaming DataFrame.
    pub fn load(self) -> Result<DataFrame> {
        let name = self.format.to_ascii_lowercase();
        if self.schema.is_none()
            && INFERRING_FORMATS.contains(&name.as_str())
            && !self.session.conf().get_bool(SCHEMA_INFERENCE, false)?
        {
            return Err(EngineError::invalid_option(
                "schema",
                format!(
                    "Schema must be specified when creating a streaming source DataFrame. If some files already exist in the directory, then depending on the file format you may be able to create a static DataFrame on that directory with 'spark.read.load(directory)' and infer schema from it. (Or set {SCHEMA_INFERENCE}=true to infer it from the files present at start.)"
                ),
            ));
        }
        self.session.check_format_options(
            &self.format,
            engine_core::known_options::Side::Read,
            &self.options,
        )?;
        let format = super::formats::lookup(&self.format)?;
        let schema = format.schema(&self.options, self.schema.clone())?;
        let relation =
            StreamingRelation::new(format, &self.format, self.options, self.schema, schema);
        DataFrame::from_plan(
            self.session,
            Arc::new(LogicalPlan::StreamingRelation(Arc::new(relation))),
        )
    }

    /// `load(path)`: the `path` option, then [`Self::load`].
    pub fn load_path(self, path: &str) -> Result<DataFrame> {
        self.option("path", path).load()
    }

    /// JSON files arriving in `path`.
    pub fn json(self, path: &str) -> Result<DataFrame> {
        self.format("json").load_path(path)
    }

    /// CSV files arriving in `path`.
    pub fn csv(self, path: &str) -> Result<DataFrame> {
        self.format("csv").load_path(path)
    }

    /// Parquet files arriving in `path`.
    pub fn parquet(self, path: &str) -> Result<DataFrame> {
        self.format("parquet").load_path(path)
    }

    /// Text files arriving in `path` (one `value` row per line).
    pub fn text(self, path: &str) -> Result<DataFrame> {
        self.format("text").load_path(path)
    }
}

impl DataFrame {
    /// Declares `column` as the event-time column and `delay` (`"10 minutes"`) as how late
    /// rows may be (Spark's `withWatermark`). The watermark is `max(event time) - delay`,
    /// the minimum across inputs, reported in progress as `eventTime.watermark`.
    pub fn with_watermark(&self, column: &str, delay: &str) -> Result<DataFrame> {
        let delay = engine_core::interval::parse_interval(delay)?;
        DataFrame::from_plan(
            self.session().clone(),
            Arc::new(LogicalPlan::EventTimeWatermark(
                engine_core::logical::EventTimeWatermark {
                    event_time: engine_core::expr::Expr::UnresolvedColumn(
                        engine_core::expr::split_name(column),
                    ),
                    delay,
                    stats: Arc::default(),
                    input: self.logical_plan().clone(),
                },
            )),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelt_options_warn_or_fail_as_the_session_says() {
        let spark = Session::builder().build().unwrap();
        let read = |s: &Session| {
            s.read_stream()
                .format("rate")
                .option("rowsPerSecnd", "5")
                .load()
        };
        assert!(read(&spark).is_ok());
        let strict = Session::builder()
            .config(engine_core::known_options::FAIL_ON_UNKNOWN_OPTIONS, "true")
            .build()
            .unwrap();
        let e = read(&strict).unwrap_err().to_string();
        assert!(e.contains("did you mean `rowsPerSecond`?"), "{e}");
    }

    #[test]
    fn readers_never_show_secret_options() {
        let spark = Session::builder().build().unwrap();
        let stream = spark
            .read_stream()
            .format("kafka")
            .option("kafka.sasl.password", "hunter2");
        let batch = spark
            .read()
            .option("kafka.sasl.jaas.config", "password=\"hunter2\"");
        for shown in [format!("{stream:?}"), format!("{batch:?}")] {
            assert!(
                !shown.contains("hunter2") && shown.contains("redacted"),
                "{shown}"
            );
        }
    }
}
