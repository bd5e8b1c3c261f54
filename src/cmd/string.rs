//! String commands: GET, SET and its variants (SETNX, SETEX, PSETEX, GETSET,
//! GETDEL, GETEX), MGET, MSET, MSETNX, APPEND, STRLEN, the INCR/DECR family,
//! INCRBYFLOAT, GETRANGE/SUBSTR, SETRANGE and LCS.

use super::table::{Command, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx, parse_int, str_of};
use crate::longdouble::LongDouble;
use crate::resp::parse::parse_i64;
use crate::server::notify as ev;
use crate::store::value::Str;
use crate::store::{Expiry, Value};

pub static COMMANDS: &[Command] = &[
    row("get", 2, READONLY | FAST, (1, 1, 1), "string", "1.0.0", "Get the value of a key", get)
        .key_flags(&["RO access"]),
    row("set", -3, WRITE | DENYOOM, (1, 1, 1), "string", "1.0.0", "Set the string value of a key", set)
        .key_notes(&["RW and ACCESS due to the optional `GET` argument"])
        .key_flags(&["RW access update variable_flags"]),
    row("mget", -2, READONLY | FAST, (1, -1, 1), "string", "1.0.0", "Get the values of all the given keys", mget)
        .tips(&["request_policy:multi_shard"])
        .key_flags(&["RO access"]),
    row("mset", -3, WRITE | DENYOOM, (1, -1, 2), "string", "1.0.1", "Set multiple keys to multiple values", mset)
        .tips(&["request_policy:multi_shard", "response_policy:all_succeeded"])
        .key_flags(&["OW update"]),
    row(
        "incr",
        2,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        "1.0.0",
        "Increment the integer value of a key by one",
        incr,
    )
    .key_flags(&["RW access update"]),
    row(
        "decr",
        2,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        "1.0.0",
        "Decrement the integer value of a key by one",
        decr,
    )
    .key_flags(&["RW access update"]),
    row(
        "incrby",
        3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        "1.0.0",
        "Increment the integer value of a key by the given amount",
        incrby,
    )
    .key_flags(&["RW access update"]),
    row(
        "decrby",
        3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        "1.0.0",
        "Decrement the integer value of a key by the given number",
        decrby,
    )
    .key_flags(&["RW access update"]),
    row(
        "setnx",
        3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        "1.0.0",
        "Set the value of a key, only if the key does not exist",
        setnx,
    )
    .key_flags(&["OW insert"]),
    row("setex", 4, WRITE | DENYOOM, (1, 1, 1), "string", "2.0.0", "Set the value and expiration of a key", setex)
        .key_flags(&["OW update"]),
    row(
        "psetex",
        4,
        WRITE | DENYOOM,
        (1, 1, 1),
        "string",
        "2.6.0",
        "Set the value and expiration in milliseconds of a key",
        psetex,
    )
    .key_flags(&["OW update"]),
    row(
        "getset",
        3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        "1.0.0",
        "Set the string value of a key and return its old value",
        getset,
    )
    .key_flags(&["RW access update"]),
    row("getdel", 2, WRITE | FAST, (1, 1, 1), "string", "6.2.0", "Get the value of a key and delete the key", getdel)
        .key_flags(&["RW access delete"]),
    row(
        "getex",
        -2,
        WRITE | FAST,
        (1, 1, 1),
        "string",
        "6.2.0",
        "Get the value of a key and optionally set its expiration",
        getex,
    )
    .key_notes(&["RW and UPDATE because it changes the TTL"])
    .key_flags(&["RW access update"]),
    row(
        "msetnx",
        -3,
        WRITE | DENYOOM,
        (1, -1, 2),
        "string",
        "1.0.1",
        "Set multiple keys to multiple values, only if none of the keys exist",
        msetnx,
    )
    .tips(&["request_policy:multi_shard", "response_policy:agg_min"])
    .key_flags(&["OW insert"]),
    row("append", 3, WRITE | DENYOOM | FAST, (1, 1, 1), "string", "2.0.0", "Append a value to a key", append)
        .key_flags(&["RW insert"]),
    row(
        "strlen",
        2,
        READONLY | FAST,
        (1, 1, 1),
        "string",
        "2.2.0",
        "Get the length of the value stored in a key",
        strlen,
    )
    .key_flags(&["RO"]),
    row(
        "incrbyfloat",
        3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        "2.6.0",
        "Increment the float value of a key by the given amount",
        incrbyfloat,
    )
    .key_flags(&["RW access update"]),
    row(
        "getrange",
        4,
        READONLY,
        (1, 1, 1),
        "string",
        "2.4.0",
        "Get a substring of the string stored at a key",
        getrange,
    )
    .key_flags(&["RO access"]),
    row("substr", 4, READONLY, (1, 1, 1), "string", "1.0.0", "Get a substring of the string stored at a key", getrange)
        .key_flags(&["RO access"]),
    row(
        "setrange",
        4,
        WRITE | DENYOOM,
        (1, 1, 1),
        "string",
        "2.2.0",
        "Overwrite part of a string at key starting at the specified offset",
        setrange,
    )
    .key_flags(&["RW update"]),
    row("lcs", -3, READONLY, (1, 2, 1), "string", "7.0.0", "Find longest common substring", lcs)
        .key_flags(&["RO access"]),
];

/// The string stored at `key`, `None` if missing, WRONGTYPE if not a string.
fn get_str<'a>(cx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a [u8]>, CmdError> {
    let now = cx.now;
    str_of(cx.db().get(key, now))
}

/// The string at `key` looked up for writing (Redis's `lookupKeyWrite`: no
/// keyspace hit/miss counted, no `keymiss` event), `None` if missing.
fn get_str_for_write<'a>(cx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a [u8]>, CmdError> {
    let now = cx.now;
    str_of(cx.db().get_mut(key, now).map(|e| &*e))
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
            _ => return Err(CmdError::WrongType),
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

/// Options shared by SET and GETEX (Redis's `parseExtendedStringArgumentsOrReply`).
#[derive(Default)]
struct StrOpts {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    /// EX/PX/EXAT/PXAT: (index of the value, ms per unit, relative).
    expire: Option<(usize, i64, bool)>,
}

impl StrOpts {
    /// The absolute expiry in unix ms of an EX/PX/EXAT/PXAT option: its
    /// value is checked here, after the syntax (and, for GETEX, after the
    /// key's lookup), as Redis's `getExpireMillisecondsOrReply` does.
    fn expire_ms(&self, args: &Args, now: u64, name: &'static str) -> Result<Option<i64>, CmdError> {
        let Some((at, unit, relative)) = self.expire else { return Ok(None) };
        if args.int(at)? <= 0 {
            return Err(CmdError::InvalidExpire(name));
        }
        expire_at(args.get(at), unit, relative, now, name).map(Some)
    }
}

/// Which command's options are being parsed.
#[derive(PartialEq, Clone, Copy)]
enum OptsFor {
    Set,
    GetEx,
}

/// Parses `args[from..]`. An expire option may repeat (the last wins) but
/// not combine with another expire option, KEEPTTL or PERSIST; only the
/// syntax is checked here (see [`StrOpts::expire_ms`] for the number).
fn parse_str_opts(args: &Args, from: usize, cmd: OptsFor) -> Result<StrOpts, CmdError> {
    let mut o = StrOpts::default();
    let set = cmd == OptsFor::Set;
    let mut i = from;
    while i < args.len() {
        let opt = args.get(i);
        let is = |name: &str| opt.eq_ignore_ascii_case(name.as_bytes());
        let kind = match () {
            _ if is("EX") => Some((1000, true)),
            _ if is("PX") => Some((1, true)),
            _ if is("EXAT") => Some((1000, false)),
            _ if is("PXAT") => Some((1, false)),
            _ => None,
        };
        if set && is("NX") && !o.xx {
            o.nx = true;
        } else if set && is("XX") && !o.nx {
            o.xx = true;
        } else if set && is("GET") {
            o.get = true;
        } else if set && is("KEEPTTL") && o.expire.is_none() {
            o.keepttl = true;
        } else if !set && is("PERSIST") && o.expire.is_none() {
            o.persist = true;
        } else if let Some((unit, relative)) = kind
            && i + 1 < args.len()
            && !o.keepttl
            && !o.persist
            && o.expire.is_none_or(|(_, u, r)| (u, r) == (unit, relative))
        {
            o.expire = Some((i + 1, unit, relative));
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    Ok(o)
}

/// # Format
/// `SET key value [NX | XX] [GET] [EX seconds | PX milliseconds |
///  EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]`
fn set(cx: &mut Ctx, args: &Args) -> CmdResult {
    let o = parse_str_opts(args, 3, OptsFor::Set)?;
    let expire = o.expire_ms(args, cx.now, "set")?;
    let key = args.get(1);
    if o.get {
        reply_get(cx, key)?;
    }
    let now = cx.now;
    let exists = cx.db().contains(key, now);
    if (o.nx && exists) || (o.xx && !exists) {
        if !o.get {
            cx.out.null();
        }
        return Ok(());
    }
    let expiry = match (expire, o.keepttl) {
        (Some(t), _) => Expiry::At(t as u64),
        (None, true) => Expiry::Keep,
        (None, false) => Expiry::None,
    };
    cx.db().set(key, Value::Str(Str::from_slice(args.get(2))), expiry, now);
    cx.notify(ev::STRING, "set", key);
    if expire.is_some() {
        cx.notify(ev::GENERIC, "expire", key);
    }
    if !o.get {
        cx.out.ok();
    }
    Ok(())
}

/// # Format
/// `SETNX key value`
fn setnx(cx: &mut Ctx, args: &Args) -> CmdResult {
    let now = cx.now;
    let db = cx.db();
    let set = !db.contains(args.get(1), now);
    if set {
        db.set(args.get(1), Value::Str(Str::from_slice(args.get(2))), Expiry::None, now);
        cx.notify(ev::STRING, "set", args.get(1));
    }
    cx.out.int(set as i64);
    Ok(())
}

/// SETEX and PSETEX: `key ttl value`, the TTL in units of `unit_ms`.
fn setex_generic(cx: &mut Ctx, args: &Args, unit_ms: i64, name: &'static str) -> CmdResult {
    if args.int(2)? <= 0 {
        return Err(CmdError::InvalidExpire(name));
    }
    let at = expire_at(args.get(2), unit_ms, true, cx.now, name)?;
    let now = cx.now;
    cx.db().set(args.get(1), Value::Str(Str::from_slice(args.get(3))), Expiry::At(at as u64), now);
    cx.notify(ev::STRING, "set", args.get(1));
    cx.notify(ev::GENERIC, "expire", args.get(1));
    cx.out.ok();
    Ok(())
}

/// # Format
/// `SETEX key seconds value`
fn setex(cx: &mut Ctx, args: &Args) -> CmdResult {
    setex_generic(cx, args, 1000, "setex")
}

/// # Format
/// `PSETEX key milliseconds value`
fn psetex(cx: &mut Ctx, args: &Args) -> CmdResult {
    setex_generic(cx, args, 1, "psetex")
}

/// # Format
/// `GETSET key value` — SET with GET; clears the TTL.
fn getset(cx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    reply_get(cx, key)?;
    let now = cx.now;
    cx.db().set(key, Value::Str(Str::from_slice(args.get(2))), Expiry::None, now);
    cx.notify(ev::STRING, "set", key);
    Ok(())
}

/// # Format
/// `GETDEL key`
fn getdel(cx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    if get_str(cx, key)?.is_none() {
        cx.out.null();
        return Ok(());
    }
    let now = cx.now;
    if let Some(Value::Str(v)) = cx.db().remove(key, now).map(|e| e.value) {
        cx.out.bulk(&v);
        cx.notify(ev::GENERIC, "del", key);
    }
    Ok(())
}

/// # Format
/// `GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
///  PXAT unix-time-milliseconds | PERSIST]`
fn getex(cx: &mut Ctx, args: &Args) -> CmdResult {
    let o = parse_str_opts(args, 2, OptsFor::GetEx)?;
    let key = args.get(1);
    if get_str(cx, key)?.is_none() {
        cx.out.null();
        return Ok(());
    }
    let expire = o.expire_ms(args, cx.now, "getex")?;
    reply_get(cx, key)?;
    let now = cx.now;
    let db = cx.db();
    match expire {
        Some(t) if t as u64 <= now => {
            db.remove(key, now);
            cx.notify(ev::GENERIC, "del", key);
        }
        Some(t) => {
            db.set_expire(key, Some(t as u64), now);
            cx.notify(ev::GENERIC, "expire", key);
        }
        None if o.persist && db.peek(key, now).is_some_and(|e| e.has_ttl()) => {
            db.set_expire(key, None, now);
            cx.notify(ev::GENERIC, "persist", key);
        }
        None => {}
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
            Some(_) => out.null(),
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
        db.set(args.get(i), Value::Str(Str::from_slice(args.get(i + 1))), Expiry::None, now);
    }
    for i in (1..args.len()).step_by(2) {
        cx.notify(ev::STRING, "set", args.get(i));
    }
    cx.dirty(args.len() as u64 / 2);
    cx.out.ok();
    Ok(())
}

/// Adds `by` to the integer at `key` (created as 0), keeping its TTL.
fn incr_by(cx: &mut Ctx, key: &[u8], by: i64) -> CmdResult {
    let now = cx.now;
    let mut buf = itoa::Buffer::new();
    // An existing string is rewritten in place: one lookup, not two.
    let n = match cx.db().get_mut(key, now) {
        Some(e) => {
            let Value::Str(s) = &mut e.value else { return Err(CmdError::WrongType) };
            let n = parse_i64(s).ok_or(CmdError::NotInteger)?.checked_add(by).ok_or(CmdError::Overflow)?;
            *s = Str::from_slice(buf.format(n).as_bytes());
            n
        }
        None => {
            cx.db().set(key, Value::Str(Str::from_slice(buf.format(by).as_bytes())), Expiry::Keep, now);
            by
        }
    };
    cx.notify(ev::STRING, "incrby", key);
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

/// # Format
/// `MSETNX key value [key value ...]` — all or nothing.
fn msetnx(cx: &mut Ctx, args: &Args) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(CmdError::msg("ERR wrong number of arguments for 'msetnx' command"));
    }
    let now = cx.now;
    let db = cx.db();
    if (1..args.len()).step_by(2).any(|i| db.contains(args.get(i), now)) {
        cx.out.int(0);
        return Ok(());
    }
    for i in (1..args.len()).step_by(2) {
        db.set(args.get(i), Value::Str(Str::from_slice(args.get(i + 1))), Expiry::None, now);
    }
    for i in (1..args.len()).step_by(2) {
        cx.notify(ev::STRING, "set", args.get(i));
    }
    cx.dirty(args.len() as u64 / 2);
    cx.out.int(1);
    Ok(())
}

/// Redis's `checkStringLength`: a string may not outgrow proto-max-bulk-len
/// (unless the command must be obeyed).
fn check_len(cx: &Ctx, len: u64) -> CmdResult {
    if len > cx.bulk_limit() {
        return Err(CmdError::msg("ERR string exceeds maximum allowed size (proto-max-bulk-len)"));
    }
    Ok(())
}

/// The string at `key` for in-place modification, created empty (keeping
/// no TTL) when missing; WRONGTYPE for other types.
fn str_mut<'a>(cx: &'a mut Ctx, key: &[u8]) -> Result<&'a mut Str, CmdError> {
    let now = cx.now;
    let db = cx.db();
    if db.get_mut(key, now).is_none() {
        db.set(key, Value::Str(Str::new()), Expiry::None, now);
    }
    match db.get_mut(key, now).map(|e| &mut e.value) {
        Some(Value::Str(s)) => Ok(s),
        Some(_) => Err(CmdError::WrongType),
        None => Err(CmdError::msg("ERR no such key")),
    }
}

/// # Format
/// `APPEND key value`
fn append(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (key, extra) = (args.get(1), args.get(2));
    let current = get_str_for_write(cx, key)?.map(|s| s.len());
    check_len(cx, (current.unwrap_or(0) + extra.len()) as u64)?;
    let n = if current.is_some() {
        let s = str_mut(cx, key)?;
        s.append(extra);
        // Changed in place: Redis's `raw`.
        s.mark_raw();
        s.len()
    } else {
        // A new key is stored as SET would store it (encoded by content).
        let now = cx.now;
        cx.db().set(key, Value::Str(Str::from_slice(extra)), Expiry::None, now);
        extra.len()
    };
    cx.notify(ev::STRING, "append", key);
    cx.out.int(n as i64);
    Ok(())
}

/// # Format
/// `STRLEN key`
fn strlen(cx: &mut Ctx, args: &Args) -> CmdResult {
    let n = get_str(cx, args.get(1))?.map_or(0, |s| s.len());
    cx.out.int(n as i64);
    Ok(())
}

/// The text of an INCRBYFLOAT/HINCRBYFLOAT result: `current + by` in C
/// `long double` (Redis's arithmetic), printed as Redis's
/// `ld2string(LD_STR_HUMAN)` does (17 decimals, trailing zeros trimmed);
/// NaN or an infinity is the error Redis gives.
pub fn incr_float_text(current: LongDouble, by: LongDouble) -> Result<Vec<u8>, CmdError> {
    let v = current + by;
    if v.is_nan() || v.is_infinite() {
        return Err(CmdError::msg("ERR increment would produce NaN or Infinity"));
    }
    let mut text = Vec::new();
    v.write_human(&mut text);
    Ok(text)
}

/// # Format
/// `INCRBYFLOAT key increment`
fn incrbyfloat(cx: &mut Ctx, args: &Args) -> CmdResult {
    let not_float = || CmdError::msg("ERR value is not a valid float");
    let key = args.get(1);
    // The key's type, then its value, then the increment, as in Redis.
    let current = match get_str_for_write(cx, key)? {
        None => LongDouble::from_i64(0),
        Some(s) => LongDouble::parse(s).ok_or_else(not_float)?,
    };
    let by = LongDouble::parse(args.get(2)).ok_or_else(not_float)?;
    let text = incr_float_text(current, by)?;
    let now = cx.now;
    let mut value = Str::from_slice(&text);
    value.mark_embstr();
    cx.db().set(key, Value::Str(value), Expiry::Keep, now);
    cx.notify(ev::STRING, "incrbyfloat", key);
    cx.out.bulk(&text);
    Ok(())
}

/// # Format
/// `GETRANGE key start end` (and the old name `SUBSTR`)
fn getrange(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (mut start, mut end) = (args.int(2)?, args.int(3)?);
    let s = get_str(cx, args.get(1))?.unwrap_or(&[]);
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        cx.out.bulk(b"");
        return Ok(());
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0).min(len - 1);
    let range = if start > end || len == 0 { 0..0 } else { start as usize..end as usize + 1 };
    let piece = s[range].to_vec();
    cx.out.bulk(&piece);
    Ok(())
}

/// # Format
/// `SETRANGE key offset value`
fn setrange(cx: &mut Ctx, args: &Args) -> CmdResult {
    let offset = args.int(2)?;
    if offset < 0 {
        return Err(CmdError::msg("ERR offset is out of range"));
    }
    let (key, value) = (args.get(1), args.get(3));
    let current = get_str_for_write(cx, key)?.map(|s| s.len());
    if value.is_empty() {
        // Nothing to write: report the length, create nothing.
        cx.out.int(current.unwrap_or(0) as i64);
        return Ok(());
    }
    let offset = offset as usize;
    check_len(cx, (offset as u64).saturating_add(value.len() as u64))?;
    let s = str_mut(cx, key)?;
    if s.len() < offset + value.len() {
        s.resize_zeroed(offset + value.len());
    }
    s[offset..offset + value.len()].copy_from_slice(value);
    s.mark_raw();
    let n = s.len();
    cx.notify(ev::STRING, "setrange", key);
    cx.out.int(n as i64);
    Ok(())
}

/// # Format
/// `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]`
///
/// The classic dynamic-programming table, walked back from the end to
/// rebuild the subsequence and its matching ranges, exactly as Redis does
/// (including the order of the ranges, last first).
fn lcs(cx: &mut Ctx, args: &Args) -> CmdResult {
    // Both keys are looked up (expiring either), then checked before the
    // options, with LCS's own text.
    let a = get_str(cx, args.get(1)).map(|s| s.unwrap_or(&[]).to_vec());
    let b = get_str(cx, args.get(2)).map(|s| s.unwrap_or(&[]).to_vec());
    let (Ok(a), Ok(b)) = (a, b) else {
        return Err(CmdError::msg("ERR The specified keys must contain string values"));
    };
    let (mut getlen, mut getidx, mut withmatchlen, mut minmatchlen) = (false, false, false, 0i64);
    let mut i = 3;
    while i < args.len() {
        let opt = args.get(i);
        if opt.eq_ignore_ascii_case(b"idx") {
            getidx = true;
        } else if opt.eq_ignore_ascii_case(b"len") {
            getlen = true;
        } else if opt.eq_ignore_ascii_case(b"withmatchlen") {
            withmatchlen = true;
        } else if opt.eq_ignore_ascii_case(b"minmatchlen") && i + 1 < args.len() {
            minmatchlen = args.int(i + 1)?.max(0);
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if getlen && getidx {
        return Err(CmdError::msg("ERR If you want both the length and indexes, please just use IDX."));
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells.saturating_mul(4) > cx.srv.config.proto_max_bulk_len {
        return Err(CmdError::msg("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"));
    }
    let w = blen + 1;
    let mut dp = vec![0u32; cells as usize];
    for i in 1..=alen {
        for j in 1..=blen {
            dp[i * w + j] = if a[i - 1] == b[j - 1] {
                dp[(i - 1) * w + j - 1] + 1
            } else {
                dp[(i - 1) * w + j].max(dp[i * w + j - 1])
            };
        }
    }
    let total = dp[alen * w + blen] as usize;
    let mut result = vec![0u8; total];
    let mut matches: Vec<[usize; 5]> = Vec::new();
    let (mut i, mut j, mut idx) = (alen, blen, total);
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (alen, 0, 0, 0);
    let computelcs = getidx || !getlen;
    while computelcs && i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            if a_start == alen {
                (a_start, a_end, b_start, b_end) = (i - 1, i - 1, j - 1, j - 1);
            } else if a_start == i && b_start == j {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if dp[(i - 1) * w + j] > dp[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if a_start != alen {
                emit = true;
            }
        }
        // Unsigned wrap-around when no range is open, as in Redis; unused then.
        let match_len = a_end.wrapping_sub(a_start).wrapping_add(1);
        if emit {
            if minmatchlen == 0 || match_len as i64 >= minmatchlen {
                matches.push([a_start, a_end, b_start, b_end, match_len]);
            }
            a_start = alen;
        }
    }
    if getidx {
        cx.out.map(2);
        cx.out.bulk(b"matches");
        cx.out.array(matches.len());
        for m in &matches {
            cx.out.array(2 + withmatchlen as usize);
            cx.out.array(2);
            cx.out.int(m[0] as i64);
            cx.out.int(m[1] as i64);
            cx.out.array(2);
            cx.out.int(m[2] as i64);
            cx.out.int(m[3] as i64);
            if withmatchlen {
                cx.out.int(m[4] as i64);
            }
        }
        cx.out.bulk(b"len");
        cx.out.int(total as i64);
    } else if getlen {
        cx.out.int(total as i64);
    } else {
        cx.out.bulk(&result);
    }
    Ok(())
}
