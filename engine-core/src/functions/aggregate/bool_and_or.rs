//! `bool_and(b)` / `every`, `bool_or(b)` / `some` / `any`: BOOLEAN; NULL inputs are ignored
//! and a group without a non-NULL input gives NULL.
//!
//! The partial state is the result so far (NULL until a value is seen), so merging is the
//! same fold as updating.

use std::sync::Arc;

use crate::Result;
use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow::datatypes::{DataType, Field};

use super::boolean_arg;
use crate::functions::{AggregateFunction, GroupsAccumulator};

/// `bool_and` (all true) or `bool_or` (any true).
#[derive(Debug)]
pub(super) struct BoolAndOr {
    name: &'static str,
    /// True for `bool_and`.
    and: bool,
}

impl BoolAndOr {
    /// `bool_and` under `name` (`bool_and` or `every`).
    pub(super) fn bool_and(name: &'static str) -> Self {
        BoolAndOr { name, and: true }
    }
    /// `bool_or` under `name` (`bool_or`, `some` or `any`).
    pub(super) fn bool_or(name: &'static str) -> Self {
        BoolAndOr { name, and: false }
    }
}

impl AggregateFunction for BoolAndOr {
    fn name(&self) -> &str {
        self.name
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        boolean_arg(self.name, args)
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        boolean_arg(self.name, args)?;
        Ok(DataType::Boolean)
    }
    fn state_fields(&self, _args: &[DataType]) -> Result<Vec<Field>> {
        Ok(vec![Field::new(self.name, DataType::Boolean, true)])
    }
    fn create_accumulator(&self, _args: &[DataType]) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(BoolAcc {
            and: self.and,
            values: vec![],
        }))
    }
}

struct BoolAcc {
    and: bool,
    values: Vec<Option<bool>>,
}

impl GroupsAccumulator for BoolAcc {
    fn update_batch(&mut self, values: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.values.resize(n, None);
        let v = values[0].as_boolean();
        for (i, &g) in groups.iter().enumerate() {
            if v.is_null(i) {
                continue;
            }
            let b = v.value(i);
            let slot = &mut self.values[g];
            *slot = Some(match *slot {
                None => b,
                Some(acc) if self.and => acc && b,
                Some(acc) => acc || b,
            });
        }
        Ok(())
    }
    fn merge_batch(&mut self, states: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.update_batch(states, groups, n)
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.evaluate()?])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        let out: BooleanArray = std::mem::take(&mut self.values).into_iter().collect();
        Ok(Arc::new(out))
    }
    fn size(&self) -> usize {
        self.values.capacity() * 2
    }
}
