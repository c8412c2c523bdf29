//! The `Generate` node: table-generating functions (`explode`, `posexplode`, `inline`,
//! `json_tuple`) that turn one input row into zero or more output rows.
//!
//! As in Spark, a generator in a select list is pulled out of the projection by the
//! analyzer into a `Generate` below it; `LATERAL VIEW` builds the node directly. The node's
//! output is every input column followed by the generator's columns.

use crate::{EngineError, Result};
use arrow::datatypes::{DataType, Field};

use crate::expr::Expr;

/// Which generator a [`Generate`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeneratorKind {
    /// `explode`: one row per array element (`col`) or map entry (`key`, `value`).
    Explode,
    /// `posexplode`: as `explode` with the 0-based position first (`pos`).
    PosExplode,
    /// `inline`: one row per struct of an array of structs, one column per field.
    Inline,
    /// `json_tuple(json, f1, f2, ...)`: one row with the top-level fields as strings
    /// (`c0`, `c1`, ...).
    JsonTuple,
}

impl GeneratorKind {
    /// The generator called `name` (any case) and whether it is the `_outer` form.
    pub fn from_name(name: &str) -> Option<(GeneratorKind, bool)> {
        Some(match name.to_ascii_lowercase().as_str() {
            "explode" => (GeneratorKind::Explode, false),
            "explode_outer" => (GeneratorKind::Explode, true),
            "posexplode" => (GeneratorKind::PosExplode, false),
            "posexplode_outer" => (GeneratorKind::PosExplode, true),
            "inline" => (GeneratorKind::Inline, false),
            "inline_outer" => (GeneratorKind::Inline, true),
            "json_tuple" => (GeneratorKind::JsonTuple, false),
            _ => return None,
        })
    }

    /// Spark's function name.
    pub fn name(self, outer: bool) -> &'static str {
        match (self, outer) {
            (GeneratorKind::Explode, false) => "explode",
            (GeneratorKind::Explode, true) => "explode_outer",
            (GeneratorKind::PosExplode, false) => "posexplode",
            (GeneratorKind::PosExplode, true) => "posexplode_outer",
            (GeneratorKind::Inline, false) => "inline",
            (GeneratorKind::Inline, true) => "inline_outer",
            (GeneratorKind::JsonTuple, _) => "json_tuple",
        }
    }
}

/// True if `e` (below any aliases) is a call of a generator function.
pub fn is_generator_call(e: &Expr) -> bool {
    matches!(e.unalias(), Expr::UnresolvedFunction { name, .. } if GeneratorKind::from_name(name).is_some())
}

/// Runs a generator on every input row; output = input columns ++ generated columns.
#[derive(Debug, Clone)]
pub struct Generate {
    /// The generator.
    pub kind: GeneratorKind,
    /// Its arguments (resolved after analysis).
    pub args: Vec<Expr>,
    /// `_outer` / `LATERAL VIEW OUTER`: a row whose array is NULL or empty yields one row
    /// of NULLs instead of none.
    pub outer: bool,
    /// Names of the generated columns; empty before analysis means Spark's defaults
    /// (`col`, `pos`, `key`, `value`, struct field names, `c0`..).
    pub names: Vec<String>,
    /// The relation name of the generated columns (`LATERAL VIEW explode(a) t`).
    pub qualifier: Option<String>,
    /// Input columns left out of the output because only the generator reads them (Spark's
    /// `unrequiredChildIndex`, set by column pruning): repeating an exploded array on
    /// every row it generates would copy it once per element.
    pub unrequired_child: Vec<usize>,
    /// The input.
    pub input: std::sync::Arc<super::LogicalPlan>,
}

impl Generate {
    /// The input columns in the output, in order, of an input `width` columns wide.
    pub fn kept_columns(&self, width: usize) -> Vec<usize> {
        (0..width)
            .filter(|i| !self.unrequired_child.contains(i))
            .collect()
    }

    /// Spark's text of the call, `explode(a)`.
    pub fn call_text(&self) -> String {
        let args: Vec<String> = self.args.iter().map(|a| a.to_string()).collect();
        format!("{}({})", self.kind.name(self.outer), args.join(", "))
    }
}

/// The generated fields for a generator over arguments of `arg_types`, named `names` (or
/// Spark's defaults when `names` is empty). Errors are Spark's analysis errors.
pub fn generator_fields(
    kind: GeneratorKind,
    outer: bool,
    call: &str,
    arg_types: &[DataType],
    names: &[String],
) -> Result<Vec<Field>> {
    let mismatch = |expected: &str, got: &DataType| {
        EngineError::analysis(
            "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
            format!(
                "Cannot resolve \"{call}\" due to data type mismatch: The first parameter requires the {expected} type, however it has the type \"{}\". SQLSTATE: 42K09",
                crate::types::sql_type_name(got)
            ),
        )
    };
    let first = arg_types.first();
    let mut fields: Vec<Field> = match kind {
        GeneratorKind::Explode | GeneratorKind::PosExplode => {
            if arg_types.len() != 1 {
                return Err(crate::expr::function::wrong_num_args(
                    kind.name(outer),
                    "1",
                    arg_types.len(),
                ));
            }
            let mut f = match first {
                Some(DataType::List(e)) | Some(DataType::LargeList(e)) => {
                    vec![Field::new("col", e.data_type().clone(), e.is_nullable())]
                }
                Some(DataType::Map(entries, _)) => match entries.data_type() {
                    DataType::Struct(kv) if kv.len() == 2 => vec![
                        Field::new("key", kv[0].data_type().clone(), false),
                        Field::new("value", kv[1].data_type().clone(), kv[1].is_nullable()),
                    ],
                    other => return Err(mismatch("(\"ARRAY\" or \"MAP\")", other)),
                },
                Some(DataType::Null) => vec![Field::new("col", DataType::Null, true)],
                Some(other) => return Err(mismatch("(\"ARRAY\" or \"MAP\")", other)),
                None => vec![],
            };
            if kind == GeneratorKind::PosExplode {
                f.insert(0, Field::new("pos", DataType::Int32, false));
            }
            f
        }
        GeneratorKind::Inline => {
            if arg_types.len() != 1 {
                return Err(crate::expr::function::wrong_num_args(
                    kind.name(outer),
                    "1",
                    arg_types.len(),
                ));
            }
            match first {
                Some(DataType::List(e)) => match e.data_type() {
                    // A NULL struct element yields a row of NULLs: every column is nullable.
                    DataType::Struct(fs) => fs
                        .iter()
                        .map(|f| f.as_ref().clone().with_nullable(true))
                        .collect(),
                    other => {
                        return Err(mismatch(
                            "\"ARRAY<STRUCT>\"",
                            &crate::types::list_of(other.clone()),
                        ));
                    }
                },
                Some(other) => return Err(mismatch("\"ARRAY<STRUCT>\"", other)),
                None => vec![],
            }
        }
        GeneratorKind::JsonTuple => {
            if arg_types.len() < 2 {
                return Err(crate::expr::function::wrong_num_args(
                    "json_tuple",
                    "> 1",
                    arg_types.len(),
                ));
            }
            (0..arg_types.len() - 1)
                .map(|i| Field::new(format!("c{i}"), DataType::Utf8, true))
                .collect()
        }
    };
    if outer {
        fields = fields.into_iter().map(|f| f.with_nullable(true)).collect();
    }
    if !names.is_empty() {
        if names.len() != fields.len() {
            return Err(EngineError::analysis(
                "UDTF_ALIAS_NUMBER_MISMATCH",
                format!(
                    "The number of aliases supplied in the AS clause does not match the number of columns output by the UDTF. Expected {} aliases, but got {}. Please ensure that the number of aliases provided matches the number of columns output by the UDTF. SQLSTATE: 42802",
                    fields.len(),
                    names.join(", ")
                ),
            ));
        }
        fields = fields
            .into_iter()
            .zip(names)
            .map(|(f, n)| f.with_name(n.clone()))
            .collect();
    }
    Ok(fields)
}

/// Builds a multi-column alias (`posexplode(a) AS (p, v)`, `.alias(["p", "v"])`) as nested
/// aliases, innermost first; only a generator may carry more than one.
pub fn multi_alias(e: Expr, names: &[&str]) -> Expr {
    names
        .iter()
        .fold(e, |acc, n| Expr::Alias(Box::new(acc), (*n).to_string()))
}

/// Splits a generator call under (possibly nested) aliases into the call and the alias
/// names, innermost first.
pub fn split_aliases(e: &Expr) -> (&Expr, Vec<String>) {
    let mut names = Vec::new();
    let mut cur = e;
    while let Expr::Alias(inner, n) = cur {
        names.push(n.clone());
        cur = inner;
    }
    names.reverse();
    (cur, names)
}
