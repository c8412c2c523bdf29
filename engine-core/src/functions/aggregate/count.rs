//! `count(expr, ...)`: rows where every argument is non-NULL; `count(1)` counts all rows.

use std::sync::Arc;

use crate::Result;
use arrow::array::{Array, ArrayRef, AsArray, Int64Array};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Field, Int64Type};

use crate::functions::{AggregateFunction, GroupsAccumulator, wrong_num_args};

/// `count`; also the accumulator behind `count_if`.
#[derive(Debug)]
pub(super) struct Count;

impl AggregateFunction for Count {
    fn name(&self) -> &str {
        "count"
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        if args.is_empty() {
            return Err(wrong_num_args("count", "at least 1", 0));
        }
        Ok(DataType::Int64)
    }
    fn nullable(&self) -> bool {
        false
    }
    fn state_fields(&self, _args: &[DataType]) -> Result<Vec<Field>> {
        Ok(vec![Field::new("count", DataType::Int64, false)])
    }
    fn create_accumulator(&self, _args: &[DataType]) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(CountAcc { counts: vec![] }))
    }
}

struct CountAcc {
    counts: Vec<i64>,
}

impl GroupsAccumulator for CountAcc {
    fn update_batch(&mut self, values: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.counts.resize(n, 0);
        // A row counts only if every argument is non-NULL.
        let mut nulls: Option<NullBuffer> = None;
        for v in values {
            nulls = NullBuffer::union(nulls.as_ref(), v.logical_nulls().as_ref());
        }
        if n == 1 {
            // One group (a global aggregate): count the valid rows at once.
            let nulls_in = nulls.as_ref().map_or(0, |nb| nb.null_count());
            self.counts[0] += (groups.len() - nulls_in) as i64;
            return Ok(());
        }
        match nulls {
            None => {
                for &g in groups {
                    self.counts[g] += 1;
                }
            }
            Some(nb) => {
                for (i, &g) in groups.iter().enumerate() {
                    self.counts[g] += nb.is_valid(i) as i64;
                }
            }
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
