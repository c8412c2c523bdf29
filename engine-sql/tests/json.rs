//! Semi-structured data end to end: from_json/to_json/explode through the DataFrame API,
//! the DROPMALFORMED metric, nested print_schema, and property tests (round trip and fuzz).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::Ordering;

use arrow::array::{Array, ArrayRef, AsArray, StringArray};
use arrow::datatypes::{DataType, Field, Fields, Schema};
use arrow::record_batch::RecordBatch;
use engine_sql::datasource::options::Options;
use engine_sql::functions::dsl::*;
use engine_sql::functions::json::{
    JsonWriteOptions, from_json_function, parse_schema, to_json_array,
};
use engine_sql::physical::plan::collect;
use engine_sql::prelude::*;
use proptest::prelude::*;

fn spark() -> Session {
    Session::builder()
        .master("local[2]")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .build()
        .unwrap()
}

fn values(spark: &Session, docs: &[Option<&str>]) -> DataFrame {
    let schema = Arc::new(Schema::new(vec![Field::new("value", DataType::Utf8, true)]));
    let batch = RecordBatch::try_new(
        schema,
        vec![Arc::new(StringArray::from(docs.to_vec())) as ArrayRef],
    )
    .unwrap();
    spark.create_dataframe(vec![batch]).unwrap()
}

fn strings(df: &DataFrame) -> Vec<Vec<String>> {
    df.collect_rows()
        .unwrap()
        .into_iter()
        .map(|r| r.values.iter().map(|v| v.to_string()).collect())
        .collect()
}

const EVENT: &str = "event_id STRING, user STRUCT<id: STRING, country: STRING>, items ARRAY<STRUCT<sku: STRING, qty: INT, price: DOUBLE>>, ts TIMESTAMP";

#[test]
fn from_json_explode_pipeline() {
    let spark = spark();
    let df = values(
        &spark,
        &[
            Some(
                r#"{"event_id":"e1","user":{"id":"u1","country":"FR"},"items":[{"sku":"a","qty":2,"price":1.5},{"sku":"b","qty":1,"price":3.0}],"ts":"2024-01-01T10:00:00Z"}"#,
            ),
            Some(
                r#"{"event_id":"e2","user":{"id":"u2","country":"US"},"items":[],"ts":"2024-01-01T11:00:00Z"}"#,
            ),
            Some("not json"),
            None,
        ],
    );
    let parsed = df
        .select(vec![from_json(col("value"), EVENT).alias("e")])
        .unwrap();
    let flat = parsed
        .select(vec![
            col("e.event_id"),
            col("e.user.country"),
            explode(col("e.items")).alias("item"),
        ])
        .unwrap()
        .select(vec![
            col("event_id"),
            col("country"),
            col("item.sku"),
            col("item.qty"),
        ])
        .unwrap();
    assert_eq!(
        strings(&flat),
        vec![vec!["e1", "FR", "a", "2"], vec!["e1", "FR", "b", "1"]]
    );
    let outer = parsed
        .select(vec![col("e.event_id"), explode_outer(col("e.items"))])
        .unwrap();
    assert_eq!(outer.schema().unwrap().field(1).name(), "col");
    assert_eq!(outer.count().unwrap(), 5);
}

#[test]
fn to_json_of_struct_star() {
    let spark = spark();
    let df = spark
        .sql("SELECT 1 AS id, 'x' AS name, CAST(NULL AS STRING) AS gone, TIMESTAMP '2024-01-01 10:00:00' AS ts")
        .unwrap();
    let out = df.select(vec![to_json(struct_all()).alias("j")]).unwrap();
    assert_eq!(
        strings(&out),
        vec![vec![
            r#"{"id":1,"name":"x","ts":"2024-01-01T10:00:00.000Z"}"#
        ]]
    );
    let kept = df
        .select(vec![to_json_with_options(
            struct_all(),
            &[("ignoreNullFields", "false")],
        )])
        .unwrap();
    assert!(strings(&kept)[0][0].contains(r#""gone":null"#));
}

#[test]
fn dropmalformed_drops_and_counts() {
    let spark = spark();
    let df = values(
        &spark,
        &[
            Some(r#"{"a":1}"#),
            Some(r#"{"a" 1}"#),
            Some(r#"{"a":"x"}"#),
            None,
            Some(r#"{"a":4}"#),
        ],
    );
    let out = df
        .select(vec![
            from_json_with_options(col("value"), "a INT", &[("mode", "DROPMALFORMED")]).alias("j"),
        ])
        .unwrap();
    let ctx = spark.task_context().unwrap();
    let plan = out.physical_plan(&ctx).unwrap();
    let batches = collect(&plan, &ctx).unwrap();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    // The NULL input is not malformed: it stays as a NULL struct.
    assert_eq!(rows, 3);
    assert_eq!(ctx.functions.malformed_records.load(Ordering::Relaxed), 2);
    assert_eq!(out.schema().unwrap().field(0).name(), "j");
}

#[test]
fn failfast_quotes_the_record() {
    let spark = spark();
    let df = values(&spark, &[Some(r#"{"a":1}"#), Some(r#"{"a" broken"#)]);
    let err = df
        .select(vec![from_json_with_options(
            col("value"),
            "a INT",
            &[("mode", "FAILFAST")],
        )])
        .unwrap()
        .collect()
        .unwrap_err()
        .to_string();
    assert!(err.contains("MALFORMED_RECORD_IN_PARSING"), "{err}");
    assert!(err.contains(r#"{"a" broken"#), "{err}");
}

/// Rows shaped like the Kafka source's output: `topic`, `partition`, `offset` and the value
/// (already cast to STRING), one of them malformed.
fn kafka_rows(spark: &Session) -> DataFrame {
    let schema = Arc::new(Schema::new(vec![
        Field::new("topic", DataType::Utf8, true),
        Field::new("partition", DataType::Int32, true),
        Field::new("offset", DataType::Int64, true),
        Field::new("value", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec!["orders", "orders", "orders"])) as ArrayRef,
            Arc::new(arrow::array::Int32Array::from(vec![2, 2, 2])),
            Arc::new(arrow::array::Int64Array::from(vec![40, 41, 42])),
            Arc::new(StringArray::from(vec![
                r#"{"a":1}"#,
                r#"{"a" broken"#,
                r#"{"a":3}"#,
            ])),
        ],
    )
    .unwrap();
    spark.create_dataframe(vec![batch]).unwrap()
}

#[test]
fn failfast_names_kafka_topic_partition_offset() {
    let spark = spark();
    // Only the parsed value is selected: pruning must still keep the location columns.
    let err = kafka_rows(&spark)
        .select(vec![
            from_json_with_options(col("value"), "a INT", &[("mode", "FAILFAST")]).alias("j"),
        ])
        .unwrap()
        .collect()
        .unwrap_err()
        .to_string();
    assert!(err.contains("MALFORMED_RECORD_IN_PARSING"), "{err}");
    assert!(err.contains(r#"[{"a" broken]"#), "{err}");
    assert!(
        err.contains("(topic orders, partition 2, offset 41: from_json)"),
        "{err}"
    );

    // The same through SQL, with a field of the result.
    kafka_rows(&spark)
        .create_or_replace_temp_view("kafka_failfast")
        .unwrap();
    let err = spark
        .sql("SELECT from_json(value, 'a INT', map('mode', 'FAILFAST')).a FROM kafka_failfast")
        .unwrap()
        .collect()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("(topic orders, partition 2, offset 41: from_json)"),
        "{err}"
    );
}

#[test]
fn from_csv_failfast_names_kafka_topic_partition_offset_and_keeps_its_name() {
    let spark = spark();
    kafka_rows(&spark)
        .create_or_replace_temp_view("kafka_csv_failfast")
        .unwrap();
    // `{"a":1}` is one CSV field that is not an INT: the first row already fails.
    let err = spark
        .sql("SELECT from_csv(value, 'a INT', map('mode', 'FAILFAST')).a FROM kafka_csv_failfast WHERE offset > 40")
        .unwrap()
        .collect()
        .unwrap_err()
        .to_string();
    assert!(err.contains("MALFORMED_RECORD_IN_PARSING"), "{err}");
    assert!(
        err.contains("(topic orders, partition 2, offset 41: from_csv)"),
        "{err}"
    );
    // The location arguments do not show in the column name, and PERMISSIVE is untouched.
    let df = spark
        .sql("SELECT from_csv(value, 'a INT', map('mode', 'FAILFAST')) FROM kafka_csv_failfast WHERE offset = 40 AND false")
        .unwrap();
    assert_eq!(df.schema().unwrap().field(0).name(), "from_csv(value)");
    let rows = spark
        .sql("SELECT from_csv(value, 'a INT').a FROM kafka_csv_failfast")
        .unwrap()
        .collect()
        .unwrap();
    assert_eq!(rows.iter().map(|b| b.num_rows()).sum::<usize>(), 3);
}

#[test]
fn failfast_with_location_columns_keeps_names_and_values() {
    let spark = spark();
    let df = kafka_rows(&spark)
        .filter(col("offset").not_eq(lit(41i64)))
        .unwrap()
        .select(vec![from_json_with_options(
            col("value"),
            "a INT",
            &[("mode", "FAILFAST")],
        )])
        .unwrap();
    // The extra arguments do not leak into the column name.
    assert_eq!(
        df.schema().unwrap().field(0).name(),
        "from_json(value)",
        "{:?}",
        df.schema()
    );
    let a = df.select(vec![col("from_json(value)").field("a")]).unwrap();
    assert_eq!(strings(&a), vec![vec!["1"], vec!["3"]]);
}

#[test]
fn failfast_without_location_columns_keeps_todays_text() {
    let spark = spark();
    let err = values(&spark, &[Some(r#"{"a":1}"#), Some(r#"{"a" broken"#)])
        .select(vec![
            from_json_with_options(col("value"), "a INT", &[("mode", "FAILFAST")]).alias("j"),
        ])
        .unwrap()
        .collect()
        .unwrap_err()
        .to_string();
    assert!(err.contains(r#"[{"a" broken]"#), "{err}");
    assert!(err.contains("'PERMISSIVE'. (from_json) SQLSTATE"), "{err}");
}

#[test]
fn generators_in_dataframe_select() {
    let spark = spark();
    let df = spark
        .sql("SELECT 1 AS k, array(10, 20) AS a, map('x', 1) AS m")
        .unwrap();
    let p = df
        .select(vec![col("k"), aliases(posexplode(col("a")), &["p", "v"])])
        .unwrap();
    assert_eq!(
        p.schema()
            .unwrap()
            .fields()
            .iter()
            .map(|f| f.name().to_string())
            .collect::<Vec<_>>(),
        vec!["k", "p", "v"]
    );
    assert_eq!(
        strings(&p),
        vec![vec!["1", "0", "10"], vec!["1", "1", "20"]]
    );
    let m = df.select(vec![explode(col("m"))]).unwrap();
    assert_eq!(strings(&m), vec![vec!["x", "1"]]);
    let err = df
        .select(vec![Expr::BinaryOp {
            left: Box::new(explode(col("a"))),
            op: engine_sql::expr::BinaryOperator::Plus,
            right: Box::new(lit(1)),
        }])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("UNSUPPORTED_GENERATOR.NESTED_IN_EXPRESSIONS"),
        "{err}"
    );
    // A filter on the generated column stays above the generator.
    let f = df
        .select(vec![col("k"), explode(col("a")).alias("v")])
        .unwrap()
        .filter(col("v").gt(lit(10)))
        .unwrap();
    assert_eq!(strings(&f), vec![vec!["1", "20"]]);
}

#[test]
fn print_schema_shows_nested_types() {
    let spark = spark();
    let df = values(&spark, &[Some("{}")])
        .select(vec![
            from_json(
                col("value"),
                "a INT, b ARRAY<MAP<STRING,STRUCT<x: TIMESTAMP>>>",
            )
            .alias("s"),
        ])
        .unwrap();
    let tree = df.schema_tree_string().unwrap();
    let expected = "root
 |-- s: struct (nullable = true)
 |    |-- a: integer (nullable = true)
 |    |-- b: array (nullable = true)
 |    |    |-- element: map (containsNull = true)
 |    |    |    |-- key: string
 |    |    |    |-- value: struct (valueContainsNull = true)
 |    |    |    |    |-- x: timestamp (nullable = true)
";
    assert_eq!(tree, expected);
}

#[test]
fn json_schema_format_round_trips() {
    let text = r#"{"fields":[{"metadata":{},"name":"a","nullable":true,"type":"integer"},{"metadata":{},"name":"b","nullable":true,"type":{"containsNull":true,"elementType":{"keyType":"string","type":"map","valueContainsNull":true,"valueType":{"fields":[{"metadata":{},"name":"x","nullable":false,"type":"timestamp"}],"type":"struct"}},"type":"array"}}],"type":"struct"}"#;
    let dt = parse_schema(text).unwrap();
    assert_eq!(engine_sql::types::schema_to_json(&dt), text);
    assert_eq!(
        engine_sql::types::sql_type_name(&dt),
        "STRUCT<a: INT, b: ARRAY<MAP<STRING, STRUCT<x: TIMESTAMP>>>>"
    );
    let DataType::Struct(fields) = &dt else {
        panic!()
    };
    let ddl = engine_sql::types::fields_to_ddl(fields);
    assert_eq!(
        ddl,
        "a INT,b ARRAY<MAP<STRING, STRUCT<x: TIMESTAMP NOT NULL>>>"
    );
    let back = parse_schema(&ddl).unwrap();
    assert_eq!(engine_sql::types::schema_to_json(&back), text);
}

// ---------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------

/// A small deterministic generator: proptest shrinks the seed, we build the case from it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_type(r: &mut Rng, depth: u32) -> DataType {
    let leaf = depth >= 3;
    match r.below(if leaf { 7 } else { 10 }) {
        0 => DataType::Int32,
        1 => DataType::Int64,
        2 => DataType::Float64,
        3 => DataType::Boolean,
        4 => DataType::Utf8,
        5 => DataType::Date32,
        6 => engine_sql::types::timestamp_type(),
        7 => engine_sql::types::list_of(random_type(r, depth + 1)),
        8 => engine_sql::types::map_of(DataType::Utf8, random_type(r, depth + 1)),
        _ => random_struct(r, depth + 1),
    }
}

fn random_struct(r: &mut Rng, depth: u32) -> DataType {
    let n = 1 + r.below(4) as usize;
    DataType::Struct(Fields::from(
        (0..n)
            .map(|i| Field::new(format!("f{i}"), random_type(r, depth), true))
            .collect::<Vec<_>>(),
    ))
}

const STRINGS: &[&str] = &[
    "",
    "a",
    "quote\"d",
    "back\\slash",
    "new\nline",
    "tab\t",
    "é ünïcødé 😀",
    "\u{1}ctl",
    "/",
];
const DOUBLES: &[f64] = &[0.0, -1.5, 1e20, 1.0e-7, 123456.789, -0.25, 3.0];

fn random_json(r: &mut Rng, dt: &DataType) -> serde_json::Value {
    use serde_json::Value as V;
    if r.below(6) == 0 {
        return V::Null;
    }
    match dt {
        DataType::Int32 => V::from(r.next() as i32),
        DataType::Int64 => V::from(r.next() as i64),
        DataType::Float64 => V::from(DOUBLES[r.below(DOUBLES.len() as u64) as usize]),
        DataType::Boolean => V::from(r.below(2) == 0),
        DataType::Utf8 => V::from(STRINGS[r.below(STRINGS.len() as u64) as usize]),
        DataType::Date32 => V::from(format!(
            "20{:02}-0{}-1{}",
            r.below(99),
            1 + r.below(9),
            r.below(10)
        )),
        DataType::Timestamp(_, _) => V::from(format!(
            "2024-0{}-1{}T{:02}:{:02}:{:02}.{:03}Z",
            1 + r.below(9),
            r.below(10),
            r.below(24),
            r.below(60),
            r.below(60),
            r.below(1000)
        )),
        DataType::List(e) => V::Array(
            (0..r.below(4))
                .map(|_| random_json(r, e.data_type()))
                .collect(),
        ),
        DataType::Map(entries, _) => {
            let DataType::Struct(kv) = entries.data_type() else {
                unreachable!()
            };
            V::Object(
                (0..r.below(4))
                    .map(|i| (format!("k{i}"), random_json(r, kv[1].data_type())))
                    .collect(),
            )
        }
        DataType::Struct(fields) => V::Object(
            fields
                .iter()
                .map(|f| (f.name().clone(), random_json(r, f.data_type())))
                .collect(),
        ),
        other => panic!("unexpected {other}"),
    }
}

fn render(a: &dyn Array) -> Vec<Option<String>> {
    (0..a.len())
        .map(|i| engine_sql::format::value_to_string(a, i, &chrono_tz::Tz::UTC))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// `from_json(to_json(x)) == x` for random schemas and rows.
    #[test]
    fn from_json_inverts_to_json(seed in 1u64.., rows in 1usize..8) {
        let mut r = Rng(seed);
        let dt = random_struct(&mut r, 0);
        // The first values come from our decoder reading serde_json's text.
        let docs: Vec<String> = (0..rows)
            .map(|_| {
                let mut v = random_json(&mut r, &dt);
                if v.is_null() {
                    v = serde_json::json!({});
                }
                v.to_string()
            })
            .collect();
        let f = from_json_function(dt.clone(), &Options::default()).unwrap();
        let input = StringArray::from(docs.iter().map(|s| Some(s.as_str())).collect::<Vec<_>>());
        let x = f.decode(&input, chrono_tz::Tz::UTC).unwrap();
        prop_assert!(x.malformed.iter().all(|m| !m), "valid docs reported malformed: {docs:?}");
        let text = to_json_array(x.values.as_ref(), &JsonWriteOptions::try_default().unwrap(), chrono_tz::Tz::UTC).unwrap();
        let y = f.decode(&text, chrono_tz::Tz::UTC).unwrap();
        prop_assert_eq!(render(x.values.as_ref()), render(y.values.as_ref()), "docs {:?} -> {:?}", docs, text);
    }

    /// Arbitrary text never panics the decoder and never loses a row in PERMISSIVE mode.
    #[test]
    fn from_json_survives_garbage(texts in proptest::collection::vec(prop_oneof![
        ".*",
        "[\\[\\]{}\",:0-9a-z\\\\ .eE+-]{0,40}",
        Just(r#"{"a":1,"b":[{"c":"x"}]}"#.to_string()),
    ], 1..20), cut in 0usize..60) {
        let dt = parse_schema("a INT, b ARRAY<STRUCT<c: STRING, d: DOUBLE>>, m MAP<STRING, BIGINT>, t TIMESTAMP, _corrupt_record STRING").unwrap();
        let f = from_json_function(dt, &Options::default()).unwrap();
        let mut docs = texts.clone();
        // Truncated valid documents reach the parser's deeper error paths.
        docs.push(r#"{"a":1,"b":[{"c":"x","d":2.5}],"m":{"k":1},"t":"2024-01-01"}"#.chars().take(cut).collect());
        let input = StringArray::from(docs.iter().map(|s| Some(s.as_str())).collect::<Vec<_>>());
        let out = f.decode(&input, chrono_tz::Tz::UTC).unwrap();
        prop_assert_eq!(out.values.len(), docs.len());
        let s = out.values.as_struct();
        for (i, bad) in out.malformed.iter().enumerate() {
            if *bad {
                // The raw text is kept for every malformed row.
                let corrupt = s.column_by_name("_corrupt_record").unwrap().as_string::<i32>();
                prop_assert_eq!(corrupt.value(i), docs[i].as_str());
            }
        }
    }
}

#[test]
fn dropmalformed_parses_once() {
    let spark = spark();
    let df = values(&spark, &[Some(r#"{"a":1}"#), Some("bad")])
        .select(vec![
            col("value"),
            from_json_with_options(col("value"), "a INT", &[("mode", "DROPMALFORMED")]).alias("j"),
        ])
        .unwrap()
        .filter(col("j.a").gt(lit(0)))
        .unwrap();
    let plan = df.explain_string(true).unwrap();
    let physical = plan.split("== Physical Plan ==").nth(1).unwrap();
    assert_eq!(physical.matches("from_json(").count(), 1, "{plan}");
    let a = df.select(vec![col("value"), col("j.a")]).unwrap();
    assert_eq!(strings(&a), vec![vec![r#"{"a":1}"#, "1"]]);
}

#[test]
fn optimizer_keeps_generated_filters_above_and_prunes_below() {
    let spark = spark();
    let df = spark
        .sql("SELECT * FROM VALUES (1, 'x', array(10, 20)), (2, 'y', array(30)) AS t(k, u, a)")
        .unwrap()
        .select(vec![col("k"), explode(col("a")).alias("v")])
        .unwrap()
        .filter(col("v").gt(lit(10)).and(col("k").eq(lit(1))))
        .unwrap();
    let plan = df.optimized_plan().unwrap().display_tree();
    let generate = plan.find("Generate").expect("a Generate node");
    // The filter on the generated column stays above the generator, the one on `k` moves
    // below it, and the unused column is not carried into the generator.
    let above = &plan[..generate];
    let below = &plan[generate..];
    assert!(
        above.contains("(v > 10)") || above.contains("v > 10"),
        "{plan}"
    );
    // `k = 1` went below (into the VALUES rows, where it folds: row 2 becomes `Limit: 0`).
    assert!(
        !above.contains("= 1") && below.contains("Limit: 0"),
        "{plan}"
    );
    assert!(!below.contains("AS u"), "{plan}");
    assert_eq!(strings(&df), vec![vec!["1", "20"]]);
}

#[test]
fn explode_through_with_column_and_select_expr() {
    let spark = spark();
    let df = spark.sql("SELECT 1 AS k, array('a', 'b') AS xs").unwrap();
    let w = df.with_column("x", explode(col("xs"))).unwrap();
    assert_eq!(
        strings(&w.select_cols(&["k", "x"]).unwrap()),
        vec![vec!["1", "a"], vec!["1", "b"]]
    );
    let s = df.select_expr(&["k", "posexplode(xs) AS (p, x)"]).unwrap();
    assert_eq!(strings(&s), vec![vec!["1", "0", "a"], vec!["1", "1", "b"]]);
}
