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
//! `list-compress-depth` N > 0 (see [`Shape`]) LZF-compresses every node
//! but the N at each end, as Redis's quicklist does (`__quicklistCompress`):
//! when a node is added or removed, the N nodes at each end are made raw and
//! the first node past each end's window is compressed; a node edited in
//! the middle (LSET, LINSERT, LREM) is unpacked for the edit and compressed
//! again after it. Nodes under 48 bytes, or that would not shrink by more
//! than 8 bytes, stay raw. Reads (LRANGE, LINDEX, LPOS, the search of
//! LINSERT and LREM) unpack a compressed node into a scratch buffer and
//! leave the node compressed, where Redis unpacks it in place and
//! compresses it again. Unlike Redis, which fixes a list's depth when the
//! list is created, the depth is read from the config at each write like
//! the fill: after a CONFIG SET a list follows the new depth as its nodes
//! are touched (nothing is recompressed in bulk, so the SET costs no
//! pause), and a node compressed under an earlier depth is read and edited
//! like any other.
//!
//! A list of one node (every small list) is just that node: the `List` is
//! the buffer's 16-byte pointer, stored inline in the `Value`, so a
//! one-element list costs one small allocation. Longer lists keep their
//! nodes in a boxed `VecDeque`, each behind an `Arc` (32 bytes beside an
//! 8 KB node): a clone, which is how a snapshot keeps a big list as it
//! was while the keyspace's goes on changing, shares every node, and an
//! edit copies a node first only while a clone still holds it (a 2,000,000
//! element list under LPUSH during BGSAVE: 0.2-1 MB more memory instead of
//! a 22 MB copy, and no 20 ms stall to make it). Push and pop at both ends
//! touch only the end nodes (O(node size)); finding element `i` skips
//! whole nodes by their counts (O(n / node size), compressed or not) and
//! then walks one node from its nearer end; reading a range of raw nodes
//! allocates nothing.
//! Redis 7.0 reports every list as `quicklist`, and so does ferrokv.
//!
//! Invariants: a multi-node list has at least two nodes, none empty, and
//! its `len` is the sum of their counts; a one-node list's node is raw, and
//! empty only when the list is. With one depth N for every write, the N
//! nodes at each end are raw, and an interior node is raw only if
//! compressing it would not pay.

use crate::lzf;
use std::collections::VecDeque;
use std::ops::{ControlFlow, Range};
use std::sync::Arc;

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

/// Redis's `COMPRESS_MAX`: the deepest `list-compress-depth` takes effect.
const COMPRESS_MAX: i64 = (1 << 16) - 1;

/// Redis's `MIN_COMPRESS_BYTES`: smaller nodes are never compressed.
const MIN_COMPRESS_BYTES: usize = 48;

/// Redis's `MIN_COMPRESS_IMPROVE`: a node stays raw unless compressing it
/// saves more than this many bytes.
const MIN_COMPRESS_IMPROVE: usize = 8;

/// The byte after a compressed node's count (no entry header is 0xFF).
const LZF_MARK: u8 = 0xFF;

/// How a list lays out its nodes: the [`Fill`] from
/// `list-max-listpack-size` and the depth from `list-compress-depth` (how
/// many nodes at each end stay raw; 0 leaves every node raw), clamped to
/// 0..=65535 as Redis's `quicklistSetCompressDepth` does. Both are read
/// from the config at each write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Shape {
    fill: Fill,
    depth: u16,
}

impl Shape {
    pub fn new(fill: i64, depth: i64) -> Shape {
        Shape { fill: Fill::new(fill), depth: depth.clamp(0, COMPRESS_MAX) as u16 }
    }

    fn depth(self) -> usize {
        self.depth as usize
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

/// A node's entries in the raw layout, `[count: u16 LE][entry]...`, read in
/// place: a raw node's own buffer, or a compressed node unpacked into a
/// scratch buffer by [`Node::view`].
#[derive(Debug, Clone, Copy)]
struct Packed<'a>(&'a [u8]);

impl<'a> Packed<'a> {
    fn count(self) -> usize {
        match *self.0 {
            [a, b, ..] => u16::from_le_bytes([a, b]) as usize,
            _ => 0,
        }
    }

    /// Byte offset of entry `j` (`j == count` gives the end), walking from
    /// the nearer end.
    fn offset(self, j: usize) -> usize {
        let count = self.count();
        if j <= count / 2 {
            let mut pos = HDR;
            for _ in 0..j {
                pos = read_fwd(self.0, pos).1;
            }
            pos
        } else {
            let mut pos = self.0.len();
            for _ in j..count {
                pos = read_back(self.0, pos);
            }
            pos
        }
    }

    fn get(self, j: usize) -> Elem<'a> {
        read_fwd(self.0, self.offset(j)).0
    }

    /// Entries from `j` on.
    fn iter_from(self, j: usize) -> NodeIter<'a> {
        let count = self.count();
        let j = j.min(count);
        NodeIter {
            buf: self.0,
            front: if j == count { self.0.len() } else { self.offset(j) },
            back: self.0.len(),
            left: count - j,
        }
    }

    fn iter(self) -> NodeIter<'a> {
        NodeIter { buf: self.0, front: HDR.min(self.0.len()), back: self.0.len(), left: self.count() }
    }
}

/// One node: an empty buffer for no entries, or the raw layout
/// `[count: u16 LE][entry]...`, or compressed,
/// `[count: u16 LE][LZF_MARK][raw length: LEB128][LZF stream]`, where the
/// stream unpacks to the raw layout's entries. The byte after the count
/// tells the two apart: no entry header is [`LZF_MARK`]. Entries are
/// position-independent, so moving a run of them between raw nodes is a
/// plain byte copy. The edits below take raw nodes; a caller decompresses
/// a node before it changes it.
#[derive(Debug, Clone, Default)]
struct Node(Box<[u8]>);

impl Node {
    fn count(&self) -> usize {
        Packed(&self.0).count()
    }

    /// Bytes stored (the node's heap allocation).
    fn bytes(&self) -> usize {
        self.0.len()
    }

    fn is_compressed(&self) -> bool {
        self.0.get(HDR) == Some(&LZF_MARK)
    }

    /// A compressed node's raw entry length and LZF stream.
    fn lzf_parts(&self) -> (usize, &[u8]) {
        let (mut n, mut shift, mut p) = (0usize, 0, HDR + 1);
        loop {
            let c = self.0[p];
            p += 1;
            n |= ((c & 0x7f) as usize) << shift;
            shift += 7;
            if c < 0x80 {
                break;
            }
        }
        (n, &self.0[p..])
    }

    /// Bytes of the raw layout (what [`Node::bytes`] is once decompressed),
    /// which is what `list-max-listpack-size` limits.
    fn packed_size(&self) -> usize {
        if self.is_compressed() { HDR + self.lzf_parts().0 } else { self.bytes() }
    }

    /// Writes the raw layout of this node into `out` (replacing its contents).
    fn unpack_into(&self, out: &mut Vec<u8>) {
        out.clear();
        if !self.is_compressed() {
            out.extend_from_slice(&self.0);
            return;
        }
        let (len, stream) = self.lzf_parts();
        out.reserve_exact(HDR + len);
        out.extend_from_slice(&self.0[..HDR]);
        out.resize(HDR + len, 0);
        // The stream was written by `compress` below from exactly `len` bytes.
        let got = lzf::decompress(stream, &mut out[HDR..]);
        assert_eq!(got, Some(len), "a compressed list node unpacks to its recorded length");
    }

    /// The entries, read in place, or unpacked into `scratch` when the
    /// node is compressed (the node itself stays compressed).
    fn view<'a>(&'a self, scratch: &'a mut Vec<u8>) -> Packed<'a> {
        if self.is_compressed() {
            self.unpack_into(scratch);
            Packed(scratch)
        } else {
            Packed(&self.0)
        }
    }

    /// The entries of a raw node.
    fn packed(&self) -> Packed<'_> {
        debug_assert!(!self.is_compressed(), "edits and in-place reads take raw nodes");
        Packed(&self.0)
    }

    /// Makes the node raw again (Redis's `__quicklistDecompressNode`); a
    /// raw node is left as it is.
    fn decompress(&mut self) {
        if self.is_compressed() {
            let mut v = Vec::new();
            self.unpack_into(&mut v);
            self.0 = v.into_boxed_slice();
        }
    }

    /// Compresses a raw node in place if that is worth it, as Redis's
    /// `__quicklistCompressNode`: not under [`MIN_COMPRESS_BYTES`], and only
    /// if the node shrinks by more than [`MIN_COMPRESS_IMPROVE`] bytes.
    /// Returns whether the node is now compressed.
    fn compress(&mut self) -> bool {
        if self.is_compressed() {
            return true;
        }
        if self.bytes() < MIN_COMPRESS_BYTES {
            return false;
        }
        let raw = &self.0[HDR..];
        let head = HDR + 1 + varint_size(raw.len());
        let Some(room) = self.bytes().checked_sub(head + MIN_COMPRESS_IMPROVE + 1) else { return false };
        let Some(stream) = lzf::compress(raw, room) else { return false };
        // A fresh exact allocation: shrinking the raw-sized buffer in place
        // would leave a hole beside every compressed node (measured: 10%
        // more RSS for long lists).
        let mut v = Vec::with_capacity(head + stream.len());
        v.extend_from_slice(&self.0[..HDR]);
        v.push(LZF_MARK);
        let mut n = raw.len();
        while n >= 0x80 {
            v.push((n & 0x7f) as u8 | 0x80);
            n >>= 7;
        }
        v.push(n as u8);
        v.extend_from_slice(&stream);
        self.0 = v.into_boxed_slice();
        true
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

    /// The encoded entries of a raw node, without the header.
    fn raw(&self) -> &[u8] {
        debug_assert!(!self.is_compressed());
        self.0.get(HDR..).unwrap_or(&[])
    }

    /// Replaces the bytes `at..at + cut` with `size` bytes written by
    /// `fill`, adjusting the count by `delta`; the buffer ends up exactly
    /// sized (and freed when no entry is left).
    fn splice(&mut self, at: usize, cut: usize, size: usize, delta: isize, fill: impl FnOnce(&mut [u8])) {
        debug_assert!(!self.is_compressed());
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
        let at = if self.0.is_empty() { HDR } else { self.packed().offset(j) };
        self.splice(at, 0, entry_size(v), 1, |dst| put_entry(dst, v));
    }

    /// Replaces entry `j` with `v`.
    fn replace(&mut self, j: usize, v: Elem) {
        let at = self.packed().offset(j);
        let next = read_fwd(&self.0, at).1;
        self.splice(at, next - at, entry_size(v), 0, |dst| put_entry(dst, v));
    }

    /// Removes `k` entries starting at entry `j`.
    fn remove(&mut self, j: usize, k: usize) {
        if k == 0 {
            return;
        }
        let at = self.packed().offset(j);
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
        fill.fits(self.count() + 1, self.packed_size() + hdr + entry_size(v))
    }
}

/// Elements of one node, from both ends.
#[derive(Clone)]
pub struct NodeIter<'a> {
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

/// A list of two or more nodes, each shared on clone: a snapshot's copy
/// of a big list costs a pointer per node, and a node is copied only when
/// one side changes it while the other still holds it ([`own`], [`raw`]).
#[derive(Debug, Clone, Default)]
struct Chain {
    nodes: VecDeque<Arc<Node>>,
    len: usize,
}

/// Heap bytes of a chain node's shared allocation besides its buffer:
/// the two reference counts and the node (`Arc<Node>`'s inner block).
const ARC_NODE: usize = 2 * std::mem::size_of::<usize>() + std::mem::size_of::<Node>();

/// The node to change, copied first if a clone of the list shares it.
fn own(node: &mut Arc<Node>) -> &mut Node {
    Arc::make_mut(node)
}

/// Makes the node raw ([`Node::decompress`]); a raw node, shared or not,
/// is left as it is.
fn raw(node: &mut Arc<Node>) {
    if node.is_compressed() {
        own(node).decompress();
    }
}

/// Compresses the node if that is worth it ([`Node::compress`]); one
/// already compressed, or too small to be, is left as it is.
fn compress(node: &mut Arc<Node>) {
    if !node.is_compressed() && node.bytes() >= MIN_COMPRESS_BYTES {
        own(node).compress();
    }
}

impl Chain {
    /// After node `n` changed: splits it in halves until every piece fits
    /// `fill`, then merges neighbouring pieces, and the pieces at the edges
    /// with the nodes beside them, where the result fits (Redis splits a
    /// full node on a middle insert and merges around it). Node `n` is raw.
    /// Returns the nodes it rewrote.
    fn fix(&mut self, n: usize, fill: Fill) -> Range<usize> {
        let (mut lo, mut hi, mut i) = (n, n + 1, n);
        while i < hi {
            let node = &self.nodes[i];
            if fill.fits(node.count(), node.bytes()) {
                i += 1;
                continue;
            }
            let half = node.count() / 2;
            let at = node.packed().offset(half) - HDR;
            let (left, right) = node.raw().split_at(at);
            let (l, r) = (Node::from_raw(half, left), Node::from_raw(node.count() - half, right));
            self.nodes[i] = Arc::new(l);
            self.nodes.insert(i + 1, Arc::new(r));
            hi += 1;
        }
        if hi < self.nodes.len() {
            self.merge(hi - 1, fill);
        }
        for i in (lo..hi - 1).rev() {
            if self.merge(i, fill) {
                hi -= 1;
            }
        }
        if lo > 0 && self.merge(lo - 1, fill) {
            lo -= 1;
            hi -= 1;
        }
        lo..hi
    }

    /// After LSET or LINSERT changed raw node `n`: splits and merges it
    /// ([`Chain::fix`]), then compresses what is interior.
    fn edited(&mut self, n: usize, shape: Shape) {
        let before = self.nodes.len();
        let touched = self.fix(n, shape.fill);
        let added = self.nodes.len().saturating_sub(before);
        self.settle(shape.depth(), touched, added);
    }

    /// Merges node `n + 1` into node `n` if the result fits `fill`
    /// (decompressing them first).
    fn merge(&mut self, n: usize, fill: Fill) -> bool {
        let (a, b) = (&self.nodes[n], &self.nodes[n + 1]);
        let count = a.count() + b.count();
        let bytes = a.packed_size() + b.packed_size() - HDR;
        if !fill.fits(count, bytes) || count > u16::MAX as usize {
            return false;
        }
        raw(&mut self.nodes[n]);
        raw(&mut self.nodes[n + 1]);
        let (a, b) = (&self.nodes[n], &self.nodes[n + 1]);
        let mut v = Vec::with_capacity(bytes);
        v.extend_from_slice(&(count as u16).to_le_bytes());
        v.extend_from_slice(a.raw());
        v.extend_from_slice(b.raw());
        self.nodes[n] = Arc::new(Node(v.into_boxed_slice()));
        self.nodes.remove(n + 1);
        true
    }

    /// After LREM rewrote the nodes marked in `touched`: drops the emptied
    /// ones and merges each rewritten node with a neighbour where the two
    /// fit together under `fill`. Returns the marks of the new nodes.
    fn compact(&mut self, touched: &[bool], fill: Fill) -> Vec<bool> {
        let old = std::mem::take(&mut self.nodes);
        let mut marks = Vec::with_capacity(old.len());
        for (node, &t) in old.into_iter().zip(touched) {
            if node.count() == 0 {
                continue;
            }
            self.nodes.push_back(node);
            marks.push(t);
            let k = self.nodes.len();
            if k >= 2 && (marks[k - 1] || marks[k - 2]) && self.merge(k - 2, fill) {
                marks.pop();
                marks[k - 2] = true;
            }
        }
        marks
    }

    /// Redis's `__quicklistCompress`, after a change to the chain: the
    /// `depth` nodes at each end are made raw, and once there are more than
    /// `2 * depth` nodes, the interior nodes that may have just become
    /// interior (the first `max(added, 1)` past each end's window) and the
    /// rewritten interior nodes in `touched` are compressed. Nothing
    /// happens at depth 0 (compression off); nodes compressed earlier are
    /// then decompressed only as they are edited.
    fn settle(&mut self, depth: usize, touched: impl IntoIterator<Item = usize>, added: usize) {
        if depth == 0 {
            return;
        }
        let n = self.nodes.len();
        let w = depth.min(n);
        for k in (0..w).chain(n - w..n) {
            raw(&mut self.nodes[k]);
        }
        if n <= 2 * depth {
            return;
        }
        let edge = added.max(1);
        let interior = depth..n - depth;
        let head = depth..(depth + edge).min(n - depth);
        let tail = (n - depth).saturating_sub(edge).max(depth)..n - depth;
        for k in head.chain(tail).chain(touched) {
            if interior.contains(&k) {
                compress(&mut self.nodes[k]);
            }
        }
    }
}

/// A list value: one node, or a chain of them.
#[derive(Debug, Clone, Default)]
pub struct List(Repr);

/// Invariant: a one-node list's node is raw (it is both ends).
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

/// Equal when they hold the same elements, however they are split in nodes
/// and whichever nodes are compressed.
impl PartialEq for List {
    fn eq(&self, other: &List) -> bool {
        if self.len() != other.len() {
            return false;
        }
        let mine = self.to_vec();
        let mut equal = true;
        other.scan(false, |i, e| {
            equal = Elem::of(&mine[i]) == e;
            if equal { ControlFlow::Continue(()) } else { ControlFlow::Break(()) }
        });
        equal
    }
}

/// LEFT (head) or RIGHT (tail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Left,
    Right,
}

impl List {
    /// Where the list's first heap block is (its one node, or its chain):
    /// what reading the list touches first (a prefetch hint).
    pub fn addr(&self) -> *const u8 {
        match &self.0 {
            Repr::One(node) => node.0.as_ptr(),
            Repr::Many(chain) => (&**chain as *const Chain).cast(),
        }
    }

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

    /// Heap bytes owned: node buffers (exactly their length, compressed or
    /// not), and for a chain its box and node ring.
    pub fn heap_size(&self) -> usize {
        self.heap_size_of(|_| true)
    }

    /// [`List::heap_size`] less the nodes a clone of this list shares with
    /// it (a snapshot's copy: what it holds alone).
    pub fn unshared_heap_size(&self) -> usize {
        self.heap_size_of(|n| Arc::strong_count(n) == 1)
    }

    /// The heap bytes, counting only the chain nodes `counted` picks.
    fn heap_size_of(&self, counted: impl Fn(&Arc<Node>) -> bool) -> usize {
        match &self.0 {
            Repr::One(n) => n.bytes(),
            Repr::Many(c) => {
                std::mem::size_of::<Chain>()
                    + c.nodes.capacity() * std::mem::size_of::<Arc<Node>>()
                    + c.nodes.iter().filter(|n| counted(n)).map(|n| ARC_NODE + n.bytes()).sum::<usize>()
            }
        }
    }

    /// The nodes in order, from node `first`.
    fn nodes_from(&self, first: usize) -> impl DoubleEndedIterator<Item = &Node> {
        let (one, a, b): (Option<&Node>, &[Arc<Node>], &[Arc<Node>]) = match &self.0 {
            Repr::One(n) => ((first == 0).then_some(n), &[], &[]),
            Repr::Many(c) => {
                let (a, b) = c.nodes.as_slices();
                if first <= a.len() {
                    (None, &a[first..], b)
                } else {
                    (None, &[], &b[(first - a.len()).min(b.len())..])
                }
            }
        };
        one.into_iter().chain(a.iter().chain(b).map(|n| &**n))
    }

    fn nodes(&self) -> impl DoubleEndedIterator<Item = &Node> {
        self.nodes_from(0)
    }

    /// Runs `f` on the list as a chain (a one-node list becomes a chain of
    /// one for the duration), then goes back to one (raw) node if one or
    /// none is left. For the mid-list edits; the end operations avoid the
    /// detour.
    fn with_chain<R>(&mut self, f: impl FnOnce(&mut Chain) -> R) -> R {
        let mut chain = match std::mem::take(&mut self.0) {
            Repr::One(node) => {
                let len = node.count();
                let nodes = if len > 0 { VecDeque::from([Arc::new(node)]) } else { VecDeque::new() };
                Box::new(Chain { nodes, len })
            }
            Repr::Many(c) => c,
        };
        let r = f(&mut chain);
        self.0 = if chain.nodes.len() <= 1 {
            let mut node = chain.nodes.pop_front().map(Arc::unwrap_or_clone).unwrap_or_default();
            node.decompress();
            Repr::One(node)
        } else {
            Repr::Many(chain)
        };
        r
    }

    pub fn push(&mut self, end: End, value: &[u8], shape: Shape) {
        let (value, fill) = (Elem::of(value), shape.fill);
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
                let pushed = node.is_some_and(|node| {
                    let node = own(node);
                    // An end node is raw unless the depth shrank since it
                    // was compressed.
                    node.decompress();
                    let room = node.room_for(value, fill);
                    if room {
                        node.insert(if end == End::Left { 0 } else { node.count() }, value);
                    }
                    room
                });
                if !pushed {
                    let mut node = Node::default();
                    node.insert(0, value);
                    match end {
                        End::Left => c.nodes.push_front(Arc::new(node)),
                        End::Right => c.nodes.push_back(Arc::new(node)),
                    }
                    c.settle(shape.depth(), None, 1);
                }
                c.len += 1;
            }
            Repr::One(_) => {
                let mut node = Node::default();
                node.insert(0, value);
                self.with_chain(|c| {
                    match end {
                        End::Left => c.nodes.push_front(Arc::new(node)),
                        End::Right => c.nodes.push_back(Arc::new(node)),
                    }
                    c.len += 1;
                    c.settle(shape.depth(), None, 1);
                });
            }
        }
    }

    pub fn pop(&mut self, end: End, shape: Shape) -> Option<Box<[u8]>> {
        let pop = |node: &mut Node| match end {
            End::Left => node.pop_front(),
            End::Right => node.pop_back(),
        };
        match &mut self.0 {
            Repr::One(node) => pop(node),
            Repr::Many(c) => {
                let node = own(match end {
                    End::Left => c.nodes.front_mut(),
                    End::Right => c.nodes.back_mut(),
                }?);
                node.decompress();
                let v = pop(node)?;
                let emptied = node.count() == 0;
                c.len -= 1;
                if emptied {
                    self.with_chain(|c| {
                        match end {
                            End::Left => c.nodes.pop_front(),
                            End::Right => c.nodes.pop_back(),
                        };
                        c.settle(shape.depth(), None, 0);
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
    /// whole nodes (by their counts, compressed or not) from whichever end
    /// is nearer.
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
        self.nodes_from(n).next()
    }

    /// Element `i` (LINDEX); a compressed node is read through a
    /// decompressed copy and stays compressed.
    pub fn get(&self, i: usize) -> Option<Box<[u8]>> {
        let (n, j) = self.locate(i)?;
        let mut scratch = Vec::new();
        self.node(n).map(|node| node.view(&mut scratch).get(j).to_boxed())
    }

    /// Sets element `i` (LSET); the node splits if it outgrows the fill,
    /// and is compressed again if it is interior.
    pub fn set(&mut self, i: usize, value: &[u8], shape: Shape) {
        let value = Elem::of(value);
        let Some((n, j)) = self.locate(i) else { return };
        match &mut self.0 {
            Repr::One(node) => {
                node.replace(j, value);
                if shape.fill.fits(node.count(), node.bytes()) {
                    return;
                }
            }
            Repr::Many(c) => {
                let node = own(&mut c.nodes[n]);
                node.decompress();
                node.replace(j, value);
            }
        }
        self.with_chain(|c| c.edited(n, shape));
    }

    /// Calls `f` with the elements of each node, from the head: what DUMP
    /// and snapshots write, node for node, as Redis writes its quicklist.
    /// A compressed node is unpacked into a reused buffer (it stays
    /// compressed). An empty list has no node.
    pub fn for_each_node(&self, f: impl FnMut(NodeIter<'_>)) {
        self.for_each_node_in(0, usize::MAX, f);
    }

    /// [`List::for_each_node`] for the nodes `skip..skip + take` only (a
    /// snapshot saves a big list a slice of nodes at a time).
    pub fn for_each_node_in(&self, skip: usize, take: usize, mut f: impl FnMut(NodeIter<'_>)) {
        let mut scratch = Vec::new();
        for node in self.nodes().filter(|n| n.count() > 0).skip(skip).take(take) {
            f(node.view(&mut scratch).iter());
        }
    }

    /// How many nodes [`List::node_elems`] yields.
    pub fn nodes_in_use(&self) -> usize {
        if self.is_empty() { 0 } else { self.node_count() }
    }

    /// Appends a node holding `elems` at the tail, as they come: RESTORE
    /// and snapshot loading keep the payload's node boundaries, as Redis's
    /// `quicklistAppendListpack` does, whatever the current fill. A node's
    /// count is a `u16`, so a longer run is cut into several nodes.
    pub fn push_node(&mut self, elems: &[Elem]) {
        for chunk in elems.chunks(u16::MAX as usize) {
            // Sized first, so the node's buffer is allocated once and kept.
            let size: usize = chunk.iter().map(|&e| entry_size(e)).sum();
            let mut v = vec![0u8; HDR + size];
            v[..HDR].copy_from_slice(&(chunk.len() as u16).to_le_bytes());
            let mut at = HDR;
            for &e in chunk {
                let n = entry_size(e);
                put_entry(&mut v[at..at + n], e);
                at += n;
            }
            self.append_node(chunk.len(), Node(v.into_boxed_slice()));
        }
    }

    /// Appends `node`, holding `count` entries, at the tail.
    fn append_node(&mut self, count: usize, node: Node) {
        match &mut self.0 {
            Repr::One(n) if n.count() == 0 => *n = node,
            _ => self.with_chain(|c| {
                c.len += count;
                c.nodes.push_back(Arc::new(node));
            }),
        }
    }

    /// The byte size of each node, from the head (DEBUG OBJECT's
    /// `ql_nodes` and `ql_uncompressed_size`).
    pub fn node_sizes(&self) -> impl Iterator<Item = usize> + '_ {
        self.nodes().map(Node::bytes)
    }

    /// Every element from the head, as owned bytes.
    pub fn to_vec(&self) -> Vec<Box<[u8]>> {
        let mut all = Vec::with_capacity(self.len());
        self.scan(false, |_, e| {
            all.push(e.to_boxed());
            ControlFlow::Continue(())
        });
        all
    }

    /// How many elements `for_range(start, end, ..)` visits.
    pub fn range_len(&self, start: i64, end: i64) -> usize {
        let (s, e) = clamp_range(start, end, self.len());
        e.saturating_sub(s)
    }

    /// Calls `f` on the elements from `start` to `end` inclusive, Redis
    /// range rules (negative from the tail, clamped); none when out of
    /// range. Raw nodes are read in place, compressed ones through one
    /// reused buffer.
    pub fn for_range(&self, start: i64, end: i64, mut f: impl FnMut(Elem<'_>)) {
        let (s, e) = clamp_range(start, end, self.len());
        let Some((n0, mut j)) = (if s < e { self.locate(s) } else { None }) else { return };
        let mut left = e - s;
        let mut scratch = Vec::new();
        for node in self.nodes_from(n0) {
            for v in node.view(&mut scratch).iter_from(j) {
                if left == 0 {
                    return;
                }
                f(v);
                left -= 1;
            }
            j = 0;
        }
    }

    /// Calls `f` with each element and its index, from the head or from
    /// the tail (LPOS), until it breaks.
    pub fn scan(&self, from_tail: bool, mut f: impl FnMut(usize, Elem<'_>) -> ControlFlow<()>) {
        let mut scratch = Vec::new();
        if from_tail {
            let mut i = self.len();
            for node in self.nodes().rev() {
                for v in node.view(&mut scratch).iter().rev() {
                    i -= 1;
                    if f(i, v).is_break() {
                        return;
                    }
                }
            }
        } else {
            let mut i = 0;
            for node in self.nodes() {
                for v in node.view(&mut scratch).iter() {
                    if f(i, v).is_break() {
                        return;
                    }
                    i += 1;
                }
            }
        }
    }

    /// Keeps only `start..=end` (LTRIM): whole nodes go at once, then the
    /// end nodes lose their outer entries.
    pub fn trim(&mut self, start: i64, end: i64, shape: Shape) {
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
                    if front > 0 {
                        let n = own(n);
                        n.decompress();
                        n.remove(0, front);
                    }
                    break;
                }
            }
            let mut back = back;
            while let Some(n) = c.nodes.back_mut() {
                if n.count() <= back {
                    back -= n.count();
                    c.nodes.pop_back();
                } else {
                    if back > 0 {
                        let n = own(n);
                        n.decompress();
                        let count = n.count();
                        n.remove(count - back, back);
                    }
                    break;
                }
            }
            c.len = e - s;
            c.settle(shape.depth(), None, 0);
        });
    }

    /// Inserts `value` before or after the first `pivot` (LINSERT); false
    /// if absent. A node that outgrows the fill splits.
    pub fn insert(&mut self, pivot: &[u8], after: bool, value: &[u8], shape: Shape) -> bool {
        let (pivot, value) = (Elem::of(pivot), Elem::of(value));
        let mut scratch = Vec::new();
        let Some((n, j)) = self
            .nodes()
            .enumerate()
            .find_map(|(n, node)| node.view(&mut scratch).iter().position(|e| e == pivot).map(|j| (n, j)))
        else {
            return false;
        };
        let j = j + after as usize;
        match &mut self.0 {
            Repr::One(node) => {
                node.insert(j, value);
                if shape.fill.fits(node.count(), node.bytes()) {
                    return true;
                }
            }
            Repr::Many(c) => {
                let node = own(&mut c.nodes[n]);
                node.decompress();
                node.insert(j, value);
                c.len += 1;
            }
        }
        self.with_chain(|c| c.edited(n, shape));
        true
    }

    /// Removes up to `count` occurrences of `value` (LREM: positive from the
    /// head, negative from the tail, 0 all). Returns how many went. Each
    /// node with matches is rebuilt once (a compressed one is searched
    /// through a copy and unpacked only if it has a match); nodes that
    /// shrank merge with neighbours when they fit together under the fill.
    pub fn remove(&mut self, value: &[u8], count: i64, shape: Shape) -> usize {
        let value = Elem::of(value);
        let limit = if count == 0 { usize::MAX } else { count.unsigned_abs().min(usize::MAX as u64) as usize };
        let from_tail = count < 0;
        let mut removed = 0;
        let mut scratch = Vec::new();
        // The node without its matches, or None if it keeps them all.
        let mut rebuild = |node: &Node, removed: &mut usize| {
            let packed = node.view(&mut scratch);
            let matches = packed.iter().filter(|e| *e == value).count();
            let take = matches.min(limit - *removed);
            if take == 0 {
                return None;
            }
            // From the tail, the matches nearest the head stay.
            let (mut keep, mut taken) = (if from_tail { matches - take } else { 0 }, 0);
            let bytes = packed.0;
            let mut raw = Vec::with_capacity(bytes.len());
            let mut pos = HDR;
            for _ in 0..node.count() {
                let (e, next) = read_fwd(bytes, pos);
                let hit = e == value;
                if hit && keep == 0 && taken < take {
                    taken += 1;
                } else {
                    keep -= (hit && keep > 0) as usize;
                    raw.extend_from_slice(&bytes[pos..next]);
                }
                pos = next;
            }
            *removed += take;
            Some(Node::from_raw(node.count() - take, &raw))
        };
        match &mut self.0 {
            Repr::One(node) => {
                if let Some(rebuilt) = rebuild(node, &mut removed) {
                    *node = rebuilt;
                }
            }
            Repr::Many(c) => {
                let n = c.nodes.len();
                let mut touched = vec![false; n];
                for k in 0..n {
                    if removed == limit {
                        break;
                    }
                    let i = if from_tail { n - 1 - k } else { k };
                    if let Some(rebuilt) = rebuild(&c.nodes[i], &mut removed) {
                        c.nodes[i] = Arc::new(rebuilt);
                        touched[i] = true;
                    }
                }
                if removed > 0 {
                    c.len -= removed;
                    self.with_chain(|c| {
                        let marks = c.compact(&touched, shape.fill);
                        let touched = marks.iter().enumerate().filter(|(_, t)| **t).map(|(k, _)| k);
                        c.settle(shape.depth(), touched, 0);
                    });
                }
            }
        }
        removed
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
            l.push(End::Right, i.as_bytes(), Shape::default());
        }
        l
    }

    fn items(l: &List) -> Vec<String> {
        range(l, 0, -1).iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect()
    }

    fn range(l: &List, start: i64, end: i64) -> Vec<Box<[u8]>> {
        let mut out = Vec::new();
        l.for_range(start, end, |e| out.push(e.to_boxed()));
        out
    }

    #[test]
    fn ranges_like_redis() {
        let l = list(&["a", "b", "c", "d", "e"]);
        let r = |s, e| range(&l, s, e).iter().map(|b| b[0] as char).collect::<String>();
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
        assert_eq!(l.remove(b"a", -2, Shape::default()), 2);
        assert_eq!(items(&l), ["a", "b", "c"]);
        assert!(l.insert(b"b", true, b"x", Shape::default()));
        assert!(!l.insert(b"zz", false, b"y", Shape::default()));
        assert_eq!(items(&l), ["a", "b", "x", "c"]);
        l.trim(1, -2, Shape::default());
        assert_eq!(items(&l), ["b", "x"]);
        l.trim(5, 1, Shape::default());
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
                    l.push(End::Left, &v, Shape::default());
                    m.push_front(v);
                }
                2 | 3 => {
                    l.push(End::Right, &v, Shape::default());
                    m.push_back(v);
                }
                4 => assert_eq!(l.pop(End::Left, Shape::default()).map(|b| b.to_vec()), m.pop_front()),
                _ => assert_eq!(l.pop(End::Right, Shape::default()).map(|b| b.to_vec()), m.pop_back()),
            }
        }
        assert_eq!(l.len(), m.len());
        assert!(l.node_count() > 10, "spread over many nodes");
        for i in (0..m.len()).step_by(37) {
            assert_eq!(l.get(i).as_deref(), Some(&m[i][..]));
        }
        let mid = m.len() as i64 / 2;
        let got = range(&l, mid, mid + 500);
        let want: Vec<Box<[u8]>> = m.iter().skip(mid as usize).take(501).map(|v| v[..].into()).collect();
        assert_eq!(got, want);
        l.set(mid as usize, b"changed", Shape::default());
        assert_eq!(l.get(mid as usize).as_deref(), Some(&b"changed"[..]));
        l.trim(10, -11, Shape::default());
        assert_eq!(l.len(), m.len() - 20);
        assert_eq!(l.get(0).as_deref(), Some(&m[10][..]));
        assert!(l.nodes().all(|n| n.count() > 0));
    }

    /// Checks the invariants: counts add up, no empty node in a chain, a
    /// chain has two nodes or more, a one-node list is raw, and walking
    /// each node backwards gives the forward order. With `fixed` (the list
    /// was only ever written with `shape`), also the layout: every node of
    /// several entries fits the fill, the `depth` nodes at each end are
    /// raw, and so is an interior node only if compressing it would not pay.
    fn check(l: &List, shape: Shape, fixed: bool) {
        let fill = shape.fill;
        if let Repr::Many(c) = &l.0 {
            assert!(c.nodes.len() >= 2, "a chain of one node should be one node");
            assert_eq!(c.len, c.nodes.iter().map(|n| n.count()).sum::<usize>());
            assert!(c.nodes.iter().all(|n| n.count() > 0));
        }
        if let Repr::One(n) = &l.0 {
            assert!(!n.is_compressed(), "a one-node list is raw");
        }
        let mut scratch = Vec::new();
        let n = l.node_count();
        for (k, node) in l.nodes().enumerate() {
            let size = node.packed_size();
            assert!(
                !fixed || fill.fits(node.count(), size),
                "node of {} entries, {size} bytes over {fill:?}",
                node.count()
            );
            let view = node.view(&mut scratch);
            assert_eq!(view.0.len(), size);
            let fwd: Vec<Elem> = view.iter().collect();
            let mut back: Vec<Elem> = view.iter().rev().collect();
            back.reverse();
            assert_eq!(fwd, back);
            assert_eq!(fwd.len(), node.count());
            if fixed && shape.depth() > 0 {
                let window = k < shape.depth() || k + shape.depth() >= n;
                if window {
                    assert!(!node.is_compressed(), "node {k} of {n} is within depth {}", shape.depth());
                } else if !node.is_compressed() {
                    assert!(!node.clone().compress(), "interior node {k} of {n} could be compressed");
                }
            }
        }
        assert_eq!(l.to_vec().len(), l.len());
    }

    #[test]
    fn nodes_are_appended_and_read_back_as_given() {
        let node_sizes = |l: &List| {
            let mut v = Vec::new();
            l.for_each_node(|n| v.push(n.len()));
            v
        };
        let mut l = List::new();
        assert_eq!((l.nodes_in_use(), node_sizes(&l).len()), (0, 0));
        l.push_node(&[Elem::Bytes(b"a"), Elem::Int(7)]);
        l.push_node(&[]);
        l.push_node(&[Elem::Bytes(&[b'x'; 300])]);
        l.push_node(&(0..70_000).map(Elem::Int).collect::<Vec<_>>());
        // Over any fill, but whole: counts add up, nodes walk both ways.
        let fwd: Vec<Box<[u8]>> = l.to_vec();
        let mut back = Vec::new();
        l.scan(true, |_, e| {
            back.push(e.to_boxed());
            ControlFlow::Continue(())
        });
        back.reverse();
        assert_eq!((fwd.len(), &fwd), (l.len(), &back));
        assert_eq!(node_sizes(&l), [2, 1, 65535, 70_000 - 65535]);
        assert_eq!(l.nodes_in_use(), 4);
        assert_eq!(l.len(), 3 + 70_000);
        assert_eq!(l.get(1).as_deref(), Some(&b"7"[..]));
        assert_eq!(l.get(3 + 69_999).as_deref(), Some(&b"69999"[..]));
        // Pushes still work on the ends of such a list.
        l.push(End::Left, b"head", Shape::default());
        assert_eq!(l.pop(End::Left, Shape::default()).as_deref(), Some(&b"head"[..]));
        let mut one = List::new();
        one.push_node(&[Elem::Bytes(b"only")]);
        assert_eq!((one.len(), one.nodes_in_use()), (1, 1));
    }

    #[test]
    fn entries_of_every_header_size() {
        let mut l = List::new();
        let sizes = [0usize, 1, 63, 64, 127, 128, 129, 4223, 4224, 16383, 16384, 70_000];
        for &n in &sizes {
            l.push(End::Right, &vec![n as u8; n], Shape::default());
        }
        check(&l, Shape::default(), true);
        for (i, &n) in sizes.iter().enumerate() {
            assert_eq!(l.get(i).as_deref(), Some(&vec![n as u8; n][..]));
        }
        for &n in sizes.iter().rev() {
            assert_eq!(l.pop(End::Right, Shape::default()).as_deref(), Some(&vec![n as u8; n][..]));
        }
        assert!(l.is_empty());
    }

    #[test]
    fn fill_limits_nodes() {
        for (setting, most) in [(1i64, 1usize), (2, 2), (5, 5), (0, 1), (-7, 65536 / 12)] {
            let shape = Shape::new(setting, 0);
            let mut l = List::new();
            for i in 0..20_000u32 {
                l.push(if i % 2 == 0 { End::Left } else { End::Right }, format!("{:010}", i).as_bytes(), shape);
            }
            check(&l, shape, true);
            assert!(l.nodes().all(|n| n.count() <= most), "{setting}");
            assert!(l.node_count() <= 20_000usize.div_ceil(most) + 1, "{setting}: nodes are full");
        }
        // Counts: nodes hold at most 8 KB even when more entries are allowed.
        let shape = Shape::new(10_000, 0);
        let mut l = List::new();
        (0..5000).for_each(|_| l.push(End::Right, b"0123456789", shape));
        assert!(l.nodes().all(|n| n.bytes() <= SIZE_SAFETY_LIMIT));
        // Bytes: -1 is 4 KB, -5 64 KB.
        for (setting, bytes) in [(-1, 4096), (-2, 8192), (-3, 16384), (-4, 32768), (-5, 65536)] {
            let mut l = List::new();
            (0..20_000).for_each(|_| l.push(End::Left, b"0123456789", Shape::new(setting, 0)));
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
            l.push(End::Left, text.as_bytes(), Shape::default());
            l.push(End::Left, b"x", Shape::default());
            assert_eq!(l.heap_size(), HDR + 3 + size);
            assert_eq!(l.get(1).as_deref(), Some(text.as_bytes()));
            assert_eq!(l.pop(End::Right, Shape::default()).as_deref(), Some(text.as_bytes()));
        }
        // Not canonical: kept as bytes, read back as given.
        for s in ["-0", "01", "+1", " 1", "1 ", "", "99999999999999999999", "-9223372036854775809", "0x10"] {
            assert_eq!(Elem::of(s.as_bytes()), Elem::Bytes(s.as_bytes()), "{s:?}");
        }
        let mut l = List::new();
        for v in ["5", "05", "5"] {
            l.push(End::Right, v.as_bytes(), Shape::default());
        }
        assert_eq!(l.remove(b"5", 0, Shape::default()), 2);
        assert_eq!(items(&l), ["05"]);
    }

    #[test]
    fn small_lists_are_one_exact_buffer() {
        let mut l = List::new();
        assert_eq!(l.heap_size(), 0);
        l.push(End::Right, b"xxx", Shape::default());
        assert_eq!(l.heap_size(), 2 + 1 + 3 + 1);
        l.push(End::Left, b"hello", Shape::default());
        assert_eq!(l.heap_size(), 2 + 5 + 7);
        assert_eq!(l.pop(End::Right, Shape::default()).as_deref(), Some(&b"xxx"[..]));
        assert_eq!(l.heap_size(), 2 + 7);
    }

    /// Nodes of `a` that are the very allocations of `b`'s.
    fn shared_nodes(a: &List, b: &List) -> usize {
        match (&a.0, &b.0) {
            (Repr::Many(a), Repr::Many(b)) => {
                a.nodes.iter().filter(|n| b.nodes.iter().any(|m| Arc::ptr_eq(n, m))).count()
            }
            _ => 0,
        }
    }

    /// A clone shares every node; each edit of either side copies only
    /// the nodes it changes, and the other side keeps its elements.
    #[test]
    fn clones_share_nodes_until_one_side_changes_them() {
        for depth in [0usize, 1] {
            let shape = Shape::new(16, depth as i64);
            let mut l = List::new();
            let items: Vec<Vec<u8>> = (0..1600).map(|i| format!("value:{i:06}").into_bytes()).collect();
            items.iter().for_each(|v| l.push(End::Right, v, shape));
            let n = l.node_count();
            let snap = l.clone();
            assert_eq!(shared_nodes(&l, &snap), n);
            let base = snap.unshared_heap_size();
            assert!(base * 5 < snap.heap_size(), "{base} of {}", snap.heap_size());
            l.push(End::Left, b"head", shape);
            l.push(End::Right, b"tail", shape);
            assert!(shared_nodes(&l, &snap) >= n - 2 - 2 * depth, "{depth}: {}", shared_nodes(&l, &snap));
            l.pop(End::Left, shape);
            l.set(800, b"middle", shape);
            assert!(l.insert(b"value:000400", false, b"before", shape));
            assert_eq!(l.remove(b"value:001000", 0, shape), 1);
            assert!(shared_nodes(&l, &snap) >= n - 8 - 4 * depth, "{depth}: {}", shared_nodes(&l, &snap));
            l.trim(10, -10, shape);
            // The nodes the edits copied are the clone's alone now.
            let alone = snap.unshared_heap_size();
            assert!(alone > base && alone < snap.heap_size(), "{depth}: {base} -> {alone}");
            let back: Vec<Vec<u8>> = range(&snap, 0, -1).into_iter().map(Vec::from).collect();
            assert_eq!(back, items, "{depth}: the clone keeps its elements");
            // And the other way round: edits of the clone leave the list.
            let before: Vec<Box<[u8]>> = range(&l, 0, -1);
            let mut other = l.clone();
            other.push(End::Left, b"x", shape);
            other.remove(b"value:000500", 0, shape);
            other.trim(5, -5, shape);
            assert_eq!(range(&l, 0, -1), before);
        }
    }

    fn compressed(l: &List) -> Vec<bool> {
        l.nodes().map(Node::is_compressed).collect()
    }

    /// Every list command's store operation on interior compressed nodes:
    /// the node is unpacked for the edit and compressed again after it,
    /// reads leave nodes compressed, and nodes reaching an end are raw.
    #[test]
    fn edits_on_compressed_interior_nodes() {
        let shape = Shape::new(8, 1);
        let mut l = List::new();
        let mut m: Vec<Vec<u8>> = (0..400).map(|i| format!("value:{i:06}").into_bytes()).collect();
        m.iter().for_each(|v| l.push(End::Right, v, shape));
        let plain = m.iter().fold(List::new(), |mut p, v| {
            p.push(End::Right, v, Shape::new(8, 0));
            p
        });
        let all = |l: &List| compressed(l).iter().filter(|c| **c).count();
        assert_eq!(l.node_count(), 50);
        assert_eq!(all(&l), 48, "every node but the two ends");
        assert!(!compressed(&l)[0] && !compressed(&l)[49]);
        let bytes = |l: &List| l.nodes().map(Node::bytes).sum::<usize>();
        assert!(bytes(&l) * 10 < bytes(&plain) * 6, "{} vs {}", bytes(&l), bytes(&plain));
        assert!(l.heap_size() < plain.heap_size());
        assert_eq!(l, plain);
        assert_eq!(plain, l);
        // Reads go through copies.
        assert_eq!(l.get(200).as_deref(), Some(&m[200][..]));
        assert_eq!(range(&l, 198, 203), m[198..=203].iter().map(|v| v[..].into()).collect::<Vec<Box<[u8]>>>());
        let mut at = None;
        l.scan(true, |i, e| {
            if e == Elem::Bytes(b"value:000123") {
                at = Some(i);
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        });
        assert_eq!(at, Some(123));
        assert_eq!(all(&l), 48);
        // LSET in node 25.
        l.set(201, b"changed", shape);
        m[201] = b"changed".to_vec();
        assert_eq!(all(&l), 48);
        // LINSERT into a full interior node splits it; both halves compressed.
        assert!(l.insert(b"value:000300", false, b"inserted", shape));
        m.insert(300, b"inserted".to_vec());
        assert_eq!((l.node_count(), all(&l)), (51, 49));
        // LREM empties two interior nodes and shrinks a third.
        for v in &m[100..120] {
            if &v[..] != b"value:000105" {
                assert_eq!(l.remove(v, 1, shape), 1);
            }
        }
        let kept: Vec<Vec<u8>> = m.drain(100..120).filter(|v| &v[..] == b"value:000105").collect();
        m.splice(100..100, kept);
        assert_eq!(l.to_vec(), m.iter().map(|v| v[..].into()).collect::<Vec<Box<[u8]>>>());
        check(&l, shape, true);
        // LTRIM and pops bring compressed nodes to the ends: they are unpacked.
        l.trim(4, -4, shape);
        m = m[4..m.len() - 3].to_vec();
        check(&l, shape, true);
        for _ in 0..30 {
            assert_eq!(l.pop(End::Left, shape).as_deref(), Some(&m.remove(0)[..]));
            assert_eq!(l.pop(End::Right, shape), m.pop().map(Vec::into_boxed_slice));
            check(&l, shape, true);
        }
        // Depth 2 keeps two nodes raw at each end (applied when a node is
        // added or removed, as in Redis).
        (0..9).for_each(|_| l.push(End::Left, b"x", Shape::new(8, 2)));
        let c = compressed(&l);
        assert!(!c[0] && !c[1] && !c[c.len() - 2] && !c[c.len() - 1] && c[2], "{c:?}");
        // Depth 0 stops compressing: a node crossing into an end is unpacked
        // only when written, and an edited interior node stays raw.
        let off = Shape::new(8, 0);
        l.set(100, b"raw now", off);
        let k = l.locate(100).unwrap().0;
        assert!(!compressed(&l)[k]);
        assert!(compressed(&l)[k + 1]);
        m.splice(0..0, vec![b"x".to_vec(); 9]);
        m[100] = b"raw now".to_vec();
        while l.len() > 20 {
            assert_eq!(l.pop(End::Right, off), m.pop().map(Vec::into_boxed_slice));
            check(&l, off, false);
        }
        assert_eq!(l.to_vec(), m.iter().map(|v| v[..].into()).collect::<Vec<Box<[u8]>>>());
    }

    #[test]
    fn small_or_incompressible_nodes_stay_raw() {
        // Nodes under 48 bytes.
        let mut l = List::new();
        (0..100).for_each(|i| l.push(End::Right, format!("{}", i % 10 + 10).as_bytes(), Shape::new(8, 1)));
        assert!(l.node_count() > 10 && compressed(&l).iter().all(|c| !c));
        // Random bytes do not shrink by 8 bytes or more.
        let mut l = List::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..100 {
            let v: Vec<u8> = (0..30)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            l.push(End::Right, &v, Shape::new(4, 1));
        }
        assert!(l.node_count() > 10 && compressed(&l).iter().all(|c| !c));
        // Redis's depth limit.
        assert_eq!(Shape::new(0, i64::MAX).depth(), 65535);
        assert_eq!(Shape::new(0, -1).depth(), 0);
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

    fn value() -> impl Strategy<Value = Vec<u8>> + Clone {
        prop_oneof![
            8 => (0u8..4).prop_map(|v| vec![b'a' + v]),
            3 => prop_oneof![any::<i64>(), -70_000i64..70_000, -10i64..70].prop_map(|n| n.to_string().into_bytes()),
            1 => prop::sample::select(vec!["-0", "01", "+1", "1e3", " 1", "99999999999999999999", "-9223372036854775809"])
                .prop_map(|s| s.as_bytes().to_vec()),
            2 => prop::collection::vec(any::<u8>(), 0..300),
            1 => (0usize..20_000).prop_map(|n| vec![b'z'; n]),
        ]
    }

    /// Operations with indexes in `-reach..reach`.
    fn op(value: impl Strategy<Value = Vec<u8>> + Clone, reach: i64) -> impl Strategy<Value = Op> {
        let idx = -reach..reach;
        prop_oneof![
            6 => (any::<bool>(), value.clone()).prop_map(|(l, v)| Op::Push(l, v)),
            2 => any::<bool>().prop_map(Op::Pop),
            1 => idx.clone().prop_map(Op::Get),
            2 => (idx.clone(), value.clone()).prop_map(|(i, v)| Op::Set(i, v)),
            1 => (idx.clone(), idx.clone()).prop_map(|(a, b)| Op::Range(a, b)),
            // Any range, or a few elements off each end.
            1 => prop_oneof![(idx.clone(), idx.clone()), (0i64..5, -5i64..0)].prop_map(|(a, b)| Op::Trim(a, b)),
            2 => (0u8..4, any::<bool>(), value).prop_map(|(p, a, v)| Op::Insert(p, a, v)),
            1 => (0u8..4, -3i64..3).prop_map(|(v, c)| Op::Remove(v, c)),
            1 => (0u8..4, any::<bool>()).prop_map(|(v, t)| Op::Pos(v, t)),
        ]
    }

    fn resolve(i: i64, len: usize) -> Option<usize> {
        let i = if i < 0 { i + len as i64 } else { i };
        (0..len as i64).contains(&i).then_some(i as usize)
    }

    /// The one-byte words of the first model test; `Op`s name words by number.
    fn letter(w: u8) -> Vec<u8> {
        vec![b'a' + w]
    }

    /// Compressible words for the compression tests.
    fn word(w: u8) -> Vec<u8> {
        format!("value:{:06}", w as u32 * 111).into_bytes()
    }

    /// Runs `ops` on a list and on a `VecDeque` model side by side, with
    /// `shape(k)` for the `k`th operation (writes only), checking replies and
    /// the invariants after each; `fixed` when every write had one shape.
    fn run_model(
        shape: impl Fn(usize) -> Shape,
        fixed: bool,
        word: fn(u8) -> Vec<u8>,
        prefill: Vec<Vec<u8>>,
        ops: Vec<Op>,
    ) -> Result<(), TestCaseError> {
        let mut l = List::new();
        let mut m: VecDeque<Vec<u8>> = VecDeque::new();
        for v in prefill {
            l.push(End::Right, &v, shape(0));
            m.push_back(v);
        }
        for (k, op) in ops.into_iter().enumerate() {
            let shape = shape(k);
            match op {
                Op::Push(left, v) => {
                    l.push(if left { End::Left } else { End::Right }, &v, shape);
                    if left { m.push_front(v) } else { m.push_back(v) }
                }
                Op::Pop(left) => {
                    let want = if left { m.pop_front() } else { m.pop_back() };
                    prop_assert_eq!(l.pop(if left { End::Left } else { End::Right }, shape).map(|b| b.to_vec()), want);
                }
                Op::Get(i) => {
                    prop_assert_eq!(l.index(i), resolve(i, m.len()));
                    prop_assert_eq!(
                        l.index(i).and_then(|i| l.get(i)),
                        resolve(i, m.len()).map(|i| m[i].clone().into_boxed_slice())
                    );
                }
                Op::Set(i, v) => {
                    if let Some(i) = resolve(i, m.len()) {
                        l.set(i, &v, shape);
                        m[i] = v;
                    }
                }
                Op::Range(a, b) => {
                    let (s, e) = clamp_range(a, b, m.len());
                    let want: Vec<&[u8]> = m.range(s..e.max(s)).map(|v| &v[..]).collect();
                    prop_assert_eq!(l.range_len(a, b), want.len());
                    let got = range(&l, a, b);
                    prop_assert_eq!(got.iter().map(|b| &b[..]).collect::<Vec<_>>(), want);
                }
                Op::Trim(a, b) => {
                    let (s, e) = clamp_range(a, b, m.len());
                    l.trim(a, b, shape);
                    m = m.range(s..e.max(s)).cloned().collect();
                }
                Op::Insert(p, after, v) => {
                    let pivot = word(p);
                    let pos = m.iter().position(|e| *e == pivot);
                    prop_assert_eq!(l.insert(&pivot, after, &v, shape), pos.is_some());
                    if let Some(pos) = pos {
                        m.insert(pos + after as usize, v);
                    }
                }
                Op::Remove(v, count) => {
                    let val = word(v);
                    let limit = if count == 0 { usize::MAX } else { count.unsigned_abs() as usize };
                    let mut hits: Vec<usize> =
                        m.iter().enumerate().filter(|(_, e)| **e == val).map(|(i, _)| i).collect();
                    if count < 0 {
                        hits.reverse();
                    }
                    hits.truncate(limit);
                    hits.sort_unstable();
                    for &i in hits.iter().rev() {
                        m.remove(i);
                    }
                    prop_assert_eq!(l.remove(&val, count, shape), hits.len());
                }
                Op::Pos(v, tail) => {
                    let val = word(v);
                    let mut got = Vec::new();
                    l.scan(tail, |i, e| {
                        if e == Elem::of(&val) {
                            got.push(i)
                        }
                        ControlFlow::Continue(())
                    });
                    let mut want: Vec<usize> =
                        m.iter().enumerate().filter(|(_, e)| **e == val).map(|(i, _)| i).collect();
                    if tail {
                        want.reverse();
                    }
                    prop_assert_eq!(got, want);
                }
            }
            prop_assert_eq!(l.len(), m.len());
            check(&l, shape, fixed);
        }
        prop_assert_eq!(l.to_vec(), m.iter().map(|v| v.clone().into_boxed_slice()).collect::<Vec<_>>());
        let copy = l.clone();
        prop_assert!(copy == l);
        Ok(())
    }

    fn fills() -> impl Strategy<Value = i64> {
        prop_oneof![Just(-5i64), Just(-1), Just(-2), Just(0), 1i64..6, Just(100), Just(-100), Just(i64::MAX)]
    }

    /// Values for the compression tests: the probe words, other compressible
    /// text, integers, and incompressible bytes.
    fn text() -> impl Strategy<Value = Vec<u8>> + Clone {
        prop_oneof![
            6 => (0u8..4).prop_map(word),
            3 => (0u32..1000).prop_map(|n| format!("value:{n:06}").into_bytes()),
            2 => (1usize..12).prop_map(|n| b"the quick brown fox ".repeat(n)),
            1 => any::<i64>().prop_map(|n| n.to_string().into_bytes()),
            1 => prop::collection::vec(any::<u8>(), 0..80),
            1 => (0usize..3000).prop_map(|n| b"x".repeat(n)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn matches_a_deque_model_with_any_fill(
            fill in fills(),
            depth in prop_oneof![3 => Just(0i64), 1 => 1i64..4],
            prefill in 0usize..400,
            ops in prop::collection::vec(op(value(), 30), 1..120),
        ) {
            let prefill = (0..prefill).map(|i| vec![b'a' + (i % 5) as u8; i % 7]).collect();
            run_model(|_| Shape::new(fill, depth), true, letter, prefill, ops)?;
        }

        /// Depth 1 to 3 over small nodes of compressible values, so most
        /// interior nodes are compressed when LSET, LINSERT, LREM, LTRIM
        /// and the pops reach them.
        #[test]
        fn compressed_nodes_match_a_deque_model(
            fill in prop_oneof![6 => 4i64..12, 1 => Just(-1)],
            depth in 1i64..4,
            prefill in 0usize..800,
            ops in prop::collection::vec(op(text(), 600), 1..150),
        ) {
            let prefill = (0..prefill).map(|i| word((i % 6) as u8)).collect();
            run_model(|_| Shape::new(fill, depth), true, word, prefill, ops)?;
        }

        /// CONFIG SET between writes: each write takes its own fill and
        /// depth, and nodes compressed under one depth are read and edited
        /// under another.
        #[test]
        fn shapes_may_change_between_writes(
            shapes in prop::collection::vec((prop_oneof![2i64..8, Just(-2)], 0i64..4), 1..8),
            prefill in 0usize..800,
            ops in prop::collection::vec(op(text(), 600), 1..150),
        ) {
            let prefill = (0..prefill).map(|i| word((i % 6) as u8)).collect();
            let shape = |k: usize| { let (f, d) = shapes[k % shapes.len()]; Shape::new(f, d) };
            run_model(shape, false, word, prefill, ops)?;
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
                    0 => { l.push(End::Left, &val, Shape::default()); m.insert(0, val); }
                    1 => { l.push(End::Right, &val, Shape::default()); m.push(val); }
                    2 => { prop_assert_eq!(l.pop(End::Left, Shape::default()).map(|b| b.to_vec()), (!m.is_empty()).then(|| m.remove(0))); }
                    3 => { prop_assert_eq!(l.pop(End::Right, Shape::default()).map(|b| b.to_vec()), m.pop()); }
                    4 => {
                        let len = m.len() as i64;
                        let (mut s, mut e) = (if a < 0 { len + a } else { a }, if b < 0 { len + b } else { b });
                        s = s.max(0);
                        let want: Vec<Vec<u8>> = if s > e || s >= len { vec![] } else { e = e.min(len - 1); m[s as usize..=e as usize].to_vec() };
                        let got: Vec<Vec<u8>> = range(&l, a, b).into_iter().map(|x| x.into_vec()).collect();
                        prop_assert_eq!(got, want);
                    }
                    _ => {
                        let n = l.remove(&val, a, Shape::default());
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
