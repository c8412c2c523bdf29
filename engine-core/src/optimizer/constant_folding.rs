//! `ConstantFolding`: evaluates constant sub-expressions once, at planning time.

use std::sync::Arc;

use crate::Result;

use super::{OptimizerRule, map_node_exprs};
use crate::expr::Expr;
use crate::functions::FunctionContext;
use crate::logical::LogicalPlan;
use crate::physical::expr::evaluate_constant;
use crate::scalar::ScalarValue;

/// Replaces constant sub-expressions (`1 + 2`, `upper('a')`) by their value.
///
/// An expression whose evaluation fails (`1 / 0`, `CAST('abc' AS INT)` under ANSI) stays
/// as it is, so the error is raised when the query runs, as in Spark (and not at all when
/// no row reaches it).
#[derive(Debug)]
pub struct ConstantFolding {
    ctx: Arc<FunctionContext>,
}

impl ConstantFolding {
    /// Folding with the session's time zone and ANSI mode.
    pub fn new(ctx: Arc<FunctionContext>) -> Self {
        ConstantFolding { ctx }
    }

    /// The value of a constant expression, or `None` if it cannot be computed now.
    fn evaluate(&self, e: &Expr) -> Option<ScalarValue> {
        let array = evaluate_constant(e, &self.ctx)?;
        let value = ScalarValue::try_from_array(array.as_ref(), 0).ok()?;
        // A literal must have the type the expression had, or parents typed against it
        // (casts, comparisons) would change meaning.
        (value.data_type() == *array.data_type()).then_some(value)
    }

    /// Folds `e` top-down: the largest constant sub-trees first.
    fn fold(&self, e: Expr) -> Expr {
        let result: std::result::Result<Expr, ()> = e.transform_down(&mut |x| {
            if matches!(x, Expr::Literal(_) | Expr::Alias(..)) || !x.is_constant() {
                return Ok(x);
            }
            Ok(match self.evaluate(&x) {
                Some(v) => Expr::Literal(v),
                None => x,
            })
        });
        // The closure never fails.
        result.unwrap_or_else(|()| Expr::Literal(ScalarValue::Null))
    }
}

impl OptimizerRule for ConstantFolding {
    fn name(&self) -> &str {
        "ConstantFolding"
    }

    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
        plan.transform_up(&mut |node| {
            Ok(match map_node_exprs(&node, &|e| Ok(self.fold(e)))? {
                Some(n) => Arc::new(n),
                None => node,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{BinaryOperator, CastMode, lit};
    use crate::optimizer::test_util::*;
    use arrow::datatypes::DataType;

    fn rule() -> ConstantFolding {
        ConstantFolding::new(crate::optimizer::default_function_context())
    }

    #[test]
    fn folds_arithmetic_and_keeps_the_name() {
        let plan = project(
            vec![
                binary(lit(1i32), BinaryOperator::Plus, lit(2i32)),
                binary(
                    c("t", "a"),
                    BinaryOperator::Plus,
                    binary(lit(1i32), BinaryOperator::Multiply, lit(3i32)),
                ),
            ],
            scan_t(),
        );
        let out = rule().rewrite(plan.clone()).unwrap();
        assert_eq!(
            out.display_tree(),
            "Project [3 AS (1 + 2), (a + 3) AS (a + (1 * 3))]\n+- Relation [a,b,s] LocalRelation"
        );
        assert_same_schema(&plan, &out);
    }

    #[test]
    fn leaves_failing_expressions_for_run_time() {
        let bad_cast = Expr::Cast {
            expr: Box::new(lit("abc")),
            to: DataType::Int32,
            mode: CastMode::Ansi,
        };
        let div0 = binary(lit(1i32), BinaryOperator::IntDivide, lit(0i32));
        let plan = filter(
            binary(c("t", "a"), BinaryOperator::Gt, bad_cast).and(binary(
                c("t", "a"),
                BinaryOperator::Lt,
                div0,
            )),
            scan_t(),
        );
        let out = rule().rewrite(plan.clone()).unwrap();
        assert_eq!(out.display_tree(), plan.display_tree());
    }

    #[test]
    fn folds_inside_filters_and_null_results() {
        let plan = filter(
            binary(
                c("t", "a"),
                BinaryOperator::Gt,
                binary(
                    lit(1i32),
                    BinaryOperator::Plus,
                    lit(ScalarValue::Int32(None)),
                ),
            ),
            scan_t(),
        );
        let out = rule().rewrite(plan).unwrap();
        assert_eq!(
            out.display_tree(),
            "Filter (a > NULL)\n+- Relation [a,b,s] LocalRelation"
        );
    }
}
