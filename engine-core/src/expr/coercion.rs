//! Spark's implicit type coercion rules, as pure functions of types.
//!
//! Spark 4 runs with `spark.sql.ansi.enabled=true` and then uses `AnsiTypeCoercion`; with
//! ANSI off it uses the older `TypeCoercion`. The two differ mostly in how strings meet
//! other types: ANSI promotes a string to BIGINT (against an integral), DOUBLE (against a
//! fractional) or to the other atomic type, legacy mode casts it to the other side's type in
//! comparisons, to DOUBLE in arithmetic and lets numbers widen to STRING in `common_type`.
//!
//! Error messages name the failing expression (`Cannot resolve "(a + b)"`), which these
//! type-only functions do not know: they write [`EXPR_PLACEHOLDER`] instead and the analyzer
//! fills it in with [`with_expression`].

use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::datatypes::{DataType, Field, Fields, TimeUnit};

use crate::expr::BinaryOperator;
use crate::types::{is_numeric, is_string, sql_type_name};

/// Stands for the SQL text of the failing expression in coercion error messages; replace it
/// with [`with_expression`].
pub const EXPR_PLACEHOLDER: &str = "{expr}";

/// Replaces [`EXPR_PLACEHOLDER`] in an analysis error's message with `sql` (the expression's
/// Spark SQL text, e.g. `(a + b)`); other errors are returned unchanged.
pub fn with_expression(err: EngineError, sql: &str) -> EngineError {
    match err {
        EngineError::Analysis { class, message } => EngineError::Analysis {
            class,
            message: message.replace(EXPR_PLACEHOLDER, sql),
        },
        other => other,
    }
}

/// The types to cast the left and right operands of `op` to, or Spark's
/// `DATATYPE_MISMATCH` error (with [`EXPR_PLACEHOLDER`] for the expression text).
///
/// The result type of the operation is [`binary_result_type`] of the returned types.
pub fn coerce_binary(
    op: BinaryOperator,
    left: &DataType,
    right: &DataType,
    ansi: bool,
) -> Result<(DataType, DataType)> {
    use BinaryOperator::*;
    if op.is_logical() {
        let ok = |t: &DataType| matches!(t, DataType::Boolean | DataType::Null);
        if ok(left) && ok(right) {
            return Ok((DataType::Boolean, DataType::Boolean));
        }
        if left == right || ok(left) || ok(right) {
            let bad = if ok(left) { right } else { left };
            return Err(wrong_type(op, "\"BOOLEAN\"", bad));
        }
        return Err(diff_types(left, right));
    }
    if op == StringConcat {
        let ok = |t: &DataType| !matches!(t, DataType::Struct(_) | DataType::Map(_, _));
        if matches!(left, DataType::Binary) && matches!(right, DataType::Binary) {
            return Ok((DataType::Binary, DataType::Binary));
        }
        if ok(left) && ok(right) && !is_nested(left) && !is_nested(right) {
            return Ok((DataType::Utf8, DataType::Utf8));
        }
        if left == right {
            return Ok((left.clone(), right.clone()));
        }
        return Err(diff_types(left, right));
    }
    if op.is_arithmetic() {
        return coerce_arithmetic(op, left, right, ansi);
    }
    coerce_comparison(left, right, ansi)
        .map(|t| (t.clone(), t))
        .ok_or_else(|| diff_types(left, right))
}

fn is_nested(t: &DataType) -> bool {
    matches!(
        t,
        DataType::List(_) | DataType::LargeList(_) | DataType::Struct(_) | DataType::Map(_, _)
    )
}

fn coerce_arithmetic(
    op: BinaryOperator,
    left: &DataType,
    right: &DataType,
    ansi: bool,
) -> Result<(DataType, DataType)> {
    use BinaryOperator::*;
    // Strings take part in arithmetic as numbers.
    let promote = |s: &DataType, other: &DataType| -> DataType {
        if !is_string(s) {
            return s.clone();
        }
        if ansi && is_integral(other) {
            DataType::Int64
        } else {
            DataType::Float64
        }
    };
    // `date + n` / `n + date` / `date - n` add days (Spark's DateAdd / DateSub).
    let small_int = |t: &DataType| matches!(t, DataType::Int8 | DataType::Int16 | DataType::Int32);
    match (op, left, right) {
        (Plus | Minus, DataType::Date32, n) if small_int(n) || *n == DataType::Null => {
            return Ok((DataType::Date32, DataType::Int32));
        }
        (Plus, n, DataType::Date32) if small_int(n) || *n == DataType::Null => {
            return Ok((DataType::Int32, DataType::Date32));
        }
        _ => {}
    }
    let (mut l, mut r) = (promote(left, right), promote(right, left));
    if l == DataType::Null && r == DataType::Null {
        l = DataType::Float64;
        r = DataType::Float64;
    } else if l == DataType::Null {
        l = r.clone();
    } else if r == DataType::Null {
        r = l.clone();
    }
    if !is_numeric(&l) || !is_numeric(&r) {
        if l == r {
            return Err(wrong_type(
                op,
                "(\"NUMERIC\" or \"INTERVAL DAY TO SECOND\" or \"INTERVAL YEAR TO MONTH\" or \"INTERVAL\")",
                &l,
            ));
        }
        return Err(diff_types(left, right));
    }
    let (l, r) = match (&l, &r) {
        (DataType::Decimal128(_, _), DataType::Decimal128(_, _)) => (l, r),
        (DataType::Decimal128(_, _), o) | (o, DataType::Decimal128(_, _)) if is_fractional(o) => {
            (DataType::Float64, DataType::Float64)
        }
        (DataType::Decimal128(_, _), o) => (l.clone(), integral_decimal(o)),
        (o, DataType::Decimal128(_, _)) => (integral_decimal(o), r.clone()),
        _ => {
            let t = wider_numeric(&l, &r);
            (t.clone(), t)
        }
    };
    Ok(match op {
        // `/` is fractional: integers divide as doubles.
        Divide if !matches!(l, DataType::Decimal128(_, _)) => {
            (DataType::Float64, DataType::Float64)
        }
        IntDivide => {
            if let (DataType::Decimal128(_, _), DataType::Decimal128(_, _)) = (&l, &r) {
                let t = wider_decimal(&l, &r);
                (t.clone(), t)
            } else if is_integral(&l) || !ansi {
                (DataType::Int64, DataType::Int64)
            } else {
                // ANSI does not cast fractions to BIGINT implicitly; Spark reports the
                // fractional side against the BIGINT the integral side became.
                let (a, b) = if is_integral(left) {
                    (DataType::Int64, r.clone())
                } else if is_integral(right) {
                    (l.clone(), DataType::Int64)
                } else {
                    (l.clone(), r.clone())
                };
                if a == b {
                    return Err(wrong_type(op, "(\"BIGINT\" or \"DECIMAL\")", &a));
                }
                return Err(diff_types(&a, &b));
            }
        }
        _ => (l, r),
    })
}

/// The type both sides of a comparison are cast to, if any.
fn coerce_comparison(left: &DataType, right: &DataType, ansi: bool) -> Option<DataType> {
    if left == right {
        return Some(left.clone());
    }
    if let Some(t) = tightest_common_type(left, right) {
        return Some(t);
    }
    if let Some(t) = decimal_common_type(left, right) {
        return Some(t);
    }
    // Legacy `BooleanEquality`: a boolean compares with a number as 1/0.
    if !ansi {
        match (left, right) {
            (DataType::Boolean, n) | (n, DataType::Boolean) if is_numeric(n) => {
                return Some(n.clone());
            }
            _ => {}
        }
    }
    let (s, other) = if is_string(left) {
        (left, right)
    } else if is_string(right) {
        (right, left)
    } else {
        return complex_common_type(left, right, &|a, b| coerce_comparison(a, b, ansi));
    };
    let _ = s;
    if ansi {
        string_promotion_ansi(other)
    } else {
        match other {
            DataType::Decimal128(_, _) => Some(DataType::Float64),
            DataType::Binary => None,
            t if is_atomic(t) => Some(t.clone()),
            _ => None,
        }
    }
}

/// ANSI: the type a string is promoted to when it meets `other` (`findWiderTypeForString`).
fn string_promotion_ansi(other: &DataType) -> Option<DataType> {
    match other {
        t if is_integral(t) => Some(DataType::Int64),
        t if is_fractional(t) || matches!(t, DataType::Decimal128(_, _)) => Some(DataType::Float64),
        DataType::Null => Some(DataType::Utf8),
        t if is_atomic(t) => Some(t.clone()),
        _ => None,
    }
}

/// The result type of `left op right` once the operands have the types
/// [`coerce_binary`] returned, following Spark (including `DecimalPrecision` for decimals).
pub fn binary_result_type(op: BinaryOperator, left: &DataType, right: &DataType) -> DataType {
    use BinaryOperator::*;
    if op.is_comparison() || op.is_logical() {
        return DataType::Boolean;
    }
    if let (Plus | Minus, DataType::Int32, DataType::Date32) = (op, left, right) {
        return DataType::Date32;
    }
    match op {
        StringConcat => {
            if *left == DataType::Binary {
                DataType::Binary
            } else {
                DataType::Utf8
            }
        }
        IntDivide => DataType::Int64,
        _ => match (left, right) {
            (DataType::Decimal128(p1, s1), DataType::Decimal128(p2, s2)) => {
                let (p1, s1, p2, s2) = (*p1 as i32, *s1 as i32, *p2 as i32, *s2 as i32);
                let (p, s) = match op {
                    Plus | Minus => {
                        let s = s1.max(s2);
                        (s + (p1 - s1).max(p2 - s2) + 1, s)
                    }
                    Multiply => (p1 + p2 + 1, s1 + s2),
                    Divide => {
                        let s = 6.max(s1 + p2 + 1);
                        (p1 - s1 + s2 + s, s)
                    }
                    _ => {
                        // Modulo.
                        let s = s1.max(s2);
                        ((p1 - s1).min(p2 - s2) + s, s)
                    }
                };
                adjust_decimal(p, s)
            }
            _ => left.clone(),
        },
    }
}

/// Spark's `DecimalType.adjustPrecisionScale` (with `allowPrecisionLoss=true`): results
/// wider than 38 digits lose scale, keeping at least 6 fractional digits.
fn adjust_decimal(p: i32, s: i32) -> DataType {
    if p <= 38 {
        return DataType::Decimal128(p as u8, s as i8);
    }
    let int_digits = p - s;
    let min_scale = s.min(6);
    let s = (38 - int_digits).max(min_scale);
    DataType::Decimal128(38, s as i8)
}

/// The one type every value of `types` converts to (CASE branches, IN lists, COALESCE,
/// UNION columns), or Spark's `DATATYPE_MISMATCH.DATA_DIFF_TYPES` error.
///
/// Uses the ANSI rules (Spark 4's default); [`common_type_with`] picks the mode.
pub fn common_type(types: &[DataType]) -> Result<DataType> {
    common_type_with(types, true)
}

/// [`common_type`] with explicit ANSI (`true`) or legacy (`false`) rules. In legacy mode a
/// string with a number (or date, ...) gives STRING; in ANSI mode the string is promoted to
/// the number's type (BIGINT / DOUBLE) or the datetime type.
pub fn common_type_with(types: &[DataType], ansi: bool) -> Result<DataType> {
    common_type_for(EXPR_PLACEHOLDER, types, ansi)
}

/// [`common_type_with`] whose error names Spark's function (`casewhen`, `in`, `coalesce`,
/// ...): `Input to `casewhen` should all be the same type, but it's ["INT", "BOOLEAN"]`.
pub fn common_type_for(function: &str, types: &[DataType], ansi: bool) -> Result<DataType> {
    let mut acc = DataType::Null;
    for t in types {
        match wider_type(&acc, t, ansi) {
            Some(w) => acc = w,
            None => {
                let names: Vec<String> = types
                    .iter()
                    .map(|t| format!("\"{}\"", sql_type_name(t)))
                    .collect();
                return Err(EngineError::analysis(
                    "DATATYPE_MISMATCH.DATA_DIFF_TYPES",
                    format!(
                        "Cannot resolve \"{EXPR_PLACEHOLDER}\" due to data type mismatch: Input to `{function}` should all be the same type, but it's [{}]. SQLSTATE: 42K09",
                        names.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(acc)
}

/// Spark's `findWiderTypeForTwo` (ANSI) / `findWiderTypeForTwo` with string promotion
/// (legacy).
fn wider_type(a: &DataType, b: &DataType, ansi: bool) -> Option<DataType> {
    if let Some(t) = tightest_common_type(a, b) {
        return Some(t);
    }
    if let Some(t) = decimal_common_type(a, b) {
        return Some(t);
    }
    if is_string(a) || is_string(b) {
        let other = if is_string(a) { b } else { a };
        if ansi {
            return string_promotion_ansi(other);
        }
        // Legacy `stringPromotion`: atomic values widen to STRING.
        return match other {
            DataType::Binary | DataType::Boolean => None,
            t if is_atomic(t) => Some(DataType::Utf8),
            _ => None,
        };
    }
    complex_common_type(a, b, &|x, y| wider_type(x, y, ansi))
}

/// Spark's `findTightestCommonType`: equal types, NULL, numeric widening (no decimals),
/// DATE with TIMESTAMP.
fn tightest_common_type(a: &DataType, b: &DataType) -> Option<DataType> {
    if a == b {
        return Some(a.clone());
    }
    match (a, b) {
        (DataType::Null, t) | (t, DataType::Null) => Some(t.clone()),
        (x, y) if is_numeric(x) && is_numeric(y) && !is_decimal(x) && !is_decimal(y) => {
            Some(wider_numeric(x, y))
        }
        (DataType::Date32, DataType::Timestamp(_, tz))
        | (DataType::Timestamp(_, tz), DataType::Date32) => {
            Some(DataType::Timestamp(TimeUnit::Microsecond, tz.clone()))
        }
        // TIMESTAMP_NTZ with TIMESTAMP gives TIMESTAMP.
        (DataType::Timestamp(_, x), DataType::Timestamp(_, y)) => Some(DataType::Timestamp(
            TimeUnit::Microsecond,
            x.clone().or_else(|| y.clone()),
        )),
        _ => None,
    }
}

/// Spark's `findWiderTypeForDecimal`.
fn decimal_common_type(a: &DataType, b: &DataType) -> Option<DataType> {
    match (a, b) {
        (DataType::Decimal128(_, _), DataType::Decimal128(_, _)) => Some(wider_decimal(a, b)),
        (DataType::Decimal128(_, _), o) | (o, DataType::Decimal128(_, _)) => {
            if is_integral(o) {
                let d = if is_decimal(a) { a } else { b };
                Some(wider_decimal(d, &integral_decimal(o)))
            } else if is_fractional(o) {
                Some(DataType::Float64)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn complex_common_type(
    a: &DataType,
    b: &DataType,
    f: &dyn Fn(&DataType, &DataType) -> Option<DataType>,
) -> Option<DataType> {
    match (a, b) {
        (DataType::List(x), DataType::List(y)) => {
            let t = f(x.data_type(), y.data_type())?;
            Some(DataType::List(Arc::new(Field::new(
                x.name(),
                t,
                x.is_nullable() || y.is_nullable(),
            ))))
        }
        (DataType::Struct(x), DataType::Struct(y)) if x.len() == y.len() => {
            let mut fields = Vec::with_capacity(x.len());
            for (fx, fy) in x.iter().zip(y.iter()) {
                if !fx.name().eq_ignore_ascii_case(fy.name()) {
                    return None;
                }
                let t = f(fx.data_type(), fy.data_type())?;
                fields.push(Field::new(
                    fx.name(),
                    t,
                    fx.is_nullable() || fy.is_nullable(),
                ));
            }
            Some(DataType::Struct(Fields::from(fields)))
        }
        _ => None,
    }
}

fn is_integral(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64
    )
}

fn is_fractional(t: &DataType) -> bool {
    matches!(t, DataType::Float32 | DataType::Float64)
}

fn is_decimal(t: &DataType) -> bool {
    matches!(t, DataType::Decimal128(_, _))
}

fn is_atomic(t: &DataType) -> bool {
    !is_nested(t) && *t != DataType::Null
}

fn numeric_rank(t: &DataType) -> u8 {
    match t {
        DataType::Int8 => 1,
        DataType::Int16 => 2,
        DataType::Int32 => 3,
        DataType::Int64 => 4,
        DataType::Float32 => 6,
        DataType::Float64 => 7,
        _ => 0,
    }
}

fn wider_numeric(a: &DataType, b: &DataType) -> DataType {
    if numeric_rank(a) >= numeric_rank(b) {
        a.clone()
    } else {
        b.clone()
    }
}

/// The decimal type that holds every value of an integral type (Spark's
/// `DecimalType.forType`).
pub fn integral_decimal(t: &DataType) -> DataType {
    match t {
        DataType::Int8 => DataType::Decimal128(3, 0),
        DataType::Int16 => DataType::Decimal128(5, 0),
        DataType::Int32 => DataType::Decimal128(10, 0),
        DataType::Int64 => DataType::Decimal128(20, 0),
        DataType::Float32 => DataType::Decimal128(14, 7),
        DataType::Float64 => DataType::Decimal128(30, 15),
        other => other.clone(),
    }
}

/// Spark's `DecimalPrecision.widerDecimalType`: enough integer and fractional digits for both.
fn wider_decimal(a: &DataType, b: &DataType) -> DataType {
    match (a, b) {
        (DataType::Decimal128(p1, s1), DataType::Decimal128(p2, s2)) => {
            let scale = (*s1).max(*s2) as i32;
            let range = (*p1 as i32 - *s1 as i32).max(*p2 as i32 - *s2 as i32);
            let p = (range + scale).min(38);
            let s = scale.min(38);
            DataType::Decimal128(p as u8, s as i8)
        }
        _ => a.clone(),
    }
}

fn diff_types(left: &DataType, right: &DataType) -> EngineError {
    EngineError::analysis(
        "DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES",
        format!(
            "Cannot resolve \"{EXPR_PLACEHOLDER}\" due to data type mismatch: the left and right operands of the binary operator have incompatible types (\"{}\" and \"{}\"). SQLSTATE: 42K09",
            sql_type_name(left),
            sql_type_name(right)
        ),
    )
}

fn wrong_type(op: BinaryOperator, expected: &str, got: &DataType) -> EngineError {
    let _ = op;
    EngineError::analysis(
        "DATATYPE_MISMATCH.BINARY_OP_WRONG_TYPE",
        format!(
            "Cannot resolve \"{EXPR_PLACEHOLDER}\" due to data type mismatch: the binary operator requires the input type {expected}, not \"{}\". SQLSTATE: 42K09",
            sql_type_name(got)
        ),
    )
}

/// Spark's error for a `CAST(from AS to)` that [`can_cast`] rejects, with
/// [`EXPR_PLACEHOLDER`] for the cast's SQL text: `CAST_WITH_FUNC_SUGGESTION` where a
/// function does the conversion, `CAST_WITH_CONF_SUGGESTION` when only ANSI mode forbids it,
/// `CAST_WITHOUT_SUGGESTION` otherwise.
pub fn cast_mismatch(from: &DataType, to: &DataType, ansi: bool) -> EngineError {
    let (f, t) = (sql_type_name(from), sql_type_name(to));
    let head = format!(
        "Cannot resolve \"{EXPR_PLACEHOLDER}\" due to data type mismatch: cannot cast \"{f}\" to \"{t}\""
    );
    let function = match (from, to) {
        (n, DataType::Date32) if is_numeric(n) => Some("DATE_FROM_UNIX_DATE"),
        (DataType::Date32, n) if is_numeric(n) => Some("UNIX_DATE"),
        _ => None,
    };
    if let Some(function) = function {
        return EngineError::analysis(
            "DATATYPE_MISMATCH.CAST_WITH_FUNC_SUGGESTION",
            format!(
                "{head}.\nTo convert values from \"{f}\" to \"{t}\", you can use the functions `{function}` instead. SQLSTATE: 42K09"
            ),
        );
    }
    if ansi && can_cast(from, to, false) {
        return EngineError::analysis(
            "DATATYPE_MISMATCH.CAST_WITH_CONF_SUGGESTION",
            format!(
                "{head} with ANSI mode on.\nIf you have to cast \"{f}\" to \"{t}\", you can set \"spark.sql.ansi.enabled\" as 'false'. SQLSTATE: 42K09"
            ),
        );
    }
    EngineError::analysis(
        "DATATYPE_MISMATCH.CAST_WITHOUT_SUGGESTION",
        format!("{head}. SQLSTATE: 42K09"),
    )
}

/// Whether an explicit `CAST(from AS to)` is allowed (Spark's `Cast.canCast` /
/// `canAnsiCast`).
pub fn can_cast(from: &DataType, to: &DataType, ansi: bool) -> bool {
    use DataType::*;
    if from == to {
        return true;
    }
    let numeric = |t: &DataType| is_numeric(t);
    let ts = |t: &DataType| matches!(t, Timestamp(_, Some(_)));
    let ntz = |t: &DataType| matches!(t, Timestamp(_, None));
    match (from, to) {
        (Null, _) => true,
        (_, t) if is_string(t) => true,
        (f, Binary) => is_string(f) || is_integral(f),
        (f, Boolean) => {
            is_string(f) || numeric(f) || (!ansi && (matches!(f, Date32) || ts(f) || ntz(f)))
        }
        (f, t) if ts(t) => {
            is_string(f)
                || matches!(f, Date32)
                || ntz(f)
                || numeric(f)
                || (!ansi && matches!(f, Boolean))
        }
        (f, t) if ntz(t) => is_string(f) || matches!(f, Date32) || ts(f),
        (f, Date32) => is_string(f) || ts(f) || ntz(f),
        (f, t) if numeric(t) => {
            is_string(f)
                || numeric(f)
                || matches!(f, Boolean)
                || ts(f)
                || (!ansi && matches!(f, Date32))
        }
        (List(a), List(b)) => can_cast(a.data_type(), b.data_type(), ansi),
        (Struct(a), Struct(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b.iter())
                    .all(|(x, y)| can_cast(x.data_type(), y.data_type(), ansi))
        }
        (Map(a, _), Map(b, _)) => can_cast(a.data_type(), b.data_type(), ansi),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::timestamp_type;
    use BinaryOperator::*;
    use DataType::*;

    #[test]
    fn numeric_widening() {
        assert_eq!(
            coerce_binary(Plus, &Int32, &Int64, true).unwrap(),
            (Int64, Int64)
        );
        assert_eq!(
            coerce_binary(Multiply, &Int8, &Float32, true).unwrap(),
            (Float32, Float32)
        );
        assert_eq!(
            coerce_binary(Plus, &Int32, &Decimal128(5, 2), true).unwrap(),
            (Decimal128(10, 0), Decimal128(5, 2))
        );
        assert_eq!(
            coerce_binary(Plus, &Float64, &Decimal128(5, 2), true).unwrap(),
            (Float64, Float64)
        );
        assert_eq!(
            coerce_binary(Plus, &Null, &Int16, true).unwrap(),
            (Int16, Int16)
        );
    }

    #[test]
    fn division_is_fractional() {
        assert_eq!(
            coerce_binary(Divide, &Int32, &Int32, true).unwrap(),
            (Float64, Float64)
        );
        assert_eq!(
            coerce_binary(Divide, &Decimal128(5, 2), &Int32, true).unwrap(),
            (Decimal128(5, 2), Decimal128(10, 0))
        );
        assert_eq!(
            coerce_binary(IntDivide, &Int32, &Int16, true).unwrap(),
            (Int64, Int64)
        );
        assert_eq!(binary_result_type(Divide, &Float64, &Float64), Float64);
        assert_eq!(
            binary_result_type(Divide, &Decimal128(5, 2), &Decimal128(10, 0)),
            Decimal128(16, 13)
        );
        assert_eq!(
            binary_result_type(Plus, &Decimal128(5, 2), &Decimal128(10, 0)),
            Decimal128(13, 2)
        );
        assert_eq!(
            binary_result_type(Multiply, &Decimal128(38, 10), &Decimal128(38, 10)),
            Decimal128(38, 6)
        );
    }

    #[test]
    fn strings_against_numbers() {
        // ANSI: the string becomes BIGINT against integrals, DOUBLE against fractionals.
        assert_eq!(
            coerce_binary(Eq, &Utf8, &Int32, true).unwrap(),
            (Int64, Int64)
        );
        assert_eq!(
            coerce_binary(Lt, &Float32, &Utf8, true).unwrap(),
            (Float64, Float64)
        );
        assert_eq!(
            coerce_binary(Eq, &Utf8, &Decimal128(5, 2), true).unwrap(),
            (Float64, Float64)
        );
        // Legacy: the string takes the other side's type in comparisons.
        assert_eq!(
            coerce_binary(Eq, &Utf8, &Int32, false).unwrap(),
            (Int32, Int32)
        );
        assert_eq!(
            coerce_binary(Plus, &Utf8, &Int32, false).unwrap(),
            (Float64, Float64)
        );
        assert_eq!(
            coerce_binary(Plus, &Utf8, &Int32, true).unwrap(),
            (Int64, Int64)
        );
    }

    #[test]
    fn datetimes() {
        assert_eq!(
            coerce_binary(Eq, &Utf8, &Date32, true).unwrap(),
            (Date32, Date32)
        );
        assert_eq!(
            coerce_binary(Lt, &Date32, &timestamp_type(), true).unwrap(),
            (timestamp_type(), timestamp_type())
        );
        assert_eq!(
            coerce_binary(GtEq, &timestamp_type(), &Utf8, false).unwrap(),
            (timestamp_type(), timestamp_type())
        );
    }

    #[test]
    fn mismatches_use_spark_messages() {
        let e = coerce_binary(Plus, &Int32, &Boolean, true).unwrap_err();
        let e = with_expression(e, "(a + b)").to_string();
        assert_eq!(
            e,
            "[DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES] Cannot resolve \"(a + b)\" due to data type mismatch: the left and right operands of the binary operator have incompatible types (\"INT\" and \"BOOLEAN\"). SQLSTATE: 42K09"
        );
        assert!(coerce_binary(And, &Int32, &Boolean, true).is_err());
        assert_eq!(
            coerce_binary(Or, &Null, &Boolean, true).unwrap(),
            (Boolean, Boolean)
        );
        assert!(coerce_binary(Eq, &Int32, &Boolean, true).is_err());
        assert_eq!(
            coerce_binary(Eq, &Int32, &Boolean, false).unwrap(),
            (Int32, Int32)
        );
        let e = coerce_binary(IntDivide, &Float64, &Int32, true).unwrap_err();
        assert!(e.to_string().contains("(\"DOUBLE\" and \"BIGINT\")"), "{e}");
        assert_eq!(
            coerce_binary(StringConcat, &Int32, &Utf8, true).unwrap(),
            (Utf8, Utf8)
        );
    }

    #[test]
    fn common_types() {
        assert_eq!(common_type(&[Int32, Null, Int64]).unwrap(), Int64);
        assert_eq!(common_type(&[Null, Null]).unwrap(), Null);
        assert_eq!(
            common_type(&[Int32, Decimal128(5, 2)]).unwrap(),
            Decimal128(12, 2)
        );
        assert_eq!(common_type_with(&[Int32, Utf8], false).unwrap(), Utf8);
        assert_eq!(common_type_with(&[Int32, Utf8], true).unwrap(), Int64);
        assert_eq!(
            common_type(&[Date32, timestamp_type()]).unwrap(),
            timestamp_type()
        );
        let e = common_type(&[Int32, Boolean]).unwrap_err().to_string();
        assert!(e.contains("DATA_DIFF_TYPES"), "{e}");
        let e = common_type_for("casewhen", &[Int32, Boolean], true).unwrap_err();
        assert_eq!(
            with_expression(e, "CASE WHEN true THEN 1 ELSE true END").to_string(),
            "[DATATYPE_MISMATCH.DATA_DIFF_TYPES] Cannot resolve \"CASE WHEN true THEN 1 ELSE true END\" due to data type mismatch: Input to `casewhen` should all be the same type, but it's [\"INT\", \"BOOLEAN\"]. SQLSTATE: 42K09"
        );
    }

    #[test]
    fn cast_errors_suggest_like_spark() {
        let e = with_expression(
            cast_mismatch(&Boolean, &timestamp_type(), true),
            "CAST(true AS TIMESTAMP)",
        );
        assert_eq!(
            e.to_string(),
            "[DATATYPE_MISMATCH.CAST_WITH_CONF_SUGGESTION] Cannot resolve \"CAST(true AS TIMESTAMP)\" due to data type mismatch: cannot cast \"BOOLEAN\" to \"TIMESTAMP\" with ANSI mode on.\nIf you have to cast \"BOOLEAN\" to \"TIMESTAMP\", you can set \"spark.sql.ansi.enabled\" as 'false'. SQLSTATE: 42K09"
        );
        let e = with_expression(cast_mismatch(&Int32, &Date32, true), "CAST(1 AS DATE)");
        assert_eq!(
            e.to_string(),
            "[DATATYPE_MISMATCH.CAST_WITH_FUNC_SUGGESTION] Cannot resolve \"CAST(1 AS DATE)\" due to data type mismatch: cannot cast \"INT\" to \"DATE\".\nTo convert values from \"INT\" to \"DATE\", you can use the functions `DATE_FROM_UNIX_DATE` instead. SQLSTATE: 42K09"
        );
        let e = cast_mismatch(&crate::types::list_of(Int32), &Int32, true).to_string();
        assert!(
            e.starts_with("[DATATYPE_MISMATCH.CAST_WITHOUT_SUGGESTION]"),
            "{e}"
        );
        assert!(
            e.ends_with("cannot cast \"ARRAY<INT>\" to \"INT\". SQLSTATE: 42K09"),
            "{e}"
        );
    }

    #[test]
    fn cast_tables() {
        assert!(can_cast(&Utf8, &Int32, true));
        assert!(can_cast(&Int32, &Utf8, true));
        assert!(can_cast(&Date32, &Int32, false));
        assert!(!can_cast(&Date32, &Int32, true));
        assert!(!can_cast(&Date32, &Boolean, true));
        assert!(can_cast(&Boolean, &timestamp_type(), false));
        assert!(!can_cast(&Boolean, &timestamp_type(), true));
        assert!(can_cast(&timestamp_type(), &Int64, true));
        assert!(!can_cast(&Int32, &Date32, false));
        assert!(can_cast(&Null, &Date32, true));
        assert!(can_cast(
            &crate::types::list_of(Int32),
            &crate::types::list_of(Utf8),
            true
        ));
    }
}
