//! The lazy DataFrame: a session plus a logical plan. Transformations build plans;
//! actions (`collect`, `count`, `show`, `write`) plan and run them.

pub mod reader;
mod show;
mod transform;
pub mod writer;

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use engine_core::Result;

use crate::session::Session;
use engine_core::logical::{LogicalPlan, Scan};
use engine_core::physical::plan::{ExecutionPlanRef, TaskContext};
use engine_core::physical::table::memory::MemTable;
use engine_core::physical::{TableProvider, provider_as_source};
use engine_core::schema::PlanSchema;

pub use reader::DataFrameReader;
pub use show::Row;
pub use transform::{GroupedData, JoinOn};
pub use writer::DataFrameWriter;

impl Session {
    /// The temporary view `name` as a DataFrame.
    pub fn table(&self, name: &str) -> Result<DataFrame> {
        let parts = engine_core::expr::split_name(name);
        DataFrame::from_plan(
            self.clone(),
            Arc::new(LogicalPlan::UnresolvedRelation(parts)),
        )
    }

    /// A DataFrame over in-memory batches (all with the same schema).
    pub fn create_dataframe(&self, batches: Vec<RecordBatch>) -> Result<DataFrame> {
        let table = MemTable::try_new_from_batches(batches)?;
        self.dataframe_from_table(Arc::new(table))
    }

    /// A DataFrame scanning any table provider.
    pub fn dataframe_from_table(&self, source: Arc<dyn TableProvider>) -> Result<DataFrame> {
        DataFrame::from_plan(
            self.clone(),
            Arc::new(LogicalPlan::Scan(Scan {
                source: provider_as_source(source),
                qualifier: None,
                projection: None,
                filters: vec![],
                limit: None,
            })),
        )
    }
}

/// A lazily evaluated, immutable table: Spark's `DataFrame`.
#[derive(Debug, Clone)]
pub struct DataFrame {
    session: Session,
    /// The plan as built by the last operation, before analysis (for `explain`).
    parsed: Arc<LogicalPlan>,
    /// The analyzed plan.
    plan: Arc<LogicalPlan>,
}

impl DataFrame {
    /// Analyzes `parsed` and wraps it. Analysis is eager, as in Spark: an unknown column
    /// fails here, not when an action runs.
    pub fn from_plan(session: Session, parsed: Arc<LogicalPlan>) -> Result<DataFrame> {
        let plan = session.analyze(&parsed)?;
        Ok(DataFrame {
            session,
            parsed,
            plan,
        })
    }

    /// The session this DataFrame belongs to.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// True if this DataFrame reads a stream (Spark's `isStreaming`): it can only be run
    /// with `write_stream().start()`.
    pub fn is_streaming(&self) -> bool {
        self.plan.is_streaming()
    }

    /// The analyzed logical plan.
    pub fn logical_plan(&self) -> &Arc<LogicalPlan> {
        &self.plan
    }

    /// The plan as built, before analysis.
    pub fn parsed_plan(&self) -> &Arc<LogicalPlan> {
        &self.parsed
    }

    /// The schema with relation names.
    pub fn plan_schema(&self) -> Result<PlanSchema> {
        self.plan.schema()
    }

    /// The Arrow schema of the result.
    pub fn schema(&self) -> Result<SchemaRef> {
        Ok(self.plan.schema()?.to_arrow())
    }

    /// The optimized logical plan (rules listed in `spark.sql.optimizer.excludedRules`
    /// skipped; the session's time zone and ANSI mode used for constant folding).
    pub fn optimized_plan(&self) -> Result<Arc<LogicalPlan>> {
        engine_core::optimizer::optimize_with_conf(&self.plan, &self.session.conf())
    }

    /// The executable plan for `ctx`.
    pub fn physical_plan(&self, ctx: &Arc<TaskContext>) -> Result<ExecutionPlanRef> {
        engine_core::physical::planner::create_physical_plan(&self.optimized_plan()?, ctx)
    }

    /// Runs the query; batches grouped by output partition (what writers need).
    pub fn collect_partitions(&self) -> Result<(SchemaRef, Vec<Vec<RecordBatch>>)> {
        // Spark's `checkForBatch` (in `run_analyzed`): a stream only runs through
        // `write_stream().start()`.
        let parts = self.session.run_analyzed(&self.plan)?;
        Ok((self.schema()?, parts))
    }

    /// Runs the query and returns every batch, in order.
    pub fn collect(&self) -> Result<Vec<RecordBatch>> {
        Ok(self.collect_partitions()?.1.into_iter().flatten().collect())
    }

    /// Runs the query and counts its rows. Like Spark, this is a `count(1)` aggregation, so
    /// no row is materialized and only the columns the count needs are read.
    pub fn count(&self) -> Result<usize> {
        use arrow::array::AsArray;
        let counted = self.agg(vec![engine_core::expr::count(engine_core::expr::lit(1))])?;
        let batches = counted.collect()?;
        let n = batches
            .first()
            .filter(|b| b.num_rows() == 1)
            .map(|b| {
                b.column(0)
                    .as_primitive::<arrow::datatypes::Int64Type>()
                    .value(0)
            })
            .ok_or_else(|| engine_core::EngineError::Internal("count(1) returned no row".into()))?;
        usize::try_from(n)
            .map_err(|_| engine_core::EngineError::Internal(format!("negative count {n}")))
    }
}
