//! Logical plan -> executable plan.

use std::sync::Arc;

use engine_core::{EngineError, Result};

use crate::logical::LogicalPlan;
use crate::physical::plan::{ExecutionPlanRef, TaskContext};

/// Compiles an optimized logical plan.
pub fn create_physical_plan(
    plan: &Arc<LogicalPlan>,
    ctx: &Arc<TaskContext>,
) -> Result<ExecutionPlanRef> {
    let _ = ctx;
    Err(EngineError::Unsupported(format!(
        "planning {}",
        plan.node_line()
    )))
}
