//! Equi-joins by hashing (Spark's `ShuffledHashJoin` / `BroadcastHashJoin`), plus the
//! key-less nested-loop case (`BroadcastNestedLoopJoin`).
//!
//! Per partition the right side (the build side) is read completely into one batch and a
//! hash table over its key rows; the left side (the probe side) is streamed batch by batch.
//! Matches are found row by row in the table but gathered column by column with `take`, so
//! the output is built with vectorized kernels.
//!
//! Partitioning contract (the planner's job):
//! - keyed joins: left and right have the same number of partitions and are hash-partitioned
//!   by their keys with [`crate::physical::plan::hash::hash_arrays`], so left partition `i`
//!   only meets right partition `i`; or the right side has ONE partition and the join type
//!   does not output unmatched right rows (Inner, Left, LeftSemi, LeftAnti, Cross), in which
//!   case that partition is built once and shared by every left partition (broadcast);
//! - key-less joins (`on` empty, e.g. Cross or a pure non-equi condition): the right side must
//!   have ONE partition (it is broadcast to every left partition); Right and Full key-less
//!   joins need the left side in one partition too.
//!
//! Output partitions = left partitions.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::{EngineError, Result};
use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, RecordBatchOptions, UInt32Array};
use arrow::buffer::{BooleanBuffer, NullBuffer};
use arrow::compute::{concat_batches, take};
use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::row::{RowConverter, Rows, SortField};
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use super::hash::hash_arrays;
use super::sort::evaluate_keys;
use super::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};
use crate::logical::JoinType;
use crate::physical::expr::PhysicalExprRef;

/// End of a duplicate-key chain.
const NONE: u32 = u32::MAX;

/// Joins two inputs on equal keys (plus an optional extra condition).
#[derive(Debug)]
pub struct HashJoinExec {
    left: ExecutionPlanRef,
    right: ExecutionPlanRef,
    core: Arc<JoinCore>,
    /// Right side has one partition shared by several left partitions.
    broadcast: bool,
    /// The shared build side in broadcast mode, built by the first partition that needs it
    /// (the right partition may be executed only once). Errors are kept as text for the
    /// other partitions.
    shared_build: Mutex<Option<std::result::Result<Arc<BuildSide>, String>>>,
}

/// What a running partition needs of the operator.
#[derive(Debug)]
struct JoinCore {
    left_keys: Vec<PhysicalExprRef>,
    right_keys: Vec<PhysicalExprRef>,
    filter: Option<PhysicalExprRef>,
    join_type: JoinType,
    schema: SchemaRef,
    /// left ++ right columns as they come from the inputs: what `filter` is evaluated on.
    filter_schema: SchemaRef,
    right_schema: SchemaRef,
    /// Key row encoding, used for key equality (hashes only find candidates).
    key_conv: RowConverter,
}

impl HashJoinExec {
    /// A join of `left` and `right` where `on[i].0` (over left rows) must equal `on[i].1`
    /// (over right rows), of the same type, and `filter` (over left ++ right columns) must be
    /// true. NULL keys never match. `schema` is the output: left columns then right columns
    /// (nullable on the outer side), or only left columns for LeftSemi/LeftAnti. See the
    /// module docs for the partitioning contract.
    pub fn try_new(
        left: ExecutionPlanRef,
        right: ExecutionPlanRef,
        on: Vec<(PhysicalExprRef, PhysicalExprRef)>,
        filter: Option<PhysicalExprRef>,
        join_type: JoinType,
        schema: SchemaRef,
    ) -> Result<Self> {
        for (l, r) in &on {
            if l.data_type() != r.data_type() {
                return Err(EngineError::Internal(format!(
                    "join keys {l} and {r} have different types {} and {}",
                    l.data_type(),
                    r.data_type()
                )));
            }
        }
        let (ls, rs) = (left.schema(), right.schema());
        let expected = ls.fields().len()
            + if join_type.outputs_right() {
                rs.fields().len()
            } else {
                0
            };
        if schema.fields().len() != expected {
            return Err(EngineError::Internal(format!(
                "{} join output schema has {} columns, expected {expected}",
                join_type.plan_name(),
                schema.fields().len()
            )));
        }
        let (lp, rp) = (left.output_partitions(), right.output_partitions());
        let outer_right = matches!(join_type, JoinType::Right | JoinType::Full);
        let broadcast = if on.is_empty() {
            if rp != 1 || (outer_right && lp != 1) {
                return Err(EngineError::Internal(format!(
                    "a {} join without equi-keys needs a single-partition right side{} (got {lp} left and {rp} right partitions)",
                    join_type.plan_name(),
                    if outer_right { " and left side" } else { "" }
                )));
            }
            lp > 1
        } else if lp == rp {
            false
        } else if rp == 1 && !outer_right {
            true
        } else {
            return Err(EngineError::Internal(format!(
                "hash join inputs have {lp} and {rp} partitions; they must be co-partitioned"
            )));
        };
        let filter_fields: Vec<Field> = ls
            .fields()
            .iter()
            .chain(rs.fields().iter())
            .map(|f| f.as_ref().clone())
            .collect();
        let key_conv = RowConverter::new(
            on.iter()
                .map(|(l, _)| SortField::new(l.data_type().clone()))
                .collect(),
        )?;
        let (left_keys, right_keys) = on.into_iter().unzip();
        Ok(HashJoinExec {
            left,
            right,
            core: Arc::new(JoinCore {
                left_keys,
                right_keys,
                filter,
                join_type,
                schema,
                filter_schema: Arc::new(Schema::new(filter_fields)),
                right_schema: rs,
                key_conv,
            }),
            broadcast,
            shared_build: Mutex::new(None),
        })
    }

    /// The join type.
    pub fn join_type(&self) -> JoinType {
        self.core.join_type
    }

    fn build(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<Arc<BuildSide>> {
        if !self.broadcast {
            return Ok(Arc::new(BuildSide::try_new(
                &self.core,
                self.right.execute(partition, ctx)?,
            )?));
        }
        let mut slot = self
            .shared_build
            .lock()
            .map_err(|_| EngineError::Internal("hash join build lock poisoned".into()))?;
        if slot.is_none() {
            let built = self
                .right
                .execute(0, ctx)
                .and_then(|it| BuildSide::try_new(&self.core, it))
                .map(Arc::new);
            *slot = Some(built.map_err(|e| e.to_string()));
        }
        match slot.as_ref() {
            Some(Ok(b)) => Ok(Arc::clone(b)),
            Some(Err(e)) => Err(EngineError::execution(
                "INTERNAL_ERROR",
                format!("building the join's broadcast side failed: {e}"),
            )),
            None => Err(EngineError::Internal("hash join build missing".into())),
        }
    }
}

impl ExecutionPlan for HashJoinExec {
    fn name(&self) -> &'static str {
        if self.core.left_keys.is_empty() {
            "BroadcastNestedLoopJoin"
        } else if self.broadcast {
            "BroadcastHashJoin"
        } else {
            "ShuffledHashJoin"
        }
    }

    fn describe(&self) -> String {
        let list = |ks: &[PhysicalExprRef]| {
            ks.iter()
                .map(|k| k.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let jt = self.core.join_type.plan_name();
        let mut s = if self.core.left_keys.is_empty() {
            format!("{} BuildRight, {jt}", self.name())
        } else {
            format!(
                "{} [{}], [{}], {jt}, BuildRight",
                self.name(),
                list(&self.core.left_keys),
                list(&self.core.right_keys)
            )
        };
        if let Some(f) = &self.core.filter {
            s.push_str(&format!(", {f}"));
        }
        if self.broadcast && !self.core.left_keys.is_empty() {
            s.push_str(", false");
        }
        s
    }

    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.core.schema)
    }

    fn children(&self) -> Vec<ExecutionPlanRef> {
        vec![Arc::clone(&self.left), Arc::clone(&self.right)]
    }

    fn output_partitions(&self) -> usize {
        self.left.output_partitions()
    }

    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        if partition >= self.output_partitions() {
            return Err(EngineError::Internal(format!(
                "join has {} partitions, asked for partition {partition}",
                self.output_partitions()
            )));
        }
        let build = self.build(partition, ctx)?;
        let empty_build = build.batch.num_rows() == 0;
        if empty_build
            && matches!(
                self.core.join_type,
                JoinType::Inner | JoinType::Cross | JoinType::LeftSemi | JoinType::Right
            )
        {
            // Nothing can match and no probe row is output unmatched: skip the probe side.
            return Ok(Box::new(std::iter::empty()));
        }
        let build_matched = if matches!(self.core.join_type, JoinType::Right | JoinType::Full) {
            vec![false; build.batch.num_rows()]
        } else {
            Vec::new()
        };
        Ok(Box::new(JoinStream {
            core: Arc::clone(&self.core),
            probe: self.left.execute(partition, ctx)?,
            build,
            build_matched,
            current: None,
            pending: VecDeque::new(),
            probe_done: false,
            batch_size: ctx.batch_size().max(1),
        }))
    }
}

/// The right side of one partition, indexed by key.
#[derive(Debug)]
struct BuildSide {
    batch: RecordBatch,
    /// Key rows of `batch` (empty for key-less joins).
    rows: Option<Rows>,
    /// One entry per distinct non-NULL key: (hash, first row with that key).
    table: HashTable<(u64, u32)>,
    /// `next[i]` is the next row after `i` with the same key, or `NONE`.
    next: Vec<u32>,
}

impl BuildSide {
    fn try_new(core: &JoinCore, input: BatchIter) -> Result<Self> {
        let batches = input.collect::<Result<Vec<_>>>()?;
        let batch = concat_batches(&core.right_schema, &batches)?;
        drop(batches);
        let n = batch.num_rows();
        if n >= NONE as usize {
            return Err(EngineError::Unsupported(format!(
                "a join build side of {n} rows in one partition; use more shuffle partitions"
            )));
        }
        let mut table = HashTable::new();
        let mut next = vec![NONE; n];
        if core.left_keys.is_empty() {
            return Ok(BuildSide {
                batch,
                rows: None,
                table,
                next,
            });
        }
        let keys = evaluate_keys(core.right_keys.iter().cloned(), &batch)?;
        let nulls = key_nulls(&keys, n);
        let mut hashes = Vec::new();
        hash_arrays(&keys, &mut hashes)?;
        let rows = core.key_conv.convert_columns(&keys)?;
        // Insert in reverse so that each chain lists rows in input order.
        for i in (0..n).rev() {
            if nulls.as_ref().is_some_and(|m| m.is_null(i)) {
                continue;
            }
            let h = spread(hashes[i]);
            let entry = table.entry(
                h,
                |&(eh, head): &(u64, u32)| eh == h && rows.row(head as usize) == rows.row(i),
                |&(eh, _)| eh,
            );
            match entry {
                Entry::Occupied(mut o) => {
                    let head = &mut o.get_mut().1;
                    next[i] = *head;
                    *head = i as u32;
                }
                Entry::Vacant(v) => {
                    v.insert((h, i as u32));
                }
            }
        }
        Ok(BuildSide {
            batch,
            rows: Some(rows),
            table,
            next,
        })
    }
}

/// The rows where any key is NULL (such rows never match), or `None` if there are none.
fn key_nulls(keys: &[ArrayRef], n: usize) -> Option<NullBuffer> {
    let mut acc: Option<NullBuffer> = None;
    for k in keys {
        if k.null_count() > 0 {
            acc = NullBuffer::union(acc.as_ref(), k.logical_nulls().as_ref());
        }
    }
    acc.filter(|m| m.null_count() > 0 && m.len() == n)
}

/// Re-mixes a key hash for the table. The exchange chose this partition from the same hash,
/// so some of its bits are constant within a partition; the table must not depend on them.
#[inline]
fn spread(h: u64) -> u64 {
    let mut z = h;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One partition of a running join.
struct JoinStream {
    core: Arc<JoinCore>,
    probe: BatchIter,
    build: Arc<BuildSide>,
    /// Right rows that found a match (Right and Full joins only).
    build_matched: Vec<bool>,
    /// The probe batch being worked on and how many of its rows are done (key-less joins
    /// work through a batch in slices so a cartesian product stays batch-sized).
    current: Option<(RecordBatch, usize)>,
    pending: VecDeque<RecordBatch>,
    probe_done: bool,
    batch_size: usize,
}

impl Iterator for JoinStream {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(b) = self.pending.pop_front() {
                return Some(Ok(b));
            }
            if self.probe_done {
                return None;
            }
            if let Err(e) = self.step() {
                // Stop after an error: the state is no longer meaningful.
                self.probe_done = true;
                self.pending.clear();
                return Some(Err(e));
            }
        }
    }
}

/// Candidate pairs of (probe row, build row).
#[derive(Default)]
struct Pairs {
    probe: Vec<u32>,
    build: Vec<u32>,
}

impl JoinStream {
    /// Advances by one probe slice (or finishes), pushing output batches to `pending`.
    fn step(&mut self) -> Result<()> {
        let Some((batch, offset)) = self.current.take() else {
            match self.probe.next() {
                Some(b) => {
                    let b = b?;
                    if b.num_rows() > 0 {
                        self.current = Some((b, 0));
                    }
                }
                None => {
                    self.probe_done = true;
                    self.emit_unmatched_build()?;
                }
            }
            return Ok(());
        };
        let n = batch.num_rows();
        let slice_len = if self.core.left_keys.is_empty() {
            // Key-less: every left row meets every right row; bound the pairs per slice.
            (self.batch_size / self.build.batch.num_rows().max(1)).max(1)
        } else {
            n
        };
        let len = slice_len.min(n - offset);
        let slice = batch.slice(offset, len);
        if offset + len < n {
            self.current = Some((batch, offset + len));
        }
        self.join_slice(&slice)
    }

    fn join_slice(&mut self, left: &RecordBatch) -> Result<()> {
        let jt = self.core.join_type;
        let n = left.num_rows();
        let existence_only =
            self.core.filter.is_none() && matches!(jt, JoinType::LeftSemi | JoinType::LeftAnti);
        if existence_only {
            let matched = self.probe_exists(left)?;
            let want = matches!(jt, JoinType::LeftSemi);
            let idx: Vec<u32> = (0..n as u32)
                .filter(|&i| matched[i as usize] == want)
                .collect();
            return self.emit(Some(left), &UInt32Array::from(idx), None);
        }
        let mut pairs = self.probe_pairs(left)?;
        self.apply_filter(left, &mut pairs)?;
        match jt {
            JoinType::Inner | JoinType::Cross => {
                let p = UInt32Array::from(pairs.probe);
                let b = UInt32Array::from(pairs.build);
                self.emit(Some(left), &p, Some(&b))
            }
            JoinType::Right => {
                for &b in &pairs.build {
                    self.build_matched[b as usize] = true;
                }
                let p = UInt32Array::from(pairs.probe);
                let b = UInt32Array::from(pairs.build);
                self.emit(Some(left), &p, Some(&b))
            }
            JoinType::Left | JoinType::Full => {
                if jt == JoinType::Full {
                    for &b in &pairs.build {
                        self.build_matched[b as usize] = true;
                    }
                }
                let mut matched = vec![false; n];
                for &p in &pairs.probe {
                    matched[p as usize] = true;
                }
                let k = pairs.probe.len();
                let mut probe = pairs.probe;
                probe.extend((0..n as u32).filter(|&i| !matched[i as usize]));
                let mut build = pairs.build;
                build.resize(probe.len(), 0);
                let valid = NullBuffer::new(BooleanBuffer::collect_bool(build.len(), |i| i < k));
                let b = UInt32Array::new(build.into(), Some(valid));
                self.emit(Some(left), &UInt32Array::from(probe), Some(&b))
            }
            JoinType::LeftSemi | JoinType::LeftAnti => {
                let mut matched = vec![false; n];
                for &p in &pairs.probe {
                    matched[p as usize] = true;
                }
                let want = jt == JoinType::LeftSemi;
                let idx: Vec<u32> = (0..n as u32)
                    .filter(|&i| matched[i as usize] == want)
                    .collect();
                self.emit(Some(left), &UInt32Array::from(idx), None)
            }
        }
    }

    /// Evaluates the left keys of `left`: their hashes, key rows and NULL rows.
    fn probe_keys(&self, left: &RecordBatch) -> Result<(Vec<u64>, Rows, Option<NullBuffer>)> {
        let keys = evaluate_keys(self.core.left_keys.iter().cloned(), left)?;
        let nulls = key_nulls(&keys, left.num_rows());
        let mut hashes = Vec::new();
        hash_arrays(&keys, &mut hashes)?;
        let rows = self.core.key_conv.convert_columns(&keys)?;
        Ok((hashes, rows, nulls))
    }

    /// The first build row whose key equals probe row `i`, if any.
    #[inline]
    fn find(&self, hashes: &[u64], rows: &Rows, i: usize) -> Option<u32> {
        let build_rows = self.build.rows.as_ref()?;
        let h = spread(hashes[i]);
        let probe_row = rows.row(i);
        self.build
            .table
            .find(h, |&(eh, head)| {
                eh == h && build_rows.row(head as usize) == probe_row
            })
            .map(|&(_, head)| head)
    }

    /// For every probe row: does it have a key match (ignoring any filter)?
    fn probe_exists(&self, left: &RecordBatch) -> Result<Vec<bool>> {
        let n = left.num_rows();
        if self.core.left_keys.is_empty() {
            return Ok(vec![self.build.batch.num_rows() > 0; n]);
        }
        let (hashes, rows, nulls) = self.probe_keys(left)?;
        Ok((0..n)
            .map(|i| {
                !nulls.as_ref().is_some_and(|m| m.is_null(i))
                    && self.find(&hashes, &rows, i).is_some()
            })
            .collect())
    }

    /// Every (probe row, build row) pair with equal, non-NULL keys, in probe order.
    fn probe_pairs(&self, left: &RecordBatch) -> Result<Pairs> {
        let n = left.num_rows();
        let m = self.build.batch.num_rows() as u32;
        let mut pairs = Pairs::default();
        if self.core.left_keys.is_empty() {
            pairs.probe.reserve(n * m as usize);
            pairs.build.reserve(n * m as usize);
            for i in 0..n as u32 {
                pairs.probe.extend(std::iter::repeat_n(i, m as usize));
                pairs.build.extend(0..m);
            }
            return Ok(pairs);
        }
        let (hashes, rows, nulls) = self.probe_keys(left)?;
        for i in 0..n {
            if nulls.as_ref().is_some_and(|m| m.is_null(i)) {
                continue;
            }
            let mut j = match self.find(&hashes, &rows, i) {
                Some(j) => j,
                None => continue,
            };
            while j != NONE {
                pairs.probe.push(i as u32);
                pairs.build.push(j);
                j = self.build.next[j as usize];
            }
        }
        Ok(pairs)
    }

    /// Keeps only the pairs for which the join's extra condition is true.
    fn apply_filter(&self, left: &RecordBatch, pairs: &mut Pairs) -> Result<()> {
        let Some(filter) = &self.core.filter else {
            return Ok(());
        };
        if pairs.probe.is_empty() {
            return Ok(());
        }
        let p = UInt32Array::from(std::mem::take(&mut pairs.probe));
        let b = UInt32Array::from(std::mem::take(&mut pairs.build));
        let mut cols = take_columns(left, &p)?;
        cols.extend(take_columns(&self.build.batch, &b)?);
        let joined = RecordBatch::try_new_with_options(
            Arc::clone(&self.core.filter_schema),
            cols,
            &RecordBatchOptions::new().with_row_count(Some(p.len())),
        )?;
        let result = filter.evaluate(&joined)?.into_array(p.len())?;
        let mask = result.as_boolean_opt().ok_or_else(|| {
            EngineError::Internal(format!(
                "join condition {filter} returned {} instead of BOOLEAN",
                result.data_type()
            ))
        })?;
        // NULL counts as false (SQL WHERE semantics).
        for i in 0..p.len() {
            if mask.is_valid(i) && mask.value(i) {
                pairs.probe.push(p.value(i));
                pairs.build.push(b.value(i));
            }
        }
        Ok(())
    }

    /// After the probe side: the right rows that never matched, with NULL left columns.
    fn emit_unmatched_build(&mut self) -> Result<()> {
        if !matches!(self.core.join_type, JoinType::Right | JoinType::Full) {
            return Ok(());
        }
        let idx: Vec<u32> = (0..self.build_matched.len() as u32)
            .filter(|&i| !self.build_matched[i as usize])
            .collect();
        let idx = UInt32Array::from(idx);
        self.emit(None, &idx, Some(&idx))
    }

    /// Gathers output rows in batches of at most `batch_size`: left columns by `probe`
    /// (all NULL when `left` is None) and, unless the join outputs only the left side, right
    /// columns by `build` (a NULL index gives NULL columns).
    fn emit(
        &mut self,
        left: Option<&RecordBatch>,
        probe: &UInt32Array,
        build: Option<&UInt32Array>,
    ) -> Result<()> {
        let total = probe.len();
        let schema = &self.core.schema;
        let n_left = self.core.filter_schema.fields().len() - self.core.right_schema.fields().len();
        let mut offset = 0;
        while offset < total {
            let len = self.batch_size.min(total - offset);
            let mut cols: Vec<ArrayRef> = match left {
                Some(l) => take_columns(l, &probe.slice(offset, len))?,
                None => self.core.filter_schema.fields()[..n_left]
                    .iter()
                    .map(|f| arrow::array::new_null_array(f.data_type(), len))
                    .collect(),
            };
            if self.core.join_type.outputs_right() {
                let b = build.ok_or_else(|| {
                    EngineError::Internal("join output without right indices".into())
                })?;
                cols.extend(take_columns(&self.build.batch, &b.slice(offset, len))?);
            }
            let batch = RecordBatch::try_new_with_options(
                Arc::clone(schema),
                cols,
                &RecordBatchOptions::new().with_row_count(Some(len)),
            )
            .map_err(|e| {
                EngineError::Internal(format!("join output does not fit its schema: {e}"))
            })?;
            self.pending.push_back(batch);
            offset += len;
        }
        Ok(())
    }
}

/// `take` of every column of `batch`.
fn take_columns(batch: &RecordBatch, idx: &UInt32Array) -> Result<Vec<ArrayRef>> {
    Ok(batch
        .columns()
        .iter()
        .map(|c| take(c.as_ref(), idx, None))
        .collect::<Result<Vec<_>, _>>()?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::conf::{BATCH_SIZE, MASTER, SessionConf};
    use crate::physical::expr::{ColumnarValue, PhysicalExpr};
    use crate::physical::plan::{collect, collect_partitions};
    use crate::physical::table::memory::MemoryExec;
    use arrow::array::{Float64Array, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Int64Type};
    use proptest::prelude::*;
    use std::fmt;

    const ALL: [JoinType; 7] = [
        JoinType::Inner,
        JoinType::Left,
        JoinType::Right,
        JoinType::Full,
        JoinType::LeftSemi,
        JoinType::LeftAnti,
        JoinType::Cross,
    ];

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

    /// `a > b` over two BIGINT columns (NULL if either is NULL).
    #[derive(Debug)]
    struct Gt(usize, usize);

    impl fmt::Display for Gt {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "(#{} > #{})", self.0, self.1)
        }
    }

    impl PhysicalExpr for Gt {
        fn data_type(&self) -> &DataType {
            &DataType::Boolean
        }
        fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
            let r = arrow::compute::kernels::cmp::gt(batch.column(self.0), batch.column(self.1))?;
            Ok(ColumnarValue::Array(Arc::new(r)))
        }
    }

    fn col(schema: &Schema, i: usize) -> PhysicalExprRef {
        let f = schema.field(i);
        Arc::new(Col(i, f.name().clone(), f.data_type().clone()))
    }

    fn ctx(batch_size: usize) -> Arc<TaskContext> {
        let mut conf = SessionConf::new();
        conf.set(BATCH_SIZE, batch_size.to_string());
        conf.set(MASTER, "local[2]");
        Arc::new(TaskContext::new(Arc::new(conf)).unwrap())
    }

    /// (k1, k2, v): BIGINT, STRING, BIGINT, all nullable.
    type Row = (Option<i64>, Option<String>, Option<i64>);

    fn side_schema(prefix: &str) -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new(format!("{prefix}k1"), DataType::Int64, true),
            Field::new(format!("{prefix}k2"), DataType::Utf8, true),
            Field::new(format!("{prefix}v"), DataType::Int64, true),
        ]))
    }

    fn batch(schema: &SchemaRef, rows: &[Row]) -> RecordBatch {
        RecordBatch::try_new(
            Arc::clone(schema),
            vec![
                Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.0))),
                Arc::new(StringArray::from_iter(rows.iter().map(|r| r.1.clone()))),
                Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.2))),
            ],
        )
        .unwrap()
    }

    /// Hash-partitions `rows` into `n` partitions by the first `nkeys` key columns, as the
    /// exchange does, each partition split into batches of `per_batch` rows.
    fn partitioned(
        schema: &SchemaRef,
        rows: &[Row],
        nkeys: usize,
        n: usize,
        per_batch: usize,
    ) -> ExecutionPlanRef {
        let all = batch(schema, rows);
        let mut parts: Vec<Vec<Row>> = vec![Vec::new(); n];
        if nkeys == 0 || n == 1 {
            // Round robin: no key to partition by.
            for (i, r) in rows.iter().enumerate() {
                parts[i % n].push(r.clone());
            }
        } else {
            let mut hashes = Vec::new();
            hash_arrays(&all.columns()[..nkeys], &mut hashes).unwrap();
            for (r, h) in rows.iter().zip(hashes) {
                parts[(h % n as u64) as usize].push(r.clone());
            }
        }
        let partitions = parts
            .iter()
            .map(|p| {
                p.chunks(per_batch.max(1))
                    .map(|c| batch(schema, c))
                    .collect()
            })
            .collect();
        Arc::new(MemoryExec::new(Arc::clone(schema), partitions))
    }

    fn out_schema(jt: JoinType) -> SchemaRef {
        let mut fields: Vec<Field> = side_schema("l_")
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        if jt.outputs_right() {
            fields.extend(
                side_schema("r_")
                    .fields()
                    .iter()
                    .map(|f| f.as_ref().clone()),
            );
        }
        Arc::new(Schema::new(fields))
    }

    type OutRow = Vec<Option<String>>;

    fn out_rows(batches: &[RecordBatch]) -> Vec<OutRow> {
        let mut out = Vec::new();
        for b in batches {
            for i in 0..b.num_rows() {
                let row = b
                    .columns()
                    .iter()
                    .map(|c| {
                        if c.is_null(i) {
                            None
                        } else if let Some(a) = c.as_primitive_opt::<Int64Type>() {
                            Some(a.value(i).to_string())
                        } else {
                            Some(c.as_string::<i32>().value(i).to_string())
                        }
                    })
                    .collect();
                out.push(row);
            }
        }
        out.sort();
        out
    }

    fn render(r: &Row) -> OutRow {
        vec![
            r.0.map(|v| v.to_string()),
            r.1.clone(),
            r.2.map(|v| v.to_string()),
        ]
    }

    /// The nested-loop reference: SQL semantics written out row by row.
    fn reference(
        jt: JoinType,
        left: &[Row],
        right: &[Row],
        nkeys: usize,
        filter: bool,
    ) -> Vec<OutRow> {
        let keys_eq = |l: &Row, r: &Row| {
            (nkeys < 1 || matches!((l.0, r.0), (Some(a), Some(b)) if a == b))
                && (nkeys < 2 || matches!((&l.1, &r.1), (Some(a), Some(b)) if a == b))
        };
        let cond = |l: &Row, r: &Row| !filter || matches!((l.2, r.2), (Some(a), Some(b)) if a > b);
        let nulls = vec![None; 3];
        let mut out = Vec::new();
        let mut right_matched = vec![false; right.len()];
        for l in left {
            let mut matched = false;
            for (j, r) in right.iter().enumerate() {
                if keys_eq(l, r) && cond(l, r) {
                    matched = true;
                    right_matched[j] = true;
                    if jt.outputs_right() {
                        out.push([render(l), render(r)].concat());
                    }
                }
            }
            match jt {
                JoinType::Left | JoinType::Full if !matched => {
                    out.push([render(l), nulls.clone()].concat())
                }
                JoinType::LeftSemi if matched => out.push(render(l)),
                JoinType::LeftAnti if !matched => out.push(render(l)),
                _ => {}
            }
        }
        if matches!(jt, JoinType::Right | JoinType::Full) {
            for (j, r) in right.iter().enumerate() {
                if !right_matched[j] {
                    out.push([nulls.clone(), render(r)].concat());
                }
            }
        }
        out.sort();
        out
    }

    fn make_join(
        jt: JoinType,
        left: ExecutionPlanRef,
        right: ExecutionPlanRef,
        nkeys: usize,
        filter: bool,
    ) -> Result<HashJoinExec> {
        let (ls, rs) = (left.schema(), right.schema());
        let on = (0..nkeys).map(|i| (col(&ls, i), col(&rs, i))).collect();
        // In the joined row, left v is column 2 and right v is column 5.
        let f: Option<PhysicalExprRef> = filter.then(|| Arc::new(Gt(2, 5)) as PhysicalExprRef);
        HashJoinExec::try_new(left, right, on, f, jt, out_schema(jt))
    }

    fn run_join(
        jt: JoinType,
        left: &[Row],
        right: &[Row],
        nkeys: usize,
        filter: bool,
        (lp, rp, per_batch, batch_size): (usize, usize, usize, usize),
    ) -> Vec<OutRow> {
        let l = partitioned(&side_schema("l_"), left, nkeys, lp, per_batch);
        let r = partitioned(&side_schema("r_"), right, nkeys, rp, per_batch);
        let plan: ExecutionPlanRef = Arc::new(make_join(jt, l, r, nkeys, filter).unwrap());
        assert_eq!(plan.output_partitions(), lp);
        let batches = collect(&plan, &ctx(batch_size)).unwrap();
        for b in &batches {
            assert!(
                b.num_rows() <= batch_size,
                "{} > {batch_size}",
                b.num_rows()
            );
            assert_eq!(b.schema(), plan.schema());
        }
        out_rows(&batches)
    }

    fn row(k1: Option<i64>, k2: Option<&str>, v: i64) -> Row {
        (k1, k2.map(str::to_string), Some(v))
    }

    fn left_rows() -> Vec<Row> {
        vec![
            row(Some(1), Some("a"), 10),
            row(Some(1), Some("a"), 11),
            row(Some(2), Some("b"), 20),
            row(None, Some("a"), 30),
            row(Some(3), None, 40),
            row(Some(4), Some("x"), 50),
        ]
    }

    fn right_rows() -> Vec<Row> {
        vec![
            row(Some(1), Some("a"), 100),
            row(Some(1), Some("a"), 5),
            row(Some(1), Some("z"), 101),
            row(Some(2), Some("b"), 200),
            row(None, Some("a"), 300),
            row(Some(3), None, 400),
            row(Some(5), Some("y"), 500),
        ]
    }

    fn s(v: &[Option<&str>]) -> OutRow {
        v.iter().map(|x| x.map(str::to_string)).collect()
    }

    #[test]
    fn inner_join_with_duplicates_and_null_keys() {
        let got = run_join(
            JoinType::Inner,
            &left_rows(),
            &right_rows(),
            1,
            false,
            (1, 1, 2, 100),
        );
        // k1 = 1: 2 left x 3 right; k1 = 2: 1 x 1; k1 = 3: 1 x 1; NULLs never match.
        assert_eq!(got.len(), 8);
        assert!(got.contains(&s(&[
            Some("3"),
            None,
            Some("40"),
            Some("3"),
            None,
            Some("400")
        ])));
        assert!(!got.iter().any(|r| r[0].is_none() || r[3].is_none()));
        assert_eq!(
            got,
            reference(JoinType::Inner, &left_rows(), &right_rows(), 1, false)
        );
    }

    #[test]
    fn two_column_keys_null_in_any_key_never_matches() {
        let got = run_join(
            JoinType::Inner,
            &left_rows(),
            &right_rows(),
            2,
            false,
            (2, 2, 1, 3),
        );
        // (1,a) x 2 left x 2 right, (2,b); (3,NULL) does not match itself.
        assert_eq!(got.len(), 5);
        assert_eq!(
            got,
            reference(JoinType::Inner, &left_rows(), &right_rows(), 2, false)
        );
    }

    #[test]
    fn outer_joins_keep_null_key_rows_unmatched() {
        let left = left_rows();
        let right = right_rows();
        let full = run_join(JoinType::Full, &left, &right, 2, false, (3, 3, 2, 4));
        let null_left = s(&[None, Some("a"), Some("30"), None, None, None]);
        let null_right = s(&[None, None, None, None, Some("a"), Some("300")]);
        assert!(full.contains(&null_left));
        assert!(full.contains(&null_right));
        assert_eq!(full, reference(JoinType::Full, &left, &right, 2, false));
        let l = run_join(JoinType::Left, &left, &right, 2, false, (3, 3, 2, 4));
        assert!(l.contains(&null_left) && !l.contains(&null_right));
        let r = run_join(JoinType::Right, &left, &right, 2, false, (3, 3, 2, 4));
        assert!(!r.contains(&null_left) && r.contains(&null_right));
    }

    #[test]
    fn semi_and_anti() {
        let left = left_rows();
        let right = right_rows();
        let semi = run_join(JoinType::LeftSemi, &left, &right, 1, false, (2, 2, 3, 100));
        let semi_v: Vec<_> = semi.iter().map(|r| r[2].clone().unwrap()).collect();
        assert_eq!(semi_v, vec!["10", "11", "20", "40"]);
        let anti = run_join(JoinType::LeftAnti, &left, &right, 1, false, (2, 2, 3, 100));
        let anti_v: Vec<_> = anti.iter().map(|r| r[2].clone().unwrap()).collect();
        // The NULL-key row is kept by an anti join: NULL = x is never true.
        assert_eq!(anti_v, vec!["30", "50"]);
    }

    #[test]
    fn filter_failure_makes_outer_rows_unmatched() {
        let left = vec![row(Some(1), Some("a"), 10), row(Some(2), Some("b"), 1)];
        let right = vec![row(Some(1), Some("a"), 5), row(Some(2), Some("b"), 7)];
        let full = run_join(JoinType::Full, &left, &right, 1, true, (1, 1, 10, 10));
        assert_eq!(
            full,
            vec![
                s(&[None, None, None, Some("2"), Some("b"), Some("7")]),
                s(&[
                    Some("1"),
                    Some("a"),
                    Some("10"),
                    Some("1"),
                    Some("a"),
                    Some("5")
                ]),
                s(&[Some("2"), Some("b"), Some("1"), None, None, None]),
            ]
        );
        let anti = run_join(JoinType::LeftAnti, &left, &right, 1, true, (1, 1, 10, 10));
        assert_eq!(anti, vec![s(&[Some("2"), Some("b"), Some("1")])]);
        let semi = run_join(JoinType::LeftSemi, &left, &right, 1, true, (1, 1, 10, 10));
        assert_eq!(semi, vec![s(&[Some("1"), Some("a"), Some("10")])]);
    }

    #[test]
    fn empty_sides_for_every_join_type() {
        for jt in ALL {
            for (l, r) in [
                (vec![], right_rows()),
                (left_rows(), vec![]),
                (vec![], vec![]),
            ] {
                let nkeys = if jt == JoinType::Cross { 0 } else { 1 };
                let rp = if nkeys == 0 { 1 } else { 2 };
                let got = run_join(jt, &l, &r, nkeys, false, (2, rp, 2, 3));
                assert_eq!(got, reference(jt, &l, &r, nkeys, false), "{jt:?}");
            }
        }
    }

    #[test]
    fn cross_join_is_batched_and_broadcast() {
        let left: Vec<Row> = (0..7).map(|i| row(Some(i), None, i)).collect();
        let right: Vec<Row> = (0..5).map(|i| row(Some(i), None, i * 2)).collect();
        // 3 left partitions, 1 right partition built once; batches of at most 4 rows.
        let got = run_join(JoinType::Cross, &left, &right, 0, false, (3, 1, 3, 4));
        assert_eq!(got.len(), 35);
        assert_eq!(got, reference(JoinType::Cross, &left, &right, 0, false));
        let got = run_join(JoinType::Cross, &left, &right, 0, true, (3, 1, 3, 4));
        assert_eq!(got, reference(JoinType::Cross, &left, &right, 0, true));
        // A key-less left outer join (pure non-equi condition).
        let got = run_join(JoinType::Left, &left, &right, 0, true, (3, 1, 3, 4));
        assert_eq!(got, reference(JoinType::Left, &left, &right, 0, true));
    }

    #[test]
    fn broadcast_build_side_for_keyed_join() {
        let left = left_rows();
        let right = right_rows();
        for jt in [
            JoinType::Inner,
            JoinType::Left,
            JoinType::LeftSemi,
            JoinType::LeftAnti,
        ] {
            let l = partitioned(&side_schema("l_"), &left, 0, 3, 2);
            let r = partitioned(&side_schema("r_"), &right, 0, 1, 2);
            let plan: ExecutionPlanRef = Arc::new(make_join(jt, l, r, 1, false).unwrap());
            assert_eq!(plan.name(), "BroadcastHashJoin");
            let got = out_rows(&collect(&plan, &ctx(100)).unwrap());
            assert_eq!(got, reference(jt, &left, &right, 1, false), "{jt:?}");
        }
    }

    #[test]
    fn build_failure_reaches_every_partition() {
        // A right side whose only partition fails: every left partition reports an error.
        #[derive(Debug)]
        struct Failing(SchemaRef);
        impl ExecutionPlan for Failing {
            fn name(&self) -> &'static str {
                "Failing"
            }
            fn schema(&self) -> SchemaRef {
                Arc::clone(&self.0)
            }
            fn children(&self) -> Vec<ExecutionPlanRef> {
                vec![]
            }
            fn output_partitions(&self) -> usize {
                1
            }
            fn execute(&self, _: usize, _: &Arc<TaskContext>) -> Result<BatchIter> {
                Err(EngineError::execution("BOOM", "boom"))
            }
        }
        let l = partitioned(&side_schema("l_"), &left_rows(), 0, 2, 2);
        let r: ExecutionPlanRef = Arc::new(Failing(side_schema("r_")));
        let join = make_join(JoinType::Inner, l, r, 1, false).unwrap();
        let c = ctx(10);
        assert!(join.execute(0, &c).is_err());
        let e = join.execute(1, &c).err().unwrap();
        assert!(e.to_string().contains("boom"), "{e}");
    }

    #[test]
    fn float_keys_join_nan_with_nan_and_zero_with_negative_zero() {
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)]));
        let mk = |v: Vec<Option<f64>>| -> ExecutionPlanRef {
            let b =
                RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(Float64Array::from(v))])
                    .unwrap();
            Arc::new(MemoryExec::new(Arc::clone(&schema), vec![vec![b]]))
        };
        let l = mk(vec![Some(0.0), Some(f64::NAN), None, Some(1.0)]);
        let r = mk(vec![Some(-0.0), Some(-f64::NAN), None, Some(2.0)]);
        let out = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Float64, true),
            Field::new("x", DataType::Float64, true),
        ]));
        let on = vec![(col(&schema, 0), col(&schema, 0))];
        let plan: ExecutionPlanRef =
            Arc::new(HashJoinExec::try_new(l, r, on, None, JoinType::Inner, out).unwrap());
        let batches = collect(&plan, &ctx(10)).unwrap();
        let n: usize = batches.iter().map(|b| b.num_rows()).sum();
        assert_eq!(n, 2);
    }

    #[test]
    fn describe_and_contract_checks() {
        let l = partitioned(&side_schema("l_"), &left_rows(), 1, 2, 2);
        let r = partitioned(&side_schema("r_"), &right_rows(), 1, 2, 2);
        let j = make_join(JoinType::Inner, Arc::clone(&l), Arc::clone(&r), 2, true).unwrap();
        assert_eq!(
            j.describe(),
            "ShuffledHashJoin [l_k1, l_k2], [r_k1, r_k2], Inner, BuildRight, (#2 > #5)"
        );
        let j = make_join(JoinType::Full, Arc::clone(&l), Arc::clone(&r), 1, false).unwrap();
        assert_eq!(
            j.describe(),
            "ShuffledHashJoin [l_k1], [r_k1], FullOuter, BuildRight"
        );
        let r1 = partitioned(&side_schema("r_"), &right_rows(), 0, 1, 2);
        let j = make_join(JoinType::Cross, Arc::clone(&l), Arc::clone(&r1), 0, false).unwrap();
        assert_eq!(j.describe(), "BroadcastNestedLoopJoin BuildRight, Cross");
        let j = make_join(JoinType::Inner, Arc::clone(&l), Arc::clone(&r1), 1, false).unwrap();
        assert_eq!(
            j.describe(),
            "BroadcastHashJoin [l_k1], [r_k1], Inner, BuildRight, false"
        );
        // Right/Full outer joins cannot broadcast the build side.
        assert!(make_join(JoinType::Right, Arc::clone(&l), Arc::clone(&r1), 1, false).is_err());
        assert!(make_join(JoinType::Full, Arc::clone(&l), Arc::clone(&r1), 0, false).is_err());
        // Key-less joins need a single right partition.
        assert!(make_join(JoinType::Cross, Arc::clone(&l), Arc::clone(&r), 0, false).is_err());
        let r3 = partitioned(&side_schema("r_"), &right_rows(), 1, 3, 2);
        assert!(make_join(JoinType::Inner, Arc::clone(&l), r3, 1, false).is_err());
        // Key types must agree; the schema must have the right width.
        let ls = l.schema();
        let rs = r.schema();
        let bad_on = vec![(col(&ls, 0), col(&rs, 1))];
        let e = HashJoinExec::try_new(
            Arc::clone(&l),
            Arc::clone(&r),
            bad_on,
            None,
            JoinType::Inner,
            out_schema(JoinType::Inner),
        );
        assert!(e.is_err());
        let on = vec![(col(&ls, 0), col(&rs, 0))];
        let e = HashJoinExec::try_new(
            l,
            r,
            on,
            None,
            JoinType::LeftSemi,
            out_schema(JoinType::Inner),
        );
        assert!(e.is_err());
    }

    #[test]
    fn output_partitions_follow_left_and_partition_out_of_range_fails() {
        let l = partitioned(&side_schema("l_"), &left_rows(), 1, 3, 2);
        let r = partitioned(&side_schema("r_"), &right_rows(), 1, 3, 2);
        let plan: ExecutionPlanRef = Arc::new(make_join(JoinType::Inner, l, r, 1, false).unwrap());
        let parts = collect_partitions(&plan, &ctx(100)).unwrap();
        assert_eq!(parts.len(), 3);
        assert!(plan.execute(3, &ctx(100)).is_err());
    }

    fn arb_row() -> impl Strategy<Value = Row> {
        (
            proptest::option::weighted(0.85, 0i64..4),
            proptest::option::weighted(0.85, "[ab]"),
            proptest::option::weighted(0.9, 0i64..6),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(150))]
        #[test]
        fn matches_nested_loop_reference(
            left in proptest::collection::vec(arb_row(), 0..14),
            right in proptest::collection::vec(arb_row(), 0..14),
            nkeys in 0usize..3,
            filter in any::<bool>(),
            partitions in 1usize..4,
            per_batch in 1usize..5,
            batch_size in 1usize..9,
        ) {
            for jt in ALL {
                // Key-less joins broadcast one right partition (Right/Full: one left too);
                // keyed joins are co-partitioned by key hash.
                let (lp, rp) = match (nkeys, jt) {
                    (0, JoinType::Right | JoinType::Full) => (1, 1),
                    (0, _) => (partitions, 1),
                    _ => (partitions, partitions),
                };
                let got = run_join(jt, &left, &right, nkeys, filter, (lp, rp, per_batch, batch_size));
                let expected = reference(jt, &left, &right, nkeys, filter);
                prop_assert_eq!(got, expected, "{:?} keys={} filter={}", jt, nkeys, filter);
            }
        }
    }
}
