//! Exact BIGINT and DECIMAL sums and counts per group, kept as i128: `try_sum`/`try_avg`
//! (an overflow is NULL and stays NULL) and `avg` over decimals (an overflow is Spark's
//! error under ANSI mode).

use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::array::{Array, ArrayRef, AsArray, Decimal128Array, Int64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Decimal128Type, Field, Int64Type};

use super::valid_rows;
use crate::functions::GroupsAccumulator;

/// Spark's `DecimalType.bounded(p + 4, s + 4)`: `avg`'s result type for DECIMAL(p, s).
pub(super) fn avg_decimal_type(p: u8, s: i8) -> DataType {
    DataType::Decimal128(p.saturating_add(4).min(38), s.saturating_add(4).min(38))
}

/// The partial state of an exact sum kept as `sum`: the sum (NULL once it overflowed) and
/// the count of values.
pub(super) fn state_fields(sum: DataType) -> Vec<Field> {
    vec![
        Field::new("sum", sum, true),
        Field::new("count", DataType::Int64, false),
    ]
}

/// The exact sums (i128 for BIGINT and DECIMAL alike) and counts of every group.
pub(super) struct TryAcc {
    /// The type sums are kept and exchanged in (BIGINT or DECIMAL(p+10, s)).
    sum_type: DataType,
    /// The result type.
    out: DataType,
    average: bool,
    /// The largest magnitude `sum_type` holds.
    limit: i128,
    /// `None` once the group's sum overflowed (its count is then above 0).
    sums: Vec<Option<i128>>,
    counts: Vec<i64>,
    /// An overflow is an error (ANSI `avg`), not NULL.
    fail: bool,
}

/// `10^p - 1`, the largest unscaled value of DECIMAL(p, _).
pub(super) fn decimal_limit(p: u8) -> i128 {
    10i128
        .checked_pow(u32::from(p))
        .map_or(i128::MAX, |v| v - 1)
}

impl TryAcc {
    pub(super) fn new(sum_type: DataType, out: DataType, average: bool) -> Result<Self> {
        let limit = match sum_type {
            DataType::Int64 => i128::from(i64::MAX),
            DataType::Decimal128(p, _) => decimal_limit(p),
            ref other => return Err(EngineError::Internal(format!("try_sum over {other}"))),
        };
        Ok(TryAcc {
            sum_type,
            out,
            average,
            limit,
            sums: vec![],
            counts: vec![],
            fail: false,
        })
    }

    /// `avg` of DECIMAL(p, s) under ANSI mode: the sum kept as DECIMAL(p+10, s), the result
    /// DECIMAL(p+4, s+4) rounded half up, an overflow Spark's error.
    pub(super) fn ansi_decimal_avg(p: u8, s: i8) -> Result<Self> {
        let mut acc = TryAcc::new(
            super::sum::sum_type("avg", &DataType::Decimal128(p, s))?,
            avg_decimal_type(p, s),
            true,
        )?;
        acc.fail = true;
        Ok(acc)
    }

    fn grow(&mut self, n: usize) {
        self.sums.resize(n, Some(0));
        self.counts.resize(n, 0);
    }

    /// Adds `v` (`None`: an overflowed partial sum) and `count` values to group `g`.
    fn add(&mut self, g: usize, v: Option<i128>, count: i64) {
        let (Some(slot), Some(c)) = (self.sums.get_mut(g), self.counts.get_mut(g)) else {
            return;
        };
        *slot = match (*slot, v) {
            (Some(s), Some(v)) => s.checked_add(v).filter(|t| t.abs() <= self.limit),
            _ => None,
        };
        *c = c.saturating_add(count);
    }

    /// The values of a BIGINT or DECIMAL column as i128, NULL as `None`.
    fn column(&self, a: &ArrayRef) -> Result<Vec<Option<i128>>> {
        let a = if a.data_type() == &self.sum_type {
            a.clone()
        } else {
            cast(a, &self.sum_type)?
        };
        Ok(match a.data_type() {
            DataType::Int64 => a
                .as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.map(i128::from))
                .collect(),
            _ => a.as_primitive::<Decimal128Type>().iter().collect(),
        })
    }

    /// The final value of one group: `None` for no values or an overflow.
    pub(super) fn finish(&self, sum: Option<i128>, count: i64) -> Option<i128> {
        let sum = sum.filter(|_| count > 0)?;
        if !self.average {
            return Some(sum);
        }
        let (DataType::Decimal128(_, s), DataType::Decimal128(p, so)) = (&self.sum_type, &self.out)
        else {
            return None;
        };
        let shift = 10i128.checked_pow(u32::try_from(so - s).ok()?)?;
        let c = i128::from(count);
        // sum * 10^shift / count, half up, without forming the (possibly too wide) product.
        let (q, r) = (sum / c, sum % c);
        let tail = r.checked_mul(shift)?;
        let (tq, tr) = (tail / c, tail % c);
        let rounded = tq + if 2 * tr.abs() >= c { tr.signum() } else { 0 };
        let v = q.checked_mul(shift)?.checked_add(rounded)?;
        (v.abs() <= decimal_limit(*p)).then_some(v)
    }

    fn to_array(&self, values: Vec<Option<i128>>, dt: &DataType) -> Result<ArrayRef> {
        Ok(match dt {
            DataType::Decimal128(p, s) => {
                Arc::new(Decimal128Array::from(values).with_precision_and_scale(*p, *s)?)
            }
            _ => Arc::new(Int64Array::from(
                values
                    .into_iter()
                    .map(|v| v.and_then(|v| i64::try_from(v).ok()))
                    .collect::<Vec<_>>(),
            )),
        })
    }
}

impl GroupsAccumulator for TryAcc {
    fn update_batch(&mut self, values: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.grow(n);
        let valid = valid_rows(&values[0]);
        let column = self.column(&values[0])?;
        for (i, (v, &g)) in column.into_iter().zip(groups).enumerate() {
            if valid(i) {
                self.add(g, v, 1);
            }
        }
        Ok(())
    }
    fn merge_batch(&mut self, states: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.grow(n);
        let sums = self.column(&states[0])?;
        let counts = states[1].as_primitive::<Int64Type>();
        for (i, (v, &g)) in sums.into_iter().zip(groups).enumerate() {
            let c = counts.value(i);
            if c > 0 {
                self.add(g, v, c);
            }
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        let sums = std::mem::take(&mut self.sums);
        let counts = Int64Array::from(std::mem::take(&mut self.counts));
        Ok(vec![self.to_array(sums, &self.sum_type)?, Arc::new(counts)])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        let sums = std::mem::take(&mut self.sums);
        let counts = std::mem::take(&mut self.counts);
        let out: Vec<Option<i128>> = sums
            .into_iter()
            .zip(counts)
            .map(|(s, c)| {
                let v = self.finish(s, c);
                if self.fail && c > 0 && v.is_none() {
                    return Err(EngineError::execution(
                        "ARITHMETIC_OVERFLOW",
                        "Overflow in sum of decimals. Use 'try_avg' to tolerate overflow and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22003",
                    ));
                }
                Ok(v)
            })
            .collect::<Result<_>>()?;
        self.to_array(out, &self.out)
    }
    fn size(&self) -> usize {
        self.sums.capacity() * std::mem::size_of::<Option<i128>>() + self.counts.capacity() * 8
    }
}
