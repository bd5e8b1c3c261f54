//! Key prefetching for pipelined commands (Valkey 8's "memory access
//! amortization", done on the loop's one thread).
//!
//! Finding a key in a keyspace too big for the CPU's caches costs about
//! three dependent cache misses (the bucket group's control bytes, the
//! bucket, the entry); at `-P 16` with 100,000 random keys they were half
//! of the loop's time (perf: `Table::get_index_of` 33%, the key compare
//! 14%). Paid one command after another, the misses add up. When a
//! connection's input holds several whole commands, the executor first
//! looks up each one's first key without reading its entry and asks for
//! the entry's cache lines, then for what the entry points at (a long key,
//! the value's block: [`crate::store::Db::prefetch`]): the lookups of
//! different commands do not depend on each other, so the CPU overlaps
//! their misses, and by the time each command runs, its entry is (mostly)
//! in the cache.
//!
//! Only when the client's database is big enough for the misses to be
//! likely: a small keyspace stays in the cache, and the walk would be
//! pure cost there (the parse of the headers and one hash per command).
//! The "first key" is the second argument, which is the key of nearly
//! every keyed command; where it is not (`CONFIG GET`, `CLIENT ...`), the
//! prefetch is a wasted hint and changes nothing.

use super::conn::Conn;
use crate::store::Db;
use crate::store::table::PREFETCH_BATCH;

/// Keys in the client's database from which prefetching pays: below,
/// the table and its entries (~56 bytes a key) fit in the core's 2 MiB L2
/// cache.
pub const MIN_KEYS: usize = 32 * 1024;

/// Prefetches the first key of each of the next whole commands buffered
/// in `conn` (at most [`PREFETCH_BATCH`], enough for `-P 16`, few enough
/// that the first lines are still in L1 when their commands run), when
/// `db` is big enough to miss the cache. Returns how many commands it
/// covered (0: none, the database is small or no second command waits);
/// the executor asks again when it has run them.
#[inline]
pub fn commands(conn: &Conn, db: &Db) -> usize {
    if db.len() < MIN_KEYS {
        return 0;
    }
    let mut keys: [&[u8]; PREFETCH_BATCH] = [&[]; PREFETCH_BATCH];
    let mut n = 0;
    let seen = conn.parser.peek_keys(&conn.rbuf[..conn.rlen], PREFETCH_BATCH, |key| {
        keys[n] = key;
        n += 1;
    });
    if seen < 2 {
        return 0;
    }
    db.prefetch(&keys[..n]);
    seen
}
