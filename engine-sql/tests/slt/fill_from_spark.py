"""Fills in the expected results of .slt files from Apache Spark itself (PySpark 4).

Usage, from engine-sql/:  python3 tests/slt/fill_from_spark.py tests/slt/joins.slt ...

Every `query` record is run in Spark (same settings as the Rust harness: local[2], UTC,
4 shuffle partitions) and its type letters and result rows are rewritten, values shown as
Spark's CAST(x AS STRING), NULL as NULL, '' as (empty), rowsort records sorted the way
sqllogictest sorts. `statement` records are run; errors are reported on stderr so the
expected error class can be checked. Records with other content are kept as they are.
Statements separated by "; " in one record run in order, as the engine's run_sql does.
"""
import sys, os, re
from pyspark.sql import SparkSession, functions as F
from pyspark.sql.types import *
os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
spark = (SparkSession.builder.master("local[2]")
         .config("spark.sql.session.timeZone", "UTC")
         .config("spark.sql.shuffle.partitions", "4")
         .config("spark.ui.enabled", "false").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")

def tychar(dt):
    if isinstance(dt, (ByteType, ShortType, IntegerType, LongType)): return "I"
    if isinstance(dt, (FloatType, DoubleType, DecimalType)): return "R"
    return "T"

def run_sql(sql):
    parts = [x for x in sql.split("; ") if x.strip()]
    for x in parts[:-1]:
        spark.sql(x).collect()
    return spark.sql(parts[-1])

def run_query(sql):
    df = run_sql(sql)
    df = df.toDF(*["c%d" % i for i in range(len(df.columns))])
    types = "".join(tychar(f.dataType) for f in df.schema.fields)
    cols = [F.col("`%s`" % c.replace("`", "``")).cast("string") for c in df.columns]
    rows = df.select(cols).collect() if cols else []
    out = []
    for r in rows:
        vals = []
        for v in r:
            if v is None: vals.append("NULL")
            elif v == "": vals.append("(empty)")
            else: vals.append(v)
        out.append(vals)
    return types, out, df.columns

for path in sys.argv[1:]:
    spark.catalog.clearCache()
    for v in [r.viewName for r in spark.sql("SHOW VIEWS").collect()]:
        spark.catalog.dropTempView(v)
    spark.conf.set("spark.sql.shuffle.partitions", "4")
    text = open(path).read()
    blocks = re.split(r"\n\s*\n", text.strip("\n"))
    out_blocks = []
    for b in blocks:
        lines = b.split("\n")
        # leading comment lines
        i = 0
        while i < len(lines) and lines[i].startswith("#"): i += 1
        head = lines[:i]; rest = lines[i:]
        if not rest:
            out_blocks.append(b); continue
        hdr = rest[0]
        conds = []
        while hdr.startswith("skipif") or hdr.startswith("onlyif"):
            conds.append(hdr); rest = rest[1:]; hdr = rest[0]
        if hdr.startswith("statement"):
            sql = "\n".join(rest[1:])
            try:
                run_sql(sql).collect()
                if "error" in hdr:
                    print("!! %s: expected error but ok: %s" % (path, sql), file=sys.stderr)
            except Exception as e:
                msg = str(e).strip().split("\n")[0]
                if "error" not in hdr:
                    print("!! %s: statement failed: %s\n   %s" % (path, sql, msg), file=sys.stderr)
                else:
                    print("   error for %s: %s" % (sql, msg[:200]), file=sys.stderr)
            out_blocks.append(b); continue
        if hdr.startswith("query"):
            parts = hdr.split()
            if len(parts) > 1 and parts[1] == "error":
                sql = "\n".join(rest[1:])
                try:
                    spark.sql(sql).collect()
                    print("!! %s: expected error but ok: %s" % (path, sql), file=sys.stderr)
                except Exception as e:
                    print("   error for %s: %s" % (sql, str(e).split("\n")[0][:200]), file=sys.stderr)
                out_blocks.append(b); continue
            sep = rest.index("----") if "----" in rest else len(rest)
            sql = "\n".join(rest[1:sep])
            try:
                types, rows, names = run_query(sql)
            except Exception as e:
                print("!! %s: query failed: %s\n   %s" % (path, sql, str(e).split("\n")[0]), file=sys.stderr)
                out_blocks.append(b); continue
            mode = [p for p in parts[1:] if p in ("rowsort", "valuesort", "nosort")]
            if "rowsort" in mode:
                # sqllogictest sorts the actual rows (as lists of strings); expected must match.
                rows = sorted(rows)
            rows = [" ".join(r) for r in rows]
            newhdr = " ".join(["query", types] + mode)
            # keep a comment with Spark's column names
            out_blocks.append("\n".join(head + conds + [newhdr] + rest[1:sep] + ["----"] + rows))
            continue
        out_blocks.append(b)
    open(path, "w").write("\n\n".join(out_blocks) + "\n")
    print("filled", path)
