//! `approx_count_distinct(col [, relativeSD])`: Spark's HyperLogLog++ estimate of the number
//! of distinct non-NULL values, BIGINT, 0 for a group without values.
//!
//! As Spark's `HyperLogLogPlusPlusHelper`: `p = ceil(2 log2(1.106 / relativeSD))` index
//! bits (default relativeSD 0.05, so p = 9), each value hashed with Spark's XxHash64 (seed
//! 42, floats normalised first), the register of the top `p` bits keeping the largest
//! leading-zero count of the rest; the estimate uses linear counting below Spark's
//! threshold and the HLL++ bias correction ([`super::hll_tables`], k = 6 nearest raw
//! estimates found with Java's binary search) below `5 m`, rounded as `Math.round`.
//!
//! The partial state is the registers, one byte each, as a BINARY value per group; merging
//! takes the larger register, so any split of the rows gives the same answer.

use std::sync::Arc;

use crate::functions::array_build::normalize_floats;
use crate::functions::hash::{check_hashable, xxhash64_value};
use crate::{EngineError, Result};
use arrow::array::{Array, ArrayRef, AsArray, BinaryArray, Int64Array};
use arrow::datatypes::{DataType, Field, Float64Type};

use super::hll_tables::{BIAS_DATA, RAW_ESTIMATE_DATA, THRESHOLDS};
use super::valid_rows;
use crate::functions::{AggregateFunction, GroupsAccumulator, wrong_num_args};

/// Spark's default relative standard deviation.
const DEFAULT_RSD: f64 = 0.05;
/// Neighbours averaged for the bias (Spark's `K`).
const K: usize = 6;
/// The largest precision kept here: Spark's own buffers fail above it.
const MAX_P: u32 = 18;

/// `approx_count_distinct`, bound to its precision once planned.
#[derive(Debug, Clone, Default)]
pub(super) struct ApproxCountDistinct {
    /// Index bits, once bound.
    p: Option<u32>,
}

fn value_type(args: &[DataType]) -> Result<&DataType> {
    match args {
        [t] | [t, _] => {
            check_hashable("approx_count_distinct", t)?;
            Ok(t)
        }
        _ => Err(wrong_num_args(
            "approx_count_distinct",
            "[1, 2]",
            args.len(),
        )),
    }
}

/// Spark's precision for a relative standard deviation.
fn precision(rsd: f64) -> Result<u32> {
    let p = (2.0 * (1.106 / rsd).ln() / 2f64.ln()).ceil();
    if !(4.0..=f64::from(MAX_P)).contains(&p) {
        return Err(EngineError::analysis(
            "FAILED_FUNCTION_CALL",
            "Failed preparing of the function `approx_count_distinct` for call. Please, double check function's arguments. SQLSTATE: 38000",
        ));
    }
    Ok(p as u32)
}

impl AggregateFunction for ApproxCountDistinct {
    fn name(&self) -> &str {
        "approx_count_distinct"
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let t = value_type(args)?.clone();
        Ok(match args {
            [_, _] => vec![t, DataType::Float64],
            _ => vec![t],
        })
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        value_type(args)?;
        Ok(DataType::Int64)
    }
    fn nullable(&self) -> bool {
        false
    }
    fn state_fields(&self, _args: &[DataType]) -> Result<Vec<Field>> {
        Ok(vec![Field::new("registers", DataType::Binary, false)])
    }
    fn create_accumulator(&self, _args: &[DataType]) -> Result<Box<dyn GroupsAccumulator>> {
        let p = self.p.ok_or_else(|| {
            EngineError::Internal("approx_count_distinct used before it was bound".into())
        })?;
        Ok(Box::new(HllAcc { p, groups: vec![] }))
    }
    fn bind_constants(
        &self,
        args: &[Option<ArrayRef>],
    ) -> Result<Option<Arc<dyn AggregateFunction>>> {
        let rsd = match args.get(1) {
            None => DEFAULT_RSD,
            Some(Some(a)) if a.data_type() == &DataType::Float64 && a.is_valid(0) => {
                a.as_primitive::<Float64Type>().value(0)
            }
            Some(_) => {
                return Err(EngineError::analysis(
                    "_LEGACY_ERROR_TEMP_1100",
                    "The second argument should be a double literal.",
                ));
            }
        };
        Ok(Some(Arc::new(ApproxCountDistinct {
            p: Some(precision(rsd)?),
        })))
    }
}

struct HllAcc {
    p: u32,
    /// Each group's registers (`2^p` bytes), empty until its first value.
    groups: Vec<Vec<u8>>,
}

impl HllAcc {
    fn registers(&mut self, g: usize) -> Option<&mut Vec<u8>> {
        let m = 1usize << self.p;
        let r = self.groups.get_mut(g)?;
        if r.is_empty() {
            r.resize(m, 0);
        }
        Some(r)
    }

    /// Spark's `query`: the estimate from one group's registers.
    fn estimate(&self, registers: &[u8]) -> i64 {
        let p = self.p;
        let m = 1usize << p;
        let mf = m as f64;
        let (mut z_inverse, mut zeros) = (0.0f64, 0.0f64);
        for i in 0..m {
            let r = registers.get(i).copied().unwrap_or(0);
            z_inverse += 1.0 / (1u64 << r.min(63)) as f64;
            if r == 0 {
                zeros += 1.0;
            }
        }
        let alpha_m2 = match p {
            4 => 0.673 * mf * mf,
            5 => 0.697 * mf * mf,
            6 => 0.709 * mf * mf,
            _ => 0.7213 / (1.0 + 1.079 / mf) * mf * mf,
        };
        let e = alpha_m2 / z_inverse;
        let corrected = || {
            if p < 19 && e < 5.0 * mf {
                e - estimate_bias(p, e)
            } else {
                e
            }
        };
        let threshold = THRESHOLDS
            .get(p as usize - 4)
            .copied()
            .unwrap_or(f64::NEG_INFINITY);
        let estimate = if zeros > 0.0 {
            let h = mf * (mf / zeros).ln();
            if (p < 19 && h <= threshold) || e <= 2.5 * mf {
                h
            } else {
                corrected()
            }
        } else {
            corrected()
        };
        // Java's Math.round.
        (estimate + 0.5).floor() as i64
    }
}

/// Java's `Arrays.binarySearch(double[], key)`, probe for probe: the tables are not
/// strictly ascending, so another search could land elsewhere.
fn java_binary_search(a: &[f64], key: f64) -> usize {
    let (mut low, mut high) = (0i64, a.len() as i64 - 1);
    while low <= high {
        let mid = ((low + high) as u64 >> 1) as i64;
        let v = a[mid as usize];
        if v < key {
            low = mid + 1;
        } else if v > key {
            high = mid - 1;
        } else {
            let (vb, kb) = (java_bits(v), java_bits(key));
            if vb == kb {
                return mid as usize;
            } else if vb < kb {
                low = mid + 1;
            } else {
                high = mid - 1;
            }
        }
    }
    low as usize
}

/// `Double.doubleToLongBits`: every NaN as the canonical one.
fn java_bits(v: f64) -> i64 {
    if v.is_nan() {
        0x7ff8_0000_0000_0000
    } else {
        v.to_bits() as i64
    }
}

/// Spark's `estimateBias`: the mean bias of the `K` raw estimates nearest `e`.
fn estimate_bias(p: u32, e: f64) -> f64 {
    let (Some(estimates), Some(biases)) = (
        RAW_ESTIMATE_DATA.get(p as usize - 4),
        BIAS_DATA.get(p as usize - 4),
    ) else {
        return 0.0;
    };
    let n = estimates.len();
    let nearest = java_binary_search(estimates, e);
    let distance = |i: usize| {
        let d = e - estimates[i];
        d * d
    };
    let mut low = (nearest + 1).saturating_sub(K);
    let mut high = (low + K).min(n);
    while high < n && distance(high) < distance(low) {
        low += 1;
        high += 1;
    }
    let sum: f64 = biases[low..high].iter().sum();
    sum / (high - low) as f64
}

impl GroupsAccumulator for HllAcc {
    fn update_batch(&mut self, values: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.groups.resize_with(n, Vec::new);
        let values = normalize_floats(&values[0]);
        let valid = valid_rows(&values);
        let p = self.p;
        let padding = 1u64 << (p - 1);
        for (i, &g) in groups.iter().enumerate() {
            if !valid(i) {
                continue;
            }
            let x = xxhash64_value(values.as_ref(), i)? as u64;
            let idx = (x >> (64 - p)) as usize;
            let pw = (((x << p) | padding).leading_zeros() + 1) as u8;
            if let Some(r) = self.registers(g).and_then(|r| r.get_mut(idx)) {
                *r = (*r).max(pw);
            }
        }
        Ok(())
    }
    fn merge_batch(&mut self, states: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.groups.resize_with(n, Vec::new);
        let states = states[0].as_binary::<i32>();
        for (i, &g) in groups.iter().enumerate() {
            let other = states.value(i);
            if other.is_empty() {
                continue;
            }
            if let Some(r) = self.registers(g) {
                for (a, &b) in r.iter_mut().zip(other) {
                    *a = (*a).max(b);
                }
            }
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        let groups = std::mem::take(&mut self.groups);
        let out = BinaryArray::from_iter_values(groups.iter());
        Ok(vec![Arc::new(out)])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        let groups = std::mem::take(&mut self.groups);
        let out: Int64Array = groups.iter().map(|r| Some(self.estimate(r))).collect();
        Ok(Arc::new(out))
    }
    fn size(&self) -> usize {
        self.groups.iter().map(Vec::capacity).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int32Array};
    use arrow::datatypes::Int64Type;
    use proptest::prelude::*;

    fn bound(rsd: Option<f64>) -> Arc<dyn AggregateFunction> {
        let mut args: Vec<Option<ArrayRef>> = vec![None];
        if let Some(r) = rsd {
            args.push(Some(Arc::new(Float64Array::from(vec![r]))));
        }
        ApproxCountDistinct::default()
            .bind_constants(&args)
            .unwrap()
            .unwrap()
    }

    fn run(f: &dyn AggregateFunction, values: ArrayRef, splits: &[usize]) -> i64 {
        let out = super::super::run_in_partials(f, &[DataType::Int32], &values, splits);
        out.as_primitive::<Int64Type>().value(0)
    }

    #[test]
    fn matches_spark() {
        // Spark 4.3 over explode(sequence(1, 100000)): 94954 (p = 9), and x % 1000: 1026.
        let all: ArrayRef = Arc::new(Int32Array::from_iter_values(1..=100_000));
        assert_eq!(run(bound(None).as_ref(), all, &[30_000]), 94954);
        let mods: ArrayRef = Arc::new(Int32Array::from_iter_values(
            (1..=100_000).map(|x| x % 1000),
        ));
        assert_eq!(run(bound(None).as_ref(), mods, &[]), 1026);
        let empty: ArrayRef = Arc::new(Int32Array::from(vec![None, None]));
        assert_eq!(run(bound(None).as_ref(), empty, &[1]), 0);
    }

    #[test]
    fn precision_is_checked_when_bound() {
        let f = ApproxCountDistinct::default();
        let big: ArrayRef = Arc::new(Float64Array::from(vec![0.5]));
        assert!(f.bind_constants(&[None, Some(big)]).is_err());
        assert!(f.bind_constants(&[None, None]).is_err());
        assert!(f.create_accumulator(&[DataType::Int32]).is_err());
    }

    proptest! {
        #[test]
        fn any_split_gives_the_same_estimate(
            v in proptest::collection::vec(proptest::option::of(0i32..5000), 0..400),
            splits in proptest::collection::vec(0usize..400, 0..4),
        ) {
            let f = bound(Some(0.1));
            let column: ArrayRef = Arc::new(Int32Array::from(v));
            prop_assert_eq!(run(f.as_ref(), column.clone(), &[]), run(f.as_ref(), column, &splits));
        }
    }
}
