//! Streaming aggregation (Spark's `StateStoreRestoreExec` + `StateStoreSaveExec`): the
//! partial states of a micro-batch, exchanged by key, merge with each key's stored state.
//!
//! Store (one per state partition): key = the grouping keys (event-time first when a key
//! carries the watermark, see [`super::keys`]), value = the aggregates' partial states.
//!
//! Per output mode, with `late` the batch before's watermark and `wm` this batch's:
//! - **Append**: keys whose event time is at or before `late` are dropped as late (counted
//!   in `numRowsDroppedByWatermark`, after the batch's partials of a key merged, as Spark
//!   counts); the rest update state; then every key at or before `wm` is emitted once, with
//!   its final values, and removed.
//! - **Update**: the same late rule; every key updated by the batch is emitted; then keys at
//!   or before `wm` are removed without being emitted.
//! - **Complete**: nothing is late and nothing is removed; every key is emitted every batch.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{Field, Schema, SchemaRef};
use engine_core::connector::OutputMode;
use engine_core::expr::Expr;
use engine_core::functions::GroupsAccumulator;
use engine_core::logical::{LogicalPlan, UserDefinedLogicalNode};
use engine_core::physical::expr::PhysicalExprRef;
use engine_core::physical::plan::aggregate::AggregateCall;
use engine_core::physical::plan::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};
use engine_core::physical::planner::FinalAggregateStage;
use engine_core::schema::PlanSchema;
use engine_core::{EngineError, Result};
use engine_state::rows::RowCodec;

use super::keys::{EventTimeKey, StateKeys, evict};
use super::operator::{Phases, StateOperator, batch_of, timed};

/// A streaming aggregation in the per-batch plan: an `Aggregate` over a stream.
#[derive(Debug, Clone)]
pub struct StatefulAggregate {
    /// The operator id (`state/<id>`).
    pub id: u64,
    /// What the operator computes, as recorded with its state (a restart must match it).
    pub properties: String,
    /// Grouping keys.
    pub group_exprs: Vec<Expr>,
    /// Aggregate calls (each possibly aliased).
    pub aggr_exprs: Vec<Expr>,
    /// The query's output mode.
    pub mode: OutputMode,
    /// The grouping key that carries the watermark, if any.
    pub event_time: Option<EventTimeKey>,
    /// The input.
    pub input: Arc<LogicalPlan>,
}

impl UserDefinedLogicalNode for StatefulAggregate {
    fn name(&self) -> &str {
        "StatefulAggregate"
    }

    fn inputs(&self) -> Vec<&Arc<LogicalPlan>> {
        vec![&self.input]
    }

    fn with_new_inputs(
        &self,
        inputs: Vec<Arc<LogicalPlan>>,
    ) -> Result<Arc<dyn UserDefinedLogicalNode>> {
        let input = engine_core::logical::single_input("StatefulAggregate", inputs)?;
        Ok(Arc::new(StatefulAggregate {
            input,
            ..self.clone()
        }))
    }

    fn schema(&self) -> Result<PlanSchema> {
        self.as_aggregate().schema()
    }

    fn expressions(&self) -> Vec<&Expr> {
        self.group_exprs.iter().chain(&self.aggr_exprs).collect()
    }

    fn describe(&self) -> String {
        let g: Vec<String> = self.group_exprs.iter().map(|e| e.to_string()).collect();
        let a: Vec<String> = self.aggr_exprs.iter().map(|e| e.to_string()).collect();
        format!(
            "[{}], [{}], operator {}, {}",
            g.join(", "),
            a.join(", "),
            self.id,
            self.mode.name()
        )
    }

    fn reads_only_expressions(&self) -> bool {
        true
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl StatefulAggregate {
    /// The same aggregation as a plain `Aggregate` node.
    pub fn as_aggregate(&self) -> LogicalPlan {
        LogicalPlan::Aggregate {
            group_exprs: self.group_exprs.clone(),
            aggr_exprs: self.aggr_exprs.clone(),
            input: self.input.clone(),
        }
    }
}

/// The final stage that makes an aggregation stateful.
pub struct StatefulStage {
    /// The operator of this batch.
    pub op: Arc<StateOperator>,
    /// The output mode.
    pub mode: OutputMode,
    /// The grouping key that carries the watermark.
    pub event_time: Option<EventTimeKey>,
    /// `Some(stateSchemaCheck)` on a run's first batch: check the store's schema.
    pub schema_check: Option<bool>,
}

impl FinalAggregateStage for StatefulStage {
    fn plan_final(
        &self,
        exchanged: ExecutionPlanRef,
        keys: Vec<PhysicalExprRef>,
        calls: Vec<AggregateCall>,
        schema: SchemaRef,
    ) -> Result<ExecutionPlanRef> {
        let exec = StatefulAggregateExec::try_new(
            exchanged,
            keys,
            calls,
            schema,
            self.op.clone(),
            self.mode,
            self.event_time,
        )?;
        self.op
            .check_schema(self.schema_check, &exec.state_schema())?;
        Ok(Arc::new(exec))
    }
}

/// The stateful last stage of a streaming aggregation.
#[derive(Debug)]
pub struct StatefulAggregateExec {
    input: ExecutionPlanRef,
    keys: Vec<PhysicalExprRef>,
    calls: Vec<AggregateCall>,
    /// The keys, then one final value per call.
    schema: SchemaRef,
    op: Arc<StateOperator>,
    mode: OutputMode,
    state_keys: Arc<StateKeys>,
    values: Arc<RowCodec>,
}

impl StatefulAggregateExec {
    /// The stage over `input` (keys then partial states, as the partial aggregate made them).
    pub fn try_new(
        input: ExecutionPlanRef,
        keys: Vec<PhysicalExprRef>,
        calls: Vec<AggregateCall>,
        schema: SchemaRef,
        op: Arc<StateOperator>,
        mode: OutputMode,
        event_time: Option<EventTimeKey>,
    ) -> Result<Self> {
        let in_schema = input.schema();
        let key_fields: Vec<Field> = in_schema.fields()[..keys.len()]
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let value_fields: Vec<Field> = in_schema.fields()[keys.len()..]
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let state_keys = StateKeys::new(Arc::new(Schema::new(key_fields)), event_time)?;
        let values = RowCodec::new(Arc::new(Schema::new(value_fields)))?;
        Ok(StatefulAggregateExec {
            input,
            keys,
            calls,
            schema,
            op,
            mode,
            state_keys: Arc::new(state_keys),
            values: Arc::new(values),
        })
    }

    /// The store's key and value schemas (for the restart check).
    pub fn state_schema(&self) -> engine_state::rows::StateSchema {
        engine_state::rows::StateSchema {
            key: self.state_keys.stored_schema(),
            value: self.values.schema().clone(),
        }
    }

    fn accumulators(&self) -> Result<Vec<Box<dyn GroupsAccumulator>>> {
        self.calls
            .iter()
            .map(|c| c.func.create_accumulator(&c.arg_types))
            .collect()
    }

    /// Per call, its state columns among `columns` (the value columns, calls in order).
    fn split_states<'a>(&self, columns: &'a [ArrayRef]) -> Result<Vec<&'a [ArrayRef]>> {
        let mut out = Vec::with_capacity(self.calls.len());
        let mut at = 0;
        for c in &self.calls {
            let n = c.state_len()?;
            let s = columns.get(at..at + n).ok_or_else(|| {
                EngineError::Internal("fewer partial state columns than calls".into())
            })?;
            out.push(s);
            at += n;
        }
        Ok(out)
    }

    /// Final values of `n` groups whose merged states are `states` (value columns).
    fn finals(&self, states: &[ArrayRef], n: usize) -> Result<Vec<ArrayRef>> {
        let mut accs = self.accumulators()?;
        let ids: Vec<usize> = (0..n).collect();
        for (acc, s) in accs.iter_mut().zip(self.split_states(states)?) {
            acc.merge_batch(s, &ids, n)?;
        }
        accs.iter_mut().map(|a| a.evaluate()).collect()
    }

    /// Output rows of stored `(key, value)` pairs.
    fn emit(&self, pairs: &[(Vec<u8>, Vec<u8>)]) -> Result<Option<RecordBatch>> {
        if pairs.is_empty() {
            return Ok(None);
        }
        let keys: Vec<&[u8]> = pairs.iter().map(|(k, _)| k.as_slice()).collect();
        let values: Vec<&[u8]> = pairs.iter().map(|(_, v)| v.as_slice()).collect();
        let mut columns = self.state_keys.decode(&keys)?;
        let states = if self.calls.is_empty() {
            vec![]
        } else {
            self.values.decode(values)?
        };
        columns.extend(self.finals(&states, pairs.len())?);
        Ok(Some(batch_of(&self.schema, columns, pairs.len())?))
    }

    fn run(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<Vec<RecordBatch>> {
        let input = self
            .input
            .execute(partition, ctx)?
            .collect::<Result<Vec<_>>>()?;
        let mut phases = Phases::default();
        let mut store = self.op.open(partition)?;
        let late_us = self.op.batch.late_us();
        let mut dropped = 0u64;
        let mut out = Vec::new();
        // The batch's keys; each key's stored state merges first and the batch's partial
        // states after it, so order-sensitive aggregates (`first`, `collect_list`) see the
        // older rows first, as in Spark.
        let updated = timed(&mut phases.updates_ms, || {
            let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
            let mut groups: Vec<(Vec<u8>, Option<i64>)> = Vec::new();
            let mut batch_ids: Vec<Vec<usize>> = Vec::with_capacity(input.len());
            for b in &input {
                let n = b.num_rows();
                let key_cols = self
                    .keys
                    .iter()
                    .map(|k| k.evaluate(b)?.into_array(n))
                    .collect::<Result<Vec<_>>>()?;
                let ids: Vec<usize> = self
                    .state_keys
                    .encode(&key_cols, n)?
                    .into_iter()
                    .map(|(k, t)| {
                        *index.entry(k.clone()).or_insert_with(|| {
                            groups.push((k, t));
                            groups.len() - 1
                        })
                    })
                    .collect();
                batch_ids.push(ids);
            }
            let n = groups.len();
            let late: Vec<bool> = groups
                .iter()
                .map(|(_, t)| self.mode != OutputMode::Complete && t.is_some_and(|t| t <= late_us))
                .collect();
            dropped = late.iter().filter(|l| **l).count() as u64;
            let mut accs = self.accumulators()?;
            // Restore: the stored state of each key.
            let mut restored_ids = Vec::new();
            let mut restored = Vec::new();
            for (g, (key, _)) in groups.iter().enumerate() {
                if late[g] {
                    continue;
                }
                if let Some(v) = store.get(key)? {
                    restored_ids.push(g);
                    restored.push(v);
                }
            }
            if !restored.is_empty() {
                let states = self.values.decode(restored.iter().map(Vec::as_slice))?;
                for (acc, s) in accs.iter_mut().zip(self.split_states(&states)?) {
                    acc.merge_batch(s, &restored_ids, n)?;
                }
            }
            for (b, ids) in input.iter().zip(&batch_ids) {
                let states = b.columns().get(self.keys.len()..).unwrap_or_default();
                for (acc, s) in accs.iter_mut().zip(self.split_states(states)?) {
                    acc.merge_batch(s, ids, n)?;
                }
            }
            let mut states = Vec::new();
            for acc in accs.iter_mut() {
                states.extend(acc.state()?);
            }
            // An aggregation without aggregates (a streaming DISTINCT) stores keys only.
            let rows = if states.is_empty() {
                None
            } else {
                Some(self.values.encode(&states)?)
            };
            let mut updated = Vec::new();
            for (g, (key, _)) in groups.into_iter().enumerate() {
                if late[g] {
                    continue;
                }
                let value = rows
                    .as_ref()
                    .map(|r| r.row(g).as_ref().to_vec())
                    .unwrap_or_default();
                store.put(&key, &value)?;
                updated.push((key, value));
            }
            Ok(updated)
        })?;
        let wm_us = self.op.batch.eviction_us();
        match self.mode {
            OutputMode::Update => {
                out.extend(self.emit(&updated)?);
                timed(&mut phases.removals_ms, || {
                    evict(store.as_mut(), &self.state_keys, wm_us).map(|_| ())
                })?;
            }
            OutputMode::Append => {
                let evicted = timed(&mut phases.removals_ms, || {
                    evict(store.as_mut(), &self.state_keys, wm_us)
                })?;
                out.extend(self.emit(&evicted)?);
            }
            OutputMode::Complete => {
                let all: Vec<(Vec<u8>, Vec<u8>)> = store.iter()?.collect::<Result<_>>()?;
                out.extend(self.emit(&all)?);
            }
        }
        self.op.commit(store.as_mut(), phases, dropped, &[])?;
        Ok(out)
    }
}

impl ExecutionPlan for StatefulAggregateExec {
    fn name(&self) -> &'static str {
        "StateStoreSave"
    }

    fn describe(&self) -> String {
        let calls: Vec<&str> = self.calls.iter().map(|c| c.display.as_str()).collect();
        format!(
            "StateStoreSave [{}], operator {}, {}, [{}]",
            self.keys
                .iter()
                .map(|k| k.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            self.op.id,
            self.mode.name(),
            calls.join(", ")
        )
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn children(&self) -> Vec<ExecutionPlanRef> {
        vec![self.input.clone()]
    }

    fn output_partitions(&self) -> usize {
        self.input.output_partitions()
    }

    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        // Eager: the store commits before any row leaves, so a consumer that stops early
        // cannot leave the version unwritten.
        let out = self.run(partition, ctx)?;
        Ok(Box::new(out.into_iter().map(Ok)))
    }
}
