//! `HashAggregateExec`: groups rows by key and folds them into accumulators.
//!
//! Runs in two phases around an exchange: `Partial` turns input rows into one partial state
//! row per group and partition, `Final` merges the states of a key (all in one partition
//! after the exchange). `Single` does both at once (used for DISTINCT aggregates after the
//! exchange). Group keys live in Arrow's row format in one contiguous buffer; the hash
//! table maps a key's hash to its dense group id.

use std::hash::BuildHasher;
use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, StringArray, new_empty_array, new_null_array,
};
use arrow::datatypes::{DataType, Int32Type, Int64Type, SchemaRef};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use arrow::row::{RowConverter, Rows, SortField};
use hashbrown::HashTable;

use super::hash::hash_arrays;
use super::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};
use crate::functions::aggregate::DistinctAccumulator;
use crate::functions::{AggregateFunction, GroupsAccumulator};
use crate::physical::expr::PhysicalExprRef;

/// Which phase of a two-phase aggregation an operator runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateMode {
    /// Input rows -> partial states.
    Partial,
    /// Partial states -> final values.
    Final,
    /// Input rows -> final values (no partial phase).
    Single,
}

/// One aggregate call of the operator.
#[derive(Debug, Clone)]
pub struct AggregateCall {
    /// The function.
    pub func: Arc<dyn AggregateFunction>,
    /// Arguments over the operator's input (unused in `Final` mode).
    pub args: Vec<PhysicalExprRef>,
    /// The arguments' types.
    pub arg_types: Vec<DataType>,
    /// `DISTINCT` (only in `Single` mode).
    pub distinct: bool,
    /// Display text, e.g. `sum(x)`.
    pub display: String,
}

impl AggregateCall {
    /// Number of partial state columns.
    pub fn state_len(&self) -> Result<usize> {
        Ok(self.func.state_fields(&self.arg_types)?.len())
    }

    fn accumulator(&self) -> Result<Box<dyn GroupsAccumulator>> {
        let acc = self.func.create_accumulator(&self.arg_types)?;
        if self.distinct {
            Ok(Box::new(DistinctAccumulator::try_new(
                acc,
                &self.arg_types,
            )?))
        } else {
            Ok(acc)
        }
    }
}

/// Hash aggregation of one phase.
#[derive(Debug)]
pub struct HashAggregateExec {
    input: ExecutionPlanRef,
    mode: AggregateMode,
    group_exprs: Vec<PhysicalExprRef>,
    group_types: Vec<DataType>,
    aggs: Vec<AggregateCall>,
    schema: SchemaRef,
}

impl HashAggregateExec {
    /// An aggregate producing `schema`: the group columns, then per call its state columns
    /// (`Partial`) or its value (`Final`, `Single`). In `Final` mode `group_exprs` address
    /// the partial output's leading columns and the states follow them in call order.
    pub fn try_new(
        input: ExecutionPlanRef,
        mode: AggregateMode,
        group_exprs: Vec<PhysicalExprRef>,
        aggs: Vec<AggregateCall>,
        schema: SchemaRef,
    ) -> Result<Self> {
        // A dictionary-encoded key groups (and is output) as its plain values.
        let group_types = group_exprs
            .iter()
            .map(|e| match e.data_type() {
                DataType::Dictionary(_, v) => v.as_ref().clone(),
                other => other.clone(),
            })
            .collect();
        Ok(HashAggregateExec {
            input,
            mode,
            group_exprs,
            group_types,
            aggs,
            schema,
        })
    }

    fn run(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<Vec<RecordBatch>> {
        let mut groups = Groups::new(&self.group_types)?;
        let global = self.group_exprs.is_empty();
        if global {
            groups.count = 1;
        }
        let mut accs = self
            .aggs
            .iter()
            .map(AggregateCall::accumulator)
            .collect::<Result<Vec<_>>>()?;
        // Where each call's partial state columns sit in a Final-mode input batch.
        let mut state_ranges = Vec::with_capacity(self.aggs.len());
        let mut off = self.group_exprs.len();
        for a in &self.aggs {
            let len = a.state_len()?;
            state_ranges.push(off..off + len);
            off += len;
        }
        let mut hashes = Vec::new();
        let mut indices: Vec<usize> = Vec::new();
        for batch in self.input.execute(partition, ctx)? {
            let batch = batch?;
            let n = batch.num_rows();
            if n == 0 {
                continue;
            }
            if global {
                indices.clear();
                indices.resize(n, 0);
            } else {
                let mut keys = self
                    .group_exprs
                    .iter()
                    .map(|e| e.evaluate(&batch)?.into_array(n))
                    .collect::<Result<Vec<_>>>()?;
                if !groups.assign_dictionary(&keys, &mut indices)? {
                    // Dictionary keys the key store does not take directly are grouped
                    // by their values.
                    for k in &mut keys {
                        if let DataType::Dictionary(_, v) = k.data_type() {
                            *k = arrow::compute::cast(k, v)?;
                        }
                    }
                    groups.assign(&keys, &mut hashes, &mut indices)?;
                }
            }
            for (i, (acc, call)) in accs.iter_mut().zip(&self.aggs).enumerate() {
                match self.mode {
                    AggregateMode::Partial | AggregateMode::Single => {
                        let args = call
                            .args
                            .iter()
                            .map(|e| e.evaluate(&batch)?.into_array(n))
                            .collect::<Result<Vec<_>>>()?;
                        acc.update_batch(&args, &indices, groups.count)?;
                    }
                    AggregateMode::Final => {
                        let states: Vec<ArrayRef> = state_ranges[i]
                            .clone()
                            .map(|c| batch.column(c).clone())
                            .collect();
                        acc.merge_batch(&states, &indices, groups.count)?;
                    }
                }
            }
        }
        if groups.count == 0 {
            return Ok(vec![]);
        }
        // Grow every accumulator to all groups, even ones that saw no rows of theirs.
        for (acc, call) in accs.iter_mut().zip(&self.aggs) {
            match self.mode {
                AggregateMode::Final => {
                    let empties = call
                        .func
                        .state_fields(&call.arg_types)?
                        .iter()
                        .map(|f| new_empty_array(f.data_type()))
                        .collect::<Vec<_>>();
                    acc.merge_batch(&empties, &[], groups.count)?;
                }
                _ => {
                    let empties: Vec<ArrayRef> =
                        call.arg_types.iter().map(new_empty_array).collect();
                    acc.update_batch(&empties, &[], groups.count)?;
                }
            }
        }
        let mut columns: Vec<ArrayRef> = if global { vec![] } else { groups.emit()? };
        for acc in &mut accs {
            match self.mode {
                AggregateMode::Partial => columns.extend(acc.state()?),
                _ => columns.push(acc.evaluate()?),
            }
        }
        let columns = columns
            .into_iter()
            .zip(self.schema.fields())
            .map(|(c, f)| {
                if c.data_type() == f.data_type() {
                    Ok(c)
                } else {
                    arrow::compute::cast(&c, f.data_type()).map_err(EngineError::from)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let options = RecordBatchOptions::new().with_row_count(Some(groups.count));
        let batch = RecordBatch::try_new_with_options(self.schema.clone(), columns, &options)?;
        let size = ctx.batch_size().max(1);
        Ok((0..batch.num_rows())
            .step_by(size)
            .map(|s| batch.slice(s, size.min(batch.num_rows() - s)))
            .collect())
    }
}

/// The distinct group keys seen so far, each with a dense id.
struct Groups {
    keys: KeyStore,
    table: HashTable<(u64, usize)>,
    count: usize,
    /// The last dictionary a `Dictionary(Int32, Utf8)` key column came with, and the
    /// group of each of its values (Parquet hands out a column chunk's dictionary with
    /// every batch of the chunk, so it is hashed and looked up once per chunk, not per row).
    dict: Option<DictCache>,
    /// What a NULL key hashes to.
    null_hash: u64,
    /// Hashes the encoded rows of a [`KeyStore::Rows`] key.
    row_hasher: hashbrown::DefaultHashBuilder,
}

/// The groups of a dictionary's values, resolved when a row first uses them.
struct DictCache {
    /// The dictionary's values (kept so its buffers cannot be freed and their addresses
    /// reused by another dictionary while they identify this one).
    values: ArrayRef,
    /// Each value's key hash (as [`hash_arrays`] computes it for a plain STRING key).
    hashes: Vec<u64>,
    /// Each value's group id, `UNRESOLVED` until a row uses it (so values no row uses
    /// never become groups).
    ids: Vec<usize>,
}

const UNRESOLVED: usize = usize::MAX;

/// Whether two STRING arrays share their buffers and range (then they are the same
/// dictionary).
fn same_strings(a: &ArrayRef, b: &ArrayRef) -> bool {
    match (a.as_string_opt::<i32>(), b.as_string_opt::<i32>()) {
        (Some(a), Some(b)) => {
            a.len() == b.len()
                && a.offsets().inner().inner().as_ptr() == b.offsets().inner().inner().as_ptr()
                && a.values().as_ptr() == b.values().as_ptr()
                && a.nulls().map(|n| n.buffer().as_ptr()) == b.nulls().map(|n| n.buffer().as_ptr())
        }
        _ => false,
    }
}

/// The group of the STRING key `key` (`None` = NULL) with hash `h`, created if new.
#[allow(clippy::too_many_arguments)]
#[inline]
fn find_or_insert_str(
    table: &mut HashTable<(u64, usize)>,
    count: &mut usize,
    bytes: &mut Vec<u8>,
    ends: &mut Vec<usize>,
    valid: &mut Vec<bool>,
    h: u64,
    key: Option<&[u8]>,
) -> usize {
    let ok = key.is_some();
    let key = key.unwrap_or_default();
    let found = table.find(h, |&(gh, id)| {
        let start = if id == 0 { 0 } else { ends[id - 1] };
        gh == h && valid[id] == ok && &bytes[start..ends[id]] == key
    });
    match found {
        Some(&(_, id)) => id,
        None => {
            let id = *count;
            bytes.extend_from_slice(key);
            ends.push(bytes.len());
            valid.push(ok);
            table.insert_unique(h, (h, id), |&(gh, _)| gh);
            *count += 1;
            id
        }
    }
}

/// How group keys are stored: one integer key directly, anything else in Arrow's row
/// format (one contiguous buffer, compared as bytes).
enum KeyStore {
    Rows {
        converter: RowConverter,
        rows: Rows,
    },
    Int {
        dt: DataType,
        values: Vec<i64>,
        valid: Vec<bool>,
    },
    /// One STRING key: all keys' bytes back to back, `ends[id]` where key `id` ends.
    Str {
        bytes: Vec<u8>,
        ends: Vec<usize>,
        valid: Vec<bool>,
    },
}

impl Groups {
    fn new(types: &[DataType]) -> Result<Self> {
        let keys = match types {
            [dt @ (DataType::Int32 | DataType::Int64)] => KeyStore::Int {
                dt: dt.clone(),
                values: Vec::new(),
                valid: Vec::new(),
            },
            [DataType::Utf8] => KeyStore::Str {
                bytes: Vec::new(),
                ends: Vec::new(),
                valid: Vec::new(),
            },
            _ => {
                let converter =
                    RowConverter::new(types.iter().cloned().map(SortField::new).collect())?;
                let rows = converter.empty_rows(1024, 1024 * 16);
                KeyStore::Rows { converter, rows }
            }
        };
        let mut null_hash = Vec::new();
        hash_arrays(&[new_null_array(&DataType::Utf8, 1)], &mut null_hash)?;
        Ok(Groups {
            keys,
            table: HashTable::new(),
            count: 0,
            dict: None,
            null_hash: null_hash.first().copied().unwrap_or_default(),
            row_hasher: hashbrown::DefaultHashBuilder::default(),
        })
    }

    /// Assigns groups for one `Dictionary(Int32, Utf8)` key column of a STRING key store:
    /// each dictionary value is hashed and looked up once (per dictionary, which is
    /// reused across batches), then every row just indexes the value -> group table.
    /// Returns false (doing nothing) for any other key shape.
    fn assign_dictionary(&mut self, keys: &[ArrayRef], out: &mut Vec<usize>) -> Result<bool> {
        let [key] = keys else {
            return Ok(false);
        };
        let KeyStore::Str { bytes, ends, valid } = &mut self.keys else {
            return Ok(false);
        };
        let Some(dict) = key.as_dictionary_opt::<Int32Type>() else {
            return Ok(false);
        };
        let values = dict.values();
        let Some(strings) = values.as_string_opt::<i32>() else {
            return Ok(false);
        };
        if !self
            .dict
            .as_ref()
            .is_some_and(|c| same_strings(&c.values, values))
        {
            let mut hashes = Vec::new();
            hash_arrays(std::slice::from_ref(values), &mut hashes)?;
            self.dict = Some(DictCache {
                values: values.clone(),
                hashes,
                ids: vec![UNRESOLVED; values.len()],
            });
        }
        let Some(cache) = self.dict.as_mut() else {
            return Ok(false);
        };
        let codes = dict.keys();
        let nulls = codes.nulls().filter(|n| n.null_count() > 0);
        out.clear();
        out.reserve(codes.len());
        for (i, &code) in codes.values().iter().enumerate() {
            if nulls.is_some_and(|n| n.is_null(i)) {
                out.push(find_or_insert_str(
                    &mut self.table,
                    &mut self.count,
                    bytes,
                    ends,
                    valid,
                    self.null_hash,
                    None,
                ));
                continue;
            }
            let code = code as usize;
            let Some(&id) = cache.ids.get(code) else {
                return Err(EngineError::Internal(format!(
                    "dictionary key {code} past the {} values",
                    cache.ids.len()
                )));
            };
            if id != UNRESOLVED {
                out.push(id);
                continue;
            }
            let key = strings
                .is_valid(code)
                .then(|| strings.value(code).as_bytes());
            let id = find_or_insert_str(
                &mut self.table,
                &mut self.count,
                bytes,
                ends,
                valid,
                cache.hashes[code],
                key,
            );
            cache.ids[code] = id;
            out.push(id);
        }
        Ok(true)
    }

    /// Looks up (or creates) the group of every row; writes dense ids into `out`
    /// (`hashes` is scratch space).
    fn assign(
        &mut self,
        keys: &[ArrayRef],
        hashes: &mut Vec<u64>,
        out: &mut Vec<usize>,
    ) -> Result<()> {
        out.clear();
        match &mut self.keys {
            KeyStore::Rows { converter, rows } => {
                // The table's hash is the encoded row's, not `hash_arrays`': the keys are
                // encoded anyway, and a struct key (a window) would otherwise be encoded a
                // second time just to hash it. Only this table sees these hashes.
                let batch_rows = converter.convert_columns(keys)?;
                for i in 0..batch_rows.num_rows() {
                    let row = batch_rows.row(i);
                    let h = self.row_hasher.hash_one(row.as_ref());
                    let id = match self
                        .table
                        .find(h, |&(gh, id)| gh == h && rows.row(id) == row)
                    {
                        Some(&(_, id)) => id,
                        None => {
                            let id = self.count;
                            rows.push(row);
                            self.table.insert_unique(h, (h, id), |&(gh, _)| gh);
                            self.count += 1;
                            id
                        }
                    };
                    out.push(id);
                }
            }
            KeyStore::Int { values, valid, .. } => {
                hash_arrays(keys, hashes)?;
                let col = arrow::compute::cast(&keys[0], &DataType::Int64)?;
                let col = col.as_primitive::<Int64Type>();
                let nulls = col.nulls().filter(|n| n.null_count() > 0).cloned();
                for (i, (&v, &h)) in col.values().iter().zip(hashes.iter()).enumerate() {
                    let ok = nulls.as_ref().is_none_or(|n| n.is_valid(i));
                    let id = match self.table.find(h, |&(gh, id)| {
                        gh == h && valid[id] == ok && (!ok || values[id] == v)
                    }) {
                        Some(&(_, id)) => id,
                        None => {
                            let id = self.count;
                            values.push(if ok { v } else { 0 });
                            valid.push(ok);
                            self.table.insert_unique(h, (h, id), |&(gh, _)| gh);
                            self.count += 1;
                            id
                        }
                    };
                    out.push(id);
                }
            }
            KeyStore::Str { bytes, ends, valid } => {
                // The dictionary path's cached hashes are `hash_arrays`' too: both paths
                // find the same groups.
                hash_arrays(keys, hashes)?;
                let col = keys[0].as_string::<i32>();
                let nulls = col.nulls().filter(|n| n.null_count() > 0).cloned();
                for (i, &h) in hashes.iter().enumerate() {
                    let ok = nulls.as_ref().is_none_or(|n| n.is_valid(i));
                    let key = ok.then(|| col.value(i).as_bytes());
                    out.push(find_or_insert_str(
                        &mut self.table,
                        &mut self.count,
                        bytes,
                        ends,
                        valid,
                        h,
                        key,
                    ));
                }
            }
        }
        Ok(())
    }

    /// The key columns of every group, in id order.
    fn emit(&mut self) -> Result<Vec<ArrayRef>> {
        match &mut self.keys {
            KeyStore::Rows { converter, rows } => Ok(converter.convert_rows(rows.iter())?),
            KeyStore::Int { dt, values, valid } => {
                let arr: Int64Array = values
                    .iter()
                    .zip(valid.iter())
                    .map(|(&v, &ok)| ok.then_some(v))
                    .collect();
                Ok(vec![arrow::compute::cast(&arr, dt)?])
            }
            KeyStore::Str { bytes, ends, valid } => {
                let mut start = 0;
                let arr: StringArray = ends
                    .iter()
                    .zip(valid.iter())
                    .map(|(&end, &ok)| {
                        let text = std::str::from_utf8(&bytes[start..end]);
                        start = end;
                        // The bytes were copied from valid UTF-8 strings.
                        ok.then(|| text.unwrap_or_default())
                    })
                    .collect();
                Ok(vec![Arc::new(arr)])
            }
        }
    }
}

impl ExecutionPlan for HashAggregateExec {
    fn name(&self) -> &'static str {
        "HashAggregate"
    }
    fn describe(&self) -> String {
        let keys: Vec<String> = self.group_exprs.iter().map(|e| e.to_string()).collect();
        let prefix = match self.mode {
            AggregateMode::Partial => "partial_",
            AggregateMode::Final => "",
            AggregateMode::Single => "",
        };
        let funcs: Vec<String> = self
            .aggs
            .iter()
            .map(|a| format!("{prefix}{}", a.display))
            .collect();
        format!(
            "HashAggregate(keys=[{}], functions=[{}])",
            keys.join(", "),
            funcs.join(", ")
        )
    }
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn children(&self) -> Vec<ExecutionPlanRef> {
        vec![self.input.clone()]
    }
    fn output_partitions(&self) -> usize {
        self.input.output_partitions()
    }
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        // A global aggregate's final phase sees every partial row in partition 0 and must
        // output exactly one row even if the input was empty; other modes emit nothing for
        // partitions without rows.
        let batches = self.run(partition, ctx)?;
        Ok(Box::new(batches.into_iter().map(Ok)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conf::SessionConf;
    use crate::functions::lookup_aggregate;
    use crate::physical::expr::ColumnExpr;
    use crate::physical::table::memory::MemoryExec;
    use arrow::array::{Int32Array, StringArray};
    use arrow::datatypes::{Field, Schema};

    /// Groups (k, v) batches by `k` in one `Single` phase and returns sorted "k:count" text.
    fn group_count(k: Vec<ArrayRef>, key_type: DataType) -> Vec<String> {
        let schema = Arc::new(Schema::new(vec![Field::new("k", key_type.clone(), true)]));
        let batches = k
            .into_iter()
            .map(|a| RecordBatch::try_new(schema.clone(), vec![a]).unwrap())
            .collect();
        let input = Arc::new(MemoryExec::new(schema, vec![batches]));
        let key: PhysicalExprRef = Arc::new(ColumnExpr::new("k", 0, key_type.clone()));
        count_by(input, key.clone(), key, key_type)
    }

    /// `SELECT key, count(arg) ... GROUP BY key` over `input` in one `Single` phase, with
    /// `out_key` as the output key type; returns sorted "key:count" text and checks each
    /// batch's key column has that type.
    fn count_by(
        input: ExecutionPlanRef,
        key: PhysicalExprRef,
        arg: PhysicalExprRef,
        out_key: DataType,
    ) -> Vec<String> {
        let out_schema = Arc::new(Schema::new(vec![
            Field::new("k", out_key, true),
            Field::new("n", DataType::Int64, false),
        ]));
        let count = AggregateCall {
            func: lookup_aggregate("count").unwrap(),
            arg_types: vec![arg.data_type().clone()],
            args: vec![arg],
            distinct: false,
            display: "count(arg)".into(),
        };
        let exec = HashAggregateExec::try_new(
            input,
            AggregateMode::Single,
            vec![key],
            vec![count],
            out_schema,
        )
        .unwrap();
        let ctx = Arc::new(TaskContext::new(Arc::new(SessionConf::new())).unwrap());
        let mut out = Vec::new();
        for b in exec.execute(0, &ctx).unwrap() {
            let b = b.unwrap();
            let tz = chrono_tz::Tz::UTC;
            for r in 0..b.num_rows() {
                let k = crate::format::value_to_string(b.column(0).as_ref(), r, &tz)
                    .unwrap_or_else(|| "NULL".into());
                let n = b.column(1).as_primitive::<Int64Type>().value(r);
                out.push(format!("{k}:{n}"));
            }
            assert_eq!(b.column(0).data_type(), b.schema().field(0).data_type());
        }
        out.sort();
        out
    }

    #[test]
    fn integer_keys_with_nulls_across_batches() {
        let a: ArrayRef = Arc::new(Int32Array::from(vec![Some(1), None, Some(2), Some(1)]));
        let b: ArrayRef = Arc::new(Int32Array::from(vec![None, Some(2), Some(-1)]));
        // count(k) skips NULL keys' values but the NULL group still exists.
        assert_eq!(
            group_count(vec![a, b], DataType::Int32),
            vec!["-1:1", "1:2", "2:2", "NULL:0"]
        );
    }

    /// Groups batches of (k, v) by `k` (whose type may differ per batch: dictionary or
    /// plain) with `count(v)`; returns sorted "k:count" text.
    fn group_count_mixed(keys: Vec<ArrayRef>) -> Vec<String> {
        let dict_type = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        let batches: Vec<RecordBatch> = keys
            .into_iter()
            .map(|k| {
                let schema = Arc::new(Schema::new(vec![
                    Field::new("k", k.data_type().clone(), true),
                    Field::new("v", DataType::Int64, false),
                ]));
                let v: ArrayRef = Arc::new(Int64Array::from(vec![1i64; k.len()]));
                RecordBatch::try_new(schema, vec![k, v]).unwrap()
            })
            .collect();
        let input = Arc::new(MemoryExec::new(batches[0].schema(), vec![batches]));
        let key: PhysicalExprRef = Arc::new(ColumnExpr::new("k", 0, dict_type));
        let v: PhysicalExprRef = Arc::new(ColumnExpr::new("v", 1, DataType::Int64));
        // The output key is plain Utf8 (checked per batch).
        count_by(input, key, v, DataType::Utf8)
    }

    fn dict(codes: Vec<Option<i32>>, values: &ArrayRef) -> ArrayRef {
        Arc::new(
            arrow::array::DictionaryArray::<Int32Type>::try_new(
                Int32Array::from(codes),
                values.clone(),
            )
            .unwrap(),
        )
    }

    #[test]
    fn dictionary_keys_group_by_value() {
        let v1: ArrayRef = Arc::new(StringArray::from(vec!["a", "b", "c", "unused"]));
        // A different dictionary with overlapping values in another order, and a NULL value.
        let v2: ArrayRef = Arc::new(StringArray::from(vec![
            Some("c"),
            None,
            Some("a"),
            Some("d"),
        ]));
        let batches = vec![
            dict(vec![Some(0), Some(1), None, Some(0)], &v1),
            // The same dictionary again (as Parquet hands it out for every batch of a
            // column chunk): the cached value -> group table is reused.
            dict(vec![Some(2), Some(0), Some(2)], &v1),
            dict(vec![Some(0), Some(1), Some(2), Some(3), None], &v2),
            // A plain STRING batch mixed in groups with the same keys.
            Arc::new(StringArray::from(vec![Some("b"), None, Some("e")])),
            dict(vec![Some(1), Some(1)], &v1),
        ];
        // "unused" is in a dictionary but in no row: no group. NULL codes and NULL values
        // are one NULL group.
        assert_eq!(
            group_count_mixed(batches),
            vec!["NULL:4", "a:4", "b:4", "c:3", "d:1", "e:1"]
        );
    }

    #[test]
    fn dictionary_keys_of_sliced_dictionaries() {
        // Two slices of one values array share buffers but are different dictionaries.
        let all: ArrayRef = Arc::new(StringArray::from(vec!["x", "y", "z"]));
        let batches = vec![
            dict(vec![Some(0), Some(1)], &all.slice(0, 2)),
            dict(vec![Some(0), Some(1)], &all.slice(1, 2)),
        ];
        assert_eq!(group_count_mixed(batches), vec!["x:1", "y:2", "z:1"]);
    }

    #[test]
    fn dictionary_key_among_several_groups_by_value() {
        let values: ArrayRef = Arc::new(StringArray::from(vec!["a", "b"]));
        let k = dict(vec![Some(0), Some(1), Some(0), None], &values);
        let j: ArrayRef = Arc::new(Int32Array::from(vec![1, 1, 1, 2]));
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", k.data_type().clone(), true),
            Field::new("j", DataType::Int32, false),
        ]));
        let batch = RecordBatch::try_new(schema.clone(), vec![k.clone(), j]).unwrap();
        let input = Arc::new(MemoryExec::new(schema, vec![vec![batch]]));
        let out_schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, true),
            Field::new("j", DataType::Int32, false),
        ]));
        let keys: Vec<PhysicalExprRef> = vec![
            Arc::new(ColumnExpr::new("k", 0, k.data_type().clone())),
            Arc::new(ColumnExpr::new("j", 1, DataType::Int32)),
        ];
        let exec =
            HashAggregateExec::try_new(input, AggregateMode::Single, keys, vec![], out_schema)
                .unwrap();
        let ctx = Arc::new(TaskContext::new(Arc::new(SessionConf::new())).unwrap());
        let b = exec.execute(0, &ctx).unwrap().next().unwrap().unwrap();
        let k = b.column(0).as_string::<i32>();
        let j = b.column(1).as_primitive::<arrow::datatypes::Int32Type>();
        let mut rows: Vec<String> = (0..b.num_rows())
            .map(|r| format!("{:?}/{}", k.is_valid(r).then(|| k.value(r)), j.value(r)))
            .collect();
        rows.sort();
        assert_eq!(rows, vec!["None/2", "Some(\"a\")/1", "Some(\"b\")/1"]);
    }

    #[test]
    fn string_keys_with_nulls_across_batches() {
        let a: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), None, Some("y")]));
        let b: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), None]));
        assert_eq!(
            group_count(vec![a, b], DataType::Utf8),
            vec!["NULL:0", "x:2", "y:1"]
        );
    }
}
