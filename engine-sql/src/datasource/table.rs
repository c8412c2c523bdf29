//! The table over a set of files: one [`FileFormat`] decodes files, this module adds what
//! all formats share: partition columns, projection, partition-value pruning, limits, one
//! scan partition per file, and Spark's `FileScan` line for `explain`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::datatypes::{Field, Schema, SchemaRef};
use engine_core::Result;

use super::listing::{FileEntry, Listing};
use super::pruning::{self, ColumnStats, Stat};
use crate::expr::Expr;
use crate::logical::{FilterPushdown, TableProvider};
use crate::physical::plan::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};
use crate::types::simple_string;

/// Counters a scan updates while it runs (for metrics and tests).
#[derive(Debug, Default)]
pub struct ScanMetrics {
    /// Records dropped (DROPMALFORMED) or nulled (PERMISSIVE) because they were malformed.
    pub malformed_records: AtomicUsize,
    /// Files skipped because their partition values cannot match the filters.
    pub files_pruned: AtomicUsize,
    /// Parquet row groups decoded.
    pub row_groups_read: AtomicUsize,
    /// Parquet row groups skipped by their statistics.
    pub row_groups_pruned: AtomicUsize,
}

impl ScanMetrics {
    /// The current value of a counter.
    pub fn get(counter: &AtomicUsize) -> usize {
        counter.load(Ordering::Relaxed)
    }

    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicUsize, n: usize) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// What a file format needs to read one file.
#[derive(Debug, Clone)]
pub struct FileRead<'a> {
    /// The file.
    pub file: &'a FileEntry,
    /// The table's data schema (without partition columns).
    pub data_schema: &'a SchemaRef,
    /// Indices into `data_schema`, ascending: the columns the batches must have, in order.
    pub columns: &'a [usize],
    /// Filters resolved against the table schema (the format may use them to skip data).
    pub filters: &'a [Expr],
    /// Rows the scan needs at most.
    pub limit: Option<usize>,
    /// Counters to update.
    pub metrics: &'a Arc<ScanMetrics>,
}

/// A file format: decodes one file into batches of `ctx.batch_size()` rows.
pub trait FileFormat: Send + Sync + fmt::Debug {
    /// `csv`, `json`, `parquet`, `text`.
    fn name(&self) -> &'static str;

    /// Reads one file. Batches have exactly the columns of `read.columns` (possibly none,
    /// then only a row count).
    fn open(&self, read: &FileRead<'_>, ctx: &Arc<TaskContext>) -> Result<BatchIter>;

    /// How the format uses a filter on its data columns.
    fn supports_filter(&self, _filter: &Expr, _data_schema: &SchemaRef) -> FilterPushdown {
        FilterPushdown::Unsupported
    }
}

/// Picks `columns` of a batch; keeps the row count when no column is left.
pub fn project_batch(batch: &RecordBatch, columns: &[usize]) -> Result<RecordBatch> {
    if columns.is_empty() {
        let schema = Arc::new(Schema::empty());
        let opts = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
        return Ok(RecordBatch::try_new_with_options(schema, vec![], &opts)?);
    }
    Ok(batch.project(columns)?)
}

/// A table over files of one format.
#[derive(Debug)]
pub struct FileTable {
    format: Arc<dyn FileFormat>,
    listing: Listing,
    data_schema: SchemaRef,
    schema: SchemaRef,
    metrics: Arc<ScanMetrics>,
}

impl FileTable {
    /// A table of `listing`'s files with `data_schema` plus the listing's partition columns
    /// (a partition column that is also in the data schema is taken from the directory).
    pub fn new(format: Arc<dyn FileFormat>, listing: Listing, data_schema: SchemaRef) -> Self {
        let part_names: Vec<&String> = listing
            .partition_schema
            .fields()
            .iter()
            .map(|f| f.name())
            .collect();
        let data_fields: Vec<Arc<Field>> = data_schema
            .fields()
            .iter()
            .filter(|f| !part_names.iter().any(|p| p.eq_ignore_ascii_case(f.name())))
            .cloned()
            .collect();
        let data_schema = Arc::new(Schema::new(data_fields));
        let mut fields: Vec<Arc<Field>> = data_schema.fields().iter().cloned().collect();
        fields.extend(listing.partition_schema.fields().iter().cloned());
        FileTable {
            format,
            listing,
            data_schema,
            schema: Arc::new(Schema::new(fields)),
            metrics: Arc::new(ScanMetrics::default()),
        }
    }

    /// The counters of every scan of this table.
    pub fn metrics(&self) -> &Arc<ScanMetrics> {
        &self.metrics
    }

    /// The files.
    pub fn listing(&self) -> &Listing {
        &self.listing
    }

    fn is_partition_column(&self, name: &str) -> bool {
        self.listing
            .partition_schema
            .fields()
            .iter()
            .any(|f| f.name() == name)
    }

    fn partition_stats(&self, file: &FileEntry, name: &str) -> Option<ColumnStats> {
        let idx = self.listing.partition_schema.index_of(name).ok()?;
        let v = file.partition_values.get(idx)?;
        let s = Stat::from_scalar(v);
        Some(ColumnStats {
            data_type: self.listing.partition_schema.field(idx).data_type().clone(),
            min: s.clone(),
            max: s,
            null_count: Some(u64::from(v.is_null())),
            row_count: 1,
        })
    }
}

impl TableProvider for FileTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn describe(&self) -> String {
        let roots: Vec<String> = self
            .listing
            .roots
            .iter()
            .map(|r| r.display().to_string())
            .collect();
        format!("{} [{}]", self.format.name(), roots.join(", "))
    }

    fn supports_filter(&self, filter: &Expr) -> FilterPushdown {
        if pruning::is_prunable(filter, &|c| self.is_partition_column(c)) {
            return FilterPushdown::Inexact;
        }
        self.format.supports_filter(filter, &self.data_schema)
    }

    fn scan(
        &self,
        projection: Option<&[usize]>,
        filters: &[Expr],
        limit: Option<usize>,
        _ctx: &Arc<TaskContext>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let projection: Vec<usize> = match projection {
            Some(p) => p.to_vec(),
            None => (0..self.schema.fields().len()).collect(),
        };
        let schema = Arc::new(self.schema.project(&projection)?);
        let files: Vec<FileEntry> = self
            .listing
            .files
            .iter()
            .filter(|f| {
                let skip = filters.iter().any(|flt| {
                    pruning::is_prunable(flt, &|c| self.is_partition_column(c))
                        && pruning::can_skip(flt, &|c| self.partition_stats(f, c))
                });
                if skip {
                    ScanMetrics::add(&self.metrics.files_pruned, 1);
                }
                !skip
            })
            .cloned()
            .collect();
        Ok(Arc::new(FileScanExec {
            format: self.format.clone(),
            roots: self
                .listing
                .roots
                .iter()
                .map(|r| r.display().to_string())
                .collect(),
            files,
            data_schema: self.data_schema.clone(),
            projection,
            schema,
            filters: filters.to_vec(),
            limit,
            metrics: self.metrics.clone(),
        }))
    }
}

/// Reads files, one partition per file.
#[derive(Debug)]
pub struct FileScanExec {
    format: Arc<dyn FileFormat>,
    roots: Vec<String>,
    files: Vec<FileEntry>,
    data_schema: SchemaRef,
    projection: Vec<usize>,
    schema: SchemaRef,
    filters: Vec<Expr>,
    limit: Option<usize>,
    metrics: Arc<ScanMetrics>,
}

impl FileScanExec {
    /// The files this scan reads (after partition pruning).
    pub fn files(&self) -> &[FileEntry] {
        &self.files
    }
}

impl ExecutionPlan for FileScanExec {
    fn name(&self) -> &'static str {
        "FileScan"
    }

    fn describe(&self) -> String {
        let cols: Vec<&str> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        let pushed: Vec<String> = self
            .filters
            .iter()
            .map(pruning::spark_filter_string)
            .collect();
        let n_data = self.data_schema.fields().len();
        let read_fields: Vec<Arc<Field>> = self
            .projection
            .iter()
            .filter(|i| **i < n_data)
            .map(|i| self.data_schema.fields()[*i].clone())
            .collect();
        let read_schema = arrow::datatypes::DataType::Struct(read_fields.into());
        format!(
            "FileScan {} [{}] Location: [{}], PushedFilters: [{}], ReadSchema: {}",
            self.format.name(),
            cols.join(","),
            self.roots.join(", "),
            pushed.join(", "),
            simple_string(&read_schema)
        )
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn children(&self) -> Vec<ExecutionPlanRef> {
        vec![]
    }

    fn output_partitions(&self) -> usize {
        self.files.len().max(1)
    }

    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let Some(file) = self.files.get(partition) else {
            return Ok(Box::new(std::iter::empty()));
        };
        let n_data = self.data_schema.fields().len();
        let mut columns: Vec<usize> = self
            .projection
            .iter()
            .copied()
            .filter(|i| *i < n_data)
            .collect();
        columns.sort_unstable();
        columns.dedup();
        let inner = self.format.open(
            &FileRead {
                file,
                data_schema: &self.data_schema,
                columns: &columns,
                filters: &self.filters,
                limit: self.limit,
                metrics: &self.metrics,
            },
            ctx,
        )?;
        let projection = self.projection.clone();
        let schema = self.schema.clone();
        let values = file.partition_values.clone();
        let mut remaining = self.limit.unwrap_or(usize::MAX);
        let iter = inner.map_while(move |batch| {
            if remaining == 0 {
                return None;
            }
            Some(batch.and_then(|b| {
                let b = if b.num_rows() > remaining {
                    b.slice(0, remaining)
                } else {
                    b
                };
                remaining -= b.num_rows();
                let n = b.num_rows();
                let cols = projection
                    .iter()
                    .map(|i| {
                        if *i < n_data {
                            let pos = columns.binary_search(i).unwrap_or(0);
                            Ok(b.column(pos).clone())
                        } else {
                            values[*i - n_data].to_array(n)
                        }
                    })
                    .collect::<Result<Vec<ArrayRef>>>()?;
                let opts = RecordBatchOptions::new().with_row_count(Some(n));
                Ok(RecordBatch::try_new_with_options(
                    schema.clone(),
                    cols,
                    &opts,
                )?)
            }))
        });
        Ok(Box::new(iter))
    }
}
