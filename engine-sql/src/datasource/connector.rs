//! Batch reads and writes of formats registered in engine-core's [`FormatRegistry`]
//! (`kafka`): the bridge between connector crates and the planner.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use engine_core::Result;
use engine_core::connector::Format;
use engine_core::options::Options;

use engine_core::expr::Expr;
use engine_core::physical::TableProvider;
use engine_core::physical::plan::partition_scan::PartitionScanExec;
use engine_core::physical::plan::{ExecutionPlanRef, TaskContext};

/// A batch read of a registered format: the partitions are planned when the query runs, so
/// a DataFrame read once sees the data present at each action, as in Spark.
pub struct ConnectorTable {
    format: Arc<dyn Format>,
    options: Options,
    schema: SchemaRef,
}

impl std::fmt::Debug for ConnectorTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Options may hold credentials (`kafka.sasl.jaas.config`): never print them.
        write!(f, "ConnectorTable({})", self.format.short_name())
    }
}

impl ConnectorTable {
    /// A table over `format` with `options`; the schema is the format's (or `user_schema`
    /// where the format accepts one).
    pub fn try_new(
        format: Arc<dyn Format>,
        options: Options,
        user_schema: Option<SchemaRef>,
    ) -> Result<Self> {
        let schema = format.schema(&options, user_schema)?;
        Ok(ConnectorTable {
            format,
            options,
            schema,
        })
    }
}

impl TableProvider for ConnectorTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn describe(&self) -> String {
        self.format.short_name().to_string()
    }

    fn scan(
        &self,
        projection: Option<&[usize]>,
        _filters: &[Expr],
        _limit: Option<usize>,
        _ctx: &Arc<TaskContext>,
    ) -> Result<ExecutionPlanRef> {
        let partitions = self
            .format
            .create_batch_scan(&self.options, self.schema.clone())?;
        Ok(Arc::new(PartitionScanExec::try_new(
            self.format.short_name(),
            &self.schema,
            projection,
            partitions,
        )?))
    }
}
