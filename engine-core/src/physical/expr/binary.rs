//! Binary operators: arithmetic, comparison, Kleene logic and `||`, with Spark's semantics.
//!
//! Operands arrive already coerced by the analyzer (`analyzer::coercion::coerce_binary`), so
//! both sides of an arithmetic or comparison operator have one type (decimals may differ in
//! precision and scale; `/` on integers is defensively done in DOUBLE).

use std::fmt;
use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::array::{
    Array, ArrayRef, ArrowNativeTypeOp, AsArray, BooleanArray, Decimal128Array, PrimitiveArray,
    new_null_array,
};
use arrow::compute::kernels::arity::try_binary;
use arrow::compute::kernels::{boolean, cmp, numeric};
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type,
};
use arrow::record_batch::RecordBatch;

use super::arithmetic_errors::{ANSI_OFF_HINT, overflow_message};
use super::{
    ColumnarValue, PhysicalExpr, PhysicalExprRef, apply_arrays, apply_datum, arrow_to_engine,
    spark_arrow_error,
};
use crate::expr::BinaryOperator;
use crate::expr::coercion::binary_result_type;
use crate::functions::decimal::{decimal_out_of_range, div_half_up, fits, pow10, rescale};
use crate::scalar::ScalarValue;

fn divide_by_zero() -> EngineError {
    EngineError::execution(
        "DIVIDE_BY_ZERO",
        format!(
            "Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead. {ANSI_OFF_HINT} SQLSTATE: 22012"
        ),
    )
}

fn remainder_by_zero() -> EngineError {
    EngineError::execution(
        "REMAINDER_BY_ZERO",
        format!(
            "Remainder by zero. Use `try_mod` to tolerate divisor being 0 and return NULL instead. {ANSI_OFF_HINT} SQLSTATE: 22012"
        ),
    )
}

/// `left op right`.
#[derive(Debug)]
pub struct BinaryExpr {
    left: PhysicalExprRef,
    op: BinaryOperator,
    right: PhysicalExprRef,
    ansi: bool,
    /// The `try_*` functions: NULL instead of an overflow or division-by-zero error.
    try_mode: bool,
    data_type: DataType,
}

impl BinaryExpr {
    /// `left op right`; `ansi` selects failing (true) or NULL/wrapping (false) on overflow and
    /// division by zero. The result type follows Spark (`binary_result_type`).
    pub fn new(
        left: PhysicalExprRef,
        op: BinaryOperator,
        right: PhysicalExprRef,
        ansi: bool,
    ) -> Self {
        let data_type = match (op, left.data_type(), right.data_type()) {
            // Defensive: uncoerced non-decimal `/` is computed in DOUBLE.
            (BinaryOperator::Divide, l, _) if !matches!(l, DataType::Decimal128(_, _)) => {
                DataType::Float64
            }
            (_, l, r) => binary_result_type(op, l, r),
        };
        BinaryExpr {
            left,
            op,
            right,
            ansi,
            try_mode: false,
            data_type,
        }
    }

    /// `left op right` as Spark's TRY evaluation mode (`try_add`, `try_divide`, ...):
    /// overflow and division by zero give NULL instead of failing.
    pub fn new_try(left: PhysicalExprRef, op: BinaryOperator, right: PhysicalExprRef) -> Self {
        BinaryExpr {
            try_mode: true,
            ..BinaryExpr::new(left, op, right, false)
        }
    }
}

impl fmt::Display for BinaryExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({} {} {})", self.left, self.op, self.right)
    }
}

impl PhysicalExpr for BinaryExpr {
    fn data_type(&self) -> &DataType {
        &self.data_type
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        use BinaryOperator::*;
        let l = self.left.evaluate(batch)?;
        let r = self.right.evaluate(batch)?;
        let n = batch.num_rows();
        match self.op {
            And | Or => {
                let and = self.op == And;
                apply_arrays(l, r, n, |a, b| {
                    let a = as_bool(a)?;
                    let b = as_bool(b)?;
                    let out = if and {
                        boolean::and_kleene(&a, &b)?
                    } else {
                        boolean::or_kleene(&a, &b)?
                    };
                    Ok(Arc::new(out) as ArrayRef)
                })
            }
            op if op.is_comparison() => compare(op, &l, &r),
            StringConcat => apply_arrays(l, r, n, |a, b| {
                if a.data_type() == &DataType::Null || b.data_type() == &DataType::Null {
                    return Ok(new_null_array(&self.data_type, a.len()));
                }
                Ok(arrow::compute::kernels::concat_elements::concat_elements_dyn(a, b)?)
            }),
            op => {
                let (ansi, out) = (self.ansi, &self.data_type);
                let mode = if self.try_mode {
                    IntOverflow::Null
                } else if ansi {
                    IntOverflow::Fail
                } else {
                    IntOverflow::Wrap
                };
                apply_arrays(l, r, n, |a, b| arithmetic(op, a, b, mode, out))
            }
        }
    }
}

/// A boolean view of an operand; an untyped NULL column becomes all-NULL booleans.
fn as_bool(a: &ArrayRef) -> Result<BooleanArray> {
    if a.data_type() == &DataType::Null {
        return Ok(BooleanArray::from(vec![None; a.len()]));
    }
    a.as_boolean_opt()
        .cloned()
        .ok_or_else(|| EngineError::Internal(format!("boolean operator on {}", a.data_type())))
}

/// Spark compares `-0.0` equal to `0.0`; Arrow's total order does not, so zeros are
/// normalized first. NaN is equal to NaN and above every other value in both.
fn normalize_zero(v: &ColumnarValue) -> Result<Option<ColumnarValue>> {
    Ok(match v {
        ColumnarValue::Array(a) => match a.data_type() {
            DataType::Float64 => Some(ColumnarValue::Array(Arc::new(
                a.as_primitive::<Float64Type>()
                    .unary::<_, Float64Type>(|x| if x == 0.0 { 0.0 } else { x }),
            ))),
            DataType::Float32 => Some(ColumnarValue::Array(Arc::new(
                a.as_primitive::<Float32Type>()
                    .unary::<_, Float32Type>(|x| if x == 0.0 { 0.0 } else { x }),
            ))),
            _ => None,
        },
        ColumnarValue::Scalar(ScalarValue::Float64(Some(x))) if *x == 0.0 => {
            Some(ColumnarValue::Scalar(ScalarValue::Float64(Some(0.0))))
        }
        ColumnarValue::Scalar(ScalarValue::Float32(Some(x))) if *x == 0.0 => {
            Some(ColumnarValue::Scalar(ScalarValue::Float32(Some(0.0))))
        }
        _ => None,
    })
}

/// Evaluates a comparison operator over two values.
pub(crate) fn compare(
    op: BinaryOperator,
    l: &ColumnarValue,
    r: &ColumnarValue,
) -> Result<ColumnarValue> {
    use BinaryOperator::*;
    // An untyped NULL side: `<=>` tests the other side for NULL, the rest are NULL.
    let (lt, rt) = (l.data_type(), r.data_type());
    if lt == DataType::Null || rt == DataType::Null {
        if op != NullSafeEq {
            return Ok(ColumnarValue::Scalar(ScalarValue::Boolean(None)));
        }
        let other = if lt == DataType::Null { r } else { l };
        return Ok(match other {
            ColumnarValue::Scalar(s) => {
                ColumnarValue::Scalar(ScalarValue::Boolean(Some(s.is_null())))
            }
            ColumnarValue::Array(a) => {
                ColumnarValue::Array(Arc::new(super::unary::is_null_array(a.as_ref())))
            }
        });
    }
    if is_nested(&lt) || is_nested(&rt) {
        return compare_nested(op, l, r);
    }
    // -0.0 and 0.0 only compare differently against zero; against any other constant the
    // order is the same, so skip copying the array to normalize it.
    let nonzero_const = |v: &ColumnarValue| {
        matches!(v, ColumnarValue::Scalar(ScalarValue::Float64(Some(x))) if *x != 0.0)
            || matches!(v, ColumnarValue::Scalar(ScalarValue::Float32(Some(x))) if *x != 0.0)
    };
    let ln = if nonzero_const(r) {
        None
    } else {
        normalize_zero(l)?
    };
    let rn = if nonzero_const(l) {
        None
    } else {
        normalize_zero(r)?
    };
    let l = ln.as_ref().unwrap_or(l);
    let r = rn.as_ref().unwrap_or(r);
    let f = match op {
        Eq => cmp::eq,
        NotEq => cmp::neq,
        Lt => cmp::lt,
        LtEq => cmp::lt_eq,
        Gt => cmp::gt,
        GtEq => cmp::gt_eq,
        NullSafeEq => cmp::not_distinct,
        other => {
            return Err(EngineError::Internal(format!(
                "{other} is not a comparison"
            )));
        }
    };
    apply_datum(l, r, |a, b| f(a, b).map(|x| Arc::new(x) as ArrayRef))
}

fn is_nested(t: &DataType) -> bool {
    matches!(
        t,
        DataType::List(_) | DataType::LargeList(_) | DataType::Struct(_) | DataType::Map(_, _)
    )
}

/// Comparisons of arrays and structs (Spark orders them element by element), row by row
/// through Arrow's dynamic comparator.
fn compare_nested(
    op: BinaryOperator,
    l: &ColumnarValue,
    r: &ColumnarValue,
) -> Result<ColumnarValue> {
    use BinaryOperator::*;
    use std::cmp::Ordering;
    let n = match (l, r) {
        (ColumnarValue::Array(a), _) | (_, ColumnarValue::Array(a)) => a.len(),
        _ => 1,
    };
    let both_scalar = matches!((l, r), (ColumnarValue::Scalar(_), ColumnarValue::Scalar(_)));
    let a = l.to_array(n)?;
    let b = r.to_array(n)?;
    let cmp = arrow::array::make_comparator(a.as_ref(), b.as_ref(), Default::default())?;
    let out: BooleanArray = (0..n)
        .map(|i| {
            let (an, bn) = (a.is_null(i), b.is_null(i));
            if an || bn {
                return (op == NullSafeEq).then_some(an && bn);
            }
            let o = cmp(i, i);
            Some(match op {
                Eq | NullSafeEq => o == Ordering::Equal,
                NotEq => o != Ordering::Equal,
                Lt => o == Ordering::Less,
                LtEq => o != Ordering::Greater,
                Gt => o == Ordering::Greater,
                _ => o != Ordering::Less,
            })
        })
        .collect();
    if both_scalar {
        return Ok(ColumnarValue::Scalar(ScalarValue::Boolean(
            (!out.is_null(0)).then(|| out.value(0)),
        )));
    }
    Ok(ColumnarValue::Array(Arc::new(out)))
}

/// The Spark `try_*` function that tolerates an operator's overflow.
fn try_function(op: BinaryOperator) -> &'static str {
    match op {
        BinaryOperator::Plus => "try_add",
        BinaryOperator::Minus => "try_subtract",
        BinaryOperator::Multiply => "try_multiply",
        _ => "try_divide",
    }
}

/// What integer overflow does: fail (ANSI), wrap (legacy) or give NULL (`try_*`). Only
/// `Fail` fails on a zero divisor or a decimal overflow; the others give NULL there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IntOverflow {
    Fail,
    Wrap,
    Null,
}

/// Evaluates an arithmetic operator over two arrays of the coerced types.
fn arithmetic(
    op: BinaryOperator,
    a: &ArrayRef,
    b: &ArrayRef,
    mode: IntOverflow,
    out: &DataType,
) -> Result<ArrayRef> {
    use BinaryOperator::*;
    let ansi = mode == IntOverflow::Fail;
    if a.data_type() == &DataType::Null || b.data_type() == &DataType::Null {
        return Ok(new_null_array(out, a.len()));
    }
    if op == Divide && !matches!(a.data_type(), DataType::Decimal128(_, _)) {
        let a = to_f64(a)?;
        let b = to_f64(b)?;
        return float_div_mod::<Float64Type>(op, &a, &b, ansi);
    }
    match (a.data_type(), b.data_type()) {
        (DataType::Date32, DataType::Int32) | (DataType::Int32, DataType::Date32) => {
            let date_first = a.data_type() == &DataType::Date32;
            let (d, n) = if date_first { (a, b) } else { (b, a) };
            let days = arrow::compute::cast(d, &DataType::Int32)?;
            let (pd, pn) = (
                days.as_primitive::<Int32Type>(),
                n.as_primitive::<Int32Type>(),
            );
            let minus = op == Minus;
            let out: PrimitiveArray<Int32Type> = try_binary(pd, pn, |x, y| {
                Ok(if minus {
                    x.wrapping_sub(y)
                } else {
                    x.wrapping_add(y)
                })
            })?;
            Ok(arrow::compute::cast(&out, &DataType::Date32)?)
        }
        (DataType::Decimal128(_, _), DataType::Decimal128(_, _)) => {
            decimal_arithmetic(op, a, b, ansi, out)
        }
        (x, y) if x != y => Err(EngineError::Internal(format!(
            "arithmetic on uncoerced operands {x} and {y}"
        ))),
        (DataType::Int8, _) => int_arithmetic::<Int8Type>(op, a, b, mode),
        (DataType::Int16, _) => int_arithmetic::<Int16Type>(op, a, b, mode),
        (DataType::Int32, _) => int_arithmetic::<Int32Type>(op, a, b, mode),
        (DataType::Int64, _) => int_arithmetic::<Int64Type>(op, a, b, mode),
        (DataType::Float32, _) => float_arithmetic::<Float32Type>(op, a, b, ansi),
        (DataType::Float64, _) => float_arithmetic::<Float64Type>(op, a, b, ansi),
        (other, _) => Err(EngineError::Internal(format!("arithmetic {op} on {other}"))),
    }
}

fn to_f64(a: &ArrayRef) -> Result<ArrayRef> {
    Ok(arrow::compute::cast(a, &DataType::Float64)?)
}

/// The NULL-aware "is zero" mask of a divisor.
fn zero_mask<T: ArrowPrimitiveType>(b: &PrimitiveArray<T>) -> BooleanArray
where
    T::Native: ArrowNativeTypeOp,
{
    BooleanArray::from_unary(b, |y| y.is_zero())
}

/// For `/`, `div` and `%`: fails (ANSI) or nulls out (legacy) rows with a zero divisor.
/// Spark checks the divisor first, so a zero divisor fails even when the dividend is NULL.
fn guard_zero<T: ArrowPrimitiveType>(
    op: BinaryOperator,
    b: &ArrayRef,
    ansi: bool,
) -> Result<ArrayRef>
where
    T::Native: ArrowNativeTypeOp,
{
    let zeros = zero_mask(b.as_primitive::<T>());
    if zeros.true_count() == 0 {
        return Ok(b.clone());
    }
    if ansi {
        return Err(if op == BinaryOperator::Modulo {
            remainder_by_zero()
        } else {
            divide_by_zero()
        });
    }
    Ok(arrow::compute::nullif(b, &zeros)?)
}

fn int_arithmetic<T: ArrowPrimitiveType>(
    op: BinaryOperator,
    a: &ArrayRef,
    b: &ArrayRef,
    mode: IntOverflow,
) -> Result<ArrayRef>
where
    T::Native: ArrowNativeTypeOp + fmt::Display,
{
    use BinaryOperator::*;
    let ansi = mode == IntOverflow::Fail;
    let small = matches!(T::DATA_TYPE, DataType::Int8 | DataType::Int16);
    // Spark 4 says just "overflow" for INT and BIGINT.
    let what = "overflow";
    // Spark renders TINYINT operands with the SMALLINT suffix in this message.
    let suffix = "S";
    let b = if matches!(op, IntDivide | Modulo) {
        guard_zero::<T>(op, b, ansi)?
    } else {
        b.clone()
    };
    let (pa, pb) = (a.as_primitive::<T>(), b.as_primitive::<T>());
    if mode == IntOverflow::Null {
        let f = |x: T::Native, y: T::Native| match op {
            Plus => x.add_checked(y).ok(),
            Minus => x.sub_checked(y).ok(),
            Multiply => x.mul_checked(y).ok(),
            IntDivide => x.div_checked(y).ok(),
            // MIN % -1 is 0 in Java.
            _ => Some(x.mod_wrapping(y)),
        };
        let out: PrimitiveArray<T> = pa
            .iter()
            .zip(pb.iter())
            .map(|(x, y)| x.zip(y).and_then(|(x, y)| f(x, y)))
            .collect();
        let out: ArrayRef = Arc::new(out);
        if op == IntDivide && T::DATA_TYPE != DataType::Int64 {
            return Ok(arrow::compute::cast(&out, &DataType::Int64)?);
        }
        return Ok(out);
    }
    let fail = |x: T::Native, y: T::Native| {
        if op == IntDivide {
            spark_arrow_error(
                "ARITHMETIC_OVERFLOW",
                overflow_message("Overflow in integral divide", Some("try_divide")),
            )
        } else if small {
            spark_arrow_error(
                "BINARY_ARITHMETIC_OVERFLOW",
                format!(
                    "{x}{suffix} {op} {y}{suffix} caused overflow. Use `{}` to ignore overflow problem and return NULL. SQLSTATE: 22003",
                    try_function(op)
                ),
            )
        } else {
            spark_arrow_error(
                "ARITHMETIC_OVERFLOW",
                overflow_message(what, Some(try_function(op))),
            )
        }
    };
    let out: PrimitiveArray<T> = match (op, ansi) {
        (Plus, true) => try_binary(pa, pb, |x, y| x.add_checked(y).map_err(|_| fail(x, y))),
        (Minus, true) => try_binary(pa, pb, |x, y| x.sub_checked(y).map_err(|_| fail(x, y))),
        (Multiply, true) => try_binary(pa, pb, |x, y| x.mul_checked(y).map_err(|_| fail(x, y))),
        (IntDivide, true) => try_binary(pa, pb, |x, y| x.div_checked(y).map_err(|_| fail(x, y))),
        (Plus, false) => try_binary(pa, pb, |x, y| Ok(x.add_wrapping(y))),
        (Minus, false) => try_binary(pa, pb, |x, y| Ok(x.sub_wrapping(y))),
        (Multiply, false) => try_binary(pa, pb, |x, y| Ok(x.mul_wrapping(y))),
        (IntDivide, false) => try_binary(pa, pb, |x, y| Ok(x.div_wrapping(y))),
        // MIN % -1 is 0 in Java and with wrapping arithmetic alike.
        (Modulo, _) => try_binary(pa, pb, |x, y| Ok(x.mod_wrapping(y))),
        (other, _) => {
            return Err(EngineError::Internal(format!("integer operator {other}")));
        }
    }
    .map_err(arrow_to_engine)?;
    let out: ArrayRef = Arc::new(out);
    // `div` always returns BIGINT.
    if op == IntDivide && T::DATA_TYPE != DataType::Int64 {
        return Ok(arrow::compute::cast(&out, &DataType::Int64)?);
    }
    Ok(out)
}

fn float_arithmetic<T: ArrowPrimitiveType>(
    op: BinaryOperator,
    a: &ArrayRef,
    b: &ArrayRef,
    ansi: bool,
) -> Result<ArrayRef>
where
    T::Native: ArrowNativeTypeOp,
{
    use BinaryOperator::*;
    match op {
        Plus => Ok(numeric::add(a, b)?),
        Minus => Ok(numeric::sub(a, b)?),
        Multiply => Ok(numeric::mul(a, b)?),
        Divide | Modulo => float_div_mod::<T>(op, a, b, ansi),
        IntDivide => {
            // Legacy `div` on fractional operands: through BIGINT as Spark's implicit cast.
            let a = arrow::compute::cast(a, &DataType::Int64)?;
            let b = arrow::compute::cast(b, &DataType::Int64)?;
            let mode = if ansi {
                IntOverflow::Fail
            } else {
                IntOverflow::Wrap
            };
            int_arithmetic::<Int64Type>(op, &a, &b, mode)
        }
        other => Err(EngineError::Internal(format!("float operator {other}"))),
    }
}

/// `/` and `%` on floats: a zero divisor fails or gives NULL (Spark does not produce
/// Infinity/NaN for division by zero).
fn float_div_mod<T: ArrowPrimitiveType>(
    op: BinaryOperator,
    a: &ArrayRef,
    b: &ArrayRef,
    ansi: bool,
) -> Result<ArrayRef>
where
    T::Native: ArrowNativeTypeOp,
{
    let b = guard_zero::<T>(op, b, ansi)?;
    let (pa, pb) = (a.as_primitive::<T>(), b.as_primitive::<T>());
    let out: PrimitiveArray<T> = if op == BinaryOperator::Divide {
        try_binary(pa, pb, |x, y| Ok(x.div_wrapping(y)))?
    } else {
        try_binary(pa, pb, |x, y| Ok(x.mod_wrapping(y)))?
    };
    Ok(Arc::new(out))
}

/// Decimal `+ - * / % div` computed exactly on unscaled values, rounded HALF_UP to the
/// result scale; results beyond the result precision fail (ANSI) or are NULL.
fn decimal_arithmetic(
    op: BinaryOperator,
    a: &ArrayRef,
    b: &ArrayRef,
    ansi: bool,
    out: &DataType,
) -> Result<ArrayRef> {
    use BinaryOperator::*;
    let (DataType::Decimal128(_, s1), DataType::Decimal128(_, s2)) = (a.data_type(), b.data_type())
    else {
        return Err(EngineError::Internal(
            "decimal arithmetic on non-decimals".into(),
        ));
    };
    let (s1, s2) = (*s1, *s2);
    let (pa, pb): (&Decimal128Array, &Decimal128Array) = (a.as_primitive(), b.as_primitive());
    if matches!(op, Divide | IntDivide | Modulo) {
        let zeros = zero_mask(pb);
        if zeros.true_count() > 0 && ansi {
            return Err(if op == Modulo {
                remainder_by_zero()
            } else {
                divide_by_zero()
            });
        }
    }
    let (p, s) = match out {
        DataType::Decimal128(p, s) => (*p, *s),
        DataType::Int64 => (38, 0),
        other => {
            return Err(EngineError::Internal(format!(
                "decimal result type {other}"
            )));
        }
    };
    let common = s1.max(s2);
    let compute = |x: i128, y: i128| -> Option<i128> {
        match op {
            Plus => rescale(x, s1, common)?
                .checked_add(rescale(y, s2, common)?)
                .and_then(|v| rescale(v, common, s)),
            Minus => rescale(x, s1, common)?
                .checked_sub(rescale(y, s2, common)?)
                .and_then(|v| rescale(v, common, s)),
            Multiply => rescale(x.checked_mul(y)?, s1 + s2, s),
            Divide => {
                // x/10^s1 / (y/10^s2) at scale s: x * 10^(s - s1 + s2) / y.
                let shift = s as i32 - s1 as i32 + s2 as i32;
                if shift >= 0 {
                    div_half_up(x.checked_mul(pow10(shift as u32)?)?, y)
                } else {
                    div_half_up(x, y.checked_mul(pow10((-shift) as u32)?)?)
                }
            }
            Modulo => {
                let r = rescale(x, s1, common)?.checked_rem(rescale(y, s2, common)?)?;
                rescale(r, common, s)
            }
            IntDivide => rescale(x, s1, common)?.checked_div(rescale(y, s2, common)?),
            _ => None,
        }
    };
    let mut values = Vec::with_capacity(pa.len());
    for i in 0..pa.len() {
        if pa.is_null(i)
            || pb.is_null(i)
            || (matches!(op, Divide | IntDivide | Modulo) && pb.value(i) == 0)
        {
            values.push(None);
            continue;
        }
        let v = compute(pa.value(i), pb.value(i));
        let ok = match (op, v) {
            (IntDivide, Some(v)) => i64::try_from(v).is_ok(),
            (_, Some(v)) => fits(v, p),
            (_, None) => false,
        };
        if !ok {
            if ansi {
                if op == IntDivide {
                    return Err(EngineError::execution(
                        "ARITHMETIC_OVERFLOW",
                        overflow_message("Overflow in integral divide", Some("try_divide")),
                    ));
                }
                return Err(decimal_out_of_range(v, s, p, s));
            }
            values.push(None);
        } else {
            values.push(v);
        }
    }
    if op == IntDivide {
        let ints: arrow::array::Int64Array = values
            .into_iter()
            .map(|v| v.and_then(|v| i64::try_from(v).ok()))
            .collect();
        return Ok(Arc::new(ints));
    }
    Ok(Arc::new(
        Decimal128Array::from(values).with_precision_and_scale(p, s)?,
    ))
}
