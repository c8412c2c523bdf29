//! Accumulators whose partial state is their running value: each group folds its non-NULL
//! values with one associative operation (`bit_and`/`bit_or`/`bit_xor`, `product`), NULL
//! before the first value, so a state merges exactly as input values do.

use std::sync::Arc;

use crate::Result;
use arrow::array::{ArrayRef, AsArray, PrimitiveArray};
use arrow::compute::cast;
use arrow::datatypes::{ArrowPrimitiveType, DataType};

use super::valid_rows;
use crate::functions::GroupsAccumulator;

/// Folds values cast to `T` with `op`; results are cast to `out`.
pub(super) struct FoldAcc<T: ArrowPrimitiveType> {
    out: DataType,
    op: fn(T::Native, T::Native) -> T::Native,
    /// The fold so far, `None` before the group's first non-NULL value.
    values: Vec<Option<T::Native>>,
}

impl<T: ArrowPrimitiveType> FoldAcc<T> {
    pub(super) fn new(out: DataType, op: fn(T::Native, T::Native) -> T::Native) -> Self {
        FoldAcc {
            out,
            op,
            values: vec![],
        }
    }

    fn fold(&mut self, column: &ArrayRef, groups: &[usize], n: usize) -> Result<()> {
        self.values.resize(n, None);
        let column = cast(column, &T::DATA_TYPE)?;
        let valid = valid_rows(&column);
        let column = column.as_primitive::<T>();
        for (i, (&v, &g)) in column.values().iter().zip(groups).enumerate() {
            if let Some(slot) = self.values.get_mut(g).filter(|_| valid(i)) {
                *slot = Some(slot.map_or(v, |s| (self.op)(s, v)));
            }
        }
        Ok(())
    }
}

impl<T: ArrowPrimitiveType> GroupsAccumulator for FoldAcc<T> {
    fn update_batch(&mut self, values: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.fold(&values[0], groups, n)
    }
    fn merge_batch(&mut self, states: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.fold(&states[0], groups, n)
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.evaluate()?])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        let folded: ArrayRef = Arc::new(PrimitiveArray::<T>::from_iter(std::mem::take(
            &mut self.values,
        )));
        Ok(cast(&folded, &self.out)?)
    }
    fn size(&self) -> usize {
        self.values.capacity() * std::mem::size_of::<Option<T::Native>>()
    }
}
