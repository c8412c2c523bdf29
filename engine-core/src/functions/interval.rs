//! Arithmetic with Spark's ANSI intervals: `ts + INTERVAL 2 MINUTES`, `date - INTERVAL 1
//! MONTH`, `ts1 - ts2`, `INTERVAL 1 HOUR * 1.5`, `-INTERVAL 1 DAY`.
//!
//! Spark resolves these operators to dedicated expressions (`TimeAdd`,
//! `TimestampAddYMInterval`, `DateAddYMInterval`, `SubtractTimestamps`, `SubtractDates`,
//! `MultiplyDTInterval`, ...). The analyzer does the same here: [`rewrite_binary`] and
//! [`rewrite_negative`] turn an operator whose operands are intervals (or a datetime and an
//! interval) into a call of [`IntervalArithmetic`]. The column keeps the operator's name,
//! as the analyzer names output columns before it coerces them.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, DurationMicrosecondArray, IntervalYearMonthArray,
    PrimitiveArray, TimestampMicrosecondArray,
};
use arrow::datatypes::ArrowPrimitiveType;
use arrow::datatypes::{
    DataType, Date32Type, DurationMicrosecondType, Float64Type, Int64Type, IntervalUnit,
    IntervalYearMonthType, TimeUnit, TimestampMicrosecondType,
};
use chrono_tz::Tz;

use super::datetime::{add_months_days, local_micros};
use super::string::{arrays, rows, wrap};
use super::{FunctionContext, ScalarFunction};
use crate::datetime_text::zone::local_to_micros;
use crate::expr::columnar::ColumnarValue;
use crate::expr::{BinaryOperator, Expr};
use crate::interval::literal::interval_overflow;
use crate::scalar::ScalarValue;
use crate::types::{is_numeric, timestamp_type};
use crate::{EngineError, Result};

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// What an [`IntervalArithmetic`] call computes; `negate` turns `+` into `-`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// (timestamp, day-time) -> timestamp of the same kind.
    TimestampPlusDayTime { negate: bool },
    /// (timestamp, year-month) -> timestamp: months added to the session-zone wall clock.
    TimestampPlusMonths { negate: bool },
    /// (date, year-month) -> date.
    DatePlusMonths { negate: bool },
    /// (day-time, day-time) -> day-time.
    DayTimePlus { negate: bool },
    /// (year-month, year-month) -> year-month.
    MonthsPlus { negate: bool },
    /// (interval, BIGINT or DOUBLE) -> interval of the same kind.
    Times,
    /// (interval, BIGINT or DOUBLE) -> interval of the same kind, rounded half up.
    Divide,
    /// (timestamp, timestamp) -> day-time.
    TimestampDiff,
    /// (date, date) -> day-time (whole days).
    DateDiff,
    /// (interval) -> interval.
    Negate,
}

/// One interval operation, as a function the evaluator calls like any other.
#[derive(Debug)]
pub struct IntervalArithmetic {
    op: Op,
}

fn call(op: Op, args: Vec<Expr>) -> Expr {
    Expr::ScalarFunction {
        func: Arc::new(IntervalArithmetic { op }),
        args,
    }
}

fn is_day_time(t: &DataType) -> bool {
    matches!(t, DataType::Duration(TimeUnit::Microsecond))
}

fn is_year_month(t: &DataType) -> bool {
    matches!(t, DataType::Interval(IntervalUnit::YearMonth))
}

fn is_interval(t: &DataType) -> bool {
    is_day_time(t) || is_year_month(t)
}

fn is_timestamp(t: &DataType) -> bool {
    matches!(t, DataType::Timestamp(TimeUnit::Microsecond, _))
}

/// The days of a day-time literal written in whole days only (`INTERVAL 1 DAY`): Spark adds
/// those to a date as days and keeps a DATE.
fn literal_days(e: &Expr) -> Option<Option<i32>> {
    match e {
        Expr::Literal(ScalarValue::DayTimeInterval(v, fields)) if fields.is_days_only() => v
            .map(|us| i32::try_from(us / MICROS_PER_DAY).ok())
            .map_or(Some(None), |d| d.map(Some)),
        _ => None,
    }
}

/// `left op right` when it involves an interval or subtracts two datetimes: the call that
/// computes it, with its operands cast as Spark casts them. `None` when it is ordinary
/// arithmetic (or a type error the ordinary coercion reports).
pub fn rewrite_binary(
    op: BinaryOperator,
    left: Expr,
    lt: &DataType,
    right: Expr,
    rt: &DataType,
    ansi: bool,
) -> Option<Expr> {
    use BinaryOperator::*;
    let negate = op == Minus;
    let date = |t: &DataType| *t == DataType::Date32;
    let datetime = |t: &DataType| date(t) || is_timestamp(t);
    let number = |t: &DataType| is_numeric(t) || *t == DataType::Null;
    let factor = |e: Expr, t: &DataType| {
        let to = if matches!(
            t,
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64
        ) {
            DataType::Int64
        } else {
            DataType::Float64
        };
        e.implicit_cast(t, &to, ansi)
    };
    Some(match (op, lt, rt) {
        (Plus | Minus, l, r) if datetime(l) && is_interval(r) => {
            datetime_plus(left, l, right, r, negate, op, ansi)
        }
        (Plus, l, r) if is_interval(l) && datetime(r) => {
            datetime_plus(right, r, left, l, false, op, ansi)
        }
        (Plus | Minus, l, r) if is_interval(l) && l == r => {
            if let Some(folded) = fold_literals(&left, &right, negate) {
                return Some(folded);
            }
            let f = if is_day_time(l) {
                Op::DayTimePlus { negate }
            } else {
                Op::MonthsPlus { negate }
            };
            call(f, vec![left, right])
        }
        (Multiply, l, r) if is_interval(l) && number(r) => {
            call(Op::Times, vec![left, factor(right, r)])
        }
        (Multiply, l, r) if number(l) && is_interval(r) => {
            call(Op::Times, vec![right, factor(left, l)])
        }
        (Divide, l, r) if is_interval(l) && number(r) => {
            call(Op::Divide, vec![left, factor(right, r)])
        }
        (Minus, l, r) if date(l) && date(r) => call(Op::DateDiff, vec![left, right]),
        (Minus, l, r) if datetime(l) && datetime(r) => {
            // Spark subtracts as instants; TIMESTAMP_NTZ and DATE meet TIMESTAMP in the
            // session zone, two NTZ values subtract as wall clocks.
            let common = if l == r { l.clone() } else { timestamp_type() };
            let l2 = left.implicit_cast(l, &common, ansi);
            let r2 = right.implicit_cast(r, &common, ansi);
            call(Op::TimestampDiff, vec![l2, r2])
        }
        _ => return None,
    })
}

fn datetime_plus(
    dt: Expr,
    dtt: &DataType,
    iv: Expr,
    ivt: &DataType,
    negate: bool,
    op: BinaryOperator,
    ansi: bool,
) -> Expr {
    if is_year_month(ivt) {
        let f = if *dtt == DataType::Date32 {
            Op::DatePlusMonths { negate }
        } else {
            Op::TimestampPlusMonths { negate }
        };
        return call(f, vec![dt, iv]);
    }
    if *dtt == DataType::Date32 {
        if let Some(days) = literal_days(&iv) {
            // `date + INTERVAL 1 DAY` stays a DATE: the ordinary `date + n` days.
            return Expr::BinaryOp {
                left: Box::new(dt),
                op,
                right: Box::new(Expr::Literal(ScalarValue::Int32(days))),
            };
        }
        let ts = dt.implicit_cast(dtt, &timestamp_type(), ansi);
        return call(Op::TimestampPlusDayTime { negate }, vec![ts, iv]);
    }
    call(Op::TimestampPlusDayTime { negate }, vec![dt, iv])
}

/// Spark's column name for `left op right` when it adds an interval to a datetime
/// (`ts + INTERVAL '02' MINUTE`: no parentheses, the datetime first, as Spark's `TimeAdd`
/// and `DateAddYMInterval` write themselves); `None` for any other operation.
pub fn datetime_plus_name(
    left: &Expr,
    lt: &DataType,
    op: BinaryOperator,
    right: &Expr,
    rt: &DataType,
) -> Option<String> {
    let datetime = |t: &DataType| *t == DataType::Date32 || is_timestamp(t);
    match op {
        BinaryOperator::Plus | BinaryOperator::Minus if datetime(lt) && is_interval(rt) => {
            Some(format!("{left} {op} {right}"))
        }
        BinaryOperator::Plus if is_interval(lt) && datetime(rt) => {
            Some(format!("{right} {op} {left}"))
        }
        _ => None,
    }
}

/// `-x` for an interval `x`; `None` for any other type.
pub fn rewrite_negative(inner: Expr, t: &DataType) -> Option<Expr> {
    let zero = match &inner {
        Expr::Literal(ScalarValue::DayTimeInterval(Some(_), f)) => {
            Expr::Literal(ScalarValue::DayTimeInterval(Some(0), *f))
        }
        Expr::Literal(ScalarValue::YearMonthInterval(Some(_), f)) => {
            Expr::Literal(ScalarValue::YearMonthInterval(Some(0), *f))
        }
        _ => return is_interval(t).then(|| call(Op::Negate, vec![inner])),
    };
    fold_literals(&zero, &inner, true).or_else(|| Some(call(Op::Negate, vec![inner])))
}

/// Two interval literals added or subtracted, as a literal whose fields span both (Spark's
/// result type, `INTERVAL '0 23' DAY TO HOUR` for `INTERVAL 1 DAY - INTERVAL 1 HOUR`); a
/// column cannot carry those fields, so this is the one place they survive arithmetic.
/// `None` when either side is no literal or the result overflows (the call reports that).
fn fold_literals(left: &Expr, right: &Expr, negate: bool) -> Option<Expr> {
    use ScalarValue::{DayTimeInterval as D, YearMonthInterval as Y};
    let v = match (left, right) {
        (Expr::Literal(D(Some(a), f)), Expr::Literal(D(Some(b), g))) => {
            let r = if negate {
                a.checked_sub(*b)
            } else {
                a.checked_add(*b)
            };
            D(Some(r?), f.union(*g))
        }
        (Expr::Literal(Y(Some(a), f)), Expr::Literal(Y(Some(b), g))) => {
            let r = if negate {
                a.checked_sub(*b)
            } else {
                a.checked_add(*b)
            };
            Y(Some(r?), f.union(*g))
        }
        _ => return None,
    };
    Some(Expr::Literal(v))
}

fn divided_by_zero() -> EngineError {
    EngineError::execution(
        "INTERVAL_DIVIDED_BY_ZERO",
        "Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead. SQLSTATE: 22012",
    )
}

/// `a / b` rounded half away from zero (Guava's `LongMath.divide(.., HALF_UP)`).
pub(crate) fn div_half_up(a: i64, b: i64) -> Result<i64> {
    if b == 0 {
        return Err(divided_by_zero());
    }
    let (a, b) = (i128::from(a), i128::from(b));
    let (q, r) = (a / b, a % b);
    let q = if 2 * r.abs() >= b.abs() {
        q + if (a < 0) == (b < 0) { 1 } else { -1 }
    } else {
        q
    };
    i64::try_from(q).map_err(|_| super::math::overflow())
}

/// A double rounded half up to a whole number that fits an i64.
fn round_to_i64(x: f64) -> Result<i64> {
    let r = x.round();
    if !r.is_finite() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&r) {
        return Err(super::math::overflow());
    }
    Ok(r as i64)
}

impl ScalarFunction for IntervalArithmetic {
    fn name(&self) -> &str {
        match self.op {
            Op::TimestampPlusDayTime { .. } => "timestamp_add_interval",
            Op::TimestampPlusMonths { .. } => "timestamp_add_ym_interval",
            Op::DatePlusMonths { .. } => "date_add_ym_interval",
            Op::DayTimePlus { .. } | Op::MonthsPlus { .. } => "interval_add",
            Op::Times => "interval_multiply",
            Op::Divide => "interval_divide",
            Op::TimestampDiff => "subtract_timestamps",
            Op::DateDiff => "subtract_dates",
            Op::Negate => "interval_negate",
        }
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(match self.op {
            Op::TimestampDiff | Op::DateDiff => DataType::Duration(TimeUnit::Microsecond),
            _ => args.first().cloned().ok_or_else(|| {
                EngineError::Internal("interval arithmetic without operands".into())
            })?,
        })
    }

    fn invoke(
        &self,
        args: &[ColumnarValue],
        num_rows: usize,
        ctx: &FunctionContext,
    ) -> Result<ColumnarValue> {
        let n = rows(args, num_rows);
        let a = arrays(args, n)?;
        let first = a
            .first()
            .ok_or_else(|| EngineError::Internal("interval arithmetic without operands".into()))?;
        let out: ArrayRef = match (self.op, a.get(1)) {
            (Op::Negate, _) => negate(first)?,
            (_, None) => {
                return Err(EngineError::Internal(format!(
                    "{} needs two operands",
                    self.name()
                )));
            }
            (op, Some(second)) => {
                if first.data_type() == &DataType::Null || second.data_type() == &DataType::Null {
                    let t = self.return_type(&[first.data_type().clone()])?;
                    return wrap(args, arrow::array::new_null_array(&t, n));
                }
                binary(op, first, second, &ctx.time_zone)?
            }
        };
        wrap(args, out)
    }
}

fn negate(a: &ArrayRef) -> Result<ArrayRef> {
    Ok(match a.data_type() {
        DataType::Duration(TimeUnit::Microsecond) => {
            let v = a.as_primitive::<DurationMicrosecondType>();
            let out: DurationMicrosecondArray =
                map1(v, |x| x.checked_neg().ok_or_else(interval_overflow))?;
            Arc::new(out)
        }
        DataType::Interval(IntervalUnit::YearMonth) => {
            let v = a.as_primitive::<IntervalYearMonthType>();
            let out: IntervalYearMonthArray =
                map1(v, |x| x.checked_neg().ok_or_else(interval_overflow))?;
            Arc::new(out)
        }
        _ => a.clone(),
    })
}

/// `f` over every row where the value is present; NULL stays NULL. (Arrow's `try_unary`
/// wants Arrow's error type; ours carry Spark's error classes.)
fn map1<A, O>(
    a: &PrimitiveArray<A>,
    f: impl Fn(A::Native) -> Result<O::Native>,
) -> Result<PrimitiveArray<O>>
where
    A: ArrowPrimitiveType,
    O: ArrowPrimitiveType,
{
    a.iter().map(|x| x.map(&f).transpose()).collect()
}

/// `f` over every row where both values are present; NULL otherwise.
fn map2<A, B, O>(
    a: &PrimitiveArray<A>,
    b: &PrimitiveArray<B>,
    f: impl Fn(A::Native, B::Native) -> Result<O::Native>,
) -> Result<PrimitiveArray<O>>
where
    A: ArrowPrimitiveType,
    B: ArrowPrimitiveType,
    O: ArrowPrimitiveType,
{
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| match (x, y) {
            (Some(x), Some(y)) => f(x, y).map(Some),
            _ => Ok(None),
        })
        .collect()
}

fn sign(negate: bool) -> i64 {
    if negate { -1 } else { 1 }
}

fn binary(op: Op, a: &ArrayRef, b: &ArrayRef, tz: &Tz) -> Result<ArrayRef> {
    let overflow = super::math::overflow;
    Ok(match op {
        Op::TimestampPlusDayTime { negate } => {
            let ts = a.as_primitive::<TimestampMicrosecondType>();
            let d = b.as_primitive::<DurationMicrosecondType>();
            let s = sign(negate);
            let out: TimestampMicrosecondArray = map2(ts, d, |t, d| {
                d.checked_mul(s)
                    .and_then(|d| t.checked_add(d))
                    .ok_or_else(overflow)
            })?;
            Arc::new(out.with_timezone_opt(ts.timezone().map(Arc::<str>::from)))
        }
        Op::TimestampPlusMonths { negate } => {
            let ts = a.as_primitive::<TimestampMicrosecondType>();
            let m = b.as_primitive::<IntervalYearMonthType>();
            let ntz = ts.timezone().is_none();
            let s = sign(negate);
            let out: TimestampMicrosecondArray = map2(ts, m, |t, m| {
                let months = i32::try_from(i64::from(m) * s).map_err(|_| overflow())?;
                timestamp_plus_months(t, months, ntz, tz).ok_or_else(overflow)
            })?;
            Arc::new(out.with_timezone_opt(ts.timezone().map(Arc::<str>::from)))
        }
        Op::DatePlusMonths { negate } => {
            let d = a.as_primitive::<Date32Type>();
            let m = b.as_primitive::<IntervalYearMonthType>();
            let s = sign(negate);
            let out: Date32Array = map2(d, m, |d, m| {
                let months = i32::try_from(i64::from(m) * s).map_err(|_| overflow())?;
                add_months_days(d, months).ok_or_else(overflow)
            })?;
            Arc::new(out)
        }
        Op::DayTimePlus { negate } => {
            let x = a.as_primitive::<DurationMicrosecondType>();
            let y = b.as_primitive::<DurationMicrosecondType>();
            let s = sign(negate);
            let out: DurationMicrosecondArray = map2(x, y, |x, y| {
                y.checked_mul(s)
                    .and_then(|y| x.checked_add(y))
                    .ok_or_else(interval_overflow)
            })?;
            Arc::new(out)
        }
        Op::MonthsPlus { negate } => {
            let x = a.as_primitive::<IntervalYearMonthType>();
            let y = b.as_primitive::<IntervalYearMonthType>();
            let out: IntervalYearMonthArray = map2(x, y, |x, y| {
                let r = if negate {
                    x.checked_sub(y)
                } else {
                    x.checked_add(y)
                };
                r.ok_or_else(interval_overflow)
            })?;
            Arc::new(out)
        }
        Op::Times | Op::Divide => scale(op == Op::Divide, a, b)?,
        Op::TimestampDiff => {
            let x = a.as_primitive::<TimestampMicrosecondType>();
            let y = b.as_primitive::<TimestampMicrosecondType>();
            let out: DurationMicrosecondArray =
                map2(x, y, |x, y| x.checked_sub(y).ok_or_else(overflow))?;
            Arc::new(out)
        }
        Op::DateDiff => {
            let x = a.as_primitive::<Date32Type>();
            let y = b.as_primitive::<Date32Type>();
            let out: DurationMicrosecondArray = map2(x, y, |x, y| {
                (i64::from(x) - i64::from(y))
                    .checked_mul(MICROS_PER_DAY)
                    .ok_or_else(overflow)
            })?;
            Arc::new(out)
        }
        Op::Negate => negate(a)?,
    })
}

/// `t` plus `months` on its wall clock (the session zone's for TIMESTAMP), the day of
/// month clamped as `add_months` does, the time of day kept.
pub(crate) fn timestamp_plus_months(t: i64, months: i32, ntz: bool, tz: &Tz) -> Option<i64> {
    let wall = if ntz { t } else { local_micros(t, tz) };
    let days = i32::try_from(wall.div_euclid(MICROS_PER_DAY)).ok()?;
    let time_of_day = wall.rem_euclid(MICROS_PER_DAY);
    let new_days = add_months_days(days, months)?;
    let new_wall = i64::from(new_days)
        .checked_mul(MICROS_PER_DAY)?
        .checked_add(time_of_day)?;
    if ntz {
        return Some(new_wall);
    }
    let naive = chrono::DateTime::from_timestamp_micros(new_wall)?.naive_utc();
    local_to_micros(&naive, tz)
}

/// A multiplier or divisor of an interval: BIGINT or DOUBLE.
#[derive(Clone, Copy)]
enum Factor {
    Int(i64),
    Float(f64),
}

/// `v` times or divided by `k`, rounded half up; zero divisors and overflow are errors.
fn scale_one(divide: bool, v: i64, k: Factor) -> Result<i64> {
    match k {
        Factor::Int(k) if divide => div_half_up(v, k),
        Factor::Int(k) => v.checked_mul(k).ok_or_else(super::math::overflow),
        Factor::Float(x) if divide => {
            if x == 0.0 {
                Err(divided_by_zero())
            } else {
                round_to_i64(v as f64 / x)
            }
        }
        Factor::Float(x) => round_to_i64(v as f64 * x),
    }
}

/// An interval times or divided by a BIGINT or DOUBLE factor, rounded half up.
fn scale(divide: bool, a: &ArrayRef, b: &ArrayRef) -> Result<ArrayRef> {
    let factor = |row: usize| match b.data_type() {
        DataType::Int64 => Factor::Int(b.as_primitive::<Int64Type>().value(row)),
        _ => Factor::Float(b.as_primitive::<Float64Type>().value(row)),
    };
    let valid = |row: usize| a.is_valid(row) && b.is_valid(row);
    Ok(match a.data_type() {
        DataType::Duration(TimeUnit::Microsecond) => {
            let v = a.as_primitive::<DurationMicrosecondType>();
            let out = (0..a.len())
                .map(|row| {
                    valid(row)
                        .then(|| scale_one(divide, v.value(row), factor(row)))
                        .transpose()
                })
                .collect::<Result<PrimitiveArray<DurationMicrosecondType>>>()?;
            Arc::new(out)
        }
        _ => {
            let v = a.as_primitive::<IntervalYearMonthType>();
            let out = (0..a.len())
                .map(|row| {
                    if !valid(row) {
                        return Ok(None);
                    }
                    let m = scale_one(divide, i64::from(v.value(row)), factor(row))?;
                    i32::try_from(m)
                        .map(Some)
                        .map_err(|_| super::math::overflow())
                })
                .collect::<Result<PrimitiveArray<IntervalYearMonthType>>>()?;
            Arc::new(out)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_rounds_half_away_from_zero() {
        assert_eq!(div_half_up(7, 2).unwrap(), 4);
        assert_eq!(div_half_up(-7, 2).unwrap(), -4);
        assert_eq!(div_half_up(1, 3).unwrap(), 0);
        assert_eq!(div_half_up(2, 3).unwrap(), 1);
        assert!(
            div_half_up(i64::MIN, -1)
                .unwrap_err()
                .to_string()
                .contains("ARITHMETIC_OVERFLOW")
        );
        assert!(
            div_half_up(1, 0)
                .unwrap_err()
                .to_string()
                .contains("INTERVAL_DIVIDED_BY_ZERO")
        );
    }

    #[test]
    fn months_keep_the_wall_clock_in_the_session_zone() {
        let tz: Tz = "America/New_York".parse().unwrap();
        // 2024-01-31 10:00 in New York (15:00 UTC) plus one month: 2024-02-29 10:00 there.
        let t = 1_706_713_200_000_000;
        let got = timestamp_plus_months(t, 1, false, &tz).unwrap();
        assert_eq!(got, t + 29 * MICROS_PER_DAY);
        // Across the March DST change the wall clock stays 10:00 (one hour less elapses).
        let got = timestamp_plus_months(t, 2, false, &tz).unwrap();
        assert_eq!(got, t + 60 * MICROS_PER_DAY - 3_600_000_000);
    }
}
