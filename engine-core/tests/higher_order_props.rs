#![allow(clippy::unwrap_used, clippy::panic)]
//! Property tests of the vectorized higher-order functions: over random batches of arrays
//! (NULL arrays, NULL elements, empty arrays, sliced batches) each function gives, row by
//! row, what a direct per-row fold with Spark's rules gives.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, ListArray};
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use arrow::record_batch::RecordBatch;
use engine_core::analyzer::{coerce_expr, resolve_expr};
use engine_core::expr::{Expr, col, lit};
use engine_core::functions::FunctionContext;
use engine_core::functions::dsl::{
    aggregate_finish, coalesce, exists, filter, forall, transform_with_index, zip_with,
};
use engine_core::physical::expr::create_physical_expr;
use engine_core::schema::PlanSchema;
use proptest::prelude::*;

type Arr = Option<Vec<Option<i64>>>;

/// One input row: two arrays and a scalar column `k`.
#[derive(Debug, Clone)]
struct Row {
    a: Arr,
    b: Arr,
    k: Option<i64>,
}

fn arr() -> impl Strategy<Value = Arr> {
    prop::option::weighted(
        0.85,
        prop::collection::vec(prop::option::weighted(0.8, -5i64..50), 0..5),
    )
}

fn rows() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec(
        (arr(), arr(), prop::option::weighted(0.9, -5i64..5)).prop_map(|(a, b, k)| Row { a, b, k }),
        1..12,
    )
}

fn batch(rows: &[Row]) -> RecordBatch {
    let list = || DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true)));
    let schema = Arc::new(Schema::new(vec![
        Field::new("a", list(), true),
        Field::new("b", list(), true),
        Field::new("k", DataType::Int64, true),
    ]));
    let lists = |f: fn(&Row) -> &Arr| -> ArrayRef {
        Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(
            rows.iter().map(|r| f(r).clone()),
        ))
    };
    RecordBatch::try_new(
        schema,
        vec![
            lists(|r| &r.a),
            lists(|r| &r.b),
            Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.k))),
        ],
    )
    .unwrap()
}

/// `e` resolved, coerced, compiled and evaluated over `b` (ANSI on, as Spark 4's default).
fn try_eval(e: Expr, b: &RecordBatch) -> engine_core::Result<ArrayRef> {
    let schema = PlanSchema::from_arrow(None, &b.schema());
    let bound = resolve_expr(&e, &schema)?;
    let typed = coerce_expr(bound, &schema, true)?;
    let ctx = Arc::new(FunctionContext::default());
    let p = create_physical_expr(&typed, &schema, &ctx)?;
    p.evaluate(b)?.into_array(b.num_rows())
}

fn eval(e: Expr, b: &RecordBatch) -> ArrayRef {
    try_eval(e, b).unwrap()
}

fn lists_of(a: &ArrayRef) -> Vec<Arr> {
    let l = a.as_list::<i32>();
    (0..l.len())
        .map(|i| {
            l.is_valid(i).then(|| {
                l.value(i)
                    .as_primitive::<Int64Type>()
                    .iter()
                    .collect::<Vec<_>>()
            })
        })
        .collect()
}

fn longs(a: &ArrayRef) -> Vec<Option<i64>> {
    a.as_primitive::<Int64Type>().iter().collect()
}

fn bools(a: &ArrayRef) -> Vec<Option<bool>> {
    a.as_any()
        .downcast_ref::<BooleanArray>()
        .unwrap()
        .iter()
        .collect()
}

/// Spark's `exists` over per-element predicate results.
fn any3(results: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let mut null = false;
    for r in results {
        match r {
            Some(true) => return Some(true),
            None => null = true,
            Some(false) => {}
        }
    }
    if null { None } else { Some(false) }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn vectorized_higher_order_functions_match_a_per_row_fold(
        all in rows(),
        cut in 0usize..4,
    ) {
        // A sliced batch: list offsets that do not start at zero.
        let cut = cut.min(all.len() - 1);
        let full = batch(&all);
        let b = full.slice(cut, full.num_rows() - cut);
        let rows = &all[cut..];

        // transform with the index and an outer column.
        let got = lists_of(&eval(
            transform_with_index(col("a"), |x, i| x * lit(2i64) + i + col("k")),
            &b,
        ));
        let want: Vec<Arr> = rows
            .iter()
            .map(|r| {
                r.a.as_ref().map(|xs| {
                    xs.iter()
                        .enumerate()
                        .map(|(i, x)| Some(x.as_ref()? * 2 + i as i64 + r.k?))
                        .collect()
                })
            })
            .collect();
        prop_assert_eq!(got, want);

        // filter: a NULL predicate drops the element.
        let got = lists_of(&eval(filter(col("a"), |x| x.gt(col("k"))), &b));
        let want: Vec<Arr> = rows
            .iter()
            .map(|r| {
                r.a.as_ref().map(|xs| {
                    xs.iter()
                        .filter(|x| matches!((x, r.k), (Some(x), Some(k)) if *x > k))
                        .copied()
                        .collect()
                })
            })
            .collect();
        prop_assert_eq!(got, want);

        // exists / forall, three-valued.
        let pred = |x: &Option<i64>, k: Option<i64>| Some(x.as_ref()? % 3 == k?);
        let got = bools(&eval(exists(col("a"), |x| (x % lit(3i64)).eq(col("k"))), &b));
        let want: Vec<Option<bool>> = rows
            .iter()
            .map(|r| r.a.as_ref().and_then(|xs| any3(xs.iter().map(|x| pred(x, r.k)))))
            .collect();
        prop_assert_eq!(got, want);
        let got = bools(&eval(forall(col("a"), |x| !(x % lit(3i64)).eq(col("k"))), &b));
        let want: Vec<Option<bool>> = rows
            .iter()
            .map(|r| {
                r.a.as_ref()
                    .and_then(|xs| any3(xs.iter().map(|x| pred(x, r.k))).map(|found| !found))
            })
            .collect();
        prop_assert_eq!(got, want);

        // exists stops at the first TRUE, as Spark does: an element that would fail
        // (division by zero) after it is never evaluated; one before it fails the query.
        let got = try_eval(
            exists(col("a"), |x| (lit(100i64) / x).gt(lit(30i64))),
            &b,
        );
        let mut fails = false;
        let want: Vec<Option<bool>> = rows
            .iter()
            .map(|r| {
                let mut null = false;
                for x in r.a.as_ref()? {
                    match x {
                        None => null = true,
                        Some(0) => {
                            fails = true;
                            return None;
                        }
                        Some(x) if 100.0 / *x as f64 > 30.0 => return Some(true),
                        Some(_) => {}
                    }
                }
                if null { None } else { Some(false) }
            })
            .collect();
        match got {
            Ok(a) => {
                prop_assert!(!fails);
                prop_assert_eq!(bools(&a), want);
            }
            Err(e) => {
                prop_assert!(fails, "{}", e);
                prop_assert!(e.to_string().contains("DIVIDE_BY_ZERO"), "{}", e);
            }
        }

        // aggregate with a finish lambda; start and finish read an outer column.
        let got = longs(&eval(
            aggregate_finish(
                col("a"),
                coalesce(vec![col("k"), lit(0i64)]),
                |acc, x| acc + coalesce(vec![x, lit(1i64)]),
                |acc| acc * lit(3i64),
            ),
            &b,
        ));
        let want: Vec<Option<i64>> = rows
            .iter()
            .map(|r| {
                r.a.as_ref().map(|xs| {
                    3 * xs.iter().fold(r.k.unwrap_or(0), |acc, x| acc + x.unwrap_or(1))
                })
            })
            .collect();
        prop_assert_eq!(got, want);

        // zip_with pads the shorter side with NULLs.
        let got = lists_of(&eval(
            zip_with(col("a"), col("b"), |x, y| {
                coalesce(vec![x, lit(100i64)]) - coalesce(vec![y, lit(0i64)])
            }),
            &b,
        ));
        let want: Vec<Arr> = rows
            .iter()
            .map(|r| {
                let (a, bb) = (r.a.as_ref()?, r.b.as_ref()?);
                Some(
                    (0..a.len().max(bb.len()))
                        .map(|i| {
                            let x = a.get(i).copied().flatten().unwrap_or(100);
                            let y = bb.get(i).copied().flatten().unwrap_or(0);
                            Some(x - y)
                        })
                        .collect(),
                )
            })
            .collect();
        prop_assert_eq!(got, want);
    }
}
