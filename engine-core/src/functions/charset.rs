//! Text and bytes in named charsets: `encode(str, charset)`, `decode(bin, charset)`,
//! `to_binary(str[, fmt])` and `try_to_binary`; also `decode`'s other form,
//! `decode(expr, search, result [, search, result]... [, default])`, which the analyzer
//! turns into a `CASE` (three or more arguments, as Spark's `Decode` decides).
//!
//! Spark 4 accepts only the charsets listed in [`CHARSETS`] and fails on unmappable or
//! malformed text (`MALFORMED_CHARACTER_CODING`) instead of replacing it.

use std::sync::Arc;

use arrow::array::BinaryBuilder;
use arrow::datatypes::DataType;

use super::bytes::ByteRows;
use super::encoding::unbase64_mime;
use super::string::{SimpleFunction, all_strings, arrays, rows, scalar_string, want_string, wrap};
use super::string_extra::{build_strings, opt_str, str_col};
use super::{FunctionContext, ScalarFunction, unexpected_input_type, wrong_num_args};
use crate::expr::coercion::common_type_for;
use crate::expr::columnar::ColumnarValue;
use crate::{EngineError, Result};

/// The charsets Spark 4 accepts (`spark.sql.legacy.javaCharsets` off), lower case.
const CHARSETS: [&str; 7] = [
    "iso-8859-1",
    "us-ascii",
    "utf-16",
    "utf-16be",
    "utf-16le",
    "utf-32",
    "utf-8",
];

fn invalid_charset(func: &str, got: &str) -> EngineError {
    EngineError::execution(
        "INVALID_PARAMETER_VALUE.CHARSET",
        format!(
            "The value of parameter(s) `charset` in `{func}` is invalid: expects one of the {}, but got {got}. SQLSTATE: 22023",
            CHARSETS.join(", ")
        ),
    )
}

fn malformed(func: &str, charset: &str) -> EngineError {
    EngineError::execution(
        "MALFORMED_CHARACTER_CODING",
        format!("Invalid value found when performing `{func}` with {charset} SQLSTATE: 22000"),
    )
}

/// The charset named `name` (case-insensitive), or Spark's error.
fn charset(func: &str, name: &str) -> Result<&'static str> {
    let lower = name.to_ascii_lowercase();
    CHARSETS
        .iter()
        .find(|c| **c == lower)
        .copied()
        .ok_or_else(|| invalid_charset(func, name))
}

/// `s` in `charset` as Java's `String.getBytes` with REPORT on unmappable characters.
fn encode_text(s: &str, charset: &str) -> Option<Vec<u8>> {
    let utf16 = |big: bool, bom: bool| {
        let mut out = Vec::with_capacity(s.len() * 2 + 2);
        if bom {
            out.extend([0xfe, 0xff]);
        }
        for u in s.encode_utf16() {
            out.extend(if big {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            });
        }
        out
    };
    Some(match charset {
        "utf-8" => s.as_bytes().to_vec(),
        "utf-16" => utf16(true, true),
        "utf-16be" => utf16(true, false),
        "utf-16le" => utf16(false, false),
        "utf-32" => s.chars().flat_map(|c| u32::from(c).to_be_bytes()).collect(),
        "us-ascii" => s
            .chars()
            .map(|c| u8::try_from(u32::from(c)).ok().filter(u8::is_ascii))
            .collect::<Option<Vec<u8>>>()?,
        _ => s
            .chars()
            .map(|c| u8::try_from(u32::from(c)).ok())
            .collect::<Option<Vec<u8>>>()?,
    })
}

/// `b` read as `charset` text, `None` when malformed (Java's REPORT action).
fn decode_bytes(b: &[u8], charset: &str) -> Option<String> {
    let utf16 = |b: &[u8], big: bool| -> Option<String> {
        if !b.len().is_multiple_of(2) {
            return None;
        }
        let units = b.chunks_exact(2).map(|p| {
            let pair = [p[0], p[1]];
            if big {
                u16::from_be_bytes(pair)
            } else {
                u16::from_le_bytes(pair)
            }
        });
        char::decode_utf16(units)
            .collect::<std::result::Result<String, _>>()
            .ok()
    };
    match charset {
        "utf-8" => std::str::from_utf8(b).ok().map(str::to_string),
        // A byte-order mark picks the order (and is dropped); big-endian without one.
        "utf-16" => match b {
            [0xfe, 0xff, rest @ ..] => utf16(rest, true),
            [0xff, 0xfe, rest @ ..] => utf16(rest, false),
            _ => utf16(b, true),
        },
        "utf-16be" => utf16(b, true),
        "utf-16le" => utf16(b, false),
        "utf-32" => {
            if !b.len().is_multiple_of(4) {
                return None;
            }
            b.chunks_exact(4)
                .map(|q| char::from_u32(u32::from_be_bytes([q[0], q[1], q[2], q[3]])))
                .collect()
        }
        "us-ascii" => b
            .iter()
            .map(|c| c.is_ascii().then_some(char::from(*c)))
            .collect(),
        _ => Some(b.iter().map(|c| char::from(*c)).collect()),
    }
}

/// The charset argument of row `i`: one constant or one per row.
fn charset_at(a: &[arrow::array::ArrayRef], i: usize) -> Result<Option<&str>> {
    Ok(opt_str(str_col(a, 1)?, i))
}

fn eval_encode(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let s = str_col(&a, 0)?;
    let mut b = BinaryBuilder::with_capacity(rows, rows * 8);
    for i in 0..rows {
        match (opt_str(s, i), charset_at(&a, i)?) {
            (Some(v), Some(name)) => {
                let cs = charset("encode", name)?;
                b.append_value(encode_text(v, cs).ok_or_else(|| malformed("encode", name))?);
            }
            _ => b.append_null(),
        }
    }
    wrap(args, Arc::new(b.finish()))
}

fn eval_decode_charset(args: &[ColumnarValue], n: usize) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let input = ByteRows::new(a[0].as_ref())?;
    build_strings(args, rows, |i| match (input.get(i), charset_at(&a, i)?) {
        (Some(v), Some(name)) => {
            let cs = charset("decode", name)?;
            decode_bytes(v, cs)
                .map(Some)
                .ok_or_else(|| malformed("decode", name))
        }
        _ => Ok(None),
    })
}

/// `decode`: two arguments decode bytes; more are the CASE-like form, which the analyzer
/// rewrites before it runs.
fn eval_decode(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    if args.len() == 2 {
        return eval_decode_charset(args, n);
    }
    Err(EngineError::Internal(
        "decode(expr, search, result, ...) is planned as CASE".into(),
    ))
}

/// `decode(bin, charset)`: BINARY (strings convert) and a STRING charset;
/// `decode(expr, search, result, ...)`: `expr` and every search to their common type, the
/// results and the default to theirs. Without a default Spark's is a STRING NULL, which
/// takes part in the result type (`decode(1, 1, 2)` is a BIGINT under ANSI).
fn coerce_decode(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    if args.len() < 2 {
        return Err(wrong_num_args(name, "2", args.len()));
    }
    if args.len() == 2 {
        let bin = match &args[0] {
            DataType::Binary | DataType::Null => DataType::Binary,
            t if crate::types::is_string(t) => DataType::Binary,
            t => return Err(unexpected_input_type(name, 1, "\"BINARY\"", t)),
        };
        return Ok(vec![bin, want_string(name, 2, &args[1])?]);
    }
    let searches: Vec<DataType> = std::iter::once(args[0].clone())
        .chain(
            args[1..]
                .chunks(2)
                .filter(|c| c.len() == 2)
                .map(|c| c[0].clone()),
        )
        .collect();
    let mut results: Vec<DataType> = args[1..]
        .chunks(2)
        .map(|c| c.get(1).unwrap_or(&c[0]).clone())
        .collect();
    if !args.len().is_multiple_of(2) {
        // No default: Spark's is a STRING NULL.
        results.push(DataType::Utf8);
    }
    let key = common_type_for(name, &searches, true)?;
    let value = common_type_for(name, &results, true)?;
    let mut out = vec![key.clone()];
    for c in args[1..].chunks(2) {
        if c.len() == 2 {
            out.push(key.clone());
        }
        out.push(value.clone());
    }
    Ok(out)
}

fn ret_decode(args: &[DataType]) -> Result<DataType> {
    if args.len() == 2 {
        return Ok(DataType::Utf8);
    }
    Ok(args.get(2).cloned().unwrap_or(DataType::Utf8))
}

/// The `CASE` Spark's `decode(expr, search, result, ...)` stands for: `expr <=> search`
/// picks the result, in order; the default (NULL when absent) otherwise.
pub(crate) fn decode_as_case(mut args: Vec<crate::expr::Expr>) -> crate::expr::Expr {
    use crate::expr::{BinaryOperator, Expr};
    let otherwise = args.len().is_multiple_of(2).then(|| args.pop()).flatten();
    let mut it = args.into_iter();
    let first = it
        .next()
        .unwrap_or(Expr::Literal(crate::scalar::ScalarValue::Null));
    let rest: Vec<Expr> = it.collect();
    let branches = rest
        .chunks(2)
        .filter_map(|c| match c {
            [s, r] => Some((
                Expr::BinaryOp {
                    left: Box::new(first.clone()),
                    op: BinaryOperator::NullSafeEq,
                    right: Box::new(s.clone()),
                },
                r.clone(),
            )),
            _ => None,
        })
        .collect();
    Expr::Case {
        operand: None,
        branches,
        otherwise: otherwise.map(Box::new),
    }
}

/// How `to_binary` reads its string.
#[derive(Debug, Clone, Copy, PartialEq)]
enum BinaryFormat {
    Hex,
    Utf8,
    Base64,
}

fn binary_format(fmt: &str) -> Option<BinaryFormat> {
    match fmt.to_ascii_lowercase().as_str() {
        "hex" => Some(BinaryFormat::Hex),
        "utf-8" | "utf8" => Some(BinaryFormat::Utf8),
        "base64" => Some(BinaryFormat::Base64),
        _ => None,
    }
}

/// Hex digits (an odd count gets a leading zero, as Spark's `unhex`), `None` if malformed.
fn unhex(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s
        .bytes()
        .map(|b| {
            char::from(b)
                .to_digit(16)
                .and_then(|d| u8::try_from(d).ok())
        })
        .collect::<Option<_>>()?;
    let mut out = Vec::with_capacity(digits.len() / 2 + 1);
    let mut it = digits.iter();
    if digits.len() % 2 == 1 {
        out.push(*it.next()?);
    }
    while let (Some(h), Some(l)) = (it.next(), it.next()) {
        out.push(h * 16 + l);
    }
    Some(out)
}

/// Spark's strict base64 check for `to_binary`: base64 characters (whitespace between
/// them allowed), then at most the padding that completes the last quantum.
fn valid_base64(s: &str) -> bool {
    let (mut chars, mut pad) = (0usize, 0usize);
    for c in s.chars() {
        if c == '=' {
            pad += 1;
        } else if pad > 0 {
            return false;
        } else if c.is_ascii_alphanumeric() || c == '+' || c == '/' {
            chars += 1;
        } else if !c.is_whitespace() {
            return false;
        }
    }
    match pad {
        0 => chars % 4 != 1,
        1 => chars % 4 == 3,
        2 => chars % 4 == 2,
        _ => false,
    }
}

fn to_binary_error(v: &str, fmt: BinaryFormat) -> EngineError {
    let name = match fmt {
        BinaryFormat::Hex => "HEX",
        BinaryFormat::Utf8 => "UTF-8",
        BinaryFormat::Base64 => "BASE64",
    };
    EngineError::execution(
        "CONVERSION_INVALID_INPUT",
        format!(
            "The value '{v}' ('{name}') cannot be converted to \"BINARY\" because it is malformed. Correct the value as per the syntax, or change its format. Use `try_to_binary` to tolerate malformed input and return NULL instead. SQLSTATE: 22018"
        ),
    )
}

fn bad_format(name: &str, fmt: &str) -> EngineError {
    EngineError::analysis(
        "DATATYPE_MISMATCH.INVALID_ARG_VALUE",
        format!(
            "Cannot resolve \"{name}\" due to data type mismatch: The fmt value must to be a case-insensitive \"STRING\" literal of 'hex', 'utf-8', 'utf8', or 'base64', but got {fmt}. SQLSTATE: 42K09"
        ),
    )
}

fn non_foldable(name: &str) -> EngineError {
    EngineError::analysis(
        "DATATYPE_MISMATCH.NON_FOLDABLE_INPUT",
        format!(
            "Cannot resolve \"{name}\" due to data type mismatch: the input `fmt` should be a foldable \"STRING\" expression. SQLSTATE: 42K09"
        ),
    )
}

/// `to_binary` (`fail`) and `try_to_binary`: the format is a constant; NULL format, NULL
/// result; an unknown format fails `to_binary` and makes `try_to_binary` NULL.
fn to_binary(name: &str, args: &[ColumnarValue], n: usize, fail: bool) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let fmt = match args.get(1) {
        None => Some(BinaryFormat::Hex),
        Some(arg) => {
            let Some(text) = scalar_string(arg) else {
                return Err(non_foldable(name));
            };
            match text {
                None => None,
                Some(t) => match binary_format(&t) {
                    Some(f) => Some(f),
                    None if fail => return Err(bad_format(name, &t)),
                    None => None,
                },
            }
        }
    };
    let a = arrays(args, rows)?;
    let s = str_col(&a, 0)?;
    let mut b = BinaryBuilder::with_capacity(rows, rows * 8);
    for i in 0..rows {
        let (Some(v), Some(f)) = (opt_str(s, i), fmt) else {
            b.append_null();
            continue;
        };
        let out = match f {
            BinaryFormat::Utf8 => Some(v.as_bytes().to_vec()),
            BinaryFormat::Hex => unhex(v),
            BinaryFormat::Base64 => valid_base64(v)
                .then(|| unbase64_mime(v.as_bytes()).ok())
                .flatten(),
        };
        match out {
            Some(bytes) => b.append_value(bytes),
            None if fail => return Err(to_binary_error(v, f)),
            None => b.append_null(),
        }
    }
    wrap(args, Arc::new(b.finish()))
}

fn eval_to_binary(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    to_binary(name, args, n, true)
}

fn eval_try_to_binary(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    to_binary(name, args, n, false)
}

fn ret_binary(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Binary)
}

/// The registry entries.
pub(crate) fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let s = SimpleFunction::new;
    let mut v = Vec::new();
    v.extend(s("encode", (2, 2), all_strings, ret_binary, eval_encode).entries(&[]));
    v.extend(
        s(
            "decode",
            (2, usize::MAX),
            coerce_decode,
            ret_decode,
            eval_decode,
        )
        .entries(&[]),
    );
    v.extend(s("to_binary", (1, 2), all_strings, ret_binary, eval_to_binary).entries(&[]));
    v.extend(
        s(
            "try_to_binary",
            (1, 2),
            all_strings,
            ret_binary,
            eval_try_to_binary,
        )
        .entries(&[]),
    );
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charsets_round_trip_and_report_unmappable() {
        for cs in CHARSETS {
            let text = if cs == "us-ascii" { "abc" } else { "aé" };
            let b = encode_text(text, cs).unwrap();
            assert_eq!(decode_bytes(&b, cs).as_deref(), Some(text), "{cs}");
        }
        assert_eq!(encode_text("é", "utf-16").unwrap(), [0xfe, 0xff, 0, 0xe9]);
        assert_eq!(
            decode_bytes(&[0xff, 0xfe, 0xe9, 0], "utf-16").as_deref(),
            Some("é")
        );
        assert!(encode_text("é", "us-ascii").is_none());
        assert!(encode_text("€", "iso-8859-1").is_none());
        assert!(decode_bytes(&[0xff], "utf-8").is_none());
    }

    #[test]
    fn hex_and_base64_follow_spark() {
        assert_eq!(unhex("abc").unwrap(), [0x0a, 0xbc]);
        assert_eq!(unhex("").unwrap(), Vec::<u8>::new());
        assert!(unhex("zz").is_none() && unhex(" 61").is_none());
        for ok in ["YWI", "YWI=", "YQ", "YQ==", "", "YW Jj", "YR"] {
            assert!(valid_base64(ok), "{ok}");
        }
        for bad in ["YWJj=", "YQ=", "Y Q = =", "YQ==YQ==", "a*bc", "a"] {
            assert!(!valid_base64(bad), "{bad}");
        }
    }
}
