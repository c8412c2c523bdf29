//! Character codes, byte sizes, predicates and distances of strings: `ascii`, `chr`/`char`,
//! `octet_length`, `bit_length`, `startswith`, `endswith`, `contains`, `levenshtein`,
//! `soundex`.

use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanBuilder};
use arrow::datatypes::{DataType, Int64Type};

use super::bytes::{ByteRows, is_byte_like};
use super::string::{
    SimpleFunction, all_strings, arrays, ret_int, ret_string, rows, strings_int_third, want_string,
};
use super::string_extra::{build_ints, build_strings, int_col, opt_int, opt_str, str_col};
use super::{FunctionContext, ScalarFunction, unexpected_input_type};
use crate::expr::columnar::ColumnarValue;
use crate::{EngineError, Result};

/// `ascii(str)`: the code point of the first character, 0 for `''`.
fn eval_ascii(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let s = str_col(&a, 0)?;
    build_ints(args, rows, |i| {
        // Code points are below 0x110000, so they fit an INT.
        Ok(opt_str(s, i).map(|v| v.chars().next().map_or(0, |c| u32::from(c) as i32)))
    })
}

/// Spark's `UTF8String.soundex`: the American Soundex code of a string starting with an
/// ASCII letter (H and W skipped, other non-letters reset the last code); anything else is
/// returned as it is.
fn soundex(s: &str) -> String {
    // The code of each letter A..Z; '7' marks H and W, which are skipped.
    const CODES: &[u8; 26] = b"01230127022455012623017202";
    let b = s.as_bytes();
    let Some(first) = b
        .first()
        .map(u8::to_ascii_uppercase)
        .filter(u8::is_ascii_uppercase)
    else {
        return s.to_string();
    };
    let code = |c: u8| CODES.get(usize::from(c - b'A')).copied().unwrap_or(b'0');
    let mut out = vec![first, b'0', b'0', b'0'];
    let mut at = 1;
    let mut last = code(first);
    for &c in &b[1..] {
        let c = c.to_ascii_uppercase();
        if !c.is_ascii_uppercase() {
            last = b'0';
            continue;
        }
        let k = code(c);
        if k == b'7' {
            continue;
        }
        if k != b'0' && k != last {
            out[at] = k;
            at += 1;
            if at > 3 {
                break;
            }
        }
        last = k;
    }
    String::from_utf8(out).unwrap_or_default()
}

fn eval_soundex(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let s = str_col(&a, 0)?;
    build_strings(args, rows, |i| Ok(opt_str(s, i).map(soundex)))
}

/// `chr(n)`: the character `n mod 256` (Latin-1), `''` for negative `n`.
fn eval_chr(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let c = a
        .first()
        .and_then(|c| c.as_primitive_opt::<Int64Type>())
        .ok_or_else(|| EngineError::Internal("chr argument is not a BIGINT column".into()))?;
    build_strings(args, rows, |i| {
        Ok(c.is_valid(i).then(|| {
            let v = c.value(i);
            if v < 0 {
                String::new()
            } else {
                // `v & 0xff` fits a byte; Latin-1 bytes are the first 256 code points.
                char::from((v & 0xff) as u8).to_string()
            }
        }))
    })
}

/// `chr` takes a BIGINT; integral numbers and strings convert implicitly.
fn coerce_chr(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    args.iter()
        .map(|t| {
            if crate::types::is_numeric(t) || crate::types::is_string(t) || t == &DataType::Null {
                Ok(DataType::Int64)
            } else {
                Err(unexpected_input_type(name, 1, "\"BIGINT\"", t))
            }
        })
        .collect()
}

/// STRING or BINARY, as they are; other atomic types become STRING.
fn coerce_bytes_or_string(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    args.iter()
        .enumerate()
        .map(|(i, t)| {
            if is_byte_like(t) {
                Ok(t.clone())
            } else {
                want_string(name, i + 1, t)
            }
        })
        .collect()
}

/// The byte length of each row times `scale` (1: `octet_length`, 8: `bit_length`).
fn byte_lengths(args: &[ColumnarValue], n: usize, scale: i64) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let input = ByteRows::new(a[0].as_ref())?;
    build_ints(args, rows, |i| {
        Ok(input.get(i).map(|b| {
            let len = i64::try_from(b.len())
                .unwrap_or(i64::MAX)
                .saturating_mul(scale);
            i32::try_from(len).unwrap_or(i32::MAX)
        }))
    })
}

fn eval_octet_length(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    byte_lengths(args, n, 1)
}

fn eval_bit_length(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    byte_lengths(args, n, 8)
}

/// Both BINARY (or NULL): compared as bytes; otherwise both STRING.
fn coerce_predicate(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    let binary =
        |t: &DataType| matches!(t, DataType::Binary | DataType::LargeBinary | DataType::Null);
    if args.iter().all(binary) && args.iter().any(|t| t != &DataType::Null) {
        return Ok(vec![DataType::Binary; args.len()]);
    }
    all_strings(name, args)
}

/// A byte-wise predicate of two columns; NULL in, NULL out.
fn byte_predicate(
    args: &[ColumnarValue],
    n: usize,
    f: fn(&[u8], &[u8]) -> bool,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let (l, r) = (ByteRows::new(a[0].as_ref())?, ByteRows::new(a[1].as_ref())?);
    let mut b = BooleanBuilder::with_capacity(rows);
    for i in 0..rows {
        b.append_option(l.get(i).zip(r.get(i)).map(|(x, y)| f(x, y)));
    }
    super::string::wrap(args, Arc::new(b.finish()))
}

fn eval_startswith(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    byte_predicate(args, n, |x, y| x.starts_with(y))
}

fn eval_endswith(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    byte_predicate(args, n, |x, y| x.ends_with(y))
}

fn eval_contains(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    byte_predicate(args, n, |x, y| memchr::memmem::find(x, y).is_some())
}

/// Levenshtein distance over characters; with `threshold`, -1 once it is exceeded (and for
/// a negative threshold), as Spark's `UTF8String.levenshteinDistance`.
pub(crate) fn levenshtein(a: &str, b: &str, threshold: Option<i32>) -> i32 {
    if threshold.is_some_and(|t| t < 0) {
        return -1;
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0usize; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j + 1] + 1).min(cur[j] + 1).min(prev[j] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = i32::try_from(prev[b.len()]).unwrap_or(i32::MAX);
    match threshold {
        Some(t) if d > t => -1,
        _ => d,
    }
}

fn eval_levenshtein(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let (l, r) = (str_col(&a, 0)?, str_col(&a, 1)?);
    let t = if a.len() > 2 {
        Some(int_col(&a, 2)?)
    } else {
        None
    };
    build_ints(args, rows, |i| {
        let threshold = match t {
            Some(t) => match opt_int(t, i) {
                Some(v) => Some(v),
                None => return Ok(None),
            },
            None => None,
        };
        Ok(opt_str(l, i)
            .zip(opt_str(r, i))
            .map(|(x, y)| levenshtein(x, y, threshold)))
    })
}

/// The functions of this module, for the registry.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let s = SimpleFunction::new;
    let one = (1, 1);
    let boolean = |_: &[DataType]| Ok(DataType::Boolean);
    let mut v = Vec::new();
    v.extend(s("ascii", one, all_strings, ret_int, eval_ascii).entries(&[]));
    v.extend(s("soundex", one, all_strings, ret_string, eval_soundex).entries(&[]));
    v.extend(s("chr", one, coerce_chr, ret_string, eval_chr).entries(&["char"]));
    v.extend(
        s(
            "octet_length",
            one,
            coerce_bytes_or_string,
            ret_int,
            eval_octet_length,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "bit_length",
            one,
            coerce_bytes_or_string,
            ret_int,
            eval_bit_length,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "startswith",
            (2, 2),
            coerce_predicate,
            boolean,
            eval_startswith,
        )
        .entries(&[]),
    );
    v.extend(s("endswith", (2, 2), coerce_predicate, boolean, eval_endswith).entries(&[]));
    v.extend(s("contains", (2, 2), coerce_predicate, boolean, eval_contains).entries(&[]));
    v.extend(
        s(
            "levenshtein",
            (2, 3),
            strings_int_third,
            ret_int,
            eval_levenshtein,
        )
        .entries(&[]),
    );
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levenshtein_counts_characters_and_honours_threshold() {
        assert_eq!(levenshtein("kitten", "sitting", None), 3);
        assert_eq!(levenshtein("kitten", "sitting", Some(3)), 3);
        assert_eq!(levenshtein("kitten", "sitting", Some(2)), -1);
        assert_eq!(levenshtein("", "", Some(-1)), -1);
        assert_eq!(levenshtein("😀a", "a", None), 1);
    }

    #[test]
    fn soundex_is_sparks() {
        // PySpark 4.3's results.
        for (input, want) in [
            ("Robert", "R163"),
            ("Rupert", "R163"),
            ("", ""),
            ("123", "123"),
            ("Tymczak", "T522"),
            ("Pfister", "P236"),
            ("ashcraft", "A261"),
            ("éa", "éa"),
            ("a1b", "A100"),
        ] {
            assert_eq!(soundex(input), want, "{input}");
        }
    }
}
