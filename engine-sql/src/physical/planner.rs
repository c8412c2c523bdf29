//! Logical plan -> executable plan.
//!
//! Narrow operators map one to one and stay fused per partition. Wide ones get an exchange:
//! aggregates run partial -> exchange by key -> final; joins exchange both sides by key;
//! global limits and sorts gather into one partition.

use std::sync::Arc;

use arrow::datatypes::{Field, Schema};
use engine_core::{EngineError, Result};

use crate::expr::{Column, Expr};
use crate::logical::LogicalPlan;
use crate::physical::expr::{PhysicalExprRef, create_physical_expr};
use crate::physical::plan::aggregate::{AggregateCall, AggregateMode, HashAggregateExec};
use crate::physical::plan::exchange::ExchangeExec;
use crate::physical::plan::filter::FilterExec;
use crate::physical::plan::limit::LimitExec;
use crate::physical::plan::projection::ProjectionExec;
use crate::physical::plan::{ExecutionPlanRef, TaskContext};
use crate::schema::{PlanSchema, QualifiedField};

/// Compiles an optimized logical plan.
pub fn create_physical_plan(
    plan: &Arc<LogicalPlan>,
    ctx: &Arc<TaskContext>,
) -> Result<ExecutionPlanRef> {
    Planner { ctx }.plan(plan)
}

struct Planner<'a> {
    ctx: &'a Arc<TaskContext>,
}

impl Planner<'_> {
    fn expr(&self, e: &Expr, schema: &PlanSchema) -> Result<PhysicalExprRef> {
        create_physical_expr(e, schema, &self.ctx.functions)
    }

    fn shuffle_partitions(&self) -> Result<usize> {
        self.ctx.conf.shuffle_partitions()
    }

    fn plan(&self, plan: &Arc<LogicalPlan>) -> Result<ExecutionPlanRef> {
        match plan.as_ref() {
            LogicalPlan::UnresolvedRelation(name) => Err(EngineError::Internal(format!(
                "unresolved relation {} reached the planner",
                name.join(".")
            ))),
            LogicalPlan::Scan(s) => {
                s.source
                    .scan(s.projection.as_deref(), &s.filters, s.limit, self.ctx)
            }
            LogicalPlan::SubqueryAlias { input, .. } => self.plan(input),
            LogicalPlan::Projection { exprs, input } => {
                let child = self.plan(input)?;
                let in_schema = input.schema()?;
                let physical = exprs
                    .iter()
                    .map(|e| self.expr(e, &in_schema))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Arc::new(ProjectionExec::new(
                    child,
                    physical,
                    plan.schema()?.to_arrow(),
                )))
            }
            LogicalPlan::Filter { predicate, input } => {
                let child = self.plan(input)?;
                let predicate = self.expr(predicate, &input.schema()?)?;
                Ok(Arc::new(FilterExec::new(child, predicate)))
            }
            LogicalPlan::Limit { n, input } => {
                let child = self.plan(input)?;
                let local: ExecutionPlanRef = Arc::new(LimitExec::new(child, *n, false));
                let gathered: ExecutionPlanRef = Arc::new(ExchangeExec::new(local, vec![], 1));
                Ok(Arc::new(LimitExec::new(gathered, *n, true)))
            }
            LogicalPlan::Distinct { input } => {
                let schema = input.schema()?;
                let group_exprs = schema
                    .fields()
                    .iter()
                    .map(|f| Expr::Column(Column::new(f.qualifier.as_deref(), f.name())))
                    .collect::<Vec<_>>();
                self.plan_aggregate(&group_exprs, &[], input, &schema)
            }
            LogicalPlan::Aggregate {
                group_exprs,
                aggr_exprs,
                input,
            } => self.plan_aggregate(group_exprs, aggr_exprs, input, &plan.schema()?),
            LogicalPlan::Sort { .. } | LogicalPlan::Join(_) | LogicalPlan::Union { .. } => Err(
                EngineError::Unsupported(format!("physical planning of {}", plan.node_line())),
            ),
        }
    }

    /// Partial aggregate -> exchange by key -> final aggregate -> projection to the logical
    /// output. DISTINCT aggregates skip the partial phase.
    fn plan_aggregate(
        &self,
        group_exprs: &[Expr],
        aggr_exprs: &[Expr],
        input: &Arc<LogicalPlan>,
        out_schema: &PlanSchema,
    ) -> Result<ExecutionPlanRef> {
        let child = self.plan(input)?;
        let in_schema = input.schema()?;

        // Every distinct aggregate call, in order of first appearance.
        let mut calls: Vec<Expr> = Vec::new();
        for e in aggr_exprs {
            collect_aggregates(e, &mut calls);
        }
        let group_fields = group_exprs
            .iter()
            .enumerate()
            .map(|(i, g)| {
                Ok(Field::new(
                    format!("_gk{i}"),
                    g.data_type(&in_schema)?,
                    g.nullable(&in_schema)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let physical_groups = group_exprs
            .iter()
            .map(|g| self.expr(g, &in_schema))
            .collect::<Result<Vec<_>>>()?;
        let mut agg_calls = Vec::with_capacity(calls.len());
        for c in &calls {
            if let Expr::AggregateFunction {
                func,
                args,
                distinct,
            } = c
            {
                agg_calls.push(AggregateCall {
                    func: func.clone(),
                    args: args
                        .iter()
                        .map(|a| self.expr(a, &in_schema))
                        .collect::<Result<Vec<_>>>()?,
                    arg_types: args
                        .iter()
                        .map(|a| a.data_type(&in_schema))
                        .collect::<Result<Vec<_>>>()?,
                    distinct: *distinct,
                    display: c.to_string(),
                });
            }
        }
        let value_fields = calls
            .iter()
            .enumerate()
            .map(|(i, c)| {
                Ok(Field::new(
                    format!("_agg{i}"),
                    c.data_type(&in_schema)?,
                    true,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut final_fields = group_fields.clone();
        final_fields.extend(value_fields);
        let final_schema = Arc::new(Schema::new(final_fields));
        let partitions = if group_exprs.is_empty() {
            1
        } else {
            self.shuffle_partitions()?
        };

        let aggregated: ExecutionPlanRef = if agg_calls.iter().any(|c| c.distinct) {
            let exchanged: ExecutionPlanRef = Arc::new(ExchangeExec::new(
                child,
                physical_groups.clone(),
                partitions,
            ));
            Arc::new(HashAggregateExec::try_new(
                exchanged,
                AggregateMode::Single,
                physical_groups,
                agg_calls,
                final_schema.clone(),
            )?)
        } else {
            let mut partial_fields = group_fields.clone();
            for (i, c) in agg_calls.iter().enumerate() {
                for f in c.func.state_fields(&c.arg_types)? {
                    partial_fields.push(Field::new(
                        format!("_agg{i}_{}", f.name()),
                        f.data_type().clone(),
                        true,
                    ));
                }
            }
            let partial_schema = Arc::new(Schema::new(partial_fields));
            let partial: ExecutionPlanRef = Arc::new(HashAggregateExec::try_new(
                child,
                AggregateMode::Partial,
                physical_groups,
                agg_calls.clone(),
                partial_schema.clone(),
            )?);
            let partial_plan_schema = PlanSchema::from_arrow(None, &partial_schema);
            let keys = (0..group_exprs.len())
                .map(|i| {
                    self.expr(
                        &Expr::Column(Column::new(None, format!("_gk{i}"))),
                        &partial_plan_schema,
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            let exchanged: ExecutionPlanRef =
                Arc::new(ExchangeExec::new(partial, keys.clone(), partitions));
            Arc::new(HashAggregateExec::try_new(
                exchanged,
                AggregateMode::Final,
                keys,
                agg_calls,
                final_schema.clone(),
            )?)
        };

        // Project the aggregate's internal columns to the logical output.
        let final_plan_schema = PlanSchema::new(
            final_schema
                .fields()
                .iter()
                .map(|f| QualifiedField::new(None, f.clone()))
                .collect(),
        );
        let mut out_exprs = Vec::with_capacity(out_schema.len());
        for i in 0..group_exprs.len() {
            out_exprs.push(Expr::Column(Column::new(None, format!("_gk{i}"))));
        }
        for e in aggr_exprs {
            out_exprs.push(replace_aggregates(e, &calls, group_exprs)?);
        }
        let physical = out_exprs
            .iter()
            .map(|e| self.expr(e, &final_plan_schema))
            .collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(ProjectionExec::new(
            aggregated,
            physical,
            out_schema.to_arrow(),
        )))
    }
}

fn collect_aggregates(e: &Expr, out: &mut Vec<Expr>) {
    if let Expr::AggregateFunction { .. } = e {
        if !out.contains(e) {
            out.push(e.clone());
        }
        return;
    }
    for c in e.children() {
        collect_aggregates(c, out);
    }
}

/// Rewrites an output expression over the aggregate's internal columns.
fn replace_aggregates(e: &Expr, calls: &[Expr], groups: &[Expr]) -> Result<Expr> {
    e.clone().transform_down(&mut |e| {
        if let Some(i) = calls.iter().position(|c| c == &e) {
            return Ok(Expr::Column(Column::new(None, format!("_agg{i}"))));
        }
        if !matches!(e, Expr::Alias(..))
            && let Some(i) = groups.iter().position(|g| g.unalias() == &e)
        {
            return Ok(Expr::Column(Column::new(None, format!("_gk{i}"))));
        }
        Ok::<_, EngineError>(e)
    })
}
