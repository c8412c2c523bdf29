//! CSV: Spark's options, schema inference (INT, BIGINT, DOUBLE, DATE, TIMESTAMP, BOOLEAN,
//! else STRING) and reading with PERMISSIVE / DROPMALFORMED / FAILFAST handling.
//!
//! Records are tokenized with the `csv` crate into per-column string builders (no per-row
//! allocation), then each column is converted to its type in one pass.

use std::io::Cursor;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, RecordBatch, RecordBatchOptions, StringArray, StringBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use chrono_tz::Tz;
use engine_core::datetime_text;
use engine_core::{EngineError, Result};

use super::listing::FileEntry;
use super::options::{Options, ParseMode, malformed_record_error};
use super::split::{line_splits, read_lines};
use super::table::{FileFormat, FileRead, FileSplit, ScanMetrics};
use super::values::{self, DateTimeFormats};
use engine_core::physical::plan::{BatchIter, TaskContext};
use engine_core::types::timestamp_type;

pub use engine_core::options::DEFAULT_CORRUPT_RECORD_COLUMN;

/// Parsed csv read options.
#[derive(Debug, Clone)]
pub struct CsvOptions {
    /// `header`: the first line of each file holds column names.
    pub header: bool,
    /// `inferSchema`.
    pub infer_schema: bool,
    /// `sep` / `delimiter`.
    pub delimiter: u8,
    /// `quote` (empty disables quoting).
    pub quote: Option<u8>,
    /// `escape`.
    pub escape: Option<u8>,
    /// `comment`: lines starting with it are skipped.
    pub comment: Option<u8>,
    /// `nullValue`: this text reads as NULL.
    pub null_value: String,
    /// `dateFormat` / `timestampFormat`.
    pub formats: DateTimeFormats,
    /// `mode`.
    pub mode: ParseMode,
    /// `columnNameOfCorruptRecord`.
    pub corrupt_column: String,
    /// `samplingRatio` for inference.
    pub sampling_ratio: f64,
    /// `multiLine`: records may span lines (quoted newlines), so files are not split.
    /// Without it big files are split at line boundaries, as Spark does.
    pub multi_line: bool,
}

impl CsvOptions {
    /// Reads Spark's csv options (unknown keys are ignored, as Spark does).
    pub fn parse(o: &Options) -> Result<Self> {
        let date = o
            .get("dateformat")
            .filter(|f| *f != "yyyy-MM-dd")
            .map(values::java_to_chrono);
        let timestamp = o.get("timestampformat").map(values::java_to_chrono);
        Ok(CsvOptions {
            header: o.bool("header", false)?,
            infer_schema: o.bool("inferschema", false)?,
            delimiter: o
                .byte(&["sep", "delimiter"], Some(b','), false)?
                .unwrap_or(b','),
            quote: o.byte(&["quote"], Some(b'"'), true)?,
            escape: o.byte(&["escape"], Some(b'\\'), true)?,
            comment: o.byte(&["comment"], None, true)?,
            null_value: o.string("nullvalue", ""),
            formats: DateTimeFormats { date, timestamp },
            mode: o.parse_mode()?,
            corrupt_column: o.string("columnnameofcorruptrecord", DEFAULT_CORRUPT_RECORD_COLUMN),
            sampling_ratio: o.ratio("samplingratio", 1.0)?,
            multi_line: o.bool("multiline", false)?,
        })
    }

    fn reader(&self, data: Vec<u8>) -> csv::Reader<Cursor<Vec<u8>>> {
        let mut b = csv::ReaderBuilder::new();
        b.has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .escape(self.escape)
            .comment(self.comment)
            .double_quote(true);
        match self.quote {
            Some(q) => b.quote(q),
            None => b.quoting(false),
        };
        b.from_reader(Cursor::new(data))
    }
}

fn read_file(path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| EngineError::io(format!("reading {}", path.display()), e))
}

/// The type lattice of inference, in Spark's trial order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Inferred {
    Null,
    Int,
    Long,
    Double,
    Date,
    Timestamp,
    Bool,
    Str,
}

/// `yyyy-MM-dd` exactly, as inference tries dates with the default `dateFormat`.
fn is_iso_date(v: &str) -> bool {
    let b = v.trim().as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
        && datetime_text::parse_date(v).is_some()
}

fn infer_field(so_far: Inferred, v: &str, o: &CsvOptions, tz: &Tz) -> Inferred {
    use Inferred::*;
    let start = if so_far == Null { Int } else { so_far };
    let stages = [Int, Long, Double, Date, Timestamp, Bool];
    for stage in stages.into_iter().filter(|s| *s >= start) {
        let ok = match stage {
            Int => v.parse::<i32>().is_ok(),
            Long => v.parse::<i64>().is_ok(),
            Double => values::parse_double(v).is_some(),
            Date => match &o.formats.date {
                None => is_iso_date(v),
                Some(p) => chrono::NaiveDate::parse_from_str(v, p).is_ok(),
            },
            Timestamp => match &o.formats.timestamp {
                None => {
                    datetime_text::parse_timestamp(v, tz, datetime_text::now_micros()).is_some()
                }
                Some(p) => values::parse_timestamp_with(v, p, tz).is_some(),
            },
            Bool => values::parse_bool(v).is_some(),
            _ => false,
        };
        if ok {
            return stage;
        }
    }
    Str
}

fn merge(a: Inferred, b: Inferred) -> Inferred {
    use Inferred::*;
    match (a, b) {
        (x, y) if x == y => x,
        (Null, x) | (x, Null) => x,
        (Int | Long | Double, Int | Long | Double) => a.max(b),
        (Date | Timestamp, Date | Timestamp) => Timestamp,
        _ => Str,
    }
}

fn to_arrow(t: Inferred) -> DataType {
    match t {
        Inferred::Int => DataType::Int32,
        Inferred::Long => DataType::Int64,
        Inferred::Double => DataType::Float64,
        Inferred::Date => DataType::Date32,
        Inferred::Timestamp => timestamp_type(),
        Inferred::Bool => DataType::Boolean,
        Inferred::Null | Inferred::Str => DataType::Utf8,
    }
}

/// Column names from a header record: blanks become `_c<i>`, duplicates get their index
/// appended (Spark's rule, case-insensitively).
fn header_names(fields: &[String]) -> Vec<String> {
    let lower: Vec<String> = fields.iter().map(|f| f.to_lowercase()).collect();
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if f.is_empty() {
                format!("_c{i}")
            } else if lower.iter().filter(|l| **l == lower[i]).count() > 1 {
                format!("{f}{i}")
            } else {
                f.clone()
            }
        })
        .collect()
}

/// Infers the schema of csv `files` (Spark reads all rows, or a `samplingRatio` of them).
pub fn infer_schema(files: &[FileEntry], o: &CsvOptions, tz: &Tz) -> Result<Option<SchemaRef>> {
    let mut names: Option<Vec<String>> = None;
    let mut types: Vec<Inferred> = Vec::new();
    // Bytes, read as UTF-8 with U+FFFD for invalid sequences (as Spark decodes): one bad
    // byte must not fail the whole read.
    let mut record = csv::ByteRecord::new();
    let mut seen = 0u64;
    for f in files {
        if names.is_some() && !o.infer_schema {
            // Without inference only the first file's first record matters.
            break;
        }
        let mut rdr = o.reader(read_file(&f.path)?);
        let mut first = true;
        loop {
            let more = rdr
                .read_byte_record(&mut record)
                .map_err(|e| EngineError::external(format!("reading {}", f.path.display()), e))?;
            if !more {
                break;
            }
            if first {
                first = false;
                if names.is_none() {
                    let fields: Vec<String> = record
                        .iter()
                        .map(|f| String::from_utf8_lossy(f).into_owned())
                        .collect();
                    names = Some(if o.header {
                        header_names(&fields)
                    } else {
                        (0..fields.len()).map(|i| format!("_c{i}")).collect()
                    });
                    types = vec![Inferred::Null; fields.len()];
                }
                if o.header {
                    continue;
                }
            }
            if !o.infer_schema {
                break;
            }
            seen += 1;
            if o.sampling_ratio < 1.0
                && ((seen as f64) * o.sampling_ratio).floor()
                    == ((seen - 1) as f64 * o.sampling_ratio).floor()
            {
                continue;
            }
            for (t, v) in types.iter_mut().zip(record.iter()) {
                let v = String::from_utf8_lossy(v);
                let v = v.as_ref();
                if v == o.null_value || v.is_empty() || *t == Inferred::Str {
                    continue;
                }
                *t = merge(*t, infer_field(*t, v, o, tz));
            }
        }
    }
    Ok(names.map(|names| {
        let fields: Vec<Field> = names
            .iter()
            .zip(&types)
            .map(|(n, t)| {
                Field::new(
                    n,
                    if o.infer_schema {
                        to_arrow(*t)
                    } else {
                        DataType::Utf8
                    },
                    true,
                )
            })
            .collect();
        Arc::new(Schema::new(fields))
    }))
}

/// The csv [`FileFormat`].
#[derive(Debug, Clone)]
pub struct CsvFormat {
    options: Arc<CsvOptions>,
}

impl CsvFormat {
    /// A format reading with `options`.
    pub fn new(options: CsvOptions) -> Self {
        CsvFormat {
            options: Arc::new(options),
        }
    }
}

impl FileFormat for CsvFormat {
    fn name(&self) -> &'static str {
        "csv"
    }

    fn splits(&self, file: &FileEntry, target_bytes: u64) -> Result<Vec<FileSplit>> {
        Ok(if self.options.multi_line {
            vec![FileSplit::whole(file)]
        } else {
            line_splits(file, target_bytes)
        })
    }

    fn open(&self, read: &FileRead<'_>, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let o = &self.options;
        let first_split = read.split.and_then(|r| r.first()).is_none_or(|s| *s == 0);
        let corrupt_idx = read.data_schema.index_of(&o.corrupt_column).ok();
        let csv_pos = |i: usize| match corrupt_idx {
            Some(c) if c == i => None,
            Some(c) if c < i => Some(i - 1),
            _ => Some(i),
        };
        let columns = read
            .columns
            .iter()
            .map(|i| {
                let f = read.data_schema.field(*i);
                ColumnPlan {
                    name: f.name().clone(),
                    position: csv_pos(*i),
                    data_type: f.data_type().clone(),
                }
            })
            .collect();
        let n_fields = read.data_schema.fields().len() - usize::from(corrupt_idx.is_some());
        let out_schema = Arc::new(read.data_schema.project(read.columns)?);
        Ok(Box::new(CsvBatches {
            reader: o.reader(read_lines(&read.file.path, read.split)?),
            record: csv::ByteRecord::new(),
            path: if first_split {
                read.file.path.display().to_string()
            } else {
                format!(
                    "{} (lines counted from byte {})",
                    read.file.path.display(),
                    read.split.and_then(|r| r.first()).copied().unwrap_or(0)
                )
            },
            options: o.clone(),
            columns,
            n_fields,
            out_schema,
            batch_size: ctx.batch_size(),
            tz: ctx.functions.time_zone,
            metrics: read.metrics.clone(),
            // Only the first split of a file starts with the header.
            header_pending: o.header && first_split,
            done: false,
        }))
    }
}

#[derive(Debug)]
struct ColumnPlan {
    name: String,
    /// Field position in the record; `None` for the corrupt-record column.
    position: Option<usize>,
    data_type: DataType,
}

struct CsvBatches {
    reader: csv::Reader<Cursor<Vec<u8>>>,
    record: csv::ByteRecord,
    path: String,
    options: Arc<CsvOptions>,
    columns: Vec<ColumnPlan>,
    n_fields: usize,
    out_schema: SchemaRef,
    batch_size: usize,
    tz: Tz,
    metrics: Arc<ScanMetrics>,
    header_pending: bool,
    done: bool,
}

impl CsvBatches {
    /// The text of the record at byte range `span`, without its line ending.
    fn raw_record(&self, span: (u64, u64)) -> String {
        let data = self.reader.get_ref().get_ref();
        let raw = data
            .get(span.0 as usize..span.1 as usize)
            .unwrap_or_default();
        String::from_utf8_lossy(raw)
            .trim_end_matches(['\r', '\n'])
            .to_string()
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        let mut builders: Vec<StringBuilder> =
            self.columns.iter().map(|_| StringBuilder::new()).collect();
        // Byte ranges of the records: their text is needed only for malformed ones.
        let mut spans: Vec<(u64, u64)> = Vec::new();
        let mut lines: Vec<u64> = Vec::new();
        let mut malformed: Vec<bool> = Vec::new();
        let mut field_counts: Vec<usize> = Vec::new();
        while lines.len() < self.batch_size {
            let start = self.reader.position().byte();
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| EngineError::external(format!("reading {}", self.path), e))?;
            if !more {
                self.done = true;
                break;
            }
            if self.header_pending {
                self.header_pending = false;
                continue;
            }
            let line = self.record.position().map_or(0, |p| p.line());
            let wrong = self.record.len() != self.n_fields;
            if wrong {
                ScanMetrics::add(&self.metrics.malformed_records, 1);
                if self.options.mode == ParseMode::DropMalformed {
                    continue;
                }
                // FAILFAST reports it after the batch is converted, so that an earlier
                // record with a bad value is reported first.
            }
            for (b, c) in builders.iter_mut().zip(&self.columns) {
                match c.position.and_then(|p| self.record.get(p)) {
                    Some(field) => {
                        let s = String::from_utf8_lossy(field);
                        if *s == self.options.null_value || s.is_empty() {
                            b.append_null();
                        } else {
                            b.append_value(s);
                        }
                    }
                    None => b.append_null(),
                }
            }
            spans.push((start, self.reader.position().byte()));
            lines.push(line);
            malformed.push(wrong);
            field_counts.push(self.record.len());
        }
        if lines.is_empty() {
            return Ok(None);
        }
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len());
        let mut corrupt_pos = None;
        let mut first_error: Option<(usize, String)> = None;
        if let (ParseMode::FailFast, Some(row)) =
            (self.options.mode, malformed.iter().position(|m| *m))
        {
            first_error = Some((
                row,
                format!(
                    "file {}, line {}: expected {} fields, found {}",
                    self.path, lines[row], self.n_fields, field_counts[row]
                ),
            ));
        }
        for (i, (b, c)) in builders.iter_mut().zip(&self.columns).enumerate() {
            let strings = b.finish();
            if c.position.is_none() {
                corrupt_pos = Some(i);
                arrays.push(Arc::new(strings));
                continue;
            }
            let convert =
                || values::convert_strings(&strings, &c.data_type, &self.options.formats, &self.tz);
            let (arr, failed) = engine_core::guard::catch_panic(convert).unwrap_or_else(|m| {
                let at = format!(
                    "file {}, lines {} to {}, column `{}`",
                    self.path,
                    lines.first().copied().unwrap_or_default(),
                    lines.last().copied().unwrap_or_default(),
                    c.name
                );
                Err(engine_core::guard::panicked(
                    "the CSV reader",
                    Some(&at),
                    &m,
                ))
            })?;
            if let Some(row) = failed.iter().position(|f| *f) {
                if self.options.mode == ParseMode::FailFast {
                    let msg = format!(
                        "file {}, line {}, column `{}`: cannot parse `{}` as {}",
                        self.path,
                        lines[row],
                        c.name,
                        strings.value(row),
                        engine_core::types::sql_type_name(&c.data_type)
                    );
                    if first_error.as_ref().is_none_or(|(r, _)| row < *r) {
                        first_error = Some((row, msg));
                    }
                }
                for (m, f) in malformed.iter_mut().zip(&failed) {
                    if *f && !*m {
                        *m = true;
                        ScanMetrics::add(&self.metrics.malformed_records, 1);
                    }
                }
            }
            arrays.push(arr);
        }
        if let Some((row, msg)) = first_error {
            return Err(malformed_record_error(&self.raw_record(spans[row]), &msg));
        }
        if let Some(ci) = corrupt_pos {
            let corrupt: StringArray = (0..lines.len())
                .map(|r| malformed[r].then(|| self.raw_record(spans[r])))
                .collect();
            arrays[ci] = Arc::new(corrupt);
        }
        let opts = RecordBatchOptions::new().with_row_count(Some(lines.len()));
        let batch = RecordBatch::try_new_with_options(self.out_schema.clone(), arrays, &opts)?;
        if self.options.mode == ParseMode::DropMalformed && malformed.iter().any(|m| *m) {
            let keep: BooleanArray = malformed.iter().map(|m| Some(!m)).collect();
            return Ok(Some(arrow::compute::filter_record_batch(&batch, &keep)?));
        }
        Ok(Some(batch))
    }
}

impl Iterator for CsvBatches {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.next_batch() {
                Ok(Some(b)) if b.num_rows() == 0 => continue,
                Ok(Some(b)) => return Some(Ok(b)),
                Ok(None) => return None,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasource::listing::list_files;
    use crate::datasource::table::FileTable;
    use arrow::array::Array;
    use engine_core::conf::SessionConf;
    use engine_core::physical::TableProvider;
    use engine_core::physical::plan::collect;

    fn ctx() -> Arc<TaskContext> {
        Arc::new(TaskContext::new(Arc::new(SessionConf::new())).unwrap())
    }

    fn table(
        dir: &std::path::Path,
        content: &str,
        opts: &[(&str, &str)],
        schema: Option<SchemaRef>,
    ) -> Result<FileTable> {
        let p = dir.join("data.csv");
        std::fs::write(&p, content).unwrap();
        let o = CsvOptions::parse(&Options::new(opts.iter().copied()))?;
        let listing = list_files(&[p.display().to_string()])?;
        let schema = match schema {
            Some(s) => s,
            None => infer_schema(&listing.files, &o, &Tz::UTC)?.unwrap(),
        };
        Ok(FileTable::new(Arc::new(CsvFormat::new(o)), listing, schema))
    }

    fn rows(t: &FileTable, projection: Option<&[usize]>) -> Result<Vec<RecordBatch>> {
        let c = ctx();
        let plan = t.scan(projection, &[], None, &c)?;
        collect(&plan, &c)
    }

    #[test]
    fn invalid_utf8_is_read_with_replacement_characters_not_an_error() {
        // Regression (fuzzing, issue 16): one bad byte failed the whole read.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("data.csv");
        std::fs::write(&p, b"a,b\n1,x\xffy\n\xfe2,z\n").unwrap();
        let o = CsvOptions::parse(&Options::new([("header", "true"), ("inferSchema", "true")]))
            .unwrap();
        let listing = list_files(&[p.display().to_string()]).unwrap();
        let schema = infer_schema(&listing.files, &o, &Tz::UTC).unwrap().unwrap();
        assert_eq!(schema.field(0).data_type(), &DataType::Utf8);
        let t = FileTable::new(Arc::new(CsvFormat::new(o)), listing, schema);
        let b = rows(&t, None).unwrap();
        let col = arrow::array::AsArray::as_string::<i32>(b[0].column(1));
        assert_eq!(col.value(0), "x\u{fffd}y");
    }

    #[test]
    fn infers_spark_types_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let t = table(
            dir.path(),
            "i,l,d,dt,ts,b,s,n\n1,3000000000,1.5,2020-01-01,2020-01-01 10:00:00,true,x,\n2,1,2,2020-01-02,2020-01-01T10:00:00Z,FALSE,1,\n",
            &[("header", "true"), ("inferSchema", "true")],
            None,
        )
        .unwrap();
        let types: Vec<String> = t
            .schema()
            .fields()
            .iter()
            .map(|f| {
                format!(
                    "{}:{}",
                    f.name(),
                    engine_core::types::simple_string(f.data_type())
                )
            })
            .collect();
        assert_eq!(
            types,
            [
                "i:int",
                "l:bigint",
                "d:double",
                "dt:date",
                "ts:timestamp",
                "b:boolean",
                "s:string",
                "n:string"
            ]
        );
        let b = rows(&t, None).unwrap();
        assert_eq!(b.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
    }

    #[test]
    fn without_header_all_strings_named_c() {
        let dir = tempfile::tempdir().unwrap();
        let t = table(dir.path(), "1,\"a,b\"\n2,\"c\\\"d\"\n", &[], None).unwrap();
        let names: Vec<String> = t
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["_c0", "_c1"]);
        let b = rows(&t, Some(&[1])).unwrap();
        let s = b[0]
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(s.value(0), "a,b");
        assert_eq!(s.value(1), "c\"d");
    }

    #[test]
    fn modes_handle_malformed_rows() {
        let dir = tempfile::tempdir().unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("b", DataType::Utf8, true),
            Field::new("_corrupt_record", DataType::Utf8, true),
        ]));
        let data = "1,x\nbad,y\n3\n4,z\n";
        let t = table(dir.path(), data, &[], Some(schema.clone())).unwrap();
        let b = rows(&t, None).unwrap();
        let b = arrow::compute::concat_batches(&b[0].schema(), &b).unwrap();
        assert_eq!(b.num_rows(), 4);
        assert_eq!(b.column(0).null_count(), 1);
        let corrupt = b.column(2).as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(corrupt.value(1), "bad,y");
        assert_eq!(corrupt.value(2), "3");
        assert!(corrupt.is_null(0));
        assert_eq!(ScanMetrics::get(&t.metrics().malformed_records), 2);

        let t = table(
            dir.path(),
            data,
            &[("mode", "DROPMALFORMED")],
            Some(schema.clone()),
        )
        .unwrap();
        let n: usize = rows(&t, Some(&[0, 1]))
            .unwrap()
            .iter()
            .map(|b| b.num_rows())
            .sum();
        assert_eq!(n, 2);
        assert_eq!(ScanMetrics::get(&t.metrics().malformed_records), 2);

        let t = table(dir.path(), data, &[("mode", "failfast")], Some(schema)).unwrap();
        let e = rows(&t, Some(&[0])).unwrap_err().to_string();
        assert!(
            e.contains("MALFORMED_RECORD_IN_PARSING")
                && e.contains("line 2")
                && e.contains("`a`")
                && e.contains("data.csv"),
            "{e}"
        );
    }

    #[test]
    fn big_files_split_at_lines_and_skip_one_header() {
        let dir = tempfile::tempdir().unwrap();
        let mut data = String::from("id,v\n");
        for i in 0..40 {
            data.push_str(&format!("{i},x{i}\n"));
        }
        let t = table(
            dir.path(),
            &data,
            &[
                ("header", "true"),
                ("inferSchema", "true"),
                ("mode", "FAILFAST"),
            ],
            None,
        )
        .unwrap();
        let mut conf = SessionConf::new();
        conf.set(crate::datasource::table::MAX_PARTITION_BYTES, "50");
        let c = Arc::new(TaskContext::new(Arc::new(conf)).unwrap());
        let plan = t.scan(Some(&[0]), &[], None, &c).unwrap();
        assert!(plan.output_partitions() > 3);
        let b = collect(&plan, &c).unwrap();
        let ids: Vec<i32> = b
            .iter()
            .flat_map(|b| {
                let a = b
                    .column(0)
                    .as_any()
                    .downcast_ref::<arrow::array::Int32Array>()
                    .unwrap();
                a.values().to_vec()
            })
            .collect();
        assert_eq!(ids, (0..40).collect::<Vec<i32>>());
    }

    #[test]
    fn small_batches_and_null_value() {
        let dir = tempfile::tempdir().unwrap();
        let mut data = String::new();
        for i in 0..25 {
            data.push_str(&format!("{i},{}\n", if i % 5 == 0 { "NA" } else { "v" }));
        }
        let t = table(
            dir.path(),
            &data,
            &[("nullValue", "NA"), ("inferSchema", "true")],
            None,
        )
        .unwrap();
        let mut conf = SessionConf::new();
        conf.set(engine_core::conf::BATCH_SIZE, "10");
        let c = Arc::new(TaskContext::new(Arc::new(conf)).unwrap());
        let plan = t.scan(Some(&[1]), &[], None, &c).unwrap();
        let b = collect(&plan, &c).unwrap();
        assert_eq!(
            b.iter().map(|b| b.num_rows()).collect::<Vec<_>>(),
            [10, 10, 5]
        );
        assert_eq!(b.iter().map(|b| b.column(0).null_count()).sum::<usize>(), 5);
        let plan = t.scan(Some(&[]), &[], Some(12), &c).unwrap();
        let n: usize = collect(&plan, &c)
            .unwrap()
            .iter()
            .map(|b| b.num_rows())
            .sum();
        assert_eq!(n, 12);
        assert!(
            plan.describe().starts_with("FileScan csv [] Location: ["),
            "{}",
            plan.describe()
        );
    }
}
