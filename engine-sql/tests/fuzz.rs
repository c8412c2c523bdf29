//! Fuzz targets for everything that reads text a user (or a Kafka record) supplies: the
//! date, timestamp, zone and interval parsers, CAST from STRING to every type, the JSON
//! decoder (`from_json` in each mode, `from_csv`), the CSV and JSON file readers, SQL text
//! (parse, analyze, plan) and function calls on extreme arguments. The property of each:
//! a value or an error, never a panic and never a hang.
//!
//! `cargo test -p engine-sql --test fuzz` runs each target for a fixed number of cases (CI);
//! `cargo xtask fuzz [--minutes N] [target]` runs them for minutes. Inputs a run found are
//! kept as regression tests in the modules they broke.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use arrow::datatypes::{DataType, TimeUnit};
use chrono_tz::Tz;
use engine_core::datetime_text;
use engine_core::expr::CastMode;
use engine_core::expr::columnar::ColumnarValue;
use engine_core::functions::FunctionContext;
use engine_core::functions::ScalarFunction;
use engine_core::functions::cast::cast_array;
use engine_core::functions::datetime_format::DateTimePattern;
use engine_core::functions::json::csv::from_csv_function;
use engine_core::functions::json::{from_json_function, parse_schema};
use engine_core::options::Options;
use engine_core::testing::fuzz::{Target, mutated};
use engine_sql::prelude::*;
use proptest::prelude::*;

/// Timestamp, date and zone texts Spark accepts or rejects in interesting ways.
const DATETIME_SEEDS: &[&str] = &[
    "2024-01-01 10:00:00",
    "2024-01-01T10:00:00.123456789Z",
    "  2024-1-1 1:2:3  ",
    "2024-01-01 10:00:00+05:30",
    "2024-01-01 10:00:00+0530",
    "2024-01-01 10:00:00 Europe/Paris",
    "2024-01-01 10:00:00GMT+5:3",
    "2024-01-01 10:00:00 UTC+05:30:15",
    "-0044-03-15 12:00:00",
    "+294247-01-10 04:00:54.775807",
    "1234567-12-31",
    "T10:00:00",
    "10:00",
    "2024-03-31 02:30:00 PST",
    "2024-01-01 10:00:00+aéb",
    "1 hour 30 minutes",
    "interval 1.5 seconds",
    "yyyy-MM-dd HH:mm:ss.SSSXXX",
    "dd/MMM/yyyy'T'HH VV",
];

fn spark() -> Session {
    Session::builder()
        .master("local[1]")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .build()
        .unwrap()
}

fn contexts() -> [FunctionContext; 2] {
    let ansi = FunctionContext {
        time_zone: chrono_tz::America::Los_Angeles,
        ansi: true,
        query_start_micros: 1_700_000_000_000_000,
        ..FunctionContext::default()
    };
    let legacy = FunctionContext {
        time_zone: Tz::UTC,
        ansi: false,
        ..ansi.clone()
    };
    [ansi, legacy]
}

#[test]
fn datetime_and_interval_text() {
    let zones = [Tz::UTC, chrono_tz::Europe::Paris, chrono_tz::Pacific::Apia];
    Target::new("datetime_and_interval_text", 20000).run(mutated(DATETIME_SEEDS), |text| {
        for tz in &zones {
            for now in [0, i64::MAX, i64::MIN, 1_700_000_000_000_000] {
                datetime_text::parse_timestamp(&text, tz, now);
                datetime_text::parse_reader_timestamp(&text, tz, now);
            }
        }
        datetime_text::parse_timestamp_ntz(&text, true);
        datetime_text::parse_timestamp_ntz(&text, false);
        datetime_text::parse_date(&text);
        datetime_text::parse_reader_date(&text);
        datetime_text::parse_zone_id(&text);
        datetime_text::zone::parse_offset(&text);
        let _ = engine_core::interval::parse_interval(&text);
        let _ = engine_core::interval::parse_interval_micros(&text);
        let _ = engine_core::format::parse_time_zone(&text);
        if let Ok(p) = DateTimePattern::new(&text) {
            for seed in DATETIME_SEEDS {
                p.parse_micros(seed, &Tz::UTC);
            }
            let mut out = String::new();
            for micros in [0, -1, i64::MAX, i64::MIN, 253_402_300_799_999_999] {
                p.format_micros(micros, &chrono_tz::Asia::Kolkata, &mut out);
            }
        }
        Ok(())
    });
}

/// Every type a STRING can be cast to.
fn cast_targets() -> Vec<DataType> {
    vec![
        DataType::Boolean,
        DataType::Int8,
        DataType::Int16,
        DataType::Int32,
        DataType::Int64,
        DataType::Float32,
        DataType::Float64,
        DataType::Decimal128(10, 2),
        DataType::Decimal128(38, 0),
        DataType::Decimal128(38, 38),
        DataType::Decimal128(1, 1),
        DataType::Date32,
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        DataType::Timestamp(TimeUnit::Microsecond, None),
        DataType::Binary,
        DataType::Utf8,
    ]
}

const NUMBER_SEEDS: &[&str] = &[
    "0",
    "-1",
    " 127 ",
    "2147483648",
    "-9223372036854775808",
    "99999999999999999999999999999999999999",
    "1.5e308",
    "-1.7976931348623157E309",
    "NaN",
    "-Infinity",
    "1e-400",
    "1e-2147483648",
    "1e2147483647",
    "0.000000000000000000000000000000000000001",
    "12.345d",
    "1_000",
    "true",
    "yes",
    "2024-01-01",
    "2024-01-01 10:00:00+05:30",
];

#[test]
fn cast_string_to_every_type() {
    let texts = proptest::collection::vec(
        proptest::option::weighted(0.9, mutated(&[NUMBER_SEEDS, DATETIME_SEEDS].concat())),
        1..6,
    );
    let targets = cast_targets();
    let contexts = contexts();
    Target::new("cast_string_to_every_type", 3000).run(texts, |texts| {
        let input: ArrayRef = Arc::new(StringArray::from(texts));
        for to in &targets {
            for (mode, ctx) in [
                (CastMode::Ansi, &contexts[0]),
                (CastMode::Legacy, &contexts[1]),
                (CastMode::Try, &contexts[0]),
            ] {
                if let Ok(out) = cast_array(&input, to, mode, ctx) {
                    prop_assert_eq!(out.len(), input.len());
                    // And back to text, as `show` would print it.
                    let _ = cast_array(&out, &DataType::Utf8, CastMode::Legacy, ctx);
                }
            }
        }
        Ok(())
    });
}

const JSON_SEEDS: &[&str] = &[
    r#"{"i":1,"l":9223372036854775807,"d":1.5,"f":1e39,"dec":123.456,"b":true,"s":"x","t":"2024-01-01T10:00:00Z","dt":"2024-01-01","a":[1,2],"m":{"k":1},"st":{"x":[{"y":"z"}]}}"#,
    r#"{"i":2147483648,"l":1e400,"d":-1e400,"dec":1e40,"t":"2024-01-01 10:00:00+aéb","dt":"123","ntz":"10:00"}"#,
    r#"{"i":"1","d":"NaN","f":"Infinity","t":1700000000,"dt":"+1234567-01-01","a":{},"m":[],"st":5}"#,
    r#"[{"i":1},{"i":2}]"#,
    r#"{"s":"\ud83d\ude00\u00e9\"\\","i":-0,"d":.5,"l":00012}"#,
    r#"{'s':'single', /* c */ unquoted: 1, "i": NaN}"#,
    "{\"a\":[[[[[[[[[[[[1]]]]]]]]]]]]}",
    r#"{"i":1,"i":2,"m":{"k":null,"k":3}}"#,
];

const JSON_SCHEMA: &str = "i INT, l BIGINT, d DOUBLE, f FLOAT, dec DECIMAL(10, 3), b BOOLEAN, s STRING, t TIMESTAMP, ntz TIMESTAMP_NTZ, dt DATE, a ARRAY<INT>, m MAP<STRING, BIGINT>, st STRUCT<x: ARRAY<STRUCT<y: STRING>>>, _corrupt_record STRING";

#[test]
fn from_json_and_from_csv_in_every_mode() {
    let texts =
        proptest::collection::vec(proptest::option::weighted(0.95, mutated(JSON_SEEDS)), 1..5);
    let options = (
        any::<[bool; 4]>(),
        proptest::sample::select(vec![
            None,
            Some("yyyy-MM-dd HH:mm"),
            Some("dd/MM/yyyy"),
            Some("yyyyyyyyyy"),
        ]),
    );
    let schema = parse_schema(JSON_SCHEMA).unwrap();
    let csv_schema = parse_schema(
        "a INT, b DOUBLE, c DATE, d TIMESTAMP, e DECIMAL(5, 2), f STRING, _corrupt_record STRING",
    )
    .unwrap();
    let [ctx, _] = contexts();
    Target::new("from_json_and_from_csv_in_every_mode", 3000).run(
        (texts, options),
        |(texts, (flags, format))| {
            let n = texts.len();
            let input = ColumnarValue::Array(Arc::new(StringArray::from(texts)));
            for mode in ["PERMISSIVE", "FAILFAST", "DROPMALFORMED"] {
                let mut pairs = vec![
                    ("mode", mode.to_string()),
                    ("allowComments", flags[0].to_string()),
                    ("allowUnquotedFieldNames", flags[1].to_string()),
                    ("allowNumericLeadingZeros", flags[2].to_string()),
                    ("allowBackslashEscapingAnyCharacter", flags[3].to_string()),
                ];
                if let Some(f) = format {
                    pairs.push(("timestampFormat", f.to_string()));
                    pairs.push(("dateFormat", f.to_string()));
                }
                let o = Options::new(pairs.iter().map(|(k, v)| (*k, v.clone())));
                if let Ok(mut f) = from_json_function(schema.clone(), &o) {
                    f.marked = mode == "DROPMALFORMED";
                    if let Ok(out) = f.invoke(std::slice::from_ref(&input), n, &ctx) {
                        prop_assert_eq!(out.to_array(n).unwrap().len(), n);
                    }
                }
                if let Ok(f) = from_csv_function(csv_schema.clone(), &o) {
                    let _ = f.invoke(std::slice::from_ref(&input), n, &ctx);
                }
            }
            Ok(())
        },
    );
}

const CSV_SEEDS: &[&str] = &[
    "a,b,c,d,e,f\n1,2.5,2024-01-01,2024-01-01 10:00:00,1.25,x\n",
    "1,\"quoted, comma\",2024-13-01,2024-01-01T10:00:00+aéb,999.999,\"multi\nline\"\n",
    "2147483648,NaN,123,10:00,-1e3,\n,,,,,\n",
    "\"unterminated,1,2\n3,4\n",
    "# comment\n\u{feff}1;2;3\n",
];

#[test]
fn csv_and_json_file_readers() {
    let dir = tempfile::tempdir().unwrap();
    let spark = spark();
    let data = prop_oneof![
        3 => mutated(&[CSV_SEEDS, JSON_SEEDS].concat()).prop_map(String::into_bytes),
        1 => proptest::collection::vec(any::<u8>(), 0..200),
    ];
    let modes = proptest::sample::select(vec!["PERMISSIVE", "FAILFAST", "DROPMALFORMED"]);
    let case = std::cell::Cell::new(0u64);
    Target::new("csv_and_json_file_readers", 600).run((data, modes, any::<[bool; 3]>()), |(data, mode, flags)| {
        case.set(case.get() + 1);
        let path = dir.path().join(format!("case-{}", case.get()));
        std::fs::write(&path, &data).unwrap();
        let path = path.display().to_string();
        let flag = |b: bool| if b { "true" } else { "false" };
        let reads = [
            spark
                .read()
                .format("csv")
                .option("mode", mode)
                .option("header", flag(flags[0]))
                .option("multiLine", flag(flags[1]))
                .schema_ddl("a INT, b DOUBLE, c DATE, d TIMESTAMP, e DECIMAL(5, 2), f STRING, _corrupt_record STRING")
                .and_then(|r| r.load(&path)),
            spark
                .read()
                .format("csv")
                .option("mode", mode)
                .option("inferSchema", "true")
                .option("header", flag(flags[0]))
                .option("sep", if flags[2] { ";" } else { "," })
                .load(&path),
            spark
                .read()
                .format("json")
                .option("mode", mode)
                .option("multiLine", flag(flags[1]))
                .schema_ddl(JSON_SCHEMA)
                .and_then(|r| r.load(&path)),
            spark
                .read()
                .format("json")
                .option("mode", mode)
                .option("multiLine", flag(flags[1]))
                .load(&path),
        ];
        for df in reads.into_iter().flatten() {
            let _ = df.collect();
        }
        std::fs::remove_file(&path).ok();
        Ok(())
    });
}

/// Pieces of Spark SQL: keywords, names of the test view's columns, functions, literals
/// and punctuation, strung together at random (and mutated real queries).
fn sql_tokens() -> Vec<String> {
    let mut t: Vec<String> = [
        "SELECT",
        "FROM",
        "WHERE",
        "GROUP BY",
        "ORDER BY",
        "HAVING",
        "LIMIT",
        "AS",
        "JOIN",
        "ON",
        "LEFT",
        "UNION",
        "ALL",
        "DISTINCT",
        "CASE",
        "WHEN",
        "THEN",
        "ELSE",
        "END",
        "AND",
        "OR",
        "NOT",
        "IN",
        "IS",
        "NULL",
        "LIKE",
        "BETWEEN",
        "CAST",
        "TRY_CAST",
        "INTERVAL",
        "DATE",
        "TIMESTAMP",
        "X",
        "LATERAL VIEW",
        "explode",
        "WITH",
        "OVER",
        "t",
        "k",
        "v",
        "s",
        "ts",
        "arr",
        "m",
        "*",
        ",",
        "(",
        ")",
        "[",
        "]",
        ".",
        "+",
        "-",
        "/",
        "%",
        "=",
        "<",
        ">",
        "<=",
        "!=",
        "||",
        "::",
        "'2024-01-01'",
        "'x'",
        "'é'",
        "X'é0'",
        "X'0'",
        "1",
        "0",
        "-1",
        "2147483647",
        "9223372036854775807",
        "1e308",
        "1.5BD",
        "NULL",
        "true",
        "INT",
        "BIGINT",
        "STRING",
        "DECIMAL(38, 38)",
        "ARRAY<INT>",
        "MAP<STRING, INT>",
        "STRUCT<a: INT>",
        "DAY",
        "HOUR",
        "'1 day'",
        ";",
        "`",
        "\"",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    t.extend(engine_core::functions::registry::all_names());
    t
}

const SQL_SEEDS: &[&str] = &[
    "SELECT k, window.start FROM t WATERMARK ts DELAY OF INTERVAL 10 MINUTES a GROUP BY k, window(ts, '5 minutes')",
    "SELECT * FROM (SELECT * FROM t) WATERMARK CAST(s AS TIMESTAMP) AS e DELAY OF INTERVAL '1' HOUR JOIN STREAM(t) b ON b.k = k",
    "SELECT k, count(*), sum(v) FROM t GROUP BY k ORDER BY k",
    "SELECT s, upper(s), length(s), substr(s, 2, 3) FROM t WHERE v > 1",
    "SELECT explode(arr) AS x, m['a'] FROM t",
    "SELECT CAST(s AS TIMESTAMP), date_add(ts, v), ts + INTERVAL '1' DAY FROM t",
    "SELECT a.k FROM t a JOIN t b ON a.k = b.k LEFT JOIN t c ON c.v = a.v",
    "WITH x AS (SELECT * FROM t) SELECT * FROM x UNION ALL SELECT * FROM t",
    "SELECT from_json(s, 'a INT'), to_json(named_struct('a', k)) FROM t",
];

#[test]
fn sql_text_parse_analyze_plan() {
    let spark = spark();
    spark
        .sql("CREATE TEMPORARY VIEW t AS SELECT * FROM VALUES (1, 2, 'abc', TIMESTAMP '2024-01-01 00:00:00', array(1, 2), map('a', 1)) AS t(k, v, s, ts, arr, m)")
        .unwrap();
    let ctx = spark.task_context().unwrap();
    let tokens = sql_tokens();
    let soup = proptest::collection::vec(proptest::sample::select(tokens), 1..24)
        .prop_map(|ts| ts.join(" "));
    let text = prop_oneof![1 => soup, 1 => mutated(SQL_SEEDS)];
    Target::new("sql_text_parse_analyze_plan", 3000).run(text, |text| {
        if let Ok(df) = spark.sql(&text) {
            let _ = df.physical_plan(&ctx);
        }
        Ok(())
    });
}

/// Arguments at the edges: extreme numbers, empty and non-ASCII text, NULL, dates and
/// timestamps at the ends of their ranges, nested values.
const ARGS: &[&str] = &[
    "NULL",
    "0",
    "-1",
    "1",
    "2147483647",
    "-2147483648",
    "9223372036854775807",
    "-9223372036854775808",
    "1100000000",
    "CAST(-128 AS TINYINT)",
    "1e308",
    "-0.0",
    "CAST('NaN' AS DOUBLE)",
    "99999999999999999999999999999999999999BD",
    "0.00000000000000000000000000000000000001BD",
    "''",
    "'ab'",
    "'é😀'",
    "'%'",
    "'\\\\'",
    "'yyyy-MM-dd'",
    "'a,b'",
    "'{\"a\":1}'",
    "DATE '0001-01-01'",
    "DATE '9999-12-31'",
    "CAST(2147483647 AS DATE)",
    "TIMESTAMP '2024-01-01 10:00:00'",
    "CAST(9223372036854775807 AS TIMESTAMP)",
    "X'00ff'",
    "array(1, NULL, 3)",
    "array()",
    "map('k', 1)",
    "named_struct('a', 1)",
    "INTERVAL '1' DAY",
];

/// Functions whose result grows with an integer argument, and the arguments that would make
/// it legal but gigabytes large.
const SIZED: &[&str] = &[
    "lpad",
    "rpad",
    "repeat",
    "space",
    "sequence",
    "array_repeat",
];
const HUGE: &[&str] = &["2147483647", "1100000000", "-2147483648"];

#[test]
fn function_calls_on_edge_arguments() {
    let spark = spark();
    let names = engine_core::functions::registry::all_names();
    let call = (
        proptest::sample::select(names),
        proptest::collection::vec(proptest::sample::select(ARGS.to_vec()), 0..4),
        any::<bool>(),
    );
    Target::new("function_calls_on_edge_arguments", 5000).run(call, |(name, args, ansi)| {
        // A legal result of a GiB or two (lpad to i32::MAX characters) is slow, not a bug;
        // the size errors past the limit are pinned by the functions' unit tests.
        if SIZED.contains(&name.as_str()) && args.iter().any(|a| HUGE.contains(a)) {
            return Ok(());
        }
        spark
            .sql(&format!("SET spark.sql.ansi.enabled = {ansi}"))
            .unwrap();
        let text = format!("SELECT {name}({})", args.join(", "));
        if let Ok(df) = spark.sql(&text) {
            let _ = df.collect();
        }
        Ok(())
    });
}
