//! Kafka benchmarks against the local broker: sink alone, source alone, and a plain consumer
//! (how fast the broker alone can be read here), in messages/s. Run with
//! `cargo xtask bench-kafka` (release build, starts the broker), or by hand:
//! `cargo run --release -p engine-kafka --example kafka_bench -- <bootstrap> [messages] [threads]`.
//! `KAFKA_BENCH_PROGRESS=1` also prints the pipeline's progress durations and its start and end
//! instants (CLOCK_MONOTONIC, for cutting a `perf record -k CLOCK_MONOTONIC` profile);
//! `KAFKA_BENCH_PRODUCER=k=v,k=v` adds librdkafka producer settings to every sink.
//! `KAFKA_BENCH_ONLY=latency` skips the throughput rows (only the micro-batch and end-to-end
//! latency lines are printed); `KAFKA_BENCH_ONLY=source:N` writes the data, then only reads it
//! back N times (default 5) as the source-alone row does, each with a new source, and each
//! time also with plain librdkafka consumers (a control for the machine's noise).
//! `KAFKA_BENCH_TOPIC=<topic>` skips writing and reads that topic (an earlier run prints its
//! name): two builds' sources compared over the very same records.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use engine_core::connector::{
    InputPartition, OutputMode, ReadLimit, Sink, SinkContext, Source, WriterCommitMessage,
    WriterContext,
};
use engine_core::options::Options;
use engine_kafka::broker::BrokerInfo;
use engine_kafka::options::SourceOptions;
use engine_kafka::sink::KafkaSink;
use engine_kafka::source::KafkaSource;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

const PARTITIONS: i32 = 64;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU seconds (user + system) used so far by process `pid` (`self` for this one), from
/// `/proc/<pid>/stat`; 0 where that is unavailable. Reported per phase, so the table shows how
/// the 2 cores were split between this process and the broker process.
fn cpu_secs(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses and may contain spaces).
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|i| f.get(*i).and_then(|v| v.parse::<f64>().ok()))
        .sum();
    ticks / 100.0
}

/// With `KAFKA_BENCH_PROGRESS` set, prints when throughput row `row` (0-based, in table
/// order) starts or ends, on CLOCK_MONOTONIC, for cutting a `perf record -k CLOCK_MONOTONIC`
/// profile to one row with `perf report --time`.
fn mark(row: usize, what: &str) {
    if std::env::var_os("KAFKA_BENCH_PROGRESS").is_some() {
        eprintln!("row {row} {what} at {:?}", Instant::now());
    }
}

/// CPU seconds of this process and of the broker process.
fn cpu_pair(broker_pid: &str) -> (f64, f64) {
    (cpu_secs("self"), cpu_secs(broker_pid))
}

fn batches(total: usize, tasks: usize) -> Vec<Vec<RecordBatch>> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("key", DataType::Utf8, true),
        Field::new("value", DataType::Utf8, true),
    ]));
    let per_task = total / tasks;
    (0..tasks)
        .map(|t| {
            (0..per_task)
                .step_by(8192)
                .map(|start| {
                    let end = (start + 8192).min(per_task);
                    let keys: StringArray = (start..end)
                        .map(|i| Some(format!("user-{}", (t * per_task + i) % 10_000)))
                        .collect();
                    let values: StringArray = (start..end)
                        .map(|i| {
                            Some(format!(
                                r#"{{"order_id":{},"country":"DE","items":[{{"sku":"sku-{}","qty":{}}},{{"sku":"sku-{}","qty":1}}]}}"#,
                                t * per_task + i,
                                i % 1000,
                                i % 7,
                                i % 300
                            ))
                        })
                        .collect();
                    RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(keys), Arc::new(values)])
                        .unwrap()
                })
                .collect()
        })
        .collect()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Writes each of `data`'s task lists through its own writer of `sink`, in parallel, and
/// returns the writers' commit messages (for `Sink::commit`); prints each task's phases.
fn write_tasks(
    sink: &Arc<KafkaSink>,
    data: &[Vec<RecordBatch>],
    label: &str,
) -> Vec<WriterCommitMessage> {
    std::thread::scope(|s| {
        let handles: Vec<_> = data
            .iter()
            .enumerate()
            .map(|(t, task)| {
                let sink = Arc::clone(sink);
                s.spawn(move || {
                    let t0 = Instant::now();
                    let mut w = sink
                        .create_writer(WriterContext {
                            batch_id: 0,
                            partition: t,
                            num_partitions: data.len(),
                            // A micro-batch (the exactly-once phase then measures a first attempt with its read-back).
                            batch_timestamp_ms: Some(now_ms()),
                        })
                        .unwrap();
                    let t1 = Instant::now();
                    for b in task {
                        w.write(b).unwrap();
                    }
                    let t2 = Instant::now();
                    let m = w.commit().unwrap();
                    eprintln!(
                        "{label} task {t}: create_writer {:.2}s, write {:.2}s, writer commit {:.2}s",
                        (t1 - t0).as_secs_f64(),
                        (t2 - t1).as_secs_f64(),
                        t2.elapsed().as_secs_f64()
                    );
                    m
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Reads every partition of `topic` with `threads` plain consumers (partition `p` goes to
/// thread `p % threads`); returns the number of messages read.
fn plain_read(bootstrap: &str, topic: &str, threads: usize, one_at_a_time: bool) -> usize {
    let total = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..threads {
            let total = &total;
            s.spawn(move || {
                let consumer: BaseConsumer = ClientConfig::new()
                    .set("bootstrap.servers", bootstrap)
                    .set("group.id", "bench-plain")
                    .set("enable.partition.eof", "true")
                    // What the source uses too. Without them, every partition's last fetch
                    // waits librdkafka's default 500 ms at the broker, and a consumer whose
                    // prefetch queue fills up stops fetching for a whole second.
                    .set("fetch.wait.max.ms", "10")
                    .set("fetch.queue.backoff.ms", "10")
                    .set("log_level", "3")
                    .create()
                    .unwrap();
                let mine: Vec<i32> = (0..PARTITIONS)
                    .filter(|p| *p as usize % threads == t)
                    .collect();
                let groups: Vec<Vec<i32>> = if one_at_a_time {
                    mine.iter().map(|p| vec![*p]).collect()
                } else {
                    vec![mine]
                };
                let mut n = 0usize;
                let mut bytes = 0usize;
                for group in groups {
                    let mut tpl = TopicPartitionList::new();
                    let mut ends = std::collections::HashMap::new();
                    for p in &group {
                        tpl.add_partition_offset(topic, *p, Offset::Beginning)
                            .unwrap();
                        let (_, high) = consumer
                            .fetch_watermarks(topic, *p, Duration::from_secs(10))
                            .unwrap();
                        if high > 0 {
                            ends.insert(*p, high);
                        }
                    }
                    consumer.assign(&tpl).unwrap();
                    while !ends.is_empty() {
                        match consumer.poll(Duration::from_millis(500)) {
                            Some(Ok(m)) => {
                                use rdkafka::Message;
                                bytes += m.payload().map_or(0, <[u8]>::len);
                                n += 1;
                                if ends.get(&m.partition()) == Some(&(m.offset() + 1)) {
                                    ends.remove(&m.partition());
                                }
                            }
                            Some(Err(KafkaError::PartitionEOF(p))) => {
                                ends.remove(&p);
                            }
                            _ => {}
                        }
                    }
                }
                std::hint::black_box(bytes);
                total.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            });
        }
    });
    total.load(std::sync::atomic::Ordering::Relaxed)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bootstrap = args
        .get(1)
        .cloned()
        .expect("usage: kafka_bench <bootstrap> [messages] [threads]");
    let messages: usize = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let threads: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(2);
    let state = engine_kafka::broker::status(&engine_kafka::broker::default_state_dir())
        .unwrap()
        .expect("start the broker first: cargo xtask broker start");
    let info: BrokerInfo = state;
    let broker_pid = info.pid.to_string();
    // Producer linger (ms) of the sink benchmarks; `KAFKA_BENCH_LINGER_MS` overrides it.
    let linger = std::env::var("KAFKA_BENCH_LINGER_MS").unwrap_or_else(|_| "5".into());
    let mut cpu: Vec<(f64, f64)> = Vec::new();
    if std::env::var("KAFKA_BENCH_ONLY").as_deref() == Ok("latency") {
        engine_kafka::register();
        latency_rows(&bootstrap, &info, threads);
        return;
    }
    // `KAFKA_BENCH_TOPIC` reads an existing topic (written by an earlier run, which prints its
    // name) instead of writing a new one: an A/B of two builds' sources over the same records.
    let reuse = std::env::var("KAFKA_BENCH_TOPIC").ok();
    let topic = reuse
        .clone()
        .unwrap_or_else(|| engine_kafka::testing::unique_topic("bench"));
    if reuse.is_none() {
        info.create_topic(&topic, PARTITIONS).unwrap();
    }
    eprintln!("topic {topic}");

    // Extra producer options for every sink here (`KAFKA_BENCH_PRODUCER=k=v,k=v`, keys
    // without the `kafka.` prefix), to compare librdkafka settings.
    let extra: Vec<(String, String)> = std::env::var("KAFKA_BENCH_PRODUCER")
        .unwrap_or_default()
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (format!("kafka.{}", k.trim()), v.trim().to_string()))
        .collect();
    let with_extra = |base: Vec<(&str, &str)>| {
        let mut all: Vec<(String, String)> = base
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        all.extend(extra.iter().cloned());
        Options::new(all.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    };

    // Sink alone: `threads` tasks writing in parallel through the at-least-once sink.
    let data = batches(messages, threads);
    let schema = data[0][0].schema();
    let sink = Arc::new(
        KafkaSink::new(&SinkContext {
            options: with_extra(vec![
                ("kafka.bootstrap.servers", bootstrap.as_str()),
                ("topic", topic.as_str()),
                ("kafka.linger.ms", linger.as_str()),
                ("kafka.batch.size", "1000000"),
                ("kafka.queue.buffering.max.messages", "1000000"),
            ]),
            schema,
            output_mode: OutputMode::Append,
            query_id: None,
            save_mode: None,
        })
        .unwrap(),
    );
    mark(cpu.len(), "starts");
    let c0 = cpu_pair(&broker_pid);
    let started = Instant::now();
    if reuse.is_none() {
        let commits = write_tasks(&sink, &data, "at-least-once");
        // The batch is written once every record is acknowledged (the sink waits in `commit`).
        sink.commit(0, commits).unwrap();
    }
    let sink_secs = started.elapsed().as_secs_f64();
    if let Some(reps) = std::env::var("KAFKA_BENCH_ONLY").ok().and_then(|v| {
        v.strip_prefix("source")
            .map(|n| n.trim_start_matches(':').parse().unwrap_or(5))
    }) {
        for _ in 0..reps {
            let (secs, read, _) = source_alone(&bootstrap, &topic, threads, &broker_pid);
            println!(
                "source alone: {read} records in {secs:.3} s, {:.0}k msg/s",
                read as f64 / secs / 1e3
            );
            // The same read by plain librdkafka consumers, as a control for the machine's noise.
            let started = Instant::now();
            let read = plain_read(&bootstrap, &topic, threads, false);
            let secs = started.elapsed().as_secs_f64();
            println!(
                "plain consumer: {read} records in {secs:.3} s, {:.0}k msg/s",
                read as f64 / secs / 1e3
            );
        }
        return;
    }
    let c1 = cpu_pair(&broker_pid);
    cpu.push((c1.0 - c0.0, c1.1 - c0.1));
    mark(cpu.len() - 1, "ends");
    let written = (messages / threads) * threads;

    // Exactly-once sink: transactional producer per task, committed by Sink::commit.
    let eos_topic = engine_kafka::testing::unique_topic("bench-eos");
    info.create_topic(&eos_topic, PARTITIONS).unwrap();
    let eos_sink = Arc::new(
        KafkaSink::new(&SinkContext {
            options: Options::new([
                ("kafka.bootstrap.servers", bootstrap.as_str()),
                ("topic", eos_topic.as_str()),
                ("deliveryGuarantee", "exactly_once"),
                ("kafka.linger.ms", linger.as_str()),
                ("kafka.batch.size", "1000000"),
                ("kafka.queue.buffering.max.messages", "1000000"),
            ]),
            schema: data[0][0].schema(),
            output_mode: OutputMode::Append,
            query_id: Some(eos_topic.clone()),
            save_mode: None,
        })
        .unwrap(),
    );
    mark(cpu.len(), "starts");
    let c0 = cpu_pair(&broker_pid);
    let started = Instant::now();
    let messages_out = write_tasks(&eos_sink, &data, "exactly-once");
    let t = Instant::now();
    eos_sink.commit(0, messages_out).unwrap();
    eprintln!(
        "exactly-once Sink::commit (transactions): {:.2}s",
        t.elapsed().as_secs_f64()
    );
    let eos_secs = started.elapsed().as_secs_f64();
    let c1 = cpu_pair(&broker_pid);
    cpu.push((c1.0 - c0.0, c1.1 - c0.1));
    mark(cpu.len() - 1, "ends");
    drop(data);

    // Source alone: plan one batch over everything, read the partitions on `threads` threads.
    mark(cpu.len(), "starts");
    let (source_secs, read, source_cpu) = source_alone(&bootstrap, &topic, threads, &broker_pid);
    cpu.push(source_cpu);
    mark(cpu.len() - 1, "ends");

    // The broker alone: one plain librdkafka consumer per thread over the same partitions,
    // touching each payload but building nothing; once with all of a thread's partitions
    // assigned at once (librdkafka's usual way), once one partition at a time up to its high
    // watermark (the way the source reads).
    let mut plain = Vec::new();
    for one_at_a_time in [false, true] {
        mark(cpu.len(), "starts");
        let c0 = cpu_pair(&broker_pid);
        let started = Instant::now();
        let n = plain_read(&bootstrap, &topic, threads, one_at_a_time);
        plain.push((n, started.elapsed().as_secs_f64()));
        let c1 = cpu_pair(&broker_pid);
        cpu.push((c1.0 - c0.0, c1.1 - c0.1));
        mark(cpu.len() - 1, "ends");
    }

    // The pipeline: Kafka -> from_json -> explode -> to_json -> Kafka through engine-sql's
    // streaming runtime (AvailableNow: drain what is there, then stop). Then the same query
    // into Spark's `noop` sink: what the pipeline costs without producing its output.
    engine_kafka::register();
    let out_topic = engine_kafka::testing::unique_topic("bench-out");
    info.create_topic(&out_topic, PARTITIONS).unwrap();
    let mut kafka_out: Vec<(String, String)> = vec![
        ("kafka.bootstrap.servers".into(), bootstrap.clone()),
        ("topic".into(), out_topic.clone()),
        ("kafka.linger.ms".into(), linger.clone()),
        ("kafka.batch.size".into(), "1000000".into()),
        (
            "kafka.queue.buffering.max.messages".into(),
            "1000000".into(),
        ),
    ];
    kafka_out.extend(extra.iter().cloned());
    let mut pipeline_secs = Vec::new();
    for (format, options) in [("kafka", kafka_out), ("noop", vec![])] {
        mark(cpu.len(), "starts");
        let c0 = cpu_pair(&broker_pid);
        pipeline_secs.push(pipeline(&bootstrap, &topic, threads, format, &options));
        let c1 = cpu_pair(&broker_pid);
        cpu.push((c1.0 - c0.0, c1.1 - c0.1));
        mark(cpu.len() - 1, "ends");
    }

    println!(
        "| benchmark | messages | threads | seconds | msg/s | msg/s per core | CPU s (bench) | CPU s (broker) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for ((name, n, secs), (cpu_bench, cpu_broker)) in [
        ("sink alone (at-least-once, idempotent)", written, sink_secs),
        (
            "sink alone (exactly-once, transactional, first attempt)",
            written,
            eos_secs,
        ),
        ("source alone (Arrow batches)", read, source_secs),
        (
            "broker alone (plain librdkafka consumer, all partitions assigned)",
            plain[0].0,
            plain[0].1,
        ),
        (
            "broker alone (plain librdkafka consumer, one partition at a time)",
            plain[1].0,
            plain[1].1,
        ),
        (
            "pipeline Kafka -> from_json -> explode -> Kafka (input messages)",
            read,
            pipeline_secs[0],
        ),
        (
            "same pipeline into the noop sink (output dropped; input messages)",
            read,
            pipeline_secs[1],
        ),
    ]
    .into_iter()
    .zip(cpu)
    {
        println!(
            "| {name} | {n} | {threads} | {secs:.2} | {:.0}k | {:.0}k | {cpu_bench:.2} | {cpu_broker:.2} |",
            n as f64 / secs / 1e3,
            n as f64 / secs / 1e3 / threads as f64
        );
    }
    println!("peak RSS: {:.0} MB", peak_rss_mb());

    latency_rows(&bootstrap, &info, threads);
    assert_eq!(
        read, written,
        "the source must read back every message written"
    );
}

/// The latency lines: micro-batches over many partitions with a few new records each, and
/// end-to-end latency through the Kafka sink in both delivery guarantees.
/// Plans one batch over everything in `topic` with a new [`KafkaSource`] and reads its
/// partitions on `threads` threads; returns the reading's seconds, the rows read and the CPU
/// seconds of this process and of the broker (`broker_pid`) while reading.
fn source_alone(
    bootstrap: &str,
    topic: &str,
    threads: usize,
    broker_pid: &str,
) -> (f64, usize, (f64, f64)) {
    let dir = std::env::temp_dir().join(format!("kafka-bench-{}", std::process::id()));
    let opts = SourceOptions::for_stream(&Options::new([
        ("kafka.bootstrap.servers", bootstrap),
        ("subscribe", topic),
        ("startingOffsets", "earliest"),
    ]))
    .unwrap();
    let mut src = KafkaSource::new(opts, dir.clone(), "bench").unwrap();
    let start = src.initial_offset().unwrap();
    let end = src.latest_offset(&start, &ReadLimit::AllAvailable).unwrap();
    let parts: Vec<Arc<dyn InputPartition>> = src.plan_partitions(&start, &end).unwrap();
    let c0 = cpu_pair(broker_pid);
    let started = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let rows = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(p) = parts.get(i) else { return };
                    let t = Instant::now();
                    for b in p.read().unwrap() {
                        rows.fetch_add(b.unwrap().num_rows(), std::sync::atomic::Ordering::Relaxed);
                    }
                    if std::env::var_os("KAFKA_BENCH_PROGRESS").is_some() {
                        eprintln!("source task {i}: {:.2} ms", t.elapsed().as_secs_f64() * 1e3);
                    }
                }
            });
        }
    });
    let secs = started.elapsed().as_secs_f64();
    let c1 = cpu_pair(broker_pid);
    let _ = std::fs::remove_dir_all(&dir);
    (
        secs,
        rows.load(std::sync::atomic::Ordering::Relaxed),
        (c1.0 - c0.0, c1.1 - c0.1),
    )
}

fn latency_rows(bootstrap: &str, info: &BrokerInfo, threads: usize) {
    // Micro-batch latency: a streaming query over many partitions with few new records each,
    // where each task's fixed costs (taking a consumer, its first fetch) are what shows.
    let lat_topic = engine_kafka::testing::unique_topic("bench-latency");
    info.create_topic(&lat_topic, PARTITIONS).unwrap();
    let per_batch = 5 * PARTITIONS as usize;
    let lat_sink = Arc::new(
        KafkaSink::new(&SinkContext {
            options: Options::new([
                ("kafka.bootstrap.servers", bootstrap),
                ("topic", lat_topic.as_str()),
            ]),
            schema: Arc::new(Schema::new(vec![
                Field::new("key", DataType::Utf8, true),
                Field::new("value", DataType::Utf8, true),
            ])),
            output_mode: OutputMode::Append,
            query_id: None,
            save_mode: None,
        })
        .unwrap(),
    );
    let commits = write_tasks(&lat_sink, &batches(per_batch * 8, 1), "latency data");
    lat_sink.commit(0, commits).unwrap();
    let (mut trigger_ms, phases) = micro_batch_durations(bootstrap, &lat_topic, threads, per_batch);
    trigger_ms.sort_unstable();
    println!(
        "micro-batches over {PARTITIONS} partitions, 5 new records each: {} batches, triggerExecution median {} ms, max {} ms; phase medians (ms): {}",
        trigger_ms.len(),
        trigger_ms.get(trigger_ms.len() / 2).copied().unwrap_or(-1),
        trigger_ms.last().copied().unwrap_or(-1),
        phases
    );
    // End to end: records produced one at a time into a running query (processingTime 0)
    // until they are visible to a read_committed consumer of its output topic.
    for guarantee in ["at_least_once", "exactly_once"] {
        let mut ms = end_to_end_latency(bootstrap, info, threads, guarantee);
        ms.sort_by(f64::total_cmp);
        let pick = |q: f64| {
            let i = ((ms.len() as f64 * q).ceil() as usize).saturating_sub(1);
            ms.get(i).copied().unwrap_or(f64::NAN)
        };
        println!(
            "end-to-end latency, processingTime 0, {guarantee} sink, {PARTITIONS} partitions: {} records, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            ms.len(),
            pick(0.5),
            pick(0.99),
            ms.last().copied().unwrap_or(f64::NAN)
        );
    }
}

/// Records sent by [`end_to_end_latency`], one every this long.
const E2E_INTERVAL: Duration = Duration::from_millis(10);
/// Records [`end_to_end_latency`] measures.
const E2E_RECORDS: usize = 400;
/// Records [`end_to_end_latency`] sends first, all at once, and waits for before it measures:
/// the query's first batches make the sink's producers (one transactional producer per task
/// id in exactly-once mode, each reading back its partitions once).
const E2E_WARMUP: usize = 2 * PARTITIONS as usize;

/// Microseconds since the epoch.
fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Runs Kafka -> Kafka (`deliveryGuarantee` = `guarantee`, processingTime 0) over a new
/// `PARTITIONS`-partition topic, produces [`E2E_RECORDS`] records one at a time (round robin
/// over the partitions, each carrying its send time), and returns each record's latency in ms
/// until a read_committed consumer of the output topic received it.
fn end_to_end_latency(
    bootstrap: &str,
    info: &BrokerInfo,
    threads: usize,
    guarantee: &str,
) -> Vec<f64> {
    use rdkafka::Message;
    use rdkafka::producer::{BaseRecord, DefaultProducerContext, ThreadedProducer};
    let input = engine_kafka::testing::unique_topic("bench-e2e-in");
    let output = engine_kafka::testing::unique_topic("bench-e2e-out");
    info.create_topic(&input, PARTITIONS).unwrap();
    info.create_topic(&output, PARTITIONS).unwrap();
    let checkpoint = std::env::temp_dir().join(format!(
        "kafka-bench-e2e-{}-{guarantee}",
        std::process::id()
    ));
    let spark = engine_sql::prelude::Session::builder()
        .master(&format!("local[{threads}]"))
        .config("spark.sql.shuffle.partitions", &threads.to_string())
        .build()
        .unwrap();
    let query = spark
        .read_stream()
        .format("kafka")
        .option("kafka.bootstrap.servers", bootstrap)
        .option("subscribe", &input)
        .option("startingOffsets", "earliest")
        .load()
        .unwrap()
        .select_expr(&["key", "value"])
        .unwrap()
        .write_stream()
        .format("kafka")
        .option("kafka.bootstrap.servers", bootstrap)
        .option("topic", &output)
        .option("deliveryGuarantee", guarantee)
        .option("checkpointLocation", checkpoint.display())
        .trigger(engine_sql::streaming::Trigger::ProcessingTime(
            Duration::ZERO,
        ))
        .start()
        .unwrap();
    let consumer = engine_kafka::testing::consumer_from_beginning(
        bootstrap,
        &output,
        PARTITIONS,
        &[
            ("isolation.level", "read_committed"),
            ("fetch.wait.max.ms", "1"),
            ("log_level", "3"),
        ],
    )
    .unwrap();
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "0")
        .set("log_level", "3")
        .create()
        .unwrap();
    // Each value is "<sequence number>:<send time in µs>".
    let warm = std::sync::atomic::AtomicUsize::new(0);
    let latencies = std::thread::scope(|s| {
        let receiver = s.spawn(|| {
            let mut out = Vec::with_capacity(E2E_RECORDS);
            let deadline = Instant::now()
                + E2E_INTERVAL * (E2E_WARMUP + E2E_RECORDS) as u32
                + Duration::from_secs(120);
            while out.len() < E2E_RECORDS && Instant::now() < deadline {
                if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
                    let received = now_us();
                    let parsed = m
                        .payload()
                        .and_then(|p| std::str::from_utf8(p).ok())
                        .and_then(|t| t.split_once(':'))
                        .and_then(|(i, t)| {
                            Some((i.parse::<usize>().ok()?, t.parse::<i64>().ok()?))
                        });
                    match parsed {
                        Some((i, sent)) if i >= E2E_WARMUP => {
                            out.push((received - sent) as f64 / 1000.0);
                        }
                        Some(_) => {
                            warm.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        None => {}
                    }
                }
            }
            out
        });
        let send = |i: usize| {
            let value = format!("{i}:{}", now_us());
            producer
                .send(
                    BaseRecord::<str, str>::to(&input)
                        .partition(i as i32 % PARTITIONS)
                        .payload(&value),
                )
                .map_err(|(e, _)| e)
                .unwrap();
        };
        (0..E2E_WARMUP).for_each(send);
        let deadline = Instant::now() + Duration::from_secs(120);
        while warm.load(std::sync::atomic::Ordering::Relaxed) < E2E_WARMUP {
            let failed = query.exception();
            assert!(
                failed.is_none(),
                "the {guarantee} query failed during the warm-up: {failed:?}"
            );
            assert!(
                Instant::now() < deadline,
                "the {guarantee} query never caught up with the warm-up ({} of {E2E_WARMUP} records arrived; last progress: {:?})",
                warm.load(std::sync::atomic::Ordering::Relaxed),
                query
                    .last_progress()
                    .map(|p| (p.batch_id, p.num_input_rows))
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let start = Instant::now();
        for i in E2E_WARMUP..E2E_WARMUP + E2E_RECORDS {
            let at = start + E2E_INTERVAL * (i - E2E_WARMUP) as u32;
            if let Some(wait) = at.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            send(i);
        }
        receiver.join().unwrap()
    });
    query.stop().unwrap();
    print_progress(&format!("e2e {guarantee}"), &query);
    let _ = std::fs::remove_dir_all(&checkpoint);
    latencies
}

/// Runs Kafka -> from_json -> explode -> to_json -> `format` as a streaming query
/// (`local[threads]`, `Trigger.AvailableNow`) over everything in `topic`; returns its seconds.
fn pipeline(
    bootstrap: &str,
    topic: &str,
    threads: usize,
    format: &str,
    options: &[(String, String)],
) -> f64 {
    let checkpoint =
        std::env::temp_dir().join(format!("kafka-bench-ckpt-{}-{format}", std::process::id()));
    let spark = engine_sql::prelude::Session::builder()
        .master(&format!("local[{threads}]"))
        .config("spark.sql.shuffle.partitions", &threads.to_string())
        .build()
        .unwrap();
    let progress = std::env::var_os("KAFKA_BENCH_PROGRESS").is_some();
    let started = Instant::now();
    if progress {
        // CLOCK_MONOTONIC, to cut a `perf record -k CLOCK_MONOTONIC` profile to the pipeline.
        eprintln!("pipeline ({format}) starts at {started:?}");
    }
    let query = read_from_earliest(&spark, bootstrap, topic, None)
        .select_expr(&[
            "from_json(CAST(value AS STRING), 'order_id BIGINT, country STRING, items ARRAY<STRUCT<sku: STRING, qty: INT>>') AS o",
        ])
        .unwrap()
        .select_expr(&["o.order_id AS order_id", "explode(o.items) AS item"])
        .unwrap()
        .select_expr(&["CAST(order_id AS STRING) AS key", "to_json(item) AS value"])
        .unwrap()
        .write_stream()
        .format(format)
        .options(options.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .option("checkpointLocation", checkpoint.display())
        .trigger(engine_sql::streaming::Trigger::AvailableNow)
        .start()
        .unwrap();
    query.await_termination(None).unwrap();
    print_progress(format, &query);
    let secs = started.elapsed().as_secs_f64();
    if progress {
        eprintln!("pipeline ({format}) ends at {:?}", Instant::now());
    }
    let _ = std::fs::remove_dir_all(&checkpoint);
    secs
}

/// Runs Kafka -> noop over `topic` in micro-batches of `per_batch` records
/// (`maxOffsetsPerTrigger`, `Trigger.AvailableNow`); returns each batch's
/// `durationMs.triggerExecution` and the median of every phase, as text.
fn micro_batch_durations(
    bootstrap: &str,
    topic: &str,
    threads: usize,
    per_batch: usize,
) -> (Vec<i64>, String) {
    let checkpoint =
        std::env::temp_dir().join(format!("kafka-bench-latency-{}", std::process::id()));
    let spark = engine_sql::prelude::Session::builder()
        .master(&format!("local[{threads}]"))
        .build()
        .unwrap();
    let query = read_from_earliest(&spark, bootstrap, topic, Some(per_batch))
        .write_stream()
        .format("noop")
        .option("checkpointLocation", checkpoint.display())
        .trigger(engine_sql::streaming::Trigger::AvailableNow)
        .start()
        .unwrap();
    query.await_termination(None).unwrap();
    let _ = std::fs::remove_dir_all(&checkpoint);
    print_progress("latency", &query);
    let batches: Vec<_> = query
        .recent_progress()
        .into_iter()
        .filter(|p| p.num_input_rows > 0)
        .collect();
    let mut phases: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    for p in &batches {
        for (k, v) in &p.duration_ms {
            phases.entry(k.clone()).or_default().push(*v);
        }
    }
    let phases = phases
        .into_iter()
        .map(|(k, mut v)| {
            v.sort_unstable();
            format!("{k} {}", v[v.len() / 2])
        })
        .collect::<Vec<_>>()
        .join(", ");
    let trigger = batches
        .iter()
        .filter_map(|p| p.duration_ms.get("triggerExecution").copied())
        .collect();
    (trigger, phases)
}

/// A streaming read of every partition of `topic` from the earliest offset, at most
/// `max_per_trigger` records per micro-batch.
fn read_from_earliest(
    spark: &engine_sql::prelude::Session,
    bootstrap: &str,
    topic: &str,
    max_per_trigger: Option<usize>,
) -> engine_sql::prelude::DataFrame {
    let mut reader = spark
        .read_stream()
        .format("kafka")
        .option("kafka.bootstrap.servers", bootstrap)
        .option("subscribe", topic)
        .option("startingOffsets", "earliest");
    if let Some(n) = max_per_trigger {
        reader = reader.option("maxOffsetsPerTrigger", n.to_string());
    }
    reader.load().unwrap()
}

/// With `KAFKA_BENCH_PROGRESS` set, prints each batch's rows and phase durations.
fn print_progress(label: &str, query: &engine_sql::streaming::StreamingQuery) {
    if std::env::var_os("KAFKA_BENCH_PROGRESS").is_some() {
        for p in query.recent_progress() {
            eprintln!(
                "{label} batch {} rows {} durations {:?}",
                p.batch_id, p.num_input_rows, p.duration_ms
            );
        }
    }
}
