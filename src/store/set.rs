//! The set value type. (Skeleton: the commands and encodings of this type
//! are being built; only what TYPE, OBJECT ENCODING and MEMORY USAGE need
//! exists so far.)

/// A set value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Set {}

impl Set {
    pub fn new() -> Set {
        Set::default()
    }

    pub fn len(&self) -> usize {
        0
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "hashtable"
    }

    /// Heap bytes owned.
    pub fn heap_size(&self) -> usize {
        0
    }
}
