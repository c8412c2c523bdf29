//! `avg(expr)` / `mean`: DOUBLE, DECIMAL(p+4, s+4) for DECIMAL(p, s) (as Spark, through
//! `try_avg`'s exact accumulator, failing on overflow), the interval type for intervals;
//! NULL for a group with no non-NULL value.

use std::sync::Arc;

use crate::Result;
use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type};

use super::one_arg;
use crate::functions::{AggregateFunction, GroupsAccumulator, unexpected_input_type};

#[derive(Debug)]
pub(super) struct Avg;

impl AggregateFunction for Avg {
    fn name(&self) -> &str {
        "avg"
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let t = one_arg("avg", args)?;
        if super::interval::is_interval(t) || matches!(t, DataType::Decimal128(_, _)) {
            return Ok(vec![t.clone()]);
        }
        if crate::types::is_numeric(t) || crate::types::is_string(t) || *t == DataType::Null {
            Ok(vec![DataType::Float64])
        } else {
            Err(unexpected_input_type(
                "avg",
                1,
                "\"NUMERIC\" or \"ANSI INTERVAL\"",
                t,
            ))
        }
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let t = one_arg("avg", args)?;
        if super::interval::is_interval(t) {
            return Ok(t.clone());
        }
        if let DataType::Decimal128(p, s) = t {
            return Ok(super::exact_sum::avg_decimal_type(*p, *s));
        }
        Ok(DataType::Float64)
    }
    fn state_fields(&self, args: &[DataType]) -> Result<Vec<Field>> {
        if args.first().is_some_and(super::interval::is_interval) {
            return Ok(super::interval::state_fields());
        }
        if let Some(t @ DataType::Decimal128(_, _)) = args.first() {
            return Ok(super::exact_sum::state_fields(super::sum::sum_type(
                "avg", t,
            )?));
        }
        Ok(state_fields())
    }
    fn create_accumulator(&self, args: &[DataType]) -> Result<Box<dyn GroupsAccumulator>> {
        if let Some(t) = args.first().filter(|t| super::interval::is_interval(t)) {
            return Ok(Box::new(super::interval::IntervalAcc::new(t.clone(), true)));
        }
        if let Some(DataType::Decimal128(p, s)) = args.first() {
            return Ok(Box::new(super::exact_sum::TryAcc::ansi_decimal_avg(
                *p, *s,
            )?));
        }
        Ok(Box::new(AvgAcc::default()))
    }
}

/// The partial state of a DOUBLE average: the sum and the count of values.
pub(super) fn state_fields() -> Vec<Field> {
    vec![
        Field::new("sum", DataType::Float64, true),
        Field::new("count", DataType::Int64, false),
    ]
}

/// A DOUBLE average's sums and counts per group (shared with `try_avg`, which never
/// overflows on DOUBLE either).
#[derive(Default)]
pub(super) struct AvgAcc {
    sums: Vec<f64>,
    counts: Vec<i64>,
}

impl AvgAcc {
    fn grow(&mut self, n: usize) {
        self.sums.resize(n, 0.0);
        self.counts.resize(n, 0);
    }
}

impl GroupsAccumulator for AvgAcc {
    fn update_batch(&mut self, values: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.grow(n);
        let v = cast(&values[0], &DataType::Float64)?;
        let v = v.as_primitive::<Float64Type>();
        let vals = v.values();
        match v.nulls().filter(|n| n.null_count() > 0) {
            None => {
                for (&x, &g) in vals.iter().zip(groups) {
                    self.sums[g] += x;
                    self.counts[g] += 1;
                }
            }
            Some(nulls) => {
                for (i, (&x, &g)) in vals.iter().zip(groups).enumerate() {
                    if nulls.is_valid(i) {
                        self.sums[g] += x;
                        self.counts[g] += 1;
                    }
                }
            }
        }
        Ok(())
    }
    fn merge_batch(&mut self, states: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.grow(n);
        let s = states[0].as_primitive::<Float64Type>();
        let c = states[1].as_primitive::<Int64Type>();
        for (i, &g) in groups.iter().enumerate() {
            if s.is_valid(i) {
                self.sums[g] += s.value(i);
            }
            self.counts[g] += c.value(i);
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        let sums: Float64Array = std::mem::take(&mut self.sums)
            .into_iter()
            .map(Some)
            .collect();
        let counts = Int64Array::from(std::mem::take(&mut self.counts));
        Ok(vec![Arc::new(sums), Arc::new(counts)])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        let out: Float64Array = self
            .sums
            .iter()
            .zip(&self.counts)
            .map(|(s, &c)| (c > 0).then(|| s / c as f64))
            .collect();
        self.sums.clear();
        self.counts.clear();
        Ok(Arc::new(out))
    }
    fn size(&self) -> usize {
        self.sums.capacity() * 16
    }
}
