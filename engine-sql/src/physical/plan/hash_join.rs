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

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, RecordBatchOptions, UInt32Array};
use arrow::buffer::{BooleanBuffer, NullBuffer};
use arrow::compute::{concat_batches, take};
use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::row::{RowConverter, Rows, SortField};
use engine_core::{EngineError, Result};
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
    key_fields: Vec<SortField>,
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
        let key_fields = on
            .iter()
            .map(|(l, _)| SortField::new(l.data_type().clone()))
            .collect();
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
                key_fields,
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
        let conv = RowConverter::new(core.key_fields.clone())?;
        let rows = conv.convert_columns(&keys)?;
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
        let conv = RowConverter::new(self.core.key_fields.clone())?;
        let rows = conv.convert_columns(&keys)?;
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
