//! Set commands: SADD, SREM, SISMEMBER/SMISMEMBER, SCARD, SMEMBERS,
//! SRANDMEMBER, SPOP, SMOVE, SINTER/SINTERCARD/SINTERSTORE,
//! SUNION/SUNIONSTORE, SDIFF/SDIFFSTORE, SSCAN.
//!
//! The value type and its two encodings live in `store::set`; this file
//! parses arguments, applies Redis 7.0's order of checks and replies. A key
//! never holds an empty set: removing the last member deletes the key, and a
//! *STORE with an empty result deletes its destination. A *STORE overwrites
//! a destination of any type (and its TTL), as Redis's `setKey` does.

use super::hash::{bulk_bytes, check_repeat_budget, parse_rand_count, scan_options};
use super::keys::parse_cursor;
use super::table::{Command, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx};
use crate::glob;
use crate::resp::Reply;
use crate::server::notify as ev;
use crate::server::state::Shared;
use crate::store::rand::Rng;
use crate::store::set::{Member, Set};
use crate::store::{Db, Expiry, Value};

pub static COMMANDS: &[Command] = &[
    row("sadd", -3, WRITE | DENYOOM | FAST, (1, 1, 1), "set", "1.0.0", "Add one or more members to a set", sadd)
        .key_flags(&["RW insert"]),
    row("srem", -3, WRITE | FAST, (1, 1, 1), "set", "1.0.0", "Remove one or more members from a set", srem)
        .key_flags(&["RW delete"]),
    row(
        "sismember",
        3,
        READONLY | FAST,
        (1, 1, 1),
        "set",
        "1.0.0",
        "Determine if a given value is a member of a set",
        sismember,
    )
    .key_flags(&["RO"]),
    row(
        "smismember",
        -3,
        READONLY | FAST,
        (1, 1, 1),
        "set",
        "6.2.0",
        "Returns the membership associated with the given elements for a set",
        smismember,
    )
    .key_flags(&["RO access"]),
    row("scard", 2, READONLY | FAST, (1, 1, 1), "set", "1.0.0", "Get the number of members in a set", scard)
        .key_flags(&["RO"]),
    row("smembers", 2, READONLY, (1, 1, 1), "set", "1.0.0", "Get all the members in a set", smembers)
        .tips(&["nondeterministic_output_order"])
        .key_flags(&["RO access"]),
    row(
        "srandmember",
        -2,
        READONLY,
        (1, 1, 1),
        "set",
        "1.0.0",
        "Get one or multiple random members from a set",
        srandmember,
    )
    .tips(&["nondeterministic_output"])
    .key_flags(&["RO access"]),
    row(
        "spop",
        -2,
        WRITE | FAST,
        (1, 1, 1),
        "set",
        "1.0.0",
        "Remove and return one or multiple random members from a set",
        spop,
    )
    .tips(&["nondeterministic_output"])
    .key_flags(&["RW access delete"]),
    row("smove", 4, WRITE | FAST, (1, 2, 1), "set", "1.0.0", "Move a member from one set to another", smove)
        .key_flags(&["RW access delete", "RW insert"]),
    row("sinter", -2, READONLY, (1, -1, 1), "set", "1.0.0", "Intersect multiple sets", sinter)
        .tips(&["nondeterministic_output_order"])
        .key_flags(&["RO access"]),
    row(
        "sintercard",
        -3,
        READONLY,
        (0, 0, 0),
        "set",
        "7.0.0",
        "Intersect multiple sets and return the cardinality of the result",
        sintercard,
    )
    .key_flags(&["RO access"]),
    row(
        "sinterstore",
        -3,
        WRITE | DENYOOM,
        (1, -1, 1),
        "set",
        "1.0.0",
        "Intersect multiple sets and store the resulting set in a key",
        sinterstore,
    )
    .key_flags(&["RW update", "RO access"]),
    row("sunion", -2, READONLY, (1, -1, 1), "set", "1.0.0", "Add multiple sets", sunion)
        .tips(&["nondeterministic_output_order"])
        .key_flags(&["RO access"]),
    row(
        "sunionstore",
        -3,
        WRITE | DENYOOM,
        (1, -1, 1),
        "set",
        "1.0.0",
        "Add multiple sets and store the resulting set in a key",
        sunionstore,
    )
    .key_flags(&["OW update", "RO access"]),
    row("sdiff", -2, READONLY, (1, -1, 1), "set", "1.0.0", "Subtract multiple sets", sdiff)
        .tips(&["nondeterministic_output_order"])
        .key_flags(&["RO access"]),
    row(
        "sdiffstore",
        -3,
        WRITE | DENYOOM,
        (1, -1, 1),
        "set",
        "1.0.0",
        "Subtract multiple sets and store the resulting set in a key",
        sdiffstore,
    )
    .key_flags(&["OW update", "RO access"]),
    row("sscan", -3, READONLY, (1, 1, 1), "set", "2.8.0", "Incrementally iterate Set elements", sscan)
        .tips(&["nondeterministic_output"])
        .key_flags(&["RO access"]),
];

/// `k` distinct positions out of `0..n` (`k <= n`), uniformly at random.
///
/// Like Redis's SRANDMEMBER cases 3 and 4: when `k` is a large part of `n`
/// a partial Fisher-Yates shuffle of all positions, otherwise random picks
/// with rejection of repeats, which then are rare.
pub fn sample_distinct(rng: &mut Rng, n: usize, k: usize) -> Vec<usize> {
    let k = k.min(n);
    if k.saturating_mul(3) > n {
        let mut all: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = i + rng.below(n - i);
            all.swap(i, j);
        }
        all.truncate(k);
        all
    } else {
        let mut seen = hashbrown::HashSet::with_capacity(k);
        let mut out = Vec::with_capacity(k);
        while out.len() < k {
            let i = rng.below(n);
            if seen.insert(i) {
                out.push(i);
            }
        }
        out
    }
}

/// `set-max-intset-entries` from the config.
fn max_intset(cx: &Ctx) -> usize {
    cx.srv.config.set_max_intset_entries
}

/// A set value read from `db`: `None` if missing, WRONGTYPE for another type.
fn as_set(e: Option<&crate::store::Entry>) -> Result<Option<&Set>, CmdError> {
    match e.map(|e| &e.value) {
        None => Ok(None),
        Some(Value::Set(s)) => Ok(Some(s)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The set at `key` for reading (a keyspace hit or miss, like Redis's
/// `lookupKeyRead`) and the reply writer; WRONGTYPE for another type.
fn read<'a, 'b>(cx: &'a mut Ctx<'b>, key: &[u8]) -> Result<(Option<&'a Set>, &'a mut Reply<'b>), CmdError> {
    let now = cx.now;
    let db = cx.srv.client(cx.key).db;
    let set = as_set(cx.srv.dbs[db].get(key, now))?;
    Ok((set, &mut cx.out))
}

/// The set at `key` for writing, `None` if missing; WRONGTYPE for another
/// type.
fn write<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Result<Option<&'a mut Set>, CmdError> {
    match db.get_mut(key, now) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Set(s) => Ok(Some(s)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// Deletes `key` if it holds an empty set; true if it did.
fn delete_if_empty(db: &mut Db, key: &[u8], now: u64) -> bool {
    let empty = matches!(write(db, key, now), Ok(Some(s)) if s.is_empty());
    if empty {
        db.remove(key, now);
    }
    empty
}

/// Publishes `event` on `key`, then `del` if `deleted`.
fn notify_then_del(cx: &mut Ctx, event: &'static str, key: &[u8], deleted: bool) {
    cx.notify(ev::SET, event, key);
    if deleted {
        cx.notify(ev::GENERIC, "del", key);
    }
}

/// Replies with one member as a bulk string.
fn reply_member(out: &mut Reply, m: Member) {
    m.with_bytes(|b| out.bulk(b));
}

/// # Format
/// `SADD key member [member ...]`
fn sadd(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (key, now, max) = (args.get(1), cx.now, max_intset(cx));
    let db = cx.db();
    if write(db, key, now)?.is_none() {
        db.set(key, Value::Set(Box::default()), Expiry::None, now);
    }
    let Some(s) = write(db, key, now)? else { return Err(CmdError::WrongType) };
    let added = args.from(2).filter(|m| s.add_bytes(m, max)).count();
    if added > 0 {
        cx.notify(ev::SET, "sadd", key);
    }
    cx.dirty(added as u64);
    cx.out.int(added as i64);
    Ok(())
}

/// # Format
/// `SREM key member [member ...]` — deletes the key with its last member.
fn srem(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (key, now) = (args.get(1), cx.now);
    let db = cx.db();
    let removed = match write(db, key, now)? {
        None => 0,
        Some(s) => args.from(2).filter(|m| s.remove_bytes(m)).count(),
    };
    let deleted = delete_if_empty(db, key, now);
    if removed > 0 {
        notify_then_del(cx, "srem", key, deleted);
    }
    cx.dirty(removed as u64);
    cx.out.int(removed as i64);
    Ok(())
}

/// # Format
/// `SISMEMBER key member`
fn sismember(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (s, out) = read(cx, args.get(1))?;
    out.int(s.is_some_and(|s| s.contains_bytes(args.get(2))) as i64);
    Ok(())
}

/// # Format
/// `SMISMEMBER key member [member ...]`
fn smismember(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (s, out) = read(cx, args.get(1))?;
    out.array(args.len() - 2);
    for m in args.from(2) {
        out.int(s.is_some_and(|s| s.contains_bytes(m)) as i64);
    }
    Ok(())
}

/// # Format
/// `SCARD key`
fn scard(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (s, out) = read(cx, args.get(1))?;
    out.int(s.map_or(0, |s| s.len()) as i64);
    Ok(())
}

/// # Format
/// `SMEMBERS key` — a set in RESP3.
fn smembers(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (s, out) = read(cx, args.get(1))?;
    out.set(s.map_or(0, |s| s.len()));
    s.into_iter().flat_map(|s| s.iter()).for_each(|m| reply_member(out, m));
    Ok(())
}

/// # Format
/// `SRANDMEMBER key [count]`
///
/// A positive count returns distinct members (the whole set when the count
/// reaches its size), a negative count `-count` members that may repeat.
fn srandmember(cx: &mut Ctx, args: &Args) -> CmdResult {
    let count = match args.len() {
        2 => None,
        3 => Some(parse_rand_count(args.get(2))?),
        _ => return Err(CmdError::Syntax),
    };
    let limit = cx.srv.config.proto_max_bulk_len;
    let now = cx.now;
    let db = cx.srv.client(cx.key).db;
    let Shared { dbs, rng, .. } = &mut *cx.srv;
    let s = as_set(dbs[db].get(args.get(1), now))?;
    let out = &mut cx.out;
    let Some(count) = count else {
        match s.and_then(|s| s.nth(rng.below(s.len()))) {
            Some(m) => reply_member(out, m),
            None => out.null(),
        }
        return Ok(());
    };
    let Some(s) = s.filter(|_| count != 0) else {
        out.array(0);
        return Ok(());
    };
    let size = s.len();
    if count < 0 {
        let n = count.unsigned_abs();
        let samples = 16.min(size);
        let sampled: u64 =
            (0..samples).filter_map(|_| s.nth(rng.below(size))).map(|m| m.with_bytes(|b| bulk_bytes(b.len()))).sum();
        check_repeat_budget(limit, n, sampled / samples as u64)?;
        out.array(n as usize);
        for _ in 0..n {
            if let Some(m) = s.nth(rng.below(size)) {
                reply_member(out, m);
            }
        }
        return Ok(());
    }
    let k = (count as u64).min(size as u64) as usize;
    out.array(k);
    if k == size {
        s.iter().for_each(|m| reply_member(out, m));
    } else {
        for i in sample_distinct(rng, size, k) {
            if let Some(m) = s.nth(i) {
                reply_member(out, m);
            }
        }
    }
    Ok(())
}

/// # Format
/// `SPOP key [count]` — with a count, a set reply of up to `count` distinct
/// members; the key goes when its last member does.
fn spop(cx: &mut Ctx, args: &Args) -> CmdResult {
    let count = match args.len() {
        2 => None,
        3 => match super::parse_int(args.get(2)) {
            Ok(n) if n >= 0 => Some(n as u64),
            _ => return Err(CmdError::msg("ERR value is out of range, must be positive")),
        },
        _ => return Err(CmdError::Syntax),
    };
    let (key, now) = (args.get(1), cx.now);
    let db = cx.srv.client(cx.key).db;
    let Shared { dbs, rng, prop, .. } = &mut *cx.srv;
    let db = &mut dbs[db];
    let out = &mut cx.out;
    let Some(s) = write(db, key, now)? else {
        match count {
            None => out.null(),
            Some(_) => out.set(0),
        }
        return Ok(());
    };
    let taken = match count {
        None => {
            let i = rng.below(s.len());
            s.take_nth(i).into_iter().collect()
        }
        Some(count) => {
            let size = s.len();
            let k = count.min(size as u64) as usize;
            if k == size {
                s.take_flagged(&vec![true; size])
            } else {
                let mut flags = vec![false; size];
                sample_distinct(rng, size, k).into_iter().for_each(|i| flags[i] = true);
                s.take_flagged(&flags)
            }
        }
    };
    // SPOP propagates as SREM of what it popped.
    taken.iter().for_each(|m| prop.note(m));
    let deleted = delete_if_empty(db, key, now);
    // Redis's order: the spop event, the reply, then the del of a set
    // left empty.
    if !taken.is_empty() {
        cx.notify(ev::SET, "spop", key);
    }
    match (count, taken.first()) {
        (None, Some(m)) => cx.out.bulk(m),
        (None, None) => cx.out.null(),
        (Some(_), _) => {
            cx.out.set(taken.len());
            taken.iter().for_each(|m| cx.out.bulk(m));
        }
    }
    if deleted {
        cx.notify(ev::GENERIC, "del", key);
    }
    cx.dirty(taken.len() as u64);
    Ok(())
}

/// # Format
/// `SMOVE source destination member`
fn smove(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (src, dst, member) = (args.get(1), args.get(2), args.get(3));
    let (now, max) = (cx.now, max_intset(cx));
    let db = cx.db();
    let Some(src_set) = write(db, src, now)? else {
        cx.out.int(0);
        return Ok(());
    };
    let in_src = src_set.contains_bytes(member);
    write(db, dst, now)?;
    if src == dst {
        cx.out.int(in_src as i64);
        return Ok(());
    }
    if !in_src {
        cx.out.int(0);
        return Ok(());
    }
    if let Some(s) = write(db, src, now)? {
        s.remove_bytes(member);
    }
    let deleted = delete_if_empty(db, src, now);
    if write(db, dst, now)?.is_none() {
        db.set(dst, Value::Set(Box::default()), Expiry::None, now);
    }
    let added = write(db, dst, now)?.is_some_and(|d| d.add_bytes(member, max));
    notify_then_del(cx, "srem", src, deleted);
    if added {
        cx.notify(ev::SET, "sadd", dst);
    }
    // Redis counts the removal, and the addition if the member was new there.
    cx.dirty(1 + added as u64);
    cx.out.int(1);
    Ok(())
}

/// Looks every key up (keyspace hits and misses, lazy expiry) and checks
/// that each is a set or missing, failing on the first other type, as
/// Redis's set-algebra commands do before computing anything.
fn check_sets<'k>(db: &mut Db, keys: impl Iterator<Item = &'k [u8]>, now: u64) -> CmdResult {
    for k in keys {
        as_set(db.get(k, now))?;
    }
    Ok(())
}

/// The sets at `keys` (already checked), `None` for a missing key.
fn sets_of<'a, 'k>(db: &'a Db, keys: impl Iterator<Item = &'k [u8]>, now: u64) -> Vec<Option<&'a Set>> {
    keys.map(|k| as_set(db.get_ref(k, now)).ok().flatten()).collect()
}

/// The members common to all `sets`, in the order of the smallest, up to
/// `limit` of them (0 = all). Redis's `sinterGenericCommand`: sort by size,
/// walk the smallest, probe the others.
fn intersect<'a>(sets: &[Option<&'a Set>], limit: usize) -> Vec<Member<'a>> {
    let Some(mut sets) = sets.iter().copied().collect::<Option<Vec<&Set>>>() else { return Vec::new() };
    sets.sort_by_key(|s| s.len());
    let Some((first, rest)) = sets.split_first() else { return Vec::new() };
    let mut out = Vec::new();
    for m in first.iter() {
        if rest.iter().all(|s| s.contains(m)) {
            out.push(m);
            if out.len() == limit {
                break;
            }
        }
    }
    out
}

/// Union (`diff == false`) or difference of `sets` as a new set built the
/// way Redis builds its result (an intset while the members allow).
fn union_or_diff(sets: &[Option<&Set>], diff: bool, max_intset: usize) -> Set {
    let mut result = Set::new();
    if diff {
        if let Some(Some(first)) = sets.first() {
            for m in first.iter() {
                if !sets[1..].iter().flatten().any(|s| s.contains(m)) {
                    result.add(m, max_intset);
                }
            }
        }
    } else {
        for s in sets.iter().flatten() {
            s.iter().for_each(|m| {
                result.add(m, max_intset);
            });
        }
    }
    result
}

/// Stores `result` at `dst` (overwriting any type, dropping any TTL), or
/// deletes `dst` when it is empty; replies with its size.
fn store(cx: &mut Ctx, dst: &[u8], result: Set, event: &'static str) {
    let now = cx.now;
    let n = result.len();
    // Redis replies, then notifies.
    cx.out.int(n as i64);
    let db = cx.db();
    if n == 0 {
        if db.remove(dst, now).is_some() {
            cx.notify(ev::GENERIC, "del", dst);
        }
    } else {
        db.set(dst, Value::Set(Box::new(result)), Expiry::None, now);
        cx.notify(ev::SET, event, dst);
    }
}

/// # Format
/// `SINTER key [key ...]` — a set in RESP3.
fn sinter(cx: &mut Ctx, args: &Args) -> CmdResult {
    let now = cx.now;
    let db = cx.srv.client(cx.key).db;
    let db = &mut cx.srv.dbs[db];
    check_sets(db, args.from(1), now)?;
    let sets = sets_of(db, args.from(1), now);
    let common = intersect(&sets, 0);
    cx.out.set(common.len());
    common.into_iter().for_each(|m| reply_member(&mut cx.out, m));
    Ok(())
}

/// # Format
/// `SINTERCARD numkeys key [key ...] [LIMIT limit]`
fn sintercard(cx: &mut Ctx, args: &Args) -> CmdResult {
    let numkeys = match super::parse_int(args.get(1)) {
        Ok(n) if n >= 1 => n as u64,
        _ => return Err(CmdError::msg("ERR numkeys should be greater than 0")),
    };
    if numkeys > (args.len() - 2) as u64 {
        return Err(CmdError::msg("ERR Number of keys can't be greater than number of args"));
    }
    let keys_end = 2 + numkeys as usize;
    let mut limit = 0usize;
    let mut i = keys_end;
    while i < args.len() {
        if args.get(i).eq_ignore_ascii_case(b"limit") && i + 1 < args.len() {
            limit = match super::parse_int(args.get(i + 1)) {
                Ok(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
                _ => return Err(CmdError::msg("ERR LIMIT can't be negative")),
            };
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let keys = || (2..keys_end).map(|i| args.get(i));
    let now = cx.now;
    let db = cx.srv.client(cx.key).db;
    let db = &mut cx.srv.dbs[db];
    check_sets(db, keys(), now)?;
    let n = intersect(&sets_of(db, keys(), now), limit).len();
    cx.out.int(n as i64);
    Ok(())
}

/// # Format
/// `SINTERSTORE destination key [key ...]`
fn sinterstore(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (now, max) = (cx.now, max_intset(cx));
    let db = cx.db();
    check_sets(db, args.from(2), now)?;
    let sets = sets_of(db, args.from(2), now);
    let mut result = Set::new();
    for m in intersect(&sets, 0) {
        result.add(m, max);
    }
    store(cx, args.get(1), result, "sinterstore");
    Ok(())
}

/// SUNION / SDIFF and their STORE forms: `from` is the first source key,
/// `dst` the destination if storing.
fn union_diff_command(cx: &mut Ctx, args: &Args, from: usize, diff: bool, dst: Option<&[u8]>) -> CmdResult {
    let (now, max) = (cx.now, max_intset(cx));
    let db = cx.db();
    check_sets(db, args.from(from), now)?;
    let result = union_or_diff(&sets_of(db, args.from(from), now), diff, max);
    match dst {
        Some(dst) => store(cx, dst, result, if diff { "sdiffstore" } else { "sunionstore" }),
        None => {
            cx.out.set(result.len());
            result.iter().for_each(|m| reply_member(&mut cx.out, m));
        }
    }
    Ok(())
}

/// # Format
/// `SUNION key [key ...]` — a set in RESP3.
fn sunion(cx: &mut Ctx, args: &Args) -> CmdResult {
    union_diff_command(cx, args, 1, false, None)
}

/// # Format
/// `SUNIONSTORE destination key [key ...]`
fn sunionstore(cx: &mut Ctx, args: &Args) -> CmdResult {
    union_diff_command(cx, args, 2, false, Some(args.get(1)))
}

/// # Format
/// `SDIFF key [key ...]` — members of the first set in none of the others.
fn sdiff(cx: &mut Ctx, args: &Args) -> CmdResult {
    union_diff_command(cx, args, 1, true, None)
}

/// # Format
/// `SDIFFSTORE destination key [key ...]`
fn sdiffstore(cx: &mut Ctx, args: &Args) -> CmdResult {
    union_diff_command(cx, args, 2, true, Some(args.get(1)))
}

/// # Format
/// `SSCAN key cursor [MATCH pattern] [COUNT count]`
///
/// An intset comes back whole with cursor 0, as in Redis; a hashtable is
/// walked with the cursor described at `Set::scan`.
fn sscan(cx: &mut Ctx, args: &Args) -> CmdResult {
    let cursor = parse_cursor(args.get(2))?;
    let (s, out) = read(cx, args.get(1))?;
    let Some(s) = s else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let (pattern, count) = scan_options(args, 3)?;
    let mut found: Vec<Member> = Vec::new();
    let next = s.scan(cursor, count, |m| {
        if pattern.is_none_or(|p| m.with_bytes(|b| glob::matches(p, b, false))) {
            found.push(m);
        }
    });
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.array(found.len());
    found.into_iter().for_each(|m| reply_member(out, m));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::resp::Proto;
    use crate::server::state::Client;

    /// Runs one command through `dispatch` on `srv` as client 0 speaking
    /// `proto`, returning the raw reply.
    fn run(srv: &mut Shared, proto: Proto, args: &[&str]) -> String {
        let mut data = Vec::new();
        let mut spans = Vec::new();
        for a in args {
            spans.push((data.len(), data.len() + a.len()));
            data.extend_from_slice(a.as_bytes());
        }
        let mut buf = Vec::new();
        let mut cx = Ctx { srv, key: 0, out: Reply::new(&mut buf, proto), now: 1 };
        super::super::dispatch(&mut cx, &Args::new(&data, &spans));
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// RESP3 shapes (HELLO is not implemented yet, so the integration
    /// tests cannot ask for them): sets, maps and HRANDFIELD's pairs, as
    /// Redis 7.0.15 sends them.
    #[test]
    fn resp3_reply_types() {
        let mut srv = Shared::new(Config::default());
        srv.add_client(0, Client::new(1, None, None, -1, 0));
        let r3 = |srv: &mut Shared, args: &[&str]| run(srv, Proto::Resp3, args);
        r3(&mut srv, &["SADD", "s", "1", "2"]);
        assert_eq!(r3(&mut srv, &["SMEMBERS", "s"]), "~2\r\n$1\r\n1\r\n$1\r\n2\r\n");
        assert_eq!(r3(&mut srv, &["SMEMBERS", "none"]), "~0\r\n");
        assert_eq!(r3(&mut srv, &["SINTER", "s", "none"]), "~0\r\n");
        assert_eq!(r3(&mut srv, &["SUNION", "s"]), "~2\r\n$1\r\n1\r\n$1\r\n2\r\n");
        assert_eq!(r3(&mut srv, &["SRANDMEMBER", "s", "5"]), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
        assert_eq!(r3(&mut srv, &["SRANDMEMBER", "none"]), "_\r\n");
        assert_eq!(r3(&mut srv, &["SPOP", "s", "0"]), "~0\r\n");
        assert_eq!(r3(&mut srv, &["SPOP", "none", "2"]), "~0\r\n");
        assert_eq!(r3(&mut srv, &["SPOP", "none"]), "_\r\n");
        let all = r3(&mut srv, &["SPOP", "s", "9"]);
        assert!(all.starts_with("~2\r\n"), "{all}");
        r3(&mut srv, &["HSET", "h", "a", "1"]);
        assert_eq!(r3(&mut srv, &["HGETALL", "h"]), "%1\r\n$1\r\na\r\n$1\r\n1\r\n");
        assert_eq!(r3(&mut srv, &["HGETALL", "none"]), "%0\r\n");
        assert_eq!(r3(&mut srv, &["HKEYS", "none"]), "*0\r\n");
        assert_eq!(r3(&mut srv, &["HGET", "h", "zz"]), "_\r\n");
        assert_eq!(
            r3(&mut srv, &["HRANDFIELD", "h", "-2", "WITHVALUES"]),
            "*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
        );
        assert_eq!(r3(&mut srv, &["HRANDFIELD", "h", "1"]), "*1\r\n$1\r\na\r\n");
        assert_eq!(r3(&mut srv, &["HSCAN", "h", "0"]), "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n");
        // RESP2 flattens the pairs.
        assert_eq!(
            run(&mut srv, Proto::Resp2, &["HRANDFIELD", "h", "-2", "WITHVALUES"]),
            "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n1\r\n"
        );
    }

    #[test]
    fn sample_distinct_is_distinct_and_in_range() {
        let mut rng = Rng::new(7);
        for (n, k) in [(10, 10), (10, 9), (10, 3), (1000, 5), (1, 1), (5, 0)] {
            let got = sample_distinct(&mut rng, n, k);
            assert_eq!(got.len(), k);
            let uniq: std::collections::HashSet<_> = got.iter().collect();
            assert_eq!(uniq.len(), k);
            assert!(got.iter().all(|&i| i < n));
        }
    }
}
