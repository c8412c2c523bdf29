//! Calendar questions about dates: `months_between` (Spark's 31-day-month fraction with
//! the time of day, rounded to 8 digits by default), `next_day` (English day names and
//! their two- and three-letter abbreviations), `dayname`, `monthname` and `weekday`
//! (Monday is 0).

use std::sync::Arc;

use arrow::array::{Array, AsArray, Date32Array, Float64Array, Int32Array, StringArray};
use arrow::datatypes::{DataType, Date32Type, TimestampMicrosecondType};
use chrono::{Datelike, Weekday};

use super::datetime::local_micros;
use super::datetime_format::{date_from_days, days_from_date};
use super::string::{SimpleFunction, arrays, rows, want_string, wrap};
use super::{FunctionContext, ScalarFunction, unexpected_input_type};
use crate::expr::columnar::ColumnarValue;
use crate::types::timestamp_type;
use crate::{EngineError, Result};

const MICROS_PER_DAY: i64 = 86_400_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

/// Spark's `DateTimeUtils.monthsBetween` on two session-zone wall clocks (microseconds as
/// if UTC): whole months when the days of month match or both are month ends, otherwise
/// the difference in days and seconds over a 31-day month.
pub(crate) fn months_between(local1: i64, local2: i64, round_off: bool) -> Option<f64> {
    let d1 = date_from_days(i32::try_from(local1.div_euclid(MICROS_PER_DAY)).ok()?)?;
    let d2 = date_from_days(i32::try_from(local2.div_euclid(MICROS_PER_DAY)).ok()?)?;
    let months = |d: chrono::NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month());
    let month_diff = (months(d1) - months(d2)) as f64;
    let is_last = |d: chrono::NaiveDate| d.succ_opt().is_some_and(|n| n.month() != d.month());
    if d1.day() == d2.day() || (is_last(d1) && is_last(d2)) {
        return Some(month_diff);
    }
    let secs_in_day = |l: i64| l.rem_euclid(MICROS_PER_DAY) / 1_000_000;
    let seconds_diff = (i64::from(d1.day()) - i64::from(d2.day())) * SECONDS_PER_DAY
        + secs_in_day(local1)
        - secs_in_day(local2);
    let diff = month_diff + seconds_diff as f64 / (31 * SECONDS_PER_DAY) as f64;
    Some(if round_off {
        // Java's Math.round: floor(x + 0.5).
        (diff * 1e8 + 0.5).floor() / 1e8
    } else {
        diff
    })
}

fn coerce_months_between(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    let mut out = vec![timestamp_type(), timestamp_type()];
    if let Some(t) = a.get(2) {
        if !matches!(t, DataType::Boolean | DataType::Null) {
            return Err(unexpected_input_type(name, 3, "\"BOOLEAN\"", t));
        }
        out.push(DataType::Boolean);
    }
    Ok(out)
}

fn eval_months_between(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let t1 = a[0].as_primitive::<TimestampMicrosecondType>();
    let t2 = a[1].as_primitive::<TimestampMicrosecondType>();
    let round = a.get(2).map(|r| r.as_boolean());
    let tz = &ctx.time_zone;
    let out: Float64Array = (0..rows)
        .map(|i| {
            if t1.is_null(i) || t2.is_null(i) || round.is_some_and(|r| r.is_null(i)) {
                return None;
            }
            let r = round.is_none_or(|r| r.value(i));
            months_between(
                local_micros(t1.value(i), tz),
                local_micros(t2.value(i), tz),
                r,
            )
        })
        .collect();
    wrap(args, Arc::new(out))
}

// ---- next_day ----

/// Spark's day-of-week names: `SU`, `SUN`, `SUNDAY`, ... in any case.
fn weekday_named(name: &str) -> Option<Weekday> {
    let days = [
        ("SU", "SUN", "SUNDAY", Weekday::Sun),
        ("MO", "MON", "MONDAY", Weekday::Mon),
        ("TU", "TUE", "TUESDAY", Weekday::Tue),
        ("WE", "WED", "WEDNESDAY", Weekday::Wed),
        ("TH", "THU", "THURSDAY", Weekday::Thu),
        ("FR", "FRI", "FRIDAY", Weekday::Fri),
        ("SA", "SAT", "SATURDAY", Weekday::Sat),
    ];
    let upper = name.to_ascii_uppercase();
    days.iter()
        .find(|(a, b, c, _)| upper == *a || upper == *b || upper == *c)
        .map(|d| d.3)
}

fn coerce_next_day(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    Ok(vec![DataType::Date32, want_string(name, 2, &a[1])?])
}

fn eval_next_day(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let dates = a[0].as_primitive::<Date32Type>();
    let names = a[1].as_string::<i32>();
    let mut out = Vec::with_capacity(rows);
    for i in 0..rows {
        if dates.is_null(i) || names.is_null(i) {
            out.push(None);
            continue;
        }
        let Some(want) = weekday_named(names.value(i)) else {
            if ctx.ansi {
                return Err(EngineError::execution(
                    "ILLEGAL_DAY_OF_WEEK",
                    format!(
                        "Illegal input for day of week: {}. SQLSTATE: 22009",
                        names.value(i)
                    ),
                ));
            }
            out.push(None);
            continue;
        };
        let day = date_from_days(dates.value(i));
        out.push(day.and_then(|d| {
            let ahead = (7 + want.num_days_from_monday() - d.weekday().num_days_from_monday()) % 7;
            let ahead = if ahead == 0 { 7 } else { ahead };
            d.checked_add_days(chrono::Days::new(u64::from(ahead)))
                .map(days_from_date)
        }));
    }
    wrap(args, Arc::new(Date32Array::from(out)))
}

// ---- dayname / monthname / weekday ----

fn each_date<T>(
    args: &[ColumnarValue],
    n: usize,
    f: impl Fn(chrono::NaiveDate) -> T,
) -> Result<Vec<Option<T>>> {
    let a = args[0].to_array(rows(args, n))?;
    Ok(a.as_primitive::<Date32Type>()
        .iter()
        .map(|d| d.and_then(date_from_days).map(&f))
        .collect())
}

fn eval_dayname(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let v = each_date(args, n, |d| d.format("%a").to_string())?;
    wrap(args, Arc::new(StringArray::from(v)))
}

fn eval_monthname(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let v = each_date(args, n, |d| d.format("%b").to_string())?;
    wrap(args, Arc::new(StringArray::from(v)))
}

fn eval_weekday(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let v = each_date(args, n, |d| d.weekday().num_days_from_monday() as i32)?;
    wrap(args, Arc::new(Int32Array::from(v)))
}

/// Every function of this module with its names.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let s = SimpleFunction::new;
    let to_date = |_: &str, _: &[DataType]| Ok(vec![DataType::Date32]);
    let mut v: Vec<(&'static str, Arc<dyn ScalarFunction>)> = Vec::new();
    v.extend(
        s(
            "months_between",
            (2, 3),
            coerce_months_between,
            |_| Ok(DataType::Float64),
            eval_months_between,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "next_day",
            (2, 2),
            coerce_next_day,
            |_| Ok(DataType::Date32),
            eval_next_day,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "dayname",
            (1, 1),
            to_date,
            |_| Ok(DataType::Utf8),
            eval_dayname,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "monthname",
            (1, 1),
            to_date,
            |_| Ok(DataType::Utf8),
            eval_monthname,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "weekday",
            (1, 1),
            to_date,
            |_| Ok(DataType::Int32),
            eval_weekday,
        )
        .entries(&[]),
    );
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn at(date: &str, secs: i64) -> i64 {
        let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
        i64::from(days_from_date(d)) * MICROS_PER_DAY + secs * 1_000_000
    }

    #[test]
    fn months_between_follows_spark() {
        // Spark's documented example: 1997-02-28 10:30:00 vs 1996-10-30.
        let a = at("1997-02-28", 10 * 3600 + 1800);
        let b = at("1996-10-30", 0);
        assert_eq!(months_between(a, b, true), Some(3.94959677));
        assert_eq!(months_between(a, b, false), Some(3.9495967741935485));
        // Both month ends: whole months, the time of day ignored.
        assert_eq!(
            months_between(at("2024-03-31", 5), at("2024-02-29", 0), true),
            Some(1.0)
        );
        assert_eq!(
            months_between(at("2024-01-31", 0), at("2024-02-15", 0), true),
            Some(-0.48387097)
        );
        assert_eq!(months_between(i64::MAX, 0, true), None);
    }

    #[test]
    fn day_names() {
        assert_eq!(weekday_named("mon"), Some(Weekday::Mon));
        assert_eq!(weekday_named("TU"), Some(Weekday::Tue));
        assert_eq!(weekday_named("Friday"), Some(Weekday::Fri));
        assert_eq!(weekday_named("F"), None);
    }
}
