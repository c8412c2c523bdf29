//! Spark's default arguments, filled in where a call leaves them out. Spark's function
//! builders add them to the expression, so they show in the result column's name
//! (`round(x)` is `round(x, 0)`, `split(s, ',')` is `split(s, ,, -1)`): a query moved from
//! Spark writes the same column names (CSV headers, JSON keys, the names a later
//! `select` refers to).

use crate::expr::Expr;
use crate::scalar::ScalarValue;

/// Spark's timestamp format when `from_unixtime`/`unix_timestamp` are given none.
const DEFAULT_TIMESTAMP_FORMAT: &str = "yyyy-MM-dd HH:mm:ss";

/// `args` of a call of `name` (lower case, as written) with Spark's defaults appended.
pub fn with_default_args(name: &str, mut args: Vec<Expr>) -> Vec<Expr> {
    let int = |v: i32| Expr::Literal(ScalarValue::Int32(Some(v)));
    let text = |v: &str| Expr::Literal(ScalarValue::Utf8(Some(v.to_string())));
    let boolean = |v: bool| Expr::Literal(ScalarValue::Boolean(Some(v)));
    let n = args.len();
    // `convert_timezone(target, ts)`: Spark's builder puts the session zone first.
    if (name, n) == ("convert_timezone", 2)
        && let Some(func) = super::registry::lookup_scalar("current_timezone")
    {
        args.insert(
            0,
            Expr::ScalarFunction {
                func,
                args: Vec::new(),
            },
        );
        return args;
    }
    let missing: Vec<Expr> = match (name, n) {
        ("round" | "bround", 1) => vec![int(0)],
        ("split", 2) => vec![int(-1)],
        ("regexp_replace", 3) => vec![int(1)],
        ("regexp_extract" | "regexp_extract_all", 2) => vec![int(1)],
        ("regexp_instr", 2) => vec![int(0)],
        ("overlay", 3) => vec![int(-1)],
        ("from_unixtime" | "unix_timestamp" | "to_unix_timestamp", 1) => {
            vec![text(DEFAULT_TIMESTAMP_FORMAT)]
        }
        ("str_to_map", 1) => vec![text(","), text(":")],
        ("str_to_map", 2) => vec![text(":")],
        ("substring" | "substr", 2) => vec![int(i32::MAX)],
        ("locate" | "position", 2) => vec![int(1)],
        ("months_between", 2) => vec![boolean(true)],
        ("sort_array", 1) => vec![boolean(true)],
        ("mask", 1..=4) => [
            text("X"),
            text("x"),
            text("n"),
            Expr::Literal(ScalarValue::Null),
        ]
        .into_iter()
        .skip(n - 1)
        .collect(),
        _ => return super::aggregate::with_default_args(name, args),
    };
    args.extend(missing);
    args
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn shown(name: &str, n: usize) -> String {
        let args = (0..n)
            .map(|i| Expr::Literal(ScalarValue::Int32(Some(i as i32 + 7))))
            .collect();
        with_default_args(name, args)
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }

    #[test]
    fn defaults_are_appended_only_where_spark_appends_them() {
        // Column names pinned against PySpark 4.3 (`SELECT round(1.5)` is `round(1.5, 0)`).
        assert_eq!(shown("round", 1), "7, 0");
        assert_eq!(shown("round", 2), "7, 8");
        assert_eq!(shown("split", 2), "7, 8, -1");
        assert_eq!(shown("substr", 2), "7, 8, 2147483647");
        assert_eq!(shown("from_unixtime", 1), "7, yyyy-MM-dd HH:mm:ss");
        assert_eq!(shown("str_to_map", 1), "7, ,, :");
        assert_eq!(shown("mask", 1), "7, X, x, n, NULL");
        assert_eq!(shown("mask", 3), "7, 8, 9, n, NULL");
        assert_eq!(shown("sort_array", 1), "7, true");
        assert_eq!(shown("percentile", 2), "7, 8, 1");
        assert_eq!(shown("upper", 1), "7");
        assert_eq!(shown("unix_timestamp", 0), "");
    }
}
