//! `StreamingRelationExec`: what a streaming source leaf plans to outside a started query.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;

use super::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};
use crate::Result;
use crate::logical::StreamingRelation;

/// What `StreamingRelation` plans to outside a started query: it explains, but running it
/// fails with Spark's message (batch actions are refused before they get here).
#[derive(Debug)]
pub struct StreamingRelationExec {
    relation: Arc<StreamingRelation>,
}

impl StreamingRelationExec {
    /// The leaf for `relation`.
    pub fn new(relation: Arc<StreamingRelation>) -> Self {
        StreamingRelationExec { relation }
    }
}

impl ExecutionPlan for StreamingRelationExec {
    fn name(&self) -> &'static str {
        "StreamingRelation"
    }
    fn describe(&self) -> String {
        let cols: Vec<&str> = self
            .relation
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        format!(
            "StreamingRelation {}, [{}]",
            self.relation.format_name,
            cols.join(", ")
        )
    }
    fn schema(&self) -> SchemaRef {
        self.relation.schema.clone()
    }
    fn children(&self) -> Vec<ExecutionPlanRef> {
        vec![]
    }
    fn output_partitions(&self) -> usize {
        1
    }
    fn execute(&self, _partition: usize, _ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        Err(crate::analyzer::streaming_checks::batch_on_stream_error())
    }
}
