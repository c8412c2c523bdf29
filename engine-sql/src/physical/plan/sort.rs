//! Global sort (`ORDER BY`) with an optional bounded top-k (`ORDER BY ... LIMIT n`).
//!
//! Every input partition is sorted on its own worker (or reduced to its top `fetch` rows),
//! then the sorted runs are k-way merged into one output partition. Keys are compared in
//! arrow's row format, which turns a multi-column, mixed-direction comparison into one
//! `memcmp` and so avoids per-row dynamic dispatch.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt32Array};
use arrow::compute::{SortOptions, concat, concat_batches, interleave_record_batch, take};
use arrow::datatypes::{DataType, Float32Type, Float64Type, SchemaRef};
use arrow::row::{Row, RowConverter, Rows, SortField};
use engine_core::{EngineError, Result};

use super::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};
use crate::physical::expr::PhysicalExprRef;

/// One key of a sort: an expression and its direction.
#[derive(Debug, Clone)]
pub struct PhysicalSortExpr {
    /// The value sorted by.
    pub expr: PhysicalExprRef,
    /// Ascending (`ASC`) if true, descending (`DESC`) if false.
    pub asc: bool,
    /// NULLs before (true) or after (false) every value. Spark's default is NULLS FIRST for
    /// ASC and NULLS LAST for DESC; the planner passes the resolved choice.
    pub nulls_first: bool,
}

impl fmt::Display for PhysicalSortExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.expr,
            if self.asc { "ASC" } else { "DESC" },
            if self.nulls_first {
                "NULLS FIRST"
            } else {
                "NULLS LAST"
            }
        )
    }
}

impl PhysicalSortExpr {
    fn sort_field(&self) -> SortField {
        SortField::new_with_options(
            self.expr.data_type().clone(),
            SortOptions {
                descending: !self.asc,
                nulls_first: self.nulls_first,
            },
        )
    }
}

/// Rewrites floating-point values so that arrow's total order matches Spark's: `-0.0` and
/// `0.0` are one value, and every NaN (whatever its sign or payload) is one value larger
/// than any other double. Other types are returned as they are.
///
/// Used for sort keys and join keys (Spark normalizes NaN and -0.0 in join keys too).
pub(crate) fn normalize_floats(a: ArrayRef) -> ArrayRef {
    match a.data_type() {
        DataType::Float64 => {
            let arr = a.as_primitive::<Float64Type>();
            Arc::new(arr.unary::<_, Float64Type>(|v| {
                if v.is_nan() {
                    f64::NAN
                } else if v == 0.0 {
                    0.0
                } else {
                    v
                }
            }))
        }
        DataType::Float32 => {
            let arr = a.as_primitive::<Float32Type>();
            Arc::new(arr.unary::<_, Float32Type>(|v| {
                if v.is_nan() {
                    f32::NAN
                } else if v == 0.0 {
                    0.0
                } else {
                    v
                }
            }))
        }
        _ => a,
    }
}

/// Evaluates `exprs` over `batch` as arrays with floats normalized for comparison.
pub(crate) fn evaluate_keys(
    exprs: impl IntoIterator<Item = PhysicalExprRef>,
    batch: &RecordBatch,
) -> Result<Vec<ArrayRef>> {
    exprs
        .into_iter()
        .map(|e| {
            let a = e.evaluate(batch)?.into_array(batch.num_rows())?;
            Ok(normalize_floats(a))
        })
        .collect()
}

/// Sorts all rows of its input into one partition (Spark's global `Sort`); with `fetch`,
/// keeps only the first `fetch` rows of that order (Spark's `TakeOrderedAndProject`).
#[derive(Debug)]
pub struct SortExec {
    input: ExecutionPlanRef,
    keys: Vec<PhysicalSortExpr>,
    fetch: Option<usize>,
}

impl SortExec {
    /// A sort of `input` by `keys` (the first key is the most significant). Rows with equal
    /// keys keep their input order (by partition, then position). With `fetch = Some(n)` the
    /// operator holds at most `n` rows per input partition at any time.
    pub fn new(input: ExecutionPlanRef, keys: Vec<PhysicalSortExpr>, fetch: Option<usize>) -> Self {
        SortExec { input, keys, fetch }
    }

    /// The sort keys.
    pub fn keys(&self) -> &[PhysicalSortExpr] {
        &self.keys
    }

    /// The row limit, if any.
    pub fn fetch(&self) -> Option<usize> {
        self.fetch
    }

    fn converter(&self) -> Result<RowConverter> {
        Ok(RowConverter::new(
            self.keys.iter().map(PhysicalSortExpr::sort_field).collect(),
        )?)
    }

    fn key_exprs(&self) -> impl Iterator<Item = PhysicalExprRef> + '_ {
        self.keys.iter().map(|k| Arc::clone(&k.expr))
    }

    /// Reads one input partition completely and sorts it.
    fn sort_partition(
        &self,
        partition: usize,
        conv: &RowConverter,
        ctx: &Arc<TaskContext>,
    ) -> Result<SortedRun> {
        let schema = self.input.schema();
        let mut batches = Vec::new();
        let mut keys: Vec<Vec<ArrayRef>> = vec![Vec::new(); self.keys.len()];
        for b in self.input.execute(partition, ctx)? {
            let b = b?;
            if b.num_rows() == 0 {
                continue;
            }
            for (k, a) in keys.iter_mut().zip(evaluate_keys(self.key_exprs(), &b)?) {
                k.push(a);
            }
            batches.push(b);
        }
        let batch = concat_batches(&schema, &batches)?;
        drop(batches);
        let keys = concat_keys(&keys)?;
        SortedRun::sort(batch, &keys, conv, None)
    }

    /// Reads one input partition keeping only its first `k` rows in key order.
    fn top_k_partition(
        &self,
        partition: usize,
        k: usize,
        conv: &RowConverter,
        ctx: &Arc<TaskContext>,
    ) -> Result<SortedRun> {
        let schema = self.input.schema();
        // The current top-k rows (sorted) and their evaluated keys; each new batch is merged
        // in and the result cut back to k, so memory stays O(k + batch).
        let mut kept = RecordBatch::new_empty(Arc::clone(&schema));
        let mut kept_keys: Option<Vec<ArrayRef>> = None;
        for b in self.input.execute(partition, ctx)? {
            let b = b?;
            if b.num_rows() == 0 {
                continue;
            }
            let new_keys = evaluate_keys(self.key_exprs(), &b)?;
            let (batch, keys) = match kept_keys.take() {
                None => (b, new_keys),
                Some(old) => {
                    let batch = concat_batches(&schema, [&kept, &b])?;
                    let keys = old
                        .iter()
                        .zip(&new_keys)
                        .map(|(o, n)| concat(&[o.as_ref(), n.as_ref()]))
                        .collect::<Result<Vec<_>, _>>()?;
                    (batch, keys)
                }
            };
            let rows = conv.convert_columns(&keys)?;
            let perm = sorted_indices(&rows, Some(k));
            let idx = UInt32Array::from(perm);
            kept = take_batch(&batch, &idx)?;
            kept_keys = Some(
                keys.iter()
                    .map(|a| take(a.as_ref(), &idx, None))
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
        match kept_keys {
            // Already sorted: the run's order is its position order.
            Some(keys) => {
                let rows = conv.convert_columns(&keys)?;
                let n = kept.num_rows();
                Ok(SortedRun {
                    batch: kept,
                    rows,
                    perm: (0..n as u32).collect(),
                })
            }
            None => Ok(SortedRun::empty(kept, conv)),
        }
    }
}

impl ExecutionPlan for SortExec {
    fn name(&self) -> &'static str {
        "Sort"
    }

    fn describe(&self) -> String {
        let keys: Vec<String> = self.keys.iter().map(|k| k.to_string()).collect();
        match self.fetch {
            None => format!("Sort [{}], true", keys.join(", ")),
            Some(n) => format!("Sort [{}], true, limit={n}", keys.join(", ")),
        }
    }

    fn schema(&self) -> SchemaRef {
        self.input.schema()
    }

    fn children(&self) -> Vec<ExecutionPlanRef> {
        vec![Arc::clone(&self.input)]
    }

    fn output_partitions(&self) -> usize {
        1
    }

    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        if partition != 0 {
            return Err(EngineError::Internal(format!(
                "Sort has one output partition, asked for partition {partition}"
            )));
        }
        let schema = self.schema();
        if self.keys.is_empty() {
            // The row format needs a column to count rows; the planner drops key-less sorts.
            return Err(EngineError::Internal("Sort without sort keys".into()));
        }
        if self.fetch == Some(0) {
            return Ok(Box::new(std::iter::empty()));
        }
        let conv = self.converter()?;
        let n = self.input.output_partitions();
        let runs = ctx.pool.run(n, |p| match self.fetch {
            None => self.sort_partition(p, &conv, ctx),
            Some(k) => self.top_k_partition(p, k, &conv, ctx),
        })?;
        let indices = merge_runs(&runs, self.fetch);
        let batches = runs.into_iter().map(|r| r.batch).collect();
        Ok(Box::new(GatherIter {
            schema,
            batches,
            indices,
            pos: 0,
            batch_size: ctx.batch_size().max(1),
        }))
    }
}

/// One input partition's rows with their keys and their sorted order.
struct SortedRun {
    batch: RecordBatch,
    rows: Rows,
    /// Row indices of `batch` in key order.
    perm: Vec<u32>,
}

impl SortedRun {
    fn empty(batch: RecordBatch, conv: &RowConverter) -> Self {
        SortedRun {
            batch,
            rows: conv.empty_rows(0, 0),
            perm: Vec::new(),
        }
    }

    fn sort(
        batch: RecordBatch,
        keys: &Option<Vec<ArrayRef>>,
        conv: &RowConverter,
        limit: Option<usize>,
    ) -> Result<Self> {
        let Some(keys) = keys else {
            return Ok(Self::empty(batch, conv));
        };
        let rows = conv.convert_columns(keys)?;
        let perm = sorted_indices(&rows, limit);
        Ok(SortedRun { batch, rows, perm })
    }
}

/// Concatenates per-batch key arrays column by column; `None` when there were no batches.
fn concat_keys(keys: &[Vec<ArrayRef>]) -> Result<Option<Vec<ArrayRef>>> {
    if keys.first().is_none_or(|k| k.is_empty()) {
        return Ok(None);
    }
    keys.iter()
        .map(|col| {
            let refs: Vec<&dyn Array> = col.iter().map(|a| a.as_ref()).collect();
            Ok(concat(&refs)?)
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// Row indices in key order, ties broken by position (a stable order); with `limit`, only
/// the first `limit` of them, found by selection before sorting.
fn sorted_indices(rows: &Rows, limit: Option<usize>) -> Vec<u32> {
    let cmp = |a: &u32, b: &u32| {
        rows.row(*a as usize)
            .cmp(&rows.row(*b as usize))
            .then(a.cmp(b))
    };
    let mut perm: Vec<u32> = (0..rows.num_rows() as u32).collect();
    if let Some(k) = limit
        && k < perm.len()
    {
        if k == 0 {
            return Vec::new();
        }
        perm.select_nth_unstable_by(k - 1, cmp);
        perm.truncate(k);
    }
    // The tie-break makes the order total, so an unstable sort is still stable.
    perm.sort_unstable_by(cmp);
    perm
}

/// Takes `idx` rows of every column of `batch`.
fn take_batch(batch: &RecordBatch, idx: &UInt32Array) -> Result<RecordBatch> {
    let cols = batch
        .columns()
        .iter()
        .map(|c| take(c.as_ref(), idx, None))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new_with_options(
        batch.schema(),
        cols,
        &arrow::array::RecordBatchOptions::new().with_row_count(Some(idx.len())),
    )?)
}

/// A merge head: the next row of one run. Ordered by key, then by run (earlier partitions
/// first) so the merge is stable.
struct Head<'a> {
    row: Row<'a>,
    run: usize,
    pos: usize,
}

impl PartialEq for Head<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Head<'_> {}
impl PartialOrd for Head<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Head<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.row
            .cmp(&other.row)
            .then(self.run.cmp(&other.run))
            .then(self.pos.cmp(&other.pos))
    }
}

/// K-way merges the sorted runs into `(run, row)` pairs in global order.
fn merge_runs(runs: &[SortedRun], fetch: Option<usize>) -> Vec<(usize, usize)> {
    let total: usize = runs.iter().map(|r| r.perm.len()).sum();
    let limit = fetch.map_or(total, |f| f.min(total));
    let mut out = Vec::with_capacity(limit);
    let non_empty: Vec<usize> = (0..runs.len())
        .filter(|&r| !runs[r].perm.is_empty())
        .collect();
    if let [only] = non_empty[..] {
        // One run (e.g. a single input partition): no merge needed.
        out.extend(runs[only].perm[..limit].iter().map(|&i| (only, i as usize)));
        return out;
    }
    let head = |run: usize, pos: usize| {
        let r = &runs[run];
        Head {
            row: r.rows.row(r.perm[pos] as usize),
            run,
            pos,
        }
    };
    let mut heap: BinaryHeap<Reverse<Head<'_>>> =
        non_empty.iter().map(|&r| Reverse(head(r, 0))).collect();
    while out.len() < limit {
        let Some(Reverse(h)) = heap.pop() else { break };
        out.push((h.run, runs[h.run].perm[h.pos] as usize));
        if h.pos + 1 < runs[h.run].perm.len() {
            heap.push(Reverse(head(h.run, h.pos + 1)));
        }
    }
    out
}

/// Emits the merged order in batches of at most `batch_size` rows.
struct GatherIter {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    indices: Vec<(usize, usize)>,
    pos: usize,
    batch_size: usize,
}

impl Iterator for GatherIter {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.indices.len() {
            return None;
        }
        let end = (self.pos + self.batch_size).min(self.indices.len());
        let chunk = &self.indices[self.pos..end];
        self.pos = end;
        let refs: Vec<&RecordBatch> = self.batches.iter().collect();
        let result = if self.schema.fields().is_empty() {
            RecordBatch::try_new_with_options(
                Arc::clone(&self.schema),
                vec![],
                &arrow::array::RecordBatchOptions::new().with_row_count(Some(chunk.len())),
            )
        } else {
            interleave_record_batch(&refs, chunk)
                .and_then(|b| RecordBatch::try_new(Arc::clone(&self.schema), b.columns().to_vec()))
        };
        Some(result.map_err(EngineError::from))
    }
}
