//! `to_json(struct | array | map [, options])`: Spark's JSON text of a value.
//!
//! Field order is the struct's; NULL struct fields are left out unless
//! `ignoreNullFields` is false (NULL array elements and map values are written as `null`);
//! timestamps use `timestampFormat` (default `yyyy-MM-dd'T'HH:mm:ss.SSSXXX`, in the session
//! time zone), dates `dateFormat` (default `yyyy-MM-dd`); doubles print as Java does
//! (`1.0E20`), and NaN/Infinity as strings (`"NaN"`), as Jackson writes them.
//!
//! The writer is compiled once per batch into a tree of typed array views, so the per-row
//! work is plain appends into one buffer.

use std::sync::Arc;

use crate::Result;
use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Decimal128Array, Float32Array,
    Float64Array, Int8Array, Int16Array, Int32Array, Int64Array, ListArray, MapArray, StringArray,
    StructArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, TimestampMicrosecondType,
};
use chrono_tz::Tz;

use super::decoder::escape_json_into;
use crate::expr::columnar::ColumnarValue;
use crate::functions::datetime_format::DateTimePattern;
use crate::functions::string::{rows, wrap};
use crate::functions::{FunctionContext, ScalarFunction};

/// Spark's default JSON `timestampFormat`.
pub const DEFAULT_JSON_TIMESTAMP_FORMAT: &str = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX";
/// Spark's default JSON `timestampNTZFormat` (the optional section is always written).
pub const DEFAULT_JSON_TIMESTAMP_NTZ_FORMAT: &str = "yyyy-MM-dd'T'HH:mm:ss[.SSS]";
/// Spark's default JSON `dateFormat`.
pub const DEFAULT_JSON_DATE_FORMAT: &str = "yyyy-MM-dd";

/// Options of the JSON writer.
#[derive(Debug, Clone)]
pub struct JsonWriteOptions {
    /// `ignoreNullFields` (default true).
    pub ignore_null_fields: bool,
    /// `timestampFormat`.
    pub timestamp_format: Arc<DateTimePattern>,
    /// `timestampNTZFormat` (TIMESTAMP_NTZ values: wall-clock time, no zone).
    pub timestamp_ntz_format: Arc<DateTimePattern>,
    /// `dateFormat`.
    pub date_format: Arc<DateTimePattern>,
}

impl JsonWriteOptions {
    /// Spark's defaults.
    pub fn try_default() -> Result<Self> {
        Ok(JsonWriteOptions {
            ignore_null_fields: true,
            timestamp_format: Arc::new(DateTimePattern::new(DEFAULT_JSON_TIMESTAMP_FORMAT)?),
            timestamp_ntz_format: Arc::new(DateTimePattern::new(
                DEFAULT_JSON_TIMESTAMP_NTZ_FORMAT,
            )?),
            date_format: Arc::new(DateTimePattern::new(DEFAULT_JSON_DATE_FORMAT)?),
        })
    }
}

enum Enc<'a> {
    Null,
    Bool(&'a BooleanArray),
    I8(&'a Int8Array),
    I16(&'a Int16Array),
    I32(&'a Int32Array),
    I64(&'a Int64Array),
    F32(&'a Float32Array),
    F64(&'a Float64Array),
    Dec(&'a Decimal128Array, i8),
    Str(&'a StringArray),
    Ts(&'a TimestampMicrosecondArray),
    TsNtz(&'a TimestampMicrosecondArray),
    Date(&'a Date32Array),
    List(&'a ListArray, Box<Enc<'a>>),
    Map(&'a MapArray, Box<Enc<'a>>, Box<Enc<'a>>),
    Struct(&'a StructArray, Vec<(Vec<u8>, Enc<'a>)>),
    /// Other types, as their string cast.
    Text(StringArray),
}

fn compile(a: &dyn Array) -> Result<Enc<'_>> {
    Ok(match a.data_type() {
        DataType::Null => Enc::Null,
        DataType::Boolean => Enc::Bool(a.as_boolean()),
        DataType::Int8 => Enc::I8(a.as_primitive::<Int8Type>()),
        DataType::Int16 => Enc::I16(a.as_primitive::<Int16Type>()),
        DataType::Int32 => Enc::I32(a.as_primitive::<Int32Type>()),
        DataType::Int64 => Enc::I64(a.as_primitive::<Int64Type>()),
        DataType::Float32 => Enc::F32(a.as_primitive::<Float32Type>()),
        DataType::Float64 => Enc::F64(a.as_primitive::<Float64Type>()),
        DataType::Decimal128(_, s) => Enc::Dec(a.as_primitive::<Decimal128Type>(), *s),
        DataType::Utf8 => Enc::Str(a.as_string::<i32>()),
        DataType::Timestamp(arrow::datatypes::TimeUnit::Microsecond, None) => {
            Enc::TsNtz(a.as_primitive::<TimestampMicrosecondType>())
        }
        DataType::Timestamp(arrow::datatypes::TimeUnit::Microsecond, _) => {
            Enc::Ts(a.as_primitive::<TimestampMicrosecondType>())
        }
        DataType::Date32 => Enc::Date(a.as_primitive::<Date32Type>()),
        DataType::List(_) => {
            let l = a.as_list::<i32>();
            Enc::List(l, Box::new(compile(l.values().as_ref())?))
        }
        DataType::Map(_, _) => {
            let m = a.as_map();
            Enc::Map(
                m,
                Box::new(compile(m.keys().as_ref())?),
                Box::new(compile(m.values().as_ref())?),
            )
        }
        DataType::Struct(fields) => {
            let s = a.as_struct();
            let mut parts = Vec::with_capacity(fields.len());
            for (f, c) in fields.iter().zip(s.columns()) {
                let mut key = Vec::with_capacity(f.name().len() + 3);
                key.push(b'"');
                escape_json_into(f.name().as_bytes(), &mut key);
                key.extend_from_slice(b"\":");
                parts.push((key, compile(c.as_ref())?));
            }
            Enc::Struct(s, parts)
        }
        // Spark writes an interval as its ANSI text (`INTERVAL '0 01:00:00' DAY TO SECOND`).
        DataType::Duration(_) | DataType::Interval(arrow::datatypes::IntervalUnit::YearMonth) => {
            let text: StringArray = (0..a.len())
                .map(|i| crate::format::value_to_string(a, i, &Tz::UTC))
                .collect();
            Enc::Text(text)
        }
        _ => {
            let text = arrow::compute::cast(a, &DataType::Utf8)?;
            Enc::Text(text.as_string::<i32>().clone())
        }
    })
}

struct Ctx<'o> {
    o: &'o JsonWriteOptions,
    tz: Tz,
    scratch: String,
}

fn push_str(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    escape_json_into(s.as_bytes(), out);
    out.push(b'"');
}

fn push_double(v: f64, out: &mut Vec<u8>) {
    let t = crate::format::format_f64(v);
    if v.is_finite() {
        out.extend_from_slice(t.as_bytes());
    } else {
        push_str(&t, out);
    }
}

impl Enc<'_> {
    fn is_null(&self, i: usize) -> bool {
        match self {
            Enc::Null => true,
            Enc::Bool(a) => a.is_null(i),
            Enc::I8(a) => a.is_null(i),
            Enc::I16(a) => a.is_null(i),
            Enc::I32(a) => a.is_null(i),
            Enc::I64(a) => a.is_null(i),
            Enc::F32(a) => a.is_null(i),
            Enc::F64(a) => a.is_null(i),
            Enc::Dec(a, _) => a.is_null(i),
            Enc::Str(a) => a.is_null(i),
            Enc::Ts(a) | Enc::TsNtz(a) => a.is_null(i),
            Enc::Date(a) => a.is_null(i),
            Enc::List(a, _) => a.is_null(i),
            Enc::Map(a, _, _) => a.is_null(i),
            Enc::Struct(a, _) => a.is_null(i),
            Enc::Text(a) => a.is_null(i),
        }
    }

    /// Writes row `i` (known not NULL for containers; NULL scalars write `null`).
    fn write(&self, i: usize, out: &mut Vec<u8>, c: &mut Ctx<'_>) {
        if self.is_null(i) {
            out.extend_from_slice(b"null");
            return;
        }
        match self {
            Enc::Null => out.extend_from_slice(b"null"),
            Enc::Bool(a) => out.extend_from_slice(if a.value(i) { b"true" } else { b"false" }),
            Enc::I8(a) => push_int(i64::from(a.value(i)), out),
            Enc::I16(a) => push_int(i64::from(a.value(i)), out),
            Enc::I32(a) => push_int(i64::from(a.value(i)), out),
            Enc::I64(a) => push_int(a.value(i), out),
            Enc::F32(a) => {
                let v = a.value(i);
                let t = crate::format::format_f32(v);
                if v.is_finite() {
                    out.extend_from_slice(t.as_bytes());
                } else {
                    push_str(&t, out);
                }
            }
            Enc::F64(a) => push_double(a.value(i), out),
            Enc::Dec(a, s) => {
                out.extend_from_slice(crate::format::format_decimal(a.value(i), *s).as_bytes())
            }
            Enc::Str(a) => push_str(a.value(i), out),
            Enc::Text(a) => push_str(a.value(i), out),
            Enc::Ts(a) => {
                c.scratch.clear();
                c.o.timestamp_format
                    .format_micros(a.value(i), &c.tz, &mut c.scratch);
                out.push(b'"');
                escape_json_into(c.scratch.as_bytes(), out);
                out.push(b'"');
            }
            Enc::TsNtz(a) => {
                c.scratch.clear();
                c.o.timestamp_ntz_format
                    .format_micros(a.value(i), &Tz::UTC, &mut c.scratch);
                out.push(b'"');
                escape_json_into(c.scratch.as_bytes(), out);
                out.push(b'"');
            }
            Enc::Date(a) => {
                c.scratch.clear();
                let days = a.value(i);
                if let Some(d) = crate::functions::datetime_format::date_from_days(days) {
                    let dt = d.and_hms_opt(0, 0, 0).unwrap_or_default();
                    c.o.date_format.format_into(&dt, &Tz::UTC, &mut c.scratch);
                }
                push_str(&c.scratch.clone(), out);
            }
            Enc::List(a, e) => {
                let off = a.value_offsets();
                out.push(b'[');
                for (k, j) in (off[i] as usize..off[i + 1] as usize).enumerate() {
                    if k > 0 {
                        out.push(b',');
                    }
                    e.write(j, out, c);
                }
                out.push(b']');
            }
            Enc::Map(a, ke, ve) => {
                let off = a.value_offsets();
                out.push(b'{');
                for (k, j) in (off[i] as usize..off[i + 1] as usize).enumerate() {
                    if k > 0 {
                        out.push(b',');
                    }
                    // Keys are written as JSON strings whatever their type.
                    let mut kb = Vec::new();
                    ke.write(j, &mut kb, c);
                    if kb.first() == Some(&b'"') {
                        out.extend_from_slice(&kb);
                    } else {
                        out.push(b'"');
                        escape_json_into(&kb, out);
                        out.push(b'"');
                    }
                    out.push(b':');
                    ve.write(j, out, c);
                }
                out.push(b'}');
            }
            Enc::Struct(_, parts) => {
                out.push(b'{');
                let mut first = true;
                for (key, e) in parts {
                    if e.is_null(i) && c.o.ignore_null_fields {
                        continue;
                    }
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    out.extend_from_slice(key);
                    e.write(i, out, c);
                }
                out.push(b'}');
            }
        }
    }
}

/// Appends the decimal text of `v` without allocating.
fn push_int(v: i64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut n = v.unsigned_abs();
    let mut k = buf.len();
    loop {
        k -= 1;
        buf[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[k..]);
}

/// The JSON text of every row of `a` (NULL rows stay NULL).
pub fn to_json_array(a: &dyn Array, o: &JsonWriteOptions, tz: Tz) -> Result<StringArray> {
    let enc = compile(a)?;
    // Rows are written as bytes and the whole buffer is checked as UTF-8 once at the end
    // (everything written is UTF-8: input strings and ASCII syntax), not row by row.
    let mut b = arrow::array::BinaryBuilder::with_capacity(a.len(), a.len() * 32);
    let mut c = Ctx {
        o,
        tz,
        scratch: String::new(),
    };
    let mut buf = Vec::with_capacity(256);
    for i in 0..a.len() {
        if a.is_null(i) {
            b.append_null();
            continue;
        }
        buf.clear();
        enc.write(i, &mut buf, &mut c);
        b.append_value(&buf);
    }
    let bytes = b.finish();
    match StringArray::try_from_binary(bytes.clone()) {
        Ok(s) => Ok(s),
        // Unreachable with UTF-8 inputs; kept total rather than trusted.
        Err(_) => Ok(bytes
            .iter()
            .map(|v| v.map(String::from_utf8_lossy))
            .collect()),
    }
}

/// A `to_json` call with its options fixed at analysis.
#[derive(Debug, Clone)]
pub struct ToJson {
    /// The writer options.
    pub options: JsonWriteOptions,
}

impl ScalarFunction for ToJson {
    fn name(&self) -> &str {
        "to_json"
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        match args.first() {
            Some(DataType::Struct(_) | DataType::List(_) | DataType::Map(_, _)) => {
                Ok(vec![args[0].clone()])
            }
            Some(other) => Err(crate::EngineError::analysis(
                "DATATYPE_MISMATCH.INVALID_JSON_SCHEMA",
                format!(
                    "Cannot resolve \"to_json\" due to data type mismatch: Input schema \"{}\" must be a struct, an array of structs or a map. SQLSTATE: 42K09",
                    crate::types::sql_type_name(other)
                ),
            )),
            None => Err(crate::functions::wrong_num_args("to_json", "[1, 2]", 0)),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke(
        &self,
        args: &[ColumnarValue],
        num_rows: usize,
        ctx: &FunctionContext,
    ) -> Result<ColumnarValue> {
        let n = rows(args, num_rows);
        let a: ArrayRef = args[0].to_array(n)?;
        let out = to_json_array(a.as_ref(), &self.options, ctx.time_zone)?;
        wrap(args, Arc::new(out))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn integers_print_like_java() {
        for v in [0i64, 7, -7, 1234567890, i64::MIN, i64::MAX] {
            let mut out = Vec::new();
            push_int(v, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), v.to_string());
        }
    }
}
