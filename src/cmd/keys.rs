//! Generic key commands: DEL/UNLINK, EXISTS, TOUCH, TYPE, KEYS, SCAN,
//! RANDOMKEY, RENAME/RENAMENX, COPY, MOVE, the EXPIRE family, TTL/PTTL,
//! EXPIRETIME/PEXPIRETIME, PERSIST, OBJECT.

use super::string::expire_at;
use super::table::{Command, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx, lossy, parse_int};
use crate::glob;
use crate::server::notify as ev;
use crate::server::state::Shared;

pub static COMMANDS: &[Command] = &[
    row("del", -2, WRITE, (1, -1, 1), "generic", "1.0.0", "Delete a key", del)
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .key_flags(&["RM delete"]),
    row("exists", -2, READONLY | FAST, (1, -1, 1), "generic", "1.0.0", "Determine if a key exists", exists)
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .key_flags(&["RO"]),
    row("expire", -3, WRITE | FAST, (1, 1, 1), "generic", "1.0.0", "Set a key's time to live in seconds", expire)
        .key_flags(&["RW update"]),
    row(
        "pexpire",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        "generic",
        "2.6.0",
        "Set a key's time to live in milliseconds",
        pexpire,
    )
    .key_flags(&["RW update"]),
    row(
        "expireat",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        "generic",
        "1.2.0",
        "Set the expiration for a key as a UNIX timestamp",
        expireat,
    )
    .key_flags(&["RW update"]),
    row(
        "pexpireat",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        "generic",
        "2.6.0",
        "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
        pexpireat,
    )
    .key_flags(&["RW update"]),
    row("ttl", 2, READONLY | FAST, (1, 1, 1), "generic", "1.0.0", "Get the time to live for a key in seconds", ttl)
        .tips(&["nondeterministic_output"])
        .key_flags(&["RO access"]),
    row(
        "pttl",
        2,
        READONLY | FAST,
        (1, 1, 1),
        "generic",
        "2.6.0",
        "Get the time to live for a key in milliseconds",
        pttl,
    )
    .tips(&["nondeterministic_output"])
    .key_flags(&["RO access"]),
    row("persist", 2, WRITE | FAST, (1, 1, 1), "generic", "2.2.0", "Remove the expiration from a key", persist)
        .key_flags(&["RW update"]),
    row(
        "unlink",
        -2,
        WRITE | FAST,
        (1, -1, 1),
        "generic",
        "4.0.0",
        "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
        unlink,
    )
    .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
    .key_flags(&["RM delete"]),
    row(
        "touch",
        -2,
        READONLY | FAST,
        (1, -1, 1),
        "generic",
        "3.2.1",
        "Alters the last access time of a key(s). Returns the number of existing keys specified.",
        touch,
    )
    .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
    .key_flags(&["RO"]),
    row("type", 2, READONLY | FAST, (1, 1, 1), "generic", "1.0.0", "Determine the type stored at key", type_)
        .key_flags(&["RO"]),
    row("keys", 2, READONLY, (0, 0, 0), "generic", "1.0.0", "Find all keys matching the given pattern", keys)
        .tips(&["request_policy:all_shards", "nondeterministic_output_order"])
        .acl(&["@keyspace", "@dangerous"]),
    row("scan", -2, READONLY, (0, 0, 0), "generic", "2.8.0", "Incrementally iterate the keys space", scan)
        .tips(&["nondeterministic_output", "request_policy:special"]),
    row("randomkey", 1, READONLY, (0, 0, 0), "generic", "1.0.0", "Return a random key from the keyspace", randomkey)
        .tips(&["request_policy:all_shards", "nondeterministic_output"]),
    row("rename", 3, WRITE, (1, 2, 1), "generic", "1.0.0", "Rename a key", rename)
        .key_flags(&["RW access delete", "OW update"]),
    row(
        "renamenx",
        3,
        WRITE | FAST,
        (1, 2, 1),
        "generic",
        "1.0.0",
        "Rename a key, only if the new key does not exist",
        renamenx,
    )
    .key_flags(&["RW access delete", "OW insert"]),
    row("copy", -3, WRITE | DENYOOM, (1, 2, 1), "generic", "6.2.0", "Copy a key", copy)
        .key_flags(&["RO access", "OW update"]),
    row("move", 3, WRITE | FAST, (1, 1, 1), "generic", "1.0.0", "Move a key to another database", move_)
        .key_flags(&["RW access update"]),
    row(
        "expiretime",
        2,
        READONLY | FAST,
        (1, 1, 1),
        "generic",
        "7.0.0",
        "Get the expiration Unix timestamp for a key",
        expiretime,
    )
    .key_flags(&["RO access"]),
    row(
        "pexpiretime",
        2,
        READONLY | FAST,
        (1, 1, 1),
        "generic",
        "7.0.0",
        "Get the expiration Unix timestamp for a key in milliseconds",
        pexpiretime,
    )
    .key_flags(&["RO access"]),
    Command {
        subcommands: OBJECT_SUBCOMMANDS,
        ..row(
            "object",
            -2,
            0,
            (0, 0, 0),
            "generic",
            "2.2.3",
            "A container for object introspection commands",
            super::table::container,
        )
    },
];

static OBJECT_SUBCOMMANDS: &[Command] = &[
    row(
        "encoding",
        3,
        READONLY,
        (2, 2, 1),
        "generic",
        "2.2.3",
        "Inspect the internal encoding of a Redis object",
        object_encoding,
    )
    .tips(&["nondeterministic_output"])
    .key_flags(&["RO"]),
    row(
        "freq",
        3,
        READONLY,
        (2, 2, 1),
        "generic",
        "4.0.0",
        "Get the logarithmic access frequency counter of a Redis object",
        object_freq,
    )
    .tips(&["nondeterministic_output"])
    .key_flags(&["RO"]),
    row(
        "idletime",
        3,
        READONLY,
        (2, 2, 1),
        "generic",
        "2.2.3",
        "Get the time since a Redis object was last accessed",
        object_idletime,
    )
    .tips(&["nondeterministic_output"])
    .key_flags(&["RO"]),
    row(
        "refcount",
        3,
        READONLY,
        (2, 2, 1),
        "generic",
        "2.2.3",
        "Get the number of references to the value of the key",
        object_refcount,
    )
    .tips(&["nondeterministic_output"])
    .key_flags(&["RO"]),
    row(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "generic",
        "6.2.0",
        "Show helpful text about the different subcommands",
        object_help,
    ),
];

/// # Format
/// `DEL key [key ...]` — lazily with `lazyfree-lazy-user-del yes`.
fn del(cx: &mut Ctx, args: &Args) -> CmdResult {
    delete(cx, args, cx.srv.config.lazyfree_lazy_user_del)
}

/// # Format
/// `UNLINK key [key ...]` — big values are freed on the lazy-free thread.
fn unlink(cx: &mut Ctx, args: &Args) -> CmdResult {
    delete(cx, args, true)
}

fn delete(cx: &mut Ctx, args: &Args, lazy: bool) -> CmdResult {
    let (now, db) = (cx.now, cx.db_index());
    let mut n = 0;
    for k in args.from(1) {
        if let Some(e) = cx.srv.dbs[db].remove(k, now) {
            n += 1;
            if lazy {
                cx.srv.lazy.free_value(e.value);
            }
            cx.notify(ev::GENERIC, "del", k);
        }
    }
    cx.dirty(n as u64);
    cx.out.int(n);
    Ok(())
}

/// # Format
/// `EXISTS key [key ...]` — a key named twice counts twice.
fn exists(cx: &mut Ctx, args: &Args) -> CmdResult {
    let now = cx.now;
    let db = cx.db();
    let n = args.from(1).filter(|k| db.contains(k, now)).count();
    cx.out.int(n as i64);
    Ok(())
}

/// The shared body of EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT
/// (Redis's `expireGenericCommand`), with the NX/XX/GT/LT conditions.
fn expire_generic(cx: &mut Ctx, args: &Args, unit_ms: i64, relative: bool, cmd: &'static str) -> CmdResult {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in args.from(3) {
        match opt.to_ascii_uppercase().as_slice() {
            b"NX" => nx = true,
            b"XX" => xx = true,
            b"GT" => gt = true,
            b"LT" => lt = true,
            _ => return Err(CmdError::msg(format!("ERR Unsupported option {}", lossy(opt)))),
        }
    }
    if nx && (xx || gt || lt) {
        return Err(CmdError::msg("ERR NX and XX, GT or LT options at the same time are not compatible"));
    }
    if gt && lt {
        return Err(CmdError::msg("ERR GT and LT options at the same time are not compatible"));
    }
    let when = expire_at(args.get(2), unit_ms, relative, cx.now, cmd)?;
    let key = args.get(1);
    let now = cx.now;
    let replayed = cx.must_obey();
    let db = cx.db();
    if db.get(key, now).is_none() {
        cx.out.int(0);
        return Ok(());
    }
    let current = db.expiry(key, now).flatten().map(|t| t as i64);
    let allowed = match current {
        // No TTL counts as an infinite one for GT/LT.
        None => !xx && !gt,
        Some(t) => !(nx || (gt && when <= t) || (lt && when >= t)),
    };
    if !allowed {
        cx.out.int(0);
        return Ok(());
    }
    // Redis notifies "del" before its reply and "expire" after it. A
    // replayed EXPIRE in the past sets the TTL (Redis's
    // `checkAlreadyExpired` is false while loading): the commands after it
    // in the file still find the key, and it expires after the load.
    if when <= now as i64 && !replayed {
        db.remove(key, now);
        cx.notify(ev::GENERIC, "del", key);
        cx.out.int(1);
    } else {
        db.set_expire(key, Some(when as u64), now);
        cx.out.int(1);
        cx.notify(ev::GENERIC, "expire", key);
    }
    Ok(())
}

/// # Format
/// `EXPIRE key seconds [NX | XX | GT | LT]`
fn expire(cx: &mut Ctx, args: &Args) -> CmdResult {
    expire_generic(cx, args, 1000, true, "expire")
}

/// # Format
/// `PEXPIRE key milliseconds [NX | XX | GT | LT]`
fn pexpire(cx: &mut Ctx, args: &Args) -> CmdResult {
    expire_generic(cx, args, 1, true, "pexpire")
}

/// # Format
/// `EXPIREAT key unix-time-seconds [NX | XX | GT | LT]`
fn expireat(cx: &mut Ctx, args: &Args) -> CmdResult {
    expire_generic(cx, args, 1000, false, "expireat")
}

/// # Format
/// `PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]`
fn pexpireat(cx: &mut Ctx, args: &Args) -> CmdResult {
    expire_generic(cx, args, 1, false, "pexpireat")
}

/// Remaining TTL in ms: -2 no key, -1 no TTL.
fn ttl_ms(cx: &mut Ctx, key: &[u8]) -> i64 {
    let now = cx.now;
    match cx.db().expiry(key, now) {
        None => -2,
        Some(at) => at.map_or(-1, |t| t.saturating_sub(now) as i64),
    }
}

/// # Format
/// `TTL key`
fn ttl(cx: &mut Ctx, args: &Args) -> CmdResult {
    let t = ttl_ms(cx, args.get(1));
    // Rounded without overflow near i64::MAX, as Redis's build computes it.
    cx.out.int(if t < 0 { t } else { ((t as i128 + 500) / 1000) as i64 });
    Ok(())
}

/// # Format
/// `PTTL key`
fn pttl(cx: &mut Ctx, args: &Args) -> CmdResult {
    let t = ttl_ms(cx, args.get(1));
    cx.out.int(t);
    Ok(())
}

/// # Format
/// `PERSIST key`
fn persist(cx: &mut Ctx, args: &Args) -> CmdResult {
    let now = cx.now;
    let db = cx.db();
    let had = db.get(args.get(1), now).is_some_and(|e| e.has_ttl());
    if had {
        db.set_expire(args.get(1), None, now);
        cx.notify(ev::GENERIC, "persist", args.get(1));
    }
    cx.out.int(had as i64);
    Ok(())
}

/// # Format
/// `TOUCH key [key ...]`
fn touch(cx: &mut Ctx, args: &Args) -> CmdResult {
    let now = cx.now;
    let db = cx.db();
    let n = args.from(1).filter(|k| db.get_mut(k, now).is_some()).count();
    cx.out.int(n as i64);
    Ok(())
}

/// # Format
/// `TYPE key`
fn type_(cx: &mut Ctx, args: &Args) -> CmdResult {
    let now = cx.now;
    let name = cx.db().peek(args.get(1), now).map_or("none", |e| e.value.type_name());
    cx.out.simple(name);
    Ok(())
}

/// # Format
/// `KEYS pattern`
fn keys(cx: &mut Ctx, args: &Args) -> CmdResult {
    let pattern = args.get(1);
    let all = pattern == b"*";
    let now = cx.now;
    let db = cx.srv.client(cx.key).db;
    let found: Vec<&[u8]> = cx.srv.dbs[db].live_keys(now).filter(|k| all || glob::matches(pattern, k, false)).collect();
    cx.out.array(found.len());
    for k in found {
        cx.out.bulk(k);
    }
    Ok(())
}

/// Parses a SCAN cursor like Redis's `strtoul` check: digits with an
/// optional sign (a negative value wraps), no spaces, no overflow. `strtoul`
/// reads a C string, so it stops at a NUL byte, and an empty one is 0.
pub fn parse_cursor(s: &[u8]) -> Result<u64, CmdError> {
    let invalid = || CmdError::msg("ERR invalid cursor");
    let s = s.split(|&b| b == 0).next().unwrap_or_default();
    if s.is_empty() {
        return Ok(0);
    }
    let (neg, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10).and_then(|v| v.checked_add((d - b'0') as u64)).ok_or_else(invalid)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// # Format
/// `SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]`
fn scan(cx: &mut Ctx, args: &Args) -> CmdResult {
    let cursor = parse_cursor(args.get(1))?;
    let (mut pattern, mut count, mut kind) = (None, 10usize, None);
    let mut i = 2;
    while i < args.len() {
        let opt = args.get(i);
        if i + 1 >= args.len() {
            return Err(CmdError::Syntax);
        }
        let v = args.get(i + 1);
        if opt.eq_ignore_ascii_case(b"count") {
            let n = parse_int(v)?;
            if n < 1 {
                return Err(CmdError::Syntax);
            }
            count = n as usize;
        } else if opt.eq_ignore_ascii_case(b"match") {
            pattern = Some(v);
        } else if opt.eq_ignore_ascii_case(b"type") {
            kind = Some(v);
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let now = cx.now;
    let db = cx.srv.client(cx.key).db;
    let mut found: Vec<Vec<u8>> = Vec::new();
    let all = pattern.is_none_or(|p| p == b"*");
    let next = cx.srv.dbs[db].scan(cursor, count, now, |k, e| {
        if !all && !pattern.is_some_and(|p| glob::matches(p, k, false)) {
            return;
        }
        if kind.is_some_and(|t| !t.eq_ignore_ascii_case(e.value.type_name().as_bytes())) {
            return;
        }
        found.push(k.to_vec());
    });
    cx.out.array(2);
    cx.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    cx.out.array(found.len());
    for k in &found {
        cx.out.bulk(k);
    }
    Ok(())
}

/// # Format
/// `RANDOMKEY`
fn randomkey(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let now = cx.now;
    let db = cx.srv.client(cx.key).db;
    let Shared { dbs, rng, .. } = &mut *cx.srv;
    match dbs[db].random_key(now, rng) {
        Some(k) => cx.out.bulk(&k),
        None => cx.out.null(),
    }
    Ok(())
}

/// Moves `src` to `dst` keeping its TTL; `nx` refuses an existing `dst`.
/// Returns whether the rename happened.
fn rename_generic(cx: &mut Ctx, args: &Args, nx: bool) -> Result<bool, CmdError> {
    let (src, dst) = (args.get(1), args.get(2));
    let now = cx.now;
    let db = cx.db();
    if db.peek(src, now).is_none() {
        return Err(CmdError::msg("ERR no such key"));
    }
    if src == dst {
        return Ok(!nx);
    }
    if nx && db.contains(dst, now) {
        return Ok(false);
    }
    let Some((value, at)) = db.take(src, now) else { return Err(CmdError::msg("ERR no such key")) };
    db.put(dst, value, at, now);
    // A list or sorted set arriving under a new name may serve blocked pops.
    cx.signal_ready(dst);
    cx.notify(ev::GENERIC, "rename_from", src);
    cx.notify(ev::GENERIC, "rename_to", dst);
    Ok(true)
}

/// # Format
/// `RENAME key newkey`
fn rename(cx: &mut Ctx, args: &Args) -> CmdResult {
    rename_generic(cx, args, false)?;
    cx.out.ok();
    Ok(())
}

/// # Format
/// `RENAMENX key newkey`
fn renamenx(cx: &mut Ctx, args: &Args) -> CmdResult {
    let done = rename_generic(cx, args, true)?;
    cx.out.int(done as i64);
    Ok(())
}

/// A database index argument, checked against `databases`.
fn db_index(cx: &Ctx, arg: &[u8]) -> Result<usize, CmdError> {
    let n = parse_int(arg)?;
    if n < 0 || n as usize >= cx.srv.dbs.len() {
        return Err(CmdError::DbIndex);
    }
    Ok(n as usize)
}

/// # Format
/// `COPY source destination [DB destination-db] [REPLACE]`
fn copy(cx: &mut Ctx, args: &Args) -> CmdResult {
    let src_db = cx.srv.client(cx.key).db;
    let (mut dst_db, mut replace) = (src_db, false);
    let mut i = 3;
    while i < args.len() {
        let opt = args.get(i);
        if opt.eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else if opt.eq_ignore_ascii_case(b"db") && i + 1 < args.len() {
            dst_db = db_index(cx, args.get(i + 1))?;
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    let (src, dst) = (args.get(1), args.get(2));
    if src_db == dst_db && src == dst {
        return Err(CmdError::msg("ERR source and destination objects are the same"));
    }
    let now = cx.now;
    let Some(value) = cx.srv.dbs[src_db].peek(src, now).map(|e| e.value.clone()) else {
        cx.out.int(0);
        return Ok(());
    };
    let at = cx.srv.dbs[src_db].expiry(src, now).flatten();
    let target = &mut cx.srv.dbs[dst_db];
    if target.contains(dst, now) && !replace {
        cx.out.int(0);
        return Ok(());
    }
    target.put(dst, value, at, now);
    cx.srv.blocking.signal(dst_db, dst);
    cx.dirty(1);
    let from = cx.srv.pubsub.outbox.len();
    cx.srv.notify(ev::GENERIC, "copy_to", dst, dst_db);
    cx.publish_inline(from);
    cx.out.int(1);
    Ok(())
}

/// # Format
/// `MOVE key db`
fn move_(cx: &mut Ctx, args: &Args) -> CmdResult {
    let src_db = cx.srv.client(cx.key).db;
    let dst_db = db_index(cx, args.get(2))?;
    if src_db == dst_db {
        return Err(CmdError::msg("ERR source and destination objects are the same"));
    }
    let key = args.get(1);
    let now = cx.now;
    if cx.srv.dbs[src_db].peek(key, now).is_none() || cx.srv.dbs[dst_db].contains(key, now) {
        cx.out.int(0);
        return Ok(());
    }
    if let Some((value, at)) = cx.srv.dbs[src_db].take(key, now) {
        cx.srv.dbs[dst_db].put(key, value, at, now);
        cx.srv.blocking.signal(dst_db, key);
        cx.dirty(1);
        let from = cx.srv.pubsub.outbox.len();
        cx.srv.notify(ev::GENERIC, "move_from", key, src_db);
        cx.srv.notify(ev::GENERIC, "move_to", key, dst_db);
        cx.publish_inline(from);
    }
    cx.out.int(1);
    Ok(())
}

/// Absolute expiry in ms: -2 no key, -1 no TTL.
fn expire_time_ms(cx: &mut Ctx, key: &[u8]) -> i64 {
    let now = cx.now;
    match cx.db().expiry(key, now) {
        None => -2,
        Some(at) => at.map_or(-1, |t| t as i64),
    }
}

/// # Format
/// `EXPIRETIME key`
fn expiretime(cx: &mut Ctx, args: &Args) -> CmdResult {
    let t = expire_time_ms(cx, args.get(1));
    // Rounded without overflow near i64::MAX, as Redis's build computes it.
    cx.out.int(if t < 0 { t } else { ((t as i128 + 500) / 1000) as i64 });
    Ok(())
}

/// # Format
/// `PEXPIRETIME key`
fn pexpiretime(cx: &mut Ctx, args: &Args) -> CmdResult {
    let t = expire_time_ms(cx, args.get(1));
    cx.out.int(t);
    Ok(())
}

/// Runs `f` on the entry at `OBJECT <sub> key`, or replies null if missing.
fn with_object(cx: &mut Ctx, args: &Args, f: impl FnOnce(&mut Ctx, i64, &'static str, u64) -> CmdResult) -> CmdResult {
    let now = cx.now;
    let Some(e) = cx.db().peek(args.get(2), now) else {
        cx.out.null();
        return Ok(());
    };
    let (refcount, encoding, idle) = (e.value.refcount(), e.value.encoding(), e.idle_seconds(now));
    f(cx, refcount, encoding, idle)
}

/// # Format
/// `OBJECT ENCODING key`
fn object_encoding(cx: &mut Ctx, args: &Args) -> CmdResult {
    with_object(cx, args, |cx, _, enc, _| {
        cx.out.bulk(enc.as_bytes());
        Ok(())
    })
}

/// # Format
/// `OBJECT FREQ key` — the LFU counter, only under an LFU policy.
fn object_freq(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (now, decay) = (cx.now, cx.srv.config.lfu_decay_time);
    let lfu = cx.srv.config.maxmemory_policy.is_lfu();
    let Some(e) = cx.db().peek(args.get(2), now) else {
        cx.out.null();
        return Ok(());
    };
    if !lfu {
        return Err(CmdError::msg(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ));
    }
    let freq = crate::store::evict::lfu_decayed(e.access(), decay, now);
    cx.out.int(freq as i64);
    Ok(())
}

/// # Format
/// `OBJECT IDLETIME key` — not under an LFU policy.
fn object_idletime(cx: &mut Ctx, args: &Args) -> CmdResult {
    let lfu = cx.srv.config.maxmemory_policy.is_lfu();
    with_object(cx, args, |cx, _, _, idle| {
        if lfu {
            return Err(CmdError::msg(
                "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
            ));
        }
        cx.out.int(idle as i64);
        Ok(())
    })
}

/// # Format
/// `OBJECT REFCOUNT key`
fn object_refcount(cx: &mut Ctx, args: &Args) -> CmdResult {
    with_object(cx, args, |cx, refcount, _, _| {
        cx.out.int(refcount);
        Ok(())
    })
}

/// # Format
/// `OBJECT HELP`
fn object_help(cx: &mut Ctx, _args: &Args) -> CmdResult {
    super::server::help(
        &mut cx.out,
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    );
    Ok(())
}
