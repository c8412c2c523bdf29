//! `count_if(cond)`: BIGINT, the rows where `cond` is true; 0 for a group with none, NULL
//! conditions count as false.

use std::sync::Arc;

use crate::Result;
use arrow::array::{Array, ArrayRef, AsArray, Int64Array};
use arrow::datatypes::{DataType, Field, Int64Type};

use super::boolean_arg;
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
    fn state_fields(&self, _args: &[DataType]) -> Result<Vec<Field>> {
        Ok(vec![Field::new("count", DataType::Int64, false)])
    }
    fn create_accumulator(&self, _args: &[DataType]) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(CountIfAcc { counts: vec![] }))
    }
}

struct CountIfAcc {
    counts: Vec<i64>,
}

impl GroupsAccumulator for CountIfAcc {
    fn update_batch(&mut self, values: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.counts.resize(n, 0);
        let cond = values[0].as_boolean();
        for (i, &g) in groups.iter().enumerate() {
            self.counts[g] += (cond.is_valid(i) && cond.value(i)) as i64;
        }
        Ok(())
    }
    fn merge_batch(&mut self, states: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.counts.resize(n, 0);
        let partial = states[0].as_primitive::<Int64Type>();
        for (i, &g) in groups.iter().enumerate() {
            self.counts[g] += partial.value(i);
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.evaluate()?])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        Ok(Arc::new(Int64Array::from(std::mem::take(&mut self.counts))))
    }
    fn size(&self) -> usize {
        self.counts.capacity() * 8
    }
}
