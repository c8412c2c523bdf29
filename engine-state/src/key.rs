//! `Key`: a state key in the in-memory maps, ordered as bytes, with its first 16 bytes kept
//! inline.
//!
//! A B-tree search compares the probe with several entries per node; with the key bytes on
//! the heap every comparison is a pointer to follow and, in a map of millions of keys, a cache
//! miss. Keeping the first 16 bytes (zero padded, as two big-endian words) inside the entry
//! decides most comparisons without leaving the node: state keys in Arrow's row format are
//! short (a BIGINT key is 9 bytes) or differ early. Comparing words also avoids calling
//! `memcmp` for every comparison.

use std::cmp::Ordering;

/// An owned key with the byte order of `[u8]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    head: [u64; 2],
    bytes: Box<[u8]>,
}

impl Key {
    /// A key from borrowed bytes (one allocation).
    pub fn from_slice(bytes: &[u8]) -> Key {
        Key::from_box(Box::from(bytes))
    }

    /// A key owning `bytes`.
    pub fn from_box(bytes: Box<[u8]>) -> Key {
        let mut padded = [0u8; 16];
        let n = bytes.len().min(16);
        padded[..n].copy_from_slice(&bytes[..n]);
        let (a, b) = padded.split_at(8);
        Key {
            head: [word(a), word(b)],
            bytes,
        }
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl Ord for Key {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        // Zero padding keeps the order: when the padded heads differ, the keys differ at
        // that byte (or one ends there, and the shorter one is smaller) in the same way.
        self.head
            .cmp(&other.head)
            .then_with(|| compare(&self.bytes, &other.bytes))
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Lexicographic byte order, eight bytes at a time.
#[inline]
pub(crate) fn compare(a: &[u8], b: &[u8]) -> Ordering {
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in ca.by_ref().zip(cb.by_ref()) {
        let (x, y) = (word(x), word(y));
        if x != y {
            return x.cmp(&y);
        }
    }
    // Fewer than eight bytes left in the shorter key: compare the rest byte by byte.
    let done = a.len().min(b.len()) / 8 * 8;
    let (ra, rb) = (a.get(done..).unwrap_or(&[]), b.get(done..).unwrap_or(&[]));
    for (x, y) in ra.iter().zip(rb) {
        if x != y {
            return x.cmp(y);
        }
    }
    ra.len().cmp(&rb.len())
}

#[inline]
fn word(chunk: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(chunk);
    u64::from_be_bytes(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn compares_as_bytes(a in prop::collection::vec(0u8..3, 0..40), b in prop::collection::vec(0u8..3, 0..40)) {
            prop_assert_eq!(compare(&a, &b), a.cmp(&b));
            prop_assert_eq!(Key::from_slice(&a).cmp(&Key::from_slice(&b)), a.cmp(&b));
        }
    }
}
