//! Spark's `UnsupportedOperationChecker`: what a streaming plan may contain, checked before a
//! query starts, with Spark's error classes and messages (pinned against PySpark 4.3 in
//! engine-sql's streaming tests). Where this engine does not yet support something Spark
//! does (stream-stream joins, limits outside Complete mode), the error says so instead of
//! computing a wrong answer.

use crate::connector::OutputMode;
use crate::{EngineError, Result};

use super::event_time::{EventTime, WindowKind, event_time_columns};
use crate::conf::SessionConf;
use crate::expr::Expr;
use crate::logical::{Deduplicate, JoinType, LogicalPlan};

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

/// Streaming aggregations (a `Distinct` counts as one, as in Spark), top-most first (Spark's
/// `plan.collect`).
fn streaming_aggregates(plan: &LogicalPlan) -> Vec<&LogicalPlan> {
    let mut out: Vec<&LogicalPlan> = nodes_up(plan)
        .into_iter()
        .filter(|p| {
            matches!(
                p,
                LogicalPlan::Aggregate { .. } | LogicalPlan::Distinct { .. }
            ) && p.is_streaming()
        })
        .collect();
    out.reverse();
    out
}

/// The event-time facts of an aggregation's grouping keys.
fn grouping_facts(agg: &LogicalPlan) -> Vec<Option<EventTime>> {
    let LogicalPlan::Aggregate {
        group_exprs, input, ..
    } = agg
    else {
        return vec![];
    };
    let (Ok(facts), Ok(schema)) = (event_time_columns(input), input.schema()) else {
        return vec![];
    };
    group_exprs
        .iter()
        .map(|g| match g.unalias() {
            Expr::Column(c) => schema
                .index_of(c.relation.as_deref(), &c.name)
                .ok()
                .and_then(|i| facts.get(i).copied().flatten()),
            _ => None,
        })
        .collect()
}

/// Whether an aggregation groups by an event-time column or a window over one: Spark's
/// "grouping attribute carries the watermark" test.
fn groups_by_watermark(agg: &LogicalPlan) -> bool {
    grouping_facts(agg)
        .iter()
        .any(|f| f.is_some_and(|f| f.is_watermarked()))
}

/// Whether an aggregation groups by a session window.
fn groups_by_session(agg: &LogicalPlan) -> bool {
    grouping_facts(agg)
        .iter()
        .any(|f| f.is_some_and(|f| f.window == Some(WindowKind::Session)))
}

/// A streaming deduplication and whether it is within the watermark.
fn streaming_dedupe(p: &LogicalPlan) -> Option<&Deduplicate> {
    match p {
        LogicalPlan::Extension(e) if p.is_streaming() => {
            e.node.as_any().downcast_ref::<Deduplicate>()
        }
        _ => None,
    }
}

/// Spark's `isStatefulOperation` of the global-watermark correctness check.
fn is_stateful_for_correctness(p: &LogicalPlan) -> bool {
    match p {
        LogicalPlan::Aggregate { .. } | LogicalPlan::Distinct { .. } => p.is_streaming(),
        LogicalPlan::Join(j) => j.left.is_streaming() && j.right.is_streaming(),
        other => streaming_dedupe(other).is_some_and(|d| {
            d.within_watermark || {
                let facts = event_time_columns(&d.input).unwrap_or_default();
                let schema = d.input.schema();
                d.keys.iter().any(|k| match (k, &schema) {
                    (Expr::Column(c), Ok(schema)) => schema
                        .index_of(c.relation.as_deref(), &c.name)
                        .ok()
                        .and_then(|i| facts.get(i).copied().flatten())
                        .is_some_and(|f| f.is_watermarked()),
                    _ => false,
                })
            }
        }),
    }
}

/// Spark's `isStatefulOperationPossiblyEmitLateRows`.
fn may_emit_late_rows(p: &LogicalPlan, mode: OutputMode) -> bool {
    match p {
        LogicalPlan::Aggregate { .. } | LogicalPlan::Distinct { .. } => {
            p.is_streaming() && mode != OutputMode::Append
        }
        LogicalPlan::Join(j) => {
            j.left.is_streaming() && j.right.is_streaming() && j.join_type != JoinType::Inner
        }
        _ => false,
    }
}

/// Spark's `checkStreamingQueryGlobalWatermarkLimit`: a stateful operator over another
/// stateful operator that may emit rows behind the global watermark (an aggregation outside
/// Append mode) could drop them as late.
fn check_global_watermark_limit(plan: &LogicalPlan, mode: OutputMode) -> Result<()> {
    for node in nodes_up(plan) {
        if !is_stateful_for_correctness(node) {
            continue;
        }
        let below = node
            .inputs()
            .into_iter()
            .flat_map(|i| nodes_up(i))
            .any(|d| may_emit_late_rows(d, mode));
        if below {
            return Err(error(
                "Detected pattern of possible 'correctness' issue due to global watermark. The query contains stateful operation which can emit rows older than the current watermark plus allowed late record delay, which are \"late rows\" in downstream stateful operations and these rows can be discarded. Please refer the programming guide doc for more details. If you understand the possible risk of correctness issue and still need to run the query, you can disable this check by setting the config `spark.sql.streaming.statefulOperator.checkCorrectness.enabled` to false.",
            ));
        }
    }
    Ok(())
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

/// `spark.sql.streaming.statefulOperator.checkCorrectness.enabled` (default true).
pub const CHECK_CORRECTNESS: &str = "spark.sql.streaming.statefulOperator.checkCorrectness.enabled";

/// Spark's `checkForStreaming` for `mode` (with `conf`'s settings), then this engine's own
/// limits.
pub fn check_streaming(plan: &LogicalPlan, mode: OutputMode, conf: &SessionConf) -> Result<()> {
    spark_streaming_checks(plan, mode, conf)?;
    check_not_yet_supported(plan, mode)
}

fn spark_streaming_checks(plan: &LogicalPlan, mode: OutputMode, conf: &SessionConf) -> Result<()> {
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
        OutputMode::Update => {
            if let Some(agg) = aggregates.first()
                && groups_by_session(agg)
            {
                return Err(output_mode_error(
                    mode,
                    "session window streaming aggregations",
                ));
            }
        }
        OutputMode::Complete if aggregates.is_empty() => {
            return Err(output_mode_error(mode, "no streaming aggregations"));
        }
        _ => {}
    }
    if conf.get_bool(CHECK_CORRECTNESS, true)? {
        check_global_watermark_limit(plan, mode)?;
    }
    let complete_data = |p: &LogicalPlan| {
        !p.is_streaming() || (!streaming_aggregates(p).is_empty() && mode == OutputMode::Complete)
    };
    for node in nodes_up(plan) {
        if let Some(d) = streaming_dedupe(node)
            && d.within_watermark
            && !event_time_columns(&d.input)
                .unwrap_or_default()
                .iter()
                .any(|f| f.is_some_and(|f| f.is_watermarked()))
        {
            return Err(error(
                "dropDuplicatesWithinWatermark is not supported on streaming DataFrames/DataSets without watermark",
            ));
        }
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

/// What Spark runs but this engine does not yet: stream-stream joins.
fn check_not_yet_supported(plan: &LogicalPlan, mode: OutputMode) -> Result<()> {
    for node in nodes_up(plan) {
        if !node.is_streaming() {
            continue;
        }
        let what = match node {
            // Append mode keeps a count in state; Update is refused above, as Spark does.
            LogicalPlan::Limit { .. }
                if mode != OutputMode::Complete && mode != OutputMode::Append =>
            {
                "Limits on streaming DataFrames/Datasets outside Complete and Append modes are"
            }
            LogicalPlan::Join(j) if j.left.is_streaming() && j.right.is_streaming() => {
                "Joins between two streaming DataFrames/Datasets are"
            }
            _ => continue,
        };
        return Err(EngineError::Unsupported(format!(
            "{what} not yet supported"
        )));
    }
    Ok(())
}

/// Spark's `checkForContinuous`: only projections and filters over sources.
pub fn check_continuous(plan: &LogicalPlan, mode: OutputMode, conf: &SessionConf) -> Result<()> {
    spark_streaming_checks(plan, mode, conf)?;
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
