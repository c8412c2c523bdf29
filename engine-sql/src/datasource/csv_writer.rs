//! Encoding rows as CSV lines the way Spark's CSV writer (univocity) does, option for option.
//!
//! Pinned against PySpark 4.3 (`tests/datasource.rs`): leading and trailing whitespace (any
//! character up to a space) is trimmed by default; an empty string (also one trimmed to
//! nothing) is written as `emptyValue`, `""` by default; NULL as `nullValue` (nothing); a
//! value is quoted when it holds the separator, a line break or (with `escapeQuotes`, the
//! default) the quote character, and inside quotes a quote is preceded by `escape` and the
//! escape character by `charToEscapeQuoteEscaping` (by default the escape itself); `quoteAll`
//! quotes every value, NULL included.

use std::io::Write;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::DataType;
use engine_core::options::Options;
use engine_core::{EngineError, Result};

/// Spark's CSV writer options.
#[derive(Debug, Clone)]
pub struct CsvWriteOptions {
    /// `sep` / `delimiter` (default `,`).
    pub sep: String,
    /// `quote` (default `"`; an empty `quote` is NUL, as in Spark).
    pub quote: u8,
    /// `escape` (default `\`).
    pub escape: u8,
    /// `charToEscapeQuoteEscaping`: what precedes the escape character inside quotes.
    pub escape_escape: Option<u8>,
    /// `escapeQuotes` (default true): a value holding the quote character is quoted.
    pub escape_quotes: bool,
    /// `quoteAll` (default false).
    pub quote_all: bool,
    /// `ignoreLeadingWhiteSpace` (default true when writing).
    pub trim_leading: bool,
    /// `ignoreTrailingWhiteSpace` (default true when writing).
    pub trim_trailing: bool,
    /// `nullValue` (default empty).
    pub null_value: String,
    /// `emptyValue` (default `""` when writing).
    pub empty_value: String,
    /// `lineSep` (default `\n`).
    pub line_sep: String,
    /// `header` (default false).
    pub header: bool,
}

impl CsvWriteOptions {
    /// The options from a writer's `options`, with Spark's writing defaults.
    pub fn from_options(o: &Options) -> Result<Self> {
        let sep = match o.get_any(&["sep", "delimiter"]) {
            None => ",".to_string(),
            Some((key, v)) => {
                let s = match v {
                    "\\t" => "\t",
                    other => other,
                };
                if s.is_empty() {
                    return Err(EngineError::invalid_option(
                        key,
                        "Delimiter cannot be empty string",
                    ));
                }
                s.to_string()
            }
        };
        let escape = o.byte(&["escape"], Some(b'\\'), false)?.unwrap_or(b'\\');
        // Spark turns an empty `quote` into the NUL character, which then quotes as any other.
        let quote = o.byte(&["quote"], Some(b'"'), true)?.unwrap_or(0);
        // Spark: by default the escape character escapes itself, unless it is the quote.
        let default_escape_escape = (escape != quote).then_some(escape);
        let escape_escape = o
            .byte(&["charToEscapeQuoteEscaping"], default_escape_escape, true)?
            .filter(|c| *c != 0);
        let line_sep = match o.get("lineSep") {
            None => "\n".to_string(),
            // Spark's writer takes up to two characters (`\r\n`).
            Some(v) if (1..=2).contains(&v.chars().count()) => v.to_string(),
            Some(v) => {
                return Err(EngineError::invalid_option(
                    "lineSep",
                    format!("`{v}`: 'lineSep' can contain only 1 character."),
                ));
            }
        };
        Ok(CsvWriteOptions {
            sep,
            quote,
            escape,
            escape_escape,
            escape_quotes: o.bool("escapeQuotes", true)?,
            quote_all: o.bool("quoteAll", false)?,
            trim_leading: o.bool("ignoreLeadingWhiteSpace", true)?,
            trim_trailing: o.bool("ignoreTrailingWhiteSpace", true)?,
            null_value: o.string("nullValue", ""),
            empty_value: o.string("emptyValue", "\"\""),
            line_sep,
            header: o.bool("header", false)?,
        })
    }

    /// Appends one value to `out` (`None`: NULL).
    fn field(&self, value: Option<&str>, out: &mut Vec<u8>) {
        let Some(v) = value else {
            if self.quote_all {
                self.quoted(&self.null_value, out);
            } else {
                out.extend_from_slice(self.null_value.as_bytes());
            }
            return;
        };
        // Whether to quote is decided on the value as given (`a\r` is written `"a"`), then
        // every character up to a space is trimmed (univocity's rule, not Unicode's).
        let needs_quotes = self.quote_all
            || v.contains(self.sep.as_str())
            || v.contains(['\n', '\r'])
            || (self.escape_quotes && v.as_bytes().contains(&self.quote));
        let mut v = v;
        if self.trim_leading {
            v = v.trim_start_matches(|c: char| c <= ' ');
        }
        if self.trim_trailing {
            v = v.trim_end_matches(|c: char| c <= ' ');
        }
        if v.is_empty() {
            out.extend_from_slice(self.empty_value.as_bytes());
            return;
        }
        if needs_quotes {
            self.quoted(v, out);
        } else {
            out.extend_from_slice(v.as_bytes());
        }
    }

    fn quoted(&self, v: &str, out: &mut Vec<u8>) {
        let q = self.quote;
        out.push(q);
        for &b in v.as_bytes() {
            if b == q {
                out.push(self.escape);
            } else if b == self.escape
                && let Some(e) = self.escape_escape
            {
                out.push(e);
            }
            out.push(b);
        }
        out.push(q);
    }

    /// The header line of `names`.
    pub fn header_line(&self, names: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(self.sep.as_bytes());
            }
            self.field(Some(n), &mut out);
        }
        out.extend_from_slice(self.line_sep.as_bytes());
        out
    }

    /// Writes the rows of `batch` as lines. Timestamps and floating-point columns come as
    /// text already (the writer formats them with the session zone and the user's
    /// patterns); the rest is written as Spark shows it (`[01 02]` for binary, intervals as
    /// `INTERVAL '1' DAY`).
    pub fn write_rows(&self, batch: &RecordBatch, w: &mut impl Write) -> std::io::Result<()> {
        let utc = chrono_tz::UTC;
        let mut line = Vec::with_capacity(256);
        for r in 0..batch.num_rows() {
            line.clear();
            for (i, c) in batch.columns().iter().enumerate() {
                if i > 0 {
                    line.extend_from_slice(self.sep.as_bytes());
                }
                match c.as_string_opt::<i32>() {
                    Some(s) => self.field(s.is_valid(r).then(|| s.value(r)), &mut line),
                    None => {
                        let v = engine_core::format::value_to_string(c.as_ref(), r, &utc);
                        self.field(v.as_deref(), &mut line);
                    }
                }
            }
            line.extend_from_slice(self.line_sep.as_bytes());
            w.write_all(&line)?;
        }
        Ok(())
    }
}

/// Spark's error for a column CSV cannot hold (arrays, structs, maps).
pub fn check_csv_types(schema: &arrow::datatypes::Schema) -> Result<()> {
    for f in schema.fields() {
        let ok = !matches!(
            f.data_type(),
            DataType::Struct(_) | DataType::List(_) | DataType::LargeList(_) | DataType::Map(_, _)
        );
        if !ok {
            return Err(EngineError::analysis(
                "UNSUPPORTED_DATA_TYPE_FOR_DATASOURCE",
                format!(
                    "The CSV datasource doesn't support the column `{}` of the type \"{}\".",
                    f.name(),
                    engine_core::types::sql_type_name(f.data_type())
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn line(opts: &[(&str, &str)], values: &[Option<&str>]) -> String {
        let o = CsvWriteOptions::from_options(&Options::new(opts.iter().copied())).unwrap();
        let mut out = Vec::new();
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(o.sep.as_bytes());
            }
            o.field(*v, &mut out);
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values_are_written_as_pyspark_writes_them() {
        // Each expected line is PySpark 4.3's (`df.write.csv`) for the same values.
        let vals = [
            Some(" lead"),
            Some("trail "),
            Some(""),
            None,
            Some("a,b"),
            Some("say \"hi\""),
            Some("line\nbreak"),
            Some("back\\slash"),
            Some("  "),
            Some("\\\""),
            Some("\r"),
            Some("q's"),
        ];
        assert_eq!(
            line(&[], &vals),
            "lead,trail,\"\",,\"a,b\",\"say \\\"hi\\\"\",\"line\nbreak\",back\\slash,\"\",\"\\\\\\\"\",\"\",q's"
        );
        // Quoted for the line break it had before trimming; NUL quotes when `quote` is empty.
        assert_eq!(line(&[], &[Some("a\r"), Some("\tb")]), "\"a\",b");
        assert_eq!(
            line(&[("sep", ";"), ("quote", "")], &[Some("a;b")]),
            "\0a;b\0"
        );
        assert_eq!(
            line(&[("quoteAll", "true")], &vals),
            "\"lead\",\"trail\",\"\",\"\",\"a,b\",\"say \\\"hi\\\"\",\"line\nbreak\",\"back\\\\slash\",\"\",\"\\\\\\\"\",\"\",\"q's\""
        );
        assert_eq!(
            line(&[("escapeQuotes", "false")], &vals),
            "lead,trail,\"\",,\"a,b\",say \"hi\",\"line\nbreak\",back\\slash,\"\",\\\",\"\",q's"
        );
        assert_eq!(
            line(&[("nullValue", "NULL"), ("emptyValue", "EMPTY")], &vals),
            "lead,trail,EMPTY,NULL,\"a,b\",\"say \\\"hi\\\"\",\"line\nbreak\",back\\slash,EMPTY,\"\\\\\\\"\",EMPTY,q's"
        );
        assert_eq!(
            line(
                &[
                    ("ignoreLeadingWhiteSpace", "false"),
                    ("ignoreTrailingWhiteSpace", "false")
                ],
                &vals
            ),
            " lead,trail ,\"\",,\"a,b\",\"say \\\"hi\\\"\",\"line\nbreak\",back\\slash,  ,\"\\\\\\\"\",\"\r\",q's"
        );
        assert_eq!(
            line(&[("sep", ";"), ("quote", "'"), ("escape", "'")], &vals),
            "lead;trail;\"\";;a,b;say \"hi\";'line\nbreak';back\\slash;\"\";\\\";\"\";'q''s'"
        );
    }
}
