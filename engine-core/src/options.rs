//! Source, sink, reader and writer options: case-insensitive keys, Spark's names and defaults, and errors
//! that name the option and its valid values.

use std::collections::BTreeMap;

use crate::{EngineError, Result};

/// Options as given to `option(k, v)`. Lookups ignore the key's case (as Spark's
/// `CaseInsensitiveStringMap`); the key as first written is kept for pass-through options
/// such as `kafka.*`. The `Debug` form redacts secrets ([`is_secret_key`]).
#[derive(Clone, Default, PartialEq)]
pub struct Options {
    values: BTreeMap<String, (String, String)>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.iter_original().map(|(k, v)| (k, redact(k, v))))
            .finish()
    }
}

/// What a secret value is shown as (Spark's `Utils.REDACTION_REPLACEMENT_TEXT`).
pub const REDACTED: &str = "*********(redacted)";

/// Whether the value of option or setting `key` is a secret, never to be shown in debug
/// output, errors, logs or progress: Spark's `spark.redaction.regex`
/// (`secret|password|token|access[.]?key`, any case) plus the Kafka client settings that
/// carry credentials (`sasl.jaas.config`, `ssl.key*`, `*credentials*`). The one rule for
/// every crate.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "secret",
        "password",
        "token",
        "accesskey",
        "access.key",
        "sasl.jaas.config",
        "ssl.key",
        "credentials",
    ]
    .iter()
    .any(|word| k.contains(word))
}

/// `value`, or [`REDACTED`] when `key` holds a secret.
pub fn redact<'a>(key: &str, value: &'a str) -> &'a str {
    if is_secret_key(key) { REDACTED } else { value }
}

/// `key=value` as a user wrote it (`--set`, `spark.conf.set`), with a secret value redacted.
pub fn redact_assignment(text: &str) -> String {
    match text.split_once('=') {
        Some((k, v)) => format!("{k}={}", redact(k, v)),
        None => text.to_string(),
    }
}

/// `(key, value)` pairs whose `Debug` form is a map with secret values redacted.
pub struct RedactedPairs<'a>(pub &'a [(String, String)]);

impl std::fmt::Debug for RedactedPairs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (k, redact(k, v))))
            .finish()
    }
}

/// `params` with secret values replaced by [`REDACTED`].
pub fn redacted(params: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    params
        .iter()
        .map(|(k, v)| (k.clone(), redact(k, v).to_string()))
        .collect()
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
        self.values
            .insert(key.to_lowercase(), (key.to_string(), value.into()));
    }

    /// The raw value of `key` (any case).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(&key.to_lowercase())
            .map(|(_, v)| v.as_str())
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
        self.get(key).map_or(Ok(default), |v| parse_bool(key, v))
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
        self.values
            .iter()
            .map(|(k, (_, v))| (k.as_str(), v.as_str()))
    }

    /// Every option with its key as the user wrote it.
    pub fn iter_original(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.values().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Removes `key` (any case), returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.values.remove(&key.to_lowercase()).map(|(_, v)| v)
    }

    /// True when no option is set.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// A non-negative integer option with a default; the error names the option.
    pub fn u64(&self, key: &str, default: u64) -> Result<u64> {
        self.parsed(key, default, "a non-negative integer")
    }

    /// A signed integer option with a default; the error names the option.
    pub fn i64(&self, key: &str, default: i64) -> Result<i64> {
        self.parsed(key, default, "an integer")
    }

    /// A time option in Spark's conf syntax (`10m`, `60s`, `500ms`; a bare number is
    /// milliseconds), as milliseconds.
    pub fn time_ms(&self, key: &str, default_ms: i64) -> Result<i64> {
        self.get(key)
            .map_or(Ok(default_ms), |v| time_string_as_ms(key, v))
    }

    /// A positive integer option (`> 0`), absent allowed.
    pub fn positive(&self, key: &str) -> Result<Option<u64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) if n > 0 => Ok(Some(n)),
                _ => Err(EngineError::invalid_option(
                    key,
                    format!("`{v}` is not a positive integer"),
                )),
            },
        }
    }

    fn parsed<T: std::str::FromStr>(&self, key: &str, default: T, what: &str) -> Result<T> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<T>()
                .map_err(|_| EngineError::invalid_option(key, format!("`{v}` is not {what}"))),
        }
    }
}

/// Spark's boolean option values: `true`/`false` in any case; anything else names the key.
pub fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(EngineError::invalid_option(
            key,
            format!("`{value}` is not a boolean; valid values are `true` and `false`"),
        )),
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

/// The default corrupt-record column (`spark.sql.columnNameOfCorruptRecord`), where
/// PERMISSIVE parsing keeps the text of a malformed record.
pub const DEFAULT_CORRUPT_RECORD_COLUMN: &str = "_corrupt_record";

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

/// Spark's `Utils.timeStringAsMs`: a number with an optional unit (`us`, `ms`, `s`, `m`,
/// `min`, `h`, `d`); a bare number is milliseconds.
pub fn time_string_as_ms(key: &str, v: &str) -> Result<i64> {
    let t = v.trim().to_ascii_lowercase();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: i64 = num.parse().map_err(|_| bad_time(key, v))?;
    let ms = match unit.trim() {
        "" | "ms" => Some(n),
        "us" => Some(n / 1000),
        "s" => n.checked_mul(1000),
        "m" | "min" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        "d" => n.checked_mul(86_400_000),
        _ => None,
    };
    ms.ok_or_else(|| bad_time(key, v))
}

fn bad_time(key: &str, v: &str) -> EngineError {
    EngineError::invalid_option(
        key,
        format!(
            "Invalid value '{v}': time must be specified as seconds (s), milliseconds (ms), microseconds (us), minutes (m or min), hour (h), or day (d). E.g. 50s, 100ms, or 250us."
        ),
    )
}

/// The option Spark uses to pass `partitionBy` columns to a data source.
pub const PARTITION_COLUMNS_OPTION: &str = "__partition_columns";

/// The partition columns named in the options: `__partition_columns` or `partitionBy`, each
/// a JSON array of names (`["day","country"]`) or a comma-separated list.
pub fn partition_columns(options: &Options) -> Result<Vec<String>> {
    let Some((key, value)) = options.get_any(&[PARTITION_COLUMNS_OPTION, "partitionBy"]) else {
        return Ok(vec![]);
    };
    if value.trim_start().starts_with('[') {
        return serde_json::from_str::<Vec<String>>(value).map_err(|e| {
            EngineError::invalid_option(key, format!("expected a JSON array of column names: {e}"))
        });
    }
    Ok(value
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect())
}

/// Passes `partitionBy(..)` columns to a data source the way Spark does: the
/// `__partition_columns` option, a JSON array of names (nothing is set for no columns).
pub fn set_partition_columns(options: &mut Options, cols: &[String]) {
    if !cols.is_empty() {
        // A list of strings always serializes.
        let json = serde_json::to_string(cols).unwrap_or_default();
        options.set(PARTITION_COLUMNS_OPTION, json);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let o = Options::new([
            ("kafka.sasl.password", "hunter2"),
            ("kafka.sasl.jaas.config", "... password=\"hunter2\";"),
            ("fs.s3a.access.key", "AKIA"),
            ("kafka.bootstrap.servers", "b:9092"),
        ]);
        let shown = format!("{o:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("AKIA"),
            "{shown}"
        );
        assert!(
            shown.contains("b:9092") && shown.contains(REDACTED),
            "{shown}"
        );
        assert!(is_secret_key("spark.ssl.keyPassword") && is_secret_key("API_TOKEN"));
        assert!(!is_secret_key("subscribe"));
        assert_eq!(
            redact_assignment("source.a.options.kafka.sasl.password=x"),
            format!("source.a.options.kafka.sasl.password={REDACTED}")
        );
        let pairs = vec![("kafka.sasl.password".to_string(), "x1y2".to_string())];
        assert!(!format!("{:?}", RedactedPairs(&pairs)).contains("x1y2"));
    }

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

    #[test]
    fn original_key_case_is_kept_for_pass_through() {
        let mut o = Options::new([("kafka.Bootstrap.Servers", "h:1")]);
        assert_eq!(o.get("KAFKA.BOOTSTRAP.SERVERS"), Some("h:1"));
        assert_eq!(
            o.iter_original().collect::<Vec<_>>(),
            vec![("kafka.Bootstrap.Servers", "h:1")]
        );
        assert_eq!(o.u64("n", 7).unwrap(), 7);
        o.set("n", "x");
        assert!(o.u64("n", 7).unwrap_err().to_string().contains("`n`"));
        assert_eq!(o.remove("N").as_deref(), Some("x"));
    }
}
