//! The hash value type: a map of fields to values in one of Redis 7.0's two
//! encodings.
//!
//! - `listpack`: every field and value in one contiguous buffer, each as a
//!   LEB128 length followed by its bytes, pairs in insertion order (an
//!   update keeps the pair where it is, a new field goes to the end, exactly
//!   as Redis's listpack). Lookups scan linearly, which is cheap because the
//!   encoding is only used for small hashes.
//! - `hashtable`: an `IndexMap` (a `hashbrown` table of indices over a dense
//!   vector of pairs, like the keyspace in `db.rs`). The dense vector gives
//!   what HRANDFIELD and HSCAN need from Redis's dict: O(1) uniform sampling
//!   and a cursor that stays valid while the hash changes (see
//!   [`Hash::scan`]).
//!
//! A hash starts as a listpack and becomes a hashtable, never back (like
//! Redis), when it would hold more than `hash-max-listpack-entries` pairs,
//! when a field or value longer than `hash-max-listpack-value` bytes is
//! stored, or when the buffer would pass Redis's listpack safety limit.
//!
//! Invariant (hashtable): `bytes` is the sum of the lengths of all fields and
//! values, so [`Hash::heap_size`] is O(1).

use hashbrown::DefaultHashBuilder;
use indexmap::IndexMap;

/// The hashtable encoding.
type Table = IndexMap<Box<[u8]>, Box<[u8]>, DefaultHashBuilder>;

/// Redis's `LISTPACK_MAX_SAFETY_SIZE`: a listpack is never grown past 1 GiB.
const LISTPACK_MAX_SAFETY_SIZE: usize = 1 << 30;

/// The conversion thresholds, read from the config at each write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `hash-max-listpack-entries`
    pub entries: usize,
    /// `hash-max-listpack-value`
    pub value: usize,
}

impl Default for Limits {
    /// Redis's defaults.
    fn default() -> Limits {
        Limits { entries: 512, value: 64 }
    }
}

/// A hash value.
#[derive(Debug, Clone)]
pub struct Hash {
    repr: Repr,
}

#[derive(Debug, Clone)]
enum Repr {
    Listpack(Listpack),
    Table { map: Table, bytes: usize },
}

impl Default for Hash {
    fn default() -> Hash {
        Hash { repr: Repr::Listpack(Listpack::default()) }
    }
}

/// Equal when they hold the same pairs, whatever the encoding or order.
impl PartialEq for Hash {
    fn eq(&self, other: &Hash) -> bool {
        self.len() == other.len() && self.iter().all(|(f, v)| other.get(f) == Some(v))
    }
}

impl Hash {
    pub fn new() -> Hash {
        Hash::default()
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(lp) => lp.len,
            Repr::Table { map, .. } => map.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Table { .. } => "hashtable",
        }
    }

    /// Heap bytes owned: the listpack buffer, or the table's slots (entry,
    /// index and control byte) plus every field and value allocation.
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Listpack(lp) => lp.buf.capacity(),
            Repr::Table { map, bytes } => {
                let slot = std::mem::size_of::<(u64, Box<[u8]>, Box<[u8]>)>() + std::mem::size_of::<usize>() + 1;
                map.capacity() * slot + bytes
            }
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Listpack(lp) => lp.find(field).map(|f| &lp.buf[f.value.clone()]),
            Repr::Table { map, .. } => map.get(field).map(|v| &v[..]),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Sets `field` to `value`; true if the field is new. Converts to a
    /// hashtable first when either is too long for a listpack, and after
    /// the insert when there are too many pairs (Redis's `hashTypeSet`).
    pub fn insert(&mut self, field: &[u8], value: &[u8], limits: Limits) -> bool {
        if let Repr::Listpack(lp) = &self.repr
            && (field.len() > limits.value
                || value.len() > limits.value
                || lp.buf.len() + field.len() + value.len() + 20 > LISTPACK_MAX_SAFETY_SIZE)
        {
            self.convert();
        }
        let new = match &mut self.repr {
            Repr::Listpack(lp) => lp.insert(field, value),
            Repr::Table { map, bytes } => match map.get_mut(field) {
                Some(v) => {
                    *bytes = *bytes - v.len() + value.len();
                    *v = value.into();
                    false
                }
                None => {
                    *bytes += field.len() + value.len();
                    map.insert(field.into(), value.into());
                    true
                }
            },
        };
        if self.len() > limits.entries && matches!(self.repr, Repr::Listpack(_)) {
            self.convert();
        }
        new
    }

    /// Removes `field`; true if it was there. A hashtable removes by moving
    /// its last pair into the hole, which keeps [`Hash::scan`] cursors valid.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Listpack(lp) => lp.remove(field),
            Repr::Table { map, bytes } => match map.swap_remove_entry(field) {
                Some((f, v)) => {
                    *bytes -= f.len() + v.len();
                    true
                }
                None => false,
            },
        }
    }

    /// Every pair, in listpack order or table order.
    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Listpack(lp) => Iter::Listpack(lp.iter()),
            Repr::Table { map, .. } => Iter::Table(map.iter()),
        }
    }

    /// The pair at position `i` (`i < len`): O(1) for a hashtable, a scan of
    /// the (small) buffer for a listpack. Random sampling uses it.
    pub fn nth(&self, i: usize) -> Option<(&[u8], &[u8])> {
        match &self.repr {
            Repr::Listpack(lp) => lp.iter().nth(i),
            Repr::Table { map, .. } => map.get_index(i).map(|(f, v)| (&f[..], &v[..])),
        }
    }

    /// One HSCAN step from `cursor`: visits pairs and returns the next
    /// cursor, 0 when the iteration is complete.
    ///
    /// A listpack is returned whole with cursor 0, as Redis does. A hashtable
    /// visits about `count` positions of its dense pair vector from the top
    /// down, the cursor being the number of positions left (the technique of
    /// `Db::scan`): removal only moves the last pair down into a hole and
    /// insertion appends at the top, so a pair present for the whole
    /// iteration is returned at least once however the hash changes.
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut visit: impl FnMut(&'a [u8], &'a [u8])) -> u64 {
        match &self.repr {
            Repr::Listpack(lp) => {
                lp.iter().for_each(|(f, v)| visit(f, v));
                0
            }
            Repr::Table { map, .. } => {
                let mut pos =
                    if cursor == 0 { map.len() } else { usize::try_from(cursor).unwrap_or(usize::MAX).min(map.len()) };
                let end = pos.saturating_sub(count.max(1));
                while pos > end {
                    pos -= 1;
                    if let Some((f, v)) = map.get_index(pos) {
                        visit(f, v);
                    }
                }
                pos as u64
            }
        }
    }

    /// Listpack → hashtable (Redis's `hashTypeConvert`).
    fn convert(&mut self) {
        if let Repr::Listpack(lp) = &self.repr {
            let mut map = Table::with_capacity_and_hasher(lp.len, DefaultHashBuilder::default());
            let mut bytes = 0;
            for (f, v) in lp.iter() {
                bytes += f.len() + v.len();
                map.insert(f.into(), v.into());
            }
            self.repr = Repr::Table { map, bytes };
        }
    }
}

/// Iterator over a hash's pairs.
pub enum Iter<'a> {
    Listpack(LpIter<'a>),
    Table(indexmap::map::Iter<'a, Box<[u8]>, Box<[u8]>>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Listpack(it) => it.next(),
            Iter::Table(it) => it.next().map(|(f, v)| (&f[..], &v[..])),
        }
    }
}

/// Pairs in one buffer: `len(field) field len(value) value ...`, lengths
/// as LEB128. `len` counts pairs.
#[derive(Debug, Clone, Default)]
struct Listpack {
    buf: Vec<u8>,
    len: usize,
}

/// Where a pair lies in the buffer.
struct Found {
    /// Start of the field's length prefix.
    start: usize,
    /// Start of the value's length prefix.
    value_hdr: usize,
    /// The value's bytes.
    value: std::ops::Range<usize>,
}

/// Appends `n` as LEB128 into `out`, returning the number of bytes.
fn put_len(out: &mut [u8; 10], mut n: usize) -> usize {
    let mut i = 0;
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out[i] = byte;
            return i + 1;
        }
        out[i] = byte | 0x80;
        i += 1;
    }
}

/// Reads the element at `pos`: its bytes' range, or None at the end (or on
/// a malformed buffer, which the writer never produces).
fn read_elem(buf: &[u8], mut pos: usize) -> Option<std::ops::Range<usize>> {
    let mut n: usize = 0;
    let mut shift = 0;
    loop {
        let b = *buf.get(pos)?;
        pos += 1;
        n |= ((b & 0x7f) as usize).checked_shl(shift)?;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let end = pos.checked_add(n)?;
    (end <= buf.len()).then_some(pos..end)
}

impl Listpack {
    fn iter(&self) -> LpIter<'_> {
        LpIter { buf: &self.buf, pos: 0 }
    }

    fn find(&self, field: &[u8]) -> Option<Found> {
        let mut pos = 0;
        while pos < self.buf.len() {
            let f = read_elem(&self.buf, pos)?;
            let value = read_elem(&self.buf, f.end)?;
            if &self.buf[f.clone()] == field {
                return Some(Found { start: pos, value_hdr: f.end, value });
            }
            pos = value.end;
        }
        None
    }

    fn push(&mut self, data: &[u8]) {
        let mut hdr = [0u8; 10];
        let n = put_len(&mut hdr, data.len());
        self.buf.extend_from_slice(&hdr[..n]);
        self.buf.extend_from_slice(data);
    }

    fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        match self.find(field) {
            Some(found) => {
                let mut hdr = [0u8; 10];
                let n = put_len(&mut hdr, value.len());
                let new = hdr[..n].iter().chain(value.iter()).copied();
                self.buf.splice(found.value_hdr..found.value.end, new);
                false
            }
            None => {
                self.push(field);
                self.push(value);
                self.len += 1;
                true
            }
        }
    }

    fn remove(&mut self, field: &[u8]) -> bool {
        match self.find(field) {
            Some(found) => {
                self.buf.drain(found.start..found.value.end);
                self.len -= 1;
                if self.buf.capacity() > 64 && self.buf.len() < self.buf.capacity() / 4 {
                    self.buf.shrink_to(self.buf.len() * 2);
                }
                true
            }
            None => false,
        }
    }
}

/// Iterator over a listpack's pairs.
pub struct LpIter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for LpIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let f = read_elem(self.buf, self.pos)?;
        let v = read_elem(self.buf, f.end)?;
        self.pos = v.end;
        Some((&self.buf[f], &self.buf[v]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    const SMALL: Limits = Limits { entries: 4, value: 8 };

    #[test]
    fn listpack_keeps_insertion_order_and_updates_in_place() {
        let mut h = Hash::new();
        assert!(h.insert(b"a", b"1", Limits::default()));
        assert!(h.insert(b"b", b"2", Limits::default()));
        assert!(h.insert(b"c", b"3", Limits::default()));
        assert!(!h.insert(b"a", b"updated", Limits::default()));
        let pairs: Vec<_> = h.iter().collect();
        assert_eq!(pairs, vec![(&b"a"[..], &b"updated"[..]), (b"b", b"2"), (b"c", b"3")]);
        assert!(h.remove(b"b"));
        assert!(!h.remove(b"b"));
        assert_eq!(h.iter().map(|(f, _)| f).collect::<Vec<_>>(), vec![&b"a"[..], b"c"]);
        assert_eq!(h.encoding(), "listpack");
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn long_lengths_roundtrip() {
        let mut h = Hash::new();
        let big = vec![7u8; 70_000];
        let limits = Limits { entries: 10, value: 1 << 20 };
        h.insert(&big, b"", limits);
        h.insert(b"", &big, limits);
        assert_eq!(h.encoding(), "listpack");
        assert_eq!(h.get(&big), Some(&b""[..]));
        assert_eq!(h.get(b""), Some(&big[..]));
    }

    #[test]
    fn converts_on_too_many_entries() {
        let mut h = Hash::new();
        for i in 0..4 {
            h.insert(format!("f{i}").as_bytes(), b"v", SMALL);
        }
        assert_eq!(h.encoding(), "listpack");
        h.insert(b"f4", b"v", SMALL);
        assert_eq!(h.encoding(), "hashtable");
        // Never back.
        for i in 0..5 {
            h.remove(format!("f{i}").as_bytes());
        }
        assert_eq!(h.encoding(), "hashtable");
        assert!(h.is_empty());
    }

    #[test]
    fn converts_on_long_field_or_value_even_when_updating() {
        let mut h = Hash::new();
        h.insert(b"f", b"12345678", SMALL);
        assert_eq!(h.encoding(), "listpack");
        h.insert(b"f", b"123456789", SMALL);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = Hash::new();
        h.insert(b"123456789", b"", SMALL);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"123456789"), Some(&b""[..]));
    }

    #[test]
    fn equality_ignores_encoding_and_order() {
        let mut a = Hash::new();
        let mut b = Hash::new();
        a.insert(b"x", b"1", SMALL);
        a.insert(b"y", b"2", SMALL);
        b.insert(b"y", b"2", Limits { entries: 0, value: 0 });
        b.insert(b"x", b"1", Limits { entries: 0, value: 0 });
        assert_eq!(b.encoding(), "hashtable");
        assert_eq!(a, b);
        b.insert(b"x", b"3", SMALL);
        assert_ne!(a, b);
    }

    #[test]
    fn scan_returns_every_stable_field_through_churn() {
        let mut h = Hash::new();
        for i in 0..1000 {
            h.insert(format!("stable{i}").as_bytes(), b"v", Limits::default());
        }
        assert_eq!(h.encoding(), "hashtable");
        let mut seen = std::collections::HashSet::new();
        let (mut cursor, mut round) = (0, 0);
        loop {
            cursor = h.scan(cursor, 7, |f, _| {
                seen.insert(f.to_vec());
            });
            for j in 0..9 {
                h.insert(format!("churn{round}-{j}").as_bytes(), b"v", Limits::default());
            }
            for j in 0..9 {
                h.remove(format!("churn{}-{j}", round / 2).as_bytes());
            }
            round += 1;
            if cursor == 0 {
                break;
            }
        }
        for i in 0..1000 {
            assert!(seen.contains(format!("stable{i}").as_bytes()), "stable{i} missed");
        }
    }

    #[test]
    fn heap_size_tracks_contents() {
        let mut h = Hash::new();
        for i in 0..600 {
            h.insert(format!("field{i}").as_bytes(), &[b'x'; 40], Limits::default());
        }
        let full = h.heap_size();
        assert!(full > 600 * 48, "{full}");
        for i in 0..600 {
            h.remove(format!("field{i}").as_bytes());
        }
        assert!(h.heap_size() < full);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn behaves_like_a_hashmap(
            ops in prop::collection::vec((0u8..4, 0u8..12, prop::collection::vec(any::<u8>(), 0..12)), 1..120),
            entries in 0usize..8,
            value in 0usize..10,
        ) {
            let limits = Limits { entries, value };
            let mut h = Hash::new();
            let mut model: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
            for (op, f, v) in ops {
                let field = vec![b'f'; f as usize];
                match op {
                    0 | 1 => prop_assert_eq!(h.insert(&field, &v, limits), model.insert(field.clone(), v.clone()).is_none()),
                    2 => prop_assert_eq!(h.remove(&field), model.remove(&field).is_some()),
                    _ => prop_assert_eq!(h.get(&field), model.get(&field).map(|v| &v[..])),
                }
                prop_assert_eq!(h.len(), model.len());
                let fits = model.len() <= entries && model.iter().all(|(f, v)| f.len() <= value && v.len() <= value);
                if h.encoding() == "listpack" {
                    prop_assert!(fits);
                }
                let got: HashMap<Vec<u8>, Vec<u8>> = h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
                prop_assert_eq!(&got, &model);
                for i in 0..h.len() {
                    let (f, v) = h.nth(i).unwrap();
                    prop_assert_eq!(model.get(f).map(|x| &x[..]), Some(v));
                }
            }
        }
    }
}
