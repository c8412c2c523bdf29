//! Spark's zone ids in timestamp text (`SparkDateTimeUtils.getZoneId`, which is Java's
//! `ZoneId.of(id, SHORT_IDS)` after widening `+h:mm` and `+hh:m`), and wall-clock times
//! turned into instants the way `java.time.ZonedDateTime.of` does it.

use chrono::{LocalResult, NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;

/// The most a fixed offset may be, either way (Java's `ZoneOffset` limit, 18 hours).
const MAX_OFFSET_SECONDS: i32 = 18 * 3600;

/// A zone written in timestamp text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// A fixed offset east of UTC, in seconds (`Z`, `+05:30`, `UTC-8`, `EST`).
    Offset(i32),
    /// A region with its daylight-saving rules (`Europe/Paris`, `PST`).
    Region(Tz),
}

impl Zone {
    /// UTC microseconds of `wall`, a wall-clock time in this zone; `None` when the instant
    /// does not fit in microseconds since the epoch.
    pub fn to_utc_micros(&self, wall: &NaiveDateTime) -> Option<i64> {
        match self {
            Zone::Offset(secs) => wall_micros(wall)?.checked_sub(i64::from(*secs) * 1_000_000),
            Zone::Region(tz) => local_to_micros(wall, tz),
        }
    }
}

/// Microseconds of a wall-clock time read as UTC.
fn wall_micros(wall: &NaiveDateTime) -> Option<i64> {
    let secs = wall.and_utc().timestamp();
    secs.checked_mul(1_000_000)?
        .checked_add(i64::from(wall.and_utc().timestamp_subsec_micros()))
}

/// A wall-clock time in `tz` as UTC microseconds, as `ZonedDateTime.of` resolves it: an
/// ambiguous time (clocks turned back) takes the earlier offset, a time in a gap (clocks
/// turned forward) is moved forward by the length of the gap.
pub fn local_to_micros(wall: &NaiveDateTime, tz: &Tz) -> Option<i64> {
    if *tz == Tz::UTC {
        return wall_micros(wall);
    }
    match tz.from_local_datetime(wall) {
        LocalResult::Single(t) => wall_micros(&t.naive_utc()),
        LocalResult::Ambiguous(a, _) => wall_micros(&a.naive_utc()),
        LocalResult::None => {
            // Java keeps the offset in force before the gap for the shifted wall time; a day
            // before is safely before the transition (no zone changes twice within a day).
            let before = wall.checked_sub_signed(chrono::Duration::days(1))?;
            let offset = tz.offset_from_utc_datetime(&before).fix().local_minus_utc();
            wall_micros(wall)?.checked_sub(i64::from(offset) * 1_000_000)
        }
    }
}

/// Java's `ZoneId.SHORT_IDS`: three-letter ids Spark accepts, and what they stand for.
const SHORT_IDS: &[(&str, &str)] = &[
    ("ACT", "Australia/Darwin"),
    ("AET", "Australia/Sydney"),
    ("AGT", "America/Argentina/Buenos_Aires"),
    ("ART", "Africa/Cairo"),
    ("AST", "America/Anchorage"),
    ("BET", "America/Sao_Paulo"),
    ("BST", "Asia/Dhaka"),
    ("CAT", "Africa/Harare"),
    ("CNT", "America/St_Johns"),
    ("CST", "America/Chicago"),
    ("CTT", "Asia/Shanghai"),
    ("EAT", "Africa/Addis_Ababa"),
    ("ECT", "Europe/Paris"),
    ("EST", "-05:00"),
    ("HST", "-10:00"),
    ("IET", "America/Indiana/Indianapolis"),
    ("IST", "Asia/Kolkata"),
    ("JST", "Asia/Tokyo"),
    ("MIT", "Pacific/Apia"),
    ("MST", "-07:00"),
    ("NET", "Asia/Yerevan"),
    ("NST", "Pacific/Auckland"),
    ("PLT", "Asia/Karachi"),
    ("PNT", "America/Phoenix"),
    ("PRT", "America/Puerto_Rico"),
    ("PST", "America/Los_Angeles"),
    ("SST", "Pacific/Guadalcanal"),
    ("VST", "Asia/Ho_Chi_Minh"),
];

/// Parses a zone id as Spark reads one at the end of timestamp text: `Z`, an offset
/// (`+h`, `+hh`, `+hh:mm`, `+hhmm`, `+hh:mm:ss`, `+hhmmss`, and Spark's `+h:mm`, `+hh:m`),
/// `UTC`/`GMT`/`UT` alone or followed by an offset, a short id (`PST`), or a region id
/// (`Europe/Paris`, case-sensitive as in Java). `None` for anything Java rejects.
pub fn parse_zone_id(id: &str) -> Option<Zone> {
    let widened = widen_offset(id);
    let id = widened.as_deref().unwrap_or(id);
    let id = SHORT_IDS
        .iter()
        .find(|(short, _)| *short == id)
        .map_or(id, |(_, full)| *full);
    if id.len() <= 1 || id.starts_with(['+', '-']) {
        return parse_offset(id).map(Zone::Offset);
    }
    for prefix in ["UTC", "GMT", "UT"] {
        if let Some(rest) = id.strip_prefix(prefix) {
            if rest.is_empty() {
                return Some(Zone::Offset(0));
            }
            if rest.starts_with(['+', '-']) {
                return parse_offset(rest).map(Zone::Offset);
            }
            // `UTC` followed by anything else is looked up as a region (`UTCX` is not one).
            break;
        }
    }
    region(id).map(Zone::Region)
}

/// Spark widens `+h:mm` to `+0h:mm` (the first match anywhere) and then `+hh:m` to `+hh:0m`
/// (at the end), as before Spark 3.0.
fn widen_offset(id: &str) -> Option<String> {
    let b = id.as_bytes();
    let mut out: Option<String> = None;
    // `(\+|\-)(\d):` -> `$10$2:`
    if let Some(i) = (0..b.len()).find(|&i| {
        matches!(b.get(i), Some(b'+' | b'-'))
            && b.get(i + 1).is_some_and(u8::is_ascii_digit)
            && b.get(i + 2) == Some(&b':')
    }) {
        let (head, tail) = (id.get(..=i)?, id.get(i + 1..)?);
        out = Some(format!("{head}0{tail}"));
    }
    let s = out.as_deref().unwrap_or(id);
    let b = s.as_bytes();
    // `(\+|\-)(\d\d):(\d)$` -> `$1$2:0$3`
    let n = b.len();
    if n >= 5
        && matches!(b[n - 5], b'+' | b'-')
        && b[n - 4].is_ascii_digit()
        && b[n - 3].is_ascii_digit()
        && b[n - 2] == b':'
        && b[n - 1].is_ascii_digit()
    {
        let (head, tail) = (s.get(..n - 1)?, s.get(n - 1..)?);
        out = Some(format!("{head}0{tail}"));
    }
    out
}

/// Java's `ZoneOffset.of`: `Z`, `+h`, `+hh`, `+hh:mm`, `+hhmm`, `+hh:mm:ss`, `+hhmmss`, at
/// most 18 hours; seconds east of UTC.
pub fn parse_offset(id: &str) -> Option<i32> {
    if id == "Z" {
        return Some(0);
    }
    let b = id.as_bytes();
    let two = |at: usize| -> Option<i32> {
        let (h, l) = (*b.get(at)?, *b.get(at + 1)?);
        (h.is_ascii_digit() && l.is_ascii_digit())
            .then(|| i32::from(h - b'0') * 10 + i32::from(l - b'0'))
    };
    let colon = |at: usize| b.get(at) == Some(&b':');
    let (h, m, s) = match b.len() {
        2 => {
            let d = *b.get(1)?;
            (d.is_ascii_digit().then(|| i32::from(d - b'0'))?, 0, 0)
        }
        3 => (two(1)?, 0, 0),
        5 => (two(1)?, two(3)?, 0),
        6 if colon(3) => (two(1)?, two(4)?, 0),
        7 => (two(1)?, two(3)?, two(5)?),
        9 if colon(3) && colon(6) => (two(1)?, two(4)?, two(7)?),
        _ => return None,
    };
    if h > 18 || m > 59 || s > 59 {
        return None;
    }
    let total = h * 3600 + m * 60 + s;
    if total > MAX_OFFSET_SECONDS {
        return None;
    }
    match b.first()? {
        b'+' => Some(total),
        b'-' => Some(-total),
        _ => None,
    }
}

/// A region id known to the time-zone database, spelt exactly (Java's ids are
/// case-sensitive).
fn region(id: &str) -> Option<Tz> {
    let b = id.as_bytes();
    let well_formed = b.len() >= 2
        && b[0].is_ascii_alphabetic()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"~/._+-".contains(c));
    if !well_formed {
        return None;
    }
    id.parse::<Tz>().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_java() {
        for (text, secs) in [
            ("Z", Some(0)),
            ("+5", Some(5 * 3600)),
            ("+05", Some(5 * 3600)),
            ("-0530", Some(-(5 * 3600 + 30 * 60))),
            ("+05:30", Some(5 * 3600 + 30 * 60)),
            ("+05:30:15", Some(5 * 3600 + 30 * 60 + 15)),
            ("+053015", Some(5 * 3600 + 30 * 60 + 15)),
            ("+18:00", Some(18 * 3600)),
            ("+18:01", None),
            ("+19", None),
            ("+053", None),
            ("+05-30", None),
            ("z", None),
            ("+é", None),
            ("+aéb", None),
        ] {
            assert_eq!(parse_offset(text), secs, "{text}");
        }
    }

    #[test]
    fn zone_ids_follow_spark() {
        let off = |s: i32| Some(Zone::Offset(s));
        assert_eq!(parse_zone_id("UTC"), off(0));
        assert_eq!(parse_zone_id("GMT+5"), off(5 * 3600));
        assert_eq!(parse_zone_id("UT-05:30"), off(-(5 * 3600 + 30 * 60)));
        assert_eq!(parse_zone_id("+5:30"), off(5 * 3600 + 30 * 60));
        assert_eq!(parse_zone_id("+05:3"), off(5 * 3600 + 3 * 60));
        assert_eq!(parse_zone_id("EST"), off(-5 * 3600));
        assert_eq!(
            parse_zone_id("PST"),
            Some(Zone::Region(chrono_tz::America::Los_Angeles))
        );
        assert_eq!(
            parse_zone_id("Europe/Paris"),
            Some(Zone::Region(chrono_tz::Europe::Paris))
        );
        assert_eq!(parse_zone_id("europe/paris"), None);
        assert_eq!(parse_zone_id("utc"), None);
        assert_eq!(parse_zone_id("UTCX"), None);
        assert_eq!(parse_zone_id(""), None);
        assert_eq!(parse_zone_id("é"), None);
    }

    #[test]
    fn gaps_move_forward_and_overlaps_take_the_earlier_offset() {
        let paris = chrono_tz::Europe::Paris;
        let wall = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        // 2024-03-31 02:30 does not exist in Paris: it is read as 03:30 CEST = 01:30 UTC.
        let gap = local_to_micros(&wall("2024-03-31 02:30:00"), &paris).unwrap();
        assert_eq!(gap, wall_micros(&wall("2024-03-31 01:30:00")).unwrap());
        // 2024-10-27 02:30 happens twice: the first (CEST, +02:00) wins.
        let overlap = local_to_micros(&wall("2024-10-27 02:30:00"), &paris).unwrap();
        assert_eq!(overlap, wall_micros(&wall("2024-10-27 00:30:00")).unwrap());
    }
}
