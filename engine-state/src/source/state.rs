//! `format("statestore")`: a checkpoint's state as a table (Spark 4's State Data Source).
//!
//! Columns `key` and `value` (structs of the store's key and value schemas) and
//! `partition_id`; with `readChangeFeed`, `batch_id` and `change_type` (`update` / `delete`)
//! first. One input partition per state partition, read straight from the checkpoint files
//! (both providers write the same files), so reading needs no running query and no provider.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray, StructArray, UInt32Array,
};
use arrow::compute::take;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use engine_core::connector::{BatchIter, Format, InputPartition};
use engine_core::options::Options;
use engine_core::{EngineError, Result};

use super::options::{ReadMode, StateSourceOptions};
use crate::files::{StateStream, StoreFiles, read_delta};
use crate::id::StateStoreId;
use crate::metadata::numeric_dirs;
use crate::rows::{RowCodec, StateSchema};
use crate::schema::read_schema;

/// Rows per output batch.
const BATCH_ROWS: usize = 4096;

/// The reader's name in load errors (Spark names the provider class there).
const READER: &str = "StateDataSource";

/// `format("statestore")`.
#[derive(Debug, Default)]
pub struct StateStoreFormat;

fn struct_field(name: &str, schema: &Schema) -> Field {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| Field::new(f.name(), f.data_type().clone(), true))
        .collect();
    Field::new(name, DataType::Struct(fields.into()), true)
}

fn state_schema(opts: &StateSourceOptions) -> Result<StateSchema> {
    read_schema(&opts.state_root(), opts.operator_id, &opts.store_name)
        .and_then(|s| s.ok_or_else(|| EngineError::Internal("no schema file".into())))
        .map_err(|e| {
            EngineError::analysis(
                "STDS_FAILED_TO_READ_STATE_SCHEMA",
                format!(
                    "Failed to read the state schema. Either the file does not exist, or the file is corrupted. options: {opts}. Rerun the streaming query to construct the state schema, and report to the corresponding communities or vendors if the error persists. SQLSTATE: 42K03 ({e})"
                ),
            )
        })
}

fn output_schema(opts: &StateSourceOptions, state: &StateSchema) -> SchemaRef {
    let mut fields = Vec::new();
    if matches!(opts.mode, ReadMode::ChangeFeed { .. }) {
        fields.push(Field::new("batch_id", DataType::Int64, false));
        fields.push(Field::new("change_type", DataType::Utf8, false));
    }
    fields.push(struct_field("key", &state.key));
    fields.push(struct_field("value", &state.value));
    fields.push(Field::new("partition_id", DataType::Int32, false));
    Arc::new(Schema::new(fields))
}

impl Format for StateStoreFormat {
    fn short_name(&self) -> &str {
        "statestore"
    }

    fn schema(&self, options: &Options, user_schema: Option<SchemaRef>) -> Result<SchemaRef> {
        if user_schema.is_some() {
            return Err(EngineError::analysis(
                "UNSUPPORTED_FEATURE",
                "The state store source does not accept a user-specified schema: it reads the schema the query stored",
            ));
        }
        let opts = StateSourceOptions::parse(options)?;
        Ok(output_schema(&opts, &state_schema(&opts)?))
    }

    fn create_batch_scan(
        &self,
        options: &Options,
        schema: SchemaRef,
    ) -> Result<Vec<Arc<dyn InputPartition>>> {
        let opts = StateSourceOptions::parse(options)?;
        let state = state_schema(&opts)?;
        let op_dir = crate::id::operator_dir(&opts.state_root(), opts.operator_id);
        let partitions = numeric_dirs(&op_dir)?;
        if partitions.is_empty() {
            return Err(EngineError::analysis(
                "STDS_NO_PARTITION_DISCOVERED_IN_STATE_STORE",
                format!(
                    "The state does not have any partition. Please double check that the query points to the valid state. options: {opts} SQLSTATE: KD006"
                ),
            ));
        }
        partitions
            .into_iter()
            .map(|p| {
                let partition_id = u32::try_from(p).map_err(|_| {
                    EngineError::Internal(format!("state partition {p} out of range"))
                })?;
                Ok(Arc::new(StatePartition {
                    id: StateStoreId::new(opts.state_root(), opts.operator_id, partition_id)
                        .with_store_name(&opts.store_name),
                    mode: opts.mode.clone(),
                    state: state.clone(),
                    schema: Arc::clone(&schema),
                }) as Arc<dyn InputPartition>)
            })
            .collect()
    }
}

/// One state partition's rows.
#[derive(Debug)]
struct StatePartition {
    id: StateStoreId,
    mode: ReadMode,
    state: StateSchema,
    schema: SchemaRef,
}

impl InputPartition for StatePartition {
    fn read(&self) -> Result<BatchIter> {
        let key = RowCodec::new(Arc::clone(&self.state.key))?;
        let value = RowCodec::new(Arc::clone(&self.state.value))?;
        let partition = i32::try_from(self.id.partition_id).unwrap_or(i32::MAX);
        match self.mode {
            ReadMode::Snapshot { batch_id } => {
                let files = StoreFiles::list(&self.id.dir())?;
                let mut stream = StateStream::open(&files, batch_id + 1, READER)?;
                let schema = Arc::clone(&self.schema);
                let iter = std::iter::from_fn(move || {
                    let mut chunk = Vec::with_capacity(BATCH_ROWS);
                    for kv in stream.by_ref() {
                        match kv {
                            Ok(kv) => chunk.push(kv),
                            Err(e) => return Some(Err(e)),
                        }
                        if chunk.len() == BATCH_ROWS {
                            break;
                        }
                    }
                    if chunk.is_empty() {
                        return None;
                    }
                    Some(snapshot_batch(&schema, &key, &value, &chunk, partition))
                });
                Ok(Box::new(iter))
            }
            ReadMode::ChangeFeed { start, end } => {
                let mut batches = Vec::new();
                for batch_id in start..=end {
                    let records = read_delta(&self.id.dir(), batch_id + 1, READER)?;
                    for chunk in records.chunks(BATCH_ROWS) {
                        batches.push(change_batch(
                            &self.schema,
                            &key,
                            &value,
                            chunk,
                            batch_id,
                            partition,
                        ));
                    }
                }
                Ok(Box::new(batches.into_iter()))
            }
        }
    }
}

fn snapshot_batch(
    schema: &SchemaRef,
    key: &RowCodec,
    value: &RowCodec,
    chunk: &[(Vec<u8>, Vec<u8>)],
    partition: i32,
) -> Result<RecordBatch> {
    let keys = key.decode_struct(chunk.iter().map(|(k, _)| k.as_slice()))?;
    let values = value.decode_struct(chunk.iter().map(|(_, v)| v.as_slice()))?;
    Ok(RecordBatch::try_new(
        Arc::clone(schema),
        vec![
            Arc::new(keys),
            Arc::new(values),
            Arc::new(Int32Array::from(vec![partition; chunk.len()])),
        ],
    )?)
}

fn change_batch(
    schema: &SchemaRef,
    key: &RowCodec,
    value: &RowCodec,
    chunk: &[crate::files::Record],
    batch_id: u64,
    partition: i32,
) -> Result<RecordBatch> {
    let keys = key.decode_struct(chunk.iter().map(|(k, _)| k.as_slice()))?;
    let present = value.decode_struct(chunk.iter().filter_map(|(_, v)| v.as_deref()))?;
    // A delete has no value: take a null there, the next present value elsewhere.
    let mut next = 0u32;
    let indices: UInt32Array = chunk
        .iter()
        .map(|(_, v)| {
            v.as_ref().map(|_| {
                next += 1;
                next - 1
            })
        })
        .collect();
    let values: ArrayRef = take(&present as &dyn Array, &indices, None)?;
    let values = values
        .as_any()
        .downcast_ref::<StructArray>()
        .cloned()
        .ok_or_else(|| EngineError::Internal("take of a struct column".into()))?;
    let change: StringArray = chunk
        .iter()
        .map(|(_, v)| Some(if v.is_some() { "update" } else { "delete" }))
        .collect();
    let batch = i64::try_from(batch_id).unwrap_or(i64::MAX);
    Ok(RecordBatch::try_new(
        Arc::clone(schema),
        vec![
            Arc::new(Int64Array::from(vec![batch; chunk.len()])),
            Arc::new(change),
            Arc::new(keys),
            Arc::new(values),
            Arc::new(Int32Array::from(vec![partition; chunk.len()])),
        ],
    )?)
}
