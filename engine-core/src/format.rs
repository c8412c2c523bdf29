//! Spark's text forms of values: what `CAST(x AS STRING)`, `show()` and the CLI print.
//!
//! Doubles print like Java's `Double.toString` (`1.0`, `1.0E10`, `NaN`, `Infinity`),
//! timestamps as `yyyy-MM-dd HH:mm:ss[.SSSSSS]` in the session time zone with trailing zeros
//! of the fraction dropped, dates as `yyyy-MM-dd`.

use chrono::{DateTime, Datelike, NaiveDate, Offset, TimeZone, Timelike};
use chrono_tz::Tz;

/// Java's `Double.toString` of `v`.
pub fn format_f64(v: f64) -> String {
    java_float(v, v.abs(), |x| format!("{x}"), |x| format!("{x:e}"))
}

/// Java's `Float.toString` of `v`.
pub fn format_f32(v: f32) -> String {
    java_float(
        f64::from(v),
        f64::from(v.abs()),
        |_| format!("{v}"),
        |_| format!("{v:e}"),
    )
}

fn java_float(
    v: f64,
    abs: f64,
    plain: impl Fn(f64) -> String,
    sci: impl Fn(f64) -> String,
) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    if (1e-3..1e7).contains(&abs) {
        let s = plain(v);
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        // Rust: `1.5e10`, `1e-5`; Java: `1.5E10`, `1.0E-5`.
        let s = sci(v);
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_string()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exp}")
    }
}

/// A DECIMAL's unscaled value with its scale: `format_decimal(150, 2) == "1.50"`.
pub fn format_decimal(unscaled: i128, scale: i8) -> String {
    if scale <= 0 {
        let mut s = unscaled.to_string();
        for _ in 0..(-scale) {
            s.push('0');
        }
        return s;
    }
    let neg = unscaled < 0;
    let digits = unscaled.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = if digits.len() <= scale {
        format!("{}{}", "0".repeat(scale - digits.len() + 1), digits)
    } else {
        digits
    };
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{}{int}.{frac}", if neg { "-" } else { "" })
}

/// Days since the epoch as `yyyy-MM-dd` (any `i32`: years past 9999 as `+12024`, before
/// year 1 as `-0044`, Java's `LocalDate.toString`).
pub fn format_date(days: i32) -> String {
    let (y, m, d) = crate::datetime_text::ymd_from_days(i64::from(days));
    format_ymd(y, m, d)
}

fn format_naive_date(d: NaiveDate) -> String {
    format_ymd(i64::from(d.year()), d.month(), d.day())
}

/// Java's `LocalDate.toString` year: four digits at least, `-` before negative years and
/// `+` before years of five digits or more.
fn format_ymd(y: i64, m: u32, d: u32) -> String {
    if y > 9999 {
        format!("+{y}-{m:02}-{d:02}")
    } else if y < 0 {
        format!("-{:04}-{m:02}-{d:02}", y.unsigned_abs())
    } else {
        format!("{y:04}-{m:02}-{d:02}")
    }
}

/// Microseconds since the epoch, shown in `tz`, Spark's way.
pub fn format_timestamp(micros: i64, tz: &Tz) -> String {
    if let Some(utc) = DateTime::from_timestamp_micros(micros) {
        let local = tz.from_utc_datetime(&utc.naive_utc());
        return format_naive_datetime(local.naive_local());
    }
    // Past chrono's years (±262143): the zone's offset at the end of its range.
    let edge = if micros < 0 {
        chrono::NaiveDateTime::MIN
    } else {
        chrono::NaiveDateTime::MAX
    };
    let offset = i64::from(tz.offset_from_utc_datetime(&edge).fix().local_minus_utc());
    let local = micros.saturating_add(offset.saturating_mul(1_000_000));
    let days = local.div_euclid(86_400_000_000);
    let of_day = local.rem_euclid(86_400_000_000);
    let (y, m, d) = crate::datetime_text::ymd_from_days(days);
    let secs = of_day / 1_000_000;
    let base = format!(
        "{} {:02}:{:02}:{:02}",
        format_ymd(y, m, d),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    with_fraction(base, of_day % 1_000_000)
}

/// `base` with Spark's fraction of a second: up to six digits, trailing zeros dropped.
fn with_fraction(base: String, micros: i64) -> String {
    if micros == 0 {
        base
    } else {
        let frac = format!("{micros:06}");
        format!("{base}.{}", frac.trim_end_matches('0'))
    }
}

/// Microseconds since the epoch in UTC (used in plan text, where no session is at hand).
pub fn format_timestamp_utc(micros: i64) -> String {
    format_timestamp(micros, &Tz::UTC)
}

/// Microseconds of a wall-clock time (TIMESTAMP_NTZ).
pub fn format_timestamp_ntz(micros: i64) -> String {
    format_timestamp_utc(micros)
}

fn format_naive_datetime(dt: chrono::NaiveDateTime) -> String {
    let date = format_naive_date(dt.date());
    let base = format!(
        "{date} {:02}:{:02}:{:02}",
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    with_fraction(base, i64::from(dt.nanosecond() / 1000))
}

/// Parses a session time zone id (`UTC`, `America/Los_Angeles`, `+02:00`, `Z`).
pub fn parse_time_zone(id: &str) -> Option<Tz> {
    if id.eq_ignore_ascii_case("Z") || id.eq_ignore_ascii_case("UTC") {
        return Some(Tz::UTC);
    }
    id.parse::<Tz>().ok().or_else(|| {
        // Fixed offsets map to the Etc/GMT zones (note their inverted sign).
        let (sign, rest) = match id.strip_prefix(['+', '-']) {
            Some(rest) => (id.starts_with('-'), rest),
            None => return None,
        };
        let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
        let h: i32 = h.parse().ok()?;
        let m: i32 = m.parse().ok()?;
        if m != 0 {
            return None;
        }
        let name = if h == 0 {
            "Etc/GMT".to_string()
        } else if sign {
            format!("Etc/GMT+{h}")
        } else {
            format!("Etc/GMT-{h}")
        };
        name.parse::<Tz>().ok()
    })
}

/// The text of `array[row]` as Spark shows it (`CAST(x AS STRING)` for scalars; arrays as
/// `[1, 2]`, structs as `{1, a}`, maps as `{k -> v}`, binary as `[41 42]`); `None` for NULL.
pub fn value_to_string(array: &dyn arrow::array::Array, row: usize, tz: &Tz) -> Option<String> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{self as t, DataType, TimeUnit};
    if array.is_null(row) {
        return None;
    }
    let nested = |a: &dyn arrow::array::Array, r: usize| {
        value_to_string(a, r, tz).unwrap_or_else(|| "NULL".to_string())
    };
    Some(match array.data_type() {
        DataType::Boolean => array.as_boolean().value(row).to_string(),
        DataType::Int8 => array.as_primitive::<t::Int8Type>().value(row).to_string(),
        DataType::Int16 => array.as_primitive::<t::Int16Type>().value(row).to_string(),
        DataType::Int32 => array.as_primitive::<t::Int32Type>().value(row).to_string(),
        DataType::Int64 => array.as_primitive::<t::Int64Type>().value(row).to_string(),
        DataType::UInt8 => array.as_primitive::<t::UInt8Type>().value(row).to_string(),
        DataType::UInt16 => array.as_primitive::<t::UInt16Type>().value(row).to_string(),
        DataType::UInt32 => array.as_primitive::<t::UInt32Type>().value(row).to_string(),
        DataType::UInt64 => array.as_primitive::<t::UInt64Type>().value(row).to_string(),
        DataType::Float32 => format_f32(array.as_primitive::<t::Float32Type>().value(row)),
        DataType::Float64 => format_f64(array.as_primitive::<t::Float64Type>().value(row)),
        DataType::Decimal128(_, s) => {
            format_decimal(array.as_primitive::<t::Decimal128Type>().value(row), *s)
        }
        DataType::Utf8 => array.as_string::<i32>().value(row).to_string(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(row).to_string(),
        DataType::Utf8View => array.as_string_view().value(row).to_string(),
        DataType::Binary => binary_text(array.as_binary::<i32>().value(row)),
        DataType::LargeBinary => binary_text(array.as_binary::<i64>().value(row)),
        DataType::Date32 => format_date(array.as_primitive::<t::Date32Type>().value(row)),
        DataType::Timestamp(unit, zone) => {
            let v = match unit {
                TimeUnit::Second => array
                    .as_primitive::<t::TimestampSecondType>()
                    .value(row)
                    .saturating_mul(1_000_000),
                TimeUnit::Millisecond => array
                    .as_primitive::<t::TimestampMillisecondType>()
                    .value(row)
                    .saturating_mul(1000),
                TimeUnit::Microsecond => array
                    .as_primitive::<t::TimestampMicrosecondType>()
                    .value(row),
                TimeUnit::Nanosecond => {
                    array
                        .as_primitive::<t::TimestampNanosecondType>()
                        .value(row)
                        / 1000
                }
            };
            match zone {
                Some(_) => format_timestamp(v, tz),
                None => format_timestamp_ntz(v),
            }
        }
        // Columns hold no interval fields: the widest form (see `interval::fields`).
        DataType::Duration(arrow::datatypes::TimeUnit::Microsecond) => {
            crate::interval::fields::day_time_text(
                array
                    .as_primitive::<t::DurationMicrosecondType>()
                    .value(row),
                crate::interval::fields::IntervalFields::DAY_TO_SECOND,
            )
        }
        DataType::Interval(arrow::datatypes::IntervalUnit::YearMonth) => {
            crate::interval::fields::year_month_text(
                array.as_primitive::<t::IntervalYearMonthType>().value(row),
                crate::interval::fields::IntervalFields::YEAR_TO_MONTH,
            )
        }
        DataType::List(_) => {
            let list = array.as_list::<i32>().value(row);
            let items: Vec<String> = (0..list.len()).map(|i| nested(list.as_ref(), i)).collect();
            format!("[{}]", items.join(", "))
        }
        DataType::LargeList(_) => {
            let list = array.as_list::<i64>().value(row);
            let items: Vec<String> = (0..list.len()).map(|i| nested(list.as_ref(), i)).collect();
            format!("[{}]", items.join(", "))
        }
        DataType::Struct(_) => {
            let s = array.as_struct();
            let items: Vec<String> = s
                .columns()
                .iter()
                .map(|c| nested(c.as_ref(), row))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        DataType::Map(_, _) => {
            let m = array.as_map();
            let entries = m.value(row);
            let items: Vec<String> = (0..entries.len())
                .map(|i| {
                    format!(
                        "{} -> {}",
                        nested(entries.column(0).as_ref(), i),
                        nested(entries.column(1).as_ref(), i)
                    )
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        DataType::Null => return None,
        other => format!("<{other}>"),
    })
}

fn binary_text(b: &[u8]) -> String {
    let hex: Vec<String> = b.iter().map(|x| format!("{x:02X}")).collect();
    format!("[{}]", hex.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(format_f64(1.0), "1.0");
        assert_eq!(format_f64(0.1), "0.1");
        assert_eq!(format_f64(1e7), "1.0E7");
        assert_eq!(format_f64(1.5e10), "1.5E10");
        assert_eq!(format_f64(1e-4), "1.0E-4");
        assert_eq!(format_f64(123456.789), "123456.789");
        assert_eq!(format_f64(f64::NAN), "NaN");
        assert_eq!(format_f64(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(format_f32(2.5), "2.5");
    }

    #[test]
    fn decimals_keep_scale() {
        assert_eq!(format_decimal(150, 2), "1.50");
        assert_eq!(format_decimal(-5, 3), "-0.005");
        assert_eq!(format_decimal(42, 0), "42");
    }

    #[test]
    fn timestamps_trim_fraction_and_use_zone() {
        assert_eq!(format_timestamp_utc(0), "1970-01-01 00:00:00");
        assert_eq!(format_timestamp_utc(1_500_000), "1970-01-01 00:00:01.5");
        let la = parse_time_zone("America/Los_Angeles").unwrap();
        assert_eq!(format_timestamp(0, &la), "1969-12-31 16:00:00");
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(format_date(18262), "2020-01-01");
    }

    #[test]
    fn fixed_offsets_parse() {
        let tz = parse_time_zone("+02:00").unwrap();
        assert_eq!(format_timestamp(0, &tz), "1970-01-01 02:00:00");
    }
}
