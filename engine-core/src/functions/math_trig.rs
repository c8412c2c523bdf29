//! DOUBLE math functions: trigonometric and hyperbolic (`sin` ... `atanh`, `cot`, `sec`,
//! `csc`, `atan2`), `degrees`, `radians`, `pi`, `e`, `log2`, `log1p`, `expm1`, `cbrt`,
//! `hypot` and `rint`, as Spark's (which follow `java.lang.Math`: out-of-domain input is
//! NaN, except `log2` and `log1p`, which are NULL as Spark's other logarithms).

use std::sync::Arc;

use arrow::array::{AsArray, Float64Array};
use arrow::datatypes::{DataType, Float64Type};

use super::string::{SimpleFunction, arrays, rows, wrap};
use super::{FunctionContext, ScalarFunction, unexpected_input_type};
use crate::Result;
use crate::expr::columnar::ColumnarValue;
use crate::scalar::ScalarValue;
use crate::types::{is_numeric, is_string};

/// Every argument as DOUBLE (numbers, strings and NULL are cast).
pub(crate) fn all_double(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    args.iter()
        .enumerate()
        .map(|(i, t)| {
            if is_numeric(t) || is_string(t) || *t == DataType::Null {
                Ok(DataType::Float64)
            } else {
                Err(unexpected_input_type(name, i + 1, "\"DOUBLE\"", t))
            }
        })
        .collect()
}

/// The one-argument DOUBLE function called `name`.
fn unary(name: &str) -> Option<fn(f64) -> Option<f64>> {
    Some(match name {
        "sin" => |x| Some(x.sin()),
        "cos" => |x| Some(x.cos()),
        "tan" => |x| Some(x.tan()),
        "asin" => |x| Some(x.asin()),
        "acos" => |x| Some(x.acos()),
        "atan" => |x| Some(x.atan()),
        "sinh" => |x| Some(x.sinh()),
        "cosh" => |x| Some(x.cosh()),
        "tanh" => |x| Some(x.tanh()),
        // Spark's own formulas (not the C library's), so results match to the last bit.
        "asinh" => |x| {
            Some(if x == f64::NEG_INFINITY {
                x
            } else {
                (x + (x * x + 1.0).sqrt()).ln()
            })
        },
        "acosh" => |x| Some((x + (x * x - 1.0).sqrt()).ln()),
        "atanh" => |x| Some(0.5 * (x.ln_1p() - (-x).ln_1p())),
        "cot" => |x| Some(1.0 / x.tan()),
        "sec" => |x| Some(1.0 / x.cos()),
        "csc" => |x| Some(1.0 / x.sin()),
        "degrees" => |x| Some(x.to_degrees()),
        "radians" => |x| Some(x.to_radians()),
        "log2" => |x| {
            if x <= 0.0 {
                None
            } else {
                Some(x.ln() / std::f64::consts::LN_2)
            }
        },
        "log1p" => |x| if x <= -1.0 { None } else { Some(x.ln_1p()) },
        "expm1" => |x| Some(x.exp_m1()),
        "cbrt" => |x| Some(x.cbrt()),
        "rint" => |x| Some(x.round_ties_even()),
        _ => return None,
    })
}

fn eval_unary(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let f = unary(name)
        .ok_or_else(|| crate::EngineError::Internal(format!("no DOUBLE function {name}")))?;
    let a = args[0].to_array(rows(args, n))?;
    let out: Float64Array = a
        .as_primitive::<Float64Type>()
        .iter()
        .map(|v| v.and_then(f))
        .collect();
    wrap(args, Arc::new(out))
}

fn eval_binary(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let (x, y) = (
        a[0].as_primitive::<Float64Type>(),
        a[1].as_primitive::<Float64Type>(),
    );
    let hypot = name == "hypot";
    let out: Float64Array = x
        .iter()
        .zip(y.iter())
        .map(|(x, y)| match (x, y) {
            // Spark's atan2 adds 0.0 to both sides so -0.0 behaves as 0.0.
            (Some(x), Some(y)) if hypot => Some(x.hypot(y)),
            (Some(x), Some(y)) => Some((x + 0.0).atan2(y + 0.0)),
            _ => None,
        })
        .collect();
    wrap(args, Arc::new(out))
}

fn eval_constant(
    name: &str,
    _: &[ColumnarValue],
    _: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let v = if name == "pi" {
        std::f64::consts::PI
    } else {
        std::f64::consts::E
    };
    Ok(ColumnarValue::Scalar(ScalarValue::Float64(Some(v))))
}

/// Every function of this module with its names.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let s = SimpleFunction::new;
    let double = |_: &[DataType]| Ok(DataType::Float64);
    let mut v: Vec<(&'static str, Arc<dyn ScalarFunction>)> = Vec::new();
    for name in [
        "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh",
        "atanh", "cot", "sec", "csc", "degrees", "radians", "log2", "log1p", "expm1", "cbrt",
        "rint",
    ] {
        v.extend(s(name, (1, 1), all_double, double, eval_unary).entries(&[]));
    }
    for name in ["atan2", "hypot"] {
        v.extend(s(name, (2, 2), all_double, double, eval_binary).entries(&[]));
    }
    for name in ["pi", "e"] {
        v.extend(s(name, (0, 0), |_, _| Ok(vec![]), double, eval_constant).entries(&[]));
    }
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn domains() {
        let f = |n: &str, x: f64| unary(n).unwrap()(x);
        assert_eq!(f("log2", 0.0), None);
        assert_eq!(f("log2", 8.0), Some(3.0));
        assert_eq!(f("log1p", -1.0), None);
        assert!(f("acosh", 0.5).unwrap().is_nan());
        assert_eq!(f("cot", 0.0), Some(f64::INFINITY));
        assert_eq!(f("rint", 2.5), Some(2.0));
        assert_eq!(f("rint", -2.5), Some(-2.0));
        assert!(f("log1p", f64::NAN).unwrap().is_nan());
        assert!(unary("nope").is_none());
    }
}
