//! `session.read()`: Spark's `DataFrameReader`.

use std::collections::BTreeMap;

use arrow::datatypes::SchemaRef;
use engine_core::{EngineError, Result};

use crate::dataframe::DataFrame;
use crate::session::Session;

/// Builds a batch read of files: format, options, optional schema, then `load(path)`.
#[derive(Debug, Clone)]
pub struct DataFrameReader {
    session: Session,
    format: String,
    options: BTreeMap<String, String>,
    schema: Option<SchemaRef>,
}

impl DataFrameReader {
    /// A reader for `session` (format `parquet`, Spark's default).
    pub fn new(session: Session) -> Self {
        DataFrameReader {
            session,
            format: "parquet".into(),
            options: BTreeMap::new(),
            schema: None,
        }
    }

    /// `csv`, `json`, `parquet` or `text`.
    pub fn format(mut self, format: &str) -> Self {
        self.format = format.to_lowercase();
        self
    }

    /// One option; keys are case-insensitive, as in Spark.
    pub fn option(mut self, key: &str, value: impl ToString) -> Self {
        self.options.insert(key.to_lowercase(), value.to_string());
        self
    }

    /// Several options.
    pub fn options<'a>(mut self, opts: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        for (k, v) in opts {
            self.options.insert(k.to_lowercase(), v.to_string());
        }
        self
    }

    /// An explicit schema (skips inference).
    pub fn schema(mut self, schema: SchemaRef) -> Self {
        self.schema = Some(schema);
        self
    }

    /// An explicit schema as Spark DDL: `"id INT, name STRING"`.
    pub fn schema_ddl(mut self, ddl: &str) -> Result<Self> {
        self.schema = Some(std::sync::Arc::new(crate::types::parse_ddl_schema(ddl)?));
        Ok(self)
    }

    /// Reads `path` (a file, a directory or a glob).
    pub fn load(self, path: &str) -> Result<DataFrame> {
        let _ = (&self.session, &self.options, &self.schema, path);
        Err(EngineError::Unsupported(format!(
            "reading format `{}` is not implemented yet",
            self.format
        )))
    }
}
