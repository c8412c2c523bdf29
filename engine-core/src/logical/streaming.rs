//! Logical nodes of streaming queries: the source leaf and the event-time watermark.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::connector::Format;
use crate::options::Options;
use arrow::datatypes::SchemaRef;

use super::LogicalPlan;
use crate::expr::Expr;

/// A streaming source in a plan (Spark's `StreamingRelationV2`): what `read_stream().load()`
/// returns. It stays a leaf through analysis and optimization; when a query starts, the
/// runtime swaps it for a per-batch scan of the partitions the source planned.
#[derive(Clone)]
pub struct StreamingRelation {
    /// Unique per `load()`: a DataFrame joined with itself reads one source, two `load()`s
    /// of the same directory are two sources.
    pub id: u64,
    /// The format that creates the source.
    pub format: Arc<dyn Format>,
    /// The format name as given (`rate`, `kafka`).
    pub format_name: String,
    /// The reader options.
    pub options: Options,
    /// The schema given with `.schema(..)`, if any.
    pub user_schema: Option<SchemaRef>,
    /// The schema of the rows (the format's answer for these options).
    pub schema: SchemaRef,
}

impl StreamingRelation {
    /// A new source leaf with a fresh id.
    pub fn new(
        format: Arc<dyn Format>,
        format_name: &str,
        options: Options,
        user_schema: Option<SchemaRef>,
        schema: SchemaRef,
    ) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        StreamingRelation {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            format,
            format_name: format_name.to_string(),
            options,
            user_schema,
            schema,
        }
    }
}

impl fmt::Debug for StreamingRelation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamingRelation")
            .field("id", &self.id)
            .field("format", &self.format_name)
            .field("schema", &self.schema)
            .finish()
    }
}

/// `df.with_watermark(col, delay)` (Spark's `EventTimeWatermark`): rows pass unchanged; the
/// streaming runtime reads the event-time statistics of each batch from [`Self::stats`] and
/// computes the next watermark as `max(event time) - delay`.
#[derive(Debug, Clone)]
pub struct EventTimeWatermark {
    /// The event-time column (a TIMESTAMP column of the input once resolved).
    pub event_time: Expr,
    /// How late data may arrive.
    pub delay: Duration,
    /// Where the running operator accumulates statistics; the runtime gives each query its
    /// own (so two queries started from one DataFrame never share them).
    pub stats: Arc<EventTimeStats>,
    /// The input.
    pub input: Arc<LogicalPlan>,
}

/// Min / max / average of an event-time column over one batch, in microseconds.
#[derive(Debug, Default)]
pub struct EventTimeStats {
    inner: Mutex<EventTimeSummary>,
}

/// A snapshot of [`EventTimeStats`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EventTimeSummary {
    /// Smallest event time seen (µs since the epoch).
    pub min: i64,
    /// Largest event time seen.
    pub max: i64,
    /// Sum of event times, for the average (f64: sums of µs overflow i64 quickly).
    pub sum: f64,
    /// Non-null event times seen.
    pub count: u64,
}

impl EventTimeSummary {
    /// The average event time, if any was seen.
    pub fn avg(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }
}

impl EventTimeStats {
    /// Folds one array's statistics in (called per output batch, from any task).
    pub fn add(&self, min: i64, max: i64, sum: f64, count: u64) {
        if count == 0 {
            return;
        }
        let mut s = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if s.count == 0 {
            s.min = min;
            s.max = max;
        } else {
            s.min = s.min.min(min);
            s.max = s.max.max(max);
        }
        s.sum += sum;
        s.count += count;
    }

    /// The statistics so far, and resets them for the next batch.
    pub fn take(&self) -> EventTimeSummary {
        let mut s = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::take(&mut *s)
    }
}
