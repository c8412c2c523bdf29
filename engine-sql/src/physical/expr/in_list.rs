//! `expr [NOT] IN (list)` with three-valued logic: `1 IN (2, NULL)` is NULL.

use std::fmt;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, BooleanArray};
use arrow::compute::kernels::boolean;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use engine_core::Result;

use super::binary::compare;
use super::{ColumnarValue, PhysicalExpr, PhysicalExprRef, apply_arrays};
use crate::expr::BinaryOperator;
use crate::scalar::ScalarValue;

/// `expr IN (list)` as the Kleene OR of `expr = item` over the list (Spark's semantics,
/// including NaN = NaN and -0.0 = 0.0).
#[derive(Debug)]
pub struct InListExpr {
    expr: PhysicalExprRef,
    list: Vec<PhysicalExprRef>,
    negated: bool,
}

impl InListExpr {
    /// `expr [NOT] IN (list)`; the analyzer has cast every item to `expr`'s type.
    pub fn new(expr: PhysicalExprRef, list: Vec<PhysicalExprRef>, negated: bool) -> Self {
        InListExpr {
            expr,
            list,
            negated,
        }
    }
}

impl fmt::Display for InListExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}", self.expr)?;
        if self.negated {
            write!(f, " NOT")?;
        }
        write!(f, " IN (")?;
        for (i, e) in self.list.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{e}")?;
        }
        write!(f, "))")
    }
}

impl PhysicalExpr for InListExpr {
    fn data_type(&self) -> &DataType {
        &DataType::Boolean
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let n = batch.num_rows();
        let value = self.expr.evaluate(batch)?;
        let mut acc = ColumnarValue::Scalar(ScalarValue::Boolean(Some(false)));
        for item in &self.list {
            let item = item.evaluate(batch)?;
            let eq = compare(BinaryOperator::Eq, &value, &item)?;
            acc = apply_arrays(acc, eq, n, |a, b| {
                let out = boolean::or_kleene(&bools(a), &bools(b))?;
                Ok(Arc::new(out) as ArrayRef)
            })?;
        }
        // `x IN ()` is false, NULL IN (...) is NULL (Spark).
        if !self.list.is_empty() {
            acc = apply_arrays(acc, value, n, |a, v| {
                let nulls = super::unary::is_null_array(v.as_ref());
                let out = arrow::compute::nullif(a, &nulls)?;
                Ok(out)
            })?;
        }
        if self.negated {
            acc = super::apply_unary(acc, |a| {
                Ok(Arc::new(arrow::compute::not(&bools(a))?) as ArrayRef)
            })?;
        }
        Ok(acc)
    }
}

fn bools(a: &ArrayRef) -> BooleanArray {
    if a.data_type() == &DataType::Null {
        return BooleanArray::from(vec![None; a.len()]);
    }
    a.as_boolean().clone()
}
