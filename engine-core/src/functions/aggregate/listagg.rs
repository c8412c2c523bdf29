//! `listagg(expr[, delimiter])` and `string_agg` (Spark 4): the non-NULL values joined with
//! the delimiter (none when it is NULL or absent), as STRING, or BINARY for BINARY values;
//! NULL for a group without values. Other value types are cast to STRING first.
//!
//! `WITHIN GROUP (ORDER BY key [ASC|DESC] [NULLS FIRST|LAST], ...)` reaches here as three
//! more arguments per key (`key, descending, nulls_first`, made by the SQL layer): the values
//! are joined in that order. Without it they are joined in the order met, as Spark's (which across
//! partitions is the order the partial states merge in).
//!
//! State: the values (and keys, when ordered) as lists, and the delimiter, so a state read
//! back (a streaming restart) joins alike without seeing the call's arguments again.

use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BooleanArray, GenericListArray, ListArray, StringArray,
};
use arrow::buffer::OffsetBuffer;
use arrow::compute::SortOptions;
use arrow::datatypes::{DataType, Field};
use arrow::row::{OwnedRow, RowConverter, SortField};

use super::valid_rows;
use crate::functions::{AggregateFunction, GroupsAccumulator, wrong_num_args};

/// `listagg`, or `string_agg` under that name.
#[derive(Debug)]
pub(super) struct ListAgg {
    pub(super) name: &'static str,
}

/// The checked argument types: value, and the ordering keys' types.
struct Args {
    binary: bool,
    keys: Vec<DataType>,
}

impl ListAgg {
    fn args(&self, args: &[DataType]) -> Result<Args> {
        let (value, rest) = args
            .split_first()
            .ok_or_else(|| wrong_num_args(self.name, "[1, 2]", 0))?;
        let binary = matches!(value, DataType::Binary | DataType::LargeBinary);
        let Some((delimiter, ordering)) = rest.split_first() else {
            return Ok(Args {
                binary,
                keys: vec![],
            });
        };
        let delimiter_ok = matches!(delimiter, DataType::Null)
            || if binary {
                matches!(delimiter, DataType::Binary | DataType::LargeBinary)
            } else {
                matches!(delimiter, DataType::Utf8 | DataType::LargeUtf8)
            };
        if !delimiter_ok {
            return Err(EngineError::analysis(
                "DATATYPE_MISMATCH.DATA_DIFF_TYPES",
                format!(
                    "Cannot resolve \"{}\" due to data type mismatch: the delimiter must be of \
                     the value's type ({}), not {}. SQLSTATE: 42K09",
                    self.name,
                    if binary { "BINARY" } else { "STRING" },
                    crate::types::sql_type_name(delimiter)
                ),
            ));
        }
        let mut keys = vec![];
        for triple in ordering.chunks(3) {
            match triple {
                [k, DataType::Boolean, DataType::Boolean] => keys.push(k.clone()),
                _ => return Err(wrong_num_args(self.name, "[1, 2]", args.len())),
            }
        }
        Ok(Args { binary, keys })
    }
}

fn value_type(binary: bool) -> DataType {
    if binary {
        DataType::Binary
    } else {
        DataType::Utf8
    }
}

impl AggregateFunction for ListAgg {
    fn name(&self) -> &str {
        self.name
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(value_type(self.args(args)?.binary))
    }
    fn nullable(&self) -> bool {
        true
    }
    fn state_fields(&self, args: &[DataType]) -> Result<Vec<Field>> {
        let a = self.args(args)?;
        let t = value_type(a.binary);
        let mut fields = vec![
            Field::new("values", crate::types::list_of(t.clone()), false),
            Field::new("delimiter", t, true),
        ];
        for (i, k) in a.keys.into_iter().enumerate() {
            fields.push(Field::new(
                format!("keys{i}"),
                crate::types::list_of(k),
                false,
            ));
            fields.push(Field::new(
                format!("descending{i}"),
                DataType::Boolean,
                true,
            ));
            fields.push(Field::new(
                format!("nulls_first{i}"),
                DataType::Boolean,
                true,
            ));
        }
        Ok(fields)
    }
    fn create_accumulator(&self, args: &[DataType]) -> Result<Box<dyn GroupsAccumulator>> {
        let a = self.args(args)?;
        Ok(Box::new(Acc {
            binary: a.binary,
            keys: a.keys,
            order: None,
            options: vec![],
            delimiter: None,
            groups: vec![],
        }))
    }
}

/// One group's values, each with its ordering keys' row when ordered.
type Group = Vec<(Vec<u8>, Option<OwnedRow>)>;

/// Ordering key columns with their `descending` and `nulls_first` flag columns.
type Keys<'a> = Vec<(&'a ArrayRef, &'a ArrayRef, &'a ArrayRef)>;

struct Acc {
    binary: bool,
    keys: Vec<DataType>,
    /// The keys' row converter, with the call's directions and NULL orders (from the first
    /// rows seen: the flags are literals).
    order: Option<RowConverter>,
    /// The options `order` was made with, per key.
    options: Vec<SortOptions>,
    delimiter: Option<Vec<u8>>,
    groups: Vec<Group>,
}

impl Acc {
    /// The bytes of each value (cast to STRING unless BINARY); `None` for NULL.
    fn bytes(&self, v: &ArrayRef) -> Result<Vec<Option<Vec<u8>>>> {
        if self.binary {
            let b = arrow::compute::cast(v, &DataType::Binary)?;
            return Ok(b
                .as_binary::<i32>()
                .iter()
                .map(|x| x.map(<[u8]>::to_vec))
                .collect());
        }
        let s = arrow::compute::cast(v, &DataType::Utf8)?;
        Ok(s.as_string::<i32>()
            .iter()
            .map(|x| x.map(|x| x.as_bytes().to_vec()))
            .collect())
    }

    fn take_delimiter(&mut self, d: Option<&ArrayRef>) -> Result<()> {
        if self.delimiter.is_some() {
            return Ok(());
        }
        if let Some(d) = d {
            let valid = valid_rows(d);
            if let Some(i) = (0..d.len()).find(|&i| valid(i)) {
                let one = d.slice(i, 1);
                self.delimiter = self.bytes(&one)?.into_iter().next().flatten();
            }
        }
        Ok(())
    }

    fn converter(&mut self, keys: &Keys<'_>) -> Result<&RowConverter> {
        if self.order.is_none() {
            let flag = |a: &ArrayRef| {
                a.as_boolean_opt()
                    .filter(|b| !b.is_empty() && b.is_valid(0))
                    .is_some_and(|b| b.value(0))
            };
            self.options = keys
                .iter()
                .map(|(_, d, nf)| SortOptions {
                    descending: flag(d),
                    nulls_first: flag(nf),
                })
                .collect();
            let fields = self
                .keys
                .iter()
                .zip(&self.options)
                .map(|(t, o)| SortField::new_with_options(t.clone(), *o))
                .collect();
            self.order = Some(RowConverter::new(fields)?);
        }
        self.order
            .as_ref()
            .ok_or_else(|| EngineError::Internal("listagg ordering without keys".into()))
    }

    /// Adds `values` (with their `keys` when ordered) to `groups`.
    fn add(&mut self, values: &ArrayRef, keys: Keys<'_>, groups: &[usize], n: usize) -> Result<()> {
        self.groups.resize_with(n, Vec::new);
        let bytes = self.bytes(values)?;
        let rows = if keys.is_empty() {
            None
        } else {
            let columns: Vec<ArrayRef> = keys.iter().map(|(k, _, _)| (*k).clone()).collect();
            Some(self.converter(&keys)?.convert_columns(&columns)?)
        };
        for (i, &g) in groups.iter().enumerate() {
            if let Some(Some(b)) = bytes.get(i) {
                let key = rows.as_ref().map(|r| r.row(i).owned());
                if let Some(group) = self.groups.get_mut(g) {
                    group.push((b.clone(), key));
                }
            }
        }
        Ok(())
    }
}

/// The flattened values of a list column (what its rows' lists hold, in order).
fn flat(list: &ListArray) -> ArrayRef {
    let offsets = list.value_offsets();
    let start = usize::try_from(offsets.first().copied().unwrap_or(0)).unwrap_or(0);
    let end = usize::try_from(offsets.last().copied().unwrap_or(0)).unwrap_or(0);
    list.values().slice(start, end.saturating_sub(start))
}

impl GroupsAccumulator for Acc {
    fn update_batch(&mut self, values: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.take_delimiter(values.get(1))?;
        let keys: Keys<'_> = values
            .get(2..)
            .unwrap_or_default()
            .chunks(3)
            .filter_map(|t| match t {
                [k, d, nf] => Some((k, d, nf)),
                _ => None,
            })
            .collect();
        let v = values
            .first()
            .ok_or_else(|| EngineError::Internal("listagg without a value".into()))?;
        self.add(v, keys, groups, n)
    }

    fn merge_batch(&mut self, states: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.take_delimiter(states.get(1))?;
        let list = |a: &ArrayRef| {
            a.as_list_opt::<i32>()
                .cloned()
                .ok_or_else(|| EngineError::Internal("a listagg state is not a list".into()))
        };
        let values = list(
            states
                .first()
                .ok_or_else(|| EngineError::Internal("listagg state without values".into()))?,
        )?;
        // Each state row's list, flattened, with the group of the row it came from.
        let mut flat_groups = Vec::with_capacity(values.values().len());
        for (row, &g) in groups.iter().enumerate() {
            let len = usize::try_from(values.value_length(row)).unwrap_or(0);
            flat_groups.extend(std::iter::repeat_n(g, len));
        }
        // Per key: its values flattened alike, and the state's flags.
        let mut key_columns = vec![];
        for t in states.get(2..).unwrap_or_default().chunks(3) {
            if let [k, d, nf] = t {
                key_columns.push((flat(&list(k)?), d, nf));
            }
        }
        let keys: Keys<'_> = key_columns.iter().map(|(k, d, nf)| (k, *d, *nf)).collect();
        self.add(&flat(&values), keys, &flat_groups, n)
    }

    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        let n = self.groups.len();
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0i32);
        let mut all: Vec<&[u8]> = Vec::new();
        let mut key_rows = Vec::new();
        for g in &self.groups {
            for (v, k) in g {
                all.push(v);
                if let Some(k) = k {
                    key_rows.push(k.row());
                }
            }
            offsets.push(i32::try_from(all.len()).map_err(|_| {
                EngineError::Unsupported("listagg over more than 2^31 values".into())
            })?);
        }
        let t = value_type(self.binary);
        let flat: ArrayRef = if self.binary {
            Arc::new(BinaryArray::from_iter_values(all.iter().copied()))
        } else {
            Arc::new(StringArray::from_iter_values(
                all.iter().map(|b| String::from_utf8_lossy(b).into_owned()),
            ))
        };
        let offsets = OffsetBuffer::new(offsets.into());
        let values: ArrayRef = Arc::new(ListArray::try_new(
            Arc::new(Field::new("element", t, true)),
            offsets.clone(),
            flat,
            None,
        )?);
        let delimiter = self.delimiter.clone();
        let delimiters: ArrayRef = if self.binary {
            Arc::new(BinaryArray::from_iter((0..n).map(|_| delimiter.as_deref())))
        } else {
            Arc::new(StringArray::from_iter((0..n).map(|_| {
                delimiter
                    .as_deref()
                    .map(|d| String::from_utf8_lossy(d).into_owned())
            })))
        };
        let mut out = vec![values, delimiters];
        if !self.keys.is_empty() {
            let columns = match &self.order {
                Some(c) => c.convert_rows(key_rows)?,
                // Nothing was ever added: every list is empty.
                None => self
                    .keys
                    .iter()
                    .map(arrow::array::new_empty_array)
                    .collect(),
            };
            for (i, (column, t)) in columns.into_iter().zip(&self.keys).enumerate() {
                out.push(Arc::new(GenericListArray::<i32>::try_new(
                    Arc::new(Field::new("element", t.clone(), true)),
                    offsets.clone(),
                    column,
                    None,
                )?));
                let o = self.options.get(i).copied();
                let flag = |f: fn(&SortOptions) -> bool| -> ArrayRef {
                    Arc::new(BooleanArray::from_iter((0..n).map(|_| o.as_ref().map(f))))
                };
                out.push(flag(|o| o.descending));
                out.push(flag(|o| o.nulls_first));
            }
        }
        Ok(out)
    }

    fn evaluate(&mut self) -> Result<ArrayRef> {
        let delimiter = self.delimiter.clone().unwrap_or_default();
        let joined: Vec<Option<Vec<u8>>> = self
            .groups
            .iter_mut()
            .map(|g| {
                if g.is_empty() {
                    return None;
                }
                // Stable: equal keys keep the order met.
                g.sort_by(|a, b| match (&a.1, &b.1) {
                    (Some(x), Some(y)) => x.row().cmp(&y.row()),
                    _ => std::cmp::Ordering::Equal,
                });
                let mut out = Vec::new();
                for (i, (v, _)) in g.iter().enumerate() {
                    if i > 0 {
                        out.extend_from_slice(&delimiter);
                    }
                    out.extend_from_slice(v);
                }
                Some(out)
            })
            .collect();
        Ok(if self.binary {
            Arc::new(BinaryArray::from_iter(joined.iter().map(|j| j.as_deref())))
        } else {
            Arc::new(StringArray::from_iter(joined.iter().map(|j| {
                j.as_deref()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
            })))
        })
    }

    fn size(&self) -> usize {
        self.groups
            .iter()
            .map(|g| g.iter().map(|(v, _)| v.len() + 48).sum::<usize>() + 24)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use arrow::array::Int32Array;

    fn strings(v: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(v.to_vec()))
    }

    /// `listagg(v, ',') WITHIN GROUP (ORDER BY k DESC NULLS LAST)` over rows split into
    /// partial states (each read back by a fresh accumulator, as after a restart), merged.
    #[test]
    fn ordered_values_survive_partial_states_and_a_restart() {
        let f = ListAgg { name: "listagg" };
        let types = [
            DataType::Utf8,
            DataType::Utf8,
            DataType::Int32,
            DataType::Boolean,
            DataType::Boolean,
        ];
        let rows = |v: &[Option<&str>], k: Vec<Option<i32>>| -> Vec<ArrayRef> {
            let n = v.len();
            vec![
                strings(v),
                strings(&vec![Some(","); n]),
                Arc::new(Int32Array::from(k)),
                Arc::new(BooleanArray::from(vec![true; n])),
                Arc::new(BooleanArray::from(vec![false; n])),
            ]
        };
        let mut states = vec![];
        for (v, k, g) in [
            (
                vec![Some("a"), Some("b"), None],
                vec![Some(1), None, Some(9)],
                vec![0, 0, 1],
            ),
            (
                vec![Some("c"), Some("d")],
                vec![Some(3), Some(2)],
                vec![0, 1],
            ),
        ] {
            let mut acc = f.create_accumulator(&types).unwrap();
            acc.update_batch(&rows(&v, k), &g, 2).unwrap();
            states.push(acc.state().unwrap());
        }
        let mut fin = f.create_accumulator(&types).unwrap();
        for s in &states {
            fin.merge_batch(s, &[0, 1], 2).unwrap();
        }
        // Group 0: c (3), a (1), b (NULL key, last); group 1: d only (its other value NULL).
        let again = fin.state().unwrap();
        let mut restored = f.create_accumulator(&types).unwrap();
        restored.merge_batch(&again, &[0, 1], 2).unwrap();
        let out = restored.evaluate().unwrap();
        let out = out.as_string::<i32>();
        assert_eq!(out.value(0), "c,a,b");
        assert_eq!(out.value(1), "d");
        let mut empty = f.create_accumulator(&types).unwrap();
        empty.merge_batch(&again, &[1, 1], 3).unwrap();
        assert!(empty.evaluate().unwrap().is_null(0));
    }
}
