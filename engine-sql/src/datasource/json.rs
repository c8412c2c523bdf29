//! JSON lines: schema inference by sampling (Spark's rules) and decoding with the engine's
//! JSON decoder (the one `from_json` uses: the same values, dates, timestamps and parse
//! modes for a record read from a file or from a Kafka message).

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::datatypes::{Schema, SchemaRef};
use engine_core::functions::json::JsonParseOptions;
use engine_core::functions::json::records::Records;
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
    /// The decoder's options (`allowComments`, `timestampFormat`, ...); the session's time
    /// zone is set when a file is opened.
    pub decode: JsonParseOptions,
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
            decode: engine_core::functions::json::parse_options(o)?,
        })
    }
}

/// Byte ranges of the non-blank lines of `data`, with their 1-based line numbers.
fn lines(data: &[u8]) -> Vec<(usize, usize, u64)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut line = 1u64;
    let mut push = |s: usize, e: usize, n: u64| {
        let blank = data
            .get(s..e)
            .is_none_or(|l| l.iter().all(u8::is_ascii_whitespace));
        if !blank {
            out.push((s, e, n));
        }
    };
    // memchr finds the newlines a word at a time: a byte loop was a sixth of a windowed
    // query's profile over JSON files.
    for i in memchr::memchr_iter(b'\n', data) {
        push(start, i, line);
        start = i + 1;
        line += 1;
    }
    if start < data.len() {
        push(start, data.len(), line);
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
        let mut decode = o.decode.clone();
        decode.time_zone = ctx.functions.time_zone;
        decode.now_micros = ctx.functions.query_start_micros;
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
            decode,
            out_schema,
            corrupt_pos,
            metrics: read.metrics.clone(),
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
    decode: JsonParseOptions,
    out_schema: SchemaRef,
    corrupt_pos: Option<usize>,
    metrics: Arc<ScanMetrics>,
}

impl JsonChunks {
    fn decode_chunk(&self, chunk: &[(usize, usize, u64)]) -> Result<RecordBatch> {
        let opts = RecordBatchOptions::new().with_row_count(Some(chunk.len()));
        if self.out_schema.fields().is_empty() {
            // Nothing to decode (e.g. `count()`): only the number of records matters.
            return Ok(RecordBatch::try_new_with_options(
                self.out_schema.clone(),
                vec![],
                &opts,
            )?);
        }
        let corrupt = self
            .corrupt_pos
            .map(|_| self.options.corrupt_column.as_str());
        let mut records = Records::new(self.out_schema.fields(), corrupt, self.options.mode, true);
        for (start, end, line) in chunk {
            let text = self.data.get(*start..*end).unwrap_or_default();
            let pushed = engine_core::guard::catch_panic(|| records.push(text, &self.decode));
            let malformed = pushed.map_err(|m| {
                let at = format!("file {}, line {line}", self.path);
                engine_core::guard::panicked("the JSON reader", Some(&at), &m)
            })?;
            if malformed {
                ScanMetrics::add(&self.metrics.malformed_records, 1);
                if self.options.mode == ParseMode::FailFast {
                    let shown = String::from_utf8_lossy(text);
                    return Err(malformed_record_error(
                        shown.trim_end(),
                        &format!("file {}, line {line}", self.path),
                    ));
                }
            }
        }
        let rows = records.finish()?;
        let n = rows.len();
        // The decoder's fields are all nullable; give the columns the scan's exact types.
        let columns = rows
            .columns()
            .iter()
            .zip(self.out_schema.fields())
            .map(|(c, f)| {
                if c.data_type() == f.data_type() {
                    Ok(c.clone())
                } else {
                    Ok(arrow::compute::cast(c, f.data_type())?)
                }
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        let opts = RecordBatchOptions::new().with_row_count(Some(n));
        Ok(RecordBatch::try_new_with_options(
            self.out_schema.clone(),
            columns,
            &opts,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasource::listing::list_files;
    use crate::datasource::table::FileTable;
    use arrow::array::{Array, StringArray};
    use arrow::datatypes::{DataType, Field};
    use engine_core::conf::SessionConf;
    use engine_core::physical::TableProvider;
    use engine_core::physical::plan::collect;
    use engine_core::types::simple_string;

    proptest::proptest! {
        #[test]
        fn lines_are_the_non_blank_lines_with_their_numbers(
            data in proptest::collection::vec(proptest::sample::select(vec![b'a', b' ', b'\n', b'\r', b'{', b'\t']), 0..200)
        ) {
            let mut want = Vec::new();
            let mut at = 0;
            for (n, l) in data.split(|b| *b == b'\n').enumerate() {
                if l.iter().any(|b| !b.is_ascii_whitespace()) {
                    want.push((at, at + l.len(), n as u64 + 1));
                }
                at += l.len() + 1;
            }
            proptest::prop_assert_eq!(lines(&data), want);
        }
    }

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
