//! Spark's exact percentiles: `percentile(col, p [, frequency])` and
//! `percentile(col, array(p1, ...) [, frequency])`, `median(col)`, and the inverse
//! distribution functions `percentile_cont(p) WITHIN GROUP (ORDER BY col [DESC])` and
//! `percentile_disc(...)` (the SQL front end turns them into `percentile_cont(col, p,
//! descending)`).
//!
//! As Spark's `PercentileBase`, each group keeps how often each value occurs; the result
//! sorts the values (NaN largest, `-0.0` equal to `0.0`), accumulates their counts, and
//! interpolates linearly (`low + (pos - floor(pos)) * (high - low)`) at position `(n - 1) * p` (`percentile`, `median`,
//! `percentile_cont`) or takes the first value whose cumulative count reaches `n * p`
//! (`percentile_disc`). Values are compared and interpolated as DOUBLE, as Spark computes
//! them; the result is DOUBLE, or the input's interval type with the fraction dropped, and
//! an array of those for an array of percentages. A group without values is NULL.
//!
//! The percentages must be constant, non-NULL and in [0, 1]; the physical planner binds them
//! ([`AggregateFunction::bind_constants`]). The partial state is one list per group of
//! (value, count) structs, so splitting rows among partials never changes the answer.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::array::{
    Array, ArrayRef, AsArray, DurationMicrosecondArray, Float64Array, Int64Array,
    IntervalYearMonthArray, ListArray, StructArray,
};
use arrow::buffer::OffsetBuffer;
use arrow::compute::cast;
use arrow::datatypes::{
    DataType, DurationMicrosecondType, Field, Fields, Float64Type, Int64Type, IntervalUnit,
    IntervalYearMonthType, TimeUnit,
};

use super::{interval, valid_rows};
use crate::functions::{
    AggregateFunction, GroupsAccumulator, unexpected_input_type, wrong_num_args,
};

/// Which of Spark's percentile functions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
    /// `percentile(col, p [, frequency])`.
    Percentile,
    /// `median(col)`: `percentile(col, 0.5)`.
    Median,
    /// `percentile_cont(col, p [, descending])`.
    Cont,
    /// `percentile_disc(col, p [, descending])`.
    Disc,
}

/// One of the exact percentile functions, bound to its percentages once planned.
#[derive(Debug, Clone)]
pub(super) struct Percentile {
    kind: Kind,
    /// The percentages, once bound (`median`'s is 0.5 from the start).
    percentages: Option<Vec<f64>>,
    /// Sort descending (`WITHIN GROUP (ORDER BY col DESC)`).
    reverse: bool,
}

impl Percentile {
    pub(super) fn new(kind: Kind) -> Self {
        Percentile {
            kind,
            percentages: (kind == Kind::Median).then(|| vec![0.5]),
            reverse: false,
        }
    }

    fn fname(&self) -> &'static str {
        match self.kind {
            Kind::Percentile => "percentile",
            Kind::Median => "median",
            Kind::Cont => "percentile_cont",
            Kind::Disc => "percentile_disc",
        }
    }

    fn check_count(&self, args: &[DataType]) -> Result<()> {
        let ok = match self.kind {
            Kind::Median => args.len() == 1,
            _ => (2..=3).contains(&args.len()),
        };
        if ok {
            return Ok(());
        }
        let expected = if self.kind == Kind::Median {
            "1"
        } else {
            "[2, 3]"
        };
        Err(wrong_num_args(self.fname(), expected, args.len()))
    }
}

/// Spark's `DATATYPE_MISMATCH.<sub>` error for a call of `name`.
pub(super) fn mismatch(name: &str, sub: &str, detail: &str) -> EngineError {
    EngineError::analysis(
        format!("DATATYPE_MISMATCH.{sub}"),
        format!(
            "Cannot resolve \"{}\" due to data type mismatch: {detail} SQLSTATE: 42K09",
            name
        ),
    )
}

/// Spark's analysis checks of a percentage argument (a one-row DOUBLE or ARRAY<DOUBLE>
/// array): constant, not NULL, within [0, 1].
pub(super) fn read_percentages(name: &str, p: Option<&ArrayRef>) -> Result<Vec<f64>> {
    let Some(p) = p else {
        return Err(mismatch(
            name,
            "NON_FOLDABLE_INPUT",
            "the input `percentage` should be a foldable \"DOUBLE\" expression.",
        ));
    };
    let values: Vec<Option<f64>> = match p.data_type() {
        DataType::List(_) => {
            let list = p.as_list::<i32>();
            if list.is_null(0) {
                vec![None]
            } else {
                let items = cast(&list.value(0), &DataType::Float64)?;
                if items.null_count() > 0 {
                    return Err(unexpected_input_type(
                        name,
                        2,
                        "\"ARRAY<DOUBLE>\"",
                        p.data_type(),
                    ));
                }
                items.as_primitive::<Float64Type>().iter().collect()
            }
        }
        _ => cast(p, &DataType::Float64)?
            .as_primitive::<Float64Type>()
            .iter()
            .collect(),
    };
    if values.iter().any(Option::is_none) {
        return Err(mismatch(
            name,
            "UNEXPECTED_NULL",
            "The percentage must not be null.",
        ));
    }
    let values: Vec<f64> = values.into_iter().flatten().collect();
    if let Some(bad) = values.iter().find(|v| !(0.0..=1.0).contains(*v)) {
        return Err(mismatch(
            name,
            "VALUE_OUT_OF_RANGE",
            &format!("The percentage must be between [0.0, 1.0] (current value = {bad:?}D)."),
        ));
    }
    Ok(values)
}

/// The element type of the result for a (coerced) value type: the interval itself, or DOUBLE.
fn value_result_type(t: &DataType) -> DataType {
    if interval::is_interval(t) {
        t.clone()
    } else {
        DataType::Float64
    }
}

fn state_type() -> DataType {
    let entry = Fields::from(vec![
        Field::new("value", DataType::Float64, false),
        Field::new("count", DataType::Int64, false),
    ]);
    DataType::List(Arc::new(Field::new(
        "element",
        DataType::Struct(entry),
        false,
    )))
}

impl AggregateFunction for Percentile {
    fn name(&self) -> &str {
        self.fname()
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        self.check_count(args)?;
        let mut out = Vec::with_capacity(args.len());
        let value = &args[0];
        out.push(match value {
            t if interval::is_interval(t) => t.clone(),
            t if crate::types::is_numeric(t) || crate::types::is_string(t) => DataType::Float64,
            DataType::Null => DataType::Float64,
            other => {
                return Err(unexpected_input_type(
                    self.fname(),
                    1,
                    "((\"NUMERIC\" or \"INTERVAL DAY TO SECOND\" or \"INTERVAL YEAR TO MONTH\") or \"TIME\")",
                    other,
                ));
            }
        });
        if let Some(p) = args.get(1) {
            out.push(match p {
                DataType::List(_) => crate::types::list_of(DataType::Float64),
                t if crate::types::is_numeric(t)
                    || crate::types::is_string(t)
                    || *t == DataType::Null =>
                {
                    DataType::Float64
                }
                other => {
                    return Err(unexpected_input_type(self.fname(), 2, "\"DOUBLE\"", other));
                }
            });
        }
        if let Some(third) = args.get(2) {
            out.push(match (self.kind, third) {
                (Kind::Percentile, DataType::Int8 | DataType::Int16 | DataType::Int32)
                | (Kind::Percentile, DataType::Int64) => DataType::Int64,
                (Kind::Cont | Kind::Disc, DataType::Boolean) => DataType::Boolean,
                (Kind::Percentile, other) => {
                    return Err(unexpected_input_type(
                        self.fname(),
                        3,
                        "\"INTEGRAL\"",
                        other,
                    ));
                }
                (_, other) => {
                    return Err(unexpected_input_type(self.fname(), 3, "\"BOOLEAN\"", other));
                }
            });
        }
        Ok(out)
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        self.check_count(args)?;
        let element = value_result_type(&args[0]);
        Ok(match args.get(1) {
            Some(DataType::List(_)) => crate::types::list_of(element),
            _ => element,
        })
    }
    fn state_fields(&self, _args: &[DataType]) -> Result<Vec<Field>> {
        Ok(vec![Field::new("counts", state_type(), true)])
    }
    fn create_accumulator(&self, args: &[DataType]) -> Result<Box<dyn GroupsAccumulator>> {
        let percentages = self.percentages.clone().ok_or_else(|| {
            EngineError::Internal(format!(
                "{} used before its percentages were bound",
                self.fname()
            ))
        })?;
        Ok(Box::new(PercentileAcc {
            kind: self.kind,
            percentages,
            reverse: self.reverse,
            value_type: args.first().cloned().unwrap_or(DataType::Float64),
            array_result: matches!(args.get(1), Some(DataType::List(_))),
            groups: vec![],
        }))
    }
    fn bind_constants(
        &self,
        args: &[Option<ArrayRef>],
    ) -> Result<Option<Arc<dyn AggregateFunction>>> {
        let mut bound = self.clone();
        if self.kind != Kind::Median {
            bound.percentages = Some(read_percentages(
                self.fname(),
                args.get(1).and_then(Option::as_ref),
            )?);
        }
        if matches!(self.kind, Kind::Cont | Kind::Disc) {
            bound.reverse = args
                .get(2)
                .and_then(Option::as_ref)
                .and_then(|a| {
                    a.as_boolean_opt()
                        .filter(|b| b.is_valid(0))
                        .map(|b| b.value(0))
                })
                .unwrap_or(false);
        }
        Ok(Some(Arc::new(bound)))
    }
}

/// Spark's order of DOUBLE values: NaN largest (all NaNs equal), `-0.0` equal to `0.0`.
fn compare(a: f64, b: f64) -> Ordering {
    a.partial_cmp(&b)
        .unwrap_or_else(|| a.is_nan().cmp(&b.is_nan()))
}

/// The key a value is counted under: its bits, every NaN as one (as Java's boxed Double
/// equality has it).
fn key(v: f64) -> u64 {
    if v.is_nan() {
        f64::NAN.to_bits()
    } else {
        v.to_bits()
    }
}

struct PercentileAcc {
    kind: Kind,
    percentages: Vec<f64>,
    reverse: bool,
    /// The coerced value type: DOUBLE or an interval.
    value_type: DataType,
    array_result: bool,
    /// Each group's count per value (keyed by [`key`]).
    groups: Vec<HashMap<u64, i64>>,
}

impl PercentileAcc {
    fn add(&mut self, g: usize, v: f64, count: i64) {
        if let Some(counts) = self.groups.get_mut(g) {
            let c = counts.entry(key(v)).or_insert(0);
            *c = c.saturating_add(count);
        }
    }

    /// The values of the input column as DOUBLE (intervals by their month or microsecond
    /// count), `None` for NULL.
    fn doubles(&self, a: &ArrayRef) -> Result<Vec<Option<f64>>> {
        Ok(match a.data_type() {
            DataType::Duration(TimeUnit::Microsecond) => a
                .as_primitive::<DurationMicrosecondType>()
                .iter()
                .map(|v| v.map(|v| v as f64))
                .collect(),
            DataType::Interval(IntervalUnit::YearMonth) => a
                .as_primitive::<IntervalYearMonthType>()
                .iter()
                .map(|v| v.map(f64::from))
                .collect(),
            _ => {
                let valid = valid_rows(a);
                let d = cast(a, &DataType::Float64)?;
                let d = d.as_primitive::<Float64Type>();
                (0..d.len())
                    .map(|i| (valid(i) && d.is_valid(i)).then(|| d.value(i)))
                    .collect()
            }
        })
    }

    /// One group's percentiles, `None` for a group without values.
    fn percentiles(&self, counts: &HashMap<u64, i64>) -> Option<Vec<f64>> {
        if counts.is_empty() {
            return None;
        }
        let mut sorted: Vec<(f64, i64)> = counts
            .iter()
            .map(|(&k, &c)| (f64::from_bits(k), c))
            .collect();
        sorted.sort_by(|a, b| {
            let o = compare(a.0, b.0);
            if self.reverse { o.reverse() } else { o }
        });
        let mut cumulative = Vec::with_capacity(sorted.len());
        let mut total = 0i64;
        for &(_, c) in &sorted {
            total = total.saturating_add(c);
            cumulative.push(total);
        }
        // The first entry whose cumulative count reaches `target` (Spark's binary search).
        let at = |target: i64| {
            let i = cumulative.partition_point(|&c| c < target);
            sorted
                .get(i.min(sorted.len() - 1))
                .map_or(f64::NAN, |e| e.0)
        };
        Some(
            self.percentages
                .iter()
                .map(|&p| match self.kind {
                    Kind::Disc => at((total as f64 * p).ceil() as i64),
                    _ => {
                        let position = (total - 1) as f64 * p;
                        let (lower, higher) = (position.floor(), position.ceil());
                        // Saturating: frequencies may sum to i64::MAX (found by fuzzing).
                        let low = at((lower as i64).saturating_add(1));
                        if lower == higher {
                            return low;
                        }
                        let high = at((higher as i64).saturating_add(1));
                        if key(high) == key(low) {
                            return low;
                        }
                        // Spark 4's interpolation (its results differ in the last bit
                        // from the weighted sum of both ends).
                        low + (position - lower) * (high - low)
                    }
                })
                .collect(),
        )
    }

    /// The results as an array of the result element type.
    fn to_values(&self, values: Vec<Option<f64>>) -> ArrayRef {
        // Spark's Double.toInt / toLong: truncation, saturating, NaN as 0 (as Rust's `as`).
        match self.value_type {
            DataType::Duration(TimeUnit::Microsecond) => Arc::new(DurationMicrosecondArray::from(
                values
                    .into_iter()
                    .map(|v| v.map(|v| v as i64))
                    .collect::<Vec<_>>(),
            )),
            DataType::Interval(IntervalUnit::YearMonth) => Arc::new(IntervalYearMonthArray::from(
                values
                    .into_iter()
                    .map(|v| v.map(|v| v as i32))
                    .collect::<Vec<_>>(),
            )),
            _ => Arc::new(Float64Array::from(values)),
        }
    }
}

impl GroupsAccumulator for PercentileAcc {
    fn update_batch(&mut self, values: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.groups.resize_with(n, HashMap::new);
        let doubles = self.doubles(&values[0])?;
        let frequencies = match values.get(2).filter(|_| self.kind == Kind::Percentile) {
            Some(f) => {
                let f = cast(f, &DataType::Int64)?;
                f.as_primitive::<Int64Type>().iter().collect::<Vec<_>>()
            }
            None => vec![Some(1); doubles.len()],
        };
        for ((v, f), &g) in doubles.into_iter().zip(frequencies).zip(groups) {
            let (Some(v), Some(f)) = (v, f) else { continue };
            if f < 0 {
                return Err(EngineError::execution(
                    "NEGATIVE_VALUES_IN_FREQUENCY_EXPRESSION",
                    format!(
                        "Found the negative value in \"boundreference()\": {f}L, but expected a positive integral value. SQLSTATE: 22003"
                    ),
                ));
            }
            if f > 0 {
                self.add(g, v, f);
            }
        }
        Ok(())
    }
    fn merge_batch(&mut self, states: &[ArrayRef], groups: &[usize], n: usize) -> Result<()> {
        self.groups.resize_with(n, HashMap::new);
        let lists = states[0].as_list::<i32>();
        for (i, &g) in groups.iter().enumerate() {
            if lists.is_null(i) {
                continue;
            }
            let entries = lists.value(i);
            let entries = entries.as_struct();
            let values = entries.column(0).as_primitive::<Float64Type>();
            let counts = entries.column(1).as_primitive::<Int64Type>();
            for (v, c) in values.values().iter().zip(counts.values()) {
                self.add(g, *v, *c);
            }
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        let groups = std::mem::take(&mut self.groups);
        let offsets = OffsetBuffer::from_lengths(groups.iter().map(HashMap::len));
        let (values, counts): (Vec<f64>, Vec<i64>) = groups
            .iter()
            .flat_map(|m| m.iter().map(|(&k, &c)| (f64::from_bits(k), c)))
            .unzip();
        let DataType::List(field) = state_type() else {
            return Err(EngineError::Internal("percentile state type".into()));
        };
        let DataType::Struct(fields) = field.data_type().clone() else {
            return Err(EngineError::Internal("percentile state type".into()));
        };
        let entries = StructArray::try_new(
            fields,
            vec![
                Arc::new(Float64Array::from(values)),
                Arc::new(Int64Array::from(counts)),
            ],
            None,
        )?;
        let list = ListArray::try_new(field, offsets, Arc::new(entries), None)?;
        Ok(vec![Arc::new(list)])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        let groups = std::mem::take(&mut self.groups);
        let results: Vec<Option<Vec<f64>>> = groups.iter().map(|g| self.percentiles(g)).collect();
        if !self.array_result {
            let firsts = results
                .into_iter()
                .map(|r| r.and_then(|v| v.first().copied()))
                .collect();
            return Ok(self.to_values(firsts));
        }
        // An empty percentage array gives NULL, as in Spark.
        let results: Vec<Option<Vec<f64>>> = results
            .into_iter()
            .map(|r| r.filter(|v| !v.is_empty()))
            .collect();
        let offsets =
            OffsetBuffer::from_lengths(results.iter().map(|r| r.as_ref().map_or(0, Vec::len)));
        let nulls: arrow::buffer::NullBuffer = results.iter().map(Option::is_some).collect();
        let flat = results.into_iter().flatten().flatten().map(Some).collect();
        let values = self.to_values(flat);
        let field = Arc::new(Field::new("element", values.data_type().clone(), true));
        Ok(Arc::new(ListArray::try_new(
            field,
            offsets,
            values,
            Some(nulls),
        )?))
    }
    fn size(&self) -> usize {
        self.groups.iter().map(|g| g.capacity() * 24).sum::<usize>()
            + self.groups.capacity() * std::mem::size_of::<HashMap<u64, i64>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::ListBuilder;
    use proptest::prelude::*;

    fn bound(kind: Kind, p: &[f64], array: bool) -> Arc<dyn AggregateFunction> {
        let constant: ArrayRef = if array {
            let mut b = ListBuilder::new(arrow::array::Float64Builder::new());
            b.append_value(p.iter().map(|&v| Some(v)));
            Arc::new(b.finish())
        } else {
            Arc::new(Float64Array::from(vec![p[0]]))
        };
        Percentile::new(kind)
            .bind_constants(&[None, Some(constant)])
            .unwrap()
            .unwrap()
    }

    /// Runs `f` over `values` (one group), split into partials at `splits`.
    fn run(
        f: &dyn AggregateFunction,
        values: &[Option<f64>],
        splits: &[usize],
        array: bool,
    ) -> ArrayRef {
        let mut t = vec![DataType::Float64, DataType::Float64];
        if array {
            t[1] = crate::types::list_of(DataType::Float64);
        }
        let column: ArrayRef = Arc::new(Float64Array::from(values.to_vec()));
        super::super::run_in_partials(f, &t, &column, splits)
    }

    fn scalar(a: &ArrayRef) -> Option<f64> {
        let a = a.as_primitive::<Float64Type>();
        a.is_valid(0).then(|| a.value(0))
    }

    #[test]
    fn interpolates_as_spark() {
        let v = [Some(1.5), Some(f64::NAN), Some(-3.0), None];
        let f = bound(Kind::Percentile, &[0.3], false);
        // Spark 4.3: -0.30000000000000027 (NaN sorts last).
        assert_eq!(
            scalar(&run(f.as_ref(), &v, &[1], false)),
            Some(-0.30000000000000027)
        );
        let med = Percentile::new(Kind::Median);
        assert_eq!(scalar(&run(&med, &v, &[2], false)), Some(1.5));
        let ints = [Some(1.0), Some(2.0), Some(3.0), Some(4.0)];
        let a = run(
            bound(Kind::Percentile, &[0.25, 0.75], true).as_ref(),
            &ints,
            &[3],
            true,
        );
        let a = a.as_list::<i32>().value(0);
        assert_eq!(
            a.as_primitive::<Float64Type>().values().to_vec(),
            vec![1.75, 3.25]
        );
        assert_eq!(
            scalar(&run(
                bound(Kind::Disc, &[0.5], false).as_ref(),
                &ints,
                &[],
                false
            )),
            Some(2.0)
        );
        assert_eq!(
            scalar(&run(
                bound(Kind::Disc, &[0.0], false).as_ref(),
                &ints,
                &[],
                false
            )),
            Some(1.0)
        );
    }

    #[test]
    fn empty_groups_and_empty_arrays_are_null() {
        let f = bound(Kind::Percentile, &[0.5], false);
        assert!(run(f.as_ref(), &[None, None], &[1], false).is_null(0));
        let f = bound(Kind::Percentile, &[], true);
        assert!(run(f.as_ref(), &[Some(1.0)], &[], true).is_null(0));
    }

    #[test]
    fn percentages_are_checked_when_bound() {
        let bind = |p: ArrayRef| Percentile::new(Kind::Percentile).bind_constants(&[None, Some(p)]);
        let e = bind(Arc::new(Float64Array::from(vec![1.5])))
            .unwrap_err()
            .to_string();
        assert!(e.contains("VALUE_OUT_OF_RANGE"), "{e}");
        let e = bind(Arc::new(Float64Array::from(vec![None])))
            .unwrap_err()
            .to_string();
        assert!(e.contains("UNEXPECTED_NULL"), "{e}");
        let e = Percentile::new(Kind::Percentile)
            .bind_constants(&[None, None])
            .unwrap_err()
            .to_string();
        assert!(e.contains("NON_FOLDABLE_INPUT"), "{e}");
        assert!(
            Percentile::new(Kind::Percentile)
                .create_accumulator(&[DataType::Float64])
                .is_err()
        );
    }

    proptest! {
        #[test]
        fn any_split_gives_the_same_percentiles(
            v in proptest::collection::vec(proptest::option::of(-50i32..50), 0..60),
            splits in proptest::collection::vec(0usize..60, 0..4),
            p in 0.0f64..=1.0,
        ) {
            let v: Vec<Option<f64>> = v.into_iter().map(|x| x.map(f64::from)).collect();
            for kind in [Kind::Percentile, Kind::Disc] {
                let f = bound(kind, &[p, 1.0 - p], true);
                let whole = run(f.as_ref(), &v, &[], true);
                let split = run(f.as_ref(), &v, &splits, true);
                prop_assert_eq!(whole.to_data(), split.to_data());
            }
        }
    }
}
