//! Text files: one STRING column `value` per line (`\n` or `\r\n`), or with `wholetext`
//! one row per file.

use std::sync::Arc;

use arrow::array::{RecordBatch, RecordBatchOptions, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use engine_core::Result;

use super::listing::FileEntry;
use super::options::Options;
use super::split::{line_splits, read_lines};
use super::table::{FileFormat, FileRead, FileSplit};
use engine_core::physical::plan::{BatchIter, TaskContext};

/// The schema of a text read: `value STRING`.
pub fn text_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("value", DataType::Utf8, true)]))
}

/// The text [`FileFormat`].
#[derive(Debug, Clone)]
pub struct TextFormat {
    whole_text: bool,
}

impl TextFormat {
    /// A format with the `wholetext` option.
    pub fn new(o: &Options) -> Result<Self> {
        Ok(TextFormat {
            whole_text: o.bool("wholetext", false)?,
        })
    }
}

impl FileFormat for TextFormat {
    fn name(&self) -> &'static str {
        "text"
    }

    fn splits(&self, file: &FileEntry, target_bytes: u64) -> Result<Vec<FileSplit>> {
        Ok(if self.whole_text {
            vec![FileSplit::whole(file)]
        } else {
            line_splits(file, target_bytes)
        })
    }

    fn open(&self, read: &FileRead<'_>, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let bytes = read_lines(&read.file.path, read.split)?;
        // Valid UTF-8 (the usual case) is taken as is; invalid bytes become U+FFFD.
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        let schema = Arc::new(read.data_schema.project(read.columns)?);
        let with_value = !read.columns.is_empty();
        let batch_size = ctx.batch_size();
        let lines: Vec<(usize, usize)> = if self.whole_text {
            vec![(0, text.len())]
        } else {
            // Byte ranges of the lines; a final newline does not start an empty line.
            let bytes = text.as_bytes();
            let mut out = Vec::new();
            let mut start = 0;
            for i in memchr::memchr_iter(b'\n', bytes) {
                let end = if i > start && bytes[i - 1] == b'\r' {
                    i - 1
                } else {
                    i
                };
                out.push((start, end));
                start = i + 1;
            }
            if start < text.len() {
                out.push((start, text.len()));
            }
            out
        };
        let chunks: Vec<Vec<(usize, usize)>> =
            lines.chunks(batch_size.max(1)).map(<[_]>::to_vec).collect();
        let iter = chunks.into_iter().map(move |chunk| {
            let opts = RecordBatchOptions::new().with_row_count(Some(chunk.len()));
            let cols = if with_value {
                let mut b = StringBuilder::with_capacity(
                    chunk.len(),
                    chunk.iter().map(|(s, e)| e - s).sum(),
                );
                for (s, e) in &chunk {
                    b.append_value(&text[*s..*e]);
                }
                vec![Arc::new(b.finish()) as _]
            } else {
                vec![]
            };
            Ok(RecordBatch::try_new_with_options(
                schema.clone(),
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
    use engine_core::conf::SessionConf;
    use engine_core::physical::TableProvider;
    use engine_core::physical::plan::collect;

    #[test]
    fn one_row_per_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "hello\r\nworld\n\nlast").unwrap();
        let listing = list_files(&[dir.path().display().to_string()]).unwrap();
        let t = FileTable::new(
            Arc::new(TextFormat::new(&Options::default()).unwrap()),
            listing,
            text_schema(),
        );
        let c = Arc::new(TaskContext::new(Arc::new(SessionConf::new())).unwrap());
        let b = collect(&t.scan(None, &[], None, &c).unwrap(), &c).unwrap();
        let v = b[0]
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .unwrap();
        let got: Vec<&str> = v.iter().map(|s| s.unwrap()).collect();
        assert_eq!(got, ["hello", "world", "", "last"]);

        let mut conf = SessionConf::new();
        conf.set(crate::datasource::table::MAX_PARTITION_BYTES, "4");
        let c = Arc::new(TaskContext::new(Arc::new(conf)).unwrap());
        let plan = t.scan(None, &[], None, &c).unwrap();
        assert!(plan.output_partitions() > 1);
        let b = collect(&plan, &c).unwrap();
        let got: Vec<String> = b
            .iter()
            .flat_map(|b| {
                let v = b
                    .column(0)
                    .as_any()
                    .downcast_ref::<arrow::array::StringArray>()
                    .unwrap();
                v.iter().map(|s| s.unwrap().to_string()).collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(got, ["hello", "world", "", "last"]);
    }
}
