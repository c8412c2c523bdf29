//! Parquet: reads only the requested columns (a `ProjectionMask`) and skips row groups
//! whose min/max statistics prove that the pushed filters match no row.

use std::fs::File;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, DictionaryArray, Int32Array, RecordBatch, RecordBatchOptions, new_null_array,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef, TimeUnit};
use engine_core::{EngineError, Result};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::basic::{Encoding, PageType};
use parquet::file::metadata::RowGroupMetaData;
use parquet::file::statistics::Statistics;

use super::listing::FileEntry;
use super::pruning::{self, ColumnStats, Stat};
use super::table::{FileFormat, FileRead, FileSplit, ScanMetrics, dictionary_utf8};
use engine_core::expr::Expr;
use engine_core::logical::FilterPushdown;
use engine_core::physical::plan::{BatchIter, TaskContext};
use engine_core::types::timestamp_type;

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
    let descr = builder.parquet_schema();
    // Spark writes timestamps as INT96 by default: instants, though Arrow reads them as
    // zone-less nanoseconds.
    let int96 = |name: &str| {
        descr.columns().iter().any(|c| {
            c.path().parts() == [name.to_string()]
                && c.physical_type() == parquet::basic::Type::INT96
        })
    };
    let fields: Vec<Field> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| {
            let dt = if int96(f.name()) {
                timestamp_type()
            } else {
                spark_type(f.data_type())
            };
            Field::new(f.name(), dt, true)
        })
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

/// Whether every data page of the top-level column `name` in a row group is dictionary
/// encoded (from the page encoding statistics; without them, no).
fn all_dictionary_encoded(rg: &RowGroupMetaData, name: &str) -> bool {
    let Some(c) = rg
        .columns()
        .iter()
        .find(|c| c.column_path().parts() == [name.to_string()])
    else {
        return false;
    };
    let dict = |e: &Encoding| matches!(e, Encoding::PLAIN_DICTIONARY | Encoding::RLE_DICTIONARY);
    c.dictionary_page_offset().is_some()
        && (c.page_encoding_stats_mask().is_some_and(|m| {
            m.is_only(Encoding::PLAIN_DICTIONARY) || m.is_only(Encoding::RLE_DICTIONARY)
        }) || c.page_encoding_stats().is_some_and(|stats| {
            stats
                .iter()
                .filter(|s| matches!(s.page_type, PageType::DATA_PAGE | PageType::DATA_PAGE_V2))
                .all(|s| dict(&s.encoding))
        }))
}

/// A STRING column as a `Dictionary(Int32, Utf8)` whose values are its rows (no hashing).
fn identity_dictionary(c: ArrayRef) -> Result<ArrayRef> {
    let c = if c.data_type() == &DataType::Utf8 {
        c
    } else {
        cast(&c, &DataType::Utf8)?
    };
    let n = i32::try_from(c.len())
        .map_err(|_| EngineError::Internal(format!("a batch of {} rows is too big", c.len())))?;
    let keys = Int32Array::from_iter_values(0..n);
    Ok(Arc::new(DictionaryArray::<Int32Type>::try_new(keys, c)?))
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

    fn splits(&self, file: &FileEntry, target_bytes: u64) -> Result<Vec<FileSplit>> {
        if file.size <= target_bytes {
            return Ok(vec![FileSplit::whole(file)]);
        }
        // Runs of consecutive row groups of about `target_bytes` (compressed) each.
        let builder = open(&file.path)?;
        let meta = builder.metadata();
        let mut out = Vec::new();
        let mut current = Vec::new();
        let mut bytes = 0u64;
        for rg in 0..meta.num_row_groups() {
            current.push(rg);
            bytes += meta.row_group(rg).compressed_size().max(0) as u64;
            if bytes >= target_bytes {
                out.push(FileSplit {
                    part: Some(std::mem::take(&mut current)),
                    bytes,
                });
                bytes = 0;
            }
        }
        if !current.is_empty() {
            out.push(FileSplit {
                part: Some(current),
                bytes,
            });
        }
        if out.is_empty() {
            out.push(FileSplit::whole(file));
        }
        Ok(out)
    }

    fn reads_dictionaries(&self) -> bool {
        true
    }

    fn open(&self, read: &FileRead<'_>, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let path = read.file.path.clone();
        let mut builder = open(&path)?;
        let file_schema = builder.schema().clone();
        // Table columns are matched to file columns by name (case-insensitively, as Spark).
        // Columns of `read.dictionary` are wanted as dictionaries.
        let wanted: Vec<(Arc<Field>, Option<usize>)> = read
            .columns
            .iter()
            .map(|i| {
                let mut f = read.data_schema.fields()[*i].clone();
                if read.dictionary.contains(i) {
                    f = Arc::new(f.as_ref().clone().with_data_type(dictionary_utf8()));
                }
                let pos = file_schema.index_of(f.name()).ok().or_else(|| {
                    file_schema
                        .fields()
                        .iter()
                        .position(|ff| ff.name().eq_ignore_ascii_case(f.name()))
                });
                (f, pos)
            })
            .collect();
        let meta = builder.metadata().clone();
        let candidates: Vec<usize> = match read.split {
            Some(s) => s.to_vec(),
            None => (0..meta.num_row_groups()).collect(),
        };
        // Ask the reader to keep those of them stored as dictionary-encoded Parquet strings
        // as Arrow dictionaries: it then hands out the column chunk's dictionary page and
        // the codes instead of gathering every row's string into a fresh array. A column
        // whose pages fell back to plain encoding (too many distinct values) is read as
        // strings and wrapped in a dictionary of its own rows: the reader would hash every
        // row to build a dictionary, work the aggregate's lookups repeat anyway.
        let dict_positions: Vec<usize> = wanted
            .iter()
            .filter(|(f, _)| matches!(f.data_type(), DataType::Dictionary(..)))
            .filter_map(|(_, pos)| *pos)
            .filter(|p| {
                let f = file_schema.field(*p);
                f.data_type() == &DataType::Utf8
                    && candidates
                        .iter()
                        .all(|rg| all_dictionary_encoded(meta.row_group(*rg), f.name()))
            })
            .collect();
        if !dict_positions.is_empty() {
            let fields: Vec<Arc<Field>> = file_schema
                .fields()
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    if dict_positions.contains(&i) {
                        Arc::new(f.as_ref().clone().with_data_type(dictionary_utf8()))
                    } else {
                        f.clone()
                    }
                })
                .collect();
            let dict_schema = Arc::new(Schema::new_with_metadata(
                fields,
                file_schema.metadata().clone(),
            ));
            let options = ArrowReaderOptions::new().with_schema(dict_schema);
            let meta =
                ArrowReaderMetadata::try_new(builder.metadata().clone(), options).map_err(|e| {
                    EngineError::external(format!("reading {} as dictionaries", path.display()), e)
                })?;
            let file = File::open(&path)
                .map_err(|e| EngineError::io(format!("reading {}", path.display()), e))?;
            builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta);
        }
        let mut roots: Vec<usize> = wanted.iter().filter_map(|(_, p)| *p).collect();
        roots.sort_unstable();
        roots.dedup();
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots.iter().copied());

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
        let n_candidates = candidates.len();
        let selected: Vec<usize> = candidates
            .into_iter()
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
            n_candidates - selected.len(),
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
        let out_schema = Arc::new(Schema::new(
            wanted.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>(),
        ));
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
                        Some(c) if matches!(f.data_type(), DataType::Dictionary(..)) => {
                            identity_dictionary(c)
                        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasource::listing::list_files;
    use crate::datasource::table::FileTable;
    use arrow::array::{AsArray, Int64Array, StringArray};
    use engine_core::conf::SessionConf;
    use engine_core::expr::{BinaryOperator, Column};
    use engine_core::physical::TableProvider;
    use engine_core::physical::plan::collect;
    use engine_core::scalar::ScalarValue;
    use parquet::file::properties::WriterProperties;

    /// 100 rows in row groups of 10: `id` 0..100, `name` "n<id>".
    fn write_file(path: &std::path::Path) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("name", DataType::Utf8, true),
        ]));
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(10))
            .build();
        let file = File::create(path).unwrap();
        let mut w =
            parquet::arrow::ArrowWriter::try_new(file, schema.clone(), Some(props)).unwrap();
        let ids: Vec<i64> = (0..100).collect();
        let names: Vec<String> = ids.iter().map(|i| format!("n{i}")).collect();
        let b = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(ids)),
                Arc::new(StringArray::from(names)),
            ],
        )
        .unwrap();
        w.write(&b).unwrap();
        w.close().unwrap();
    }

    /// Reads column `name` of 100 rows of 10 distinct values in row groups of 30, written
    /// with or without dictionary encoding, asking for a dictionary, in batches of 10;
    /// returns each batch's dictionary values.
    fn read_as_dictionary(dictionary_encoded: bool) -> Vec<ArrayRef> {
        let dir = tempfile::tempdir().unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("name", DataType::Utf8, true),
        ]));
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(30))
            .set_dictionary_enabled(dictionary_encoded)
            .build();
        let file = File::create(dir.path().join("a.parquet")).unwrap();
        let mut w =
            parquet::arrow::ArrowWriter::try_new(file, schema.clone(), Some(props)).unwrap();
        let names: Vec<Option<String>> = (0..100)
            .map(|i| (i % 7 != 3).then(|| format!("n{}", i % 10)))
            .collect();
        let b = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from((0..100).collect::<Vec<i64>>())),
                Arc::new(StringArray::from(names.clone())),
            ],
        )
        .unwrap();
        w.write(&b).unwrap();
        w.close().unwrap();
        let listing = list_files(&[dir.path().display().to_string()]).unwrap();
        let schema = infer_schema(&listing.files).unwrap().unwrap();
        let t = FileTable::new(Arc::new(ParquetFormat::new()), listing, schema);
        let mut conf = SessionConf::new();
        conf.set(engine_core::conf::BATCH_SIZE, "10");
        let c = Arc::new(TaskContext::new(Arc::new(conf)).unwrap());
        let plan = t
            .scan_with_dictionaries(Some(&[1, 0]), &[], None, &[1], &c)
            .unwrap();
        assert_eq!(plan.schema().field(0).data_type(), &dictionary_utf8());
        assert_eq!(plan.schema().field(1).data_type(), &DataType::Int64);
        let mut dictionaries = Vec::new();
        let mut values = Vec::new();
        for b in collect(&plan, &c).unwrap() {
            assert_eq!(b.column(0).data_type(), &dictionary_utf8());
            let d = b.column(0).as_dictionary::<Int32Type>();
            dictionaries.push(d.values().clone());
            let plain = cast(b.column(0), &DataType::Utf8).unwrap();
            values.extend(plain.as_string::<i32>().iter().map(|v| v.map(String::from)));
        }
        assert_eq!(values, names);
        dictionaries
    }

    #[test]
    fn strings_read_as_dictionaries() {
        // Dictionary pages come through as dictionaries: a row group's (at most 10 values),
        // the same buffers for each batch of the row group, which the hash aggregate
        // relies on to look each value up once per row group.
        let dicts = read_as_dictionary(true);
        assert_eq!(dicts.len(), 10);
        assert!(dicts.iter().all(|d| d.len() <= 10));
        let buffer = |d: &ArrayRef| d.to_data().buffers()[1].as_ptr();
        assert_eq!(buffer(&dicts[0]), buffer(&dicts[1]));
        assert_eq!(buffer(&dicts[0]), buffer(&dicts[2]));
        assert_ne!(buffer(&dicts[0]), buffer(&dicts[3]));
        // Plain pages are wrapped, one value per row (no hashing).
        let dicts = read_as_dictionary(false);
        assert!(dicts.iter().all(|d| d.len() == 10));
    }

    fn cmp(op: BinaryOperator, v: i64) -> Expr {
        Expr::BinaryOp {
            left: Box::new(Expr::Column(Column::new(None, "id"))),
            op,
            right: Box::new(Expr::Literal(ScalarValue::Int64(Some(v)))),
        }
    }

    #[test]
    fn prunes_row_groups_and_projects() {
        let dir = tempfile::tempdir().unwrap();
        write_file(&dir.path().join("a.parquet"));
        let listing = list_files(&[dir.path().display().to_string()]).unwrap();
        let schema = infer_schema(&listing.files).unwrap().unwrap();
        let t = FileTable::new(Arc::new(ParquetFormat::new()), listing, schema);
        let filter = Expr::BinaryOp {
            left: Box::new(cmp(BinaryOperator::GtEq, 35)),
            op: BinaryOperator::And,
            right: Box::new(cmp(BinaryOperator::Lt, 52)),
        };
        assert_eq!(t.supports_filter(&filter), FilterPushdown::Inexact);
        let like = Expr::Like {
            expr: Box::new(Expr::Column(Column::new(None, "name"))),
            pattern: Box::new(Expr::Literal(ScalarValue::Utf8(Some("n%".into())))),
            kind: engine_core::expr::LikeKind::Like,
            negated: false,
        };
        assert_eq!(t.supports_filter(&like), FilterPushdown::Unsupported);
        let c = Arc::new(TaskContext::new(Arc::new(SessionConf::new())).unwrap());
        let plan = t
            .scan(Some(&[1]), std::slice::from_ref(&filter), None, &c)
            .unwrap();
        assert_eq!(
            plan.describe(),
            format!(
                "FileScan parquet [name] Location: [{}], PushedFilters: [And(GreaterThanOrEqual(id,35),LessThan(id,52))], ReadSchema: struct<name:string>",
                dir.path().display()
            )
        );
        let batches = collect(&plan, &c).unwrap();
        // Row groups 30..40, 40..50 and 50..60 may match; the other seven are skipped.
        assert_eq!(ScanMetrics::get(&t.metrics().row_groups_read), 3);
        assert_eq!(ScanMetrics::get(&t.metrics().row_groups_pruned), 7);
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 30);
        assert_eq!(batches[0].num_columns(), 1);
        let names = batches[0]
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(names.value(0), "n30");
        // A limit stops early; an IS NULL filter skips everything (no NULLs).
        let plan = t.scan(None, &[], Some(5), &c).unwrap();
        assert_eq!(
            collect(&plan, &c)
                .unwrap()
                .iter()
                .map(|b| b.num_rows())
                .sum::<usize>(),
            5
        );
        let isnull = Expr::IsNull(Box::new(Expr::Column(Column::new(None, "id"))));
        let plan = t.scan(None, &[isnull], None, &c).unwrap();
        assert_eq!(
            collect(&plan, &c)
                .unwrap()
                .iter()
                .map(|b| b.num_rows())
                .sum::<usize>(),
            0
        );
    }
}
