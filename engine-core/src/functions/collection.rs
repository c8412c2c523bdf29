//! Array, map and struct functions: size, element_at, array_contains, array, struct,
//! named_struct, sort_array, array_distinct, array_join.
//!
//! ## What the analyzer must do for `struct` and `named_struct`
//!
//! A struct's field names are part of its type, but [`ScalarFunction::return_type`] only
//! sees argument types. So the analyzer builds the function object itself with
//! [`struct_function`] / [`named_struct_function`] instead of the registry entry:
//! - `struct(a, b + 1)`: names from the arguments: a column (or alias) gives its name,
//!   anything else `col{i}` (1-based), as Spark does; call `struct_function(names)`.
//! - `named_struct('x', a, 'y', b)`: the names are the (foldable STRING) odd arguments; call
//!   `named_struct_function(names)`; the arguments stay as written (name literals included),
//!   so the expression still prints as `named_struct(x, a, y, b)`.
//!
//! The registry's plain `struct` entry names fields `col1`, `col2`, ...; its `named_struct`
//! entry can only report an error asking for the rewrite.
//!
//! [`specialize`] does all of this (and `round`/`bround` with a literal scale) in one call:
//! after looking a function up, the analyzer calls
//! `specialize(&name, &args)?.unwrap_or(looked_up)`.

use std::collections::HashSet;
use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int32Array, ListArray, StringBuilder, StructArray,
    UInt32Array, make_comparator,
};
use arrow::buffer::OffsetBuffer;
use arrow::compute::SortOptions;
use arrow::datatypes::{DataType, Field, Fields, Int32Type};

use super::map_build::build_map;
use super::string::{SimpleFunction, castable_to_string, rows, want_string, wrap};
use super::{FunctionContext, ScalarFunction, unexpected_input_type};
use crate::expr::Expr;
use crate::expr::coercion::common_type;
use crate::expr::columnar::ColumnarValue;
use crate::scalar::ScalarValue;
use crate::types::list_of;

fn element_type(t: &DataType) -> Option<&DataType> {
    match t {
        DataType::List(f) => Some(f.data_type()),
        _ => None,
    }
}

fn map_kv(t: &DataType) -> Option<(&DataType, &DataType)> {
    match t {
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => Some((kv[0].data_type(), kv[1].data_type())),
            _ => None,
        },
        _ => None,
    }
}

fn want_array(name: &str, pos: usize, t: &DataType) -> Result<DataType> {
    match t {
        DataType::List(_) => Ok(t.clone()),
        DataType::Null => Ok(list_of(DataType::Null)),
        t => Err(unexpected_input_type(name, pos, "\"ARRAY\"", t)),
    }
}

// ---- size ----

fn coerce_size(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    match &a[0] {
        DataType::List(_) | DataType::Map(_, _) | DataType::Null => Ok(a.to_vec()),
        t => Err(unexpected_input_type(name, 1, "(\"ARRAY\" or \"MAP\")", t)),
    }
}

fn eval_size(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    // spark.sql.legacy.sizeOfNull (default true) gives -1 for NULL, but only when ANSI is
    // off; with ANSI (Spark 4's default) size(NULL) is NULL.
    let null_value = if ctx.ansi { None } else { Some(-1) };
    let lens: Vec<Option<i32>> = match a.data_type() {
        DataType::List(_) => {
            let l = a.as_list::<i32>();
            let o = l.value_offsets();
            (0..l.len())
                .map(|i| {
                    if l.is_null(i) {
                        null_value
                    } else {
                        Some(o[i + 1] - o[i])
                    }
                })
                .collect()
        }
        DataType::Map(_, _) => {
            let m = a.as_map();
            let o = m.value_offsets();
            (0..m.len())
                .map(|i| {
                    if m.is_null(i) {
                        null_value
                    } else {
                        Some(o[i + 1] - o[i])
                    }
                })
                .collect()
        }
        _ => vec![null_value; a.len()],
    };
    wrap(args, Arc::new(Int32Array::from(lens)))
}

// ---- element_at ----

fn coerce_element_at(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    match &a[0] {
        DataType::List(_) => {
            let idx = match &a[1] {
                DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Null => {
                    DataType::Int32
                }
                t => return Err(unexpected_input_type(name, 2, "\"INT\"", t)),
            };
            Ok(vec![a[0].clone(), idx])
        }
        t @ DataType::Map(_, _) => {
            let (k, _) = map_kv(t).ok_or_else(|| EngineError::Internal("map type".into()))?;
            Ok(vec![t.clone(), k.clone()])
        }
        t => Err(unexpected_input_type(name, 1, "(\"ARRAY\" or \"MAP\")", t)),
    }
}

fn ret_element_at(a: &[DataType]) -> Result<DataType> {
    if let Some(e) = element_type(&a[0]) {
        return Ok(e.clone());
    }
    if let Some((_, v)) = map_kv(&a[0]) {
        return Ok(v.clone());
    }
    Ok(DataType::Null)
}

pub use crate::expr::function::ARRAY_ITEM;

/// `element_at` (1-based, negative from the end), `get` (0-based, NULL when out of bounds)
/// and subscripts ([`ARRAY_ITEM`]) share one implementation; maps look up the key in all.
fn eval_element_at(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let zero_based = name == "get" || name == ARRAY_ITEM;
    let rows = rows(args, n);
    let a = args[0].to_array(rows)?;
    let key = args[1].to_array(rows)?;
    let mut take: Vec<Option<u32>> = Vec::with_capacity(rows);
    let values = match a.data_type() {
        DataType::List(_) => {
            let l = a.as_list::<i32>();
            let idx = key.as_primitive::<Int32Type>();
            let o = l.value_offsets();
            for i in 0..rows {
                if l.is_null(i) || idx.is_null(i) {
                    take.push(None);
                    continue;
                }
                let len = (o[i + 1] - o[i]) as i64;
                let k = i64::from(idx.value(i));
                if k == 0 && !zero_based {
                    return Err(EngineError::execution(
                        "INVALID_INDEX_OF_ZERO",
                        "The index 0 is invalid. An index shall be either < 0 or > 0 (the first element has index 1). SQLSTATE: 22003",
                    ));
                }
                let pos = if zero_based {
                    k
                } else if k > 0 {
                    k - 1
                } else {
                    len + k
                };
                if pos < 0 || pos >= len {
                    if ctx.ansi && name == "element_at" {
                        return Err(EngineError::execution(
                            "INVALID_ARRAY_INDEX_IN_ELEMENT_AT",
                            format!(
                                "The index {k} is out of bounds. The array has {len} elements. Use `try_element_at` to tolerate accessing element at invalid index and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22003"
                            ),
                        ));
                    }
                    if ctx.ansi && name == ARRAY_ITEM {
                        return Err(EngineError::execution(
                            "INVALID_ARRAY_INDEX",
                            format!(
                                "The index {k} is out of bounds. The array has {len} elements. Use the SQL function `get()` to tolerate accessing element at invalid index and return NULL instead. SQLSTATE: 22003"
                            ),
                        ));
                    }
                    take.push(None);
                    continue;
                }
                take.push(Some((i64::from(o[i]) + pos) as u32));
            }
            l.values().clone()
        }
        DataType::Map(_, _) => {
            let m = a.as_map();
            let keys = m.keys();
            let cmp = make_comparator(keys.as_ref(), key.as_ref(), SortOptions::default())?;
            let o = m.value_offsets();
            for i in 0..rows {
                if m.is_null(i) || key.is_null(i) {
                    take.push(None);
                    continue;
                }
                // A missing key is NULL even under ANSI (Spark's element_at on maps).
                let hit =
                    (o[i]..o[i + 1]).find(|&j| cmp(j as usize, i) == std::cmp::Ordering::Equal);
                take.push(hit.map(|j| j as u32));
            }
            m.values().clone()
        }
        _ => return wrap(args, arrow::array::new_null_array(&DataType::Null, rows)),
    };
    let out = arrow::compute::take(values.as_ref(), &UInt32Array::from(take), None)?;
    wrap(args, out)
}

// ---- array_contains ----

fn coerce_array_contains(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    let arr = want_array(name, 1, &a[0])?;
    let elem = element_type(&arr).cloned().unwrap_or(DataType::Null);
    let t = common_type(&[elem.clone(), a[1].clone()]).map_err(|_| {
        EngineError::analysis(
            "DATATYPE_MISMATCH.ARRAY_FUNCTION_DIFF_TYPES",
            format!(
                "Cannot resolve \"{name}\" due to data type mismatch: Input to `{name}` should have been \"ARRAY\" followed by a value with same element type, but it's [\"{}\", \"{}\"]. SQLSTATE: 42K09",
                crate::types::sql_type_name(&a[0]),
                crate::types::sql_type_name(&a[1])
            ),
        )
    })?;
    Ok(vec![list_of(t.clone()), t])
}

fn eval_array_contains(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = args[0].to_array(rows)?;
    let v = args[1].to_array(rows)?;
    let l = a.as_list::<i32>();
    let values = l.values();
    let cmp = make_comparator(values.as_ref(), v.as_ref(), SortOptions::default())?;
    let o = l.value_offsets();
    let out: BooleanArray = (0..rows)
        .map(|i| {
            if l.is_null(i) || v.is_null(i) {
                return None;
            }
            let mut saw_null = false;
            for j in o[i] as usize..o[i + 1] as usize {
                if values.is_null(j) {
                    saw_null = true;
                } else if cmp(j, i) == std::cmp::Ordering::Equal {
                    return Some(true);
                }
            }
            // Not found but a NULL element might have matched: unknown.
            if saw_null { None } else { Some(false) }
        })
        .collect();
    wrap(args, Arc::new(out))
}

// ---- array(...) ----

fn coerce_array(_: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    let t = common_type(a)?;
    Ok(vec![t; a.len()])
}

fn ret_array(a: &[DataType]) -> Result<DataType> {
    Ok(list_of(a.first().cloned().unwrap_or(DataType::Null)))
}

fn eval_array(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let k = args.len();
    let elem = args.first().map_or(DataType::Null, |a| a.data_type());
    let cols: Vec<ArrayRef> = args
        .iter()
        .map(|a| a.to_array(rows))
        .collect::<Result<_>>()?;
    let values = if cols.is_empty() {
        arrow::array::new_null_array(&DataType::Null, 0)
    } else {
        // Row-major order: row i's elements are cols[0][i], cols[1][i], ...
        let refs: Vec<&dyn Array> = cols.iter().map(|c| c.as_ref()).collect();
        let all = arrow::compute::concat(&refs)?;
        let idx: UInt32Array = (0..rows)
            .flat_map(|i| (0..k).map(move |j| (j * rows + i) as u32))
            .collect();
        arrow::compute::take(all.as_ref(), &idx, None)?
    };
    let offsets = OffsetBuffer::from_lengths(std::iter::repeat_n(k, rows));
    let field = Arc::new(Field::new("element", elem, true));
    let out = ListArray::try_new(field, offsets, values, None)?;
    wrap(args, Arc::new(out))
}

// ---- map(...) / map_keys / map_values ----

fn coerce_map(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    if !a.len().is_multiple_of(2) {
        return Err(super::wrong_num_args(name, "2n (n > 0)", a.len()));
    }
    let keys: Vec<DataType> = a.iter().step_by(2).cloned().collect();
    let values: Vec<DataType> = a.iter().skip(1).step_by(2).cloned().collect();
    let k = common_type(&keys)?;
    let v = common_type(&values)?;
    Ok(a.iter()
        .enumerate()
        .map(|(i, _)| if i % 2 == 0 { k.clone() } else { v.clone() })
        .collect())
}

fn ret_map(a: &[DataType]) -> Result<DataType> {
    let k = a.first().cloned().unwrap_or(DataType::Null);
    let v = a.get(1).cloned().unwrap_or(DataType::Null);
    Ok(crate::types::map_of(k, v))
}

/// Row-major interleave: row `i` of the result holds `cols[0][i], cols[1][i], ...`.
fn interleave_rows(cols: &[ArrayRef], rows: usize, dt: &DataType) -> Result<ArrayRef> {
    if cols.is_empty() {
        return Ok(arrow::array::new_empty_array(dt));
    }
    let refs: Vec<&dyn Array> = cols.iter().map(|c| c.as_ref()).collect();
    let all = arrow::compute::concat(&refs)?;
    let k = cols.len();
    let idx: UInt32Array = (0..rows)
        .flat_map(|i| (0..k).map(move |j| (j * rows + i) as u32))
        .collect();
    Ok(arrow::compute::take(all.as_ref(), &idx, None)?)
}

fn eval_map(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let types: Vec<DataType> = args.iter().map(|a| a.data_type()).collect();
    let DataType::Map(entries, _) = ret_map(&types)? else {
        return Err(EngineError::Internal("map type".into()));
    };
    let DataType::Struct(kv) = entries.data_type() else {
        return Err(EngineError::Internal("map entries".into()));
    };
    let cols: Vec<ArrayRef> = args
        .iter()
        .map(|a| a.to_array(rows))
        .collect::<Result<_>>()?;
    let key_cols: Vec<ArrayRef> = cols.iter().step_by(2).cloned().collect();
    let value_cols: Vec<ArrayRef> = cols.iter().skip(1).step_by(2).cloned().collect();
    let keys = interleave_rows(&key_cols, rows, kv[0].data_type())?;
    let values = interleave_rows(&value_cols, rows, kv[1].data_type())?;
    // Row r holds the entries r*k .. r*k + k of the interleaved columns.
    let k = key_cols.len();
    let ranges: Vec<Option<(usize, usize)>> = (0..rows).map(|r| Some((r * k, r * k + k))).collect();
    wrap(args, build_map(name, &keys, &values, &ranges)?)
}

fn coerce_map_arg(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    match &a[0] {
        DataType::Map(_, _) => Ok(a.to_vec()),
        t => Err(unexpected_input_type(name, 1, "\"MAP\"", t)),
    }
}

fn map_part(args: &[ColumnarValue], n: usize, values: bool) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = args[0].to_array(rows)?;
    let m = a.as_map();
    let part = if values { m.values() } else { m.keys() };
    let field = Arc::new(Field::new("element", part.data_type().clone(), true));
    let out = ListArray::try_new(field, m.offsets().clone(), part.clone(), m.nulls().cloned())?;
    wrap(args, Arc::new(out))
}

fn eval_map_keys(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    map_part(args, n, false)
}

fn eval_map_values(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    map_part(args, n, true)
}

// ---- struct / named_struct ----

/// `struct(...)`/`named_struct(...)` with field names fixed when the analyzer built it.
#[derive(Debug)]
pub struct StructFunction {
    name: &'static str,
    names: Option<Vec<String>>,
}

/// `struct(args)` with the given field names (one per argument).
pub fn struct_function(names: Vec<String>) -> Arc<dyn ScalarFunction> {
    Arc::new(StructFunction {
        name: "struct",
        names: Some(names),
    })
}

/// `named_struct(name1, v1, ...)` with the (already extracted) names; the arguments still
/// include the name literals, which evaluation skips.
pub fn named_struct_function(names: Vec<String>) -> Arc<dyn ScalarFunction> {
    Arc::new(StructFunction {
        name: "named_struct",
        names: Some(names),
    })
}

impl StructFunction {
    fn is_named(&self) -> bool {
        self.name == "named_struct"
    }

    fn value_types<'a>(&self, args: &'a [DataType]) -> Vec<&'a DataType> {
        if self.is_named() {
            args.iter().skip(1).step_by(2).collect()
        } else {
            args.iter().collect()
        }
    }

    fn fields(&self, args: &[DataType]) -> Result<Fields> {
        let types = self.value_types(args);
        let names: Vec<String> = match &self.names {
            Some(n) if n.len() == types.len() => n.clone(),
            Some(n) => {
                return Err(EngineError::Internal(format!(
                    "{} built with {} names for {} values",
                    self.name,
                    n.len(),
                    types.len()
                )));
            }
            None if self.is_named() => {
                return Err(EngineError::Internal(
                    "named_struct needs its field names from the analyzer: resolve the call through functions::collection::specialize".into(),
                ));
            }
            None => (1..=types.len()).map(|i| format!("col{i}")).collect(),
        };
        Ok(names
            .into_iter()
            .zip(types)
            .map(|(n, t)| Field::new(n, t.clone(), true))
            .collect())
    }
}

impl ScalarFunction for StructFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        if self.is_named() {
            if args.is_empty() || !args.len().is_multiple_of(2) {
                return Err(super::wrong_num_args(self.name, "2n (n > 0)", args.len()));
            }
            for (i, t) in args.iter().enumerate().step_by(2) {
                if !crate::types::is_string(t) {
                    return Err(unexpected_input_type(self.name, i + 1, "\"STRING\"", t));
                }
            }
        } else if args.is_empty() {
            return Err(super::wrong_num_args(self.name, "> 0", 0));
        }
        Ok(args.to_vec())
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(self.fields(args)?))
    }

    fn invoke(
        &self,
        args: &[ColumnarValue],
        num_rows: usize,
        _: &FunctionContext,
    ) -> Result<ColumnarValue> {
        let rows = rows(args, num_rows);
        let types: Vec<DataType> = args.iter().map(|a| a.data_type()).collect();
        let fields = self.fields(&types)?;
        let values: Vec<&ColumnarValue> = if self.is_named() {
            args.iter().skip(1).step_by(2).collect()
        } else {
            args.iter().collect()
        };
        let cols: Vec<ArrayRef> = values
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<_>>()?;
        let out = StructArray::try_new(fields, cols, None)?;
        wrap(args, Arc::new(out))
    }
}

/// Whether a `struct(..)` argument gives its field its own name (a column, an alias, a
/// struct field), as in Spark's CreateStruct; any other argument's field is `col<i>`.
pub fn names_its_struct_field(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Column(_) | Expr::UnresolvedColumn(_) | Expr::Alias(_, _) | Expr::GetField { .. }
    )
}

/// A call-specific function object for calls whose result type depends on argument
/// *values* or *names* rather than types: `struct` (field names from the arguments),
/// `named_struct` (names from the literal odd arguments) and `round`/`bround` with a literal
/// scale (DECIMAL result type). `None`: use the registry's entry as is.
///
/// `args` are the resolved (or at least name-bearing) argument expressions, before coercion.
pub fn specialize(name: &str, args: &[Expr]) -> Result<Option<Arc<dyn ScalarFunction>>> {
    match name.to_ascii_lowercase().as_str() {
        "struct" => {
            // Spark's CreateStruct: named expressions (columns, aliases, struct fields) keep
            // their name, anything else is `col{i}`.
            let names = args
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    if names_its_struct_field(a) {
                        a.output_name()
                    } else {
                        format!("col{}", i + 1)
                    }
                })
                .collect();
            Ok(Some(struct_function(names)))
        }
        "named_struct" => {
            if args.is_empty() || !args.len().is_multiple_of(2) {
                return Err(super::wrong_num_args(
                    "named_struct",
                    "2n (n > 0)",
                    args.len(),
                ));
            }
            let mut names = Vec::with_capacity(args.len() / 2);
            for a in args.iter().step_by(2) {
                match a.unalias() {
                    Expr::Literal(ScalarValue::Utf8(Some(n))) => names.push(n.clone()),
                    Expr::Literal(ScalarValue::Utf8(None)) | Expr::Literal(ScalarValue::Null) => {
                        return Err(EngineError::analysis(
                            "DATATYPE_MISMATCH.UNEXPECTED_NULL",
                            format!(
                                "Cannot resolve \"named_struct\" due to data type mismatch: The `{a}` must not be null. SQLSTATE: 42K09"
                            ),
                        ));
                    }
                    other => {
                        return Err(EngineError::analysis(
                            "DATATYPE_MISMATCH.CREATE_NAMED_STRUCT_WITHOUT_FOLDABLE_STRING",
                            format!(
                                "Cannot resolve \"named_struct\" due to data type mismatch: Only foldable `STRING` expressions are allowed to appear at odd position, but they are [\"{other}\"]. SQLSTATE: 42K09"
                            ),
                        ));
                    }
                }
            }
            Ok(Some(named_struct_function(names)))
        }
        "date_part" | "datepart" | "extract" => super::datetime_part::specialize(name, args),
        "arrays_zip" => Ok(Some(super::array_nest::zip_function(
            super::array_nest::zip_field_names(args),
        ))),
        n @ ("round" | "bround") if args.len() == 2 => {
            let scale = match args[1].unalias() {
                Expr::Literal(ScalarValue::Int8(Some(v))) => Some(i32::from(*v)),
                Expr::Literal(ScalarValue::Int16(Some(v))) => Some(i32::from(*v)),
                Expr::Literal(ScalarValue::Int32(Some(v))) => Some(*v),
                Expr::Literal(ScalarValue::Int64(Some(v))) => i32::try_from(*v).ok(),
                _ => None,
            };
            Ok(scale.map(|s| super::math::round_with_scale(n == "bround", s)))
        }
        n @ ("ceil" | "ceiling" | "floor") if args.len() == 2 => match args[1].unalias() {
            Expr::Literal(ScalarValue::Int32(Some(v))) => {
                Ok(super::ceil_floor_scale::with_scale(n, *v))
            }
            _ => Err(super::ceil_floor_scale::non_foldable_scale(n)),
        },
        _ => Ok(None),
    }
}

// ---- sort_array / array_distinct / array_join ----

fn coerce_sort_array(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    let mut out = vec![want_array(name, 1, &a[0])?];
    if let Some(t) = a.get(1) {
        if *t != DataType::Boolean {
            return Err(unexpected_input_type(name, 2, "\"BOOLEAN\"", t));
        }
        out.push(DataType::Boolean);
    }
    Ok(out)
}

fn ret_same(a: &[DataType]) -> Result<DataType> {
    Ok(a[0].clone())
}

/// Rebuilds a list array whose row `i` holds `values[idx]` for the indices produced for it.
fn rebuild_list(l: &ListArray, per_row: Vec<Vec<u32>>) -> Result<ArrayRef> {
    let offsets = OffsetBuffer::from_lengths(per_row.iter().map(Vec::len));
    let idx: UInt32Array = per_row.into_iter().flatten().collect();
    let values = arrow::compute::take(l.values().as_ref(), &idx, None)?;
    let field = match l.data_type() {
        DataType::List(f) => f.clone(),
        _ => Arc::new(Field::new("element", values.data_type().clone(), true)),
    };
    Ok(Arc::new(ListArray::try_new(
        field,
        offsets,
        values,
        l.nulls().cloned(),
    )?))
}

fn eval_sort_array(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = args[0].to_array(rows)?;
    let asc = match args.get(1).map(|x| x.to_array(rows)).transpose()? {
        Some(b) => {
            let b = b.as_boolean();
            !b.is_empty() && b.is_valid(0) && b.value(0) || b.is_empty()
        }
        None => true,
    };
    let l = a.as_list::<i32>();
    // NULLs first when ascending, last when descending (Spark's sort_array).
    let opts = SortOptions {
        descending: !asc,
        nulls_first: asc,
    };
    let values = l.values();
    let cmp = make_comparator(values.as_ref(), values.as_ref(), opts)?;
    let o = l.value_offsets();
    let per_row: Vec<Vec<u32>> = (0..rows)
        .map(|i| {
            let mut idx: Vec<u32> = (o[i] as u32..o[i + 1] as u32).collect();
            if l.is_valid(i) {
                idx.sort_by(|x, y| cmp(*x as usize, *y as usize));
            } else {
                idx.clear();
            }
            idx
        })
        .collect();
    wrap(args, rebuild_list(l, per_row)?)
}

fn eval_array_distinct(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = args[0].to_array(rows)?;
    let l = a.as_list::<i32>();
    let values = l.values();
    // Row-format bytes make any element type hashable and comparable.
    let conv = arrow::row::RowConverter::new(vec![arrow::row::SortField::new(
        values.data_type().clone(),
    )])?;
    let encoded = conv.convert_columns(std::slice::from_ref(values))?;
    let o = l.value_offsets();
    let mut seen = HashSet::new();
    let per_row: Vec<Vec<u32>> = (0..rows)
        .map(|i| {
            seen.clear();
            if l.is_null(i) {
                return vec![];
            }
            (o[i] as usize..o[i + 1] as usize)
                .filter(|&j| seen.insert(encoded.row(j)))
                .map(|j| j as u32)
                .collect()
        })
        .collect();
    wrap(args, rebuild_list(l, per_row)?)
}

fn coerce_array_join(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    let arr = want_array(name, 1, &a[0])?;
    let elem = element_type(&arr).cloned().unwrap_or(DataType::Null);
    if !castable_to_string(&elem) {
        return Err(unexpected_input_type(name, 1, "\"ARRAY<STRING>\"", &a[0]));
    }
    let mut out = vec![list_of(DataType::Utf8)];
    for (i, t) in a.iter().enumerate().skip(1) {
        out.push(want_string(name, i + 1, t)?);
    }
    Ok(out)
}

fn eval_array_join(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = args[0].to_array(rows)?;
    let l = a.as_list::<i32>();
    let delim = args[1].to_array(rows)?;
    let delim = delim.as_string::<i32>();
    let repl = args.get(2).map(|x| x.to_array(rows)).transpose()?;
    let repl = repl.as_ref().map(|r| r.as_string::<i32>());
    let values = l.values().as_string::<i32>();
    let o = l.value_offsets();
    let mut b = StringBuilder::with_capacity(rows, values.values().len() + rows);
    let mut buf = String::new();
    for i in 0..rows {
        if l.is_null(i) || delim.is_null(i) || repl.is_some_and(|r| r.is_null(i)) {
            b.append_null();
            continue;
        }
        buf.clear();
        let mut first = true;
        for j in o[i] as usize..o[i + 1] as usize {
            // NULL elements are skipped unless a replacement is given.
            let v = if values.is_null(j) {
                match repl {
                    Some(r) => r.value(i),
                    None => continue,
                }
            } else {
                values.value(j)
            };
            if !first {
                buf.push_str(delim.value(i));
            }
            first = false;
            buf.push_str(v);
        }
        b.append_value(&buf);
    }
    wrap(args, Arc::new(b.finish()))
}

/// Every collection function with its names.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let s = SimpleFunction::new;
    let mut v: Vec<(&'static str, Arc<dyn ScalarFunction>)> = Vec::new();
    v.extend(
        s(
            "size",
            (1, 1),
            coerce_size,
            |_| Ok(DataType::Int32),
            eval_size,
        )
        .entries(&["cardinality"]),
    );
    let element_at = s(
        "element_at",
        (2, 2),
        coerce_element_at,
        ret_element_at,
        eval_element_at,
    );
    v.push(element_at.try_entry("try_element_at"));
    v.extend(element_at.entries(&[]));
    for name in ["get", ARRAY_ITEM] {
        v.extend(
            s(
                name,
                (2, 2),
                coerce_element_at,
                ret_element_at,
                eval_element_at,
            )
            .entries(&[]),
        );
    }
    v.extend(
        s(
            "array_contains",
            (2, 2),
            coerce_array_contains,
            |_| Ok(DataType::Boolean),
            eval_array_contains,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "array",
            (0, usize::MAX),
            coerce_array,
            ret_array,
            eval_array,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "sort_array",
            (1, 2),
            coerce_sort_array,
            ret_same,
            eval_sort_array,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "array_distinct",
            (1, 1),
            |n, a| Ok(vec![want_array(n, 1, &a[0])?]),
            ret_same,
            eval_array_distinct,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "array_join",
            (2, 3),
            coerce_array_join,
            |_| Ok(DataType::Utf8),
            eval_array_join,
        )
        .entries(&[]),
    );
    v.extend(s("map", (0, usize::MAX), coerce_map, ret_map, eval_map).entries(&[]));
    v.extend(
        s(
            "map_keys",
            (1, 1),
            coerce_map_arg,
            |a| {
                Ok(list_of(
                    map_kv(&a[0]).map_or(DataType::Null, |(k, _)| k.clone()),
                ))
            },
            eval_map_keys,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "map_values",
            (1, 1),
            coerce_map_arg,
            |a| {
                Ok(list_of(
                    map_kv(&a[0]).map_or(DataType::Null, |(_, v)| v.clone()),
                ))
            },
            eval_map_values,
        )
        .entries(&[]),
    );
    v.push((
        "struct",
        Arc::new(StructFunction {
            name: "struct",
            names: None,
        }),
    ));
    v.push((
        "named_struct",
        Arc::new(StructFunction {
            name: "named_struct",
            names: None,
        }),
    ));
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use arrow::array::{Int32Builder, ListBuilder, MapBuilder, StringArray};

    use super::super::string::tests::{as_strs, call, call_ctx, ints, iv, strs, sv};
    use super::*;
    use crate::expr::{col, lit};

    fn int_lists(rows: &[Option<Vec<Option<i32>>>]) -> ColumnarValue {
        let mut b = ListBuilder::new(Int32Builder::new()).with_field(Arc::new(Field::new(
            "element",
            DataType::Int32,
            true,
        )));
        for r in rows {
            match r {
                Some(v) => {
                    for x in v {
                        b.values().append_option(*x);
                    }
                    b.append(true);
                }
                None => b.append(false),
            }
        }
        ColumnarValue::Array(Arc::new(b.finish()))
    }

    fn list_vals(a: &ArrayRef) -> Vec<Option<Vec<Option<i32>>>> {
        let l = a.as_list::<i32>();
        (0..l.len())
            .map(|i| {
                l.is_valid(i)
                    .then(|| l.value(i).as_primitive::<Int32Type>().iter().collect())
            })
            .collect()
    }

    fn i32s(a: &ArrayRef) -> Vec<Option<i32>> {
        a.as_primitive::<Int32Type>().iter().collect()
    }

    #[test]
    fn size_null_depends_on_ansi() {
        let a = int_lists(&[Some(vec![Some(1), None]), None, Some(vec![])]);
        assert_eq!(
            i32s(&call("size", vec![a.clone()]).unwrap()),
            vec![Some(2), None, Some(0)]
        );
        let legacy = FunctionContext {
            ansi: false,
            ..Default::default()
        };
        assert_eq!(
            i32s(&call_ctx("size", vec![a], &legacy).unwrap()),
            vec![Some(2), Some(-1), Some(0)]
        );
    }

    #[test]
    fn element_at_arrays_and_maps() {
        let a = int_lists(&[Some(vec![Some(1), Some(2), Some(3)]), None]);
        assert_eq!(
            i32s(&call("element_at", vec![a.clone(), iv(1)]).unwrap()),
            vec![Some(1), None]
        );
        assert_eq!(
            i32s(&call("element_at", vec![a.clone(), iv(-1)]).unwrap()),
            vec![Some(3), None]
        );
        let e = call("element_at", vec![a.clone(), iv(5)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("[INVALID_ARRAY_INDEX_IN_ELEMENT_AT] The index 5 is out of bounds. The array has 3 elements."), "{e}");
        assert_eq!(
            i32s(&call("try_element_at", vec![a.clone(), iv(5)]).unwrap()),
            vec![None, None]
        );
        let legacy = FunctionContext {
            ansi: false,
            ..Default::default()
        };
        assert_eq!(
            i32s(&call_ctx("element_at", vec![a.clone(), iv(5)], &legacy).unwrap()),
            vec![None, None]
        );
        let e = call_ctx("element_at", vec![a, iv(0)], &legacy)
            .unwrap_err()
            .to_string();
        assert!(e.contains("INVALID_INDEX_OF_ZERO"), "{e}");

        let mut mb = MapBuilder::new(
            None,
            arrow::array::StringBuilder::new(),
            Int32Builder::new(),
        );
        mb.keys().append_value("a");
        mb.values().append_value(1);
        mb.keys().append_value("b");
        mb.values().append_value(2);
        mb.append(true).unwrap();
        mb.append(false).unwrap();
        let m = ColumnarValue::Array(Arc::new(mb.finish()));
        assert_eq!(
            i32s(&call("element_at", vec![m.clone(), sv("b")]).unwrap()),
            vec![Some(2), None]
        );
        assert_eq!(
            i32s(&call("element_at", vec![m.clone(), sv("z")]).unwrap()),
            vec![None, None]
        );
        assert_eq!(i32s(&call("size", vec![m]).unwrap()), vec![Some(2), None]);
    }

    #[test]
    fn map_construction_and_parts() {
        let m = call("map", vec![sv("a"), ints(&[Some(1), None]), sv("b"), iv(2)]).unwrap();
        assert_eq!(
            crate::types::sql_type_name(m.data_type()),
            "MAP<STRING, INT>"
        );
        let mv = ColumnarValue::Array(m);
        let r = call("element_at", vec![mv.clone(), sv("b")]).unwrap();
        assert_eq!(i32s(&r), vec![Some(2), Some(2)]);
        let r = call("map_keys", vec![mv.clone()]).unwrap();
        assert_eq!(
            as_strs(&r.as_list::<i32>().value(1)),
            vec![Some("a".into()), Some("b".into())]
        );
        let r = call("map_values", vec![mv]).unwrap();
        assert_eq!(
            list_vals(&r),
            vec![Some(vec![Some(1), Some(2)]), Some(vec![None, Some(2)])]
        );
        let e = call("map", vec![sv("a"), iv(1), sv("a"), iv(2)])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("[DUPLICATED_MAP_KEY] Duplicate map key a was found"),
            "{e}"
        );
        let null_key = ColumnarValue::Scalar(ScalarValue::Utf8(None));
        let e = call("map", vec![null_key, iv(1)]).unwrap_err().to_string();
        assert!(e.contains("NULL_MAP_KEY"), "{e}");
    }

    #[test]
    fn contains_with_null_semantics() {
        let a = int_lists(&[
            Some(vec![Some(1), Some(2)]),
            Some(vec![Some(1), None]),
            None,
        ]);
        let r = call("array_contains", vec![a.clone(), iv(2)]).unwrap();
        assert_eq!(
            r.as_boolean().iter().collect::<Vec<_>>(),
            vec![Some(true), None, None]
        );
        let r = call("array_contains", vec![a, iv(1)]).unwrap();
        assert_eq!(
            r.as_boolean().iter().collect::<Vec<_>>(),
            vec![Some(true), Some(true), None]
        );
    }

    #[test]
    fn array_builds_rows() {
        let r = call("array", vec![ints(&[Some(1), None]), iv(9)]).unwrap();
        assert_eq!(
            list_vals(&r),
            vec![Some(vec![Some(1), Some(9)]), Some(vec![None, Some(9)])]
        );
        assert_eq!(r.data_type(), &list_of(DataType::Int32));
    }

    #[test]
    fn structs() {
        let f = struct_function(vec!["a".into(), "b".into()]);
        let args = [ints(&[Some(1), Some(2)]), strs(&[Some("x"), None])];
        let rt = f.return_type(&[DataType::Int32, DataType::Utf8]).unwrap();
        assert_eq!(
            crate::types::sql_type_name(&rt),
            "STRUCT<a: INT, b: STRING>"
        );
        let out = f
            .invoke(&args, 2, &FunctionContext::default())
            .unwrap()
            .into_array(2)
            .unwrap();
        assert_eq!(out.data_type(), &rt);
        let r = call("struct", vec![iv(1), sv("y")]).unwrap();
        assert_eq!(
            crate::types::sql_type_name(r.data_type()),
            "STRUCT<col1: INT, col2: STRING>"
        );
        let ns = named_struct_function(vec!["k".into()]);
        let types = [DataType::Utf8, DataType::Int32];
        assert_eq!(ns.coerce_types(&types).unwrap(), types.to_vec());
        let out = ns
            .invoke(&[sv("k"), iv(5)], 1, &FunctionContext::default())
            .unwrap();
        let ColumnarValue::Scalar(ScalarValue::Nested(a)) = out else {
            panic!()
        };
        assert_eq!(crate::types::sql_type_name(a.data_type()), "STRUCT<k: INT>");
        assert!(ns.coerce_types(&[DataType::Utf8]).is_err());
        assert!(
            ns.coerce_types(&[DataType::Int32, DataType::Int32])
                .is_err()
        );
    }

    #[test]
    fn specialize_names_fields() {
        let f = specialize("struct", &[col("a"), lit(1), col("s.x"), lit(2).alias("y")])
            .unwrap()
            .unwrap();
        let t = f
            .return_type(&[
                DataType::Int32,
                DataType::Int32,
                DataType::Int32,
                DataType::Int32,
            ])
            .unwrap();
        assert_eq!(
            crate::types::sql_type_name(&t),
            "STRUCT<a: INT, col2: INT, x: INT, y: INT>"
        );
        let f = specialize("named_struct", &[lit("k"), col("a")])
            .unwrap()
            .unwrap();
        let t = f.return_type(&[DataType::Utf8, DataType::Int64]).unwrap();
        assert_eq!(crate::types::sql_type_name(&t), "STRUCT<k: BIGINT>");
        let e = specialize("named_struct", &[col("n"), col("a")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("CREATE_NAMED_STRUCT_WITHOUT_FOLDABLE_STRING"),
            "{e}"
        );
        let f = specialize("round", &[col("d"), lit(1)]).unwrap().unwrap();
        let t = f
            .return_type(&[DataType::Decimal128(6, 3), DataType::Int32])
            .unwrap();
        assert_eq!(t, DataType::Decimal128(5, 1));
        assert!(specialize("upper", &[col("a")]).unwrap().is_none());
    }

    #[test]
    fn sort_distinct_join() {
        let a = int_lists(&[Some(vec![Some(3), None, Some(1), Some(3)]), None]);
        let r = call("sort_array", vec![a.clone()]).unwrap();
        assert_eq!(
            list_vals(&r),
            vec![Some(vec![None, Some(1), Some(3), Some(3)]), None]
        );
        let desc = ColumnarValue::Scalar(ScalarValue::Boolean(Some(false)));
        let r = call("sort_array", vec![a.clone(), desc]).unwrap();
        assert_eq!(
            list_vals(&r),
            vec![Some(vec![Some(3), Some(3), Some(1), None]), None]
        );
        let r = call("array_distinct", vec![a.clone()]).unwrap();
        assert_eq!(
            list_vals(&r),
            vec![Some(vec![Some(3), None, Some(1)]), None]
        );
        let r = call("array_join", vec![a.clone(), sv(",")]).unwrap();
        assert_eq!(as_strs(&r), vec![Some("3,1,3".into()), None]);
        let r = call("array_join", vec![a, sv(","), sv("?")]).unwrap();
        assert_eq!(as_strs(&r), vec![Some("3,?,1,3".into()), None]);
        let _ = StringArray::from(vec!["unused"]);
    }
}
