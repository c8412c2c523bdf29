//! Spark's datetime patterns (`yyyy-MM-dd HH:mm:ss.SSS`, `EEE, d MMM`, `XXX`, ...): compiled
//! once per batch into a [`DateTimePattern`] that formats wall-clock times and parses text.
//!
//! Formatting is done here field by field (exactly Spark's widths and names); parsing goes
//! through chrono's parser with the equivalent items, then fills Spark's defaults (missing
//! month/day = 1, missing time = midnight, `yy` = 2000-2099).

use std::fmt::Write;

use crate::{EngineError, Result};
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Timelike};
use chrono_tz::Tz;

/// One element of a compiled pattern.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Lit(String),
    Era,
    Year(usize),
    Month(usize),
    Day(usize),
    DayOfYear(usize),
    Quarter(usize),
    Weekday(usize),
    AmPm,
    Hour24(usize),
    Hour12(usize),
    Hour0To11(usize),
    Hour1To24(usize),
    Minute(usize),
    Second(usize),
    Fraction(usize),
    OffsetX(usize),
    Offsetx(usize),
    OffsetZ(usize),
    OffsetO(usize),
    ZoneName(usize),
    ZoneId,
}

/// A compiled Spark datetime pattern.
#[derive(Debug, Clone)]
pub struct DateTimePattern {
    pattern: String,
    toks: Vec<Tok>,
}

/// Spark's error for a pattern java.time cannot build (too many letters, week-based
/// fields, ...).
fn unrecognized_pattern(pattern: &str) -> EngineError {
    EngineError::execution(
        "INCONSISTENT_BEHAVIOR_CROSS_VERSION.DATETIME_PATTERN_RECOGNITION",
        format!(
            "You may get a different result due to the upgrading to Spark >= 3.0:\nFail to recognize '{pattern}' pattern in the DateTimeFormatter.\n1) You can set \"spark.sql.legacy.timeParserPolicy\" to \"LEGACY\" to restore the behavior before Spark 3.0.\n2) You can form a valid datetime pattern with the guide from 'https://spark.apache.org/docs/latest/sql-ref-datetime-pattern.html'. SQLSTATE: 42K0B"
        ),
    )
}

/// Spark's default `to_timestamp`/`unix_timestamp`/`from_unixtime` pattern.
pub const DEFAULT_TIMESTAMP_PATTERN: &str = "yyyy-MM-dd HH:mm:ss";

impl DateTimePattern {
    /// Compiles `pattern`, failing with Spark's `INVALID_DATETIME_PATTERN` (or the
    /// week-based-pattern error) for letters Spark rejects.
    pub fn new(pattern: &str) -> Result<Self> {
        let toks = lex(pattern)?;
        Ok(DateTimePattern {
            pattern: pattern.to_string(),
            toks,
        })
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Appends the wall-clock time `dt` (in zone `tz`, used by zone letters) to `out`.
    pub fn format_into(&self, dt: &NaiveDateTime, tz: &Tz, out: &mut String) {
        for t in &self.toks {
            format_tok(t, dt, tz, out);
        }
    }

    /// Formats an instant (microseconds since the epoch) in `tz`.
    pub fn format_micros(&self, micros: i64, tz: &Tz, out: &mut String) -> bool {
        match chrono::DateTime::from_timestamp_micros(micros) {
            Some(utc) => {
                let local = tz.from_utc_datetime(&utc.naive_utc()).naive_local();
                self.format_into(&local, tz, out);
                true
            }
            None => false,
        }
    }

    /// Parses `text` into a wall-clock time and the zone it named, if any.
    ///
    /// Strict like Spark's (java.time) parser: `MM`/`dd`/`HH`/... need exactly two digits,
    /// `M`/`d`/`H` one or two, fractions `S..S` one up to their length; names and literals
    /// match case-insensitively; the whole text must be consumed; invalid dates fail.
    /// Missing fields default to 1970-01-01 00:00:00 (`yy` reads as 2000-2099).
    pub fn parse(&self, text: &str) -> Option<(NaiveDateTime, ParsedZone)> {
        parse_with(&self.toks, text)
    }

    /// Parses `text` to an instant in microseconds; times without a zone are read in `tz`.
    pub fn parse_micros(&self, text: &str, tz: &Tz) -> Option<i64> {
        let (ndt, zone) = self.parse(text)?;
        match zone {
            ParsedZone::Offset(o) => {
                Some(ndt.and_utc().timestamp_micros() - i64::from(o) * 1_000_000)
            }
            ParsedZone::Zone(z) => local_to_micros(&ndt, &z),
            ParsedZone::None => local_to_micros(&ndt, tz),
        }
    }
}

/// The zone a parsed text carried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParsedZone {
    /// No zone: read the time in the session zone.
    None,
    /// A fixed offset from UTC in seconds (`+02:00`, `Z`).
    Offset(i32),
    /// A region (`America/Los_Angeles`).
    Zone(Tz),
}

#[derive(Default)]
struct Fields {
    year: Option<i64>,
    month: Option<u32>,
    day: Option<u32>,
    day_of_year: Option<u32>,
    hour: Option<u32>,
    hour12: Option<u32>,
    pm: Option<bool>,
    minute: Option<u32>,
    second: Option<u32>,
    nanos: Option<u32>,
}

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    /// `min..=max` ASCII digits.
    fn digits(&mut self, min: usize, max: usize) -> Option<(i64, usize)> {
        let r = self.rest().as_bytes();
        let n = r
            .iter()
            .take(max)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if n < min || n == 0 {
            return None;
        }
        let v = self.rest()[..n].parse().ok()?;
        self.pos += n;
        Some((v, n))
    }

    /// One of `names` (case-insensitive, longest first is the caller's order); its index.
    fn name(&mut self, names: &[&str]) -> Option<usize> {
        let r = self.rest();
        for (i, n) in names.iter().enumerate() {
            if r.len() >= n.len()
                && r.is_char_boundary(n.len())
                && r[..n.len()].eq_ignore_ascii_case(n)
            {
                self.pos += n.len();
                return Some(i);
            }
        }
        None
    }

    fn lit(&mut self, l: &str) -> Option<()> {
        let r = self.rest();
        if r.len() >= l.len() && r.is_char_boundary(l.len()) && r[..l.len()].eq_ignore_ascii_case(l)
        {
            self.pos += l.len();
            Some(())
        } else {
            None
        }
    }

    /// `Z`, `+h`, `+hh`, `+hhmm`, `+hh:mm`, `+hh:mm:ss`, optionally after `GMT`/`UTC`.
    fn offset(&mut self) -> Option<i32> {
        if self.lit("Z").is_some() {
            return Some(0);
        }
        let had_prefix = self.lit("GMT").is_some() || self.lit("UTC").is_some();
        let sign = match self.rest().as_bytes().first() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ if had_prefix => return Some(0),
            _ => return None,
        };
        self.pos += 1;
        let (h, _) = self.digits(1, 2)?;
        let mut secs = h * 3600;
        let colon = self.lit(":").is_some();
        if let Some((m, _)) = self.digits(2, 2) {
            secs += m * 60;
            // Seconds follow with the same separator style as the minutes.
            let sep_ok = !colon || self.lit(":").is_some();
            if sep_ok && let Some((sx, _)) = self.digits(2, 2) {
                secs += sx;
            }
        } else if colon {
            return None;
        }
        if h > 18 {
            return None;
        }
        Some(sign * secs as i32)
    }
}

fn next_is_numeric(toks: &[Tok], i: usize) -> bool {
    matches!(
        toks.get(i + 1),
        Some(
            Tok::Year(_)
                | Tok::Month(1 | 2)
                | Tok::Day(_)
                | Tok::DayOfYear(_)
                | Tok::Hour24(_)
                | Tok::Hour12(_)
                | Tok::Hour0To11(_)
                | Tok::Hour1To24(_)
                | Tok::Minute(_)
                | Tok::Second(_)
                | Tok::Fraction(_)
        )
    )
}

fn parse_with(toks: &[Tok], text: &str) -> Option<(NaiveDateTime, ParsedZone)> {
    let mut c = Cursor { s: text, pos: 0 };
    let mut f = Fields::default();
    let mut zone = ParsedZone::None;
    // A one- or two-letter field reads 1-2 digits resp. exactly 2.
    let width = |n: usize| if n == 1 { (1, 2) } else { (n, n) };
    let short_months: Vec<&str> = MONTHS.iter().map(|m| &m[..3]).collect();
    let short_days: Vec<&str> = WEEKDAYS.iter().map(|d| &d[..3]).collect();
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Lit(l) => c.lit(l)?,
            Tok::Era => {
                c.name(&["AD", "BC"])?;
            }
            Tok::Year(2) => f.year = Some(2000 + c.digits(2, 2)?.0),
            Tok::Year(n) => {
                // Adjacent numeric fields (yyyyMMdd) make the year fixed-width.
                let max = if next_is_numeric(toks, i) {
                    (*n).max(4)
                } else {
                    10
                };
                f.year = Some(c.digits(*n, max)?.0);
            }
            Tok::Month(n) if *n <= 2 => {
                let (lo, hi) = width(*n);
                f.month = Some(c.digits(lo, hi)?.0 as u32);
            }
            Tok::Month(3) => f.month = Some(c.name(&short_months)? as u32 + 1),
            Tok::Month(_) => f.month = Some(c.name(&MONTHS)? as u32 + 1),
            Tok::Day(n) => {
                let (lo, hi) = width(*n);
                f.day = Some(c.digits(lo, hi)?.0 as u32);
            }
            Tok::DayOfYear(n) => {
                let (lo, hi) = if *n == 3 { (3, 3) } else { (*n, 3) };
                f.day_of_year = Some(c.digits(lo, hi)?.0 as u32);
            }
            Tok::Quarter(n) => {
                if *n >= 3 {
                    c.lit("Q")?;
                }
                c.digits(1, 1)?;
            }
            Tok::Weekday(n) => {
                if *n >= 4 {
                    c.name(&WEEKDAYS)?;
                } else {
                    c.name(&short_days)?;
                }
            }
            Tok::AmPm => f.pm = Some(c.name(&["AM", "PM"])? == 1),
            Tok::Hour24(n) | Tok::Hour1To24(n) => {
                let (lo, hi) = width(*n);
                f.hour = Some(c.digits(lo, hi)?.0 as u32 % 24);
            }
            Tok::Hour12(n) | Tok::Hour0To11(n) => {
                let (lo, hi) = width(*n);
                f.hour12 = Some(c.digits(lo, hi)?.0 as u32);
            }
            Tok::Minute(n) => {
                let (lo, hi) = width(*n);
                f.minute = Some(c.digits(lo, hi)?.0 as u32);
            }
            Tok::Second(n) => {
                let (lo, hi) = width(*n);
                f.second = Some(c.digits(lo, hi)?.0 as u32);
            }
            Tok::Fraction(n) => {
                // Spark parses fractions of variable length, up to the pattern's.
                let (v, len) = c.digits(1, *n)?;
                f.nanos = Some((v * 10i64.pow(9 - len as u32)) as u32);
            }
            Tok::OffsetX(_) | Tok::Offsetx(_) | Tok::OffsetZ(_) | Tok::OffsetO(_) => {
                zone = ParsedZone::Offset(c.offset()?);
            }
            Tok::ZoneName(_) | Tok::ZoneId => {
                let r = c.rest();
                let len = r
                    .find(|ch: char| !(ch.is_ascii_alphanumeric() || "/_+-:".contains(ch)))
                    .unwrap_or(r.len());
                let tz = crate::format::parse_time_zone(&r[..len])?;
                c.pos += len;
                zone = ParsedZone::Zone(tz);
            }
        }
    }
    if c.pos != text.len() {
        return None;
    }
    let year = i32::try_from(f.year.unwrap_or(1970)).ok()?;
    let date = match (f.day_of_year, f.month, f.day) {
        (Some(doy), None, None) => NaiveDate::from_yo_opt(year, doy)?,
        (doy, m, d) => {
            let date = NaiveDate::from_ymd_opt(year, m.unwrap_or(1), d.unwrap_or(1))?;
            if doy.is_some_and(|x| x != date.ordinal()) {
                return None;
            }
            date
        }
    };
    let hour = match (f.hour, f.hour12) {
        (Some(h), _) => h,
        (None, Some(h)) => {
            if !(1..=12).contains(&h) && h != 0 {
                return None;
            }
            h % 12 + if f.pm == Some(true) { 12 } else { 0 }
        }
        (None, None) => {
            if f.pm == Some(true) {
                12
            } else {
                0
            }
        }
    };
    let time = NaiveTime::from_hms_nano_opt(
        hour,
        f.minute.unwrap_or(0),
        f.second.unwrap_or(0),
        f.nanos.unwrap_or(0),
    )?;
    Some((NaiveDateTime::new(date, time), zone))
}

pub use crate::datetime_text::local_to_micros;

fn lex(pattern: &str) -> Result<Vec<Tok>> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut toks = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // '' is a quote; '...' is literal text.
            if chars.get(i + 1) == Some(&'\'') {
                lit.push('\'');
                i += 2;
                continue;
            }
            i += 1;
            while i < chars.len() {
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        lit.push('\'');
                        i += 2;
                        continue;
                    }
                    break;
                }
                lit.push(chars[i]);
                i += 1;
            }
            i += 1;
            continue;
        }
        if c == '[' || c == ']' {
            // Optional sections: formatted as if present; parsing requires them.
            i += 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            lit.push(c);
            i += 1;
            continue;
        }
        let mut n = 1;
        while chars.get(i + n) == Some(&c) {
            n += 1;
        }
        i += n;
        let too_many = |max: usize| -> Result<()> {
            if n > max {
                Err(unrecognized_pattern(pattern))
            } else {
                Ok(())
            }
        };
        let tok = match c {
            'G' => Tok::Era,
            'y' | 'u' => Tok::Year(n),
            'M' | 'L' => {
                too_many(5)?;
                Tok::Month(n)
            }
            'd' => {
                too_many(2)?;
                Tok::Day(n)
            }
            'D' => {
                too_many(3)?;
                Tok::DayOfYear(n)
            }
            'Q' | 'q' => {
                too_many(5)?;
                Tok::Quarter(n)
            }
            'E' => {
                too_many(5)?;
                Tok::Weekday(n)
            }
            'a' => {
                too_many(1)?;
                Tok::AmPm
            }
            'H' => {
                too_many(2)?;
                Tok::Hour24(n)
            }
            'h' => {
                too_many(2)?;
                Tok::Hour12(n)
            }
            'K' => {
                too_many(2)?;
                Tok::Hour0To11(n)
            }
            'k' => {
                too_many(2)?;
                Tok::Hour1To24(n)
            }
            'm' => {
                too_many(2)?;
                Tok::Minute(n)
            }
            's' => {
                too_many(2)?;
                Tok::Second(n)
            }
            'S' => {
                too_many(9)?;
                Tok::Fraction(n)
            }
            'X' => {
                too_many(5)?;
                Tok::OffsetX(n)
            }
            'x' => {
                too_many(5)?;
                Tok::Offsetx(n)
            }
            'Z' => {
                too_many(5)?;
                Tok::OffsetZ(n)
            }
            'O' => Tok::OffsetO(n),
            'z' => {
                too_many(4)?;
                Tok::ZoneName(n)
            }
            'V' => Tok::ZoneId,
            'Y' | 'w' | 'W' | 'e' | 'c' => return Err(unrecognized_pattern(pattern)),
            other => {
                return Err(EngineError::execution(
                    "INVALID_DATETIME_PATTERN.ILLEGAL_CHARACTER",
                    format!(
                        "Unrecognized datetime pattern: {pattern}. Illegal pattern character found in datetime pattern: {other}. Please provide legal character. SQLSTATE: 22007"
                    ),
                ));
            }
        };
        if !lit.is_empty() {
            toks.push(Tok::Lit(std::mem::take(&mut lit)));
        }
        toks.push(tok);
    }
    if !lit.is_empty() {
        toks.push(Tok::Lit(lit));
    }
    Ok(toks)
}

fn pad_num(out: &mut String, v: i64, width: usize) {
    if v < 0 {
        let _ = write!(out, "-{:0width$}", -v, width = width);
    } else {
        let _ = write!(out, "{v:0width$}");
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn write_offset(out: &mut String, secs: i32, colon: bool, minutes_always: bool) {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.abs();
    let (h, m) = (a / 3600, (a % 3600) / 60);
    let _ = write!(out, "{sign}{h:02}");
    if minutes_always || m != 0 {
        if colon {
            out.push(':');
        }
        let _ = write!(out, "{m:02}");
    }
}

fn format_tok(t: &Tok, dt: &NaiveDateTime, tz: &Tz, out: &mut String) {
    let offset = || {
        tz.offset_from_local_datetime(dt)
            .earliest()
            .map(|o| o.fix().local_minus_utc())
            .unwrap_or(0)
    };
    match t {
        Tok::Lit(s) => out.push_str(s),
        Tok::Era => out.push_str(if dt.year() > 0 { "AD" } else { "BC" }),
        Tok::Year(2) => pad_num(out, i64::from(dt.year().rem_euclid(100)), 2),
        Tok::Year(n) => pad_num(out, i64::from(dt.year()), *n),
        Tok::Month(n) => {
            let m = dt.month();
            let name = MONTHS[(m - 1) as usize];
            match n {
                1 | 2 => pad_num(out, i64::from(m), *n),
                3 => out.push_str(&name[..3]),
                4 => out.push_str(name),
                _ => out.push_str(&name[..1]),
            }
        }
        Tok::Day(n) => pad_num(out, i64::from(dt.day()), *n),
        Tok::DayOfYear(n) => pad_num(out, i64::from(dt.ordinal()), *n),
        Tok::Quarter(n) => {
            let q = (dt.month() - 1) / 3 + 1;
            match n {
                1 | 2 => pad_num(out, i64::from(q), *n),
                3 => {
                    let _ = write!(out, "Q{q}");
                }
                _ => {
                    let suffix = ["st", "nd", "rd", "th"][(q - 1) as usize];
                    let _ = write!(out, "{q}{suffix} quarter");
                }
            }
        }
        Tok::Weekday(n) => {
            let name = WEEKDAYS[dt.weekday().num_days_from_monday() as usize];
            match n {
                1..=3 => out.push_str(&name[..3]),
                4 => out.push_str(name),
                _ => out.push_str(&name[..1]),
            }
        }
        Tok::AmPm => out.push_str(if dt.hour() < 12 { "AM" } else { "PM" }),
        Tok::Hour24(n) => pad_num(out, i64::from(dt.hour()), *n),
        Tok::Hour12(n) => {
            let h = dt.hour() % 12;
            pad_num(out, i64::from(if h == 0 { 12 } else { h }), *n)
        }
        Tok::Hour0To11(n) => pad_num(out, i64::from(dt.hour() % 12), *n),
        Tok::Hour1To24(n) => {
            let h = dt.hour();
            pad_num(out, i64::from(if h == 0 { 24 } else { h }), *n)
        }
        Tok::Minute(n) => pad_num(out, i64::from(dt.minute()), *n),
        Tok::Second(n) => pad_num(out, i64::from(dt.second()), *n),
        Tok::Fraction(n) => {
            let nanos = format!("{:09}", dt.nanosecond() % 1_000_000_000);
            out.push_str(&nanos[..(*n).min(9)]);
        }
        Tok::OffsetX(n) | Tok::Offsetx(n) => {
            let o = offset();
            if o == 0 && matches!(t, Tok::OffsetX(_)) {
                out.push('Z');
            } else {
                match n {
                    1 => write_offset(out, o, false, false),
                    2 | 4 => write_offset(out, o, false, true),
                    _ => write_offset(out, o, true, true),
                }
            }
        }
        Tok::OffsetZ(n) => {
            let o = offset();
            match n {
                1..=3 => write_offset(out, o, false, true),
                4 => {
                    if o == 0 {
                        out.push_str("GMT");
                    } else {
                        out.push_str("GMT");
                        write_offset(out, o, true, true);
                    }
                }
                _ => {
                    if o == 0 {
                        out.push('Z');
                    } else {
                        write_offset(out, o, true, true);
                    }
                }
            }
        }
        Tok::OffsetO(n) => {
            let o = offset();
            out.push_str("GMT");
            if o != 0 {
                if *n >= 4 {
                    write_offset(out, o, true, true);
                } else {
                    let sign = if o < 0 { '-' } else { '+' };
                    let a = o.abs();
                    let _ = write!(out, "{sign}{}", a / 3600);
                    if a % 3600 != 0 {
                        let _ = write!(out, ":{:02}", (a % 3600) / 60);
                    }
                }
            }
        }
        Tok::ZoneName(n) => {
            if *n >= 4 {
                out.push_str(tz.name());
            } else {
                match tz.offset_from_local_datetime(dt).earliest() {
                    Some(o) => {
                        let _ = write!(out, "{o}");
                    }
                    None => out.push_str(tz.name()),
                }
            }
        }
        Tok::ZoneId => out.push_str(tz.name()),
    }
}

/// Days since the epoch of a calendar date.
pub fn days_from_date(d: NaiveDate) -> i32 {
    d.num_days_from_ce() - 719_163
}

/// The calendar date of days since the epoch.
pub fn date_from_days(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days.checked_add(719_163)?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn ndt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    fn fmt(p: &str, s: &str, tz: &Tz) -> String {
        let mut out = String::new();
        DateTimePattern::new(p)
            .unwrap()
            .format_into(&ndt(s), tz, &mut out);
        out
    }

    #[test]
    fn formats_like_spark() {
        let utc = Tz::UTC;
        assert_eq!(
            fmt(
                "yyyy-MM-dd HH:mm:ss.SSS",
                "2024-03-05 07:08:09.123456",
                &utc
            ),
            "2024-03-05 07:08:09.123"
        );
        assert_eq!(
            fmt("y/M/d H:m:s", "2024-03-05 07:08:09", &utc),
            "2024/3/5 7:8:9"
        );
        assert_eq!(
            fmt("EEE, d MMM yyyy hh:mm a", "2024-03-05 19:08:09", &utc),
            "Tue, 5 Mar 2024 07:08 PM"
        );
        assert_eq!(
            fmt("EEEE MMMM", "2024-03-05 19:08:09", &utc),
            "Tuesday March"
        );
        assert_eq!(fmt("yy QQQ D", "2024-03-05 19:08:09", &utc), "24 Q1 65");
        assert_eq!(fmt("'T'''HH", "2024-03-05 19:08:09", &utc), "T'19");
        assert_eq!(fmt("XXX", "2024-03-05 19:08:09", &utc), "Z");
        let la: Tz = "America/Los_Angeles".parse().unwrap();
        assert_eq!(
            fmt("XXX Z x", "2024-03-05 19:08:09", &la),
            "-08:00 -0800 -08"
        );
        assert_eq!(fmt("VV", "2024-03-05 19:08:09", &la), "America/Los_Angeles");
    }

    #[test]
    fn rejects_bad_patterns() {
        let e = DateTimePattern::new("yyyy-ww").unwrap_err().to_string();
        assert!(e.contains("DATETIME_PATTERN_RECOGNITION"), "{e}");
        assert!(e.contains("Fail to recognize 'yyyy-ww' pattern"), "{e}");
        let e = DateTimePattern::new("A").unwrap_err().to_string();
        assert!(
            e.contains("[INVALID_DATETIME_PATTERN.ILLEGAL_CHARACTER] Unrecognized datetime pattern: A. Illegal pattern character found in datetime pattern: A."),
            "{e}"
        );
        let e = DateTimePattern::new("ddd").unwrap_err().to_string();
        assert!(e.contains("DATETIME_PATTERN_RECOGNITION"), "{e}");
    }

    #[test]
    fn parses_with_defaults() {
        let p = DateTimePattern::new("dd/MM/yyyy HH:mm").unwrap();
        assert_eq!(
            p.parse("05/03/2024 07:08").unwrap().0,
            ndt("2024-03-05 07:08:00")
        );
        assert!(p.parse("05/03/2024").is_none());
        assert!(p.parse("05/03/2024 07:08 extra").is_none());
        let p = DateTimePattern::new("yyyy-MM").unwrap();
        assert_eq!(p.parse("2024-03").unwrap().0, ndt("2024-03-01 00:00:00"));
        let p = DateTimePattern::new("yy-MM-dd hh:mm a").unwrap();
        assert_eq!(
            p.parse("24-03-05 07:08 PM").unwrap().0,
            ndt("2024-03-05 19:08:00")
        );
        let p = DateTimePattern::new("yyyy-MM-dd HH:mm:ss.SSSXXX").unwrap();
        let (t, off) = p.parse("2024-03-05 07:08:09.250+02:00").unwrap();
        assert_eq!(t, ndt("2024-03-05 07:08:09.25"));
        assert_eq!(off, ParsedZone::Offset(7200));
        // Strict widths: MM needs two digits, M takes one or two.
        let p = DateTimePattern::new("yyyy-MM-dd").unwrap();
        assert!(p.parse("2024-3-5").is_none());
        assert!(p.parse("2024-02-30").is_none());
        let p = DateTimePattern::new("yyyy-M-d H").unwrap();
        assert_eq!(p.parse("2024-3-5 1").unwrap().0, ndt("2024-03-05 01:00:00"));
        let p = DateTimePattern::new("yyyyMMddHHmmss").unwrap();
        assert_eq!(
            p.parse("20240305070809").unwrap().0,
            ndt("2024-03-05 07:08:09")
        );
        let p = DateTimePattern::new("dd MMM yyyy EEE HH:mm:ss.SSS").unwrap();
        assert_eq!(
            p.parse("05 mar 2024 TUE 07:08:09.5").unwrap().0,
            ndt("2024-03-05 07:08:09.5")
        );
        let p = DateTimePattern::new("yyyy-MM-dd HH:mm VV").unwrap();
        let la: Tz = "America/Los_Angeles".parse().unwrap();
        assert_eq!(
            p.parse("2024-03-05 07:08 America/Los_Angeles").unwrap().1,
            ParsedZone::Zone(la)
        );
        let la: Tz = "America/Los_Angeles".parse().unwrap();
        let p = DateTimePattern::new(DEFAULT_TIMESTAMP_PATTERN).unwrap();
        assert_eq!(
            p.parse_micros("1970-01-01 00:00:00", &la),
            Some(8 * 3600 * 1_000_000)
        );
    }
}
