//! `product(expr)`: the DOUBLE product of a group's non-NULL values (numbers and strings
//! cast to DOUBLE), NULL for a group without one. Spark has it in its DataFrame API
//! (`functions.product`) but not in its SQL function registry; it is registered here for
//! both, so SQL accepts a call Spark's SQL would not resolve.
//!
//! The partial state is the product so far, NULL before the first value.

use crate::Result;
use arrow::datatypes::{DataType, Field, Float64Type};

use super::double_args;
use super::fold::FoldAcc;
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
        Ok(Box::new(FoldAcc::<Float64Type>::new(
            DataType::Float64,
            |a, b| a * b,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, ArrayRef, AsArray, Int32Array};
    use std::sync::Arc;

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
