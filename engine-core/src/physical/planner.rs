//! Logical plan -> executable plan.
//!
//! Narrow operators map one to one and stay fused per partition. Wide ones get an exchange:
//! aggregates run partial -> exchange by key -> final; joins exchange both sides by key;
//! global limits and sorts gather into one partition.

use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::expr::{BinaryOperator, Column, Expr, SortExpr, conjunction};
use crate::logical::{Join, JoinType, LogicalPlan};
use crate::physical::expr::column::ColumnExpr;
use crate::physical::expr::{PhysicalExprRef, create_physical_expr};
use crate::physical::plan::aggregate::{AggregateCall, AggregateMode, HashAggregateExec};
use crate::physical::plan::exchange::ExchangeExec;
use crate::physical::plan::filter::FilterExec;
use crate::physical::plan::generate::GenerateExec;
use crate::physical::plan::hash_join::HashJoinExec;
use crate::physical::plan::limit::LimitExec;
use crate::physical::plan::projection::ProjectionExec;
use crate::physical::plan::sort::{PhysicalSortExpr, SortExec};
use crate::physical::plan::union::UnionExec;
use crate::physical::plan::watermark::EventTimeWatermarkExec;
use crate::physical::plan::{ExecutionPlanRef, TaskContext};
use crate::schema::{PlanSchema, QualifiedField};

/// Compiles an optimized logical plan.
pub fn create_physical_plan(
    plan: &Arc<LogicalPlan>,
    ctx: &Arc<TaskContext>,
) -> Result<ExecutionPlanRef> {
    create_physical_plan_with_extensions(plan, ctx, &[])
}

/// [`create_physical_plan`] for plans with [`LogicalPlan::Extension`] nodes, which
/// `extensions` plan (the first that knows a node wins).
pub fn create_physical_plan_with_extensions(
    plan: &Arc<LogicalPlan>,
    ctx: &Arc<TaskContext>,
    extensions: &[Arc<dyn ExtensionPlanner>],
) -> Result<ExecutionPlanRef> {
    PhysicalPlanner { ctx, extensions }.plan(plan)
}

/// Plans the [`crate::logical::UserDefinedLogicalNode`]s defined outside engine-core (the
/// streaming runtime's stateful operators).
pub trait ExtensionPlanner: Send + Sync {
    /// The physical plan of `node`, or `None` when this planner does not know the node.
    /// `planner` plans the node's inputs and expressions.
    fn plan_extension(
        &self,
        planner: &PhysicalPlanner<'_>,
        node: &dyn crate::logical::UserDefinedLogicalNode,
    ) -> Result<Option<ExecutionPlanRef>>;
}

/// The last stage of an aggregation, over the partial states exchanged by key: the batch
/// engine's final [`HashAggregateExec`], or a streaming runtime's stateful merge.
pub trait FinalAggregateStage {
    /// The positions among the grouping keys that partial states are exchanged by; `None`
    /// (the default) for all of them. A session window aggregation exchanges by the keys
    /// besides the session, so every session of a key meets in one partition.
    fn exchange_keys(&self, _groups: usize) -> Option<Vec<usize>> {
        None
    }

    /// The stage over `exchanged` (rows: the keys `_gk0..`, then each call's partial state
    /// fields); it must output `schema` (the keys, then one final value per call).
    fn plan_final(
        &self,
        exchanged: ExecutionPlanRef,
        keys: Vec<PhysicalExprRef>,
        calls: Vec<AggregateCall>,
        schema: SchemaRef,
    ) -> Result<ExecutionPlanRef>;
}

/// The batch engine's final aggregation.
struct HashFinalStage;

impl FinalAggregateStage for HashFinalStage {
    fn plan_final(
        &self,
        exchanged: ExecutionPlanRef,
        keys: Vec<PhysicalExprRef>,
        calls: Vec<AggregateCall>,
        schema: SchemaRef,
    ) -> Result<ExecutionPlanRef> {
        Ok(Arc::new(HashAggregateExec::try_new(
            exchanged,
            AggregateMode::Final,
            keys,
            calls,
            schema,
        )?))
    }
}

/// Turns logical plans into executable ones for one query (or micro-batch).
pub struct PhysicalPlanner<'a> {
    ctx: &'a Arc<TaskContext>,
    extensions: &'a [Arc<dyn ExtensionPlanner>],
}

impl PhysicalPlanner<'_> {
    /// The task context the plan is made for.
    pub fn ctx(&self) -> &Arc<TaskContext> {
        self.ctx
    }

    /// Compiles `e` over rows of `schema`.
    pub fn expr(&self, e: &Expr, schema: &PlanSchema) -> Result<PhysicalExprRef> {
        create_physical_expr(e, schema, &self.ctx.functions)
    }

    /// `spark.sql.shuffle.partitions`.
    pub fn shuffle_partitions(&self) -> Result<usize> {
        self.ctx.conf.shuffle_partitions()
    }

    /// The physical plan of `plan`; the operator it becomes is guarded, so a panic in it
    /// fails the query with an error naming it (see [`crate::guard`]).
    pub fn plan(&self, plan: &Arc<LogicalPlan>) -> Result<ExecutionPlanRef> {
        Ok(crate::physical::plan::guard::guard(self.plan_node(plan)?))
    }

    fn plan_node(&self, plan: &Arc<LogicalPlan>) -> Result<ExecutionPlanRef> {
        match plan.as_ref() {
            LogicalPlan::UnresolvedRelation(name) => Err(EngineError::Internal(format!(
                "unresolved relation {} reached the planner",
                name.join(".")
            ))),
            LogicalPlan::Scan(s) => crate::physical::table::source_as_provider(s.source.as_ref())?
                .scan(s.projection.as_deref(), &s.filters, s.limit, self.ctx),
            LogicalPlan::SubqueryAlias { input, .. } => self.plan_node(input),
            LogicalPlan::StreamingRelation(r) => Ok(Arc::new(
                crate::physical::plan::streaming_relation::StreamingRelationExec::new(r.clone()),
            )),
            LogicalPlan::EventTimeWatermark(w) => {
                let child = self.plan(&w.input)?;
                let event_time = self.expr(&w.event_time, &w.input.schema()?)?;
                Ok(Arc::new(EventTimeWatermarkExec::new(
                    child,
                    event_time,
                    w.delay,
                    w.stats.clone(),
                )))
            }
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
                if let LogicalPlan::Sort {
                    exprs,
                    input: below,
                } = input.as_ref()
                {
                    // ORDER BY .. LIMIT n: a top-k sort, never a full one.
                    return self.plan_sort(exprs, below, Some(*n));
                }
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
                self.plan_aggregate(&group_exprs, &[], input, &schema, &HashFinalStage)
            }
            LogicalPlan::Aggregate {
                group_exprs,
                aggr_exprs,
                input,
            } => self.plan_aggregate(
                group_exprs,
                aggr_exprs,
                input,
                &plan.schema()?,
                &HashFinalStage,
            ),
            LogicalPlan::Sort { exprs, input } => self.plan_sort(exprs, input, None),
            LogicalPlan::Join(j) => self.plan_join(j, &plan.schema()?),
            LogicalPlan::Generate(g) => {
                let child = self.plan(&g.input)?;
                let in_schema = g.input.schema()?;
                let args = g
                    .args
                    .iter()
                    .map(|e| self.expr(e, &in_schema))
                    .collect::<Result<Vec<_>>>()?;
                let kept = g.kept_columns(in_schema.len());
                Ok(Arc::new(GenerateExec::new(
                    child,
                    g.kind,
                    g.outer,
                    args,
                    kept,
                    plan.schema()?.to_arrow(),
                )))
            }
            LogicalPlan::Extension(e) => self.plan_extension(e.node.as_ref()),
            LogicalPlan::Union { inputs } => {
                let children = inputs
                    .iter()
                    .map(|i| self.plan(i))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Arc::new(UnionExec::new(
                    children,
                    plan.schema()?.to_arrow(),
                )))
            }
        }
    }

    fn plan_sort(
        &self,
        keys: &[SortExpr],
        input: &Arc<LogicalPlan>,
        fetch: Option<usize>,
    ) -> Result<ExecutionPlanRef> {
        let child = self.plan(input)?;
        let schema = input.schema()?;
        let keys = keys
            .iter()
            .map(|k| {
                Ok(PhysicalSortExpr {
                    expr: self.expr(&k.expr, &schema)?,
                    asc: k.asc,
                    nulls_first: k.nulls_first,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(SortExec::new(child, keys, fetch)))
    }

    /// Equality conjuncts between the two sides become hash keys (both sides exchanged by
    /// them); the rest of the condition is a filter on joined rows. Without keys the right
    /// side (and for right/full joins the left too) is gathered into one partition.
    fn plan_join(&self, j: &Join, out_schema: &PlanSchema) -> Result<ExecutionPlanRef> {
        let left_schema = j.left.schema()?;
        let right_schema = j.right.schema()?;
        let both = left_schema.join(&right_schema);
        let mut left_keys = Vec::new();
        let mut right_keys = Vec::new();
        let mut rest = Vec::new();
        let conjuncts = j
            .condition
            .clone()
            .map(Expr::split_conjunction)
            .unwrap_or_default();
        for c in conjuncts {
            if let Expr::BinaryOp {
                left,
                op: BinaryOperator::Eq,
                right,
            } = &c
            {
                let ls = side_of(left, &left_schema, &right_schema);
                let rs = side_of(right, &left_schema, &right_schema);
                if ls == Side::Left && rs == Side::Right {
                    left_keys.push(self.expr(left, &left_schema)?);
                    right_keys.push(self.expr(right, &right_schema)?);
                    continue;
                }
                if ls == Side::Right && rs == Side::Left {
                    left_keys.push(self.expr(right, &left_schema)?);
                    right_keys.push(self.expr(left, &right_schema)?);
                    continue;
                }
            }
            rest.push(c);
        }
        let filter = conjunction(rest)
            .map(|f| self.expr(&f, &both))
            .transpose()?;
        let mut left = self.plan(&j.left)?;
        let mut right = self.plan(&j.right)?;
        if left_keys.is_empty() {
            right = Arc::new(ExchangeExec::new(right, vec![], 1));
            if matches!(j.join_type, JoinType::Right | JoinType::Full) {
                left = Arc::new(ExchangeExec::new(left, vec![], 1));
            }
        } else {
            let n = self.shuffle_partitions()?;
            left = Arc::new(ExchangeExec::new(left, left_keys.clone(), n));
            right = Arc::new(ExchangeExec::new(right, right_keys.clone(), n));
        }
        let on = left_keys.into_iter().zip(right_keys).collect();
        Ok(Arc::new(HashJoinExec::try_new(
            left,
            right,
            on,
            filter,
            j.join_type,
            out_schema.to_arrow(),
        )?))
    }

    /// [`Self::plan`], asking for the output columns `dict` (STRING columns used above only
    /// as grouping keys) dictionary-encoded where a scan can return them so. Only scans,
    /// aliases, filters not reading them and projections passing them through unchanged
    /// carry the request down; the returned plan's schema says which columns are
    /// dictionaries, consistently at every operator.
    fn plan_dict(&self, plan: &Arc<LogicalPlan>, dict: &[usize]) -> Result<ExecutionPlanRef> {
        if dict.is_empty() {
            return self.plan(plan);
        }
        match plan.as_ref() {
            LogicalPlan::Scan(s) => {
                let source_cols: Vec<usize> = dict
                    .iter()
                    .filter_map(|i| match &s.projection {
                        Some(p) => p.get(*i).copied(),
                        None => Some(*i),
                    })
                    .collect();
                crate::physical::table::source_as_provider(s.source.as_ref())?
                    .scan_with_dictionaries(
                        s.projection.as_deref(),
                        &s.filters,
                        s.limit,
                        &source_cols,
                        self.ctx,
                    )
            }
            LogicalPlan::SubqueryAlias { input, .. } => self.plan_dict(input, dict),
            LogicalPlan::Filter { predicate, input } => {
                let in_schema = input.schema()?;
                let used = column_indices(predicate, &in_schema);
                let keep: Vec<usize> = dict.iter().copied().filter(|i| !used.contains(i)).collect();
                let child = self.plan_dict(input, &keep)?;
                let predicate = self.expr(predicate, &in_schema)?;
                Ok(Arc::new(FilterExec::new(child, predicate)))
            }
            LogicalPlan::Projection { exprs, input } => {
                let in_schema = input.schema()?;
                // Output column -> the input column it passes through, if that column is
                // used by no other expression.
                let mut pass: Vec<(usize, usize, String)> = Vec::new();
                for &i in dict {
                    let Some(Expr::Column(c)) = exprs.get(i).map(Expr::unalias) else {
                        continue;
                    };
                    let Ok(j) = in_schema.index_of(c.relation.as_deref(), &c.name) else {
                        continue;
                    };
                    let others = exprs
                        .iter()
                        .enumerate()
                        .any(|(k, e)| k != i && column_indices(e, &in_schema).contains(&j));
                    if !others {
                        pass.push((i, j, c.name.clone()));
                    }
                }
                let below: Vec<usize> = pass.iter().map(|(_, j, _)| *j).collect();
                let child = self.plan_dict(input, &below)?;
                let child_schema = child.schema();
                let mut fields: Vec<Field> = plan
                    .schema()?
                    .to_arrow()
                    .fields()
                    .iter()
                    .map(|f| f.as_ref().clone())
                    .collect();
                let mut physical = exprs
                    .iter()
                    .map(|e| self.expr(e, &in_schema))
                    .collect::<Result<Vec<_>>>()?;
                for (i, j, name) in pass {
                    let dt = child_schema.field(j).data_type();
                    if matches!(dt, DataType::Dictionary(..)) {
                        fields[i] = fields[i].clone().with_data_type(dt.clone());
                        physical[i] = Arc::new(ColumnExpr::new(name, j, dt.clone()));
                    }
                }
                Ok(Arc::new(ProjectionExec::new(
                    child,
                    physical,
                    Arc::new(Schema::new(fields)),
                )))
            }
            _ => self.plan(plan),
        }
    }

    fn plan_extension(
        &self,
        node: &dyn crate::logical::UserDefinedLogicalNode,
    ) -> Result<ExecutionPlanRef> {
        if let Some(m) = node
            .as_any()
            .downcast_ref::<crate::logical::MergeSessions>()
        {
            return self.plan_merge_sessions(m);
        }
        if let Some(d) = node.as_any().downcast_ref::<crate::logical::Deduplicate>() {
            let first = crate::functions::lookup_aggregate("first")
                .ok_or_else(|| EngineError::Internal("no `first` aggregate".into()))?;
            return self.plan(&d.batch_plan(&first)?);
        }
        for e in self.extensions {
            if let Some(p) = e.plan_extension(self, node)? {
                return Ok(p);
            }
        }
        Err(EngineError::Internal(format!(
            "no planner for the {} node: {}",
            node.name(),
            node.describe()
        )))
    }

    /// Exchange by the non-session keys, then sessions merged per key
    /// ([`crate::physical::plan::merge_sessions::MergeSessionsExec`]).
    fn plan_merge_sessions(&self, m: &crate::logical::MergeSessions) -> Result<ExecutionPlanRef> {
        let schema = m.input.schema()?;
        let child = self.plan(&m.input)?;
        let keys = m
            .keys
            .iter()
            .map(|k| self.expr(k, &schema))
            .collect::<Result<Vec<_>>>()?;
        let partitions = if keys.is_empty() {
            1
        } else {
            self.shuffle_partitions()?
        };
        let exchanged: ExecutionPlanRef =
            Arc::new(ExchangeExec::new(child, keys.clone(), partitions));
        let Expr::Column(session) = &m.session else {
            return Err(EngineError::Internal(
                "MergeSessions needs the session window column".into(),
            ));
        };
        let session = schema.index_of(session.relation.as_deref(), &session.name)?;
        Ok(Arc::new(
            crate::physical::plan::merge_sessions::MergeSessionsExec::try_new(
                exchanged, keys, session,
            )?,
        ))
    }

    /// Partial aggregate -> exchange by key -> `stage` -> projection to the logical
    /// output (`out_schema`). DISTINCT aggregates skip the partial phase (and `stage`:
    /// they are computed once after the exchange).
    pub fn plan_aggregate(
        &self,
        group_exprs: &[Expr],
        aggr_exprs: &[Expr],
        input: &Arc<LogicalPlan>,
        out_schema: &PlanSchema,
        stage: &dyn FinalAggregateStage,
    ) -> Result<ExecutionPlanRef> {
        let in_schema = input.schema()?;

        // Every distinct aggregate call, in order of first appearance.
        let mut calls: Vec<Expr> = Vec::new();
        for e in aggr_exprs {
            collect_aggregates(e, &mut calls);
        }
        // STRING columns used only as plain grouping keys may reach the (partial)
        // aggregate dictionary-encoded, as the source stores them (Parquet): it groups
        // dictionary values instead of every row's string. Not with DISTINCT aggregates,
        // whose input goes through an exchange first.
        let distinct = calls
            .iter()
            .any(|c| matches!(c, Expr::AggregateFunction { distinct: true, .. }));
        let dict_keys = if distinct {
            vec![]
        } else {
            dictionary_key_candidates(group_exprs, &calls, &in_schema)
        };
        let child = self.plan_dict(input, &dict_keys)?;
        let child_schema = child.schema();
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
            .map(|g| {
                // A key the input carries dictionary-encoded is read as such.
                if let Expr::Column(c) = g.unalias() {
                    let i = in_schema.index_of(c.relation.as_deref(), &c.name)?;
                    if let Some(f) = child_schema.fields().get(i)
                        && matches!(f.data_type(), DataType::Dictionary(..))
                    {
                        return Ok(Arc::new(ColumnExpr::new(
                            c.name.clone(),
                            i,
                            f.data_type().clone(),
                        )) as PhysicalExprRef);
                    }
                }
                self.expr(g, &in_schema)
            })
            .collect::<Result<Vec<_>>>()?;
        let mut agg_calls = Vec::with_capacity(calls.len());
        for c in &calls {
            if let Expr::AggregateFunction {
                func,
                args,
                distinct,
            } = c
            {
                let constants = args.iter().map(constant_value).collect::<Vec<_>>();
                agg_calls.push(AggregateCall {
                    func: func
                        .bind_constants(&constants)?
                        .unwrap_or_else(|| func.clone()),
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
            let (exchange_by, partitions) = match stage.exchange_keys(keys.len()) {
                Some(idx) => {
                    let by: Vec<PhysicalExprRef> =
                        idx.iter().filter_map(|&i| keys.get(i).cloned()).collect();
                    let n = if by.is_empty() { 1 } else { partitions };
                    (by, n)
                }
                None => (keys.clone(), partitions),
            };
            let exchanged: ExecutionPlanRef =
                Arc::new(ExchangeExec::new(partial, exchange_by, partitions));
            stage.plan_final(exchanged, keys, agg_calls, final_schema.clone())?
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

#[derive(Debug, PartialEq)]
enum Side {
    Left,
    Right,
    Neither,
}

/// Which join input every column of `e` comes from.
/// The value of a constant aggregate argument as a one-row array (`percentile`'s
/// percentage), `None` for an argument that reads columns or cannot be evaluated now.
fn constant_value(e: &Expr) -> Option<arrow::array::ArrayRef> {
    let ctx = Arc::new(crate::functions::FunctionContext::default());
    e.is_constant()
        .then(|| crate::physical::expr::evaluate_constant(e, &ctx))
        .flatten()
}

fn side_of(e: &Expr, left: &PlanSchema, right: &PlanSchema) -> Side {
    let cols = e.columns();
    if cols.is_empty() {
        return Side::Neither;
    }
    let in_schema = |s: &PlanSchema| {
        cols.iter()
            .all(|c| s.index_of(c.relation.as_deref(), &c.name).is_ok())
    };
    match (in_schema(left), in_schema(right)) {
        (true, false) => Side::Left,
        (false, true) => Side::Right,
        _ => Side::Neither,
    }
}

/// Indices (in `schema`) of the columns `e` reads.
fn column_indices(e: &Expr, schema: &PlanSchema) -> Vec<usize> {
    e.columns()
        .iter()
        .filter_map(|c| schema.index_of(c.relation.as_deref(), &c.name).ok())
        .collect()
}

/// Input columns of an aggregate that may come dictionary-encoded: a STRING column that
/// is the only grouping key, plain, and no aggregate's argument. (With several keys the
/// aggregate would cast the dictionary back to strings, measured no faster than reading
/// strings.)
fn dictionary_key_candidates(groups: &[Expr], calls: &[Expr], schema: &PlanSchema) -> Vec<usize> {
    let mut out = Vec::new();
    if groups.len() != 1 {
        return out;
    }
    for (gi, g) in groups.iter().enumerate() {
        let Expr::Column(c) = g.unalias() else {
            continue;
        };
        let Ok(i) = schema.index_of(c.relation.as_deref(), &c.name) else {
            continue;
        };
        if schema.field(i).field.data_type() != &DataType::Utf8 || out.contains(&i) {
            continue;
        }
        let elsewhere = groups
            .iter()
            .enumerate()
            .any(|(k, e)| k != gi && column_indices(e, schema).contains(&i))
            || calls.iter().any(|e| column_indices(e, schema).contains(&i));
        if !elsewhere {
            out.push(i);
        }
    }
    out
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
