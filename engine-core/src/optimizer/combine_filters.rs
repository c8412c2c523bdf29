//! `CombineFilters`: merges a filter directly over another into one.

use std::sync::Arc;

use crate::Result;

use super::{OptimizerRule, is_deterministic};
use crate::logical::LogicalPlan;

/// `Filter(b, Filter(a, x))` becomes `Filter(a AND b, x)`: one pass over the rows, and one
/// conjunction for pushdown to split. The inner predicate stays first.
#[derive(Debug)]
pub struct CombineFilters;

impl OptimizerRule for CombineFilters {
    fn name(&self) -> &str {
        "CombineFilters"
    }

    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
        plan.transform_up(&mut |node| {
            if let LogicalPlan::Filter { predicate, input } = node.as_ref()
                && let LogicalPlan::Filter {
                    predicate: inner,
                    input: grand,
                } = input.as_ref()
                // A non-deterministic predicate (`rand() < 0.5`) must see only the rows
                // the other one kept, and as many of them.
                && is_deterministic(predicate)
                && is_deterministic(inner)
            {
                return Ok(Arc::new(LogicalPlan::Filter {
                    predicate: inner.clone().and(predicate.clone()),
                    input: grand.clone(),
                }));
            }
            Ok(node)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{BinaryOperator, lit};
    use crate::optimizer::test_util::*;

    #[test]
    fn merges_stacked_filters_inner_first() {
        let plan = filter(
            binary(c("t", "a"), BinaryOperator::Gt, lit(1i32)),
            filter(
                binary(c("t", "b"), BinaryOperator::Lt, lit(5i32)),
                filter(c("t", "s").is_not_null(), scan_t()),
            ),
        );
        let out = CombineFilters.rewrite(plan.clone()).unwrap();
        assert_same_schema(&plan, &out);
        assert_eq!(
            out.display_tree(),
            "Filter (((s IS NOT NULL) AND (b < 5)) AND (a > 1))\n+- Relation [a,b,s] LocalRelation"
        );
    }

    #[test]
    fn single_filter_unchanged() {
        let plan = filter(binary(c("t", "a"), BinaryOperator::Gt, lit(1i32)), scan_t());
        let out = CombineFilters.rewrite(plan.clone()).unwrap();
        assert_eq!(out.display_tree(), plan.display_tree());
    }
}
