//! Streams: entries keyed by 128-bit ids, stored as Redis stores them,
//! plus consumer groups with their pending entries lists (PEL).
//!
//! The entries live in listpacks laid out byte for byte as Redis 7.0's
//! `t_stream.c` lays them out, each keyed in a `BTreeMap` by its master id
//! (Redis uses a radix tree of the same keys). A node starts with a master
//! entry `count deleted num-fields field... 0`; each entry is `flags
//! ms-delta seq-delta [num-fields field value ...| value ...] lp-count`
//! (values only when its fields are the master's). Deleting marks an entry
//! with a flag; trimming drops whole nodes or marks entries. Keeping
//! Redis's layout makes memory per entry Redis's (a few bytes per small
//! field) and the RDB form a copy of the nodes.
//!
//! Invariants: `length` counts the entries not marked deleted; a node
//! holds at least one live entry; `last_id` is at least every id ever
//! added; a consumer's PEL ids are exactly the group PEL ids whose
//! `consumer` is that consumer.

use super::bytes::Bytes;
use super::list::Elem;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// An entry id: milliseconds and a sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId { ms: u64::MAX, seq: u64::MAX };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The next id (`streamIncrID`); `None` past the largest.
    pub fn incr(self) -> Option<StreamId> {
        match (self.ms, self.seq) {
            (u64::MAX, u64::MAX) => None,
            (ms, u64::MAX) => Some(StreamId::new(ms + 1, 0)),
            (ms, seq) => Some(StreamId::new(ms, seq + 1)),
        }
    }

    /// The previous id (`streamDecrID`); `None` before the smallest.
    pub fn decr(self) -> Option<StreamId> {
        match (self.ms, self.seq) {
            (0, 0) => None,
            (ms, 0) => Some(StreamId::new(ms - 1, u64::MAX)),
            (ms, seq) => Some(StreamId::new(ms, seq - 1)),
        }
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    /// The 16 big-endian bytes Redis keys its radix trees with.
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    pub fn from_be_bytes(b: &[u8]) -> Option<StreamId> {
        let ms = u64::from_be_bytes(b.get(..8)?.try_into().ok()?);
        let seq = u64::from_be_bytes(b.get(8..16)?.try_into().ok()?);
        Some(StreamId::new(ms, seq))
    }

    /// `ms-seq`, as replies print it.
    pub fn text(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// Redis's listpack, the parts streams use: append, walk both ways, read,
/// replace an entry. Every read is bounds-checked (a malformed node reads
/// as integers 0 and empty strings, never a panic); loaded nodes are
/// validated first (see [`validate_node`]).
pub mod lp {
    use super::Elem;

    pub const HDR: usize = 6;
    pub const EOF: u8 = 0xFF;
    const COUNT_UNKNOWN: u16 = u16::MAX;

    pub fn new() -> Vec<u8> {
        let mut v = Vec::with_capacity(64);
        v.extend_from_slice(&[7, 0, 0, 0, 0, 0, EOF]);
        v
    }

    /// Bytes `lpEncodeBacklen` takes for an entry of `len` bytes.
    pub fn backlen_size(len: usize) -> usize {
        match len {
            0..=127 => 1,
            128..16383 => 2,
            16383..2097151 => 3,
            2097151..268435455 => 4,
            _ => 5,
        }
    }

    /// Writes an element (header, payload, backlen) as `lpAppend` does.
    pub fn encode(b: &mut Vec<u8>, e: Elem) {
        let start = b.len();
        match e {
            Elem::Int(v @ 0..=127) => b.push(v as u8),
            Elem::Int(v @ -4096..=4095) => {
                let u = (v as u16) & 0x1fff;
                b.extend_from_slice(&[0xC0 | (u >> 8) as u8, u as u8]);
            }
            Elem::Int(v) if i16::try_from(v).is_ok() => {
                b.push(0xF1);
                b.extend_from_slice(&(v as i16).to_le_bytes());
            }
            Elem::Int(v @ -0x80_0000..=0x7f_ffff) => {
                b.push(0xF2);
                b.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            Elem::Int(v) if i32::try_from(v).is_ok() => {
                b.push(0xF3);
                b.extend_from_slice(&(v as i32).to_le_bytes());
            }
            Elem::Int(v) => {
                b.push(0xF4);
                b.extend_from_slice(&v.to_le_bytes());
            }
            Elem::Bytes(s) => {
                match s.len() {
                    n if n < 64 => b.push(0x80 | n as u8),
                    n if n < 4096 => b.extend_from_slice(&[0xE0 | (n >> 8) as u8, n as u8]),
                    n => {
                        b.push(0xF0);
                        b.extend_from_slice(&(n as u32).to_le_bytes());
                    }
                }
                b.extend_from_slice(s);
            }
        }
        let len = b.len() - start;
        let n = backlen_size(len);
        for i in (0..n).rev() {
            let group = ((len >> (7 * i)) & 127) as u8;
            b.push(if i + 1 == n { group } else { group | 128 });
        }
    }

    fn set_total(lp: &mut [u8]) {
        let total = lp.len() as u32;
        lp[..4].copy_from_slice(&total.to_le_bytes());
    }

    pub fn count(lp: &[u8]) -> u16 {
        u16::from_le_bytes([lp.get(4).copied().unwrap_or(0), lp.get(5).copied().unwrap_or(0)])
    }

    /// Appends `e` before the terminator.
    pub fn append(lp: &mut Vec<u8>, e: Elem) {
        lp.pop();
        encode(lp, e);
        lp.push(EOF);
        set_total(lp);
        let n = count(lp);
        if n != COUNT_UNKNOWN {
            lp[4..6].copy_from_slice(&(n + 1).to_le_bytes());
        }
    }

    /// Appends the text `s`, as an integer when it reads as one.
    pub fn append_str(lp: &mut Vec<u8>, s: &[u8]) {
        append(lp, Elem::of(s))
    }

    /// Header + payload length of the entry at `p` (not its backlen).
    fn entry_len(lp: &[u8], p: usize) -> usize {
        let b = lp.get(p).copied().unwrap_or(EOF);
        let at = |i: usize| lp.get(p + i).copied().unwrap_or(0) as usize;
        match b {
            0x00..=0x7F => 1,
            0x80..=0xBF => 1 + (b & 0x3f) as usize,
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 2 + (((b & 0x0f) as usize) << 8 | at(1)),
            0xF0 => 5 + (at(1) | at(2) << 8 | at(3) << 16 | at(4) << 24),
            0xF1 => 3,
            0xF2 => 4,
            0xF3 => 5,
            0xF4 => 9,
            _ => 0,
        }
    }

    /// Full size of the entry at `p`, backlen included.
    pub fn entry_size(lp: &[u8], p: usize) -> usize {
        let len = entry_len(lp, p);
        len + backlen_size(len)
    }

    /// The first entry, `None` for an empty listpack.
    pub fn first(lp: &[u8]) -> Option<usize> {
        (lp.get(HDR).is_some_and(|&b| b != EOF)).then_some(HDR)
    }

    /// The entry after `p`, `None` at the end.
    pub fn next(lp: &[u8], p: usize) -> Option<usize> {
        let n = p + entry_size(lp, p);
        (lp.get(n).is_some_and(|&b| b != EOF)).then_some(n)
    }

    /// The entry before `p`, `None` at the start.
    pub fn prev(lp: &[u8], p: usize) -> Option<usize> {
        if p <= HDR {
            return None;
        }
        let (mut val, mut shift, mut q) = (0usize, 0, p);
        loop {
            if q <= HDR || shift > 28 {
                return None;
            }
            q -= 1;
            val |= ((lp[q] & 127) as usize) << shift;
            if lp[q] & 128 == 0 {
                break;
            }
            shift += 7;
        }
        q.checked_sub(val).filter(|&s| s >= HDR)
    }

    /// The last entry.
    pub fn last(lp: &[u8]) -> Option<usize> {
        let end = lp.len().checked_sub(1)?;
        prev(lp, end)
    }

    /// The element at `p`.
    pub fn get(lp: &[u8], p: usize) -> Elem<'_> {
        let Some(&b) = lp.get(p) else { return Elem::Int(0) };
        let int = |width: usize| -> i64 {
            let mut le = [0u8; 8];
            if let Some(bytes) = lp.get(p + 1..p + 1 + width) {
                le[..width].copy_from_slice(bytes);
            }
            let shift = 64 - 8 * width as u32;
            ((u64::from_le_bytes(le) << shift) as i64) >> shift
        };
        let string = |at: usize, n: usize| Elem::Bytes(lp.get(at..at + n).unwrap_or(&[]));
        let at = |i: usize| lp.get(p + i).copied().unwrap_or(0) as usize;
        match b {
            0x00..=0x7F => Elem::Int(b as i64),
            0x80..=0xBF => string(p + 1, (b & 0x3f) as usize),
            0xC0..=0xDF => {
                let u = (((b & 0x1f) as u64) << 8) | at(1) as u64;
                Elem::Int(((u << 51) as i64) >> 51)
            }
            0xE0..=0xEF => string(p + 2, ((b & 0x0f) as usize) << 8 | at(1)),
            0xF0 => string(p + 5, at(1) | at(2) << 8 | at(3) << 16 | at(4) << 24),
            0xF1 => Elem::Int(int(2)),
            0xF2 => Elem::Int(int(3)),
            0xF3 => Elem::Int(int(4)),
            0xF4 => Elem::Int(int(8)),
            _ => Elem::Int(0),
        }
    }

    /// The element at `p` as an integer (`lpGetInteger`); `None` for a
    /// string that is not one.
    pub fn get_int_checked(lp: &[u8], p: usize) -> Option<i64> {
        match get(lp, p) {
            Elem::Int(n) => Some(n),
            Elem::Bytes(b) => crate::resp::parse::parse_i64(b),
        }
    }

    pub fn get_int(lp: &[u8], p: usize) -> i64 {
        get_int_checked(lp, p).unwrap_or(0)
    }

    /// Replaces the entry at `p` with the integer `v` (`lpReplaceInteger`);
    /// the entries after it move when the size changes.
    pub fn replace_int(lp: &mut Vec<u8>, p: usize, v: i64) {
        let old = entry_size(lp, p);
        let mut enc = Vec::with_capacity(12);
        encode(&mut enc, Elem::Int(v));
        if enc.len() == old {
            lp[p..p + old].copy_from_slice(&enc);
        } else {
            lp.splice(p..p + old, enc);
            set_total(lp);
        }
    }

    /// Checks that `lp` is a well-formed listpack: header size, entries
    /// inside the blob, terminator at the end; returns the entry count.
    pub fn validate(lp: &[u8]) -> Option<usize> {
        if lp.len() < HDR + 1 || u32::from_le_bytes(lp[..4].try_into().ok()?) as usize != lp.len() {
            return None;
        }
        let end = lp.len() - 1;
        if lp[end] != EOF {
            return None;
        }
        let mut p = HDR;
        let mut n = 0;
        while lp[p] != EOF {
            let b = lp[p];
            if b > 0xF4 && b != EOF {
                return None;
            }
            let hdr = match b {
                0xC0..=0xEF => 2,
                0xF0 => 5,
                _ => 1,
            };
            if p + hdr > end {
                return None;
            }
            let len = entry_len(lp, p);
            let next = p.checked_add(len)?.checked_add(backlen_size(len))?;
            if next > end || prev(lp, next) != Some(p) {
                return None;
            }
            p = next;
            n += 1;
        }
        (p == end).then_some(n)
    }
}

/// Entry flags.
pub const FLAG_DELETED: i64 = 1;
pub const FLAG_SAMEFIELDS: i64 = 2;

/// A delivered, not yet acknowledged entry of a group.
#[derive(Debug, Clone, PartialEq)]
pub struct Nack {
    /// Unix ms of the last delivery.
    pub delivery_time: i64,
    pub delivery_count: u64,
    /// The consumer that owns it.
    pub consumer: Bytes,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Consumer {
    /// Unix ms of the last time it read or claimed.
    pub seen_time: i64,
    pub pel: BTreeSet<StreamId>,
}

/// `SCG_INVALID_ENTRIES_READ`.
pub const INVALID_ENTRIES_READ: i64 = -1;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Group {
    pub last_id: StreamId,
    /// The group's logical read counter, [`INVALID_ENTRIES_READ`] if unknown.
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, Nack>,
    pub consumers: BTreeMap<Bytes, Consumer>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group { last_id, entries_read, pel: BTreeMap::new(), consumers: BTreeMap::new() }
    }

    /// Removes `id` from the PEL and from its consumer's.
    pub fn ack(&mut self, id: StreamId) -> bool {
        let Some(nack) = self.pel.remove(&id) else { return false };
        if let Some(c) = self.consumers.get_mut(&nack.consumer) {
            c.pel.remove(&id);
        }
        true
    }

    /// Creates consumer `name` if missing (`seen_time` now); true if created.
    pub fn create_consumer(&mut self, name: &[u8], now: i64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumers.insert(Bytes::from(name), Consumer { seen_time: now, pel: BTreeSet::new() });
        true
    }

    /// Deletes consumer `name` and its pending entries; their count, or
    /// `None` if there is no such consumer.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }

    /// Gives pending entry `id` to `consumer` (which must exist).
    pub fn assign(&mut self, id: StreamId, consumer: &[u8]) {
        let Some(nack) = self.pel.get_mut(&id) else { return };
        if &nack.consumer[..] != consumer {
            if let Some(old) = self.consumers.get_mut(&nack.consumer) {
                old.pel.remove(&id);
            }
            nack.consumer = Bytes::from(consumer);
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }
}

/// Node limits (`stream-node-max-bytes`, `stream-node-max-entries`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_entries: usize,
}

/// `STREAM_LISTPACK_MAX_SIZE`.
pub const LISTPACK_MAX_SIZE: usize = 1 << 30;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stream {
    /// Listpack nodes keyed by master id.
    pub nodes: BTreeMap<StreamId, Vec<u8>>,
    pub length: u64,
    pub last_id: StreamId,
    pub first_id: StreamId,
    pub max_deleted: StreamId,
    pub entries_added: u64,
    /// By name, in byte order (Redis's radix tree order).
    pub groups: BTreeMap<Bytes, Group>,
}

/// Why XADD could not add.
#[derive(Debug, PartialEq, Eq)]
pub enum AddError {
    /// The id is not above the top (`EDOM`).
    NotGreater,
    /// The elements are too large (`ERANGE`).
    TooLarge,
}

/// One entry found by iteration: where it lies in its node.
#[derive(Debug, Clone, Copy)]
pub struct EntryPos {
    pub id: StreamId,
    pub flags: i64,
    /// Offset of the flags element.
    pub at: usize,
    /// Offset of the first element after the id (num-fields or a value).
    pub body: usize,
    pub numfields: usize,
}

/// A node's master entry: where its fields start, how many, and where
/// the first entry begins.
#[derive(Debug, Clone, Copy)]
struct Master {
    fields_at: usize,
    nfields: usize,
    first_entry: Option<usize>,
}

fn master(lp: &[u8]) -> Master {
    let mut p = lp::first(lp);
    let step = |p: Option<usize>| p.and_then(|p| lp::next(lp, p));
    p = step(p); // deleted
    p = step(p); // num-fields
    let nfields = p.map_or(0, |p| lp::get_int(lp, p).max(0) as usize);
    p = step(p);
    let fields_at = p.unwrap_or(lp.len());
    for _ in 0..nfields {
        p = step(p);
    }
    // Past the master's zero terminator.
    Master { fields_at, nfields, first_entry: step(p) }
}

/// The entries of node `lp` (master id `mid`), tombstones included, in order.
fn node_entries(lp: &[u8], mid: StreamId) -> NodeIter<'_> {
    let m = master(lp);
    NodeIter { lp, mid, m, p: m.first_entry }
}

struct NodeIter<'a> {
    lp: &'a [u8],
    mid: StreamId,
    m: Master,
    p: Option<usize>,
}

impl Iterator for NodeIter<'_> {
    type Item = EntryPos;

    fn next(&mut self) -> Option<EntryPos> {
        let lp = self.lp;
        let at = self.p?;
        let flags = lp::get_int(lp, at);
        let p1 = lp::next(lp, at)?;
        let ms = lp::get_int(lp, p1);
        let p2 = lp::next(lp, p1)?;
        let seq = lp::get_int(lp, p2);
        let mut body = lp::next(lp, p2)?;
        let id = StreamId::new(self.mid.ms.wrapping_add(ms as u64), self.mid.seq.wrapping_add(seq as u64));
        let (numfields, skip) = if flags & FLAG_SAMEFIELDS != 0 {
            (self.m.nfields, self.m.nfields)
        } else {
            let n = lp::get_int(lp, body).max(0) as usize;
            let b = body;
            body = lp::next(lp, b).unwrap_or(b);
            (n, 2 * n)
        };
        let mut q = Some(body);
        for _ in 0..skip {
            q = q.and_then(|q| lp::next(lp, q));
        }
        // Past the lp-count.
        self.p = q.and_then(|q| lp::next(lp, q));
        Some(EntryPos { id, flags, at, body, numfields })
    }
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    pub fn len(&self) -> u64 {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Heap bytes: node capacities plus the groups' bookkeeping (estimated).
    pub fn heap_size(&self) -> usize {
        let nodes: usize = self.nodes.values().map(|n| n.capacity() + 48).sum();
        let groups: usize = self
            .groups
            .values()
            .map(|g| 128 + g.pel.len() * 64 + g.consumers.values().map(|c| 64 + c.pel.len() * 24).sum::<usize>())
            .sum();
        nodes + groups
    }

    /// Calls `f(field, value)` for each pair of entry `e` in node `lp`.
    pub fn fields<'a>(lp: &'a [u8], e: &EntryPos, mut f: impl FnMut(Elem<'a>, Elem<'a>)) {
        let same = e.flags & FLAG_SAMEFIELDS != 0;
        let mut mf = if same { Some(master(lp).fields_at) } else { None };
        let mut p = Some(e.body);
        for _ in 0..e.numfields {
            let field = if same {
                let at = mf.unwrap_or(lp.len());
                mf = lp::next(lp, at);
                lp::get(lp, at)
            } else {
                let at = p.unwrap_or(lp.len());
                p = lp::next(lp, at);
                lp::get(lp, at)
            };
            let at = p.unwrap_or(lp.len());
            p = lp::next(lp, at);
            f(field, lp::get(lp, at));
        }
    }

    /// Visits the live entries with ids in `start..=end`, forward (or
    /// backward with `rev`), until `f` returns false. `f` gets the node and
    /// the entry.
    pub fn range(&self, start: StreamId, end: StreamId, rev: bool, mut f: impl FnMut(&[u8], &EntryPos) -> bool) {
        self.range_all(start, end, rev, true, &mut f)
    }

    /// [`Stream::range`], with tombstones too unless `skip_tombstones`.
    pub fn range_all(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        skip_tombstones: bool,
        f: &mut dyn FnMut(&[u8], &EntryPos) -> bool,
    ) {
        if start > end {
            return;
        }
        let keep = |e: &EntryPos| !skip_tombstones || e.flags & FLAG_DELETED == 0;
        if !rev {
            // The node that may hold `start`, then the ones after it.
            let from = self.nodes.range(..=start).next_back().map(|(k, _)| *k).unwrap_or(StreamId::MIN);
            for (mid, lp) in self.nodes.range(from..=end) {
                for e in node_entries(lp, *mid) {
                    if e.id < start || !keep(&e) {
                        continue;
                    }
                    if e.id > end || !f(lp, &e) {
                        return;
                    }
                }
            }
        } else {
            for (mid, lp) in self.nodes.range(..=end).rev() {
                let entries: Vec<EntryPos> = node_entries(lp, *mid).collect();
                for e in entries.iter().rev() {
                    if e.id > end || !keep(e) {
                        continue;
                    }
                    if e.id < start || !f(lp, e) {
                        return;
                    }
                }
            }
        }
    }

    /// The id of the first (or last) entry, tombstones counted unless
    /// `skip_tombstones`; `None` if there is none (`streamGetEdgeID`).
    pub fn edge_id(&self, first: bool, skip_tombstones: bool) -> Option<StreamId> {
        let mut found = None;
        self.range_all(StreamId::MIN, StreamId::MAX, !first, skip_tombstones, &mut |_, e| {
            found = Some(e.id);
            false
        });
        found
    }

    /// The last live id (`streamLastValidID`).
    pub fn last_valid_id(&self) -> Option<StreamId> {
        self.edge_id(false, true)
    }

    /// Whether live entry `id` exists.
    pub fn contains(&self, id: StreamId) -> bool {
        let mut found = false;
        self.range(id, id, false, |_, _| {
            found = true;
            false
        });
        found
    }

    /// The next auto id after `last_id` at time `now_ms` (`streamNextID`).
    pub fn next_id(&self, now_ms: u64) -> Option<StreamId> {
        if now_ms > self.last_id.ms { Some(StreamId::new(now_ms, 0)) } else { self.last_id.incr() }
    }

    /// Appends an entry (`streamAppendItem`): `id` is the id to use
    /// (`None` for an auto id at `now_ms`); with `seq_given` false only
    /// its ms part is given. `pairs` are field, value, field, value ...
    pub fn append(
        &mut self,
        pairs: &[&[u8]],
        id: Option<StreamId>,
        seq_given: bool,
        now_ms: u64,
        lim: Limits,
    ) -> Result<StreamId, AddError> {
        let id = match id {
            Some(id) if seq_given => id,
            Some(id) if self.last_id.ms == id.ms => {
                if self.last_id.seq == u64::MAX {
                    return Err(AddError::NotGreater);
                }
                StreamId::new(id.ms, self.last_id.seq + 1)
            }
            Some(id) => id,
            None => self.next_id(now_ms).ok_or(AddError::NotGreater)?,
        };
        if id <= self.last_id {
            return Err(AddError::NotGreater);
        }
        let totelelen: usize = pairs.iter().map(|p| p.len()).sum();
        if totelelen > LISTPACK_MAX_SIZE {
            return Err(AddError::TooLarge);
        }
        let numfields = pairs.len() / 2;
        let max_bytes =
            if lim.max_bytes == 0 || lim.max_bytes > LISTPACK_MAX_SIZE { LISTPACK_MAX_SIZE } else { lim.max_bytes };
        let mut new_node = true;
        if let Some((_, lp)) = self.nodes.last_key_value() {
            new_node = false;
            if lp.len() + totelelen >= max_bytes {
                new_node = true;
            } else if lim.max_entries > 0 {
                let p = lp::first(lp).unwrap_or(lp::HDR);
                let count = lp::get_int(lp, p) + lp::next(lp, p).map_or(0, |q| lp::get_int(lp, q));
                new_node = count >= lim.max_entries as i64;
            }
            if new_node && let Some(mut last) = self.nodes.last_entry() {
                last.get_mut().shrink_to_fit();
            }
        }
        let mut flags = 0;
        let master_id;
        if new_node {
            master_id = id;
            let mut lp = lp::new();
            lp::append(&mut lp, Elem::Int(1));
            lp::append(&mut lp, Elem::Int(0));
            lp::append(&mut lp, Elem::Int(numfields as i64));
            for i in 0..numfields {
                lp::append_str(&mut lp, pairs[2 * i]);
            }
            lp::append(&mut lp, Elem::Int(0));
            self.nodes.insert(id, lp);
            flags |= FLAG_SAMEFIELDS;
        } else {
            let Some(mut last) = self.nodes.last_entry() else { return Err(AddError::NotGreater) };
            master_id = *last.key();
            let lp = last.get_mut();
            let p = lp::HDR;
            let count = lp::get_int(lp, p);
            lp::replace_int(lp, p, count + 1);
            let m = master(lp);
            if m.nfields == numfields {
                let mut q = Some(m.fields_at);
                let mut same = true;
                for i in 0..numfields {
                    let at = q.unwrap_or(lp.len());
                    if lp::get(lp, at) != Elem::of(pairs[2 * i]) {
                        same = false;
                        break;
                    }
                    q = lp::next(lp, at);
                }
                if same {
                    flags |= FLAG_SAMEFIELDS;
                }
            }
        }
        let Some(lp) = self.nodes.get_mut(&master_id) else { return Err(AddError::NotGreater) };
        let same = flags & FLAG_SAMEFIELDS != 0;
        // Built in one buffer, then spliced in before the terminator.
        let mut buf = Vec::with_capacity(16 + totelelen + 4 * pairs.len());
        let mut n = 0u16;
        let mut push = |buf: &mut Vec<u8>, e: Elem| {
            lp::encode(buf, e);
            n += 1;
        };
        push(&mut buf, Elem::Int(flags));
        push(&mut buf, Elem::Int(id.ms.wrapping_sub(master_id.ms) as i64));
        push(&mut buf, Elem::Int(id.seq.wrapping_sub(master_id.seq) as i64));
        if !same {
            push(&mut buf, Elem::Int(numfields as i64));
        }
        for i in 0..numfields {
            if !same {
                push(&mut buf, Elem::of(pairs[2 * i]));
            }
            push(&mut buf, Elem::of(pairs[2 * i + 1]));
        }
        let lp_count = numfields as i64 + 3 + if same { 0 } else { numfields as i64 + 1 };
        push(&mut buf, Elem::Int(lp_count));
        lp.pop();
        lp.extend_from_slice(&buf);
        lp.push(lp::EOF);
        let total = lp.len() as u32;
        lp[..4].copy_from_slice(&total.to_le_bytes());
        let c = lp::count(lp);
        if c != u16::MAX {
            let c = (c as u32 + n as u32).min(u16::MAX as u32) as u16;
            lp[4..6].copy_from_slice(&c.to_le_bytes());
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(id)
    }

    /// Marks entry `e` of node `mid` deleted, fixing the node's counts;
    /// drops the node when it was its last live entry.
    fn remove_at(&mut self, mid: StreamId, e: &EntryPos) {
        let Some(lp) = self.nodes.get_mut(&mid) else { return };
        lp::replace_int(lp, e.at, e.flags | FLAG_DELETED);
        let count = lp::get_int(lp, lp::HDR);
        if count == 1 {
            self.nodes.remove(&mid);
        } else {
            lp::replace_int(lp, lp::HDR, count - 1);
            if let Some(q) = lp::next(lp, lp::HDR) {
                let deleted = lp::get_int(lp, q);
                lp::replace_int(lp, q, deleted + 1);
            }
        }
        self.length -= 1;
    }

    /// Deletes live entry `id` (`streamDeleteItem`); true if it existed.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&mid, lp)) = self.nodes.range(..=id).next_back() else { return false };
        let Some(e) = node_entries(lp, mid).find(|e| e.id == id && e.flags & FLAG_DELETED == 0) else { return false };
        self.remove_at(mid, &e);
        true
    }

    /// XDEL of several ids, with the bookkeeping of `xdelCommand`.
    pub fn xdel(&mut self, ids: &[StreamId]) -> usize {
        let mut deleted = 0;
        let mut first_entry = false;
        for &id in ids {
            if self.delete(id) {
                if id == self.first_id {
                    first_entry = true;
                }
                if id > self.max_deleted {
                    self.max_deleted = id;
                }
                deleted += 1;
            }
        }
        if deleted > 0 {
            if self.length == 0 {
                self.first_id = StreamId::MIN;
            } else if first_entry {
                self.first_id = self.edge_id(true, true).unwrap_or(StreamId::MAX);
            }
        }
        deleted
    }

    /// `streamTrim`: drops entries from the head, by length (`maxlen`) or
    /// below `minid`; with `approx` only whole nodes; at most `limit`
    /// entries (0: no limit). Returns how many were removed.
    pub fn trim(&mut self, strategy: Trim, approx: bool, limit: i64) -> i64 {
        let mut deleted: i64 = 0;
        let keys: Vec<StreamId> = self.nodes.keys().copied().collect();
        for mid in keys {
            if let Trim::MaxLen(maxlen) = strategy
                && self.length <= maxlen
            {
                break;
            }
            let Some(lp) = self.nodes.get(&mid) else { break };
            let entries = lp::get_int(lp, lp::HDR);
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let remove_node = match strategy {
                Trim::MaxLen(maxlen) => self.length.saturating_sub(entries as u64) >= maxlen,
                Trim::MinId(min) => node_entries(lp, mid).last().is_some_and(|e| e.id < min),
            };
            if remove_node {
                self.nodes.remove(&mid);
                self.length -= entries as u64;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let Some(lp) = self.nodes.get_mut(&mid) else { break };
            let mut from_lp = 0i64;
            let list: Vec<EntryPos> = node_entries(lp, mid).collect();
            // Marking keeps every entry's size (flags 0/2 become 1/3).
            for e in list {
                let stop = match strategy {
                    Trim::MaxLen(maxlen) => self.length <= maxlen,
                    Trim::MinId(min) => e.id >= min,
                };
                if stop {
                    break;
                }
                if e.flags & FLAG_DELETED == 0 {
                    lp::replace_int(lp, e.at, e.flags | FLAG_DELETED);
                    from_lp += 1;
                    self.length -= 1;
                }
            }
            deleted += from_lp;
            lp::replace_int(lp, lp::HDR, entries - from_lp);
            if let Some(q) = lp::next(lp, lp::HDR) {
                let marked = lp::get_int(lp, q);
                lp::replace_int(lp, q, marked + from_lp);
            }
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.edge_id(true, true).unwrap_or(StreamId::MAX);
        }
        deleted
    }

    /// Whether `start..=end` may hold a tombstone (`streamRangeHasTombstones`).
    pub fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.length == 0 || self.max_deleted.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted {
            // The latest tombstone is before the first entry.
            return false;
        }
        start <= self.max_deleted && self.max_deleted <= end
    }

    /// Redis 7.0's `streamEstimateDistanceFromFirstEverEntry`.
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return self.entries_added as i64;
        }
        if id == self.last_id {
            return self.entries_added as i64;
        } else if id > self.last_id {
            return INVALID_ENTRIES_READ;
        }
        if self.max_deleted.is_zero() || self.max_deleted < self.first_id {
            if id < self.first_id {
                return (self.entries_added - self.length) as i64;
            } else if id == self.first_id {
                return (self.entries_added - self.length + 1) as i64;
            }
        }
        INVALID_ENTRIES_READ
    }

    /// A group's lag (Redis 7.0's `streamReplyWithCGLag`); `None` when
    /// unknown.
    pub fn lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != INVALID_ENTRIES_READ && !self.range_has_tombstones(g.last_id, StreamId::MAX) {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        let read = self.estimate_distance(g.last_id);
        (read != INVALID_ENTRIES_READ).then(|| self.entries_added as i64 - read)
    }

    /// Moves group `g`'s last id to delivered entry `id`, keeping its read
    /// counter as `streamReplyWithRange` does.
    pub fn advance_group(&self, g: &mut Group, id: StreamId) {
        if g.entries_read != INVALID_ENTRIES_READ && !self.range_has_tombstones(id, StreamId::MAX) {
            g.entries_read += 1;
        } else if self.entries_added > 0 {
            g.entries_read = self.estimate_distance(id);
        }
        g.last_id = id;
    }

    /// Number of nodes (XINFO's `radix-tree-keys`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The number of nodes Redis's radix tree has for these keys
    /// (XINFO's `radix-tree-nodes`), see [`rax_nodes`].
    pub fn rax_nodes(&self) -> usize {
        let keys: Vec<[u8; 16]> = self.nodes.keys().map(|k| k.to_be_bytes()).collect();
        rax_nodes(&keys)
    }
}

/// The commands that rebuild stream `s` at `key`, as Redis's AOF rewrite
/// (`rewriteStreamObject`) writes them: XADD per entry (an empty stream
/// as `XADD key MAXLEN 0 0-1 x y`), XSETID with ENTRIESADDED and
/// MAXDELETEDID, then per group XGROUP CREATE ... ENTRIESREAD, and per
/// consumer an `XCLAIM key group consumer 0 id TIME t RETRYCOUNT n JUSTID
/// FORCE` per pending entry, or XGROUP CREATECONSUMER when it has none.
pub fn rewrite_commands(key: &[u8], s: &Stream) -> Vec<Vec<Vec<u8>>> {
    let text = |id: StreamId| id.to_string().into_bytes();
    let word = |w: &str| w.as_bytes().to_vec();
    let mut out = Vec::new();
    if s.length > 0 {
        let mut buf = (itoa::Buffer::new(), itoa::Buffer::new());
        s.range(StreamId::MIN, StreamId::MAX, false, |lp, e| {
            let mut argv = vec![word("XADD"), key.to_vec(), text(e.id)];
            Stream::fields(lp, e, |f, v| {
                argv.push(f.bytes(&mut buf.0).to_vec());
                argv.push(v.bytes(&mut buf.1).to_vec());
            });
            out.push(argv);
            true
        });
    } else {
        let empty = ["XADD", "", "MAXLEN", "0", "0-1", "x", "y"];
        out.push(empty.iter().enumerate().map(|(i, w)| if i == 1 { key.to_vec() } else { word(w) }).collect());
    }
    out.push(vec![
        word("XSETID"),
        key.to_vec(),
        text(s.last_id),
        word("ENTRIESADDED"),
        s.entries_added.to_string().into_bytes(),
        word("MAXDELETEDID"),
        text(s.max_deleted),
    ]);
    for (name, g) in &s.groups {
        out.push(vec![
            word("XGROUP"),
            word("CREATE"),
            key.to_vec(),
            name.to_vec(),
            text(g.last_id),
            word("ENTRIESREAD"),
            g.entries_read.to_string().into_bytes(),
        ]);
        for (cname, c) in &g.consumers {
            if c.pel.is_empty() {
                out.push(vec![word("XGROUP"), word("CREATECONSUMER"), key.to_vec(), name.to_vec(), cname.to_vec()]);
                continue;
            }
            for id in &c.pel {
                let Some(nack) = g.pel.get(id) else { continue };
                out.push(vec![
                    word("XCLAIM"),
                    key.to_vec(),
                    name.to_vec(),
                    cname.to_vec(),
                    word("0"),
                    text(*id),
                    word("TIME"),
                    nack.delivery_time.to_string().into_bytes(),
                    word("RETRYCOUNT"),
                    nack.delivery_count.to_string().into_bytes(),
                    word("JUSTID"),
                    word("FORCE"),
                ]);
            }
        }
    }
    out
}

/// How many nodes Redis's `rax` holds for the sorted, distinct, 16-byte
/// `keys` (XINFO's `radix-tree-nodes`): the root; for a run of bytes that
/// every key below a point shares, one compressed node; for each point where
/// keys branch, one branch node; and one (empty) leaf node per key, since
/// every key has the same length and none ends inside another.
pub fn rax_nodes(keys: &[[u8; 16]]) -> usize {
    fn count(keys: &[[u8; 16]], depth: usize) -> usize {
        if depth == 16 {
            return 1;
        }
        let (first, last) = (&keys[0], &keys[keys.len() - 1]);
        let mut common = depth;
        while common < 16 && first[common] == last[common] {
            common += 1;
        }
        if common == 16 {
            // A compressed node for the rest, then the key's leaf.
            return 2;
        }
        // A compressed node for the shared bytes (if any), then a branch node.
        let mut n = usize::from(common > depth) + 1;
        let mut i = 0;
        while i < keys.len() {
            let b = keys[i][common];
            let j = i + keys[i..].iter().take_while(|k| k[common] == b).count();
            n += count(&keys[i..j], common + 1);
            i = j;
        }
        n
    }
    if keys.is_empty() { 1 } else { count(keys, 0) }
}

/// A trimming strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trim {
    MaxLen(u64),
    MinId(StreamId),
}

/// Checks node `lp` of master id `mid` as `streamValidateListpackIntegrity`
/// does (deep): a valid listpack, a master entry, entries whose counts and
/// lp-counts agree. Returns the node's live and deleted counts and its
/// first and last ids (tombstones included).
pub fn validate_node(lp: &[u8], mid: StreamId) -> Option<(i64, i64, StreamId, StreamId)> {
    lp::validate(lp)?;
    let mut p = lp::first(lp)?;
    let live = lp::get_int_checked(lp, p)?;
    p = lp::next(lp, p)?;
    let deleted = lp::get_int_checked(lp, p)?;
    p = lp::next(lp, p)?;
    let master_fields = lp::get_int_checked(lp, p)?;
    if !(0..=LISTPACK_MAX_SIZE as i64).contains(&master_fields) || live < 1 || deleted < 0 {
        return None;
    }
    for _ in 0..master_fields {
        p = lp::next(lp, p)?;
    }
    p = lp::next(lp, p)?;
    if lp::get_int_checked(lp, p)? != 0 {
        return None;
    }
    let mut next = lp::next(lp, p);
    let (mut first, mut last) = (None, None);
    let (mut seen_live, mut seen_deleted) = (0i64, 0i64);
    while let Some(at) = next {
        let flags = lp::get_int_checked(lp, at)?;
        let mut q = lp::next(lp, at)?;
        let ms = lp::get_int_checked(lp, q)?;
        q = lp::next(lp, q)?;
        let seq = lp::get_int_checked(lp, q)?;
        q = lp::next(lp, q)?;
        let (fields, extra) = if flags & FLAG_SAMEFIELDS != 0 {
            (master_fields, 3)
        } else {
            let n = lp::get_int_checked(lp, q)?;
            if !(0..=LISTPACK_MAX_SIZE as i64).contains(&n) {
                return None;
            }
            q = lp::next(lp, q)?;
            (2 * n, 4)
        };
        for _ in 0..fields {
            q = lp::next(lp, q)?;
        }
        // q is now the lp-count.
        let lp_count = lp::get_int_checked(lp, q)?;
        let expect = if flags & FLAG_SAMEFIELDS != 0 { fields + extra } else { fields / 2 + extra + fields / 2 };
        if lp_count != expect {
            return None;
        }
        let id = StreamId::new(mid.ms.wrapping_add(ms as u64), mid.seq.wrapping_add(seq as u64));
        if last.is_some_and(|l| id <= l) || id < mid {
            return None;
        }
        first.get_or_insert(id);
        last = Some(id);
        if flags & FLAG_DELETED != 0 {
            seen_deleted += 1;
        } else {
            seen_live += 1;
        }
        next = lp::next(lp, q);
    }
    if seen_live != live || seen_deleted != deleted {
        return None;
    }
    Some((live, deleted, first?, last?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: Limits = Limits { max_bytes: 4096, max_entries: 100 };

    fn add(s: &mut Stream, ms: u64, pairs: &[&[u8]]) -> StreamId {
        s.append(pairs, Some(StreamId::new(ms, 0)), true, 0, LIM).unwrap()
    }

    fn ids(s: &Stream, rev: bool) -> Vec<StreamId> {
        let mut v = Vec::new();
        s.range(StreamId::MIN, StreamId::MAX, rev, |_, e| {
            v.push(e.id);
            true
        });
        v
    }

    #[test]
    fn append_range_delete_trim() {
        let mut s = Stream::new();
        for i in 1..=250 {
            add(&mut s, i, &[b"a", b"1", b"b", format!("v{i}").as_bytes()]);
        }
        assert_eq!(s.len(), 250);
        assert_eq!(s.nodes.len(), 3);
        let all = ids(&s, false);
        assert_eq!(all.len(), 250);
        let mut rev = ids(&s, true);
        rev.reverse();
        assert_eq!(all, rev);
        for (mid, lp) in &s.nodes {
            assert!(validate_node(lp, *mid).is_some());
        }
        assert!(s.delete(StreamId::new(5, 0)));
        assert!(!s.delete(StreamId::new(5, 0)));
        assert_eq!(s.len(), 249);
        assert!(!s.contains(StreamId::new(5, 0)));
        assert_eq!(s.trim(Trim::MaxLen(120), true, 0), 99);
        assert_eq!(s.len(), 150);
        assert_eq!(s.trim(Trim::MaxLen(100), false, 0), 50);
        assert_eq!(s.first_id, StreamId::new(151, 0));
        let mut fields = Vec::new();
        s.range(StreamId::new(151, 0), StreamId::new(151, 0), false, |lp, e| {
            Stream::fields(lp, e, |f, v| fields.push((f.to_boxed(), v.to_boxed())));
            true
        });
        assert_eq!(
            fields,
            vec![(b"a".to_vec().into(), b"1".to_vec().into()), (b"b".to_vec().into(), b"v151".to_vec().into())]
        );
    }

    #[test]
    fn ids_order_and_errors() {
        let mut s = Stream::new();
        add(&mut s, 5, &[b"f", b"v"]);
        assert_eq!(s.append(&[b"f", b"v"], Some(StreamId::new(5, 0)), true, 0, LIM), Err(AddError::NotGreater));
        assert_eq!(s.append(&[b"f", b"v"], Some(StreamId::new(5, 0)), false, 0, LIM), Ok(StreamId::new(5, 1)));
        assert_eq!(s.append(&[b"g", b"v"], None, false, 3, LIM), Ok(StreamId::new(5, 2)));
        assert_eq!(ids(&s, false).len(), 3);
    }

    #[test]
    fn rax_node_counts() {
        assert_eq!(rax_nodes(&[]), 1);
        assert_eq!(rax_nodes(&[StreamId::new(1, 0).to_be_bytes()]), 2);
    }
}
