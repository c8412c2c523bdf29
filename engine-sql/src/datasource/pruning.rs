//! Skipping data with pushed filters: decides from per-column min/max/null-count statistics
//! (Parquet row groups, or the single value of a partition column) that no row can match,
//! and renders pushed filters the way Spark's `explain` shows them.

use arrow::datatypes::{DataType, TimeUnit};

use engine_core::expr::{BinaryOperator, Expr};
use engine_core::scalar::ScalarValue;

/// A comparable statistics value.
#[derive(Debug, Clone, PartialEq)]
pub enum Stat {
    /// Integers, dates (days) and timestamps (microseconds).
    Int(i128),
    /// Floating point.
    Float(f64),
    /// Strings (byte order, as Parquet stores them).
    Str(String),
    /// Booleans.
    Bool(bool),
}

impl Stat {
    fn cmp(&self, other: &Stat) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (Stat::Int(a), Stat::Int(b)) => Some(a.cmp(b)),
            (Stat::Float(a), Stat::Float(b)) => a.partial_cmp(b),
            (Stat::Int(a), Stat::Float(b)) => (*a as f64).partial_cmp(b),
            (Stat::Float(a), Stat::Int(b)) => a.partial_cmp(&(*b as f64)),
            (Stat::Str(a), Stat::Str(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            (Stat::Bool(a), Stat::Bool(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// A literal as a statistics value of a column of type `dt`; `None` when the two do not
    /// compare in the same order (then nothing is skipped).
    pub fn from_literal(v: &ScalarValue, dt: &DataType) -> Option<Stat> {
        use ScalarValue as S;
        let numeric = matches!(
            dt,
            DataType::Int8
                | DataType::Int16
                | DataType::Int32
                | DataType::Int64
                | DataType::Float32
                | DataType::Float64
        );
        match v {
            S::Int8(Some(x)) if numeric => Some(Stat::Int(*x as i128)),
            S::Int16(Some(x)) if numeric => Some(Stat::Int(*x as i128)),
            S::Int32(Some(x)) if numeric => Some(Stat::Int(*x as i128)),
            S::Int64(Some(x)) if numeric => Some(Stat::Int(*x as i128)),
            S::Float32(Some(x)) if numeric => Some(Stat::Float(*x as f64)),
            S::Float64(Some(x)) if numeric => Some(Stat::Float(*x)),
            S::Utf8(Some(s))
                if matches!(
                    dt,
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                ) =>
            {
                Some(Stat::Str(s.clone()))
            }
            S::Boolean(Some(b)) if dt == &DataType::Boolean => Some(Stat::Bool(*b)),
            S::Date32(Some(d)) if dt == &DataType::Date32 => Some(Stat::Int(*d as i128)),
            S::TimestampMicros(Some(t), _)
                if matches!(dt, DataType::Timestamp(TimeUnit::Microsecond, _)) =>
            {
                Some(Stat::Int(*t as i128))
            }
            _ => None,
        }
    }

    /// A scalar (a partition value) as its own statistics value.
    pub fn from_scalar(v: &ScalarValue) -> Option<Stat> {
        Stat::from_literal(v, &v.data_type())
    }
}

/// What is known about one column in a chunk of data.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnStats {
    /// The column's type (decides how literals compare).
    pub data_type: DataType,
    /// Smallest non-null value, if known.
    pub min: Option<Stat>,
    /// Largest non-null value, if known.
    pub max: Option<Stat>,
    /// NULLs in the chunk, if known.
    pub null_count: Option<u64>,
    /// Rows in the chunk.
    pub row_count: u64,
}

/// The column a filter side refers to, looking through order-preserving numeric casts.
fn column_name(e: &Expr) -> Option<&str> {
    match e {
        Expr::Column(c) => Some(&c.name),
        Expr::Cast { expr, to, .. } => match expr.as_ref() {
            Expr::Column(c) if is_numeric(to) => Some(&c.name),
            _ => None,
        },
        Expr::Alias(e, _) => column_name(e),
        _ => None,
    }
}

fn is_numeric(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::Float32
            | DataType::Float64
    )
}

fn literal(e: &Expr) -> Option<&ScalarValue> {
    match e {
        Expr::Literal(v) => Some(v),
        Expr::Cast { expr, .. } => literal(expr),
        _ => None,
    }
}

fn flip(op: BinaryOperator) -> BinaryOperator {
    use BinaryOperator::*;
    match op {
        Lt => Gt,
        LtEq => GtEq,
        Gt => Lt,
        GtEq => LtEq,
        other => other,
    }
}

/// `col op literal` in either order, normalized to column first.
fn comparison(e: &Expr) -> Option<(&str, BinaryOperator, &ScalarValue)> {
    let Expr::BinaryOp { left, op, right } = e else {
        return None;
    };
    use BinaryOperator::*;
    if !matches!(op, Eq | Lt | LtEq | Gt | GtEq) {
        return None;
    }
    if let (Some(c), Some(v)) = (column_name(left), literal(right)) {
        return Some((c, *op, v));
    }
    if let (Some(v), Some(c)) = (literal(left), column_name(right)) {
        return Some((c, flip(*op), v));
    }
    None
}

/// True when `filter` has a shape the statistics can use and all its columns satisfy
/// `known` (e.g. "is a column of this file" or "is a partition column").
pub fn is_prunable(filter: &Expr, known: &dyn Fn(&str) -> bool) -> bool {
    match filter {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And | BinaryOperator::Or,
            right,
        } => is_prunable(left, known) && is_prunable(right, known),
        Expr::IsNull(e) | Expr::IsNotNull(e) => column_name(e).is_some_and(known),
        Expr::InList {
            expr,
            list,
            negated: false,
        } => column_name(expr).is_some_and(known) && list.iter().all(|v| literal(v).is_some()),
        other => comparison(other).is_some_and(|(c, _, _)| known(c)),
    }
}

/// True when the statistics prove that no row of the chunk satisfies `filter`. Unknown
/// shapes or statistics never skip.
pub fn can_skip(filter: &Expr, stats: &dyn Fn(&str) -> Option<ColumnStats>) -> bool {
    use std::cmp::Ordering::*;
    match filter {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => can_skip(left, stats) || can_skip(right, stats),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Or,
            right,
        } => can_skip(left, stats) && can_skip(right, stats),
        Expr::IsNull(e) => column_name(e)
            .and_then(stats)
            .is_some_and(|s| s.null_count == Some(0)),
        Expr::IsNotNull(e) => column_name(e)
            .and_then(stats)
            .is_some_and(|s| s.null_count == Some(s.row_count)),
        Expr::InList {
            expr,
            list,
            negated: false,
        } => {
            let Some(s) = column_name(expr).and_then(stats) else {
                return false;
            };
            list.iter().all(|v| match literal(v) {
                Some(v) if v.is_null() => true,
                Some(v) => outside(&s, v),
                None => false,
            })
        }
        other => {
            let Some((c, op, v)) = comparison(other) else {
                return false;
            };
            let Some(s) = stats(c) else { return false };
            if s.null_count == Some(s.row_count) && s.row_count > 0 {
                // Every value is NULL: no comparison is true.
                return true;
            }
            if v.is_null() {
                return true;
            }
            let Some(lit) = Stat::from_literal(v, &s.data_type) else {
                return false;
            };
            let min = s.min.as_ref().and_then(|m| m.cmp(&lit));
            let max = s.max.as_ref().and_then(|m| m.cmp(&lit));
            match op {
                BinaryOperator::Eq => min == Some(Greater) || max == Some(Less),
                BinaryOperator::Lt => matches!(min, Some(Greater | Equal)),
                BinaryOperator::LtEq => min == Some(Greater),
                BinaryOperator::Gt => matches!(max, Some(Less | Equal)),
                BinaryOperator::GtEq => max == Some(Less),
                _ => false,
            }
        }
    }
}

fn outside(s: &ColumnStats, v: &ScalarValue) -> bool {
    use std::cmp::Ordering::*;
    let Some(lit) = Stat::from_literal(v, &s.data_type) else {
        return false;
    };
    s.min.as_ref().and_then(|m| m.cmp(&lit)) == Some(Greater)
        || s.max.as_ref().and_then(|m| m.cmp(&lit)) == Some(Less)
}

/// A pushed filter as Spark's `explain` shows data source filters: `GreaterThan(a,1)`.
pub fn spark_filter_string(filter: &Expr) -> String {
    fn lit_text(v: &ScalarValue) -> String {
        match v {
            ScalarValue::Utf8(Some(s)) => s.clone(),
            ScalarValue::Date32(Some(d)) => engine_core::format::format_date(*d),
            ScalarValue::TimestampMicros(Some(t), _) => {
                engine_core::format::format_timestamp_utc(*t)
            }
            other => other.to_string(),
        }
    }
    match filter {
        Expr::BinaryOp {
            left,
            op: op @ (BinaryOperator::And | BinaryOperator::Or),
            right,
        } => format!(
            "{}({},{})",
            if *op == BinaryOperator::And {
                "And"
            } else {
                "Or"
            },
            spark_filter_string(left),
            spark_filter_string(right)
        ),
        Expr::IsNull(e) if column_name(e).is_some() => {
            format!("IsNull({})", column_name(e).unwrap_or_default())
        }
        Expr::IsNotNull(e) if column_name(e).is_some() => {
            format!("IsNotNull({})", column_name(e).unwrap_or_default())
        }
        Expr::InList {
            expr,
            list,
            negated: false,
        } if column_name(expr).is_some() => {
            let vals: Vec<String> = list
                .iter()
                .map(|v| literal(v).map(lit_text).unwrap_or_else(|| v.to_string()))
                .collect();
            format!(
                "In({}, [{}])",
                column_name(expr).unwrap_or_default(),
                vals.join(",")
            )
        }
        other => match comparison(other) {
            Some((c, op, v)) => {
                let name = match op {
                    BinaryOperator::Eq => "EqualTo",
                    BinaryOperator::Lt => "LessThan",
                    BinaryOperator::LtEq => "LessThanOrEqual",
                    BinaryOperator::Gt => "GreaterThan",
                    _ => "GreaterThanOrEqual",
                };
                format!("{name}({c},{})", lit_text(v))
            }
            None => other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine_core::expr::Column;

    fn c(name: &str) -> Box<Expr> {
        Box::new(Expr::Column(Column::new(None, name)))
    }

    fn cmp(name: &str, op: BinaryOperator, v: i32) -> Expr {
        Expr::BinaryOp {
            left: c(name),
            op,
            right: Box::new(Expr::Literal(ScalarValue::Int32(Some(v)))),
        }
    }

    fn stats(min: i128, max: i128, nulls: u64) -> impl Fn(&str) -> Option<ColumnStats> {
        move |n| {
            (n == "a").then_some(ColumnStats {
                data_type: DataType::Int32,
                min: Some(Stat::Int(min)),
                max: Some(Stat::Int(max)),
                null_count: Some(nulls),
                row_count: 10,
            })
        }
    }

    #[test]
    fn comparisons_skip_only_when_provable() {
        use BinaryOperator::*;
        let s = stats(10, 20, 0);
        assert!(can_skip(&cmp("a", Eq, 5), &s));
        assert!(!can_skip(&cmp("a", Eq, 15), &s));
        assert!(can_skip(&cmp("a", Gt, 20), &s));
        assert!(!can_skip(&cmp("a", GtEq, 20), &s));
        assert!(can_skip(&cmp("a", Lt, 10), &s));
        assert!(!can_skip(&cmp("a", LtEq, 10), &s));
        assert!(!can_skip(&cmp("b", Eq, 5), &s));
        assert!(can_skip(&Expr::IsNull(c("a")), &s));
        let and = Expr::BinaryOp {
            left: Box::new(cmp("a", Gt, 0)),
            op: And,
            right: Box::new(cmp("a", Gt, 30)),
        };
        assert!(can_skip(&and, &s));
        let inl = Expr::InList {
            expr: c("a"),
            list: vec![
                Expr::Literal(ScalarValue::Int64(Some(1))),
                Expr::Literal(ScalarValue::Int64(Some(30))),
            ],
            negated: false,
        };
        assert!(can_skip(&inl, &s));
        assert_eq!(spark_filter_string(&cmp("a", Gt, 3)), "GreaterThan(a,3)");
        let d = Expr::BinaryOp {
            left: c("d"),
            op: Eq,
            right: Box::new(Expr::Literal(ScalarValue::Date32(Some(18262)))),
        };
        assert_eq!(spark_filter_string(&d), "EqualTo(d,2020-01-01)");
    }
}
