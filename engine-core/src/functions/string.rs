//! String functions: upper, lower, trim, substring, concat, split, regexp_*, lpad, ...
//!
//! Also home of the small helpers every function module shares ([`SimpleFunction`], arity
//! checks, argument conversion), so a function is a few plain `fn`s rather than a type.

use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::array::{
    Array, ArrayRef, AsArray, GenericListBuilder, Int32Array, Int32Builder, StringArray,
    StringBuilder,
};
use arrow::datatypes::{DataType, Int32Type};
use regex::Regex;

use super::{FunctionContext, ScalarFunction, unexpected_input_type, wrong_num_args};
use crate::expr::columnar::{ColumnarValue, add_result_bytes};
use crate::scalar::ScalarValue;
use crate::types::list_of;

/// Checks the argument types and returns the types to cast them to.
pub(crate) type CoerceFn = fn(&str, &[DataType]) -> Result<Vec<DataType>>;
/// The result type for the coerced argument types.
pub(crate) type ReturnFn = fn(&[DataType]) -> Result<DataType>;
/// Evaluates a batch.
pub(crate) type EvalFn =
    fn(&str, &[ColumnarValue], usize, &FunctionContext) -> Result<ColumnarValue>;

/// A function described by plain `fn`s: arity, coercion, result type and evaluation.
#[derive(Debug, Clone)]
pub(crate) struct SimpleFunction {
    pub name: &'static str,
    /// Minimum and maximum number of arguments (`usize::MAX`: variadic).
    pub arity: (usize, usize),
    pub coerce: CoerceFn,
    pub ret: ReturnFn,
    pub eval: EvalFn,
    pub foldable: bool,
}

impl SimpleFunction {
    /// A deterministic, foldable function.
    pub(crate) fn new(
        name: &'static str,
        arity: (usize, usize),
        coerce: CoerceFn,
        ret: ReturnFn,
        eval: EvalFn,
    ) -> Self {
        SimpleFunction {
            name,
            arity,
            coerce,
            ret,
            eval,
            foldable: true,
        }
    }

    /// Registry entries for this function under `names` (the first is its own name).
    pub(crate) fn entries(
        self,
        aliases: &[&'static str],
    ) -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
        let mut out: Vec<(&'static str, Arc<dyn ScalarFunction>)> = Vec::new();
        let name = self.name;
        out.push((name, Arc::new(self.clone())));
        for a in aliases {
            let mut f = self.clone();
            f.name = a;
            out.push((a, Arc::new(f)));
        }
        out
    }
}

impl ScalarFunction for SimpleFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        check_arity(self.name, args.len(), self.arity)?;
        (self.coerce)(self.name, args)
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        check_arity(self.name, args.len(), self.arity)?;
        (self.ret)(args)
    }

    fn invoke(
        &self,
        args: &[ColumnarValue],
        num_rows: usize,
        ctx: &FunctionContext,
    ) -> Result<ColumnarValue> {
        check_arity(self.name, args.len(), self.arity)?;
        (self.eval)(self.name, args, num_rows, ctx)
    }

    fn is_foldable(&self) -> bool {
        self.foldable
    }
}

/// `try_<f>`: `f` evaluated as if ANSI mode were off, so bad input gives NULL instead of an
/// error (`try_to_timestamp`, `try_element_at`, ...).
#[derive(Debug)]
pub(crate) struct TryFunction {
    pub name: &'static str,
    pub inner: SimpleFunction,
}

impl ScalarFunction for TryFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        check_arity(self.name, args.len(), self.inner.arity)?;
        (self.inner.coerce)(self.name, args)
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        self.inner.return_type(args)
    }

    fn invoke(
        &self,
        args: &[ColumnarValue],
        num_rows: usize,
        ctx: &FunctionContext,
    ) -> Result<ColumnarValue> {
        let lenient = FunctionContext {
            ansi: false,
            ..ctx.clone()
        };
        self.inner.invoke(args, num_rows, &lenient)
    }
}

impl SimpleFunction {
    /// The registry entry of `try_name`, the lenient form of this function.
    pub(crate) fn try_entry(
        &self,
        try_name: &'static str,
    ) -> (&'static str, Arc<dyn ScalarFunction>) {
        (
            try_name,
            Arc::new(TryFunction {
                name: try_name,
                inner: self.clone(),
            }),
        )
    }
}

/// Spark's `WRONG_NUM_ARGS` unless `got` is within `(min, max)`.
pub(crate) fn check_arity(name: &str, got: usize, (min, max): (usize, usize)) -> Result<()> {
    if got >= min && got <= max {
        return Ok(());
    }
    let expected = if min == max {
        min.to_string()
    } else if max == usize::MAX {
        format!("> {}", min.saturating_sub(1))
    } else {
        let v: Vec<String> = (min..=max).map(|n| n.to_string()).collect();
        format!("[{}]", v.join(", "))
    };
    Err(wrong_num_args(name, &expected, got))
}

/// Every argument as an array of `n` rows.
pub(crate) fn arrays(args: &[ColumnarValue], n: usize) -> Result<Vec<ArrayRef>> {
    args.iter().map(|a| a.to_array(n)).collect()
}

/// The value of a scalar string argument (`Some(None)` for a NULL scalar), or `None`
/// when the argument varies per row.
pub(crate) fn scalar_string(arg: &ColumnarValue) -> Option<Option<String>> {
    match arg {
        ColumnarValue::Scalar(ScalarValue::Utf8(v)) => Some(v.clone()),
        ColumnarValue::Scalar(s) if s.is_null() => Some(None),
        _ => None,
    }
}

/// Whether a value of type `dt` may be implicitly cast to STRING (Spark casts atomic types).
pub(crate) fn castable_to_string(dt: &DataType) -> bool {
    crate::types::is_string(dt)
        || crate::types::is_numeric(dt)
        || matches!(
            dt,
            DataType::Null
                | DataType::Boolean
                | DataType::Binary
                | DataType::Date32
                | DataType::Timestamp(_, _)
        )
}

/// Whether `dt` may be implicitly cast to INT (integral types and strings, as in Spark).
pub(crate) fn castable_to_int(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Null | DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64
    ) || crate::types::is_string(dt)
}

/// The `STRING` coercion of one argument at 1-based `pos`.
pub(crate) fn want_string(name: &str, pos: usize, dt: &DataType) -> Result<DataType> {
    if castable_to_string(dt) {
        Ok(DataType::Utf8)
    } else {
        Err(unexpected_input_type(name, pos, "\"STRING\"", dt))
    }
}

/// The `INT` coercion of one argument at 1-based `pos`.
pub(crate) fn want_int(name: &str, pos: usize, dt: &DataType) -> Result<DataType> {
    if castable_to_int(dt) {
        Ok(DataType::Int32)
    } else {
        Err(unexpected_input_type(name, pos, "\"INT\"", dt))
    }
}

/// Coerces every argument to STRING.
pub(crate) fn all_strings(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    args.iter()
        .enumerate()
        .map(|(i, t)| want_string(name, i + 1, t))
        .collect()
}

/// STRING arguments, except INT ones at the 0-based positions `ints`.
pub(crate) fn strings_with_ints_at(
    name: &str,
    args: &[DataType],
    ints: &[usize],
) -> Result<Vec<DataType>> {
    args.iter()
        .enumerate()
        .map(|(i, t)| {
            if ints.contains(&i) {
                want_int(name, i + 1, t)
            } else {
                want_string(name, i + 1, t)
            }
        })
        .collect()
}

/// First argument STRING, the rest INT.
pub(crate) fn string_then_ints(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    strings_with_ints_at(name, args, &[1, 2])
}

/// STRING, STRING, then an INT third argument (`split`, `regexp_extract`, ...).
pub(crate) fn strings_int_third(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    strings_with_ints_at(name, args, &[2])
}

pub(crate) fn ret_string(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Utf8)
}

pub(crate) fn ret_int(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Int32)
}

fn ret_string_array(_: &[DataType]) -> Result<DataType> {
    Ok(list_of(DataType::Utf8))
}

/// Wraps a result array: a scalar when every input was a scalar (so constant folding yields
/// a literal), an array otherwise.
pub(crate) fn wrap(args: &[ColumnarValue], out: ArrayRef) -> Result<ColumnarValue> {
    if !args.is_empty()
        && args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)))
        && out.len() == 1
    {
        return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
            out.as_ref(),
            0,
        )?));
    }
    Ok(ColumnarValue::Array(out))
}

/// The number of rows to compute: one when every argument is a scalar.
pub(crate) fn rows(args: &[ColumnarValue], n: usize) -> usize {
    if !args.is_empty() && args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_))) {
        1
    } else {
        n
    }
}

/// Maps a STRING array row by row through `f`, which writes into a reused buffer (no
/// allocation per row); NULL stays NULL.
fn map_strings(a: &ArrayRef, mut f: impl FnMut(&str, &mut String)) -> ArrayRef {
    let a = a.as_string::<i32>();
    let mut b = StringBuilder::with_capacity(a.len(), a.values().len());
    let mut buf = String::new();
    for v in a.iter() {
        match v {
            Some(s) => {
                buf.clear();
                f(s, &mut buf);
                b.append_value(&buf);
            }
            None => b.append_null(),
        }
    }
    Arc::new(b.finish())
}

/// A one-argument STRING -> STRING function.
fn unary_string(
    args: &[ColumnarValue],
    n: usize,
    f: impl FnMut(&str, &mut String),
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    wrap(args, map_strings(&a, f))
}

fn eval_upper(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    unary_string(args, n, |s, buf| {
        if s.is_ascii() {
            buf.push_str(s);
            buf.make_ascii_uppercase();
        } else {
            buf.extend(s.chars().flat_map(char::to_uppercase));
        }
    })
}

fn eval_lower(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    unary_string(args, n, |s, buf| {
        if s.is_ascii() {
            buf.push_str(s);
            buf.make_ascii_lowercase();
        } else {
            buf.extend(s.chars().flat_map(char::to_lowercase));
        }
    })
}

fn eval_initcap(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    // Spark lower-cases, then upper-cases the first letter of each word; only ' ' separates
    // words.
    unary_string(args, n, |s, buf| {
        let mut start = true;
        for c in s.chars() {
            if start {
                buf.extend(c.to_uppercase());
            } else {
                buf.extend(c.to_lowercase());
            }
            start = c == ' ';
        }
    })
}

fn eval_reverse(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    if matches!(args[0].data_type(), DataType::List(_)) {
        let rows = rows(args, n);
        let a = arrays(args, rows)?;
        return wrap(args, combine_lists(&a, rows, true)?);
    }
    unary_string(args, n, |s, buf| buf.extend(s.chars().rev()))
}

#[derive(Clone, Copy)]
enum TrimSide {
    Both,
    Left,
    Right,
}

fn trim_with<'a>(s: &'a str, side: TrimSide, chars: Option<&str>) -> &'a str {
    // Spark trims only the space character (0x20) by default, not all whitespace.
    let pred = |c: char| match chars {
        Some(set) => set.contains(c),
        None => c == ' ',
    };
    match side {
        TrimSide::Both => s.trim_matches(pred),
        TrimSide::Left => s.trim_start_matches(pred),
        TrimSide::Right => s.trim_end_matches(pred),
    }
}

fn eval_trim_side(args: &[ColumnarValue], n: usize, side: TrimSide) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    if args.len() == 1 {
        return unary_string(args, n, |s, buf| {
            buf.push_str(trim_with(s, side, None));
        });
    }
    // Spark's two-argument function form is `trim(trimStr, str)`.
    let a = arrays(args, rows)?;
    let set = a[0].as_string::<i32>();
    let src = a[1].as_string::<i32>();
    let mut b = StringBuilder::with_capacity(rows, src.values().len());
    for i in 0..rows {
        if set.is_null(i) || src.is_null(i) {
            b.append_null();
        } else {
            b.append_value(trim_with(src.value(i), side, Some(set.value(i))));
        }
    }
    wrap(args, Arc::new(b.finish()))
}

fn eval_trim(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    eval_trim_side(args, n, TrimSide::Both)
}
fn eval_ltrim(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    eval_trim_side(args, n, TrimSide::Left)
}
fn eval_rtrim(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    eval_trim_side(args, n, TrimSide::Right)
}

/// Byte offset of the `idx`-th character of `s` (or `s.len()` past the end).
fn char_offset(s: &str, idx: usize) -> usize {
    if s.is_ascii() {
        return idx.min(s.len());
    }
    s.char_indices().nth(idx).map(|(o, _)| o).unwrap_or(s.len())
}

fn num_chars(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// Spark's `UTF8String.substringSQL`: 1-based `pos`, negative counts from the end, 0 acts
/// as 1.
pub(crate) fn substring_sql(s: &str, pos: i32, len: i32) -> &str {
    let n = num_chars(s) as i64;
    let start: i64 = if pos > 0 {
        i64::from(pos) - 1
    } else if pos < 0 {
        n + i64::from(pos)
    } else {
        0
    };
    let end = (start + i64::from(len)).clamp(i64::from(i32::MIN), i64::from(i32::MAX));
    let start = start.max(0);
    if start >= end || start >= n {
        return "";
    }
    let end = end.min(n);
    let bs = char_offset(s, start as usize);
    let be = char_offset(s, end as usize);
    &s[bs..be]
}

fn eval_substring(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let s = a[0].as_string::<i32>();
    let pos = a[1].as_primitive::<Int32Type>();
    let len = a.get(2).map(|l| l.as_primitive::<Int32Type>());
    let mut b = StringBuilder::with_capacity(rows, s.values().len());
    for i in 0..rows {
        if s.is_null(i) || pos.is_null(i) || len.is_some_and(|l| l.is_null(i)) {
            b.append_null();
            continue;
        }
        let l = len.map_or(i32::MAX, |l| l.value(i));
        b.append_value(substring_sql(s.value(i), pos.value(i), l));
    }
    wrap(args, Arc::new(b.finish()))
}

/// `concat`/`reverse` also work on arrays: all arguments arrays (common element type), or
/// all strings.
fn coerce_strings_or_arrays(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    if args.iter().any(|t| matches!(t, DataType::List(_))) {
        let mut elems = Vec::with_capacity(args.len());
        for (i, t) in args.iter().enumerate() {
            match t {
                DataType::List(f) => elems.push(f.data_type().clone()),
                DataType::Null => elems.push(DataType::Null),
                t => return Err(unexpected_input_type(name, i + 1, "\"ARRAY\"", t)),
            }
        }
        let t = crate::expr::coercion::common_type(&elems)?;
        return Ok(vec![list_of(t); args.len()]);
    }
    all_strings(name, args)
}

fn ret_first_type(args: &[DataType]) -> Result<DataType> {
    Ok(match args.first() {
        Some(t @ DataType::List(_)) => t.clone(),
        _ => DataType::Utf8,
    })
}

/// Concatenates (or, for one input, reverses) array rows: gathers value indices per row and
/// takes them once; a row is NULL when any input row is.
fn combine_lists(cols: &[ArrayRef], rows: usize, reverse: bool) -> Result<ArrayRef> {
    let lists: Vec<&arrow::array::ListArray> = cols.iter().map(|c| c.as_list::<i32>()).collect();
    let refs: Vec<&dyn Array> = lists.iter().map(|l| l.values().as_ref()).collect();
    let values = arrow::compute::concat(&refs)?;
    let mut bases = Vec::with_capacity(lists.len());
    let mut base = 0u32;
    for l in &lists {
        bases.push(base);
        base += l.values().len() as u32;
    }
    let mut idx: Vec<u32> = Vec::new();
    let mut lens = Vec::with_capacity(rows);
    let mut valid = Vec::with_capacity(rows);
    for i in 0..rows {
        if lists.iter().any(|l| l.is_null(i)) {
            lens.push(0);
            valid.push(false);
            continue;
        }
        let start = idx.len();
        for (l, b) in lists.iter().zip(&bases) {
            let o = l.value_offsets();
            idx.extend((o[i] as u32..o[i + 1] as u32).map(|j| b + j));
        }
        if reverse {
            idx[start..].reverse();
        }
        lens.push(idx.len() - start);
        valid.push(true);
    }
    let values =
        arrow::compute::take(values.as_ref(), &arrow::array::UInt32Array::from(idx), None)?;
    let field = match cols[0].data_type() {
        DataType::List(f) => f.clone(),
        _ => Arc::new(arrow::datatypes::Field::new(
            "element",
            values.data_type().clone(),
            true,
        )),
    };
    let offsets = arrow::buffer::OffsetBuffer::from_lengths(lens);
    let nulls = arrow::buffer::NullBuffer::from(valid);
    Ok(Arc::new(arrow::array::ListArray::try_new(
        field,
        offsets,
        values,
        Some(nulls),
    )?))
}

fn eval_concat(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    if args
        .first()
        .is_some_and(|a| matches!(a.data_type(), DataType::List(_)))
    {
        let a = arrays(args, rows)?;
        return wrap(args, combine_lists(&a, rows, false)?);
    }
    if args.is_empty() {
        return Ok(ColumnarValue::Array(Arc::new(StringArray::from(vec![
            "";
            n
        ]))));
    }
    let a = arrays(args, rows)?;
    let cols: Vec<&StringArray> = a.iter().map(|x| x.as_string::<i32>()).collect();
    let cap: usize = cols.iter().map(|c| c.values().len()).sum();
    let mut b = StringBuilder::with_capacity(rows, cap);
    let mut buf = String::new();
    'row: for i in 0..rows {
        buf.clear();
        for c in &cols {
            if c.is_null(i) {
                b.append_null();
                continue 'row;
            }
            buf.push_str(c.value(i));
        }
        b.append_value(&buf);
    }
    wrap(args, Arc::new(b.finish()))
}

fn coerce_concat_ws(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    args.iter()
        .enumerate()
        .map(|(i, t)| match t {
            DataType::List(f) if i > 0 && crate::types::is_string(f.data_type()) => Ok(t.clone()),
            DataType::List(f) if i > 0 && f.data_type() == &DataType::Null => {
                Ok(list_of(DataType::Utf8))
            }
            _ => want_string(name, i + 1, t),
        })
        .collect()
}

fn eval_concat_ws(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let sep = a[0].as_string::<i32>();
    let mut b = StringBuilder::with_capacity(rows, rows * 8);
    let mut buf = String::new();
    for i in 0..rows {
        if sep.is_null(i) {
            b.append_null();
            continue;
        }
        buf.clear();
        let mut first = true;
        let mut push = |s: &str, buf: &mut String| {
            if !first {
                buf.push_str(sep.value(i));
            }
            first = false;
            buf.push_str(s);
        };
        for col in &a[1..] {
            if col.is_null(i) {
                continue;
            }
            match col.data_type() {
                DataType::List(_) => {
                    let list = col.as_list::<i32>().value(i);
                    let list = list.as_string::<i32>();
                    for s in list.iter().flatten() {
                        push(s, &mut buf);
                    }
                }
                _ => push(col.as_string::<i32>().value(i), &mut buf),
            }
        }
        b.append_value(&buf);
    }
    wrap(args, Arc::new(b.finish()))
}

fn coerce_length(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    match &args[0] {
        DataType::Binary => Ok(vec![DataType::Binary]),
        t => Ok(vec![want_string(name, 1, t)?]),
    }
}

fn eval_length(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let a = args[0].to_array(rows(args, n))?;
    let out = match a.data_type() {
        DataType::Binary => arrow::compute::kernels::length::length(&a)?,
        _ => {
            let s = a.as_string::<i32>();
            // All-ASCII data (the common case): characters are bytes, use the kernel.
            if s.values().is_ascii() {
                arrow::compute::kernels::length::length(&a)?
            } else {
                let v: Int32Array = s.iter().map(|x| x.map(|x| num_chars(x) as i32)).collect();
                Arc::new(v)
            }
        }
    };
    wrap(args, out)
}

/// Compiles a Java-style regex for `func`, with Spark's error for a bad pattern.
pub(crate) fn compile_regex(func: &str, pattern: &str) -> Result<Regex> {
    // Rust's regex lacks some Java features (look-around, back-references): those
    // patterns fail here with Spark's bad-pattern error.
    Regex::new(pattern).map_err(|_| {
        EngineError::execution(
            "INVALID_PARAMETER_VALUE.PATTERN",
            format!(
                "The value of parameter(s) `regexp` in `{func}` is invalid: '{pattern}'. SQLSTATE: 22023"
            ),
        )
    })
}

/// Regexes for a pattern column: compiled once when the pattern is a scalar, else cached
/// for runs of equal patterns.
pub(crate) struct RegexCache<'a> {
    func: &'a str,
    last: Option<(String, Regex)>,
}

impl<'a> RegexCache<'a> {
    /// A cache for `func`'s patterns, primed with the pattern when it is a scalar.
    pub(crate) fn new(func: &'a str, scalar: Option<Option<String>>) -> Result<Self> {
        let last = match scalar {
            Some(Some(p)) => Some((p.clone(), compile_regex(func, &p)?)),
            _ => None,
        };
        Ok(RegexCache { func, last })
    }

    /// The compiled `pattern`.
    pub(crate) fn get(&mut self, pattern: &str) -> Result<&Regex> {
        let hit = matches!(&self.last, Some((p, _)) if p == pattern);
        if !hit {
            self.last = Some((pattern.to_string(), compile_regex(self.func, pattern)?));
        }
        match &self.last {
            Some((_, r)) => Ok(r),
            None => Err(EngineError::Internal("regex cache empty".into())),
        }
    }
}

/// Java's `String.split(regex, limit)` as Spark uses it (limit <= 0: no limit, trailing
/// empty strings kept; an empty regex splits into characters).
pub(crate) fn split_java<'s>(s: &'s str, re: &Regex, limit: i32, out: &mut Vec<&'s str>) {
    out.clear();
    let limit = if limit <= 0 {
        usize::MAX
    } else {
        limit as usize
    };
    if s.is_empty() {
        out.push("");
        return;
    }
    if re.as_str().is_empty() {
        for (o, c) in s.char_indices() {
            if out.len() + 1 == limit {
                out.push(&s[o..]);
                return;
            }
            out.push(&s[o..o + c.len_utf8()]);
        }
        return;
    }
    let mut last = 0;
    for m in re.find_iter(s) {
        if out.len() + 1 >= limit {
            break;
        }
        // Java drops the empty leading piece a zero-width match at 0 would make.
        if m.end() == 0 {
            continue;
        }
        out.push(&s[last..m.start()]);
        last = m.end();
    }
    out.push(&s[last..]);
}

fn eval_split(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let mut cache = RegexCache::new(name, scalar_string(&args[1]))?;
    let a = arrays(args, rows)?;
    let s = a[0].as_string::<i32>();
    let p = a[1].as_string::<i32>();
    let limit = a.get(2).map(|l| l.as_primitive::<Int32Type>());
    let mut b =
        GenericListBuilder::<i32, StringBuilder>::new(StringBuilder::new()).with_field(Arc::new(
            arrow::datatypes::Field::new("element", DataType::Utf8, true),
        ));
    let mut parts = Vec::new();
    for i in 0..rows {
        if s.is_null(i) || p.is_null(i) || limit.is_some_and(|l| l.is_null(i)) {
            b.append(false);
            continue;
        }
        let re = cache.get(p.value(i))?;
        split_java(s.value(i), re, limit.map_or(-1, |l| l.value(i)), &mut parts);
        for part in &parts {
            b.values().append_value(part);
        }
        b.append(true);
    }
    wrap(args, Arc::new(b.finish()))
}

fn eval_regexp_extract(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let mut cache = RegexCache::new(name, scalar_string(&args[1]))?;
    let a = arrays(args, rows)?;
    let s = a[0].as_string::<i32>();
    let p = a[1].as_string::<i32>();
    let idx = a.get(2).map(|l| l.as_primitive::<Int32Type>());
    let mut b = StringBuilder::with_capacity(rows, rows * 8);
    for i in 0..rows {
        if s.is_null(i) || p.is_null(i) || idx.is_some_and(|l| l.is_null(i)) {
            b.append_null();
            continue;
        }
        let re = cache.get(p.value(i))?;
        let g = idx.map_or(1, |l| l.value(i));
        let groups = re.captures_len() - 1;
        if g < 0 || g as usize > groups {
            return Err(EngineError::execution(
                "INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX",
                format!(
                    "The value of parameter(s) `idx` in `{name}` is invalid: Expects group index between 0 and {groups}, but got {g}. SQLSTATE: 22023"
                ),
            ));
        }
        let v = re
            .captures(s.value(i))
            .and_then(|c| c.get(g as usize))
            .map_or("", |m| m.as_str());
        b.append_value(v);
    }
    wrap(args, Arc::new(b.finish()))
}

/// Translates a Java replacement string (`$1`, `\$`) into the regex crate's syntax
/// (`${1}`, `$$`).
pub(crate) fn java_replacement(rep: &str) -> String {
    let mut out = String::with_capacity(rep.len() + 4);
    let mut chars = rep.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(x) => out.push(x),
                None => {}
            },
            '$' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    out.push_str("$$");
                } else {
                    out.push_str(&format!("${{{digits}}}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn eval_regexp_replace(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let mut cache = RegexCache::new(name, scalar_string(&args[1]))?;
    let a = arrays(args, rows)?;
    let s = a[0].as_string::<i32>();
    let p = a[1].as_string::<i32>();
    let r = a[2].as_string::<i32>();
    let pos = a.get(3).map(|l| l.as_primitive::<Int32Type>());
    let mut b = StringBuilder::with_capacity(rows, s.values().len());
    let mut last_rep: Option<(String, String)> = None;
    for i in 0..rows {
        if s.is_null(i) || p.is_null(i) || r.is_null(i) || pos.is_some_and(|l| l.is_null(i)) {
            b.append_null();
            continue;
        }
        let rep_java = r.value(i);
        if last_rep.as_ref().is_none_or(|(j, _)| j != rep_java) {
            last_rep = Some((rep_java.to_string(), java_replacement(rep_java)));
        }
        let rep = last_rep.as_ref().map_or("", |(_, x)| x.as_str());
        let re = cache.get(p.value(i))?;
        let v = s.value(i);
        let start = pos.map_or(1, |l| l.value(i));
        if start <= 0 {
            return Err(EngineError::execution(
                "INVALID_PARAMETER_VALUE.REGEX_POSITION",
                format!(
                    "The value of parameter(s) `position` in `{name}` is invalid: Expects a positive value, but got {start}. SQLSTATE: 22023"
                ),
            ));
        }
        let off = char_offset(v, start as usize - 1);
        let (head, tail) = v.split_at(off);
        let replaced = re.replace_all(tail, rep);
        if head.is_empty() {
            b.append_value(replaced.as_ref());
        } else {
            b.append_value(format!("{head}{replaced}"));
        }
    }
    wrap(args, Arc::new(b.finish()))
}

/// Bytes of `pad` repeated to `chars` characters.
fn pad_bytes(pad: &str, chars: usize) -> u128 {
    let n = num_chars(pad);
    if n == 0 {
        return 0;
    }
    (chars / n) as u128 * pad.len() as u128 + char_offset(pad, chars % n) as u128
}

/// `s` padded (or cut) to `len` characters; the bytes it takes are counted first, so a
/// result too large for one array is an error before it is built.
fn pad(
    name: &str,
    s: &str,
    len: i32,
    pad: &str,
    left: bool,
    buf: &mut String,
    total: &mut usize,
) -> Result<()> {
    let Ok(len) = usize::try_from(len) else {
        return Ok(());
    };
    let n = num_chars(s);
    if n >= len || pad.is_empty() {
        let kept = s.get(..char_offset(s, len)).unwrap_or(s);
        add_result_bytes(name, total, kept.len() as u128)?;
        buf.push_str(kept);
        return Ok(());
    }
    let need = len - n;
    add_result_bytes(name, total, s.len() as u128 + pad_bytes(pad, need))?;
    if !left {
        buf.push_str(s);
    }
    // Whole copies of `pad`, then the characters of the last, partial one.
    let pad_chars = num_chars(pad);
    buf.push_str(&pad.repeat(need / pad_chars));
    buf.push_str(
        pad.get(..char_offset(pad, need % pad_chars))
            .unwrap_or_default(),
    );
    if left {
        buf.push_str(s);
    }
    Ok(())
}

/// Spark's `ByteArray.lpad`/`rpad`: cut to `len` bytes, or filled with `pad` repeated (a
/// zero byte by default) on the left or the right.
fn pad_binary(b: &[u8], len: i32, pad: &[u8], left: bool) -> Vec<u8> {
    let Ok(len) = usize::try_from(len) else {
        return Vec::new();
    };
    if len <= b.len() {
        return b.get(..len).unwrap_or_default().to_vec();
    }
    if pad.is_empty() {
        return b.to_vec();
    }
    let fill: Vec<u8> = pad.iter().copied().cycle().take(len - b.len()).collect();
    if left {
        [fill.as_slice(), b].concat()
    } else {
        [b, fill.as_slice()].concat()
    }
}

fn eval_pad(name: &str, args: &[ColumnarValue], n: usize, left: bool) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    if a[0].data_type() == &DataType::Binary {
        let s = a[0].as_binary::<i32>();
        let len = a[1].as_primitive::<Int32Type>();
        let p = a.get(2).map(|x| x.as_binary::<i32>());
        let out: arrow::array::BinaryArray = (0..rows)
            .map(|i| {
                if s.is_null(i) || len.is_null(i) || p.is_some_and(|x| x.is_null(i)) {
                    return None;
                }
                Some(pad_binary(
                    s.value(i),
                    len.value(i),
                    p.map_or(&[0u8][..], |x| x.value(i)),
                    left,
                ))
            })
            .collect();
        return wrap(args, Arc::new(out));
    }
    let s = a[0].as_string::<i32>();
    let len = a[1].as_primitive::<Int32Type>();
    let p = a.get(2).map(|x| x.as_string::<i32>());
    let mut b = StringBuilder::with_capacity(rows, s.values().len());
    let mut buf = String::new();
    let mut total = 0usize;
    for i in 0..rows {
        if s.is_null(i) || len.is_null(i) || p.is_some_and(|x| x.is_null(i)) {
            b.append_null();
            continue;
        }
        buf.clear();
        pad(
            name,
            s.value(i),
            len.value(i),
            p.map_or(" ", |x| x.value(i)),
            left,
            &mut buf,
            &mut total,
        )?;
        b.append_value(&buf);
    }
    wrap(args, Arc::new(b.finish()))
}

fn coerce_pad(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    // BINARY pads BINARY (with a zero byte by default), as Spark's `ByteArray` pads.
    if args[0] == DataType::Binary && args.get(2).is_none_or(|p| *p == DataType::Binary) {
        let mut out = vec![DataType::Binary, want_int(name, 2, &args[1])?];
        out.extend(args.get(2).map(|_| DataType::Binary));
        return Ok(out);
    }
    strings_with_ints_at(name, args, &[1])
}

fn ret_pad(args: &[DataType]) -> Result<DataType> {
    Ok(if args[0] == DataType::Binary {
        DataType::Binary
    } else {
        DataType::Utf8
    })
}

fn eval_lpad(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    eval_pad(name, args, n, true)
}
fn eval_rpad(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    eval_pad(name, args, n, false)
}

/// 1-based character position of `needle` in `hay` at or after character `from` (0-based),
/// 0 when absent.
fn find_chars(hay: &str, needle: &str, from: usize) -> i32 {
    let off = char_offset(hay, from);
    if off > hay.len() || (from > 0 && off == hay.len() && from > num_chars(hay)) {
        return 0;
    }
    match hay[off..].find(needle) {
        Some(b) => (num_chars(&hay[..off + b]) + 1) as i32,
        None => 0,
    }
}

fn eval_instr(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let s = a[0].as_string::<i32>();
    let sub = a[1].as_string::<i32>();
    let mut b = Int32Builder::with_capacity(rows);
    for i in 0..rows {
        if s.is_null(i) || sub.is_null(i) {
            b.append_null();
        } else {
            b.append_value(find_chars(s.value(i), sub.value(i), 0));
        }
    }
    wrap(args, Arc::new(b.finish()))
}

fn coerce_locate(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    args.iter()
        .enumerate()
        .map(|(i, t)| {
            if i == 2 {
                want_int(name, 3, t)
            } else {
                want_string(name, i + 1, t)
            }
        })
        .collect()
}

fn eval_locate(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let sub = a[0].as_string::<i32>();
    let s = a[1].as_string::<i32>();
    let pos = a.get(2).map(|x| x.as_primitive::<Int32Type>());
    let mut b = Int32Builder::with_capacity(rows);
    for i in 0..rows {
        // Hive compatibility: a NULL start position gives 0, not NULL.
        if pos.is_some_and(|p| p.is_null(i)) {
            b.append_value(0);
            continue;
        }
        if s.is_null(i) || sub.is_null(i) {
            b.append_null();
            continue;
        }
        let start = pos.map_or(1, |p| p.value(i));
        if start < 1 {
            b.append_value(0);
            continue;
        }
        b.append_value(find_chars(s.value(i), sub.value(i), start as usize - 1));
    }
    wrap(args, Arc::new(b.finish()))
}

fn eval_replace(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let s = a[0].as_string::<i32>();
    let search = a[1].as_string::<i32>();
    let rep = a.get(2).map(|x| x.as_string::<i32>());
    let mut b = StringBuilder::with_capacity(rows, s.values().len());
    for i in 0..rows {
        if s.is_null(i) || search.is_null(i) || rep.is_some_and(|r| r.is_null(i)) {
            b.append_null();
            continue;
        }
        let (v, pat) = (s.value(i), search.value(i));
        if pat.is_empty() {
            b.append_value(v);
        } else {
            b.append_value(v.replace(pat, rep.map_or("", |r| r.value(i))));
        }
    }
    wrap(args, Arc::new(b.finish()))
}

fn eval_repeat(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let s = a[0].as_string::<i32>();
    let times: &Int32Array = a[1].as_primitive::<Int32Type>();
    let mut b = StringBuilder::with_capacity(rows, s.values().len());
    let mut total = 0usize;
    for i in 0..rows {
        if s.is_null(i) || times.is_null(i) {
            b.append_null();
        } else {
            let (v, times) = (s.value(i), usize::try_from(times.value(i)).unwrap_or(0));
            // Counted before it is built: `repeat('ab', 1100000000)` is an error, not 2 GiB.
            add_result_bytes(name, &mut total, v.len() as u128 * times as u128)?;
            b.append_value(v.repeat(times));
        }
    }
    wrap(args, Arc::new(b.finish()))
}

/// Every string function with its names.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let s = SimpleFunction::new;
    let one = (1, 1);
    let mut v = Vec::new();
    v.extend(s("upper", one, all_strings, ret_string, eval_upper).entries(&["ucase"]));
    v.extend(s("lower", one, all_strings, ret_string, eval_lower).entries(&["lcase"]));
    v.extend(s("initcap", one, all_strings, ret_string, eval_initcap).entries(&[]));
    v.extend(
        s(
            "reverse",
            one,
            coerce_strings_or_arrays,
            ret_first_type,
            eval_reverse,
        )
        .entries(&[]),
    );
    v.extend(s("trim", (1, 2), all_strings, ret_string, eval_trim).entries(&[]));
    v.extend(s("ltrim", (1, 2), all_strings, ret_string, eval_ltrim).entries(&[]));
    v.extend(s("rtrim", (1, 2), all_strings, ret_string, eval_rtrim).entries(&[]));
    v.extend(
        s(
            "substring",
            (2, 3),
            string_then_ints,
            ret_string,
            eval_substring,
        )
        .entries(&["substr"]),
    );
    v.extend(
        s(
            "concat",
            (0, usize::MAX),
            coerce_strings_or_arrays,
            ret_first_type,
            eval_concat,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "concat_ws",
            (1, usize::MAX),
            coerce_concat_ws,
            ret_string,
            eval_concat_ws,
        )
        .entries(&[]),
    );
    v.extend(
        s("length", one, coerce_length, ret_int, eval_length).entries(&[
            "char_length",
            "character_length",
            "len",
        ]),
    );
    v.extend(
        s(
            "split",
            (2, 3),
            strings_int_third,
            ret_string_array,
            eval_split,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "regexp_extract",
            (2, 3),
            strings_int_third,
            ret_string,
            eval_regexp_extract,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "regexp_replace",
            (3, 4),
            |n, a| {
                a.iter()
                    .enumerate()
                    .map(|(i, t)| {
                        if i == 3 {
                            want_int(n, 4, t)
                        } else {
                            want_string(n, i + 1, t)
                        }
                    })
                    .collect()
            },
            ret_string,
            eval_regexp_replace,
        )
        .entries(&[]),
    );
    v.extend(s("lpad", (2, 3), coerce_pad, ret_pad, eval_lpad).entries(&[]));
    v.extend(s("rpad", (2, 3), coerce_pad, ret_pad, eval_rpad).entries(&[]));
    v.extend(s("instr", (2, 2), all_strings, ret_int, eval_instr).entries(&[]));
    v.extend(s("locate", (2, 3), coerce_locate, ret_int, eval_locate).entries(&["position"]));
    v.extend(s("replace", (2, 3), all_strings, ret_string, eval_replace).entries(&[]));
    v.extend(s("repeat", (2, 2), string_then_ints, ret_string, eval_repeat).entries(&[]));
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn call(name: &str, args: Vec<ColumnarValue>) -> Result<ArrayRef> {
        call_ctx(name, args, &FunctionContext::default())
    }

    pub(crate) fn call_ctx(
        name: &str,
        args: Vec<ColumnarValue>,
        ctx: &FunctionContext,
    ) -> Result<ArrayRef> {
        let f = super::super::lookup_scalar(name).expect("registered");
        let n = args
            .iter()
            .find_map(|a| match a {
                ColumnarValue::Array(a) => Some(a.len()),
                _ => None,
            })
            .unwrap_or(1);
        let types: Vec<DataType> = args.iter().map(|a| a.data_type()).collect();
        let want = f.coerce_types(&types)?;
        let args = args
            .into_iter()
            .zip(&want)
            .map(|(a, t)| {
                let arr = a.to_array(n).unwrap();
                ColumnarValue::Array(arrow::compute::cast(&arr, t).unwrap())
            })
            .collect::<Vec<_>>();
        let rt = f.return_type(&want)?;
        let out = f.invoke(&args, n, ctx)?.into_array(n)?;
        assert_eq!(out.data_type(), &rt, "{name} return type");
        Ok(out)
    }

    pub(crate) fn strs(v: &[Option<&str>]) -> ColumnarValue {
        ColumnarValue::Array(Arc::new(StringArray::from(v.to_vec())))
    }

    pub(crate) fn ints(v: &[Option<i32>]) -> ColumnarValue {
        ColumnarValue::Array(Arc::new(Int32Array::from(v.to_vec())))
    }

    pub(crate) fn sv(s: &str) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Utf8(Some(s.into())))
    }

    pub(crate) fn iv(i: i32) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Int32(Some(i)))
    }

    pub(crate) fn as_strs(a: &ArrayRef) -> Vec<Option<String>> {
        a.as_string::<i32>()
            .iter()
            .map(|s| s.map(str::to_string))
            .collect()
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn upper_lower_initcap_reverse() {
        let a = strs(&[Some("abc"), None, Some(""), Some("straße ÄÖ")]);
        assert_eq!(
            as_strs(&call("upper", vec![a.clone()]).unwrap()),
            vec![s("ABC"), None, s(""), s("STRASSE ÄÖ")]
        );
        assert_eq!(
            as_strs(&call("lcase", vec![a.clone()]).unwrap()),
            vec![s("abc"), None, s(""), s("straße äö")]
        );
        assert_eq!(
            as_strs(&call("initcap", vec![strs(&[Some("hello wORLD  x")])]).unwrap()),
            vec![s("Hello World  X")]
        );
        assert_eq!(
            as_strs(&call("reverse", vec![strs(&[Some("añb")])]).unwrap()),
            vec![s("bña")]
        );
        // upper(INT) casts the argument to STRING.
        let f = super::super::lookup_scalar("upper").unwrap();
        assert_eq!(
            f.coerce_types(&[DataType::Int32]).unwrap(),
            vec![DataType::Utf8]
        );
        let e = f
            .coerce_types(&[list_of(DataType::Int32)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE"), "{e}");
        let e = f.coerce_types(&[]).unwrap_err().to_string();
        assert!(
            e.contains("requires 1 parameters but the actual number is 0"),
            "{e}"
        );
    }

    #[test]
    fn trims_spaces_only() {
        let a = strs(&[Some("  a b \t "), None]);
        assert_eq!(
            as_strs(&call("trim", vec![a.clone()]).unwrap()),
            vec![s("a b \t"), None]
        );
        assert_eq!(
            as_strs(&call("ltrim", vec![a.clone()]).unwrap())[0],
            s("a b \t ")
        );
        assert_eq!(as_strs(&call("rtrim", vec![a]).unwrap())[0], s("  a b \t"));
        assert_eq!(
            as_strs(&call("trim", vec![sv("xy"), strs(&[Some("xxabcyx")])]).unwrap()),
            vec![s("abc")]
        );
    }

    #[test]
    fn substring_follows_spark() {
        let a = strs(&[Some("Spark SQL"), None, Some("héllo")]);
        let r = |pos: i32, len: Option<i32>| {
            let mut args = vec![a.clone(), iv(pos)];
            if let Some(l) = len {
                args.push(iv(l));
            }
            as_strs(&call("substring", args).unwrap())
        };
        assert_eq!(r(5, None), vec![s("k SQL"), None, s("o")]);
        assert_eq!(r(-3, None), vec![s("SQL"), None, s("llo")]);
        assert_eq!(r(5, Some(1)), vec![s("k"), None, s("o")]);
        assert_eq!(r(0, Some(2)), vec![s("Sp"), None, s("hé")]);
        assert_eq!(r(1, Some(2)), vec![s("Sp"), None, s("hé")]);
        assert_eq!(r(-20, Some(13)), vec![s("Sp"), None, s("")]);
        assert_eq!(r(100, Some(2)), vec![s(""), None, s("")]);
        assert_eq!(r(2, Some(-1)), vec![s(""), None, s("")]);
    }

    #[test]
    fn concat_and_concat_ws() {
        let a = strs(&[Some("a"), None, Some("")]);
        let b = strs(&[Some("b"), Some("x"), Some("c")]);
        assert_eq!(
            as_strs(&call("concat", vec![a.clone(), b.clone()]).unwrap()),
            vec![s("ab"), None, s("c")]
        );
        assert_eq!(
            as_strs(&call("concat_ws", vec![sv("-"), a, b]).unwrap()),
            vec![s("a-b"), s("x"), s("-c")]
        );
        assert_eq!(
            as_strs(
                &call(
                    "concat_ws",
                    vec![ColumnarValue::Scalar(ScalarValue::Utf8(None)), sv("a")]
                )
                .unwrap()
            ),
            vec![None]
        );
        // concat(INT, STRING) casts to STRING.
        let one = ColumnarValue::Scalar(ScalarValue::Int32(Some(1)));
        assert_eq!(
            as_strs(&call("concat", vec![one, sv("x")]).unwrap()),
            vec![s("1x")]
        );
    }

    #[test]
    fn concat_and_reverse_arrays() {
        let mut b =
            arrow::array::ListBuilder::new(arrow::array::Int32Builder::new()).with_field(Arc::new(
                arrow::datatypes::Field::new("element", DataType::Int32, true),
            ));
        b.values().append_value(1);
        b.values().append_value(2);
        b.append(true);
        b.append(false);
        let a = ColumnarValue::Array(Arc::new(b.finish()));
        let r = call("concat", vec![a.clone(), a.clone()]).unwrap();
        let l = r.as_list::<i32>();
        assert_eq!(
            l.value(0).as_primitive::<Int32Type>().values().to_vec(),
            vec![1, 2, 1, 2]
        );
        assert!(l.is_null(1));
        let r = call("reverse", vec![a]).unwrap();
        let l = r.as_list::<i32>();
        assert_eq!(
            l.value(0).as_primitive::<Int32Type>().values().to_vec(),
            vec![2, 1]
        );
        assert!(l.is_null(1));
        let f = super::super::lookup_scalar("concat").unwrap();
        assert!(
            f.coerce_types(&[list_of(DataType::Int32), DataType::Utf8])
                .is_err()
        );
    }

    #[test]
    fn length_counts_chars() {
        let r = call("length", vec![strs(&[Some("héllo"), None, Some("")])]).unwrap();
        let r = r.as_primitive::<Int32Type>();
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![Some(5), None, Some(0)]);
    }

    #[test]
    fn split_like_java() {
        let r = call(
            "split",
            vec![strs(&[Some("a,b,,c,,"), None, Some("")]), sv(",")],
        )
        .unwrap();
        let l = r.as_list::<i32>();
        assert!(l.is_null(1));
        let row0 = l.value(0);
        assert_eq!(
            as_strs(&row0),
            vec![s("a"), s("b"), s(""), s("c"), s(""), s("")]
        );
        assert_eq!(as_strs(&l.value(2)), vec![s("")]);
        let r = call("split", vec![strs(&[Some("a1b22c")]), sv("[0-9]+"), iv(2)]).unwrap();
        assert_eq!(
            as_strs(&r.as_list::<i32>().value(0)),
            vec![s("a"), s("b22c")]
        );
        let r = call("split", vec![strs(&[Some("abc")]), sv("")]).unwrap();
        assert_eq!(
            as_strs(&r.as_list::<i32>().value(0)),
            vec![s("a"), s("b"), s("c")]
        );
    }

    #[test]
    fn regexp_extract_and_replace() {
        let a = strs(&[Some("100-200"), Some("foo"), None]);
        let r = call(
            "regexp_extract",
            vec![a.clone(), sv("(\\d+)-(\\d+)"), iv(2)],
        )
        .unwrap();
        assert_eq!(as_strs(&r), vec![s("200"), s(""), None]);
        let e = call("regexp_extract", vec![a.clone(), sv("(\\d+)"), iv(2)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("REGEX_GROUP_INDEX"), "{e}");
        assert!(e.contains("between 0 and 1, but got 2"), "{e}");
        let r = call("regexp_replace", vec![a.clone(), sv("(\\d+)"), sv("<$1>")]).unwrap();
        assert_eq!(as_strs(&r), vec![s("<100>-<200>"), s("foo"), None]);
        let r = call("regexp_replace", vec![a, sv("(\\d)0"), sv("$1a\\$")]).unwrap();
        assert_eq!(as_strs(&r)[0], s("1a$0-2a$0"));
        let e = call("regexp_replace", vec![sv("x"), sv("("), sv("")]).unwrap_err();
        assert!(
            e.to_string().contains("INVALID_PARAMETER_VALUE.PATTERN"),
            "{e}"
        );
    }

    #[test]
    fn pads() {
        let a = strs(&[Some("hi"), Some("hello"), None]);
        assert_eq!(
            as_strs(&call("lpad", vec![a.clone(), iv(4), sv("?!")]).unwrap()),
            vec![s("?!hi"), s("hell"), None]
        );
        assert_eq!(
            as_strs(&call("rpad", vec![a.clone(), iv(5)]).unwrap()),
            vec![s("hi   "), s("hello"), None]
        );
        assert_eq!(
            as_strs(&call("rpad", vec![a, iv(-1)]).unwrap()),
            vec![s(""), s(""), None]
        );
        let e = strs(&[Some("é")]);
        assert_eq!(
            as_strs(&call("lpad", vec![e, iv(4), sv("ab€")]).unwrap()),
            vec![s("ab€é")]
        );
        assert_eq!(
            as_strs(&call("rpad", vec![strs(&[Some("x")]), iv(6), sv("ab€")]).unwrap()),
            vec![s("xab€ab")]
        );
    }

    #[test]
    fn results_too_large_for_one_array_are_errors() {
        // Regression (issue 16): 2.2 GB of `ab` used to panic inside Arrow.
        let e = call("repeat", vec![strs(&[Some("ab")]), iv(1_100_000_000)]).unwrap_err();
        assert!(
            e.to_string().contains("COLLECTION_SIZE_LIMIT_EXCEEDED"),
            "{e}"
        );
        let e = call("lpad", vec![strs(&[Some("x")]), iv(i32::MAX), sv("ab€")]).unwrap_err();
        assert!(
            e.to_string().contains("COLLECTION_SIZE_LIMIT_EXCEEDED"),
            "{e}"
        );
    }

    #[test]
    fn positions_replace_repeat() {
        let a = strs(&[Some("héllo wörld"), None]);
        let r = call("instr", vec![a.clone(), sv("wö")]).unwrap();
        assert_eq!(r.as_primitive::<Int32Type>().value(0), 7);
        assert!(r.is_null(1));
        let r = call("locate", vec![sv("l"), a.clone(), iv(5)]).unwrap();
        assert_eq!(r.as_primitive::<Int32Type>().value(0), 10);
        let r = call("locate", vec![sv("l"), a.clone(), iv(0)]).unwrap();
        assert_eq!(r.as_primitive::<Int32Type>().value(0), 0);
        let r = call("locate", vec![sv("zz"), a.clone()]).unwrap();
        assert_eq!(r.as_primitive::<Int32Type>().value(0), 0);
        assert_eq!(
            as_strs(&call("replace", vec![a.clone(), sv("l")]).unwrap()),
            vec![s("héo wörd"), None]
        );
        assert_eq!(
            as_strs(&call("replace", vec![a, sv("l"), sv("L")]).unwrap()),
            vec![s("héLLo wörLd"), None]
        );
        assert_eq!(
            as_strs(
                &call(
                    "repeat",
                    vec![strs(&[Some("ab"), Some("x")]), ints(&[Some(2), Some(-1)])]
                )
                .unwrap()
            ),
            vec![s("abab"), s("")]
        );
    }

    #[test]
    fn scalar_inputs_give_scalars() {
        let f = super::super::lookup_scalar("upper").unwrap();
        let out = f
            .invoke(&[sv("a")], 10, &FunctionContext::default())
            .unwrap();
        assert!(matches!(out, ColumnarValue::Scalar(ScalarValue::Utf8(Some(ref x))) if x == "A"));
    }
}
