//! The parser against cases read off Spark 4 (`CAST(s AS TIMESTAMP)` in UTC), and the fast
//! path against the general one.

#![allow(clippy::unwrap_used)]

use super::*;
use chrono::Datelike;
use proptest::prelude::*;

const NOW: i64 = 1_700_000_000_000_000; // 2023-11-14T22:13:20Z

fn ts(s: &str) -> Option<i64> {
    parse_timestamp(s, &Tz::UTC, NOW)
}

fn utc(s: &str) -> i64 {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .unwrap()
        .and_utc()
        .timestamp_micros()
}

#[test]
fn timestamp_forms() {
    let base = utc("2024-01-01 10:00:00");
    for text in [
        "2024-01-01 10:00:00",
        "2024-01-01T10:00:00",
        "  2024-01-01 10:00:00 \t",
        "2024-1-1 10:0:0",
        "2024-01-01T10:00:00Z",
        "2024-01-01 10:00:00 UTC",
        "2024-01-01 10:00:00+00:00",
        "2024-01-01 15:30:00+05:30",
        "2024-01-01 15:30:00+0530",
        "2024-01-01 15:30:00 +05:30",
        "2024-01-01 15:30:00+5:30",
        "2024-01-01 15:30:00GMT+05:30",
        "2024-01-01 05:00:00 EST",
        "2024-01-01 11:00:00 Europe/Paris",
        "2024-01-01 02:00:00 PST",
        "2024-01-01 10:00",
        "2024-01-01T10:00:00.",
    ] {
        assert_eq!(ts(text), Some(base), "{text}");
    }
    assert_eq!(ts("2024"), Some(utc("2024-01-01 00:00:00")));
    assert_eq!(ts("2024-02"), Some(utc("2024-02-01 00:00:00")));
    assert_eq!(ts("2024-02-29"), Some(utc("2024-02-29 00:00:00")));
    assert_eq!(ts("2024-02-29 "), Some(utc("2024-02-29 00:00:00")));
    assert_eq!(ts("2024-01-01 10"), Some(base));
    for (text, frac) in [
        ("2024-01-01 10:00:00.1", 100_000),
        ("2024-01-01 10:00:00.123456", 123_456),
        ("2024-01-01 10:00:00.123456789", 123_456),
        ("2024-01-01 10:00:00.000000001", 0),
        ("2024-01-01 10:00:00.5Z", 500_000),
        ("2024-01-01 10:00:00.123456789012345+00:00", 123_456),
    ] {
        assert_eq!(ts(text), Some(base + frac), "{text}");
    }
    // Time alone is on today's date (in the text's zone).
    let today = utc("2023-11-14 00:00:00");
    assert_eq!(ts("10:00:00"), Some(today + 10 * 3_600_000_000));
    assert_eq!(ts("T10:00"), Some(today + 10 * 3_600_000_000));
    assert_eq!(ts("1:2:3"), Some(today + 3_723_000_000));
    // Years with a sign and more digits.
    assert_eq!(ts("+2024-01-01"), Some(utc("2024-01-01 00:00:00")));
    assert_eq!(ts("-0001-01-01").map(|v| v < 0), Some(true));
    assert!(ts("294247-01-10 04:00:54.775807").is_some());
    assert_eq!(ts("294247-01-10 04:00:54.775808"), None);
    assert!(ts("200000-01-01").is_some());
}

#[test]
fn timestamp_rejections() {
    for text in [
        "",
        "   ",
        "abc",
        "2024-13-01",
        "2024-02-30",
        "2023-02-29",
        "24-01-01",
        "1234567-01-01",
        "2024-01-01T",
        "2024-01-01 10:00Z",
        "2024-01-01 25:00:00",
        "2024-01-01 10:60:00",
        "2024-01-01 10:00:60",
        "2024-01-01 10:00:00+19:00",
        "2024-01-01 10:00:00+aéb",
        "2024-01-01 10:00:00é",
        "2024-01-01 10:00:00 europe/paris",
        "2024-01-01 10:00:00z",
        "2024-01-01 10:00:00.12.3",
        "2024-01-01X10:00:00",
        " T10:00:00",
        "+10:00:00",
        "2024-001-01",
        "é",
    ] {
        assert_eq!(ts(text), None, "{text:?}");
    }
}

#[test]
fn session_zone_and_ntz() {
    let paris = chrono_tz::Europe::Paris;
    assert_eq!(
        parse_timestamp("2024-07-01 12:00:00", &paris, NOW),
        Some(utc("2024-07-01 10:00:00"))
    );
    assert_eq!(
        parse_timestamp("2024-07-01 12:00:00Z", &paris, NOW),
        Some(utc("2024-07-01 12:00:00"))
    );
    assert_eq!(
        parse_timestamp_ntz("2024-07-01 12:00:00+05:00", true),
        Some(utc("2024-07-01 12:00:00"))
    );
    assert_eq!(
        parse_timestamp_ntz("2024-07-01 12:00:00+05:00", false),
        None
    );
    assert_eq!(parse_timestamp_ntz("12:00:00", true), None);
}

#[test]
fn date_forms() {
    let d = |s: &str| parse_date(s);
    assert_eq!(d("1970-01-02"), Some(1));
    assert_eq!(d(" 1970-1-2 "), Some(1));
    assert_eq!(d("1970-01-02T10:00"), Some(1));
    assert_eq!(d("1970-01-02 anything"), Some(1));
    assert_eq!(d("1970"), Some(0));
    assert_eq!(d("1970-02"), Some(31));
    assert_eq!(d("1969-12-31"), Some(-1));
    assert_eq!(d("+1970-01-01"), Some(0));
    assert!(d("1234567-01-01").is_some());
    for bad in [
        "",
        "70-01-01",
        "12345678-01-01",
        "1970 01",
        "1970-01 x",
        "1970-13-01",
        "1970-01-32",
        "1970-01-01-",
        "1970/01/01",
        "é",
        "1970-é",
    ] {
        assert_eq!(d(bad), None, "{bad:?}");
    }
}

#[test]
fn days_match_chrono() {
    for (y, m, dd) in [
        (1970, 1, 1),
        (2000, 2, 29),
        (1, 1, 1),
        (-44, 3, 15),
        (9999, 12, 31),
    ] {
        let chrono_days = NaiveDate::from_ymd_opt(y, m, dd)
            .unwrap()
            .num_days_from_ce()
            - 719_163;
        assert_eq!(
            days_from_ymd(i64::from(y), m, dd),
            Some(i64::from(chrono_days))
        );
    }
    for days in [i64::from(i32::MIN), -1, 0, 59, 11_016, i64::from(i32::MAX)] {
        let (y, m, d) = ymd_from_days(days);
        assert_eq!(days_from_ymd(y, m, d), Some(days), "{days}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Days and calendar dates convert both ways over Spark's whole DATE range.
    #[test]
    fn days_round_trip(days in i64::from(i32::MIN)..=i64::from(i32::MAX)) {
        let (y, m, d) = ymd_from_days(days);
        prop_assert_eq!(days_from_ymd(y, m, d), Some(days));
    }

    /// The fast path and the general parser agree on every ISO-shaped text.
    #[test]
    fn fast_path_agrees(
        y in 0i32..10000, mo in 0u32..14, d in 0u32..33, h in 0u32..25, mi in 0u32..61,
        s in 0u32..61, frac in proptest::option::of("[0-9]{0,10}"), sep in prop_oneof![Just('T'), Just(' ')],
        zone in prop_oneof![Just(String::new()), Just("Z".to_string()), "[+-][0-2][0-9]:[0-6][0-9]"],
    ) {
        let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
        let text = format!("{y:04}-{mo:02}-{d:02}{sep}{h:02}:{mi:02}:{s:02}{frac}{zone}");
        let t = parse_timestamp_text(&text);
        let general = t.and_then(|t| {
            let zone = t.zone.unwrap_or(Zone::Offset(0));
            let (y, m, d) = t.date?;
            let days = days_from_ymd(i64::from(y), m, d)?;
            let Zone::Offset(off) = zone else { return None };
            (days * SECONDS_PER_DAY * MICROS_PER_SECOND + time_micros(&t)?)
                .checked_sub(i64::from(off) * MICROS_PER_SECOND)
        });
        if let Some(fast) = fast_iso(text.as_bytes(), &Tz::UTC) {
            prop_assert_eq!(Some(fast), general, "{}", text);
        }
        prop_assert_eq!(ts(&text), general, "{}", text);
    }
}
