//! `format("state-metadata")`: one row per store of every stateful operator of a checkpoint
//! (Spark's `StateMetadataSource`).

use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{Int32Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use engine_core::checkpoint::CommitLog;
use engine_core::connector::{BatchIter, Format, InputPartition};
use engine_core::options::Options;
use engine_core::{EngineError, Result};

use super::options::required;
use crate::metadata::read_all;

/// `format("state-metadata")`.
#[derive(Debug, Default)]
pub struct StateMetadataFormat;

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("operatorId", DataType::Int64, true),
        Field::new("operatorName", DataType::Utf8, true),
        Field::new("stateStoreName", DataType::Utf8, true),
        Field::new("numPartitions", DataType::Int32, true),
        Field::new("minBatchId", DataType::Int64, true),
        Field::new("maxBatchId", DataType::Int64, true),
        Field::new("operatorProperties", DataType::Utf8, true),
    ]))
}

impl Format for StateMetadataFormat {
    fn short_name(&self) -> &str {
        "state-metadata"
    }

    fn schema(&self, _options: &Options, user_schema: Option<SchemaRef>) -> Result<SchemaRef> {
        if user_schema.is_some() {
            return Err(EngineError::analysis(
                "UNSUPPORTED_FEATURE",
                "The state metadata source does not accept a user-specified schema",
            ));
        }
        Ok(schema())
    }

    fn create_batch_scan(
        &self,
        options: &Options,
        _schema: SchemaRef,
    ) -> Result<Vec<Arc<dyn InputPartition>>> {
        let path = options.get("path").ok_or_else(|| required("path"))?;
        Ok(vec![Arc::new(MetadataPartition {
            checkpoint: PathBuf::from(path),
        })])
    }
}

#[derive(Debug)]
struct MetadataPartition {
    checkpoint: PathBuf,
}

impl InputPartition for MetadataPartition {
    fn read(&self) -> Result<BatchIter> {
        let committed = CommitLog::new(self.checkpoint.join("commits"))
            .log()
            .ids()?;
        let to_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let (min, max) = match (committed.first(), committed.last()) {
            (Some(a), Some(b)) => (to_i64(*a), to_i64(*b)),
            _ => (-1, -1),
        };
        let mut ids = Vec::new();
        let mut names = Vec::new();
        let mut stores = Vec::new();
        let mut partitions = Vec::new();
        for op in read_all(&self.checkpoint.join("state"))? {
            for store in &op.state_store_info {
                ids.push(to_i64(op.operator_info.operator_id));
                names.push(op.operator_info.operator_name.clone());
                stores.push(store.store_name.clone());
                partitions.push(i32::try_from(store.num_partitions).unwrap_or(i32::MAX));
            }
        }
        let n = ids.len();
        let batch = RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(Int64Array::from(ids)),
                Arc::new(StringArray::from(names)),
                Arc::new(StringArray::from(stores)),
                Arc::new(Int32Array::from(partitions)),
                Arc::new(Int64Array::from(vec![min; n])),
                Arc::new(Int64Array::from(vec![max; n])),
                Arc::new(StringArray::from(vec![""; n])),
            ],
        )?;
        Ok(Box::new(std::iter::once(Ok(batch))))
    }
}
