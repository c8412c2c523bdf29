//! `MemoryStream`: a replayable in-memory source for tests and examples (Spark's
//! `MemoryStream`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use engine_core::connector::{
    BatchIter, Format, InputPartition, Offset, ReadLimit, Source, SourceContext,
};
use engine_core::options::Options;
use engine_core::{EngineError, Result};

use crate::dataframe::DataFrame;
use crate::session::Session;
use engine_core::logical::{LogicalPlan, StreamingRelation};

#[derive(Debug)]
struct Inner {
    id: u64,
    schema: SchemaRef,
    batches: Mutex<Vec<RecordBatch>>,
    max_rows_per_trigger: Mutex<Option<u64>>,
}

impl Inner {
    fn batches(&self) -> Vec<RecordBatch> {
        self.batches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// Batches added by the program, read by a streaming query. The offset is the index of the
/// last added batch (`-1` before any, Spark's `LongOffset`); every range can be replayed
/// for as long as the stream lives, which is what restart tests need.
#[derive(Debug, Clone)]
pub struct MemoryStream {
    session: Session,
    inner: Arc<Inner>,
}

impl MemoryStream {
    /// An empty stream of rows with `schema`.
    pub fn new(session: &Session, schema: SchemaRef) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        MemoryStream {
            session: session.clone(),
            inner: Arc::new(Inner {
                id: NEXT.fetch_add(1, Ordering::Relaxed),
                schema,
                batches: Mutex::new(Vec::new()),
                max_rows_per_trigger: Mutex::new(None),
            }),
        }
    }

    /// Limits each micro-batch to about `n` rows (whole added batches, at least one), like a
    /// source's `maxOffsetsPerTrigger`; lets tests see `AvailableNow` split its work.
    pub fn set_max_rows_per_trigger(&self, n: Option<u64>) {
        *self
            .inner
            .max_rows_per_trigger
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = n;
    }

    /// Appends a batch; returns the offset that includes it.
    pub fn add_data(&self, batch: RecordBatch) -> Result<Offset> {
        if batch.schema().fields() != self.inner.schema.fields() {
            return Err(EngineError::invalid_option(
                "MemoryStream",
                format!(
                    "batch schema {:?} differs from the stream schema {:?}",
                    batch.schema(),
                    self.inner.schema
                ),
            ));
        }
        let mut b = self
            .inner
            .batches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        b.push(batch);
        Ok(Offset::new((b.len() - 1).to_string()))
    }

    /// The streaming DataFrame reading this stream. Every call reads the same source.
    pub fn to_df(&self) -> Result<DataFrame> {
        let format: Arc<dyn Format> = Arc::new(MemoryStreamFormat {
            inner: self.inner.clone(),
        });
        let mut relation = StreamingRelation::new(
            format,
            "memory",
            Options::default(),
            None,
            self.inner.schema.clone(),
        );
        // Stable per stream, so two `to_df()` of one stream are one source.
        relation.id = u64::MAX - self.inner.id;
        DataFrame::from_plan(
            self.session.clone(),
            Arc::new(LogicalPlan::StreamingRelation(Arc::new(relation))),
        )
    }
}

struct MemoryStreamFormat {
    inner: Arc<Inner>,
}

impl Format for MemoryStreamFormat {
    fn short_name(&self) -> &str {
        "memory"
    }

    fn schema(&self, _: &Options, _: Option<SchemaRef>) -> Result<SchemaRef> {
        Ok(self.inner.schema.clone())
    }

    fn create_source(&self, _ctx: SourceContext) -> Result<Box<dyn Source>> {
        Ok(Box::new(MemorySource {
            inner: self.inner.clone(),
        }))
    }
}

struct MemorySource {
    inner: Arc<Inner>,
}

fn parse_offset(o: &Offset) -> Result<i64> {
    o.json().trim().parse::<i64>().map_err(|_| {
        EngineError::execution(
            "STREAMING_CHECKPOINT_CORRUPT",
            format!("MemoryStream offset must be a number, got {o}"),
        )
    })
}

impl Source for MemorySource {
    fn description(&self) -> String {
        let cols: Vec<&str> = self
            .inner
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        format!("MemoryStream[{}]", cols.join(","))
    }

    fn schema(&self) -> SchemaRef {
        self.inner.schema.clone()
    }

    fn initial_offset(&mut self) -> Result<Offset> {
        Ok(Offset::new("-1"))
    }

    fn default_read_limit(&self) -> ReadLimit {
        match *self
            .inner
            .max_rows_per_trigger
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            Some(n) => ReadLimit::MaxRows(n),
            None => ReadLimit::AllAvailable,
        }
    }

    fn latest_offset(&mut self, start: &Offset, limit: &ReadLimit) -> Result<Offset> {
        let batches = self.inner.batches();
        let last = batches.len() as i64 - 1;
        let start = parse_offset(start)?;
        let end = match limit {
            ReadLimit::MaxRows(max) => {
                let mut end = start;
                let mut rows = 0u64;
                while end < last {
                    let next = batches[(end + 1) as usize].num_rows() as u64;
                    if end > start && rows + next > *max {
                        break;
                    }
                    rows += next;
                    end += 1;
                }
                end
            }
            _ => last,
        };
        Ok(Offset::new(end.max(start).to_string()))
    }

    fn report_latest_offset(&self) -> Option<Offset> {
        Some(Offset::new(
            (self.inner.batches().len() as i64 - 1).to_string(),
        ))
    }

    fn plan_partitions(
        &mut self,
        start: &Offset,
        end: &Offset,
    ) -> Result<Vec<Arc<dyn InputPartition>>> {
        let (s, e) = (parse_offset(start)?, parse_offset(end)?);
        let batches = self.inner.batches();
        if e >= batches.len() as i64 {
            return Err(EngineError::execution(
                "STREAMING_SOURCE_OFFSET_UNAVAILABLE",
                format!(
                    "MemoryStream has {} batches but the batch asks for offset {e}",
                    batches.len()
                ),
            ));
        }
        Ok(((s + 1).max(0)..=e)
            .map(|i| {
                Arc::new(MemoryPartition {
                    batch: batches[i as usize].clone(),
                }) as Arc<dyn InputPartition>
            })
            .collect())
    }
}

#[derive(Debug)]
struct MemoryPartition {
    batch: RecordBatch,
}

impl InputPartition for MemoryPartition {
    fn read(&self) -> Result<BatchIter> {
        Ok(Box::new(std::iter::once(Ok(self.batch.clone()))))
    }
}
