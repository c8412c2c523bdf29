//! `from_csv(text, schema [, options])` and `to_csv(struct [, options])`.
//!
//! `from_csv` splits each text with the `csv` crate (Spark's `sep`, `quote`, `escape`)
//! and converts each field to its column's type; a field that does not convert makes the
//! record malformed (PERMISSIVE: that field NULL; FAILFAST: error). Only STRUCT schemas.
//! `to_csv` writes one line per struct with quoting only where needed; timestamps use
//! `timestampFormat` (default `yyyy-MM-dd'T'HH:mm:ss.SSSXXX`) and dates `dateFormat`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::{EngineError, Result};
use arrow::array::{Array, ArrayRef, AsArray, StringArray, StringBuilder, StructArray};
use arrow::datatypes::{DataType, Fields};

use super::to_json::{DEFAULT_JSON_DATE_FORMAT, DEFAULT_JSON_TIMESTAMP_FORMAT};
use crate::datetime_text;
use crate::expr::CastMode;
use crate::expr::columnar::ColumnarValue;
use crate::functions::datetime_format::DateTimePattern;
use crate::functions::string::{rows, wrap};
use crate::functions::{FunctionContext, ScalarFunction};
use crate::options::{Options, ParseMode, malformed_record_error};

/// A `from_csv` call with its schema and options.
#[derive(Debug, Clone)]
pub struct FromCsv {
    fields: Fields,
    sep: u8,
    quote: u8,
    escape: u8,
    pub(crate) mode: ParseMode,
    /// Labels of the location columns passed as extra arguments (see
    /// [`super::locate_failfast`]); empty for a plain call.
    pub(crate) location: Vec<String>,
}

/// Builds `from_csv`.
pub fn from_csv_function(schema: DataType, o: &Options) -> Result<FromCsv> {
    let DataType::Struct(fields) = schema else {
        return Err(EngineError::analysis(
            "INVALID_SCHEMA.NON_STRUCT_TYPE",
            format!(
                "The input schema \"{}\" is not a valid schema string. The input expression must be a struct type. SQLSTATE: 42K07",
                crate::types::sql_type_name(&schema)
            ),
        ));
    };
    Ok(FromCsv {
        fields,
        sep: o
            .byte(&["sep", "delimiter"], Some(b','), false)?
            .unwrap_or(b','),
        quote: o.byte(&["quote"], Some(b'"'), true)?.unwrap_or(0),
        escape: o.byte(&["escape"], Some(b'\\'), true)?.unwrap_or(b'\\'),
        mode: o.parse_mode()?,
        location: Vec::new(),
    })
}

impl FromCsv {
    /// This call with the location columns named `labels` as extra arguments.
    pub(crate) fn with_location(&self, labels: Vec<String>) -> FromCsv {
        FromCsv {
            location: labels,
            ..self.clone()
        }
    }
}

impl ScalarFunction for FromCsv {
    fn name(&self) -> &str {
        "from_csv"
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        super::from_json::coerce_with_location("from_csv", args, self.location.len())
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(
            self.fields
                .iter()
                .map(|f| f.as_ref().clone().with_nullable(true))
                .collect::<Vec<_>>()
                .into(),
        ))
    }
    fn invoke(
        &self,
        args: &[ColumnarValue],
        num_rows: usize,
        ctx: &FunctionContext,
    ) -> Result<ColumnarValue> {
        let n = rows(args, num_rows);
        let input = args[0].to_array(n)?;
        let input = input.as_string::<i32>();
        let mut cols: Vec<StringBuilder> =
            self.fields.iter().map(|_| StringBuilder::new()).collect();
        let mut record = ::csv::StringRecord::new();
        for i in 0..n {
            if input.is_null(i) {
                for c in &mut cols {
                    c.append_null();
                }
                continue;
            }
            // One reader per text keeps the texts independent (a stray quote cannot
            // swallow the next row).
            let mut r = ::csv::ReaderBuilder::new()
                .has_headers(false)
                .delimiter(self.sep)
                .quoting(self.quote != 0)
                .quote(if self.quote == 0 { b'"' } else { self.quote })
                .escape(Some(self.escape))
                .flexible(true)
                .from_reader(input.value(i).as_bytes());
            let ok = r.read_record(&mut record).unwrap_or(false);
            for (k, c) in cols.iter_mut().enumerate() {
                match record.get(k) {
                    Some(v) if ok => c.append_value(v),
                    _ => c.append_null(),
                }
            }
        }
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(cols.len());
        let mut bad = vec![false; n];
        for (f, mut b) in self.fields.iter().zip(cols) {
            let text: StringArray = b.finish();
            let text: ArrayRef = Arc::new(text);
            let converted = convert(&text, f.data_type(), ctx)?;
            for (i, flag) in bad.iter_mut().enumerate() {
                if !text.is_null(i) && converted.is_null(i) {
                    *flag = true;
                }
            }
            arrays.push(converted);
        }
        let malformed = bad.iter().filter(|b| **b).count();
        if malformed > 0 {
            ctx.malformed_records
                .fetch_add(malformed, Ordering::Relaxed);
            if self.mode == ParseMode::FailFast
                && let Some(i) = bad.iter().position(|b| *b)
            {
                let location = args[1..]
                    .iter()
                    .map(|a| a.to_array(n))
                    .collect::<Result<Vec<_>>>()?;
                let at = super::from_json::located("from_csv", &self.location, i, &location);
                return Err(malformed_record_error(input.value(i), &at));
            }
        }
        let DataType::Struct(fields) = self.return_type(&[])? else {
            return Err(EngineError::Internal("from_csv returns a struct".into()));
        };
        let nulls = input.nulls().cloned();
        let out = StructArray::try_new(fields, arrays, nulls)?;
        wrap(args, Arc::new(out) as ArrayRef)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// One column's text as `to`: dates and timestamps as Spark's CSV parser reads them (its
/// fallback included), everything else as CAST does.
fn convert(text: &ArrayRef, to: &DataType, ctx: &FunctionContext) -> Result<ArrayRef> {
    use arrow::array::{Date32Array, TimestampMicrosecondArray};
    use arrow::datatypes::TimeUnit;
    let strings = text.as_string::<i32>();
    Ok(match to {
        DataType::Date32 => Arc::new(
            strings
                .iter()
                .map(|v| v.and_then(datetime_text::parse_reader_date))
                .collect::<Date32Array>(),
        ),
        DataType::Timestamp(TimeUnit::Microsecond, None) => Arc::new(
            strings
                .iter()
                .map(|v| v.and_then(|s| datetime_text::parse_timestamp_ntz(s, false)))
                .collect::<TimestampMicrosecondArray>(),
        ),
        DataType::Timestamp(TimeUnit::Microsecond, Some(zone)) => {
            let (tz, now) = (&ctx.time_zone, ctx.query_start_micros);
            let values: TimestampMicrosecondArray = strings
                .iter()
                .map(|v| v.and_then(|s| datetime_text::parse_reader_timestamp(s, tz, now)))
                .collect();
            Arc::new(values.with_timezone(zone.clone()))
        }
        _ => crate::functions::cast::cast_array(text, to, CastMode::Try, ctx)?,
    })
}

/// A `to_csv` call with its options.
#[derive(Debug, Clone)]
pub struct ToCsv {
    sep: u8,
    timestamp_format: Arc<DateTimePattern>,
    date_format: Arc<DateTimePattern>,
}

/// Builds `to_csv`.
pub fn to_csv_function(o: &Options) -> Result<ToCsv> {
    Ok(ToCsv {
        sep: o
            .byte(&["sep", "delimiter"], Some(b','), false)?
            .unwrap_or(b','),
        timestamp_format: Arc::new(DateTimePattern::new(
            o.get("timestampFormat")
                .unwrap_or(DEFAULT_JSON_TIMESTAMP_FORMAT),
        )?),
        date_format: Arc::new(DateTimePattern::new(
            o.get("dateFormat").unwrap_or(DEFAULT_JSON_DATE_FORMAT),
        )?),
    })
}

impl ScalarFunction for ToCsv {
    fn name(&self) -> &str {
        "to_csv"
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        match args.first() {
            Some(DataType::Struct(_)) => Ok(vec![args[0].clone()]),
            Some(other) => Err(crate::functions::unexpected_input_type(
                "to_csv",
                1,
                "\"STRUCT\"",
                other,
            )),
            None => Err(crate::functions::wrong_num_args("to_csv", "[1, 2]", 0)),
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
        let a = args[0].to_array(n)?;
        let s = a.as_struct();
        let mut b = StringBuilder::new();
        let mut field = String::new();
        for i in 0..n {
            if s.is_null(i) {
                b.append_null();
                continue;
            }
            let mut rec: Vec<String> = Vec::with_capacity(s.num_columns());
            for c in s.columns() {
                field.clear();
                if !c.is_null(i) {
                    match c.data_type() {
                        DataType::Timestamp(_, _) => {
                            let v = c
                                .as_primitive::<arrow::datatypes::TimestampMicrosecondType>()
                                .value(i);
                            self.timestamp_format
                                .format_micros(v, &ctx.time_zone, &mut field);
                        }
                        DataType::Date32 => {
                            let v = c.as_primitive::<arrow::datatypes::Date32Type>().value(i);
                            if let Some(d) = crate::functions::datetime_format::date_from_days(v) {
                                let dt = d.and_hms_opt(0, 0, 0).unwrap_or_default();
                                self.date_format
                                    .format_into(&dt, &chrono_tz::Tz::UTC, &mut field);
                            }
                        }
                        _ => {
                            if let Some(t) =
                                crate::format::value_to_string(c.as_ref(), i, &ctx.time_zone)
                            {
                                field.push_str(&t);
                            }
                        }
                    }
                }
                rec.push(field.clone());
            }
            // Spark (univocity) escapes a quote inside a quoted field with a backslash.
            let mut writer = ::csv::WriterBuilder::new()
                .delimiter(self.sep)
                .double_quote(false)
                .escape(b'\\')
                .terminator(::csv::Terminator::Any(b'\n'))
                .from_writer(Vec::new());
            writer
                .write_record(&rec)
                .map_err(|e| EngineError::external("to_csv", e))?;
            let buf = writer
                .into_inner()
                .map_err(|e| EngineError::external("to_csv", e.to_string()))?;
            let line =
                String::from_utf8_lossy(buf.strip_suffix(b"\n").unwrap_or(&buf)).into_owned();
            b.append_value(line);
        }
        wrap(args, Arc::new(b.finish()) as ArrayRef)
    }
}
