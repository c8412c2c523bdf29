//! Aggregation buffers made only of DOUBLE fields (Spark's central moments and co-moments):
//! each field travels as one non-NULL DOUBLE state column, and is read back the same way.

use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use arrow::datatypes::Float64Type;

/// The most fields a buffer has (`corr`'s six).
pub(super) const MAX_FIELDS: usize = 6;

/// A buffer of DOUBLE fields in their state-column order; a function may use only the first
/// few (fields it does not use stay 0).
pub(super) trait DoubleFields: Copy {
    /// The fields, unused ones 0.
    fn to_fields(&self) -> [f64; MAX_FIELDS];
    /// The buffer from its fields.
    fn from_fields(fields: [f64; MAX_FIELDS]) -> Self;
}

/// The first `width` fields of every buffer, one state column per field.
pub(super) fn to_columns<B: DoubleFields>(buffers: &[B], width: usize) -> Vec<ArrayRef> {
    let fields: Vec<[f64; MAX_FIELDS]> = buffers.iter().map(B::to_fields).collect();
    (0..width.min(MAX_FIELDS))
        .map(|k| {
            let column = Float64Array::from_iter_values(fields.iter().map(|f| f[k]));
            Arc::new(column) as ArrayRef
        })
        .collect()
}

/// One buffer per row of `width` state columns made by [`to_columns`].
pub(super) fn from_columns<B: DoubleFields>(states: &[ArrayRef], width: usize) -> Result<Vec<B>> {
    let columns = states.get(..width.min(MAX_FIELDS)).ok_or_else(|| {
        EngineError::Internal(format!(
            "aggregation buffer with {} state columns, wants {width}",
            states.len()
        ))
    })?;
    let columns: Vec<&Float64Array> = columns
        .iter()
        .map(|c| c.as_primitive::<Float64Type>())
        .collect();
    let rows = columns.first().map_or(0, |c| c.len());
    Ok((0..rows)
        .map(|i| {
            let mut fields = [0.0; MAX_FIELDS];
            for (f, c) in fields.iter_mut().zip(&columns) {
                *f = c.value(i);
            }
            B::from_fields(fields)
        })
        .collect())
}

/// Test helper: runs `f` over `columns` (DOUBLE inputs, one group) in one pass, or split at
/// row `split` into two partial accumulators merged into a final one as the exchange does.
#[cfg(test)]
pub(super) fn run_split(
    f: &dyn crate::functions::AggregateFunction,
    columns: &[ArrayRef],
    split: Option<usize>,
) -> Option<f64> {
    let types: Vec<_> = columns.iter().map(|c| c.data_type().clone()).collect();
    let rows = columns.first().map_or(0, |c| c.len());
    let mut acc = f.create_accumulator(&types).unwrap();
    match split {
        None => acc.update_batch(columns, &vec![0; rows], 1).unwrap(),
        Some(k) => {
            for (lo, len) in [(0, k), (k, rows - k)] {
                let part_columns: Vec<ArrayRef> =
                    columns.iter().map(|c| c.slice(lo, len)).collect();
                let mut part = f.create_accumulator(&types).unwrap();
                part.update_batch(&part_columns, &vec![0; len], 1).unwrap();
                acc.merge_batch(&part.state().unwrap(), &[0], 1).unwrap();
            }
        }
    }
    let out = acc.evaluate().unwrap();
    let out = out.as_primitive::<Float64Type>();
    out.is_valid(0).then(|| out.value(0))
}
