//! One-operand expressions: `NOT`, unary minus, `IS [NOT] NULL`.

use std::fmt;
use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::array::ArrowNativeTypeOp;
use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Decimal128Array, PrimitiveArray};
use arrow::compute::kernels::arity::{try_unary, unary};
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type,
};
use arrow::record_batch::RecordBatch;

use super::arithmetic_errors::overflow_message;
use super::{
    ColumnarValue, PhysicalExpr, PhysicalExprRef, apply_unary, arrow_to_engine, spark_arrow_error,
};
use crate::scalar::ScalarValue;

/// Three-valued `NOT`: NULL stays NULL.
#[derive(Debug)]
pub struct NotExpr {
    expr: PhysicalExprRef,
}

impl NotExpr {
    /// `NOT expr`.
    pub fn new(expr: PhysicalExprRef) -> Self {
        NotExpr { expr }
    }
}

impl fmt::Display for NotExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(NOT {})", self.expr)
    }
}

impl PhysicalExpr for NotExpr {
    fn data_type(&self) -> &DataType {
        &DataType::Boolean
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        apply_unary(self.expr.evaluate(batch)?, |a| {
            if a.data_type() == &DataType::Null {
                return Ok(arrow::array::new_null_array(&DataType::Boolean, a.len()));
            }
            let b = a
                .as_boolean_opt()
                .ok_or_else(|| EngineError::Internal(format!("NOT of {}", a.data_type())))?;
            Ok(Arc::new(arrow::compute::not(b)?) as ArrayRef)
        })
    }
}

/// Unary minus; in ANSI mode negating the smallest integer fails with
/// `ARITHMETIC_OVERFLOW`, otherwise it wraps (as Java does).
#[derive(Debug)]
pub struct NegativeExpr {
    expr: PhysicalExprRef,
    ansi: bool,
}

impl NegativeExpr {
    /// `-expr`.
    pub fn new(expr: PhysicalExprRef, ansi: bool) -> Self {
        NegativeExpr { expr, ansi }
    }
}

impl fmt::Display for NegativeExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(- {})", self.expr)
    }
}

fn neg_int<T: ArrowPrimitiveType>(a: &ArrayRef, ansi: bool, what: &str) -> Result<ArrayRef>
where
    T::Native: ArrowNativeTypeOp,
{
    let a = a.as_primitive::<T>();
    let out: PrimitiveArray<T> = if ansi {
        try_unary(a, |x| {
            x.neg_checked()
                .map_err(|_| spark_arrow_error("ARITHMETIC_OVERFLOW", overflow_message(what, None)))
        })
        .map_err(arrow_to_engine)?
    } else {
        unary(a, |x| x.neg_wrapping())
    };
    Ok(Arc::new(out))
}

impl PhysicalExpr for NegativeExpr {
    fn data_type(&self) -> &DataType {
        self.expr.data_type()
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let ansi = self.ansi;
        apply_unary(self.expr.evaluate(batch)?, |a| match a.data_type() {
            DataType::Int8 => neg_int::<Int8Type>(a, ansi, "overflow"),
            DataType::Int16 => neg_int::<Int16Type>(a, ansi, "overflow"),
            DataType::Int32 => neg_int::<Int32Type>(a, ansi, "overflow"),
            DataType::Int64 => neg_int::<Int64Type>(a, ansi, "overflow"),
            DataType::Float32 => Ok(Arc::new(unary::<Float32Type, _, Float32Type>(
                a.as_primitive(),
                |x| -x,
            )) as ArrayRef),
            DataType::Float64 => Ok(Arc::new(unary::<Float64Type, _, Float64Type>(
                a.as_primitive(),
                |x| -x,
            )) as ArrayRef),
            DataType::Decimal128(p, s) => {
                let d: &Decimal128Array = a.as_primitive();
                let out: Decimal128Array = unary(d, |x: i128| x.wrapping_neg());
                Ok(Arc::new(out.with_precision_and_scale(*p, *s)?) as ArrayRef)
            }
            DataType::Null => Ok(a.clone()),
            other => Err(EngineError::Internal(format!("negating {other}"))),
        })
    }
}

/// `expr IS NULL`: never NULL itself.
#[derive(Debug)]
pub struct IsNullExpr {
    expr: PhysicalExprRef,
}

impl IsNullExpr {
    /// `expr IS NULL`.
    pub fn new(expr: PhysicalExprRef) -> Self {
        IsNullExpr { expr }
    }
}

impl fmt::Display for IsNullExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({} IS NULL)", self.expr)
    }
}

/// Logical NULLs (a `NullArray` is all NULL even without a validity buffer).
pub(crate) fn is_null_array(a: &dyn Array) -> BooleanArray {
    if a.data_type() == &DataType::Null {
        return BooleanArray::from(vec![true; a.len()]);
    }
    match a.logical_nulls() {
        Some(n) => BooleanArray::new(!n.inner(), None),
        None => BooleanArray::from(vec![false; a.len()]),
    }
}

impl PhysicalExpr for IsNullExpr {
    fn data_type(&self) -> &DataType {
        &DataType::Boolean
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        Ok(match self.expr.evaluate(batch)? {
            ColumnarValue::Scalar(s) => {
                ColumnarValue::Scalar(ScalarValue::Boolean(Some(s.is_null())))
            }
            ColumnarValue::Array(a) => ColumnarValue::Array(Arc::new(is_null_array(a.as_ref()))),
        })
    }
}

/// `expr IS NOT NULL`: never NULL itself.
#[derive(Debug)]
pub struct IsNotNullExpr {
    expr: PhysicalExprRef,
}

impl IsNotNullExpr {
    /// `expr IS NOT NULL`.
    pub fn new(expr: PhysicalExprRef) -> Self {
        IsNotNullExpr { expr }
    }
}

impl fmt::Display for IsNotNullExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({} IS NOT NULL)", self.expr)
    }
}

impl PhysicalExpr for IsNotNullExpr {
    fn data_type(&self) -> &DataType {
        &DataType::Boolean
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        Ok(match self.expr.evaluate(batch)? {
            ColumnarValue::Scalar(s) => {
                ColumnarValue::Scalar(ScalarValue::Boolean(Some(!s.is_null())))
            }
            ColumnarValue::Array(a) => {
                let n = is_null_array(a.as_ref());
                ColumnarValue::Array(Arc::new(arrow::compute::not(&n)?))
            }
        })
    }
}
