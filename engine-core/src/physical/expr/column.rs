//! A column of the input batch, bound to its index at planning time.

use std::fmt;

use crate::{EngineError, Result};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use super::{ColumnarValue, PhysicalExpr};

/// Reads column `index` of the batch.
#[derive(Debug, Clone)]
pub struct ColumnExpr {
    name: String,
    index: usize,
    data_type: DataType,
}

impl ColumnExpr {
    /// The column at `index` (named `name` for display) of type `data_type`.
    pub fn new(name: impl Into<String>, index: usize, data_type: DataType) -> Self {
        ColumnExpr {
            name: name.into(),
            index,
            data_type,
        }
    }

    /// The bound index.
    pub fn index(&self) -> usize {
        self.index
    }
}

impl fmt::Display for ColumnExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.name, self.index)
    }
}

impl PhysicalExpr for ColumnExpr {
    fn data_type(&self) -> &DataType {
        &self.data_type
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        if self.index >= batch.num_columns() {
            return Err(EngineError::Internal(format!(
                "column {self} bound past the {} columns of the batch",
                batch.num_columns()
            )));
        }
        Ok(ColumnarValue::Array(batch.column(self.index).clone()))
    }
}
