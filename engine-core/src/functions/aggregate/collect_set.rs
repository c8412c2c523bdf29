//! `collect_set(expr)`: the group's distinct non-NULL values as an array (empty, never
//! NULL, for a group without any).
//!
//! Values are deduplicated by their Arrow row bytes, after folding `-0.0` into `0.0` and
//! every NaN into one, as Spark's normalisation of floating point keys does (for top-level
//! FLOAT/DOUBLE values; inside structs or arrays the bytes are taken as they are). Elements
//! keep the order in which they were first met; Spark leaves the order unspecified, so
//! portable queries sort the result (`array_sort(collect_set(x))`). The partial state is
//! the array itself.

use std::hash::BuildHasher;

use crate::Result;
use crate::functions::array_build::normalize_floats;
use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Field};
use arrow::row::{OwnedRow, Row, RowConverter, SortField};
use hashbrown::HashTable;

use super::rows::rows_to_list;
use super::{contains_map, one_arg, valid_rows};
use crate::functions::{AggregateFunction, GroupsAccumulator};

#[derive(Debug)]
pub(super) struct CollectSet;

/// The element type, refusing maps as Spark does (they have no equality).
fn element_type(args: &[DataType]) -> Result<&DataType> {
    let t = one_arg("collect_set", args)?;
    if contains_map(t) {
        return Err(crate::EngineError::analysis(
            "DATATYPE_MISMATCH.UNSUPPORTED_INPUT_TYPE",
            "Cannot resolve \"collect_set\" due to data type mismatch: The input of `collect_set` can't be \"MAP\" or \"COLLATED STRING\" type data. SQLSTATE: 42K09",
        ));
    }
    Ok(t)
}

impl AggregateFunction for CollectSet {
    fn name(&self) -> &str {
        "collect_set"
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(crate::types::list_of(element_type(args)?.clone()))
    }
    fn nullable(&self) -> bool {
        false
    }
    fn state_fields(&self, args: &[DataType]) -> Result<Vec<Field>> {
        Ok(vec![Field::new("set", self.return_type(args)?, false)])
    }
    fn create_accumulator(&self, args: &[DataType]) -> Result<Box<dyn GroupsAccumulator>> {
        let t = element_type(args)?.clone();
        Ok(Box::new(SetAcc {
            converter: RowConverter::new(vec![SortField::new(t.clone())])?,
            element_type: t,
            hasher: std::hash::RandomState::new(),
            sets: vec![],
        }))
    }
}

/// One group's distinct rows in the order first met, indexed by a table of positions.
#[derive(Default)]
struct GroupSet {
    rows: Vec<OwnedRow>,
    index: HashTable<usize>,
}

impl GroupSet {
    fn insert(&mut self, row: Row<'_>, hasher: &std::hash::RandomState) {
        let GroupSet { rows, index } = self;
        let hash = hasher.hash_one(row.as_ref());
        if index.find(hash, |&i| rows[i].row() == row).is_none() {
            index.insert_unique(hash, rows.len(), |&i| {
                hasher.hash_one(rows[i].row().as_ref())
            });
            rows.push(row.owned());
        }
    }
}

struct SetAcc {
    converter: RowConverter,
    element_type: DataType,
    hasher: std::hash::RandomState,
    sets: Vec<GroupSet>,
}

impl SetAcc {
    /// Adds every non-NULL value of `v`, row `i` to group `group_of(i)`.
    fn insert_all(
        &mut self,
        v: &ArrayRef,
        group_of: impl Fn(usize) -> usize,
        n: usize,
    ) -> Result<()> {
        self.sets.resize_with(n, GroupSet::default);
        let v = normalize_floats(v);
        let rows = self.converter.convert_columns(std::slice::from_ref(&v))?;
        let valid = valid_rows(&v);
        for i in 0..v.len() {
            if valid(i) {
                self.sets[group_of(i)].insert(rows.row(i), &self.hasher);
            }
        }
        Ok(())
    }
}

impl GroupsAccumulator for SetAcc {
    fn update_batch(&mut self, values: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.insert_all(&values[0], |i| groups[i], n)
    }
    fn merge_batch(&mut self, states: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        let lists = states[0].as_list::<i32>();
        // Element j of the flattened values belongs to the group of the list holding it.
        let mut owner = Vec::with_capacity(lists.values().len());
        for (i, w) in lists.value_offsets().windows(2).enumerate() {
            let len = usize::try_from(w[1] - w[0]).unwrap_or(0);
            owner.extend(std::iter::repeat_n(groups[i], len));
        }
        let first = lists.value_offsets().first().copied().unwrap_or(0);
        let first = usize::try_from(first).unwrap_or(0);
        let values = lists.values().slice(first, owner.len());
        self.insert_all(&values, |j| owner[j], n)
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.evaluate()?])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        let sets = std::mem::take(&mut self.sets);
        rows_to_list(
            &self.converter,
            &self.element_type,
            sets.iter().map(|s| s.rows.as_slice()),
        )
    }
    fn size(&self) -> usize {
        self.sets
            .iter()
            .map(|s| {
                64 + s
                    .rows
                    .iter()
                    .map(|r| r.row().as_ref().len() + 40)
                    .sum::<usize>()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int32Array};
    use arrow::datatypes::Int32Type;
    use std::sync::Arc;

    fn sorted(list: ArrayRef) -> Vec<i32> {
        let mut v = list.as_primitive::<Int32Type>().values().to_vec();
        v.sort();
        v
    }

    #[test]
    fn merged_partials_equal_one_pass() {
        let t = [DataType::Int32];
        let v: ArrayRef = Arc::new(Int32Array::from(vec![
            Some(3),
            Some(1),
            None,
            Some(3),
            Some(2),
            Some(1),
            Some(7),
        ]));
        let groups = [0, 0, 0, 1, 0, 1, 1];
        let mut one = CollectSet.create_accumulator(&t).unwrap();
        one.update_batch(std::slice::from_ref(&v), &groups, 3)
            .unwrap();
        let one = one.evaluate().unwrap();
        let mut fin = CollectSet.create_accumulator(&t).unwrap();
        for (lo, len) in [(0, 4), (4, 3)] {
            let mut part = CollectSet.create_accumulator(&t).unwrap();
            part.update_batch(&[v.slice(lo, len)], &groups[lo..lo + len], 3)
                .unwrap();
            fin.merge_batch(&part.state().unwrap(), &[0, 1, 2], 3)
                .unwrap();
        }
        let two = fin.evaluate().unwrap();
        for out in [one, two] {
            let lists = out.as_list::<i32>();
            assert_eq!(sorted(lists.value(0)), vec![1, 2, 3]);
            assert_eq!(sorted(lists.value(1)), vec![1, 3, 7]);
            assert_eq!(lists.value(2).len(), 0);
            assert!(lists.is_valid(2));
        }
    }

    #[test]
    fn zeros_and_nans_fold_together() {
        let v: ArrayRef = Arc::new(Float64Array::from(vec![
            f64::NAN,
            -f64::NAN,
            0.0,
            -0.0,
            1.5,
        ]));
        let mut acc = CollectSet.create_accumulator(&[DataType::Float64]).unwrap();
        acc.update_batch(&[v], &[0; 5], 1).unwrap();
        let out = acc.evaluate().unwrap();
        assert_eq!(out.as_list::<i32>().value(0).len(), 3);
    }

    #[test]
    fn a_void_column_gives_an_empty_set() {
        let v: ArrayRef = Arc::new(arrow::array::NullArray::new(3));
        let mut acc = CollectSet.create_accumulator(&[DataType::Null]).unwrap();
        acc.update_batch(&[v], &[0; 3], 1).unwrap();
        assert_eq!(acc.evaluate().unwrap().as_list::<i32>().value(0).len(), 0);
    }

    #[test]
    fn maps_are_refused() {
        let map = crate::types::map_of(DataType::Int32, DataType::Int32);
        let e = CollectSet.return_type(&[map]).unwrap_err();
        assert_eq!(
            e.error_class(),
            Some("DATATYPE_MISMATCH.UNSUPPORTED_INPUT_TYPE")
        );
    }
}
