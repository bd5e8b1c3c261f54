//! Whole RDB files (Redis 7.0's layout, RDB version 10): the header and
//! AUX fields, databases (SELECTDB, RESIZEDB), keys with their expiry and
//! LRU/LFU data, the EOF opcode and the CRC-64 trailer; and the loader,
//! which decodes a file a slice at a time so the event loop keeps serving
//! (`-LOADING` to commands that need the data) while it loads.
//!
//! Values themselves are encoded and decoded by [`codec`], the one codec
//! snapshots, DUMP/RESTORE and MIGRATE share.

use super::codec::{self, Reader};
use crate::store::{Db, Entry, Value, evict};
use std::time::{Duration, Instant};

pub const OP_FUNCTION_PRE_GA: u8 = 246;
pub const OP_FUNCTION2: u8 = 245;
pub const OP_MODULE_AUX: u8 = 247;
pub const OP_IDLE: u8 = 248;
pub const OP_FREQ: u8 = 249;
pub const OP_AUX: u8 = 250;
pub const OP_RESIZEDB: u8 = 251;
pub const OP_EXPIRETIME_MS: u8 = 252;
pub const OP_EXPIRETIME: u8 = 253;
pub const OP_SELECTDB: u8 = 254;
pub const OP_EOF: u8 = 255;

/// Highest RDB version this loader reads: Redis 7.2 writes 11, 7.4 12;
/// their new types are decoded by the codec where ferrokv has the type.
pub const MAX_READ_VERSION: u16 = 12;
/// Valkey 9 writes versions from 80 on (its "foreign" range) with Redis
/// 7.2's types: read those too.
pub const VALKEY_VERSIONS: std::ops::RangeInclusive<u16> = 80..=90;

/// What a key's access data is saved as (Redis: by the eviction policy).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    None,
    /// LRU idle seconds (RDB_OPCODE_IDLE).
    Idle,
    /// LFU counter (RDB_OPCODE_FREQ), decayed with this `lfu-decay-time`.
    Freq(u32),
}

/// The start of a file: magic, version, and Redis's AUX fields.
pub fn write_header(out: &mut Vec<u8>, used_mem: usize, aof_base: bool) {
    out.extend_from_slice(format!("REDIS{:04}", codec::RDB_VERSION).as_bytes());
    let ctime = crate::clock::unix_ms() / 1000;
    let fields: [(&str, String); 5] = [
        ("redis-ver", crate::REDIS_VERSION.to_string()),
        ("redis-bits", "64".into()),
        ("ctime", ctime.to_string()),
        ("used-mem", used_mem.to_string()),
        ("aof-base", if aof_base { "1" } else { "0" }.into()),
    ];
    for (k, v) in fields {
        out.push(OP_AUX);
        codec::write_string(out, k.as_bytes(), false);
        codec::write_string(out, v.as_bytes(), false);
    }
}

/// `SELECTDB db` and the `RESIZEDB` size hints.
pub fn write_select(out: &mut Vec<u8>, db: usize, keys: usize, expires: usize) {
    out.push(OP_SELECTDB);
    codec::write_len(out, db as u64);
    out.push(OP_RESIZEDB);
    codec::write_len(out, keys as u64);
    codec::write_len(out, expires as u64);
}

/// One key: its expiry, access data, type, name and value (Redis's
/// rdbSaveKeyValuePair).
pub fn write_key(
    out: &mut Vec<u8>,
    key: &[u8],
    e: &Entry,
    expire_at: Option<u64>,
    access: Access,
    now: u64,
    compress: bool,
) {
    write_key_head(out, key, e, expire_at, access, now, compress);
    codec::write_object(out, &e.value, compress);
}

/// What [`write_key`] writes before the value's object: the expiry, the
/// access data, the type and the key.
pub fn write_key_head(
    out: &mut Vec<u8>,
    key: &[u8],
    e: &Entry,
    expire_at: Option<u64>,
    access: Access,
    now: u64,
    compress: bool,
) {
    if let Some(at) = expire_at {
        out.push(OP_EXPIRETIME_MS);
        out.extend_from_slice(&at.to_le_bytes());
    }
    match access {
        Access::Idle => {
            out.push(OP_IDLE);
            codec::write_len(out, e.idle_seconds(now));
        }
        Access::Freq(decay) => {
            out.push(OP_FREQ);
            out.push(evict::lfu_decayed(e.access(), decay, now) as u8);
        }
        Access::None => {}
    }
    out.push(codec::object_type(&e.value));
    codec::write_string(out, key, compress);
}

/// Redis's last words on a file it cannot read to the end.
pub const SHORT_READ: &str = "Short read or OOM loading DB. Unrecoverable error, aborting now.";

/// redis-check-rdb's names of the RDB types.
const CHECK_TYPE_NAMES: [&str; 19] = [
    "string",
    "list-linked",
    "set-hashtable",
    "zset-v1",
    "hash-hashtable",
    "zset-v2",
    "module-value",
    "",
    "",
    "hash-zipmap",
    "list-ziplist",
    "set-intset",
    "zset-ziplist",
    "hash-ziplist",
    "quicklist",
    "stream",
    "hash-listpack",
    "zset-listpack",
    "quicklist-v2",
];

/// Redis's line after a load from disk failed on the file's contents (its
/// `rdbReportError`, whose lines start "Internal error in RDB reading").
pub const TERMINATING: &str = "Terminating server after rdb file reading failure.";

/// Why a file could not be loaded, in Redis's words where it has them.
pub type LoadError = String;

/// Counts of a finished load.
#[derive(Debug, Default, Clone, Copy)]
pub struct Loaded {
    pub keys: u64,
    pub expired: u64,
    /// Keys whose value was an empty collection, skipped (Redis's
    /// `empty_keys_skipped`: files written by its bug #8453).
    pub empty_skipped: u64,
    /// Keys read with a TTL, expired or not (redis-check-rdb's "expires").
    pub with_ttl: u64,
}

impl Loaded {
    /// Redis's last line of a load: a warning when empty keys were skipped.
    pub fn log_done(&self) {
        if self.empty_skipped > 0 {
            log::warn!(
                "Done loading RDB, keys loaded: {}, keys expired: {}, empty keys skipped: {}.",
                self.keys,
                self.expired,
                self.empty_skipped
            );
        } else {
            log::info!("Done loading RDB, keys loaded: {}, keys expired: {}.", self.keys, self.expired);
        }
    }
}

/// A file being loaded, a slice of keys per call to [`Loader::step`].
pub struct Loader {
    data: Vec<u8>,
    pos: usize,
    db: usize,
    pending_expire: Option<u64>,
    pending_idle: Option<u64>,
    pending_freq: Option<u8>,
    pub loaded: Loaded,
    /// The file has been read to its end.
    pub done: bool,
    /// The CRC-64 at the end is checked (unless the file says 0):
    /// `rdbchecksum yes` and no DEBUG SET-SKIP-CHECKSUM-VALIDATION.
    pub verify_checksum: bool,
    limits: codec::Limits,
    /// Keys that already exist are replaced (DEBUG RELOAD MERGE) instead
    /// of being an error.
    pub merge: bool,
    /// `key-load-delay` (µs per key loaded; a test hook).
    pub key_delay_us: i64,
    /// Keys whose TTL passed load too (an AOF's base: the commands after
    /// it may still touch them, see `Db::loading`; Redis's
    /// RDBFLAGS_AOF_PREAMBLE), instead of being skipped as a primary
    /// skips them.
    pub keep_expired: bool,
    /// Function libraries' codes read and not yet taken by the server,
    /// which creates them (`Shared::create_loaded_libraries`).
    pub libraries: Vec<Vec<u8>>,
}

impl Loader {
    /// Checks the header of `data` and prepares to load it.
    pub fn new(data: Vec<u8>, limits: codec::Limits) -> Result<Loader, LoadError> {
        // Redis writes `REDIS` and four digits; Valkey 8+ `VALKEY` and three.
        let digits = match data.get(..6) {
            Some(b"VALKEY") => 6..9,
            _ if data.len() >= 9 && &data[..5] == b"REDIS" => 5..9,
            _ => return Err("Wrong signature trying to load DB from file".into()),
        };
        let version: u16 = std::str::from_utf8(data.get(digits).unwrap_or_default())
            .ok()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| "Can't handle RDB format version 0".to_string())?;
        if version < 1 || (version > MAX_READ_VERSION && !VALKEY_VERSIONS.contains(&version)) {
            return Err(format!("Can't handle RDB format version {version}"));
        }
        Ok(Loader {
            data,
            pos: 9,
            db: 0,
            pending_expire: None,
            pending_idle: None,
            pending_freq: None,
            loaded: Loaded::default(),
            done: false,
            verify_checksum: true,
            limits,
            merge: false,
            key_delay_us: 0,
            keep_expired: false,
            libraries: Vec::new(),
        })
    }

    /// The file's bytes back (an AOF goes on after its RDB preamble).
    pub fn into_data(self) -> Vec<u8> {
        self.data
    }

    /// Bytes read so far and in all (INFO `loading_loaded_bytes`).
    pub fn progress(&self) -> (usize, usize) {
        (self.pos, self.data.len())
    }

    /// Loads keys into `dbs` until the file ends or `budget` is used up;
    /// `now` decides which keys load as already expired (skipped, as a
    /// primary does, unless `keep_expired`).
    pub fn step(&mut self, dbs: &mut [Db], now: u64, budget: Duration) -> Result<(), LoadError> {
        let start = Instant::now();
        let mut n = 0u32;
        while !self.done {
            n += 1;
            if (n.is_multiple_of(256) || self.key_delay_us > 0) && start.elapsed() > budget {
                return Ok(());
            }
            self.one(dbs, now)?;
        }
        Ok(())
    }

    fn one(&mut self, dbs: &mut [Db], now: u64) -> Result<(), LoadError> {
        let mut r = Reader { data: &self.data, pos: self.pos };
        let at = self.pos;
        let bad = move |e: codec::Error| match e {
            codec::Error::Truncated(m) => {
                format!(
                    "{SHORT_READ}\nInternal error in RDB reading offset {at} -> Unexpected EOF reading RDB file ({m})"
                )
            }
            e => format!("Internal error in RDB reading offset {at} -> {}", e.reason()),
        };
        let op = r.read_u8().map_err(bad)?;
        match op {
            OP_EOF => {
                let sum_at = r.pos;
                if sum_at + 8 <= self.data.len() {
                    let stored = u64::from_le_bytes(self.data[sum_at..sum_at + 8].try_into().unwrap_or_default());
                    if self.verify_checksum && stored == 0 {
                        log::info!("RDB file was saved with checksum disabled: no check performed.");
                    } else if self.verify_checksum {
                        let computed = codec::crc64(0, &self.data[..sum_at]);
                        if computed != stored {
                            // Redis's two lines (its "expected" is the sum it
                            // computed; the offset is its reader's, 0 there).
                            return Err(format!(
                                "Wrong RDB checksum expected: ({computed:x}) but got ({stored:x}). Aborting now.\n\
                                 Internal error in RDB reading offset 0, function at rdb.c:3217 -> RDB CRC error"
                            ));
                        }
                    }
                    r.pos += 8;
                }
                self.done = true;
            }
            OP_SELECTDB => {
                let db = r.read_len().map_err(bad)? as usize;
                if db >= dbs.len() {
                    return Err(format!(
                        "FATAL: Data file was created with a Redis server configured to handle more than {} databases. Exiting",
                        dbs.len()
                    ));
                }
                self.db = db;
            }
            OP_RESIZEDB => {
                r.read_len().map_err(bad)?;
                r.read_len().map_err(bad)?;
            }
            OP_AUX => {
                let k = r.read_string().map_err(bad)?;
                let v = r.read_string().map_err(bad)?;
                if &k[..] == b"redis-ver" {
                    log::info!("Loading RDB produced by version {}", String::from_utf8_lossy(&v));
                } else if &k[..] == b"ctime" {
                    let age =
                        std::str::from_utf8(&v).ok().and_then(|v| v.parse::<i64>().ok()).map(|t| now as i64 / 1000 - t);
                    if let Some(age) = age {
                        log::info!("RDB age {} seconds", age.max(0));
                    }
                } else if &k[..] == b"used-mem" {
                    let mb =
                        std::str::from_utf8(&v).ok().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 1048576.0;
                    log::info!("RDB memory usage when created {mb:.2} Mb");
                }
            }
            OP_MODULE_AUX => {
                return Err("The RDB file contains AUX module data I can't load: no matching module".into());
            }
            // A library: its code waits for the server to create it. The
            // release candidates' format is a corrupt file, as in Redis.
            OP_FUNCTION2 | OP_FUNCTION_PRE_GA => match codec::functions::read_rdb_opcode(&mut r, op) {
                Ok(code) => self.libraries.push(code),
                Err(e) if op == OP_FUNCTION_PRE_GA => {
                    return Err(format!("Internal error in RDB reading offset {at} -> {e}"));
                }
                Err(e) => return Err(format!("{e}\n{SHORT_READ}")),
            },
            OP_EXPIRETIME_MS => {
                let b = r.read_bytes(8).map_err(bad)?;
                self.pending_expire = Some(u64::from_le_bytes(b.try_into().unwrap_or_default()));
            }
            OP_EXPIRETIME => {
                let b = r.read_bytes(4).map_err(bad)?;
                self.pending_expire = Some(u32::from_le_bytes(b.try_into().unwrap_or_default()) as u64 * 1000);
            }
            OP_IDLE => self.pending_idle = Some(r.read_len().map_err(bad)?),
            OP_FREQ => self.pending_freq = Some(r.read_u8().map_err(bad)?),
            rdb_type => {
                let key = r.read_string().map_err(bad)?;
                let value = match codec::read_object(&mut r, rdb_type, &self.limits, false) {
                    Ok(v) => Some(v),
                    // An empty collection: Redis's loader skips the key,
                    // naming the first ten.
                    Err(codec::Error::Empty(_)) => {
                        if self.loaded.empty_skipped < 10 {
                            log::warn!("rdbLoadObject skipping empty key: {}", String::from_utf8_lossy(&key));
                        }
                        self.loaded.empty_skipped += 1;
                        None
                    }
                    Err(e) => return Err(self.error_report(bad(e), r.pos, &key, rdb_type)),
                };
                let expire = self.pending_expire.take();
                self.loaded.with_ttl += u64::from(expire.is_some());
                let (idle, freq) = (self.pending_idle.take(), self.pending_freq.take());
                let Some(value) = value else {
                    self.pos = r.pos;
                    return Ok(());
                };
                if !self.keep_expired && expire.is_some_and(|at| at <= now) {
                    self.loaded.expired += 1;
                } else {
                    self.insert(&mut dbs[self.db], &key, value, expire, idle, freq, now)?;
                    self.loaded.keys += 1;
                    if self.key_delay_us > 0 {
                        std::thread::sleep(Duration::from_micros(self.key_delay_us as u64));
                    }
                }
            }
        }
        self.pos = r.pos;
        Ok(())
    }

    /// A value that could not be read: `first` (the reason, in Redis's
    /// lines), then the block redis-check-rdb prints when Redis checks the
    /// file after such a failure, naming the key and its type.
    fn error_report(&self, first: String, offset: usize, key: &[u8], rdb_type: u8) -> String {
        let reason = first.lines().last().unwrap_or_default();
        let l = &self.loaded;
        format!(
            "{first}\n--- RDB ERROR DETECTED ---\n[offset {offset}] {reason}\n\
             [additional info] While doing: read-object-value\n\
             [additional info] Reading key '{}'\n\
             [additional info] Reading type {rdb_type} ({})\n\
             [info] {} keys read\n[info] {} expires\n[info] {} already expired",
            String::from_utf8_lossy(key),
            CHECK_TYPE_NAMES.get(rdb_type as usize).copied().unwrap_or("unknown"),
            // This key counts as read, as redis-check-rdb counts it.
            l.keys + l.expired + l.empty_skipped + 1,
            l.with_ttl,
            l.expired,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn insert(
        &self,
        db: &mut Db,
        key: &[u8],
        value: Value,
        expire: Option<u64>,
        idle: Option<u64>,
        freq: Option<u8>,
        now: u64,
    ) -> Result<(), LoadError> {
        // One lookup per key: a key that was there already is replaced,
        // and that is an error unless merging (the load then stops).
        let expiry = expire.map_or(crate::store::db::Expiry::None, crate::store::db::Expiry::At);
        if db.set(key, value, expiry, now).is_some() && !self.merge {
            return Err(format!("RDB has duplicated key '{}' in DB {}", String::from_utf8_lossy(key), self.db));
        }
        if (idle.is_some() || freq.is_some())
            && let Some(e) = db.raw_entry_mut(key)
        {
            if let Some(idle) = idle {
                e.set_access(evict::lru_field_idle(idle, now));
            }
            if let Some(f) = freq {
                e.set_access(evict::lfu_field(f as u32, now));
            }
        }
        Ok(())
    }
}
