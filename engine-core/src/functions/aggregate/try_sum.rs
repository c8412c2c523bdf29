//! `try_sum(expr)` and `try_avg(expr)`: `sum` and `avg` that give NULL where ANSI mode
//! would fail on overflow (Spark's `Sum`/`Average` in `EvalMode.TRY`).
//!
//! Result types are those of Spark: `try_sum` is BIGINT for integers, DOUBLE for floating
//! point, strings and NULL, DECIMAL(p+10, s) for decimals and the input's interval type;
//! `try_avg` is DOUBLE for numbers, DECIMAL(p+4, s+4) for decimals (bounded to 38) and the
//! input's interval type. A group without a non-NULL value is NULL.
//!
//! Spark checks overflow at every addition, and an overflowed buffer stays NULL through
//! later additions and merges, so whether a sum that crosses the bound and comes back is NULL
//! depends on how the rows were split into partitions, in Spark as here.
//!
//! The partial state is the exact sum (NULL once it overflowed) and the count of values.

use crate::Result;
use arrow::datatypes::{DataType, Field};

use super::exact_sum::{TryAcc, avg_decimal_type};
use super::sum::{SumAcc, sum_type};
use super::{interval, one_arg};
use crate::functions::{
    AggregateFunction, GroupsAccumulator, unexpected_input_type, wrong_num_args,
};

/// `try_sum` (`average` false) or `try_avg`.
#[derive(Debug)]
pub(super) struct TrySum {
    average: bool,
}

impl TrySum {
    pub(super) fn sum() -> Self {
        TrySum { average: false }
    }
    pub(super) fn avg() -> Self {
        TrySum { average: true }
    }
    fn fname(&self) -> &'static str {
        if self.average { "try_avg" } else { "try_sum" }
    }
    /// Spark builds both through an expression builder that names `[1, 2]` as the counts.
    fn arg<'a>(&self, args: &'a [DataType]) -> Result<&'a DataType> {
        one_arg(self.fname(), args).map_err(|_| wrong_num_args(self.fname(), "[1, 2]", args.len()))
    }
}

/// The type the sum is kept in for the (coerced) input type `t`.
fn accumulator_type(name: &str, t: &DataType) -> Result<DataType> {
    sum_type(name, t)
}

impl AggregateFunction for TrySum {
    fn name(&self) -> &str {
        self.fname()
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let t = self.arg(args)?;
        let wanted = match t {
            // Strings and NULL take Spark's implicit cast to DOUBLE.
            t if crate::types::is_string(t) || *t == DataType::Null => DataType::Float64,
            t if interval::is_interval(t) || matches!(t, DataType::Decimal128(_, _)) => t.clone(),
            DataType::Float32 | DataType::Float64 => DataType::Float64,
            t if self.average && crate::types::is_numeric(t) => DataType::Float64,
            t if crate::types::is_numeric(t) => t.clone(),
            other => {
                return Err(unexpected_input_type(
                    self.fname(),
                    1,
                    "\"NUMERIC\" or \"ANSI INTERVAL\"",
                    other,
                ));
            }
        };
        Ok(vec![wanted])
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let t = self.arg(args)?;
        match t {
            DataType::Decimal128(p, s) if self.average => Ok(avg_decimal_type(*p, *s)),
            t if self.average && !interval::is_interval(t) => {
                accumulator_type(self.fname(), t)?;
                Ok(DataType::Float64)
            }
            t => accumulator_type(self.fname(), t),
        }
    }
    fn state_fields(&self, args: &[DataType]) -> Result<Vec<Field>> {
        let t = self.arg(args)?;
        let sum = accumulator_type(self.fname(), t)?;
        if interval::is_interval(t) {
            return Ok(interval::state_fields());
        }
        if sum == DataType::Float64 {
            return Ok(if self.average {
                super::avg::state_fields()
            } else {
                vec![Field::new("sum", DataType::Float64, true)]
            });
        }
        Ok(super::exact_sum::state_fields(sum))
    }
    fn create_accumulator(&self, args: &[DataType]) -> Result<Box<dyn GroupsAccumulator>> {
        let t = self.arg(args)?;
        let sum = accumulator_type(self.fname(), t)?;
        if interval::is_interval(t) {
            return Ok(Box::new(
                interval::IntervalAcc::new(t.clone(), self.average).null_on_overflow(),
            ));
        }
        if sum == DataType::Float64 {
            // DOUBLE never overflows: these are sum's and avg's own accumulators.
            return Ok(if self.average {
                Box::new(super::avg::AvgAcc::default())
            } else {
                Box::new(SumAcc::<f64>::new(DataType::Float64))
            });
        }
        let out = self.return_type(args)?;
        TryAcc::new(sum, out, self.average).map(|a| Box::new(a) as _)
    }
}

#[cfg(test)]
mod tests {
    use super::super::exact_sum::decimal_limit;
    use super::*;
    use arrow::array::{Array, ArrayRef, AsArray, Decimal128Array, Int64Array};
    use arrow::compute::cast;
    use arrow::datatypes::{Decimal128Type, Float64Type, Int64Type};
    use std::sync::Arc;

    /// Runs `f` over `values` (one group), split into partials at every `splits` boundary.
    fn run(f: &TrySum, values: ArrayRef, splits: &[usize]) -> ArrayRef {
        let t = f.coerce_types(&[values.data_type().clone()]).unwrap();
        let values = cast(&values, &t[0]).unwrap();
        super::super::run_in_partials(f, &t, &values, splits)
    }

    #[test]
    fn overflow_is_null_and_sticks() {
        let v: ArrayRef = Arc::new(Int64Array::from(vec![i64::MAX, 1, -5]));
        assert!(run(&TrySum::sum(), v.clone(), &[]).is_null(0));
        // Split as [MAX], [1, -5]: the partial sums never overflow, as in Spark.
        let out = run(&TrySum::sum(), v, &[1]);
        assert_eq!(out.as_primitive::<Int64Type>().value(0), i64::MAX - 4);
        let v: ArrayRef = Arc::new(Int64Array::from(vec![i64::MAX, i64::MAX]));
        let out = run(&TrySum::avg(), v, &[1]);
        assert_eq!(out.as_primitive::<Float64Type>().value(0), i64::MAX as f64);
    }

    #[test]
    fn decimal_sum_and_avg_follow_spark() {
        let v: ArrayRef = Arc::new(
            Decimal128Array::from(vec![Some(150), None, Some(225)])
                .with_precision_and_scale(3, 2)
                .unwrap(),
        );
        let s = run(&TrySum::sum(), v.clone(), &[1]);
        assert_eq!(s.data_type(), &DataType::Decimal128(13, 2));
        assert_eq!(s.as_primitive::<Decimal128Type>().value(0), 375);
        let a = run(&TrySum::avg(), v, &[2]);
        assert_eq!(a.data_type(), &DataType::Decimal128(7, 6));
        assert_eq!(a.as_primitive::<Decimal128Type>().value(0), 1_875_000);
        // A sum beyond 38 digits is NULL, not an error.
        let big = decimal_limit(38);
        let v: ArrayRef = Arc::new(
            Decimal128Array::from(vec![big, 1])
                .with_precision_and_scale(38, 0)
                .unwrap(),
        );
        assert!(run(&TrySum::sum(), v.clone(), &[]).is_null(0));
        assert!(run(&TrySum::avg(), v, &[1]).is_null(0));
    }

    #[test]
    fn decimal_avg_rounds_half_up_away_from_zero() {
        let acc = TryAcc::new(
            DataType::Decimal128(20, 0),
            DataType::Decimal128(14, 4),
            true,
        )
        .unwrap();
        // -1/8 = -0.125 -> -0.1250; -2/3 -> -0.6667; 1/3 -> 0.3333.
        assert_eq!(acc.finish(Some(-1), 8), Some(-1250));
        assert_eq!(acc.finish(Some(-2), 3), Some(-6667));
        assert_eq!(acc.finish(Some(1), 3), Some(3333));
        assert_eq!(acc.finish(Some(5), 0), None);
        assert_eq!(acc.finish(None, 3), None);
    }

    #[test]
    fn empty_and_null_groups_are_null() {
        let v: ArrayRef = Arc::new(Int64Array::from(vec![None, None]));
        assert!(run(&TrySum::sum(), v.clone(), &[1]).is_null(0));
        assert!(run(&TrySum::avg(), v, &[1]).is_null(0));
        let none: ArrayRef = Arc::new(Int64Array::from(Vec::<i64>::new()));
        assert!(run(&TrySum::sum(), none, &[]).is_null(0));
    }
}
