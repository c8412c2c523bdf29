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

use crate::{EngineError, Result};
use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt32Array};
use arrow::compute::{SortOptions, concat, concat_batches, interleave_record_batch, take};
use arrow::datatypes::{DataType, Float32Type, Float64Type, SchemaRef};
use arrow::row::{Row, RowConverter, Rows, SortField};

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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::conf::{BATCH_SIZE, MASTER, SessionConf};
    use crate::physical::expr::{ColumnarValue, PhysicalExpr};
    use crate::physical::plan::collect;
    use crate::physical::table::memory::MemoryExec;
    use arrow::array::{Float64Array, Int64Array, StringArray};
    use arrow::datatypes::{Field, Schema};
    use proptest::prelude::*;

    /// A column reference by index, standing in for the real expression compiler.
    #[derive(Debug)]
    struct Col(usize, String, DataType);

    impl fmt::Display for Col {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{}", self.1)
        }
    }

    impl PhysicalExpr for Col {
        fn data_type(&self) -> &DataType {
            &self.2
        }
        fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
            Ok(ColumnarValue::Array(Arc::clone(batch.column(self.0))))
        }
    }

    fn key(schema: &Schema, i: usize, asc: bool, nulls_first: bool) -> PhysicalSortExpr {
        let f = schema.field(i);
        PhysicalSortExpr {
            expr: Arc::new(Col(i, f.name().clone(), f.data_type().clone())),
            asc,
            nulls_first,
        }
    }

    fn ctx(batch_size: usize) -> Arc<TaskContext> {
        let mut conf = SessionConf::new();
        conf.set(BATCH_SIZE, batch_size.to_string());
        conf.set(MASTER, "local[3]");
        Arc::new(TaskContext::new(Arc::new(conf)).unwrap())
    }

    /// Rows of (id, x, s); `parts` lists partitions, each a list of batches.
    type Row3 = (i64, Option<f64>, Option<String>);

    fn schema3() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("x", DataType::Float64, true),
            Field::new("s", DataType::Utf8, true),
        ]))
    }

    fn batch3(rows: &[Row3]) -> RecordBatch {
        RecordBatch::try_new(
            schema3(),
            vec![
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))),
                Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.1))),
                Arc::new(StringArray::from_iter(rows.iter().map(|r| r.2.clone()))),
            ],
        )
        .unwrap()
    }

    fn input3(parts: Vec<Vec<Vec<Row3>>>) -> ExecutionPlanRef {
        let partitions = parts
            .iter()
            .map(|p| p.iter().map(|b| batch3(b)).collect())
            .collect();
        Arc::new(MemoryExec::new(schema3(), partitions))
    }

    fn rows3(batches: &[RecordBatch]) -> Vec<Row3> {
        let mut out = Vec::new();
        for b in batches {
            let id = b.column(0).as_primitive::<arrow::datatypes::Int64Type>();
            let x = b.column(1).as_primitive::<Float64Type>();
            let s = b.column(2).as_string::<i32>();
            for i in 0..b.num_rows() {
                out.push((
                    id.value(i),
                    x.is_valid(i).then(|| x.value(i)),
                    s.is_valid(i).then(|| s.value(i).to_string()),
                ));
            }
        }
        out
    }

    fn ids(rows: &[Row3]) -> Vec<i64> {
        rows.iter().map(|r| r.0).collect()
    }

    fn r(id: i64, x: Option<f64>, s: Option<&str>) -> Row3 {
        (id, x, s.map(str::to_string))
    }

    fn run(plan: SortExec, batch_size: usize) -> Vec<RecordBatch> {
        let plan: ExecutionPlanRef = Arc::new(plan);
        assert_eq!(plan.output_partitions(), 1);
        let out = collect(&plan, &ctx(batch_size)).unwrap();
        for b in &out {
            assert!(b.num_rows() <= batch_size && b.num_rows() > 0);
            assert_eq!(b.schema(), plan.schema());
        }
        out
    }

    fn floats_input() -> ExecutionPlanRef {
        input3(vec![
            vec![vec![
                r(1, Some(f64::NAN), None),
                r(2, Some(1.0), None),
                r(3, None, None),
                r(4, Some(-0.0), None),
            ]],
            vec![
                vec![r(5, Some(f64::NEG_INFINITY), None), r(6, Some(0.0), None)],
                vec![
                    r(7, Some(-f64::NAN), None),
                    r(8, None, None),
                    r(9, Some(f64::INFINITY), None),
                    r(10, Some(-1.5), None),
                ],
            ],
        ])
    }

    #[test]
    fn doubles_asc_nulls_first_nan_largest_zeros_equal_and_stable() {
        let input = floats_input();
        let k = key(&input.schema(), 1, true, true);
        let out = run(SortExec::new(input, vec![k], None), 4);
        // -0.0 (id 4) and 0.0 (id 6) are equal keys, so input order decides; both NaNs
        // (positive and negative) are larger than +inf.
        assert_eq!(ids(&rows3(&out)), vec![3, 8, 5, 10, 4, 6, 2, 9, 1, 7]);
    }

    #[test]
    fn doubles_desc_nulls_last() {
        let input = floats_input();
        let k = key(&input.schema(), 1, false, false);
        let out = run(SortExec::new(input, vec![k], None), 100);
        assert_eq!(ids(&rows3(&out)), vec![1, 7, 9, 2, 4, 6, 10, 5, 3, 8]);
    }

    #[test]
    fn explicit_null_placement_overrides_direction_default() {
        let input = floats_input();
        let k = key(&input.schema(), 1, true, false);
        let out = run(SortExec::new(input, vec![k], None), 100);
        assert_eq!(ids(&rows3(&out))[8..], [3, 8]);
        let input = floats_input();
        let k = key(&input.schema(), 1, false, true);
        let out = run(SortExec::new(input, vec![k], None), 100);
        assert_eq!(ids(&rows3(&out))[..2], [3, 8]);
    }

    fn multi_input() -> ExecutionPlanRef {
        input3(vec![
            vec![vec![
                r(1, Some(1.0), Some("b")),
                r(2, Some(2.0), Some("a")),
                r(3, Some(3.0), None),
            ]],
            vec![vec![
                r(4, Some(2.0), Some("b")),
                r(5, None, Some("a")),
                r(6, Some(1.0), Some("a")),
            ]],
            vec![],
            vec![vec![r(7, Some(3.0), Some("b")), r(8, Some(1.0), Some("a"))]],
        ])
    }

    #[test]
    fn multi_key_mixed_directions() {
        let input = multi_input();
        let s = input.schema();
        let keys = vec![key(&s, 2, true, true), key(&s, 1, false, false)];
        let out = run(SortExec::new(input, keys, None), 3);
        // s ASC NULLS FIRST, then x DESC NULLS LAST; ids 6 and 8 tie (stable).
        assert_eq!(ids(&rows3(&out)), vec![3, 2, 6, 8, 5, 7, 4, 1]);
    }

    #[test]
    fn fetch_keeps_top_rows_across_partitions() {
        let input = multi_input();
        let s = input.schema();
        let keys = vec![key(&s, 2, true, true), key(&s, 1, false, false)];
        let out = run(SortExec::new(input, keys, Some(4)), 3);
        assert_eq!(ids(&rows3(&out)), vec![3, 2, 6, 8]);
    }

    #[test]
    fn fetch_larger_than_input_and_fetch_zero() {
        let input = multi_input();
        let s = input.schema();
        let keys = vec![key(&s, 0, false, false)];
        let out = run(
            SortExec::new(Arc::clone(&input), keys.clone(), Some(100)),
            5,
        );
        assert_eq!(ids(&rows3(&out)), vec![8, 7, 6, 5, 4, 3, 2, 1]);
        let out = run(SortExec::new(input, keys, Some(0)), 5);
        assert!(out.is_empty());
    }

    #[test]
    fn top_k_over_many_batches_in_one_partition() {
        // 50 batches of 20 rows: the running top-k is merged with each batch.
        let batches: Vec<Vec<Row3>> = (0..50)
            .map(|b| {
                (0..20)
                    .map(|i| {
                        let id = b * 20 + i;
                        r(id, Some(((id * 7919) % 1000) as f64), None)
                    })
                    .collect()
            })
            .collect();
        let input = input3(vec![batches]);
        let k = key(&input.schema(), 1, true, true);
        let out = run(SortExec::new(input, vec![k], Some(5)), 2);
        let xs: Vec<f64> = rows3(&out).iter().map(|r| r.1.unwrap()).collect();
        assert_eq!(xs, vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(out.len(), 3);
    }

    #[test]
    fn empty_input() {
        let input = input3(vec![vec![], vec![vec![]]]);
        let k = key(&input.schema(), 0, true, true);
        assert!(run(SortExec::new(Arc::clone(&input), vec![k.clone()], None), 4).is_empty());
        assert!(run(SortExec::new(input, vec![k], Some(3)), 4).is_empty());
    }

    #[test]
    fn describe_is_spark_style() {
        let input = multi_input();
        let s = input.schema();
        let keys = vec![key(&s, 0, true, true), key(&s, 2, false, false)];
        let plan = SortExec::new(Arc::clone(&input), keys.clone(), None);
        assert_eq!(
            plan.describe(),
            "Sort [id ASC NULLS FIRST, s DESC NULLS LAST], true"
        );
        assert_eq!(plan.name(), "Sort");
        assert_eq!(plan.children().len(), 1);
        let plan = SortExec::new(input, keys, Some(3));
        assert!(plan.describe().ends_with(", limit=3"));
    }

    #[test]
    fn only_partition_zero_exists() {
        let input = multi_input();
        let k = key(&input.schema(), 0, true, true);
        let plan = SortExec::new(input, vec![k], None);
        assert!(plan.execute(1, &ctx(4)).is_err());
    }

    /// Spark's ordering of one nullable double under (asc, nulls_first).
    fn spark_cmp(a: Option<f64>, b: Option<f64>, asc: bool, nulls_first: bool) -> Ordering {
        match (a, b) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => {
                if nulls_first {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (Some(_), None) => {
                if nulls_first {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (Some(x), Some(y)) => {
                // java.lang.Double.compare after treating -0.0 == 0.0: NaN is largest.
                let o = if x == y {
                    Ordering::Equal
                } else {
                    match (x.is_nan(), y.is_nan()) {
                        (true, true) => Ordering::Equal,
                        (true, false) => Ordering::Greater,
                        (false, true) => Ordering::Less,
                        _ => x.partial_cmp(&y).unwrap(),
                    }
                };
                if asc { o } else { o.reverse() }
            }
        }
    }

    fn str_cmp(a: &Option<String>, b: &Option<String>, asc: bool, nulls_first: bool) -> Ordering {
        match (a, b) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) if nulls_first => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) if nulls_first => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => {
                if asc {
                    x.cmp(y)
                } else {
                    y.cmp(x)
                }
            }
        }
    }

    fn arb_f64() -> impl Strategy<Value = Option<f64>> {
        prop_oneof![
            Just(None),
            Just(Some(f64::NAN)),
            Just(Some(-f64::NAN)),
            Just(Some(0.0)),
            Just(Some(-0.0)),
            Just(Some(f64::INFINITY)),
            Just(Some(f64::NEG_INFINITY)),
            (-3i32..3).prop_map(|v| Some(f64::from(v) / 2.0)),
        ]
    }

    fn arb_str() -> impl Strategy<Value = Option<String>> {
        prop_oneof![Just(None), "[ab]{0,2}".prop_map(Some)]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn matches_stable_reference_sort(
            data in proptest::collection::vec((arb_f64(), arb_str()), 0..40),
            cuts in proptest::collection::vec(0usize..40, 0..6),
            dirs in proptest::collection::vec((any::<bool>(), any::<bool>()), 2),
            string_first in any::<bool>(),
            fetch in proptest::option::of(0usize..12),
            batch_size in 1usize..7,
        ) {
            let rows: Vec<Row3> = data
                .into_iter()
                .enumerate()
                .map(|(i, (x, s))| (i as i64, x, s))
                .collect();
            // Split into partitions and batches at the cut points: partitions alternate
            // between one and two batches so both paths are exercised.
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(rows.len())).collect();
            cuts.push(0);
            cuts.push(rows.len());
            cuts.sort_unstable();
            let mut parts = Vec::new();
            for (pi, w) in cuts.windows(2).enumerate() {
                let chunk = rows[w[0]..w[1]].to_vec();
                if pi % 2 == 0 || chunk.len() < 2 {
                    parts.push(vec![chunk]);
                } else {
                    let mid = chunk.len() / 2;
                    parts.push(vec![chunk[..mid].to_vec(), chunk[mid..].to_vec()]);
                }
            }
            let input = input3(parts);
            let s = input.schema();
            let (c1, c2) = if string_first { (2, 1) } else { (1, 2) };
            let keys = vec![
                key(&s, c1, dirs[0].0, dirs[0].1),
                key(&s, c2, dirs[1].0, dirs[1].1),
            ];
            let out = rows3(&run(SortExec::new(input, keys, fetch), batch_size));

            let mut expected = rows.clone();
            let cmp_col = |c: usize, a: &Row3, b: &Row3, asc: bool, nf: bool| {
                if c == 1 { spark_cmp(a.1, b.1, asc, nf) } else { str_cmp(&a.2, &b.2, asc, nf) }
            };
            expected.sort_by(|a, b| {
                cmp_col(c1, a, b, dirs[0].0, dirs[0].1)
                    .then_with(|| cmp_col(c2, a, b, dirs[1].0, dirs[1].1))
            });
            if let Some(f) = fetch {
                expected.truncate(f);
            }
            // Ids make every row distinct and Vec::sort_by is stable, so the result is exact.
            prop_assert_eq!(ids(&out), ids(&expected));
        }
    }
}
