//! Connection commands: PING, ECHO, SELECT, QUIT.

use super::table::{Command, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx};

pub static COMMANDS: &[Command] = &[
    row(
        "ping",
        -1,
        FAST | SENTINEL,
        (0, 0, 0),
        "connection",
        "1.0.0",
        "Returns the server's liveliness response.",
        ping,
    ),
    row("echo", 2, FAST, (0, 0, 0), "connection", "1.0.0", "Returns the given string.", echo),
    row(
        "select",
        2,
        LOADING | STALE | FAST,
        (0, 0, 0),
        "connection",
        "1.0.0",
        "Changes the selected database.",
        select,
    ),
    row(
        "quit",
        -1,
        ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        (0, 0, 0),
        "connection",
        "1.0.0",
        "Closes the connection.",
        quit,
    ),
];

/// # Format
/// `PING [message]`
fn ping(cx: &mut Ctx, args: &Args) -> CmdResult {
    match args.len() {
        1 => cx.out.simple("PONG"),
        2 => cx.out.bulk(args.get(1)),
        _ => return Err(CmdError::msg("ERR wrong number of arguments for 'ping' command")),
    }
    Ok(())
}

/// # Format
/// `ECHO message`
fn echo(cx: &mut Ctx, args: &Args) -> CmdResult {
    cx.out.bulk(args.get(1));
    Ok(())
}

/// # Format
/// `SELECT index`
fn select(cx: &mut Ctx, args: &Args) -> CmdResult {
    let db = args.int(1)?;
    if db < 0 || db as usize >= cx.srv.dbs.len() {
        return Err(CmdError::DbIndex);
    }
    cx.client().db = db as usize;
    cx.out.ok();
    Ok(())
}

/// # Format
/// `QUIT` — replies OK, then the connection closes once the reply is sent.
fn quit(cx: &mut Ctx, _args: &Args) -> CmdResult {
    cx.out.ok();
    cx.client().close_after_reply = true;
    Ok(())
}
