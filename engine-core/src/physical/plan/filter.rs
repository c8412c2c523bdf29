//! `FilterExec`: keeps rows whose predicate is true (narrow, fused with its input).

use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::array::{Array, AsArray, BooleanArray};
use arrow::compute::{filter_record_batch, prep_null_mask_filter};
use arrow::datatypes::{DataType, SchemaRef};
use arrow::record_batch::RecordBatch;

use super::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};
use crate::physical::expr::{ColumnarValue, PhysicalExprRef};
use crate::scalar::ScalarValue;

/// Keeps the rows where `predicate` is TRUE (NULL and FALSE drop the row).
#[derive(Debug)]
pub struct FilterExec {
    input: ExecutionPlanRef,
    predicate: PhysicalExprRef,
}

impl FilterExec {
    /// A filter over `input`.
    pub fn new(input: ExecutionPlanRef, predicate: PhysicalExprRef) -> Self {
        FilterExec { input, predicate }
    }
}

/// The rows of `batch` where `predicate` is TRUE.
pub fn filter_batch(batch: &RecordBatch, predicate: &PhysicalExprRef) -> Result<RecordBatch> {
    match predicate.evaluate(batch)? {
        ColumnarValue::Scalar(ScalarValue::Boolean(Some(true))) => Ok(batch.clone()),
        ColumnarValue::Scalar(_) => Ok(batch.slice(0, 0)),
        ColumnarValue::Array(a) => {
            if a.data_type() != &DataType::Boolean {
                return Err(EngineError::Internal(format!(
                    "filter predicate returned {}",
                    a.data_type()
                )));
            }
            let mask: &BooleanArray = a.as_boolean();
            let mask = if mask.null_count() > 0 {
                prep_null_mask_filter(mask)
            } else {
                mask.clone()
            };
            Ok(filter_record_batch(batch, &mask)?)
        }
    }
}

impl ExecutionPlan for FilterExec {
    fn name(&self) -> &'static str {
        "Filter"
    }
    fn describe(&self) -> String {
        format!("Filter {}", self.predicate)
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
        let predicate = self.predicate.clone();
        Ok(Box::new(
            input
                .map(move |b| filter_batch(&b?, &predicate))
                .filter(|b| !matches!(b, Ok(b) if b.num_rows() == 0)),
        ))
    }
}
