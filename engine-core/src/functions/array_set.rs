//! Set operations on two arrays: `array_union`, `array_intersect`, `array_except` and
//! `arrays_overlap`, as Spark's: results keep the first occurrence of each element in the
//! order met (the first array, then the second), NULL counts as one value of its own, and
//! `-0.0 = 0.0`, `NaN = NaN`. `arrays_overlap` is three-valued: no common element but a NULL
//! in a non-empty pair of arrays is NULL.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray};
use arrow::datatypes::DataType;
use arrow::row::{RowConverter, Rows, SortField};

use super::array_build::{ListPicker, concat_sources, element_field, is_null_at, normalize_floats};
use super::array_extra::{elem_of, want_list};
use super::string::{SimpleFunction, arrays, rows, wrap};
use super::{FunctionContext, ScalarFunction};
use crate::expr::coercion::common_type;
use crate::expr::columnar::ColumnarValue;
use crate::types::{is_string, list_of, sql_type_name};
use crate::{EngineError, Result};

fn coerce_two_arrays(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    let (x, y) = (want_list(name, 1, &a[0])?, want_list(name, 2, &a[1])?);
    let (ex, ey) = (elem_of(&x), elem_of(&y));
    let diff = || {
        EngineError::analysis(
            "DATATYPE_MISMATCH.BINARY_ARRAY_DIFF_TYPES",
            format!(
                "Cannot resolve \"{name}\" due to data type mismatch: Input to function `{name}` should have been two \"ARRAY\" with same element type, but it's [\"{}\", \"{}\"]. SQLSTATE: 42K09",
                sql_type_name(&a[0]),
                sql_type_name(&a[1])
            ),
        )
    };
    let nulls = ex == DataType::Null || ey == DataType::Null;
    if !nulls && is_string(&ex) != is_string(&ey) {
        return Err(diff());
    }
    let t = common_type(&[ex, ey]).map_err(|_| diff())?;
    Ok(vec![list_of(t.clone()), list_of(t)])
}

/// The two list arguments' values as one source (first array's values first) and their
/// row encodings, under which equal elements (Spark's equality) have equal bytes.
struct Pair {
    source: arrow::array::ArrayRef,
    second_base: usize,
    encoded: Rows,
}

fn pair(a: &arrow::array::ListArray, b: &arrow::array::ListArray) -> Result<Pair> {
    let (source, bases) = concat_sources(&[a.values().as_ref(), b.values().as_ref()])?;
    let keys = normalize_floats(&source);
    let conv = RowConverter::new(vec![SortField::new(keys.data_type().clone())])?;
    let encoded = conv.convert_columns(std::slice::from_ref(&keys))?;
    Ok(Pair {
        source,
        second_base: bases[1],
        encoded,
    })
}

fn eval_set_op(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let (x, y) = (a[0].as_list::<i32>(), a[1].as_list::<i32>());
    let p = pair(x, y)?;
    let (ox, oy) = (x.value_offsets(), y.value_offsets());
    let mut out = ListPicker::new(name, rows);
    let mut seen: HashSet<&[u8]> = HashSet::new();
    let mut other: HashSet<&[u8]> = HashSet::new();
    for i in 0..rows {
        if x.is_null(i) || y.is_null(i) {
            out.null_row();
            continue;
        }
        seen.clear();
        other.clear();
        let xs = ox[i] as usize..ox[i + 1] as usize;
        let ys = (oy[i] as usize + p.second_base)..(oy[i + 1] as usize + p.second_base);
        let key = |j: usize| p.encoded.row(j).data();
        match name {
            "array_union" => {
                for j in xs.chain(ys) {
                    if seen.insert(key(j)) {
                        out.push(Some(j))?;
                    }
                }
            }
            _ => {
                other.extend(ys.map(key));
                let keep_common = name == "array_intersect";
                for j in xs {
                    if other.contains(key(j)) == keep_common && seen.insert(key(j)) {
                        out.push(Some(j))?;
                    }
                }
            }
        }
        out.end_row(true);
    }
    wrap(
        args,
        out.finish(p.source.as_ref(), element_field(x.data_type()))?,
    )
}

fn eval_arrays_overlap(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let (x, y) = (a[0].as_list::<i32>(), a[1].as_list::<i32>());
    let p = pair(x, y)?;
    let (ox, oy) = (x.value_offsets(), y.value_offsets());
    let mut other: HashSet<&[u8]> = HashSet::new();
    let mut out: Vec<Option<bool>> = Vec::with_capacity(rows);
    for i in 0..rows {
        if x.is_null(i) || y.is_null(i) {
            out.push(None);
            continue;
        }
        other.clear();
        let xs = ox[i] as usize..ox[i + 1] as usize;
        let ys = (oy[i] as usize + p.second_base)..(oy[i + 1] as usize + p.second_base);
        let mut saw_null = false;
        for j in ys.clone() {
            if is_null_at(p.source.as_ref(), j) {
                saw_null = true;
            } else {
                other.insert(p.encoded.row(j).data());
            }
        }
        let mut found = false;
        for j in xs.clone() {
            if is_null_at(p.source.as_ref(), j) {
                saw_null = true;
            } else if other.contains(p.encoded.row(j).data()) {
                found = true;
                break;
            }
        }
        out.push(if found {
            Some(true)
        } else if saw_null && !xs.is_empty() && !ys.is_empty() {
            None
        } else {
            Some(false)
        });
    }
    wrap(args, Arc::new(BooleanArray::from(out)))
}

/// Every function of this module with its names.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let s = SimpleFunction::new;
    let mut v: Vec<(&'static str, Arc<dyn ScalarFunction>)> = Vec::new();
    for name in ["array_union", "array_intersect", "array_except"] {
        v.extend(
            s(
                name,
                (2, 2),
                coerce_two_arrays,
                |a| Ok(a[0].clone()),
                eval_set_op,
            )
            .entries(&[]),
        );
    }
    v.extend(
        s(
            "arrays_overlap",
            (2, 2),
            coerce_two_arrays,
            |_| Ok(DataType::Boolean),
            eval_arrays_overlap,
        )
        .entries(&[]),
    );
    v
}
