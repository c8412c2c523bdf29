//! A call of a [`ScalarFunction`], evaluated once per batch.

use std::fmt;
use std::sync::Arc;

use crate::Result;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use super::{ColumnarValue, PhysicalExpr, PhysicalExprRef};
use crate::functions::{FunctionContext, ScalarFunction};

/// `func(args...)`: evaluates the arguments, then calls [`ScalarFunction::invoke`] once for
/// the whole batch.
#[derive(Debug)]
pub struct ScalarFunctionExpr {
    func: Arc<dyn ScalarFunction>,
    args: Vec<PhysicalExprRef>,
    return_type: DataType,
    ctx: Arc<FunctionContext>,
}

impl ScalarFunctionExpr {
    /// A call of `func` on `args` returning `return_type`, run with the session's `ctx`.
    pub fn new(
        func: Arc<dyn ScalarFunction>,
        args: Vec<PhysicalExprRef>,
        return_type: DataType,
        ctx: Arc<FunctionContext>,
    ) -> Self {
        ScalarFunctionExpr {
            func,
            args,
            return_type,
            ctx,
        }
    }
}

impl fmt::Display for ScalarFunctionExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.func.name())?;
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{a}")?;
        }
        write!(f, ")")
    }
}

impl PhysicalExpr for ScalarFunctionExpr {
    fn data_type(&self) -> &DataType {
        &self.return_type
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let args = self
            .args
            .iter()
            .map(|a| a.evaluate(batch))
            .collect::<Result<Vec<_>>>()?;
        self.func.invoke(&args, batch.num_rows(), &self.ctx)
    }
}
