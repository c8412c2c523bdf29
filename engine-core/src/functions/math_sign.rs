//! Small value functions around zero, sign and NULL: `negative`, `positive`, `nullifzero`,
//! `zeroifnull` and `equal_null`, as Spark's (`negative` of the smallest integer is
//! `ARITHMETIC_OVERFLOW` under ANSI mode and wraps otherwise; `equal_null` is `<=>`).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, ArrowPrimitiveType, AsArray, BooleanArray, PrimitiveArray};
use arrow::datatypes::{
    ArrowNativeTypeOp, DataType, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type,
    Int32Type, Int64Type,
};

use super::array_build::normalize_floats;
use super::string::{SimpleFunction, arrays, rows, wrap};
use super::{FunctionContext, ScalarFunction, unexpected_input_type};
use crate::Result;
use crate::expr::coercion::common_type;
use crate::expr::columnar::ColumnarValue;
use crate::types::{is_numeric, is_string};

fn coerce_numeric(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    let t = &a[0];
    Ok(vec![if is_numeric(t) {
        t.clone()
    } else if is_string(t) {
        DataType::Float64
    } else if *t == DataType::Null {
        DataType::Int32
    } else {
        return Err(unexpected_input_type(name, 1, "\"NUMERIC\"", t));
    }])
}

/// Applies `f` to every non-NULL value of a primitive array of type `T`.
fn map_values<T: ArrowPrimitiveType>(
    a: &ArrayRef,
    f: impl Fn(Option<T::Native>) -> Result<Option<T::Native>>,
) -> Result<ArrayRef> {
    let a = a.as_primitive::<T>();
    let out: PrimitiveArray<T> = a
        .iter()
        .map(f)
        .collect::<Result<PrimitiveArray<T>>>()?
        .with_data_type(a.data_type().clone());
    Ok(Arc::new(out))
}

/// `f` over a numeric array of any of Spark's numeric types.
macro_rules! numeric_dispatch {
    ($a:expr, $f:ident) => {
        match $a.data_type() {
            DataType::Int8 => $f::<Int8Type>($a),
            DataType::Int16 => $f::<Int16Type>($a),
            DataType::Int32 => $f::<Int32Type>($a),
            DataType::Int64 => $f::<Int64Type>($a),
            DataType::Float32 => $f::<Float32Type>($a),
            DataType::Float64 => $f::<Float64Type>($a),
            DataType::Decimal128(_, _) => $f::<Decimal128Type>($a),
            other => Err(crate::EngineError::Internal(format!(
                "numeric function got {other}"
            ))),
        }
    };
}

fn negate<T: ArrowPrimitiveType>(a: &ArrayRef, ansi: bool) -> Result<ArrayRef> {
    map_values::<T>(a, |v| {
        let Some(v) = v else { return Ok(None) };
        match v.neg_checked() {
            Ok(r) => Ok(Some(r)),
            // Only the smallest integer has no negation: an error under ANSI, else itself.
            Err(_) if !ansi => Ok(Some(v.neg_wrapping())),
            Err(_) => Err(super::math::overflow()),
        }
    })
}

fn eval_negative(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    let ansi = ctx.ansi;
    let out = match a.data_type() {
        DataType::Int8 => negate::<Int8Type>(&a, ansi),
        DataType::Int16 => negate::<Int16Type>(&a, ansi),
        DataType::Int32 => negate::<Int32Type>(&a, ansi),
        DataType::Int64 => negate::<Int64Type>(&a, ansi),
        DataType::Decimal128(_, _) => negate::<Decimal128Type>(&a, ansi),
        DataType::Float32 => negate::<Float32Type>(&a, ansi),
        DataType::Float64 => negate::<Float64Type>(&a, ansi),
        other => Err(crate::EngineError::Internal(format!("negative of {other}"))),
    }?;
    wrap(args, out)
}

fn eval_positive(
    _: &str,
    args: &[ColumnarValue],
    _: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    Ok(args[0].clone())
}

fn zero_to_null<T: ArrowPrimitiveType>(a: &ArrayRef) -> Result<ArrayRef> {
    map_values::<T>(a, |v| Ok(v.filter(|v| !v.is_zero())))
}

fn null_to_zero<T: ArrowPrimitiveType>(a: &ArrayRef) -> Result<ArrayRef> {
    map_values::<T>(a, |v| Ok(Some(v.unwrap_or(T::Native::ZERO))))
}

fn eval_nullifzero(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    let a = &a;
    wrap(args, numeric_dispatch!(a, zero_to_null)?)
}

fn eval_zeroifnull(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    let a = &a;
    wrap(args, numeric_dispatch!(a, null_to_zero)?)
}

fn coerce_equal_null(_: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    let t = common_type(a)?;
    Ok(vec![t.clone(), t])
}

fn eval_equal_null(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let (x, y) = (normalize_floats(&a[0]), normalize_floats(&a[1]));
    let cmp = arrow::array::make_comparator(
        x.as_ref(),
        y.as_ref(),
        arrow::compute::SortOptions::default(),
    )?;
    let out: BooleanArray = (0..rows)
        .map(|i| {
            Some(match (x.is_null(i), y.is_null(i)) {
                (true, true) => true,
                (false, false) => cmp(i, i).is_eq(),
                _ => false,
            })
        })
        .collect();
    wrap(args, Arc::new(out))
}

/// Every function of this module with its names.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let s = SimpleFunction::new;
    let same = |a: &[DataType]| Ok(a[0].clone());
    let mut v: Vec<(&'static str, Arc<dyn ScalarFunction>)> = Vec::new();
    v.extend(s("negative", (1, 1), coerce_numeric, same, eval_negative).entries(&[]));
    v.extend(s("positive", (1, 1), coerce_numeric, same, eval_positive).entries(&[]));
    v.extend(s("nullifzero", (1, 1), coerce_numeric, same, eval_nullifzero).entries(&[]));
    v.extend(s("zeroifnull", (1, 1), coerce_numeric, same, eval_zeroifnull).entries(&[]));
    v.extend(
        s(
            "equal_null",
            (2, 2),
            coerce_equal_null,
            |_| Ok(DataType::Boolean),
            eval_equal_null,
        )
        .entries(&[]),
    );
    v
}
