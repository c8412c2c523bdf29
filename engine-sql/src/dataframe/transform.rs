//! Transformations: each builds a new plan on top of this DataFrame's analyzed plan.

use std::sync::Arc;

use engine_core::{EngineError, Result};

use super::DataFrame;
use engine_core::expr::{Column, Expr, SortExpr, col};
use engine_core::logical::{Join, JoinType, LogicalPlan};

/// How to match rows in [`DataFrame::join`].
#[derive(Debug, Clone)]
pub enum JoinOn {
    /// Equal values of these columns on both sides; each appears once in the output
    /// (Spark's `df.join(other, ["id"])`).
    Using(Vec<String>),
    /// An arbitrary boolean condition over both sides' columns.
    On(Expr),
    /// No condition: every pair (a cross join).
    None,
}

impl From<&str> for JoinOn {
    fn from(c: &str) -> Self {
        JoinOn::Using(vec![c.to_string()])
    }
}

impl From<Vec<&str>> for JoinOn {
    fn from(c: Vec<&str>) -> Self {
        JoinOn::Using(c.into_iter().map(str::to_string).collect())
    }
}

impl From<Expr> for JoinOn {
    fn from(e: Expr) -> Self {
        JoinOn::On(e)
    }
}

impl DataFrame {
    fn derive(&self, plan: LogicalPlan) -> Result<DataFrame> {
        DataFrame::from_plan(self.session().clone(), Arc::new(plan))
    }

    fn columns_as_exprs(&self) -> Result<Vec<Expr>> {
        Ok(self
            .plan_schema()?
            .fields()
            .iter()
            .map(|f| Expr::Column(Column::new(f.qualifier.as_deref(), f.name())))
            .collect())
    }

    /// The column names, in order.
    pub fn columns(&self) -> Result<Vec<String>> {
        Ok(self
            .plan_schema()?
            .fields()
            .iter()
            .map(|f| f.name().to_string())
            .collect())
    }

    /// A column of this DataFrame by name, resolved now (fails for unknown names).
    pub fn col(&self, name: &str) -> Result<Expr> {
        engine_core::analyzer::resolve_expr(&col(name), &self.plan_schema()?)
    }

    /// Spark's `select`: computes the given expressions.
    ///
    /// ```
    /// use engine_sql::prelude::*;
    /// let spark = Session::builder().build().unwrap();
    /// let df = spark.sql("SELECT 1 AS a, 'x' AS b").unwrap();
    /// let out = df.select(vec![col("b"), (col("a") + lit(1)).alias("c")]).unwrap();
    /// assert_eq!(out.columns().unwrap(), vec!["b", "c"]);
    /// ```
    pub fn select(&self, exprs: Vec<Expr>) -> Result<DataFrame> {
        self.derive(LogicalPlan::Projection {
            exprs,
            input: self.logical_plan().clone(),
        })
    }

    /// `select` by column names.
    pub fn select_cols(&self, names: &[&str]) -> Result<DataFrame> {
        self.select(names.iter().map(|n| col(n)).collect())
    }

    /// Spark's `selectExpr`: each string is a SQL expression (`"a + 1 AS b"`).
    pub fn select_expr(&self, exprs: &[&str]) -> Result<DataFrame> {
        let parsed = exprs
            .iter()
            .map(|e| crate::sql::parse_sql_expr(self.session(), e))
            .collect::<Result<Vec<_>>>()?;
        self.select(parsed)
    }

    /// Adds a column, or replaces the one with that name (case-insensitive).
    pub fn with_column(&self, name: &str, expr: Expr) -> Result<DataFrame> {
        let mut exprs = self.columns_as_exprs()?;
        let mut replaced = false;
        for e in &mut exprs {
            if e.output_name().eq_ignore_ascii_case(name) {
                *e = expr.clone().alias(name);
                replaced = true;
            }
        }
        if !replaced {
            exprs.push(expr.alias(name));
        }
        self.select(exprs)
    }

    /// Renames a column; a no-op if it does not exist (as in Spark).
    pub fn with_column_renamed(&self, existing: &str, new: &str) -> Result<DataFrame> {
        let exprs = self
            .columns_as_exprs()?
            .into_iter()
            .map(|e| {
                if e.output_name().eq_ignore_ascii_case(existing) {
                    e.alias(new)
                } else {
                    e
                }
            })
            .collect();
        self.select(exprs)
    }

    /// Removes columns by name; unknown names are ignored (as in Spark).
    pub fn drop(&self, names: &[&str]) -> Result<DataFrame> {
        let exprs = self
            .columns_as_exprs()?
            .into_iter()
            .filter(|e| {
                !names
                    .iter()
                    .any(|n| e.output_name().eq_ignore_ascii_case(n))
            })
            .collect();
        self.select(exprs)
    }

    /// Keeps rows where `predicate` is true.
    pub fn filter(&self, predicate: Expr) -> Result<DataFrame> {
        self.derive(LogicalPlan::Filter {
            predicate,
            input: self.logical_plan().clone(),
        })
    }

    /// Keeps rows where the SQL condition is true: `df.filter_expr("a > 1")`.
    pub fn filter_expr(&self, condition: &str) -> Result<DataFrame> {
        self.filter(crate::sql::parse_sql_expr(self.session(), condition)?)
    }

    /// Alias of [`DataFrame::filter`] (Spark's `where`).
    pub fn where_(&self, predicate: Expr) -> Result<DataFrame> {
        self.filter(predicate)
    }

    /// Groups rows by `exprs` for [`GroupedData::agg`].
    pub fn group_by(&self, exprs: Vec<Expr>) -> GroupedData {
        GroupedData {
            df: self.clone(),
            group_exprs: exprs,
        }
    }

    /// Aggregates the whole DataFrame: `df.agg(vec![max(col("x"))])`.
    pub fn agg(&self, aggs: Vec<Expr>) -> Result<DataFrame> {
        self.group_by(vec![]).agg(aggs)
    }

    /// Sorts by `keys` (`col("a").asc()`, `col("b").desc()`).
    pub fn order_by(&self, keys: Vec<SortExpr>) -> Result<DataFrame> {
        self.derive(LogicalPlan::Sort {
            exprs: keys,
            input: self.logical_plan().clone(),
        })
    }

    /// Alias of [`DataFrame::order_by`].
    pub fn sort(&self, keys: Vec<SortExpr>) -> Result<DataFrame> {
        self.order_by(keys)
    }

    /// The first `n` rows.
    pub fn limit(&self, n: usize) -> Result<DataFrame> {
        self.derive(LogicalPlan::Limit {
            n,
            input: self.logical_plan().clone(),
        })
    }

    /// Distinct rows.
    pub fn distinct(&self) -> Result<DataFrame> {
        if self.is_streaming() {
            // Spark's `Dataset.distinct` is `dropDuplicates()`: on a stream, rows pass the
            // first time they are seen (SQL's DISTINCT is an aggregation instead).
            return self.drop_duplicates(&[]);
        }
        self.derive(LogicalPlan::Distinct {
            input: self.logical_plan().clone(),
        })
    }

    /// One row per distinct value of `subset` (all columns when empty), keeping the first
    /// row seen for the other columns, in the original column order. On a stream, the first
    /// row of each key passes and later ones are dropped; the keys are kept in state, and
    /// forgotten by the watermark only when they include the event-time column.
    pub fn drop_duplicates(&self, subset: &[&str]) -> Result<DataFrame> {
        self.deduplicate(subset, false)
    }

    /// Spark's `dropDuplicatesWithinWatermark`: on a stream, a row is dropped when a row with
    /// the same `subset` (all columns when empty) was seen less than the watermark delay
    /// before it; a key is forgotten once the watermark passes its first event time plus the
    /// delay. Needs `with_watermark`. On a batch DataFrame, [`DataFrame::drop_duplicates`].
    pub fn drop_duplicates_within_watermark(&self, subset: &[&str]) -> Result<DataFrame> {
        self.deduplicate(subset, true)
    }

    fn deduplicate(&self, subset: &[&str], within_watermark: bool) -> Result<DataFrame> {
        let schema = self.plan_schema()?;
        for s in subset {
            schema.resolve(&engine_core::expr::split_name(s))?;
        }
        let is_key =
            |name: &str| subset.is_empty() || subset.iter().any(|s| s.eq_ignore_ascii_case(name));
        let keys: Vec<Expr> = self
            .columns_as_exprs()?
            .into_iter()
            .filter(|e| is_key(&e.output_name()))
            .collect();
        if self.is_streaming() {
            return DataFrame::from_plan(
                self.session().clone(),
                engine_core::logical::Deduplicate::plan(
                    keys,
                    within_watermark,
                    self.logical_plan().clone(),
                ),
            );
        }
        if subset.is_empty() {
            return self.distinct();
        }
        let node = engine_core::logical::Deduplicate {
            keys,
            within_watermark,
            input: self.logical_plan().clone(),
        };
        let first = engine_core::functions::lookup_aggregate("first")
            .ok_or_else(|| EngineError::Internal("no `first` aggregate".into()))?;
        DataFrame::from_plan(self.session().clone(), node.batch_plan(&first)?)
    }

    /// All rows of both, matched by column position (`UNION ALL`); column types widen.
    pub fn union(&self, other: &DataFrame) -> Result<DataFrame> {
        self.derive(LogicalPlan::Union {
            inputs: vec![self.logical_plan().clone(), other.logical_plan().clone()],
        })
    }

    /// All rows of both, matched by column name; with `allow_missing`, columns missing on
    /// one side are NULL there (Spark's `allowMissingColumns`).
    pub fn union_by_name(&self, other: &DataFrame, allow_missing: bool) -> Result<DataFrame> {
        let mine = self.columns()?;
        let theirs = other.columns()?;
        let find = |names: &[String], n: &str| names.iter().any(|x| x.eq_ignore_ascii_case(n));
        let mut left = self.clone();
        if allow_missing {
            let missing: Vec<&String> = theirs.iter().filter(|t| !find(&mine, t)).collect();
            for m in missing {
                left =
                    left.with_column(m, Expr::Literal(engine_core::scalar::ScalarValue::Null))?;
            }
        }
        let all = left.columns()?;
        let mut right_exprs = Vec::with_capacity(all.len());
        for name in &all {
            if find(&theirs, name) {
                right_exprs.push(col(&format!("`{name}`")));
            } else if allow_missing {
                right_exprs.push(Expr::Literal(engine_core::scalar::ScalarValue::Null).alias(name));
            } else {
                return Err(EngineError::analysis(
                    "NUM_COLUMNS_MISMATCH",
                    format!(
                        "UNION can only be performed on inputs with the same number of columns, but the first input has {} columns and the second input has {} columns. Cannot resolve column name \"{name}\" among ({}). SQLSTATE: 42826",
                        mine.len(),
                        theirs.len(),
                        theirs.join(", ")
                    ),
                ));
            }
        }
        if !allow_missing && theirs.len() != all.len() {
            return Err(EngineError::analysis(
                "NUM_COLUMNS_MISMATCH",
                format!(
                    "UNION can only be performed on inputs with the same number of columns, but the first input has {} columns and the second input has {} columns. SQLSTATE: 42826",
                    all.len(),
                    theirs.len()
                ),
            ));
        }
        let right = other.select(right_exprs)?;
        left.union(&right)
    }

    /// Joins with `other`. `how` is Spark's join type name (`inner`, `left`, `right`,
    /// `full`, `left_semi`, `left_anti`, `cross`).
    pub fn join(&self, other: &DataFrame, on: impl Into<JoinOn>, how: &str) -> Result<DataFrame> {
        let join_type = JoinType::parse(how)?;
        match on.into() {
            JoinOn::None => self.derive(LogicalPlan::Join(Join {
                left: self.logical_plan().clone(),
                right: other.logical_plan().clone(),
                join_type: if join_type == JoinType::Inner {
                    JoinType::Cross
                } else {
                    join_type
                },
                condition: None,
            })),
            JoinOn::On(cond) => self.derive(LogicalPlan::Join(Join {
                left: self.logical_plan().clone(),
                right: other.logical_plan().clone(),
                join_type,
                condition: Some(cond),
            })),
            JoinOn::Using(cols) => self.join_using(other, &cols, join_type),
        }
    }

    /// `USING (cols)`: equality on each column; the output has the USING columns first
    /// (coalesced for full joins, taken from the side that keeps all rows), then the rest of
    /// the left, then the rest of the right.
    fn join_using(
        &self,
        other: &DataFrame,
        cols: &[String],
        join_type: JoinType,
    ) -> Result<DataFrame> {
        // Distinct relation names so both sides' columns stay addressable.
        let left = self.alias("__l")?;
        let right = other.alias("__r")?;
        let lcol = |c: &str| Expr::UnresolvedColumn(vec!["__l".into(), c.to_string()]);
        let rcol = |c: &str| Expr::UnresolvedColumn(vec!["__r".into(), c.to_string()]);
        let cond = cols
            .iter()
            .map(|c| lcol(c).eq(rcol(c)))
            .reduce(Expr::and)
            .ok_or_else(|| {
                EngineError::analysis("INVALID_JOIN_USING", "USING needs at least one column")
            })?;
        let joined = left.derive(LogicalPlan::Join(Join {
            left: left.logical_plan().clone(),
            right: right.logical_plan().clone(),
            join_type,
            condition: Some(cond),
        }))?;
        let is_key = |n: &str| cols.iter().any(|c| c.eq_ignore_ascii_case(n));
        let mut out = Vec::new();
        for c in cols {
            out.push(match join_type {
                JoinType::Right => rcol(c).alias(c),
                JoinType::Full => {
                    engine_core::expr::call("coalesce", vec![lcol(c), rcol(c)]).alias(c)
                }
                _ => lcol(c).alias(c),
            });
        }
        for name in self.columns()? {
            if !is_key(&name) {
                out.push(lcol(&name).alias(&name));
            }
        }
        if join_type.outputs_right() {
            for name in other.columns()? {
                if !is_key(&name) {
                    out.push(rcol(&name).alias(&name));
                }
            }
        }
        joined.select(out)
    }

    /// Gives this DataFrame's columns the relation name `alias` (`df.alias("o")`, then
    /// `col("o.id")`).
    pub fn alias(&self, alias: &str) -> Result<DataFrame> {
        self.derive(LogicalPlan::SubqueryAlias {
            alias: alias.to_string(),
            input: self.logical_plan().clone(),
        })
    }

    /// Registers this DataFrame as a temporary view for SQL.
    pub fn create_or_replace_temp_view(&self, name: &str) -> Result<()> {
        self.session()
            .catalog()
            .register_view(name, self.logical_plan().clone(), true)
    }

    /// Registers this DataFrame as a temporary view; fails if the name is taken.
    pub fn create_temp_view(&self, name: &str) -> Result<()> {
        self.session()
            .catalog()
            .register_view(name, self.logical_plan().clone(), false)
    }
}

/// The result of [`DataFrame::group_by`]: call [`GroupedData::agg`] or a shortcut.
#[derive(Debug, Clone)]
pub struct GroupedData {
    df: DataFrame,
    group_exprs: Vec<Expr>,
}

impl GroupedData {
    /// One row per group: the grouping columns, then the aggregates.
    pub fn agg(&self, aggs: Vec<Expr>) -> Result<DataFrame> {
        self.df.derive(LogicalPlan::Aggregate {
            group_exprs: self.group_exprs.clone(),
            aggr_exprs: aggs,
            input: self.df.logical_plan().clone(),
        })
    }

    /// Rows per group, in a column named `count`.
    pub fn count(&self) -> Result<DataFrame> {
        self.agg(vec![
            engine_core::expr::count(engine_core::expr::lit(1)).alias("count"),
        ])
    }

    fn each(&self, f: fn(Expr) -> Expr, cols: &[&str]) -> Result<DataFrame> {
        self.agg(cols.iter().map(|c| f(col(c))).collect())
    }

    /// `sum` of each column.
    pub fn sum(&self, cols: &[&str]) -> Result<DataFrame> {
        self.each(engine_core::expr::sum, cols)
    }

    /// `avg` of each column.
    pub fn avg(&self, cols: &[&str]) -> Result<DataFrame> {
        self.each(engine_core::expr::avg, cols)
    }

    /// `min` of each column.
    pub fn min(&self, cols: &[&str]) -> Result<DataFrame> {
        self.each(engine_core::expr::min, cols)
    }

    /// `max` of each column.
    pub fn max(&self, cols: &[&str]) -> Result<DataFrame> {
        self.each(engine_core::expr::max, cols)
    }
}
