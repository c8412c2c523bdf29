//! `df.write()`: Spark's `DataFrameWriter`, to files (through
//! [`crate::datasource::writer`]) or to a registered connector's sink.

use std::path::Path;
use std::sync::Arc;

use chrono_tz::Tz;
use engine_core::connector::{Format, SinkContext};
use engine_core::options::{Options, set_partition_columns};
use engine_core::physical::plan::sink_write::write_to_sink;
use engine_core::{EngineError, Result};

use super::DataFrame;
use crate::datasource::formats::{SUPPORTED_FORMATS, registered, unknown_format};
use crate::datasource::writer::{SaveMode, WriteSpec, path_exists, write_partitions};

/// Builds a write of a DataFrame: format, options, mode, partitioning, then `save(path)`.
#[derive(Debug, Clone)]
pub struct DataFrameWriter {
    df: DataFrame,
    spec: WriteSpec,
    mode: String,
}

impl DataFrame {
    /// Writes this DataFrame to files: `df.write().format("csv").save(path)`.
    pub fn write(&self) -> DataFrameWriter {
        DataFrameWriter {
            df: self.clone(),
            spec: WriteSpec {
                format: "parquet".into(),
                options: Options::default(),
                mode: SaveMode::ErrorIfExists,
                partition_by: vec![],
                time_zone: Tz::UTC,
            },
            mode: "errorifexists".into(),
        }
    }
}

impl DataFrameWriter {
    /// Warns about (or rejects) options the format does not know.
    fn check_options(&self) -> Result<()> {
        self.df.session().check_format_options(
            &self.spec.format,
            engine_core::known_options::Side::Write,
            &self.spec.options,
        )
    }

    /// `csv`, `json`, `parquet` (default) or `text`.
    pub fn format(mut self, format: &str) -> Self {
        self.spec.format = format.to_lowercase();
        self
    }

    /// One option (case-insensitive key).
    pub fn option(mut self, key: &str, value: impl ToString) -> Self {
        self.spec.options.set(key, value.to_string());
        self
    }

    /// Several options.
    pub fn options<'a>(mut self, opts: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        for (k, v) in opts {
            self.spec.options.set(k, v);
        }
        self
    }

    /// `error`/`errorifexists` (default), `overwrite`, `append` or `ignore`; checked by
    /// `save`.
    pub fn mode(mut self, mode: &str) -> Self {
        self.mode = mode.to_string();
        self
    }

    /// Partitions the output by these columns into `col=value` directories.
    pub fn partition_by<S: AsRef<str>>(mut self, cols: impl IntoIterator<Item = S>) -> Self {
        self.spec.partition_by = cols.into_iter().map(|c| c.as_ref().to_string()).collect();
        self
    }

    /// Runs the query and writes its result under `path`.
    pub fn save(mut self, path: &str) -> Result<()> {
        if registered(&self.spec.format).is_some() {
            self.spec.options.set("path", path);
            return self.save_no_path();
        }
        self.check_options()?;
        self.spec.mode = SaveMode::parse(&self.mode)?;
        self.spec.time_zone = self.df.session().conf().time_zone()?;
        if !SUPPORTED_FORMATS.contains(&self.spec.format.as_str()) {
            return Err(unknown_format(&self.spec.format));
        }
        let target = Path::new(path);
        if target.exists() && self.spec.mode == SaveMode::Ignore {
            return Ok(());
        }
        if target.exists() && self.spec.mode == SaveMode::ErrorIfExists {
            return Err(path_exists(target));
        }
        let (schema, partitions) = self.df.collect_partitions()?;
        write_partitions(&schema, &partitions, target, &self.spec)
    }

    /// PySpark's `save()` with no path, for formats that take none: a registered connector
    /// such as `kafka` writes where its options say (`df.write().format("kafka")
    /// .option("kafka.bootstrap.servers", ..).option("topic", ..).save_no_path()`).
    pub fn save_no_path(mut self) -> Result<()> {
        self.check_options()?;
        SaveMode::parse(&self.mode)?;
        match registered(&self.spec.format) {
            Some(format) => {
                set_partition_columns(&mut self.spec.options, &self.spec.partition_by);
                write_with_format(&self.df, format, self.spec.options, &self.mode)?;
                Ok(())
            }
            None if SUPPORTED_FORMATS.contains(&self.spec.format.as_str()) => {
                Err(EngineError::analysis(
                    "UNSUPPORTED_DATA_SOURCE_SAVE_MODE",
                    format!(
                        "'path' is not specified: the {} format writes files; use save(path)",
                        self.spec.format
                    ),
                ))
            }
            None => Err(unknown_format(&self.spec.format)),
        }
    }

    /// `format("csv").save(path)`.
    pub fn csv(self, path: &str) -> Result<()> {
        self.format("csv").save(path)
    }

    /// `format("json").save(path)`.
    pub fn json(self, path: &str) -> Result<()> {
        self.format("json").save(path)
    }

    /// `format("parquet").save(path)`.
    pub fn parquet(self, path: &str) -> Result<()> {
        self.format("parquet").save(path)
    }

    /// `format("text").save(path)`.
    pub fn text(self, path: &str) -> Result<()> {
        self.format("text").save(path)
    }
}

/// Writes `df` through `format`'s sink as one batch (`df.write().format("kafka").save_no_path()`).
pub fn write_with_format(
    df: &DataFrame,
    format: Arc<dyn Format>,
    options: Options,
    save_mode: &str,
) -> Result<u64> {
    let sink = format.create_sink(SinkContext {
        options: df.session().conf().with_session_settings(&options),
        schema: df.schema()?,
        output_mode: engine_core::connector::OutputMode::Append,
        query_id: None,
        save_mode: Some(save_mode.to_string()),
    })?;
    let ctx = df.session().task_context()?;
    let plan = df.physical_plan(&ctx)?;
    write_to_sink(&plan, &ctx, &sink, 0)
}
