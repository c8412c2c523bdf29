//! SQL text to logical plans and expressions, with Spark's dialect and names.
//!
//! - [`parser`]: the Spark dialect, statement splitting, Spark's commands;
//! - [`query`]: `SELECT`/`UNION`/`VALUES`/`WITH` to unresolved logical plans;
//! - [`expr`]: expressions, with Spark's literal types and column names;
//!
//! Running statements against a session (`session.sql`) is [`crate::command`].

pub mod expr;
pub mod parser;
pub mod query;
pub mod watermark_clause;

use std::sync::Arc;

use engine_core::{EngineError, Result};

use crate::session::Session;

pub use query::SqlPlanner;

/// The unresolved plan of one query (`SELECT ...`), without running anything.
pub fn plan_query(session: &Session, text: &str) -> Result<Arc<engine_core::logical::LogicalPlan>> {
    let q = parser::parse_query(text.trim().trim_end_matches(';'))?;
    Ok(Arc::new(SqlPlanner::with_session(session)?.plan_query(&q)?))
}

/// One SQL expression (`"a + 1"`, `"count(*) AS n"`) as an unresolved [`engine_core::expr::Expr`]:
/// what `selectExpr` and `expr("...")` need. A trailing alias becomes [`engine_core::expr::Expr::Alias`].
/// `TIMESTAMP '...'` literals without a zone are read in the session time zone.
pub fn parse_sql_expr(session: &Session, text: &str) -> Result<engine_core::expr::Expr> {
    let ctx = expr::ExprContext {
        time_zone: session.conf().time_zone()?,
    };
    parse_expr_in(text, &ctx)
}

/// Parses one SQL expression (`"a + 1 AS b"`) into an unresolved expression, reading
/// zone-less `TIMESTAMP '...'` literals in UTC (use [`parse_sql_expr`] for the session zone).
pub fn parse_expression(text: &str) -> Result<engine_core::expr::Expr> {
    parse_expr_in(text, &expr::ExprContext::default())
}

fn parse_expr_in(text: &str, ctx: &expr::ExprContext) -> Result<engine_core::expr::Expr> {
    match parser::parse_select_item(text)? {
        sqlparser::ast::SelectItem::UnnamedExpr(e) => {
            let bare = expr::sql_to_expr(&e, ctx)?;
            Ok(match expr::spark_name(&e, ctx)? {
                Some(name) if name != bare.output_name() => bare.alias(name),
                _ => bare,
            })
        }
        sqlparser::ast::SelectItem::ExprWithAlias { expr: e, alias } => {
            Ok(expr::sql_to_expr(&e, ctx)?.alias(alias.value))
        }
        sqlparser::ast::SelectItem::ExprWithAliases { expr: e, aliases } => {
            // `posexplode(xs) AS (p, x)`: one name per generated column.
            let names: Vec<&str> = aliases.iter().map(|a| a.value.as_str()).collect();
            Ok(engine_core::logical::multi_alias(
                expr::sql_to_expr(&e, ctx)?,
                &names,
            ))
        }
        sqlparser::ast::SelectItem::Wildcard(_) => Ok(engine_core::expr::Expr::Star(None)),
        sqlparser::ast::SelectItem::QualifiedWildcard(
            sqlparser::ast::SelectItemQualifiedWildcardKind::ObjectName(n),
            _,
        ) => Ok(engine_core::expr::Expr::Star(Some(
            parser::object_name_parts(&n)?,
        ))),
        other => Err(EngineError::Unsupported(format!(
            "the expression `{other}`"
        ))),
    }
}
