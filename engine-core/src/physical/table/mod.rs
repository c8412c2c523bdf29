//! Tables the physical planner can scan, and the bridge to their logical view.
//!
//! A [`TableProvider`] is what a data source implements (files, memory, a connector, a
//! streaming batch). Logical plans see it through [`provider_as_source`] as a
//! [`TableSource`] (schema, `explain` text, filter pushdown) and the physical planner gets
//! it back with [`source_as_provider`], the split DataFusion makes between its
//! `TableSource` and `TableProvider`: it keeps the logical layer free of execution types.

pub mod memory;

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;

use crate::expr::Expr;
use crate::logical::{FilterPushdown, TableSource};
use crate::physical::plan::{ExecutionPlan, TaskContext};
use crate::{EngineError, Result};

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

/// The logical view of a [`TableProvider`]: what `LogicalPlan::Scan` holds.
#[derive(Debug)]
pub struct ProviderSource {
    provider: Arc<dyn TableProvider>,
}

impl ProviderSource {
    /// The provider behind this view.
    pub fn provider(&self) -> &Arc<dyn TableProvider> {
        &self.provider
    }
}

impl TableSource for ProviderSource {
    fn schema(&self) -> SchemaRef {
        self.provider.schema()
    }

    fn describe(&self) -> String {
        self.provider.describe()
    }

    fn supports_filter(&self, filter: &Expr) -> FilterPushdown {
        self.provider.supports_filter(filter)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `provider` as the source of a logical scan.
pub fn provider_as_source(provider: Arc<dyn TableProvider>) -> Arc<dyn TableSource> {
    Arc::new(ProviderSource { provider })
}

/// The provider behind a logical scan's `source`; an internal error for a source that was
/// not made by [`provider_as_source`].
pub fn source_as_provider(source: &dyn TableSource) -> Result<&Arc<dyn TableProvider>> {
    source
        .as_any()
        .downcast_ref::<ProviderSource>()
        .map(ProviderSource::provider)
        .ok_or_else(|| {
            EngineError::Internal(format!(
                "the scan of {} has no table provider to execute it",
                source.describe()
            ))
        })
}
