//! `expr [NOT] IN (list)` with three-valued logic: `1 IN (2, NULL)` is NULL.

use std::fmt;
use std::sync::Arc;

use crate::Result;
use arrow::array::{ArrayRef, AsArray, BooleanArray};
use arrow::compute::kernels::boolean;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use hashbrown::HashSet;

use super::binary::compare;
use super::{ColumnarValue, PhysicalExpr, PhysicalExprRef, apply_arrays};
use crate::expr::BinaryOperator;
use crate::scalar::ScalarValue;

/// `expr IN (list)` as the Kleene OR of `expr = item` over the list (Spark's semantics,
/// including NaN = NaN and -0.0 = 0.0).
#[derive(Debug)]
pub struct InListExpr {
    expr: PhysicalExprRef,
    list: Vec<PhysicalExprRef>,
    negated: bool,
    /// For long lists of constants: a hash set probed once per row.
    set: Option<LiteralSet>,
}

/// The constants of an IN list, hashed.
#[derive(Debug)]
struct LiteralSet {
    values: SetValues,
    /// The list contains NULL: a non-match is NULL rather than false.
    has_null: bool,
}

#[derive(Debug)]
enum SetValues {
    /// Integers, dates and timestamps by their `i64` value.
    Ints(HashSet<i64>),
    /// Floating point by normalized bits (-0.0 = 0.0, every NaN equal).
    Floats(HashSet<u64>),
    /// Strings.
    Strings(HashSet<String>),
}

/// Lists shorter than this compare item by item (vectorized), longer ones hash.
const HASH_THRESHOLD: usize = 6;

fn float_key(v: f64) -> u64 {
    if v.is_nan() {
        f64::NAN.to_bits()
    } else if v == 0.0 {
        0
    } else {
        v.to_bits()
    }
}

impl LiteralSet {
    fn build(dt: &DataType, values: &[ScalarValue]) -> Option<LiteralSet> {
        let has_null = values.iter().any(ScalarValue::is_null);
        let non_null = values.iter().filter(|v| !v.is_null());
        let values = match dt {
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::Date32
            | DataType::Timestamp(_, _) => SetValues::Ints(
                non_null
                    .map(|v| match v {
                        ScalarValue::Int8(Some(x)) => Some(i64::from(*x)),
                        ScalarValue::Int16(Some(x)) => Some(i64::from(*x)),
                        ScalarValue::Int32(Some(x)) | ScalarValue::Date32(Some(x)) => {
                            Some(i64::from(*x))
                        }
                        ScalarValue::Int64(Some(x)) | ScalarValue::TimestampMicros(Some(x), _) => {
                            Some(*x)
                        }
                        _ => None,
                    })
                    .collect::<Option<HashSet<_>>>()?,
            ),
            DataType::Float32 | DataType::Float64 => SetValues::Floats(
                non_null
                    .map(|v| match v {
                        ScalarValue::Float32(Some(x)) => Some(float_key(f64::from(*x))),
                        ScalarValue::Float64(Some(x)) => Some(float_key(*x)),
                        _ => None,
                    })
                    .collect::<Option<HashSet<_>>>()?,
            ),
            DataType::Utf8 => SetValues::Strings(
                non_null
                    .map(|v| match v {
                        ScalarValue::Utf8(Some(x)) => Some(x.clone()),
                        _ => None,
                    })
                    .collect::<Option<HashSet<_>>>()?,
            ),
            _ => return None,
        };
        Some(LiteralSet { values, has_null })
    }

    /// Three-valued membership of every row of `a`.
    fn probe(&self, a: &ArrayRef) -> Result<BooleanArray> {
        let miss = if self.has_null { None } else { Some(false) };
        let hit = |found: bool| if found { Some(true) } else { miss };
        Ok(match &self.values {
            SetValues::Ints(set) => {
                let ints = arrow::compute::cast(a, &DataType::Int64)?;
                ints.as_primitive::<arrow::datatypes::Int64Type>()
                    .iter()
                    .map(|v| v.and_then(|v| hit(set.contains(&v))))
                    .collect()
            }
            SetValues::Floats(set) => {
                let f = arrow::compute::cast(a, &DataType::Float64)?;
                f.as_primitive::<arrow::datatypes::Float64Type>()
                    .iter()
                    .map(|v| v.and_then(|v| hit(set.contains(&float_key(v)))))
                    .collect()
            }
            SetValues::Strings(set) => a
                .as_string::<i32>()
                .iter()
                .map(|v| v.and_then(|v| hit(set.contains(v))))
                .collect(),
        })
    }
}

impl InListExpr {
    /// `expr [NOT] IN (list)`; the analyzer has cast every item to `expr`'s type.
    pub fn new(expr: PhysicalExprRef, list: Vec<PhysicalExprRef>, negated: bool) -> Self {
        InListExpr {
            expr,
            list,
            negated,
            set: None,
        }
    }

    /// Declares that the list is exactly these constants (the planner knows when it is),
    /// so long lists are probed through a hash set instead of one comparison per item.
    pub fn with_literals(mut self, values: &[ScalarValue]) -> Self {
        if values.len() >= HASH_THRESHOLD && values.len() == self.list.len() {
            self.set = LiteralSet::build(self.expr.data_type(), values);
        }
        self
    }
}

impl fmt::Display for InListExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}", self.expr)?;
        if self.negated {
            write!(f, " NOT")?;
        }
        write!(f, " IN (")?;
        for (i, e) in self.list.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{e}")?;
        }
        write!(f, "))")
    }
}

impl PhysicalExpr for InListExpr {
    fn data_type(&self) -> &DataType {
        &DataType::Boolean
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let n = batch.num_rows();
        let value = self.expr.evaluate(batch)?;
        if let Some(set) = &self.set {
            let negated = self.negated;
            return super::apply_unary(value, |a| {
                let found = set.probe(a)?;
                let out = if negated {
                    arrow::compute::not(&found)?
                } else {
                    found
                };
                Ok(Arc::new(out) as ArrayRef)
            });
        }
        let mut acc = ColumnarValue::Scalar(ScalarValue::Boolean(Some(false)));
        for item in &self.list {
            let item = item.evaluate(batch)?;
            let eq = compare(BinaryOperator::Eq, &value, &item)?;
            acc = apply_arrays(acc, eq, n, |a, b| {
                let out = boolean::or_kleene(&bools(a), &bools(b))?;
                Ok(Arc::new(out) as ArrayRef)
            })?;
        }
        // `x IN ()` is false, NULL IN (...) is NULL (Spark).
        if !self.list.is_empty() {
            acc = apply_arrays(acc, value, n, |a, v| {
                let nulls = super::unary::is_null_array(v.as_ref());
                let out = arrow::compute::nullif(a, &nulls)?;
                Ok(out)
            })?;
        }
        if self.negated {
            acc = super::apply_unary(acc, |a| {
                Ok(Arc::new(arrow::compute::not(&bools(a))?) as ArrayRef)
            })?;
        }
        Ok(acc)
    }
}

fn bools(a: &ArrayRef) -> BooleanArray {
    if a.data_type() == &DataType::Null {
        return BooleanArray::from(vec![None; a.len()]);
    }
    a.as_boolean().clone()
}
