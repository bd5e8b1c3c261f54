//! The keyspace: databases, values, expiry.

pub mod bytes;
pub mod db;
pub mod evict;
pub mod expire;
pub mod hash;
pub mod hll;
pub mod keycell;
pub mod lazyfree;
pub mod list;
pub mod rand;
pub mod set;
pub mod snaptrack;
pub mod stream;
pub mod table;
pub mod value;
pub mod zset;

pub use db::{Db, Entry, Expiry, Key};
pub use value::Value;
