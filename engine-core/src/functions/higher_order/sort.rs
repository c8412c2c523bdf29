//! `array_sort(array[, (left, right) -> int])`.
//!
//! With a comparator, every row's array is merge-sorted at once: each merge step compares
//! the heads of every pair of runs in the batch with one call of the comparator. Merging is
//! stable, as Java's sort behind Spark's is, so a consistent comparator gives Spark's order.
//! Without one, Spark supplies a natural-order comparator (NULLs last); the call carries it
//! (it is part of Spark's column name) but sorts with Arrow's comparator instead.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, ListArray, UInt32Array, make_comparator};
use arrow::compute::SortOptions;
use arrow::datatypes::{DataType, Int32Type};

use super::{Elements, array_arg};
use crate::expr::columnar::ColumnarValue;
use crate::expr::lambda::{
    ArgumentMismatch, HigherOrderArgs, HigherOrderFunction, Lambda, LambdaVariable,
};
use crate::expr::{Expr, call, lit};
use crate::scalar::ScalarValue;
use crate::{EngineError, Result};

/// `array_sort`.
pub(super) fn functions() -> Vec<(&'static str, Arc<dyn HigherOrderFunction>)> {
    vec![("array_sort", Arc::new(ArraySort { natural: false }))]
}

/// Spark's `ArraySort`.
#[derive(Debug)]
struct ArraySort {
    /// Written without a comparator: sorts ascending, NULLs last, without calling it.
    natural: bool,
}

/// Spark's `ArraySort.defaultComparator`, unresolved.
fn default_comparator() -> Expr {
    let (l, r) = (
        LambdaVariable::unbound("left"),
        LambdaVariable::unbound("right"),
    );
    let (le, re) = (
        || Expr::LambdaVariable(LambdaVariable::unbound("left")),
        || Expr::LambdaVariable(LambdaVariable::unbound("right")),
    );
    let if_ = |c: Expr, a: Expr, b: Expr| call("if", vec![c, a, b]);
    let body = if_(
        le().is_null().and(re().is_null()),
        lit(0),
        if_(
            le().is_null(),
            lit(1),
            if_(
                re().is_null(),
                lit(-1),
                if_(le().lt(re()), lit(-1), if_(le().gt(re()), lit(1), lit(0))),
            ),
        ),
    );
    Expr::Lambda(Lambda::new(vec![l, r], body))
}

/// Spark's `COMPARATOR_RETURNS_NULL`. Spark shows the comparison's first value twice.
fn comparator_returned_null(value: &ScalarValue) -> EngineError {
    EngineError::execution(
        "COMPARATOR_RETURNS_NULL",
        format!(
            "The comparator has returned a NULL for a comparison between {value} and {value}. It should return a positive integer for \"greater than\", 0 for \"equal\" and a negative integer for \"less than\". To revert to deprecated behavior where NULL is treated as 0 (equal), you must set \"spark.sql.legacy.allowNullComparisonResultInArraySort\" to \"true\". SQLSTATE: 22004"
        ),
    )
}

/// Two adjacent sorted runs of one row being merged.
#[derive(Debug)]
struct Merge {
    /// The input row (for what the comparator reads besides the elements).
    row: u32,
    /// Next and end position of the left run in the current order.
    left: (usize, usize),
    /// Next and end position of the right run.
    right: (usize, usize),
    /// Where the next merged element goes.
    out: usize,
}

impl ArraySort {
    /// The order of `elements.values` after sorting each row with the comparator at
    /// argument 1: bottom-up merge sort, all rows and runs of one width at a time.
    fn comparator_order(
        &self,
        args: &dyn HigherOrderArgs,
        elements: &Elements,
    ) -> Result<Vec<u32>> {
        let values = &elements.values;
        let mut order: Vec<u32> = (0..values.len() as u32).collect();
        let rows = elements.num_rows();
        let longest = (0..rows)
            .map(|i| elements.range(i).len())
            .max()
            .unwrap_or(0);
        let mut width = 1;
        while width < longest {
            let mut next = order.clone();
            let mut merges = Vec::new();
            for i in 0..rows {
                let r = elements.range(i);
                let mut start = r.start;
                while start < r.end {
                    let mid = (start + width).min(r.end);
                    let end = (start + 2 * width).min(r.end);
                    if mid < end {
                        merges.push(Merge {
                            row: i as u32,
                            left: (start, mid),
                            right: (mid, end),
                            out: start,
                        });
                    }
                    start = end;
                }
            }
            loop {
                let open: Vec<usize> = (0..merges.len())
                    .filter(|&m| {
                        let g = &merges[m];
                        g.left.0 < g.left.1 && g.right.0 < g.right.1
                    })
                    .collect();
                if open.is_empty() {
                    break;
                }
                let pick = |side: fn(&Merge) -> usize| {
                    UInt32Array::from(
                        open.iter()
                            .map(|&m| order[side(&merges[m])])
                            .collect::<Vec<_>>(),
                    )
                };
                let rights = pick(|g| g.right.0);
                let lefts = pick(|g| g.left.0);
                let a = arrow::compute::take(values.as_ref(), &rights, None)?;
                let b = arrow::compute::take(values.as_ref(), &lefts, None)?;
                let row_ids =
                    UInt32Array::from(open.iter().map(|&m| merges[m].row).collect::<Vec<_>>());
                // Java's sort first compares the second element with the first; asking
                // `cmp(right, left) < 0` keeps that order of arguments and stays stable.
                let c = args.call(1, Some(&row_ids), &[a, b])?;
                let c = c.as_primitive_opt::<Int32Type>().ok_or_else(|| {
                    EngineError::Internal(format!("a comparator returned {}", c.data_type()))
                })?;
                for (k, &m) in open.iter().enumerate() {
                    if c.is_null(k) {
                        let shown =
                            ScalarValue::try_from_array(values.as_ref(), rights.value(k) as usize)?;
                        return Err(comparator_returned_null(&shown));
                    }
                    let g = &mut merges[m];
                    if c.value(k) < 0 {
                        next[g.out] = order[g.right.0];
                        g.right.0 += 1;
                    } else {
                        next[g.out] = order[g.left.0];
                        g.left.0 += 1;
                    }
                    g.out += 1;
                }
            }
            // One side of each merge is used up; the other's rest follows in order.
            for g in &merges {
                let rest = (g.left.0..g.left.1).chain(g.right.0..g.right.1);
                for (out, p) in (g.out..).zip(rest) {
                    next[out] = order[p];
                }
            }
            order = next;
            width *= 2;
        }
        Ok(order)
    }

    /// The order of `elements.values` after sorting each row ascending, NULLs last.
    fn natural_order(elements: &Elements) -> Result<Vec<u32>> {
        let values = &elements.values;
        let opts = SortOptions {
            descending: false,
            nulls_first: false,
        };
        let cmp = make_comparator(values.as_ref(), values.as_ref(), opts)?;
        let mut order = Vec::with_capacity(values.len());
        for i in 0..elements.num_rows() {
            let mut idx: Vec<u32> = elements.range(i).map(|j| j as u32).collect();
            idx.sort_by(|x, y| cmp(*x as usize, *y as usize));
            order.extend(idx);
        }
        Ok(order)
    }
}

impl HigherOrderFunction for ArraySort {
    fn name(&self) -> &str {
        "array_sort"
    }

    fn signature(&self) -> (usize, usize, usize) {
        (1, 0, 1)
    }

    fn default_functions(&self, num_args: usize) -> Option<Vec<Expr>> {
        (num_args == 1).then(|| vec![default_comparator()])
    }

    fn specialize(&self, num_args: usize) -> Option<Arc<dyn HigherOrderFunction>> {
        (num_args == 1)
            .then(|| Arc::new(ArraySort { natural: true }) as Arc<dyn HigherOrderFunction>)
    }

    fn check_arguments(&self, args: &[Option<DataType>]) -> Result<(), ArgumentMismatch> {
        array_arg(args, 0).map(|_| ())
    }

    fn lambda_parameters(
        &self,
        _: usize,
        _: Option<usize>,
        args: &[Option<DataType>],
    ) -> Vec<(DataType, bool)> {
        match array_arg(args, 0) {
            Ok(element) => vec![element.clone(), element],
            Err(_) => vec![],
        }
    }

    fn check_functions(&self, args: &[DataType]) -> Result<(), ArgumentMismatch> {
        if args[1] == DataType::Int32 {
            return Ok(());
        }
        Err(ArgumentMismatch::ReturnType {
            position: 2,
            expected: DataType::Int32,
        })
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(args[0].clone())
    }

    fn invoke(&self, args: &dyn HigherOrderArgs) -> Result<ColumnarValue> {
        let n = args.num_rows();
        let array = args.value(0)?.into_array(n)?;
        let elements = Elements::of_list(&array)?;
        let DataType::List(field) = array.data_type() else {
            return Err(EngineError::Internal("array_sort of a non-array".into()));
        };
        // Spark leaves arrays of untyped NULLs as they are.
        let order = if elements.values.data_type() == &DataType::Null {
            (0..elements.values.len() as u32).collect()
        } else if self.natural {
            Self::natural_order(&elements)?
        } else {
            self.comparator_order(args, &elements)?
        };
        let values =
            arrow::compute::take(elements.values.as_ref(), &UInt32Array::from(order), None)?;
        let out = ListArray::try_new(
            field.clone(),
            elements.offsets.clone(),
            values,
            elements.nulls.clone(),
        )?;
        Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef))
    }
}
