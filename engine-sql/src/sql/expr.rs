//! `sqlparser` expressions to the engine's unresolved [`Expr`]s, with Spark's literal typing
//! and names.
//!
//! Choices worth knowing:
//! - Numbers follow Spark: `1` INT (BIGINT, then DECIMAL(p,0) when too large), `1.5`
//!   DECIMAL(2,1), `1.5E0`/`1.5D` DOUBLE, `1F` FLOAT, `1L` BIGINT, `1S` SMALLINT, `1Y`
//!   TINYINT, `1.5BD` DECIMAL; a minus sign directly before a number is part of the literal
//!   (`-2147483648` is an INT named `-2147483648`).
//! - `a || b` is `concat(a, b)`, as Spark's parser rewrites it.
//! - Subscripts: `arr[i]` and `m[k]` call the internal `__array_item` function (0-based on
//!   arrays, a key lookup on maps, decided by the value's type), displayed as `arr[i]`.
//! - `count(*)` is `count(1)`, as Spark names it.

use arrow::datatypes::DataType;
use chrono_tz::Tz;
use sqlparser::ast;

use engine_core::datetime_text;
use engine_core::{EngineError, Result};

use engine_core::expr::lambda::{Lambda, LambdaVariable};
use engine_core::expr::{BinaryOperator, CastMode, Expr, LikeKind, call, lit};
use engine_core::interval::literal::IntervalLiteral;
use engine_core::scalar::ScalarValue;

/// What expression translation needs from the session.
#[derive(Debug, Clone, Copy)]
pub struct ExprContext {
    /// `spark.sql.session.timeZone`, for `TIMESTAMP '...'` literals without a zone.
    pub time_zone: Tz,
}

impl Default for ExprContext {
    fn default() -> Self {
        ExprContext { time_zone: Tz::UTC }
    }
}

fn unsupported(what: impl std::fmt::Display) -> EngineError {
    EngineError::Unsupported(format!("{what} in SQL expressions"))
}

/// Translates one expression.
pub fn sql_to_expr(e: &ast::Expr, ctx: &ExprContext) -> Result<Expr> {
    use ast::Expr as A;
    let conv = |x: &ast::Expr| sql_to_expr(x, ctx);
    Ok(match e {
        A::Identifier(id) => ident_expr(id)?,
        // The Databricks dialect parses `struct(a, b AS x)` into a struct literal; Spark
        // treats it as the `struct` function, with `AS` naming a field.
        A::Struct { values, fields } if fields.is_empty() => engine_core::expr::call(
            "struct",
            values
                .iter()
                .map(|v| match v {
                    A::Named { expr, name } => Ok(conv(expr)?.alias(name.value.clone())),
                    other => conv(other),
                })
                .collect::<Result<Vec<_>>>()?,
        ),
        A::CompoundIdentifier(ids) => {
            Expr::UnresolvedColumn(ids.iter().map(|i| i.value.clone()).collect())
        }
        A::CompoundFieldAccess { root, access_chain } => {
            let mut cur = conv(root)?;
            for access in access_chain {
                cur = match access {
                    ast::AccessExpr::Dot(ast::Expr::Identifier(id)) => match cur {
                        Expr::UnresolvedColumn(mut parts) => {
                            parts.push(id.value.clone());
                            Expr::UnresolvedColumn(parts)
                        }
                        other => other.field(&id.value),
                    },
                    ast::AccessExpr::Dot(other) => {
                        return Err(unsupported(format!("the field access `.{other}`")));
                    }
                    ast::AccessExpr::Subscript(ast::Subscript::Index { index }) => {
                        subscript(cur, index, ctx)?
                    }
                    ast::AccessExpr::Subscript(s) => {
                        return Err(unsupported(format!("the array slice `[{s}]`")));
                    }
                };
            }
            cur
        }
        A::Value(v) => Expr::Literal(value_literal(&v.value)?),
        A::TypedString(ts) => Expr::Literal(typed_literal(ts, ctx)?),
        A::Nested(inner) => conv(inner)?,
        A::IsNull(x) => conv(x)?.is_null(),
        A::IsNotNull(x) => conv(x)?.is_not_null(),
        A::IsTrue(x) => conv(x)?.eq_null_safe(lit(true)),
        A::IsFalse(x) => conv(x)?.eq_null_safe(lit(false)),
        A::IsNotTrue(x) => Expr::Not(Box::new(conv(x)?.eq_null_safe(lit(true)))),
        A::IsNotFalse(x) => Expr::Not(Box::new(conv(x)?.eq_null_safe(lit(false)))),
        A::IsUnknown(x) => conv(x)?.is_null(),
        A::IsNotUnknown(x) => conv(x)?.is_not_null(),
        A::IsDistinctFrom(a, b) => Expr::Not(Box::new(conv(a)?.eq_null_safe(conv(b)?))),
        A::IsNotDistinctFrom(a, b) => conv(a)?.eq_null_safe(conv(b)?),
        A::InList {
            expr,
            list,
            negated,
        } => Expr::InList {
            expr: Box::new(conv(expr)?),
            list: list.iter().map(conv).collect::<Result<_>>()?,
            negated: *negated,
        },
        A::Between {
            expr,
            negated,
            low,
            high,
        } => {
            let b = conv(expr)?.between(conv(low)?, conv(high)?);
            if *negated { Expr::Not(Box::new(b)) } else { b }
        }
        A::BinaryOp { left, op, right } => binary(conv(left)?, op, conv(right)?)?,
        A::UnaryOp { op, expr } => unary(op, expr, ctx)?,
        A::Like {
            negated,
            any,
            expr,
            pattern,
            escape_char,
        }
        | A::ILike {
            negated,
            any,
            expr,
            pattern,
            escape_char,
        } => {
            if *any {
                return Err(unsupported("LIKE ANY"));
            }
            if escape_char.is_some() {
                return Err(unsupported("LIKE ... ESCAPE"));
            }
            Expr::Like {
                expr: Box::new(conv(expr)?),
                pattern: Box::new(conv(pattern)?),
                kind: if matches!(e, A::ILike { .. }) {
                    LikeKind::ILike
                } else {
                    LikeKind::Like
                },
                negated: *negated,
            }
        }
        A::RLike {
            negated,
            expr,
            pattern,
            ..
        } => Expr::Like {
            expr: Box::new(conv(expr)?),
            pattern: Box::new(conv(pattern)?),
            kind: LikeKind::RLike,
            negated: *negated,
        },
        A::Cast {
            kind,
            expr,
            data_type,
            format,
        } => {
            if format.is_some() {
                return Err(unsupported("CAST ... FORMAT"));
            }
            let to = sql_data_type(data_type)?;
            let mode = match kind {
                ast::CastKind::TryCast | ast::CastKind::SafeCast => CastMode::Try,
                ast::CastKind::Cast | ast::CastKind::DoubleColon => CastMode::Ansi,
            };
            Expr::Cast {
                expr: Box::new(conv(expr)?),
                to,
                mode,
            }
        }
        A::Case {
            operand,
            conditions,
            else_result,
            ..
        } => Expr::Case {
            operand: operand
                .as_ref()
                .map(|o| conv(o).map(Box::new))
                .transpose()?,
            branches: conditions
                .iter()
                .map(|w| Ok((conv(&w.condition)?, conv(&w.result)?)))
                .collect::<Result<_>>()?,
            otherwise: else_result
                .as_ref()
                .map(|o| conv(o).map(Box::new))
                .transpose()?,
        },
        A::Function(f) => function(f, ctx)?,
        A::Substring {
            expr,
            substring_from,
            substring_for,
            special,
            shorthand,
        } => {
            let mut args = vec![conv(expr)?];
            match substring_from {
                Some(from) => args.push(conv(from)?),
                None => args.push(lit(1)),
            }
            if let Some(n) = substring_for {
                args.push(conv(n)?);
            }
            // Spark names the call after the function used (`substr(s, 2, 1)`), but the
            // `FROM ... FOR` form is always `substring`.
            let name = if *special && *shorthand {
                "substr"
            } else {
                "substring"
            };
            call(name, args)
        }
        A::Trim {
            trim_where,
            trim_what,
            expr,
            trim_characters,
        } => {
            let name = match trim_where {
                Some(ast::TrimWhereField::Leading) => "ltrim",
                Some(ast::TrimWhereField::Trailing) => "rtrim",
                _ => "trim",
            };
            let mut args = vec![conv(expr)?];
            if let Some(w) = trim_what {
                args.push(conv(w)?);
            }
            if let Some(chars) = trim_characters {
                for c in chars {
                    args.push(conv(c)?);
                }
            }
            call(name, args)
        }
        A::Extract { field, expr, .. } => {
            call("extract", vec![lit(field.to_string()), conv(expr)?])
        }
        A::Position { expr, r#in } => call("position", vec![conv(expr)?, conv(r#in)?]),
        A::Overlay {
            expr,
            overlay_what,
            overlay_from,
            overlay_for,
        } => {
            let mut args = vec![conv(expr)?, conv(overlay_what)?, conv(overlay_from)?];
            if let Some(n) = overlay_for {
                args.push(conv(n)?);
            }
            call("overlay", args)
        }
        A::Ceil { expr, field } | A::Floor { expr, field } => {
            let name = if matches!(e, A::Ceil { .. }) {
                "ceil"
            } else {
                "floor"
            };
            let mut args = vec![conv(expr)?];
            match field {
                ast::CeilFloorKind::Scale(v) => args.push(Expr::Literal(value_literal(&v.value)?)),
                ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime) => {}
                ast::CeilFloorKind::DateTimeField(f) => {
                    return Err(unsupported(format!("{name}(... TO {f})")));
                }
            }
            call(name, args)
        }
        A::Array(arr) => call(
            "array",
            arr.elem.iter().map(conv).collect::<Result<Vec<_>>>()?,
        ),
        A::Wildcard(_) => Expr::Star(None),
        A::QualifiedWildcard(name, _) => Expr::Star(Some(super::parser::object_name_parts(name)?)),
        A::Interval(i) => Expr::Literal(interval_literal(i)?.into()),
        A::Subquery(_) | A::Exists { .. } | A::InSubquery { .. } => {
            return Err(unsupported("subqueries"));
        }
        A::Lambda(l) => lambda(l, ctx)?,
        other => return Err(unsupported(format!("the expression `{other}`"))),
    })
}

/// An `INTERVAL ...` literal: `INTERVAL 2 MINUTES`, `INTERVAL '1:30' HOUR TO MINUTE`,
/// `INTERVAL '1 hour 30 minutes'` and (rewritten to that string form by the dialect)
/// `INTERVAL 1 HOUR 30 MINUTES`.
fn interval_literal(i: &ast::Interval) -> Result<IntervalLiteral> {
    use ast::Expr as A;
    use engine_core::interval::fields::{IntervalField as F, IntervalFields};
    use engine_core::interval::literal::{from_multi_unit_string, from_unit_string, from_units};
    let value_text = match i.value.as_ref() {
        A::Value(v) => match &v.value {
            ast::Value::Number(n, _) => n.clone(),
            ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
            other => return Err(unsupported(format!("the interval value `{other}`"))),
        },
        A::UnaryOp {
            op: ast::UnaryOperator::Minus,
            expr,
        } => match expr.as_ref() {
            A::Value(v) => match &v.value {
                ast::Value::Number(n, _) => format!("-{n}"),
                other => return Err(unsupported(format!("the interval value `-{other}`"))),
            },
            other => return Err(unsupported(format!("the interval value `-{other}`"))),
        },
        other => return Err(unsupported(format!("the interval value `{other}`"))),
    };
    let field = |f: &ast::DateTimeField| -> Result<(F, &'static str)> {
        use ast::DateTimeField as D;
        Ok(match f {
            D::Year | D::Years => (F::Year, "YEAR"),
            D::Month | D::Months => (F::Month, "MONTH"),
            D::Week(_) | D::Weeks => (F::Day, "WEEK"),
            D::Day | D::Days => (F::Day, "DAY"),
            D::Hour | D::Hours => (F::Hour, "HOUR"),
            D::Minute | D::Minutes => (F::Minute, "MINUTE"),
            D::Second | D::Seconds => (F::Second, "SECOND"),
            D::Millisecond | D::Milliseconds => (F::Second, "MILLISECOND"),
            D::Microsecond | D::Microseconds => (F::Second, "MICROSECOND"),
            other => return Err(unsupported(format!("the interval unit {other}"))),
        })
    };
    match (&i.leading_field, &i.last_field) {
        (None, _) => from_multi_unit_string(&value_text),
        (Some(unit), None) => {
            let (_, word) = field(unit)?;
            from_units(
                &[(value_text.clone(), word.to_string())],
                &format!("INTERVAL {} {word}", i.value),
            )
        }
        (Some(start), Some(end)) => {
            let fields = IntervalFields {
                start: field(start)?.0,
                end: field(end)?.0,
            };
            from_unit_string(&value_text, fields)
        }
    }
}

/// `x -> body` or `(acc, x) -> body`: parameters by name; the analyzer binds them when it
/// resolves the higher-order call the lambda is an argument of.
fn lambda(l: &ast::LambdaFunction, ctx: &ExprContext) -> Result<Expr> {
    if l.syntax != ast::LambdaSyntax::Arrow {
        return Err(unsupported(format!("the lambda `{l}`")));
    }
    let params = match &l.params {
        ast::OneOrManyWithParens::One(p) => std::slice::from_ref(p),
        ast::OneOrManyWithParens::Many(ps) => ps.as_slice(),
    };
    let mut vars = Vec::with_capacity(params.len());
    for p in params {
        if p.data_type.is_some() {
            return Err(unsupported(format!("typed lambda parameters (`{p}`)")));
        }
        vars.push(LambdaVariable::unbound(p.name.value.clone()));
    }
    Ok(Expr::Lambda(Lambda::new(vars, sql_to_expr(&l.body, ctx)?)))
}

/// A single identifier: a column, or a number with a Spark type suffix (`10L`, `1.5D`),
/// which the tokenizer reads as an identifier starting with a digit.
fn ident_expr(id: &ast::Ident) -> Result<Expr> {
    if id.quote_style.is_none() && id.value.starts_with(|c: char| c.is_ascii_digit()) {
        return Ok(Expr::Literal(number_literal(&id.value)?));
    }
    Ok(Expr::UnresolvedColumn(vec![id.value.clone()]))
}

fn subscript(base: Expr, index: &ast::Expr, ctx: &ExprContext) -> Result<Expr> {
    // Spark's `[]`: 0-based on arrays (ANSI errors out of bounds), a key lookup on maps.
    let idx = sql_to_expr(index, ctx)?;
    Ok(call(
        engine_core::functions::collection::ARRAY_ITEM,
        vec![base, idx],
    ))
}

fn binary(left: Expr, op: &ast::BinaryOperator, right: Expr) -> Result<Expr> {
    use ast::BinaryOperator as B;
    let op = match op {
        B::Plus => BinaryOperator::Plus,
        B::Minus => BinaryOperator::Minus,
        B::Multiply => BinaryOperator::Multiply,
        B::Divide => BinaryOperator::Divide,
        B::Modulo => BinaryOperator::Modulo,
        B::MyIntegerDivide | B::DuckIntegerDivide => BinaryOperator::IntDivide,
        B::Gt => BinaryOperator::Gt,
        B::Lt => BinaryOperator::Lt,
        B::GtEq => BinaryOperator::GtEq,
        B::LtEq => BinaryOperator::LtEq,
        B::Eq => BinaryOperator::Eq,
        // Spark parses `a != b` and `a <> b` as NOT (a = b), and names it so.
        B::NotEq => {
            return Ok(Expr::Not(Box::new(Expr::BinaryOp {
                left: Box::new(left),
                op: BinaryOperator::Eq,
                right: Box::new(right),
            })));
        }
        B::BitwiseAnd => return Ok(call("&", vec![left, right])),
        B::BitwiseOr => return Ok(call("|", vec![left, right])),
        B::BitwiseXor | B::PGBitwiseXor => return Ok(call("^", vec![left, right])),
        B::Spaceship => BinaryOperator::NullSafeEq,
        B::And => BinaryOperator::And,
        B::Or => BinaryOperator::Or,
        // Spark's parser turns `a || b` into `concat(a, b)` (strings and arrays alike).
        B::StringConcat => return Ok(call("concat", vec![left, right])),
        other => return Err(unsupported(format!("the operator `{other}`"))),
    };
    Ok(Expr::BinaryOp {
        left: Box::new(left),
        op,
        right: Box::new(right),
    })
}

fn unary(op: &ast::UnaryOperator, expr: &ast::Expr, ctx: &ExprContext) -> Result<Expr> {
    use ast::UnaryOperator as U;
    match op {
        U::Minus => {
            // `-5` is one literal in Spark (`-2147483648` is an INT named `-2147483648`).
            if let Some(text) = number_text(expr) {
                return Ok(Expr::Literal(number_literal(&format!("-{text}"))?));
            }
            Ok(Expr::Negative(Box::new(sql_to_expr(expr, ctx)?)))
        }
        // Spark keeps `+x` as `(+ x)`, a no-op; the engine drops it.
        U::Plus => sql_to_expr(expr, ctx),
        U::Not | U::BangNot => Ok(Expr::Not(Box::new(sql_to_expr(expr, ctx)?))),
        U::BitwiseNot => Ok(call("~", vec![sql_to_expr(expr, ctx)?])),
        other => Err(unsupported(format!("the unary operator `{other}`"))),
    }
}

/// The text of a numeric literal (`5`, `1.5`, `10L`), if `e` is one.
fn number_text(e: &ast::Expr) -> Option<String> {
    match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::Number(n, _) => Some(n.to_string()),
            _ => None,
        },
        ast::Expr::Identifier(id)
            if id.quote_style.is_none() && id.value.starts_with(|c: char| c.is_ascii_digit()) =>
        {
            Some(id.value.clone())
        }
        _ => None,
    }
}

fn value_literal(v: &ast::Value) -> Result<ScalarValue> {
    use ast::Value as V;
    Ok(match v {
        V::Number(n, long) => {
            let text = if *long {
                format!("{n}L")
            } else {
                n.to_string()
            };
            number_literal(&text)?
        }
        V::SingleQuotedString(s)
        | V::DoubleQuotedString(s)
        | V::TripleSingleQuotedString(s)
        | V::TripleDoubleQuotedString(s)
        | V::SingleQuotedRawStringLiteral(s)
        | V::DoubleQuotedRawStringLiteral(s)
        | V::NationalStringLiteral(s)
        | V::EscapedStringLiteral(s) => ScalarValue::Utf8(Some(s.clone())),
        V::HexStringLiteral(h) => ScalarValue::Binary(Some(hex_bytes(h)?)),
        V::Boolean(b) => ScalarValue::Boolean(Some(*b)),
        V::Null => ScalarValue::Null,
        other => return Err(unsupported(format!("the literal `{other}`"))),
    })
}

fn hex_bytes(h: &str) -> Result<Vec<u8>> {
    let digit = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let digits = h
        .bytes()
        .map(digit)
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| invalid_literal("X", h))?;
    // Spark pads an odd number of digits with a leading zero.
    let (head, pairs) = digits.split_at(digits.len() % 2);
    Ok(head
        .iter()
        .copied()
        .chain(pairs.chunks_exact(2).map(|p| (p[0] << 4) | p[1]))
        .collect())
}

fn invalid_literal(ty: &str, value: &str) -> EngineError {
    EngineError::Parse(format!(
        "[INVALID_TYPED_LITERAL] The value of the typed literal \"{ty}\" is invalid: '{value}'. SQLSTATE: 42604"
    ))
}

/// Parses a Spark numeric literal, with its optional type suffix and sign.
pub fn number_literal(text: &str) -> Result<ScalarValue> {
    let lower = text.to_ascii_lowercase();
    let out_of_range = |ty: &str| {
        EngineError::Parse(format!(
            "[INVALID_NUMERIC_LITERAL_RANGE] Numeric literal {text} is outside the valid range for {ty}. SQLSTATE: 22003"
        ))
    };
    let bad = || EngineError::Parse(format!("Syntax error at or near '{text}'. SQLSTATE: 42601"));
    if let Some(body) = lower.strip_suffix("bd") {
        return decimal_literal(body).ok_or_else(bad);
    }
    // Spark names the literal without its suffix and gives the type's bounds.
    let float_range = |body: &str, ty: &str, max: &str| {
        EngineError::Parse(format!(
            "[INVALID_NUMERIC_LITERAL_RANGE] Numeric literal {body} is outside the valid range for {ty} with minimum value of -{max} and maximum value of {max}. Please adjust the value accordingly. SQLSTATE: 22003"
        ))
    };
    let finite_double = |body: &str| match body.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(ScalarValue::Float64(Some(v))),
        Ok(_) => Err(float_range(body, "double", "1.7976931348623157E+308")),
        Err(_) => Err(bad()),
    };
    if let Some(body) = lower.strip_suffix('d') {
        return finite_double(text.get(..body.len()).unwrap_or(body));
    }
    if let Some(body) = lower.strip_suffix('f') {
        let shown = text.get(..body.len()).unwrap_or(body);
        return match body.parse::<f32>() {
            Ok(v) if v.is_finite() => Ok(ScalarValue::Float32(Some(v))),
            Ok(_) => Err(float_range(shown, "float", "3.4028234663852886E+38")),
            Err(_) => Err(bad()),
        };
    }
    if let Some(body) = lower.strip_suffix('l') {
        return body
            .parse::<i64>()
            .map(|v| ScalarValue::Int64(Some(v)))
            .map_err(|_| out_of_range("bigint"));
    }
    if let Some(body) = lower.strip_suffix('s') {
        return body
            .parse::<i16>()
            .map(|v| ScalarValue::Int16(Some(v)))
            .map_err(|_| out_of_range("smallint"));
    }
    if let Some(body) = lower.strip_suffix('y') {
        return body
            .parse::<i8>()
            .map(|v| ScalarValue::Int8(Some(v)))
            .map_err(|_| out_of_range("tinyint"));
    }
    if lower.contains('e') {
        return finite_double(text);
    }
    if lower.contains('.') {
        return decimal_literal(&lower).ok_or_else(bad);
    }
    if let Ok(v) = lower.parse::<i32>() {
        return Ok(ScalarValue::Int32(Some(v)));
    }
    if let Ok(v) = lower.parse::<i64>() {
        return Ok(ScalarValue::Int64(Some(v)));
    }
    decimal_literal(&lower).ok_or_else(bad)
}

/// A decimal literal typed as Java's `BigDecimal` would be: precision = significant digits,
/// scale = digits after the point, precision at least the scale.
fn decimal_literal(text: &str) -> Option<ScalarValue> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    // `1.5E-2BD`: an exponent moves the point (BigDecimal's scale = fraction digits minus
    // the exponent); a negative scale becomes trailing zeros, as Spark types it.
    let (body, exponent) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().ok()?),
        None => (body, 0),
    };
    let (int_part, frac_part) = body.split_once('.').unwrap_or((body, ""));
    if !int_part
        .chars()
        .chain(frac_part.chars())
        .all(|c| c.is_ascii_digit())
        || (int_part.is_empty() && frac_part.is_empty())
    {
        return None;
    }
    let mut digits = format!("{int_part}{frac_part}");
    let scale = i64::try_from(frac_part.len()).ok()?.checked_sub(exponent)?;
    let scale = if scale < 0 {
        // More than 38 zeros cannot fit a decimal anyway.
        digits.push_str(&"0".repeat(usize::try_from(scale.unsigned_abs()).ok()?.min(39)));
        0
    } else {
        usize::try_from(scale).ok()?
    };
    let significant = digits.trim_start_matches('0');
    let precision = significant.len().max(1).max(scale);
    if precision > 38 {
        return None;
    }
    let unscaled: i128 = if significant.is_empty() {
        0
    } else {
        significant.parse().ok()?
    };
    Some(ScalarValue::Decimal128(
        Some(if neg { -unscaled } else { unscaled }),
        precision as u8,
        scale as i8,
    ))
}

/// A SQL type as written (`INT`, `DECIMAL(10,2)`, `ARRAY<STRING>`) as an Arrow type.
pub fn sql_data_type(dt: &ast::DataType) -> Result<DataType> {
    engine_core::types::parse_data_type(&dt.to_string())
}

fn typed_literal(ts: &ast::TypedString, ctx: &ExprContext) -> Result<ScalarValue> {
    let text = match &ts.value.value {
        ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
        other => return Err(unsupported(format!("the typed literal value `{other}`"))),
    };
    let ty = ts.data_type.to_string().to_uppercase();
    // Spark reads typed literals with CAST's parser (a time alone is on today's date; a
    // TIMESTAMP_NTZ literal drops a zone it is given).
    match ty.as_str() {
        "DATE" => datetime_text::parse_date(&text)
            .map(|d| ScalarValue::Date32(Some(d)))
            .ok_or_else(|| invalid_literal("DATE", &text)),
        "TIMESTAMP" | "TIMESTAMP_LTZ" => {
            datetime_text::parse_timestamp(&text, &ctx.time_zone, datetime_text::now_micros())
                .map(|us| ScalarValue::TimestampMicros(Some(us), Some("UTC".into())))
                .ok_or_else(|| invalid_literal("TIMESTAMP", &text))
        }
        "TIMESTAMP_NTZ" => datetime_text::parse_timestamp_ntz(&text, true)
            .map(|us| ScalarValue::TimestampMicros(Some(us), None))
            .ok_or_else(|| invalid_literal("TIMESTAMP_NTZ", &text)),
        "X" | "BINARY" => Ok(ScalarValue::Binary(Some(hex_bytes(&text)?))),
        other => Err(unsupported(format!("typed literals of type {other}"))),
    }
}

fn function(f: &ast::Function, ctx: &ExprContext) -> Result<Expr> {
    let parts = super::parser::object_name_parts(&f.name)?;
    let name = match parts.as_slice() {
        [n] => n.to_lowercase(),
        _ => {
            return Err(unsupported(format!(
                "the qualified function name `{}`",
                f.name
            )));
        }
    };
    if f.over.is_some() {
        return Err(unsupported(format!(
            "window functions (`{name}(...) OVER`)"
        )));
    }
    let filter = f
        .filter
        .as_deref()
        .map(|c| sql_to_expr(c, ctx))
        .transpose()?;
    if !matches!(f.parameters, ast::FunctionArguments::None) {
        return Err(unsupported(format!("parameterised function `{name}`")));
    }
    if let Some(e) = unit_function(&name, f, ctx)? {
        return Ok(e);
    }
    if let Some(e) = like_function(&name, f, ctx)? {
        return Ok(e);
    }
    let (args, distinct) = match &f.args {
        ast::FunctionArguments::None => (vec![], false),
        ast::FunctionArguments::Subquery(_) => return Err(unsupported("subqueries")),
        ast::FunctionArguments::List(list) => {
            if !list.clauses.is_empty() {
                return Err(unsupported(format!(
                    "the clauses `{}` in a call of `{name}`",
                    list.clauses
                        .iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                )));
            }
            let distinct = matches!(
                list.duplicate_treatment,
                Some(ast::DuplicateTreatment::Distinct)
            );
            let mut args = Vec::with_capacity(list.args.len());
            for a in &list.args {
                let ast::FunctionArg::Unnamed(arg) = a else {
                    return Err(unsupported(format!("named arguments (in `{name}`)")));
                };
                args.push(match arg {
                    ast::FunctionArgExpr::Expr(x) => sql_to_expr(x, ctx)?,
                    // `count(*)` counts rows: Spark rewrites it to `count(1)`.
                    ast::FunctionArgExpr::Wildcard if name == "count" => lit(1),
                    ast::FunctionArgExpr::Wildcard => Expr::Star(None),
                    ast::FunctionArgExpr::QualifiedWildcard(q) => {
                        Expr::Star(Some(super::parser::object_name_parts(q)?))
                    }
                    ast::FunctionArgExpr::WildcardWithOptions(_) => {
                        return Err(unsupported("`* EXCEPT (...)` in function arguments"));
                    }
                });
            }
            (args, distinct)
        }
    };
    let args = if f.within_group.is_empty() {
        // Spark's defaults show in the column name: `percentile(x, 0.5, 1)`.
        engine_core::functions::default_args::with_default_args(&name, args)
    } else {
        within_group_args(&name, args, &f.within_group, ctx)?
    };
    if let Some(cond) = filter {
        return filtered_aggregate(name, args, distinct, cond);
    }
    Ok(Expr::UnresolvedFunction {
        name,
        args,
        distinct,
    })
}

/// `agg(args) FILTER (WHERE cond)`: the aggregate over the rows `cond` keeps, as the
/// aggregate over its arguments set to NULL where `cond` is not true (every aggregate taken
/// here skips NULL inputs, so the two agree), named as Spark names it
/// (`count(1) FILTER (WHERE (v > 1))`).
fn filtered_aggregate(name: String, args: Vec<Expr>, distinct: bool, cond: Expr) -> Result<Expr> {
    // These take a NULL value as a value: masking rows would change their answer.
    if matches!(
        name.as_str(),
        "first" | "last" | "first_value" | "last_value" | "any_value"
    ) {
        return Err(unsupported(format!("FILTER (WHERE ...) on `{name}`")));
    }
    let shown: Vec<String> = args.iter().map(ToString::to_string).collect();
    let label = format!(
        "{name}({}{}) FILTER (WHERE {cond})",
        if distinct { "DISTINCT " } else { "" },
        shown.join(", ")
    );
    let masked = args
        .into_iter()
        .map(|a| {
            call(
                "if",
                vec![cond.clone(), a, Expr::Literal(ScalarValue::Null)],
            )
        })
        .collect();
    Ok(Expr::UnresolvedFunction {
        name,
        args: masked,
        distinct,
    }
    .alias(label))
}

/// `like(s, p)`, `ilike(s, p)` and `rlike(s, p)`: the operators in function form, named as
/// the operators are (`s LIKE p`, `ilike(s, p)`, `RLIKE(s, p)`).
fn like_function(name: &str, f: &ast::Function, ctx: &ExprContext) -> Result<Option<Expr>> {
    let kind = match name {
        "like" => LikeKind::Like,
        "ilike" => LikeKind::ILike,
        "rlike" => LikeKind::RLike,
        _ => return Ok(None),
    };
    let ast::FunctionArguments::List(list) = &f.args else {
        return Ok(None);
    };
    let [
        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(s)),
        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(p)),
    ] = list.args.as_slice()
    else {
        return Ok(None);
    };
    Ok(Some(Expr::Like {
        expr: Box::new(sql_to_expr(s, ctx)?),
        pattern: Box::new(sql_to_expr(p, ctx)?),
        kind,
        negated: false,
    }))
}

/// `timestampadd(HOUR, 1, ts)` and `timestampdiff(DAY, a, b)` (also `dateadd`/`date_add`
/// and `datediff`/`date_diff` with three arguments): Spark's grammar reads the bare unit
/// keyword, which becomes the function's first (string) argument, shown as written.
fn unit_function(name: &str, f: &ast::Function, ctx: &ExprContext) -> Result<Option<Expr>> {
    let target = match name {
        "timestampadd" | "dateadd" | "date_add" => "timestampadd",
        "timestampdiff" | "datediff" | "date_diff" => "timestampdiff",
        _ => return Ok(None),
    };
    let ast::FunctionArguments::List(list) = &f.args else {
        return Ok(None);
    };
    let args: Vec<&ast::Expr> = list
        .args
        .iter()
        .filter_map(|a| match a {
            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) => Some(x),
            _ => None,
        })
        .collect();
    let [unit, rest @ ..] = args.as_slice() else {
        return Ok(None);
    };
    if args.len() != 3 || args.len() != list.args.len() {
        return Ok(None);
    }
    let unit = match unit {
        ast::Expr::Identifier(id) if id.quote_style.is_none() => id.value.clone(),
        ast::Expr::Value(v) if name == target => {
            if let ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) = &v.value
            {
                return Err(engine_core::functions::datetime_units::invalid_unit(
                    target, s,
                ));
            }
            return Ok(None);
        }
        _ => return Ok(None),
    };
    if !engine_core::functions::datetime_units::UNITS.contains(&unit.to_ascii_uppercase().as_str())
    {
        // Not a unit: `timestampadd` is no function of its own in Spark, `date_add` is.
        if name == target {
            return Err(EngineError::analysis(
                "UNRESOLVED_ROUTINE",
                format!(
                    "Cannot resolve routine `{name}` on search path [`system`.`builtin`, \
                     `system`.`session`, `spark_catalog`.`default`]. SQLSTATE: 42883"
                ),
            ));
        }
        return Ok(None);
    }
    let mut out = vec![lit(unit)];
    for a in rest {
        out.push(sql_to_expr(a, ctx)?);
    }
    Ok(Some(Expr::UnresolvedFunction {
        name: target.to_string(),
        args: out,
        distinct: false,
    }))
}

/// `listagg`'s `WITHIN GROUP` orderings with whether each is descending (NULLs go as
/// written, else first when ascending: Spark's default order).
fn listagg_orderings(order: &[ast::OrderByExpr]) -> Result<Vec<(&ast::OrderByExpr, bool)>> {
    order
        .iter()
        .map(|o| match o.options.sort {
            None | Some(ast::OrderBySort::Asc) => Ok((o, false)),
            Some(ast::OrderBySort::Desc) => Ok((o, true)),
            Some(ast::OrderBySort::Using(_)) => Err(unsupported("ORDER BY ... USING")),
        })
        .collect()
}

/// The column a `WITHIN GROUP (ORDER BY col [DESC])` clause sorts by and whether it sorts
/// descending; `None` for any other shape (`listagg` reads its orderings itself).
fn within_group_order(order: &[ast::OrderByExpr]) -> Option<(&ast::Expr, bool)> {
    match order {
        [o] if o.options.nulls_first.is_none() => match o.options.sort {
            None | Some(ast::OrderBySort::Asc) => Some((&o.expr, false)),
            Some(ast::OrderBySort::Desc) => Some((&o.expr, true)),
            Some(ast::OrderBySort::Using(_)) => None,
        },
        _ => None,
    }
}

/// The ordered-set aggregates as plain calls: `percentile_cont(p) WITHIN GROUP (ORDER BY
/// col DESC)` is `percentile_cont(col, p, true)` (likewise `percentile_disc`), and `mode()
/// WITHIN GROUP (ORDER BY col [DESC])` is `mode(col, true, descending)`.
fn within_group_args(
    name: &str,
    args: Vec<Expr>,
    order: &[ast::OrderByExpr],
    ctx: &ExprContext,
) -> Result<Vec<Expr>> {
    if matches!(name, "listagg" | "string_agg") && matches!(args.len(), 1 | 2) {
        // Every ordering as `key, descending, nulls_first`.
        let mut args = engine_core::functions::default_args::with_default_args(name, args);
        for (o, descending) in listagg_orderings(order)? {
            args.push(sql_to_expr(&o.expr, ctx)?);
            args.push(lit(descending));
            args.push(lit(o.options.nulls_first.unwrap_or(!descending)));
        }
        return Ok(args);
    }
    let Some((col, descending)) = within_group_order(order) else {
        return Err(EngineError::analysis(
            "INVALID_WITHIN_GROUP_EXPRESSION.WRONG_NUM_ORDERINGS",
            format!(
                "Invalid function `{name}` with WITHIN GROUP. The function requires 1 orderings in WITHIN GROUP but got {}. SQLSTATE: 42K0K",
                order.len()
            ),
        ));
    };
    let col = sql_to_expr(col, ctx)?;
    match (name, args.len()) {
        ("percentile_cont" | "percentile_disc", 1) => {
            let mut args = args;
            args.insert(0, col);
            args.push(lit(descending));
            Ok(args)
        }
        ("percentile_cont" | "percentile_disc", n) => {
            Err(engine_core::functions::wrong_num_args(name, "1", n))
        }
        ("mode", 0) => Ok(vec![col, lit(true), lit(descending)]),
        _ => Err(EngineError::analysis(
            "INVALID_WITHIN_GROUP_EXPRESSION.UNSUPPORTED_FUNC",
            format!(
                "Invalid function `{name}` with WITHIN GROUP. The function does not support WITHIN GROUP. SQLSTATE: 42K0K"
            ),
        )),
    }
}

/// Spark's names of the ordered-set aggregates: `percentile_cont(0.5) WITHIN GROUP (ORDER BY
/// x)`; `mode(x, true)` and `mode() WITHIN GROUP (ORDER BY x)` are both named
/// `mode() WITHIN GROUP (ORDER BY x DESC)` by Spark 4.3, and the DESC form without it;
/// `approx_count_distinct(x, rsd)` is `approx_count_distinct(x)`.
fn within_group_name(f: &ast::Function, ctx: &ExprContext) -> Result<Option<String>> {
    let name = f.name.to_string().to_lowercase();
    let plain_args = match &f.args {
        ast::FunctionArguments::List(list) => list
            .args
            .iter()
            .map(|a| match a {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) => Some(x),
                _ => None,
            })
            .collect::<Option<Vec<_>>>(),
        ast::FunctionArguments::None => Some(vec![]),
        ast::FunctionArguments::Subquery(_) => None,
    };
    let Some(args) = plain_args else {
        return Ok(None);
    };
    let ordered = |col: &ast::Expr, desc: bool| -> Result<String> {
        Ok(format!(
            "WITHIN GROUP (ORDER BY {}{})",
            display_name(col, ctx)?,
            if desc { " DESC" } else { "" }
        ))
    };
    if f.within_group.is_empty() {
        // `mode(x, true)`: Spark names it as the WITHIN GROUP form.
        return Ok(match (name.as_str(), args.as_slice()) {
            ("mode", [col, flag]) if display_name(flag, ctx)? == "true" => {
                Some(format!("mode() {}", ordered(col, true)?))
            }
            ("mode", [col, _]) => Some(format!("mode({})", display_name(col, ctx)?)),
            // Spark leaves the relative error out of the name.
            ("approx_count_distinct", [col, _]) => Some(format!(
                "approx_count_distinct({})",
                display_name(col, ctx)?
            )),
            _ => None,
        });
    }
    if matches!(name.as_str(), "listagg" | "string_agg") && matches!(args.len(), 1 | 2) {
        // `string_agg` too is named `listagg` with WITHIN GROUP, each order spelled out.
        let distinct = matches!(
            &f.args,
            ast::FunctionArguments::List(l)
                if l.duplicate_treatment == Some(ast::DuplicateTreatment::Distinct)
        );
        let delimiter = match args.get(1) {
            Some(d) => display_name(d, ctx)?,
            None => "NULL".to_string(),
        };
        let mut orders = vec![];
        for (o, desc) in listagg_orderings(&f.within_group)? {
            orders.push(format!(
                "{} {} NULLS {}",
                display_name(&o.expr, ctx)?,
                if desc { "DESC" } else { "ASC" },
                if o.options.nulls_first.unwrap_or(!desc) {
                    "FIRST"
                } else {
                    "LAST"
                }
            ));
        }
        return Ok(Some(format!(
            "listagg({}{}, {delimiter}) WITHIN GROUP (ORDER BY {})",
            if distinct { "DISTINCT " } else { "" },
            display_name(args[0], ctx)?,
            orders.join(", ")
        )));
    }
    let Some((col, desc)) = within_group_order(&f.within_group) else {
        return Ok(None);
    };
    Ok(match (name.as_str(), args.as_slice()) {
        ("percentile_cont" | "percentile_disc", [p]) => Some(format!(
            "{name}({}) {}",
            display_name(p, ctx)?,
            ordered(col, desc)?
        )),
        ("mode", []) => Some(format!("mode() {}", ordered(col, !desc)?)),
        _ => None,
    })
}

/// Spark's name for a select-list expression when the engine's translation would display
/// differently (`between(a, 1, 2)`, `arr[0]`, `m[k]`, `(+ a)`); `None` when they agree.
pub fn spark_name(e: &ast::Expr, ctx: &ExprContext) -> Result<Option<String>> {
    use ast::Expr as A;
    Ok(match e {
        A::Between {
            expr,
            negated,
            low,
            high,
        } => {
            let inner = format!(
                "between({}, {}, {})",
                display_name(expr, ctx)?,
                display_name(low, ctx)?,
                display_name(high, ctx)?
            );
            Some(if *negated {
                format!("(NOT {inner})")
            } else {
                inner
            })
        }
        A::CompoundFieldAccess { root, access_chain }
            if access_chain
                .iter()
                .any(|a| matches!(a, ast::AccessExpr::Subscript(_))) =>
        {
            let mut name = display_name(root, ctx)?;
            for a in access_chain {
                match a {
                    ast::AccessExpr::Subscript(ast::Subscript::Index { index }) => {
                        name = format!("{name}[{}]", display_name(index, ctx)?);
                    }
                    // `s[0].f` is named after its last field, like `s.f`.
                    ast::AccessExpr::Dot(ast::Expr::Identifier(id)) => name = id.value.clone(),
                    _ => return Ok(None),
                }
            }
            Some(name)
        }
        A::UnaryOp {
            op: ast::UnaryOperator::Plus,
            expr,
        } if number_text(expr).is_none() => Some(format!("(+ {})", display_name(expr, ctx)?)),
        A::Nested(inner) => spark_name(inner, ctx)?,
        A::Function(f) => within_group_name(f, ctx)?,
        _ => None,
    })
}

fn display_name(e: &ast::Expr, ctx: &ExprContext) -> Result<String> {
    match spark_name(e, ctx)? {
        Some(n) => Ok(n),
        None => Ok(sql_to_expr(e, ctx)?.to_string()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn parse(sql: &str) -> Expr {
        let ast = super::super::parser::parse_expr(sql).unwrap();
        sql_to_expr(&ast, &ExprContext::default()).unwrap()
    }

    fn ty_and_name(sql: &str) -> (DataType, String) {
        match parse(sql) {
            Expr::Literal(v) => (v.data_type(), v.to_string()),
            other => panic!("not a literal: {other:?}"),
        }
    }

    #[test]
    fn numbers_are_typed_like_spark() {
        assert_eq!(ty_and_name("1"), (DataType::Int32, "1".into()));
        assert_eq!(ty_and_name("-5"), (DataType::Int32, "-5".into()));
        assert_eq!(
            ty_and_name("-2147483648"),
            (DataType::Int32, "-2147483648".into())
        );
        assert_eq!(ty_and_name("2147483648").0, DataType::Int64);
        assert_eq!(
            ty_and_name("1.5"),
            (DataType::Decimal128(2, 1), "1.5".into())
        );
        assert_eq!(
            ty_and_name("0.05"),
            (DataType::Decimal128(2, 2), "0.05".into())
        );
        assert_eq!(
            ty_and_name(".5"),
            (DataType::Decimal128(1, 1), "0.5".into())
        );
        assert_eq!(
            ty_and_name("99999999999999999999").0,
            DataType::Decimal128(20, 0)
        );
        assert_eq!(ty_and_name("1.5D"), (DataType::Float64, "1.5".into()));
        assert_eq!(ty_and_name("1.5E0"), (DataType::Float64, "1.5".into()));
        assert_eq!(ty_and_name("1e10"), (DataType::Float64, "1.0E10".into()));
        assert_eq!(ty_and_name("10L"), (DataType::Int64, "10".into()));
        assert_eq!(ty_and_name("2Y"), (DataType::Int8, "2".into()));
        assert_eq!(ty_and_name("3S"), (DataType::Int16, "3".into()));
        assert_eq!(
            ty_and_name("1.5BD"),
            (DataType::Decimal128(2, 1), "1.5".into())
        );
        assert_eq!(ty_and_name("2.5F").0, DataType::Float32);
        // An exponent before a suffix (pinned against PySpark 4.3).
        assert_eq!(ty_and_name("1.0E-5D"), (DataType::Float64, "1.0E-5".into()));
        assert_eq!(ty_and_name("2.5E3D"), (DataType::Float64, "2500.0".into()));
        assert_eq!(ty_and_name("1.0E-5F").0, DataType::Float32);
        assert_eq!(
            ty_and_name("1E2BD"),
            (DataType::Decimal128(3, 0), "100".into())
        );
        assert_eq!(
            ty_and_name("1.5E2BD"),
            (DataType::Decimal128(3, 0), "150".into())
        );
        assert_eq!(
            ty_and_name("1.5E-2BD"),
            (DataType::Decimal128(3, 3), "0.015".into())
        );
        // With a space the letter is an alias, as in Spark.
        let q = super::super::parser::parse_query("SELECT 1.0E-5 D").unwrap();
        assert!(q.to_string().contains("AS D"), "{q}");
    }

    #[test]
    fn out_of_range_floating_literals_are_sparks_error() {
        for (sql, want) in [
            (
                "1e400D",
                "Numeric literal 1e400 is outside the valid range for double with minimum value of -1.7976931348623157E+308",
            ),
            (
                "1e400",
                "Numeric literal 1e400 is outside the valid range for double",
            ),
            (
                "1e50F",
                "Numeric literal 1e50 is outside the valid range for float with minimum value of -3.4028234663852886E+38 and maximum value of 3.4028234663852886E+38",
            ),
        ] {
            let ast = super::super::parser::parse_expr(sql).unwrap();
            let e = sql_to_expr(&ast, &ExprContext::default())
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("INVALID_NUMERIC_LITERAL_RANGE") && e.contains(want),
                "{sql}: {e}"
            );
        }
    }

    #[test]
    fn other_literals() {
        assert_eq!(ty_and_name("'a'"), (DataType::Utf8, "a".into()));
        assert_eq!(ty_and_name("\"a\""), (DataType::Utf8, "a".into()));
        assert_eq!(ty_and_name("TRUE"), (DataType::Boolean, "true".into()));
        assert_eq!(ty_and_name("NULL"), (DataType::Null, "NULL".into()));
        assert_eq!(
            ty_and_name("DATE '2020-01-02'"),
            (DataType::Date32, "DATE '2020-01-02'".into())
        );
        assert_eq!(
            ty_and_name("TIMESTAMP '2020-01-01 10:00:00+02:00'").1,
            "TIMESTAMP '2020-01-01 08:00:00'"
        );
        assert_eq!(
            ty_and_name("TIMESTAMP '2020-01-01 00:00:00.5'").1,
            "TIMESTAMP '2020-01-01 00:00:00.5'"
        );
        assert_eq!(ty_and_name("X'0A'").0, DataType::Binary);
        // Regression (issue 16): a non-ASCII digit was sliced through.
        for bad in ["X'é0'", "X'0é'", "X'g'"] {
            let e = sql_to_expr(
                &super::super::parser::parse_expr(bad).unwrap(),
                &ExprContext::default(),
            )
            .unwrap_err();
            assert!(
                e.to_string().contains("INVALID_TYPED_LITERAL"),
                "{bad}: {e}"
            );
        }
        assert!(
            sql_to_expr(
                &super::super::parser::parse_expr("DATE '2020-13-01'").unwrap(),
                &ExprContext::default()
            )
            .is_err()
        );
    }

    #[test]
    fn timestamp_literals_use_the_session_zone() {
        let ctx = ExprContext {
            time_zone: chrono_tz::America::Los_Angeles,
        };
        let ast = super::super::parser::parse_expr("TIMESTAMP '2020-01-01 00:00:00'").unwrap();
        match sql_to_expr(&ast, &ctx).unwrap() {
            Expr::Literal(ScalarValue::TimestampMicros(Some(us), _)) => {
                assert_eq!(us, 1_577_865_600_000_000)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn expressions_display_with_spark_names() {
        let cases = [
            ("a + 1", "(a + 1)"),
            ("t.a * 2", "(t.a * 2)"),
            ("a DIV 2", "(a div 2)"),
            ("a <=> b", "(a <=> b)"),
            ("a % 2", "(a % 2)"),
            ("NOT a", "(NOT a)"),
            ("-a", "(- a)"),
            ("a IN (1, 2)", "(a IN (1, 2))"),
            ("a NOT IN (1)", "(NOT (a IN (1)))"),
            ("'x' || 'y'", "concat(x, y)"),
            ("s LIKE 'a%'", "s LIKE a%"),
            ("s NOT LIKE 'a%'", "(NOT s LIKE a%)"),
            ("s ILIKE 'A%'", "ilike(s, A%)"),
            ("s RLIKE 'b'", "RLIKE(s, b)"),
            ("s REGEXP 'b'", "RLIKE(s, b)"),
            ("s NOT RLIKE 'b'", "(NOT RLIKE(s, b))"),
            ("count(*)", "count(1)"),
            ("COUNT(DISTINCT a)", "count(DISTINCT a)"),
            ("UPPER(s)", "upper(s)"),
            // Spark 4: a cast of a column keeps the column's name.
            ("CAST(a AS STRING)", "a"),
            ("CAST(a + 1 AS STRING)", "CAST((a + 1) AS STRING)"),
            ("try_cast('x' AS INT)", "TRY_CAST(x AS INT)"),
            ("1::bigint", "CAST(1 AS BIGINT)"),
            ("CAST(1 AS DECIMAL(10, 2))", "CAST(1 AS DECIMAL(10,2))"),
            ("CAST(NULL AS ARRAY<INT>)", "CAST(NULL AS ARRAY<INT>)"),
            (
                "CASE WHEN a > 1 THEN 'x' ELSE 'y' END",
                "CASE WHEN (a > 1) THEN x ELSE y END",
            ),
            // PySpark 4.3 prints a simple CASE in its searched form.
            ("CASE a WHEN 1 THEN 'o' END", "CASE WHEN (a = 1) THEN o END"),
            ("a IS NULL", "(a IS NULL)"),
            ("a IS NOT NULL", "(a IS NOT NULL)"),
            ("a IS DISTINCT FROM 1", "(NOT (a <=> 1))"),
            ("arr[0]", "arr[0]"),
            ("m['k']", "m[k]"),
            ("arr[i]", "arr[i]"),
            ("s.f.g", "g"),
            ("(a + 1) * 2", "((a + 1) * 2)"),
        ];
        for (sql, name) in cases {
            assert_eq!(parse(sql).output_name(), name, "{sql}");
        }
        assert_eq!(
            parse("s.f.g"),
            Expr::UnresolvedColumn(vec!["s".into(), "f".into(), "g".into()])
        );
        assert_eq!(parse("`a.b`"), Expr::UnresolvedColumn(vec!["a.b".into()]));
        assert!(matches!(parse("x.y[1].z"), Expr::GetField { name, .. } if name == "z"));
    }

    #[test]
    fn spark_names_of_rewritten_forms() {
        let name = |sql: &str| {
            spark_name(
                &super::super::parser::parse_expr(sql).unwrap(),
                &ExprContext::default(),
            )
            .unwrap()
        };
        assert_eq!(
            name("a BETWEEN 1 AND 2").as_deref(),
            Some("between(a, 1, 2)")
        );
        assert_eq!(
            name("a NOT BETWEEN 1 AND 2").as_deref(),
            Some("(NOT between(a, 1, 2))")
        );
        assert_eq!(name("arr[0]").as_deref(), Some("arr[0]"));
        assert_eq!(name("m['k']").as_deref(), Some("m[k]"));
        assert_eq!(name("a + 1"), None);
    }

    #[test]
    fn unsupported_constructs_are_named() {
        let err = |sql: &str| {
            sql_to_expr(
                &super::super::parser::parse_expr(sql).unwrap(),
                &ExprContext::default(),
            )
            .unwrap_err()
            .to_string()
        };
        assert!(err("row_number() OVER (ORDER BY a)").contains("window functions"));
        assert!(err("a IN (SELECT 1)").contains("subqueries"));
    }
}
