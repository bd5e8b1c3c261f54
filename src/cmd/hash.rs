//! Hash commands: HSET/HMSET/HSETNX, HGET/HMGET, HDEL, HLEN, HSTRLEN,
//! HEXISTS, HKEYS/HVALS/HGETALL, HINCRBY/HINCRBYFLOAT, HRANDFIELD, HSCAN.
//!
//! The value type and its two encodings live in `store::hash`; this file
//! parses arguments, applies Redis 7.0's order of checks (argument errors,
//! then WRONGTYPE, then the operation) and replies. A key never holds an
//! empty hash: removing the last field deletes the key.

use super::keys::parse_cursor;
use super::set::sample_distinct;
use super::string::incr_float_text;
use super::table::{Command, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx, parse_int};
use crate::glob;
use crate::longdouble::LongDouble;
use crate::resp::{Proto, Reply};
use crate::server::notify as ev;
use crate::store::hash::{Hash, Limits};
use crate::store::rand::Rng;
use crate::store::{Expiry, Value};

pub static COMMANDS: &[Command] = &[
    row("hset", -4, WRITE | DENYOOM | FAST, (1, 1, 1), "hash", "2.0.0", "Set the string value of a hash field", hset)
        .key_flags(&["RW update"]),
    row(
        "hsetnx",
        4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "hash",
        "2.0.0",
        "Set the value of a hash field, only if the field does not exist",
        hsetnx,
    )
    .key_flags(&["RW insert"]),
    row("hget", 3, READONLY | FAST, (1, 1, 1), "hash", "2.0.0", "Get the value of a hash field", hget)
        .key_flags(&["RO access"]),
    row(
        "hmset",
        -4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "hash",
        "2.0.0",
        "Set multiple hash fields to multiple values",
        hset,
    )
    .key_flags(&["RW update"]),
    row("hmget", -3, READONLY | FAST, (1, 1, 1), "hash", "2.0.0", "Get the values of all the given hash fields", hmget)
        .key_flags(&["RO access"]),
    row("hdel", -3, WRITE | FAST, (1, 1, 1), "hash", "2.0.0", "Delete one or more hash fields", hdel)
        .key_flags(&["RW delete"]),
    row("hlen", 2, READONLY | FAST, (1, 1, 1), "hash", "2.0.0", "Get the number of fields in a hash", hlen)
        .key_flags(&["RO"]),
    row(
        "hstrlen",
        3,
        READONLY | FAST,
        (1, 1, 1),
        "hash",
        "3.2.0",
        "Get the length of the value of a hash field",
        hstrlen,
    )
    .key_flags(&["RO"]),
    row("hexists", 3, READONLY | FAST, (1, 1, 1), "hash", "2.0.0", "Determine if a hash field exists", hexists)
        .key_flags(&["RO"]),
    row("hkeys", 2, READONLY, (1, 1, 1), "hash", "2.0.0", "Get all the fields in a hash", hkeys)
        .tips(&["nondeterministic_output_order"])
        .key_flags(&["RO access"]),
    row("hvals", 2, READONLY, (1, 1, 1), "hash", "2.0.0", "Get all the values in a hash", hvals)
        .tips(&["nondeterministic_output_order"])
        .key_flags(&["RO access"]),
    row("hgetall", 2, READONLY, (1, 1, 1), "hash", "2.0.0", "Get all the fields and values in a hash", hgetall)
        .tips(&["nondeterministic_output_order"])
        .key_flags(&["RO access"]),
    row(
        "hincrby",
        4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "hash",
        "2.0.0",
        "Increment the integer value of a hash field by the given number",
        hincrby,
    )
    .key_flags(&["RW access update"]),
    row(
        "hincrbyfloat",
        4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "hash",
        "2.6.0",
        "Increment the float value of a hash field by the given amount",
        hincrbyfloat,
    )
    .key_flags(&["RW access update"]),
    row(
        "hrandfield",
        -2,
        READONLY,
        (1, 1, 1),
        "hash",
        "6.2.0",
        "Get one or multiple random fields from a hash",
        hrandfield,
    )
    .tips(&["nondeterministic_output"])
    .key_flags(&["RO access"]),
    row(
        "hscan",
        -3,
        READONLY,
        (1, 1, 1),
        "hash",
        "2.8.0",
        "Incrementally iterate hash fields and associated values",
        hscan,
    )
    .tips(&["nondeterministic_output"])
    .key_flags(&["RO access"]),
];

/// The conversion thresholds from the config.
fn limits(cx: &Ctx) -> Limits {
    Limits { entries: cx.srv.config.hash_max_listpack_entries, value: cx.srv.config.hash_max_listpack_value }
}

/// The hash at `key` for reading (a keyspace hit or miss, like Redis's
/// `lookupKeyRead`) and the reply writer; WRONGTYPE for another type.
fn read<'a, 'b>(cx: &'a mut Ctx<'b>, key: &[u8]) -> Result<(Option<&'a Hash>, &'a mut Reply<'b>), CmdError> {
    let now = cx.now;
    let db = cx.srv.client(cx.key).db;
    let hash = match cx.srv.dbs[db].get(key, now) {
        None => None,
        Some(e) => match &e.value {
            Value::Hash(h) => Some(&**h),
            _ => return Err(CmdError::WrongType),
        },
    };
    Ok((hash, &mut cx.out))
}

/// The hash at `key` for writing, `None` if missing; WRONGTYPE for another
/// type.
fn write<'a>(cx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a mut Hash>, CmdError> {
    let now = cx.now;
    match cx.db().get_mut(key, now) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Hash(h) => Ok(Some(h)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// The hash at `key`, created empty when missing (Redis's
/// `hashTypeLookupWriteOrCreate`); WRONGTYPE for another type. The caller
/// must add a field, so no empty hash is left behind.
fn write_or_create<'a>(cx: &'a mut Ctx, key: &[u8]) -> Result<&'a mut Hash, CmdError> {
    let now = cx.now;
    if write(cx, key)?.is_none() {
        cx.db().set(key, Value::Hash(Box::default()), Expiry::None, now);
    }
    write(cx, key)?.ok_or(CmdError::WrongType)
}

/// Deletes `key` if it holds an empty hash.
fn delete_if_empty(cx: &mut Ctx, key: &[u8]) {
    let now = cx.now;
    if matches!(write(cx, key), Ok(Some(h)) if h.is_empty()) {
        cx.db().remove(key, now);
        cx.notify(ev::GENERIC, "del", key);
    }
}

/// Redis's arity error for the command in `args`.
pub fn arity_error(args: &Args) -> CmdError {
    let name = String::from_utf8_lossy(args.get(0)).to_ascii_lowercase();
    CmdError::msg(format!("ERR wrong number of arguments for '{name}' command"))
}

/// # Format
/// `HSET key field value [field value ...]` (replies with the number of new
/// fields) and `HMSET key field value [field value ...]` (replies OK).
fn hset(cx: &mut Ctx, args: &Args) -> CmdResult {
    if args.len() % 2 == 1 {
        return Err(arity_error(args));
    }
    let limits = limits(cx);
    let h = write_or_create(cx, args.get(1))?;
    let mut created = 0;
    for i in (2..args.len()).step_by(2) {
        created += h.insert(args.get(i), args.get(i + 1), limits) as i64;
    }
    // Redis replies first, then notifies.
    if args.get(0).eq_ignore_ascii_case(b"hmset") {
        cx.out.ok();
    } else {
        cx.out.int(created);
    }
    cx.notify(ev::HASH, "hset", args.get(1));
    // Every pair counts, new, changed or not.
    cx.dirty(args.len() as u64 / 2 - 1);
    Ok(())
}

/// # Format
/// `HSETNX key field value`
fn hsetnx(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (key, field) = (args.get(1), args.get(2));
    if write(cx, key)?.is_some_and(|h| h.contains(field)) {
        cx.out.int(0);
        return Ok(());
    }
    let limits = limits(cx);
    write_or_create(cx, key)?.insert(field, args.get(3), limits);
    // Redis replies, then notifies.
    cx.out.int(1);
    cx.notify(ev::HASH, "hset", key);
    Ok(())
}

/// # Format
/// `HGET key field`
fn hget(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (h, out) = read(cx, args.get(1))?;
    match h.and_then(|h| h.get(args.get(2))) {
        Some(v) => out.bulk(v),
        None => out.null(),
    }
    Ok(())
}

/// # Format
/// `HMGET key field [field ...]`
fn hmget(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (h, out) = read(cx, args.get(1))?;
    out.array(args.len() - 2);
    for field in args.from(2) {
        match h.and_then(|h| h.get(field)) {
            Some(v) => out.bulk(v),
            None => out.null(),
        }
    }
    Ok(())
}

/// # Format
/// `HDEL key field [field ...]` — deletes the key with its last field.
fn hdel(cx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let Some(h) = write(cx, key)? else {
        cx.out.int(0);
        return Ok(());
    };
    let removed = args.from(2).filter(|f| h.remove(f)).count();
    if removed > 0 {
        cx.notify(ev::HASH, "hdel", key);
    }
    delete_if_empty(cx, key);
    cx.dirty(removed as u64);
    cx.out.int(removed as i64);
    Ok(())
}

/// # Format
/// `HLEN key`
fn hlen(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (h, out) = read(cx, args.get(1))?;
    out.int(h.map_or(0, |h| h.len()) as i64);
    Ok(())
}

/// # Format
/// `HSTRLEN key field`
fn hstrlen(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (h, out) = read(cx, args.get(1))?;
    out.int(h.and_then(|h| h.get(args.get(2))).map_or(0, |v| v.len()) as i64);
    Ok(())
}

/// # Format
/// `HEXISTS key field`
fn hexists(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (h, out) = read(cx, args.get(1))?;
    out.int(h.is_some_and(|h| h.contains(args.get(2))) as i64);
    Ok(())
}

/// # Format
/// `HKEYS key`
fn hkeys(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (h, out) = read(cx, args.get(1))?;
    out.array(h.map_or(0, |h| h.len()));
    h.into_iter().flat_map(|h| h.iter()).for_each(|(f, _)| out.bulk(f));
    Ok(())
}

/// # Format
/// `HVALS key`
fn hvals(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (h, out) = read(cx, args.get(1))?;
    out.array(h.map_or(0, |h| h.len()));
    h.into_iter().flat_map(|h| h.iter()).for_each(|(_, v)| out.bulk(v));
    Ok(())
}

/// # Format
/// `HGETALL key` — a map in RESP3.
fn hgetall(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (h, out) = read(cx, args.get(1))?;
    out.map(h.map_or(0, |h| h.len()));
    h.into_iter().flat_map(|h| h.iter()).for_each(|(f, v)| {
        out.bulk(f);
        out.bulk(v);
    });
    Ok(())
}

/// # Format
/// `HINCRBY key field increment`
fn hincrby(cx: &mut Ctx, args: &Args) -> CmdResult {
    let by = args.int(3)?;
    let (key, field) = (args.get(1), args.get(2));
    let current = match write(cx, key)?.and_then(|h| h.get(field)) {
        None => 0,
        Some(v) => parse_int(v).map_err(|_| CmdError::msg("ERR hash value is not an integer"))?,
    };
    let n = current.checked_add(by).ok_or(CmdError::Overflow)?;
    let limits = limits(cx);
    write_or_create(cx, key)?.insert(field, itoa::Buffer::new().format(n).as_bytes(), limits);
    // Redis replies, then notifies.
    cx.out.int(n);
    cx.notify(ev::HASH, "hincrby", key);
    Ok(())
}

/// # Format
/// `HINCRBYFLOAT key field increment` — the result is formatted like
/// INCRBYFLOAT's (see `string::incr_float_text`).
fn hincrbyfloat(cx: &mut Ctx, args: &Args) -> CmdResult {
    let by = LongDouble::parse(args.get(3)).ok_or_else(|| CmdError::msg("ERR value is not a valid float"))?;
    if by.is_nan() || by.is_infinite() {
        return Err(CmdError::msg("ERR value is NaN or Infinity"));
    }
    let (key, field) = (args.get(1), args.get(2));
    let current = match write(cx, key)?.and_then(|h| h.get(field)) {
        None => LongDouble::from_i64(0),
        Some(v) => LongDouble::parse(v).ok_or_else(|| CmdError::msg("ERR hash value is not a float"))?,
    };
    let text = incr_float_text(current, by)?;
    let limits = limits(cx);
    write_or_create(cx, key)?.insert(field, &text, limits);
    cx.out.bulk(&text);
    cx.notify(ev::HASH, "hincrbyfloat", key);
    Ok(())
}

/// Redis's `getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX)` for the
/// count of HRANDFIELD and SRANDMEMBER.
pub fn parse_rand_count(arg: &[u8]) -> Result<i64, CmdError> {
    match parse_int(arg)? {
        i64::MIN => Err(CmdError::msg(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        )),
        n => Ok(n),
    }
}

/// Refuses a negative-count reply (elements may repeat, so its size follows
/// the count, not the collection) estimated at more than `limit`
/// (`proto-max-bulk-len`) bytes: Redis would try to build it and run out of
/// memory. `elem_bytes` is the average size of one element's reply.
pub fn check_repeat_budget(limit: u64, count: u64, elem_bytes: u64) -> CmdResult {
    if count as u128 * elem_bytes.max(1) as u128 > limit as u128 {
        return Err(CmdError::msg("ERR count is too large: the reply would exceed proto-max-bulk-len"));
    }
    Ok(())
}

/// Bytes of a bulk reply of `len` bytes (`$<len>\r\n<data>\r\n`).
pub fn bulk_bytes(len: usize) -> u64 {
    len as u64 + 5 + itoa::Buffer::new().format(len).len() as u64
}

/// Writes one pair of an HRANDFIELD reply.
fn reply_pair(out: &mut Reply, (f, v): (&[u8], &[u8]), withvalues: bool) {
    if withvalues && out.proto == Proto::Resp3 {
        out.array(2);
    }
    out.bulk(f);
    if withvalues {
        out.bulk(v);
    }
}

/// # Format
/// `HRANDFIELD key [count [WITHVALUES]]`
///
/// A positive count returns distinct fields (the whole hash when the count
/// reaches its size), a negative count `-count` fields that may repeat. With
/// WITHVALUES, RESP2 gets a flat array and RESP3 an array of pairs.
fn hrandfield(cx: &mut Ctx, args: &Args) -> CmdResult {
    if args.len() == 2 {
        let now = cx.now;
        let db = cx.srv.client(cx.key).db;
        let crate::server::state::Shared { dbs, rng, .. } = &mut *cx.srv;
        let h = match dbs[db].get(args.get(1), now).map(|e| &e.value) {
            None => None,
            Some(Value::Hash(h)) => Some(h),
            Some(_) => return Err(CmdError::WrongType),
        };
        match h.and_then(|h| h.nth(rng.below(h.len()))) {
            Some((f, _)) => cx.out.bulk(f),
            None => cx.out.null(),
        }
        return Ok(());
    }
    let count = parse_rand_count(args.get(2))?;
    let withvalues = match args.len() {
        3 => false,
        4 if args.get(3).eq_ignore_ascii_case(b"withvalues") => true,
        _ => return Err(CmdError::Syntax),
    };
    if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CmdError::msg("ERR value is out of range"));
    }
    let limit = cx.srv.config.proto_max_bulk_len;
    let now = cx.now;
    let db = cx.srv.client(cx.key).db;
    let h = match cx.srv.dbs[db].get(args.get(1), now).map(|e| &e.value) {
        None => None,
        Some(Value::Hash(h)) => Some(&**h),
        Some(_) => return Err(CmdError::WrongType),
    };
    let Some(h) = h.filter(|_| count != 0) else {
        cx.out.array(0);
        return Ok(());
    };
    // A listpack is read once into a vector, so picking is O(1) either way.
    let pairs: Vec<(&[u8], &[u8])> = if h.encoding() == "listpack" { h.iter().collect() } else { Vec::new() };
    let pick = |i: usize| if pairs.is_empty() { h.nth(i) } else { pairs.get(i).copied() };
    let size = h.len();
    let per_elem = if withvalues { 2 } else { 1 };
    let rng: &mut Rng = &mut cx.srv.rng;
    let out = &mut cx.out;
    if count < 0 {
        let n = count.unsigned_abs();
        // Estimate the reply from a few samples before committing to it.
        let samples = 16.min(size);
        let sampled: u64 = (0..samples)
            .filter_map(|_| pick(rng.below(size)))
            .map(|(f, v)| bulk_bytes(f.len()) + if withvalues { bulk_bytes(v.len()) + 4 } else { 0 })
            .sum();
        check_repeat_budget(limit, n, sampled / samples as u64)?;
        let n = n as usize;
        out.array(if out.proto == Proto::Resp2 { n * per_elem } else { n });
        for _ in 0..n {
            if let Some(p) = pick(rng.below(size)) {
                reply_pair(out, p, withvalues);
            }
        }
        return Ok(());
    }
    let k = (count as u64).min(size as u64) as usize;
    out.array(if out.proto == Proto::Resp2 { k * per_elem } else { k });
    if k == size {
        h.iter().for_each(|p| reply_pair(out, p, withvalues));
    } else {
        for i in sample_distinct(rng, size, k) {
            if let Some(p) = pick(i) {
                reply_pair(out, p, withvalues);
            }
        }
    }
    Ok(())
}

/// Parses `[MATCH pattern] [COUNT count]` from argument `from` on, as
/// Redis's `scanGenericCommand` does for HSCAN/SSCAN/ZSCAN (no TYPE).
pub fn scan_options<'a>(args: &Args<'a>, from: usize) -> Result<(Option<&'a [u8]>, usize), CmdError> {
    let (mut pattern, mut count) = (None, 10usize);
    let mut i = from;
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
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if opt.eq_ignore_ascii_case(b"match") {
            pattern = Some(v);
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    Ok((pattern.filter(|p| *p != b"*"), count))
}

/// # Format
/// `HSCAN key cursor [MATCH pattern] [COUNT count]`
///
/// A listpack hash comes back whole with cursor 0, as in Redis; a hashtable
/// is walked with the cursor described at `Hash::scan`.
fn hscan(cx: &mut Ctx, args: &Args) -> CmdResult {
    let cursor = parse_cursor(args.get(2))?;
    let (h, out) = read(cx, args.get(1))?;
    let Some(h) = h else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let (pattern, count) = scan_options(args, 3)?;
    let mut found: Vec<(&[u8], &[u8])> = Vec::new();
    let next = h.scan(cursor, count, |f, v| {
        if pattern.is_none_or(|p| glob::matches(p, f, false)) {
            found.push((f, v));
        }
    });
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.array(found.len() * 2);
    for (f, v) in found {
        out.bulk(f);
        out.bulk(v);
    }
    Ok(())
}
