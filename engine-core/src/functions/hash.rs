//! Spark's row hashes: `hash` (Murmur3 x86_32) and `xxhash64`, both seeded with 42.
//!
//! Each argument is hashed in Spark's binary form (INT-sized values as 4 bytes, BIGINT-sized
//! ones as 8, strings and binaries as their bytes) and the hash of one argument is the seed
//! of the next; a NULL leaves the seed as it is. Nested values fold their elements (arrays),
//! fields (structs) the same way, so the results equal Spark's for the same rows.

use std::sync::Arc;

use arrow::array::{Array, AsArray, Int32Builder, Int64Builder};
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, DurationMicrosecondType, Float32Type, Float64Type,
    Int8Type, Int16Type, Int32Type, Int64Type, IntervalUnit, IntervalYearMonthType, TimeUnit,
    TimestampMicrosecondType,
};

use super::string::{SimpleFunction, arrays, rows, wrap};
use super::{FunctionContext, ScalarFunction};
use crate::expr::columnar::ColumnarValue;
use crate::{EngineError, Result};

/// The seed Spark's `hash` and `xxhash64` start from.
const SEED: i32 = 42;

/// One of Spark's two hash families, over the three shapes Spark feeds them.
trait SparkHasher {
    /// The running hash, also the seed of the next value.
    type Seed: Copy;
    /// A 4-byte value (INT, DATE, BOOLEAN, FLOAT bits, ...).
    fn int(v: i32, seed: Self::Seed) -> Self::Seed;
    /// An 8-byte value (BIGINT, TIMESTAMP, DOUBLE bits, small DECIMAL, ...).
    fn long(v: i64, seed: Self::Seed) -> Self::Seed;
    /// A byte string (STRING as UTF-8, BINARY, large DECIMAL's unscaled bytes).
    fn bytes(b: &[u8], seed: Self::Seed) -> Self::Seed;
}

/// Spark's `Murmur3_x86_32`. Hand-written rather than taken from a crate because Spark's
/// `hashUnsafeBytes` mixes each of the last `len % 4` bytes as a separate sign-extended int
/// (kept for compatibility with Spark 2.2), which no standard Murmur3 crate reproduces.
struct Murmur3;

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;

fn mix_k1(k1: u32) -> u32 {
    k1.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2)
}

fn mix_h1(h1: u32, k1: u32) -> u32 {
    (h1 ^ k1)
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64)
}

fn fmix(mut h1: u32, len: u32) -> u32 {
    h1 ^= len;
    h1 ^= h1 >> 16;
    h1 = h1.wrapping_mul(0x85eb_ca6b);
    h1 ^= h1 >> 13;
    h1 = h1.wrapping_mul(0xc2b2_ae35);
    h1 ^ (h1 >> 16)
}

/// Spark's `Murmur3_x86_32.hashUnsafeBytes`: whole 4-byte little-endian words, then each
/// remaining byte sign-extended and mixed on its own.
fn murmur3_bytes(b: &[u8], seed: i32) -> i32 {
    let mut h1 = seed as u32;
    let mut words = b.chunks_exact(4);
    for w in &mut words {
        h1 = mix_h1(h1, mix_k1(u32::from_le_bytes([w[0], w[1], w[2], w[3]])));
    }
    for &byte in words.remainder() {
        // Java's `getByte` is signed: 0x80.. become negative ints.
        h1 = mix_h1(h1, mix_k1(i32::from(byte as i8) as u32));
    }
    // Spark passes the length as an int; inputs are far below 4 GiB.
    fmix(h1, b.len() as u32) as i32
}

impl SparkHasher for Murmur3 {
    type Seed = i32;
    fn int(v: i32, seed: i32) -> i32 {
        fmix(mix_h1(seed as u32, mix_k1(v as u32)), 4) as i32
    }
    fn long(v: i64, seed: i32) -> i32 {
        let h1 = mix_h1(seed as u32, mix_k1(v as u32));
        let h1 = mix_h1(h1, mix_k1((v as u64 >> 32) as u32));
        fmix(h1, 8) as i32
    }
    fn bytes(b: &[u8], seed: i32) -> i32 {
        murmur3_bytes(b, seed)
    }
}

/// Spark's `XXH64`: for ints and longs it equals standard XXH64 over the little-endian
/// bytes, and for byte strings it is standard XXH64, so the crate does all three.
struct XxHash64;

impl SparkHasher for XxHash64 {
    type Seed = i64;
    fn int(v: i32, seed: i64) -> i64 {
        xxhash_rust::xxh64::xxh64(&v.to_le_bytes(), seed as u64) as i64
    }
    fn long(v: i64, seed: i64) -> i64 {
        xxhash_rust::xxh64::xxh64(&v.to_le_bytes(), seed as u64) as i64
    }
    fn bytes(b: &[u8], seed: i64) -> i64 {
        xxhash_rust::xxh64::xxh64(b, seed as u64) as i64
    }
}

/// Java's `BigInteger.toByteArray`: the shortest big-endian two's complement form.
fn java_big_integer_bytes(v: i128) -> Vec<u8> {
    let b = v.to_be_bytes();
    let mut start = 0;
    while start + 1 < b.len() {
        let (lead, next) = (b[start], b[start + 1]);
        let redundant = (lead == 0x00 && next & 0x80 == 0) || (lead == 0xff && next & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    b[start..].to_vec()
}

/// Folds row `i` of `a` into `seed`, as Spark's `HashExpression.computeHash` does.
fn hash_value<H: SparkHasher>(a: &dyn Array, i: usize, seed: H::Seed) -> Result<H::Seed> {
    if a.is_null(i) {
        return Ok(seed);
    }
    Ok(match a.data_type() {
        DataType::Null => seed,
        DataType::Boolean => H::int(i32::from(a.as_boolean().value(i)), seed),
        DataType::Int8 => H::int(i32::from(a.as_primitive::<Int8Type>().value(i)), seed),
        DataType::Int16 => H::int(i32::from(a.as_primitive::<Int16Type>().value(i)), seed),
        DataType::Int32 => H::int(a.as_primitive::<Int32Type>().value(i), seed),
        DataType::Date32 => H::int(a.as_primitive::<Date32Type>().value(i), seed),
        DataType::Interval(IntervalUnit::YearMonth) => {
            H::int(a.as_primitive::<IntervalYearMonthType>().value(i), seed)
        }
        DataType::Int64 => H::long(a.as_primitive::<Int64Type>().value(i), seed),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            H::long(a.as_primitive::<TimestampMicrosecondType>().value(i), seed)
        }
        DataType::Duration(TimeUnit::Microsecond) => {
            H::long(a.as_primitive::<DurationMicrosecondType>().value(i), seed)
        }
        DataType::Float32 => {
            // Spark hashes -0.0 as 0.0 and every NaN as Java's canonical NaN.
            let f = a.as_primitive::<Float32Type>().value(i);
            let bits = if f == 0.0 {
                0
            } else if f.is_nan() {
                0x7fc0_0000
            } else {
                f.to_bits() as i32
            };
            H::int(bits, seed)
        }
        DataType::Float64 => {
            let f = a.as_primitive::<Float64Type>().value(i);
            let bits = if f == 0.0 {
                0
            } else if f.is_nan() {
                0x7ff8_0000_0000_0000
            } else {
                f.to_bits() as i64
            };
            H::long(bits, seed)
        }
        DataType::Decimal128(precision, _) => {
            let v = a.as_primitive::<Decimal128Type>().value(i);
            // Spark keeps decimals of up to 18 digits as a long, larger ones as BigDecimal.
            match i64::try_from(v) {
                Ok(small) if *precision <= 18 => H::long(small, seed),
                _ => H::bytes(&java_big_integer_bytes(v), seed),
            }
        }
        DataType::Utf8 => H::bytes(a.as_string::<i32>().value(i).as_bytes(), seed),
        DataType::LargeUtf8 => H::bytes(a.as_string::<i64>().value(i).as_bytes(), seed),
        DataType::Binary => H::bytes(a.as_binary::<i32>().value(i), seed),
        DataType::LargeBinary => H::bytes(a.as_binary::<i64>().value(i), seed),
        DataType::List(_) => {
            let values = a.as_list::<i32>().value(i);
            let mut s = seed;
            for j in 0..values.len() {
                s = hash_value::<H>(values.as_ref(), j, s)?;
            }
            s
        }
        DataType::Struct(_) => {
            let mut s = seed;
            for col in a.as_struct().columns() {
                s = hash_value::<H>(col.as_ref(), i, s)?;
            }
            s
        }
        other => {
            return Err(EngineError::Internal(format!(
                "hash of {other} passed the analyzer"
            )));
        }
    })
}

/// Whether values of `dt` can be hashed; maps cannot (Spark's `HASH_MAP_TYPE`).
pub(crate) fn check_hashable(name: &str, dt: &DataType) -> Result<()> {
    match dt {
        DataType::Map(_, _) => Err(EngineError::analysis(
            "DATATYPE_MISMATCH.HASH_MAP_TYPE",
            format!(
                "Cannot resolve \"{name}\" due to data type mismatch: Input to the function `{name}` cannot contain elements of the \"MAP\" type. In Spark, same maps may have different hashcode, thus hash expressions are prohibited on \"MAP\" elements. To restore previous behavior set \"spark.sql.legacy.allowHashOnMapType\" to \"true\". SQLSTATE: 42K09"
            ),
        )),
        DataType::List(f) => check_hashable(name, f.data_type()),
        DataType::Struct(fields) => fields
            .iter()
            .try_for_each(|f| check_hashable(name, f.data_type())),
        DataType::Null
        | DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::Float32
        | DataType::Float64
        | DataType::Date32
        | DataType::Interval(IntervalUnit::YearMonth)
        | DataType::Timestamp(TimeUnit::Microsecond, _)
        | DataType::Duration(TimeUnit::Microsecond)
        | DataType::Decimal128(_, _)
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Binary
        | DataType::LargeBinary => Ok(()),
        other => Err(EngineError::Unsupported(format!("{name} of {other}"))),
    }
}

/// Spark's `XxHash64Function.hash(value, type, 42)` of row `i` of `a` (the seed for NULL),
/// as `approx_count_distinct` hashes its values.
pub(crate) fn xxhash64_value(a: &dyn Array, i: usize) -> Result<i64> {
    hash_value::<XxHash64>(a, i, i64::from(SEED))
}

/// Arguments are hashed as they are: no casts.
fn coerce_any(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    for t in args {
        check_hashable(name, t)?;
    }
    Ok(args.to_vec())
}

/// Every row's hash of all arguments, starting from [`SEED`].
fn fold_rows<H: SparkHasher>(
    args: &[ColumnarValue],
    n: usize,
    seed: H::Seed,
) -> Result<Vec<H::Seed>> {
    let rows = rows(args, n);
    let cols = arrays(args, rows)?;
    let mut out = vec![seed; rows];
    for col in &cols {
        for (i, h) in out.iter_mut().enumerate() {
            *h = hash_value::<H>(col.as_ref(), i, *h)?;
        }
    }
    Ok(out)
}

fn eval_hash(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let hashes = fold_rows::<Murmur3>(args, n, SEED)?;
    let mut b = Int32Builder::with_capacity(hashes.len());
    b.append_slice(&hashes);
    wrap(args, Arc::new(b.finish()))
}

fn eval_xxhash64(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let hashes = fold_rows::<XxHash64>(args, n, i64::from(SEED))?;
    let mut b = Int64Builder::with_capacity(hashes.len());
    b.append_slice(&hashes);
    wrap(args, Arc::new(b.finish()))
}

/// The row-hash functions, for the registry.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    let s = SimpleFunction::new;
    let many = (1, usize::MAX);
    let mut v = Vec::new();
    v.extend(s("hash", many, coerce_any, |_| Ok(DataType::Int32), eval_hash).entries(&[]));
    v.extend(
        s(
            "xxhash64",
            many,
            coerce_any,
            |_| Ok(DataType::Int64),
            eval_xxhash64,
        )
        .entries(&[]),
    );
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur3_tail_bytes_are_mixed_one_by_one() {
        // Pinned against Spark 4 (`SELECT hash(...)`): lengths 0..5 cover every tail size.
        let cases = [
            ("", 142593372),
            ("a", 1485273170),
            ("ab", -97053317),
            ("abc", 1322437556),
            ("abcd", -396302900),
            ("abcde", 814637928),
            // Two bytes >= 0x80: the tail bytes are sign-extended.
            ("é", 2119106806),
        ];
        for (s, want) in cases {
            assert_eq!(Murmur3::bytes(s.as_bytes(), SEED), want, "{s:?}");
        }
    }

    #[test]
    fn ints_longs_and_chaining_match_spark() {
        assert_eq!(Murmur3::int(1, SEED), -559580957);
        assert_eq!(Murmur3::int(-1, SEED), -1604776387);
        assert_eq!(Murmur3::long(1, SEED), -1712319331);
        assert_eq!(Murmur3::int(2, Murmur3::int(1, SEED)), -222940379);
        assert_eq!(XxHash64::int(1, 42), -6698625589789238999);
        assert_eq!(XxHash64::long(1, 42), -7001672635703045582);
        assert_eq!(XxHash64::bytes(b"abcde", 42), -990457398947679591);
    }

    #[test]
    fn big_integer_bytes_are_minimal() {
        assert_eq!(java_big_integer_bytes(0), vec![0]);
        assert_eq!(java_big_integer_bytes(127), vec![0x7f]);
        assert_eq!(java_big_integer_bytes(128), vec![0x00, 0x80]);
        assert_eq!(java_big_integer_bytes(-1), vec![0xff]);
        assert_eq!(java_big_integer_bytes(-128), vec![0x80]);
        assert_eq!(java_big_integer_bytes(-129), vec![0xff, 0x7f]);
    }
}
