//! Text to typed Arrow arrays, as the csv reader needs it: Spark's accepted forms of
//! numbers, booleans, dates and timestamps, and which inputs failed to convert.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanBuilder, Date32Builder, PrimitiveArray, StringArray,
    TimestampMicrosecondBuilder,
};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, TimeUnit};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use engine_core::Result;
use engine_core::datetime_text;

use engine_core::functions::datetime_format::{days_from_date, local_to_micros};

/// How dates and timestamps are written in the text.
#[derive(Debug, Clone, Default)]
pub struct DateTimeFormats {
    /// `dateFormat` as a chrono pattern; `None` = Spark's default `yyyy-MM-dd`.
    pub date: Option<String>,
    /// `timestampFormat` as a chrono pattern; `None` = Spark's default ISO forms.
    pub timestamp: Option<String>,
}

/// Translates a Java `DateTimeFormatter` pattern (the subset people use) to chrono's.
pub fn java_to_chrono(pattern: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // Quoted literal text; '' is a quote.
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                if chars[i] == '%' {
                    out.push('%');
                }
                out.push(chars[i]);
                i += 1;
            }
            i += 1;
            continue;
        }
        let mut n = 1;
        while i + n < chars.len() && chars[i + n] == c {
            n += 1;
        }
        let piece = match (c, n) {
            ('y', 2) => "%y".to_string(),
            ('y', _) | ('u', _) => "%Y".to_string(),
            ('M', 1) => "%-m".to_string(),
            ('M', 2) => "%m".to_string(),
            ('M', 3) => "%b".to_string(),
            ('M', _) => "%B".to_string(),
            ('d', 1) => "%-d".to_string(),
            ('d', _) => "%d".to_string(),
            ('H', 1) => "%-H".to_string(),
            ('H', _) => "%H".to_string(),
            ('h', _) => "%I".to_string(),
            ('a', _) => "%p".to_string(),
            ('m', _) => "%M".to_string(),
            ('s', _) => "%S".to_string(),
            ('S', n) => format!("%{n}f"),
            ('X', _) | ('x', _) => "%:z".to_string(),
            ('Z', _) => "%z".to_string(),
            ('E', 1..=3) => "%a".to_string(),
            ('E', _) => "%A".to_string(),
            ('%', _) => "%%".repeat(n),
            (other, n) => other.to_string().repeat(n),
        };
        out.push_str(&piece);
        i += n;
    }
    out
}

/// Parses a timestamp with a chrono pattern (from `timestampFormat`).
pub fn parse_timestamp_with(s: &str, pattern: &str, tz: &Tz) -> Option<i64> {
    if let Ok(dt) = chrono::DateTime::parse_from_str(s, pattern) {
        return Some(dt.timestamp_micros());
    }
    if let Ok(dt) = NaiveDateTime::parse_from_str(s, pattern) {
        return local_to_micros(&dt, tz);
    }
    NaiveDate::parse_from_str(s, pattern)
        .ok()
        .and_then(|d| local_to_micros(&d.and_time(NaiveTime::MIN), tz))
}

/// Java's `Double.parseDouble` as Spark's csv uses it: decimal or scientific notation
/// with surrounding spaces, `NaN`, `Infinity`, and the csv defaults `Inf` / `-Inf`.
pub fn parse_double(s: &str) -> Option<f64> {
    let t = s.trim();
    match t {
        "NaN" => return Some(f64::NAN),
        "Infinity" | "+Infinity" | "Inf" | "+Inf" => return Some(f64::INFINITY),
        "-Infinity" | "-Inf" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    // Java accepts a trailing type suffix (`1.5d`, `2f`); Rust rejects `inf`/`nan` words.
    let body = t.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(t);
    if !body.bytes().any(|b| b.is_ascii_digit())
        || body
            .bytes()
            .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E')
    {
        return None;
    }
    body.parse::<f64>().ok()
}

/// Spark's boolean text: `true`/`false` in any case.
pub fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Converts strings to `to`. Returns the array and, per row, whether a non-null input
/// failed to convert (it is NULL in the result).
pub fn convert_strings(
    input: &StringArray,
    to: &DataType,
    formats: &DateTimeFormats,
    tz: &Tz,
) -> Result<(ArrayRef, Vec<bool>)> {
    let arr: ArrayRef = match to {
        DataType::Utf8 => Arc::new(input.clone()),
        DataType::Boolean => {
            let mut b = BooleanBuilder::with_capacity(input.len());
            for v in input.iter() {
                b.append_option(v.and_then(parse_bool));
            }
            Arc::new(b.finish())
        }
        DataType::Date32 => {
            let mut b = Date32Builder::with_capacity(input.len());
            for v in input.iter() {
                let d = v.and_then(|s| match &formats.date {
                    None => datetime_text::parse_reader_date(s),
                    Some(p) => NaiveDate::parse_from_str(s, p).ok().map(days_from_date),
                });
                b.append_option(d);
            }
            Arc::new(b.finish())
        }
        DataType::Timestamp(TimeUnit::Microsecond, zone) => {
            let mut b = TimestampMicrosecondBuilder::with_capacity(input.len());
            // TIMESTAMP_NTZ text is wall-clock time: parse it as if in UTC.
            let ptz = if zone.is_some() { *tz } else { Tz::UTC };
            let now = datetime_text::now_micros();
            for v in input.iter() {
                b.append_option(v.and_then(|s| match &formats.timestamp {
                    // Without a pattern, TIMESTAMP_NTZ text may not carry a zone.
                    None if zone.is_none() => datetime_text::parse_timestamp_ntz(s, false),
                    None => datetime_text::parse_reader_timestamp(s, &ptz, now),
                    Some(p) => parse_timestamp_with(s, p, &ptz),
                }));
            }
            Arc::new(b.finish().with_timezone_opt(zone.clone()))
        }
        DataType::Float64 => {
            let d: arrow::array::Float64Array =
                input.iter().map(|v| v.and_then(parse_double)).collect();
            Arc::new(d)
        }
        DataType::Float32 => {
            let d: arrow::array::Float32Array = input
                .iter()
                .map(|v| v.and_then(parse_double).map(|x| x as f32))
                .collect();
            Arc::new(d)
        }
        other => cast_with_options(
            input,
            other,
            &CastOptions {
                safe: true,
                ..Default::default()
            },
        )?,
    };
    let failed = (0..input.len())
        .map(|i| input.is_valid(i) && arr.is_null(i))
        .collect();
    Ok((arr, failed))
}

/// Formats microseconds as Spark writes timestamps to csv/json by default:
/// `yyyy-MM-dd'T'HH:mm:ss.SSSXXX` in the session zone (`Z` for UTC).
pub fn format_timestamp_iso(micros: i64, tz: &Tz) -> Option<String> {
    let utc = chrono::DateTime::from_timestamp_micros(micros)?;
    let local = utc.with_timezone(tz);
    let offset = chrono::Offset::fix(local.offset()).local_minus_utc();
    let zone = if offset == 0 {
        "Z".to_string()
    } else {
        let sign = if offset < 0 { '-' } else { '+' };
        let o = offset.abs();
        if o % 60 == 0 {
            format!("{sign}{:02}:{:02}", o / 3600, (o % 3600) / 60)
        } else {
            format!("{sign}{:02}:{:02}:{:02}", o / 3600, (o % 3600) / 60, o % 60)
        }
    };
    Some(format!("{}{zone}", local.format("%Y-%m-%dT%H:%M:%S%.3f")))
}

/// Formats a timestamp-with-zone array (any unit) as Spark's ISO text.
pub fn format_timestamp_array(array: &dyn Array, tz: &Tz) -> Result<ArrayRef> {
    let micros = cast_with_options(
        array,
        &DataType::Timestamp(TimeUnit::Microsecond, None),
        &CastOptions::default(),
    )?;
    let micros = micros
        .as_any()
        .downcast_ref::<PrimitiveArray<arrow::datatypes::TimestampMicrosecondType>>()
        .ok_or_else(|| engine_core::EngineError::Internal("timestamp cast".into()))?;
    let out: StringArray = micros
        .iter()
        .map(|v| v.and_then(|m| format_timestamp_iso(m, tz)))
        .collect();
    Ok(Arc::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_timestamps_use_sparks_parser() {
        let input = StringArray::from(vec![
            Some("2020-01-01 10:00:00"),
            Some("2020-01-01T12:00:00+02:00"),
            Some("2020-01-01 GMT"),
            Some("2020-01-01 10:00:00+aéb"),
        ]);
        let want = 1_577_872_800_000_000; // 2020-01-01T10:00:00Z
        let formats = DateTimeFormats::default();
        let ltz = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let (arr, failed) = convert_strings(&input, &ltz, &formats, &Tz::UTC).unwrap();
        let t = arr
            .as_any()
            .downcast_ref::<arrow::array::TimestampMicrosecondArray>()
            .unwrap();
        assert_eq!(t.value(0), want);
        assert_eq!(t.value(1), want);
        assert_eq!(t.value(2), want - 10 * 3_600_000_000);
        assert_eq!(failed, vec![false, false, false, true]);
        let ntz = DataType::Timestamp(TimeUnit::Microsecond, None);
        let (_, failed) = convert_strings(&input, &ntz, &formats, &Tz::UTC).unwrap();
        assert_eq!(failed, vec![false, true, true, true]);
    }

    #[test]
    fn doubles_parse_like_java() {
        assert_eq!(parse_double(" 1.5 "), Some(1.5));
        assert_eq!(parse_double("1e3"), Some(1000.0));
        assert_eq!(parse_double("2d"), Some(2.0));
        assert_eq!(parse_double("-Inf"), Some(f64::NEG_INFINITY));
        assert!(parse_double("NaN").unwrap().is_nan());
        assert_eq!(parse_double("nan"), None);
        assert_eq!(parse_double("inf"), None);
        assert_eq!(parse_double("abc"), None);
    }

    #[test]
    fn java_patterns_translate() {
        assert_eq!(java_to_chrono("dd/MM/yyyy"), "%d/%m/%Y");
        assert_eq!(
            java_to_chrono("yyyy-MM-dd'T'HH:mm:ss.SSS"),
            "%Y-%m-%dT%H:%M:%S.%3f"
        );
    }

    #[test]
    fn conversion_reports_failures() {
        let input = StringArray::from(vec![Some("1"), Some("x"), None]);
        let (arr, failed) = convert_strings(
            &input,
            &DataType::Int32,
            &DateTimeFormats::default(),
            &Tz::UTC,
        )
        .unwrap();
        assert_eq!(arr.null_count(), 2);
        assert_eq!(failed, vec![false, true, false]);
    }

    #[test]
    fn iso_output() {
        assert_eq!(
            format_timestamp_iso(1_577_872_800_000_000, &Tz::UTC).unwrap(),
            "2020-01-01T10:00:00.000Z"
        );
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        assert_eq!(
            format_timestamp_iso(1_577_872_800_000_000, &berlin).unwrap(),
            "2020-01-01T11:00:00.000+01:00"
        );
    }
}
