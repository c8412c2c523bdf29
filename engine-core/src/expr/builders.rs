//! Building expressions in Rust: `col("a").gt(lit(1)).and(col("b").is_not_null())`.

use std::ops;

use arrow::datatypes::DataType;

use super::{BinaryOperator, CastMode, Expr, LikeKind, SortExpr};
use crate::scalar::ScalarValue;

/// A column by name; dots address a relation or struct fields (`t.a`, `user.id`), and
/// back-quotes keep dots inside a name (`` `a.b` ``). `*` and `t.*` expand to all columns.
///
/// ```
/// use engine_core::expr::{col, lit};
/// let e = col("price").gt(lit(10));
/// assert_eq!(e.to_string(), "(price > 10)");
/// ```
pub fn col(name: &str) -> Expr {
    let parts = split_name(name);
    if parts.last().is_some_and(|p| p == "*") {
        let q = parts[..parts.len() - 1].to_vec();
        return Expr::Star(if q.is_empty() { None } else { Some(q) });
    }
    Expr::UnresolvedColumn(parts)
}

/// Splits `a.b` into `[a, b]`, honouring back-quotes: `` `a.b`.c `` gives `[a.b, c]`.
pub fn split_name(name: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' if quoted && chars.peek() == Some(&'`') => {
                chars.next();
                cur.push('`');
            }
            '`' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    parts
}

/// A literal value.
pub fn lit(v: impl Into<ScalarValue>) -> Expr {
    Expr::Literal(v.into())
}

/// A function call by name, resolved by the analyzer against the function registry.
pub fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::UnresolvedFunction {
        name: name.to_lowercase(),
        args,
        distinct: false,
    }
}

/// `count(expr)`; `count(lit(1))` is Spark's `count(*)`.
pub fn count(e: Expr) -> Expr {
    call("count", vec![e])
}

/// `count(DISTINCT exprs...)`.
pub fn count_distinct(args: Vec<Expr>) -> Expr {
    Expr::UnresolvedFunction {
        name: "count".into(),
        args,
        distinct: true,
    }
}

/// `sum(expr)`.
pub fn sum(e: Expr) -> Expr {
    call("sum", vec![e])
}

/// `avg(expr)`.
pub fn avg(e: Expr) -> Expr {
    call("avg", vec![e])
}

/// `min(expr)`.
pub fn min(e: Expr) -> Expr {
    call("min", vec![e])
}

/// `max(expr)`.
pub fn max(e: Expr) -> Expr {
    call("max", vec![e])
}

/// `first(expr)`: the first value seen in each group (NULLs included, as in Spark).
pub fn first(e: Expr) -> Expr {
    call("first", vec![e])
}

/// `last(expr)`.
pub fn last(e: Expr) -> Expr {
    call("last", vec![e])
}

/// `collect_list(expr)`: the group's non-NULL values as an array.
pub fn collect_list(e: Expr) -> Expr {
    call("collect_list", vec![e])
}

/// `CASE WHEN cond THEN value`; chain `.when(..)` and finish with `.otherwise(..)`.
pub fn when(cond: Expr, value: Expr) -> Expr {
    Expr::Case {
        operand: None,
        branches: vec![(cond, value)],
        otherwise: None,
    }
}

fn bin(l: Expr, op: BinaryOperator, r: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(l),
        op,
        right: Box::new(r),
    }
}

impl Expr {
    /// `self` as type `to` by an implicit cast in the session's mode (ANSI or legacy, as
    /// explicit casts); nothing when `from == to`, and a NULL literal simply takes the type.
    pub fn implicit_cast(self, from: &DataType, to: &DataType, ansi: bool) -> Expr {
        if from == to {
            return self;
        }
        if let Expr::Literal(v) = &self
            && v.is_null()
        {
            return Expr::Literal(crate::scalar::ScalarValue::null_of(to));
        }
        Expr::Cast {
            expr: Box::new(self),
            to: to.clone(),
            mode: if ansi {
                super::CastMode::Ansi
            } else {
                super::CastMode::Legacy
            },
        }
    }

    /// `self = other`
    pub fn eq(self, other: Expr) -> Expr {
        bin(self, BinaryOperator::Eq, other)
    }
    /// `self <=> other` (NULL-safe equality)
    pub fn eq_null_safe(self, other: Expr) -> Expr {
        bin(self, BinaryOperator::NullSafeEq, other)
    }
    /// `self != other`
    pub fn not_eq(self, other: Expr) -> Expr {
        bin(self, BinaryOperator::NotEq, other)
    }
    /// `self < other`
    pub fn lt(self, other: Expr) -> Expr {
        bin(self, BinaryOperator::Lt, other)
    }
    /// `self <= other`
    pub fn lt_eq(self, other: Expr) -> Expr {
        bin(self, BinaryOperator::LtEq, other)
    }
    /// `self > other`
    pub fn gt(self, other: Expr) -> Expr {
        bin(self, BinaryOperator::Gt, other)
    }
    /// `self >= other`
    pub fn gt_eq(self, other: Expr) -> Expr {
        bin(self, BinaryOperator::GtEq, other)
    }
    /// `self AND other`
    pub fn and(self, other: Expr) -> Expr {
        bin(self, BinaryOperator::And, other)
    }
    /// `self OR other`
    pub fn or(self, other: Expr) -> Expr {
        bin(self, BinaryOperator::Or, other)
    }
    /// `self IS NULL`
    pub fn is_null(self) -> Expr {
        Expr::IsNull(Box::new(self))
    }
    /// `self IS NOT NULL`
    pub fn is_not_null(self) -> Expr {
        Expr::IsNotNull(Box::new(self))
    }
    /// `CAST(self AS to)`: fails on bad input in ANSI mode, NULL otherwise.
    pub fn cast(self, to: DataType) -> Expr {
        Expr::Cast {
            expr: Box::new(self),
            to,
            mode: CastMode::Ansi,
        }
    }
    /// `TRY_CAST(self AS to)`: NULL on bad input.
    pub fn try_cast(self, to: DataType) -> Expr {
        Expr::Cast {
            expr: Box::new(self),
            to,
            mode: CastMode::Try,
        }
    }
    /// `self IN (list)`
    pub fn isin(self, list: Vec<Expr>) -> Expr {
        Expr::InList {
            expr: Box::new(self),
            list,
            negated: false,
        }
    }
    /// `self BETWEEN low AND high`, i.e. `self >= low AND self <= high`.
    pub fn between(self, low: Expr, high: Expr) -> Expr {
        self.clone().gt_eq(low).and(self.lt_eq(high))
    }
    /// `self LIKE pattern`
    pub fn like(self, pattern: &str) -> Expr {
        Expr::Like {
            expr: Box::new(self),
            pattern: Box::new(lit(pattern)),
            kind: LikeKind::Like,
            negated: false,
        }
    }
    /// `self RLIKE regex`
    pub fn rlike(self, regex: &str) -> Expr {
        Expr::Like {
            expr: Box::new(self),
            pattern: Box::new(lit(regex)),
            kind: LikeKind::RLike,
            negated: false,
        }
    }
    /// Struct field access: `self.name`.
    pub fn field(self, name: &str) -> Expr {
        Expr::GetField {
            expr: Box::new(self),
            name: name.to_string(),
        }
    }
    /// Adds a `WHEN cond THEN value` branch to a `when(..)` expression.
    pub fn when(self, cond: Expr, value: Expr) -> Expr {
        match self {
            Expr::Case {
                operand,
                mut branches,
                otherwise,
            } => {
                branches.push((cond, value));
                Expr::Case {
                    operand,
                    branches,
                    otherwise,
                }
            }
            other => other,
        }
    }
    /// Sets the `ELSE` of a `when(..)` expression.
    pub fn otherwise(self, value: Expr) -> Expr {
        match self {
            Expr::Case {
                operand, branches, ..
            } => Expr::Case {
                operand,
                branches,
                otherwise: Some(Box::new(value)),
            },
            other => other,
        }
    }
    /// Ascending sort key (NULLs first).
    pub fn asc(self) -> SortExpr {
        SortExpr::asc(self)
    }
    /// Descending sort key (NULLs last).
    pub fn desc(self) -> SortExpr {
        SortExpr::desc(self)
    }
}

macro_rules! impl_op {
    ($trait:ident, $method:ident, $op:ident) => {
        impl ops::$trait for Expr {
            type Output = Expr;
            fn $method(self, rhs: Expr) -> Expr {
                bin(self, BinaryOperator::$op, rhs)
            }
        }
    };
}
impl_op!(Add, add, Plus);
impl_op!(Sub, sub, Minus);
impl_op!(Mul, mul, Multiply);
impl_op!(Div, div, Divide);
impl_op!(Rem, rem, Modulo);

impl ops::Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        Expr::Negative(Box::new(self))
    }
}

impl ops::Not for Expr {
    type Output = Expr;
    fn not(self) -> Expr {
        Expr::Not(Box::new(self))
    }
}

macro_rules! scalar_from {
    ($t:ty, $variant:ident) => {
        impl From<$t> for ScalarValue {
            fn from(v: $t) -> Self {
                ScalarValue::$variant(Some(v))
            }
        }
        impl From<Option<$t>> for ScalarValue {
            fn from(v: Option<$t>) -> Self {
                ScalarValue::$variant(v)
            }
        }
    };
}
scalar_from!(bool, Boolean);
scalar_from!(i8, Int8);
scalar_from!(i16, Int16);
scalar_from!(i32, Int32);
scalar_from!(i64, Int64);
scalar_from!(f32, Float32);
scalar_from!(f64, Float64);
scalar_from!(String, Utf8);

impl From<&str> for ScalarValue {
    fn from(v: &str) -> Self {
        ScalarValue::Utf8(Some(v.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_names_with_quotes() {
        assert_eq!(split_name("a.b"), vec!["a", "b"]);
        assert_eq!(split_name("`a.b`.c"), vec!["a.b", "c"]);
        assert!(matches!(col("t.*"), Expr::Star(Some(q)) if q == vec!["t".to_string()]));
    }
}
