//! `sum` and `avg` over ANSI intervals: an interval of the input's kind. Spark sums exactly
//! (failing on overflow) and divides the sum by the count rounding half up
//! (`DivideDTInterval` / `DivideYMInterval`).

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, DurationMicrosecondArray, Int64Array, IntervalYearMonthArray,
};
use arrow::datatypes::{
    DataType, DurationMicrosecondType, Field, Int64Type, IntervalUnit, IntervalYearMonthType,
    TimeUnit,
};

use crate::functions::GroupsAccumulator;
use crate::interval::literal::interval_overflow;
use crate::{EngineError, Result};

/// True for the two interval types `sum` and `avg` take.
pub(super) fn is_interval(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Duration(TimeUnit::Microsecond) | DataType::Interval(IntervalUnit::YearMonth)
    )
}

/// The partial state: the exact sum and the count of values, both BIGINT.
pub(super) fn state_fields() -> Vec<Field> {
    vec![
        Field::new("sum", DataType::Int64, true),
        Field::new("count", DataType::Int64, false),
    ]
}

/// The accumulator of `sum` (`average` false) or `avg` over intervals of type `out`.
pub(super) struct IntervalAcc {
    out: DataType,
    average: bool,
    /// `try_sum`/`try_avg`: an overflow makes the group NULL instead of failing; a NULL sum
    /// with a count above 0 marks it, in the state too.
    null_on_overflow: bool,
    sums: Vec<Option<i64>>,
    counts: Vec<i64>,
}

impl IntervalAcc {
    pub(super) fn new(out: DataType, average: bool) -> Self {
        IntervalAcc {
            out,
            average,
            null_on_overflow: false,
            sums: vec![],
            counts: vec![],
        }
    }

    /// The same accumulator, giving NULL where the sum overflows (`try_sum`, `try_avg`).
    pub(super) fn null_on_overflow(mut self) -> Self {
        self.null_on_overflow = true;
        self
    }

    /// Whether `sum` fits the type Spark keeps the sum in.
    fn fits(&self, sum: i64) -> bool {
        match self.out {
            DataType::Interval(IntervalUnit::YearMonth) => i32::try_from(sum).is_ok(),
            _ => true,
        }
    }

    /// Adds `v` (`None`: a partial sum that overflowed) and `count` values to group `g`.
    fn add(&mut self, g: usize, v: Option<i64>, count: i64) -> Result<()> {
        let overflowed = self.counts[g] > 0 && self.sums[g].is_none();
        let next = match (self.sums[g], v) {
            _ if overflowed => None,
            (_, None) => None,
            // Spark keeps a year-month sum in an INT, a day-time one in a BIGINT.
            (Some(s), Some(v)) => match s.checked_add(v).filter(|t| self.fits(*t)) {
                Some(t) => Some(t),
                None if self.null_on_overflow => None,
                None => return Err(interval_overflow()),
            },
            (None, v) => v,
        };
        self.sums[g] = next;
        self.counts[g] = self.counts[g].saturating_add(count);
        Ok(())
    }
}

/// The values of an interval array as i64 (months widen), NULL as `None`.
fn values(a: &ArrayRef) -> Result<Vec<Option<i64>>> {
    Ok(match a.data_type() {
        DataType::Duration(TimeUnit::Microsecond) => {
            a.as_primitive::<DurationMicrosecondType>().iter().collect()
        }
        DataType::Interval(IntervalUnit::YearMonth) => a
            .as_primitive::<IntervalYearMonthType>()
            .iter()
            .map(|v| v.map(i64::from))
            .collect(),
        DataType::Int64 => a.as_primitive::<Int64Type>().iter().collect(),
        DataType::Null => vec![None; a.len()],
        other => {
            return Err(EngineError::Internal(format!(
                "interval aggregate over {other}"
            )));
        }
    })
}

impl GroupsAccumulator for IntervalAcc {
    fn update_batch(&mut self, values_in: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.sums.resize(n, None);
        self.counts.resize(n, 0);
        for (v, &g) in values(&values_in[0])?.into_iter().zip(groups) {
            if v.is_some() {
                self.add(g, v, 1)?;
            }
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.sums.resize(n, None);
        self.counts.resize(n, 0);
        let sums = values(&states[0])?;
        let counts = states[1].as_primitive::<Int64Type>();
        for (i, &g) in groups.iter().enumerate() {
            let (Some(v), count) = (sums.get(i), counts.value(i)) else {
                continue;
            };
            // A NULL sum with values behind it is an overflow `try_` functions kept.
            if v.is_some() || (self.null_on_overflow && count > 0) {
                self.add(g, *v, count)?;
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        let sums = Int64Array::from(std::mem::take(&mut self.sums));
        let counts = Int64Array::from(std::mem::take(&mut self.counts));
        Ok(vec![Arc::new(sums), Arc::new(counts)])
    }

    fn evaluate(&mut self) -> Result<ArrayRef> {
        let sums = std::mem::take(&mut self.sums);
        let counts = std::mem::take(&mut self.counts);
        let results = sums
            .into_iter()
            .zip(counts)
            .map(|(s, c)| match s {
                Some(s) if self.average => crate::functions::interval::div_half_up(s, c).map(Some),
                s => Ok(s),
            })
            .map(|r| match r {
                Err(_) if self.null_on_overflow => Ok(None),
                r => r,
            })
            .collect::<Result<Vec<Option<i64>>>>()?;
        Ok(match self.out {
            DataType::Interval(IntervalUnit::YearMonth) => {
                let months = results
                    .into_iter()
                    .map(|v| match v.map(i32::try_from) {
                        Some(Err(_)) if self.null_on_overflow => Ok(None),
                        Some(Err(_)) => Err(interval_overflow()),
                        Some(Ok(m)) => Ok(Some(m)),
                        None => Ok(None),
                    })
                    .collect::<Result<IntervalYearMonthArray>>()?;
                Arc::new(months)
            }
            _ => Arc::new(DurationMicrosecondArray::from(results)),
        })
    }

    fn size(&self) -> usize {
        self.sums.capacity() * 16 + self.counts.capacity() * 8
    }
}
