//! `format_number(x, d)`: `x` rounded half-even to `d` decimals with `,` grouping, as
//! Spark's `FormatNumber` (Java's `DecimalFormat`); `d` may also be a `DecimalFormat`
//! pattern of `#`, `0`, `,` and one `.`.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{
    DataType, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
};

use super::string::{SimpleFunction, arrays, ret_string, rows, want_int};
use super::string_extra::{build_strings, opt_int, opt_str};
use super::{FunctionContext, ScalarFunction, unexpected_input_type};
use crate::expr::columnar::ColumnarValue;
use crate::{EngineError, Result};

/// A number as `format_number` reads it.
#[derive(Debug, Clone, Copy)]
enum Num {
    /// An integral value.
    Int(i128),
    /// A decimal: unscaled value and scale.
    Dec(i128, i8),
    /// A floating-point value (FLOAT widened to DOUBLE, as Java does).
    Float(f64),
}

/// How to lay out the digits: Java `DecimalFormat`'s pattern attributes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Layout {
    /// Digits per group of the integer part; 0 means no grouping.
    grouping: usize,
    /// Minimum integer digits (zeros padded on the left).
    min_int: usize,
    /// Minimum fraction digits (zeros kept on the right).
    min_frac: usize,
    /// Maximum fraction digits (the rounding position).
    max_frac: usize,
}

impl Layout {
    /// Spark's layout for `format_number(x, d)`: `#,###,...,##0` plus `d` zeros.
    fn decimals(d: usize) -> Self {
        Layout {
            grouping: 3,
            min_int: 1,
            min_frac: d,
            max_frac: d,
        }
    }

    /// Parses a pattern of `#`, `0`, `,` and at most one `.`; `''` is Spark's default.
    /// Anything else (prefixes, suffixes, percent, exponents) is not supported yet.
    pub(crate) fn parse(pattern: &str) -> Result<Self> {
        if pattern.is_empty() {
            return Ok(Layout::decimals(0));
        }
        let unsupported = || {
            EngineError::Unsupported(format!(
                "format_number pattern '{pattern}' (only #, 0, ',' and '.' are supported)"
            ))
        };
        let (int, frac) = match pattern.split_once('.') {
            Some((i, f)) => (i, f),
            None => (pattern, ""),
        };
        if !int.chars().all(|c| matches!(c, '#' | '0' | ','))
            || !frac.chars().all(|c| matches!(c, '#' | '0'))
            || frac.contains("#0")
            || int.trim_end_matches(',').len() != int.len()
        {
            return Err(unsupported());
        }
        let grouping = int.rfind(',').map_or(0, |p| int.len() - p - 1);
        let max_frac = frac.len();
        let min_frac = frac.chars().take_while(|&c| c == '0').count();
        let min_int = int.chars().filter(|&c| c == '0').count();
        if max_frac > MAX_DECIMAL_FRACTION {
            return Err(unsupported());
        }
        Ok(Layout {
            grouping,
            min_int,
            min_frac,
            max_frac,
        })
    }
}

/// `10^k` as u128, `None` past 10^38.
fn pow10(k: u32) -> Option<u128> {
    10u128.checked_pow(k)
}

/// Sign, then all digits of |x| rounded half-even to exactly `scale` fraction digits, split
/// into integer and fraction digits.
fn digits(x: Num, scale: usize) -> Result<(bool, String, String)> {
    let overflow = || EngineError::Internal("format_number: number out of range".into());
    let (neg, text) = match x {
        Num::Int(v) => (
            v < 0,
            v.unsigned_abs().to_string() + "." + &"0".repeat(scale),
        ),
        Num::Dec(u, s) => {
            let mag = u.unsigned_abs();
            let s = i64::from(s);
            let scale_i = i64::try_from(scale).map_err(|_| overflow())?;
            let (q, qs) = if s <= scale_i {
                (mag, s.max(0))
            } else {
                // Round away `s - scale` digits, half to even.
                let k = u32::try_from(s - scale_i).map_err(|_| overflow())?;
                match pow10(k) {
                    Some(p) => {
                        let (q, r) = (mag / p, mag % p);
                        let half = p / 2;
                        let up = r > half || (r == half && q % 2 == 1);
                        (q + u128::from(up), scale_i)
                    }
                    None => (0, scale_i),
                }
            };
            let mut d = q.to_string();
            let qs = usize::try_from(qs).map_err(|_| overflow())?;
            if d.len() <= qs {
                d = "0".repeat(qs + 1 - d.len()) + &d;
            }
            let (i, f) = d.split_at(d.len() - qs);
            (u < 0, format!("{i}.{f}{}", "0".repeat(scale - qs)))
        }
        Num::Float(f) => {
            let shortest = format!("{}", f.abs());
            let frac_len = shortest.split_once('.').map_or(0, |(_, fr)| fr.len());
            // Java formats the shortest decimal that reads back as `f`; when that has more
            // digits than asked, it rounds the exact binary value half-even, as `{:.N}` does.
            let text = if frac_len <= scale {
                let (i, fr) = shortest.split_once('.').unwrap_or((&shortest, ""));
                format!("{i}.{fr}{}", "0".repeat(scale - frac_len))
            } else {
                format!("{:.*}", scale, f.abs())
            };
            (f.is_sign_negative(), text)
        }
    };
    let (i, f) = text.split_once('.').unwrap_or((&text, ""));
    Ok((neg, i.to_string(), f.to_string()))
}

/// Java's `DecimalFormat` keeps at most 340 fraction digits of a double or an integer
/// (all of a BigDecimal's); decimals are refused past [`MAX_DECIMAL_FRACTION`] digits
/// rather than building gigabyte strings.
fn max_fraction_digits(x: Num, d: usize) -> Result<usize> {
    match x {
        Num::Dec(..) if d > MAX_DECIMAL_FRACTION => Err(EngineError::Unsupported(format!(
            "format_number with more than {MAX_DECIMAL_FRACTION} decimal places"
        ))),
        Num::Dec(..) => Ok(d),
        Num::Int(_) | Num::Float(_) => Ok(d.min(340)),
    }
}

/// The most fraction digits `format_number` writes for a DECIMAL.
const MAX_DECIMAL_FRACTION: usize = 10_000;

/// Formats `x` with `layout`.
fn format(x: Num, layout: &Layout) -> Result<String> {
    if let Num::Float(f) = x {
        if f.is_nan() {
            return Ok("NaN".into());
        }
        if f.is_infinite() {
            return Ok(if f < 0.0 { "-∞" } else { "∞" }.into());
        }
    }
    let (neg, int, frac) = digits(x, layout.max_frac)?;
    let frac = {
        let keep = frac.trim_end_matches('0').len().max(layout.min_frac);
        frac.get(..keep).unwrap_or(&frac).to_string()
    };
    let int = int.trim_start_matches('0');
    let int = if int.len() < layout.min_int {
        "0".repeat(layout.min_int - int.len()) + int
    } else {
        int.to_string()
    };
    let mut out = String::with_capacity(int.len() * 4 / 3 + frac.len() + 2);
    if neg {
        out.push('-');
    }
    for (k, c) in int.chars().enumerate() {
        let left = int.len() - k;
        if k > 0 && layout.grouping > 0 && left % layout.grouping == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(&frac);
    } else if int.is_empty() {
        // Nothing printed: Java writes a single zero.
        out.push('0');
    }
    Ok(out)
}

/// Row `i` of the number column as a [`Num`].
fn num_at(a: &ArrayRef, i: usize) -> Result<Option<Num>> {
    if a.is_null(i) {
        return Ok(None);
    }
    Ok(Some(match a.data_type() {
        DataType::Int8 => Num::Int(a.as_primitive::<Int8Type>().value(i).into()),
        DataType::Int16 => Num::Int(a.as_primitive::<Int16Type>().value(i).into()),
        DataType::Int32 => Num::Int(a.as_primitive::<Int32Type>().value(i).into()),
        DataType::Int64 => Num::Int(a.as_primitive::<Int64Type>().value(i).into()),
        DataType::Float32 => Num::Float(a.as_primitive::<Float32Type>().value(i).into()),
        DataType::Float64 => Num::Float(a.as_primitive::<Float64Type>().value(i)),
        DataType::Decimal128(_, s) => Num::Dec(a.as_primitive::<Decimal128Type>().value(i), *s),
        DataType::Null => return Ok(None),
        other => {
            return Err(EngineError::Internal(format!(
                "format_number of {other} passed the analyzer"
            )));
        }
    }))
}

fn eval_format_number(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let x = &a[0];
    match a[1].data_type() {
        DataType::Utf8 => {
            let p = a[1].as_string::<i32>();
            build_strings(args, rows, |i| match (num_at(x, i)?, opt_str(p, i)) {
                (Some(v), Some(p)) => format(v, &Layout::parse(p)?).map(Some),
                _ => Ok(None),
            })
        }
        _ => {
            let d = a[1]
                .as_primitive_opt::<Int32Type>()
                .ok_or_else(|| EngineError::Internal("format_number: d is not INT".into()))?;
            build_strings(args, rows, |i| match (num_at(x, i)?, opt_int(d, i)) {
                // A negative `d` gives NULL.
                (Some(v), Some(d)) => match usize::try_from(d) {
                    Ok(d) => format(v, &Layout::decimals(max_fraction_digits(v, d)?)).map(Some),
                    Err(_) => Ok(None),
                },
                _ => Ok(None),
            })
        }
    }
}

/// A number (strings read as DOUBLE), then an INT or a STRING pattern.
fn coerce_format_number(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    let x = match &args[0] {
        t if crate::types::is_numeric(t) => t.clone(),
        t if crate::types::is_string(t) || t == &DataType::Null => DataType::Float64,
        t => return Err(unexpected_input_type(name, 1, "\"NUMERIC\"", t)),
    };
    let d = match &args[1] {
        t if crate::types::is_string(t) => DataType::Utf8,
        t => want_int(name, 2, t)?,
    };
    Ok(vec![x, d])
}

/// The functions of this module, for the registry.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    SimpleFunction::new(
        "format_number",
        (2, 2),
        coerce_format_number,
        ret_string,
        eval_format_number,
    )
    .entries(&[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fmt(x: Num, d: usize) -> String {
        format(x, &Layout::decimals(d)).unwrap_or_default()
    }

    #[test]
    fn rounds_half_even_and_groups_like_spark() {
        assert_eq!(fmt(Num::Dec(12332123456, 6), 4), "12,332.1235");
        assert_eq!(fmt(Num::Dec(-5, 1), 0), "-0");
        assert_eq!(fmt(Num::Dec(15, 1), 0), "2");
        assert_eq!(fmt(Num::Dec(25, 1), 0), "2");
        assert_eq!(fmt(Num::Float(1e20), 2), "100,000,000,000,000,000,000.00");
        assert_eq!(fmt(Num::Float(0.125), 2), "0.12");
        assert_eq!(fmt(Num::Int(-1234567), 1), "-1,234,567.0");
    }

    #[test]
    fn patterns_follow_decimal_format() {
        let p = |s: &str| Layout::parse(s);
        assert_eq!(
            format(
                Num::Dec(123456789, 4),
                &p("").unwrap_or(Layout::decimals(9))
            )
            .ok(),
            Some("12,346".into())
        );
        assert_eq!(
            format(
                Num::Dec(5, 1),
                &p("#,##0.00").unwrap_or(Layout::decimals(9))
            )
            .ok(),
            Some("0.50".into())
        );
        assert_eq!(
            format(
                Num::Dec(123325, 1),
                &p("##.###").unwrap_or(Layout::decimals(9))
            )
            .ok(),
            Some("12332.5".into())
        );
        assert!(p("0.0%").is_err());
    }

    proptest! {
        #[test]
        fn patterns_never_panic(s in ".{0,40}", v in any::<f64>()) {
            if let Ok(l) = Layout::parse(&s) {
                let _ = format(Num::Float(v), &l);
                let _ = format(Num::Dec(i128::from(v as i64), 3), &l);
            }
        }
    }
}
