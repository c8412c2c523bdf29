//! Arrow columns to state rows and back: keys and values both in Arrow's row format.
//!
//! Keys must be memcomparable (byte order is the key's sort order), which the row format is,
//! so a key whose first column is the event time (a window's end, a session's start) makes
//! eviction a range scan. Values use the same format: it covers every Arrow type the
//! operators keep (nested aggregation buffers included), decodes whole batches at once, and
//! is what engine-sql's aggregates already keep their groups in.
//!
//! The row format is Arrow's, not a stable on-disk format of its own: a test pins its bytes
//! for common types, so an Arrow upgrade that changes them fails before a checkpoint breaks.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StructArray};
use arrow::datatypes::{Field, Fields, SchemaRef};
use arrow::row::{RowConverter, Rows, SortField};
use engine_core::{EngineError, Result};

/// The key and value schemas of one store; also what the schema check compares.
#[derive(Debug, Clone, PartialEq)]
pub struct StateSchema {
    /// The key columns (grouping keys, window, session start, ...).
    pub key: SchemaRef,
    /// The value columns (aggregation buffers, the stored row, ...).
    pub value: SchemaRef,
}

/// Converts columns of one schema to rows and back.
#[derive(Debug)]
pub struct RowCodec {
    schema: SchemaRef,
    converter: RowConverter,
}

impl RowCodec {
    /// A codec for rows of `schema`.
    pub fn new(schema: SchemaRef) -> Result<RowCodec> {
        let fields = schema
            .fields()
            .iter()
            .map(|f| SortField::new(f.data_type().clone()))
            .collect();
        Ok(RowCodec {
            converter: RowConverter::new(fields)?,
            schema,
        })
    }

    /// The schema.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// One row per index of `columns` (which must match the schema); `rows.row(i).as_ref()`
    /// is the bytes to store.
    pub fn encode(&self, columns: &[ArrayRef]) -> Result<Rows> {
        Ok(self.converter.convert_columns(columns)?)
    }

    /// The columns of `rows` (bytes made by [`RowCodec::encode`] with the same schema). Bytes
    /// of another schema are an error, never a crash: the state may have been written by an
    /// incompatible query when `stateSchemaCheck` is off.
    pub fn decode<'a>(&self, rows: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<ArrayRef>> {
        let parser = self.converter.parser();
        let parsed: Vec<_> = rows.into_iter().map(|b| parser.parse(b)).collect();
        // Arrow panics on bytes that are not rows of this converter; such bytes come only from
        // a damaged or foreign state, which must fail the query with an error.
        match catch_unwind(AssertUnwindSafe(|| self.converter.convert_rows(parsed))) {
            Ok(r) => Ok(r?),
            Err(_) => Err(EngineError::execution(
                "STATE_STORE_KEY_ROW_FORMAT_VALIDATION_FAILURE",
                "The streaming query failed to validate written state for key or value row. \
                 The following reasons may cause this: 1. An old version wrote the checkpoint \
                 that is incompatible with the current one 2. Corrupt checkpoint files 3. The \
                 query changed in an incompatible way between restarts. SQLSTATE: XX000",
            )),
        }
    }

    /// The rows as one struct column named like the schema's fields (the State Data Source's
    /// `key` and `value` columns).
    pub fn decode_struct<'a>(
        &self,
        rows: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<StructArray> {
        let columns = self.decode(rows)?;
        let fields: Fields = self
            .schema
            .fields()
            .iter()
            .map(|f| Arc::new(Field::new(f.name(), f.data_type().clone(), true)))
            .collect();
        Ok(StructArray::try_new(fields, columns, None)?)
    }
}

/// Both codecs of a store.
#[derive(Debug)]
pub struct KeyValueCodec {
    /// Keys.
    pub key: RowCodec,
    /// Values.
    pub value: RowCodec,
}

impl KeyValueCodec {
    /// The codecs for `schema`.
    pub fn new(schema: &StateSchema) -> Result<KeyValueCodec> {
        Ok(KeyValueCodec {
            key: RowCodec::new(Arc::clone(&schema.key))?,
            value: RowCodec::new(Arc::clone(&schema.value))?,
        })
    }

    /// Key and value rows of a batch whose columns are `key_cols` then `value_cols` by index.
    pub fn encode_batch(
        &self,
        batch: &RecordBatch,
        key_cols: &[usize],
        value_cols: &[usize],
    ) -> Result<(Rows, Rows)> {
        let pick = |idx: &[usize]| -> Result<Vec<ArrayRef>> {
            idx.iter()
                .map(|i| {
                    batch.columns().get(*i).cloned().ok_or_else(|| {
                        EngineError::Internal(format!("no column {i} in a batch of state rows"))
                    })
                })
                .collect()
        };
        Ok((
            self.key.encode(&pick(key_cols)?)?,
            self.value.encode(&pick(value_cols)?)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray};
    use arrow::datatypes::{DataType, Schema, TimeUnit};

    fn key_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new(
                "window_end",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                false,
            ),
            Field::new("sku", DataType::Utf8, true),
        ]))
    }

    #[test]
    fn keys_sort_by_event_time_first_and_round_trip() {
        let codec = RowCodec::new(key_schema()).unwrap();
        let ts: ArrayRef = Arc::new(
            TimestampMicrosecondArray::from(vec![3_000_000, -5, 3_000_000, 10])
                .with_timezone("UTC"),
        );
        let sku: ArrayRef = Arc::new(StringArray::from(vec![
            Some("b"),
            Some("z"),
            None,
            Some("a"),
        ]));
        let rows = codec.encode(&[ts.clone(), sku.clone()]).unwrap();
        let mut order: Vec<usize> = (0..4).collect();
        order.sort_by(|a, b| rows.row(*a).as_ref().cmp(rows.row(*b).as_ref()));
        // Event time first (negative before positive), then nulls first within a time.
        assert_eq!(order, vec![1, 3, 2, 0]);
        let back = codec.decode((0..4).map(|i| rows.row(i).data())).unwrap();
        assert_eq!(&back[0], &ts);
        assert_eq!(&back[1], &sku);
    }

    #[test]
    fn the_row_format_bytes_are_pinned() {
        // A checkpoint keeps these bytes across engine versions: an Arrow upgrade that
        // changes them must be noticed here, not in a user's restored query.
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int64, true),
            Field::new("s", DataType::Utf8, true),
            Field::new("x", DataType::Float64, true),
        ]));
        let codec = RowCodec::new(schema).unwrap();
        let rows = codec
            .encode(&[
                Arc::new(Int64Array::from(vec![Some(1), None])),
                Arc::new(StringArray::from(vec![Some("ab"), Some("")])),
                Arc::new(Float64Array::from(vec![Some(-1.5), Some(0.0)])),
            ])
            .unwrap();
        assert_eq!(
            rows.row(0).data(),
            [
                1, 128, 0, 0, 0, 0, 0, 0, 1, // 1_i64: valid, sign-flipped big endian
                2, b'a', b'b', 0, 0, 0, 0, 0, 0, 2, // "ab": one mini block, length 2
                1, 64, 7, 255, 255, 255, 255, 255, 255 // -1.5_f64, order-preserving bits
            ]
        );
        assert_eq!(
            rows.row(1).data(),
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 128, 0, 0, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn foreign_bytes_are_an_error_not_a_crash() {
        let codec = RowCodec::new(key_schema()).unwrap();
        let e = codec.decode([&[1u8, 2, 3][..]]).unwrap_err();
        assert_eq!(
            e.error_class(),
            Some("STATE_STORE_KEY_ROW_FORMAT_VALIDATION_FAILURE")
        );
    }

    #[test]
    fn batches_split_into_key_and_value_rows() {
        let schema = StateSchema {
            key: Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, false)])),
            value: Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)])),
        };
        let codec = KeyValueCodec::new(&schema).unwrap();
        let batch = RecordBatch::try_from_iter(vec![
            ("n", Arc::new(Int64Array::from(vec![7, 8])) as ArrayRef),
            ("k", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
        ])
        .unwrap();
        let (k, v) = codec.encode_batch(&batch, &[1], &[0]).unwrap();
        let value = codec.value.decode_struct([v.row(1).data()]).unwrap();
        assert_eq!(value.len(), 1);
        assert_eq!(k.num_rows(), 2);
        assert!(codec.encode_batch(&batch, &[5], &[0]).is_err());
    }
}
