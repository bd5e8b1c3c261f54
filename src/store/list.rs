//! The list value type. (Skeleton: the commands and encodings of this type
//! are being built; only what TYPE, OBJECT ENCODING and MEMORY USAGE need
//! exists so far.)

/// A list value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct List {}

impl List {
    pub fn new() -> List {
        List::default()
    }

    pub fn len(&self) -> usize {
        0
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Heap bytes owned.
    pub fn heap_size(&self) -> usize {
        0
    }
}
