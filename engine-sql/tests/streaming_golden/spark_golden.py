"""Writes the streaming golden cases and Spark's answers to them (PySpark 4.3).

Usage, from engine-sql/:  python3 tests/streaming_golden/spark_golden.py [case ...]

Each case (below) is a streaming query over JSON event files, one file per micro-batch
(maxFilesPerTrigger 1, files taken in modification-time order), run with
Trigger.AvailableNow into foreachBatch. For every case this writes
`cases/<name>/case.json` (sources, SQL, DataFrame steps, output mode, settings),
`cases/<name>/input/<source>/<n>.json` and `cases/<name>/expected.json`: per batch the batch
id, its rows (every column CAST AS STRING, joined with " | ", sorted), the watermark in
force (progress eventTime.watermark) and each stateful operator's numRowsTotal and
numRowsDroppedByWatermark. `tests/streaming_golden.rs` runs the same cases through the
engine and compares batch by batch; it needs no PySpark.
"""
import json, os, shutil, sys, tempfile, time
from pyspark.sql import SparkSession, functions as F

HERE = os.path.dirname(os.path.abspath(__file__))
CASES_DIR = os.path.join(HERE, "cases")

def ev(ts, k, v=1):
    return {"ts": "2024-01-01T" + ts + ":00Z" if len(ts) == 5 else "2024-01-01T" + ts + "Z", "k": k, "v": v}

EVENTS = "ts TIMESTAMP, k STRING, v INT"

# Batches of the main example: out-of-order events, a late one in batch 2, a jump in 3.
B = [
    [ev("10:00", "a"), ev("10:05", "b"), ev("10:12", "a")],
    [ev("10:20", "a", 2), ev("10:03", "b", 3), ev("10:25", "b")],
    [ev("10:31", "a"), ev("10:09", "a", 4), ev("09:55", "b", 5), ev("10:14", "b")],
    [ev("10:40", "a"), ev("10:41", "b", 6)],
    [ev("11:30", "b"), ev("10:10", "a", 7)],
]

# Rows Spark's JSON reader takes apart: NULL and missing event times, other timestamp
# spellings, NULL keys and values, a value of the wrong type.
D = [
    [{"ts": "2024-01-01T10:00:00Z", "k": "a", "v": 1}, {"ts": None, "k": "a", "v": 2},
     {"k": "b", "v": 3}, {"ts": "2024-01-01 10:04:00", "k": None, "v": 4}],
    [{"ts": "2024-01-01T12:07:00+02:00", "k": "b", "v": None}, {"ts": "2024-01-01T10:11:30.250Z", "k": "a", "v": "x"},
     {"ts": "2024-01-01T10:15:00Z", "k": "c", "v": 5}],
    [{"ts": "2024-01-01T10:02:00Z", "k": "a", "v": 6}, {"ts": "2024-01-01", "k": "b", "v": 7},
     {"ts": "2024-01-01T10:31:00Z", "k": None, "v": None}],
]

# Kafka-style records: a JSON payload in a string column, parsed in the query.
def pl(ts, payload):
    return {"ts": "2024-01-01T" + ts + ":00Z", "payload": payload}

E = [
    [pl("10:00", '{"user": "u1", "amount": 12.5, "tags": ["x", "y"], "meta": {"ip": "1.1.1.1"}}'),
     pl("10:03", '{"user": "u2", "amount": 3, "tags": []}'),
     pl("10:04", 'not json')],
    [pl("10:12", '{"user": "u1", "amount": "7.25", "tags": ["y"], "when": "2024-01-01 10:11:00"}'),
     pl("10:01", '{"user": "u3", "amount": null, "tags": null, "meta": {"ip": "2.2.2.2", "port": 80}}')],
    [pl("10:25", '{"user": "u2", "amount": 1e2, "tags": ["x", "x", "z"]}'),
     pl("10:26", '{"amount": 5, "user": "u1", "extra": [1, 2, {"a": 3}]}')],
]
PAYLOAD = "ts TIMESTAMP, payload STRING"

EVENTS_NTZ = "ts TIMESTAMP_NTZ, k STRING, v INT"

def ntz(batches):
    """The same events as wall-clock times without a zone (TIMESTAMP_NTZ)."""
    return [[dict(r, ts=r["ts"].rstrip("Z")) for r in b] for b in batches]

def src(name, batches, watermark=None, schema=EVENTS, opts=None):
    return {"name": name, "schema": schema, "watermark": watermark, "batches": batches,
            "opts": opts or {}}

def static(name, rows, schema):
    """A batch table (every file read at once) beside the streams."""
    return {"name": name, "schema": schema, "watermark": None, "batches": [rows], "static": True}

DIMS = [{"k": "a", "name": "alpha", "w": 10}, {"k": "b", "name": "beta", "w": 20},
        {"k": "d", "name": "delta", "w": 40}]
DIMS_SCHEMA = "k STRING, name STRING, w INT"

# A second example: three keys, events on window boundaries, ties, a batch of nothing but
# late events (batch 3) and a long jump at the end.
C = [
    [ev("10:00", "a", 1), ev("10:10", "b", 2), ev("10:09:59", "c", 3), ev("10:10", "a", 4)],
    [ev("10:15", "a", 5), ev("10:02", "b", 6), ev("10:20", "c", 2), ev("10:20", "c", 2)],
    [ev("10:27", "b", 7), ev("10:12", "a", 8), ev("10:30", "a", 1)],
    [ev("10:05", "a", 9), ev("10:01", "c", 4)],
    [ev("10:44", "c", 3), ev("10:21", "b", 2), ev("10:35", "b", 5)],
    [ev("12:00", "a", 6), ev("10:50", "c", 7)],
]

CASES = {
    "tumbling_append": dict(
        sources=[src("events", B, ["ts", "10 minutes"])],
        sql="SELECT window.start, window.end, count(*) AS n, sum(v) AS s FROM events GROUP BY window(ts, '10 minutes')",
        mode="append"),
    "tumbling_update": dict(
        sources=[src("events", B, ["ts", "10 minutes"])],
        sql="SELECT k, window.start, count(*) AS n FROM events GROUP BY k, window(ts, '10 minutes')",
        mode="update"),
    "tumbling_complete": dict(
        sources=[src("events", B, ["ts", "10 minutes"])],
        sql="SELECT window.start, count(*) AS n, max(v) AS m FROM events GROUP BY window(ts, '10 minutes')",
        mode="complete"),
    "sliding_start_append": dict(
        sources=[src("events", B, ["ts", "5 minutes"])],
        sql="SELECT k, window, count(*) AS n, min(v) AS lo FROM events GROUP BY k, window(ts, '10 minutes', '5 minutes', '2 minutes')",
        mode="append"),
    "sliding_update": dict(
        sources=[src("events", B, ["ts", "5 minutes"])],
        sql="SELECT window.end, avg(v) AS a FROM events GROUP BY window(ts, '15 minutes', '5 minutes')",
        mode="update"),
    "grouped_no_watermark_update": dict(
        sources=[src("events", B)],
        sql="SELECT k, count(*) AS n, sum(v) AS s, collect_list(v) AS vs FROM events GROUP BY k",
        mode="update"),
    "grouped_complete": dict(
        sources=[src("events", B)],
        sql="SELECT k, count(*) AS n, first(v) AS f FROM events GROUP BY k",
        mode="complete"),
    "group_by_event_time_append": dict(
        sources=[src("events", B, ["ts", "0 seconds"])],
        sql="SELECT ts, count(*) AS n FROM events GROUP BY ts",
        mode="append"),
    "session_append": dict(
        sources=[src("events", B, ["ts", "10 minutes"])],
        sql="SELECT k, session_window.start, session_window.end, count(*) AS n, sum(v) AS s FROM events GROUP BY k, session_window(ts, '5 minutes')",
        mode="append"),
    "session_dynamic_append": dict(
        sources=[src("events", B, ["ts", "10 minutes"])],
        sql="SELECT k, session_window, count(*) AS n FROM events GROUP BY k, session_window(ts, CASE WHEN k = 'a' THEN '8 minutes' ELSE '3 minutes' END)",
        mode="append"),
    "session_complete": dict(
        sources=[src("events", B, ["ts", "10 minutes"])],
        sql="SELECT k, session_window, count(*) AS n FROM events GROUP BY k, session_window(ts, '4 minutes')",
        mode="complete"),
    "dedupe_keys": dict(
        sources=[src("events", B)],
        sql="SELECT k, v FROM events", steps=[{"dropDuplicates": ["k"]}],
        mode="append"),
    "dedupe_event_time": dict(
        sources=[src("events", B, ["ts", "10 minutes"])],
        sql="SELECT * FROM events", steps=[{"dropDuplicates": ["k", "ts"]}],
        mode="update"),
    "dedupe_within_watermark": dict(
        sources=[src("events", B, ["ts", "10 minutes"])],
        sql="SELECT * FROM events", steps=[{"dropDuplicatesWithinWatermark": ["k"]}],
        mode="append"),
    "sql_distinct_update": dict(
        sources=[src("events", B)],
        sql="SELECT DISTINCT k FROM events",
        mode="update"),
    "dataframe_distinct": dict(
        sources=[src("events", B)],
        sql="SELECT k FROM events", steps=[{"distinct": []}],
        mode="append"),
    "chained_windows": dict(
        sources=[src("events", B, ["ts", "5 minutes"])],
        sql="SELECT window.start AS outer_start, sum(n) AS total, count(*) AS windows FROM (SELECT window AS w, count(*) AS n FROM events GROUP BY window(ts, '5 minutes')) GROUP BY window(window_time(w), '15 minutes')",
        mode="append"),
    "two_watermarks_min": dict(
        sources=[src("left", B[:3], ["ts", "10 minutes"]),
                 src("right", [[ev("10:01", "r")], [ev("10:02", "r")], [ev("10:06", "r")], [ev("12:00", "r")]], ["ts", "2 minutes"])],
        sql="SELECT window.start, count(*) AS n FROM (SELECT ts FROM left UNION ALL SELECT ts FROM right) GROUP BY window(ts, '5 minutes')",
        mode="append"),
    # Spark 4.3 refuses a watermark on TIMESTAMP_NTZ (EVENT_TIME_IS_NOT_ON_TIMESTAMP_TYPE,
    # pinned in tests/streaming.rs); windows over it work without one.
    "tumbling_ntz_update": dict(
        sources=[src("events", ntz(B), None, EVENTS_NTZ)],
        sql="SELECT window.start, window.end, typeof(window.start) AS t, count(*) AS n FROM events GROUP BY window(ts, '10 minutes')",
        mode="update"),
    "sliding_ntz_complete": dict(
        sources=[src("events", ntz(B), None, EVENTS_NTZ)],
        sql="SELECT k, window, count(*) AS n FROM events GROUP BY k, window(ts, '10 minutes', '5 minutes')",
        mode="complete"),
    "session_ntz_complete": dict(
        sources=[src("events", ntz(B), None, EVENTS_NTZ)],
        sql="SELECT k, session_window, count(*) AS n FROM events GROUP BY k, session_window(ts, '5 minutes')",
        mode="complete"),
    "two_watermarks_max": dict(
        sources=[src("left", B[:3], ["ts", "10 minutes"]),
                 src("right", [[ev("10:01", "r")], [ev("10:02", "r")], [ev("10:06", "r")], [ev("12:00", "r")]], ["ts", "2 minutes"])],
        sql="SELECT window.start, count(*) AS n FROM (SELECT ts FROM left UNION ALL SELECT ts FROM right) GROUP BY window(ts, '5 minutes')",
        conf={"spark.sql.streaming.multipleWatermarkPolicy": "max"},
        mode="append"),
    "filter_tumbling_update": dict(
        sources=[src("events", C, ["ts", "5 minutes"])],
        sql="SELECT k, window.start, count(*) AS n, sum(v) AS s, avg(v) AS a, max(ts) AS mx FROM events WHERE v > 1 GROUP BY k, window(ts, '10 minutes')",
        mode="update"),
    "having_append": dict(
        sources=[src("events", C, ["ts", "10 minutes"])],
        sql="SELECT window.start, k, count(*) AS n FROM events GROUP BY window(ts, '5 minutes'), k HAVING count(*) >= 2",
        mode="append"),
    "stateless_with_watermark": dict(
        sources=[src("events", C, ["ts", "5 minutes"])],
        sql="SELECT k, v * 2 AS v2, date_format(ts, 'HH:mm:ss') AS hm FROM events WHERE k <> 'c'",
        mode="append"),
    "global_complete": dict(
        sources=[src("events", C)],
        sql="SELECT count(*) AS n, sum(v) AS s, min(ts) AS lo, max(ts) AS hi, approx_count_distinct(k) AS ks FROM events",
        mode="complete"),
    "global_update": dict(
        sources=[src("events", C)],
        sql="SELECT count(*) AS n, avg(v) AS a, sort_array(collect_set(k)) AS ks FROM events",
        mode="update"),
    "sliding_uneven_append": dict(
        sources=[src("events", C, ["ts", "0 seconds"])],
        sql="SELECT window.start, window.end, count(*) AS n, sum(v) AS s FROM events GROUP BY window(ts, '10 minutes', '3 minutes')",
        mode="append"),
    "tumbling_offset_update": dict(
        sources=[src("events", C, ["ts", "20 minutes"])],
        sql="SELECT window, k, count(*) AS n FROM events GROUP BY window(ts, '30 minutes', '30 minutes', '15 minutes'), k",
        mode="update"),
    "distinct_then_window_append": dict(
        sources=[src("events", C, ["ts", "10 minutes"])],
        sql="SELECT window.start, count(*) AS n FROM (SELECT DISTINCT k, ts FROM events) GROUP BY window(ts, '10 minutes')",
        mode="append"),
    "explode_window_append": dict(
        sources=[src("events", C, ["ts", "10 minutes"])],
        sql="SELECT window.start, x, count(*) AS n FROM (SELECT ts, explode(array(k, 'all')) AS x FROM events) GROUP BY window(ts, '10 minutes'), x",
        mode="append"),
    "window_struct_complete": dict(
        sources=[src("events", C, ["ts", "10 minutes"])],
        sql="SELECT window, k, count(*) AS n, percentile_approx(v, 0.5) AS med FROM events GROUP BY window(ts, '20 minutes'), k",
        mode="complete"),
    "max_by_update": dict(
        sources=[src("events", C)],
        sql="SELECT k, max_by(v, ts) AS last_v, min_by(v, ts) AS first_v, count_if(v > 3) AS big FROM events GROUP BY k",
        mode="update"),
    "session_boundaries_append": dict(
        sources=[src("events", C, ["ts", "5 minutes"])],
        sql="SELECT k, session_window, count(*) AS n, sum(v) AS s FROM events GROUP BY k, session_window(ts, '10 minutes')",
        mode="append"),
    "dedupe_window_key_append": dict(
        sources=[src("events", C, ["ts", "10 minutes"])],
        sql="SELECT k, ts, v FROM events", steps=[{"dropDuplicates": ["k", "ts"]}],
        mode="append"),
    "dedupe_within_watermark_c": dict(
        sources=[src("events", C, ["ts", "5 minutes"])],
        sql="SELECT k, ts, v FROM events", steps=[{"dropDuplicatesWithinWatermark": ["k", "v"]}],
        mode="append"),
    "event_time_filter_append": dict(
        sources=[src("events", C, ["ts", "5 minutes"])],
        sql="SELECT window.start, count(*) AS n FROM events WHERE ts > TIMESTAMP '2024-01-01 10:05:00' AND k <> 'b' GROUP BY window(ts, '10 minutes')",
        mode="append"),
    "aliased_event_time_append": dict(
        sources=[src("events", C, ["ts", "10 minutes"])],
        sql="SELECT window.end AS e, key, count(*) AS n FROM (SELECT ts AS t2, upper(k) AS key, v FROM events) GROUP BY window(t2, '15 minutes'), key",
        mode="append"),
    "complete_sorted_limit": dict(
        sources=[src("events", C)],
        sql="SELECT k, count(*) AS n, sum(v) AS s FROM events GROUP BY k ORDER BY n DESC, k LIMIT 2",
        mode="complete"),
    "having_update": dict(
        sources=[src("events", C, ["ts", "10 minutes"])],
        sql="SELECT k, window.start, sum(v) AS s FROM events GROUP BY k, window(ts, '10 minutes') HAVING sum(v) > 4",
        mode="update"),
    "stats_update": dict(
        sources=[src("events", C, ["ts", "10 minutes"])],
        sql="SELECT window.start, round(stddev(v), 6) AS sd, approx_count_distinct(k) AS ks, round(variance(v), 6) AS var FROM events GROUP BY window(ts, '20 minutes')",
        mode="update"),
    "session_length_complete": dict(
        sources=[src("events", C, ["ts", "10 minutes"])],
        sql="SELECT k, session_window.start, CAST(session_window.end AS LONG) - CAST(session_window.start AS LONG) AS secs, count(*) AS n FROM events GROUP BY k, session_window(ts, '7 minutes')",
        mode="complete"),
    "expression_keys_update": dict(
        sources=[src("events", C, ["ts", "10 minutes"])],
        sql="SELECT k, v % 2 AS odd, window.start, count(*) AS n FROM events GROUP BY k, v % 2, window(ts, '10 minutes')",
        mode="update"),
    "dedupe_keys_update_c": dict(
        sources=[src("events", C)],
        sql="SELECT k, v FROM events", steps=[{"dropDuplicates": ["v"]}],
        mode="update"),
    "stream_static_inner_append": dict(
        sources=[src("events", C, ["ts", "10 minutes"]), static("dims", DIMS, DIMS_SCHEMA)],
        sql="SELECT e.k, d.name, e.v * d.w AS vw, e.ts FROM events e JOIN dims d ON e.k = d.k",
        mode="append"),
    "stream_static_left_outer_append": dict(
        sources=[src("events", C), static("dims", DIMS, DIMS_SCHEMA)],
        sql="SELECT e.k, d.name, e.v FROM events e LEFT JOIN dims d ON e.k = d.k AND d.w > 15",
        mode="append"),
    "stream_static_join_window_update": dict(
        sources=[src("events", C, ["ts", "10 minutes"]), static("dims", DIMS, DIMS_SCHEMA)],
        sql="SELECT d.name, window.start, count(*) AS n, sum(e.v * d.w) AS s FROM events e JOIN dims d ON e.k = d.k GROUP BY d.name, window(e.ts, '15 minutes')",
        mode="update"),
    "stream_static_semi_append": dict(
        sources=[src("events", C), static("dims", DIMS, DIMS_SCHEMA)],
        sql="SELECT k, v FROM events WHERE k IN (SELECT k FROM dims WHERE w < 30)",
        mode="append"),
    "nulls_window_append": dict(
        sources=[src("events", D, ["ts", "10 minutes"])],
        sql="SELECT window.start, k, count(*) AS n, count(v) AS nv, sum(v) AS s FROM events GROUP BY window(ts, '10 minutes'), k",
        mode="append"),
    "nulls_global_update": dict(
        sources=[src("events", D)],
        sql="SELECT k, count(*) AS n, min(ts) AS lo, max(v) AS hi FROM events GROUP BY k",
        mode="update"),
    "nulls_stateless": dict(
        sources=[src("events", D, ["ts", "10 minutes"])],
        sql="SELECT ts, k, v, coalesce(k, 'none') AS kk FROM events",
        mode="append"),
    "nulls_session_append": dict(
        sources=[src("events", D, ["ts", "5 minutes"])],
        sql="SELECT k, session_window.start, count(*) AS n FROM events GROUP BY k, session_window(ts, '5 minutes')",
        mode="append"),
    "nulls_dedupe_append": dict(
        sources=[src("events", D, ["ts", "10 minutes"])],
        sql="SELECT k, ts FROM events", steps=[{"dropDuplicates": ["k"]}],
        mode="append"),
    "two_files_per_batch_append": dict(
        sources=[src("events", C, ["ts", "5 minutes"], opts={"maxFilesPerTrigger": "2"})],
        sql="SELECT window.start, count(*) AS n, sum(v) AS s FROM events GROUP BY window(ts, '10 minutes')",
        mode="append"),
    "latest_first_update": dict(
        sources=[src("events", C, ["ts", "5 minutes"], opts={"latestFirst": "true", "maxFilesPerTrigger": "2"})],
        sql="SELECT k, window.start, count(*) AS n FROM events GROUP BY k, window(ts, '10 minutes')",
        mode="update"),
    "max_bytes_session_append": dict(
        sources=[src("events", C, ["ts", "5 minutes"], opts={"maxFilesPerTrigger": None, "maxBytesPerTrigger": "300"})],
        sql="SELECT k, session_window.start, count(*) AS n FROM events GROUP BY k, session_window(ts, '5 minutes')",
        mode="append"),
    "from_json_window_update": dict(
        sources=[src("events", E, ["ts", "10 minutes"], schema=PAYLOAD)],
        sql="SELECT j.user, window.start, count(*) AS n, sum(j.amount) AS total, collect_list(size(j.tags)) AS sizes FROM (SELECT ts, from_json(payload, 'user STRING, amount DOUBLE, tags ARRAY<STRING>') AS j FROM events) GROUP BY j.user, window(ts, '10 minutes')",
        mode="update"),
    "json_functions_stateless": dict(
        sources=[src("events", E, schema=PAYLOAD)],
        sql="SELECT get_json_object(payload, '$.user') AS u, get_json_object(payload, '$.meta.ip') AS ip, get_json_object(payload, '$.tags[1]') AS t1, json_array_length(get_json_object(payload, '$.tags')) AS nt, to_json(from_json(payload, 'amount DECIMAL(10,2), meta MAP<STRING, STRING>')) AS back FROM events",
        mode="append"),
    "json_tuple_explode_append": dict(
        sources=[src("events", E, ["ts", "5 minutes"], schema=PAYLOAD)],
        sql="SELECT window.start, tag, count(*) AS n FROM (SELECT ts, explode(from_json(payload, 'tags ARRAY<STRING>').tags) AS tag FROM events) GROUP BY window(ts, '10 minutes'), tag",
        mode="append"),
    "json_tuple_stateless": dict(
        sources=[src("events", E, schema=PAYLOAD)],
        sql="SELECT ts, json_tuple(payload, 'user', 'amount', 'when') FROM events",
        mode="append"),
    "string_date_functions_stateless": dict(
        sources=[src("events", C, ["ts", "5 minutes"])],
        sql="SELECT concat_ws('-', k, CAST(v AS STRING)) AS kv, upper(k) AS uk, lpad(k, 3, '*') AS pk, date_format(ts, 'yyyy-MM-dd HH:mm') AS d, hour(ts) AS h, unix_timestamp(ts) AS u, ts + INTERVAL 90 MINUTES AS later, date_trunc('HOUR', ts) AS hr, format_number(v * 1000.5, 2) AS f, sha2(k, 256) AS sh, md5(k) AS m FROM events WHERE v % 2 = 1",
        mode="append"),
    "aggregate_filter_append": dict(
        sources=[src("events", C, ["ts", "10 minutes"])],
        sql="SELECT window.start, count(*) FILTER (WHERE v > 2) AS big, count(*) AS n, sum(v) FILTER (WHERE k = 'a') AS sa FROM events GROUP BY window(ts, '10 minutes')",
        mode="append"),
    "structs_and_decimals_update": dict(
        sources=[src("events", C, ["ts", "10 minutes"])],
        sql="SELECT window.start, max(struct(v, k)) AS top, min(k) AS first_k, sum(CAST(v AS DECIMAL(10, 2)) / 3) AS dsum, avg(CAST(v AS DECIMAL(10, 2))) AS davg, collect_list(named_struct('k', k, 'v', v)) AS items FROM events GROUP BY window(ts, '10 minutes')",
        mode="update"),
    "case_coalesce_append": dict(
        sources=[src("events", C, ["ts", "5 minutes"])],
        sql="SELECT window.start, CASE WHEN sum(v) > 10 THEN 'big' WHEN sum(v) > 5 THEN 'mid' ELSE 'small' END AS size, coalesce(max(CASE WHEN k = 'c' THEN v END), -1) AS c_max FROM events GROUP BY window(ts, '10 minutes')",
        mode="append"),
    "scalar_subquery_static_append": dict(
        sources=[src("events", C, ["ts", "10 minutes"]), static("dims", DIMS, DIMS_SCHEMA)],
        sql="SELECT k, v, ts FROM events WHERE v > (SELECT avg(w) / 10 FROM dims)",
        mode="append"),
    "union_dedupe_append": dict(
        sources=[src("left", C[:4], ["ts", "10 minutes"]), src("right", B[:4], ["ts", "10 minutes"])],
        sql="SELECT k, ts FROM (SELECT k, ts FROM left UNION ALL SELECT k, ts FROM right)", steps=[{"dropDuplicates": ["k", "ts"]}],
        mode="append"),
    "union_window_update": dict(
        sources=[src("left", C[:4], ["ts", "10 minutes"]), src("right", B[:4], ["ts", "5 minutes"])],
        sql="SELECT k, window.start, count(*) AS n, sum(v) AS s FROM (SELECT * FROM left UNION ALL SELECT * FROM right) GROUP BY k, window(ts, '10 minutes')",
        mode="update"),
    "static_join_complete_sorted": dict(
        sources=[src("events", C), static("dims", DIMS, DIMS_SCHEMA)],
        sql="SELECT coalesce(d.name, 'none') AS name, count(*) AS n, sum(e.v) AS s FROM events e LEFT JOIN dims d ON e.k = d.k GROUP BY coalesce(d.name, 'none')",
        mode="complete"),
    "distinct_window_keys_update": dict(
        sources=[src("events", C, ["ts", "10 minutes"])],
        sql="SELECT k, window.start, approx_count_distinct(v) AS dv, collect_set(v) IS NOT NULL AS has, bool_and(v > 0) AS pos, count_if(v % 2 = 0) AS evens FROM events GROUP BY k, window(ts, '20 minutes')",
        mode="update"),
}

# Late rows next to rows on time in one batch: the late one must not bridge into a session.
LATE_BRIDGE = [
    [ev("10:30", "a", 1), ev("10:30", "b", 1)],
    [ev("10:31", "c", 9)],
    [ev("10:15", "a", 2), ev("10:24", "a", 3), ev("10:18", "b", 4), ev("10:27", "b", 5),
     ev("10:19", "b", 6)],
    [ev("11:00", "a", 7)],
]
CASES["session_late_rows_do_not_bridge_append"] = dict(
    sources=[src("events", LATE_BRIDGE, ["ts", "0 seconds"])],
    sql="SELECT k, session_window.start, session_window.end, count(*) AS n, sum(v) AS s FROM events GROUP BY k, session_window(ts, '10 minutes')",
    mode="append")

# An inner join's condition keeps rows with a NULL key out of the watermark: Spark infers
# `isnotnull(k)` from `e.k = d.k` and pushes it below the watermark.
NULL_KEYS = [
    [ev("10:00", "a", 1), ev("10:50", None, 2)],
    [ev("10:05", "a", 3), ev("10:12", "b", 4), ev("11:30", None, 5)],
    [ev("10:21", "b", 6)],
    [ev("10:40", "a", 7)],
]
CASES["stream_static_join_null_keys_append"] = dict(
    sources=[src("events", NULL_KEYS, ["ts", "5 minutes"]), static("dims", DIMS, DIMS_SCHEMA)],
    sql="SELECT e.k, window.start, count(*) AS n, sum(d.w) AS sw FROM events e JOIN dims d ON e.k = d.k GROUP BY e.k, window(e.ts, '10 minutes')",
    mode="append")

# Limits on a stream in Append mode: a count kept in state across batches.
CASES.update({
    "limit_append": dict(
        sources=[src("events", B, ["ts", "10 minutes"])],
        sql="SELECT k, ts, v FROM events WHERE v < 6 LIMIT 5",
        mode="append"),
    "limit_after_window_append": dict(
        sources=[src("events", C, ["ts", "5 minutes"])],
        sql="SELECT k, window.start, count(*) AS n FROM events GROUP BY k, window(ts, '10 minutes') LIMIT 3",
        mode="append"),
    # Spark pulls rows one at a time: the watermark sees only the rows the limit pulled.
    "limit_watermark_append": dict(
        sources=[src("events", C, ["ts", "5 minutes"])],
        sql="SELECT k, ts, v FROM events WHERE v > 1 LIMIT 4",
        mode="append"),
    "limit_union_watermark_append": dict(
        sources=[src("left", B, ["ts", "1 minute"]), src("right", C, ["ts", "10 minutes"])],
        sql="SELECT k, ts, v FROM (SELECT * FROM left UNION ALL SELECT * FROM right) LIMIT 3",
        mode="append", conf={"spark.sql.streaming.multipleWatermarkPolicy": "max"}),
    "limit_zero_append": dict(
        sources=[src("events", B)],
        sql="SELECT k FROM events LIMIT 0",
        mode="append"),
})

# Spark 4's watermark clause in SQL, on a table, a subquery and an added expression column.
CASES.update({
    "sql_watermark_clause_append": dict(
        sources=[src("events", B)],
        sql="SELECT k, window.start, count(*) AS n FROM events WATERMARK ts DELAY OF INTERVAL 10 MINUTES GROUP BY k, window(ts, '10 minutes')",
        mode="append"),
    "sql_watermark_clause_expression_update": dict(
        sources=[src("events", C)],
        sql="SELECT e.k, window.start, count(*) AS n, max(t) AS last FROM events WATERMARK ts + INTERVAL 1 MINUTE AS t DELAY OF INTERVAL '5' MINUTE AS e GROUP BY e.k, window(t, '10 minutes')",
        mode="update"),
    "sql_stream_relation_watermark_update": dict(
        sources=[src("events", B)],
        sql="SELECT e.k, window.start, count(*) AS n FROM STREAM(events) WATERMARK ts DELAY OF INTERVAL 5 MINUTES e GROUP BY e.k, window(e.ts, '10 minutes')",
        mode="update"),
    "refused_stream_of_a_batch_view": dict(
        sources=[src("events", B), static("dims", DIMS, DIMS_SCHEMA)],
        sql="SELECT * FROM STREAM dims",
        mode="append"),
    "sql_watermark_clause_subquery_append": dict(
        sources=[src("events", C)],
        sql="SELECT k, session_window.start, session_window.end, count(*) AS n FROM (SELECT ts, k FROM events WHERE k <> 'c') WATERMARK ts DELAY OF INTERVAL 5 MINUTES 30 SECONDS GROUP BY k, session_window(ts, '5 minutes')",
        mode="append"),
})

# Trigger.Once: every file in one batch (maxFilesPerTrigger does not apply), then the
# batch that applies the final watermark.
CASES.update({
    "once_tumbling_append": dict(
        sources=[src("events", B, ["ts", "10 minutes"])],
        sql="SELECT k, window.start, count(*) AS n, sum(v) AS s FROM events GROUP BY k, window(ts, '10 minutes')",
        mode="append", trigger="once"),
    "once_dedupe_within_watermark": dict(
        sources=[src("events", C, ["ts", "5 minutes"])],
        sql="SELECT k, ts, v FROM events", steps=[{"dropDuplicatesWithinWatermark": ["k"]}],
        mode="append", trigger="once"),
})

# listagg / string_agg kept in state across batches (values in the order merged; ordered).
CASES["string_agg_window_update"] = dict(
    sources=[src("events", C, ["ts", "10 minutes"])],
    sql="SELECT window.start, string_agg(CAST(v AS STRING), ',') AS vs, listagg(k, '|') WITHIN GROUP (ORDER BY v DESC, k) AS ks FROM events GROUP BY window(ts, '20 minutes')",
    mode="update")
CASES["string_agg_ordered_window_update"] = dict(
    sources=[src("events", C, ["ts", "10 minutes"])],
    sql="SELECT k, window.start, string_agg(CAST(v AS STRING), ',') AS vs, listagg(DISTINCT v, '|') WITHIN GROUP (ORDER BY v DESC) AS dv FROM events GROUP BY k, window(ts, '20 minutes')",
    mode="update")

# A session's parts fold in start order, whichever batch brought them (last, first and
# collect_list see it): the earliest row arrives after a later one is in state.
MERGE_ORDER = [
    [ev("10:05", "a", 1), ev("10:20", "b", 1)],
    [ev("10:00", "a", 2), ev("10:26", "b", None)],
    [{"ts": "2024-01-01T10:08:00Z", "k": "a", "v": None}, ev("10:18", "b", 3)],
    [ev("11:00", "a", 4)],
]
CASES["session_merge_order_complete"] = dict(
    sources=[src("events", MERGE_ORDER, ["ts", "30 minutes"])],
    sql="SELECT k, session_window.start, session_window.end, collect_list(v) AS vs, last(v) AS lv, first(v) AS fv, string_agg(CAST(v AS STRING), ',') AS sv FROM events GROUP BY k, session_window(ts, '10 minutes')",
    mode="complete")

# Queries Spark refuses: the engine must refuse them with the same error class.
CASES.update({
    "refused_window_time_in_its_aggregate": dict(
        sources=[src("events", B, ["ts", "10 minutes"])],
        sql="SELECT k, window_time(window) AS wt, count(*) AS n FROM events GROUP BY k, window(ts, '10 minutes')",
        mode="append"),
    "refused_global_session_window": dict(
        sources=[src("events", B, ["ts", "10 minutes"])],
        sql="SELECT session_window.start, count(*) AS n FROM events GROUP BY session_window(ts, '5 minutes')",
        mode="append"),
    "refused_distinct_aggregate": dict(
        sources=[src("events", B, ["ts", "10 minutes"])],
        sql="SELECT window.start, count(DISTINCT k) AS dk FROM events GROUP BY window(ts, '10 minutes')",
        mode="append"),
    "refused_watermark_on_ntz": dict(
        sources=[src("events", ntz(B), ["ts", "10 minutes"], EVENTS_NTZ)],
        sql="SELECT k, window.start, count(*) AS n FROM events GROUP BY k, window(ts, '10 minutes')",
        mode="append"),
    # Two problems: Spark reports the watermark's (found resolving FROM) before the
    # window_time's MISSING_AGGREGATION (found by CheckAnalysis).
    "refused_window_time_in_its_aggregate_over_ntz": dict(
        sources=[src("events", ntz(B), None, EVENTS_NTZ)],
        sql="SELECT k, window_time(window) AS wt, count(*) AS n FROM events WATERMARK ts DELAY OF INTERVAL 10 MINUTES GROUP BY k, window(ts, '10 minutes')",
        mode="append"),
    "refused_session_update": dict(
        sources=[src("events", B, ["ts", "10 minutes"])],
        sql="SELECT k, session_window.start, count(*) AS n FROM events GROUP BY k, session_window(ts, '5 minutes')",
        mode="update"),
})

def render(df):
    cols = [F.col("`%s`" % c).cast("string") for c in df.columns]
    out = []
    for r in df.select(cols).collect():
        out.append(" | ".join("NULL" if v is None else v for v in r))
    return sorted(out)

def run_case(spark, name, case):
    case_dir = os.path.join(CASES_DIR, name)
    shutil.rmtree(case_dir, ignore_errors=True)
    os.makedirs(case_dir)
    meta = {k: case.get(k) for k in ("sql", "mode")}
    meta["trigger"] = case.get("trigger", "availableNow")
    meta["steps"] = case.get("steps", [])
    meta["conf"] = case.get("conf", {})
    meta["sources"] = [{k: s[k] for k in ("name", "schema", "watermark")} | {"files": len(s["batches"]), "static": s.get("static", False), "opts": s.get("opts", {})} for s in case["sources"]]
    with open(os.path.join(case_dir, "case.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    work = tempfile.mkdtemp()
    for k, v in meta["conf"].items():
        spark.conf.set(k, v)
    base = time.time() - 10000
    for s in case["sources"]:
        d = os.path.join(case_dir, "input", s["name"])
        os.makedirs(d)
        for i, rows in enumerate(s["batches"]):
            p = os.path.join(d, "%03d.json" % i)
            with open(p, "w") as f:
                for r in rows:
                    f.write(json.dumps(r) + "\n")
            os.utime(p, (base + i, base + i))
    batches = []
    def each(bdf, batch_id):
        batches.append({"batch_id": batch_id, "rows": render(bdf)})
    try:
        for s in case["sources"]:
            d = os.path.join(case_dir, "input", s["name"])
            if s.get("static"):
                spark.read.schema(s["schema"]).json(d).createOrReplaceTempView(s["name"])
                continue
            opts = {"maxFilesPerTrigger": 1} | s.get("opts", {})
            opts = {k: v for k, v in opts.items() if v is not None}
            df = spark.readStream.schema(s["schema"]).options(**opts).json(d)
            if s["watermark"]:
                df = df.withWatermark(*s["watermark"])
            df.createOrReplaceTempView(s["name"])
        df = spark.sql(case["sql"])
        for step in case.get("steps", []):
            (op, cols), = step.items()
            df = getattr(df, op)(*([cols] if cols else []))
        q = (df.writeStream.foreachBatch(each).outputMode(case["mode"])
             .option("checkpointLocation", os.path.join(work, "ckpt"))
             .trigger(**({"once": True} if case.get("trigger") == "once" else {"availableNow": True}))
             .start())
        q.awaitTermination()
    except Exception as e:
        # A query Spark refuses: the engine must refuse it with the same error class.
        # A query that fails while running is STREAM_FAILED around the cause's message.
        cls = getattr(e, "getCondition", lambda: None)() or type(e).__name__
        cause = str(e).split("terminated with exception: ", 1)[-1].split(" SQLSTATE")[0]
        with open(os.path.join(case_dir, "expected.json"), "w") as f:
            json.dump({"error": cls, "cause": cause.splitlines()[0] if cause else ""}, f)
            f.write("\n")
        for k in meta["conf"]:
            spark.conf.unset(k)
        shutil.rmtree(work, ignore_errors=True)
        print("%-32s refused: %s" % (name, cls))
        return
    progress = {p["batchId"]: p for p in q.recentProgress}
    for b in batches:
        p = progress.get(b["batch_id"], {})
        b["watermark"] = p.get("eventTime", {}).get("watermark")
        b["num_input_rows"] = p.get("numInputRows")
        b["state"] = [{"numRowsTotal": o["numRowsTotal"], "numRowsDroppedByWatermark": o["numRowsDroppedByWatermark"]} for o in p.get("stateOperators", [])]
    with open(os.path.join(case_dir, "expected.json"), "w") as f:
        json.dump(batches, f, indent=1)
        f.write("\n")
    for k in meta["conf"]:
        spark.conf.unset(k)
    shutil.rmtree(work, ignore_errors=True)
    print("%-32s %d batches" % (name, len(batches)))

def session():
    spark = (SparkSession.builder.master("local[2]")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.ui.enabled", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark

if __name__ == "__main__":
    spark = session()
    names = sys.argv[1:] or list(CASES)
    for n in names:
        run_case(spark, n, CASES[n])
