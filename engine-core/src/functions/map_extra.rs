//! Map functions built from arrays and strings: `map_from_arrays`, `map_from_entries`,
//! `map_entries`, `map_contains_key` and `str_to_map`, as Spark 4's. A built map rejects a
//! NULL key (`NULL_MAP_KEY`) and a repeated key (`DUPLICATED_MAP_KEY`, Spark 4's default
//! `spark.sql.mapKeyDedupPolicy=EXCEPTION`), as `map()` does.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, ListArray, StringBuilder, make_comparator,
};
use arrow::compute::SortOptions;
use arrow::datatypes::{DataType, Field};
use regex::Regex;

use super::array_build::normalize_floats;
use super::array_extra::{elem_of, want_list};
use super::map_build::build_map;
use super::string::{SimpleFunction, arrays, rows, wrap};
use super::{FunctionContext, ScalarFunction, unexpected_input_type};
use crate::expr::coercion::common_type;
use crate::expr::columnar::ColumnarValue;
use crate::types::{is_string, list_of, map_of, sql_type_name};
use crate::{EngineError, Result};

fn want_list_or_null(name: &str, pos: usize, t: &DataType) -> Result<DataType> {
    match t {
        DataType::Null => Ok(list_of(DataType::Null)),
        t => want_list(name, pos, t),
    }
}

// ---- map_from_arrays ----

fn coerce_map_from_arrays(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    Ok(vec![
        want_list_or_null(name, 1, &a[0])?,
        want_list_or_null(name, 2, &a[1])?,
    ])
}

fn eval_map_from_arrays(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let (k, v) = (a[0].as_list::<i32>(), a[1].as_list::<i32>());
    let mut present = Vec::with_capacity(rows);
    for i in 0..rows {
        if k.is_null(i) || v.is_null(i) {
            present.push(false);
            continue;
        }
        if k.value_length(i) != v.value_length(i) {
            return Err(EngineError::execution(
                "ILLEGAL_ARGUMENT",
                "The key array and value array of MapData must have the same length.",
            ));
        }
        present.push(true);
    }
    // Keys and values of a row start at different offsets: take both into one layout.
    let (ko, vo) = (k.value_offsets(), v.value_offsets());
    let mut key_idx: Vec<u32> = Vec::new();
    let mut value_idx: Vec<u32> = Vec::new();
    let mut spans = Vec::with_capacity(rows);
    for (i, ok) in present.iter().enumerate() {
        match ok {
            false => spans.push(None),
            true => {
                let start = key_idx.len();
                let too_big = |x: usize| crate::expr::columnar::result_too_large(name, x as u128);
                for j in 0..k.value_length(i) as usize {
                    let kj = ko[i] as usize + j;
                    let vj = vo[i] as usize + j;
                    key_idx.push(u32::try_from(kj).map_err(|_| too_big(kj))?);
                    value_idx.push(u32::try_from(vj).map_err(|_| too_big(vj))?);
                }
                spans.push(Some((start, key_idx.len())));
            }
        }
    }
    let key_idx = arrow::array::UInt32Array::from(key_idx);
    let value_idx = arrow::array::UInt32Array::from(value_idx);
    let keys = arrow::compute::take(k.values().as_ref(), &key_idx, None)?;
    let values = arrow::compute::take(v.values().as_ref(), &value_idx, None)?;
    wrap(args, build_map(name, &keys, &values, &spans)?)
}

// ---- map_from_entries ----

fn entry_types(t: &DataType) -> Option<(DataType, DataType)> {
    match elem_of(t) {
        DataType::Struct(f) if f.len() == 2 => {
            Some((f[0].data_type().clone(), f[1].data_type().clone()))
        }
        _ => None,
    }
}

fn coerce_map_from_entries(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    match (&a[0], entry_types(&a[0])) {
        (DataType::List(_), Some(_)) => Ok(a.to_vec()),
        (t, _) => Err(unexpected_input_type(
            name,
            1,
            "\"ARRAY\" of pair \"STRUCT\"",
            t,
        )),
    }
}

fn eval_map_from_entries(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = args[0].to_array(rows)?;
    let l = a.as_list::<i32>();
    let entries = l.values().as_struct();
    let o = l.value_offsets();
    let ranges: Vec<Option<(usize, usize)>> = (0..rows)
        .map(|i| {
            let (from, to) = (o[i] as usize, o[i + 1] as usize);
            // A NULL array or a NULL entry makes the map NULL.
            (l.is_valid(i) && (from..to).all(|j| entries.is_valid(j))).then_some((from, to))
        })
        .collect();
    let keys = entries.column(0).clone();
    let values = entries.column(1).clone();
    wrap(args, build_map(name, &keys, &values, &ranges)?)
}

// ---- map_entries / map_contains_key ----

fn coerce_map(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    match &a[0] {
        DataType::Map(_, _) => Ok(a.to_vec()),
        t => Err(unexpected_input_type(name, 1, "\"MAP\"", t)),
    }
}

fn map_entry_type(t: &DataType) -> DataType {
    match t {
        DataType::Map(entries, _) => entries.data_type().clone(),
        _ => DataType::Null,
    }
}

fn eval_map_entries(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    let m = a.as_map();
    let entries: ArrayRef = Arc::new(m.entries().clone());
    let field = Arc::new(Field::new("element", entries.data_type().clone(), true));
    let out = ListArray::try_new(field, m.offsets().clone(), entries, m.nulls().cloned())?;
    wrap(args, Arc::new(out))
}

fn coerce_map_contains_key(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    let DataType::Map(_, _) = &a[0] else {
        return Err(unexpected_input_type(name, 1, "\"MAP\"", &a[0]));
    };
    let key = match map_entry_type(&a[0]) {
        DataType::Struct(f) if f.len() == 2 => f[0].data_type().clone(),
        _ => DataType::Null,
    };
    let diff = || {
        EngineError::analysis(
            "DATATYPE_MISMATCH.MAP_FUNCTION_DIFF_TYPES",
            format!(
                "Cannot resolve \"{name}\" due to data type mismatch: Input to `{name}` should have been \"MAP\" followed by a value with same key type, but it's [\"{}\", \"{}\"]. SQLSTATE: 42K09",
                sql_type_name(&a[0]),
                sql_type_name(&a[1])
            ),
        )
    };
    if a[1] == DataType::Null {
        return Err(EngineError::analysis(
            "DATATYPE_MISMATCH.NULL_TYPE",
            format!(
                "Cannot resolve \"{name}\" due to data type mismatch: Null typed values cannot be used as arguments of `{name}`. SQLSTATE: 42K09"
            ),
        ));
    }
    if is_string(&key) != is_string(&a[1]) {
        return Err(diff());
    }
    // A wider key type casts the map's keys when evaluating (Spark casts the map).
    let t = common_type(&[key, a[1].clone()]).map_err(|_| diff())?;
    Ok(vec![a[0].clone(), t])
}

fn eval_map_contains_key(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let m = a[0].as_map();
    let keys = if m.keys().data_type() == a[1].data_type() {
        m.keys().clone()
    } else {
        arrow::compute::cast(m.keys(), a[1].data_type())?
    };
    let keys = normalize_floats(&keys);
    let needle = normalize_floats(&a[1]);
    let cmp = make_comparator(keys.as_ref(), needle.as_ref(), SortOptions::default())?;
    let o = m.value_offsets();
    let out: BooleanArray = (0..rows)
        .map(|i| {
            if m.is_null(i) || needle.is_null(i) {
                return None;
            }
            Some((o[i] as usize..o[i + 1] as usize).any(|j| cmp(j, i).is_eq()))
        })
        .collect();
    wrap(args, Arc::new(out))
}

// ---- str_to_map ----

fn coerce_str_to_map(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    a.iter()
        .enumerate()
        .map(|(i, t)| {
            if is_string(t) || *t == DataType::Null {
                Ok(DataType::Utf8)
            } else {
                Err(unexpected_input_type(name, i + 1, "\"STRING\"", t))
            }
        })
        .collect()
}

/// Java's `String.split(regex, limit)` (Spark splits with it): a zero-width match at the
/// start gives no leading empty part, `limit > 0` caps the parts, trailing empty parts stay
/// (Spark passes `-1` or `2`).
pub(crate) fn java_split<'t>(re: &Regex, text: &'t str, limit: usize) -> Vec<&'t str> {
    let mut parts = Vec::new();
    let mut last = 0usize;
    for m in re.find_iter(text) {
        if limit > 0 && parts.len() + 1 >= limit {
            break;
        }
        if m.end() == 0 {
            continue;
        }
        parts.push(&text[last..m.start()]);
        last = m.end();
    }
    parts.push(&text[last..]);
    parts
}

/// Compiles delimiter regexes, reusing the last one (delimiters are nearly always literals).
struct RegexCache(Option<(String, Regex)>);

impl RegexCache {
    fn get(&mut self, pattern: &str) -> Result<&Regex> {
        let stale = self.0.as_ref().is_none_or(|(p, _)| p != pattern);
        if stale {
            let re = Regex::new(pattern).map_err(|e| {
                EngineError::execution(
                    "INVALID_PARAMETER_VALUE.PATTERN",
                    format!(
                        "The value of parameter(s) `regexp` in `str_to_map` is invalid: {e}. SQLSTATE: 22023"
                    ),
                )
            })?;
            self.0 = Some((pattern.to_string(), re));
        }
        match &self.0 {
            Some((_, re)) => Ok(re),
            None => Err(EngineError::Internal("regex cache".into())),
        }
    }
}

fn eval_str_to_map(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let text = a[0].as_string::<i32>();
    let pair_delims = a.get(1).map(|x| x.as_string::<i32>());
    let kv_delims = a.get(2).map(|x| x.as_string::<i32>());
    let mut keys = StringBuilder::new();
    let mut values = StringBuilder::new();
    let (mut pair_re, mut kv_re) = (RegexCache(None), RegexCache(None));
    let mut ranges = Vec::with_capacity(rows);
    let mut count = 0usize;
    for i in 0..rows {
        let pd = pair_delims.map_or(Some(","), |d| d.is_valid(i).then(|| d.value(i)));
        let kd = kv_delims.map_or(Some(":"), |d| d.is_valid(i).then(|| d.value(i)));
        let (Some(pd), Some(kd)) = (pd, kd) else {
            ranges.push(None);
            continue;
        };
        if text.is_null(i) {
            ranges.push(None);
            continue;
        }
        let start = count;
        let pairs: Vec<&str> = java_split(pair_re.get(pd)?, text.value(i), 0);
        let kv = kv_re.get(kd)?;
        for pair in pairs {
            let mut kvs = java_split(kv, pair, 2).into_iter();
            keys.append_option(kvs.next());
            values.append_option(kvs.next());
            count += 1;
        }
        ranges.push(Some((start, count)));
    }
    let keys: ArrayRef = Arc::new(keys.finish());
    let values: ArrayRef = Arc::new(values.finish());
    wrap(args, build_map(name, &keys, &values, &ranges)?)
}

/// Every function of this module with its names.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let s = SimpleFunction::new;
    let mut v: Vec<(&'static str, Arc<dyn ScalarFunction>)> = Vec::new();
    v.extend(
        s(
            "map_from_arrays",
            (2, 2),
            coerce_map_from_arrays,
            |a| Ok(map_of(elem_of(&a[0]), elem_of(&a[1]))),
            eval_map_from_arrays,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "map_from_entries",
            (1, 1),
            coerce_map_from_entries,
            |a| {
                let (k, v) = entry_types(&a[0]).unwrap_or((DataType::Null, DataType::Null));
                Ok(map_of(k, v))
            },
            eval_map_from_entries,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "map_entries",
            (1, 1),
            coerce_map,
            |a| Ok(list_of(map_entry_type(&a[0]))),
            eval_map_entries,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "map_contains_key",
            (2, 2),
            coerce_map_contains_key,
            |_| Ok(DataType::Boolean),
            eval_map_contains_key,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "str_to_map",
            (1, 3),
            coerce_str_to_map,
            |_| Ok(map_of(DataType::Utf8, DataType::Utf8)),
            eval_str_to_map,
        )
        .entries(&[]),
    );
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn java_split_rules() {
        let comma = Regex::new(",").unwrap();
        assert_eq!(java_split(&comma, "a,b,", 0), vec!["a", "b", ""]);
        assert_eq!(java_split(&comma, "", 0), vec![""]);
        let colon = Regex::new(":").unwrap();
        assert_eq!(java_split(&colon, "a:1:2", 2), vec!["a", "1:2"]);
        assert_eq!(java_split(&colon, "a", 2), vec!["a"]);
        let empty = Regex::new("").unwrap();
        assert_eq!(java_split(&empty, "abc", 0), vec!["a", "b", "c", ""]);
    }
}
