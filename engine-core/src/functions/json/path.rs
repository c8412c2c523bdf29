//! `get_json_object(json, path)`, `json_tuple` field lookup and `json_array_length`: they
//! walk the text with the streaming parser and copy only the selected value.
//!
//! Paths are Spark's subset of JSONPath: `$`, `.name`, `['name']`, `[n]` and `[*]`.
//! A selected string is returned without quotes; anything else as compact JSON text.
//! Invalid JSON, a missing field or a bad path gives NULL.

use std::sync::Arc;

use crate::Result;
use arrow::array::{Array, ArrayRef, AsArray, Int32Builder, StringBuilder};
use arrow::datatypes::DataType;

use super::decoder::{Fail, JsonParseOptions, Parser};
use crate::expr::columnar::ColumnarValue;
use crate::functions::string::{rows, want_string, wrap};
use crate::functions::{FunctionContext, ScalarFunction};

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    Wildcard,
}

fn parse_path(p: &str) -> Option<Vec<Step>> {
    let b = p.as_bytes();
    if b.first() != Some(&b'$') {
        return None;
    }
    let mut i = 1;
    let mut steps = Vec::new();
    while i < b.len() {
        match b[i] {
            b'.' => {
                i += 1;
                let start = i;
                while i < b.len() && b[i] != b'.' && b[i] != b'[' {
                    i += 1;
                }
                if start == i {
                    return None;
                }
                let name = &p[start..i];
                if name == "*" {
                    steps.push(Step::Wildcard);
                } else {
                    steps.push(Step::Key(name.to_string()));
                }
            }
            b'[' => {
                let end = i + p[i..].find(']')?;
                let inner = p[i + 1..end].trim();
                if inner == "*" {
                    steps.push(Step::Wildcard);
                } else if let Some(q) = inner.strip_prefix('\'').and_then(|x| x.strip_suffix('\''))
                {
                    steps.push(Step::Key(q.to_string()));
                } else {
                    steps.push(Step::Index(inner.parse().ok()?));
                }
                i = end + 1;
            }
            _ => return None,
        }
    }
    Some(steps)
}

/// Writes the value at the cursor selected by `steps` into `out` (strings unquoted when
/// `unquote`); `Ok(n)`: how many values matched.
fn select(
    p: &mut Parser<'_>,
    steps: &[Step],
    out: &mut Vec<u8>,
    unquote: bool,
) -> Result<usize, Fail> {
    p.ws()?;
    let Some((step, rest)) = steps.split_first() else {
        if unquote && matches!(p.peek(), Some(b'"') | Some(b'\'')) {
            p.string_into(out)?;
        } else if p.peek() == Some(b'n') && unquote {
            p.skip()?;
            return Ok(0);
        } else {
            p.raw_text(out)?;
        }
        return Ok(1);
    };
    match (step, p.peek()) {
        (Step::Key(k), Some(b'{')) => {
            p.expect(b'{')?;
            p.ws()?;
            if p.peek() == Some(b'}') {
                return Ok(0);
            }
            loop {
                p.key()?;
                if p.key_bytes() == k.as_bytes() {
                    let n = select(p, rest, out, unquote)?;
                    // Leave the cursor after the object, as a wildcard above expects.
                    close(p, b'}', true)?;
                    return Ok(n);
                }
                p.skip()?;
                p.ws()?;
                match p.peek() {
                    Some(b',') => {
                        p.expect(b',')?;
                        p.ws()?;
                    }
                    _ => return Ok(0),
                }
            }
        }
        (Step::Index(n), Some(b'[')) => {
            p.expect(b'[')?;
            p.ws()?;
            if p.peek() == Some(b']') {
                return Ok(0);
            }
            let mut k = 0;
            loop {
                if k == *n {
                    let found = select(p, rest, out, unquote)?;
                    close(p, b']', false)?;
                    return Ok(found);
                }
                p.skip()?;
                p.ws()?;
                match p.peek() {
                    Some(b',') => {
                        p.expect(b',')?;
                        p.ws()?;
                        k += 1;
                    }
                    _ => return Ok(0),
                }
            }
        }
        (Step::Wildcard, Some(b'[')) => {
            p.expect(b'[')?;
            p.ws()?;
            let mut parts: Vec<Vec<u8>> = Vec::new();
            if p.peek() != Some(b']') {
                loop {
                    let mut one = Vec::new();
                    if select(p, rest, &mut one, false)? > 0 {
                        parts.push(one);
                    }
                    p.ws()?;
                    match p.peek() {
                        Some(b',') => {
                            p.expect(b',')?;
                            p.ws()?;
                        }
                        Some(b']') => {
                            p.expect(b']')?;
                            break;
                        }
                        _ => return Err(Fail::Syntax),
                    }
                }
            }
            match parts.len() {
                0 => Ok(0),
                1 if unquote => {
                    let only = &parts[0];
                    if only.first() == Some(&b'"') {
                        let mut q = Parser::new(only, &DEFAULTS);
                        q.string_into(out)?;
                    } else {
                        out.extend_from_slice(only);
                    }
                    Ok(1)
                }
                _ => {
                    out.push(b'[');
                    for (i, part) in parts.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        out.extend_from_slice(part);
                    }
                    out.push(b']');
                    Ok(1)
                }
            }
        }
        _ => {
            p.skip()?;
            Ok(0)
        }
    }
}

/// Skips the remaining members of an object (`keyed`) or array up to and past `end`.
fn close(p: &mut Parser<'_>, end: u8, keyed: bool) -> Result<(), Fail> {
    loop {
        p.ws()?;
        match p.peek() {
            Some(b',') => {
                p.expect(b',')?;
                p.ws()?;
                if keyed {
                    p.key()?;
                }
                p.skip()?;
            }
            Some(c) if c == end => {
                p.expect(end)?;
                return Ok(());
            }
            _ => return Err(Fail::Syntax),
        }
    }
}

static DEFAULTS: std::sync::LazyLock<JsonParseOptions> =
    std::sync::LazyLock::new(JsonParseOptions::default);

/// The value of `path` in `json`, as `get_json_object` returns it.
pub fn get_json_object(json: &str, path: &str) -> Option<String> {
    let steps = parse_path(path)?;
    let mut p = Parser::new(json.as_bytes(), &DEFAULTS);
    let mut out = Vec::new();
    match select(&mut p, &steps, &mut out, true) {
        Ok(n) if n > 0 => String::from_utf8(out).ok(),
        _ => None,
    }
}

/// The top-level fields `wanted` of the object `json` (strings unquoted, others as JSON
/// text, JSON null as NULL); all NULL when `json` is not a valid object.
pub fn top_level_fields(
    json: &str,
    wanted: &[Option<String>],
    o: &JsonParseOptions,
) -> Vec<Option<String>> {
    let mut found: Vec<Option<String>> = vec![None; wanted.len()];
    let mut p = Parser::new(json.as_bytes(), o);
    let r: Result<(), Fail> = (|| {
        p.ws()?;
        p.expect(b'{')?;
        p.ws()?;
        if p.peek() == Some(b'}') {
            return Ok(());
        }
        loop {
            p.key()?;
            let hit = wanted
                .iter()
                .position(|w| w.as_deref().is_some_and(|w| w.as_bytes() == p.key_bytes()));
            match hit {
                Some(i) => {
                    let mut out = Vec::new();
                    if select(&mut p, &[], &mut out, true)? > 0 {
                        found[i] = String::from_utf8(out).ok();
                    }
                }
                None => p.skip()?,
            }
            p.ws()?;
            match p.peek() {
                Some(b',') => {
                    p.expect(b',')?;
                    p.ws()?;
                }
                Some(b'}') => return Ok(()),
                _ => return Err(Fail::Syntax),
            }
        }
    })();
    match r {
        Ok(()) => found,
        Err(_) => vec![None; wanted.len()],
    }
}

/// `get_json_object(json, path)`.
#[derive(Debug)]
pub struct GetJsonObject;

impl ScalarFunction for GetJsonObject {
    fn name(&self) -> &str {
        "get_json_object"
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        if args.len() != 2 {
            return Err(crate::functions::wrong_num_args(
                self.name(),
                "2",
                args.len(),
            ));
        }
        Ok(vec![
            want_string(self.name(), 1, &args[0])?,
            want_string(self.name(), 2, &args[1])?,
        ])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke(
        &self,
        args: &[ColumnarValue],
        num_rows: usize,
        _: &FunctionContext,
    ) -> Result<ColumnarValue> {
        let n = rows(args, num_rows);
        let json = args[0].to_array(n)?;
        let path = args[1].to_array(n)?;
        let (json, path) = (json.as_string::<i32>(), path.as_string::<i32>());
        let mut b = StringBuilder::with_capacity(n, n * 8);
        // A literal path is parsed once.
        let fixed = match &args[1] {
            ColumnarValue::Scalar(_) if n > 0 && !path.is_null(0) => {
                Some(parse_path(path.value(0)))
            }
            _ => None,
        };
        let mut out = Vec::new();
        for i in 0..n {
            if json.is_null(i) || path.is_null(i) {
                b.append_null();
                continue;
            }
            let steps = match &fixed {
                Some(s) => s.clone(),
                None => parse_path(path.value(i)),
            };
            let Some(steps) = steps else {
                b.append_null();
                continue;
            };
            out.clear();
            let mut p = Parser::new(json.value(i).as_bytes(), &DEFAULTS);
            match select(&mut p, &steps, &mut out, true) {
                Ok(k) if k > 0 => b.append_value(String::from_utf8_lossy(&out)),
                _ => b.append_null(),
            }
        }
        wrap(args, Arc::new(b.finish()) as ArrayRef)
    }
}

/// `json_array_length(json)`: elements of a top-level array, NULL otherwise.
#[derive(Debug)]
pub struct JsonArrayLength;

impl ScalarFunction for JsonArrayLength {
    fn name(&self) -> &str {
        "json_array_length"
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        if args.len() != 1 {
            return Err(crate::functions::wrong_num_args(
                self.name(),
                "1",
                args.len(),
            ));
        }
        Ok(vec![want_string(self.name(), 1, &args[0])?])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }
    fn invoke(
        &self,
        args: &[ColumnarValue],
        num_rows: usize,
        _: &FunctionContext,
    ) -> Result<ColumnarValue> {
        let n = rows(args, num_rows);
        let json = args[0].to_array(n)?;
        let json = json.as_string::<i32>();
        let mut b = Int32Builder::with_capacity(n);
        for i in 0..n {
            if json.is_null(i) {
                b.append_null();
                continue;
            }
            let mut p = Parser::new(json.value(i).as_bytes(), &DEFAULTS);
            let r: Result<i32, Fail> = (|| {
                p.ws()?;
                p.expect(b'[')?;
                p.ws()?;
                if p.peek() == Some(b']') {
                    return Ok(0);
                }
                let mut k = 0;
                loop {
                    p.skip()?;
                    k += 1;
                    p.ws()?;
                    match p.peek() {
                        Some(b',') => {
                            p.expect(b',')?;
                            p.ws()?;
                        }
                        Some(b']') => return Ok(k),
                        _ => return Err(Fail::Syntax),
                    }
                }
            })();
            b.append_option(r.ok());
        }
        wrap(args, Arc::new(b.finish()) as ArrayRef)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_select_like_spark() {
        let j = r#"{"a":{"b":[1,2,{"c":"x"}]}}"#;
        assert_eq!(get_json_object(j, "$.a.b[2].c").as_deref(), Some("x"));
        assert_eq!(
            get_json_object(r#"{"a":{"b":[1, 2]}}"#, "$.a").as_deref(),
            Some(r#"{"b":[1,2]}"#)
        );
        assert_eq!(get_json_object(r#"{"a":1}"#, "$.z"), None);
        assert_eq!(get_json_object("bad", "$.a"), None);
        assert_eq!(
            get_json_object(r#"{"a":[1,2]}"#, "$.a[*]").as_deref(),
            Some("[1,2]")
        );
        assert_eq!(get_json_object("[1,2]", "$[0]").as_deref(), Some("1"));
        assert_eq!(
            get_json_object(r#"{"a":"x"}"#, "$['a']").as_deref(),
            Some("x")
        );
    }

    #[test]
    fn tuple_fields() {
        let w = vec![Some("a".to_string()), Some("c".into()), Some("z".into())];
        let got = top_level_fields(r#"{"a":1, "b":"x", "c":{"d":1}}"#, &w, &DEFAULTS);
        assert_eq!(got, vec![Some("1".into()), Some(r#"{"d":1}"#.into()), None]);
        assert_eq!(
            top_level_fields("[1]", &w, &DEFAULTS),
            vec![None, None, None]
        );
    }
}
