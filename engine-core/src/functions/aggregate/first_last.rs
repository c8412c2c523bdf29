//! `first(expr[, ignoreNulls])`, `last(expr[, ignoreNulls])` and
//! `any_value(expr[, ignoreNulls])` (NULLs included unless `ignoreNulls` is true, Spark's
//! default being false; `any_value` is Spark's `first`), and `collect_list(expr)` (NULLs
//! skipped), for any type, kept in Arrow's row format.
//!
//! Spark insists that `ignoreNulls` be a BOOLEAN literal; here any BOOLEAN expression is
//! taken and read row by row, since the function never sees the argument's expression.

use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow::datatypes::{DataType, Field};
use arrow::row::{OwnedRow, RowConverter, SortField};

use super::rows::{rows_to_array, rows_to_list};
use super::{one_arg, valid_rows};
use crate::functions::{AggregateFunction, GroupsAccumulator, wrong_num_args};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    First,
    Last,
    CollectList,
}

#[derive(Debug)]
pub(super) struct FirstLast {
    name: &'static str,
    kind: Kind,
}

impl FirstLast {
    /// `first`, or `any_value` under that `name`.
    pub(super) fn first(name: &'static str) -> Self {
        FirstLast {
            name,
            kind: Kind::First,
        }
    }
    pub(super) fn last() -> Self {
        FirstLast {
            name: "last",
            kind: Kind::Last,
        }
    }
    pub(super) fn collect_list() -> Self {
        FirstLast {
            name: "collect_list",
            kind: Kind::CollectList,
        }
    }

    /// The value's type, once the arguments are checked: `first`/`last`/`any_value` take an
    /// optional BOOLEAN `ignoreNulls` after it.
    fn value_type<'a>(&self, args: &'a [DataType]) -> Result<&'a DataType> {
        match (self.kind, args) {
            (Kind::CollectList, _) | (_, [_]) => one_arg(self.name, args),
            (_, [t, DataType::Boolean]) => Ok(t),
            (_, [_, _]) => Err(EngineError::analysis(
                "_LEGACY_ERROR_TEMP_1210",
                format!(
                    "The second argument in {} should be a boolean literal.",
                    self.name
                ),
            )),
            _ => Err(wrong_num_args(self.name, "[1, 2]", args.len())),
        }
    }
}

impl AggregateFunction for FirstLast {
    fn name(&self) -> &str {
        self.name
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let t = self.value_type(args)?.clone();
        Ok(match self.kind {
            Kind::CollectList => crate::types::list_of(t),
            _ => t,
        })
    }
    fn nullable(&self) -> bool {
        self.kind != Kind::CollectList
    }
    fn state_fields(&self, args: &[DataType]) -> Result<Vec<Field>> {
        let t = self.return_type(args)?;
        Ok(match self.kind {
            Kind::CollectList => vec![Field::new("list", t, false)],
            _ => vec![
                Field::new(self.name(), t, true),
                Field::new("valueSet", DataType::Boolean, false),
            ],
        })
    }
    fn create_accumulator(&self, args: &[DataType]) -> Result<Box<dyn GroupsAccumulator>> {
        let t = self.value_type(args)?.clone();
        Ok(Box::new(Acc {
            kind: self.kind,
            element_type: t.clone(),
            converter: RowConverter::new(vec![SortField::new(t)])?,
            values: vec![],
            set: vec![],
            lists: vec![],
        }))
    }
}

struct Acc {
    kind: Kind,
    element_type: DataType,
    converter: RowConverter,
    /// first/last: the kept value per group (`None` = NULL value).
    values: Vec<Option<OwnedRow>>,
    /// first/last: whether any row was seen.
    set: Vec<bool>,
    /// collect_list: the values per group.
    lists: Vec<Vec<OwnedRow>>,
}

impl Acc {
    fn take_value(&mut self, g: usize, row: Option<OwnedRow>) {
        match self.kind {
            Kind::First if self.set[g] => {}
            _ => {
                self.values[g] = row;
                self.set[g] = true;
            }
        }
    }

    /// Folds `v` in, leaving out the rows for which `skip` says so (first/last only).
    fn fold(
        &mut self,
        v: &ArrayRef,
        skip: impl Fn(usize) -> bool,
        groups: &[usize],
        n: usize,
    ) -> Result<()> {
        let rows = self.converter.convert_columns(std::slice::from_ref(v))?;
        let valid = valid_rows(v);
        match self.kind {
            Kind::CollectList => {
                self.lists.resize_with(n, Vec::new);
                for (i, &g) in groups.iter().enumerate() {
                    if valid(i) {
                        self.lists[g].push(rows.row(i).owned());
                    }
                }
            }
            _ => {
                self.values.resize(n, None);
                self.set.resize(n, false);
                for (i, &g) in groups.iter().enumerate() {
                    if skip(i) {
                        continue;
                    }
                    let row = valid(i).then(|| rows.row(i).owned());
                    self.take_value(g, row);
                }
            }
        }
        Ok(())
    }

    fn list_array(&mut self) -> Result<ArrayRef> {
        let lists = std::mem::take(&mut self.lists);
        rows_to_list(
            &self.converter,
            &self.element_type,
            lists.iter().map(Vec::as_slice),
        )
    }
}

impl GroupsAccumulator for Acc {
    fn update_batch(&mut self, values: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        let v = &values[0];
        match values.get(1).map(|b| b.as_boolean()) {
            Some(ignore_nulls) => {
                let valid = valid_rows(v);
                self.fold(
                    v,
                    |i| !valid(i) && ignore_nulls.is_valid(i) && ignore_nulls.value(i),
                    groups,
                    n,
                )
            }
            None => self.fold(v, |_| false, groups, n),
        }
    }
    fn merge_batch(&mut self, states: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        match self.kind {
            Kind::CollectList => {
                let lists = states[0].as_list::<i32>();
                self.lists.resize_with(n, Vec::new);
                let rows = self.converter.convert_columns(&[lists.values().clone()])?;
                let offsets = lists.value_offsets();
                for (i, &g) in groups.iter().enumerate() {
                    for j in offsets[i] as usize..offsets[i + 1] as usize {
                        self.lists[g].push(rows.row(j).owned());
                    }
                }
                Ok(())
            }
            _ => {
                let set = states
                    .get(1)
                    .ok_or_else(|| {
                        EngineError::Internal("first/last state without valueSet".into())
                    })?
                    .as_boolean()
                    .clone();
                // Only groups that saw a value take part, so NULLs are never ignored here.
                self.fold(&states[0], |i| !set.value(i), groups, n)
            }
        }
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        match self.kind {
            Kind::CollectList => Ok(vec![self.list_array()?]),
            _ => {
                let set = BooleanArray::from(std::mem::take(&mut self.set));
                Ok(vec![self.evaluate()?, Arc::new(set)])
            }
        }
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        match self.kind {
            Kind::CollectList => self.list_array(),
            _ => {
                let values = std::mem::take(&mut self.values);
                rows_to_array(&self.converter, &values)
            }
        }
    }
    fn size(&self) -> usize {
        self.values.len() * 32 + self.lists.iter().map(|l| l.len() * 32).sum::<usize>()
    }
}
