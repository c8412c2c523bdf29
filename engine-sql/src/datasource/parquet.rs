//! Parquet: reads only the requested columns (a `ProjectionMask`) and skips row groups
//! whose min/max statistics prove that the pushed filters match no row.

use std::fs::File;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, new_null_array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use engine_core::{EngineError, Result};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::metadata::RowGroupMetaData;
use parquet::file::statistics::Statistics;

use super::listing::FileEntry;
use super::pruning::{self, ColumnStats, Stat};
use super::table::{FileFormat, FileRead, ScanMetrics};
use crate::expr::Expr;
use crate::logical::FilterPushdown;
use crate::physical::plan::{BatchIter, TaskContext};
use crate::types::timestamp_type;

fn open(path: &std::path::Path) -> Result<ParquetRecordBatchReaderBuilder<File>> {
    let file =
        File::open(path).map_err(|e| EngineError::io(format!("reading {}", path.display()), e))?;
    ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| {
        EngineError::external(format!("reading parquet footer of {}", path.display()), e)
    })
}

/// Spark's view of a Parquet column type: instants are TIMESTAMP (microseconds, UTC),
/// wall-clock times TIMESTAMP_NTZ.
fn spark_type(dt: &DataType) -> DataType {
    match dt {
        DataType::Timestamp(_, Some(_)) => timestamp_type(),
        DataType::Timestamp(_, None) => DataType::Timestamp(TimeUnit::Microsecond, None),
        DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
        DataType::LargeBinary | DataType::BinaryView => DataType::Binary,
        other => other.clone(),
    }
}

/// The schema of the first file (Spark's default without `mergeSchema`).
pub fn infer_schema(files: &[FileEntry]) -> Result<Option<SchemaRef>> {
    let Some(first) = files.first() else {
        return Ok(None);
    };
    let builder = open(&first.path)?;
    let fields: Vec<Field> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| Field::new(f.name(), spark_type(f.data_type()), true))
        .collect();
    Ok(Some(Arc::new(Schema::new(fields))))
}

/// The parquet [`FileFormat`].
#[derive(Debug, Clone, Default)]
pub struct ParquetFormat;

impl ParquetFormat {
    /// The format.
    pub fn new() -> Self {
        ParquetFormat
    }
}

fn stat_of(s: &Statistics, min: bool) -> Option<Stat> {
    Some(match s {
        Statistics::Boolean(v) => Stat::Bool(*if min { v.min_opt() } else { v.max_opt() }?),
        Statistics::Int32(v) => Stat::Int(*if min { v.min_opt() } else { v.max_opt() }? as i128),
        Statistics::Int64(v) => Stat::Int(*if min { v.min_opt() } else { v.max_opt() }? as i128),
        Statistics::Float(v) => Stat::Float(*if min { v.min_opt() } else { v.max_opt() }? as f64),
        Statistics::Double(v) => Stat::Float(*if min { v.min_opt() } else { v.max_opt() }?),
        Statistics::ByteArray(v) => {
            let b = if min { v.min_opt() } else { v.max_opt() }?;
            Stat::Str(std::str::from_utf8(b.data()).ok()?.to_string())
        }
        _ => return None,
    })
}

/// Statistics of the top-level column `name` in one row group.
fn row_group_stats(rg: &RowGroupMetaData, file_schema: &Schema, name: &str) -> Option<ColumnStats> {
    let field = file_schema.field_with_name(name).ok()?;
    let leaf = rg
        .columns()
        .iter()
        .position(|c| c.column_path().parts() == [name.to_string()])?;
    let s = rg.column(leaf).statistics()?;
    let float = matches!(s, Statistics::Float(_) | Statistics::Double(_));
    Some(ColumnStats {
        data_type: spark_type(field.data_type()),
        // NaN is not ordered: float bounds are unreliable if NaN may be present.
        min: if float { None } else { stat_of(s, true) },
        max: if float { None } else { stat_of(s, false) },
        null_count: s.null_count_opt(),
        row_count: rg.num_rows() as u64,
    })
    .map(|mut st| {
        if float {
            st.min = stat_of(s, true).filter(|v| !matches!(v, Stat::Float(f) if f.is_nan()));
            st.max = stat_of(s, false).filter(|v| !matches!(v, Stat::Float(f) if f.is_nan()));
        }
        st
    })
}

fn is_primitive(dt: &DataType) -> bool {
    !matches!(
        dt,
        DataType::List(_) | DataType::LargeList(_) | DataType::Struct(_) | DataType::Map(_, _)
    )
}

impl FileFormat for ParquetFormat {
    fn name(&self) -> &'static str {
        "parquet"
    }

    fn supports_filter(&self, filter: &Expr, data_schema: &SchemaRef) -> FilterPushdown {
        let known = |c: &str| {
            data_schema
                .field_with_name(c)
                .is_ok_and(|f| is_primitive(f.data_type()))
        };
        if pruning::is_prunable(filter, &known) {
            FilterPushdown::Inexact
        } else {
            FilterPushdown::Unsupported
        }
    }

    fn open(&self, read: &FileRead<'_>, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let path = read.file.path.clone();
        let builder = open(&path)?;
        let file_schema = builder.schema().clone();
        // Table columns are matched to file columns by name (case-insensitively, as Spark).
        let wanted: Vec<(Arc<Field>, Option<usize>)> = read
            .columns
            .iter()
            .map(|i| {
                let f = read.data_schema.fields()[*i].clone();
                let pos = file_schema.index_of(f.name()).ok().or_else(|| {
                    file_schema
                        .fields()
                        .iter()
                        .position(|ff| ff.name().eq_ignore_ascii_case(f.name()))
                });
                (f, pos)
            })
            .collect();
        let mut roots: Vec<usize> = wanted.iter().filter_map(|(_, p)| *p).collect();
        roots.sort_unstable();
        roots.dedup();
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots.iter().copied());

        let meta = builder.metadata().clone();
        let known = |c: &str| {
            file_schema
                .field_with_name(c)
                .is_ok_and(|f| is_primitive(f.data_type()))
        };
        let usable: Vec<&Expr> = read
            .filters
            .iter()
            .filter(|f| pruning::is_prunable(f, &known))
            .collect();
        let selected: Vec<usize> = (0..meta.num_row_groups())
            .filter(|rg| {
                let rg = meta.row_group(*rg);
                !usable
                    .iter()
                    .any(|f| pruning::can_skip(f, &|c| row_group_stats(rg, &file_schema, c)))
            })
            .collect();
        ScanMetrics::add(&read.metrics.row_groups_read, selected.len());
        ScanMetrics::add(
            &read.metrics.row_groups_pruned,
            meta.num_row_groups() - selected.len(),
        );

        let mut builder = builder
            .with_projection(mask)
            .with_row_groups(selected)
            .with_batch_size(ctx.batch_size().max(1));
        if let Some(l) = read.limit {
            builder = builder.with_limit(l);
        }
        let reader = builder
            .build()
            .map_err(|e| EngineError::external(format!("reading {}", path.display()), e))?;
        let out_schema = Arc::new(read.data_schema.project(read.columns)?);
        let display = path.display().to_string();
        let iter = reader.map(move |batch| {
            let batch =
                batch.map_err(|e| EngineError::external(format!("reading {display}"), e))?;
            let n = batch.num_rows();
            let cols = wanted
                .iter()
                .map(|(f, pos)| {
                    let col = pos.and_then(|p| {
                        let name = file_schema.field(p).name();
                        batch
                            .schema()
                            .index_of(name)
                            .ok()
                            .map(|i| batch.column(i).clone())
                    });
                    match col {
                        Some(c) if c.data_type() == f.data_type() => Ok(c),
                        Some(c) => Ok(cast(&c, f.data_type())?),
                        None => Ok(new_null_array(f.data_type(), n)),
                    }
                })
                .collect::<Result<Vec<ArrayRef>>>()?;
            let opts = RecordBatchOptions::new().with_row_count(Some(n));
            Ok(RecordBatch::try_new_with_options(
                out_schema.clone(),
                cols,
                &opts,
            )?)
        });
        Ok(Box::new(iter))
    }
}
