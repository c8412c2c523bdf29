//! The stateful operators in a query's plan: [`rewrite`] turns a stream's aggregations and
//! deduplications into stateful nodes once per query (ids assigned top-down, as Spark's
//! `StateOpIdRule` does), and [`StatefulPlanner`] plans them into operators every batch.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use engine_core::analyzer::event_time::{WindowKind, event_time_columns};
use engine_core::connector::OutputMode;
use engine_core::expr::Expr;
use engine_core::logical::{
    Deduplicate, Extension, LogicalPlan, MergeSessions, UserDefinedLogicalNode,
};
use engine_core::physical::plan::ExecutionPlanRef;
use engine_core::physical::plan::exchange::ExchangeExec;
use engine_core::physical::plan::limit::LimitExec;
use engine_core::physical::planner::{ExtensionPlanner, PhysicalPlanner};
use engine_core::{EngineError, Result};
use engine_state::StateStores;
use engine_state::metadata::{OperatorInfo, OperatorMetadata, StoreInfo};
use engine_state::rows::StateSchema;

use super::aggregate::{StatefulAggregate, StatefulStage};
use super::dedupe::{StreamingDeduplicate, StreamingDeduplicateExec};
use super::keys::{EventTimeKey, StateKeys};
use super::limit::{
    RowByRow, RowByRowExec, StreamingGlobalLimit, StreamingGlobalLimitExec, limit_state_schema,
    pull_row_by_row,
};
use super::operator::{BatchInfo, StateOperator};
use super::session::{SessionAggregate, SessionStage};

/// What the runtime needs to know of a query's stateful operators.
#[derive(Debug, Clone, Default)]
pub struct StatefulOperators {
    /// How many there are.
    pub count: u64,
    /// True when one of them evicts by the watermark (so a watermark that moved is worth a
    /// batch without data): everything but aggregations in Complete mode.
    pub evicts_by_watermark: bool,
}

/// Replaces the stream's aggregations, `Distinct`s, deduplications and (in Append mode)
/// limits in `plan` (analyzed and optimized) by stateful nodes.
pub fn rewrite(
    plan: &Arc<LogicalPlan>,
    mode: OutputMode,
) -> Result<(Arc<LogicalPlan>, StatefulOperators)> {
    let mut ops = StatefulOperators::default();
    let out = plan.transform_down(&mut |node| {
        if !node.is_streaming() {
            return Ok(node);
        }
        let replaced = match node.as_ref() {
            LogicalPlan::Aggregate {
                group_exprs,
                aggr_exprs,
                input,
            } => Some(aggregate(ops.count, group_exprs, aggr_exprs, input, mode)?),
            LogicalPlan::Distinct { input } => {
                let schema = input.schema()?;
                let keys = schema
                    .fields()
                    .iter()
                    .map(|f| {
                        Expr::Column(engine_core::expr::Column::new(
                            f.qualifier.as_deref(),
                            f.name(),
                        ))
                    })
                    .collect::<Vec<_>>();
                Some(aggregate(ops.count, &keys, &[], input, mode)?)
            }
            // Spark's StreamingGlobalLimitStrategy; `LIMIT 0` is an empty result with no
            // state (Spark's optimizer turns it into an empty relation).
            LogicalPlan::Limit { n, input } if mode == OutputMode::Append && *n > 0 => Some((
                Extension::plan(StreamingGlobalLimit {
                    id: ops.count,
                    n: *n,
                    input: pull_row_by_row(input)?,
                }),
                false,
            )),
            LogicalPlan::Extension(e) => match e.node.as_any().downcast_ref::<Deduplicate>() {
                Some(d) => Some(deduplicate(ops.count, d)?),
                None => None,
            },
            _ => None,
        };
        match replaced {
            Some((node, evicts)) => {
                ops.count += 1;
                ops.evicts_by_watermark |= evicts;
                Ok(node)
            }
            None => Ok(node),
        }
    })?;
    Ok((out, ops))
}

fn aggregate(
    id: u64,
    group_exprs: &[Expr],
    aggr_exprs: &[Expr],
    input: &Arc<LogicalPlan>,
    mode: OutputMode,
) -> Result<(Arc<LogicalPlan>, bool)> {
    let evicts = mode != OutputMode::Complete;
    if let LogicalPlan::Extension(e) = input.as_ref()
        && let Some(m) = e.node.as_any().downcast_ref::<MergeSessions>()
    {
        let session = group_exprs
            .iter()
            .position(|g| g.unalias() == &m.session)
            .ok_or_else(|| {
                EngineError::Internal("a session aggregation without its session key".into())
            })?;
        if group_exprs.len() == 1 {
            return Err(EngineError::execution(
                "_LEGACY_ERROR_TEMP_3105",
                "Global aggregation with session window in streaming query is not supported.",
            ));
        }
        let properties = describe_operator(group_exprs, aggr_exprs, input, mode)?;
        return Ok((
            Extension::plan(SessionAggregate {
                id,
                properties,
                group_exprs: group_exprs.to_vec(),
                session,
                aggr_exprs: aggr_exprs.to_vec(),
                mode,
                input: m.input.clone(),
            }),
            evicts,
        ));
    }
    let facts = event_time_columns(input)?;
    let schema = input.schema()?;
    let event_time = group_exprs.iter().enumerate().find_map(|(i, g)| {
        let Expr::Column(c) = g.unalias() else {
            return None;
        };
        let j = schema.index_of(c.relation.as_deref(), &c.name).ok()?;
        let f = facts.get(j).copied().flatten()?;
        if !f.is_watermarked() {
            return None;
        }
        Some(match f.window {
            Some(WindowKind::Time) | Some(WindowKind::Session) => EventTimeKey::WindowEnd(i),
            None => EventTimeKey::Timestamp(i),
        })
    });
    let properties = describe_operator(group_exprs, aggr_exprs, input, mode)?;
    Ok((
        Extension::plan(StatefulAggregate {
            id,
            properties,
            group_exprs: group_exprs.to_vec(),
            aggr_exprs: aggr_exprs.to_vec(),
            mode,
            event_time,
            input: input.clone(),
        }),
        evicts,
    ))
}

fn deduplicate(id: u64, d: &Deduplicate) -> Result<(Arc<LogicalPlan>, bool)> {
    let facts = event_time_columns(&d.input)?;
    let schema = d.input.schema()?;
    let event_time = facts.iter().enumerate().find_map(|(i, f)| {
        let delay = f.and_then(|f| f.delay)?;
        Some((i, i64::try_from(delay.as_micros()).unwrap_or(i64::MAX)))
    });
    let key_event_time = event_time.and_then(|(i, _)| {
        let f = schema.field(i);
        d.keys.iter().position(
            |k| matches!(k, Expr::Column(c) if c.name == *f.name() && c.relation == f.qualifier),
        )
    });
    if d.within_watermark && event_time.is_none() {
        return Err(EngineError::analysis(
            "_LEGACY_ERROR_TEMP_3102",
            "dropDuplicatesWithinWatermark is not supported on streaming DataFrames/DataSets without watermark",
        ));
    }
    let properties = describe_operator(&d.keys, &[], &d.input, OutputMode::Append)?;
    Ok((
        Extension::plan(StreamingDeduplicate {
            id,
            properties,
            keys: d.keys.clone(),
            within_watermark: d.within_watermark,
            event_time,
            key_event_time,
            input: d.input.clone(),
        }),
        true,
    ))
}

/// What a stateful operator computes, for the restart check: its keys with their types
/// (a window key with its size, slide and start), its aggregates and the output mode.
fn describe_operator(
    keys: &[Expr],
    aggregates: &[Expr],
    input: &Arc<LogicalPlan>,
    mode: OutputMode,
) -> Result<String> {
    let schema = input.schema()?;
    let facts = event_time_columns(input)?;
    let keys = keys
        .iter()
        .map(|k| {
            let t = engine_core::types::sql_type_name(&k.data_type(&schema)?);
            let window = match k.unalias() {
                Expr::Column(c) => schema
                    .index_of(c.relation.as_deref(), &c.name)
                    .ok()
                    .and_then(|i| facts.get(i).copied().flatten())
                    .and_then(|f| f.spec)
                    .map(|w| format!(" window({}, {}, {})", w.size, w.slide, w.start))
                    .unwrap_or_default(),
                _ => String::new(),
            };
            Ok(format!("{}: {t}{window}", k.output_name()))
        })
        .collect::<Result<Vec<_>>>()?;
    let aggregates: Vec<String> = aggregates.iter().map(|a| a.unalias().to_string()).collect();
    Ok(format!(
        "keys [{}], aggregates [{}], {}",
        keys.join(", "),
        aggregates.join(", "),
        mode.name()
    ))
}

/// Plans the stateful nodes of one batch.
pub struct StatefulPlanner {
    /// The query run's stores.
    pub stores: Arc<StateStores>,
    /// `<checkpoint>/state`.
    pub state_root: PathBuf,
    /// The batch.
    pub batch: BatchInfo,
    /// On the first batch of a run: check each store's schema against the checkpoint's
    /// (`Some(stateSchemaCheck)`).
    pub schema_check: Option<bool>,
    /// The operators planned, in id order, for progress and metadata.
    pub operators: Mutex<Vec<Arc<StateOperator>>>,
}

impl std::fmt::Debug for StatefulPlanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatefulPlanner")
            .field("batch", &self.batch)
            .finish()
    }
}

impl StatefulPlanner {
    fn operator(
        &self,
        id: u64,
        name: &'static str,
        partitions: usize,
        properties: &str,
    ) -> Result<Arc<StateOperator>> {
        let op = Arc::new(StateOperator::new(
            id,
            name,
            self.stores.clone(),
            self.state_root.clone(),
            self.batch,
            partitions,
            properties.to_string(),
        ));
        let mut ops = self
            .operators
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        ops.push(op.clone());
        ops.sort_by_key(|o| o.id);
        Ok(op)
    }

    /// The operators planned so far, in id order.
    pub fn operators(&self) -> Vec<Arc<StateOperator>> {
        self.operators
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Spark's operator metadata of the planned operators.
    pub fn metadata(&self) -> Vec<OperatorMetadata> {
        self.operators()
            .iter()
            .map(|o| OperatorMetadata {
                operator_info: OperatorInfo {
                    operator_id: o.id,
                    operator_name: o.name.to_string(),
                },
                state_store_info: vec![StoreInfo {
                    store_name: "default".into(),
                    num_cols_prefix_key: 0,
                    num_partitions: o.partitions as u32,
                }],
            })
            .collect()
    }
}

impl ExtensionPlanner for StatefulPlanner {
    fn plan_extension(
        &self,
        planner: &PhysicalPlanner<'_>,
        node: &dyn UserDefinedLogicalNode,
    ) -> Result<Option<ExecutionPlanRef>> {
        let any = node.as_any();
        if let Some(a) = any.downcast_ref::<StatefulAggregate>() {
            let partitions = if a.group_exprs.is_empty() {
                1
            } else {
                planner.shuffle_partitions()?
            };
            let op = self.operator(a.id, "stateStoreSave", partitions, &a.properties)?;
            let stage = StatefulStage {
                op,
                mode: a.mode,
                event_time: a.event_time,
                schema_check: self.schema_check,
            };
            return Ok(Some(planner.plan_aggregate(
                &a.group_exprs,
                &a.aggr_exprs,
                &a.input,
                &a.schema()?,
                &stage,
            )?));
        }
        if let Some(s) = any.downcast_ref::<SessionAggregate>() {
            let op = self.operator(
                s.id,
                "sessionWindowStateStoreSaveExec",
                planner.shuffle_partitions()?,
                &s.properties,
            )?;
            let stage = SessionStage {
                op,
                mode: s.mode,
                session: s.session,
                schema_check: self.schema_check,
            };
            return Ok(Some(planner.plan_aggregate(
                &s.group_exprs,
                &s.aggr_exprs,
                &s.input,
                &s.schema()?,
                &stage,
            )?));
        }
        if let Some(r) = any.downcast_ref::<RowByRow>() {
            let child = planner.plan(&r.input)?;
            return Ok(Some(Arc::new(RowByRowExec::new(child))));
        }
        if let Some(l) = any.downcast_ref::<StreamingGlobalLimit>() {
            let child = planner.plan(&l.input)?;
            let local: ExecutionPlanRef = Arc::new(LimitExec::new(child, l.n, false));
            let one: ExecutionPlanRef = Arc::new(ExchangeExec::new(local, vec![], 1));
            let op = self.operator(l.id, "globalLimit", 1, &l.properties())?;
            op.check_schema(self.schema_check, &limit_state_schema())?;
            return Ok(Some(Arc::new(StreamingGlobalLimitExec::new(one, l.n, op))));
        }
        if let Some(d) = any.downcast_ref::<StreamingDeduplicate>() {
            let schema = d.input.schema()?;
            let child = planner.plan(&d.input)?;
            let keys = d
                .keys
                .iter()
                .map(|k| planner.expr(k, &schema))
                .collect::<Result<Vec<_>>>()?;
            let n = planner.shuffle_partitions()?;
            let exchanged: ExecutionPlanRef = Arc::new(ExchangeExec::new(child, keys.clone(), n));
            let op = self.operator(d.id, d.operator_name(), n, &d.properties)?;
            let key_fields: Vec<arrow::datatypes::Field> = keys
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    arrow::datatypes::Field::new(format!("_k{i}"), k.data_type().clone(), true)
                })
                .collect();
            let key_schema = Arc::new(arrow::datatypes::Schema::new(key_fields));
            let event_key = match (d.within_watermark, d.key_event_time) {
                (false, Some(i)) => Some(EventTimeKey::Timestamp(i)),
                _ => None,
            };
            let state_keys = StateKeys::new(key_schema, event_key)?;
            op.check_schema(
                self.schema_check,
                &StateSchema {
                    key: state_keys.stored_schema(),
                    value: Arc::new(arrow::datatypes::Schema::empty()),
                },
            )?;
            return Ok(Some(Arc::new(StreamingDeduplicateExec::new(
                exchanged,
                keys,
                state_keys,
                d.event_time,
                d.within_watermark,
                op,
            ))));
        }
        Ok(None)
    }
}
