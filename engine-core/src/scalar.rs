//! A single typed value: literals in plans, constants after folding, aggregate results.

use std::fmt;
use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array,
    DurationMicrosecondArray, Float32Array, Float64Array, Int8Array, Int16Array, Int32Array,
    Int64Array, IntervalYearMonthArray, NullArray, StringArray, TimestampMicrosecondArray,
    new_null_array,
};
use arrow::datatypes::{DataType, IntervalUnit, TimeUnit};

use crate::interval::fields::{IntervalFields, day_time_text, year_month_text};
use crate::interval::literal::IntervalLiteral;

/// One value of a Spark type; `None` inside a variant is a typed NULL.
#[derive(Debug, Clone)]
pub enum ScalarValue {
    /// The untyped NULL literal (`VOID`).
    Null,
    /// BOOLEAN
    Boolean(Option<bool>),
    /// TINYINT
    Int8(Option<i8>),
    /// SMALLINT
    Int16(Option<i16>),
    /// INT
    Int32(Option<i32>),
    /// BIGINT
    Int64(Option<i64>),
    /// FLOAT
    Float32(Option<f32>),
    /// DOUBLE
    Float64(Option<f64>),
    /// DECIMAL(precision, scale), unscaled value
    Decimal128(Option<i128>, u8, i8),
    /// STRING
    Utf8(Option<String>),
    /// BINARY
    Binary(Option<Vec<u8>>),
    /// DATE: days since the epoch
    Date32(Option<i32>),
    /// TIMESTAMP (zone `Some`) or TIMESTAMP_NTZ (`None`): microseconds since the epoch
    TimestampMicros(Option<i64>, Option<Arc<str>>),
    /// A day-time interval (`INTERVAL DAY TO SECOND`, Arrow `Duration(Microsecond)`):
    /// microseconds, and the fields a literal was written with (they name it).
    DayTimeInterval(Option<i64>, IntervalFields),
    /// A year-month interval (`INTERVAL YEAR TO MONTH`, Arrow `Interval(YearMonth)`):
    /// months, and the fields a literal was written with.
    YearMonthInterval(Option<i32>, IntervalFields),
    /// An array, struct or map value: a one-row Arrow array of that type.
    Nested(ArrayRef),
}

impl PartialEq for ScalarValue {
    fn eq(&self, other: &Self) -> bool {
        use ScalarValue::*;
        match (self, other) {
            (Null, Null) => true,
            (Boolean(a), Boolean(b)) => a == b,
            (Int8(a), Int8(b)) => a == b,
            (Int16(a), Int16(b)) => a == b,
            (Int32(a), Int32(b)) => a == b,
            (Int64(a), Int64(b)) => a == b,
            (Float32(a), Float32(b)) => a.map(f32::to_bits) == b.map(f32::to_bits),
            (Float64(a), Float64(b)) => a.map(f64::to_bits) == b.map(f64::to_bits),
            (Decimal128(a, p, s), Decimal128(b, q, t)) => a == b && p == q && s == t,
            (Utf8(a), Utf8(b)) => a == b,
            (Binary(a), Binary(b)) => a == b,
            (Date32(a), Date32(b)) => a == b,
            (TimestampMicros(a, x), TimestampMicros(b, y)) => a == b && x == y,
            (DayTimeInterval(a, f), DayTimeInterval(b, g)) => a == b && f == g,
            (YearMonthInterval(a, f), YearMonthInterval(b, g)) => a == b && f == g,
            (Nested(a), Nested(b)) => a.to_data() == b.to_data(),
            _ => false,
        }
    }
}

impl ScalarValue {
    /// The Arrow type of this value.
    pub fn data_type(&self) -> DataType {
        match self {
            ScalarValue::Null => DataType::Null,
            ScalarValue::Boolean(_) => DataType::Boolean,
            ScalarValue::Int8(_) => DataType::Int8,
            ScalarValue::Int16(_) => DataType::Int16,
            ScalarValue::Int32(_) => DataType::Int32,
            ScalarValue::Int64(_) => DataType::Int64,
            ScalarValue::Float32(_) => DataType::Float32,
            ScalarValue::Float64(_) => DataType::Float64,
            ScalarValue::Decimal128(_, p, s) => DataType::Decimal128(*p, *s),
            ScalarValue::Utf8(_) => DataType::Utf8,
            ScalarValue::Binary(_) => DataType::Binary,
            ScalarValue::Date32(_) => DataType::Date32,
            ScalarValue::TimestampMicros(_, tz) => {
                DataType::Timestamp(TimeUnit::Microsecond, tz.clone())
            }
            ScalarValue::DayTimeInterval(..) => DataType::Duration(TimeUnit::Microsecond),
            ScalarValue::YearMonthInterval(..) => DataType::Interval(IntervalUnit::YearMonth),
            ScalarValue::Nested(a) => a.data_type().clone(),
        }
    }

    /// True for NULL of any type.
    pub fn is_null(&self) -> bool {
        match self {
            ScalarValue::Null => true,
            ScalarValue::Boolean(v) => v.is_none(),
            ScalarValue::Int8(v) => v.is_none(),
            ScalarValue::Int16(v) => v.is_none(),
            ScalarValue::Int32(v) => v.is_none(),
            ScalarValue::Int64(v) => v.is_none(),
            ScalarValue::Float32(v) => v.is_none(),
            ScalarValue::Float64(v) => v.is_none(),
            ScalarValue::Decimal128(v, _, _) => v.is_none(),
            ScalarValue::Utf8(v) => v.is_none(),
            ScalarValue::Binary(v) => v.is_none(),
            ScalarValue::Date32(v) => v.is_none(),
            ScalarValue::TimestampMicros(v, _) => v.is_none(),
            ScalarValue::DayTimeInterval(v, _) => v.is_none(),
            ScalarValue::YearMonthInterval(v, _) => v.is_none(),
            ScalarValue::Nested(a) => a.is_null(0),
        }
    }

    /// A NULL of the given type.
    pub fn null_of(dt: &DataType) -> ScalarValue {
        match dt {
            DataType::Boolean => ScalarValue::Boolean(None),
            DataType::Int8 => ScalarValue::Int8(None),
            DataType::Int16 => ScalarValue::Int16(None),
            DataType::Int32 => ScalarValue::Int32(None),
            DataType::Int64 => ScalarValue::Int64(None),
            DataType::Float32 => ScalarValue::Float32(None),
            DataType::Float64 => ScalarValue::Float64(None),
            DataType::Decimal128(p, s) => ScalarValue::Decimal128(None, *p, *s),
            DataType::Utf8 => ScalarValue::Utf8(None),
            DataType::Binary => ScalarValue::Binary(None),
            DataType::Date32 => ScalarValue::Date32(None),
            DataType::Timestamp(TimeUnit::Microsecond, tz) => {
                ScalarValue::TimestampMicros(None, tz.clone())
            }
            DataType::Duration(TimeUnit::Microsecond) => {
                ScalarValue::DayTimeInterval(None, IntervalFields::DAY_TO_SECOND)
            }
            DataType::Interval(IntervalUnit::YearMonth) => {
                ScalarValue::YearMonthInterval(None, IntervalFields::YEAR_TO_MONTH)
            }
            DataType::Null => ScalarValue::Null,
            other => ScalarValue::Nested(new_null_array(other, 1)),
        }
    }

    /// The value repeated `n` times as an Arrow array.
    pub fn to_array(&self, n: usize) -> Result<ArrayRef> {
        // Constants are expanded once per batch on hot paths (`x * 1.1`): fill a buffer
        // for non-NULL fixed-width values and use a NULL array for NULLs, never a
        // `Vec<Option<_>>` per row.
        if self.is_null() {
            return Ok(new_null_array(&self.data_type(), n));
        }
        Ok(match self {
            ScalarValue::Null => Arc::new(NullArray::new(n)),
            ScalarValue::Boolean(v) => Arc::new(BooleanArray::from(vec![*v; n])),
            ScalarValue::Int8(Some(v)) => Arc::new(Int8Array::from_value(*v, n)),
            ScalarValue::Int16(Some(v)) => Arc::new(Int16Array::from_value(*v, n)),
            ScalarValue::Int32(Some(v)) => Arc::new(Int32Array::from_value(*v, n)),
            ScalarValue::Int64(Some(v)) => Arc::new(Int64Array::from_value(*v, n)),
            ScalarValue::Float32(Some(v)) => Arc::new(Float32Array::from_value(*v, n)),
            ScalarValue::Float64(Some(v)) => Arc::new(Float64Array::from_value(*v, n)),
            ScalarValue::Decimal128(Some(v), p, s) => {
                Arc::new(Decimal128Array::from_value(*v, n).with_precision_and_scale(*p, *s)?)
            }
            ScalarValue::Utf8(v) => Arc::new(StringArray::from(vec![v.as_deref(); n])),
            ScalarValue::Binary(v) => Arc::new(BinaryArray::from(vec![v.as_deref(); n])),
            ScalarValue::Date32(Some(v)) => Arc::new(Date32Array::from_value(*v, n)),
            ScalarValue::TimestampMicros(Some(v), tz) => {
                Arc::new(TimestampMicrosecondArray::from_value(*v, n).with_timezone_opt(tz.clone()))
            }
            ScalarValue::DayTimeInterval(Some(v), _) => {
                Arc::new(DurationMicrosecondArray::from_value(*v, n))
            }
            ScalarValue::YearMonthInterval(Some(v), _) => {
                Arc::new(IntervalYearMonthArray::from_value(*v, n))
            }
            ScalarValue::Nested(a) => {
                let indices = arrow::array::UInt32Array::from(vec![0u32; n]);
                arrow::compute::take(a.as_ref(), &indices, None)?
            }
            other => return Err(EngineError::Internal(format!("to_array of {other:?}"))),
        })
    }

    /// The value at `row` of `array`.
    pub fn try_from_array(array: &dyn Array, row: usize) -> Result<ScalarValue> {
        use arrow::array::AsArray;
        use arrow::datatypes as t;
        if row >= array.len() {
            return Err(EngineError::Internal(format!(
                "row {row} out of bounds for an array of {}",
                array.len()
            )));
        }
        let valid = array.is_valid(row);
        macro_rules! prim {
            ($variant:ident, $ty:ty) => {
                ScalarValue::$variant(valid.then(|| array.as_primitive::<$ty>().value(row)))
            };
        }
        Ok(match array.data_type() {
            DataType::Null => ScalarValue::Null,
            DataType::Boolean => ScalarValue::Boolean(valid.then(|| array.as_boolean().value(row))),
            DataType::Int8 => prim!(Int8, t::Int8Type),
            DataType::Int16 => prim!(Int16, t::Int16Type),
            DataType::Int32 => prim!(Int32, t::Int32Type),
            DataType::Int64 => prim!(Int64, t::Int64Type),
            DataType::Float32 => prim!(Float32, t::Float32Type),
            DataType::Float64 => prim!(Float64, t::Float64Type),
            DataType::Date32 => prim!(Date32, t::Date32Type),
            DataType::Decimal128(p, s) => ScalarValue::Decimal128(
                valid.then(|| array.as_primitive::<t::Decimal128Type>().value(row)),
                *p,
                *s,
            ),
            DataType::Timestamp(TimeUnit::Microsecond, tz) => ScalarValue::TimestampMicros(
                valid.then(|| {
                    array
                        .as_primitive::<t::TimestampMicrosecondType>()
                        .value(row)
                }),
                tz.clone(),
            ),
            DataType::Duration(TimeUnit::Microsecond) => ScalarValue::DayTimeInterval(
                valid.then(|| {
                    array
                        .as_primitive::<t::DurationMicrosecondType>()
                        .value(row)
                }),
                IntervalFields::DAY_TO_SECOND,
            ),
            DataType::Interval(IntervalUnit::YearMonth) => ScalarValue::YearMonthInterval(
                valid.then(|| array.as_primitive::<t::IntervalYearMonthType>().value(row)),
                IntervalFields::YEAR_TO_MONTH,
            ),
            DataType::Utf8 => {
                ScalarValue::Utf8(valid.then(|| array.as_string::<i32>().value(row).to_string()))
            }
            DataType::LargeUtf8 => {
                ScalarValue::Utf8(valid.then(|| array.as_string::<i64>().value(row).to_string()))
            }
            DataType::Binary => {
                ScalarValue::Binary(valid.then(|| array.as_binary::<i32>().value(row).to_vec()))
            }
            _ => ScalarValue::Nested(array.slice(row, 1)),
        })
    }
}

impl fmt::Display for ScalarValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_null() {
            return write!(f, "NULL");
        }
        match self {
            ScalarValue::Boolean(Some(v)) => write!(f, "{v}"),
            ScalarValue::Int8(Some(v)) => write!(f, "{v}"),
            ScalarValue::Int16(Some(v)) => write!(f, "{v}"),
            ScalarValue::Int32(Some(v)) => write!(f, "{v}"),
            ScalarValue::Int64(Some(v)) => write!(f, "{v}"),
            ScalarValue::Float32(Some(v)) => write!(f, "{}", crate::format::format_f32(*v)),
            ScalarValue::Float64(Some(v)) => write!(f, "{}", crate::format::format_f64(*v)),
            ScalarValue::Decimal128(Some(v), _, s) => {
                write!(f, "{}", crate::format::format_decimal(*v, *s))
            }
            ScalarValue::Utf8(Some(v)) => write!(f, "{v}"),
            ScalarValue::Binary(Some(v)) => write!(f, "X'{}'", hex(v)),
            ScalarValue::Date32(Some(v)) => write!(f, "DATE '{}'", crate::format::format_date(*v)),
            ScalarValue::TimestampMicros(Some(v), None) => {
                write!(
                    f,
                    "TIMESTAMP_NTZ '{}'",
                    crate::format::format_timestamp_utc(*v)
                )
            }
            ScalarValue::TimestampMicros(Some(v), _) => {
                write!(f, "TIMESTAMP '{}'", crate::format::format_timestamp_utc(*v))
            }
            ScalarValue::DayTimeInterval(Some(v), fields) => {
                write!(f, "{}", day_time_text(*v, *fields))
            }
            ScalarValue::YearMonthInterval(Some(v), fields) => {
                write!(f, "{}", year_month_text(*v, *fields))
            }
            // Nested values as `show` prints them (`{1, a}`, `[1, 2]`), times in UTC.
            ScalarValue::Nested(a) => write!(
                f,
                "{}",
                crate::format::value_to_string(a.as_ref(), 0, &chrono_tz::Tz::UTC)
                    .unwrap_or_else(|| "NULL".into())
            ),
            _ => write!(f, "NULL"),
        }
    }
}

impl From<IntervalLiteral> for ScalarValue {
    fn from(v: IntervalLiteral) -> Self {
        match v {
            IntervalLiteral::DayTime(us, f) => ScalarValue::DayTimeInterval(Some(us), f),
            IntervalLiteral::YearMonth(m, f) => ScalarValue::YearMonthInterval(Some(m), f),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Spark's `toSQLValue` of a value in error messages: `128S`, `1L`, `'abc'`, `1.5BD`.
pub fn sql_value(v: &ScalarValue) -> String {
    match v {
        ScalarValue::Int8(Some(x)) => format!("{x}Y"),
        ScalarValue::Int16(Some(x)) => format!("{x}S"),
        ScalarValue::Int64(Some(x)) => format!("{x}L"),
        ScalarValue::Float32(Some(x)) => {
            let t = crate::format::format_f32(*x);
            if x.is_finite() { format!("{t}F") } else { t }
        }
        ScalarValue::Float64(Some(x)) => {
            let t = crate::format::format_f64(*x);
            if x.is_finite() { format!("{t}D") } else { t }
        }
        ScalarValue::Decimal128(Some(x), _, s) => {
            format!("{}BD", crate::format::format_decimal(*x, *s))
        }
        ScalarValue::Utf8(Some(x)) => format!("'{}'", x.replace('\\', "\\\\").replace('\'', "\\'")),
        ScalarValue::Date32(Some(d)) => format!("DATE '{}'", crate::format::format_date(*d)),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_arrays() {
        let values = [
            ScalarValue::Int32(Some(7)),
            ScalarValue::Utf8(Some("x".into())),
            ScalarValue::Float64(None),
            ScalarValue::TimestampMicros(Some(5), Some(Arc::from("UTC"))),
            ScalarValue::Decimal128(Some(1234), 10, 2),
            ScalarValue::DayTimeInterval(Some(-5), IntervalFields::DAY_TO_SECOND),
            ScalarValue::YearMonthInterval(Some(14), IntervalFields::YEAR_TO_MONTH),
        ];
        for v in values {
            let a = v.to_array(3).unwrap();
            assert_eq!(a.len(), 3);
            assert_eq!(ScalarValue::try_from_array(a.as_ref(), 2).unwrap(), v);
        }
    }

    #[test]
    fn displays_like_spark_names() {
        assert_eq!(ScalarValue::Int32(Some(1)).to_string(), "1");
        assert_eq!(ScalarValue::Utf8(Some("a".into())).to_string(), "a");
        assert_eq!(ScalarValue::Null.to_string(), "NULL");
        assert_eq!(ScalarValue::Decimal128(Some(150), 3, 2).to_string(), "1.50");
    }
}
