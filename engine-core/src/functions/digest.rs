//! Message digests and checksums: `md5`, `sha1`/`sha`, `sha2`, `crc32`.
//!
//! Spark defines them on BINARY and accepts STRING through the implicit cast, so both are
//! read as bytes; digests come back as lower-case hex strings, `crc32` as a BIGINT.

use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::array::{Int64Builder, StringBuilder};
use arrow::datatypes::{DataType, Int32Type};
use sha2::Digest;

use super::bytes::{ByteRows, is_byte_like, lower_hex};
use super::string::{SimpleFunction, arrays, ret_string, rows, want_int, wrap};
use super::{FunctionContext, ScalarFunction, unexpected_input_type};
use crate::Result;
use crate::expr::columnar::ColumnarValue;

/// The first argument is bytes (STRING or BINARY); any further one is an INT.
fn coerce_bytes_then_int(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    args.iter()
        .enumerate()
        .map(|(i, t)| match i {
            0 if is_byte_like(t) => Ok(t.clone()),
            0 => Err(unexpected_input_type(name, 1, "\"BINARY\"", t)),
            _ => want_int(name, i + 1, t),
        })
        .collect()
}

/// Maps every row's bytes to a hex digest; NULL stays NULL.
fn digest_hex(
    args: &[ColumnarValue],
    n: usize,
    f: impl Fn(&[u8]) -> String,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let input = ByteRows::new(a[0].as_ref())?;
    let mut b = StringBuilder::with_capacity(rows, rows * 64);
    for i in 0..rows {
        match input.get(i) {
            Some(v) => b.append_value(f(v)),
            None => b.append_null(),
        }
    }
    wrap(args, Arc::new(b.finish()))
}

fn eval_md5(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    digest_hex(args, n, |v| lower_hex(&md5::Md5::digest(v)))
}

fn eval_sha1(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    digest_hex(args, n, |v| lower_hex(&sha1::Sha1::digest(v)))
}

/// `sha2(bytes, bits)`: SHA-224/256/384/512 (0 means 256); any other length gives NULL.
fn eval_sha2(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let input = ByteRows::new(a[0].as_ref())?;
    let bits = a[1].as_primitive::<Int32Type>();
    let mut b = StringBuilder::with_capacity(rows, rows * 64);
    for i in 0..rows {
        let digest = match (input.get(i), bits.is_valid(i).then(|| bits.value(i))) {
            (Some(v), Some(224)) => Some(lower_hex(&sha2::Sha224::digest(v))),
            (Some(v), Some(0 | 256)) => Some(lower_hex(&sha2::Sha256::digest(v))),
            (Some(v), Some(384)) => Some(lower_hex(&sha2::Sha384::digest(v))),
            (Some(v), Some(512)) => Some(lower_hex(&sha2::Sha512::digest(v))),
            _ => None,
        };
        b.append_option(digest);
    }
    wrap(args, Arc::new(b.finish()))
}

fn eval_crc32(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let input = ByteRows::new(a[0].as_ref())?;
    let mut b = Int64Builder::with_capacity(rows);
    for i in 0..rows {
        b.append_option(input.get(i).map(|v| i64::from(crc32fast::hash(v))));
    }
    wrap(args, Arc::new(b.finish()))
}

/// The digest functions, for the registry.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let s = SimpleFunction::new;
    let c = coerce_bytes_then_int;
    let mut v = Vec::new();
    v.extend(s("md5", (1, 1), c, ret_string, eval_md5).entries(&[]));
    v.extend(s("sha1", (1, 1), c, ret_string, eval_sha1).entries(&["sha"]));
    v.extend(s("sha2", (2, 2), c, ret_string, eval_sha2).entries(&[]));
    v.extend(s("crc32", (1, 1), c, |_| Ok(DataType::Int64), eval_crc32).entries(&[]));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_of_abc_match_spark() {
        assert_eq!(
            lower_hex(&md5::Md5::digest(b"abc")),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            lower_hex(&sha1::Sha1::digest(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(crc32fast::hash(b"abc"), 891568578);
    }
}
