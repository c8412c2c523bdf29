//! Resolved logical expression -> compiled physical expression.

use std::sync::Arc;

use engine_core::{EngineError, Result};

use super::{
    BinaryExpr, CaseExpr, CastExpr, ColumnExpr, GetFieldExpr, InListExpr, IsNotNullExpr,
    IsNullExpr, LikeExpr, LiteralExpr, NegativeExpr, NotExpr, PhysicalExprRef, ScalarFunctionExpr,
};
use crate::expr::Expr;
use crate::functions::FunctionContext;
use crate::schema::PlanSchema;

/// Compiles a resolved `expr` whose columns refer to `input`; column references become
/// indices into the batches the operator will see (which have `input`'s layout).
///
/// ANSI behaviour of arithmetic comes from `ctx.ansi`; casts carry their own mode.
pub fn create_physical_expr(
    expr: &Expr,
    input: &PlanSchema,
    ctx: &Arc<FunctionContext>,
) -> Result<PhysicalExprRef> {
    let compile = |e: &Expr| create_physical_expr(e, input, ctx);
    Ok(match expr {
        Expr::Column(c) => {
            let index = input.index_of(c.relation.as_deref(), &c.name)?;
            let dt = input.field(index).field.data_type().clone();
            Arc::new(ColumnExpr::new(c.name.clone(), index, dt))
        }
        Expr::Literal(v) => Arc::new(LiteralExpr::new(v.clone())),
        Expr::Alias(e, _) => compile(e)?,
        Expr::BinaryOp { left, op, right } => Arc::new(BinaryExpr::new(
            compile(left)?,
            *op,
            compile(right)?,
            ctx.ansi,
        )),
        Expr::Not(e) => Arc::new(NotExpr::new(compile(e)?)),
        Expr::Negative(e) => Arc::new(NegativeExpr::new(compile(e)?, ctx.ansi)),
        Expr::IsNull(e) => Arc::new(IsNullExpr::new(compile(e)?)),
        Expr::IsNotNull(e) => Arc::new(IsNotNullExpr::new(compile(e)?)),
        Expr::Cast { expr, to, mode } => Arc::new(CastExpr::new(
            compile(expr)?,
            to.clone(),
            *mode,
            ctx.clone(),
        )),
        Expr::Case {
            operand,
            branches,
            otherwise,
        } => {
            let data_type = expr.data_type(input)?;
            let operand = operand.as_deref().map(compile).transpose()?;
            let branches = branches
                .iter()
                .map(|(w, t)| Ok((compile(w)?, compile(t)?)))
                .collect::<Result<Vec<_>>>()?;
            let otherwise = otherwise.as_deref().map(compile).transpose()?;
            Arc::new(CaseExpr::new(operand, branches, otherwise, data_type))
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => Arc::new(InListExpr::new(
            compile(expr)?,
            list.iter().map(compile).collect::<Result<Vec<_>>>()?,
            *negated,
        )),
        Expr::Like {
            expr,
            pattern,
            kind,
            negated,
        } => Arc::new(LikeExpr::new(
            compile(expr)?,
            compile(pattern)?,
            *kind,
            *negated,
        )),
        Expr::GetField { expr, name } => Arc::new(GetFieldExpr::try_new(compile(expr)?, name)?),
        Expr::ScalarFunction { func, args } => {
            let return_type = expr.data_type(input)?;
            Arc::new(ScalarFunctionExpr::new(
                func.clone(),
                args.iter().map(compile).collect::<Result<Vec<_>>>()?,
                return_type,
                ctx.clone(),
            ))
        }
        Expr::AggregateFunction { .. }
        | Expr::UnresolvedColumn(_)
        | Expr::UnresolvedFunction { .. }
        | Expr::Star(_) => {
            return Err(EngineError::Internal(format!(
                "cannot compile {expr}: it must be resolved (or planned by an aggregate) first"
            )));
        }
    })
}
