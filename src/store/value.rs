//! Value types stored under a key, and what TYPE / OBJECT ENCODING /
//! MEMORY USAGE report for each.
//!
//! Strings are stored inline in the enum; the collections are boxed so a
//! string key (the common case for a cache) pays only for a `Vec`.

use super::{hash::Hash, list::List, set::Set, stream::Stream, zset::ZSet};

/// A string value's bytes: up to 22 bytes inline (counters, flags, short
/// ids need no allocation of their own), longer ones on the heap.
pub type Str = super::bytes::Bytes;

/// A stored value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A binary-safe string (Redis `string`).
    Str(Str),
    /// Inline: a list is one 16-byte pointer (see `list.rs`).
    List(List),
    Hash(Box<Hash>),
    Set(Box<Set>),
    ZSet(Box<ZSet>),
    Stream(Box<Stream>),
}

const _: () = assert!(std::mem::size_of::<Value>() == 24);

impl Value {
    /// Where reading the value starts: a string's bytes (inside the entry
    /// when inline), a list's first block, a collection's box. A prefetch
    /// hint, never dereferenced.
    pub fn addr(&self) -> *const u8 {
        match self {
            Value::Str(s) => s.as_slice().as_ptr(),
            Value::List(l) => l.addr(),
            Value::Hash(b) => (&**b as *const Hash).cast(),
            Value::Set(b) => (&**b as *const Set).cast(),
            Value::ZSet(b) => (&**b as *const ZSet).cast(),
            Value::Stream(b) => (&**b as *const Stream).cast(),
        }
    }

    /// The name `TYPE` reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// The encoding `OBJECT ENCODING` reports. Strings are stored as plain
    /// byte vectors; the name is the one Redis would give the same string:
    /// `raw` once changed in place, `embstr` for INCRBYFLOAT's results (see
    /// [`Str::encoding_hint`]), else by content (`int` for a canonical
    /// 64-bit integer, `embstr` up to 44 bytes, else `raw`), so tools that
    /// look at it see familiar values. Collections report the encoding they
    /// really use.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) if let Some(hint) = s.encoding_hint() => hint,
            Value::Str(s) if s.len() <= 20 && crate::resp::parse::parse_i64(s).is_some() => "int",
            Value::Str(s) if s.len() <= 44 => "embstr",
            Value::Str(_) => "raw",
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    /// Approximate serialized size (DEBUG OBJECT `serializedlength`): the
    /// bytes of a string, the heap size of a collection.
    pub fn serialized_len(&self) -> usize {
        match self {
            Value::Str(s) => s.len(),
            _ => self.heap_size(),
        }
    }

    /// Heap bytes owned by the value (allocation sizes, not just length).
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Str(s) => s.heap_size(),
            Value::List(l) => l.heap_size(),
            Value::Hash(h) => h.heap_size(),
            Value::Set(s) => s.heap_size(),
            Value::ZSet(z) => z.heap_size(),
            Value::Stream(s) => s.heap_size(),
        }
    }

    /// How many steps freeing the value takes (Redis's
    /// `lazyfreeGetFreeEffort`): 1 for a string or a compact encoding, the
    /// element count for the big encodings.
    pub fn free_effort(&self) -> usize {
        match self {
            Value::Str(_) => 1,
            Value::List(l) => l.len() / 128 + 1,
            Value::Hash(h) if h.encoding() == "hashtable" => h.len(),
            Value::Set(s) if s.encoding() == "hashtable" => s.len(),
            Value::ZSet(z) if z.encoding() == "skiplist" => z.len(),
            Value::Stream(s) => s.nodes.len() + s.groups.len() + 1,
            _ => 1,
        }
    }

    /// Redis shares the integers 0..10000; their refcount reads as
    /// `OBJ_SHARED_REFCOUNT`.
    pub fn refcount(&self) -> i64 {
        match self {
            Value::Str(s)
                if s.len() <= 5
                    && s.encoding_hint().is_none()
                    && crate::resp::parse::parse_i64(s).is_some_and(|n| (0..10000).contains(&n)) =>
            {
                i32::MAX as i64
            }
            _ => 1,
        }
    }
}
