//! Types and nullability of resolved expressions.

use crate::{EngineError, Result};
use arrow::datatypes::{DataType, Field};

use super::{BinaryOperator, Expr};
use crate::schema::{PlanSchema, struct_field};

impl Expr {
    /// The type this resolved expression produces over `schema`.
    ///
    /// Fails on unresolved parts: the analyzer must run first.
    pub fn data_type(&self, schema: &PlanSchema) -> Result<DataType> {
        Ok(match self {
            Expr::Column(c) => schema
                .field(schema.index_of(c.relation.as_deref(), &c.name)?)
                .field
                .data_type()
                .clone(),
            Expr::Literal(v) => v.data_type(),
            Expr::Alias(e, _) | Expr::Negative(e) => e.data_type(schema)?,
            // Spark's result types, including DecimalPrecision for decimal arithmetic.
            Expr::BinaryOp { left, op, right } => crate::expr::coercion::binary_result_type(
                *op,
                &left.data_type(schema)?,
                &right.data_type(schema)?,
            ),
            Expr::Not(_)
            | Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::InList { .. }
            | Expr::Like { .. } => DataType::Boolean,
            Expr::Cast { to, .. } => to.clone(),
            Expr::Case {
                branches,
                otherwise,
                ..
            } => {
                // After coercion every branch has the same type; skip untyped NULLs.
                let mut dt = DataType::Null;
                for t in branches
                    .iter()
                    .map(|(_, t)| t)
                    .chain(otherwise.iter().map(|e| e.as_ref()))
                {
                    let t = t.data_type(schema)?;
                    if t != DataType::Null {
                        dt = t;
                        break;
                    }
                }
                dt
            }
            Expr::GetField { expr, name } => {
                let dt = expr.data_type(schema)?;
                struct_field(&dt, name)
                    .map(|f| f.data_type().clone())
                    .ok_or_else(|| {
                        EngineError::analysis(
                            "FIELD_NOT_FOUND",
                            format!("No such struct field `{name}` in {expr}. SQLSTATE: 42704"),
                        )
                    })?
            }
            Expr::ScalarFunction { func, args } => {
                let types = args
                    .iter()
                    .map(|a| a.data_type(schema))
                    .collect::<Result<Vec<_>>>()?;
                func.return_type(&types)?
            }
            Expr::AggregateFunction { func, args, .. } => {
                let types = args
                    .iter()
                    .map(|a| a.data_type(schema))
                    .collect::<Result<Vec<_>>>()?;
                func.return_type(&types)?
            }
            Expr::LambdaVariable(v) => v.bound()?.data_type.clone(),
            Expr::Lambda(l) => l.body.data_type(schema)?,
            Expr::HigherOrderFunction { func, args } => {
                let types = args
                    .iter()
                    .map(|a| a.data_type(schema))
                    .collect::<Result<Vec<_>>>()?;
                func.return_type(&types)?
            }
            Expr::UnresolvedColumn(_) | Expr::UnresolvedFunction { .. } | Expr::Star(_) => {
                return Err(EngineError::Internal(format!(
                    "type of unresolved expression {self} requested before analysis"
                )));
            }
        })
    }

    /// Whether this resolved expression can produce NULL over `schema` (conservative).
    pub fn nullable(&self, schema: &PlanSchema) -> Result<bool> {
        Ok(match self {
            Expr::Column(c) => schema
                .field(schema.index_of(c.relation.as_deref(), &c.name)?)
                .field
                .is_nullable(),
            Expr::Literal(v) => v.is_null(),
            Expr::Alias(e, _) | Expr::Not(e) | Expr::Negative(e) => e.nullable(schema)?,
            Expr::IsNull(_) | Expr::IsNotNull(_) => false,
            Expr::BinaryOp { left, op, right } => match op {
                BinaryOperator::NullSafeEq => false,
                // Division by zero and overflow give NULL outside ANSI mode.
                BinaryOperator::Divide | BinaryOperator::IntDivide | BinaryOperator::Modulo => true,
                _ => left.nullable(schema)? || right.nullable(schema)?,
            },
            Expr::AggregateFunction { func, .. } => func.nullable(),
            Expr::LambdaVariable(v) => v.bound()?.nullable,
            Expr::Lambda(l) => l.body.nullable(schema)?,
            _ => true,
        })
    }

    /// The Arrow field this expression produces: its output name, type and nullability.
    pub fn to_field(&self, schema: &PlanSchema) -> Result<Field> {
        Ok(Field::new(
            self.output_name(),
            self.data_type(schema)?,
            self.nullable(schema)?,
        ))
    }
}
