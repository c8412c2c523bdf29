//! Building array results by picking elements: the shared machinery of the array functions
//! that reorder, drop, add or pad elements (`array_append`, `slice`, `array_union`, ...).
//!
//! A result row is a list of positions into one *source* array (the input lists' values,
//! possibly followed by other columns such as the appended element); a missing position is a
//! NULL element. One Arrow `take` then builds every row's values at once, so no function
//! needs per-type code.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, ListArray, UInt32Array};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, FieldRef};

use crate::expr::columnar::add_result_bytes;
use crate::{EngineError, Result};

/// Spark's largest array (`ByteArrayMethods.MAX_ROUNDED_ARRAY_LENGTH`).
pub(crate) const MAX_ARRAY_ELEMENTS: i64 = i32::MAX as i64 - 15;

/// Spark's `COLLECTION_SIZE_LIMIT_EXCEEDED.PARAMETER`: `count` elements asked of `function`
/// through its parameter `parameter`.
pub(crate) fn too_many_elements(function: &str, parameter: &str, count: i128) -> EngineError {
    EngineError::execution(
        "COLLECTION_SIZE_LIMIT_EXCEEDED.PARAMETER",
        format!(
            "Can't create array with {count} elements which exceeding the array size limit {MAX_ARRAY_ELEMENTS}, the value of parameter(s) `{parameter}` in the function `{function}` is invalid. SQLSTATE: 54000"
        ),
    )
}

/// Row-by-row positions of a list result; see the module docs.
pub(crate) struct ListPicker<'a> {
    function: &'a str,
    idx: Vec<Option<u32>>,
    lengths: Vec<usize>,
    valid: Vec<bool>,
    row_start: usize,
    bytes: usize,
}

impl<'a> ListPicker<'a> {
    /// An empty result for `rows` rows of `function`.
    pub(crate) fn new(function: &'a str, rows: usize) -> Self {
        ListPicker {
            function,
            idx: Vec::new(),
            lengths: Vec::with_capacity(rows),
            valid: Vec::with_capacity(rows),
            row_start: 0,
            bytes: 0,
        }
    }

    /// Room for `more` elements in the current row, or Spark's size-limit error naming
    /// `parameter`; the whole batch is also kept within one Arrow array.
    pub(crate) fn reserve(&mut self, more: i128, parameter: &str) -> Result<()> {
        let in_row = (self.idx.len() - self.row_start) as i128 + more.max(0);
        if in_row > i128::from(MAX_ARRAY_ELEMENTS) {
            return Err(too_many_elements(self.function, parameter, in_row));
        }
        // Four bytes of position per element bound the memory a huge request can take.
        add_result_bytes(self.function, &mut self.bytes, more.max(0) as u128 * 4)?;
        self.idx.reserve(usize::try_from(more).unwrap_or(0));
        Ok(())
    }

    /// Appends the element at `pos` of the source (`None`: a NULL element).
    pub(crate) fn push(&mut self, pos: Option<usize>) -> Result<()> {
        let p =
            match pos {
                Some(p) => Some(u32::try_from(p).map_err(|_| {
                    crate::expr::columnar::result_too_large(self.function, p as u128)
                })?),
                None => None,
            };
        self.idx.push(p);
        Ok(())
    }

    /// Appends the source elements `from..to`.
    pub(crate) fn push_range(&mut self, from: usize, to: usize) -> Result<()> {
        for p in from..to {
            self.push(Some(p))?;
        }
        Ok(())
    }

    /// Appends `count` NULL elements (reserve them first).
    pub(crate) fn push_nulls(&mut self, count: usize) {
        self.idx.extend(std::iter::repeat_n(None, count));
    }

    /// Ends the current row; `valid: false` makes the row NULL (its elements are dropped).
    pub(crate) fn end_row(&mut self, valid: bool) {
        if !valid {
            self.idx.truncate(self.row_start);
        }
        self.lengths.push(self.idx.len() - self.row_start);
        self.valid.push(valid);
        self.row_start = self.idx.len();
    }

    /// Ends the current row as NULL.
    pub(crate) fn null_row(&mut self) {
        self.end_row(false);
    }

    /// The list array of the picked elements of `source`, its element field `field`.
    pub(crate) fn finish(self, source: &dyn Array, field: FieldRef) -> Result<ArrayRef> {
        let idx = UInt32Array::from(self.idx);
        let values = arrow::compute::take(source, &idx, None)?;
        let values = if values.data_type() == field.data_type() {
            values
        } else {
            arrow::compute::cast(&values, field.data_type())?
        };
        let nulls = if self.valid.iter().all(|v| *v) {
            None
        } else {
            Some(NullBuffer::from(self.valid))
        };
        Ok(Arc::new(ListArray::try_new(
            field,
            OffsetBuffer::from_lengths(self.lengths),
            values,
            nulls,
        )?))
    }
}

/// The element field of list type `t` (a nullable `element` of NULL type otherwise).
pub(crate) fn element_field(t: &DataType) -> FieldRef {
    match t {
        DataType::List(f) => f.clone(),
        _ => Arc::new(Field::new("element", DataType::Null, true)),
    }
}

/// `parts` one after the other as one source array, with the offset each part starts at.
pub(crate) fn concat_sources(parts: &[&dyn Array]) -> Result<(ArrayRef, Vec<usize>)> {
    let mut bases = Vec::with_capacity(parts.len());
    let mut base = 0usize;
    for p in parts {
        bases.push(base);
        base += p.len();
    }
    Ok((arrow::compute::concat(parts)?, bases))
}

/// Whether element `i` of `a` is NULL, counting every element of a NULL-typed array (whose
/// Arrow form has no validity buffer, so `Array::is_null` says `false`).
pub(crate) fn is_null_at(a: &dyn Array, i: usize) -> bool {
    *a.data_type() == DataType::Null || a.is_null(i)
}

/// `a` with every floating-point `-0.0` made `0.0` and every NaN the same NaN, so comparing
/// (or row-encoding) it sees Spark's equality of doubles; other types are returned as they
/// are.
pub(crate) fn normalize_floats(a: &ArrayRef) -> ArrayRef {
    use arrow::array::AsArray;
    use arrow::datatypes::{Float32Type, Float64Type};
    match a.data_type() {
        DataType::Float64 => Arc::new(a.as_primitive::<Float64Type>().unary::<_, Float64Type>(
            |v| {
                if v.is_nan() {
                    f64::NAN
                } else if v == 0.0 {
                    0.0
                } else {
                    v
                }
            },
        )),
        DataType::Float32 => Arc::new(a.as_primitive::<Float32Type>().unary::<_, Float32Type>(
            |v| {
                if v.is_nan() {
                    f32::NAN
                } else if v == 0.0 {
                    0.0
                } else {
                    v
                }
            },
        )),
        _ => a.clone(),
    }
}
