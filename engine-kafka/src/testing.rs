//! Brokers for tests, benchmarks and demos.
//!
//! - [`EmbeddedBroker`]: librdkafka's mock cluster hosted in the calling process (the demo and
//!   unit tests use it; nothing to start beforehand).
//! - [`shared_broker`]: the machine's `sstream-broker` background process (the one
//!   `cargo xtask broker start` runs), started on first use and reused afterwards; integration
//!   tests use it so they exercise a broker in another process, reached over TCP only.
//!
//! ```
//! use engine_kafka::testing::EmbeddedBroker;
//!
//! let broker = EmbeddedBroker::start()?;
//! broker.create_topic("orders", 3)?;
//! assert!(broker.bootstrap_servers().starts_with("127.0.0.1:"));
//! # Ok::<(), engine_core::EngineError>(())
//! ```

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use engine_core::{EngineError, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use crate::broker::{self, BrokerInfo};
use crate::mock::RawMockCluster;

/// librdkafka's mock Kafka cluster running inside this process on 127.0.0.1 (ephemeral ports).
/// Group rebalance delay is 0, so consumer groups join immediately. Dropping it stops the brokers.
pub struct EmbeddedBroker {
    cluster: RawMockCluster,
}

impl std::fmt::Debug for EmbeddedBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedBroker")
            .field("bootstrap_servers", &self.bootstrap_servers())
            .finish()
    }
}

impl EmbeddedBroker {
    /// One broker.
    pub fn start() -> Result<Self> {
        Self::with_brokers(1)
    }

    /// `brokers` brokers forming one cluster (partition leaders spread over them).
    pub fn with_brokers(brokers: i32) -> Result<Self> {
        Ok(EmbeddedBroker {
            cluster: RawMockCluster::new(brokers.max(1))?,
        })
    }

    /// The `bootstrap.servers` value, e.g. `127.0.0.1:40123`.
    pub fn bootstrap_servers(&self) -> String {
        self.cluster.bootstrap_servers()
    }

    /// Creates `topic` with `partitions` partitions. Fails with class
    /// `KAFKA_TOPIC_ALREADY_EXISTS` if it exists.
    pub fn create_topic(&self, topic: &str, partitions: i32) -> Result<()> {
        self.cluster.create_topic(topic, partitions)
    }

    /// Makes `topic` look deleted to clients: metadata answers `UNKNOWN_TOPIC_OR_PART` with
    /// no partitions (the mock cluster cannot really delete a topic; its records stay).
    pub fn delete_topic(&self, topic: &str) -> Result<()> {
        self.cluster.hide_topic(topic)
    }
}

/// The machine's shared background broker, started if it is not running. `serve_binary` is the
/// `sstream-broker` executable (in this crate's integration tests:
/// `env!("CARGO_BIN_EXE_sstream-broker")`). The state directory is
/// [`broker::default_state_dir`], the same one `cargo xtask broker` uses.
pub fn shared_broker(serve_binary: impl AsRef<Path>) -> Result<BrokerInfo> {
    let dir = broker::default_state_dir();
    broker::start(serve_binary.as_ref(), &dir, 1).map(|(info, _)| info)
}

/// A plain consumer assigned to every partition (`0..partitions`) of `topic` from the
/// beginning, with `settings` added to its config, for checking what landed in a topic.
/// (On the mock broker an `assign()` consumer still needs a `group.id`; one is set.)
pub fn consumer_from_beginning(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    settings: &[(&str, &str)],
) -> Result<BaseConsumer> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "sstream-testing")
        .set("enable.auto.commit", "false");
    for (k, v) in settings {
        config.set(*k, *v);
    }
    let consumer: BaseConsumer = config
        .create()
        .map_err(|e| EngineError::external("creating a test consumer", e))?;
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .map_err(|e| EngineError::external("assigning a test consumer", e))?;
    }
    consumer
        .assign(&tpl)
        .map_err(|e| EngineError::external("assigning a test consumer", e))?;
    Ok(consumer)
}

/// A topic name unique to this process and call, so tests sharing one broker never collide.
pub fn unique_topic(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
