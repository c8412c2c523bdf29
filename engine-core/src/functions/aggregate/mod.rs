//! Aggregate functions: count, sum, avg, min, max, first, last, any_value, collect_list,
//! collect_set, max_by, min_by, count_if, bool_and, bool_or, the central moments (stddev,
//! variance, skewness, kurtosis), covariance/correlation, try_sum, try_avg, bit_and, bit_or,
//! bit_xor, product, the exact percentiles (percentile, median, percentile_cont,
//! percentile_disc), mode, percentile_approx and approx_count_distinct, under Spark's names
//! and aliases.
//!
//! Each is a [`GroupsAccumulator`](super::GroupsAccumulator) over dense group indices:
//! a few vectors indexed by group, updated with tight loops over whole arrays.

mod approx_count_distinct;
mod approx_percentile;
mod avg;
mod bit_agg;
mod bool_and_or;
mod collect_set;
mod count;
mod count_if;
mod covariance;
mod distinct;
mod double_buffers;
mod exact_sum;
mod first_last;
mod fold;
mod hll_tables;
mod interval;
mod listagg;
mod max_min_by;
mod min_max;
mod mode;
mod moments;
mod percentile;
mod product;
mod quantile_summary;
mod rows;
mod sum;
mod try_sum;

use std::sync::Arc;

use crate::Result;
use arrow::datatypes::DataType;

use super::{AggregateFunction, unexpected_input_type, wrong_num_args};
use approx_percentile::ApproxPercentile;
use bit_agg::{BitAgg, BitOp};
use covariance::{CoMoment, Covariance};
use moments::{CentralMoment, Moment};
use percentile::{Kind as PercentileKind, Percentile};

pub use distinct::DistinctAccumulator;

/// Every built-in aggregate with its names.
pub fn functions() -> Vec<(&'static str, Arc<dyn AggregateFunction>)> {
    let first: Arc<dyn AggregateFunction> = Arc::new(first_last::FirstLast::first("first"));
    let last: Arc<dyn AggregateFunction> = Arc::new(first_last::FirstLast::last());
    let avg: Arc<dyn AggregateFunction> = Arc::new(avg::Avg);
    // Spark names each alias's result column after the name it was called by.
    let moment = |name, m| -> (&'static str, Arc<dyn AggregateFunction>) {
        (name, Arc::new(CentralMoment::new(name, m)))
    };
    vec![
        ("count", Arc::new(count::Count)),
        ("sum", Arc::new(sum::Sum)),
        ("avg", avg.clone()),
        ("mean", avg),
        ("min", Arc::new(min_max::MinMax::min())),
        ("max", Arc::new(min_max::MinMax::max())),
        ("first", first.clone()),
        ("first_value", first),
        ("last", last.clone()),
        ("last_value", last),
        (
            "collect_list",
            Arc::new(first_last::FirstLast::collect_list()),
        ),
        ("array_agg", Arc::new(first_last::FirstLast::collect_list())),
        ("listagg", Arc::new(listagg::ListAgg { name: "listagg" })),
        (
            "string_agg",
            Arc::new(listagg::ListAgg { name: "string_agg" }),
        ),
        ("collect_set", Arc::new(collect_set::CollectSet)),
        (
            "any_value",
            Arc::new(first_last::FirstLast::first("any_value")),
        ),
        ("max_by", Arc::new(max_min_by::MaxMinBy::max_by())),
        ("min_by", Arc::new(max_min_by::MaxMinBy::min_by())),
        ("count_if", Arc::new(count_if::CountIf)),
        (
            "bool_and",
            Arc::new(bool_and_or::BoolAndOr::bool_and("bool_and")),
        ),
        ("every", Arc::new(bool_and_or::BoolAndOr::bool_and("every"))),
        (
            "bool_or",
            Arc::new(bool_and_or::BoolAndOr::bool_or("bool_or")),
        ),
        ("some", Arc::new(bool_and_or::BoolAndOr::bool_or("some"))),
        ("any", Arc::new(bool_and_or::BoolAndOr::bool_or("any"))),
        moment("stddev", Moment::StddevSamp),
        moment("stddev_samp", Moment::StddevSamp),
        moment("std", Moment::StddevSamp),
        moment("stddev_pop", Moment::StddevPop),
        moment("variance", Moment::VarSamp),
        moment("var_samp", Moment::VarSamp),
        moment("var_pop", Moment::VarPop),
        moment("skewness", Moment::Skewness),
        moment("kurtosis", Moment::Kurtosis),
        ("covar_samp", Arc::new(Covariance::new(CoMoment::CovarSamp))),
        ("covar_pop", Arc::new(Covariance::new(CoMoment::CovarPop))),
        ("corr", Arc::new(Covariance::new(CoMoment::Corr))),
        ("try_sum", Arc::new(try_sum::TrySum::sum())),
        ("try_avg", Arc::new(try_sum::TrySum::avg())),
        ("bit_and", Arc::new(BitAgg::new("bit_and", BitOp::And))),
        ("bit_or", Arc::new(BitAgg::new("bit_or", BitOp::Or))),
        ("bit_xor", Arc::new(BitAgg::new("bit_xor", BitOp::Xor))),
        ("product", Arc::new(product::Product)),
        (
            "percentile",
            Arc::new(Percentile::new(PercentileKind::Percentile)),
        ),
        ("median", Arc::new(Percentile::new(PercentileKind::Median))),
        (
            "percentile_cont",
            Arc::new(Percentile::new(PercentileKind::Cont)),
        ),
        (
            "percentile_disc",
            Arc::new(Percentile::new(PercentileKind::Disc)),
        ),
        ("mode", Arc::new(mode::Mode::default())),
        (
            "percentile_approx",
            Arc::new(ApproxPercentile::new("percentile_approx")),
        ),
        (
            "approx_percentile",
            Arc::new(ApproxPercentile::new("approx_percentile")),
        ),
        (
            "approx_count_distinct",
            Arc::new(approx_count_distinct::ApproxCountDistinct::default()),
        ),
    ]
}

/// A call's arguments with Spark's defaults filled in, as its result column names show them:
/// `percentile(x, 0.5)` is `percentile(x, 0.5, 1)` (frequency 1), `percentile_approx(x, 0.5)`
/// is `percentile_approx(x, 0.5, 10000)` (accuracy 10000).
pub fn with_default_args(name: &str, mut args: Vec<crate::expr::Expr>) -> Vec<crate::expr::Expr> {
    // `listagg(x)`: no delimiter, shown as `listagg(x, NULL)`.
    if matches!(name, "listagg" | "string_agg") && args.len() == 1 {
        args.push(crate::expr::Expr::Literal(crate::scalar::ScalarValue::Null));
        return args;
    }
    let default = match name {
        "percentile" => 1,
        "percentile_approx" | "approx_percentile" => approx_percentile::DEFAULT_ACCURACY,
        _ => return args,
    };
    if args.len() == 2 {
        args.push(crate::expr::Expr::Literal(
            crate::scalar::ScalarValue::Int32(Some(default)),
        ));
    }
    args
}

/// True for a map, or a struct or array holding one: such values have no order or equality.
fn contains_map(t: &DataType) -> bool {
    match t {
        DataType::Map(_, _) => true,
        DataType::Struct(fields) => fields.iter().any(|f| contains_map(f.data_type())),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            contains_map(f.data_type())
        }
        _ => false,
    }
}

/// Spark's `DATATYPE_MISMATCH.INVALID_ORDERING_TYPE` unless values of `t` can be compared.
fn check_orderable(name: &str, t: &DataType) -> Result<()> {
    if !contains_map(t) {
        return Ok(());
    }
    Err(crate::EngineError::analysis(
        "DATATYPE_MISMATCH.INVALID_ORDERING_TYPE",
        format!(
            "Cannot resolve \"{name}\" due to data type mismatch: The `{name}` does not support ordering on type \"{}\". SQLSTATE: 42K09",
            crate::types::sql_type_name(t)
        ),
    ))
}

/// Checks an aggregate's single BOOLEAN argument and returns the type to cast it to:
/// strings and NULL are cast to BOOLEAN, as Spark's implicit casts do.
fn boolean_arg(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    let t = one_arg(name, args)?;
    if matches!(t, DataType::Boolean | DataType::Null) || crate::types::is_string(t) {
        Ok(vec![DataType::Boolean])
    } else {
        Err(unexpected_input_type(name, 1, "\"BOOLEAN\"", t))
    }
}

/// Checks that an aggregate got `count` DOUBLE arguments and returns their cast types:
/// numbers, strings and NULL become DOUBLE, as Spark's implicit casts do.
fn double_args(name: &str, args: &[DataType], count: usize) -> Result<Vec<DataType>> {
    if args.len() != count {
        return Err(wrong_num_args(name, &count.to_string(), args.len()));
    }
    args.iter()
        .enumerate()
        .map(|(i, t)| {
            if crate::types::is_numeric(t) || crate::types::is_string(t) || *t == DataType::Null {
                Ok(DataType::Float64)
            } else {
                Err(unexpected_input_type(name, i + 1, "\"DOUBLE\"", t))
            }
        })
        .collect()
}

/// `a / b`, NULL when `b` is zero, as Spark's division inside the statistical aggregates.
fn checked_div(a: f64, b: f64) -> Option<f64> {
    (b != 0.0).then(|| a / b)
}

/// Whether row `i` of `v` is non-NULL, by its logical nulls: a VOID (NullArray) column has
/// no null buffer, yet every row is NULL.
fn valid_rows(v: &arrow::array::ArrayRef) -> impl Fn(usize) -> bool {
    let nulls = arrow::array::Array::logical_nulls(v.as_ref());
    move |i| nulls.as_ref().is_none_or(|nb| nb.is_valid(i))
}

/// Checks that an aggregate got exactly one argument.
fn one_arg<'a>(name: &str, args: &'a [DataType]) -> Result<&'a DataType> {
    match args {
        [t] => Ok(t),
        _ => Err(wrong_num_args(name, "1", args.len())),
    }
}

/// Test helper: runs `f` (argument types `types`) over one group's `values`, split into
/// partial accumulators at the row offsets `splits` (any order, clamped to the rows), each
/// partial's state merged into one final accumulator in row order, as the exchange does.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
fn run_in_partials(
    f: &dyn AggregateFunction,
    types: &[DataType],
    values: &arrow::array::ArrayRef,
    splits: &[usize],
) -> arrow::array::ArrayRef {
    let mut fin = f.create_accumulator(types).unwrap();
    let mut bounds = vec![0];
    bounds.extend(splits.iter().map(|&s| s.min(values.len())));
    bounds.push(values.len());
    bounds.sort_unstable();
    for w in bounds.windows(2) {
        let len = w[1] - w[0];
        let mut part = f.create_accumulator(types).unwrap();
        part.update_batch(&[values.slice(w[0], len)], &vec![0; len], 1)
            .unwrap();
        fin.merge_batch(&part.state().unwrap(), &[0], 1).unwrap();
    }
    fin.evaluate().unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, ArrayRef, AsArray, Int32Array, Int64Array, StringArray};
    use arrow::datatypes::{Float64Type, Int64Type};

    use crate::functions::GroupsAccumulator;

    fn func(name: &str) -> Arc<dyn AggregateFunction> {
        functions()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| f)
            .unwrap()
    }

    /// Runs `name` over `values` split into two partial accumulators, merged into a final
    /// one, exactly as partial -> exchange -> final does.
    fn two_phase(name: &str, values: ArrayRef, groups: &[usize], n: usize) -> ArrayRef {
        let f = func(name);
        let t = vec![values.data_type().clone()];
        let half = values.len() / 2;
        let mut states = Vec::new();
        for (lo, hi) in [(0, half), (half, values.len())] {
            let mut acc = f.create_accumulator(&t).unwrap();
            acc.update_batch(&[values.slice(lo, hi - lo)], &groups[lo..hi], n)
                .unwrap();
            states.push(acc.state().unwrap());
        }
        let mut fin = f.create_accumulator(&t).unwrap();
        for s in states {
            let ids: Vec<usize> = (0..n).collect();
            fin.merge_batch(&s, &ids, n).unwrap();
        }
        fin.evaluate().unwrap()
    }

    #[test]
    fn sum_avg_count_two_phase() {
        let v: ArrayRef = Arc::new(Int32Array::from(vec![
            Some(1),
            None,
            Some(3),
            Some(4),
            None,
            Some(6),
        ]));
        let g = [0, 0, 1, 0, 1, 2];
        let s = two_phase("sum", v.clone(), &g, 3);
        assert_eq!(
            s.as_primitive::<Int64Type>().iter().collect::<Vec<_>>(),
            vec![Some(5), Some(3), Some(6)]
        );
        let a = two_phase("avg", v.clone(), &g, 3);
        assert_eq!(a.as_primitive::<Float64Type>().value(0), 2.5);
        let c = two_phase("count", v, &g, 3);
        assert_eq!(
            c.as_primitive::<Int64Type>().values().to_vec(),
            vec![2, 1, 1]
        );
    }

    #[test]
    fn count_if_and_bool_aggregates_merge_partials() {
        use arrow::array::BooleanArray;
        let v: ArrayRef = Arc::new(BooleanArray::from(vec![
            Some(true),
            None,
            Some(false),
            Some(true),
            None,
            Some(true),
        ]));
        let g = [0, 0, 1, 0, 2, 1];
        let c = two_phase("count_if", v.clone(), &g, 3);
        assert_eq!(
            c.as_primitive::<Int64Type>().values().to_vec(),
            vec![2, 1, 0]
        );
        let and = two_phase("bool_and", v.clone(), &g, 3);
        let and = and.as_boolean();
        assert_eq!(
            and.iter().collect::<Vec<_>>(),
            vec![Some(true), Some(false), None]
        );
        let or = two_phase("any", v, &g, 3);
        let or = or.as_boolean();
        assert_eq!(
            or.iter().collect::<Vec<_>>(),
            vec![Some(true), Some(true), None]
        );
        assert_eq!(func("every").name(), "every");
    }

    #[test]
    fn single_group_sums_and_counts_whole_batches() {
        // One group takes the vectorized path; results must match the per-row one.
        let v: ArrayRef = Arc::new(Int64Array::from(vec![
            Some(1),
            None,
            Some(3),
            Some(4),
            None,
        ]));
        let g = [0, 0, 0, 0, 0];
        let s = two_phase("sum", v.clone(), &g, 1);
        assert_eq!(s.as_primitive::<Int64Type>().value(0), 8);
        let c = two_phase("count", v, &g, 1);
        assert_eq!(c.as_primitive::<Int64Type>().value(0), 3);
        let f: ArrayRef = Arc::new(arrow::array::Float64Array::from(vec![
            Some(0.5),
            None,
            Some(2.0),
        ]));
        let s = two_phase("sum", f, &[0, 0, 0], 1);
        assert_eq!(s.as_primitive::<Float64Type>().value(0), 2.5);
    }

    #[test]
    fn sum_of_only_nulls_is_null() {
        let v: ArrayRef = Arc::new(Int64Array::from(vec![None, None]));
        let s = two_phase("sum", v, &[0, 0], 1);
        assert!(s.is_null(0));
    }

    #[test]
    fn sum_overflow_fails_like_ansi_spark() {
        let f = func("sum");
        let mut acc = f.create_accumulator(&[DataType::Int64]).unwrap();
        let v: ArrayRef = Arc::new(Int64Array::from(vec![i64::MAX, 1]));
        let e = acc.update_batch(&[v], &[0, 0], 1).unwrap_err().to_string();
        assert!(e.starts_with("[ARITHMETIC_OVERFLOW]"), "{e}");
    }

    #[test]
    fn sum_types_follow_spark() {
        let f = func("sum");
        assert_eq!(f.return_type(&[DataType::Int32]).unwrap(), DataType::Int64);
        assert_eq!(
            f.return_type(&[DataType::Float32]).unwrap(),
            DataType::Float64
        );
        assert_eq!(
            f.return_type(&[DataType::Decimal128(10, 2)]).unwrap(),
            DataType::Decimal128(20, 2)
        );
        assert!(f.return_type(&[DataType::Boolean]).is_err());
    }

    #[test]
    fn min_max_strings_and_first_last() {
        let v: ArrayRef = Arc::new(StringArray::from(vec![
            Some("b"),
            None,
            Some("a"),
            Some("c"),
        ]));
        let g = [0, 0, 0, 0];
        assert_eq!(
            two_phase("min", v.clone(), &g, 1)
                .as_string::<i32>()
                .value(0),
            "a"
        );
        assert_eq!(
            two_phase("max", v.clone(), &g, 1)
                .as_string::<i32>()
                .value(0),
            "c"
        );
        assert_eq!(
            two_phase("first", v.clone(), &g, 1)
                .as_string::<i32>()
                .value(0),
            "b"
        );
        assert_eq!(two_phase("last", v, &g, 1).as_string::<i32>().value(0), "c");
    }

    #[test]
    fn min_max_numbers_nan_and_timestamps() {
        use arrow::array::{Float64Array, TimestampMicrosecondArray};
        let v: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(1.0),
            Some(f64::NAN),
            None,
            Some(-3.0),
        ]));
        let g = [0, 0, 0, 0];
        assert!(
            two_phase("max", v.clone(), &g, 1)
                .as_primitive::<Float64Type>()
                .value(0)
                .is_nan()
        );
        assert_eq!(
            two_phase("min", v, &g, 1)
                .as_primitive::<Float64Type>()
                .value(0),
            -3.0
        );
        let v: ArrayRef = Arc::new(Int32Array::from(vec![None, Some(5), None, Some(2)]));
        let out = two_phase("min", v, &[0, 1, 0, 1], 2);
        assert!(out.is_null(0));
        assert_eq!(
            out.as_primitive::<arrow::datatypes::Int32Type>().value(1),
            2
        );
        let ts: ArrayRef =
            Arc::new(TimestampMicrosecondArray::from(vec![5, 9, 1, 7]).with_timezone("UTC"));
        let out = two_phase("max", ts.clone(), &g, 1);
        assert_eq!(out.data_type(), ts.data_type());
        assert_eq!(
            out.as_primitive::<arrow::datatypes::TimestampMicrosecondType>()
                .value(0),
            9
        );
    }

    #[test]
    fn first_keeps_a_leading_null() {
        let v: ArrayRef = Arc::new(StringArray::from(vec![
            None,
            Some("x"),
            Some("y"),
            Some("z"),
        ]));
        assert!(two_phase("first", v, &[0, 0, 0, 0], 1).is_null(0));
    }

    #[test]
    fn collect_list_skips_nulls_and_merges() {
        let v: ArrayRef = Arc::new(Int32Array::from(vec![Some(1), None, Some(2), Some(3)]));
        let out = two_phase("collect_list", v, &[0, 1, 0, 0], 2);
        let lists = out.as_list::<i32>();
        assert_eq!(
            lists
                .value(0)
                .as_primitive::<arrow::datatypes::Int32Type>()
                .values()
                .to_vec(),
            vec![1, 2, 3]
        );
        assert_eq!(lists.value(1).len(), 0);
    }

    #[test]
    fn distinct_counts_each_value_once() {
        let f = func("count");
        let t = [DataType::Int32];
        let mut acc = DistinctAccumulator::try_new(f.create_accumulator(&t).unwrap(), &t).unwrap();
        let v: ArrayRef = Arc::new(Int32Array::from(vec![Some(1), Some(1), None, Some(2)]));
        acc.update_batch(std::slice::from_ref(&v), &[0, 0, 0, 0], 1)
            .unwrap();
        acc.update_batch(&[v], &[0, 0, 0, 0], 1).unwrap();
        assert_eq!(
            acc.evaluate().unwrap().as_primitive::<Int64Type>().value(0),
            2
        );
    }
}
