//! `count_if(cond)`: BIGINT, the rows where `cond` is true; 0 for a group with none, NULL
//! conditions count as false.

use std::sync::Arc;

use crate::Result;
use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Field};

use super::boolean_arg;
use super::count::Count;
use crate::functions::{AggregateFunction, GroupsAccumulator};

#[derive(Debug)]
pub(super) struct CountIf;

impl AggregateFunction for CountIf {
    fn name(&self) -> &str {
        "count_if"
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        boolean_arg("count_if", args)
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        boolean_arg("count_if", args)?;
        Ok(DataType::Int64)
    }
    fn nullable(&self) -> bool {
        false
    }
    fn state_fields(&self, args: &[DataType]) -> Result<Vec<Field>> {
        Count.state_fields(args)
    }
    fn create_accumulator(&self, args: &[DataType]) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(CountIfAcc {
            count: Count.create_accumulator(args)?,
        }))
    }
}

/// Spark's rewrite, `count(NULLIF(cond, false))`: counting's accumulator over the
/// condition with false turned into NULL.
struct CountIfAcc {
    count: Box<dyn GroupsAccumulator>,
}

impl GroupsAccumulator for CountIfAcc {
    fn update_batch(&mut self, values: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        let cond = values[0].as_boolean();
        let only_true =
            NullBuffer::union(cond.nulls(), Some(&NullBuffer::new(cond.values().clone())));
        let cond: ArrayRef = Arc::new(BooleanArray::new(cond.values().clone(), only_true));
        self.count.update_batch(&[cond], groups, n)
    }
    fn merge_batch(&mut self, states: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.count.merge_batch(states, groups, n)
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        self.count.state()
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        self.count.evaluate()
    }
    fn size(&self) -> usize {
        self.count.size()
    }
}
