//! The `rate-micro-batch` source (Spark's `RatePerMicroBatchProvider`): exactly
//! `rowsPerBatch` rows per micro-batch whatever the trigger or the clock, columns
//! `timestamp TIMESTAMP, value BIGINT`. Batch `n` holds the values
//! `n * rowsPerBatch .. (n + 1) * rowsPerBatch` and every row of it has the timestamp
//! `startTimestamp + n * advanceMillisPerBatch` (ms), so a query over it produces the same
//! rows batch by batch on every run: the deterministic stream for tests.
//!
//! The offset is Spark's JSON, `{"offset":3,"timestamp":1500}`: the next value and the
//! timestamp of the batch that starts there. `Trigger.AvailableNow` runs one batch, as
//! Spark's does (what is "available now" is the next batch). Partition `p` of
//! `numPartitions` reads the values `start + p + k * numPartitions`.

use std::sync::Arc;

use arrow::array::{Int64Array, TimestampMicrosecondArray};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use engine_core::connector::{
    BatchIter, Format, InputPartition, Offset, ReadLimit, Source, SourceContext,
};
use engine_core::options::Options;
use engine_core::{EngineError, Result};
use serde::{Deserialize, Serialize};

use super::rate::rate_schema;

/// The `rate-micro-batch` format.
#[derive(Debug, Clone, Copy, Default)]
pub struct RateMicroBatchFormat;

impl Format for RateMicroBatchFormat {
    fn short_name(&self) -> &str {
        "rate-micro-batch"
    }

    fn schema(&self, _options: &Options, user_schema: Option<SchemaRef>) -> Result<SchemaRef> {
        if user_schema.is_some() {
            return Err(EngineError::analysis(
                "_LEGACY_ERROR_TEMP_2242",
                "RatePerMicroBatchProvider source does not support user-specified schema.",
            ));
        }
        Ok(rate_schema())
    }

    fn create_source(&self, ctx: SourceContext) -> Result<Box<dyn Source>> {
        self.schema(&ctx.options, ctx.user_schema.clone())?;
        Ok(Box::new(RateMicroBatchSource::new(&ctx.options)?))
    }
}

/// The source's options, checked as Spark checks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateMicroBatchOptions {
    /// `rowsPerBatch` (required, positive).
    pub rows_per_batch: i64,
    /// `numPartitions` (default: the number of cores).
    pub num_partitions: i64,
    /// `startTimestamp` in ms (default 0, not negative).
    pub start_timestamp_ms: i64,
    /// `advanceMillisPerBatch` (default 1000, not negative).
    pub advance_ms_per_batch: i64,
}

fn number(
    options: &Options,
    name: &str,
    default: i64,
    ok: fn(i64) -> bool,
    rule: &str,
) -> Result<i64> {
    let bad = |shown: &str| {
        EngineError::invalid_option(
            name,
            format!("Invalid value '{shown}'. The option '{name}' must be {rule}"),
        )
    };
    let v = match options.get(name) {
        None => default,
        Some(text) => text.trim().parse::<i64>().map_err(|_| bad(text))?,
    };
    if ok(v) {
        Ok(v)
    } else {
        Err(bad(&v.to_string()))
    }
}

impl RateMicroBatchOptions {
    /// Parses the options with Spark's messages.
    pub fn parse(options: &Options) -> Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as i64;
        let advance = number(
            options,
            "advanceMillisPerBatch",
            1000,
            |v| v >= 0,
            "non-negative",
        )?;
        // Spark reads it as an int.
        if advance > i64::from(i32::MAX) {
            return Err(EngineError::invalid_option(
                "advanceMillisPerBatch",
                format!(
                    "Invalid value '{advance}'. The option 'advanceMillisPerBatch' must be an int"
                ),
            ));
        }
        Ok(RateMicroBatchOptions {
            rows_per_batch: number(options, "rowsPerBatch", 0, |v| v > 0, "positive")?,
            num_partitions: number(
                options,
                "numPartitions",
                cores,
                |v| v > 0 && v <= i64::from(i32::MAX),
                "positive",
            )?,
            start_timestamp_ms: number(options, "startTimestamp", 0, |v| v >= 0, "non-negative")?,
            advance_ms_per_batch: advance,
        })
    }
}

/// Spark's offset: the next value and the timestamp (ms) of the batch starting there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    offset: i64,
    timestamp: i64,
}

impl Position {
    fn parse(o: &Offset) -> Result<Position> {
        serde_json::from_str(o.json()).map_err(|e| {
            EngineError::execution(
                "INVALID_OFFSET",
                format!(
                    "Invalid rate-micro-batch offset `{o}` ({e}); expected {{\"offset\":<n>,\"timestamp\":<ms>}}"
                ),
            )
        })
    }

    fn to_offset(self) -> Result<Offset> {
        serde_json::to_string(&self)
            .map(Offset::new)
            .map_err(|e| EngineError::Internal(format!("writing a rate-micro-batch offset: {e}")))
    }
}

/// The `rate-micro-batch` source. Created by [`RateMicroBatchFormat::create_source`].
#[derive(Debug)]
pub struct RateMicroBatchSource {
    opts: RateMicroBatchOptions,
    /// Set by `Trigger.AvailableNow`: the one batch's end, fixed at its first planning.
    available_now: Option<Option<Offset>>,
}

impl RateMicroBatchSource {
    /// A source with `options` (Spark's names).
    pub fn new(options: &Options) -> Result<Self> {
        Ok(RateMicroBatchSource {
            opts: RateMicroBatchOptions::parse(options)?,
            available_now: None,
        })
    }

    fn next_end(&self, start: &Offset) -> Result<Offset> {
        let p = Position::parse(start)?;
        Position {
            // Spark caps the offset at Long.MaxValue rather than failing.
            offset: p.offset.saturating_add(self.opts.rows_per_batch),
            timestamp: p.timestamp.saturating_add(self.opts.advance_ms_per_batch),
        }
        .to_offset()
    }
}

/// One partition of a batch: `start + partition + k * n` below `end`, all at `timestamp_ms`.
#[derive(Debug, Clone)]
struct Part {
    partition: i64,
    num_partitions: i64,
    start: i64,
    end: i64,
    timestamp_ms: i64,
}

const CHUNK: i64 = 8192;

impl InputPartition for Part {
    fn read(&self) -> Result<BatchIter> {
        let p = self.clone();
        let first = p.start.saturating_add(p.partition);
        let count = if first >= p.end {
            0
        } else {
            (p.end - first - 1) / p.num_partitions + 1
        };
        let ts = p.timestamp_ms.checked_mul(1000).ok_or_else(|| {
            EngineError::execution(
                "ARITHMETIC_OVERFLOW",
                format!(
                    "rate-micro-batch timestamp {} ms is out of range",
                    p.timestamp_ms
                ),
            )
        })?;
        let schema = rate_schema();
        let chunks = (0..count).step_by(CHUNK as usize).map(move |k0| {
            let k1 = (k0 + CHUNK).min(count);
            // In range: every value lies below `end`.
            let values: Int64Array = (k0..k1).map(|k| first + k * p.num_partitions).collect();
            let n = values.len();
            let times = TimestampMicrosecondArray::from(vec![ts; n]).with_timezone("UTC");
            Ok(RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(times), Arc::new(values)],
            )?)
        });
        Ok(Box::new(chunks))
    }
}

impl Source for RateMicroBatchSource {
    fn description(&self) -> String {
        format!(
            "RatePerMicroBatchStream[rowsPerBatch={}, numPartitions={}, startTimestamp={}, advanceMsPerBatch={}]",
            self.opts.rows_per_batch,
            self.opts.num_partitions,
            self.opts.start_timestamp_ms,
            self.opts.advance_ms_per_batch
        )
    }

    fn schema(&self) -> SchemaRef {
        rate_schema()
    }

    fn initial_offset(&mut self) -> Result<Offset> {
        Position {
            offset: 0,
            timestamp: self.opts.start_timestamp_ms,
        }
        .to_offset()
    }

    fn default_read_limit(&self) -> ReadLimit {
        ReadLimit::MaxRows(self.opts.rows_per_batch.unsigned_abs())
    }

    fn latest_offset(&mut self, start: &Offset, _limit: &ReadLimit) -> Result<Offset> {
        match &self.available_now {
            Some(Some(end)) => Ok(end.clone()),
            Some(None) => {
                let end = self.next_end(start)?;
                self.available_now = Some(Some(end.clone()));
                Ok(end)
            }
            None => self.next_end(start),
        }
    }

    fn prepare_for_trigger_available_now(&mut self) -> Result<()> {
        self.available_now = Some(None);
        Ok(())
    }

    fn plan_partitions(
        &mut self,
        start: &Offset,
        end: &Offset,
    ) -> Result<Vec<Arc<dyn InputPartition>>> {
        let (s, e) = (Position::parse(start)?, Position::parse(end)?);
        if s.offset > e.offset || s.timestamp > e.timestamp {
            return Err(EngineError::Internal(format!(
                "rate-micro-batch batch from {start} to {end} goes backwards"
            )));
        }
        if s.offset == e.offset {
            return Ok(vec![]);
        }
        let n = self.opts.num_partitions;
        Ok((0..n)
            .map(|partition| {
                Arc::new(Part {
                    partition,
                    num_partitions: n,
                    start: s.offset,
                    end: e.offset,
                    timestamp_ms: s.timestamp,
                }) as Arc<dyn InputPartition>
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::AsArray;
    use arrow::datatypes::{Int64Type, TimestampMicrosecondType};

    fn source(opts: &[(&str, &str)]) -> RateMicroBatchSource {
        RateMicroBatchSource::new(&Options::new(opts.iter().copied())).unwrap()
    }

    fn rows(s: &mut RateMicroBatchSource, start: &Offset, end: &Offset) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        for p in s.plan_partitions(start, end).unwrap() {
            for b in p.read().unwrap() {
                let b = b.unwrap();
                let ts = b.column(0).as_primitive::<TimestampMicrosecondType>();
                let v = b.column(1).as_primitive::<Int64Type>();
                for i in 0..b.num_rows() {
                    out.push((ts.value(i) / 1000, v.value(i)));
                }
            }
        }
        out.sort();
        out
    }

    // What PySpark 4.3 gave for rowsPerBatch 3, numPartitions 2, startTimestamp 1000,
    // advanceMillisPerBatch 500: batch 0 = 0..2 at 1000 ms, batch 1 = 3..5 at 1500 ms, ...,
    // and `{"offset":3,"timestamp":1500}` as batch 0's end in the offsets log.
    #[test]
    fn batches_match_spark() {
        let opts = [
            ("rowsPerBatch", "3"),
            ("numPartitions", "2"),
            ("startTimestamp", "1000"),
            ("advanceMillisPerBatch", "500"),
        ];
        let mut s = source(&opts);
        let o0 = s.initial_offset().unwrap();
        let o1 = s.latest_offset(&o0, &ReadLimit::AllAvailable).unwrap();
        assert_eq!(o1.json(), r#"{"offset":3,"timestamp":1500}"#);
        let o2 = s.latest_offset(&o1, &ReadLimit::AllAvailable).unwrap();
        assert_eq!(
            rows(&mut s, &o0, &o1),
            vec![(1000, 0), (1000, 1), (1000, 2)]
        );
        assert_eq!(
            rows(&mut s, &o1, &o2),
            vec![(1500, 3), (1500, 4), (1500, 5)]
        );
        // A replay of a logged batch reads the same rows.
        assert_eq!(rows(&mut source(&opts), &o1, &o2), rows(&mut s, &o1, &o2));
    }

    #[test]
    fn available_now_is_one_batch() {
        let mut s = source(&[("rowsPerBatch", "2")]);
        s.prepare_for_trigger_available_now().unwrap();
        let o0 = s.initial_offset().unwrap();
        let o1 = s.latest_offset(&o0, &ReadLimit::AllAvailable).unwrap();
        assert_eq!(s.latest_offset(&o1, &ReadLimit::AllAvailable).unwrap(), o1);
    }

    #[test]
    fn options_are_checked_like_spark() {
        let err = |o: &[(&str, &str)]| {
            RateMicroBatchSource::new(&Options::new(o.iter().copied()))
                .unwrap_err()
                .to_string()
        };
        assert!(err(&[]).contains("Invalid value '0'. The option 'rowsPerBatch' must be positive"));
        assert!(
            err(&[("rowsPerBatch", "2"), ("startTimestamp", "-1")])
                .contains("must be non-negative")
        );
        assert!(err(&[("rowsPerBatch", "x")]).contains("Invalid value 'x'"));
        assert!(err(&[("rowsPerBatch", "1"), ("numPartitions", "0")]).contains("must be positive"));
    }

    #[test]
    fn bad_offsets_are_errors_not_panics() {
        let mut s = source(&[("rowsPerBatch", "2")]);
        assert!(
            s.latest_offset(&Offset::new("3"), &ReadLimit::AllAvailable)
                .is_err()
        );
        let big = Offset::new(r#"{"offset":9223372036854775807,"timestamp":9223372036854775807}"#);
        let end = s.latest_offset(&big, &ReadLimit::AllAvailable).unwrap();
        assert!(s.plan_partitions(&big, &end).unwrap().is_empty());
        let near = Offset::new(r#"{"offset":9223372036854775806,"timestamp":9223372036854775807}"#);
        let parts = s.plan_partitions(&near, &big).unwrap();
        assert!(parts.iter().any(|p| p.read().is_err()));
        assert!(Position::parse(&Offset::new("{}")).is_err());
    }
}
