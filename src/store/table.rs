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
//! - from 65,536 entries on, the buckets are split in 16 tables by the top
//!   4 bits of the hash, each growing on its own: a doubling rehashes a
//!   sixteenth of the keys, so the one command that triggers it pauses 1/16
//!   as long (Redis rehashes incrementally instead; at 7,300,000 keys a
//!   whole-table doubling took ~350 ms). Smaller collections keep one
//!   bucket table, so a small set or hash does not pay for 16; the keyspace
//!   is split from the start ([`Table::sharded`]).
//!
//! The dense vector is what gives O(1) uniform sampling (expiry, eviction,
//! RANDOMKEY, SPOP) and a SCAN cursor that survives resizing; see `Db`.
//! The keyspace, big sets and big hashes all use it.
//!
//! Invariant: the shards of `indices` (1 or 16 of them) together hold
//! exactly the positions `0..entries.len()`, each once, with the upper 32
//! bits of the hash of the key at that position, in the shard its top bits
//! name (`shard`).

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

/// Bucket tables of a big table, picked by the top bits of the hash.
const SHARDS: usize = 16;

/// Entries from which the buckets are split in `SHARDS` tables.
const SPLIT_AT: usize = 1 << 16;

/// The shard of hash `h` among `n` (1 or `SHARDS`) tables.
fn shard(h: u32, n: usize) -> usize {
    (h >> 28) as usize & (n - 1)
}

#[derive(Clone)]
pub struct Table<V> {
    /// One bucket table, or `SHARDS` of them from `split_at` entries on.
    indices: Box<[HashTable<Slot>]>,
    /// `SPLIT_AT` for a collection; 0 for the keyspace, which is split from
    /// the start (measured: splitting 1,000,000 keys' table at 65,536 left
    /// ~2.4 MB more RSS, the allocator keeping the freed single table).
    split_at: usize,
    /// The shards' capacities added up (read per command under maxmemory).
    bucket_cap: usize,
    entries: Vec<(Bytes, V)>,
    hasher: DefaultHashBuilder,
}

impl<V> Default for Table<V> {
    fn default() -> Table<V> {
        Table::with_capacity(0)
    }
}

impl<V> std::fmt::Debug for Table<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table").field("len", &self.entries.len()).field("shards", &self.indices.len()).finish()
    }
}

impl<V> Table<V> {
    /// A table with room for `n` entries, one bucket table until it is big.
    pub fn with_capacity(n: usize) -> Table<V> {
        Table::new(n, SPLIT_AT)
    }

    /// An empty table split in `SHARDS` from the start (the keyspace).
    pub fn sharded() -> Table<V> {
        Table::new(0, 0)
    }

    fn new(n: usize, split_at: usize) -> Table<V> {
        let shards = if n >= split_at { SHARDS } else { 1 };
        let per_shard = if n == 0 { 0 } else { n / shards + 1 };
        let indices: Box<[HashTable<Slot>]> = (0..shards).map(|_| HashTable::with_capacity(per_shard)).collect();
        Table {
            bucket_cap: indices.iter().map(|t| t.capacity()).sum(),
            indices,
            split_at,
            entries: Vec::with_capacity(n),
            hasher: DefaultHashBuilder::default(),
        }
    }

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
        self.indices[shard(h, self.indices.len())]
            .find(spread(h), |s| s.hash == h && entries[s.idx as usize].0.as_slice() == key)
            .map(|s| s.idx as usize)
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.get_index_of(key).map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        self.get_index_of(key).map(|i| &mut self.entries[i].1)
    }

    pub fn contains(&self, key: &[u8]) -> bool {
        self.get_index_of(key).is_some()
    }

    /// Removes `key`, moving the last entry into its place.
    pub fn swap_remove(&mut self, key: &[u8]) -> Option<(Bytes, V)> {
        let i = self.get_index_of(key)?;
        self.swap_remove_index(i)
    }

    /// Keeps the entries `keep` says yes to, in their order (which moves
    /// positions, so the buckets are rebuilt: O(n), like IndexMap's).
    pub fn retain(&mut self, mut keep: impl FnMut(&Bytes, &mut V) -> bool) {
        let before = self.entries.len();
        self.entries.retain_mut(|(k, v)| keep(k, v));
        if self.entries.len() != before {
            drop(self.rebuild_buckets(self.entries.len()));
        }
    }

    /// The entries in position order.
    pub fn entries(&self) -> &[(Bytes, V)] {
        &self.entries
    }

    /// Heap bytes of the table itself (not of what keys and values own):
    /// the entry vector and the buckets with their control bytes.
    pub fn heap_size(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<(Bytes, V)>()
            + self.bucket_cap / 7 * 8 * BUCKET_BYTES
            + self.indices.len() * std::mem::size_of::<HashTable<Slot>>()
    }

    /// The key and value at position `i`.
    pub fn get_index(&self, i: usize) -> Option<(&Bytes, &V)> {
        self.entries.get(i).map(|(k, v)| (k, v))
    }

    /// The key and a mutable value at position `i`.
    pub fn get_index_mut(&mut self, i: usize) -> Option<(&Bytes, &mut V)> {
        self.entries.get_mut(i).map(|(k, v)| (&*k, v))
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
        let n = self.indices.len();
        let t = &mut self.indices[shard(h, n)];
        let before = t.capacity();
        t.insert_unique(spread(h), Slot { idx: len as u32, hash: h }, |s| spread(s.hash));
        self.bucket_cap += t.capacity() - before;
        if n == 1 && len + 1 >= self.split_at {
            self.split();
        }
        len
    }

    /// One bucket table → `SHARDS`, from the hashes the slots keep (no key
    /// is read or hashed again).
    fn split(&mut self) {
        let per_shard = self.entries.len() / SHARDS * 2;
        let mut fresh: Box<[HashTable<Slot>]> = (0..SHARDS).map(|_| HashTable::with_capacity(per_shard)).collect();
        for s in self.indices[0].iter() {
            fresh[shard(s.hash, SHARDS)].insert_unique(spread(s.hash), *s, |s| spread(s.hash));
        }
        self.bucket_cap = fresh.iter().map(|t| t.capacity()).sum();
        self.indices = fresh;
    }

    /// Removes the entry at `i`, moving the last entry into its place.
    pub fn swap_remove_index(&mut self, i: usize) -> Option<(Bytes, V)> {
        let key = &self.entries.get(i)?.0;
        let h = self.hash(key);
        let n = self.indices.len();
        let t = &mut self.indices[shard(h, n)];
        let before = t.capacity();
        if let Ok(slot) = t.find_entry(spread(h), |s| s.idx as usize == i) {
            slot.remove();
        }
        // A freed bucket can add to the capacity (hashbrown marks it empty,
        // not deleted, when its neighbours allow).
        self.bucket_cap = self.bucket_cap + t.capacity() - before;
        let last = self.entries.len() - 1;
        if i != last {
            let hl = self.hash(&self.entries[last].0);
            if let Some(slot) = self.indices[shard(hl, n)].find_mut(spread(hl), |s| s.idx as usize == last) {
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
        let cap = cap.max(self.entries.len());
        let shards = if cap >= self.split_at { SHARDS } else { 1 };
        let per_shard = cap / shards + 1;
        let mut fresh: Box<[HashTable<Slot>]> = (0..shards).map(|_| HashTable::with_capacity(per_shard)).collect();
        for (i, (k, _)) in self.entries.iter().enumerate() {
            let h = (self.hasher.hash_one(k.as_slice()) >> 32) as u32;
            fresh[shard(h, shards)].insert_unique(spread(h), Slot { idx: i as u32, hash: h }, |s| spread(s.hash));
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
    fn splits_its_buckets_when_big_and_keeps_every_key() {
        let mut t = Table::default();
        let mut model = HashMap::new();
        for i in 0..(SPLIT_AT as u32 + 5_000) {
            assert_eq!(t.indices.len(), if (i as usize) < SPLIT_AT { 1 } else { SHARDS }, "at {i}");
            let k = format!("member:{i}").into_bytes();
            t.insert_new(Bytes::from_slice(&k), i, usize::MAX);
            model.insert(k, i);
        }
        check(&t, &model);
        for i in (0..SPLIT_AT as u32).step_by(3) {
            let k = format!("member:{i}").into_bytes();
            assert_eq!(t.swap_remove(&k).map(|(_, v)| v), Some(i));
            model.remove(&k);
        }
        check(&t, &model);
        t.retain(|_, v| *v % 2 == 0);
        model.retain(|_, v| *v % 2 == 0);
        check(&t, &model);
        assert_eq!(t.indices.len(), 1, "rebuilt for what is left ({} entries)", t.len());
        let again: Table<u32> = Table::with_capacity(SPLIT_AT);
        assert_eq!(again.indices.len(), SHARDS);
        let mut keyspace: Table<u32> = Table::sharded();
        assert_eq!(keyspace.indices.len(), SHARDS);
        keyspace.insert_new(Bytes::from_slice(b"k"), 1, usize::MAX);
        keyspace.retain(|_, _| true);
        drop(keyspace.rebuild_buckets(0));
        assert_eq!(keyspace.indices.len(), SHARDS, "the keyspace stays split");
        assert_eq!(keyspace.get(b"k"), Some(&1));
    }

    #[test]
    fn retain_keeps_the_order() {
        let mut t = Table::default();
        for i in 0..10u32 {
            t.insert_new(Bytes::from_slice(format!("{i}").as_bytes()), i, usize::MAX);
        }
        t.retain(|_, v| *v != 3 && *v != 7);
        let order: Vec<u32> = t.entries().iter().map(|(_, v)| *v).collect();
        assert_eq!(order, [0, 1, 2, 4, 5, 6, 8, 9]);
        assert_eq!(t.get(b"8"), Some(&8));
        assert!(!t.contains(b"3"));
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
