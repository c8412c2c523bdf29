//! `HashAggregateExec`: groups rows by key and folds them into accumulators.
//!
//! Runs in two phases around an exchange: `Partial` turns input rows into one partial state
//! row per group and partition, `Final` merges the states of a key (all in one partition
//! after the exchange). `Single` does both at once (used for DISTINCT aggregates after the
//! exchange). Group keys live in Arrow's row format in one contiguous buffer; the hash
//! table maps a key's hash to its dense group id.

use std::sync::Arc;

use arrow::array::{ArrayRef, new_empty_array};
use arrow::datatypes::{DataType, SchemaRef};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use arrow::row::{RowConverter, Rows, SortField};
use engine_core::{EngineError, Result};
use hashbrown::HashTable;

use super::hash::hash_arrays;
use super::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};
use crate::functions::aggregate::DistinctAccumulator;
use crate::functions::{AggregateFunction, GroupsAccumulator};
use crate::physical::expr::PhysicalExprRef;

/// Which phase of a two-phase aggregation an operator runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateMode {
    /// Input rows -> partial states.
    Partial,
    /// Partial states -> final values.
    Final,
    /// Input rows -> final values (no partial phase).
    Single,
}

/// One aggregate call of the operator.
#[derive(Debug, Clone)]
pub struct AggregateCall {
    /// The function.
    pub func: Arc<dyn AggregateFunction>,
    /// Arguments over the operator's input (unused in `Final` mode).
    pub args: Vec<PhysicalExprRef>,
    /// The arguments' types.
    pub arg_types: Vec<DataType>,
    /// `DISTINCT` (only in `Single` mode).
    pub distinct: bool,
    /// Display text, e.g. `sum(x)`.
    pub display: String,
}

impl AggregateCall {
    /// Number of partial state columns.
    pub fn state_len(&self) -> Result<usize> {
        Ok(self.func.state_fields(&self.arg_types)?.len())
    }

    fn accumulator(&self) -> Result<Box<dyn GroupsAccumulator>> {
        let acc = self.func.create_accumulator(&self.arg_types)?;
        if self.distinct {
            Ok(Box::new(DistinctAccumulator::try_new(
                acc,
                &self.arg_types,
            )?))
        } else {
            Ok(acc)
        }
    }
}

/// Hash aggregation of one phase.
#[derive(Debug)]
pub struct HashAggregateExec {
    input: ExecutionPlanRef,
    mode: AggregateMode,
    group_exprs: Vec<PhysicalExprRef>,
    group_types: Vec<DataType>,
    aggs: Vec<AggregateCall>,
    schema: SchemaRef,
}

impl HashAggregateExec {
    /// An aggregate producing `schema`: the group columns, then per call its state columns
    /// (`Partial`) or its value (`Final`, `Single`). In `Final` mode `group_exprs` address
    /// the partial output's leading columns and the states follow them in call order.
    pub fn try_new(
        input: ExecutionPlanRef,
        mode: AggregateMode,
        group_exprs: Vec<PhysicalExprRef>,
        aggs: Vec<AggregateCall>,
        schema: SchemaRef,
    ) -> Result<Self> {
        let group_types = group_exprs.iter().map(|e| e.data_type().clone()).collect();
        Ok(HashAggregateExec {
            input,
            mode,
            group_exprs,
            group_types,
            aggs,
            schema,
        })
    }

    fn run(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<Vec<RecordBatch>> {
        let converter = RowConverter::new(
            self.group_types
                .iter()
                .cloned()
                .map(SortField::new)
                .collect(),
        )?;
        let mut groups = Groups {
            rows: converter.empty_rows(1024, 1024 * 16),
            table: HashTable::new(),
            count: 0,
        };
        let global = self.group_exprs.is_empty();
        if global {
            groups.count = 1;
        }
        let mut accs = self
            .aggs
            .iter()
            .map(AggregateCall::accumulator)
            .collect::<Result<Vec<_>>>()?;
        let mut state_offsets = Vec::with_capacity(self.aggs.len());
        let mut off = self.group_exprs.len();
        for a in &self.aggs {
            state_offsets.push(off);
            off += a.state_len()?;
        }
        let mut hashes = Vec::new();
        let mut indices: Vec<usize> = Vec::new();
        for batch in self.input.execute(partition, ctx)? {
            let batch = batch?;
            let n = batch.num_rows();
            if n == 0 {
                continue;
            }
            if global {
                indices.clear();
                indices.resize(n, 0);
            } else {
                let keys = self
                    .group_exprs
                    .iter()
                    .map(|e| e.evaluate(&batch)?.into_array(n))
                    .collect::<Result<Vec<_>>>()?;
                let rows = converter.convert_columns(&keys)?;
                hash_arrays(&keys, &mut hashes)?;
                groups.assign(&rows, &hashes, &mut indices);
            }
            for (i, (acc, call)) in accs.iter_mut().zip(&self.aggs).enumerate() {
                match self.mode {
                    AggregateMode::Partial | AggregateMode::Single => {
                        let args = call
                            .args
                            .iter()
                            .map(|e| e.evaluate(&batch)?.into_array(n))
                            .collect::<Result<Vec<_>>>()?;
                        acc.update_batch(&args, &indices, groups.count)?;
                    }
                    AggregateMode::Final => {
                        let start = state_offsets[i];
                        let states: Vec<ArrayRef> = (start..start + call.state_len()?)
                            .map(|c| batch.column(c).clone())
                            .collect();
                        acc.merge_batch(&states, &indices, groups.count)?;
                    }
                }
            }
        }
        if groups.count == 0 {
            return Ok(vec![]);
        }
        // Grow every accumulator to all groups, even ones that saw no rows of theirs.
        for (acc, call) in accs.iter_mut().zip(&self.aggs) {
            match self.mode {
                AggregateMode::Final => {
                    let empties = call
                        .func
                        .state_fields(&call.arg_types)?
                        .iter()
                        .map(|f| new_empty_array(f.data_type()))
                        .collect::<Vec<_>>();
                    acc.merge_batch(&empties, &[], groups.count)?;
                }
                _ => {
                    let empties: Vec<ArrayRef> =
                        call.arg_types.iter().map(new_empty_array).collect();
                    acc.update_batch(&empties, &[], groups.count)?;
                }
            }
        }
        let mut columns: Vec<ArrayRef> = if global {
            vec![]
        } else {
            converter.convert_rows(groups.rows.iter())?
        };
        for acc in &mut accs {
            match self.mode {
                AggregateMode::Partial => columns.extend(acc.state()?),
                _ => columns.push(acc.evaluate()?),
            }
        }
        let columns = columns
            .into_iter()
            .zip(self.schema.fields())
            .map(|(c, f)| {
                if c.data_type() == f.data_type() {
                    Ok(c)
                } else {
                    arrow::compute::cast(&c, f.data_type()).map_err(EngineError::from)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let options = RecordBatchOptions::new().with_row_count(Some(groups.count));
        let batch = RecordBatch::try_new_with_options(self.schema.clone(), columns, &options)?;
        let size = ctx.batch_size().max(1);
        Ok((0..batch.num_rows())
            .step_by(size)
            .map(|s| batch.slice(s, size.min(batch.num_rows() - s)))
            .collect())
    }
}

struct Groups {
    rows: Rows,
    table: HashTable<(u64, usize)>,
    count: usize,
}

impl Groups {
    /// Looks up (or creates) the group of every row; writes dense ids into `out`.
    fn assign(&mut self, keys: &Rows, hashes: &[u64], out: &mut Vec<usize>) {
        out.clear();
        for (i, &h) in hashes.iter().enumerate() {
            let row = keys.row(i);
            let rows = &self.rows;
            let id = match self
                .table
                .find(h, |&(gh, id)| gh == h && rows.row(id) == row)
            {
                Some(&(_, id)) => id,
                None => {
                    let id = self.count;
                    self.rows.push(row);
                    self.table.insert_unique(h, (h, id), |&(gh, _)| gh);
                    self.count += 1;
                    id
                }
            };
            out.push(id);
        }
    }
}

impl ExecutionPlan for HashAggregateExec {
    fn name(&self) -> &'static str {
        "HashAggregate"
    }
    fn describe(&self) -> String {
        let keys: Vec<String> = self.group_exprs.iter().map(|e| e.to_string()).collect();
        let prefix = match self.mode {
            AggregateMode::Partial => "partial_",
            AggregateMode::Final => "",
            AggregateMode::Single => "",
        };
        let funcs: Vec<String> = self
            .aggs
            .iter()
            .map(|a| format!("{prefix}{}", a.display))
            .collect();
        format!(
            "HashAggregate(keys=[{}], functions=[{}])",
            keys.join(", "),
            funcs.join(", ")
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
        // A global aggregate's final phase sees every partial row in partition 0 and must
        // output exactly one row even if the input was empty; other modes emit nothing for
        // partitions without rows.
        let batches = self.run(partition, ctx)?;
        Ok(Box::new(batches.into_iter().map(Ok)))
    }
}
