//! The optimizer: small rewrite rules applied to resolved plans.
//!
//! Each rule is a separate [`OptimizerRule`] in its own file with its own tests. [`optimize`]
//! runs the whole list repeatedly until the plan stops changing (bounded), because one rule
//! often enables another (a pushed-down filter lets pruning drop a column, a pruned
//! projection lets two projections collapse). Every rule keeps the plan's output schema
//! (names, types, order); [`optimize`] checks that at the end.

mod combine_filters;
mod combine_projections;
mod constant_folding;
mod infer_filters;
mod projection_pruning;
mod push_down_filter;
mod push_down_limit;
mod simplify_booleans;
#[cfg(test)]
pub(crate) mod test_util;

use std::sync::Arc;

use crate::{EngineError, Result};

pub use combine_filters::CombineFilters;
pub use combine_projections::CombineProjections;
pub use constant_folding::ConstantFolding;
pub use infer_filters::InferFiltersFromConstraints;
pub use projection_pruning::ProjectionPruning;
pub use push_down_filter::PushDownFilter;
pub use push_down_limit::PushDownLimit;
pub use simplify_booleans::SimplifyBooleans;

use crate::conf::SessionConf;
use crate::expr::{Column, Expr};

use crate::logical::LogicalPlan;
use crate::schema::PlanSchema;

/// Spark's key listing optimizer rules to skip, comma-separated. Names may be Spark's fully
/// qualified ones (`org.apache.spark.sql.catalyst.optimizer.ConstantFolding`) or the short
/// names of [`OptimizerRule::name`]; `*` excludes every rule (an sstream extension, used to
/// compare optimized and unoptimized results).
pub const EXCLUDED_RULES_KEY: &str = "spark.sql.optimizer.excludedRules";

/// Most passes over the rule list; plans reach a fixed point in two or three.
const MAX_PASSES: usize = 10;

/// One rewrite of a logical plan.
pub trait OptimizerRule: Send + Sync {
    /// The rule's name, Spark's where one exists (`ConstantFolding`).
    fn name(&self) -> &str;
    /// The rewritten plan; must keep the output schema (names, types, order).
    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>>;
}

/// The rules in the order one pass applies them, minus those excluded by `conf`.
pub fn rules(conf: &SessionConf) -> Result<Vec<Box<dyn OptimizerRule>>> {
    let ctx = Arc::new(conf.function_context()?);
    let excluded = excluded_rules(conf);
    let all: Vec<Box<dyn OptimizerRule>> = vec![
        Box::new(ConstantFolding::new(ctx)),
        Box::new(SimplifyBooleans),
        Box::new(CombineFilters),
        Box::new(PushDownFilter),
        Box::new(CombineProjections),
        Box::new(PushDownLimit),
        Box::new(ProjectionPruning),
    ];
    Ok(all
        .into_iter()
        .filter(|r| !is_excluded(&excluded, r.as_ref()))
        .collect())
}

/// The rule names of [`EXCLUDED_RULES_KEY`], lowercase, without Spark's package prefix.
fn excluded_rules(conf: &SessionConf) -> Vec<String> {
    conf.get(EXCLUDED_RULES_KEY)
        .unwrap_or("")
        .split(',')
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| s.rsplit('.').next().unwrap_or(s).to_ascii_lowercase())
        .collect()
}

fn is_excluded(excluded: &[String], rule: &dyn OptimizerRule) -> bool {
    excluded
        .iter()
        .any(|e| e == "*" || *e == rule.name().to_ascii_lowercase())
}

/// Rewrites an analyzed plan into an equivalent, cheaper one with the default conf.
pub fn optimize(plan: &Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
    optimize_with_conf(plan, &SessionConf::new())
}

/// Rewrites an analyzed plan with the session's conf: its time zone and ANSI mode for
/// constant folding, and [`EXCLUDED_RULES_KEY`].
pub fn optimize_with_conf(plan: &Arc<LogicalPlan>, conf: &SessionConf) -> Result<Arc<LogicalPlan>> {
    let rules = rules(conf)?;
    // Filters inferred from join conditions are added once, before the passes that push
    // filters down (Spark's "Infer Filters" batch runs once too): in the loop they would be
    // inferred again on every pass.
    let infer = InferFiltersFromConstraints;
    let plan = if is_excluded(&excluded_rules(conf), &infer) {
        plan.clone()
    } else {
        infer.rewrite(plan.clone())?
    };
    run_rules(&plan, &rules)
}

/// Applies `rules` in order, repeatedly, until a pass changes nothing.
pub fn run_rules(
    plan: &Arc<LogicalPlan>,
    rules: &[Box<dyn OptimizerRule>],
) -> Result<Arc<LogicalPlan>> {
    if rules.is_empty() {
        return Ok(plan.clone());
    }
    let before = plan.schema()?;
    let mut current = plan.clone();
    let mut text = current.display_tree();
    for _ in 0..MAX_PASSES {
        for rule in rules {
            current = rule.rewrite(current)?;
        }
        let next = current.display_tree();
        if next == text {
            break;
        }
        text = next;
    }
    let after = current.schema()?;
    // A rule that changed the result's shape is a bug; fail loudly instead of returning
    // columns the caller did not ask for.
    let same = before.len() == after.len()
        && before
            .fields()
            .iter()
            .zip(after.fields())
            .all(|(b, a)| b.name() == a.name() && b.field.data_type() == a.field.data_type());
    if !same {
        return Err(EngineError::Internal(format!(
            "optimizer changed the output schema from {:?} to {:?}",
            before.to_arrow(),
            after.to_arrow()
        )));
    }
    Ok(current)
}

// ---- helpers shared by the rules ----

/// True unless the expression calls a non-deterministic function (`rand()`).
pub(crate) fn is_deterministic(e: &Expr) -> bool {
    !e.any(&|x| match x {
        Expr::ScalarFunction { func, .. } => !func.is_deterministic(),
        _ => false,
    })
}

/// Index of the field a resolved column names: the one with the same qualifier and name
/// (as the analyzer produced it), else Spark's looser lookup. `None` if absent or ambiguous.
pub(crate) fn field_index(schema: &PlanSchema, c: &Column) -> Option<usize> {
    let exact: Vec<usize> = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            f.name().eq_ignore_ascii_case(&c.name)
                && match (&f.qualifier, &c.relation) {
                    (None, None) => true,
                    (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                    _ => false,
                }
        })
        .map(|(i, _)| i)
        .collect();
    match exact.len() {
        1 => Some(exact[0]),
        0 => schema.index_of(c.relation.as_deref(), &c.name).ok(),
        _ => None,
    }
}

/// The column that refers to field `i` of `schema`, if that reference is unambiguous.
pub(crate) fn column_for_field(schema: &PlanSchema, i: usize) -> Option<Column> {
    let f = schema.fields().get(i)?;
    let c = Column::new(f.qualifier.as_deref(), f.name());
    (field_index(schema, &c) == Some(i)).then_some(c)
}

/// Replaces every column of `e` by `f(column)`; `None` from `f` aborts with `None`.
pub(crate) fn replace_columns(e: &Expr, f: &impl Fn(&Column) -> Option<Expr>) -> Option<Expr> {
    e.clone()
        .transform_up(&mut |x| match x {
            Expr::Column(c) => f(&c).ok_or(()),
            other => Ok(other),
        })
        .ok()
}

/// `new` named as `old` was: aliased when rewriting changed its output name, or when it
/// turned into a column (a column output carries its relation name, an alias none).
pub(crate) fn keep_name(old: &Expr, new: Expr) -> Expr {
    let name = old.output_name();
    let same = match (old, &new) {
        (Expr::Column(a), Expr::Column(b)) => a == b,
        (_, Expr::Column(_)) => false,
        _ => new.output_name() == name,
    };
    if same {
        new
    } else {
        new.unalias().clone().alias(name)
    }
}

/// `Filter(AND of preds)` over `input`, or `input` itself when there are none.
pub(crate) fn filter_over(preds: Vec<Expr>, input: Arc<LogicalPlan>) -> Arc<LogicalPlan> {
    match crate::expr::conjunction(preds) {
        None => input,
        Some(predicate) => Arc::new(LogicalPlan::Filter { predicate, input }),
    }
}

/// Rewrites every expression a node holds with `f`, keeping the output names of
/// projection and aggregate expressions.
pub(crate) fn map_node_exprs(
    plan: &LogicalPlan,
    f: &impl Fn(Expr) -> Result<Expr>,
) -> Result<Option<LogicalPlan>> {
    let named = |es: &[Expr]| -> Result<Vec<Expr>> {
        es.iter().map(|e| Ok(keep_name(e, f(e.clone())?))).collect()
    };
    Ok(Some(match plan {
        LogicalPlan::Projection { exprs, input } => LogicalPlan::Projection {
            exprs: named(exprs)?,
            input: input.clone(),
        },
        LogicalPlan::Filter { predicate, input } => LogicalPlan::Filter {
            predicate: f(predicate.clone())?,
            input: input.clone(),
        },
        LogicalPlan::Aggregate {
            group_exprs,
            aggr_exprs,
            input,
        } => LogicalPlan::Aggregate {
            group_exprs: named(group_exprs)?,
            aggr_exprs: named(aggr_exprs)?,
            input: input.clone(),
        },
        LogicalPlan::Sort { exprs, input } => LogicalPlan::Sort {
            exprs: exprs
                .iter()
                .map(|s| {
                    Ok(crate::expr::SortExpr {
                        expr: f(s.expr.clone())?,
                        ..s.clone()
                    })
                })
                .collect::<Result<_>>()?,
            input: input.clone(),
        },
        LogicalPlan::Join(j) => {
            let mut j = j.clone();
            j.condition = j.condition.map(f).transpose()?;
            LogicalPlan::Join(j)
        }
        _ => return Ok(None),
    }))
}

/// The function context of the default conf (ANSI, UTC), for tests.
#[cfg(test)]
pub(crate) fn default_function_context() -> Arc<crate::functions::FunctionContext> {
    Arc::new(crate::functions::FunctionContext::default())
}
