//! `session.read()`: Spark's `DataFrameReader`.

use std::collections::BTreeMap;

use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};
use engine_core::options::Options;
use engine_core::{EngineError, Result};

use super::DataFrame;
use crate::datasource::connector::ConnectorTable;
use crate::datasource::csv::{self, CsvFormat, CsvOptions};
use crate::datasource::formats::{SUPPORTED_FORMATS, registered, unknown_format};
use crate::datasource::json::{self, JsonFormat, JsonOptions};
use crate::datasource::listing::{ListingOptions, list_files_with};
use crate::datasource::parquet::{self, ParquetFormat};
use crate::datasource::table::{FileFormat, FileTable};
use crate::datasource::text::{TextFormat, text_schema};
use crate::session::Session;

/// Builds a batch read of files: format, options, optional schema, then `load(path)`.
/// The `Debug` form redacts secret options.
#[derive(Clone)]
pub struct DataFrameReader {
    session: Session,
    format: String,
    options: BTreeMap<String, String>,
    schema: Option<SchemaRef>,
}

impl std::fmt::Debug for DataFrameReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataFrameReader")
            .field("session", &self.session)
            .field("format", &self.format)
            .field("options", &engine_core::options::redacted(&self.options))
            .field("schema", &self.schema)
            .finish()
    }
}

impl Session {
    /// Reads files: `session.read().format("csv").option("header", "true").load(path)`.
    pub fn read(&self) -> DataFrameReader {
        DataFrameReader::new(self.clone())
    }
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
        self.schema = Some(std::sync::Arc::new(engine_core::types::parse_ddl_schema(
            ddl,
        )?));
        Ok(self)
    }

    /// Reads `path` (a file, a directory or a glob).
    pub fn load(self, path: &str) -> Result<DataFrame> {
        self.load_many(&[path])
    }

    /// Reads several paths as one table.
    pub fn load_many(self, paths: &[&str]) -> Result<DataFrame> {
        self.check_options()?;
        if let Some(format) = registered(&self.format) {
            let mut options = self.connector_options();
            options.set("path", paths.join(","));
            let table = ConnectorTable::try_new(format, options, self.schema.clone())?;
            return self.session.dataframe_from_table(Arc::new(table));
        }
        let table = self.table(paths)?;
        self.session.dataframe_from_table(Arc::new(table))
    }

    /// PySpark's `load()` with no path, for formats that take none: a registered connector
    /// such as `kafka` reads what its options say.
    pub fn load_no_path(self) -> Result<DataFrame> {
        self.check_options()?;
        match registered(&self.format) {
            Some(format) => {
                let table =
                    ConnectorTable::try_new(format, self.connector_options(), self.schema.clone())?;
                self.session.dataframe_from_table(Arc::new(table))
            }
            None if SUPPORTED_FORMATS.contains(&self.format.as_str()) => {
                Err(EngineError::analysis(
                    "UNABLE_TO_INFER_SCHEMA",
                    format!(
                        "'path' is not specified: the {} format reads files; use load(path)",
                        self.format
                    ),
                ))
            }
            None => Err(unknown_format(&self.format)),
        }
    }

    /// Warns about (or rejects) options the format does not know.
    fn check_options(&self) -> Result<()> {
        let options = Options::new(self.options.iter().map(|(k, v)| (k.as_str(), v.clone())));
        self.session.check_format_options(
            &self.format,
            engine_core::known_options::Side::Read,
            &options,
        )
    }

    fn connector_options(&self) -> Options {
        let options = Options::new(self.options.iter().map(|(k, v)| (k.as_str(), v.clone())));
        self.session.conf().with_session_settings(&options)
    }

    /// `format("csv").load(path)`.
    pub fn csv(self, path: &str) -> Result<DataFrame> {
        self.format("csv").load(path)
    }

    /// `format("json").load(path)`.
    pub fn json(self, path: &str) -> Result<DataFrame> {
        self.format("json").load(path)
    }

    /// `format("parquet").load(path)`.
    pub fn parquet(self, path: &str) -> Result<DataFrame> {
        self.format("parquet").load(path)
    }

    /// `format("text").load(path)`.
    pub fn text(self, path: &str) -> Result<DataFrame> {
        self.format("text").load(path)
    }

    /// The table provider `load` wraps: lists the files and settles the schema (given,
    /// or inferred as Spark does, eagerly).
    pub fn table(&self, paths: &[&str]) -> Result<FileTable> {
        let opts = Options::new(self.options.iter().map(|(k, v)| (k.as_str(), v.clone())));
        let format = self.format.as_str();
        if !SUPPORTED_FORMATS.contains(&format) {
            return Err(unknown_format(format));
        }
        let listing = list_files_with(
            &paths.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            &ListingOptions::parse(&opts)?,
        )?;
        let tz = self.session.conf().time_zone()?;
        let (fmt, inferred): (Arc<dyn FileFormat>, Option<SchemaRef>) = match format {
            "csv" => {
                let o = CsvOptions::parse(&opts)?;
                let inferred = match &self.schema {
                    Some(_) => None,
                    None => csv::infer_schema(&listing.files, &o, &tz)?,
                };
                (Arc::new(CsvFormat::new(o)), inferred)
            }
            "json" => {
                let o = JsonOptions::parse(&opts)?;
                let inferred = match &self.schema {
                    Some(_) => None,
                    None => json::infer_schema(&listing.files, &o)?,
                };
                (Arc::new(JsonFormat::new(o)), inferred)
            }
            "parquet" => {
                let inferred = match &self.schema {
                    Some(_) => None,
                    None => parquet::infer_schema(&listing.files)?,
                };
                (Arc::new(ParquetFormat::new()), inferred)
            }
            _ => (Arc::new(TextFormat::new(&opts)?), Some(text_schema())),
        };
        let schema = match (&self.schema, inferred) {
            (Some(s), _) => s.clone(),
            (None, Some(s)) => s,
            (None, None) => {
                return Err(EngineError::analysis(
                    "UNABLE_TO_INFER_SCHEMA",
                    format!(
                        "Unable to infer schema for {}. It must be specified manually. SQLSTATE: 42KD9",
                        format.to_uppercase()
                    ),
                ));
            }
        };
        Ok(FileTable::new(fmt, listing, nullable(&schema)))
    }
}

/// File data is always nullable, whatever a given schema says (as in Spark).
fn nullable(schema: &SchemaRef) -> SchemaRef {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect::<Vec<_>>(),
    ))
}
