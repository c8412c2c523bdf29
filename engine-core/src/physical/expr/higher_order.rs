//! A call of a higher-order function (`transform(a, x -> x + 1)`), and how its lambdas run.
//!
//! A lambda's body is compiled once, against a small schema of its own: the columns and
//! outer lambda variables it reads (its free references, see
//! [`Lambda::free_references`](crate::expr::lambda::Lambda::free_references)) followed by
//! its parameters. Calling it builds that batch: the free references are taken from the
//! call's input batch by the row each call belongs to (`take`), the parameters are the
//! arrays the function passes (flattened array elements, indices, accumulators), and the
//! body is evaluated once over all of them. A lambda nested in a body is compiled the same
//! way against its parent's schema, so nesting needs nothing more.

use std::fmt;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatchOptions, UInt32Array};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;

use super::{ColumnarValue, PhysicalExpr, PhysicalExprRef};
use crate::expr::lambda::{HigherOrderArgs, HigherOrderFunction};
use crate::functions::FunctionContext;
use crate::{EngineError, Result};

/// A lambda compiled for [`HigherOrderExpr`].
#[derive(Debug)]
pub struct CompiledLambda {
    /// The input columns the body reads, in the order of the body's schema.
    inputs: Vec<usize>,
    /// The body, over the input columns followed by the parameters.
    body: PhysicalExprRef,
    /// The names of its parameters, for EXPLAIN.
    params: Vec<String>,
}

impl CompiledLambda {
    /// A lambda whose `body` reads input columns `inputs` and then the parameters `params`.
    pub fn new(inputs: Vec<usize>, body: PhysicalExprRef, params: Vec<String>) -> Self {
        CompiledLambda {
            inputs,
            body,
            params,
        }
    }
}

impl fmt::Display for CompiledLambda {
    /// Spark's EXPLAIN text of a lambda: `lambdafunction((lambda x#1 + 1), lambda x, false)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lambdafunction({}", self.body)?;
        for p in &self.params {
            write!(f, ", lambda {p}")?;
        }
        write!(f, ", false)")
    }
}

/// One argument of a [`HigherOrderExpr`].
#[derive(Debug)]
pub enum HigherOrderArg {
    /// A value, evaluated over the input.
    Value(PhysicalExprRef),
    /// A lambda, called by the function.
    Lambda(CompiledLambda),
}

/// `func(args...)` where some arguments are lambdas.
#[derive(Debug)]
pub struct HigherOrderExpr {
    func: Arc<dyn HigherOrderFunction>,
    args: Vec<HigherOrderArg>,
    return_type: DataType,
    ctx: Arc<FunctionContext>,
}

impl HigherOrderExpr {
    /// A call of `func` on `args` returning `return_type`, run with the session's `ctx`.
    pub fn new(
        func: Arc<dyn HigherOrderFunction>,
        args: Vec<HigherOrderArg>,
        return_type: DataType,
        ctx: Arc<FunctionContext>,
    ) -> Self {
        HigherOrderExpr {
            func,
            args,
            return_type,
            ctx,
        }
    }
}

impl fmt::Display for HigherOrderExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.func.name())?;
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            match a {
                HigherOrderArg::Value(e) => write!(f, "{e}")?,
                HigherOrderArg::Lambda(l) => write!(f, "{l}")?,
            }
        }
        write!(f, ")")
    }
}

impl PhysicalExpr for HigherOrderExpr {
    fn data_type(&self) -> &DataType {
        &self.return_type
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        self.func.invoke(&BatchArgs { call: self, batch })
    }
}

/// The arguments of one call over one batch.
struct BatchArgs<'a> {
    call: &'a HigherOrderExpr,
    batch: &'a RecordBatch,
}

impl BatchArgs<'_> {
    fn arg(&self, arg: usize) -> Result<&HigherOrderArg> {
        self.call.args.get(arg).ok_or_else(|| {
            EngineError::Internal(format!("{} has no argument {arg}", self.call.func.name()))
        })
    }

    fn value_expr(&self, arg: usize) -> Result<&PhysicalExprRef> {
        match self.arg(arg)? {
            HigherOrderArg::Value(e) => Ok(e),
            HigherOrderArg::Lambda(_) => Err(EngineError::Internal(format!(
                "argument {arg} of {} is a lambda, not a value",
                self.call.func.name()
            ))),
        }
    }
}

impl HigherOrderArgs for BatchArgs<'_> {
    fn num_rows(&self) -> usize {
        self.batch.num_rows()
    }

    fn context(&self) -> &FunctionContext {
        &self.call.ctx
    }

    fn output_type(&self) -> &DataType {
        &self.call.return_type
    }

    fn lambda_arity(&self, arg: usize) -> usize {
        match self.call.args.get(arg) {
            Some(HigherOrderArg::Lambda(l)) => l.params.len(),
            _ => 0,
        }
    }

    fn value(&self, arg: usize) -> Result<ColumnarValue> {
        self.value_expr(arg)?.evaluate(self.batch)
    }

    fn value_at(&self, arg: usize, rows: &UInt32Array) -> Result<ArrayRef> {
        let e = self.value_expr(arg)?;
        let some = arrow::compute::take_record_batch(self.batch, rows)?;
        e.evaluate(&some)?.into_array(rows.len())
    }

    fn call(
        &self,
        arg: usize,
        rows: Option<&UInt32Array>,
        params: &[ArrayRef],
    ) -> Result<ArrayRef> {
        let HigherOrderArg::Lambda(lambda) = self.arg(arg)? else {
            return Err(EngineError::Internal(format!(
                "argument {arg} of {} is a value, not a lambda",
                self.call.func.name()
            )));
        };
        let n = match (params.first(), rows) {
            (Some(p), _) => p.len(),
            (None, Some(r)) => r.len(),
            (None, None) => self.batch.num_rows(),
        };
        let mut columns = Vec::with_capacity(lambda.inputs.len() + params.len());
        for &i in &lambda.inputs {
            let c = self.batch.columns().get(i).ok_or_else(|| {
                EngineError::Internal(format!("a lambda reads column {i} past the batch"))
            })?;
            columns.push(match rows {
                Some(r) => arrow::compute::take(c.as_ref(), r, None)?,
                None => c.clone(),
            });
        }
        columns.extend(params.iter().cloned());
        // The body's columns are bound by position; the schema only carries their types.
        let fields: Vec<Field> = columns
            .iter()
            .enumerate()
            .map(|(k, c)| Field::new(format!("_{k}"), c.data_type().clone(), true))
            .collect();
        let inner = RecordBatch::try_new_with_options(
            Arc::new(Schema::new(fields)),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(n)),
        )?;
        lambda.body.evaluate(&inner)?.into_array(n)
    }
}
