//! `transform`, `filter`, `exists`, `forall` and `zip_with`: one lambda over array elements.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, BooleanBuilder, ListArray, UInt32Array};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::DataType;

use super::{Elements, array_arg, as_booleans, boolean_function, kept, list_field};
use crate::expr::columnar::ColumnarValue;
use crate::expr::lambda::{ArgumentMismatch, HigherOrderArgs, HigherOrderFunction};
use crate::{EngineError, Result};

/// The array functions with their names.
pub(super) fn functions() -> Vec<(&'static str, Arc<dyn HigherOrderFunction>)> {
    vec![
        ("transform", Arc::new(ElementWise { filter: false })),
        ("filter", Arc::new(ElementWise { filter: true })),
        ("exists", Arc::new(Quantifier { exists: true })),
        ("forall", Arc::new(Quantifier { exists: false })),
        ("zip_with", Arc::new(ZipWith)),
    ]
}

/// The parameters of an element lambda: the element, and its index when asked for.
fn element_parameters(
    args: &[Option<DataType>],
    declared: Option<usize>,
    with_index: bool,
) -> Vec<(DataType, bool)> {
    let Ok(element) = array_arg(args, 0) else {
        return vec![];
    };
    if with_index && declared == Some(2) {
        vec![element, (DataType::Int32, false)]
    } else {
        vec![element]
    }
}

/// The lambda's parameter values for `elements`: the elements, and their indices when the
/// lambda declares two parameters.
fn element_values(args: &dyn HigherOrderArgs, elements: &Elements) -> Vec<ArrayRef> {
    let mut params = vec![elements.values.clone()];
    if args.lambda_arity(1) == 2 {
        params.push(Arc::new(elements.positions()));
    }
    params
}

/// `transform(array, x -> ..)` / `filter(array, x -> bool)`, each also with `(x, i)`.
#[derive(Debug)]
struct ElementWise {
    filter: bool,
}

impl HigherOrderFunction for ElementWise {
    fn name(&self) -> &str {
        if self.filter { "filter" } else { "transform" }
    }

    fn signature(&self) -> (usize, usize, usize) {
        (1, 1, 1)
    }

    fn check_arguments(&self, args: &[Option<DataType>]) -> Result<(), ArgumentMismatch> {
        array_arg(args, 0).map(|_| ())
    }

    fn lambda_parameters(
        &self,
        _: usize,
        declared: Option<usize>,
        args: &[Option<DataType>],
    ) -> Vec<(DataType, bool)> {
        element_parameters(args, declared, true)
    }

    fn check_functions(&self, args: &[DataType]) -> Result<(), ArgumentMismatch> {
        if self.filter {
            boolean_function(args, 1)
        } else {
            Ok(())
        }
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        if self.filter {
            return Ok(args[0].clone());
        }
        Ok(crate::types::list_of(args[1].clone()))
    }

    fn invoke(&self, args: &dyn HigherOrderArgs) -> Result<ColumnarValue> {
        let n = args.num_rows();
        let array = args.value(0)?.into_array(n)?;
        let elements = Elements::of_list(&array)?;
        let results = args.call(1, Some(&elements.rows), &element_values(args, &elements))?;
        let out: ArrayRef = if self.filter {
            let keep = as_booleans(&results)?;
            keep_elements(&array, &elements, &keep)?
        } else {
            Arc::new(ListArray::try_new(
                list_field(results.data_type()),
                elements.offsets.clone(),
                results,
                elements.nulls.clone(),
            )?)
        };
        Ok(ColumnarValue::Array(out))
    }
}

/// The elements whose predicate is TRUE (NULL drops the element, as in Spark), each row
/// keeping its own; `array` gives the result's type.
fn keep_elements(array: &ArrayRef, elements: &Elements, keep: &BooleanArray) -> Result<ArrayRef> {
    let DataType::List(field) = array.data_type() else {
        return Err(EngineError::Internal("filter of a non-array".into()));
    };
    let (mask, offsets) = kept(elements, keep);
    let values = arrow::compute::filter(elements.values.as_ref(), &mask)?;
    Ok(Arc::new(ListArray::try_new(
        field.clone(),
        offsets,
        values,
        elements.nulls.clone(),
    )?))
}

/// `exists(array, x -> bool)` (any) and `forall(array, x -> bool)` (all), with Spark's
/// three-valued answers: NULL when no element decides and some predicate is NULL.
#[derive(Debug)]
struct Quantifier {
    exists: bool,
}

/// How far a row of `exists`/`forall` has got.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Verdict {
    /// No element has decided yet, and no predicate was NULL.
    Open,
    /// No element has decided yet, but some predicate was NULL.
    OpenWithNull,
    /// An element decided the row (TRUE for `exists`, FALSE for `forall`).
    Decided,
}

impl Quantifier {
    /// Folds one predicate result into a row's verdict.
    fn step(&self, v: Verdict, result: Option<bool>) -> Verdict {
        match (v, result) {
            (Verdict::Decided, _) => Verdict::Decided,
            (_, Some(b)) if b == self.exists => Verdict::Decided,
            (_, None) => Verdict::OpenWithNull,
            (v, Some(_)) => v,
        }
    }

    /// The row's answer.
    fn answer(&self, v: Verdict) -> Option<bool> {
        match v {
            Verdict::Decided => Some(self.exists),
            Verdict::OpenWithNull => None,
            Verdict::Open => Some(!self.exists),
        }
    }

    /// Every row's verdict from every element's predicate.
    fn verdicts(&self, elements: &Elements, results: &BooleanArray) -> Vec<Verdict> {
        (0..elements.num_rows())
            .map(|i| {
                elements.range(i).fold(Verdict::Open, |v, j| {
                    self.step(v, results.is_valid(j).then(|| results.value(j)))
                })
            })
            .collect()
    }

    /// Spark stops at the first element that decides a row, so a predicate that fails on
    /// a later element is no error there. After the all-at-once evaluation failed, this
    /// evaluates position by position, each step only for rows still open, and fails only
    /// when such a row's predicate does.
    fn stepwise(&self, args: &dyn HigherOrderArgs, elements: &Elements) -> Result<Vec<Verdict>> {
        let n = elements.num_rows();
        let mut verdicts = vec![Verdict::Open; n];
        // Longest array first: the rows long enough for step `p` are a prefix, so a step
        // costs only as much as the rows it looks at.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(elements.range(i).len()));
        let longest = order.first().map_or(0, |&i| elements.range(i).len());
        let mut long_enough = n;
        for p in 0..longest {
            while long_enough > 0 && elements.range(order[long_enough - 1]).len() <= p {
                long_enough -= 1;
            }
            let mut open: Vec<usize> = order[..long_enough]
                .iter()
                .copied()
                .filter(|&i| verdicts[i] != Verdict::Decided)
                .collect();
            // In row order, so an error names the first failing row's value, as in Spark.
            open.sort_unstable();
            if open.is_empty() {
                break;
            }
            let rows = UInt32Array::from(open.iter().map(|&i| i as u32).collect::<Vec<_>>());
            let at = UInt32Array::from(
                open.iter()
                    .map(|&i| (elements.range(i).start + p) as u32)
                    .collect::<Vec<_>>(),
            );
            let values = arrow::compute::take(elements.values.as_ref(), &at, None)?;
            let results = as_booleans(&args.call(1, Some(&rows), &[values])?)?;
            for (k, &i) in open.iter().enumerate() {
                let r = results.is_valid(k).then(|| results.value(k));
                verdicts[i] = self.step(verdicts[i], r);
            }
        }
        Ok(verdicts)
    }
}

impl HigherOrderFunction for Quantifier {
    fn name(&self) -> &str {
        if self.exists { "exists" } else { "forall" }
    }

    fn signature(&self) -> (usize, usize, usize) {
        (1, 1, 1)
    }

    fn check_arguments(&self, args: &[Option<DataType>]) -> Result<(), ArgumentMismatch> {
        array_arg(args, 0).map(|_| ())
    }

    fn lambda_parameters(
        &self,
        _: usize,
        declared: Option<usize>,
        args: &[Option<DataType>],
    ) -> Vec<(DataType, bool)> {
        element_parameters(args, declared, false)
    }

    fn check_functions(&self, args: &[DataType]) -> Result<(), ArgumentMismatch> {
        boolean_function(args, 1)
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke(&self, args: &dyn HigherOrderArgs) -> Result<ColumnarValue> {
        let n = args.num_rows();
        let array = args.value(0)?.into_array(n)?;
        let elements = Elements::of_list(&array)?;
        let verdicts = match args.call(
            1,
            Some(&elements.rows),
            std::slice::from_ref(&elements.values),
        ) {
            Ok(results) => self.verdicts(&elements, &as_booleans(&results)?),
            Err(_) => self.stepwise(args, &elements)?,
        };
        let mut b = BooleanBuilder::with_capacity(n);
        for (i, v) in verdicts.into_iter().enumerate() {
            if elements.is_null(i) {
                b.append_null();
            } else {
                b.append_option(self.answer(v));
            }
        }
        Ok(ColumnarValue::Array(Arc::new(b.finish())))
    }
}

/// `zip_with(left, right, (x, y) -> ..)`: pairs elements by position, the shorter array
/// padded with NULLs; NULL when either array is.
#[derive(Debug)]
struct ZipWith;

impl HigherOrderFunction for ZipWith {
    fn name(&self) -> &str {
        "zip_with"
    }

    fn signature(&self) -> (usize, usize, usize) {
        (2, 1, 1)
    }

    fn check_arguments(&self, args: &[Option<DataType>]) -> Result<(), ArgumentMismatch> {
        array_arg(args, 0)?;
        array_arg(args, 1).map(|_| ())
    }

    fn lambda_parameters(
        &self,
        _: usize,
        _: Option<usize>,
        args: &[Option<DataType>],
    ) -> Vec<(DataType, bool)> {
        // Either side may be padding, so both are nullable whatever the arrays hold.
        [0, 1]
            .iter()
            .filter_map(|&p| array_arg(args, p).ok())
            .map(|(t, _)| (t, true))
            .collect()
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(crate::types::list_of(args[2].clone()))
    }

    fn invoke(&self, args: &dyn HigherOrderArgs) -> Result<ColumnarValue> {
        let n = args.num_rows();
        let left = args.value(0)?.into_array(n)?;
        let left = Elements::of_list(&left)?;
        // Spark evaluates the right array only where the left one is not NULL.
        let valid: Vec<u32> = (0..n)
            .filter(|&i| !left.is_null(i))
            .map(|i| i as u32)
            .collect();
        let right = if valid.len() == n {
            args.value(1)?.into_array(n)?
        } else {
            let some = args.value_at(1, &UInt32Array::from(valid.clone()))?;
            // Back to one row per input row; rows under a NULL left array are NULL.
            let mut at = vec![None; n];
            for (k, &i) in valid.iter().enumerate() {
                at[i as usize] = Some(k as u32);
            }
            arrow::compute::take(some.as_ref(), &UInt32Array::from(at), None)?
        };
        let right = Elements::of_list(&right)?;
        let (mut rows, mut li, mut ri, mut lengths) = (vec![], vec![], vec![], vec![]);
        let mut nulls = Vec::with_capacity(n);
        for i in 0..n {
            let valid = !left.is_null(i) && !right.is_null(i);
            nulls.push(valid);
            if !valid {
                lengths.push(0);
                continue;
            }
            let (l, r) = (left.range(i), right.range(i));
            let len = l.len().max(r.len());
            lengths.push(len);
            for p in 0..len {
                rows.push(i as u32);
                li.push((p < l.len()).then(|| (l.start + p) as u32));
                ri.push((p < r.len()).then(|| (r.start + p) as u32));
            }
        }
        let x = arrow::compute::take(left.values.as_ref(), &UInt32Array::from(li), None)?;
        let y = arrow::compute::take(right.values.as_ref(), &UInt32Array::from(ri), None)?;
        let results = args.call(2, Some(&UInt32Array::from(rows)), &[x, y])?;
        let out = ListArray::try_new(
            list_field(results.data_type()),
            OffsetBuffer::from_lengths(lengths),
            results,
            Some(NullBuffer::from(nulls)).filter(|b| b.null_count() > 0),
        )?;
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}
