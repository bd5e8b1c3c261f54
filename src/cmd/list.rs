//! List commands, including the blocking pops (BLPOP, BRPOP, BLMOVE,
//! BRPOPLPUSH, BLMPOP).
//!
//! A blocking command that finds data behaves exactly like its
//! non-blocking form. Otherwise it calls [`Ctx::block`]; the event loop
//! runs it again when a push signals one of its keys (first come, first
//! served), or answers a null array when its timeout fires.

use super::table::{Command, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx};
use crate::longdouble::LongDouble;
use crate::server::notify as ev;
use crate::store::list::{Elem, End, List, Shape};
use crate::store::{Expiry, Value};
use std::ops::ControlFlow;

pub static COMMANDS: &[Command] = &[
    row(
        "lpush",
        -3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "list",
        "1.0.0",
        "Prepend one or multiple elements to a list",
        lpush,
    )
    .key_flags(&["RW insert"]),
    row(
        "rpush",
        -3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "list",
        "1.0.0",
        "Append one or multiple elements to a list",
        rpush,
    )
    .key_flags(&["RW insert"]),
    row(
        "lpushx",
        -3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "list",
        "2.2.0",
        "Prepend an element to a list, only if the list exists",
        lpushx,
    )
    .key_flags(&["RW insert"]),
    row(
        "rpushx",
        -3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "list",
        "2.2.0",
        "Append an element to a list, only if the list exists",
        rpushx,
    )
    .key_flags(&["RW insert"]),
    row("lpop", -2, WRITE | FAST, (1, 1, 1), "list", "1.0.0", "Remove and get the first elements in a list", lpop)
        .key_flags(&["RW access delete"]),
    row("rpop", -2, WRITE | FAST, (1, 1, 1), "list", "1.0.0", "Remove and get the last elements in a list", rpop)
        .key_flags(&["RW access delete"]),
    row("llen", 2, READONLY | FAST, (1, 1, 1), "list", "1.0.0", "Get the length of a list", llen).key_flags(&["RO"]),
    row("lrange", 4, READONLY, (1, 1, 1), "list", "1.0.0", "Get a range of elements from a list", lrange)
        .key_flags(&["RO access"]),
    row("lindex", 3, READONLY, (1, 1, 1), "list", "1.0.0", "Get an element from a list by its index", lindex)
        .key_flags(&["RO access"]),
    row(
        "lset",
        4,
        WRITE | DENYOOM,
        (1, 1, 1),
        "list",
        "1.0.0",
        "Set the value of an element in a list by its index",
        lset,
    )
    .key_flags(&["RW update"]),
    row(
        "linsert",
        5,
        WRITE | DENYOOM,
        (1, 1, 1),
        "list",
        "2.2.0",
        "Insert an element before or after another element in a list",
        linsert,
    )
    .key_flags(&["RW insert"]),
    row("lrem", 4, WRITE, (1, 1, 1), "list", "1.0.0", "Remove elements from a list", lrem).key_flags(&["RW delete"]),
    row("ltrim", 4, WRITE, (1, 1, 1), "list", "1.0.0", "Trim a list to the specified range", ltrim)
        .key_flags(&["RW delete"]),
    row("lpos", -3, READONLY, (1, 1, 1), "list", "6.0.6", "Return the index of matching elements on a list", lpos)
        .key_flags(&["RO access"]),
    row(
        "lmove",
        5,
        WRITE | DENYOOM,
        (1, 2, 1),
        "list",
        "6.2.0",
        "Pop an element from a list, push it to another list and return it",
        lmove,
    )
    .key_flags(&["RW access delete", "RW insert"]),
    row(
        "rpoplpush",
        3,
        WRITE | DENYOOM,
        (1, 2, 1),
        "list",
        "1.2.0",
        "Remove the last element in a list, prepend it to another list and return it",
        rpoplpush,
    )
    .key_flags(&["RW access delete", "RW insert"]),
    row("lmpop", -4, WRITE, (0, 0, 0), "list", "7.0.0", "Pop elements from a list", lmpop)
        .key_flags(&["RW access delete"]),
    row(
        "blpop",
        -3,
        WRITE | NOSCRIPT | BLOCKING,
        (1, -2, 1),
        "list",
        "2.0.0",
        "Remove and get the first element in a list, or block until one is available",
        blpop,
    )
    .key_flags(&["RW access delete"]),
    row(
        "brpop",
        -3,
        WRITE | NOSCRIPT | BLOCKING,
        (1, -2, 1),
        "list",
        "2.0.0",
        "Remove and get the last element in a list, or block until one is available",
        brpop,
    )
    .key_flags(&["RW access delete"]),
    row(
        "blmove",
        6,
        WRITE | DENYOOM | NOSCRIPT | BLOCKING,
        (1, 2, 1),
        "list",
        "6.2.0",
        "Pop an element from a list, push it to another list and return it; or block until one is available",
        blmove,
    )
    .key_flags(&["RW access delete", "RW insert"]),
    row(
        "brpoplpush",
        4,
        WRITE | DENYOOM | NOSCRIPT | BLOCKING,
        (1, 2, 1),
        "list",
        "2.2.0",
        "Pop an element from a list, push it to another list and return it; or block until one is available",
        brpoplpush,
    )
    .key_flags(&["RW access delete", "RW insert"]),
    row(
        "blmpop",
        -5,
        WRITE | BLOCKING,
        (0, 0, 0),
        "list",
        "7.0.0",
        "Pop elements from a list, or block until one is available",
        blmpop,
    )
    .key_flags(&["RW access delete"]),
];

/// The list at `key`: `None` if missing, WRONGTYPE if not a list.
fn list<'a>(cx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a mut List>, CmdError> {
    let now = cx.now;
    match cx.db().get_mut(key, now).map(|e| &mut e.value) {
        None => Ok(None),
        Some(Value::List(l)) => Ok(Some(l)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The node limit (`list-max-listpack-size`) and the compression depth
/// (`list-compress-depth`), read at each write: a CONFIG SET applies to
/// every list from its next write on.
fn shape(cx: &Ctx) -> Shape {
    Shape::new(cx.srv.config.list_max_listpack_size, cx.srv.config.list_compress_depth)
}

/// Deletes `key` if its list became empty (a key never holds an empty list).
fn drop_if_empty(cx: &mut Ctx, key: &[u8]) {
    let now = cx.now;
    let db = cx.db();
    if matches!(db.peek(key, now).map(|e| &e.value), Some(Value::List(l)) if l.is_empty()) {
        db.remove(key, now);
        cx.notify(ev::GENERIC, "del", key);
    }
}

/// The keyspace events of a pop and a push at `end`.
fn pop_event(end: End) -> &'static str {
    if end == End::Left { "lpop" } else { "rpop" }
}

fn push_event(end: End) -> &'static str {
    if end == End::Left { "lpush" } else { "rpush" }
}

fn parse_end(arg: &[u8]) -> Result<End, CmdError> {
    if arg.eq_ignore_ascii_case(b"left") {
        Ok(End::Left)
    } else if arg.eq_ignore_ascii_case(b"right") {
        Ok(End::Right)
    } else {
        Err(CmdError::Syntax)
    }
}

/// Pushes `values` to `key` at `end`; `only_existing` for LPUSHX/RPUSHX.
fn push(cx: &mut Ctx, args: &Args, end: End, only_existing: bool) -> CmdResult {
    let key = args.get(1);
    let shape = shape(cx);
    let n = match list(cx, key)? {
        Some(l) => {
            args.from(2).for_each(|v| l.push(end, v, shape));
            l.len()
        }
        None if only_existing => 0,
        None => {
            let mut l = List::new();
            args.from(2).for_each(|v| l.push(end, v, shape));
            let n = l.len();
            let now = cx.now;
            cx.db().set(key, Value::List(l), Expiry::None, now);
            cx.signal_ready(key);
            n
        }
    };
    // Redis replies first, then notifies (a subscriber sees its own push after the reply).
    cx.out.int(n as i64);
    if n > 0 {
        cx.notify(ev::LIST, push_event(end), key);
        cx.dirty(args.len() as u64 - 2);
    }
    Ok(())
}

/// # Format
/// `LPUSH key element [element ...]`
fn lpush(cx: &mut Ctx, args: &Args) -> CmdResult {
    push(cx, args, End::Left, false)
}

/// # Format
/// `RPUSH key element [element ...]`
fn rpush(cx: &mut Ctx, args: &Args) -> CmdResult {
    push(cx, args, End::Right, false)
}

/// # Format
/// `LPUSHX key element [element ...]`
fn lpushx(cx: &mut Ctx, args: &Args) -> CmdResult {
    push(cx, args, End::Left, true)
}

/// # Format
/// `RPUSHX key element [element ...]`
fn rpushx(cx: &mut Ctx, args: &Args) -> CmdResult {
    push(cx, args, End::Right, true)
}

/// LPOP/RPOP, with the optional count.
fn pop(cx: &mut Ctx, args: &Args, end: End) -> CmdResult {
    let count = match args.len() {
        2 => None,
        3 => Some(args.int_in(2, 0, i64::MAX, "ERR value is out of range, must be positive")? as usize),
        _ => {
            return Err(CmdError::msg(format!(
                "ERR wrong number of arguments for '{}' command",
                if end == End::Left { "lpop" } else { "rpop" }
            )));
        }
    };
    let key = args.get(1);
    let shape = shape(cx);
    let Some(l) = list(cx, key)? else {
        match count {
            None => cx.out.null(),
            Some(_) => cx.out.null_array(),
        }
        return Ok(());
    };
    let popped: Vec<Box<[u8]>> = (0..count.unwrap_or(1).min(l.len())).filter_map(|_| l.pop(end, shape)).collect();
    match count {
        None => match popped.first() {
            Some(v) => cx.out.bulk(v),
            None => cx.out.null(),
        },
        Some(_) => {
            cx.out.array(popped.len());
            popped.iter().for_each(|v| cx.out.bulk(v));
        }
    }
    if !popped.is_empty() {
        cx.notify(ev::LIST, pop_event(end), key);
    }
    drop_if_empty(cx, key);
    cx.dirty(popped.len() as u64);
    Ok(())
}

/// # Format
/// `LPOP key [count]`
fn lpop(cx: &mut Ctx, args: &Args) -> CmdResult {
    pop(cx, args, End::Left)
}

/// # Format
/// `RPOP key [count]`
fn rpop(cx: &mut Ctx, args: &Args) -> CmdResult {
    pop(cx, args, End::Right)
}

/// # Format
/// `LLEN key`
fn llen(cx: &mut Ctx, args: &Args) -> CmdResult {
    let n = list(cx, args.get(1))?.map_or(0, |l| l.len());
    cx.out.int(n as i64);
    Ok(())
}

/// # Format
/// `LRANGE key start stop`
fn lrange(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (start, stop) = (args.int(2)?, args.int(3)?);
    let now = cx.now;
    let db = cx.db_index();
    let Ctx { srv, out, .. } = cx;
    match srv.dbs[db].get(args.get(1), now).map(|e| &e.value) {
        None => out.array(0),
        Some(Value::List(l)) => {
            out.array(l.range_len(start, stop));
            let mut buf = itoa::Buffer::new();
            l.for_range(start, stop, |v| out.bulk(v.bytes(&mut buf)));
        }
        Some(_) => return Err(CmdError::WrongType),
    }
    Ok(())
}

/// # Format
/// `LINDEX key index`
fn lindex(cx: &mut Ctx, args: &Args) -> CmdResult {
    // The key before the index, as in Redis: a missing key is nil whatever the index.
    let Some(l) = list(cx, args.get(1))? else {
        cx.out.null();
        return Ok(());
    };
    let i = args.int(2)?;
    match l.index(i).and_then(|i| l.get(i)) {
        Some(v) => cx.out.bulk(&v),
        None => cx.out.null(),
    }
    Ok(())
}

/// # Format
/// `LSET key index element`
fn lset(cx: &mut Ctx, args: &Args) -> CmdResult {
    let shape = shape(cx);
    let Some(l) = list(cx, args.get(1))? else { return Err(CmdError::msg("ERR no such key")) };
    let Some(i) = l.index(args.int(2)?) else { return Err(CmdError::msg("ERR index out of range")) };
    l.set(i, args.get(3), shape);
    // Redis replies, then notifies.
    cx.out.ok();
    cx.notify(ev::LIST, "lset", args.get(1));
    Ok(())
}

/// # Format
/// `LINSERT key BEFORE | AFTER pivot element`
fn linsert(cx: &mut Ctx, args: &Args) -> CmdResult {
    let after = match args.get(2) {
        w if w.eq_ignore_ascii_case(b"after") => true,
        w if w.eq_ignore_ascii_case(b"before") => false,
        _ => return Err(CmdError::Syntax),
    };
    let shape = shape(cx);
    let n = match list(cx, args.get(1))? {
        None => 0,
        Some(l) => {
            if l.insert(args.get(3), after, args.get(4), shape) {
                l.len() as i64
            } else {
                -1
            }
        }
    };
    if n > 0 {
        cx.notify(ev::LIST, "linsert", args.get(1));
    }
    cx.out.int(n);
    Ok(())
}

/// # Format
/// `LREM key count element`
fn lrem(cx: &mut Ctx, args: &Args) -> CmdResult {
    let count = args.int(2)?;
    let key = args.get(1);
    let shape = shape(cx);
    let n = list(cx, key)?.map_or(0, |l| l.remove(args.get(3), count, shape));
    if n > 0 {
        cx.notify(ev::LIST, "lrem", key);
    }
    drop_if_empty(cx, key);
    cx.dirty(n as u64);
    cx.out.int(n as i64);
    Ok(())
}

/// # Format
/// `LTRIM key start stop`
fn ltrim(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (start, stop) = (args.int(2)?, args.int(3)?);
    let key = args.get(1);
    let shape = shape(cx);
    if let Some(l) = list(cx, key)? {
        let len = l.len();
        l.trim(start, stop, shape);
        let removed = len - l.len();
        cx.notify(ev::LIST, "ltrim", key);
        // One change per element removed: none for a trim that keeps all.
        cx.dirty(removed as u64);
    }
    drop_if_empty(cx, key);
    cx.out.ok();
    Ok(())
}

/// # Format
/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]`
fn lpos(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (mut rank, mut count, mut maxlen) = (1i64, None, 0usize);
    let mut i = 3;
    while i < args.len() {
        let opt = args.get(i);
        // An option's value is read only once its name is known, as in Redis.
        let has_value = i + 1 < args.len();
        if has_value && opt.eq_ignore_ascii_case(b"rank") {
            rank = args.int(i + 1)?;
            if rank == 0 {
                return Err(CmdError::msg(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                ));
            }
        } else if has_value && opt.eq_ignore_ascii_case(b"count") {
            count = Some(args.int_in(i + 1, 0, i64::MAX, "ERR COUNT can't be negative")? as usize);
        } else if has_value && opt.eq_ignore_ascii_case(b"maxlen") {
            maxlen = args.int_in(i + 1, 0, i64::MAX, "ERR MAXLEN can't be negative")? as usize;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let target = Elem::of(args.get(2));
    let mut found = Vec::new();
    if let Some(l) = list(cx, args.get(1))? {
        // Redis negates RANK -9223372036854775808 into itself, and every
        // match from the tail then passes its rank and count checks.
        let wraps = rank == i64::MIN;
        let mut skip = if wraps { 0 } else { rank.unsigned_abs() - 1 };
        let want = match count {
            Some(0) => usize::MAX,
            _ if wraps => usize::MAX,
            Some(n) => n,
            None => 1,
        };
        let mut seen = 0;
        l.scan(rank < 0, |idx, v| {
            if maxlen != 0 && seen >= maxlen {
                return ControlFlow::Break(());
            }
            seen += 1;
            if v == target {
                if skip > 0 {
                    skip -= 1;
                } else {
                    found.push(idx as i64);
                    if found.len() >= want {
                        return ControlFlow::Break(());
                    }
                }
            }
            ControlFlow::Continue(())
        });
    }
    match count {
        None => match found.first() {
            Some(&i) => cx.out.int(i),
            None => cx.out.null(),
        },
        Some(_) => {
            cx.out.array(found.len());
            found.iter().for_each(|&i| cx.out.int(i));
        }
    }
    Ok(())
}

/// Moves one element from `src` (at `from`) to `dst` (at `to`) and replies
/// with it; false, with no reply, when `src` is missing. Checks both types
/// before changing anything.
fn move_one(cx: &mut Ctx, src: &[u8], dst: &[u8], from: End, to: End) -> Result<bool, CmdError> {
    if list(cx, src)?.is_none() {
        return Ok(false);
    }
    list(cx, dst)?;
    let shape = shape(cx);
    let Some(v) = list(cx, src)?.and_then(|l| l.pop(from, shape)) else { return Ok(false) };
    match list(cx, dst)? {
        Some(l) => l.push(to, &v, shape),
        None => {
            let mut l = List::new();
            l.push(to, &v, shape);
            let now = cx.now;
            cx.db().set(dst, Value::List(l), Expiry::None, now);
            cx.signal_ready(dst);
        }
    }
    // Redis's order: the push event, the reply, the pop event, then the
    // source's deletion.
    cx.notify(ev::LIST, push_event(to), dst);
    cx.out.bulk(&v);
    cx.notify(ev::LIST, pop_event(from), src);
    drop_if_empty(cx, src);
    Ok(true)
}

/// # Format
/// `LMOVE source destination LEFT | RIGHT LEFT | RIGHT`
fn lmove(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (from, to) = (parse_end(args.get(3))?, parse_end(args.get(4))?);
    if !move_one(cx, args.get(1), args.get(2), from, to)? {
        cx.out.null();
    }
    Ok(())
}

/// # Format
/// `RPOPLPUSH source destination`
fn rpoplpush(cx: &mut Ctx, args: &Args) -> CmdResult {
    if !move_one(cx, args.get(1), args.get(2), End::Right, End::Left)? {
        cx.out.null();
    }
    Ok(())
}

/// Parses `numkeys key [key ...] LEFT | RIGHT [COUNT count]` from `at`.
fn parse_lmpop<'a>(args: &Args<'a>, at: usize) -> Result<(Vec<&'a [u8]>, End, usize), CmdError> {
    let (keys, right, count) = super::parse_mpop(args, at, ["left", "right"])?;
    Ok((keys, if right { End::Right } else { End::Left }, count))
}

/// Pops up to `count` from the first non-empty list among `keys`; replies
/// `[key, [elements]]` and returns true, or returns false if all are empty.
fn mpop(cx: &mut Ctx, keys: &[&[u8]], end: End, count: usize) -> Result<bool, CmdError> {
    let shape = shape(cx);
    for key in keys {
        if let Some(l) = list(cx, key)? {
            let popped: Vec<Box<[u8]>> = (0..count.min(l.len())).filter_map(|_| l.pop(end, shape)).collect();
            // Redis replies, then notifies.
            cx.out.array(2);
            cx.out.bulk(key);
            cx.out.array(popped.len());
            popped.iter().for_each(|v| cx.out.bulk(v));
            cx.notify(ev::LIST, pop_event(end), key);
            drop_if_empty(cx, key);
            cx.dirty(popped.len() as u64);
            // For the propagated form: LPOP/RPOP key count.
            cx.srv.prop.note(key);
            cx.srv.prop.note(popped.len().to_string().as_bytes());
            return Ok(true);
        }
    }
    Ok(false)
}

/// # Format
/// `LMPOP numkeys key [key ...] LEFT | RIGHT [COUNT count]`
fn lmpop(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (keys, end, count) = parse_lmpop(args, 1)?;
    if !mpop(cx, &keys, end, count)? {
        cx.out.null_array();
    }
    Ok(())
}

/// A blocking timeout in seconds (decimals allowed) as milliseconds;
/// `None` to wait forever. Redis's `getTimeoutFromObjectOrReply`: the
/// seconds are a C `long double`, `(long long) ceill(secs * 1000)` rounds up (an
/// out-of-range product, `inf` included, comes out negative), and a deadline
/// past the largest time (`now` + ms overflowing) never fires.
pub fn parse_timeout(arg: &[u8], now: u64) -> Result<Option<u64>, CmdError> {
    let secs = LongDouble::parse(arg).ok_or_else(|| CmdError::msg("ERR timeout is not a float or out of range"))?;
    let ms = secs.mul1000_ceil_to_i64();
    if ms < 0 {
        return Err(CmdError::msg("ERR timeout is negative"));
    }
    Ok((ms > 0 && ms.checked_add(now as i64).is_some()).then_some(ms as u64))
}

/// BLPOP/BRPOP: pop from the first non-empty key or block on all of them.
fn bpop(cx: &mut Ctx, args: &Args, end: End) -> CmdResult {
    let timeout = parse_timeout(args.get(args.len() - 1), cx.now)?;
    let keys: Vec<&[u8]> = (1..args.len() - 1).map(|i| args.get(i)).collect();
    let shape = shape(cx);
    for key in &keys {
        if let Some(l) = list(cx, key)?
            && let Some(v) = l.pop(end, shape)
        {
            // Redis replies, then notifies.
            cx.out.array(2);
            cx.out.bulk(key);
            cx.out.bulk(&v);
            cx.notify(ev::LIST, pop_event(end), key);
            drop_if_empty(cx, key);
            // For the propagated form: LPOP/RPOP key.
            cx.srv.prop.note(key);
            served_late_uncounted(cx);
            return Ok(());
        }
    }
    cx.block(&keys, "list", timeout, args);
    Ok(())
}

/// A BLPOP, BRPOP, BLMOVE or BRPOPLPUSH served after blocking changes no
/// count in Redis 7.0 (its `serveClientBlockedOnList` leaves `server.dirty`
/// alone, where BLMPOP's count and the sorted-set pops add theirs).
fn served_late_uncounted(cx: &mut Ctx) {
    if cx.srv.blocking.retrying {
        cx.dirty(0);
    }
}

/// # Format
/// `BLPOP key [key ...] timeout`
fn blpop(cx: &mut Ctx, args: &Args) -> CmdResult {
    bpop(cx, args, End::Left)
}

/// # Format
/// `BRPOP key [key ...] timeout`
fn brpop(cx: &mut Ctx, args: &Args) -> CmdResult {
    bpop(cx, args, End::Right)
}

/// BLMOVE/BRPOPLPUSH: move now, or block on the source.
fn bmove(cx: &mut Ctx, args: &Args, from: End, to: End, timeout_at: usize) -> CmdResult {
    let timeout = parse_timeout(args.get(timeout_at), cx.now)?;
    if move_one(cx, args.get(1), args.get(2), from, to)? {
        served_late_uncounted(cx);
    } else {
        cx.block(&[args.get(1)], "list", timeout, args);
    }
    Ok(())
}

/// # Format
/// `BLMOVE source destination LEFT | RIGHT LEFT | RIGHT timeout`
fn blmove(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (from, to) = (parse_end(args.get(3))?, parse_end(args.get(4))?);
    bmove(cx, args, from, to, 5)
}

/// # Format
/// `BRPOPLPUSH source destination timeout`
fn brpoplpush(cx: &mut Ctx, args: &Args) -> CmdResult {
    bmove(cx, args, End::Right, End::Left, 3)
}

/// # Format
/// `BLMPOP timeout numkeys key [key ...] LEFT | RIGHT [COUNT count]`
fn blmpop(cx: &mut Ctx, args: &Args) -> CmdResult {
    // The timeout comes first but is checked last, as in Redis.
    let (keys, end, count) = parse_lmpop(args, 2)?;
    let timeout = parse_timeout(args.get(1), cx.now)?;
    if !mpop(cx, &keys, end, count)? {
        cx.block(&keys, "list", timeout, args);
    }
    Ok(())
}
