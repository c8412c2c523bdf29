//! `window(..)` and `session_window(..)` in a query (Spark's `TimeWindowing` and
//! `SessionWindowing` rules): the call is computed by a node inserted below the one that
//! uses it, and the user's expressions read the resulting `window` / `session_window`
//! column, so grouping, selecting or filtering by a window is grouping by a column.
//!
//! - Tumbling `window(ts, size[, size[, start]])`: `Project(window, input..)` over
//!   `Filter(ts IS NOT NULL)`.
//! - Sliding `window(ts, size, slide[, start])`: the windows containing each event,
//!   exploded into one row per window (Spark's `Expand` + `Filter`).
//! - `session_window(ts, gap)`: `Filter(ts IS NOT NULL AND end > start)` over
//!   `Project(session_window, input..)`; sessions merge later, where rows are grouped by them
//!   ([`crate::logical::LogicalPlan::MergeSessions`]).
//!
//! A window over a window column (`window(window, '1 hour')`) windows its `window_time`, as
//! Spark does for chained window aggregations.

use std::sync::Arc;

use arrow::datatypes::DataType;

use crate::expr::{CastMode, Column, Expr};
use crate::functions::window::{
    self, SESSION_WINDOW, SESSION_WINDOW_COLUMN, WINDOW, WINDOW_COLUMN, WindowSpec,
    duration_micros, is_event_time_type, is_window_type,
};
use crate::logical::{Generate, GeneratorKind, LogicalPlan};
use crate::scalar::ScalarValue;
use crate::schema::PlanSchema;
use crate::types::sql_type_name;
use crate::{EngineError, Result};

/// True for a call of `window` or `session_window`, before analysis.
pub fn is_window_call(e: &Expr) -> bool {
    matches!(e, Expr::UnresolvedFunction { name, .. }
        if name.eq_ignore_ascii_case(WINDOW) || name.eq_ignore_ascii_case(SESSION_WINDOW))
}

/// Rewrites the window call of `exprs` (expressions of one node over the resolved `input`):
/// `None` when there is none, else the expressions reading the window column and the new
/// input computing it. More than one distinct window call is Spark's error.
pub(super) fn rewrite(
    exprs: &[Expr],
    input: &Arc<LogicalPlan>,
    resolve: &dyn Fn(&Expr, &PlanSchema) -> Result<Expr>,
) -> Result<Option<(Vec<Expr>, Arc<LogicalPlan>)>> {
    let mut calls: Vec<Expr> = Vec::new();
    for e in exprs {
        collect_calls(e, &mut calls);
    }
    let Some(call) = calls.first().cloned() else {
        return Ok(None);
    };
    if calls.len() > 1 {
        return Err(EngineError::analysis(
            "_LEGACY_ERROR_TEMP_1039",
            "Multiple time/session window expressions would result in a cartesian product of rows, therefore they are currently not supported.",
        ));
    }
    let Expr::UnresolvedFunction { name, args, .. } = &call else {
        return Err(EngineError::Internal("window call expected".into()));
    };
    let schema = input.schema()?;
    let session = name.eq_ignore_ascii_case(SESSION_WINDOW);
    let time = event_time_arg(name, args, &schema, resolve)?;
    let (column, new_input) = if session {
        let gap = args
            .get(1)
            .ok_or_else(|| crate::functions::wrong_num_args(SESSION_WINDOW, "2", args.len()))?;
        if args.len() != 2 {
            return Err(crate::functions::wrong_num_args(
                SESSION_WINDOW,
                "2",
                args.len(),
            ));
        }
        let gap = resolve(gap, &schema)?;
        (
            SESSION_WINDOW_COLUMN,
            session_input(time, gap, input, &schema)?,
        )
    } else {
        let time_text = args.first().map(|a| a.to_string()).unwrap_or_default();
        let spec = window_spec(args, &time_text)?;
        (WINDOW_COLUMN, window_input(time, spec, input, &schema)?)
    };
    // The computed column has an internal name, so it never clashes with an input column
    // called `window` (a window over a window aggregation's output); an expression that is
    // the call itself keeps Spark's column name.
    let internal = || Expr::UnresolvedColumn(vec![internal_name(column)]);
    let rewritten = exprs
        .iter()
        .map(|e| {
            if e == &call {
                return Ok(internal().alias(column));
            }
            e.clone()
                .transform_up(&mut |x| Ok::<_, EngineError>(if x == call { internal() } else { x }))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some((rewritten, new_input)))
}

/// The name of the column a window rewrite computes, before the user's node names it.
fn internal_name(column: &str) -> String {
    format!("__{column}")
}

fn collect_calls(e: &Expr, out: &mut Vec<Expr>) {
    if is_window_call(e) {
        if !out.contains(e) {
            out.push(e.clone());
        }
        return;
    }
    for c in e.children() {
        collect_calls(c, out);
    }
}

/// The event time a window is computed on: a TIMESTAMP or TIMESTAMP_NTZ expression (STRING
/// and DATE are cast to TIMESTAMP, as Spark's implicit casts do), or a window column, whose
/// `window_time` is used.
fn event_time_arg(
    name: &str,
    args: &[Expr],
    schema: &PlanSchema,
    resolve: &dyn Fn(&Expr, &PlanSchema) -> Result<Expr>,
) -> Result<Expr> {
    let first = args
        .first()
        .ok_or_else(|| crate::functions::wrong_num_args(name, "2 to 4", 0))?;
    let time = resolve(first, schema)?;
    let t = time.data_type(schema)?;
    Ok(if is_event_time_type(&t) {
        time
    } else if is_window_type(&t) {
        Expr::ScalarFunction {
            func: window::window_time(),
            args: vec![time],
        }
    } else if matches!(t, DataType::Utf8 | DataType::Date32 | DataType::Null) {
        Expr::Cast {
            expr: Box::new(time),
            to: crate::types::timestamp_type(),
            mode: CastMode::Ansi,
        }
    } else {
        return Err(EngineError::analysis(
            "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
            format!(
                "Cannot resolve \"{}\" due to data type mismatch: The first parameter requires the (\"(TIMESTAMP OR TIMESTAMP WITHOUT TIME ZONE)\" or \"STRUCT<start: TIMESTAMP, end: TIMESTAMP>\" or \"STRUCT<start: TIMESTAMP_NTZ, end: TIMESTAMP_NTZ>\") type, however \"{}\" has the type \"{}\". SQLSTATE: 42K09",
                call_text(name, args),
                first,
                sql_type_name(&t)
            ),
        ));
    })
}

/// Spark's text of a window call in messages: durations in microseconds where they parse.
fn call_text(name: &str, args: &[Expr]) -> String {
    let lower = name.to_ascii_lowercase();
    if lower == SESSION_WINDOW {
        let a: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        return format!("{lower}({})", a.join(", "));
    }
    let time = args.first().map(|a| a.to_string()).unwrap_or_default();
    match window_spec(args, &time) {
        Ok(spec) => spec.call_text(&time),
        Err(_) => {
            let a: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            format!("{lower}({})", a.join(", "))
        }
    }
}

/// The literal durations of `window(ts, size[, slide[, start]])`; `time` is the event
/// time's SQL text, for messages.
fn window_spec(args: &[Expr], time: &str) -> Result<WindowSpec> {
    if !(2..=4).contains(&args.len()) {
        return Err(crate::functions::wrong_num_args(
            WINDOW,
            "[2, 3, 4]",
            args.len(),
        ));
    }
    let literal = |e: &Expr| -> Result<i64> {
        match e.unalias() {
            Expr::Literal(v) => duration_micros(v),
            _ => Err(window::non_literal_duration()),
        }
    };
    let size = literal(&args[1])?;
    let slide = match args.get(2) {
        Some(s) => literal(s)?,
        None => size,
    };
    let start = match args.get(3) {
        Some(s) => literal(s)?,
        None => 0,
    };
    let spec = WindowSpec { size, slide, start };
    spec.validate(time)?;
    Ok(spec)
}

/// Every column of `schema`, as references.
fn all_columns(schema: &PlanSchema) -> Vec<Expr> {
    schema
        .fields()
        .iter()
        .map(|f| Expr::Column(Column::new(f.qualifier.as_deref(), f.name())))
        .collect()
}

fn window_input(
    time: Expr,
    spec: WindowSpec,
    input: &Arc<LogicalPlan>,
    schema: &PlanSchema,
) -> Result<Arc<LogicalPlan>> {
    if !spec.is_sliding() {
        let filtered = Arc::new(LogicalPlan::Filter {
            predicate: time.clone().is_not_null(),
            input: input.clone(),
        });
        let mut exprs = vec![
            Expr::ScalarFunction {
                func: window::tumbling_window(spec),
                args: vec![time],
            }
            .alias(internal_name(WINDOW_COLUMN)),
        ];
        exprs.extend(all_columns(schema));
        return Ok(Arc::new(LogicalPlan::Projection {
            exprs,
            input: filtered,
        }));
    }
    Ok(Arc::new(LogicalPlan::Generate(Generate {
        kind: GeneratorKind::Explode,
        args: vec![Expr::ScalarFunction {
            func: window::sliding_windows(spec),
            args: vec![time],
        }],
        outer: false,
        names: vec![internal_name(WINDOW_COLUMN)],
        qualifier: None,
        unrequired_child: vec![],
        input: input.clone(),
    })))
}

fn session_input(
    time: Expr,
    gap: Expr,
    input: &Arc<LogicalPlan>,
    schema: &PlanSchema,
) -> Result<Arc<LogicalPlan>> {
    let gap_type = gap.data_type(schema)?;
    if !matches!(gap_type, DataType::Utf8 | DataType::Null) {
        return Err(EngineError::analysis(
            "_LEGACY_ERROR_TEMP_1040",
            format!(
                "Gap duration expression used in session window must be CalendarIntervalType, but got {}.",
                spark_type_class(&gap_type)
            ),
        ));
    }
    // A positive literal gap cannot make an empty session; anything else is checked per row.
    let positive_literal = match gap.unalias() {
        Expr::Literal(ScalarValue::Utf8(Some(g))) => {
            crate::interval::parse_interval_micros(g).is_ok_and(|g| g > 0)
        }
        _ => false,
    };
    let mut exprs = vec![
        Expr::ScalarFunction {
            func: window::session_window_start(),
            args: vec![time.clone(), gap],
        }
        .alias(internal_name(SESSION_WINDOW_COLUMN)),
    ];
    exprs.extend(all_columns(schema));
    let projected = Arc::new(LogicalPlan::Projection {
        exprs,
        input: input.clone(),
    });
    let session = Expr::Column(Column::new(
        None::<&str>,
        internal_name(SESSION_WINDOW_COLUMN),
    ));
    let mut predicate = time.is_not_null();
    if !positive_literal {
        predicate = predicate.and(session.clone().field("end").gt(session.field("start")));
    }
    Ok(Arc::new(LogicalPlan::Filter {
        predicate,
        input: projected,
    }))
}

/// Spark's Scala class name of a type (`IntegerType`), as its older messages print types.
fn spark_type_class(t: &DataType) -> String {
    match t {
        DataType::Boolean => "BooleanType".into(),
        DataType::Int8 => "ByteType".into(),
        DataType::Int16 => "ShortType".into(),
        DataType::Int32 => "IntegerType".into(),
        DataType::Int64 => "LongType".into(),
        DataType::Float32 => "FloatType".into(),
        DataType::Float64 => "DoubleType".into(),
        DataType::Date32 => "DateType".into(),
        DataType::Timestamp(_, Some(_)) => "TimestampType".into(),
        DataType::Timestamp(_, None) => "TimestampNTZType".into(),
        other => format!("{}Type", sql_type_name(other).to_ascii_lowercase()),
    }
}
