//! Event-time windows as values: the `window` struct of a tumbling window, the windows of a
//! sliding window, the initial `session_window` of an event, and `window_time`.
//!
//! Users write `window(ts, '10 minutes', '5 minutes', '2 minutes')` and
//! `session_window(ts, '5 minutes')`; the analyzer ([`crate::analyzer`]'s time-window rewrite,
//! Spark's `TimeWindowing` and `SessionWindowing`) turns them into these functions below the
//! node that used them, so the node reads a plain `window` / `session_window` column. The
//! arithmetic is Spark's, on microseconds since the epoch:
//!
//! ```text
//! remainder  = (ts - startTime) % slide          (truncating, as Java's %)
//! lastStart  = ts - (remainder < 0 ? remainder + slide : remainder)
//! start(i)   = lastStart - i * slide,  end(i) = start(i) + size,  i < ceil(size / slide)
//! ```
//!
//! A sliding window keeps only the windows that contain `ts` (`start <= ts < end`), which is
//! every one of them when the size is a multiple of the slide.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, ListArray, PrimitiveArray, StringArray, StructArray};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, Fields, Int64Type, TimeUnit, TimestampMicrosecondType};

use super::{FunctionContext, ScalarFunction, wrong_num_args};
use crate::expr::columnar::ColumnarValue;
use crate::interval::parse_interval_micros;
use crate::scalar::ScalarValue;
use crate::{EngineError, Result};

/// The name the tumbling and sliding window functions display with.
pub const WINDOW: &str = "window";
/// The session window function's name.
pub const SESSION_WINDOW: &str = "session_window";
/// `window_time(window)`.
pub const WINDOW_TIME: &str = "window_time";
/// The column a time window becomes (Spark's `TimeWindow` attribute).
pub const WINDOW_COLUMN: &str = "window";
/// The column a session window becomes.
pub const SESSION_WINDOW_COLUMN: &str = "session_window";

/// A window's parameters, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WindowSpec {
    /// `windowDuration`.
    pub size: i64,
    /// `slideDuration` (the size for a tumbling window).
    pub slide: i64,
    /// `startTime`, the offset of window starts from the epoch.
    pub start: i64,
}

impl WindowSpec {
    /// Spark's text of the call in its messages, `window(ts, 600000000, 300000000, 0)`.
    pub fn call_text(&self, time: &str) -> String {
        format!(
            "window({time}, {}, {}, {})",
            self.size, self.slide, self.start
        )
    }

    /// Checks Spark's rules (`TimeWindow.checkInputDataTypes`); `time` is the event time's
    /// SQL text, for the message.
    pub fn validate(&self, time: &str) -> Result<()> {
        let call = self.call_text(time);
        let mismatch = |class: &str, msg: String| {
            Err(EngineError::analysis(
                class,
                format!(
                    "Cannot resolve \"{call}\" due to data type mismatch: {msg} SQLSTATE: 42K09"
                ),
            ))
        };
        for (name, v) in [
            ("window_duration", self.size),
            ("slide_duration", self.slide),
        ] {
            if v <= 0 {
                return mismatch(
                    "DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE",
                    format!(
                        "The `{name}` must be between (0, 9223372036854775807] (current value = {v}L)."
                    ),
                );
            }
        }
        if self.slide > self.size {
            return mismatch(
                "DATATYPE_MISMATCH.PARAMETER_CONSTRAINT_VIOLATION",
                format!(
                    "The `slide_duration`({}L) must be <= the `window_duration`({}L).",
                    self.slide, self.size
                ),
            );
        }
        let abs_start = self.start.checked_abs().unwrap_or(i64::MAX);
        if abs_start >= self.slide {
            return mismatch(
                "DATATYPE_MISMATCH.PARAMETER_CONSTRAINT_VIOLATION",
                format!(
                    "The `abs(start_time)`({abs_start}L) must be < the `slide_duration`({}L).",
                    self.slide
                ),
            );
        }
        Ok(())
    }

    /// True when the window slides (several windows per event).
    pub fn is_sliding(&self) -> bool {
        self.size != self.slide
    }

    /// How many windows an event may fall into: `ceil(size / slide)`.
    pub fn overlapping(&self) -> i64 {
        (self.size + self.slide - 1) / self.slide
    }

    /// The start of the latest window containing `ts`; `None` on overflow.
    fn last_start(&self, ts: i64) -> Option<i64> {
        let remainder = ts.checked_sub(self.start)? % self.slide;
        let shift = if remainder < 0 {
            remainder + self.slide
        } else {
            remainder
        };
        ts.checked_sub(shift)
    }

    /// The windows containing `ts`, latest first, as `(start, end)`.
    fn windows_of(&self, ts: i64, out: &mut Vec<(i64, i64)>) {
        let Some(last) = self.last_start(ts) else {
            return;
        };
        let exact = self.size % self.slide == 0;
        for i in 0..self.overlapping() {
            let Some(start) = i.checked_mul(self.slide).and_then(|d| last.checked_sub(d)) else {
                return;
            };
            let Some(end) = start.checked_add(self.size) else {
                continue;
            };
            if exact || (start <= ts && ts < end) {
                out.push((start, end));
            }
        }
    }
}

/// A duration argument of `window`: an interval string (months refused, as Spark's
/// `TimeWindow` does) or a number of microseconds.
pub fn duration_micros(v: &ScalarValue) -> Result<i64> {
    match v {
        ScalarValue::Utf8(Some(s)) => {
            let lower = s.to_ascii_lowercase();
            if lower.contains("month") || lower.contains("year") {
                return Err(EngineError::analysis(
                    "_LEGACY_ERROR_TEMP_3231",
                    format!("Intervals greater than a month is not supported ({s})."),
                ));
            }
            parse_interval_micros(s).map_err(|_| {
                EngineError::analysis(
                    "CANNOT_PARSE_INTERVAL",
                    format!(
                        "Unable to parse '{s}'. Please ensure that the value provided is in a valid format for defining an interval. You can reference the documentation for the correct format. If the issue persists, please double check that the input value is not null or empty and try again. SQLSTATE: 22006"
                    ),
                )
            })
        }
        ScalarValue::Int8(Some(x)) => Ok(i64::from(*x)),
        ScalarValue::Int16(Some(x)) => Ok(i64::from(*x)),
        ScalarValue::Int32(Some(x)) => Ok(i64::from(*x)),
        ScalarValue::Int64(Some(x)) => Ok(*x),
        _ => Err(non_literal_duration()),
    }
}

/// Spark's error for a window duration that is not a literal.
pub fn non_literal_duration() -> EngineError {
    EngineError::analysis(
        "_LEGACY_ERROR_TEMP_1207",
        "The duration and time inputs to window must be an integer, long or string literal.",
    )
}

/// `struct<start: T, end: T>` for event times of type `T`.
pub fn window_type(time_type: &DataType) -> DataType {
    DataType::Struct(window_fields(time_type))
}

fn window_fields(time_type: &DataType) -> Fields {
    Fields::from(vec![
        Field::new("start", time_type.clone(), true),
        Field::new("end", time_type.clone(), true),
    ])
}

/// True for the types a window can be computed on (TIMESTAMP and TIMESTAMP_NTZ).
pub fn is_event_time_type(t: &DataType) -> bool {
    matches!(t, DataType::Timestamp(TimeUnit::Microsecond, _))
}

/// True for `struct<start, end>` of event times: a window column.
pub fn is_window_type(t: &DataType) -> bool {
    match t {
        DataType::Struct(f) => {
            f.len() == 2
                && f[0].name() == "start"
                && f[1].name() == "end"
                && is_event_time_type(f[0].data_type())
                && f[0].data_type() == f[1].data_type()
        }
        _ => false,
    }
}

fn timestamps(values: Vec<Option<i64>>, time_type: &DataType) -> ArrayRef {
    let tz = match time_type {
        DataType::Timestamp(_, tz) => tz.clone(),
        _ => None,
    };
    Arc::new(PrimitiveArray::<TimestampMicrosecondType>::from(values).with_timezone_opt(tz))
}

fn struct_of(
    starts: Vec<Option<i64>>,
    ends: Vec<Option<i64>>,
    time_type: &DataType,
) -> StructArray {
    StructArray::new(
        window_fields(time_type),
        vec![timestamps(starts, time_type), timestamps(ends, time_type)],
        None,
    )
}

fn event_times(v: &ColumnarValue, num_rows: usize) -> Result<PrimitiveArray<Int64Type>> {
    let a = v.to_array(num_rows)?;
    Ok(arrow::compute::cast(&a, &DataType::Int64)?
        .as_primitive::<Int64Type>()
        .clone())
}

fn check_time_arg(name: &str, args: &[DataType]) -> Result<DataType> {
    match args.first() {
        Some(t) if is_event_time_type(t) => Ok(t.clone()),
        Some(DataType::Null) => Ok(crate::types::timestamp_type()),
        Some(other) => Err(super::unexpected_input_type(
            name,
            1,
            "(\"TIMESTAMP\" or \"TIMESTAMP_NTZ\")",
            other,
        )),
        None => Err(wrong_num_args(name, "1", 0)),
    }
}

/// The window of a tumbling `window(ts, size, startTime)`: `window.start <= ts < window.end`;
/// NULL for a NULL `ts` (the rewrite filters those rows out first, as Spark does).
#[derive(Debug)]
pub struct TumblingWindow {
    spec: WindowSpec,
}

/// A [`TumblingWindow`] for `spec`.
pub fn tumbling_window(spec: WindowSpec) -> Arc<dyn ScalarFunction> {
    Arc::new(TumblingWindow { spec })
}

impl ScalarFunction for TumblingWindow {
    fn name(&self) -> &str {
        WINDOW
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(window_type(&check_time_arg(WINDOW, args)?))
    }

    fn invoke(
        &self,
        args: &[ColumnarValue],
        num_rows: usize,
        _ctx: &FunctionContext,
    ) -> Result<ColumnarValue> {
        let [ts] = args else {
            return Err(wrong_num_args(WINDOW, "1", args.len()));
        };
        let time_type = match ts.data_type() {
            DataType::Null => crate::types::timestamp_type(),
            t => t,
        };
        let ts = event_times(ts, num_rows)?;
        let mut starts = Vec::with_capacity(ts.len());
        let mut ends = Vec::with_capacity(ts.len());
        for t in ts.iter() {
            let w = t.and_then(|t| {
                let s = self.spec.last_start(t)?;
                Some((s, s.checked_add(self.spec.size)?))
            });
            starts.push(w.map(|w| w.0));
            ends.push(w.map(|w| w.1));
        }
        Ok(ColumnarValue::Array(Arc::new(struct_of(
            starts, ends, &time_type,
        ))))
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl TumblingWindow {
    /// The window's parameters.
    pub fn spec(&self) -> WindowSpec {
        self.spec
    }
}

/// The windows of a sliding `window(ts, size, slide, startTime)` that contain `ts`, latest
/// first (exploded by the rewrite into one row per window); empty for a NULL `ts`.
#[derive(Debug)]
pub struct SlidingWindows {
    spec: WindowSpec,
}

/// A [`SlidingWindows`] for `spec`.
pub fn sliding_windows(spec: WindowSpec) -> Arc<dyn ScalarFunction> {
    Arc::new(SlidingWindows { spec })
}

impl SlidingWindows {
    /// The window's parameters.
    pub fn spec(&self) -> WindowSpec {
        self.spec
    }
}

impl ScalarFunction for SlidingWindows {
    fn name(&self) -> &str {
        WINDOW
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let t = window_type(&check_time_arg(WINDOW, args)?);
        Ok(DataType::List(Arc::new(Field::new("element", t, false))))
    }

    fn invoke(
        &self,
        args: &[ColumnarValue],
        num_rows: usize,
        _ctx: &FunctionContext,
    ) -> Result<ColumnarValue> {
        let [ts] = args else {
            return Err(wrong_num_args(WINDOW, "1", args.len()));
        };
        let time_type = match ts.data_type() {
            DataType::Null => crate::types::timestamp_type(),
            t => t,
        };
        let ts = event_times(ts, num_rows)?;
        let mut offsets = Vec::with_capacity(ts.len() + 1);
        offsets.push(0i32);
        let mut windows = Vec::new();
        for t in ts.iter() {
            if let Some(t) = t {
                self.spec.windows_of(t, &mut windows);
            }
            let n = i32::try_from(windows.len()).map_err(|_| {
                EngineError::execution(
                    "ARITHMETIC_OVERFLOW",
                    "too many sliding windows in one batch",
                )
            })?;
            offsets.push(n);
        }
        let starts = windows.iter().map(|w| Some(w.0)).collect();
        let ends = windows.iter().map(|w| Some(w.1)).collect();
        let values = struct_of(starts, ends, &time_type);
        let field = Arc::new(Field::new("element", values.data_type().clone(), false));
        Ok(ColumnarValue::Array(Arc::new(ListArray::try_new(
            field,
            OffsetBuffer::new(offsets.into()),
            Arc::new(values),
            None,
        )?)))
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// An event's own session window, `[ts, ts + gap)` (Spark's `SessionWindow` before
/// sessions merge): `session_window(ts, gap)` with a gap literal or a gap expression
/// evaluated per row (an interval string). The end is NULL where the gap is NULL or not an
/// interval; the rewrite drops rows whose end is not after their start (non-positive gaps),
/// as Spark does.
#[derive(Debug)]
pub struct SessionWindowStart;

/// The [`SessionWindowStart`] function.
pub fn session_window_start() -> Arc<dyn ScalarFunction> {
    Arc::new(SessionWindowStart)
}

impl ScalarFunction for SessionWindowStart {
    fn name(&self) -> &str {
        SESSION_WINDOW
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        if args.len() != 2 {
            return Err(wrong_num_args(SESSION_WINDOW, "2", args.len()));
        }
        let t = check_time_arg(SESSION_WINDOW, args)?;
        match &args[1] {
            DataType::Utf8 | DataType::Null => Ok(vec![t, DataType::Utf8]),
            other => Err(super::unexpected_input_type(
                SESSION_WINDOW,
                2,
                "(\"STRING\" or \"INTERVAL\")",
                other,
            )),
        }
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(window_type(&check_time_arg(SESSION_WINDOW, args)?))
    }

    fn invoke(
        &self,
        args: &[ColumnarValue],
        num_rows: usize,
        _ctx: &FunctionContext,
    ) -> Result<ColumnarValue> {
        let [ts, gap] = args else {
            return Err(wrong_num_args(SESSION_WINDOW, "2", args.len()));
        };
        let time_type = match ts.data_type() {
            DataType::Null => crate::types::timestamp_type(),
            t => t,
        };
        let ts = event_times(ts, num_rows)?;
        // A literal gap is parsed once.
        let constant = match gap {
            ColumnarValue::Scalar(ScalarValue::Utf8(g)) => {
                Some(g.as_deref().and_then(|g| parse_interval_micros(g).ok()))
            }
            ColumnarValue::Scalar(_) => Some(None),
            ColumnarValue::Array(_) => None,
        };
        let gaps = match &constant {
            Some(_) => None,
            None => Some(gap.to_array(num_rows)?),
        };
        let gaps: Option<&StringArray> = gaps.as_ref().and_then(|g| g.as_string_opt::<i32>());
        let mut starts = Vec::with_capacity(ts.len());
        let mut ends = Vec::with_capacity(ts.len());
        for (i, t) in ts.iter().enumerate() {
            let g = match (&constant, gaps) {
                (Some(c), _) => *c,
                (None, Some(a)) if a.is_valid(i) => parse_interval_micros(a.value(i)).ok(),
                _ => None,
            };
            starts.push(t);
            ends.push(t.zip(g).and_then(|(t, g)| t.checked_add(g)));
        }
        Ok(ColumnarValue::Array(Arc::new(struct_of(
            starts, ends, &time_type,
        ))))
    }
}

/// `window_time(window)`: the last microsecond of a window, `window.end - 1`, the event
/// time of an aggregate over it (a chained window aggregation groups by it).
#[derive(Debug)]
pub struct WindowTime;

/// The [`WindowTime`] function.
pub fn window_time() -> Arc<dyn ScalarFunction> {
    Arc::new(WindowTime)
}

impl ScalarFunction for WindowTime {
    fn name(&self) -> &str {
        WINDOW_TIME
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match args {
            [t] if is_window_type(t) => match t {
                DataType::Struct(f) => Ok(f[1].data_type().clone()),
                _ => Err(EngineError::Internal("window type is a struct".into())),
            },
            [other] => Err(super::unexpected_input_type(
                WINDOW_TIME,
                1,
                "\"STRUCT\"",
                other,
            )),
            _ => Err(wrong_num_args(WINDOW_TIME, "1", args.len())),
        }
    }

    fn invoke(
        &self,
        args: &[ColumnarValue],
        num_rows: usize,
        _ctx: &FunctionContext,
    ) -> Result<ColumnarValue> {
        let [w] = args else {
            return Err(wrong_num_args(WINDOW_TIME, "1", args.len()));
        };
        let w = w.to_array(num_rows)?;
        let s = w.as_struct_opt().ok_or_else(|| {
            EngineError::Internal("window_time of a value that is not a window".into())
        })?;
        let end = s.column(1);
        let time_type = end.data_type().clone();
        let ends = arrow::compute::cast(end, &DataType::Int64)?;
        let ends = ends.as_primitive::<Int64Type>();
        let nulls = NullBuffer::union(s.nulls(), ends.nulls());
        let values: Vec<Option<i64>> = ends
            .iter()
            .enumerate()
            .map(|(i, e)| {
                if nulls.as_ref().is_some_and(|n| n.is_null(i)) {
                    None
                } else {
                    e.and_then(|e| e.checked_sub(1))
                }
            })
            .collect();
        Ok(ColumnarValue::Array(timestamps(values, &time_type)))
    }
}

/// The registered functions of this module: `window_time` (`window` and `session_window` are
/// rewritten by the analyzer before functions are looked up).
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    vec![(WINDOW_TIME, window_time())]
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000_000;

    fn windows(spec: WindowSpec, ts: i64) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        spec.windows_of(ts, &mut out);
        out
    }

    #[test]
    fn sliding_windows_follow_spark_for_offsets_and_negative_times() {
        // Spark's own example: 12:05 with a 12m window sliding 5m.
        let spec = WindowSpec {
            size: 12 * MIN,
            slide: 5 * MIN,
            start: 0,
        };
        let t = (12 * 60 + 5) * MIN;
        assert_eq!(
            windows(spec, t),
            vec![
                (t, t + 12 * MIN),
                (t - 5 * MIN, t + 7 * MIN),
                (t - 10 * MIN, t + 2 * MIN)
            ]
        );
        let shifted = WindowSpec {
            start: 2 * MIN,
            ..spec
        };
        assert_eq!(windows(shifted, t).len(), 2);
        // PySpark 4.3: 1969-12-31 23:58 in a 10m window sliding 5m starting at 2m falls in
        // [23:57, 00:07) and [23:52, 00:02).
        let spec = WindowSpec {
            size: 10 * MIN,
            slide: 5 * MIN,
            start: 2 * MIN,
        };
        assert_eq!(
            windows(spec, -2 * MIN),
            vec![(-3 * MIN, 7 * MIN), (-8 * MIN, 2 * MIN)]
        );
    }

    #[test]
    fn spark_rejects_these_windows() {
        let ok = WindowSpec {
            size: 10,
            slide: 5,
            start: 4,
        };
        assert!(ok.validate("ts").is_ok());
        for bad in [
            WindowSpec { size: 0, ..ok },
            WindowSpec { slide: 0, ..ok },
            WindowSpec { slide: 11, ..ok },
            WindowSpec { start: 5, ..ok },
            WindowSpec { start: -5, ..ok },
            WindowSpec {
                start: i64::MIN,
                ..ok
            },
        ] {
            assert!(bad.validate("ts").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn extreme_event_times_give_no_window_instead_of_overflowing() {
        let spec = WindowSpec {
            size: 10 * MIN,
            slide: 5 * MIN,
            start: -MIN,
        };
        assert!(windows(spec, i64::MIN).is_empty());
        assert!(windows(spec, i64::MAX).len() <= 1);
    }
}
