//! Lambdas (`x -> x + 1`, `(acc, x) -> acc + x`) and the higher-order functions that take
//! them (`transform`, `filter`, `aggregate`, ...), as Spark's `LambdaFunction`,
//! `NamedLambdaVariable` and `HigherOrderFunction`.
//!
//! A lambda starts with parameter names only; the analyzer *binds* it when it resolves the
//! higher-order call around it: each parameter gets the type and nullability the function
//! offers (the array's element type, `INT` for an index, ...) and references to it in the
//! body become [`Expr::LambdaVariable`]s. A bound variable is identified by its nesting
//! depth and position, not by a fresh number, so two equal calls stay equal expressions
//! (`GROUP BY transform(a, x -> x + 1)` matches the select list) and re-resolving an
//! expression binds it identically. Depths strictly grow along a chain of nested lambdas,
//! so a variable is never confused with one of an enclosing lambda.
//!
//! How a function runs its lambdas is its own business: it gets a [`HigherOrderArgs`] and
//! calls a lambda once per batch on whole arrays of parameter values (the elements of many
//! rows at once), which the evaluator turns into one evaluation of the compiled body.

use std::fmt;
use std::sync::Arc;

use arrow::array::{ArrayRef, UInt32Array};
use arrow::datatypes::DataType;

use super::Expr;
use super::columnar::ColumnarValue;
use super::function::FunctionContext;
use crate::{EngineError, Result};

/// A lambda parameter, or a reference to one in a lambda's body. Two bound variables are
/// equal when their bindings are: the name no longer matters then (Spark shows every bound
/// variable as `namedlambdavariable()`), so equal calls built with different generated
/// names stay equal.
#[derive(Debug, Clone)]
pub struct LambdaVariable {
    /// The name as written (`x`), or a generated one for lambdas built in Rust (`x_3`).
    pub name: String,
    /// What the analyzer bound it to; `None` before.
    pub binding: Option<LambdaBinding>,
}

/// The identity, type and nullability of a bound lambda variable.
#[derive(Debug, Clone, PartialEq)]
pub struct LambdaBinding {
    /// How many lambdas enclose the one that declares the variable.
    pub depth: usize,
    /// The parameter's position in its lambda.
    pub index: usize,
    /// The value's type.
    pub data_type: DataType,
    /// Whether the value can be NULL.
    pub nullable: bool,
}

impl PartialEq for LambdaVariable {
    fn eq(&self, other: &Self) -> bool {
        match (&self.binding, &other.binding) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self.name == other.name,
            _ => false,
        }
    }
}

impl LambdaVariable {
    /// A variable that is not bound yet.
    pub fn unbound(name: impl Into<String>) -> Self {
        LambdaVariable {
            name: name.into(),
            binding: None,
        }
    }

    /// The binding, or an internal error for a variable the analyzer has not bound.
    pub fn bound(&self) -> Result<&LambdaBinding> {
        self.binding.as_ref().ok_or_else(|| {
            EngineError::Internal(format!(
                "lambda variable {} used before the analyzer bound it",
                self.name
            ))
        })
    }

    /// The column name the evaluator gives this variable in the batches a lambda body runs
    /// on (like Spark's `toString` of a variable, with depth and position as its id, and no
    /// name, which equal variables need not share). It cannot collide with another variable
    /// visible in the same body, whose depth or position differs.
    pub fn column_name(&self) -> String {
        match &self.binding {
            Some(b) => format!("lambda #{}.{}", b.depth, b.index),
            None => format!("lambda {}", self.name),
        }
    }

    /// True when `other` is the same bound variable (same depth and position).
    pub fn same_binding(&self, other: &LambdaVariable) -> bool {
        match (&self.binding, &other.binding) {
            (Some(a), Some(b)) => a.depth == b.depth && a.index == b.index,
            _ => false,
        }
    }
}

/// `(x, y) -> body`.
#[derive(Debug, Clone, PartialEq)]
pub struct Lambda {
    /// The parameters, in order.
    pub params: Vec<LambdaVariable>,
    /// What the lambda computes; references its parameters as [`Expr::LambdaVariable`]s
    /// (once bound) and may read columns of the input and variables of enclosing lambdas.
    pub body: Box<Expr>,
}

impl Lambda {
    /// A lambda over `params` computing `body`.
    pub fn new(params: Vec<LambdaVariable>, body: Expr) -> Self {
        Lambda {
            params,
            body: Box::new(body),
        }
    }

    /// What the body reads from outside the lambda, in order of first use: columns of the
    /// input and variables of enclosing lambdas (never its own parameters, nor variables of
    /// lambdas nested in the body). The evaluator hands exactly these to the body.
    pub fn free_references(&self) -> Vec<Expr> {
        let mut out = Vec::new();
        collect_free(&self.body, &mut vec![self.params.as_slice()], &mut out);
        out
    }
}

/// Walks `e` with the parameter lists of the lambdas around it in `bound`.
fn collect_free<'a>(e: &'a Expr, bound: &mut Vec<&'a [LambdaVariable]>, out: &mut Vec<Expr>) {
    match e {
        Expr::Column(_) => {
            if !out.contains(e) {
                out.push(e.clone());
            }
        }
        Expr::LambdaVariable(v) => {
            let is_bound = bound
                .iter()
                .any(|params| params.iter().any(|p| p.same_binding(v)));
            if !is_bound && !out.contains(e) {
                out.push(e.clone());
            }
        }
        Expr::Lambda(l) => {
            bound.push(&l.params);
            collect_free(&l.body, bound, out);
            bound.pop();
        }
        other => {
            for c in other.children() {
                collect_free(c, bound, out);
            }
        }
    }
}

/// Where a higher-order function's arguments do not fit, found by
/// [`HigherOrderFunction::check_arguments`] or [`HigherOrderFunction::check_functions`]; the
/// analyzer turns it into Spark's error with the call's SQL text.
#[derive(Debug)]
pub enum ArgumentMismatch {
    /// `DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE`: argument `position` (1-based) should be
    /// of the type Spark spells `required` (`ARRAY`, `BOOLEAN`, `INT`).
    InputType {
        /// 1-based position of the argument.
        position: usize,
        /// The required type as Spark names it.
        required: String,
    },
    /// `DATATYPE_MISMATCH.UNEXPECTED_RETURN_TYPE`: the lambda at `position` should return
    /// `expected`.
    ReturnType {
        /// 1-based position of the lambda.
        position: usize,
        /// The type it must return.
        expected: DataType,
    },
    /// Any other error, complete except for `{call}`, which stands for the call's text.
    Other(EngineError),
}

/// What a higher-order function may do with its arguments while it runs over one batch.
///
/// The evaluator implements it; argument positions are those of the call (lambdas
/// included), and asking for a lambda's value or calling a value is an internal error.
pub trait HigherOrderArgs {
    /// Rows in the batch.
    fn num_rows(&self) -> usize;

    /// The session's settings (ANSI mode, time zone).
    fn context(&self) -> &FunctionContext;

    /// The call's result type, as the analyzer typed it.
    fn output_type(&self) -> &DataType;

    /// How many parameters the lambda at `arg` declares (`transform` passes the index only
    /// to a lambda that asks for it).
    fn lambda_arity(&self, arg: usize) -> usize;

    /// Argument `arg` evaluated over every row.
    fn value(&self, arg: usize) -> Result<ColumnarValue>;

    /// Argument `arg` evaluated over the given rows only, in their order (a lazily
    /// evaluated argument, such as `aggregate`'s start value, which Spark computes only for
    /// non-NULL arrays).
    fn value_at(&self, arg: usize, rows: &UInt32Array) -> Result<ArrayRef>;

    /// Calls the lambda at `arg` once per entry of `params` (all of one length): call `k`
    /// sees `params[p][k]` as parameter `p` and the input row `rows[k]` (row `k` itself
    /// when `rows` is `None`) for whatever else the body reads. One evaluation of the body
    /// over all calls; returns one value per call.
    fn call(&self, arg: usize, rows: Option<&UInt32Array>, params: &[ArrayRef])
    -> Result<ArrayRef>;
}

/// A function that takes lambdas, such as `transform`.
///
/// The analyzer calls, in order: [`check_arguments`](Self::check_arguments) on the
/// non-lambda arguments, [`lambda_parameters`](Self::lambda_parameters) to bind each lambda,
/// [`check_functions`](Self::check_functions) once the lambda bodies are typed, and
/// [`return_type`](Self::return_type). The evaluator calls [`invoke`](Self::invoke) once
/// per batch.
pub trait HigherOrderFunction: Send + Sync + fmt::Debug {
    /// Spark's name (`transform`, `reduce`).
    fn name(&self) -> &str;

    /// The call's shape: how many value arguments come first (the arrays, `aggregate`'s
    /// start value), then the least and the most lambdas that may follow them. Every Spark
    /// higher-order function takes its values before its lambdas.
    fn signature(&self) -> (usize, usize, usize);

    /// The least and most arguments of a call (lambdas included), and how Spark's
    /// `WRONG_NUM_ARGS` spells them (`2`, `[3, 4]`).
    fn arity(&self) -> (usize, usize, String) {
        let (values, least, most) = self.signature();
        let (min, max) = (values + least, values + most);
        let spelled = if min == max {
            min.to_string()
        } else {
            format!("[{min}, {max}]")
        };
        (min, max, spelled)
    }

    /// Whether argument `position` (0-based) is a function (a lambda) rather than a value.
    fn is_function(&self, position: usize) -> bool {
        position >= self.signature().0
    }

    /// Lambdas a shorter call gets by default (appended to the arguments), as Spark adds
    /// `aggregate`'s identity `finish` and `array_sort`'s natural-order comparator. They are
    /// unresolved: the analyzer binds them like written ones. `None` for a complete call.
    fn default_functions(&self, _num_args: usize) -> Option<Vec<Expr>> {
        None
    }

    /// The function object for a call whose written arguments numbered `num_args` (before
    /// [`default_functions`](Self::default_functions) were added): `array_sort` without a
    /// comparator sorts natively. `None` keeps this one.
    fn specialize(&self, _num_args: usize) -> Option<Arc<dyn HigherOrderFunction>> {
        None
    }

    /// Checks the types of the value arguments before any lambda is bound (`args[i]` is
    /// `None` at the positions of functions).
    fn check_arguments(&self, args: &[Option<DataType>]) -> Result<(), ArgumentMismatch>;

    /// The `(type, nullable)` of each parameter of the lambda at `position`, given the
    /// value arguments' types (`None` at function positions) and how many parameters the
    /// lambda declares (`None` for an expression written where a lambda belongs, which
    /// gets every parameter the function offers). A list of another length than the
    /// lambda's is Spark's `INVALID_LAMBDA_FUNCTION_CALL.NUM_ARGS_MISMATCH`.
    fn lambda_parameters(
        &self,
        position: usize,
        declared: Option<usize>,
        args: &[Option<DataType>],
    ) -> Vec<(DataType, bool)>;

    /// Checks every argument's type once the lambdas are typed (a lambda's type is its
    /// body's).
    fn check_functions(&self, _args: &[DataType]) -> Result<(), ArgumentMismatch> {
        Ok(())
    }

    /// The result type.
    fn return_type(&self, args: &[DataType]) -> Result<DataType>;

    /// Evaluates the call over one batch.
    fn invoke(&self, args: &dyn HigherOrderArgs) -> Result<ColumnarValue>;
}

impl PartialEq for dyn HigherOrderFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}
