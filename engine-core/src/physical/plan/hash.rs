//! Hashing key columns, shared by the exchange, the hash join and the hash aggregate so
//! equal keys always land in the same partition and bucket.

use crate::Result;
use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{self as t, DataType};
use arrow::row::{RowConverter, SortField};

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

#[inline]
fn mix(h: u64, v: u64) -> u64 {
    // A fixed, fast mixer (from splitmix64): deterministic across runs and processes,
    // which streaming state partitioning will rely on.
    let mut z = h ^ v
        .wrapping_add(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(h << 6)
        .wrapping_add(h >> 2);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[inline]
fn hash_bytes(b: &[u8]) -> u64 {
    let mut h = SEED ^ b.len() as u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = mix(h, u64::from_le_bytes(w));
    }
    let rem = chunks.remainder();
    if !rem.is_empty() {
        let mut w = [0u8; 8];
        w[..rem.len()].copy_from_slice(rem);
        h = mix(h, u64::from_le_bytes(w));
    }
    h
}

/// Combines the hash of every row of `arrays` into `hashes` (resized to the row count).
/// NULLs hash to a fixed value; equal values of the same type hash equally.
pub fn hash_arrays(arrays: &[ArrayRef], hashes: &mut Vec<u64>) -> Result<()> {
    let n = arrays.first().map_or(0, |a| a.len());
    hashes.clear();
    hashes.resize(n, SEED);
    for a in arrays {
        hash_one(a, hashes)?;
    }
    Ok(())
}

fn hash_one(a: &ArrayRef, hashes: &mut [u64]) -> Result<()> {
    macro_rules! prim {
        ($ty:ty, $conv:expr) => {{
            let arr = a.as_primitive::<$ty>();
            let conv = $conv;
            if arr.null_count() == 0 {
                for (h, v) in hashes.iter_mut().zip(arr.values().iter()) {
                    *h = mix(*h, conv(*v));
                }
            } else {
                for (i, h) in hashes.iter_mut().enumerate() {
                    *h = if arr.is_null(i) {
                        mix(*h, 0)
                    } else {
                        mix(*h, conv(arr.value(i)))
                    };
                }
            }
        }};
    }
    match a.data_type() {
        DataType::Int8 => prim!(t::Int8Type, |v: i8| v as u64),
        DataType::Int16 => prim!(t::Int16Type, |v: i16| v as u64),
        DataType::Int32 => prim!(t::Int32Type, |v: i32| v as u64),
        DataType::Int64 => prim!(t::Int64Type, |v: i64| v as u64),
        DataType::Date32 => prim!(t::Date32Type, |v: i32| v as u64),
        DataType::Timestamp(t::TimeUnit::Microsecond, _) => {
            prim!(t::TimestampMicrosecondType, |v: i64| v as u64)
        }
        // -0.0 and 0.0 are equal keys in Spark, and all NaNs are one key.
        DataType::Float64 => prim!(t::Float64Type, |v: f64| norm_f64(v)),
        DataType::Float32 => prim!(t::Float32Type, |v: f32| norm_f64(f64::from(v))),
        DataType::Decimal128(_, _) => {
            prim!(t::Decimal128Type, |v: i128| (v as u64) ^ ((v >> 64) as u64))
        }
        DataType::Utf8 => {
            let arr = a.as_string::<i32>();
            for (i, h) in hashes.iter_mut().enumerate() {
                *h = if arr.is_null(i) {
                    mix(*h, 0)
                } else {
                    mix(*h, hash_bytes(arr.value(i).as_bytes()))
                };
            }
        }
        DataType::Binary => {
            let arr = a.as_binary::<i32>();
            for (i, h) in hashes.iter_mut().enumerate() {
                *h = if arr.is_null(i) {
                    mix(*h, 0)
                } else {
                    mix(*h, hash_bytes(arr.value(i)))
                };
            }
        }
        DataType::Boolean => {
            let arr = a.as_boolean();
            for (i, h) in hashes.iter_mut().enumerate() {
                *h = if arr.is_null(i) {
                    mix(*h, 0)
                } else {
                    mix(*h, 1 + arr.value(i) as u64)
                };
            }
        }
        DataType::Null => {
            for h in hashes.iter_mut() {
                *h = mix(*h, 0);
            }
        }
        other => {
            // Nested and rare types: hash their row-format encoding.
            let conv = RowConverter::new(vec![SortField::new(other.clone())])?;
            let rows = conv.convert_columns(std::slice::from_ref(a))?;
            for (i, h) in hashes.iter_mut().enumerate() {
                *h = mix(*h, hash_bytes(rows.row(i).as_ref()));
            }
        }
    }
    Ok(())
}

#[inline]
fn norm_f64(v: f64) -> u64 {
    if v.is_nan() {
        0x7ff8_0000_0000_0000
    } else if v == 0.0 {
        0
    } else {
        v.to_bits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn equal_values_hash_equally() {
        let a: ArrayRef = Arc::new(arrow::array::StringArray::from(vec![
            Some("x"),
            None,
            Some("x"),
        ]));
        let b: ArrayRef = Arc::new(arrow::array::Int64Array::from(vec![1, 2, 1]));
        let mut h = Vec::new();
        hash_arrays(&[a, b], &mut h).unwrap();
        assert_eq!(h[0], h[2]);
        assert_ne!(h[0], h[1]);
    }

    #[test]
    fn zero_and_negative_zero_match() {
        let a: ArrayRef = Arc::new(arrow::array::Float64Array::from(vec![0.0, -0.0]));
        let mut h = Vec::new();
        hash_arrays(&[a], &mut h).unwrap();
        assert_eq!(h[0], h[1]);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use std::sync::Arc;

    proptest! {
        /// Rows with equal keys hash equally, whatever batch they arrive in: the exchange and
        /// the hash join rely on it to send equal keys to the same partition.
        #[test]
        fn equal_keys_hash_equally(
            rows in proptest::collection::vec((proptest::option::of(-3i64..3), proptest::option::of("[ab]{0,9}")), 1..40),
            split in 0usize..40,
        ) {
            let split = split.min(rows.len());
            let batch = |rs: &[(Option<i64>, Option<String>)]| -> Vec<ArrayRef> {
                vec![
                    Arc::new(arrow::array::Int64Array::from(rs.iter().map(|r| r.0).collect::<Vec<_>>())),
                    Arc::new(arrow::array::StringArray::from(rs.iter().map(|r| r.1.clone()).collect::<Vec<_>>())),
                ]
            };
            let (mut h1, mut h2) = (Vec::new(), Vec::new());
            hash_arrays(&batch(&rows[..split]), &mut h1).unwrap();
            hash_arrays(&batch(&rows[split..]), &mut h2).unwrap();
            let hashes: Vec<u64> = h1.into_iter().chain(h2).collect();
            for i in 0..rows.len() {
                for j in 0..rows.len() {
                    if rows[i] == rows[j] {
                        prop_assert_eq!(hashes[i], hashes[j]);
                    }
                }
            }
        }
    }
}
