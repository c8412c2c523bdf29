//! Math functions: abs, round, bround, floor, ceil, pow, sqrt, exp, ln, log, log10, sign,
//! greatest, least, mod, pmod.
//!
//! Known simplification: `mod`/`pmod`/`greatest`/`least` over DECIMAL compute in DOUBLE.
//! `round(DECIMAL(p, s), d)` has Spark's narrower type only when built by the analyzer with
//! [`round_with_scale`] (the registry entry cannot see `d`'s value and keeps scale `s`).

use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::array::{
    Array, ArrayRef, ArrowPrimitiveType, AsArray, Decimal128Array, Float64Array, Int64Array,
    PrimitiveArray,
};
use arrow::compute::kernels::arity::unary;
use arrow::datatypes::{
    DataType, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
};

use super::string::{SimpleFunction, arrays, rows, wrap};
use super::{FunctionContext, ScalarFunction, unexpected_input_type};
use crate::expr::columnar::ColumnarValue;
use crate::types::{is_numeric, is_string};

/// The numeric type an argument is used as: numbers as they are, strings and NULL as DOUBLE.
fn numeric_arg(name: &str, pos: usize, t: &DataType) -> Result<DataType> {
    if is_numeric(t) {
        Ok(t.clone())
    } else if is_string(t) || *t == DataType::Null {
        Ok(DataType::Float64)
    } else {
        Err(unexpected_input_type(name, pos, "\"NUMERIC\"", t))
    }
}

fn rank(t: &DataType) -> u8 {
    match t {
        DataType::Int8 => 1,
        DataType::Int16 => 2,
        DataType::Int32 => 3,
        DataType::Int64 => 4,
        DataType::Float32 => 6,
        _ => 7,
    }
}

/// The wider of numeric types (decimals widen to DOUBLE here).
fn wider_numeric(name: &str, args: &[DataType]) -> Result<DataType> {
    let mut best = DataType::Int8;
    let mut any = false;
    for (i, t) in args.iter().enumerate() {
        if *t == DataType::Null {
            continue;
        }
        let t = numeric_arg(name, i + 1, t)?;
        let t = if matches!(t, DataType::Decimal128(_, _)) {
            DataType::Float64
        } else {
            t
        };
        if !any || rank(&t) > rank(&best) {
            best = t;
        }
        any = true;
    }
    Ok(if any { best } else { DataType::Float64 })
}

fn all_double(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    args.iter()
        .enumerate()
        .map(|(i, t)| numeric_arg(name, i + 1, t).map(|_| DataType::Float64))
        .collect()
}

fn ret_double(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Float64)
}

fn ret_first(args: &[DataType]) -> Result<DataType> {
    Ok(args[0].clone())
}

/// Spark's `ARITHMETIC_OVERFLOW` of a function (no `try_` variant to suggest).
pub(super) fn overflow() -> EngineError {
    EngineError::execution(
        "ARITHMETIC_OVERFLOW",
        "overflow. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22003",
    )
}

// ---- abs ----

fn coerce_abs(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    Ok(vec![numeric_arg(name, 1, &args[0])?])
}

fn abs_int<T: ArrowPrimitiveType>(
    a: &ArrayRef,
    ansi: bool,
    checked: impl Fn(T::Native) -> Option<T::Native>,
    wrapping: impl Fn(T::Native) -> T::Native,
) -> Result<ArrayRef> {
    let a = a.as_primitive::<T>();
    if ansi {
        let out: PrimitiveArray<T> = arrow::compute::kernels::arity::try_unary(a, |v| {
            checked(v).ok_or_else(|| arrow::error::ArrowError::ComputeError("overflow".into()))
        })
        .map_err(|_| overflow())?;
        Ok(Arc::new(out.with_data_type(a.data_type().clone())))
    } else {
        let out: PrimitiveArray<T> = unary(a, wrapping);
        Ok(Arc::new(out.with_data_type(a.data_type().clone())))
    }
}

fn eval_abs(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    let out: ArrayRef = match a.data_type() {
        DataType::Int8 => abs_int::<Int8Type>(&a, ctx.ansi, i8::checked_abs, i8::wrapping_abs)?,
        DataType::Int16 => abs_int::<Int16Type>(&a, ctx.ansi, i16::checked_abs, i16::wrapping_abs)?,
        DataType::Int32 => abs_int::<Int32Type>(&a, ctx.ansi, i32::checked_abs, i32::wrapping_abs)?,
        DataType::Int64 => abs_int::<Int64Type>(&a, ctx.ansi, i64::checked_abs, i64::wrapping_abs)?,
        DataType::Decimal128(_, _) => {
            abs_int::<Decimal128Type>(&a, ctx.ansi, i128::checked_abs, i128::wrapping_abs)?
        }
        DataType::Float32 => Arc::new(unary::<Float32Type, _, Float32Type>(
            a.as_primitive::<Float32Type>(),
            f32::abs,
        )),
        _ => Arc::new(unary::<Float64Type, _, Float64Type>(
            a.as_primitive::<Float64Type>(),
            f64::abs,
        )),
    };
    wrap(args, out)
}

// ---- round / bround ----

fn coerce_round(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    let mut out = vec![numeric_arg(name, 1, &args[0])?];
    if let Some(t) = args.get(1) {
        if !matches!(
            t,
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 | DataType::Null
        ) {
            return Err(unexpected_input_type(name, 2, "\"INT\"", t));
        }
        out.push(DataType::Int32);
    }
    Ok(out)
}

/// The result type of rounding `DECIMAL(p, s)`: Spark's when the target scale is known,
/// otherwise the input scale kept with one more integral digit.
fn decimal_round_type(p: u8, s: i8, target: Option<i32>) -> (u8, i8) {
    let integral = i32::from(p) - i32::from(s) + 1;
    match target {
        None => ((p + 1).min(38), s),
        Some(t) if t < 0 => (integral.clamp(1, 38) as u8, 0),
        Some(t) => {
            let ns = i32::from(s).min(t);
            ((integral + ns).clamp(1, 38) as u8, ns.min(38) as i8)
        }
    }
}

/// `round`/`bround`. The result type of a DECIMAL input depends on the scale's value, which
/// `return_type` cannot see; the analyzer should build the function with
/// [`round_with_scale`] when the scale is a literal (Spark requires it to be foldable).
#[derive(Debug)]
pub struct RoundFunction {
    half_even: bool,
    scale: Option<i32>,
}

/// `round` (HALF_UP) or `bround` (`half_even`) whose scale argument is known to be `scale`.
pub fn round_with_scale(half_even: bool, scale: i32) -> Arc<dyn ScalarFunction> {
    Arc::new(RoundFunction {
        half_even,
        scale: Some(scale),
    })
}

impl RoundFunction {
    /// The scale when known: the literal it was built with, or 0 without a scale argument.
    fn known_scale(&self, nargs: usize) -> Option<i32> {
        if nargs < 2 { Some(0) } else { self.scale }
    }
}

impl ScalarFunction for RoundFunction {
    fn name(&self) -> &str {
        if self.half_even { "bround" } else { "round" }
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        super::string::check_arity(self.name(), args.len(), (1, 2))?;
        coerce_round(self.name(), args)
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        super::string::check_arity(self.name(), args.len(), (1, 2))?;
        Ok(match &args[0] {
            DataType::Decimal128(p, s) => {
                let (p, s) = decimal_round_type(*p, *s, self.known_scale(args.len()));
                DataType::Decimal128(p, s)
            }
            t => t.clone(),
        })
    }

    fn invoke(
        &self,
        args: &[ColumnarValue],
        num_rows: usize,
        _: &FunctionContext,
    ) -> Result<ColumnarValue> {
        super::string::check_arity(self.name(), args.len(), (1, 2))?;
        eval_round_mode(args, num_rows, self.half_even, self.known_scale(args.len()))
    }
}

/// Rounds `v` (an integer or unscaled decimal) to a multiple of `unit` (a power of ten).
fn round_i128(v: i128, unit: i128, half_even: bool) -> Option<i128> {
    if unit <= 1 {
        return Some(v);
    }
    let q = v / unit;
    let r = v % unit;
    let twice = r.checked_abs()? * 2;
    let away = if twice > unit {
        true
    } else if twice < unit {
        false
    } else {
        !half_even || q % 2 != 0
    };
    let q = if away { q + v.signum() } else { q };
    q.checked_mul(unit)
}

fn pow10_i128(e: i32) -> Option<i128> {
    if e < 0 {
        return Some(1);
    }
    10i128.checked_pow(e as u32)
}

/// Spark rounds doubles through `BigDecimal(d.toString)`: round the shortest decimal
/// representation, not the binary value (so `round(1.005, 2)` is `1.01`).
pub(crate) fn round_f64(v: f64, scale: i32, half_even: bool) -> f64 {
    if !v.is_finite() {
        return v;
    }
    // Fast path: far from a tie, plain binary arithmetic gives the same correctly rounded
    // result (integer / power of ten is exact-then-rounded once).
    if (0..=22).contains(&scale) {
        let f = 10f64.powi(scale);
        let x = v * f;
        if x.abs() < 4.5e15 {
            let frac = (x - x.trunc()).abs();
            if (frac - 0.5).abs() > 1e-6 {
                return x.round() / f;
            }
        }
    }
    let s = format!("{v:e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: Vec<u8> = mant
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    // value = 0.d1d2d3... * 10^(exp + 1); keep digits up to position exp + 1 + scale.
    // Saturating: the scale is the user's (`round(x, 2147483647)`).
    let keep = exp.saturating_add(1).saturating_add(scale);
    if keep < 0 {
        return if neg { -0.0 } else { 0.0 };
    }
    let keep = keep as usize;
    if keep >= digits.len() {
        return v;
    }
    let mut kept: Vec<u8> = digits[..keep].to_vec();
    let first_dropped = digits[keep];
    let rest_nonzero = digits[keep + 1..].iter().any(|d| *d != 0);
    let up = match first_dropped.cmp(&5) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => {
            rest_nonzero || !half_even || kept.last().is_some_and(|d| d % 2 == 1)
        }
    };
    let mut exp_adj = exp;
    if up {
        let mut i = kept.len();
        loop {
            if i == 0 {
                kept.insert(0, 1);
                exp_adj += 1;
                break;
            }
            i -= 1;
            if kept[i] == 9 {
                kept[i] = 0;
            } else {
                kept[i] += 1;
                break;
            }
        }
    }
    if kept.is_empty() {
        return if neg { -0.0 } else { 0.0 };
    }
    let ds: String = kept.iter().map(|d| char::from(b'0' + d)).collect();
    let text = format!("{}0.{}e{}", if neg { "-" } else { "" }, ds, exp_adj + 1);
    text.parse().unwrap_or(v)
}

fn round_ints<T: ArrowPrimitiveType>(
    a: &ArrayRef,
    scale: i32,
    half_even: bool,
    to: impl Fn(T::Native) -> i128,
    from: impl Fn(i128) -> Option<T::Native>,
) -> ArrayRef
where
    T::Native: Copy,
{
    let a = a.as_primitive::<T>();
    if scale >= 0 {
        return Arc::new(a.clone());
    }
    // Checked: the scale is the user's (`round(x, -2147483648)`); too many digits give 0.
    let unit = pow10_i128(scale.checked_neg().unwrap_or(i32::MAX));
    let out: PrimitiveArray<T> = a
        .iter()
        .map(|v| {
            v.map(|v| match unit {
                Some(u) => round_i128(to(v), u, half_even).and_then(&from).unwrap_or(v),
                // Rounding to more digits than the type has gives 0.
                None => from(0).unwrap_or(v),
            })
        })
        .collect();
    Arc::new(out.with_data_type(a.data_type().clone()))
}

fn eval_round_mode(
    args: &[ColumnarValue],
    n: usize,
    half_even: bool,
    known_scale: Option<i32>,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = args[0].to_array(rows)?;
    let scale = match args.get(1) {
        None => Some(0),
        Some(ColumnarValue::Scalar(s)) => match s {
            crate::scalar::ScalarValue::Int32(v) => *v,
            _ => None,
        },
        Some(ColumnarValue::Array(arr)) => {
            let arr = arr.as_primitive::<Int32Type>();
            if arr.is_empty() || arr.is_null(0) {
                None
            } else {
                Some(arr.value(0))
            }
        }
    };
    let Some(scale) = scale else {
        return Ok(ColumnarValue::Array(arrow::array::new_null_array(
            a.data_type(),
            rows,
        )));
    };
    let out: ArrayRef = match a.data_type() {
        DataType::Int8 => {
            round_ints::<Int8Type>(&a, scale, half_even, i128::from, |v| i8::try_from(v).ok())
        }
        DataType::Int16 => {
            round_ints::<Int16Type>(&a, scale, half_even, i128::from, |v| i16::try_from(v).ok())
        }
        DataType::Int32 => {
            round_ints::<Int32Type>(&a, scale, half_even, i128::from, |v| i32::try_from(v).ok())
        }
        DataType::Int64 => {
            round_ints::<Int64Type>(&a, scale, half_even, i128::from, |v| i64::try_from(v).ok())
        }
        DataType::Decimal128(p, s) => {
            let (rp, rs) = decimal_round_type(*p, *s, known_scale);
            let d = a.as_primitive::<Decimal128Type>();
            let unit = pow10_i128(i32::from(*s).saturating_sub(scale));
            // Rounded values are multiples of `unit`; dividing by `shrink` drops the digits
            // the narrower result scale no longer has.
            let shrink = pow10_i128(i32::from(*s) - i32::from(rs)).unwrap_or(1);
            let out: Decimal128Array = d
                .iter()
                .map(|v| {
                    v.map(|v| match unit {
                        Some(u) => round_i128(v, u, half_even).unwrap_or(v) / shrink,
                        None => 0,
                    })
                })
                .collect();
            Arc::new(out.with_precision_and_scale(rp, rs)?)
        }
        DataType::Float32 => Arc::new(unary::<Float32Type, _, Float32Type>(
            a.as_primitive::<Float32Type>(),
            |v| round_f64(f64::from(v), scale, half_even) as f32,
        )),
        _ => Arc::new(unary::<Float64Type, _, Float64Type>(
            a.as_primitive::<Float64Type>(),
            |v| round_f64(v, scale, half_even),
        )),
    };
    wrap(args, out)
}

// ---- floor / ceil ----

fn ret_floor(args: &[DataType]) -> Result<DataType> {
    Ok(match &args[0] {
        DataType::Decimal128(p, s) => {
            DataType::Decimal128(((i16::from(*p) - i16::from(*s) + 1).clamp(1, 38)) as u8, 0)
        }
        _ => DataType::Int64,
    })
}

fn eval_floor_ceil(args: &[ColumnarValue], n: usize, ceil: bool) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    let out: ArrayRef = match a.data_type() {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
            arrow::compute::cast(&a, &DataType::Int64)?
        }
        DataType::Decimal128(p, s) => {
            let DataType::Decimal128(rp, _) = ret_floor(&[DataType::Decimal128(*p, *s)])? else {
                return Err(EngineError::Internal("floor type".into()));
            };
            let unit = pow10_i128(i32::from(*s)).unwrap_or(1);
            let d = a.as_primitive::<Decimal128Type>();
            let out: Decimal128Array = unary(d, |v| {
                let q = v.div_euclid(unit);
                if ceil && v.rem_euclid(unit) != 0 {
                    q + 1
                } else {
                    q
                }
            });
            Arc::new(out.with_precision_and_scale(rp, 0)?)
        }
        _ => {
            let d = arrow::compute::cast(&a, &DataType::Float64)?;
            let out: Int64Array = unary(d.as_primitive::<Float64Type>(), |v| {
                // Java's (long) cast: saturating, NaN -> 0, like Rust's `as`.
                if ceil {
                    v.ceil() as i64
                } else {
                    v.floor() as i64
                }
            });
            Arc::new(out)
        }
    };
    wrap(args, out)
}

fn eval_floor(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    eval_floor_ceil(args, n, false)
}

fn eval_ceil(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    eval_floor_ceil(args, n, true)
}

// ---- DOUBLE functions ----

fn double_unary(
    args: &[ColumnarValue],
    n: usize,
    f: impl Fn(f64) -> Option<f64>,
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    let a = a.as_primitive::<Float64Type>();
    let out: Float64Array = a.iter().map(|v| v.and_then(&f)).collect();
    wrap(args, Arc::new(out))
}

fn double_binary(
    args: &[ColumnarValue],
    n: usize,
    f: impl Fn(f64, f64) -> Option<f64>,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let x = a[0].as_primitive::<Float64Type>();
    let y = a[1].as_primitive::<Float64Type>();
    let out: Float64Array = x
        .iter()
        .zip(y.iter())
        .map(|(x, y)| match (x, y) {
            (Some(x), Some(y)) => f(x, y),
            _ => None,
        })
        .collect();
    wrap(args, Arc::new(out))
}

fn eval_pow(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    double_binary(args, n, |x, y| Some(x.powf(y)))
}
fn eval_sqrt(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    double_unary(args, n, |x| Some(x.sqrt()))
}
fn eval_exp(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    double_unary(args, n, |x| Some(x.exp()))
}
// Spark's logarithms return NULL (not NaN or -Infinity) for non-positive input.
fn eval_ln(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    double_unary(args, n, |x| (x > 0.0).then(|| x.ln()))
}
fn eval_log10(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    double_unary(args, n, |x| (x > 0.0).then(|| x.log10()))
}
fn eval_log(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    if args.len() == 1 {
        return eval_ln(name, args, n, ctx);
    }
    double_binary(args, n, |b, x| {
        (b > 0.0 && x > 0.0).then(|| x.ln() / b.ln())
    })
}
fn eval_sign(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    double_unary(args, n, |x| {
        Some(if x.is_nan() {
            f64::NAN
        } else if x > 0.0 {
            1.0
        } else if x < 0.0 {
            -1.0
        } else {
            0.0
        })
    })
}

// ---- greatest / least ----

fn coerce_same(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    let all_numeric = args.iter().all(|t| is_numeric(t) || *t == DataType::Null);
    let t = if all_numeric {
        // Keep a single DECIMAL type as is.
        let first = args.iter().find(|t| **t != DataType::Null);
        match first {
            Some(f) if args.iter().all(|t| t == f || *t == DataType::Null) => f.clone(),
            _ => wider_numeric(name, args)?,
        }
    } else {
        crate::expr::coercion::common_type(args)?
    };
    Ok(vec![t; args.len()])
}

fn eval_extreme(args: &[ColumnarValue], n: usize, greatest: bool) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let mut out = a[0].clone();
    for next in &a[1..] {
        // Take `next` where it is non-NULL and either beats `out` or `out` is NULL; NaN is
        // the largest double (Arrow's comparison kernels use a total order, as Spark does).
        let better = if greatest {
            arrow::compute::kernels::cmp::gt(next, &out)?
        } else {
            arrow::compute::kernels::cmp::lt(next, &out)?
        };
        let take: arrow::array::BooleanArray = (0..rows)
            .map(|i| Some(next.is_valid(i) && (out.is_null(i) || better.value(i))))
            .collect();
        out = arrow::compute::kernels::zip::zip(&take, next, &out)?;
    }
    wrap(args, out)
}

fn eval_greatest(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    eval_extreme(args, n, true)
}
fn eval_least(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    eval_extreme(args, n, false)
}

// ---- mod / pmod ----

fn coerce_mod(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    let t = wider_numeric(name, args)?;
    Ok(vec![t.clone(), t])
}

fn remainder_by_zero() -> EngineError {
    EngineError::execution(
        "REMAINDER_BY_ZERO",
        "Remainder by zero. Use `try_mod` to tolerate divisor being 0 and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22012",
    )
}

fn mod_typed<T: ArrowPrimitiveType>(
    x: &ArrayRef,
    y: &ArrayRef,
    ansi: bool,
    zero: T::Native,
    rem: impl Fn(T::Native, T::Native) -> T::Native,
) -> Result<ArrayRef>
where
    T::Native: PartialEq,
{
    let x = x.as_primitive::<T>();
    let y = y.as_primitive::<T>();
    let mut out = Vec::with_capacity(x.len());
    for i in 0..x.len() {
        if x.is_null(i) || y.is_null(i) {
            out.push(None);
            continue;
        }
        let d = y.value(i);
        if d == zero {
            if ansi {
                return Err(remainder_by_zero());
            }
            out.push(None);
            continue;
        }
        out.push(Some(rem(x.value(i), d)));
    }
    Ok(Arc::new(PrimitiveArray::<T>::from_iter(out)))
}

fn eval_mod_kind(
    args: &[ColumnarValue],
    n: usize,
    ansi: bool,
    positive: bool,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let (x, y) = (&a[0], &a[1]);
    macro_rules! ints {
        ($t:ty) => {
            mod_typed::<$t>(x, y, ansi, 0, |a, b| {
                let r = a.wrapping_rem(b);
                if positive && r < 0 {
                    r.wrapping_add(b).wrapping_rem(b)
                } else {
                    r
                }
            })?
        };
    }
    macro_rules! floats {
        ($t:ty) => {
            mod_typed::<$t>(x, y, ansi, 0.0, |a, b| {
                let r = a % b;
                if positive && r < 0.0 { (r + b) % b } else { r }
            })?
        };
    }
    let out = match x.data_type() {
        DataType::Int8 => ints!(Int8Type),
        DataType::Int16 => ints!(Int16Type),
        DataType::Int32 => ints!(Int32Type),
        DataType::Int64 => ints!(Int64Type),
        DataType::Float32 => floats!(Float32Type),
        _ => floats!(Float64Type),
    };
    wrap(args, out)
}

fn eval_mod(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    eval_mod_kind(args, n, ctx.ansi, false)
}
fn eval_pmod(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    eval_mod_kind(args, n, ctx.ansi, true)
}

/// Every math function with its names.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let s = SimpleFunction::new;
    let mut v = Vec::new();
    v.extend(s("abs", (1, 1), coerce_abs, ret_first, eval_abs).entries(&[]));
    v.push((
        "round",
        Arc::new(RoundFunction {
            half_even: false,
            scale: None,
        }),
    ));
    v.push((
        "bround",
        Arc::new(RoundFunction {
            half_even: true,
            scale: None,
        }),
    ));
    v.extend(s("floor", (1, 1), coerce_abs, ret_floor, eval_floor).entries(&[]));
    v.extend(s("ceil", (1, 1), coerce_abs, ret_floor, eval_ceil).entries(&["ceiling"]));
    v.extend(s("pow", (2, 2), all_double, ret_double, eval_pow).entries(&["power"]));
    v.extend(s("sqrt", (1, 1), all_double, ret_double, eval_sqrt).entries(&[]));
    v.extend(s("exp", (1, 1), all_double, ret_double, eval_exp).entries(&[]));
    v.extend(s("ln", (1, 1), all_double, ret_double, eval_ln).entries(&[]));
    v.extend(s("log", (1, 2), all_double, ret_double, eval_log).entries(&[]));
    v.extend(s("log10", (1, 1), all_double, ret_double, eval_log10).entries(&[]));
    v.extend(s("sign", (1, 1), all_double, ret_double, eval_sign).entries(&["signum"]));
    v.extend(
        s(
            "greatest",
            (2, usize::MAX),
            coerce_same,
            ret_first,
            eval_greatest,
        )
        .entries(&[]),
    );
    v.extend(s("least", (2, usize::MAX), coerce_same, ret_first, eval_least).entries(&[]));
    v.extend(s("mod", (2, 2), coerce_mod, ret_first, eval_mod).entries(&[]));
    v.extend(s("pmod", (2, 2), coerce_mod, ret_first, eval_pmod).entries(&[]));
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use arrow::array::Int32Array;

    use super::super::string::tests::{call, call_ctx, ints, iv};
    use super::*;
    use crate::scalar::ScalarValue;

    fn dv(v: &[Option<f64>]) -> ColumnarValue {
        ColumnarValue::Array(Arc::new(Float64Array::from(v.to_vec())))
    }
    fn d(a: &ArrayRef) -> Vec<Option<f64>> {
        a.as_primitive::<Float64Type>().iter().collect()
    }
    fn i(a: &ArrayRef) -> Vec<Option<i32>> {
        a.as_primitive::<Int32Type>().iter().collect()
    }

    #[test]
    fn abs_keeps_type_and_checks_overflow() {
        let r = call("abs", vec![ints(&[Some(-3), None, Some(4)])]).unwrap();
        assert_eq!(i(&r), vec![Some(3), None, Some(4)]);
        let e = call("abs", vec![ints(&[Some(i32::MIN)])])
            .unwrap_err()
            .to_string();
        assert!(e.contains("ARITHMETIC_OVERFLOW"), "{e}");
        let ctx = FunctionContext {
            ansi: false,
            ..Default::default()
        };
        let r = call_ctx("abs", vec![ints(&[Some(i32::MIN)])], &ctx).unwrap();
        assert_eq!(i(&r), vec![Some(i32::MIN)]);
        let r = call("abs", vec![dv(&[Some(-1.5)])]).unwrap();
        assert_eq!(d(&r), vec![Some(1.5)]);
    }

    #[test]
    fn round_half_up_and_even() {
        let x = dv(&[
            Some(2.5),
            Some(-2.5),
            Some(1.005),
            Some(0.125),
            None,
            Some(f64::NAN),
        ]);
        let r = call("round", vec![x.clone()]).unwrap();
        assert_eq!(
            d(&r)[..5],
            [Some(3.0), Some(-3.0), Some(1.0), Some(0.0), None]
        );
        assert!(d(&r)[5].unwrap().is_nan());
        let r = call("round", vec![x.clone(), iv(2)]).unwrap();
        assert_eq!(d(&r)[..4], [Some(2.5), Some(-2.5), Some(1.01), Some(0.13)]);
        let r = call("bround", vec![x.clone()]).unwrap();
        assert_eq!(d(&r)[..4], [Some(2.0), Some(-2.0), Some(1.0), Some(0.0)]);
        let r = call("bround", vec![x, iv(2)]).unwrap();
        assert_eq!(d(&r)[..4], [Some(2.5), Some(-2.5), Some(1.0), Some(0.12)]);
        let r = call("round", vec![dv(&[Some(1234.5678)]), iv(-2)]).unwrap();
        assert_eq!(d(&r), vec![Some(1200.0)]);
        let r = call("round", vec![ints(&[Some(125), Some(-125), None]), iv(-1)]).unwrap();
        assert_eq!(i(&r), vec![Some(130), Some(-130), None]);
        let r = call("bround", vec![ints(&[Some(125), Some(135)]), iv(-1)]).unwrap();
        assert_eq!(i(&r), vec![Some(120), Some(140)]);
        let r = call("round", vec![ints(&[Some(7)])]).unwrap();
        assert_eq!(r.data_type(), &DataType::Int32);
        assert_eq!(round_f64(9.995, 2, false), 10.0);
        assert_eq!(round_f64(123456.785, 2, false), 123456.79);
    }

    #[test]
    fn round_to_the_most_negative_scale_gives_zero_not_an_overflow() {
        // Regression (fuzzing, issue 16): `-scale` and `s - scale` overflowed.
        for name in ["round", "bround"] {
            let r = call(name, vec![ints(&[Some(125), None]), iv(i32::MIN)]).unwrap();
            assert_eq!(i(&r), vec![Some(0), None]);
            let a = Decimal128Array::from(vec![Some(12345)])
                .with_precision_and_scale(6, 3)
                .unwrap();
            let r = call(name, vec![ColumnarValue::Array(Arc::new(a)), iv(i32::MIN)]).unwrap();
            assert_eq!(r.as_primitive::<Decimal128Type>().value(0), 0);
            // And the most positive scale keeps every digit (`exp + 1 + scale` overflowed).
            let r = call(name, vec![dv(&[Some(1.25), None]), iv(i32::MAX)]).unwrap();
            assert_eq!(d(&r), vec![Some(1.25), None]);
            let r = call(name, vec![dv(&[Some(1.25)]), iv(i32::MIN)]).unwrap();
            assert_eq!(d(&r), vec![Some(0.0)]);
        }
    }

    #[test]
    fn round_decimal() {
        let a = Decimal128Array::from(vec![Some(12345), Some(-12355)])
            .with_precision_and_scale(6, 3)
            .unwrap();
        let a: ArrayRef = Arc::new(a);
        let r = call("round", vec![ColumnarValue::Array(a.clone()), iv(1)]).unwrap();
        let r = r.as_primitive::<Decimal128Type>();
        assert_eq!(r.value(0), 12300);
        assert_eq!(r.value(1), -12400);
        // With the scale known, Spark's narrower type: DECIMAL(6,3) -> DECIMAL(5,1).
        let f = round_with_scale(false, 1);
        let t = f
            .return_type(&[DataType::Decimal128(6, 3), DataType::Int32])
            .unwrap();
        assert_eq!(t, DataType::Decimal128(5, 1));
        let out = f
            .invoke(
                &[ColumnarValue::Array(a.clone()), iv(1)],
                2,
                &FunctionContext::default(),
            )
            .unwrap()
            .into_array(2)
            .unwrap();
        assert_eq!(out.data_type(), &t);
        let out = out.as_primitive::<Decimal128Type>();
        assert_eq!((out.value(0), out.value(1)), (123, -124));
        // No scale argument: scale 0.
        let r = call("round", vec![ColumnarValue::Array(a.clone())]).unwrap();
        assert_eq!(r.data_type(), &DataType::Decimal128(4, 0));
        assert_eq!(r.as_primitive::<Decimal128Type>().value(0), 12);
        let f = round_with_scale(false, -1);
        let out = f
            .invoke(
                &[ColumnarValue::Array(a), iv(-1)],
                2,
                &FunctionContext::default(),
            )
            .unwrap()
            .into_array(2)
            .unwrap();
        assert_eq!(out.data_type(), &DataType::Decimal128(4, 0));
        assert_eq!(out.as_primitive::<Decimal128Type>().value(0), 10);
    }

    #[test]
    fn floor_ceil_return_bigint() {
        let r = call("floor", vec![dv(&[Some(-1.5), Some(2.7), None])]).unwrap();
        let r: &Int64Array = r.as_primitive();
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![Some(-2), Some(2), None]);
        let r = call("ceil", vec![dv(&[Some(-1.5), Some(2.1)])]).unwrap();
        let r: &Int64Array = r.as_primitive();
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![Some(-1), Some(3)]);
        let r = call("ceil", vec![ints(&[Some(3)])]).unwrap();
        assert_eq!(r.data_type(), &DataType::Int64);
    }

    #[test]
    fn double_functions() {
        let r = call("sqrt", vec![dv(&[Some(4.0), Some(-1.0), None])]).unwrap();
        assert_eq!(d(&r)[0], Some(2.0));
        assert!(d(&r)[1].unwrap().is_nan());
        let r = call("pow", vec![ints(&[Some(2)]), iv(10)]).unwrap();
        assert_eq!(d(&r), vec![Some(1024.0)]);
        let r = call("ln", vec![dv(&[Some(0.0), Some(1.0)])]).unwrap();
        assert_eq!(d(&r), vec![None, Some(0.0)]);
        let r = call("log", vec![iv(2), ints(&[Some(8)])]).unwrap();
        assert_eq!(d(&r), vec![Some(3.0)]);
        let r = call("log10", vec![ints(&[Some(100)])]).unwrap();
        assert_eq!(d(&r), vec![Some(2.0)]);
        let r = call("signum", vec![ints(&[Some(-5), Some(0)])]).unwrap();
        assert_eq!(d(&r), vec![Some(-1.0), Some(0.0)]);
        let r = call("exp", vec![ints(&[Some(0)])]).unwrap();
        assert_eq!(d(&r), vec![Some(1.0)]);
    }

    #[test]
    fn greatest_least_skip_nulls() {
        let a = ints(&[Some(1), None, None]);
        let b = ints(&[Some(3), Some(2), None]);
        let r = call("greatest", vec![a.clone(), b.clone()]).unwrap();
        assert_eq!(i(&r), vec![Some(3), Some(2), None]);
        let r = call("least", vec![a, b]).unwrap();
        assert_eq!(i(&r), vec![Some(1), Some(2), None]);
        let r = call("greatest", vec![dv(&[Some(1.0)]), dv(&[Some(f64::NAN)])]).unwrap();
        assert!(d(&r)[0].unwrap().is_nan());
        let e = call("greatest", vec![iv(1)]).unwrap_err().to_string();
        assert!(e.contains("requires > 1 parameters"), "{e}");
    }

    #[test]
    fn mod_and_pmod() {
        let x = ColumnarValue::Array(Arc::new(Int32Array::from(vec![Some(-7), Some(7), None])));
        let r = call("mod", vec![x.clone(), iv(3)]).unwrap();
        assert_eq!(i(&r), vec![Some(-1), Some(1), None]);
        let r = call("pmod", vec![x.clone(), iv(3)]).unwrap();
        assert_eq!(i(&r), vec![Some(2), Some(1), None]);
        let e = call("mod", vec![x.clone(), iv(0)]).unwrap_err().to_string();
        assert!(e.contains("REMAINDER_BY_ZERO"), "{e}");
        let ctx = FunctionContext {
            ansi: false,
            ..Default::default()
        };
        let r = call_ctx("mod", vec![x, iv(0)], &ctx).unwrap();
        assert_eq!(i(&r), vec![None, None, None]);
        let big = ColumnarValue::Scalar(ScalarValue::Int64(Some(10)));
        let r = call("mod", vec![big, dv(&[Some(4.0)])]).unwrap();
        assert_eq!(d(&r), vec![Some(2.0)]);
    }
}
