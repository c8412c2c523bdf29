//! Logical expressions: what users write in `select`, `filter`, `agg` and SQL.
//!
//! An expression starts *unresolved* (names as written, functions by name) and the analyzer
//! turns it into a *resolved* one (columns bound to a relation, functions to their
//! implementation, implicit casts inserted). Its `Display` is Spark's SQL text, which is
//! also the auto-generated column name: `(a + 1)`, `upper(name)`, `CAST(x AS STRING)`.

mod builders;
pub mod coercion;
pub mod columnar;
mod display;
pub mod function;
pub mod lambda;
mod typing;

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::DataType;

pub use builders::*;
pub use display::CAST_FUNCTIONS;

use self::function::{AggregateFunction, ScalarFunction};
use self::lambda::{HigherOrderFunction, Lambda, LambdaVariable};
use crate::scalar::ScalarValue;

/// A logical expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A name as written (`a`, `t.a`, `a.b.c`), not yet bound to a column.
    UnresolvedColumn(Vec<String>),
    /// A column of the input, bound by relation and name.
    Column(Column),
    /// A constant.
    Literal(ScalarValue),
    /// `expr AS name`.
    Alias(Box<Expr>, String),
    /// `left op right`.
    BinaryOp {
        /// Left operand.
        left: Box<Expr>,
        /// Operator.
        op: BinaryOperator,
        /// Right operand.
        right: Box<Expr>,
    },
    /// `NOT expr`.
    Not(Box<Expr>),
    /// `-expr`.
    Negative(Box<Expr>),
    /// `expr IS NULL`.
    IsNull(Box<Expr>),
    /// `expr IS NOT NULL`.
    IsNotNull(Box<Expr>),
    /// `CAST(expr AS type)`, with how failures behave.
    Cast {
        /// The value to convert.
        expr: Box<Expr>,
        /// The target type.
        to: DataType,
        /// ANSI (fail), legacy (NULL) or `try_cast` (NULL).
        mode: CastMode,
    },
    /// `CASE [operand] WHEN .. THEN .. [ELSE ..] END`.
    Case {
        /// `CASE operand WHEN value ...` form when present.
        operand: Option<Box<Expr>>,
        /// `(WHEN, THEN)` pairs in order.
        branches: Vec<(Expr, Expr)>,
        /// The `ELSE` value; NULL when absent.
        otherwise: Option<Box<Expr>>,
    },
    /// `expr [NOT] IN (list)`.
    InList {
        /// The tested value.
        expr: Box<Expr>,
        /// The candidates.
        list: Vec<Expr>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `expr [NOT] LIKE pattern` / `ILIKE` / `RLIKE`.
    Like {
        /// The tested string.
        expr: Box<Expr>,
        /// The pattern (SQL LIKE or Java regex for RLIKE).
        pattern: Box<Expr>,
        /// Which kind of match.
        kind: LikeKind,
        /// `NOT LIKE`.
        negated: bool,
    },
    /// `expr.field` on a struct.
    GetField {
        /// The struct value.
        expr: Box<Expr>,
        /// The field name.
        name: String,
    },
    /// A function call by name, before the analyzer looks it up.
    UnresolvedFunction {
        /// Function name as written.
        name: String,
        /// Arguments.
        args: Vec<Expr>,
        /// `f(DISTINCT ...)`.
        distinct: bool,
    },
    /// A resolved scalar function call.
    ScalarFunction {
        /// The implementation.
        func: Arc<dyn ScalarFunction>,
        /// Arguments, already cast to the types the function asked for.
        args: Vec<Expr>,
    },
    /// A resolved aggregate function call.
    AggregateFunction {
        /// The implementation.
        func: Arc<dyn AggregateFunction>,
        /// Arguments.
        args: Vec<Expr>,
        /// `count(DISTINCT x)`.
        distinct: bool,
    },
    /// `*` or `t.*` or `struct_col.*`, expanded by the analyzer.
    Star(Option<Vec<String>>),
    /// `(x, y) -> body`: an argument of a higher-order function.
    Lambda(Lambda),
    /// A lambda parameter read in a lambda's body.
    LambdaVariable(LambdaVariable),
    /// A resolved call of a higher-order function (`transform`, `aggregate`, ...); its
    /// function arguments are bound [`Expr::Lambda`]s.
    HigherOrderFunction {
        /// The implementation.
        func: Arc<dyn HigherOrderFunction>,
        /// Arguments, values and lambdas in the order written.
        args: Vec<Expr>,
    },
}

/// A column bound to a relation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Column {
    /// The relation (view, alias) the column belongs to, if any.
    pub relation: Option<String>,
    /// The column's name.
    pub name: String,
}

impl Column {
    /// A column with an optional relation.
    pub fn new(relation: Option<&str>, name: impl Into<String>) -> Self {
        Column {
            relation: relation.map(str::to_string),
            name: name.into(),
        }
    }
}

/// Binary operators, in Spark's SQL spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOperator {
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Multiply,
    /// `/` (always fractional in Spark)
    Divide,
    /// `div` (integral division)
    IntDivide,
    /// `%`
    Modulo,
    /// `=`
    Eq,
    /// `<=>` (null-safe equality)
    NullSafeEq,
    /// `!=` / `<>`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `AND`
    And,
    /// `OR`
    Or,
    /// `||` (string concatenation)
    StringConcat,
}

impl BinaryOperator {
    /// True for `=`, `<`, ... that yield booleans from comparable operands.
    pub fn is_comparison(self) -> bool {
        use BinaryOperator::*;
        matches!(self, Eq | NullSafeEq | NotEq | Lt | LtEq | Gt | GtEq)
    }

    /// True for `+ - * / div %`.
    pub fn is_arithmetic(self) -> bool {
        use BinaryOperator::*;
        matches!(self, Plus | Minus | Multiply | Divide | IntDivide | Modulo)
    }

    /// True for `AND`/`OR`.
    pub fn is_logical(self) -> bool {
        matches!(self, BinaryOperator::And | BinaryOperator::Or)
    }
}

impl fmt::Display for BinaryOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use BinaryOperator::*;
        f.write_str(match self {
            Plus => "+",
            Minus => "-",
            Multiply => "*",
            Divide => "/",
            IntDivide => "div",
            Modulo => "%",
            Eq => "=",
            NullSafeEq => "<=>",
            NotEq => "!=",
            Lt => "<",
            LtEq => "<=",
            Gt => ">",
            GtEq => ">=",
            And => "AND",
            Or => "OR",
            StringConcat => "||",
        })
    }
}

/// How a cast treats input it cannot convert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CastMode {
    /// Fail the query (`spark.sql.ansi.enabled=true`, Spark 4's default).
    Ansi,
    /// Return NULL (Spark 3's default, `spark.sql.ansi.enabled=false`).
    Legacy,
    /// `try_cast`: always NULL on failure.
    Try,
}

/// Which pattern language a [`Expr::Like`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LikeKind {
    /// `LIKE` with `%` and `_`.
    Like,
    /// `ILIKE`, case-insensitive `LIKE`.
    ILike,
    /// `RLIKE` / `REGEXP`: a regular expression found anywhere in the string.
    RLike,
}

/// One `ORDER BY` key.
#[derive(Debug, Clone, PartialEq)]
pub struct SortExpr {
    /// The key.
    pub expr: Expr,
    /// Ascending order.
    pub asc: bool,
    /// NULLs before other values (Spark: first for ASC, last for DESC by default).
    pub nulls_first: bool,
}

impl SortExpr {
    /// `expr ASC NULLS FIRST`, Spark's default.
    pub fn asc(expr: Expr) -> Self {
        SortExpr {
            expr,
            asc: true,
            nulls_first: true,
        }
    }

    /// `expr DESC NULLS LAST`, Spark's default for descending.
    pub fn desc(expr: Expr) -> Self {
        SortExpr {
            expr,
            asc: false,
            nulls_first: false,
        }
    }
}

impl fmt::Display for SortExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} NULLS {}",
            self.expr,
            if self.asc { "ASC" } else { "DESC" },
            if self.nulls_first { "FIRST" } else { "LAST" }
        )
    }
}

impl Expr {
    /// `self AS name`.
    pub fn alias(self, name: impl Into<String>) -> Expr {
        match self {
            // Re-aliasing replaces the name, as in Spark.
            Expr::Alias(inner, _) => Expr::Alias(inner, name.into()),
            e => Expr::Alias(Box::new(e), name.into()),
        }
    }

    /// The expression without a top-level alias.
    pub fn unalias(&self) -> &Expr {
        match self {
            Expr::Alias(e, _) => e.unalias(),
            e => e,
        }
    }

    /// The column name Spark gives this expression in a result.
    pub fn output_name(&self) -> String {
        match self {
            Expr::Alias(_, name) => name.clone(),
            Expr::Column(c) => c.name.clone(),
            Expr::UnresolvedColumn(parts) => parts.last().cloned().unwrap_or_default(),
            Expr::GetField { name, .. } => name.clone(),
            // Spark keeps a column's name through a cast: `CAST(a AS STRING)` is named `a`
            // (checked against PySpark 4.3).
            Expr::Cast { expr, .. }
                if matches!(
                    expr.as_ref(),
                    Expr::Column(_) | Expr::UnresolvedColumn(_) | Expr::GetField { .. }
                ) =>
            {
                expr.output_name()
            }
            // Spark names the column a time or session window makes `window` /
            // `session_window` (the attribute its window rewrite introduces).
            Expr::UnresolvedFunction { name, .. }
                if name.eq_ignore_ascii_case("window")
                    || name.eq_ignore_ascii_case("session_window") =>
            {
                name.to_ascii_lowercase()
            }
            other => other.to_string(),
        }
    }

    /// The direct children.
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::UnresolvedColumn(_)
            | Expr::Column(_)
            | Expr::Literal(_)
            | Expr::Star(_)
            | Expr::LambdaVariable(_) => {
                vec![]
            }
            Expr::Lambda(l) => vec![&l.body],
            Expr::Alias(e, _)
            | Expr::Not(e)
            | Expr::Negative(e)
            | Expr::IsNull(e)
            | Expr::IsNotNull(e)
            | Expr::Cast { expr: e, .. }
            | Expr::GetField { expr: e, .. } => vec![e],
            Expr::BinaryOp { left, right, .. } => vec![left, right],
            Expr::Case {
                operand,
                branches,
                otherwise,
            } => {
                let mut v: Vec<&Expr> = operand.iter().map(|e| e.as_ref()).collect();
                for (w, t) in branches {
                    v.push(w);
                    v.push(t);
                }
                v.extend(otherwise.iter().map(|e| e.as_ref()));
                v
            }
            Expr::InList { expr, list, .. } => {
                let mut v = vec![expr.as_ref()];
                v.extend(list.iter());
                v
            }
            Expr::Like { expr, pattern, .. } => vec![expr, pattern],
            Expr::UnresolvedFunction { args, .. }
            | Expr::ScalarFunction { args, .. }
            | Expr::AggregateFunction { args, .. }
            | Expr::HigherOrderFunction { args, .. } => args.iter().collect(),
        }
    }

    /// Rebuilds this node with every child replaced by `f(child)` (children left to right).
    pub fn map_children<E>(self, mut f: impl FnMut(Expr) -> Result<Expr, E>) -> Result<Expr, E> {
        Ok(match self {
            e @ (Expr::UnresolvedColumn(_)
            | Expr::Column(_)
            | Expr::Literal(_)
            | Expr::Star(_)
            | Expr::LambdaVariable(_)) => e,
            Expr::Lambda(Lambda { params, body }) => Expr::Lambda(Lambda {
                params,
                body: bx(&mut f, body)?,
            }),
            Expr::Alias(e, n) => Expr::Alias(bx(&mut f, e)?, n),
            Expr::Not(e) => Expr::Not(bx(&mut f, e)?),
            Expr::Negative(e) => Expr::Negative(bx(&mut f, e)?),
            Expr::IsNull(e) => Expr::IsNull(bx(&mut f, e)?),
            Expr::IsNotNull(e) => Expr::IsNotNull(bx(&mut f, e)?),
            Expr::Cast { expr, to, mode } => Expr::Cast {
                expr: bx(&mut f, expr)?,
                to,
                mode,
            },
            Expr::GetField { expr, name } => Expr::GetField {
                expr: bx(&mut f, expr)?,
                name,
            },
            Expr::BinaryOp { left, op, right } => {
                let left = bx(&mut f, left)?;
                Expr::BinaryOp {
                    left,
                    op,
                    right: bx(&mut f, right)?,
                }
            }
            Expr::Case {
                operand,
                branches,
                otherwise,
            } => {
                let operand = operand.map(|e| bx(&mut f, e)).transpose()?;
                let mut new_branches = Vec::with_capacity(branches.len());
                for (w, t) in branches {
                    let w = f(w)?;
                    new_branches.push((w, f(t)?));
                }
                Expr::Case {
                    operand,
                    branches: new_branches,
                    otherwise: otherwise.map(|e| bx(&mut f, e)).transpose()?,
                }
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                let expr = bx(&mut f, expr)?;
                Expr::InList {
                    expr,
                    list: list.into_iter().map(&mut f).collect::<Result<_, E>>()?,
                    negated,
                }
            }
            Expr::Like {
                expr,
                pattern,
                kind,
                negated,
            } => {
                let expr = bx(&mut f, expr)?;
                Expr::Like {
                    expr,
                    pattern: bx(&mut f, pattern)?,
                    kind,
                    negated,
                }
            }
            Expr::UnresolvedFunction {
                name,
                args,
                distinct,
            } => Expr::UnresolvedFunction {
                name,
                args: args.into_iter().map(&mut f).collect::<Result<_, E>>()?,
                distinct,
            },
            Expr::ScalarFunction { func, args } => Expr::ScalarFunction {
                func,
                args: args.into_iter().map(&mut f).collect::<Result<_, E>>()?,
            },
            Expr::AggregateFunction {
                func,
                args,
                distinct,
            } => Expr::AggregateFunction {
                func,
                args: args.into_iter().map(&mut f).collect::<Result<_, E>>()?,
                distinct,
            },
            Expr::HigherOrderFunction { func, args } => Expr::HigherOrderFunction {
                func,
                args: args.into_iter().map(&mut f).collect::<Result<_, E>>()?,
            },
        })
    }

    /// Rewrites the tree bottom-up: children first, then `f` on the rebuilt node.
    pub fn transform_up<E>(self, f: &mut impl FnMut(Expr) -> Result<Expr, E>) -> Result<Expr, E> {
        let e = self.map_children(|c| c.transform_up(f))?;
        f(e)
    }

    /// Rewrites the tree top-down: `f` on the node first, then on its (new) children.
    pub fn transform_down<E>(self, f: &mut impl FnMut(Expr) -> Result<Expr, E>) -> Result<Expr, E> {
        let e = f(self)?;
        e.map_children(|c| c.transform_down(f))
    }

    /// True if `pred` holds for this node or any node below it.
    pub fn any(&self, pred: &impl Fn(&Expr) -> bool) -> bool {
        pred(self) || self.children().into_iter().any(|c| c.any(pred))
    }

    /// True if the tree contains a call of an aggregate function: a resolved one, or an
    /// unresolved call whose name `is_aggregate` recognises (the function registry knows the
    /// names; [`crate::functions::contains_aggregate`] asks it).
    pub fn contains_aggregate_with(&self, is_aggregate: &impl Fn(&str) -> bool) -> bool {
        self.any(&|e| {
            matches!(e, Expr::AggregateFunction { .. })
                || matches!(e, Expr::UnresolvedFunction { name, .. } if is_aggregate(name))
        })
    }

    /// Every resolved column this expression reads.
    pub fn columns(&self) -> Vec<Column> {
        let mut out = Vec::new();
        self.collect_columns(&mut out);
        out
    }

    fn collect_columns(&self, out: &mut Vec<Column>) {
        if let Expr::Column(c) = self
            && !out.contains(c)
        {
            out.push(c.clone());
        }
        for c in self.children() {
            c.collect_columns(out);
        }
    }

    /// True when the value does not depend on any input row (only literals and
    /// deterministic functions of them).
    pub fn is_constant(&self) -> bool {
        !self.any(&|e| match e {
            Expr::Column(_)
            | Expr::UnresolvedColumn(_)
            | Expr::Star(_)
            | Expr::UnresolvedFunction { .. }
            | Expr::AggregateFunction { .. }
            // A lambda's body depends on its parameters; calls of lambdas are not folded.
            | Expr::Lambda(_)
            | Expr::LambdaVariable(_) => true,
            Expr::ScalarFunction { func, .. } => !func.is_deterministic() || !func.is_foldable(),
            _ => false,
        })
    }

    /// Splits `a AND b AND c` into `[a, b, c]`.
    pub fn split_conjunction(self) -> Vec<Expr> {
        match self {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::And,
                right,
            } => {
                let mut v = left.split_conjunction();
                v.extend(right.split_conjunction());
                v
            }
            Expr::Alias(e, _) => e.split_conjunction(),
            e => vec![e],
        }
    }
}

#[allow(clippy::boxed_local)] // the callers hold boxes; taking one avoids a re-box
fn bx<E>(f: &mut impl FnMut(Expr) -> Result<Expr, E>, e: Box<Expr>) -> Result<Box<Expr>, E> {
    Ok(Box::new(f(*e)?))
}

/// `a AND b AND ...`; `None` for an empty list.
pub fn conjunction(exprs: impl IntoIterator<Item = Expr>) -> Option<Expr> {
    exprs.into_iter().reduce(|a, b| a.and(b))
}
