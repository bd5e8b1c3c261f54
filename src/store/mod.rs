//! The keyspace: databases, values, expiry.

pub mod db;
pub mod expire;
pub mod rand;
pub mod value;

pub use db::{Db, Entry, Expiry, Key};
pub use value::Value;
