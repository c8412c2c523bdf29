//! `min(expr)` / `max(expr)` for any orderable type.
//!
//! Values are kept in Arrow's row format, whose bytes compare in the type's sort order, so
//! one implementation serves numbers, strings, dates, timestamps and structs alike
//! (doubles order NaN above everything, as Spark does).

use std::cmp::Ordering;

use arrow::array::{Array, ArrayRef};
use arrow::datatypes::{DataType, Field};
use arrow::row::{OwnedRow, RowConverter, SortField};
use engine_core::Result;

use super::one_arg;
use crate::functions::{AggregateFunction, GroupsAccumulator};

#[derive(Debug)]
pub(super) struct MinMax {
    name: &'static str,
    keep: Ordering,
}

impl MinMax {
    pub(super) fn min() -> Self {
        MinMax {
            name: "min",
            keep: Ordering::Less,
        }
    }
    pub(super) fn max() -> Self {
        MinMax {
            name: "max",
            keep: Ordering::Greater,
        }
    }
}

impl AggregateFunction for MinMax {
    fn name(&self) -> &str {
        self.name
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(one_arg(self.name, args)?.clone())
    }
    fn state_fields(&self, args: &[DataType]) -> Result<Vec<Field>> {
        Ok(vec![Field::new(self.name, self.return_type(args)?, true)])
    }
    fn create_accumulator(&self, args: &[DataType]) -> Result<Box<dyn GroupsAccumulator>> {
        let dt = self.return_type(args)?;
        Ok(Box::new(MinMaxAcc {
            converter: RowConverter::new(vec![SortField::new(dt)])?,
            keep: self.keep,
            best: vec![],
        }))
    }
}

struct MinMaxAcc {
    converter: RowConverter,
    keep: Ordering,
    best: Vec<Option<OwnedRow>>,
}

impl GroupsAccumulator for MinMaxAcc {
    fn update_batch(&mut self, values: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.best.resize(n, None);
        let v = &values[0];
        let rows = self.converter.convert_columns(std::slice::from_ref(v))?;
        for (i, &g) in groups.iter().enumerate() {
            if v.is_null(i) {
                continue;
            }
            let row = rows.row(i);
            let replace = match &self.best[g] {
                None => true,
                Some(b) => row.cmp(&b.row()) == self.keep,
            };
            if replace {
                self.best[g] = Some(row.owned());
            }
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
        let best = std::mem::take(&mut self.best);
        rows_to_array(&self.converter, &best)
    }
    fn size(&self) -> usize {
        self.best
            .iter()
            .flatten()
            .map(|r| r.row().as_ref().len() + 32)
            .sum()
    }
}

/// Converts optional rows back to one array; `None` becomes NULL.
pub(super) fn rows_to_array(
    converter: &RowConverter,
    rows: &[Option<OwnedRow>],
) -> Result<ArrayRef> {
    // Encode NULL with a NULL row of the same converter so one conversion handles all.
    let null_row = {
        let field = converter_field(converter)?;
        let nulls = arrow::array::new_null_array(&field, 1);
        converter.convert_columns(&[nulls])?.row(0).owned()
    };
    let all = rows
        .iter()
        .map(|r| r.as_ref().map_or(null_row.row(), |r| r.row()));
    let mut cols = converter.convert_rows(all)?;
    Ok(cols.remove(0))
}

fn converter_field(converter: &RowConverter) -> Result<DataType> {
    // A RowConverter does not expose its fields; an empty conversion tells the type.
    let cols = converter.convert_rows(std::iter::empty())?;
    Ok(cols[0].data_type().clone())
}
