//! Value types stored under a key.
//!
//! Only strings exist so far; the collections (list, hash, set, zset) join
//! this enum with their compact encodings in later work.

/// A stored value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A binary-safe string (Redis `string`).
    Str(Vec<u8>),
}

impl Value {
    /// The name `TYPE` reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
        }
    }

    /// The encoding `OBJECT ENCODING` reports. Strings are stored as plain
    /// byte vectors; the name is the one Redis would give the same content
    /// (`int` for a canonical 64-bit integer, `embstr` up to 44 bytes, else
    /// `raw`), so tools that look at it see familiar values.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) if s.len() <= 20 && crate::resp::parse::parse_i64(s).is_some() => "int",
            Value::Str(s) if s.len() <= 44 => "embstr",
            Value::Str(_) => "raw",
        }
    }

    /// Heap bytes owned by the value (allocation sizes, not just length).
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Str(s) => s.capacity(),
        }
    }

    /// Redis shares the integers 0..10000; their refcount reads as
    /// `OBJ_SHARED_REFCOUNT`.
    pub fn refcount(&self) -> i64 {
        match self {
            Value::Str(s)
                if s.len() <= 5 && crate::resp::parse::parse_i64(s).is_some_and(|n| (0..10000).contains(&n)) =>
            {
                i32::MAX as i64
            }
            Value::Str(_) => 1,
        }
    }
}
