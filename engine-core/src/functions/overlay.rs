//! `overlay(input, replace, pos[, len])` (also `OVERLAY(input PLACING replace FROM pos [FOR
//! len])`): Spark's `Overlay`, `input`'s first `pos - 1` characters (bytes for BINARY), then
//! `replace`, then `input` from `pos + len` on; `len` defaults to -1, meaning the length of
//! `replace`. Both halves are taken with `substring`'s rules, so a `pos` before the start
//! or past the end puts `replace` at that end.

use std::sync::Arc;

use arrow::array::{Array, AsArray, BinaryArray, StringArray};
use arrow::datatypes::{DataType, Int32Type};

use super::string::{SimpleFunction, arrays, castable_to_string, rows, substring_sql, wrap};
use super::{FunctionContext, ScalarFunction, unexpected_input_type};
use crate::Result;
use crate::expr::columnar::ColumnarValue;

/// `substringSQL` on bytes.
fn sub_bytes(b: &[u8], pos: i32, len: i32) -> &[u8] {
    let n = b.len() as i64;
    let start = match pos {
        p if p > 0 => i64::from(p) - 1,
        p if p < 0 => n + i64::from(p),
        _ => 0,
    };
    let end = (start + i64::from(len)).min(n);
    let start = start.max(0);
    if start >= end {
        return &[];
    }
    b.get(start as usize..end as usize).unwrap_or_default()
}

/// Where the part of `input` after `replace` starts (1-based), as Spark computes it.
fn suffix_pos(pos: i32, len: i32, replace_len: usize) -> i32 {
    let skip = if len >= 0 {
        len
    } else {
        i32::try_from(replace_len).unwrap_or(i32::MAX)
    };
    pos.saturating_add(skip)
}

fn coerce(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    let binary = a[0] == DataType::Binary && a[1] == DataType::Binary;
    let text = if binary {
        DataType::Binary
    } else {
        DataType::Utf8
    };
    let mut out = Vec::with_capacity(a.len());
    for (i, t) in a.iter().take(2).enumerate() {
        if !(binary || castable_to_string(t) || *t == DataType::Null) {
            return Err(unexpected_input_type(
                name,
                i + 1,
                "(\"STRING\" or \"BINARY\")",
                t,
            ));
        }
        out.push(text.clone());
    }
    for (i, t) in a.iter().enumerate().skip(2) {
        if !(crate::types::is_numeric(t) || *t == DataType::Null || crate::types::is_string(t)) {
            return Err(unexpected_input_type(name, i + 1, "\"INT\"", t));
        }
        out.push(DataType::Int32);
    }
    Ok(out)
}

fn eval(_: &str, args: &[ColumnarValue], n: usize, _: &FunctionContext) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let pos = a[2].as_primitive::<Int32Type>();
    let len = a.get(3).map(|l| l.as_primitive::<Int32Type>());
    let null = |i: usize| {
        a[0].is_null(i) || a[1].is_null(i) || pos.is_null(i) || len.is_some_and(|l| l.is_null(i))
    };
    let len_at = |i: usize| len.map_or(-1, |l| l.value(i));
    if a[0].data_type() == &DataType::Binary {
        let (input, replace) = (a[0].as_binary::<i32>(), a[1].as_binary::<i32>());
        let out: BinaryArray = (0..rows)
            .map(|i| {
                if null(i) {
                    return None;
                }
                let (s, r, p) = (input.value(i), replace.value(i), pos.value(i));
                let mut v = sub_bytes(s, 1, p.saturating_sub(1)).to_vec();
                v.extend_from_slice(r);
                v.extend_from_slice(sub_bytes(s, suffix_pos(p, len_at(i), r.len()), i32::MAX));
                Some(v)
            })
            .collect();
        return wrap(args, Arc::new(out));
    }
    let (input, replace) = (a[0].as_string::<i32>(), a[1].as_string::<i32>());
    let out: StringArray = (0..rows)
        .map(|i| {
            if null(i) {
                return None;
            }
            let (s, r, p) = (input.value(i), replace.value(i), pos.value(i));
            let rest = suffix_pos(p, len_at(i), r.chars().count());
            Some(format!(
                "{}{r}{}",
                substring_sql(s, 1, p.saturating_sub(1)),
                substring_sql(s, rest, i32::MAX)
            ))
        })
        .collect();
    wrap(args, Arc::new(out))
}

/// The registry entry.
pub(crate) fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    SimpleFunction::new("overlay", (3, 4), coerce, |a| Ok(a[0].clone()), eval).entries(&[])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn overlay(s: &str, r: &str, pos: i32, len: i32) -> String {
        let rest = suffix_pos(pos, len, r.chars().count());
        format!(
            "{}{r}{}",
            substring_sql(s, 1, pos.saturating_sub(1)),
            substring_sql(s, rest, i32::MAX)
        )
    }

    #[test]
    fn overlay_follows_spark() {
        // PySpark 4.3's results.
        assert_eq!(overlay("SparkSQL", "_", 6, -1), "Spark_QL");
        assert_eq!(overlay("SparkSQL", "CORE", 7, -1), "SparkSCORE");
        assert_eq!(overlay("SparkSQL", "ANSI ", 7, 0), "SparkSANSI QL");
        assert_eq!(overlay("SparkSQL", "tructured", 2, 4), "StructuredSQL");
        assert_eq!(overlay("abc", "x", -1, -1), "xabc");
        assert_eq!(overlay("abc", "x", 10, -1), "abcx");
        assert_eq!(overlay("abc", "xy", 2, -1), "axy");
        assert_eq!(overlay("abc", "x", 0, -1), "xabc");
        assert_eq!(overlay("abc", "", 2, 1), "ac");
        assert_eq!(overlay("héllo", "É", 2, 1), "hÉllo");
        assert_eq!(overlay("abc", "x", 2, 10), "ax");
        assert_eq!(sub_bytes(b"abc", 1, 1), b"a");
        assert_eq!(sub_bytes(b"abc", 3, i32::MAX), b"c");
    }
}
