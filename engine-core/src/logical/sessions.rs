//! [`MergeSessions`]: the rows of one key get the session their events form together,
//! below an aggregation grouped by `session_window` (Spark's `UpdatingSessionsExec`).
//!
//! Each event starts as its own session `[ts, ts + gap)` (the time-window rewrite); sorted
//! by start within a key, a session that starts at or before the end of the one before
//! joins it (the end becomes the later of the two), so the aggregation above groups every
//! event of a merged session under one `session_window` value.

use std::any::Any;
use std::sync::Arc;

use super::{Extension, LogicalPlan, UserDefinedLogicalNode};
use crate::Result;
use crate::expr::{Column, Expr};
use crate::schema::PlanSchema;

/// Rewrites each row's session window to the merged session of its key.
#[derive(Debug, Clone)]
pub struct MergeSessions {
    /// The grouping keys besides the session (sessions merge per key).
    pub keys: Vec<Expr>,
    /// The session window column (an [`Expr::Column`]).
    pub session: Expr,
    /// The input.
    pub input: Arc<LogicalPlan>,
}

impl MergeSessions {
    /// `input` with merged sessions.
    pub fn plan(keys: Vec<Expr>, session: Column, input: Arc<LogicalPlan>) -> Arc<LogicalPlan> {
        let session = Expr::Column(session);
        Extension::plan(MergeSessions {
            keys,
            session,
            input,
        })
    }
}

impl UserDefinedLogicalNode for MergeSessions {
    fn name(&self) -> &str {
        "MergeSessions"
    }

    fn inputs(&self) -> Vec<&Arc<LogicalPlan>> {
        vec![&self.input]
    }

    fn with_new_inputs(
        &self,
        inputs: Vec<Arc<LogicalPlan>>,
    ) -> Result<Arc<dyn UserDefinedLogicalNode>> {
        let input = super::single_input("MergeSessions", inputs)?;
        Ok(Arc::new(MergeSessions {
            input,
            ..self.clone()
        }))
    }

    fn schema(&self) -> Result<PlanSchema> {
        self.input.schema()
    }

    fn expressions(&self) -> Vec<&Expr> {
        self.keys.iter().chain([&self.session]).collect()
    }

    fn describe(&self) -> String {
        let keys: Vec<String> = self.keys.iter().map(|k| k.to_string()).collect();
        format!("[{}], {}", keys.join(", "), self.session)
    }

    fn passes_columns_through(&self) -> bool {
        true
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
