//! `CASE [operand] WHEN .. THEN .. [ELSE ..] END`.
//!
//! Each branch is evaluated only on the rows that reach it (the rows no earlier `WHEN`
//! matched), so `CASE WHEN b = 0 THEN NULL ELSE a / b END` never divides by zero even in
//! ANSI mode, as in Spark.

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, UInt32Array, new_null_array};
use arrow::compute::kernels::cmp;
use arrow::compute::{filter_record_batch, prep_null_mask_filter};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use engine_core::{EngineError, Result};

use super::{ColumnarValue, PhysicalExpr, PhysicalExprRef};

/// A compiled CASE expression.
#[derive(Debug)]
pub struct CaseExpr {
    operand: Option<PhysicalExprRef>,
    branches: Vec<(PhysicalExprRef, PhysicalExprRef)>,
    otherwise: Option<PhysicalExprRef>,
    data_type: DataType,
}

impl CaseExpr {
    /// `CASE [operand] WHEN w THEN t ... [ELSE otherwise] END` producing `data_type`
    /// (branch values of another type, e.g. an untyped NULL, are cast to it).
    pub fn new(
        operand: Option<PhysicalExprRef>,
        branches: Vec<(PhysicalExprRef, PhysicalExprRef)>,
        otherwise: Option<PhysicalExprRef>,
        data_type: DataType,
    ) -> Self {
        CaseExpr {
            operand,
            branches,
            otherwise,
            data_type,
        }
    }

    /// The value of `e` over `batch` as an array of the CASE type.
    fn value(&self, e: &PhysicalExprRef, batch: &RecordBatch) -> Result<ArrayRef> {
        let a = e.evaluate(batch)?.into_array(batch.num_rows())?;
        if a.data_type() == &self.data_type {
            Ok(a)
        } else if a.data_type() == &DataType::Null {
            Ok(new_null_array(&self.data_type, a.len()))
        } else {
            Ok(arrow::compute::cast(&a, &self.data_type)?)
        }
    }
}

impl fmt::Display for CaseExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CASE")?;
        if let Some(o) = &self.operand {
            write!(f, " {o}")?;
        }
        for (w, t) in &self.branches {
            write!(f, " WHEN {w} THEN {t}")?;
        }
        if let Some(e) = &self.otherwise {
            write!(f, " ELSE {e}")?;
        }
        write!(f, " END")
    }
}

/// A condition as a filter: NULL counts as false.
fn to_mask(v: ColumnarValue, num_rows: usize) -> Result<BooleanArray> {
    let a = v.into_array(num_rows)?;
    if a.data_type() == &DataType::Null {
        return Ok(BooleanArray::from(vec![false; a.len()]));
    }
    let b = a
        .as_boolean_opt()
        .ok_or_else(|| EngineError::Internal(format!("CASE WHEN on {}", a.data_type())))?;
    Ok(if b.null_count() > 0 {
        prep_null_mask_filter(b)
    } else {
        b.clone()
    })
}

impl PhysicalExpr for CaseExpr {
    fn data_type(&self) -> &DataType {
        &self.data_type
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let n = batch.num_rows();
        // `rows[i]` is the original row index of row i of `remaining`.
        let mut remaining = batch.clone();
        let mut rows: Vec<u32> = (0..n as u32).collect();
        // Per output row: (source array, row in it); source 0 is the NULL fallback.
        let mut sources: Vec<ArrayRef> = vec![new_null_array(&self.data_type, 1)];
        let mut picks: Vec<(usize, usize)> = vec![(0, 0); n];
        let operand = self
            .operand
            .as_ref()
            .map(|o| o.evaluate(batch))
            .transpose()?;
        let mut operand = operand.map(|o| o.into_array(n)).transpose()?;
        for (when, then) in &self.branches {
            if rows.is_empty() {
                break;
            }
            let rn = remaining.num_rows();
            let cond = when.evaluate(&remaining)?;
            let mask = match &operand {
                Some(o) => {
                    let w = cond.into_array(rn)?;
                    if w.data_type() == &DataType::Null {
                        BooleanArray::from(vec![false; rn])
                    } else {
                        let eq = cmp::eq(o, &w)?;
                        to_mask(ColumnarValue::Array(Arc::new(eq)), rn)?
                    }
                }
                None => to_mask(cond, rn)?,
            };
            let matched = mask.true_count();
            if matched == 0 {
                continue;
            }
            let all = matched == rn;
            let taken = if all {
                remaining.clone()
            } else {
                filter_record_batch(&remaining, &mask)?
            };
            let values = self.value(then, &taken)?;
            let src = sources.len();
            sources.push(values);
            let mut k = 0;
            for (i, m) in mask.values().iter().enumerate() {
                if m {
                    picks[rows[i] as usize] = (src, k);
                    k += 1;
                }
            }
            if all {
                rows.clear();
                break;
            }
            let rest = arrow::compute::not(&mask)?;
            remaining = filter_record_batch(&remaining, &rest)?;
            rows = arrow::compute::filter(&UInt32Array::from(rows), &rest)?
                .as_primitive::<arrow::datatypes::UInt32Type>()
                .values()
                .to_vec();
            if let Some(o) = &operand {
                operand = Some(arrow::compute::filter(o, &rest)?);
            }
        }
        if let (Some(e), false) = (&self.otherwise, rows.is_empty()) {
            let values = self.value(e, &remaining)?;
            let src = sources.len();
            sources.push(values);
            for (k, r) in rows.iter().enumerate() {
                picks[*r as usize] = (src, k);
            }
        }
        // One source covering every row in order needs no interleave.
        if sources.len() == 2 && sources[1].len() == n {
            return Ok(ColumnarValue::Array(sources[1].clone()));
        }
        let refs: Vec<&dyn Array> = sources.iter().map(|a| a.as_ref()).collect();
        Ok(ColumnarValue::Array(arrow::compute::interleave(
            &refs, &picks,
        )?))
    }
}
