//! `KeyFilter`: the keys the working copy may hold, so that counting rows at commit (Spark's
//! `trackTotalNumberOfRows`) skips the LSM point read for a key that is certainly new.
//!
//! The point read of a new key searches the memtables and probes every table's filter; this
//! one Bloom filter answers for the whole keyspace with one cache line per layer. It must hold every key
//! the keyspace holds (a missing key would miscount rows): keys are added before they are
//! written and never taken out (a removed key only costs a point read later). A Bloom filter
//! cannot grow, so it is a list of filters of growing capacity (a scalable Bloom filter): a key
//! is added to the newest, looked up in all of them.

use std::hash::BuildHasher;

use hashbrown::DefaultHashBuilder;

/// Bits per key: with eight bits set in a 512-bit block, about 0.1% false positives per
/// layer. Every layer is probed for a new key, so the layers' rates add up, and each false
/// positive costs an LSM point read (a probe of every table's filter, several microseconds),
/// far more than the 6 bytes per key more than a 1%-filter would take.
const BITS_PER_KEY: u64 = 16;
/// Keys the first layer takes (a store with few keys keeps a small filter); each next layer
/// takes `GROWTH` times more.
const FIRST_CAPACITY: u64 = 1 << 16;
const GROWTH: u64 = 4;
/// Odd multipliers that pick the bits of a key in its block.
const SALTS: [u64; 8] = [
    0x9E37_79B9_7F4A_7C15,
    0xC2B2_AE3D_27D4_EB4F,
    0x1656_67B1_9E37_79F9,
    0x85EB_CA77_C2B2_AE63,
    0x27D4_EB2F_1656_67C5,
    0x94D0_49BB_1331_11EB,
    0xBF58_476D_1CE4_E5B9,
    0xD6E8_FEB8_6659_FD93,
];

/// One fixed-size blocked Bloom filter.
struct Layer {
    blocks: Vec<[u64; 8]>,
    capacity: u64,
    len: u64,
}

impl Layer {
    fn new(capacity: u64) -> Layer {
        let blocks = (capacity * BITS_PER_KEY).div_ceil(512).max(1);
        Layer {
            blocks: vec![[0; 8]; usize::try_from(blocks).unwrap_or(1)],
            capacity,
            len: 0,
        }
    }

    /// The block of hash `h` (its high bits scaled to the block count) and its bits.
    #[inline]
    fn locate(&self, h: u64) -> (usize, [(usize, u64); 8]) {
        let block = ((u128::from(h) * self.blocks.len() as u128) >> 64) as usize;
        let low = h.rotate_left(32);
        let bits = SALTS.map(|s| {
            let pos = low.wrapping_mul(s) >> 55; // 9 bits: one of 512
            ((pos >> 6) as usize, 1u64 << (pos & 63))
        });
        (block, bits)
    }

    /// Whether every bit of `h` is set; no early exit, so that a loop over many hashes has
    /// no branch on the loaded bits and the processor overlaps the blocks' cache misses.
    #[inline]
    fn may_contain(&self, h: u64) -> bool {
        let (block, bits) = self.locate(h);
        self.blocks.get(block).is_none_or(|b| {
            bits.iter().fold(true, |all, (w, m)| {
                all & b.get(*w).is_none_or(|x| x & m != 0)
            })
        })
    }

    fn insert(&mut self, h: u64) {
        let (block, bits) = self.locate(h);
        if let Some(b) = self.blocks.get_mut(block) {
            for (w, m) in bits {
                if let Some(x) = b.get_mut(w) {
                    *x |= m;
                }
            }
        }
        self.len += 1;
    }
}

/// A set of keys that answers "certainly absent" or "maybe present".
pub(crate) struct KeyFilter {
    hasher: DefaultHashBuilder,
    layers: Vec<Layer>,
}

impl Default for KeyFilter {
    fn default() -> Self {
        KeyFilter {
            hasher: DefaultHashBuilder::default(),
            layers: vec![Layer::new(FIRST_CAPACITY)],
        }
    }
}

impl KeyFilter {
    /// The filter's hash of `key`, for [`KeyFilter::may_contain_all`] and
    /// [`KeyFilter::insert_hash`].
    #[inline]
    pub fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// False only when `key` was never added.
    #[cfg(test)]
    pub fn may_contain(&self, key: &[u8]) -> bool {
        let h = self.hash(key);
        self.layers.iter().any(|l| l.may_contain(h))
    }

    /// For each hash, false only when its key was never added. One pass per layer over all
    /// the hashes: a lookup misses the cache in every layer larger than the cache, and the
    /// passes let those misses overlap instead of waiting for each in turn.
    pub fn may_contain_all(&self, hashes: &[u64]) -> Vec<bool> {
        let mut maybe = vec![false; hashes.len()];
        for layer in &self.layers {
            for (m, &h) in maybe.iter_mut().zip(hashes) {
                *m |= layer.may_contain(h);
            }
        }
        maybe
    }

    /// Adds `key` (adding it twice only costs space).
    pub fn insert(&mut self, key: &[u8]) {
        self.insert_hash(self.hash(key));
    }

    /// Adds the key of hash `h` (from [`KeyFilter::hash`]).
    pub fn insert_hash(&mut self, h: u64) {
        let full = self.layers.last().is_none_or(|l| l.len >= l.capacity);
        if full {
            let capacity = self
                .layers
                .last()
                .map_or(FIRST_CAPACITY, |l| l.capacity.saturating_mul(GROWTH));
            self.layers.push(Layer::new(capacity));
        }
        if let Some(l) = self.layers.last_mut() {
            l.insert(h);
        }
    }

    /// Bytes the filter holds.
    pub fn bytes(&self) -> u64 {
        self.layers.iter().map(|l| l.blocks.len() as u64 * 64).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_forgets_a_key_and_rarely_claims_a_new_one() {
        let mut f = KeyFilter::default();
        let n = 400_000u64; // spans three layers
        for i in 0..n {
            f.insert(&i.to_be_bytes());
        }
        assert_eq!(f.layers.len(), 3);
        assert!((0..n).all(|i| f.may_contain(&i.to_be_bytes())));
        let false_positives = (n..2 * n)
            .filter(|i| f.may_contain(&i.to_be_bytes()))
            .count();
        // About 0.1% per layer; well under 1% for three.
        assert!(false_positives < (n / 100) as usize, "{false_positives}");
        let hashes: Vec<u64> = (0..2 * n).map(|i| f.hash(&i.to_be_bytes())).collect();
        let maybe = f.may_contain_all(&hashes);
        assert!(maybe.iter().take(n as usize).all(|m| *m));
        let batch_false_positives = maybe.iter().skip(n as usize).filter(|m| **m).count();
        assert_eq!(batch_false_positives, false_positives);
    }
}
