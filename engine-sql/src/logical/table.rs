//! Data sources as the planner sees them.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use engine_core::Result;

use crate::expr::Expr;
use crate::physical::plan::{ExecutionPlan, TaskContext};

/// How much of a pushed-down filter a source applies itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterPushdown {
    /// The source ignores it; the engine filters every row.
    Unsupported,
    /// The source skips some data with it (Parquet row groups) but may return rows that do
    /// not match; the engine still filters.
    Inexact,
    /// The source returns exactly the matching rows.
    Exact,
}

/// A table the planner can scan: a file directory, an in-memory relation, a view's source.
pub trait TableProvider: Send + Sync + fmt::Debug {
    /// The full schema, before projection.
    fn schema(&self) -> SchemaRef;

    /// One line for `explain`: `csv [/data/orders.csv]`.
    fn describe(&self) -> String;

    /// How this source handles `filter` if the optimizer pushes it into the scan.
    fn supports_filter(&self, _filter: &Expr) -> FilterPushdown {
        FilterPushdown::Unsupported
    }

    /// An executable scan that reads only `projection` (indices into [`Self::schema`]),
    /// may skip data with `filters` (resolved against the full schema) and may stop after
    /// `limit` rows.
    fn scan(
        &self,
        projection: Option<&[usize]>,
        filters: &[Expr],
        limit: Option<usize>,
        ctx: &Arc<TaskContext>,
    ) -> Result<Arc<dyn ExecutionPlan>>;

    /// [`Self::scan`], with a hint that the STRING columns `dictionary` (indices into
    /// [`Self::schema`], all within the projection) are only used as grouping keys, so the
    /// source may return them as `Dictionary(Int32, Utf8)` arrays if it has them encoded
    /// that way (Parquet), sparing the decoding into plain strings. The returned plan's
    /// schema says which columns it actually returns as dictionaries; the default ignores
    /// the hint.
    fn scan_with_dictionaries(
        &self,
        projection: Option<&[usize]>,
        filters: &[Expr],
        limit: Option<usize>,
        _dictionary: &[usize],
        ctx: &Arc<TaskContext>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.scan(projection, filters, limit, ctx)
    }
}
