//! `df.write()`: Spark's `DataFrameWriter` for csv, json, parquet and text, with save
//! modes, Hive-style `partition_by` directories and a `_SUCCESS` marker.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::compute::{SortColumn, cast, concat_batches, lexsort_to_indices, take_record_batch};
use arrow::datatypes::{DataType, Field, Float32Type, Float64Type, Schema, SchemaRef};
use chrono_tz::Tz;
use engine_core::{EngineError, Result};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::csv_writer::{self, CsvWriteOptions};
use super::listing::{HIVE_DEFAULT_PARTITION, absolute, escape_path_name, qualified};
use super::options::Options;
use super::values::{format_timestamp_array, java_to_chrono};
use engine_core::functions::json::{JsonWriteOptions, to_json_array, write_options};
use engine_core::types::simple_string;

/// What `save` does when the target path exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveMode {
    /// Fail (`error`, `errorifexists`, `default`; Spark's default).
    ErrorIfExists,
    /// Replace what is there.
    Overwrite,
    /// Add new files next to the existing ones.
    Append,
    /// Do nothing, silently.
    Ignore,
}

impl SaveMode {
    /// Parses Spark's mode names (any case).
    pub fn parse(mode: &str) -> Result<SaveMode> {
        match mode.trim().to_ascii_lowercase().as_str() {
            "error" | "errorifexists" | "default" => Ok(SaveMode::ErrorIfExists),
            "overwrite" => Ok(SaveMode::Overwrite),
            "append" => Ok(SaveMode::Append),
            "ignore" => Ok(SaveMode::Ignore),
            _ => Err(EngineError::analysis(
                "INVALID_SAVE_MODE",
                format!(
                    "The specified save mode \"{mode}\" is invalid. Valid save modes include \"append\", \"overwrite\", \"ignore\", \"error\", \"errorifexists\", and \"default\". SQLSTATE: 42000"
                ),
            )),
        }
    }
}

/// Everything about a write except the data.
#[derive(Debug, Clone)]
pub struct WriteSpec {
    /// `csv`, `json`, `parquet` or `text`.
    pub format: String,
    /// Writer options (`header`, `sep`, `nullValue`, `quote`, `compression`).
    pub options: Options,
    /// What to do if the path exists.
    pub mode: SaveMode,
    /// Columns that become `col=value` directories.
    pub partition_by: Vec<String>,
    /// Zone for timestamps written as text.
    pub time_zone: Tz,
}

/// Spark's error for writing to an existing path in `errorifexists` mode.
pub fn path_exists(path: &Path) -> EngineError {
    EngineError::analysis(
        "PATH_ALREADY_EXISTS",
        format!(
            "Path {} already exists. Set mode as \"overwrite\" to overwrite the existing path. SQLSTATE: 42K04",
            qualified(path)
        ),
    )
}

fn io(ctx: &Path, e: std::io::Error) -> EngineError {
    EngineError::io(format!("writing {}", ctx.display()), e)
}

/// Writes already computed `partitions` (one file per non-empty partition and directory)
/// under `target`, honoring the save mode, then an empty `_SUCCESS` file.
pub fn write_partitions(
    schema: &SchemaRef,
    partitions: &[Vec<RecordBatch>],
    target: &Path,
    spec: &WriteSpec,
) -> Result<()> {
    if target.exists() {
        match spec.mode {
            SaveMode::Ignore => return Ok(()),
            SaveMode::ErrorIfExists => return Err(path_exists(target)),
            SaveMode::Overwrite => {
                let r = if target.is_dir() {
                    std::fs::remove_dir_all(target)
                } else {
                    std::fs::remove_file(target)
                };
                r.map_err(|e| io(target, e))?;
            }
            SaveMode::Append => {}
        }
    }
    let WriteLayout {
        part_idx,
        max_records,
    } = validate_write(schema, spec)?;
    std::fs::create_dir_all(target).map_err(|e| io(target, e))?;
    let job = uuid::Uuid::new_v4();
    let ext = file_extension(spec);
    let data_idx: Vec<usize> = (0..schema.fields().len())
        .filter(|i| !part_idx.contains(i))
        .collect();
    let data_schema = Arc::new(schema.project(&data_idx)?);
    for (p, batches) in partitions.iter().enumerate() {
        if batches.iter().all(|b| b.num_rows() == 0) {
            continue;
        }
        let groups: Vec<(PathBuf, Vec<RecordBatch>)> = if part_idx.is_empty() {
            vec![(PathBuf::new(), batches.clone())]
        } else {
            let all = concat_batches(schema, batches)?;
            split_by_partition(&all, &part_idx)?
                .into_iter()
                .map(|(dir, rows)| Ok((dir, vec![rows.project(&data_idx)?])))
                .collect::<Result<_>>()?
        };
        for (dir, rows) in groups {
            let dir = target.join(dir);
            std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
            for (c, chunk) in chunk_rows(&rows, max_records).into_iter().enumerate() {
                let file_name = format!("part-{p:05}-{job}-c{c:03}.{ext}");
                write_file(&dir.join(&file_name), &data_schema, &chunk, spec)?;
            }
        }
    }
    let wrote_nothing = partitions.iter().flatten().all(|b| b.num_rows() == 0);
    if wrote_nothing && part_idx.is_empty() {
        // As Spark: one empty file, so that the schema (parquet) or header survives.
        let file_name = format!("part-00000-{job}-c000.{ext}");
        let empty = RecordBatch::new_empty(data_schema.clone());
        write_file(&target.join(file_name), &data_schema, &[empty], spec)?;
    }
    let success = target.join("_SUCCESS");
    File::create(&success).map_err(|e| io(&success, e))?;
    Ok(())
}

/// How a write lays rows out: the partition columns' indices and the most rows per file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteLayout {
    /// Indices of the `partition_by` columns in the written schema, in `partition_by` order.
    pub part_idx: Vec<usize>,
    /// `maxRecordsPerFile` (`usize::MAX` when unlimited).
    pub max_records: usize,
}

/// Checks a write against `schema` before any file is written (partition columns exist and
/// are not all columns, text has one string column, compression fits the format) and
/// returns its layout.
pub fn validate_write(schema: &SchemaRef, spec: &WriteSpec) -> Result<WriteLayout> {
    // Resolve partition columns (case-insensitively, as Spark).
    let mut part_idx = Vec::new();
    for c in &spec.partition_by {
        let idx = schema
            .fields()
            .iter()
            .position(|f| f.name().eq_ignore_ascii_case(c))
            .ok_or_else(|| {
                EngineError::analysis(
                    "COLUMN_NOT_FOUND",
                    format!(
                        "Partition column `{c}` not found in schema {}. SQLSTATE: 42703",
                        simple_string(&DataType::Struct(schema.fields().clone()))
                    ),
                )
            })?;
        part_idx.push(idx);
    }
    if !part_idx.is_empty() && part_idx.len() == schema.fields().len() {
        return Err(EngineError::analysis(
            "ALL_PARTITION_COLUMNS_NOT_ALLOWED",
            "Cannot use all columns for partition columns. SQLSTATE: KD005",
        ));
    }
    if spec.format == "text" {
        let data_cols = schema.fields().len() - part_idx.len();
        let ok = data_cols == 1
            && schema
                .fields()
                .iter()
                .enumerate()
                .any(|(i, f)| !part_idx.contains(&i) && f.data_type() == &DataType::Utf8);
        if !ok {
            return Err(EngineError::analysis(
                "UNSUPPORTED_DATA_SOURCE_FOR_TEXT",
                format!(
                    "Text data source supports only a single STRING column, and you have {}: {}.",
                    data_cols,
                    simple_string(&DataType::Struct(schema.fields().clone()))
                ),
            ));
        }
    }
    let max_records = match spec.options.get("maxrecordsperfile") {
        None => usize::MAX,
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if n > 0 => n as usize,
            Ok(_) => usize::MAX,
            Err(_) => {
                return Err(EngineError::invalid_option(
                    "maxRecordsPerFile",
                    format!("`{v}` is not an integer"),
                ));
            }
        },
    };
    // Text formats are written uncompressed; say so rather than ignore the option.
    let compression = spec.options.get("compression").map(str::to_ascii_lowercase);
    if spec.format != "parquet"
        && compression
            .as_deref()
            .is_some_and(|c| !matches!(c, "none" | "uncompressed"))
    {
        return Err(EngineError::invalid_option(
            "compression",
            format!(
                "`{}` is not supported for {}; valid values are none and uncompressed",
                compression.unwrap_or_default(),
                spec.format
            ),
        ));
    }
    Ok(WriteLayout {
        part_idx,
        max_records,
    })
}

/// Cuts batches into files of at most `max` rows (`maxRecordsPerFile`).
pub fn chunk_rows(batches: &[RecordBatch], max: usize) -> Vec<Vec<RecordBatch>> {
    let mut out: Vec<Vec<RecordBatch>> = vec![vec![]];
    let mut in_current = 0usize;
    for b in batches {
        let mut offset = 0;
        while offset < b.num_rows() {
            if in_current == max {
                out.push(vec![]);
                in_current = 0;
            }
            let n = (b.num_rows() - offset).min(max - in_current);
            if let Some(last) = out.last_mut() {
                last.push(b.slice(offset, n));
            }
            in_current += n;
            offset += n;
        }
    }
    out.retain(|c| c.iter().any(|b| b.num_rows() > 0));
    out
}

/// Groups rows by their partition values: `(relative dir "a=1/b=x", rows)`.
pub fn split_by_partition(
    batch: &RecordBatch,
    part_idx: &[usize],
) -> Result<Vec<(PathBuf, RecordBatch)>> {
    let sort: Vec<SortColumn> = part_idx
        .iter()
        .map(|i| SortColumn {
            values: batch.column(*i).clone(),
            options: None,
        })
        .collect();
    let indices = lexsort_to_indices(&sort, None)?;
    let sorted = take_record_batch(batch, &indices)?;
    let keys: Vec<ArrayRef> = part_idx.iter().map(|i| sorted.column(*i).clone()).collect();
    let texts: Vec<ArrayRef> = keys
        .iter()
        .map(|k| cast(k, &DataType::Utf8))
        .collect::<Result<_, _>>()?;
    let ranges = arrow::compute::partition(&keys)?.ranges();
    let schema = batch.schema();
    let mut out = Vec::with_capacity(ranges.len());
    for r in ranges {
        let mut dir = PathBuf::new();
        for (j, i) in part_idx.iter().enumerate() {
            let t = texts[j]
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| EngineError::Internal("partition value text".into()))?;
            let value = if t.is_null(r.start) {
                HIVE_DEFAULT_PARTITION.to_string()
            } else {
                escape_path_name(t.value(r.start))
            };
            dir.push(format!(
                "{}={value}",
                escape_path_name(schema.field(*i).name())
            ));
        }
        out.push((dir, sorted.slice(r.start, r.end - r.start)));
    }
    Ok(out)
}

/// The csv writer's columns: timestamps as Spark's ISO text in the session zone and doubles
/// in Java's form, since text formats carry no types. (JSON goes through `to_json`'s
/// encoder, which does the same at every nesting level.)
fn text_ready(batch: &RecordBatch, spec: &WriteSpec) -> Result<RecordBatch> {
    let tz = &spec.time_zone;
    let ts_format = spec.options.get("timestampformat").map(java_to_chrono);
    let date_format = spec.options.get("dateformat").map(java_to_chrono);
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut cols = Vec::with_capacity(batch.num_columns());
    for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
        match f.data_type() {
            DataType::Timestamp(_, Some(_)) => {
                let text = match &ts_format {
                    None => format_timestamp_array(c.as_ref(), tz)?,
                    Some(p) => format_with(c, p, Some(tz))?,
                };
                cols.push(text);
                fields.push(Field::new(f.name(), DataType::Utf8, true));
            }
            DataType::Timestamp(_, None) => {
                // Spark's `timestampNTZFormat` default writes milliseconds always.
                let p = ts_format.as_deref().unwrap_or("%Y-%m-%dT%H:%M:%S%.3f");
                cols.push(format_with(c, p, None)?);
                fields.push(Field::new(f.name(), DataType::Utf8, true));
            }
            DataType::Date32 if date_format.is_some() => {
                let p = date_format.as_deref().unwrap_or_default();
                cols.push(format_with(c, p, None)?);
                fields.push(Field::new(f.name(), DataType::Utf8, true));
            }
            DataType::Float64 => {
                let s: StringArray = c
                    .as_primitive::<Float64Type>()
                    .iter()
                    .map(|v| v.map(engine_core::format::format_f64))
                    .collect();
                cols.push(Arc::new(s));
                fields.push(Field::new(f.name(), DataType::Utf8, true));
            }
            // Java's `Float.toString`: 0.1F is `0.1`, not the double it widens to.
            DataType::Float32 => {
                let s: StringArray = c
                    .as_primitive::<Float32Type>()
                    .iter()
                    .map(|v| v.map(engine_core::format::format_f32))
                    .collect();
                cols.push(Arc::new(s));
                fields.push(Field::new(f.name(), DataType::Utf8, true));
            }
            _ => {
                cols.push(c.clone());
                fields.push(f.as_ref().clone());
            }
        }
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?)
}

/// Dates and timestamps with a user's `dateFormat` / `timestampFormat` (chrono pattern);
/// instants are shown in `tz`.
fn format_with(array: &ArrayRef, pattern: &str, tz: Option<&Tz>) -> Result<ArrayRef> {
    let micros = cast(
        array,
        &DataType::Timestamp(arrow::datatypes::TimeUnit::Microsecond, None),
    )?;
    let micros = micros
        .as_any()
        .downcast_ref::<arrow::array::TimestampMicrosecondArray>()
        .ok_or_else(|| EngineError::Internal("timestamp cast".into()))?;
    let out: StringArray = micros
        .iter()
        .map(|v| {
            let utc = chrono::DateTime::from_timestamp_micros(v?)?;
            Some(match tz {
                Some(tz) => utc.with_timezone(tz).format(pattern).to_string(),
                None => utc.naive_utc().format(pattern).to_string(),
            })
        })
        .collect();
    Ok(Arc::new(out))
}

/// Writes `batches` as JSON lines to `out` the way the `json` format writes files (Spark's
/// conventions: NULL fields omitted unless `ignoreNullFields=false`, timestamps as ISO-8601
/// text in the session zone) and returns `out`. The CLI prints query results with it.
pub fn write_json_lines<W: Write>(
    mut out: W,
    batches: &[RecordBatch],
    spec: &WriteSpec,
) -> Result<W> {
    let o = write_options(&spec.options)?;
    for b in batches {
        json_lines(b, &o, spec.time_zone, &mut out, |e| {
            EngineError::io("writing JSON lines", e)
        })?;
    }
    Ok(out)
}

/// Writes `batch` as JSON lines the way Spark's JSON writer does at every nesting level
/// (timestamps inside a window struct as `2024-03-05T14:00:00.000Z`, doubles as Java prints
/// them): the engine's `to_json` encoder over the row as one struct. `io` names a failed
/// write.
fn json_lines(
    batch: &RecordBatch,
    o: &JsonWriteOptions,
    tz: Tz,
    out: &mut impl Write,
    io: impl Fn(std::io::Error) -> EngineError,
) -> Result<()> {
    let rows = arrow::array::StructArray::from(batch.clone());
    for line in to_json_array(&rows, o, tz)?.iter() {
        out.write_all(line.unwrap_or("{}").as_bytes())
            .and_then(|()| out.write_all(b"\n"))
            .map_err(&io)?;
    }
    Ok(())
}

/// The file name extension of a format (`snappy.parquet`, `csv`, `json`, `txt`).
pub fn file_extension(spec: &WriteSpec) -> &str {
    match spec.format.as_str() {
        "parquet" => "snappy.parquet",
        "text" => "txt",
        other => other,
    }
}

fn write_file(
    path: &Path,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    spec: &WriteSpec,
) -> Result<()> {
    let mut w = FileWriter::create(path, schema, spec)?;
    for b in batches {
        w.write(b)?;
    }
    w.finish()
}

/// The encoder of one open output file.
enum Encoder {
    Csv(BufWriter<File>, Box<CsvWriteOptions>),
    Json(BufWriter<File>, JsonWriteOptions),
    Parquet(Box<ArrowWriter<File>>),
    Text(BufWriter<File>),
}

/// One output file being written batch by batch (csv, json, parquet or text), so a
/// streaming writer never holds a task's rows in memory.
pub struct FileWriter {
    path: PathBuf,
    spec: WriteSpec,
    encoder: Encoder,
}

impl std::fmt::Debug for FileWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileWriter({})", self.path.display())
    }
}

impl FileWriter {
    /// Creates `path` for rows of `schema` (the data columns, without partition columns).
    pub fn create(path: &Path, schema: &SchemaRef, spec: &WriteSpec) -> Result<Self> {
        let file = File::create(path).map_err(|e| io(path, e))?;
        let ctx = format!("writing {}", absolute(path).display());
        let pq = |e: parquet::errors::ParquetError| EngineError::external(ctx.clone(), e);
        let o = &spec.options;
        let encoder = match spec.format.as_str() {
            "csv" => {
                csv_writer::check_csv_types(schema)?;
                let o = CsvWriteOptions::from_options(o)?;
                let mut w = BufWriter::new(file);
                if o.header {
                    let names: Vec<&str> =
                        schema.fields().iter().map(|f| f.name().as_str()).collect();
                    w.write_all(&o.header_line(&names))
                        .map_err(|e| io(path, e))?;
                }
                Encoder::Csv(w, Box::new(o))
            }
            "json" => Encoder::Json(BufWriter::new(file), write_options(o)?),
            "parquet" => {
                let compression = match o.get("compression").map(str::to_ascii_lowercase).as_deref()
                {
                    None | Some("snappy") => Compression::SNAPPY,
                    Some("none") | Some("uncompressed") => Compression::UNCOMPRESSED,
                    Some(other) => {
                        return Err(EngineError::invalid_option(
                            "compression",
                            format!(
                                "`{other}` is not supported; valid values are snappy, none, uncompressed"
                            ),
                        ));
                    }
                };
                let mut props = WriterProperties::builder().set_compression(compression);
                if let Some(n) = o.get("parquet.block.rows") {
                    let n = n.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                        EngineError::invalid_option(
                            "parquet.block.rows",
                            format!("`{n}` is not a positive integer"),
                        )
                    })?;
                    props = props.set_max_row_group_row_count(Some(n));
                }
                Encoder::Parquet(Box::new(
                    ArrowWriter::try_new(file, schema.clone(), Some(props.build())).map_err(pq)?,
                ))
            }
            _ => Encoder::Text(BufWriter::new(file)),
        };
        Ok(FileWriter {
            path: path.to_path_buf(),
            spec: spec.clone(),
            encoder,
        })
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn external<E: std::error::Error + Send + Sync + 'static>(&self, e: E) -> EngineError {
        EngineError::external(format!("writing {}", absolute(&self.path).display()), e)
    }

    /// Appends rows.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        match &mut self.encoder {
            Encoder::Csv(w, o) => {
                let b = text_ready(batch, &self.spec)?;
                o.write_rows(&b, w).map_err(|e| io(&self.path, e))
            }
            Encoder::Json(w, o) => {
                let path = &self.path;
                json_lines(batch, o, self.spec.time_zone, w, |e| io(path, e))
            }
            Encoder::Parquet(w) => {
                let r = w.write(batch);
                r.map_err(|e| self.external(e))
            }
            Encoder::Text(w) => {
                let col = batch
                    .column(0)
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .ok_or_else(|| EngineError::Internal("text column is not a string".into()))?;
                for v in col.iter() {
                    w.write_all(v.unwrap_or("").as_bytes())
                        .and_then(|()| w.write_all(b"\n"))
                        .map_err(|e| io(&self.path, e))?;
                }
                Ok(())
            }
        }
    }

    /// Flushes and closes the file.
    pub fn finish(self) -> Result<()> {
        let path = self.path.clone();
        match self.encoder {
            Encoder::Csv(mut w, _) => w.flush().map_err(|e| io(&path, e)),
            Encoder::Json(mut w, _) => w.flush().map_err(|e| io(&path, e)),
            Encoder::Parquet(w) => w.close().map(|_| ()).map_err(|e| {
                EngineError::external(format!("writing {}", absolute(&path).display()), e)
            }),
            Encoder::Text(mut w) => w.flush().map_err(|e| io(&path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Session;
    use arrow::array::{
        BooleanArray, Date32Array, Float64Array, Int32Array, TimestampMicrosecondArray,
    };
    use engine_core::physical::TableProvider;
    use engine_core::physical::plan::{TaskContext, collect};

    fn sample() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int32, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("score", DataType::Float64, true),
            Field::new("ok", DataType::Boolean, true),
            Field::new("day", DataType::Date32, true),
            Field::new("ts", engine_core::types::timestamp_type(), true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int32Array::from(vec![Some(1), Some(2), None, Some(4)])),
                Arc::new(StringArray::from(vec![
                    Some("a,b"),
                    None,
                    Some("q\"x"),
                    Some("d"),
                ])),
                Arc::new(Float64Array::from(vec![
                    Some(1.5),
                    Some(2.0),
                    Some(-3.25),
                    None,
                ])),
                Arc::new(BooleanArray::from(vec![
                    Some(true),
                    None,
                    Some(false),
                    Some(true),
                ])),
                Arc::new(Date32Array::from(vec![
                    Some(18262),
                    Some(0),
                    None,
                    Some(18263),
                ])),
                Arc::new(
                    TimestampMicrosecondArray::from(vec![
                        Some(1_577_872_800_000_000),
                        None,
                        Some(0),
                        Some(1_500_000),
                    ])
                    .with_timezone("UTC"),
                ),
            ],
        )
        .unwrap()
    }

    fn spec(format: &str, opts: &[(&str, &str)]) -> WriteSpec {
        WriteSpec {
            format: format.into(),
            options: Options::new(opts.iter().copied()),
            mode: SaveMode::ErrorIfExists,
            partition_by: vec![],
            time_zone: Tz::UTC,
        }
    }

    fn read_back(
        format: &str,
        path: &Path,
        opts: &[(&str, &str)],
        schema: Option<SchemaRef>,
    ) -> RecordBatch {
        let session = Session::builder().build().unwrap();
        let mut r = session.read().format(format);
        for (k, v) in opts {
            r = r.option(k, v);
        }
        if let Some(s) = schema {
            r = r.schema(s);
        }
        let t = r.table(&[&path.display().to_string()]).unwrap();
        let ctx =
            Arc::new(TaskContext::new(Arc::new(engine_core::conf::SessionConf::new())).unwrap());
        let batches = collect(&t.scan(None, &[], None, &ctx).unwrap(), &ctx).unwrap();
        let b = concat_batches(&t.schema(), &batches).unwrap();
        // Files are read in name order; sort by id for comparison.
        sort_by_first(&b)
    }

    fn sort_by_first(b: &RecordBatch) -> RecordBatch {
        let idx = lexsort_to_indices(
            &[SortColumn {
                values: b.column(0).clone(),
                options: None,
            }],
            None,
        )
        .unwrap();
        take_record_batch(b, &idx).unwrap()
    }

    fn two_partitions() -> Vec<Vec<RecordBatch>> {
        let b = sample();
        vec![vec![b.slice(0, 2)], vec![], vec![b.slice(2, 2)]]
    }

    #[test]
    fn round_trips_every_format() {
        let dir = tempfile::tempdir().unwrap();
        let b = sample();
        let expected = sort_by_first(&b);
        for (format, read_opts) in [
            ("parquet", vec![]),
            ("csv", vec![("header", "true"), ("inferSchema", "true")]),
            ("json", vec![]),
        ] {
            let path = dir.path().join(format);
            write_partitions(
                &b.schema(),
                &two_partitions(),
                &path,
                &spec(format, &[("header", "true")]),
            )
            .unwrap();
            assert!(path.join("_SUCCESS").exists());
            let files = std::fs::read_dir(&path).unwrap().count();
            assert_eq!(files, 3, "{format}: two data files and _SUCCESS");
            // Text formats carry no types: read back with the original schema.
            let schema = (format != "parquet").then(|| b.schema());
            let got = read_back(format, &path, &read_opts, schema);
            assert_eq!(got, expected, "{format}");
        }
        let csv_dir = dir.path().join("csv");
        let name = std::fs::read_dir(&csv_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .find(|n| n.starts_with("part-00000-"))
            .unwrap();
        let text = std::fs::read_to_string(csv_dir.join(name)).unwrap();
        assert_eq!(
            text,
            "id,name,score,ok,day,ts\n1,\"a,b\",1.5,true,2020-01-01,2020-01-01T10:00:00.000Z\n2,,2.0,,1970-01-01,\n"
        );
        let json_dir = dir.path().join("json");
        let name = std::fs::read_dir(&json_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .find(|n| n.starts_with("part-00000-"))
            .unwrap();
        let text = std::fs::read_to_string(json_dir.join(name)).unwrap();
        assert_eq!(
            text.lines().nth(1).unwrap(),
            "{\"id\":2,\"score\":2.0,\"day\":\"1970-01-01\"}"
        );
    }

    #[test]
    fn text_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("value", DataType::Utf8, true)]));
        let b = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(StringArray::from(vec!["x", "y z"]))],
        )
        .unwrap();
        let path = dir.path().join("t");
        write_partitions(&schema, &[vec![b.clone()]], &path, &spec("text", &[])).unwrap();
        assert_eq!(read_back("text", &path, &[], None), b);
        let e = write_partitions(
            &sample().schema(),
            &[vec![sample()]],
            &dir.path().join("t2"),
            &spec("text", &[]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("single STRING column"), "{e}");
    }

    #[test]
    fn writer_options() {
        let dir = tempfile::tempdir().unwrap();
        let b = sample();
        let path = dir.path().join("m");
        write_partitions(
            &b.schema(),
            &[vec![b.clone()]],
            &path,
            &spec(
                "json",
                &[
                    ("maxRecordsPerFile", "3"),
                    ("ignoreNullFields", "false"),
                    ("timestampFormat", "dd/MM/yyyy HH:mm"),
                ],
            ),
        )
        .unwrap();
        let mut names: Vec<String> = std::fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        names.retain(|n| n.starts_with("part-"));
        assert_eq!(names.len(), 2);
        assert!(
            names[0].ends_with("-c000.json") && names[1].ends_with("-c001.json"),
            "{names:?}"
        );
        let text = std::fs::read_to_string(path.join(&names[0])).unwrap();
        let first = text.lines().next().unwrap();
        assert!(first.contains("\"ts\":\"01/01/2020 10:00\""), "{first}");
        let second = text.lines().nth(1).unwrap();
        assert!(second.contains("\"name\":null"), "{second}");
    }

    #[test]
    fn csv_quote_all_and_bad_compression() {
        let dir = tempfile::tempdir().unwrap();
        let b = sample().project(&[0, 1]).unwrap();
        let path = dir.path().join("q");
        write_partitions(
            &b.schema(),
            &[vec![b.slice(0, 1)]],
            &path,
            &spec("csv", &[("quoteAll", "true")]),
        )
        .unwrap();
        let file = std::fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "csv"))
            .unwrap();
        assert_eq!(std::fs::read_to_string(file).unwrap(), "\"1\",\"a,b\"\n");
        let e = write_partitions(
            &b.schema(),
            &[vec![b]],
            &dir.path().join("z"),
            &spec("json", &[("compression", "gzip")]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`compression`") && e.contains("gzip"), "{e}");
    }

    #[test]
    fn empty_output_keeps_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e");
        let b = sample();
        write_partitions(
            &b.schema(),
            &[vec![], vec![b.slice(0, 0)]],
            &path,
            &spec("parquet", &[]),
        )
        .unwrap();
        let got = read_back("parquet", &path, &[], None);
        assert_eq!(got.num_rows(), 0);
        assert_eq!(got.schema().fields().len(), 6);
    }

    #[test]
    fn save_modes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let b = sample();
        let mut s = spec("parquet", &[]);
        write_partitions(&b.schema(), &[vec![b.clone()]], &path, &s).unwrap();
        let e = write_partitions(&b.schema(), &[vec![b.clone()]], &path, &s)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            format!(
                "[PATH_ALREADY_EXISTS] Path file:{} already exists. Set mode as \"overwrite\" to overwrite the existing path. SQLSTATE: 42K04",
                path.display()
            )
        );
        s.mode = SaveMode::Append;
        write_partitions(&b.schema(), &[vec![b.clone()]], &path, &s).unwrap();
        assert_eq!(read_back("parquet", &path, &[], None).num_rows(), 8);
        s.mode = SaveMode::Ignore;
        write_partitions(&b.schema(), &[vec![b.clone()]], &path, &s).unwrap();
        assert_eq!(read_back("parquet", &path, &[], None).num_rows(), 8);
        s.mode = SaveMode::Overwrite;
        write_partitions(&b.schema(), &[vec![b.clone()]], &path, &s).unwrap();
        assert_eq!(read_back("parquet", &path, &[], None).num_rows(), 4);
        let e = SaveMode::parse("replace").unwrap_err().to_string();
        assert!(e.starts_with("[INVALID_SAVE_MODE]"), "{e}");
    }

    #[test]
    fn partition_by_writes_hive_directories() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p");
        let b = sample();
        let mut s = spec("parquet", &[]);
        s.partition_by = vec!["ok".into()];
        write_partitions(&b.schema(), &two_partitions(), &path, &s).unwrap();
        for d in [
            "ok=true",
            "ok=false",
            &format!("ok={HIVE_DEFAULT_PARTITION}"),
        ] {
            assert!(path.join(d).is_dir(), "{d}");
        }
        let got = read_back("parquet", &path, &[], None);
        let names: Vec<String> = got
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["id", "name", "score", "day", "ts", "ok"]);
        assert_eq!(got.num_rows(), 4);
        // Partition values are typed: `ok` is read back as a string column of the
        // directory text since "true"/"false" are not numbers or dates.
        let ok = got
            .column(5)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(
            ok.iter().collect::<Vec<_>>(),
            [Some("false"), Some("true"), None, Some("true")]
        );
        s.partition_by = vec!["nope".into()];
        let e = write_partitions(&b.schema(), &two_partitions(), &dir.path().join("q"), &s)
            .unwrap_err()
            .to_string();
        assert!(e.contains("Partition column `nope` not found"), "{e}");
    }
}
