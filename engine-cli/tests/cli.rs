//! The real `sstream` binary: happy paths, output formats, errors and exit codes.

#![allow(clippy::unwrap_used)]

use std::process::Output;

mod common;
use common::sstream;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn sql_prints_spark_table() {
    let o = sstream(&[
        "sql",
        "-e",
        "SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, NULL",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut lines: Vec<String> = stdout(&o).lines().map(str::to_string).collect();
    // Row order of a union is by input; keep the assertion exact.
    assert_eq!(lines.remove(0), "+---+----+");
    assert_eq!(lines.remove(0), "|  a|   b|");
    assert_eq!(lines.remove(0), "+---+----+");
    assert_eq!(lines.remove(0), "|  1|   x|");
    assert_eq!(lines.remove(0), "|  2|NULL|");
    assert_eq!(lines.remove(0), "+---+----+");
}

#[test]
fn sql_csv_output_and_several_statements() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("t.csv");
    std::fs::write(&data, "id,name\n1,ann\n2,\"b,ob\"\n").unwrap();
    let sql = format!(
        "CREATE TEMPORARY VIEW t USING csv OPTIONS (path '{}', header 'true', inferSchema 'true'); \
         SELECT name, id * 10 AS x FROM t ORDER BY id",
        data.display()
    );
    let o = sstream(&["sql", "--output", "csv", "-e", &sql]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "name,x\nann,10\n\"b,ob\",20\n");
}

#[test]
fn sql_from_file_with_conf() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("q.sql");
    std::fs::write(&f, "-- a comment\nSELECT CAST('abc' AS INT) AS v;\n").unwrap();
    let o = sstream(&[
        "sql",
        "--conf",
        "spark.sql.ansi.enabled=false",
        "--output",
        "csv",
        "-f",
        f.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "v\n\n");
}

#[test]
fn errors_go_to_stderr_with_exit_code_1() {
    let o = sstream(&["sql", "-e", "SELECT nme FROM (SELECT 1 AS name)"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    let err = stderr(&o);
    assert!(err.contains("[UNRESOLVED_COLUMN.WITH_SUGGESTION]"), "{err}");
    assert!(err.contains("`name`"), "{err}");
    let o = sstream(&["sql", "-e", "SELECT CAST('abc' AS INT)"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("[CAST_INVALID_INPUT]"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn missing_sql_is_a_usage_error() {
    let o = sstream(&["sql"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("-e"), "{}", stderr(&o));
}

#[test]
fn gen_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.csv");
    for p in [&a, &b] {
        let o = sstream(&[
            "gen",
            "orders",
            "--rows",
            "50",
            "--seed",
            "3",
            "--out",
            p.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn demo_exits_zero_with_a_summary() {
    let o = sstream(&["demo", "--events", "2000", "--duration", "1 second"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let value_of = |label: &str| -> String {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no `{label}` in\n{out}"));
        line[line.find(':').unwrap() + 1..].trim().to_string()
    };
    assert_eq!(value_of("events produced to `orders`"), "2000");
    // Every produced record reached the pipeline exactly once...
    assert!(
        value_of("rows read by the pipeline").starts_with("2000 in "),
        "{out}"
    );
    // ...malformed ones were kept, not dropped...
    let malformed: u64 = value_of("malformed records").parse().unwrap();
    assert!((1..100).contains(&malformed), "{out}");
    // ...and what the sink counted is exactly what a read_committed consumer sees.
    let written = value_of("item rows written to `items`");
    let (sent, read_back) = written
        .split_once(" (read back with read_committed: ")
        .unwrap();
    assert_eq!(format!("{sent})"), read_back, "{out}");
    assert!(
        out.contains("Batch: 0"),
        "the console sink printed nothing:\n{out}"
    );
    assert!(out.contains("A sample of `items`"), "{out}");
}

#[test]
fn help_lists_commands() {
    let o = sstream(&["--help"]);
    assert!(o.status.success());
    let out = stdout(&o);
    for cmd in ["sql", "demo", "gen"] {
        assert!(out.contains(cmd), "{out}");
    }
}

#[test]
fn sql_json_output_follows_spark() {
    let o = sstream(&[
        "sql",
        "--output",
        "json",
        "--conf",
        "spark.sql.session.timeZone=UTC",
        "-e",
        "SELECT 1 AS a, CAST(NULL AS STRING) AS b, TIMESTAMP '2020-01-01 10:00:00' AS t, 1.5D AS d",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "{\"a\":1,\"t\":\"2020-01-01T10:00:00.000Z\",\"d\":1.5}\n"
    );
}
