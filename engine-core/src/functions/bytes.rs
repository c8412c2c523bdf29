//! Row access to byte-like columns (STRING and BINARY alike), for functions that Spark
//! defines on bytes and accepts strings for (`md5`, `crc32`, `base64`, `octet_length`, ...).

use arrow::array::{Array, AsArray, BinaryArray, LargeBinaryArray, LargeStringArray, StringArray};
use arrow::datatypes::DataType;

use crate::{EngineError, Result};

/// A STRING, BINARY or NULL-typed column seen as rows of bytes.
pub(crate) enum ByteRows<'a> {
    /// UTF-8 strings: their bytes.
    Str(&'a StringArray),
    /// Large UTF-8 strings: their bytes.
    LargeStr(&'a LargeStringArray),
    /// Binary values.
    Bin(&'a BinaryArray),
    /// Large binary values.
    LargeBin(&'a LargeBinaryArray),
    /// A column of the NULL type: every row is NULL.
    Null,
}

impl<'a> ByteRows<'a> {
    /// Views `a`, which the analyzer made a string, binary or NULL column.
    pub(crate) fn new(a: &'a dyn Array) -> Result<Self> {
        Ok(match a.data_type() {
            DataType::Utf8 => ByteRows::Str(a.as_string::<i32>()),
            DataType::LargeUtf8 => ByteRows::LargeStr(a.as_string::<i64>()),
            DataType::Binary => ByteRows::Bin(a.as_binary::<i32>()),
            DataType::LargeBinary => ByteRows::LargeBin(a.as_binary::<i64>()),
            DataType::Null => ByteRows::Null,
            other => {
                return Err(EngineError::Internal(format!(
                    "expected a string or binary column, got {other}"
                )));
            }
        })
    }

    /// The bytes of row `i`, `None` when it is NULL.
    pub(crate) fn get(&self, i: usize) -> Option<&'a [u8]> {
        match self {
            ByteRows::Str(a) => a.is_valid(i).then(|| a.value(i).as_bytes()),
            ByteRows::LargeStr(a) => a.is_valid(i).then(|| a.value(i).as_bytes()),
            ByteRows::Bin(a) => a.is_valid(i).then(|| a.value(i)),
            ByteRows::LargeBin(a) => a.is_valid(i).then(|| a.value(i)),
            ByteRows::Null => None,
        }
    }
}

/// Whether `dt` is a byte-like type that [`ByteRows`] reads as it is.
pub(crate) fn is_byte_like(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::Null
    )
}

/// Lower-case hexadecimal digits of `b`, as Spark's `Hex.hex` on digests.
pub(crate) fn lower_hex(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(char::from(DIGITS[usize::from(x >> 4)]));
        s.push(char::from(DIGITS[usize::from(x & 0x0f)]));
    }
    s
}
