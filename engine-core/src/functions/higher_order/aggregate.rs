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
        // The rows that fold (non-NULL arrays); `k` below counts them.
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
        let mut acc = retype(start)?;
        let lengths: Vec<usize> = live
            .iter()
            .map(|&i| elements.range(i as usize).len())
            .collect();
        let longest = lengths.iter().copied().max().unwrap_or(0);
        for p in 0..longest {
            let active: Vec<usize> = (0..live.len()).filter(|&k| lengths[k] > p).collect();
            let at = UInt32Array::from(
                active
                    .iter()
                    .map(|&k| (elements.range(live[k] as usize).start + p) as u32)
                    .collect::<Vec<_>>(),
            );
            let x = arrow::compute::take(elements.values.as_ref(), &at, None)?;
            if active.len() == live.len() {
                acc = retype(args.call(2, Some(&live_rows), &[acc, x])?)?;
                continue;
            }
            let picked = UInt32Array::from(active.iter().map(|&k| k as u32).collect::<Vec<_>>());
            let rows = UInt32Array::from(active.iter().map(|&k| live[k]).collect::<Vec<_>>());
            let current = arrow::compute::take(acc.as_ref(), &picked, None)?;
            let merged = retype(args.call(2, Some(&rows), &[current, x])?)?;
            // Rows whose array has ended keep their accumulator.
            let mut from = vec![(0usize, 0usize); live.len()];
            for (k, f) in from.iter_mut().enumerate() {
                *f = (0, k);
            }
            for (m, &k) in active.iter().enumerate() {
                from[k] = (1, m);
            }
            acc = arrow::compute::interleave(&[acc.as_ref(), merged.as_ref()], &from)?;
        }
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
