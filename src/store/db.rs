//! One logical database: the keyspace map plus expiry bookkeeping.
//!
//! The map is a [`Table`] (a `hashbrown` table of `u32` positions over a
//! dense vector of entries, like `IndexMap` but smaller per key). An entry
//! is 48 bytes: its key and bookkeeping in a [`KeyCell`], and the value. The dense vector gives what Redis needs from a dict
//! beyond lookups: O(1) uniform random sampling (active expiry, eviction,
//! RANDOMKEY) and a cursor for SCAN that stays valid while the map changes.
//!
//! Expiry costs nothing for keys without one: keys with an expiry are
//! listed by map index in `vol_idx`, their expiry time in `vol_at` at the
//! same position, and the entry remembers that position (`vpos`, or
//! `NO_TTL`, 31 bits of its cell's bookkeeping), so checking, adding, removing and sampling expiries are all
//! O(1) (a lookup of a volatile key reads one more array, where Redis probes
//! a second dictionary).
//!
//! Invariants: `vol_idx[map[i].vpos] == i` for every entry with an expiry,
//! `vpos == NO_TTL` for the others; `vol_idx` has no other elements and
//! `vol_at` is as long, with every time non-zero.

use super::evict::{self, Track};
use super::keycell::KeyCell;
use super::rand::Rng;
use super::table::{Keyed, Table};
use super::value::Value;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU64};

/// A key as the databases hand it out (events, the expired-keys log,
/// snapshots): a compact string, up to 22 bytes inline. In the table
/// itself a key lives in its entry's `KeyCell` (up to 16 bytes inline).
pub type Key = super::bytes::Bytes;

/// Most keys a sparse table is rehashed with when it shrinks (well under a
/// millisecond of work).
const SHRINK_REHASH_MAX: usize = 16_384;

/// An entry's bookkeeping, the 56 bits its [`KeyCell`] keeps: the access
/// data for eviction (the 24-bit LRU clock or LFU field, see [`evict`]),
/// and `vbits`: the position in `Db::vol_idx` / `vol_at` or `NO_TTL` in
/// its low 31 bits and the snapshot mark in its top bit.
const SNAP_BIT: u32 = 1 << 31;
/// `Entry::vpos` of a key without an expiry.
const NO_TTL: u32 = SNAP_BIT - 1;

/// A stored key and value with their bookkeeping (48 bytes).
#[derive(Debug, Clone)]
pub struct Entry {
    head: KeyCell,
    pub value: Value,
}

const _: () = assert!(std::mem::size_of::<Entry>() == 48);

impl Keyed for Entry {
    fn key(&self) -> &[u8] {
        self.head.key()
    }

    /// A key stored out of line (longer than 16 bytes, such as
    /// redis-benchmark's `counter:000000012345`) and the value's first
    /// block.
    #[inline]
    fn prefetch_own(&self) {
        let key = self.head.key();
        if key.len() > super::keycell::INLINE {
            super::table::prefetch_line(key.as_ptr());
        }
        super::table::prefetch_line(self.value.addr());
    }
}

impl Entry {
    fn new(key: &[u8], value: Value, access: u32) -> Entry {
        Entry { head: KeyCell::new(key, NO_TTL, access), value }
    }

    pub fn key(&self) -> &[u8] {
        self.head.key()
    }

    /// Heap bytes the key owns (0 when inline).
    pub fn key_heap_size(&self) -> usize {
        self.head.heap_size()
    }

    fn vpos(&self) -> u32 {
        self.head.vbits() & !SNAP_BIT
    }

    fn set_vpos(&mut self, p: u32) {
        self.head.set_vbits((self.head.vbits() & SNAP_BIT) | p);
    }

    /// Access data for eviction: the LRU clock or the LFU field (24 bits).
    pub fn access(&self) -> u32 {
        self.head.access()
    }

    pub fn set_access(&mut self, a: u32) {
        self.head.set_access(a);
    }

    /// The snapshot mark: equal to the databases' `snap_epoch` once the
    /// running snapshot has this entry (or it was created after it began).
    pub fn snap_mark(&self) -> bool {
        self.head.vbits() & SNAP_BIT != 0
    }

    pub fn set_snap_mark(&mut self, mark: bool) {
        let v = self.head.vbits() & !SNAP_BIT;
        self.head.set_vbits(if mark { v | SNAP_BIT } else { v });
    }

    pub fn has_ttl(&self) -> bool {
        self.vpos() != NO_TTL
    }

    /// Seconds since the entry was last accessed (meaningful while the
    /// policy is not LFU).
    pub fn idle_seconds(&self, now: u64) -> u64 {
        evict::lru_idle(self.access(), now)
    }
}

impl std::ops::Index<usize> for Table<Entry> {
    type Output = Entry;
    fn index(&self, i: usize) -> &Entry {
        &self.elements()[i]
    }
}

impl std::ops::IndexMut<usize> for Table<Entry> {
    fn index_mut(&mut self, i: usize) -> &mut Entry {
        self.at_mut(i).expect("position in the table")
    }
}

/// What to do with an existing key's expiry when its value is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// No expiry (plain SET clears any TTL).
    None,
    /// Expire at this unix time in ms.
    At(u64),
    /// Keep whatever TTL the key had (`KEEPTTL`).
    Keep,
}

/// Bytes one table slot costs: the entry with its key, and a bucket.
const SLOT: usize = std::mem::size_of::<Entry>() + super::table::BUCKET_BYTES;

pub struct Db {
    map: Table<Entry>,
    vol_idx: Vec<u32>,
    vol_at: Vec<u64>,
    /// Keys removed because their TTL passed (lazily or actively).
    pub expired: u64,
    /// Read lookups that found / did not find their key.
    pub hits: u64,
    pub misses: u64,
    /// Running estimate of the TTL of volatile keys in ms (INFO keyspace),
    /// from the active-expiry samples as in Redis.
    pub avg_ttl: u64,
    /// How accesses are recorded (LRU clock or LFU counter).
    pub track: Track,
    /// The running command's client is in CLIENT NO-TOUCH mode: lookups
    /// leave the access time alone.
    pub no_touch: bool,
    /// For the LFU counter's probabilistic increment.
    rng: Rng,
    /// How many more table slots may be reserved when the table grows
    /// (maxmemory's headroom; unlimited without maxmemory).
    pub grow_budget: usize,
    /// Keyspace-notification classes to queue here (all those enabled;
    /// see `server::notify`), and the queued events.
    pub notify: u32,
    pub events: Vec<(u32, &'static str, Key)>,
    /// The mark new and replaced entries get (see `Entry::snap_mark`).
    pub snap_epoch: bool,
    /// CLIENT PAUSE is in effect: a key whose TTL passed reads as missing
    /// but stays (no `expired` count, no event) until the pause ends, as
    /// Redis's `expireIfNeeded` does while clients are paused.
    pub expire_paused: bool,
    /// An AOF is being replayed: a key whose TTL passed is still live
    /// (Redis's `keyIsExpired` is false while loading), so a replayed
    /// command finds it as the original one did; it expires once loading
    /// is done.
    pub loading: bool,
    /// Keys a snapshot is writing, or will write, from the keyspace a
    /// slice at a time (`persist::snapshot`): when the TTL of one passes
    /// meanwhile it reads as missing but stays, like a key under
    /// `expire_paused`, until the snapshot has all of it and unpins it
    /// (or is gone: a pin holds while its token lives). Every other way a
    /// key goes (a command, eviction, FLUSHDB) tells the snapshot first.
    pub snap_pins: Vec<(Key, std::sync::Weak<()>)>,
    /// What the propagation path asks of all the databases after every
    /// write command, shared by them all (see [`Signals`]).
    pub signals: Arc<Signals>,
    /// Keys deleted by expiry, kept while the propagation path is on (it
    /// writes them as DEL).
    pub expired_log: Option<Vec<Key>>,
}

/// Counters the databases of one server share, so that the propagation
/// path reads two words after a write command instead of visiting every
/// database (16 by default). Only the event loop's thread touches them:
/// atomics only because the server moves to its thread after it is built.
#[derive(Debug, Default)]
pub struct Signals {
    /// Modifications commands reported through [`Db::event`] (the
    /// propagation path's "did it change anything", with `Shared`'s own).
    pub changes: AtomicU64,
    /// Some database's `expired_log` is not empty.
    pub expired: AtomicBool,
}

impl Signals {
    /// The sum of the changes reported, and whether keys deleted by
    /// expiry wait in an `expired_log`.
    pub fn read(&self) -> (u64, bool) {
        (self.changes.load(Relaxed), self.expired.load(Relaxed))
    }
}

use crate::server::notify::{EXPIRED, KEY_MISS, NEW};

impl Default for Db {
    fn default() -> Db {
        Db {
            map: Table::sharded(),
            vol_idx: Vec::new(),
            vol_at: Vec::new(),
            expired: 0,
            hits: 0,
            misses: 0,
            avg_ttl: 0,
            track: Track::default(),
            no_touch: false,
            rng: Rng::default(),
            grow_budget: usize::MAX,
            notify: 0,
            events: Vec::new(),
            snap_epoch: false,
            expire_paused: false,
            loading: false,
            snap_pins: Vec::new(),
            signals: Arc::default(),
            expired_log: None,
        }
    }
}

impl Db {
    pub fn new() -> Db {
        Db::default()
    }

    /// A database of a server whose databases share `signals`.
    pub fn with_signals(signals: Arc<Signals>) -> Db {
        Db { signals, ..Db::default() }
    }

    /// Sets how many bytes the table may take when it next grows.
    pub fn set_grow_budget(&mut self, bytes: usize) {
        self.grow_budget = if bytes == usize::MAX { usize::MAX } else { bytes / SLOT };
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Starts loading the entries of `keys` into the cache (see
    /// [`Table::prefetch`]); changes nothing.
    pub fn prefetch(&self, keys: &[&[u8]]) {
        self.map.prefetch(keys);
    }

    /// Number of keys with an expiry.
    pub fn volatile_len(&self) -> usize {
        self.vol_idx.len()
    }

    /// Expiry of the entry at position `i` (0 = none).
    fn at(&self, i: usize) -> u64 {
        match self.map[i].vpos() {
            NO_TTL => 0,
            p => self.vol_at[p as usize],
        }
    }

    /// Expiry of the entry at position `i` (eviction's volatile-ttl).
    pub fn expire_at_index(&self, i: usize) -> Option<u64> {
        Some(self.at(i)).filter(|&t| t != 0)
    }

    /// The expiry of a live key: `None` if the key is missing, `Some(None)`
    /// if it has no TTL. Does not count as an access.
    pub fn expiry(&mut self, key: &[u8], now: u64) -> Option<Option<u64>> {
        let i = self.live_index(key, now)?;
        Some(self.expire_at_index(i))
    }

    /// Index of a live key, deleting it first if its TTL has passed (unless
    /// expiry is paused: then it only reads as missing).
    fn live_index(&mut self, key: &[u8], now: u64) -> Option<usize> {
        let i = self.map.get_index_of(key)?;
        let at = self.at(i);
        if at != 0 && at <= now && !self.loading {
            if !self.keeps_expired(i) {
                self.expire_index(i);
            }
            return None;
        }
        Some(i)
    }

    /// Looks a key up for a command, honouring its TTL (lazy expiry) and
    /// updating its access time. Counts keyspace hits and misses.
    pub fn get(&mut self, key: &[u8], now: u64) -> Option<&Entry> {
        let Some(i) = self.live_index(key, now) else {
            self.misses += 1;
            if self.notify & KEY_MISS != 0 {
                self.events.push((KEY_MISS, "keymiss", key.into()));
            }
            return None;
        };
        self.hits += 1;
        self.touch(i, now);
        Some(&self.map[i])
    }

    /// Mutable lookup, honouring the TTL and updating the access time.
    pub fn get_mut(&mut self, key: &[u8], now: u64) -> Option<&mut Entry> {
        let i = self.live_index(key, now)?;
        self.touch(i, now);
        Some(&mut self.map[i])
    }

    /// Lookup that leaves the access time alone (OBJECT, TYPE, TTL).
    pub fn peek(&mut self, key: &[u8], now: u64) -> Option<&Entry> {
        let i = self.live_index(key, now)?;
        Some(&self.map[i])
    }

    /// Shared-reference lookup: an expired key reads as missing but is not
    /// deleted, and the access time is left alone. For commands that hold
    /// several values at once (SINTER, SUNION, …) after a `get` of each.
    pub fn get_ref(&self, key: &[u8], now: u64) -> Option<&Entry> {
        let i = self.map.get_index_of(key)?;
        let at = self.at(i);
        (at == 0 || at > now || self.loading).then(|| &self.map[i])
    }

    pub fn contains(&mut self, key: &[u8], now: u64) -> bool {
        self.live_index(key, now).is_some()
    }

    /// Stores `value` under `key`, replacing any old value; returns the old
    /// value if there was a live one.
    pub fn set(&mut self, key: &[u8], value: Value, expiry: Expiry, now: u64) -> Option<Value> {
        match self.live_index(key, now) {
            Some(i) => {
                let old = std::mem::replace(&mut self.map[i].value, value);
                if !self.no_touch {
                    self.touch(i, now);
                } else if !self.track.lfu {
                    // Under NO-TOUCH Redis's new value still gets a fresh
                    // LRU clock; an LFU counter is carried over unchanged.
                    self.map[i].set_access(evict::lru_clock(now));
                }
                match expiry {
                    Expiry::Keep => {}
                    Expiry::None => self.set_expire_index(i, 0),
                    Expiry::At(t) => self.set_expire_index(i, t),
                }
                self.map[i].set_snap_mark(self.snap_epoch);
                Some(old)
            }
            None => {
                if (self.expire_paused || self.snap_pins.iter().any(|(_, token)| token.strong_count() > 0))
                    && let Some(i) = self.map.get_index_of(key)
                {
                    // An expired key kept by a pause or a snapshot's pin:
                    // a write ends its stay.
                    self.expire_index(i);
                }
                let access = evict::fresh(self.track, now);
                if self.notify & NEW != 0 {
                    self.events.push((NEW, "new", key.into()));
                }
                let mut entry = Entry::new(key, value, access);
                entry.set_snap_mark(self.snap_epoch);
                let i = self.map.push(entry, self.grow_budget);
                if let Expiry::At(t) = expiry {
                    self.set_expire_index(i, t);
                }
                None
            }
        }
    }

    /// Queues keyspace event `event` of class `class` on `key`, if enabled.
    pub fn event(&mut self, class: u32, event: &'static str, key: &[u8]) {
        // One thread writes it: no atomic read-modify-write needed.
        let changes = &self.signals.changes;
        changes.store(changes.load(Relaxed) + 1, Relaxed);
        if self.notify & class != 0 {
            self.events.push((class, event, key.into()));
        }
    }

    /// Records an access to entry `i` for the eviction policy (not for a
    /// CLIENT NO-TOUCH client).
    fn touch(&mut self, i: usize, now: u64) {
        if self.no_touch {
            return;
        }
        let e = &mut self.map[i];
        e.set_access(evict::touched(e.access(), self.track, now, &mut self.rng));
    }

    /// The entry at dense position `i` (eviction sampling).
    pub fn entry_at(&self, i: usize) -> Option<&Entry> {
        self.map.at(i)
    }

    /// The dense position of the `j`th key with a TTL.
    pub fn volatile_index(&self, j: usize) -> usize {
        self.vol_idx[j] as usize
    }

    /// Whether `key` is stored (expired or not), with a TTL if `volatile`.
    pub fn has_key(&self, key: &[u8], volatile: bool) -> bool {
        self.map.find(key).is_some_and(|e| !volatile || e.has_ttl())
    }

    /// Removes a key whatever its TTL (eviction), returning its entry.
    pub fn evict(&mut self, key: &[u8]) -> Option<Entry> {
        let i = self.map.get_index_of(key)?;
        Some(self.remove_index(i).0)
    }

    /// Removes a live key, returning its entry.
    pub fn remove(&mut self, key: &[u8], now: u64) -> Option<Entry> {
        let i = self.live_index(key, now)?;
        Some(self.remove_index(i).0)
    }

    /// Removes a live key, returning its value and expiry (RENAME, MOVE).
    pub fn take(&mut self, key: &[u8], now: u64) -> Option<(Value, Option<u64>)> {
        let i = self.live_index(key, now)?;
        let (entry, at) = self.remove_index(i);
        Some((entry.value, at))
    }

    /// Inserts or replaces `key` with `value` and an absolute expiry (RENAME,
    /// COPY, MOVE carry the TTL along).
    pub fn put(&mut self, key: &[u8], value: Value, expire_at: Option<u64>, now: u64) {
        let expiry = match expire_at {
            Some(t) => Expiry::At(t),
            None => Expiry::None,
        };
        self.set(key, value, expiry, now);
    }

    /// Estimated bytes a key costs: its slot in the table (hash, key
    /// pointer, entry, index), the key bytes and the value's heap (MEMORY
    /// USAGE). Allocator rounding is not counted. Like Redis's, which looks
    /// in its dict itself, it counts a key whose TTL passed but that no
    /// lookup or expiry cycle removed yet (and leaves it there).
    pub fn memory_usage(&self, key: &[u8]) -> Option<usize> {
        let i = self.map.get_index_of(key)?;
        let e = self.map.at(i)?;
        let volatile = if e.has_ttl() { std::mem::size_of::<(u32, u64)>() } else { 0 };
        Some(SLOT + e.key_heap_size() + e.value.heap_size() + volatile)
    }

    /// Bytes of the key table's buckets and empty slots, and of the TTL
    /// index (MEMORY STATS's `overhead.hashtable.main` / `.expires`). The
    /// entries themselves hold keys and values (Redis counts its keys'
    /// and values' objects as dataset too).
    pub fn table_bytes(&self) -> (usize, usize) {
        (self.map.overhead_bytes(), self.vol_idx.capacity() * 4 + self.vol_at.capacity() * 8)
    }

    /// Bytes of table slots allocated but empty: new keys fill them without
    /// allocating, so maxmemory does not count them as used.
    pub fn vacant_bytes(&self) -> usize {
        (self.map.capacity() - self.map.len()) * SLOT
    }

    /// Bytes maxmemory holds back for the table's next doubling.
    pub fn reserve_bytes(&self) -> usize {
        self.map.doubling_reserve()
    }

    /// Gives back empty entry slots (more than a few), so that slots left
    /// empty by eviction do not keep the memory in use over maxmemory
    /// (16 slots are under 1 KB: INFO's used_memory stays within Redis's
    /// test bound of maxmemory + 4 KB); true if it did.
    pub fn trim_vacancy(&mut self) -> bool {
        if self.map.vacant_entries() <= 16 {
            return false;
        }
        self.map.trim_entries(8);
        true
    }

    /// Gives back table memory after most keys went (Redis resizes its
    /// dicts below 10% fill): the entry vector at once, the buckets once
    /// few keys are left (rebuilding them rehashes every key in one go).
    /// The old arrays are returned for the caller to free off the event
    /// loop: unmapping tens of megabytes takes milliseconds.
    pub fn shrink_if_sparse(&mut self) -> Option<Box<dyn Send>> {
        let len = self.map.len();
        let sparse = |cap: usize| cap >= 1024 && len < cap / 8;
        let entries = sparse(self.map.entries_capacity()).then(|| self.map.compact_entries(len / 8));
        let buckets = (sparse(self.map.buckets_capacity()) && len <= SHRINK_REHASH_MAX)
            .then(|| self.map.rebuild_buckets(len + len / 8));
        if entries.is_none() && buckets.is_none() {
            return None;
        }
        let n = self.vol_idx.len() + self.vol_idx.len() / 8;
        self.vol_idx.shrink_to(n);
        self.vol_at.shrink_to(n);
        Some(Box::new((entries, buckets)))
    }

    /// Sets (`Some`) or clears (`None`) the expiry of a live key; false if the
    /// key does not exist.
    pub fn set_expire(&mut self, key: &[u8], at: Option<u64>, now: u64) -> bool {
        match self.live_index(key, now) {
            Some(i) => {
                self.set_expire_index(i, at.unwrap_or(0));
                true
            }
            None => false,
        }
    }

    /// The stored entry of `key`, expired or not, left untouched (DEBUG
    /// OBJECT and DIGEST-VALUE look keys up this way, as Redis's
    /// `dictFind`).
    pub fn get_raw(&self, key: &[u8]) -> Option<&Entry> {
        self.map.find(key)
    }

    /// An entry whatever its TTL, to change its bookkeeping (loading sets
    /// the access data; snapshots set their mark).
    pub fn raw_entry_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.map.find_mut(key)
    }

    /// The dense position of `key`, whatever its TTL.
    pub fn position_of(&self, key: &[u8]) -> Option<usize> {
        self.map.get_index_of(key)
    }

    /// The entry (with its key) and expiry at dense position `i`, for
    /// snapshots, which walk positions from the top down as SCAN does (see
    /// `scan`).
    pub fn at_position(&mut self, i: usize) -> Option<(&mut Entry, Option<u64>)> {
        let at = (i < self.map.len()).then(|| self.expire_at_index(i))?;
        Some((self.map.at_mut(i)?, at))
    }

    /// Every stored key and entry, expired or not yet deleted included, in
    /// no particular order (DEBUG DIGEST walks the dict this way).
    pub fn iter_raw(&self) -> impl Iterator<Item = (&[u8], &Entry)> {
        self.map.elements().iter().map(|e| (e.key(), e))
    }

    /// Every live key (KEYS); expired keys are skipped.
    pub fn live_keys(&self, now: u64) -> impl Iterator<Item = &[u8]> {
        self.map
            .elements()
            .iter()
            .filter(move |e| !e.has_ttl() || self.vol_at[e.vpos() as usize] > now)
            .map(|e| e.key())
    }

    /// A uniformly random live key (RANDOMKEY). Expired keys met on the way
    /// are deleted (passed over while expiry is paused); after 100 tries an
    /// expired key is returned anyway, as Redis does, so a keyspace of
    /// expired keys cannot make it loop (Redis 7.0 loops forever on one
    /// during CLIENT PAUSE; this does not).
    pub fn random_key(&mut self, now: u64, rng: &mut Rng) -> Option<Key> {
        for tries in 0.. {
            if self.map.is_empty() {
                return None;
            }
            let i = rng.below(self.map.len());
            let at = self.at(i);
            if at != 0 && at <= now && tries < 100 {
                if !self.keeps_expired(i) {
                    self.expire_index(i);
                }
                continue;
            }
            return self.map.at(i).map(|e| Key::from_slice(e.key()));
        }
        None
    }

    /// One SCAN step: visits up to `count` positions from `cursor` and
    /// returns the next cursor (0 when the iteration is complete).
    ///
    /// Positions are visited from the top of the dense entry vector down;
    /// the cursor is how many positions remain. Removal moves the last entry
    /// into the hole, i.e. only ever from a higher position to a lower one,
    /// and inserts append at the top, so an entry present for the whole
    /// iteration can never jump from the unvisited part into the visited
    /// part: every such key is returned (some may come twice), which is
    /// Redis's SCAN guarantee, through any amount of growth or shrinking.
    pub fn scan(&mut self, cursor: u64, count: usize, now: u64, mut visit: impl FnMut(&[u8], &Entry)) -> u64 {
        let mut pos = if cursor == 0 { self.map.len() } else { (cursor as usize).min(self.map.len()) };
        let mut steps = 0;
        while pos > 0 && steps < count {
            pos -= 1;
            steps += 1;
            let at = self.at(pos);
            if at != 0 && at <= now {
                // The entry moved in from the top was visited already.
                if !self.keeps_expired(pos) {
                    self.expire_index(pos);
                }
                continue;
            }
            if let Some(e) = self.map.at(pos) {
                visit(e.key(), e);
            }
        }
        pos as u64
    }

    /// Empties the database, returning its old contents for the caller
    /// to drop (FLUSHDB ASYNC drops them on the lazy-free thread).
    pub fn take_contents(&mut self) -> impl Send + 'static {
        let contents =
            (std::mem::take(&mut self.map), std::mem::take(&mut self.vol_idx), std::mem::take(&mut self.vol_at));
        self.avg_ttl = 0;
        contents
    }

    pub fn clear(&mut self) {
        self.map = Table::sharded();
        self.vol_idx = Vec::new();
        self.vol_at = Vec::new();
        self.avg_ttl = 0;
    }

    fn set_expire_index(&mut self, i: usize, at: u64) {
        match (self.map[i].vpos(), at) {
            (NO_TTL, 0) => {}
            (NO_TTL, at) => {
                let p = self.vol_idx.len() as u32;
                self.map[i].set_vpos(p);
                self.vol_idx.push(i as u32);
                self.vol_at.push(at);
            }
            (p, 0) => {
                self.volatile_remove(p as usize);
                self.map[i].set_vpos(NO_TTL);
            }
            (p, at) => self.vol_at[p as usize] = at,
        }
    }

    fn volatile_remove(&mut self, p: usize) {
        self.vol_idx.swap_remove(p);
        self.vol_at.swap_remove(p);
        if let Some(&moved) = self.vol_idx.get(p) {
            self.map[moved as usize].set_vpos(p as u32);
        }
    }

    /// Deletes entry `i` because its TTL passed.
    /// Whether entry `i`, expired, stays for now (CLIENT PAUSE, or the
    /// snapshot's pin).
    fn keeps_expired(&self, i: usize) -> bool {
        self.expire_paused
            || self
                .map
                .at(i)
                .is_some_and(|e| self.snap_pins.iter().any(|(k, token)| token.strong_count() > 0 && e.key() == &k[..]))
    }

    fn expire_index(&mut self, i: usize) {
        if self.notify & EXPIRED != 0
            && let Some(e) = self.map.at(i)
        {
            self.events.push((EXPIRED, "expired", Key::from_slice(e.key())));
        }
        if let Some(log) = self.expired_log.as_mut()
            && let Some(e) = self.map.at(i)
        {
            log.push(Key::from_slice(e.key()));
            self.signals.expired.store(true, Relaxed);
        }
        self.remove_index(i);
        self.expired += 1;
    }

    /// Removes entry `i` (and its expiry), returning it with the expiry
    /// it had.
    fn remove_index(&mut self, i: usize) -> (Entry, Option<u64>) {
        let mut entry = self.map.remove_at(i).expect("index from a lookup");
        // The former last entry now lives at `i`: repoint its volatile slot.
        if let Some(moved) = self.map.at(i)
            && moved.has_ttl()
        {
            self.vol_idx[moved.vpos() as usize] = i as u32;
        }
        let mut at = None;
        if entry.has_ttl() {
            at = Some(self.vol_at[entry.vpos() as usize]);
            self.volatile_remove(entry.vpos() as usize);
            entry.set_vpos(NO_TTL);
        }
        (entry, at)
    }

    /// Samples up to `n` random keys with a TTL and deletes the expired ones.
    /// Returns `(sampled, expired)`. One step of Redis's active expire cycle.
    pub fn expire_sample(&mut self, now: u64, n: usize, rng: &mut Rng) -> (usize, usize) {
        let mut expired = 0;
        let (mut ttl_sum, mut ttl_n) = (0u64, 0u64);
        let n = n.min(self.vol_idx.len());
        for _ in 0..n {
            if self.vol_idx.is_empty() {
                break;
            }
            let p = rng.below(self.vol_idx.len());
            let (i, at) = (self.vol_idx[p] as usize, self.vol_at[p]);
            if at <= now {
                if !self.keeps_expired(i) {
                    self.expire_index(i);
                    expired += 1;
                }
            } else {
                ttl_sum = ttl_sum.wrapping_add(at - now);
                ttl_n += 1;
            }
        }
        if let Some(avg) = ttl_sum.checked_div(ttl_n) {
            self.avg_ttl = if self.avg_ttl == 0 { avg } else { self.avg_ttl / 50 * 49 + avg / 50 };
        }
        (n, expired)
    }

    /// Checks the volatile index invariant (tests only).
    #[cfg(test)]
    fn check(&self) {
        let mut n = 0;
        for (i, e) in self.map.elements().iter().enumerate() {
            if e.has_ttl() {
                n += 1;
                assert_eq!(self.vol_idx[e.vpos() as usize] as usize, i);
                assert_ne!(self.vol_at[e.vpos() as usize], 0);
            }
        }
        assert_eq!(n, self.vol_idx.len());
        assert_eq!(n, self.vol_at.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::rand::Rng;
    use proptest::prelude::{prop, proptest};

    use crate::store::value::Str;

    fn s(v: &str) -> Value {
        Value::Str(Str::from_slice(v.as_bytes()))
    }

    /// Prefetching entries and what they point at (long keys, strings,
    /// lists, hashes) changes no value.
    #[test]
    fn prefetch_changes_nothing() {
        let mut db = Db::new();
        let long = "counter:000000012345".repeat(3);
        db.set(long.as_bytes(), s(&"v".repeat(100)), Expiry::None, 0);
        db.set(b"short", s("1"), Expiry::None, 0);
        db.set(b"list", Value::List(crate::store::list::List::default()), Expiry::None, 0);
        db.set(b"hash", Value::Hash(Box::default()), Expiry::None, 0);
        db.prefetch(&[long.as_bytes(), b"short", b"list", b"hash", b"absent"]);
        assert_eq!(db.len(), 4);
        assert!(matches!(db.get(long.as_bytes(), 0).map(|e| &e.value), Some(Value::Str(v)) if v.len() == 100));
        assert!(matches!(db.get(b"short", 0).map(|e| &e.value), Some(Value::Str(v)) if v.as_slice() == b"1"));
        assert!(matches!(db.get(b"list", 0).map(|e| &e.value), Some(Value::List(_))));
        assert!(matches!(db.get(b"hash", 0).map(|e| &e.value), Some(Value::Hash(_))));
        assert!(db.get(b"absent", 0).is_none());
    }

    #[test]
    fn paused_expiry_keeps_expired_keys_and_a_write_replaces_them() {
        let mut db = Db::new();
        db.set(b"a", s("1"), Expiry::At(100), 0);
        db.set(b"b", s("2"), Expiry::None, 0);
        db.expire_paused = true;
        assert!(db.get(b"a", 200).is_none());
        assert!(!db.contains(b"a", 200));
        assert_eq!(db.random_key(200, &mut Rng::default()).as_deref(), Some(&b"b"[..]));
        let mut seen = Vec::new();
        assert_eq!(db.scan(0, 10, 200, |k, _| seen.push(k.to_vec())), 0);
        assert_eq!(seen, [b"b".to_vec()]);
        assert_eq!((db.len(), db.expired), (2, 0));
        // A write to the kept key replaces it rather than adding a second.
        assert!(db.set(b"a", s("3"), Expiry::None, 200).is_none());
        assert_eq!((db.len(), db.expired), (2, 1));
        db.check();
        db.set(b"c", s("4"), Expiry::At(100), 0);
        db.expire_paused = false;
        assert!(db.get(b"c", 200).is_none());
        assert_eq!((db.len(), db.expired), (2, 2));
    }

    #[test]
    fn an_entry_is_48_bytes_and_expiry_lives_apart() {
        assert_eq!(std::mem::size_of::<Entry>(), 48);
        let mut db = Db::new();
        db.set(b"a", s("1"), Expiry::At(100), 0);
        db.set(b"b", s("2"), Expiry::None, 0);
        db.set(b"c", s("3"), Expiry::At(300), 0);
        assert_eq!(db.take(b"a", 0).map(|(_, at)| at), Some(Some(100)));
        assert_eq!(db.take(b"b", 0).map(|(_, at)| at), Some(None));
        assert_eq!(db.expiry(b"c", 0), Some(Some(300)), "moved into the freed TTL slot");
        db.check();
    }

    #[test]
    fn the_bookkeeping_fields_share_the_key_cell_without_clobbering() {
        for key in [&b"k"[..], b"key:000000123456", b"a key longer than sixteen bytes"] {
            let mut e = Entry::new(key, s("v"), 0xab_cdef);
            assert_eq!((e.key(), e.access(), e.vpos(), e.snap_mark()), (key, 0xab_cdef, NO_TTL, false));
            e.set_snap_mark(true);
            e.set_vpos(0x7fff_fffe);
            e.set_access(u32::MAX);
            assert_eq!((e.key(), e.access(), e.vpos(), e.snap_mark()), (key, 0xff_ffff, 0x7fff_fffe, true));
            e.set_vpos(0);
            e.set_access(0);
            assert_eq!((e.access(), e.vpos(), e.snap_mark()), (0, 0, true));
            e.set_snap_mark(false);
            assert_eq!((e.key(), e.access(), e.vpos(), e.snap_mark()), (key, 0, 0, false));
        }
    }

    #[test]
    fn lazy_expiry() {
        let mut db = Db::new();
        db.set(b"a", s("1"), Expiry::At(100), 0);
        assert!(db.get(b"a", 99).is_some());
        assert!(db.get(b"a", 100).is_none());
        assert_eq!(db.len(), 0);
        assert_eq!(db.expired, 1);
    }

    #[test]
    fn keepttl_and_clear() {
        let mut db = Db::new();
        db.set(b"a", s("1"), Expiry::At(100), 0);
        db.set(b"a", s("2"), Expiry::Keep, 0);
        assert_eq!(db.expiry(b"a", 0), Some(Some(100)));
        db.set(b"a", s("3"), Expiry::None, 0);
        assert_eq!(db.expiry(b"a", 0), Some(None));
        assert_eq!(db.volatile_len(), 0);
    }

    #[test]
    fn active_sampling_empties_expired() {
        let mut db = Db::new();
        let mut rng = Rng::new(1);
        for i in 0..1000 {
            db.set(format!("k{i}").as_bytes(), s("v"), Expiry::At(10), 0);
        }
        db.set(b"keep", s("v"), Expiry::None, 0);
        while db.volatile_len() > 0 {
            db.expire_sample(20, 20, &mut rng);
            db.check();
        }
        assert_eq!(db.len(), 1);
    }

    #[test]
    fn scan_returns_every_key_present_throughout() {
        let mut db = Db::new();
        let mut rng = Rng::new(3);
        for i in 0..2000 {
            db.set(format!("stable{i}").as_bytes(), s("v"), Expiry::None, 0);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            cursor = db.scan(cursor, 10, 0, |k, _| {
                seen.insert(k.to_vec());
            });
            // Churn between steps: add and remove other keys.
            for j in 0..15 {
                db.set(format!("churn{round}-{j}").as_bytes(), s("v"), Expiry::None, 0);
            }
            for _ in 0..12 {
                let k = db.random_key(0, &mut rng).unwrap();
                if k.starts_with(b"churn") {
                    db.remove(&k, 0);
                }
            }
            round += 1;
            if cursor == 0 {
                break;
            }
        }
        for i in 0..2000 {
            assert!(seen.contains(format!("stable{i}").as_bytes()), "stable{i} missed");
        }
    }

    proptest! {
        #[test]
        fn volatile_index_stays_consistent(ops in prop::collection::vec((0u8..4, 0u8..20, 0u64..3), 1..200)) {
            let mut db = Db::new();
            for (op, k, t) in ops {
                let key = [k];
                match op {
                    0 => { db.set(&key, s("x"), if t == 0 { Expiry::None } else { Expiry::At(t * 10) }, 0); }
                    1 => { db.remove(&key, 0); }
                    2 => { db.set_expire(&key, (t > 0).then_some(t), 0); }
                    _ => { db.get(&key, 15); }
                }
                db.check();
            }
        }
    }
}
