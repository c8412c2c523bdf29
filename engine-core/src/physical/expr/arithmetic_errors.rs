//! Spark's arithmetic error messages, shared by the unary and binary operators.

/// The hint Spark appends to arithmetic errors raised only in ANSI mode.
pub(crate) const ANSI_OFF_HINT: &str =
    "If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error.";

/// Spark's `ARITHMETIC_OVERFLOW` message: `integer overflow. Use 'try_add' ...`.
pub(crate) fn overflow_message(what: &str, try_fn: Option<&str>) -> String {
    let hint = try_fn
        .map(|f| format!(" Use '{f}' to tolerate overflow and return NULL instead."))
        .unwrap_or_default();
    format!("{what}.{hint} {ANSI_OFF_HINT} SQLSTATE: 22003")
}
