//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! Inside MULTI the dispatcher queues commands (answering `+QUEUED`) after
//! checking them; a command rejected while queuing makes EXEC answer
//! EXECABORT. WATCH is optimistic locking: a command that modifies a
//! watched key (each says so where Redis signals it, see `Ctx::notify`),
//! FLUSHDB/FLUSHALL/SWAPDB, eviction, or the key expiring makes EXEC answer
//! a null array instead.

use super::table::{Command, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx, dispatch};

pub static COMMANDS: &[Command] = &[
    row(
        "multi",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        (0, 0, 0),
        "transactions",
        "1.2.0",
        "Mark the start of a transaction block",
        multi,
    ),
    row(
        "exec",
        1,
        NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG,
        (0, 0, 0),
        "transactions",
        "1.2.0",
        "Execute all commands issued after MULTI",
        exec,
    ),
    row(
        "discard",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        (0, 0, 0),
        "transactions",
        "2.0.0",
        "Discard all commands issued after MULTI",
        discard,
    ),
    row(
        "watch",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        (1, -1, 1),
        "transactions",
        "2.2.0",
        "Watch the given keys to determine execution of the MULTI/EXEC block",
        watch,
    )
    .key_flags(&["RO"]),
    row(
        "unwatch",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        (0, 0, 0),
        "transactions",
        "2.2.0",
        "Forget about all watched keys",
        unwatch,
    ),
];

/// # Format
/// `MULTI`
fn multi(cx: &mut Ctx, _args: &Args) -> CmdResult {
    // Inside EXEC too (see `watch`).
    if cx.client().multi.is_some() || cx.srv.in_exec {
        return Err(CmdError::msg("ERR MULTI calls can not be nested"));
    }
    let c = cx.client();
    c.multi = Some(Vec::new());
    c.multi_bytes = 0;
    c.multi_error = false;
    cx.out.ok();
    Ok(())
}

/// # Format
/// `EXEC`
fn exec(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let c = cx.client();
    let Some(queue) = c.multi.take() else {
        return Err(CmdError::msg("ERR EXEC without MULTI"));
    };
    let aborted = std::mem::take(&mut c.multi_error);
    let watched = c.watched.clone();
    let mut dirty = c.dirty_cas;
    let now = cx.now;
    // A watched key that existed and has since expired counts as touched.
    for (db, key, existed) in &watched {
        if *existed && !cx.srv.dbs[*db].contains(key, now) {
            dirty = true;
        }
    }
    cx.srv.unwatch(cx.key);
    if aborted {
        return Err(CmdError::msg("EXECABORT Transaction discarded because of previous errors."));
    }
    if dirty {
        cx.out.null_array();
        return Ok(());
    }
    cx.out.array(queue.len());
    cx.srv.in_exec = true;
    for (data, spans) in &queue {
        dispatch(cx, &Args::new(data, spans));
    }
    cx.srv.in_exec = false;
    Ok(())
}

/// # Format
/// `DISCARD`
fn discard(cx: &mut Ctx, _args: &Args) -> CmdResult {
    if cx.client().multi.is_none() {
        return Err(CmdError::msg("ERR DISCARD without MULTI"));
    }
    abort(cx);
    cx.out.ok();
    Ok(())
}

/// Drops the client's transaction, if any, and its watched keys.
pub fn abort(cx: &mut Ctx) {
    let c = cx.client();
    c.multi = None;
    c.multi_error = false;
    cx.srv.unwatch(cx.key);
}

/// # Format
/// `WATCH key [key ...]`
fn watch(cx: &mut Ctx, args: &Args) -> CmdResult {
    // Inside EXEC too: an AOF's transaction may queue anything (see
    // `Shared::replay`), and Redis's client is still in MULTI while EXEC runs.
    if cx.client().multi.is_some() || cx.srv.in_exec {
        return Err(CmdError::msg("ERR WATCH inside MULTI is not allowed"));
    }
    let (db, now) = (cx.db_index(), cx.now);
    let id = cx.client().id;
    for key in args.from(1) {
        if cx.client().watched.iter().any(|(d, k, _)| *d == db && &k[..] == key) {
            continue;
        }
        let existed = cx.srv.dbs[db].contains(key, now);
        cx.client().watched.push((db, key.into(), existed));
        cx.srv.watch(db, key, cx.key, id);
    }
    cx.out.ok();
    Ok(())
}

/// # Format
/// `UNWATCH`
fn unwatch(cx: &mut Ctx, _args: &Args) -> CmdResult {
    cx.srv.unwatch(cx.key);
    cx.out.ok();
    Ok(())
}
