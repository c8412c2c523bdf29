//! `product(expr)`: the DOUBLE product of a group's non-NULL values (numbers and strings
//! cast to DOUBLE), NULL for a group without one. Spark has it in its DataFrame API
//! (`functions.product`) but not in its SQL function registry; it is registered here for
//! both, so SQL accepts a call Spark's SQL would not resolve.
//!
//! The partial state is the product so far, NULL before the first value.

use std::sync::Arc;

use crate::Result;
use arrow::array::{ArrayRef, AsArray, Float64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type};

use super::{double_args, valid_rows};
use crate::functions::{AggregateFunction, GroupsAccumulator};

/// `product`.
#[derive(Debug)]
pub(super) struct Product;

impl AggregateFunction for Product {
    fn name(&self) -> &str {
        "product"
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        double_args("product", args, 1)
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        double_args("product", args, 1)?;
        Ok(DataType::Float64)
    }
    fn state_fields(&self, _args: &[DataType]) -> Result<Vec<Field>> {
        Ok(vec![Field::new("product", DataType::Float64, true)])
    }
    fn create_accumulator(&self, _args: &[DataType]) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(ProductAcc::default()))
    }
}

#[derive(Default)]
struct ProductAcc {
    /// The product so far, `None` before the group's first non-NULL value.
    products: Vec<Option<f64>>,
}

impl ProductAcc {
    fn fold(&mut self, column: &ArrayRef, groups: &[usize], n: usize) -> Result<()> {
        self.products.resize(n, None);
        let column = cast(column, &DataType::Float64)?;
        let valid = valid_rows(&column);
        let column = column.as_primitive::<Float64Type>();
        for (i, (&v, &g)) in column.values().iter().zip(groups).enumerate() {
            if let Some(slot) = self.products.get_mut(g).filter(|_| valid(i)) {
                *slot = Some(slot.map_or(v, |p| p * v));
            }
        }
        Ok(())
    }
}

impl GroupsAccumulator for ProductAcc {
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
        let out = Float64Array::from(std::mem::take(&mut self.products));
        Ok(Arc::new(out))
    }
    fn size(&self) -> usize {
        self.products.capacity() * std::mem::size_of::<Option<f64>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, Int32Array};

    #[test]
    fn multiplies_non_nulls_across_partials() {
        let v: ArrayRef = Arc::new(Int32Array::from(vec![Some(2), None, Some(-3), Some(4)]));
        let mut fin = Product.create_accumulator(&[DataType::Float64]).unwrap();
        for (lo, len) in [(0, 2), (2, 2)] {
            let mut part = Product.create_accumulator(&[DataType::Float64]).unwrap();
            part.update_batch(&[v.slice(lo, len)], &[0, 1], 2).unwrap();
            fin.merge_batch(&part.state().unwrap(), &[0, 1], 2).unwrap();
        }
        let out = fin.evaluate().unwrap();
        let out = out.as_primitive::<Float64Type>();
        // Group 0 holds 2 and -3, group 1 a NULL and 4.
        assert_eq!(out.value(0), -6.0);
        assert_eq!(out.value(1), 4.0);
        let mut empty = Product.create_accumulator(&[DataType::Float64]).unwrap();
        empty.update_batch(&[v.slice(1, 1)], &[0], 1).unwrap();
        assert!(empty.evaluate().unwrap().is_null(0));
    }
}
