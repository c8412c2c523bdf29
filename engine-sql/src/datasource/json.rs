//! JSON lines: schema inference by sampling (Spark's rules) and decoding with arrow-json's
//! schema-driven decoder, falling back to line-by-line decoding only for chunks that hold
//! a malformed line.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, StringArray, new_null_array};
use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::json::reader::Decoder;
use engine_core::{EngineError, Result};

use super::listing::FileEntry;
use super::options::{Options, ParseMode, malformed_record_error};
use super::split::{line_splits, read_lines};
use super::table::{FileFormat, FileRead, FileSplit, ScanMetrics};
use engine_core::functions::json::infer::{JType, infer_value, merge, struct_fields};
use engine_core::options::DEFAULT_CORRUPT_RECORD_COLUMN;
use engine_core::physical::plan::{BatchIter, TaskContext};

/// Parsed json read options.
#[derive(Debug, Clone)]
pub struct JsonOptions {
    /// `mode`.
    pub mode: ParseMode,
    /// `columnNameOfCorruptRecord`.
    pub corrupt_column: String,
    /// `samplingRatio` for inference.
    pub sampling_ratio: f64,
    /// `primitivesAsString`: infer every primitive as STRING.
    pub primitives_as_string: bool,
    /// `multiLine`: each file is one JSON document (an object or an array of objects)
    /// instead of one object per line.
    pub multi_line: bool,
}

impl JsonOptions {
    /// Reads Spark's json options.
    pub fn parse(o: &Options) -> Result<Self> {
        Ok(JsonOptions {
            mode: o.parse_mode()?,
            corrupt_column: o.string("columnnameofcorruptrecord", DEFAULT_CORRUPT_RECORD_COLUMN),
            sampling_ratio: o.ratio("samplingratio", 1.0)?,
            primitives_as_string: o.bool("primitivesasstring", false)?,
            multi_line: o.bool("multiline", false)?,
        })
    }
}

/// Byte ranges of the non-blank lines of `data`, with their 1-based line numbers.
fn lines(data: &[u8]) -> Vec<(usize, usize, u64)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut line = 1u64;
    let push = |s: usize, e: usize, n: u64, out: &mut Vec<(usize, usize, u64)>| {
        if data[s..e].iter().any(|b| !b.is_ascii_whitespace()) {
            out.push((s, e, n));
        }
    };
    for (i, b) in data.iter().enumerate() {
        if *b == b'\n' {
            push(start, i, line, &mut out);
            start = i + 1;
            line += 1;
        }
    }
    if start < data.len() {
        push(start, data.len(), line, &mut out);
    }
    out
}

fn read_file(path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| EngineError::io(format!("reading {}", path.display()), e))
}

/// Infers the schema of json-lines `files`.
pub fn infer_schema(files: &[FileEntry], o: &JsonOptions) -> Result<Option<SchemaRef>> {
    let mut root = JType::Struct(BTreeMap::new());
    let mut corrupt = false;
    let mut any = false;
    let mut seen = 0u64;
    for f in files {
        let data = read_file(&f.path)?;
        if o.multi_line {
            any = true;
            match serde_json::from_slice::<serde_json::Value>(&data) {
                Ok(v @ serde_json::Value::Object(_)) => {
                    root = merge(root, infer_value(&v, o.primitives_as_string))
                }
                Ok(serde_json::Value::Array(items)) => {
                    for v in items {
                        if v.is_object() {
                            root = merge(root, infer_value(&v, o.primitives_as_string));
                        } else {
                            corrupt = true;
                        }
                    }
                }
                _ => corrupt = true,
            }
            continue;
        }
        for (s, e, _) in lines(&data) {
            seen += 1;
            if o.sampling_ratio < 1.0
                && ((seen as f64) * o.sampling_ratio).floor()
                    == ((seen - 1) as f64 * o.sampling_ratio).floor()
            {
                continue;
            }
            any = true;
            match serde_json::from_slice::<serde_json::Value>(&data[s..e]) {
                Ok(v @ serde_json::Value::Object(_)) => {
                    root = merge(root, infer_value(&v, o.primitives_as_string))
                }
                _ => corrupt = true,
            }
        }
    }
    if !any {
        return Ok(None);
    }
    let JType::Struct(mut fields) = root else {
        return Err(EngineError::Internal("json root is not a struct".into()));
    };
    if corrupt && o.mode == ParseMode::Permissive {
        fields.insert(o.corrupt_column.clone(), JType::Str);
    }
    Ok(Some(Arc::new(Schema::new(struct_fields(&fields)))))
}

/// The json [`FileFormat`].
#[derive(Debug, Clone)]
pub struct JsonFormat {
    options: Arc<JsonOptions>,
}

impl JsonFormat {
    /// A format reading with `options`.
    pub fn new(options: JsonOptions) -> Self {
        JsonFormat {
            options: Arc::new(options),
        }
    }
}

impl FileFormat for JsonFormat {
    fn name(&self) -> &'static str {
        "json"
    }

    fn splits(&self, file: &FileEntry, target_bytes: u64) -> Result<Vec<FileSplit>> {
        Ok(if self.options.multi_line {
            vec![FileSplit::whole(file)]
        } else {
            line_splits(file, target_bytes)
        })
    }

    fn open(&self, read: &FileRead<'_>, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let o = self.options.clone();
        let out_schema = Arc::new(read.data_schema.project(read.columns)?);
        let corrupt_pos = out_schema.index_of(&o.corrupt_column).ok();
        let decode_fields: Vec<Arc<Field>> = out_schema
            .fields()
            .iter()
            .filter(|f| *f.name() != o.corrupt_column)
            .cloned()
            .collect();
        let decode_schema = Arc::new(Schema::new(decode_fields));
        let data = read_lines(&read.file.path, read.split)?;
        let all_lines = if o.multi_line {
            // The whole file is one record for the decoder (which flattens a top-level array).
            vec![(0, data.len(), 1)]
        } else {
            lines(&data)
        };
        let batch_size = ctx.batch_size().max(1);
        let chunks: Vec<Vec<(usize, usize, u64)>> = if o.multi_line {
            vec![all_lines]
        } else {
            all_lines.chunks(batch_size).map(<[_]>::to_vec).collect()
        };
        let state = JsonChunks {
            data,
            path: match read.split {
                Some(r) if r.first().is_some_and(|s| *s > 0) => format!(
                    "{} (lines counted from byte {})",
                    read.file.path.display(),
                    r[0]
                ),
                _ => read.file.path.display().to_string(),
            },
            options: o,
            decode_schema,
            out_schema,
            corrupt_pos,
            metrics: read.metrics.clone(),
            batch_size,
        };
        let mut failed = false;
        let iter = chunks.into_iter().map_while(move |chunk| {
            if failed {
                return None;
            }
            let r = state.decode_chunk(&chunk);
            failed = r.is_err();
            Some(r)
        });
        Ok(Box::new(
            iter.filter(|r| !matches!(r, Ok(b) if b.num_rows() == 0)),
        ))
    }
}

struct JsonChunks {
    data: Vec<u8>,
    path: String,
    options: Arc<JsonOptions>,
    decode_schema: SchemaRef,
    out_schema: SchemaRef,
    corrupt_pos: Option<usize>,
    metrics: Arc<ScanMetrics>,
    batch_size: usize,
}

impl JsonChunks {
    /// A decoder; `lenient` turns values of the wrong type into NULL instead of failing.
    fn decoder(&self, lenient: bool) -> Result<Decoder> {
        Ok(arrow::json::ReaderBuilder::new(self.decode_schema.clone())
            .with_batch_size(self.batch_size)
            .with_coerce_primitive(true)
            .with_ignore_type_conflicts(lenient)
            .with_flatten(self.options.multi_line)
            .build_decoder()?)
    }

    fn decode_lines(
        &self,
        lines: &[(usize, usize, u64)],
        lenient: bool,
    ) -> Result<RecordBatch, arrow::error::ArrowError> {
        let mut d = self
            .decoder(lenient)
            .map_err(|e| arrow::error::ArrowError::ExternalError(Box::new(e)))?;
        // The decoder stops taking input when a batch is full (only possible for a
        // multiLine document): flush and go on.
        let mut out = Vec::new();
        for (s, e, _) in lines {
            let mut buf = &self.data[*s..*e];
            while !buf.is_empty() {
                let n = d.decode(buf)?;
                buf = &buf[n..];
                if n == 0 || d.len() >= self.batch_size {
                    if let Some(b) = d.flush()? {
                        out.push(b);
                    } else if n == 0 {
                        break;
                    }
                }
            }
            d.decode(b"\n")?;
        }
        if let Some(b) = d.flush()? {
            out.push(b);
        }
        match out.len() {
            0 => Ok(RecordBatch::new_empty(self.decode_schema.clone())),
            1 => Ok(out.remove(0)),
            _ => arrow::compute::concat_batches(&self.decode_schema, &out),
        }
    }

    /// Adds the corrupt-record column (raw text of malformed lines) at its position.
    fn finish(&self, decoded: RecordBatch, raw: Option<StringArray>) -> Result<RecordBatch> {
        let n = decoded.num_rows();
        let mut cols: Vec<ArrayRef> = decoded.columns().to_vec();
        if let Some(p) = self.corrupt_pos {
            let raw = raw.unwrap_or_else(|| StringArray::new_null(n));
            cols.insert(p, Arc::new(raw));
        }
        let opts = RecordBatchOptions::new().with_row_count(Some(n));
        Ok(RecordBatch::try_new_with_options(
            self.out_schema.clone(),
            cols,
            &opts,
        )?)
    }

    fn decode_chunk(&self, chunk: &[(usize, usize, u64)]) -> Result<RecordBatch> {
        if self.decode_schema.fields().is_empty() && self.corrupt_pos.is_none() {
            // Nothing to decode (e.g. `count()`): only the number of records matters.
            let opts = RecordBatchOptions::new().with_row_count(Some(chunk.len()));
            return Ok(RecordBatch::try_new_with_options(
                self.out_schema.clone(),
                vec![],
                &opts,
            )?);
        }
        // PERMISSIVE without a corrupt-record column can decode leniently in one go (bad
        // values become NULL, Spark's partial results); otherwise type errors must be seen.
        let lenient = self.options.mode == ParseMode::Permissive && self.corrupt_pos.is_none();
        if let Ok(b) = self.decode_lines(chunk, lenient) {
            return self.finish(b, None);
        }
        // Some line is malformed: find it (them) line by line.
        let mut parts: Vec<RecordBatch> = Vec::new();
        let mut raw: Vec<Option<&str>> = Vec::new();
        for line in chunk {
            match self.decode_lines(std::slice::from_ref(line), lenient) {
                Ok(b) => {
                    raw.push(None);
                    parts.push(b);
                }
                Err(err) => {
                    ScanMetrics::add(&self.metrics.malformed_records, 1);
                    let text = String::from_utf8_lossy(&self.data[line.0..line.1]).into_owned();
                    match self.options.mode {
                        ParseMode::FailFast => {
                            return Err(malformed_record_error(
                                text.trim_end(),
                                &format!("file {}, line {}: {err}", self.path, line.2),
                            ));
                        }
                        ParseMode::DropMalformed => {}
                        ParseMode::Permissive => {
                            // Keep what parses (wrong-typed values NULL), else a NULL row.
                            let partial = self.decode_lines(std::slice::from_ref(line), true);
                            match partial {
                                Ok(b) if b.num_rows() == 1 => parts.push(b),
                                _ => {
                                    let nulls: Vec<ArrayRef> = self
                                        .decode_schema
                                        .fields()
                                        .iter()
                                        .map(|f| new_null_array(f.data_type(), 1))
                                        .collect();
                                    let opts = RecordBatchOptions::new().with_row_count(Some(1));
                                    parts.push(RecordBatch::try_new_with_options(
                                        self.decode_schema.clone(),
                                        nulls,
                                        &opts,
                                    )?);
                                }
                            }
                            raw.push(Some(
                                std::str::from_utf8(&self.data[line.0..line.1])
                                    .unwrap_or("")
                                    .trim_end(),
                            ));
                        }
                    }
                }
            }
        }
        let decoded = arrow::compute::concat_batches(&self.decode_schema, &parts)?;
        let raw: StringArray = raw.into_iter().collect();
        self.finish(decoded, Some(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasource::listing::list_files;
    use crate::datasource::table::FileTable;
    use arrow::array::Array;
    use arrow::datatypes::DataType;
    use engine_core::conf::SessionConf;
    use engine_core::physical::TableProvider;
    use engine_core::physical::plan::collect;
    use engine_core::types::simple_string;

    fn table(dir: &std::path::Path, content: &str, opts: &[(&str, &str)]) -> FileTable {
        let p = dir.join("data.json");
        std::fs::write(&p, content).unwrap();
        let o = JsonOptions::parse(&Options::new(opts.iter().copied())).unwrap();
        let listing = list_files(&[p.display().to_string()]).unwrap();
        let schema = infer_schema(&listing.files, &o).unwrap().unwrap();
        FileTable::new(Arc::new(JsonFormat::new(o)), listing, schema)
    }

    fn read(t: &FileTable) -> Result<RecordBatch> {
        let c = Arc::new(TaskContext::new(Arc::new(SessionConf::new())).unwrap());
        let b = collect(&t.scan(None, &[], None, &c)?, &c)?;
        Ok(arrow::compute::concat_batches(&t.schema(), &b)?)
    }

    #[test]
    fn infers_like_spark() {
        let dir = tempfile::tempdir().unwrap();
        let t = table(
            dir.path(),
            "{\"z\":1,\"a\":\"x\",\"n\":{\"b\":1,\"a\":[1,2]}}\n\n{\"z\":2.5,\"a\":3,\"m\":null,\"n\":{\"c\":true}}\n",
            &[],
        );
        assert_eq!(
            simple_string(&DataType::Struct(t.schema().fields().clone())),
            "struct<a:string,m:string,n:struct<a:array<bigint>,b:bigint,c:boolean>,z:double>"
        );
        let b = read(&t).unwrap();
        assert_eq!(b.num_rows(), 2);
        let a = b.column(0).as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(a.value(1), "3");
    }

    #[test]
    fn big_files_split_into_line_ranges() {
        let dir = tempfile::tempdir().unwrap();
        let data: String = (0..50).map(|i| format!("{{\"i\":{i}}}\n")).collect();
        let t = table(dir.path(), &data, &[]);
        let mut conf = SessionConf::new();
        conf.set(crate::datasource::table::MAX_PARTITION_BYTES, "37");
        let c = Arc::new(TaskContext::new(Arc::new(conf)).unwrap());
        let plan = t.scan(None, &[], None, &c).unwrap();
        assert!(plan.output_partitions() > 5);
        let b = collect(&plan, &c).unwrap();
        let b = arrow::compute::concat_batches(&t.schema(), &b).unwrap();
        let i = b
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .unwrap();
        assert_eq!(i.values().to_vec(), (0..50).collect::<Vec<i64>>());
    }

    #[test]
    fn wrong_types_keep_partial_rows_and_the_raw_record() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.json");
        std::fs::write(&p, "{\"a\":1,\"b\":\"x\"}\n{\"a\":\"oops\",\"b\":\"y\"}\n").unwrap();
        let o = JsonOptions::parse(&Options::default()).unwrap();
        let listing = list_files(&[p.display().to_string()]).unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("b", DataType::Utf8, true),
            Field::new("_corrupt_record", DataType::Utf8, true),
        ]));
        let t = FileTable::new(Arc::new(JsonFormat::new(o)), listing, schema);
        let b = read(&t).unwrap();
        assert_eq!(b.num_rows(), 2);
        assert!(b.column(0).is_null(1));
        let bcol = b.column(1).as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(bcol.value(1), "y");
        let c = b.column(2).as_any().downcast_ref::<StringArray>().unwrap();
        assert!(c.is_null(0));
        assert_eq!(c.value(1), "{\"a\":\"oops\",\"b\":\"y\"}");
    }

    #[test]
    fn multi_line_documents() {
        let dir = tempfile::tempdir().unwrap();
        let data = "[\n  {\"a\": 1,\n   \"b\": \"x\"},\n  {\"a\": 2}\n]\n";
        let t = table(dir.path(), data, &[("multiLine", "true")]);
        let b = read(&t).unwrap();
        assert_eq!(b.num_rows(), 2);
        assert_eq!(b.num_columns(), 2);
        let t = table(
            dir.path(),
            "{\"a\": 1,\n \"b\": 2}",
            &[("multiLine", "true")],
        );
        assert_eq!(read(&t).unwrap().num_rows(), 1);
    }

    #[test]
    fn malformed_lines_by_mode() {
        let dir = tempfile::tempdir().unwrap();
        let data = "{\"a\":1}\n{\"a\":\n{\"a\":3}\n";
        let t = table(dir.path(), data, &[]);
        let names: Vec<String> = t
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["_corrupt_record", "a"]);
        let b = read(&t).unwrap();
        assert_eq!(b.num_rows(), 3);
        let c = b.column(0).as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(c.value(1), "{\"a\":");
        assert!(c.is_null(0));
        let t = table(dir.path(), data, &[("mode", "DROPMALFORMED")]);
        assert_eq!(read(&t).unwrap().num_rows(), 2);
        let t = table(dir.path(), data, &[("mode", "FAILFAST")]);
        let e = read(&t).unwrap_err().to_string();
        assert!(
            e.contains("line 2") && e.contains("MALFORMED_RECORD_IN_PARSING"),
            "{e}"
        );
    }
}
