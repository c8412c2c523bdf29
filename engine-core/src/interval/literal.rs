//! Spark's interval literals as values: `INTERVAL 1 HOUR 30 MINUTES`, `INTERVAL '2' MINUTE`,
//! `INTERVAL '1 02:03:04.5' DAY TO SECOND`, `INTERVAL '1-2' YEAR TO MONTH` and the string
//! form `INTERVAL '1 hour 30 minutes'`, with Spark 4's ANSI typing (a year-month or a
//! day-time interval whose fields are the units written) and Spark's errors.

use super::fields::{IntervalField, IntervalFields};
use crate::{EngineError, Result};

/// An interval literal's value and the fields it was written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalLiteral {
    /// A day-time interval in microseconds.
    DayTime(i64, IntervalFields),
    /// A year-month interval in months.
    YearMonth(i32, IntervalFields),
}

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;
const MICROS_PER_HOUR: i64 = 60 * MICROS_PER_MINUTE;
const MICROS_PER_DAY: i64 = 24 * MICROS_PER_HOUR;

/// Spark's error for an interval beyond its type's range.
pub fn interval_overflow() -> EngineError {
    EngineError::execution(
        "INTERVAL_ARITHMETIC_OVERFLOW.WITHOUT_SUGGESTION",
        "Integer overflow while operating with intervals. Try devising appropriate values for the interval parameters. SQLSTATE: 22015",
    )
}

fn invalid_fraction(text: &str, unit: &str) -> EngineError {
    EngineError::analysis(
        "INVALID_INTERVAL_FORMAT.INVALID_FRACTION",
        format!(
            "Error parsing '{text}' to interval. Please ensure that the value provided is in a valid format for defining an interval. You can reference the documentation for the correct format. {unit} cannot have fractional part. SQLSTATE: 22006"
        ),
    )
}

fn not_a_number(value: &str) -> EngineError {
    EngineError::analysis(
        "PARSE_SYNTAX_ERROR",
        format!(
            "Can only use numbers in the interval value part for multiple unit value pairs interval form, but got invalid value: {value}."
        ),
    )
}

/// The field a unit word belongs to and its length in microseconds (months for year-month
/// units); `None` for a word that is no unit.
pub(super) fn unit_of(word: &str) -> Option<(IntervalField, i64, &'static str)> {
    let w = word.to_ascii_lowercase();
    let w = w.strip_suffix('s').unwrap_or(&w);
    Some(match w {
        "year" => (IntervalField::Year, 12, "years"),
        "month" => (IntervalField::Month, 1, "months"),
        "week" => (IntervalField::Day, 7 * MICROS_PER_DAY, "weeks"),
        "day" => (IntervalField::Day, MICROS_PER_DAY, "days"),
        "hour" => (IntervalField::Hour, MICROS_PER_HOUR, "hours"),
        "minute" => (IntervalField::Minute, MICROS_PER_MINUTE, "minutes"),
        "second" => (IntervalField::Second, MICROS_PER_SECOND, "seconds"),
        "millisecond" => (IntervalField::Second, 1_000, "milliseconds"),
        "microsecond" => (IntervalField::Second, 1, "microseconds"),
        _ => return None,
    })
}

/// True if `word` names an interval unit (`hour`, `MINUTES`, `week`, ...).
pub fn is_unit_word(word: &str) -> bool {
    unit_of(word).is_some()
}

/// `INTERVAL <value> <unit> [<value> <unit> ...]`: each value an integer (seconds may have
/// up to six fractional digits), optionally signed. All units year-month or all day-time.
/// `text` is the literal as written, for the error messages.
pub fn from_units(pairs: &[(String, String)], text: &str) -> Result<IntervalLiteral> {
    let mut fields: Option<IntervalFields> = None;
    let mut micros: i64 = 0;
    let mut months: i32 = 0;
    for (value, unit_word) in pairs {
        let (field, scale, plural) = unit_of(unit_word).ok_or_else(|| {
            EngineError::analysis(
                "INVALID_INTERVAL_FORMAT.INVALID_UNIT",
                format!(
                    "Error parsing '{text}' to interval. Please ensure that the value provided is in a valid format for defining an interval. You can reference the documentation for the correct format. Invalid unit '{unit_word}'. SQLSTATE: 22006"
                ),
            )
        })?;
        let f = IntervalFields::single(field);
        fields = Some(fields.map_or(f, |g| g.union(f)));
        let v = value.trim();
        let (negative, digits) = match v.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, v.strip_prefix('+').unwrap_or(v)),
        };
        let (whole, frac) = match digits.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (digits, None),
        };
        let numeric = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !numeric(whole) || frac.is_some_and(|f| !numeric(f)) {
            return Err(not_a_number(value));
        }
        let whole: i64 = whole.parse().map_err(|_| interval_overflow())?;
        let frac_micros = match frac {
            None | Some("") => 0,
            Some(f) if plural == "seconds" => {
                // Up to microseconds; further digits are cut, as Spark does.
                let six: String = f.chars().chain(std::iter::repeat('0')).take(6).collect();
                six.parse::<i64>().map_err(|_| not_a_number(value))?
            }
            Some(_) => return Err(invalid_fraction(&format!(" {v} {unit_word}"), plural)),
        };
        if field.is_year_month() {
            let m = whole
                .checked_mul(scale)
                .and_then(|m| i32::try_from(m).ok())
                .ok_or_else(interval_overflow)?;
            let m = if negative { -m } else { m };
            months = months.checked_add(m).ok_or_else(interval_overflow)?;
        } else {
            let us = whole
                .checked_mul(scale)
                .and_then(|u| u.checked_add(frac_micros))
                .ok_or_else(interval_overflow)?;
            let us = if negative { -us } else { us };
            micros = micros.checked_add(us).ok_or_else(interval_overflow)?;
        }
    }
    let fields = fields.ok_or_else(|| {
        EngineError::analysis(
            "INVALID_TYPED_LITERAL",
            format!(
                "The value of the typed literal \"INTERVAL\" is invalid: '{text}'. SQLSTATE: 42604"
            ),
        )
    })?;
    if fields.start.is_year_month() != fields.end.is_year_month() {
        return Err(EngineError::analysis(
            "_LEGACY_ERROR_TEMP_0029",
            format!("Cannot mix year-month and day-time fields: {text}."),
        ));
    }
    // Spark's day-time range: whole days must fit what its type allows (106751991 days).
    if !fields.start.is_year_month() && micros.checked_abs().is_none() {
        return Err(interval_overflow());
    }
    Ok(if fields.start.is_year_month() {
        IntervalLiteral::YearMonth(months, fields)
    } else {
        IntervalLiteral::DayTime(micros, fields)
    })
}

/// `INTERVAL '1 hour 30 minutes'`: the unit pairs inside one string.
pub fn from_multi_unit_string(s: &str) -> Result<IntervalLiteral> {
    let invalid = || {
        EngineError::analysis(
            "INVALID_TYPED_LITERAL",
            format!(
                "The value of the typed literal \"INTERVAL\" is invalid: '{s}'. SQLSTATE: 42604"
            ),
        )
    };
    let mut words = s.split_whitespace().peekable();
    if words
        .peek()
        .is_some_and(|w| w.eq_ignore_ascii_case("interval"))
    {
        words.next();
    }
    let words: Vec<&str> = words.collect();
    if words.is_empty() || !words.len().is_multiple_of(2) {
        return Err(invalid());
    }
    let pairs: Vec<(String, String)> = words
        .chunks(2)
        .map(|c| (c[0].to_string(), c[1].to_string()))
        .collect();
    from_units(&pairs, &format!("INTERVAL '{s}'")).map_err(|_| invalid())
}

/// `INTERVAL '<text>' <start> TO <end>`: Spark's fixed formats (`[+|-]d h:m:s.n` for
/// `DAY TO SECOND`, `[+|-]h:m` for `HOUR TO MINUTE`, `[+|-]y-m` for `YEAR TO MONTH`, ...).
/// The leading field is unbounded; the others must be in range (hour 0-23, ...).
pub fn from_unit_string(text: &str, fields: IntervalFields) -> Result<IntervalLiteral> {
    if fields.start == fields.end {
        let unit = fields.start.keyword();
        return from_units(
            &[(text.trim().to_string(), unit.to_string())],
            &format!("INTERVAL '{text}' {unit}"),
        );
    }
    let t = text.trim();
    let (negative, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if fields.start.is_year_month() {
        let bad = || unmatched(text, fields, "[+|-]y-m");
        if fields != IntervalFields::YEAR_TO_MONTH {
            return Err(bad());
        }
        let (y, m) = body.split_once('-').ok_or_else(bad)?;
        let y: i32 = number(y).ok_or_else(bad)?;
        let m: i32 = number(m).ok_or_else(bad)?;
        if m > 11 {
            return Err(out_of_range("month", m, 11));
        }
        let months = y
            .checked_mul(12)
            .and_then(|v| v.checked_add(m))
            .ok_or_else(interval_overflow)?;
        return Ok(IntervalLiteral::YearMonth(
            if negative { -months } else { months },
            fields,
        ));
    }
    let pattern = day_time_pattern(fields);
    let bad = || unmatched(text, fields, &pattern);
    // Split the body into the fields' parts: `d h:m:s.n` -> [d, h, m, s.n].
    let parts: Vec<&str> = if fields.start == IntervalField::Day {
        let (d, rest) = body.split_once(' ').ok_or_else(bad)?;
        std::iter::once(d).chain(rest.split(':')).collect()
    } else {
        body.split(':').collect()
    };
    let mut field = fields.start;
    let wanted = field_count(fields);
    if parts.len() != wanted {
        return Err(bad());
    }
    let mut micros: i64 = 0;
    for (i, part) in parts.iter().enumerate() {
        let leading = i == 0;
        let value = if field == IntervalField::Second {
            let (w, f) = part.split_once('.').unwrap_or((part, ""));
            let w: i64 = number(w).ok_or_else(bad)?;
            if !f.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            if !leading && w > 59 {
                return Err(out_of_range("second", w, 59));
            }
            let six: String = f.chars().chain(std::iter::repeat('0')).take(6).collect();
            let f: i64 = six.parse().map_err(|_| bad())?;
            w.checked_mul(MICROS_PER_SECOND)
                .and_then(|v| v.checked_add(f))
                .ok_or_else(interval_overflow)?
        } else {
            let v: i64 = number(part).ok_or_else(bad)?;
            let (unit, max, name) = match field {
                IntervalField::Day => (MICROS_PER_DAY, i64::MAX, "day"),
                IntervalField::Hour => (MICROS_PER_HOUR, 23, "hour"),
                _ => (MICROS_PER_MINUTE, 59, "minute"),
            };
            if !leading && v > max {
                return Err(out_of_range(name, v, max));
            }
            v.checked_mul(unit).ok_or_else(interval_overflow)?
        };
        micros = micros.checked_add(value).ok_or_else(interval_overflow)?;
        field = next_field(field);
    }
    Ok(IntervalLiteral::DayTime(
        if negative { -micros } else { micros },
        fields,
    ))
}

fn number<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn next_field(f: IntervalField) -> IntervalField {
    match f {
        IntervalField::Year => IntervalField::Month,
        IntervalField::Day => IntervalField::Hour,
        IntervalField::Hour => IntervalField::Minute,
        _ => IntervalField::Second,
    }
}

fn field_count(fields: IntervalFields) -> usize {
    let rank = |f: IntervalField| match f {
        IntervalField::Day | IntervalField::Year => 0usize,
        IntervalField::Hour | IntervalField::Month => 1,
        IntervalField::Minute => 2,
        IntervalField::Second => 3,
    };
    rank(fields.end).saturating_sub(rank(fields.start)) + 1
}

fn day_time_pattern(fields: IntervalFields) -> String {
    let mut p = String::from("[+|-]");
    let mut f = fields.start;
    loop {
        p.push_str(match f {
            IntervalField::Day => "d",
            IntervalField::Hour => "h",
            IntervalField::Minute => "m",
            _ => "s.n",
        });
        if f >= fields.end {
            break;
        }
        p.push(if f == IntervalField::Day { ' ' } else { ':' });
        f = next_field(f);
    }
    p
}

fn unmatched(text: &str, fields: IntervalFields, pattern: &str) -> EngineError {
    let kind = if fields.start.is_year_month() {
        "year-month"
    } else {
        "day-time"
    };
    let type_name = fields.to_string().to_lowercase();
    EngineError::analysis(
        "INVALID_INTERVAL_FORMAT.UNMATCHED_FORMAT_STRING_WITH_NOTICE",
        format!(
            "Error parsing '{text}' to interval. Please ensure that the value provided is in a valid format for defining an interval. You can reference the documentation for the correct format. Interval string does not match {kind} format of `{pattern}`, `INTERVAL [+|-]'{pattern}' {fields}` when cast to interval {type_name}: {text}. SQLSTATE: 22006"
        ),
    )
}

fn out_of_range(name: &str, value: impl std::fmt::Display, max: i64) -> EngineError {
    EngineError::analysis(
        "PARSE_SYNTAX_ERROR",
        format!("requirement failed: {name} {value} outside range [0, {max}]."),
    )
}

#[cfg(test)]
mod tests {
    use super::IntervalField::*;
    use super::*;

    fn units(s: &str) -> Result<IntervalLiteral> {
        let words: Vec<&str> = s.split_whitespace().collect();
        let pairs: Vec<(String, String)> = words
            .chunks(2)
            .map(|c| (c[0].to_string(), c[1].to_string()))
            .collect();
        from_units(&pairs, &format!("INTERVAL {s}"))
    }

    fn dt(micros: i64, start: IntervalField, end: IntervalField) -> IntervalLiteral {
        IntervalLiteral::DayTime(micros, IntervalFields { start, end })
    }

    // Expected values and fields: PySpark 4.3 (`typeof` and `CAST(.. AS STRING)`).
    #[test]
    fn unit_pairs_type_like_spark() {
        assert_eq!(units("2 MINUTES").unwrap(), dt(120_000_000, Minute, Minute));
        assert_eq!(
            units("1 HOUR 30 MINUTES").unwrap(),
            dt(5_400_000_000, Hour, Minute)
        );
        assert_eq!(units("3 WEEKS").unwrap(), dt(21 * MICROS_PER_DAY, Day, Day));
        assert_eq!(units("1.5 SECONDS").unwrap(), dt(1_500_000, Second, Second));
        assert_eq!(
            units("1 MICROSECOND 1 MILLISECOND").unwrap(),
            dt(1_001, Second, Second)
        );
        assert_eq!(
            units("-3 HOURS").unwrap(),
            dt(-3 * MICROS_PER_HOUR, Hour, Hour)
        );
        assert_eq!(
            units("0 DAYS 25 HOURS").unwrap(),
            dt(25 * MICROS_PER_HOUR, Day, Hour)
        );
        assert_eq!(
            units("1 YEAR 2 MONTHS").unwrap(),
            IntervalLiteral::YearMonth(14, IntervalFields::YEAR_TO_MONTH)
        );
    }

    #[test]
    fn unit_pair_errors_are_spark_s() {
        let msg = |s: &str| units(s).unwrap_err().to_string();
        assert!(msg("1.5 HOURS").contains("hours cannot have fractional part"));
        assert!(msg("1 MONTH 2 DAYS").contains("Cannot mix year-month and day-time fields"));
        assert!(msg("abc MINUTE").contains("but got invalid value: abc"));
        assert!(msg("106751992 DAYS").contains("INTERVAL_ARITHMETIC_OVERFLOW"));
        assert!(units("106751991 DAYS").is_ok());
        assert!(msg("99999999999999999999 SECONDS").contains("INTERVAL_ARITHMETIC_OVERFLOW"));
    }

    #[test]
    fn unit_strings_follow_spark_formats() {
        let f = |s, e| IntervalFields { start: s, end: e };
        assert_eq!(
            from_unit_string("1 02:03:04.5", f(Day, Second)).unwrap(),
            dt(93_784_500_000, Day, Second)
        );
        assert_eq!(
            from_unit_string("-1 02:03:04.123456789", f(Day, Second)).unwrap(),
            dt(-93_784_123_456, Day, Second)
        );
        assert_eq!(
            from_unit_string("25:00", f(Hour, Minute)).unwrap(),
            dt(25 * MICROS_PER_HOUR, Hour, Minute)
        );
        assert_eq!(
            from_unit_string("+10", f(Second, Second)).unwrap(),
            dt(10_000_000, Second, Second)
        );
        assert_eq!(
            from_unit_string("1-2", IntervalFields::YEAR_TO_MONTH).unwrap(),
            IntervalLiteral::YearMonth(14, IntervalFields::YEAR_TO_MONTH)
        );
        let err = |s, fs| from_unit_string(s, fs).unwrap_err().to_string();
        assert!(err("1:60", f(Hour, Minute)).contains("minute 60 outside range [0, 59]"));
        assert!(
            err("1 2", f(Day, Second))
                .contains("does not match day-time format of `[+|-]d h:m:s.n`")
        );
        assert!(err("1", f(Day, Hour)).contains("`[+|-]d h`"));
        assert!(err("10.5", f(Minute, Minute)).contains("minutes cannot have fractional part"));
    }

    proptest::proptest! {
        // Literal text is user input: no text may panic the parsers, whatever the fields.
        #[test]
        fn no_text_panics(text in "[-+0-9 :.a-zA-Z]{0,24}", start in 0usize..6, len in 0usize..4) {
            let all = [Year, Month, Day, Hour, Minute, Second];
            let start_f = all[start];
            let end_f = all[(start + len).min(5)];
            let _ = from_unit_string(&text, IntervalFields { start: start_f, end: end_f });
            let _ = from_multi_unit_string(&text);
            let pairs = vec![(text.clone(), "second".to_string()), (text, "days".to_string())];
            let _ = from_units(&pairs, "fuzz");
        }
    }

    #[test]
    fn multi_unit_strings() {
        assert_eq!(
            from_multi_unit_string("1 hour 30 minutes").unwrap(),
            dt(5_400_000_000, Hour, Minute)
        );
        assert_eq!(
            from_multi_unit_string("2 minutes").unwrap(),
            dt(120_000_000, Minute, Minute)
        );
        assert!(
            from_multi_unit_string("x minutes")
                .unwrap_err()
                .to_string()
                .contains("INVALID_TYPED_LITERAL")
        );
    }
}
