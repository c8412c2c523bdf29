//! `make_dt_interval(days, hours, mins, secs)` and `make_ym_interval(years, months)`: ANSI
//! intervals from their parts, as Spark's `MakeDTInterval` / `MakeYMInterval` (missing
//! trailing parts are 0; NULL in, NULL out; out of range is `INTERVAL_ARITHMETIC_OVERFLOW`).

use std::sync::Arc;

use arrow::array::{AsArray, DurationMicrosecondArray, IntervalYearMonthArray};
use arrow::datatypes::{DataType, Decimal128Type, Int32Type, IntervalUnit, TimeUnit};

use super::string::{SimpleFunction, arrays, rows, wrap};
use super::{FunctionContext, ScalarFunction};
use crate::Result;
use crate::expr::columnar::ColumnarValue;
use crate::interval::literal::interval_overflow;

/// Seconds are DECIMAL(18, 6): the unscaled value is microseconds.
const SECONDS: DataType = DataType::Decimal128(18, 6);

fn coerce_dt(_: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    Ok((0..args.len())
        .map(|i| if i == 3 { SECONDS } else { DataType::Int32 })
        .collect())
}

fn coerce_ym(_: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    Ok(vec![DataType::Int32; args.len()])
}

fn ret_dt(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Duration(TimeUnit::Microsecond))
}

fn ret_ym(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Interval(IntervalUnit::YearMonth))
}

fn eval_dt(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let int = |i: usize, row: usize| -> Option<Option<i64>> {
        match a.get(i) {
            None => Some(Some(0)),
            Some(c) if c.is_null(row) => Some(None),
            Some(c) => Some(Some(i64::from(c.as_primitive::<Int32Type>().value(row)))),
        }
    };
    let out = (0..rows)
        .map(|row| {
            let secs = match a.get(3) {
                None => Some(0i128),
                Some(c) if c.is_null(row) => None,
                Some(c) => Some(c.as_primitive::<Decimal128Type>().value(row)),
            };
            let (Some(Some(d)), Some(Some(h)), Some(Some(m)), Some(s)) =
                (int(0, row), int(1, row), int(2, row), secs)
            else {
                return Ok(None);
            };
            // In i128 the parts cannot overflow; the total must fit Spark's i64 micros.
            let total =
                ((i128::from(d) * 24 + i128::from(h)) * 60 + i128::from(m)) * 60_000_000 + s;
            i64::try_from(total)
                .map(Some)
                .map_err(|_| interval_overflow())
        })
        .collect::<Result<DurationMicrosecondArray>>()?;
    wrap(args, Arc::new(out))
}

fn eval_ym(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let part = |i: usize, row: usize| -> Option<i32> {
        match a.get(i) {
            None => Some(0),
            Some(c) if c.is_null(row) => None,
            Some(c) => Some(c.as_primitive::<Int32Type>().value(row)),
        }
    };
    let out = (0..rows)
        .map(|row| {
            let (Some(y), Some(m)) = (part(0, row), part(1, row)) else {
                return Ok(None);
            };
            y.checked_mul(12)
                .and_then(|v| v.checked_add(m))
                .map(Some)
                .ok_or_else(interval_overflow)
        })
        .collect::<Result<IntervalYearMonthArray>>()?;
    wrap(args, Arc::new(out))
}

/// The functions of this module with their names.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let mut v =
        SimpleFunction::new("make_dt_interval", (0, 4), coerce_dt, ret_dt, eval_dt).entries(&[]);
    v.extend(
        SimpleFunction::new("make_ym_interval", (0, 2), coerce_ym, ret_ym, eval_ym).entries(&[]),
    );
    v
}
