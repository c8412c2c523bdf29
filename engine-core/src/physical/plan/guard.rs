//! `GuardExec`: an operator as it runs inside a task, with a panic in its `execute` or in
//! its batches turned into an error that names it (see [`crate::guard`]). The physical
//! planner wraps every operator it plans; the wrapper is invisible to `explain`.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use super::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};
use crate::Result;
use crate::guard::{catch_panic, panicked};

/// Wraps `plan` in a [`GuardExec`].
pub fn guard(plan: ExecutionPlanRef) -> ExecutionPlanRef {
    Arc::new(GuardExec { inner: plan })
}

/// An operator whose panics become errors naming it.
#[derive(Debug)]
pub struct GuardExec {
    inner: ExecutionPlanRef,
}

impl ExecutionPlan for GuardExec {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn children(&self) -> Vec<ExecutionPlanRef> {
        self.inner.children()
    }

    fn output_partitions(&self) -> usize {
        self.inner.output_partitions()
    }

    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let name = self.inner.name();
        let iter = catch_panic(|| self.inner.execute(partition, ctx))
            .unwrap_or_else(|m| Err(panicked(name, None, &m)))?;
        Ok(Box::new(Guarded {
            name,
            inner: Some(iter),
        }))
    }
}

/// The batches of a guarded operator; after a panic it reports the error and ends.
struct Guarded {
    name: &'static str,
    inner: Option<BatchIter>,
}

impl Iterator for Guarded {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let inner = self.inner.as_mut()?;
        match catch_panic(|| inner.next()) {
            Ok(item) => item,
            Err(m) => {
                // The panicked iterator may be broken: drop it, never poll it again.
                self.inner = None;
                Some(Err(panicked(self.name, None, &m)))
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use arrow::datatypes::Schema;

    #[derive(Debug)]
    struct Panics;

    impl ExecutionPlan for Panics {
        fn name(&self) -> &'static str {
            "Panics"
        }
        fn schema(&self) -> SchemaRef {
            Arc::new(Schema::empty())
        }
        fn children(&self) -> Vec<ExecutionPlanRef> {
            vec![]
        }
        fn output_partitions(&self) -> usize {
            1
        }
        fn execute(&self, _: usize, _: &Arc<TaskContext>) -> Result<BatchIter> {
            Ok(Box::new(std::iter::from_fn(|| panic!("boom"))))
        }
    }

    #[test]
    fn a_panicking_operator_fails_with_its_name() {
        let ctx = Arc::new(TaskContext::new(Arc::new(crate::conf::SessionConf::new())).unwrap());
        let plan = guard(Arc::new(Panics));
        assert_eq!(plan.describe(), "Panics");
        let e = super::super::collect(&plan, &ctx).unwrap_err().to_string();
        assert!(e.contains("Panics panicked: boom"), "{e}");
    }
}
