//! `to_timestamp_ntz(text[, format])`: text (or a DATE, or a TIMESTAMP's wall clock in the
//! session time zone) to a `TIMESTAMP_NTZ`, which holds the wall clock itself. The text is
//! read as `to_timestamp` reads it, in UTC, so the parsed wall clock is kept unchanged.

use std::sync::Arc;

use arrow::array::{Array, AsArray, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, TimestampMicrosecondType};
use chrono_tz::Tz;

use super::datetime::{coerce_parse, local_micros, parse_instants};
use super::string::{SimpleFunction, rows, wrap};
use super::{FunctionContext, ScalarFunction, unexpected_input_type};
use crate::Result;
use crate::expr::columnar::ColumnarValue;
use crate::types::timestamp_ntz_type;

fn coerce_to_timestamp_ntz(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    if crate::types::is_numeric(&a[0]) {
        return Err(unexpected_input_type(
            name,
            1,
            "(\"STRING\" or \"DATE\" or \"TIMESTAMP\" or \"TIMESTAMP_NTZ\")",
            &a[0],
        ));
    }
    coerce_parse(name, a)
}

fn eval_to_timestamp_ntz(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    ctx: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let out: TimestampMicrosecondArray = match args[0].data_type() {
        // An instant: its wall clock in the session zone.
        DataType::Timestamp(_, Some(_)) => {
            let a = args[0].to_array(rows)?;
            a.as_primitive::<TimestampMicrosecondType>()
                .iter()
                .map(|m| m.map(|m| local_micros(m, &ctx.time_zone)))
                .collect()
        }
        DataType::Timestamp(_, None) => {
            let a = args[0].to_array(rows)?;
            a.as_primitive::<TimestampMicrosecondType>().clone()
        }
        _ => {
            let utc = FunctionContext {
                time_zone: Tz::UTC,
                ..ctx.clone()
            };
            parse_instants("try_to_timestamp", args, rows, &utc, None)?
        }
    };
    let out = TimestampMicrosecondArray::new(out.values().clone(), out.nulls().cloned());
    wrap(args, Arc::new(out))
}

/// Every function of this module with its names.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    SimpleFunction::new(
        "to_timestamp_ntz",
        (1, 2),
        coerce_to_timestamp_ntz,
        |_| Ok(timestamp_ntz_type()),
        eval_to_timestamp_ntz,
    )
    .entries(&[])
}
