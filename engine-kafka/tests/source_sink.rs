//! Source and sink against the broker process, driven through engine-core's traits exactly as
//! the streaming runtime drives them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::array::{Array, AsArray, Int32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use common::*;
use engine_core::connector::{Format, Offset, ReadLimit, Sink, Source, SourceContext};
use engine_core::options::Options;
use engine_kafka::KafkaFormat;
use engine_kafka::offsets::from_offset;
use engine_kafka::options::SourceOptions;
use engine_kafka::sink::KafkaSink;
use engine_kafka::source::KafkaSource;
use engine_kafka::testing::unique_topic;

fn source(opts: &[(&str, &str)], dir: &std::path::Path) -> KafkaSource {
    let o = SourceOptions::for_stream(&Options::new(opts.iter().copied())).unwrap();
    KafkaSource::new(o, dir.to_path_buf(), "q1").unwrap()
}

fn produce(bootstrap: &str, topic: &str, rows: std::ops::Range<usize>) {
    let sink = KafkaSink::new(&sink_ctx(
        &[("kafka.bootstrap.servers", bootstrap), ("topic", topic)],
        kv_schema(),
        None,
    ))
    .unwrap();
    write_batch(&sink, 0, &[kv_batch(rows)]);
}

#[test]
fn streaming_source_reads_what_the_sink_wrote_with_rate_limit_and_metrics() {
    let b = broker();
    let topic = unique_topic("src");
    b.create_topic(&topic, 3).unwrap();
    produce(&b.bootstrap, &topic, 0..300);
    let dir = tempfile::tempdir().unwrap();
    let mut src = source(
        &[
            ("kafka.bootstrap.servers", &b.bootstrap),
            ("subscribe", &topic),
            ("startingOffsets", "earliest"),
            ("maxOffsetsPerTrigger", "90"),
        ],
        dir.path(),
    );
    assert_eq!(src.description(), format!("KafkaV2[Subscribe[{topic}]]"));
    let start = src.initial_offset().unwrap();
    assert_eq!(
        start.json(),
        format!(r#"{{"{topic}":{{"0":0,"1":0,"2":0}}}}"#)
    );
    // The initial offset is written down: a new source instance agrees.
    let mut again = source(
        &[
            ("kafka.bootstrap.servers", &b.bootstrap),
            ("subscribe", &topic),
            ("startingOffsets", "latest"),
        ],
        dir.path(),
    );
    assert_eq!(again.initial_offset().unwrap(), start);

    let limit = src.default_read_limit();
    assert_eq!(limit, ReadLimit::MaxRows(90));
    let end = src.latest_offset(&start, &limit).unwrap();
    let total: i64 = from_offset(&end).unwrap().values().sum();
    // Proportional shares are floored, as Spark's are: at most 90, at most one short per
    // partition.
    assert!((87..=90).contains(&total), "{end}");
    let parts = src.plan_partitions(&start, &end).unwrap();
    let first = read_values(&parts);
    assert_eq!(first.len() as i64, total);
    let latest = from_offset(&src.report_latest_offset().unwrap()).unwrap();
    let behind: Vec<i64> = from_offset(&end)
        .unwrap()
        .iter()
        .map(|(tp, o)| latest[tp] - o)
        .collect();
    let m = src.metrics(Some(&end));
    assert_eq!(
        m["maxOffsetsBehindLatest"],
        behind.iter().max().unwrap().to_string()
    );
    assert_eq!(
        m["minOffsetsBehindLatest"],
        behind.iter().min().unwrap().to_string()
    );
    assert!(m.contains_key("avgOffsetsBehindLatest"));

    // The rest, all at once.
    let end2 = src.latest_offset(&end, &ReadLimit::AllAvailable).unwrap();
    let mut all = first;
    all.extend(read_values(&src.plan_partitions(&end, &end2).unwrap()));
    all.sort();
    let mut expected: Vec<String> = (0..300).map(|i| format!("v{i}")).collect();
    expected.sort();
    assert_eq!(all, expected);
    assert_eq!(src.metrics(Some(&end2))["minOffsetsBehindLatest"], "0");
    // Nothing new: the end is the start.
    assert_eq!(
        src.latest_offset(&end2, &ReadLimit::AllAvailable).unwrap(),
        end2
    );

    // Replaying a logged range reads the same rows again (pooled consumers re-seek).
    let replay = read_values(&src.plan_partitions(&start, &end).unwrap());
    assert_eq!(replay.len() as i64, total);
}

#[test]
fn batch_read_between_offsets_with_min_partitions_and_schema() {
    let b = broker();
    let topic = unique_topic("batch");
    b.create_topic(&topic, 2).unwrap();
    produce(&b.bootstrap, &topic, 0..100);
    let f = KafkaFormat;
    let opts = Options::new([
        ("kafka.bootstrap.servers", b.bootstrap.as_str()),
        ("assign", &format!(r#"{{"{topic}":[0,1]}}"#)),
        (
            "endingOffsets",
            &format!(r#"{{"{topic}":{{"0":10,"1":-1}}}}"#),
        ),
        ("minPartitions", "6"),
    ]);
    let schema = f.schema(&opts, None).unwrap();
    assert_eq!(
        schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>(),
        [
            "key",
            "value",
            "topic",
            "partition",
            "offset",
            "timestamp",
            "timestampType"
        ]
    );
    let parts = f.create_batch_scan(&opts, schema).unwrap();
    assert!(parts.len() >= 6, "{}", parts.len());
    let mut rows = 0;
    for p in &parts {
        for batch in p.read().unwrap() {
            let batch = batch.unwrap();
            let part = batch
                .column(3)
                .as_primitive::<arrow::datatypes::Int32Type>();
            let off = batch
                .column(4)
                .as_primitive::<arrow::datatypes::Int64Type>();
            for i in 0..batch.num_rows() {
                if part.value(i) == 0 {
                    assert!(off.value(i) < 10);
                }
            }
            assert_eq!(batch.column(2).as_string::<i32>().value(0), topic);
            assert_eq!(
                batch
                    .column(6)
                    .as_primitive::<arrow::datatypes::Int32Type>()
                    .value(0),
                0
            );
            rows += batch.num_rows();
        }
    }
    let all = read_values(
        &f.create_batch_scan(
            &Options::new([
                ("kafka.bootstrap.servers", b.bootstrap.as_str()),
                ("subscribe", topic.as_str()),
            ]),
            f.schema(&Options::default(), None).unwrap(),
        )
        .unwrap(),
    );
    assert_eq!(all.len(), 100);
    assert!((10..100).contains(&rows), "{rows}");
    // Batch reads refuse `latest` as a start.
    let e = f
        .create_batch_scan(
            &Options::new([
                ("kafka.bootstrap.servers", b.bootstrap.as_str()),
                ("subscribe", topic.as_str()),
                ("startingOffsets", "latest"),
            ]),
            f.schema(&Options::default(), None).unwrap(),
        )
        .unwrap_err();
    assert!(
        e.to_string().contains("starting offset can't be latest"),
        "{e}"
    );
}

#[test]
fn headers_partition_and_topic_columns_round_trip() {
    let b = broker();
    let topic = unique_topic("hdr");
    b.create_topic(&topic, 2).unwrap();
    let header_struct = DataType::Struct(
        vec![
            Field::new("key", DataType::Utf8, true),
            Field::new("value", DataType::Binary, true),
        ]
        .into(),
    );
    let schema = Arc::new(Schema::new(vec![
        Field::new("value", DataType::Utf8, true),
        Field::new("topic", DataType::Utf8, true),
        Field::new("partition", DataType::Int32, true),
        Field::new(
            "headers",
            DataType::List(Arc::new(Field::new("element", header_struct, true))),
            true,
        ),
    ]));
    let mut hb = arrow::array::ListBuilder::new(arrow::array::StructBuilder::from_fields(
        vec![
            Field::new("key", DataType::Utf8, true),
            Field::new("value", DataType::Binary, true),
        ],
        0,
    ))
    .with_field(Arc::new(Field::new(
        "element",
        DataType::Struct(
            vec![
                Field::new("key", DataType::Utf8, true),
                Field::new("value", DataType::Binary, true),
            ]
            .into(),
        ),
        true,
    )));
    for i in 0..4 {
        let s = hb.values();
        s.field_builder::<arrow::array::StringBuilder>(0)
            .unwrap()
            .append_value("h");
        s.field_builder::<arrow::array::BinaryBuilder>(1)
            .unwrap()
            .append_value(format!("x{i}").as_bytes());
        s.append(true);
        hb.append(true);
    }
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(vec!["a", "b", "c", "d"])),
            Arc::new(StringArray::from(vec![topic.as_str(); 4])),
            Arc::new(Int32Array::from(vec![Some(1), Some(1), None, Some(1)])),
            Arc::new(hb.finish()),
        ],
    )
    .unwrap();
    let sink = KafkaSink::new(&sink_ctx(
        &[("kafka.bootstrap.servers", &b.bootstrap)],
        schema,
        None,
    ))
    .unwrap();
    write_batch(&sink, 0, &[batch]);

    let dir = tempfile::tempdir().unwrap();
    let mut src = source(
        &[
            ("kafka.bootstrap.servers", &b.bootstrap),
            ("subscribePattern", &format!("{topic}|nomatch.*")),
            ("startingOffsets", "earliest"),
            ("includeHeaders", "true"),
        ],
        dir.path(),
    );
    assert_eq!(src.schema().fields().len(), 8);
    let start = src.initial_offset().unwrap();
    let end = src.latest_offset(&start, &ReadLimit::AllAvailable).unwrap();
    let offs = from_offset(&end).unwrap();
    assert!(offs.values().sum::<i64>() == 4);
    assert!(offs.iter().any(|(tp, o)| tp.partition == 1 && *o >= 3));
    let mut headers_seen = 0;
    for p in src.plan_partitions(&start, &end).unwrap() {
        for batch in p.read().unwrap() {
            let batch = batch.unwrap();
            let h = batch.column(7).as_list::<i32>();
            for i in 0..h.len() {
                let entry = h.value(i);
                let s = entry.as_struct();
                assert_eq!(s.column(0).as_string::<i32>().value(0), "h");
                headers_seen += 1;
            }
        }
    }
    assert_eq!(headers_seen, 4);
}

/// Rows without headers go to librdkafka in batch calls, one per run of rows with the same
/// topic: explicit partitions are kept, null ones are Kafka's murmur2 of the key, and a
/// partition the topic does not have fails the write naming topic and partition.
#[test]
fn topic_and_partition_columns_without_headers_in_batch_hand_over() {
    let b = broker();
    let (ta, tb) = (unique_topic("runs-a"), unique_topic("runs-b"));
    b.create_topic(&ta, 2).unwrap();
    b.create_topic(&tb, 3).unwrap();
    let schema = Arc::new(Schema::new(vec![
        Field::new("key", DataType::Utf8, true),
        Field::new("value", DataType::Utf8, true),
        Field::new("topic", DataType::Utf8, true),
        Field::new("partition", DataType::Int32, true),
    ]));
    let batch = |partitions: Vec<Option<i32>>| {
        RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["k0", "k1", "k2", "k3", "k4"])),
                Arc::new(StringArray::from(vec!["v0", "v1", "v2", "v3", "v4"])),
                Arc::new(StringArray::from(vec![ta.as_str(), &ta, &tb, &ta, &tb])),
                Arc::new(Int32Array::from(partitions)),
            ],
        )
        .unwrap()
    };
    let sink = KafkaSink::new(&sink_ctx(
        &[("kafka.bootstrap.servers", &b.bootstrap)],
        schema.clone(),
        None,
    ))
    .unwrap();
    write_batch(
        &sink,
        0,
        &[batch(vec![Some(1), None, Some(2), Some(0), None])],
    );
    let placed = |topic: &str, n: i32| {
        let mut got: Vec<(i32, String)> = consume_placed(&b.bootstrap, topic, n)
            .into_iter()
            .map(|(p, v, _)| (p, v))
            .collect();
        got.sort_by(|x, y| x.1.cmp(&y.1));
        got
    };
    let murmur = engine_kafka::murmur2::partition_for_key;
    assert_eq!(
        placed(&ta, 2),
        vec![
            (1, "v0".to_string()),
            (murmur(b"k1", 2), "v1".to_string()),
            (0, "v3".to_string()),
        ]
    );
    assert_eq!(
        placed(&tb, 3),
        vec![(2, "v2".to_string()), (murmur(b"k4", 3), "v4".to_string())]
    );

    // Partition 7 of a 2-partition topic.
    let mut w = micro_batch_writer(&sink, 1, 0, 1);
    let bad = batch(vec![Some(0), Some(7), None, None, None]);
    let err = match w.write(&bad) {
        Err(e) => e.to_string(),
        Ok(()) => match w.commit() {
            Err(e) => e.to_string(),
            Ok(m) => sink.commit(1, vec![m]).unwrap_err().to_string(),
        },
    };
    assert!(err.contains(&ta), "{err}");
    assert!(
        err.contains("partition 7") || err.contains("Unknown partition"),
        "{err}"
    );
}

#[test]
fn sink_checks_columns_with_clear_errors() {
    let bootstrap = "127.0.0.1:1";
    let no_topic = KafkaSink::new(&sink_ctx(
        &[("kafka.bootstrap.servers", bootstrap)],
        kv_schema(),
        None,
    ))
    .unwrap_err();
    assert!(
        no_topic
            .to_string()
            .contains("topic option required when no 'topic' attribute is present"),
        "{no_topic}"
    );
    let int_value = Arc::new(Schema::new(vec![Field::new(
        "value",
        DataType::Int32,
        true,
    )]));
    let e = KafkaSink::new(&sink_ctx(
        &[("kafka.bootstrap.servers", bootstrap), ("topic", "t")],
        int_value,
        None,
    ))
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("value attribute unsupported type int. value must be a(n) string or binary"),
        "{e}"
    );
    let no_value = Arc::new(Schema::new(vec![Field::new("key", DataType::Utf8, true)]));
    let e = KafkaSink::new(&sink_ctx(
        &[("kafka.bootstrap.servers", bootstrap), ("topic", "t")],
        no_value,
        None,
    ))
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("Required attribute 'value' not found"),
        "{e}"
    );
    let bad_partition = Arc::new(Schema::new(vec![
        Field::new("value", DataType::Utf8, true),
        Field::new("partition", DataType::Int64, true),
    ]));
    let e = KafkaSink::new(&sink_ctx(
        &[("kafka.bootstrap.servers", bootstrap), ("topic", "t")],
        bad_partition,
        None,
    ))
    .unwrap_err();
    assert!(e.to_string().contains("partition must be a(n) int"), "{e}");
    let mut ctx = sink_ctx(
        &[("kafka.bootstrap.servers", bootstrap), ("topic", "t")],
        kv_schema(),
        None,
    );
    ctx.save_mode = Some("overwrite".into());
    let e = KafkaSink::new(&ctx).unwrap_err();
    assert!(
        e.to_string()
            .contains("Save mode Overwrite not allowed for Kafka"),
        "{e}"
    );
}

#[test]
fn fail_on_data_loss_when_offsets_aged_out() {
    let b = broker();
    let topic = unique_topic("loss");
    b.create_topic(&topic, 1).unwrap();
    // The mock broker keeps at most 5 MiB per partition: 8 MiB pushes the log start forward.
    let big = "x".repeat(64 * 1024);
    let values: StringArray = (0..128).map(|_| Some(big.clone())).collect();
    let schema = Arc::new(Schema::new(vec![Field::new("value", DataType::Utf8, true)]));
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(values)]).unwrap();
    let sink = KafkaSink::new(&sink_ctx(
        &[("kafka.bootstrap.servers", &b.bootstrap), ("topic", &topic)],
        schema,
        None,
    ))
    .unwrap();
    write_batch(&sink, 0, &[batch]);
    let start = Offset::new(format!(r#"{{"{topic}":{{"0":0}}}}"#));
    let dir = tempfile::tempdir().unwrap();
    let mut strict = source(
        &[
            ("kafka.bootstrap.servers", &b.bootstrap),
            ("subscribe", &topic),
        ],
        dir.path(),
    );
    let end = strict
        .latest_offset(&start, &ReadLimit::AllAvailable)
        .unwrap();
    let parts = strict.plan_partitions(&start, &end).unwrap();
    let err = parts[0]
        .read()
        .unwrap()
        .find_map(|r| r.err())
        .expect("data loss must fail the read");
    assert!(err.to_string().contains("KAFKA_DATA_LOSS"), "{err}");
    assert!(err.to_string().contains("failOnDataLoss"), "{err}");

    let dir2 = tempfile::tempdir().unwrap();
    let mut lenient = source(
        &[
            ("kafka.bootstrap.servers", &b.bootstrap),
            ("subscribe", &topic),
            ("failOnDataLoss", "false"),
        ],
        dir2.path(),
    );
    let end = lenient
        .latest_offset(&start, &ReadLimit::AllAvailable)
        .unwrap();
    let rows: usize = lenient
        .plan_partitions(&start, &end)
        .unwrap()
        .iter()
        .flat_map(|p| p.read().unwrap())
        .map(|b| b.unwrap().num_rows())
        .sum();
    assert!(rows > 0 && rows < 128, "{rows}");
}

#[test]
fn min_offsets_per_trigger_waits_until_max_trigger_delay() {
    let b = broker();
    let topic = unique_topic("minoff");
    b.create_topic(&topic, 1).unwrap();
    produce(&b.bootstrap, &topic, 0..5);
    let now = Arc::new(AtomicU64::new(1_000_000));
    let clock = Arc::clone(&now);
    let dir = tempfile::tempdir().unwrap();
    let mut src = source(
        &[
            ("kafka.bootstrap.servers", &b.bootstrap),
            ("subscribe", &topic),
            ("startingOffsets", "earliest"),
            ("minOffsetsPerTrigger", "10"),
            ("maxTriggerDelay", "30s"),
        ],
        dir.path(),
    )
    .with_clock(Arc::new(move || clock.load(Ordering::SeqCst)));
    let start = src.initial_offset().unwrap();
    let limit = src.default_read_limit();
    // First call: the delay since "the last trigger" (never) has passed -> a batch.
    let end = src.latest_offset(&start, &limit).unwrap();
    assert_ne!(end, start);
    produce(&b.bootstrap, &topic, 5..8);
    // 3 new < 10 and only 1 s later: no batch.
    now.fetch_add(1_000, Ordering::SeqCst);
    assert_eq!(src.latest_offset(&end, &limit).unwrap(), end);
    // After maxTriggerDelay: a batch with what there is.
    now.fetch_add(30_000, Ordering::SeqCst);
    let end2 = src.latest_offset(&end, &limit).unwrap();
    assert_eq!(from_offset(&end2).unwrap().values().sum::<i64>(), 8);
}

#[test]
fn format_registers_and_creates_a_streaming_source() {
    engine_kafka::register();
    let f = engine_core::connector::FormatRegistry::global()
        .get("KAFKA")
        .unwrap();
    let e = f
        .create_source(SourceContext {
            options: Options::new([("subscribe", "t")]),
            user_schema: None,
            metadata_path: std::env::temp_dir(),
            query_id: "q".into(),
        })
        .err()
        .unwrap();
    assert!(e.to_string().contains("kafka.bootstrap.servers"), "{e}");
}

#[test]
fn security_options_pass_through_and_secrets_stay_out_of_errors() {
    let dir = tempfile::tempdir().unwrap();
    // librdkafka is built with OpenSSL: SASL_SSL with PLAIN is accepted, here given the way
    // Spark's docs show it (a JAAS line), which becomes sasl.username/sasl.password.
    let jaas = r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="hunter2-secret";"#;
    let opts = SourceOptions::for_stream(&Options::new([
        ("kafka.bootstrap.servers", "127.0.0.1:1"),
        ("subscribe", "t"),
        ("kafka.security.protocol", "SASL_SSL"),
        ("kafka.sasl.mechanism", "PLAIN"),
        ("kafka.sasl.jaas.config", jaas),
    ]))
    .unwrap();
    assert!(!format!("{opts:?}").contains("hunter2"));
    let src = KafkaSource::new(opts, dir.path().to_path_buf(), "q").unwrap();
    assert!(!src.description().contains("hunter2"));
    drop(src);

    // A secret option librdkafka rejects: the message names the option, hides the value.
    let opts = SourceOptions::for_stream(&Options::new([
        ("kafka.bootstrap.servers", "127.0.0.1:1"),
        ("subscribe", "t"),
        ("kafka.security.protocol", "SASL_SSL"),
        ("kafka.sasl.mechanism", "PLAIN"),
        ("kafka.sasl.username", "alice"),
        ("kafka.sasl.password", "hunter2-secret"),
        ("kafka.ssl.key.password", "hunter2-secret"),
        ("kafka.ssl.key.location", "/nonexistent/hunter2-secret.pem"),
    ]))
    .unwrap();
    if let Err(e) = KafkaSource::new(opts, dir.path().to_path_buf(), "q") {
        assert!(!e.to_string().contains("hunter2-secret\""), "{e}");
    }

    // Java trust stores do not exist in librdkafka: the error says what to use instead.
    let sink = KafkaSink::new(&sink_ctx(
        &[
            ("kafka.bootstrap.servers", "127.0.0.1:1"),
            ("topic", "t"),
            ("kafka.security.protocol", "SSL"),
            ("kafka.ssl.truststore.location", "/etc/kafka/truststore.jks"),
            ("kafka.ssl.truststore.password", "hunter2-secret"),
        ],
        kv_schema(),
        None,
    ))
    .unwrap();
    assert!(!format!("{sink:?}").contains("hunter2"));
    let e = sink
        .create_writer(engine_core::connector::WriterContext {
            batch_id: 0,
            partition: 0,
            num_partitions: 1,
            batch_timestamp_ms: None,
        })
        .err()
        .expect("ssl.truststore.* are Java options librdkafka does not know");
    let text = e.to_string();
    assert!(text.contains("kafka.ssl.ca.location"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");

    // A JAAS line that cannot be translated fails up front, naming the option, not the value.
    let e = KafkaSink::new(&sink_ctx(
        &[
            ("kafka.bootstrap.servers", "127.0.0.1:1"),
            ("topic", "t"),
            (
                "kafka.sasl.jaas.config",
                r#"com.sun.security.auth.module.Krb5LoginModule required password="hunter2-secret";"#,
            ),
        ],
        kv_schema(),
        None,
    ))
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("kafka.sasl.jaas.config") && !e.contains("hunter2"),
        "{e}"
    );
}

#[test]
fn subscribe_pattern_picks_up_new_topics_from_earliest() {
    let b = broker();
    let prefix = unique_topic("pat");
    let first = format!("{prefix}-a");
    b.create_topic(&first, 1).unwrap();
    produce(&b.bootstrap, &first, 0..3);
    let dir = tempfile::tempdir().unwrap();
    let mut src = source(
        &[
            ("kafka.bootstrap.servers", &b.bootstrap),
            ("subscribePattern", &format!("{prefix}-.*")),
            ("startingOffsets", "latest"),
        ],
        dir.path(),
    );
    let start = src.initial_offset().unwrap();
    assert_eq!(from_offset(&start).unwrap().len(), 1);
    let second = format!("{prefix}-b");
    b.create_topic(&second, 2).unwrap();
    produce(&b.bootstrap, &second, 10..14);
    let end = src.latest_offset(&start, &ReadLimit::AllAvailable).unwrap();
    assert_eq!(from_offset(&end).unwrap().len(), 3);
    let mut got = read_values(&src.plan_partitions(&start, &end).unwrap());
    got.sort();
    // Latest for the first topic (nothing new there), earliest for the new one.
    assert_eq!(got, ["v10", "v11", "v12", "v13"]);
}

/// Timestamp lookups need a broker that answers ListOffsets by timestamp. librdkafka's mock
/// broker answers every lookup with "no offset" (tested below); tansu answers them, but is
/// not installed on these machines (its install takes ~40 min). So this test is ignored (and
/// reported so, not as passed) unless run with `--ignored` and a tansu-backed broker in
/// `SSTREAM_TANSU_BOOTSTRAP`.
#[test]
#[ignore = "needs a tansu broker: set SSTREAM_TANSU_BOOTSTRAP and run with --ignored"]
fn starting_timestamp_against_tansu() {
    let bootstrap = std::env::var("SSTREAM_TANSU_BOOTSTRAP")
        .expect("SSTREAM_TANSU_BOOTSTRAP: the bootstrap address of a tansu broker");
    let topic = unique_topic("ts");
    produce(&bootstrap, &topic, 0..10);
    let dir = tempfile::tempdir().unwrap();
    let mut src = source(
        &[
            ("kafka.bootstrap.servers", &bootstrap),
            ("subscribe", &topic),
            ("startingTimestamp", "0"),
        ],
        dir.path(),
    );
    let start = src.initial_offset().unwrap();
    assert!(from_offset(&start).unwrap().values().all(|o| *o == 0));
}

#[test]
fn timestamp_lookups_without_a_match_follow_the_strategy() {
    // The mock broker finds no offset for any timestamp: that exercises the no-match paths.
    let b = broker();
    let topic = unique_topic("tsnomatch");
    b.create_topic(&topic, 1).unwrap();
    produce(&b.bootstrap, &topic, 0..4);
    let dir = tempfile::tempdir().unwrap();
    let mut strict = source(
        &[
            ("kafka.bootstrap.servers", &b.bootstrap),
            ("subscribe", &topic),
            ("startingTimestamp", "1"),
        ],
        dir.path(),
    );
    let e = strict.initial_offset().unwrap_err();
    assert!(
        e.to_string().contains(&format!(
            "No offset matched from request of topic-partition {topic}-0 and timestamp 1"
        )),
        "{e}"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut latest = source(
        &[
            ("kafka.bootstrap.servers", &b.bootstrap),
            ("subscribe", &topic),
            (
                "startingOffsetsByTimestamp",
                &format!(r#"{{"{topic}":{{"0":1}}}}"#),
            ),
            ("startingOffsetsByTimestampStrategy", "latest"),
        ],
        dir.path(),
    );
    assert_eq!(
        latest.initial_offset().unwrap().json(),
        format!(r#"{{"{topic}":{{"0":4}}}}"#)
    );
}

#[test]
fn producer_cache_settings_come_from_the_session_and_bad_values_name_the_key() {
    let b = broker();
    let bad = sink_ctx(
        &[
            ("kafka.bootstrap.servers", &b.bootstrap),
            ("topic", "t"),
            ("spark.kafka.producer.cache.timeout", "ten minutes"),
        ],
        kv_schema(),
        None,
    );
    let e = KafkaSink::new(&bad).err().unwrap().to_string();
    assert!(e.contains("spark.kafka.producer.cache.timeout"), "{e}");
    let good = sink_ctx(
        &[
            ("kafka.bootstrap.servers", &b.bootstrap),
            ("topic", "t"),
            ("spark.kafka.producer.cache.timeout", "5m"),
            ("spark.kafka.producer.cache.evictorThreadRunInterval", "0"),
        ],
        kv_schema(),
        None,
    );
    assert!(KafkaSink::new(&good).is_ok());
}

#[test]
fn consumer_cache_settings_with_bad_values_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (key, value) in [
        ("spark.kafka.consumer.cache.capacity", "many"),
        ("spark.kafka.consumer.cache.timeout", "ten minutes"),
        (
            "spark.kafka.consumer.cache.evictorThreadRunInterval",
            "often",
        ),
    ] {
        let e = KafkaFormat
            .create_source(SourceContext {
                options: Options::new([
                    ("kafka.bootstrap.servers", "127.0.0.1:1"),
                    ("subscribe", "t"),
                    (key, value),
                ]),
                user_schema: None,
                metadata_path: dir.path().to_path_buf(),
                query_id: "q".into(),
            })
            .err()
            .expect("a bad cache setting is refused")
            .to_string();
        assert!(e.contains(key), "{e}");
    }
}
