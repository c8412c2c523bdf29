//! `mode(col [, deterministic])` and `mode() WITHIN GROUP (ORDER BY col [DESC])` (which the
//! SQL front end turns into `mode(col, true)` / `mode(col, false, true)`): the group's most
//! frequent non-NULL value, of the input's type; NULL for a group without one.
//!
//! Ties: with `deterministic` true (and `WITHIN GROUP (ORDER BY col)`) Spark returns the
//! smallest of the tied values, with `ORDER BY col DESC` the largest. Without it Spark takes
//! whichever tied value its hash map yields first, which no other engine can reproduce; here
//! it is the smallest, as with `deterministic`, so results never depend on the split of rows.
//!
//! Values are counted by their Arrow row bytes after folding `-0.0` into `0.0` and NaNs into
//! one, as Spark's float normalisation does. The partial state is one list per group of
//! (value, count) structs.

use std::collections::HashMap;
use std::sync::Arc;

use crate::functions::array_build::normalize_floats;
use crate::{EngineError, Result};
use arrow::array::{Array, ArrayRef, AsArray, Int64Array, ListArray, StructArray};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, Fields, Int64Type};
use arrow::row::{OwnedRow, RowConverter, SortField};

use super::rows::rows_to_array;
use super::{contains_map, valid_rows};
use crate::functions::{AggregateFunction, GroupsAccumulator, wrong_num_args};

/// `mode`, bound to its tie-break once planned.
#[derive(Debug, Clone, Default)]
pub(super) struct Mode {
    /// Return the largest tied value (`WITHIN GROUP (ORDER BY col DESC)`).
    largest: bool,
}

/// The value type, once the arguments are checked: `deterministic` (and the SQL front end's
/// `descending`) must be BOOLEAN.
fn value_type(args: &[DataType]) -> Result<&DataType> {
    let (t, flags) = match args {
        [t, flags @ ..] if flags.len() <= 2 => (t, flags),
        _ => return Err(wrong_num_args("mode", "[1, 2]", args.len())),
    };
    if let Some(other) = flags.iter().find(|f| **f != DataType::Boolean) {
        return Err(EngineError::analysis(
            "UNEXPECTED_INPUT_TYPE",
            format!(
                "Parameter second of function `mode` requires the \"BOOLEAN\" type, however it has the type \"{}\". SQLSTATE: 42K09",
                crate::types::sql_type_name(other)
            ),
        ));
    }
    if contains_map(t) {
        // The row format has no maps, so they cannot be counted here.
        return Err(EngineError::analysis(
            "DATATYPE_MISMATCH.UNSUPPORTED_INPUT_TYPE",
            "Cannot resolve \"mode\" due to data type mismatch: The input of `mode` can't be \"MAP\" type data. SQLSTATE: 42K09",
        ));
    }
    Ok(t)
}

fn state_type(t: &DataType) -> DataType {
    let entry = Fields::from(vec![
        Field::new("value", t.clone(), true),
        Field::new("count", DataType::Int64, false),
    ]);
    DataType::List(Arc::new(Field::new(
        "element",
        DataType::Struct(entry),
        false,
    )))
}

impl AggregateFunction for Mode {
    fn name(&self) -> &str {
        "mode"
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(value_type(args)?.clone())
    }
    fn state_fields(&self, args: &[DataType]) -> Result<Vec<Field>> {
        Ok(vec![Field::new(
            "counts",
            state_type(value_type(args)?),
            true,
        )])
    }
    fn create_accumulator(&self, args: &[DataType]) -> Result<Box<dyn GroupsAccumulator>> {
        let t = value_type(args)?.clone();
        Ok(Box::new(ModeAcc {
            converter: RowConverter::new(vec![SortField::new(t.clone())])?,
            value_type: t,
            largest: self.largest,
            groups: vec![],
        }))
    }
    fn bind_constants(
        &self,
        args: &[Option<ArrayRef>],
    ) -> Result<Option<Arc<dyn AggregateFunction>>> {
        // Spark insists that `deterministic` be a constant BOOLEAN.
        let constant = |i: usize| -> Result<Option<bool>> {
            match args.get(i) {
                None => Ok(None),
                Some(Some(a)) if a.data_type() == &DataType::Boolean => {
                    let b = a.as_boolean();
                    Ok(Some(b.is_valid(0) && b.value(0)))
                }
                Some(_) => Err(EngineError::analysis(
                    "NON_FOLDABLE_ARGUMENT",
                    "The function `mode` requires the parameter `deterministic` to be a foldable expression of the type \"BOOLEAN\", but the actual argument is a non-foldable. SQLSTATE: 42K08",
                )),
            }
        };
        constant(1)?;
        Ok(Some(Arc::new(Mode {
            largest: constant(2)?.unwrap_or(false),
        })))
    }
}

struct ModeAcc {
    converter: RowConverter,
    value_type: DataType,
    largest: bool,
    /// Each group's count per value row.
    groups: Vec<HashMap<OwnedRow, i64>>,
}

impl ModeAcc {
    fn add_all(
        &mut self,
        values: &ArrayRef,
        counts: impl Fn(usize) -> i64,
        group_of: impl Fn(usize) -> usize,
    ) -> Result<()> {
        let values = normalize_floats(values);
        let rows = self
            .converter
            .convert_columns(std::slice::from_ref(&values))?;
        let valid = valid_rows(&values);
        for i in 0..values.len() {
            if !valid(i) {
                continue;
            }
            if let Some(g) = self.groups.get_mut(group_of(i)) {
                let c = g.entry(rows.row(i).owned()).or_insert(0);
                *c = c.saturating_add(counts(i));
            }
        }
        Ok(())
    }

    /// A group's most frequent row, ties to the smallest (or largest) row.
    fn winner(&self, counts: &HashMap<OwnedRow, i64>) -> Option<OwnedRow> {
        counts
            .iter()
            .max_by(|a, b| {
                let by_row = if self.largest {
                    a.0.row().cmp(&b.0.row())
                } else {
                    b.0.row().cmp(&a.0.row())
                };
                a.1.cmp(b.1).then(by_row)
            })
            .map(|(r, _)| r.clone())
    }
}

impl GroupsAccumulator for ModeAcc {
    fn update_batch(&mut self, values: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.groups.resize_with(n, HashMap::new);
        self.add_all(&values[0], |_| 1, |i| groups[i])
    }
    fn merge_batch(&mut self, states: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.groups.resize_with(n, HashMap::new);
        let lists = states[0].as_list::<i32>();
        // Entry j of the flattened values belongs to the group of the list holding it.
        let mut owner = Vec::with_capacity(lists.values().len());
        for (i, w) in lists.value_offsets().windows(2).enumerate() {
            let len = usize::try_from(w[1] - w[0]).unwrap_or(0);
            owner.extend(std::iter::repeat_n(groups[i], len));
        }
        let first = usize::try_from(lists.value_offsets()[0]).unwrap_or(0);
        let entries = lists.values().as_struct();
        let values = entries.column(0).slice(first, owner.len());
        let counts = entries.column(1).slice(first, owner.len());
        let counts = counts.as_primitive::<Int64Type>();
        self.add_all(&values, |j| counts.value(j), |j| owner[j])
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        let groups = std::mem::take(&mut self.groups);
        let offsets = OffsetBuffer::from_lengths(groups.iter().map(HashMap::len));
        let (rows, counts): (Vec<Option<OwnedRow>>, Vec<i64>) = groups
            .into_iter()
            .flat_map(|m| m.into_iter().map(|(r, c)| (Some(r), c)))
            .unzip();
        let values = rows_to_array(&self.converter, &rows)?;
        let DataType::List(field) = state_type(&self.value_type) else {
            return Err(EngineError::Internal("mode state type".into()));
        };
        let DataType::Struct(fields) = field.data_type().clone() else {
            return Err(EngineError::Internal("mode state type".into()));
        };
        let entries = StructArray::try_new(
            fields,
            vec![values, Arc::new(Int64Array::from(counts))],
            None,
        )?;
        Ok(vec![Arc::new(ListArray::try_new(
            field,
            offsets,
            Arc::new(entries),
            None,
        )?)])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        let groups = std::mem::take(&mut self.groups);
        let winners: Vec<Option<OwnedRow>> = groups.iter().map(|g| self.winner(g)).collect();
        rows_to_array(&self.converter, &winners)
    }
    fn size(&self) -> usize {
        self.groups
            .iter()
            .flat_map(|g| g.keys())
            .map(|r| r.as_ref().len() + 32)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int32Array, StringArray};
    use arrow::datatypes::{Float64Type, Int32Type};
    use proptest::prelude::*;

    fn run(f: &Mode, column: ArrayRef, splits: &[usize]) -> ArrayRef {
        super::super::run_in_partials(f, &[column.data_type().clone()], &column, splits)
    }

    #[test]
    fn ties_break_to_the_smallest_or_largest() {
        let v: ArrayRef = Arc::new(Int32Array::from(vec![3, 1, 2, 2, 1, 3]));
        let small = run(&Mode::default(), v.clone(), &[2]);
        assert_eq!(small.as_primitive::<Int32Type>().value(0), 1);
        let large = run(&Mode { largest: true }, v, &[4]);
        assert_eq!(large.as_primitive::<Int32Type>().value(0), 3);
        let s: ArrayRef = Arc::new(StringArray::from(vec![
            Some("b"),
            None,
            Some("b"),
            Some("a"),
        ]));
        assert_eq!(
            run(&Mode::default(), s, &[1]).as_string::<i32>().value(0),
            "b"
        );
    }

    #[test]
    fn zeros_fold_and_empty_groups_are_null() {
        let v: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(0.0),
            Some(-0.0),
            Some(f64::NAN),
        ]));
        let out = run(&Mode::default(), v, &[1]);
        assert_eq!(out.as_primitive::<Float64Type>().value(0), 0.0);
        let none: ArrayRef = Arc::new(Int32Array::from(vec![None, None]));
        assert!(run(&Mode::default(), none, &[1]).is_null(0));
    }

    proptest! {
        #[test]
        fn any_split_gives_the_same_mode(
            v in proptest::collection::vec(proptest::option::of(0i32..6), 0..50),
            splits in proptest::collection::vec(0usize..50, 0..4),
        ) {
            let column: ArrayRef = Arc::new(Int32Array::from(v));
            let whole = run(&Mode::default(), column.clone(), &[]);
            let split = run(&Mode::default(), column, &splits);
            prop_assert_eq!(whole.to_data(), split.to_data());
        }
    }
}
