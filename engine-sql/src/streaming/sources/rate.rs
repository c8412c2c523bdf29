//! The rate source (Spark's `RateStreamProvider` / `RateStreamMicroBatchStream`): `rowsPerSecond`
//! rows a second (after a linear `rampUpTime`), columns `timestamp TIMESTAMP, value BIGINT`.
//!
//! The offset is the number of whole seconds since the stream was first started (written as
//! a bare number, `3`, as Spark does); the start time itself is kept in the source's
//! checkpoint directory (`sources/<i>/0`: `v1` then the epoch milliseconds). Values and
//! timestamps are pure functions of the offsets and that start time, so a replayed batch
//! returns exactly the same rows:
//!
//! - `value` runs from `valueAtSecond(start)` to `valueAtSecond(end)` (exclusive), where
//!   `valueAtSecond` ramps the speed up linearly over `rampUpTime` seconds;
//! - partition `p` of `numPartitions` gets the values `start + p + k * numPartitions`;
//! - `timestamp` spreads the values of a batch evenly over its seconds:
//!   `startTime + startSecond * 1000 + round((value - rangeStart) * ms_per_value)`.
//!
//! The clock is injectable ([`RateSource::new`] takes a [`Clock`], e.g. the runtime's
//! `ManualClock`) so tests need not sleep.

use std::sync::Arc;

use arrow::array::{Int64Array, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use engine_core::connector::{BatchIter, Format, InputPartition, Offset, Source, SourceContext};
use engine_core::options::Options;
use engine_core::{EngineError, Result};

use crate::datasource::file_stream_log::write_new_atomic;
use crate::streaming::clock::{Clock, SystemClock};
use crate::streaming::sources::file::time_string_as_ms;

/// The schema of the rate source: `timestamp TIMESTAMP, value BIGINT`.
pub fn rate_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("timestamp", engine_core::types::timestamp_type(), true),
        Field::new("value", DataType::Int64, true),
    ]))
}

/// The `rate` format.
#[derive(Debug, Clone, Copy, Default)]
pub struct RateFormat;

impl Format for RateFormat {
    fn short_name(&self) -> &str {
        "rate"
    }

    fn schema(&self, _options: &Options, user_schema: Option<SchemaRef>) -> Result<SchemaRef> {
        if user_schema.is_some() {
            return Err(EngineError::analysis(
                "_LEGACY_ERROR_TEMP_2242",
                "The rate source does not support a user-specified schema.",
            ));
        }
        Ok(rate_schema())
    }

    fn create_source(&self, ctx: SourceContext) -> Result<Box<dyn Source>> {
        self.schema(&ctx.options, ctx.user_schema.clone())?;
        Ok(Box::new(RateSource::new(ctx, Arc::new(SystemClock))?))
    }
}

/// The rate source's options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateOptions {
    /// `rowsPerSecond` (default 1).
    pub rows_per_second: i64,
    /// `rampUpTime` in whole seconds (default 0).
    pub ramp_up_seconds: i64,
    /// `numPartitions` (default: the number of cores).
    pub num_partitions: usize,
}

impl RateOptions {
    /// Parses the options with Spark's messages.
    pub fn parse(options: &Options) -> Result<Self> {
        let rows_per_second = match options.get("rowsPerSecond") {
            None => 1,
            Some(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    EngineError::invalid_option(
                        "rowsPerSecond",
                        format!("Invalid value '{v}'. The option 'rowsPerSecond' must be positive"),
                    )
                })?,
        };
        let ramp_up_seconds = match options.get("rampUpTime") {
            None => 0,
            Some(v) => {
                // Spark's timeStringAsSeconds: a bare number means seconds.
                let t = v.trim();
                let ms = if t.chars().all(|c| c.is_ascii_digit()) {
                    t.parse::<i64>().ok().and_then(|s| s.checked_mul(1000))
                } else {
                    time_string_as_ms("rampUpTime", t).ok()
                };
                ms.map(|m| m / 1000).filter(|s| *s >= 0).ok_or_else(|| {
                    EngineError::invalid_option(
                        "rampUpTime",
                        format!(
                            "Invalid value '{v}'. The option 'rampUpTime' must not be negative"
                        ),
                    )
                })?
            }
        };
        let num_partitions = match options.get("numPartitions") {
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    EngineError::invalid_option(
                        "numPartitions",
                        format!("Invalid value '{v}'. The option 'numPartitions' must be positive"),
                    )
                })?,
        };
        if ramp_up_seconds > i64::MAX / rows_per_second {
            return Err(EngineError::execution(
                "ARITHMETIC_OVERFLOW",
                format!(
                    "Integer overflow. Max offset with {rows_per_second} rowsPerSecond is {}, but 'rampUpTimeSeconds' is {ramp_up_seconds}.",
                    i64::MAX / rows_per_second
                ),
            ));
        }
        Ok(RateOptions {
            rows_per_second,
            ramp_up_seconds,
            num_partitions,
        })
    }
}

/// The first value of second `seconds` (Spark's `RateStreamProvider.valueAtSecond`): the
/// speed grows by `rowsPerSecond / (rampUp + 1)` each second until `rampUp`, then stays at
/// `rowsPerSecond`.
pub fn value_at_second(seconds: i64, rows_per_second: i64, ramp_up_seconds: i64) -> i64 {
    let delta = rows_per_second / (ramp_up_seconds + 1);
    if seconds <= ramp_up_seconds {
        // (0 + delta * seconds) * (seconds + 1) / 2, halving the even factor first.
        if seconds % 2 == 1 {
            (seconds + 1) / 2 * delta * seconds
        } else {
            seconds / 2 * delta * (seconds + 1)
        }
    } else {
        let ramp = value_at_second(ramp_up_seconds, rows_per_second, ramp_up_seconds);
        ramp + (seconds - ramp_up_seconds) * rows_per_second
    }
}

/// The rate source. Created by [`RateFormat::create_source`].
#[derive(Debug)]
pub struct RateSource {
    opts: RateOptions,
    clock: Arc<dyn Clock>,
    creation_time_ms: i64,
    last_time_ms: i64,
    num_partitions_given: Option<String>,
}

fn parse_seconds(offset: &Offset) -> Result<i64> {
    offset.json().trim().parse::<i64>().map_err(|_| {
        EngineError::execution(
            "INVALID_OFFSET",
            format!("Invalid rate source offset `{offset}`; expected a number of seconds"),
        )
    })
}

impl RateSource {
    /// A source from `ctx`, reading time from `clock`. The start time is read from (or, the
    /// first time, written to) `ctx.metadata_path/0`.
    pub fn new(ctx: SourceContext, clock: Arc<dyn Clock>) -> Result<Self> {
        let opts = RateOptions::parse(&ctx.options)?;
        let file = ctx.metadata_path.join("0");
        let creation_time_ms = match read_start_time(&file)? {
            Some(t) => t,
            None => {
                let now = clock.now_ms();
                // Another attempt may have written it first; its value wins.
                if !write_new_atomic(&file, format!("v1\n{now}").as_bytes())? {
                    read_start_time(&file)?.unwrap_or(now)
                } else {
                    now
                }
            }
        };
        Ok(RateSource {
            opts,
            clock,
            creation_time_ms,
            last_time_ms: creation_time_ms,
            num_partitions_given: ctx.options.get("numPartitions").map(str::to_string),
        })
    }

    /// Same source with another clock (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The stream's start time, ms since the epoch.
    pub fn creation_time_ms(&self) -> i64 {
        self.creation_time_ms
    }
}

fn read_start_time(file: &std::path::Path) -> Result<Option<i64>> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(EngineError::io(format!("reading {}", file.display()), e)),
    };
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some("v1") {
        return Err(EngineError::execution(
            "INVALID_LOG_VERSION",
            format!(
                "Log file {} was malformed: failed to detect the log file version line.",
                file.display()
            ),
        ));
    }
    lines
        .next()
        .and_then(|l| l.trim().parse::<i64>().ok())
        .map(Some)
        .ok_or_else(|| {
            EngineError::execution(
                "INVALID_LOG_VERSION",
                format!("Log file {} has no start time", file.display()),
            )
        })
}

/// One partition of a rate batch.
#[derive(Debug, Clone)]
struct RatePartition {
    partition: i64,
    num_partitions: i64,
    range_start: i64,
    range_end: i64,
    local_start_ms: i64,
    ms_per_value: f64,
    batch_size: usize,
}

impl InputPartition for RatePartition {
    fn read(&self) -> Result<BatchIter> {
        let p = self.clone();
        let first = p.range_start + p.partition;
        let count = if first >= p.range_end {
            0
        } else {
            ((p.range_end - first) + p.num_partitions - 1) / p.num_partitions
        };
        let schema = rate_schema();
        let chunk = p.batch_size.max(1) as i64;
        let iter = (0..count).step_by(chunk as usize).map(move |k0| {
            let k1 = (k0 + chunk).min(count);
            let values: Vec<i64> = (k0..k1).map(|k| first + k * p.num_partitions).collect();
            let ts: Vec<i64> = values
                .iter()
                .map(|v| {
                    let rel = ((v - p.range_start) as f64 * p.ms_per_value).round() as i64;
                    (p.local_start_ms + rel) * 1000
                })
                .collect();
            Ok(RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(TimestampMicrosecondArray::from(ts).with_timezone("UTC")),
                    Arc::new(Int64Array::from(values)),
                ],
            )?)
        });
        Ok(Box::new(iter))
    }
}

impl Source for RateSource {
    fn description(&self) -> String {
        // Spark's text, unbalanced bracket included.
        format!(
            "RateStreamV2[rowsPerSecond={}, rampUpTimeSeconds={}, numPartitions={}",
            self.opts.rows_per_second,
            self.opts.ramp_up_seconds,
            self.num_partitions_given.as_deref().unwrap_or("default")
        )
    }

    fn schema(&self) -> SchemaRef {
        rate_schema()
    }

    fn initial_offset(&mut self) -> Result<Offset> {
        Ok(Offset::new("0"))
    }

    fn latest_offset(
        &mut self,
        _start: &Offset,
        _limit: &engine_core::connector::ReadLimit,
    ) -> Result<Offset> {
        let now = self.clock.now_ms();
        if self.last_time_ms < now {
            self.last_time_ms = now;
        }
        let secs = (self.last_time_ms - self.creation_time_ms).max(0) / 1000;
        Ok(Offset::new(secs.to_string()))
    }

    fn plan_partitions(
        &mut self,
        start: &Offset,
        end: &Offset,
    ) -> Result<Vec<Arc<dyn InputPartition>>> {
        let (start_s, end_s) = (parse_seconds(start)?, parse_seconds(end)?);
        let rps = self.opts.rows_per_second;
        let max_seconds = i64::MAX / rps;
        if end_s > max_seconds {
            return Err(EngineError::execution(
                "ARITHMETIC_OVERFLOW",
                format!(
                    "Integer overflow. Max offset with {rps} rowsPerSecond is {max_seconds}, but it's {end_s} now."
                ),
            ));
        }
        if end_s < start_s {
            return Err(EngineError::Internal(format!(
                "startSeconds({start_s}) > endSeconds({end_s})"
            )));
        }
        // After a restart the clock must not report less than a logged batch reached.
        let end_ms = self.creation_time_ms + end_s * 1000;
        if self.last_time_ms < end_ms {
            self.last_time_ms = end_ms;
        }
        let ramp = self.opts.ramp_up_seconds;
        let range_start = value_at_second(start_s, rps, ramp);
        let range_end = value_at_second(end_s, rps, ramp);
        if range_start == range_end {
            return Ok(vec![]);
        }
        let local_start_ms = self.creation_time_ms + start_s * 1000;
        let ms_per_value = ((end_s - start_s) * 1000) as f64 / (range_end - range_start) as f64;
        let n = self.opts.num_partitions as i64;
        Ok((0..n)
            .map(|p| {
                Arc::new(RatePartition {
                    partition: p,
                    num_partitions: n,
                    range_start,
                    range_end,
                    local_start_ms,
                    ms_per_value,
                    batch_size: 8192,
                }) as Arc<dyn InputPartition>
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Array;

    fn ctx(dir: &std::path::Path, opts: &[(&str, &str)]) -> SourceContext {
        SourceContext {
            options: Options::new(opts.iter().copied()),
            user_schema: None,
            metadata_path: dir.to_path_buf(),
            query_id: "q".into(),
        }
    }

    fn rows(source: &mut RateSource, start: &str, end: &str) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        for p in source
            .plan_partitions(&Offset::new(start), &Offset::new(end))
            .unwrap()
        {
            for b in p.read().unwrap() {
                let b = b.unwrap();
                let ts = b
                    .column(0)
                    .as_any()
                    .downcast_ref::<TimestampMicrosecondArray>()
                    .unwrap();
                let v = b.column(1).as_any().downcast_ref::<Int64Array>().unwrap();
                for i in 0..b.num_rows() {
                    assert!(ts.is_valid(i));
                    out.push((v.value(i), ts.value(i) / 1000));
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn values_ramp_up_like_spark() {
        // rowsPerSecond 10, rampUpTime 3: speed grows by 2 a second.
        let ends: Vec<i64> = (0..7).map(|s| value_at_second(s, 10, 3)).collect();
        assert_eq!(ends, vec![0, 2, 6, 12, 22, 32, 42]);
    }

    #[test]
    fn rows_match_a_spark_run_and_replay_exactly() {
        // Spark 4 wrote start time 1795307109797 and batches 0..6 with these options; its
        // output had 42 rows, among them the ones asserted below.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("0"), "v1\n1795307109797").unwrap();
        let clock = Arc::new(crate::streaming::clock::ManualClock::new(1_795_307_109_797));
        let opts = [
            ("rowsPerSecond", "10"),
            ("rampUpTime", "3s"),
            ("numPartitions", "3"),
        ];
        let mut s = RateSource::new(ctx(dir.path(), &opts), clock.clone()).unwrap();
        assert_eq!(
            s.latest_offset(
                &Offset::new("0"),
                &engine_core::connector::ReadLimit::AllAvailable
            )
            .unwrap(),
            Offset::new("0")
        );
        clock.advance(6_400);
        let end = s
            .latest_offset(
                &Offset::new("0"),
                &engine_core::connector::ReadLimit::AllAvailable,
            )
            .unwrap();
        assert_eq!(end, Offset::new("6"));
        let mut all = Vec::new();
        for (a, b) in [("0", "1"), ("1", "2"), ("2", "3"), ("3", "6")] {
            all.extend(rows(&mut s, a, b));
        }
        all.sort();
        assert_eq!(all.len(), 42);
        let t0 = 1_795_307_109_797;
        for (value, ms) in [
            (0, 0),
            (1, 500),
            (2, 1000),
            (3, 1250),
            (7, 2167),
            (11, 2833),
            (39, 5700),
        ] {
            assert_eq!(all[value as usize], (value, t0 + ms), "value {value}");
        }
        // A restarted source reads the start time back and replays the same rows.
        let mut again = RateSource::new(ctx(dir.path(), &opts), Arc::new(SystemClock)).unwrap();
        assert_eq!(again.creation_time_ms(), t0);
        assert_eq!(rows(&mut again, "3", "6"), rows(&mut s, "3", "6"));
        assert!(
            again
                .description()
                .starts_with("RateStreamV2[rowsPerSecond=10, rampUpTimeSeconds=3")
        );
    }

    #[test]
    fn bad_options() {
        let e = RateOptions::parse(&Options::new([("rowsPerSecond", "0")])).unwrap_err();
        assert!(e.to_string().contains("must be positive"), "{e}");
        assert_eq!(
            RateOptions::parse(&Options::new([("rampUpTime", "5")]))
                .unwrap()
                .ramp_up_seconds,
            5
        );
    }
}
