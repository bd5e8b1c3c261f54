//! The RDB encoding of values (Redis 7.0, RDB version 10): lengths,
//! strings (integer-encoded, LZF-compressed), doubles, and every object
//! type and encoding Redis writes or has written, both ways.
