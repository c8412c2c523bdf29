//! `map_concat(m1, m2, ...)`: the entries of every map in order, as Spark's `MapConcat`:
//! NULL when any map is NULL, a duplicate key is `DUPLICATED_MAP_KEY` (Spark 4's default
//! `spark.sql.mapKeyDedupPolicy=EXCEPTION`), no argument gives an empty
//! `MAP<STRING, STRING>`.

use std::sync::Arc;

use arrow::array::{Array, AsArray, MapArray, UInt32Array};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::DataType;

use super::map_build::build_map;
use super::string::{arrays, rows, wrap};
use super::{FunctionContext, ScalarFunction};
use crate::expr::coercion::common_type;
use crate::expr::columnar::ColumnarValue;
use crate::types::{map_of, sql_type_name};
use crate::{EngineError, Result};

/// Spark's `map_concat`.
#[derive(Debug)]
pub(crate) struct MapConcat;

fn key_value(t: &DataType) -> Option<(DataType, DataType)> {
    match t {
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                Some((kv[0].data_type().clone(), kv[1].data_type().clone()))
            }
            _ => None,
        },
        _ => None,
    }
}

fn type_list(args: &[DataType]) -> Vec<String> {
    args.iter()
        .map(|t| format!("\"{}\"", sql_type_name(t)))
        .collect()
}

impl ScalarFunction for MapConcat {
    fn name(&self) -> &str {
        "map_concat"
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let mut keys = Vec::with_capacity(args.len());
        let mut values = Vec::with_capacity(args.len());
        for t in args {
            let Some((k, v)) = key_value(t) else {
                return Err(EngineError::analysis(
                    "DATATYPE_MISMATCH.MAP_CONCAT_DIFF_TYPES",
                    format!(
                        "Cannot resolve \"{{expr}}\" due to data type mismatch: The `map_concat` should all be of type map, but it's [{}]. SQLSTATE: 42K09",
                        type_list(args).join(", ")
                    ),
                ));
            };
            keys.push(k);
            values.push(v);
        }
        if args.is_empty() {
            return Ok(vec![]);
        }
        // Spark widens numbers but never promotes a string here (no implicit string casts).
        let strings_mixed = |ts: &[DataType]| {
            let s = ts.iter().filter(|t| crate::types::is_string(t)).count();
            s != 0 && s != ts.len()
        };
        let common = if strings_mixed(&keys) || strings_mixed(&values) {
            Err(EngineError::Internal("mixed".into()))
        } else {
            common_type(&keys).and_then(|k| Ok((k, common_type(&values)?)))
        };
        let (k, v) = common.map_err(|_| {
            EngineError::analysis(
                "DATATYPE_MISMATCH.DATA_DIFF_TYPES",
                format!(
                    "Cannot resolve \"{{expr}}\" due to data type mismatch: Input to `map_concat` should all be the same type, but it's ({}). SQLSTATE: 42K09",
                    type_list(args).join(" or ")
                ),
            )
        })?;
        Ok(vec![map_of(k, v); args.len()])
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(args
            .first()
            .cloned()
            .unwrap_or_else(|| map_of(DataType::Utf8, DataType::Utf8)))
    }

    fn invoke(
        &self,
        args: &[ColumnarValue],
        num_rows: usize,
        _: &FunctionContext,
    ) -> Result<ColumnarValue> {
        let n = rows(args, num_rows);
        let out_type = self.return_type(&args.iter().map(|a| a.data_type()).collect::<Vec<_>>())?;
        let DataType::Map(entries_field, sorted) = &out_type else {
            return Err(EngineError::Internal("map_concat of no map".into()));
        };
        let maps = arrays(args, n)?;
        if maps.is_empty() {
            let empty = arrow::array::new_empty_array(&out_type);
            let one = MapArray::try_new(
                entries_field.clone(),
                OffsetBuffer::new_zeroed(n),
                empty.as_map().entries().clone(),
                None,
                *sorted,
            )?;
            return wrap(args, Arc::new(one));
        }
        let maps: Vec<&MapArray> = maps.iter().map(|m| m.as_map()).collect();
        // All entries of all maps in one array; `take` picks each row's in argument order.
        let parts: Vec<&dyn Array> = maps.iter().map(|m| m.entries() as &dyn Array).collect();
        let all = arrow::compute::concat(&parts)?;
        let mut bases = Vec::with_capacity(maps.len());
        let mut base = 0usize;
        for m in &maps {
            bases.push(base);
            base += m.entries().len();
        }
        // Each row's entries in argument order, then the map with Spark's key rules.
        let mut take: Vec<u32> = Vec::new();
        let mut ranges: Vec<Option<(usize, usize)>> = Vec::with_capacity(n);
        for row in 0..n {
            if maps.iter().any(|m| m.is_null(row)) {
                ranges.push(None);
                continue;
            }
            let before = take.len();
            for (m, b) in maps.iter().zip(&bases) {
                let offsets = m.value_offsets();
                let (from, to) = (offsets[row] as usize, offsets[row + 1] as usize);
                for i in from..to {
                    let at = b + i;
                    take.push(u32::try_from(at).map_err(|_| {
                        crate::expr::columnar::result_too_large("map_concat", at as u128)
                    })?);
                }
            }
            ranges.push(Some((before, take.len())));
        }
        let picked = arrow::compute::take(all.as_ref(), &UInt32Array::from(take), None)?;
        let entries = picked.as_struct();
        wrap(
            args,
            build_map("map_concat", entries.column(0), entries.column(1), &ranges)?,
        )
    }
}
