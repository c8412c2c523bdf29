//! Spark's SQL text of expressions, which is also the auto-generated column name.

use std::fmt;

use super::{CastMode, Expr, LikeKind};
use crate::types::sql_type_name;

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::UnresolvedColumn(parts) => write!(f, "{}", parts.join(".")),
            Expr::Column(c) => write!(f, "{}", c.name),
            Expr::Literal(v) => write!(f, "{v}"),
            Expr::Alias(e, name) => write!(f, "{e} AS {name}"),
            Expr::BinaryOp { left, op, right } => write!(f, "({left} {op} {right})"),
            Expr::Not(e) => write!(f, "(NOT {e})"),
            Expr::Negative(e) => write!(f, "(- {e})"),
            Expr::IsNull(e) => write!(f, "({e} IS NULL)"),
            Expr::IsNotNull(e) => write!(f, "({e} IS NOT NULL)"),
            Expr::Cast { expr, to, mode } => {
                let name = if *mode == CastMode::Try {
                    "TRY_CAST"
                } else {
                    "CAST"
                };
                write!(f, "{name}({expr} AS {})", sql_type_name(to))
            }
            Expr::Case {
                operand,
                branches,
                otherwise,
            } => {
                // Spark prints a simple CASE in its searched form: `CASE WHEN (x = 1) ...`.
                write!(f, "CASE")?;
                for (w, t) in branches {
                    match operand {
                        Some(o) => write!(f, " WHEN ({o} = {w}) THEN {t}")?,
                        None => write!(f, " WHEN {w} THEN {t}")?,
                    }
                }
                if let Some(e) = otherwise {
                    write!(f, " ELSE {e}")?;
                }
                write!(f, " END")
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                let items: Vec<String> = list.iter().map(|e| e.to_string()).collect();
                if *negated {
                    write!(f, "(NOT ({expr} IN ({})))", items.join(", "))
                } else {
                    write!(f, "({expr} IN ({}))", items.join(", "))
                }
            }
            Expr::Like {
                expr,
                pattern,
                kind,
                negated,
            } => {
                let body = match kind {
                    LikeKind::Like => format!("{expr} LIKE {pattern}"),
                    LikeKind::ILike => format!("ilike({expr}, {pattern})"),
                    LikeKind::RLike => format!("RLIKE({expr}, {pattern})"),
                };
                if *negated {
                    write!(f, "(NOT {body})")
                } else {
                    write!(f, "{body}")
                }
            }
            Expr::GetField { expr, name } => write!(f, "{expr}.{name}"),
            Expr::UnresolvedFunction {
                name,
                args,
                distinct,
            } => write_call(f, &name.to_lowercase(), args, *distinct),
            Expr::ScalarFunction { func, args } => write_call(f, func.name(), args, false),
            Expr::AggregateFunction {
                func,
                args,
                distinct,
            } => write_call(f, func.name(), args, *distinct),
            Expr::Star(None) => write!(f, "*"),
            Expr::Star(Some(q)) => write!(f, "{}.*", q.join(".")),
            // Spark's SQL text of lambdas: `lambdafunction((x + 1), x)` before binding,
            // every variable `namedlambdavariable()` after.
            Expr::LambdaVariable(v) => match v.binding {
                Some(_) => write!(f, "namedlambdavariable()"),
                None => write!(f, "{}", v.name),
            },
            Expr::Lambda(l) => {
                write!(f, "lambdafunction({}", l.body)?;
                for p in &l.params {
                    write!(f, ", {}", Expr::LambdaVariable(p.clone()))?;
                }
                write!(f, ")")
            }
            Expr::HigherOrderFunction { func, args } => write_call(f, func.name(), args, false),
        }
    }
}

fn write_call(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    args: &[Expr],
    distinct: bool,
) -> fmt::Result {
    let items: Vec<String> = args.iter().map(|e| e.to_string()).collect();
    // Subscripts print as Spark writes them: `arr[0]`, `m[k]`.
    if name == super::function::ARRAY_ITEM && items.len() == 2 {
        return write!(f, "{}[{}]", items[0], items[1]);
    }
    // Spark's `If` has its own SQL form: `(IF(cond, a, b))`.
    if name == "if" {
        return write!(f, "(IF({}))", items.join(", "));
    }
    if let Some(r) = spark_sql_form(f, name, &items) {
        return r;
    }
    if distinct {
        write!(f, "{name}(DISTINCT {})", items.join(", "))
    } else {
        write!(f, "{name}({})", items.join(", "))
    }
}

/// Math functions Spark names by their expression's upper-case name when called by that
/// name (`SQRT(x)`, `CEIL(x)`; an alias such as `ceiling` keeps its own name), as PySpark 4.3
/// names the result columns.
const UPPER_CASE_UNARY: &[&str] = &[
    "acos", "acosh", "asin", "asinh", "atan", "atanh", "cbrt", "ceil", "cos", "cosh", "cot", "csc",
    "degrees", "exp", "expm1", "floor", "log10", "log1p", "log2", "radians", "sec", "signum",
    "sin", "sinh", "sqrt", "tan", "tanh",
];

/// Spark's cast functions (`int(x)` is `CAST(x AS INT)`), which it names after their
/// argument alone; `functions::cast_functions` implements them.
pub const CAST_FUNCTIONS: &[&str] = &[
    "boolean",
    "tinyint",
    "smallint",
    "int",
    "bigint",
    "float",
    "double",
    "decimal",
    "string",
    "binary",
    "date",
    "timestamp",
];

/// Spark's SQL text for calls it does not print as `name(args)`, if `name` is one.
fn spark_sql_form(f: &mut fmt::Formatter<'_>, name: &str, items: &[String]) -> Option<fmt::Result> {
    Some(match (name, items) {
        (n, [x]) if UPPER_CASE_UNARY.contains(&n) => write!(f, "{}({x})", n.to_uppercase()),
        ("atan2" | "hypot" | "power" | "regexp" | "regexp_like", [a, b]) => {
            write!(f, "{}({a}, {b})", name.to_uppercase())
        }
        ("log", [x]) => write!(f, "LOG(E(), {x})"),
        ("log", [b, x]) => write!(f, "LOG({b}, {x})"),
        ("e" | "pi", []) => write!(f, "{}()", name.to_uppercase()),
        ("positive", [x]) => write!(f, "(+ {x})"),
        ("&" | "|" | "^", [a, b]) => write!(f, "({a} {name} {b})"),
        ("~", [x]) => write!(f, "~{x}"),
        // Spark shows the default pad, a space for strings (names of a BINARY `lpad` would
        // show `X'00'`; the display does not know the argument's type).
        ("lpad" | "rpad", [s, n]) => write!(f, "{name}({s}, {n},  )"),
        // `ignoreNulls` does not show.
        ("first" | "last" | "first_value" | "last_value" | "any_value", [x, _]) => {
            write!(f, "{name}({x})")
        }
        ("array_agg", [x]) => write!(f, "collect_list({x})"),
        ("extract", [field, x]) => write!(f, "extract({field} FROM {x})"),
        // Spark's cast functions (`int(x)`) are named after their argument alone.
        (n, [x]) if CAST_FUNCTIONS.contains(&n) => write!(f, "{x}"),
        ("isnull", [x]) => write!(f, "({x} IS NULL)"),
        ("isnotnull", [x]) => write!(f, "({x} IS NOT NULL)"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use crate::expr::*;

    #[test]
    fn names_follow_spark() {
        assert_eq!((col("a") + lit(1)).output_name(), "(a + 1)");
        assert_eq!(col("a").eq(lit("x")).output_name(), "(a = x)");
        assert_eq!(col("s.b").output_name(), "b");
        assert_eq!(
            col("a")
                .cast(arrow::datatypes::DataType::Utf8)
                .output_name(),
            "a"
        );
        assert_eq!(
            lit(1).cast(arrow::datatypes::DataType::Utf8).output_name(),
            "CAST(1 AS STRING)"
        );
        assert_eq!(count(lit(1)).output_name(), "count(1)");
        assert_eq!(col("x").is_null().output_name(), "(x IS NULL)");
        assert_eq!((-col("x")).output_name(), "(- x)");
        assert_eq!(col("x").alias("y").output_name(), "y");
    }
}
