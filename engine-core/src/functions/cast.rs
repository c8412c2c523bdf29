//! Spark 4's CAST rules over whole Arrow arrays: the kernel behind `CAST`, `try_cast`, the
//! implicit casts the analyzer inserts and the functions that convert text (`from_csv`).
//!
//! Three modes: ANSI (`spark.sql.ansi.enabled=true`) fails on malformed input
//! (`CAST_INVALID_INPUT`) and overflow (`CAST_OVERFLOW`, `NUMERIC_VALUE_OUT_OF_RANGE`);
//! legacy returns NULL for malformed input and wraps/truncates numbers like Java;
//! `try_cast` returns NULL for both. Strings are trimmed before parsing; text forms of
//! values come from [`crate::format`] (Java double text, timestamps in the session zone).

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, ArrowPrimitiveType, AsArray, BinaryArray, BooleanArray, Decimal128Array,
    GenericStringArray, ListArray, OffsetSizeTrait, PrimitiveArray, PrimitiveBuilder, StringArray,
    StringBuilder, StructArray, new_null_array,
};
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, TimeUnit, TimestampMicrosecondType,
};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone};
use chrono_tz::Tz;

use super::FunctionContext;
use super::decimal::{decimal_out_of_range, fits, pow10, rescale};
use crate::datetime_text::{self, local_to_micros};
use crate::expr::CastMode;
use crate::scalar::{ScalarValue, sql_value};
use crate::types::sql_type_name;
use crate::{EngineError, Result};

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// Spark's `CAST_INVALID_INPUT` for `value` (a string) cast to `to`.
fn invalid_input(value: &str, from: &DataType, to: &DataType) -> EngineError {
    EngineError::execution(
        "CAST_INVALID_INPUT",
        format!(
            "The value {} of the type \"{}\" cannot be cast to \"{}\" because it is malformed. Correct the value as per the syntax, or change its target type. Use `try_cast` to tolerate malformed input and return NULL instead. SQLSTATE: 22018",
            sql_value(&ScalarValue::Utf8(Some(value.to_string()))),
            sql_type_name(from),
            sql_type_name(to)
        ),
    )
}

/// Spark's `CAST_OVERFLOW` for `value` cast to `to`.
fn cast_overflow(value: ScalarValue, to: &DataType) -> EngineError {
    EngineError::execution(
        "CAST_OVERFLOW",
        format!(
            "The value {} of the type \"{}\" cannot be cast to \"{}\" due to an overflow. Use `try_cast` to tolerate overflow and return NULL instead. SQLSTATE: 22003",
            sql_value(&value),
            sql_type_name(&value.data_type()),
            sql_type_name(to)
        ),
    )
}

/// Why one value did not convert; only ANSI mode reports it, the others give NULL.
enum Failure {
    /// Malformed string input (`CAST_INVALID_INPUT`).
    Malformed,
    /// Any other error (overflow).
    Error(EngineError),
}

/// Converts every valid value of `a` with `f`; failures fail the cast in ANSI mode and are
/// NULL otherwise. `describe` renders a failing input for `CAST_INVALID_INPUT`.
fn map_values<'a, I, O>(
    len: usize,
    values: impl Iterator<Item = Option<I>>,
    mode: CastMode,
    f: impl Fn(I) -> std::result::Result<O::Native, Failure>,
    malformed: impl Fn(I) -> EngineError,
) -> Result<PrimitiveArray<O>>
where
    I: Copy + 'a,
    O: ArrowPrimitiveType,
{
    let mut b = PrimitiveBuilder::<O>::with_capacity(len);
    for v in values {
        match v {
            None => b.append_null(),
            Some(x) => match f(x) {
                Ok(y) => b.append_value(y),
                Err(e) if mode == CastMode::Ansi => {
                    return Err(match e {
                        Failure::Malformed => malformed(x),
                        Failure::Error(e) => e,
                    });
                }
                Err(_) => b.append_null(),
            },
        }
    }
    Ok(b.finish())
}

/// Casts a whole array to `to` with Spark's semantics.
pub fn cast_array(
    a: &ArrayRef,
    to: &DataType,
    mode: CastMode,
    ctx: &FunctionContext,
) -> Result<ArrayRef> {
    let from = a.data_type();
    if from == to {
        return Ok(a.clone());
    }
    match (from, to) {
        (DataType::Null, _) => Ok(new_null_array(to, a.len())),
        // Other units (e.g. from files) become microseconds first; the same instant with
        // another zone label needs no conversion.
        (DataType::Timestamp(unit, tz), _) if *unit != TimeUnit::Microsecond => {
            let micros =
                arrow::compute::cast(a, &DataType::Timestamp(TimeUnit::Microsecond, tz.clone()))?;
            cast_array(&micros, to, mode, ctx)
        }
        (DataType::Timestamp(_, Some(_)), DataType::Timestamp(TimeUnit::Microsecond, Some(tz))) => {
            let t = a.as_primitive::<TimestampMicrosecondType>().clone();
            Ok(Arc::new(t.with_timezone(tz.clone())))
        }
        (DataType::Date64, _) => {
            let days = arrow::compute::cast(a, &DataType::Date32)?;
            cast_array(&days, to, mode, ctx)
        }
        (_, DataType::Utf8) => to_string(a, ctx),
        (DataType::LargeUtf8 | DataType::Utf8View, _) => {
            let s = arrow::compute::cast(a, &DataType::Utf8)?;
            cast_array(&s, to, mode, ctx)
        }
        (DataType::Utf8, _) => from_string(a.as_string::<i32>(), to, mode, ctx),
        (DataType::Boolean, t) if is_numeric(t) => Ok(arrow::compute::cast(a, to)?),
        (f, DataType::Boolean) if is_numeric(f) => {
            if let DataType::Decimal128(_, _) = f {
                let d: &Decimal128Array = a.as_primitive();
                return Ok(Arc::new(BooleanArray::from_unary(d, |v| v != 0)));
            }
            Ok(arrow::compute::cast(a, to)?)
        }
        (f, t) if is_numeric(f) && is_numeric(t) => numeric_cast(a, to, mode),
        (DataType::Date32, DataType::Timestamp(_, tz)) => {
            let d = a.as_primitive::<Date32Type>();
            let out: PrimitiveArray<TimestampMicrosecondType> = match tz {
                Some(_) => map_values(
                    d.len(),
                    d.iter(),
                    mode,
                    |days| {
                        local_to_micros(&date_midnight(days)?, &ctx.time_zone)
                            .ok_or(Failure::Malformed)
                    },
                    |_| EngineError::Internal("date out of range".into()),
                )?,
                None => d.unary(|days| i64::from(days) * MICROS_PER_DAY),
            };
            Ok(Arc::new(out.with_timezone_opt(tz.clone())))
        }
        (DataType::Timestamp(TimeUnit::Microsecond, tz), DataType::Date32) => {
            let t = a.as_primitive::<TimestampMicrosecondType>();
            let out: PrimitiveArray<Date32Type> = match tz {
                Some(_) => t.unary(|us| {
                    let local = utc_to_local_micros(us, &ctx.time_zone);
                    local.div_euclid(MICROS_PER_DAY) as i32
                }),
                None => t.unary(|us| us.div_euclid(MICROS_PER_DAY) as i32),
            };
            Ok(Arc::new(out))
        }
        (DataType::Timestamp(TimeUnit::Microsecond, Some(_)), DataType::Timestamp(_, None)) => {
            let t = a.as_primitive::<TimestampMicrosecondType>();
            let out: PrimitiveArray<TimestampMicrosecondType> =
                t.unary(|us| utc_to_local_micros(us, &ctx.time_zone));
            Ok(Arc::new(out.with_timezone_opt(None::<Arc<str>>)))
        }
        (DataType::Timestamp(TimeUnit::Microsecond, None), DataType::Timestamp(_, Some(tz))) => {
            let t = a.as_primitive::<TimestampMicrosecondType>();
            let out: PrimitiveArray<TimestampMicrosecondType> = map_values(
                t.len(),
                t.iter(),
                mode,
                |us| {
                    let naive = micros_to_naive(us).ok_or(Failure::Malformed)?;
                    local_to_micros(&naive, &ctx.time_zone).ok_or(Failure::Malformed)
                },
                |_| EngineError::Internal("timestamp out of range".into()),
            )?;
            Ok(Arc::new(out.with_timezone(tz.clone())))
        }
        (DataType::Timestamp(TimeUnit::Microsecond, _), t) if is_numeric(t) => {
            let us = a.as_primitive::<TimestampMicrosecondType>();
            match t {
                DataType::Float64 | DataType::Float32 => {
                    let secs: PrimitiveArray<Float64Type> =
                        us.unary(|v| v as f64 / MICROS_PER_SECOND as f64);
                    let secs: ArrayRef = Arc::new(secs);
                    numeric_cast(&secs, to, mode)
                }
                _ => {
                    let secs: PrimitiveArray<Int64Type> =
                        us.unary(|v| v.div_euclid(MICROS_PER_SECOND));
                    let secs: ArrayRef = Arc::new(secs);
                    numeric_cast(&secs, to, mode)
                }
            }
        }
        (f, DataType::Timestamp(TimeUnit::Microsecond, tz)) if is_numeric(f) => {
            let out: PrimitiveArray<TimestampMicrosecondType> = match f {
                DataType::Float32 | DataType::Float64 | DataType::Decimal128(_, _) => {
                    let d = arrow::compute::cast(a, &DataType::Float64)?;
                    let d = d.as_primitive::<Float64Type>();
                    map_values(
                        d.len(),
                        d.iter(),
                        mode,
                        |v| {
                            let us = (v * MICROS_PER_SECOND as f64).trunc();
                            if v.is_finite() && (-9.2e18..9.2e18).contains(&us) {
                                Ok(us as i64)
                            } else {
                                Err(Failure::Error(cast_overflow(
                                    ScalarValue::Float64(Some(v)),
                                    to,
                                )))
                            }
                        },
                        |_| EngineError::Internal("numeric to timestamp".into()),
                    )?
                }
                _ => {
                    let l = arrow::compute::cast(a, &DataType::Int64)?;
                    let l = l.as_primitive::<Int64Type>();
                    map_values(
                        l.len(),
                        l.iter(),
                        mode,
                        |v| {
                            v.checked_mul(MICROS_PER_SECOND).ok_or_else(|| {
                                Failure::Error(cast_overflow(ScalarValue::Int64(Some(v)), to))
                            })
                        },
                        |_| EngineError::Internal("numeric to timestamp".into()),
                    )?
                }
            };
            Ok(Arc::new(out.with_timezone_opt(tz.clone())))
        }
        (DataType::Boolean, DataType::Timestamp(TimeUnit::Microsecond, tz)) => {
            let b = a.as_boolean();
            let out: PrimitiveArray<TimestampMicrosecondType> =
                b.iter().map(|v| v.map(i64::from)).collect();
            Ok(Arc::new(out.with_timezone_opt(tz.clone())))
        }
        // Legacy-only casts that Spark evaluates to NULL.
        (DataType::Date32, t) if is_numeric(t) => Ok(new_null_array(to, a.len())),
        (DataType::Date32 | DataType::Timestamp(_, _), DataType::Boolean) => {
            Ok(new_null_array(to, a.len()))
        }
        (f, DataType::Binary) if is_integral(f) => {
            let l = arrow::compute::cast(a, &DataType::Int64)?;
            let l = l.as_primitive::<Int64Type>();
            let width = match f {
                DataType::Int8 => 1,
                DataType::Int16 => 2,
                DataType::Int32 => 4,
                _ => 8,
            };
            let out: BinaryArray = l
                .iter()
                .map(|v| v.map(|v| v.to_be_bytes()[8 - width..].to_vec()))
                .collect();
            Ok(Arc::new(out))
        }
        (DataType::List(_), DataType::List(to_field)) => {
            let l = a.as_list::<i32>();
            let values = cast_array(l.values(), to_field.data_type(), mode, ctx)?;
            Ok(Arc::new(ListArray::try_new(
                to_field.clone(),
                l.offsets().clone(),
                values,
                l.nulls().cloned(),
            )?))
        }
        (DataType::Struct(from_fields), DataType::Struct(to_fields))
            if from_fields.len() == to_fields.len() =>
        {
            let s = a.as_struct();
            let columns = s
                .columns()
                .iter()
                .zip(to_fields.iter())
                .map(|(c, f)| cast_array(c, f.data_type(), mode, ctx))
                .collect::<Result<Vec<_>>>()?;
            // The target's fields exactly, so the array has the declared type.
            Ok(Arc::new(StructArray::try_new(
                to_fields.clone(),
                columns,
                s.nulls().cloned(),
            )?))
        }
        (DataType::Map(_, _), DataType::Map(to_entries, ordered)) => {
            let m = a.as_map();
            let entries: ArrayRef = Arc::new(m.entries().clone());
            let entries = cast_array(&entries, to_entries.data_type(), mode, ctx)?;
            Ok(Arc::new(arrow::array::MapArray::try_new(
                to_entries.clone(),
                m.offsets().clone(),
                entries.as_struct().clone(),
                m.nulls().cloned(),
                *ordered,
            )?))
        }
        _ => Err(EngineError::analysis(
            "DATATYPE_MISMATCH.CAST_WITHOUT_SUGGESTION",
            format!(
                "Cannot resolve \"CAST(... AS {})\" due to data type mismatch: cannot cast \"{}\" to \"{}\". SQLSTATE: 42K09",
                sql_type_name(to),
                sql_type_name(from),
                sql_type_name(to)
            ),
        )),
    }
}

fn is_integral(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64
    )
}

fn is_numeric(t: &DataType) -> bool {
    crate::types::is_numeric(t)
}

// ---------------------------------------------------------------------------------------
// numbers

/// Range of an integral target type.
fn int_range(t: &DataType) -> (i64, i64) {
    match t {
        DataType::Int8 => (i8::MIN.into(), i8::MAX.into()),
        DataType::Int16 => (i16::MIN.into(), i16::MAX.into()),
        DataType::Int32 => (i32::MIN.into(), i32::MAX.into()),
        _ => (i64::MIN, i64::MAX),
    }
}

/// An `i64` as the integral array type `to`, narrowing with Java's wrap-around.
fn longs_to(a: PrimitiveArray<Int64Type>, to: &DataType) -> Result<ArrayRef> {
    Ok(match to {
        DataType::Int8 => Arc::new(a.unary::<_, Int8Type>(|v| v as i8)),
        DataType::Int16 => Arc::new(a.unary::<_, Int16Type>(|v| v as i16)),
        DataType::Int32 => Arc::new(a.unary::<_, Int32Type>(|v| v as i32)),
        _ => Arc::new(a),
    })
}

fn scalar_of(t: &DataType, a: &ArrayRef, i: usize) -> ScalarValue {
    let _ = t;
    ScalarValue::try_from_array(a.as_ref(), i).unwrap_or(ScalarValue::Null)
}

fn numeric_cast(a: &ArrayRef, to: &DataType, mode: CastMode) -> Result<ArrayRef> {
    let from = a.data_type().clone();
    // Legacy casts wrap/saturate like Java; ANSI fails and try_cast gives NULL.
    let wrap = mode == CastMode::Legacy;
    match (&from, to) {
        // Widening integers and anything to floating point: exact or IEEE rounding.
        (f, t) if is_integral(f) && is_integral(t) => {
            let (lo, hi) = int_range(to);
            let l = arrow::compute::cast(a, &DataType::Int64)?;
            let l = l.as_primitive::<Int64Type>().clone();
            if int_range(&from).0 >= lo {
                return Ok(arrow::compute::cast(a, to)?);
            }
            let out: PrimitiveArray<Int64Type> = map_values(
                l.len(),
                l.iter().enumerate().map(|(i, v)| v.map(|v| (i, v))),
                mode,
                |(i, v)| {
                    if (lo..=hi).contains(&v) {
                        Ok(v)
                    } else if !wrap {
                        Err(Failure::Error(cast_overflow(scalar_of(&from, a, i), to)))
                    } else {
                        Ok(v)
                    }
                },
                |_| EngineError::Internal("integer cast".into()),
            )?;
            longs_to(out, to)
        }
        (_, DataType::Float32 | DataType::Float64) => Ok(arrow::compute::cast(a, to)?),
        (DataType::Float32 | DataType::Float64, t) if is_integral(t) => {
            let d = arrow::compute::cast(a, &DataType::Float64)?;
            let d = d.as_primitive::<Float64Type>();
            let (lo, hi) = int_range(to);
            let out: PrimitiveArray<Int64Type> = map_values(
                d.len(),
                d.iter().enumerate().map(|(i, v)| v.map(|v| (i, v))),
                mode,
                |(i, v)| {
                    let t = v.trunc();
                    if t >= lo as f64
                        && t <= hi as f64
                        && !(to == &DataType::Int64 && t >= 9.223_372_036_854_776e18)
                    {
                        Ok(t as i64)
                    } else if !wrap {
                        Err(Failure::Error(cast_overflow(scalar_of(&from, a, i), to)))
                    } else {
                        // Java: (int)/(long) saturate (NaN is 0); byte/short go through int.
                        Ok(match to {
                            DataType::Int64 => v as i64,
                            _ => i64::from(v as i32),
                        })
                    }
                },
                |_| EngineError::Internal("float cast".into()),
            )?;
            longs_to(out, to)
        }
        (DataType::Decimal128(_, s), t) if is_integral(t) => {
            let d: &Decimal128Array = a.as_primitive();
            let div = pow10(*s as u32).unwrap_or(1);
            let (lo, hi) = int_range(to);
            let out: PrimitiveArray<Int64Type> = map_values(
                d.len(),
                d.iter().enumerate().map(|(i, v)| v.map(|v| (i, v))),
                mode,
                |(i, v)| {
                    let t = v / div;
                    if t >= i128::from(lo) && t <= i128::from(hi) {
                        Ok(t as i64)
                    } else if !wrap {
                        Err(Failure::Error(cast_overflow(scalar_of(&from, a, i), to)))
                    } else {
                        Ok(t as i64)
                    }
                },
                |_| EngineError::Internal("decimal cast".into()),
            )?;
            longs_to(out, to)
        }
        (_, DataType::Decimal128(p, s)) => {
            let (p, s) = (*p, *s);
            let out: PrimitiveArray<Decimal128Type> = match &from {
                DataType::Decimal128(_, fs) => {
                    let d: &Decimal128Array = a.as_primitive();
                    let fs = *fs;
                    map_values(
                        d.len(),
                        d.iter(),
                        mode,
                        |v| match rescale(v, fs, s) {
                            Some(r) if fits(r, p) => Ok(r),
                            _ => Err(Failure::Error(decimal_out_of_range(Some(v), fs, p, s))),
                        },
                        |_| EngineError::Internal("decimal cast".into()),
                    )?
                }
                DataType::Float32 | DataType::Float64 => {
                    let d = arrow::compute::cast(a, &DataType::Float64)?;
                    let d = d.as_primitive::<Float64Type>();
                    let f32_source = from == DataType::Float32;
                    map_values(
                        d.len(),
                        d.iter(),
                        mode,
                        |v| {
                            // Spark goes through the shortest decimal text of the value.
                            let text = if f32_source {
                                format!("{}", v as f32)
                            } else {
                                format!("{v}")
                            };
                            let Some((u, sc)) = parse_decimal(&text) else {
                                // NaN and infinities have no decimal value.
                                return Err(Failure::Error(cast_overflow(
                                    ScalarValue::Float64(Some(v)),
                                    to,
                                )));
                            };
                            match rescale(u, sc, s) {
                                Some(r) if fits(r, p) => Ok(r),
                                _ => Err(Failure::Error(decimal_out_of_range(Some(u), sc, p, s))),
                            }
                        },
                        |_| EngineError::Internal("float to decimal".into()),
                    )?
                }
                _ => {
                    let l = arrow::compute::cast(a, &DataType::Int64)?;
                    let l = l.as_primitive::<Int64Type>();
                    map_values(
                        l.len(),
                        l.iter(),
                        mode,
                        |v| match rescale(i128::from(v), 0, s) {
                            Some(r) if fits(r, p) => Ok(r),
                            _ => Err(Failure::Error(decimal_out_of_range(
                                Some(i128::from(v)),
                                0,
                                p,
                                s,
                            ))),
                        },
                        |_| EngineError::Internal("integer to decimal".into()),
                    )?
                }
            };
            Ok(Arc::new(out.with_precision_and_scale(p, s)?))
        }
        _ => Ok(arrow::compute::cast(a, to)?),
    }
}

// ---------------------------------------------------------------------------------------
// strings -> values

/// Spark trims ASCII whitespace and control characters (`UTF8String.trimAll`).
fn trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// Parses an integer as Spark's `UTF8String.toLong`; with `allow_fraction` (legacy casts) a
/// fractional part of digits is accepted and dropped.
fn parse_long(s: &str, allow_fraction: bool) -> Option<i64> {
    let bytes = s.as_bytes();
    let (neg, digits) = match bytes.first()? {
        b'-' => (true, &bytes[1..]),
        b'+' => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    let (int_part, frac) = match digits.iter().position(|b| *b == b'.') {
        Some(i) => (&digits[..i], Some(&digits[i + 1..])),
        None => (digits, None),
    };
    if let Some(frac) = frac
        && (!allow_fraction || !frac.iter().all(u8::is_ascii_digit))
    {
        return None;
    }
    if int_part.is_empty() && frac.is_none_or(|f| f.is_empty()) {
        return None;
    }
    let mut v: i64 = 0;
    for b in int_part {
        if !b.is_ascii_digit() {
            return None;
        }
        let d = i64::from(b - b'0');
        // Accumulate negatively so i64::MIN parses.
        v = v.checked_mul(10)?.checked_sub(d)?;
    }
    if neg { Some(v) } else { v.checked_neg() }
}

/// Parses a double as Spark does: Java's `Double.parseDouble` plus `inf`/`infinity`/`nan`
/// spellings (case-insensitive); a trailing `d`/`f` type suffix is accepted.
fn parse_double(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => return Some(f64::INFINITY),
        "-inf" | "-infinity" => return Some(f64::NEG_INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    let body = lower
        .strip_suffix(['d', 'f'])
        .filter(|b| b.ends_with(|c: char| c.is_ascii_digit() || c == '.'))
        .unwrap_or(&lower);
    // Rust also accepts `inf`/`nan` words with signs in odd places; Java only digits.
    if !body
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-'))
    {
        return None;
    }
    body.parse::<f64>().ok()
}

/// Parses decimal text (`-12.50`, `1e3`, `.5`) into an unscaled value and its scale.
pub(crate) fn parse_decimal(s: &str) -> Option<(i128, i8)> {
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (neg, m) = match mantissa.as_bytes().first()? {
        b'-' => (true, &mantissa[1..]),
        b'+' => (false, &mantissa[1..]),
        _ => (false, mantissa),
    };
    let (int_part, frac) = m.split_once('.').unwrap_or((m, ""));
    if int_part.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v: i128 = 0;
    for b in int_part.bytes().chain(frac.bytes()) {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    // Checked: the exponent is the user's (`1e-2147483648`).
    let mut scale = i32::try_from(frac.len()).ok()?.checked_sub(exp)?;
    if scale < 0 {
        v = v.checked_mul(pow10((-scale) as u32)?)?;
        scale = 0;
    }
    // Keep scales representable; extra fractional digits are rounded away.
    if scale > 38 {
        let drop = scale - 38;
        v = super::decimal::div_half_up(v, pow10(drop as u32)?)?;
        scale = 38;
    }
    Some((if neg { -v } else { v }, scale as i8))
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "t" | "true" | "y" | "yes" | "1" => Some(true),
        "f" | "false" | "n" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// Midnight of `days` since the epoch.
fn date_midnight(days: i32) -> std::result::Result<NaiveDateTime, Failure> {
    NaiveDate::from_num_days_from_ce_opt(days.checked_add(719_163).ok_or(Failure::Malformed)?)
        .map(|d| d.and_time(NaiveTime::MIN))
        .ok_or(Failure::Malformed)
}

fn micros_to_naive(us: i64) -> Option<NaiveDateTime> {
    chrono::DateTime::from_timestamp_micros(us).map(|d| d.naive_utc())
}

/// UTC microseconds as wall-clock microseconds in `tz`.
fn utc_to_local_micros(us: i64, tz: &Tz) -> i64 {
    match micros_to_naive(us) {
        Some(n) => {
            let offset = tz.offset_from_utc_datetime(&n).fix().local_minus_utc();
            us + i64::from(offset) * MICROS_PER_SECOND
        }
        None => us,
    }
}

fn from_string(
    a: &GenericStringArray<i32>,
    to: &DataType,
    mode: CastMode,
    ctx: &FunctionContext,
) -> Result<ArrayRef> {
    let from = DataType::Utf8;
    let bad = |s: &str| invalid_input(s, &from, to);
    let legacy = mode != CastMode::Ansi;
    macro_rules! ints {
        ($t:ty) => {{
            let (lo, hi) = int_range(to);
            let out: PrimitiveArray<$t> = map_values(
                a.len(),
                a.iter(),
                mode,
                |s| match parse_long(trim(s), legacy) {
                    Some(v) if (lo..=hi).contains(&v) => {
                        Ok(v as <$t as ArrowPrimitiveType>::Native)
                    }
                    _ => Err(Failure::Malformed),
                },
                bad,
            )?;
            Ok(Arc::new(out) as ArrayRef)
        }};
    }
    match to {
        DataType::Int8 => ints!(Int8Type),
        DataType::Int16 => ints!(Int16Type),
        DataType::Int32 => ints!(Int32Type),
        DataType::Int64 => ints!(Int64Type),
        DataType::Float64 => {
            let out: PrimitiveArray<Float64Type> = map_values(
                a.len(),
                a.iter(),
                mode,
                |s| parse_double(trim(s)).ok_or(Failure::Malformed),
                bad,
            )?;
            Ok(Arc::new(out))
        }
        DataType::Float32 => {
            let out: PrimitiveArray<Float32Type> = map_values(
                a.len(),
                a.iter(),
                mode,
                |s| {
                    // Parse straight to f32 so rounding matches Java's Float.parseFloat.
                    let t = trim(s);
                    parse_double(t)
                        .map(|d| {
                            if d.is_finite() {
                                t.trim_end_matches(['d', 'f', 'D', 'F'])
                                    .parse::<f32>()
                                    .unwrap_or(d as f32)
                            } else {
                                d as f32
                            }
                        })
                        .ok_or(Failure::Malformed)
                },
                bad,
            )?;
            Ok(Arc::new(out))
        }
        DataType::Decimal128(p, s) => {
            let (p, s) = (*p, *s);
            let out: PrimitiveArray<Decimal128Type> = map_values(
                a.len(),
                a.iter(),
                mode,
                |text| {
                    let (u, sc) = parse_decimal(trim(text)).ok_or(Failure::Malformed)?;
                    match rescale(u, sc, s) {
                        Some(r) if fits(r, p) => Ok(r),
                        _ => Err(Failure::Error(decimal_out_of_range(Some(u), sc, p, s))),
                    }
                },
                bad,
            )?;
            Ok(Arc::new(out.with_precision_and_scale(p, s)?))
        }
        DataType::Boolean => {
            let mut b = arrow::array::BooleanBuilder::with_capacity(a.len());
            for v in a.iter() {
                match v {
                    None => b.append_null(),
                    Some(s) => match parse_bool(trim(s)) {
                        Some(x) => b.append_value(x),
                        None if mode == CastMode::Ansi => return Err(bad(s)),
                        None => b.append_null(),
                    },
                }
            }
            Ok(Arc::new(b.finish()))
        }
        DataType::Date32 => {
            let out: PrimitiveArray<Date32Type> = map_values(
                a.len(),
                a.iter(),
                mode,
                |s| datetime_text::parse_date(s).ok_or(Failure::Malformed),
                bad,
            )?;
            Ok(Arc::new(out))
        }
        DataType::Timestamp(TimeUnit::Microsecond, tz) => {
            let ntz = tz.is_none();
            let out: PrimitiveArray<TimestampMicrosecondType> = map_values(
                a.len(),
                a.iter(),
                mode,
                |s| {
                    // A time alone is on the query's current date, as `current_date()`.
                    if ntz {
                        datetime_text::parse_timestamp_ntz(s, true)
                    } else {
                        datetime_text::parse_timestamp(s, &ctx.time_zone, ctx.query_start_micros)
                    }
                    .ok_or(Failure::Malformed)
                },
                bad,
            )?;
            Ok(Arc::new(out.with_timezone_opt(tz.clone())))
        }
        DataType::Binary => Ok(arrow::compute::cast(a, to)?),
        other => Err(EngineError::analysis(
            "DATATYPE_MISMATCH.CAST_WITHOUT_SUGGESTION",
            format!(
                "Cannot resolve \"CAST(... AS {0})\" due to data type mismatch: cannot cast \"STRING\" to \"{0}\". SQLSTATE: 42K09",
                sql_type_name(other)
            ),
        )),
    }
}

// ---------------------------------------------------------------------------------------
// values -> strings

/// Builds a string array from a per-value formatter over a primitive array.
fn format_primitive<T: ArrowPrimitiveType>(
    a: &PrimitiveArray<T>,
    f: impl Fn(T::Native) -> String,
) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(a.len(), a.len() * 8);
    for v in a.iter() {
        match v {
            Some(v) => b.append_value(f(v)),
            None => b.append_null(),
        }
    }
    Arc::new(b.finish())
}

fn to_string(a: &ArrayRef, ctx: &FunctionContext) -> Result<ArrayRef> {
    Ok(match a.data_type() {
        DataType::Float64 => {
            format_primitive(a.as_primitive::<Float64Type>(), crate::format::format_f64)
        }
        DataType::Float32 => {
            format_primitive(a.as_primitive::<Float32Type>(), crate::format::format_f32)
        }
        DataType::Decimal128(_, s) => {
            let s = *s;
            format_primitive(a.as_primitive::<Decimal128Type>(), |v| {
                crate::format::format_decimal(v, s)
            })
        }
        DataType::Date32 => {
            format_primitive(a.as_primitive::<Date32Type>(), crate::format::format_date)
        }
        DataType::Timestamp(TimeUnit::Microsecond, Some(_)) => {
            let tz = ctx.time_zone;
            format_primitive(a.as_primitive::<TimestampMicrosecondType>(), |v| {
                crate::format::format_timestamp(v, &tz)
            })
        }
        DataType::Timestamp(TimeUnit::Microsecond, None) => format_primitive(
            a.as_primitive::<TimestampMicrosecondType>(),
            crate::format::format_timestamp_ntz,
        ),
        DataType::Binary => {
            let b = a.as_binary::<i32>();
            // Valid UTF-8 (the usual case, e.g. Kafka values holding JSON) keeps its buffers:
            // one check over the whole array, no copy. Otherwise invalid sequences become
            // U+FFFD row by row.
            match StringArray::try_from_binary(b.clone()) {
                Ok(s) => Arc::new(s),
                Err(_) => {
                    let out: StringArray =
                        b.iter().map(|v| v.map(String::from_utf8_lossy)).collect();
                    Arc::new(out)
                }
            }
        }
        DataType::Duration(TimeUnit::Microsecond) => format_primitive(
            a.as_primitive::<arrow::datatypes::DurationMicrosecondType>(),
            |v| {
                crate::interval::fields::day_time_text(
                    v,
                    crate::interval::fields::IntervalFields::DAY_TO_SECOND,
                )
            },
        ),
        DataType::Interval(arrow::datatypes::IntervalUnit::YearMonth) => format_primitive(
            a.as_primitive::<arrow::datatypes::IntervalYearMonthType>(),
            |v| {
                crate::interval::fields::year_month_text(
                    v,
                    crate::interval::fields::IntervalFields::YEAR_TO_MONTH,
                )
            },
        ),
        DataType::LargeUtf8 | DataType::Utf8View => arrow::compute::cast(a, &DataType::Utf8)?,
        DataType::List(_) => {
            let l = a.as_list::<i32>();
            nested_to_string(l, ctx)?
        }
        DataType::Struct(_) => {
            let s = a.as_struct();
            let cols = s
                .columns()
                .iter()
                .map(|c| to_string(c, ctx))
                .collect::<Result<Vec<_>>>()?;
            let mut b = StringBuilder::new();
            for i in 0..s.len() {
                if s.is_null(i) {
                    b.append_null();
                    continue;
                }
                let parts: Vec<&str> = cols
                    .iter()
                    .map(|c| {
                        let c = c.as_string::<i32>();
                        if c.is_null(i) { "null" } else { c.value(i) }
                    })
                    .collect();
                b.append_value(format!("{{{}}}", parts.join(", ")));
            }
            Arc::new(b.finish())
        }
        DataType::Map(_, _) => {
            let m = a.as_map();
            let keys = to_string(m.keys(), ctx)?;
            let values = to_string(m.values(), ctx)?;
            let (keys, values) = (keys.as_string::<i32>(), values.as_string::<i32>());
            let offsets = m.value_offsets();
            let mut b = StringBuilder::new();
            for i in 0..m.len() {
                if m.is_null(i) {
                    b.append_null();
                    continue;
                }
                let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
                let parts: Vec<String> = (start..end)
                    .map(|j| {
                        let v = if values.is_null(j) {
                            "null"
                        } else {
                            values.value(j)
                        };
                        format!("{} -> {v}", keys.value(j))
                    })
                    .collect();
                b.append_value(format!("{{{}}}", parts.join(", ")));
            }
            Arc::new(b.finish())
        }
        // Integers and booleans: Arrow's text is Spark's.
        _ => arrow::compute::cast(a, &DataType::Utf8)?,
    })
}

/// `[1, 2, null]` like Spark's array-to-string cast.
fn nested_to_string<O: OffsetSizeTrait>(
    l: &arrow::array::GenericListArray<O>,
    ctx: &FunctionContext,
) -> Result<ArrayRef> {
    let values = to_string(l.values(), ctx)?;
    let values = values.as_string::<i32>();
    let offsets = l.value_offsets();
    let mut b = StringBuilder::new();
    for i in 0..l.len() {
        if l.is_null(i) {
            b.append_null();
            continue;
        }
        let (start, end) = (offsets[i].as_usize(), offsets[i + 1].as_usize());
        let parts: Vec<&str> = (start..end)
            .map(|j| {
                if values.is_null(j) {
                    "null"
                } else {
                    values.value(j)
                }
            })
            .collect();
        b.append_value(format!("[{}]", parts.join(", ")));
    }
    Ok(Arc::new(b.finish()))
}
