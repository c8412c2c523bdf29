//! `percentile_approx(col, p [, accuracy])` and its alias `approx_percentile`: Spark's
//! approximate percentile, the smallest value such that no more than `p` of the values are
//! below it, within a relative rank error of `1 / accuracy` (default 10000).
//!
//! Values of numeric, DATE, TIMESTAMP and interval columns are summarised as DOUBLE by a
//! [`QuantileSummary`] (Spark's Greenwald-Khanna `QuantileSummaries`, reimplemented step
//! for step), and the answer is converted back to the input's type as Spark does (integers
//! truncated, a TINYINT through INT). `p` may be an array, giving an array. A group without
//! values is NULL, as is an empty percentage array. The percentage and accuracy must be
//! constant; the physical planner binds them.
//!
//! The partial state is the compressed summary: its count and its (value, g, delta)
//! samples. Answers equal Spark's for the same rows in the same partials merged in the same
//! order; how rows split into partitions can change an approximate answer, in Spark too.

use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, ListArray, StructArray};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::cast;
use arrow::datatypes::{
    DataType, Date32Type, DurationMicrosecondType, Field, Fields, Float64Type, Int64Type,
    IntervalUnit, IntervalYearMonthType, TimeUnit, TimestampMicrosecondType,
};

use super::percentile::{mismatch, read_percentages};
use super::quantile_summary::{QuantileSummary, Sample};
use super::{interval, valid_rows};
use crate::functions::{
    AggregateFunction, GroupsAccumulator, unexpected_input_type, wrong_num_args,
};

/// Spark's `ApproximatePercentile.DEFAULT_PERCENTILE_ACCURACY`.
pub(super) const DEFAULT_ACCURACY: i32 = 10_000;

/// `percentile_approx` under one of its names, bound to its parameters once planned.
#[derive(Debug, Clone)]
pub(super) struct ApproxPercentile {
    name: &'static str,
    /// The percentages and the relative error, once bound.
    bound: Option<(Vec<f64>, f64)>,
}

impl ApproxPercentile {
    pub(super) fn new(name: &'static str) -> Self {
        ApproxPercentile { name, bound: None }
    }

    fn check_count(&self, args: &[DataType]) -> Result<()> {
        if (2..=3).contains(&args.len()) {
            Ok(())
        } else {
            Err(wrong_num_args(self.name, "[2, 3]", args.len()))
        }
    }
}

/// Whether Spark takes values of `t` (after implicit casts).
fn is_value_type(t: &DataType) -> bool {
    crate::types::is_numeric(t)
        || interval::is_interval(t)
        || matches!(
            t,
            DataType::Date32 | DataType::Timestamp(TimeUnit::Microsecond, _)
        )
}

fn state_fields() -> Vec<Field> {
    let sample = Fields::from(vec![
        Field::new("value", DataType::Float64, false),
        Field::new("g", DataType::Int64, false),
        Field::new("delta", DataType::Int64, false),
    ]);
    vec![
        Field::new("count", DataType::Int64, false),
        Field::new(
            "samples",
            DataType::List(Arc::new(Field::new(
                "element",
                DataType::Struct(sample),
                false,
            ))),
            false,
        ),
    ]
}

impl AggregateFunction for ApproxPercentile {
    fn name(&self) -> &str {
        self.name
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        self.check_count(args)?;
        let value = match &args[0] {
            t if crate::types::is_string(t) || *t == DataType::Null => DataType::Float64,
            t if is_value_type(t) => t.clone(),
            other => {
                return Err(unexpected_input_type(
                    self.name,
                    1,
                    "(\"NUMERIC\" or \"DATE\" or \"TIMESTAMP\" or \"TIMESTAMP_NTZ\" or \"INTERVAL YEAR TO MONTH\" or \"INTERVAL DAY TO SECOND\" or \"TIME\")",
                    other,
                ));
            }
        };
        let percentage = match &args[1] {
            DataType::List(_) => crate::types::list_of(DataType::Float64),
            t if crate::types::is_numeric(t)
                || crate::types::is_string(t)
                || *t == DataType::Null =>
            {
                DataType::Float64
            }
            other => return Err(unexpected_input_type(self.name, 2, "\"DOUBLE\"", other)),
        };
        let mut out = vec![value, percentage];
        if let Some(accuracy) = args.get(2) {
            match accuracy {
                DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
                    out.push(DataType::Int64)
                }
                other => {
                    return Err(unexpected_input_type(self.name, 3, "\"INTEGRAL\"", other));
                }
            }
        }
        Ok(out)
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        self.check_count(args)?;
        Ok(match &args[1] {
            DataType::List(_) => crate::types::list_of(args[0].clone()),
            _ => args[0].clone(),
        })
    }
    fn state_fields(&self, _args: &[DataType]) -> Result<Vec<Field>> {
        Ok(state_fields())
    }
    fn create_accumulator(&self, args: &[DataType]) -> Result<Box<dyn GroupsAccumulator>> {
        let (percentages, relative_error) = self.bound.clone().ok_or_else(|| {
            EngineError::Internal(format!(
                "{} used before its parameters were bound",
                self.name
            ))
        })?;
        Ok(Box::new(ApproxAcc {
            value_type: args.first().cloned().unwrap_or(DataType::Float64),
            array_result: matches!(args.get(1), Some(DataType::List(_))),
            percentages,
            relative_error,
            groups: vec![],
        }))
    }
    fn bind_constants(
        &self,
        args: &[Option<ArrayRef>],
    ) -> Result<Option<Arc<dyn AggregateFunction>>> {
        let percentages = read_percentages(self.name, args.get(1).and_then(Option::as_ref))?;
        let accuracy = match args.get(2) {
            None => i64::from(DEFAULT_ACCURACY),
            Some(None) => {
                return Err(mismatch(
                    self.name,
                    "NON_FOLDABLE_INPUT",
                    "the input `accuracy` should be a foldable \"INT\" expression.",
                ));
            }
            Some(Some(a)) => {
                let a = cast(a, &DataType::Int64)?;
                let a = a.as_primitive::<Int64Type>();
                if a.is_null(0) {
                    return Err(mismatch(
                        self.name,
                        "UNEXPECTED_NULL",
                        "The accuracy must not be null.",
                    ));
                }
                a.value(0)
            }
        };
        if accuracy <= 0 || accuracy > i64::from(i32::MAX) {
            return Err(mismatch(
                self.name,
                "VALUE_OUT_OF_RANGE",
                &format!(
                    "The accuracy must be between (0, 2147483647] (current value = {accuracy}L)."
                ),
            ));
        }
        let mut bound = self.clone();
        bound.bound = Some((percentages, 1.0 / accuracy as f64));
        Ok(Some(Arc::new(bound)))
    }
}

struct ApproxAcc {
    value_type: DataType,
    array_result: bool,
    percentages: Vec<f64>,
    relative_error: f64,
    groups: Vec<QuantileSummary>,
}

impl ApproxAcc {
    fn grow(&mut self, n: usize) {
        let eps = self.relative_error;
        self.groups.resize_with(n, || QuantileSummary::new(eps));
    }

    /// The input values as Spark turns them into doubles, `None` for NULL.
    fn doubles(&self, a: &ArrayRef) -> Result<Vec<Option<f64>>> {
        let valid = valid_rows(a);
        let values: Vec<f64> = match a.data_type() {
            DataType::Date32 => a
                .as_primitive::<Date32Type>()
                .values()
                .iter()
                .map(|&v| f64::from(v))
                .collect(),
            DataType::Timestamp(TimeUnit::Microsecond, _) => a
                .as_primitive::<TimestampMicrosecondType>()
                .values()
                .iter()
                .map(|&v| v as f64)
                .collect(),
            DataType::Duration(TimeUnit::Microsecond) => a
                .as_primitive::<DurationMicrosecondType>()
                .values()
                .iter()
                .map(|&v| v as f64)
                .collect(),
            DataType::Interval(IntervalUnit::YearMonth) => a
                .as_primitive::<IntervalYearMonthType>()
                .values()
                .iter()
                .map(|&v| f64::from(v))
                .collect(),
            _ => {
                let d = cast(a, &DataType::Float64)?;
                d.as_primitive::<Float64Type>().values().to_vec()
            }
        };
        Ok(values
            .into_iter()
            .enumerate()
            .map(|(i, v)| valid(i).then_some(v))
            .collect())
    }

    /// Answers as an array of the input's type: Spark's `toInt`/`toLong` truncations
    /// (saturating, NaN as 0, as Rust's `as`), a TINYINT or SMALLINT through INT.
    fn to_values(&self, values: Vec<Option<f64>>) -> Result<ArrayRef> {
        use arrow::array::{
            Date32Array, DurationMicrosecondArray, Float32Array, Int8Array, Int16Array, Int32Array,
            IntervalYearMonthArray, TimestampMicrosecondArray,
        };
        let map_i32 = |v: &Vec<Option<f64>>| -> Vec<Option<i32>> {
            v.iter().map(|v| v.map(|v| v as i32)).collect()
        };
        let map_i64 = |v: &Vec<Option<f64>>| -> Vec<Option<i64>> {
            v.iter().map(|v| v.map(|v| v as i64)).collect()
        };
        Ok(match &self.value_type {
            DataType::Int8 => Arc::new(Int8Array::from(
                values
                    .iter()
                    .map(|v| v.map(|v| v as i32 as i8))
                    .collect::<Vec<_>>(),
            )),
            DataType::Int16 => Arc::new(Int16Array::from(
                values
                    .iter()
                    .map(|v| v.map(|v| v as i32 as i16))
                    .collect::<Vec<_>>(),
            )),
            DataType::Int32 => Arc::new(Int32Array::from(map_i32(&values))),
            DataType::Int64 => Arc::new(Int64Array::from(map_i64(&values))),
            DataType::Float32 => Arc::new(Float32Array::from(
                values
                    .iter()
                    .map(|v| v.map(|v| v as f32))
                    .collect::<Vec<_>>(),
            )),
            DataType::Date32 => Arc::new(Date32Array::from(map_i32(&values))),
            DataType::Interval(IntervalUnit::YearMonth) => {
                Arc::new(IntervalYearMonthArray::from(map_i32(&values)))
            }
            DataType::Duration(TimeUnit::Microsecond) => {
                Arc::new(DurationMicrosecondArray::from(map_i64(&values)))
            }
            DataType::Timestamp(TimeUnit::Microsecond, tz) => Arc::new(
                TimestampMicrosecondArray::from(map_i64(&values)).with_timezone_opt(tz.clone()),
            ),
            DataType::Decimal128(_, _) => {
                let doubles: ArrayRef = Arc::new(Float64Array::from(values));
                cast(&doubles, &self.value_type)?
            }
            _ => Arc::new(Float64Array::from(values)),
        })
    }
}

impl GroupsAccumulator for ApproxAcc {
    fn update_batch(&mut self, values: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.grow(n);
        for (v, &g) in self.doubles(&values[0])?.into_iter().zip(groups) {
            if let (Some(v), Some(summary)) = (v, self.groups.get_mut(g)) {
                summary.insert(v);
            }
        }
        Ok(())
    }
    fn merge_batch(&mut self, states: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.grow(n);
        let counts = states[0].as_primitive::<Int64Type>();
        let lists = states[1].as_list::<i32>();
        for (i, &g) in groups.iter().enumerate() {
            let entries = lists.value(i);
            let entries = entries.as_struct();
            let values = entries.column(0).as_primitive::<Float64Type>();
            let gs = entries.column(1).as_primitive::<Int64Type>();
            let deltas = entries.column(2).as_primitive::<Int64Type>();
            let samples = (0..entries.len())
                .map(|j| Sample {
                    value: values.value(j),
                    g: gs.value(j),
                    delta: deltas.value(j),
                })
                .collect();
            let mut other =
                QuantileSummary::from_parts(self.relative_error, samples, counts.value(i));
            if let Some(summary) = self.groups.get_mut(g) {
                summary.merge(&mut other);
            }
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        let mut groups = std::mem::take(&mut self.groups);
        let mut counts = Vec::with_capacity(groups.len());
        let mut lengths = Vec::with_capacity(groups.len());
        let (mut values, mut gs, mut deltas) = (vec![], vec![], vec![]);
        for summary in &mut groups {
            let (samples, count) = summary.parts();
            counts.push(count);
            lengths.push(samples.len());
            for s in samples {
                values.push(s.value);
                gs.push(s.g);
                deltas.push(s.delta);
            }
        }
        let fields = state_fields();
        let DataType::List(item) = fields[1].data_type().clone() else {
            return Err(EngineError::Internal("percentile_approx state type".into()));
        };
        let DataType::Struct(sample_fields) = item.data_type().clone() else {
            return Err(EngineError::Internal("percentile_approx state type".into()));
        };
        let entries = StructArray::try_new(
            sample_fields,
            vec![
                Arc::new(Float64Array::from(values)),
                Arc::new(Int64Array::from(gs)),
                Arc::new(Int64Array::from(deltas)),
            ],
            None,
        )?;
        let lists = ListArray::try_new(
            item,
            OffsetBuffer::from_lengths(lengths),
            Arc::new(entries),
            None,
        )?;
        Ok(vec![Arc::new(Int64Array::from(counts)), Arc::new(lists)])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        let mut groups = std::mem::take(&mut self.groups);
        let answers: Vec<Option<Vec<f64>>> = groups
            .iter_mut()
            .map(|s| s.query(&self.percentages))
            .collect();
        if !self.array_result {
            return self.to_values(
                answers
                    .into_iter()
                    .map(|a| a.and_then(|v| v.first().copied()))
                    .collect(),
            );
        }
        let offsets =
            OffsetBuffer::from_lengths(answers.iter().map(|a| a.as_ref().map_or(0, Vec::len)));
        let nulls: NullBuffer = answers.iter().map(Option::is_some).collect();
        let flat = answers.into_iter().flatten().flatten().map(Some).collect();
        let values = self.to_values(flat)?;
        let field = Arc::new(Field::new("element", values.data_type().clone(), true));
        Ok(Arc::new(ListArray::try_new(
            field,
            offsets,
            values,
            Some(nulls),
        )?))
    }
    fn size(&self) -> usize {
        self.groups.iter().map(QuantileSummary::size).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int32Array;
    use arrow::datatypes::Int32Type;
    use proptest::prelude::*;

    fn bound(p: f64, accuracy: Option<i64>) -> Arc<dyn AggregateFunction> {
        let mut args: Vec<Option<ArrayRef>> =
            vec![None, Some(Arc::new(Float64Array::from(vec![p])))];
        if let Some(a) = accuracy {
            args.push(Some(Arc::new(Int64Array::from(vec![a]))));
        }
        ApproxPercentile::new("percentile_approx")
            .bind_constants(&args)
            .unwrap()
            .unwrap()
    }

    /// One group over `values`, split into partials at `splits`, merged in order.
    fn run(f: &dyn AggregateFunction, values: &[Option<i32>], splits: &[usize]) -> Option<i32> {
        let column: ArrayRef = Arc::new(Int32Array::from(values.to_vec()));
        let t = [DataType::Int32, DataType::Float64];
        let out = super::super::run_in_partials(f, &t, &column, splits);
        let out = out.as_primitive::<Int32Type>();
        out.is_valid(0).then(|| out.value(0))
    }

    #[test]
    fn spark_examples() {
        // Spark: percentile_approx(col, 0.5, 100) over 0, 6, 7, 9, 10 is 7.
        let v = [Some(0), Some(6), Some(7), Some(9), Some(10)];
        assert_eq!(run(bound(0.5, Some(100)).as_ref(), &v, &[2]), Some(7));
        assert_eq!(run(bound(0.5, None).as_ref(), &[None, None], &[1]), None);
    }

    #[test]
    fn parameters_are_checked_when_bound() {
        let f = ApproxPercentile::new("percentile_approx");
        let p: ArrayRef = Arc::new(Float64Array::from(vec![0.5]));
        for bad in [0, -1, i64::from(i32::MAX) + 1] {
            let a: ArrayRef = Arc::new(Int64Array::from(vec![bad]));
            let e = f
                .bind_constants(&[None, Some(p.clone()), Some(a)])
                .unwrap_err()
                .to_string();
            assert!(e.contains("VALUE_OUT_OF_RANGE"), "{e}");
        }
        let e = f
            .bind_constants(&[None, Some(p), None])
            .unwrap_err()
            .to_string();
        assert!(e.contains("NON_FOLDABLE_INPUT"), "{e}");
        assert!(
            f.create_accumulator(&[DataType::Int32, DataType::Float64])
                .is_err()
        );
    }

    proptest! {
        // Below 1 / (2 * relative error) values no sample is ever merged away, so the
        // answer is an exact order statistic whatever the split.
        #[test]
        fn small_inputs_do_not_depend_on_the_split(
            v in proptest::collection::vec(proptest::option::of(-100i32..100), 0..200),
            splits in proptest::collection::vec(0usize..200, 0..4),
            p in 0.0f64..=1.0,
        ) {
            let f = bound(p, None);
            prop_assert_eq!(run(f.as_ref(), &v, &[]), run(f.as_ref(), &v, &splits));
        }
    }
}
