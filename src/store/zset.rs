//! The sorted set value type: unique members (binary strings), each with a
//! score (a non-NaN `f64`), ordered by `(score, member bytes)`.
//!
//! Two encodings, switched like Redis's (`OBJECT ENCODING` tells which):
//!
//! - **listpack** (small sets): one exactly sized byte buffer holding the
//!   elements back to back in order (see [`Pack`] for the entry layout),
//!   like Redis's listpack. Every operation is a linear walk over at most
//!   `zset-max-listpack-entries` entries, and every change reallocates the
//!   buffer to its new exact size, as Redis does.
//! - **skiplist** (the name Redis reports; the structure is different): an
//!   arena of tree nodes forming a treap (a binary search tree kept balanced
//!   by random priorities) with subtree sizes, plus a hash table from member
//!   to node. Lookup by member is O(1); insert, delete, rank, "element at
//!   rank" and score/lex range bounds are O(log n) expected; a range of `k`
//!   elements is iterated in O(log n + k). Each member is stored once (the
//!   hash table holds only node indices).
//!
//! A set converts from listpack to skiplist when an insert would make it
//! longer than `zset-max-listpack-entries` or adds a member longer than
//! `zset-max-listpack-value`, and never back, as in Redis. Sets built whole
//! (the results of ZUNIONSTORE and friends) get the encoding their size
//! calls for ([`ZSet::from_sorted`]).
//!
//! Like Redis's listpack, which stores an integral score as an integer, the
//! listpack encoding does not keep the sign of a zero score (`-0` reads back
//! as `0`); the skiplist encoding keeps it.

use super::bytes::Bytes;
use super::rand::Rng;
use super::snaptrack::{Slot, Track};
use hashbrown::{DefaultHashBuilder, HashTable};
use std::cmp::Ordering;
use std::hash::BuildHasher;

/// The conversion thresholds (`zset-max-listpack-entries`, `-value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub entries: usize,
    pub value: usize,
}

/// ZADD's conditions (`NX`, `XX`, `GT`, `LT`, `INCR`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
}

/// What [`ZSet::add`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddOutcome {
    /// A new member was inserted.
    Added,
    /// An existing member got a different score.
    Updated,
    /// An existing member was processed but its score did not change.
    Unchanged,
    /// Nothing was done (NX/XX/GT/LT said no).
    Nop,
}

/// The resulting score of an increment would be NaN (`inf + -inf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotANumber;

/// Orders `(score, member)` pairs as the sorted set does. Scores are never
/// NaN; `-0` and `0` compare equal (then the member decides), as in Redis.
pub fn cmp_key(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    s1.partial_cmp(&s2).unwrap_or(Ordering::Equal).then_with(|| m1.cmp(m2))
}

/// The score as the listpack stores it (Redis writes an integral score as
/// an integer, which drops the sign of zero).
fn listpack_score(score: f64) -> f64 {
    if score == 0.0 { 0.0 } else { score }
}

/// Score tags below this are small integers: tag `t` is `t - SMALL_BIAS`.
const TAG_I32: u8 = 0xFD;
/// An `f32` (exactly the score) follows, 4 bytes little-endian.
const TAG_F32: u8 = 0xFE;
/// An `f64` follows, 8 bytes little-endian.
const TAG_F64: u8 = 0xFF;
/// Integers `-SMALL_BIAS..TAG_I32 - SMALL_BIAS` take a single byte.
const SMALL_BIAS: i32 = 64;

/// The longest encoded score plus the longest length varint.
const MAX_HEADER: usize = 9 + 10;

/// The first `N` bytes of `b`.
fn arr<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0; N];
    a.copy_from_slice(&b[..N]);
    a
}

/// Writes an entry header (score, then member length) into `out`; returns
/// its length. The score is stored in the shortest form that reads back
/// exactly: a one-byte small integer, an `i32`, an `f32` or an `f64`.
fn write_header(score: f64, member_len: usize, out: &mut [u8; MAX_HEADER]) -> usize {
    let mut n = if score.fract() == 0.0 && (i32::MIN as f64..=i32::MAX as f64).contains(&score) {
        let i = score as i32;
        if (-SMALL_BIAS..TAG_I32 as i32 - SMALL_BIAS).contains(&i) {
            out[0] = (i + SMALL_BIAS) as u8;
            1
        } else {
            out[0] = TAG_I32;
            out[1..5].copy_from_slice(&i.to_le_bytes());
            5
        }
    } else if (score as f32) as f64 == score {
        out[0] = TAG_F32;
        out[1..5].copy_from_slice(&(score as f32).to_le_bytes());
        5
    } else {
        out[0] = TAG_F64;
        out[1..9].copy_from_slice(&score.to_le_bytes());
        9
    };
    let mut len = member_len as u64;
    loop {
        let low = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            out[n] = low;
            return n + 1;
        }
        out[n] = low | 0x80;
        n += 1;
    }
}

/// The entry at `off`: its member, its score and the offset of the next.
fn read_entry(buf: &[u8], off: usize) -> (&[u8], f64, usize) {
    let tag = buf[off];
    let (score, mut p) = match tag {
        TAG_I32 => (i32::from_le_bytes(arr(&buf[off + 1..])) as f64, off + 5),
        TAG_F32 => (f32::from_le_bytes(arr(&buf[off + 1..])) as f64, off + 5),
        TAG_F64 => (f64::from_le_bytes(arr(&buf[off + 1..])), off + 9),
        t => ((t as i32 - SMALL_BIAS) as f64, off + 1),
    };
    let (mut len, mut shift) = (0usize, 0u32);
    loop {
        let b = buf[p];
        p += 1;
        len |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    (&buf[p..p + len], score, p + len)
}

/// The listpack encoding: entries `[score][member length][member]` back to
/// back, sorted by `(score, member)`, in a buffer of exactly their size.
/// The score is a tag byte (a small integer itself, or which of `i32`,
/// `f32`, `f64` follows); the member length is an LEB128 varint.
#[derive(Debug, Clone, Default)]
struct Pack {
    buf: Box<[u8]>,
    len: u32,
}

impl Pack {
    fn len(&self) -> usize {
        self.len as usize
    }

    /// Entries from byte offset `off` on, with their offsets.
    fn entries_from(&self, off: usize) -> PackIter<'_> {
        PackIter { buf: &self.buf, off }
    }

    /// The byte offset of the entry at rank `rank` (the end past the last).
    fn offset_of(&self, rank: usize) -> usize {
        match self.entries_from(0).nth(rank) {
            Some((off, _, _)) => off,
            None => self.buf.len(),
        }
    }

    /// The rank, offset and score of `member`.
    fn find(&self, member: &[u8]) -> Option<(usize, usize, f64)> {
        self.entries_from(0).enumerate().find(|(_, (_, m, _))| *m == member).map(|(r, (off, _, s))| (r, off, s))
    }

    /// Inserts an entry (absent member, score already as the listpack
    /// keeps it) at its place, growing the buffer to exactly its new size.
    fn insert(&mut self, member: &[u8], score: f64) {
        let pos = self
            .entries_from(0)
            .find(|&(_, m, s)| cmp_key(s, m, score, member) != Ordering::Less)
            .map_or(self.buf.len(), |(off, _, _)| off);
        let mut header = [0; MAX_HEADER];
        let hn = write_header(score, member.len(), &mut header);
        let n = hn + member.len();
        let mut v = std::mem::take(&mut self.buf).into_vec();
        let old = v.len();
        v.reserve_exact(n);
        v.resize(old + n, 0);
        v.copy_within(pos..old, pos + n);
        v[pos..pos + hn].copy_from_slice(&header[..hn]);
        v[pos + hn..pos + n].copy_from_slice(member);
        self.buf = v.into_boxed_slice();
        self.len += 1;
    }

    /// Removes the `count` entries in bytes `from..to`, shrinking the buffer.
    fn remove_bytes(&mut self, from: usize, to: usize, count: usize) {
        let mut v = std::mem::take(&mut self.buf).into_vec();
        v.drain(from..to);
        self.buf = v.into_boxed_slice();
        self.len -= count as u32;
    }

    /// Removes the entry at `off`; returns its member and score.
    fn remove_at(&mut self, off: usize) -> (Bytes, f64) {
        let (m, s, next) = read_entry(&self.buf, off);
        let m: Bytes = m.into();
        self.remove_bytes(off, next, 1);
        (m, s)
    }
}

/// Walks a [`Pack`]'s entries: `(offset, member, score)`.
struct PackIter<'a> {
    buf: &'a [u8],
    off: usize,
}

impl<'a> Iterator for PackIter<'a> {
    type Item = (usize, &'a [u8], f64);

    fn next(&mut self) -> Option<(usize, &'a [u8], f64)> {
        if self.off >= self.buf.len() {
            return None;
        }
        let off = self.off;
        let (m, s, next) = read_entry(self.buf, off);
        self.off = next;
        Some((off, m, s))
    }
}

/// A sorted set.
#[derive(Debug, Clone)]
pub struct ZSet {
    enc: Enc,
}

#[derive(Debug, Clone)]
enum Enc {
    Listpack(Pack),
    Skiplist(Box<Tree>),
}

impl Default for ZSet {
    fn default() -> ZSet {
        ZSet::new()
    }
}

impl PartialEq for ZSet {
    /// Same members with the same scores (whatever the encodings).
    fn eq(&self, other: &ZSet) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a.0 == b.0 && a.1 == b.1)
    }
}

impl ZSet {
    /// An empty set, listpack-encoded.
    pub fn new() -> ZSet {
        ZSet { enc: Enc::Listpack(Pack::default()) }
    }

    /// A set from pairs already sorted by `(score, member)` with unique
    /// members, encoded as their count and longest member call for.
    pub fn from_sorted<M: AsRef<[u8]> + Into<Bytes>>(items: Vec<(M, f64)>, lim: Limits) -> ZSet {
        let fits = items.len() <= lim.entries
            && items.len() < u32::MAX as usize
            && items.iter().all(|(m, _)| m.as_ref().len() <= lim.value);
        if fits {
            let mut header = [0; MAX_HEADER];
            let size: usize = items
                .iter()
                .map(|(m, s)| write_header(listpack_score(*s), m.as_ref().len(), &mut header) + m.as_ref().len())
                .sum();
            let mut buf = Vec::with_capacity(size);
            for (m, s) in &items {
                let m = m.as_ref();
                let hn = write_header(listpack_score(*s), m.len(), &mut header);
                buf.extend_from_slice(&header[..hn]);
                buf.extend_from_slice(m);
            }
            ZSet { enc: Enc::Listpack(Pack { buf: buf.into_boxed_slice(), len: items.len() as u32 }) }
        } else {
            let mut tree = Tree::with_capacity(items.len());
            for (m, s) in items {
                tree.insert(m.into(), s);
            }
            ZSet { enc: Enc::Skiplist(Box::new(tree)) }
        }
    }

    pub fn len(&self) -> usize {
        match &self.enc {
            Enc::Listpack(p) => p.len(),
            Enc::Skiplist(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match &self.enc {
            Enc::Listpack(_) => "listpack",
            Enc::Skiplist(_) => "skiplist",
        }
    }

    /// Heap bytes owned (allocation sizes; allocator rounding not counted).
    pub fn heap_size(&self) -> usize {
        match &self.enc {
            Enc::Listpack(p) => p.buf.len(),
            Enc::Skiplist(t) => std::mem::size_of::<Tree>() + t.heap_size(),
        }
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.enc {
            Enc::Listpack(p) => p.find(member).map(|(_, _, s)| s),
            Enc::Skiplist(t) => t.find(member).map(|i| t.nodes[i as usize].score),
        }
    }

    /// The 0-based ascending rank of `member`.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match &self.enc {
            Enc::Listpack(p) => p.find(member).map(|(r, _, _)| r),
            Enc::Skiplist(t) => t.find(member).map(|i| t.rank_of(i)),
        }
    }

    /// The member and score at ascending rank `rank`.
    pub fn get_by_rank(&self, rank: usize) -> Option<(&[u8], f64)> {
        match &self.enc {
            Enc::Listpack(p) => p.entries_from(0).nth(rank).map(|(_, m, s)| (m, s)),
            Enc::Skiplist(t) => t.select(rank).map(|i| (&t.nodes[i as usize].member[..], t.nodes[i as usize].score)),
        }
    }

    /// How many leading elements (in ascending order) satisfy `pred`, which
    /// must hold for a prefix of the order and fail after it (a score or lex
    /// lower/upper bound). O(log n) for the skiplist encoding.
    pub fn prefix_len(&self, pred: impl Fn(&[u8], f64) -> bool) -> usize {
        match &self.enc {
            Enc::Listpack(p) => p.entries_from(0).take_while(|&(_, m, s)| pred(m, s)).count(),
            Enc::Skiplist(t) => t.prefix_len(pred),
        }
    }

    /// Elements at ascending ranks `start..end` (clamped to the length),
    /// from `start` up, or from `end - 1` down when `rev`.
    pub fn range(&self, start: usize, end: usize, rev: bool) -> Iter<'_> {
        let end = end.min(self.len());
        let start = start.min(end);
        let inner = match &self.enc {
            Enc::Listpack(p) if rev => {
                let offs = p.entries_from(0).skip(start).take(end - start).map(|(off, _, _)| off).collect();
                Inner::PackRev { buf: &p.buf, offs }
            }
            Enc::Listpack(p) => {
                Inner::Pack(p.entries_from(if start == end { p.buf.len() } else { p.offset_of(start) }))
            }
            Enc::Skiplist(t) => {
                Inner::Tree { tree: t, stack: t.seek(if rev { end.saturating_sub(1) } else { start }, rev) }
            }
        };
        Iter { inner, rev, remaining: end - start }
    }

    /// All elements in ascending order.
    pub fn iter(&self) -> Iter<'_> {
        self.range(0, usize::MAX, false)
    }

    /// ZADD's core (Redis's `zsetAdd`): adds `member` or updates its score
    /// under the conditions in `f`. Returns what happened and the member's
    /// resulting score (with INCR, the incremented one).
    pub fn add(
        &mut self,
        member: &[u8],
        score: f64,
        f: AddFlags,
        lim: Limits,
    ) -> Result<(AddOutcome, f64), NotANumber> {
        if score.is_nan() {
            return Err(NotANumber);
        }
        match self.score(member) {
            Some(cur) => {
                if f.nx {
                    return Ok((AddOutcome::Nop, cur));
                }
                let mut new = score;
                if f.incr {
                    new += cur;
                    if new.is_nan() {
                        return Err(NotANumber);
                    }
                }
                if (f.lt && new >= cur) || (f.gt && new <= cur) {
                    return Ok((AddOutcome::Nop, cur));
                }
                if new == cur {
                    return Ok((AddOutcome::Unchanged, new));
                }
                self.update(member, new);
                Ok((AddOutcome::Updated, new))
            }
            None if f.xx => Ok((AddOutcome::Nop, score)),
            None => {
                self.insert_new(member, score, lim);
                Ok((AddOutcome::Added, score))
            }
        }
    }

    /// Sets the score of `member`, adding it if absent. Returns the old score.
    pub fn insert(&mut self, member: &[u8], score: f64, lim: Limits) -> Option<f64> {
        match self.score(member) {
            Some(old) => {
                self.update(member, score);
                Some(old)
            }
            None => {
                self.insert_new(member, score, lim);
                None
            }
        }
    }

    /// Inserts a member known to be absent, converting first if needed.
    fn insert_new(&mut self, member: &[u8], score: f64, lim: Limits) {
        if let Enc::Listpack(p) = &self.enc
            && (p.len() + 1 > lim.entries || member.len() > lim.value || p.len >= u32::MAX - 1)
        {
            self.convert_to_skiplist();
        }
        match &mut self.enc {
            Enc::Listpack(p) => p.insert(member, listpack_score(score)),
            Enc::Skiplist(t) => t.insert(member.into(), score),
        }
    }

    /// Changes the score of an existing member.
    fn update(&mut self, member: &[u8], score: f64) {
        match &mut self.enc {
            Enc::Listpack(p) => {
                if let Some((_, off, _)) = p.find(member) {
                    let (m, _) = p.remove_at(off);
                    p.insert(&m, listpack_score(score));
                }
            }
            Enc::Skiplist(t) => {
                if let Some(i) = t.find(member) {
                    t.set_score(i, score);
                }
            }
        }
    }

    /// Converts a listpack-encoded set to the skiplist encoding (no-op
    /// otherwise); SORT does this to the set it sorts, as Redis does.
    pub fn convert_to_skiplist(&mut self) {
        if let Enc::Listpack(p) = &self.enc {
            let mut tree = Tree::with_capacity(p.len() + 1);
            for (_, m, s) in p.entries_from(0) {
                tree.insert(m.into(), s);
            }
            self.enc = Enc::Skiplist(Box::new(tree));
        }
    }

    /// Removes `member`; returns its score if it was there.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match &mut self.enc {
            Enc::Listpack(p) => {
                let (_, off, _) = p.find(member)?;
                Some(p.remove_at(off).1)
            }
            Enc::Skiplist(t) => {
                let i = t.find(member)?;
                let (_, s) = t.remove_node(i);
                t.maybe_compact();
                Some(s)
            }
        }
    }

    /// Removes the elements at ascending ranks `start..end` (clamped);
    /// returns how many were removed.
    pub fn remove_range(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        match &mut self.enc {
            Enc::Listpack(p) => {
                let from = p.offset_of(start);
                let to = p.entries_from(from).nth(end - start).map_or(p.buf.len(), |(off, _, _)| off);
                p.remove_bytes(from, to, end - start);
            }
            Enc::Skiplist(t) => {
                t.remove_ranks(start, end);
                t.maybe_compact();
            }
        }
        end - start
    }

    /// Removes and returns the lowest (or, with `max`, the highest) element.
    pub fn pop(&mut self, max: bool) -> Option<(Bytes, f64)> {
        match &mut self.enc {
            Enc::Listpack(p) => {
                if p.len() == 0 {
                    None
                } else if max {
                    let off = p.offset_of(p.len() - 1);
                    Some(p.remove_at(off))
                } else {
                    Some(p.remove_at(0))
                }
            }
            Enc::Skiplist(t) => {
                let n = t.len();
                let i = t.select(if max { n.checked_sub(1)? } else { 0 })?;
                let out = t.remove_node(i);
                t.maybe_compact();
                Some(out)
            }
        }
    }

    /// A uniformly random element (`None` when empty).
    pub fn random(&self, rng: &mut Rng) -> Option<(&[u8], f64)> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        self.get_by_rank(rng.below(n))
    }

    /// `n` independent draws of [`ZSet::random`] (the same random numbers
    /// used the same way), passed to `visit` (an empty member with score 0
    /// when the set is empty). A listpack is indexed once, not walked per
    /// draw.
    pub fn random_many(&self, rng: &mut Rng, n: u64, mut visit: impl FnMut(&[u8], f64)) {
        match &self.enc {
            Enc::Listpack(p) if p.len() > 0 => {
                let offs: Vec<usize> = p.entries_from(0).map(|(off, _, _)| off).collect();
                for _ in 0..n {
                    let (m, s, _) = read_entry(&p.buf, offs[rng.below(offs.len())]);
                    visit(m, s);
                }
            }
            _ => {
                for _ in 0..n {
                    let (m, s) = self.random(rng).unwrap_or_default();
                    visit(m, s);
                }
            }
        }
    }

    /// The elements at ascending ranks `ranks`, in that order, passed to
    /// `visit` (an empty member with score 0 for a rank out of range). A
    /// listpack is indexed once, not walked per rank.
    pub fn for_ranks(&self, ranks: &[usize], mut visit: impl FnMut(&[u8], f64)) {
        match &self.enc {
            Enc::Listpack(p) => {
                let offs: Vec<usize> = p.entries_from(0).map(|(off, _, _)| off).collect();
                for &r in ranks {
                    let (m, s) = offs.get(r).map_or((&[][..], 0.0), |&off| {
                        let (m, s, _) = read_entry(&p.buf, off);
                        (m, s)
                    });
                    visit(m, s);
                }
            }
            Enc::Skiplist(_) => {
                for &r in ranks {
                    let (m, s) = self.get_by_rank(r).unwrap_or_default();
                    visit(m, s);
                }
            }
        }
    }

    /// One ZSCAN step: visits elements from `cursor` and returns the next
    /// cursor (0 when done). A listpack is returned whole in one step, as
    /// Redis does. For the skiplist encoding the cursor counts the arena
    /// slots not yet visited (visited from the top down, `count` slots per
    /// step); slots only ever move down (compaction keeps their order) and
    /// new elements take free slots or the top, so an element present for
    /// the whole iteration is returned at least once.
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut visit: impl FnMut(&'a [u8], f64)) -> u64 {
        match &self.enc {
            Enc::Listpack(p) => {
                for (_, m, s) in p.entries_from(0) {
                    visit(m, s);
                }
                0
            }
            Enc::Skiplist(t) => {
                let len = t.nodes.len() as u64;
                let mut pos = if cursor == 0 { len } else { cursor.min(len) };
                let mut steps = 0;
                while pos > 0 && steps < count {
                    pos -= 1;
                    steps += 1;
                    let node = &t.nodes[pos as usize];
                    if node.size != 0 {
                        visit(&node.member, node.score);
                    }
                }
                pos
            }
        }
    }

    /// A snapshot (alive while `owner` is) starts writing this skiplist
    /// set a slice at a time, from the top of its arena down: from now on
    /// each change first hands it what it still owes. False for a
    /// listpack (written whole).
    pub fn snap_start(&mut self, owner: std::sync::Weak<()>) -> bool {
        match &mut self.enc {
            Enc::Skiplist(t) => {
                let holes = t.free.iter().map(|&f| f as usize);
                t.track.0 = Some(Box::new(Track::with_holes(t.nodes.len(), holes, owner)));
                true
            }
            Enc::Listpack(_) => false,
        }
    }

    /// Up to `n` of the elements the snapshot owes, to `write`; returns
    /// how many, with how many are left (0 when done).
    pub fn snap_slice(&mut self, n: usize, mut write: impl FnMut(&[u8], f64)) -> Option<(usize, usize)> {
        let Enc::Skiplist(t) = &mut self.enc else { return None };
        let Tree { nodes, track, .. } = &mut **t;
        let tr = track.live()?;
        let done = tr.slice(nodes, n, |node| write(&node.member, node.score));
        Some((done, tr.left()))
    }

    /// The snapshot is done with this set (or gave up).
    pub fn snap_end(&mut self) {
        if let Enc::Skiplist(t) = &mut self.enc {
            t.track.0 = None;
        }
    }

    /// Bytes of the elements a snapshot saved before they changed.
    pub fn snap_held(&self) -> usize {
        match &self.enc {
            Enc::Skiplist(t) => t.track.0.as_ref().map_or(0, |tr| tr.saved_size(|n| n.member.heap_size())),
            Enc::Listpack(_) => 0,
        }
    }

    /// Whether the listpack encoding is in use (ZSCAN prints its scores as
    /// the listpack stores them).
    pub fn is_listpack(&self) -> bool {
        matches!(self.enc, Enc::Listpack(_))
    }

    /// Checks the internal invariants (tests).
    #[cfg(test)]
    fn check(&self) {
        match &self.enc {
            Enc::Listpack(p) => {
                let items: Vec<(usize, &[u8], f64)> = p.entries_from(0).collect();
                assert_eq!(items.len(), p.len(), "count");
                let mut end = 0;
                for &(off, m, s) in &items {
                    assert_eq!(off, end, "entries back to back");
                    assert!(!s.is_nan() && (s != 0.0 || s.is_sign_positive()), "listpack score");
                    let mut header = [0; MAX_HEADER];
                    end = off + write_header(s, m.len(), &mut header) + m.len();
                }
                assert_eq!(end, p.buf.len(), "exact size");
                for w in items.windows(2) {
                    assert_eq!(cmp_key(w[0].2, w[0].1, w[1].2, w[1].1), Ordering::Less);
                }
            }
            Enc::Skiplist(t) => t.check(),
        }
    }
}

/// Iterator over a rank range of a [`ZSet`].
pub struct Iter<'a> {
    inner: Inner<'a>,
    rev: bool,
    remaining: usize,
}

enum Inner<'a> {
    /// Ascending through a listpack (`remaining` says when to stop).
    Pack(PackIter<'a>),
    /// Descending through a listpack: the range's entry offsets, popped.
    PackRev {
        buf: &'a [u8],
        offs: Vec<usize>,
    },
    Tree {
        tree: &'a Tree,
        stack: Vec<u32>,
    },
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<(&'a [u8], f64)> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        match &mut self.inner {
            Inner::Pack(it) => it.next().map(|(_, m, s)| (m, s)),
            Inner::PackRev { buf, offs } => {
                let buf: &'a [u8] = buf;
                let (m, s, _) = read_entry(buf, offs.pop()?);
                Some((m, s))
            }
            Inner::Tree { tree, stack } => {
                let tree: &'a Tree = tree;
                let i = tree.step(stack, self.rev)?;
                let node = &tree.nodes[i as usize];
                Some((&node.member[..], node.score))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// "No node".
const NIL: u32 = u32::MAX;

/// A tree node; `size == 0` marks a free arena slot.
#[derive(Debug, Clone)]
struct Node {
    member: Bytes,
    score: f64,
    left: u32,
    right: u32,
    /// Nodes in this subtree, this one included.
    size: u32,
    /// Treap priority: a parent's is never below its children's.
    prio: u32,
}

/// Members from which a big sorted set's member index is split.
const INDEX_SPLIT_AT: usize = 1 << 16;

/// The member index of the skiplist encoding: one `hashbrown` table, split
/// in 16 (by bits 32-35 of the hash, which hashbrown leaves unused) from
/// 65,536 members on, so that a growth rehashes a sixteenth of the members
/// instead of all of them at once (at 3,670,000 members a whole-index
/// doubling stalled the server for ~350 ms). The same idea as the keyspace's
/// buckets (`store::table`).
#[derive(Clone)]
struct Index {
    shards: Vec<HashTable<u32>>,
}

impl Index {
    fn with_capacity(n: usize) -> Index {
        let shards = if n >= INDEX_SPLIT_AT { 16 } else { 1 };
        Index { shards: (0..shards).map(|_| HashTable::with_capacity(n.div_ceil(shards))).collect() }
    }

    fn shard(&self, hash: u64) -> usize {
        (hash >> 32) as usize & (self.shards.len() - 1)
    }

    fn find(&self, hash: u64, eq: impl FnMut(&u32) -> bool) -> Option<&u32> {
        self.shards[self.shard(hash)].find(hash, eq)
    }

    fn insert_unique(&mut self, hash: u64, v: u32, rehash: impl Fn(&u32) -> u64) {
        let k = self.shard(hash);
        self.shards[k].insert_unique(hash, v, &rehash);
        if self.shards.len() == 1 && self.shards[0].len() >= INDEX_SPLIT_AT {
            let one = std::mem::take(&mut self.shards[0]);
            let mut split = Index::with_capacity(one.len() * 2);
            for v in one {
                let h = rehash(&v);
                let k = split.shard(h);
                split.shards[k].insert_unique(h, v, &rehash);
            }
            *self = split;
        }
    }

    fn remove(&mut self, hash: u64, eq: impl FnMut(&u32) -> bool) {
        let k = self.shard(hash);
        if let Ok(entry) = self.shards[k].find_entry(hash, eq) {
            entry.remove();
        }
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = &mut u32> {
        self.shards.iter_mut().flat_map(|t| t.iter_mut())
    }

    fn shrink_to_fit(&mut self, rehash: impl Fn(&u32) -> u64) {
        for t in &mut self.shards {
            t.shrink_to_fit(&rehash);
        }
    }

    fn capacity(&self) -> usize {
        self.shards.iter().map(|t| t.capacity()).sum()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards.iter().map(|t| t.len()).sum()
    }
}

/// The skiplist encoding: a treap over an arena plus a member index.
#[derive(Clone)]
struct Tree {
    nodes: Vec<Node>,
    /// Free arena slots.
    free: Vec<u32>,
    root: u32,
    /// Member → node index, hashed by member bytes.
    index: Index,
    /// Hashes members, and draws priorities (randomly seeded, so the tree
    /// shape cannot be predicted from the input).
    hasher: DefaultHashBuilder,
    ticks: u64,
    member_bytes: usize,
    /// What a snapshot writing this set still owes (see
    /// [`snaptrack`](crate::store::snaptrack)): it walks the arena.
    track: Slot<Node>,
}

impl std::fmt::Debug for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tree").field("len", &self.len()).field("slots", &self.nodes.len()).finish()
    }
}

impl Tree {
    fn with_capacity(n: usize) -> Tree {
        Tree {
            nodes: Vec::with_capacity(n),
            free: Vec::new(),
            root: NIL,
            index: Index::with_capacity(n),
            hasher: DefaultHashBuilder::default(),
            ticks: 0,
            member_bytes: 0,
            track: Slot::default(),
        }
    }

    fn len(&self) -> usize {
        self.size(self.root)
    }

    fn heap_size(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.free.capacity() * std::mem::size_of::<u32>()
            + self.index.capacity() * (std::mem::size_of::<u32>() + 1)
            + self.member_bytes
    }

    fn size(&self, t: u32) -> usize {
        if t == NIL { 0 } else { self.nodes[t as usize].size as usize }
    }

    fn left(&self, t: u32) -> u32 {
        self.nodes[t as usize].left
    }

    fn right(&self, t: u32) -> u32 {
        self.nodes[t as usize].right
    }

    fn pull(&mut self, t: u32) {
        let size = 1 + self.size(self.left(t)) + self.size(self.right(t));
        self.nodes[t as usize].size = size as u32;
    }

    /// Whether node `a` orders before node `b`.
    fn less(&self, a: u32, b: u32) -> bool {
        let (a, b) = (&self.nodes[a as usize], &self.nodes[b as usize]);
        // The members only when the scores tie: reading a compact string's
        // bytes costs a branch, and scores mostly differ.
        match a.score.partial_cmp(&b.score) {
            Some(Ordering::Equal) | None => a.member.as_slice() < b.member.as_slice(),
            Some(o) => o == Ordering::Less,
        }
    }

    fn find(&self, member: &[u8]) -> Option<u32> {
        let hash = self.hasher.hash_one(member);
        self.index.find(hash, |&i| &self.nodes[i as usize].member[..] == member).copied()
    }

    /// Adds a member known to be absent.
    fn insert(&mut self, member: Bytes, score: f64) {
        self.ticks += 1;
        let prio = self.hasher.hash_one(self.ticks) as u32;
        self.member_bytes += member.heap_size();
        let node = Node { member, score, left: NIL, right: NIL, size: 1, prio };
        let i = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        let Tree { index, nodes, hasher, .. } = self;
        let hash = hasher.hash_one(&nodes[i as usize].member[..]);
        index.insert_unique(hash, i, |&j| hasher.hash_one(&nodes[j as usize].member[..]));
        // (A snapshot's track needs no word: a free slot below its walk is
        // skipped already, and a new one at the top is above it.)
        self.root = self.insert_at(self.root, i);
    }

    /// Node `i` is about to change or go: the snapshot's track gets it
    /// first if it still owes it.
    fn before_change(&mut self, i: u32) {
        if let Some(t) = self.track.live()
            && t.claim(i as usize)
        {
            let n = &self.nodes[i as usize];
            t.save(Node { member: n.member.clone(), score: n.score, left: NIL, right: NIL, size: 1, prio: 0 });
        }
    }

    fn insert_at(&mut self, t: u32, n: u32) -> u32 {
        if t == NIL {
            return n;
        }
        if self.nodes[n as usize].prio > self.nodes[t as usize].prio {
            let (l, r) = self.split(t, n);
            let node = &mut self.nodes[n as usize];
            node.left = l;
            node.right = r;
            self.pull(n);
            return n;
        }
        if self.less(n, t) {
            let l = self.insert_at(self.left(t), n);
            self.nodes[t as usize].left = l;
        } else {
            let r = self.insert_at(self.right(t), n);
            self.nodes[t as usize].right = r;
        }
        self.nodes[t as usize].size += 1;
        t
    }

    /// Splits subtree `t` into the nodes ordering before node `n` and the rest.
    fn split(&mut self, t: u32, n: u32) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        if self.less(t, n) {
            let (a, b) = self.split(self.right(t), n);
            self.nodes[t as usize].right = a;
            self.pull(t);
            (t, b)
        } else {
            let (a, b) = self.split(self.left(t), n);
            self.nodes[t as usize].left = b;
            self.pull(t);
            (a, t)
        }
    }

    /// Splits subtree `t` into its first `k` nodes and the rest.
    fn split_rank(&mut self, t: u32, k: usize) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        let ls = self.size(self.left(t));
        if k <= ls {
            let (a, b) = self.split_rank(self.left(t), k);
            self.nodes[t as usize].left = b;
            self.pull(t);
            (a, t)
        } else {
            let (a, b) = self.split_rank(self.right(t), k - ls - 1);
            self.nodes[t as usize].right = a;
            self.pull(t);
            (t, b)
        }
    }

    /// Joins two subtrees, every node of `a` ordering before every node of `b`.
    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.nodes[a as usize].prio >= self.nodes[b as usize].prio {
            let r = self.merge(self.right(a), b);
            self.nodes[a as usize].right = r;
            self.pull(a);
            a
        } else {
            let l = self.merge(a, self.left(b));
            self.nodes[b as usize].left = l;
            self.pull(b);
            b
        }
    }

    /// Unlinks node `n` from subtree `t` (where it is).
    fn erase(&mut self, t: u32, n: u32) -> u32 {
        if t == NIL {
            return NIL;
        }
        if t == n {
            return self.merge(self.left(n), self.right(n));
        }
        if self.less(n, t) {
            let l = self.erase(self.left(t), n);
            self.nodes[t as usize].left = l;
        } else {
            let r = self.erase(self.right(t), n);
            self.nodes[t as usize].right = r;
        }
        self.pull(t);
        t
    }

    /// Gives node `i` a new score, moving it to its new place.
    fn set_score(&mut self, i: u32, score: f64) {
        self.before_change(i);
        self.root = self.erase(self.root, i);
        let node = &mut self.nodes[i as usize];
        node.score = score;
        node.left = NIL;
        node.right = NIL;
        node.size = 1;
        self.root = self.insert_at(self.root, i);
    }

    /// Unlinks node `i` and frees its slot; returns its member and score.
    fn remove_node(&mut self, i: u32) -> (Bytes, f64) {
        self.root = self.erase(self.root, i);
        self.release(i)
    }

    /// Drops node `i` (already unlinked) from the index and frees its slot.
    fn release(&mut self, i: u32) -> (Bytes, f64) {
        self.before_change(i);
        let hash = self.hasher.hash_one(&self.nodes[i as usize].member[..]);
        self.index.remove(hash, |&j| j == i);
        let node = &mut self.nodes[i as usize];
        let member = std::mem::take(&mut node.member);
        let score = node.score;
        node.size = 0;
        node.left = NIL;
        node.right = NIL;
        self.member_bytes -= member.heap_size();
        self.free.push(i);
        (member, score)
    }

    /// Removes the nodes at ranks `start..end`.
    fn remove_ranks(&mut self, start: usize, end: usize) {
        let (a, rest) = self.split_rank(self.root, start);
        let (mid, c) = self.split_rank(rest, end - start);
        self.root = self.merge(a, c);
        let mut stack = vec![mid];
        while let Some(t) = stack.pop() {
            if t != NIL {
                stack.push(self.left(t));
                stack.push(self.right(t));
                self.release(t);
            }
        }
    }

    /// Ascending rank of node `n`.
    fn rank_of(&self, n: u32) -> usize {
        let (mut t, mut r) = (self.root, 0);
        while t != NIL {
            if t == n {
                return r + self.size(self.left(t));
            }
            if self.less(n, t) {
                t = self.left(t);
            } else {
                r += self.size(self.left(t)) + 1;
                t = self.right(t);
            }
        }
        r
    }

    /// The node at ascending rank `k`.
    fn select(&self, mut k: usize) -> Option<u32> {
        let mut t = self.root;
        while t != NIL {
            let ls = self.size(self.left(t));
            match k.cmp(&ls) {
                Ordering::Less => t = self.left(t),
                Ordering::Equal => return Some(t),
                Ordering::Greater => {
                    k -= ls + 1;
                    t = self.right(t);
                }
            }
        }
        None
    }

    fn prefix_len(&self, pred: impl Fn(&[u8], f64) -> bool) -> usize {
        let (mut t, mut c) = (self.root, 0);
        while t != NIL {
            let node = &self.nodes[t as usize];
            if pred(&node.member, node.score) {
                c += self.size(node.left) + 1;
                t = node.right;
            } else {
                t = node.left;
            }
        }
        c
    }

    /// The iteration stack positioned at rank `k` (its top is that node);
    /// `rev` prepares for walking down the order instead of up.
    fn seek(&self, mut k: usize, rev: bool) -> Vec<u32> {
        let mut stack = Vec::with_capacity(48);
        let mut t = self.root;
        while t != NIL {
            let ls = self.size(self.left(t));
            match k.cmp(&ls) {
                Ordering::Less => {
                    if !rev {
                        stack.push(t);
                    }
                    t = self.left(t);
                }
                Ordering::Equal => {
                    stack.push(t);
                    break;
                }
                Ordering::Greater => {
                    if rev {
                        stack.push(t);
                    }
                    k -= ls + 1;
                    t = self.right(t);
                }
            }
        }
        stack
    }

    /// Pops the current node and pushes the path to the next one.
    fn step(&self, stack: &mut Vec<u32>, rev: bool) -> Option<u32> {
        let t = stack.pop()?;
        let mut c = if rev { self.left(t) } else { self.right(t) };
        while c != NIL {
            stack.push(c);
            c = if rev { self.right(c) } else { self.left(c) };
        }
        Some(t)
    }

    /// Reclaims free slots once they are over half the arena: live nodes
    /// move down, keeping their relative order (see [`ZSet::scan`]).
    /// Waits while a snapshot's track walks the arena.
    fn maybe_compact(&mut self) {
        if self.free.len() < 64 || self.free.len() * 2 < self.nodes.len() || self.track.live().is_some() {
            return;
        }
        let old = std::mem::take(&mut self.nodes);
        let mut remap = vec![NIL; old.len()];
        let mut nodes = Vec::with_capacity(old.len() - self.free.len());
        for (i, node) in old.into_iter().enumerate() {
            if node.size != 0 {
                remap[i] = nodes.len() as u32;
                nodes.push(node);
            }
        }
        let map = |x: u32| if x == NIL { NIL } else { remap[x as usize] };
        for node in &mut nodes {
            node.left = map(node.left);
            node.right = map(node.right);
        }
        self.root = map(self.root);
        for slot in self.index.iter_mut() {
            *slot = map(*slot);
        }
        self.nodes = nodes;
        self.free = Vec::new();
        let Tree { index, nodes, hasher, .. } = self;
        index.shrink_to_fit(|&j| hasher.hash_one(&nodes[j as usize].member[..]));
    }

    /// Checks order, sizes, heap property and the index (tests).
    #[cfg(test)]
    fn check(&self) {
        fn walk(t: &Tree, n: u32, out: &mut Vec<u32>) -> usize {
            if n == NIL {
                return 0;
            }
            let node = &t.nodes[n as usize];
            for c in [node.left, node.right] {
                if c != NIL {
                    assert!(t.nodes[c as usize].prio <= node.prio, "heap order");
                }
            }
            let l = walk(t, node.left, out);
            out.push(n);
            let r = walk(t, node.right, out);
            assert_eq!(node.size as usize, l + r + 1, "size");
            l + r + 1
        }
        let mut order = Vec::new();
        let n = walk(self, self.root, &mut order);
        for w in order.windows(2) {
            assert!(self.less(w[0], w[1]), "order");
        }
        assert_eq!(n, self.index.len());
        assert_eq!(n + self.free.len(), self.nodes.len());
        for &i in &order {
            assert_eq!(self.find(&self.nodes[i as usize].member), Some(i));
        }
        let bytes: usize = order.iter().map(|&i| self.nodes[i as usize].member.heap_size()).sum();
        assert_eq!(bytes, self.member_bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, HashMap};

    const BIG: Limits = Limits { entries: 128, value: 64 };

    fn set_of(n: usize, lim: Limits) -> ZSet {
        let mut z = ZSet::new();
        for i in 0..n {
            z.insert(format!("m{i:06}").as_bytes(), (i / 3) as f64, lim);
        }
        z
    }

    #[test]
    fn a_big_index_splits_and_finds_every_member() {
        let n = INDEX_SPLIT_AT + 3_000;
        let mut z = set_of(n, BIG);
        let Enc::Skiplist(t) = &z.enc else { panic!("skiplist expected") };
        assert_eq!(t.index.shards.len(), 16);
        z.check();
        for i in (0..n).step_by(7) {
            assert_eq!(z.score(format!("m{i:06}").as_bytes()), Some((i / 3) as f64));
            assert_eq!(z.remove(format!("m{i:06}").as_bytes()), Some((i / 3) as f64));
        }
        assert_eq!(z.score(b"m000000"), None);
        assert_eq!(z.score(b"m000001"), Some(0.0));
        z.check();
    }

    #[test]
    fn converts_on_entries_and_value_and_never_back() {
        let mut z = set_of(128, BIG);
        assert_eq!(z.encoding(), "listpack");
        z.insert(b"m000000", 5.0, BIG);
        assert_eq!(z.encoding(), "listpack");
        z.insert(b"new", 1.0, BIG);
        assert_eq!(z.encoding(), "skiplist");
        z.remove_range(0, 120);
        assert_eq!(z.encoding(), "skiplist");
        z.check();

        let mut z = ZSet::new();
        z.insert(&[b'x'; 64], 1.0, BIG);
        assert_eq!(z.encoding(), "listpack");
        z.insert(&[b'y'; 65], 1.0, BIG);
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.len(), 2);
        z.check();

        let mut z = ZSet::new();
        z.insert(b"a", 1.0, Limits { entries: 0, value: 64 });
        assert_eq!(z.encoding(), "skiplist");
    }

    #[test]
    fn packed_layout_round_trips_members_and_scores() {
        let lim = Limits { entries: 1000, value: 1000 };
        let lens = [0usize, 1, 127, 128, 300];
        let scores = [
            f64::NEG_INFINITY,
            f64::INFINITY,
            -0.0,
            0.0,
            -64.0,
            -65.0,
            188.0,
            189.0,
            1.5,
            0.1,
            -2147483648.0,
            2147483647.0,
            2147483648.0,
            1e300,
            -5e-324,
            f32::MAX as f64,
            f32::MIN_POSITIVE as f64 / 2.0,
        ];
        let mut z = ZSet::new();
        let mut want = Vec::new();
        for (i, &s) in scores.iter().enumerate() {
            for (j, &n) in lens.iter().enumerate() {
                let mut m = vec![b'a' + (i % 26) as u8; n];
                if n > 0 {
                    m[0] = j as u8;
                }
                m.push(i as u8);
                let s = if s == 0.0 { 0.0 } else { s };
                want.push((m.clone(), s));
                assert_eq!(z.insert(&m, if i % 2 == 0 { s } else { 42.0 }, lim), None);
                if i % 2 == 1 {
                    assert_eq!(z.insert(&m, s, lim), Some(42.0));
                }
                z.check();
            }
        }
        assert_eq!(z.encoding(), "listpack");
        want.sort_by(|a, b| cmp_key(a.1, &a.0, b.1, &b.0));
        let got: Vec<(Vec<u8>, f64)> = z.iter().map(|(m, s)| (m.to_vec(), s)).collect();
        assert_eq!(got.len(), want.len());
        for ((gm, gs), (wm, ws)) in got.iter().zip(&want) {
            assert_eq!(gm, wm);
            assert_eq!(gs.to_bits(), ws.to_bits());
        }
        for (r, (m, s)) in want.iter().enumerate() {
            assert_eq!(z.rank(m), Some(r));
            assert_eq!(z.score(m).map(f64::to_bits), Some(s.to_bits()));
        }
        let rev: Vec<Vec<u8>> = z.range(3, 40, true).map(|(m, _)| m.to_vec()).collect();
        let want_rev: Vec<Vec<u8>> = want[3..40].iter().rev().map(|(m, _)| m.clone()).collect();
        assert_eq!(rev, want_rev);
        // Exactly sized: the buffer holds the entries and nothing else.
        let header: usize = want.iter().map(|(m, s)| write_header(*s, m.len(), &mut [0; MAX_HEADER]) + m.len()).sum();
        assert_eq!(z.heap_size(), header);
        let built = ZSet::from_sorted(want.iter().map(|(m, s)| (Bytes::from(&m[..]), *s)).collect(), lim);
        built.check();
        assert_eq!(built, z);
        assert_eq!(built.heap_size(), z.heap_size());
        // The smallest encodings: a one-byte small integer, a one-byte length.
        let mut h = [0; MAX_HEADER];
        assert_eq!(write_header(3.0, 8, &mut h), 2);
        assert_eq!(write_header(1.5, 8, &mut h), 6);
        assert_eq!(write_header(0.1, 128, &mut h), 11);
        while let Some((m, s)) = z.pop(true) {
            let (wm, ws) = want.pop().unwrap();
            assert_eq!((&m[..], s.to_bits()), (&wm[..], ws.to_bits()));
            z.check();
        }
        assert!(want.is_empty());
        assert_eq!(z.heap_size(), 0);
        assert!(std::mem::size_of::<ZSet>() <= 24, "{}", std::mem::size_of::<ZSet>());
    }

    #[test]
    fn from_sorted_picks_the_encoding() {
        let items = |n: usize| (0..n).map(|i| (Bytes::from_vec(format!("{i:04}").into_bytes()), 1.0)).collect();
        assert_eq!(ZSet::from_sorted(items(128), BIG).encoding(), "listpack");
        let z = ZSet::from_sorted(items(129), BIG);
        assert_eq!(z.encoding(), "skiplist");
        z.check();
        assert_eq!(z.len(), 129);
    }

    #[test]
    fn listpack_drops_the_sign_of_zero_skiplist_keeps_it() {
        let mut z = ZSet::new();
        z.insert(b"a", -0.0, BIG);
        assert!(z.score(b"a").unwrap().is_sign_positive());
        let tiny = Limits { entries: 0, value: 0 };
        let mut z = ZSet::new();
        z.insert(b"a", -0.0, tiny);
        assert!(z.score(b"a").unwrap().is_sign_negative());
    }

    #[test]
    fn add_flags() {
        let f = |s: &str| AddFlags {
            nx: s.contains('n'),
            xx: s.contains('x'),
            gt: s.contains('g'),
            lt: s.contains('l'),
            incr: s.contains('i'),
        };
        let mut z = ZSet::new();
        assert_eq!(z.add(b"a", 1.0, f("x"), BIG), Ok((AddOutcome::Nop, 1.0)));
        assert_eq!(z.add(b"a", 1.0, f(""), BIG), Ok((AddOutcome::Added, 1.0)));
        assert_eq!(z.add(b"a", 2.0, f("n"), BIG), Ok((AddOutcome::Nop, 1.0)));
        assert_eq!(z.add(b"a", 0.5, f("g"), BIG), Ok((AddOutcome::Nop, 1.0)));
        assert_eq!(z.add(b"a", 3.0, f("gx"), BIG), Ok((AddOutcome::Updated, 3.0)));
        assert_eq!(z.add(b"a", 3.0, f(""), BIG), Ok((AddOutcome::Unchanged, 3.0)));
        assert_eq!(z.add(b"a", 2.0, f("i"), BIG), Ok((AddOutcome::Updated, 5.0)));
        assert_eq!(z.add(b"a", -1.0, f("ig"), BIG), Ok((AddOutcome::Nop, 5.0)));
        assert_eq!(z.add(b"a", f64::INFINITY, f("i"), BIG), Ok((AddOutcome::Updated, f64::INFINITY)));
        assert_eq!(z.add(b"a", f64::NEG_INFINITY, f("i"), BIG), Err(NotANumber));
        assert_eq!(z.add(b"b", f64::NAN, f(""), BIG), Err(NotANumber));
        assert_eq!(z.score(b"a"), Some(f64::INFINITY));
    }

    #[test]
    fn rank_range_and_pop_on_a_big_tree() {
        let n = 20_000;
        let mut z = set_of(n, BIG);
        assert_eq!(z.encoding(), "skiplist");
        z.check();
        for r in [0, 1, 777, n / 2, n - 1] {
            let (m, s) = z.get_by_rank(r).unwrap();
            assert_eq!(m, format!("m{r:06}").as_bytes());
            assert_eq!(s, (r / 3) as f64);
            assert_eq!(z.rank(m), Some(r));
        }
        let fwd: Vec<_> = z.range(100, 105, false).map(|(m, _)| m.to_vec()).collect();
        assert_eq!(fwd, (100..105).map(|i| format!("m{i:06}").into_bytes()).collect::<Vec<_>>());
        let rev: Vec<_> = z.range(100, 105, true).map(|(m, _)| m.to_vec()).collect();
        assert_eq!(rev, (100..105).rev().map(|i| format!("m{i:06}").into_bytes()).collect::<Vec<_>>());
        assert_eq!(z.prefix_len(|_, s| s < 10.0), 30);
        assert_eq!(z.pop(false).unwrap().0.as_ref(), b"m000000");
        assert_eq!(z.pop(true).unwrap().0.as_ref(), format!("m{:06}", n - 1).as_bytes());
        assert_eq!(z.remove_range(0, n), n - 2);
        assert!(z.is_empty());
        z.check();
    }

    /// A snapshot's track over the arena: whatever is added, rescored,
    /// removed, popped or range-removed between its slices (free slots at
    /// the start included), exactly the original elements come out, each
    /// once; compaction waits for the track and runs after it.
    #[test]
    fn a_snapshot_track_writes_exactly_the_original_elements() {
        let mut compacted = 0;
        for seed in 1..=40u64 {
            let mut rng = super::Rng::new(seed);
            let mut z = set_of(1000 + rng.below(2000), BIG);
            // Free slots before the snapshot starts (fewer than compaction needs).
            for i in (0..z.len()).step_by(1 + rng.below(40)).take(60) {
                z.remove(format!("m{i:06}").as_bytes());
            }
            let want: Vec<(Vec<u8>, u64)> = {
                let mut v: Vec<_> = z.iter().map(|(m, s)| (m.to_vec(), s.to_bits())).collect();
                v.sort();
                v
            };
            let owner = std::sync::Arc::new(());
            assert!(z.snap_start(std::sync::Arc::downgrade(&owner)));
            let mut written = Vec::new();
            let (mut fresh, mut burst) = (0, false);
            loop {
                let (done, left) =
                    z.snap_slice(1 + rng.below(300), |m, s| written.push((m.to_vec(), s.to_bits()))).expect("tracked");
                if done == 0 {
                    assert_eq!(left, 0, "seed {seed}: nothing written but {left} owed");
                    break;
                }
                if seed % 4 == 0 && !burst {
                    // Most of it at once: compaction is due from here on.
                    burst = true;
                    z.remove_range(rng.below(100), z.len() * 2 / 3);
                }
                for _ in 0..rng.below(60) {
                    if z.is_empty() {
                        break;
                    }
                    let i = rng.below(z.len());
                    let member = z.get_by_rank(i).map(|(m, _)| m.to_vec()).unwrap();
                    match rng.below(6) {
                        0 | 1 => {
                            fresh += 1;
                            z.insert(format!("new{fresh}").as_bytes(), rng.below(500) as f64, BIG);
                        }
                        2 => drop(z.insert(&member, rng.below(500) as f64 + 0.25, BIG)),
                        3 => drop(z.remove(&member)),
                        4 => drop(z.pop(rng.below(2) == 0)),
                        _ => drop(z.remove_range(i, i + rng.below(6))),
                    }
                }
                z.check();
            }
            written.sort();
            assert_eq!(written, want, "seed {seed}");
            let Enc::Skiplist(t) = &z.enc else { panic!("skiplist expected") };
            let (free, slots) = (t.free.len() + 1, t.nodes.len());
            let due = free >= 64 && free * 2 >= slots;
            z.snap_end();
            // The compaction the track held off comes with the next removal.
            if let Some(m) = z.get_by_rank(0).map(|(m, _)| m.to_vec()) {
                z.remove(&m);
                let Enc::Skiplist(t) = &z.enc else { panic!("skiplist expected") };
                assert_eq!(t.free.is_empty(), due, "seed {seed}: {free} free of {slots}");
                compacted += usize::from(due);
            }
            z.check();
        }
        assert!(compacted > 0, "no run held a compaction off");
    }

    #[test]
    fn scan_returns_every_stable_member_through_churn_and_compaction() {
        let mut z = set_of(3000, BIG);
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            cursor = z.scan(cursor, 50, |m, _| {
                seen.insert(m.to_vec());
            });
            // Churn: add then delete many others (forces compaction).
            for j in 0..200 {
                z.insert(format!("churn{round}-{j}").as_bytes(), 1.0, BIG);
            }
            for j in 0..200 {
                z.remove(format!("churn{round}-{j}").as_bytes());
            }
            if round % 5 == 0 {
                for i in (round * 10)..(round * 10 + 10) {
                    z.remove(format!("m{:06}", 2000 + i).as_bytes());
                }
            }
            round += 1;
            z.check();
            if cursor == 0 {
                break;
            }
        }
        for i in 0..2000 {
            assert!(seen.contains(format!("m{i:06}").as_bytes()), "m{i:06} missed");
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, i8),
        Remove(u8),
        RemoveRange(u8, u8),
        Pop(bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<u8>(), -4i8..4).prop_map(|(m, s)| Op::Insert(m, s)),
            2 => any::<u8>().prop_map(Op::Remove),
            1 => (any::<u8>(), 0u8..8).prop_map(|(a, n)| Op::RemoveRange(a, n)),
            1 => any::<bool>().prop_map(Op::Pop),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn matches_a_btreemap_model(ops in prop::collection::vec(op(), 1..400), entries in 0usize..40) {
            let lim = Limits { entries, value: 2 };
            let mut z = ZSet::new();
            let mut model: HashMap<Vec<u8>, f64> = HashMap::new();
            let sorted = |model: &HashMap<Vec<u8>, f64>| {
                let mut v: Vec<(Vec<u8>, f64)> = model.iter().map(|(m, s)| (m.clone(), *s)).collect();
                v.sort_by(|a, b| cmp_key(a.1, &a.0, b.1, &b.0));
                v
            };
            for op in ops {
                match op {
                    Op::Insert(m, s) => {
                        // Members of 1..3 bytes so the value limit also converts.
                        let member = vec![b'a' + m % 7; 1 + (m as usize / 7) % 3];
                        let score = s as f64 / 2.0;
                        prop_assert_eq!(z.insert(&member, score, lim), model.insert(member, score));
                    }
                    Op::Remove(m) => {
                        let member = vec![b'a' + m % 7; 1 + (m as usize / 7) % 3];
                        prop_assert_eq!(z.remove(&member), model.remove(&member));
                    }
                    Op::RemoveRange(a, n) => {
                        let v = sorted(&model);
                        let start = a as usize % (v.len() + 1);
                        let end = (start + n as usize).min(v.len());
                        for (m, _) in &v[start..end] {
                            model.remove(m);
                        }
                        prop_assert_eq!(z.remove_range(start, end), end - start);
                    }
                    Op::Pop(max) => {
                        let v = sorted(&model);
                        let want = if max { v.last() } else { v.first() }.cloned();
                        if let Some((m, _)) = &want {
                            model.remove(m);
                        }
                        prop_assert_eq!(z.pop(max).map(|(m, s)| (m.to_vec(), s)), want);
                    }
                }
                z.check();
                let v = sorted(&model);
                prop_assert_eq!(z.len(), v.len());
                let got: Vec<(Vec<u8>, f64)> = z.iter().map(|(m, s)| (m.to_vec(), s)).collect();
                prop_assert_eq!(&got, &v);
                for (r, (m, s)) in v.iter().enumerate() {
                    prop_assert_eq!(z.rank(m), Some(r));
                    prop_assert_eq!(z.score(m), Some(*s));
                    let at = z.get_by_rank(r).map(|(m, s)| (m.to_vec(), s));
                    prop_assert_eq!(at, Some((m.clone(), *s)));
                }
                if !v.is_empty() {
                    let mid = v[v.len() / 2].1;
                    prop_assert_eq!(z.prefix_len(|_, s| s < mid), v.iter().filter(|(_, s)| *s < mid).count());
                    let (a, b) = (v.len() / 3, v.len() - v.len() / 4);
                    let rev: Vec<(Vec<u8>, f64)> = z.range(a, b, true).map(|(m, s)| (m.to_vec(), s)).collect();
                    let want: Vec<(Vec<u8>, f64)> = v[a..b].iter().rev().cloned().collect();
                    prop_assert_eq!(rev, want);
                }
                if v.len() > entries {
                    prop_assert_eq!(z.encoding(), "skiplist");
                }
                let ranks: Vec<usize> = (0..v.len() + 2).rev().collect();
                let mut at = Vec::new();
                z.for_ranks(&ranks, |m, s| at.push((m.to_vec(), s)));
                let want: Vec<(Vec<u8>, f64)> =
                    ranks.iter().map(|&r| v.get(r).cloned().unwrap_or_default()).collect();
                prop_assert_eq!(at, want);
                let (mut r1, mut r2) = (super::Rng::new(v.len() as u64), super::Rng::new(v.len() as u64));
                let mut many = Vec::new();
                z.random_many(&mut r1, 5, |m, s| many.push((m.to_vec(), s)));
                let one: Vec<(Vec<u8>, f64)> =
                    (0..5).map(|_| z.random(&mut r2).map(|(m, s)| (m.to_vec(), s)).unwrap_or_default()).collect();
                prop_assert_eq!(many, one);
            }
            let model_tree: BTreeMap<Vec<u8>, f64> = model.into_iter().collect();
            let mut via_scan = BTreeMap::new();
            let mut cursor = 0;
            loop {
                cursor = z.scan(cursor, 7, |m, s| { via_scan.insert(m.to_vec(), s); });
                if cursor == 0 { break; }
            }
            prop_assert_eq!(via_scan, model_tree);
        }
    }
}
