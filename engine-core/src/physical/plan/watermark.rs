//! `EventTimeWatermarkExec`: passes rows through and records event-time statistics for the
//! streaming runtime (Spark's `EventTimeWatermarkExec`).

use std::sync::Arc;
use std::time::Duration;

use crate::Result;
use arrow::array::{Array, AsArray};
use arrow::compute::{cast, max, min, sum};
use arrow::datatypes::{DataType, Float64Type, SchemaRef, TimeUnit, TimestampMicrosecondType};
use arrow::record_batch::RecordBatch;

use super::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};
use crate::logical::EventTimeStats;
use crate::physical::expr::PhysicalExprRef;

/// Rows pass unchanged; min/max/sum/count of the event-time column go to `stats`.
#[derive(Debug)]
pub struct EventTimeWatermarkExec {
    input: ExecutionPlanRef,
    event_time: PhysicalExprRef,
    delay: Duration,
    stats: Arc<EventTimeStats>,
}

impl EventTimeWatermarkExec {
    /// The operator over `input`.
    pub fn new(
        input: ExecutionPlanRef,
        event_time: PhysicalExprRef,
        delay: Duration,
        stats: Arc<EventTimeStats>,
    ) -> Self {
        EventTimeWatermarkExec {
            input,
            event_time,
            delay,
            stats,
        }
    }
}

/// Folds one batch's event times into `stats` with whole-array kernels.
fn observe(
    batch: &RecordBatch,
    event_time: &PhysicalExprRef,
    stats: &EventTimeStats,
) -> Result<()> {
    let values = event_time.evaluate(batch)?.into_array(batch.num_rows())?;
    let micros = cast(&values, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
    let micros = micros.as_primitive::<TimestampMicrosecondType>();
    let count = (micros.len() - micros.null_count()) as u64;
    if count == 0 {
        return Ok(());
    }
    let as_f64 = cast(micros, &DataType::Float64)?;
    let total = sum(as_f64.as_primitive::<Float64Type>()).unwrap_or(0.0);
    if let (Some(lo), Some(hi)) = (min(micros), max(micros)) {
        stats.add(lo, hi, total, count);
    }
    Ok(())
}

impl ExecutionPlan for EventTimeWatermarkExec {
    fn name(&self) -> &'static str {
        "EventTimeWatermark"
    }
    fn describe(&self) -> String {
        format!(
            "EventTimeWatermark {}, {}",
            self.event_time,
            crate::interval::format_delay(self.delay)
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
        let input = self.input.execute(partition, ctx)?;
        let event_time = self.event_time.clone();
        let stats = self.stats.clone();
        Ok(Box::new(input.map(move |b| {
            let b = b?;
            observe(&b, &event_time, &stats)?;
            Ok(b)
        })))
    }
}
