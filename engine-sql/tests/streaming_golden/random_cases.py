"""Random streaming cases: queries and event files drawn at random, answered by PySpark 4.3.

Usage, from engine-sql/:
    python3 tests/streaming_golden/random_cases.py OUT_DIR SEED COUNT|I,J,..
then
    GOLDEN_CASES_DIR=OUT_DIR cargo test -p engine-sql --test streaming_golden

Each case is a query the hand-written cases of `spark_golden.py` did not pin: a random window
kind (tumbling, sliding with or without a start offset, session with a static or dynamic
gap), random keys, aggregates, filters, watermark delay and output mode, or a deduplication,
over random out-of-order events (late ones, ties, batches with nothing new, long jumps).
A query Spark refuses is written with the error class it raised, and the engine must refuse
it with the same class. A case that finds a difference is worth copying into `cases/` (under
a name saying what it pins) as a regression test.
"""
import os, random, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spark_golden as g

AGGS = ["count(*) AS n", "sum(v) AS s", "min(v) AS lo", "max(v) AS hi", "avg(v) AS a",
        "count(v) AS nv", "array_sort(collect_set(v)) AS vs", "max(ts) AS last_ts",
        "sum(v * 2) FILTER (WHERE v > 2) AS big", "bool_or(v IS NULL) AS any_null",
        "min(k) AS mk", "sum(DISTINCT v) AS sd", "count(DISTINCT k) AS dk",
        # Order-sensitive: which rows merge first (batch rows, stored state).
        "collect_list(v) AS vl", "first(v) AS fv", "last(v) AS lv", "first(v, true) AS fnn",
        "max_by(k, v) AS kmax", "percentile_approx(v, 0.5) AS med", "string_agg(k, ',') AS ks"]
FILTERS = ["v > 2", "k <> 'b'", "v IS NOT NULL", "k IS NOT NULL AND v < 7",
           "ts >= TIMESTAMP '2024-01-01 10:05:00'", "v % 2 = 1 OR k = 'c'"]
DELAYS = ["0 seconds", "1 minute", "5 minutes", "10 minutes", "15 minutes", "30 minutes"]


def events(r):
    """3-7 files of 0-7 events: mostly advancing time, some late, ties, a jump."""
    batches, t = [], 600 + r.randrange(0, 10)
    for _ in range(r.randint(3, 7)):
        rows = []
        for _ in range(r.choice([0, 1, 2, 3, 4, 5, 6, 7])):
            kind = r.random()
            if kind < 0.6:
                t += r.randrange(0, 8)
                m = t
            elif kind < 0.85:
                m = max(0, t - r.randrange(5, 40))
            elif kind < 0.95:
                m = t
            else:
                t += r.randrange(30, 90)
                m = t
            sec = r.choice(["00", "00", "00", "30", "59", "59.999999", "00.5"])
            ts = "%02d:%02d:%s" % (m // 60, m % 60, sec)
            k = r.choice(["a", "b", "c", "a", "b", None]) if r.random() < 0.9 else None
            v = r.choice([None] + list(range(0, 9))) if r.random() < 0.95 else None
            rows.append(g.ev(ts, k, v))
        batches.append(rows)
    return batches


def window_expr(r):
    kind = r.choice(["tumbling", "tumbling", "sliding", "sliding_start", "session",
                     "session_dynamic"])
    size = r.choice([5, 10, 15, 20, 30])
    if kind == "tumbling":
        return kind, "window(ts, '%d minutes')" % size
    if kind == "sliding":
        slide = r.choice([s for s in (1, 2, 5, 10) if size % s == 0 and s < size] or [size])
        return kind, "window(ts, '%d minutes', '%d minutes')" % (size, slide)
    if kind == "sliding_start":
        slide = r.choice([s for s in (5, 10) if s <= size and size % s == 0])
        return kind, "window(ts, '%d minutes', '%d minutes', '%d minutes')" % (
            size, slide, r.randrange(1, slide))
    if kind == "session":
        return kind, "session_window(ts, '%d minutes')" % r.choice([3, 5, 10])
    return kind, ("session_window(ts, CASE WHEN k = 'a' THEN '3 minutes' WHEN k = 'b' "
                  "THEN '8 minutes' ELSE '5 minutes' END)")


def query(r):
    """(sql, steps, mode) of one random query."""
    shape = r.random()
    where = (" WHERE " + r.choice(FILTERS)) if r.random() < 0.4 else ""
    if r.random() < 0.25:
        return other_query(r, where)
    if shape < 0.65:
        kind, w = window_expr(r)
        keys = r.choice([[], ["k"], ["k"], ["v % 3"]])
        aggs = r.sample(AGGS, r.randint(1, 3))
        name = "session_window" if kind.startswith("session") else "window"
        cols = [*(("%s AS key" % k) if k != "k" else k for k in keys),
                name + ".start", name + ".end", *aggs]
        group = ", ".join([*keys, w])
        sql = "SELECT %s FROM events%s GROUP BY %s" % (", ".join(cols), where, group)
        if r.random() < 0.2:
            sql += " HAVING count(*) > 1"
        mode = r.choice(["append", "append", "update", "complete"])
        return sql, [], mode
    if shape < 0.72:
        # Chained as Spark's guide chains: window_time over the first aggregate's output.
        kind, w = window_expr(r)
        inner = "SELECT k, %s AS w, count(*) AS n, max(v) AS m FROM events%s GROUP BY k, %s" % (
            "session_window" if kind.startswith("session") else "window", where, w)
        outer = r.choice([10, 20, 30, 60])
        keys = r.choice(["", "k, "])
        sql = ("SELECT %swindow.start, window.end, sum(n) AS total, max(m) AS m, count(*) AS windows "
               "FROM (%s) GROUP BY %swindow(window_time(w), '%d minutes')" % (keys, inner, keys, outer))
        return sql, [], r.choice(["append", "append", "update"])
    if shape < 0.8:
        kind, w = window_expr(r)
        # Chained: a window over the output of a windowed aggregate.
        name = "session_window" if kind.startswith("session") else "window"
        inner = "SELECT k, window_time(" + name + ") AS wt, count(*) AS n FROM events%s GROUP BY k, %s" % (
            where, w)
        outer = r.choice([10, 20, 30, 60])
        sql = ("SELECT window.start, window.end, sum(n) AS total, count(*) AS windows FROM (%s) "
               "GROUP BY window(wt, '%d minutes')" % (inner, outer))
        return sql, [], r.choice(["append", "append", "update"])
    if shape < 0.9:
        cols = r.choice([["k"], ["k", "ts"], ["v"], ["k", "v"]])
        op = r.choice(["dropDuplicates", "dropDuplicatesWithinWatermark"])
        return "SELECT k, ts, v FROM events" + where, [{op: cols}], r.choice(["append", "append", "update"])
    keys = r.choice([["k"], [], ["k", "v % 2"]])
    aggs = r.sample(AGGS[:8], r.randint(1, 3))
    cols = [*(("%s AS key%d" % (k, i)) for i, k in enumerate(keys)), *aggs]
    sql = "SELECT %s FROM events%s" % (", ".join(cols), where)
    if keys:
        sql += " GROUP BY " + ", ".join(keys)
    return sql, [], r.choice(["update", "complete", "append"])


def other_query(r, where):
    """Windows over joins with a static table, exploded rows and parsed values."""
    kind, w = window_expr(r)
    name = "session_window" if kind.startswith("session") else "window"
    mode = r.choice(["append", "update", "complete"])
    shape = r.choice(["join", "left_join", "explode", "distinct_window", "cast", "limit",
                      "limit"])
    if shape == "limit":
        # Limits: on the rows as they come, or on a windowed aggregate's output.
        n = r.randint(1, 6)
        if r.random() < 0.6:
            sql = ("SELECT k, ts, v * 2 AS v2, date_trunc('minute', ts) AS m FROM events%s "
                   "LIMIT %d" % (where, n))
            return sql, [], r.choice(["append", "append", "update"])
        sql = ("SELECT k, %s.start, count(*) AS n FROM events%s GROUP BY k, %s LIMIT %d" % (
            name, where, w, n))
        # (Complete mode: a LIMIT without ORDER BY picks arbitrary rows, in Spark too.)
        return sql, [], "append"
    if shape in ("join", "left_join"):
        join = "JOIN" if shape == "join" else "LEFT JOIN"
        sql = ("SELECT e.k, %s.start, count(*) AS n, sum(d.w) AS sw, max(d.name) AS dn FROM events e "
               "%s dims d ON e.k = d.k%s GROUP BY e.k, %s" % (
                   name, join, where.replace(" v ", " e.v ").replace(" k ", " e.k "),
                   w.replace("(ts", "(e.ts").replace("k = ", "e.k = ")))
        return sql, [], mode
    if shape == "explode":
        sql = ("SELECT k, %s.start, count(*) AS n, sum(x) AS sx FROM (SELECT ts, k, "
               "explode(array(v, v + 1, v * 2)) AS x FROM events%s) GROUP BY k, %s" % (name, where, w))
        return sql, [], mode
    if shape == "distinct_window":
        sql = ("SELECT %s.start, count(*) AS n FROM (SELECT DISTINCT k, ts FROM events%s) "
               "GROUP BY %s" % (name, where, w))
        return sql, [], mode
    sql = ("SELECT k, %s.end, sum(CAST(v AS DOUBLE) / 4) AS q, max(concat(k, ':', v)) AS kv, "
           "min(date_format(ts, 'HH:mm:ss')) AS first FROM events%s GROUP BY k, %s" % (name, where, w))
    return sql, [], mode


def case(r):
    sql, steps, mode = query(r)
    wm = ["ts", r.choice(DELAYS)] if r.random() < 0.9 else None
    batches, schema = events(r), g.EVENTS
    if r.random() < 0.15:
        batches, schema = g.ntz(batches), g.EVENTS_NTZ
    elif r.random() < 0.3:
        # Fractional values read as DOUBLE (sums, averages and their text).
        batches = [[dict(e, v=None if e["v"] is None else e["v"] / 4 + 0.1) for e in b]
                   for b in batches]
        schema = "ts TIMESTAMP, k STRING, v DOUBLE"
    if mode == "complete" and r.random() < 0.5 and "GROUP BY" in sql:
        # A total order: rows tied on a prefix would make the LIMIT's pick arbitrary.
        sql += " ORDER BY ALL DESC LIMIT 3"
    if r.random() < 0.1:
        # Two watermarked streams unioned.
        other = events(r)
        policy = r.choice(["min", "max"])
        sql = sql.replace(" FROM events", " FROM (SELECT * FROM left UNION ALL SELECT * FROM right)", 1)
        sources = [g.src("left", batches, wm or ["ts", "5 minutes"], schema),
                   g.src("right", other, ["ts", r.choice(DELAYS)], schema)]
        if " dims " in sql:
            sources.append(g.static("dims", g.DIMS, g.DIMS_SCHEMA))
        return dict(sources=sources, sql=sql, steps=steps, mode=mode,
                    conf={"spark.sql.streaming.multipleWatermarkPolicy": policy})
    conf = {}
    if r.random() < 0.2:
        conf["spark.sql.streaming.noDataMicroBatches.enabled"] = "false"
    if wm and " FROM events" in sql and r.random() < 0.3:
        # The watermark in SQL (Spark 4's clause) instead of on the source.
        n, unit = wm[1].split()
        sql = sql.replace(" FROM events", " FROM events WATERMARK ts DELAY OF INTERVAL %s %s" % (
            n, unit.upper()), 1)
        wm = None
    sources = [g.src("events", batches, wm, schema)]
    if " dims " in sql:
        sources.append(g.static("dims", g.DIMS, g.DIMS_SCHEMA))
    return dict(sources=sources, sql=sql, steps=steps, mode=mode, conf=conf)


if __name__ == "__main__":
    out, seed, which = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    g.CASES_DIR = out
    spark = g.session()
    # COUNT cases, or the ones listed (`3,17`) again.
    for i in ([int(x) for x in which.split(",")] if "," in which else range(int(which))):
        r = random.Random(seed * 100_003 + i)
        name = "random_%d_%d" % (seed, i)
        g.run_case(spark, name, case(r))
