//! `schema_of_json(json)`: the DDL of the type Spark infers for a JSON document.

use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::datatypes::DataType;

use crate::expr::columnar::ColumnarValue;
use crate::functions::string::{rows, want_string, wrap};
use crate::functions::{FunctionContext, ScalarFunction};

/// `schema_of_json(json)`.
#[derive(Debug)]
pub struct SchemaOfJson;

impl ScalarFunction for SchemaOfJson {
    fn name(&self) -> &str {
        "schema_of_json"
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        if args.is_empty() || args.len() > 2 {
            return Err(crate::functions::wrong_num_args(
                self.name(),
                "[1, 2]",
                args.len(),
            ));
        }
        Ok(vec![want_string(self.name(), 1, &args[0])?])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke(
        &self,
        args: &[ColumnarValue],
        num_rows: usize,
        _: &FunctionContext,
    ) -> Result<ColumnarValue> {
        let n = rows(args, num_rows);
        let a = args[0].to_array(n)?;
        let a = a.as_string::<i32>();
        let mut b = StringBuilder::new();
        for i in 0..n {
            if a.is_null(i) {
                b.append_null();
                continue;
            }
            let t = super::infer::infer_text_type(a.value(i)).ok_or_else(|| {
                EngineError::execution(
                    "MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION",
                    format!(
                        "Malformed records are detected in record parsing: [{}]. Parse Mode: FAILFAST. To process malformed records as null result, try setting the option 'mode' as 'PERMISSIVE'. SQLSTATE: 22023",
                        a.value(i)
                    ),
                )
            })?;
            b.append_value(crate::types::sql_type_name(&t));
        }
        wrap(args, Arc::new(b.finish()) as ArrayRef)
    }
}
