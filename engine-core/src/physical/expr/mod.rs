//! Compiled expressions: evaluated over whole Arrow arrays, a batch at a time.
//!
//! The physical planner turns a resolved logical [`crate::expr::Expr`] into a tree of
//! [`PhysicalExpr`] once per query; columns are bound to indices then, so evaluation does no
//! name lookups and no per-row dispatch.

use std::fmt;
use std::sync::Arc;

use crate::Result;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

/// An expression compiled for execution.
pub trait PhysicalExpr: Send + Sync + fmt::Debug + fmt::Display {
    /// The result type.
    fn data_type(&self) -> &DataType;
    /// Evaluates over every row of `batch`.
    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue>;
}

/// Shared [`PhysicalExpr`].
pub type PhysicalExprRef = Arc<dyn PhysicalExpr>;

mod arithmetic_errors;
pub mod binary;
pub mod case;
pub mod cast;
pub mod column;
pub mod get_field;
pub mod higher_order;
pub mod in_list;
pub mod like;
pub mod literal;
pub mod planner;
pub mod scalar_function;
pub mod try_eval;
pub mod unary;

pub use binary::BinaryExpr;
pub use case::CaseExpr;
pub use cast::{CastExpr, cast_array};
pub use column::ColumnExpr;
pub use get_field::GetFieldExpr;
pub use higher_order::HigherOrderExpr;
pub use in_list::InListExpr;
pub use like::LikeExpr;
pub use literal::LiteralExpr;
pub use planner::{create_physical_expr, evaluate_constant};
pub use scalar_function::ScalarFunctionExpr;
pub use unary::{IsNotNullExpr, IsNullExpr, NegativeExpr, NotExpr};

pub use crate::expr::columnar::ColumnarValue;
pub(crate) use crate::expr::columnar::{
    apply_arrays, apply_datum, apply_unary, arrow_to_engine, spark_arrow_error,
};

#[cfg(test)]
mod tests;
