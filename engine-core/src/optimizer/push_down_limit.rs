//! `LimitPushDown`: lets sources and union inputs stop early.

use std::sync::Arc;

use crate::Result;

use super::{OptimizerRule, is_deterministic};
use crate::logical::{LogicalPlan, Scan};

/// `Limit(n, Limit(m, x))` → `Limit(min(n, m), x)`; a limit moves below a projection
/// (which keeps row count); a scan directly below a limit gets the limit as a hint (the
/// limit stays: the hint is "may stop after"); each union input gets its own copy.
#[derive(Debug)]
pub struct PushDownLimit;

fn limited(n: usize, input: &Arc<LogicalPlan>) -> Arc<LogicalPlan> {
    match input.as_ref() {
        LogicalPlan::Limit { n: m, .. } if *m <= n => input.clone(),
        LogicalPlan::Limit { input: grand, .. } => limited(n, grand),
        _ => Arc::new(LogicalPlan::Limit {
            n,
            input: input.clone(),
        }),
    }
}

impl OptimizerRule for PushDownLimit {
    fn name(&self) -> &str {
        "LimitPushDown"
    }

    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
        plan.transform_down(&mut |node| Ok(step(node)))
    }
}

/// One rewrite of a limit node (a merged limit is rewritten again at once).
fn step(node: Arc<LogicalPlan>) -> Arc<LogicalPlan> {
    let LogicalPlan::Limit { n, input } = node.as_ref() else {
        return node;
    };
    let n = *n;
    match input.as_ref() {
        LogicalPlan::Limit { n: m, input: grand } => step(Arc::new(LogicalPlan::Limit {
            n: n.min(*m),
            input: grand.clone(),
        })),
        LogicalPlan::Projection {
            exprs,
            input: grand,
        } if exprs.iter().all(is_deterministic) => Arc::new(LogicalPlan::Projection {
            exprs: exprs.clone(),
            input: limited(n, grand),
        }),
        // An alias renames columns only: the limit can sit below it (and so reach the
        // scan it usually wraps).
        LogicalPlan::SubqueryAlias {
            alias,
            input: grand,
        } => Arc::new(LogicalPlan::SubqueryAlias {
            alias: alias.clone(),
            input: limited(n, grand),
        }),
        // Filters already in the scan (even exact ones) apply before the limit
        // only if the source says so; stay safe and skip such scans.
        LogicalPlan::Scan(s) if s.filters.is_empty() && s.limit.is_none_or(|m| m > n) => {
            Arc::new(LogicalPlan::Limit {
                n,
                input: Arc::new(LogicalPlan::Scan(Scan {
                    limit: Some(n),
                    ..s.clone()
                })),
            })
        }
        LogicalPlan::Union { inputs }
            if inputs
                .iter()
                .any(|i| !matches!(i.as_ref(), LogicalPlan::Limit { n: m, .. } if *m <= n)) =>
        {
            Arc::new(LogicalPlan::Limit {
                n,
                input: Arc::new(LogicalPlan::Union {
                    inputs: inputs.iter().map(|i| limited(n, i)).collect(),
                }),
            })
        }
        _ => node.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{BinaryOperator, lit};
    use crate::optimizer::test_util::*;

    fn run(plan: Arc<LogicalPlan>) -> String {
        let out = PushDownLimit.rewrite(plan.clone()).unwrap();
        assert_same_schema(&plan, &out);
        // A second pass changes nothing: the rule reaches its fixed point at once.
        assert_eq!(
            PushDownLimit.rewrite(out.clone()).unwrap().display_tree(),
            out.display_tree()
        );
        out.display_tree()
    }

    #[test]
    fn limits_merge_and_reach_the_scan() {
        let plan = limit(
            5,
            project(
                vec![binary(c("t", "a"), BinaryOperator::Plus, lit(1i32))],
                limit(3, scan_t()),
            ),
        );
        assert_eq!(
            run(plan),
            "Project [(a + 1)]\n+- GlobalLimit 3\n   +- Relation [a,b,s] LocalRelation, Limit: 3"
        );
        let plan = limit(
            2,
            Arc::new(LogicalPlan::SubqueryAlias {
                alias: "v".into(),
                input: limit(7, scan_t()),
            }),
        );
        assert_eq!(
            run(plan),
            "SubqueryAlias v\n+- GlobalLimit 2\n   +- Relation [a,b,s] LocalRelation, Limit: 2"
        );
    }

    #[test]
    fn union_inputs_get_a_limit_each() {
        let plan = limit(
            4,
            Arc::new(LogicalPlan::Union {
                inputs: vec![scan_t(), limit(2, scan_u())],
            }),
        );
        assert_eq!(
            run(plan),
            "GlobalLimit 4\n+- Union false, false\n   :- GlobalLimit 4\n   :  +- Relation [a,b,s] LocalRelation, Limit: 4\n   +- GlobalLimit 2\n      +- Relation [a,b,s] LocalRelation, Limit: 2"
        );
    }

    #[test]
    fn no_limit_through_filters_or_sorts() {
        let plan = limit(
            4,
            filter(binary(c("t", "a"), BinaryOperator::Gt, lit(1i32)), scan_t()),
        );
        let before = plan.display_tree();
        assert_eq!(run(plan), before);
    }
}
