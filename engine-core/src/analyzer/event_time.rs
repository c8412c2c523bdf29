//! Which output columns of a plan carry event time, and how: what Spark records in column
//! metadata (`spark.watermarkDelayMs`, the time-window and session-window markers), here
//! derived from the plan's structure.
//!
//! A column declared by `with_watermark` carries the watermark delay; a window computed from
//! it (by the time-window rewrite's functions) carries the delay too and is marked as a
//! window; `window_time` of such a window carries the delay again (a chained aggregation's
//! event time). Aliases, filters, sorts, generators' pass-through columns and grouping keys
//! keep what their input column had.

use std::sync::Arc;
use std::time::Duration;

use crate::Result;
use crate::expr::Expr;
use crate::functions::window::{
    SESSION_WINDOW, SlidingWindows, TumblingWindow, WINDOW, WINDOW_TIME, WindowSpec,
};
use crate::logical::LogicalPlan;
use crate::schema::PlanSchema;

/// What kind of window a column is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowKind {
    /// `window(..)`, tumbling or sliding.
    Time,
    /// `session_window(..)`, before or after sessions merged.
    Session,
}

/// The event-time facts of one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EventTime {
    /// The watermark delay, when the column is (derived from) a watermarked event time.
    pub delay: Option<Duration>,
    /// Set when the column is a window struct.
    pub window: Option<WindowKind>,
    /// A time window's size, slide and start.
    pub spec: Option<WindowSpec>,
}

impl EventTime {
    /// True if the column carries a watermark.
    pub fn is_watermarked(&self) -> bool {
        self.delay.is_some()
    }
}

/// The event-time facts of every output column of `plan` (resolved), by position.
pub fn event_time_columns(plan: &LogicalPlan) -> Result<Vec<Option<EventTime>>> {
    Ok(match plan {
        LogicalPlan::UnresolvedRelation(_)
        | LogicalPlan::Scan(_)
        | LogicalPlan::StreamingRelation(_) => vec![None; plan.schema()?.len()],
        LogicalPlan::EventTimeWatermark(w) => {
            let mut cols = event_time_columns(&w.input)?;
            let schema = w.input.schema()?;
            if let Some(i) = column_index(&w.event_time, &schema)
                && let Some(slot) = cols.get_mut(i)
            {
                *slot = Some(EventTime {
                    delay: Some(w.delay),
                    ..slot.unwrap_or_default()
                });
            }
            cols
        }
        LogicalPlan::Projection { exprs, input } => {
            let cols = event_time_columns(input)?;
            let schema = input.schema()?;
            exprs
                .iter()
                .map(|e| expr_event_time(e, &cols, &schema))
                .collect()
        }
        LogicalPlan::Aggregate {
            group_exprs,
            aggr_exprs,
            input,
        } => {
            let cols = event_time_columns(input)?;
            let schema = input.schema()?;
            let groups: Vec<Option<EventTime>> = group_exprs
                .iter()
                .map(|e| expr_event_time(e, &cols, &schema))
                .collect();
            let mut out = groups.clone();
            for a in aggr_exprs {
                // A grouping key selected again keeps its facts; aggregates have none.
                let same = group_exprs.iter().position(|g| g.unalias() == a.unalias());
                out.push(same.and_then(|i| groups[i]));
            }
            out
        }
        LogicalPlan::Generate(g) => {
            let input_cols = event_time_columns(&g.input)?;
            let mut cols: Vec<_> = g
                .kept_columns(input_cols.len())
                .into_iter()
                .filter_map(|i| input_cols.get(i).cloned())
                .collect();
            let schema = g.input.schema()?;
            let width = plan.schema()?.len();
            let generated = g.args.first().and_then(|a| {
                let from = expr_event_time_call(a, &cols, &schema)?;
                Some(EventTime {
                    window: Some(WindowKind::Time),
                    spec: window_spec_of(a),
                    ..from
                })
            });
            while cols.len() < width {
                cols.push(generated);
            }
            cols
        }
        LogicalPlan::Join(j) => {
            let mut cols = event_time_columns(&j.left)?;
            if j.join_type.outputs_right() {
                cols.extend(event_time_columns(&j.right)?);
            }
            cols
        }
        LogicalPlan::Union { inputs } => match inputs.first() {
            Some(first) => event_time_columns(first)?,
            None => vec![],
        },
        LogicalPlan::Extension(e) if e.node.passes_columns_through() => {
            match e.node.inputs().first() {
                Some(input) => event_time_columns(input)?,
                None => vec![None; plan.schema()?.len()],
            }
        }
        LogicalPlan::Extension(_) => vec![None; plan.schema()?.len()],
        LogicalPlan::Filter { input, .. }
        | LogicalPlan::Sort { input, .. }
        | LogicalPlan::Limit { input, .. }
        | LogicalPlan::Distinct { input }
        | LogicalPlan::SubqueryAlias { input, .. } => event_time_columns(input)?,
    })
}

/// The position of a column reference in `schema`.
fn column_index(e: &Expr, schema: &PlanSchema) -> Option<usize> {
    match e.unalias() {
        Expr::Column(c) => schema.index_of(c.relation.as_deref(), &c.name).ok(),
        _ => None,
    }
}

fn expr_event_time(e: &Expr, cols: &[Option<EventTime>], schema: &PlanSchema) -> Option<EventTime> {
    if let Some(i) = column_index(e, schema) {
        return cols.get(i).copied().flatten();
    }
    let call = expr_event_time_call(e.unalias(), cols, schema)?;
    match e.unalias() {
        Expr::ScalarFunction { func, .. } if func.name() == WINDOW => Some(EventTime {
            window: Some(WindowKind::Time),
            spec: window_spec_of(e),
            ..call
        }),
        Expr::ScalarFunction { func, .. } if func.name() == SESSION_WINDOW => Some(EventTime {
            window: Some(WindowKind::Session),
            spec: None,
            ..call
        }),
        Expr::ScalarFunction { func, .. } if func.name() == WINDOW_TIME => Some(EventTime {
            window: None,
            spec: None,
            ..call
        }),
        _ => None,
    }
}

/// The facts of the event time a window function (or `window_time`) reads.
fn expr_event_time_call(
    e: &Expr,
    cols: &[Option<EventTime>],
    schema: &PlanSchema,
) -> Option<EventTime> {
    match e.unalias() {
        Expr::ScalarFunction { func, args }
            if [WINDOW, SESSION_WINDOW, WINDOW_TIME].contains(&func.name()) =>
        {
            let first = args.first()?;
            match column_index(first, schema) {
                Some(i) => Some(cols.get(i).copied().flatten().unwrap_or_default()),
                // window(window_time(w)) over a chained window.
                None => expr_event_time(first, cols, schema).or(Some(EventTime::default())),
            }
        }
        _ => None,
    }
}

/// The size, slide and start of a time window function call.
fn window_spec_of(e: &Expr) -> Option<WindowSpec> {
    let Expr::ScalarFunction { func, .. } = e.unalias() else {
        return None;
    };
    let any = func.as_any()?;
    any.downcast_ref::<TumblingWindow>()
        .map(TumblingWindow::spec)
        .or_else(|| {
            any.downcast_ref::<SlidingWindows>()
                .map(SlidingWindows::spec)
        })
}

/// True when the plan's output has a watermarked column.
pub fn has_watermark(plan: &Arc<LogicalPlan>) -> Result<bool> {
    Ok(event_time_columns(plan)?
        .iter()
        .any(|c| c.is_some_and(|c| c.is_watermarked())))
}
