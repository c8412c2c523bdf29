//! Plan nodes defined outside the core set: [`UserDefinedLogicalNode`] (DataFusion's idea of
//! the same name). The engine's own session-window merge is one; the streaming runtime's
//! stateful operators (in engine-sql, over engine-state) are others, planned by the
//! [`crate::physical::planner::ExtensionPlanner`] they register.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use super::LogicalPlan;
use crate::expr::Expr;
use crate::schema::PlanSchema;
use crate::{EngineError, Result};

/// A logical node the core planner does not know by variant.
pub trait UserDefinedLogicalNode: fmt::Debug + Send + Sync {
    /// The node's name in `explain` (`MergeSessions`, `StatefulAggregate`).
    fn name(&self) -> &str;

    /// The node's inputs.
    fn inputs(&self) -> Vec<&Arc<LogicalPlan>>;

    /// The same node over new inputs (same number and order as [`Self::inputs`]).
    fn with_new_inputs(
        &self,
        inputs: Vec<Arc<LogicalPlan>>,
    ) -> Result<Arc<dyn UserDefinedLogicalNode>>;

    /// The output schema.
    fn schema(&self) -> Result<PlanSchema>;

    /// The expressions the node reads from its inputs.
    fn expressions(&self) -> Vec<&Expr> {
        vec![]
    }

    /// The rest of the `explain` line after the name.
    fn describe(&self) -> String {
        String::new()
    }

    /// True when the node outputs its single input's columns unchanged (it only reorders,
    /// drops or rewrites rows): projection pruning may then drop columns below it that
    /// neither its parent nor its [`Self::expressions`] read.
    fn passes_columns_through(&self) -> bool {
        false
    }

    /// True when the node's output is computed from [`Self::expressions`] alone (an
    /// aggregation): projection pruning may then keep only the input columns they read.
    fn reads_only_expressions(&self) -> bool {
        false
    }

    /// The concrete node, for the planner that knows it.
    fn as_any(&self) -> &dyn Any;
}

/// A [`UserDefinedLogicalNode`] in a plan.
#[derive(Debug, Clone)]
pub struct Extension {
    /// The node.
    pub node: Arc<dyn UserDefinedLogicalNode>,
}

impl Extension {
    /// Wraps `node` as a plan.
    pub fn plan(node: impl UserDefinedLogicalNode + 'static) -> Arc<LogicalPlan> {
        Arc::new(LogicalPlan::Extension(Extension {
            node: Arc::new(node),
        }))
    }
}

/// The one input of a single-input node's [`UserDefinedLogicalNode::with_new_inputs`]; any
/// other count is an internal error naming the node.
pub fn single_input(node: &str, mut inputs: Vec<Arc<LogicalPlan>>) -> Result<Arc<LogicalPlan>> {
    inputs
        .pop()
        .filter(|_| inputs.is_empty())
        .ok_or_else(|| EngineError::Internal(format!("{node} has one input")))
}
