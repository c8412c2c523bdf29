//! Streaming progress reports and listeners, with Spark's JSON field names.
//!
//! [`StreamingQueryProgress::json`] writes the same JSON as Spark's
//! `StreamingQueryProgress.json` (camelCase names, offsets as embedded JSON, rates that are
//! not finite and empty maps left out), so dashboards built for Spark read it unchanged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{EngineError, Result};

fn not_finite(v: &f64) -> bool {
    !v.is_finite()
}

fn nan() -> f64 {
    f64::NAN
}

/// The progress of one stateful operator (Spark's `StateOperatorProgress`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateOperatorProgress {
    /// The operator, e.g. `stateStoreSave`.
    pub operator_name: String,
    /// Keys in the state after the batch.
    pub num_rows_total: i64,
    /// Keys updated by the batch.
    pub num_rows_updated: i64,
    /// Time spent updating state, ms.
    #[serde(default)]
    pub all_updates_time_ms: i64,
    /// Keys removed by the batch.
    #[serde(default)]
    pub num_rows_removed: i64,
    /// Time spent removing state, ms.
    #[serde(default)]
    pub all_removals_time_ms: i64,
    /// Time spent committing state, ms.
    #[serde(default)]
    pub commit_time_ms: i64,
    /// Memory used by the state, bytes.
    #[serde(default)]
    pub memory_used_bytes: i64,
    /// Input rows dropped because they were later than the watermark.
    #[serde(default)]
    pub num_rows_dropped_by_watermark: i64,
    /// State partitions.
    #[serde(default)]
    pub num_shuffle_partitions: i64,
    /// State store instances.
    #[serde(default)]
    pub num_state_store_instances: i64,
    /// Provider-specific metrics.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_metrics: BTreeMap<String, i64>,
}

/// The progress of one source in one batch (Spark's `SourceProgress`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceProgress {
    /// The source's description.
    pub description: String,
    /// Where the batch started (offset JSON), `null` for the first batch.
    pub start_offset: Value,
    /// Where the batch ended.
    pub end_offset: Value,
    /// The newest offset the source reported, regardless of limits.
    pub latest_offset: Value,
    /// Rows read from this source in the batch.
    pub num_input_rows: i64,
    /// Rows per second arriving (rows / time since the previous batch started).
    #[serde(default = "nan", skip_serializing_if = "not_finite")]
    pub input_rows_per_second: f64,
    /// Rows per second processed (rows / batch duration).
    #[serde(default = "nan", skip_serializing_if = "not_finite")]
    pub processed_rows_per_second: f64,
    /// Source-specific metrics.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, String>,
}

/// The progress of the sink in one batch (Spark's `SinkProgress`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SinkProgress {
    /// The sink's description.
    pub description: String,
    /// Rows written, `-1` when the sink cannot tell (Spark's convention).
    pub num_output_rows: i64,
    /// Sink-specific metrics.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, String>,
}

/// What one trigger of a streaming query did (Spark's `StreamingQueryProgress`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamingQueryProgress {
    /// The query id, stable across restarts.
    pub id: String,
    /// The id of this run of the query.
    pub run_id: String,
    /// The query name, if any.
    pub name: Option<String>,
    /// When the trigger started, ISO-8601 UTC with milliseconds (`2024-01-01T00:00:00.000Z`).
    pub timestamp: String,
    /// The batch id.
    pub batch_id: i64,
    /// Wall time of the batch, ms.
    pub batch_duration: i64,
    /// Rows read by all sources.
    pub num_input_rows: i64,
    /// Rows per second arriving.
    #[serde(default = "nan", skip_serializing_if = "not_finite")]
    pub input_rows_per_second: f64,
    /// Rows per second processed.
    #[serde(default = "nan", skip_serializing_if = "not_finite")]
    pub processed_rows_per_second: f64,
    /// Time per phase, ms: `latestOffset`, `getBatch`, `queryPlanning`, `addBatch`,
    /// `walCommit`, `commitOffsets`, `triggerExecution`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub duration_ms: BTreeMap<String, i64>,
    /// Event-time statistics of the batch: `avg`, `max`, `min` of the watermark column and the
    /// `watermark` (ISO-8601 strings); empty without a watermark.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub event_time: BTreeMap<String, String>,
    /// One entry per stateful operator.
    #[serde(default)]
    pub state_operators: Vec<StateOperatorProgress>,
    /// One entry per source, in plan order.
    pub sources: Vec<SourceProgress>,
    /// The sink.
    pub sink: SinkProgress,
    /// Named metrics from `observe` (not produced yet).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub observed_metrics: BTreeMap<String, Value>,
    /// Malformed records `from_json`/`from_csv` met in the batch, in any mode: kept in the
    /// corrupt-record column (PERMISSIVE) or dropped (DROPMALFORMED). Not in Spark, which
    /// counts nothing it drops; written only when non-zero, so Spark's readers of this JSON
    /// are unaffected.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub num_malformed_rows: i64,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

impl StreamingQueryProgress {
    /// Compact JSON, as Spark's `json`.
    pub fn json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| EngineError::external("progress to JSON", e))
    }

    /// Indented JSON, as Spark's `prettyJson` (and `toString`).
    pub fn pretty_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| EngineError::external("progress to JSON", e))
    }

    /// Parses what [`Self::json`] (or Spark) wrote.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| EngineError::external("progress from JSON", e))
    }
}

/// An offset's text as progress JSON: embedded JSON when it parses, else a string
/// (Spark's `tryParse`), `null` when absent.
pub fn offset_value(json: Option<&str>) -> Value {
    match json {
        None => Value::Null,
        Some(t) => serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.to_string())),
    }
}

/// What a query is doing right now (Spark's `StreamingQueryStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamingQueryStatus {
    /// A human-readable line, e.g. `Waiting for data to arrive`.
    pub message: String,
    /// Whether the last trigger found new data.
    pub is_data_available: bool,
    /// Whether a trigger is running now.
    pub is_trigger_active: bool,
}

/// A query started (Spark's `QueryStartedEvent`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryStartedEvent {
    /// The query id.
    pub id: String,
    /// The run id.
    pub run_id: String,
    /// The query name.
    pub name: Option<String>,
    /// When it started (ISO-8601).
    pub timestamp: String,
}

/// A trigger processed data (Spark's `QueryProgressEvent`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryProgressEvent {
    /// The progress of the trigger.
    pub progress: StreamingQueryProgress,
}

/// A trigger found no new data (Spark's `QueryIdleEvent`, at most once per
/// `spark.sql.streaming.noDataProgressEventInterval`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryIdleEvent {
    /// The query id.
    pub id: String,
    /// The run id.
    pub run_id: String,
    /// When the idle trigger started (ISO-8601).
    pub timestamp: String,
}

/// A query stopped, by `stop()`, by finishing (`Once`, `AvailableNow`) or by an error
/// (Spark's `QueryTerminatedEvent`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryTerminatedEvent {
    /// The query id.
    pub id: String,
    /// The run id.
    pub run_id: String,
    /// The error that stopped it, if any.
    pub exception: Option<String>,
    /// The error's Spark error class, if it has one.
    pub error_class_on_exception: Option<String>,
}

/// Receives the lifecycle events of every query of a session (Spark's
/// `StreamingQueryListener`). Called on the query's own thread: keep handlers short.
pub trait StreamingQueryListener: Send + Sync {
    /// A query started; called before its first trigger.
    fn on_query_started(&self, event: &QueryStartedEvent);
    /// A trigger processed data.
    fn on_query_progress(&self, event: &QueryProgressEvent);
    /// A trigger found no data.
    fn on_query_idle(&self, _event: &QueryIdleEvent) {}
    /// A query stopped.
    fn on_query_terminated(&self, event: &QueryTerminatedEvent);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> StreamingQueryProgress {
        StreamingQueryProgress {
            id: "8c5f2a1e-0000-0000-0000-000000000001".into(),
            run_id: "8c5f2a1e-0000-0000-0000-000000000002".into(),
            name: None,
            timestamp: "2026-01-01T00:00:00.000Z".into(),
            batch_id: 3,
            batch_duration: 12,
            num_input_rows: 10,
            input_rows_per_second: f64::NAN,
            processed_rows_per_second: 833.3333333333334,
            duration_ms: BTreeMap::from([("addBatch".into(), 5), ("triggerExecution".into(), 12)]),
            event_time: BTreeMap::new(),
            state_operators: vec![],
            sources: vec![SourceProgress {
                description: "MemoryStream[value#0]".into(),
                start_offset: Value::Null,
                end_offset: offset_value(Some("0")),
                latest_offset: offset_value(Some("0")),
                num_input_rows: 10,
                input_rows_per_second: f64::NAN,
                processed_rows_per_second: 833.3333333333334,
                metrics: BTreeMap::new(),
            }],
            sink: SinkProgress {
                description: "MemorySink".into(),
                num_output_rows: 10,
                metrics: BTreeMap::new(),
            },
            observed_metrics: BTreeMap::new(),
            num_malformed_rows: 0,
        }
    }

    #[test]
    fn spark_field_names_and_omissions() {
        let j = sample().json().unwrap();
        assert_eq!(
            j,
            "{\"id\":\"8c5f2a1e-0000-0000-0000-000000000001\",\"runId\":\"8c5f2a1e-0000-0000-0000-000000000002\",\"name\":null,\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"batchId\":3,\"batchDuration\":12,\"numInputRows\":10,\"processedRowsPerSecond\":833.3333333333334,\"durationMs\":{\"addBatch\":5,\"triggerExecution\":12},\"stateOperators\":[],\"sources\":[{\"description\":\"MemoryStream[value#0]\",\"startOffset\":null,\"endOffset\":0,\"latestOffset\":0,\"numInputRows\":10,\"processedRowsPerSecond\":833.3333333333334}],\"sink\":{\"description\":\"MemorySink\",\"numOutputRows\":10}}"
        );
        let back = StreamingQueryProgress::from_json(&j).unwrap();
        assert!(back.input_rows_per_second.is_nan());
        assert_eq!(back.json().unwrap(), j);
    }
}
