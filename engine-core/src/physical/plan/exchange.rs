//! `ExchangeExec`: repartitions rows by the hash of key expressions (Spark's shuffle), or
//! gathers everything into one partition when there are no keys.
//!
//! The first partition asked for runs every input partition on the worker pool and splits
//! each batch by `hash % n`; later partitions just take their bucket. In a single process
//! this is all the shuffle a query needs, and it is where key skew is defeated by the
//! partial aggregation placed below it.

use std::sync::{Arc, Mutex};

use crate::{EngineError, Result};
use arrow::array::UInt32Array;
use arrow::compute::take_record_batch;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use super::hash::hash_arrays;
use super::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};
use crate::physical::expr::PhysicalExprRef;

/// Hash repartitioning into `partitions` outputs.
#[derive(Debug)]
pub struct ExchangeExec {
    input: ExecutionPlanRef,
    keys: Vec<PhysicalExprRef>,
    partitions: usize,
    buckets: Mutex<Option<Vec<Option<Vec<RecordBatch>>>>>,
}

impl ExchangeExec {
    /// Repartitions `input` by `keys` into `partitions` outputs; with no keys everything
    /// goes to one partition.
    pub fn new(input: ExecutionPlanRef, keys: Vec<PhysicalExprRef>, partitions: usize) -> Self {
        let partitions = if keys.is_empty() {
            1
        } else {
            partitions.max(1)
        };
        ExchangeExec {
            input,
            keys,
            partitions,
            buckets: Mutex::new(None),
        }
    }

    fn shuffle(&self, ctx: &Arc<TaskContext>) -> Result<Vec<Option<Vec<RecordBatch>>>> {
        let n = self.partitions;
        let per_input = ctx.pool.run(self.input.output_partitions(), |p| {
            let mut out: Vec<Vec<RecordBatch>> = (0..n).map(|_| Vec::new()).collect();
            let mut hashes = Vec::new();
            for batch in self.input.execute(p, ctx)? {
                let batch = batch?;
                if batch.num_rows() == 0 {
                    continue;
                }
                if n == 1 {
                    out[0].push(batch);
                    continue;
                }
                let keys = self
                    .keys
                    .iter()
                    .map(|k| k.evaluate(&batch)?.into_array(batch.num_rows()))
                    .collect::<Result<Vec<_>>>()?;
                hash_arrays(&keys, &mut hashes)?;
                let mut idx: Vec<Vec<u32>> = vec![Vec::new(); n];
                for (row, h) in hashes.iter().enumerate() {
                    idx[partition_of(*h, n)].push(row as u32);
                }
                for (bucket, rows) in idx.into_iter().enumerate() {
                    if rows.is_empty() {
                        continue;
                    }
                    let rows = UInt32Array::from(rows);
                    out[bucket].push(take_record_batch(&batch, &rows)?);
                }
            }
            Ok(out)
        })?;
        let mut buckets: Vec<Vec<RecordBatch>> = (0..n).map(|_| Vec::new()).collect();
        for part in per_input {
            for (b, batches) in part.into_iter().enumerate() {
                buckets[b].extend(batches);
            }
        }
        Ok(buckets.into_iter().map(Some).collect())
    }
}

/// The output partition of a row with key hash `h` among `n`.
pub fn partition_of(h: u64, n: usize) -> usize {
    // Multiply-shift maps the full hash range evenly onto 0..n without a division.
    ((u128::from(h) * n as u128) >> 64) as usize
}

impl ExecutionPlan for ExchangeExec {
    fn name(&self) -> &'static str {
        "Exchange"
    }
    fn describe(&self) -> String {
        if self.keys.is_empty() {
            "Exchange SinglePartition, ENSURE_REQUIREMENTS".into()
        } else {
            let keys: Vec<String> = self.keys.iter().map(|k| k.to_string()).collect();
            format!(
                "Exchange hashpartitioning({}, {}), ENSURE_REQUIREMENTS",
                keys.join(", "),
                self.partitions
            )
        }
    }
    fn schema(&self) -> SchemaRef {
        self.input.schema()
    }
    fn children(&self) -> Vec<ExecutionPlanRef> {
        vec![self.input.clone()]
    }
    fn output_partitions(&self) -> usize {
        self.partitions
    }
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let mut guard = self
            .buckets
            .lock()
            .map_err(|_| EngineError::Internal("exchange lock poisoned".into()))?;
        if guard.is_none() {
            *guard = Some(self.shuffle(ctx)?);
        }
        let batches = guard
            .as_mut()
            .and_then(|b| b.get_mut(partition))
            .and_then(Option::take)
            .ok_or_else(|| {
                EngineError::Internal(format!("exchange partition {partition} executed twice"))
            })?;
        Ok(Box::new(batches.into_iter().map(Ok)))
    }
}
