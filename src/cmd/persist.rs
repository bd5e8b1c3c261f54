//! Snapshot commands: SAVE, BGSAVE, LASTSAVE, and the append-only file's
//! BGREWRITEAOF (the machinery is in `server::persistence`,
//! `server::aof` and `persist::snapshot`).

use super::table::{Command, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx};

pub static COMMANDS: &[Command] = &[
    row(
        "save",
        1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Synchronously save the dataset to disk",
        save,
    ),
    row(
        "bgsave",
        -1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Asynchronously save the dataset to disk",
        bgsave,
    ),
    row(
        "bgrewriteaof",
        1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Asynchronously rewrite the append-only file",
        bgrewriteaof,
    ),
    row(
        "lastsave",
        1,
        LOADING | STALE | FAST,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Get the UNIX time stamp of the last successful save to disk",
        lastsave,
    )
    .tips(&["nondeterministic_output"])
    .acl(&["@admin", "@dangerous"]),
];

const IN_PROGRESS: &str = "ERR Background save already in progress";

/// # Format
/// `SAVE` — the snapshot is taken and written before the reply.
fn save(cx: &mut Ctx, _args: &Args) -> CmdResult {
    if cx.srv.persist.snapshot.is_some() && !cx.srv.persist.aof_snapshot {
        return Err(CmdError::msg(IN_PROGRESS));
    }
    let now = cx.now;
    // Redis answers a failed SAVE with a bare "-ERR" (shared.err).
    cx.srv.save_now(now).map_err(|_| CmdError::msg("ERR"))?;
    cx.out.ok();
    Ok(())
}

/// # Format
/// `BGSAVE [SCHEDULE]` — the loop takes the snapshot a slice at a time.
/// Inside EXEC it is scheduled for the next cron tick. SCHEDULE matters in
/// Redis only while another kind of child (an AOF rewrite) runs; with a
/// BGSAVE running Redis refuses it like a plain BGSAVE, and so does ferrokv.
fn bgsave(cx: &mut Ctx, args: &Args) -> CmdResult {
    match args.len() {
        1 => {}
        2 if args.get(1).eq_ignore_ascii_case(b"schedule") => {}
        _ => return Err(CmdError::Syntax),
    }
    let schedule = args.len() == 2;
    if cx.srv.persist.snapshot.is_some() && !cx.srv.persist.aof_snapshot {
        return Err(CmdError::msg(IN_PROGRESS));
    }
    if cx.srv.persist.aof_snapshot && !schedule && !cx.srv.in_exec {
        return Err(CmdError::msg(
            "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
        ));
    }
    if cx.srv.in_exec || cx.srv.persist.aof_snapshot {
        cx.srv.persist.scheduled = true;
        cx.out.simple("Background saving scheduled");
        return Ok(());
    }
    let now = cx.now;
    cx.srv.bgsave_start(now);
    cx.out.simple("Background saving started");
    Ok(())
}

/// # Format
/// `BGREWRITEAOF` — a forkless rewrite of the append-only file (a new
/// base from a snapshot of the keyspace, see `server::aof`); scheduled
/// while a BGSAVE runs or inside EXEC, refused while one is in progress.
fn bgrewriteaof(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let now = cx.now;
    let reply = cx.srv.bgrewriteaof(now).map_err(CmdError::msg)?;
    cx.out.simple(reply);
    Ok(())
}

/// # Format
/// `LASTSAVE` — unix time of the last successful save (the start time
/// before the first one, as in Redis).
fn lastsave(cx: &mut Ctx, _args: &Args) -> CmdResult {
    cx.out.int(cx.srv.persist.lastsave as i64);
    Ok(())
}
