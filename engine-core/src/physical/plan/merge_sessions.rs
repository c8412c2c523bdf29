//! `MergeSessionsExec`: gives every row of a key the session its key's events form together
//! (Spark's `UpdatingSessionsExec`); see [`crate::logical::MergeSessions`].
//!
//! The input is exchanged by the keys, so a partition holds all rows of its keys. The
//! partition is sorted by keys and session start, and sessions merge while the next one
//! starts at or before the current end (Spark merges touching sessions too: `[0, 5)` and
//! `[5, 10)` become `[0, 10)`).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, StructArray};
use arrow::compute::{SortColumn, SortOptions, cast, concat_batches, lexsort_to_indices, take};
use arrow::datatypes::{DataType, Int64Type, SchemaRef};
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, SortField};

use super::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};
use crate::physical::expr::PhysicalExprRef;
use crate::{EngineError, Result};

/// Merges the session windows of each key in a partition.
#[derive(Debug)]
pub struct MergeSessionsExec {
    input: ExecutionPlanRef,
    keys: Vec<PhysicalExprRef>,
    /// Position of the session window column (`struct<start, end>`).
    session: usize,
}

impl MergeSessionsExec {
    /// Merges the sessions in column `session` of `input`, per `keys`.
    pub fn try_new(
        input: ExecutionPlanRef,
        keys: Vec<PhysicalExprRef>,
        session: usize,
    ) -> Result<Self> {
        let schema = input.schema();
        let ok = schema
            .fields()
            .get(session)
            .is_some_and(|f| crate::functions::window::is_window_type(f.data_type()));
        if !ok {
            return Err(EngineError::Internal(format!(
                "MergeSessions: column {session} of {schema:?} is not a session window"
            )));
        }
        Ok(MergeSessionsExec {
            input,
            keys,
            session,
        })
    }
}

impl ExecutionPlan for MergeSessionsExec {
    fn name(&self) -> &'static str {
        "MergeSessions"
    }

    fn describe(&self) -> String {
        let keys: Vec<String> = self.keys.iter().map(|k| k.to_string()).collect();
        format!(
            "MergeSessions [{}], {}",
            keys.join(", "),
            self.schema().field(self.session).name()
        )
    }

    fn schema(&self) -> SchemaRef {
        self.input.schema()
    }

    fn children(&self) -> Vec<ExecutionPlanRef> {
        vec![self.input.clone()]
    }

    fn output_partitions(&self) -> usize {
        self.input.output_partitions()
    }

    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let batches = self
            .input
            .execute(partition, ctx)?
            .collect::<Result<Vec<_>>>()?;
        let schema = self.schema();
        let all = concat_batches(&schema, &batches)?;
        if all.num_rows() == 0 {
            return Ok(Box::new(std::iter::empty()));
        }
        let merged = merge(&all, &self.keys, self.session)?;
        let size = ctx.batch_size().max(1);
        let n = merged.num_rows();
        let chunks: Vec<Result<RecordBatch>> = (0..n)
            .step_by(size)
            .map(|start| Ok(merged.slice(start, size.min(n - start))))
            .collect();
        Ok(Box::new(chunks.into_iter()))
    }
}

/// `batch` sorted by keys and session start, each session replaced by its merged session.
pub fn merge(batch: &RecordBatch, keys: &[PhysicalExprRef], session: usize) -> Result<RecordBatch> {
    let n = batch.num_rows();
    let key_arrays = keys
        .iter()
        .map(|k| k.evaluate(batch)?.into_array(n))
        .collect::<Result<Vec<ArrayRef>>>()?;
    let window = batch.column(session).as_struct();
    let time_type = window.column(0).data_type().clone();
    let starts = cast(window.column(0), &DataType::Int64)?;
    let ends = cast(window.column(1), &DataType::Int64)?;
    let mut sort: Vec<SortColumn> = key_arrays
        .iter()
        .map(|k| SortColumn {
            values: k.clone(),
            options: Some(SortOptions::default()),
        })
        .collect();
    sort.push(SortColumn {
        values: starts.clone(),
        options: Some(SortOptions::default()),
    });
    let order = lexsort_to_indices(&sort, None)?;
    let sorted_keys = key_arrays
        .iter()
        .map(|k| take(k.as_ref(), &order, None))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let starts = take(starts.as_ref(), &order, None)?;
    let ends = take(ends.as_ref(), &order, None)?;
    let starts = starts.as_primitive::<Int64Type>();
    let ends = ends.as_primitive::<Int64Type>();
    let rows = if sorted_keys.is_empty() {
        None
    } else {
        let converter = RowConverter::new(
            sorted_keys
                .iter()
                .map(|k| SortField::new(k.data_type().clone()))
                .collect(),
        )?;
        Some(converter.convert_columns(&sorted_keys)?)
    };
    // Per sorted row, the index of its merged session; per session, (start, end).
    let mut owner = Vec::with_capacity(n);
    let mut sessions: Vec<(Option<i64>, Option<i64>)> = Vec::new();
    for i in 0..n {
        let same_key = i > 0 && rows.as_ref().is_none_or(|r| r.row(i) == r.row(i - 1));
        let start = starts.is_valid(i).then(|| starts.value(i));
        let end = ends.is_valid(i).then(|| ends.value(i));
        let joins = same_key
            && sessions
                .last()
                .is_some_and(|(_, cur_end)| match (start, cur_end) {
                    (Some(s), Some(e)) => s <= *e,
                    _ => false,
                });
        if joins {
            if let Some(last) = sessions.last_mut() {
                last.1 = match (last.1, end) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
            }
        } else {
            sessions.push((start, end));
        }
        owner.push(sessions.len() - 1);
    }
    let merged_starts: Int64Array = owner.iter().map(|&s| sessions[s].0).collect();
    let merged_ends: Int64Array = owner.iter().map(|&s| sessions[s].1).collect();
    let window_fields = match batch.schema().field(session).data_type() {
        DataType::Struct(f) => f.clone(),
        other => {
            return Err(EngineError::Internal(format!(
                "session window of type {other}"
            )));
        }
    };
    let merged_window = StructArray::try_new(
        window_fields,
        vec![
            cast(&merged_starts, &time_type)?,
            cast(&merged_ends, &time_type)?,
        ],
        None,
    )?;
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (i, c) in batch.columns().iter().enumerate() {
        if i == session {
            columns.push(Arc::new(merged_window.clone()) as ArrayRef);
        } else {
            columns.push(take(c.as_ref(), &order, None)?);
        }
    }
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::window::window_type;
    use crate::physical::expr::column::ColumnExpr;
    use arrow::array::{StringArray, TimestampMicrosecondArray};
    use arrow::datatypes::{Field, Schema};

    fn batch(keys: &[&str], sessions: &[(i64, i64)]) -> RecordBatch {
        let t = crate::types::timestamp_type();
        let s: Vec<i64> = sessions.iter().map(|s| s.0).collect();
        let e: Vec<i64> = sessions.iter().map(|s| s.1).collect();
        let window = StructArray::try_new(
            match window_type(&t) {
                DataType::Struct(f) => f,
                _ => unreachable!(),
            },
            vec![
                Arc::new(TimestampMicrosecondArray::from(s).with_timezone("UTC")),
                Arc::new(TimestampMicrosecondArray::from(e).with_timezone("UTC")),
            ],
            None,
        )
        .unwrap();
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("k", DataType::Utf8, true),
                Field::new("session_window", window_type(&t), true),
            ])),
            vec![Arc::new(StringArray::from(keys.to_vec())), Arc::new(window)],
        )
        .unwrap()
    }

    fn sessions_of(b: &RecordBatch) -> Vec<(String, i64, i64)> {
        let k = b.column(0).as_string::<i32>();
        let w = b.column(1).as_struct();
        let s = cast(w.column(0), &DataType::Int64).unwrap();
        let e = cast(w.column(1), &DataType::Int64).unwrap();
        (0..b.num_rows())
            .map(|i| {
                (
                    k.value(i).to_string(),
                    s.as_primitive::<Int64Type>().value(i),
                    e.as_primitive::<Int64Type>().value(i),
                )
            })
            .collect()
    }

    #[test]
    fn sessions_merge_per_key_including_touching_ones() {
        // PySpark 4.3, gap 5: events at 0, 4, 9 make one session [0, 14); 20 its own.
        let b = batch(
            &["a", "b", "a", "a", "a"],
            &[(9, 14), (1, 6), (0, 5), (20, 25), (4, 9)],
        );
        let key: PhysicalExprRef = Arc::new(ColumnExpr::new("k".to_string(), 0, DataType::Utf8));
        let out = merge(&b, &[key], 1).unwrap();
        assert_eq!(
            sessions_of(&out),
            vec![
                ("a".into(), 0, 14),
                ("a".into(), 0, 14),
                ("a".into(), 0, 14),
                ("a".into(), 20, 25),
                ("b".into(), 1, 6),
            ]
        );
    }

    #[test]
    fn without_keys_all_rows_form_sessions_together() {
        let b = batch(&["a", "b"], &[(10, 15), (0, 11)]);
        let out = merge(&b, &[], 1).unwrap();
        assert_eq!(
            sessions_of(&out),
            vec![("b".into(), 0, 15), ("a".into(), 0, 15)]
        );
    }
}
