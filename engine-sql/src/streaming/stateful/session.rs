//! Session window aggregation on a stream (Spark's `SessionWindowStateStoreRestoreExec` +
//! `SessionWindowStateStoreSaveExec` around `MergingSessionsExec`).
//!
//! The batch's partial states (per key and per event's own session `[ts, ts + gap)`) are
//! exchanged by the keys besides the session, so all sessions of a key meet in one
//! partition. There, per key:
//! 1. an input session (one per key and event time) that ends at or before the batch
//!    before's watermark is late: dropped and counted, before any merging;
//! 2. the batch's other sessions merge where they touch or overlap (start <= current end);
//! 3. the key's stored sessions are read (a prefix scan) and merged with the batch's: an
//!    event that bridges two stored sessions makes them one;
//! 4. the stored sessions that merged are replaced by the merged session.
//!
//! Then Append emits every session whose end is at or before this batch's watermark, with
//! its final values, and removes it; Complete emits every session. (Spark refuses Update for
//! session windows; the output-mode check does too.)
//!
//! Store: key = the grouping keys then the session start (so one key's sessions are a
//! prefix scan, in start order); value = the session end, then the partial states.
//! Eviction looks at every session (their order is by key, not by end).

use std::any::Any;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StructArray};
use arrow::compute::{
    SortColumn, SortOptions, cast, concat_batches, interleave, lexsort_to_indices, take,
};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
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

use super::operator::{Phases, StateOperator, batch_of, timed};

/// A session window aggregation over a stream in the per-batch plan.
#[derive(Debug, Clone)]
pub struct SessionAggregate {
    /// The operator id.
    pub id: u64,
    /// What the operator computes, as recorded with its state (a restart must match it).
    pub properties: String,
    /// Grouping keys (the session window among them).
    pub group_exprs: Vec<Expr>,
    /// Position of the session window among `group_exprs`.
    pub session: usize,
    /// Aggregate calls.
    pub aggr_exprs: Vec<Expr>,
    /// The output mode.
    pub mode: OutputMode,
    /// The input (each row with its own session).
    pub input: Arc<LogicalPlan>,
}

impl UserDefinedLogicalNode for SessionAggregate {
    fn name(&self) -> &str {
        "SessionWindowAggregate"
    }

    fn inputs(&self) -> Vec<&Arc<LogicalPlan>> {
        vec![&self.input]
    }

    fn with_new_inputs(
        &self,
        inputs: Vec<Arc<LogicalPlan>>,
    ) -> Result<Arc<dyn UserDefinedLogicalNode>> {
        let input = engine_core::logical::single_input("SessionAggregate", inputs)?;
        Ok(Arc::new(SessionAggregate {
            input,
            ..self.clone()
        }))
    }

    fn schema(&self) -> Result<PlanSchema> {
        LogicalPlan::Aggregate {
            group_exprs: self.group_exprs.clone(),
            aggr_exprs: self.aggr_exprs.clone(),
            input: self.input.clone(),
        }
        .schema()
    }

    fn expressions(&self) -> Vec<&Expr> {
        self.group_exprs.iter().chain(&self.aggr_exprs).collect()
    }

    fn describe(&self) -> String {
        let g: Vec<String> = self.group_exprs.iter().map(|e| e.to_string()).collect();
        format!(
            "[{}], operator {}, {}",
            g.join(", "),
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

/// The final stage of a session window aggregation.
pub struct SessionStage {
    /// The operator of this batch.
    pub op: Arc<StateOperator>,
    /// The output mode.
    pub mode: OutputMode,
    /// Position of the session window among the grouping keys.
    pub session: usize,
    /// `Some(stateSchemaCheck)` on a run's first batch: check the store's schema.
    pub schema_check: Option<bool>,
}

impl FinalAggregateStage for SessionStage {
    fn exchange_keys(&self, groups: usize) -> Option<Vec<usize>> {
        Some((0..groups).filter(|&i| i != self.session).collect())
    }

    fn plan_final(
        &self,
        exchanged: ExecutionPlanRef,
        keys: Vec<PhysicalExprRef>,
        calls: Vec<AggregateCall>,
        schema: SchemaRef,
    ) -> Result<ExecutionPlanRef> {
        let exec = SessionAggregateExec::try_new(
            exchanged,
            keys,
            calls,
            schema,
            self.op.clone(),
            self.mode,
            self.session,
        )?;
        self.op
            .check_schema(self.schema_check, &exec.state_schema())?;
        Ok(Arc::new(exec))
    }
}

/// The stateful stage of a session window aggregation.
#[derive(Debug)]
pub struct SessionAggregateExec {
    input: ExecutionPlanRef,
    /// The grouping keys over the input (`_gk0..`), the session among them.
    keys: Vec<PhysicalExprRef>,
    session: usize,
    calls: Vec<AggregateCall>,
    schema: SchemaRef,
    op: Arc<StateOperator>,
    mode: OutputMode,
    /// The keys besides the session.
    key_codec: Option<RowCodec>,
    /// The session end, then the partial states.
    values: RowCodec,
    /// The session window's timestamp type.
    time_type: DataType,
}

/// One session of one key: where its parts' states are.
#[derive(Debug)]
struct Session {
    start: i64,
    end: i64,
    /// The batch's and the stored sessions merged in, in start order (the order Spark's
    /// merge of input and state rows folds them, which `last`, `collect_list` see).
    parts: Vec<Part>,
}

impl Session {
    /// Whether a part is from this batch (else the session stays as stored).
    fn has_batch_part(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Batch(_)))
    }
}

/// Where one part of a session comes from.
#[derive(Debug, Clone, Copy)]
enum Part {
    /// A batch session (index into the batch's sessions).
    Batch(usize),
    /// A stored session (index into the stored sessions read this batch).
    Stored(usize),
}

const START: usize = 8;

fn start_suffix(t: i64) -> [u8; START] {
    ((t as u64) ^ (1 << 63)).to_be_bytes()
}

/// The session start at the end of a stored key whose grouping-key part is `key_len` bytes.
fn session_start(stored_key: &[u8], key_len: usize) -> Result<i64> {
    stored_key
        .get(key_len..)
        .and_then(|b| <[u8; START]>::try_from(b).ok())
        .map(|b| (u64::from_be_bytes(b) ^ (1 << 63)) as i64)
        .ok_or_else(|| EngineError::Internal("a stored session key without start".into()))
}

/// The session end, the first column of a stored value, read from the value's bytes without
/// decoding the partial states. In Arrow's row format a non-null 64-bit timestamp is a byte
/// 1 then its value big-endian with the sign bit flipped (pinned by a test against the codec);
/// a NULL end (never written) counts as never ending, as before.
fn session_end(value: &[u8]) -> Result<i64> {
    match value.split_first() {
        Some((1, rest)) => rest
            .get(..8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(|b| (u64::from_be_bytes(b) ^ (1 << 63)) as i64)
            .ok_or_else(|| EngineError::Internal("a stored session value too short".into())),
        Some((0, _)) => Ok(i64::MAX),
        _ => Err(EngineError::execution(
            "STATE_STORE_KEY_ROW_FORMAT_VALIDATION_FAILURE",
            "The streaming query failed to validate written state for key or value row: a \
             session window's value does not start with its end. The checkpoint may have been \
             written by an incompatible query or version, or be corrupt. SQLSTATE: XX000",
        )),
    }
}

impl SessionAggregateExec {
    /// The stage over `input` (keys, session and partial states as the partial aggregate
    /// made them, exchanged by the keys besides the session).
    pub fn try_new(
        input: ExecutionPlanRef,
        keys: Vec<PhysicalExprRef>,
        calls: Vec<AggregateCall>,
        schema: SchemaRef,
        op: Arc<StateOperator>,
        mode: OutputMode,
        session: usize,
    ) -> Result<Self> {
        let in_schema = input.schema();
        let key_fields: Vec<Field> = (0..keys.len())
            .filter(|&i| i != session)
            .map(|i| in_schema.field(i).clone())
            .collect();
        let time_type = match in_schema.field(session).data_type() {
            DataType::Struct(f) if f.len() == 2 => f[1].data_type().clone(),
            other => {
                return Err(EngineError::Internal(format!(
                    "a session window of type {other}"
                )));
            }
        };
        let mut value_fields = vec![Field::new("session_end", time_type.clone(), true)];
        value_fields.extend(
            in_schema.fields()[keys.len()..]
                .iter()
                .map(|f| f.as_ref().clone()),
        );
        let key_codec = if key_fields.is_empty() {
            None
        } else {
            Some(RowCodec::new(Arc::new(Schema::new(key_fields)))?)
        };
        Ok(SessionAggregateExec {
            values: RowCodec::new(Arc::new(Schema::new(value_fields)))?,
            input,
            keys,
            session,
            calls,
            schema,
            op,
            mode,
            key_codec,
            time_type,
        })
    }

    /// The store's key and value schemas (for the restart check).
    pub fn state_schema(&self) -> engine_state::rows::StateSchema {
        let in_schema = self.input.schema();
        let mut key_fields: Vec<Field> = (0..self.keys.len())
            .filter(|&i| i != self.session)
            .map(|i| in_schema.field(i).clone())
            .collect();
        key_fields.push(Field::new("session_start", self.time_type.clone(), false));
        engine_state::rows::StateSchema {
            key: Arc::new(Schema::new(key_fields)),
            value: self.values.schema().clone(),
        }
    }

    fn accumulators(&self) -> Result<Vec<Box<dyn GroupsAccumulator>>> {
        self.calls
            .iter()
            .map(|c| c.func.create_accumulator(&c.arg_types))
            .collect()
    }

    fn split_states<'a>(&self, columns: &'a [ArrayRef]) -> Result<Vec<&'a [ArrayRef]>> {
        let mut out = Vec::with_capacity(self.calls.len());
        let mut at = 0;
        for c in &self.calls {
            let n = c.state_len()?;
            out.push(columns.get(at..at + n).ok_or_else(|| {
                EngineError::Internal("fewer partial state columns than calls".into())
            })?);
            at += n;
        }
        Ok(out)
    }

    /// The keys besides the session as rows (`None` when the session is the only key).
    fn key_rows(&self, key_cols: &[ArrayRef]) -> Result<Option<arrow::row::Rows>> {
        self.key_codec
            .as_ref()
            .map(|c| c.encode(key_cols))
            .transpose()
    }

    fn timestamps(&self, values: Vec<i64>) -> Result<ArrayRef> {
        let a = arrow::array::Int64Array::from(values);
        Ok(cast(&a, &self.time_type)?)
    }

    fn run(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<Vec<RecordBatch>> {
        let in_schema = self.input.schema();
        let batches = self
            .input
            .execute(partition, ctx)?
            .collect::<Result<Vec<_>>>()?;
        let all = concat_batches(&in_schema, &batches)?;
        let mut phases = Phases::default();
        let mut store = self.op.open(partition)?;
        let late_us = self.op.batch.late_us();
        let wm_us = self.op.batch.eviction_us();
        let mut dropped = 0u64;
        timed(&mut phases.updates_ms, || {
            // 1. The batch's sessions per key, merged, with their partial states.
            let n = all.num_rows();
            let key_cols: Vec<ArrayRef> = (0..self.keys.len())
                .filter(|&i| i != self.session)
                .map(|i| self.keys[i].evaluate(&all)?.into_array(n))
                .collect::<Result<_>>()?;
            let window = self.keys[self.session].evaluate(&all)?.into_array(n)?;
            let window = window
                .as_struct_opt()
                .ok_or_else(|| EngineError::Internal("session window is not a struct".into()))?;
            let starts = cast(window.column(0), &DataType::Int64)?;
            let ends = cast(window.column(1), &DataType::Int64)?;
            let mut sort: Vec<SortColumn> = key_cols
                .iter()
                .map(|k| SortColumn {
                    values: k.clone(),
                    options: Some(SortOptions::default()),
                })
                .collect();
            sort.push(SortColumn {
                values: starts.clone(),
                options: Some(SortOptions::default()),
            });
            let order = if n == 0 {
                arrow::array::UInt32Array::from(Vec::<u32>::new())
            } else {
                lexsort_to_indices(&sort, None)?
            };
            // 2. A row whose own session ends at or before the previous batch's watermark is
            // late: dropped and counted before any merging, so it neither bridges nor widens
            // a session of rows on time (Spark's restore step filters its input rows so).
            let ends_all = ends.as_primitive::<Int64Type>();
            let order: arrow::array::UInt32Array = order
                .values()
                .iter()
                .copied()
                .filter(|&i| ends_all.is_null(i as usize) || ends_all.value(i as usize) > late_us)
                .collect::<Vec<u32>>()
                .into();
            dropped += (n - order.len()) as u64;
            let n = order.len();
            let sorted_keys: Vec<ArrayRef> = key_cols
                .iter()
                .map(|k| take(k.as_ref(), &order, None))
                .collect::<std::result::Result<_, _>>()?;
            let starts = take(starts.as_ref(), &order, None)?;
            let ends = take(ends.as_ref(), &order, None)?;
            let starts = starts.as_primitive::<Int64Type>();
            let ends = ends.as_primitive::<Int64Type>();
            let key_rows = self.key_rows(&sorted_keys)?;
            let key_of = |i: usize| -> &[u8] { key_rows.as_ref().map_or(&[], |r| r.row(i).data()) };
            // Per sorted row its batch session; per batch session (first row, start, end).
            let mut owner = Vec::with_capacity(n);
            let mut batch_sessions: Vec<(usize, i64, i64)> = Vec::new();
            // The stored sessions read for the batch's keys (store key, value).
            let mut stored_parts: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            for i in 0..n {
                if starts.is_null(i) || ends.is_null(i) {
                    return Err(EngineError::Internal("a session without bounds".into()));
                }
                let (s, e) = (starts.value(i), ends.value(i));
                match batch_sessions.last_mut() {
                    Some((first, _, cur_end)) if s <= *cur_end && key_of(*first) == key_of(i) => {
                        *cur_end = (*cur_end).max(e);
                    }
                    _ => batch_sessions.push((i, s, e)),
                }
                owner.push(batch_sessions.len() - 1);
            }
            let mut batch_accs = self.accumulators()?;
            let state_cols: Vec<ArrayRef> = all.columns()[self.keys.len()..]
                .iter()
                .map(|c| take(c.as_ref(), &order, None))
                .collect::<std::result::Result<_, _>>()?;
            for (acc, s) in batch_accs.iter_mut().zip(self.split_states(&state_cols)?) {
                acc.merge_batch(s, &owner, batch_sessions.len())?;
            }
            let mut batch_states = Vec::new();
            for acc in batch_accs.iter_mut() {
                batch_states.extend(acc.state()?);
            }
            // 3. Merged with the stored ones per key. The rows are sorted by key, so one key's
            // batch sessions are adjacent (and in start order).
            let mut merged: Vec<(usize, Session)> = Vec::new();
            let mut items: Vec<(i64, i64, Part)> = Vec::new();
            let mut at = 0;
            while at < batch_sessions.len() {
                let key = key_of(batch_sessions[at].0);
                let mut next = at;
                items.clear();
                while next < batch_sessions.len() && key_of(batch_sessions[next].0) == key {
                    let (_, s, e) = batch_sessions[next];
                    items.push((s, e, Part::Batch(next)));
                    next += 1;
                }
                let group = at;
                at = next;
                if items.is_empty() {
                    continue;
                }
                let first_stored = stored_parts.len();
                for pair in store.prefix_scan(key)? {
                    let (k, v) = pair?;
                    let start = session_start(&k, key.len())?;
                    let end = session_end(&v)?;
                    items.push((start, end, Part::Stored(stored_parts.len())));
                    stored_parts.push((k, v));
                }
                if stored_parts.len() > first_stored {
                    items.sort_by_key(|x| (x.0, x.1));
                }
                let mut current: Option<Session> = None;
                for &(s, e, part) in &items {
                    match current.as_mut() {
                        Some(cur) if s <= cur.end => cur.end = cur.end.max(e),
                        _ => {
                            if let Some(done) = current.take()
                                && done.has_batch_part()
                            {
                                merged.push((group, done));
                            }
                            current = Some(Session {
                                start: s,
                                end: e,
                                parts: vec![],
                            });
                        }
                    }
                    if let Some(cur) = current.as_mut() {
                        cur.parts.push(part);
                    }
                }
                // Sessions with no part from this batch stay as stored.
                if let Some(done) = current
                    && done.has_batch_part()
                {
                    merged.push((group, done));
                }
            }
            // 4. Each changed session's states: its parts' partial states merged in start
            // order, batch and stored ones interleaved.
            let m = merged.len();
            let mut accs = self.accumulators()?;
            let mut ids = Vec::new();
            let mut picks: Vec<(usize, usize)> = Vec::new();
            for (g, (_, s)) in merged.iter().enumerate() {
                for part in &s.parts {
                    ids.push(g);
                    picks.push(match *part {
                        Part::Batch(i) => (0, i),
                        Part::Stored(j) => (1, j),
                    });
                }
            }
            let decoded = if stored_parts.is_empty() {
                vec![]
            } else {
                self.values
                    .decode(stored_parts.iter().map(|(_, v)| v.as_slice()))?
            };
            let stored_states = decoded.get(1..).unwrap_or_default();
            if !ids.is_empty() {
                let parts: Vec<ArrayRef> = batch_states
                    .iter()
                    .enumerate()
                    .map(|(c, batch)| {
                        // The stored column as the batch's type (a list's field name may
                        // differ between an accumulator's state and the decoded rows).
                        let stored = match stored_states.get(c) {
                            Some(s) if s.data_type() != batch.data_type() => {
                                Some(cast(s, batch.data_type())?)
                            }
                            other => other.cloned(),
                        };
                        let mut sources: Vec<&dyn Array> = vec![batch.as_ref()];
                        if let Some(stored) = &stored {
                            sources.push(stored.as_ref());
                        }
                        Ok(interleave(&sources, &picks)?)
                    })
                    .collect::<Result<_>>()?;
                for (acc, s) in accs.iter_mut().zip(self.split_states(&parts)?) {
                    acc.merge_batch(s, &ids, m)?;
                }
            }
            let mut states = Vec::new();
            for acc in accs.iter_mut() {
                states.extend(acc.state()?);
            }
            let mut value_cols =
                vec![self.timestamps(merged.iter().map(|(_, s)| s.end).collect())?];
            value_cols.extend(states);
            let rows = self.values.encode(&value_cols)?;
            let mut k = Vec::new();
            for (g, (group, s)) in merged.iter().enumerate() {
                for part in &s.parts {
                    if let Part::Stored(j) = *part {
                        store.remove(&stored_parts[j].0)?;
                    }
                }
                k.clear();
                k.extend_from_slice(key_of(batch_sessions[*group].0));
                k.extend_from_slice(&start_suffix(s.start));
                store.put(&k, rows.row(g).as_ref())?;
            }
            Ok(())
        })?;
        let mut out = Vec::new();
        match self.mode {
            OutputMode::Complete => {
                let all: Vec<(Vec<u8>, Vec<u8>)> = store.iter()?.collect::<Result<_>>()?;
                out.extend(self.emit(&all)?);
            }
            _ => {
                let evicted = timed(&mut phases.removals_ms, || {
                    // Sessions are stored by key, not by end: every one is looked at (in
                    // whatever order the store walks fastest), only its end is decoded, and
                    // only the evicted ones are copied; they are emitted in key order.
                    let mut evicted: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
                    store.for_each_unordered(&mut |k, v| {
                        if session_end(v)? <= wm_us {
                            evicted.push((k.to_vec(), v.to_vec()));
                        }
                        Ok(())
                    })?;
                    evicted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                    for (k, _) in &evicted {
                        store.remove(k)?;
                    }
                    Ok(evicted)
                })?;
                out.extend(self.emit(&evicted)?);
            }
        }
        self.op.commit(store.as_mut(), phases, dropped, &[])?;
        Ok(out)
    }

    /// Output rows (keys, session, final values) of stored sessions.
    fn emit(&self, pairs: &[(Vec<u8>, Vec<u8>)]) -> Result<Option<RecordBatch>> {
        if pairs.is_empty() {
            return Ok(None);
        }
        let n = pairs.len();
        let split: Vec<(&[u8], i64)> = pairs
            .iter()
            .map(|(k, _)| {
                let at = k.len().checked_sub(START).ok_or_else(|| {
                    EngineError::Internal("a stored session key without start".into())
                })?;
                Ok((k.get(..at).unwrap_or_default(), session_start(k, at)?))
            })
            .collect::<Result<_>>()?;
        let key_cols = match &self.key_codec {
            Some(c) => c.decode(split.iter().map(|(k, _)| *k))?,
            None => vec![],
        };
        let decoded = self
            .values
            .decode(pairs.iter().map(|(_, v)| v.as_slice()))?;
        let starts = self.timestamps(split.iter().map(|(_, s)| *s).collect())?;
        let window_type = self.input.schema().field(self.session).data_type().clone();
        let DataType::Struct(fields) = window_type else {
            return Err(EngineError::Internal(
                "session window is not a struct".into(),
            ));
        };
        let session = Arc::new(StructArray::try_new(
            fields,
            vec![starts, decoded[0].clone()],
            None,
        )?) as ArrayRef;
        let mut accs = self.accumulators()?;
        let ids: Vec<usize> = (0..n).collect();
        for (acc, s) in accs
            .iter_mut()
            .zip(self.split_states(decoded.get(1..).unwrap_or_default())?)
        {
            acc.merge_batch(s, &ids, n)?;
        }
        let mut columns = Vec::with_capacity(self.schema.fields().len());
        let mut keys = key_cols.into_iter();
        for i in 0..self.keys.len() {
            if i == self.session {
                columns.push(session.clone());
            } else {
                columns.push(keys.next().ok_or_else(|| {
                    EngineError::Internal("fewer session keys than expected".into())
                })?);
            }
        }
        for acc in accs.iter_mut() {
            columns.push(acc.evaluate()?);
        }
        Ok(Some(batch_of(&self.schema, columns, n)?))
    }
}

impl ExecutionPlan for SessionAggregateExec {
    fn name(&self) -> &'static str {
        "SessionWindowStateStoreSave"
    }

    fn describe(&self) -> String {
        format!(
            "SessionWindowStateStoreSave operator {}, {}",
            self.op.id,
            self.mode.name()
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
        let out = self.run(partition, ctx)?;
        Ok(Box::new(out.into_iter().map(Ok)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use arrow::array::{Int64Array, TimestampMicrosecondArray};
    use arrow::datatypes::TimeUnit;

    #[test]
    fn the_session_end_is_read_from_the_value_bytes_as_the_codec_wrote_it() {
        // A value as the operator writes it: the end, then a partial state.
        let schema = Arc::new(Schema::new(vec![
            Field::new(
                "session_end",
                DataType::Timestamp(TimeUnit::Microsecond, None),
                true,
            ),
            Field::new("count", DataType::Int64, true),
        ]));
        let codec = RowCodec::new(schema).unwrap();
        let ends = [
            Some(0),
            Some(1),
            Some(-1),
            Some(1_700_000_000_000_000),
            Some(-62_135_596_800_000_000),
            Some(i64::MAX),
            Some(i64::MIN),
            None,
        ];
        let end_col: ArrayRef = Arc::new(TimestampMicrosecondArray::from(ends.to_vec()));
        let count: ArrayRef = Arc::new(Int64Array::from(vec![7; ends.len()]));
        let rows = codec.encode(&[end_col, count]).unwrap();
        for (i, end) in ends.iter().enumerate() {
            assert_eq!(
                session_end(rows.row(i).as_ref()).unwrap(),
                end.unwrap_or(i64::MAX),
                "end {end:?}"
            );
        }
        assert!(session_end(&[]).is_err());
        assert!(session_end(&[1, 2, 3]).is_err());
        assert!(session_end(&[9; 9]).is_err());
    }

    #[test]
    fn the_session_start_is_the_stored_keys_suffix() {
        for t in [0, 1, -1, i64::MAX, i64::MIN, 1_700_000_000_000_000] {
            let mut key = b"user-1".to_vec();
            key.extend_from_slice(&start_suffix(t));
            assert_eq!(session_start(&key, 6).unwrap(), t);
        }
        assert!(session_start(b"short", 2).is_err());
        assert!(session_start(b"user-1", 10).is_err());
    }
}
