//! Generic key commands: DEL, EXISTS, the EXPIRE family, TTL/PTTL, PERSIST.

use super::string::expire_at;
use super::table::{Command, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx, lossy};

pub static COMMANDS: &[Command] = &[
    row("del", -2, WRITE, (1, -1, 1), "generic", "1.0.0", "Deletes one or more keys.", del),
    row(
        "exists",
        -2,
        READONLY | FAST,
        (1, -1, 1),
        "generic",
        "1.0.0",
        "Determines whether one or more keys exist.",
        exists,
    ),
    row(
        "expire",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        "generic",
        "1.0.0",
        "Sets the expiration time of a key in seconds.",
        expire,
    ),
    row(
        "pexpire",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        "generic",
        "2.6.0",
        "Sets the expiration time of a key in milliseconds.",
        pexpire,
    ),
    row(
        "expireat",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        "generic",
        "1.2.0",
        "Sets the expiration time of a key to a Unix timestamp.",
        expireat,
    ),
    row(
        "pexpireat",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        "generic",
        "2.6.0",
        "Sets the expiration time of a key to a Unix milliseconds timestamp.",
        pexpireat,
    ),
    row(
        "ttl",
        2,
        READONLY | FAST,
        (1, 1, 1),
        "generic",
        "1.0.0",
        "Returns the expiration time in seconds of a key.",
        ttl,
    ),
    row(
        "pttl",
        2,
        READONLY | FAST,
        (1, 1, 1),
        "generic",
        "2.6.0",
        "Returns the expiration time in milliseconds of a key.",
        pttl,
    ),
    row("persist", 2, WRITE | FAST, (1, 1, 1), "generic", "2.2.0", "Removes the expiration time of a key.", persist),
];

/// # Format
/// `DEL key [key ...]`
fn del(cx: &mut Ctx, args: &Args) -> CmdResult {
    let now = cx.now;
    let db = cx.db();
    let n = args.from(1).filter(|k| db.remove(k, now).is_some()).count();
    cx.out.int(n as i64);
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
    let db = cx.db();
    let Some(entry) = db.get(key, now) else {
        cx.out.int(0);
        return Ok(());
    };
    let current = entry.expire_at().map(|t| t as i64);
    let allowed = match current {
        // No TTL counts as an infinite one for GT/LT.
        None => !xx && !gt,
        Some(t) => !(nx || (gt && when <= t) || (lt && when >= t)),
    };
    if !allowed {
        cx.out.int(0);
        return Ok(());
    }
    if when <= now as i64 {
        db.remove(key, now);
    } else {
        db.set_expire(key, Some(when as u64), now);
    }
    cx.out.int(1);
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
    match cx.db().get(key, now) {
        None => -2,
        Some(e) => e.expire_at().map_or(-1, |t| t.saturating_sub(now) as i64),
    }
}

/// # Format
/// `TTL key`
fn ttl(cx: &mut Ctx, args: &Args) -> CmdResult {
    let t = ttl_ms(cx, args.get(1));
    cx.out.int(if t < 0 { t } else { (t + 500) / 1000 });
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
    let had = db.get(args.get(1), now).is_some_and(|e| e.expire_at().is_some());
    if had {
        db.set_expire(args.get(1), None, now);
    }
    cx.out.int(had as i64);
    Ok(())
}
