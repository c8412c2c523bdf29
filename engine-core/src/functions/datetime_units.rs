//! `timestampadd(unit, quantity, ts)` and `timestampdiff(unit, start, end)` (also reached
//! through `dateadd`/`date_add` and `datediff`/`date_diff` with a unit), Spark's
//! `DateTimeUtils.timestampAdd` / `timestampDiff`.
//!
//! The SQL parser turns the bare unit keyword (`HOUR`) into a string argument. Adding: units
//! up to HOUR move the instant; DAY, DAYOFYEAR, WEEK, MONTH, QUARTER and YEAR move the wall
//! clock in the session zone (a month keeps the day of month, clamped). The difference is
//! `ChronoUnit.between` on the two wall clocks: whole units, truncated toward zero, a day or
//! month only counting once the time of day (and day of month) is reached.

use std::sync::Arc;

use arrow::array::{Array, AsArray, Int64Array, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Int64Type, TimestampMicrosecondType};

use super::datetime::local_micros;
use super::interval::timestamp_plus_months;
use super::string::{SimpleFunction, arrays, rows, scalar_string, wrap};
use super::{FunctionContext, ScalarFunction};
use crate::datetime_text::zone::local_to_micros;
use crate::expr::columnar::ColumnarValue;
use crate::types::timestamp_type;
use crate::{EngineError, Result};

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The units, as Spark's grammar lists them.
pub const UNITS: [&str; 11] = [
    "YEAR",
    "QUARTER",
    "MONTH",
    "WEEK",
    "DAY",
    "DAYOFYEAR",
    "HOUR",
    "MINUTE",
    "SECOND",
    "MILLISECOND",
    "MICROSECOND",
];

/// Spark's error for a unit its grammar takes but the function does not (or a quoted one).
pub fn invalid_unit(function: &str, unit: &str) -> EngineError {
    EngineError::analysis(
        "INVALID_PARAMETER_VALUE.DATETIME_UNIT",
        format!(
            "The value of parameter(s) `unit` in `{}` is invalid: expects one of the units \
             without quotes YEAR, QUARTER, MONTH, WEEK, DAY, DAYOFYEAR, HOUR, MINUTE, SECOND, \
             MILLISECOND, MICROSECOND, but got the string literal '{unit}'. SQLSTATE: 22023",
            function.to_ascii_uppercase()
        ),
    )
}

/// Microseconds per unit for the units that move the instant.
fn micros_per(unit: &str) -> Option<i64> {
    Some(match unit {
        "MICROSECOND" => 1,
        "MILLISECOND" => 1_000,
        "SECOND" => 1_000_000,
        "MINUTE" => 60_000_000,
        "HOUR" => 3_600_000_000,
        _ => return None,
    })
}

fn unit_of(name: &str, arg: &ColumnarValue) -> Result<Option<String>> {
    match scalar_string(arg) {
        Some(Some(u)) => {
            let upper = u.to_ascii_uppercase();
            if UNITS.contains(&upper.as_str()) {
                Ok(Some(upper))
            } else {
                Err(invalid_unit(name, &u))
            }
        }
        Some(None) => Ok(None),
        None => Err(EngineError::analysis(
            "INVALID_PARAMETER_VALUE.DATETIME_UNIT",
            format!("The unit of `{name}` must be a constant"),
        )),
    }
}

fn overflow() -> EngineError {
    super::math::overflow()
}

// ---- timestampadd ----

fn coerce_add(_: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    let ts = match &a[2] {
        t @ DataType::Timestamp(_, _) => t.clone(),
        _ => timestamp_type(),
    };
    Ok(vec![DataType::Utf8, DataType::Int64, ts])
}

fn ret_add(a: &[DataType]) -> Result<DataType> {
    Ok(a[2].clone())
}

/// `t` plus `quantity` units (`ntz`: `t` is a wall clock already).
fn add(unit: &str, quantity: i64, t: i64, ntz: bool, tz: &chrono_tz::Tz) -> Result<i64> {
    if let Some(per) = micros_per(unit) {
        return quantity
            .checked_mul(per)
            .and_then(|d| t.checked_add(d))
            .ok_or_else(overflow);
    }
    let months = |m: i64| -> Result<i64> {
        let m = i32::try_from(m).map_err(|_| overflow())?;
        timestamp_plus_months(t, m, ntz, tz).ok_or_else(overflow)
    };
    let days = |d: i64| -> Result<i64> {
        let wall = if ntz { t } else { local_micros(t, tz) };
        let moved = d
            .checked_mul(MICROS_PER_DAY)
            .and_then(|d| wall.checked_add(d))
            .ok_or_else(overflow)?;
        if ntz {
            return Ok(moved);
        }
        let naive = chrono::DateTime::from_timestamp_micros(moved)
            .ok_or_else(overflow)?
            .naive_utc();
        local_to_micros(&naive, tz).ok_or_else(overflow)
    };
    match unit {
        "DAY" | "DAYOFYEAR" => days(quantity),
        "WEEK" => days(quantity.checked_mul(7).ok_or_else(overflow)?),
        "MONTH" => months(quantity),
        "QUARTER" => months(quantity.checked_mul(3).ok_or_else(overflow)?),
        _ => months(quantity.checked_mul(12).ok_or_else(overflow)?),
    }
}

fn eval_add(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let ntz = matches!(a[2].data_type(), DataType::Timestamp(_, None));
    let Some(unit) = unit_of(name, &args[0])? else {
        let nulls = arrow::array::new_null_array(a[2].data_type(), rows);
        return wrap(args, nulls);
    };
    let q = a[1].as_primitive::<Int64Type>();
    let t = a[2].as_primitive::<TimestampMicrosecondType>();
    let out = (0..rows)
        .map(|i| {
            if q.is_null(i) || t.is_null(i) {
                return Ok(None);
            }
            add(&unit, q.value(i), t.value(i), ntz, &ctx.time_zone).map(Some)
        })
        .collect::<Result<TimestampMicrosecondArray>>()?
        .with_data_type(a[2].data_type().clone());
    wrap(args, Arc::new(out))
}

// ---- timestampdiff ----

fn coerce_diff(_: &str, _: &[DataType]) -> Result<Vec<DataType>> {
    Ok(vec![DataType::Utf8, timestamp_type(), timestamp_type()])
}

fn ret_diff(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Int64)
}

/// Java's `LocalDate.until(end, MONTHS)`: whole months, the last one counting only once
/// the day of month is reached.
fn months_until(start_days: i64, end_days: i64) -> Option<i64> {
    use chrono::Datelike;
    let ymd = |d: i64| {
        chrono::NaiveDate::from_num_days_from_ce_opt(i32::try_from(d + 719_163).ok()?)
            .map(|x| (i64::from(x.year()) * 12 + i64::from(x.month0()), x.day()))
    };
    let (m1, d1) = ymd(start_days)?;
    let (m2, d2) = ymd(end_days)?;
    let mut months = m2 - m1;
    if months > 0 && d2 < d1 {
        months -= 1;
    } else if months < 0 && d2 > d1 {
        months += 1;
    }
    Some(months)
}

/// `ChronoUnit.between` on two wall clocks (microseconds as if UTC).
fn diff(unit: &str, start: i64, end: i64) -> Option<i64> {
    if let Some(per) = micros_per(unit) {
        // Truncated toward zero, as Java's division.
        return Some(end.checked_sub(start)? / per);
    }
    // Date-based units: the end date steps back a day when its time of day is not reached.
    let (sd, st) = (
        start.div_euclid(MICROS_PER_DAY),
        start.rem_euclid(MICROS_PER_DAY),
    );
    let (mut ed, et) = (
        end.div_euclid(MICROS_PER_DAY),
        end.rem_euclid(MICROS_PER_DAY),
    );
    if ed > sd && et < st {
        ed -= 1;
    } else if ed < sd && et > st {
        ed += 1;
    }
    match unit {
        "DAY" => Some(ed - sd),
        "WEEK" => Some((ed - sd) / 7),
        "MONTH" => months_until(sd, ed),
        "QUARTER" => months_until(sd, ed).map(|m| m / 3),
        _ => months_until(sd, ed).map(|m| m / 12),
    }
}

fn eval_diff(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let Some(unit) = unit_of(name, &args[0])? else {
        return wrap(args, Arc::new(Int64Array::new_null(rows)));
    };
    if unit == "DAYOFYEAR" {
        return Err(invalid_unit(name, "DAYOFYEAR"));
    }
    let s = a[1].as_primitive::<TimestampMicrosecondType>();
    let e = a[2].as_primitive::<TimestampMicrosecondType>();
    let tz = &ctx.time_zone;
    let out = (0..rows)
        .map(|i| {
            if s.is_null(i) || e.is_null(i) {
                return Ok(None);
            }
            let (ls, le) = (local_micros(s.value(i), tz), local_micros(e.value(i), tz));
            diff(&unit, ls, le).map(Some).ok_or_else(overflow)
        })
        .collect::<Result<Int64Array>>()?;
    wrap(args, Arc::new(out))
}

/// The registry entries.
pub(crate) fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let mut v = Vec::new();
    v.extend(
        SimpleFunction::new("timestampadd", (3, 3), coerce_add, ret_add, eval_add).entries(&[]),
    );
    v.extend(
        SimpleFunction::new("timestampdiff", (3, 3), coerce_diff, ret_diff, eval_diff).entries(&[]),
    );
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn micros(s: &str) -> i64 {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
            .unwrap()
            .and_utc()
            .timestamp_micros()
    }

    #[test]
    fn differences_follow_java_chrono_units() {
        // Each pinned against PySpark 4.3 (`timestampdiff`, session zone UTC).
        let cases = [
            ("MONTH", "2024-01-31 00:00:00", "2024-02-29 00:00:00", 0),
            ("MONTH", "2024-01-31 00:00:00", "2024-03-01 00:00:00", 1),
            ("YEAR", "2020-02-29 00:00:00", "2021-02-28 00:00:00", 0),
            ("QUARTER", "2020-01-15 00:00:00", "2020-07-14 00:00:00", 1),
            ("WEEK", "2020-01-01 00:00:00", "2020-01-15 00:00:00", 2),
            ("MONTH", "2024-03-31 00:00:00", "2024-02-29 00:00:00", -1),
            ("MONTH", "2024-01-31 10:00:00", "2024-02-29 09:00:00", 0),
            ("MONTH", "2024-05-31 00:00:00", "2024-04-30 00:00:00", -1),
            ("DAY", "2024-01-01 12:00:00", "2024-01-03 11:00:00", 1),
            ("HOUR", "2024-01-01 00:00:00", "2024-01-02 00:30:00", 24),
            ("SECOND", "2024-01-01 00:00:02", "2024-01-01 00:00:00", -2),
            ("MINUTE", "2024-01-01 00:00:00", "2024-01-01 00:01:59", 1),
            ("YEAR", "2020-02-29 10:00:00", "2021-02-28 11:00:00", 0),
            ("WEEK", "2024-01-01 00:00:00", "2024-01-07 23:59:59", 0),
        ];
        for (unit, a, b, want) in cases {
            assert_eq!(
                diff(unit, micros(a), micros(b)),
                Some(want),
                "{unit} {a} {b}"
            );
        }
    }

    #[test]
    fn additions_move_the_instant_or_the_wall_clock() {
        let utc = chrono_tz::UTC;
        let t = micros("2024-01-31 10:00:00");
        assert_eq!(
            add("MONTH", 1, t, false, &utc).unwrap(),
            micros("2024-02-29 10:00:00")
        );
        assert_eq!(
            add("YEAR", -1, micros("2024-02-29 00:00:00"), false, &utc).unwrap(),
            micros("2023-02-28 00:00:00")
        );
        assert_eq!(
            add("QUARTER", 1, micros("2024-01-01 00:00:00"), true, &utc).unwrap(),
            micros("2024-04-01 00:00:00")
        );
        assert_eq!(
            add("WEEK", 5, micros("2024-01-01 00:00:00"), false, &utc).unwrap(),
            micros("2024-02-05 00:00:00")
        );
        // A day in a zone that changes its clocks is a day on the wall clock, 23 hours here.
        let paris: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
        let before = micros("2024-03-30 11:00:00"); // 12:00 in Paris
        assert_eq!(
            add("DAY", 1, before, false, &paris).unwrap() - before,
            23 * 3_600_000_000
        );
        assert!(add("HOUR", i64::MAX, t, false, &utc).is_err());
    }
}
