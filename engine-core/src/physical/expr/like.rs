//! `LIKE`, `ILIKE` and `RLIKE`.
//!
//! `LIKE` patterns use `%` (any run of characters) and `_` (one character) with `\` as the
//! escape character; as in Spark, `\` may only precede `%`, `_` or `\`. `ILIKE` is
//! `lower(str) LIKE lower(pattern)`. `RLIKE` is a regular expression found anywhere in the
//! string (Java `Matcher.find`).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use crate::{EngineError, Result};
use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, BooleanBuilder};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use regex::Regex;

use super::{ColumnarValue, PhysicalExpr, PhysicalExprRef, apply_datum};
use crate::expr::LikeKind;
use crate::scalar::ScalarValue;

/// A compiled LIKE / ILIKE / RLIKE predicate.
#[derive(Debug)]
pub struct LikeExpr {
    expr: PhysicalExprRef,
    pattern: PhysicalExprRef,
    kind: LikeKind,
    negated: bool,
    /// The last constant pattern and its regex, so a literal pattern compiles once.
    cache: Mutex<Option<(String, Arc<Regex>)>>,
}

impl LikeExpr {
    /// `expr [NOT] LIKE|ILIKE|RLIKE pattern`.
    pub fn new(
        expr: PhysicalExprRef,
        pattern: PhysicalExprRef,
        kind: LikeKind,
        negated: bool,
    ) -> Self {
        LikeExpr {
            expr,
            pattern,
            kind,
            negated,
            cache: Mutex::new(None),
        }
    }

    fn regex_for(&self, pattern: &str) -> Result<Arc<Regex>> {
        if let Ok(guard) = self.cache.lock()
            && let Some((p, r)) = guard.as_ref()
            && p == pattern
        {
            return Ok(r.clone());
        }
        let r = Arc::new(compile(pattern, self.kind)?);
        if let Ok(mut guard) = self.cache.lock() {
            *guard = Some((pattern.to_string(), r.clone()));
        }
        Ok(r)
    }
}

impl fmt::Display for LikeExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.kind {
            LikeKind::Like => "LIKE",
            LikeKind::ILike => "ILIKE",
            LikeKind::RLike => "RLIKE",
        };
        let not = if self.negated { "NOT " } else { "" };
        write!(f, "({} {not}{op} {})", self.expr, self.pattern)
    }
}

/// Spark's `StringUtils.escapeLikeRegex`: a LIKE pattern as an anchored regex.
pub fn like_to_regex(pattern: &str) -> Result<String> {
    let mut out = String::with_capacity(pattern.len() + 8);
    out.push_str("(?s)\\A");
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n @ ('_' | '%' | '\\')) => out.push_str(&regex::escape(&n.to_string())),
                Some(n) => {
                    return Err(EngineError::execution(
                        "INVALID_FORMAT.ESC_IN_THE_MIDDLE",
                        format!(
                            "The format is invalid: '{pattern}'. The escape character is not allowed to precede '{n}'. SQLSTATE: 42601"
                        ),
                    ));
                }
                None => {
                    return Err(EngineError::execution(
                        "INVALID_FORMAT.ESC_AT_THE_END",
                        format!(
                            "The format is invalid: '{pattern}'. The escape character is not allowed to end with. SQLSTATE: 42601"
                        ),
                    ));
                }
            },
            '_' => out.push('.'),
            '%' => out.push_str(".*"),
            c => out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    out.push_str("\\z");
    Ok(out)
}

fn compile(pattern: &str, kind: LikeKind) -> Result<Regex> {
    let re = match kind {
        LikeKind::Like => like_to_regex(pattern)?,
        // Case-insensitive matching instead of lower-casing every row.
        LikeKind::ILike => format!("(?i){}", like_to_regex(&pattern.to_lowercase())?),
        LikeKind::RLike => pattern.to_string(),
    };
    Regex::new(&re).map_err(|_| {
        EngineError::execution(
            "INVALID_PARAMETER_VALUE.PATTERN",
            format!(
                "The value of parameter(s) `regexp` in `rlike` is invalid: '{pattern}'. SQLSTATE: 22023"
            ),
        )
    })
}

fn matches(re: &Regex, s: &str, _kind: LikeKind) -> bool {
    re.is_match(s)
}

impl PhysicalExpr for LikeExpr {
    fn data_type(&self) -> &DataType {
        &DataType::Boolean
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let n = batch.num_rows();
        let value = self.expr.evaluate(batch)?;
        let pattern = self.pattern.evaluate(batch)?;
        if value.data_type() == DataType::Null || pattern.data_type() == DataType::Null {
            return Ok(ColumnarValue::Scalar(ScalarValue::Boolean(None)));
        }
        let out = match &pattern {
            ColumnarValue::Scalar(ScalarValue::Utf8(None)) => {
                return Ok(ColumnarValue::Scalar(ScalarValue::Boolean(None)));
            }
            // Plain LIKE/ILIKE without escapes: Arrow's kernels (prefix/suffix/contains
            // fast paths) have the same semantics.
            ColumnarValue::Scalar(ScalarValue::Utf8(Some(p)))
                if self.kind != LikeKind::RLike && !p.contains('\\') =>
            {
                let f = match (self.kind, self.negated) {
                    (LikeKind::Like, false) => arrow::compute::kernels::comparison::like,
                    (LikeKind::Like, true) => arrow::compute::kernels::comparison::nlike,
                    (_, false) => arrow::compute::kernels::comparison::ilike,
                    (_, true) => arrow::compute::kernels::comparison::nilike,
                };
                return apply_datum(&value, &pattern, |a, b| {
                    f(a, b).map(|x| Arc::new(x) as ArrayRef)
                });
            }
            ColumnarValue::Scalar(ScalarValue::Utf8(Some(p))) => {
                let re = self.regex_for(p)?;
                let kind = self.kind;
                let one_row = matches!(value, ColumnarValue::Scalar(_));
                let v = value.into_array(if one_row { 1 } else { n })?;
                let s = v
                    .as_string_opt::<i32>()
                    .ok_or_else(|| EngineError::Internal(format!("LIKE on {}", v.data_type())))?;
                let r = BooleanArray::from_unary(s, |x| matches(&re, x, kind));
                if one_row {
                    let r = self.negate(r)?;
                    return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&r, 0)?));
                }
                r
            }
            _ => {
                let v = value.into_array(n)?;
                let p = pattern.into_array(n)?;
                let (s, p) = match (v.as_string_opt::<i32>(), p.as_string_opt::<i32>()) {
                    (Some(s), Some(p)) => (s, p),
                    _ => {
                        return Err(EngineError::Internal(format!(
                            "LIKE on {} and {}",
                            v.data_type(),
                            p.data_type()
                        )));
                    }
                };
                let mut cache: HashMap<&str, Regex> = HashMap::new();
                let mut b = BooleanBuilder::with_capacity(n);
                for i in 0..n {
                    if s.is_null(i) || p.is_null(i) {
                        b.append_null();
                        continue;
                    }
                    let pat = p.value(i);
                    if !cache.contains_key(pat) {
                        cache.insert(pat, compile(pat, self.kind)?);
                    }
                    let re = &cache[pat];
                    b.append_value(matches(re, s.value(i), self.kind));
                }
                b.finish()
            }
        };
        Ok(ColumnarValue::Array(Arc::new(self.negate(out)?)))
    }
}

impl LikeExpr {
    fn negate(&self, b: BooleanArray) -> Result<BooleanArray> {
        if self.negated {
            Ok(arrow::compute::not(&b)?)
        } else {
            Ok(b)
        }
    }
}
