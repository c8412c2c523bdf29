//! `ceil(x, scale)` and `floor(x, scale)` (Spark 3.3+'s `RoundCeil` / `RoundFloor`): the
//! value rounded up or down at `scale` digits after the point (negative: before it), as a
//! DECIMAL whose type follows from the input's and the scale's.
//!
//! The scale must be an INT literal (Spark's NON_FOLDABLE_ARGUMENT otherwise), which is why
//! the analyzer builds the function with it ([`with_scale`]): the result type depends on it.
//! Integers count as DECIMAL(3|5|10|20, 0), FLOAT as DECIMAL(14, 7) and DOUBLE as
//! DECIMAL(30, 15) for the type; a floating-point value is taken by its shortest decimal text
//! (Java's `BigDecimal(double)` via `Double.toString`), NaN and infinities give NULL.

use std::sync::Arc;

use arrow::array::{Array, AsArray, Decimal128Array};
use arrow::datatypes::{DataType, Decimal128Type, Float32Type, Float64Type};

use super::string::{arrays, check_arity, rows, wrap};
use super::{FunctionContext, ScalarFunction, unexpected_input_type};
use crate::expr::columnar::ColumnarValue;
use crate::{EngineError, Result};

/// `ceil`/`ceiling`/`floor` with a known scale.
#[derive(Debug)]
struct CeilFloorScale {
    name: &'static str,
    ceil: bool,
    scale: i32,
}

/// The function `name` (`ceil`, `ceiling` or `floor`) rounding at `scale`.
pub fn with_scale(name: &str, scale: i32) -> Option<Arc<dyn ScalarFunction>> {
    let (name, ceil) = match name {
        "ceil" => ("ceil", true),
        "ceiling" => ("ceiling", true),
        "floor" => ("floor", false),
        _ => return None,
    };
    Some(Arc::new(CeilFloorScale { name, ceil, scale }))
}

/// Spark's error when the scale is no INT literal.
pub fn non_foldable_scale(name: &str) -> EngineError {
    EngineError::analysis(
        "NON_FOLDABLE_ARGUMENT",
        format!(
            "The function `{name}` requires the parameter `scale` to be a foldable expression \
             of the type \"INT\", but the actual argument is a non-foldable. SQLSTATE: 42K08"
        ),
    )
}

/// The input's precision and scale as Spark types it for this function.
fn as_decimal(t: &DataType) -> Option<(u8, i8)> {
    Some(match t {
        DataType::Int8 => (3, 0),
        DataType::Int16 => (5, 0),
        DataType::Int32 => (10, 0),
        DataType::Int64 => (20, 0),
        DataType::Float32 => (14, 7),
        DataType::Float64 => (30, 15),
        DataType::Decimal128(p, s) => (*p, *s),
        _ => return None,
    })
}

fn result_type(p: u8, s: i8, t: i32) -> (u8, i8) {
    let integral = i32::from(p) - i32::from(s) + 1;
    if t < 0 {
        (integral.clamp(1, 38) as u8, 0)
    } else {
        let ns = i32::from(s).min(t);
        ((integral + ns).clamp(1, 38) as u8, ns as i8)
    }
}

/// `text` (a plain decimal numeral) as an unscaled value and its scale.
fn parse_plain(text: &str) -> Option<(i128, i32)> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = format!("{int}{frac}");
    Some((
        digits.parse::<i128>().ok()?,
        i32::try_from(frac.len()).ok()?,
    ))
}

fn pow10(e: u32) -> Option<i128> {
    10i128.checked_pow(e)
}

/// `v` (unscaled at `s`) rounded up or down at `t` digits, unscaled at `rs`.
fn round_at(v: i128, s: i32, t: i32, rs: i32, ceil: bool) -> Option<i128> {
    if t >= s {
        // Nothing to round: the value is scaled to the result scale.
        return v.checked_mul(pow10(u32::try_from(rs - s).ok()?)?);
    }
    // Scales come from a user's literal: any i32, so the arithmetic is done in i64.
    let drop = i64::from(s) - i64::from(t);
    let q = match u32::try_from(drop).ok().and_then(pow10) {
        Some(unit) => {
            let q = v.div_euclid(unit);
            if ceil && v.rem_euclid(unit) != 0 {
                q + 1
            } else {
                q
            }
        }
        // A unit beyond any DECIMAL: every value rounds to 0 or to one unit.
        None => match (v.signum(), ceil) {
            (1, true) => 1,
            (-1, false) => -1,
            _ => 0,
        },
    };
    // `q` counts units of 10^-t; the result scale is max(t, 0).
    if t < 0 && q != 0 {
        let up = u32::try_from(-i64::from(t)).ok()?;
        q.checked_mul(pow10(up)?)
    } else {
        Some(q)
    }
}

impl ScalarFunction for CeilFloorScale {
    fn name(&self) -> &str {
        self.name
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        check_arity(self.name, args.len(), (2, 2))?;
        let x = match &args[0] {
            DataType::Utf8 => DataType::Float64,
            DataType::Null => DataType::Decimal128(1, 0),
            t if as_decimal(t).is_some() => t.clone(),
            t => return Err(unexpected_input_type(self.name, 1, "\"NUMERIC\"", t)),
        };
        Ok(vec![x, DataType::Int32])
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let (p, s) = as_decimal(&args[0])
            .ok_or_else(|| unexpected_input_type(self.name, 1, "\"NUMERIC\"", &args[0]))?;
        let (rp, rs) = result_type(p, s, self.scale);
        Ok(DataType::Decimal128(rp, rs))
    }

    fn invoke(
        &self,
        args: &[ColumnarValue],
        num_rows: usize,
        ctx: &FunctionContext,
    ) -> Result<ColumnarValue> {
        let n = rows(args, num_rows);
        let a = arrays(args, n)?;
        let x = &a[0];
        let (p, s) = as_decimal(x.data_type())
            .ok_or_else(|| EngineError::Internal("ceil/floor input type".into()))?;
        let (rp, rs) = result_type(p, s, self.scale);
        let bound = pow10(u32::from(rp)).unwrap_or(i128::MAX);
        // Integer inputs widened once, not per row.
        let ints = match x.data_type() {
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
                Some(arrow::compute::cast(x, &DataType::Int64)?)
            }
            _ => None,
        };
        let value = |i: usize| -> Option<(i128, i32)> {
            if x.is_null(i) {
                return None;
            }
            match x.data_type() {
                DataType::Decimal128(_, s) => {
                    Some((x.as_primitive::<Decimal128Type>().value(i), i32::from(*s)))
                }
                DataType::Float64 => {
                    let v = x.as_primitive::<Float64Type>().value(i);
                    v.is_finite().then(|| parse_plain(&v.to_string())).flatten()
                }
                DataType::Float32 => {
                    let v = x.as_primitive::<Float32Type>().value(i);
                    v.is_finite().then(|| parse_plain(&v.to_string())).flatten()
                }
                _ => {
                    let v = ints.as_ref()?.as_primitive::<arrow::datatypes::Int64Type>();
                    Some((i128::from(v.value(i)), 0))
                }
            }
        };
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let Some((v, vs)) = value(i) else {
                out.push(None);
                continue;
            };
            match round_at(v, vs, self.scale, i32::from(rs), self.ceil) {
                Some(r) if r.abs() < bound => out.push(Some(r)),
                _ if !ctx.ansi => out.push(None),
                _ => {
                    return Err(EngineError::execution(
                        "NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION",
                        format!(
                            "The value of `{}` cannot be represented as Decimal({rp}, {rs}). \
                             If necessary set \"spark.sql.ansi.enabled\" to \"false\" to \
                             bypass this error, and return NULL instead. SQLSTATE: 22003",
                            self.name
                        ),
                    ));
                }
            }
        }
        let out = Decimal128Array::from(out).with_precision_and_scale(rp, rs)?;
        wrap(args, Arc::new(out))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn types_follow_sparks_round_ceil() {
        // PySpark 4.3's types for ceil(3.14159, 2), ceil(1234.5, -2), ceil(3.5D, 0),
        // ceil(5, -1), floor(15L, -1), ceil(CAST(3.2 AS FLOAT), 1), ceil(2.5, 100).
        assert_eq!(result_type(6, 5, 2), (4, 2));
        assert_eq!(result_type(5, 1, -2), (5, 0));
        assert_eq!(result_type(30, 15, 0), (16, 0));
        assert_eq!(result_type(10, 0, -1), (11, 0));
        assert_eq!(result_type(20, 0, -1), (21, 0));
        assert_eq!(result_type(14, 7, 1), (9, 1));
        assert_eq!(result_type(2, 1, 100), (3, 1));
    }

    #[test]
    fn values_round_toward_the_ceiling_or_the_floor() {
        assert_eq!(round_at(314_159, 5, 2, 2, true), Some(315));
        assert_eq!(round_at(314_159, 5, 2, 2, false), Some(314));
        assert_eq!(round_at(-314_159, 5, 1, 1, true), Some(-31));
        assert_eq!(round_at(-314_159, 5, 1, 1, false), Some(-32));
        assert_eq!(round_at(12345, 1, -2, 0, true), Some(1300));
        assert_eq!(round_at(12345, 1, -2, 0, false), Some(1200));
        assert_eq!(round_at(-5, 1, -1, 0, false), Some(-10));
        assert_eq!(round_at(25, 1, 100, 1, true), Some(25));
        // Scales far out of range (found by fuzzing: `s - t` overflowed).
        assert_eq!(round_at(5, 0, i32::MIN, 0, false), Some(0));
        assert_eq!(round_at(-5, 0, i32::MIN, 0, true), Some(0));
        assert_eq!(round_at(5, 0, i32::MIN, 0, true), None);
        assert_eq!(round_at(5, 0, i32::MAX, 0, true), Some(5));
        assert_eq!(parse_plain("1.25"), Some((125, 2)));
        assert_eq!(parse_plain("-0.5"), Some((-5, 1)));
    }
}
