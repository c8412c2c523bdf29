//! The DataFrame API end to end, on in-memory data.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int32Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use engine_sql::prelude::*;
use engine_sql::scalar::ScalarValue;

fn spark() -> Session {
    Session::builder()
        .master("local[2]")
        .config("spark.sql.shuffle.partitions", "3")
        .config("spark.sql.session.timeZone", "UTC")
        .build()
        .unwrap()
}

/// id, name, dept, salary: four people in two departments, one NULL salary.
fn people(spark: &Session) -> DataFrame {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("dept", DataType::Utf8, true),
        Field::new("salary", DataType::Float64, true),
    ]));
    let b1 = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int32Array::from(vec![1, 2])) as ArrayRef,
            Arc::new(StringArray::from(vec!["ann", "bob"])),
            Arc::new(StringArray::from(vec!["eng", "eng"])),
            Arc::new(Float64Array::from(vec![Some(100.0), Some(80.0)])),
        ],
    )
    .unwrap();
    let b2 = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int32Array::from(vec![3, 4])) as ArrayRef,
            Arc::new(StringArray::from(vec![Some("cid"), None])),
            Arc::new(StringArray::from(vec!["ops", "eng"])),
            Arc::new(Float64Array::from(vec![Some(50.0), None])),
        ],
    )
    .unwrap();
    spark.create_dataframe(vec![b1, b2]).unwrap()
}

fn depts(spark: &Session) -> DataFrame {
    let schema = Arc::new(Schema::new(vec![
        Field::new("dept", DataType::Utf8, false),
        Field::new("floor", DataType::Int64, false),
    ]));
    let b = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec!["eng", "hr"])) as ArrayRef,
            Arc::new(Int64Array::from(vec![3, 1])),
        ],
    )
    .unwrap();
    spark.create_dataframe(vec![b]).unwrap()
}

/// Rows as display strings, sorted (for order-insensitive comparisons).
fn rows(df: &DataFrame) -> Vec<String> {
    let mut out: Vec<String> = df
        .collect_rows()
        .unwrap()
        .iter()
        .map(|r| r.join(","))
        .collect();
    out.sort();
    out
}

#[test]
fn select_filter_with_column() {
    let spark = spark();
    let df = people(&spark)
        .filter(col("salary").gt(lit(60.0)))
        .unwrap()
        .with_column("bonus", col("salary") * lit(0.1))
        .unwrap()
        .select(vec![col("name"), col("bonus")])
        .unwrap();
    assert_eq!(df.columns().unwrap(), vec!["name", "bonus"]);
    assert_eq!(rows(&df), vec!["ann,10.0", "bob,8.0"]);
}

#[test]
fn group_by_aggregates() {
    let spark = spark();
    let df = people(&spark)
        .group_by(vec![col("dept")])
        .agg(vec![
            count(lit(1)),
            sum(col("salary")),
            avg(col("salary")),
            min(col("name")),
            max(col("salary")),
            count(col("salary")),
        ])
        .unwrap();
    assert_eq!(
        df.columns().unwrap(),
        vec![
            "dept",
            "count(1)",
            "sum(salary)",
            "avg(salary)",
            "min(name)",
            "max(salary)",
            "count(salary)"
        ]
    );
    assert_eq!(
        rows(&df),
        vec!["eng,3,180.0,90.0,ann,100.0,2", "ops,1,50.0,50.0,cid,50.0,1"]
    );
}

#[test]
fn global_aggregate_of_nothing_is_one_row() {
    let spark = spark();
    let df = people(&spark)
        .filter(col("id").gt(lit(100)))
        .unwrap()
        .agg(vec![count(lit(1)), sum(col("salary"))])
        .unwrap();
    assert_eq!(rows(&df), vec!["0,NULL"]);
}

#[test]
fn count_distinct_and_collect_list() {
    let spark = spark();
    let df = people(&spark)
        .agg(vec![
            count_distinct(vec![col("dept")]),
            collect_list(col("dept")),
        ])
        .unwrap();
    let r = df.collect_rows().unwrap();
    assert_eq!(r[0].values[0], ScalarValue::Int64(Some(2)));
}

#[test]
fn order_limit_distinct() {
    let spark = spark();
    let df = people(&spark)
        .order_by(vec![col("salary").desc()])
        .unwrap()
        .limit(2)
        .unwrap()
        .select(vec![col("id")])
        .unwrap();
    let ids: Vec<String> = df
        .collect_rows()
        .unwrap()
        .iter()
        .map(|r| r.values[0].to_string())
        .collect();
    assert_eq!(ids, vec!["1", "2"]);
    let d = people(&spark)
        .select(vec![col("dept")])
        .unwrap()
        .distinct()
        .unwrap();
    assert_eq!(rows(&d), vec!["eng", "ops"]);
}

#[test]
fn nulls_sort_first_ascending() {
    let spark = spark();
    let df = people(&spark)
        .order_by(vec![col("salary").asc()])
        .unwrap()
        .select(vec![col("id")])
        .unwrap();
    let ids: Vec<String> = df
        .collect_rows()
        .unwrap()
        .iter()
        .map(|r| r.values[0].to_string())
        .collect();
    assert_eq!(ids, vec!["4", "3", "2", "1"]);
}

#[test]
fn joins_of_every_kind() {
    let spark = spark();
    let p = people(&spark).select(vec![col("id"), col("dept")]).unwrap();
    let d = depts(&spark);
    let inner = p.join(&d, "dept", "inner").unwrap();
    assert_eq!(inner.columns().unwrap(), vec!["dept", "id", "floor"]);
    assert_eq!(rows(&inner), vec!["eng,1,3", "eng,2,3", "eng,4,3"]);
    let left = p.join(&d, "dept", "left").unwrap();
    assert_eq!(rows(&left).len(), 4);
    assert!(rows(&left).contains(&"ops,3,NULL".to_string()));
    let full = p.join(&d, "dept", "full").unwrap();
    assert!(rows(&full).contains(&"hr,NULL,1".to_string()));
    let semi = p.join(&d, "dept", "left_semi").unwrap();
    // USING puts the key first for semi/anti joins too (Spark: leftKeys ++ lUniqueOutput).
    assert_eq!(rows(&semi), vec!["eng,1", "eng,2", "eng,4"]);
    let anti = p.join(&d, "dept", "left_anti").unwrap();
    assert_eq!(rows(&anti), vec!["ops,3"]);
    let a = p.alias("a").unwrap();
    let b = d.alias("b").unwrap();
    let on = a
        .join(
            &b,
            col("a.dept")
                .eq(col("b.dept"))
                .and(col("b.floor").gt(lit(2))),
            "inner",
        )
        .unwrap();
    assert_eq!(rows(&on).len(), 3);
    let cross = p.join(&d, JoinOn::None, "cross").unwrap();
    assert_eq!(cross.count().unwrap(), 8);
}

use engine_sql::dataframe::JoinOn;

#[test]
fn union_and_union_by_name() {
    let spark = spark();
    let a = people(&spark).select(vec![col("id"), col("name")]).unwrap();
    let b = people(&spark).select(vec![col("name"), col("id")]).unwrap();
    assert_eq!(a.union_by_name(&b, false).unwrap().count().unwrap(), 8);
    let c = people(&spark).select(vec![col("id")]).unwrap();
    let e = a.union_by_name(&c, true).unwrap();
    assert_eq!(e.count().unwrap(), 8);
    let err = a.union(&c).unwrap_err().to_string();
    assert!(err.starts_with("[NUM_COLUMNS_MISMATCH]"), "{err}");
}

#[test]
fn drop_duplicates_keeps_columns_in_order() {
    let spark = spark();
    let df = people(&spark).drop_duplicates(&["dept"]).unwrap();
    assert_eq!(df.columns().unwrap(), vec!["id", "name", "dept", "salary"]);
    assert_eq!(df.count().unwrap(), 2);
}

#[test]
fn rename_and_drop() {
    let spark = spark();
    let df = people(&spark)
        .with_column_renamed("name", "who")
        .unwrap()
        .drop(&["salary", "nope"])
        .unwrap();
    assert_eq!(df.columns().unwrap(), vec!["id", "who", "dept"]);
}

#[test]
fn unknown_column_suggests_names() {
    let spark = spark();
    let err = people(&spark)
        .select(vec![col("nmae")])
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("[UNRESOLVED_COLUMN.WITH_SUGGESTION]"),
        "{err}"
    );
    assert!(err.contains("`name`"), "{err}");
}

#[test]
fn show_prints_spark_table() {
    let spark = spark();
    let df = people(&spark).order_by(vec![col("id").asc()]).unwrap();
    let text = df.show_string(3, 20).unwrap();
    assert_eq!(
        text,
        "+---+----+----+------+\n\
         | id|name|dept|salary|\n\
         +---+----+----+------+\n\
         |  1| ann| eng| 100.0|\n\
         |  2| bob| eng|  80.0|\n\
         |  3| cid| ops|  50.0|\n\
         +---+----+----+------+\n\
         only showing top 3 rows\n"
    );
}

#[test]
fn print_schema_tree() {
    let spark = spark();
    assert_eq!(
        people(&spark).schema_tree_string().unwrap(),
        "root\n |-- id: integer (nullable = false)\n |-- name: string (nullable = true)\n |-- dept: string (nullable = true)\n |-- salary: double (nullable = true)\n"
    );
}

#[test]
fn explain_has_all_sections() {
    let spark = spark();
    let df = people(&spark)
        .group_by(vec![col("dept")])
        .agg(vec![sum(col("salary"))])
        .unwrap();
    let text = df.explain_string(true).unwrap();
    for section in [
        "== Parsed Logical Plan ==",
        "== Analyzed Logical Plan ==",
        "== Optimized Logical Plan ==",
        "== Physical Plan ==",
        "partial_sum(salary)",
        "Exchange hashpartitioning",
    ] {
        assert!(text.contains(section), "missing {section} in\n{text}");
    }
}

#[test]
fn temp_views_are_queryable_by_name() {
    let spark = spark();
    people(&spark)
        .create_or_replace_temp_view("people")
        .unwrap();
    assert_eq!(spark.table("people").unwrap().count().unwrap(), 4);
    let err = spark.table("nope").unwrap_err().to_string();
    assert!(err.starts_with("[TABLE_OR_VIEW_NOT_FOUND]"), "{err}");
}

#[test]
fn select_expr_and_filter_expr_take_sql() {
    let spark = spark();
    let df = people(&spark)
        .filter_expr("salary >= 80 AND dept = 'eng'")
        .unwrap()
        .select_expr(&["upper(name) AS who", "salary / 2", "id + 1"])
        .unwrap();
    assert_eq!(
        df.columns().unwrap(),
        vec!["who", "(salary / 2)", "(id + 1)"]
    );
    assert_eq!(rows(&df), vec!["ANN,50.0,2", "BOB,40.0,3"]);
}

#[test]
fn order_by_a_column_the_select_dropped() {
    // Spark allows sorting on a column the projection dropped (and on its aliases).
    let spark = spark();
    let df = people(&spark)
        .select(vec![col("name"), (col("id") * lit(10)).alias("x")])
        .unwrap()
        .order_by(vec![col("salary").desc(), col("x").asc()])
        .unwrap();
    assert_eq!(df.columns().unwrap(), vec!["name", "x"]);
    let got: Vec<String> = df
        .collect_rows()
        .unwrap()
        .iter()
        .map(|r| r.values[1].to_string())
        .collect();
    // salary DESC NULLS LAST: 100 (id 1), 80 (id 2), 50 (id 3), NULL (id 4).
    assert_eq!(got, vec!["10", "20", "30", "40"]);
}

/// Events at minutes 1, 4, 7 (key a) and 2 (key b) of 2024-01-01.
fn events(spark: &Session) -> DataFrame {
    spark
        .sql("SELECT * FROM VALUES (TIMESTAMP'2024-01-01 00:01:00', 'a'), (TIMESTAMP'2024-01-01 00:04:00', 'a'), (TIMESTAMP'2024-01-01 00:07:00', 'a'), (TIMESTAMP'2024-01-01 00:02:00', 'b') AS t(ts, k)")
        .unwrap()
}

#[test]
fn windows_through_the_dataframe_api() {
    let spark = spark();
    // Tumbling: the column is named `window`, its fields `start` and `end`.
    let tumbling = events(&spark)
        .group_by(vec![window(col("ts"), "5 minutes", None, None)])
        .agg(vec![count(lit(1)).alias("n")])
        .unwrap();
    assert_eq!(tumbling.columns().unwrap(), vec!["window", "n"]);
    let starts = tumbling
        .select(vec![col("window.start"), col("n")])
        .unwrap();
    assert_eq!(
        rows(&starts),
        vec![
            "TIMESTAMP '2024-01-01 00:00:00',3",
            "TIMESTAMP '2024-01-01 00:05:00',1"
        ]
    );
    // Sliding with a start offset, and window_time of each window.
    let sliding = events(&spark)
        .select(vec![
            window(col("ts"), "4 minutes", Some("2 minutes"), Some("1 minute")).alias("w"),
            col("k"),
        ])
        .unwrap()
        .filter(col("k").eq(lit("b")))
        .unwrap()
        .select(vec![col("w.start"), window_time(col("w"))])
        .unwrap();
    assert_eq!(
        rows(&sliding),
        vec![
            "TIMESTAMP '2023-12-31 23:59:00',TIMESTAMP '2024-01-01 00:02:59.999999'",
            "TIMESTAMP '2024-01-01 00:01:00',TIMESTAMP '2024-01-01 00:04:59.999999'"
        ]
    );
    // Sessions with a 3-minute gap merge 1, 4 (and 7: 4 + 3 = 7 touches it) for key a.
    let sessions = events(&spark)
        .group_by(vec![col("k"), session_window(col("ts"), lit("3 minutes"))])
        .agg(vec![count(lit(1)).alias("n")])
        .unwrap()
        .select(vec![
            col("k"),
            col("session_window.start"),
            col("session_window.end"),
            col("n"),
        ])
        .unwrap();
    assert_eq!(
        rows(&sessions),
        vec![
            "a,TIMESTAMP '2024-01-01 00:01:00',TIMESTAMP '2024-01-01 00:10:00',3",
            "b,TIMESTAMP '2024-01-01 00:02:00',TIMESTAMP '2024-01-01 00:05:00',1"
        ]
    );
}

#[test]
fn product_and_try_aggregates_name_their_columns_like_spark() {
    // Spark 4.3 (PySpark `F.product`, which Spark's SQL does not resolve): DOUBLE, NULLs
    // skipped, NULL for a group without values.
    let spark = spark();
    let df = spark
        .sql("SELECT * FROM VALUES (1, 2), (1, -3), (1, NULL), (2, NULL), (3, 4) AS t(k, x)")
        .unwrap()
        .group_by(vec![col("k")])
        .agg(vec![
            call("product", vec![col("x")]),
            call("try_sum", vec![col("x")]),
            call("try_avg", vec![col("x")]),
            call("bit_xor", vec![col("x")]),
        ])
        .unwrap();
    assert_eq!(
        df.columns().unwrap(),
        vec!["k", "product(x)", "try_sum(x)", "try_avg(x)", "bit_xor(x)"]
    );
    assert_eq!(
        rows(&df),
        vec![
            "1,-6.0,-1,-0.5,-1",
            "2,NULL,NULL,NULL,NULL",
            "3,4.0,4,4.0,4"
        ]
    );
}

#[test]
fn percentile_and_mode_columns_carry_spark_names() {
    // Names as Spark 4.3 gives them, its default frequency and its (inverted) names of the
    // WITHIN GROUP forms of mode included.
    let spark = spark();
    let df = spark
        .sql(
            "SELECT percentile(x, 0.5), percentile(x, array(0.25, 0.75)), percentile(x, 0.5, 2), \
             median(x), percentile_cont(0.5) WITHIN GROUP (ORDER BY x), \
             percentile_disc(0.25) WITHIN GROUP (ORDER BY x DESC), mode(x), mode(x, true), \
             mode(x, false), mode() WITHIN GROUP (ORDER BY x), \
             mode() WITHIN GROUP (ORDER BY x DESC), percentile_approx(x, 0.5), \
             approx_percentile(x, array(0.5), 100), approx_count_distinct(x, 0.1) \
             FROM VALUES (1), (2) AS t(x)",
        )
        .unwrap();
    assert_eq!(
        df.columns().unwrap(),
        vec![
            "percentile(x, 0.5, 1)",
            "percentile(x, array(0.25, 0.75), 1)",
            "percentile(x, 0.5, 2)",
            "median(x)",
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY x)",
            "percentile_disc(0.25) WITHIN GROUP (ORDER BY x DESC)",
            "mode(x)",
            "mode() WITHIN GROUP (ORDER BY x DESC)",
            "mode(x)",
            "mode() WITHIN GROUP (ORDER BY x DESC)",
            "mode() WITHIN GROUP (ORDER BY x)",
            "percentile_approx(x, 0.5, 10000)",
            "approx_percentile(x, array(0.5), 100)",
            "approx_count_distinct(x)",
        ]
    );
    assert_eq!(
        rows(&df),
        vec!["1.5,[1.25, 1.75],1.5,1.5,1.5,2.0,1,1,1,1,2,1,[1],2"]
    );
}
