//! `sstream produce` and `sstream consume` against a Kafka-protocol broker reached over TCP
//! (librdkafka's mock cluster hosted by this test process).

#![allow(clippy::unwrap_used)]

mod common;
use common::{broker_with_topic, sstream_ok};

#[test]
fn produce_csv_rows_as_json_then_consume_them() {
    let (_broker, servers) = broker_with_topic("people", 1);
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    std::fs::write(&csv, "id,name,age\n1,ann,34\n2,bob,\n3,cy,7\n").unwrap();

    sstream_ok(&[
        "produce",
        "--bootstrap-servers",
        &servers,
        "--topic",
        "people",
        "--csv",
        csv.to_str().unwrap(),
        "--header",
        "--key-column",
        "id",
    ]);
    let o = sstream_ok(&[
        "consume",
        "--bootstrap-servers",
        &servers,
        "--topic",
        "people",
        "--max",
        "3",
    ]);
    let lines: Vec<String> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    // partition, offset, key, value; types inferred (age INT), nulls left out as Spark's
    // to_json does.
    assert_eq!(
        lines,
        vec![
            "0\t0\t1\t{\"id\":1,\"name\":\"ann\",\"age\":34}",
            "0\t1\t2\t{\"id\":2,\"name\":\"bob\"}",
            "0\t2\t3\t{\"id\":3,\"name\":\"cy\",\"age\":7}",
        ]
    );
}

#[test]
fn produce_json_lines_verbatim_with_a_rate() {
    let (_broker, servers) = broker_with_topic("raw", 2);
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("e.json");
    std::fs::write(
        &jsonl,
        "{\"k\":\"a\",\"v\":1}\nnot json\n{\"k\":\"b\",\"v\":2}\n",
    )
    .unwrap();
    sstream_ok(&[
        "produce",
        "--bootstrap-servers",
        &servers,
        "--topic",
        "raw",
        "--jsonl",
        jsonl.to_str().unwrap(),
        "--key-column",
        "k",
        "--rate",
        "1000",
    ]);
    let o = sstream_ok(&[
        "consume",
        "--bootstrap-servers",
        &servers,
        "--topic",
        "raw",
        "--max",
        "3",
        "--isolation",
        "read_committed",
    ]);
    let mut values: Vec<String> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| l.splitn(4, '\t').skip(2).collect::<Vec<_>>().join("|"))
        .collect();
    values.sort();
    assert_eq!(
        values,
        vec![
            "a|{\"k\":\"a\",\"v\":1}",
            "b|{\"k\":\"b\",\"v\":2}",
            "null|not json"
        ]
    );
}
