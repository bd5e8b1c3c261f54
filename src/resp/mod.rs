//! The Redis serialization protocol: request parsing and reply writing.

pub mod parse;
pub mod reply;

pub use parse::{Parser, ProtoError, Source, Span};
pub use reply::{Proto, Reply};
