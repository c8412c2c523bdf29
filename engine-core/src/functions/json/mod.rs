//! Semi-structured data: `from_json`, `to_json`, `get_json_object`, `json_tuple`,
//! `schema_of_json`, `from_csv`, `to_csv`.
//!
//! `from_json`, `to_json`, `from_csv` and `to_csv` take their schema and options as
//! literals, so the analyzer builds a call-specific function object for each call
//! ([`specialize`]); the literal arguments are dropped from the call, which is also how
//! Spark names the column (`from_json(value)`).
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{ArrayRef, AsArray, StringArray};
//! use engine_core::expr::columnar::ColumnarValue;
//! use engine_core::functions::json::{from_json_function, parse_schema};
//! use engine_core::functions::{FunctionContext, ScalarFunction};
//! use engine_core::options::Options;
//!
//! let schema = parse_schema("a INT, b ARRAY<INT>").unwrap();
//! let from_json = from_json_function(schema, &Options::default()).unwrap();
//! let text: ArrayRef = Arc::new(StringArray::from(vec![r#"{"a": 1, "b": [1, 2]}"#]));
//! let parsed = from_json
//!     .invoke(&[ColumnarValue::Array(text)], 1, &FunctionContext::default())
//!     .unwrap()
//!     .into_array(1)
//!     .unwrap();
//! assert_eq!(parsed.as_struct().column_names(), ["a", "b"]);
//! ```

pub mod csv;
pub mod decoder;
mod fast_skip;
pub mod from_json;
pub mod infer;
pub mod path;
pub mod records;
pub mod schema_of_json;
mod swar;
pub mod to_json;

use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::datatypes::DataType;

use crate::expr::{Column, Expr};
use crate::functions::ScalarFunction;
use crate::functions::datetime_format::DateTimePattern;
use crate::logical::LogicalPlan;
use crate::options::{DEFAULT_CORRUPT_RECORD_COLUMN, Options, ParseMode};
use crate::scalar::ScalarValue;

pub use decoder::JsonParseOptions;
pub use from_json::FromJson;
pub use to_json::{JsonWriteOptions, ToJson, to_json_array};

/// The registry entries of this module (functions without literal-only arguments).
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    vec![
        ("get_json_object", Arc::new(path::GetJsonObject)),
        ("schema_of_json", Arc::new(schema_of_json::SchemaOfJson)),
        ("json_array_length", Arc::new(path::JsonArrayLength)),
    ]
}

/// A literal string argument, or a Spark-style error naming the function.
fn literal_string(func: &str, what: &str, e: &Expr) -> Result<String> {
    match e.unalias() {
        Expr::Literal(ScalarValue::Utf8(Some(s))) => Ok(s.clone()),
        other => Err(EngineError::analysis(
            "INVALID_SCHEMA.NON_STRING_LITERAL",
            format!(
                "The input {what} \"{other}\" of `{func}` is not a valid schema string: it must be a string literal. SQLSTATE: 42K07"
            ),
        )),
    }
}

/// Options given as `map('k', 'v', ...)` (SQL) or a map literal.
pub fn options_from_expr(func: &str, e: &Expr) -> Result<Options> {
    let bad = || {
        EngineError::analysis(
            "INVALID_OPTIONS.NON_MAP_FUNCTION",
            format!(
                "Invalid options: Must use the `map()` function for options of `{func}`. SQLSTATE: 42K06"
            ),
        )
    };
    let (name, args) = match e.unalias() {
        Expr::UnresolvedFunction { name, args, .. } => (name.as_str(), args),
        Expr::ScalarFunction { func, args } => (func.name(), args),
        _ => return Err(bad()),
    };
    match name {
        n if n.eq_ignore_ascii_case("map") => {
            let mut o = Options::default();
            for pair in args.chunks(2) {
                match pair {
                    [k, v] => {
                        let key = match k.unalias() {
                            Expr::Literal(ScalarValue::Utf8(Some(s))) => s.clone(),
                            _ => return Err(bad()),
                        };
                        let val = match v.unalias() {
                            Expr::Literal(ScalarValue::Utf8(Some(s))) => s.clone(),
                            Expr::Literal(l) => l.to_string(),
                            _ => return Err(bad()),
                        };
                        o.set(&key, val);
                    }
                    _ => return Err(bad()),
                }
            }
            Ok(o)
        }
        _ => Err(bad()),
    }
}

/// Parses a `from_json`/`from_csv` schema: a DDL field list (`a INT, b STRING`), a type
/// (`ARRAY<INT>`, `MAP<STRING, INT>`, `STRUCT<...>`) or Spark's JSON schema format.
pub fn parse_schema(text: &str) -> Result<DataType> {
    let t = text.trim();
    if t.starts_with('{') {
        return crate::types::schema_from_json(t);
    }
    let upper = t.to_ascii_uppercase();
    if (upper.starts_with("ARRAY<") || upper.starts_with("MAP<") || upper.starts_with("STRUCT<"))
        && let Ok(dt) = crate::types::parse_data_type(t)
    {
        return Ok(dt);
    }
    let schema = crate::types::parse_ddl_schema(t)?;
    Ok(DataType::Struct(schema.fields().clone()))
}

/// `from_json` parse options from Spark's option names.
pub fn parse_options(o: &Options) -> Result<JsonParseOptions> {
    let d = JsonParseOptions::default();
    let pattern = |key: &str| -> Result<Option<Arc<DateTimePattern>>> {
        o.get(key)
            .map(|p| DateTimePattern::new(p).map(Arc::new))
            .transpose()
    };
    Ok(JsonParseOptions {
        allow_comments: o.bool("allowComments", d.allow_comments)?,
        allow_unquoted_field_names: o
            .bool("allowUnquotedFieldNames", d.allow_unquoted_field_names)?,
        allow_single_quotes: o.bool("allowSingleQuotes", d.allow_single_quotes)?,
        allow_numeric_leading_zeros: o
            .bool("allowNumericLeadingZeros", d.allow_numeric_leading_zeros)?,
        allow_non_numeric_numbers: o.bool("allowNonNumericNumbers", d.allow_non_numeric_numbers)?,
        allow_backslash_escaping_any: o.bool(
            "allowBackslashEscapingAnyCharacter",
            d.allow_backslash_escaping_any,
        )?,
        allow_unquoted_control_chars: o
            .bool("allowUnquotedControlChars", d.allow_unquoted_control_chars)?,
        timestamp_format: pattern("timestampFormat")?,
        date_format: pattern("dateFormat")?,
        time_zone: d.time_zone,
        now_micros: d.now_micros,
    })
}

/// Builds `from_json` from its schema and options.
pub fn from_json_function(schema: DataType, o: &Options) -> Result<FromJson> {
    if !matches!(
        schema,
        DataType::Struct(_) | DataType::List(_) | DataType::Map(_, _)
    ) {
        return Err(EngineError::analysis(
            "DATATYPE_MISMATCH.INVALID_JSON_SCHEMA",
            format!(
                "Cannot resolve \"from_json\" due to data type mismatch: Input schema \"{}\" must be a struct, an array of structs or a map. SQLSTATE: 42K09",
                crate::types::sql_type_name(&schema)
            ),
        ));
    }
    if has_non_string_map_key(&schema) {
        // Spark names a map-typed from_json `entries`; its JSON object keys are always text.
        let name = if matches!(schema, DataType::Map(_, _)) {
            "entries"
        } else {
            "from_json"
        };
        return Err(EngineError::analysis(
            "DATATYPE_MISMATCH.INVALID_JSON_MAP_KEY_TYPE",
            format!(
                "Cannot resolve \"{name}\" due to data type mismatch: Input schema \"{}\" can only contain STRING as a key type for a MAP. SQLSTATE: 42K09",
                crate::types::sql_type_name(&schema)
            ),
        ));
    }
    Ok(FromJson {
        schema,
        options: parse_options(o)?,
        mode: o.parse_mode()?,
        corrupt_column: o.string("columnNameOfCorruptRecord", DEFAULT_CORRUPT_RECORD_COLUMN),
        marked: false,
        location: Vec::new(),
    })
}

/// Whether a MAP anywhere in `dt` has a key type other than STRING (JSON object keys are
/// text, so Spark's `from_json` refuses such schemas).
fn has_non_string_map_key(dt: &DataType) -> bool {
    match dt {
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) => {
                kv.iter()
                    .next()
                    .is_some_and(|k| !crate::types::is_string(k.data_type()))
                    || kv.iter().any(|f| has_non_string_map_key(f.data_type()))
            }
            _ => false,
        },
        DataType::Struct(fields) => fields.iter().any(|f| has_non_string_map_key(f.data_type())),
        DataType::List(item) | DataType::LargeList(item) => {
            has_non_string_map_key(item.data_type())
        }
        _ => false,
    }
}

/// `to_json` (and the JSON file writer's) options from Spark's option names.
pub fn write_options(o: &Options) -> Result<JsonWriteOptions> {
    let mut w = JsonWriteOptions::try_default()?;
    w.ignore_null_fields = o.bool("ignoreNullFields", true)?;
    if let Some(p) = o.get("timestampFormat") {
        w.timestamp_format = Arc::new(DateTimePattern::new(p)?);
    }
    if let Some(p) = o.get("timestampNTZFormat") {
        w.timestamp_ntz_format = Arc::new(DateTimePattern::new(p)?);
    }
    if let Some(p) = o.get("dateFormat") {
        w.date_format = Arc::new(DateTimePattern::new(p)?);
    }
    Ok(w)
}

/// A call-specific function object and the arguments the call keeps.
pub type Specialized = (Arc<dyn ScalarFunction>, Vec<Expr>);

/// The call-specific function object (and the arguments it keeps) for calls whose schema
/// and options are literals: `from_json`, `to_json`, `from_csv`, `to_csv`. `None` for any
/// other name.
pub fn specialize(name: &str, args: &[Expr]) -> Result<Option<Specialized>> {
    let lname = name.to_ascii_lowercase();
    let opts = |i: usize| -> Result<Options> {
        match args.get(i) {
            Some(e) => options_from_expr(&lname, e),
            None => Ok(Options::default()),
        }
    };
    Ok(match lname.as_str() {
        "from_json" | "from_csv" => {
            if args.len() < 2 || args.len() > 3 {
                return Err(crate::functions::wrong_num_args(
                    &lname,
                    "[2, 3]",
                    args.len(),
                ));
            }
            let schema = match args[1].unalias() {
                // `from_json(j, schema_of_json('{"a": 1}'))`: Spark folds the inferred schema.
                Expr::ScalarFunction { func, args: inner }
                    if func.name() == "schema_of_json" && inner.len() == 1 =>
                {
                    let sample = literal_string(&lname, "schema", &inner[0])?;
                    infer::infer_text_type(&sample).ok_or_else(|| {
                        EngineError::analysis(
                            "INVALID_SCHEMA.PARSE_ERROR",
                            format!(
                                "The input schema schema_of_json({sample}) is not a valid schema string. SQLSTATE: 42K07"
                            ),
                        )
                    })?
                }
                _ => parse_schema(&literal_string(&lname, "schema", &args[1])?)?,
            };
            let o = opts(2)?;
            let func: Arc<dyn ScalarFunction> = if lname == "from_json" {
                Arc::new(from_json_function(schema, &o)?)
            } else {
                Arc::new(csv::from_csv_function(schema, &o)?)
            };
            Some((func, vec![args[0].clone()]))
        }
        "to_json" | "to_csv" => {
            if args.is_empty() || args.len() > 2 {
                return Err(crate::functions::wrong_num_args(
                    &lname,
                    "[1, 2]",
                    args.len(),
                ));
            }
            let o = opts(1)?;
            let func: Arc<dyn ScalarFunction> = if lname == "to_json" {
                Arc::new(ToJson {
                    options: write_options(&o)?,
                })
            } else {
                Arc::new(csv::to_csv_function(&o)?)
            };
            Some((func, vec![args[0].clone()]))
        }
        _ => None,
    })
}

/// `json_tuple(json, 'f1', 'f2', ...)`: the generator's columns for one batch of
/// evaluated arguments (the JSON text first, then the field names).
pub fn json_tuple_columns(args: &[ArrayRef]) -> Result<Vec<ArrayRef>> {
    let json = arrow::compute::cast(&args[0], &DataType::Utf8)?;
    let json = json.as_string::<i32>();
    let names = args[1..]
        .iter()
        .map(|a| Ok(arrow::compute::cast(a, &DataType::Utf8)?))
        .collect::<Result<Vec<ArrayRef>>>()?;
    let mut builders: Vec<StringBuilder> = names.iter().map(|_| StringBuilder::new()).collect();
    let o = JsonParseOptions::default();
    let mut wanted: Vec<Option<String>> = Vec::with_capacity(names.len());
    for row in 0..json.len() {
        wanted.clear();
        for n in &names {
            let n = n.as_string::<i32>();
            wanted.push((!n.is_null(row)).then(|| n.value(row).to_string()));
        }
        let found = if json.is_null(row) {
            vec![None; names.len()]
        } else {
            path::top_level_fields(json.value(row), &wanted, &o)
        };
        for (b, v) in builders.iter_mut().zip(found) {
            b.append_option(v);
        }
    }
    Ok(builders
        .into_iter()
        .map(|mut b| Arc::new(b.finish()) as ArrayRef)
        .collect())
}

/// The DROPMALFORMED rewrite of a resolved projection that calls `from_json` in that
/// mode (an extension: Spark rejects the mode for `from_json`). Each such call is computed
/// once below a filter, in its marked form returning `STRUCT<ok, value>`; the filter keeps
/// rows whose record parsed, and the projection reads `value`:
///
/// `Project [f(from_json(x)) AS c]` becomes
/// `Project [f(__from_json_0.value) AS c] <- Filter __from_json_0.ok <- Project [*, from_json'(x) AS __from_json_0]`.
///
/// `None` when the projection has no such call.
pub fn rewrite_dropmalformed(
    exprs: &[Expr],
    input: &Arc<LogicalPlan>,
) -> Result<Option<Arc<LogicalPlan>>> {
    let mut calls: Vec<Expr> = Vec::new();
    for e in exprs {
        let _ = e.clone().transform_up(&mut |x| {
            if as_dropmalformed(&x).is_some() && !calls.contains(&x) {
                calls.push(x.clone());
            }
            Ok::<_, std::convert::Infallible>(x)
        });
    }
    if calls.is_empty() {
        return Ok(None);
    }
    let schema = input.schema()?;
    let mut inner: Vec<Expr> = schema
        .fields()
        .iter()
        .map(|f| Expr::Column(Column::new(f.qualifier.as_deref(), f.name())))
        .collect();
    let hidden = |k: usize| format!("__from_json_{k}");
    for (k, call) in calls.iter().enumerate() {
        let (Some(fj), Expr::ScalarFunction { args, .. }) = (as_dropmalformed(call), call) else {
            continue;
        };
        let marked = FromJson {
            marked: true,
            ..fj.clone()
        };
        inner.push(
            Expr::ScalarFunction {
                func: Arc::new(marked),
                args: args.clone(),
            }
            .alias(hidden(k)),
        );
    }
    let inner = Arc::new(LogicalPlan::Projection {
        exprs: inner,
        input: input.clone(),
    });
    let predicate = crate::expr::conjunction(
        (0..calls.len()).map(|k| Expr::Column(Column::new(None, hidden(k))).field("ok")),
    )
    .ok_or_else(|| EngineError::Internal("no from_json calls".into()))?;
    let filtered = Arc::new(LogicalPlan::Filter {
        predicate,
        input: inner,
    });
    let outer = exprs
        .iter()
        .map(|e| {
            rewrite_keeping_name(
                e.clone(),
                &mut |x| match calls.iter().position(|c| *c == x) {
                    Some(k) => Expr::Column(Column::new(None, hidden(k))).field("value"),
                    None => x,
                },
            )
        })
        .collect();
    Ok(Some(Arc::new(LogicalPlan::Projection {
        exprs: outer,
        input: filtered,
    })))
}

/// The input columns that say where a record comes from, in the order the FAILFAST error
/// names them: the Kafka source's fixed `topic`, `partition` and `offset` columns.
pub const LOCATION_COLUMNS: [&str; 3] = ["topic", "partition", "offset"];

/// The FAILFAST location rewrite of a resolved projection (**an extension**: Spark's error
/// only names the function). Each FAILFAST `from_json` and `from_csv` call gets the input's location
/// columns ([`LOCATION_COLUMNS`], matched case-insensitively; a name matching several
/// columns, as after a join, is skipped) as extra arguments, so its error can say
/// `topic orders, partition 2, offset 41`. Because the columns become arguments, column
/// pruning keeps them below the projection. The output names are kept (the rewritten call
/// displays its extra arguments, so it is aliased to the old name). Calls that already
/// carry locations, and inputs without location columns, are left alone.
pub fn locate_failfast(exprs: Vec<Expr>, schema: &crate::schema::PlanSchema) -> Vec<Expr> {
    let mut labels: Vec<String> = Vec::new();
    let mut columns: Vec<Expr> = Vec::new();
    for name in LOCATION_COLUMNS {
        let mut found = schema
            .fields()
            .iter()
            .filter(|f| f.name().eq_ignore_ascii_case(name));
        if let (Some(f), None) = (found.next(), found.next()) {
            labels.push(name.to_string());
            columns.push(Expr::Column(Column::new(f.qualifier.as_deref(), f.name())));
        }
    }
    if labels.is_empty() {
        return exprs;
    }
    exprs
        .into_iter()
        .map(|e| {
            rewrite_keeping_name(e, &mut |x| match &x {
                Expr::ScalarFunction { func, args } if args.len() == 1 => {
                    let any = func.as_any();
                    let located: Option<Arc<dyn crate::functions::ScalarFunction>> =
                        match any.and_then(|a| a.downcast_ref::<FromJson>()) {
                            Some(fj)
                                if fj.mode == ParseMode::FailFast
                                    && !fj.marked
                                    && fj.location.is_empty() =>
                            {
                                Some(Arc::new(FromJson {
                                    location: labels.clone(),
                                    ..fj.clone()
                                }))
                            }
                            _ => match any.and_then(|a| a.downcast_ref::<csv::FromCsv>()) {
                                Some(fc)
                                    if fc.mode == ParseMode::FailFast && fc.location.is_empty() =>
                                {
                                    Some(Arc::new(fc.with_location(labels.clone())))
                                }
                                _ => None,
                            },
                        };
                    match located {
                        Some(func) => {
                            let mut args = args.clone();
                            args.extend(columns.iter().cloned());
                            Expr::ScalarFunction { func, args }
                        }
                        None => x,
                    }
                }
                _ => x,
            })
        })
        .collect()
}

/// `e` rewritten bottom-up by `f`, under its old output name: aliased to it when the
/// rewrite changed the name it displays (a call replaced by a column, or given extra
/// arguments), so the projection's columns keep the names the user sees.
fn rewrite_keeping_name(e: Expr, f: &mut impl FnMut(Expr) -> Expr) -> Expr {
    let name = e.output_name();
    let replaced = match e.transform_up(&mut |x| Ok::<_, std::convert::Infallible>(f(x))) {
        Ok(r) => r,
        Err(never) => match never {},
    };
    if replaced.output_name() == name {
        replaced
    } else {
        replaced.alias(name)
    }
}

fn as_dropmalformed(e: &Expr) -> Option<&FromJson> {
    match e {
        Expr::ScalarFunction { func, .. } => func
            .as_any()
            .and_then(|a| a.downcast_ref::<FromJson>())
            .filter(|f| f.mode == ParseMode::DropMalformed && !f.marked),
        _ => None,
    }
}
