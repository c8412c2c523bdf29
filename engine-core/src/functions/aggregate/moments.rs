//! Spark's central-moment aggregates, all DOUBLE: `stddev_samp` (`stddev`, `std`),
//! `stddev_pop`, `var_samp` (`variance`), `var_pop`, `skewness` and `kurtosis`.
//!
//! Each group keeps Spark's buffer `(n, avg, m2[, m3, m4])` (only the moments its function
//! needs), updated one value at a time and merged pairwise with the same formulas, in the
//! same order of operations, as Spark's `CentralMomentAgg`, so results agree to the last
//! bit for the same split of rows. NULLs are ignored; a group with none gives NULL.
//! A statistic that would divide by zero (a sample statistic of one row, skewness or
//! kurtosis of constant values) is NULL, Spark 4's default
//! (`spark.sql.legacy.statisticalAggregate=false`; the legacy NaN is not offered).

use std::sync::Arc;

use crate::Result;
use arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use arrow::datatypes::{DataType, Field, Float64Type};

use super::double_buffers::{DoubleFields, MAX_FIELDS, from_columns, to_columns};
use super::{checked_div, double_args};
use crate::functions::{AggregateFunction, GroupsAccumulator};

/// Which statistic of the moments a function returns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Moment {
    StddevSamp,
    StddevPop,
    VarSamp,
    VarPop,
    Skewness,
    Kurtosis,
}

impl Moment {
    /// The highest central moment the statistic needs.
    fn order(self) -> usize {
        match self {
            Moment::Skewness => 3,
            Moment::Kurtosis => 4,
            _ => 2,
        }
    }

    /// Spark's final expression over the buffer, for a group with `n > 0`.
    fn finish(self, b: &Buffer) -> Option<f64> {
        match self {
            Moment::StddevPop => checked_div(b.m2, b.n).map(f64::sqrt),
            Moment::VarPop => checked_div(b.m2, b.n),
            Moment::StddevSamp if b.n == 1.0 => None,
            Moment::StddevSamp => checked_div(b.m2, b.n - 1.0).map(f64::sqrt),
            Moment::VarSamp if b.n == 1.0 => None,
            Moment::VarSamp => checked_div(b.m2, b.n - 1.0),
            Moment::Skewness | Moment::Kurtosis if b.m2 == 0.0 => None,
            Moment::Skewness => checked_div(b.n.sqrt() * b.m3, (b.m2 * b.m2 * b.m2).sqrt()),
            Moment::Kurtosis => checked_div(b.n * b.m4, b.m2 * b.m2).map(|k| k - 3.0),
        }
    }
}

/// One central-moment aggregate under its Spark name.
#[derive(Debug)]
pub(super) struct CentralMoment {
    name: &'static str,
    moment: Moment,
}

impl CentralMoment {
    pub(super) fn new(name: &'static str, moment: Moment) -> Self {
        CentralMoment { name, moment }
    }
}

const FIELD_NAMES: [&str; 5] = ["n", "avg", "m2", "m3", "m4"];

impl AggregateFunction for CentralMoment {
    fn name(&self) -> &str {
        self.name
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        double_args(self.name, args, 1)
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        double_args(self.name, args, 1)?;
        Ok(DataType::Float64)
    }
    fn state_fields(&self, _args: &[DataType]) -> Result<Vec<Field>> {
        Ok(FIELD_NAMES[..=self.moment.order()]
            .iter()
            .map(|n| Field::new(*n, DataType::Float64, false))
            .collect())
    }
    fn create_accumulator(&self, _args: &[DataType]) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(MomentAcc {
            moment: self.moment,
            buffers: vec![],
        }))
    }
}

/// Spark's aggregation buffer; moments above the function's order stay 0.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Buffer {
    n: f64,
    avg: f64,
    m2: f64,
    m3: f64,
    m4: f64,
}

impl DoubleFields for Buffer {
    fn to_fields(&self) -> [f64; MAX_FIELDS] {
        [self.n, self.avg, self.m2, self.m3, self.m4, 0.0]
    }
    fn from_fields([n, avg, m2, m3, m4, _]: [f64; MAX_FIELDS]) -> Self {
        Buffer { n, avg, m2, m3, m4 }
    }
}

impl Buffer {
    /// Folds in one value (Spark's `updateExpressions`).
    fn update(&mut self, x: f64, order: usize) {
        let new_n = self.n + 1.0;
        let delta = x - self.avg;
        let delta_n = delta / new_n;
        let new_m2 = self.m2 + delta * (delta - delta_n);
        let delta2 = delta * delta;
        let delta_n2 = delta_n * delta_n;
        if order >= 3 {
            let new_m3 = self.m3 - 3.0 * delta_n * new_m2 + delta * (delta2 - delta_n2);
            if order >= 4 {
                self.m4 = self.m4 - 4.0 * delta_n * new_m3 - 6.0 * delta_n2 * new_m2
                    + delta * (delta * delta2 - delta_n * delta_n2);
            }
            self.m3 = new_m3;
        }
        self.n = new_n;
        self.avg += delta_n;
        self.m2 = new_m2;
    }

    /// Merges another group's buffer in (Spark's `mergeExpressions`).
    fn merge(&mut self, o: &Buffer, order: usize) {
        let (n1, n2) = (self.n, o.n);
        let new_n = n1 + n2;
        let delta = o.avg - self.avg;
        let delta_n = if new_n == 0.0 { 0.0 } else { delta / new_n };
        let new_avg = self.avg + delta_n * n2;
        let new_m2 = self.m2 + o.m2 + delta * delta_n * n1 * n2;
        if order >= 3 {
            let new_m3 = self.m3
                + o.m3
                + delta_n * delta_n * delta * n1 * n2 * (n1 - n2)
                + 3.0 * delta_n * (n1 * o.m2 - n2 * self.m2);
            if order >= 4 {
                self.m4 = self.m4
                    + o.m4
                    + delta_n * delta_n * delta_n * delta * n1 * n2 * (n1 * n1 - n1 * n2 + n2 * n2)
                    + 6.0 * delta_n * delta_n * (n1 * n1 * o.m2 + n2 * n2 * self.m2)
                    + 4.0 * delta_n * (n1 * o.m3 - n2 * self.m3);
            }
            self.m3 = new_m3;
        }
        self.n = new_n;
        self.avg = new_avg;
        self.m2 = new_m2;
    }
}

struct MomentAcc {
    moment: Moment,
    buffers: Vec<Buffer>,
}

impl GroupsAccumulator for MomentAcc {
    fn update_batch(&mut self, values: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.buffers.resize(n, Buffer::default());
        let order = self.moment.order();
        let v = values[0].as_primitive::<Float64Type>();
        for (i, &g) in groups.iter().enumerate() {
            if v.is_valid(i) {
                self.buffers[g].update(v.value(i), order);
            }
        }
        Ok(())
    }
    fn merge_batch(&mut self, states: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.buffers.resize(n, Buffer::default());
        let order = self.moment.order();
        let others = from_columns::<Buffer>(states, order + 1)?;
        for (other, &g) in others.iter().zip(groups) {
            self.buffers[g].merge(other, order);
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        let buffers = std::mem::take(&mut self.buffers);
        Ok(to_columns(&buffers, self.moment.order() + 1))
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        let moment = self.moment;
        let out: Float64Array = std::mem::take(&mut self.buffers)
            .iter()
            .map(|b| if b.n == 0.0 { None } else { moment.finish(b) })
            .collect();
        Ok(Arc::new(out))
    }
    fn size(&self) -> usize {
        self.buffers.capacity() * std::mem::size_of::<Buffer>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(moment: Moment, values: &[Option<f64>], split: Option<usize>) -> Option<f64> {
        let arr: ArrayRef = Arc::new(Float64Array::from(values.to_vec()));
        super::super::double_buffers::run_split(&CentralMoment::new("m", moment), &[arr], split)
    }

    fn close(a: Option<f64>, b: Option<f64>) -> bool {
        match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-12 * a.abs().max(1.0),
            (a, b) => a == b,
        }
    }

    /// Spark's answers for `VALUES` run as local[2]: its rows are split in two halves,
    /// whose partial buffers are merged, so the same split gives the same bits.
    #[test]
    fn known_values_like_spark() {
        let v = [Some(1.0), Some(2.0), Some(4.0)];
        assert_eq!(run(Moment::VarSamp, &v, Some(1)), Some(2.333333333333333));
        assert_eq!(run(Moment::VarPop, &v, Some(1)), Some(1.5555555555555554));
        assert_eq!(
            run(Moment::StddevSamp, &v, Some(1)),
            Some(1.5275252316519465)
        );
        let v = [Some(1.0), Some(2.0), Some(4.0), Some(10.0)];
        assert_eq!(run(Moment::Skewness, &v, Some(2)), Some(0.8483206969390205));
        assert_eq!(
            run(Moment::Kurtosis, &v, Some(2)),
            Some(-0.9292307692307693)
        );
    }

    #[test]
    fn merged_partials_agree_with_one_pass() {
        let v: Vec<Option<f64>> = [3.5, -1.0, 7.25, 0.0, 12.0, 2.0, -8.5]
            .into_iter()
            .map(Some)
            .collect();
        for m in [
            Moment::StddevSamp,
            Moment::StddevPop,
            Moment::VarSamp,
            Moment::VarPop,
            Moment::Skewness,
            Moment::Kurtosis,
        ] {
            let one = run(m, &v, None);
            for k in [0, 1, 3, 7] {
                let two = run(m, &v, Some(k));
                assert!(close(one, two), "{m:?} split at {k}: {one:?} vs {two:?}");
            }
        }
    }

    #[test]
    fn divide_by_zero_and_empty_are_null() {
        assert_eq!(run(Moment::StddevSamp, &[Some(1.0)], None), None);
        assert_eq!(run(Moment::VarSamp, &[Some(1.0)], Some(1)), None);
        assert_eq!(run(Moment::StddevPop, &[Some(1.0)], None), Some(0.0));
        assert_eq!(run(Moment::Skewness, &[Some(1.0), Some(1.0)], None), None);
        assert_eq!(run(Moment::Kurtosis, &[Some(1.0), Some(1.0)], None), None);
        assert_eq!(run(Moment::VarPop, &[None, None], None), None);
        assert_eq!(run(Moment::VarPop, &[], None), None);
    }
}
