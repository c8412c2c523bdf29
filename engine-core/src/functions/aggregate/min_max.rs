//! `min(expr)` / `max(expr)` for any orderable type.
//!
//! Values are kept in Arrow's row format, whose bytes compare in the type's sort order, so
//! one implementation serves numbers, strings, dates, timestamps and structs alike
//! (doubles order NaN above everything, as Spark does).

use std::cmp::Ordering;

use crate::Result;
use arrow::array::{Array, ArrayRef};
use arrow::datatypes::{DataType, Field};
use arrow::row::{OwnedRow, RowConverter, SortField};

use super::rows::rows_to_array;
use super::{check_orderable, one_arg};
use crate::functions::{AggregateFunction, GroupsAccumulator};

#[derive(Debug)]
pub(super) struct MinMax {
    name: &'static str,
    keep: Ordering,
}

impl MinMax {
    pub(super) fn min() -> Self {
        MinMax {
            name: "min",
            keep: Ordering::Less,
        }
    }
    pub(super) fn max() -> Self {
        MinMax {
            name: "max",
            keep: Ordering::Greater,
        }
    }
}

impl AggregateFunction for MinMax {
    fn name(&self) -> &str {
        self.name
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let t = one_arg(self.name, args)?;
        check_orderable(self.name, t)?;
        Ok(t.clone())
    }
    fn state_fields(&self, args: &[DataType]) -> Result<Vec<Field>> {
        Ok(vec![Field::new(self.name, self.return_type(args)?, true)])
    }
    fn create_accumulator(&self, args: &[DataType]) -> Result<Box<dyn GroupsAccumulator>> {
        let dt = self.return_type(args)?;
        let keep = self.keep;
        // Fixed-width numbers, dates and timestamps: a typed vector, no row encoding.
        macro_rules! typed {
            ($t:ty) => {
                return Ok(Box::new(PrimitiveMinMax::<$t> {
                    dt,
                    keep,
                    best: vec![],
                }))
            };
        }
        match &dt {
            DataType::Int8 => typed!(arrow::datatypes::Int8Type),
            DataType::Int16 => typed!(arrow::datatypes::Int16Type),
            DataType::Int32 => typed!(arrow::datatypes::Int32Type),
            DataType::Int64 => typed!(arrow::datatypes::Int64Type),
            DataType::Float32 => typed!(arrow::datatypes::Float32Type),
            DataType::Float64 => typed!(arrow::datatypes::Float64Type),
            DataType::Date32 => typed!(arrow::datatypes::Date32Type),
            DataType::Timestamp(arrow::datatypes::TimeUnit::Microsecond, _) => {
                typed!(arrow::datatypes::TimestampMicrosecondType)
            }
            DataType::Decimal128(_, _) => typed!(arrow::datatypes::Decimal128Type),
            _ => {}
        }
        Ok(Box::new(MinMaxAcc {
            converter: RowConverter::new(vec![SortField::new(dt)])?,
            keep: self.keep,
            best: vec![],
        }))
    }
}

struct MinMaxAcc {
    converter: RowConverter,
    keep: Ordering,
    best: Vec<Option<OwnedRow>>,
}

impl GroupsAccumulator for MinMaxAcc {
    fn update_batch(&mut self, values: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.best.resize(n, None);
        let v = &values[0];
        let rows = self.converter.convert_columns(std::slice::from_ref(v))?;
        for (i, &g) in groups.iter().enumerate() {
            if v.is_null(i) {
                continue;
            }
            let row = rows.row(i);
            let replace = match &self.best[g] {
                None => true,
                Some(b) => row.cmp(&b.row()) == self.keep,
            };
            if replace {
                self.best[g] = Some(row.owned());
            }
        }
        Ok(())
    }
    fn merge_batch(&mut self, states: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.update_batch(states, groups, n)
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.evaluate()?])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        let best = std::mem::take(&mut self.best);
        rows_to_array(&self.converter, &best)
    }
    fn size(&self) -> usize {
        self.best
            .iter()
            .flatten()
            .map(|r| r.row().as_ref().len() + 32)
            .sum()
    }
}

/// min/max over a primitive type. Ordering is `total_cmp` for floats (NaN above every
/// number, as in Spark and as the row format orders them), plain order otherwise.
struct PrimitiveMinMax<T: arrow::datatypes::ArrowPrimitiveType> {
    dt: DataType,
    keep: Ordering,
    best: Vec<Option<T::Native>>,
}

impl<T: arrow::datatypes::ArrowPrimitiveType> GroupsAccumulator for PrimitiveMinMax<T>
where
    T::Native: arrow::datatypes::ArrowNativeTypeOp,
{
    fn update_batch(&mut self, values: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        use arrow::array::AsArray;
        use arrow::datatypes::ArrowNativeTypeOp;
        self.best.resize(n, None);
        let arr = values[0].as_primitive::<T>();
        let vals = arr.values();
        let keep = self.keep;
        let mut fold = |g: usize, v: T::Native| {
            let slot = &mut self.best[g];
            match slot {
                Some(b) if v.compare(*b) != keep => {}
                _ => *slot = Some(v),
            }
        };
        match arr.nulls().filter(|nb| nb.null_count() > 0) {
            None => {
                for (&v, &g) in vals.iter().zip(groups) {
                    fold(g, v);
                }
            }
            Some(nulls) => {
                for (i, (&v, &g)) in vals.iter().zip(groups).enumerate() {
                    if nulls.is_valid(i) {
                        fold(g, v);
                    }
                }
            }
        }
        Ok(())
    }
    fn merge_batch(&mut self, states: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.update_batch(states, groups, n)
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.evaluate()?])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        let values = std::mem::take(&mut self.best);
        let arr = arrow::array::PrimitiveArray::<T>::from_iter(values);
        Ok(std::sync::Arc::new(arr.with_data_type(self.dt.clone())))
    }
    fn size(&self) -> usize {
        self.best.capacity() * std::mem::size_of::<Option<T::Native>>()
    }
}
