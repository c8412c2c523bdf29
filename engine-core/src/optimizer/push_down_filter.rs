//! `PushDownPredicates`: moves filter conjuncts as close to the data as they can go.

use std::sync::Arc;

use crate::Result;

use super::{
    OptimizerRule, column_for_field, field_index, filter_over, is_deterministic, replace_columns,
};
use crate::expr::{Column, Expr};
use crate::logical::{FilterPushdown, Join, JoinType, LogicalPlan, Scan};
use crate::schema::PlanSchema;

/// Splits filters into conjuncts and pushes each below projections, aliases, sorts,
/// distincts, unions, aggregates (on grouping columns), joins (where the join type allows)
/// and into scans whose source can use them.
#[derive(Debug)]
pub struct PushDownFilter;

impl OptimizerRule for PushDownFilter {
    fn name(&self) -> &str {
        "PushDownPredicates"
    }

    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
        plan.transform_down(&mut |node| match node.as_ref() {
            LogicalPlan::Filter { predicate, input } if is_deterministic(predicate) => {
                push(predicate.clone().split_conjunction(), input)
            }
            _ => Ok(node),
        })
    }
}

/// Which input of a join every column of `e` comes from.
#[derive(Debug, PartialEq, Eq)]
enum Side {
    Left,
    Right,
    Both,
}

fn side_of(e: &Expr, left: &PlanSchema, right: &PlanSchema) -> Option<Side> {
    let cols = e.columns();
    if cols.is_empty() {
        return None;
    }
    let (mut l, mut r) = (false, false);
    for c in &cols {
        match (
            field_index(left, c).is_some(),
            field_index(right, c).is_some(),
        ) {
            (true, false) => l = true,
            (false, true) => r = true,
            _ => return None,
        }
    }
    Some(match (l, r) {
        (true, false) => Side::Left,
        (false, true) => Side::Right,
        _ => Side::Both,
    })
}

/// `preds` (deterministic conjuncts) pushed as far into `input` as possible; what cannot
/// move stays in a filter above.
fn push(preds: Vec<Expr>, input: &Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
    if preds.is_empty() {
        return Ok(input.clone());
    }
    let keep = |preds: Vec<Expr>| Ok(filter_over(preds, input.clone()));
    match input.as_ref() {
        LogicalPlan::Filter {
            predicate,
            input: grand,
        } if is_deterministic(predicate) => {
            let mut all = predicate.clone().split_conjunction();
            all.extend(preds);
            push(all, grand)
        }
        LogicalPlan::Projection {
            exprs,
            input: grand,
        } => {
            let schema = input.schema()?;
            let (mut down, mut up) = (vec![], vec![]);
            for p in preds {
                let rewritten = replace_columns(&p, &|c| {
                    let e = exprs[field_index(&schema, c)?].unalias();
                    (is_deterministic(e) && !crate::functions::contains_aggregate(e))
                        .then(|| e.clone())
                });
                match rewritten {
                    Some(r) => down.push(r),
                    None => up.push(p),
                }
            }
            let node = Arc::new(LogicalPlan::Projection {
                exprs: exprs.clone(),
                input: push(down, grand)?,
            });
            Ok(filter_over(up, node))
        }
        LogicalPlan::SubqueryAlias {
            alias,
            input: grand,
        } => {
            // Columns above name the alias; below, the input's own relation names.
            let outer = input.schema()?;
            let inner = grand.schema()?;
            let (mut down, mut up) = (vec![], vec![]);
            for p in preds {
                match replace_columns(&p, &|c| {
                    column_for_field(&inner, field_index(&outer, c)?).map(Expr::Column)
                }) {
                    Some(r) => down.push(r),
                    None => up.push(p),
                }
            }
            let node = Arc::new(LogicalPlan::SubqueryAlias {
                alias: alias.clone(),
                input: push(down, grand)?,
            });
            Ok(filter_over(up, node))
        }
        LogicalPlan::Sort {
            exprs,
            input: grand,
        } => Ok(Arc::new(LogicalPlan::Sort {
            exprs: exprs.clone(),
            input: push(preds, grand)?,
        })),
        LogicalPlan::Distinct { input: grand } => Ok(Arc::new(LogicalPlan::Distinct {
            input: push(preds, grand)?,
        })),
        LogicalPlan::Union { inputs } => {
            let outer = input.schema()?;
            let mut new_inputs = Vec::with_capacity(inputs.len());
            for child in inputs {
                let inner = child.schema()?;
                // Union columns match by position.
                let rewritten = preds
                    .iter()
                    .map(|p| {
                        replace_columns(p, &|c| {
                            column_for_field(&inner, field_index(&outer, c)?).map(Expr::Column)
                        })
                    })
                    .collect::<Option<Vec<_>>>();
                match rewritten {
                    Some(r) => new_inputs.push(push(r, child)?),
                    None => return keep(preds),
                }
            }
            Ok(Arc::new(LogicalPlan::Union { inputs: new_inputs }))
        }
        LogicalPlan::Aggregate {
            group_exprs,
            aggr_exprs,
            input: grand,
        } if !group_exprs.is_empty() => {
            // Only predicates on grouping keys commute with grouping: they keep or drop
            // whole groups.
            let schema = input.schema()?;
            let (mut down, mut up) = (vec![], vec![]);
            for p in preds {
                let rewritten = replace_columns(&p, &|c| {
                    let i = field_index(&schema, c)?;
                    let e = group_exprs.get(i)?.unalias();
                    is_deterministic(e).then(|| e.clone())
                });
                match rewritten {
                    Some(r) => down.push(r),
                    None => up.push(p),
                }
            }
            let node = Arc::new(LogicalPlan::Aggregate {
                group_exprs: group_exprs.clone(),
                aggr_exprs: aggr_exprs.clone(),
                input: push(down, grand)?,
            });
            Ok(filter_over(up, node))
        }
        LogicalPlan::Generate(g) => {
            // Only predicates on the input's columns move below: a filter on a generated
            // column must see the generated rows.
            let schema = input.schema()?;
            let width = g.kept_columns(g.input.schema()?.len()).len();
            let (down, up): (Vec<Expr>, Vec<Expr>) = preds.into_iter().partition(|p| {
                p.columns()
                    .iter()
                    .all(|c| field_index(&schema, c).is_some_and(|i| i < width))
            });
            let node = Arc::new(LogicalPlan::Generate(crate::logical::Generate {
                input: push(down, &g.input)?,
                ..g.clone()
            }));
            Ok(filter_over(up, node))
        }
        LogicalPlan::EventTimeWatermark(w) => {
            // Spark's PushPredicateThroughNonJoin: a predicate that does not read the
            // event-time column moves below the watermark, so the rows it drops never count
            // toward the batch's max event time (and the watermark after it).
            let schema = input.schema()?;
            let event_time = match &w.event_time {
                Expr::Column(c) => field_index(&schema, c),
                _ => None,
            };
            let (down, up): (Vec<Expr>, Vec<Expr>) = preds.into_iter().partition(|p| {
                event_time.is_some()
                    && p.columns()
                        .iter()
                        .all(|c| field_index(&schema, c).is_some_and(|i| Some(i) != event_time))
            });
            let node = Arc::new(LogicalPlan::EventTimeWatermark(
                crate::logical::EventTimeWatermark {
                    input: push(down, &w.input)?,
                    ..w.clone()
                },
            ));
            Ok(filter_over(up, node))
        }
        LogicalPlan::Join(j) => push_join(preds, j),
        LogicalPlan::Scan(s) if s.limit.is_none() => push_scan(preds, s),
        _ => keep(preds),
    }
}

fn push_join(preds: Vec<Expr>, j: &Join) -> Result<Arc<LogicalPlan>> {
    let (ls, rs) = (j.left.schema()?, j.right.schema()?);
    // Which sides' rows a filter above may remove before the join without changing the
    // result: a side whose unmatched rows are padded with NULLs (the right of a LEFT join)
    // would then produce padded rows instead of none.
    let (to_left, to_right, into_condition) = match j.join_type {
        JoinType::Inner => (true, true, true),
        // `FROM a, b WHERE a.k = b.k`: the predicate makes the cross join an inner join
        // the planner can run as a hash join.
        JoinType::Cross => (true, true, true),
        JoinType::Left | JoinType::LeftSemi | JoinType::LeftAnti => (true, false, false),
        JoinType::Right => (false, true, false),
        JoinType::Full => (false, false, false),
    };
    let (mut left, mut right, mut cond, mut up) = (vec![], vec![], vec![], vec![]);
    for p in preds {
        match side_of(&p, &ls, &rs) {
            Some(Side::Left) if to_left => left.push(p),
            Some(Side::Right) if to_right => right.push(p),
            Some(Side::Both) if into_condition => cond.push(p),
            _ => up.push(p),
        }
    }
    // Conjuncts of the ON clause that read one side only can filter that side first when
    // that side's unmatched rows are dropped anyway.
    let mut condition = vec![];
    if let Some(c) = &j.condition
        && is_deterministic(c)
    {
        let (on_left, on_right) = j.join_type.drops_unmatched();
        for p in c.clone().split_conjunction() {
            match side_of(&p, &ls, &rs) {
                Some(Side::Left) if on_left => left.push(p),
                Some(Side::Right) if on_right => right.push(p),
                _ => condition.push(p),
            }
        }
    } else {
        condition.extend(j.condition.clone());
    }
    condition.extend(cond);
    let join_type = if j.join_type == JoinType::Cross && !condition.is_empty() {
        JoinType::Inner
    } else {
        j.join_type
    };
    let node = Arc::new(LogicalPlan::Join(Join {
        left: push(left, &j.left)?,
        right: push(right, &j.right)?,
        join_type,
        condition: crate::expr::conjunction(condition),
    }));
    Ok(filter_over(up, node))
}

fn push_scan(preds: Vec<Expr>, s: &Scan) -> Result<Arc<LogicalPlan>> {
    let mut filters = s.filters.clone();
    let mut up = vec![];
    for p in preds {
        // Scan filters are resolved against the source's own schema, which has no
        // relation names.
        let stripped = replace_columns(&p, &|c| Some(Expr::Column(Column::new(None, &c.name))));
        let support = match &stripped {
            Some(e) if !e.columns().is_empty() => s.source.supports_filter(e),
            _ => FilterPushdown::Unsupported,
        };
        match (support, stripped) {
            (FilterPushdown::Exact, Some(e)) => filters.push(e),
            (FilterPushdown::Inexact, Some(e)) => {
                if !filters.contains(&e) {
                    filters.push(e);
                }
                up.push(p);
            }
            _ => up.push(p),
        }
    }
    let node = Arc::new(LogicalPlan::Scan(Scan {
        filters,
        ..s.clone()
    }));
    Ok(filter_over(up, node))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{BinaryOperator, lit};
    use crate::optimizer::test_util::*;
    use crate::scalar::ScalarValue;

    fn run(plan: Arc<LogicalPlan>) -> String {
        let out = PushDownFilter.rewrite(plan.clone()).unwrap();
        assert_same_schema(&plan, &out);
        out.display_tree()
    }

    fn gt(a: Expr, n: i32) -> Expr {
        binary(a, BinaryOperator::Gt, lit(n))
    }

    fn join(
        left: Arc<LogicalPlan>,
        right: Arc<LogicalPlan>,
        join_type: JoinType,
        condition: Option<Expr>,
    ) -> Arc<LogicalPlan> {
        Arc::new(LogicalPlan::Join(Join {
            left,
            right,
            join_type,
            condition,
        }))
    }

    #[test]
    fn through_projection_rewriting_columns() {
        let inner = project(
            vec![
                c("t", "a"),
                binary(c("t", "b"), BinaryOperator::Plus, lit(1i32)).alias("x"),
            ],
            scan_t(),
        );
        let x = Expr::Column(Column::new(None, "x"));
        let plan = filter(gt(x, 5).and(gt(c("t", "a"), 1)), inner);
        assert_eq!(
            run(plan),
            "Project [a, (b + 1) AS x]\n+- Filter (((b + 1) > 5) AND (a > 1))\n   +- Relation [a,b,s] LocalRelation"
        );
    }

    #[test]
    fn below_a_watermark_unless_reading_the_event_time() {
        // Spark pushes `b > 1` below EventTimeWatermark (the rows it drops do not raise
        // the max event time) and keeps `a > 1`, which reads the event-time column, above.
        let watermarked = Arc::new(LogicalPlan::EventTimeWatermark(
            crate::logical::EventTimeWatermark {
                event_time: c("t", "a"),
                delay: std::time::Duration::from_secs(600),
                stats: Arc::default(),
                input: scan_t(),
            },
        ));
        let plan = filter(gt(c("t", "b"), 1).and(gt(c("t", "a"), 1)), watermarked);
        let out = run(plan);
        let (above, below) = out.split_once("EventTimeWatermark").unwrap();
        assert!(
            above.contains("(a > 1)") && !above.contains("(b > 1)"),
            "{out}"
        );
        assert!(
            below.contains("(b > 1)") && !below.contains("(a > 1)"),
            "{out}"
        );
    }

    #[test]
    fn through_alias_and_sort_into_inexact_scan() {
        let source = Arc::new(FilteringSource {
            pushdown: FilterPushdown::Inexact,
        });
        let aliased = Arc::new(LogicalPlan::SubqueryAlias {
            alias: "v".into(),
            input: Arc::new(LogicalPlan::Sort {
                exprs: vec![crate::expr::SortExpr::asc(c("t", "a"))],
                input: scan_of(source, "t"),
            }),
        });
        let plan = filter(gt(c("v", "a"), 1), aliased);
        let out = run(plan);
        assert_eq!(
            out,
            "SubqueryAlias v\n+- Sort [a ASC NULLS FIRST], true\n   +- Filter (a > 1)\n      +- Relation [a,b,s] FilteringSource, PushedFilters: [(a > 1)]"
        );
    }

    #[test]
    fn exact_scan_filters_leave_no_filter_above() {
        let source = Arc::new(FilteringSource {
            pushdown: FilterPushdown::Exact,
        });
        let plan = filter(gt(c("t", "a"), 1), scan_of(source, "t"));
        assert_eq!(
            run(plan),
            "Relation [a,b,s] FilteringSource, PushedFilters: [(a > 1)]"
        );
        // MemTable uses no filter: it stays above.
        let plan = filter(gt(c("t", "a"), 1), scan_t());
        let before = plan.display_tree();
        assert_eq!(run(plan), before);
    }

    #[test]
    fn join_sides_by_type() {
        let cond = Some(binary(c("t", "a"), BinaryOperator::Eq, c("u", "a")));
        let preds = || {
            gt(c("t", "b"), 1).and(gt(c("u", "b"), 2)).and(binary(
                c("t", "s"),
                BinaryOperator::Eq,
                c("u", "s"),
            ))
        };
        let inner = run(filter(
            preds(),
            join(scan_t(), scan_u(), JoinType::Inner, cond.clone()),
        ));
        assert_eq!(
            inner,
            "Join Inner, ((a = a) AND (s = s))\n:- Filter (b > 1)\n:  +- Relation [a,b,s] LocalRelation\n+- Filter (b > 2)\n   +- Relation [a,b,s] LocalRelation"
        );
        let left = run(filter(
            preds(),
            join(scan_t(), scan_u(), JoinType::Left, cond.clone()),
        ));
        assert_eq!(
            left,
            "Filter ((b > 2) AND (s = s))\n+- Join LeftOuter, (a = a)\n   :- Filter (b > 1)\n   :  +- Relation [a,b,s] LocalRelation\n   +- Relation [a,b,s] LocalRelation"
        );
        let right = run(filter(
            preds(),
            join(scan_t(), scan_u(), JoinType::Right, cond.clone()),
        ));
        assert_eq!(
            right,
            "Filter ((b > 1) AND (s = s))\n+- Join RightOuter, (a = a)\n   :- Relation [a,b,s] LocalRelation\n   +- Filter (b > 2)\n      +- Relation [a,b,s] LocalRelation"
        );
        let plan = filter(
            preds(),
            join(scan_t(), scan_u(), JoinType::Full, cond.clone()),
        );
        let before = plan.display_tree();
        assert_eq!(run(plan), before);
        let semi = run(filter(
            gt(c("t", "b"), 1),
            join(scan_t(), scan_u(), JoinType::LeftSemi, cond),
        ));
        assert_eq!(
            semi,
            "Join LeftSemi, (a = a)\n:- Filter (b > 1)\n:  +- Relation [a,b,s] LocalRelation\n+- Relation [a,b,s] LocalRelation"
        );
    }

    #[test]
    fn cross_join_with_a_join_predicate_becomes_inner() {
        let plan = filter(
            binary(c("t", "a"), BinaryOperator::Eq, c("u", "a")).and(gt(c("u", "b"), 2)),
            join(scan_t(), scan_u(), JoinType::Cross, None),
        );
        assert_eq!(
            run(plan),
            "Join Inner, (a = a)\n:- Relation [a,b,s] LocalRelation\n+- Filter (b > 2)\n   +- Relation [a,b,s] LocalRelation"
        );
    }

    #[test]
    fn one_sided_on_conditions() {
        let cond = binary(c("t", "a"), BinaryOperator::Eq, c("u", "a"))
            .and(gt(c("u", "b"), 2))
            .and(gt(c("t", "b"), 1));
        // LEFT JOIN: the right-only part filters the right side; the left-only part must
        // stay (unmatched left rows are still output).
        let plan = filter(
            lit(ScalarValue::Boolean(Some(true))).and(gt(c("t", "a"), 0)),
            join(scan_t(), scan_u(), JoinType::Left, Some(cond)),
        );
        assert_eq!(
            run(plan),
            "Filter true\n+- Join LeftOuter, ((a = a) AND (b > 1))\n   :- Filter (a > 0)\n   :  +- Relation [a,b,s] LocalRelation\n   +- Filter (b > 2)\n      +- Relation [a,b,s] LocalRelation"
        );
    }

    #[test]
    fn union_by_position_and_aggregate_on_keys() {
        let plan = filter(
            gt(c("t", "a"), 1),
            Arc::new(LogicalPlan::Union {
                inputs: vec![
                    scan_t(),
                    project(vec![c("u", "b"), c("u", "a"), c("u", "s")], scan_u()),
                ],
            }),
        );
        // The union's columns carry no relation name in its schema.
        let plan = match plan.as_ref() {
            LogicalPlan::Filter { input, .. } => {
                filter(gt(Expr::Column(Column::new(None, "a")), 1), input.clone())
            }
            _ => unreachable!(),
        };
        assert_eq!(
            run(plan),
            "Union false, false\n:- Filter (a > 1)\n:  +- Relation [a,b,s] LocalRelation\n+- Project [b, a, s]\n   +- Filter (b > 1)\n      +- Relation [a,b,s] LocalRelation"
        );
        let agg = Arc::new(LogicalPlan::Aggregate {
            group_exprs: vec![c("t", "a")],
            aggr_exprs: vec![binary(c("t", "a"), BinaryOperator::Plus, lit(1i32)).alias("n")],
            input: scan_t(),
        });
        let plan = filter(
            gt(c("t", "a"), 1).and(gt(Expr::Column(Column::new(None, "n")), 3)),
            agg,
        );
        assert_eq!(
            run(plan),
            "Filter (n > 3)\n+- Aggregate [a], [a, (a + 1) AS n]\n   +- Filter (a > 1)\n      +- Relation [a,b,s] LocalRelation"
        );
    }
}
