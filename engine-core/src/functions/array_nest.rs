//! Functions that change how arrays nest: `flatten` (an array of arrays into one array;
//! NULL if any inner array is NULL) and `arrays_zip` (arrays into one array of structs, as
//! long as the longest, shorter ones padded with NULL).
//!
//! `arrays_zip` names its struct fields after its arguments as Spark does: a column (or
//! alias) gives its name, any other argument its 0-based position (`"0"`, `"1"`, ...). The
//! names are not part of the argument types, so the analyzer builds the function with
//! [`zip_function`] (through `collection::specialize`); the registry entry uses positions.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StructArray};
use arrow::datatypes::{DataType, Field, Fields};

use super::array_build::{ListPicker, element_field};
use super::array_extra::want_list;
use super::string::{SimpleFunction, arrays, rows, wrap};
use super::{FunctionContext, ScalarFunction, unexpected_input_type};
use crate::expr::Expr;
use crate::expr::columnar::ColumnarValue;
use crate::types::list_of;
use crate::{EngineError, Result};

// ---- flatten ----

fn coerce_flatten(name: &str, a: &[DataType]) -> Result<Vec<DataType>> {
    match &a[0] {
        DataType::List(f) if matches!(f.data_type(), DataType::List(_)) => Ok(a.to_vec()),
        t => Err(unexpected_input_type(name, 1, "\"ARRAY\" of \"ARRAY\"", t)),
    }
}

fn ret_flatten(a: &[DataType]) -> Result<DataType> {
    match &a[0] {
        DataType::List(f) => Ok(f.data_type().clone()),
        t => Err(EngineError::Internal(format!("flatten of {t}"))),
    }
}

fn eval_flatten(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = args[0].to_array(rows)?;
    let outer = a.as_list::<i32>();
    let inner = outer.values().as_list::<i32>();
    let (oo, io) = (outer.value_offsets(), inner.value_offsets());
    let mut p = ListPicker::new(name, rows);
    for i in 0..rows {
        let parts = oo[i] as usize..oo[i + 1] as usize;
        if outer.is_null(i) || parts.clone().any(|j| inner.is_null(j)) {
            p.null_row();
            continue;
        }
        for j in parts {
            let (from, to) = (io[j] as usize, io[j + 1] as usize);
            p.reserve((to - from) as i128, "array")?;
            p.push_range(from, to)?;
        }
        p.end_row(true);
    }
    let out = p.finish(inner.values().as_ref(), element_field(inner.data_type()))?;
    wrap(args, out)
}

// ---- arrays_zip ----

/// `arrays_zip` with its struct field names fixed (see the module docs).
#[derive(Debug)]
pub struct ZipFunction {
    names: Option<Vec<String>>,
}

/// `arrays_zip(args)` whose struct fields are called `names` (one per argument).
pub fn zip_function(names: Vec<String>) -> Arc<dyn ScalarFunction> {
    Arc::new(ZipFunction { names: Some(names) })
}

/// The field names Spark gives `arrays_zip(args)`: a column's or alias's own name, else the
/// argument's 0-based position.
pub fn zip_field_names(args: &[Expr]) -> Vec<String> {
    args.iter()
        .enumerate()
        .map(|(i, a)| match a {
            Expr::Column(_) | Expr::UnresolvedColumn(_) | Expr::Alias(_, _) => a.output_name(),
            _ => i.to_string(),
        })
        .collect()
}

impl ZipFunction {
    fn fields(&self, args: &[DataType]) -> Result<Fields> {
        let names: Vec<String> = match &self.names {
            Some(n) if n.len() == args.len() => n.clone(),
            Some(n) => {
                return Err(EngineError::Internal(format!(
                    "arrays_zip built with {} names for {} arguments",
                    n.len(),
                    args.len()
                )));
            }
            None => (0..args.len()).map(|i| i.to_string()).collect(),
        };
        Ok(names
            .into_iter()
            .zip(args)
            .map(|(n, t)| Field::new(n, super::array_extra::elem_of(t), true))
            .collect())
    }
}

impl ScalarFunction for ZipFunction {
    fn name(&self) -> &str {
        "arrays_zip"
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        args.iter()
            .enumerate()
            .map(|(i, t)| match t {
                DataType::Null => Ok(list_of(DataType::Null)),
                t => want_list("arrays_zip", i + 1, t),
            })
            .collect()
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(list_of(DataType::Struct(self.fields(args)?)))
    }

    fn invoke(
        &self,
        args: &[ColumnarValue],
        num_rows: usize,
        _: &FunctionContext,
    ) -> Result<ColumnarValue> {
        let rows = rows(args, num_rows);
        let types: Vec<DataType> = args.iter().map(|a| a.data_type()).collect();
        let fields = self.fields(&types)?;
        let lists = arrays(args, rows)?;
        let lists: Vec<&arrow::array::ListArray> = lists.iter().map(|l| l.as_list()).collect();
        // One picker per argument: row i of argument k is padded to the longest array.
        let mut pickers: Vec<ListPicker> = lists
            .iter()
            .map(|_| ListPicker::new("arrays_zip", rows))
            .collect();
        let mut struct_picker = ListPicker::new("arrays_zip", rows);
        let mut total = 0usize;
        for i in 0..rows {
            let null = lists.iter().any(|l| l.is_null(i));
            let longest = lists
                .iter()
                .map(|l| l.value_length(i).max(0) as usize)
                .max()
                .unwrap_or(0);
            let longest = if null { 0 } else { longest };
            for (l, p) in lists.iter().zip(pickers.iter_mut()) {
                let (from, to) = (
                    l.value_offsets()[i] as usize,
                    l.value_offsets()[i + 1] as usize,
                );
                p.reserve(longest as i128, "arrays")?;
                if !null {
                    p.push_range(from, to)?;
                    p.push_nulls(longest - (to - from));
                }
                p.end_row(true);
            }
            if null {
                struct_picker.null_row();
            } else {
                struct_picker.reserve(longest as i128, "arrays")?;
                struct_picker.push_range(total, total + longest)?;
                total += longest;
                struct_picker.end_row(true);
            }
        }
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(lists.len());
        for ((l, p), f) in lists.iter().zip(pickers).zip(fields.iter()) {
            let picked = p.finish(l.values().as_ref(), f.clone())?;
            columns.push(picked.as_list::<i32>().values().clone());
        }
        let structs: ArrayRef = if columns.is_empty() {
            Arc::new(StructArray::new_empty_fields(total, None))
        } else {
            Arc::new(StructArray::try_new(fields.clone(), columns, None)?)
        };
        let field = Arc::new(Field::new("element", structs.data_type().clone(), true));
        wrap(args, struct_picker.finish(structs.as_ref(), field)?)
    }
}

/// Every function of this module with its names.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let mut v: Vec<(&'static str, Arc<dyn ScalarFunction>)> = Vec::new();
    v.extend(
        SimpleFunction::new("flatten", (1, 1), coerce_flatten, ret_flatten, eval_flatten)
            .entries(&[]),
    );
    v.push(("arrays_zip", Arc::new(ZipFunction { names: None })));
    v
}
