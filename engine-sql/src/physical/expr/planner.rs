//! Resolved logical expression -> compiled physical expression.

use std::sync::Arc;

use engine_core::{EngineError, Result};

use super::PhysicalExprRef;
use crate::expr::Expr;
use crate::functions::FunctionContext;
use crate::schema::PlanSchema;

/// Compiles a resolved `expr` whose columns refer to `input`; column references become
/// indices into the batches the operator will see (which have `input`'s layout).
pub fn create_physical_expr(
    expr: &Expr,
    input: &PlanSchema,
    ctx: &Arc<FunctionContext>,
) -> Result<PhysicalExprRef> {
    let _ = (input, ctx);
    Err(EngineError::Unsupported(format!("compiling {expr}")))
}
