"""The stateful streaming benchmark's queries in PySpark, for `cargo xtask bench-streaming
--stateful --vs-spark` (which installs pyspark with pip when it is missing).

Usage: python3 stateful_bench_spark.py INPUT_DIR SCRATCH_DIR QUERY THREADS

The same queries as engine-sql/examples/stateful_bench.rs: JSON event files, one file per
micro-batch, Trigger.AvailableNow, a 10-minute watermark on ts, the noop sink,
spark.sql.shuffle.partitions=4, local[THREADS], Spark's default (HDFS-backed) state store.
Prints one JSON object like the engine's driver: events, batches, seconds from start() to
the end, events/s.
"""
import json, shutil, sys, time
from pyspark.sql import SparkSession, functions as F

EVENT_SCHEMA = ("order_id STRING, user STRUCT<id: STRING, country: STRING, tier: STRING>, "
                "channel STRING, items ARRAY<STRUCT<sku: STRING, qty: INT, price: DOUBLE>>, "
                "payment STRUCT<method: STRING, currency: STRING>, ts TIMESTAMP")

def main():
    inp, scratch, query, threads = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    shutil.rmtree(scratch, ignore_errors=True)
    spark = (SparkSession.builder.master("local[%s]" % threads)
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.shuffle.partitions", "4")
             .config("spark.ui.enabled", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    events = (spark.readStream.schema(EVENT_SCHEMA).option("maxFilesPerTrigger", 1).json(inp)
              .withWatermark("ts", "10 minutes"))
    if query == "sliding":
        df, mode = events.groupBy(F.window("ts", "10 minutes", "5 minutes"), "channel").count(), "append"
    elif query in ("items_append", "items_update"):
        items = events.select("ts", F.col("user.country").alias("country"), F.explode("items").alias("item"))
        df = items.groupBy(F.window("ts", "1 minute"), "country").agg(
            F.count(F.lit(1)).alias("items"), F.sum("item.qty").alias("qty"))
        mode = "append" if query == "items_append" else "update"
    elif query == "session":
        df, mode = events.groupBy(F.session_window("ts", "5 minutes"), F.col("user.id")).count(), "append"
    else:
        raise SystemExit("unknown query " + query)
    t0 = time.time()
    q = (df.writeStream.format("noop").outputMode(mode)
         .option("checkpointLocation", scratch + "/checkpoint")
         .trigger(availableNow=True).start())
    q.awaitTermination()
    secs = time.time() - t0
    progress = q.recentProgress
    n = sum(p["numInputRows"] for p in progress)
    print(json.dumps({"query": query, "provider": "spark", "events": n, "batches": len(progress),
                      "seconds": secs, "events_per_second": n / secs}))
    spark.stop()

if __name__ == "__main__":
    main()
