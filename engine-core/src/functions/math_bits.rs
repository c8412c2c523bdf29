//! Integer and bit functions: `factorial`, `conv`, `bin`, `hex`, `unhex`, `shiftleft`,
//! `shiftright`, `shiftrightunsigned`, `bit_count` and `width_bucket`, as Spark's (shift
//! amounts wrap as in Java, `bit_count` counts the bits of the value widened to BIGINT,
//! `unhex` of a non-hex string is NULL).

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BooleanArray, Int32Array, Int64Array, StringArray,
};
use arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type};

use super::string::{SimpleFunction, arrays, castable_to_string, rows, want_int, wrap};
use super::{FunctionContext, ScalarFunction, unexpected_input_type};
use crate::Result;
use crate::expr::columnar::ColumnarValue;
use crate::types::{is_numeric, is_string};

fn want_bigint(name: &str, pos: usize, t: &DataType) -> Result<DataType> {
    if is_numeric(t) || is_string(t) || *t == DataType::Null {
        Ok(DataType::Int64)
    } else {
        Err(unexpected_input_type(name, pos, "\"BIGINT\"", t))
    }
}

// ---- factorial ----

fn eval_factorial(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    let out: Int64Array = a
        .as_primitive::<Int32Type>()
        .iter()
        .map(|v| {
            // 20! is the largest that fits a BIGINT; outside 0..=20 Spark gives NULL.
            let v = u32::try_from(v?).ok().filter(|v| *v <= 20)?;
            Some((1..=i64::from(v)).product())
        })
        .collect();
    wrap(args, Arc::new(out))
}

// ---- & | ^ ~ ----

/// The integral type both sides of a bitwise operator are cast to: the wider of the two
/// (a string or NULL side takes the other's type, BIGINT when both are).
fn coerce_bitwise(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    let rank = |t: &DataType| match t {
        DataType::Int8 => Some(1),
        DataType::Int16 => Some(2),
        DataType::Int32 => Some(3),
        DataType::Int64 => Some(4),
        _ => None,
    };
    let mut best: Option<DataType> = None;
    for (i, t) in a.iter().enumerate() {
        match rank(t) {
            Some(r) => {
                if best.as_ref().and_then(rank).is_none_or(|b| r > b) {
                    best = Some(t.clone());
                }
            }
            None if is_string(t) || *t == DataType::Null => {}
            None => return Err(unexpected_input_type(name, i + 1, "\"INTEGRAL\"", t)),
        }
    }
    let t = best.unwrap_or(DataType::Int64);
    Ok(vec![t; a.len()])
}

fn eval_bitwise(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    use arrow::compute::kernels::bitwise;
    use arrow::datatypes::{Int8Type, Int16Type};
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    macro_rules! apply {
        ($t:ty) => {{
            let x = a[0].as_primitive::<$t>();
            let out = match (name, a.get(1)) {
                ("~", _) => bitwise::bitwise_not(x)?,
                ("&", Some(y)) => bitwise::bitwise_and(x, y.as_primitive::<$t>())?,
                ("|", Some(y)) => bitwise::bitwise_or(x, y.as_primitive::<$t>())?,
                (_, Some(y)) => bitwise::bitwise_xor(x, y.as_primitive::<$t>())?,
                _ => return Err(crate::EngineError::Internal(format!("bitwise {name}"))),
            };
            Arc::new(out) as ArrayRef
        }};
    }
    let out = match a[0].data_type() {
        DataType::Int8 => apply!(Int8Type),
        DataType::Int16 => apply!(Int16Type),
        DataType::Int32 => apply!(Int32Type),
        _ => apply!(Int64Type),
    };
    wrap(args, out)
}

// ---- conv ----

/// Spark's `NumberConverter.convert`: the digits of `num` (spaces trimmed, an optional
/// `-`, read up to the first character that is no digit of `from`) as a 64-bit unsigned
/// value, written in base `to`; a negative `to` reads the value as signed. Bases outside
/// 2..=36 and empty input give NULL; a value beyond 64 bits is ARITHMETIC_OVERFLOW under
/// ANSI, all ones otherwise.
pub(crate) fn conv_one(num: &str, from: i32, to: i32, ansi: bool) -> Result<Option<String>> {
    if !(2..=36).contains(&from) || !(2..=36).contains(&to.unsigned_abs()) {
        return Ok(None);
    }
    let t = num.trim_matches(' ');
    if t.is_empty() {
        return Ok(None);
    }
    let (mut negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let radix = from.unsigned_abs();
    let mut v: u64 = 0;
    for c in digits.chars() {
        let Some(d) = c.to_digit(radix) else {
            break;
        };
        match v
            .checked_mul(u64::from(radix))
            .and_then(|x| x.checked_add(u64::from(d)))
        {
            Some(x) => v = x,
            None if ansi => {
                return Err(crate::EngineError::execution(
                    "ARITHMETIC_OVERFLOW",
                    "Overflow in function conv(). If necessary set \"spark.sql.ansi.enabled\" \
                     to \"false\" to bypass this error. SQLSTATE: 22003",
                ));
            }
            None => {
                v = u64::MAX;
                break;
            }
        }
    }
    // Java keeps the value in a signed long: "negative" below means the top bit is set.
    let top = |v: u64| v >= 1 << 63;
    if negative && to > 0 {
        v = if top(v) { u64::MAX } else { v.wrapping_neg() };
    }
    if to < 0 && top(v) {
        v = v.wrapping_neg();
        negative = true;
    }
    let base = u64::from(to.unsigned_abs());
    let mut out = Vec::new();
    loop {
        let d = (v % base) as u32;
        out.push(
            char::from_digit(d, base as u32)
                .unwrap_or('0')
                .to_ascii_uppercase(),
        );
        v /= base;
        if v == 0 {
            break;
        }
    }
    if negative && to < 0 {
        out.push('-');
    }
    Ok(Some(out.iter().rev().collect()))
}

fn coerce_conv(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    let num = match &a[0] {
        t if castable_to_string(t) || *t == DataType::Binary || *t == DataType::Null => {
            DataType::Utf8
        }
        t => return Err(unexpected_input_type(name, 1, "\"STRING\"", t)),
    };
    Ok(vec![
        num,
        want_int(name, 2, &a[1])?,
        want_int(name, 3, &a[2])?,
    ])
}

fn eval_conv(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let num = a[0].as_string::<i32>();
    let from = a[1].as_primitive::<Int32Type>();
    let to = a[2].as_primitive::<Int32Type>();
    let out = (0..rows)
        .map(|i| {
            if num.is_null(i) || from.is_null(i) || to.is_null(i) {
                return Ok(None);
            }
            conv_one(num.value(i), from.value(i), to.value(i), ctx.ansi)
        })
        .collect::<Result<StringArray>>()?;
    wrap(args, Arc::new(out))
}

// ---- bin / hex / unhex ----

fn eval_bin(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    let out: StringArray = a
        .as_primitive::<Int64Type>()
        .iter()
        .map(|v| v.map(|v| format!("{v:b}")))
        .collect();
    wrap(args, Arc::new(out))
}

fn coerce_hex(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    let t = &a[0];
    Ok(vec![match t {
        DataType::Binary => DataType::Binary,
        t if is_numeric(t) => DataType::Int64,
        t if castable_to_string(t) => DataType::Utf8,
        t => {
            return Err(unexpected_input_type(
                name,
                1,
                "(\"BIGINT\" or \"BINARY\" or \"STRING\")",
                t,
            ));
        }
    }])
}

fn hex_bytes(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(char::from(DIGITS[usize::from(x >> 4)]));
        s.push(char::from(DIGITS[usize::from(x & 15)]));
    }
    s
}

fn eval_hex(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    let mut total = 0usize;
    let mut grow =
        |len: usize| crate::expr::columnar::add_result_bytes(name, &mut total, len as u128 * 2);
    let out: StringArray = match a.data_type() {
        DataType::Int64 => a
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(|v| format!("{v:X}")))
            .collect(),
        DataType::Binary => {
            let b = a.as_binary::<i32>();
            grow(b.values().len())?;
            b.iter().map(|v| v.map(hex_bytes)).collect()
        }
        _ => {
            let s = a.as_string::<i32>();
            grow(s.values().len())?;
            s.iter()
                .map(|v| v.map(|v| hex_bytes(v.as_bytes())))
                .collect()
        }
    };
    wrap(args, Arc::new(out))
}

/// Spark's `unhex`: pairs of hex digits to bytes (an odd count gets a leading `0`); `None`
/// for any other character.
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len().div_ceil(2));
    let (first, rest) = if b.len() % 2 == 1 {
        (b.first().map(|c| digit(*c)), b.get(1..).unwrap_or_default())
    } else {
        (None, b)
    };
    if let Some(d) = first {
        out.push(d?);
    }
    for pair in rest.chunks_exact(2) {
        out.push(digit(pair[0])? << 4 | digit(pair[1])?);
    }
    Some(out)
}

fn eval_unhex(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    let out: BinaryArray = a
        .as_string::<i32>()
        .iter()
        .map(|v| v.and_then(unhex))
        .collect();
    wrap(args, Arc::new(out))
}

// ---- shifts ----

fn coerce_shift(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    let first = match &a[0] {
        DataType::Int64 => DataType::Int64,
        t => want_int(name, 1, t)?,
    };
    Ok(vec![first, want_int(name, 2, &a[1])?])
}

fn eval_shift(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let by = a[1].as_primitive::<Int32Type>();
    // Java masks the shift amount (`& 31` / `& 63`), as wrapping shifts do.
    let out: ArrayRef = if *a[0].data_type() == DataType::Int64 {
        let x = a[0].as_primitive::<Int64Type>();
        let out: Int64Array = x
            .iter()
            .zip(by.iter())
            .map(|(x, s)| {
                let (x, s) = (x?, s? as u32);
                Some(match name {
                    "shiftleft" => x.wrapping_shl(s),
                    "shiftright" => x.wrapping_shr(s),
                    _ => (x as u64).wrapping_shr(s) as i64,
                })
            })
            .collect();
        Arc::new(out)
    } else {
        let x = a[0].as_primitive::<Int32Type>();
        let out: Int32Array = x
            .iter()
            .zip(by.iter())
            .map(|(x, s)| {
                let (x, s) = (x?, s? as u32);
                Some(match name {
                    "shiftleft" => x.wrapping_shl(s),
                    "shiftright" => x.wrapping_shr(s),
                    _ => (x as u32).wrapping_shr(s) as i32,
                })
            })
            .collect();
        Arc::new(out)
    };
    wrap(args, out)
}

// ---- bit_count ----

fn coerce_bit_count(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    match &a[0] {
        DataType::Boolean => Ok(vec![DataType::Boolean]),
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 | DataType::Null => {
            Ok(vec![DataType::Int64])
        }
        t if is_string(t) => Ok(vec![DataType::Int64]),
        t => Err(unexpected_input_type(
            name,
            1,
            "(\"INTEGRAL\" or \"BOOLEAN\")",
            t,
        )),
    }
}

fn eval_bit_count(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    let out: Int32Array = if *a.data_type() == DataType::Boolean {
        let b: &BooleanArray = a.as_boolean();
        b.iter().map(|v| v.map(i32::from)).collect()
    } else {
        a.as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(|v| v.count_ones() as i32))
            .collect()
    };
    wrap(args, Arc::new(out))
}

// ---- width_bucket ----

fn coerce_width_bucket(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    let mut out = super::math_trig::all_double(name, &a[..3])?;
    out.push(want_bigint(name, 4, &a[3])?);
    Ok(out)
}

/// Spark's `WidthBucket.computeBucketNumber`: the 1-based bucket of `value` among `buckets`
/// equal-width buckets from `min` to `max` (either way round), 0 below and `buckets + 1`
/// above; `None` for degenerate bounds.
pub(crate) fn width_bucket(value: f64, min: f64, max: f64, buckets: i64) -> Option<i64> {
    if buckets <= 0
        || buckets == i64::MAX
        || value.is_nan()
        || min == max
        || !min.is_finite()
        || !max.is_finite()
    {
        return None;
    }
    let (lower, upper) = (min.min(max), min.max(max));
    let n = buckets as f64;
    Some(if min < max {
        if value < lower {
            0
        } else if value >= upper {
            buckets + 1
        } else {
            ((n * (value - lower) / (upper - lower)) as i64).saturating_add(1)
        }
    } else if value > upper {
        0
    } else if value <= lower {
        buckets + 1
    } else {
        ((n * (upper - value) / (upper - lower)) as i64).saturating_add(1)
    })
}

fn eval_width_bucket(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let d = |k: usize| a[k].as_primitive::<Float64Type>();
    let (v, lo, hi) = (d(0), d(1), d(2));
    let b = a[3].as_primitive::<Int64Type>();
    let out: Int64Array = (0..rows)
        .map(|i| {
            if v.is_null(i) || lo.is_null(i) || hi.is_null(i) || b.is_null(i) {
                return None;
            }
            width_bucket(v.value(i), lo.value(i), hi.value(i), b.value(i))
        })
        .collect();
    wrap(args, Arc::new(out))
}

/// Every function of this module with its names.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let s = SimpleFunction::new;
    let mut v: Vec<(&'static str, Arc<dyn ScalarFunction>)> = Vec::new();
    // Spark registers the bitwise operators under their symbols too.
    for (name, arity) in [("&", 2), ("|", 2), ("^", 2), ("~", 1)] {
        v.extend(
            s(
                name,
                (arity, arity),
                coerce_bitwise,
                |a| Ok(a[0].clone()),
                eval_bitwise,
            )
            .entries(&[]),
        );
    }
    v.extend(
        s(
            "conv",
            (3, 3),
            coerce_conv,
            |_| Ok(DataType::Utf8),
            eval_conv,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "factorial",
            (1, 1),
            // Spark casts any number or string to INT for it (5.0 and '5' are 5).
            |n, a| {
                let t = &a[0];
                if is_numeric(t) || is_string(t) || *t == DataType::Null {
                    Ok(vec![DataType::Int32])
                } else {
                    Err(unexpected_input_type(n, 1, "\"INT\"", t))
                }
            },
            |_| Ok(DataType::Int64),
            eval_factorial,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "bin",
            (1, 1),
            |n, a| Ok(vec![want_bigint(n, 1, &a[0])?]),
            |_| Ok(DataType::Utf8),
            eval_bin,
        )
        .entries(&[]),
    );
    v.extend(s("hex", (1, 1), coerce_hex, |_| Ok(DataType::Utf8), eval_hex).entries(&[]));
    v.extend(
        s(
            "unhex",
            (1, 1),
            |n, a| Ok(vec![super::string::want_string(n, 1, &a[0])?]),
            |_| Ok(DataType::Binary),
            eval_unhex,
        )
        .entries(&[]),
    );
    for name in ["shiftleft", "shiftright", "shiftrightunsigned"] {
        v.extend(s(name, (2, 2), coerce_shift, |a| Ok(a[0].clone()), eval_shift).entries(&[]));
    }
    v.extend(
        s(
            "bit_count",
            (1, 1),
            coerce_bit_count,
            |_| Ok(DataType::Int32),
            eval_bit_count,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "width_bucket",
            (4, 4),
            coerce_width_bucket,
            |_| Ok(DataType::Int64),
            eval_width_bucket,
        )
        .entries(&[]),
    );
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn unhex_pairs() {
        assert_eq!(unhex("537061726B").unwrap(), b"Spark");
        assert_eq!(unhex("F").unwrap(), vec![15]);
        assert_eq!(unhex("").unwrap(), Vec::<u8>::new());
        assert_eq!(unhex("xyz"), None);
        assert_eq!(unhex("é"), None);
    }

    #[test]
    fn buckets() {
        assert_eq!(width_bucket(5.3, 0.2, 10.6, 5), Some(3));
        assert_eq!(width_bucket(-2.1, 1.3, 3.4, 3), Some(0));
        assert_eq!(width_bucket(8.1, 0.0, 5.7, 4), Some(5));
        assert_eq!(width_bucket(-0.9, 5.2, 0.5, 2), Some(3));
        assert_eq!(width_bucket(1.0, 1.0, 1.0, 1), None);
        assert_eq!(width_bucket(20.0, 0.0, 10.0, i64::MAX - 1), Some(i64::MAX));
    }

    #[test]
    fn conv_follows_sparks_number_converter() {
        // PySpark 4.3's results.
        let c = |n: &str, f: i32, t: i32| conv_one(n, f, t, true).unwrap();
        let s = |v: &str| Some(v.to_string());
        assert_eq!(c("100", 2, 10), s("4"));
        assert_eq!(c("-10", 16, -10), s("-16"));
        assert_eq!(c("-1", 10, 16), s("FFFFFFFFFFFFFFFF"));
        assert_eq!(c("18446744073709551615", 10, -10), s("-1"));
        assert_eq!(c("  12", 10, 16), s("C"));
        assert_eq!(c("", 10, 16), None);
        assert_eq!(c("10", 1, 10), None);
        assert_eq!(c("10", 10, -37), None);
        assert_eq!(c("-255", 10, 16), s("FFFFFFFFFFFFFF01"));
        assert_eq!(c("-255", 10, -16), s("-FF"));
        assert_eq!(c("9223372036854775808", 10, -10), s("-9223372036854775808"));
        assert_eq!(c("ffffffffffffffff", 16, -10), s("-1"));
        assert_eq!(c("12a3", 10, 10), s("12"));
        assert_eq!(c("+5", 10, 10), s("0"));
        assert_eq!(c("Zz", 36, 16), s("50F"));
        assert!(conv_one("18446744073709551616", 10, 16, true).is_err());
        assert_eq!(
            conv_one("18446744073709551616", 10, 16, false).unwrap(),
            s("FFFFFFFFFFFFFFFF")
        );
    }
}
