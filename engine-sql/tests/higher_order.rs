#![allow(clippy::unwrap_used, clippy::panic)]
//! Higher-order functions from the DataFrame DSL, with Rust closures as lambdas, and in a
//! streaming query. Expected names and values are PySpark 4.3's for the same expressions
//! (`F.transform("a", lambda x: x + 1)`, ...); the SQL forms are pinned in
//! `tests/slt/higher_order.slt`.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Array, ArrayRef, Int64Array, ListArray};
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use arrow::record_batch::RecordBatch;
use engine_sql::expr::CastMode;
use engine_sql::physical::expr::cast_array;
use engine_sql::prelude::*;
use engine_sql::streaming::MemoryStream;

fn spark() -> Session {
    Session::builder()
        .master("local[2]")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .build()
        .unwrap()
}

fn input(spark: &Session) -> DataFrame {
    spark
        .sql(
            "SELECT * FROM VALUES (1, array(1, 2, 3), array(10, 20), 5), \
             (2, array(4, NULL, 6), array(1), 1), (3, CAST(NULL AS ARRAY<INT>), array(7), 2) \
             AS t(id, a, b, x)",
        )
        .unwrap()
        .order_by(vec![col("id").asc()])
        .unwrap()
}

/// Column names, and each row's values as `CAST(v AS STRING)` shows them (`None` for NULL).
fn rendered(spark: &Session, df: &DataFrame) -> (Vec<String>, Vec<Vec<Option<String>>>) {
    let names = df
        .schema()
        .unwrap()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let ctx = spark.conf().function_context().unwrap();
    let mut rows = Vec::new();
    for batch in df.collect().unwrap() {
        let texts: Vec<ArrayRef> = batch
            .columns()
            .iter()
            .map(|c| cast_array(c, &DataType::Utf8, CastMode::Legacy, &ctx).unwrap())
            .collect();
        for r in 0..batch.num_rows() {
            rows.push(
                texts
                    .iter()
                    .map(|c| {
                        let s = c.as_any().downcast_ref::<arrow::array::StringArray>()?;
                        s.is_valid(r).then(|| s.value(r).to_string())
                    })
                    .collect(),
            );
        }
    }
    (names, rows)
}

fn row(values: &[Option<&str>]) -> Vec<Option<String>> {
    values.iter().map(|v| v.map(str::to_string)).collect()
}

#[test]
fn dsl_closures_give_pysparks_names_and_values() {
    let spark = spark();
    let df = input(&spark)
        .select(vec![
            transform(col("a"), |x| x + lit(1)),
            transform_with_index(col("a"), |x, i| x * i),
            // A column called `x` stays reachable: the closure's variable is not named `x`.
            transform(col("a"), |v| v + col("x")),
            filter(col("a"), |x| x.gt(lit(1))),
            filter_with_index(col("a"), |_, i| i.gt(lit(0))),
            exists(col("a"), |x| x.gt(lit(5))),
            forall(col("a"), |x| x.gt(lit(0))),
            aggregate(col("a"), lit(0), |acc, x| acc + x),
            aggregate_finish(
                col("a"),
                lit(0),
                |acc, x| acc + coalesce(vec![x, lit(0)]),
                |acc| acc * lit(10),
            ),
            reduce(col("a"), lit(0), |acc, x| acc + coalesce(vec![x, lit(0)])),
            zip_with(col("a"), col("b"), |x, y| x + y),
            // The inner closure reads the outer one's variable.
            transform(col("a"), |x| transform(col("b"), |y| x + y)),
        ])
        .unwrap();
    let (names, rows) = rendered(&spark, &df);
    assert_eq!(
        names,
        vec![
            "transform(a, lambdafunction((namedlambdavariable() + 1), namedlambdavariable()))",
            "transform(a, lambdafunction((namedlambdavariable() * namedlambdavariable()), namedlambdavariable(), namedlambdavariable()))",
            "transform(a, lambdafunction((namedlambdavariable() + x), namedlambdavariable()))",
            "filter(a, lambdafunction((namedlambdavariable() > 1), namedlambdavariable()))",
            "filter(a, lambdafunction((namedlambdavariable() > 0), namedlambdavariable(), namedlambdavariable()))",
            "exists(a, lambdafunction((namedlambdavariable() > 5), namedlambdavariable()))",
            "forall(a, lambdafunction((namedlambdavariable() > 0), namedlambdavariable()))",
            "aggregate(a, 0, lambdafunction((namedlambdavariable() + namedlambdavariable()), namedlambdavariable(), namedlambdavariable()), lambdafunction(namedlambdavariable(), namedlambdavariable()))",
            "aggregate(a, 0, lambdafunction((namedlambdavariable() + coalesce(namedlambdavariable(), 0)), namedlambdavariable(), namedlambdavariable()), lambdafunction((namedlambdavariable() * 10), namedlambdavariable()))",
            "reduce(a, 0, lambdafunction((namedlambdavariable() + coalesce(namedlambdavariable(), 0)), namedlambdavariable(), namedlambdavariable()), lambdafunction(namedlambdavariable(), namedlambdavariable()))",
            "zip_with(a, b, lambdafunction((namedlambdavariable() + namedlambdavariable()), namedlambdavariable(), namedlambdavariable()))",
            "transform(a, lambdafunction(transform(b, lambdafunction((namedlambdavariable() + namedlambdavariable()), namedlambdavariable())), namedlambdavariable()))",
        ]
    );
    assert_eq!(
        rows,
        vec![
            row(&[
                Some("[2, 3, 4]"),
                Some("[0, 2, 6]"),
                Some("[6, 7, 8]"),
                Some("[2, 3]"),
                Some("[2, 3]"),
                Some("false"),
                Some("true"),
                Some("6"),
                Some("60"),
                Some("6"),
                Some("[11, 22, null]"),
                Some("[[11, 21], [12, 22], [13, 23]]"),
            ]),
            row(&[
                Some("[5, null, 7]"),
                Some("[0, null, 12]"),
                Some("[5, null, 7]"),
                Some("[4, 6]"),
                Some("[null, 6]"),
                Some("true"),
                None,
                None,
                Some("100"),
                Some("10"),
                Some("[5, null, null]"),
                Some("[[5], [null], [7]]"),
            ]),
            vec![None; 12],
        ]
    );
}

#[test]
fn dsl_map_and_sort_closures_give_pysparks_names_and_values() {
    let spark = spark();
    let df = spark
        .sql(
            "SELECT * FROM VALUES (1, map('a', 1, 'b', 2), map('b', 10, 'c', 20), array(3, 1, 2)), \
             (2, map('z', 5), CAST(NULL AS MAP<STRING, INT>), array(5, 4)) AS t(id, m, n, a)",
        )
        .unwrap()
        .order_by(vec![col("id").asc()])
        .unwrap()
        .select(vec![
            map_filter(col("m"), |_, v| v.gt(lit(1))),
            transform_keys(col("m"), |k, _| upper(k)),
            transform_values(col("m"), |_, v| v * lit(100)),
            map_zip_with(col("m"), col("n"), |_, v1, v2| {
                coalesce(vec![v1, lit(0)]) + coalesce(vec![v2, lit(0)])
            }),
            array_sort_by(col("a"), |l, r| r - l),
            array_sort(col("a")),
        ])
        .unwrap();
    let (names, rows) = rendered(&spark, &df);
    assert_eq!(
        names,
        vec![
            "map_filter(m, lambdafunction((namedlambdavariable() > 1), namedlambdavariable(), namedlambdavariable()))",
            "transform_keys(m, lambdafunction(upper(namedlambdavariable()), namedlambdavariable(), namedlambdavariable()))",
            "transform_values(m, lambdafunction((namedlambdavariable() * 100), namedlambdavariable(), namedlambdavariable()))",
            "map_zip_with(m, n, lambdafunction((coalesce(namedlambdavariable(), 0) + coalesce(namedlambdavariable(), 0)), namedlambdavariable(), namedlambdavariable(), namedlambdavariable()))",
            "array_sort(a, lambdafunction((namedlambdavariable() - namedlambdavariable()), namedlambdavariable(), namedlambdavariable()))",
            "array_sort(a, lambdafunction((IF(((namedlambdavariable() IS NULL) AND (namedlambdavariable() IS NULL)), 0, (IF((namedlambdavariable() IS NULL), 1, (IF((namedlambdavariable() IS NULL), -1, (IF((namedlambdavariable() < namedlambdavariable()), -1, (IF((namedlambdavariable() > namedlambdavariable()), 1, 0)))))))))), namedlambdavariable(), namedlambdavariable()))",
        ]
    );
    assert_eq!(
        rows,
        vec![
            row(&[
                Some("{b -> 2}"),
                Some("{A -> 1, B -> 2}"),
                Some("{a -> 100, b -> 200}"),
                Some("{a -> 1, b -> 12, c -> 20}"),
                Some("[3, 2, 1]"),
                Some("[1, 2, 3]"),
            ]),
            row(&[
                Some("{z -> 5}"),
                Some("{Z -> 5}"),
                Some("{z -> 500}"),
                None,
                Some("[5, 4]"),
                Some("[4, 5]"),
            ]),
        ]
    );
}

#[test]
fn a_dsl_call_groups_under_sparks_name() {
    let spark = spark();
    let df = input(&spark)
        .group_by(vec![transform(col("a"), |x| x * lit(0))])
        .agg(vec![count(lit(1)).alias("n")])
        .unwrap();
    let name = "transform(a, lambdafunction((namedlambdavariable() * 0), namedlambdavariable()))";
    let (names, mut rows) = rendered(&spark, &df);
    assert_eq!(names, vec![name, "n"]);
    rows.sort();
    assert_eq!(
        rows,
        vec![
            row(&[None, Some("1")]),
            row(&[Some("[0, 0, 0]"), Some("1")]),
            row(&[Some("[0, null, 0]"), Some("1")]),
        ]
    );
}

#[test]
fn a_lambda_outside_a_higher_order_call_is_refused() {
    let spark = spark();
    let stray = {
        let mut inner = None;
        transform(col("a"), |x| {
            inner = Some(x.clone());
            x
        });
        inner.unwrap()
    };
    let err = input(&spark).select(vec![stray]).unwrap_err();
    assert!(err.to_string().contains("UNRESOLVED_COLUMN"), "{err}");
}

fn list_batch(
    schema: &Arc<Schema>,
    ids: &[i64],
    arrays: Vec<Option<Vec<Option<i64>>>>,
) -> RecordBatch {
    RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(ids.to_vec())) as ArrayRef,
            Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(arrays)),
        ],
    )
    .unwrap()
}

#[test]
fn a_streaming_query_reduces_arrays_without_exploding() {
    let spark = spark();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new(
            "xs",
            DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true))),
            true,
        ),
    ]));
    let stream = MemoryStream::new(&spark, schema.clone());
    stream
        .add_data(list_batch(
            &schema,
            &[1, 2],
            vec![Some(vec![Some(1), Some(2), Some(3)]), None],
        ))
        .unwrap();
    stream
        .add_data(list_batch(
            &schema,
            &[3],
            vec![Some(vec![Some(4), None, Some(-6)])],
        ))
        .unwrap();
    let q = stream
        .to_df()
        .unwrap()
        .filter(exists(col("xs"), |x| x.gt(lit(2i64))))
        .unwrap()
        .select(vec![
            col("id"),
            aggregate(col("xs"), lit(0i64), |acc, x| {
                acc + coalesce(vec![x, lit(0i64)])
            })
            .alias("total"),
        ])
        .unwrap()
        .write_stream()
        .format("memory")
        .query_name("hof_stream_out")
        .trigger(Trigger::AvailableNow)
        .start()
        .unwrap();
    assert!(q.await_termination(Some(Duration::from_secs(60))).unwrap());
    let (_, rows) = rendered(
        &spark,
        &spark
            .sql("SELECT id, total FROM hof_stream_out ORDER BY id")
            .unwrap(),
    );
    assert_eq!(
        rows,
        vec![row(&[Some("1"), Some("6")]), row(&[Some("3"), Some("-2")])]
    );
}
