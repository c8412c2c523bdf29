//! `bit_and(expr)`, `bit_or(expr)`, `bit_xor(expr)`: the bitwise AND, OR and XOR of a
//! group's non-NULL integers, of the input's own integral type (INT for a NULL literal);
//! NULL for a group without a non-NULL value. Spark refuses every other type with
//! `DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE` ("INTEGRAL"), strings included.
//!
//! Values are folded as sign-extended BIGINTs: AND, OR and XOR of sign-extended values are
//! sign-extended themselves, so narrowing the result back is exact. The partial state is the
//! folded value, NULL for no value yet.

use std::sync::Arc;

use crate::Result;
use arrow::array::{ArrayRef, AsArray, Int64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Int64Type};

use super::{one_arg, valid_rows};
use crate::functions::{AggregateFunction, GroupsAccumulator, unexpected_input_type};

/// Which bitwise operation folds the group.
#[derive(Debug, Clone, Copy)]
pub(super) enum BitOp {
    And,
    Or,
    Xor,
}

impl BitOp {
    fn apply(self, a: i64, b: i64) -> i64 {
        match self {
            BitOp::And => a & b,
            BitOp::Or => a | b,
            BitOp::Xor => a ^ b,
        }
    }
}

/// One of the three bitwise aggregates.
#[derive(Debug)]
pub(super) struct BitAgg {
    name: &'static str,
    op: BitOp,
}

impl BitAgg {
    pub(super) fn new(name: &'static str, op: BitOp) -> Self {
        BitAgg { name, op }
    }
}

impl AggregateFunction for BitAgg {
    fn name(&self) -> &str {
        self.name
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        Ok(vec![self.return_type(args)?])
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match one_arg(self.name, args)? {
            t @ (DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64) => {
                Ok(t.clone())
            }
            DataType::Null => Ok(DataType::Int32),
            other => Err(unexpected_input_type(self.name, 1, "\"INTEGRAL\"", other)),
        }
    }
    fn state_fields(&self, args: &[DataType]) -> Result<Vec<Field>> {
        Ok(vec![Field::new(self.name, self.return_type(args)?, true)])
    }
    fn create_accumulator(&self, args: &[DataType]) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(BitAcc {
            op: self.op,
            out: self.return_type(args)?,
            values: vec![],
        }))
    }
}

struct BitAcc {
    op: BitOp,
    out: DataType,
    /// The fold so far, `None` before the group's first non-NULL value.
    values: Vec<Option<i64>>,
}

impl BitAcc {
    fn fold(&mut self, column: &ArrayRef, groups: &[usize], n: usize) -> Result<()> {
        self.values.resize(n, None);
        let wide = cast(column, &DataType::Int64)?;
        let valid = valid_rows(&wide);
        let wide = wide.as_primitive::<Int64Type>();
        for (i, (&v, &g)) in wide.values().iter().zip(groups).enumerate() {
            if !valid(i) {
                continue;
            }
            if let Some(slot) = self.values.get_mut(g) {
                *slot = Some(slot.map_or(v, |s| self.op.apply(s, v)));
            }
        }
        Ok(())
    }
}

impl GroupsAccumulator for BitAcc {
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
        let wide: ArrayRef = Arc::new(Int64Array::from(std::mem::take(&mut self.values)));
        Ok(cast(&wide, &self.out)?)
    }
    fn size(&self) -> usize {
        self.values.capacity() * std::mem::size_of::<Option<i64>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, Int8Array};
    use arrow::datatypes::Int8Type;
    use proptest::prelude::*;

    fn run(op: BitOp, values: &[Option<i8>], split: usize) -> Option<i8> {
        let f = BitAgg::new("bit", op);
        let t = [DataType::Int8];
        let column: ArrayRef = Arc::new(Int8Array::from(values.to_vec()));
        let mut fin = f.create_accumulator(&t).unwrap();
        for (lo, len) in [(0, split), (split, values.len() - split)] {
            let mut part = f.create_accumulator(&t).unwrap();
            part.update_batch(&[column.slice(lo, len)], &vec![0; len], 1)
                .unwrap();
            fin.merge_batch(&part.state().unwrap(), &[0], 1).unwrap();
        }
        let out = fin.evaluate().unwrap();
        assert_eq!(out.data_type(), &DataType::Int8);
        let out = out.as_primitive::<Int8Type>();
        out.is_valid(0).then(|| out.value(0))
    }

    #[test]
    fn negative_tinyints_and_nulls() {
        let v = [Some(-3), None, Some(5), Some(-7)];
        assert_eq!(run(BitOp::And, &v, 2), Some(-3 & 5 & -7));
        assert_eq!(run(BitOp::Or, &v, 1), Some(-3 | 5 | -7));
        assert_eq!(run(BitOp::Xor, &v, 3), Some(-3 ^ 5 ^ -7));
        assert_eq!(run(BitOp::Xor, &[None, None], 1), None);
        assert_eq!(run(BitOp::And, &[], 0), None);
    }

    proptest! {
        #[test]
        fn any_split_gives_the_fold(v in proptest::collection::vec(any::<Option<i8>>(), 0..40),
                                    at in 0usize..40) {
            let split = at.min(v.len());
            for op in [BitOp::And, BitOp::Or, BitOp::Xor] {
                let whole = v.iter().flatten().map(|&x| x as i64).reduce(|a, b| op.apply(a, b));
                prop_assert_eq!(run(op, &v, split).map(i64::from), whole);
            }
        }
    }
}
