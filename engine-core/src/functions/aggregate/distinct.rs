//! `agg(DISTINCT x)`: feeds each group's distinct values to the plain aggregate.
//!
//! Distinct aggregates run in a single phase after the rows were exchanged by group key,
//! so this wrapper never produces or merges partial state.

use std::collections::HashSet;

use crate::{EngineError, Result};
use arrow::array::{ArrayRef, UInt32Array};
use arrow::compute::take;
use arrow::datatypes::DataType;
use arrow::row::{OwnedRow, RowConverter, SortField};

use crate::functions::GroupsAccumulator;

/// Wraps an accumulator so it sees every distinct argument tuple of a group once.
pub struct DistinctAccumulator {
    inner: Box<dyn GroupsAccumulator>,
    converter: RowConverter,
    seen: HashSet<(usize, OwnedRow)>,
}

impl DistinctAccumulator {
    /// Wraps `inner`, whose arguments have `types`.
    pub fn try_new(inner: Box<dyn GroupsAccumulator>, types: &[DataType]) -> Result<Self> {
        Ok(DistinctAccumulator {
            inner,
            converter: RowConverter::new(types.iter().cloned().map(SortField::new).collect())?,
            seen: HashSet::new(),
        })
    }
}

impl GroupsAccumulator for DistinctAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        let rows = self.converter.convert_columns(values)?;
        let mut keep = Vec::new();
        let mut keep_groups = Vec::new();
        for (i, &g) in groups.iter().enumerate() {
            if self.seen.insert((g, rows.row(i).owned())) {
                keep.push(i as u32);
                keep_groups.push(g);
            }
        }
        let idx = UInt32Array::from(keep);
        let picked = values
            .iter()
            .map(|v| take(v.as_ref(), &idx, None))
            .collect::<Result<Vec<_>, _>>()?;
        self.inner.update_batch(&picked, &keep_groups, n)
    }
    fn merge_batch(&mut self, _: &[ArrayRef], _: &[usize], _: usize) -> Result<()> {
        Err(EngineError::Internal(
            "distinct aggregates have no partial phase".into(),
        ))
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        Err(EngineError::Internal(
            "distinct aggregates have no partial phase".into(),
        ))
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        self.inner.evaluate()
    }
    fn size(&self) -> usize {
        self.inner.size() + self.seen.len() * 48
    }
}
