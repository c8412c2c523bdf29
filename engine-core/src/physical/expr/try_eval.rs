//! Spark's `TryEval`: an expression whose errors become NULL, row by row.
//!
//! The child runs over the whole batch; only when that fails is it run again one row at a
//! time, so the rows that fail are NULL and the others keep their values (Spark evaluates
//! row by row and catches each row's error). Internal errors are bugs and still fail.

use std::fmt;

use arrow::array::{ArrayRef, new_null_array};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use super::{ColumnarValue, PhysicalExpr, PhysicalExprRef};
use crate::{EngineError, Result};

/// `child`, NULL on the rows where it fails.
#[derive(Debug)]
pub struct TryEvalExpr {
    child: PhysicalExprRef,
}

impl TryEvalExpr {
    /// Wraps `child`.
    pub fn new(child: PhysicalExprRef) -> Self {
        TryEvalExpr { child }
    }
}

impl fmt::Display for TryEvalExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tryeval({})", self.child)
    }
}

impl PhysicalExpr for TryEvalExpr {
    fn data_type(&self) -> &DataType {
        self.child.data_type()
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        match self.child.evaluate(batch) {
            Err(e @ EngineError::Internal(_)) => return Err(e),
            Err(_) => {}
            ok => return ok,
        }
        let dt = self.child.data_type();
        let mut rows: Vec<ArrayRef> = Vec::with_capacity(batch.num_rows());
        for i in 0..batch.num_rows() {
            rows.push(match self.child.evaluate(&batch.slice(i, 1)) {
                Ok(v) => v.to_array(1)?,
                Err(e @ EngineError::Internal(_)) => return Err(e),
                Err(_) => new_null_array(dt, 1),
            });
        }
        if rows.is_empty() {
            return Ok(ColumnarValue::Array(new_null_array(dt, 0)));
        }
        let refs: Vec<&dyn arrow::array::Array> = rows.iter().map(|a| a.as_ref()).collect();
        Ok(ColumnarValue::Array(arrow::compute::concat(&refs)?))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::expr::BinaryOperator;
    use crate::physical::expr::BinaryExpr;
    use crate::physical::expr::column::ColumnExpr;
    use crate::physical::expr::literal::LiteralExpr;
    use crate::scalar::ScalarValue;
    use arrow::array::{Array, AsArray, Int32Array};
    use arrow::datatypes::{Field, Int32Type, Schema};
    use std::sync::Arc;

    #[test]
    fn only_the_failing_rows_are_null() {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, true)]));
        let a = Int32Array::from(vec![Some(i32::MAX), Some(1), None]);
        let batch = RecordBatch::try_new(schema, vec![Arc::new(a)]).unwrap();
        let plus = BinaryExpr::new(
            Arc::new(ColumnExpr::new("a", 0, DataType::Int32)),
            BinaryOperator::Plus,
            Arc::new(LiteralExpr::new(ScalarValue::Int32(Some(1)))),
            true,
        );
        let plus: PhysicalExprRef = Arc::new(plus);
        assert!(plus.evaluate(&batch).is_err());
        let out = TryEvalExpr::new(plus)
            .evaluate(&batch)
            .unwrap()
            .to_array(3)
            .unwrap();
        let out = out.as_primitive::<Int32Type>();
        assert!(out.is_null(0) && out.is_null(2));
        assert_eq!(out.value(1), 2);
    }
}
