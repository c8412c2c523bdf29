//! More regular-expression functions: `regexp_count`, `regexp_extract_all`,
//! `regexp_substr`, `regexp_like`/`regexp`.
//!
//! Patterns compile once per distinct pattern (see `RegexCache`); a bad pattern is Spark's
//! `INVALID_PARAMETER_VALUE.PATTERN`.

use std::sync::Arc;

use arrow::array::{BooleanArray, GenericListBuilder, Int32Array, StringArray, StringBuilder};
use arrow::datatypes::{DataType, Field};
use regex::{Captures, Regex};

use super::string::{
    RegexCache, SimpleFunction, all_strings, arrays, ret_int, rows, scalar_string,
    strings_int_third, wrap,
};
use super::string_extra::{int_col, opt_int, opt_str, str_col};
use super::{FunctionContext, ScalarFunction};
use crate::expr::columnar::ColumnarValue;
use crate::types::list_of;
use crate::{EngineError, Result};

/// Every match of `re` in `s` as Java's `Matcher.find` loop reports them: after an empty
/// match the search moves on one character, and an empty match right after a non-empty
/// one counts (the regex crate's iterators skip it: `a*` in `aaa` matches twice in Java).
fn java_captures<'s>(re: &Regex, s: &'s str) -> Vec<Captures<'s>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos <= s.len() {
        let Some(c) = re.captures_at(s, pos) else {
            break;
        };
        let Some(m) = c.get(0) else {
            break;
        };
        pos = if m.is_empty() {
            // Step over the next character (1 to 4 bytes), or past the end.
            m.end()
                + s.get(m.end()..)
                    .and_then(|r| r.chars().next())
                    .map_or(1, char::len_utf8)
        } else {
            m.end()
        };
        out.push(c);
    }
    out
}

/// `f` of every row's compiled pattern and string; NULL when either is NULL.
fn per_row<T>(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    mut f: impl FnMut(&Regex, &str) -> Option<T>,
) -> Result<Vec<Option<T>>> {
    let rows = rows(args, n);
    let mut cache = RegexCache::new(name, scalar_string(&args[1]))?;
    let a = arrays(args, rows)?;
    let (s, p) = (str_col(&a, 0)?, str_col(&a, 1)?);
    (0..rows)
        .map(|i| match (opt_str(s, i), opt_str(p, i)) {
            (Some(s), Some(p)) => Ok(f(cache.get(p)?, s)),
            _ => Ok(None),
        })
        .collect()
}

/// `regexp_count(str, regexp)`: how many times the pattern matches.
fn eval_regexp_count(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let counts = per_row(name, args, n, |re, s| {
        Some(i32::try_from(java_captures(re, s).len()).unwrap_or(i32::MAX))
    })?;
    wrap(args, Arc::new(counts.into_iter().collect::<Int32Array>()))
}

/// `regexp_instr(str, regexp [, idx])`: the 1-based character position where the first
/// match starts, 0 when there is none. Spark 4 takes the group index but reports the whole
/// match's start whatever it is (pinned: `regexp_instr('abc', '(b)(c)', 2)` is 2).
fn eval_regexp_instr(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let found = per_row(name, args, n, |re, s| {
        let at = re.find(s).map_or(0, |m| {
            s.get(..m.start()).map_or(0, |p| p.chars().count()) + 1
        });
        Some(i32::try_from(at).unwrap_or(i32::MAX))
    })?;
    wrap(args, Arc::new(found.into_iter().collect::<Int32Array>()))
}

/// `regexp_substr(str, regexp)`: the first match, NULL when there is none.
fn eval_regexp_substr(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let found = per_row(name, args, n, |re, s| {
        re.find(s).map(|m| m.as_str().to_string())
    })?;
    wrap(args, Arc::new(found.into_iter().collect::<StringArray>()))
}

/// `regexp_like(str, regexp)`: whether the pattern matches anywhere (as `RLIKE`).
fn eval_regexp_like(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let hits = per_row(name, args, n, |re, s| Some(re.is_match(s)))?;
    wrap(args, Arc::new(hits.into_iter().collect::<BooleanArray>()))
}

/// `regexp_extract_all(str, regexp [, idx])`: group `idx` (default 1) of every match; a
/// group that did not take part in a match is `''`. As in Spark, the group index is
/// checked only when something matches.
fn eval_regexp_extract_all(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let mut cache = RegexCache::new(name, scalar_string(&args[1]))?;
    let a = arrays(args, rows)?;
    let (s, p) = (str_col(&a, 0)?, str_col(&a, 1)?);
    let idx = if a.len() > 2 {
        Some(int_col(&a, 2)?)
    } else {
        None
    };
    let mut b = GenericListBuilder::<i32, StringBuilder>::new(StringBuilder::new())
        .with_field(Arc::new(Field::new("element", DataType::Utf8, true)));
    for i in 0..rows {
        let g = match idx {
            Some(c) => opt_int(c, i),
            None => Some(1),
        };
        let (Some(s), Some(p), Some(g)) = (opt_str(s, i), opt_str(p, i), g) else {
            b.append_null();
            continue;
        };
        let re = cache.get(p)?;
        let groups = re.captures_len().saturating_sub(1);
        for caps in java_captures(re, s) {
            let group = usize::try_from(g).ok().filter(|&g| g <= groups).ok_or_else(|| {
                EngineError::execution(
                    "INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX",
                    format!(
                        "The value of parameter(s) `idx` in `{name}` is invalid: Expects group index between 0 and {groups}, but got {g}. SQLSTATE: 22023"
                    ),
                )
            })?;
            b.values()
                .append_value(caps.get(group).map_or("", |m| m.as_str()));
        }
        b.append(true);
    }
    wrap(args, Arc::new(b.finish()))
}

/// The functions of this module, for the registry.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let s = SimpleFunction::new;
    let two = (2, 2);
    let mut v = Vec::new();
    v.extend(s("regexp_count", two, all_strings, ret_int, eval_regexp_count).entries(&[]));
    v.extend(
        s(
            "regexp_instr",
            (2, 3),
            strings_int_third,
            ret_int,
            eval_regexp_instr,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "regexp_substr",
            two,
            all_strings,
            |_| Ok(DataType::Utf8),
            eval_regexp_substr,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "regexp_like",
            two,
            all_strings,
            |_| Ok(DataType::Boolean),
            eval_regexp_like,
        )
        .entries(&["regexp"]),
    );
    v.extend(
        s(
            "regexp_extract_all",
            (2, 3),
            strings_int_third,
            |_| Ok(list_of(DataType::Utf8)),
            eval_regexp_extract_all,
        )
        .entries(&[]),
    );
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(p: &str, s: &str) -> usize {
        Regex::new(p).map_or(usize::MAX, |re| java_captures(&re, s).len())
    }

    #[test]
    fn matches_are_found_as_java_finds_them() {
        assert_eq!(count("a*", "aaa"), 2);
        assert_eq!(count("", "abc"), 4);
        assert_eq!(count("", "日本"), 3);
        assert_eq!(count("x*", "日"), 2);
        assert_eq!(count("b", "abcb"), 2);
    }
}
