//! `convert_timezone([source_tz,] target_tz, source_ts)` and `current_timezone()`.
//!
//! `convert_timezone` reads a `TIMESTAMP_NTZ` wall clock in the source zone and gives the
//! wall clock of the same instant in the target zone, as Spark's
//! `DateTimeUtils.convertTimestampNtzToAnotherTz`. Without a source zone Spark's builder
//! inserts `current_timezone()` (see `default_args`), which also names the column.

use std::sync::Arc;

use arrow::array::{Array, AsArray, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, TimestampMicrosecondType};

use super::datetime::{invalid_zone, local_micros};
use super::string::{SimpleFunction, arrays, ret_string, rows, want_string, wrap};
use super::string_extra::{opt_str, str_col};
use super::{FunctionContext, ScalarFunction, unexpected_input_type, wrong_num_args};
use crate::datetime_text::zone::{Zone, parse_zone_id};
use crate::expr::columnar::ColumnarValue;
use crate::scalar::ScalarValue;
use crate::types::timestamp_ntz_type;
use crate::{EngineError, Result};

/// `current_timezone()`: the session time zone's id.
fn eval_current_timezone(
    _: &str,
    _: &[ColumnarValue],
    _: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(
        ctx.time_zone.name().to_string(),
    ))))
}

fn coerce_none(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    if args.is_empty() {
        Ok(Vec::new())
    } else {
        Err(wrong_num_args(name, "0", args.len()))
    }
}

/// Two zone ids (strings) and a timestamp read as `TIMESTAMP_NTZ` (strings, dates and
/// TIMESTAMPs convert implicitly, a TIMESTAMP as its session-zone wall clock).
fn coerce_convert(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    let [src, dst, ts] = args else {
        return Err(wrong_num_args(name, "[2, 3]", args.len()));
    };
    let ok = matches!(
        ts,
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Null
    ) || crate::types::is_string(ts);
    if !ok {
        return Err(unexpected_input_type(name, 3, "\"TIMESTAMP_NTZ\"", ts));
    }
    Ok(vec![
        want_string(name, 1, src)?,
        want_string(name, 2, dst)?,
        timestamp_ntz_type(),
    ])
}

fn ret_ntz(_: &[DataType]) -> Result<DataType> {
    Ok(timestamp_ntz_type())
}

/// The zone `id`, or Spark's `INVALID_TIMEZONE`.
fn zone(id: &str) -> Result<Zone> {
    parse_zone_id(id).ok_or_else(|| invalid_zone(id))
}

/// The wall clock `wall` (microseconds) in `from`, as a wall clock in `to`.
fn convert(wall: i64, from: &Zone, to: &Zone) -> Option<i64> {
    let naive = chrono::DateTime::from_timestamp_micros(wall)?.naive_utc();
    let instant = from.to_utc_micros(&naive)?;
    match to {
        Zone::Offset(secs) => instant.checked_add(i64::from(*secs) * 1_000_000),
        Zone::Region(tz) => Some(local_micros(instant, tz)),
    }
}

fn eval_convert(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let (src, dst) = (str_col(&a, 0)?, str_col(&a, 1)?);
    let ts = a
        .get(2)
        .and_then(|c| c.as_primitive_opt::<TimestampMicrosecondType>())
        .ok_or_else(|| EngineError::Internal("convert_timezone on a non-timestamp".into()))?;
    // Zones are usually constants: parse each distinct pair once.
    let mut last: Option<((String, String), (Zone, Zone))> = None;
    let mut out = Vec::with_capacity(rows);
    for i in 0..rows {
        let (Some(s), Some(d), true) = (opt_str(src, i), opt_str(dst, i), ts.is_valid(i)) else {
            out.push(None);
            continue;
        };
        if !matches!(&last, Some(((ls, ld), _)) if ls == s && ld == d) {
            last = Some(((s.to_string(), d.to_string()), (zone(s)?, zone(d)?)));
        }
        let Some((_, (from, to))) = &last else {
            return Err(EngineError::Internal("zones not parsed".into()));
        };
        out.push(convert(ts.value(i), from, to));
    }
    wrap(args, Arc::new(TimestampMicrosecondArray::from(out)))
}

/// The registry entries.
pub(crate) fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let s = SimpleFunction::new;
    let mut v = Vec::new();
    v.extend(
        s(
            "current_timezone",
            (0, 0),
            coerce_none,
            ret_string,
            eval_current_timezone,
        )
        .entries(&[]),
    );
    v.extend(
        s(
            "convert_timezone",
            (0, usize::MAX),
            coerce_convert,
            ret_ntz,
            eval_convert,
        )
        .entries(&[]),
    );
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_clocks_move_between_zones_as_java_resolves_them() {
        let wall = |s: &str| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
                .unwrap()
                .and_utc()
                .timestamp_micros()
        };
        let z = |id: &str| zone(id).unwrap();
        // A time in the spring-forward gap moves forward; an ambiguous one takes the
        // earlier offset.
        assert_eq!(
            convert(
                wall("2024-03-10 02:30:00"),
                &z("America/New_York"),
                &z("UTC")
            ),
            Some(wall("2024-03-10 07:30:00"))
        );
        assert_eq!(
            convert(
                wall("2024-11-03 01:30:00"),
                &z("America/New_York"),
                &z("UTC")
            ),
            Some(wall("2024-11-03 05:30:00"))
        );
        assert_eq!(
            convert(wall("2024-01-01 00:00:00"), &z("+01:00"), &z("-05:00")),
            Some(wall("2023-12-31 18:00:00"))
        );
        assert!(zone("Foo/Bar").is_err());
    }
}
