//! `aggregate(array, start, (acc, x) -> merge[, acc -> finish])` and its alias `reduce`.
//!
//! Spark folds each array left to right. Here every row folds at once: step `p` merges the
//! `p`-th element of every array that long into that row's accumulator, one call of the
//! merge lambda per step over all such rows. `start` and `finish` run only for non-NULL
//! arrays, as in Spark.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, UInt32Array};
use arrow::datatypes::DataType;

use super::{Elements, array_arg};
use crate::Result;
use crate::expr::CastMode;
use crate::expr::Expr;
use crate::expr::columnar::ColumnarValue;
use crate::expr::lambda::{
    ArgumentMismatch, HigherOrderArgs, HigherOrderFunction, Lambda, LambdaVariable,
};
use crate::functions::cast::cast_array;
use crate::functions::json::from_json::nullable_type;
use crate::types::sql_type_name;

/// `aggregate` and `reduce`.
pub(super) fn functions() -> Vec<(&'static str, Arc<dyn HigherOrderFunction>)> {
    vec![
        ("aggregate", Arc::new(Aggregate { name: "aggregate" })),
        ("reduce", Arc::new(Aggregate { name: "reduce" })),
    ]
}

/// One of the two names of Spark's `ArrayAggregate`.
#[derive(Debug)]
struct Aggregate {
    name: &'static str,
}

/// The accumulator's type: `start`'s, NULL allowed everywhere (Spark's `asNullable`).
fn accumulator_type(args: &[Option<DataType>]) -> Option<DataType> {
    args.get(1).cloned().flatten().map(|t| nullable_type(&t))
}

/// Same types up to field names and nullability (Spark's `equalsStructurally` ignoring
/// nullability), which is all `merge` must keep of `start`'s type.
fn equal_structurally(a: &DataType, b: &DataType) -> bool {
    match (a, b) {
        (DataType::List(x), DataType::List(y)) => equal_structurally(x.data_type(), y.data_type()),
        (DataType::Map(x, _), DataType::Map(y, _)) => {
            equal_structurally(x.data_type(), y.data_type())
        }
        (DataType::Struct(x), DataType::Struct(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|(f, g)| equal_structurally(f.data_type(), g.data_type()))
        }
        _ => a == b,
    }
}

/// Folds every live row's elements into its accumulator (`start`, one per entry of `live`,
/// whose arrays have `lengths`), returning the final accumulators in `live`'s order.
///
/// Rows run longest array first, so the rows still folding at step `p` are a prefix of that
/// order and each step costs only as much as the rows it merges: a batch with one long
/// array and many short ones stays linear in its elements. Rows whose array has ended leave
/// the prefix with their final accumulator.
fn fold(
    args: &dyn HigherOrderArgs,
    elements: &Elements,
    live: &[u32],
    lengths: &[usize],
    start: ArrayRef,
    retype: &dyn Fn(ArrayRef) -> Result<ArrayRef>,
) -> Result<ArrayRef> {
    let mut order: Vec<usize> = (0..live.len()).collect();
    order.sort_by_key(|&k| std::cmp::Reverse(lengths[k]));
    let to_u32 =
        |v: Vec<usize>| UInt32Array::from(v.into_iter().map(|k| k as u32).collect::<Vec<_>>());
    let rows: Vec<u32> = order.iter().map(|&k| live[k]).collect();
    // Arrays of equal length (the usual case) need no reordering.
    let identity = order.iter().enumerate().all(|(j, &k)| j == k);
    let mut acc = if identity {
        start
    } else {
        arrow::compute::take(start.as_ref(), &to_u32(order.clone()), None)?
    };
    // Final accumulators of rows that left the prefix, latest first when reversed.
    let mut done: Vec<ArrayRef> = Vec::new();
    let longest = order.first().map_or(0, |&k| lengths[k]);
    let mut active = order.len();
    for p in 0..longest {
        while active > 0 && lengths[order[active - 1]] <= p {
            active -= 1;
        }
        if active < acc.len() {
            done.push(acc.slice(active, acc.len() - active));
            acc = acc.slice(0, active);
        }
        let at: Vec<usize> = order[..active]
            .iter()
            .map(|&k| elements.range(live[k] as usize).start + p)
            .collect();
        let x = arrow::compute::take(elements.values.as_ref(), &to_u32(at), None)?;
        let step_rows = UInt32Array::from(rows[..active].to_vec());
        acc = retype(args.call(2, Some(&step_rows), &[acc, x])?)?;
    }
    done.push(acc);
    let pieces: Vec<&dyn Array> = done.iter().rev().map(|a| a.as_ref()).collect();
    let sorted = arrow::compute::concat(&pieces)?;
    if identity {
        return Ok(sorted);
    }
    // Back from longest-first to `live`'s order.
    let mut back = vec![0usize; order.len()];
    for (j, &k) in order.iter().enumerate() {
        back[k] = j;
    }
    Ok(arrow::compute::take(sorted.as_ref(), &to_u32(back), None)?)
}

impl HigherOrderFunction for Aggregate {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> (usize, usize, usize) {
        (2, 1, 2)
    }

    fn default_functions(&self, num_args: usize) -> Option<Vec<Expr>> {
        // Spark's `LambdaFunction.identity`: `id -> id`.
        (num_args == 3).then(|| {
            let id = LambdaVariable::unbound("id");
            vec![Expr::Lambda(Lambda::new(
                vec![id.clone()],
                Expr::LambdaVariable(id),
            ))]
        })
    }

    fn check_arguments(&self, args: &[Option<DataType>]) -> Result<(), ArgumentMismatch> {
        array_arg(args, 0).map(|_| ())
    }

    fn lambda_parameters(
        &self,
        position: usize,
        _: Option<usize>,
        args: &[Option<DataType>],
    ) -> Vec<(DataType, bool)> {
        let (Ok(element), Some(acc)) = (array_arg(args, 0), accumulator_type(args)) else {
            return vec![];
        };
        if position == 2 {
            vec![(acc, true), element]
        } else {
            vec![(acc, true)]
        }
    }

    fn check_functions(&self, args: &[DataType]) -> Result<(), ArgumentMismatch> {
        if equal_structurally(&args[1], &args[2]) {
            return Ok(());
        }
        Err(ArgumentMismatch::InputType {
            position: 3,
            required: sql_type_name(&args[1]),
        })
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(args[3].clone())
    }

    fn invoke(&self, args: &dyn HigherOrderArgs) -> Result<ColumnarValue> {
        let n = args.num_rows();
        let array = args.value(0)?.into_array(n)?;
        let elements = Elements::of_list(&array)?;
        // The rows that fold: those with a non-NULL array.
        let live: Vec<u32> = (0..n)
            .filter(|&i| !elements.is_null(i))
            .map(|i| i as u32)
            .collect();
        if live.is_empty() {
            return Ok(ColumnarValue::Array(arrow::array::new_null_array(
                args.output_type(),
                n,
            )));
        }
        let live_rows = UInt32Array::from(live.clone());
        let start = if live.len() == n {
            args.value(1)?.into_array(n)?
        } else {
            args.value_at(1, &live_rows)?
        };
        let acc_type = nullable_type(start.data_type());
        let ctx = args.context();
        // Merge results may differ from `start` in field names and nullability only; the
        // accumulator keeps one type so steps can be spliced together.
        let retype = |a: ArrayRef| -> Result<ArrayRef> {
            if a.data_type() == &acc_type {
                Ok(a)
            } else {
                cast_array(&a, &acc_type, CastMode::Ansi, ctx)
            }
        };
        let lengths: Vec<usize> = live
            .iter()
            .map(|&i| elements.range(i as usize).len())
            .collect();
        let acc = fold(args, &elements, &live, &lengths, retype(start)?, &retype)?;
        let finished = args.call(3, Some(&live_rows), &[acc])?;
        if live.len() == n {
            return Ok(ColumnarValue::Array(finished));
        }
        let mut at = vec![None; n];
        for (k, &i) in live.iter().enumerate() {
            at[i as usize] = Some(k as u32);
        }
        Ok(ColumnarValue::Array(arrow::compute::take(
            finished.as_ref(),
            &UInt32Array::from(at),
            None,
        )?))
    }
}
