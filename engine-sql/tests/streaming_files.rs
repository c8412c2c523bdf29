//! The file and rate connectors of the streaming runtime, driven through the connector
//! traits: file source options, restarts, the file sink's `_spark_metadata` log, and batch
//! reads that honour it (including directories Spark's own file sink wrote).

#![allow(clippy::unwrap_used)] // helpers of tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::util::display::array_value_to_string;
use engine_core::connector::{
    Offset, OutputMode, ReadLimit, Sink, SinkContext, Source, SourceContext, WriterContext,
};
use engine_core::options::Options;
use engine_sql::prelude::*;
use engine_sql::streaming::formats::lookup;

mod common;
use common::{T0, put, sorted_ids};

fn spark() -> Session {
    Session::builder()
        .master("local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .build()
        .unwrap()
}

fn source(
    format: &str,
    dir: &Path,
    checkpoint: &Path,
    schema: Option<&str>,
    opts: &[(&str, &str)],
) -> Box<dyn Source> {
    let mut options = Options::new(opts.iter().copied());
    options.set("path", dir.display().to_string());
    let f = lookup(format).unwrap();
    f.create_source(SourceContext {
        options,
        user_schema: schema.map(|s| Arc::new(engine_sql::types::parse_ddl_schema(s).unwrap())),
        metadata_path: checkpoint.join("sources/0"),
        query_id: "q".into(),
    })
    .unwrap()
}

fn rows_of(batches: &[RecordBatch]) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        for i in 0..b.num_rows() {
            let cells: Vec<String> = b
                .columns()
                .iter()
                .map(|c| {
                    if c.is_null(i) {
                        "NULL".into()
                    } else {
                        array_value_to_string(c, i).unwrap()
                    }
                })
                .collect();
            out.push(cells.join(","));
        }
    }
    out.sort();
    out
}

/// Reads `(start, end]` of a source.
fn read(src: &mut Box<dyn Source>, start: &Offset, end: &Offset) -> Vec<String> {
    let mut batches = Vec::new();
    for p in src.plan_partitions(start, end).unwrap() {
        for b in p.read().unwrap() {
            batches.push(b.unwrap());
        }
    }
    rows_of(&batches)
}

/// One trigger: the next offset, and the rows up to it.
fn next(src: &mut Box<dyn Source>, start: &Offset) -> (Offset, Vec<String>) {
    let limit = src.default_read_limit();
    let end = src.latest_offset(start, &limit).unwrap();
    let rows = read(src, start, &end);
    (end, rows)
}

#[test]
fn max_files_per_trigger_takes_oldest_first_and_logs_spark_format() {
    let dir = tempfile::tempdir().unwrap();
    let (input, ck) = (dir.path().join("in"), dir.path().join("ck"));
    for i in 0..5 {
        put(
            &input,
            &format!("f{i}.json"),
            &format!("{{\"v\":{i}}}\n"),
            10 - i,
        );
    }
    let mut src = source(
        "json",
        &input,
        &ck,
        Some("v INT"),
        &[("maxFilesPerTrigger", "2")],
    );
    assert_eq!(src.default_read_limit(), ReadLimit::MaxFiles(2));
    let start = src.initial_offset().unwrap();
    let (o1, r1) = next(&mut src, &start);
    assert_eq!(o1.json(), "{\"logOffset\":0}");
    assert_eq!(r1, ["3", "4"], "the two oldest files");
    let (o2, r2) = next(&mut src, &o1);
    assert_eq!(r2, ["1", "2"]);
    let (o3, r3) = next(&mut src, &o2);
    assert_eq!(r3, ["0"]);
    let (o4, r4) = next(&mut src, &o3);
    assert_eq!(o4, o3, "nothing new");
    assert!(r4.is_empty());
    let log = std::fs::read_to_string(ck.join("sources/0/0")).unwrap();
    let f4 = input.join("f4.json");
    let f3 = input.join("f3.json");
    assert_eq!(
        log,
        format!(
            "v1\n{{\"path\":\"file://{}\",\"timestamp\":{},\"batchId\":0}}\n{{\"path\":\"file://{}\",\"timestamp\":{},\"batchId\":0}}",
            f4.display(),
            (T0 + 6) * 1000,
            f3.display(),
            (T0 + 7) * 1000
        )
    );
}

#[test]
fn latest_first_and_max_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (input, ck) = (dir.path().join("in"), dir.path().join("ck"));
    for i in 0..4 {
        put(&input, &format!("f{i}.txt"), &format!("line{i}\n"), i);
    }
    let mut src = source(
        "text",
        &input,
        &ck,
        None,
        &[("latestFirst", "true"), ("maxFilesPerTrigger", "1")],
    );
    let start = src.initial_offset().unwrap();
    let (o1, r1) = next(&mut src, &start);
    assert_eq!(r1, ["line3"]);
    let (_, r2) = next(&mut src, &o1);
    assert_eq!(r2, ["line2"]);

    // maxBytesPerTrigger: at least one file, then files while the total fits.
    let ck2 = dir.path().join("ck2");
    let mut src = source("text", &input, &ck2, None, &[("maxBytesPerTrigger", "12")]);
    assert_eq!(src.default_read_limit(), ReadLimit::MaxBytes(12));
    let (o1, r1) = next(&mut src, &start);
    assert_eq!(r1, ["line0", "line1"], "6 + 6 bytes fit in 12");
    let (_, r2) = next(&mut src, &o1);
    assert_eq!(r2, ["line2", "line3"]);
}

#[test]
fn max_file_age_is_relative_to_the_newest_file_and_ignored_with_latest_first_limits() {
    let dir = tempfile::tempdir().unwrap();
    let (input, ck) = (dir.path().join("in"), dir.path().join("ck"));
    put(&input, "new.txt", "new\n", 7200);
    let mut src = source("text", &input, &ck, None, &[("maxFileAge", "1h")]);
    let start = src.initial_offset().unwrap();
    let (o1, r1) = next(&mut src, &start);
    assert_eq!(r1, ["new"]);
    // Older than the newest file minus an hour: never read.
    put(&input, "old.txt", "old\n", 0);
    put(&input, "recent.txt", "recent\n", 7000);
    let (_, r2) = next(&mut src, &o1);
    assert_eq!(r2, ["recent"]);

    // latestFirst + maxFilesPerTrigger: maxFileAge is ignored (Spark), so the old file
    // is read after the new ones.
    let ck2 = dir.path().join("ck2");
    let mut src = source(
        "text",
        &input,
        &ck2,
        None,
        &[
            ("maxFileAge", "1h"),
            ("latestFirst", "true"),
            ("maxFilesPerTrigger", "2"),
        ],
    );
    let (o1, r1) = next(&mut src, &start);
    assert_eq!(r1, ["new", "recent"]);
    let (_, r2) = next(&mut src, &o1);
    assert_eq!(r2, ["old"]);
}

#[test]
fn restart_never_rereads_or_skips_and_replays_logged_batches_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (input, ck) = (dir.path().join("in"), dir.path().join("ck"));
    for i in 0..4 {
        put(
            &input,
            &format!("f{i}.csv"),
            &format!("{i},a{i}\n{i},b{i}\n"),
            i,
        );
    }
    let opts = [("maxFilesPerTrigger", "1"), ("header", "false")];
    let schema = Some("k INT, s STRING");
    let mut src = source("csv", &input, &ck, schema, &opts);
    let start = src.initial_offset().unwrap();
    let (o1, r1) = next(&mut src, &start);
    // The runtime logged o1 and ran the batch; then the source logged batch 1 and the
    // process died before the runtime logged its offset.
    let limit = src.default_read_limit();
    let o2 = src.latest_offset(&o1, &limit).unwrap();
    let r2 = read(&mut src, &o1, &o2);
    drop(src);

    put(&input, "f9.csv", "9,z\n", 100);
    let mut again = source("csv", &input, &ck, schema, &opts);
    // A replay of a logged range returns the same rows.
    assert_eq!(read(&mut again, &start, &o1), r1);
    // The next batch includes the files the dead process logged (as Spark: the log offset
    // moves on from there), so they are neither skipped nor taken again later.
    let (p2, q2) = next(&mut again, &o1);
    assert_ne!(p2, o2);
    assert!(r2.iter().all(|r| q2.contains(r)), "{q2:?} lacks {r2:?}");
    let mut seen = vec![r1, q2];
    let mut at = p2;
    loop {
        let (o, r) = next(&mut again, &at);
        if o == at {
            break;
        }
        seen.push(r);
        at = o;
    }
    let all: Vec<String> = seen.into_iter().flatten().collect();
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(all.len(), sorted.len(), "no file read twice: {all:?}");
    assert_eq!(sorted.len(), 9, "every file read once: {sorted:?}");
}

#[test]
fn available_now_fixes_the_file_set() {
    let dir = tempfile::tempdir().unwrap();
    let (input, ck) = (dir.path().join("in"), dir.path().join("ck"));
    put(&input, "a.txt", "a\n", 0);
    put(&input, "b.txt", "b\n", 1);
    let mut src = source("text", &input, &ck, None, &[("maxFilesPerTrigger", "1")]);
    src.prepare_for_trigger_available_now().unwrap();
    put(&input, "c.txt", "c\n", 2);
    let start = src.initial_offset().unwrap();
    let (o1, r1) = next(&mut src, &start);
    let (o2, r2) = next(&mut src, &o1);
    let (o3, _) = next(&mut src, &o2);
    assert_eq!((r1, r2), (vec!["a".to_string()], vec!["b".to_string()]));
    assert_eq!(o3, o2, "c appeared after the start of AvailableNow");
}

#[test]
fn clean_source_archives_or_deletes_committed_files() {
    let dir = tempfile::tempdir().unwrap();
    let (input, ck) = (dir.path().join("in"), dir.path().join("ck"));
    let archive = dir.path().join("archive");
    let a = put(&input, "a.txt", "a\n", 0);
    let b = put(&input, "b.txt", "b\n", 1);
    let archive_s = archive.display().to_string();
    let mut src = source(
        "text",
        &input,
        &ck,
        None,
        &[
            ("cleanSource", "archive"),
            ("sourceArchiveDir", &archive_s),
            ("maxFilesPerTrigger", "1"),
        ],
    );
    let start = src.initial_offset().unwrap();
    let (o1, _) = next(&mut src, &start);
    assert!(a.exists(), "nothing moves before the batch commits");
    src.commit(&o1).unwrap();
    assert!(!a.exists());
    let archived = archive.join(a.strip_prefix("/").unwrap());
    assert_eq!(std::fs::read_to_string(archived).unwrap(), "a\n");
    assert!(b.exists());

    let input2 = dir.path().join("in2");
    let c = put(&input2, "c.txt", "c\n", 0);
    let mut src = source(
        "text",
        &input2,
        &dir.path().join("ck2"),
        None,
        &[("cleanSource", "delete")],
    );
    let (o1, r) = next(&mut src, &start);
    assert_eq!(r, ["c"]);
    src.commit(&o1).unwrap();
    assert!(!c.exists());
}

#[test]
fn partition_directories_become_columns() {
    let dir = tempfile::tempdir().unwrap();
    let (input, ck) = (dir.path().join("in"), dir.path().join("ck"));
    put(&input, "d=1/a.json", "{\"v\":\"x\"}\n", 0);
    put(&input, "d=2/b.json", "{\"v\":\"y\"}\n", 1);
    let mut src = source("json", &input, &ck, Some("v STRING"), &[]);
    let names: Vec<String> = src
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["v", "d"]);
    let start = src.initial_offset().unwrap();
    let (_, r) = next(&mut src, &start);
    assert_eq!(r, ["x,1", "y,2"]);
}

#[test]
fn missing_schema_and_path_fail_like_spark() {
    let dir = tempfile::tempdir().unwrap();
    let f = lookup("json").unwrap();
    let opts = Options::new([("path", dir.path().display().to_string())]);
    // DataStreamReader refuses a missing schema (Spark's check); the format itself infers.
    let e = spark()
        .read_stream()
        .format("json")
        .load_path(&dir.path().display().to_string())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Schema must be specified when creating a streaming source DataFrame"),
        "{e}"
    );
    let inferred = opts.clone();
    std::fs::write(dir.path().join("a.json"), "{\"x\":1}\n").unwrap();
    let s = f.schema(&inferred, None).unwrap();
    assert_eq!(s.field(0).name(), "x");
    let missing = Options::new([("path", dir.path().join("nope").display().to_string())]);
    let e = f.schema(&missing, None).unwrap_err().to_string();
    assert!(e.contains("PATH_NOT_FOUND"), "{e}");
}

fn sample_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("part", DataType::Utf8, true),
    ]))
}

fn sample(ids: std::ops::Range<i64>) -> RecordBatch {
    let ids: Vec<i64> = ids.collect();
    let names: Vec<String> = ids.iter().map(|i| format!("n{i}")).collect();
    let parts: Vec<&str> = ids
        .iter()
        .map(|i| if i % 2 == 0 { "even" } else { "odd" })
        .collect();
    RecordBatch::try_new(
        sample_schema(),
        vec![
            Arc::new(arrow::array::Int64Array::from(ids)),
            Arc::new(arrow::array::StringArray::from(names)),
            Arc::new(arrow::array::StringArray::from(parts)),
        ],
    )
    .unwrap()
}

fn sink(format: &str, out: &Path, opts: &[(&str, &str)]) -> Arc<dyn Sink> {
    let mut options = Options::new(opts.iter().copied());
    options.set("path", out.display().to_string());
    lookup(format)
        .unwrap()
        .create_sink(SinkContext {
            options,
            schema: sample_schema(),
            output_mode: OutputMode::Append,
            query_id: Some("q".into()),
            save_mode: None,
        })
        .unwrap()
}

/// Runs batch `id` through `tasks` writers, each writing its slice of `rows`.
fn write_batch(sink: &Arc<dyn Sink>, id: u64, rows: std::ops::Range<i64>, tasks: usize) {
    let mut messages = Vec::new();
    let per = (rows.end - rows.start + tasks as i64 - 1) / tasks as i64;
    for t in 0..tasks {
        let mut w = sink
            .create_writer(WriterContext {
                batch_id: id,
                partition: t,
                num_partitions: tasks,
                batch_timestamp_ms: None,
            })
            .unwrap();
        let lo = rows.start + per * t as i64;
        let hi = (lo + per).min(rows.end);
        if lo < hi {
            w.write(&sample(lo..hi)).unwrap();
        }
        messages.push(w.commit().unwrap());
    }
    sink.commit(id, messages).unwrap();
}

fn committed_ids(out: &Path, format: &str) -> Vec<i64> {
    let df = spark()
        .read()
        .format(format)
        .schema(sample_schema())
        .load(&out.display().to_string())
        .unwrap();
    sorted_ids(&df)
}

#[test]
fn sink_log_is_spark_format_and_replays_commit_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let s = sink("json", &out, &[]);
    assert_eq!(s.description(), format!("FileSink[{}]", out.display()));
    write_batch(&s, 0, 0..10, 2);
    let log = std::fs::read_to_string(out.join("_spark_metadata/0")).unwrap();
    let mut lines = log.split('\n');
    assert_eq!(lines.next(), Some("v1"));
    let mut expected = vec!["v1".to_string()];
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let path = PathBuf::from(v["path"].as_str().unwrap().strip_prefix("file://").unwrap());
        let meta = std::fs::metadata(&path).unwrap();
        let mtime = meta
            .modified()
            .unwrap()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            name.starts_with("part-0000") && name.ends_with("-c000.json") && name.len() == 57,
            "{name}"
        );
        expected.push(format!(
            "{{\"path\":\"file://{}\",\"size\":{},\"isDir\":false,\"modificationTime\":{mtime},\"blockReplication\":1,\"blockSize\":33554432,\"action\":\"add\"}}",
            path.display(),
            meta.len()
        ));
    }
    assert_eq!(
        log,
        expected.join("\n"),
        "byte for byte Spark's FileStreamSinkLog"
    );
    assert!(!log.ends_with('\n'));

    // Batch 0 again (a crash after the sink log write, before commits/0): nothing new is
    // visible and the attempt leaves no files behind.
    let files_before = count_data_files(&out);
    write_batch(&s, 0, 0..10, 3);
    assert_eq!(
        std::fs::read_to_string(out.join("_spark_metadata/0")).unwrap(),
        log
    );
    assert_eq!(count_data_files(&out), files_before);
    write_batch(&s, 1, 10..15, 1);
    assert_eq!(committed_ids(&out, "json"), (0..15).collect::<Vec<_>>());
}

fn count_data_files(dir: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if e.path().is_dir() && !name.starts_with('_') {
            n += count_data_files(&e.path());
        } else if name.starts_with("part-") {
            n += 1;
        }
    }
    n
}

#[test]
fn reader_sees_only_committed_files_partitioned_and_compacted() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let s = sink(
        "parquet",
        &out,
        &[
            ("__partition_columns", "[\"part\"]"),
            ("spark.sql.streaming.fileSink.log.compactInterval", "3"),
        ],
    );
    for id in 0..7u64 {
        let lo = id as i64 * 4;
        write_batch(&s, id, lo..lo + 4, 2);
    }
    assert!(out.join("part=even").is_dir() && out.join("part=odd").is_dir());
    assert!(out.join("_spark_metadata/2.compact").exists());
    assert!(out.join("_spark_metadata/5.compact").exists());
    // A task of an attempt that never committed left a file: readers must not see it.
    let w = s
        .create_writer(WriterContext {
            batch_id: 7,
            partition: 0,
            num_partitions: 1,
            batch_timestamp_ms: None,
        })
        .unwrap();
    let mut w = w;
    w.write(&sample(100..110)).unwrap();
    let _orphan = w.commit().unwrap();
    assert_eq!(committed_ids(&out, "parquet"), (0..28).collect::<Vec<_>>());
    let df = spark()
        .read()
        .format("parquet")
        .load(&out.display().to_string())
        .unwrap();
    let cols: Vec<String> = df
        .schema()
        .unwrap()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(cols, ["id", "name", "part"]);
}

/// Copies a directory Spark 4's file sink wrote (tests/fixtures/spark_file_sink), pointing
/// its log at the copy (Spark logs absolute paths).
fn spark_fixture(name: &str, to: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/spark_file_sink")
        .join(name);
    let dst = to.join(name);
    copy_dir(&src, &dst);
    for e in std::fs::read_dir(dst.join("_spark_metadata"))
        .unwrap()
        .flatten()
    {
        let text = std::fs::read_to_string(e.path()).unwrap();
        let fixed = text
            .replace(
                "file:///tmp/sparkfx/out1",
                &format!("file://{}", dst.display()),
            )
            .replace(
                "file:///tmp/sparkfx/out3",
                &format!("file://{}", dst.display()),
            );
        std::fs::write(e.path(), fixed).unwrap();
    }
    dst
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap().flatten() {
        let to = dst.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), to).unwrap();
        }
    }
}

#[test]
fn reads_what_sparks_file_sink_committed() {
    let dir = tempfile::tempdir().unwrap();
    // Partitioned JSON, two batches; a stray uncommitted file must stay invisible.
    let json = spark_fixture("json_partitioned", dir.path());
    std::fs::write(json.join("b=x/part-00000-orphan.c000.json"), "{\"a\":99}\n").unwrap();
    let df = spark()
        .read()
        .schema_ddl("a BIGINT")
        .unwrap()
        .json(&json.display().to_string())
        .unwrap();
    let rows = rows_of(&df.collect().unwrap());
    assert_eq!(rows, ["1,x", "2,y", "3,z"]);
    // CSV with a compacted log (9.compact + 10, 11): twelve one-row files.
    let csv = spark_fixture("csv_compacted", dir.path());
    std::fs::write(csv.join("part-00000-orphan-c000.csv"), "99,v99\n").unwrap();
    let df = spark()
        .read()
        .schema_ddl("a INT, b STRING")
        .unwrap()
        .csv(&csv.display().to_string())
        .unwrap();
    let mut got: Vec<i64> = rows_of(&df.collect().unwrap())
        .iter()
        .map(|r| r.split(',').next().unwrap().parse().unwrap())
        .collect();
    got.sort();
    assert_eq!(got, (0..12).collect::<Vec<_>>());
}

#[test]
fn rate_and_file_formats_are_built_in() {
    for name in ["rate", "json", "csv", "parquet", "text", "JSON"] {
        assert!(lookup(name).is_ok(), "{name}");
    }
    let rate = lookup("rate").unwrap();
    let s = rate.schema(&Options::default(), None).unwrap();
    assert_eq!(s.field(0).name(), "timestamp");
    assert_eq!(s.field(1).data_type(), &DataType::Int64);
}

/// Leaves sink output for Spark to read: `SSTREAM_SPARK_CHECK_DIR=/tmp/x cargo test -p
/// engine-sql --test streaming_files -- --ignored`, then read `/tmp/x/{json,parquet}` with
/// PySpark (`spark.read.json(..)`): Spark must see exactly ids 0..15 (batch 1 replayed,
/// one orphan file of an uncommitted batch 2 present).
#[test]
#[ignore = "writes output for a manual check with PySpark"]
fn write_output_for_spark() {
    let Ok(base) = std::env::var("SSTREAM_SPARK_CHECK_DIR") else {
        return;
    };
    for (format, opts) in [
        ("json", vec![]),
        ("parquet", vec![("__partition_columns", "[\"part\"]")]),
    ] {
        let out = Path::new(&base).join(format);
        let _ = std::fs::remove_dir_all(&out);
        let s = sink(format, &out, &opts);
        write_batch(&s, 0, 0..10, 2);
        write_batch(&s, 1, 10..15, 2);
        write_batch(&s, 1, 10..15, 1);
        let mut w = s
            .create_writer(WriterContext {
                batch_id: 2,
                partition: 0,
                num_partitions: 1,
                batch_timestamp_ms: None,
            })
            .unwrap();
        w.write(&sample(100..110)).unwrap();
        let _orphan = w.commit().unwrap();
        assert_eq!(committed_ids(&out, format), (0..15).collect::<Vec<_>>());
    }
}

#[test]
fn sink_rolls_files_at_max_records_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let s = sink("csv", &out, &[("maxRecordsPerFile", "3")]);
    write_batch(&s, 0, 0..10, 1);
    let mut counters: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("part-"))
        .map(|n| n[47..].to_string())
        .collect();
    counters.sort();
    assert_eq!(
        counters,
        ["-c000.csv", "-c001.csv", "-c002.csv", "-c003.csv"]
    );
    assert_eq!(committed_ids(&out, "csv"), (0..10).collect::<Vec<_>>());
}

#[test]
fn glob_paths_and_file_name_only() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("in");
    put(&base, "a/x1.txt", "a1\n", 0);
    put(&base, "b/x2.txt", "b2\n", 1);
    put(&base, "b/y3.txt", "no\n", 2);
    let glob = base.join("*/x*.txt");
    let ck = dir.path().join("ck");
    let mut src = source("text", &glob, &ck, None, &[]);
    let start = src.initial_offset().unwrap();
    let (o1, r1) = next(&mut src, &start);
    assert_eq!(r1, ["a1", "b2"]);
    // fileNameOnly: the same name under another directory is not new.
    let ck2 = dir.path().join("ck2");
    let mut src = source("text", &glob, &ck2, None, &[("fileNameOnly", "true")]);
    let (p1, _) = next(&mut src, &start);
    put(&base, "c/x1.txt", "c1\n", 3);
    let (p2, r2) = next(&mut src, &p1);
    assert_eq!((p2 == p1, r2.len()), (true, 0), "x1.txt was seen already");
    let _ = o1;
}

#[test]
fn file_sinks_only_append() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = Options::default();
    options.set("path", dir.path().display().to_string());
    let e = lookup("json")
        .unwrap()
        .create_sink(SinkContext {
            options,
            schema: sample_schema(),
            output_mode: OutputMode::Update,
            query_id: Some("q".into()),
            save_mode: None,
        })
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("[STREAMING_OUTPUT_MODE.UNSUPPORTED_DATASOURCE] Invalid streaming output mode: update. This output mode is not supported in Data Source json."),
        "{e}"
    );
}

#[test]
fn a_file_sink_directory_streams_only_committed_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let s = sink("json", &out, &[]);
    write_batch(&s, 0, 0..4, 1);
    // An attempt that never committed.
    let mut w = s
        .create_writer(WriterContext {
            batch_id: 1,
            partition: 0,
            num_partitions: 1,
            batch_timestamp_ms: None,
        })
        .unwrap();
    w.write(&sample(50..60)).unwrap();
    let _orphan = w.commit().unwrap();
    let mut src = source("json", &out, &dir.path().join("ck"), Some("id BIGINT"), &[]);
    let start = src.initial_offset().unwrap();
    let (o1, r1) = next(&mut src, &start);
    assert_eq!(r1, ["0", "1", "2", "3"]);
    write_batch(&s, 1, 4..6, 1);
    let (_, r2) = next(&mut src, &o1);
    assert_eq!(r2, ["4", "5"]);
}

#[test]
fn missing_logged_files_fail_unless_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let a = put(&input, "a.txt", "a\n", 0);
    put(&input, "b.txt", "b\n", 1);
    for (ignore, ck) in [("false", "ck1"), ("true", "ck2")] {
        let mut src = source(
            "text",
            &input,
            &dir.path().join(ck),
            None,
            &[("ignoreMissingFiles", ignore)],
        );
        let start = src.initial_offset().unwrap();
        let end = src.latest_offset(&start, &ReadLimit::AllAvailable).unwrap();
        if ignore == "false" {
            // Logged, then deleted before the batch ran.
            std::fs::rename(&a, dir.path().join("a.bak")).unwrap();
            assert!(src.plan_partitions(&start, &end).is_err());
            std::fs::rename(dir.path().join("a.bak"), &a).unwrap();
        } else {
            std::fs::remove_file(&a).unwrap();
            assert_eq!(read(&mut src, &start, &end), ["b"]);
        }
    }
}

#[test]
fn runtime_csv_source_to_partitioned_parquet_sink() {
    use engine_sql::streaming::Trigger;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    put(&input, "a.csv", "id,part\n1,x\n2,y\n", 0);
    put(&input, "b.csv", "id,part\n3,x\n", 1);
    let out = dir.path().join("out");
    let spark = spark();
    let df = spark
        .read_stream()
        .format("csv")
        .option("header", "true")
        .option("maxFilesPerTrigger", "1")
        .schema_ddl("id BIGINT, part STRING")
        .unwrap()
        .load_path(&input.display().to_string())
        .unwrap();
    let q = df
        .write_stream()
        .format("parquet")
        .partition_by(["part"])
        .option("checkpointLocation", dir.path().join("ck").display())
        .trigger(Trigger::AvailableNow)
        .start_path(&out.display().to_string())
        .unwrap();
    q.await_termination(None).unwrap();
    assert_eq!(q.recent_progress().len(), 2, "one file per batch");
    assert!(out.join("part=x").is_dir() && out.join("part=y").is_dir());
    assert!(out.join("_spark_metadata/1").exists());
    let back = spark.read().parquet(&out.display().to_string()).unwrap();
    let rows = rows_of(&back.collect().unwrap());
    assert_eq!(rows, ["1,x", "2,y", "3,x"]);
}

#[test]
fn sources_and_sinks_honour_the_session_time_zone() {
    // Text timestamps mean wall-clock time in the session's zone, in streams as in batch.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    put(&input, "a.csv", "id,ts\n1,2026-01-01 10:00:00\n", 0);
    let spark = Session::builder()
        .config("spark.sql.session.timeZone", "America/New_York")
        .build()
        .unwrap();
    let out = dir.path().join("out");
    let query = spark
        .read_stream()
        .format("csv")
        .option("header", "true")
        .schema_ddl("id INT, ts TIMESTAMP")
        .unwrap()
        .load_path(input.to_str().unwrap())
        .unwrap()
        .select_expr(&["id", "ts", "CAST(unix_timestamp(ts) AS STRING) AS epoch"])
        .unwrap()
        .write_stream()
        .format("csv")
        .option("header", "true")
        .option(
            "checkpointLocation",
            dir.path().join("ck").to_str().unwrap(),
        )
        .trigger(engine_sql::streaming::Trigger::AvailableNow)
        .start_path(out.to_str().unwrap())
        .unwrap();
    query.await_termination(None).unwrap();
    let rows = spark
        .read()
        .format("csv")
        .option("header", "true")
        .load(out.to_str().unwrap())
        .unwrap()
        .collect_rows()
        .unwrap();
    let text: Vec<String> = rows[0].values.iter().map(|v| v.to_string()).collect();
    // 10:00 in New York is 15:00 UTC; the sink writes it back in the session zone.
    assert_eq!(text[2], "1767279600", "{text:?}");
    assert!(
        text[1].starts_with("2026-01-01T10:00:00.000-05:00"),
        "{text:?}"
    );
}

#[test]
fn a_json_stream_decodes_only_the_columns_the_query_reads() {
    // PySpark 4.3, batch and streaming alike: a value of the wrong type in a field the query
    // does not read is never converted, so no mode counts the record as malformed.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(
        input.join("f.json"),
        "{\"a\": 1, \"b\": \"x\"}\n{\"a\": 2, \"b\": 3}\n",
    )
    .unwrap();
    for mode in ["FAILFAST", "DROPMALFORMED", "PERMISSIVE"] {
        let spark = spark();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let s = seen.clone();
        let q = spark
            .read_stream()
            .format("json")
            .option("mode", mode)
            .schema_ddl("a INT, b INT")
            .unwrap()
            .load_path(input.to_str().unwrap())
            .unwrap()
            .select_expr(&["a"])
            .unwrap()
            .write_stream()
            .foreach_batch(move |df, _| {
                s.lock().unwrap().extend(rows_of(&df.collect()?));
                Ok(())
            })
            .option(
                "checkpointLocation",
                dir.path().join(format!("ck-{mode}")).to_str().unwrap(),
            )
            .trigger(Trigger::AvailableNow)
            .start()
            .unwrap();
        q.await_termination(None).unwrap();
        assert_eq!(*seen.lock().unwrap(), ["1", "2"], "mode {mode}");
    }
}
