//! SQL text to logical plans, and SQL commands (`CREATE TEMPORARY VIEW`, `DESCRIBE`, ...).

use engine_core::{EngineError, Result};

use crate::dataframe::DataFrame;
use crate::session::Session;

/// Runs every statement of `text` (separated by `;`) and returns the last one's result.
pub fn run_sql(session: &Session, text: &str) -> Result<DataFrame> {
    let _ = session;
    Err(EngineError::Unsupported(format!(
        "SQL is not implemented yet: {text}"
    )))
}

/// Parses one SQL expression (`"a + 1 AS b"`) into an unresolved expression.
pub fn parse_expression(text: &str) -> Result<crate::expr::Expr> {
    Err(EngineError::Unsupported(format!(
        "SQL expressions are not implemented yet: {text}"
    )))
}
