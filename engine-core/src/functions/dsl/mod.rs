//! Rust builders for the DataFrame API, one per scalar function, in the spirit of
//! `pyspark.sql.functions`: `upper(col("name"))`, `date_format(col("ts"), "yyyy-MM")`.
//!
//! Each returns an unresolved call (`crate::expr::call`), so it prints as Spark's column
//! name (`upper(name)`) and the analyzer resolves it against the registry like SQL does.
//! Patterns and other constant options are plain Rust values; anything that may be a column
//! is an [`Expr`] (wrap constants with `lit`). Higher-order functions take Rust closures as
//! their lambdas (`transform(col("a"), |x| x + lit(1))`, see `higher_order`).

use crate::expr::{Expr, call, lit};

mod higher_order;
pub use higher_order::*;

/// `upper(e)`
pub fn upper(e: Expr) -> Expr {
    call("upper", vec![e])
}

/// `lower(e)`
pub fn lower(e: Expr) -> Expr {
    call("lower", vec![e])
}

/// `trim(e)`: removes leading and trailing spaces.
pub fn trim(e: Expr) -> Expr {
    call("trim", vec![e])
}

/// `ltrim(e)`
pub fn ltrim(e: Expr) -> Expr {
    call("ltrim", vec![e])
}

/// `rtrim(e)`
pub fn rtrim(e: Expr) -> Expr {
    call("rtrim", vec![e])
}

/// `substring(e, pos, len)`: 1-based `pos`; negative counts from the end.
pub fn substring(e: Expr, pos: i32, len: i32) -> Expr {
    call("substring", vec![e, lit(pos), lit(len)])
}

/// `concat(e1, e2, ...)`: NULL if any input is NULL.
pub fn concat(es: Vec<Expr>) -> Expr {
    call("concat", es)
}

/// `concat_ws(sep, e1, e2, ...)`: skips NULL inputs.
pub fn concat_ws(sep: &str, es: Vec<Expr>) -> Expr {
    let mut args = vec![lit(sep)];
    args.extend(es);
    call("concat_ws", args)
}

/// `length(e)`: characters of a string, bytes of a binary.
pub fn length(e: Expr) -> Expr {
    call("length", vec![e])
}

/// `split(e, pattern)`: splits around matches of a Java regex into `ARRAY<STRING>`.
pub fn split(e: Expr, pattern: &str) -> Expr {
    call("split", vec![e, lit(pattern)])
}

/// `split(e, pattern, limit)`: at most `limit` pieces when `limit > 0`.
pub fn split_limit(e: Expr, pattern: &str, limit: i32) -> Expr {
    call("split", vec![e, lit(pattern), lit(limit)])
}

/// `regexp_extract(e, pattern, idx)`: group `idx` of the first match, `""` when none.
pub fn regexp_extract(e: Expr, pattern: &str, idx: i32) -> Expr {
    call("regexp_extract", vec![e, lit(pattern), lit(idx)])
}

/// `regexp_replace(e, pattern, replacement)`: `$1` refers to groups.
pub fn regexp_replace(e: Expr, pattern: &str, replacement: &str) -> Expr {
    call("regexp_replace", vec![e, lit(pattern), lit(replacement)])
}

/// `lpad(e, len, pad)`
pub fn lpad(e: Expr, len: i32, pad: &str) -> Expr {
    call("lpad", vec![e, lit(len), lit(pad)])
}

/// `rpad(e, len, pad)`
pub fn rpad(e: Expr, len: i32, pad: &str) -> Expr {
    call("rpad", vec![e, lit(len), lit(pad)])
}

/// `initcap(e)`
pub fn initcap(e: Expr) -> Expr {
    call("initcap", vec![e])
}

/// `reverse(e)`
pub fn reverse(e: Expr) -> Expr {
    call("reverse", vec![e])
}

/// `instr(e, substr)`: 1-based position, 0 when absent.
pub fn instr(e: Expr, substr: &str) -> Expr {
    call("instr", vec![e, lit(substr)])
}

/// `abs(e)`
pub fn abs(e: Expr) -> Expr {
    call("abs", vec![e])
}

/// `round(e, scale)`: HALF_UP.
pub fn round(e: Expr, scale: i32) -> Expr {
    call("round", vec![e, lit(scale)])
}

/// `bround(e, scale)`: HALF_EVEN.
pub fn bround(e: Expr, scale: i32) -> Expr {
    call("bround", vec![e, lit(scale)])
}

/// `floor(e)`
pub fn floor(e: Expr) -> Expr {
    call("floor", vec![e])
}

/// `ceil(e)`
pub fn ceil(e: Expr) -> Expr {
    call("ceil", vec![e])
}

/// `pow(base, exponent)` as DOUBLE.
pub fn pow(base: Expr, exponent: Expr) -> Expr {
    call("pow", vec![base, exponent])
}

/// `sqrt(e)`
pub fn sqrt(e: Expr) -> Expr {
    call("sqrt", vec![e])
}

/// `greatest(e1, e2, ...)`: skips NULLs.
pub fn greatest(es: Vec<Expr>) -> Expr {
    call("greatest", es)
}

/// `least(e1, e2, ...)`: skips NULLs.
pub fn least(es: Vec<Expr>) -> Expr {
    call("least", es)
}

/// `current_timestamp()`: the query's start time.
pub fn current_timestamp() -> Expr {
    call("current_timestamp", vec![])
}

/// `current_date()`: the query's start date in the session time zone.
pub fn current_date() -> Expr {
    call("current_date", vec![])
}

/// `to_timestamp(e)` (cast-style parsing) or `to_timestamp(e, fmt)`.
pub fn to_timestamp(e: Expr, fmt: Option<&str>) -> Expr {
    with_fmt("to_timestamp", e, fmt)
}

/// `to_date(e)` or `to_date(e, fmt)`.
pub fn to_date(e: Expr, fmt: Option<&str>) -> Expr {
    with_fmt("to_date", e, fmt)
}

fn with_fmt(name: &str, e: Expr, fmt: Option<&str>) -> Expr {
    let mut args = vec![e];
    if let Some(f) = fmt {
        args.push(lit(f));
    }
    call(name, args)
}

/// `date_format(e, fmt)` with a Spark datetime pattern.
pub fn date_format(e: Expr, fmt: &str) -> Expr {
    call("date_format", vec![e, lit(fmt)])
}

/// `year(e)`
pub fn year(e: Expr) -> Expr {
    call("year", vec![e])
}

/// `month(e)`
pub fn month(e: Expr) -> Expr {
    call("month", vec![e])
}

/// `dayofmonth(e)`
pub fn dayofmonth(e: Expr) -> Expr {
    call("dayofmonth", vec![e])
}

/// `dayofweek(e)`: 1 = Sunday.
pub fn dayofweek(e: Expr) -> Expr {
    call("dayofweek", vec![e])
}

/// `hour(e)` in the session time zone.
pub fn hour(e: Expr) -> Expr {
    call("hour", vec![e])
}

/// `minute(e)`
pub fn minute(e: Expr) -> Expr {
    call("minute", vec![e])
}

/// `second(e)`
pub fn second(e: Expr) -> Expr {
    call("second", vec![e])
}

/// `unix_timestamp(e)` or `unix_timestamp(e, fmt)`: seconds since the epoch.
pub fn unix_timestamp(e: Expr, fmt: Option<&str>) -> Expr {
    with_fmt("unix_timestamp", e, fmt)
}

/// `unix_timestamp()`: the query's start time in seconds.
pub fn unix_timestamp_now() -> Expr {
    call("unix_timestamp", vec![])
}

/// `from_unixtime(secs)` or `from_unixtime(secs, fmt)`.
pub fn from_unixtime(secs: Expr, fmt: Option<&str>) -> Expr {
    with_fmt("from_unixtime", secs, fmt)
}

/// `date_add(start, days)`
pub fn date_add(start: Expr, days: Expr) -> Expr {
    call("date_add", vec![start, days])
}

/// `date_sub(start, days)`
pub fn date_sub(start: Expr, days: Expr) -> Expr {
    call("date_sub", vec![start, days])
}

/// `datediff(end, start)` in days.
pub fn datediff(end: Expr, start: Expr) -> Expr {
    call("datediff", vec![end, start])
}

/// `date_trunc(unit, ts)`: `"year"`, `"month"`, `"day"`, `"hour"`, ...
pub fn date_trunc(unit: &str, ts: Expr) -> Expr {
    call("date_trunc", vec![lit(unit), ts])
}

/// `size(e)` of an array or map.
pub fn size(e: Expr) -> Expr {
    call("size", vec![e])
}

/// `element_at(e, key)`: 1-based index for arrays, key for maps.
pub fn element_at(e: Expr, key: Expr) -> Expr {
    call("element_at", vec![e, key])
}

/// `array_contains(e, value)`
pub fn array_contains(e: Expr, value: Expr) -> Expr {
    call("array_contains", vec![e, value])
}

/// `array(e1, e2, ...)`
pub fn array(es: Vec<Expr>) -> Expr {
    call("array", es)
}

/// `struct(e1, e2, ...)`: field names from column names (`col1`, ... otherwise).
pub fn struct_(es: Vec<Expr>) -> Expr {
    call("struct", es)
}

/// `named_struct(name1, e1, name2, e2, ...)`
pub fn named_struct(fields: Vec<(&str, Expr)>) -> Expr {
    let args = fields.into_iter().flat_map(|(n, e)| [lit(n), e]).collect();
    call("named_struct", args)
}

/// `sort_array(e, asc)`
pub fn sort_array(e: Expr, asc: bool) -> Expr {
    call("sort_array", vec![e, lit(asc)])
}

/// `array_distinct(e)`
pub fn array_distinct(e: Expr) -> Expr {
    call("array_distinct", vec![e])
}

/// `array_join(e, delimiter)`
pub fn array_join(e: Expr, delimiter: &str) -> Expr {
    call("array_join", vec![e, lit(delimiter)])
}

/// `coalesce(e1, e2, ...)`: the first non-NULL value.
pub fn coalesce(es: Vec<Expr>) -> Expr {
    call("coalesce", es)
}

/// `nvl(e, replacement)`
pub fn nvl(e: Expr, replacement: Expr) -> Expr {
    call("nvl", vec![e, replacement])
}

/// `nullif(a, b)`
pub fn nullif(a: Expr, b: Expr) -> Expr {
    call("nullif", vec![a, b])
}

// ---- semi-structured data ----

/// `struct(*)`: every input column in one struct (`to_json(struct_all())` serializes a row).
pub fn struct_all() -> Expr {
    call("struct", vec![Expr::Star(None)])
}

fn options_map(options: &[(&str, &str)]) -> Expr {
    call(
        "map",
        options
            .iter()
            .flat_map(|(k, v)| [lit(*k), lit(*v)])
            .collect(),
    )
}

/// `from_json(e, schema)`: `schema` is a DDL string (`"a INT, b ARRAY<STRING>"`), a type
/// (`"ARRAY<STRUCT<a: INT>>"`, `"MAP<STRING, INT>"`) or Spark's JSON schema format.
pub fn from_json(e: Expr, schema: &str) -> Expr {
    call("from_json", vec![e, lit(schema)])
}

/// `from_json(e, schema, options)`: Spark's JSON options (`mode`,
/// `columnNameOfCorruptRecord`, `timestampFormat`, `allowComments`, ...).
/// `mode = DROPMALFORMED` drops malformed rows (an extension, see
/// [`crate::functions::json::from_json`]).
pub fn from_json_with_options(e: Expr, schema: &str, options: &[(&str, &str)]) -> Expr {
    call("from_json", vec![e, lit(schema), options_map(options)])
}

/// `from_json(e, schema)` with the schema as an Arrow type (a STRUCT, ARRAY or MAP).
pub fn from_json_type(e: Expr, schema: &arrow::datatypes::DataType) -> Expr {
    from_json(e, &crate::types::schema_to_json(schema))
}

/// `to_json(e)`: the JSON text of a struct, array or map.
pub fn to_json(e: Expr) -> Expr {
    call("to_json", vec![e])
}

/// `to_json(e, options)` (`ignoreNullFields`, `timestampFormat`, `dateFormat`).
pub fn to_json_with_options(e: Expr, options: &[(&str, &str)]) -> Expr {
    call("to_json", vec![e, options_map(options)])
}

/// `get_json_object(e, path)`.
pub fn get_json_object(e: Expr, path: &str) -> Expr {
    call("get_json_object", vec![e, lit(path)])
}

/// `json_tuple(e, f1, f2, ...)`: a generator of one row with columns `c0`, `c1`, ...
pub fn json_tuple(e: Expr, fields: &[&str]) -> Expr {
    let mut args = vec![e];
    args.extend(fields.iter().map(|f| lit(*f)));
    call("json_tuple", args)
}

/// `schema_of_json(e)`.
pub fn schema_of_json(e: Expr) -> Expr {
    call("schema_of_json", vec![e])
}

/// `from_csv(e, schema, options)`.
pub fn from_csv(e: Expr, schema: &str, options: &[(&str, &str)]) -> Expr {
    call("from_csv", vec![e, lit(schema), options_map(options)])
}

/// `to_csv(e, options)`.
pub fn to_csv(e: Expr, options: &[(&str, &str)]) -> Expr {
    call("to_csv", vec![e, options_map(options)])
}

/// `explode(e)`: one row per array element (`col`) or map entry (`key`, `value`).
pub fn explode(e: Expr) -> Expr {
    call("explode", vec![e])
}

/// `explode_outer(e)`: as `explode`, keeping rows whose array is NULL or empty.
pub fn explode_outer(e: Expr) -> Expr {
    call("explode_outer", vec![e])
}

/// `posexplode(e)`: as `explode` with the position first (`pos`).
pub fn posexplode(e: Expr) -> Expr {
    call("posexplode", vec![e])
}

/// `posexplode_outer(e)`.
pub fn posexplode_outer(e: Expr) -> Expr {
    call("posexplode_outer", vec![e])
}

/// `inline(e)`: one row per struct of an array of structs.
pub fn inline(e: Expr) -> Expr {
    call("inline", vec![e])
}

/// `inline_outer(e)`.
pub fn inline_outer(e: Expr) -> Expr {
    call("inline_outer", vec![e])
}

/// Names every column of a generator (`posexplode(c).alias("p", "v")` in PySpark).
pub fn aliases(e: Expr, names: &[&str]) -> Expr {
    crate::logical::multi_alias(e, names)
}

/// `window(time, size, slide, start)`: the event-time window(s) of each row, a
/// `struct<start, end>` column named `window`; tumbling when `slide` is `None` (or equal to
/// `size`), sliding otherwise (a row per window that contains the event). Durations are
/// Spark's interval strings (`"10 minutes"`); `start` offsets the windows from the epoch.
/// Usually grouped by: `df.group_by(vec![window(col("ts"), "10 minutes", None, None)])`.
pub fn window(time: Expr, size: &str, slide: Option<&str>, start: Option<&str>) -> Expr {
    let mut args = vec![time, lit(size)];
    match (slide, start) {
        (None, None) => {}
        (slide, None) => args.push(lit(slide.unwrap_or(size))),
        (slide, Some(start)) => {
            args.push(lit(slide.unwrap_or(size)));
            args.push(lit(start));
        }
    }
    call("window", args)
}

/// `session_window(time, gap)`: the session of each event, `[time, time + gap)` merged with
/// the sessions of the same key that it overlaps; `gap` is an interval string literal
/// (`lit("5 minutes")`) or an expression giving one per row (a dynamic gap).
pub fn session_window(time: Expr, gap: Expr) -> Expr {
    call("session_window", vec![time, gap])
}

/// `window_time(window)`: the event time of a window, its last microsecond
/// (`window.end - 1µs`); what a window aggregation over another one's output groups by.
pub fn window_time(window: Expr) -> Expr {
    call("window_time", vec![window])
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::expr::col;

    #[test]
    fn builders_print_as_spark_names() {
        assert_eq!(upper(col("name")).to_string(), "upper(name)");
        assert_eq!(substring(col("s"), 1, 3).to_string(), "substring(s, 1, 3)");
        assert_eq!(
            date_format(col("ts"), "yyyy-MM").to_string(),
            "date_format(ts, yyyy-MM)"
        );
        assert_eq!(
            coalesce(vec![col("a"), lit(0)]).to_string(),
            "coalesce(a, 0)"
        );
        assert_eq!(
            named_struct(vec![("x", col("a"))]).to_string(),
            "named_struct(x, a)"
        );
        assert_eq!(to_date(col("s"), None).to_string(), "to_date(s)");
    }

    #[test]
    fn every_builder_names_a_registered_function() {
        let exprs = vec![
            upper(col("a")),
            concat_ws(",", vec![col("a")]),
            split(col("a"), ","),
            regexp_extract(col("a"), "x", 1),
            lpad(col("a"), 3, "0"),
            round(col("a"), 1),
            pow(col("a"), lit(2)),
            current_timestamp(),
            to_timestamp(col("a"), Some("yyyy")),
            unix_timestamp_now(),
            from_unixtime(col("a"), None),
            date_add(col("a"), lit(1)),
            datediff(col("a"), col("b")),
            size(col("a")),
            element_at(col("a"), lit(1)),
            array_contains(col("a"), lit(1)),
            array(vec![col("a")]),
            struct_(vec![col("a")]),
            named_struct(vec![("x", col("a"))]),
            sort_array(col("a"), true),
            array_join(col("a"), ","),
            coalesce(vec![col("a")]),
            nvl(col("a"), lit(1)),
        ];
        for e in exprs {
            let Expr::UnresolvedFunction { name, .. } = &e else {
                panic!("{e}")
            };
            assert!(super::super::lookup_scalar(name).is_some(), "{name}");
        }
    }
}
