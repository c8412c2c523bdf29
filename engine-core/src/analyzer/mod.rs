//! The analyzer: resolves names, functions and types of a logical plan.
//!
//! Works bottom-up: a node is resolved against the schemas of its already resolved inputs.
//! Each expression is resolved in two steps: names and functions are bound first (which
//! fixes the column name Spark would show), then implicit casts are inserted by
//! [`crate::expr::coercion`]. Resolving an already resolved plan returns an equal plan, so DataFrames can
//! stack unresolved operations on resolved inputs.

pub mod event_time;
mod lambda;
mod resolve;
pub mod streaming_checks;
pub mod time_window;
mod typecheck;

use std::sync::Arc;

use crate::{EngineError, Result};

use crate::expr::{Expr, SortExpr};
use crate::logical::{
    Generate, GeneratorKind, Join, LogicalPlan, generator_fields, is_generator_call, split_aliases,
};
use crate::schema::PlanSchema;

pub use lambda::resolved_text;
pub use resolve::{expand_stars, resolve_expr, resolve_expr_with};
pub use typecheck::coerce_expr;

/// What the analyzer asks of the session it runs in: the relations that names in a query
/// refer to. The session's catalog implements it (in engine-sql); the analyzer never sees
/// the session itself, as DataFusion's SQL planner asks a `ContextProvider`.
pub trait CatalogProvider {
    /// The plan of the relation `name` (its parts as written, `db.view` -> `["db", "view"]`),
    /// or Spark's `TABLE_OR_VIEW_NOT_FOUND` error.
    fn relation(&self, name: &[String]) -> Result<Arc<LogicalPlan>>;
}

/// Resolves every relation, column, star and function of `plan`; relations come from
/// `catalog`, implicit casts follow `ansi` (`spark.sql.ansi.enabled`).
pub fn analyze(
    plan: &Arc<LogicalPlan>,
    catalog: &dyn CatalogProvider,
    ansi: bool,
) -> Result<Arc<LogicalPlan>> {
    Analyzer { catalog, ansi }.resolve_plan(plan)
}

struct Analyzer<'a> {
    catalog: &'a dyn CatalogProvider,
    ansi: bool,
}

impl Analyzer<'_> {
    fn resolve_plan(&self, plan: &Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
        Ok(match plan.as_ref() {
            LogicalPlan::UnresolvedRelation(name) => {
                let last = name.last().cloned().unwrap_or_default();
                let view = self.catalog.relation(name)?;
                Arc::new(LogicalPlan::SubqueryAlias {
                    alias: last,
                    input: view,
                })
            }
            LogicalPlan::Scan(_) | LogicalPlan::StreamingRelation(_) => plan.clone(),
            LogicalPlan::Extension(e) => {
                let inputs = e
                    .node
                    .inputs()
                    .into_iter()
                    .map(|i| self.resolve_plan(i))
                    .collect::<Result<Vec<_>>>()?;
                Arc::new(plan.with_new_inputs(inputs)?)
            }
            LogicalPlan::EventTimeWatermark(w) => {
                let input = self.resolve_plan(&w.input)?;
                let schema = input.schema()?;
                let event_time = resolve_expr(&w.event_time, &schema)?;
                let data_type = event_time.to_field(&schema)?.data_type().clone();
                // TIMESTAMP only: Spark 4.3 refuses TIMESTAMP_NTZ here too (it keeps windows on
                // NTZ columns for queries without a watermark).
                if !matches!(data_type, arrow::datatypes::DataType::Timestamp(_, Some(_))) {
                    return Err(EngineError::analysis(
                        "EVENT_TIME_IS_NOT_ON_TIMESTAMP_TYPE",
                        format!(
                            "The event time `{}` has the invalid type \"{}\", but expected \"TIMESTAMP\". SQLSTATE: 42K09",
                            event_time.output_name(),
                            crate::types::sql_type_name(&data_type)
                        ),
                    ));
                }
                Arc::new(LogicalPlan::EventTimeWatermark(
                    crate::logical::EventTimeWatermark {
                        event_time,
                        input,
                        ..w.clone()
                    },
                ))
            }
            LogicalPlan::Projection { exprs, input } => {
                let input = self.resolve_plan(input)?;
                let schema = input.schema()?;
                let exprs = expand_stars(exprs, &schema)?;
                if let Some((exprs, input)) = self.rewrite_windows(&exprs, &input)? {
                    return self.resolve_plan(&Arc::new(LogicalPlan::Projection { exprs, input }));
                }
                if exprs.iter().any(crate::functions::contains_aggregate) {
                    // `SELECT sum(x)` without GROUP BY: a global aggregation, as in Spark
                    // (generators over it run above it).
                    return self.resolve_plan(&Arc::new(LogicalPlan::Aggregate {
                        group_exprs: vec![],
                        aggr_exprs: exprs,
                        input,
                    }));
                }
                if exprs.iter().any(contains_generator) {
                    return self.resolve_generators(exprs, input);
                }
                let exprs = self.named_exprs(&exprs, &schema)?;
                let exprs = crate::functions::json::locate_failfast(exprs, &schema);
                if let Some(rewritten) =
                    crate::functions::json::rewrite_dropmalformed(&exprs, &input)?
                {
                    return Ok(rewritten);
                }
                Arc::new(LogicalPlan::Projection { exprs, input })
            }
            LogicalPlan::Filter { predicate, input } => {
                let input = self.resolve_plan(input)?;
                if let Some((mut exprs, input)) =
                    self.rewrite_windows(std::slice::from_ref(predicate), &input)?
                {
                    let predicate = exprs.pop().unwrap_or_else(|| predicate.clone());
                    return self.resolve_plan(&Arc::new(LogicalPlan::Filter { predicate, input }));
                }
                let schema = input.schema()?;
                let predicate = self.expr(predicate, &schema)?;
                typecheck::expect_boolean(&predicate, &schema, "FILTER_NOT_BOOLEAN", "filter")?;
                Arc::new(LogicalPlan::Filter { predicate, input })
            }
            LogicalPlan::Aggregate {
                group_exprs,
                aggr_exprs,
                input,
            } if aggr_exprs.iter().any(contains_generator) => {
                self.resolve_aggregate_generators(group_exprs, aggr_exprs, input)?
            }
            LogicalPlan::Aggregate {
                group_exprs,
                aggr_exprs,
                input,
            } => {
                let input = self.resolve_plan(input)?;
                let mut all = group_exprs.clone();
                all.extend(aggr_exprs.iter().cloned());
                if let Some((mut exprs, input)) = self.rewrite_windows(&all, &input)? {
                    let aggr_exprs = exprs.split_off(group_exprs.len());
                    return self.resolve_plan(&Arc::new(LogicalPlan::Aggregate {
                        group_exprs: exprs,
                        aggr_exprs,
                        input,
                    }));
                }
                let schema = input.schema()?;
                let group_exprs =
                    self.named_exprs(&expand_stars(group_exprs, &schema)?, &schema)?;
                let aggr_exprs = self.named_exprs(aggr_exprs, &schema)?;
                for e in &aggr_exprs {
                    if !crate::functions::contains_aggregate(e)
                        && !group_exprs.iter().any(|g| g.unalias() == e.unalias())
                    {
                        return Err(missing_aggregation(&e.unalias().to_string()));
                    }
                }
                let input = merge_sessions_below(&group_exprs, input)?;
                Arc::new(LogicalPlan::Aggregate {
                    group_exprs,
                    aggr_exprs,
                    input,
                })
            }
            LogicalPlan::Sort { exprs, input } => self.resolve_sort(exprs, input)?,
            LogicalPlan::Limit { n, input } => Arc::new(LogicalPlan::Limit {
                n: *n,
                input: self.resolve_plan(input)?,
            }),
            LogicalPlan::Distinct { input } => Arc::new(LogicalPlan::Distinct {
                input: self.resolve_plan(input)?,
            }),
            LogicalPlan::SubqueryAlias { alias, input } => Arc::new(LogicalPlan::SubqueryAlias {
                alias: alias.clone(),
                input: self.resolve_plan(input)?,
            }),
            LogicalPlan::Join(j) => {
                let left = self.resolve_plan(&j.left)?;
                let right = self.resolve_plan(&j.right)?;
                let schema = left.schema()?.join(&right.schema()?);
                let condition = match &j.condition {
                    Some(c) => {
                        let c = self.expr(c, &schema)?;
                        typecheck::expect_boolean(
                            &c,
                            &schema,
                            "JOIN_CONDITION_IS_NOT_BOOLEAN_TYPE",
                            "join condition",
                        )?;
                        Some(c)
                    }
                    None => None,
                };
                Arc::new(LogicalPlan::Join(Join {
                    left,
                    right,
                    join_type: j.join_type,
                    condition,
                }))
            }
            LogicalPlan::Union { inputs } => self.resolve_union(inputs)?,
            LogicalPlan::Generate(g) => {
                let input = self.resolve_plan(&g.input)?;
                let schema = input.schema()?;
                let args = g
                    .args
                    .iter()
                    .map(|a| self.expr(a, &schema))
                    .collect::<Result<Vec<_>>>()?;
                let types = args
                    .iter()
                    .map(|a| a.data_type(&schema))
                    .collect::<Result<Vec<_>>>()?;
                let resolved = Generate {
                    args,
                    input,
                    ..g.clone()
                };
                let fields =
                    generator_fields(g.kind, g.outer, &resolved.call_text(), &types, &g.names)?;
                Arc::new(LogicalPlan::Generate(Generate {
                    names: fields.iter().map(|f| f.name().clone()).collect(),
                    ..resolved
                }))
            }
        })
    }

    /// Generators over aggregates (`SELECT k, explode(collect_list(v)) FROM t GROUP BY k`):
    /// the aggregate computes the generators' arguments as hidden columns, and the
    /// generators run on its output, as Spark's `ExtractGenerator` plans it.
    fn resolve_aggregate_generators(
        &self,
        group_exprs: &[Expr],
        aggr_exprs: &[Expr],
        input: &Arc<LogicalPlan>,
    ) -> Result<Arc<LogicalPlan>> {
        let mut hidden = Vec::with_capacity(aggr_exprs.len());
        // Per select item: the positions in `hidden` it reads.
        let mut slots: Vec<Vec<usize>> = Vec::with_capacity(aggr_exprs.len());
        for (i, e) in aggr_exprs.iter().enumerate() {
            if is_generator_call(e) {
                let (call, _) = split_aliases(e);
                let Expr::UnresolvedFunction { args, .. } = call else {
                    return Err(EngineError::Internal("generator call expected".into()));
                };
                let mut mine = Vec::with_capacity(args.len());
                for (j, a) in args.iter().enumerate() {
                    mine.push(hidden.len());
                    hidden.push(a.clone().alias(format!("__generator_arg_{i}_{j}")));
                }
                slots.push(mine);
            } else {
                slots.push(vec![hidden.len()]);
                hidden.push(e.clone());
            }
        }
        let agg = self.resolve_plan(&Arc::new(LogicalPlan::Aggregate {
            group_exprs: group_exprs.to_vec(),
            aggr_exprs: hidden,
            input: input.clone(),
        }))?;
        let schema = agg.schema()?;
        let g = group_exprs.len();
        let column = |k: usize| {
            let f = schema.field(g + k);
            Expr::Column(crate::expr::Column::new(f.qualifier.as_deref(), f.name()))
        };
        let mut outer = Vec::with_capacity(aggr_exprs.len());
        for (e, mine) in aggr_exprs.iter().zip(&slots) {
            if is_generator_call(e) {
                let (call, names) = split_aliases(e);
                let Expr::UnresolvedFunction { name, distinct, .. } = call else {
                    return Err(EngineError::Internal("generator call expected".into()));
                };
                let rebuilt = Expr::UnresolvedFunction {
                    name: name.clone(),
                    args: mine.iter().map(|&k| column(k)).collect(),
                    distinct: *distinct,
                };
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                outer.push(crate::logical::multi_alias(rebuilt, &names));
            } else {
                outer.push(column(mine[0]));
            }
        }
        self.resolve_generators(outer, agg)
    }

    /// A select list with generators (`SELECT a, explode(b) AS x`): each generator becomes
    /// a `Generate` node below the projection (several chain, as in Spark 4), and the
    /// projection reads the generated columns in the generator's place.
    fn resolve_generators(
        &self,
        exprs: Vec<Expr>,
        input: Arc<LogicalPlan>,
    ) -> Result<Arc<LogicalPlan>> {
        let mut plan = input;
        let mut out = Vec::with_capacity(exprs.len());
        for (i, e) in exprs.into_iter().enumerate() {
            if !is_generator_call(&e) {
                if e.any(&|x| is_generator_call(x)) {
                    return Err(EngineError::analysis(
                        "UNSUPPORTED_GENERATOR.NESTED_IN_EXPRESSIONS",
                        format!(
                            "The generator is not supported: nested in expressions \"{}\". SQLSTATE: 42K0E",
                            e.unalias()
                        ),
                    ));
                }
                out.push(e);
                continue;
            }
            let (call, names) = split_aliases(&e);
            let Expr::UnresolvedFunction { name, args, .. } = call else {
                return Err(EngineError::Internal("generator call expected".into()));
            };
            let Some((kind, outer)) = GeneratorKind::from_name(name) else {
                return Err(EngineError::Internal(format!("{name} is not a generator")));
            };
            let generated = self.resolve_plan(&Arc::new(LogicalPlan::Generate(Generate {
                kind,
                args: args.clone(),
                outer,
                names,
                // A private relation name keeps the columns of several generators apart
                // (`explode(a), explode(b)` both make `col`); the projection drops it.
                qualifier: Some(format!("__generate_{i}")),
                unrequired_child: vec![],
                input: plan,
            })))?;
            if let LogicalPlan::Generate(g) = generated.as_ref() {
                out.extend(g.names.iter().map(|n| {
                    Expr::Column(crate::expr::Column::new(g.qualifier.as_deref(), n.clone()))
                        .alias(n.clone())
                }));
            }
            plan = generated;
        }
        self.resolve_plan(&Arc::new(LogicalPlan::Projection {
            exprs: out,
            input: plan,
        }))
    }

    /// Resolves and coerces one expression.
    /// [`time_window::rewrite`] with this analyzer's expression resolution.
    fn rewrite_windows(
        &self,
        exprs: &[Expr],
        input: &Arc<LogicalPlan>,
    ) -> Result<Option<(Vec<Expr>, Arc<LogicalPlan>)>> {
        time_window::rewrite(exprs, input, &|e, schema| self.expr(e, schema))
    }

    fn expr(&self, e: &Expr, schema: &PlanSchema) -> Result<Expr> {
        let bound = resolve_expr_with(e, schema, self.ansi)?;
        coerce_expr(bound, schema, self.ansi)
    }

    /// Resolves output expressions, keeping the name Spark gives them before implicit
    /// casts are added (`upper(id)`, not `upper(CAST(id AS STRING))`).
    fn named_exprs(&self, exprs: &[Expr], schema: &PlanSchema) -> Result<Vec<Expr>> {
        exprs
            .iter()
            .map(|e| {
                let bound = resolve_expr_with(e, schema, self.ansi)?;
                let name = match &bound {
                    Expr::BinaryOp { left, op, right } => {
                        crate::functions::interval::datetime_plus_name(
                            left,
                            &left.data_type(schema)?,
                            *op,
                            right,
                            &right.data_type(schema)?,
                        )
                        .unwrap_or_else(|| bound.output_name())
                    }
                    _ => bound.output_name(),
                };
                let coerced = coerce_expr(bound, schema, self.ansi)?;
                Ok(if coerced.output_name() == name {
                    coerced
                } else {
                    coerced.alias(name)
                })
            })
            .collect()
    }

    fn resolve_sort(
        &self,
        keys: &[SortExpr],
        input: &Arc<LogicalPlan>,
    ) -> Result<Arc<LogicalPlan>> {
        let input = self.resolve_plan(input)?;
        let schema = input.schema()?;
        let direct: Result<Vec<SortExpr>> = keys
            .iter()
            .map(|k| {
                Ok(SortExpr {
                    expr: self.expr(&k.expr, &schema)?,
                    ..k.clone()
                })
            })
            .collect();
        match (direct, input.as_ref()) {
            (Ok(exprs), _) => Ok(Arc::new(LogicalPlan::Sort { exprs, input })),
            // `SELECT a FROM t ORDER BY b`: sort on a column the projection dropped, as
            // Spark does, by carrying it through and projecting it away afterwards.
            (
                Err(first_err),
                LogicalPlan::Projection {
                    exprs: proj,
                    input: below,
                },
            ) => {
                let below_schema = below.schema()?;
                let mut keys_below = Vec::with_capacity(keys.len());
                for k in keys {
                    // A key resolves over the projection's output (its aliases) or below it.
                    let resolved = self
                        .expr(&k.expr, &schema)
                        .or_else(|_| self.expr(&k.expr, &below_schema));
                    match resolved {
                        Ok(expr) => keys_below.push(SortExpr { expr, ..k.clone() }),
                        Err(_) => return Err(first_err),
                    }
                }
                let mut widened = proj.clone();
                for k in &keys_below {
                    for c in k.expr.columns() {
                        let e = Expr::Column(c.clone());
                        if !widened
                            .iter()
                            .any(|p| p.unalias() == &e || p.output_name() == c.name)
                        {
                            widened.push(e);
                        }
                    }
                }
                let wide = Arc::new(LogicalPlan::Projection {
                    exprs: widened,
                    input: below.clone(),
                });
                let wide_schema = wide.schema()?;
                let exprs = keys_below
                    .into_iter()
                    .map(|k| {
                        Ok(SortExpr {
                            expr: self.expr(&strip_relations(k.expr), &wide_schema)?,
                            ..k
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let sorted = Arc::new(LogicalPlan::Sort { exprs, input: wide });
                let outer: Vec<Expr> = schema
                    .fields()
                    .iter()
                    .map(|f| {
                        Expr::Column(crate::expr::Column::new(f.qualifier.as_deref(), f.name()))
                    })
                    .collect();
                Ok(Arc::new(LogicalPlan::Projection {
                    exprs: outer,
                    input: sorted,
                }))
            }
            (Err(e), _) => Err(e),
        }
    }

    fn resolve_union(&self, inputs: &[Arc<LogicalPlan>]) -> Result<Arc<LogicalPlan>> {
        let inputs = inputs
            .iter()
            .map(|i| self.resolve_plan(i))
            .collect::<Result<Vec<_>>>()?;
        let schemas = inputs
            .iter()
            .map(|i| i.schema())
            .collect::<Result<Vec<_>>>()?;
        let first = schemas
            .first()
            .ok_or_else(|| EngineError::Internal("UNION of nothing".into()))?;
        for (i, s) in schemas.iter().enumerate().skip(1) {
            if s.len() != first.len() {
                return Err(EngineError::analysis(
                    "NUM_COLUMNS_MISMATCH",
                    format!(
                        "UNION can only be performed on inputs with the same number of columns, but the first input has {} columns and the {} input has {} columns. SQLSTATE: 42826",
                        first.len(),
                        crate::functions::ordinal(i + 1),
                        s.len()
                    ),
                ));
            }
        }
        // Widen each column to the common type of all inputs (Spark's WidenSetOperationTypes).
        let mut targets = Vec::with_capacity(first.len());
        for c in 0..first.len() {
            let types: Vec<_> = schemas
                .iter()
                .map(|s| s.field(c).field.data_type().clone())
                .collect();
            targets.push(crate::expr::coercion::common_type_for(
                "union", &types, self.ansi,
            )?);
        }
        let inputs = inputs
            .into_iter()
            .zip(&schemas)
            .map(|(input, schema)| {
                if (0..schema.len()).all(|c| schema.field(c).field.data_type() == &targets[c]) {
                    return Ok(input);
                }
                let exprs = schema
                    .fields()
                    .iter()
                    .zip(&targets)
                    .map(|(f, t)| {
                        let c = Expr::Column(crate::expr::Column::new(
                            f.qualifier.as_deref(),
                            f.name(),
                        ));
                        if f.field.data_type() == t {
                            c
                        } else {
                            c.cast(t.clone()).alias(f.name())
                        }
                    })
                    .collect::<Vec<_>>();
                let exprs = self.named_exprs(&exprs, schema)?;
                Ok(Arc::new(LogicalPlan::Projection { exprs, input }))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(LogicalPlan::Union { inputs }))
    }
}

/// True if a generator call appears anywhere in `e`.
fn contains_generator(e: &Expr) -> bool {
    e.any(&|x| is_generator_call(x))
}

/// Drops relation names so an expression resolves against a projection's output.
fn strip_relations(e: Expr) -> Expr {
    let r = e.transform_up(&mut |e| {
        Ok::<_, std::convert::Infallible>(match e {
            Expr::Column(c) => Expr::UnresolvedColumn(vec![c.name]),
            other => other,
        })
    });
    match r {
        Ok(e) => e,
        Err(never) => match never {},
    }
}

/// An aggregation grouped by a session window groups merged sessions: `input` gets a
/// [`crate::logical::MergeSessions`] (once) when a grouping key is a session window column.
fn merge_sessions_below(group_exprs: &[Expr], input: Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
    if let LogicalPlan::Extension(e) = input.as_ref()
        && e.node.as_any().is::<crate::logical::MergeSessions>()
    {
        return Ok(input);
    }
    let facts = event_time::event_time_columns(&input)?;
    let schema = input.schema()?;
    let is_session = |e: &Expr| match e.unalias() {
        Expr::Column(c) => schema
            .index_of(c.relation.as_deref(), &c.name)
            .ok()
            .and_then(|i| facts.get(i).copied().flatten())
            .is_some_and(|f| f.window == Some(event_time::WindowKind::Session)),
        _ => false,
    };
    let Some(session) = group_exprs.iter().find(|g| is_session(g)) else {
        return Ok(input);
    };
    let Expr::Column(session) = session.unalias().clone() else {
        return Ok(input);
    };
    let keys = group_exprs
        .iter()
        .filter(|g| !is_session(g))
        .map(|g| g.unalias().clone())
        .collect();
    Ok(crate::logical::MergeSessions::plan(keys, session, input))
}

/// Spark's error for an output expression of an aggregate that is neither grouped nor
/// aggregated (`text` as Spark shows the expression).
pub fn missing_aggregation(text: &str) -> EngineError {
    EngineError::analysis(
        "MISSING_AGGREGATION",
        format!(
            "The non-aggregating expression \"{text}\" is based on columns which are not \
             participating in the GROUP BY clause. Add the columns or the expression to the \
             GROUP BY, aggregate the expression, or use \"any_value({text})\" if you do not \
             care which of the values within a group is returned. SQLSTATE: 42803"
        ),
    )
}
