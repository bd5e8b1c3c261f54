//! The keyspace table: `IndexMap`'s design (a dense vector of entries plus a
//! hash table of positions into it), trimmed for memory per key:
//!
//! - a bucket holds a `u32` position and 32 bits of the key's hash (8
//!   bytes, as IndexMap's `usize` alone); the entries hold no hash. Growing
//!   the table rehashes from the buckets alone, without touching the
//!   entries: growing past 900,000 keys takes a few ms, where recomputing
//!   each key's hash (a cache miss per key) took ~95 ms;
//! - the entry vector grows by an eighth, not by doubling, so a big table
//!   holds little unused capacity (which would count as used memory);
//! - the buckets are split in 16 tables by the top 4 bits of the hash, each
//!   growing on its own: a doubling rehashes a sixteenth of the keys, so
//!   the one command that triggers it pauses 1/16 as long (Redis rehashes
//!   incrementally instead; at 7,300,000 keys a whole-table doubling took
//!   ~350 ms).
//!
//! The dense vector is what gives O(1) uniform sampling (expiry, eviction,
//! RANDOMKEY) and a SCAN cursor that survives resizing; see `Db`.
//!
//! Invariant: the shards of `indices` together hold exactly the positions
//! `0..entries.len()`, each once, with the upper 32 bits of the hash of the
//! key at that position, in the shard its top 4 bits name.

use super::bytes::Bytes;
use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

/// A bucket: where the entry is, and the upper half of its key's hash.
#[derive(Clone, Copy)]
struct Slot {
    idx: u32,
    hash: u32,
}

/// The table's 64-bit hash, from the 32 bits a bucket keeps: multiplying
/// by an odd constant spreads them over the word (hashbrown takes the
/// bucket from the low bits and a tag from the top 7).
fn spread(h: u32) -> u64 {
    (h as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Bytes a bucket costs: the slot and hashbrown's control byte.
pub const BUCKET_BYTES: usize = std::mem::size_of::<Slot>() + 1;

/// Bucket tables, picked by the top bits of the hash.
const SHARDS: usize = 16;

fn shard(h: u32) -> usize {
    (h >> 28) as usize
}

pub struct Table<V> {
    indices: [HashTable<Slot>; SHARDS],
    /// The shards' capacities added up (read per command under maxmemory).
    bucket_cap: usize,
    entries: Vec<(Bytes, V)>,
    hasher: DefaultHashBuilder,
}

impl<V> Default for Table<V> {
    fn default() -> Table<V> {
        Table {
            indices: std::array::from_fn(|_| HashTable::new()),
            bucket_cap: 0,
            entries: Vec::new(),
            hasher: DefaultHashBuilder::default(),
        }
    }
}

impl<V> Table<V> {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries that fit without allocating (about: a key whose shard is
    /// full makes that shard grow).
    pub fn capacity(&self) -> usize {
        self.buckets_capacity().min(self.entries.capacity())
    }

    fn hash(&self, key: &[u8]) -> u32 {
        (self.hasher.hash_one(key) >> 32) as u32
    }

    /// Position of `key`.
    pub fn get_index_of(&self, key: &[u8]) -> Option<usize> {
        let entries = &self.entries;
        let h = self.hash(key);
        self.indices[shard(h)]
            .find(spread(h), |s| s.hash == h && entries[s.idx as usize].0.as_slice() == key)
            .map(|s| s.idx as usize)
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.get_index_of(key).map(|i| &self.entries[i].1)
    }

    /// The key and value at position `i`.
    pub fn get_index(&self, i: usize) -> Option<(&Bytes, &V)> {
        self.entries.get(i).map(|(k, v)| (k, v))
    }

    /// Makes room for `additional` more entries in the vector (exactly);
    /// the shards grow as keys come.
    pub fn reserve_exact(&mut self, additional: usize) {
        self.entries.reserve_exact(additional);
    }

    /// Adds `key`, which must not be present; returns its position. When
    /// the table must grow, it grows by an eighth, or by fewer slots if
    /// that many would not fit in `budget` (slots, at least 16): near
    /// maxmemory, reserved-but-empty slots would push the memory in use
    /// over the limit and stay there.
    pub fn insert_new(&mut self, key: Bytes, value: V, budget: usize) -> usize {
        let len = self.entries.len();
        if len == self.entries.capacity() {
            let mut step = (len / 8).min(budget).max(16);
            // Fill the buckets there are before doubling them.
            let room = self.buckets_capacity().saturating_sub(len);
            if room >= 16 {
                step = step.min(room);
            }
            self.reserve_exact(step);
        }
        assert!(len < u32::MAX as usize, "keyspace table full");
        let h = self.hash(&key);
        self.entries.push((key, value));
        let t = &mut self.indices[shard(h)];
        let before = t.capacity();
        t.insert_unique(spread(h), Slot { idx: len as u32, hash: h }, |s| spread(s.hash));
        self.bucket_cap += t.capacity() - before;
        len
    }

    /// Removes the entry at `i`, moving the last entry into its place.
    pub fn swap_remove_index(&mut self, i: usize) -> Option<(Bytes, V)> {
        let key = &self.entries.get(i)?.0;
        let h = self.hash(key);
        if let Ok(slot) = self.indices[shard(h)].find_entry(spread(h), |s| s.idx as usize == i) {
            slot.remove();
        }
        let last = self.entries.len() - 1;
        if i != last {
            let hl = self.hash(&self.entries[last].0);
            if let Some(slot) = self.indices[shard(hl)].find_mut(spread(hl), |s| s.idx as usize == last) {
                slot.idx = i as u32;
            }
        }
        Some(self.entries.swap_remove(i))
    }

    /// Shrinks both parts to hold at least `min` entries.
    pub fn shrink_to(&mut self, min: usize) {
        for t in &mut self.indices {
            let keep = t.len();
            t.shrink_to(keep, |s| spread(s.hash));
        }
        self.bucket_cap = self.indices.iter().map(|t| t.capacity()).sum();
        self.entries.shrink_to(min);
    }

    /// Moves the entries into a vector of capacity `len + keep`, returning
    /// the old (empty) vector for the caller to free elsewhere; positions
    /// do not change, so the buckets stay as they are.
    pub fn compact_entries(&mut self, keep: usize) -> Vec<(Bytes, V)> {
        let mut fresh = Vec::with_capacity(self.entries.len() + keep);
        fresh.append(&mut self.entries);
        std::mem::replace(&mut self.entries, fresh)
    }

    /// Rebuilds the buckets for at least `cap` entries, returning the old
    /// ones for the caller to free elsewhere (one rehash of every key).
    pub fn rebuild_buckets(&mut self, cap: usize) -> impl Send + 'static {
        let per_shard = cap.max(self.entries.len()) / SHARDS + 1;
        let mut fresh: [HashTable<Slot>; SHARDS] = std::array::from_fn(|_| HashTable::with_capacity(per_shard));
        for (i, (k, _)) in self.entries.iter().enumerate() {
            let h = (self.hasher.hash_one(k.as_slice()) >> 32) as u32;
            fresh[shard(h)].insert_unique(spread(h), Slot { idx: i as u32, hash: h }, |s| spread(s.hash));
        }
        self.bucket_cap = fresh.iter().map(|t| t.capacity()).sum();
        std::mem::replace(&mut self.indices, fresh)
    }

    /// Gives back entry slots beyond `len + keep` (a cheap in-place
    /// reallocation; the buckets stay).
    pub fn trim_entries(&mut self, keep: usize) {
        self.entries.shrink_to(self.entries.len() + keep);
    }

    /// Memory to hold back for the next doubling of the buckets, rising
    /// from 0 at 80% of their capacity to the whole cost when full. Under
    /// maxmemory, counting it as used makes eviction make room for the
    /// doubling gradually, instead of owing it all at once (which would
    /// leave memory over the limit, or stall the loop while evicting).
    pub fn doubling_reserve(&self) -> usize {
        if self.bucket_cap < 1024 {
            return 0;
        }
        self.indices
            .iter()
            .map(|t| {
                let (len, cap) = (t.len(), t.capacity());
                let start = cap / 5 * 4;
                if cap < 1024 || len <= start {
                    return 0;
                }
                let cost = cap / 7 * 8 * BUCKET_BYTES;
                cost / (cap - start) * (len - start).min(cap - start)
            })
            .sum()
    }

    /// Entries the vector holds without growing.
    pub fn entries_capacity(&self) -> usize {
        self.entries.capacity()
    }

    /// Entries the buckets hold without growing (all shards together).
    pub fn buckets_capacity(&self) -> usize {
        self.bucket_cap
    }

    /// Empty entry slots.
    pub fn vacant_entries(&self) -> usize {
        self.entries.capacity() - self.entries.len()
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
        assert_eq!(t.indices.iter().map(|s| s.len()).sum::<usize>(), t.entries.len());
        assert_eq!(t.indices.iter().map(|s| s.capacity()).sum::<usize>(), t.bucket_cap);
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
