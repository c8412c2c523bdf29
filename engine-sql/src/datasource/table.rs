//! The table over a set of files: one [`FileFormat`] decodes files, this module adds what
//! all formats share: partition columns, projection, partition-value pruning, limits, one
//! scan partition per file, and Spark's `FileScan` line for `explain`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use engine_core::Result;

use super::listing::{FileEntry, Listing};
use super::pruning::{self, ColumnStats, Stat};
use engine_core::expr::Expr;
use engine_core::logical::FilterPushdown;
use engine_core::physical::TableProvider;
use engine_core::physical::plan::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};
use engine_core::types::simple_string;

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
    /// Indices into `data_schema` (a subset of `columns`) of STRING columns to return as
    /// `Dictionary(Int32, Utf8)` arrays; only set for formats whose
    /// [`FileFormat::reads_dictionaries`] is true.
    pub dictionary: &'a [usize],
    /// Filters resolved against the table schema (the format may use them to skip data).
    pub filters: &'a [Expr],
    /// Rows the scan needs at most.
    pub limit: Option<usize>,
    /// The part of the file to read (from [`FileFormat::splits`]); `None` = all of it.
    pub split: Option<&'a [usize]>,
    /// Counters to update.
    pub metrics: &'a Arc<ScanMetrics>,
}

/// A part of a file that one task reads.
#[derive(Debug, Clone, PartialEq)]
pub struct FileSplit {
    /// Format-specific description (`[start, end)` bytes, Parquet row groups); `None` is
    /// the whole file.
    pub part: Option<Vec<usize>>,
    /// About how many bytes it covers (for packing splits into tasks).
    pub bytes: u64,
}

impl FileSplit {
    /// All of `file`.
    pub fn whole(file: &FileEntry) -> Self {
        FileSplit {
            part: None,
            bytes: file.size,
        }
    }
}

/// A file format: decodes one file into batches of `ctx.batch_size()` rows.
pub trait FileFormat: Send + Sync + fmt::Debug {
    /// `csv`, `json`, `parquet`, `text`.
    fn name(&self) -> &'static str;

    /// Reads one file. Batches have exactly the columns of `read.columns` (possibly none,
    /// then only a row count).
    fn open(&self, read: &FileRead<'_>, ctx: &Arc<TaskContext>) -> Result<BatchIter>;

    /// Cuts a file into independently readable parts of about `target_bytes` each, so a
    /// big file is read by several tasks (Parquet: runs of row groups). `vec![None]` means
    /// the file is read whole.
    fn splits(&self, file: &FileEntry, _target_bytes: u64) -> Result<Vec<FileSplit>> {
        Ok(vec![FileSplit::whole(file)])
    }

    /// Whether [`FileFormat::open`] can return STRING columns as `Dictionary(Int32, Utf8)`
    /// arrays ([`FileRead::dictionary`]).
    fn reads_dictionaries(&self) -> bool {
        false
    }

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
        ctx: &Arc<TaskContext>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.scan_with_dictionaries(projection, filters, limit, &[], ctx)
    }

    fn scan_with_dictionaries(
        &self,
        projection: Option<&[usize]>,
        filters: &[Expr],
        limit: Option<usize>,
        dictionary: &[usize],
        ctx: &Arc<TaskContext>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let projection: Vec<usize> = match projection {
            Some(p) => p.to_vec(),
            None => (0..self.schema.fields().len()).collect(),
        };
        // Only data columns of type STRING, and only if the format can.
        let n_data = self.data_schema.fields().len();
        let mut dictionary: Vec<usize> = dictionary
            .iter()
            .copied()
            .filter(|i| {
                self.format.reads_dictionaries()
                    && *i < n_data
                    && projection.contains(i)
                    && self.data_schema.field(*i).data_type() == &DataType::Utf8
            })
            .collect();
        dictionary.sort_unstable();
        dictionary.dedup();
        let schema = Arc::new(Schema::new(
            projection
                .iter()
                .map(|i| {
                    let f = self.schema.field(*i);
                    if dictionary.contains(i) {
                        Arc::new(f.clone().with_data_type(dictionary_utf8()))
                    } else {
                        Arc::new(f.clone())
                    }
                })
                .collect::<Vec<_>>(),
        ));
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
        // Spark's split size: big enough to amortize opening files, small enough to give
        // every core work (`FilePartition.maxSplitBytes`).
        let max_bytes = size_conf(ctx, MAX_PARTITION_BYTES, 128 << 20)?;
        let open_cost = size_conf(ctx, OPEN_COST_IN_BYTES, 4 << 20)?;
        let total: u64 = files.iter().fold(0u64, |t, f| {
            t.saturating_add(f.size.saturating_add(open_cost))
        });
        let per_core = total / ctx.pool.threads().max(1) as u64;
        let max_split = max_bytes.min(open_cost.max(per_core));
        let mut splits = Vec::with_capacity(files.len());
        for (i, f) in files.iter().enumerate() {
            for s in self.format.splits(f, max_split)? {
                splits.push((i, s.part, s.bytes));
            }
        }
        let partitions = pack_splits(splits, max_split, open_cost);
        Ok(Arc::new(FileScanExec {
            partitions,
            roots: self
                .listing
                .roots
                .iter()
                .map(|r| r.display().to_string())
                .collect(),
            shared: Arc::new(ScanShared {
                format: self.format.clone(),
                files,
                data_schema: self.data_schema.clone(),
                projection,
                schema,
                dictionary,
                filters: filters.to_vec(),
                limit,
                metrics: self.metrics.clone(),
            }),
        }))
    }
}

/// `Dictionary(Int32, Utf8)`: how a scan returns a STRING column read as a dictionary.
pub fn dictionary_utf8() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

/// `spark.sql.files.maxPartitionBytes`: the size of one scan task (default 128 MiB).
pub const MAX_PARTITION_BYTES: &str = "spark.sql.files.maxPartitionBytes";

/// `spark.sql.files.openCostInBytes`: what opening a file costs, in bytes (default 4 MiB).
pub const OPEN_COST_IN_BYTES: &str = "spark.sql.files.openCostInBytes";

/// A byte size setting (`134217728`, `128m`, `4MB`).
fn size_conf(ctx: &TaskContext, key: &str, default: u64) -> Result<u64> {
    let Some(v) = ctx.conf.get(key) else {
        return Ok(default);
    };
    let lower = v.trim().to_ascii_lowercase();
    let t = lower.strip_suffix('b').unwrap_or(&lower);
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1u64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| {
            engine_core::EngineError::invalid_option(
                key,
                format!("`{v}` is not a size; use bytes or a size such as `64m`"),
            )
        })
}

/// Reads files: each partition reads a few small files or one split of a big file.
#[derive(Debug)]
pub struct FileScanExec {
    /// The splits (file index, part of the file) of each output partition.
    partitions: Vec<Vec<(usize, Option<Vec<usize>>)>>,
    roots: Vec<String>,
    shared: Arc<ScanShared>,
}

/// What every partition of a scan needs.
#[derive(Debug)]
struct ScanShared {
    format: Arc<dyn FileFormat>,
    files: Vec<FileEntry>,
    data_schema: SchemaRef,
    projection: Vec<usize>,
    schema: SchemaRef,
    /// Data columns read as dictionaries ([`FileRead::dictionary`]).
    dictionary: Vec<usize>,
    filters: Vec<Expr>,
    limit: Option<usize>,
    metrics: Arc<ScanMetrics>,
}

impl FileScanExec {
    /// The files this scan reads (after partition pruning).
    pub fn files(&self) -> &[FileEntry] {
        &self.shared.files
    }
}

impl ExecutionPlan for FileScanExec {
    fn name(&self) -> &'static str {
        "FileScan"
    }

    fn describe(&self) -> String {
        let cols: Vec<&str> = self
            .shared
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        // Spark lists filters on partition columns apart, in SQL form.
        let is_part = |c: &str| self.shared.data_schema.field_with_name(c).is_err();
        let (part, data): (Vec<&Expr>, Vec<&Expr>) = self
            .shared
            .filters
            .iter()
            .partition(|f| pruning::is_prunable(f, &is_part));
        let pushed: Vec<String> = data.into_iter().map(pruning::spark_filter_string).collect();
        let part: Vec<String> = part.into_iter().map(|f| f.to_string()).collect();
        let part = if part.is_empty() {
            String::new()
        } else {
            format!("PartitionFilters: [{}], ", part.join(", "))
        };
        let n_data = self.shared.data_schema.fields().len();
        let read_fields: Vec<Arc<Field>> = self
            .shared
            .projection
            .iter()
            .filter(|i| **i < n_data)
            .map(|i| self.shared.data_schema.fields()[*i].clone())
            .collect();
        let read_schema = arrow::datatypes::DataType::Struct(read_fields.into());
        // Not in Spark's text: the string columns read as Parquet's dictionary codes for the
        // aggregate (see `TableProvider::scan_with_dictionaries`).
        let dictionary: Vec<&str> = self
            .shared
            .schema
            .fields()
            .iter()
            .filter(|f| matches!(f.data_type(), DataType::Dictionary(_, _)))
            .map(|f| f.name().as_str())
            .collect();
        let dictionary = if dictionary.is_empty() {
            String::new()
        } else {
            format!(", DictionaryColumns: [{}]", dictionary.join(", "))
        };
        format!(
            "FileScan {} [{}] Location: [{}], {part}PushedFilters: [{}], ReadSchema: {}{dictionary}",
            self.shared.format.name(),
            cols.join(","),
            self.roots.join(", "),
            pushed.join(", "),
            simple_string(&read_schema)
        )
    }

    fn schema(&self) -> SchemaRef {
        self.shared.schema.clone()
    }

    fn children(&self) -> Vec<ExecutionPlanRef> {
        vec![]
    }

    fn output_partitions(&self) -> usize {
        self.partitions.len().max(1)
    }

    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let Some(splits) = self.partitions.get(partition) else {
            return Ok(Box::new(std::iter::empty()));
        };
        // Files of a partition are opened one after the other, when the previous is done.
        let this = self.shared.clone();
        let ctx = ctx.clone();
        let batches = splits
            .clone()
            .into_iter()
            .flat_map(move |(file_idx, split)| {
                match this.open_split(file_idx, split.as_deref(), &ctx) {
                    Ok(iter) => iter,
                    Err(e) => Box::new(std::iter::once(Err(e))),
                }
            });
        let mut remaining = self.shared.limit.unwrap_or(usize::MAX);
        let iter = batches.map_while(move |batch| {
            if remaining == 0 {
                return None;
            }
            Some(batch.map(|b| {
                let b = if b.num_rows() > remaining {
                    b.slice(0, remaining)
                } else {
                    b
                };
                remaining -= b.num_rows();
                b
            }))
        });
        Ok(Box::new(iter))
    }
}

impl ScanShared {
    /// Reads one split and adds the partition columns, in projection order.
    fn open_split(
        &self,
        file_idx: usize,
        split: Option<&[usize]>,
        ctx: &Arc<TaskContext>,
    ) -> Result<BatchIter> {
        let file = self.files.get(file_idx).ok_or_else(|| {
            engine_core::EngineError::Internal(format!("scan split of unknown file {file_idx}"))
        })?;
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
                dictionary: &self.dictionary,
                filters: &self.filters,
                limit: self.limit,
                split,
                metrics: &self.metrics,
            },
            ctx,
        )?;
        let projection = self.projection.clone();
        let schema = self.schema.clone();
        let values = file.partition_values.clone();
        let iter = inner.map(move |batch| {
            let b = batch?;
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
        });
        Ok(Box::new(iter))
    }
}

/// Spark's packing of file splits into scan partitions (`FilePartition.getFilePartitions`):
/// a partition takes splits, in order, while their bytes plus `open_cost` each stay within
/// `max_bytes`.
pub fn pack_splits(
    splits: Vec<(usize, Option<Vec<usize>>, u64)>,
    max_bytes: u64,
    open_cost: u64,
) -> Vec<Vec<(usize, Option<Vec<usize>>)>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    let mut size = 0u64;
    for (file, split, len) in splits {
        // Saturating: sizes come from settings a user may set to anything.
        if !current.is_empty() && size.saturating_add(len) > max_bytes {
            out.push(std::mem::take(&mut current));
            size = 0;
        }
        size = size.saturating_add(len.saturating_add(open_cost));
        current.push((file, split));
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasource::listing::list_files;
    use crate::datasource::options::Options;
    use crate::datasource::text::{TextFormat, text_schema};
    use engine_core::conf::SessionConf;
    use engine_core::expr::{BinaryOperator, Column};
    use engine_core::physical::plan::collect;
    use engine_core::scalar::ScalarValue;

    #[test]
    fn partition_filters_skip_files_and_partition_columns_are_filled() {
        let dir = tempfile::tempdir().unwrap();
        for (d, text) in [("d=1", "a\nb\n"), ("d=2", "c\n"), ("d=3", "e\n")] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
            std::fs::write(dir.path().join(d).join("x.txt"), text).unwrap();
        }
        let listing = list_files(&[dir.path().display().to_string()]).unwrap();
        let format = Arc::new(TextFormat::new(&Options::default()).unwrap());
        let t = FileTable::new(format, listing, text_schema());
        let filter = Expr::BinaryOp {
            left: Box::new(Expr::Column(Column::new(None, "d"))),
            op: BinaryOperator::GtEq,
            right: Box::new(Expr::Literal(ScalarValue::Int32(Some(2)))),
        };
        assert_eq!(t.supports_filter(&filter), FilterPushdown::Inexact);
        let c = Arc::new(TaskContext::new(Arc::new(SessionConf::new())).unwrap());
        let plan = t.scan(Some(&[1, 0]), &[filter], None, &c).unwrap();
        assert!(
            plan.describe().contains(
                "PartitionFilters: [(d >= 2)], PushedFilters: [], ReadSchema: struct<value:string>"
            ),
            "{}",
            plan.describe()
        );
        assert_eq!(ScanMetrics::get(&t.metrics().files_pruned), 1);
        let b = collect(&plan, &c).unwrap();
        let b = arrow::compute::concat_batches(&plan.schema(), &b).unwrap();
        assert_eq!(b.schema().field(0).name(), "d");
        let d = b
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::Int32Array>()
            .unwrap();
        assert_eq!(d.values().to_vec(), vec![2, 3]);
    }

    #[test]
    fn small_splits_share_a_partition() {
        let s = |f: usize, b: u64| (f, None, b);
        let p = pack_splits(vec![s(0, 10), s(1, 10), s(2, 10), s(3, 50)], 40, 5);
        let files: Vec<Vec<usize>> = p.iter().map(|p| p.iter().map(|x| x.0).collect()).collect();
        assert_eq!(files, vec![vec![0, 1, 2], vec![3]]);
    }

    #[test]
    fn partition_bytes_parse() {
        let mut conf = SessionConf::new();
        conf.set(MAX_PARTITION_BYTES, "64m");
        let c = TaskContext::new(Arc::new(conf)).unwrap();
        assert_eq!(size_conf(&c, MAX_PARTITION_BYTES, 1).unwrap(), 64 << 20);
        let mut conf = SessionConf::new();
        conf.set(MAX_PARTITION_BYTES, "lots");
        let c = TaskContext::new(Arc::new(conf)).unwrap();
        let e = size_conf(&c, MAX_PARTITION_BYTES, 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains(MAX_PARTITION_BYTES), "{e}");
        // Regression (issue 16): a size past u64 overflowed the multiplication.
        let mut conf = SessionConf::new();
        conf.set(MAX_PARTITION_BYTES, "99999999999g");
        let c = TaskContext::new(Arc::new(conf)).unwrap();
        assert!(size_conf(&c, MAX_PARTITION_BYTES, 1).is_err());
        assert_eq!(
            pack_splits(vec![(0, None, u64::MAX), (1, None, 5)], 10, u64::MAX).len(),
            2
        );
    }
}
