//! Helpers shared by engine-kafka's integration tests: the broker process, writing through the
//! Sink trait and reading through the Source trait as the streaming runtime would.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{Array, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use engine_core::connector::{
    DataWriter, InputPartition, OutputMode, Sink, SinkContext, WriterContext,
};
use engine_core::options::Options;
use engine_kafka::broker::BrokerInfo;
use engine_kafka::testing::shared_broker;
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};

pub fn broker() -> BrokerInfo {
    shared_broker(env!("CARGO_BIN_EXE_sstream-broker")).unwrap()
}

pub fn kv_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("key", DataType::Utf8, true),
        Field::new("value", DataType::Utf8, true),
    ]))
}

pub fn kv_batch(rows: std::ops::Range<usize>) -> RecordBatch {
    let keys: StringArray = rows.clone().map(|i| Some(format!("k{i}"))).collect();
    let values: StringArray = rows.map(|i| Some(format!("v{i}"))).collect();
    RecordBatch::try_new(kv_schema(), vec![Arc::new(keys), Arc::new(values)]).unwrap()
}

pub fn sink_ctx(
    options: &[(&str, &str)],
    schema: SchemaRef,
    query_id: Option<&str>,
) -> SinkContext {
    SinkContext {
        options: Options::new(options.iter().copied()),
        schema,
        output_mode: OutputMode::Append,
        query_id: query_id.map(str::to_string),
        save_mode: None,
    }
}

/// The writer of task `partition` (of `num_partitions`) of micro-batch `batch_id`, stamped
/// with the current time as the batch timestamp.
pub fn micro_batch_writer(
    sink: &dyn Sink,
    batch_id: u64,
    partition: usize,
    num_partitions: usize,
) -> Box<dyn DataWriter> {
    sink.create_writer(WriterContext {
        batch_id,
        partition,
        num_partitions,
        batch_timestamp_ms: Some(now_ms()),
    })
    .unwrap()
}

/// Writes one micro-batch: one writer per task, then the sink-level commit.
pub fn write_batch(sink: &dyn Sink, batch_id: u64, tasks: &[RecordBatch]) {
    let mut messages = Vec::new();
    for (i, b) in tasks.iter().enumerate() {
        let mut w = micro_batch_writer(sink, batch_id, i, tasks.len());
        w.write(b).unwrap();
        messages.push(w.commit().unwrap());
    }
    sink.commit(batch_id, messages).unwrap();
}

/// Reads every partition, returning `value` strings.
pub fn read_values(parts: &[Arc<dyn InputPartition>]) -> Vec<String> {
    let mut out = Vec::new();
    for p in parts {
        for b in p.read().unwrap() {
            let b = b.unwrap();
            let v = b.column(1).as_binary::<i32>();
            for i in 0..v.len() {
                out.push(String::from_utf8(v.value(i).to_vec()).unwrap());
            }
        }
    }
    out
}

/// Every record of `topic` as (value, headers) with a read_committed consumer.
pub fn consume_committed(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
) -> Vec<(String, BTreeMap<String, String>)> {
    consume_placed(bootstrap, topic, partitions)
        .into_iter()
        .map(|(_, v, h)| (v, h))
        .collect()
}

/// Every record of `topic` as (partition, value, headers) with a read_committed consumer.
pub fn consume_placed(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
) -> Vec<(i32, String, BTreeMap<String, String>)> {
    let consumer = engine_kafka::testing::consumer_from_beginning(
        bootstrap,
        topic,
        partitions,
        &[
            ("isolation.level", "read_committed"),
            ("enable.partition.eof", "true"),
            ("log_level", "3"),
        ],
    )
    .unwrap();
    let mut eof = 0;
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while eof < partitions && Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(_))) => eof += 1,
            Some(Err(e)) => panic!("{e}"),
            Some(Ok(m)) => {
                let v = String::from_utf8(m.payload().unwrap_or_default().to_vec()).unwrap();
                let mut h = BTreeMap::new();
                if let Some(hs) = m.headers() {
                    for x in hs.iter() {
                        h.insert(
                            x.key.to_string(),
                            String::from_utf8_lossy(x.value.unwrap_or_default()).into_owned(),
                        );
                    }
                }
                out.push((m.partition(), v, h));
            }
        }
    }
    out
}

/// Now, in ms since the epoch (a micro-batch's timestamp in writer contexts).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// How a child process given to [`kill_mid_run`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildEnd {
    /// SIGKILLed after it made progress and before it finished: a kill that landed mid-run.
    KilledMidRun,
    /// It finished (or failed) on its own before the kill could land.
    Exited(std::process::ExitStatus),
}

/// Waits until the child made progress (`progress()` grows past its value at the call) and
/// then `extra` more, and SIGKILLs it if it has not finished by then; a kill only counts
/// when it landed (the child did not exit on its own first), as the crash tests of
/// engine-sql count them. `progress` is what the child has durably done (committed batches),
/// so a kill never lands before the query started working.
pub fn kill_mid_run(
    child: &mut std::process::Child,
    progress: impl Fn() -> usize,
    extra: Duration,
) -> ChildEnd {
    let before = progress();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return ChildEnd::Exited(status);
        }
        if progress() > before {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let started = Instant::now();
    while started.elapsed() < extra {
        if let Some(status) = child.try_wait().unwrap() {
            return ChildEnd::Exited(status);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    // A child that exited between the last check and the kill ends with its own status.
    if status.success() {
        ChildEnd::Exited(status)
    } else {
        ChildEnd::KilledMidRun
    }
}

/// Files in `dir` (0 when it does not exist yet): a checkpoint's committed batches.
pub fn count_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}
