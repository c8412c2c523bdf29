//! `bit_and(expr)`, `bit_or(expr)`, `bit_xor(expr)`: the bitwise AND, OR and XOR of a
//! group's non-NULL integers, of the input's own integral type (INT for a NULL literal);
//! NULL for a group without a non-NULL value. Spark refuses every other type with
//! `DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE` ("INTEGRAL"), strings included.
//!
//! Values are folded as sign-extended BIGINTs: AND, OR and XOR of sign-extended values are
//! sign-extended themselves, so narrowing the result back is exact. The partial state is the
//! folded value, NULL for no value yet.

use crate::Result;
use arrow::datatypes::{DataType, Field, Int64Type};

use super::fold::FoldAcc;
use super::one_arg;
use crate::functions::{AggregateFunction, GroupsAccumulator, unexpected_input_type};

/// Which bitwise operation folds the group.
#[derive(Debug, Clone, Copy)]
pub(super) enum BitOp {
    And,
    Or,
    Xor,
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
        let op: fn(i64, i64) -> i64 = match self.op {
            BitOp::And => |a, b| a & b,
            BitOp::Or => |a, b| a | b,
            BitOp::Xor => |a, b| a ^ b,
        };
        Ok(Box::new(FoldAcc::<Int64Type>::new(
            self.return_type(args)?,
            op,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, ArrayRef, AsArray, Int8Array};
    use std::sync::Arc;

    fn apply(op: BitOp, a: i64, b: i64) -> i64 {
        match op {
            BitOp::And => a & b,
            BitOp::Or => a | b,
            BitOp::Xor => a ^ b,
        }
    }
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
                let whole = v.iter().flatten().map(|&x| x as i64).reduce(|a, b| apply(op, a, b));
                prop_assert_eq!(run(op, &v, split).map(i64::from), whole);
            }
        }
    }
}
