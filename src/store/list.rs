//! The list value type: a quicklist-like chain of packed nodes.
//!
//! A node is one exactly sized byte buffer (`Box<[u8]>`, no spare
//! capacity) laid out like a Redis listpack: a 2-byte entry count, then the
//! entries back to back. An entry is a header (1 byte for up to 127 bytes
//! of data), the data, and the entry's size written backwards (Redis's
//! "backlen"), so a node can be walked from either end. A string that is
//! the canonical decimal form of an integer is stored as the integer, in 1
//! to 9 bytes (see [`Elem`]), and read back as the same text. Like Redis,
//! which reallocs its listpack on every change, every write resizes the
//! buffer to its exact length.
//!
//! How big a node may grow is `list-max-listpack-size` (see [`Fill`]), read
//! from the config at each write: nodes built after a CONFIG SET follow the
//! new limit. An element bigger than the limit gets a node of its own.
//!
//! A list of one node (every small list) is just that node: the `List` is
//! the buffer's 16-byte pointer, stored inline in the `Value`, so a
//! one-element list costs one small allocation. Longer lists keep their
//! nodes in a boxed `VecDeque`. Push and pop at both ends touch only the end
//! nodes (O(node size)); finding element `i` skips whole nodes by their
//! counts (O(n / node size)) and then walks one node from its nearer end;
//! reading a range allocates nothing. Redis 7.0 reports every list as
//! `quicklist`, and so does ferrokv.
//!
//! Invariants: a multi-node list has at least two nodes, none empty, and
//! its `len` is the sum of their counts; a one-node list's node is empty
//! only when the list is.

use std::collections::VecDeque;

/// Redis's `SIZE_SAFETY_LIMIT`: a node limited by entry count still stays
/// within 8 KB.
const SIZE_SAFETY_LIMIT: usize = 8192;

/// Node byte limits for `list-max-listpack-size` -1 to -5 (Redis's
/// `optimization_level`).
const OPTIMIZATION_LEVEL: [usize; 5] = [4096, 8192, 16384, 32768, 65536];

/// Redis's `FILL_MAX`: the largest entry limit a positive setting can ask for.
const FILL_MAX: i64 = (1 << 15) - 1;

/// Bytes of a node's header (its entry count, `u16` little-endian).
const HDR: usize = 2;

/// How full a node may get, from `list-max-listpack-size` (Redis's
/// quicklist `fill`): a positive N allows N entries (and at most
/// `SIZE_SAFETY_LIMIT` bytes), -1 to -5 allow 4, 8, 16, 32 or 64 KB.
/// Clamped to -5..=32767 as Redis's `quicklistSetFill` does, so 0 means
/// one entry per node. A node of one entry always fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fill(i16);

impl Fill {
    pub fn new(setting: i64) -> Fill {
        Fill(setting.clamp(-5, FILL_MAX) as i16)
    }

    /// The setting as clamped (Redis's quicklist `fill`, which DEBUG
    /// OBJECT shows as `ql_listpack_max`).
    pub fn get(self) -> i16 {
        self.0
    }

    /// Whether a node of `count` entries and `bytes` bytes is within limits.
    fn fits(self, count: usize, bytes: usize) -> bool {
        if count <= 1 {
            return true;
        }
        if self.0 < 0 {
            bytes <= OPTIMIZATION_LEVEL[(-self.0 - 1) as usize]
        } else {
            bytes <= SIZE_SAFETY_LIMIT && count <= self.0 as usize
        }
    }
}

impl Default for Fill {
    /// Redis's default, `-2` (8 KB nodes).
    fn default() -> Fill {
        Fill(-2)
    }
}

/// An element as stored: bytes, or an integer kept in binary (a string
/// that is the canonical decimal form of an `i64`, as Redis's listpack
/// does). Equal elements have equal `Elem`s, since the choice depends only
/// on the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem<'a> {
    Bytes(&'a [u8]),
    Int(i64),
}

impl<'a> Elem<'a> {
    /// How `v` is stored.
    pub fn of(v: &'a [u8]) -> Elem<'a> {
        match crate::resp::parse::parse_i64(v) {
            Some(n) if v.len() <= 20 => Elem::Int(n),
            _ => Elem::Bytes(v),
        }
    }

    /// The element's bytes, formatting an integer into `buf`.
    pub fn bytes<'s>(&'s self, buf: &'s mut itoa::Buffer) -> &'s [u8] {
        match *self {
            Elem::Bytes(b) => b,
            Elem::Int(n) => buf.format(n).as_bytes(),
        }
    }

    pub fn to_boxed(self) -> Box<[u8]> {
        self.bytes(&mut itoa::Buffer::new()).into()
    }
}

/// Entry headers (the first byte), after Redis's listpack:
/// `0xxxxxxx` bytes of length 0-127; `10xxxxxx` the integer 0-63;
/// `110xxxxx` + 1 byte a 13-bit signed integer; `1110xxxx` + 1 byte bytes
/// of length 128-4223; then `STR_VAR` + LEB128 length for longer bytes and
/// `INT16`..`INT64` + that many little-endian bytes for wider integers.
const STR_VAR: u8 = 0xF0;
const INT16: u8 = 0xF1;
const INT24: u8 = 0xF2;
const INT32: u8 = 0xF3;
const INT64: u8 = 0xF4;

/// Bytes of `n` as a LEB128 varint.
fn varint_size(mut n: usize) -> usize {
    let mut size = 1;
    while n >= 0x80 {
        n >>= 7;
        size += 1;
    }
    size
}

/// Bytes of an element's header and payload.
fn body_size(e: Elem) -> usize {
    match e {
        Elem::Bytes(b) if b.len() < 128 => 1 + b.len(),
        Elem::Bytes(b) if b.len() < 128 + 4096 => 2 + b.len(),
        Elem::Bytes(b) => 1 + varint_size(b.len()) + b.len(),
        Elem::Int(0..=63) => 1,
        Elem::Int(-4096..=4095) => 2,
        Elem::Int(n) if i16::try_from(n).is_ok() => 3,
        Elem::Int(-0x80_0000..=0x7f_ffff) => 4,
        Elem::Int(n) if i32::try_from(n).is_ok() => 5,
        Elem::Int(_) => 9,
    }
}

/// Bytes of a whole entry: header, payload and backlen (the body size
/// minus one as a reversed varint, so a body of up to 128 bytes takes 1).
fn entry_size(e: Elem) -> usize {
    let body = body_size(e);
    body + varint_size(body - 1)
}

/// Writes the entry for `e` into `dst`, exactly `entry_size(e)` bytes.
fn put_entry(dst: &mut [u8], e: Elem) {
    let body = body_size(e);
    match e {
        Elem::Bytes(b) => {
            let at = match b.len() {
                n if n < 128 => {
                    dst[0] = n as u8;
                    1
                }
                n if n < 128 + 4096 => {
                    let n = n - 128;
                    dst[0] = 0xE0 | (n >> 8) as u8;
                    dst[1] = n as u8;
                    2
                }
                mut n => {
                    dst[0] = STR_VAR;
                    let mut at = 1;
                    while n >= 0x80 {
                        dst[at] = (n & 0x7f) as u8 | 0x80;
                        n >>= 7;
                        at += 1;
                    }
                    dst[at] = n as u8;
                    at + 1
                }
            };
            dst[at..at + b.len()].copy_from_slice(b);
        }
        Elem::Int(n @ 0..=63) => dst[0] = 0x80 | n as u8,
        Elem::Int(n @ -4096..=4095) => {
            let u = (n as u16) & 0x1fff;
            dst[0] = 0xC0 | (u >> 8) as u8;
            dst[1] = u as u8;
        }
        Elem::Int(n) => {
            let (tag, width) = match body {
                3 => (INT16, 2),
                4 => (INT24, 3),
                5 => (INT32, 4),
                _ => (INT64, 8),
            };
            dst[0] = tag;
            dst[1..1 + width].copy_from_slice(&n.to_le_bytes()[..width]);
        }
    }
    // The backlen: lowest 7-bit group last; a set high bit means another
    // byte precedes.
    let mut v = body - 1;
    let h = varint_size(v);
    for i in 0..h {
        dst[body + h - 1 - i] = (v & 0x7f) as u8 | if i + 1 < h { 0x80 } else { 0 };
        v >>= 7;
    }
}

/// Sign-extends the low `bits` bits of `v`.
fn sign_extend(v: u64, bits: u32) -> i64 {
    ((v << (64 - bits)) as i64) >> (64 - bits)
}

/// The entry starting at `pos`: the element and where the next entry starts.
fn read_fwd(buf: &[u8], pos: usize) -> (Elem<'_>, usize) {
    let b = buf[pos];
    let int = |width: usize| {
        let mut le = [0u8; 8];
        le[..width].copy_from_slice(&buf[pos + 1..pos + 1 + width]);
        sign_extend(u64::from_le_bytes(le), 8 * width as u32)
    };
    let (e, body) = match b {
        0x00..=0x7F => {
            let n = b as usize;
            (Elem::Bytes(&buf[pos + 1..pos + 1 + n]), 1 + n)
        }
        0x80..=0xBF => (Elem::Int((b & 0x3f) as i64), 1),
        0xC0..=0xDF => (Elem::Int(sign_extend(((b as u64 & 0x1f) << 8) | buf[pos + 1] as u64, 13)), 2),
        0xE0..=0xEF => {
            let n = 128 + (((b as usize & 0x0f) << 8) | buf[pos + 1] as usize);
            (Elem::Bytes(&buf[pos + 2..pos + 2 + n]), 2 + n)
        }
        INT16 => (Elem::Int(int(2)), 3),
        INT24 => (Elem::Int(int(3)), 4),
        INT32 => (Elem::Int(int(4)), 5),
        INT64 => (Elem::Int(int(8)), 9),
        _ => {
            let (mut n, mut shift, mut p) = (0usize, 0, pos + 1);
            loop {
                let c = buf[p];
                p += 1;
                n |= ((c & 0x7f) as usize) << shift;
                shift += 7;
                if c < 0x80 {
                    break;
                }
            }
            (Elem::Bytes(&buf[p..p + n]), p - pos + n)
        }
    };
    (e, pos + body + varint_size(body - 1))
}

/// Where the entry ending at `end` starts, from its backlen.
fn read_back(buf: &[u8], end: usize) -> usize {
    let (mut v, mut shift, mut p) = (0usize, 0, end);
    loop {
        p -= 1;
        let b = buf[p];
        v |= ((b & 0x7f) as usize) << shift;
        shift += 7;
        if b < 0x80 {
            break;
        }
    }
    p - (v + 1)
}

/// One node: `[count: u16 LE][entry]...`, or an empty buffer for no
/// entries. Entries are position-independent, so moving a run of them
/// between nodes is a plain byte copy.
#[derive(Debug, Clone, Default)]
struct Node(Box<[u8]>);

impl Node {
    fn count(&self) -> usize {
        match *self.0 {
            [a, b, ..] => u16::from_le_bytes([a, b]) as usize,
            _ => 0,
        }
    }

    fn bytes(&self) -> usize {
        self.0.len()
    }

    /// A node holding the entries in `raw` (already encoded, `count` of them).
    fn from_raw(count: usize, raw: &[u8]) -> Node {
        if count == 0 {
            return Node::default();
        }
        let mut v = Vec::with_capacity(HDR + raw.len());
        v.extend_from_slice(&(count as u16).to_le_bytes());
        v.extend_from_slice(raw);
        Node(v.into_boxed_slice())
    }

    /// The encoded entries, without the header.
    fn raw(&self) -> &[u8] {
        self.0.get(HDR..).unwrap_or(&[])
    }

    /// Byte offset of entry `j` (`j == count` gives the end), walking from
    /// the nearer end.
    fn offset(&self, j: usize) -> usize {
        let count = self.count();
        if j <= count / 2 {
            let mut pos = HDR;
            for _ in 0..j {
                pos = read_fwd(&self.0, pos).1;
            }
            pos
        } else {
            let mut pos = self.0.len();
            for _ in j..count {
                pos = read_back(&self.0, pos);
            }
            pos
        }
    }

    fn get(&self, j: usize) -> Elem<'_> {
        read_fwd(&self.0, self.offset(j)).0
    }

    /// Entries from `j` on.
    fn iter_from(&self, j: usize) -> NodeIter<'_> {
        let count = self.count();
        let j = j.min(count);
        NodeIter {
            buf: &self.0,
            front: if j == count { self.0.len() } else { self.offset(j) },
            back: self.0.len(),
            left: count - j,
        }
    }

    fn iter(&self) -> NodeIter<'_> {
        NodeIter { buf: &self.0, front: HDR.min(self.0.len()), back: self.0.len(), left: self.count() }
    }

    /// Replaces the bytes `at..at + cut` with `size` bytes written by
    /// `fill`, adjusting the count by `delta`; the buffer ends up exactly
    /// sized (and freed when no entry is left).
    fn splice(&mut self, at: usize, cut: usize, size: usize, delta: isize, fill: impl FnOnce(&mut [u8])) {
        let count = (self.count() as isize + delta) as usize;
        if count == 0 {
            self.0 = Box::default();
            return;
        }
        let mut v = std::mem::take(&mut self.0).into_vec();
        if v.is_empty() {
            v.extend_from_slice(&[0, 0]);
        }
        let old = v.len();
        if size > cut {
            v.reserve_exact(size - cut);
            v.resize(old + size - cut, 0);
            v.copy_within(at + cut..old, at + size);
        } else if cut > size {
            v.copy_within(at + cut..old, at + size);
            v.truncate(old - (cut - size));
        }
        fill(&mut v[at..at + size]);
        v[..HDR].copy_from_slice(&(count as u16).to_le_bytes());
        self.0 = v.into_boxed_slice();
    }

    /// Inserts `v` before entry `j` (`j == count` appends).
    fn insert(&mut self, j: usize, v: Elem) {
        let at = if self.0.is_empty() { HDR } else { self.offset(j) };
        self.splice(at, 0, entry_size(v), 1, |dst| put_entry(dst, v));
    }

    /// Replaces entry `j` with `v`.
    fn replace(&mut self, j: usize, v: Elem) {
        let at = self.offset(j);
        let next = read_fwd(&self.0, at).1;
        self.splice(at, next - at, entry_size(v), 0, |dst| put_entry(dst, v));
    }

    /// Removes `k` entries starting at entry `j`.
    fn remove(&mut self, j: usize, k: usize) {
        if k == 0 {
            return;
        }
        let at = self.offset(j);
        let mut end = at;
        for _ in 0..k {
            end = read_fwd(&self.0, end).1;
        }
        self.splice(at, end - at, 0, -(k as isize), |_| {});
    }

    fn pop_front(&mut self) -> Option<Box<[u8]>> {
        if self.count() == 0 {
            return None;
        }
        let (e, next) = read_fwd(&self.0, HDR);
        let v = e.to_boxed();
        self.splice(HDR, next - HDR, 0, -1, |_| {});
        Some(v)
    }

    fn pop_back(&mut self) -> Option<Box<[u8]>> {
        if self.count() == 0 {
            return None;
        }
        let end = self.0.len();
        let start = read_back(&self.0, end);
        let v = read_fwd(&self.0, start).0.to_boxed();
        self.splice(start, end - start, 0, -1, |_| {});
        Some(v)
    }

    /// Whether one more entry `v` fits under `fill`.
    fn room_for(&self, v: Elem, fill: Fill) -> bool {
        let hdr = if self.0.is_empty() { HDR } else { 0 };
        fill.fits(self.count() + 1, self.bytes() + hdr + entry_size(v))
    }
}

/// Elements of one node, from both ends.
#[derive(Clone)]
struct NodeIter<'a> {
    buf: &'a [u8],
    front: usize,
    back: usize,
    left: usize,
}

impl<'a> Iterator for NodeIter<'a> {
    type Item = Elem<'a>;

    fn next(&mut self) -> Option<Elem<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let (e, next) = read_fwd(self.buf, self.front);
        self.front = next;
        Some(e)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for NodeIter<'_> {}

impl DoubleEndedIterator for NodeIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        self.back = read_back(self.buf, self.back);
        Some(read_fwd(self.buf, self.back).0)
    }
}

/// A list of two or more nodes.
#[derive(Debug, Clone, Default)]
struct Chain {
    nodes: VecDeque<Node>,
    len: usize,
}

impl Chain {
    /// Splits node `n` in halves until every piece fits `fill`, then merges
    /// the pieces at the edges with their neighbours where the result fits
    /// (Redis splits a full node on a middle insert and merges around it).
    fn fix(&mut self, n: usize, fill: Fill) {
        let node = &self.nodes[n];
        if !fill.fits(node.count(), node.bytes()) {
            let half = node.count() / 2;
            let at = node.offset(half) - HDR;
            let (left, right) = node.raw().split_at(at);
            let (l, r) = (Node::from_raw(half, left), Node::from_raw(node.count() - half, right));
            self.nodes[n] = l;
            self.nodes.insert(n + 1, r);
            self.fix(n + 1, fill);
            self.fix(n, fill);
            return;
        }
        if n + 1 < self.nodes.len() {
            self.merge(n, fill);
        }
        if n > 0 {
            self.merge(n - 1, fill);
        }
    }

    /// Merges node `n + 1` into node `n` if the result fits `fill`.
    fn merge(&mut self, n: usize, fill: Fill) -> bool {
        let (a, b) = (&self.nodes[n], &self.nodes[n + 1]);
        let count = a.count() + b.count();
        if !fill.fits(count, a.bytes() + b.bytes() - HDR) || count > u16::MAX as usize {
            return false;
        }
        let mut v = Vec::with_capacity(a.bytes() + b.bytes() - HDR);
        v.extend_from_slice(&(count as u16).to_le_bytes());
        v.extend_from_slice(a.raw());
        v.extend_from_slice(b.raw());
        self.nodes[n] = Node(v.into_boxed_slice());
        self.nodes.remove(n + 1);
        true
    }

    /// Drops empty nodes and merges neighbours that fit together.
    fn compact(&mut self, fill: Fill) {
        self.nodes.retain(|n| n.count() > 0);
        let mut n = 0;
        while n + 1 < self.nodes.len() {
            if !self.merge(n, fill) {
                n += 1;
            }
        }
    }
}

/// A list value: one node, or a chain of them.
#[derive(Debug, Clone, Default)]
pub struct List(Repr);

#[derive(Debug, Clone)]
enum Repr {
    One(Node),
    Many(Box<Chain>),
}

impl Default for Repr {
    fn default() -> Repr {
        Repr::One(Node::default())
    }
}

const _: () = assert!(std::mem::size_of::<List>() == 16);

/// Equal when they hold the same elements, however they are split in nodes.
impl PartialEq for List {
    fn eq(&self, other: &List) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

/// LEFT (head) or RIGHT (tail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Left,
    Right,
}

impl List {
    pub fn new() -> List {
        List::default()
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::One(n) => n.count(),
            Repr::Many(c) => c.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The encoding OBJECT ENCODING reports (Redis 7.0 says `quicklist`).
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Heap bytes owned: node buffers (exactly their length), and for a
    /// chain its box and node ring.
    pub fn heap_size(&self) -> usize {
        match &self.0 {
            Repr::One(n) => n.bytes(),
            Repr::Many(c) => {
                std::mem::size_of::<Chain>()
                    + c.nodes.capacity() * std::mem::size_of::<Node>()
                    + c.nodes.iter().map(Node::bytes).sum::<usize>()
            }
        }
    }

    /// The nodes in order, as the two slices of the ring, from node `first`.
    fn slices_from(&self, first: usize) -> (&[Node], &[Node]) {
        let (a, b) = match &self.0 {
            Repr::One(n) => (std::slice::from_ref(n), &[][..]),
            Repr::Many(c) => c.nodes.as_slices(),
        };
        if first <= a.len() { (&a[first..], b) } else { (&[], &b[(first - a.len()).min(b.len())..]) }
    }

    fn nodes(&self) -> impl DoubleEndedIterator<Item = &Node> {
        let (a, b) = self.slices_from(0);
        a.iter().chain(b)
    }

    /// Runs `f` on the list as a chain (a one-node list becomes a chain of
    /// one for the duration), then goes back to one node if one or none is
    /// left. For the mid-list edits; the end operations avoid the detour.
    fn with_chain<R>(&mut self, f: impl FnOnce(&mut Chain) -> R) -> R {
        let mut chain = match std::mem::take(&mut self.0) {
            Repr::One(node) => {
                let len = node.count();
                let nodes = if len > 0 { VecDeque::from([node]) } else { VecDeque::new() };
                Box::new(Chain { nodes, len })
            }
            Repr::Many(c) => c,
        };
        let r = f(&mut chain);
        self.0 = if chain.nodes.len() <= 1 {
            Repr::One(chain.nodes.pop_front().unwrap_or_default())
        } else {
            Repr::Many(chain)
        };
        r
    }

    pub fn push(&mut self, end: End, value: &[u8], fill: Fill) {
        let value = Elem::of(value);
        match &mut self.0 {
            Repr::One(node) if node.room_for(value, fill) => {
                let at = if end == End::Left { 0 } else { node.count() };
                node.insert(at, value);
            }
            Repr::Many(c) => {
                let node = match end {
                    End::Left => c.nodes.front_mut(),
                    End::Right => c.nodes.back_mut(),
                };
                match node {
                    Some(node) if node.room_for(value, fill) => {
                        let at = if end == End::Left { 0 } else { node.count() };
                        node.insert(at, value);
                    }
                    _ => {
                        let mut node = Node::default();
                        node.insert(0, value);
                        match end {
                            End::Left => c.nodes.push_front(node),
                            End::Right => c.nodes.push_back(node),
                        }
                    }
                }
                c.len += 1;
            }
            Repr::One(_) => {
                let mut node = Node::default();
                node.insert(0, value);
                self.with_chain(|c| {
                    match end {
                        End::Left => c.nodes.push_front(node),
                        End::Right => c.nodes.push_back(node),
                    }
                    c.len += 1;
                });
            }
        }
    }

    pub fn pop(&mut self, end: End) -> Option<Box<[u8]>> {
        let pop = |node: &mut Node| match end {
            End::Left => node.pop_front(),
            End::Right => node.pop_back(),
        };
        match &mut self.0 {
            Repr::One(node) => pop(node),
            Repr::Many(c) => {
                let node = match end {
                    End::Left => c.nodes.front_mut(),
                    End::Right => c.nodes.back_mut(),
                }?;
                let v = pop(node)?;
                let emptied = node.count() == 0;
                c.len -= 1;
                if emptied {
                    self.with_chain(|c| match end {
                        End::Left => c.nodes.pop_front(),
                        End::Right => c.nodes.pop_back(),
                    });
                }
                Some(v)
            }
        }
    }

    /// Resolves a Redis index (negative counts from the tail).
    pub fn index(&self, i: i64) -> Option<usize> {
        let len = self.len() as i64;
        let i = if i < 0 { len.checked_add(i)? } else { i };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// The node holding element `i` and the element's place in it, skipping
    /// whole nodes from whichever end is nearer.
    fn locate(&self, i: usize) -> Option<(usize, usize)> {
        let len = self.len();
        if i >= len {
            return None;
        }
        if i < len / 2 {
            let mut skipped = 0;
            for (n, node) in self.nodes().enumerate() {
                if i < skipped + node.count() {
                    return Some((n, i - skipped));
                }
                skipped += node.count();
            }
        } else {
            let mut after = len;
            let last = self.node_count();
            for (k, node) in self.nodes().rev().enumerate() {
                let first = after - node.count();
                if i >= first {
                    return Some((last - 1 - k, i - first));
                }
                after = first;
            }
        }
        None
    }

    fn node_count(&self) -> usize {
        match &self.0 {
            Repr::One(_) => 1,
            Repr::Many(c) => c.nodes.len(),
        }
    }

    fn node(&self, n: usize) -> Option<&Node> {
        let (a, b) = self.slices_from(n);
        a.first().or(b.first())
    }

    pub fn get(&self, i: usize) -> Option<Elem<'_>> {
        let (n, j) = self.locate(i)?;
        self.node(n).map(|node| node.get(j))
    }

    /// Sets element `i` (LSET); the node splits if it outgrows `fill`.
    pub fn set(&mut self, i: usize, value: &[u8], fill: Fill) {
        let value = Elem::of(value);
        let Some((n, j)) = self.locate(i) else { return };
        match &mut self.0 {
            Repr::One(node) => {
                node.replace(j, value);
                if fill.fits(node.count(), node.bytes()) {
                    return;
                }
            }
            Repr::Many(c) => c.nodes[n].replace(j, value),
        }
        self.with_chain(|c| c.fix(n, fill));
    }

    /// The elements node by node, from the head: what DUMP and snapshots
    /// write, node for node, as Redis writes its quicklist. An empty list
    /// has no node.
    pub fn node_elems(&self) -> impl Iterator<Item = impl ExactSizeIterator<Item = Elem<'_>> + '_> + '_ {
        self.nodes().filter(|n| n.count() > 0).map(Node::iter)
    }

    /// How many nodes [`List::node_elems`] yields.
    pub fn nodes_in_use(&self) -> usize {
        if self.is_empty() { 0 } else { self.node_count() }
    }

    /// Appends a node holding `elems` at the tail, as they come: RESTORE
    /// and snapshot loading keep the payload's node boundaries, as Redis's
    /// `quicklistAppendListpack` does, whatever the current fill. A node's
    /// count is a `u16`, so a longer run is cut into several nodes.
    pub fn push_node<'a>(&mut self, elems: impl IntoIterator<Item = Elem<'a>>) {
        let (mut raw, mut count) = (Vec::new(), 0usize);
        for e in elems {
            if count == u16::MAX as usize {
                self.append_raw(count, &raw);
                raw.clear();
                count = 0;
            }
            let at = raw.len();
            raw.resize(at + entry_size(e), 0);
            put_entry(&mut raw[at..], e);
            count += 1;
        }
        if count > 0 {
            self.append_raw(count, &raw);
        }
    }

    /// Appends a node of `count` encoded entries at the tail.
    fn append_raw(&mut self, count: usize, raw: &[u8]) {
        let node = Node::from_raw(count, raw);
        match &mut self.0 {
            Repr::One(n) if n.count() == 0 => *n = node,
            _ => self.with_chain(|c| {
                c.len += count;
                c.nodes.push_back(node);
            }),
        }
    }

    /// The byte size of each node, from the head (DEBUG OBJECT's
    /// `ql_nodes` and `ql_uncompressed_size`).
    pub fn node_sizes(&self) -> impl Iterator<Item = usize> + '_ {
        self.nodes().map(Node::bytes)
    }

    /// Every element from the head.
    fn iter(&self) -> impl DoubleEndedIterator<Item = Elem<'_>> {
        self.nodes().flat_map(Node::iter)
    }

    /// How many elements `range(start, end)` yields.
    pub fn range_len(&self, start: i64, end: i64) -> usize {
        let (s, e) = clamp_range(start, end, self.len());
        e.saturating_sub(s)
    }

    /// Elements from `start` to `end` inclusive, Redis range rules
    /// (negative from the tail, clamped); empty when out of range.
    pub fn range(&self, start: i64, end: i64) -> impl Iterator<Item = Elem<'_>> {
        let (s, e) = clamp_range(start, end, self.len());
        let first = if s < e { self.locate(s) } else { None };
        let (n0, j0) = first.unwrap_or((usize::MAX, 0));
        let (a, b) = if first.is_some() { self.slices_from(n0) } else { (&[][..], &[][..]) };
        a.iter().chain(b).enumerate().flat_map(move |(k, node)| node.iter_from(if k == 0 { j0 } else { 0 })).take(e - s)
    }

    /// Keeps only `start..=end` (LTRIM): whole nodes go at once, then the
    /// end nodes lose their outer entries.
    pub fn trim(&mut self, start: i64, end: i64) {
        let (s, e) = clamp_range(start, end, self.len());
        if s >= e {
            *self = List::new();
            return;
        }
        let (front, back) = (s, self.len() - e);
        if let Repr::One(node) = &mut self.0 {
            let count = node.count();
            node.remove(count - back, back);
            node.remove(0, front);
            return;
        }
        self.with_chain(|c| {
            let mut front = front;
            while let Some(n) = c.nodes.front_mut() {
                if n.count() <= front {
                    front -= n.count();
                    c.nodes.pop_front();
                } else {
                    n.remove(0, front);
                    break;
                }
            }
            let mut back = back;
            while let Some(n) = c.nodes.back_mut() {
                if n.count() <= back {
                    back -= n.count();
                    c.nodes.pop_back();
                } else {
                    let count = n.count();
                    n.remove(count - back, back);
                    break;
                }
            }
            c.len = e - s;
        });
    }

    /// Inserts `value` before or after the first `pivot` (LINSERT); false
    /// if absent. A node that outgrows `fill` splits.
    pub fn insert(&mut self, pivot: &[u8], after: bool, value: &[u8], fill: Fill) -> bool {
        let (pivot, value) = (Elem::of(pivot), Elem::of(value));
        let Some((n, j)) =
            self.nodes().enumerate().find_map(|(n, node)| node.iter().position(|e| e == pivot).map(|j| (n, j)))
        else {
            return false;
        };
        let j = j + after as usize;
        match &mut self.0 {
            Repr::One(node) => {
                node.insert(j, value);
                if fill.fits(node.count(), node.bytes()) {
                    return true;
                }
            }
            Repr::Many(c) => {
                c.nodes[n].insert(j, value);
                c.len += 1;
            }
        }
        self.with_chain(|c| c.fix(n, fill));
        true
    }

    /// Removes up to `count` occurrences of `value` (LREM: positive from the
    /// head, negative from the tail, 0 all). Returns how many went. Each
    /// node with matches is rebuilt once; nodes that shrank merge with
    /// neighbours when they fit together under `fill`.
    pub fn remove(&mut self, value: &[u8], count: i64, fill: Fill) -> usize {
        let value = Elem::of(value);
        let limit = if count == 0 { usize::MAX } else { count.unsigned_abs().min(usize::MAX as u64) as usize };
        let from_tail = count < 0;
        let mut removed = 0;
        let rebuild = |node: &mut Node, removed: &mut usize| {
            let matches = node.iter().filter(|e| *e == value).count();
            let take = matches.min(limit - *removed);
            if take == 0 {
                return;
            }
            // From the tail, the matches nearest the head stay.
            let (mut keep, mut taken) = (if from_tail { matches - take } else { 0 }, 0);
            let mut raw = Vec::with_capacity(node.raw().len());
            let mut pos = HDR;
            for _ in 0..node.count() {
                let (e, next) = read_fwd(&node.0, pos);
                let hit = e == value;
                if hit && keep == 0 && taken < take {
                    taken += 1;
                } else {
                    keep -= (hit && keep > 0) as usize;
                    raw.extend_from_slice(&node.0[pos..next]);
                }
                pos = next;
            }
            *node = Node::from_raw(node.count() - take, &raw);
            *removed += take;
        };
        match &mut self.0 {
            Repr::One(node) => rebuild(node, &mut removed),
            Repr::Many(c) => {
                let n = c.nodes.len();
                for k in 0..n {
                    if removed == limit {
                        break;
                    }
                    rebuild(&mut c.nodes[if from_tail { n - 1 - k } else { k }], &mut removed);
                }
                if removed > 0 {
                    c.len -= removed;
                    self.with_chain(|c| c.compact(fill));
                }
            }
        }
        removed
    }

    /// Index iterator from the head or the tail (LPOS).
    pub fn positions(&self, from_tail: bool) -> Box<dyn Iterator<Item = (usize, Elem<'_>)> + '_> {
        if from_tail {
            let last = self.len().wrapping_sub(1);
            Box::new(self.iter().rev().enumerate().map(move |(k, v)| (last - k, v)))
        } else {
            Box::new(self.iter().enumerate())
        }
    }
}

/// Redis's LRANGE/LTRIM index arithmetic: returns a half-open `start..end`.
fn clamp_range(start: i64, end: i64, len: usize) -> (usize, usize) {
    let len = len as i64;
    let mut s = if start < 0 { len.saturating_add(start) } else { start };
    let mut e = if end < 0 { len.saturating_add(end) } else { end };
    if s < 0 {
        s = 0;
    }
    if s > e || s >= len {
        return (0, 0);
    }
    if e >= len {
        e = len - 1;
    }
    (s as usize, e as usize + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    fn list(items: &[&str]) -> List {
        let mut l = List::new();
        for i in items {
            l.push(End::Right, i.as_bytes(), Fill::default());
        }
        l
    }

    fn items(l: &List) -> Vec<String> {
        l.range(0, -1).map(|b| String::from_utf8_lossy(&b.to_boxed()).into_owned()).collect()
    }

    #[test]
    fn ranges_like_redis() {
        let l = list(&["a", "b", "c", "d", "e"]);
        let r = |s, e| l.range(s, e).map(|b| b.to_boxed()[0] as char).collect::<String>();
        assert_eq!(r(0, -1), "abcde");
        assert_eq!(r(-2, -1), "de");
        assert_eq!(r(1, 100), "bcde");
        assert_eq!(r(3, 1), "");
        assert_eq!(r(-100, 0), "a");
        assert_eq!(r(5, 10), "");
        assert_eq!(r(i64::MIN, i64::MAX), "abcde");
    }

    #[test]
    fn trim_insert_remove() {
        let mut l = list(&["a", "b", "a", "c", "a"]);
        assert_eq!(l.remove(b"a", -2, Fill::default()), 2);
        assert_eq!(items(&l), ["a", "b", "c"]);
        assert!(l.insert(b"b", true, b"x", Fill::default()));
        assert!(!l.insert(b"zz", false, b"y", Fill::default()));
        assert_eq!(items(&l), ["a", "b", "x", "c"]);
        l.trim(1, -2);
        assert_eq!(items(&l), ["b", "x"]);
        l.trim(5, 1);
        assert!(l.is_empty());
    }

    #[test]
    fn many_nodes_behave_like_a_deque() {
        let mut l = List::new();
        let mut m: std::collections::VecDeque<Vec<u8>> = Default::default();
        let mut rng = crate::store::rand::Rng::new(9);
        for i in 0..20_000u32 {
            // Mostly small elements, sometimes one bigger than a node.
            let size = if i % 997 == 0 { 9000 } else { rng.below(40) };
            let v: Vec<u8> = (0..size).map(|k| (k as u32 + i) as u8).collect();
            match rng.below(6) {
                0 | 1 => {
                    l.push(End::Left, &v, Fill::default());
                    m.push_front(v);
                }
                2 | 3 => {
                    l.push(End::Right, &v, Fill::default());
                    m.push_back(v);
                }
                4 => assert_eq!(l.pop(End::Left).map(|b| b.to_vec()), m.pop_front()),
                _ => assert_eq!(l.pop(End::Right).map(|b| b.to_vec()), m.pop_back()),
            }
        }
        assert_eq!(l.len(), m.len());
        assert!(l.node_count() > 10, "spread over many nodes");
        for i in (0..m.len()).step_by(37) {
            assert_eq!(l.get(i), Some(Elem::of(&m[i])));
        }
        let mid = m.len() as i64 / 2;
        let got: Vec<Elem> = l.range(mid, mid + 500).collect();
        let want: Vec<Elem> = m.iter().skip(mid as usize).take(501).map(|v| Elem::of(v)).collect();
        assert_eq!(got, want);
        l.set(mid as usize, b"changed", Fill::default());
        assert_eq!(l.get(mid as usize), Some(Elem::Bytes(b"changed")));
        l.trim(10, -11);
        assert_eq!(l.len(), m.len() - 20);
        assert_eq!(l.get(0), Some(Elem::of(&m[10])));
        assert!(l.nodes().all(|n| n.count() > 0));
    }

    /// Checks the invariants: counts add up, no empty node in a chain, a
    /// chain has two nodes or more, every node of several entries fits
    /// `fill`, and walking each node backwards gives the forward order.
    fn check(l: &List, fill: Fill) {
        if let Repr::Many(c) = &l.0 {
            assert!(c.nodes.len() >= 2, "a chain of one node should be one node");
            assert_eq!(c.len, c.nodes.iter().map(Node::count).sum::<usize>());
            assert!(c.nodes.iter().all(|n| n.count() > 0));
        }
        for n in l.nodes() {
            assert!(
                fill.fits(n.count(), n.bytes()),
                "node of {} entries, {} bytes over {fill:?}",
                n.count(),
                n.bytes()
            );
            let fwd: Vec<Elem> = n.iter().collect();
            let mut back: Vec<Elem> = n.iter().rev().collect();
            back.reverse();
            assert_eq!(fwd, back);
            assert_eq!(fwd.len(), n.count());
        }
        assert_eq!(l.iter().count(), l.len());
    }

    #[test]
    fn nodes_are_appended_and_read_back_as_given() {
        let mut l = List::new();
        assert_eq!((l.nodes_in_use(), l.node_elems().count()), (0, 0));
        l.push_node([Elem::Bytes(b"a"), Elem::Int(7)]);
        l.push_node(std::iter::empty());
        l.push_node([Elem::Bytes(&[b'x'; 300])]);
        l.push_node((0..70_000).map(Elem::Int));
        // Over any fill, but whole: counts add up, nodes walk both ways.
        let fwd: Vec<Elem> = l.iter().collect();
        let mut back: Vec<Elem> = l.iter().rev().collect();
        back.reverse();
        assert_eq!((fwd.len(), &fwd), (l.len(), &back));
        let sizes: Vec<usize> = l.node_elems().map(|n| n.len()).collect();
        assert_eq!(sizes, [2, 1, 65535, 70_000 - 65535]);
        assert_eq!(l.nodes_in_use(), 4);
        assert_eq!(l.len(), 3 + 70_000);
        assert_eq!(l.get(1), Some(Elem::Int(7)));
        assert_eq!(l.get(3 + 69_999), Some(Elem::Int(69_999)));
        // Pushes still work on the ends of such a list.
        l.push(End::Left, b"head", Fill::default());
        assert_eq!(l.pop(End::Left).as_deref(), Some(&b"head"[..]));
        let mut one = List::new();
        one.push_node([Elem::Bytes(b"only")]);
        assert_eq!((one.len(), one.nodes_in_use()), (1, 1));
    }

    #[test]
    fn entries_of_every_header_size() {
        let mut l = List::new();
        let sizes = [0usize, 1, 63, 64, 127, 128, 129, 4223, 4224, 16383, 16384, 70_000];
        for &n in &sizes {
            l.push(End::Right, &vec![n as u8; n], Fill::default());
        }
        check(&l, Fill::default());
        for (i, &n) in sizes.iter().enumerate() {
            assert_eq!(l.get(i), Some(Elem::Bytes(&vec![n as u8; n])));
        }
        for &n in sizes.iter().rev() {
            assert_eq!(l.pop(End::Right).as_deref(), Some(&vec![n as u8; n][..]));
        }
        assert!(l.is_empty());
    }

    #[test]
    fn fill_limits_nodes() {
        for (setting, most) in [(1i64, 1usize), (2, 2), (5, 5), (0, 1), (-7, 65536 / 12)] {
            let fill = Fill::new(setting);
            let mut l = List::new();
            for i in 0..20_000u32 {
                l.push(if i % 2 == 0 { End::Left } else { End::Right }, format!("{:010}", i).as_bytes(), fill);
            }
            check(&l, fill);
            assert!(l.nodes().all(|n| n.count() <= most), "{setting}");
            assert!(l.node_count() <= 20_000usize.div_ceil(most) + 1, "{setting}: nodes are full");
        }
        // Counts: nodes hold at most 8 KB even when more entries are allowed.
        let fill = Fill::new(10_000);
        let mut l = List::new();
        (0..5000).for_each(|_| l.push(End::Right, b"0123456789", fill));
        assert!(l.nodes().all(|n| n.bytes() <= SIZE_SAFETY_LIMIT));
        // Bytes: -1 is 4 KB, -5 64 KB.
        for (setting, bytes) in [(-1, 4096), (-2, 8192), (-3, 16384), (-4, 32768), (-5, 65536)] {
            let mut l = List::new();
            (0..20_000).for_each(|_| l.push(End::Left, b"0123456789", Fill::new(setting)));
            // All full but the head node, which is being filled.
            assert!(l.nodes().all(|n| n.bytes() <= bytes), "{setting}");
            assert!(l.nodes().skip(1).all(|n| n.bytes() > bytes - 12), "{setting}");
        }
    }

    #[test]
    fn integers_are_stored_compactly_and_read_back_exactly() {
        let edges: [i64; 24] = [
            0,
            63,
            64,
            -1,
            4095,
            4096,
            -4096,
            -4097,
            32767,
            32768,
            -32768,
            -32769,
            0x7f_ffff,
            0x80_0000,
            -0x80_0000,
            -0x80_0001,
            i32::MAX as i64,
            i32::MAX as i64 + 1,
            i32::MIN as i64,
            i32::MIN as i64 - 1,
            i64::MAX,
            i64::MIN,
            1_700_000_000,
            12345,
        ];
        let sizes = [2, 2, 3, 3, 3, 4, 3, 4, 4, 5, 4, 5, 5, 6, 5, 6, 6, 10, 6, 10, 10, 10, 6, 4];
        for (&n, &size) in edges.iter().zip(&sizes) {
            let text = n.to_string();
            assert_eq!(Elem::of(text.as_bytes()), Elem::Int(n));
            assert_eq!(entry_size(Elem::Int(n)), size, "{n}");
            let mut l = List::new();
            l.push(End::Left, text.as_bytes(), Fill::default());
            l.push(End::Left, b"x", Fill::default());
            assert_eq!(l.heap_size(), HDR + 3 + size);
            assert_eq!(l.get(1), Some(Elem::Int(n)));
            assert_eq!(l.pop(End::Right).as_deref(), Some(text.as_bytes()));
        }
        // Not canonical: kept as bytes, read back as given.
        for s in ["-0", "01", "+1", " 1", "1 ", "", "99999999999999999999", "-9223372036854775809", "0x10"] {
            assert_eq!(Elem::of(s.as_bytes()), Elem::Bytes(s.as_bytes()), "{s:?}");
        }
        let mut l = List::new();
        for v in ["5", "05", "5"] {
            l.push(End::Right, v.as_bytes(), Fill::default());
        }
        assert_eq!(l.remove(b"5", 0, Fill::default()), 2);
        assert_eq!(items(&l), ["05"]);
    }

    #[test]
    fn small_lists_are_one_exact_buffer() {
        let mut l = List::new();
        assert_eq!(l.heap_size(), 0);
        l.push(End::Right, b"xxx", Fill::default());
        assert_eq!(l.heap_size(), 2 + 1 + 3 + 1);
        l.push(End::Left, b"hello", Fill::default());
        assert_eq!(l.heap_size(), 2 + 5 + 7);
        assert_eq!(l.pop(End::Right).as_deref(), Some(&b"xxx"[..]));
        assert_eq!(l.heap_size(), 2 + 7);
    }

    /// One random operation on the list and on a `VecDeque` model.
    #[derive(Debug, Clone)]
    enum Op {
        Push(bool, Vec<u8>),
        Pop(bool),
        Get(i64),
        Set(i64, Vec<u8>),
        Range(i64, i64),
        Trim(i64, i64),
        Insert(u8, bool, Vec<u8>),
        Remove(u8, i64),
        Pos(u8, bool),
    }

    fn value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            8 => (0u8..4).prop_map(|v| vec![b'a' + v]),
            3 => prop_oneof![any::<i64>(), -70_000i64..70_000, -10i64..70].prop_map(|n| n.to_string().into_bytes()),
            1 => prop::sample::select(vec!["-0", "01", "+1", "1e3", " 1", "99999999999999999999", "-9223372036854775809"])
                .prop_map(|s| s.as_bytes().to_vec()),
            2 => prop::collection::vec(any::<u8>(), 0..300),
            1 => (0usize..20_000).prop_map(|n| vec![b'z'; n]),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        let idx = -30i64..30;
        prop_oneof![
            6 => (any::<bool>(), value()).prop_map(|(l, v)| Op::Push(l, v)),
            2 => any::<bool>().prop_map(Op::Pop),
            1 => idx.clone().prop_map(Op::Get),
            2 => (idx.clone(), value()).prop_map(|(i, v)| Op::Set(i, v)),
            1 => (idx.clone(), idx.clone()).prop_map(|(a, b)| Op::Range(a, b)),
            1 => (idx.clone(), idx.clone()).prop_map(|(a, b)| Op::Trim(a, b)),
            2 => (0u8..4, any::<bool>(), value()).prop_map(|(p, a, v)| Op::Insert(p, a, v)),
            1 => (0u8..4, -3i64..3).prop_map(|(v, c)| Op::Remove(v, c)),
            1 => (0u8..4, any::<bool>()).prop_map(|(v, t)| Op::Pos(v, t)),
        ]
    }

    fn resolve(i: i64, len: usize) -> Option<usize> {
        let i = if i < 0 { i + len as i64 } else { i };
        (0..len as i64).contains(&i).then_some(i as usize)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn matches_a_deque_model_with_any_fill(
            fill in prop_oneof![Just(-5i64), Just(-1), Just(-2), Just(0), 1i64..6, Just(100), Just(-100), Just(i64::MAX)],
            prefill in 0usize..400,
            ops in prop::collection::vec(op(), 1..120),
        ) {
            let fill = Fill::new(fill);
            let mut l = List::new();
            let mut m: VecDeque<Vec<u8>> = VecDeque::new();
            for i in 0..prefill {
                let v = vec![b'a' + (i % 5) as u8; i % 7];
                l.push(End::Right, &v, fill);
                m.push_back(v);
            }
            for op in ops {
                match op {
                    Op::Push(left, v) => {
                        l.push(if left { End::Left } else { End::Right }, &v, fill);
                        if left { m.push_front(v) } else { m.push_back(v) }
                    }
                    Op::Pop(left) => {
                        let want = if left { m.pop_front() } else { m.pop_back() };
                        prop_assert_eq!(l.pop(if left { End::Left } else { End::Right }).map(|b| b.to_vec()), want);
                    }
                    Op::Get(i) => {
                        prop_assert_eq!(l.index(i), resolve(i, m.len()));
                        prop_assert_eq!(l.index(i).and_then(|i| l.get(i)).map(Elem::to_boxed), resolve(i, m.len()).map(|i| m[i].clone().into_boxed_slice()));
                    }
                    Op::Set(i, v) => {
                        if let Some(i) = resolve(i, m.len()) {
                            l.set(i, &v, fill);
                            m[i] = v;
                        }
                    }
                    Op::Range(a, b) => {
                        let (s, e) = clamp_range(a, b, m.len());
                        let want: Vec<&[u8]> = m.range(s..e.max(s)).map(|v| &v[..]).collect();
                        prop_assert_eq!(l.range_len(a, b), want.len());
                        let got: Vec<Box<[u8]>> = l.range(a, b).map(Elem::to_boxed).collect();
                        prop_assert_eq!(got.iter().map(|b| &b[..]).collect::<Vec<_>>(), want);
                    }
                    Op::Trim(a, b) => {
                        let (s, e) = clamp_range(a, b, m.len());
                        l.trim(a, b);
                        m = m.range(s..e.max(s)).cloned().collect();
                    }
                    Op::Insert(p, after, v) => {
                        let pivot = [b'a' + p];
                        let pos = m.iter().position(|e| e[..] == pivot);
                        prop_assert_eq!(l.insert(&pivot, after, &v, fill), pos.is_some());
                        if let Some(pos) = pos {
                            m.insert(pos + after as usize, v);
                        }
                    }
                    Op::Remove(v, count) => {
                        let val = [b'a' + v];
                        let limit = if count == 0 { usize::MAX } else { count.unsigned_abs() as usize };
                        let mut hits: Vec<usize> = m.iter().enumerate().filter(|(_, e)| e[..] == val).map(|(i, _)| i).collect();
                        if count < 0 { hits.reverse(); }
                        hits.truncate(limit);
                        hits.sort_unstable();
                        for &i in hits.iter().rev() { m.remove(i); }
                        prop_assert_eq!(l.remove(&val, count, fill), hits.len());
                    }
                    Op::Pos(v, tail) => {
                        let val = [b'a' + v];
                        let got: Vec<usize> = l.positions(tail).filter(|(_, e)| *e == Elem::of(&val)).map(|(i, _)| i).collect();
                        let mut want: Vec<usize> = m.iter().enumerate().filter(|(_, e)| e[..] == val).map(|(i, _)| i).collect();
                        if tail { want.reverse(); }
                        prop_assert_eq!(got, want);
                    }
                }
                prop_assert_eq!(l.len(), m.len());
                check(&l, fill);
            }
            prop_assert!(l.iter().map(Elem::to_boxed).eq(m.iter().map(|v| v.clone().into_boxed_slice())));
        }
    }

    proptest! {
        #[test]
        fn matches_a_vec_model(ops in prop::collection::vec((0u8..6, 0u8..4, -6i64..6, -6i64..6), 1..100)) {
            let mut l = List::new();
            let mut m: Vec<Vec<u8>> = Vec::new();
            for (op, v, a, b) in ops {
                let val = vec![b'a' + v];
                match op {
                    0 => { l.push(End::Left, &val, Fill::default()); m.insert(0, val); }
                    1 => { l.push(End::Right, &val, Fill::default()); m.push(val); }
                    2 => { prop_assert_eq!(l.pop(End::Left).map(|b| b.to_vec()), (!m.is_empty()).then(|| m.remove(0))); }
                    3 => { prop_assert_eq!(l.pop(End::Right).map(|b| b.to_vec()), m.pop()); }
                    4 => {
                        let len = m.len() as i64;
                        let (mut s, mut e) = (if a < 0 { len + a } else { a }, if b < 0 { len + b } else { b });
                        s = s.max(0);
                        let want: Vec<Vec<u8>> = if s > e || s >= len { vec![] } else { e = e.min(len - 1); m[s as usize..=e as usize].to_vec() };
                        let got: Vec<Vec<u8>> = l.range(a, b).map(|x| x.to_boxed().into_vec()).collect();
                        prop_assert_eq!(got, want);
                    }
                    _ => {
                        let n = l.remove(&val, a, Fill::default());
                        let mut removed = 0;
                        let limit = if a == 0 { usize::MAX } else { a.unsigned_abs() as usize };
                        if a >= 0 {
                            let mut i = 0;
                            while i < m.len() && removed < limit { if m[i] == val { m.remove(i); removed += 1; } else { i += 1; } }
                        } else {
                            let mut i = m.len();
                            while i > 0 && removed < limit { i -= 1; if m[i] == val { m.remove(i); removed += 1; } }
                        }
                        prop_assert_eq!(n, removed);
                    }
                }
                prop_assert_eq!(l.len(), m.len());
            }
        }
    }
}
