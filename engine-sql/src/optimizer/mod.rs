//! The optimizer: small rewrite rules applied to resolved plans.

use std::sync::Arc;

use engine_core::Result;

use crate::logical::LogicalPlan;

/// Rewrites an analyzed plan into an equivalent, cheaper one.
pub fn optimize(plan: &Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
    Ok(plan.clone())
}
