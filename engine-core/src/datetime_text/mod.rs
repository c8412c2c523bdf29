//! Spark's date and timestamp text: the one parser behind `CAST(s AS TIMESTAMP|DATE)`, the
//! `TIMESTAMP '...'`/`DATE '...'` literals, `to_timestamp`/`to_date` without a pattern,
//! `from_json`/`from_csv` and the JSON and CSV readers without a `timestampFormat`.
//!
//! It follows `SparkDateTimeUtils.parseTimestampString`/`stringToTimestamp` and
//! `stringToDate` byte for byte: the same segments, digit counts, trimming (ASCII space and
//! control characters) and zone ids ([`zone`]). Every step on the text is checked, so no
//! input can panic; text Spark rejects gives `None` (NULL, or the caller's ANSI error).
//!
//! Accepted timestamp forms (`*` is any number of digits within the limits below):
//!
//! - `[+-]yyyy*[-[m]m[-[d]d]]`, optionally followed by `T` or a space and
//!   `[h]h:[m]m[:[s]s[.fraction]][zone]` (a zone only after the seconds);
//! - `[h]h:[m]m[:[s]s[.fraction]][zone]` and `T[h]h:...`: a time on the current date;
//!
//! with years of 4 to 6 digits (7 for dates), fractions of any length (digits past the
//! sixth are dropped), and zones `Z`, `+hh:mm`, `+hhmm`, `UTC`, `GMT+1`, short ids (`PST`)
//! or region ids (`Europe/Paris`). The common ISO forms take a fast path that gives the same
//! answers without building calendar values.

pub mod zone;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;

pub use zone::{Zone, local_to_micros, parse_zone_id};

const MICROS_PER_SECOND: i64 = 1_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

/// The current time, µs since the epoch (0 for a clock before 1970): what a time without a
/// date is read against outside a query (literals, file readers).
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// The fields of timestamp text before they are checked against the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampText {
    /// `(year, month, day)` as written; `None` for a time alone (`10:00:00`), which is on
    /// the current date.
    pub date: Option<(i32, u32, u32)>,
    /// Hour, minute, second as written.
    pub time: (u32, u32, u32),
    /// Microseconds of the fraction (digits past the sixth dropped).
    pub micros: u32,
    /// The zone, when the text has one.
    pub zone: Option<Zone>,
}

/// Spark trims ASCII white space and control characters (bytes up to 0x20, and 0x7F) from
/// both ends; other bytes, including non-ASCII spaces, are kept.
fn trimmed(b: &[u8]) -> (usize, usize) {
    let blank = |c: &u8| *c <= b' ' || *c == 0x7F;
    let start = b.iter().position(|c| !blank(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !blank(c)).map_or(start, |e| e + 1);
    (start, end.max(start))
}

/// Java's `String.trim`: characters up to U+0020 at both ends.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// Splits timestamp text into its fields as `parseTimestampString` does; `None` when the
/// text is not a timestamp (or its zone is not a zone id).
pub fn parse_timestamp_text(s: &str) -> Option<TimestampText> {
    // Segments: year, month, day, hour, minute, second, fraction, and two Spark never fills.
    const SEGMENTS: usize = 9;
    fn valid(segment: usize, digits: usize) -> bool {
        match segment {
            0 => (4..=6).contains(&digits),
            6 => true,
            7 => digits <= 2,
            _ => (1..=2).contains(&digits),
        }
    }
    let b = s.as_bytes();
    let (mut j, end) = trimmed(b);
    if j == end {
        return None;
    }
    let mut seg = [1i64, 1, 1, 0, 0, 0, 0, 0, 0];
    let mut i = 0usize;
    let mut value = 0i64;
    let mut digits = 0usize;
    let mut fraction_digits = 0usize;
    let mut just_time = false;
    let mut year_sign = None;
    let mut zone_text = None;
    if let Some(&c @ (b'-' | b'+')) = b.get(j) {
        year_sign = Some(if c == b'-' { -1 } else { 1 });
        j += 1;
    }
    while j < end {
        let c = *b.get(j)?;
        if c.is_ascii_digit() {
            if i == 6 {
                fraction_digits += 1;
            }
            // Only the first six fraction digits count; other segments are rejected by
            // their digit count before the value could matter.
            if i != 6 || digits < 6 {
                value = value.saturating_mul(10).saturating_add(i64::from(c - b'0'));
            }
            digits = digits.saturating_add(1);
            j += 1;
            continue;
        }
        let mut close = |at: usize, seg: &mut [i64; SEGMENTS]| -> Option<()> {
            if !valid(at, digits) {
                return None;
            }
            *seg.get_mut(at)? = value;
            value = 0;
            digits = 0;
            Some(())
        };
        if j == 0 && c == b'T' {
            just_time = true;
            i += 3;
        } else if i < 2 {
            if c == b'-' {
                close(i, &mut seg)?;
                i += 1;
            } else if i == 0 && c == b':' && year_sign.is_none() {
                just_time = true;
                close(3, &mut seg)?;
                i = 4;
            } else {
                return None;
            }
        } else if i == 2 {
            if c != b' ' && c != b'T' {
                return None;
            }
            close(i, &mut seg)?;
            i += 1;
        } else if i == 3 || i == 4 {
            if c != b':' {
                return None;
            }
            close(i, &mut seg)?;
            i += 1;
        } else if i == 5 || i == 6 {
            close(i, &mut seg)?;
            i += 1;
            if !(c == b'.' && i == 6) {
                // Anything else after the seconds or the fraction starts the zone.
                zone_text = Some(s.get(j..end)?);
                j = end;
                if i == 6 {
                    i += 1;
                }
                continue;
            }
        } else if i < SEGMENTS && (c == b':' || c == b' ') {
            close(i, &mut seg)?;
            i += 1;
        } else {
            return None;
        }
        j += 1;
    }
    if !valid(i, digits) {
        return None;
    }
    *seg.get_mut(i)? = value;
    for _ in fraction_digits..6 {
        seg[6] *= 10;
    }
    let zone = match zone_text {
        Some(z) => Some(parse_zone_id(java_trim(z))?),
        None => None,
    };
    let field = |v: i64| u32::try_from(v).ok();
    Some(TimestampText {
        date: if just_time {
            None
        } else {
            Some((
                i32::try_from(seg[0] * year_sign.unwrap_or(1)).ok()?,
                field(seg[1])?,
                field(seg[2])?,
            ))
        },
        time: (field(seg[3])?, field(seg[4])?, field(seg[5])?),
        micros: field(seg[6])?,
        zone,
    })
}

/// Spark's `stringToTimestamp`: UTC microseconds of timestamp text; text without a zone is
/// read in `session`, a time without a date is on the date `now_micros` falls on in the
/// text's (or the session's) zone. `None` when Spark gives NULL (and ANSI mode an error).
pub fn parse_timestamp(s: &str, session: &Tz, now_micros: i64) -> Option<i64> {
    if let Some(v) = fast_iso(s.as_bytes(), session) {
        return Some(v);
    }
    let t = parse_timestamp_text(s)?;
    let zone = t.zone.unwrap_or(if *session == Tz::UTC {
        Zone::Offset(0)
    } else {
        Zone::Region(*session)
    });
    let day_micros = time_micros(&t)?;
    let days = match t.date {
        Some((y, m, d)) => days_from_ymd(i64::from(y), m, d)?,
        None => today(now_micros, &zone)?,
    };
    match zone {
        // Fixed offsets need no calendar: exact over Spark's whole range of years.
        Zone::Offset(off) => days
            .checked_mul(SECONDS_PER_DAY * MICROS_PER_SECOND)?
            .checked_add(day_micros)?
            .checked_sub(i64::from(off) * MICROS_PER_SECOND),
        Zone::Region(tz) => local_to_micros(&naive(days, day_micros)?, &tz),
    }
}

/// Spark's `stringToTimestampWithoutTimeZone`: wall-clock microseconds of timestamp text
/// (TIMESTAMP_NTZ). A zone in the text is dropped when `allow_zone`, else the text is
/// rejected; a time without a date is rejected.
pub fn parse_timestamp_ntz(s: &str, allow_zone: bool) -> Option<i64> {
    let t = parse_timestamp_text(s)?;
    if !allow_zone && t.zone.is_some() {
        return None;
    }
    let (y, m, d) = t.date?;
    days_from_ymd(i64::from(y), m, d)?
        .checked_mul(SECONDS_PER_DAY * MICROS_PER_SECOND)?
        .checked_add(time_micros(&t)?)
}

/// Spark's `stringToDate`: days since 1970-01-01 of date text (`[+-]yyyy*[-[m]m[-[d]d]]`,
/// 4 to 7 year digits, anything after a space or `T` following a full date ignored).
pub fn parse_date(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    let (mut j, end) = trimmed(b);
    if j == end {
        return None;
    }
    let mut sign = 1i64;
    if let Some(&c @ (b'-' | b'+')) = b.get(j) {
        sign = if c == b'-' { -1 } else { 1 };
        j += 1;
    }
    let valid = |segment: usize, digits: usize| {
        if segment == 0 {
            (4..=7).contains(&digits)
        } else {
            (1..=2).contains(&digits)
        }
    };
    let mut seg = [1i64, 1, 1];
    let (mut i, mut value, mut digits) = (0usize, 0i64, 0usize);
    while j < end && i < 3 {
        let c = *b.get(j)?;
        if c == b' ' || c == b'T' {
            break;
        }
        if i < 2 && c == b'-' {
            if !valid(i, digits) {
                return None;
            }
            *seg.get_mut(i)? = value;
            (value, digits) = (0, 0);
            i += 1;
        } else if c.is_ascii_digit() {
            value = value.saturating_mul(10).saturating_add(i64::from(c - b'0'));
            digits = digits.saturating_add(1);
        } else {
            return None;
        }
        j += 1;
    }
    if !valid(i, digits) || (i < 2 && j < end) {
        return None;
    }
    *seg.get_mut(i)? = value;
    let days = days_from_ymd(
        sign * seg[0],
        u32::try_from(seg[1]).ok()?,
        u32::try_from(seg[2]).ok()?,
    )?;
    i32::try_from(days).ok()
}

/// Timestamp text as Spark's JSON and CSV readers (and `from_json`/`from_csv`) read it
/// without a `timestampFormat`: [`parse_timestamp`], then once more with every `GMT` removed
/// (their fallback for text written by Spark 1.x).
pub fn parse_reader_timestamp(s: &str, session: &Tz, now_micros: i64) -> Option<i64> {
    parse_timestamp(s, session, now_micros)
        .or_else(|| parse_timestamp(&without_gmt(s)?, session, now_micros))
}

/// Date text as Spark's JSON and CSV readers read it without a `dateFormat`: [`parse_date`],
/// then once more with every `GMT` removed.
pub fn parse_reader_date(s: &str) -> Option<i32> {
    parse_date(s).or_else(|| parse_date(&without_gmt(s)?))
}

/// `s` without `GMT`, when it has one (Spark's `cleanLegacyTimestampStr`).
fn without_gmt(s: &str) -> Option<String> {
    s.contains("GMT").then(|| s.replace("GMT", ""))
}

/// Microseconds since midnight of the text's time, checked as `LocalTime.of` checks it.
fn time_micros(t: &TimestampText) -> Option<i64> {
    let (h, m, s) = t.time;
    if h > 23 || m > 59 || s > 59 || t.micros > 999_999 {
        return None;
    }
    Some(
        (i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s)) * MICROS_PER_SECOND
            + i64::from(t.micros),
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm), or
/// `None` when the month or day does not exist. Exact for every year Spark's text allows.
pub fn days_from_ymd(y: i64, m: u32, d: u32) -> Option<i64> {
    if !(1..=12).contains(&m) || d == 0 || d > month_length(y, m) {
        return None;
    }
    let (m, d) = (i64::from(m), i64::from(d));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// The proleptic Gregorian `(year, month, day)` of days since 1970-01-01 (the inverse of
/// [`days_from_ymd`], for every `i64` that does not overflow the year).
pub fn ymd_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    // `m` is 1..=12 and `d` 1..=31 by construction.
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

fn month_length(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The date (days since the epoch) `now_micros` falls on in `zone`.
fn today(now_micros: i64, zone: &Zone) -> Option<i64> {
    let local = match zone {
        Zone::Offset(off) => now_micros.checked_add(i64::from(*off) * MICROS_PER_SECOND)?,
        Zone::Region(tz) => {
            use chrono::{Offset, TimeZone};
            let utc = chrono::DateTime::from_timestamp_micros(now_micros)?.naive_utc();
            let off = tz.offset_from_utc_datetime(&utc).fix().local_minus_utc();
            now_micros.checked_add(i64::from(off) * MICROS_PER_SECOND)?
        }
    };
    Some(local.div_euclid(SECONDS_PER_DAY * MICROS_PER_SECOND))
}

/// A wall-clock time from days since the epoch and microseconds of the day (chrono's
/// range: years up to 262143).
fn naive(days: i64, day_micros: i64) -> Option<NaiveDateTime> {
    let date =
        NaiveDate::from_num_days_from_ce_opt(i32::try_from(days.checked_add(719_163)?).ok()?)?;
    let secs = u32::try_from(day_micros / MICROS_PER_SECOND).ok()?;
    let nanos = u32::try_from(day_micros % MICROS_PER_SECOND * 1000).ok()?;
    Some(date.and_time(NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos)?))
}

/// The common ISO forms, `yyyy-MM-dd(T| )HH:mm:ss[.fraction][Z|+hh:mm]` with nothing around
/// them, computed without calendar values; `None` hands the text to the general parser
/// (also zone-less text outside UTC). Agrees with [`parse_timestamp`] wherever it answers.
fn fast_iso(s: &[u8], session: &Tz) -> Option<i64> {
    let num = |a: usize, b: usize| -> Option<i64> {
        let mut v = 0i64;
        for c in s.get(a..b)? {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        Some(v)
    };
    let at = |i: usize| s.get(i).copied();
    if s.len() < 19
        || at(4) != Some(b'-')
        || at(7) != Some(b'-')
        || !matches!(at(10), Some(b'T' | b' '))
        || at(13) != Some(b':')
        || at(16) != Some(b':')
    {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let days = days_from_ymd(y, u32::try_from(mo).ok()?, u32::try_from(d).ok()?)?;
    let mut i = 19;
    let mut micros = 0i64;
    if at(i) == Some(b'.') {
        i += 1;
        let start = i;
        while let Some(c) = at(i).filter(u8::is_ascii_digit) {
            if i - start < 6 {
                micros = micros * 10 + i64::from(c - b'0');
            }
            i += 1;
        }
        for _ in (i - start)..6 {
            micros *= 10;
        }
    }
    let offset_secs = match at(i) {
        None if *session == Tz::UTC => 0,
        None => return None,
        Some(b'Z') if i + 1 == s.len() => 0,
        Some(c @ (b'+' | b'-')) if s.len() == i + 6 && at(i + 3) == Some(b':') => {
            let (oh, om) = (num(i + 1, i + 3)?, num(i + 4, i + 6)?);
            if oh > 18 || om > 59 || oh * 3600 + om * 60 > 18 * 3600 {
                return None;
            }
            let v = oh * 3600 + om * 60;
            if c == b'-' { -v } else { v }
        }
        _ => return None,
    };
    let secs = days * SECONDS_PER_DAY + h * 3600 + mi * 60 + sec - offset_secs;
    secs.checked_mul(MICROS_PER_SECOND)?.checked_add(micros)
}

#[cfg(test)]
mod tests;
