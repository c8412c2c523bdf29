//! `CollapseProject`: merges a projection directly over another, and removes projections
//! that return their input unchanged.

use std::collections::HashMap;
use std::sync::Arc;

use crate::Result;

use super::{OptimizerRule, field_index, is_deterministic, keep_name, replace_columns};
use crate::expr::Expr;
use crate::logical::LogicalPlan;

/// Inlines the inner projection's expressions into the outer one.
///
/// An inner expression the outer one uses several times is inlined only when it is cheap
/// (a column or a literal): inlining `f(x)` twice would compute it twice.
#[derive(Debug)]
pub struct CombineProjections;

fn collapse(outer: &[Expr], inner: &[Expr], input: &Arc<LogicalPlan>) -> Option<LogicalPlan> {
    if !inner.iter().all(is_deterministic) {
        return None;
    }
    let inner_node = LogicalPlan::Projection {
        exprs: inner.to_vec(),
        input: input.clone(),
    };
    let inner_schema = inner_node.schema().ok()?;
    let mut uses: HashMap<usize, usize> = HashMap::new();
    for e in outer {
        if e.any(&|x| matches!(x, Expr::Column(c) if field_index(&inner_schema, c).is_none())) {
            return None;
        }
        // Count references (with repetition) to each inner output.
        let _: std::result::Result<Expr, ()> = e.clone().transform_up(&mut |x| {
            if let Expr::Column(c) = &x
                && let Some(i) = field_index(&inner_schema, c)
            {
                *uses.entry(i).or_default() += 1;
            }
            Ok(x)
        });
    }
    for (i, n) in &uses {
        let cheap = matches!(inner[*i].unalias(), Expr::Column(_) | Expr::Literal(_));
        if *n > 1 && !cheap {
            return None;
        }
    }
    let exprs = outer
        .iter()
        .map(|e| {
            let new = replace_columns(e, &|c| {
                field_index(&inner_schema, c).map(|i| inner[i].unalias().clone())
            })?;
            Some(keep_name(e, new))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(LogicalPlan::Projection {
        exprs,
        input: input.clone(),
    })
}

/// True when `exprs` are exactly the input's columns, in order.
fn is_identity(exprs: &[Expr], input: &LogicalPlan) -> bool {
    let Ok(schema) = input.schema() else {
        return false;
    };
    exprs.len() == schema.len()
        && exprs.iter().enumerate().all(|(i, e)| match e {
            Expr::Column(c) => {
                let f = schema.field(i);
                field_index(&schema, c) == Some(i)
                    && f.name() == c.name
                    && f.qualifier.as_deref() == c.relation.as_deref()
            }
            _ => false,
        })
}

impl OptimizerRule for CombineProjections {
    fn name(&self) -> &str {
        "CollapseProject"
    }

    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
        plan.transform_up(&mut |node| {
            if let LogicalPlan::Projection { exprs, input } = node.as_ref() {
                if is_identity(exprs, input) {
                    return Ok(input.clone());
                }
                if let LogicalPlan::Projection {
                    exprs: inner,
                    input: grand,
                } = input.as_ref()
                    && let Some(p) = collapse(exprs, inner, grand)
                {
                    return Ok(Arc::new(p));
                }
            }
            Ok(node)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{BinaryOperator, Column, lit};
    use crate::optimizer::test_util::*;

    fn run(plan: Arc<LogicalPlan>) -> String {
        let out = CombineProjections.rewrite(plan.clone()).unwrap();
        assert_same_schema(&plan, &out);
        out.display_tree()
    }

    fn x() -> Expr {
        Expr::Column(Column::new(None, "x"))
    }

    #[test]
    fn inlines_and_keeps_names() {
        let inner = project(
            vec![
                c("t", "a"),
                binary(c("t", "b"), BinaryOperator::Plus, lit(1i32)).alias("x"),
            ],
            scan_t(),
        );
        let plan = project(
            vec![
                x(),
                binary(c("t", "a"), BinaryOperator::Multiply, lit(2i32)),
            ],
            inner,
        );
        assert_eq!(
            run(plan),
            "Project [(b + 1) AS x, (a * 2)]\n+- Relation [a,b,s] LocalRelation"
        );
    }

    #[test]
    fn does_not_duplicate_expensive_expressions() {
        let inner = project(
            vec![binary(c("t", "b"), BinaryOperator::Plus, lit(1i32)).alias("x")],
            scan_t(),
        );
        let plan = project(
            vec![binary(x(), BinaryOperator::Multiply, x()).alias("y")],
            inner,
        );
        let before = plan.display_tree();
        assert_eq!(run(plan), before);
        // A column used twice is fine to inline.
        let inner = project(vec![c("t", "b").alias("x")], scan_t());
        let plan = project(
            vec![binary(x(), BinaryOperator::Multiply, x()).alias("y")],
            inner,
        );
        assert_eq!(
            run(plan),
            "Project [(b * b) AS y]\n+- Relation [a,b,s] LocalRelation"
        );
    }

    #[test]
    fn removes_identity_projection() {
        let plan = project(vec![c("t", "a"), c("t", "b"), c("t", "s")], scan_t());
        assert_eq!(run(plan), "Relation [a,b,s] LocalRelation");
        let plan = project(vec![c("t", "b"), c("t", "a"), c("t", "s")], scan_t());
        let before = plan.display_tree();
        assert_eq!(run(plan), before);
    }
}
