//! Spark's schema classes as builders over Arrow types: [`StructType`], [`StructField`],
//! [`ArrayType`] and [`MapType`], with Spark's text forms both ways (DDL, `simpleString`,
//! the JSON schema format, `printSchema`'s tree).
//!
//! ```
//! use engine_sql::schema_builder::{ArrayType, StructField, StructType};
//! use engine_sql::types::timestamp_type;
//! use arrow::datatypes::DataType;
//!
//! let item = StructType::new()
//!     .add("sku", DataType::Utf8, true)
//!     .add("qty", DataType::Int32, true);
//! let event = StructType::new()
//!     .add("event_id", DataType::Utf8, true)
//!     .add("items", ArrayType::new(item.data_type(), true), true)
//!     .add_field(StructField::new("ts", timestamp_type(), true));
//! assert_eq!(
//!     event.simple_string(),
//!     "struct<event_id:string,items:array<struct<sku:string,qty:int>>,ts:timestamp>"
//! );
//! let back = StructType::from_ddl(&event.to_ddl()).unwrap();
//! assert_eq!(back, event);
//! assert_eq!(StructType::from_json(&event.json()).unwrap(), event);
//! ```

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use engine_core::{EngineError, Result};

/// One field of a [`StructType`]: name, type, nullability.
#[derive(Debug, Clone, PartialEq)]
pub struct StructField(pub Field);

impl StructField {
    /// A field.
    pub fn new(name: &str, data_type: DataType, nullable: bool) -> Self {
        StructField(Field::new(name, data_type, nullable))
    }
}

/// Spark's `StructType`: an ordered list of fields; an Arrow `Struct` type / schema.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StructType {
    fields: Vec<Field>,
}

impl StructType {
    /// An empty struct.
    pub fn new() -> Self {
        StructType::default()
    }

    /// Spark's `add(name, type, nullable)`.
    pub fn add(mut self, name: &str, data_type: DataType, nullable: bool) -> Self {
        self.fields.push(Field::new(name, data_type, nullable));
        self
    }

    /// Adds a [`StructField`].
    pub fn add_field(mut self, f: StructField) -> Self {
        self.fields.push(f.0);
        self
    }

    /// The fields.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// As an Arrow `Struct` type.
    pub fn data_type(&self) -> DataType {
        DataType::Struct(Fields::from(self.fields.clone()))
    }

    /// As an Arrow schema (a table's columns).
    pub fn to_schema(&self) -> SchemaRef {
        Arc::new(Schema::new(self.fields.clone()))
    }

    /// From an Arrow `Struct` type.
    pub fn from_data_type(dt: &DataType) -> Result<Self> {
        match dt {
            DataType::Struct(fs) => Ok(StructType {
                fields: fs.iter().map(|f| f.as_ref().clone()).collect(),
            }),
            other => Err(EngineError::analysis(
                "INVALID_SCHEMA.NON_STRUCT_TYPE",
                format!(
                    "The input schema \"{}\" is not a valid schema string. The input expression must be a struct type. SQLSTATE: 42K07",
                    engine_core::types::sql_type_name(other)
                ),
            )),
        }
    }

    /// Parses a DDL field list: `a INT, b STRUCT<c: STRING> NOT NULL`.
    pub fn from_ddl(ddl: &str) -> Result<Self> {
        let s = engine_core::types::parse_ddl_schema(ddl)?;
        Ok(StructType {
            fields: s.fields().iter().map(|f| f.as_ref().clone()).collect(),
        })
    }

    /// Spark's `toDDL`: `a INT,b STRING NOT NULL`.
    pub fn to_ddl(&self) -> String {
        engine_core::types::fields_to_ddl(&Fields::from(self.fields.clone()))
    }

    /// Spark's `simpleString`: `struct<a:int,b:string>`.
    pub fn simple_string(&self) -> String {
        engine_core::types::simple_string(&self.data_type())
    }

    /// Spark's `sql`: `STRUCT<a: INT, b: STRING>`.
    pub fn sql(&self) -> String {
        engine_core::types::sql_type_name(&self.data_type())
    }

    /// Spark's JSON schema format (`StructType.json()`).
    pub fn json(&self) -> String {
        engine_core::types::schema_to_json(&self.data_type())
    }

    /// Parses Spark's JSON schema format.
    pub fn from_json(text: &str) -> Result<Self> {
        Self::from_data_type(&engine_core::types::schema_from_json(text)?)
    }

    /// `printSchema`'s tree (`root` then ` |-- a: integer (nullable = true)` lines).
    pub fn tree_string(&self) -> String {
        engine_core::types::schema_tree_string(self.fields.iter())
    }
}

/// Spark's `ArrayType(elementType, containsNull)`.
pub struct ArrayType;

impl ArrayType {
    /// An Arrow list type with Spark's `element` field.
    #[allow(clippy::new_ret_no_self)] // mirrors Spark's constructor; the value is the Arrow type
    pub fn new(element: DataType, contains_null: bool) -> DataType {
        DataType::List(Arc::new(Field::new("element", element, contains_null)))
    }
}

/// Spark's `MapType(keyType, valueType, valueContainsNull)`.
pub struct MapType;

impl MapType {
    /// An Arrow map type with `key`/`value` entries.
    #[allow(clippy::new_ret_no_self)] // mirrors Spark's constructor; the value is the Arrow type
    pub fn new(key: DataType, value: DataType, value_contains_null: bool) -> DataType {
        let entries = Field::new(
            "entries",
            DataType::Struct(Fields::from(vec![
                Field::new("key", key, false),
                Field::new("value", value, value_contains_null),
            ])),
            false,
        );
        DataType::Map(Arc::new(entries), false)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tree_and_text_forms() {
        let s = StructType::new().add("a", DataType::Int32, true).add(
            "b",
            ArrayType::new(MapType::new(DataType::Utf8, DataType::Int64, true), true),
            false,
        );
        assert_eq!(
            s.tree_string(),
            "root\n |-- a: integer (nullable = true)\n |-- b: array (nullable = false)\n |    |-- element: map (containsNull = true)\n |    |    |-- key: string\n |    |    |-- value: long (valueContainsNull = true)\n"
        );
        assert_eq!(s.to_ddl(), "a INT,b ARRAY<MAP<STRING, BIGINT>> NOT NULL");
        assert_eq!(StructType::from_ddl(&s.to_ddl()).unwrap(), s);
        assert_eq!(StructType::from_json(&s.json()).unwrap(), s);
        assert_eq!(
            s.simple_string(),
            "struct<a:int,b:array<map<string,bigint>>>"
        );
    }
}
