//! Streaming sources and the partitions a batch read is split into.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use super::offset::{Offset, ReadLimit};
use crate::Result;

/// The batches one task reads.
pub type BatchIter = Box<dyn Iterator<Item = Result<RecordBatch>> + Send>;

/// One task's share of a batch read (a Kafka topic-partition range, a set of files).
///
/// Partitions are planned on the driver and read on the worker pool, so they are plain data
/// that can be shared between threads.
pub trait InputPartition: Send + Sync + Debug {
    /// Reads this partition's rows, in the source's schema.
    fn read(&self) -> Result<BatchIter>;

    /// Reads only the `projection` columns (indices into the source's schema, in that
    /// order): what the query uses of the source. A source that can skip the other columns
    /// cheaply (a file format decoding only the fields asked for) overrides this; the default
    /// reads every column and drops the others.
    fn read_projected(&self, projection: &[usize]) -> Result<BatchIter> {
        let projection = projection.to_vec();
        Ok(Box::new(
            self.read()?.map(move |b| Ok(b?.project(&projection)?)),
        ))
    }
}

/// A replayable stream of rows: Spark's `MicroBatchStream` with admission control.
///
/// Contract, relied on for exactly-once output: for any `start` and `end` this source
/// returned or accepted before (possibly in an earlier process, read back from the
/// checkpoint), [`Source::plan_partitions`] returns the same rows every time, until
/// [`Source::commit`] has been called with an offset at or after `end`.
pub trait Source: Send {
    /// One line that identifies the source in progress reports and `explain`, e.g.
    /// `KafkaV2[Subscribe[orders]]`. Must not contain secrets.
    fn description(&self) -> String;

    /// The schema of every batch this source returns.
    fn schema(&self) -> SchemaRef;

    /// Where a query with an empty checkpoint starts (`startingOffsets` and friends).
    fn initial_offset(&mut self) -> Result<Offset>;

    /// The limit this source applies to each batch by default (from its options).
    fn default_read_limit(&self) -> ReadLimit {
        ReadLimit::AllAvailable
    }

    /// The end of the next batch that starts at `start` and respects `limit`. Returning
    /// `start` itself means there is nothing new.
    fn latest_offset(&mut self, start: &Offset, limit: &ReadLimit) -> Result<Offset>;

    /// The newest offset available regardless of any limit, for progress reports
    /// (`latestOffset`) when the source knows it.
    fn report_latest_offset(&self) -> Option<Offset> {
        None
    }

    /// Called once before the first batch of a `Trigger.AvailableNow` query: the source fixes
    /// what "available now" means, and later [`Source::latest_offset`] calls never go beyond it.
    fn prepare_for_trigger_available_now(&mut self) -> Result<()> {
        Ok(())
    }

    /// Splits the rows in `(start, end]` into partitions for the worker pool.
    fn plan_partitions(
        &mut self,
        start: &Offset,
        end: &Offset,
    ) -> Result<Vec<Arc<dyn InputPartition>>>;

    /// Everything up to `end` is durably processed; the source may release or clean it up
    /// (e.g. the file source's `cleanSource`).
    fn commit(&mut self, _end: &Offset) -> Result<()> {
        Ok(())
    }

    /// Source-specific metrics for `sources[].metrics` in progress reports (Kafka:
    /// `avgOffsetsBehindLatest`, ...), given the last offset the query consumed.
    fn metrics(&self, _latest_consumed: Option<&Offset>) -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    /// The query is stopping; release connections and threads.
    fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}
