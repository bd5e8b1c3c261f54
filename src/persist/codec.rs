//! The RDB encoding of values (Redis 7.0, RDB version 10): lengths,
//! strings (integer-encoded, LZF-compressed), doubles, and every object
//! type and encoding Redis writes or has written, both ways.
//!
//! This is the one encoder and decoder of values: snapshots, loading at
//! start, DUMP/RESTORE and (later) MIGRATE and replication all go through
//! it. Writing produces exactly the bytes Redis 7.0.15 writes for the same
//! value in the same encoding (small hashes and sorted sets as listpacks,
//! lists as quicklist nodes of listpacks, integer sets as intsets, LZF as
//! liblzf compresses), so a DUMP from ferrokv equals redis-server's.
//! Reading accepts every type Redis ever wrote (ziplists, zipmaps, the
//! linked-list and plain-set types, string-encoded scores, Redis 7.2's
//! listpack sets) and builds the value in the encoding ferrokv's own
//! structures (`store::list`, `hash`, `set`, `zset`) would give it under
//! the configured limits, as Redis converts after loading.
//!
//! Invariants of reading: it never panics and never trusts a length. Every
//! count or size is checked against the bytes that remain before anything
//! is allocated for it, so hostile input costs at most memory proportional
//! to its own size (an LZF string at most 88 times, liblzf's largest
//! expansion); a value is returned whole or not at all. Streams, module
//! values and function libraries are refused with an error naming them.

pub mod functions;
mod intset;
mod listpack;
mod ziplist;
mod zipmap;

use crate::store::Value;
use crate::store::bytes::Bytes;
use crate::store::hash::{self, Hash};
use crate::store::list::{Elem, End, List, Shape};
use crate::store::set::{Member, Set};
use crate::store::stream::{self, Stream, StreamId};
use crate::store::zset::{self, ZSet, cmp_key};
use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// Listpacks, intsets and stream nodes checked deeply, counted where Redis
/// counts `stat_dump_payload_sanitizations` (RESTORE and RDB loads alike,
/// from whichever thread loads): INFO's `dump_payload_sanitizations`, reset
/// by CONFIG RESETSTAT.
pub static SANITIZATIONS: AtomicU64 = AtomicU64::new(0);

/// Counts one deep check, if `deep`.
fn count_sanitization(deep: bool) {
    if deep {
        SANITIZATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

/// The RDB version Redis 7.0 writes (and the newest this reads).
pub const RDB_VERSION: u16 = 10;

// Object types (Redis's `rdb.h`).
pub const RDB_TYPE_STRING: u8 = 0;
pub const RDB_TYPE_LIST: u8 = 1;
pub const RDB_TYPE_SET: u8 = 2;
pub const RDB_TYPE_ZSET: u8 = 3;
pub const RDB_TYPE_HASH: u8 = 4;
pub const RDB_TYPE_ZSET_2: u8 = 5;
pub const RDB_TYPE_MODULE_PRE_GA: u8 = 6;
pub const RDB_TYPE_MODULE_2: u8 = 7;
pub const RDB_TYPE_HASH_ZIPMAP: u8 = 9;
pub const RDB_TYPE_LIST_ZIPLIST: u8 = 10;
pub const RDB_TYPE_SET_INTSET: u8 = 11;
pub const RDB_TYPE_ZSET_ZIPLIST: u8 = 12;
pub const RDB_TYPE_HASH_ZIPLIST: u8 = 13;
pub const RDB_TYPE_LIST_QUICKLIST: u8 = 14;
pub const RDB_TYPE_STREAM_LISTPACKS: u8 = 15;
pub const RDB_TYPE_HASH_LISTPACK: u8 = 16;
pub const RDB_TYPE_ZSET_LISTPACK: u8 = 17;
pub const RDB_TYPE_LIST_QUICKLIST_2: u8 = 18;
pub const RDB_TYPE_STREAM_LISTPACKS_2: u8 = 19;
/// Redis 7.2 (RDB 11) and Valkey: a small set as a listpack.
pub const RDB_TYPE_SET_LISTPACK: u8 = 20;
pub const RDB_TYPE_STREAM_LISTPACKS_3: u8 = 21;

/// Quicklist node containers (`QUICKLIST_NODE_CONTAINER_*`).
const CONTAINER_PLAIN: u64 = 1;
const CONTAINER_PACKED: u64 = 2;
/// Redis's default `packed_threshold`: an element this big gets a plain
/// node of its own instead of a listpack.
const PLAIN_THRESHOLD: usize = 1 << 30;

/// Special length encodings (`RDB_ENC_*`, the low 6 bits of `11xxxxxx`).
const ENC_INT8: u64 = 0;
const ENC_INT16: u64 = 1;
const ENC_INT32: u64 = 2;
const ENC_LZF: u64 = 3;

/// liblzf expands at most 88 times (3 bytes of back reference give 264).
const LZF_MAX_RATIO: u64 = 88;

/// Why a value could not be read. The text says what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The input ended inside the value.
    Truncated(String),
    /// The bytes are not a valid encoding.
    Corrupt(String),
    /// A type ferrokv does not load (streams, modules, functions, ...).
    Unsupported(String),
    /// A valid encoding of an empty value, which Redis never writes: its
    /// file loader skips such keys, RESTORE refuses them.
    Empty(String),
    /// A DUMP payload's footer: an RDB version newer than ours, a checksum
    /// that does not match, or too short to hold the footer.
    Footer(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated(m) => write!(f, "truncated: {m}"),
            Error::Corrupt(m) => write!(f, "corrupt: {m}"),
            Error::Unsupported(m) => write!(f, "unsupported: {m}"),
            Error::Empty(m) => write!(f, "empty value: {m}"),
            Error::Footer(m) => write!(f, "DUMP payload footer: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// The text without its kind when the kind goes without saying (a
    /// corrupt encoding says what is wrong with it), for Redis's
    /// "Internal error in RDB reading offset N -> reason" lines.
    pub fn reason(&self) -> String {
        match self {
            Error::Corrupt(m) => m.clone(),
            e => e.to_string(),
        }
    }
}

fn corrupt(m: impl Into<String>) -> Error {
    Error::Corrupt(m.into())
}

// ---------------------------------------------------------------------------
// CRC-64

/// CRC-64/Redis (Jones polynomial, reflected, no final xor, as Redis's
/// `crc64.c`), computed by the `crc-fast` crate: it folds with the CPU's
/// carry-less multiply (PCLMULQDQ / PMULL) for any CRC-64 given its
/// parameters, with a table fallback, and is what the AWS SDK checksums
/// with. Loading a 38 MB file spent 9% of its instructions in the
/// `crc` crate's slice-by-16 tables; this is about 5x faster.
fn crc64_params() -> crc_fast::CrcParams {
    static PARAMS: std::sync::OnceLock<crc_fast::CrcParams> = std::sync::OnceLock::new();
    *PARAMS.get_or_init(|| {
        crc_fast::CrcParams::new("CRC-64/REDIS", 64, 0xad93d23594c935a9, 0, true, 0, 0xe9c6d914c4b8d9ca)
    })
}

/// The CRC-64 of `data` continuing from `crc` (0 to start), as Redis's
/// `crc64(crc, data, len)`: `crc64(crc64(0, a), b) == crc64(0, ab)`.
/// With no final xor, the CRC so far is the running state itself, so it
/// continues as the initial state of the next part: no
/// `checksum_combine` (a GF(2) matrix power per call, which took 78% of a
/// BGREWRITEAOF's instructions when the snapshot writer continued the CRC
/// chunk by chunk).
pub fn crc64(crc: u64, data: &[u8]) -> u64 {
    let mut p = crc64_params();
    p.init_algorithm = crc;
    crc_fast::checksum_with_params(p, data)
}

// ---------------------------------------------------------------------------
// Writing primitives

/// `rdbSaveLen`: 6 bits, 14 bits, `0x80` + `u32` BE, or `0x81` + `u64` BE.
pub fn write_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]);
    } else if n <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// `rdbSaveRawString`: a string of up to 11 bytes that is the canonical
/// text of an `i32` as an 8, 16 or 32-bit integer; with `compress`
/// (`rdbcompression`) a string over 20 bytes as LZF when that saves at
/// least 4 bytes; else the length and the bytes.
pub fn write_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= 11
        && let Some(n) = crate::resp::parse::parse_i64(s)
        && write_int_encoded(out, n)
    {
        return;
    }
    if compress
        && s.len() > 20
        && let Some(packed) = crate::lzf::compress_exact(s, s.len() - 4)
    {
        out.push(0xC0 | ENC_LZF as u8);
        write_len(out, packed.len() as u64);
        write_len(out, s.len() as u64);
        out.extend_from_slice(&packed);
        return;
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// `rdbEncodeInteger`: `n` in the smallest of the 8/16/32-bit encodings,
/// or false if it needs more.
fn write_int_encoded(out: &mut Vec<u8>, n: i64) -> bool {
    if let Ok(v) = i8::try_from(n) {
        out.extend_from_slice(&[0xC0 | ENC_INT8 as u8, v as u8]);
    } else if let Ok(v) = i16::try_from(n) {
        out.push(0xC0 | ENC_INT16 as u8);
        out.extend_from_slice(&v.to_le_bytes());
    } else if let Ok(v) = i32::try_from(n) {
        out.push(0xC0 | ENC_INT32 as u8);
        out.extend_from_slice(&v.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// `rdbSaveMillisecondTime`: 8 bytes LE.
pub fn write_millis(out: &mut Vec<u8>, ms: i64) {
    out.extend_from_slice(&ms.to_le_bytes());
}

/// `rdbSaveBinaryDoubleValue`: the IEEE 754 bits, LE.
pub fn write_double_binary(out: &mut Vec<u8>, d: f64) {
    out.extend_from_slice(&d.to_le_bytes());
}

// ---------------------------------------------------------------------------
// Writing values

/// The RDB type Redis 7.0 writes for the value's encoding: hashes and
/// sorted sets by encoding (listpack or not), sets as intsets or plain,
/// every list as a quicklist of listpacks (Redis 7.0 has no listpack sets).
pub fn object_type(v: &Value) -> u8 {
    match v {
        Value::Str(_) => RDB_TYPE_STRING,
        Value::List(_) => RDB_TYPE_LIST_QUICKLIST_2,
        Value::Set(s) if s.encoding() == "intset" => RDB_TYPE_SET_INTSET,
        Value::Set(_) => RDB_TYPE_SET,
        Value::ZSet(z) if zset_as_listpack(z) => RDB_TYPE_ZSET_LISTPACK,
        Value::ZSet(_) => RDB_TYPE_ZSET_2,
        Value::Hash(h) if h.encoding() == "listpack" => RDB_TYPE_HASH_LISTPACK,
        Value::Hash(_) => RDB_TYPE_HASH,
        Value::Stream(_) => RDB_TYPE_STREAM_LISTPACKS_2,
    }
}

/// A listpack-encoded sorted set is written as one (its Redis listpack
/// then stays far below the 4 GiB a listpack header can count: ferrokv's
/// own packing is at least as compact, and 1 GiB is Redis's safety limit).
fn zset_as_listpack(z: &ZSet) -> bool {
    z.is_listpack() && z.heap_size() < 1 << 30
}

/// The value's body, without the type byte, exactly as Redis 7.0 writes
/// the encoding [`object_type`] names. `compress` is `rdbcompression`.
pub fn write_object(out: &mut Vec<u8>, v: &Value, compress: bool) {
    if let Some(units) = parts(v) {
        write_len(out, units as u64);
        write_parts(out, v, 0, units, compress);
        return;
    }
    match v {
        Value::Str(s) => write_string(out, s, compress),
        Value::Set(s) => {
            let values: Vec<i64> =
                s.iter().filter_map(|m| if let Member::Int(n) = m { Some(n) } else { None }).collect();
            write_string(out, &intset::write(&values), compress);
        }
        Value::ZSet(z) => {
            let mut lp = listpack::Writer::new();
            for (m, score) in z.iter() {
                lp.push_str(m);
                push_score(&mut lp, score);
            }
            write_string(out, &lp.finish(), compress);
        }
        Value::Hash(h) => {
            let mut lp = listpack::Writer::new();
            for (f, val) in h.iter() {
                lp.push_str(f);
                lp.push_str(val);
            }
            write_string(out, &lp.finish(), compress);
        }
        Value::Stream(st) => write_stream(out, st, compress),
        Value::List(_) => unreachable!("a list is saved in parts"),
    }
}

/// How many parts a value's object is written as when it is a counted
/// sequence (its count first, then each part on its own): a list's
/// quicklist nodes, a hashtable set's members, a skiplist sorted set's
/// members, a hashtable hash's pairs. `None` for the values written as one
/// blob (strings, intsets, listpacks) or by their own layout (streams).
/// A snapshot writes a big value's parts over several turns of the loop
/// ([`write_parts`]), with the same bytes as [`write_object`].
pub fn parts(v: &Value) -> Option<usize> {
    match v {
        Value::List(l) => Some(l.nodes_in_use()),
        Value::Set(s) if s.encoding() != "intset" => Some(s.len()),
        Value::ZSet(z) if !zset_as_listpack(z) => Some(z.len()),
        Value::Hash(h) if h.encoding() != "listpack" => Some(h.len()),
        _ => None,
    }
}

/// Writes parts `from..from + n` of a value [`parts`] counts (clamped to
/// its count); what follows its count in [`write_object`].
pub fn write_parts(out: &mut Vec<u8>, v: &Value, from: usize, n: usize, compress: bool) {
    match v {
        Value::List(l) => write_list_nodes(out, l, from, n, compress),
        Value::Set(s) => {
            for m in s.iter().skip(from).take(n) {
                m.with_bytes(|b| write_string(out, b, compress));
            }
        }
        Value::ZSet(z) => {
            // From the greatest to the smallest, as Redis walks its
            // skiplist backwards (each load then inserts at the head).
            for (m, score) in z.range(0, z.len().saturating_sub(from), true).take(n) {
                write_string(out, m, compress);
                write_double_binary(out, score);
            }
        }
        Value::Hash(h) => {
            for (f, val) in h.iter().skip(from).take(n) {
                write_string(out, f, compress);
                write_string(out, val, compress);
            }
        }
        Value::Str(_) | Value::Stream(_) => {}
    }
}

/// `RDB_TYPE_STREAM_LISTPACKS_2` as Redis 7.0 writes it: the nodes (key,
/// listpack), the length, last id, first id, max deleted id, entries
/// added, then each group (name, last id, entries read, PEL with delivery
/// time and count, consumers with seen time and their PEL ids).
fn write_stream(out: &mut Vec<u8>, st: &Stream, compress: bool) {
    write_len(out, st.nodes.len() as u64);
    for (mid, lp) in &st.nodes {
        write_string(out, &mid.to_be_bytes(), compress);
        write_string(out, lp, compress);
    }
    write_len(out, st.length);
    for id in [st.last_id, st.first_id, st.max_deleted] {
        write_len(out, id.ms);
        write_len(out, id.seq);
    }
    write_len(out, st.entries_added);
    write_len(out, st.groups.len() as u64);
    for (name, g) in &st.groups {
        write_string(out, name, compress);
        write_len(out, g.last_id.ms);
        write_len(out, g.last_id.seq);
        write_len(out, g.entries_read as u64);
        write_len(out, g.pel.len() as u64);
        for (id, nack) in &g.pel {
            out.extend_from_slice(&id.to_be_bytes());
            write_millis(out, nack.delivery_time);
            write_len(out, nack.delivery_count);
        }
        write_len(out, g.consumers.len() as u64);
        for (cname, c) in &g.consumers {
            write_string(out, cname, compress);
            write_millis(out, c.seen_time);
            write_len(out, c.pel.len() as u64);
            for id in &c.pel {
                out.extend_from_slice(&id.to_be_bytes());
            }
        }
    }
}

/// Reads `RDB_TYPE_STREAM_LISTPACKS` (15), `_2` (19, Redis 7.0) and `_3`
/// (21, Redis 7.2 / Valkey: consumers also carry an active time). Every
/// node is checked deeply (ferrokv walks the nodes without further
/// checks), and the groups' PELs must agree with their consumers'.
fn read_stream(r: &mut Reader, rdb_type: u8, deep: bool) -> Result<Value, Error> {
    let mut st = Stream::new();
    let nodes = r.read_count()?;
    for _ in 0..nodes {
        let key = r.read_string()?;
        let mid = (key.len() == 16).then(|| StreamId::from_be_bytes(&key)).flatten();
        let mid = mid.ok_or_else(|| corrupt("Stream node key entry is not the size of a stream ID"))?;
        let lp = r.read_string()?.into_owned();
        count_sanitization(deep);
        if stream::lp::first(&lp).is_none() && stream::lp::validate(&lp).is_some() {
            return Err(corrupt("Empty listpack inside stream"));
        }
        stream::validate_node(&lp, mid).ok_or_else(|| corrupt("Stream listpack integrity check failed."))?;
        if st.nodes.last_key_value().is_some_and(|(k, _)| *k >= mid) {
            return Err(corrupt("stream node keys out of order"));
        }
        st.nodes.insert(mid, lp);
    }
    st.length = r.read_len()?;
    st.last_id = StreamId::new(r.read_len()?, r.read_len()?);
    if rdb_type >= RDB_TYPE_STREAM_LISTPACKS_2 {
        st.first_id = StreamId::new(r.read_len()?, r.read_len()?);
        st.max_deleted = StreamId::new(r.read_len()?, r.read_len()?);
        st.entries_added = r.read_len()?;
    } else {
        // Redis's defaults for an old stream: the first id from the
        // entries, entries_added as its length.
        st.entries_added = st.length;
        st.first_id = st.edge_id(true, true).unwrap_or(StreamId::MIN);
    }
    let live: u64 = st.nodes.values().map(|lp| stream::lp::get_int(lp, stream::lp::HDR) as u64).sum();
    if live != st.length {
        return Err(corrupt("stream length does not match its entries"));
    }
    if st.last_valid_id().is_some_and(|id| id > st.last_id) {
        return Err(corrupt("stream entry id above the last id"));
    }
    let groups = r.read_count()?;
    for _ in 0..groups {
        let name = Bytes::from(&*r.read_string()?);
        if st.groups.contains_key(&name) {
            return Err(corrupt(format!("Duplicated consumer group name {}", String::from_utf8_lossy(&name))));
        }
        let last = StreamId::new(r.read_len()?, r.read_len()?);
        let entries_read =
            if rdb_type >= RDB_TYPE_STREAM_LISTPACKS_2 { r.read_len()? as i64 } else { st.estimate_distance(last) };
        let mut g = stream::Group::new(last, entries_read);
        let pel = r.read_count()?;
        for _ in 0..pel {
            let id = StreamId::from_be_bytes(r.read_bytes(16)?).unwrap_or_default();
            let delivery_time = r.read_millis()?;
            let delivery_count = r.read_len()?;
            let nack = stream::Nack { delivery_time, delivery_count, consumer: Bytes::default() };
            if g.pel.insert(id, nack).is_some() {
                return Err(corrupt("Duplicated global PEL entry loading stream consumer group"));
            }
        }
        let consumers = r.read_count()?;
        for _ in 0..consumers {
            let cname = Bytes::from(&*r.read_string()?);
            if g.consumers.contains_key(&cname) {
                return Err(corrupt("Duplicate stream consumer detected."));
            }
            let seen_time = r.read_millis()?;
            if rdb_type >= RDB_TYPE_STREAM_LISTPACKS_3 {
                r.read_millis()?; // active time (Redis 7.2)
            }
            let mut c = stream::Consumer { seen_time, pel: Default::default() };
            let n = r.read_count()?;
            for _ in 0..n {
                let id = StreamId::from_be_bytes(r.read_bytes(16)?).unwrap_or_default();
                let nack = g.pel.get_mut(&id).ok_or_else(|| corrupt("Consumer entry not found in group global PEL"))?;
                if !nack.consumer.is_empty() || !c.pel.insert(id) {
                    return Err(corrupt("Duplicated consumer PEL entry loading a stream consumer group"));
                }
                nack.consumer = cname.clone();
            }
            g.consumers.insert(cname, c);
        }
        if g.pel.values().any(|n| n.consumer.is_empty()) {
            return Err(corrupt("Stream CG PEL entry without consumer"));
        }
        st.groups.insert(name, g);
    }
    Ok(Value::Stream(Box::new(st)))
}

/// A quicklist's nodes `from..from + n` (its node count goes first, see
/// [`write_object`]): per node its container and blob (a listpack, or the
/// bare element for a node Redis would keep plain).
fn write_list_nodes(out: &mut Vec<u8>, l: &List, from: usize, n: usize, compress: bool) {
    // One listpack buffer for every node (a big list has thousands).
    let mut lp = listpack::Writer::new();
    l.for_each_node_in(from, n, |node| {
        if node.len() == 1
            && let Some(Elem::Bytes(b)) = node.clone().next()
            && b.len() >= PLAIN_THRESHOLD
        {
            write_len(out, CONTAINER_PLAIN);
            write_string(out, b, compress);
            return;
        }
        write_len(out, CONTAINER_PACKED);
        // ferrokv stores an element as Redis's listpack does (canonical
        // integer text as the integer), so each goes in as it is.
        lp.clear();
        node.for_each(|e| lp.push(e));
        write_string(out, lp.sealed(), compress);
    });
}

/// A sorted-set score in a listpack as Redis 7.0's `zzlInsertAt` writes
/// it: an integral score within ±2^62 as an integer (`double2ll`; so -0
/// becomes 0), anything else as `d2string`'s text (`%.17g`, `inf`, `-inf`).
fn push_score(lp: &mut listpack::Writer, score: f64) {
    const LIM: f64 = (i64::MAX / 2) as f64;
    if (-LIM..=LIM).contains(&score) && score == (score as i64) as f64 {
        lp.push(Elem::Int(score as i64));
    } else {
        lp.push_str(crate::resp::reply::format_double(score).as_bytes());
    }
}

// ---------------------------------------------------------------------------
// Reading primitives

/// A cursor over RDB bytes. Every read checks what remains first.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    pub data: &'a [u8],
    pub pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// The next `n` bytes.
    pub fn read_bytes(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if n > self.remaining() {
            return Err(Error::Truncated(format!(
                "{n} bytes wanted at offset {}, {} left",
                self.pos,
                self.remaining()
            )));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.read_bytes(N)?);
        Ok(a)
    }

    pub fn read_u8(&mut self) -> Result<u8, Error> {
        Ok(self.array::<1>()?[0])
    }

    pub fn read_u32_le(&mut self) -> Result<u32, Error> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn read_u32_be(&mut self) -> Result<u32, Error> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub fn read_u64_le(&mut self) -> Result<u64, Error> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub fn read_u64_be(&mut self) -> Result<u64, Error> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// `rdbLoadTime` (the old `EXPIRETIME` opcode): seconds, `i32` LE.
    pub fn read_seconds(&mut self) -> Result<i32, Error> {
        Ok(i32::from_le_bytes(self.array()?))
    }

    /// `rdbLoadMillisecondTime` (RDB 9 and later): ms, `i64` LE.
    pub fn read_millis(&mut self) -> Result<i64, Error> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// `rdbLoadBinaryDoubleValue`.
    pub fn read_double_binary(&mut self) -> Result<f64, Error> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// `rdbLoadBinaryFloatValue` (module values).
    pub fn read_float_binary(&mut self) -> Result<f32, Error> {
        Ok(f32::from_le_bytes(self.array()?))
    }

    /// `rdbLoadDoubleValue` (`RDB_TYPE_ZSET`): a length byte (253 NaN, 254
    /// +inf, 255 -inf) then the number as text.
    pub fn read_double_string(&mut self) -> Result<f64, Error> {
        match self.read_u8()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let at = self.pos;
                let text = self.read_bytes(n as usize)?;
                parse_double(text)
                    .ok_or_else(|| corrupt(format!("score {:?} at offset {at}", String::from_utf8_lossy(text))))
            }
        }
    }

    /// `rdbLoadLen` with its encoded flag: `(value, encoded)`, where an
    /// encoded value is an `RDB_ENC_*` kind.
    pub fn read_len_or_encoding(&mut self) -> Result<(u64, bool), Error> {
        let at = self.pos;
        let b = self.read_u8()?;
        Ok(match b >> 6 {
            0 => ((b & 0x3f) as u64, false),
            1 => ((((b & 0x3f) as u64) << 8) | self.read_u8()? as u64, false),
            3 => ((b & 0x3f) as u64, true),
            _ => match b {
                0x80 => (self.read_u32_be()? as u64, false),
                0x81 => (self.read_u64_be()?, false),
                _ => return Err(corrupt(format!("unknown length encoding {b:#04x} at offset {at}"))),
            },
        })
    }

    /// A plain length (an encoded one is corruption here).
    pub fn read_len(&mut self) -> Result<u64, Error> {
        let at = self.pos;
        match self.read_len_or_encoding()? {
            (n, false) => Ok(n),
            (_, true) => Err(corrupt(format!("encoded value where a length belongs, at offset {at}"))),
        }
    }

    /// A count of items that take at least one byte each: refused when
    /// more than the bytes left could hold, so it can size allocations.
    pub fn read_count(&mut self) -> Result<usize, Error> {
        let at = self.pos;
        let n = self.read_len()?;
        match usize::try_from(n) {
            Ok(n) if n <= self.remaining() => Ok(n),
            _ => Err(Error::Truncated(format!("count {n} at offset {at}, {} bytes left", self.remaining()))),
        }
    }

    /// `rdbGenericLoadStringObject`: raw bytes (borrowed), an integer
    /// encoding (as its decimal text) or an LZF string (decompressed).
    pub fn read_string(&mut self) -> Result<Cow<'a, [u8]>, Error> {
        let at = self.pos;
        let (n, encoded) = self.read_len_or_encoding()?;
        if !encoded {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            return Ok(Cow::Borrowed(self.read_bytes(n)?));
        }
        let int = match n {
            ENC_INT8 => self.array::<1>()?[0] as i8 as i64,
            ENC_INT16 => i16::from_le_bytes(self.array()?) as i64,
            ENC_INT32 => i32::from_le_bytes(self.array()?) as i64,
            ENC_LZF => return self.read_lzf(at).map(Cow::Owned),
            _ => return Err(corrupt(format!("unknown string encoding {n} at offset {at}"))),
        };
        Ok(Cow::Owned(itoa::Buffer::new().format(int).as_bytes().to_vec()))
    }

    /// An LZF string after its encoding byte: compressed length, length,
    /// compressed bytes.
    fn read_lzf(&mut self, at: usize) -> Result<Vec<u8>, Error> {
        let clen = self.read_len()?;
        let len = self.read_len()?;
        let clen_usize = usize::try_from(clen).unwrap_or(usize::MAX);
        let packed = self.read_bytes(clen_usize)?;
        if len > clen.saturating_mul(LZF_MAX_RATIO) {
            return Err(corrupt(format!("LZF string of {clen} bytes claims {len} at offset {at}")));
        }
        let mut out = vec![0u8; len as usize];
        match crate::lzf::decompress(packed, &mut out) {
            Some(n) if n == out.len() => Ok(out),
            _ => Err(corrupt(format!("invalid LZF string at offset {at}"))),
        }
    }
}

/// A score written as text (`sscanf("%lg")` / `strtod` in Redis): C's
/// forms, `inf`/`nan` spellings included.
fn parse_double(text: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(text).ok()?.trim();
    s.parse::<f64>().ok()
}

/// A score from a ziplist or listpack entry (`zzlGetScore`).
fn elem_score(e: Elem) -> Result<f64, Error> {
    match e {
        Elem::Int(n) => Ok(n as f64),
        Elem::Bytes(b) => parse_double(b).ok_or_else(|| corrupt(format!("score {:?}", String::from_utf8_lossy(b)))),
    }
}

/// `f` of an element's text, an integer formatted on the stack.
fn with_elem_bytes<T>(e: Elem<'_>, f: impl FnOnce(&[u8]) -> T) -> T {
    match e {
        Elem::Bytes(b) => f(b),
        Elem::Int(n) => f(itoa::Buffer::new().format(n).as_bytes()),
    }
}

fn elem_bytes(e: Elem<'_>) -> Cow<'_, [u8]> {
    match e {
        Elem::Bytes(b) => Cow::Borrowed(b),
        Elem::Int(n) => Cow::Owned(itoa::Buffer::new().format(n).as_bytes().to_vec()),
    }
}

// ---------------------------------------------------------------------------
// Reading values

/// The limits that decide a loaded value's encoding: the config's
/// `*-max-listpack-*`, `set-max-intset-entries`, `list-max-listpack-size` and `list-compress-depth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub hash: hash::Limits,
    pub zset: zset::Limits,
    pub set_max_intset_entries: usize,
    pub list_shape: Shape,
}

impl Default for Limits {
    /// Redis's defaults.
    fn default() -> Limits {
        Limits {
            hash: hash::Limits::default(),
            zset: zset::Limits { entries: 128, value: 64 },
            set_max_intset_entries: 512,
            list_shape: Shape::default(),
        }
    }
}

impl Limits {
    pub fn from_config(c: &crate::config::Config) -> Limits {
        Limits {
            hash: hash::Limits { entries: c.hash_max_listpack_entries, value: c.hash_max_listpack_value },
            zset: zset::Limits { entries: c.zset_max_listpack_entries, value: c.zset_max_listpack_value },
            set_max_intset_entries: c.set_max_intset_entries,
            list_shape: Shape::new(c.list_max_listpack_size, c.list_compress_depth),
        }
    }
}

/// The name of an RDB object type, for messages.
pub fn type_name(t: u8) -> &'static str {
    match t {
        RDB_TYPE_STRING => "string",
        RDB_TYPE_LIST => "list (linked list)",
        RDB_TYPE_SET => "set",
        RDB_TYPE_ZSET => "zset (text scores)",
        RDB_TYPE_HASH => "hash",
        RDB_TYPE_ZSET_2 => "zset",
        RDB_TYPE_MODULE_PRE_GA => "module value (pre-GA)",
        RDB_TYPE_MODULE_2 => "module value",
        RDB_TYPE_HASH_ZIPMAP => "hash (zipmap)",
        RDB_TYPE_LIST_ZIPLIST => "list (ziplist)",
        RDB_TYPE_SET_INTSET => "set (intset)",
        RDB_TYPE_ZSET_ZIPLIST => "zset (ziplist)",
        RDB_TYPE_HASH_ZIPLIST => "hash (ziplist)",
        RDB_TYPE_LIST_QUICKLIST => "list (quicklist of ziplists)",
        RDB_TYPE_STREAM_LISTPACKS | RDB_TYPE_STREAM_LISTPACKS_2 | RDB_TYPE_STREAM_LISTPACKS_3 => "stream",
        RDB_TYPE_HASH_LISTPACK => "hash (listpack)",
        RDB_TYPE_ZSET_LISTPACK => "zset (listpack)",
        RDB_TYPE_LIST_QUICKLIST_2 => "list (quicklist)",
        RDB_TYPE_SET_LISTPACK => "set (listpack)",
        22..=25 => "hash with field expiration (Redis 7.4)",
        245 | 246 => "function library",
        _ => "unknown type",
    }
}

/// Reads a value of RDB type `rdb_type` (its type byte already read) and
/// builds it in the encoding ferrokv gives such a value under `limits`.
/// With `deep` (`sanitize-dump-payload`), listpacks and intsets get
/// Redis's deep checks too (entry back-lengths, header counts, intset
/// order); ziplists and zipmaps always get them, as in Redis. Duplicate
/// members or fields are refused whatever `deep` says: ferrokv's
/// structures cannot hold them (Redis without sanitizing would keep a
/// broken value).
pub fn read_object(r: &mut Reader, rdb_type: u8, limits: &Limits, deep: bool) -> Result<Value, Error> {
    let start = r.pos;
    let v = match rdb_type {
        RDB_TYPE_STRING => Value::Str(Bytes::from(r.read_string()?.into_owned())),
        RDB_TYPE_LIST => read_linked_list(r, limits)?,
        RDB_TYPE_LIST_ZIPLIST => {
            let blob = r.read_string()?;
            let mut l = List::new();
            ziplist::read(&blob, |e| {
                l.push(End::Right, &elem_bytes(e), limits.list_shape);
                Ok(())
            })
            .map_err(integrity("List ziplist"))?;
            Value::List(l)
        }
        RDB_TYPE_LIST_QUICKLIST | RDB_TYPE_LIST_QUICKLIST_2 => read_quicklist(r, rdb_type, deep)?,
        RDB_TYPE_SET => read_plain_set(r, limits)?,
        RDB_TYPE_SET_INTSET => {
            let blob = r.read_string()?;
            let mut s = Set::new();
            intset::read(&blob, deep, |n| {
                s.add(Member::Int(n), limits.set_max_intset_entries);
                Ok(())
            })
            .map_err(integrity("Intset"))?;
            Value::Set(Box::new(s))
        }
        RDB_TYPE_SET_LISTPACK => {
            let blob = r.read_string()?;
            let mut s = Set::new();
            listpack::read(&blob, deep, |e| {
                let added = match e {
                    Elem::Int(n) => s.add(Member::Int(n), limits.set_max_intset_entries),
                    Elem::Bytes(b) => s.add(Member::parse(b), limits.set_max_intset_entries),
                };
                if added { Ok(()) } else { Err(corrupt("duplicate set member")) }
            })
            .map_err(integrity("Set listpack"))?;
            Value::Set(Box::new(s))
        }
        RDB_TYPE_ZSET | RDB_TYPE_ZSET_2 => read_plain_zset(r, rdb_type, limits)?,
        RDB_TYPE_ZSET_ZIPLIST | RDB_TYPE_ZSET_LISTPACK => {
            let blob = r.read_string()?;
            let what = if rdb_type == RDB_TYPE_ZSET_ZIPLIST { "Zset ziplist" } else { "Zset listpack" };
            zset_blob(&blob, rdb_type, deep, limits).map_err(integrity(what))?
        }
        RDB_TYPE_HASH => read_plain_hash(r, limits)?,
        RDB_TYPE_HASH_ZIPMAP => {
            let blob = r.read_string()?;
            let mut h = Hash::new();
            zipmap::read(&blob, |f, v| insert_new(&mut h, f, v, limits.hash)).map_err(integrity("Zipmap"))?;
            Value::Hash(Box::new(h))
        }
        RDB_TYPE_HASH_ZIPLIST | RDB_TYPE_HASH_LISTPACK => {
            let blob = r.read_string()?;
            let what = if rdb_type == RDB_TYPE_HASH_ZIPLIST { "Hash ziplist" } else { "Hash listpack" };
            hash_blob(&blob, rdb_type, deep, limits).map_err(integrity(what))?
        }
        RDB_TYPE_STREAM_LISTPACKS | RDB_TYPE_STREAM_LISTPACKS_2 | RDB_TYPE_STREAM_LISTPACKS_3 => {
            // An empty stream is a valid value (XGROUP CREATE MKSTREAM).
            return read_stream(r, rdb_type, deep);
        }
        t => {
            let what = type_name(t);
            return Err(match t {
                RDB_TYPE_MODULE_PRE_GA | RDB_TYPE_MODULE_2 | 22..=25 | 245 | 246 => {
                    Error::Unsupported(format!("RDB type {t} ({what}) is not supported by ferrokv"))
                }
                _ => corrupt(format!("unknown RDB object type {t}")),
            });
        }
    };
    let empty = match &v {
        Value::Str(_) => false,
        Value::List(l) => l.is_empty(),
        Value::Set(s) => s.is_empty(),
        Value::ZSet(z) => z.is_empty(),
        Value::Hash(h) => h.is_empty(),
        Value::Stream(_) => false,
    };
    if empty {
        return Err(Error::Empty(format!("{} at offset {start}", type_name(rdb_type))));
    }
    Ok(v)
}

/// A bad encoded blob in Redis's words (rdb.c's reasons, "Hash ziplist
/// integrity check failed." and the like, which logs and tests look
/// for), then what exactly was wrong.
fn integrity(what: &'static str) -> impl FnOnce(Error) -> Error {
    move |e| corrupt(format!("{what} integrity check failed. ({})", e.reason()))
}

/// A sorted set's ziplist or listpack: member and score pairs.
fn zset_blob(blob: &[u8], rdb_type: u8, deep: bool, limits: &Limits) -> Result<Value, Error> {
    let mut items: Vec<(Cow<[u8]>, f64)> = Vec::new();
    let mut member: Option<Elem> = None;
    let each = |e| {
        match member.take() {
            None => member = Some(e),
            Some(m) => items.push((elem_bytes(m), elem_score(e)?)),
        }
        Ok(())
    };
    if rdb_type == RDB_TYPE_ZSET_ZIPLIST {
        ziplist::read(blob, each)?
    } else {
        listpack::read(blob, deep, each)?
    };
    if member.is_some() {
        return Err(corrupt("sorted set with a member and no score"));
    }
    // Redis converts a loaded ziplist or listpack by count only.
    let lim = zset::Limits { entries: limits.zset.entries, value: usize::MAX };
    Ok(Value::ZSet(Box::new(zset_from(items, lim)?)))
}

/// A hash's ziplist or listpack: field and value pairs.
fn hash_blob(blob: &[u8], rdb_type: u8, deep: bool, limits: &Limits) -> Result<Value, Error> {
    // Converted by count only, as Redis does after loading one.
    let lim = hash::Limits { entries: limits.hash.entries, value: usize::MAX };
    let mut h = hash::Builder::new(blob.len(), lim);
    let mut field: Option<Elem> = None;
    let each = |e| match field.take() {
        None => {
            field = Some(e);
            Ok(())
        }
        Some(f) => with_elem_bytes(f, |f| {
            with_elem_bytes(e, |v| {
                if h.add(f, v) {
                    Ok(())
                } else {
                    Err(corrupt(format!("duplicate hash field {:?}", String::from_utf8_lossy(f))))
                }
            })
        }),
    };
    if rdb_type == RDB_TYPE_HASH_ZIPLIST {
        ziplist::read(blob, each)?
    } else {
        listpack::read(blob, deep, each)?
    };
    if field.is_some() {
        return Err(corrupt("hash with a field and no value"));
    }
    Ok(Value::Hash(Box::new(h.finish())))
}

/// `RDB_TYPE_LIST`: a count, then each element as a string.
fn read_linked_list(r: &mut Reader, limits: &Limits) -> Result<Value, Error> {
    let n = r.read_count()?;
    let mut l = List::new();
    for _ in 0..n {
        l.push(End::Right, &r.read_string()?, limits.list_shape);
    }
    Ok(Value::List(l))
}

/// `RDB_TYPE_LIST_QUICKLIST` (ziplist nodes) and `_2` (a container, then a
/// listpack or, for a plain node, the element). Node boundaries are kept;
/// empty nodes are skipped, as Redis does.
fn read_quicklist(r: &mut Reader, rdb_type: u8, deep: bool) -> Result<Value, Error> {
    let n = r.read_count()?;
    let mut l = List::new();
    for _ in 0..n {
        let container = if rdb_type == RDB_TYPE_LIST_QUICKLIST_2 { r.read_len()? } else { CONTAINER_PACKED };
        if container != CONTAINER_PACKED && container != CONTAINER_PLAIN {
            return Err(corrupt(format!("Quicklist integrity check failed. (node container {container})")));
        }
        let blob = r.read_string()?;
        if blob.is_empty() {
            return Err(corrupt("empty quicklist node"));
        }
        if container == CONTAINER_PLAIN {
            // Stored as ferrokv stores any element: canonical integer text
            // as the integer (found by the fuzzer: `33` kept as bytes made
            // a list unequal to its own DUMP).
            l.push_node(&[Elem::of(&blob)]);
            continue;
        }
        // Each entry takes two bytes or more: room for all, up to a point.
        let mut elems: Vec<Elem> = Vec::with_capacity((blob.len() / 2).min(512));
        let each = |e| {
            // Stored as ferrokv's list stores the text (a ziplist may hold
            // integer text as a string).
            elems.push(match e {
                Elem::Bytes(b) => Elem::of(b),
                int => int,
            });
            Ok(())
        };
        if rdb_type == RDB_TYPE_LIST_QUICKLIST {
            ziplist::read(&blob, each).map_err(integrity("Ziplist"))?
        } else {
            listpack::read(&blob, deep, each).map_err(integrity("Listpack"))?
        };
        l.push_node(&elems);
    }
    Ok(Value::List(l))
}

/// `RDB_TYPE_SET`: a count, then each member as a string.
fn read_plain_set(r: &mut Reader, limits: &Limits) -> Result<Value, Error> {
    let n = r.read_count()?;
    let mut s = Set::new();
    for _ in 0..n {
        let m = r.read_string()?;
        if !s.add(Member::parse(&m), limits.set_max_intset_entries) {
            return Err(corrupt(format!("duplicate set member {:?}", String::from_utf8_lossy(&m))));
        }
    }
    Ok(Value::Set(Box::new(s)))
}

/// `RDB_TYPE_ZSET` (text scores) and `_2` (binary): a count, then member
/// and score pairs; a listpack if the count and longest member allow, as
/// Redis converts after loading.
fn read_plain_zset(r: &mut Reader, rdb_type: u8, limits: &Limits) -> Result<Value, Error> {
    let n = r.read_count()?;
    let mut items = Vec::with_capacity(n.min(r.remaining() / 2));
    for _ in 0..n {
        let m = Bytes::from(r.read_string()?.into_owned());
        let score = if rdb_type == RDB_TYPE_ZSET_2 { r.read_double_binary()? } else { r.read_double_string()? };
        items.push((m, score));
    }
    Ok(Value::ZSet(Box::new(zset_from(items, limits.zset)?)))
}

/// A sorted set of `items` (any order): refused with a NaN score or a
/// member twice.
fn zset_from<M: AsRef<[u8]> + Into<Bytes>>(mut items: Vec<(M, f64)>, lim: zset::Limits) -> Result<ZSet, Error> {
    if items.iter().any(|(_, s)| s.is_nan()) {
        return Err(corrupt("sorted set with a NaN score"));
    }
    items.sort_unstable_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
    if let Some(w) = items.windows(2).find(|w| w[0].0.as_ref() == w[1].0.as_ref()) {
        return Err(corrupt(format!("duplicate sorted set member {:?}", String::from_utf8_lossy(w[0].0.as_ref()))));
    }
    items.sort_unstable_by(|a, b| cmp_key(a.1, a.0.as_ref(), b.1, b.0.as_ref()));
    Ok(ZSet::from_sorted(items, lim))
}

/// `RDB_TYPE_HASH`: a count, then field and value strings.
fn read_plain_hash(r: &mut Reader, limits: &Limits) -> Result<Value, Error> {
    let n = r.read_count()?;
    let mut h = Hash::new();
    for _ in 0..n {
        let f = r.read_string()?;
        let v = r.read_string()?;
        insert_new(&mut h, &f, &v, limits.hash)?;
    }
    Ok(Value::Hash(Box::new(h)))
}

/// Adds a field that must be new.
fn insert_new(h: &mut Hash, f: &[u8], v: &[u8], lim: hash::Limits) -> Result<(), Error> {
    if h.insert(f, v, lim) {
        Ok(())
    } else {
        Err(corrupt(format!("duplicate hash field {:?}", String::from_utf8_lossy(f))))
    }
}

// ---------------------------------------------------------------------------
// DUMP / RESTORE payloads

/// DUMP's payload: type byte, body, RDB version (2 bytes LE), then the
/// CRC-64 (8 bytes LE) of all before it. Compressed as with the default
/// `rdbcompression yes`; see [`dump_with`].
pub fn dump(v: &Value) -> Vec<u8> {
    dump_with(v, true)
}

/// [`dump`] with `rdbcompression` given.
pub fn dump_with(v: &Value, compress: bool) -> Vec<u8> {
    let mut out = vec![object_type(v)];
    write_object(&mut out, v, compress);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// RESTORE's checks and decoding (`verifyDumpPayload`, then
/// `rdbLoadObjectType` and `rdbLoadObject`): the footer's RDB version no
/// newer than ours and, when `checksum`, its checksum right
/// ([`Error::Footer`] otherwise), then the value. Bytes after the value are ignored, as Redis 7.0
/// ignores them.
pub fn undump(payload: &[u8], limits: &Limits, deep: bool, checksum: bool) -> Result<Value, Error> {
    if payload.len() < 10 {
        return Err(Error::Footer(format!("{} bytes, shorter than the footer", payload.len())));
    }
    let (body, footer) = payload.split_at(payload.len() - 10);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > RDB_VERSION {
        return Err(Error::Footer(format!("RDB version {version}, newer than {RDB_VERSION}")));
    }
    let want = u64::from_le_bytes(footer[2..10].try_into().unwrap_or_default());
    let got = if checksum { crc64(0, &payload[..payload.len() - 8]) } else { want };
    if got != want {
        return Err(Error::Footer(format!("checksum {want:016x}, the payload's is {got:016x}")));
    }
    let mut r = Reader::new(body);
    let t = r.read_u8()?;
    read_object(&mut r, t, limits, deep)
}

#[cfg(test)]
mod tests;
