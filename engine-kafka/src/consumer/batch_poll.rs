//! Taking many records at once from a consumer's queue (librdkafka's
//! `rd_kafka_consume_batch_queue`), instead of one `poll` per record.
//!
//! rdkafka's `BaseConsumer::poll` costs several clock reads, a queue lock and an event per
//! record; in the source's profile those were ~10% of the CPU. One batch call takes what the
//! fetcher has queued under one lock. rdkafka has no safe API for it, so this module is the
//! engine's only direct use of librdkafka's C API on the read path; everything unsafe is here.
#![allow(unsafe_code)]

use std::collections::VecDeque;
use std::ffi::{CStr, CString};
use std::ptr::NonNull;
use std::time::Duration;

use rdkafka::Timestamp;
use rdkafka::bindings as rdsys;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

/// The most records one call takes off the queue.
const MAX_PER_CALL: usize = 1024;

/// One record (or a per-partition error such as end-of-partition) taken from librdkafka.
/// Owns the librdkafka message and destroys it when dropped.
///
/// Must be dropped before the consumer it came from: librdkafka keeps the fetch buffer and
/// the partition alive for it, and destroying a client with messages outstanding hangs.
pub(super) struct RawRecord {
    ptr: NonNull<rdsys::rd_kafka_message_t>,
}

// SAFETY: a librdkafka message is not tied to the thread that consumed it; librdkafka's
// reference counting of what it points to is thread-safe.
unsafe impl Send for RawRecord {}

impl Drop for RawRecord {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from rd_kafka_consume_batch_queue and is destroyed only here.
        unsafe { rdsys::rd_kafka_message_destroy(self.ptr.as_ptr()) }
    }
}

impl RawRecord {
    fn msg(&self) -> &rdsys::rd_kafka_message_t {
        // SAFETY: the message lives until `self` is dropped.
        unsafe { self.ptr.as_ref() }
    }

    /// The record's error, if this is an error event rather than a record: end of
    /// partition, offset out of range, a broker error.
    pub(super) fn error(&self) -> Option<KafkaError> {
        let m = self.msg();
        if m.err == rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            return None;
        }
        if m.err == rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR__PARTITION_EOF {
            return Some(KafkaError::PartitionEOF(m.partition));
        }
        Some(KafkaError::MessageConsumption(RDKafkaErrorCode::from(
            m.err,
        )))
    }

    /// Whether this is an end-of-partition event; its [`Self::offset`] is where the log ended
    /// when the fetch that raised it was answered.
    pub(super) fn is_eof(&self) -> bool {
        self.msg().err == rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR__PARTITION_EOF
    }

    /// The record's offset.
    pub(super) fn offset(&self) -> i64 {
        self.msg().offset
    }

    /// The key, `None` for a null key.
    pub(super) fn key(&self) -> Option<&[u8]> {
        let m = self.msg();
        // SAFETY: librdkafka guarantees `key_len` bytes at `key` while the message lives.
        unsafe { bytes(m.key.cast(), m.key_len) }
    }

    /// The value, `None` for a null value (a tombstone).
    pub(super) fn payload(&self) -> Option<&[u8]> {
        let m = self.msg();
        // SAFETY: as for the key.
        unsafe { bytes(m.payload.cast(), m.len) }
    }

    /// The record's timestamp and its type.
    pub(super) fn timestamp(&self) -> Timestamp {
        let mut kind = rdsys::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
        // SAFETY: a live message and a valid out-pointer.
        let ts = unsafe { rdsys::rd_kafka_message_timestamp(self.ptr.as_ptr(), &mut kind) };
        match kind {
            rdsys::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_CREATE_TIME => {
                Timestamp::CreateTime(ts)
            }
            rdsys::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME => {
                Timestamp::LogAppendTime(ts)
            }
            _ => Timestamp::NotAvailable,
        }
    }

    /// Calls `f` with each header's name and value (`None` for a null value), in order.
    /// Names that are not UTF-8 are passed lossily converted.
    pub(super) fn for_each_header(&self, mut f: impl FnMut(&str, Option<&[u8]>)) {
        let mut hdrs: *mut rdsys::rd_kafka_headers_t = std::ptr::null_mut();
        // SAFETY: a live message and a valid out-pointer; the headers belong to the message.
        let err = unsafe { rdsys::rd_kafka_message_headers(self.ptr.as_ptr(), &mut hdrs) };
        if err != rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR || hdrs.is_null() {
            return;
        }
        let mut idx = 0;
        loop {
            let mut name: *const std::os::raw::c_char = std::ptr::null();
            let mut value: *const std::os::raw::c_void = std::ptr::null();
            let mut size = 0usize;
            // SAFETY: `hdrs` is valid while the message lives; out-pointers are valid.
            let err = unsafe {
                rdsys::rd_kafka_header_get_all(hdrs, idx, &mut name, &mut value, &mut size)
            };
            if err != rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR || name.is_null() {
                return;
            }
            // SAFETY: librdkafka's header names are NUL-terminated and live with the message.
            let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
            // SAFETY: `size` bytes at `value`, or a null value.
            let value = unsafe { bytes(value.cast(), size) };
            f(&name, value);
            idx += 1;
        }
    }
}

/// `len` bytes at `ptr`, or `None` for a null pointer.
///
/// # Safety
/// A non-null `ptr` must point to `len` readable bytes that outlive the returned slice.
unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> Option<&'a [u8]> {
    if ptr.is_null() {
        None
    } else if len == 0 {
        Some(&[])
    } else {
        // SAFETY: the caller's promise.
        Some(unsafe { std::slice::from_raw_parts(ptr, len) })
    }
}

/// A consumer's own queue, polled in batches. Holds a reference to the queue, so it must be
/// dropped before the consumer (see [`RawRecord`]).
pub(super) struct BatchPoller {
    queue: NonNull<rdsys::rd_kafka_queue_t>,
    /// Records taken from librdkafka, not yet handed out.
    taken: VecDeque<RawRecord>,
    scratch: Vec<*mut rdsys::rd_kafka_message_t>,
}

// SAFETY: librdkafka queues are thread-safe; the poller is used by one thread at a time
// (it is owned by a pooled consumer or by one partition slot of a shared consumer).
unsafe impl Send for BatchPoller {}

impl Drop for BatchPoller {
    fn drop(&mut self) {
        self.taken.clear();
        // SAFETY: the reference taken in `new` is released once, here.
        unsafe { rdsys::rd_kafka_queue_destroy(self.queue.as_ptr()) }
    }
}

impl BatchPoller {
    /// A poller over `consumer`'s queue (where the records of assigned partitions arrive).
    pub(super) fn new(consumer: &BaseConsumer) -> Option<BatchPoller> {
        // SAFETY: a live client; the returned queue reference is ours to destroy.
        let queue = unsafe { rdsys::rd_kafka_queue_get_consumer(consumer.client().native_ptr()) };
        Some(BatchPoller {
            queue: NonNull::new(queue)?,
            taken: VecDeque::new(),
            scratch: vec![std::ptr::null_mut(); MAX_PER_CALL],
        })
    }

    /// A poller over the queue of one partition of `consumer`, taken out of the consumer's
    /// queue: that partition's records and events arrive here only, so each partition can be
    /// read on its own while one fetcher serves them all. Must be called before the partition
    /// is assigned (records queued before would stay in the consumer's queue).
    pub(super) fn for_partition(
        consumer: &BaseConsumer,
        topic: &str,
        partition: i32,
    ) -> Option<BatchPoller> {
        let name = CString::new(topic).ok()?;
        // SAFETY: a live client and a NUL-terminated name; the returned queue reference is
        // ours to destroy (in Drop).
        let queue = unsafe {
            rdsys::rd_kafka_queue_get_partition(
                consumer.client().native_ptr(),
                name.as_ptr(),
                partition,
            )
        };
        let queue = NonNull::new(queue)?;
        // SAFETY: a live queue; forwarding to null stops its forwarding to the consumer's
        // queue, and librdkafka keeps it so across later assignments (an application forward).
        unsafe { rdsys::rd_kafka_queue_forward(queue.as_ptr(), std::ptr::null_mut()) };
        Some(BatchPoller {
            queue,
            taken: VecDeque::new(),
            scratch: vec![std::ptr::null_mut(); MAX_PER_CALL],
        })
    }

    /// The next record or error event, waiting up to `timeout` only when nothing is queued.
    pub(super) fn next(&mut self, timeout: Duration) -> Option<RawRecord> {
        if self.taken.is_empty() {
            // Take whatever is queued without waiting; if nothing is, wait for one record:
            // a batch call waits until its buffer is full, which would stall the end of a
            // range for the whole timeout.
            if self.take(0, MAX_PER_CALL) == 0 {
                let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
                self.take(ms, 1);
            }
        }
        self.taken.pop_front()
    }

    /// Puts a record back in front, to be handed out first next time.
    pub(super) fn put_back(&mut self, record: RawRecord) {
        self.taken.push_front(record);
    }

    /// Drops the records already taken (after a reassignment they belong to another
    /// partition or position).
    pub(super) fn clear(&mut self) {
        self.taken.clear();
    }

    fn take(&mut self, timeout_ms: i32, max: usize) -> usize {
        let max = max.min(self.scratch.len());
        // SAFETY: `scratch` has room for `max` pointers; librdkafka fills the first `n`.
        let n = unsafe {
            rdsys::rd_kafka_consume_batch_queue(
                self.queue.as_ptr(),
                timeout_ms,
                self.scratch.as_mut_ptr(),
                max,
            )
        };
        let n = usize::try_from(n).unwrap_or(0).min(max);
        for &ptr in &self.scratch[..n] {
            if let Some(ptr) = NonNull::new(ptr) {
                self.taken.push_back(RawRecord { ptr });
            }
        }
        n
    }
}
