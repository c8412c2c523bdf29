//! Spark's cast functions: `int(x)`, `string(x)`, `double(x)`, `decimal(x)`, `date(x)`, ...
//! are `CAST(x AS <type>)` with explicit-cast semantics, and their result column is named
//! after `x` alone (Spark marks the cast as user-invisible; `int(x) + 1` is `(x + 1)`).

use std::sync::Arc;

use arrow::datatypes::{DataType, TimeUnit};

use crate::Result;
use crate::expr::columnar::ColumnarValue;
use crate::functions::{FunctionContext, ScalarFunction};

/// The cast functions and the type each casts to.
fn target(name: &str) -> Option<DataType> {
    Some(match name {
        "boolean" => DataType::Boolean,
        "tinyint" => DataType::Int8,
        "smallint" => DataType::Int16,
        "int" => DataType::Int32,
        "bigint" => DataType::Int64,
        "float" => DataType::Float32,
        "double" => DataType::Float64,
        "decimal" => DataType::Decimal128(10, 0),
        "string" => DataType::Utf8,
        "binary" => DataType::Binary,
        "date" => DataType::Date32,
        "timestamp" => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        _ => return None,
    })
}

/// `name(x)`: the analyzer casts the argument to the target type (the coercion it asks for),
/// so evaluating is handing the argument on.
#[derive(Debug)]
struct CastFunction {
    name: &'static str,
    to: DataType,
}

impl ScalarFunction for CastFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        super::string::check_arity(self.name, args.len(), (1, 1))?;
        if let Some(from) = args.first()
            && !crate::expr::coercion::can_cast(from, &self.to, true)
        {
            return Err(crate::expr::coercion::cast_mismatch(from, &self.to, true));
        }
        Ok(vec![self.to.clone()])
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        super::string::check_arity(self.name, args.len(), (1, 1))?;
        Ok(self.to.clone())
    }

    fn invoke(
        &self,
        args: &[ColumnarValue],
        _num_rows: usize,
        _ctx: &FunctionContext,
    ) -> Result<ColumnarValue> {
        super::string::check_arity(self.name, args.len(), (1, 1))?;
        args.first().cloned().ok_or_else(|| {
            crate::EngineError::Internal(format!("{} without its argument", self.name))
        })
    }
}

/// Every cast function with its name.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    crate::expr::CAST_FUNCTIONS
        .iter()
        .copied()
        .filter_map(|name| {
            let to = target(name)?;
            Some((
                name,
                Arc::new(CastFunction { name, to }) as Arc<dyn ScalarFunction>,
            ))
        })
        .collect()
}
