//! `struct.field`.

use std::fmt;

use crate::{EngineError, Result};
use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use super::{ColumnarValue, PhysicalExpr, PhysicalExprRef, apply_unary};

/// Reads one child of a struct value; a NULL struct gives NULL.
#[derive(Debug)]
pub struct GetFieldExpr {
    expr: PhysicalExprRef,
    name: String,
    index: usize,
    data_type: DataType,
}

impl GetFieldExpr {
    /// `expr.name`; fails if `expr` is not a struct with such a field (matched exactly
    /// first, then case-insensitively as Spark resolves names).
    pub fn try_new(expr: PhysicalExprRef, name: &str) -> Result<Self> {
        let DataType::Struct(fields) = expr.data_type() else {
            return Err(EngineError::Internal(format!(
                "field `{name}` of non-struct {expr}"
            )));
        };
        let index = fields
            .iter()
            .position(|f| f.name() == name)
            .or_else(|| {
                fields
                    .iter()
                    .position(|f| f.name().eq_ignore_ascii_case(name))
            })
            .ok_or_else(|| {
                EngineError::analysis(
                    "FIELD_NOT_FOUND",
                    format!("No such struct field `{name}` in {expr}. SQLSTATE: 42704"),
                )
            })?;
        let data_type = fields[index].data_type().clone();
        Ok(GetFieldExpr {
            expr,
            name: name.to_string(),
            index,
            data_type,
        })
    }
}

impl fmt::Display for GetFieldExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.expr, self.name)
    }
}

impl PhysicalExpr for GetFieldExpr {
    fn data_type(&self) -> &DataType {
        &self.data_type
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let v = self.expr.evaluate(batch)?;
        let index = self.index;
        apply_unary(v, |a| struct_child(a, index))
    }
}

/// Child `index` of a struct array with the parent's NULLs folded in.
fn struct_child(a: &ArrayRef, index: usize) -> Result<ArrayRef> {
    let s = a
        .as_struct_opt()
        .ok_or_else(|| EngineError::Internal("GetField on a non-struct array".into()))?;
    let child = s.column(index).clone();
    match s.nulls() {
        Some(parent) if parent.null_count() > 0 => {
            let nulls = arrow::buffer::NullBuffer::union(Some(parent), child.nulls());
            let data = child.to_data().into_builder().nulls(nulls).build()?;
            Ok(arrow::array::make_array(data))
        }
        _ => Ok(child),
    }
}
