//! `date_part(field, source)` / `datepart` and so `EXTRACT(field FROM source)`: one field
//! of a DATE or TIMESTAMP in the session time zone, with Spark's field names and synonyms
//! (`YEAR`/`Y`/`YRS`, `DOW`, `DAYOFWEEK_ISO`, `SECOND` with its fraction as
//! `DECIMAL(8, 6)`, ...).
//!
//! The result type depends on the field, which must be a literal: the analyzer builds the
//! function with [`date_part_function`] (through `collection::specialize`); the registry
//! entry only reports that the field is not a literal.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Decimal128Array, Int32Array};
use arrow::datatypes::{DataType, Date32Type, TimeUnit, TimestampMicrosecondType};
use chrono::{Datelike, NaiveDateTime, Timelike};

use super::datetime::local_micros;
use super::string::{rows, wrap};
use super::{FunctionContext, ScalarFunction, unexpected_input_type};
use crate::expr::Expr;
use crate::expr::columnar::ColumnarValue;
use crate::scalar::ScalarValue;
use crate::types::{is_string, timestamp_type};
use crate::{EngineError, Result};

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// A field `date_part` can extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The calendar year.
    Year,
    /// The ISO 8601 week-numbering year.
    YearOfWeek,
    /// 1 to 4.
    Quarter,
    /// 1 to 12.
    Month,
    /// The ISO 8601 week of the year.
    Week,
    /// The day of the month.
    Day,
    /// 1 (Sunday) to 7 (Saturday).
    DayOfWeek,
    /// 1 (Monday) to 7 (Sunday).
    DayOfWeekIso,
    /// 1 to 366.
    DayOfYear,
    /// 0 to 23.
    Hour,
    /// 0 to 59.
    Minute,
    /// Seconds with their fraction, `DECIMAL(8, 6)`.
    Second,
}

/// The field Spark calls `name` (any case, with its synonyms).
pub fn parse_field(name: &str) -> Option<Field> {
    Some(match name.to_ascii_uppercase().as_str() {
        "YEAR" | "Y" | "YEARS" | "YR" | "YRS" => Field::Year,
        "YEAROFWEEK" => Field::YearOfWeek,
        "QUARTER" | "QTR" => Field::Quarter,
        "MONTH" | "MON" | "MONS" | "MONTHS" => Field::Month,
        "WEEK" | "W" | "WEEKS" => Field::Week,
        "DAY" | "D" | "DAYS" => Field::Day,
        "DAYOFWEEK" | "DOW" => Field::DayOfWeek,
        "DAYOFWEEK_ISO" | "DOW_ISO" => Field::DayOfWeekIso,
        "DOY" => Field::DayOfYear,
        "HOUR" | "H" | "HOURS" | "HR" | "HRS" => Field::Hour,
        "MINUTE" | "M" | "MIN" | "MINS" | "MINUTES" => Field::Minute,
        "SECOND" | "S" | "SEC" | "SECONDS" | "SECS" => Field::Second,
        _ => return None,
    })
}

fn field_of(field: Field, t: &NaiveDateTime) -> i64 {
    let d = t.date();
    i64::from(match field {
        Field::Year => d.year(),
        Field::YearOfWeek => d.iso_week().year(),
        Field::Quarter => (d.month0() / 3 + 1) as i32,
        Field::Month => d.month() as i32,
        Field::Week => d.iso_week().week() as i32,
        Field::Day => d.day() as i32,
        Field::DayOfWeek => d.weekday().num_days_from_sunday() as i32 + 1,
        Field::DayOfWeekIso => d.weekday().number_from_monday() as i32,
        Field::DayOfYear => d.ordinal() as i32,
        Field::Hour => t.hour() as i32,
        Field::Minute => t.minute() as i32,
        Field::Second => {
            return i64::from(t.second()) * 1_000_000 + i64::from(t.nanosecond() / 1000);
        }
    })
}

/// `date_part` of one field (see the module docs).
#[derive(Debug)]
pub struct DatePart {
    name: &'static str,
    field: Option<Field>,
}

/// `date_part(field, _)` with its field already parsed.
pub fn date_part_function(name: &'static str, field: Field) -> Arc<dyn ScalarFunction> {
    Arc::new(DatePart {
        name,
        field: Some(field),
    })
}

/// The function object for `date_part(args)` once the field is known: `None` unless the
/// field is a string literal; Spark's `INVALID_EXTRACT_FIELD` for an unknown field.
pub fn specialize(name: &str, args: &[Expr]) -> Result<Option<Arc<dyn ScalarFunction>>> {
    // `EXTRACT(f FROM x)` is this function under its own name, so its column is named as
    // Spark names it: `extract(f FROM x)`.
    let fname: &'static str = if name.eq_ignore_ascii_case("datepart") {
        "datepart"
    } else if name.eq_ignore_ascii_case("extract") {
        "extract"
    } else {
        "date_part"
    };
    let [field, source] = args else {
        return Ok(None);
    };
    let Expr::Literal(ScalarValue::Utf8(Some(text))) = field.unalias() else {
        return Ok(None);
    };
    match parse_field(text) {
        Some(f) => Ok(Some(date_part_function(fname, f))),
        None => Err(EngineError::analysis(
            "INVALID_EXTRACT_FIELD",
            format!("Cannot extract `{text}` from \"{source}\". SQLSTATE: 42601"),
        )),
    }
}

impl ScalarFunction for DatePart {
    fn name(&self) -> &str {
        self.name
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        super::string::check_arity(self.name, args.len(), (2, 2))?;
        if self.field.is_none() {
            return Err(EngineError::analysis(
                "DATATYPE_MISMATCH.NON_FOLDABLE_INPUT",
                format!(
                    "Cannot resolve \"{}\" due to data type mismatch: the input `field` should be a foldable \"STRING\" expression. SQLSTATE: 42K09",
                    self.name
                ),
            ));
        }
        let source = match &args[1] {
            t @ (DataType::Date32 | DataType::Timestamp(TimeUnit::Microsecond, _)) => t.clone(),
            t if is_string(t) || *t == DataType::Null => timestamp_type(),
            t => {
                return Err(unexpected_input_type(
                    self.name,
                    2,
                    "(\"DATE\" or \"TIMESTAMP\")",
                    t,
                ));
            }
        };
        Ok(vec![args[0].clone(), source])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(if self.field == Some(Field::Second) {
            DataType::Decimal128(8, 6)
        } else {
            DataType::Int32
        })
    }

    fn invoke(
        &self,
        args: &[ColumnarValue],
        num_rows: usize,
        ctx: &FunctionContext,
    ) -> Result<ColumnarValue> {
        let Some(field) = self.field else {
            return Err(EngineError::Internal("date_part without a field".into()));
        };
        let rows = rows(args, num_rows);
        let a = args[1].to_array(rows)?;
        // Every source as wall-clock microseconds (as if UTC).
        let wall: Vec<Option<i64>> = match a.data_type() {
            DataType::Date32 => a
                .as_primitive::<Date32Type>()
                .iter()
                .map(|d| d.and_then(|d| i64::from(d).checked_mul(MICROS_PER_DAY)))
                .collect(),
            DataType::Timestamp(_, zone) => {
                let ntz = zone.is_none();
                a.as_primitive::<TimestampMicrosecondType>()
                    .iter()
                    .map(|m| {
                        m.map(|m| {
                            if ntz {
                                m
                            } else {
                                local_micros(m, &ctx.time_zone)
                            }
                        })
                    })
                    .collect()
            }
            _ => vec![None; rows],
        };
        let values = wall.into_iter().map(|m| {
            m.and_then(chrono::DateTime::from_timestamp_micros)
                .map(|t| field_of(field, &t.naive_utc()))
        });
        let out: ArrayRef = if field == Field::Second {
            Arc::new(
                values
                    .map(|v| v.map(i128::from))
                    .collect::<Decimal128Array>()
                    .with_precision_and_scale(8, 6)?,
            )
        } else {
            Arc::new(
                values
                    .map(|v| v.and_then(|v| i32::try_from(v).ok()))
                    .collect::<Int32Array>(),
            )
        };
        wrap(args, out)
    }
}

/// The registry entries: they only explain that the field must be a literal.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    ["date_part", "datepart", "extract"]
        .into_iter()
        .map(|name| {
            let f: Arc<dyn ScalarFunction> = Arc::new(DatePart { name, field: None });
            (name, f)
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_synonyms() {
        assert_eq!(parse_field("yrs"), Some(Field::Year));
        assert_eq!(parse_field("DOW_ISO"), Some(Field::DayOfWeekIso));
        assert_eq!(parse_field("foo"), None);
        let t = chrono::NaiveDate::from_ymd_opt(2024, 3, 3)
            .unwrap()
            .and_hms_micro_opt(1, 2, 3, 500_000)
            .unwrap();
        assert_eq!(field_of(Field::DayOfWeek, &t), 1);
        assert_eq!(field_of(Field::DayOfWeekIso, &t), 7);
        assert_eq!(field_of(Field::Second, &t), 3_500_000);
        assert_eq!(field_of(Field::Week, &t), 9);
    }
}
