//! The file formats (`json`, `csv`, `parquet`, `text`) as streaming formats: each reads with
//! a [`FileStreamSource`] and writes with a [`FileStreamSink`].

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use engine_core::Result;
use engine_core::conf::SessionConf;
use engine_core::connector::{Format, Sink, SinkContext, Source, SourceContext};
use engine_core::options::Options;

use super::sinks::file::FileStreamSink;
use super::sources::file::{FileStreamSource, stream_schema};

/// The file formats the streaming file source and sink support.
pub const FILE_FORMATS: &[&str] = &["json", "csv", "parquet", "text"];

/// A session conf for a connector: defaults, overridden by any `spark.*` keys among the
/// options (the runtime passes the session's settings, e.g. `spark.sql.session.timeZone`,
/// this way since [`SourceContext`] and [`SinkContext`] carry only options).
pub fn conf_from_options(options: &Options, base: Option<&SessionConf>) -> SessionConf {
    let mut conf = base.cloned().unwrap_or_default();
    for (k, v) in options.iter_original() {
        if k.starts_with("spark.") {
            conf.set(k, v);
        }
    }
    conf
}

/// The `json`, `csv`, `parquet` and `text` formats for `read_stream()` / `write_stream()`.
///
/// ```
/// use engine_sql::streaming::file_format::FileStreamFormat;
/// use engine_core::connector::Format;
/// let f = FileStreamFormat::new("json").unwrap();
/// assert_eq!(f.short_name(), "json");
/// assert!(FileStreamFormat::new("orc").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct FileStreamFormat {
    name: &'static str,
    conf: Option<Arc<SessionConf>>,
}

impl FileStreamFormat {
    /// The format called `name` (`json`, `csv`, `parquet`, `text`).
    pub fn new(name: &str) -> Result<Self> {
        let name = FILE_FORMATS
            .iter()
            .find(|f| f.eq_ignore_ascii_case(name))
            .ok_or_else(|| crate::datasource::formats::unknown_format(name))?;
        Ok(FileStreamFormat { name, conf: None })
    }

    /// The same format with a session conf as the base of every source's and sink's
    /// settings (time zone, batch size, split sizes); `spark.*` options still override it.
    pub fn with_conf(mut self, conf: Arc<SessionConf>) -> Self {
        self.conf = Some(conf);
        self
    }

    /// All four file formats, for [`crate::streaming::formats::builtins`].
    pub fn all() -> Vec<Arc<dyn Format>> {
        FILE_FORMATS
            .iter()
            .map(|n| {
                Arc::new(FileStreamFormat {
                    name: n,
                    conf: None,
                }) as Arc<dyn Format>
            })
            .collect()
    }

    fn conf(&self, options: &Options) -> SessionConf {
        conf_from_options(options, self.conf.as_deref())
    }
}

impl Format for FileStreamFormat {
    fn short_name(&self) -> &str {
        self.name
    }

    fn schema(&self, options: &Options, user_schema: Option<SchemaRef>) -> Result<SchemaRef> {
        stream_schema(self.name, options, user_schema, &self.conf(options))
    }

    fn create_source(&self, ctx: SourceContext) -> Result<Box<dyn Source>> {
        let conf = Arc::new(self.conf(&ctx.options));
        Ok(Box::new(FileStreamSource::new(self.name, ctx, conf)?))
    }

    fn create_sink(&self, ctx: SinkContext) -> Result<Arc<dyn Sink>> {
        let conf = self.conf(&ctx.options);
        Ok(Arc::new(FileStreamSink::new(self.name, ctx, &conf)?))
    }
}
