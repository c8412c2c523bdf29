//! `GenerateExec`: runs a generator (`explode`, `posexplode`, `inline`, `json_tuple`) over
//! every input batch (narrow, fused with its input).
//!
//! Vectorized: the list offsets of the generator's argument give, for each output row, the
//! input row it repeats and the element it holds; the input columns and the elements are
//! then gathered with Arrow's `take`, never row by row.

use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::array::{
    Array, ArrayRef, AsArray, Int32Array, RecordBatch, RecordBatchOptions, StructArray,
    UInt32Array, make_array,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::take;
use arrow::datatypes::{DataType, SchemaRef};

use super::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};
use crate::logical::GeneratorKind;
use crate::physical::expr::PhysicalExprRef;

/// Output = the kept input columns (repeated per generated row) ++ the generated columns.
#[derive(Debug)]
pub struct GenerateExec {
    input: ExecutionPlanRef,
    kind: GeneratorKind,
    outer: bool,
    args: Vec<PhysicalExprRef>,
    /// The input columns in the output, in order.
    kept: Arc<[usize]>,
    schema: SchemaRef,
}

impl GenerateExec {
    /// A generator over `input` producing batches of `schema`: the input columns `kept`
    /// then the generated ones.
    pub fn new(
        input: ExecutionPlanRef,
        kind: GeneratorKind,
        outer: bool,
        args: Vec<PhysicalExprRef>,
        kept: Vec<usize>,
        schema: SchemaRef,
    ) -> Self {
        GenerateExec {
            input,
            kind,
            outer,
            args,
            kept: kept.into(),
            schema,
        }
    }
}

/// Output-row bookkeeping: which input row each output row repeats and which element
/// (an index into the flattened values, or none for an `_outer` padding row) it holds.
struct Plan {
    parents: UInt32Array,
    elements: UInt32Array,
    positions: Int32Array,
}

fn index_plan(offsets: &OffsetBuffer<i32>, nulls: Option<&NullBuffer>, outer: bool) -> Plan {
    let rows = offsets.len() - 1;
    let total = (offsets[rows] - offsets[0]).max(0) as usize;
    let mut parents = Vec::with_capacity(total + if outer { rows } else { 0 });
    let mut elements = Vec::with_capacity(parents.capacity());
    let mut positions = Vec::with_capacity(parents.capacity());
    let mut valid: Vec<bool> = Vec::new();
    let mut padded = false;
    for r in 0..rows {
        let is_null = nulls.is_some_and(|n| n.is_null(r));
        let (start, end) = (offsets[r] as u32, offsets[r + 1] as u32);
        if is_null || start == end {
            if outer {
                if !padded {
                    valid = vec![true; elements.len()];
                    padded = true;
                }
                parents.push(r as u32);
                elements.push(0);
                positions.push(0);
                valid.push(false);
            }
            continue;
        }
        for (p, e) in (start..end).enumerate() {
            parents.push(r as u32);
            elements.push(e);
            positions.push(p as i32);
            if padded {
                valid.push(true);
            }
        }
    }
    let nulls = padded.then(|| NullBuffer::from(valid));
    Plan {
        parents: UInt32Array::from(parents),
        elements: UInt32Array::new(elements.into(), nulls.clone()),
        positions: Int32Array::new(positions.into(), nulls),
    }
}

/// `array`'s children with the struct's own NULL slots made NULL in each of them.
fn struct_columns(array: &StructArray) -> Vec<ArrayRef> {
    array
        .columns()
        .iter()
        .map(|c| match array.nulls() {
            None => c.clone(),
            Some(outer) => {
                let nulls = NullBuffer::union(Some(outer), c.nulls());
                let data = c.to_data().into_builder().nulls(nulls).build();
                match data {
                    Ok(d) => make_array(d),
                    Err(_) => c.clone(),
                }
            }
        })
        .collect()
}

/// Runs `kind` over one batch; the output repeats the input columns `kept`.
pub fn generate_batch(
    batch: &RecordBatch,
    kind: GeneratorKind,
    outer: bool,
    args: &[PhysicalExprRef],
    kept: &[usize],
    schema: &SchemaRef,
) -> Result<RecordBatch> {
    let n = batch.num_rows();
    let values = args
        .iter()
        .map(|a| a.evaluate(batch)?.into_array(n))
        .collect::<Result<Vec<_>>>()?;
    let first = values
        .first()
        .ok_or_else(|| EngineError::Internal("generator without arguments".into()))?;
    let (parents, generated): (Option<UInt32Array>, Vec<ArrayRef>) = match kind {
        GeneratorKind::JsonTuple => (None, crate::functions::json::json_tuple_columns(&values)?),
        GeneratorKind::Explode | GeneratorKind::PosExplode | GeneratorKind::Inline => {
            let (offsets, nulls, items): (OffsetBuffer<i32>, _, Vec<ArrayRef>) =
                match first.data_type() {
                    DataType::List(_) => {
                        let l = first.as_list::<i32>();
                        let items = if kind == GeneratorKind::Inline {
                            match l.values().as_struct_opt() {
                                Some(s) => struct_columns(s),
                                None => {
                                    return Err(EngineError::Internal(
                                        "inline over a non-struct array".into(),
                                    ));
                                }
                            }
                        } else {
                            vec![l.values().clone()]
                        };
                        (l.offsets().clone(), l.nulls().cloned(), items)
                    }
                    DataType::Map(_, _) => {
                        let m = first.as_map();
                        (
                            m.offsets().clone(),
                            m.nulls().cloned(),
                            vec![m.keys().clone(), m.values().clone()],
                        )
                    }
                    DataType::Null => (
                        OffsetBuffer::new_zeroed(n),
                        Some(NullBuffer::new_null(n)),
                        vec![first.clone()],
                    ),
                    other => {
                        return Err(EngineError::Internal(format!(
                            "{} over {other}",
                            kind.name(outer)
                        )));
                    }
                };
            let plan = index_plan(&offsets, nulls.as_ref(), outer);
            let mut cols: Vec<ArrayRef> = Vec::with_capacity(items.len() + 1);
            if kind == GeneratorKind::PosExplode {
                cols.push(Arc::new(plan.positions.clone()));
            }
            for it in &items {
                if it.data_type() == &DataType::Null {
                    cols.push(arrow::array::new_null_array(
                        &DataType::Null,
                        plan.elements.len(),
                    ));
                } else {
                    cols.push(take(it.as_ref(), &plan.elements, None)?);
                }
            }
            (Some(plan.parents), cols)
        }
    };
    let rows = generated.first().map_or(0, |c| c.len());
    let kept_columns = kept.iter().map(|&i| {
        batch
            .columns()
            .get(i)
            .ok_or_else(|| EngineError::Internal(format!("Generate keeps input column {i}")))
    });
    let mut columns: Vec<ArrayRef> = match &parents {
        Some(p) => kept_columns
            .map(|c| Ok(take(c?.as_ref(), p, None)?))
            .collect::<Result<_>>()?,
        None => kept_columns.map(|c| c.cloned()).collect::<Result<_>>()?,
    };
    columns.extend(generated);
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    // The plan's nullability is derived from the argument's; arrays may be looser.
    let columns = columns
        .into_iter()
        .zip(schema.fields())
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                Ok(c)
            } else {
                Ok(arrow::compute::cast(&c, f.data_type())?)
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &options,
    )?)
}

impl ExecutionPlan for GenerateExec {
    fn name(&self) -> &'static str {
        "Generate"
    }
    fn describe(&self) -> String {
        let args: Vec<String> = self.args.iter().map(|a| a.to_string()).collect();
        format!(
            "Generate {}({}), {}",
            self.kind.name(self.outer),
            args.join(", "),
            self.outer
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
        let input = self.input.execute(partition, ctx)?;
        let args = self.args.clone();
        let schema = self.schema.clone();
        let kept = self.kept.clone();
        let (kind, outer) = (self.kind, self.outer);
        Ok(Box::new(input.map(move |b| {
            generate_batch(&b?, kind, outer, &args, &kept, &schema)
        })))
    }
}
