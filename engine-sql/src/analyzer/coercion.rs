//! Spark's implicit type coercion rules, as pure functions of types.

use arrow::datatypes::DataType;
use engine_core::{EngineError, Result};

use crate::expr::BinaryOperator;

/// The types to cast the left and right operands of `op` to, or Spark's
/// `DATATYPE_MISMATCH` error.
pub fn coerce_binary(
    op: BinaryOperator,
    left: &DataType,
    right: &DataType,
    ansi: bool,
) -> Result<(DataType, DataType)> {
    let _ = (op, ansi);
    if left == right {
        return Ok((left.clone(), right.clone()));
    }
    Err(EngineError::Unsupported(format!(
        "coercing {left} and {right}"
    )))
}

/// The one type every value of `types` converts to (CASE branches, IN lists, COALESCE,
/// UNION columns), or Spark's `DATATYPE_MISMATCH.DATA_DIFF_TYPES` error.
pub fn common_type(types: &[DataType]) -> Result<DataType> {
    let mut it = types.iter().filter(|t| **t != DataType::Null);
    let first = it.next().cloned().unwrap_or(DataType::Null);
    for t in it {
        if *t != first {
            return Err(EngineError::Unsupported(format!(
                "common type of {first} and {t}"
            )));
        }
    }
    Ok(first)
}

/// Whether an explicit `CAST(from AS to)` is allowed (Spark's `Cast.canCast` /
/// `canAnsiCast`).
pub fn can_cast(from: &DataType, to: &DataType, ansi: bool) -> bool {
    let _ = ansi;
    from == to
}
