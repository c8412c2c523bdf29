//! Spark's higher-order functions: `transform`, `filter`, `exists`, `forall`, `zip_with`
//! (`array`), `aggregate`/`reduce` (`aggregate`), `map_filter`, `transform_keys`,
//! `transform_values` (`map`), `map_zip_with` (`map_zip`) and `array_sort` (`sort`).
//!
//! They are vectorized: a function flattens the arrays of the whole batch into one array of
//! elements ([`Elements`]) and calls its lambda once on all of them; the evaluator repeats
//! the outer columns the body reads per element (`take` by [`Elements::rows`]). Only
//! `aggregate` steps position by position, over every row at once, because each step needs
//! the accumulator of the previous one; `array_sort` steps the same way through a merge sort,
//! and `exists`/`forall` do so only to find out whether an error of the all-at-once
//! evaluation is one Spark, which stops at the first deciding element, would raise.

mod aggregate;
mod array;
mod map;
mod map_zip;
mod sort;

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int32Array, UInt32Array};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::DataType;

use crate::expr::lambda::{ArgumentMismatch, HigherOrderFunction};
use crate::{EngineError, Result};

/// Every higher-order function with its names.
pub fn functions() -> Vec<(&'static str, Arc<dyn HigherOrderFunction>)> {
    let mut v: Vec<(&'static str, Arc<dyn HigherOrderFunction>)> = Vec::new();
    v.extend(array::functions());
    v.extend(aggregate::functions());
    v.extend(map::functions());
    v.extend(map_zip::functions());
    v.extend(sort::functions());
    v
}

/// The elements of the non-NULL rows of a list (or map) array, flattened in row order.
#[derive(Debug)]
pub(crate) struct Elements {
    /// Every element of every non-NULL row, row after row.
    pub values: ArrayRef,
    /// The input row of each element.
    pub rows: UInt32Array,
    /// Row `i`'s elements are `values[offsets[i]..offsets[i + 1]]`; NULL rows are empty.
    pub offsets: OffsetBuffer<i32>,
    /// The NULL rows of the input.
    pub nulls: Option<NullBuffer>,
}

impl Elements {
    /// The elements of a list or map array given its offsets, validity and values. Elements
    /// under NULL rows are left out (Arrow allows a NULL row to cover some), so a lambda
    /// never runs on them.
    pub fn of(
        offsets: &OffsetBuffer<i32>,
        nulls: Option<&NullBuffer>,
        values: &ArrayRef,
    ) -> Result<Self> {
        let o = offsets.as_ref();
        let n = o.len().saturating_sub(1);
        let span = |i: usize| -> Result<(usize, usize)> {
            let (s, e) = (o[i], o[i + 1]);
            let (s, e) = (usize::try_from(s), usize::try_from(e));
            match (s, e) {
                (Ok(s), Ok(e)) if s <= e && e <= values.len() => Ok((s, e)),
                _ => Err(EngineError::Internal("list offsets out of range".into())),
            }
        };
        let is_valid = |i: usize| nulls.is_none_or(|b| b.is_valid(i));
        let mut lengths = Vec::with_capacity(n);
        let mut clean = true;
        for i in 0..n {
            let (s, e) = span(i)?;
            if is_valid(i) {
                lengths.push(e - s);
            } else {
                clean &= s == e;
                lengths.push(0);
            }
        }
        let total: usize = lengths.iter().sum();
        let compact = if n == 0 {
            values.slice(0, 0)
        } else if clean {
            // Contiguous already: at most a slice.
            let (first, _) = span(0)?;
            values.slice(first, total)
        } else {
            let mut idx = Vec::with_capacity(total);
            for i in (0..n).filter(|&i| is_valid(i)) {
                let (s, e) = span(i)?;
                idx.extend((s..e).map(|j| j as u32));
            }
            arrow::compute::take(values.as_ref(), &UInt32Array::from(idx), None)?
        };
        let mut rows = Vec::with_capacity(total);
        for (i, &len) in lengths.iter().enumerate() {
            rows.extend(std::iter::repeat_n(i as u32, len));
        }
        Ok(Elements {
            values: compact,
            rows: UInt32Array::from(rows),
            offsets: OffsetBuffer::from_lengths(lengths),
            nulls: nulls.cloned(),
        })
    }

    /// The elements of a list array.
    pub fn of_list(a: &ArrayRef) -> Result<Self> {
        let Some(l) = a.as_any().downcast_ref::<arrow::array::ListArray>() else {
            return Err(EngineError::Internal(format!(
                "a list was expected, not {}",
                a.data_type()
            )));
        };
        Elements::of(l.offsets(), l.nulls(), l.values())
    }

    /// The elements (key-value entries, a struct array) of a map array.
    pub fn of_map(a: &ArrayRef) -> Result<Self> {
        let Some(m) = a.as_any().downcast_ref::<arrow::array::MapArray>() else {
            return Err(EngineError::Internal(format!(
                "a map was expected, not {}",
                a.data_type()
            )));
        };
        let entries: ArrayRef = Arc::new(m.entries().clone());
        Elements::of(m.offsets(), m.nulls(), &entries)
    }

    /// Number of input rows.
    pub fn num_rows(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// The element range of row `i`.
    pub fn range(&self, i: usize) -> std::ops::Range<usize> {
        let o = self.offsets.as_ref();
        o[i] as usize..o[i + 1] as usize
    }

    /// Each element's 0-based position in its array (Spark's index argument, an `INT`).
    pub fn positions(&self) -> Int32Array {
        let mut out = Vec::with_capacity(self.values.len());
        for i in 0..self.num_rows() {
            out.extend((0..self.range(i).len()).map(|p| p as i32));
        }
        Int32Array::from(out)
    }

    /// Whether row `i` is NULL.
    pub fn is_null(&self, i: usize) -> bool {
        self.nulls.as_ref().is_some_and(|b| b.is_null(i))
    }
}

/// The element type and `containsNull` of argument `position` (0-based) when it is an
/// array, else Spark's "requires the ARRAY type" mismatch. A NULL literal is not an array.
pub(crate) fn array_arg(
    args: &[Option<DataType>],
    position: usize,
) -> std::result::Result<(DataType, bool), ArgumentMismatch> {
    match args.get(position) {
        Some(Some(DataType::List(f))) => Ok((f.data_type().clone(), f.is_nullable())),
        _ => Err(ArgumentMismatch::InputType {
            position: position + 1,
            required: "ARRAY".into(),
        }),
    }
}

/// The key type, value type and `valueContainsNull` of argument `position` when it is a
/// map, else Spark's "requires the MAP type" mismatch.
pub(crate) fn map_arg(
    args: &[Option<DataType>],
    position: usize,
) -> std::result::Result<(DataType, DataType, bool), ArgumentMismatch> {
    if let Some(Some(DataType::Map(entries, _))) = args.get(position)
        && let DataType::Struct(kv) = entries.data_type()
        && kv.len() == 2
    {
        return Ok((
            kv[0].data_type().clone(),
            kv[1].data_type().clone(),
            kv[1].is_nullable(),
        ));
    }
    Err(ArgumentMismatch::InputType {
        position: position + 1,
        required: "MAP".into(),
    })
}

/// A lambda that must return BOOLEAN (Spark's `functionType` of `filter`, `exists`,
/// `forall`, `map_filter`); an untyped NULL is accepted, as Spark casts it.
pub(crate) fn boolean_function(
    args: &[DataType],
    position: usize,
) -> std::result::Result<(), ArgumentMismatch> {
    match args.get(position) {
        Some(DataType::Boolean | DataType::Null) => Ok(()),
        _ => Err(ArgumentMismatch::InputType {
            position: position + 1,
            required: "BOOLEAN".into(),
        }),
    }
}

/// A predicate's results as booleans: an untyped NULL result is all NULL.
pub(crate) fn as_booleans(a: &ArrayRef) -> Result<arrow::array::BooleanArray> {
    match a.data_type() {
        DataType::Boolean => Ok(a
            .as_any()
            .downcast_ref::<arrow::array::BooleanArray>()
            .cloned()
            .ok_or_else(|| EngineError::Internal("boolean array".into()))?),
        DataType::Null => Ok(arrow::array::BooleanArray::new_null(a.len())),
        other => Err(EngineError::Internal(format!(
            "a predicate returned {other}"
        ))),
    }
}

/// Which elements a predicate keeps (TRUE; NULL drops the element, as in Spark) as a
/// filter mask over `elements.values`, and the offsets of the kept elements per row.
pub(crate) fn kept(
    elements: &Elements,
    keep: &arrow::array::BooleanArray,
) -> (arrow::array::BooleanArray, OffsetBuffer<i32>) {
    let bits = match keep.nulls() {
        Some(nulls) => keep.values() & nulls.inner(),
        None => keep.values().clone(),
    };
    let mask = arrow::array::BooleanArray::new(bits.clone(), None);
    let lengths = (0..elements.num_rows()).map(|i| {
        let r = elements.range(i);
        bits.slice(r.start, r.len()).count_set_bits()
    });
    (mask, OffsetBuffer::from_lengths(lengths))
}

/// The list type a function returns for elements of type `element`.
pub(crate) fn list_field(element: &DataType) -> arrow::datatypes::FieldRef {
    match crate::types::list_of(element.clone()) {
        DataType::List(f) => f,
        _ => Arc::new(arrow::datatypes::Field::new(
            "element",
            element.clone(),
            true,
        )),
    }
}

#[cfg(test)]
mod tests;
