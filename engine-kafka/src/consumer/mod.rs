//! Reading Kafka into Arrow batches (Spark's `KafkaDataConsumer` and
//! `spark.kafka.consumer.cache.*`): the fixed schema, consumer settings, and
//! - `reader`: one offset range of one topic-partition into Arrow batches;
//! - `shared`: one consumer per streaming query, every partition assigned, read from
//!   per-partition queues;
//! - `pool`: consumers pooled per config and reassigned from partition to partition (batch
//!   reads, and tasks whose partition queue is in use);
//! - `batch_poll`: records taken from librdkafka many at a time.

mod batch_poll;
mod pool;
mod reader;
mod shared;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use engine_core::{EngineError, Result};
use rdkafka::ClientConfig;
use rdkafka::error::KafkaError;

pub use pool::{ConsumerPool, SPARE_CONSUMERS, configure_consumer_pool};
pub use reader::{RangeReader, repositions};
pub use shared::SharedConsumer;

use crate::options::{
    INSTRUCTION_FOR_FAIL_ON_DATA_LOSS_FALSE, INSTRUCTION_FOR_FAIL_ON_DATA_LOSS_TRUE,
};

/// Rows per Arrow batch a reader emits.
pub const BATCH_ROWS: usize = 16 * 1024;

pub(super) fn header_fields() -> Fields {
    Fields::from(vec![
        Field::new("key", DataType::Utf8, true),
        Field::new("value", DataType::Binary, true),
    ])
}

/// Spark's fixed Kafka schema (`KafkaRecordToRowConverter.kafkaSchema`), with `headers`
/// (`array<struct<key:string,value:binary>>`) when `include_headers`.
pub fn kafka_schema(include_headers: bool) -> SchemaRef {
    let mut fields = vec![
        Field::new("key", DataType::Binary, true),
        Field::new("value", DataType::Binary, true),
        Field::new("topic", DataType::Utf8, true),
        Field::new("partition", DataType::Int32, true),
        Field::new("offset", DataType::Int64, true),
        Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        Field::new("timestampType", DataType::Int32, true),
    ];
    if include_headers {
        fields.push(Field::new(
            "headers",
            DataType::List(Arc::new(Field::new(
                "element",
                DataType::Struct(header_fields()),
                true,
            ))),
            true,
        ));
    }
    Arc::new(Schema::new(fields))
}

/// `ClientConfig` from pass-through params (keys without the `kafka.` prefix).
pub fn client_config(params: &BTreeMap<String, String>) -> ClientConfig {
    let mut c = ClientConfig::new();
    for (k, v) in params {
        c.set(k.as_str(), v.as_str());
    }
    if !params.contains_key("log_level") {
        c.set("log_level", "3");
    }
    c
}

/// An error from creating a Kafka client, with a secret option's value never shown: librdkafka
/// quotes the offending value of an invalid option in its message.
pub fn client_error(context: &str, e: KafkaError) -> EngineError {
    match e {
        KafkaError::ClientConfig(_, desc, key, _) => EngineError::execution(
            "KAFKA_CLIENT_CONFIG",
            format!(
                "{context}: invalid Kafka option 'kafka.{key}': {}{}",
                if crate::options::is_secret_key(&key) {
                    "(message hidden: the option holds a secret)".to_string()
                } else {
                    desc
                },
                java_option_hint(&key)
                    .map(|h| format!(". {h}"))
                    .unwrap_or_default()
            ),
        ),
        e => EngineError::external(context.to_string(), e),
    }
}

/// What to use instead of a Java client option librdkafka does not have (Spark users bring
/// Java client settings).
fn java_option_hint(key: &str) -> Option<&'static str> {
    let k = key.to_ascii_lowercase();
    if k.starts_with("ssl.truststore.") {
        Some(
            "librdkafka has no Java trust stores: give the CA certificates as PEM with kafka.ssl.ca.location (a file) or kafka.ssl.ca.pem",
        )
    } else if k == "ssl.keystore.type" {
        Some(
            "librdkafka reads a PKCS#12 key store from kafka.ssl.keystore.location, or PEM from kafka.ssl.certificate.location and kafka.ssl.key.location",
        )
    } else if k.starts_with("sasl.kerberos.") || k == "sasl.login.callback.handler.class" {
        Some("this build has no Kerberos (GSSAPI); use SASL PLAIN, SCRAM or OAUTHBEARER")
    } else {
        None
    }
}

/// Executor consumer params: what the user gave plus what the engine requires.
pub fn executor_params(
    user: &BTreeMap<String, String>,
    group_id: &str,
) -> BTreeMap<String, String> {
    let mut p = user.clone();
    // Only offsets the driver planned are read; running out of range is data loss, not a reset.
    p.insert("auto.offset.reset".into(), "error".into());
    p.insert("enable.auto.commit".into(), "false".into());
    p.insert("enable.auto.offset.store".into(), "false".into());
    p.insert("enable.partition.eof".into(), "true".into());
    p.entry("group.id".into())
        .or_insert_with(|| group_id.into());
    // Kafka's Java consumer (Spark's) reads uncommitted by default; librdkafka's default is
    // read_committed.
    p.entry("isolation.level".into())
        .or_insert_with(|| "read_uncommitted".into());
    fetch_defaults(&mut p);
    p
}

/// Fetch settings for a consumer that is reassigned from partition to partition and reads
/// ranges to their end, unless the user set them:
/// - `fetch.wait.max.ms` 10 (librdkafka: 500): a newly assigned partition's first fetch waits
///   behind the previous partition's long poll at the broker.
/// - `fetch.queue.backoff.ms` 10 (librdkafka: 1000): librdkafka stops fetching a partition for
///   that long once its prefetch queue passes `queued.min.messages` (100k) or
///   `queued.max.messages.kbytes`, so a longer range (any catch-up) drained the queue in
///   milliseconds and stalled for the rest of the second. Measured: 28k instead of 1.6M
///   records/s.
pub fn fetch_defaults(p: &mut BTreeMap<String, String>) {
    p.entry("fetch.wait.max.ms".into())
        .or_insert_with(|| "10".into());
    p.entry("fetch.queue.backoff.ms".into())
        .or_insert_with(|| "10".into());
}

/// Settings of one range read.
#[derive(Clone, Debug)]
pub struct ReadSettings {
    /// Consumer params (see [`executor_params`]).
    pub params: crate::options::KafkaParams,
    /// `kafkaConsumer.pollTimeoutMs`.
    pub poll_timeout: Duration,
    /// `failOnDataLoss`.
    pub fail_on_data_loss: bool,
    /// `includeHeaders`.
    pub include_headers: bool,
}

/// A partition list of `tp` at `offset`, for assigning it.
fn at_offset(
    tp: &crate::offsets::TopicPartition,
    offset: i64,
) -> Result<rdkafka::TopicPartitionList> {
    let mut tpl = rdkafka::TopicPartitionList::new();
    tpl.add_partition_offset(&tp.topic, tp.partition, rdkafka::Offset::Offset(offset))
        .map_err(|e| EngineError::external("assigning a Kafka partition", e))?;
    Ok(tpl)
}

/// Reports data loss: an error when `fail`, else a warning on stderr (Spark logs a warning).
pub fn report_data_loss(fail: bool, class: &str, message: &str) -> Result<()> {
    if fail {
        Err(EngineError::execution(
            format!("KAFKA_DATA_LOSS.{class}"),
            format!("{message}. {INSTRUCTION_FOR_FAIL_ON_DATA_LOSS_TRUE}"),
        ))
    } else {
        eprintln!("WARN kafka source: {message}. {INSTRUCTION_FOR_FAIL_ON_DATA_LOSS_FALSE}");
        Ok(())
    }
}

/// Executor params of a consumer that never reaches a broker (creating a librdkafka client
/// is local: no broker is contacted until it is used).
#[cfg(test)]
fn test_params(group: &str) -> BTreeMap<String, String> {
    executor_params(
        &[("bootstrap.servers".to_string(), "127.0.0.1:1".to_string())].into(),
        group,
    )
}

/// Partition `p` of topic `t`.
#[cfg(test)]
fn test_tp(p: i32) -> crate::offsets::TopicPartition {
    crate::offsets::TopicPartition::new("t", p)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn params(group: &str) -> BTreeMap<String, String> {
        test_params(group)
    }

    #[test]
    fn executor_params_keep_fetching_without_long_backoffs_unless_the_user_says_otherwise() {
        let p = params("g");
        assert_eq!(p["fetch.wait.max.ms"], "10");
        assert_eq!(p["fetch.queue.backoff.ms"], "10");
        assert_eq!(p["auto.offset.reset"], "error");
        let user: BTreeMap<String, String> = [
            ("bootstrap.servers".to_string(), "127.0.0.1:1".to_string()),
            ("fetch.queue.backoff.ms".to_string(), "500".to_string()),
        ]
        .into();
        assert_eq!(executor_params(&user, "g")["fetch.queue.backoff.ms"], "500");
    }
}
