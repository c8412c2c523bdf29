//! The console sink: prints every batch as Spark does (`Batch: N` banner, then `show`).

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use engine_core::Result;
use engine_core::connector::{DataWriter, Sink, WriterCommitMessage, WriterContext};
use engine_core::options::Options;

use super::{CollectingWriter, collected};
use crate::session::Session;
use engine_core::physical::table::memory::MemTable;

/// Prints each batch to standard output: options `numRows` (default 20) and `truncate`
/// (default true: cells cut at 20 characters).
#[derive(Debug)]
pub struct ConsoleSink {
    session: Session,
    schema: SchemaRef,
    num_rows: usize,
    truncate: bool,
}

impl ConsoleSink {
    /// A console sink from the writer options.
    pub fn new(session: &Session, schema: SchemaRef, options: &Options) -> Result<Self> {
        Ok(ConsoleSink {
            session: session.clone(),
            schema,
            num_rows: options.u64("numRows", 20)? as usize,
            truncate: options.bool("truncate", true)?,
        })
    }

    /// What the sink prints for `batch_id` with these rows.
    pub fn render(
        &self,
        batch_id: u64,
        parts: Vec<Vec<arrow::record_batch::RecordBatch>>,
    ) -> Result<String> {
        let table = MemTable::try_new(self.schema.clone(), parts)?;
        let df = self.session.dataframe_from_table(Arc::new(table))?;
        let body = df.show_string(self.num_rows, if self.truncate { 20 } else { 0 })?;
        Ok(format!(
            "-------------------------------------------\nBatch: {batch_id}\n-------------------------------------------\n{body}\n"
        ))
    }
}

impl Sink for ConsoleSink {
    fn description(&self) -> String {
        format!(
            "ConsoleSink[numRows={}, truncate={}]",
            self.num_rows, self.truncate
        )
    }

    fn create_writer(&self, _ctx: WriterContext) -> Result<Box<dyn DataWriter>> {
        Ok(Box::new(CollectingWriter::default()))
    }

    fn commit(&self, batch_id: u64, messages: Vec<WriterCommitMessage>) -> Result<()> {
        // Console output is at-least-once, as in Spark: a replayed batch prints again.
        print!("{}", self.render(batch_id, collected(messages)?)?);
        Ok(())
    }
}
