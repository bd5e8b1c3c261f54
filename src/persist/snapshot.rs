//! Forkless point-in-time snapshots (BGSAVE, SAVE, SHUTDOWN's save, and
//! the base of an AOF rewrite: an RDB, or with `aof-use-rdb-preamble no`
//! the commands that rebuild each key).
//!
//! Redis forks and lets the child write the parent's memory as it was at
//! the fork. ferrokv does not fork: the event loop serialises a slice of
//! the keyspace per turn, and a writer thread computes the CRC-64, writes,
//! fsyncs and renames. The file must still be exactly the dataset at the
//! moment the snapshot started, so:
//!
//! - every entry carries a mark bit (`Entry::snap_mark`). Starting a
//!   snapshot flips the databases' epoch, which makes every existing entry
//!   "not yet saved"; entries created or replaced afterwards get the new
//!   epoch, i.e. count as saved (they were not in the dataset);
//! - the walk visits each database's dense entry vector from the top down,
//!   as SCAN does: an entry present throughout is met at least once
//!   (removal only moves the top entry down), and the mark makes a second
//!   meeting a no-op;
//! - before a command changes or deletes a key (the keys its table row
//!   names; FLUSHDB, SWAPDB and eviction are handled by their own hooks),
//!   [`Snapshot::before_write`] saves the key's current value first if
//!   it is not saved yet — copy-on-write per key.
//!
//! - in an RDB (BGSAVE, SAVE, an AOF base with its RDB preamble), a big
//!   value (a list of many nodes; a set, sorted set or hash of many
//!   members in its hashtable or skiplist encoding) is written by the walk
//!   a slice of parts per turn ([`codec::parts`]), so the loop never
//!   stops for the whole of it (Redis's fork stops it for none of it).
//!   Until its last part is written, whole keys the copy-on-write hook
//!   saves go into a side buffer that follows it in the file. A write to
//!   the big key itself finishes it first, except:
//!   - a list, which is copied (a pointer per node: the copy shares the
//!     nodes, and one is copied only when the keyspace's list changes it,
//!     as a fork copies only the pages written to) and written from the
//!     copy over the next turns; the hook copies any other big list it
//!     saves likewise, to be written in slices after;
//!   - a hash, set or sorted set whose members the write adds, changes or
//!     removes (HSET, HDEL, HINCRBY, SADD, SREM, SPOP, SMOVE, ZADD,
//!     ZINCRBY, ZREM, ZPOPMIN, ... leaving it some: `Save::Member`): its
//!     track (`store::snaptrack`) hands the snapshot each member it still
//!     owes before the member changes, so the value stays in the keyspace
//!     and goes on in slices; such a write to a big one not written yet
//!     starts it so, or, while another big value is in progress, gives
//!     it its track and queues it to go next (a write of another kind to
//!     it while it waits writes the rest of it out of its track then).
//!
//!   A FLUSHDB or an eviction finishes, never copies. The
//!   one way a key goes without telling the hook, its TTL passing, is held off for the big key being
//!   written from the keyspace: its database pins it (`Db::snap_pin`), so
//!   it reads as missing but stays until its last slice is written.
//!
//! Keys that expire during the snapshot are left out, as they would be
//! left out at load. A write moves the file's current database with a
//! SELECTDB, so keys saved early by the copy-on-write hook can land among
//! another database's keys; Redis's loader (and redis-check-rdb) accept
//! any order of SELECTDB sections.

use super::codec;
use super::rdb::{self, Access};
use crate::store::{Db, Value};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Bytes gathered before they go to the writer thread.
const CHUNK: usize = 256 * 1024;
/// Bytes handed to the writer and not written yet above which the walk
/// waits for it (copy-on-write saves still go through): what a snapshot
/// holds in memory beyond the dataset stays near this.
const MAX_QUEUED: usize = 8 * 1024 * 1024;

/// Parts of a big value written per slice: list nodes (each up to the
/// list's fill, 8 KB by default), or set/sorted set members and hash pairs.
const SLICE_NODES: usize = 16;
const SLICE_MEMBERS: usize = 2048;
/// A value of more than this many slices is written over several turns.
const SPLIT_SLICES: usize = 4;

/// Parts per slice of `v` (see [`codec::parts`]).
fn slice_of(v: &Value) -> usize {
    if matches!(v, Value::List(_)) { SLICE_NODES } else { SLICE_MEMBERS }
}

/// Whether a copy of `v` costs the loop much less than writing it: a
/// list's copy shares its nodes (a pointer each, some 2,500 for 2,000,000
/// short elements, against ~70 ms to write them), and a node is copied
/// only when the keyspace's list changes it, as a fork copies only the
/// pages written to; a hashtable or skiplist copies member by member, no
/// faster than it is written.
fn copies_cheaply(v: &Value) -> bool {
    matches!(v, Value::List(_))
}

/// Heap bytes a copy holds that the keyspace does not: a list's nodes the
/// keyspace's list no longer shares (it changed them since), all of any
/// other value.
fn held_size(v: &Value) -> usize {
    match v {
        Value::List(l) => l.unshared_heap_size(),
        v => v.heap_size(),
    }
}

/// Whether `v` (big) is written with a per-member copy-on-write track
/// when written from the keyspace: a hashtable hash or set, a skiplist
/// sorted set (see `store::snaptrack`).
fn tracks(v: &Value) -> bool {
    matches!(v, Value::Hash(_) | Value::Set(_) | Value::ZSet(_))
}

/// Starts the track of a hash, set or sorted set written from the
/// keyspace.
fn track_start(v: &mut Value, owner: std::sync::Weak<()>) {
    match v {
        Value::Hash(h) => drop(h.snap_start(owner)),
        Value::Set(s) => drop(s.snap_start(owner)),
        Value::ZSet(z) => drop(z.snap_start(owner)),
        _ => {}
    }
}

fn track_end(v: &mut Value) {
    match v {
        Value::Hash(h) => h.snap_end(),
        Value::Set(s) => s.snap_end(),
        Value::ZSet(z) => z.snap_end(),
        _ => {}
    }
}

/// Writes up to `n` of the members a tracked hash, set or sorted set
/// still owes; returns how many it wrote and how many are left, `None` if
/// `v` has no track. A sorted set's go in the order of its arena from the
/// top (for one loaded or built in order, Redis's order: greatest first);
/// the loader takes them in any order.
fn write_tracked(out: &mut Vec<u8>, v: &mut Value, n: usize, compress: bool) -> Option<(usize, usize)> {
    match v {
        Value::Hash(h) => h.snap_slice(n, |f, val| {
            codec::write_string(out, f, compress);
            codec::write_string(out, val, compress);
        }),
        Value::Set(s) => s.snap_slice(n, |m| codec::write_string(out, m, compress)),
        Value::ZSet(z) => z.snap_slice(n, |m, score| {
            codec::write_string(out, m, compress);
            codec::write_double_binary(out, score);
        }),
        _ => None,
    }
}

/// Where the parts of the big value at position `pos` of physical
/// database `i` come from: with `live`, the key itself (a hash, set or
/// sorted set changes only through its track from now on, and the pin of
/// the snapshot holding `token` keeps it stored when its TTL passes);
/// otherwise a copy (a list). The pins of a snapshot that ended without
/// unpinning (its writer failed) go first, so that they cannot pile up.
fn source_for(token: &Arc<()>, db: &mut Db, i: usize, pos: usize, live: bool) -> Option<Source> {
    let (entry, _) = db.at_position(pos)?;
    if !live {
        return Some(Source::Owned { value: Box::new(entry.value.clone()) });
    }
    track_start(&mut entry.value, Arc::downgrade(token));
    let key: Box<[u8]> = entry.key().into();
    db.snap_pins.retain(|(_, t)| t.strong_count() > 0);
    db.snap_pins.push((crate::store::Key::from_slice(&key), Arc::downgrade(token)));
    Some(Source::Live { db: i, key })
}

/// A value written from the keyspace is done with (written, or given
/// up): its pin and its track go.
fn unpin_and_end_track(dbs: &mut [Db], db: usize, key: &[u8]) {
    if let Some(d) = dbs.get_mut(db) {
        d.snap_pins.retain(|(k, _)| k[..] != *key);
        if let Some((e, _)) = d.position_of(key).and_then(|pos| d.at_position(pos)) {
            track_end(&mut e.value);
        }
    }
}

/// The parts `v` is written in when it is big enough to go in slices.
fn big_parts(v: &Value) -> Option<usize> {
    codec::parts(v).filter(|&n| n > SPLIT_SLICES * slice_of(v))
}

/// Who saves a key, which decides how a big value goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Save {
    /// The walk: a big value is written from the keyspace a slice per
    /// turn (when no other is being written), pinned in its database.
    Walk,
    /// The copy-on-write hook, before a write: a big list is copied and
    /// the copy written in slices.
    Write,
    /// The copy-on-write hook, before a write that only adds, changes or
    /// removes members of a hash, set or sorted set and leaves some: a big
    /// one is written from the keyspace in slices (after the big value in
    /// progress, if there is one), its track keeping the members as they
    /// were (anything else: as `Write`).
    Member,
    /// FLUSHDB and eviction, before the key goes: written whole, never
    /// copied (no memory taken where memory is being freed).
    Whole,
}

/// Where a big value's parts come from.
enum Source {
    /// The key as it is in the keyspace: nothing has written it since its
    /// first part went out (before a write, a list is copied and anything
    /// else finished: see [`Snapshot::before_write`]).
    Live { db: usize, key: Box<[u8]> },
    /// A copy of the value as it was, taken when a write came; what it
    /// holds alone ([`held_size`]) is left out of `maxmemory`, as Redis
    /// leaves out its fork's copied pages.
    Owned { value: Box<Value> },
}

/// A big value being written a slice at a time.
struct Partial {
    source: Source,
    /// Parts written, of `parts`.
    done: usize,
    parts: usize,
}

/// A big value saved on write while another one was being written: it
/// goes next. `head` is what precedes its parts (expiry, access data,
/// type, key, count), `hints` the RESIZEDB sizes of its database, and
/// `source` where its parts come from: a copy (a list), the key itself
/// with its track (a hash, set or sorted set a member write reached, see
/// [`Save::Member`]), or none when `head` holds the parts too (such a
/// tracked value that a write of another kind reached while it waited:
/// written out of its track then).
struct Queued {
    origin: usize,
    hints: (usize, usize),
    head: Vec<u8>,
    source: Option<Source>,
    parts: usize,
}

enum Msg {
    Data(Vec<u8>),
    Finish,
    Abort,
}

/// How a snapshot writes (from the config when it starts).
#[derive(Clone)]
pub struct Options {
    pub dir: PathBuf,
    pub filename: String,
    pub compress: bool,
    pub checksum: bool,
    pub access: Access,
    pub used_mem: usize,
    /// `rdb-key-save-delay` (µs per key saved; a test hook).
    pub key_delay_us: i64,
    /// The file is an AOF base (the `aof-base` AUX field says 1).
    pub aof_base: bool,
    /// The temporary file (default `temp-<pid>.rdb` in `dir`).
    pub temp_path: Option<PathBuf>,
    /// fsync every this many bytes written (0: once, at the end), as
    /// Redis's `rioSetAutoSync`.
    pub autosync: u64,
    /// Write commands instead of an RDB (an AOF base with
    /// `aof-use-rdb-preamble no`), starting with a `#TS:` annotation when
    /// `aof_timestamp`.
    pub aof_commands: bool,
    pub aof_timestamp: bool,
    /// The function libraries' codes, copied when the snapshot starts:
    /// written after the header (Redis's `rdbSaveFunctions`), or as
    /// `FUNCTION LOAD` commands before the keys (`rewriteFunctions`).
    pub libraries: Vec<Box<[u8]>>,
}

/// The outcome of a finished snapshot: bytes written, or Redis's log text
/// of the failure.
pub type Outcome = Result<u64, String>;

pub struct Snapshot {
    epoch: bool,
    /// The database index each physical database's data had when the
    /// snapshot started (SWAPDB moves data between indexes).
    origin: Vec<usize>,
    /// Per physical database: positions not walked yet (top-down cursor).
    cursor: Vec<usize>,
    /// The database of the keys the file has last been given.
    file_db: Option<usize>,
    buf: Vec<u8>,
    /// The big value being written, if one is, and those copied on write
    /// meanwhile, to go next.
    partial: Option<Partial>,
    queue: VecDeque<Queued>,
    /// What a database's pin on the big key being written from it holds
    /// on to (`Db::snap_pin`): dropped with the snapshot, which frees the
    /// pin whatever way the snapshot ends.
    pin_token: Arc<()>,
    /// Whole keys saved while `partial` is written, and the database their
    /// bytes leave the file in: they follow it.
    side: Vec<u8>,
    side_db: Option<usize>,
    tx: Option<Sender<Msg>>,
    writer: Option<JoinHandle<Outcome>>,
    /// Bytes sent to the writer and not yet written by it.
    queued: Arc<AtomicUsize>,
    opts: Options,
    /// Keys written so far.
    pub keys: u64,
    /// When it started (unix ms) and the dirty counter then.
    pub started_ms: u64,
    pub dirty_at_start: u64,
}

impl Snapshot {
    /// Starts a snapshot of `dbs` as they are now.
    pub fn start(dbs: &mut [Db], opts: Options, now_ms: u64, dirty: u64) -> Snapshot {
        let epoch = !dbs.first().is_some_and(|d| d.snap_epoch);
        for db in dbs.iter_mut() {
            db.snap_epoch = epoch;
        }
        let (tx, rx) = channel();
        let tmp = opts.temp_path.clone().unwrap_or_else(|| opts.dir.join(format!("temp-{}.rdb", std::process::id())));
        let dest = opts.dir.join(&opts.filename);
        let (checksum, autosync, trailer) = (opts.checksum && !opts.aof_commands, opts.autosync, !opts.aof_commands);
        let queued = Arc::new(AtomicUsize::new(0));
        let written = Arc::clone(&queued);
        let writer = std::thread::Builder::new()
            .name("rdb-writer".into())
            .spawn(move || write_file(rx, &tmp, &dest, (checksum, trailer), autosync, &written))
            .ok();
        let mut buf = Vec::with_capacity(CHUNK + 4096);
        if !opts.aof_commands {
            rdb::write_header(&mut buf, opts.used_mem, opts.aof_base);
        } else if opts.aof_timestamp {
            buf.extend_from_slice(format!("#TS:{}\r\n", now_ms / 1000).as_bytes());
        }
        for code in &opts.libraries {
            if opts.aof_commands {
                super::propagate::write_command(&mut buf, &[&b"FUNCTION"[..], b"LOAD", code]);
            } else {
                codec::functions::write_library(&mut buf, code, opts.compress);
            }
        }
        Snapshot {
            epoch,
            origin: (0..dbs.len()).collect(),
            cursor: dbs.iter().map(|d| d.len()).collect(),
            file_db: None,
            buf,
            partial: None,
            pin_token: Arc::new(()),
            queue: VecDeque::new(),
            side: Vec::new(),
            side_db: None,
            tx: Some(tx),
            writer,
            queued,
            opts,
            keys: 0,
            started_ms: now_ms,
            dirty_at_start: dirty,
        }
    }

    /// Whether the walk is over (the writer may still be writing).
    pub fn walked(&self) -> bool {
        self.tx.is_none()
    }

    /// Whether the writer is behind by more than [`MAX_QUEUED`] (the walk
    /// then waits; the loop looks again a millisecond later).
    pub fn throttled(&self) -> bool {
        self.queued.load(Ordering::Relaxed) > MAX_QUEUED
    }

    /// Walks the keyspace for up to `budget` (not while the writer is far
    /// behind); at the end, hands the EOF to the writer.
    pub fn step(&mut self, dbs: &mut [Db], now_ms: u64, budget: Duration) {
        if self.throttled() {
            return;
        }
        let start = Instant::now();
        if !self.continue_partial(dbs, Some((start, budget))) {
            self.flush(false);
            return;
        }
        let mut n = 0u32;
        // (A snapshot aborted by `continue_partial` has no writer left.)
        let walking = |s: &Self| s.tx.is_some();
        while let Some(i) = (0..dbs.len()).find(|&i| self.cursor[i] > 0 && walking(self)) {
            self.cursor[i] = self.cursor[i].min(dbs[i].len());
            while self.cursor[i] > 0 && walking(self) {
                self.cursor[i] -= 1;
                let pos = self.cursor[i];
                self.save_position(dbs, i, pos, now_ms, Save::Walk);
                n += 1;
                let split = self.partial.is_some();
                if (split || n.is_multiple_of(64) || self.opts.key_delay_us > 0)
                    && (start.elapsed() > budget || self.throttled())
                {
                    self.flush(false);
                    return;
                }
                if split && !self.continue_partial(dbs, Some((start, budget))) {
                    self.flush(false);
                    return;
                }
            }
        }
        if self.tx.is_some() {
            if !self.opts.aof_commands {
                self.buf.push(rdb::OP_EOF);
            }
            self.flush(true);
            if let Some(tx) = self.tx.take() {
                let _ = tx.send(Msg::Finish);
            }
        }
    }

    /// Saves the entry at position `pos` of physical database `i` unless
    /// it is saved (or expired); a big one as [`Save`] says.
    fn save_position(&mut self, dbs: &mut [Db], i: usize, pos: usize, now_ms: u64, how: Save) {
        let (epoch, origin) = (self.epoch, self.origin[i]);
        let (keys, expires) = (dbs[i].len(), dbs[i].volatile_len());
        let Some((entry, at)) = dbs[i].at_position(pos) else { return };
        if entry.snap_mark() == epoch {
            return;
        }
        entry.set_snap_mark(epoch);
        if at.is_some_and(|t| t <= now_ms) {
            return;
        }
        let (access, compress) = (self.opts.access, self.opts.compress);
        let big = if self.opts.aof_commands { None } else { big_parts(&entry.value) };
        let how = if how == Save::Member && !tracks(&entry.value) { Save::Write } else { how };
        // Bytes go to the file's buffer unless a big value is half written
        // there (then to the side buffer, which follows it): the side
        // buffer is empty whenever no big value is.
        let idle = self.partial.is_none();
        // While a big value is being written, a big list the hook saves is
        // copied, and a big hash, set or sorted set a member write reaches
        // gets its track: either goes next.
        if let Some(parts) = big
            && !idle
            && (how == Save::Write && copies_cheaply(&entry.value) || how == Save::Member)
        {
            let mut head = Vec::new();
            rdb::write_key_head(&mut head, entry.key(), entry, at, access, now_ms, compress);
            codec::write_len(&mut head, parts as u64);
            // (The entry is there: it was just read.)
            let Some(source) = source_for(&self.pin_token, &mut dbs[i], i, pos, how == Save::Member) else {
                return self.abort_broken();
            };
            self.queue.push_back(Queued { origin, hints: (keys, expires), head, source: Some(source), parts });
            self.keys += 1;
            return;
        }
        // While a big value is being written, whole keys go after it.
        let (buf, file_db) =
            if idle { (&mut self.buf, &mut self.file_db) } else { (&mut self.side, &mut self.side_db) };
        if self.opts.aof_commands {
            if *file_db != Some(origin) {
                let db = origin.to_string();
                super::propagate::write_command(buf, &[&b"SELECT"[..], db.as_bytes()]);
                *file_db = Some(origin);
            }
            super::aof::write_key_commands(buf, entry.key(), &entry.value, at);
        } else {
            if *file_db != Some(origin) {
                rdb::write_select(buf, origin, keys, expires);
                *file_db = Some(origin);
            }
            match big {
                Some(parts)
                    if idle
                        && match how {
                            Save::Walk | Save::Member => true,
                            Save::Write => copies_cheaply(&entry.value),
                            Save::Whole => false,
                        } =>
                {
                    rdb::write_key_head(buf, entry.key(), entry, at, access, now_ms, compress);
                    codec::write_len(buf, parts as u64);
                    self.side_db = Some(origin);
                    let Some(source) = source_for(&self.pin_token, &mut dbs[i], i, pos, how != Save::Write) else {
                        return self.abort_broken();
                    };
                    self.partial = Some(Partial { source, done: 0, parts });
                }
                _ => rdb::write_key(buf, entry.key(), entry, at, access, now_ms, compress),
            }
        }
        self.keys += 1;
        if self.opts.key_delay_us > 0 {
            std::thread::sleep(Duration::from_micros(self.opts.key_delay_us as u64));
        }
        if self.buf.len() >= CHUNK {
            self.flush(false);
        }
    }

    /// Writes slices of the big values in progress and queued until they
    /// are done, or (with a budget) until the budget is spent or the writer
    /// is far behind. Returns whether they are done.
    fn continue_partial(&mut self, dbs: &mut [Db], budget: Option<(Instant, Duration)>) -> bool {
        loop {
            if self.partial.is_none() {
                let Some(q) = self.queue.pop_front() else { return true };
                debug_assert!(self.side.is_empty());
                if self.file_db != Some(q.origin) {
                    rdb::write_select(&mut self.buf, q.origin, q.hints.0, q.hints.1);
                    self.file_db = Some(q.origin);
                }
                self.buf.extend_from_slice(&q.head);
                self.side_db = self.file_db;
                let Some(source) = q.source else { continue };
                self.partial = Some(Partial { source, done: 0, parts: q.parts });
            }
            let Some(p) = self.partial.as_mut() else { return true };
            // A hash, set or sorted set written from the keyspace: its track hands out
            // what it owes.
            let tracked = match &p.source {
                Source::Live { db, key } => dbs.get_mut(*db).and_then(|d| {
                    let pos = d.position_of(key)?;
                    let (e, _) = d.at_position(pos)?;
                    write_tracked(&mut self.buf, &mut e.value, SLICE_MEMBERS, self.opts.compress)
                }),
                Source::Owned { .. } => None,
            };
            match tracked {
                Some((0, left)) if left > 0 => {
                    self.abort_broken();
                    return true;
                }
                Some((_, left)) => p.done = p.parts.saturating_sub(left),
                None => {
                    let value = match &p.source {
                        Source::Live { db, key } => dbs
                            .get(*db)
                            .and_then(|d| d.position_of(key).and_then(|pos| d.entry_at(pos)))
                            .map(|e| &e.value)
                            // (A hash, set or sorted set written from the
                            // keyspace has a track.)
                            .filter(|v| !tracks(v) && codec::parts(v) == Some(p.parts)),
                        Source::Owned { value, .. } => Some(&**value),
                    };
                    let Some(v) = value else {
                        self.abort_broken();
                        return true;
                    };
                    let n = slice_of(v);
                    codec::write_parts(&mut self.buf, v, p.done, n, self.opts.compress);
                    p.done += n;
                }
            }
            if p.done >= p.parts {
                self.end_live(dbs);
            }
            if self.opts.key_delay_us > 0 {
                std::thread::sleep(Duration::from_micros(self.opts.key_delay_us as u64));
            }
            if self.buf.len() >= CHUNK {
                self.flush(false);
            }
            let more = self.partial.is_some() || !self.queue.is_empty();
            if more
                && let Some((start, budget)) = budget
                && (start.elapsed() > budget || self.throttled())
            {
                return false;
            }
        }
    }

    /// The big value in progress is written: its pin and track go, and the
    /// whole keys saved meanwhile follow it in the file.
    fn end_live(&mut self, dbs: &mut [Db]) {
        if let Some(Partial { source: Source::Live { db, key }, .. }) = &self.partial {
            unpin_and_end_track(dbs, *db, key);
        }
        self.partial = None;
        self.buf.append(&mut self.side);
        self.file_db = self.side_db;
    }

    /// The big value in progress is not what it must be: every write to
    /// it is copied or tracked first, so this is a bug, and a file with a
    /// broken value must not be written.
    fn abort_broken(&mut self) {
        log::warn!("A big key changed while the snapshot was writing it; the snapshot is aborted");
        self.partial = None;
        self.queue.clear();
        self.side.clear();
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Msg::Abort);
        }
    }

    /// The big value being written from the keyspace, if it is `key` of
    /// physical database `db` (any key of `db` when `key` is `None`), is
    /// about to change or go, as `how` says: a hash, set or sorted set whose members
    /// change (`Save::Member`) stays as it is (its track keeps what it
    /// owes), a list becomes a copy of itself (its parts go from the copy
    /// over the next turns) unless `how` is `Save::Whole`, anything else is
    /// finished now. Returns whether it was that value.
    fn detach(&mut self, dbs: &mut [Db], db: usize, key: Option<&[u8]>, how: Save) -> bool {
        if self.detach_queued(dbs, db, key, how) && key.is_some() {
            return true;
        }
        let Some(p) = self.partial.as_mut() else { return false };
        let Source::Live { db: pdb, key: pkey } = &p.source else { return false };
        if *pdb != db || key.is_some_and(|k| *k != **pkey) {
            return false;
        }
        let entry = dbs[db].position_of(pkey).and_then(|pos| dbs[db].entry_at(pos));
        if how == Save::Member && entry.is_some_and(|e| tracks(&e.value)) {
            return true;
        }
        let copy = how != Save::Whole;
        if let Some(entry) = entry.filter(|e| copy && copies_cheaply(&e.value)) {
            let value = Box::new(entry.value.clone());
            dbs[db].snap_pins.retain(|(k, _)| k[..] != **pkey);
            p.source = Source::Owned { value };
            return true;
        }
        // Only this value: copies queued behind it wait their turn.
        let queued = std::mem::take(&mut self.queue);
        while matches!(self.partial.as_ref().map(|p| &p.source), Some(Source::Live { .. })) {
            self.continue_partial(dbs, None);
        }
        self.queue = queued;
        true
    }

    /// The big hashes, sets and sorted sets waiting in the queue with their
    /// tracks, if `key` of physical database `db` is one (any of `db`
    /// when `key` is `None`), are about to change or go as `how` says: a
    /// member write goes through the track; anything else writes the rest
    /// of the value out of its track into its queued bytes now, as writing
    /// it whole would have. Returns whether one was met.
    fn detach_queued(&mut self, dbs: &mut [Db], db: usize, key: Option<&[u8]>, how: Save) -> bool {
        let compress = self.opts.compress;
        let (mut met, mut broken) = (false, false);
        for q in self.queue.iter_mut() {
            let Some(Source::Live { db: qdb, key: qkey }) = &q.source else { continue };
            if *qdb != db || key.is_some_and(|k| *k != **qkey) {
                continue;
            }
            met = true;
            if how == Save::Member {
                continue;
            }
            let left = dbs[db].position_of(qkey).and_then(|pos| dbs[db].at_position(pos)).and_then(|(e, _)| {
                let mut left = None;
                while let Some((n, l)) = write_tracked(&mut q.head, &mut e.value, SLICE_MEMBERS, compress) {
                    left = Some(l);
                    if n == 0 {
                        break;
                    }
                }
                left
            });
            broken |= left != Some(0);
            unpin_and_end_track(dbs, db, qkey);
            q.source = None;
        }
        if broken {
            self.abort_broken();
        }
        met
    }

    /// Copy-on-write: `key` of physical database `db` is about to change;
    /// saves its current value first unless the snapshot has it already.
    /// A big list is copied and written from the copy in slices over the
    /// next turns (as is the rest of the one being written).
    pub fn before_write(&mut self, dbs: &mut [Db], db: usize, key: &[u8], now_ms: u64) {
        self.before(dbs, db, key, now_ms, Save::Write);
    }

    /// Copy-on-write before a write that adds, changes or removes at most
    /// `removes` members of `key` (of physical database `db`), if that
    /// leaves it some: a big hash, set or sorted set is then written from the keyspace
    /// a slice at a time, its members as they were kept by its track
    /// (`store::snaptrack`) instead of the whole of it being written now.
    pub fn before_member_write(&mut self, dbs: &mut [Db], db: usize, key: &[u8], removes: usize, now_ms: u64) {
        // A key whose TTL passed (kept by the snapshot's pin) reads as
        // missing: the write replaces it with a new value.
        let stays = dbs[db].position_of(key).is_some_and(|pos| {
            dbs[db].expire_at_index(pos).is_none_or(|t| t > now_ms)
                && dbs[db].entry_at(pos).is_some_and(|e| codec::parts(&e.value).is_some_and(|n| n > removes))
        });
        self.before(dbs, db, key, now_ms, if stays { Save::Member } else { Save::Write });
    }

    fn before(&mut self, dbs: &mut [Db], db: usize, key: &[u8], now_ms: u64, how: Save) {
        if self.tx.is_none() || self.detach(dbs, db, Some(key), how) {
            return;
        }
        let Some(pos) = dbs[db].position_of(key) else { return };
        self.save_position(dbs, db, pos, now_ms, how);
    }

    /// Eviction: `key` is about to be deleted to free memory, so nothing is
    /// copied: the big value being written from it is finished now, and
    /// any other is written whole.
    pub fn before_evict(&mut self, dbs: &mut [Db], db: usize, key: &[u8], now_ms: u64) {
        if self.tx.is_none() || self.detach(dbs, db, Some(key), Save::Whole) {
            return;
        }
        let Some(pos) = dbs[db].position_of(key) else { return };
        self.save_position(dbs, db, pos, now_ms, Save::Whole);
    }

    /// Bytes of the values copied on write and not written yet, and of
    /// the members the hash, set or sorted set being written from `dbs` saved before
    /// they changed (left out of `maxmemory`).
    pub fn held_bytes(&self, dbs: &[Db]) -> usize {
        let held = |source: &Source| match source {
            Source::Owned { value } => held_size(value),
            Source::Live { db, key } => {
                match dbs.get(*db).and_then(|d| d.position_of(key).and_then(|pos| d.entry_at(pos))).map(|e| &e.value) {
                    Some(Value::Hash(h)) => h.snap_held(),
                    Some(Value::Set(s)) => s.snap_held(),
                    Some(Value::ZSet(z)) => z.snap_held(),
                    _ => 0,
                }
            }
        };
        self.partial.as_ref().map_or(0, |p| held(&p.source))
            + self.queue.iter().map(|q| q.head.capacity() + q.source.as_ref().map_or(0, held)).sum::<usize>()
    }

    /// FLUSHDB of physical database `db`: everything of it not saved yet is
    /// saved now (a big value being written from it, copied).
    pub fn before_flush(&mut self, dbs: &mut [Db], db: usize, now_ms: u64) {
        if self.tx.is_none() {
            return;
        }
        self.detach(dbs, db, None, Save::Whole);
        while self.cursor[db] > 0 {
            self.cursor[db] = self.cursor[db].min(dbs[db].len());
            if self.cursor[db] == 0 {
                break;
            }
            self.cursor[db] -= 1;
            let pos = self.cursor[db];
            self.save_position(dbs, db, pos, now_ms, Save::Whole);
        }
    }

    /// SWAPDB `a` `b`: the data (and where its walk stands) moves along.
    pub fn swapdb(&mut self, a: usize, b: usize) {
        self.origin.swap(a, b);
        self.cursor.swap(a, b);
        let live = self.partial.as_mut().map(|p| &mut p.source).into_iter();
        for source in live.chain(self.queue.iter_mut().filter_map(|q| q.source.as_mut())) {
            if let Source::Live { db, .. } = source {
                *db = if *db == a {
                    b
                } else if *db == b {
                    a
                } else {
                    *db
                };
            }
        }
    }

    fn flush(&mut self, last: bool) {
        if self.buf.is_empty() && !last {
            return;
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK + 4096));
        if let Some(tx) = &self.tx {
            // Counted before the send (the writer subtracts what it wrote);
            // a writer that already failed takes nothing, and counts nothing.
            let n = chunk.len();
            self.queued.fetch_add(n, Ordering::Relaxed);
            if tx.send(Msg::Data(chunk)).is_err() {
                self.queued.fetch_sub(n, Ordering::Relaxed);
            }
        }
    }

    /// The writer finished (or is gone): its outcome. `None` while it
    /// still writes.
    pub fn poll(&mut self) -> Option<Outcome> {
        // The writer ends after the EOF, or early when it failed (it could
        // not create its file, a write failed): either way the snapshot is
        // over, walked to the end or not.
        if self.writer.as_ref().is_some_and(|w| !w.is_finished()) {
            return None;
        }
        self.tx = None;
        Some(self.join())
    }

    /// Waits for the writer (SAVE, SHUTDOWN).
    pub fn join(&mut self) -> Outcome {
        match self.writer.take() {
            Some(w) => w.join().unwrap_or_else(|_| Err("the RDB writer thread panicked".into())),
            None => Err("Can't start the RDB writer thread".into()),
        }
    }

    /// Stops the snapshot, removing its temporary file; every entry gets
    /// the current mark (and no pin stays) so the next snapshot starts clean.
    pub fn abort(mut self, dbs: &mut [Db]) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Msg::Abort);
        }
        let _ = self.join();
        self.end_live(dbs);
        for q in std::mem::take(&mut self.queue) {
            if let Some(Source::Live { db, key }) = q.source {
                unpin_and_end_track(dbs, db, &key);
            }
        }
        for db in dbs.iter_mut() {
            db.snap_pins.clear();
            let epoch = db.snap_epoch;
            for pos in 0..db.len() {
                if let Some((e, _)) = db.at_position(pos) {
                    e.set_snap_mark(epoch);
                }
            }
        }
    }
}

/// The writer thread: the temporary file, the CRC-64 of every byte, the
/// checksum trailer, fsync, rename over the destination, fsync of the
/// directory (so the rename itself survives a crash).
fn write_file(
    rx: Receiver<Msg>,
    tmp: &Path,
    dest: &Path,
    (checksum, trailer): (bool, bool),
    autosync: u64,
    queued: &AtomicUsize,
) -> Outcome {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let file = File::create(tmp).map_err(|e| {
        format!(
            "Failed opening the temp RDB file {} (in server root dir {}) for saving: {}",
            tmp.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
            dir.display(),
            crate::config::strerror(&e)
        )
    })?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut crc = 0u64;
    let mut total = 0u64;
    let fail = |e: std::io::Error, tmp: &Path| {
        let _ = std::fs::remove_file(tmp);
        format!("Write error saving DB on disk: {}", crate::config::strerror(&e))
    };
    for msg in rx {
        match msg {
            Msg::Data(chunk) => {
                if checksum {
                    crc = codec::crc64(crc, &chunk);
                }
                let before = total;
                total += chunk.len() as u64;
                out.write_all(&chunk).map_err(|e| fail(e, tmp))?;
                queued.fetch_sub(chunk.len(), Ordering::Relaxed);
                if autosync > 0 && before / autosync != total / autosync {
                    out.flush().map_err(|e| fail(e, tmp))?;
                    out.get_ref().sync_data().map_err(|e| fail(e, tmp))?;
                }
            }
            Msg::Finish => {
                if trailer {
                    out.write_all(&crc.to_le_bytes()).map_err(|e| fail(e, tmp))?;
                    total += 8;
                }
                let file = out.into_inner().map_err(|e| fail(e.into_error(), tmp))?;
                file.sync_all().map_err(|e| fail(e, tmp))?;
                drop(file);
                std::fs::rename(tmp, dest).map_err(|e| {
                    let _ = std::fs::remove_file(tmp);
                    format!(
                        "Error moving temp DB file {} on the final destination {} (in server root dir {}): {}",
                        tmp.display(),
                        dest.display(),
                        dir.display(),
                        crate::config::strerror(&e)
                    )
                })?;
                if let Ok(d) = File::open(dir) {
                    let _ = d.sync_all();
                }
                return Ok(total);
            }
            Msg::Abort => break,
        }
    }
    drop(out);
    let _ = std::fs::remove_file(tmp);
    Err("the snapshot was aborted".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Expiry;
    use crate::store::bytes::Bytes;
    use crate::store::hash::{Hash, Limits as HashLimits};
    use crate::store::list::{End, List, Shape};
    use crate::store::set::{Member, Set};
    use crate::store::zset::{Limits as ZLimits, ZSet};

    const NOW: u64 = 1_000_000;
    const ZLIM: ZLimits = ZLimits { entries: 128, value: 64 };

    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    fn big(kind: usize, n: usize, tag: usize) -> Value {
        match kind {
            0 => {
                let mut l = List::new();
                (0..n).for_each(|i| l.push(End::Right, format!("v:{tag}:{i}").as_bytes(), Shape::default()));
                Value::List(l)
            }
            1 => {
                let mut s = Set::new();
                (0..n).for_each(|i| {
                    s.add(Member::parse(format!("m:{tag}:{i}").as_bytes()), 512);
                });
                Value::Set(Box::new(s))
            }
            2 => {
                let mut z = ZSet::new();
                (0..n).for_each(|i| {
                    z.insert(format!("m:{tag}:{i}").as_bytes(), (i % 50) as f64, ZLIM);
                });
                Value::ZSet(Box::new(z))
            }
            _ => {
                let mut h = Hash::new();
                (0..n).for_each(|i| {
                    h.insert(format!("f:{tag}:{i}").as_bytes(), b"value", HashLimits::default());
                });
                Value::Hash(Box::new(h))
            }
        }
    }

    /// Changes one element of `v` (or replaces a string).
    fn touch(v: &mut Value, r: usize) {
        let m = format!("w:{r}");
        match v {
            Value::List(l) => {
                l.push(if r.is_multiple_of(2) { End::Left } else { End::Right }, m.as_bytes(), Shape::default())
            }
            Value::Set(s) => {
                s.add(Member::parse(m.as_bytes()), 512);
            }
            Value::ZSet(z) => {
                z.insert(b"m:0:1", r as f64 + 0.5, ZLIM);
            }
            Value::Hash(h) => {
                h.insert(b"f:0:1", m.as_bytes(), HashLimits::default());
            }
            other => *other = Value::Str(Bytes::from_slice(m.as_bytes())),
        }
    }

    /// `k` member writes to a hash, set or sorted set, as HSET/HDEL/SADD/
    /// SREM/SPOP/ZADD/ZINCRBY/ZREM/ZPOPMIN make them: new members, changed
    /// values or scores, removals (at most `k`).
    fn churn(v: &mut Value, k: usize, r: usize, rng: &mut Rng) {
        for j in 0..k {
            let op = rng.below(if matches!(v, Value::ZSet(_)) { 5 } else { 3 });
            match v {
                Value::Hash(h) if !h.is_empty() => {
                    let field = h.nth(rng.below(h.len())).map(|(f, _)| f.to_vec()).unwrap_or_default();
                    match op {
                        0 => drop(h.insert(&field, format!("c:{r}:{j}").as_bytes(), HashLimits::default())),
                        1 => drop(h.insert(format!("w:{r}:{j}").as_bytes(), b"new", HashLimits::default())),
                        _ => drop(h.remove(&field)),
                    }
                }
                Value::Set(s) if !s.is_empty() => {
                    let i = rng.below(s.len());
                    match op {
                        0 => drop(s.add(Member::parse(format!("w:{r}:{j}").as_bytes()), 512)),
                        1 => drop(s.nth(i).map(|m| m.to_vec()).map(|m| s.remove_bytes(&m))),
                        _ => drop(s.take_nth(i)),
                    }
                }
                Value::ZSet(z) if !z.is_empty() => {
                    let i = rng.below(z.len());
                    let member = z.get_by_rank(i).map(|(m, _)| m.to_vec()).unwrap_or_default();
                    match op {
                        0 => drop(z.insert(format!("w:{r}:{j}").as_bytes(), (j % 7) as f64, ZLIM)),
                        1 => drop(z.insert(&member, r as f64 - 0.5, ZLIM)),
                        2 => drop(z.remove(&member)),
                        3 => drop(z.pop(j % 2 == 0)),
                        _ => drop(z.remove_range(i, i + 1)),
                    }
                }
                _ => {}
            }
        }
    }

    fn contents(db: &Db) -> Vec<(Vec<u8>, Value, Option<u64>)> {
        let mut v: Vec<_> = (0..db.len())
            .filter_map(|i| db.entry_at(i).map(|e| (e.key().to_vec(), e.value.clone(), db.expire_at_index(i))))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    fn options(dir: &std::path::Path) -> Options {
        Options {
            dir: dir.to_path_buf(),
            filename: "dump.rdb".into(),
            compress: true,
            checksum: true,
            access: Access::None,
            used_mem: 0,
            key_delay_us: 0,
            aof_base: false,
            temp_path: None,
            autosync: 0,
            aof_commands: false,
            aof_timestamp: false,
            libraries: Vec::new(),
        }
    }

    /// Waits for the writer; the outcome.
    fn finish(snap: &mut Snapshot) -> Outcome {
        loop {
            if let Some(o) = snap.poll() {
                return o;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// The file in `dir` loaded into three databases (as of [`NOW`]).
    fn load(dir: &std::path::Path) -> Vec<Db> {
        let data = std::fs::read(dir.join("dump.rdb")).unwrap();
        let mut loader = rdb::Loader::new(data, codec::Limits::default()).unwrap();
        let mut loaded: Vec<Db> = (0..3).map(|_| Db::new()).collect();
        while !loader.done {
            loader.step(&mut loaded, NOW, Duration::from_secs(60)).unwrap();
        }
        loaded
    }

    /// A big key whose TTL passes while its slices are written, or while
    /// it waits its turn with its track, stays (reading as missing: no
    /// lookup or active expiry deletes it) until its last slice, and is in
    /// the file whole; then it expires as any key. A snapshot that ends
    /// early (aborted) frees the pins too.
    #[test]
    fn a_big_key_expiring_while_written_in_slices_is_in_the_file() {
        let dir = std::env::temp_dir().join(format!("ferrokv-snap-ttl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let later = NOW + 1_000;
        let mut rng = crate::store::rand::Rng::new(7);
        for abort in [false, true] {
            let mut dbs: Vec<Db> = (0..3).map(|_| Db::new()).collect();
            dbs[0].put(b"small", Value::Str(Bytes::from_slice(b"x")), None, NOW);
            dbs[0].put(b"queued", big(1, 20_000, 1), Some(NOW + 10), NOW);
            dbs[0].put(b"big", big(3, 20_000, 0), Some(NOW + 10), NOW);
            let model = contents(&dbs[0]);
            let mut snap = Snapshot::start(&mut dbs, options(&dir), NOW, 0);
            snap.step(&mut dbs, NOW, Duration::ZERO);
            assert!(snap.partial.is_some(), "the walk begins with the big key");
            // A member write to the other big key: it waits its turn, with
            // its track.
            snap.before_member_write(&mut dbs, 0, b"queued", 0, NOW);
            assert!(matches!(snap.queue.front().and_then(|q| q.source.as_ref()), Some(Source::Live { .. })));
            if let Some(e) = dbs[0].get_mut(b"queued", NOW) {
                churn(&mut e.value, 30, 1, &mut Rng(5));
            }
            // Their TTLs pass: lookups and the active cycle leave them stored.
            assert!(dbs[0].get(b"big", later).is_none());
            assert!(dbs[0].get(b"queued", later).is_none());
            dbs[0].expire_sample(later, 16, &mut rng);
            assert_eq!(dbs[0].len(), 3, "kept while they are being written");
            if abort {
                snap.abort(&mut dbs);
            } else {
                while !snap.walked() {
                    snap.step(&mut dbs, NOW, Duration::ZERO);
                }
                assert!(finish(&mut snap).is_ok());
                assert_eq!(contents(&load(&dir)[0]), model, "the file has them whole, with their TTLs");
                drop(snap);
            }
            assert!(dbs[0].get(b"big", later).is_none());
            assert!(dbs[0].get(b"queued", later).is_none());
            assert_eq!(dbs[0].len(), 1, "expired once the snapshot is done with them");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A member write (HSET, SADD, ZADD, ...) to a big key whose TTL
    /// passed while it was being written or waiting its turn makes a new
    /// value (the key reads as missing): the old one is written out first,
    /// and the file has it as it was.
    #[test]
    fn a_member_write_to_a_big_key_whose_ttl_passed_comes_after_it_is_written() {
        let dir = std::env::temp_dir().join(format!("ferrokv-snap-ttl-write-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let later = NOW + 1_000;
        let mut dbs: Vec<Db> = (0..3).map(|_| Db::new()).collect();
        dbs[0].put(b"queued", big(2, 20_000, 1), Some(NOW + 10), NOW);
        dbs[0].put(b"big", big(3, 20_000, 0), Some(NOW + 10), NOW);
        let model = contents(&dbs[0]);
        let mut snap = Snapshot::start(&mut dbs, options(&dir), NOW, 0);
        snap.step(&mut dbs, NOW, Duration::ZERO);
        snap.before_member_write(&mut dbs, 0, b"queued", 0, NOW);
        for key in [&b"big"[..], b"queued"] {
            // As HSET/ZADD do on a key that reads as missing.
            snap.before_member_write(&mut dbs, 0, key, 0, later);
            assert!(dbs[0].get(key, later).is_none());
            dbs[0].put(key, Value::Str(Bytes::from_slice(b"new")), None, later);
        }
        while !snap.walked() {
            snap.step(&mut dbs, later, Duration::ZERO);
        }
        assert!(finish(&mut snap).is_ok());
        assert_eq!(contents(&load(&dir)[0]), model);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Random writes, deletions, evictions, SWAPDBs and FLUSHDBs between
    /// the snapshot's slices (each step with no time budget: one slice or
    /// one key at a time): the file loads as the dataset at the start.
    #[test]
    fn writes_between_slices_leave_the_file_as_the_dataset_was() {
        for seed in 1..=6u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut dbs: Vec<Db> = (0..3).map(|_| Db::new()).collect();
            for (d, db) in dbs.iter_mut().enumerate() {
                for i in 0..30 {
                    let at = if i % 3 == 0 { Some(NOW + 1_000_000) } else { None };
                    db.put(format!("s:{i}").as_bytes(), Value::Str(Bytes::from_slice(b"x")), at, NOW);
                }
                for kind in 0..4 {
                    let n = [100_000, 10_000, 10_000, 10_000][kind];
                    let at = if kind == d { Some(NOW + 1_000_000) } else { None };
                    db.put(format!("big:{kind}").as_bytes(), big(kind, n, d), at, NOW);
                }
            }
            let model: Vec<_> = dbs.iter().map(contents).collect();
            let dir = std::env::temp_dir().join(format!("ferrokv-snap-{}-{seed}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let mut snap = Snapshot::start(&mut dbs, options(&dir), NOW, 0);
            let mut ops = 0;
            while !snap.walked() {
                snap.step(&mut dbs, NOW, Duration::ZERO);
                for _ in 0..rng.below(4) {
                    ops += 1;
                    let d = rng.below(3);
                    let keys: Vec<Vec<u8>> =
                        (0..dbs[d].len()).filter_map(|i| dbs[d].entry_at(i).map(|e| e.key().to_vec())).collect();
                    let key = if keys.is_empty() { b"s:0".to_vec() } else { keys[rng.below(keys.len())].clone() };
                    match rng.below(40) {
                        0..=11 => {
                            // Member writes to a big hash, set or sorted
                            // set (the one being written, often): its track
                            // keeps what it owes.
                            let key = format!("big:{}", 1 + rng.below(3)).into_bytes();
                            let k = rng.below(60);
                            snap.before_member_write(&mut dbs, d, &key, k, NOW);
                            if let Some(e) = dbs[d].get_mut(&key, NOW) {
                                churn(&mut e.value, k, ops, &mut rng);
                            }
                        }
                        12..=23 => {
                            snap.before_write(&mut dbs, d, &key, NOW);
                            if let Some(e) = dbs[d].get_mut(&key, NOW) {
                                touch(&mut e.value, ops);
                            }
                        }
                        24..=29 => {
                            snap.before_write(&mut dbs, d, &key, NOW);
                            dbs[d].remove(&key, NOW);
                        }
                        30..=33 => {
                            let new = format!("new:{ops}");
                            snap.before_write(&mut dbs, d, new.as_bytes(), NOW);
                            let v = if ops % 5 == 0 {
                                big(ops % 4, 60_000, 9)
                            } else {
                                Value::Str(Bytes::from_slice(b"n"))
                            };
                            dbs[d].set(new.as_bytes(), v, Expiry::None, NOW);
                        }
                        34..=36 => {
                            snap.before_evict(&mut dbs, d, &key, NOW);
                            dbs[d].evict(&key);
                        }
                        37..=38 => {
                            let (a, b) = (rng.below(3), rng.below(3));
                            dbs.swap(a, b);
                            snap.swapdb(a, b);
                        }
                        _ => {
                            snap.before_flush(&mut dbs, d, NOW);
                            dbs[d].clear();
                        }
                    }
                }
            }
            let outcome = finish(&mut snap);
            assert!(outcome.is_ok(), "seed {seed}: {outcome:?}");
            let loaded = load(&dir);
            for d in 0..3 {
                let got = contents(&loaded[d]);
                assert_eq!(got.len(), model[d].len(), "seed {seed}, db {d}: key count ({ops} writes)");
                for (g, m) in got.iter().zip(&model[d]) {
                    assert!(g == m, "seed {seed}, db {d}: key {:?} differs", String::from_utf8_lossy(&m.0));
                }
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
