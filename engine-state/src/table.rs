//! `KeyTable`: the in-memory maps of the state (a version's committed pairs, a batch's change
//! set): a hash table for the point operations, with an ordered index of the keys built on the
//! first range scan and kept up to date from then on.
//!
//! Why not a B-tree: every put of a random key into a tree of millions of keys is a search
//! through nodes far larger than the caches; a hash table finds the slot with one or two cache
//! misses. Order is only needed by range and prefix scans (eviction, session windows), so
//! stores that never scan never pay for it, and stores that do pay the tree insert only for
//! keys that are new, not for updates of existing keys.
//!
//! Each entry is one allocation, `key length (u32 LE) | tag | key | value`, so a change moves
//! from the change set into the committed table at commit without copying, and a put of a
//! value of the same length as the old one overwrites it in place.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::hash::BuildHasher;
use std::ops::Bound;
use std::sync::OnceLock;

use engine_core::{EngineError, Result};
use hashbrown::hash_table::Entry as Slot;
use hashbrown::{DefaultHashBuilder, HashTable};

use crate::key::{Key, compare, head};

/// Bytes before the key: its length and the tag.
const HEAD_LEN: usize = 5;
const TAG_PUT: u8 = 1;
const TAG_REMOVE: u8 = 2;

/// A key with its value (a put) or without (a remove), in one allocation.
#[derive(Clone)]
pub(crate) struct Entry(Box<[u8]>);

impl Entry {
    /// A put of `value` (`Some`) or a remove (`None`) of `key`.
    pub fn new(key: &[u8], value: Option<&[u8]>) -> Result<Entry> {
        let len = u32::try_from(key.len()).map_err(|_| {
            EngineError::Unsupported(format!(
                "a state key of {} bytes (at most 4 GiB)",
                key.len()
            ))
        })?;
        let value_len = value.map_or(0, <[u8]>::len);
        let mut b = Vec::with_capacity(HEAD_LEN + key.len() + value_len);
        b.extend_from_slice(&len.to_le_bytes());
        b.push(if value.is_some() { TAG_PUT } else { TAG_REMOVE });
        b.extend_from_slice(key);
        if let Some(v) = value {
            b.extend_from_slice(v);
        }
        Ok(Entry(b.into_boxed_slice()))
    }

    fn key_end(&self) -> usize {
        let mut n = [0u8; 4];
        if let Some(b) = self.0.get(..4) {
            n.copy_from_slice(b);
        }
        HEAD_LEN + u32::from_le_bytes(n) as usize
    }

    /// The key.
    #[inline]
    pub fn key(&self) -> &[u8] {
        self.0.get(HEAD_LEN..self.key_end()).unwrap_or(&[])
    }

    /// The value of a put, `None` for a remove.
    #[inline]
    pub fn value(&self) -> Option<&[u8]> {
        if self.0.get(4) == Some(&TAG_PUT) {
            Some(self.0.get(self.key_end()..).unwrap_or(&[]))
        } else {
            None
        }
    }

    /// Overwrites the value in place when this is a put of a value of the same length.
    fn overwrite(&mut self, value: &[u8]) -> bool {
        if self.0.get(4) != Some(&TAG_PUT) {
            return false;
        }
        let start = self.key_end();
        match self.0.get_mut(start..) {
            Some(old) if old.len() == value.len() => {
                old.copy_from_slice(value);
                true
            }
            _ => false,
        }
    }
}

/// Estimated bytes per key in the ordered index beyond the key's bytes: the `Key` in the
/// tree node with the node's share of slack, and the allocator's header.
const INDEX_OVERHEAD: u64 = 56;

/// The ordered index: the keys, and the bytes they take (an estimate).
#[derive(Clone, Default)]
struct Index {
    keys: BTreeSet<Key>,
    bytes: u64,
}

impl Index {
    fn insert(&mut self, key: &[u8]) {
        if self.keys.insert(Key::from_slice(key)) {
            self.bytes += key.len() as u64 + INDEX_OVERHEAD;
        }
    }

    fn remove(&mut self, key: &[u8]) {
        if self.keys.remove(&Key::from_slice(key)) {
            self.bytes = self.bytes.saturating_sub(key.len() as u64 + INDEX_OVERHEAD);
        }
    }
}

/// Pairs by key: a hash table, and an ordered index of its keys once a range was asked for.
#[derive(Clone, Default)]
pub(crate) struct KeyTable {
    entries: HashTable<Entry>,
    hasher: DefaultHashBuilder,
    order: OnceLock<Index>,
}

impl KeyTable {
    /// Entries in the table.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Estimated bytes of the ordered index (0 until a range scan built it).
    pub fn index_bytes(&self) -> u64 {
        self.order.get().map_or(0, |o| o.bytes)
    }

    /// The entry of `key`.
    #[inline]
    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        let h = self.hasher.hash_one(key);
        self.entries.find(h, |e| e.key() == key)
    }

    /// Sets `key` to a put of `value` or a remove, reusing the entry's memory when it can.
    pub fn set(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        let h = self.hasher.hash_one(key);
        if let Some(e) = self.entries.find_mut(h, |e| e.key() == key) {
            if let Some(v) = value
                && e.overwrite(v)
            {
                return Ok(());
            }
            *e = Entry::new(key, value)?;
            return Ok(());
        }
        self.insert(Entry::new(key, value)?);
        Ok(())
    }

    /// Inserts `entry`, returning the entry it replaces.
    pub fn insert(&mut self, entry: Entry) -> Option<Entry> {
        let KeyTable {
            entries,
            hasher,
            order,
        } = self;
        let h = hasher.hash_one(entry.key());
        match entries.entry(h, |e| e.key() == entry.key(), |e| hasher.hash_one(e.key())) {
            Slot::Occupied(mut slot) => Some(std::mem::replace(slot.get_mut(), entry)),
            Slot::Vacant(slot) => {
                if let Some(order) = order.get_mut() {
                    order.insert(entry.key());
                }
                slot.insert(entry);
                None
            }
        }
    }

    /// Removes `key`, returning its entry.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let h = self.hasher.hash_one(key);
        let (old, _) = self
            .entries
            .find_entry(h, |e| e.key() == key)
            .ok()?
            .remove();
        if let Some(order) = self.order.get_mut() {
            order.remove(key);
        }
        Some(old)
    }

    /// Empties the table.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.order = OnceLock::new();
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// Every entry in key order (one sort, not a tree: sorting on the keys' first 16 bytes
    /// kept beside each entry decides most comparisons without reading the entry).
    pub fn sorted(&self) -> Vec<&Entry> {
        let mut v: Vec<([u64; 2], &Entry)> =
            self.entries.iter().map(|e| (head(e.key()), e)).collect();
        v.sort_unstable_by(by_key);
        v.into_iter().map(|(_, e)| e).collect()
    }

    /// Takes every entry out, in key order.
    pub fn drain_sorted(&mut self) -> Vec<Entry> {
        self.order = OnceLock::new();
        let mut v: Vec<([u64; 2], Entry)> =
            self.entries.drain().map(|e| (head(e.key()), e)).collect();
        v.sort_unstable_by(|a, b| by_key(&(a.0, &a.1), &(b.0, &b.1)));
        v.into_iter().map(|(_, e)| e).collect()
    }

    /// The entries with keys between the bounds, in key order; the range must not be empty
    /// (see `changes::is_empty_range`). The first call on a table with entries builds the
    /// ordered index; an empty table answers without one, so a batch's change set scanned
    /// only before its first write (a session window's prefix scans) never keeps an index up
    /// to date through its writes.
    pub fn range<'a>(
        &'a self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
    ) -> impl Iterator<Item = &'a Entry> + 'a {
        let order = (!self.entries.is_empty() || self.order.get().is_some()).then(|| {
            self.order.get_or_init(|| {
                let mut index = Index::default();
                for e in &self.entries {
                    index.insert(e.key());
                }
                index
            })
        });
        order
            .map(|o| {
                o.keys
                    .range((start.map(Key::from_slice), end.map(Key::from_slice)))
            })
            .into_iter()
            .flatten()
            .filter_map(move |k| self.get(k.bytes()))
    }
}

fn by_key(a: &([u64; 2], &Entry), b: &([u64; 2], &Entry)) -> Ordering {
    a.0.cmp(&b.0).then_with(|| compare(a.1.key(), b.1.key()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_range_over_an_empty_table_builds_no_index_to_keep_up_to_date() {
        let mut t = KeyTable::default();
        assert_eq!(t.range(Bound::Unbounded, Bound::Unbounded).count(), 0);
        t.set(b"b", Some(b"2")).unwrap();
        t.set(b"a", Some(b"1")).unwrap();
        assert!(
            t.order.get().is_none(),
            "writes after an empty scan keep no index"
        );
        let keys: Vec<&[u8]> = t
            .range(Bound::Unbounded, Bound::Unbounded)
            .map(Entry::key)
            .collect();
        assert_eq!(keys, vec![b"a".as_slice(), b"b".as_slice()]);
        assert!(t.order.get().is_some());
    }

    proptest! {
        #[test]
        fn behaves_as_a_sorted_map(
            ops in prop::collection::vec((0u8..40, prop::option::of(prop::collection::vec(0u8..4, 0..3)), any::<bool>()), 0..200),
            lo in 0u8..40, hi in 0u8..40,
        ) {
            let mut t = KeyTable::default();
            let mut model: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
            for (i, (k, v, scan)) in ops.iter().enumerate() {
                // Keys of different lengths sharing prefixes, some longer than 16 bytes.
                let key: Vec<u8> = std::iter::repeat_n(7u8, usize::from(*k % 20)).chain([*k]).collect();
                if i % 3 == 0 {
                    t.set(&key, v.as_deref()).unwrap();
                    model.insert(key.clone(), v.clone());
                } else if v.is_some() {
                    t.insert(Entry::new(&key, v.as_deref()).unwrap());
                    model.insert(key.clone(), v.clone());
                } else {
                    t.remove(&key);
                    model.remove(&key);
                }
                if *scan {
                    // Builds the index partway through: later writes must keep it right.
                    let n = t.range(Bound::Unbounded, Bound::Unbounded).count();
                    prop_assert_eq!(n, model.len());
                }
            }
            prop_assert_eq!(t.len(), model.len());
            if t.index_bytes() > 0 {
                let want: u64 = model.keys().map(|k| k.len() as u64 + INDEX_OVERHEAD).sum();
                prop_assert_eq!(t.index_bytes(), want);
            }
            let all: Vec<_> = t.sorted().iter().map(|e| (e.key().to_vec(), e.value().map(<[u8]>::to_vec))).collect();
            let want: Vec<_> = model.clone().into_iter().collect();
            prop_assert_eq!(&all, &want);
            let (lo, hi) = (vec![lo % 8], vec![hi % 8, 9]);
            if lo < hi {
                let got: Vec<_> = t.range(Bound::Included(&lo), Bound::Excluded(&hi)).map(|e| e.key().to_vec()).collect();
                let want: Vec<_> = model.range(lo.clone()..hi.clone()).map(|(k, _)| k.clone()).collect();
                prop_assert_eq!(got, want);
            }
            let drained: Vec<_> = t.drain_sorted().iter().map(|e| e.key().to_vec()).collect();
            prop_assert_eq!(drained, model.keys().cloned().collect::<Vec<_>>());
            prop_assert_eq!(t.len(), 0);
        }
    }

    #[test]
    fn overwrites_in_place_only_with_the_same_length() {
        let mut t = KeyTable::default();
        t.set(b"k", Some(b"12")).unwrap();
        t.set(b"k", Some(b"34")).unwrap();
        assert_eq!(t.get(b"k").unwrap().value(), Some(&b"34"[..]));
        t.set(b"k", Some(b"5")).unwrap();
        assert_eq!(t.get(b"k").unwrap().value(), Some(&b"5"[..]));
        t.set(b"k", None).unwrap();
        assert_eq!(t.get(b"k").unwrap().value(), None);
        t.set(b"k", Some(b"")).unwrap();
        assert_eq!(t.get(b"k").unwrap().value(), Some(&b""[..]));
        assert_eq!(t.len(), 1);
    }
}
