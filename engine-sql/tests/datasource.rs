//! End-to-end tests of the file sources through the DataFrame API.

#![allow(clippy::unwrap_used)] // helpers of tests: a failed unwrap is a failed test

use engine_sql::prelude::*;

fn spark() -> Session {
    Session::builder()
        .master("local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .build()
        .unwrap()
}

fn write(dir: &std::path::Path, name: &str, content: &str) -> String {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, content).unwrap();
    p.display().to_string()
}

#[test]
fn csv_read_show_count_explain() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "people.csv",
        "name,age\nAnn,34\nBob,19\nCid,51\n",
    );
    let df = spark()
        .read()
        .format("csv")
        .option("header", "true")
        .option("inferSchema", "true")
        .load(&path)
        .unwrap();
    assert_eq!(df.columns().unwrap(), ["name", "age"]);
    assert_eq!(df.count().unwrap(), 3);
    // Column selection and filters go through expression compilation, which lands
    // separately; the scan itself is exercised here.
    let out = df.show_string(20, 20).unwrap();
    assert!(out.contains("Ann") && out.contains("51"), "{out}");
    let plan = df.explain_string(false).unwrap();
    assert!(plan.contains("FileScan csv"), "{plan}");
}

#[test]
fn partitioned_json_directory() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "t/year=2023/a.json", "{\"v\":1}\n{\"v\":2}\n");
    write(dir.path(), "t/year=2024/b.json", "{\"v\":3}\n");
    write(dir.path(), "t/_SUCCESS", "");
    let df = spark()
        .read()
        .json(&dir.path().join("t").display().to_string())
        .unwrap();
    assert_eq!(df.columns().unwrap(), ["v", "year"]);
    assert_eq!(df.count().unwrap(), 3);
    let out = df.show_string(20, 20).unwrap();
    assert!(out.contains("2024") && out.contains("2023"), "{out}");
}

#[test]
fn write_then_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "in.csv", "k,v\na,1\nb,2\na,3\n");
    let s = spark();
    let df = s
        .read()
        .option("header", "true")
        .option("inferSchema", "true")
        .csv(&src)
        .unwrap();
    let out = dir.path().join("out").display().to_string();
    df.write()
        .partition_by(["k"])
        .mode("overwrite")
        .parquet(&out)
        .unwrap();
    let back = s.read().parquet(&out).unwrap();
    assert_eq!(back.columns().unwrap(), ["v", "k"]);
    assert_eq!(back.count().unwrap(), 3);
    let e = df.write().parquet(&out).unwrap_err().to_string();
    assert!(e.starts_with("[PATH_ALREADY_EXISTS] Path file:"), "{e}");
    df.write()
        .mode("append")
        .format("json")
        .save(&dir.path().join("j").display().to_string())
        .unwrap();
    assert_eq!(
        s.read()
            .json(&dir.path().join("j").display().to_string())
            .unwrap()
            .count()
            .unwrap(),
        3
    );
}

#[test]
fn errors_are_spark_like() {
    let s = spark();
    let e = s
        .read()
        .csv("/definitely/not/here.csv")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "[PATH_NOT_FOUND] Path does not exist: file:/definitely/not/here.csv. SQLSTATE: 42K03"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "x.csv", "1\n");
    let e = s.read().format("avro").load(&path).unwrap_err().to_string();
    assert!(
        e.contains("avro")
            && e.contains("csv, json, noop, parquet, state-metadata, statestore, text"),
        "{e}"
    );
    let e = s
        .read()
        .option("mode", "lenient")
        .csv(&path)
        .unwrap_err()
        .to_string();
    assert!(e.contains("`mode`") && e.contains("FAILFAST"), "{e}");
}

#[test]
fn filter_and_project_over_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "people.csv",
        "name,age\nAnn,34\nBob,19\nCid,51\n",
    );
    let s = spark();
    let df = s
        .read()
        .option("header", "true")
        .option("inferSchema", "true")
        .csv(&path)
        .unwrap();
    let adults = df.filter(col("age").gt(lit(20))).unwrap();
    assert_eq!(adults.count().unwrap(), 2);
    let out = adults
        .select(vec![col("name")])
        .unwrap()
        .show_string(20, 20)
        .unwrap();
    assert!(
        out.contains("Ann") && out.contains("Cid") && !out.contains("Bob"),
        "{out}"
    );

    // Partition columns filter like any other column.
    write(dir.path(), "t/year=2023/a.json", "{\"v\":1}\n{\"v\":2}\n");
    write(dir.path(), "t/year=2024/b.json", "{\"v\":3}\n");
    let t = s
        .read()
        .json(&dir.path().join("t").display().to_string())
        .unwrap();
    let n = t
        .filter(col("year").eq(lit(2024)))
        .unwrap()
        .count()
        .unwrap();
    assert_eq!(n, 1);
    let plan = t
        .filter(col("year").eq(lit(2024)))
        .unwrap()
        .explain_string(false)
        .unwrap();
    assert!(plan.contains("FileScan json"), "{plan}");
}

#[test]
fn parquet_filters_and_columns_reach_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let s = spark();
    let mut csv = String::from("id,name\n");
    for i in 0..100 {
        csv.push_str(&format!("{i},n{i}\n"));
    }
    let src = write(dir.path(), "in.csv", &csv);
    let out = dir.path().join("pq").display().to_string();
    s.read()
        .option("header", "true")
        .option("inferSchema", "true")
        .csv(&src)
        .unwrap()
        .write()
        .option("parquet.block.rows", "10")
        .parquet(&out)
        .unwrap();
    let df = s
        .read()
        .parquet(&out)
        .unwrap()
        .filter(col("id").gt_eq(lit(95)))
        .unwrap()
        .select(vec![col("name")])
        .unwrap();
    let plan = df.explain_string(false).unwrap();
    assert!(
        plan.contains("PushedFilters: [GreaterThanOrEqual(id,95)]"),
        "{plan}"
    );
    assert_eq!(df.count().unwrap(), 5);
    let shown = df.show_string(20, 20).unwrap();
    assert!(
        shown.contains("n95") && shown.contains("n99") && !shown.contains("n94"),
        "{shown}"
    );
}

/// The scans under `plan` (a physical plan tree).
fn scans(
    plan: &engine_sql::physical::plan::ExecutionPlanRef,
    out: &mut Vec<engine_sql::physical::plan::ExecutionPlanRef>,
) {
    if plan.name() == "FileScan" {
        out.push(plan.clone());
    }
    for c in plan.children() {
        scans(&c, out);
    }
}

/// Whether the scan of `df` reads `name` as a dictionary.
fn scan_reads_dictionary(s: &Session, df: &DataFrame) -> bool {
    let ctx = s.task_context().unwrap();
    let plan = df.physical_plan(&ctx).unwrap();
    let mut found = Vec::new();
    scans(&plan, &mut found);
    assert_eq!(found.len(), 1);
    found[0]
        .schema()
        .fields()
        .iter()
        .any(|f| matches!(f.data_type(), arrow::datatypes::DataType::Dictionary(..)))
}

#[test]
fn group_by_dictionary_encoded_parquet_strings_matches_csv() {
    let dir = tempfile::tempdir().unwrap();
    let s = spark();
    let mut csv = String::from("id,name,qty\n");
    let names = ["apple", "", "pear", "fig", "kiwi", "plum", "lime"];
    for i in 0..200 {
        // Later row groups see fewer names, so their dictionaries differ.
        let name = names[(i * 7 + i / 50) % (names.len() - i / 60)];
        csv.push_str(&format!("{i},{name},{}\n", i % 9));
    }
    let src = write(dir.path(), "in.csv", &csv);
    let read_csv = || {
        s.read()
            .option("header", "true")
            .option("inferSchema", "true")
            .csv(&src)
            .unwrap()
    };
    let out = dir.path().join("pq").display().to_string();
    read_csv()
        .write()
        .option("parquet.block.rows", "23")
        .parquet(&out)
        .unwrap();
    read_csv().create_or_replace_temp_view("c").unwrap();
    s.read()
        .parquet(&out)
        .unwrap()
        .create_or_replace_temp_view("p")
        .unwrap();
    // (query, whether the Parquet scan may read `name` as a dictionary)
    let queries = [
        (
            "SELECT name, count(*), sum(qty), avg(id) FROM {t} GROUP BY name ORDER BY name NULLS FIRST",
            true,
        ),
        (
            "SELECT name, count(*) FROM {t} WHERE qty > 6 GROUP BY name ORDER BY name",
            true,
        ),
        (
            "SELECT n, max(q) FROM (SELECT name AS n, qty AS q FROM {t}) s GROUP BY n ORDER BY n",
            true,
        ),
        (
            "SELECT count(*), sum(n) FROM (SELECT name, count(*) AS n FROM {t} GROUP BY name)",
            true,
        ),
        ("SELECT DISTINCT name FROM {t} ORDER BY name", true),
        // Several keys or other uses of the column keep it a plain string.
        (
            "SELECT name, id % 2 AS odd, count(*) FROM {t} GROUP BY name, id % 2 ORDER BY name, odd",
            false,
        ),
        (
            "SELECT name, count(*) FROM {t} WHERE name <> 'fig' GROUP BY name ORDER BY name",
            false,
        ),
        (
            "SELECT name, max(name), count(*) FROM {t} GROUP BY name ORDER BY name",
            false,
        ),
        (
            "SELECT upper(name) AS u, count(*) FROM {t} GROUP BY upper(name) ORDER BY u",
            false,
        ),
        (
            "SELECT name, count(DISTINCT qty) FROM {t} GROUP BY name ORDER BY name",
            false,
        ),
    ];
    for (q, dictionary) in queries {
        let from_csv = s.sql(&q.replace("{t}", "c")).unwrap();
        let from_parquet = s.sql(&q.replace("{t}", "p")).unwrap();
        assert_eq!(scan_reads_dictionary(&s, &from_parquet), dictionary, "{q}");
        assert!(!scan_reads_dictionary(&s, &from_csv), "{q}");
        let expected = from_csv.show_string(100, 0).unwrap();
        assert_eq!(from_parquet.show_string(100, 0).unwrap(), expected, "{q}");
        assert!(expected.lines().count() > 4, "{expected}");
        // The plan says which columns the scan reads as dictionary codes.
        let plan = from_parquet.explain_string(false).unwrap();
        assert!(plan.contains("FileScan parquet"), "{plan}");
        assert_eq!(
            plan.contains("DictionaryColumns: [name]"),
            dictionary,
            "{q}\n{plan}"
        );
    }
}

#[test]
fn the_json_writer_writes_nested_values_as_spark_does() {
    // The very line PySpark 4.3 writes for this row (`df.write.json`, session zone UTC):
    // timestamps inside structs (a window) with milliseconds, doubles as Java prints them,
    // NULL fields left out, decimals with their scale.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out").display().to_string();
    spark()
        .sql(
            "SELECT TIMESTAMP '2024-03-05 14:07:09' AS t, \
             named_struct('a', TIMESTAMP '2024-03-05 14:07:09', 'd', 1e20, 'n', CAST(NULL AS INT)) AS s, \
             window(TIMESTAMP '2024-03-05 14:07:09', '10 minutes') AS w, 1.5D AS x, \
             CAST(NULL AS STRING) AS z, array(1.0E20D) AS a, DATE '2024-01-02' AS d, \
             CAST(1.50 AS DECIMAL(5,2)) AS dec",
        )
        .unwrap()
        .write()
        .json(&out)
        .unwrap();
    let mut text = String::new();
    for e in std::fs::read_dir(&out).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            text.push_str(&std::fs::read_to_string(p).unwrap());
        }
    }
    assert_eq!(
        text,
        "{\"t\":\"2024-03-05T14:07:09.000Z\",\"s\":{\"a\":\"2024-03-05T14:07:09.000Z\",\"d\":1.0E20},\
         \"w\":{\"start\":\"2024-03-05T14:00:00.000Z\",\"end\":\"2024-03-05T14:10:00.000Z\"},\
         \"x\":1.5,\"a\":[1.0E20],\"d\":\"2024-01-02\",\"dec\":1.50}\n"
    );
}

#[test]
fn the_csv_writer_writes_values_as_spark_does() {
    // The very lines PySpark 4.3 writes for this row (`df.write.option("header", "true")
    // .csv`, session zone UTC): ISO timestamps with milliseconds (zoned and NTZ), Java
    // doubles and floats, NULL as nothing, an empty string as `""`, values trimmed, quotes
    // escaped with a backslash, binary as Spark shows it, a header name quoted as a value.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out").display().to_string();
    spark()
        .sql(
            "SELECT TIMESTAMP '2024-03-05 14:07:09' AS t, 1e20 AS d, 1.5D AS x, \
             CAST(NULL AS STRING) AS z, DATE '2024-01-02' AS dt, CAST(1.50 AS DECIMAL(5,2)) AS dec, \
             'a,b' AS s, true AS b, '' AS e, ' pad ' AS p, 'say \"hi\"' AS q, \
             TIMESTAMP_NTZ '2024-01-02 03:04:05' AS ntz, 0.1F AS f, X'0102' AS bin, 'x,y' AS `c,d`",
        )
        .unwrap()
        .write()
        .option("header", "true")
        .csv(&out)
        .unwrap();
    let mut text = String::new();
    for e in std::fs::read_dir(&out).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "csv") {
            text.push_str(&std::fs::read_to_string(p).unwrap());
        }
    }
    assert_eq!(
        text,
        "t,d,x,z,dt,dec,s,b,e,p,q,ntz,f,bin,\"c,d\"\n2024-03-05T14:07:09.000Z,1.0E20,1.5,,\
         2024-01-02,1.50,\"a,b\",true,\"\",pad,\"say \\\"hi\\\"\",2024-01-02T03:04:05.000,0.1,\
         [01 02],\"x,y\"\n"
    );
}

#[test]
fn the_csv_writer_refuses_nested_columns_as_spark_does() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out").display().to_string();
    let e = spark()
        .sql("SELECT array(1) AS s")
        .unwrap()
        .write()
        .csv(&out)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("[UNSUPPORTED_DATA_TYPE_FOR_DATASOURCE] The CSV datasource doesn't support the column `s` of the type \"ARRAY<INT>\"."),
        "{e}"
    );
}
