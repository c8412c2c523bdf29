//! `ColumnPruning`: reads and carries only the columns the query uses.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::Result;

use super::{OptimizerRule, column_for_field, field_index};
use crate::expr::Expr;
use crate::logical::{Join, LogicalPlan, Scan};
use crate::schema::PlanSchema;

/// Computes top-down which output columns each node needs, narrows scans to them, drops
/// unused projection and aggregate outputs, and narrows join and aggregate inputs with a
/// projection where that drops columns. Output positions below change, but parents refer
/// to columns by name; union and distinct (positional / all-column) inputs keep every
/// column. The plan's own output never changes.
#[derive(Debug)]
pub struct ProjectionPruning;

impl OptimizerRule for ProjectionPruning {
    fn name(&self) -> &str {
        "ColumnPruning"
    }

    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
        let n = plan.schema()?.len();
        prune(&plan, &(0..n).collect())
    }
}

type Needed = BTreeSet<usize>;

fn all(plan: &LogicalPlan) -> Result<Needed> {
    Ok((0..plan.schema()?.len()).collect())
}

/// Fields of `schema` that `exprs` read; `None` if a column does not resolve there.
fn refs<'a>(exprs: impl IntoIterator<Item = &'a Expr>, schema: &PlanSchema) -> Option<Needed> {
    let mut out = Needed::new();
    for e in exprs {
        for c in e.columns() {
            out.insert(field_index(schema, &c)?);
        }
    }
    Some(out)
}

/// `needed` plus what `exprs` read from `input`, or every column when that is unknown.
fn with_refs<'a>(
    needed: &Needed,
    exprs: impl IntoIterator<Item = &'a Expr>,
    input: &LogicalPlan,
) -> Result<Needed> {
    let schema = input.schema()?;
    Ok(match refs(exprs, &schema) {
        Some(r) => needed.union(&r).copied().collect(),
        None => all(input)?,
    })
}

/// `plan` rewritten to output at least the fields `needed` (indices into its output).
fn prune(plan: &Arc<LogicalPlan>, needed: &Needed) -> Result<Arc<LogicalPlan>> {
    Ok(match plan.as_ref() {
        LogicalPlan::Scan(s) => {
            let width = plan.schema()?.len();
            if width == 0 || needed.len() == width {
                return Ok(plan.clone());
            }
            let current: Vec<usize> = match &s.projection {
                Some(p) => p.clone(),
                None => (0..width).collect(),
            };
            // Keep one column even when none is needed: operators count rows of batches
            // that have columns.
            let keep: Vec<usize> = if needed.is_empty() {
                vec![current[0]]
            } else {
                needed.iter().map(|&i| current[i]).collect()
            };
            Arc::new(LogicalPlan::Scan(Scan {
                projection: Some(keep),
                ..s.clone()
            }))
        }
        LogicalPlan::StreamingRelation(_) => plan.clone(),
        LogicalPlan::EventTimeWatermark(w) => Arc::new(LogicalPlan::EventTimeWatermark(
            crate::logical::EventTimeWatermark {
                input: prune(&w.input, &with_refs(needed, [&w.event_time], &w.input)?)?,
                ..w.clone()
            },
        )),
        LogicalPlan::Projection { exprs, input } => {
            let kept: Vec<Expr> = if needed.is_empty() {
                // Nothing is read from here, but rows still count: keep the cheapest.
                let i = exprs
                    .iter()
                    .position(|e| matches!(e, Expr::Column(_)))
                    .unwrap_or(0);
                exprs.iter().skip(i).take(1).cloned().collect()
            } else {
                needed
                    .iter()
                    .filter_map(|&i| exprs.get(i).cloned())
                    .collect()
            };
            let child_needed = with_refs(&Needed::new(), &kept, input)?;
            Arc::new(LogicalPlan::Projection {
                exprs: kept,
                input: prune(input, &child_needed)?,
            })
        }
        LogicalPlan::Filter { predicate, input } => Arc::new(LogicalPlan::Filter {
            predicate: predicate.clone(),
            input: prune(input, &with_refs(needed, [predicate], input)?)?,
        }),
        LogicalPlan::Sort { exprs, input } => Arc::new(LogicalPlan::Sort {
            exprs: exprs.clone(),
            input: prune(
                input,
                &with_refs(needed, exprs.iter().map(|s| &s.expr), input)?,
            )?,
        }),
        LogicalPlan::Limit { n, input } => Arc::new(LogicalPlan::Limit {
            n: *n,
            input: prune(input, needed)?,
        }),
        LogicalPlan::SubqueryAlias { alias, input } => Arc::new(LogicalPlan::SubqueryAlias {
            alias: alias.clone(),
            input: prune(input, needed)?,
        }),
        LogicalPlan::Extension(e) => {
            let inputs = e.node.inputs();
            let pruned = match inputs.as_slice() {
                [input] if e.node.passes_columns_through() => {
                    vec![prune(
                        input,
                        &with_refs(needed, e.node.expressions(), input)?,
                    )?]
                }
                [input] if e.node.reads_only_expressions() => {
                    let child_needed = with_refs(&Needed::new(), e.node.expressions(), input)?;
                    vec![narrow(prune(input, &child_needed)?, &child_needed, input)?]
                }
                _ => inputs
                    .iter()
                    .map(|i| prune(i, &all(i)?))
                    .collect::<Result<_>>()?,
            };
            Arc::new(plan.with_new_inputs(pruned)?)
        }
        LogicalPlan::Distinct { input } => Arc::new(LogicalPlan::Distinct {
            input: prune(input, &all(input)?)?,
        }),
        LogicalPlan::Union { inputs } => Arc::new(LogicalPlan::Union {
            inputs: inputs
                .iter()
                .map(|i| prune(i, &all(i)?))
                .collect::<Result<_>>()?,
        }),
        LogicalPlan::Aggregate {
            group_exprs,
            aggr_exprs,
            input,
        } => {
            let g = group_exprs.len();
            let mut kept: Vec<Expr> = aggr_exprs
                .iter()
                .enumerate()
                .filter(|(i, _)| needed.contains(&(g + i)))
                .map(|(_, e)| e.clone())
                .collect();
            // Keep one aggregate so the node keeps its shape for the physical planner.
            if kept.is_empty()
                && let Some(first) = aggr_exprs.first()
            {
                kept.push(first.clone());
            }
            let child_needed = with_refs(&Needed::new(), group_exprs.iter().chain(&kept), input)?;
            Arc::new(LogicalPlan::Aggregate {
                group_exprs: group_exprs.clone(),
                aggr_exprs: kept,
                input: narrow(prune(input, &child_needed)?, &child_needed, input)?,
            })
        }
        LogicalPlan::Join(j) => {
            let (ls, rs) = (j.left.schema()?, j.right.schema()?);
            let mut left_needed: Needed =
                needed.iter().copied().filter(|&i| i < ls.len()).collect();
            let mut right_needed: Needed = if j.join_type.outputs_right() {
                needed
                    .iter()
                    .filter(|&&i| i >= ls.len())
                    .map(|&i| i - ls.len())
                    .collect()
            } else {
                Needed::new()
            };
            if let Some(c) = &j.condition {
                for col in c.columns() {
                    match (field_index(&ls, &col), field_index(&rs, &col)) {
                        (Some(i), None) => {
                            left_needed.insert(i);
                        }
                        (None, Some(i)) => {
                            right_needed.insert(i);
                        }
                        // Unclear which side: keep both whole.
                        _ => {
                            left_needed = all(&j.left)?;
                            right_needed = all(&j.right)?;
                        }
                    }
                }
            }
            Arc::new(LogicalPlan::Join(Join {
                left: narrow(prune(&j.left, &left_needed)?, &left_needed, &j.left)?,
                right: narrow(prune(&j.right, &right_needed)?, &right_needed, &j.right)?,
                join_type: j.join_type,
                condition: j.condition.clone(),
            }))
        }
        LogicalPlan::Generate(g) => {
            // Generated columns are always produced; of the input, keep what the parents
            // read and what the generator's arguments read, and output only what the
            // parents read.
            let in_schema = g.input.schema()?;
            let kept = g.kept_columns(in_schema.len());
            let below: Needed = needed
                .iter()
                .filter_map(|&i| kept.get(i).copied())
                .collect();
            let child_needed = with_refs(&below, &g.args, &g.input)?;
            let input = narrow(prune(&g.input, &child_needed)?, &child_needed, &g.input)?;
            // The columns only the generator reads, as positions in the new input (a
            // column that cannot be named unambiguously stays in the output).
            let new_schema = input.schema()?;
            let unrequired_child = child_needed
                .difference(&below)
                .filter_map(|&i| field_index(&new_schema, &column_for_field(&in_schema, i)?))
                .collect();
            Arc::new(LogicalPlan::Generate(crate::logical::Generate {
                input,
                unrequired_child,
                ..g.clone()
            }))
        }
        LogicalPlan::UnresolvedRelation(_) => plan.clone(),
    })
}

/// `pruned` (the pruned form of `original`) narrowed to the fields `needed` of `original`
/// by a projection, when it carries more (columns only its own filters read).
fn narrow(
    pruned: Arc<LogicalPlan>,
    needed: &Needed,
    original: &LogicalPlan,
) -> Result<Arc<LogicalPlan>> {
    let have = pruned.schema()?;
    if needed.is_empty() || have.len() <= needed.len() {
        return Ok(pruned);
    }
    let orig = original.schema()?;
    let mut exprs = Vec::with_capacity(needed.len());
    for &i in needed {
        let Some(c) = column_for_field(&orig, i) else {
            return Ok(pruned);
        };
        // The column must name exactly one field of the pruned plan too.
        if field_index(&have, &c).is_none() {
            return Ok(pruned);
        }
        exprs.push(Expr::Column(c));
    }
    Ok(Arc::new(LogicalPlan::Projection {
        exprs,
        input: pruned,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{BinaryOperator, Column, lit};
    use crate::logical::JoinType;
    use crate::optimizer::test_util::*;

    fn run(plan: Arc<LogicalPlan>) -> String {
        let out = ProjectionPruning.rewrite(plan.clone()).unwrap();
        assert_same_schema(&plan, &out);
        out.display_tree()
    }

    #[test]
    fn scan_reads_only_used_columns() {
        let plan = project(
            vec![c("t", "s")],
            filter(binary(c("t", "a"), BinaryOperator::Gt, lit(1i32)), scan_t()),
        );
        assert_eq!(
            run(plan),
            "Project [s]\n+- Filter (a > 1)\n   +- Relation [a,s] LocalRelation"
        );
    }

    #[test]
    fn a_generator_input_only_it_reads_is_not_repeated_in_the_output() {
        let generate = |input| {
            Arc::new(LogicalPlan::Generate(crate::logical::Generate {
                kind: crate::logical::GeneratorKind::JsonTuple,
                args: vec![c("t", "s"), lit("k")],
                outer: false,
                names: vec!["c0".into()],
                qualifier: None,
                unrequired_child: vec![],
                input,
            }))
        };
        // Only the generator reads `s`: the scan reads it, the Generate drops it.
        assert_eq!(
            run(project(
                vec![c("t", "a"), Expr::Column(Column::new(None::<&str>, "c0"))],
                generate(scan_t())
            )),
            "Project [a, c0]\n+- Generate json_tuple(s, k), [1], false, [c0]\n   +- Relation [a,s] LocalRelation"
        );
        // A parent that reads it too keeps it.
        assert_eq!(
            run(project(
                vec![c("t", "s"), Expr::Column(Column::new(None::<&str>, "c0"))],
                generate(scan_t())
            )),
            "Project [s, c0]\n+- Generate json_tuple(s, k), false, [c0]\n   +- Relation [s] LocalRelation"
        );
    }

    #[test]
    fn count_star_reads_one_column_and_drops_unused_outputs() {
        let inner = project(
            vec![
                c("t", "a"),
                binary(c("t", "b"), BinaryOperator::Plus, lit(1i32)).alias("x"),
            ],
            scan_t(),
        );
        let agg = Arc::new(LogicalPlan::Aggregate {
            group_exprs: vec![],
            aggr_exprs: vec![lit(1i32).alias("one")],
            input: inner,
        });
        assert_eq!(
            run(agg),
            "Aggregate [], [1 AS one]\n+- Project [a]\n   +- Relation [a] LocalRelation"
        );
    }

    #[test]
    fn join_inputs_are_narrowed() {
        let left = filter(binary(c("t", "b"), BinaryOperator::Gt, lit(1i32)), scan_t());
        let join = Arc::new(LogicalPlan::Join(Join {
            left,
            right: scan_u(),
            join_type: JoinType::Inner,
            condition: Some(binary(c("t", "a"), BinaryOperator::Eq, c("u", "a"))),
        }));
        let plan = project(vec![c("u", "s"), c("t", "a")], join);
        assert_eq!(
            run(plan),
            "Project [s, a]\n+- Join Inner, (a = a)\n   :- Project [a]\n   :  +- Filter (b > 1)\n   :     +- Relation [a,b] LocalRelation\n   +- Relation [a,s] LocalRelation"
        );
    }

    #[test]
    fn union_and_distinct_keep_all_columns() {
        let plan = project(
            vec![Expr::Column(Column::new(None, "a"))],
            Arc::new(LogicalPlan::Distinct {
                input: Arc::new(LogicalPlan::Union {
                    inputs: vec![scan_t(), scan_u()],
                }),
            }),
        );
        let before = plan.display_tree();
        assert_eq!(run(plan), before);
    }
}
