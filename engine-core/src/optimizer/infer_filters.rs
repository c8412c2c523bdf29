//! `InferFiltersFromConstraints` (the part of Spark's rule that matters to results): a join
//! condition such as `e.k = d.k` cannot hold when a key is NULL, so the sides whose
//! unmatched rows the join drops anyway get `isnotnull(key)` filters.
//!
//! For batch queries this only saves work. For a stream it decides the watermark: the filter
//! does not read the event time, so `PushDownFilter` moves it below the watermark (as Spark's
//! PushPredicateThroughNonJoin does), and a row with a NULL key no longer advances the max
//! event time. Spark runs the rule once (its "Infer Filters" batch), before the rules that
//! push filters down; [`super::optimize_with_conf`] does the same, so it never adds a filter
//! twice.

use std::sync::Arc;

use crate::Result;
use crate::expr::{BinaryOperator, Column, Expr};
use crate::logical::{Join, LogicalPlan};

use super::{OptimizerRule, field_index};

/// Adds `isnotnull` filters below a join for the columns its condition needs non-NULL.
#[derive(Debug)]
pub struct InferFiltersFromConstraints;

impl OptimizerRule for InferFiltersFromConstraints {
    fn name(&self) -> &str {
        "InferFiltersFromConstraints"
    }

    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
        plan.transform_up(&mut |node| {
            let LogicalPlan::Join(j) = node.as_ref() else {
                return Ok(node);
            };
            let Some(condition) = &j.condition else {
                return Ok(node);
            };
            // Only a side whose rows without a match leave the result may be filtered.
            let (on_left, on_right) = j.join_type.drops_unmatched();
            let mut needed = Vec::new();
            for p in condition.clone().split_conjunction() {
                not_null_columns(&p, &mut needed);
            }
            let (ls, rs) = (j.left.schema()?, j.right.schema()?);
            let side = |input: &Arc<LogicalPlan>, on: bool, schema| {
                let cols: Vec<&Column> = needed
                    .iter()
                    .filter(|c| on && field_index(schema, c).is_some())
                    .collect();
                with_not_null(input, &cols)
            };
            let left = side(&j.left, on_left, &ls);
            let right = side(&j.right, on_right, &rs);
            if Arc::ptr_eq(&left, &j.left) && Arc::ptr_eq(&right, &j.right) {
                return Ok(node);
            }
            Ok(Arc::new(LogicalPlan::Join(Join {
                left,
                right,
                ..j.clone()
            })))
        })
    }
}

/// The columns a conjunct needs non-NULL to be true: both operands of a comparison other
/// than `<=>`, through the operators that are NULL when an input is (Spark's
/// `NullIntolerant`: arithmetic, casts, negation).
fn not_null_columns(p: &Expr, out: &mut Vec<Column>) {
    if let Expr::BinaryOp { left, op, right } = p
        && op.is_comparison()
        && *op != BinaryOperator::NullSafeEq
    {
        for side in [left, right] {
            if null_intolerant(side) {
                for c in side.columns() {
                    if !out.contains(&c) {
                        out.push(c);
                    }
                }
            }
        }
    }
}

fn null_intolerant(e: &Expr) -> bool {
    match e {
        Expr::Column(_) | Expr::Literal(_) => true,
        Expr::Cast { expr, .. } | Expr::Negative(expr) => null_intolerant(expr),
        Expr::BinaryOp { left, op, right } => {
            matches!(
                op,
                BinaryOperator::Plus
                    | BinaryOperator::Minus
                    | BinaryOperator::Multiply
                    | BinaryOperator::Divide
                    | BinaryOperator::IntDivide
                    | BinaryOperator::Modulo
            ) && null_intolerant(left)
                && null_intolerant(right)
        }
        _ => false,
    }
}

fn with_not_null(input: &Arc<LogicalPlan>, cols: &[&Column]) -> Arc<LogicalPlan> {
    let predicate = cols
        .iter()
        .map(|c| Expr::Column((*c).clone()).is_not_null())
        .reduce(Expr::and);
    match predicate {
        Some(predicate) => Arc::new(LogicalPlan::Filter {
            predicate,
            input: input.clone(),
        }),
        None => input.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logical::JoinType;
    use crate::optimizer::test_util::*;

    fn join(join_type: JoinType, condition: Expr) -> Arc<LogicalPlan> {
        Arc::new(LogicalPlan::Join(Join {
            left: scan_t(),
            right: scan_u(),
            join_type,
            condition: Some(condition),
        }))
    }

    fn run(plan: Arc<LogicalPlan>) -> String {
        let out = InferFiltersFromConstraints.rewrite(plan.clone()).unwrap();
        assert_same_schema(&plan, &out);
        out.display_tree()
    }

    #[test]
    fn an_inner_equi_join_filters_null_keys_on_both_sides() {
        let cond = binary(c("t", "a"), BinaryOperator::Eq, c("u", "a"));
        assert_eq!(
            run(join(JoinType::Inner, cond)),
            "Join Inner, (a = a)\n:- Filter (a IS NOT NULL)\n:  +- Relation [a,b,s] LocalRelation\n+- Filter (a IS NOT NULL)\n   +- Relation [a,b,s] LocalRelation"
        );
    }

    #[test]
    fn an_outer_join_filters_only_the_side_it_may_drop() {
        let cond = binary(
            binary(c("t", "b"), BinaryOperator::Plus, c("t", "a")),
            BinaryOperator::Lt,
            c("u", "b"),
        );
        let out = run(join(JoinType::Left, cond.clone()));
        assert_eq!(
            out,
            "Join LeftOuter, ((b + a) < b)\n:- Relation [a,b,s] LocalRelation\n+- Filter (b IS NOT NULL)\n   +- Relation [a,b,s] LocalRelation"
        );
        assert!(!run(join(JoinType::Full, cond)).contains("Filter"));
    }

    #[test]
    fn null_safe_equality_and_null_tolerant_operands_infer_nothing() {
        let nse = binary(c("t", "a"), BinaryOperator::NullSafeEq, c("u", "a"));
        assert!(!run(join(JoinType::Inner, nse)).contains("Filter"));
        let or = binary(
            binary(c("t", "a"), BinaryOperator::Eq, c("u", "a")),
            BinaryOperator::Or,
            c("t", "s").is_null(),
        );
        assert!(!run(join(JoinType::Inner, or)).contains("Filter"));
    }
}
