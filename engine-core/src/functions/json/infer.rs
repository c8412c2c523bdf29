//! Spark's JSON schema inference (`JsonInferSchema`) on parsed values: the type of each
//! value, and how the types of many documents merge. Shared by `schema_of_json` and the
//! JSON file reader's schema inference.

use std::collections::BTreeMap;

use arrow::datatypes::{DataType, Field, Fields};

use crate::types::list_of;

/// Inferred JSON types before they become Arrow types.
#[derive(Debug, Clone, PartialEq)]
pub enum JType {
    /// Only nulls seen so far (becomes STRING).
    Null,
    /// `true`/`false`.
    Bool,
    /// Integral numbers (BIGINT).
    Long,
    /// Other numbers (DOUBLE).
    Double,
    /// Strings, and what no other type fits.
    Str,
    /// Arrays, with their merged element type.
    Array(Box<JType>),
    /// Objects, fields by name (sorted, as Spark sorts inferred fields).
    Struct(BTreeMap<String, JType>),
}

/// The type of one JSON value; `primitives_as_string` is the reader option of that name.
pub fn infer_value(v: &serde_json::Value, primitives_as_string: bool) -> JType {
    use serde_json::Value as V;
    match v {
        V::Null => JType::Null,
        _ if primitives_as_string && !v.is_array() && !v.is_object() => JType::Str,
        V::Bool(_) => JType::Bool,
        V::Number(n) if n.is_i64() => JType::Long,
        V::Number(_) => JType::Double,
        V::String(_) => JType::Str,
        V::Array(items) => JType::Array(Box::new(items.iter().fold(JType::Null, |t, i| {
            merge(t, infer_value(i, primitives_as_string))
        }))),
        V::Object(m) => JType::Struct(
            m.iter()
                .map(|(k, v)| (k.clone(), infer_value(v, primitives_as_string)))
                .collect(),
        ),
    }
}

/// Spark's `compatibleType`: widen numbers, merge structs and arrays, else STRING.
pub fn merge(a: JType, b: JType) -> JType {
    use JType::*;
    match (a, b) {
        (x, y) if x == y => x,
        (Null, x) | (x, Null) => x,
        (Long, Double) | (Double, Long) => Double,
        (Array(x), Array(y)) => Array(Box::new(merge(*x, *y))),
        (Struct(mut x), Struct(y)) => {
            for (k, t) in y {
                let merged = match x.remove(&k) {
                    Some(old) => merge(old, t),
                    None => t,
                };
                x.insert(k, merged);
            }
            Struct(x)
        }
        _ => Str,
    }
}

/// The Arrow type of an inferred type.
pub fn to_arrow(t: &JType) -> DataType {
    match t {
        JType::Null | JType::Str => DataType::Utf8,
        JType::Bool => DataType::Boolean,
        JType::Long => DataType::Int64,
        JType::Double => DataType::Float64,
        JType::Array(e) => list_of(to_arrow(e)),
        JType::Struct(m) => DataType::Struct(struct_fields(m)),
    }
}

/// The type Spark infers for one JSON document (`schema_of_json`); `None` if it is not
/// valid JSON. Fields are sorted by name and NULL becomes STRING, as in Spark.
pub fn infer_text_type(text: &str) -> Option<DataType> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    Some(to_arrow(&infer_value(&v, false)))
}

/// The Arrow fields of an inferred object, in name order.
pub fn struct_fields(m: &BTreeMap<String, JType>) -> Fields {
    // BTreeMap iterates in name order: Spark sorts inferred fields by name.
    m.iter()
        .map(|(k, t)| Field::new(k, to_arrow(t), true))
        .collect::<Vec<_>>()
        .into()
}
