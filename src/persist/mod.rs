//! Persistence in Redis's own formats. `codec` is the one RDB encoder and
//! decoder of values (used by snapshots, DUMP/RESTORE, MIGRATE, the AOF's
//! RDB preamble and, later, replication); the modules beside it frame
//! whole files and take snapshots.

pub mod aof;
pub mod codec;
pub mod propagate;
pub mod rdb;
pub mod snapshot;
