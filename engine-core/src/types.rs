//! Spark SQL data types on Arrow: names both ways and the DDL type syntax.
//!
//! | Spark            | Arrow                                  |
//! |------------------|----------------------------------------|
//! | BOOLEAN          | Boolean                                |
//! | TINYINT/SMALLINT/INT/BIGINT | Int8/Int16/Int32/Int64      |
//! | FLOAT/DOUBLE     | Float32/Float64                        |
//! | DECIMAL(p,s)     | Decimal128(p,s)                        |
//! | STRING           | Utf8                                   |
//! | BINARY           | Binary                                 |
//! | DATE             | Date32                                 |
//! | TIMESTAMP        | Timestamp(Microsecond, "UTC") (an instant, shown in the session zone) |
//! | TIMESTAMP_NTZ    | Timestamp(Microsecond, None)           |
//! | ARRAY/STRUCT/MAP | List/Struct/Map                        |
//! | VOID             | Null                                   |

use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::datatypes::{DataType, Field, Fields, Schema, TimeUnit};

/// Spark's `TIMESTAMP` (with local time zone semantics): microseconds since the epoch, UTC.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from("UTC")))
}

/// Spark's `TIMESTAMP_NTZ`: a wall-clock timestamp without a zone.
pub fn timestamp_ntz_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, None)
}

/// The element field Spark-compatible lists use (`element`, nullable).
pub fn list_of(element: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("element", element, true)))
}

/// Spark's SQL name of a type, as in `CAST(x AS BIGINT)` and `DESCRIBE`: `BIGINT`,
/// `ARRAY<STRING>`, `STRUCT<a: INT>`. Lower-cased it is Spark's `simpleString`.
pub fn sql_type_name(dt: &DataType) -> String {
    match dt {
        DataType::Null => "VOID".into(),
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Int8 => "TINYINT".into(),
        DataType::Int16 => "SMALLINT".into(),
        DataType::Int32 => "INT".into(),
        DataType::Int64 => "BIGINT".into(),
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
            format!("{dt:?}").to_uppercase()
        }
        DataType::Float16 | DataType::Float32 => "FLOAT".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("DECIMAL({p},{s})"),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "STRING".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "BINARY".into(),
        DataType::Date32 | DataType::Date64 => "DATE".into(),
        DataType::Timestamp(_, Some(_)) => "TIMESTAMP".into(),
        DataType::Timestamp(_, None) => "TIMESTAMP_NTZ".into(),
        // Arrow keeps no start/end fields: columns are the widest form (see `interval`).
        DataType::Duration(_) => "INTERVAL DAY TO SECOND".into(),
        DataType::Interval(arrow::datatypes::IntervalUnit::YearMonth) => {
            "INTERVAL YEAR TO MONTH".into()
        }
        DataType::List(f) | DataType::LargeList(f) => {
            format!("ARRAY<{}>", sql_type_name(f.data_type()))
        }
        DataType::Struct(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|f| format!("{}: {}", f.name(), sql_type_name(f.data_type())))
                .collect();
            format!("STRUCT<{}>", inner.join(", "))
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => format!(
                "MAP<{}, {}>",
                sql_type_name(kv[0].data_type()),
                sql_type_name(kv[1].data_type())
            ),
            other => format!("MAP<{other:?}>"),
        },
        other => format!("{other:?}").to_uppercase(),
    }
}

/// Spark's `simpleString` of a type, as in `explain` and `DESCRIBE`: `bigint`,
/// `array<string>`, `struct<a:int,b:string>`.
pub fn simple_string(dt: &DataType) -> String {
    match dt {
        DataType::Struct(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|f| format!("{}:{}", f.name(), simple_string(f.data_type())))
                .collect();
            format!("struct<{}>", inner.join(","))
        }
        DataType::List(f) | DataType::LargeList(f) => {
            format!("array<{}>", simple_string(f.data_type()))
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => format!(
                "map<{},{}>",
                simple_string(kv[0].data_type()),
                simple_string(kv[1].data_type())
            ),
            other => format!("map<{other:?}>"),
        },
        other => sql_type_name(other).to_lowercase(),
    }
}

/// Spark's `typeName` as `printSchema` shows it: `integer`, `long`, `string`, `struct`, ...
pub fn tree_type_name(dt: &DataType) -> String {
    match dt {
        DataType::Null => "void".into(),
        DataType::Int8 => "byte".into(),
        DataType::Int16 => "short".into(),
        DataType::Int32 => "integer".into(),
        DataType::Int64 => "long".into(),
        DataType::Struct(_) => "struct".into(),
        DataType::List(_) | DataType::LargeList(_) => "array".into(),
        DataType::Map(_, _) => "map".into(),
        other => simple_string(other),
    }
}

/// Parses a Spark DDL type: `INT`, `bigint`, `DECIMAL(10,2)`, `ARRAY<STRING>`,
/// `STRUCT<a: INT, b STRING>`, `MAP<STRING, INT>`, ... (case-insensitive).
///
/// ```
/// use engine_core::types::parse_data_type;
/// use arrow::datatypes::DataType;
/// assert_eq!(parse_data_type("bigint").unwrap(), DataType::Int64);
/// ```
pub fn parse_data_type(text: &str) -> Result<DataType> {
    let mut p = DdlParser::new(text);
    let dt = p.data_type()?;
    p.expect_end()?;
    Ok(dt)
}

/// Parses a Spark DDL schema: `a INT, b STRUCT<c: STRING> NOT NULL, d ARRAY<DOUBLE>`.
///
/// ```
/// use engine_core::types::parse_ddl_schema;
/// let s = parse_ddl_schema("id BIGINT, name STRING").unwrap();
/// assert_eq!(s.fields().len(), 2);
/// ```
pub fn parse_ddl_schema(text: &str) -> Result<Schema> {
    let mut p = DdlParser::new(text);
    let fields = p.field_list(None)?;
    p.expect_end()?;
    Ok(Schema::new(fields))
}

struct DdlParser<'a> {
    text: &'a str,
    tokens: Vec<(usize, String)>,
    pos: usize,
}

impl<'a> DdlParser<'a> {
    fn new(text: &'a str) -> Self {
        let mut tokens = Vec::new();
        let mut chars = text.char_indices().peekable();
        while let Some(&(i, c)) = chars.peek() {
            if c.is_whitespace() {
                chars.next();
            } else if c == '`' {
                chars.next();
                let mut ident = String::new();
                while let Some((_, c)) = chars.next() {
                    if c == '`' {
                        if matches!(chars.peek(), Some((_, '`'))) {
                            chars.next();
                            ident.push('`');
                            continue;
                        }
                        break;
                    }
                    ident.push(c);
                }
                // A quoted identifier is marked so keywords inside quotes stay names.
                tokens.push((i, format!("`{ident}")));
            } else if c.is_alphanumeric() || c == '_' {
                let mut word = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_alphanumeric() || c == '_' {
                        word.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push((i, word));
            } else {
                chars.next();
                tokens.push((i, c.to_string()));
            }
        }
        DdlParser {
            text,
            tokens,
            pos: 0,
        }
    }

    fn error(&self, what: &str) -> EngineError {
        let at = self
            .tokens
            .get(self.pos)
            .map_or(self.text.len(), |(i, _)| *i);
        EngineError::Parse(format!(
            "cannot parse the DDL `{}`: {what} at position {at}",
            self.text
        ))
    }

    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.pos).map(|(_, t)| t.as_str())
    }

    fn next(&mut self) -> Option<String> {
        let t = self.tokens.get(self.pos).map(|(_, t)| t.clone());
        self.pos += 1;
        t
    }

    fn eat(&mut self, tok: &str) -> bool {
        if self.peek().is_some_and(|t| t.eq_ignore_ascii_case(tok)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: &str) -> Result<()> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(self.error(&format!("expected `{tok}`")))
        }
    }

    fn expect_end(&self) -> Result<()> {
        if self.pos < self.tokens.len() {
            Err(self.error("unexpected trailing input"))
        } else {
            Ok(())
        }
    }

    fn name(&mut self) -> Result<String> {
        match self.next() {
            Some(t) if t.starts_with('`') => Ok(t[1..].to_string()),
            Some(t) if t.chars().all(|c| c.is_alphanumeric() || c == '_') => Ok(t),
            _ => {
                self.pos -= 1;
                Err(self.error("expected a field name"))
            }
        }
    }

    fn number(&mut self) -> Result<u64> {
        self.next()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| self.error("expected a number"))
    }

    /// Fields separated by commas until `close` (or the end).
    fn field_list(&mut self, close: Option<&str>) -> Result<Vec<Field>> {
        let mut fields = Vec::new();
        loop {
            if close.is_some_and(|c| self.peek() == Some(c)) || self.peek().is_none() {
                break;
            }
            let name = self.name()?;
            self.eat(":");
            let dt = self.data_type()?;
            let mut nullable = true;
            if self.eat("NOT") {
                self.expect("NULL")?;
                nullable = false;
            }
            if self.eat("COMMENT") {
                self.next();
            }
            fields.push(Field::new(name, dt, nullable));
            if !self.eat(",") {
                break;
            }
        }
        Ok(fields)
    }

    fn data_type(&mut self) -> Result<DataType> {
        let word = self.next().ok_or_else(|| self.error("expected a type"))?;
        let dt = match word.to_ascii_lowercase().as_str() {
            "boolean" | "bool" => DataType::Boolean,
            "tinyint" | "byte" => DataType::Int8,
            "smallint" | "short" => DataType::Int16,
            "int" | "integer" => DataType::Int32,
            "bigint" | "long" => DataType::Int64,
            "float" | "real" => DataType::Float32,
            "double" => DataType::Float64,
            "date" => DataType::Date32,
            "timestamp" | "timestamp_ltz" => timestamp_type(),
            "timestamp_ntz" => timestamp_ntz_type(),
            "binary" => DataType::Binary,
            "void" => DataType::Null,
            "string" => DataType::Utf8,
            "interval" => self.interval_type()?,
            "varchar" | "char" => {
                if self.eat("(") {
                    self.number()?;
                    self.expect(")")?;
                }
                DataType::Utf8
            }
            "decimal" | "dec" | "numeric" => {
                let (mut p, mut s) = (10u64, 0u64);
                if self.eat("(") {
                    p = self.number()?;
                    if self.eat(",") {
                        s = self.number()?;
                    }
                    self.expect(")")?;
                }
                if p == 0 || p > 38 || s > p {
                    return Err(
                        self.error("DECIMAL precision must be 1..=38 and scale <= precision")
                    );
                }
                DataType::Decimal128(p as u8, s as i8)
            }
            "array" => {
                self.expect("<")?;
                let inner = self.data_type()?;
                self.expect(">")?;
                list_of(inner)
            }
            "map" => {
                self.expect("<")?;
                let k = self.data_type()?;
                self.expect(",")?;
                let v = self.data_type()?;
                self.expect(">")?;
                map_of(k, v)
            }
            "struct" => {
                self.expect("<")?;
                let fields = self.field_list(Some(">"))?;
                self.expect(">")?;
                DataType::Struct(Fields::from(fields))
            }
            _ => {
                self.pos -= 1;
                return Err(self.error(&format!("unknown type `{word}`")));
            }
        };
        Ok(dt)
    }

    /// `INTERVAL <field> [TO <field>]` after the `INTERVAL` word: day-time fields give
    /// `Duration(Microsecond)`, year-month ones `Interval(YearMonth)`.
    fn interval_type(&mut self) -> Result<DataType> {
        let field = |p: &mut Self| -> Result<bool> {
            let w = p.next().unwrap_or_default().to_ascii_uppercase();
            match w.as_str() {
                "YEAR" | "MONTH" => Ok(true),
                "DAY" | "HOUR" | "MINUTE" | "SECOND" => Ok(false),
                _ => {
                    p.pos = p.pos.saturating_sub(1);
                    Err(p.error(
                        "expected an interval field (YEAR, MONTH, DAY, HOUR, MINUTE, SECOND)",
                    ))
                }
            }
        };
        let year_month = field(self)?;
        if self.eat("to") && field(self)? != year_month {
            return Err(self.error("an interval type cannot mix year-month and day-time fields"));
        }
        Ok(if year_month {
            DataType::Interval(arrow::datatypes::IntervalUnit::YearMonth)
        } else {
            DataType::Duration(TimeUnit::Microsecond)
        })
    }
}

/// A Spark `MAP<K, V>` as Arrow's map type with `key`/`value` entries.
pub fn map_of(key: DataType, value: DataType) -> DataType {
    let entries = Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("key", key, false),
            Field::new("value", value, true),
        ])),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

/// True for the numeric types Spark does arithmetic on.
pub fn is_numeric(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::Float32
            | DataType::Float64
            | DataType::Decimal128(_, _)
    )
}

/// True for the string types.
pub fn is_string(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

/// Spark's `printSchema` text of `fields`: `root`, then one
/// ` |-- name: type (nullable = ...)` line per field, nested types indented.
pub fn schema_tree_string<'a>(fields: impl IntoIterator<Item = &'a Field>) -> String {
    let mut out = String::from("root\n");
    for f in fields {
        tree_field(&mut out, f, 1);
    }
    out
}

/// Appends one field of `printSchema`'s tree at `depth` (1 = top level).
fn tree_field(out: &mut String, f: &Field, depth: usize) {
    let prefix = " |   ".repeat(depth - 1);
    out.push_str(&format!(
        "{prefix} |-- {}: {} (nullable = {})\n",
        f.name(),
        tree_type_name(f.data_type()),
        f.is_nullable()
    ));
    tree_type(out, f.data_type(), depth);
}

fn tree_type(out: &mut String, dt: &DataType, depth: usize) {
    let prefix = " |   ".repeat(depth);
    match dt {
        DataType::Struct(fields) => {
            for c in fields {
                tree_field(out, c, depth + 1);
            }
        }
        DataType::List(e) | DataType::LargeList(e) => {
            out.push_str(&format!(
                "{prefix} |-- element: {} (containsNull = {})\n",
                tree_type_name(e.data_type()),
                e.is_nullable()
            ));
            tree_type(out, e.data_type(), depth + 1);
        }
        DataType::Map(entries, _) => {
            if let DataType::Struct(kv) = entries.data_type()
                && kv.len() == 2
            {
                {
                    out.push_str(&format!(
                        "{prefix} |-- key: {}\n",
                        tree_type_name(kv[0].data_type())
                    ));
                    tree_type(out, kv[0].data_type(), depth + 1);
                    out.push_str(&format!(
                        "{prefix} |-- value: {} (valueContainsNull = {})\n",
                        tree_type_name(kv[1].data_type()),
                        kv[1].is_nullable()
                    ));
                    tree_type(out, kv[1].data_type(), depth + 1);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_ddl() {
        let s = parse_ddl_schema(
            "event_id STRING, user STRUCT<id: STRING, country: STRING>, \
             items ARRAY<STRUCT<sku: STRING, qty: INT, price: DOUBLE>>, ts TIMESTAMP",
        )
        .unwrap();
        assert_eq!(s.fields().len(), 4);
        assert_eq!(
            sql_type_name(s.field(2).data_type()),
            "ARRAY<STRUCT<sku: STRING, qty: INT, price: DOUBLE>>"
        );
        assert_eq!(
            simple_string(s.field(1).data_type()),
            "struct<id:string,country:string>"
        );
        assert_eq!(s.field(3).data_type(), &timestamp_type());
    }

    #[test]
    fn decimal_and_not_null() {
        let s = parse_ddl_schema("a decimal(10, 2) NOT NULL, `b c` map<string,int>").unwrap();
        assert_eq!(s.field(0).data_type(), &DataType::Decimal128(10, 2));
        assert!(!s.field(0).is_nullable());
        assert_eq!(s.field(1).name(), "b c");
        assert_eq!(sql_type_name(s.field(1).data_type()), "MAP<STRING, INT>");
    }

    #[test]
    fn bad_type_names_position() {
        let e = parse_data_type("strng").unwrap_err().to_string();
        assert!(e.contains("unknown type `strng`"), "{e}");
    }

    #[test]
    fn tree_names_follow_print_schema() {
        assert_eq!(tree_type_name(&DataType::Int32), "integer");
        assert_eq!(tree_type_name(&DataType::Int64), "long");
        assert_eq!(
            tree_type_name(&DataType::Decimal128(10, 0)),
            "decimal(10,0)"
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn data_type() -> impl Strategy<Value = DataType> {
        let leaf = prop_oneof![
            Just(DataType::Boolean),
            Just(DataType::Int8),
            Just(DataType::Int16),
            Just(DataType::Int32),
            Just(DataType::Int64),
            Just(DataType::Float32),
            Just(DataType::Float64),
            Just(DataType::Utf8),
            Just(DataType::Binary),
            Just(DataType::Date32),
            Just(timestamp_type()),
            Just(timestamp_ntz_type()),
            (1u8..=38)
                .prop_flat_map(|p| (Just(p), 0..=p as i8))
                .prop_map(|(p, s)| DataType::Decimal128(p, s)),
        ];
        leaf.prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                inner.clone().prop_map(list_of),
                (inner.clone(), inner.clone()).prop_map(|(k, v)| map_of(k, v)),
                proptest::collection::vec(inner, 1..3).prop_map(|ts| DataType::Struct(
                    ts.into_iter()
                        .enumerate()
                        .map(|(i, t)| Field::new(format!("f{i}"), t, true))
                        .collect::<Vec<_>>()
                        .into()
                )),
            ]
        })
    }

    proptest! {
        /// Spark's SQL type names parse back to the same type (what DDL schemas, CAST and
        /// DESCRIBE rely on), in both the SQL and the `simpleString` spellings.
        #[test]
        fn type_names_round_trip(dt in data_type()) {
            prop_assert_eq!(parse_data_type(&sql_type_name(&dt)).unwrap(), dt.clone());
            prop_assert_eq!(parse_data_type(&simple_string(&dt)).unwrap(), dt);
        }
    }
}

/// Parses Spark's JSON schema format (`StructType.json()`:
/// `{"type":"struct","fields":[{"name":"a","type":"integer","nullable":true,"metadata":{}}]}`).
pub fn schema_from_json(text: &str) -> Result<DataType> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        EngineError::analysis(
            "INVALID_SCHEMA.PARSE_ERROR",
            format!("The input schema {text} is not a valid schema string. {e}. SQLSTATE: 42K07"),
        )
    })?;
    json_value_type(&v)
}

fn json_value_type(v: &serde_json::Value) -> Result<DataType> {
    use serde_json::Value as V;
    let bad = || {
        EngineError::analysis(
            "INVALID_SCHEMA.PARSE_ERROR",
            format!("The input schema {v} is not a valid schema string. SQLSTATE: 42K07"),
        )
    };
    match v {
        V::String(name) => {
            let ddl = match name.as_str() {
                "integer" => "int",
                "long" => "bigint",
                "short" => "smallint",
                "byte" => "tinyint",
                other => other,
            };
            parse_data_type(ddl)
        }
        V::Object(m) => match m.get("type").and_then(V::as_str) {
            Some("struct") => {
                let fields = m.get("fields").and_then(V::as_array).ok_or_else(bad)?;
                let mut out = Vec::with_capacity(fields.len());
                for f in fields {
                    let name = f.get("name").and_then(V::as_str).ok_or_else(bad)?;
                    let dt = json_value_type(f.get("type").ok_or_else(bad)?)?;
                    let nullable = f.get("nullable").and_then(V::as_bool).unwrap_or(true);
                    out.push(Field::new(name, dt, nullable));
                }
                Ok(DataType::Struct(Fields::from(out)))
            }
            Some("array") => {
                let e = json_value_type(m.get("elementType").ok_or_else(bad)?)?;
                let n = m.get("containsNull").and_then(V::as_bool).unwrap_or(true);
                Ok(DataType::List(Arc::new(Field::new("element", e, n))))
            }
            Some("map") => {
                let k = json_value_type(m.get("keyType").ok_or_else(bad)?)?;
                let val = json_value_type(m.get("valueType").ok_or_else(bad)?)?;
                let n = m
                    .get("valueContainsNull")
                    .and_then(V::as_bool)
                    .unwrap_or(true);
                let entries = Field::new(
                    "entries",
                    DataType::Struct(Fields::from(vec![
                        Field::new("key", k, false),
                        Field::new("value", val, n),
                    ])),
                    false,
                );
                Ok(DataType::Map(Arc::new(entries), false))
            }
            _ => Err(bad()),
        },
        _ => Err(bad()),
    }
}

/// Spark's JSON schema format of a type (`StructType.json()`), keys in Spark's order.
pub fn schema_to_json(dt: &DataType) -> String {
    json_type_value(dt).to_string()
}

fn json_type_value(dt: &DataType) -> serde_json::Value {
    use serde_json::json;
    match dt {
        DataType::Struct(fields) => json!({
            "fields": fields.iter().map(|f| json!({
                "metadata": {},
                "name": f.name(),
                "nullable": f.is_nullable(),
                "type": json_type_value(f.data_type()),
            })).collect::<Vec<_>>(),
            "type": "struct",
        }),
        DataType::List(e) | DataType::LargeList(e) => json!({
            "containsNull": e.is_nullable(),
            "elementType": json_type_value(e.data_type()),
            "type": "array",
        }),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => json!({
                "keyType": json_type_value(kv[0].data_type()),
                "type": "map",
                "valueContainsNull": kv[1].is_nullable(),
                "valueType": json_type_value(kv[1].data_type()),
            }),
            _ => json!("map"),
        },
        other => serde_json::Value::String(tree_type_name(other)),
    }
}

/// Spark's `StructType.toDDL`: `a INT,b STRING NOT NULL` (nested non-nullable fields keep
/// `NOT NULL` too, so the text parses back to the same schema).
pub fn fields_to_ddl(fields: &Fields) -> String {
    fields
        .iter()
        .map(|f| {
            format!(
                "{} {}{}",
                quote_ddl_name(f.name()),
                ddl_type(f.data_type()),
                if f.is_nullable() { "" } else { " NOT NULL" }
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn quote_ddl_name(n: &str) -> String {
    if !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        n.to_string()
    } else {
        format!("`{}`", n.replace('`', "``"))
    }
}

fn ddl_type(dt: &DataType) -> String {
    match dt {
        DataType::Struct(fields) => format!(
            "STRUCT<{}>",
            fields
                .iter()
                .map(|f| format!(
                    "{}: {}{}",
                    quote_ddl_name(f.name()),
                    ddl_type(f.data_type()),
                    if f.is_nullable() { "" } else { " NOT NULL" }
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        DataType::List(e) | DataType::LargeList(e) => format!("ARRAY<{}>", ddl_type(e.data_type())),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => format!(
                "MAP<{}, {}>",
                ddl_type(kv[0].data_type()),
                ddl_type(kv[1].data_type())
            ),
            _ => sql_type_name(dt),
        },
        other => sql_type_name(other),
    }
}
