//! Spark's ANSI interval types (`INTERVAL DAY TO SECOND`, `INTERVAL YEAR TO MONTH`): their
//! fields and the text Spark writes for a value (`INTERVAL '1 02:03:04.5' DAY TO SECOND`).
//!
//! On Arrow a day-time interval is `Duration(Microsecond)` and a year-month interval is
//! `Interval(YearMonth)` (months). Arrow's types have no room for Spark's start and end
//! fields (`INTERVAL MINUTE` vs `INTERVAL DAY TO SECOND`), so columns are always the widest
//! form; literals keep the fields they were written with ([`IntervalFields`] in
//! `ScalarValue`), which is where Spark's fields change a result: the column names, and
//! `date + INTERVAL 1 DAY` being a date.

use std::fmt;

/// One field of an ANSI interval, in Spark's order (a type runs from a start field to an
/// end field at or after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IntervalField {
    /// `YEAR` (year-month intervals).
    Year,
    /// `MONTH` (year-month intervals).
    Month,
    /// `DAY` (day-time intervals).
    Day,
    /// `HOUR`.
    Hour,
    /// `MINUTE`.
    Minute,
    /// `SECOND` (with up to six fractional digits).
    Second,
}

impl IntervalField {
    /// True for `YEAR` and `MONTH`.
    pub fn is_year_month(self) -> bool {
        matches!(self, IntervalField::Year | IntervalField::Month)
    }

    /// The SQL keyword, upper case.
    pub fn keyword(self) -> &'static str {
        match self {
            IntervalField::Year => "YEAR",
            IntervalField::Month => "MONTH",
            IntervalField::Day => "DAY",
            IntervalField::Hour => "HOUR",
            IntervalField::Minute => "MINUTE",
            IntervalField::Second => "SECOND",
        }
    }
}

/// The start and end field of an interval type (`HOUR TO MINUTE`; `MINUTE` alone has
/// start == end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IntervalFields {
    /// The leading field.
    pub start: IntervalField,
    /// The trailing field, at or after `start`.
    pub end: IntervalField,
}

impl IntervalFields {
    /// `DAY TO SECOND`: what every day-time interval column is.
    pub const DAY_TO_SECOND: IntervalFields = IntervalFields {
        start: IntervalField::Day,
        end: IntervalField::Second,
    };
    /// `YEAR TO MONTH`: what every year-month interval column is.
    pub const YEAR_TO_MONTH: IntervalFields = IntervalFields {
        start: IntervalField::Year,
        end: IntervalField::Month,
    };

    /// Both fields the same.
    pub fn single(field: IntervalField) -> IntervalFields {
        IntervalFields {
            start: field,
            end: field,
        }
    }

    /// The narrowest fields covering both (Spark's result type of `+` on two intervals).
    pub fn union(self, other: IntervalFields) -> IntervalFields {
        IntervalFields {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// True for an interval of whole days only (`INTERVAL 1 DAY`, `INTERVAL 2 WEEKS`):
    /// Spark adds those to a date as days and keeps a date.
    pub fn is_days_only(self) -> bool {
        self.start == IntervalField::Day && self.end == IntervalField::Day
    }
}

impl fmt::Display for IntervalFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start.keyword())
        } else {
            write!(f, "{} TO {}", self.start.keyword(), self.end.keyword())
        }
    }
}

const MICROS_PER_SECOND: i128 = 1_000_000;
const MICROS_PER_MINUTE: i128 = 60 * MICROS_PER_SECOND;
const MICROS_PER_HOUR: i128 = 60 * MICROS_PER_MINUTE;
const MICROS_PER_DAY: i128 = 24 * MICROS_PER_HOUR;

/// Seconds with up to six fractional digits, trailing zeros dropped, at least two integer
/// digits (`00.1`, `04.5`, `59`).
fn seconds_text(micros: i128) -> String {
    let whole = micros / MICROS_PER_SECOND;
    let frac = micros % MICROS_PER_SECOND;
    let mut s = format!("{whole:02}");
    if frac != 0 {
        let digits = format!("{frac:06}");
        s.push('.');
        s.push_str(digits.trim_end_matches('0'));
    }
    s
}

/// Spark's ANSI text of a day-time interval value: `INTERVAL '1 02:03:04.5' DAY TO SECOND`,
/// `INTERVAL '02' MINUTE`, `INTERVAL '-00:50' HOUR TO MINUTE`. Fields after `end` are not
/// shown (as Spark, which never holds them in such a type).
pub fn day_time_text(micros: i64, fields: IntervalFields) -> String {
    // i128: the magnitude of i64::MIN does not fit an i64.
    let sign = if micros < 0 { "-" } else { "" };
    let mut rest = i128::from(micros).abs();
    let mut body = String::from(sign);
    let take = |rest: &mut i128, unit: i128| {
        let v = *rest / unit;
        *rest %= unit;
        v
    };
    match fields.start {
        IntervalField::Day => body.push_str(&take(&mut rest, MICROS_PER_DAY).to_string()),
        IntervalField::Hour => body.push_str(&format!("{:02}", take(&mut rest, MICROS_PER_HOUR))),
        IntervalField::Minute => {
            body.push_str(&format!("{:02}", take(&mut rest, MICROS_PER_MINUTE)))
        }
        _ => body.push_str(&seconds_text(rest)),
    }
    let (start, end) = (fields.start, fields.end);
    if start < IntervalField::Hour && IntervalField::Hour <= end {
        body.push_str(&format!(" {:02}", take(&mut rest, MICROS_PER_HOUR)));
    }
    if start < IntervalField::Minute && IntervalField::Minute <= end {
        body.push_str(&format!(":{:02}", take(&mut rest, MICROS_PER_MINUTE)));
    }
    if start < IntervalField::Second && IntervalField::Second <= end {
        body.push(':');
        body.push_str(&seconds_text(rest));
    }
    format!("INTERVAL '{body}' {fields}")
}

/// Spark's ANSI text of a year-month interval value: `INTERVAL '1-2' YEAR TO MONTH`,
/// `INTERVAL '14' MONTH`, `INTERVAL '-1' YEAR`.
pub fn year_month_text(months: i32, fields: IntervalFields) -> String {
    let sign = if months < 0 { "-" } else { "" };
    let abs = i64::from(months).abs();
    let body = match (fields.start, fields.end) {
        (IntervalField::Year, IntervalField::Year) => format!("{sign}{}", abs / 12),
        (IntervalField::Month, _) => months.to_string(),
        _ => format!("{sign}{}-{}", abs / 12, abs % 12),
    };
    format!("INTERVAL '{body}' {fields}")
}

#[cfg(test)]
mod tests {
    use super::IntervalField::*;
    use super::*;

    fn f(start: IntervalField, end: IntervalField) -> IntervalFields {
        IntervalFields { start, end }
    }

    // Expected texts are PySpark 4.3's `CAST(x AS STRING)` of the literals named.
    #[test]
    fn day_time_texts_match_spark() {
        let min = 60_000_000;
        assert_eq!(
            day_time_text(2 * min, IntervalFields::single(Minute)),
            "INTERVAL '02' MINUTE"
        );
        assert_eq!(
            day_time_text(90 * min, f(Hour, Minute)),
            "INTERVAL '01:30' HOUR TO MINUTE"
        );
        assert_eq!(
            day_time_text(93_784_500_000, IntervalFields::DAY_TO_SECOND),
            "INTERVAL '1 02:03:04.5' DAY TO SECOND"
        );
        assert_eq!(
            day_time_text(1_500_000, IntervalFields::single(Second)),
            "INTERVAL '01.5' SECOND"
        );
        assert_eq!(
            day_time_text(10, IntervalFields::single(Second)),
            "INTERVAL '00.00001' SECOND"
        );
        assert_eq!(
            day_time_text(0, IntervalFields::single(Second)),
            "INTERVAL '00' SECOND"
        );
        assert_eq!(
            day_time_text(-180 * min, IntervalFields::single(Hour)),
            "INTERVAL '-03' HOUR"
        );
        assert_eq!(
            day_time_text(-50 * min, f(Hour, Minute)),
            "INTERVAL '-00:50' HOUR TO MINUTE"
        );
        assert_eq!(
            day_time_text(23 * 60 * min, f(Day, Hour)),
            "INTERVAL '0 23' DAY TO HOUR"
        );
        assert_eq!(
            day_time_text(90 * 1_000_000, IntervalFields::single(Second)),
            "INTERVAL '90' SECOND"
        );
        // The extreme value does not overflow.
        assert!(day_time_text(i64::MIN, IntervalFields::DAY_TO_SECOND).starts_with("INTERVAL '-"));
    }

    #[test]
    fn year_month_texts_match_spark() {
        assert_eq!(
            year_month_text(14, IntervalFields::YEAR_TO_MONTH),
            "INTERVAL '1-2' YEAR TO MONTH"
        );
        assert_eq!(
            year_month_text(14, IntervalFields::single(Month)),
            "INTERVAL '14' MONTH"
        );
        assert_eq!(
            year_month_text(-12, IntervalFields::single(Year)),
            "INTERVAL '-1' YEAR"
        );
        assert_eq!(
            year_month_text(-14, IntervalFields::YEAR_TO_MONTH),
            "INTERVAL '-1-2' YEAR TO MONTH"
        );
    }
}
