//! `mask(str [, upper, lower, digit, other])`: replaces upper-case letters, lower-case
//! letters, digits and other characters by fixed characters (defaults `X`, `x`, `n`, and
//! other characters kept); a NULL replacement keeps that class as it is.

use std::sync::Arc;

use arrow::array::StringArray;

use super::string::{SimpleFunction, all_strings, arrays, ret_string, rows};
use super::string_extra::{build_strings, opt_str, str_col};
use super::{FunctionContext, ScalarFunction};
use crate::expr::columnar::ColumnarValue;
use crate::{EngineError, Result};

/// Default replacements of the four classes (`None`: keep the character).
const DEFAULTS: [Option<char>; 4] = [Some('X'), Some('x'), Some('n'), None];

/// The replacement character of row `i` for class `k`: a one-character string or NULL.
fn replacement(name: &str, col: Option<&StringArray>, k: usize, i: usize) -> Result<Option<char>> {
    let Some(col) = col else {
        return Ok(DEFAULTS.get(k).copied().flatten());
    };
    let Some(s) = opt_str(col, i) else {
        return Ok(None);
    };
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(Some(c)),
        _ => {
            let param = ["upperChar", "lowerChar", "digitChar", "otherChar"]
                .get(k)
                .copied()
                .unwrap_or("");
            Err(EngineError::analysis(
                "DATATYPE_MISMATCH.INPUT_SIZE_NOT_ONE",
                format!(
                    "Cannot resolve \"{name}\" due to data type mismatch: Length of `{param}` should be 1. SQLSTATE: 42K09"
                ),
            ))
        }
    }
}

/// Which class `c` is in: 0 upper, 1 lower, 2 digit, 3 other.
fn class_of(c: char) -> usize {
    if c.is_uppercase() {
        0
    } else if c.is_lowercase() {
        1
    } else if c.is_ascii_digit() {
        2
    } else {
        3
    }
}

fn eval_mask(
    name: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let s = str_col(&a, 0)?;
    let reps: Vec<Option<&StringArray>> = (1..5)
        .map(|k| {
            if k < a.len() {
                str_col(&a, k).map(Some)
            } else {
                Ok(None)
            }
        })
        .collect::<Result<_>>()?;
    build_strings(args, rows, |i| {
        let Some(v) = opt_str(s, i) else {
            return Ok(None);
        };
        let mut map = [None; 4];
        for (k, slot) in map.iter_mut().enumerate() {
            *slot = replacement(name, reps.get(k).copied().flatten(), k, i)?;
        }
        let out: String = v
            .chars()
            .map(|c| map.get(class_of(c)).copied().flatten().unwrap_or(c))
            .collect();
        Ok(Some(out))
    })
}

/// The functions of this module, for the registry.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    SimpleFunction::new("mask", (1, 5), all_strings, ret_string, eval_mask).entries(&[])
}
