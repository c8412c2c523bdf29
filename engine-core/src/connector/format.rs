//! Formats by name: what `format("kafka")` finds, for reads and writes, batch and streaming.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock, RwLock};

use arrow::datatypes::SchemaRef;

use super::sink::{OutputMode, Sink};
use super::source::{InputPartition, Source};
use crate::options::Options;
use crate::{EngineError, Result};

/// What a streaming source is created from.
#[derive(Clone, Debug)]
pub struct SourceContext {
    /// The options given to `read_stream().option(..)`.
    pub options: Options,
    /// The schema given with `.schema(..)`, if any.
    pub user_schema: Option<SchemaRef>,
    /// A directory inside the checkpoint that belongs to this source alone
    /// (`<checkpoint>/sources/<i>`), for its own logs.
    pub metadata_path: PathBuf,
    /// The query's id (stable across restarts), e.g. to derive a consumer group.
    pub query_id: String,
}

/// What a sink is created from.
#[derive(Clone, Debug)]
pub struct SinkContext {
    /// The options given to `write_stream().option(..)` or `write().option(..)`.
    pub options: Options,
    /// The schema of the rows the sink receives.
    pub schema: SchemaRef,
    /// The output mode of a streaming query; `Append` for batch writes.
    pub output_mode: OutputMode,
    /// The streaming query's id (stable across restarts); `None` for a batch write.
    pub query_id: Option<String>,
    /// The save mode of a batch write (`error`, `append`, ...); `None` when streaming.
    pub save_mode: Option<String>,
}

/// A data source format: creates sources, batch scans and sinks from options. Every method
/// has a default that says the format cannot do it, so a format implements only what it
/// supports.
pub trait Format: Send + Sync {
    /// The name users pass to `format(..)`, lower case (`kafka`).
    fn short_name(&self) -> &str;

    /// The schema of a read with these options (fixed for Kafka).
    fn schema(&self, options: &Options, user_schema: Option<SchemaRef>) -> Result<SchemaRef>;

    /// A streaming source.
    fn create_source(&self, _ctx: SourceContext) -> Result<Box<dyn Source>> {
        Err(EngineError::Unsupported(format!(
            "Data source {} does not support streamed reading",
            self.short_name()
        )))
    }

    /// The partitions of a batch read.
    fn create_batch_scan(
        &self,
        _options: &Options,
        _schema: SchemaRef,
    ) -> Result<Vec<Arc<dyn InputPartition>>> {
        Err(EngineError::Unsupported(format!(
            "Data source {} does not support batch reading",
            self.short_name()
        )))
    }

    /// A sink for a streaming query or a batch write.
    fn create_sink(&self, _ctx: SinkContext) -> Result<Arc<dyn Sink>> {
        Err(EngineError::Unsupported(format!(
            "Data source {} does not support writing",
            self.short_name()
        )))
    }
}

/// Formats by lower-case name. [`FormatRegistry::global`] is the one the engine consults;
/// connector crates add themselves to it (Spark finds them through `ServiceLoader`).
#[derive(Default)]
pub struct FormatRegistry {
    formats: RwLock<HashMap<String, Arc<dyn Format>>>,
}

impl FormatRegistry {
    /// The process-wide registry.
    pub fn global() -> &'static FormatRegistry {
        static GLOBAL: OnceLock<FormatRegistry> = OnceLock::new();
        GLOBAL.get_or_init(FormatRegistry::default)
    }

    /// Adds `format` under its short name, replacing one of the same name.
    pub fn register(&self, format: Arc<dyn Format>) {
        let name = format.short_name().to_ascii_lowercase();
        // A poisoned lock only means another thread panicked mid-insert of a whole Arc;
        // the map itself is still consistent.
        let mut formats = self
            .formats
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        formats.insert(name, format);
    }

    /// The format called `name` (any case), if registered.
    pub fn get(&self, name: &str) -> Option<Arc<dyn Format>> {
        let formats = self
            .formats
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        formats.get(&name.to_ascii_lowercase()).cloned()
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<String> {
        let formats = self
            .formats
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut names: Vec<String> = formats.keys().cloned().collect();
        names.sort();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::{DataType, Field, Schema};

    struct Fixed;

    impl Format for Fixed {
        fn short_name(&self) -> &str {
            "Fixed"
        }
        fn schema(&self, _: &Options, _: Option<SchemaRef>) -> Result<SchemaRef> {
            Ok(Arc::new(Schema::new(vec![Field::new(
                "value",
                DataType::Binary,
                true,
            )])))
        }
    }

    #[test]
    fn contexts_never_show_secret_options() {
        let options = Options::new([("kafka.sasl.password", "hunter2"), ("subscribe", "t")]);
        let source = SourceContext {
            options: options.clone(),
            user_schema: None,
            metadata_path: PathBuf::from("/ck/sources/0"),
            query_id: "q".into(),
        };
        let sink = SinkContext {
            options,
            schema: Arc::new(Schema::empty()),
            output_mode: OutputMode::Append,
            query_id: None,
            save_mode: None,
        };
        for shown in [format!("{source:?}"), format!("{sink:?}")] {
            assert!(
                !shown.contains("hunter2") && shown.contains("subscribe"),
                "{shown}"
            );
        }
    }

    #[test]
    fn formats_are_found_by_name_in_any_case_and_defaults_refuse() {
        let registry = FormatRegistry::default();
        registry.register(Arc::new(Fixed));
        let f = registry.get("FIXED").unwrap();
        assert_eq!(
            f.schema(&Options::default(), None).unwrap().fields().len(),
            1
        );
        let e = f
            .create_batch_scan(
                &Options::default(),
                f.schema(&Options::default(), None).unwrap(),
            )
            .unwrap_err();
        assert!(
            e.to_string().contains("does not support batch reading"),
            "{e}"
        );
        assert_eq!(registry.names(), vec!["fixed".to_string()]);
        assert!(registry.get("kafka").is_none());
    }
}
