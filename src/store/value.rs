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
}
