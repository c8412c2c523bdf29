//! What a pipeline file describes, once checked.

use engine_core::options::RedactedPairs;

/// A whole pipeline file. `Debug` forms redact secret options and settings.
#[derive(Clone, PartialEq)]
pub struct Pipeline {
    /// `[conf]`: session configuration, in file order.
    pub conf: Vec<(String, String)>,
    /// `[source.NAME]` tables, in file order; each becomes a temp view called NAME.
    pub sources: Vec<SourceSpec>,
    /// `[view.NAME]` tables, in file order.
    pub views: Vec<ViewSpec>,
    /// `[query] sql`: the query whose result goes to the sink.
    pub query: String,
    /// `[sink]`.
    pub sink: SinkSpec,
}

/// `[source.NAME]`: a streaming read.
#[derive(Clone, PartialEq)]
pub struct SourceSpec {
    /// The view name the source is registered under.
    pub name: String,
    /// `format`: kafka, json, csv, parquet, text, rate, ...
    pub format: String,
    /// `path` for file sources.
    pub path: Option<String>,
    /// `schema`: a DDL string (file sources need one unless schema inference is enabled).
    pub schema: Option<String>,
    /// `options`: passed to the reader as they are (values of any TOML scalar type become text).
    pub options: Vec<(String, String)>,
    /// `watermark`: event-time watermark on the source itself.
    pub watermark: Option<Watermark>,
}

/// `[view.NAME]`: a named SQL view over earlier sources and views.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewSpec {
    /// The view name.
    pub name: String,
    /// `sql`: the view's query.
    pub sql: String,
    /// `watermark`: applied to the view's result.
    pub watermark: Option<Watermark>,
}

/// `watermark = { column = "ts", delay = "10 minutes" }`, Spark's `withWatermark`.
#[derive(Debug, Clone, PartialEq)]
pub struct Watermark {
    /// The event-time column.
    pub column: String,
    /// How late data may arrive, as Spark's interval text.
    pub delay: String,
}

/// `[sink]`: the streaming write.
#[derive(Clone, PartialEq)]
pub struct SinkSpec {
    /// `format`: console, memory, json, csv, parquet, kafka, ...
    pub format: String,
    /// `path` for file sinks.
    pub path: Option<String>,
    /// `outputMode`: append (default), update or complete.
    pub output_mode: String,
    /// `trigger`.
    pub trigger: TriggerSpec,
    /// `checkpointLocation`.
    pub checkpoint_location: Option<String>,
    /// `queryName`.
    pub query_name: Option<String>,
    /// `partitionBy`: output partition columns of file sinks.
    pub partition_by: Vec<String>,
    /// `options`: passed to the writer as they are.
    pub options: Vec<(String, String)>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("conf", &RedactedPairs(&self.conf))
            .field("sources", &self.sources)
            .field("views", &self.views)
            .field("query", &self.query)
            .field("sink", &self.sink)
            .finish()
    }
}

impl std::fmt::Debug for SourceSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceSpec")
            .field("name", &self.name)
            .field("format", &self.format)
            .field("path", &self.path)
            .field("schema", &self.schema)
            .field("options", &RedactedPairs(&self.options))
            .field("watermark", &self.watermark)
            .finish()
    }
}

impl std::fmt::Debug for SinkSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SinkSpec")
            .field("format", &self.format)
            .field("path", &self.path)
            .field("output_mode", &self.output_mode)
            .field("trigger", &self.trigger)
            .field("checkpoint_location", &self.checkpoint_location)
            .field("query_name", &self.query_name)
            .field("partition_by", &self.partition_by)
            .field("options", &RedactedPairs(&self.options))
            .finish()
    }
}

/// `trigger = { ... }`: exactly one of Spark's triggers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriggerSpec {
    /// No `trigger`: the next batch starts as soon as the previous one ends.
    Default,
    /// `processingTime = "5 seconds"`.
    ProcessingTime(String),
    /// `once = true` (deprecated in Spark; prefer availableNow).
    Once,
    /// `availableNow = true`.
    AvailableNow,
    /// `continuous = "1 second"`: the checkpoint interval of continuous processing.
    Continuous(String),
}
