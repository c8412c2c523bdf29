//! The fast path for skipping a JSON value nobody reads (a field outside the schema, the
//! rest of an array past a path): one loop over the bytes with the open containers in a bit
//! stack, instead of a call per token.
//!
//! It knows only plain JSON (double-quoted strings with the standard escapes, numbers
//! without leading zeros, the three literals, whitespace) and answers `None` at the first
//! thing it does not know, malformed or merely lenient (single quotes, comments, `NaN`,
//! unquoted names, nesting past 64 levels). The parser then skips the value again with its
//! general code, which decides. So for any input the fast path either ends where the
//! general path ends, or defers to it: it can never accept what the general path rejects.
//! Skipped values are still checked in full, as Jackson's `skipChildren` tokenizes them: a
//! syntax error in a field outside the schema makes the record malformed.

use super::swar::special_mask;

/// The byte after the value that starts at `start`, when the value is plain JSON nested at
/// most `depth_left` (and 64) levels deep; `None` otherwise.
#[inline]
pub(super) fn skip_plain(b: &[u8], start: usize, depth_left: usize) -> Option<usize> {
    let mut i = start;
    // Bit k set: the container at level k+1 is an object.
    let mut objects: u64 = 0;
    let mut depth: usize = 0;
    let limit = depth_left.min(64);
    loop {
        // A value at `i`.
        match *b.get(i)? {
            b'"' => i = string_end(b, i)?,
            c @ (b'{' | b'[') => {
                let object = c == b'{';
                if depth == limit {
                    return None;
                }
                objects = if object {
                    objects | (1 << depth)
                } else {
                    objects & !(1 << depth)
                };
                depth += 1;
                i = ws(b, i + 1);
                let close = if object { b'}' } else { b']' };
                if b.get(i) == Some(&close) {
                    i += 1;
                    depth -= 1;
                } else {
                    if object {
                        i = key_end(b, i)?;
                    }
                    continue;
                }
            }
            b't' => i = literal_end(b, i, b"true")?,
            b'f' => i = literal_end(b, i, b"false")?,
            b'n' => i = literal_end(b, i, b"null")?,
            _ => i = number_end(b, i)?,
        }
        // After a value: the next one in its container, or the container's end.
        loop {
            if depth == 0 {
                return Some(i);
            }
            i = ws(b, i);
            let object = objects & (1 << (depth - 1)) != 0;
            match *b.get(i)? {
                b',' => {
                    i = ws(b, i + 1);
                    if object {
                        i = key_end(b, i)?;
                    }
                    break;
                }
                b'}' if object => {
                    i += 1;
                    depth -= 1;
                }
                b']' if !object => {
                    i += 1;
                    depth -= 1;
                }
                _ => return None,
            }
        }
    }
}

/// Skips whitespace (not comments: a `/` is left for the caller to refuse).
#[inline(always)]
fn ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// An object key at `i` and its colon: where its value starts.
#[inline(always)]
fn key_end(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let i = ws(b, string_end(b, i)?);
    if b.get(i) != Some(&b':') {
        return None;
    }
    Some(ws(b, i + 1))
}

/// The byte after the double-quoted string at `i` (on its quote): standard escapes only, no
/// raw control characters.
#[inline(always)]
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut i = i + 1;
    loop {
        // Eight bytes at a time: a byte that is a quote, a backslash or below 0x20 stops.
        while let Some(word) = b.get(i..i + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            let m = special_mask(u64::from_le_bytes(w), b'"', true);
            if m != 0 {
                i += (m.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        match *b.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => match *b.get(i + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                b'u' => {
                    let hex = b.get(i + 2..i + 6)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    i += 6;
                }
                _ => return None,
            },
            c if c < 0x20 => return None,
            _ => i += 1,
        }
    }
}

/// The byte after `word` at `i`, when no letter, digit or `_` follows it (`truex` is not
/// `true`).
#[inline(always)]
fn literal_end(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    let end = i + word.len();
    if b.get(i..end)? != word {
        return None;
    }
    match b.get(end) {
        Some(c) if c.is_ascii_alphanumeric() || *c == b'_' => None,
        _ => Some(end),
    }
}

/// The byte after the number at `i`: `-`, digits without a leading zero, an optional
/// fraction and exponent, each with at least one digit.
#[inline(always)]
fn number_end(b: &[u8], mut i: usize) -> Option<usize> {
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    let digits = |mut i: usize| {
        let s = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        (i > s).then_some(i)
    };
    let int_start = i;
    i = digits(i)?;
    if i - int_start > 1 && b.get(int_start) == Some(&b'0') {
        return None;
    }
    if b.get(i) == Some(&b'.') {
        i = digits(i + 1)?;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        i = digits(i)?;
    }
    Some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(s: &str) -> Option<usize> {
        skip_plain(s.as_bytes(), 0, 1000)
    }

    #[test]
    fn plain_values_end_where_they_end() {
        for (text, value) in [
            (r#""a\"b\u00e9" tail"#, r#""a\"b\u00e9""#),
            ("-12.5e+3,", "-12.5e+3"),
            ("0]", "0"),
            ("true}", "true"),
            ("null", "null"),
            (
                r#"{"a": [1, {"b": []}, "x"], "c" : {}} 1"#,
                r#"{"a": [1, {"b": []}, "x"], "c" : {}}"#,
            ),
            ("[ ]", "[ ]"),
            ("{}", "{}"),
        ] {
            assert_eq!(end(text), Some(value.len()), "{text}");
        }
    }

    #[test]
    fn defers_on_anything_lenient_or_malformed() {
        for text in [
            "'a'",
            "NaN",
            "-Infinity",
            "007",
            "1.",
            "1e",
            "truex",
            r#"{a:1}"#,
            r#"{"a":1,}"#,
            r#"[1,]"#,
            r#"[1 2]"#,
            r#"{"a" 1}"#,
            r#"{"a":1]"#,
            r#"[1}"#,
            "[1, /* c */ 2]",
            "\"\u{1}\"",
            r#""\x""#,
            r#""\u12g4""#,
            r#"{"a":"#,
            "[",
            r#""abc"#,
            "",
        ] {
            assert_eq!(end(text), None, "{text}");
        }
    }

    #[test]
    fn nesting_past_the_limit_defers() {
        let deep = format!("{}{}", "[".repeat(10), "]".repeat(10));
        assert_eq!(skip_plain(deep.as_bytes(), 0, 10), Some(20));
        assert_eq!(skip_plain(deep.as_bytes(), 0, 9), None);
        let deeper = format!("{}{}", "[".repeat(65), "]".repeat(65));
        assert_eq!(skip_plain(deeper.as_bytes(), 0, 1000), None);
    }
}
