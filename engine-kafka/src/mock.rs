//! A thin owner of librdkafka's built-in mock cluster (`rd_kafka_mock_cluster_*`).
//!
//! `rdkafka::mocking::MockCluster` wraps the same C object but hides its pointer, and we need two
//! calls it does not expose: setting the group initial-rebalance delay to 0 (librdkafka's default
//! of 3 s makes every consumer-group join wait 3 s) and nothing else beyond topic creation. So this
//! module owns the cluster itself. It and `consumer::batch_poll` are the only places in the crate
//! with `unsafe`.
//!
//! What the mock broker is (measured, see the crate docs): a Kafka-protocol broker on 127.0.0.1
//! with correct watermarks, idempotent and transactional producers and consumer groups; it does
//! not hide aborted transactions from `read_committed` consumers, does not answer
//! offsets-by-timestamp, has no CreateTopics/CreatePartitions/DeleteTopics/DeleteRecords (a
//! topic can only be made to look deleted in metadata, see `hide_topic`), and keeps at most
//! 5 MiB or 100 000 message sets per partition (older data is dropped and the log start offset
//! moves, which is how data loss shows up on it).
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::ptr::NonNull;

use engine_core::{EngineError, Result};
use rdkafka::ClientConfig;
use rdkafka::bindings as rdsys;
use rdkafka::producer::{BaseProducer, Producer};
use rdkafka::types::RDKafkaErrorCode;

/// An owned mock cluster. Dropping it stops the brokers.
pub(crate) struct RawMockCluster {
    ptr: NonNull<rdsys::rd_kafka_mock_cluster_t>,
    // The mock cluster runs on this client's handle; it must outlive the cluster (see Drop).
    _client: BaseProducer,
}

// SAFETY: every rd_kafka_mock_* call used here posts an op to the mock cluster's own thread and
// waits for the reply (rd_kafka_op_req), so the handle may be used from any thread; the pointer
// itself is never dereferenced on the Rust side.
unsafe impl Send for RawMockCluster {}
// SAFETY: as above, the C API is internally synchronised.
unsafe impl Sync for RawMockCluster {}

impl RawMockCluster {
    /// Starts `brokers` mock brokers, each listening on an ephemeral 127.0.0.1 port.
    pub(crate) fn new(brokers: i32) -> Result<Self> {
        let client: BaseProducer = ClientConfig::new()
            .set("log_level", "3")
            .create()
            .map_err(|e| EngineError::external("creating the mock cluster's client", e))?;
        // SAFETY: the client handle is valid for the call; the returned cluster is destroyed in
        // Drop before the client (field order + explicit destroy).
        let raw =
            unsafe { rdsys::rd_kafka_mock_cluster_new(client.client().native_ptr(), brokers) };
        let ptr = NonNull::new(raw).ok_or_else(|| {
            EngineError::execution(
                "KAFKA_MOCK_BROKER",
                "librdkafka could not start the mock cluster (no free port on 127.0.0.1?)",
            )
        })?;
        let cluster = RawMockCluster {
            ptr,
            _client: client,
        };
        // Without this, every consumer-group join waits librdkafka's default 3 s.
        // SAFETY: valid cluster pointer.
        unsafe { rdsys::rd_kafka_mock_group_initial_rebalance_delay_ms(cluster.ptr.as_ptr(), 0) };
        Ok(cluster)
    }

    /// The brokers' `host:port` list, for `bootstrap.servers`.
    pub(crate) fn bootstrap_servers(&self) -> String {
        // SAFETY: valid cluster pointer; librdkafka returns a NUL-terminated string owned by the
        // cluster, which we copy before returning.
        unsafe {
            let s = rdsys::rd_kafka_mock_cluster_bootstraps(self.ptr.as_ptr());
            if s.is_null() {
                return String::new();
            }
            CStr::from_ptr(s).to_string_lossy().into_owned()
        }
    }

    /// Creates `topic` with `partitions` partitions (replication factor 1). An existing topic
    /// with the same name is an error with Kafka's `TOPIC_ALREADY_EXISTS` code.
    pub(crate) fn create_topic(&self, topic: &str, partitions: i32) -> Result<()> {
        if partitions <= 0 {
            return Err(EngineError::invalid_option(
                "partitions",
                format!("a topic needs at least one partition, got {partitions}"),
            ));
        }
        let name = CString::new(topic).map_err(|_| {
            EngineError::invalid_option("topic", "a topic name cannot contain a NUL byte")
        })?;
        // SAFETY: valid cluster pointer and NUL-terminated name (librdkafka copies it).
        let err = unsafe {
            rdsys::rd_kafka_mock_topic_create(self.ptr.as_ptr(), name.as_ptr(), partitions, 1)
        };
        let code = RDKafkaErrorCode::from(err);
        match code {
            RDKafkaErrorCode::NoError => Ok(()),
            RDKafkaErrorCode::TopicAlreadyExists => Err(EngineError::execution(
                "KAFKA_TOPIC_ALREADY_EXISTS",
                format!("topic '{topic}' already exists"),
            )),
            other => Err(EngineError::execution(
                "KAFKA_MOCK_BROKER",
                format!("creating topic '{topic}' failed: {other}"),
            )),
        }
    }
}

impl RawMockCluster {
    /// Makes `topic` look deleted: librdkafka's mock cluster cannot delete a topic, but it
    /// can answer metadata requests for it with `UNKNOWN_TOPIC_OR_PART` and no partitions,
    /// which is what clients see of a deleted topic. Its data stays and can still be
    /// fetched by a client that does not ask for metadata first.
    pub(crate) fn hide_topic(&self, topic: &str) -> Result<()> {
        let name = CString::new(topic).map_err(|_| {
            EngineError::invalid_option("topic", "a topic name cannot contain a NUL byte")
        })?;
        // SAFETY: valid cluster pointer and NUL-terminated name (librdkafka copies it).
        unsafe {
            rdsys::rd_kafka_mock_topic_set_error(
                self.ptr.as_ptr(),
                name.as_ptr(),
                rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
            )
        };
        Ok(())
    }
}

impl Drop for RawMockCluster {
    fn drop(&mut self) {
        // SAFETY: the pointer came from rd_kafka_mock_cluster_new and is destroyed exactly once,
        // while `_client` (dropped after this body) is still alive.
        unsafe { rdsys::rd_kafka_mock_cluster_destroy(self.ptr.as_ptr()) };
    }
}
