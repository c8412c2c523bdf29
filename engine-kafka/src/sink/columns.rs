//! The sink's input columns: which of `value`, `key`, `topic`, `partition` and `headers` it
//! uses, checked against Spark's rules, and the per-row accessors the writer reads them with.

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, LargeBinaryArray, LargeStringArray, ListArray,
    StringArray, StructArray,
};
use arrow::datatypes::{DataType, SchemaRef};
use engine_core::{EngineError, Result};
use rdkafka::message::{Header, OwnedHeaders};

fn analysis(msg: impl Into<String>) -> EngineError {
    // Spark wraps KafkaWriter.validateQuery's messages in this class.
    EngineError::analysis("_LEGACY_ERROR_TEMP_3080", msg)
}

fn type_name(t: &DataType) -> String {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "binary".into(),
        DataType::Int32 => "int".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Int16 => "smallint".into(),
        DataType::Int8 => "tinyint".into(),
        DataType::Float64 => "double".into(),
        DataType::Float32 => "float".into(),
        DataType::Boolean => "boolean".into(),
        other => other.to_string().to_lowercase(),
    }
}

fn is_bytes(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Binary | DataType::LargeBinary
    )
}

/// Which input columns the sink uses, checked against Spark's rules.
#[derive(Clone, Debug)]
pub struct ColumnPlan {
    pub(super) value: usize,
    pub(super) key: Option<usize>,
    pub(super) topic: Option<usize>,
    pub(super) partition: Option<usize>,
    pub(super) headers: Option<usize>,
}

impl ColumnPlan {
    /// Checks `schema` (Spark's `KafkaWriter.validateQuery`); `topic_option` is the `topic`
    /// option.
    pub fn new(
        schema: &SchemaRef,
        topic_option: Option<&str>,
        include_headers: Option<bool>,
    ) -> Result<Self> {
        let find = |name: &str| schema.fields().iter().position(|f| f.name() == name);
        let topic = find("topic");
        if topic_option.is_none() {
            match topic {
                None => {
                    return Err(analysis(
                        "topic option required when no 'topic' attribute is present. Use the topic option for setting a topic.",
                    ));
                }
                Some(i) => {
                    let t = schema.field(i).data_type();
                    if !matches!(t, DataType::Utf8 | DataType::LargeUtf8) {
                        return Err(analysis(format!(
                            "topic attribute unsupported type {}. topic must be a(n) string",
                            type_name(t)
                        )));
                    }
                }
            }
        }
        let key = find("key");
        if let Some(i) = key {
            let t = schema.field(i).data_type();
            if !is_bytes(t) {
                return Err(analysis(format!(
                    "key attribute unsupported type {}. key must be a(n) string or binary",
                    type_name(t)
                )));
            }
        }
        let value =
            find("value").ok_or_else(|| analysis("Required attribute 'value' not found"))?;
        let t = schema.field(value).data_type();
        if !is_bytes(t) {
            return Err(analysis(format!(
                "value attribute unsupported type {}. value must be a(n) string or binary",
                type_name(t)
            )));
        }
        let mut headers = find("headers");
        if include_headers == Some(false) {
            headers = None;
        }
        if let Some(i) = headers {
            let t = schema.field(i).data_type();
            let ok = match t {
                DataType::List(f) => match f.data_type() {
                    DataType::Struct(fs) => {
                        fs.len() == 2
                            && fs[0].name() == "key"
                            && matches!(fs[0].data_type(), DataType::Utf8)
                            && fs[1].name() == "value"
                            && matches!(fs[1].data_type(), DataType::Binary)
                    }
                    _ => false,
                },
                _ => false,
            };
            if !ok {
                return Err(analysis(format!(
                    "headers attribute unsupported type {}. headers must be a(n) array<struct<key:string,value:binary>>",
                    type_name(t)
                )));
            }
        }
        let partition = find("partition");
        if let Some(i) = partition {
            let t = schema.field(i).data_type();
            if !matches!(t, DataType::Int32) {
                return Err(analysis(format!(
                    "partition attribute unsupported type {}. partition must be a(n) int",
                    type_name(t)
                )));
            }
        }
        Ok(ColumnPlan {
            value,
            key,
            topic: if topic_option.is_some() { None } else { topic },
            partition,
            headers,
        })
    }
}

/// A string or binary column, resolved once per batch.
pub(super) enum Bytes<'a> {
    Bin(&'a BinaryArray),
    LargeBin(&'a LargeBinaryArray),
    Str(&'a StringArray),
    LargeStr(&'a LargeStringArray),
}

impl<'a> Bytes<'a> {
    pub(super) fn new(a: &'a ArrayRef) -> Result<Self> {
        Ok(match a.data_type() {
            DataType::Binary => Bytes::Bin(a.as_binary()),
            DataType::LargeBinary => Bytes::LargeBin(a.as_binary()),
            DataType::Utf8 => Bytes::Str(a.as_string()),
            DataType::LargeUtf8 => Bytes::LargeStr(a.as_string()),
            t => {
                return Err(EngineError::Internal(format!(
                    "kafka sink: unexpected column type {t}"
                )));
            }
        })
    }

    #[inline]
    pub(super) fn get(&self, i: usize) -> Option<&'a [u8]> {
        match self {
            Bytes::Bin(a) => a.is_valid(i).then(|| a.value(i)),
            Bytes::LargeBin(a) => a.is_valid(i).then(|| a.value(i)),
            Bytes::Str(a) => a.is_valid(i).then(|| a.value(i).as_bytes()),
            Bytes::LargeStr(a) => a.is_valid(i).then(|| a.value(i).as_bytes()),
        }
    }
}

pub(super) fn topic_at<'a>(
    topic_option: Option<&'a str>,
    col: &Option<Bytes<'a>>,
    i: usize,
) -> Result<&'a str> {
    if let Some(t) = topic_option {
        return Ok(t);
    }
    col.as_ref()
        .and_then(|c| c.get(i))
        .and_then(|b| std::str::from_utf8(b).ok())
        .ok_or_else(|| {
            EngineError::execution(
                "NULL_TOPIC",
                "null topic present in the data. Use the topic option for setting a topic.",
            )
        })
}

pub(super) fn user_headers(list: Option<&ListArray>, i: usize, cap: usize) -> OwnedHeaders {
    let mut out = OwnedHeaders::new_with_capacity(cap);
    let Some(list) = list else {
        return out;
    };
    if list.is_null(i) {
        return out;
    }
    let entries = list.value(i);
    let Some(s) = entries.as_any().downcast_ref::<StructArray>() else {
        return out;
    };
    let keys = s.column(0).as_string::<i32>();
    let values = s.column(1).as_binary::<i32>();
    for j in 0..s.len() {
        let key = if keys.is_valid(j) { keys.value(j) } else { "" };
        let value = values.is_valid(j).then(|| values.value(j));
        out = out.insert(Header { key, value });
    }
    out
}
