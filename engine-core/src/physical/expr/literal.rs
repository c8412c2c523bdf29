//! A constant.

use std::fmt;

use crate::Result;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use super::{ColumnarValue, PhysicalExpr};
use crate::scalar::ScalarValue;

/// A constant value, never expanded to an array by itself.
#[derive(Debug, Clone)]
pub struct LiteralExpr {
    value: ScalarValue,
    data_type: DataType,
}

impl LiteralExpr {
    /// The constant `value`.
    pub fn new(value: ScalarValue) -> Self {
        let data_type = value.data_type();
        LiteralExpr { value, data_type }
    }

    /// The value.
    pub fn value(&self) -> &ScalarValue {
        &self.value
    }
}

impl fmt::Display for LiteralExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.value)
    }
}

impl PhysicalExpr for LiteralExpr {
    fn data_type(&self) -> &DataType {
        &self.data_type
    }

    fn evaluate(&self, _batch: &RecordBatch) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(self.value.clone()))
    }
}
