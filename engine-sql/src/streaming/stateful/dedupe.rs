//! Streaming deduplication (Spark's `StreamingDeduplicateExec` and
//! `StreamingDeduplicateWithinWatermarkExec`): a row passes the first time its key is seen.
//!
//! Store: key = the deduplication keys (event-time first when one of them carries the
//! watermark); value = nothing (`dropDuplicates`) or the time the key expires
//! (`dropDuplicatesWithinWatermark`: first event time + the watermark delay).
//!
//! - Late rows (event time at or before the batch before's watermark, when the input has a
//!   watermarked column) are dropped and counted.
//! - `dropDuplicates` forgets a key only when its key carries the watermark, once the
//!   watermark reaches it (a range scan); without that, keys are kept forever, as in Spark.
//! - `dropDuplicatesWithinWatermark` forgets a key once the watermark reaches its expiry.

use std::any::Any;
use std::sync::Arc;

use arrow::array::{AsArray, BooleanArray, RecordBatch};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::{DataType, Int64Type, SchemaRef};
use engine_core::expr::Expr;
use engine_core::logical::{LogicalPlan, UserDefinedLogicalNode};
use engine_core::physical::expr::PhysicalExprRef;
use engine_core::physical::plan::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};
use engine_core::schema::PlanSchema;
use engine_core::{EngineError, Result};

use super::keys::StateKeys;
use super::operator::{Phases, StateOperator, timed};

/// `dropDuplicates` / `dropDuplicatesWithinWatermark` in the per-batch plan.
#[derive(Debug, Clone)]
pub struct StreamingDeduplicate {
    /// The operator id.
    pub id: u64,
    /// What the operator computes, as recorded with its state (a restart must match it).
    pub properties: String,
    /// The key columns.
    pub keys: Vec<Expr>,
    /// Within-watermark deduplication.
    pub within_watermark: bool,
    /// The input's watermarked column and its delay in microseconds, if any.
    pub event_time: Option<(usize, i64)>,
    /// The key (position among `keys`) that carries the watermark, if any.
    pub key_event_time: Option<usize>,
    /// The input.
    pub input: Arc<LogicalPlan>,
}

impl StreamingDeduplicate {
    /// Spark's operator name.
    pub fn operator_name(&self) -> &'static str {
        if self.within_watermark {
            "dedupeWithinWatermark"
        } else {
            "dedupe"
        }
    }
}

impl UserDefinedLogicalNode for StreamingDeduplicate {
    fn name(&self) -> &str {
        if self.within_watermark {
            "StreamingDeduplicateWithinWatermark"
        } else {
            "StreamingDeduplicate"
        }
    }

    fn inputs(&self) -> Vec<&Arc<LogicalPlan>> {
        vec![&self.input]
    }

    fn with_new_inputs(
        &self,
        inputs: Vec<Arc<LogicalPlan>>,
    ) -> Result<Arc<dyn UserDefinedLogicalNode>> {
        let input = engine_core::logical::single_input("StreamingDeduplicate", inputs)?;
        Ok(Arc::new(StreamingDeduplicate {
            input,
            ..self.clone()
        }))
    }

    fn schema(&self) -> Result<PlanSchema> {
        self.input.schema()
    }

    fn expressions(&self) -> Vec<&Expr> {
        self.keys.iter().collect()
    }

    fn describe(&self) -> String {
        let k: Vec<String> = self.keys.iter().map(|e| e.to_string()).collect();
        format!("[{}], operator {}", k.join(", "), self.id)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The physical deduplication over input exchanged by its keys.
#[derive(Debug)]
pub struct StreamingDeduplicateExec {
    input: ExecutionPlanRef,
    keys: Vec<PhysicalExprRef>,
    state_keys: StateKeys,
    /// The input's watermarked column and the delay, µs.
    event_time: Option<(usize, i64)>,
    within_watermark: bool,
    op: Arc<StateOperator>,
}

impl StreamingDeduplicateExec {
    /// The operator.
    pub fn new(
        input: ExecutionPlanRef,
        keys: Vec<PhysicalExprRef>,
        state_keys: StateKeys,
        event_time: Option<(usize, i64)>,
        within_watermark: bool,
        op: Arc<StateOperator>,
    ) -> Self {
        StreamingDeduplicateExec {
            input,
            keys,
            state_keys,
            event_time,
            within_watermark,
            op,
        }
    }

    fn event_times(&self, b: &RecordBatch) -> Result<Option<Vec<Option<i64>>>> {
        let Some((i, _)) = self.event_time else {
            return Ok(None);
        };
        let col = b
            .columns()
            .get(i)
            .ok_or_else(|| EngineError::Internal(format!("no event-time column {i}")))?;
        let t = cast(col, &DataType::Int64)?;
        Ok(Some(t.as_primitive::<Int64Type>().iter().collect()))
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
        let mut duplicates = 0i64;
        let out = timed(&mut phases.updates_ms, || {
            let mut out = Vec::new();
            for b in &input {
                let n = b.num_rows();
                let key_cols = self
                    .keys
                    .iter()
                    .map(|k| k.evaluate(b)?.into_array(n))
                    .collect::<Result<Vec<_>>>()?;
                let keys = self.state_keys.encode(&key_cols, n)?;
                let times = self.event_times(b)?;
                let mut keep = Vec::with_capacity(n);
                for (i, (key, _)) in keys.iter().enumerate() {
                    let t = times.as_ref().and_then(|t| t[i]);
                    if times.is_some() && t.is_some_and(|t| t <= late_us) {
                        dropped += 1;
                        keep.push(false);
                        continue;
                    }
                    if store.get(key)?.is_some() {
                        duplicates += 1;
                        keep.push(false);
                        continue;
                    }
                    let value = match (self.within_watermark, self.event_time) {
                        (true, Some((_, delay))) => t
                            .and_then(|t| t.checked_add(delay))
                            .unwrap_or(i64::MAX)
                            .to_be_bytes()
                            .to_vec(),
                        _ => Vec::new(),
                    };
                    store.put(key, &value)?;
                    keep.push(true);
                }
                let mask = BooleanArray::from(keep);
                let kept = filter_record_batch(b, &mask)?;
                if kept.num_rows() > 0 {
                    out.push(kept);
                }
            }
            Ok(out)
        })?;
        let wm_us = self.op.batch.eviction_us();
        timed(&mut phases.removals_ms, || {
            if self.within_watermark {
                let expired: Vec<Vec<u8>> = store
                    .iter()?
                    .filter_map(|kv| match kv {
                        Ok((k, v)) => {
                            let at = v
                                .get(..8)
                                .and_then(|b| b.try_into().ok())
                                .map(i64::from_be_bytes)
                                .unwrap_or(i64::MAX);
                            (at <= wm_us).then_some(Ok(k))
                        }
                        Err(e) => Some(Err(e)),
                    })
                    .collect::<Result<_>>()?;
                for k in expired {
                    store.remove(&k)?;
                }
            } else {
                super::keys::evict(store.as_mut(), &self.state_keys, wm_us)?;
            }
            Ok(())
        })?;
        self.op.commit(
            store.as_mut(),
            phases,
            dropped,
            &[("numDroppedDuplicateRows", duplicates)],
        )?;
        Ok(out)
    }
}

impl ExecutionPlan for StreamingDeduplicateExec {
    fn name(&self) -> &'static str {
        "StreamingDeduplicate"
    }

    fn describe(&self) -> String {
        let k: Vec<String> = self.keys.iter().map(|e| e.to_string()).collect();
        format!(
            "{} [{}], operator {}",
            if self.within_watermark {
                "StreamingDeduplicateWithinWatermark"
            } else {
                "StreamingDeduplicate"
            },
            k.join(", "),
            self.op.id
        )
    }

    fn schema(&self) -> SchemaRef {
        self.input.schema()
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
