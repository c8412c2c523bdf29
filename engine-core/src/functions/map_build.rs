//! Building map arrays with Spark's key rules, for every function that makes maps (`map`,
//! `map_concat`, `map_from_arrays`, `str_to_map`, ...): a NULL key is `NULL_MAP_KEY`, a
//! repeated key `DUPLICATED_MAP_KEY` (Spark 4's default `spark.sql.mapKeyDedupPolicy=EXCEPTION`),
//! floating-point keys compared as Spark compares them (`-0.0` = `0.0`, one NaN).

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, MapArray, StructArray};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::DataType;
use arrow::row::{RowConverter, SortField};

use super::array_build::{is_null_at, normalize_floats};
use crate::scalar::ScalarValue;
use crate::types::map_of;
use crate::{EngineError, Result};

/// Spark's `NULL_MAP_KEY`: a map was built with a NULL key.
pub(crate) fn null_map_key() -> EngineError {
    EngineError::execution(
        "NULL_MAP_KEY",
        "Cannot use null as map key. SQLSTATE: 2200E",
    )
}

/// Spark's `DUPLICATED_MAP_KEY` under the default `spark.sql.mapKeyDedupPolicy=EXCEPTION`.
pub(crate) fn duplicated_map_key(key: &ScalarValue) -> EngineError {
    EngineError::execution(
        "DUPLICATED_MAP_KEY",
        format!(
            "Duplicate map key {key} was found, please check the input data. If you want to remove the duplicated keys, you can set \"spark.sql.mapKeyDedupPolicy\" to \"LAST_WIN\" so that the key inserted at last takes precedence. SQLSTATE: 23505"
        ),
    )
}

/// Builds a map array whose row `i` holds the entries `from..to` of `keys` and `values`
/// (`None`: a NULL map), checking Spark's key rules.
pub(crate) fn build_map(
    name: &str,
    keys: &ArrayRef,
    values: &ArrayRef,
    ranges: &[Option<(usize, usize)>],
) -> Result<ArrayRef> {
    let DataType::Map(entries, _) = map_of(keys.data_type().clone(), values.data_type().clone())
    else {
        return Err(EngineError::Internal("map_of gave no map".into()));
    };
    let DataType::Struct(kv) = entries.data_type() else {
        return Err(EngineError::Internal("map entries".into()));
    };
    let normalized = normalize_floats(keys);
    let conv = RowConverter::new(vec![SortField::new(normalized.data_type().clone())])?;
    let encoded = conv.convert_columns(std::slice::from_ref(&normalized))?;
    let mut seen: HashSet<&[u8]> = HashSet::new();
    let mut take: Vec<u32> = Vec::new();
    let mut lengths = Vec::with_capacity(ranges.len());
    for (from, to) in ranges.iter().flatten() {
        seen.clear();
        for j in *from..*to {
            if is_null_at(keys.as_ref(), j) {
                return Err(null_map_key());
            }
            if !seen.insert(encoded.row(j).data()) {
                let shown = ScalarValue::try_from_array(keys.as_ref(), j)?;
                return Err(duplicated_map_key(&shown));
            }
            take.push(
                u32::try_from(j)
                    .map_err(|_| crate::expr::columnar::result_too_large(name, j as u128))?,
            );
        }
    }
    for r in ranges {
        lengths.push(r.map_or(0, |(from, to)| to - from));
    }
    let idx = arrow::array::UInt32Array::from(take);
    let k = arrow::compute::take(keys.as_ref(), &idx, None)?;
    let v = arrow::compute::take(values.as_ref(), &idx, None)?;
    let entries_array = StructArray::try_new(kv.clone(), vec![k, v], None)?;
    let valid: Vec<bool> = ranges.iter().map(Option::is_some).collect();
    let nulls = if valid.iter().all(|v| *v) {
        None
    } else {
        Some(NullBuffer::from(valid))
    };
    Ok(Arc::new(MapArray::try_new(
        entries.clone(),
        OffsetBuffer::from_lengths(lengths),
        entries_array,
        nulls,
        false,
    )?))
}
