//! `engine-kafka`: Kafka source and sink for the sstream engine, the counterpart of Spark's
//! `spark-sql-kafka-0-10`, on rdkafka (librdkafka built from source, no system library needed).
//!
//! - [`broker`]: the project's local broker (librdkafka's mock cluster in a background process),
//!   driven by `cargo xtask broker start|stop|status|create-topic`.
//! - [`testing`]: an in-process [`testing::EmbeddedBroker`] and the shared-broker helper for tests.
//!
//! TLS/SASL: this build of librdkafka has no SSL or SASL support (that would need system OpenSSL
//! / Cyrus SASL headers that CI machines may lack). `kafka.security.protocol`, `kafka.ssl.*` and
//! `kafka.sasl.*` options are still passed through to librdkafka unchanged, which then reports
//! that the feature is not built in; enable rdkafka's `ssl`/`sasl` features to use them.

pub mod broker;
mod mock;
pub mod testing;
