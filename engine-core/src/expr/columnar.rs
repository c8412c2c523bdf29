//! [`ColumnarValue`], what expressions and functions compute (an array or one scalar for
//! the whole batch), and the helpers that apply Arrow kernels to such values while keeping
//! Spark's error classes.

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use arrow::error::ArrowError;

use crate::scalar::ScalarValue;
use crate::{EngineError, Result};

/// A value that is either one per row or one for the whole batch.
#[derive(Debug, Clone)]
pub enum ColumnarValue {
    /// One value per row.
    Array(ArrayRef),
    /// The same value for every row.
    Scalar(ScalarValue),
}

impl ColumnarValue {
    /// The value's type.
    pub fn data_type(&self) -> DataType {
        match self {
            ColumnarValue::Array(a) => a.data_type().clone(),
            ColumnarValue::Scalar(s) => s.data_type(),
        }
    }

    /// As an array of `num_rows` rows (a scalar is repeated).
    pub fn into_array(self, num_rows: usize) -> Result<ArrayRef> {
        match self {
            ColumnarValue::Array(a) => Ok(a),
            ColumnarValue::Scalar(s) => s.to_array(num_rows),
        }
    }

    /// As an array of `num_rows` rows, without consuming.
    pub fn to_array(&self, num_rows: usize) -> Result<ArrayRef> {
        self.clone().into_array(num_rows)
    }
}

/// The most bytes the values of one string or binary array can take (Arrow's 32-bit
/// offsets): a function whose result would be larger fails instead of panicking in Arrow.
pub const MAX_ARRAY_BYTES: usize = i32::MAX as usize;

/// The error for a result of `function` that would take `bytes` bytes, more than one array
/// holds ([`MAX_ARRAY_BYTES`]). Spark's class for results over its own size limit.
pub fn result_too_large(function: &str, bytes: u128) -> EngineError {
    EngineError::execution(
        "COLLECTION_SIZE_LIMIT_EXCEEDED",
        format!(
            "Can't create the result of `{function}` with {bytes} bytes, which exceeds the size limit {MAX_ARRAY_BYTES} of one batch of values. SQLSTATE: 54000"
        ),
    )
}

/// Adds `more` bytes to `total`, the bytes of the result of `function` so far; an error once
/// the result would not fit in one array.
pub fn add_result_bytes(function: &str, total: &mut usize, more: u128) -> Result<()> {
    let sum = (*total as u128).saturating_add(more);
    if sum > MAX_ARRAY_BYTES as u128 {
        return Err(result_too_large(function, sum));
    }
    // `sum` fits: it is at most MAX_ARRAY_BYTES.
    *total = usize::try_from(sum).unwrap_or(MAX_ARRAY_BYTES);
    Ok(())
}

/// Marks a Spark error carried through an Arrow kernel closure (which can only return
/// [`ArrowError`]): `CLASS\u{1}message`.
const SPARK_ERROR_SEP: char = '\u{1}';

/// An [`ArrowError`] that [`arrow_to_engine`] turns back into a Spark error with `class`.
pub fn spark_arrow_error(class: &str, message: String) -> ArrowError {
    ArrowError::ComputeError(format!("{class}{SPARK_ERROR_SEP}{message}"))
}

/// Converts a kernel error, restoring Spark errors made by [`spark_arrow_error`].
pub fn arrow_to_engine(e: ArrowError) -> EngineError {
    if let ArrowError::ComputeError(m) = &e
        && let Some((class, message)) = m.split_once(SPARK_ERROR_SEP)
    {
        return EngineError::execution(class, message);
    }
    EngineError::Arrow(e)
}

/// Applies a [`arrow::array::Datum`] kernel to two values; scalars stay scalars (a scalar
/// operand is passed as an Arrow `Scalar`, so it is never expanded to `num_rows`).
pub fn apply_datum(
    l: &ColumnarValue,
    r: &ColumnarValue,
    f: impl Fn(
        &dyn arrow::array::Datum,
        &dyn arrow::array::Datum,
    ) -> std::result::Result<ArrayRef, ArrowError>,
) -> Result<ColumnarValue> {
    use arrow::array::Scalar;
    let out = match (l, r) {
        (ColumnarValue::Array(a), ColumnarValue::Array(b)) => f(a, b),
        (ColumnarValue::Array(a), ColumnarValue::Scalar(s)) => f(a, &Scalar::new(s.to_array(1)?)),
        (ColumnarValue::Scalar(s), ColumnarValue::Array(b)) => f(&Scalar::new(s.to_array(1)?), b),
        (ColumnarValue::Scalar(x), ColumnarValue::Scalar(y)) => {
            let out = f(&x.to_array(1)?, &y.to_array(1)?).map_err(arrow_to_engine)?;
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                out.as_ref(),
                0,
            )?));
        }
    };
    Ok(ColumnarValue::Array(out.map_err(arrow_to_engine)?))
}

/// Applies an array kernel to two values: two scalars are computed once on one row (and
/// stay a scalar); otherwise a scalar operand is expanded to `num_rows`.
pub fn apply_arrays(
    l: ColumnarValue,
    r: ColumnarValue,
    num_rows: usize,
    f: impl Fn(&ArrayRef, &ArrayRef) -> Result<ArrayRef>,
) -> Result<ColumnarValue> {
    if let (ColumnarValue::Scalar(x), ColumnarValue::Scalar(y)) = (&l, &r) {
        let out = f(&x.to_array(1)?, &y.to_array(1)?)?;
        return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
            out.as_ref(),
            0,
        )?));
    }
    let a = l.into_array(num_rows)?;
    let b = r.into_array(num_rows)?;
    Ok(ColumnarValue::Array(f(&a, &b)?))
}

/// Applies an array kernel to one value; a scalar is computed on one row and stays scalar.
pub fn apply_unary(
    v: ColumnarValue,
    f: impl Fn(&ArrayRef) -> Result<ArrayRef>,
) -> Result<ColumnarValue> {
    match v {
        ColumnarValue::Array(a) => Ok(ColumnarValue::Array(f(&a)?)),
        ColumnarValue::Scalar(s) => {
            let out = f(&s.to_array(1)?)?;
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                out.as_ref(),
                0,
            )?))
        }
    }
}
