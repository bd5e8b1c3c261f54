//! DUMP and RESTORE: a value serialized in Redis's RDB format (the
//! payload redis-server 7.0.15 produces and accepts, see
//! `persist::codec`), and a key created back from one.

use super::table::{Command, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx};
use crate::persist::codec::{self, Limits};
use crate::server::notify as ev;
use crate::store::evict;

pub static COMMANDS: &[Command] = &[
    row(
        "dump",
        2,
        READONLY,
        (1, 1, 1),
        "generic",
        "2.6.0",
        "Return a serialized version of the value stored at the specified key.",
        dump,
    )
    .key_flags(&["RO access"])
    .tips(&["nondeterministic_output"]),
    row(
        "restore",
        -4,
        WRITE | DENYOOM,
        (1, 1, 1),
        "generic",
        "2.6.0",
        "Create a key using the provided serialized value, previously obtained using DUMP.",
        restore,
    )
    .key_flags(&["OW update"])
    .acl(&["@keyspace", "@dangerous"]),
];

/// # Format
/// `DUMP key` — the value's RDB encoding, RDB version and CRC-64, or nil.
/// Strings in it are LZF-compressed as `rdbcompression` says.
fn dump(cx: &mut Ctx, args: &Args) -> CmdResult {
    let compress = cx.srv.config.get("rdbcompression").is_none_or(|v| v == "yes");
    let now = cx.now;
    let payload = cx.db().get(args.get(1), now).map(|e| codec::dump_with(&e.value, compress));
    match payload {
        Some(p) => cx.out.bulk(&p),
        None => cx.out.null(),
    }
    Ok(())
}

const BUSYKEY: &str = "BUSYKEY Target key name already exists.";

/// # Format
/// `RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds]
/// [FREQ frequency]`
///
/// Checked in Redis's order: the options (IDLETIME and FREQ exclude each
/// other), the key's absence without REPLACE, the TTL, the payload's
/// version and checksum, then its contents (`sanitize-dump-payload yes` or
/// `clients` adds Redis's deep checks). A TTL already in the past creates
/// nothing (and with REPLACE deletes the old key). IDLETIME applies under
/// an LRU-style policy, FREQ under an LFU one, as in Redis.
pub(crate) fn restore(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut j = 4;
    while j < args.len() {
        let opt = args.get(j);
        let more = j + 1 < args.len();
        if opt.eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else if opt.eq_ignore_ascii_case(b"absttl") {
            absttl = true;
        } else if opt.eq_ignore_ascii_case(b"idletime") && more && freq.is_none() {
            let v = args.int(j + 1)?;
            if v < 0 {
                return Err(CmdError::msg("ERR Invalid IDLETIME value, must be >= 0"));
            }
            idle = Some(v);
            j += 1;
        } else if opt.eq_ignore_ascii_case(b"freq") && more && idle.is_none() {
            let v = args.int(j + 1)?;
            if !(0..=255).contains(&v) {
                return Err(CmdError::msg("ERR Invalid FREQ value, must be >= 0 and <= 255"));
            }
            freq = Some(v);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let key = args.get(1);
    let now = cx.now;
    if !replace && cx.db().contains(key, now) {
        return Err(CmdError::msg(BUSYKEY));
    }
    let ttl = args.int(2)?;
    if ttl < 0 {
        return Err(CmdError::msg("ERR Invalid TTL value, must be >= 0"));
    }
    let config = &cx.srv.config;
    let limits = Limits::from_config(config);
    // `clients` skips the checks only for a master or an ACL user flagged
    // skip-sanitize-payload, neither of which ferrokv has.
    let deep = config.get("sanitize-dump-payload").is_some_and(|v| v != "no");
    let checksum = !cx.srv.debug.skip_checksum_validation;
    let value = match codec::undump(args.get(3), &limits, deep, checksum) {
        Ok(v) => v,
        Err(codec::Error::Footer(_)) => return Err(CmdError::msg("ERR DUMP payload version or checksum are wrong")),
        Err(e) => {
            // Redis logs why at verbose level (its `rdbReportError` in a
            // RESTORE context).
            log::debug!("Internal error in RDB reading offset 0 -> {}", e.reason());
            return Err(CmdError::msg("ERR Bad data format"));
        }
    };
    let (lazy, lfu) = (config.lazyfree_lazy_server_del, config.maxmemory_policy.is_lfu());
    let db = cx.db_index();
    let deleted = replace
        && match cx.srv.dbs[db].remove(key, now) {
            Some(old) => {
                if lazy {
                    cx.srv.lazy.free_value(old.value);
                }
                true
            }
            None => false,
        };
    // A relative TTL that overflows wraps into the past, as Redis's does.
    let at = if absttl { ttl } else { ttl.wrapping_add(now as i64) };
    // (Replayed from the AOF, the key is made even so, as Redis's
    // `checkAlreadyExpired` is false while loading.)
    if ttl != 0 && at <= now as i64 && !cx.must_obey() {
        if deleted {
            cx.notify(ev::GENERIC, "del", key);
        }
        cx.out.ok();
        return Ok(());
    }
    let target = &mut cx.srv.dbs[db];
    target.put(key, value, (ttl != 0).then_some(at as u64), now);
    if let Some(e) = target.raw_entry_mut(key) {
        match (lfu, idle, freq) {
            (true, _, Some(f)) => {
                let track = evict::Track { lfu: true, ..evict::Track::default() };
                e.set_access((evict::fresh(track, now) & !0xff) | f as u32);
            }
            (false, Some(secs), _) => {
                e.set_access(evict::lru_field_idle(secs as u64, now));
            }
            _ => {}
        }
    }
    cx.signal_ready(key);
    cx.notify(ev::GENERIC, "restore", key);
    cx.out.ok();
    Ok(())
}
