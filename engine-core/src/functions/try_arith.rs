//! `try_add`, `try_subtract`, `try_multiply`, `try_divide` and `try_mod`: the arithmetic
//! operators with NULL instead of an overflow or division-by-zero error.
//!
//! Spark replaces them by the operator in its TRY evaluation mode, so they are typed exactly
//! as the operator: the analyzer coerces the two arguments as it would `a + b`
//! ([`coerce_call`]), and the physical planner runs the operator's kernel in its try mode
//! ([`TryArith::op`]). A string argument is converted as by `try_cast` (Spark evaluates
//! `try_add('a', 1)` inside `TryEval`, so a malformed number is NULL, not an error).
//! Datetime and interval operands (`try_add(timestamp, interval)`) become the expression the
//! analyzer makes of the operator, inside [`TryEval`] (errors become NULL row by row).

use std::sync::Arc;

use arrow::datatypes::DataType;

use super::{FunctionContext, ScalarFunction, wrong_num_args};
use crate::expr::coercion::{binary_result_type, coerce_binary};
use crate::expr::columnar::ColumnarValue;
use crate::expr::{BinaryOperator, CastMode, Expr};
use crate::types::is_string;
use crate::{EngineError, Result};

/// One of the `try_*` arithmetic functions: its operator, evaluated NULL-on-error.
#[derive(Debug, Clone)]
pub struct TryArith {
    name: &'static str,
    op: BinaryOperator,
}

impl TryArith {
    /// The operator the function stands for (`+` for `try_add`, `%` for `try_mod`).
    pub fn op(&self) -> BinaryOperator {
        self.op
    }
}

/// The operator behind `func` when it is one of the `try_*` arithmetic functions.
pub fn operator_of(func: &dyn ScalarFunction) -> Option<BinaryOperator> {
    func.as_any()
        .and_then(|a| a.downcast_ref::<TryArith>())
        .map(TryArith::op)
}

impl ScalarFunction for TryArith {
    fn name(&self) -> &str {
        self.name
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let [l, r] = args else {
            return Err(wrong_num_args(self.name, "2", args.len()));
        };
        let (l, r) = coerce_binary(self.op, l, r, true)?;
        Ok(vec![l, r])
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let [l, r] = args else {
            return Err(wrong_num_args(self.name, "2", args.len()));
        };
        Ok(match (self.op, l) {
            (BinaryOperator::Divide, l) if !matches!(l, DataType::Decimal128(_, _)) => {
                DataType::Float64
            }
            (op, l) => binary_result_type(op, l, r),
        })
    }

    fn invoke(&self, _: &[ColumnarValue], _: usize, _: &FunctionContext) -> Result<ColumnarValue> {
        // The physical planner compiles the call into the operator's kernel (try mode).
        Err(EngineError::Internal(format!(
            "{} is evaluated as its operator",
            self.name
        )))
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// The coerced call of a `try_*` function `func` whose operator is `op`: its arguments
/// coerced by `coerce_operands` (the analyzer's own coercion of `left op right`), with the
/// casts from string arguments made NULL-on-error. When the analyzer turns the operator
/// into another expression (datetimes with intervals, interval arithmetic), that expression
/// is wrapped in [`TryEval`], as Spark wraps it in `TryEval`.
pub fn coerce_call(
    func: Arc<dyn ScalarFunction>,
    op: BinaryOperator,
    args: Vec<Expr>,
    types: &[DataType],
    coerce_operands: impl FnOnce(Expr) -> Result<Expr>,
) -> Result<Expr> {
    let name = func.name().to_string();
    let (Ok([left, right]), [lt, rt]) = (<[Expr; 2]>::try_from(args), types) else {
        return Err(wrong_num_args(&name, "2", types.len()));
    };
    let coerced = coerce_operands(Expr::BinaryOp {
        left: Box::new(left),
        op,
        right: Box::new(right),
    })?;
    Ok(match coerced {
        Expr::BinaryOp { left, right, .. } => Expr::ScalarFunction {
            func,
            args: vec![try_string_cast(*left, lt), try_string_cast(*right, rt)],
        },
        other => Expr::ScalarFunction {
            func: Arc::new(TryEval { name }),
            args: vec![other],
        },
    })
}

/// Spark's `TryEval` around the expression a `try_*` call stands for: NULL on the rows
/// where it fails. Planned as `physical::expr::try_eval`; shown under the call's name.
#[derive(Debug, Clone)]
pub struct TryEval {
    name: String,
}

/// Whether `func` is a [`TryEval`].
pub fn is_try_eval(func: &dyn ScalarFunction) -> bool {
    func.as_any().is_some_and(|a| a.is::<TryEval>())
}

impl ScalarFunction for TryEval {
    fn name(&self) -> &str {
        &self.name
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        args.first()
            .cloned()
            .ok_or_else(|| EngineError::Internal("TryEval without its expression".into()))
    }

    fn invoke(&self, _: &[ColumnarValue], _: usize, _: &FunctionContext) -> Result<ColumnarValue> {
        Err(EngineError::Internal(format!(
            "{} is planned as TryEval",
            self.name
        )))
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// The implicit cast of an argument of type `from` made a `try_cast` when `from` is a
/// string (the only implicit casts here that can fail).
fn try_string_cast(e: Expr, from: &DataType) -> Expr {
    match e {
        Expr::Cast {
            expr,
            to,
            mode: CastMode::Ansi,
        } if is_string(from) => Expr::Cast {
            expr,
            to,
            mode: CastMode::Try,
        },
        e => e,
    }
}

/// The registry entries.
pub fn functions() -> Vec<(&'static str, std::sync::Arc<dyn ScalarFunction>)> {
    use BinaryOperator::*;
    [
        ("try_add", Plus),
        ("try_subtract", Minus),
        ("try_multiply", Multiply),
        ("try_divide", Divide),
        ("try_mod", Modulo),
    ]
    .into_iter()
    .map(|(name, op)| {
        let f: std::sync::Arc<dyn ScalarFunction> = std::sync::Arc::new(TryArith { name, op });
        (name, f)
    })
    .collect()
}
