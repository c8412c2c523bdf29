//! `sum(expr)`: BIGINT for integers, DOUBLE for floating point, DECIMAL(p+10, s) for
//! decimals; NULL for a group with no non-NULL value. Integer overflow fails, as with
//! Spark's default ANSI mode.

use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::array::{Array, ArrayRef, AsArray, Decimal128Array, Float64Array, Int64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Decimal128Type, Field, Float64Type, Int64Type};

use super::one_arg;
use crate::functions::{AggregateFunction, GroupsAccumulator, unexpected_input_type};

#[derive(Debug)]
pub(super) struct Sum;

/// The type `sum` accumulates and returns for input type `t`.
pub(super) fn sum_type(name: &str, t: &DataType) -> Result<DataType> {
    Ok(match t {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 | DataType::Null => {
            DataType::Int64
        }
        DataType::Float32 | DataType::Float64 => DataType::Float64,
        DataType::Decimal128(p, s) => DataType::Decimal128((*p + 10).min(38), *s),
        t if super::interval::is_interval(t) => t.clone(),
        other => {
            return Err(unexpected_input_type(
                name,
                1,
                "\"NUMERIC\" or \"ANSI INTERVAL\"",
                other,
            ));
        }
    })
}

impl AggregateFunction for Sum {
    fn name(&self) -> &str {
        "sum"
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let t = one_arg("sum", args)?;
        // Strings are summed as doubles, as Spark's implicit cast does.
        if crate::types::is_string(t) {
            return Ok(vec![DataType::Float64]);
        }
        Ok(vec![t.clone()])
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        sum_type("sum", one_arg("sum", args)?)
    }
    fn state_fields(&self, args: &[DataType]) -> Result<Vec<Field>> {
        if args.first().is_some_and(super::interval::is_interval) {
            return Ok(super::interval::state_fields());
        }
        Ok(vec![Field::new("sum", self.return_type(args)?, true)])
    }
    fn create_accumulator(&self, args: &[DataType]) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(match self.return_type(args)? {
            DataType::Int64 => Box::new(SumAcc::<i64>::new(DataType::Int64)),
            DataType::Float64 => Box::new(SumAcc::<f64>::new(DataType::Float64)),
            dt @ DataType::Decimal128(_, _) => Box::new(SumAcc::<i128>::new(dt)),
            dt if super::interval::is_interval(&dt) => {
                Box::new(super::interval::IntervalAcc::new(dt, false))
            }
            other => return Err(EngineError::Internal(format!("sum of {other}"))),
        })
    }
}

/// Checked or plain addition for the three accumulator kinds.
pub(super) trait SumValue:
    arrow::datatypes::ArrowNativeType + Default + Send + Sync + 'static
{
    /// The Arrow type the values come in.
    type Arrow: arrow::datatypes::ArrowPrimitiveType<Native = Self>;
    fn add(self, other: Self) -> Result<Self>;
    fn to_array(v: Vec<Option<Self>>, dt: &DataType) -> Result<ArrayRef>;
    /// The sum of a whole array with Arrow's vectorized kernel (`None` if all NULL).
    fn sum_all(a: &arrow::array::PrimitiveArray<Self::Arrow>) -> Result<Option<Self>>;
}

fn overflow() -> EngineError {
    EngineError::execution(
        "ARITHMETIC_OVERFLOW",
        "long overflow. Use 'try_sum' to tolerate overflow and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22003",
    )
}

impl SumValue for i64 {
    type Arrow = Int64Type;
    fn add(self, o: Self) -> Result<Self> {
        self.checked_add(o).ok_or_else(overflow)
    }
    fn sum_all(a: &arrow::array::PrimitiveArray<Int64Type>) -> Result<Option<Self>> {
        arrow::compute::sum_checked(a).map_err(|_| overflow())
    }
    fn to_array(v: Vec<Option<Self>>, _dt: &DataType) -> Result<ArrayRef> {
        Ok(Arc::new(Int64Array::from(v)))
    }
}

impl SumValue for f64 {
    type Arrow = Float64Type;
    fn add(self, o: Self) -> Result<Self> {
        Ok(self + o)
    }
    fn sum_all(a: &arrow::array::PrimitiveArray<Float64Type>) -> Result<Option<Self>> {
        Ok(arrow::compute::sum(a))
    }
    fn to_array(v: Vec<Option<Self>>, _dt: &DataType) -> Result<ArrayRef> {
        Ok(Arc::new(Float64Array::from(v)))
    }
}

impl SumValue for i128 {
    type Arrow = Decimal128Type;
    fn add(self, o: Self) -> Result<Self> {
        self.checked_add(o).ok_or_else(overflow)
    }
    fn sum_all(a: &arrow::array::PrimitiveArray<Decimal128Type>) -> Result<Option<Self>> {
        arrow::compute::sum_checked(a).map_err(|_| overflow())
    }
    fn to_array(v: Vec<Option<Self>>, dt: &DataType) -> Result<ArrayRef> {
        let arr = Decimal128Array::from(v);
        Ok(match dt {
            DataType::Decimal128(p, s) => Arc::new(arr.with_precision_and_scale(*p, *s)?),
            _ => Arc::new(arr),
        })
    }
}

pub(super) struct SumAcc<T: SumValue> {
    dt: DataType,
    sums: Vec<Option<T>>,
}

impl<T: SumValue> SumAcc<T> {
    pub(super) fn new(dt: DataType) -> Self {
        SumAcc { dt, sums: vec![] }
    }

    fn fold(&mut self, values: &ArrayRef, groups: &[usize], n: usize) -> Result<()> {
        self.sums.resize(n, None);
        let values = if values.data_type() == &self.dt {
            values.clone()
        } else {
            cast(values, &self.dt)?
        };
        let arr = values.as_primitive::<T::Arrow>();
        if n == 1 && !groups.is_empty() {
            // One group (a global aggregate): the vectorized kernel sums the whole batch.
            if let Some(v) = T::sum_all(arr)? {
                let slot = &mut self.sums[0];
                *slot = Some(match slot {
                    Some(s) => s.add(v)?,
                    None => v,
                });
            }
            return Ok(());
        }
        let vals: &[T] = arr.values();
        // Tight loop over the value buffer; the NULL check only when there are NULLs.
        let mut add = |g: usize, v: T| -> Result<()> {
            let slot = &mut self.sums[g];
            *slot = Some(match slot {
                Some(s) => s.add(v)?,
                None => v,
            });
            Ok(())
        };
        match arr.nulls().filter(|n| n.null_count() > 0) {
            None => {
                for (&v, &g) in vals.iter().zip(groups) {
                    add(g, v)?;
                }
            }
            Some(nulls) => {
                for (i, (&v, &g)) in vals.iter().zip(groups).enumerate() {
                    if nulls.is_valid(i) {
                        add(g, v)?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl<T: SumValue> GroupsAccumulator for SumAcc<T> {
    fn update_batch(&mut self, values: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.fold(&values[0], groups, n)
    }
    fn merge_batch(&mut self, states: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.fold(&states[0], groups, n)
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.evaluate()?])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        T::to_array(std::mem::take(&mut self.sums), &self.dt)
    }
    fn size(&self) -> usize {
        self.sums.capacity() * std::mem::size_of::<Option<T>>()
    }
}
