//! Fuzz targets for what the command line reads: pipeline files with `--set` overrides, and
//! Kafka option maps (what a pipeline's `options` table becomes). The property of each: a
//! value or an error, never a panic and never a hang.
//!
//! `cargo test -p engine-cli --test fuzz` runs each target for a fixed number of cases (CI);
//! `cargo xtask fuzz [--minutes N] [target]` runs them for minutes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use engine_cli::pipeline::parse_pipeline_with;
use engine_core::options::Options;
use engine_core::testing::fuzz::{Target, mutated};
use engine_kafka::options::{SinkOptions, SourceOptions};
use proptest::prelude::*;

/// Every pipeline file in `examples/pipelines`.
fn example_pipelines() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/pipelines");
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    out.sort();
    out
}

const OVERRIDES: &[&str] = &[
    "sink.path=/tmp/x",
    "source.orders.options.kafka.sasl.password=hunter2",
    "conf.spark.sql.shuffle.partitions=4",
    "sink.trigger={ availableNow = true }",
    "source.é.options.x=1",
    "sink.options.=",
    "=",
    "a.b.c.d.e=[1, 2",
];

#[test]
fn pipeline_files() {
    let files = example_pipelines();
    let seeds: Vec<&str> = files.iter().map(String::as_str).collect();
    let case = (
        mutated(&seeds),
        proptest::collection::vec(mutated(OVERRIDES), 0..3),
    );
    Target::new("pipeline_files", 2000).run(case, |(text, overrides)| {
        let _ = parse_pipeline_with(&text, "fuzz.toml", &overrides);
        Ok(())
    });
}

/// Option keys the Kafka source and sink read, and a few that look like them.
const KAFKA_KEYS: &[&str] = &[
    "subscribe",
    "subscribePattern",
    "assign",
    "startingOffsets",
    "endingOffsets",
    "startingOffsetsByTimestamp",
    "endingOffsetsByTimestamp",
    "startingTimestamp",
    "endingTimestamp",
    "startingOffsetsByTimestampStrategy",
    "failOnDataLoss",
    "minPartitions",
    "maxRecordsPerPartition",
    "maxOffsetsPerTrigger",
    "minOffsetsPerTrigger",
    "maxTriggerDelay",
    "fetchOffset.numRetries",
    "fetchOffset.retryIntervalMs",
    "kafkaConsumer.pollTimeoutMs",
    "groupIdPrefix",
    "includeHeaders",
    "topic",
    "kafka.bootstrap.servers",
    "kafka.group.id",
    "kafka.sasl.jaas.config",
    "kafka.sasl.password",
    "kafka.delivery.guarantee",
    "kafka.auto.offset.reset",
    "kafka.",
    "kafkaé.x",
    "é",
];

const KAFKA_VALUES: &[&str] = &[
    "t",
    "a,b,,c",
    "t.*",
    "(",
    "earliest",
    "latest",
    r#"{"t":{"0":-2,"1":-1}}"#,
    r#"{"t":{"0":9223372036854775807}}"#,
    r#"{"t":[0,1]}"#,
    "-1",
    "0",
    "9223372036854775807",
    "18446744073709551616",
    "1000000000000000d",
    "15m",
    "10 seconds",
    "true",
    "exactly_once",
    r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";"#,
    "é",
];

#[test]
fn kafka_option_maps() {
    let pair = (mutated(KAFKA_KEYS), mutated(KAFKA_VALUES));
    let maps = proptest::collection::vec(pair, 0..8);
    Target::new("kafka_option_maps", 10000).run(maps, |pairs| {
        let o = Options::new(pairs.iter().map(|(k, v)| (k.as_str(), v.clone())));
        let _ = SourceOptions::for_stream(&o);
        let _ = SourceOptions::for_batch(&o);
        let _ = SinkOptions::parse(&o);
        // Whatever the map holds, its debug form never shows a secret.
        let shown = format!("{o:?}");
        for (k, v) in &pairs {
            if engine_core::options::is_secret_key(k)
                && v.len() > 3
                && !o.iter_original().any(|(k2, v2)| {
                    // Shown legitimately: inside another key's Debug form, or inside the
                    // Debug form of a value that is no secret (`"\"earliest"` holds
                    // `"earliest"`).
                    let quoted = format!("{v:?}");
                    format!("{k2:?}").contains(&quoted)
                        || (!engine_core::options::is_secret_key(k2)
                            && format!("{v2:?}").contains(&quoted))
                })
            {
                // A value is shown as its Debug form, quotes included.
                let quoted = format!("{v:?}");
                prop_assert!(!shown.contains(&quoted), "{k} = {v} shown in {shown}");
            }
        }
        Ok(())
    });
}
