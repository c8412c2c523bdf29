//! `sequence(start, stop[, step])`: the array from `start` to `stop` (inclusive) by `step`,
//! over integers, dates and timestamps (with an interval step), as Spark's `Sequence`.
//!
//! The default step is 1 (or -1 when `stop < start`); for dates and timestamps one day (or
//! minus one day). A step of the wrong sign or zero is Spark's `Illegal sequence boundaries`
//! error; a date sequence takes a step of whole days or months only.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, ListArray, PrimitiveArray};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{
    DataType, Date32Type, DurationMicrosecondType, Field, Int8Type, Int16Type, Int32Type,
    Int64Type, IntervalUnit, IntervalYearMonthType, TimeUnit, TimestampMicrosecondType,
};
use chrono_tz::Tz;

use super::datetime::add_months_days;
use super::interval::timestamp_plus_months;
use super::string::{arrays, rows, wrap};
use super::{FunctionContext, ScalarFunction, wrong_num_args};
use crate::expr::columnar::ColumnarValue;
use crate::types::{list_of, sql_type_name, timestamp_type};
use crate::{EngineError, Result};

const MICROS_PER_DAY: i64 = 86_400_000_000;
/// Spark's `ByteArrayMethods.MAX_ROUNDED_ARRAY_LENGTH`.
const MAX_ELEMENTS: i64 = i32::MAX as i64 - 15;

/// Spark's `sequence`.
#[derive(Debug)]
pub(crate) struct Sequence;

fn wrong_types(args: &[DataType]) -> EngineError {
    let shown: Vec<String> = args.iter().map(sql_type_name).collect();
    EngineError::analysis(
        "DATATYPE_MISMATCH.SEQUENCE_WRONG_INPUT_TYPES",
        format!(
            "Cannot resolve \"{{expr}}\" due to data type mismatch: `sequence` uses the wrong parameter type. The parameter type must conform to: 1. The start and stop expressions must resolve to the same type. 2. If start and stop expressions resolve to the \"DATE\" or \"TIMESTAMP\" type then the step expression must resolve to the \"INTERVAL\" or \"INTERVAL YEAR TO MONTH\" or \"INTERVAL DAY TO SECOND\" type, otherwise to the same type as the start and stop expressions. Got: {}. SQLSTATE: 42K09",
            shown.join(", ")
        ),
    )
}

fn integral_rank(t: &DataType) -> Option<u8> {
    Some(match t {
        DataType::Int8 => 1,
        DataType::Int16 => 2,
        DataType::Int32 => 3,
        DataType::Int64 => 4,
        _ => return None,
    })
}

fn is_interval(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Duration(TimeUnit::Microsecond) | DataType::Interval(IntervalUnit::YearMonth)
    )
}

impl ScalarFunction for Sequence {
    fn name(&self) -> &str {
        "sequence"
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        if !(2..=3).contains(&args.len()) {
            return Err(wrong_num_args("sequence", "[2, 3]", args.len()));
        }
        let (start, stop) = (&args[0], &args[1]);
        let step = args.get(2);
        // NULL takes the other bound's type (the result is NULL anyway).
        let bound = |a: &DataType, b: &DataType| {
            if *a == DataType::Null {
                b.clone()
            } else {
                a.clone()
            }
        };
        let (start, stop) = (bound(start, stop), bound(stop, start));
        if let (Some(a), Some(b)) = (integral_rank(&start), integral_rank(&stop)) {
            let mut rank = a.max(b);
            match step {
                None | Some(DataType::Null) => {}
                Some(s) => rank = rank.max(integral_rank(s).ok_or_else(|| wrong_types(args))?),
            }
            let t = match rank {
                1 => DataType::Int8,
                2 => DataType::Int16,
                3 => DataType::Int32,
                _ => DataType::Int64,
            };
            return Ok(vec![t.clone(); args.len()]);
        }
        let datetime = |t: &DataType| {
            matches!(
                t,
                DataType::Date32 | DataType::Timestamp(TimeUnit::Microsecond, _)
            )
        };
        if !datetime(&start) || !datetime(&stop) {
            return Err(wrong_types(args));
        }
        let common = if start == stop {
            start
        } else if start == DataType::Date32 {
            stop
        } else if stop == DataType::Date32 {
            start
        } else {
            timestamp_type()
        };
        let mut out = vec![common.clone(), common];
        match step {
            None => {}
            Some(DataType::Null) => out.push(DataType::Duration(TimeUnit::Microsecond)),
            Some(s) if is_interval(s) => out.push(s.clone()),
            Some(_) => return Err(wrong_types(args)),
        }
        Ok(out)
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let t = args
            .first()
            .ok_or_else(|| wrong_num_args("sequence", "[2, 3]", 0))?;
        Ok(list_of(t.clone()))
    }

    fn invoke(
        &self,
        args: &[ColumnarValue],
        num_rows: usize,
        ctx: &FunctionContext,
    ) -> Result<ColumnarValue> {
        let n = rows(args, num_rows);
        let a = arrays(args, n)?;
        let (start, stop) = match (a.first(), a.get(1)) {
            (Some(x), Some(y)) => (x, y),
            _ => return Err(wrong_num_args("sequence", "[2, 3]", a.len())),
        };
        let step = a.get(2);
        let element = start.data_type().clone();
        let mut builder = Builder::new(element.clone(), n);
        for row in 0..n {
            let present =
                start.is_valid(row) && stop.is_valid(row) && step.is_none_or(|s| s.is_valid(row));
            if !present {
                builder.null();
                continue;
            }
            let s = step.map(|s| step_at(s, row)).transpose()?;
            match &element {
                DataType::Date32 => {
                    let (x, y) = (day_at(start, row), day_at(stop, row));
                    dates(&mut builder, x, y, s)?;
                }
                DataType::Timestamp(_, zone) => {
                    let (x, y) = (micros_at(start, row), micros_at(stop, row));
                    timestamps(&mut builder, x, y, s, zone.is_none(), &ctx.time_zone)?;
                }
                _ => {
                    let (x, y) = (int_at(start, row)?, int_at(stop, row)?);
                    let by = match s {
                        Some(Step::Int(k)) => k,
                        Some(_) => {
                            return Err(EngineError::Internal("integer sequence step".into()));
                        }
                        None if y >= x => 1,
                        None => -1,
                    };
                    check_direction(x, y, by)?;
                    // A zero step is legal only from a value to itself: one element
                    // (found by fuzzing: it divided by zero).
                    let count = if by == 0 {
                        1
                    } else {
                        (i128::from(y) - i128::from(x)) / i128::from(by) + 1
                    };
                    builder.reserve(count)?;
                    for i in 0..count {
                        // In range: x + i*by lies between x and y.
                        builder.push((i128::from(x) + i * i128::from(by)) as i64);
                    }
                    builder.end_row();
                }
            }
        }
        wrap(args, builder.finish()?)
    }
}

/// A step value: an integer, a day-time interval (microseconds) or months.
#[derive(Debug, Clone, Copy)]
enum Step {
    Int(i64),
    Micros(i64),
    Months(i32),
}

fn step_at(a: &ArrayRef, row: usize) -> Result<Step> {
    Ok(match a.data_type() {
        DataType::Duration(TimeUnit::Microsecond) => {
            Step::Micros(a.as_primitive::<DurationMicrosecondType>().value(row))
        }
        DataType::Interval(IntervalUnit::YearMonth) => {
            Step::Months(a.as_primitive::<IntervalYearMonthType>().value(row))
        }
        _ => Step::Int(int_at(a, row)?),
    })
}

fn int_at(a: &ArrayRef, row: usize) -> Result<i64> {
    Ok(match a.data_type() {
        DataType::Int8 => i64::from(a.as_primitive::<Int8Type>().value(row)),
        DataType::Int16 => i64::from(a.as_primitive::<Int16Type>().value(row)),
        DataType::Int32 => i64::from(a.as_primitive::<Int32Type>().value(row)),
        DataType::Int64 => a.as_primitive::<Int64Type>().value(row),
        other => return Err(EngineError::Internal(format!("sequence over {other}"))),
    })
}

fn day_at(a: &ArrayRef, row: usize) -> i32 {
    a.as_primitive::<Date32Type>().value(row)
}

fn micros_at(a: &ArrayRef, row: usize) -> i64 {
    a.as_primitive::<TimestampMicrosecondType>().value(row)
}

fn illegal(
    start: impl std::fmt::Display,
    stop: impl std::fmt::Display,
    step: impl std::fmt::Display,
) -> EngineError {
    EngineError::execution(
        "ILLEGAL_ARGUMENT",
        format!("requirement failed: Illegal sequence boundaries: {start} to {stop} by {step}"),
    )
}

fn check_direction(start: i64, stop: i64, step: i64) -> Result<()> {
    let ok =
        (step > 0 && start <= stop) || (step < 0 && start >= stop) || (step == 0 && start == stop);
    if ok {
        Ok(())
    } else {
        Err(illegal(start, stop, step))
    }
}

/// Dates by whole days or by months (the day of month clamped, from the start date).
fn dates(b: &mut Builder, start: i32, stop: i32, step: Option<Step>) -> Result<()> {
    let step = step.unwrap_or(Step::Micros(if stop >= start {
        MICROS_PER_DAY
    } else {
        -MICROS_PER_DAY
    }));
    match step {
        Step::Micros(us) => {
            if us % MICROS_PER_DAY != 0 {
                return Err(EngineError::analysis(
                    "ILLEGAL_ARGUMENT",
                    "sequence step must be an interval day to second of day granularity if start and end values are dates",
                ));
            }
            let by = us / MICROS_PER_DAY;
            let (x, y) = (i64::from(start), i64::from(stop));
            check_direction(x, y, by)?;
            let count = if by == 0 { 1 } else { (y - x) / by + 1 };
            b.reserve(i128::from(count))?;
            for i in 0..count {
                b.push(x + i * by);
            }
        }
        Step::Months(m) => by_months(b, i64::from(start), i64::from(stop), m, |k| {
            add_months_days(start, k).map(i64::from)
        })?,
        Step::Int(_) => {
            return Err(EngineError::Internal(
                "date sequence with an integer step".into(),
            ));
        }
    }
    b.end_row();
    Ok(())
}

/// Timestamps by a day-time step, or by months on the session-zone wall clock.
fn timestamps(
    b: &mut Builder,
    start: i64,
    stop: i64,
    step: Option<Step>,
    ntz: bool,
    tz: &Tz,
) -> Result<()> {
    let step = step.unwrap_or(Step::Micros(if stop >= start {
        MICROS_PER_DAY
    } else {
        -MICROS_PER_DAY
    }));
    match step {
        Step::Micros(us) => {
            check_direction(start, stop, us)?;
            let count = if us == 0 {
                1
            } else {
                (i128::from(stop) - i128::from(start)) / i128::from(us) + 1
            };
            b.reserve(count)?;
            for i in 0..count {
                b.push((i128::from(start) + i * i128::from(us)) as i64);
            }
        }
        Step::Months(m) => by_months(b, start, stop, m, |k| {
            timestamp_plus_months(start, k, ntz, tz)
        })?,
        Step::Int(_) => {
            return Err(EngineError::Internal(
                "timestamp sequence with an integer step".into(),
            ));
        }
    }
    b.end_row();
    Ok(())
}

/// The elements `nth(i * months)` for i = 0, 1, ... up to `stop` (months from the start, so
/// a clamped day of month does not drift: Jan 31, Feb 29, Mar 31).
fn by_months(
    b: &mut Builder,
    start: i64,
    stop: i64,
    months: i32,
    nth: impl Fn(i32) -> Option<i64>,
) -> Result<()> {
    let forward = stop >= start;
    if months == 0 || (months > 0) != forward {
        return Err(illegal(start, stop, months));
    }
    let mut i: i32 = 0;
    loop {
        let k = i.checked_mul(months).ok_or_else(super::math::overflow)?;
        let v = nth(k).ok_or_else(super::math::overflow)?;
        if (forward && v > stop) || (!forward && v < stop) {
            return Ok(());
        }
        b.reserve(1)?;
        b.push(v);
        i += 1;
    }
}

/// The list being built: every element as i64, cast to the element type at the end.
struct Builder {
    element: DataType,
    values: Vec<i64>,
    offsets: Vec<i32>,
    valid: Vec<bool>,
}

impl Builder {
    fn new(element: DataType, rows: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Builder {
            element,
            values: Vec::new(),
            offsets,
            valid: Vec::with_capacity(rows),
        }
    }

    /// Room for `more` elements, or Spark's size-limit error (per row and per batch, whose
    /// offsets are 32-bit).
    fn reserve(&mut self, more: i128) -> Result<()> {
        let row_start = self.offsets.last().copied().unwrap_or(0) as usize;
        let in_row = (self.values.len() - row_start) as i128 + more;
        let total = self.values.len() as i128 + more;
        if in_row > i128::from(MAX_ELEMENTS) || total > i128::from(i32::MAX) {
            return Err(EngineError::execution(
                "COLLECTION_SIZE_LIMIT_EXCEEDED.PARAMETER",
                format!(
                    "Can't create array with {in_row} elements which exceeding the array size limit {MAX_ELEMENTS}, the value of parameter(s) `count` is invalid. SQLSTATE: 54000"
                ),
            ));
        }
        self.values.reserve(usize::try_from(more).unwrap_or(0));
        Ok(())
    }

    fn push(&mut self, v: i64) {
        self.values.push(v);
    }

    fn end_row(&mut self) {
        // `reserve` keeps the length within i32.
        self.offsets
            .push(i32::try_from(self.values.len()).unwrap_or(i32::MAX));
        self.valid.push(true);
    }

    fn null(&mut self) {
        self.offsets.push(self.offsets.last().copied().unwrap_or(0));
        self.valid.push(false);
    }

    fn finish(self) -> Result<ArrayRef> {
        let values: ArrayRef = Arc::new(PrimitiveArray::<Int64Type>::from(self.values));
        // Values lie between the row's bounds, which have the element type: the cast is exact.
        let values = match &self.element {
            DataType::Date32 => arrow::compute::cast(
                &arrow::compute::cast(&values, &DataType::Int32)?,
                &DataType::Date32,
            )?,
            t => arrow::compute::cast(&values, t)?,
        };
        let field = Arc::new(Field::new("element", self.element, true));
        let nulls = arrow::buffer::NullBuffer::from(self.valid);
        let list = ListArray::try_new(
            field,
            OffsetBuffer::new(self.offsets.into()),
            values,
            Some(nulls),
        )?;
        Ok(Arc::new(list))
    }
}
