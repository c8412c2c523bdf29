//! Building dates and timestamps from numbers and back: `make_date`, `make_timestamp`,
//! `make_timestamp_ntz`, `make_timestamp_ltz`, `timestamp_seconds`, `timestamp_millis`,
//! `timestamp_micros`, `unix_seconds`, `unix_millis`, `unix_micros`, `unix_date` and
//! `date_from_unix_date`, as Spark 4's.
//!
//! An impossible date or time is Spark's `DATETIME_FIELD_OUT_OF_BOUNDS` (with
//! `java.time`'s message) under ANSI mode and NULL otherwise; seconds are `DECIMAL(16, 6)`,
//! and `60` with no fraction is the next minute, as in Spark.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Int32Array, Int64Array, TimestampMicrosecondArray,
};
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float64Type, Int32Type, Int64Type,
    TimestampMicrosecondType,
};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;

use super::datetime::invalid_zone;
use super::datetime_format::{date_from_days, days_from_date};
use super::string::{SimpleFunction, arrays, rows, want_int, want_string, wrap};
use super::{FunctionContext, ScalarFunction, unexpected_input_type};
use crate::datetime_text::local_to_micros;
use crate::expr::columnar::ColumnarValue;
use crate::types::{timestamp_ntz_type, timestamp_type};
use crate::{EngineError, Result};

const MICROS_PER_SEC: i64 = 1_000_000;
const SECONDS_TYPE: DataType = DataType::Decimal128(16, 6);

/// Spark's `DATETIME_FIELD_OUT_OF_BOUNDS` with `java.time`'s `message`.
fn out_of_bounds(message: &str) -> EngineError {
    EngineError::execution(
        "DATETIME_FIELD_OUT_OF_BOUNDS.WITHOUT_SUGGESTION",
        format!("{message}.  SQLSTATE: 22023"),
    )
}

fn range_message(field: &str, low: i64, high: i64, v: i64) -> String {
    format!("Invalid value for {field} (valid values {low} - {high}): {v}")
}

/// `LocalDate.of(year, month, day)`: the date or `java.time`'s reason it does not exist.
pub(crate) fn local_date(
    year: i32,
    month: i32,
    day: i32,
) -> std::result::Result<NaiveDate, String> {
    if !(1..=12).contains(&month) {
        return Err(range_message("MonthOfYear", 1, 12, i64::from(month)));
    }
    if !(1..=31).contains(&day) {
        return Err(
            range_message("DayOfMonth", 1, 28, i64::from(day)).replace(" - 28)", " - 28/31)")
        );
    }
    let m = month as u32;
    NaiveDate::from_ymd_opt(year, m, day as u32).ok_or_else(|| {
        if NaiveDate::from_ymd_opt(year, m, 1).is_none() {
            range_message("Year", -999_999_999, 999_999_999, i64::from(year))
        } else if m == 2 && day == 29 {
            format!("Invalid date 'February 29' as '{year}' is not a leap year")
        } else {
            let name = chrono::Month::try_from(m as u8)
                .map_or(String::new(), |x| x.name().to_ascii_uppercase());
            format!("Invalid date '{name} {day}'")
        }
    })
}

/// An invalid field: an error under ANSI mode, NULL otherwise.
fn invalid<T>(ctx: &FunctionContext, message: String) -> Result<Option<T>> {
    if ctx.ansi {
        Err(out_of_bounds(&message))
    } else {
        Ok(None)
    }
}

// ---- make_date ----

fn coerce_ints(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    a.iter()
        .enumerate()
        .map(|(i, t)| want_int(name, i + 1, t))
        .collect()
}

fn eval_make_date(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let (y, m, d) = (
        a[0].as_primitive::<Int32Type>(),
        a[1].as_primitive::<Int32Type>(),
        a[2].as_primitive::<Int32Type>(),
    );
    let mut out = Vec::with_capacity(rows);
    for i in 0..rows {
        if y.is_null(i) || m.is_null(i) || d.is_null(i) {
            out.push(None);
            continue;
        }
        out.push(match local_date(y.value(i), m.value(i), d.value(i)) {
            Ok(date) => Some(days_from_date(date)),
            Err(msg) => invalid(ctx, msg)?,
        });
    }
    wrap(args, Arc::new(Date32Array::from(out)))
}

// ---- make_timestamp / _ntz / _ltz ----

fn coerce_make_timestamp(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    let mut out = coerce_ints(name, &a[..5])?;
    let sec = &a[5];
    if crate::types::is_numeric(sec) || crate::types::is_string(sec) || *sec == DataType::Null {
        out.push(SECONDS_TYPE);
    } else {
        return Err(unexpected_input_type(name, 6, "\"DECIMAL(16,6)\"", sec));
    }
    if let Some(z) = a.get(6) {
        out.push(want_string(name, 7, z)?);
    }
    Ok(out)
}

/// The wall-clock time of the fields, or `java.time`'s reason it does not exist.
fn local_date_time(
    f: [i32; 5],
    sec_micros: i128,
) -> std::result::Result<NaiveDateTime, (&'static str, String)> {
    const CLASS: &str = "DATETIME_FIELD_OUT_OF_BOUNDS.WITHOUT_SUGGESTION";
    let date = local_date(f[0], f[1], f[2]).map_err(|m| (CLASS, m))?;
    let seconds = sec_micros / i128::from(MICROS_PER_SEC);
    let micros = sec_micros % i128::from(MICROS_PER_SEC);
    let [_, _, _, hour, minute] = f;
    if !(0..=23).contains(&hour) {
        return Err((CLASS, range_message("HourOfDay", 0, 23, i64::from(hour))));
    }
    if !(0..=59).contains(&minute) {
        return Err((
            CLASS,
            range_message("MinuteOfHour", 0, 59, i64::from(minute)),
        ));
    }
    let (seconds, next_minute) = if seconds == 60 {
        if micros != 0 {
            return Err((
                "INVALID_FRACTION_OF_SECOND",
                format!(
                    "Valid range for seconds is [0, 60] (inclusive), but the provided value is {}. To avoid this error, use `try_make_timestamp`, which returns NULL on error. SQLSTATE: 22023",
                    crate::scalar::ScalarValue::Decimal128(Some(sec_micros), 16, 6)
                ),
            ));
        }
        (0, true)
    } else {
        (seconds, false)
    };
    if !(0..=59).contains(&seconds) {
        return Err((
            CLASS,
            range_message("SecondOfMinute", 0, 59, seconds as i64),
        ));
    }
    if micros < 0 {
        return Err((
            CLASS,
            range_message("NanoOfSecond", 0, 999_999_999, micros as i64 * 1000),
        ));
    }
    let time =
        NaiveTime::from_hms_micro_opt(hour as u32, minute as u32, seconds as u32, micros as u32)
            .ok_or((CLASS, String::from("Invalid time")))?;
    let dt = date.and_time(time);
    if !next_minute {
        return Ok(dt);
    }
    // The last minute of the last representable year has no next minute.
    dt.checked_add_signed(chrono::Duration::minutes(1)).ok_or((
        CLASS,
        range_message("Year", -999_999_999, 999_999_999, i64::MAX),
    ))
}

fn eval_make_timestamp(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let ntz = name == "make_timestamp_ntz";
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let fields: Vec<&Int32Array> = a[..5]
        .iter()
        .map(|x| x.as_primitive::<Int32Type>())
        .collect();
    let secs = a[5].as_primitive::<Decimal128Type>();
    let zones = a.get(6).map(|z| z.as_string::<i32>());
    let mut last_zone: Option<(String, Tz)> = None;
    let mut out = Vec::with_capacity(rows);
    for i in 0..rows {
        if fields.iter().any(|f| f.is_null(i))
            || secs.is_null(i)
            || zones.is_some_and(|z| z.is_null(i))
        {
            out.push(None);
            continue;
        }
        let f = [0, 1, 2, 3, 4].map(|k| fields[k].value(i));
        let wall = match local_date_time(f, secs.value(i)) {
            Ok(w) => w,
            Err((class, msg)) => {
                if ctx.ansi {
                    return Err(if class == "INVALID_FRACTION_OF_SECOND" {
                        EngineError::execution(class, msg)
                    } else {
                        out_of_bounds(&msg)
                    });
                }
                out.push(None);
                continue;
            }
        };
        let tz = match zones {
            Some(z) => {
                let id = z.value(i);
                if !matches!(&last_zone, Some((q, _)) if q == id) {
                    let tz = crate::format::parse_time_zone(id).ok_or_else(|| invalid_zone(id))?;
                    last_zone = Some((id.to_string(), tz));
                }
                last_zone.as_ref().map_or(ctx.time_zone, |(_, t)| *t)
            }
            None => ctx.time_zone,
        };
        let micros = if ntz {
            local_to_micros(&wall, &Tz::UTC)
        } else {
            local_to_micros(&wall, &tz)
        };
        out.push(micros);
    }
    let out = TimestampMicrosecondArray::from(out);
    let out: ArrayRef = if ntz {
        Arc::new(out)
    } else {
        Arc::new(out.with_timezone("UTC"))
    };
    wrap(args, out)
}

// ---- timestamp_seconds / _millis / _micros ----

fn coerce_epoch_number(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    let t = &a[0];
    let integral = matches!(
        t,
        DataType::Null | DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64
    );
    if integral {
        return Ok(vec![DataType::Int64]);
    }
    if name == "timestamp_seconds" {
        match t {
            DataType::Float32 | DataType::Float64 => return Ok(vec![DataType::Float64]),
            DataType::Decimal128(_, _) => return Ok(vec![t.clone()]),
            _ => {}
        }
        return Err(unexpected_input_type(name, 1, "\"NUMERIC\"", t));
    }
    Err(unexpected_input_type(name, 1, "\"INTEGRAL\"", t))
}

/// Seconds as unscaled DECIMAL(_, `scale`) to microseconds, truncating finer digits as
/// Java's `BigDecimal.longValue` does.
fn decimal_micros(v: i128, scale: i8) -> Option<i128> {
    let diff = 6 - i32::from(scale);
    if diff >= 0 {
        v.checked_mul(super::decimal::pow10(diff.unsigned_abs())?)
    } else {
        Some(v / super::decimal::pow10(diff.unsigned_abs())?)
    }
}

fn datetime_overflow(v: impl std::fmt::Display, unit: &str) -> EngineError {
    EngineError::execution(
        "DATETIME_OVERFLOW",
        format!(
            "Datetime operation overflow: create a TIMESTAMP from {v} {unit} since the epoch. SQLSTATE: 22008"
        ),
    )
}

fn eval_timestamp_from(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = args[0].to_array(rows)?;
    let mut out: Vec<Option<i64>> = Vec::with_capacity(rows);
    match a.data_type() {
        DataType::Int64 => {
            let (factor, unit) = match name {
                "timestamp_seconds" => (MICROS_PER_SEC, "seconds"),
                "timestamp_millis" => (1000, "milliseconds"),
                _ => (1, "microseconds"),
            };
            for v in a.as_primitive::<Int64Type>().iter() {
                out.push(match v {
                    Some(v) => Some(
                        v.checked_mul(factor)
                            .ok_or_else(|| datetime_overflow(format!("{v}L"), unit))?,
                    ),
                    None => None,
                });
            }
        }
        DataType::Float64 => {
            for v in a.as_primitive::<Float64Type>().iter() {
                // Java's double-to-long conversion: NaN and infinities give NULL, too large
                // values saturate.
                out.push(v.filter(|d| d.is_finite()).map(|d| (d * 1e6) as i64));
            }
        }
        DataType::Decimal128(_, scale) => {
            let scale = *scale;
            for v in a.as_primitive::<Decimal128Type>().iter() {
                out.push(match v {
                    Some(v) => {
                        let shown = crate::scalar::ScalarValue::Decimal128(Some(v), 38, scale);
                        let micros = decimal_micros(v, scale)
                            .and_then(|m| i64::try_from(m).ok())
                            .ok_or_else(|| datetime_overflow(shown, "seconds"))?;
                        Some(micros)
                    }
                    None => None,
                });
            }
        }
        _ => out.resize(rows, None),
    }
    wrap(
        args,
        Arc::new(TimestampMicrosecondArray::from(out).with_timezone("UTC")),
    )
}

// ---- unix_seconds / _millis / _micros / unix_date / date_from_unix_date ----

fn eval_unix(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    let ts = a.as_primitive::<TimestampMicrosecondType>();
    let per = match name {
        "unix_seconds" => MICROS_PER_SEC,
        "unix_millis" => 1000,
        _ => 1,
    };
    let out: Int64Array = ts.iter().map(|v| v.map(|m| m.div_euclid(per))).collect();
    wrap(args, Arc::new(out))
}

fn eval_unix_date(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    let out: Int32Array = a.as_primitive::<Date32Type>().iter().collect();
    wrap(args, Arc::new(out))
}

fn eval_date_from_unix_date(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    let out: Date32Array = a
        .as_primitive::<Int32Type>()
        .iter()
        .map(|d| d.filter(|d| date_from_days(*d).is_some()))
        .collect();
    wrap(args, Arc::new(out))
}

/// Every function of this module with its names.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let s = SimpleFunction::new;
    let mut v: Vec<(&'static str, Arc<dyn ScalarFunction>)> = Vec::new();
    v.extend(
        s(
            "make_date",
            (3, 3),
            coerce_ints,
            |_| Ok(DataType::Date32),
            eval_make_date,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "make_timestamp",
            (6, 7),
            coerce_make_timestamp,
            |_| Ok(timestamp_type()),
            eval_make_timestamp,
        )
        .entries(&["make_timestamp_ltz"]),
    );
    v.extend(
        s(
            "make_timestamp_ntz",
            (6, 6),
            coerce_make_timestamp,
            |_| Ok(timestamp_ntz_type()),
            eval_make_timestamp,
        )
        .entries(&[]),
    );
    for name in ["timestamp_seconds", "timestamp_millis", "timestamp_micros"] {
        v.extend(
            s(
                name,
                (1, 1),
                coerce_epoch_number,
                |_| Ok(timestamp_type()),
                eval_timestamp_from,
            )
            .entries(&[]),
        );
    }
    for name in ["unix_seconds", "unix_millis", "unix_micros"] {
        v.extend(
            s(
                name,
                (1, 1),
                |_, _| Ok(vec![timestamp_type()]),
                |_| Ok(DataType::Int64),
                eval_unix,
            )
            .entries(&[]),
        );
    }
    v.extend(
        s(
            "unix_date",
            (1, 1),
            |_, _| Ok(vec![DataType::Date32]),
            |_| Ok(DataType::Int32),
            eval_unix_date,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "date_from_unix_date",
            (1, 1),
            coerce_ints,
            |_| Ok(DataType::Date32),
            eval_date_from_unix_date,
        )
        .entries(&[]),
    );
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use chrono::Datelike;

    #[test]
    fn java_time_messages() {
        assert_eq!(
            local_date(2023, 2, 29).unwrap_err(),
            "Invalid date 'February 29' as '2023' is not a leap year"
        );
        assert_eq!(
            local_date(2023, 4, 31).unwrap_err(),
            "Invalid date 'APRIL 31'"
        );
        assert_eq!(
            local_date(2023, 13, 1).unwrap_err(),
            "Invalid value for MonthOfYear (valid values 1 - 12): 13"
        );
        assert!(local_date(i32::MAX, 1, 1).is_err());
        assert_eq!(local_date(2024, 2, 29).unwrap().day(), 29);
    }

    #[test]
    fn sixty_seconds_is_the_next_minute() {
        let t = local_date_time([2024, 12, 31, 23, 59], 60_000_000).unwrap();
        assert_eq!(t.to_string(), "2025-01-01 00:00:00");
        assert!(local_date_time([2024, 1, 1, 0, 0], 60_500_000).is_err());
        assert!(local_date_time([2024, 1, 1, 0, 0], 61_000_000).is_err());
        assert!(local_date_time([2024, 1, 1, 0, 0], -1).is_err());
        let last = NaiveDate::MAX.and_hms_opt(23, 59, 0).unwrap();
        let f = [last.year(), last.month() as i32, last.day() as i32, 23, 59];
        assert!(local_date_time(f, 60_000_000).is_err());
    }
}
