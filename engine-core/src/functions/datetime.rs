//! Date and time functions.
//!
//! TIMESTAMP is an instant (Arrow `Timestamp(Microsecond, "UTC")`); every field extraction,
//! truncation and formatting happens in the session time zone (`FunctionContext.time_zone`).
//! DATE is days since the epoch. Functions that take a DATE also accept a TIMESTAMP
//! directly (its local date in the session zone) and ask the analyzer to cast strings.

use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Int32Array, Int64Array, StringBuilder,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{
    DataType, Date32Type, Int32Type, Int64Type, TimeUnit, TimestampMicrosecondType,
};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike};
use chrono_tz::Tz;

use super::datetime_format::{
    DEFAULT_TIMESTAMP_PATTERN, DateTimePattern, date_from_days, days_from_date, local_to_micros,
};
use super::string::{SimpleFunction, arrays, rows, scalar_string, want_string, wrap};
use super::{FunctionContext, ScalarFunction, unexpected_input_type};
use crate::expr::columnar::ColumnarValue;
use crate::scalar::ScalarValue;
use crate::types::{is_string, timestamp_type};

const MICROS_PER_SEC: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SEC;

fn is_timestamp(t: &DataType) -> bool {
    matches!(t, DataType::Timestamp(TimeUnit::Microsecond, _))
}

/// The UTC offset of `tz` at the instant `micros`, in seconds.
fn offset_secs(micros: i64, tz: &Tz) -> i64 {
    if *tz == Tz::UTC {
        return 0;
    }
    match chrono::DateTime::from_timestamp_micros(micros) {
        Some(d) => i64::from(
            tz.offset_from_utc_datetime(&d.naive_utc())
                .fix()
                .local_minus_utc(),
        ),
        None => 0,
    }
}

/// The wall-clock microseconds (as if UTC) of the instant `micros` in `tz`.
pub(crate) fn local_micros(micros: i64, tz: &Tz) -> i64 {
    micros + offset_secs(micros, tz) * MICROS_PER_SEC
}

fn micros_to_naive(micros: i64) -> Option<NaiveDateTime> {
    chrono::DateTime::from_timestamp_micros(micros).map(|d| d.naive_utc())
}

/// Midnight of a date in `tz`, as an instant.
fn date_to_micros(days: i32, tz: &Tz) -> Option<i64> {
    let d = date_from_days(days)?;
    local_to_micros(&d.and_time(chrono::NaiveTime::MIN), tz)
}

/// The session-zone local date of every row of a DATE or TIMESTAMP array.
fn local_days(a: &ArrayRef, tz: &Tz) -> Result<Date32Array> {
    Ok(match a.data_type() {
        DataType::Date32 => a.as_primitive::<Date32Type>().clone(),
        t if is_timestamp(t) => {
            let ts = a.as_primitive::<TimestampMicrosecondType>();
            let ntz = matches!(t, DataType::Timestamp(_, None));
            arrow::compute::kernels::arity::unary(ts, |m| {
                let l = if ntz { m } else { local_micros(m, tz) };
                l.div_euclid(MICROS_PER_DAY) as i32
            })
        }
        DataType::Null => Date32Array::from(vec![None; a.len()]),
        other => {
            return Err(EngineError::Internal(format!("date function got {other}")));
        }
    })
}

/// Every row of a TIMESTAMP or DATE array as an instant.
fn instants(a: &ArrayRef, tz: &Tz) -> Result<TimestampMicrosecondArray> {
    Ok(match a.data_type() {
        t if is_timestamp(t) => a.as_primitive::<TimestampMicrosecondType>().clone(),
        DataType::Date32 => a
            .as_primitive::<Date32Type>()
            .iter()
            .map(|d| d.and_then(|d| date_to_micros(d, tz)))
            .collect(),
        DataType::Null => TimestampMicrosecondArray::from(vec![None; a.len()]),
        other => {
            return Err(EngineError::Internal(format!(
                "timestamp function got {other}"
            )));
        }
    })
}

fn ts_array(a: TimestampMicrosecondArray) -> ArrayRef {
    Arc::new(a.with_timezone("UTC"))
}

/// DATE argument: DATE and TIMESTAMP as they are, strings cast to DATE.
fn want_date(name: &str, pos: usize, t: &DataType) -> Result<DataType> {
    if *t == DataType::Date32 || is_timestamp(t) {
        Ok(t.clone())
    } else if is_string(t) || *t == DataType::Null {
        Ok(DataType::Date32)
    } else {
        Err(unexpected_input_type(name, pos, "\"DATE\"", t))
    }
}

/// TIMESTAMP argument: DATE and TIMESTAMP as they are, strings cast to TIMESTAMP.
fn want_timestamp(name: &str, pos: usize, t: &DataType) -> Result<DataType> {
    if *t == DataType::Date32 || is_timestamp(t) {
        Ok(t.clone())
    } else if is_string(t) || *t == DataType::Null {
        Ok(timestamp_type())
    } else {
        Err(unexpected_input_type(name, pos, "\"TIMESTAMP\"", t))
    }
}

fn want_small_int(name: &str, pos: usize, t: &DataType) -> Result<DataType> {
    match t {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Null => Ok(DataType::Int32),
        t if is_string(t) => Ok(DataType::Int32),
        t => Err(unexpected_input_type(
            name,
            pos,
            "(\"INT\" or \"SMALLINT\" or \"TINYINT\")",
            t,
        )),
    }
}

fn coerce_date1(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    Ok(vec![want_date(name, 1, &a[0])?])
}

fn coerce_ts1(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    Ok(vec![want_timestamp(name, 1, &a[0])?])
}

fn ret_int(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Int32)
}
fn ret_date(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Date32)
}
fn ret_ts(_: &[DataType]) -> Result<DataType> {
    Ok(timestamp_type())
}
fn ret_bigint(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Int64)
}
fn ret_string(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Utf8)
}

// ---- current time ----

fn eval_current_timestamp(
    _: &str,
    _: &[ColumnarValue],
    _: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    Ok(ColumnarValue::Scalar(ScalarValue::TimestampMicros(
        Some(ctx.query_start_micros),
        Some(Arc::from("UTC")),
    )))
}

fn eval_current_date(
    _: &str,
    _: &[ColumnarValue],
    _: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let l = local_micros(ctx.query_start_micros, &ctx.time_zone);
    Ok(ColumnarValue::Scalar(ScalarValue::Date32(Some(
        l.div_euclid(MICROS_PER_DAY) as i32,
    ))))
}

// ---- field extraction ----

fn date_field(
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
    f: impl Fn(NaiveDate) -> i32,
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    let days = local_days(&a, &ctx.time_zone)?;
    let out: Int32Array = days
        .iter()
        .map(|d| d.and_then(date_from_days).map(&f))
        .collect();
    wrap(args, Arc::new(out))
}

fn eval_year(_: &str, a: &[ColumnarValue], n: usize, c: &FunctionContext) -> Result<ColumnarValue> {
    date_field(a, n, c, |d| d.year())
}
fn eval_month(
    _: &str,
    a: &[ColumnarValue],
    n: usize,
    c: &FunctionContext,
) -> Result<ColumnarValue> {
    date_field(a, n, c, |d| d.month() as i32)
}
fn eval_day(_: &str, a: &[ColumnarValue], n: usize, c: &FunctionContext) -> Result<ColumnarValue> {
    date_field(a, n, c, |d| d.day() as i32)
}
fn eval_dayofweek(
    _: &str,
    a: &[ColumnarValue],
    n: usize,
    c: &FunctionContext,
) -> Result<ColumnarValue> {
    // 1 = Sunday ... 7 = Saturday.
    date_field(a, n, c, |d| d.weekday().num_days_from_sunday() as i32 + 1)
}
fn eval_dayofyear(
    _: &str,
    a: &[ColumnarValue],
    n: usize,
    c: &FunctionContext,
) -> Result<ColumnarValue> {
    date_field(a, n, c, |d| d.ordinal() as i32)
}
fn eval_quarter(
    _: &str,
    a: &[ColumnarValue],
    n: usize,
    c: &FunctionContext,
) -> Result<ColumnarValue> {
    date_field(a, n, c, |d| (d.month0() / 3 + 1) as i32)
}
fn eval_weekofyear(
    _: &str,
    a: &[ColumnarValue],
    n: usize,
    c: &FunctionContext,
) -> Result<ColumnarValue> {
    // ISO-8601 weeks (Monday first, week 1 has the year's first Thursday), as Spark.
    date_field(a, n, c, |d| d.iso_week().week() as i32)
}

fn time_field(
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
    unit: i64,
    modulo: i64,
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    let ts = instants(&a, &ctx.time_zone)?;
    // TIMESTAMP_NTZ holds wall-clock values: read them without a zone.
    let tz = if matches!(a.data_type(), DataType::Timestamp(_, None)) {
        Tz::UTC
    } else {
        ctx.time_zone
    };
    let out: Int32Array = arrow::compute::kernels::arity::unary(&ts, |m| {
        (local_micros(m, &tz).div_euclid(unit).rem_euclid(modulo)) as i32
    });
    wrap(args, Arc::new(out))
}

fn eval_hour(_: &str, a: &[ColumnarValue], n: usize, c: &FunctionContext) -> Result<ColumnarValue> {
    time_field(a, n, c, 3600 * MICROS_PER_SEC, 24)
}
fn eval_minute(
    _: &str,
    a: &[ColumnarValue],
    n: usize,
    c: &FunctionContext,
) -> Result<ColumnarValue> {
    time_field(a, n, c, 60 * MICROS_PER_SEC, 60)
}
fn eval_second(
    _: &str,
    a: &[ColumnarValue],
    n: usize,
    c: &FunctionContext,
) -> Result<ColumnarValue> {
    time_field(a, n, c, MICROS_PER_SEC, 60)
}

// ---- parsing ----

/// Spark's parse failure; `func` is the `try_` variant the hint suggests.
fn cannot_parse(text: &str, func: &str) -> EngineError {
    EngineError::execution(
        "CANNOT_PARSE_TIMESTAMP",
        format!(
            "Text '{text}' could not be parsed at index 0. Use `{func}` to tolerate invalid input string and return NULL instead. SQLSTATE: 22007"
        ),
    )
}

fn cast_invalid(text: &str, to: &str) -> EngineError {
    EngineError::execution(
        "CAST_INVALID_INPUT",
        format!(
            "The value '{text}' of the type \"STRING\" cannot be cast to \"{to}\" because it is malformed. Correct the value as per the syntax, or change its target type. Use `try_cast` to tolerate malformed input and return NULL instead. SQLSTATE: 22018"
        ),
    )
}

/// Patterns for a format column: compiled once for a scalar format.
struct PatternCache {
    last: Option<(String, DateTimePattern)>,
}

impl PatternCache {
    fn new(arg: Option<&ColumnarValue>, default: &str) -> Result<Self> {
        let p = match arg.map(scalar_string) {
            None => Some(default.to_string()),
            Some(Some(Some(p))) => Some(p),
            _ => None,
        };
        Ok(PatternCache {
            last: match p {
                Some(p) => Some((p.clone(), DateTimePattern::new(&p)?)),
                None => None,
            },
        })
    }

    fn get(&mut self, p: &str) -> Result<&DateTimePattern> {
        if !matches!(&self.last, Some((q, _)) if q == p) {
            self.last = Some((p.to_string(), DateTimePattern::new(p)?));
        }
        self.last
            .as_ref()
            .map(|(_, x)| x)
            .ok_or_else(|| EngineError::Internal("pattern cache".into()))
    }
}

/// The argument types of `to_timestamp`-like parsers: text (or a DATE, TIMESTAMP or number)
/// and an optional format.
pub(crate) fn coerce_parse(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    // Numbers are seconds since the epoch (Spark casts them to TIMESTAMP).
    match a.first() {
        Some(DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64) => {
            let mut out = vec![DataType::Int64];
            out.extend(a.iter().skip(1).map(|_| DataType::Utf8));
            return Ok(out);
        }
        Some(DataType::Float32 | DataType::Float64 | DataType::Decimal128(_, _)) => {
            let mut out = vec![DataType::Float64];
            out.extend(a.iter().skip(1).map(|_| DataType::Utf8));
            return Ok(out);
        }
        _ => {}
    }
    let mut out = vec![if *a.first().unwrap_or(&DataType::Null) == DataType::Date32
        || is_timestamp(&a[0])
    {
        a[0].clone()
    } else {
        want_string(name, 1, &a[0]).map_err(|_| {
            unexpected_input_type(name, 1, "(\"STRING\" or \"DATE\" or \"TIMESTAMP\")", &a[0])
        })?
    }];
    if let Some(t) = a.get(1) {
        out.push(want_string(name, 2, t)?);
    }
    Ok(out)
}

/// Parses the first argument (text with an optional format, or a DATE/TIMESTAMP) into
/// instants; `func` names the function in errors.
pub(crate) fn parse_instants(
    try_func: &str,
    args: &[ColumnarValue],
    rows: usize,
    ctx: &FunctionContext,
    default_pattern: Option<&str>,
) -> Result<TimestampMicrosecondArray> {
    let a = args[0].to_array(rows)?;
    match a.data_type() {
        DataType::Int64 => {
            return Ok(a
                .as_primitive::<Int64Type>()
                .iter()
                .map(|s| s.and_then(|s| s.checked_mul(MICROS_PER_SEC)))
                .collect());
        }
        DataType::Float64 => {
            return Ok(a
                .as_primitive::<arrow::datatypes::Float64Type>()
                .iter()
                .map(|s| {
                    s.filter(|s| s.is_finite())
                        .map(|s| (s * MICROS_PER_SEC as f64) as i64)
                })
                .collect());
        }
        t if !is_string(t) => return instants(&a, &ctx.time_zone),
        _ => {}
    }
    let s = a.as_string::<i32>();
    let tz = ctx.time_zone;
    if args.len() < 2 && default_pattern.is_none() {
        // No format: the text is cast like `CAST(s AS TIMESTAMP)`.
        let mut out = Vec::with_capacity(rows);
        for v in s.iter() {
            out.push(match v {
                None => None,
                Some(t) => {
                    match crate::datetime_text::parse_timestamp(t, &tz, ctx.query_start_micros) {
                        Some(m) => Some(m),
                        None if ctx.ansi => return Err(cast_invalid(t, "TIMESTAMP")),
                        None => None,
                    }
                }
            });
        }
        return Ok(TimestampMicrosecondArray::from(out));
    }
    let mut cache = PatternCache::new(
        args.get(1),
        default_pattern.unwrap_or(DEFAULT_TIMESTAMP_PATTERN),
    )?;
    let fmt = match args.get(1) {
        Some(f) => Some(f.to_array(rows)?),
        None => None,
    };
    let fmt = fmt.as_ref().map(|f| f.as_string::<i32>());
    let mut out = Vec::with_capacity(rows);
    for i in 0..rows {
        if s.is_null(i) || fmt.is_some_and(|f| f.is_null(i)) {
            out.push(None);
            continue;
        }
        let p = match fmt {
            Some(f) => cache.get(f.value(i))?,
            None => cache.get(default_pattern.unwrap_or(DEFAULT_TIMESTAMP_PATTERN))?,
        };
        let t = s.value(i);
        match p.parse_micros(t, &tz) {
            Some(m) => out.push(Some(m)),
            None if ctx.ansi => return Err(cannot_parse(t, try_func)),
            None => out.push(None),
        }
    }
    Ok(TimestampMicrosecondArray::from(out))
}

fn eval_to_timestamp(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let ts = parse_instants("try_to_timestamp", args, rows(args, n), ctx, None)?;
    wrap(args, ts_array(ts))
}

fn eval_to_date(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = args[0].to_array(rows)?;
    if is_string(a.data_type()) && args.len() == 1 {
        let s = a.as_string::<i32>();
        let mut out = Vec::with_capacity(rows);
        for v in s.iter() {
            out.push(match v {
                None => None,
                Some(t) => match crate::datetime_text::parse_date(t) {
                    Some(d) => Some(d),
                    None if ctx.ansi => return Err(cast_invalid(t, "DATE")),
                    None => None,
                },
            });
        }
        return wrap(args, Arc::new(Date32Array::from(out)));
    }
    if a.data_type() == &DataType::Date32 {
        return wrap(args, a);
    }
    let ts = parse_instants("try_to_date", args, rows, ctx, None)?;
    let days = local_days(&ts_array(ts), &ctx.time_zone)?;
    wrap(args, Arc::new(days))
}

fn eval_unix_timestamp(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    if args.is_empty() {
        return Ok(ColumnarValue::Scalar(ScalarValue::Int64(Some(
            ctx.query_start_micros.div_euclid(MICROS_PER_SEC),
        ))));
    }
    let ts = parse_instants(
        "try_to_timestamp",
        args,
        rows(args, n),
        ctx,
        Some(DEFAULT_TIMESTAMP_PATTERN),
    )?;
    let out: Int64Array =
        arrow::compute::kernels::arity::unary(&ts, |m| m.div_euclid(MICROS_PER_SEC));
    wrap(args, Arc::new(out))
}

// ---- formatting ----

fn format_instants(
    args: &[ColumnarValue],
    rows: usize,
    ts: &TimestampMicrosecondArray,
    tz: &Tz,
    default: &str,
) -> Result<ColumnarValue> {
    let mut cache = PatternCache::new(args.get(1), default)?;
    let fmt = match args.get(1) {
        Some(f) => Some(f.to_array(rows)?),
        None => None,
    };
    let fmt = fmt.as_ref().map(|f| f.as_string::<i32>());
    let mut b = StringBuilder::with_capacity(rows, rows * 20);
    let mut buf = String::new();
    for i in 0..rows {
        if ts.is_null(i) || fmt.is_some_and(|f| f.is_null(i)) {
            b.append_null();
            continue;
        }
        let p = match fmt {
            Some(f) => cache.get(f.value(i))?,
            None => cache.get(default)?,
        };
        buf.clear();
        if p.format_micros(ts.value(i), tz, &mut buf) {
            b.append_value(&buf);
        } else {
            b.append_null();
        }
    }
    wrap(args, Arc::new(b.finish()))
}

fn coerce_date_format(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    Ok(vec![
        want_timestamp(name, 1, &a[0])?,
        want_string(name, 2, &a[1])?,
    ])
}

fn eval_date_format(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = args[0].to_array(rows)?;
    let ts = instants(&a, &ctx.time_zone)?;
    // TIMESTAMP_NTZ holds wall-clock values: format them without a zone.
    let tz = if matches!(a.data_type(), DataType::Timestamp(_, None)) {
        Tz::UTC
    } else {
        ctx.time_zone
    };
    format_instants(args, rows, &ts, &tz, DEFAULT_TIMESTAMP_PATTERN)
}

fn coerce_from_unixtime(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    let secs = match &a[0] {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 | DataType::Null => {
            DataType::Int64
        }
        t if is_string(t) => DataType::Int64,
        t => return Err(unexpected_input_type(name, 1, "\"BIGINT\"", t)),
    };
    let mut out = vec![secs];
    if let Some(t) = a.get(1) {
        out.push(want_string(name, 2, t)?);
    }
    Ok(out)
}

fn eval_from_unixtime(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let secs = args[0].to_array(rows)?;
    let ts: TimestampMicrosecondArray = secs
        .as_primitive::<Int64Type>()
        .iter()
        .map(|s| s.and_then(|s| s.checked_mul(MICROS_PER_SEC)))
        .collect();
    format_instants(args, rows, &ts, &ctx.time_zone, DEFAULT_TIMESTAMP_PATTERN)
}

// ---- arithmetic ----

fn coerce_date_int(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    Ok(vec![
        want_date(name, 1, &a[0])?,
        want_small_int(name, 2, &a[1])?,
    ])
}

fn date_add_impl(
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
    sign: i32,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let days = local_days(&a[0], &ctx.time_zone)?;
    let delta = a[1].as_primitive::<Int32Type>();
    let out: Date32Array = days
        .iter()
        .zip(delta.iter())
        .map(|(d, k)| match (d, k) {
            (Some(d), Some(k)) => d.checked_add(k.checked_mul(sign)?),
            _ => None,
        })
        .collect();
    wrap(args, Arc::new(out))
}

fn eval_date_add(
    _: &str,
    a: &[ColumnarValue],
    n: usize,
    c: &FunctionContext,
) -> Result<ColumnarValue> {
    date_add_impl(a, n, c, 1)
}
fn eval_date_sub(
    _: &str,
    a: &[ColumnarValue],
    n: usize,
    c: &FunctionContext,
) -> Result<ColumnarValue> {
    date_add_impl(a, n, c, -1)
}

fn coerce_two_dates(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    Ok(vec![want_date(name, 1, &a[0])?, want_date(name, 2, &a[1])?])
}

fn eval_datediff(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let end = local_days(&a[0], &ctx.time_zone)?;
    let start = local_days(&a[1], &ctx.time_zone)?;
    let out: Int32Array = end
        .iter()
        .zip(start.iter())
        .map(|(e, s)| Some(e?.wrapping_sub(s?)))
        .collect();
    wrap(args, Arc::new(out))
}

/// `add_months`: the same day-of-month, clamped to the target month's last day.
pub(crate) fn add_months_days(days: i32, months: i32) -> Option<i32> {
    let d = date_from_days(days)?;
    // Checked: `months` is the user's; out of range is the caller's ARITHMETIC_OVERFLOW.
    let total = d
        .year()
        .checked_mul(12)?
        .checked_add(d.month0() as i32)?
        .checked_add(months)?;
    let (y, m0) = (total.div_euclid(12), total.rem_euclid(12) as u32);
    let last = last_day_of(y, m0 + 1)?;
    let day = d.day().min(last.day());
    NaiveDate::from_ymd_opt(y, m0 + 1, day).map(days_from_date)
}

fn last_day_of(y: i32, m: u32) -> Option<NaiveDate> {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    NaiveDate::from_ymd_opt(ny, nm, 1)?.pred_opt()
}

fn eval_add_months(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let days = local_days(&a[0], &ctx.time_zone)?;
    let k = a[1].as_primitive::<Int32Type>();
    // Spark (Java's LocalDate.plusMonths, then an exact int) fails with ARITHMETIC_OVERFLOW
    // in both ANSI modes when the date leaves the range; it never gives NULL for it.
    let out: Date32Array = days
        .iter()
        .zip(k.iter())
        .map(|(d, k)| match (d, k) {
            (Some(d), Some(k)) => add_months_days(d, k)
                .map(Some)
                .ok_or_else(super::math::overflow),
            _ => Ok(None),
        })
        .collect::<Result<_>>()?;
    wrap(args, Arc::new(out))
}

fn eval_last_day(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    let days = local_days(&a, &ctx.time_zone)?;
    let out: Date32Array = days
        .iter()
        .map(|d| {
            let d = date_from_days(d?)?;
            last_day_of(d.year(), d.month()).map(days_from_date)
        })
        .collect();
    wrap(args, Arc::new(out))
}

// ---- time zone conversion ----

/// Spark's `INVALID_TIMEZONE` for the zone id `z`.
pub(crate) fn invalid_zone(z: &str) -> EngineError {
    EngineError::execution(
        "INVALID_TIMEZONE",
        format!(
            "The timezone: {z} is invalid. The timezone must be either a region-based zone ID or a zone offset. Region IDs must have the form 'area/city', such as 'America/Los_Angeles'. Zone offsets must be in the format '(+|-)HH', '(+|-)HH:mm' or '(+|-)HH:mm:ss', e.g '-08', '+01:00' or '-13:33:33', and must be in the range from -18:00 to +18:00. 'Z' and 'UTC' are accepted as synonyms for '+00:00'. SQLSTATE: 22009"
        ),
    )
}

fn coerce_utc_conv(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    Ok(vec![
        want_timestamp(name, 1, &a[0])?,
        want_string(name, 2, &a[1])?,
    ])
}

fn utc_conv(
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
    from_utc: bool,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let ts = instants(&args[0].to_array(rows)?, &ctx.time_zone)?;
    let zones = args[1].to_array(rows)?;
    let zones = zones.as_string::<i32>();
    let mut last: Option<(String, Tz)> = None;
    let mut out = Vec::with_capacity(rows);
    for i in 0..rows {
        if ts.is_null(i) || zones.is_null(i) {
            out.push(None);
            continue;
        }
        let z = zones.value(i);
        if !matches!(&last, Some((q, _)) if q == z) {
            let tz = crate::format::parse_time_zone(z).ok_or_else(|| invalid_zone(z))?;
            last = Some((z.to_string(), tz));
        }
        let tz = last.as_ref().map_or(Tz::UTC, |(_, t)| *t);
        let m = ts.value(i);
        out.push(if from_utc {
            // The UTC wall clock of `m` re-read as a wall clock in `tz`.
            Some(local_micros(m, &tz))
        } else {
            micros_to_naive(m).and_then(|ndt| local_to_micros(&ndt, &tz))
        });
    }
    wrap(args, ts_array(TimestampMicrosecondArray::from(out)))
}

fn eval_from_utc(
    _: &str,
    a: &[ColumnarValue],
    n: usize,
    c: &FunctionContext,
) -> Result<ColumnarValue> {
    utc_conv(a, n, c, true)
}
fn eval_to_utc(
    _: &str,
    a: &[ColumnarValue],
    n: usize,
    c: &FunctionContext,
) -> Result<ColumnarValue> {
    utc_conv(a, n, c, false)
}

// ---- truncation ----

#[derive(Clone, Copy, PartialEq, Debug)]
enum TruncUnit {
    Year,
    Quarter,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
    Microsecond,
}

fn trunc_unit(s: &str) -> Option<TruncUnit> {
    Some(match s.to_ascii_uppercase().as_str() {
        "YEAR" | "YYYY" | "YY" => TruncUnit::Year,
        "QUARTER" => TruncUnit::Quarter,
        "MONTH" | "MM" | "MON" => TruncUnit::Month,
        "WEEK" => TruncUnit::Week,
        "DAY" | "DD" => TruncUnit::Day,
        "HOUR" => TruncUnit::Hour,
        "MINUTE" => TruncUnit::Minute,
        "SECOND" => TruncUnit::Second,
        "MILLISECOND" => TruncUnit::Millisecond,
        "MICROSECOND" => TruncUnit::Microsecond,
        _ => return None,
    })
}

fn trunc_date(d: NaiveDate, u: TruncUnit) -> Option<NaiveDate> {
    match u {
        TruncUnit::Year => NaiveDate::from_ymd_opt(d.year(), 1, 1),
        TruncUnit::Quarter => NaiveDate::from_ymd_opt(d.year(), d.month0() / 3 * 3 + 1, 1),
        TruncUnit::Month => NaiveDate::from_ymd_opt(d.year(), d.month(), 1),
        TruncUnit::Week => d.checked_sub_signed(Duration::days(i64::from(
            d.weekday().num_days_from_monday(),
        ))),
        _ => Some(d),
    }
}

fn trunc_micros(m: i64, u: TruncUnit, tz: &Tz) -> Option<i64> {
    let unit = match u {
        TruncUnit::Microsecond => return Some(m),
        TruncUnit::Millisecond => 1_000,
        TruncUnit::Second => MICROS_PER_SEC,
        TruncUnit::Minute => 60 * MICROS_PER_SEC,
        TruncUnit::Hour => 3600 * MICROS_PER_SEC,
        _ => 0,
    };
    if unit != 0 && unit <= 60 * MICROS_PER_SEC {
        // Zone offsets are whole minutes in practice: truncate the instant directly.
        return Some(m - m.rem_euclid(unit));
    }
    let local = micros_to_naive(local_micros(m, tz))?;
    let truncated = if unit != 0 {
        local.date().and_hms_opt(local.hour(), 0, 0)?
    } else {
        trunc_date(local.date(), u)?.and_time(chrono::NaiveTime::MIN)
    };
    local_to_micros(&truncated, tz)
}

fn coerce_date_trunc(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    Ok(vec![
        want_string(name, 1, &a[0])?,
        want_timestamp(name, 2, &a[1])?,
    ])
}

fn eval_date_trunc(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let units = a[0].as_string::<i32>();
    let ts = instants(&a[1], &ctx.time_zone)?;
    let out: TimestampMicrosecondArray = (0..rows)
        .map(|i| {
            if units.is_null(i) || ts.is_null(i) {
                return None;
            }
            let u = trunc_unit(units.value(i))?;
            trunc_micros(ts.value(i), u, &ctx.time_zone)
        })
        .collect();
    wrap(args, ts_array(out))
}

fn coerce_trunc(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    Ok(vec![
        want_date(name, 1, &a[0])?,
        want_string(name, 2, &a[1])?,
    ])
}

fn eval_trunc(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let days = local_days(&a[0], &ctx.time_zone)?;
    let units = a[1].as_string::<i32>();
    let out: Date32Array = (0..rows)
        .map(|i| {
            if days.is_null(i) || units.is_null(i) {
                return None;
            }
            // `trunc` only knows the date units; anything else is NULL.
            let u = trunc_unit(units.value(i)).filter(|u| {
                matches!(
                    u,
                    TruncUnit::Year | TruncUnit::Quarter | TruncUnit::Month | TruncUnit::Week
                )
            })?;
            trunc_date(date_from_days(days.value(i))?, u).map(days_from_date)
        })
        .collect();
    wrap(args, Arc::new(out))
}

/// Every date/time function with its names.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let s = SimpleFunction::new;
    let none = |_: &str, _: &[DataType]| Ok(vec![]);
    let mut v = Vec::new();
    let mut now = s(
        "current_timestamp",
        (0, 0),
        none,
        ret_ts,
        eval_current_timestamp,
    );
    now.foldable = false;
    v.extend(now.entries(&["now"]));
    let mut today = s("current_date", (0, 0), none, ret_date, eval_current_date);
    today.foldable = false;
    v.extend(today.entries(&["curdate"]));
    let to_ts = s(
        "to_timestamp",
        (1, 2),
        coerce_parse,
        ret_ts,
        eval_to_timestamp,
    );
    v.push(to_ts.try_entry("try_to_timestamp"));
    v.extend(to_ts.entries(&["to_timestamp_ltz"]));
    let to_date = s("to_date", (1, 2), coerce_parse, ret_date, eval_to_date);
    v.push(to_date.try_entry("try_to_date"));
    v.extend(to_date.entries(&[]));
    v.extend(
        s(
            "date_format",
            (2, 2),
            coerce_date_format,
            ret_string,
            eval_date_format,
        )
        .entries(&[]),
    );
    v.extend(s("year", (1, 1), coerce_date1, ret_int, eval_year).entries(&[]));
    v.extend(s("month", (1, 1), coerce_date1, ret_int, eval_month).entries(&[]));
    v.extend(s("dayofmonth", (1, 1), coerce_date1, ret_int, eval_day).entries(&["day"]));
    v.extend(s("dayofweek", (1, 1), coerce_date1, ret_int, eval_dayofweek).entries(&[]));
    v.extend(s("dayofyear", (1, 1), coerce_date1, ret_int, eval_dayofyear).entries(&[]));
    v.extend(s("quarter", (1, 1), coerce_date1, ret_int, eval_quarter).entries(&[]));
    v.extend(s("weekofyear", (1, 1), coerce_date1, ret_int, eval_weekofyear).entries(&[]));
    v.extend(s("hour", (1, 1), coerce_ts1, ret_int, eval_hour).entries(&[]));
    v.extend(s("minute", (1, 1), coerce_ts1, ret_int, eval_minute).entries(&[]));
    v.extend(s("second", (1, 1), coerce_ts1, ret_int, eval_second).entries(&[]));
    // unix_timestamp() with no argument reads the clock, so the function is never folded.
    let mut unix = s(
        "unix_timestamp",
        (0, 2),
        coerce_parse_opt,
        ret_bigint,
        eval_unix_timestamp,
    );
    unix.foldable = false;
    v.extend(unix.entries(&[]));
    v.extend(
        s(
            "to_unix_timestamp",
            (1, 2),
            coerce_parse,
            ret_bigint,
            eval_unix_timestamp,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "from_unixtime",
            (1, 2),
            coerce_from_unixtime,
            ret_string,
            eval_from_unixtime,
        )
        .entries(&[]),
    );
    v.extend(s("date_add", (2, 2), coerce_date_int, ret_date, eval_date_add).entries(&["dateadd"]));
    v.extend(s("date_sub", (2, 2), coerce_date_int, ret_date, eval_date_sub).entries(&[]));
    v.extend(
        s("datediff", (2, 2), coerce_two_dates, ret_int, eval_datediff).entries(&["date_diff"]),
    );
    v.extend(
        s(
            "add_months",
            (2, 2),
            coerce_date_int,
            ret_date,
            eval_add_months,
        )
        .entries(&[]),
    );
    v.extend(s("last_day", (1, 1), coerce_date1, ret_date, eval_last_day).entries(&[]));
    v.extend(
        s(
            "from_utc_timestamp",
            (2, 2),
            coerce_utc_conv,
            ret_ts,
            eval_from_utc,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "to_utc_timestamp",
            (2, 2),
            coerce_utc_conv,
            ret_ts,
            eval_to_utc,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "date_trunc",
            (2, 2),
            coerce_date_trunc,
            ret_ts,
            eval_date_trunc,
        )
        .entries(&[]),
    );
    v.extend(s("trunc", (2, 2), coerce_trunc, ret_date, eval_trunc).entries(&[]));
    v
}

fn coerce_parse_opt(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    if a.is_empty() {
        Ok(vec![])
    } else {
        coerce_parse(name, a)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::string::tests::{as_strs, call, call_ctx, iv, strs, sv};
    use super::*;

    #[test]
    fn add_months_out_of_range_is_null_not_an_overflow() {
        // Regression (fuzzing, issue 16): `year * 12 + month + months` overflowed.
        assert_eq!(add_months_days(-719_162, i32::MAX), None);
        assert_eq!(add_months_days(0, i32::MIN), None);
        assert_eq!(add_months_days(0, 1), Some(31));
    }

    fn la() -> FunctionContext {
        FunctionContext {
            time_zone: "America/Los_Angeles".parse().unwrap(),
            ansi: false,
            query_start_micros: 1_700_000_000_123_456,
            malformed_records: Default::default(),
        }
    }

    fn ts(v: &[Option<i64>]) -> ColumnarValue {
        ColumnarValue::Array(ts_array(TimestampMicrosecondArray::from(v.to_vec())))
    }

    fn dates(v: &[Option<i32>]) -> ColumnarValue {
        ColumnarValue::Array(Arc::new(Date32Array::from(v.to_vec())))
    }

    fn ints(a: &ArrayRef) -> Vec<Option<i32>> {
        a.as_primitive::<Int32Type>().iter().collect()
    }
    fn micros(a: &ArrayRef) -> Vec<Option<i64>> {
        a.as_primitive::<TimestampMicrosecondType>()
            .iter()
            .collect()
    }
    fn days(a: &ArrayRef) -> Vec<Option<i32>> {
        a.as_primitive::<Date32Type>().iter().collect()
    }

    const H: i64 = 3600 * MICROS_PER_SEC;

    #[test]
    fn current_time_uses_query_start() {
        let f = super::super::lookup_scalar("now").unwrap();
        assert!(!f.is_foldable());
        let r = call_ctx("current_timestamp", vec![], &la()).unwrap();
        assert_eq!(micros(&r), vec![Some(1_700_000_000_123_456)]);
        // 2023-11-14 22:13:20 UTC is still the 14th in Los Angeles.
        let r = call_ctx("current_date", vec![], &la()).unwrap();
        assert_eq!(days(&r), vec![Some(19675)]);
        let r = call_ctx("unix_timestamp", vec![], &la()).unwrap();
        assert_eq!(r.as_primitive::<Int64Type>().value(0), 1_700_000_000);
    }

    #[test]
    fn fields_in_session_zone() {
        // 1970-01-02 03:04:05 UTC = 1970-01-01 19:04:05 in Los Angeles.
        let t = ts(&[
            Some(MICROS_PER_DAY + 3 * H + 4 * 60_000_000 + 5_000_000),
            None,
        ]);
        let utc = FunctionContext::default();
        assert_eq!(
            ints(&call_ctx("hour", vec![t.clone()], &utc).unwrap()),
            vec![Some(3), None]
        );
        assert_eq!(
            ints(&call_ctx("hour", vec![t.clone()], &la()).unwrap()),
            vec![Some(19), None]
        );
        assert_eq!(
            ints(&call_ctx("minute", vec![t.clone()], &la()).unwrap()),
            vec![Some(4), None]
        );
        assert_eq!(
            ints(&call_ctx("second", vec![t.clone()], &la()).unwrap()),
            vec![Some(5), None]
        );
        assert_eq!(
            ints(&call_ctx("dayofmonth", vec![t.clone()], &utc).unwrap()),
            vec![Some(2), None]
        );
        assert_eq!(
            ints(&call_ctx("day", vec![t.clone()], &la()).unwrap()),
            vec![Some(1), None]
        );
        let d = dates(&[Some(19787), None]); // 2024-03-05, a Tuesday
        assert_eq!(
            ints(&call("year", vec![d.clone()]).unwrap()),
            vec![Some(2024), None]
        );
        assert_eq!(
            ints(&call("month", vec![d.clone()]).unwrap()),
            vec![Some(3), None]
        );
        assert_eq!(
            ints(&call("dayofweek", vec![d.clone()]).unwrap()),
            vec![Some(3), None]
        );
        assert_eq!(
            ints(&call("dayofyear", vec![d.clone()]).unwrap()),
            vec![Some(65), None]
        );
        assert_eq!(
            ints(&call("quarter", vec![d.clone()]).unwrap()),
            vec![Some(1), None]
        );
        assert_eq!(
            ints(&call("weekofyear", vec![d]).unwrap()),
            vec![Some(10), None]
        );
        let f = super::super::lookup_scalar("year").unwrap();
        assert_eq!(
            f.coerce_types(&[DataType::Utf8]).unwrap(),
            vec![DataType::Date32]
        );
        assert!(f.coerce_types(&[DataType::Int32]).is_err());
    }

    #[test]
    fn to_timestamp_parses_in_zone_and_fails_in_ansi() {
        let s = strs(&[Some("2024-03-05 10:00:00"), Some("bad"), None]);
        let r = call_ctx("to_timestamp", vec![s.clone()], &la()).unwrap();
        let base = 1_709_632_800 * MICROS_PER_SEC; // 2024-03-05 10:00 UTC
        assert_eq!(micros(&r), vec![Some(base + 8 * H), None, None]);
        let r = call_ctx(
            "to_timestamp",
            vec![strs(&[Some("05/03/2024 10")]), sv("dd/MM/yyyy HH")],
            &la(),
        )
        .unwrap();
        assert_eq!(micros(&r), vec![Some(base + 8 * H)]);
        let e = call("to_timestamp", vec![s.clone(), sv("yyyy-MM-dd HH:mm:ss")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("[CANNOT_PARSE_TIMESTAMP] Text 'bad' could not be parsed"),
            "{e}"
        );
        let e = call("to_timestamp", vec![s.clone()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("CAST_INVALID_INPUT"), "{e}");
        assert!(e.contains("SQLSTATE: 22018"), "{e}");
        let e = call("to_date", vec![s, sv("yyyy")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("Use `try_to_date` to tolerate"), "{e}");
        let r = call_ctx(
            "to_date",
            vec![strs(&[Some("2024-03-05"), Some("x")])],
            &la(),
        )
        .unwrap();
        assert_eq!(days(&r), vec![Some(19787), None]);
        let r = call_ctx(
            "to_date",
            vec![strs(&[Some("05.03.2024")]), sv("dd.MM.yyyy")],
            &la(),
        )
        .unwrap();
        assert_eq!(days(&r), vec![Some(19787)]);
        let r = call_ctx(
            "unix_timestamp",
            vec![strs(&[Some("1970-01-01 00:00:10")])],
            &la(),
        )
        .unwrap();
        assert_eq!(r.as_primitive::<Int64Type>().value(0), 10 + 8 * 3600);
        let secs = ColumnarValue::Array(Arc::new(Int64Array::from(vec![Some(10), None])));
        let r = call("to_timestamp", vec![secs]).unwrap();
        assert_eq!(micros(&r), vec![Some(10 * MICROS_PER_SEC), None]);
        let r = call_ctx("unix_timestamp", vec![ts(&[Some(-1)])], &la()).unwrap();
        assert_eq!(r.as_primitive::<Int64Type>().value(0), -1);
    }

    #[test]
    fn ntz_fields_ignore_the_session_zone() {
        let ntz =
            ColumnarValue::Array(Arc::new(TimestampMicrosecondArray::from(vec![Some(3 * H)])));
        assert_eq!(
            ints(&call_ctx("hour", vec![ntz.clone()], &la()).unwrap()),
            vec![Some(3)]
        );
        let r = call_ctx("date_format", vec![ntz, sv("HH:mm")], &la()).unwrap();
        assert_eq!(as_strs(&r), vec![Some("03:00".into())]);
    }

    #[test]
    fn formatting() {
        let t = ts(&[Some(0), None]);
        let r = call_ctx("date_format", vec![t, sv("yyyy-MM-dd HH:mm EEE")], &la()).unwrap();
        assert_eq!(as_strs(&r), vec![Some("1969-12-31 16:00 Wed".into()), None]);
        let secs = ColumnarValue::Array(Arc::new(Int64Array::from(vec![Some(0), None])));
        let r = call_ctx("from_unixtime", vec![secs.clone()], &la()).unwrap();
        assert_eq!(as_strs(&r), vec![Some("1969-12-31 16:00:00".into()), None]);
        let r = call("from_unixtime", vec![secs, sv("yyyy")]).unwrap();
        assert_eq!(as_strs(&r), vec![Some("1970".into()), None]);
    }

    #[test]
    fn date_arithmetic() {
        let d = dates(&[Some(0), None, Some(18321)]); // 18321 = 2020-02-29
        assert_eq!(
            days(&call("date_add", vec![d.clone(), iv(1)]).unwrap()),
            vec![Some(1), None, Some(18322)]
        );
        assert_eq!(
            days(&call("date_sub", vec![d.clone(), iv(1)]).unwrap()),
            vec![Some(-1), None, Some(18320)]
        );
        assert_eq!(
            ints(
                &call(
                    "datediff",
                    vec![d.clone(), dates(&[Some(10), Some(0), Some(18321)])]
                )
                .unwrap()
            ),
            vec![Some(-10), None, Some(0)]
        );
        // 2020-02-29 + 1 month = 2020-03-29; + 12 = 2021-02-28.
        assert_eq!(
            days(&call("add_months", vec![d.clone(), iv(1)]).unwrap())[2],
            Some(18350)
        );
        assert_eq!(
            days(&call("add_months", vec![d.clone(), iv(12)]).unwrap())[2],
            Some(18686)
        );
        assert_eq!(
            days(&call("last_day", vec![d.clone()]).unwrap()),
            vec![Some(30), None, Some(18321)]
        );
        assert_eq!(
            days(&call("trunc", vec![d.clone(), sv("MM")]).unwrap()),
            vec![Some(0), None, Some(18293)]
        );
        assert_eq!(
            days(&call("trunc", vec![d.clone(), sv("year")]).unwrap())[2],
            Some(18262)
        );
        assert_eq!(
            days(&call("trunc", vec![d, sv("hour")]).unwrap()),
            vec![None, None, None]
        );
        let f = super::super::lookup_scalar("date_add").unwrap();
        let e = f
            .coerce_types(&[DataType::Date32, DataType::Int64])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("(\"INT\" or \"SMALLINT\" or \"TINYINT\")"),
            "{e}"
        );
    }

    #[test]
    fn zones_and_truncation() {
        let t = ts(&[Some(0)]);
        let r = call("from_utc_timestamp", vec![t.clone(), sv("Asia/Seoul")]).unwrap();
        assert_eq!(micros(&r), vec![Some(9 * H)]);
        let r = call("to_utc_timestamp", vec![t.clone(), sv("Asia/Seoul")]).unwrap();
        assert_eq!(micros(&r), vec![Some(-9 * H)]);
        let e = call("to_utc_timestamp", vec![t, sv("Mars/Base")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("INVALID_TIMEZONE"), "{e}");
        // 1970-01-02 03:04:05.5 UTC; in LA that is 1970-01-01 19:04:05.5.
        let v = MICROS_PER_DAY + 3 * H + 4 * 60_000_000 + 5_500_000;
        let t = ts(&[Some(v)]);
        let r = call_ctx("date_trunc", vec![sv("DAY"), t.clone()], &la()).unwrap();
        assert_eq!(micros(&r), vec![Some(8 * H)]);
        let r = call_ctx("date_trunc", vec![sv("hour"), t.clone()], &la()).unwrap();
        assert_eq!(micros(&r), vec![Some(MICROS_PER_DAY + 3 * H)]);
        let r = call_ctx("date_trunc", vec![sv("second"), t.clone()], &la()).unwrap();
        assert_eq!(micros(&r), vec![Some(v - 500_000)]);
        let r = call_ctx("date_trunc", vec![sv("MONTH"), t.clone()], &la()).unwrap();
        assert_eq!(micros(&r), vec![Some(8 * H)]);
        let r = call_ctx("date_trunc", vec![sv("bogus"), t], &la()).unwrap();
        assert_eq!(micros(&r), vec![None]);
    }
}
