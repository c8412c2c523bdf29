//! Resolved logical expression -> compiled physical expression.

use std::sync::Arc;

use crate::{EngineError, Result};

use arrow::datatypes::Field;

use super::case::is_infallible;
use super::higher_order::{CompiledLambda, HigherOrderArg};
use super::{
    BinaryExpr, CaseExpr, CastExpr, ColumnExpr, GetFieldExpr, HigherOrderExpr, InListExpr,
    IsNotNullExpr, IsNullExpr, LikeExpr, LiteralExpr, NegativeExpr, NotExpr, PhysicalExprRef,
    ScalarFunctionExpr,
};
use crate::expr::lambda::Lambda;
use crate::expr::{CastMode, Expr};
use crate::functions::FunctionContext;
use crate::schema::{PlanSchema, QualifiedField};

/// The value of an expression that reads no column, as a one-row array, or `None` when it
/// cannot be computed now (it reads columns, or fails: `1 / 0` is left to fail at run time).
pub fn evaluate_constant(
    expr: &Expr,
    ctx: &Arc<FunctionContext>,
) -> Option<arrow::array::ArrayRef> {
    let physical = create_physical_expr(expr, &PlanSchema::new(vec![]), ctx).ok()?;
    let batch = arrow::record_batch::RecordBatch::try_new_with_options(
        Arc::new(arrow::datatypes::Schema::empty()),
        vec![],
        &arrow::array::RecordBatchOptions::new().with_row_count(Some(1)),
    )
    .ok()?;
    let array = physical.evaluate(&batch).ok()?.into_array(1).ok()?;
    (array.len() == 1).then_some(array)
}

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
        Expr::Cast { expr, to, mode } => {
            // With ANSI off an ANSI-mode cast (e.g. an implicit one the analyzer inserted)
            // behaves as a legacy cast, as Spark derives the cast's mode from the session.
            let mode = match mode {
                CastMode::Ansi if !ctx.ansi => CastMode::Legacy,
                m => *m,
            };
            Arc::new(CastExpr::new(compile(expr)?, to.clone(), mode, ctx.clone()))
        }
        Expr::Case {
            operand,
            branches,
            otherwise,
        } => {
            let (exprs_branches, exprs_otherwise) = (branches, otherwise);
            let data_type = expr.data_type(input)?;
            let operand = operand.as_deref().map(compile).transpose()?;
            let branches = branches
                .iter()
                .map(|(w, t)| Ok((compile(w)?, compile(t)?)))
                .collect::<Result<Vec<_>>>()?;
            let otherwise = otherwise.as_deref().map(compile).transpose()?;
            let when_safe = exprs_branches
                .iter()
                .map(|(w, _)| is_infallible(w))
                .collect();
            let then_safe = exprs_branches
                .iter()
                .map(|(_, t)| is_infallible(t))
                .collect();
            let else_safe = exprs_otherwise.as_deref().is_none_or(is_infallible);
            Arc::new(
                CaseExpr::new(operand, branches, otherwise, data_type)
                    .with_infallible(when_safe, then_safe, else_safe),
            )
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let compiled = InListExpr::new(
                compile(expr)?,
                list.iter().map(compile).collect::<Result<Vec<_>>>()?,
                *negated,
            );
            let literals: Vec<_> = list
                .iter()
                .filter_map(|e| match e.unalias() {
                    Expr::Literal(v) => Some(v.clone()),
                    _ => None,
                })
                .collect();
            Arc::new(compiled.with_literals(&literals))
        }
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
        Expr::ScalarFunction { func, args }
            if let (Some(op), [l, r]) = (
                crate::functions::try_arith::operator_of(func.as_ref()),
                args.as_slice(),
            ) =>
        {
            Arc::new(BinaryExpr::new_try(compile(l)?, op, compile(r)?))
        }
        Expr::ScalarFunction { func, args }
            if let (true, [inner]) = (
                crate::functions::try_arith::is_try_eval(func.as_ref()),
                args.as_slice(),
            ) =>
        {
            Arc::new(super::try_eval::TryEvalExpr::new(compile(inner)?))
        }
        Expr::ScalarFunction { func, args } => {
            let arg_types = args
                .iter()
                .map(|a| a.data_type(input))
                .collect::<Result<Vec<_>>>()?;
            if let Some(v) = func.result_from_types(&arg_types) {
                return compile(&Expr::Literal(v));
            }
            let return_type = expr.data_type(input)?;
            Arc::new(ScalarFunctionExpr::new(
                func.clone(),
                args.iter().map(compile).collect::<Result<Vec<_>>>()?,
                return_type,
                ctx.clone(),
            ))
        }
        Expr::LambdaVariable(v) => {
            let index = input.index_of(None, &v.column_name())?;
            // Shown as Spark's EXPLAIN shows a lambda variable: `lambda x#3`.
            let shown = format!("lambda {}", v.name);
            Arc::new(ColumnExpr::new(shown, index, v.bound()?.data_type.clone()))
        }
        Expr::HigherOrderFunction { func, args } => {
            let return_type = expr.data_type(input)?;
            let args = args
                .iter()
                .map(|a| match a {
                    Expr::Lambda(l) => Ok(HigherOrderArg::Lambda(compile_lambda(l, input, ctx)?)),
                    value => Ok(HigherOrderArg::Value(compile(value)?)),
                })
                .collect::<Result<Vec<_>>>()?;
            Arc::new(HigherOrderExpr::new(
                func.clone(),
                args,
                return_type,
                ctx.clone(),
            ))
        }
        Expr::Lambda(_)
        | Expr::AggregateFunction { .. }
        | Expr::UnresolvedColumn(_)
        | Expr::UnresolvedFunction { .. }
        | Expr::Star(_) => {
            return Err(EngineError::Internal(format!(
                "cannot compile {expr}: it must be resolved (or planned by an aggregate) first"
            )));
        }
    })
}

/// Compiles a lambda whose free references resolve in `input`: its body runs over a schema
/// of those references (each input column once) followed by its parameters.
fn compile_lambda(
    lambda: &Lambda,
    input: &PlanSchema,
    ctx: &Arc<FunctionContext>,
) -> Result<CompiledLambda> {
    let mut inputs: Vec<usize> = Vec::new();
    for r in lambda.free_references() {
        let index = match &r {
            Expr::Column(c) => input.index_of(c.relation.as_deref(), &c.name)?,
            Expr::LambdaVariable(v) => input.index_of(None, &v.column_name())?,
            other => {
                return Err(EngineError::Internal(format!(
                    "{other} is no free reference of a lambda"
                )));
            }
        };
        if !inputs.contains(&index) {
            inputs.push(index);
        }
    }
    let mut fields: Vec<QualifiedField> = inputs.iter().map(|&i| input.field(i).clone()).collect();
    for p in &lambda.params {
        let b = p.bound()?;
        fields.push(QualifiedField::new(
            None,
            Field::new(p.column_name(), b.data_type.clone(), b.nullable),
        ));
    }
    let body = create_physical_expr(&lambda.body, &PlanSchema::new(fields), ctx)?;
    let names = lambda.params.iter().map(|p| p.name.clone()).collect();
    Ok(CompiledLambda::new(inputs, body, names))
}
