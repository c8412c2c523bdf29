//! `engine-kafka`: Kafka source and sink for the sstream engine, the counterpart of Spark's
//! `spark-sql-kafka-0-10`, on rdkafka (librdkafka built from source against the system's
//! OpenSSL).
//! It depends on `engine-core` only and plugs in through engine-core's format registry:
//! call [`register`] once and `format("kafka")` works for batch and streaming reads and writes.
//!
//! - [`source`]: [`source::KafkaSource`] (streaming) and [`source::batch_partitions`] (batch).
//! - [`sink`]: [`sink::KafkaSink`], at-least-once (Spark's) or exactly-once (beyond Spark).
//! - [`options`]: every option, validated with Spark's messages.
//! - [`offsets`]: Spark's offset JSON, the rate limit, the task split.
//! - [`consumer`]: range reads into Arrow batches, one shared consumer per streaming query
//!   (every partition assigned, per-partition queues), the consumer pool for batch reads (per
//!   consumer config, not per partition as Spark's; `spark.kafka.consumer.cache.capacity` 64,
//!   `.timeout` 5m and `.evictorThreadRunInterval` 1m), the fixed schema.
//! - [`producer_cache`]: Spark's producer cache (ref-counted, idle eviction).
//! - [`broker`]: the project's local broker (librdkafka's mock cluster in a background process),
//!   driven by `cargo xtask broker start|stop|status|create-topic`.
//! - [`testing`]: an in-process [`testing::EmbeddedBroker`] and the shared-broker helper.
//!
//! # Source options (Spark's names and defaults)
//!
//! | option | meaning |
//! |---|---|
//! | `subscribe` / `subscribePattern` / `assign` | exactly one: topics (comma list), a regex (new matching topics are picked up, starting at their earliest offset), or `{"t":[0,1]}` |
//! | `kafka.bootstrap.servers` | required; every other `kafka.*` option goes to librdkafka, except `auto.offset.reset`, `enable.auto.commit`, `key/value.deserializer`, `interceptor.classes` (refused with Spark's explanation); `kafka.group.id` is allowed (Spark warns) |
//! | `startingOffsets` | `earliest`, `latest` or `{"t":{"0":23,"1":-2}}` (-2 earliest, -1 latest); streaming default `latest`, batch `earliest`; only when the checkpoint is empty |
//! | `startingTimestamp`, `startingOffsetsByTimestamp`, `startingOffsetsByTimestampStrategy` | by timestamp (`ERROR` or `LATEST` when nothing matches). The local mock broker does not answer timestamp lookups, so these are untested here |
//! | `endingOffsets`, `endingTimestamp`, `endingOffsetsByTimestamp` | batch only |
//! | `maxOffsetsPerTrigger` | split across partitions in proportion to their lag |
//! | `minOffsetsPerTrigger`, `maxTriggerDelay` (15m) | wait for enough data, but not longer than the delay |
//! | `minPartitions`, `maxRecordsPerPartition` | split large ranges into more tasks |
//! | `failOnDataLoss` (true) | offsets aged out, partitions gone: fail (`KAFKA_DATA_LOSS.*`) or warn and skip |
//! | `includeHeaders` (false) | adds `headers array<struct<key:string,value:binary>>` |
//! | `groupIdPrefix` | consumer group prefix (`spark-kafka-source` / `spark-kafka-relation`) |
//! | `fetchOffset.numRetries` (3), `fetchOffset.retryIntervalMs` (10), `kafkaConsumer.pollTimeoutMs` (120000) | |
//!
//! Schema: `key binary, value binary, topic string, partition int, offset bigint, timestamp
//! timestamp, timestampType int` (+ `headers`). Offsets are checkpointed as Spark writes them
//! (`{"topic":{"0":42}}`); progress `sources[].metrics` has `minOffsetsBehindLatest`,
//! `maxOffsetsBehindLatest`, `avgOffsetsBehindLatest`.
//!
//! # Sink options
//!
//! Columns `value` (required), `key`, `topic`, `partition`, `headers` (see [`sink`]); `topic`
//! option; `includeHeaders`; `kafka.*` to the producer (idempotence on unless
//! `kafka.enable.idempotence=false`); `deliveryGuarantee` = `at_least_once` (default) |
//! `exactly_once` (alias `kafka.delivery.guarantee`), `transactionalIdPrefix` (`sstream`),
//! `readBackClockSkewMs` (10 minutes; how far back a replay looks, see [`sink`]).
//! Producer cache: [`sink::configure_producer_cache`] (`spark.kafka.producer.cache.timeout`
//! 10m, `...evictorThreadRunInterval` 1m).
//!
//! # Security
//!
//! librdkafka is built with OpenSSL (the system's `libssl-dev`): `kafka.security.protocol` =
//! `SSL` or `SASL_SSL` (or `SASL_PLAINTEXT`), SASL mechanisms `PLAIN`, `SCRAM-SHA-256/512` and
//! `OAUTHBEARER`; no Kerberos (`GSSAPI` needs Cyrus SASL). `kafka.ssl.*` and `kafka.sasl.*` go
//! to librdkafka unchanged, except Java's `kafka.sasl.jaas.config` (what Spark's docs show):
//! a `PlainLoginModule` or `ScramLoginModule` line becomes `sasl.username`/`sasl.password`, and
//! other login modules fail naming the options to use instead. Java-only options (trust stores,
//! `ssl.keystore.type`, Kerberos settings) fail with the librdkafka option to use. Secret
//! values never appear in errors, descriptions, `Debug` output or progress.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{RecordBatch, StringArray};
//! use arrow::datatypes::{DataType, Field, Schema};
//! use engine_core::connector::{OutputMode, ReadLimit, Sink, SinkContext, Source, WriterContext};
//! use engine_core::options::Options;
//! use engine_kafka::options::SourceOptions;
//! use engine_kafka::sink::KafkaSink;
//! use engine_kafka::source::KafkaSource;
//! use engine_kafka::testing::EmbeddedBroker;
//!
//! let broker = EmbeddedBroker::start()?;
//! broker.create_topic("orders", 2)?;
//! let bootstrap = broker.bootstrap_servers();
//!
//! // Write two records through the sink, as one task of micro-batch 0.
//! let schema = Arc::new(Schema::new(vec![Field::new("value", DataType::Utf8, true)]));
//! let sink = KafkaSink::new(&SinkContext {
//!     options: Options::new([("kafka.bootstrap.servers", bootstrap.as_str()), ("topic", "orders")]),
//!     schema: schema.clone(),
//!     output_mode: OutputMode::Append,
//!     query_id: None,
//!     save_mode: None,
//! })?;
//! let mut writer = sink.create_writer(WriterContext { batch_id: 0, partition: 0, num_partitions: 1, batch_timestamp_ms: None })?;
//! writer.write(&RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(vec!["a", "b"]))])?)?;
//! sink.commit(0, vec![writer.commit()?])?;
//!
//! // Read them back as a streaming source does.
//! let opts = SourceOptions::for_stream(&Options::new([
//!     ("kafka.bootstrap.servers", bootstrap.as_str()),
//!     ("subscribe", "orders"),
//!     ("startingOffsets", "earliest"),
//! ]))?;
//! let dir = std::env::temp_dir().join(format!("kafka-doc-{}", std::process::id()));
//! let mut source = KafkaSource::new(opts, dir.clone(), "doc-query")?;
//! let start = source.initial_offset()?;
//! let end = source.latest_offset(&start, &ReadLimit::AllAvailable)?;
//! let mut rows = 0;
//! for partition in source.plan_partitions(&start, &end)? {
//!     for batch in partition.read()? {
//!         rows += batch?.num_rows();
//!     }
//! }
//! assert_eq!(rows, 2);
//! # std::fs::remove_dir_all(dir).ok();
//! # Ok::<(), engine_core::EngineError>(())
//! ```

pub mod broker;
pub mod consumer;
pub mod format;
mod mock;
pub mod murmur2;
pub mod offsets;
pub mod options;
pub mod producer_cache;
pub mod sink;
pub mod source;
pub mod testing;

pub use format::{KafkaFormat, register};
