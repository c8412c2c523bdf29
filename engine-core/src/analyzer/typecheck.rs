//! Type checking and implicit casts of bound expressions.

use crate::{EngineError, Result};
use arrow::datatypes::DataType;

use crate::expr::coercion::{can_cast, cast_mismatch, coerce_binary, common_type_for};
use crate::expr::{BinaryOperator, CastMode, Expr};
use crate::scalar::ScalarValue;
use crate::schema::PlanSchema;
use crate::types::{is_numeric, is_string, sql_type_name};

/// Inserts the implicit casts Spark would and checks operand types, bottom-up.
/// Explicit casts follow `spark.sql.ansi.enabled` (`ansi`); `try_cast` always yields NULL.
pub fn coerce_expr(e: Expr, schema: &PlanSchema, ansi: bool) -> Result<Expr> {
    match e {
        // A higher-order call is checked after its lambdas' bodies are coerced, but its
        // errors show the arguments as written (Spark hides implicit casts there).
        Expr::HigherOrderFunction { func, args } => {
            let written = args.clone();
            let args = args
                .into_iter()
                .map(|a| coerce_expr(a, schema, ansi))
                .collect::<Result<Vec<_>>>()?;
            let types = args
                .iter()
                .map(|a| a.data_type(schema))
                .collect::<Result<Vec<_>>>()?;
            super::lambda::check_call(func.as_ref(), &written, &types)?;
            Ok(Expr::HigherOrderFunction { func, args })
        }
        e => {
            let e = e.map_children(|c| coerce_expr(c, schema, ansi))?;
            coerce_node(e, schema, ansi)
        }
    }
}

/// `e` (of type `t`) cast to DECIMAL(digits, 0) when it is a non-NULL integer literal, the
/// other operand of arithmetic `op` is a decimal (`other`), as Spark's `DecimalPrecision`
/// does with `spark.sql.legacy.literalPickMinimumPrecision` (true by default); else as is.
fn literal_as_small_decimal(
    op: BinaryOperator,
    e: Expr,
    t: DataType,
    other: &DataType,
    ansi: bool,
) -> (Expr, DataType) {
    if !op.is_arithmetic() || !matches!(other, DataType::Decimal128(_, _)) {
        return (e, t);
    }
    let v = match &e {
        Expr::Literal(ScalarValue::Int8(Some(v))) => i64::from(*v),
        Expr::Literal(ScalarValue::Int16(Some(v))) => i64::from(*v),
        Expr::Literal(ScalarValue::Int32(Some(v))) => i64::from(*v),
        Expr::Literal(ScalarValue::Int64(Some(v))) => *v,
        _ => return (e, t),
    };
    let digits = v.unsigned_abs().checked_ilog10().map_or(1, |d| d + 1);
    let Ok(digits) = u8::try_from(digits) else {
        return (e, t);
    };
    let to = DataType::Decimal128(digits, 0);
    (e.implicit_cast(&t, &to, ansi), to)
}

fn coerce_node(e: Expr, schema: &PlanSchema, ansi: bool) -> Result<Expr> {
    Ok(match e {
        Expr::BinaryOp { left, op, right } => {
            let lt = left.data_type(schema)?;
            let rt = right.data_type(schema)?;
            if let Some(e) = crate::functions::interval::rewrite_binary(
                op,
                (*left).clone(),
                &lt,
                (*right).clone(),
                &rt,
                ansi,
            ) {
                // The rewrite may leave an ordinary `date + n` behind: coerce that too.
                return match e {
                    Expr::BinaryOp { .. } => coerce_node(e, schema, ansi),
                    e => Ok(e),
                };
            }
            // Spark's `literalPickMinimumPrecision`: an integer literal beside a decimal
            // is a decimal of just its digits (`1.0 / 3` is DECIMAL(7,6), not (13,12)).
            let (left, lt) = literal_as_small_decimal(op, *left, lt, &rt, ansi);
            let (right, rt) = literal_as_small_decimal(op, *right, rt, &lt, ansi);
            let (l_to, r_to) = coerce_binary(op, &lt, &rt, ansi)
                .map_err(|err| fill_expr_text(err, &format!("({left} {op} {right})")))?;
            Expr::BinaryOp {
                left: Box::new(left.implicit_cast(&lt, &l_to, ansi)),
                op,
                right: Box::new(right.implicit_cast(&rt, &r_to, ansi)),
            }
        }
        Expr::Not(inner) => {
            let t = inner.data_type(schema)?;
            Expr::Not(Box::new(require(
                *inner,
                &t,
                &DataType::Boolean,
                "NOT",
                ansi,
            )?))
        }
        Expr::Negative(inner) => {
            let t = inner.data_type(schema)?;
            if let Some(e) = crate::functions::interval::rewrite_negative((*inner).clone(), &t) {
                return Ok(e);
            }
            if !(is_numeric(&t) || t == DataType::Null) {
                return Err(type_mismatch(&format!("(- {inner})"), 1, "NUMERIC", &t));
            }
            Expr::Negative(inner)
        }
        // Spark writes an interval literal with the fields it was written with
        // (`INTERVAL '90' MINUTE`); a column only knows the widest form, so fold it here.
        Expr::Cast { expr, to, .. }
            if to == DataType::Utf8
                && matches!(
                    expr.as_ref(),
                    Expr::Literal(
                        ScalarValue::DayTimeInterval(Some(_), _)
                            | ScalarValue::YearMonthInterval(Some(_), _)
                    )
                ) =>
        {
            Expr::Literal(ScalarValue::Utf8(Some(expr.to_string())))
        }
        Expr::Cast { expr, to, mode } => {
            let from = expr.data_type(schema)?;
            if !can_cast(&from, &to, ansi) {
                let text = format!("CAST({expr} AS {})", sql_type_name(&to));
                return Err(fill_expr_text(cast_mismatch(&from, &to, ansi), &text));
            }
            let mode = match mode {
                CastMode::Ansi if !ansi => CastMode::Legacy,
                m => m,
            };
            Expr::Cast { expr, to, mode }
        }
        Expr::Case {
            operand,
            branches,
            otherwise,
        } => {
            let mut value_types: Vec<DataType> = Vec::new();
            for (_, t) in &branches {
                value_types.push(t.data_type(schema)?);
            }
            if let Some(o) = &otherwise {
                value_types.push(o.data_type(schema)?);
            }
            let target = common_type_for("casewhen", &value_types, ansi)?;
            // `CASE x WHEN v ...` compares x with each v: coerce those pairs too.
            let operand_target = match &operand {
                Some(o) => {
                    let mut ts = vec![o.data_type(schema)?];
                    for (w, _) in &branches {
                        ts.push(w.data_type(schema)?);
                    }
                    Some(common_type_for("casewhen", &ts, ansi)?)
                }
                None => None,
            };
            let mut new_branches = Vec::with_capacity(branches.len());
            for (w, t) in branches {
                let wt = w.data_type(schema)?;
                let w = match &operand_target {
                    Some(ot) => w.implicit_cast(&wt, ot, ansi),
                    None => require(w, &wt, &DataType::Boolean, "CASE WHEN", ansi)?,
                };
                let tt = t.data_type(schema)?;
                new_branches.push((w, t.implicit_cast(&tt, &target, ansi)));
            }
            let operand = match (operand, &operand_target) {
                (Some(o), Some(ot)) => {
                    let t = o.data_type(schema)?;
                    Some(Box::new((*o).implicit_cast(&t, ot, ansi)))
                }
                (o, _) => o,
            };
            let otherwise = match otherwise {
                Some(o) => {
                    let t = o.data_type(schema)?;
                    Some(Box::new((*o).implicit_cast(&t, &target, ansi)))
                }
                None => None,
            };
            Expr::Case {
                operand,
                branches: new_branches,
                otherwise,
            }
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let mut types = vec![expr.data_type(schema)?];
            for l in &list {
                types.push(l.data_type(schema)?);
            }
            let target = common_type_for("in", &types, ansi)?;
            let et = types[0].clone();
            Expr::InList {
                expr: Box::new((*expr).implicit_cast(&et, &target, ansi)),
                list: list
                    .into_iter()
                    .zip(types.into_iter().skip(1))
                    .map(|(l, t)| l.implicit_cast(&t, &target, ansi))
                    .collect(),
                negated,
            }
        }
        Expr::Like {
            expr,
            pattern,
            kind,
            negated,
        } => {
            let et = expr.data_type(schema)?;
            let pt = pattern.data_type(schema)?;
            Expr::Like {
                expr: Box::new(to_string_arg(*expr, &et, ansi)),
                pattern: Box::new(to_string_arg(*pattern, &pt, ansi)),
                kind,
                negated,
            }
        }
        // `try_add(a, b)` and friends are coerced as `a + b` is.
        Expr::ScalarFunction { func, args }
            if crate::functions::try_arith::operator_of(func.as_ref()).is_some() =>
        {
            let op = crate::functions::try_arith::operator_of(func.as_ref())
                .ok_or_else(|| EngineError::Internal("not a try_* operator".into()))?;
            let types = args
                .iter()
                .map(|a| a.data_type(schema))
                .collect::<Result<Vec<_>>>()?;
            crate::functions::try_arith::coerce_call(func, op, args, &types, |e| {
                coerce_node(e, schema, ansi)
            })?
        }
        Expr::ScalarFunction { func, args } => {
            // Errors name the call as written (`sequence(1.0, 3.0)`), as Spark's do.
            let written = Expr::ScalarFunction {
                func: func.clone(),
                args: args.clone(),
            };
            let args = coerce_args(args, schema, ansi, |t| {
                let wanted = func.coerce_types(t)?;
                func.return_type(&wanted)?;
                Ok(wanted)
            })
            .map_err(|e| fill_expr_text(e, &written.to_string()))?;
            lazy_conditional(func.name(), args)
                .unwrap_or_else(|args| Expr::ScalarFunction { func, args })
        }
        Expr::AggregateFunction {
            func,
            args,
            distinct,
        } => {
            let args = coerce_args(args, schema, ansi, |t| {
                let wanted = func.coerce_types(t)?;
                func.return_type(&wanted)?;
                Ok(wanted)
            })?;
            Expr::AggregateFunction {
                func,
                args,
                distinct,
            }
        }
        other => other,
    })
}

/// Spark evaluates `if`, `coalesce` and friends lazily: `IF(b = 0, NULL, a / b)` never
/// divides by zero. Their coerced calls become the equivalent CASE, whose evaluator gives each
/// branch only the rows that reach it. Other calls are handed back unchanged.
fn lazy_conditional(name: &str, mut args: Vec<Expr>) -> std::result::Result<Expr, Vec<Expr>> {
    let case = |branches: Vec<(Expr, Expr)>, otherwise: Expr| Expr::Case {
        operand: None,
        branches,
        otherwise: Some(Box::new(otherwise)),
    };
    match (name, args.len()) {
        ("if", 3) => {
            let (c, a, b) = (args.remove(0), args.remove(0), args.remove(0));
            Ok(case(vec![(c, a)], b))
        }
        ("nvl2", 3) => {
            let (x, a, b) = (args.remove(0), args.remove(0), args.remove(0));
            Ok(case(vec![(x.is_not_null(), a)], b))
        }
        ("coalesce" | "nvl" | "ifnull", n) if n >= 2 => {
            let last = args.pop().ok_or_else(Vec::new)?;
            let branches = args
                .into_iter()
                .map(|a| (a.clone().is_not_null(), a))
                .collect();
            Ok(case(branches, last))
        }
        ("decode", n) if n >= 3 => Ok(crate::functions::charset::decode_as_case(args)),
        _ => Err(args),
    }
}

/// Casts a call's arguments to the types `wanted` asks for (given their current types),
/// which also checks that the call's return type resolves.
fn coerce_args(
    args: Vec<Expr>,
    schema: &PlanSchema,
    ansi: bool,
    wanted: impl FnOnce(&[DataType]) -> Result<Vec<DataType>>,
) -> Result<Vec<Expr>> {
    let types = args
        .iter()
        .map(|a| a.data_type(schema))
        .collect::<Result<Vec<_>>>()?;
    let targets = wanted(&types)?;
    Ok(args
        .into_iter()
        .zip(types.iter().zip(&targets))
        .map(|(a, (from, to))| a.implicit_cast(from, to, ansi))
        .collect())
}

fn to_string_arg(e: Expr, t: &DataType, ansi: bool) -> Expr {
    if is_string(t) {
        e
    } else {
        e.implicit_cast(t, &DataType::Utf8, ansi)
    }
}

fn require(e: Expr, got: &DataType, want: &DataType, ctx: &str, ansi: bool) -> Result<Expr> {
    if got == want {
        return Ok(e);
    }
    if *got == DataType::Null {
        return Ok(e.implicit_cast(got, want, ansi));
    }
    Err(type_mismatch(
        &format!("{ctx} {e}"),
        1,
        &sql_type_name(want),
        got,
    ))
}

fn type_mismatch(expr_text: &str, pos: usize, want: &str, got: &DataType) -> EngineError {
    EngineError::analysis(
        "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
        format!(
            "Cannot resolve \"{expr_text}\" due to data type mismatch: The {} parameter requires the \"{want}\" type, however \"{expr_text}\" has the type \"{}\". SQLSTATE: 42K09",
            crate::functions::ordinal(pos),
            sql_type_name(got)
        ),
    )
}

/// Puts the expression's text into a coercion error that was built without it.
fn fill_expr_text(err: EngineError, text: &str) -> EngineError {
    match err {
        EngineError::Analysis { class, message } => EngineError::Analysis {
            class,
            message: message.replace("{expr}", text),
        },
        other => other,
    }
}

/// Fails unless `e` (resolved over `schema`) is BOOLEAN.
pub fn expect_boolean(e: &Expr, schema: &PlanSchema, class: &str, what: &str) -> Result<()> {
    let t = e.data_type(schema)?;
    if t == DataType::Boolean || t == DataType::Null {
        return Ok(());
    }
    Err(EngineError::analysis(
        format!("DATATYPE_MISMATCH.{class}"),
        format!(
            "Cannot resolve \"{e}\" due to data type mismatch: the {what} expects a \"BOOLEAN\" type, but got \"{}\". SQLSTATE: 42K09",
            sql_type_name(&t)
        ),
    ))
}
