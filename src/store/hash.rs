//! The hash value type: a map of fields to values in one of Redis 7.0's two
//! encodings.
//!
//! - `listpack`: every pair in one contiguous, exactly sized buffer, in
//!   insertion order (an update keeps the pair where it is, a new field goes
//!   to the end, exactly as Redis's listpack). Each pair is one LEB128
//!   header holding both lengths (see [`pair_code`]: 1 byte while the two
//!   lengths add up to at most 14, 2 bytes up to 128 together), then the
//!   field's bytes, then the value's. Like Redis, which reallocs its
//!   listpack on every change, the buffer is a `Box<[u8]>` resized to the
//!   exact length on each write: no spare capacity. Lookups scan linearly,
//!   which is cheap because the encoding is only used for small hashes.
//! - `hashtable`: the keyspace's [`Table`](crate::store::table::Table) (a
//!   `hashbrown` table of positions over a dense vector of pairs). The dense
//!   vector gives what HRANDFIELD and HSCAN need from Redis's dict: O(1)
//!   uniform sampling and a cursor that stays valid while the hash changes
//!   (see [`Hash::scan`]); past 65,536 fields its buckets split in 16 that
//!   grow one at a time.
//!
//! A hash starts as a listpack and becomes a hashtable, never back (like
//! Redis), when it would hold more than `hash-max-listpack-entries` pairs,
//! when a field or value longer than `hash-max-listpack-value` bytes is
//! stored, or when the buffer would pass Redis's listpack safety limit.
//!
//! Hashtable fields and values are compact strings (`Bytes`): up to 22
//! bytes live inside the table's entry, with no allocation of their own.
//!
//! Invariant (hashtable): `bytes` is the sum of the fields' and values' own
//! heap sizes, so [`Hash::heap_size`] is O(1).
//!
//! Size: a hash lives in a `Box<Hash>` (see `value.rs`), so `Hash` is kept
//! at 24 bytes (the smallest allocator chunk): the listpack variant is the
//! buffer pointer and length plus a `u32` pair count, the hashtable is
//! boxed behind one pointer. A small hash thus costs one 24-byte allocation
//! plus its buffer.

use crate::store::bytes::Bytes;
use crate::store::snaptrack::{Slot, Track};

/// The hashtable encoding.
type Table = crate::store::table::Table<(Bytes, Bytes)>;

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
    Table(Box<TableRepr>),
}

/// The hashtable encoding with its byte count.
#[derive(Debug, Clone)]
struct TableRepr {
    map: Table,
    bytes: usize,
    /// What a snapshot writing this hash still owes (see
    /// [`snaptrack`](crate::store::snaptrack)).
    track: Slot<(Bytes, Bytes)>,
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
            Repr::Listpack(lp) => lp.len as usize,
            Repr::Table(t) => t.map.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    /// Heap bytes owned: the listpack buffer (exactly its length), or the
    /// boxed table, its slots (entry, index and control byte) and every
    /// field and value allocation.
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Listpack(lp) => lp.buf.len(),
            Repr::Table(t) => std::mem::size_of::<TableRepr>() + t.map.heap_size() + t.bytes,
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Listpack(lp) => lp.find(field).map(|f| &lp.buf[f.value.clone()]),
            Repr::Table(t) => t.map.get(field).map(|v| &v[..]),
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
            Repr::Table(t) => match t.map.get_index_of(field) {
                Some(i) => {
                    let value = Bytes::from_slice(value);
                    let old = std::mem::replace(&mut t.map[i], value);
                    t.bytes = t.bytes - old.heap_size() + t.map[i].heap_size();
                    if let Some(track) = t.track.live()
                        && track.claim(i)
                    {
                        track.save((Bytes::from_slice(field), old));
                    }
                    false
                }
                None => {
                    let (field, value) = (Bytes::from_slice(field), Bytes::from_slice(value));
                    t.bytes += field.heap_size() + value.heap_size();
                    let pos = t.map.insert_new(field, value, usize::MAX);
                    if let Some(track) = t.track.live() {
                        track.inserted(pos);
                    }
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
            Repr::Table(t) => {
                let Some(i) = t.map.get_index_of(field) else { return false };
                let last = t.map.len() - 1;
                let claimed = t.track.live().is_some_and(|track| track.claim(i));
                let Some((f, v)) = t.map.swap_remove_index(i) else { return false };
                t.bytes -= f.heap_size() + v.heap_size();
                if let Some(track) = t.track.live() {
                    track.removed(i, last);
                    if claimed {
                        track.save((f, v));
                    }
                }
                true
            }
        }
    }

    /// Every pair, in listpack order or table order.
    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Listpack(lp) => Iter::Listpack(lp.iter()),
            Repr::Table(t) => Iter::Table(t.map.entries().iter()),
        }
    }

    /// The pair at position `i` (`i < len`): O(1) for a hashtable, a scan of
    /// the (small) buffer for a listpack. Random sampling uses it.
    pub fn nth(&self, i: usize) -> Option<(&[u8], &[u8])> {
        match &self.repr {
            Repr::Listpack(lp) => lp.iter().nth(i),
            Repr::Table(t) => t.map.get_index(i).map(|(f, v)| (&f[..], &v[..])),
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
            Repr::Table(t) => {
                let map = &t.map;
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

    /// A snapshot (alive while `owner` is) starts writing this hashtable
    /// hash a slice at a time: from now on each change first hands it
    /// what it still owes. False for a listpack (written whole).
    pub fn snap_start(&mut self, owner: std::sync::Weak<()>) -> bool {
        match &mut self.repr {
            Repr::Table(t) => {
                t.track.0 = Some(Box::new(Track::new(t.map.len(), owner)));
                true
            }
            Repr::Listpack(_) => false,
        }
    }

    /// Up to `n` of the pairs the snapshot owes, to `write`; returns how
    /// many, with how many are left (0 when done).
    pub fn snap_slice(&mut self, n: usize, mut write: impl FnMut(&[u8], &[u8])) -> Option<(usize, usize)> {
        let Repr::Table(t) = &mut self.repr else { return None };
        let track = t.track.live()?;
        let done = track.slice(t.map.entries(), n, |(f, v)| write(f, v));
        Some((done, track.left()))
    }

    /// The snapshot is done with this hash (or gave up).
    pub fn snap_end(&mut self) {
        if let Repr::Table(t) = &mut self.repr {
            t.track.0 = None;
        }
    }

    /// Bytes of the pairs a snapshot saved before they changed.
    pub fn snap_held(&self) -> usize {
        match &self.repr {
            Repr::Table(t) => {
                t.track.0.as_ref().map_or(0, |track| track.saved_size(|(f, v)| f.heap_size() + v.heap_size()))
            }
            Repr::Listpack(_) => 0,
        }
    }

    /// Listpack → hashtable (Redis's `hashTypeConvert`).
    fn convert(&mut self) {
        if let Repr::Listpack(lp) = &self.repr {
            let mut map = Table::with_capacity(lp.len as usize);
            let mut bytes = 0;
            for (f, v) in lp.iter() {
                let (f, v) = (Bytes::from_slice(f), Bytes::from_slice(v));
                bytes += f.heap_size() + v.heap_size();
                // A listpack's fields are distinct.
                map.insert_new(f, v, usize::MAX);
            }
            self.repr = Repr::Table(Box::new(TableRepr { map, bytes, track: Slot::default() }));
        }
    }
}

/// Builds a hash pair by pair for the RDB loader: the listpack is written
/// into one growing buffer and boxed once (inserting one pair at a time
/// reallocates the boxed buffer for each), with the encoding
/// [`Hash::insert`] would reach for the same pairs.
pub struct Builder {
    buf: Vec<u8>,
    len: u32,
    limits: Limits,
    table: Option<Hash>,
}

impl Builder {
    /// `capacity`: the expected listpack bytes (the loaded blob's size is
    /// a close upper bound).
    pub fn new(capacity: usize, limits: Limits) -> Builder {
        let capacity = capacity.min(LISTPACK_MAX_SAFETY_SIZE);
        Builder { buf: Vec::with_capacity(capacity), len: 0, limits, table: None }
    }

    /// Adds a pair; false when `field` is already there (nothing changes).
    pub fn add(&mut self, field: &[u8], value: &[u8]) -> bool {
        if let Some(h) = self.table.as_mut() {
            return !h.contains(field) && h.insert(field, value, self.limits);
        }
        let lim = self.limits;
        if field.len() > lim.value
            || value.len() > lim.value
            || self.buf.len() + field.len() + value.len() + 20 > LISTPACK_MAX_SAFETY_SIZE
            || self.len as usize >= lim.entries
        {
            let mut h = self.take();
            h.convert();
            self.table = Some(h);
            return self.add(field, value);
        }
        let mut pos = 0;
        while let Some((f, v)) = read_pair(&self.buf, pos) {
            if &self.buf[f] == field {
                return false;
            }
            pos = v.end;
        }
        let mut hdr = [0u8; 10];
        let n = put_code(&mut hdr, pair_code(field.len(), value.len()));
        self.buf.extend_from_slice(&hdr[..n]);
        self.buf.extend_from_slice(field);
        self.buf.extend_from_slice(value);
        self.len += 1;
        true
    }

    /// The listpack built so far, as a hash.
    fn take(&mut self) -> Hash {
        let buf = std::mem::take(&mut self.buf).into_boxed_slice();
        let len = std::mem::take(&mut self.len);
        Hash { repr: Repr::Listpack(Listpack { buf, len }) }
    }

    pub fn finish(mut self) -> Hash {
        self.table.take().unwrap_or_else(|| self.take())
    }
}

/// Iterator over a hash's pairs.
pub enum Iter<'a> {
    Listpack(LpIter<'a>),
    Table(std::slice::Iter<'a, (Bytes, Bytes)>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Listpack(it) => it.next(),
            Iter::Table(it) => it.next().map(|(f, v)| (&f[..], &v[..])),
        }
    }

    /// O(1) for a hashtable (a snapshot resumes a big hash by position).
    fn nth(&mut self, n: usize) -> Option<Self::Item> {
        match self {
            Iter::Listpack(it) => it.nth(n),
            Iter::Table(it) => it.nth(n).map(|(f, v)| (&f[..], &v[..])),
        }
    }
}

/// Pairs in one exactly sized buffer: `header field value ...`, the header
/// being the LEB128 of [`pair_code`]. `len` counts pairs: a pair takes at
/// least one byte and the buffer stays under `LISTPACK_MAX_SAFETY_SIZE`
/// plus one pair, so it fits a `u32`.
#[derive(Debug, Clone, Default)]
struct Listpack {
    buf: Box<[u8]>,
    len: u32,
}

/// Where a pair lies in the buffer.
struct Found {
    /// Start of the pair's header.
    start: usize,
    /// The value's bytes (the pair ends at `value.end`).
    value: std::ops::Range<usize>,
}

/// The number a pair's header stores: the Cantor pairing of the field and
/// value lengths, `s(s+1)/2 + value` with `s = field + value`. It is below
/// 128 (one LEB128 byte) while `s <= 14`, below 16384 (two bytes, what two
/// one-byte lengths took) while `s <= 128`, so never longer than two
/// separate lengths for the default `hash-max-listpack-value` of 64.
/// Lengths are under 2^31 (the safety limit), so the code fits a `u64`.
fn pair_code(field: usize, value: usize) -> u64 {
    let s = field as u64 + value as u64;
    s * (s + 1) / 2 + value as u64
}

/// [`pair_lens`] of every code below 2^14 (the one- and two-byte headers,
/// `field + value <= 180`), so that scanning a listpack needs no square
/// root: 32 KiB, of which a scan touches the few lines its lengths use.
static SMALL_CODES: [(u8, u8); 1 << 14] = {
    let mut t = [(0u8, 0u8); 1 << 14];
    let mut s = 0usize;
    while s * (s + 1) / 2 < 1 << 14 {
        let mut v = 0;
        while v <= s && s * (s + 1) / 2 + v < 1 << 14 {
            t[s * (s + 1) / 2 + v] = ((s - v) as u8, v as u8);
            v += 1;
        }
        s += 1;
    }
    t
};

/// Inverse of [`pair_code`]: `(field, value)` lengths, None if out of range.
fn pair_lens(code: u64) -> Option<(usize, usize)> {
    if code < 1 << 14
        && let Some(&(f, v)) = SMALL_CODES.get(code as usize)
    {
        return Some((f as usize, v as usize));
    }
    pair_lens_slow(code)
}

/// [`pair_lens`] by arithmetic, for codes past the table.
fn pair_lens_slow(code: u64) -> Option<(usize, usize)> {
    // The largest s with s(s+1)/2 <= code: a float estimate, then corrected.
    let tri = |s: u64| s.checked_mul(s + 1).map(|x| x / 2);
    let mut s = ((((code as f64) * 8.0 + 1.0).sqrt() - 1.0) / 2.0) as u64;
    while tri(s)? > code {
        s -= 1;
    }
    while tri(s + 1).is_some_and(|t| t <= code) {
        s += 1;
    }
    let value = code - tri(s)?;
    let field = s - value;
    Some((usize::try_from(field).ok()?, usize::try_from(value).ok()?))
}

/// Writes `n` as LEB128 into `out`, returning the number of bytes.
fn put_code(out: &mut [u8; 10], mut n: u64) -> usize {
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

/// Reads the pair at `pos`: its field's and value's ranges, or None at the
/// end (or on a malformed buffer, which the writer never produces).
fn read_pair(buf: &[u8], mut pos: usize) -> Option<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    // Fast paths for one- and two-byte headers, then the general loop.
    let b0 = *buf.get(pos)?;
    let mut code = (b0 & 0x7f) as u64;
    pos += 1;
    if b0 & 0x80 != 0 {
        let b1 = *buf.get(pos)?;
        code |= ((b1 & 0x7f) as u64) << 7;
        pos += 1;
        if b1 & 0x80 != 0 {
            code = read_more(buf, &mut pos, code, 14)?;
        }
    }
    let (flen, vlen) = pair_lens(code)?;
    let fend = pos.checked_add(flen)?;
    let vend = fend.checked_add(vlen)?;
    (vend <= buf.len()).then_some((pos..fend, fend..vend))
}

/// The rest of a LEB128 number whose first bytes gave `code` up to `shift`.
fn read_more(buf: &[u8], pos: &mut usize, mut code: u64, mut shift: u32) -> Option<u64> {
    loop {
        let b = *buf.get(*pos)?;
        *pos += 1;
        if shift >= 64 {
            return None;
        }
        code |= ((b & 0x7f) as u64) << shift;
        if b & 0x80 == 0 {
            return Some(code);
        }
        shift += 7;
    }
}

/// Replaces `range` of `buf` with `new`, leaving the buffer exactly sized
/// (one reallocation at most, like Redis's `lpInsert`/`lpDelete`).
fn splice_exact(buf: &mut Box<[u8]>, range: std::ops::Range<usize>, new: &[&[u8]]) {
    let added: usize = new.iter().map(|p| p.len()).sum();
    let removed = range.len();
    if added == removed {
        // Same size: overwrite in place, no allocation.
        let mut at = range.start;
        for part in new {
            buf[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
        return;
    }
    let mut v = std::mem::take(buf).into_vec();
    if added > removed {
        v.reserve_exact(added - removed);
    }
    v.splice(range, new.iter().flat_map(|p| p.iter().copied()));
    // Capacity is the length unless it shrank; then this reallocs down.
    *buf = v.into_boxed_slice();
}

impl Listpack {
    fn iter(&self) -> LpIter<'_> {
        LpIter { buf: &self.buf, pos: 0 }
    }

    fn find(&self, field: &[u8]) -> Option<Found> {
        let mut pos = 0;
        while pos < self.buf.len() {
            let (f, value) = read_pair(&self.buf, pos)?;
            if &self.buf[f.clone()] == field {
                return Some(Found { start: pos, value });
            }
            pos = value.end;
        }
        None
    }

    fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        let mut hdr = [0u8; 10];
        let n = put_code(&mut hdr, pair_code(field.len(), value.len()));
        match self.find(field) {
            Some(found) => {
                // Keep the pair's place: header, same field (equal to
                // `field`, which found it), new value.
                splice_exact(&mut self.buf, found.start..found.value.end, &[&hdr[..n], field, value]);
                false
            }
            None => {
                let end = self.buf.len();
                splice_exact(&mut self.buf, end..end, &[&hdr[..n], field, value]);
                self.len += 1;
                true
            }
        }
    }

    fn remove(&mut self, field: &[u8]) -> bool {
        match self.find(field) {
            Some(found) => {
                splice_exact(&mut self.buf, found.start..found.value.end, &[]);
                self.len -= 1;
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
        let (f, v) = read_pair(self.buf, self.pos)?;
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
    fn builder_matches_inserts() {
        let long = [b'x'; 9];
        let cases: Vec<Vec<(&[u8], &[u8])>> = vec![
            vec![],
            vec![(b"a", b"1"), (b"b", b"2")],
            vec![(b"a", b"1"), (b"b", b"2"), (b"c", b"3"), (b"d", b"4")],
            vec![(b"a", b"1"), (b"b", b"2"), (b"c", b"3"), (b"d", b"4"), (b"e", b"5"), (b"f", b"6")],
            vec![(b"a", b"1"), (b"b", &long), (b"c", b"3")],
            vec![(b"a", b"1"), (b"a", b"2")],
            vec![(b"a", b"1"), (b"b", b"2"), (b"c", b"3"), (b"d", b"4"), (b"e", b"5"), (b"c", b"6")],
        ];
        for pairs in cases {
            let mut want = Hash::new();
            let mut b = Builder::new(3, SMALL);
            for (f, v) in &pairs {
                let fresh = !want.contains(f);
                if fresh {
                    want.insert(f, v, SMALL);
                }
                assert_eq!(b.add(f, v), fresh, "{pairs:?}");
            }
            let got = b.finish();
            assert_eq!((got.encoding(), &got), (want.encoding(), &want), "{pairs:?}");
            if got.encoding() == "listpack" {
                assert_eq!(got.iter().collect::<Vec<_>>(), want.iter().collect::<Vec<_>>(), "order {pairs:?}");
            }
        }
    }

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

    #[test]
    fn small_layout_is_exact() {
        // One 24-byte box for the hash, and a buffer with no spare capacity.
        assert_eq!(std::mem::size_of::<Hash>(), 3 * std::mem::size_of::<usize>());
        let mut h = Hash::new();
        assert_eq!(h.heap_size(), 0);
        for i in 0..10 {
            h.insert(format!("field{i}").as_bytes(), format!("value{i}").as_bytes(), Limits::default());
        }
        // Ten 1-byte headers plus 12 bytes of data per pair.
        assert_eq!(h.heap_size(), 130);
        if let Repr::Listpack(lp) = &h.repr {
            assert_eq!(lp.buf.len(), 130);
        }
        h.insert(b"field3", b"a-longer-value", Limits::default());
        assert_eq!(h.heap_size(), 130 + 1 + 8); // a 2-byte header now
        h.insert(b"field3", b"x", Limits::default());
        assert_eq!(h.heap_size(), 130 - 5);
        assert!(h.remove(b"field0"));
        assert_eq!(h.heap_size(), 130 - 5 - 13);
        let fields: Vec<_> = h.iter().map(|(f, _)| f.to_vec()).collect();
        let want: Vec<_> = (1..10).map(|i| format!("field{i}").into_bytes()).collect();
        assert_eq!(fields, want);
        assert_eq!(h.get(b"field3"), Some(&b"x"[..]));
    }

    #[test]
    fn pair_code_roundtrips() {
        let lens = [0usize, 1, 2, 6, 7, 13, 14, 15, 63, 64, 127, 128, 200, 16383, 70_000, 1 << 30, (1 << 31) - 1];
        for &f in &lens {
            for &v in &lens {
                assert_eq!(pair_lens(pair_code(f, v)), Some((f, v)), "{f} {v}");
            }
        }
        for code in 0..1 << 14 {
            assert_eq!(pair_lens(code), pair_lens_slow(code), "{code}");
        }
        for f in 0..300 {
            for v in 0..300 {
                assert_eq!(pair_lens(pair_code(f, v)), Some((f, v)));
            }
        }
        // One header byte while the lengths add up to 14, two up to 128.
        assert!(pair_code(7, 7) < 128 && pair_code(0, 14) < 128);
        assert!(pair_code(64, 64) < 16384);
        // Malformed codes are rejected, not a panic.
        assert!(read_pair(&[0xff; 12], 0).is_none());
        let _ = pair_lens(u64::MAX);
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
