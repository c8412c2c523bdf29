//! Reader and writer options: case-insensitive keys, Spark's names and defaults, and errors
//! that name the option and its valid values.

use std::collections::BTreeMap;

use engine_core::{EngineError, Result};

/// Options as given to `option(k, v)`; keys are stored lower-cased (Spark ignores their case).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    values: BTreeMap<String, String>,
}

/// How a reader treats records it cannot parse (Spark's `mode` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseMode {
    /// Keep the record; unparseable fields become NULL (and the raw record goes to the
    /// corrupt-record column when the schema has one).
    Permissive,
    /// Skip the record.
    DropMalformed,
    /// Fail the query at the first malformed record.
    FailFast,
}

impl Options {
    /// Options from `(key, value)` pairs.
    pub fn new<K: AsRef<str>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        let mut o = Options::default();
        for (k, v) in pairs {
            o.set(k.as_ref(), v);
        }
        o
    }

    /// Sets `key` (any case) to `value`.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.values.insert(key.to_lowercase(), value.into());
    }

    /// The raw value of `key` (any case).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(&key.to_lowercase()).map(String::as_str)
    }

    /// The first of `keys` that is set (for aliases such as `sep`/`delimiter`).
    pub fn get_any<'a>(&'a self, keys: &[&'a str]) -> Option<(&'a str, &'a str)> {
        keys.iter().find_map(|k| self.get(k).map(|v| (*k, v)))
    }

    /// A string option with a default.
    pub fn string(&self, key: &str, default: &str) -> String {
        self.get(key).unwrap_or(default).to_string()
    }

    /// A boolean option (`true`/`false`, any case).
    pub fn bool(&self, key: &str, default: bool) -> Result<bool> {
        self.get(key)
            .map_or(Ok(default), |v| crate::conf::parse_bool(key, v))
    }

    /// A number in `(0, 1]`, as `samplingRatio`.
    pub fn ratio(&self, key: &str, default: f64) -> Result<f64> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|r| *r > 0.0 && *r <= 1.0)
                .ok_or_else(|| {
                    EngineError::invalid_option(key, format!("`{v}` is not a number in (0, 1]"))
                }),
        }
    }

    /// A single character (one byte, since the parsers work on bytes). Spark accepts an
    /// escaped `\t` for tab; an empty value means "none" where `allow_empty`.
    pub fn byte(
        &self,
        keys: &[&str],
        default: Option<u8>,
        allow_empty: bool,
    ) -> Result<Option<u8>> {
        let Some((key, v)) = self.get_any(keys) else {
            return Ok(default);
        };
        let unescaped = match v {
            "\\t" => "\t",
            "\\n" => "\n",
            "\\r" => "\r",
            "\\0" | "\\u0000" => "\0",
            "\\\\" => "\\",
            other => other,
        };
        if unescaped.is_empty() {
            return if allow_empty {
                Ok(None)
            } else {
                Err(EngineError::invalid_option(
                    key,
                    "an empty value is not allowed; give one character",
                ))
            };
        }
        match unescaped.as_bytes() {
            [b] if b.is_ascii() => Ok(Some(*b)),
            _ => Err(EngineError::invalid_option(
                key,
                format!("`{v}` must be a single ASCII character"),
            )),
        }
    }

    /// `mode`: `PERMISSIVE` (default), `DROPMALFORMED` or `FAILFAST`.
    pub fn parse_mode(&self) -> Result<ParseMode> {
        match self.get("mode") {
            None => Ok(ParseMode::Permissive),
            Some(v) => match v.trim().to_ascii_uppercase().as_str() {
                "PERMISSIVE" => Ok(ParseMode::Permissive),
                "DROPMALFORMED" => Ok(ParseMode::DropMalformed),
                "FAILFAST" => Ok(ParseMode::FailFast),
                _ => Err(EngineError::invalid_option(
                    "mode",
                    format!(
                        "`{v}` is not a parse mode; valid values are PERMISSIVE, DROPMALFORMED and FAILFAST"
                    ),
                )),
            },
        }
    }

    /// Every option, lower-cased keys.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl ParseMode {
    /// Spark's spelling.
    pub fn name(self) -> &'static str {
        match self {
            ParseMode::Permissive => "PERMISSIVE",
            ParseMode::DropMalformed => "DROPMALFORMED",
            ParseMode::FailFast => "FAILFAST",
        }
    }
}

/// Spark's error for a malformed record in FAILFAST mode, with where it was found.
pub fn malformed_record_error(record: &str, location: &str) -> EngineError {
    EngineError::execution(
        "MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION",
        format!(
            "Malformed records are detected in record parsing: [{record}]. Parse Mode: FAILFAST. \
             To process malformed records as null result, try setting the option 'mode' as \
             'PERMISSIVE'. ({location}) SQLSTATE: 22023"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_and_aliases_work() {
        let o = Options::new([("Header", "TRUE"), ("delimiter", "\\t")]);
        assert!(o.bool("header", false).unwrap());
        assert_eq!(
            o.byte(&["sep", "delimiter"], Some(b','), false).unwrap(),
            Some(b'\t')
        );
    }

    #[test]
    fn bad_values_name_the_option() {
        let o = Options::new([("header", "yes"), ("mode", "lenient"), ("sep", "ab")]);
        let e = o.bool("header", false).unwrap_err().to_string();
        assert!(e.contains("`header`") && e.contains("true"), "{e}");
        let e = o.parse_mode().unwrap_err().to_string();
        assert!(e.contains("`mode`") && e.contains("DROPMALFORMED"), "{e}");
        let e = o.byte(&["sep"], Some(b','), false).unwrap_err().to_string();
        assert!(e.contains("`sep`"), "{e}");
    }
}
