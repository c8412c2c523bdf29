//! `map_filter`, `transform_keys` and `transform_values`: one `(k, v)` lambda over the
//! entries of maps.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, MapArray, StructArray};
use arrow::datatypes::DataType;

use super::{Elements, as_booleans, boolean_function, kept, map_arg};
use crate::expr::columnar::ColumnarValue;
use crate::expr::lambda::{ArgumentMismatch, HigherOrderArgs, HigherOrderFunction};
use crate::functions::map_build::{duplicated_map_key, null_map_key};
use crate::scalar::ScalarValue;
use crate::types::{map_of, sql_type_name};
use crate::{EngineError, Result};

/// The map functions with their names.
pub(super) fn functions() -> Vec<(&'static str, Arc<dyn HigherOrderFunction>)> {
    vec![
        ("map_filter", Arc::new(MapFunction { kind: Kind::Filter })),
        ("transform_keys", Arc::new(MapFunction { kind: Kind::Keys })),
        (
            "transform_values",
            Arc::new(MapFunction { kind: Kind::Values }),
        ),
    ]
}

/// What the lambda's results become.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// Whether to keep the entry (`map_filter`).
    Filter,
    /// The entry's new key (`transform_keys`).
    Keys,
    /// The entry's new value (`transform_values`).
    Values,
}

/// One of the three map functions.
#[derive(Debug)]
struct MapFunction {
    kind: Kind,
}

/// A type that cannot be a map key: a map, or anything containing one.
fn contains_map(t: &DataType) -> bool {
    match t {
        DataType::Map(..) => true,
        DataType::List(f) => contains_map(f.data_type()),
        DataType::Struct(fs) => fs.iter().any(|f| contains_map(f.data_type())),
        _ => false,
    }
}

/// Fails on a NULL key or a key twice in one map, as Spark's map builder does under the
/// default `spark.sql.mapKeyDedupPolicy=EXCEPTION`.
fn check_keys(keys: &ArrayRef, elements: &Elements) -> Result<()> {
    if keys.null_count() > 0 {
        return Err(null_map_key());
    }
    // Row-format bytes make any key type hashable.
    let conv =
        arrow::row::RowConverter::new(vec![arrow::row::SortField::new(keys.data_type().clone())])?;
    let encoded = conv.convert_columns(std::slice::from_ref(keys))?;
    let mut seen = HashSet::new();
    for i in 0..elements.num_rows() {
        seen.clear();
        for j in elements.range(i) {
            if !seen.insert(encoded.row(j)) {
                return Err(duplicated_map_key(&ScalarValue::try_from_array(
                    keys.as_ref(),
                    j,
                )?));
            }
        }
    }
    Ok(())
}

impl HigherOrderFunction for MapFunction {
    fn name(&self) -> &str {
        match self.kind {
            Kind::Filter => "map_filter",
            Kind::Keys => "transform_keys",
            Kind::Values => "transform_values",
        }
    }

    fn signature(&self) -> (usize, usize, usize) {
        (1, 1, 1)
    }

    fn check_arguments(&self, args: &[Option<DataType>]) -> Result<(), ArgumentMismatch> {
        map_arg(args, 0).map(|_| ())
    }

    fn lambda_parameters(
        &self,
        _: usize,
        _: Option<usize>,
        args: &[Option<DataType>],
    ) -> Vec<(DataType, bool)> {
        match map_arg(args, 0) {
            Ok((k, v, v_nullable)) => vec![(k, false), (v, v_nullable)],
            Err(_) => vec![],
        }
    }

    fn check_functions(&self, args: &[DataType]) -> Result<(), ArgumentMismatch> {
        match self.kind {
            Kind::Filter => boolean_function(args, 1),
            Kind::Keys if contains_map(&args[1]) => {
                Err(ArgumentMismatch::Other(EngineError::analysis(
                    "DATATYPE_MISMATCH.INVALID_MAP_KEY_TYPE",
                    format!(
                        "Cannot resolve \"{{call}}\" due to data type mismatch: The key of map cannot be/contain \"{}\". SQLSTATE: 42K09",
                        sql_type_name(&args[1])
                    ),
                )))
            }
            _ => Ok(()),
        }
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let Ok((k, v, _)) = map_arg(&[Some(args[0].clone())], 0) else {
            return Err(EngineError::Internal(format!(
                "{} of a non-map",
                self.name()
            )));
        };
        Ok(match self.kind {
            Kind::Filter => args[0].clone(),
            Kind::Keys => map_of(args[1].clone(), v),
            Kind::Values => map_of(k, args[1].clone()),
        })
    }

    fn invoke(&self, args: &dyn HigherOrderArgs) -> Result<ColumnarValue> {
        let n = args.num_rows();
        let map = args.value(0)?.into_array(n)?;
        let elements = Elements::of_map(&map)?;
        let entries = elements.values.as_struct();
        let (keys, values) = (entries.column(0).clone(), entries.column(1).clone());
        let results = args.call(1, Some(&elements.rows), &[keys.clone(), values.clone()])?;
        let (entries_field, offsets, entries) = match self.kind {
            Kind::Filter => {
                let DataType::Map(field, _) = map.data_type() else {
                    return Err(EngineError::Internal("map_filter of a non-map".into()));
                };
                let (mask, offsets) = kept(&elements, &as_booleans(&results)?);
                let kept_entries = arrow::compute::filter(entries, &mask)?;
                (field.clone(), offsets, kept_entries.as_struct().clone())
            }
            Kind::Keys | Kind::Values => {
                let (keys, values) = if self.kind == Kind::Keys {
                    check_keys(&results, &elements)?;
                    (results, values)
                } else {
                    (keys, results)
                };
                let DataType::Map(field, _) =
                    map_of(keys.data_type().clone(), values.data_type().clone())
                else {
                    return Err(EngineError::Internal("map type".into()));
                };
                let DataType::Struct(kv) = field.data_type() else {
                    return Err(EngineError::Internal("map entries".into()));
                };
                let entries = StructArray::try_new(kv.clone(), vec![keys, values], None)?;
                (field, elements.offsets.clone(), entries)
            }
        };
        let out = MapArray::try_new(
            entries_field,
            offsets,
            entries,
            elements.nulls.clone(),
            false,
        )?;
        Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef))
    }
}
