//! `from_json(json, schema [, options])`: JSON text to a STRUCT (or ARRAY / MAP) with
//! Spark's parse modes.
//!
//! - PERMISSIVE (default): a field of the wrong kind becomes NULL, a syntax error NULLs every
//!   field; the raw text goes to the corrupt-record field when the schema has one
//!   (`columnNameOfCorruptRecord`, default `_corrupt_record`, type STRING).
//! - FAILFAST: the first malformed record fails the query with
//!   `MALFORMED_RECORD_IN_PARSING`, quoting the record (truncated to 1000 characters) and
//!   saying where it is. **Going further than Spark** (whose message only names the
//!   function): when the projection's input has the Kafka source's `topic`, `partition` and
//!   `offset` columns, the analyzer passes them to the call as extra arguments (see
//!   [`super::locate_failfast`]) and the error names the record's position, e.g.
//!   `(topic orders, partition 2, offset 41: from_json)`.
//! - DROPMALFORMED: **an extension** (Spark rejects it for `from_json` with
//!   `PARSE_MODE_UNSUPPORTED`): the row is dropped. A scalar function cannot drop rows, so
//!   the analyzer rewrites a projection that calls it (see [`super::rewrite_dropmalformed`]):
//!   the call is computed once below a filter as `STRUCT<ok, value>` and the filter keeps the
//!   rows whose record parsed.
//!
//! Every malformed record (any mode) is counted in
//! [`FunctionContext::malformed_records`](crate::functions::FunctionContext), the query's
//! counter that metrics and streaming progress read.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::Result;
use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, StringArray, StructArray};
use arrow::datatypes::{DataType, Field, Fields};

use super::decoder::{Col, Fail, JsonParseOptions, Parser};
use super::records::Records;
use crate::expr::columnar::ColumnarValue;
use crate::functions::string::{rows, want_string, wrap};
use crate::functions::{FunctionContext, ScalarFunction};
use crate::guard::{catch_panic, panicked};
use crate::options::{ParseMode, malformed_record_error};

/// A `from_json` call with its schema and options fixed at analysis.
#[derive(Debug, Clone)]
pub struct FromJson {
    /// The declared result type (STRUCT, ARRAY or MAP).
    pub schema: DataType,
    /// Parser features and formats (the time zone is taken from the session at run time).
    pub options: JsonParseOptions,
    /// `mode`.
    pub mode: ParseMode,
    /// `columnNameOfCorruptRecord`.
    pub corrupt_column: String,
    /// The DROPMALFORMED form: returns `STRUCT<ok: BOOLEAN, value: schema>`.
    pub marked: bool,
    /// FAILFAST only: labels of the location columns (`topic`, `partition`, `offset`) the
    /// call receives as extra arguments after the JSON text, used only to say where a
    /// malformed record is. Empty for a plain call.
    pub location: Vec<String>,
}

/// Nullable everywhere, as Spark makes `from_json`'s result type.
pub fn nullable_type(dt: &DataType) -> DataType {
    match dt {
        DataType::Struct(fs) => DataType::Struct(
            fs.iter()
                .map(|f| {
                    Field::new(f.name(), nullable_type(f.data_type()), true)
                        .with_metadata(f.metadata().clone())
                })
                .collect::<Vec<_>>()
                .into(),
        ),
        DataType::List(f) => DataType::List(Arc::new(
            f.as_ref()
                .clone()
                .with_data_type(nullable_type(f.data_type()))
                .with_nullable(true),
        )),
        DataType::Map(entries, sorted) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                let inner = DataType::Struct(Fields::from(vec![
                    kv[0].as_ref().clone().with_nullable(false),
                    kv[1]
                        .as_ref()
                        .clone()
                        .with_data_type(nullable_type(kv[1].data_type()))
                        .with_nullable(true),
                ]));
                DataType::Map(
                    Arc::new(entries.as_ref().clone().with_data_type(inner)),
                    *sorted,
                )
            }
            _ => dt.clone(),
        },
        other => other.clone(),
    }
}

/// The outcome of decoding a batch.
pub struct Decoded {
    /// The parsed values, one per input row.
    pub values: ArrayRef,
    /// `true` for rows whose record was malformed.
    pub malformed: Vec<bool>,
}

impl FromJson {
    fn value_type(&self) -> DataType {
        nullable_type(&self.schema)
    }

    /// Decodes a batch of JSON texts.
    pub fn decode(&self, input: &StringArray, tz: chrono_tz::Tz) -> Result<Decoded> {
        self.decode_at(input, tz, crate::datetime_text::now_micros(), &[])
    }

    /// Decodes a batch of JSON texts; a time without a date is on the date of `now_micros`;
    /// `location` holds the columns named by [`FromJson::location`] (same length as
    /// `input`), read only for a FAILFAST error.
    pub fn decode_at(
        &self,
        input: &StringArray,
        tz: chrono_tz::Tz,
        now_micros: i64,
        location: &[ArrayRef],
    ) -> Result<Decoded> {
        let mut options = self.options.clone();
        options.time_zone = tz;
        options.now_micros = now_micros;
        let corrupt = (self.mode == ParseMode::Permissive).then_some(self.corrupt_column.as_str());
        let mut malformed = vec![false; input.len()];
        let values = match &self.schema {
            DataType::Struct(fields) => {
                // A scalar function keeps every row: DROPMALFORMED rows are dropped by the
                // filter the analyzer puts above the call.
                let mode = match self.mode {
                    ParseMode::FailFast => ParseMode::FailFast,
                    _ => ParseMode::Permissive,
                };
                let mut records = Records::new(fields, corrupt, mode, false);
                for (row, bad) in malformed.iter_mut().enumerate() {
                    if input.is_null(row) {
                        records.push_null();
                        continue;
                    }
                    let text = input.value(row);
                    let pushed = catch_panic(|| records.push(text.as_bytes(), &options));
                    let malformed = pushed.map_err(|m| {
                        panicked(&self.where_is(row, location), Some("this record"), &m)
                    })?;
                    if malformed {
                        *bad = true;
                        self.on_malformed(text, row, location)?;
                    }
                }
                Arc::new(records.finish()?) as ArrayRef
            }
            other => {
                let mut root = Col::new(other);
                for (row, bad) in malformed.iter_mut().enumerate() {
                    if input.is_null(row) {
                        root.push_null();
                        continue;
                    }
                    let text = input.value(row);
                    let mut p = Parser::new(text.as_bytes(), &options);
                    if p.at_end() {
                        root.push_null();
                        continue;
                    }
                    let first = text.as_bytes()[p.i];
                    let r = match (&mut root, first) {
                        // An object where an array of structs is expected: one element.
                        (Col::List(_), b'{') => root.push_single_object(&mut p),
                        (Col::List(_), b'[') | (Col::Map(_), b'{') => p.value(&mut root),
                        _ => Err(Fail::Syntax),
                    };
                    let failed = r.is_err() || p.bad;
                    if failed {
                        root.truncate(row);
                        root.push_null();
                        *bad = true;
                        self.on_malformed(text, row, location)?;
                    }
                }
                root.finish()?
            }
        };
        // Cast to the nullable form of the declared type (field metadata, map names).
        let target = self.value_type();
        let values = if values.data_type() == &target {
            values
        } else {
            arrow::compute::cast(&values, &target)?
        };
        Ok(Decoded { values, malformed })
    }

    fn on_malformed(&self, text: &str, row: usize, location: &[ArrayRef]) -> Result<()> {
        if self.mode == ParseMode::FailFast {
            let shown: String = text.chars().take(1000).collect();
            return Err(malformed_record_error(
                &shown,
                &self.where_is(row, location),
            ));
        }
        Ok(())
    }

    /// Where a failing row came from, for the FAILFAST error (see [`located`]).
    fn where_is(&self, row: usize, location: &[ArrayRef]) -> String {
        located("from_json", &self.location, row, location)
    }
}

/// Argument types of a `from_json`/`from_csv` call: a STRING input, then `locations`
/// location columns (see [`super::locate_failfast`]), which are only displayed and keep
/// their types.
pub(crate) fn coerce_with_location(
    function: &str,
    args: &[DataType],
    locations: usize,
) -> Result<Vec<DataType>> {
    if args.len() != 1 + locations {
        return Err(crate::functions::wrong_num_args(
            function,
            "[2, 3]",
            args.len() + 1,
        ));
    }
    let mut out = vec![want_string(function, 1, &args[0])?];
    out.extend_from_slice(&args[1..]);
    Ok(out)
}

/// `topic orders, partition 2, offset 41: from_json`: the values of `location` (the location
/// columns [`super::locate_failfast`] added as arguments, named by `labels`) at `row`, then
/// the function's name; just the name when the call has no location columns. Runs once per
/// failing query, so formatting cost is irrelevant.
pub(crate) fn located(
    function: &str,
    labels: &[String],
    row: usize,
    location: &[ArrayRef],
) -> String {
    let options = arrow::util::display::FormatOptions::default().with_null("null");
    let parts: Vec<String> = labels
        .iter()
        .zip(location)
        .filter(|(_, a)| row < a.len())
        .map(|(label, a)| {
            let value = arrow::util::display::ArrayFormatter::try_new(a.as_ref(), &options)
                .map(|f| f.value(row).to_string())
                .unwrap_or_else(|_| "?".to_string());
            format!("{label} {value}")
        })
        .collect();
    if parts.is_empty() {
        function.to_string()
    } else {
        format!("{}: {function}", parts.join(", "))
    }
}

impl ScalarFunction for FromJson {
    fn name(&self) -> &str {
        "from_json"
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        coerce_with_location("from_json", args, self.location.len())
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        let value = self.value_type();
        Ok(if self.marked {
            DataType::Struct(Fields::from(vec![
                Field::new("ok", DataType::Boolean, false),
                Field::new("value", value, true),
            ]))
        } else {
            value
        })
    }

    fn invoke(
        &self,
        args: &[ColumnarValue],
        num_rows: usize,
        ctx: &FunctionContext,
    ) -> Result<ColumnarValue> {
        let n = rows(args, num_rows);
        let input = args[0].to_array(n)?;
        let input = if input.data_type() == &DataType::Utf8 {
            input
        } else {
            arrow::compute::cast(&input, &DataType::Utf8)?
        };
        let location = args[1..]
            .iter()
            .map(|a| a.to_array(n))
            .collect::<Result<Vec<_>>>()?;
        let decoded = self.decode_at(
            input.as_string::<i32>(),
            ctx.time_zone,
            ctx.query_start_micros,
            &location,
        )?;
        let bad = decoded.malformed.iter().filter(|b| **b).count();
        if bad > 0 {
            ctx.malformed_records.fetch_add(bad, Ordering::Relaxed);
        }
        let out: ArrayRef = if self.marked {
            let ok: BooleanArray = decoded.malformed.iter().map(|b| Some(!b)).collect();
            let value = if bad > 0 {
                // A dropped row's value is never read; NULL it so no partial result leaks.
                let keep: BooleanArray = decoded.malformed.iter().map(|b| Some(!b)).collect();
                arrow::compute::nullif(&decoded.values, &arrow::compute::not(&keep)?)?
            } else {
                decoded.values
            };
            let DataType::Struct(fields) = self.return_type(&[])? else {
                return Err(crate::EngineError::Internal(
                    "marked from_json must return a struct".into(),
                ));
            };
            Arc::new(StructArray::try_new(
                fields,
                vec![Arc::new(ok), value],
                None,
            )?)
        } else {
            decoded.values
        };
        wrap(args, out)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    /// The DROPMALFORMED form counts what it drops, so it must run exactly once per row:
    /// reporting it non-deterministic keeps the optimizer from copying it into pushed-down
    /// filters or merged projections.
    fn is_deterministic(&self) -> bool {
        !self.marked
    }
}
