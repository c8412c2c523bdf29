//! Queries (`SELECT`, set operations, `VALUES`, `WITH`) to unresolved logical plans.
//!
//! The plans keep names as written (`UnresolvedRelation`, `UnresolvedColumn`,
//! `UnresolvedFunction`, `Star`); the analyzer binds them. A few Spark rules need more than
//! syntax: the column lists of a `JOIN ... USING`, `GROUP BY` aliases that must not shadow
//! input columns, ordinals over `*`. For those the planner asks the analyzer for the schema
//! of a sub-plan when it has a session (see [`SqlPlanner::with_session`]).
//!
//! Shape of a `SELECT` with aggregates:
//!
//! ```text
//! Sort (ORDER BY over the output; hidden keys are projected and removed again)
//! +- Project [select list, aggregates replaced by columns of the Aggregate's output]
//!    +- Filter (HAVING)
//!       +- Aggregate [group exprs], [group exprs, agg(x) AS `agg(x)`, ...]
//!          +- Filter (WHERE)
//!             +- FROM (joins, subqueries, views)
//! ```

use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use sqlparser::ast;

use engine_core::{EngineError, Result};

use super::expr::{ExprContext, spark_name, sql_to_expr};
use super::parser::object_name_parts;
use crate::session::Session;
use engine_core::expr::{Expr, SortExpr, call, conjunction, lit};
use engine_core::logical::{Join, JoinType, LogicalPlan, Scan};
use engine_core::physical::TableProvider;
use engine_core::physical::plan::{ExecutionPlanRef, TaskContext};
use engine_core::physical::table::memory::MemoryExec;
use engine_core::schema::PlanSchema;

/// Aggregate names known even before the function registry lists them, so the planner
/// shapes the query right (an unknown function still fails in the analyzer).
const AGGREGATES: &[&str] = &[
    "any",
    "any_value",
    "approx_count_distinct",
    "array_agg",
    "avg",
    "bit_and",
    "bit_or",
    "bit_xor",
    "bool_and",
    "bool_or",
    "collect_list",
    "collect_set",
    "corr",
    "count",
    "count_if",
    "covar_pop",
    "covar_samp",
    "every",
    "first",
    "first_value",
    "kurtosis",
    "last",
    "last_value",
    "listagg",
    "max",
    "max_by",
    "mean",
    "median",
    "min",
    "min_by",
    "mode",
    "percentile",
    "percentile_approx",
    "product",
    "skewness",
    "some",
    "std",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "string_agg",
    "sum",
    "try_avg",
    "try_sum",
    "var_pop",
    "var_samp",
    "variance",
];

/// True for a call of an aggregate function.
pub fn is_aggregate_call(e: &Expr) -> bool {
    match e {
        Expr::UnresolvedFunction { name, .. } => {
            let n = name.to_lowercase();
            AGGREGATES.contains(&n.as_str()) || engine_core::functions::is_aggregate_name(&n)
        }
        Expr::AggregateFunction { .. } => true,
        _ => false,
    }
}

fn contains_aggregate(e: &Expr) -> bool {
    e.any(&is_aggregate_call)
}

fn collect_aggregates(e: &Expr, out: &mut Vec<Expr>) {
    if is_aggregate_call(e) {
        if !out.contains(e) {
            out.push(e.clone());
        }
    } else {
        for c in e.children() {
            collect_aggregates(c, out);
        }
    }
}

/// The relation of a single row and no columns: `SELECT 1` reads from it.
#[derive(Debug)]
pub struct OneRowRelation;

impl TableProvider for OneRowRelation {
    fn schema(&self) -> SchemaRef {
        Arc::new(Schema::empty())
    }

    fn describe(&self) -> String {
        "OneRowRelation".into()
    }

    fn scan(
        &self,
        _projection: Option<&[usize]>,
        _filters: &[Expr],
        _limit: Option<usize>,
        _ctx: &Arc<TaskContext>,
    ) -> Result<ExecutionPlanRef> {
        let schema = self.schema();
        let batch = RecordBatch::try_new_with_options(
            schema.clone(),
            vec![],
            &RecordBatchOptions::new().with_row_count(Some(1)),
        )?;
        Ok(Arc::new(MemoryExec::new(schema, vec![vec![batch]])))
    }
}

/// A plan reading [`OneRowRelation`].
pub fn one_row_relation() -> LogicalPlan {
    LogicalPlan::Scan(Scan {
        source: engine_core::physical::provider_as_source(Arc::new(OneRowRelation)),
        qualifier: None,
        projection: None,
        filters: vec![],
        limit: None,
    })
}

fn unsupported(what: impl std::fmt::Display) -> EngineError {
    EngineError::Unsupported(format!("{what} in SQL queries"))
}

/// Translates queries; holds the CTEs in scope.
#[derive(Debug)]
pub struct SqlPlanner<'a> {
    session: Option<&'a Session>,
    ctx: ExprContext,
    /// Visible CTEs, innermost last (searched from the end so inner ones shadow outer).
    ctes: Vec<(String, Arc<LogicalPlan>)>,
    /// While one grouping set of a ROLLUP/CUBE/GROUPING SETS query is planned: every
    /// grouping expression, and whether this set groups by it.
    grouping_set: Option<Vec<(Expr, bool)>>,
    /// Scalar subqueries met in expressions and not yet joined in: the relation name each
    /// was given and its single-row plan.
    scalar_subqueries: Vec<(String, LogicalPlan)>,
    /// Scalar subqueries planned so far (for unique names).
    subquery_count: usize,
    /// Subqueries over batch data already run: their relation name and value.
    subquery_values: Vec<(String, engine_core::scalar::ScalarValue)>,
}

/// One select-list item, translated.
#[derive(Debug, Clone)]
struct Item {
    /// The expression as it will be projected (aliased when the user or Spark names it).
    expr: Expr,
    /// The expression without its alias, for matching `GROUP BY`/`ORDER BY` keys.
    bare: Expr,
    /// The user's alias, if any.
    alias: Option<String>,
}

impl Item {
    fn name(&self) -> String {
        self.expr.output_name()
    }

    fn is_star(&self) -> bool {
        matches!(self.expr, Expr::Star(_))
    }

    /// An expression selecting this item from the output of the projection it is part of.
    fn reference(&self) -> Expr {
        match &self.expr {
            Expr::UnresolvedColumn(parts) => Expr::UnresolvedColumn(parts.clone()),
            Expr::Star(q) => Expr::Star(q.clone()),
            other => Expr::UnresolvedColumn(vec![other.output_name()]),
        }
    }
}

impl<'a> SqlPlanner<'a> {
    /// A planner without a session: purely syntactic (used by tests); `USING` joins then
    /// keep both key columns and ordinals over `*` fail.
    pub fn new(ctx: ExprContext) -> Self {
        SqlPlanner {
            session: None,
            ctx,
            ctes: vec![],
            grouping_set: None,
            scalar_subqueries: vec![],
            subquery_count: 0,
            subquery_values: vec![],
        }
    }

    /// A planner that may analyze sub-plans with `session` to learn their columns.
    pub fn with_session(session: &'a Session) -> Result<Self> {
        let tz = session.conf().time_zone()?;
        Ok(SqlPlanner {
            session: Some(session),
            ctx: ExprContext { time_zone: tz },
            ctes: vec![],
            grouping_set: None,
            scalar_subqueries: vec![],
            subquery_count: 0,
            subquery_values: vec![],
        })
    }

    fn expr(&self, e: &ast::Expr) -> Result<Expr> {
        sql_to_expr(e, &self.ctx)
    }

    /// [`SqlPlanner::expr`] for expressions that may hold uncorrelated scalar subqueries
    /// (`(SELECT max(v) FROM t)`) or EXISTS: each is planned, remembered for
    /// [`SqlPlanner::join_scalar_subqueries`] and read as the column it will give.
    fn expr_with_subqueries(&mut self, e: &ast::Expr) -> Result<Expr> {
        let mut e = e.clone();
        let mut found = Vec::new();
        replace_subqueries(&mut e, &mut found, &mut self.subquery_count);
        for (name, query, kind) in found {
            // The subquery is planned on its own: no pending subquery or grouping set of
            // this query may leak into it.
            let pending = std::mem::take(&mut self.scalar_subqueries);
            let sub = self.plan_query(&query);
            self.scalar_subqueries = pending;
            let sub = sub?;
            // A batch subquery runs now and its value is a literal (Spark runs it before
            // the query that reads it): a WHERE condition on it is then an ordinary filter,
            // which moves below a watermark as Spark's does.
            if let Some(value) = self.run_subquery(&sub, kind)? {
                self.subquery_values.push((name, value));
                continue;
            }
            let plan = match kind {
                SubqueryKind::Scalar => {
                    if !returns_one_row(&sub) {
                        return Err(unsupported(
                            "scalar subqueries that may return more than one row (only global aggregates)",
                        ));
                    }
                    let names = self.output_names(&sub)?;
                    let [col] = names.as_slice() else {
                        return Err(scalar_subquery_columns(names.len()));
                    };
                    LogicalPlan::Projection {
                        exprs: vec![
                            Expr::UnresolvedColumn(vec![col.clone()]).alias(SCALAR_SUBQUERY),
                        ],
                        input: Arc::new(sub),
                    }
                }
                // EXISTS: whether the subquery has a row (one row, never NULL).
                SubqueryKind::Exists => LogicalPlan::Aggregate {
                    group_exprs: vec![],
                    aggr_exprs: vec![
                        call("count", vec![lit(1)])
                            .gt(lit(0i64))
                            .alias(EXISTS_SUBQUERY),
                    ],
                    input: Arc::new(sub),
                },
            };
            self.scalar_subqueries.push((name, plan));
        }
        self.expr(&e)
    }

    /// The value of a subquery over batch data, run now (`None` for a stream's subquery,
    /// or without a session).
    fn run_subquery(
        &self,
        sub: &LogicalPlan,
        kind: SubqueryKind,
    ) -> Result<Option<engine_core::scalar::ScalarValue>> {
        let Some(session) = self.session else {
            return Ok(None);
        };
        let analyzed = session.analyze(&Arc::new(sub.clone()))?;
        if analyzed.is_streaming() {
            return Ok(None);
        }
        let batches: Vec<arrow::array::RecordBatch> = session
            .run_analyzed(&analyzed)?
            .into_iter()
            .flatten()
            .collect();
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        let first = batches.iter().find(|b| b.num_rows() > 0);
        Ok(Some(match kind {
            SubqueryKind::Exists => engine_core::scalar::ScalarValue::Boolean(Some(rows > 0)),
            SubqueryKind::Scalar => {
                if rows > 1 {
                    return Err(EngineError::execution(
                        "SCALAR_SUBQUERY_TOO_MANY_ROWS",
                        "More than one row returned by a subquery used as an expression. SQLSTATE: 21000",
                    ));
                }
                let Some(b) = first else {
                    return Ok(Some(engine_core::scalar::ScalarValue::Null));
                };
                if b.num_columns() != 1 {
                    return Err(scalar_subquery_columns(b.num_columns()));
                }
                engine_core::scalar::ScalarValue::try_from_array(b.column(0).as_ref(), 0)?
            }
        }))
    }

    /// `e` with the subqueries already run replaced by their values.
    fn with_subquery_values(&self, e: Expr) -> Result<Expr> {
        if self.subquery_values.is_empty() {
            return Ok(e);
        }
        e.transform_down(&mut |x| -> Result<Expr> {
            if let Expr::UnresolvedColumn(parts) = &x
                && let Some(first) = parts.first()
                && let Some((_, v)) = self.subquery_values.iter().find(|(n, _)| n == first)
            {
                return Ok(Expr::Literal(v.clone()));
            }
            Ok(x)
        })
    }

    /// The analyzed schema of `plan`, when a session is at hand and analysis succeeds.
    fn schema_of(&self, plan: &LogicalPlan) -> Option<PlanSchema> {
        let session = self.session?;
        let analyzed = session.analyze(&Arc::new(plan.clone())).ok()?;
        analyzed.schema().ok()
    }

    /// Output column names of `plan`, from its shape or (failing that) from analysis.
    fn output_names(&self, plan: &LogicalPlan) -> Result<Vec<String>> {
        match plan {
            LogicalPlan::Projection { exprs, .. }
                if !exprs.iter().any(|e| matches!(e, Expr::Star(_))) =>
            {
                return Ok(exprs.iter().map(|e| e.output_name()).collect());
            }
            LogicalPlan::Filter { input, .. }
            | LogicalPlan::Sort { input, .. }
            | LogicalPlan::Limit { input, .. }
            | LogicalPlan::Distinct { input }
            | LogicalPlan::SubqueryAlias { input, .. } => return self.output_names(input),
            LogicalPlan::Union { inputs } if !inputs.is_empty() => {
                return self.output_names(&inputs[0]);
            }
            _ => {}
        }
        match self.schema_of(plan) {
            Some(s) => Ok(s.fields().iter().map(|f| f.name().to_string()).collect()),
            None => Err(unsupported(
                "naming the columns of this relation before analysis",
            )),
        }
    }

    /// Plans a whole query: CTEs, body, `ORDER BY`, `LIMIT`.
    pub fn plan_query(&mut self, q: &ast::Query) -> Result<LogicalPlan> {
        let saved = self.ctes.len();
        let result = self.plan_query_inner(q);
        self.ctes.truncate(saved);
        result
    }

    fn plan_query_inner(&mut self, q: &ast::Query) -> Result<LogicalPlan> {
        if q.fetch.is_some() || !q.locks.is_empty() || q.for_clause.is_some() {
            return Err(unsupported("FETCH/FOR/locking clauses"));
        }
        if !q.pipe_operators.is_empty() {
            return Err(unsupported("pipe operators (|>)"));
        }
        if let Some(with) = &q.with {
            if with.recursive {
                return Err(unsupported("WITH RECURSIVE"));
            }
            for cte in &with.cte_tables {
                let mut plan = self.plan_query(&cte.query)?;
                if !cte.alias.columns.is_empty() {
                    let names: Vec<String> = cte
                        .alias
                        .columns
                        .iter()
                        .map(|c| c.name.value.clone())
                        .collect();
                    plan = self.rename_columns(plan, &names)?;
                }
                self.ctes
                    .push((cte.alias.name.value.clone(), Arc::new(plan)));
            }
        }
        let (order_by, order_by_all): (Vec<ast::OrderByExpr>, Option<&ast::OrderByOptions>) =
            match &q.order_by {
                None => (vec![], None),
                Some(ob) => match &ob.kind {
                    // The dialect reads `ORDER BY ALL` as a column named ALL; Spark takes it
                    // as every column unless one is named `all` (checked below).
                    ast::OrderByKind::Expressions(v)
                        if matches!(v.as_slice(), [o] if matches!(&o.expr,
                            ast::Expr::Identifier(id)
                                if id.quote_style.is_none() && id.value.eq_ignore_ascii_case("all"))) =>
                    {
                        (v.clone(), v.first().map(|o| &o.options))
                    }
                    ast::OrderByKind::Expressions(v) => (v.clone(), None),
                    ast::OrderByKind::All(opts) => (vec![], Some(opts)),
                },
            };
        // `ORDER BY all` names a column when the output has one called `all`.
        let order_by_all = match order_by_all {
            Some(opts) if !order_by.is_empty() => {
                let probe = match q.body.as_ref() {
                    ast::SetExpr::Select(s) => self.plan_select(s, &[])?,
                    other => self.plan_set_expr(other)?,
                };
                let has_all = self.schema_of(&probe).is_some_and(|schema| {
                    schema
                        .fields()
                        .iter()
                        .any(|f| f.name().eq_ignore_ascii_case("all"))
                });
                (!has_all).then_some(opts)
            }
            other => other,
        };
        let order_by = if order_by_all.is_some() {
            vec![]
        } else {
            order_by
        };
        let mut plan = match q.body.as_ref() {
            ast::SetExpr::Select(s) => self.plan_select(s, &order_by)?,
            other => {
                let plan = self.plan_set_expr(other)?;
                if order_by.is_empty() {
                    plan
                } else {
                    self.sort_over_output(plan, &order_by)?
                }
            }
        };
        if let Some(opts) = order_by_all {
            // Spark 4's ORDER BY ALL: every output column, left to right, with the options.
            // Analysis errors are the query's own (an unknown column, a refused watermark).
            let session = self
                .session
                .ok_or_else(|| unsupported("ORDER BY ALL without a session"))?;
            let n = session
                .analyze(&Arc::new(plan.clone()))?
                .schema()?
                .fields()
                .len();
            let keys: Vec<ast::OrderByExpr> = (1..=n)
                .map(|i| ast::OrderByExpr {
                    expr: ast::Expr::value(ast::Value::Number(i.to_string(), false)),
                    options: opts.clone(),
                    with_fill: None,
                })
                .collect();
            plan = self.sort_over_output(plan, &keys)?;
        }
        if let Some(limit) = &q.limit_clause {
            match limit {
                ast::LimitClause::LimitOffset {
                    limit,
                    offset,
                    limit_by,
                } => {
                    if offset.is_some() || !limit_by.is_empty() {
                        return Err(unsupported("OFFSET"));
                    }
                    if let Some(l) = limit {
                        plan = LogicalPlan::Limit {
                            n: self.limit_value(l)?,
                            input: Arc::new(plan),
                        };
                    }
                }
                ast::LimitClause::OffsetCommaLimit { .. } => {
                    return Err(unsupported("LIMIT offset, count"));
                }
            }
        }
        Ok(plan)
    }

    fn limit_value(&self, e: &ast::Expr) -> Result<usize> {
        match self.expr(e)? {
            Expr::Literal(v) => {
                let n = match v {
                    engine_core::scalar::ScalarValue::Int32(Some(n)) => n as i64,
                    engine_core::scalar::ScalarValue::Int64(Some(n)) => n,
                    engine_core::scalar::ScalarValue::Int16(Some(n)) => n as i64,
                    engine_core::scalar::ScalarValue::Int8(Some(n)) => n as i64,
                    other => {
                        return Err(EngineError::analysis(
                            "INVALID_LIMIT_LIKE_EXPRESSION.DATA_TYPE",
                            format!(
                                "The limit like expression \"{other}\" is invalid. The limit expression must be integer type, but got \"{}\". SQLSTATE: 42K0E",
                                engine_core::types::sql_type_name(&other.data_type())
                            ),
                        ));
                    }
                };
                if n < 0 {
                    return Err(EngineError::analysis(
                        "INVALID_LIMIT_LIKE_EXPRESSION.IS_NEGATIVE",
                        format!(
                            "The limit like expression \"{n}\" is invalid. The limit expression must be equal to or greater than 0, but got {n}. SQLSTATE: 42K0E"
                        ),
                    ));
                }
                Ok(n as usize)
            }
            other => Err(EngineError::analysis(
                "INVALID_LIMIT_LIKE_EXPRESSION.IS_UNFOLDABLE",
                format!(
                    "The limit like expression \"{other}\" is invalid. The limit expression must evaluate to a constant value. SQLSTATE: 42K0E"
                ),
            )),
        }
    }

    fn plan_set_expr(&mut self, e: &ast::SetExpr) -> Result<LogicalPlan> {
        match e {
            ast::SetExpr::Select(s) => self.plan_select(s, &[]),
            ast::SetExpr::Query(q) => self.plan_query(q),
            ast::SetExpr::Values(v) => self.plan_values(v),
            ast::SetExpr::SetOperation {
                left,
                op,
                set_quantifier,
                right,
            } => {
                let all = match set_quantifier {
                    ast::SetQuantifier::All => true,
                    ast::SetQuantifier::Distinct | ast::SetQuantifier::None => false,
                    other => return Err(unsupported(format!("{op} {other}"))),
                };
                let l = self.plan_set_expr(left)?;
                let r = self.plan_set_expr(right)?;
                if !matches!(op, ast::SetOperator::Union) {
                    if all {
                        return Err(unsupported(format!("{op} ALL")));
                    }
                    return self.plan_except_intersect(l, r, op);
                }
                // Chains of UNION ALL become one n-ary Union, as Spark's CombineUnions does.
                let mut inputs = match l {
                    LogicalPlan::Union { inputs } if all => inputs,
                    other => vec![Arc::new(other)],
                };
                inputs.push(Arc::new(r));
                let union = LogicalPlan::Union { inputs };
                Ok(if all {
                    union
                } else {
                    LogicalPlan::Distinct {
                        input: Arc::new(union),
                    }
                })
            }
            ast::SetExpr::Table(t) => {
                let mut parts = vec![];
                parts.extend(t.schema_name.clone());
                parts.extend(t.table_name.clone());
                Ok(self.relation(parts))
            }
            other => Err(unsupported(format!("the statement `{other}`"))),
        }
    }

    /// `EXCEPT [DISTINCT]` / `MINUS` and `INTERSECT [DISTINCT]` as Spark's optimizer plans
    /// them: the distinct left rows without (with) a row of the right side that matches on
    /// every column, NULLs matching NULLs (`<=>`), columns paired by position.
    fn plan_except_intersect(
        &self,
        left: LogicalPlan,
        right: LogicalPlan,
        op: &ast::SetOperator,
    ) -> Result<LogicalPlan> {
        let ln = self.output_names(&left)?;
        let rn = self.output_names(&right)?;
        if ln.len() != rn.len() {
            return Err(EngineError::analysis(
                "NUM_COLUMNS_MISMATCH",
                format!(
                    "{} can only be performed on inputs with the same number of columns, but the first input has {} columns and the second input has {} columns. SQLSTATE: 42826",
                    op.to_string().to_uppercase(),
                    ln.len(),
                    rn.len()
                ),
            ));
        }
        const L: &str = "__setop_left";
        const R: &str = "__setop_right";
        let condition = conjunction(ln.iter().zip(&rn).map(|(a, b)| {
            Expr::UnresolvedColumn(vec![L.into(), a.clone()])
                .eq_null_safe(Expr::UnresolvedColumn(vec![R.into(), b.clone()]))
        }));
        let join_type = if matches!(op, ast::SetOperator::Intersect) {
            JoinType::LeftSemi
        } else {
            JoinType::LeftAnti
        };
        let join = LogicalPlan::Join(Join {
            left: Arc::new(LogicalPlan::SubqueryAlias {
                alias: L.into(),
                input: Arc::new(left),
            }),
            right: Arc::new(LogicalPlan::SubqueryAlias {
                alias: R.into(),
                input: Arc::new(right),
            }),
            join_type,
            condition,
        });
        Ok(LogicalPlan::Distinct {
            input: Arc::new(join),
        })
    }

    /// `VALUES (..), (..)`: one projection of the one-row relation per row, columns
    /// `col1..colN`, united (the analyzer widens the types across rows).
    fn plan_values(&mut self, v: &ast::Values) -> Result<LogicalPlan> {
        let mut inputs = Vec::with_capacity(v.rows.len());
        let width = v.rows.first().map_or(0, |r| r.len());
        for row in &v.rows {
            if row.len() != width {
                return Err(EngineError::analysis(
                    "INVALID_INLINE_TABLE.NUM_COLUMNS_MISMATCH",
                    format!(
                        "Invalid inline table. Inline table expected {width} columns but found {} columns in row {}. SQLSTATE: 42000",
                        row.len(),
                        inputs.len()
                    ),
                ));
            }
            let exprs = row
                .iter()
                .enumerate()
                .map(|(i, e)| Ok(self.expr(e)?.alias(format!("col{}", i + 1))))
                .collect::<Result<Vec<_>>>()?;
            inputs.push(Arc::new(LogicalPlan::Projection {
                exprs,
                input: Arc::new(one_row_relation()),
            }));
        }
        match inputs.len() {
            0 => Err(unsupported("empty VALUES")),
            1 => Ok(Arc::unwrap_or_clone(inputs.remove(0))),
            _ => Ok(LogicalPlan::Union { inputs }),
        }
    }

    fn relation(&self, parts: Vec<String>) -> LogicalPlan {
        if let [name] = parts.as_slice()
            && let Some((cte_name, plan)) = self
                .ctes
                .iter()
                .rev()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            return LogicalPlan::SubqueryAlias {
                alias: cte_name.clone(),
                input: plan.clone(),
            };
        }
        LogicalPlan::UnresolvedRelation(parts)
    }

    /// Renames the output columns of `plan` (`AS t(x, y)`, `WITH t(x, y)`).
    fn rename_columns(&self, plan: LogicalPlan, names: &[String]) -> Result<LogicalPlan> {
        let old = self.output_names(&plan)?;
        if old.len() != names.len() {
            return Err(EngineError::analysis(
                "ASSIGNMENT_ARITY_MISMATCH",
                format!(
                    "The number of columns or variables assigned or aliased: {} does not match the number of source values: {}. SQLSTATE: 42802",
                    names.len(),
                    old.len()
                ),
            ));
        }
        Ok(LogicalPlan::Projection {
            exprs: old
                .iter()
                .zip(names)
                .map(|(o, n)| Expr::UnresolvedColumn(vec![o.clone()]).alias(n.clone()))
                .collect(),
            input: Arc::new(plan),
        })
    }

    fn with_alias(
        &self,
        plan: LogicalPlan,
        alias: &Option<ast::TableAlias>,
    ) -> Result<LogicalPlan> {
        let Some(alias) = alias else {
            return Ok(plan);
        };
        let mut plan = plan;
        if !alias.columns.is_empty() {
            let names: Vec<String> = alias.columns.iter().map(|c| c.name.value.clone()).collect();
            plan = self.rename_columns(plan, &names)?;
        }
        Ok(LogicalPlan::SubqueryAlias {
            alias: alias.name.value.clone(),
            input: Arc::new(plan),
        })
    }

    fn plan_table_factor(&mut self, t: &ast::TableFactor) -> Result<LogicalPlan> {
        match t {
            ast::TableFactor::Table {
                name,
                alias,
                args,
                version,
                sample,
                ..
            } => {
                if let Some(args) = args {
                    let call = object_name_parts(name)?.join(".");
                    let plan = if call == super::watermark_clause::WATERMARK_CALL {
                        Some(self.plan_watermark_clause(&args.args)?)
                    } else if call == super::watermark_clause::STREAM_CALL {
                        Some(self.plan_stream_call(&args.args)?)
                    } else {
                        None
                    };
                    if let Some(plan) = plan {
                        return self.with_alias(plan, alias);
                    }
                }
                if args.is_some() {
                    return Err(unsupported(format!("the table-valued function `{name}`")));
                }
                if version.is_some() || sample.is_some() {
                    return Err(unsupported("time travel and TABLESAMPLE"));
                }
                let plan = self.relation(object_name_parts(name)?);
                self.with_alias(plan, alias)
            }
            ast::TableFactor::Derived {
                lateral,
                subquery,
                alias,
                sample,
            } => {
                if *lateral || sample.is_some() {
                    return Err(unsupported("LATERAL subqueries and TABLESAMPLE"));
                }
                let plan = self.plan_query(subquery)?;
                self.with_alias(plan, alias)
            }
            ast::TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                let plan = self.plan_table_with_joins(table_with_joins)?;
                self.with_alias(plan, alias)
            }
            ast::TableFactor::Pivot {
                table,
                aggregate_functions,
                value_column,
                value_source,
                default_on_null,
                alias,
            } => {
                if default_on_null.is_some() {
                    return Err(unsupported("PIVOT ... DEFAULT ON NULL"));
                }
                let ast::PivotValueSource::List(values) = value_source else {
                    return Err(unsupported("PIVOT over ANY or a subquery"));
                };
                let input = self.plan_table_factor(table)?;
                let plan = self.plan_pivot(input, aggregate_functions, value_column, values)?;
                self.with_alias(plan, alias)
            }
            other => Err(unsupported(format!("the relation `{other}`"))),
        }
    }

    /// A relation's watermark clause (`t WATERMARK ts DELAY OF INTERVAL 10 MINUTES`, made a
    /// call by `watermark_clause`): the relation, its event time (a column, or an expression
    /// added as a column named by its alias or text) and the delay, as `withWatermark`.
    fn plan_watermark_clause(&mut self, args: &[ast::FunctionArg]) -> Result<LogicalPlan> {
        let arg = |i: usize| -> Result<&ast::Expr> {
            match args.get(i) {
                Some(ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e))) => Ok(e),
                _ => Err(EngineError::Internal("a malformed watermark clause".into())),
            }
        };
        let input = match arg(0)? {
            e @ (ast::Expr::Identifier(_) | ast::Expr::CompoundIdentifier(_)) => {
                self.relation(name_parts(e).unwrap_or_default())
            }
            ast::Expr::Subquery(q) => self.plan_query(q)?,
            ast::Expr::Function(f)
                if f.name.to_string() == super::watermark_clause::STREAM_CALL =>
            {
                let ast::FunctionArguments::List(list) = &f.args else {
                    return Err(EngineError::Internal("a malformed STREAM relation".into()));
                };
                self.plan_stream_call(&list.args)?
            }
            ast::Expr::Nested(inner) => match inner.as_ref() {
                ast::Expr::Subquery(q) => self.plan_query(q)?,
                other => return Err(unsupported(format!("a watermark clause on `{other}`"))),
            },
            other => return Err(unsupported(format!("a watermark clause on `{other}`"))),
        };
        let event_time = self.expr(arg(1)?)?;
        let delay = match self.expr(arg(2)?)? {
            Expr::Literal(engine_core::scalar::ScalarValue::DayTimeInterval(Some(us), _))
                if us >= 0 =>
            {
                std::time::Duration::from_micros(us.unsigned_abs())
            }
            other => {
                return Err(EngineError::analysis(
                    "INVALID_INTERVAL_FORMAT",
                    format!(
                        "The watermark delay `{other}` must be a non-negative interval of days, \
                         hours, minutes or seconds. SQLSTATE: 22006"
                    ),
                ));
            }
        };
        let name = match args.get(3) {
            Some(_) => match arg(3)? {
                ast::Expr::Value(v) => match &v.value {
                    ast::Value::SingleQuotedString(s) => Some(s.clone()),
                    _ => None,
                },
                _ => None,
            },
            None => None,
        };
        let (input, event_time) = match (event_time, name) {
            (c @ Expr::UnresolvedColumn(_), None) => (input, c),
            (e, name) => {
                // An expression: added as a column (named by its alias or its text).
                let name = name.unwrap_or_else(|| e.output_name());
                let plan = LogicalPlan::Projection {
                    exprs: vec![Expr::Star(None), e.alias(name.clone())],
                    input: Arc::new(input),
                };
                (plan, Expr::UnresolvedColumn(vec![name]))
            }
        };
        Ok(LogicalPlan::EventTimeWatermark(
            engine_core::logical::EventTimeWatermark {
                event_time,
                delay,
                stats: Arc::default(),
                input: Arc::new(input),
            },
        ))
    }

    /// `STREAM t` / `STREAM(t)`: the temp view `t`, which must be a stream (Spark reads a
    /// catalog table as a stream there; the engine's tables are temp views).
    fn plan_stream_call(&mut self, args: &[ast::FunctionArg]) -> Result<LogicalPlan> {
        let parts = match args {
            [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e))] => name_parts(e),
            _ => None,
        }
        .ok_or_else(|| EngineError::Internal("a malformed STREAM relation".into()))?;
        let quoted = parts.join(".");
        let plan = self.relation(parts);
        if let Some(session) = self.session
            && !session.analyze(&Arc::new(plan.clone()))?.is_streaming()
        {
            return Err(EngineError::analysis(
                "_LEGACY_ERROR_TEMP_1008",
                format!(
                    "{quoted} is not a temp view of streaming logical plan, please use batch \
                     API such as `DataFrameReader.table` to read it."
                ),
            ));
        }
        Ok(plan)
    }

    /// `PIVOT (aggs FOR cols IN (values))`, as Spark computes it: the aggregates per group
    /// (every input column the aggregates and the pivot columns do not use) and pivot value,
    /// then one column per value and aggregate, NULL where the group has no row with that
    /// value (so a pivoted `count` is NULL there, not 0). Columns are named after the value
    /// (its alias or text), with `_` and the aggregate's alias or text when there are several.
    fn plan_pivot(
        &mut self,
        input: LogicalPlan,
        aggregates: &[ast::ExprWithAlias],
        pivot: &[ast::Expr],
        values: &[ast::ExprWithAlias],
    ) -> Result<LogicalPlan> {
        let names = self.output_names(&input)?;
        let aggs: Vec<(Expr, String)> = aggregates
            .iter()
            .map(|a| {
                let e = self.expr(&a.expr)?;
                let name = a
                    .alias
                    .as_ref()
                    .map_or_else(|| e.to_string(), |x| x.value.clone());
                Ok((e, name))
            })
            .collect::<Result<_>>()?;
        let pivot: Vec<Expr> = pivot.iter().map(|p| self.expr(p)).collect::<Result<_>>()?;
        let mut used = Vec::new();
        for e in aggs.iter().map(|(e, _)| e).chain(&pivot) {
            collect_column_names(e, &mut used);
        }
        let groups: Vec<Expr> = names
            .iter()
            .filter(|n| !used.iter().any(|u| u.eq_ignore_ascii_case(n)))
            .map(|n| Expr::UnresolvedColumn(vec![n.clone()]))
            .collect();
        let inner_keys: Vec<Expr> = groups.iter().chain(&pivot).cloned().collect();
        let inner = LogicalPlan::Aggregate {
            group_exprs: inner_keys,
            aggr_exprs: aggs
                .iter()
                .enumerate()
                .map(|(i, (e, _))| e.clone().alias(format!("__pivot_agg_{i}")))
                .collect(),
            input: Arc::new(input),
        };
        let pivot_cols: Vec<Expr> = pivot
            .iter()
            .map(|p| Expr::UnresolvedColumn(vec![p.output_name()]))
            .collect();
        let mut outputs = Vec::new();
        for v in values {
            let value_name = v.alias.as_ref().map_or_else(
                || self.expr(&v.expr).map(|e| e.to_string()),
                |a| Ok(a.value.clone()),
            )?;
            // One pivot column: the value; several: a tuple of values.
            let parts: Vec<Expr> = match (&v.expr, pivot_cols.len()) {
                (ast::Expr::Tuple(items), n) if n > 1 => {
                    items.iter().map(|x| self.expr(x)).collect::<Result<_>>()?
                }
                (e, _) => vec![self.expr(e)?],
            };
            if parts.len() != pivot_cols.len() {
                return Err(EngineError::analysis(
                    "PIVOT_VALUE_DATA_TYPE_MISMATCH",
                    format!(
                        "Invalid pivot value '{value_name}': the pivot columns are {}",
                        pivot_cols.len()
                    ),
                ));
            }
            let condition = conjunction(
                pivot_cols
                    .iter()
                    .zip(parts)
                    .map(|(c, p)| Expr::BinaryOp {
                        left: Box::new(c.clone()),
                        op: engine_core::expr::BinaryOperator::NullSafeEq,
                        right: Box::new(p),
                    })
                    .collect::<Vec<_>>(),
            )
            .unwrap_or_else(|| lit(true));
            for (i, (_, agg_name)) in aggs.iter().enumerate() {
                let name = if aggs.len() == 1 {
                    value_name.clone()
                } else {
                    format!("{value_name}_{agg_name}")
                };
                let picked = call(
                    "if",
                    vec![
                        condition.clone(),
                        Expr::UnresolvedColumn(vec![format!("__pivot_agg_{i}")]),
                        Expr::Literal(engine_core::scalar::ScalarValue::Null),
                    ],
                );
                outputs.push(call("first", vec![picked, lit(true)]).alias(name));
            }
        }
        Ok(LogicalPlan::Aggregate {
            group_exprs: groups,
            aggr_exprs: outputs,
            input: Arc::new(inner),
        })
    }

    fn plan_table_with_joins(&mut self, t: &ast::TableWithJoins) -> Result<LogicalPlan> {
        let mut plan = self.plan_table_factor(&t.relation)?;
        for j in &t.joins {
            let right = self.plan_table_factor(&j.relation)?;
            use ast::JoinOperator as J;
            let (join_type, constraint) = match &j.join_operator {
                J::Join(c) | J::Inner(c) => (JoinType::Inner, c),
                J::Left(c) | J::LeftOuter(c) => (JoinType::Left, c),
                J::Right(c) | J::RightOuter(c) => (JoinType::Right, c),
                J::FullOuter(c) => (JoinType::Full, c),
                J::CrossJoin(c) => (JoinType::Cross, c),
                J::Semi(c) | J::LeftSemi(c) => (JoinType::LeftSemi, c),
                J::Anti(c) | J::LeftAnti(c) => (JoinType::LeftAnti, c),
                other => return Err(unsupported(format!("the join `{other:?}`"))),
            };
            plan = self.plan_join(plan, right, join_type, constraint)?;
        }
        Ok(plan)
    }

    fn plan_join(
        &mut self,
        left: LogicalPlan,
        right: LogicalPlan,
        join_type: JoinType,
        constraint: &ast::JoinConstraint,
    ) -> Result<LogicalPlan> {
        let join = |condition: Option<Expr>, jt: JoinType| {
            LogicalPlan::Join(Join {
                left: Arc::new(left.clone()),
                right: Arc::new(right.clone()),
                join_type: jt,
                condition,
            })
        };
        match constraint {
            ast::JoinConstraint::On(e) => {
                let cond = self.expr(e)?;
                // `CROSS JOIN ... ON` is an inner join in Spark.
                let jt = if join_type == JoinType::Cross {
                    JoinType::Inner
                } else {
                    join_type
                };
                Ok(join(Some(cond), jt))
            }
            ast::JoinConstraint::None => Ok(join(None, join_type)),
            ast::JoinConstraint::Using(names) => {
                let keys = names
                    .iter()
                    .map(|n| {
                        let parts = object_name_parts(n)?;
                        match parts.as_slice() {
                            [k] => Ok(k.clone()),
                            _ => Err(unsupported(format!("the qualified USING column `{n}`"))),
                        }
                    })
                    .collect::<Result<Vec<_>>>()?;
                self.plan_using_join(left, right, join_type, keys)
            }
            ast::JoinConstraint::Natural => {
                let (Some(ls), Some(rs)) = (self.schema_of(&left), self.schema_of(&right)) else {
                    return Err(unsupported(
                        "NATURAL JOIN over relations of unknown columns",
                    ));
                };
                let keys: Vec<String> = ls
                    .fields()
                    .iter()
                    .map(|f| f.name().to_string())
                    .filter(|n| rs.fields().iter().any(|r| r.name().eq_ignore_ascii_case(n)))
                    .collect();
                self.plan_using_join(left, right, join_type, keys)
            }
        }
    }

    /// `JOIN ... USING (k, ...)`: equality on the keys, then Spark's output order: the keys
    /// once (from the left side; the right for RIGHT joins; `coalesce` for FULL), then the
    /// other left columns, then the other right columns.
    fn plan_using_join(
        &mut self,
        left: LogicalPlan,
        right: LogicalPlan,
        join_type: JoinType,
        keys: Vec<String>,
    ) -> Result<LogicalPlan> {
        let ls = self.schema_of(&left);
        let rs = self.schema_of(&right);
        let qualifier = |schema: &Option<PlanSchema>, plan: &LogicalPlan, key: &str| {
            let from_schema = schema.as_ref().and_then(|s| {
                s.fields()
                    .iter()
                    .find(|f| f.name().eq_ignore_ascii_case(key))
                    .and_then(|f| f.qualifier.clone())
            });
            from_schema.or_else(|| plan_qualifier(plan))
        };
        let side_col = |q: Option<String>, key: &str| -> Result<Expr> {
            match q {
                Some(q) => Ok(Expr::UnresolvedColumn(vec![q, key.to_string()])),
                None => Err(unsupported(format!(
                    "USING ({key}) between relations without names; give both sides an alias"
                ))),
            }
        };
        let mut conds = Vec::with_capacity(keys.len());
        let mut key_outputs = Vec::with_capacity(keys.len());
        for k in &keys {
            let l = side_col(qualifier(&ls, &left, k), k)?;
            let r = side_col(qualifier(&rs, &right, k), k)?;
            key_outputs.push(match join_type {
                JoinType::Right => r.clone(),
                JoinType::Full => call("coalesce", vec![l.clone(), r.clone()]).alias(k.clone()),
                _ => l.clone(),
            });
            conds.push(l.eq(r));
        }
        let join_type = if join_type == JoinType::Cross {
            JoinType::Inner
        } else {
            join_type
        };
        let join = LogicalPlan::Join(Join {
            left: Arc::new(left),
            right: Arc::new(right),
            join_type,
            condition: conjunction(conds),
        });
        let (Some(ls), Some(rs)) = (ls, rs) else {
            // Without a session (syntax-only tests) the column lists are unknown: keep the
            // join's own output.
            return Ok(join);
        };
        let is_key = |n: &str| keys.iter().any(|k| k.eq_ignore_ascii_case(n));
        let mut exprs = key_outputs;
        let side_fields = |s: &PlanSchema| -> Vec<Expr> {
            s.fields()
                .iter()
                .filter(|f| !is_key(f.name()))
                .map(|f| {
                    let mut parts: Vec<String> = f.qualifier.iter().cloned().collect();
                    parts.push(f.name().to_string());
                    Expr::UnresolvedColumn(parts)
                })
                .collect()
        };
        exprs.extend(side_fields(&ls));
        if join_type.outputs_right() {
            exprs.extend(side_fields(&rs));
        }
        Ok(LogicalPlan::Projection {
            exprs,
            input: Arc::new(join),
        })
    }

    /// `LATERAL VIEW [OUTER] gen(args) t [AS c1, c2]`: a `Generate` over the FROM clause.
    fn plan_lateral_view(
        &mut self,
        input: LogicalPlan,
        lv: &ast::LateralView,
    ) -> Result<LogicalPlan> {
        let call = self.expr(&lv.lateral_view)?;
        let (kind, outer, args) = match call.unalias() {
            Expr::UnresolvedFunction { name, args, .. } => {
                match engine_core::logical::GeneratorKind::from_name(name) {
                    Some((k, o)) => (k, o, args.clone()),
                    None => {
                        return Err(EngineError::analysis(
                            "UNSUPPORTED_GENERATOR.NOT_GENERATOR",
                            format!(
                                "The generator is not supported: `{name}` is expected to be a generator. However, its class is not a generator. SQLSTATE: 42K0E"
                            ),
                        ));
                    }
                }
            }
            other => {
                return Err(unsupported(format!("LATERAL VIEW over `{other}`")));
            }
        };
        let qualifier = lv
            .lateral_view_name
            .0
            .last()
            .map(|p| p.to_string().trim_matches('`').to_string());
        Ok(LogicalPlan::Generate(engine_core::logical::Generate {
            kind,
            args,
            outer: outer || lv.outer,
            names: lv
                .lateral_col_alias
                .iter()
                .map(|i| i.value.clone())
                .collect(),
            qualifier,
            unrequired_child: vec![],
            input: Arc::new(input),
        }))
    }

    fn plan_from(&mut self, from: &[ast::TableWithJoins]) -> Result<LogicalPlan> {
        let mut plan: Option<LogicalPlan> = None;
        for t in from {
            let next = self.plan_table_with_joins(t)?;
            plan = Some(match plan {
                None => next,
                // `FROM a, b`: an inner join without a condition, as Spark plans it.
                Some(left) => LogicalPlan::Join(Join {
                    left: Arc::new(left),
                    right: Arc::new(next),
                    join_type: JoinType::Inner,
                    condition: None,
                }),
            });
        }
        Ok(plan.unwrap_or_else(one_row_relation))
    }

    fn select_items(&mut self, s: &ast::Select) -> Result<Vec<Item>> {
        let mut items = Vec::with_capacity(s.projection.len());
        for p in &s.projection {
            items.push(match p {
                ast::SelectItem::UnnamedExpr(e) => {
                    let bare = self.expr_with_subqueries(e)?;
                    // Spark's names for a subquery item; the name of an expression holding
                    // one is the translation's (no Spark form known).
                    let name = match e {
                        ast::Expr::Subquery(_) => Some("scalarsubquery()".to_string()),
                        ast::Expr::Exists { negated: false, .. } => Some("exists()".to_string()),
                        _ => spark_name(e, &self.ctx).unwrap_or(None),
                    };
                    // Named before run subqueries become values (`(scalarsubquery() + 1)`).
                    let name = name.unwrap_or_else(|| {
                        // The subquery's column shows bare, as Spark's `scalarsubquery()`.
                        let shown = bare.clone().transform_down(&mut |x| -> Result<Expr> {
                            match &x {
                                Expr::UnresolvedColumn(parts)
                                    if parts.len() == 2
                                        && parts[0].starts_with("__scalar_subquery_") =>
                                {
                                    Ok(Expr::UnresolvedColumn(vec![parts[1].clone()]))
                                }
                                _ => Ok(x),
                            }
                        });
                        shown.map_or_else(|_| bare.output_name(), |e| e.output_name())
                    });
                    let bare = self.with_subquery_values(bare)?;
                    let expr = if name != bare.output_name() {
                        bare.clone().alias(name)
                    } else {
                        bare.clone()
                    };
                    Item {
                        expr,
                        bare,
                        alias: None,
                    }
                }
                ast::SelectItem::ExprWithAlias { expr, alias } => {
                    let bare = self.expr_with_subqueries(expr)?;
                    let bare = self.with_subquery_values(bare)?;
                    Item {
                        expr: bare.clone().alias(alias.value.clone()),
                        bare,
                        alias: Some(alias.value.clone()),
                    }
                }
                ast::SelectItem::Wildcard(opts) => {
                    check_wildcard(opts)?;
                    Item {
                        expr: Expr::Star(None),
                        bare: Expr::Star(None),
                        alias: None,
                    }
                }
                ast::SelectItem::QualifiedWildcard(kind, opts) => {
                    check_wildcard(opts)?;
                    let q = match kind {
                        ast::SelectItemQualifiedWildcardKind::ObjectName(n) => {
                            object_name_parts(n)?
                        }
                        ast::SelectItemQualifiedWildcardKind::Expr(e) => {
                            return Err(unsupported(format!("`{e}.*`")));
                        }
                    };
                    Item {
                        expr: Expr::Star(Some(q.clone())),
                        bare: Expr::Star(Some(q)),
                        alias: None,
                    }
                }
                ast::SelectItem::ExprWithAliases { expr, aliases } => {
                    // `posexplode(a) AS (p, v)`: names for a generator's columns.
                    let bare = self.expr(expr)?;
                    let names: Vec<&str> = aliases.iter().map(|a| a.value.as_str()).collect();
                    Item {
                        expr: engine_core::logical::multi_alias(bare.clone(), &names),
                        bare,
                        alias: None,
                    }
                }
            });
        }
        Ok(items)
    }

    /// A `SELECT` block with its `ORDER BY` (which may use the select list's aliases and the
    /// input's columns).
    fn plan_select(
        &mut self,
        s: &ast::Select,
        order_by: &[ast::OrderByExpr],
    ) -> Result<LogicalPlan> {
        if s.top.is_some()
            || s.into.is_some()
            || s.prewhere.is_some()
            || !s.connect_by.is_empty()
            || s.qualify.is_some()
            || s.value_table_mode.is_some()
            || s.exclude.is_some()
        {
            return Err(unsupported("TOP/INTO/PREWHERE/CONNECT BY/QUALIFY clauses"));
        }
        if !s.cluster_by.is_empty() || !s.distribute_by.is_empty() || !s.sort_by.is_empty() {
            return Err(unsupported("CLUSTER BY/DISTRIBUTE BY/SORT BY"));
        }
        if !s.named_window.is_empty() {
            return Err(unsupported("WINDOW clauses"));
        }
        let distinct = match &s.distinct {
            None | Some(ast::Distinct::All) => false,
            Some(ast::Distinct::Distinct) => true,
            Some(ast::Distinct::On(_)) => return Err(unsupported("DISTINCT ON")),
        };
        // Taken at once, so the FROM clause's and subqueries' own SELECTs never see it.
        let grouping_set = self.grouping_set.take();
        if grouping_set.is_none()
            && let Some(sets) = grouping_sets(&s.group_by)?
        {
            return self.plan_grouping_sets(s, order_by, sets);
        }

        let mut input = self.plan_from(&s.from)?;
        for lv in &s.lateral_views {
            input = self.plan_lateral_view(input, lv)?;
        }
        if let Some(w) = &s.selection {
            input = self.plan_where(input, w)?;
        }
        let mut items = self.select_items(s)?;
        // Scalar subqueries of the select list: their row joined to every input row (each
        // is one row, a global aggregate), their values grouping keys of an aggregate query
        // (one value: the groups stay the same).
        let select_subqueries = std::mem::take(&mut self.scalar_subqueries);
        let mut subquery_keys = Vec::new();
        if !select_subqueries.is_empty() && items.iter().any(Item::is_star) {
            return Err(unsupported(
                "`*` beside a scalar subquery in the select list",
            ));
        }
        for (name, sub) in select_subqueries {
            let column = subquery_output(&sub);
            subquery_keys.push(Expr::UnresolvedColumn(vec![name.clone(), column]));
            input = LogicalPlan::Join(Join {
                left: Arc::new(input),
                right: Arc::new(LogicalPlan::SubqueryAlias {
                    alias: name,
                    input: Arc::new(sub),
                }),
                join_type: JoinType::Inner,
                condition: Some(lit(true)),
            });
        }
        if let Some(set) = &grouping_set {
            for it in &mut items {
                let name = it.name();
                let bare = grouping_set_value(it.bare.clone(), set)?;
                if bare != it.bare {
                    it.expr = bare.clone().alias(name);
                    it.bare = bare;
                }
            }
        }
        let has_star = items.iter().any(Item::is_star);

        // GROUP BY: expressions, ordinals, and select-list aliases that do not name an
        // input column.
        let group_asts: &[ast::Expr] = match &s.group_by {
            ast::GroupByExpr::Expressions(exprs, modifiers) => {
                if !modifiers.is_empty() {
                    return Err(unsupported("GROUP BY ... WITH ROLLUP/CUBE"));
                }
                exprs
            }
            ast::GroupByExpr::All(modifiers) => {
                if !modifiers.is_empty() {
                    return Err(unsupported("GROUP BY ALL ... WITH ROLLUP/CUBE"));
                }
                if has_star {
                    return Err(unsupported("GROUP BY ALL over `*`"));
                }
                &[]
            }
        };
        // GROUP BY ALL (Spark 3.4+): every select item without an aggregate; none is a
        // global aggregation.
        let group_all: Vec<Expr> = if matches!(s.group_by, ast::GroupByExpr::All(_)) {
            items
                .iter()
                .filter(|i| !contains_aggregate(&i.bare))
                .map(|i| i.bare.clone())
                .collect()
        } else {
            vec![]
        };
        let input_schema = if group_asts.is_empty() {
            None
        } else {
            self.schema_of(&input)
        };
        let mut group_exprs = Vec::with_capacity(group_asts.len());
        for g in group_asts {
            if matches!(
                g,
                ast::Expr::GroupingSets(_) | ast::Expr::Cube(_) | ast::Expr::Rollup(_)
            ) {
                return Err(unsupported("GROUPING SETS/CUBE/ROLLUP"));
            }
            let e = self.expr(g)?;
            let e = if let Some(pos) = ordinal(&e) {
                let item = items.get(pos.wrapping_sub(1)).filter(|_| pos >= 1).ok_or_else(|| {
                    EngineError::analysis(
                        "GROUP_BY_POS_OUT_OF_RANGE",
                        format!(
                            "GROUP BY position {pos} is not in select list (valid range is [1, {}]). SQLSTATE: 42805",
                            items.len()
                        ),
                    )
                })?;
                if item.is_star() {
                    return Err(unsupported("GROUP BY ordinals over `*`"));
                }
                if contains_aggregate(&item.bare) {
                    return Err(EngineError::analysis(
                        "GROUP_BY_POS_AGGREGATE",
                        format!(
                            "GROUP BY {pos} refers to an expression {} that contains an aggregate function. Aggregate functions are not allowed in GROUP BY. SQLSTATE: 42903",
                            item.expr
                        ),
                    ));
                }
                item.bare.clone()
            } else if let Expr::UnresolvedColumn(parts) = &e
                && parts.len() == 1
                && let Some(item) = items.iter().find(|i| {
                    i.alias
                        .as_ref()
                        .is_some_and(|a| a.eq_ignore_ascii_case(&parts[0]))
                })
                && input_schema
                    .as_ref()
                    .is_none_or(|s| s.resolve(parts).is_err())
                && !contains_aggregate(&item.bare)
            {
                item.bare.clone()
            } else {
                e
            };
            group_exprs.push(e);
        }
        group_exprs.extend(group_all);

        let having = match &s.having {
            Some(h) if grouping_set.is_some() => {
                let e = self.expr(h)?;
                let set = grouping_set.clone().unwrap_or_default();
                Some(grouping_set_value(e, &set)?)
            }
            None => None,
            Some(h) => {
                // HAVING sees the select list's aliases first, as in Spark.
                let e = self.expr(h)?;
                Some(e.transform_up(&mut |x| -> Result<Expr> {
                    if let Expr::UnresolvedColumn(parts) = &x
                        && parts.len() == 1
                        && let Some(item) = items.iter().find(|i| {
                            i.alias
                                .as_ref()
                                .is_some_and(|a| a.eq_ignore_ascii_case(&parts[0]))
                        })
                    {
                        return Ok(item.bare.clone());
                    }
                    Ok(x)
                })?)
            }
        };

        // ORDER BY keys, classified against the select list.
        let mut keys = Vec::with_capacity(order_by.len());
        for o in order_by {
            keys.push((self.order_key(o, &items, has_star)?, sort_flags(o)?));
        }

        if !subquery_keys.is_empty()
            && (!group_exprs.is_empty()
                || items.iter().any(|i| contains_aggregate(&i.bare))
                || having.as_ref().is_some_and(contains_aggregate))
        {
            group_exprs.extend(subquery_keys);
        }
        let is_aggregate = !group_exprs.is_empty()
            || items.iter().any(|i| contains_aggregate(&i.bare))
            || having.as_ref().is_some_and(contains_aggregate)
            || keys
                .iter()
                .any(|(k, _)| matches!(k, Key::Hidden(e) if contains_aggregate(e)));

        let mut select_exprs: Vec<Expr> = items.iter().map(|i| i.expr.clone()).collect();
        let mut base = input;
        let mut rewrite: Box<dyn Fn(Expr) -> Result<Expr>> = Box::new(Ok);
        if is_aggregate {
            if has_star {
                return Err(unsupported("`*` in an aggregate query"));
            }
            let mut aggs = Vec::new();
            for i in &items {
                collect_aggregates(&i.bare, &mut aggs);
            }
            if let Some(h) = &having {
                collect_aggregates(h, &mut aggs);
            }
            for (k, _) in &keys {
                if let Key::Hidden(e) = k {
                    collect_aggregates(e, &mut aggs);
                }
            }
            let groups = group_exprs.clone();
            let mut quals = Vec::new();
            visible_qualifiers(&base, &mut quals);
            for i in &items {
                if let Some(w) = ungrouped_window_time(&i.bare, &groups) {
                    // Spark finds this in CheckAnalysis, after resolving the FROM clause: an
                    // error there (a watermark on a TIMESTAMP_NTZ column) is reported first.
                    if let Some(session) = self.session {
                        session.analyze(&Arc::new(base.clone()))?;
                    }
                    return Err(engine_core::analyzer::missing_aggregation(&resolved_text(
                        w, &quals,
                    )));
                }
            }
            // Each aggregate's output column: its Spark text, made unique when two different
            // aggregates show the same text (`array_agg(x)` and `collect_list(x)`); the select
            // items are renamed back to Spark's names below.
            let mut agg_names: Vec<(Expr, String)> = Vec::with_capacity(aggs.len());
            for a in &aggs {
                let text = resolved_text(a, &quals);
                let mut name = text.clone();
                let mut n = 1;
                while agg_names
                    .iter()
                    .any(|(_, used)| used.eq_ignore_ascii_case(&name))
                {
                    name = format!("{text}#{n}");
                    n += 1;
                }
                agg_names.push((a.clone(), name));
            }
            let rw_quals = quals.clone();
            let rw_names = agg_names.clone();
            let rw = move |e: Expr| -> Result<Expr> {
                rewrite_aggregate_refs(e, &groups, &rw_quals, &rw_names)
            };
            base = LogicalPlan::Aggregate {
                group_exprs: group_exprs.clone(),
                aggr_exprs: agg_names
                    .iter()
                    .map(|(a, name)| a.clone().alias(name.clone()))
                    .collect(),
                input: Arc::new(base),
            };
            if let Some(h) = having {
                base = LogicalPlan::Filter {
                    predicate: rw(h)?,
                    input: Arc::new(base),
                };
            }
            select_exprs = items
                .iter()
                .map(|i| {
                    let name = match &i.expr {
                        Expr::Alias(_, n) => n.clone(),
                        Expr::UnresolvedColumn(_) => i.name(),
                        other => resolved_text(other, &quals),
                    };
                    let e = rw(i.expr.clone())?;
                    // Keep Spark's name when the rewrite changed how the item displays.
                    Ok(if e.output_name() != name {
                        e.alias(name)
                    } else {
                        e
                    })
                })
                .collect::<Result<_>>()?;
            rewrite = Box::new(rw);
        } else if let Some(h) = having {
            // HAVING without aggregation filters the input, as Spark allows.
            base = LogicalPlan::Filter {
                predicate: h,
                input: Arc::new(base),
            };
        }

        let mut hidden = Vec::new();
        let mut sort_exprs = Vec::with_capacity(keys.len());
        for (i, (key, (asc, nulls_first))) in keys.into_iter().enumerate() {
            let expr = match key {
                Key::Output(e) => e,
                Key::Hidden(e) if !distinct => {
                    let e = rewrite(e)?;
                    let taken = |n: &str| {
                        items.iter().any(|it| it.name().eq_ignore_ascii_case(n))
                            || hidden
                                .iter()
                                .any(|h: &Expr| h.output_name().eq_ignore_ascii_case(n))
                    };
                    match e {
                        // A plain column is carried under its own name, as Spark does,
                        // unless that name is already an output column.
                        Expr::UnresolvedColumn(parts)
                            if !parts.last().is_some_and(|n| taken(n)) =>
                        {
                            hidden.push(Expr::UnresolvedColumn(parts.clone()));
                            Expr::UnresolvedColumn(parts)
                        }
                        other => {
                            let name = format!("__sort_{i}");
                            hidden.push(other.alias(name.clone()));
                            Expr::UnresolvedColumn(vec![name])
                        }
                    }
                }
                Key::Hidden(e) => e,
            };
            sort_exprs.push(SortExpr {
                expr,
                asc,
                nulls_first,
            });
        }

        // With hidden sort columns, the outer projection selects the items by name: items
        // sharing a name (`SELECT x + 1, x + 1 ... ORDER BY x`, fine in Spark) are carried
        // under a name of their own and renamed back there.
        let shared = |i: usize| {
            let n = items[i].name();
            items
                .iter()
                .filter(|it| it.name().eq_ignore_ascii_case(&n))
                .count()
                > 1
        };
        let carried = |i: usize| format!("__item_{i}");
        let mut projected: Vec<Expr> = select_exprs
            .iter()
            .enumerate()
            .map(|(i, e)| match e {
                _ if hidden.is_empty() || !shared(i) => e.clone(),
                Expr::Alias(inner, _) => Expr::Alias(inner.clone(), carried(i)),
                other => other.clone().alias(carried(i)),
            })
            .collect();
        projected.extend(hidden.iter().cloned());
        let mut plan = LogicalPlan::Projection {
            exprs: projected,
            input: Arc::new(base),
        };
        if distinct {
            plan = LogicalPlan::Distinct {
                input: Arc::new(plan),
            };
        }
        if !sort_exprs.is_empty() {
            plan = LogicalPlan::Sort {
                exprs: sort_exprs,
                input: Arc::new(plan),
            };
        }
        if !hidden.is_empty() {
            // Dropping the hidden sort columns: each item is selected from the projection's
            // output by the name it has there. A qualified `p.id` names a struct field of
            // `p` or column `id` of table `p`; either way the output column is `id`, so a
            // name that is unique among the outputs is used bare (`p.id` itself would not
            // resolve when `p` is a struct column).
            let mut names: Vec<String> = items.iter().map(Item::name).collect();
            names.extend(hidden.iter().map(Expr::output_name));
            let unique = |n: &str| names.iter().filter(|m| m.eq_ignore_ascii_case(n)).count() == 1;
            plan = LogicalPlan::Projection {
                exprs: items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| match &item.expr {
                        _ if shared(i) => {
                            Expr::UnresolvedColumn(vec![carried(i)]).alias(item.name())
                        }
                        Expr::UnresolvedColumn(parts)
                            if parts.len() > 1 && unique(&item.name()) =>
                        {
                            Expr::UnresolvedColumn(vec![item.name()])
                        }
                        _ => item.reference(),
                    })
                    .collect(),
                input: Arc::new(plan),
            };
        }
        Ok(plan)
    }

    /// `WHERE`: a filter, except that top-level `x [NOT] IN (SELECT ...)` conjuncts become
    /// semi (anti) joins, as Spark's `RewritePredicateSubquery` plans them. `NOT IN` is
    /// null-aware: a row is dropped when the comparison is true or unknown.
    fn plan_where(&mut self, input: LogicalPlan, w: &ast::Expr) -> Result<LogicalPlan> {
        let mut conjuncts = Vec::new();
        split_ast_conjuncts(w, &mut conjuncts);
        let mut filters = Vec::new();
        let mut subqueries = Vec::new();
        let mut with_values = Vec::new();
        for c in conjuncts {
            match c {
                ast::Expr::InSubquery {
                    expr,
                    subquery,
                    negated,
                } => subqueries.push((expr, subquery, *negated)),
                other => {
                    let e = self.expr_with_subqueries(other)?;
                    let e = self.with_subquery_values(e)?;
                    let subs = std::mem::take(&mut self.scalar_subqueries);
                    if subs.is_empty() {
                        filters.push(e);
                    } else {
                        with_values.push((e, subs));
                    }
                }
            }
        }
        let mut plan = input;
        if let Some(predicate) = conjunction(filters) {
            plan = LogicalPlan::Filter {
                predicate,
                input: Arc::new(plan),
            };
        }
        // A condition on scalar subqueries (each one row, a global aggregate) keeps the
        // rows it holds for: a semi join with the subqueries' row on the condition, so their
        // columns never join the query's own.
        for (condition, subs) in with_values {
            let mut right: Option<LogicalPlan> = None;
            for (name, sub) in subs {
                let aliased = LogicalPlan::SubqueryAlias {
                    alias: name,
                    input: Arc::new(sub),
                };
                right = Some(match right {
                    None => aliased,
                    Some(r) => LogicalPlan::Join(Join {
                        left: Arc::new(r),
                        right: Arc::new(aliased),
                        join_type: JoinType::Inner,
                        condition: Some(lit(true)),
                    }),
                });
            }
            if let Some(right) = right {
                plan = LogicalPlan::Join(Join {
                    left: Arc::new(plan),
                    right: Arc::new(right),
                    join_type: JoinType::LeftSemi,
                    condition: Some(condition),
                });
            }
        }
        for (i, (expr, subquery, negated)) in subqueries.into_iter().enumerate() {
            let sub = self.plan_query(subquery)?;
            let names = self.output_names(&sub)?;
            let [name] = names.as_slice() else {
                return Err(EngineError::analysis(
                    "DATATYPE_MISMATCH.IN_SUBQUERY_LENGTH_MISMATCH",
                    format!(
                        "Cannot resolve \"{expr} IN (listquery())\" due to data type mismatch: The number of columns in the left hand side of an IN subquery does not match the number of columns in the output of subquery. Left hand side columns(length: 1), right hand side columns(length: {}). SQLSTATE: 42K09",
                        names.len()
                    ),
                ));
            };
            // The subquery's column gets a private name, so the outer value's columns cannot
            // resolve against it by accident (`dept IN (SELECT dept ...)`).
            let alias = format!("__in_subquery_{i}");
            let column = format!("__in_value_{i}");
            let sub = LogicalPlan::Projection {
                exprs: vec![Expr::UnresolvedColumn(vec![name.clone()]).alias(column.clone())],
                input: Arc::new(sub),
            };
            let value = self.expr(expr)?;
            let eq = value.eq(Expr::UnresolvedColumn(vec![alias.clone(), column]));
            let (join_type, condition) = if negated {
                (JoinType::LeftAnti, eq.clone().or(eq.is_null()))
            } else {
                (JoinType::LeftSemi, eq)
            };
            plan = LogicalPlan::Join(Join {
                left: Arc::new(plan),
                right: Arc::new(LogicalPlan::SubqueryAlias {
                    alias,
                    input: Arc::new(sub),
                }),
                join_type,
                condition: Some(condition),
            });
        }
        Ok(plan)
    }

    /// ROLLUP / CUBE / GROUPING SETS: the query once per grouping set (grouping expressions
    /// outside the set read as NULL, `grouping(..)`/`grouping_id()` as the set's bits, an
    /// empty set grouped by a constant so an empty input gives no row, as Spark's Expand +
    /// Aggregate gives none), the results appended, then ordered.
    fn plan_grouping_sets(
        &mut self,
        s: &ast::Select,
        order_by: &[ast::OrderByExpr],
        sets: (Vec<ast::Expr>, Vec<Vec<ast::Expr>>),
    ) -> Result<LogicalPlan> {
        let (all, sets) = sets;
        let all_exprs: Vec<Expr> = all.iter().map(|e| self.expr(e)).collect::<Result<_>>()?;
        let mut branches = Vec::with_capacity(sets.len());
        for set in &sets {
            let mut branch = s.clone();
            let keys = if set.is_empty() {
                vec![ast::Expr::value(ast::Value::SingleQuotedString(
                    String::new(),
                ))]
            } else {
                set.clone()
            };
            branch.group_by = ast::GroupByExpr::Expressions(keys, vec![]);
            self.grouping_set = Some(
                all.iter()
                    .zip(&all_exprs)
                    .map(|(a, e)| (e.clone(), set.contains(a)))
                    .collect(),
            );
            // plan_select takes the set back at once.
            branches.push(Arc::new(self.plan_select(&branch, &[])?));
        }
        let plan = LogicalPlan::Union { inputs: branches };
        if order_by.is_empty() {
            Ok(plan)
        } else {
            self.sort_over_output(plan, order_by)
        }
    }

    /// How one `ORDER BY` key reaches its value.
    fn order_key(&self, o: &ast::OrderByExpr, items: &[Item], has_star: bool) -> Result<Key> {
        if o.with_fill.is_some() {
            return Err(unsupported("ORDER BY ... WITH FILL"));
        }
        let e = self.expr(&o.expr)?;
        if let Some(pos) = ordinal(&e) {
            let item = items.get(pos.wrapping_sub(1)).filter(|_| pos >= 1).ok_or_else(|| {
                EngineError::analysis(
                    "ORDER_BY_POS_OUT_OF_RANGE",
                    format!(
                        "ORDER BY position {pos} is not in select list (valid range is [1, {}]). SQLSTATE: 42805",
                        items.len()
                    ),
                )
            })?;
            if item.is_star() {
                return Err(unsupported("ORDER BY ordinals over `*`"));
            }
            return Ok(Key::Output(item.reference()));
        }
        // An alias or output name of the select list.
        if let Expr::UnresolvedColumn(parts) = &e
            && parts.len() == 1
        {
            let named: Vec<&Item> = items
                .iter()
                .filter(|i| {
                    i.alias
                        .as_ref()
                        .is_some_and(|a| a.eq_ignore_ascii_case(&parts[0]))
                })
                .collect();
            match named.as_slice() {
                [item] => return Ok(Key::Output(item.reference())),
                [] => {}
                // Spark cannot tell two aliases of one name apart here either.
                several => {
                    let names: Vec<String> =
                        several.iter().map(|i| format!("`{}`", i.name())).collect();
                    return Err(EngineError::analysis(
                        "UNRESOLVED_COLUMN.WITH_SUGGESTION",
                        format!(
                            "A column, variable, or function parameter with name `{}` cannot \
                             be resolved. Did you mean one of the following? [{}]. SQLSTATE: 42703",
                            parts[0],
                            names.join(", ")
                        ),
                    ));
                }
            }
        }
        // The same expression as a select item, when the item's output name is its own
        // (`SELECT x AS a, x + 1 AS a ... ORDER BY x` sorts by `x` itself, as in Spark).
        if let Some(item) = items.iter().find(|i| i.bare == e) {
            let name = item.name();
            let shared = items
                .iter()
                .filter(|i| i.name().eq_ignore_ascii_case(&name))
                .count()
                > 1;
            if !shared {
                return Ok(Key::Output(item.reference()));
            }
            return Ok(Key::Hidden(e));
        }
        // Every column it uses is an output column: evaluate it over the output.
        if !contains_aggregate(&e) && resolvable_over(&e, items, has_star) {
            return Ok(Key::Output(e));
        }
        Ok(Key::Hidden(e))
    }

    /// `ORDER BY` over a set operation or `VALUES`: keys name output columns.
    fn sort_over_output(
        &self,
        plan: LogicalPlan,
        order_by: &[ast::OrderByExpr],
    ) -> Result<LogicalPlan> {
        let mut exprs = Vec::with_capacity(order_by.len());
        for o in order_by {
            let e = self.expr(&o.expr)?;
            let e = match ordinal(&e) {
                Some(pos) => {
                    let names = self.output_names(&plan)?;
                    let name = names.get(pos.wrapping_sub(1)).filter(|_| pos >= 1).ok_or_else(|| {
                        EngineError::analysis(
                            "ORDER_BY_POS_OUT_OF_RANGE",
                            format!(
                                "ORDER BY position {pos} is not in select list (valid range is [1, {}]). SQLSTATE: 42805",
                                names.len()
                            ),
                        )
                    })?;
                    Expr::UnresolvedColumn(vec![name.clone()])
                }
                None => e,
            };
            let (asc, nulls_first) = sort_flags(o)?;
            exprs.push(SortExpr {
                expr: e,
                asc,
                nulls_first,
            });
        }
        Ok(LogicalPlan::Sort {
            exprs,
            input: Arc::new(plan),
        })
    }
}

/// `a AND (b AND c)` as `[a, b, c]`, looking through parentheses.
fn split_ast_conjuncts<'e>(e: &'e ast::Expr, out: &mut Vec<&'e ast::Expr>) {
    match e {
        ast::Expr::BinaryOp {
            left,
            op: ast::BinaryOperator::And,
            right,
        } => {
            split_ast_conjuncts(left, out);
            split_ast_conjuncts(right, out);
        }
        ast::Expr::Nested(inner) => split_ast_conjuncts(inner, out),
        other => out.push(other),
    }
}

/// Where an `ORDER BY` key is evaluated.
#[derive(Debug)]
enum Key {
    /// Over the select list's output.
    Output(Expr),
    /// Over the select list's input (after aggregation): projected as a hidden column.
    Hidden(Expr),
}

fn check_wildcard(opts: &ast::WildcardAdditionalOptions) -> Result<()> {
    if opts.opt_ilike.is_some()
        || opts.opt_exclude.is_some()
        || opts.opt_except.is_some()
        || opts.opt_replace.is_some()
        || opts.opt_rename.is_some()
        || opts.opt_alias.is_some()
    {
        return Err(unsupported("`* EXCEPT/REPLACE/...`"));
    }
    Ok(())
}

fn sort_flags(o: &ast::OrderByExpr) -> Result<(bool, bool)> {
    let asc = match &o.options.sort {
        None | Some(ast::OrderBySort::Asc) => true,
        Some(ast::OrderBySort::Desc) => false,
        Some(ast::OrderBySort::Using(_)) => return Err(unsupported("ORDER BY ... USING")),
    };
    // Spark: NULLs first when ascending, last when descending, unless stated.
    Ok((asc, o.options.nulls_first.unwrap_or(asc)))
}

/// An integer literal in `GROUP BY`/`ORDER BY`: a 1-based select-list position.
fn ordinal(e: &Expr) -> Option<usize> {
    match e {
        Expr::Literal(engine_core::scalar::ScalarValue::Int32(Some(n))) => Some(*n as usize),
        Expr::Literal(engine_core::scalar::ScalarValue::Int64(Some(n))) => Some(*n as usize),
        _ => None,
    }
}

/// True if every column `e` uses is produced by the select list.
fn resolvable_over(e: &Expr, items: &[Item], has_star: bool) -> bool {
    let eq_parts = |a: &[String], b: &[String]| {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
    };
    let produced = |parts: &[String]| {
        has_star
            || items.iter().any(|i| {
                let by_name = parts.len() == 1 && i.name().eq_ignore_ascii_case(&parts[0]);
                match &i.expr {
                    Expr::UnresolvedColumn(p) => eq_parts(p, parts) || by_name,
                    _ => by_name,
                }
            })
    };
    !e.any(&|x| matches!(x, Expr::UnresolvedColumn(parts) if !produced(parts)))
}

/// Replaces aggregate calls with the Aggregate's output columns (named by their text) and
/// non-column grouping expressions with their output columns.
fn rewrite_aggregate_refs(
    e: Expr,
    groups: &[Expr],
    qualifiers: &[String],
    agg_names: &[(Expr, String)],
) -> Result<Expr> {
    e.transform_down(&mut |x| -> Result<Expr> {
        if is_aggregate_call(&x) {
            let name = agg_names
                .iter()
                .find(|(a, _)| *a == x)
                .map_or_else(|| resolved_text(&x, qualifiers), |(_, n)| n.clone());
            return Ok(Expr::UnresolvedColumn(vec![name]));
        }
        // A grouped struct field (`o.a`, `user.country`; not `t.a` of a relation `t`): the
        // aggregate outputs it under its field name alone, so `o.a` no longer resolves above.
        if let Expr::UnresolvedColumn(parts) = &x
            && parts.len() > 1
            && !qualifiers.iter().any(|q| q.eq_ignore_ascii_case(&parts[0]))
            && groups.contains(&x)
        {
            return Ok(Expr::UnresolvedColumn(vec![x.output_name()]));
        }
        if !matches!(
            x,
            Expr::UnresolvedColumn(_) | Expr::Literal(_) | Expr::Alias(..)
        ) && groups.contains(&x)
        {
            return Ok(Expr::UnresolvedColumn(vec![resolved_text(&x, qualifiers)]));
        }
        Ok(x)
    })
}

/// A `window_time(..)` call in an aggregate's output that is neither aggregated nor a
/// grouping key. Spark computes `window_time` in a projection below the operator that holds
/// it (`ResolveWindowTime`), so there it becomes an ungrouped column of the aggregate's input:
/// `SELECT window_time(window), count(*) .. GROUP BY window(ts, ..)` is MISSING_AGGREGATION
/// in Spark, whose programming guide computes it in a query over the aggregate's output.
fn ungrouped_window_time<'e>(e: &'e Expr, groups: &[Expr]) -> Option<&'e Expr> {
    if is_aggregate_call(e) || groups.contains(e) {
        return None;
    }
    if let Expr::UnresolvedFunction { name, .. } = e
        && name.eq_ignore_ascii_case("window_time")
    {
        return Some(e);
    }
    e.children()
        .into_iter()
        .find_map(|c| ungrouped_window_time(c, groups))
}

/// The parts of a (possibly qualified) name written as an expression: `t`, `db.t`.
fn name_parts(e: &ast::Expr) -> Option<Vec<String>> {
    match e {
        ast::Expr::Identifier(i) => Some(vec![i.value.clone()]),
        ast::Expr::CompoundIdentifier(p) => Some(p.iter().map(|i| i.value.clone()).collect()),
        _ => None,
    }
}

/// The relation names visible in a FROM plan (aliases, table names), for naming.
fn visible_qualifiers(plan: &LogicalPlan, out: &mut Vec<String>) {
    match plan {
        LogicalPlan::SubqueryAlias { alias, .. } => out.push(alias.clone()),
        LogicalPlan::UnresolvedRelation(parts) => out.extend(parts.last().cloned()),
        other => {
            for i in other.inputs() {
                visible_qualifiers(i, out);
            }
        }
    }
}

/// The text Spark shows for `e` once resolved: relation qualifiers dropped (`t.a` is `a`).
fn resolved_text(e: &Expr, qualifiers: &[String]) -> String {
    let e = engine_core::analyzer::resolved_text(e.clone());
    let stripped = e.clone().transform_up(&mut |x| -> Result<Expr> {
        Ok(match x {
            Expr::UnresolvedColumn(parts)
                if parts.len() > 1
                    && qualifiers.iter().any(|q| q.eq_ignore_ascii_case(&parts[0])) =>
            {
                Expr::UnresolvedColumn(parts[1..].to_vec())
            }
            other => other,
        })
    });
    match stripped {
        Ok(Expr::UnresolvedColumn(parts)) if parts.len() > 1 => parts.join("."),
        // A window call's column is `window` / `session_window`, whatever its arguments.
        Ok(x @ Expr::UnresolvedFunction { .. }) => x.output_name(),
        Ok(x) => x.to_string(),
        Err(_) => e.to_string(),
    }
}

/// The relation name a plan's columns carry, judged from its shape.
fn plan_qualifier(plan: &LogicalPlan) -> Option<String> {
    match plan {
        LogicalPlan::SubqueryAlias { alias, .. } => Some(alias.clone()),
        LogicalPlan::UnresolvedRelation(parts) => parts.last().cloned(),
        _ => None,
    }
}

/// The grouping sets of a GROUP BY with ROLLUP, CUBE or GROUPING SETS (plain expressions
/// belong to every set; several such clauses combine as Spark combines them, every set of
/// one with every set of the next), with every grouping expression in first-seen order;
/// `None` for a plain GROUP BY.
#[allow(clippy::type_complexity)]
fn grouping_sets(g: &ast::GroupByExpr) -> Result<Option<(Vec<ast::Expr>, Vec<Vec<ast::Expr>>)>> {
    let ast::GroupByExpr::Expressions(exprs, _) = g else {
        return Ok(None);
    };
    if !exprs.iter().any(|e| {
        matches!(
            e,
            ast::Expr::Rollup(_) | ast::Expr::Cube(_) | ast::Expr::GroupingSets(_)
        )
    }) {
        return Ok(None);
    }
    let mut all: Vec<ast::Expr> = Vec::new();
    let note = |e: &ast::Expr, all: &mut Vec<ast::Expr>| {
        if !all.contains(e) {
            all.push(e.clone());
        }
    };
    let mut sets: Vec<Vec<ast::Expr>> = vec![vec![]];
    for e in exprs {
        let options: Vec<Vec<ast::Expr>> = match e {
            // ROLLUP(a, b): (a, b), (a), ().
            ast::Expr::Rollup(lists) => (0..=lists.len())
                .rev()
                .map(|i| lists.iter().take(i).flatten().cloned().collect())
                .collect(),
            ast::Expr::Cube(lists) => {
                let n = lists.len();
                if n > 12 {
                    return Err(unsupported("CUBE over more than 12 expressions"));
                }
                // Spark's order: the full set first, then subsets dropping later columns.
                (0..(1usize << n))
                    .rev()
                    .map(|mask| {
                        lists
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| mask & (1 << (n - 1 - i)) != 0)
                            .flat_map(|(_, l)| l.iter().cloned())
                            .collect()
                    })
                    .collect()
            }
            ast::Expr::GroupingSets(lists) => lists.clone(),
            plain => vec![vec![plain.clone()]],
        };
        for o in &options {
            for x in o {
                note(x, &mut all);
            }
        }
        sets = sets
            .iter()
            .flat_map(|s| {
                options.iter().map(move |o| {
                    let mut v = s.clone();
                    for x in o {
                        if !v.contains(x) {
                            v.push(x.clone());
                        }
                    }
                    v
                })
            })
            .collect();
    }
    Ok(Some((all, sets)))
}

/// `e` as one grouping set sees it: grouping expressions outside the set are NULL (but not
/// inside an aggregate, which still aggregates their values), `grouping(x)` is 1 for an
/// `x` outside the set, `grouping_id()` the bits of all grouping expressions, first the
/// most significant.
fn grouping_set_value(e: Expr, set: &[(Expr, bool)]) -> Result<Expr> {
    if is_aggregate_call(&e) {
        return Ok(e);
    }
    if let Expr::UnresolvedFunction { name, args, .. } = &e {
        match (name.to_ascii_lowercase().as_str(), args.as_slice()) {
            ("grouping", [x]) => {
                let Some((_, grouped)) = set.iter().find(|(g, _)| g == x) else {
                    return Err(EngineError::analysis(
                        "GROUPING_COLUMN_MISMATCH",
                        format!(
                            "Column of grouping ({x}) can't be found in grouping columns. SQLSTATE: 42803"
                        ),
                    ));
                };
                return Ok(Expr::Literal(engine_core::scalar::ScalarValue::Int8(Some(
                    i8::from(!grouped),
                ))));
            }
            ("grouping_id", []) => {
                let id = set
                    .iter()
                    .fold(0i64, |acc, (_, grouped)| (acc << 1) | i64::from(!grouped));
                return Ok(Expr::Literal(engine_core::scalar::ScalarValue::Int64(
                    Some(id),
                )));
            }
            _ => {}
        }
    }
    if let Some((_, false)) = set.iter().find(|(g, _)| *g == e) {
        return Ok(Expr::Literal(engine_core::scalar::ScalarValue::Null));
    }
    e.map_children(|c| grouping_set_value(c, set))
}

/// The column a scalar subquery's value is read from: named as Spark names the value.
const SCALAR_SUBQUERY: &str = "scalarsubquery()";
/// The column an EXISTS subquery's answer is read from.
const EXISTS_SUBQUERY: &str = "exists()";

/// The value column of a planned subquery relation.
fn subquery_output(sub: &LogicalPlan) -> String {
    match sub {
        LogicalPlan::Aggregate { .. } => EXISTS_SUBQUERY.to_string(),
        _ => SCALAR_SUBQUERY.to_string(),
    }
}

/// Spark's error for a scalar subquery of `n` columns.
fn scalar_subquery_columns(n: usize) -> EngineError {
    EngineError::analysis(
        "INVALID_SUBQUERY_EXPRESSION.SCALAR_SUBQUERY_RETURN_MORE_THAN_ONE_OUTPUT_COLUMN",
        format!(
            "Invalid subquery: Scalar subquery can only return one column, but got {n}. SQLSTATE: 42823"
        ),
    )
}

/// How a subquery in an expression is read.
#[derive(Debug, Clone, Copy)]
enum SubqueryKind {
    /// `(SELECT ...)`: its one value.
    Scalar,
    /// `EXISTS (SELECT ...)`: whether it has a row.
    Exists,
}

/// Replaces scalar subqueries and EXISTS in `e` (through the common expression shapes) by
/// the column each will be read from, collecting them.
fn replace_subqueries(
    e: &mut ast::Expr,
    found: &mut Vec<(String, ast::Query, SubqueryKind)>,
    count: &mut usize,
) {
    use ast::Expr as A;
    let mut take = |q: &ast::Query, kind: SubqueryKind, found: &mut Vec<_>| {
        let name = format!("__scalar_subquery_{}", *count);
        *count += 1;
        found.push((name.clone(), q.clone(), kind));
        let column = match kind {
            SubqueryKind::Scalar => SCALAR_SUBQUERY,
            SubqueryKind::Exists => EXISTS_SUBQUERY,
        };
        A::CompoundIdentifier(vec![ast::Ident::new(name), ast::Ident::new(column)])
    };
    match e {
        A::Subquery(q) => {
            let col = take(q, SubqueryKind::Scalar, found);
            *e = col;
        }
        A::Exists { subquery, negated } => {
            let col = take(subquery, SubqueryKind::Exists, found);
            *e = if *negated {
                A::UnaryOp {
                    op: ast::UnaryOperator::Not,
                    expr: Box::new(col),
                }
            } else {
                col
            };
        }
        A::BinaryOp { left, right, .. } => {
            replace_subqueries(left, found, count);
            replace_subqueries(right, found, count);
        }
        A::UnaryOp { expr, .. }
        | A::Nested(expr)
        | A::IsNull(expr)
        | A::IsNotNull(expr)
        | A::IsTrue(expr)
        | A::IsFalse(expr)
        | A::Cast { expr, .. } => replace_subqueries(expr, found, count),
        A::Between {
            expr, low, high, ..
        } => {
            replace_subqueries(expr, found, count);
            replace_subqueries(low, found, count);
            replace_subqueries(high, found, count);
        }
        A::InList { expr, list, .. } => {
            replace_subqueries(expr, found, count);
            for x in list {
                replace_subqueries(x, found, count);
            }
        }
        A::Function(f) => {
            if let ast::FunctionArguments::List(l) = &mut f.args {
                for a in &mut l.args {
                    if let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) = a {
                        replace_subqueries(x, found, count);
                    }
                }
            }
        }
        A::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            if let Some(o) = operand {
                replace_subqueries(o, found, count);
            }
            for w in conditions {
                replace_subqueries(&mut w.condition, found, count);
                replace_subqueries(&mut w.result, found, count);
            }
            if let Some(x) = else_result {
                replace_subqueries(x, found, count);
            }
        }
        _ => {}
    }
}

/// Whether `plan` gives exactly one row whatever its input: a global aggregate (under
/// projections, aliases and sorts; not under HAVING, which may drop it).
fn returns_one_row(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Aggregate { group_exprs, .. } => group_exprs.is_empty(),
        LogicalPlan::Projection { input, .. }
        | LogicalPlan::SubqueryAlias { input, .. }
        | LogicalPlan::Sort { input, .. } => returns_one_row(input),
        _ => false,
    }
}

/// The last name part of every column `e` reads.
fn collect_column_names(e: &Expr, out: &mut Vec<String>) {
    if let Expr::UnresolvedColumn(parts) = e
        && let Some(last) = parts.last()
    {
        out.push(last.clone());
    }
    for c in e.children() {
        collect_column_names(c, out);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn plan(sql: &str) -> String {
        let q = super::super::parser::parse_query(sql).unwrap();
        SqlPlanner::new(ExprContext::default())
            .plan_query(&q)
            .unwrap()
            .display_tree()
    }

    fn plan_err(sql: &str) -> String {
        let q = super::super::parser::parse_query(sql).unwrap();
        SqlPlanner::new(ExprContext::default())
            .plan_query(&q)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn plans_look_like_spark_parsed_plans() {
        let cases: Vec<(&str, &str)> = vec![
            (
                "SELECT a, b + 1 AS c FROM t WHERE a > 1",
                "'Project ['a, (b + 1) AS c]\n+- 'Filter (a > 1)\n   +- 'UnresolvedRelation [t], [], false",
            ),
            (
                "SELECT DISTINCT t.* FROM db.t AS x",
                "Distinct\n+- 'Project [t.*]\n   +- SubqueryAlias x\n      +- 'UnresolvedRelation [db, t], [], false",
            ),
            ("SELECT 1", "Project [1]\n+- Relation [] OneRowRelation"),
            (
                "SELECT k, count(*) AS c, sum(v) + 1 FROM t GROUP BY k HAVING c > 1 ORDER BY c DESC, k",
                "Sort [c DESC NULLS LAST, k ASC NULLS FIRST], true\n+- 'Project ['k, count(1) AS c, (sum(v) + 1)]\n   +- 'Filter (count(1) > 1)\n      +- 'Aggregate ['k], ['k, count(1) AS count(1), sum(v) AS sum(v)]\n         +- 'UnresolvedRelation [t], [], false",
            ),
            (
                "SELECT t.k + 1, sum(t.v) + 1, avg(s.f) FROM t GROUP BY t.k + 1",
                "'Project ['(k + 1), (sum(v) + 1), 'avg(s.f)]\n+- 'Aggregate [(t.k + 1)], [(t.k + 1), sum(t.v) AS sum(v), avg(s.f) AS avg(s.f)]\n   +- 'UnresolvedRelation [t], [], false",
            ),
            (
                "SELECT k + 1 AS x, count(*) FROM t GROUP BY x ORDER BY 1",
                "Sort [x ASC NULLS FIRST], true\n+- 'Project [(k + 1) AS x, 'count(1)]\n   +- 'Aggregate [(k + 1)], [(k + 1), count(1) AS count(1)]\n      +- 'UnresolvedRelation [t], [], false",
            ),
            (
                "SELECT k, count(*) FROM t GROUP BY 1 ORDER BY count(*) DESC NULLS FIRST LIMIT 3",
                "GlobalLimit 3\n+- Sort [count(1) DESC NULLS FIRST], true\n   +- 'Project ['k, 'count(1)]\n      +- 'Aggregate ['k], ['k, count(1) AS count(1)]\n         +- 'UnresolvedRelation [t], [], false",
            ),
            (
                "SELECT a FROM t ORDER BY b",
                "'Project ['a]\n+- Sort [b ASC NULLS FIRST], true\n   +- 'Project ['a, 'b]\n      +- 'UnresolvedRelation [t], [], false",
            ),
            (
                "SELECT a AS x FROM t ORDER BY x, a + 1",
                "'Project ['x]\n+- Sort [x ASC NULLS FIRST, __sort_1 ASC NULLS FIRST], true\n   +- 'Project [a AS x, (a + 1) AS __sort_1]\n      +- 'UnresolvedRelation [t], [], false",
            ),
            (
                "SELECT * FROM t ORDER BY a",
                "Sort [a ASC NULLS FIRST], true\n+- 'Project [*]\n   +- 'UnresolvedRelation [t], [], false",
            ),
            (
                "SELECT count(*) FROM t",
                "'Project ['count(1)]\n+- 'Aggregate [], [count(1) AS count(1)]\n   +- 'UnresolvedRelation [t], [], false",
            ),
            (
                "SELECT max(a) FROM t ORDER BY min(b)",
                "'Project ['max(a)]\n+- Sort [min(b) ASC NULLS FIRST], true\n   +- 'Project ['max(a), 'min(b)]\n      +- 'Aggregate [], [max(a) AS max(a), min(b) AS min(b)]\n         +- 'UnresolvedRelation [t], [], false",
            ),
            (
                "SELECT a FROM t UNION SELECT b FROM u UNION ALL SELECT c FROM v ORDER BY 1 LIMIT 1",
                "GlobalLimit 1\n+- Sort [a ASC NULLS FIRST], true\n   +- Union false, false\n      :- Distinct\n      :  +- Union false, false\n      :     :- 'Project ['a]\n      :     :  +- 'UnresolvedRelation [t], [], false\n      :     +- 'Project ['b]\n      :        +- 'UnresolvedRelation [u], [], false\n      +- 'Project ['c]\n         +- 'UnresolvedRelation [v], [], false",
            ),
            (
                "SELECT a FROM t UNION ALL SELECT b FROM u UNION ALL SELECT c FROM v",
                "Union false, false\n:- 'Project ['a]\n:  +- 'UnresolvedRelation [t], [], false\n:- 'Project ['b]\n:  +- 'UnresolvedRelation [u], [], false\n+- 'Project ['c]\n   +- 'UnresolvedRelation [v], [], false",
            ),
            (
                "WITH x AS (SELECT 1 AS a), y AS (SELECT a FROM x) SELECT * FROM y JOIN x ON y.a = x.a",
                "'Project [*]\n+- Join Inner, (y.a = x.a)\n   :- SubqueryAlias y\n   :  +- 'Project ['a]\n   :     +- SubqueryAlias x\n   :        +- Project [1 AS a]\n   :           +- Relation [] OneRowRelation\n   +- SubqueryAlias x\n      +- Project [1 AS a]\n         +- Relation [] OneRowRelation",
            ),
            (
                "WITH x(c) AS (SELECT 1) SELECT c FROM x",
                "'Project ['c]\n+- SubqueryAlias x\n   +- 'Project [1 AS c]\n      +- Project [1]\n         +- Relation [] OneRowRelation",
            ),
            (
                "SELECT * FROM VALUES (1, 'a'), (2, 'b') AS v(x, y)",
                "'Project [*]\n+- SubqueryAlias v\n   +- 'Project [col1 AS x, col2 AS y]\n      +- Union false, false\n         :- Project [1 AS col1, a AS col2]\n         :  +- Relation [] OneRowRelation\n         +- Project [2 AS col1, b AS col2]\n            +- Relation [] OneRowRelation",
            ),
            (
                "VALUES (1), (2)",
                "Union false, false\n:- Project [1 AS col1]\n:  +- Relation [] OneRowRelation\n+- Project [2 AS col1]\n   +- Relation [] OneRowRelation",
            ),
            (
                "SELECT * FROM a LEFT JOIN b ON a.k = b.k LEFT SEMI JOIN c ON a.k = c.k CROSS JOIN d",
                "'Project [*]\n+- Join Cross\n   :- Join LeftSemi, (a.k = c.k)\n   :  :- Join LeftOuter, (a.k = b.k)\n   :  :  :- 'UnresolvedRelation [a], [], false\n   :  :  +- 'UnresolvedRelation [b], [], false\n   :  +- 'UnresolvedRelation [c], [], false\n   +- 'UnresolvedRelation [d], [], false",
            ),
            (
                "SELECT a, b FROM t EXCEPT SELECT c, d FROM u",
                "Distinct\n+- Join LeftAnti, ((__setop_left.a <=> __setop_right.c) AND (__setop_left.b <=> __setop_right.d))\n   :- SubqueryAlias __setop_left\n   :  +- 'Project ['a, 'b]\n   :     +- 'UnresolvedRelation [t], [], false\n   +- SubqueryAlias __setop_right\n      +- 'Project ['c, 'd]\n         +- 'UnresolvedRelation [u], [], false",
            ),
            (
                "SELECT a FROM t WHERE a > 1 AND b IN (SELECT c FROM u) AND (d NOT IN (SELECT e FROM v))",
                "'Project ['a]\n+- Join LeftAnti, ((d = __in_subquery_1.__in_value_1) OR ((d = __in_subquery_1.__in_value_1) IS NULL))\n   :- Join LeftSemi, (b = __in_subquery_0.__in_value_0)\n   :  :- 'Filter (a > 1)\n   :  :  +- 'UnresolvedRelation [t], [], false\n   :  +- SubqueryAlias __in_subquery_0\n   :     +- 'Project [c AS __in_value_0]\n   :        +- 'Project ['c]\n   :           +- 'UnresolvedRelation [u], [], false\n   +- SubqueryAlias __in_subquery_1\n      +- 'Project [e AS __in_value_1]\n         +- 'Project ['e]\n            +- 'UnresolvedRelation [v], [], false",
            ),
            (
                "SELECT * FROM a JOIN b USING (k)",
                "'Project [*]\n+- Join Inner, (a.k = b.k)\n   :- 'UnresolvedRelation [a], [], false\n   +- 'UnresolvedRelation [b], [], false",
            ),
            (
                "SELECT * FROM a, b WHERE a.x = b.y",
                "'Project [*]\n+- 'Filter (a.x = b.y)\n   +- Join Inner\n      :- 'UnresolvedRelation [a], [], false\n      +- 'UnresolvedRelation [b], [], false",
            ),
            (
                "SELECT arr[0], m['k'], a BETWEEN 1 AND 2 FROM (SELECT * FROM t) s",
                "'Project ['arr[0], 'm[k], ((a >= 1) AND (a <= 2)) AS between(a, 1, 2)]\n+- SubqueryAlias s\n   +- 'Project [*]\n      +- 'UnresolvedRelation [t], [], false",
            ),
        ];
        for (sql, want) in cases {
            assert_eq!(plan(sql), want, "{sql}");
        }
    }

    #[test]
    fn errors_name_the_problem() {
        let cases: Vec<(&str, &str)> = vec![
            (
                "SELECT a FROM t GROUP BY 3",
                "[GROUP_BY_POS_OUT_OF_RANGE] GROUP BY position 3 is not in select list (valid range is [1, 1]). SQLSTATE: 42805",
            ),
            (
                "SELECT count(*) FROM t GROUP BY 1",
                "[GROUP_BY_POS_AGGREGATE] GROUP BY 1 refers to an expression count(1) that contains an aggregate function. Aggregate functions are not allowed in GROUP BY. SQLSTATE: 42903",
            ),
            (
                "SELECT a FROM t ORDER BY 0",
                "[ORDER_BY_POS_OUT_OF_RANGE] ORDER BY position 0 is not in select list (valid range is [1, 1]). SQLSTATE: 42805",
            ),
            (
                "SELECT a FROM t EXCEPT ALL SELECT a FROM u",
                "not supported: EXCEPT ALL in SQL queries",
            ),
            (
                "SELECT * FROM t LATERAL VIEW upper(a) x AS y",
                "[UNSUPPORTED_GENERATOR.NOT_GENERATOR] The generator is not supported: `upper` is expected to be a generator. However, its class is not a generator. SQLSTATE: 42K0E",
            ),
            (
                "SELECT * FROM range(10)",
                "not supported: the table-valued function `range` in SQL queries",
            ),
        ];
        for (sql, want) in cases {
            assert_eq!(plan_err(sql), want, "{sql}");
        }
    }
}
