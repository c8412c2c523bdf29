//! `max_by(x, ord)` / `min_by(x, ord)`: the `x` of the row with the largest (smallest) `ord`.
//!
//! Rows whose `ord` is NULL are ignored; `x` itself may be NULL and is then the answer. A
//! group with no non-NULL `ord` gives NULL. Both values are kept in Arrow's row format, so
//! any orderable `ord` and any `x` work alike. On ties the last row met wins (Spark keeps
//! the old row only when its ordering is strictly better), which across partitions depends
//! on their order.
//!
//! The partial state is Spark's `(valueWithExtremumOrdering, extremumOrdering)`: the two
//! values as plain columns, merged exactly like input rows.

use std::cmp::Ordering;

use crate::Result;
use arrow::array::ArrayRef;
use arrow::datatypes::{DataType, Field};
use arrow::row::{OwnedRow, RowConverter, SortField};

use super::rows::rows_to_array;
use super::{check_orderable, valid_rows};
use crate::functions::{AggregateFunction, GroupsAccumulator, wrong_num_args};

/// `max_by` or `min_by`, by which ordering wins.
#[derive(Debug)]
pub(super) struct MaxMinBy {
    name: &'static str,
    keep: Ordering,
}

impl MaxMinBy {
    pub(super) fn max_by() -> Self {
        MaxMinBy {
            name: "max_by",
            keep: Ordering::Greater,
        }
    }
    pub(super) fn min_by() -> Self {
        MaxMinBy {
            name: "min_by",
            keep: Ordering::Less,
        }
    }

    /// The types of `x` and `ord`, once checked.
    fn args<'a>(&self, args: &'a [DataType]) -> Result<(&'a DataType, &'a DataType)> {
        match args {
            [x, ord] => {
                check_orderable(self.name, ord)?;
                Ok((x, ord))
            }
            // Spark 4 also has a 3-argument form returning the top k values as an array.
            _ => Err(wrong_num_args(self.name, "2", args.len())),
        }
    }
}

impl AggregateFunction for MaxMinBy {
    fn name(&self) -> &str {
        self.name
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(self.args(args)?.0.clone())
    }
    fn state_fields(&self, args: &[DataType]) -> Result<Vec<Field>> {
        let (x, ord) = self.args(args)?;
        Ok(vec![
            Field::new("valueWithExtremumOrdering", x.clone(), true),
            Field::new("extremumOrdering", ord.clone(), true),
        ])
    }
    fn create_accumulator(&self, args: &[DataType]) -> Result<Box<dyn GroupsAccumulator>> {
        let (x, ord) = self.args(args)?;
        Ok(Box::new(MaxMinByAcc {
            keep: self.keep,
            x_converter: RowConverter::new(vec![SortField::new(x.clone())])?,
            ord_converter: RowConverter::new(vec![SortField::new(ord.clone())])?,
            best: vec![],
        }))
    }
}

struct MaxMinByAcc {
    keep: Ordering,
    x_converter: RowConverter,
    ord_converter: RowConverter,
    /// Per group: the winning `(ord, x)` rows, `None` until a row with non-NULL `ord`.
    best: Vec<Option<(OwnedRow, OwnedRow)>>,
}

impl MaxMinByAcc {
    fn evaluate_parts(&mut self) -> Result<(ArrayRef, ArrayRef)> {
        let best = std::mem::take(&mut self.best);
        let (ords, xs): (Vec<_>, Vec<_>) = best.into_iter().map(|b| b.unzip()).unzip();
        Ok((
            rows_to_array(&self.x_converter, &xs)?,
            rows_to_array(&self.ord_converter, &ords)?,
        ))
    }
}

impl GroupsAccumulator for MaxMinByAcc {
    fn update_batch(&mut self, values: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.best.resize(n, None);
        let [x, ord] = values else {
            return Err(crate::EngineError::Internal(format!(
                "max_by/min_by got {} columns",
                values.len()
            )));
        };
        let ord_rows = self
            .ord_converter
            .convert_columns(std::slice::from_ref(ord))?;
        let x_rows = self.x_converter.convert_columns(std::slice::from_ref(x))?;
        let ord_valid = valid_rows(ord);
        for (i, &g) in groups.iter().enumerate() {
            if !ord_valid(i) {
                continue;
            }
            let o = ord_rows.row(i);
            let replace = match &self.best[g] {
                None => true,
                // A tie replaces too: Spark keeps the old row only when strictly better.
                Some((b, _)) => o.cmp(&b.row()) != self.keep.reverse(),
            };
            if replace {
                self.best[g] = Some((o.owned(), x_rows.row(i).owned()));
            }
        }
        Ok(())
    }
    fn merge_batch(&mut self, states: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        // A state row is an input row: a group with nothing kept has a NULL ordering.
        self.update_batch(states, groups, n)
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        let (x, ord) = self.evaluate_parts()?;
        Ok(vec![x, ord])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        Ok(self.evaluate_parts()?.0)
    }
    fn size(&self) -> usize {
        self.best
            .iter()
            .flatten()
            .map(|(o, x)| o.row().as_ref().len() + x.row().as_ref().len() + 64)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray, Float64Array, Int32Array, StringArray};
    use arrow::datatypes::Int32Type;
    use std::sync::Arc;

    fn run(f: &MaxMinBy, x: ArrayRef, ord: ArrayRef, groups: &[usize], n: usize) -> ArrayRef {
        let types = [x.data_type().clone(), ord.data_type().clone()];
        let mut acc = f.create_accumulator(&types).unwrap();
        acc.update_batch(&[x, ord], groups, n).unwrap();
        acc.evaluate().unwrap()
    }

    /// Splits the rows between two partial accumulators and merges their states.
    fn two_phase(f: &MaxMinBy, x: ArrayRef, ord: ArrayRef, groups: &[usize], n: usize) -> ArrayRef {
        let types = [x.data_type().clone(), ord.data_type().clone()];
        let half = x.len() / 2;
        let mut fin = f.create_accumulator(&types).unwrap();
        for (lo, len) in [(0, half), (half, x.len() - half)] {
            let mut acc = f.create_accumulator(&types).unwrap();
            acc.update_batch(
                &[x.slice(lo, len), ord.slice(lo, len)],
                &groups[lo..lo + len],
                n,
            )
            .unwrap();
            let state = acc.state().unwrap();
            fin.merge_batch(&state, &(0..n).collect::<Vec<_>>(), n)
                .unwrap();
        }
        fin.evaluate().unwrap()
    }

    #[test]
    fn null_ordering_is_ignored_and_null_value_kept() {
        let x: ArrayRef = Arc::new(Int32Array::from(vec![Some(1), Some(2), None, Some(4)]));
        let ord: ArrayRef = Arc::new(Int32Array::from(vec![Some(10), Some(30), Some(40), None]));
        let max = run(&MaxMinBy::max_by(), x.clone(), ord.clone(), &[0; 4], 1);
        assert!(max.is_null(0));
        let min = run(&MaxMinBy::min_by(), x, ord, &[0; 4], 1);
        assert_eq!(min.as_primitive::<Int32Type>().value(0), 1);
    }

    #[test]
    fn merged_partials_equal_one_pass() {
        let x: ArrayRef = Arc::new(StringArray::from(vec!["a", "b", "c", "d", "e", "f"]));
        let ord: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(1.0),
            Some(5.0),
            None,
            Some(9.0),
            Some(-1.0),
            Some(f64::NAN),
        ]));
        let groups = [0, 0, 1, 0, 0, 2];
        for f in [MaxMinBy::max_by(), MaxMinBy::min_by()] {
            let one = run(&f, x.clone(), ord.clone(), &groups, 3);
            let two = two_phase(&f, x.clone(), ord.clone(), &groups, 3);
            assert_eq!(one.as_ref(), two.as_ref(), "{}", f.name);
        }
        let max = two_phase(&MaxMinBy::max_by(), x.clone(), ord.clone(), &groups, 3);
        let max = max.as_string::<i32>();
        assert_eq!(max.value(0), "d");
        assert!(max.is_null(1));
        assert_eq!(max.value(2), "f");
        let min = two_phase(&MaxMinBy::min_by(), x, ord, &groups, 3);
        assert_eq!(min.as_string::<i32>().value(0), "e");
    }

    #[test]
    fn a_void_ordering_is_all_null() {
        let x: ArrayRef = Arc::new(Int32Array::from(vec![1, 2]));
        let ord: ArrayRef = Arc::new(arrow::array::NullArray::new(2));
        assert!(run(&MaxMinBy::max_by(), x, ord, &[0, 0], 1).is_null(0));
    }

    #[test]
    fn maps_cannot_order_and_arity_is_checked() {
        let map = crate::types::map_of(DataType::Int32, DataType::Int32);
        let e = MaxMinBy::max_by()
            .return_type(&[DataType::Int32, map])
            .unwrap_err();
        assert_eq!(
            e.error_class(),
            Some("DATATYPE_MISMATCH.INVALID_ORDERING_TYPE")
        );
        let e = MaxMinBy::min_by()
            .return_type(&[DataType::Int32])
            .unwrap_err();
        assert_eq!(e.error_class(), Some("WRONG_NUM_ARGS.WITHOUT_SUGGESTION"));
    }
}
