//! Compiled expressions: evaluated over whole Arrow arrays, a batch at a time.
//!
//! The physical planner turns a resolved logical [`crate::expr::Expr`] into a tree of
//! [`PhysicalExpr`] once per query; columns are bound to indices then, so evaluation does no
//! name lookups and no per-row dispatch.

use std::fmt;
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use engine_core::Result;

use crate::scalar::ScalarValue;

/// A value that is either one per row or one for the whole batch.
#[derive(Debug, Clone)]
pub enum ColumnarValue {
    /// One value per row.
    Array(ArrayRef),
    /// The same value for every row.
    Scalar(ScalarValue),
}

impl ColumnarValue {
    /// The value's type.
    pub fn data_type(&self) -> DataType {
        match self {
            ColumnarValue::Array(a) => a.data_type().clone(),
            ColumnarValue::Scalar(s) => s.data_type(),
        }
    }

    /// As an array of `num_rows` rows (a scalar is repeated).
    pub fn into_array(self, num_rows: usize) -> Result<ArrayRef> {
        match self {
            ColumnarValue::Array(a) => Ok(a),
            ColumnarValue::Scalar(s) => s.to_array(num_rows),
        }
    }

    /// As an array of `num_rows` rows, without consuming.
    pub fn to_array(&self, num_rows: usize) -> Result<ArrayRef> {
        self.clone().into_array(num_rows)
    }
}

/// An expression compiled for execution.
pub trait PhysicalExpr: Send + Sync + fmt::Debug + fmt::Display {
    /// The result type.
    fn data_type(&self) -> &DataType;
    /// Evaluates over every row of `batch`.
    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue>;
}

/// Shared [`PhysicalExpr`].
pub type PhysicalExprRef = Arc<dyn PhysicalExpr>;

pub mod planner;
pub use planner::create_physical_expr;
