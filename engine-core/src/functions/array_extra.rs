//! Array functions that add, drop or find elements of one array: `array_append`,
//! `array_prepend`, `array_insert`, `array_remove`, `array_compact`, `array_position`,
//! `array_repeat`, `array_max`, `array_min`, `array_size` and `slice`, as Spark 4 defines them
//! (NULL array gives NULL; elements compare as Spark compares values, so `-0.0 = 0.0` and
//! `NaN = NaN`).

use std::cmp::Ordering;
use std::sync::Arc;

use arrow::array::{Array, AsArray, Int32Array, Int64Array, make_comparator};
use arrow::compute::SortOptions;
use arrow::datatypes::{DataType, Int32Type};

use super::array_build::{ListPicker, concat_sources, element_field, is_null_at, normalize_floats};
use super::string::{SimpleFunction, arrays, rows, want_int, wrap};
use super::{FunctionContext, ScalarFunction, unexpected_input_type};
use crate::expr::coercion::common_type;
use crate::expr::columnar::ColumnarValue;
use crate::types::{is_string, list_of, sql_type_name};
use crate::{EngineError, Result};

/// An ARRAY argument at 1-based `pos` (a NULL literal is not one, as in Spark).
pub(crate) fn want_list(name: &str, pos: usize, t: &DataType) -> Result<DataType> {
    match t {
        DataType::List(_) => Ok(t.clone()),
        t => Err(unexpected_input_type(name, pos, "\"ARRAY\"", t)),
    }
}

/// The element type of list type `t` (NULL for anything else).
pub(crate) fn elem_of(t: &DataType) -> DataType {
    match t {
        DataType::List(f) => f.data_type().clone(),
        _ => DataType::Null,
    }
}

/// The common element type of an array and a value used with it (`array_append(a, v)`),
/// or Spark's `ARRAY_FUNCTION_DIFF_TYPES`; strings are never promoted to other types here.
pub(crate) fn array_and_element(name: &str, arr: &DataType, v: &DataType) -> Result<DataType> {
    let l = want_list(name, 1, arr)?;
    let e = elem_of(&l);
    let diff = || {
        EngineError::analysis(
            "DATATYPE_MISMATCH.ARRAY_FUNCTION_DIFF_TYPES",
            format!(
                "Cannot resolve \"{name}\" due to data type mismatch: Input to `{name}` should have been \"ARRAY\" followed by a value with same element type, but it's [\"{}\", \"{}\"]. SQLSTATE: 42K09",
                sql_type_name(arr),
                sql_type_name(v)
            ),
        )
    };
    let nulls = e == DataType::Null || *v == DataType::Null;
    if !nulls && is_string(&e) != is_string(v) {
        return Err(diff());
    }
    common_type(&[e, v.clone()]).map_err(|_| diff())
}

fn coerce_array_elem(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    let t = array_and_element(name, &a[0], &a[1])?;
    Ok(vec![list_of(t.clone()), t])
}

fn coerce_one_array(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    Ok(vec![want_list(name, 1, &a[0])?])
}

fn ret_first(a: &[DataType]) -> Result<DataType> {
    Ok(a[0].clone())
}

// ---- array_append / array_prepend ----

fn eval_append(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let prepend = name == "array_prepend";
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let l = a[0].as_list::<i32>();
    let (src, bases) = concat_sources(&[l.values().as_ref(), a[1].as_ref()])?;
    let o = l.value_offsets();
    let mut p = ListPicker::new(name, rows);
    for i in 0..rows {
        if l.is_null(i) {
            p.null_row();
            continue;
        }
        let (from, to) = (o[i] as usize, o[i + 1] as usize);
        p.reserve((to - from) as i128 + 1, "value")?;
        if prepend {
            p.push(Some(bases[1] + i))?;
        }
        p.push_range(from, to)?;
        if !prepend {
            p.push(Some(bases[1] + i))?;
        }
        p.end_row(true);
    }
    wrap(args, p.finish(src.as_ref(), element_field(l.data_type()))?)
}

// ---- array_insert ----

fn coerce_array_insert(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    let t = array_and_element(name, &a[0], &a[2])?;
    Ok(vec![list_of(t.clone()), want_int(name, 2, &a[1])?, t])
}

/// Where `array_insert` puts the value into an array of `len` elements at 1-based `pos`
/// (not 0): either `value_first` (the value, `pad` NULLs, then every element), or the first
/// `head` elements, `pad` NULLs, the value and the remaining elements. Spark 4's negative
/// positions count from the end with `-1` appending.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct InsertLayout {
    /// The value comes first, before the padding and every element.
    pub value_first: bool,
    /// Elements before the padding (and value) when the value does not come first.
    pub head: i64,
    /// NULL elements added so the value lands at `pos`.
    pub pad: i64,
}

/// The [`InsertLayout`] of `pos` in an array of `len` elements.
pub(crate) fn insert_layout(len: i64, pos: i64) -> InsertLayout {
    if pos > 0 {
        if pos <= len + 1 {
            InsertLayout {
                value_first: false,
                head: pos - 1,
                pad: 0,
            }
        } else {
            InsertLayout {
                value_first: false,
                head: len,
                pad: pos - len - 1,
            }
        }
    } else {
        let k = -pos;
        if k <= len + 1 {
            InsertLayout {
                value_first: false,
                head: len + 1 - k,
                pad: 0,
            }
        } else {
            InsertLayout {
                value_first: true,
                head: 0,
                pad: k - len - 1,
            }
        }
    }
}

fn eval_array_insert(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let l = a[0].as_list::<i32>();
    let pos = a[1].as_primitive::<Int32Type>();
    let (src, bases) = concat_sources(&[l.values().as_ref(), a[2].as_ref()])?;
    let o = l.value_offsets();
    let mut p = ListPicker::new(name, rows);
    for i in 0..rows {
        if l.is_null(i) || pos.is_null(i) {
            p.null_row();
            continue;
        }
        let at = i64::from(pos.value(i));
        if at == 0 {
            return Err(EngineError::execution(
                "INVALID_INDEX_OF_ZERO",
                "The index 0 is invalid. An index shall be either < 0 or > 0 (the first element has index 1). SQLSTATE: 22003",
            ));
        }
        let (from, to) = (o[i] as usize, o[i + 1] as usize);
        let lay = insert_layout((to - from) as i64, at);
        let pad = usize::try_from(lay.pad).unwrap_or(0);
        p.reserve((to - from) as i128 + 1 + pad as i128, "pos")?;
        let value = Some(bases[1] + i);
        if lay.value_first {
            p.push(value)?;
            p.push_nulls(pad);
            p.push_range(from, to)?;
        } else {
            let mid = from + usize::try_from(lay.head).unwrap_or(0).min(to - from);
            p.push_range(from, mid)?;
            p.push_nulls(pad);
            p.push(value)?;
            p.push_range(mid, to)?;
        }
        p.end_row(true);
    }
    wrap(args, p.finish(src.as_ref(), element_field(l.data_type()))?)
}

// ---- array_remove / array_position ----

/// For each row with a non-NULL array and value, the positions (into the list's values)
/// of the elements equal to the value; `f` gets the row and those matches, `None` for a
/// NULL row.
fn each_match(
    args: &[ColumnarValue],
    rows: usize,
    mut f: impl FnMut(usize, Option<(usize, usize, &dyn Fn(usize) -> bool)>) -> Result<()>,
) -> Result<()> {
    let a = arrays(args, rows)?;
    let l = a[0].as_list::<i32>();
    let values = normalize_floats(l.values());
    let needle = normalize_floats(&a[1]);
    let cmp = make_comparator(values.as_ref(), needle.as_ref(), SortOptions::default())?;
    let o = l.value_offsets();
    for i in 0..rows {
        if l.is_null(i) || needle.is_null(i) {
            f(i, None)?;
            continue;
        }
        let eq = |j: usize| !is_null_at(values.as_ref(), j) && cmp(j, i) == Ordering::Equal;
        f(i, Some((o[i] as usize, o[i + 1] as usize, &eq)))?;
    }
    Ok(())
}

fn eval_array_remove(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let list = args[0].to_array(rows)?;
    let l = list.as_list::<i32>();
    let mut p = ListPicker::new(name, rows);
    each_match(args, rows, |_, row| {
        match row {
            None => p.null_row(),
            Some((from, to, eq)) => {
                for j in from..to {
                    if !eq(j) {
                        p.push(Some(j))?;
                    }
                }
                p.end_row(true);
            }
        }
        Ok(())
    })?;
    wrap(
        args,
        p.finish(l.values().as_ref(), element_field(l.data_type()))?,
    )
}

fn eval_array_position(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let mut out: Vec<Option<i64>> = Vec::with_capacity(rows);
    each_match(args, rows, |_, row| {
        out.push(row.map(|(from, to, eq)| (from..to).position(eq).map_or(0, |k| k as i64 + 1)));
        Ok(())
    })?;
    wrap(args, Arc::new(Int64Array::from(out)))
}

// ---- array_compact / array_size / array_max / array_min ----

fn eval_array_compact(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = args[0].to_array(rows)?;
    let l = a.as_list::<i32>();
    let values = l.values();
    let o = l.value_offsets();
    let mut p = ListPicker::new(name, rows);
    for i in 0..rows {
        if l.is_null(i) {
            p.null_row();
            continue;
        }
        for j in o[i] as usize..o[i + 1] as usize {
            if !is_null_at(values.as_ref(), j) {
                p.push(Some(j))?;
            }
        }
        p.end_row(true);
    }
    wrap(
        args,
        p.finish(values.as_ref(), element_field(l.data_type()))?,
    )
}

fn eval_array_size(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    let l = a.as_list::<i32>();
    let o = l.value_offsets();
    let out: Int32Array = (0..l.len())
        .map(|i| l.is_valid(i).then(|| o[i + 1] - o[i]))
        .collect();
    wrap(args, Arc::new(out))
}

fn eval_array_extreme(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let max = name == "array_max";
    let rows = rows(args, n);
    let a = args[0].to_array(rows)?;
    let l = a.as_list::<i32>();
    let values = l.values();
    let keys = normalize_floats(values);
    let cmp = make_comparator(keys.as_ref(), keys.as_ref(), SortOptions::default())?;
    let o = l.value_offsets();
    let mut take: Vec<Option<u32>> = Vec::with_capacity(rows);
    for i in 0..rows {
        let mut best: Option<usize> = None;
        if l.is_valid(i) {
            for j in o[i] as usize..o[i + 1] as usize {
                if is_null_at(keys.as_ref(), j) {
                    continue;
                }
                let better = match best {
                    None => true,
                    Some(b) => {
                        let c = cmp(j, b);
                        if max {
                            c == Ordering::Greater
                        } else {
                            c == Ordering::Less
                        }
                    }
                };
                if better {
                    best = Some(j);
                }
            }
        }
        take.push(best.and_then(|b| u32::try_from(b).ok()));
    }
    let out = arrow::compute::take(
        values.as_ref(),
        &arrow::array::UInt32Array::from(take),
        None,
    )?;
    wrap(args, out)
}

// ---- array_repeat ----

fn coerce_array_repeat(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    Ok(vec![a[0].clone(), want_int(name, 2, &a[1])?])
}

fn eval_array_repeat(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let count = a[1].as_primitive::<Int32Type>();
    let mut p = ListPicker::new(name, rows);
    for i in 0..rows {
        if count.is_null(i) {
            p.null_row();
            continue;
        }
        let c = i64::from(count.value(i)).max(0);
        p.reserve(i128::from(c), "count")?;
        for _ in 0..c {
            p.push(Some(i))?;
        }
        p.end_row(true);
    }
    let field = element_field(&list_of(a[0].data_type().clone()));
    wrap(args, p.finish(a[0].as_ref(), field)?)
}

// ---- slice ----

fn coerce_slice(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    Ok(vec![
        want_list(name, 1, &a[0])?,
        want_int(name, 2, &a[1])?,
        want_int(name, 3, &a[2])?,
    ])
}

fn invalid_slice_parameter(which: &str, detail: String) -> EngineError {
    EngineError::execution(
        format!("INVALID_PARAMETER_VALUE.{}", which.to_ascii_uppercase()),
        format!(
            "The value of parameter(s) `{which}` in `slice` is invalid: {detail}. SQLSTATE: 22023"
        ),
    )
}

fn eval_slice(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let l = a[0].as_list::<i32>();
    let start = a[1].as_primitive::<Int32Type>();
    let length = a[2].as_primitive::<Int32Type>();
    let o = l.value_offsets();
    let mut p = ListPicker::new(name, rows);
    for i in 0..rows {
        if l.is_null(i) || start.is_null(i) || length.is_null(i) {
            p.null_row();
            continue;
        }
        let (from, to) = (o[i] as usize, o[i + 1] as usize);
        let len = (to - from) as i64;
        let s = i64::from(start.value(i));
        let first = match s.cmp(&0) {
            Ordering::Equal => {
                return Err(invalid_slice_parameter(
                    "start",
                    "Expects a positive or a negative value for `start`, but got 0".into(),
                ));
            }
            Ordering::Less => s + len,
            Ordering::Greater => s - 1,
        };
        let count = i64::from(length.value(i));
        if count < 0 {
            return Err(invalid_slice_parameter(
                "length",
                format!("Expects `length` greater than or equal to 0, but got {count}"),
            ));
        }
        if (0..len).contains(&first) {
            let take = count.min(len - first);
            let begin = from + first as usize;
            p.push_range(begin, begin + take as usize)?;
        }
        p.end_row(true);
    }
    wrap(
        args,
        p.finish(l.values().as_ref(), element_field(l.data_type()))?,
    )
}

/// Every function of this module with its names.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let s = SimpleFunction::new;
    let mut v: Vec<(&'static str, Arc<dyn ScalarFunction>)> = Vec::new();
    for name in ["array_append", "array_prepend"] {
        v.extend(s(name, (2, 2), coerce_array_elem, ret_first, eval_append).entries(&[]));
    }
    v.extend(
        s(
            "array_insert",
            (3, 3),
            coerce_array_insert,
            ret_first,
            eval_array_insert,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "array_remove",
            (2, 2),
            coerce_array_elem,
            ret_first,
            eval_array_remove,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "array_position",
            (2, 2),
            coerce_array_elem,
            |_| Ok(DataType::Int64),
            eval_array_position,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "array_compact",
            (1, 1),
            coerce_one_array,
            ret_first,
            eval_array_compact,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "array_size",
            (1, 1),
            coerce_one_array,
            |_| Ok(DataType::Int32),
            eval_array_size,
        )
        .entries(&[]),
    );
    for name in ["array_max", "array_min"] {
        v.extend(
            s(
                name,
                (1, 1),
                coerce_one_array,
                |a| Ok(elem_of(&a[0])),
                eval_array_extreme,
            )
            .entries(&[]),
        );
    }
    v.extend(
        s(
            "array_repeat",
            (2, 2),
            coerce_array_repeat,
            |a| Ok(list_of(a[0].clone())),
            eval_array_repeat,
        )
        .entries(&[]),
    );
    v.extend(s("slice", (3, 3), coerce_slice, ret_first, eval_slice).entries(&[]));
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn lay(value_first: bool, head: i64, pad: i64) -> InsertLayout {
        InsertLayout {
            value_first,
            head,
            pad,
        }
    }

    #[test]
    fn insert_positions_follow_spark_4() {
        // [1, 2, 3]: positive positions are 1-based, past the end pads with NULLs.
        assert_eq!(insert_layout(3, 1), lay(false, 0, 0));
        assert_eq!(insert_layout(3, 4), lay(false, 3, 0));
        assert_eq!(insert_layout(3, 5), lay(false, 3, 1));
        // -1 appends, -2 goes before the last element, -4 prepends, -5 pads after the value.
        assert_eq!(insert_layout(3, -1), lay(false, 3, 0));
        assert_eq!(insert_layout(3, -2), lay(false, 2, 0));
        assert_eq!(insert_layout(3, -4), lay(false, 0, 0));
        assert_eq!(insert_layout(3, -5), lay(true, 0, 1));
        assert_eq!(insert_layout(0, -1), lay(false, 0, 0));
        assert_eq!(
            insert_layout(0, i64::from(i32::MIN)),
            lay(true, 0, -i64::from(i32::MIN) - 1)
        );
    }

    #[test]
    fn huge_repeat_and_insert_are_errors_not_allocations() {
        use super::super::string::tests::{call, iv};
        let e = call("array_repeat", vec![iv(1), iv(i32::MAX)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("COLLECTION_SIZE_LIMIT_EXCEEDED"), "{e}");
        let arr = call("array", vec![iv(1)]).unwrap();
        let e = call(
            "array_insert",
            vec![ColumnarValue::Array(arr), iv(i32::MIN), iv(2)],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("COLLECTION_SIZE_LIMIT_EXCEEDED"), "{e}");
    }
}
