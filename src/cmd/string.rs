//! String commands: GET, SET, INCR/DECR and their BY forms, MGET, MSET.

use super::table::{Command, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx, parse_int};
use crate::resp::parse::parse_i64;
use crate::store::{Expiry, Value};

pub static COMMANDS: &[Command] = &[
    row("get", 2, READONLY | FAST, (1, 1, 1), "string", "1.0.0", "Returns the string value of a key.", get),
    row(
        "set",
        -3,
        WRITE | DENYOOM,
        (1, 1, 1),
        "string",
        "1.0.0",
        "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
        set,
    ),
    row(
        "mget",
        -2,
        READONLY | FAST,
        (1, -1, 1),
        "string",
        "1.0.0",
        "Atomically returns the string values of one or more keys.",
        mget,
    ),
    row(
        "mset",
        -3,
        WRITE | DENYOOM,
        (1, -1, 2),
        "string",
        "1.0.1",
        "Atomically creates or modifies the string values of one or more keys.",
        mset,
    ),
    row(
        "incr",
        2,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        "1.0.0",
        "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
        incr,
    ),
    row(
        "decr",
        2,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        "1.0.0",
        "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
        decr,
    ),
    row(
        "incrby",
        3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        "1.0.0",
        "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        incrby,
    ),
    row(
        "decrby",
        3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        "1.0.0",
        "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
        decrby,
    ),
];

/// The string stored at `key`, `None` if missing, WRONGTYPE if not a string.
fn get_str<'a>(cx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a [u8]>, CmdError> {
    let now = cx.now;
    match cx.db().get(key, now) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::Str(s) => Ok(Some(s)),
        },
    }
}

/// Replies with the string at `key` or null (GET, and SET ... GET).
fn reply_get(cx: &mut Ctx, key: &[u8]) -> CmdResult {
    let now = cx.now;
    let db = cx.srv.client(cx.key).db;
    let Ctx { srv, out, .. } = cx;
    match srv.dbs[db].get(key, now) {
        None => out.null(),
        Some(e) => match &e.value {
            Value::Str(s) => out.bulk(s),
        },
    }
    Ok(())
}

/// # Format
/// `GET key`
fn get(cx: &mut Ctx, args: &Args) -> CmdResult {
    reply_get(cx, args.get(1))
}

/// Converts an expire argument to absolute unix ms, with Redis's checks.
/// `unit_ms` is 1000 for seconds; `relative` adds the current time.
pub fn expire_at(arg: &[u8], unit_ms: i64, relative: bool, now: u64, cmd: &'static str) -> Result<i64, CmdError> {
    let n = parse_int(arg)?;
    let ms = n.checked_mul(unit_ms).ok_or(CmdError::InvalidExpire(cmd))?;
    if relative { ms.checked_add(now as i64).ok_or(CmdError::InvalidExpire(cmd)) } else { Ok(ms) }
}

/// # Format
/// `SET key value [NX | XX] [GET] [EX seconds | PX milliseconds |
///  EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]`
fn set(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (mut nx, mut xx, mut get, mut keepttl) = (false, false, false, false);
    // (option index, ms per unit, relative) of EX/PX/EXAT/PXAT. Redis lets an
    // option repeat but not combine with another expire option.
    let mut expire: Option<(usize, i64, bool)> = None;
    let mut i = 3;
    while i < args.len() {
        let opt = args.get(i);
        let is = |name: &str| opt.eq_ignore_ascii_case(name.as_bytes());
        let has_next = i + 1 < args.len();
        let kind = match () {
            _ if is("EX") => Some((1000, true)),
            _ if is("PX") => Some((1, true)),
            _ if is("EXAT") => Some((1000, false)),
            _ if is("PXAT") => Some((1, false)),
            _ => None,
        };
        if is("NX") && !xx {
            nx = true;
        } else if is("XX") && !nx {
            xx = true;
        } else if is("GET") {
            get = true;
        } else if is("KEEPTTL") && expire.is_none() {
            keepttl = true;
        } else if let Some((unit, relative)) = kind
            && has_next
            && !keepttl
            && expire.is_none_or(|(_, u, r)| (u, r) == (unit, relative))
        {
            expire = Some((i + 1, unit, relative));
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    let expire = match expire {
        None => None,
        Some((at, unit, relative)) => {
            let n = args.int(at)?;
            if n <= 0 {
                return Err(CmdError::InvalidExpire("set"));
            }
            Some(expire_at(args.get(at), unit, relative, cx.now, "set")?)
        }
    };
    let key = args.get(1);
    if get {
        reply_get(cx, key)?;
    }
    let now = cx.now;
    let exists = cx.db().contains(key, now);
    if (nx && exists) || (xx && !exists) {
        if !get {
            cx.out.null();
        }
        return Ok(());
    }
    let expiry = match (expire, keepttl) {
        (Some(t), _) => Expiry::At(t as u64),
        (None, true) => Expiry::Keep,
        (None, false) => Expiry::None,
    };
    cx.db().set(key, Value::Str(args.get(2).to_vec()), expiry, now);
    if !get {
        cx.out.ok();
    }
    Ok(())
}

/// # Format
/// `MGET key [key ...]`
fn mget(cx: &mut Ctx, args: &Args) -> CmdResult {
    cx.out.array(args.len() - 1);
    let now = cx.now;
    let db = cx.srv.client(cx.key).db;
    let Ctx { srv, out, .. } = cx;
    let db = &mut srv.dbs[db];
    for key in args.from(1) {
        match db.get(key, now).map(|e| &e.value) {
            Some(Value::Str(s)) => out.bulk(s),
            None => out.null(),
        }
    }
    Ok(())
}

/// # Format
/// `MSET key value [key value ...]`
fn mset(cx: &mut Ctx, args: &Args) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(CmdError::msg("ERR wrong number of arguments for 'mset' command"));
    }
    let now = cx.now;
    let db = cx.db();
    for i in (1..args.len()).step_by(2) {
        db.set(args.get(i), Value::Str(args.get(i + 1).to_vec()), Expiry::None, now);
    }
    cx.out.ok();
    Ok(())
}

/// Adds `by` to the integer at `key` (created as 0), keeping its TTL.
fn incr_by(cx: &mut Ctx, key: &[u8], by: i64) -> CmdResult {
    let current = match get_str(cx, key)? {
        None => 0,
        Some(s) => parse_i64(s).ok_or(CmdError::NotInteger)?,
    };
    let n = current.checked_add(by).ok_or(CmdError::Overflow)?;
    let mut buf = itoa::Buffer::new();
    let now = cx.now;
    cx.db().set(key, Value::Str(buf.format(n).as_bytes().to_vec()), Expiry::Keep, now);
    cx.out.int(n);
    Ok(())
}

/// # Format
/// `INCR key`
fn incr(cx: &mut Ctx, args: &Args) -> CmdResult {
    incr_by(cx, args.get(1), 1)
}

/// # Format
/// `DECR key`
fn decr(cx: &mut Ctx, args: &Args) -> CmdResult {
    incr_by(cx, args.get(1), -1)
}

/// # Format
/// `INCRBY key increment`
fn incrby(cx: &mut Ctx, args: &Args) -> CmdResult {
    let by = args.int(2)?;
    incr_by(cx, args.get(1), by)
}

/// # Format
/// `DECRBY key decrement`
fn decrby(cx: &mut Ctx, args: &Args) -> CmdResult {
    let by = args.int(2)?;
    if by == i64::MIN {
        return Err(CmdError::msg("ERR decrement would overflow"));
    }
    incr_by(cx, args.get(1), -by)
}
