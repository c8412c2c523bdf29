//! Spark's `UnsupportedOperationChecker`: what a streaming plan may contain, checked before a
//! query starts, with Spark's error classes and messages. Where this engine does not yet
//! support something Spark does (stateful operators before the state store exists), the
//! error says so instead of computing a wrong answer.

use crate::connector::OutputMode;
use crate::{EngineError, Result};

use crate::expr::Expr;
use crate::logical::{JoinType, LogicalPlan};

/// Spark's error class for these checks (its message is the whole text).
const CLASS: &str = "_LEGACY_ERROR_TEMP_3102";

fn error(msg: impl Into<String>) -> EngineError {
    EngineError::analysis(CLASS, msg)
}

/// The error of a batch action (`collect`, `count`, `show`, `write`) on a streaming plan.
pub fn batch_on_stream_error() -> EngineError {
    error(
        "Queries with streaming sources must be executed with writeStream.start(), or from a streaming table or flow definition within a Spark Declarative Pipeline.",
    )
}

/// Spark's `checkForBatch`: a batch action refuses a plan that reads a stream.
pub fn check_batch(plan: &LogicalPlan) -> Result<()> {
    if plan.is_streaming() {
        return Err(batch_on_stream_error());
    }
    Ok(())
}

fn output_mode_error(mode: OutputMode, why: &str) -> EngineError {
    EngineError::analysis(
        "STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION",
        format!(
            "Invalid streaming output mode: {}. This output mode is not supported for {why} on streaming DataFrames/DataSets. SQLSTATE: 42KDE",
            mode.name()
        ),
    )
}

/// Every node of `plan`, children before parents (Spark's `foreachUp`).
fn nodes_up(plan: &LogicalPlan) -> Vec<&LogicalPlan> {
    let mut out = Vec::new();
    fn walk<'a>(p: &'a LogicalPlan, out: &mut Vec<&'a LogicalPlan>) {
        for i in p.inputs() {
            walk(i, out);
        }
        out.push(p);
    }
    walk(plan, &mut out);
    out
}

/// Streaming aggregations (a `Distinct` counts as one, as in Spark).
fn streaming_aggregates(plan: &LogicalPlan) -> Vec<&LogicalPlan> {
    nodes_up(plan)
        .into_iter()
        .filter(|p| {
            matches!(
                p,
                LogicalPlan::Aggregate { .. } | LogicalPlan::Distinct { .. }
            ) && p.is_streaming()
        })
        .collect()
}

/// Names of event-time columns declared with `with_watermark` below `plan`.
fn watermark_columns(plan: &LogicalPlan) -> Vec<String> {
    nodes_up(plan)
        .into_iter()
        .filter_map(|p| match p {
            LogicalPlan::EventTimeWatermark(w) => Some(w.event_time.output_name()),
            _ => None,
        })
        .collect()
}

/// Whether an aggregation groups by an event-time column (or an expression over one, such
/// as `window(ts, ..)`): Spark's "grouping attribute carries the watermark" test.
fn groups_by_watermark(agg: &LogicalPlan) -> bool {
    let wm = watermark_columns(agg);
    match agg {
        LogicalPlan::Aggregate { group_exprs, .. } => group_exprs.iter().any(|g| {
            g.columns()
                .iter()
                .any(|c| wm.iter().any(|w| w.eq_ignore_ascii_case(&c.name)))
        }),
        _ => false,
    }
}

fn is_current_time(e: &Expr) -> bool {
    let name = match e {
        Expr::ScalarFunction { func, .. } => func.name().to_ascii_lowercase(),
        Expr::UnresolvedFunction { name, .. } => name.to_ascii_lowercase(),
        _ => return false,
    };
    matches!(
        name.as_str(),
        "current_timestamp" | "current_date" | "now" | "localtimestamp" | "curdate"
    )
}

/// Spark's `checkForStreaming` for `mode`, then this engine's own limits.
pub fn check_streaming(plan: &LogicalPlan, mode: OutputMode) -> Result<()> {
    spark_streaming_checks(plan, mode)?;
    check_not_yet_supported(plan)
}

fn spark_streaming_checks(plan: &LogicalPlan, mode: OutputMode) -> Result<()> {
    if !plan.is_streaming() {
        return Err(error(
            "Queries without streaming sources cannot be executed with writeStream.start()",
        ));
    }
    let aggregates = streaming_aggregates(plan);
    match mode {
        OutputMode::Append => {
            if let Some(agg) = aggregates.first()
                && !groups_by_watermark(agg)
            {
                return Err(output_mode_error(
                    mode,
                    "streaming aggregations without watermark",
                ));
            }
        }
        OutputMode::Complete if aggregates.is_empty() => {
            return Err(output_mode_error(mode, "no streaming aggregations"));
        }
        _ => {}
    }
    let complete_data = |p: &LogicalPlan| {
        !p.is_streaming() || (!streaming_aggregates(p).is_empty() && mode == OutputMode::Complete)
    };
    for node in nodes_up(plan) {
        match node {
            LogicalPlan::Aggregate {
                aggr_exprs, input, ..
            } if input.is_streaming() => {
                let distinct = aggr_exprs.iter().any(|e| {
                    e.any(&|x| {
                        matches!(
                            x,
                            Expr::AggregateFunction { distinct: true, .. }
                                | Expr::UnresolvedFunction { distinct: true, .. }
                        )
                    })
                });
                if distinct {
                    return Err(error(
                        "Distinct aggregations are not supported on streaming DataFrames/Datasets. Consider using approx_count_distinct() instead.",
                    ));
                }
            }
            LogicalPlan::Join(j) => {
                let (ls, rs) = (j.left.is_streaming(), j.right.is_streaming());
                if ls && rs && mode != OutputMode::Append {
                    return Err(error(format!(
                        "Join between two streaming DataFrames/Datasets is not supported in {mode} output mode, only in Append output mode"
                    )));
                }
                match j.join_type {
                    JoinType::Full if ls != rs => {
                        let (s, t) = if ls {
                            ("left", "right")
                        } else {
                            ("right", "left")
                        };
                        return Err(error(format!(
                            "FullOuter joins with streaming DataFrames/Datasets on the {s} and a static DataFrame/Dataset on the {t} is not supported"
                        )));
                    }
                    JoinType::LeftAnti if rs => {
                        return Err(error(
                            "LeftAnti joins with a streaming DataFrame/Dataset on the right are not supported",
                        ));
                    }
                    JoinType::Left | JoinType::LeftSemi if !ls && rs => {
                        let name = if j.join_type == JoinType::Left {
                            "LeftOuter"
                        } else {
                            "LeftSemi"
                        };
                        return Err(error(format!(
                            "{name} join with a streaming DataFrame/Dataset on the right and a static DataFrame/Dataset on the left is not supported"
                        )));
                    }
                    JoinType::Right if ls && !rs => {
                        return Err(error(
                            "RightOuter join with a streaming DataFrame/Dataset on the left and a static DataFrame/DataSet on the right not supported",
                        ));
                    }
                    _ => {}
                }
            }
            LogicalPlan::Union { inputs } => {
                let streaming = inputs.iter().filter(|i| i.is_streaming()).count();
                if streaming > 0 && streaming < inputs.len() {
                    return Err(error(
                        "Union between streaming and batch DataFrames/Datasets is not supported",
                    ));
                }
            }
            LogicalPlan::Limit { input, .. }
                if input.is_streaming() && mode == OutputMode::Update =>
            {
                return Err(error(
                    "Limits are not supported on streaming DataFrames/Datasets in Update output mode",
                ));
            }
            LogicalPlan::Sort { .. } if !complete_data(node) => {
                return Err(error(
                    "Sorting is not supported on streaming DataFrames/Datasets, unless it is on aggregated DataFrame/Dataset in Complete output mode",
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// What Spark runs but this engine refuses until the state store exists: every stateful
/// operator (aggregation, distinct, stream-stream join, limit, sort over aggregates).
fn check_not_yet_supported(plan: &LogicalPlan) -> Result<()> {
    for node in nodes_up(plan) {
        if !node.is_streaming() {
            continue;
        }
        let what = match node {
            LogicalPlan::Aggregate { .. } => "Streaming aggregations are",
            LogicalPlan::Distinct { .. } => {
                "Streaming deduplication (distinct / dropDuplicates) is"
            }
            LogicalPlan::Limit { .. } => "Limits on streaming DataFrames/Datasets are",
            LogicalPlan::Sort { .. } => "Sorting streaming aggregates is",
            LogicalPlan::Join(j) if j.left.is_streaming() && j.right.is_streaming() => {
                "Joins between two streaming DataFrames/Datasets are"
            }
            _ => continue,
        };
        return Err(EngineError::Unsupported(format!(
            "{what} not yet supported: they need the state store, which lands with the windows issue"
        )));
    }
    Ok(())
}

/// Spark's `checkForContinuous`: only projections and filters over sources.
pub fn check_continuous(plan: &LogicalPlan, mode: OutputMode) -> Result<()> {
    spark_streaming_checks(plan, mode)?;
    for node in nodes_up(plan) {
        let name = match node {
            LogicalPlan::Projection { .. }
            | LogicalPlan::Filter { .. }
            | LogicalPlan::SubqueryAlias { .. }
            | LogicalPlan::StreamingRelation(_) => None,
            LogicalPlan::Aggregate { .. } => Some("Aggregate"),
            LogicalPlan::Distinct { .. } => Some("Deduplicate"),
            LogicalPlan::Join(_) => Some("Join"),
            LogicalPlan::Sort { .. } => Some("Sort"),
            LogicalPlan::Limit { .. } => Some("LocalLimit"),
            LogicalPlan::Union { .. } => Some("Union"),
            LogicalPlan::EventTimeWatermark(_) => Some("EventTimeWatermark"),
            LogicalPlan::Generate(_) => Some("Generate"),
            LogicalPlan::Scan(_) | LogicalPlan::UnresolvedRelation(_) => Some("LogicalRelation"),
            LogicalPlan::Extension(e) => Some(e.node.name()),
        };
        if let Some(name) = name {
            return Err(error(format!(
                "Continuous processing does not support {name} operations."
            )));
        }
        if node.expressions().iter().any(|e| e.any(&is_current_time)) {
            return Err(error(
                "Continuous processing does not support current time operations.",
            ));
        }
    }
    Ok(())
}
