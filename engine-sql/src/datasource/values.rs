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

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// `yyyy-MM-dd` strictly (Spark's default date format).
pub fn parse_date_default(s: &str) -> Option<NaiveDate> {
    let b = s.trim().as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(
        digits(&b[0..4])? as i32,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    )
}

/// Spark's default timestamp parsing: `yyyy-MM-dd[( |T)HH:mm[:ss[.fraction]]][zone]` with
/// zone `Z`, `±HH:mm`, `±HHmm` or `±HH`; without a zone the text is in `tz`. With
/// `allow_date_only` a bare date means midnight.
pub fn parse_timestamp_default(s: &str, tz: &Tz, allow_date_only: bool) -> Option<i64> {
    let s = s.trim();
    let date = parse_date_default(s.get(..10)?)?;
    let rest = &s[10..];
    if rest.is_empty() {
        return allow_date_only.then(|| local_to_micros(&date.and_time(NaiveTime::MIN), tz))?;
    }
    let rest = rest.strip_prefix(['T', ' '])?;
    let b = rest.as_bytes();
    if b.len() < 5 || b[2] != b':' {
        return None;
    }
    let h = digits(&b[0..2])?;
    let m = digits(&b[3..5])?;
    let mut i = 5;
    let mut sec = 0;
    let mut nanos = 0u32;
    if b.len() >= 8 && b[5] == b':' {
        sec = digits(&b[6..8])?;
        i = 8;
        if b.len() > 8 && b[8] == b'.' {
            let start = 9;
            let mut end = start;
            while end < b.len() && b[end].is_ascii_digit() {
                end += 1;
            }
            if end == start || end - start > 9 {
                return None;
            }
            let frac = digits(&b[start..end])?;
            nanos = frac * 10u32.pow(9 - (end - start) as u32);
            i = end;
        }
    }
    let time = NaiveTime::from_hms_nano_opt(h, m, sec, nanos)?;
    let local = date.and_time(time);
    let zone = rest[i..].trim_start();
    if zone.is_empty() {
        return local_to_micros(&local, tz);
    }
    let offset_secs = if zone == "Z" || zone == "UTC" {
        0
    } else {
        let (sign, z) = match zone.as_bytes()[0] {
            b'+' => (1, &zone[1..]),
            b'-' => (-1, &zone[1..]),
            _ => {
                // A region id: `2020-01-01 10:00:00 America/New_York`.
                let tz: Tz = zone.parse().ok()?;
                return local_to_micros(&local, &tz);
            }
        };
        let zb: Vec<u8> = z.bytes().filter(|c| *c != b':').collect();
        let (hh, mm) = match zb.len() {
            2 => (digits(&zb)?, 0),
            4 => (digits(&zb[..2])?, digits(&zb[2..])?),
            _ => return None,
        };
        sign * (hh as i64 * 3600 + mm as i64 * 60)
    };
    Some(local.and_utc().timestamp_micros() - offset_secs * 1_000_000)
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
                    None => parse_date_default(s),
                    Some(p) => NaiveDate::parse_from_str(s, p).ok(),
                });
                b.append_option(d.map(days_from_date));
            }
            Arc::new(b.finish())
        }
        DataType::Timestamp(TimeUnit::Microsecond, zone) => {
            let mut b = TimestampMicrosecondBuilder::with_capacity(input.len());
            // TIMESTAMP_NTZ text is wall-clock time: parse it as if in UTC.
            let ptz = if zone.is_some() { *tz } else { Tz::UTC };
            for v in input.iter() {
                b.append_option(v.and_then(|s| match &formats.timestamp {
                    None => parse_timestamp_default(s, &ptz, true),
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
    fn default_timestamp_forms() {
        let utc = Tz::UTC;
        let want = 1_577_872_800_000_000; // 2020-01-01T10:00:00Z
        assert_eq!(
            parse_timestamp_default("2020-01-01 10:00:00", &utc, false),
            Some(want)
        );
        assert_eq!(
            parse_timestamp_default("2020-01-01T10:00:00Z", &utc, false),
            Some(want)
        );
        assert_eq!(
            parse_timestamp_default("2020-01-01T12:00:00+02:00", &utc, false),
            Some(want)
        );
        assert_eq!(
            parse_timestamp_default("2020-01-01T10:00:00.5", &utc, false),
            Some(want + 500_000)
        );
        assert_eq!(parse_timestamp_default("2020-01-01", &utc, false), None);
        assert!(parse_timestamp_default("2020-01-01", &utc, true).is_some());
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        assert_eq!(
            parse_timestamp_default("2020-01-01 11:00:00", &berlin, false),
            Some(want)
        );
        assert_eq!(parse_timestamp_default("hello", &utc, false), None);
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
