//! The state schema of each store, written once per operator and checked when a query
//! restarts (Spark's `StateSchemaCompatibilityChecker`).
//!
//! `state/<op>/_metadata/schema/<storeName>` holds `v1` and the key and value schemas as JSON.
//! A restart with a schema that is not the same up to field names and widened nullability
//! fails with `STATE_STORE_KEY_SCHEMA_NOT_COMPATIBLE` or
//! `STATE_STORE_VALUE_SCHEMA_NOT_COMPATIBLE`, naming both schemas; with
//! `spark.sql.streaming.stateStore.stateSchemaCheck=false` nothing is read, written or checked.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use engine_core::checkpoint::create_atomic;
use engine_core::{EngineError, Result};
use serde::{Deserialize, Serialize};

use crate::id::operator_dir;
use crate::rows::StateSchema;

const VERSION_LINE: &str = "v1";

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SchemaFile {
    key_schema: Schema,
    value_schema: Schema,
}

/// `state/<op>/_metadata/schema/<storeName>`.
pub fn schema_path(state_root: &Path, operator_id: u64, store_name: &str) -> PathBuf {
    operator_dir(state_root, operator_id)
        .join("_metadata")
        .join("schema")
        .join(store_name)
}

/// Reads a store's schema file, if there is one.
pub fn read_schema(
    state_root: &Path,
    operator_id: u64,
    store_name: &str,
) -> Result<Option<StateSchema>> {
    let path = schema_path(state_root, operator_id, store_name);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(EngineError::io(format!("reading {}", path.display()), e)),
    };
    let body = text
        .strip_prefix(VERSION_LINE)
        .and_then(|r| r.strip_prefix('\n'))
        .ok_or_else(|| {
            EngineError::execution(
                "STATE_STORE_SCHEMA_FILE_CORRUPT",
                format!("{}: not a state schema file (no `v1` line)", path.display()),
            )
        })?;
    let file: SchemaFile = serde_json::from_str(body)
        .map_err(|e| EngineError::external(format!("reading {}", path.display()), e))?;
    Ok(Some(StateSchema {
        key: Arc::new(file.key_schema),
        value: Arc::new(file.value_schema),
    }))
}

/// Checks `schema` against the one stored for the store (writing it when there is none), as
/// Spark does when a stateful operator starts. `check` is `stateSchemaCheck`;
/// `ignore_value_schema` skips the value (Spark does for some operators' formats).
pub fn check_state_schema(
    state_root: &Path,
    operator_id: u64,
    store_name: &str,
    schema: &StateSchema,
    check: bool,
    ignore_value_schema: bool,
) -> Result<()> {
    if !check {
        return Ok(());
    }
    match read_schema(state_root, operator_id, store_name)? {
        None => {
            let text = serde_json::to_string(&SchemaFile {
                key_schema: schema.key.as_ref().clone(),
                value_schema: schema.value.as_ref().clone(),
            })
            .map_err(|e| EngineError::external("writing the state schema", e))?;
            let path = schema_path(state_root, operator_id, store_name);
            // Another task of the same run may have written it first: then check against it.
            if !create_atomic(&path, format!("{VERSION_LINE}\n{text}").as_bytes())? {
                return check_state_schema(
                    state_root,
                    operator_id,
                    store_name,
                    schema,
                    check,
                    ignore_value_schema,
                );
            }
            Ok(())
        }
        Some(stored) => compare(&stored, schema, ignore_value_schema),
    }
}

fn compare(stored: &StateSchema, new: &StateSchema, ignore_value_schema: bool) -> Result<()> {
    if !struct_compatible(stored.key.fields(), new.key.fields()) {
        return Err(EngineError::execution(
            "STATE_STORE_KEY_SCHEMA_NOT_COMPATIBLE",
            format!(
                "Provided key schema does not match existing state key schema. Please check number and type of fields. Existing key_schema={} and new key_schema={}. If you want to force running the query without schema validation, please set spark.sql.streaming.stateStore.stateSchemaCheck to false. However, please note that running the query with incompatible schema could cause non-deterministic behavior. SQLSTATE: XXKST",
                schema_text(&stored.key),
                schema_text(&new.key)
            ),
        ));
    }
    if !ignore_value_schema && !struct_compatible(stored.value.fields(), new.value.fields()) {
        return Err(EngineError::execution(
            "STATE_STORE_VALUE_SCHEMA_NOT_COMPATIBLE",
            format!(
                "Provided value schema does not match existing state value schema. Please check number and type of fields. Existing value_schema={} and new value_schema={}. If you want to force running the query without schema validation, please set spark.sql.streaming.stateStore.stateSchemaCheck to false. However, please note that running the query with incompatible schema could cause non-deterministic behavior. SQLSTATE: XXKST",
                schema_text(&stored.value),
                schema_text(&new.value)
            ),
        ));
    }
    Ok(())
}

/// Spark's `DataType.equalsIgnoreNameAndCompatibleNullability(stored, new)` on fields: same
/// count and types in order, names ignored, a field may become nullable but not the reverse.
fn struct_compatible(stored: &[Arc<Field>], new: &[Arc<Field>]) -> bool {
    stored.len() == new.len()
        && stored.iter().zip(new).all(|(s, n)| {
            (n.is_nullable() || !s.is_nullable()) && type_compatible(s.data_type(), n.data_type())
        })
}

fn type_compatible(stored: &DataType, new: &DataType) -> bool {
    match (stored, new) {
        (DataType::Struct(s), DataType::Struct(n)) => struct_compatible(s, n),
        (DataType::List(s), DataType::List(n))
        | (DataType::LargeList(s), DataType::LargeList(n)) => {
            (n.is_nullable() || !s.is_nullable()) && type_compatible(s.data_type(), n.data_type())
        }
        (DataType::Map(s, _), DataType::Map(n, _)) => type_compatible(s.data_type(), n.data_type()),
        _ => stored == new,
    }
}

/// A schema as Spark prints a `StructType`: `StructType(StructField(k,LongType,true),...)`.
pub fn schema_text(schema: &Schema) -> String {
    fields_text(schema.fields())
}

fn fields_text(fields: &[Arc<Field>]) -> String {
    let inner: Vec<String> = fields
        .iter()
        .map(|f| {
            format!(
                "StructField({},{},{})",
                f.name(),
                type_text(f.data_type()),
                f.is_nullable()
            )
        })
        .collect();
    format!("StructType({})", inner.join(","))
}

fn type_text(t: &DataType) -> String {
    match t {
        DataType::Null => "NullType".into(),
        DataType::Boolean => "BooleanType".into(),
        DataType::Int8 => "ByteType".into(),
        DataType::Int16 => "ShortType".into(),
        DataType::Int32 => "IntegerType".into(),
        DataType::Int64 => "LongType".into(),
        DataType::Float32 => "FloatType".into(),
        DataType::Float64 => "DoubleType".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "StringType".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "BinaryType".into(),
        DataType::Date32 => "DateType".into(),
        DataType::Timestamp(TimeUnit::Microsecond, Some(_)) => "TimestampType".into(),
        DataType::Timestamp(TimeUnit::Microsecond, None) => "TimestampNTZType".into(),
        DataType::Decimal128(p, s) => format!("DecimalType({p},{s})"),
        DataType::Struct(fields) => fields_text(fields),
        DataType::List(f) | DataType::LargeList(f) => {
            format!(
                "ArrayType({},{})",
                type_text(f.data_type()),
                f.is_nullable()
            )
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => format!(
                "MapType({},{},{})",
                type_text(kv[0].data_type()),
                type_text(kv[1].data_type()),
                kv[1].is_nullable()
            ),
            other => format!("MapType({other})"),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(fields: Vec<Field>) -> Arc<Schema> {
        Arc::new(Schema::new(fields))
    }

    fn state(key: Vec<Field>, value: Vec<Field>) -> StateSchema {
        StateSchema {
            key: schema(key),
            value: schema(value),
        }
    }

    #[test]
    fn first_run_writes_the_schema_and_restarts_compare_against_it() {
        let d = tempfile::tempdir().unwrap();
        let s1 = state(
            vec![Field::new("k", DataType::Int64, false)],
            vec![Field::new("n", DataType::Int64, false)],
        );
        check_state_schema(d.path(), 0, "default", &s1, true, false).unwrap();
        assert_eq!(
            read_schema(d.path(), 0, "default").unwrap(),
            Some(s1.clone())
        );
        // Renamed fields and widened nullability are compatible.
        let widened = state(
            vec![Field::new("key", DataType::Int64, true)],
            vec![Field::new("count", DataType::Int64, true)],
        );
        check_state_schema(d.path(), 0, "default", &widened, true, false).unwrap();

        let key_changed = state(
            vec![Field::new("k", DataType::Utf8, false)],
            vec![Field::new("n", DataType::Int64, false)],
        );
        let e = check_state_schema(d.path(), 0, "default", &key_changed, true, false).unwrap_err();
        assert_eq!(
            e.error_class(),
            Some("STATE_STORE_KEY_SCHEMA_NOT_COMPATIBLE")
        );
        let text = e.to_string();
        assert!(
            text.contains("Existing key_schema=StructType(StructField(k,LongType,false))")
                && text.contains("new key_schema=StructType(StructField(k,StringType,false))"),
            "{text}"
        );

        let value_changed = state(
            vec![Field::new("k", DataType::Int64, false)],
            vec![
                Field::new("n", DataType::Int64, false),
                Field::new("s", DataType::Float64, true),
            ],
        );
        let e =
            check_state_schema(d.path(), 0, "default", &value_changed, true, false).unwrap_err();
        assert_eq!(
            e.error_class(),
            Some("STATE_STORE_VALUE_SCHEMA_NOT_COMPATIBLE")
        );
        check_state_schema(d.path(), 0, "default", &value_changed, true, true).unwrap();
        // With stateSchemaCheck off nothing is checked.
        check_state_schema(d.path(), 0, "default", &key_changed, false, false).unwrap();
    }

    #[test]
    fn narrowing_nullability_is_incompatible() {
        let nullable = vec![Field::new("k", DataType::Int64, true)];
        let required = vec![Field::new("k", DataType::Int64, false)];
        assert!(!struct_compatible(
            &Schema::new(nullable.clone()).fields,
            &Schema::new(required.clone()).fields
        ));
        assert!(struct_compatible(
            &Schema::new(required).fields,
            &Schema::new(nullable).fields
        ));
    }
}
