//! The schema of a logical plan: Arrow fields, each with the relation it came from.
//!
//! Column names resolve case-insensitively (Spark's default `spark.sql.caseSensitive=false`),
//! with Spark's error classes for unknown and ambiguous names.

use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};

/// A field and the relation (table, view or alias) it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct QualifiedField {
    /// The relation name, e.g. the view `orders` or the alias `o`.
    pub qualifier: Option<String>,
    /// The Arrow field.
    pub field: FieldRef,
}

impl QualifiedField {
    /// A field with an optional relation name.
    pub fn new(qualifier: Option<String>, field: impl Into<FieldRef>) -> Self {
        QualifiedField {
            qualifier,
            field: field.into(),
        }
    }

    /// The field's name.
    pub fn name(&self) -> &str {
        self.field.name()
    }

    /// `qualifier.name`, back-quoted the way Spark prints attribute names in errors.
    pub fn quoted(&self) -> String {
        match &self.qualifier {
            Some(q) => format!("`{q}`.`{}`", self.field.name()),
            None => format!("`{}`", self.field.name()),
        }
    }
}

/// An ordered list of qualified fields: the output of a logical plan node.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlanSchema {
    fields: Vec<QualifiedField>,
}

/// Shared [`PlanSchema`].
pub type PlanSchemaRef = Arc<PlanSchema>;

/// Where a multi-part name (`t.a.b`) landed: a top-level field and the struct fields below it.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// Index of the top-level field.
    pub index: usize,
    /// Struct field names to walk into, in order (`a.b.c` on column `a` gives `[b, c]`).
    pub nested: Vec<String>,
}

impl PlanSchema {
    /// A schema from qualified fields.
    pub fn new(fields: Vec<QualifiedField>) -> Self {
        PlanSchema { fields }
    }

    /// All fields of an Arrow schema under one qualifier.
    pub fn from_arrow(qualifier: Option<&str>, schema: &Schema) -> Self {
        PlanSchema {
            fields: schema
                .fields()
                .iter()
                .map(|f| QualifiedField::new(qualifier.map(str::to_string), f.clone()))
                .collect(),
        }
    }

    /// The fields in order.
    pub fn fields(&self) -> &[QualifiedField] {
        &self.fields
    }

    /// The field at `i`.
    pub fn field(&self, i: usize) -> &QualifiedField {
        &self.fields[i]
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True with no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The same fields under a new qualifier (what `AS alias` does).
    pub fn with_qualifier(&self, qualifier: &str) -> PlanSchema {
        PlanSchema {
            fields: self
                .fields
                .iter()
                .map(|f| QualifiedField::new(Some(qualifier.to_string()), f.field.clone()))
                .collect(),
        }
    }

    /// The Arrow schema (names only, qualifiers dropped).
    pub fn to_arrow(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.fields
                .iter()
                .map(|f| f.field.clone())
                .collect::<Vec<_>>(),
        ))
    }

    /// Fields of both schemas, left first (what a join outputs).
    pub fn join(&self, other: &PlanSchema) -> PlanSchema {
        let mut fields = self.fields.clone();
        fields.extend(other.fields.iter().cloned());
        PlanSchema { fields }
    }

    /// Indices of the fields named `name` (case-insensitive) with a matching qualifier.
    fn matches(&self, qualifier: Option<&str>, name: &str) -> Vec<usize> {
        self.fields
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                f.name().eq_ignore_ascii_case(name)
                    && match qualifier {
                        None => true,
                        Some(q) => f
                            .qualifier
                            .as_deref()
                            .is_some_and(|fq| fq.eq_ignore_ascii_case(q)),
                    }
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Index of the single field `qualifier.name`, or Spark's error.
    pub fn index_of(&self, qualifier: Option<&str>, name: &str) -> Result<usize> {
        let parts: Vec<String> = qualifier
            .into_iter()
            .map(str::to_string)
            .chain(std::iter::once(name.to_string()))
            .collect();
        let r = self.resolve(&parts)?;
        if !r.nested.is_empty() {
            return Err(self.unresolved(&parts));
        }
        Ok(r.index)
    }

    /// Resolves a dotted name as Spark does: `a.b.c` is tried as qualifier `a` + column
    /// `b` (+ field `c`), then as column `a` with fields `b.c`.
    pub fn resolve(&self, parts: &[String]) -> Result<Resolved> {
        if parts.is_empty() {
            return Err(EngineError::Internal("empty column name".into()));
        }
        if parts.len() >= 2 {
            let hits = self.matches(Some(&parts[0]), &parts[1]);
            if hits.len() == 1 {
                let r = Resolved {
                    index: hits[0],
                    nested: parts[2..].to_vec(),
                };
                self.check_nested(&r, parts)?;
                return Ok(r);
            }
            if hits.len() > 1 {
                return Err(self.ambiguous(parts, &hits));
            }
        }
        let hits = self.matches(None, &parts[0]);
        match hits.len() {
            0 => Err(self.unresolved(parts)),
            1 => {
                let r = Resolved {
                    index: hits[0],
                    nested: parts[1..].to_vec(),
                };
                self.check_nested(&r, parts)?;
                Ok(r)
            }
            _ => Err(self.ambiguous(parts, &hits)),
        }
    }

    fn check_nested(&self, r: &Resolved, parts: &[String]) -> Result<()> {
        let mut dt = self.fields[r.index].field.data_type().clone();
        for name in &r.nested {
            dt = match struct_field(&dt, name) {
                Some(f) => f.data_type().clone(),
                None => return Err(no_such_field(name, &dt, &quote_parts(parts))),
            };
        }
        Ok(())
    }

    /// Spark's `UNRESOLVED_COLUMN` error for `parts`, suggesting the closest names.
    pub fn unresolved(&self, parts: &[String]) -> EngineError {
        let wanted = parts.join(".");
        let mut candidates: Vec<(usize, String)> = self
            .fields
            .iter()
            .map(|f| {
                let full = match &f.qualifier {
                    Some(q) => format!("{q}.{}", f.name()),
                    None => f.name().to_string(),
                };
                let d = strsim::levenshtein(&wanted.to_lowercase(), &full.to_lowercase()).min(
                    strsim::levenshtein(&wanted.to_lowercase(), &f.name().to_lowercase()),
                );
                (d, f.quoted())
            })
            .collect();
        candidates.sort();
        candidates.dedup_by(|a, b| a.1 == b.1);
        let shown: Vec<String> = candidates.into_iter().take(5).map(|(_, n)| n).collect();
        let name = quote_parts(parts);
        if shown.is_empty() {
            EngineError::analysis(
                "UNRESOLVED_COLUMN.WITHOUT_SUGGESTION",
                format!(
                    "A column, variable, or function parameter with name {name} cannot be resolved.  SQLSTATE: 42703"
                ),
            )
        } else {
            EngineError::analysis(
                "UNRESOLVED_COLUMN.WITH_SUGGESTION",
                format!(
                    "A column, variable, or function parameter with name {name} cannot be resolved. Did you mean one of the following? [{}]. SQLSTATE: 42703",
                    shown.join(", ")
                ),
            )
        }
    }

    fn ambiguous(&self, parts: &[String], hits: &[usize]) -> EngineError {
        let names: Vec<String> = hits.iter().map(|&i| self.fields[i].quoted()).collect();
        EngineError::analysis(
            "AMBIGUOUS_REFERENCE",
            format!(
                "Reference {} is ambiguous, could be: [{}]. SQLSTATE: 42704",
                quote_parts(parts),
                names.join(", ")
            ),
        )
    }
}

/// The child field `name` of a struct type (case-insensitive).
pub fn struct_field<'a>(dt: &'a DataType, name: &str) -> Option<&'a Field> {
    match dt {
        DataType::Struct(fields) => fields
            .iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
            .map(|f| f.as_ref()),
        _ => None,
    }
}

/// `a.b` as Spark quotes it in messages: `` `a`.`b` ``.
pub fn quote_parts(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(".")
}

/// Spark's error for reading field `name` of a value of type `dt` that has none:
/// `FIELD_NOT_FOUND` in a struct, `INVALID_EXTRACT_BASE_FIELD_TYPE` in anything else (`base`
/// is the value as Spark quotes it in the message).
pub fn no_such_field(name: &str, dt: &DataType, base: &str) -> EngineError {
    match dt {
        DataType::Struct(fields) => EngineError::analysis(
            "FIELD_NOT_FOUND",
            format!(
                "No such struct field `{name}` in {}. SQLSTATE: 42704",
                fields
                    .iter()
                    .map(|f| format!("`{}`", f.name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        _ => EngineError::analysis(
            "INVALID_EXTRACT_BASE_FIELD_TYPE",
            format!(
                "Can't extract a value from {base}. Need a complex type [STRUCT, ARRAY, MAP] but got \"{}\". SQLSTATE: 42000",
                crate::types::sql_type_name(dt)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::Fields;

    fn schema() -> PlanSchema {
        let user = DataType::Struct(Fields::from(vec![Field::new("id", DataType::Utf8, true)]));
        PlanSchema::new(vec![
            QualifiedField::new(
                Some("t".into()),
                Field::new("amount", DataType::Int32, true),
            ),
            QualifiedField::new(Some("t".into()), Field::new("user", user, true)),
            QualifiedField::new(
                Some("s".into()),
                Field::new("amount", DataType::Int32, true),
            ),
        ])
    }

    #[test]
    fn resolves_qualified_and_nested() {
        let s = schema();
        let r = s.resolve(&["t".into(), "amount".into()]).unwrap();
        assert_eq!(r.index, 0);
        let r = s.resolve(&["USER".into(), "ID".into()]).unwrap();
        assert_eq!((r.index, r.nested.clone()), (1, vec!["ID".to_string()]));
        let r = s
            .resolve(&["t".into(), "user".into(), "id".into()])
            .unwrap();
        assert_eq!(r.index, 1);
    }

    #[test]
    fn ambiguous_and_unknown() {
        let s = schema();
        let e = s.resolve(&["amount".into()]).unwrap_err().to_string();
        assert!(e.starts_with("[AMBIGUOUS_REFERENCE]"), "{e}");
        let e = s.resolve(&["amout".into()]).unwrap_err().to_string();
        assert!(e.starts_with("[UNRESOLVED_COLUMN.WITH_SUGGESTION]"), "{e}");
        assert!(e.contains("`amout`"), "{e}");
        assert!(
            e.contains("Did you mean one of the following? [`s`.`amount`, `t`.`amount`"),
            "{e}"
        );
    }

    #[test]
    fn missing_struct_field() {
        let e = schema()
            .resolve(&["user".into(), "nope".into()])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("[FIELD_NOT_FOUND]"), "{e}");
    }
}
