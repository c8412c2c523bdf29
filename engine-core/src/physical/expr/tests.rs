//! Evaluation tests of compiled expressions on small batches.

use std::sync::Arc;

use crate::Result;
use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int8Array, Int32Array,
    Int64Array, StringArray, StructArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;

use super::*;
use crate::expr::{BinaryOperator, CastMode, Column, Expr, LikeKind};
use crate::functions::FunctionContext;
use crate::scalar::ScalarValue;
use crate::schema::PlanSchema;
use crate::types::timestamp_type;

fn c(name: &str) -> Expr {
    Expr::Column(Column::new(None, name))
}

fn l(v: ScalarValue) -> Expr {
    Expr::Literal(v)
}

fn i32s(v: i32) -> Expr {
    l(ScalarValue::Int32(Some(v)))
}

fn s(v: &str) -> Expr {
    l(ScalarValue::Utf8(Some(v.into())))
}

fn bin(a: Expr, op: BinaryOperator, b: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(a),
        op,
        right: Box::new(b),
    }
}

fn cast(e: Expr, to: DataType, mode: CastMode) -> Expr {
    Expr::Cast {
        expr: Box::new(e),
        to,
        mode,
    }
}

fn batch(cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = cols
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        cols.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap()
}

fn ctx(ansi: bool, tz: &str) -> Arc<FunctionContext> {
    Arc::new(FunctionContext {
        time_zone: crate::format::parse_time_zone(tz).unwrap(),
        ansi,
        query_start_micros: 0,
        malformed_records: Default::default(),
    })
}

fn eval_with(e: &Expr, b: &RecordBatch, ctx: &Arc<FunctionContext>) -> Result<ArrayRef> {
    let schema = PlanSchema::from_arrow(None, &b.schema());
    let p = create_physical_expr(e, &schema, ctx)?;
    let out = p.evaluate(b)?.into_array(b.num_rows())?;
    assert_eq!(out.data_type(), p.data_type(), "{p}");
    assert_eq!(out.len(), b.num_rows());
    Ok(out)
}

fn eval(e: &Expr, b: &RecordBatch, ansi: bool) -> Result<ArrayRef> {
    eval_with(e, b, &ctx(ansi, "UTC"))
}

/// Each row as Spark-ish text (`NULL` for nulls).
fn show(a: &ArrayRef) -> Vec<String> {
    (0..a.len())
        .map(|i| {
            ScalarValue::try_from_array(a.as_ref(), i)
                .unwrap()
                .to_string()
        })
        .collect()
}

fn one_row() -> RecordBatch {
    batch(vec![("x", Arc::new(Int32Array::from(vec![1])) as ArrayRef)])
}

/// Evaluates a constant expression over a one-row batch.
fn constant(e: &Expr, ansi: bool) -> Result<String> {
    Ok(show(&eval(e, &one_row(), ansi)?).remove(0))
}

fn ints() -> RecordBatch {
    batch(vec![
        (
            "a",
            Arc::new(Int32Array::from(vec![
                Some(1),
                Some(i32::MAX),
                None,
                Some(-7),
            ])) as ArrayRef,
        ),
        (
            "b",
            Arc::new(Int32Array::from(vec![Some(2), Some(1), Some(3), Some(0)])),
        ),
    ])
}

#[test]
fn columns_and_literals() {
    let b = ints();
    assert_eq!(
        show(&eval(&c("a"), &b, true).unwrap()),
        ["1", "2147483647", "NULL", "-7"]
    );
    assert_eq!(
        show(&eval(&i32s(5), &b, true).unwrap()),
        ["5", "5", "5", "5"]
    );
    let aliased = Expr::Alias(Box::new(c("b")), "z".into());
    assert_eq!(
        show(&eval(&aliased, &b, true).unwrap()),
        ["2", "1", "3", "0"]
    );
}

#[test]
fn integer_overflow_fails_in_ansi_and_wraps_in_legacy() {
    let b = ints();
    let e = bin(c("a"), BinaryOperator::Plus, c("b"));
    let err = eval(&e, &b, true).unwrap_err().to_string();
    assert_eq!(
        err,
        "[ARITHMETIC_OVERFLOW] overflow. Use 'try_add' to tolerate overflow and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22003"
    );
    assert_eq!(
        show(&eval(&e, &b, false).unwrap()),
        ["3", "-2147483648", "NULL", "-7"]
    );
    let m = bin(c("a"), BinaryOperator::Multiply, c("a"));
    assert!(
        eval(&m, &b, true)
            .unwrap_err()
            .to_string()
            .contains("try_multiply")
    );
    let sub = bin(c("a"), BinaryOperator::Minus, c("b"));
    assert_eq!(
        show(&eval(&sub, &b, true).unwrap()),
        ["-1", "2147483646", "NULL", "-7"]
    );
}

#[test]
fn small_int_overflow_names_the_operands() {
    let b = batch(vec![(
        "t",
        Arc::new(Int8Array::from(vec![100i8])) as ArrayRef,
    )]);
    let e = bin(c("t"), BinaryOperator::Plus, c("t"));
    let err = eval(&e, &b, true).unwrap_err().to_string();
    assert!(
        err == "[BINARY_ARITHMETIC_OVERFLOW] 100S + 100S caused overflow. Use `try_add` to ignore overflow problem and return NULL. SQLSTATE: 22003",
        "{err}"
    );
    assert_eq!(show(&eval(&e, &b, false).unwrap()), ["-56"]);
}

#[test]
fn division_by_zero() {
    let b = ints();
    let a = cast(c("a"), DataType::Float64, CastMode::Ansi);
    let d = cast(c("b"), DataType::Float64, CastMode::Ansi);
    let e = bin(a.clone(), BinaryOperator::Divide, d.clone());
    assert_eq!(
        eval(&e, &b, true).unwrap_err().to_string(),
        "[DIVIDE_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22012"
    );
    assert_eq!(
        show(&eval(&e, &b, false).unwrap()),
        ["0.5", "2.147483647E9", "NULL", "NULL"]
    );
    // Integer operands of `/` still divide as doubles.
    let e = bin(c("a"), BinaryOperator::Divide, c("b"));
    assert_eq!(
        show(&eval(&e, &b, false).unwrap()),
        ["0.5", "2.147483647E9", "NULL", "NULL"]
    );
    let m = bin(c("a"), BinaryOperator::Modulo, c("b"));
    assert!(
        eval(&m, &b, true)
            .unwrap_err()
            .to_string()
            .starts_with("[REMAINDER_BY_ZERO]")
    );
    assert_eq!(
        show(&eval(&m, &b, false).unwrap()),
        ["1", "0", "NULL", "NULL"]
    );
    let la = cast(c("a"), DataType::Int64, CastMode::Ansi);
    let lb = cast(c("b"), DataType::Int64, CastMode::Ansi);
    let dv = bin(la, BinaryOperator::IntDivide, lb);
    assert!(
        eval(&dv, &b, true)
            .unwrap_err()
            .to_string()
            .starts_with("[DIVIDE_BY_ZERO]")
    );
    assert_eq!(
        show(&eval(&dv, &b, false).unwrap()),
        ["0", "2147483647", "NULL", "NULL"]
    );
    // A zero divisor with a NULL dividend still fails in ANSI mode (Spark checks it first).
    let nb = batch(vec![
        ("a", Arc::new(Int32Array::from(vec![None])) as ArrayRef),
        ("b", Arc::new(Int32Array::from(vec![Some(0)]))),
    ]);
    assert!(eval(&m, &nb, true).is_err());
}

#[test]
fn modulo_sign_follows_dividend() {
    let e = bin(i32s(-7), BinaryOperator::Modulo, i32s(3));
    assert_eq!(constant(&e, true).unwrap(), "-1");
    let e = bin(
        l(ScalarValue::Float64(Some(-7.5))),
        BinaryOperator::Modulo,
        l(ScalarValue::Float64(Some(2.0))),
    );
    assert_eq!(constant(&e, true).unwrap(), "-1.5");
    let e = bin(
        l(ScalarValue::Int64(Some(i64::MIN))),
        BinaryOperator::IntDivide,
        l(ScalarValue::Int64(Some(-1))),
    );
    assert!(
        constant(&e, true)
            .unwrap_err()
            .to_string()
            .contains("Overflow in integral divide")
    );
    assert_eq!(constant(&e, false).unwrap(), i64::MIN.to_string());
}

#[test]
fn decimal_arithmetic_follows_decimal_precision() {
    let d = |v: i128, p: u8, s: i8| l(ScalarValue::Decimal128(Some(v), p, s));
    let e = bin(d(150, 5, 2), BinaryOperator::Plus, d(25, 3, 1));
    let b = one_row();
    let out = eval(&e, &b, true).unwrap();
    assert_eq!(out.data_type(), &DataType::Decimal128(6, 2));
    assert_eq!(show(&out), ["4.00"]);
    let e = bin(d(100, 5, 2), BinaryOperator::Divide, d(3, 1, 0));
    let out = eval(&e, &b, true).unwrap();
    assert_eq!(out.data_type(), &DataType::Decimal128(9, 6));
    assert_eq!(show(&out), ["0.333333"]);
    let e = bin(d(150, 5, 2), BinaryOperator::Multiply, d(3, 1, 0));
    assert_eq!(constant(&e, true).unwrap(), "4.50");
    let e = bin(d(150, 5, 2), BinaryOperator::Divide, d(0, 1, 0));
    assert!(
        constant(&e, true)
            .unwrap_err()
            .to_string()
            .starts_with("[DIVIDE_BY_ZERO]")
    );
    assert_eq!(constant(&e, false).unwrap(), "NULL");
    let e = bin(d(99, 2, 0), BinaryOperator::Multiply, d(99, 2, 0));
    assert_eq!(constant(&e, true).unwrap(), "9801");
}

#[test]
fn kleene_logic() {
    let b = batch(vec![
        (
            "p",
            Arc::new(BooleanArray::from(vec![
                Some(true),
                Some(true),
                Some(true),
                Some(false),
                Some(false),
                None,
                None,
            ])) as ArrayRef,
        ),
        (
            "q",
            Arc::new(BooleanArray::from(vec![
                Some(true),
                Some(false),
                None,
                Some(false),
                None,
                None,
                Some(false),
            ])),
        ),
    ]);
    let and = bin(c("p"), BinaryOperator::And, c("q"));
    assert_eq!(
        show(&eval(&and, &b, true).unwrap()),
        ["true", "false", "NULL", "false", "false", "NULL", "false"]
    );
    let or = bin(c("p"), BinaryOperator::Or, c("q"));
    assert_eq!(
        show(&eval(&or, &b, true).unwrap()),
        ["true", "true", "true", "false", "NULL", "NULL", "NULL"]
    );
    let not = Expr::Not(Box::new(c("q")));
    assert_eq!(
        show(&eval(&not, &b, true).unwrap()),
        ["false", "true", "NULL", "true", "NULL", "NULL", "true"]
    );
    // A literal NULL operand.
    let e = bin(l(ScalarValue::Null), BinaryOperator::Or, c("p"));
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["true", "true", "true", "NULL", "NULL", "NULL", "NULL"]
    );
}

#[test]
fn comparisons_nan_zero_and_null_safe() {
    let b = batch(vec![
        (
            "x",
            Arc::new(Float64Array::from(vec![
                Some(f64::NAN),
                Some(-0.0),
                Some(1.0),
                None,
                Some(f64::NAN),
            ])) as ArrayRef,
        ),
        (
            "y",
            Arc::new(Float64Array::from(vec![
                Some(f64::NAN),
                Some(0.0),
                Some(f64::INFINITY),
                None,
                Some(1e300),
            ])),
        ),
    ]);
    let eq = bin(c("x"), BinaryOperator::Eq, c("y"));
    assert_eq!(
        show(&eval(&eq, &b, true).unwrap()),
        ["true", "true", "false", "NULL", "false"]
    );
    let gt = bin(c("x"), BinaryOperator::Gt, c("y"));
    assert_eq!(
        show(&eval(&gt, &b, true).unwrap()),
        ["false", "false", "false", "NULL", "true"]
    );
    let nse = bin(c("x"), BinaryOperator::NullSafeEq, c("y"));
    assert_eq!(
        show(&eval(&nse, &b, true).unwrap()),
        ["true", "true", "false", "true", "false"]
    );
    let e = bin(c("x"), BinaryOperator::NullSafeEq, l(ScalarValue::Null));
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["false", "false", "false", "true", "false"]
    );
    let e = bin(c("x"), BinaryOperator::Eq, l(ScalarValue::Null));
    assert_eq!(show(&eval(&e, &b, true).unwrap()), ["NULL"; 5]);
    // Strings compare by bytes.
    let e = bin(s("B"), BinaryOperator::Lt, s("a"));
    assert_eq!(constant(&e, true).unwrap(), "true");
    let e = bin(s("abc"), BinaryOperator::NotEq, s("abc"));
    assert_eq!(constant(&e, true).unwrap(), "false");
}

#[test]
fn concat_and_negation_and_null_tests() {
    let b = batch(vec![
        (
            "s",
            Arc::new(StringArray::from(vec![Some("a"), None])) as ArrayRef,
        ),
        (
            "n",
            Arc::new(Int32Array::from(vec![Some(i32::MIN), Some(3)])),
        ),
    ]);
    let e = bin(c("s"), BinaryOperator::StringConcat, s("-x"));
    assert_eq!(show(&eval(&e, &b, true).unwrap()), ["a-x", "NULL"]);
    let neg = Expr::Negative(Box::new(c("n")));
    assert!(
        eval(&neg, &b, true)
            .unwrap_err()
            .to_string()
            .starts_with("[ARITHMETIC_OVERFLOW] overflow. If necessary")
    );
    assert_eq!(show(&eval(&neg, &b, false).unwrap()), ["-2147483648", "-3"]);
    let isn = Expr::IsNull(Box::new(c("s")));
    assert_eq!(show(&eval(&isn, &b, true).unwrap()), ["false", "true"]);
    let nn = Expr::IsNotNull(Box::new(c("s")));
    assert_eq!(show(&eval(&nn, &b, true).unwrap()), ["true", "false"]);
    let nl = Expr::IsNull(Box::new(l(ScalarValue::Null)));
    assert_eq!(show(&eval(&nl, &b, true).unwrap()), ["true", "true"]);
}

#[test]
fn case_with_and_without_operand() {
    let b = ints();
    // CASE WHEN b = 0 THEN NULL ELSE a / b END never divides by zero.
    let e = Expr::Case {
        operand: None,
        branches: vec![(
            bin(c("b"), BinaryOperator::Eq, i32s(0)),
            l(ScalarValue::Float64(None)),
        )],
        otherwise: Some(Box::new(bin(
            cast(c("a"), DataType::Float64, CastMode::Ansi),
            BinaryOperator::Divide,
            cast(c("b"), DataType::Float64, CastMode::Ansi),
        ))),
    };
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["0.5", "2.147483647E9", "NULL", "NULL"]
    );
    // A NULL condition does not match; no ELSE gives NULL.
    let e = Expr::Case {
        operand: None,
        branches: vec![
            (bin(c("a"), BinaryOperator::Gt, i32s(0)), s("pos")),
            (bin(c("a"), BinaryOperator::Lt, i32s(0)), s("neg")),
        ],
        otherwise: None,
    };
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["pos", "pos", "NULL", "neg"]
    );
    // Operand form: the first equal WHEN wins; NULL operand matches nothing.
    let e = Expr::Case {
        operand: Some(Box::new(c("b"))),
        branches: vec![
            (i32s(1), s("one")),
            (i32s(2), s("two")),
            (i32s(1), s("uno")),
        ],
        otherwise: Some(Box::new(s("other"))),
    };
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["two", "one", "other", "other"]
    );
    let e = Expr::Case {
        operand: Some(Box::new(c("a"))),
        branches: vec![(i32s(1), s("one"))],
        otherwise: Some(Box::new(s("other"))),
    };
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["one", "other", "other", "other"]
    );
}

#[test]
fn in_list_is_three_valued() {
    let b = ints();
    let e = Expr::InList {
        expr: Box::new(c("a")),
        list: vec![i32s(2), l(ScalarValue::Int32(None))],
        negated: false,
    };
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["NULL", "NULL", "NULL", "NULL"]
    );
    let e = Expr::InList {
        expr: Box::new(c("a")),
        list: vec![i32s(1), l(ScalarValue::Int32(None))],
        negated: false,
    };
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["true", "NULL", "NULL", "NULL"]
    );
    let e = Expr::InList {
        expr: Box::new(c("a")),
        list: vec![i32s(1), c("b")],
        negated: true,
    };
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["false", "true", "NULL", "true"]
    );
    let e = Expr::InList {
        expr: Box::new(i32s(1)),
        list: vec![i32s(2), l(ScalarValue::Int32(None))],
        negated: false,
    };
    assert_eq!(constant(&e, true).unwrap(), "NULL");
}

fn like(e: Expr, p: Expr, kind: LikeKind, negated: bool) -> Expr {
    Expr::Like {
        expr: Box::new(e),
        pattern: Box::new(p),
        kind,
        negated,
    }
}

#[test]
fn like_patterns_and_escapes() {
    let b = batch(vec![(
        "s",
        Arc::new(StringArray::from(vec![
            Some("100%"),
            Some("100x"),
            Some("a_b"),
            Some("axb"),
            Some("line\nbreak"),
            None,
        ])) as ArrayRef,
    )]);
    let e = like(c("s"), s("100\\%"), LikeKind::Like, false);
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["true", "false", "false", "false", "false", "NULL"]
    );
    let e = like(c("s"), s("a\\_b"), LikeKind::Like, false);
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["false", "false", "true", "false", "false", "NULL"]
    );
    let e = like(c("s"), s("a_b"), LikeKind::Like, false);
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["false", "false", "true", "true", "false", "NULL"]
    );
    let e = like(c("s"), s("line%"), LikeKind::Like, false);
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["false", "false", "false", "false", "true", "NULL"]
    );
    let e = like(c("s"), s("A%"), LikeKind::ILike, true);
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["true", "true", "false", "false", "true", "NULL"]
    );
    let e = like(c("s"), s("^\\d+"), LikeKind::RLike, false);
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["true", "true", "false", "false", "false", "NULL"]
    );
    let e = like(c("s"), s("x"), LikeKind::RLike, false);
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["false", "true", "false", "true", "false", "NULL"]
    );
    let e = like(c("s"), s("a\\b"), LikeKind::Like, false);
    assert!(
        eval(&e, &b, true)
            .unwrap_err()
            .to_string()
            .contains("not allowed to precede 'b'")
    );
    // Per-row patterns.
    let e = like(s("abc"), c("s"), LikeKind::Like, false);
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["false", "false", "false", "false", "false", "NULL"]
    );
}

#[test]
fn struct_fields() {
    let inner = StructArray::from(vec![
        (
            Arc::new(Field::new("id", DataType::Int32, true)),
            Arc::new(Int32Array::from(vec![Some(1), Some(2), None])) as ArrayRef,
        ),
        (
            Arc::new(Field::new("name", DataType::Utf8, true)),
            Arc::new(StringArray::from(vec!["a", "b", "c"])) as ArrayRef,
        ),
    ]);
    let (fields, cols, _) = inner.into_parts();
    let with_nulls = StructArray::new(
        fields,
        cols,
        Some(arrow::buffer::NullBuffer::from(vec![true, false, true])),
    );
    let b = batch(vec![("u", Arc::new(with_nulls) as ArrayRef)]);
    let e = Expr::GetField {
        expr: Box::new(c("u")),
        name: "name".into(),
    };
    assert_eq!(show(&eval(&e, &b, true).unwrap()), ["a", "NULL", "c"]);
    let e = Expr::GetField {
        expr: Box::new(c("u")),
        name: "ID".into(),
    };
    assert_eq!(show(&eval(&e, &b, true).unwrap()), ["1", "NULL", "NULL"]);
    let e = cast(c("u"), DataType::Utf8, CastMode::Ansi);
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["{1, a}", "NULL", "{null, c}"]
    );
}

#[test]
fn unresolved_and_aggregates_are_internal_errors() {
    let b = one_row();
    let e = Expr::UnresolvedColumn(vec!["x".into()]);
    assert!(matches!(
        eval(&e, &b, true),
        Err(crate::EngineError::Internal(_))
    ));
}

// ---------------------------------------------------------------------------------------
// CAST

fn cast_str(v: &str, to: DataType, mode: CastMode) -> Result<String> {
    constant(&cast(s(v), to, mode), true)
}

#[test]
fn string_to_int() {
    use CastMode::*;
    assert_eq!(cast_str(" 42 ", DataType::Int32, Ansi).unwrap(), "42");
    assert_eq!(
        cast_str("-2147483648", DataType::Int32, Ansi).unwrap(),
        "-2147483648"
    );
    assert_eq!(cast_str("+7", DataType::Int64, Ansi).unwrap(), "7");
    assert_eq!(
        cast_str("abc", DataType::Int32, Ansi)
            .unwrap_err()
            .to_string(),
        "[CAST_INVALID_INPUT] The value 'abc' of the type \"STRING\" cannot be cast to \"INT\" because it is malformed. Correct the value as per the syntax, or change its target type. Use `try_cast` to tolerate malformed input and return NULL instead. SQLSTATE: 22018"
    );
    assert_eq!(cast_str("abc", DataType::Int32, Legacy).unwrap(), "NULL");
    assert_eq!(cast_str("abc", DataType::Int32, Try).unwrap(), "NULL");
    // Out of range strings are malformed, not overflows.
    assert!(
        cast_str("2147483648", DataType::Int32, Ansi)
            .unwrap_err()
            .to_string()
            .starts_with("[CAST_INVALID_INPUT]")
    );
    assert_eq!(
        cast_str("2147483648", DataType::Int32, Legacy).unwrap(),
        "NULL"
    );
    // Legacy casts drop a fractional part; ANSI rejects it.
    assert_eq!(cast_str("1.9", DataType::Int32, Legacy).unwrap(), "1");
    assert!(cast_str("1.9", DataType::Int32, Ansi).is_err());
    assert_eq!(cast_str("300", DataType::Int8, Legacy).unwrap(), "NULL");
    assert!(cast_str("", DataType::Int32, Ansi).is_err());
    assert!(cast_str("-", DataType::Int32, Ansi).is_err());
}

#[test]
fn string_to_fractional_and_decimal() {
    use CastMode::*;
    assert_eq!(cast_str("1.5", DataType::Float64, Ansi).unwrap(), "1.5");
    assert_eq!(
        cast_str(" 1e3\t", DataType::Float64, Ansi).unwrap(),
        "1000.0"
    );
    assert_eq!(
        cast_str("-Infinity", DataType::Float64, Ansi).unwrap(),
        "-Infinity"
    );
    assert_eq!(cast_str("NaN", DataType::Float64, Ansi).unwrap(), "NaN");
    assert_eq!(cast_str("1.5d", DataType::Float64, Ansi).unwrap(), "1.5");
    assert!(cast_str("1.5x", DataType::Float64, Ansi).is_err());
    assert_eq!(cast_str("0.1", DataType::Float32, Ansi).unwrap(), "0.1");
    assert_eq!(
        cast_str("12.345", DataType::Decimal128(5, 2), Ansi).unwrap(),
        "12.35"
    );
    assert_eq!(
        cast_str("-12.345", DataType::Decimal128(5, 2), Ansi).unwrap(),
        "-12.35"
    );
    assert_eq!(
        cast_str("1e2", DataType::Decimal128(5, 2), Ansi).unwrap(),
        "100.00"
    );
    let e = cast_str("12345", DataType::Decimal128(5, 2), Ansi)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("[NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION]  12345 cannot be represented as Decimal(5, 2)"), "{e}");
    assert_eq!(
        cast_str("12345", DataType::Decimal128(5, 2), Legacy).unwrap(),
        "NULL"
    );
    assert!(
        cast_str("x", DataType::Decimal128(5, 2), Ansi)
            .unwrap_err()
            .to_string()
            .contains("\"DECIMAL(5,2)\"")
    );
}

#[test]
fn string_to_boolean() {
    use CastMode::*;
    for t in ["t", "TRUE", " yes ", "Y", "1"] {
        assert_eq!(cast_str(t, DataType::Boolean, Ansi).unwrap(), "true", "{t}");
    }
    for f in ["f", "false", "No", "n", "0"] {
        assert_eq!(
            cast_str(f, DataType::Boolean, Ansi).unwrap(),
            "false",
            "{f}"
        );
    }
    assert!(cast_str("maybe", DataType::Boolean, Ansi).is_err());
    assert_eq!(
        cast_str("maybe", DataType::Boolean, Legacy).unwrap(),
        "NULL"
    );
}

#[test]
fn string_to_date_and_timestamp() {
    use CastMode::*;
    let date = |v: &str| cast_str(v, DataType::Date32, Ansi);
    assert_eq!(date("2020-01-01").unwrap(), "DATE '2020-01-01'");
    assert_eq!(date(" 2020-1-5 ").unwrap(), "DATE '2020-01-05'");
    assert_eq!(date("2020-03").unwrap(), "DATE '2020-03-01'");
    assert_eq!(date("2020").unwrap(), "DATE '2020-01-01'");
    assert_eq!(date("2020-01-01 12:34:56").unwrap(), "DATE '2020-01-01'");
    assert_eq!(date("2020-01-01T12:00").unwrap(), "DATE '2020-01-01'");
    assert!(date("2020-02-30").is_err());
    assert!(date("20-01-01").is_err());
    assert_eq!(cast_str("nope", DataType::Date32, Legacy).unwrap(), "NULL");

    let ts_text = |v: &str, tz: &str| -> Result<String> {
        let e = cast(cast(s(v), timestamp_type(), Ansi), DataType::Utf8, Ansi);
        Ok(show(&eval_with(&e, &one_row(), &ctx(true, tz))?).remove(0))
    };
    assert_eq!(ts_text("2020-01-01", "UTC").unwrap(), "2020-01-01 00:00:00");
    assert_eq!(
        ts_text("2020-01-01 10:00:00", "UTC").unwrap(),
        "2020-01-01 10:00:00"
    );
    assert_eq!(
        ts_text("2020-01-01T10:00:00.123456", "UTC").unwrap(),
        "2020-01-01 10:00:00.123456"
    );
    assert_eq!(
        ts_text("2020-01-01 10:00:00.5", "UTC").unwrap(),
        "2020-01-01 10:00:00.5"
    );
    assert_eq!(
        ts_text("2020-01-01 10:00", "UTC").unwrap(),
        "2020-01-01 10:00:00"
    );
    assert_eq!(
        ts_text("2020-01-01T10:00:00Z", "America/Los_Angeles").unwrap(),
        "2020-01-01 02:00:00"
    );
    assert_eq!(
        ts_text("2020-01-01T10:00:00+02:00", "UTC").unwrap(),
        "2020-01-01 08:00:00"
    );
    assert_eq!(
        ts_text("2020-01-01 10:00:00 -0530", "UTC").unwrap(),
        "2020-01-01 15:30:00"
    );
    assert_eq!(
        ts_text("2020-07-01 10:00:00 Europe/Berlin", "UTC").unwrap(),
        "2020-07-01 08:00:00"
    );
    // Every offset spelling Spark accepts: `-0800`, `+2`, `GMT+1`, `UTC-03:00`, half hours.
    for (text, want) in [
        ("2020-01-01T10:00:00-0800", "2020-01-01 18:00:00"),
        ("2020-01-01T10:00:00+2", "2020-01-01 08:00:00"),
        ("2020-01-01 10:00:00 GMT+1", "2020-01-01 09:00:00"),
        ("2020-01-01 10:00:00 UTC-03:00", "2020-01-01 13:00:00"),
        ("2020-01-01T10:00:00+05:30", "2020-01-01 04:30:00"),
        ("2020-01-01T10:00:00-00:00", "2020-01-01 10:00:00"),
    ] {
        assert_eq!(ts_text(text, "UTC").unwrap(), want, "{text}");
    }
    assert_eq!(
        ts_text("2020-07-01 10:00:00UTC", "Europe/Berlin").unwrap(),
        "2020-07-01 12:00:00"
    );
    // Zone-less text is in the session zone.
    let e = cast(s("2020-01-01 00:00:00"), timestamp_type(), Ansi);
    let out = eval_with(&e, &one_row(), &ctx(true, "America/Los_Angeles")).unwrap();
    let v = out
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .unwrap()
        .value(0);
    assert_eq!(v, 1_577_865_600_000_000);
    assert!(ts_text("2020-01-01 25:00:00", "UTC").is_err());
    assert!(ts_text("2020-01-01T", "UTC").is_err());
    // Time-only text is on the query's date (query start 0 = 1970-01-01 here).
    assert_eq!(ts_text("10:00:00", "UTC").unwrap(), "1970-01-01 10:00:00");
    assert_eq!(ts_text("T10:00", "UTC").unwrap(), "1970-01-01 10:00:00");
    assert!(ts_text("T", "UTC").is_err());
    assert_eq!(
        ts_text("2020-01-01 ", "UTC").unwrap(),
        "2020-01-01 00:00:00"
    );
    assert!(
        ts_text("garbage", "UTC")
            .unwrap_err()
            .to_string()
            .contains("\"TIMESTAMP\"")
    );
}

#[test]
fn numbers_between_each_other() {
    use CastMode::*;
    let big = l(ScalarValue::Int32(Some(300)));
    let e = cast(big.clone(), DataType::Int8, Ansi);
    assert_eq!(
        constant(&e, true).unwrap_err().to_string(),
        "[CAST_OVERFLOW] The value 300 of the type \"INT\" cannot be cast to \"TINYINT\" due to an overflow. Use `try_cast` to tolerate overflow and return NULL instead. SQLSTATE: 22003"
    );
    assert_eq!(
        constant(&cast(big.clone(), DataType::Int8, Legacy), true).unwrap(),
        "44"
    );
    assert_eq!(
        constant(&cast(big, DataType::Int8, Try), true).unwrap(),
        "NULL"
    );
    let d = |v: f64| l(ScalarValue::Float64(Some(v)));
    assert_eq!(
        constant(&cast(d(-2.9), DataType::Int32, Ansi), true).unwrap(),
        "-2"
    );
    assert_eq!(
        constant(&cast(d(2.9), DataType::Int64, Ansi), true).unwrap(),
        "2"
    );
    let e = constant(&cast(d(1e10), DataType::Int32, Ansi), true)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("The value 1.0E10D of the type \"DOUBLE\""),
        "{e}"
    );
    assert_eq!(
        constant(&cast(d(1e10), DataType::Int32, Legacy), true).unwrap(),
        "2147483647"
    );
    assert_eq!(
        constant(&cast(d(f64::NAN), DataType::Int32, Legacy), true).unwrap(),
        "0"
    );
    let e = constant(&cast(d(f64::NAN), DataType::Int32, Ansi), true).unwrap_err();
    assert!(
        e.to_string()
            .contains("The value NaN of the type \"DOUBLE\""),
        "{e}"
    );
    let e = constant(&cast(d(1e10), DataType::Decimal128(4, 1), Ansi), true).unwrap_err();
    assert!(
        e.to_string()
            .contains("  10000000000 cannot be represented as Decimal(4, 1)"),
        "{e}"
    );
    assert_eq!(
        constant(&cast(d(1.25), DataType::Decimal128(4, 1), Ansi), true).unwrap(),
        "1.3"
    );
    assert_eq!(
        constant(&cast(d(0.1), DataType::Decimal128(4, 3), Ansi), true).unwrap(),
        "0.100"
    );
    assert!(constant(&cast(d(1e10), DataType::Decimal128(4, 1), Ansi), true).is_err());
    let dec = l(ScalarValue::Decimal128(Some(-12_345), 10, 2));
    assert_eq!(
        constant(&cast(dec.clone(), DataType::Int32, Ansi), true).unwrap(),
        "-123"
    );
    assert_eq!(
        constant(&cast(dec.clone(), DataType::Float64, Ansi), true).unwrap(),
        "-123.45"
    );
    assert_eq!(
        constant(&cast(dec.clone(), DataType::Decimal128(5, 1), Ansi), true).unwrap(),
        "-123.5"
    );
    assert!(constant(&cast(dec.clone(), DataType::Decimal128(3, 1), Ansi), true).is_err());
    assert_eq!(
        constant(&cast(dec, DataType::Decimal128(3, 1), Legacy), true).unwrap(),
        "NULL"
    );
    let i = l(ScalarValue::Int64(Some(12)));
    assert_eq!(
        constant(&cast(i.clone(), DataType::Decimal128(4, 2), Ansi), true).unwrap(),
        "12.00"
    );
    assert!(constant(&cast(i.clone(), DataType::Decimal128(2, 1), Ansi), true).is_err());
    assert_eq!(
        constant(&cast(i, DataType::Float64, Ansi), true).unwrap(),
        "12.0"
    );
    let t = l(ScalarValue::Boolean(Some(true)));
    assert_eq!(
        constant(&cast(t.clone(), DataType::Int32, Ansi), true).unwrap(),
        "1"
    );
    assert_eq!(
        constant(&cast(t, DataType::Float64, Ansi), true).unwrap(),
        "1.0"
    );
    assert_eq!(
        constant(&cast(d(0.0), DataType::Boolean, Ansi), true).unwrap(),
        "false"
    );
    assert_eq!(
        constant(&cast(i32s(-3), DataType::Boolean, Ansi), true).unwrap(),
        "true"
    );
}

#[test]
fn values_to_string() {
    use CastMode::*;
    let text = |e: Expr| constant(&cast(e, DataType::Utf8, Ansi), true).unwrap();
    assert_eq!(text(l(ScalarValue::Float64(Some(1.0)))), "1.0");
    assert_eq!(text(l(ScalarValue::Float64(Some(1e7)))), "1.0E7");
    assert_eq!(text(l(ScalarValue::Float32(Some(0.1)))), "0.1");
    assert_eq!(text(l(ScalarValue::Decimal128(Some(150), 5, 2))), "1.50");
    assert_eq!(text(l(ScalarValue::Boolean(Some(false)))), "false");
    assert_eq!(text(l(ScalarValue::Int64(Some(-5)))), "-5");
    assert_eq!(text(l(ScalarValue::Date32(Some(18262)))), "2020-01-01");
    assert_eq!(text(l(ScalarValue::Null)), "NULL");
    // Timestamps print in the session zone.
    let ts = cast(
        l(ScalarValue::TimestampMicros(
            Some(0),
            Some(Arc::from("UTC")),
        )),
        DataType::Utf8,
        Ansi,
    );
    let out = eval_with(&ts, &one_row(), &ctx(true, "America/Los_Angeles")).unwrap();
    assert_eq!(show(&out), ["1969-12-31 16:00:00"]);
    let arr =
        arrow::array::ListArray::from_iter_primitive::<arrow::datatypes::Int32Type, _, _>(vec![
            Some(vec![Some(1), None, Some(3)]),
        ]);
    let b = batch(vec![("l", Arc::new(arr) as ArrayRef)]);
    let e = cast(c("l"), DataType::Utf8, Ansi);
    assert_eq!(show(&eval(&e, &b, true).unwrap()), ["[1, null, 3]"]);
    let e = cast(c("l"), crate::types::list_of(DataType::Utf8), Ansi);
    assert_eq!(
        eval(&e, &b, true).unwrap().data_type(),
        &crate::types::list_of(DataType::Utf8)
    );
}

#[test]
fn datetime_casts() {
    use CastMode::*;
    let b = batch(vec![
        (
            "d",
            Arc::new(Date32Array::from(vec![Some(18262), None])) as ArrayRef,
        ),
        (
            "t",
            Arc::new(
                TimestampMicrosecondArray::from(vec![
                    Some(1_577_836_800_000_000 + 1_500_000),
                    Some(-1),
                ])
                .with_timezone("UTC"),
            ),
        ),
    ]);
    let la = ctx(true, "America/Los_Angeles");
    // DATE -> TIMESTAMP is local midnight in the session zone.
    let e = cast(cast(c("d"), timestamp_type(), Ansi), DataType::Utf8, Ansi);
    assert_eq!(
        show(&eval_with(&e, &b, &la).unwrap()),
        ["2020-01-01 00:00:00", "NULL"]
    );
    let e = cast(c("d"), timestamp_type(), Ansi);
    let out = eval_with(&e, &b, &la).unwrap();
    let v = out
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .unwrap();
    assert_eq!(v.value(0), 1_577_865_600_000_000);
    // TIMESTAMP -> DATE takes the date in the session zone.
    let e = cast(c("t"), DataType::Date32, Ansi);
    assert_eq!(
        show(&eval_with(&e, &b, &la).unwrap()),
        ["DATE '2019-12-31'", "DATE '1969-12-31'"]
    );
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["DATE '2020-01-01'", "DATE '1969-12-31'"]
    );
    // TIMESTAMP -> numbers: seconds since the epoch (floor for BIGINT).
    let e = cast(c("t"), DataType::Int64, Ansi);
    assert_eq!(show(&eval(&e, &b, true).unwrap()), ["1577836801", "-1"]);
    let e = cast(c("t"), DataType::Float64, Ansi);
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["1.5778368015E9", "-1.0E-6"]
    );
    let e = cast(cast(i32s(1), timestamp_type(), Ansi), DataType::Utf8, Ansi);
    assert_eq!(constant(&e, true).unwrap(), "1970-01-01 00:00:01");
    // Legacy DATE -> INT is NULL.
    let e = cast(c("d"), DataType::Int32, Legacy);
    assert_eq!(show(&eval(&e, &b, false).unwrap()), ["NULL", "NULL"]);
    let e = cast(c("t"), crate::types::timestamp_ntz_type(), Ansi);
    let out = eval_with(&cast(e, DataType::Utf8, Ansi), &b, &la).unwrap();
    assert_eq!(
        show(&out),
        ["2019-12-31 16:00:01.5", "1969-12-31 15:59:59.999999"]
    );
}

#[test]
fn scalar_inputs_stay_scalar() {
    let b = ints();
    let schema = PlanSchema::from_arrow(None, &b.schema());
    let e = bin(i32s(1), BinaryOperator::Plus, i32s(2));
    let p = create_physical_expr(&e, &schema, &ctx(true, "UTC")).unwrap();
    match p.evaluate(&b).unwrap() {
        ColumnarValue::Scalar(v) => assert_eq!(v, ScalarValue::Int32(Some(3))),
        other => panic!("expected a scalar, got {other:?}"),
    }
    let e = bin(c("a"), BinaryOperator::Lt, i32s(2));
    let out = eval(&e, &b, true).unwrap();
    assert_eq!(show(&out), ["true", "false", "NULL", "true"]);
    let e = bin(c("a"), BinaryOperator::Plus, l(ScalarValue::Int32(None)));
    assert_eq!(show(&eval(&e, &b, true).unwrap()), ["NULL"; 4]);
    let _ = (Int64Array::from(vec![1]), Decimal128Array::from(vec![1]));
}

#[test]
fn case_conditions_only_see_unmatched_rows() {
    let b = ints();
    let f = |e: Expr| cast(e, DataType::Float64, CastMode::Ansi);
    let d = |v: f64| l(ScalarValue::Float64(Some(v)));
    // The second WHEN divides by b: it must not see the row where b = 0.
    let e = Expr::Case {
        operand: None,
        branches: vec![
            (bin(c("b"), BinaryOperator::Eq, i32s(0)), d(-1.0)),
            (
                bin(
                    bin(f(c("a")), BinaryOperator::Divide, f(c("b"))),
                    BinaryOperator::Gt,
                    d(1.0),
                ),
                d(1.0),
            ),
        ],
        otherwise: Some(Box::new(d(0.0))),
    };
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["0.0", "1.0", "0.0", "-1.0"]
    );
    // Operand form with a computed WHEN value.
    let e = Expr::Case {
        operand: Some(Box::new(c("a"))),
        branches: vec![
            (bin(c("b"), BinaryOperator::Minus, i32s(1)), s("b-1")),
            (bin(c("b"), BinaryOperator::Minus, i32s(7)), s("b-7")),
        ],
        otherwise: None,
    };
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["b-1", "NULL", "NULL", "b-7"]
    );
    // Without the planner's hints every branch goes through the filtered path.
    let schema = PlanSchema::from_arrow(None, &b.schema());
    let cx = ctx(true, "UTC");
    let p = |e: &Expr| create_physical_expr(e, &schema, &cx).unwrap();
    let plain = CaseExpr::new(
        None,
        vec![(p(&bin(c("a"), BinaryOperator::Gt, i32s(1))), p(&s("big")))],
        Some(p(&s("small"))),
        DataType::Utf8,
    );
    let out = plain.evaluate(&b).unwrap().into_array(4).unwrap();
    assert_eq!(show(&out), ["small", "big", "small", "small"]);
}

#[test]
fn long_in_lists_hash() {
    let b = ints();
    let list = |extra: Option<ScalarValue>| {
        let mut v: Vec<Expr> = (10..20).map(i32s).collect();
        v.push(i32s(-7));
        v.push(i32s(1));
        if let Some(x) = extra {
            v.push(l(x));
        }
        v
    };
    let e = Expr::InList {
        expr: Box::new(c("a")),
        list: list(None),
        negated: false,
    };
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["true", "false", "NULL", "true"]
    );
    let e = Expr::InList {
        expr: Box::new(c("a")),
        list: list(Some(ScalarValue::Int32(None))),
        negated: true,
    };
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["false", "NULL", "NULL", "false"]
    );
    let sb = batch(vec![(
        "s",
        Arc::new(StringArray::from(vec![Some("k3"), Some("zz"), None])) as ArrayRef,
    )]);
    let names: Vec<Expr> = (0..10).map(|i| s(&format!("k{i}"))).collect();
    let e = Expr::InList {
        expr: Box::new(c("s")),
        list: names,
        negated: false,
    };
    assert_eq!(
        show(&eval(&e, &sb, true).unwrap()),
        ["true", "false", "NULL"]
    );
    let fb = batch(vec![(
        "f",
        Arc::new(Float64Array::from(vec![-0.0, f64::NAN, 2.5])) as ArrayRef,
    )]);
    let mut fl: Vec<Expr> = (0..6)
        .map(|i| l(ScalarValue::Float64(Some(f64::from(i) + 0.5))))
        .collect();
    fl.push(l(ScalarValue::Float64(Some(0.0))));
    fl.push(l(ScalarValue::Float64(Some(f64::NAN))));
    let e = Expr::InList {
        expr: Box::new(c("f")),
        list: fl,
        negated: false,
    };
    assert_eq!(
        show(&eval(&e, &fb, true).unwrap()),
        ["true", "true", "true"]
    );
}

#[test]
fn nested_values_compare() {
    let arr = |v: Vec<Option<Vec<Option<i32>>>>| {
        Arc::new(arrow::array::ListArray::from_iter_primitive::<
            arrow::datatypes::Int32Type,
            _,
            _,
        >(v)) as ArrayRef
    };
    let b = batch(vec![
        (
            "x",
            arr(vec![
                Some(vec![Some(1), Some(2)]),
                Some(vec![Some(1)]),
                None,
            ]),
        ),
        (
            "y",
            arr(vec![
                Some(vec![Some(1), Some(2)]),
                Some(vec![Some(1), Some(0)]),
                None,
            ]),
        ),
    ]);
    let e = bin(c("x"), BinaryOperator::Eq, c("y"));
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["true", "false", "NULL"]
    );
    let e = bin(c("x"), BinaryOperator::Lt, c("y"));
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["false", "true", "NULL"]
    );
    let e = bin(c("x"), BinaryOperator::NullSafeEq, c("y"));
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["true", "false", "true"]
    );
    // CASE with an operand of a float type treats -0.0 as 0.0.
    let e = Expr::Case {
        operand: Some(Box::new(l(ScalarValue::Float64(Some(-0.0))))),
        branches: vec![(l(ScalarValue::Float64(Some(0.0))), s("zero"))],
        otherwise: Some(Box::new(s("other"))),
    };
    assert_eq!(constant(&e, true).unwrap(), "zero");
}

#[test]
fn date_plus_days() {
    let d = l(ScalarValue::Date32(Some(18262)));
    let e = bin(d.clone(), BinaryOperator::Plus, i32s(31));
    assert_eq!(constant(&e, true).unwrap(), "DATE '2020-02-01'");
    let e = bin(d.clone(), BinaryOperator::Minus, i32s(1));
    assert_eq!(constant(&e, true).unwrap(), "DATE '2019-12-31'");
    let e = bin(i32s(1), BinaryOperator::Plus, d);
    assert_eq!(constant(&e, true).unwrap(), "DATE '2020-01-02'");
    use crate::expr::coercion::coerce_binary;
    assert_eq!(
        coerce_binary(
            BinaryOperator::Plus,
            &DataType::Date32,
            &DataType::Int16,
            true
        )
        .unwrap(),
        (DataType::Date32, DataType::Int32)
    );
}

#[test]
fn timestamp_units_and_zone_labels() {
    let ns = arrow::array::TimestampNanosecondArray::from(vec![Some(1_500_000_000i64), None])
        .with_timezone("UTC");
    let b = batch(vec![("t", Arc::new(ns) as ArrayRef)]);
    let e = cast(c("t"), DataType::Utf8, CastMode::Ansi);
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["1970-01-01 00:00:01.5", "NULL"]
    );
    let e = cast(c("t"), timestamp_type(), CastMode::Ansi);
    let out = eval(&e, &b, true).unwrap();
    let t = out
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .unwrap();
    assert_eq!(t.value(0), 1_500_000);
    let berlin = DataType::Timestamp(
        arrow::datatypes::TimeUnit::Microsecond,
        Some("Europe/Berlin".into()),
    );
    let e = cast(
        cast(c("t"), berlin, CastMode::Ansi),
        timestamp_type(),
        CastMode::Ansi,
    );
    let out = eval(&e, &b, true).unwrap();
    let t = out
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .unwrap();
    assert_eq!(t.value(0), 1_500_000);
}

#[test]
fn maps_and_structs_cast_to_declared_types() {
    let m = crate::types::map_of(DataType::Utf8, DataType::Int32);
    let keys = StringArray::from(vec!["a", "b"]);
    let values = Int32Array::from(vec![Some(1), None]);
    let entries = StructArray::from(vec![
        (
            Arc::new(Field::new("key", DataType::Utf8, false)),
            Arc::new(keys) as ArrayRef,
        ),
        (
            Arc::new(Field::new("value", DataType::Int32, true)),
            Arc::new(values) as ArrayRef,
        ),
    ]);
    let DataType::Map(entries_field, _) = &m else {
        unreachable!()
    };
    let map = arrow::array::MapArray::try_new(
        entries_field.clone(),
        arrow::buffer::OffsetBuffer::new(vec![0, 2].into()),
        entries,
        None,
        false,
    )
    .unwrap();
    let b = batch(vec![("m", Arc::new(map) as ArrayRef)]);
    let e = cast(c("m"), DataType::Utf8, CastMode::Ansi);
    assert_eq!(show(&eval(&e, &b, true).unwrap()), ["{a -> 1, b -> null}"]);
    let to = crate::types::map_of(DataType::Utf8, DataType::Int64);
    let e = cast(c("m"), to.clone(), CastMode::Ansi);
    assert_eq!(eval(&e, &b, true).unwrap().data_type(), &to);
    let st = crate::types::parse_data_type("STRUCT<x: BIGINT, y: STRING>").unwrap();
    let src = crate::types::parse_data_type("STRUCT<a: INT, b: INT>").unwrap();
    let e = cast(
        cast(l(ScalarValue::Null), src, CastMode::Ansi),
        st.clone(),
        CastMode::Ansi,
    );
    assert_eq!(eval(&e, &one_row(), true).unwrap().data_type(), &st);
}

#[test]
fn ilike_with_escapes_is_case_insensitive() {
    let b = batch(vec![(
        "s",
        Arc::new(StringArray::from(vec![Some("ÄB_c"), Some("äbxc"), None])) as ArrayRef,
    )]);
    let e = like(c("s"), s("äb\\_C"), LikeKind::ILike, false);
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["true", "false", "NULL"]
    );
    let e = like(c("s"), s("äb\\_C"), LikeKind::ILike, true);
    assert_eq!(
        show(&eval(&e, &b, true).unwrap()),
        ["false", "true", "NULL"]
    );
}

#[test]
fn binary_to_string_keeps_valid_utf8_and_replaces_invalid_bytes() {
    use arrow::array::{Array, AsArray, BinaryArray};
    let valid: ArrayRef = Arc::new(BinaryArray::from(vec![
        Some(&b"{\"a\":1}"[..]),
        None,
        Some("h\u{e9}llo".as_bytes()),
    ]));
    let f = FunctionContext::default();
    let out = cast::cast_array(&valid, &DataType::Utf8, CastMode::Ansi, &f).unwrap();
    let out = out.as_string::<i32>();
    assert_eq!(out.value(0), "{\"a\":1}");
    assert!(out.is_null(1));
    assert_eq!(out.value(2), "h\u{e9}llo");
    // Zero-copy: the string array shares the binary array's value buffer.
    assert_eq!(
        out.values().as_ptr(),
        valid.as_binary::<i32>().values().as_ptr()
    );
    // A row with invalid UTF-8 gets U+FFFD, the others stay as they are.
    let mixed: ArrayRef = Arc::new(BinaryArray::from(vec![
        Some(&b"ok"[..]),
        Some(&[0x66, 0xff, 0x6f][..]),
    ]));
    let out = cast::cast_array(&mixed, &DataType::Utf8, CastMode::Ansi, &f).unwrap();
    let out = out.as_string::<i32>();
    assert_eq!(out.value(0), "ok");
    assert_eq!(out.value(1), "f\u{fffd}o");
}
