//! Plans over small in-memory tables for the rules' tests.

use std::sync::Arc;

use crate::Result;
use arrow::array::{Int32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::expr::{BinaryOperator, Column, Expr};
use crate::logical::{FilterPushdown, LogicalPlan, Scan};
use crate::physical::plan::{ExecutionPlan, TaskContext};
use crate::physical::table::memory::MemTable;
use crate::physical::table::{TableProvider, provider_as_source};

/// `relation.name`, resolved.
pub fn c(relation: &str, name: &str) -> Expr {
    Expr::Column(Column::new(Some(relation), name))
}

/// `left op right`.
pub fn binary(left: Expr, op: BinaryOperator, right: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(left),
        op,
        right: Box::new(right),
    }
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("a", DataType::Int32, true),
        Field::new("b", DataType::Int32, true),
        Field::new("s", DataType::Utf8, true),
    ]))
}

/// A MemTable `(a INT, b INT, s STRING)` with two rows.
pub fn mem_table() -> Arc<dyn TableProvider> {
    let batch = RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(Int32Array::from(vec![Some(1), None])),
            Arc::new(Int32Array::from(vec![Some(2), Some(3)])),
            Arc::new(StringArray::from(vec![Some("x"), None])),
        ],
    )
    .unwrap();
    Arc::new(MemTable::try_new(schema(), vec![vec![batch]]).unwrap())
}

/// A scan of `source` named `qualifier`.
pub fn scan_of(source: Arc<dyn TableProvider>, qualifier: &str) -> Arc<LogicalPlan> {
    Arc::new(LogicalPlan::Scan(Scan {
        source: provider_as_source(source),
        qualifier: Some(qualifier.to_string()),
        projection: None,
        filters: vec![],
        limit: None,
    }))
}

/// A MemTable scan named `t`.
pub fn scan_t() -> Arc<LogicalPlan> {
    scan_of(mem_table(), "t")
}

/// A MemTable scan named `u`.
pub fn scan_u() -> Arc<LogicalPlan> {
    scan_of(mem_table(), "u")
}

/// `Project exprs`.
pub fn project(exprs: Vec<Expr>, input: Arc<LogicalPlan>) -> Arc<LogicalPlan> {
    Arc::new(LogicalPlan::Projection { exprs, input })
}

/// `Filter predicate`.
pub fn filter(predicate: Expr, input: Arc<LogicalPlan>) -> Arc<LogicalPlan> {
    Arc::new(LogicalPlan::Filter { predicate, input })
}

/// `Limit n`.
pub fn limit(n: usize, input: Arc<LogicalPlan>) -> Arc<LogicalPlan> {
    Arc::new(LogicalPlan::Limit { n, input })
}

/// Fails unless both plans have the same output names and types.
pub fn assert_same_schema(a: &Arc<LogicalPlan>, b: &Arc<LogicalPlan>) {
    let (sa, sb) = (a.schema().unwrap(), b.schema().unwrap());
    let names = |s: &crate::schema::PlanSchema| -> Vec<(Option<String>, String, DataType)> {
        s.fields()
            .iter()
            .map(|f| {
                (
                    f.qualifier.clone(),
                    f.name().to_string(),
                    f.field.data_type().clone(),
                )
            })
            .collect()
    };
    assert_eq!(names(&sa), names(&sb));
}

/// A source that can use every filter, but only approximately (like Parquet statistics),
/// or exactly, as configured.
#[derive(Debug)]
pub struct FilteringSource {
    /// What `supports_filter` answers.
    pub pushdown: FilterPushdown,
}

impl TableProvider for FilteringSource {
    fn schema(&self) -> SchemaRef {
        schema()
    }

    fn describe(&self) -> String {
        "FilteringSource".into()
    }

    fn supports_filter(&self, _filter: &Expr) -> FilterPushdown {
        self.pushdown
    }

    fn scan(
        &self,
        projection: Option<&[usize]>,
        filters: &[Expr],
        limit: Option<usize>,
        ctx: &Arc<TaskContext>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        mem_table().scan(projection, filters, limit, ctx)
    }
}
