//! Text encodings of bytes and URLs: `base64`, `unbase64`, `url_encode`, `url_decode`,
//! `try_url_decode`.
//!
//! Spark delegates to Java's MIME Base64 coder and `URLEncoder`/`URLDecoder`; their
//! leniencies and errors are reproduced here, so both engines accept the same inputs.

use std::sync::Arc;

use arrow::array::BinaryBuilder;
use arrow::datatypes::DataType;
use base64::Engine;

use super::bytes::{ByteRows, is_byte_like};
use super::string::{SimpleFunction, all_strings, arrays, ret_string, rows, wrap};
use super::string_extra::{build_strings, opt_str, str_col};
use super::{FunctionContext, ScalarFunction, unexpected_input_type};
use crate::expr::columnar::ColumnarValue;
use crate::{EngineError, Result};

/// Java's MIME encoder (what Spark's `base64` uses): lines of 76 characters joined by CRLF.
fn base64_mime(b: &[u8]) -> String {
    let plain = base64::engine::general_purpose::STANDARD.encode(b);
    if plain.len() <= 76 {
        return plain;
    }
    // The alphabet is ASCII, so every 76-byte chunk is valid UTF-8.
    plain
        .as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8_lossy(c))
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// The 6-bit value of a Base64 alphabet byte.
fn sextet(b: u8) -> Option<u32> {
    match b {
        b'A'..=b'Z' => Some(u32::from(b - b'A')),
        b'a'..=b'z' => Some(u32::from(b - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(b - b'0') + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Java's `Base64.getMimeDecoder().decode`: bytes outside the alphabet are skipped, `=`
/// ends the data (it must complete a unit correctly), and only skipped bytes may follow.
/// Hand-written because no decoder crate skips foreign bytes this way. Errors carry Java's
/// messages.
pub(crate) fn unbase64_mime(src: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(src.len() / 4 * 3 + 3);
    let (mut bits, mut shift): (u32, i32) = (0, 18);
    let mut sp = 0;
    while sp < src.len() {
        let b = src[sp];
        sp += 1;
        if b == b'=' {
            // `=` as the first of a unit, or `xx=` not followed by another `=`.
            let second_pad_ok = src.get(sp) == Some(&b'=');
            if shift == 18 || (shift == 6 && !second_pad_ok) {
                return Err("Input byte array has wrong 4-byte ending unit".into());
            }
            if shift == 6 {
                sp += 1;
            }
            break;
        }
        let Some(v) = sextet(b) else {
            continue;
        };
        bits |= v << shift;
        shift -= 6;
        if shift < 0 {
            out.extend_from_slice(&[(bits >> 16) as u8, (bits >> 8) as u8, bits as u8]);
            shift = 18;
            bits = 0;
        }
    }
    match shift {
        6 => out.push((bits >> 16) as u8),
        0 => out.extend_from_slice(&[(bits >> 16) as u8, (bits >> 8) as u8]),
        12 => return Err("Last unit does not have enough valid bits".into()),
        _ => {}
    }
    while sp < src.len() {
        let b = src[sp];
        sp += 1;
        if sextet(b).is_some() {
            return Err(format!(
                "Input byte array has incorrect ending byte at {sp}"
            ));
        }
    }
    Ok(out)
}

fn eval_base64(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let input = ByteRows::new(a[0].as_ref())?;
    build_strings(args, rows, |i| Ok(input.get(i).map(base64_mime)))
}

fn eval_unbase64(
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
        match opt_str(s, i) {
            // Spark lets Java's IllegalArgumentException through: it has no error class.
            Some(v) => b.append_value(
                unbase64_mime(v.as_bytes()).map_err(|m| EngineError::external("unbase64", m))?,
            ),
            None => b.append_null(),
        }
    }
    wrap(args, Arc::new(b.finish()))
}

/// Java's `URLEncoder.encode(s, UTF-8)`: letters, digits and `.-*_` stay, space becomes
/// `+`, every other byte `%XX`.
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for &b in s.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The value of a two-character `%XX` escape as Java's `Integer.parseInt(_, 16)` reads it
/// (a leading `+` is accepted; `-` gives a negative value, which the decoder refuses,
/// except `-0`, which is 0).
fn escape_value(h: &[char]) -> Option<u8> {
    let digit = |c: &char| c.to_digit(16);
    match h {
        ['+', d] => digit(d).and_then(|v| u8::try_from(v).ok()),
        ['-', '0'] => Some(0),
        [a, b] => Some(u8::try_from(digit(a)? * 16 + digit(b)?).ok()?),
        _ => None,
    }
}

/// Java's `URLDecoder.decode(s, UTF-8)`: `+` is a space, runs of `%XX` are UTF-8 bytes
/// (malformed ones become U+FFFD); a bad or incomplete escape is an error (`None`).
pub(crate) fn url_decode(s: &str) -> Option<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut bytes = Vec::new();
    while let Some(&c) = chars.get(i) {
        match c {
            '+' => {
                out.push(' ');
                i += 1;
            }
            '%' => {
                bytes.clear();
                while chars.get(i) == Some(&'%') && i + 2 < chars.len() {
                    bytes.push(escape_value(chars.get(i + 1..i + 3)?)?);
                    i += 3;
                }
                if chars.get(i) == Some(&'%') {
                    return None;
                }
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some(out)
}

fn eval_url_encode(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let s = str_col(&a, 0)?;
    build_strings(args, rows, |i| Ok(opt_str(s, i).map(url_encode)))
}

/// `url_decode` fails on a malformed escape; `try_url_decode` gives NULL instead (in
/// either ANSI mode, as in Spark).
fn eval_url_decode(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let s = str_col(&a, 0)?;
    let lenient = name == "try_url_decode";
    build_strings(args, rows, |i| {
        let Some(v) = opt_str(s, i) else {
            return Ok(None);
        };
        match url_decode(v) {
            Some(d) => Ok(Some(d)),
            None if lenient => Ok(None),
            None => Err(EngineError::execution(
                "CANNOT_DECODE_URL",
                format!(
                    "The provided URL cannot be decoded: {v}. Please ensure that the URL is properly formatted and try again. SQLSTATE: 22546"
                ),
            )),
        }
    })
}

/// `base64` takes BINARY; strings convert implicitly.
fn coerce_binary(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    args.iter()
        .map(|t| {
            if is_byte_like(t) {
                Ok(t.clone())
            } else {
                Err(unexpected_input_type(name, 1, "\"BINARY\"", t))
            }
        })
        .collect()
}

/// The functions of this module, for the registry.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let s = SimpleFunction::new;
    let one = (1, 1);
    let mut v = Vec::new();
    v.extend(s("base64", one, coerce_binary, ret_string, eval_base64).entries(&[]));
    v.extend(
        s(
            "unbase64",
            one,
            all_strings,
            |_| Ok(DataType::Binary),
            eval_unbase64,
        )
        .entries(&[]),
    );
    v.extend(s("url_encode", one, all_strings, ret_string, eval_url_encode).entries(&[]));
    v.extend(
        s("url_decode", one, all_strings, ret_string, eval_url_decode).entries(&["try_url_decode"]),
    );
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn mime_decoding_follows_java() {
        assert_eq!(
            unbase64_mime(b"U3Bhcm sgU1FM").as_deref(),
            Ok(&b"Spark SQL"[..])
        );
        assert_eq!(
            unbase64_mime(b"U3Bhcmsg?U1FM").as_deref(),
            Ok(&b"Spark SQL"[..])
        );
        assert_eq!(unbase64_mime(b"QQ==").as_deref(), Ok(&b"A"[..]));
        assert_eq!(unbase64_mime(b"QQ").as_deref(), Ok(&b"A"[..]));
        assert_eq!(unbase64_mime(b"").as_deref(), Ok(&b""[..]));
        assert!(unbase64_mime(b"a").is_err());
        assert!(unbase64_mime(b"QUJD=").is_err());
        assert!(unbase64_mime(b"QQ=x").is_err());
        assert!(unbase64_mime(b"QUJDRA==QQ").is_err());
    }

    #[test]
    fn url_coding_follows_java() {
        assert_eq!(url_encode("a b&c=é~*"), "a+b%26c%3D%C3%A9%7E*");
        assert_eq!(url_decode("a+b%20c%C3%A9").as_deref(), Some("a b cé"));
        assert_eq!(url_decode("%E9").as_deref(), Some("\u{fffd}"));
        assert_eq!(url_decode("%+1").as_deref(), Some("\u{1}"));
        assert_eq!(url_decode("%zz"), None);
        assert_eq!(url_decode("%2"), None);
        assert_eq!(url_decode("%-1"), None);
        assert_eq!(url_decode("%-0").as_deref(), Some("\u{0}"));
        assert_eq!(url_decode("abc%"), None);
    }

    #[test]
    fn base64_breaks_lines_like_java_mime() {
        let s = base64_mime(&[b'a'; 100]);
        assert_eq!(
            s.split("\r\n").map(str::len).collect::<Vec<_>>(),
            vec![76, 60]
        );
    }

    proptest! {
        #[test]
        fn decoders_never_panic(s in ".*") {
            let _ = url_decode(&s);
            let _ = unbase64_mime(s.as_bytes());
        }

        #[test]
        fn url_round_trips(s in ".*") {
            prop_assert_eq!(url_decode(&url_encode(&s)), Some(s));
        }

        #[test]
        fn base64_round_trips(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(unbase64_mime(base64_mime(&b).as_bytes()), Ok(b));
        }
    }
}
