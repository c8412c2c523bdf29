//! More string slicing functions: `left`, `right`, `substring_index`, `split_part`,
//! `translate`, `btrim`, `space`, `elt`, `find_in_set`.
//!
//! Positions count characters (code points), as Spark's `UTF8String` does; a NULL argument
//! gives NULL unless a function says otherwise.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Int32Array, Int32Builder, StringArray, StringBuilder,
};
use arrow::datatypes::Int32Type;

use super::string::{
    SimpleFunction, all_strings, arrays, ret_int, ret_string, rows, string_then_ints,
    strings_int_third, strings_with_ints_at, substring_sql, want_int, wrap,
};
use super::{FunctionContext, ScalarFunction};
use crate::expr::columnar::ColumnarValue;
use crate::{EngineError, Result};

/// The argument at `i` as a string column (the analyzer cast it to STRING).
pub(crate) fn str_col(a: &[ArrayRef], i: usize) -> Result<&StringArray> {
    a.get(i)
        .and_then(|c| c.as_string_opt::<i32>())
        .ok_or_else(|| EngineError::Internal(format!("argument {i} is not a STRING column")))
}

/// The argument at `i` as an INT column (the analyzer cast it to INT).
pub(crate) fn int_col(a: &[ArrayRef], i: usize) -> Result<&Int32Array> {
    a.get(i)
        .and_then(|c| c.as_primitive_opt::<Int32Type>())
        .ok_or_else(|| EngineError::Internal(format!("argument {i} is not an INT column")))
}

/// The value of row `i`, `None` when NULL.
pub(crate) fn opt_str(a: &StringArray, i: usize) -> Option<&str> {
    a.is_valid(i).then(|| a.value(i))
}

/// The value of row `i`, `None` when NULL.
pub(crate) fn opt_int(a: &Int32Array, i: usize) -> Option<i32> {
    a.is_valid(i).then(|| a.value(i))
}

/// Builds a STRING result row by row; `f` gives `None` for NULL.
pub(crate) fn build_strings<S: AsRef<str>>(
    args: &[ColumnarValue],
    rows: usize,
    mut f: impl FnMut(usize) -> Result<Option<S>>,
) -> Result<ColumnarValue> {
    let mut b = StringBuilder::with_capacity(rows, rows * 8);
    for i in 0..rows {
        b.append_option(f(i)?);
    }
    wrap(args, Arc::new(b.finish()))
}

/// Builds an INT result row by row; `f` gives `None` for NULL.
pub(crate) fn build_ints(
    args: &[ColumnarValue],
    rows: usize,
    mut f: impl FnMut(usize) -> Result<Option<i32>>,
) -> Result<ColumnarValue> {
    let mut b = Int32Builder::with_capacity(rows);
    for i in 0..rows {
        b.append_option(f(i)?);
    }
    wrap(args, Arc::new(b.finish()))
}

/// `left(str, len)`: the first `len` characters; `len <= 0` gives `''`.
fn eval_left(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let (s, len) = (str_col(&a, 0)?, int_col(&a, 1)?);
    build_strings(args, rows, |i| {
        Ok(match (opt_str(s, i), opt_int(len, i)) {
            (Some(s), Some(l)) if l > 0 => Some(substring_sql(s, 1, l)),
            (Some(_), Some(_)) => Some(""),
            _ => None,
        })
    })
}

/// `right(str, len)`: the last `len` characters; `len <= 0` gives `''`.
fn eval_right(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let (s, len) = (str_col(&a, 0)?, int_col(&a, 1)?);
    build_strings(args, rows, |i| {
        Ok(match (opt_str(s, i), opt_int(len, i)) {
            // `l > 0`, so `-l` cannot overflow.
            (Some(s), Some(l)) if l > 0 => Some(substring_sql(s, -l, l)),
            (Some(_), Some(_)) => Some(""),
            _ => None,
        })
    })
}

/// Spark's `UTF8String.subStringIndex`: the part before the `count`-th occurrence of
/// `delim` (from the right when negative). Occurrences may overlap, as in Spark, which
/// restarts the search one byte after the previous match.
pub(crate) fn substring_index<'s>(s: &'s str, delim: &str, count: i32) -> &'s str {
    if delim.is_empty() || count == 0 {
        return "";
    }
    let (b, d) = (s.as_bytes(), delim.as_bytes());
    let find_from = |from: usize| -> Option<usize> {
        b.get(from..)
            .and_then(|rest| memchr::memmem::find(rest, d))
            .map(|p| p + from)
    };
    if count > 0 {
        let mut idx: Option<usize> = None;
        for _ in 0..count {
            let from = idx.map_or(0, |x| x + 1);
            match find_from(from) {
                Some(p) => idx = Some(p),
                None => return s,
            }
        }
        // Matches of a valid UTF-8 delimiter start on character boundaries.
        idx.and_then(|p| s.get(..p)).unwrap_or(s)
    } else {
        // Search backwards: each match must start before the previous one.
        let mut end = b.len();
        let mut idx: Option<usize> = None;
        for _ in 0..count.unsigned_abs() {
            let hay = b.get(..end.saturating_add(d.len()).saturating_sub(1).min(b.len()));
            match hay.and_then(|h| memchr::memmem::rfind(h, d)) {
                Some(p) => {
                    idx = Some(p);
                    end = p;
                }
                None => return s,
            }
        }
        idx.and_then(|p| s.get(p + d.len()..)).unwrap_or(s)
    }
}

fn eval_substring_index(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let (s, d, c) = (str_col(&a, 0)?, str_col(&a, 1)?, int_col(&a, 2)?);
    build_strings(args, rows, |i| {
        Ok(match (opt_str(s, i), opt_str(d, i), opt_int(c, i)) {
            (Some(s), Some(d), Some(c)) => Some(substring_index(s, d, c)),
            _ => None,
        })
    })
}

/// `split_part(str, delim, n)`: the `n`-th part (negative: from the end) of `str` split
/// on the literal `delim`; out of range gives `''`, 0 is an error.
fn eval_split_part(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let (s, d, p) = (str_col(&a, 0)?, str_col(&a, 1)?, int_col(&a, 2)?);
    build_strings(args, rows, |i| {
        let (Some(s), Some(d), Some(p)) = (opt_str(s, i), opt_str(d, i), opt_int(p, i)) else {
            return Ok(None);
        };
        if p == 0 {
            return Err(EngineError::execution(
                "INVALID_INDEX_OF_ZERO",
                "The index 0 is invalid. An index shall be either < 0 or > 0 (the first element has index 1). SQLSTATE: 22003",
            ));
        }
        // An empty delimiter does not split (Spark's `splitSQL`).
        let parts: Vec<&str> = if d.is_empty() {
            vec![s]
        } else {
            s.split(d).collect()
        };
        let idx = if p > 0 {
            usize::try_from(p - 1).ok()
        } else {
            parts.len().checked_sub(p.unsigned_abs() as usize)
        };
        Ok(Some(idx.and_then(|k| parts.get(k).copied()).unwrap_or("")))
    })
}

/// `translate(str, from, to)`: each character of `from` becomes the character at the same
/// position of `to`, or is deleted when `to` is shorter; the first mapping of a repeated
/// character wins.
fn eval_translate(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let (s, from, to) = (str_col(&a, 0)?, str_col(&a, 1)?, str_col(&a, 2)?);
    let mut dict: HashMap<char, Option<char>> = HashMap::new();
    let mut last: Option<(String, String)> = None;
    build_strings(args, rows, |i| {
        let (Some(s), Some(f), Some(t)) = (opt_str(s, i), opt_str(from, i), opt_str(to, i)) else {
            return Ok(None);
        };
        if last.as_ref().is_none_or(|(lf, lt)| lf != f || lt != t) {
            dict.clear();
            let mut to_chars = t.chars();
            for c in f.chars() {
                let rep = to_chars.next();
                dict.entry(c).or_insert(rep);
            }
            last = Some((f.to_string(), t.to_string()));
        }
        let out: String = s
            .chars()
            .filter_map(|c| match dict.get(&c) {
                Some(rep) => *rep,
                None => Some(c),
            })
            .collect();
        Ok(Some(out))
    })
}

/// `btrim(str [, chars])`: strips `chars` (default: spaces) from both ends.
fn eval_btrim(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let s = str_col(&a, 0)?;
    let set = if a.len() > 1 {
        Some(str_col(&a, 1)?)
    } else {
        None
    };
    build_strings(args, rows, |i| {
        let Some(v) = opt_str(s, i) else {
            return Ok(None);
        };
        Ok(match set {
            None => Some(v.trim_matches(' ')),
            Some(set) => opt_str(set, i).map(|chars| v.trim_matches(|c| chars.contains(c))),
        })
    })
}

/// `space(n)`: `n` spaces; `n <= 0` gives `''`.
fn eval_space(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let c = int_col(&a, 0)?;
    build_strings(args, rows, |i| {
        Ok(opt_int(c, i).map(|k| " ".repeat(usize::try_from(k).unwrap_or(0))))
    })
}

/// `elt(n, s1, s2, ...)`: the `n`-th string; out of range is an error in ANSI mode and NULL
/// otherwise.
fn eval_elt(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let idx = int_col(&a, 0)?;
    let inputs: Vec<&StringArray> = (1..a.len())
        .map(|k| str_col(&a, k))
        .collect::<Result<_>>()?;
    build_strings(args, rows, |i| {
        let Some(k) = opt_int(idx, i) else {
            return Ok(None);
        };
        match usize::try_from(k)
            .ok()
            .filter(|&k| k >= 1 && k <= inputs.len())
        {
            Some(k) => Ok(inputs.get(k - 1).and_then(|c| opt_str(c, i))),
            None if ctx.ansi => Err(EngineError::execution(
                "INVALID_ARRAY_INDEX",
                format!(
                    "The index {k} is out of bounds. The array has {} elements. Use the SQL function `get()` to tolerate accessing element at invalid index and return NULL instead. SQLSTATE: 22003",
                    inputs.len()
                ),
            )),
            None => Ok(None),
        }
    })
}

/// `find_in_set(str, list)`: the 1-based position of `str` in the comma-separated `list`,
/// 0 when absent or when `str` contains a comma.
fn eval_find_in_set(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let (s, list) = (str_col(&a, 0)?, str_col(&a, 1)?);
    build_ints(args, rows, |i| {
        let (Some(s), Some(list)) = (opt_str(s, i), opt_str(list, i)) else {
            return Ok(None);
        };
        if s.contains(',') {
            return Ok(Some(0));
        }
        let pos = list.split(',').position(|x| x == s);
        Ok(Some(
            pos.map_or(0, |p| i32::try_from(p + 1).unwrap_or(i32::MAX)),
        ))
    })
}

/// The functions of this module, for the registry.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let s = SimpleFunction::new;
    let mut v = Vec::new();
    v.extend(s("left", (2, 2), string_then_ints, ret_string, eval_left).entries(&[]));
    v.extend(s("right", (2, 2), string_then_ints, ret_string, eval_right).entries(&[]));
    v.extend(
        s(
            "substring_index",
            (3, 3),
            strings_int_third,
            ret_string,
            eval_substring_index,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "split_part",
            (3, 3),
            strings_int_third,
            ret_string,
            eval_split_part,
        )
        .entries(&[]),
    );
    v.extend(s("translate", (3, 3), all_strings, ret_string, eval_translate).entries(&[]));
    v.extend(s("btrim", (1, 2), all_strings, ret_string, eval_btrim).entries(&[]));
    v.extend(
        s(
            "space",
            (1, 1),
            |n, a| a.iter().map(|t| want_int(n, 1, t)).collect(),
            ret_string,
            eval_space,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "elt",
            (2, usize::MAX),
            |n, a| strings_with_ints_at(n, a, &[0]),
            ret_string,
            eval_elt,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "find_in_set",
            (2, 2),
            all_strings,
            ret_int,
            eval_find_in_set,
        )
        .entries(&[]),
    );
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substring_index_counts_overlapping_matches_like_spark() {
        assert_eq!(substring_index("aaa", "aa", 2), "a");
        assert_eq!(substring_index("aaa", "aa", -2), "a");
        assert_eq!(substring_index("a.b.c", ".", 2), "a.b");
        assert_eq!(substring_index("a.b.c", ".", -2), "b.c");
        assert_eq!(substring_index("a.b.c", ".", -5), "a.b.c");
        assert_eq!(substring_index("a.b.c", "", 1), "");
        assert_eq!(substring_index("日.本.語", ".", -1), "語");
    }
}
