//! Conditional and NULL functions: coalesce, nvl, nvl2, ifnull, if, nullif, isnull,
//! isnotnull, nanvl.
//!
//! Note: arguments are evaluated eagerly for the whole batch (no short-circuit), so an
//! error in an unselected branch of `if` still surfaces; the analyzer may prefer to rewrite
//! `if(c, a, b)` into `CASE WHEN` when that matters.

use std::sync::Arc;

use crate::Result;
use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array};
use arrow::compute::kernels::zip::zip;
use arrow::compute::{is_not_null, is_null};
use arrow::datatypes::{DataType, Float64Type};

use super::string::{SimpleFunction, arrays, rows, wrap};
use super::{FunctionContext, ScalarFunction, unexpected_input_type};
use crate::expr::coercion::common_type;
use crate::expr::columnar::ColumnarValue;

fn coerce_common(_: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    let t = common_type(args)?;
    Ok(vec![t; args.len()])
}

fn ret_first(args: &[DataType]) -> Result<DataType> {
    Ok(args.first().cloned().unwrap_or(DataType::Null))
}

fn ret_bool(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Boolean)
}

/// `cond ? a : b` row by row, where a NULL condition picks `b`.
fn select(cond: &BooleanArray, a: &ArrayRef, b: &ArrayRef) -> Result<ArrayRef> {
    if a.data_type() == &DataType::Null && b.data_type() == &DataType::Null {
        return Ok(a.clone());
    }
    Ok(zip(cond, a, b)?)
}

fn eval_coalesce(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let mut out = a[0].clone();
    for next in &a[1..] {
        if out.null_count() == 0 {
            break;
        }
        let keep = is_not_null(out.as_ref())?;
        out = select(&keep, &out, next)?;
    }
    wrap(args, out)
}

fn coerce_nvl2(_: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    let t = common_type(&args[1..])?;
    Ok(vec![args[0].clone(), t.clone(), t])
}

fn eval_nvl2(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let cond = is_not_null(a[0].as_ref())?;
    wrap(args, select(&cond, &a[1], &a[2])?)
}

fn ret_second(args: &[DataType]) -> Result<DataType> {
    Ok(args[1].clone())
}

fn coerce_if(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    if !matches!(args[0], DataType::Boolean | DataType::Null) {
        return Err(unexpected_input_type(name, 1, "\"BOOLEAN\"", &args[0]));
    }
    let t = common_type(&args[1..])?;
    Ok(vec![DataType::Boolean, t.clone(), t])
}

fn eval_if(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let cond = a[0].as_boolean();
    wrap(args, select(cond, &a[1], &a[2])?)
}

fn eval_nullif(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    if a[0].data_type() == &DataType::Null {
        return wrap(args, a[0].clone());
    }
    // NULL when equal; a NULL comparison (either side NULL) keeps the first value.
    let eq = arrow::compute::kernels::cmp::eq(&a[0], &a[1])?;
    let keep: BooleanArray = eq.iter().map(|e| Some(e != Some(true))).collect();
    let nulls = arrow::array::new_null_array(a[0].data_type(), rows);
    wrap(args, zip(&keep, &a[0], &nulls)?)
}

fn eval_isnull(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    wrap(args, Arc::new(is_null(a.as_ref())?))
}

fn eval_isnotnull(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    wrap(args, Arc::new(is_not_null(a.as_ref())?))
}

fn coerce_nanvl(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    for (i, t) in args.iter().enumerate() {
        if !(crate::types::is_numeric(t) || *t == DataType::Null) {
            return Err(unexpected_input_type(
                name,
                i + 1,
                "(\"DOUBLE\" or \"FLOAT\")",
                t,
            ));
        }
    }
    Ok(vec![DataType::Float64, DataType::Float64])
}

fn coerce_isnan(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    coerce_nanvl(name, args).map(|mut t| {
        t.truncate(args.len());
        t
    })
}

/// Spark's `isnan`: true for NaN, false otherwise, NULL included.
fn eval_isnan(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let x = a[0].as_primitive::<Float64Type>();
    let out: BooleanArray = (0..rows)
        .map(|i| Some(x.is_valid(i) && x.value(i).is_nan()))
        .collect();
    wrap(args, Arc::new(out))
}

fn eval_nanvl(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let x = a[0].as_primitive::<Float64Type>();
    let y = a[1].as_primitive::<Float64Type>();
    let out: Float64Array = (0..rows)
        .map(|i| {
            if x.is_null(i) {
                None
            } else if x.value(i).is_nan() {
                y.is_valid(i).then(|| y.value(i))
            } else {
                Some(x.value(i))
            }
        })
        .collect();
    wrap(args, Arc::new(out))
}

/// Spark's `typeof`: the argument type's simpleString (`int`, `decimal(5,2)`, ...). The
/// planner takes it from the types alone ([`ScalarFunction::result_from_types`]), so the
/// argument is never evaluated.
#[derive(Debug)]
struct TypeOf;

impl ScalarFunction for TypeOf {
    fn name(&self) -> &str {
        "typeof"
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        super::string::check_arity("typeof", args.len(), (1, 1))?;
        Ok(args.to_vec())
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        super::string::check_arity("typeof", args.len(), (1, 1))?;
        Ok(DataType::Utf8)
    }

    fn invoke(
        &self,
        args: &[ColumnarValue],
        n: usize,
        _: &FunctionContext,
    ) -> Result<ColumnarValue> {
        super::string::check_arity("typeof", args.len(), (1, 1))?;
        let types: Vec<DataType> = args.iter().map(ColumnarValue::data_type).collect();
        let v = self
            .result_from_types(&types)
            .unwrap_or(crate::scalar::ScalarValue::Utf8(None));
        match &args[0] {
            ColumnarValue::Scalar(_) => Ok(ColumnarValue::Scalar(v)),
            ColumnarValue::Array(_) => Ok(ColumnarValue::Array(v.to_array(n)?)),
        }
    }

    fn result_from_types(&self, args: &[DataType]) -> Option<crate::scalar::ScalarValue> {
        let [t] = args else { return None };
        Some(crate::scalar::ScalarValue::Utf8(Some(
            crate::types::simple_string(t),
        )))
    }
}

/// Every conditional (and type-inspection) function with its names.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let s = SimpleFunction::new;
    let mut v = Vec::new();
    v.extend(
        s(
            "coalesce",
            (1, usize::MAX),
            coerce_common,
            ret_first,
            eval_coalesce,
        )
        .entries(&[]),
    );
    v.extend(s("nvl", (2, 2), coerce_common, ret_first, eval_coalesce).entries(&["ifnull"]));
    v.extend(s("nvl2", (3, 3), coerce_nvl2, ret_second, eval_nvl2).entries(&[]));
    v.extend(s("if", (3, 3), coerce_if, ret_second, eval_if).entries(&[]));
    v.extend(s("nullif", (2, 2), coerce_common, ret_first, eval_nullif).entries(&[]));
    v.extend(
        s(
            "isnull",
            (1, 1),
            |_, a| Ok(a.to_vec()),
            ret_bool,
            eval_isnull,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "isnotnull",
            (1, 1),
            |_, a| Ok(a.to_vec()),
            ret_bool,
            eval_isnotnull,
        )
        .entries(&[]),
    );
    v.push(("typeof", Arc::new(TypeOf) as Arc<dyn ScalarFunction>));
    v.extend(s("isnan", (1, 1), coerce_isnan, ret_bool, eval_isnan).entries(&[]));
    v.extend(
        s(
            "nanvl",
            (2, 2),
            coerce_nanvl,
            |_| Ok(DataType::Float64),
            eval_nanvl,
        )
        .entries(&[]),
    );
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use arrow::array::Int32Array;
    use arrow::datatypes::Int32Type;

    use super::super::string::tests::{call, ints, iv};
    use super::*;
    use crate::scalar::ScalarValue;

    fn vals(a: &ArrayRef) -> Vec<Option<i32>> {
        a.as_primitive::<Int32Type>().iter().collect()
    }

    #[test]
    fn coalesce_family() {
        let a = ints(&[None, Some(1), None]);
        let b = ints(&[Some(2), Some(3), None]);
        assert_eq!(
            vals(&call("coalesce", vec![a.clone(), b.clone(), iv(9)]).unwrap()),
            vec![Some(2), Some(1), Some(9)]
        );
        assert_eq!(
            vals(&call("ifnull", vec![a.clone(), b.clone()]).unwrap()),
            vec![Some(2), Some(1), None]
        );
        assert_eq!(
            vals(&call("nvl2", vec![a.clone(), iv(7), iv(8)]).unwrap()),
            vec![Some(8), Some(7), Some(8)]
        );
        assert_eq!(
            vals(&call("nullif", vec![ints(&[Some(1), Some(2), None]), iv(2)]).unwrap()),
            vec![Some(1), None, None]
        );
        let e = call("coalesce", vec![]).unwrap_err().to_string();
        assert!(e.contains("requires > 0 parameters"), "{e}");
    }

    #[test]
    fn if_and_null_tests() {
        let c = ColumnarValue::Array(Arc::new(BooleanArray::from(vec![
            Some(true),
            Some(false),
            None,
        ])));
        let r = call("if", vec![c, iv(1), iv(2)]).unwrap();
        assert_eq!(vals(&r), vec![Some(1), Some(2), Some(2)]);
        let e = call("if", vec![iv(1), iv(1), iv(2)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"BOOLEAN\""), "{e}");
        let a = ColumnarValue::Array(Arc::new(Int32Array::from(vec![Some(1), None])));
        let r = call("isnull", vec![a.clone()]).unwrap();
        assert_eq!(
            r.as_boolean().iter().collect::<Vec<_>>(),
            vec![Some(false), Some(true)]
        );
        let r = call("isnotnull", vec![a]).unwrap();
        assert_eq!(
            r.as_boolean().iter().collect::<Vec<_>>(),
            vec![Some(true), Some(false)]
        );
    }

    #[test]
    fn typeof_names_types() {
        let r = call("typeof", vec![ints(&[Some(1), None])]).unwrap();
        assert_eq!(
            super::super::string::tests::as_strs(&r),
            vec![Some("int".to_string()), Some("int".to_string())]
        );
    }

    #[test]
    fn nanvl_replaces_nan() {
        let x = ColumnarValue::Array(Arc::new(Float64Array::from(vec![
            Some(f64::NAN),
            Some(1.0),
            None,
        ])));
        let y = ColumnarValue::Scalar(ScalarValue::Float64(Some(0.0)));
        let r = call("nanvl", vec![x, y]).unwrap();
        assert_eq!(
            r.as_primitive::<Float64Type>().iter().collect::<Vec<_>>(),
            vec![Some(0.0), Some(1.0), None]
        );
    }
}
