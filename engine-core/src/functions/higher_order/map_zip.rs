//! `map_zip_with(left, right, (k, v1, v2) -> ..)`: one lambda over the union of two maps'
//! keys.
//!
//! Every row's keys are the left map's in order, then the right map's that the left lacks
//! (Spark's order); `v1`/`v2` are NULL where a map lacks the key. Keys are matched on their
//! row-format bytes, so any key type works. Maps whose key types differ are compared in the
//! wider numeric type (Spark's coercion of the call); other differing key types are Spark's
//! `MAP_ZIP_WITH_DIFF_TYPES`.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, MapArray, StructArray, UInt32Array};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::DataType;

use super::{Elements, map_arg};
use crate::expr::CastMode;
use crate::expr::columnar::ColumnarValue;
use crate::expr::lambda::{ArgumentMismatch, HigherOrderArgs, HigherOrderFunction};
use crate::functions::cast::cast_array;
use crate::types::{is_numeric, map_of, sql_type_name};
use crate::{EngineError, Result};

/// `map_zip_with`.
pub(super) fn functions() -> Vec<(&'static str, Arc<dyn HigherOrderFunction>)> {
    vec![("map_zip_with", Arc::new(MapZipWith))]
}

/// Spark's `MapZipWith`.
#[derive(Debug)]
struct MapZipWith;

/// The key type both maps are compared in, or Spark's mismatch.
fn key_type(left: &DataType, right: &DataType) -> Result<DataType, ArgumentMismatch> {
    if left == right {
        return Ok(left.clone());
    }
    let numeric = is_numeric(left) && is_numeric(right);
    match crate::expr::coercion::common_type(&[left.clone(), right.clone()]) {
        Ok(t) if numeric => Ok(t),
        _ => Err(ArgumentMismatch::Other(EngineError::analysis(
            "DATATYPE_MISMATCH.MAP_ZIP_WITH_DIFF_TYPES",
            format!(
                "Cannot resolve \"{{call}}\" due to data type mismatch: Input to the `map_zip_with` should have been two maps with compatible key types, but it's [\"{}\", \"{}\"]. SQLSTATE: 42K09",
                sql_type_name(left),
                sql_type_name(right)
            ),
        ))),
    }
}

/// The key type and both value types of a call's maps.
fn map_types(
    args: &[Option<DataType>],
) -> Result<(DataType, DataType, DataType), ArgumentMismatch> {
    let (k1, v1, _) = map_arg(args, 0)?;
    let (k2, v2, _) = map_arg(args, 1)?;
    Ok((key_type(&k1, &k2)?, v1, v2))
}

/// One map argument's entries, keys cast to `key` when they differ.
fn entries(
    args: &dyn HigherOrderArgs,
    arg: usize,
    key: &DataType,
) -> Result<(Elements, ArrayRef, ArrayRef)> {
    let map = args.value(arg)?.into_array(args.num_rows())?;
    let elements = Elements::of_map(&map)?;
    let kv = elements.values.as_struct();
    let mut keys = kv.column(0).clone();
    if keys.data_type() != key {
        keys = cast_array(&keys, key, CastMode::Ansi, args.context())?;
    }
    let values = kv.column(1).clone();
    Ok((elements, keys, values))
}

impl HigherOrderFunction for MapZipWith {
    fn name(&self) -> &str {
        "map_zip_with"
    }

    fn signature(&self) -> (usize, usize, usize) {
        (2, 1, 1)
    }

    fn check_arguments(&self, args: &[Option<DataType>]) -> Result<(), ArgumentMismatch> {
        map_types(args).map(|_| ())
    }

    fn lambda_parameters(
        &self,
        _: usize,
        _: Option<usize>,
        args: &[Option<DataType>],
    ) -> Vec<(DataType, bool)> {
        match map_types(args) {
            Ok((k, v1, v2)) => vec![(k, false), (v1, true), (v2, true)],
            Err(_) => vec![],
        }
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let types = [Some(args[0].clone()), Some(args[1].clone())];
        let (k, _, _) = map_types(&types)
            .map_err(|_| EngineError::Internal("map_zip_with of non-maps".into()))?;
        Ok(map_of(k, args[2].clone()))
    }

    fn invoke(&self, args: &dyn HigherOrderArgs) -> Result<ColumnarValue> {
        let n = args.num_rows();
        let DataType::Map(field, _) = args.output_type() else {
            return Err(EngineError::Internal("map_zip_with returns a map".into()));
        };
        let DataType::Struct(kv) = field.data_type() else {
            return Err(EngineError::Internal("map entries".into()));
        };
        let key = kv[0].data_type().clone();
        let (left, lkeys, lvalues) = entries(args, 0, &key)?;
        let (right, rkeys, rvalues) = entries(args, 1, &key)?;
        let conv = arrow::row::RowConverter::new(vec![arrow::row::SortField::new(key)])?;
        let lrows = conv.convert_columns(std::slice::from_ref(&lkeys))?;
        let rrows = conv.convert_columns(std::slice::from_ref(&rkeys))?;
        // Per output entry: its row, where its key comes from, and each side's value.
        let (mut rows, mut from, mut li, mut ri) = (vec![], vec![], vec![], vec![]);
        let (mut lengths, mut valid) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut slot = HashMap::new();
        for i in 0..n {
            let ok = !left.is_null(i) && !right.is_null(i);
            valid.push(ok);
            if !ok {
                lengths.push(0);
                continue;
            }
            let start = li.len();
            slot.clear();
            for j in left.range(i) {
                // Spark's map keys are unique; the first entry of a key is the one kept.
                if slot.contains_key(&lrows.row(j)) {
                    continue;
                }
                slot.insert(lrows.row(j), li.len());
                rows.push(i as u32);
                from.push((0usize, j));
                li.push(Some(j as u32));
                ri.push(None);
            }
            for j in right.range(i) {
                match slot.get(&rrows.row(j)) {
                    Some(&k) => {
                        if ri[k].is_none() {
                            ri[k] = Some(j as u32);
                        }
                    }
                    None => {
                        slot.insert(rrows.row(j), li.len());
                        rows.push(i as u32);
                        from.push((1usize, j));
                        li.push(None);
                        ri.push(Some(j as u32));
                    }
                }
            }
            lengths.push(li.len() - start);
        }
        let keys = arrow::compute::interleave(&[lkeys.as_ref(), rkeys.as_ref()], &from)?;
        let v1 = arrow::compute::take(lvalues.as_ref(), &UInt32Array::from(li), None)?;
        let v2 = arrow::compute::take(rvalues.as_ref(), &UInt32Array::from(ri), None)?;
        let results = args.call(2, Some(&UInt32Array::from(rows)), &[keys.clone(), v1, v2])?;
        let DataType::Map(field, _) = map_of(keys.data_type().clone(), results.data_type().clone())
        else {
            return Err(EngineError::Internal("map type".into()));
        };
        let DataType::Struct(kv) = field.data_type() else {
            return Err(EngineError::Internal("map entries".into()));
        };
        let entries = StructArray::try_new(kv.clone(), vec![keys, results], None)?;
        let out = MapArray::try_new(
            field,
            OffsetBuffer::from_lengths(lengths),
            entries,
            Some(NullBuffer::from(valid)).filter(|b| b.null_count() > 0),
            false,
        )?;
        Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef))
    }
}
