//! The memory sink: results kept in memory and queryable with SQL under the query name.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use engine_core::Result;
use engine_core::connector::{DataWriter, OutputMode, Sink, WriterCommitMessage, WriterContext};

use super::{CollectingWriter, collected};
use crate::session::Session;
use engine_core::expr::Expr;
use engine_core::logical::{LogicalPlan, Scan};
use engine_core::physical::TableProvider;
use engine_core::physical::plan::{ExecutionPlanRef, TaskContext};
use engine_core::physical::table::memory::MemTable;

#[derive(Debug, Default)]
struct Data {
    /// Rows per committed batch id (append/update); only the latest batch in complete mode.
    batches: BTreeMap<u64, Vec<RecordBatch>>,
}

/// Spark's `MemorySink`: every committed batch is appended (complete mode: replaces the
/// table); a batch id committed before is skipped, so replays never duplicate rows.
#[derive(Debug)]
pub struct MemorySink {
    schema: SchemaRef,
    mode: OutputMode,
    data: Mutex<Data>,
}

impl MemorySink {
    /// A sink for rows of `schema`, registered in `session` as the temporary view `name`
    /// (replacing a view of that name, as Spark does for a restarted query).
    pub fn register(
        session: &Session,
        name: &str,
        schema: SchemaRef,
        mode: OutputMode,
    ) -> Result<Arc<MemorySink>> {
        let sink = Arc::new(MemorySink {
            schema,
            mode,
            data: Mutex::default(),
        });
        let table: Arc<dyn TableProvider> = Arc::new(MemorySinkTable { sink: sink.clone() });
        session.catalog().register_view(
            name,
            Arc::new(LogicalPlan::Scan(Scan {
                source: engine_core::physical::provider_as_source(table),
                qualifier: None,
                projection: None,
                filters: vec![],
                limit: None,
            })),
            true,
        )?;
        Ok(sink)
    }

    /// Every row held now, batch by batch.
    pub fn all_data(&self) -> Vec<RecordBatch> {
        self.data
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .batches
            .values()
            .flatten()
            .cloned()
            .collect()
    }

    /// The highest committed batch id.
    pub fn latest_batch_id(&self) -> Option<u64> {
        self.data
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .batches
            .keys()
            .next_back()
            .copied()
    }
}

impl Sink for MemorySink {
    fn description(&self) -> String {
        "MemorySink".into()
    }

    fn create_writer(&self, _ctx: WriterContext) -> Result<Box<dyn DataWriter>> {
        Ok(Box::new(CollectingWriter::default()))
    }

    fn commit(&self, batch_id: u64, messages: Vec<WriterCommitMessage>) -> Result<()> {
        let rows: Vec<RecordBatch> = collected(messages)?.into_iter().flatten().collect();
        let mut data = self
            .data
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if data
            .batches
            .keys()
            .next_back()
            .is_some_and(|&l| l >= batch_id)
        {
            log::info!("Skipping already committed batch {batch_id}");
            return Ok(());
        }
        if self.mode == OutputMode::Complete {
            data.batches.clear();
        }
        data.batches.insert(batch_id, rows);
        Ok(())
    }
}

/// The memory sink as a table: each scan sees the rows committed so far.
#[derive(Debug)]
struct MemorySinkTable {
    sink: Arc<MemorySink>,
}

impl TableProvider for MemorySinkTable {
    fn schema(&self) -> SchemaRef {
        self.sink.schema.clone()
    }

    fn describe(&self) -> String {
        "MemorySink".into()
    }

    fn scan(
        &self,
        projection: Option<&[usize]>,
        filters: &[Expr],
        limit: Option<usize>,
        ctx: &Arc<TaskContext>,
    ) -> Result<ExecutionPlanRef> {
        let parts = self.sink.all_data().into_iter().map(|b| vec![b]).collect();
        MemTable::try_new(self.sink.schema.clone(), parts)?.scan(projection, filters, limit, ctx)
    }
}
