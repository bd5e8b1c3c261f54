//! The keyspace table: `IndexMap`'s design (a dense vector of entries plus a
//! hash table of positions into it), trimmed for memory per key:
//!
//! - positions are `u32`, not `usize` (4 bytes a bucket instead of 8);
//! - hashes are not stored with the entries: they are recomputed from the
//!   key when the table grows or an entry moves (foldhash on a short key is
//!   a few nanoseconds), saving 8 bytes an entry;
//! - the entry vector grows by an eighth, not by doubling, so a big table
//!   holds little unused capacity (which would count as used memory).
//!
//! The dense vector is what gives O(1) uniform sampling (expiry, eviction,
//! RANDOMKEY) and a SCAN cursor that survives resizing; see `Db`.
//!
//! Invariant: `indices` holds exactly the positions `0..entries.len()`, each
//! once, under the hash of the key at that position.

use super::bytes::Bytes;
use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

pub struct Table<V> {
    indices: HashTable<u32>,
    entries: Vec<(Bytes, V)>,
    hasher: DefaultHashBuilder,
}

impl<V> Default for Table<V> {
    fn default() -> Table<V> {
        Table { indices: HashTable::new(), entries: Vec::new(), hasher: DefaultHashBuilder::default() }
    }
}

impl<V> Table<V> {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries that fit without allocating.
    pub fn capacity(&self) -> usize {
        self.indices.capacity().min(self.entries.capacity())
    }

    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Position of `key`.
    pub fn get_index_of(&self, key: &[u8]) -> Option<usize> {
        let entries = &self.entries;
        self.indices.find(self.hash(key), |&i| entries[i as usize].0.as_slice() == key).map(|&i| i as usize)
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.get_index_of(key).map(|i| &self.entries[i].1)
    }

    /// The key and value at position `i`.
    pub fn get_index(&self, i: usize) -> Option<(&Bytes, &V)> {
        self.entries.get(i).map(|(k, v)| (k, v))
    }

    /// Makes room for `additional` more entries (exactly, for the vector).
    pub fn reserve_exact(&mut self, additional: usize) {
        let Table { indices, entries, hasher } = self;
        indices.reserve(additional, |&i| hasher.hash_one(entries[i as usize].0.as_slice()));
        entries.reserve_exact(additional);
    }

    /// Adds `key`, which must not be present; returns its position. When
    /// the table must grow, it grows by an eighth, or by fewer slots if
    /// that many would not fit in `budget` (slots, at least 16): near
    /// maxmemory, reserved-but-empty slots would push the memory in use
    /// over the limit and stay there.
    pub fn insert_new(&mut self, key: Bytes, value: V, budget: usize) -> usize {
        if self.entries.len() == self.entries.capacity() {
            self.reserve_exact((self.entries.len() / 8).min(budget).max(16));
        }
        let i = self.entries.len();
        assert!(i < u32::MAX as usize, "keyspace table full");
        let h = self.hash(&key);
        self.entries.push((key, value));
        let Table { indices, entries, hasher } = self;
        indices.insert_unique(h, i as u32, |&j| hasher.hash_one(entries[j as usize].0.as_slice()));
        i
    }

    /// Removes the entry at `i`, moving the last entry into its place.
    pub fn swap_remove_index(&mut self, i: usize) -> Option<(Bytes, V)> {
        let key = &self.entries.get(i)?.0;
        let h = self.hash(key);
        if let Ok(slot) = self.indices.find_entry(h, |&j| j as usize == i) {
            slot.remove();
        }
        let last = self.entries.len() - 1;
        if i != last {
            let hl = self.hash(&self.entries[last].0);
            if let Some(slot) = self.indices.find_mut(hl, |&j| j as usize == last) {
                *slot = i as u32;
            }
        }
        Some(self.entries.swap_remove(i))
    }

    /// Shrinks both parts to hold at least `min` entries.
    pub fn shrink_to(&mut self, min: usize) {
        let Table { indices, entries, hasher } = self;
        indices.shrink_to(min, |&i| hasher.hash_one(entries[i as usize].0.as_slice()));
        entries.shrink_to(min);
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Bytes, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl<V> std::ops::Index<usize> for Table<V> {
    type Output = V;
    fn index(&self, i: usize) -> &V {
        &self.entries[i].1
    }
}

impl<V> std::ops::IndexMut<usize> for Table<V> {
    fn index_mut(&mut self, i: usize) -> &mut V {
        &mut self.entries[i].1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::{prop, proptest};
    use std::collections::HashMap;

    fn check(t: &Table<u32>, model: &HashMap<Vec<u8>, u32>) {
        assert_eq!(t.len(), model.len());
        assert_eq!(t.indices.len(), t.entries.len());
        for (k, v) in model {
            let i = t.get_index_of(k).expect("present");
            assert_eq!(t.entries[i].0.as_slice(), &k[..]);
            assert_eq!(t[i], *v);
        }
    }

    proptest! {
        #[test]
        fn behaves_like_a_map(ops in prop::collection::vec((0u8..4, 0u16..300), 1..600)) {
            let mut t = Table::default();
            let mut model = HashMap::new();
            for (n, (op, k)) in ops.into_iter().enumerate() {
                let key = format!("key:{k}").into_bytes();
                match op {
                    0 | 1 => match t.get_index_of(&key) {
                        Some(i) => { t[i] = n as u32; model.insert(key, n as u32); }
                        None => { t.insert_new(Bytes::from_slice(&key), n as u32, usize::MAX); model.insert(key, n as u32); }
                    },
                    2 => {
                        if let Some(i) = t.get_index_of(&key) {
                            let (k, _) = t.swap_remove_index(i).unwrap();
                            assert_eq!(k.as_slice(), &key[..]);
                            model.remove(&key);
                        }
                    }
                    _ => { let min = t.len(); t.shrink_to(min); }
                }
                assert_eq!(t.get_index_of(b"absent"), None);
            }
            check(&t, &model);
        }
    }

    #[test]
    fn grows_by_an_eighth() {
        let mut t = Table::default();
        for i in 0..100_000u32 {
            t.insert_new(Bytes::from_slice(format!("k{i}").as_bytes()), i, usize::MAX);
        }
        assert!(t.entries.capacity() <= 100_000 + 100_000 / 8 + 16);
        assert_eq!(t.get(b"k99999"), Some(&99_999));
        // With a budget, the step shrinks (but stays at least 16).
        while t.len() < t.entries.capacity() {
            let n = t.len() as u32;
            t.insert_new(Bytes::from_slice(format!("k{n}").as_bytes()), n, usize::MAX);
        }
        let cap = t.entries.capacity();
        t.insert_new(Bytes::from_slice(b"tight"), 0, 100);
        assert_eq!(t.entries.capacity(), cap + 100);
        t.insert_new(Bytes::from_slice(b"tight2"), 0, 0);
        assert_eq!(t.entries.capacity(), cap + 100, "room left from the last step");
    }
}
