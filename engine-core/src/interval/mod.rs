//! Spark's intervals: interval strings (`"10 minutes"`, `"interval 1 hour 30 minutes"`) as
//! durations for triggers and watermark delays (here), the ANSI interval types' fields and
//! text ([`fields`]) and SQL interval literals ([`literal`]).

pub mod fields;
pub mod literal;

use std::time::Duration;

use crate::{EngineError, Result};

/// Parses an interval the way Spark's `Trigger.ProcessingTime(String)` and
/// `withWatermark(col, delay)` do: an optional leading `interval`, then one or more
/// `<number> <unit>` pairs, units `week`, `day`, `hour`, `minute`, `second`, `millisecond`,
/// `microsecond` (singular or plural, any case). Numbers may have a fraction
/// (`1.5 seconds`). Months and years are refused, as in Spark: they have no fixed length.
///
/// ```
/// use std::time::Duration;
/// use engine_core::interval::parse_interval;
/// assert_eq!(parse_interval("10 minutes").unwrap(), Duration::from_secs(600));
/// assert_eq!(parse_interval("interval 1 hour 30 minutes").unwrap(), Duration::from_secs(5400));
/// assert_eq!(parse_interval("500 milliseconds").unwrap(), Duration::from_millis(500));
/// assert!(parse_interval("1 month").is_err());
/// ```
pub fn parse_interval(text: &str) -> Result<Duration> {
    let micros = parse_interval_micros(text)?;
    u64::try_from(micros).map(Duration::from_micros).map_err(|_| {
        EngineError::analysis(
            "INVALID_INTERVAL_FORMAT",
            format!(
                "Error parsing interval '{text}': the interval must not be negative. SQLSTATE: 22006"
            ),
        )
    })
}

/// [`parse_interval`] as signed microseconds: each `<number> <unit>` pair may be negative
/// (`-5 minutes`), as window start times and session gaps may be.
///
/// ```
/// use engine_core::interval::parse_interval_micros;
/// assert_eq!(parse_interval_micros("-2 minutes").unwrap(), -120_000_000);
/// assert_eq!(parse_interval_micros("1 hour -30 minutes").unwrap(), 1_800_000_000);
/// ```
pub fn parse_interval_micros(text: &str) -> Result<i64> {
    let bad = |why: &str| {
        EngineError::analysis(
            "INVALID_INTERVAL_FORMAT",
            format!("Error parsing interval '{text}': {why}. SQLSTATE: 22006"),
        )
    };
    let mut words = text.split_whitespace().peekable();
    if words
        .peek()
        .is_some_and(|w| w.eq_ignore_ascii_case("interval"))
    {
        words.next();
    }
    let mut micros: f64 = 0.0;
    let mut any = false;
    while let Some(num) = words.next() {
        let value: f64 = num
            .trim_matches(|c| c == '\'' || c == '"')
            .parse()
            .map_err(|_| bad(&format!("`{num}` is not a number")))?;
        let unit = words
            .next()
            .ok_or_else(|| bad(&format!("missing unit after `{num}`")))?
            .trim_matches(|c| c == '\'' || c == '"');
        let scale = match literal::unit_of(unit) {
            Some((field, _, _)) if field.is_year_month() => {
                return Err(EngineError::analysis(
                    "INVALID_INTERVAL_FORMAT",
                    format!(
                        "Error parsing interval '{text}': Doesn't support month or year interval. SQLSTATE: 22006"
                    ),
                ));
            }
            // Microseconds per unit: exact in an f64 (at most a week's 6.048e11).
            Some((_, micros_per_unit, _)) => micros_per_unit as f64,
            None => {
                let shown = unit.to_ascii_lowercase();
                let shown = shown.strip_suffix('s').unwrap_or(&shown);
                return Err(bad(&format!("unknown unit `{shown}`")));
            }
        };
        micros += value * scale;
        any = true;
    }
    if !any {
        return Err(bad("the interval is empty"));
    }
    // Beyond +-2^63 microseconds (about 292,000 years) nothing is meaningful.
    if !micros.is_finite() || micros.abs() >= 9.2e18 {
        return Err(bad("the interval is out of range"));
    }
    Ok(micros.round() as i64)
}

/// A delay as Spark prints intervals in plans (`10 seconds`, `1500 milliseconds`).
pub fn format_delay(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        let s = ms / 1000;
        format!("{s} second{}", if s == 1 { "" } else { "s" })
    } else {
        format!("{ms} milliseconds")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        let s = |t| parse_interval(t).unwrap();
        assert_eq!(s("1 second"), Duration::from_secs(1));
        assert_eq!(s("5 seconds"), Duration::from_secs(5));
        assert_eq!(s("1 day"), Duration::from_secs(86_400));
        assert_eq!(s("INTERVAL 2 HOURS"), Duration::from_secs(7_200));
        assert_eq!(s("1.5 seconds"), Duration::from_millis(1_500));
        assert_eq!(s("1 week"), Duration::from_secs(604_800));
        assert_eq!(s("0 seconds"), Duration::ZERO);
        assert_eq!(s("10 microseconds"), Duration::from_micros(10));
    }

    #[test]
    fn errors() {
        for t in [
            "",
            "interval",
            "ten seconds",
            "5",
            "5 fortnights",
            "-1 second",
            "2 years",
        ] {
            assert!(parse_interval(t).is_err(), "{t}");
        }
    }
}
