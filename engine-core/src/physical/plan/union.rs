//! `UNION ALL`: the partitions of every input, one after another.
//!
//! No data moves: output partition `p` is some input's partition, so a union costs nothing
//! beyond re-labelling each batch with the union's schema.

use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use super::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};

/// Concatenates the partitions of its inputs (Spark's `Union`).
#[derive(Debug)]
pub struct UnionExec {
    inputs: Vec<ExecutionPlanRef>,
    schema: SchemaRef,
}

impl UnionExec {
    /// A union of `inputs`, which must have the same column count and types as `schema`
    /// (the analyzer coerces them); names and nullability come from `schema`, usually the
    /// first input's names with the nullability of any input.
    pub fn new(inputs: Vec<ExecutionPlanRef>, schema: SchemaRef) -> Self {
        UnionExec { inputs, schema }
    }

    /// Maps an output partition to (input, input partition).
    fn locate(&self, mut partition: usize) -> Option<(&ExecutionPlanRef, usize)> {
        for input in &self.inputs {
            let n = input.output_partitions();
            if partition < n {
                return Some((input, partition));
            }
            partition -= n;
        }
        None
    }
}

impl ExecutionPlan for UnionExec {
    fn name(&self) -> &'static str {
        "Union"
    }

    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn children(&self) -> Vec<ExecutionPlanRef> {
        self.inputs.clone()
    }

    fn output_partitions(&self) -> usize {
        self.inputs.iter().map(|i| i.output_partitions()).sum()
    }

    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let (input, p) = self.locate(partition).ok_or_else(|| {
            EngineError::Internal(format!(
                "Union has {} partitions, asked for partition {partition}",
                self.output_partitions()
            ))
        })?;
        let schema = Arc::clone(&self.schema);
        let same = input.schema().fields() == schema.fields();
        let iter = input.execute(p, ctx)?;
        if same {
            return Ok(iter);
        }
        Ok(Box::new(iter.map(move |b| {
            let b = b?;
            // Same columns, possibly other names or nullability: swap the schema only.
            RecordBatch::try_new(Arc::clone(&schema), b.columns().to_vec()).map_err(|e| {
                EngineError::Internal(format!(
                    "Union input batch does not fit the union schema: {e}"
                ))
            })
        })))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::conf::SessionConf;
    use crate::physical::plan::{collect, collect_partitions};
    use crate::physical::table::memory::MemoryExec;
    use arrow::array::{Array, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    fn ctx() -> Arc<TaskContext> {
        Arc::new(TaskContext::new(Arc::new(SessionConf::new())).unwrap())
    }

    fn input(names: (&str, &str), parts: Vec<Vec<(i64, Option<&str>)>>) -> ExecutionPlanRef {
        let schema = Arc::new(Schema::new(vec![
            Field::new(names.0, DataType::Int64, false),
            Field::new(names.1, DataType::Utf8, true),
        ]));
        let partitions = parts
            .into_iter()
            .map(|rows| {
                let a: Vec<i64> = rows.iter().map(|r| r.0).collect();
                let b: Vec<Option<&str>> = rows.iter().map(|r| r.1).collect();
                vec![
                    RecordBatch::try_new(
                        Arc::clone(&schema),
                        vec![
                            Arc::new(Int64Array::from(a)),
                            Arc::new(StringArray::from(b)),
                        ],
                    )
                    .unwrap(),
                ]
            })
            .collect();
        Arc::new(MemoryExec::new(schema, partitions))
    }

    #[test]
    fn union_of_three_inputs_concatenates_partitions_and_relabels() {
        let a = input(("id", "name"), vec![vec![(1, Some("a"))], vec![(2, None)]]);
        let b = input(("x", "y"), vec![vec![(3, Some("c")), (4, Some("d"))]]);
        let c = input(
            ("p", "q"),
            vec![vec![], vec![(5, Some("e"))], vec![(6, None)]],
        );
        let schema = a.schema();
        let u: ExecutionPlanRef = Arc::new(UnionExec::new(vec![a, b, c], Arc::clone(&schema)));
        assert_eq!(u.output_partitions(), 6);
        assert_eq!(u.children().len(), 3);
        assert_eq!(u.describe(), "Union");
        let parts = collect_partitions(&u, &ctx()).unwrap();
        let counts: Vec<usize> = parts
            .iter()
            .map(|p| p.iter().map(|b| b.num_rows()).sum())
            .collect();
        assert_eq!(counts, vec![1, 1, 2, 0, 1, 1]);
        let batches = collect(&u, &ctx()).unwrap();
        let mut ids = Vec::new();
        let mut nulls = 0;
        for b in &batches {
            assert_eq!(b.schema(), schema);
            assert_eq!(b.schema().field(0).name(), "id");
            let col = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            ids.extend(col.values().iter().copied());
            nulls += b.column(1).null_count();
        }
        assert_eq!(ids, vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(nulls, 2);
    }

    #[test]
    fn out_of_range_partition_is_an_error() {
        let a = input(("id", "name"), vec![vec![(1, Some("a"))]]);
        let u = UnionExec::new(vec![Arc::clone(&a)], a.schema());
        assert!(u.execute(1, &ctx()).is_err());
    }

    #[test]
    fn mismatched_nullability_is_reported() {
        let a = input(("id", "name"), vec![vec![(1, None)]]);
        let strict = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, false),
        ]));
        let u = UnionExec::new(vec![a], strict);
        let r: Result<Vec<_>> = u.execute(0, &ctx()).unwrap().collect();
        assert!(r.is_err());
    }
}
