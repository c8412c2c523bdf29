//! `CASE [operand] WHEN .. THEN .. [ELSE ..] END`.
//!
//! Each branch is evaluated only on the rows that reach it (the rows no earlier `WHEN`
//! matched), so `CASE WHEN b = 0 THEN NULL ELSE a / b END` never divides by zero even in
//! ANSI mode, as in Spark.

use std::fmt;

use crate::{EngineError, Result};
use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, new_null_array};
use arrow::compute::{filter_record_batch, prep_null_mask_filter};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use super::binary::compare;
use super::{ColumnarValue, PhysicalExpr, PhysicalExprRef};
use crate::expr::{BinaryOperator, Expr};

/// A compiled CASE expression.
#[derive(Debug)]
pub struct CaseExpr {
    operand: Option<PhysicalExprRef>,
    branches: Vec<(PhysicalExprRef, PhysicalExprRef)>,
    otherwise: Option<PhysicalExprRef>,
    data_type: DataType,
    when_safe: Vec<bool>,
    then_safe: Vec<bool>,
    else_safe: bool,
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
            when_safe: Vec::new(),
            then_safe: Vec::new(),
            else_safe: false,
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

/// True when evaluating `e` on rows that do not need it cannot fail or cost much:
/// columns, literals, struct fields, NULL tests, NOT/AND/OR and comparisons of such.
/// Those branches are evaluated on the whole batch and then filtered, instead of
/// filtering the whole batch first.
pub fn is_infallible(e: &Expr) -> bool {
    match e {
        Expr::Column(_) | Expr::Literal(_) => true,
        Expr::Alias(x, _)
        | Expr::Not(x)
        | Expr::IsNull(x)
        | Expr::IsNotNull(x)
        | Expr::GetField { expr: x, .. } => is_infallible(x),
        Expr::BinaryOp { left, op, right } => {
            (op.is_comparison() || op.is_logical()) && is_infallible(left) && is_infallible(right)
        }
        _ => false,
    }
}

/// Row positions of the set bits of `mask`.
fn set_positions(mask: &BooleanArray) -> Vec<usize> {
    mask.values().set_indices().collect()
}

impl CaseExpr {
    /// Marks which WHEN conditions, THEN values and the ELSE value are
    /// [`is_infallible`] (evaluated on the whole batch, then filtered).
    pub fn with_infallible(mut self, when: Vec<bool>, then: Vec<bool>, otherwise: bool) -> Self {
        self.when_safe = when;
        self.then_safe = then;
        self.else_safe = otherwise;
        self
    }

    /// `e` over the rows of `batch` selected by `mask` (`count` of them).
    fn eval_on(
        &self,
        e: &PhysicalExprRef,
        safe: bool,
        batch: &RecordBatch,
        mask: &BooleanArray,
        count: usize,
    ) -> Result<ArrayRef> {
        let n = batch.num_rows();
        if count == n {
            return self.value(e, batch);
        }
        if safe {
            let all = self.value(e, batch)?;
            return Ok(arrow::compute::filter(&all, mask)?);
        }
        let taken = filter_record_batch(batch, mask)?;
        self.value(e, &taken)
    }

    /// The WHEN condition `i` as a full-length mask restricted to `remaining` rows.
    fn condition(
        &self,
        i: usize,
        batch: &RecordBatch,
        operand: Option<&ArrayRef>,
        remaining: &BooleanArray,
        remaining_count: usize,
    ) -> Result<BooleanArray> {
        let n = batch.num_rows();
        let when = &self.branches[i].0;
        let safe = self.when_safe.get(i).copied().unwrap_or(false);
        // Evaluate on all rows when safe or when every row is still unmatched.
        let full = if safe || remaining_count == n {
            let v = when.evaluate(batch)?;
            match operand {
                Some(o) => {
                    let eq = compare(BinaryOperator::Eq, &ColumnarValue::Array(o.clone()), &v)?;
                    to_mask(eq, n)?
                }
                None => to_mask(v, n)?,
            }
        } else {
            let taken = filter_record_batch(batch, remaining)?;
            let rn = taken.num_rows();
            let v = when.evaluate(&taken)?;
            let m = match operand {
                Some(o) => {
                    let o = arrow::compute::filter(o, remaining)?;
                    let eq = compare(BinaryOperator::Eq, &ColumnarValue::Array(o), &v)?;
                    to_mask(eq, rn)?
                }
                None => to_mask(v, rn)?,
            };
            // Scatter back to full length.
            let mut bits = vec![false; n];
            for (k, row) in set_positions(remaining).into_iter().enumerate() {
                bits[row] = m.value(k);
            }
            BooleanArray::from(bits)
        };
        Ok(arrow::compute::and(&full, remaining)?)
    }
}

impl PhysicalExpr for CaseExpr {
    fn data_type(&self) -> &DataType {
        &self.data_type
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let n = batch.num_rows();
        // Rows no WHEN has matched yet.
        let mut remaining = BooleanArray::from(vec![true; n]);
        let mut remaining_count = n;
        // Per output row: (source array, row in it); source 0 is the NULL fallback.
        let mut sources: Vec<ArrayRef> = vec![new_null_array(&self.data_type, 1)];
        let mut picks: Vec<(usize, usize)> = vec![(0, 0); n];
        let operand = match &self.operand {
            Some(o) => Some(o.evaluate(batch)?.into_array(n)?),
            None => None,
        };
        for i in 0..self.branches.len() {
            if remaining_count == 0 {
                break;
            }
            let mask = self.condition(i, batch, operand.as_ref(), &remaining, remaining_count)?;
            let matched = mask.true_count();
            if matched == 0 {
                continue;
            }
            let safe = self.then_safe.get(i).copied().unwrap_or(false);
            let values = self.eval_on(&self.branches[i].1, safe, batch, &mask, matched)?;
            let src = sources.len();
            sources.push(values);
            for (k, row) in set_positions(&mask).into_iter().enumerate() {
                picks[row] = (src, k);
            }
            remaining = arrow::compute::and_not(&remaining, &mask)?;
            remaining_count -= matched;
        }
        if let (Some(e), true) = (&self.otherwise, remaining_count > 0) {
            let values = self.eval_on(e, self.else_safe, batch, &remaining, remaining_count)?;
            let src = sources.len();
            sources.push(values);
            for (k, row) in set_positions(&remaining).into_iter().enumerate() {
                picks[row] = (src, k);
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
