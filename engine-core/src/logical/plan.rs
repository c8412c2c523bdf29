//! The logical plan tree.

use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::datatypes::Field;

use super::{EventTimeWatermark, Extension, StreamingRelation, TableSource};
use crate::expr::{Expr, SortExpr};
use crate::schema::{PlanSchema, QualifiedField};

/// A node of a logical plan.
#[derive(Debug, Clone)]
pub enum LogicalPlan {
    /// A table or view by name, before the analyzer looks it up.
    UnresolvedRelation(Vec<String>),
    /// Reads a table.
    Scan(Scan),
    /// Computes expressions per row.
    Projection {
        /// Output expressions, each named by its alias or [`Expr::output_name`].
        exprs: Vec<Expr>,
        /// The input.
        input: Arc<LogicalPlan>,
    },
    /// Keeps rows where `predicate` is true.
    Filter {
        /// A boolean expression.
        predicate: Expr,
        /// The input.
        input: Arc<LogicalPlan>,
    },
    /// Groups rows and aggregates them. Output: the grouping columns, then the aggregates.
    Aggregate {
        /// Grouping keys.
        group_exprs: Vec<Expr>,
        /// Aggregate calls (each possibly aliased).
        aggr_exprs: Vec<Expr>,
        /// The input.
        input: Arc<LogicalPlan>,
    },
    /// Orders all rows.
    Sort {
        /// Sort keys, most significant first.
        exprs: Vec<SortExpr>,
        /// The input.
        input: Arc<LogicalPlan>,
    },
    /// The first `n` rows.
    Limit {
        /// How many rows.
        n: usize,
        /// The input.
        input: Arc<LogicalPlan>,
    },
    /// Removes duplicate rows.
    Distinct {
        /// The input.
        input: Arc<LogicalPlan>,
    },
    /// Combines two inputs.
    Join(Join),
    /// All rows of all inputs, matched by position (`UNION ALL`).
    Union {
        /// Inputs with the same number of columns.
        inputs: Vec<Arc<LogicalPlan>>,
    },
    /// A generator (`explode`, ...): each input row yields zero or more rows.
    Generate(super::Generate),
    /// Gives the input's columns a relation name (`FROM t AS x`, `df.alias("x")`, a view).
    SubqueryAlias {
        /// The relation name.
        alias: String,
        /// The input.
        input: Arc<LogicalPlan>,
    },
    /// A streaming source leaf; see [`StreamingRelation`].
    StreamingRelation(Arc<StreamingRelation>),
    /// An event-time watermark; see [`EventTimeWatermark`].
    EventTimeWatermark(EventTimeWatermark),
    /// A node defined outside this enum; see [`super::UserDefinedLogicalNode`].
    Extension(Extension),
}

/// A table scan with what the optimizer pushed into it.
#[derive(Debug, Clone)]
pub struct Scan {
    /// The source.
    pub source: Arc<dyn TableSource>,
    /// The relation name of its columns (the view name, if any).
    pub qualifier: Option<String>,
    /// Columns to read, indices into the source schema; `None` reads all.
    pub projection: Option<Vec<usize>>,
    /// Filters the source may use to skip data (resolved against its full schema).
    pub filters: Vec<Expr>,
    /// Row limit the source may stop at.
    pub limit: Option<usize>,
}

/// Join kinds, with Spark's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JoinType {
    /// `inner`
    Inner,
    /// `left` / `left_outer`
    Left,
    /// `right` / `right_outer`
    Right,
    /// `full` / `outer` / `full_outer`
    Full,
    /// `left_semi` / `semi`: left rows with a match.
    LeftSemi,
    /// `left_anti` / `anti`: left rows without a match.
    LeftAnti,
    /// `cross`
    Cross,
}

impl JoinType {
    /// `(left, right)`: whether a side's rows without a match leave the result, so a
    /// predicate on that side alone (an ON-clause conjunct, an inferred `isnotnull`) may
    /// filter it before the join without changing the result.
    pub fn drops_unmatched(self) -> (bool, bool) {
        match self {
            JoinType::Inner | JoinType::Cross | JoinType::LeftSemi => (true, true),
            JoinType::Left | JoinType::LeftAnti => (false, true),
            JoinType::Right => (true, false),
            JoinType::Full => (false, false),
        }
    }

    /// Parses Spark's join type names (`inner`, `left_outer`, `leftsemi`, ...).
    pub fn parse(name: &str) -> Result<JoinType> {
        let n = name.to_lowercase().replace('_', "");
        Ok(match n.as_str() {
            "inner" => JoinType::Inner,
            "left" | "leftouter" => JoinType::Left,
            "right" | "rightouter" => JoinType::Right,
            "full" | "outer" | "fullouter" => JoinType::Full,
            "leftsemi" | "semi" => JoinType::LeftSemi,
            "leftanti" | "anti" => JoinType::LeftAnti,
            "cross" => JoinType::Cross,
            _ => {
                return Err(EngineError::analysis(
                    "UNSUPPORTED_JOIN_TYPE",
                    format!(
                        "Unsupported join type '{name}'. Supported join types include: 'inner', 'outer', 'full', 'fullouter', 'full_outer', 'leftouter', 'left', 'left_outer', 'rightouter', 'right', 'right_outer', 'leftsemi', 'left_semi', 'semi', 'leftanti', 'left_anti', 'anti', 'cross'. SQLSTATE: 0A000"
                    ),
                ));
            }
        })
    }

    /// Spark's name in plans: `Inner`, `LeftOuter`, ...
    pub fn plan_name(self) -> &'static str {
        match self {
            JoinType::Inner => "Inner",
            JoinType::Left => "LeftOuter",
            JoinType::Right => "RightOuter",
            JoinType::Full => "FullOuter",
            JoinType::LeftSemi => "LeftSemi",
            JoinType::LeftAnti => "LeftAnti",
            JoinType::Cross => "Cross",
        }
    }

    /// True if the output has the right side's columns.
    pub fn outputs_right(self) -> bool {
        !matches!(self, JoinType::LeftSemi | JoinType::LeftAnti)
    }
}

/// A join of two inputs.
#[derive(Debug, Clone)]
pub struct Join {
    /// Left input.
    pub left: Arc<LogicalPlan>,
    /// Right input.
    pub right: Arc<LogicalPlan>,
    /// Kind of join.
    pub join_type: JoinType,
    /// The join condition; the planner extracts equality keys from it for a hash join.
    pub condition: Option<Expr>,
}

impl LogicalPlan {
    /// The inputs of this node.
    pub fn inputs(&self) -> Vec<&Arc<LogicalPlan>> {
        match self {
            LogicalPlan::UnresolvedRelation(_)
            | LogicalPlan::Scan(_)
            | LogicalPlan::StreamingRelation(_) => vec![],
            LogicalPlan::EventTimeWatermark(w) => vec![&w.input],
            LogicalPlan::Extension(e) => e.node.inputs(),
            LogicalPlan::Projection { input, .. }
            | LogicalPlan::Filter { input, .. }
            | LogicalPlan::Aggregate { input, .. }
            | LogicalPlan::Sort { input, .. }
            | LogicalPlan::Limit { input, .. }
            | LogicalPlan::Distinct { input }
            | LogicalPlan::SubqueryAlias { input, .. } => vec![input],
            LogicalPlan::Join(j) => vec![&j.left, &j.right],
            LogicalPlan::Generate(g) => vec![&g.input],
            LogicalPlan::Union { inputs } => inputs.iter().collect(),
        }
    }

    /// The same node over new inputs (same number and order as [`Self::inputs`]).
    pub fn with_new_inputs(&self, mut inputs: Vec<Arc<LogicalPlan>>) -> Result<LogicalPlan> {
        let expected = self.inputs().len();
        if inputs.len() != expected {
            return Err(EngineError::Internal(format!(
                "with_new_inputs: expected {expected} inputs, got {}",
                inputs.len()
            )));
        }
        let mut next = || inputs.remove(0);
        Ok(match self {
            LogicalPlan::UnresolvedRelation(_)
            | LogicalPlan::Scan(_)
            | LogicalPlan::StreamingRelation(_) => self.clone(),
            LogicalPlan::EventTimeWatermark(w) => {
                LogicalPlan::EventTimeWatermark(EventTimeWatermark {
                    input: next(),
                    ..w.clone()
                })
            }
            LogicalPlan::Extension(e) => LogicalPlan::Extension(Extension {
                node: e.node.with_new_inputs(std::mem::take(&mut inputs))?,
            }),
            LogicalPlan::Projection { exprs, .. } => LogicalPlan::Projection {
                exprs: exprs.clone(),
                input: next(),
            },
            LogicalPlan::Filter { predicate, .. } => LogicalPlan::Filter {
                predicate: predicate.clone(),
                input: next(),
            },
            LogicalPlan::Aggregate {
                group_exprs,
                aggr_exprs,
                ..
            } => LogicalPlan::Aggregate {
                group_exprs: group_exprs.clone(),
                aggr_exprs: aggr_exprs.clone(),
                input: next(),
            },
            LogicalPlan::Sort { exprs, .. } => LogicalPlan::Sort {
                exprs: exprs.clone(),
                input: next(),
            },
            LogicalPlan::Limit { n, .. } => LogicalPlan::Limit {
                n: *n,
                input: next(),
            },
            LogicalPlan::Distinct { .. } => LogicalPlan::Distinct { input: next() },
            LogicalPlan::SubqueryAlias { alias, .. } => LogicalPlan::SubqueryAlias {
                alias: alias.clone(),
                input: next(),
            },
            LogicalPlan::Join(j) => {
                let left = next();
                LogicalPlan::Join(Join {
                    left,
                    right: next(),
                    join_type: j.join_type,
                    condition: j.condition.clone(),
                })
            }
            LogicalPlan::Union { .. } => LogicalPlan::Union {
                inputs: std::mem::take(&mut inputs),
            },
            LogicalPlan::Generate(g) => LogicalPlan::Generate(super::Generate {
                input: next(),
                ..g.clone()
            }),
        })
    }

    /// The expressions held by this node itself (not its inputs).
    pub fn expressions(&self) -> Vec<&Expr> {
        match self {
            LogicalPlan::Projection { exprs, .. } => exprs.iter().collect(),
            LogicalPlan::Filter { predicate, .. } => vec![predicate],
            LogicalPlan::Aggregate {
                group_exprs,
                aggr_exprs,
                ..
            } => group_exprs.iter().chain(aggr_exprs.iter()).collect(),
            LogicalPlan::Sort { exprs, .. } => exprs.iter().map(|s| &s.expr).collect(),
            LogicalPlan::Join(j) => j.condition.iter().collect(),
            LogicalPlan::Scan(s) => s.filters.iter().collect(),
            LogicalPlan::EventTimeWatermark(w) => vec![&w.event_time],
            LogicalPlan::Generate(g) => g.args.iter().collect(),
            LogicalPlan::Extension(e) => e.node.expressions(),
            _ => vec![],
        }
    }

    /// The output schema of a resolved plan.
    ///
    /// Fails on unresolved nodes. Computed on demand: plans are small and this keeps nodes
    /// plain data that rewrites cannot leave stale.
    pub fn schema(&self) -> Result<PlanSchema> {
        match self {
            LogicalPlan::UnresolvedRelation(name) => Err(EngineError::Internal(format!(
                "schema of unresolved relation {} requested before analysis",
                name.join(".")
            ))),
            LogicalPlan::Scan(s) => {
                let full = s.source.schema();
                let fields: Vec<QualifiedField> = match &s.projection {
                    Some(p) => p
                        .iter()
                        .map(|&i| {
                            QualifiedField::new(s.qualifier.clone(), full.fields()[i].clone())
                        })
                        .collect(),
                    None => full
                        .fields()
                        .iter()
                        .map(|f| QualifiedField::new(s.qualifier.clone(), f.clone()))
                        .collect(),
                };
                Ok(PlanSchema::new(fields))
            }
            LogicalPlan::Projection { exprs, input } => {
                let in_schema = input.schema()?;
                let fields = exprs
                    .iter()
                    .map(|e| {
                        let qualifier = match e {
                            Expr::Column(c) => c.relation.clone(),
                            _ => None,
                        };
                        Ok(QualifiedField::new(qualifier, e.to_field(&in_schema)?))
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(PlanSchema::new(fields))
            }
            LogicalPlan::StreamingRelation(r) => Ok(PlanSchema::new(
                r.schema
                    .fields()
                    .iter()
                    .map(|f| QualifiedField::new(None, f.clone()))
                    .collect(),
            )),
            LogicalPlan::EventTimeWatermark(w) => w.input.schema(),
            LogicalPlan::Extension(e) => e.node.schema(),
            LogicalPlan::Filter { input, .. }
            | LogicalPlan::Sort { input, .. }
            | LogicalPlan::Limit { input, .. }
            | LogicalPlan::Distinct { input } => input.schema(),
            LogicalPlan::Aggregate {
                group_exprs,
                aggr_exprs,
                input,
            } => {
                let in_schema = input.schema()?;
                let fields = group_exprs
                    .iter()
                    .chain(aggr_exprs.iter())
                    .map(|e| {
                        let qualifier = match e {
                            Expr::Column(c) => c.relation.clone(),
                            _ => None,
                        };
                        Ok(QualifiedField::new(qualifier, e.to_field(&in_schema)?))
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(PlanSchema::new(fields))
            }
            LogicalPlan::SubqueryAlias { alias, input } => {
                Ok(input.schema()?.with_qualifier(alias))
            }
            LogicalPlan::Generate(g) => {
                let in_schema = input_schema(&g.input)?;
                let types = g
                    .args
                    .iter()
                    .map(|a| a.data_type(&in_schema))
                    .collect::<Result<Vec<_>>>()?;
                let generated =
                    super::generator_fields(g.kind, g.outer, &g.call_text(), &types, &g.names)?;
                let fields = in_schema.fields();
                let mut fields: Vec<_> = g
                    .kept_columns(fields.len())
                    .into_iter()
                    .filter_map(|i| fields.get(i).cloned())
                    .collect();
                fields.extend(
                    generated
                        .into_iter()
                        .map(|f| QualifiedField::new(g.qualifier.clone(), f)),
                );
                Ok(PlanSchema::new(fields))
            }
            LogicalPlan::Join(j) => {
                let left = j.left.schema()?;
                if !j.join_type.outputs_right() {
                    return Ok(left);
                }
                let right = j.right.schema()?;
                let (ln, rn) = match j.join_type {
                    JoinType::Left => (false, true),
                    JoinType::Right => (true, false),
                    JoinType::Full => (true, true),
                    _ => (false, false),
                };
                Ok(nullable_if(&left, ln).join(&nullable_if(&right, rn)))
            }
            LogicalPlan::Union { inputs } => {
                let first = inputs
                    .first()
                    .ok_or_else(|| EngineError::Internal("union of no inputs".into()))?
                    .schema()?;
                let mut nullable: Vec<bool> = first
                    .fields()
                    .iter()
                    .map(|f| f.field.is_nullable())
                    .collect();
                for other in &inputs[1..] {
                    for (i, f) in other.schema()?.fields().iter().enumerate() {
                        if let Some(n) = nullable.get_mut(i) {
                            *n |= f.field.is_nullable();
                        }
                    }
                }
                Ok(PlanSchema::new(
                    first
                        .fields()
                        .iter()
                        .zip(nullable)
                        .map(|(f, n)| {
                            QualifiedField::new(
                                None,
                                Field::new(f.name(), f.field.data_type().clone(), n),
                            )
                        })
                        .collect(),
                ))
            }
        }
    }

    /// True if a streaming source is anywhere below (Spark's `isStreaming`).
    pub fn is_streaming(&self) -> bool {
        matches!(self, LogicalPlan::StreamingRelation(_))
            || self.inputs().iter().any(|i| i.is_streaming())
    }

    /// Rewrites the plan bottom-up: inputs first, then `f` on the rebuilt node.
    pub fn transform_up(
        self: &Arc<Self>,
        f: &mut impl FnMut(Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>>,
    ) -> Result<Arc<LogicalPlan>> {
        let inputs = self
            .inputs()
            .into_iter()
            .map(|i| i.transform_up(f))
            .collect::<Result<Vec<_>>>()?;
        let node = if inputs.is_empty() {
            self.clone()
        } else {
            Arc::new(self.with_new_inputs(inputs)?)
        };
        f(node)
    }

    /// Rewrites the plan top-down: `f` on the node, then on the inputs of what it returned.
    pub fn transform_down(
        self: &Arc<Self>,
        f: &mut impl FnMut(Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>>,
    ) -> Result<Arc<LogicalPlan>> {
        let node = f(self.clone())?;
        let inputs = node
            .inputs()
            .into_iter()
            .map(|i| i.transform_down(f))
            .collect::<Result<Vec<_>>>()?;
        if inputs.is_empty() {
            Ok(node)
        } else {
            Ok(Arc::new(node.with_new_inputs(inputs)?))
        }
    }
}

fn input_schema(p: &LogicalPlan) -> Result<PlanSchema> {
    p.schema()
}

fn nullable_if(schema: &PlanSchema, nullable: bool) -> PlanSchema {
    if !nullable {
        return schema.clone();
    }
    PlanSchema::new(
        schema
            .fields()
            .iter()
            .map(|f| {
                QualifiedField::new(
                    f.qualifier.clone(),
                    f.field.as_ref().clone().with_nullable(true),
                )
            })
            .collect(),
    )
}
