//! `LimitExec`: the first `n` rows of each partition. Global limits run it over a single
//! partition (after an exchange to one partition).

use std::sync::Arc;

use crate::Result;
use arrow::datatypes::SchemaRef;

use super::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};

/// Passes through at most `n` rows per partition and then stops pulling its input.
#[derive(Debug)]
pub struct LimitExec {
    input: ExecutionPlanRef,
    n: usize,
    global: bool,
}

impl LimitExec {
    /// A per-partition limit (`LocalLimit`), or the final one when `global`.
    pub fn new(input: ExecutionPlanRef, n: usize, global: bool) -> Self {
        LimitExec { input, n, global }
    }
}

impl ExecutionPlan for LimitExec {
    fn name(&self) -> &'static str {
        if self.global {
            "GlobalLimit"
        } else {
            "LocalLimit"
        }
    }
    fn describe(&self) -> String {
        format!("{} {}", self.name(), self.n)
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
        let mut input = self.input.execute(partition, ctx)?;
        let mut left = self.n;
        Ok(Box::new(std::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            match input.next()? {
                Err(e) => Some(Err(e)),
                Ok(b) => {
                    let take = b.num_rows().min(left);
                    left -= take;
                    Some(Ok(b.slice(0, take)))
                }
            }
        })))
    }
}
