//! Data sources as the logical planner sees them: a schema, a name for `explain`, and how
//! far a filter can be pushed into them.
//!
//! Scanning is not part of this view: [`crate::physical::table::TableProvider`] adds it, so
//! logical plans (and the analyzer and optimizer working on them) do not depend on the
//! execution engine. A plan holds an `Arc<dyn TableSource>`; the physical planner gets the
//! provider back from it with [`crate::physical::table::source_as_provider`].

use std::any::Any;
use std::fmt;

use arrow::datatypes::SchemaRef;

use crate::expr::Expr;

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

/// A table as logical planning sees it: a file directory, an in-memory relation, a view's
/// source.
pub trait TableSource: Send + Sync + fmt::Debug {
    /// The full schema, before projection.
    fn schema(&self) -> SchemaRef;

    /// One line for `explain`: `csv [/data/orders.csv]`.
    fn describe(&self) -> String;

    /// How this source handles `filter` if the optimizer pushes it into the scan.
    fn supports_filter(&self, _filter: &Expr) -> FilterPushdown {
        FilterPushdown::Unsupported
    }

    /// The concrete object, so the physical planner can find the scan behind this view.
    fn as_any(&self) -> &dyn Any;
}
