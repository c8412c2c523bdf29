//! `BooleanSimplification` and `PruneFilters`: removes `AND true`, `OR false`, double
//! negations, and filters whose predicate is a literal.

use std::sync::Arc;

use crate::Result;

use super::{OptimizerRule, map_node_exprs};
use crate::expr::{BinaryOperator, Expr};
use crate::logical::LogicalPlan;
use crate::scalar::ScalarValue;

/// Simplifies boolean expressions and drops filters that keep every row.
#[derive(Debug)]
pub struct SimplifyBooleans;

fn bool_lit(e: &Expr) -> Option<Option<bool>> {
    match e {
        Expr::Literal(ScalarValue::Boolean(b)) => Some(*b),
        Expr::Literal(ScalarValue::Null) => Some(None),
        _ => None,
    }
}

/// The negated comparison: `NOT (a < b)` is `a >= b` under three-valued logic too (both
/// NULL when an operand is NULL), and NaN sorts as Spark orders it, as the largest value.
fn negate_comparison(op: BinaryOperator) -> Option<BinaryOperator> {
    use BinaryOperator::*;
    Some(match op {
        Eq => NotEq,
        NotEq => Eq,
        Lt => GtEq,
        LtEq => Gt,
        Gt => LtEq,
        GtEq => Lt,
        _ => return None,
    })
}

/// One bottom-up simplification step on a node whose children are already simplified.
fn simplify(e: Expr) -> Expr {
    match e {
        Expr::BinaryOp {
            left,
            op: op @ (BinaryOperator::And | BinaryOperator::Or),
            right,
        } => {
            let and = op == BinaryOperator::And;
            match (bool_lit(&left), bool_lit(&right)) {
                // `x AND true` is x; `x AND false` is false even when x is NULL.
                (_, Some(Some(b))) if b == and => *left,
                (Some(Some(b)), _) if b == and => *right,
                (_, Some(Some(b))) | (Some(Some(b)), _) => {
                    debug_assert_ne!(b, and);
                    Expr::Literal(ScalarValue::Boolean(Some(b)))
                }
                _ => Expr::BinaryOp { left, op, right },
            }
        }
        Expr::Not(inner) => match *inner {
            Expr::Not(x) => *x,
            Expr::Literal(ScalarValue::Boolean(b)) => {
                Expr::Literal(ScalarValue::Boolean(b.map(|v| !v)))
            }
            Expr::IsNull(x) => Expr::IsNotNull(x),
            Expr::IsNotNull(x) => Expr::IsNull(x),
            Expr::BinaryOp { left, op, right } if negate_comparison(op).is_some() => {
                Expr::BinaryOp {
                    left,
                    op: negate_comparison(op).unwrap_or(op),
                    right,
                }
            }
            other => Expr::Not(Box::new(other)),
        },
        other => other,
    }
}

fn simplify_tree(e: Expr) -> Expr {
    let r: std::result::Result<Expr, ()> = e.transform_up(&mut |x| Ok(simplify(x)));
    r.unwrap_or_else(|()| Expr::Literal(ScalarValue::Null))
}

impl OptimizerRule for SimplifyBooleans {
    fn name(&self) -> &str {
        "BooleanSimplification"
    }

    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
        plan.transform_up(&mut |node| {
            let node = match map_node_exprs(&node, &|e| Ok(simplify_tree(e)))? {
                Some(n) => Arc::new(n),
                None => node,
            };
            if let LogicalPlan::Filter { predicate, input } = node.as_ref() {
                match bool_lit(predicate) {
                    Some(Some(true)) => return Ok(input.clone()),
                    // FALSE or NULL keeps no row: an empty result of the same schema.
                    Some(_) => {
                        return Ok(Arc::new(LogicalPlan::Limit {
                            n: 0,
                            input: input.clone(),
                        }));
                    }
                    None => {}
                }
            }
            Ok(node)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::lit;
    use crate::optimizer::test_util::*;

    fn run(plan: Arc<LogicalPlan>) -> String {
        let out = SimplifyBooleans.rewrite(plan.clone()).unwrap();
        assert_same_schema(&plan, &out);
        out.display_tree()
    }

    fn gt(a: Expr, b: Expr) -> Expr {
        binary(a, BinaryOperator::Gt, b)
    }

    #[test]
    fn and_or_with_literals() {
        let p = gt(c("t", "a"), lit(1i32));
        let plan = filter(
            p.clone()
                .and(lit(true))
                .or(lit(false))
                .and(gt(c("t", "b"), lit(2i32)).or(lit(false))),
            scan_t(),
        );
        assert_eq!(
            run(plan),
            "Filter ((a > 1) AND (b > 2))\n+- Relation [a,b,s] LocalRelation"
        );
        let plan = project(vec![p.clone().and(lit(false)), p.or(lit(true))], scan_t());
        assert_eq!(
            run(plan),
            "Project [false AS ((a > 1) AND false), true AS ((a > 1) OR true)]\n+- Relation [a,b,s] LocalRelation"
        );
    }

    #[test]
    fn negations() {
        let plan = project(
            vec![
                Expr::Not(Box::new(Expr::Not(Box::new(c("t", "a").is_null())))),
                Expr::Not(Box::new(binary(
                    c("t", "a"),
                    BinaryOperator::Eq,
                    c("t", "b"),
                ))),
                Expr::Not(Box::new(gt(c("t", "a"), c("t", "b")))),
                Expr::Not(Box::new(c("t", "a").is_not_null())),
                Expr::Not(Box::new(binary(
                    c("t", "a"),
                    BinaryOperator::NullSafeEq,
                    c("t", "b"),
                ))),
            ],
            scan_t(),
        );
        assert_eq!(
            run(plan),
            "Project [(a IS NULL) AS (NOT (NOT (a IS NULL))), (a != b) AS (NOT (a = b)), (a <= b) AS (NOT (a > b)), (a IS NULL) AS (NOT (a IS NOT NULL)), (NOT (a <=> b))]\n+- Relation [a,b,s] LocalRelation"
        );
    }

    #[test]
    fn literal_filters() {
        let plan = filter(gt(c("t", "a"), lit(1i32)).or(lit(true)), scan_t());
        assert_eq!(run(plan), "Relation [a,b,s] LocalRelation");
        let plan = filter(gt(c("t", "a"), lit(1i32)).and(lit(false)), scan_t());
        assert_eq!(
            run(plan),
            "GlobalLimit 0\n+- Relation [a,b,s] LocalRelation"
        );
        let plan = filter(Expr::Literal(ScalarValue::Boolean(None)), scan_t());
        assert_eq!(
            run(plan),
            "GlobalLimit 0\n+- Relation [a,b,s] LocalRelation"
        );
        // NULL AND x stays: it is NULL or FALSE depending on x.
        let plan = filter(
            Expr::Literal(ScalarValue::Boolean(None)).and(gt(c("t", "a"), lit(1i32))),
            scan_t(),
        );
        assert_eq!(
            run(plan),
            "Filter (NULL AND (a > 1))\n+- Relation [a,b,s] LocalRelation"
        );
    }
}
