//! Introspection for operators: SLOWLOG and MONITOR.
//!
//! The dispatcher calls [`after_call`] for every executed command: commands
//! slower than `slowlog-log-slower-than` µs enter the slow log (Redis's
//! argument trimming: 32 arguments, 128 bytes each), and, when someone
//! MONITORs, the command is formatted once as Redis's
//! `+<secs>.<usecs> [<db> <addr>] "arg" ...` line into a shared feed that the
//! event loop copies to each monitor after the command.

use super::table::{Command, container, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx, parse_int};
use crate::resp::parse::repr;
use crate::server::state::SlowEntry;

pub static COMMANDS: &[Command] = &[
    Command {
        subcommands: SLOWLOG_SUBCOMMANDS,
        ..row("slowlog", -2, 0, (0, 0, 0), "server", "2.2.12", "A container for slow log commands", container)
    },
    row(
        "monitor",
        1,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Listen for all requests received by the server in real time",
        monitor,
    ),
];

static SLOWLOG_SUBCOMMANDS: &[Command] = &[
    row("get", -2, ADMIN | LOADING | STALE, (0, 0, 0), "server", "2.2.12", "Get the slow log's entries", slowlog_get)
        .tips(&["request_policy:all_nodes", "nondeterministic_output"]),
    row("len", 2, ADMIN | LOADING | STALE, (0, 0, 0), "server", "2.2.12", "Get the slow log's length", slowlog_len)
        .tips(&["request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"]),
    row(
        "reset",
        2,
        ADMIN | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.2.12",
        "Clear all entries from the slow log",
        slowlog_reset,
    )
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    row(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "6.2.0",
        "Show helpful text about the different subcommands",
        slowlog_help,
    ),
];

const SLOWLOG_MAX_ARGC: usize = 32;
const SLOWLOG_MAX_ARGLEN: usize = 128;

/// Slow log and MONITOR bookkeeping for one executed command (`monitor`:
/// MONITOR may show it; `slowlog`: the slow log may keep it).
pub fn after_call(cx: &mut Ctx, cmd: &Command, args: &Args, micros: u64, monitor: bool, slowlog: bool) {
    let monitored = monitor && !cx.srv.monitors.is_empty() && !cmd.has(ADMIN) && !cmd.has(SKIP_MONITOR);
    let limit = cx.srv.config.slowlog_log_slower_than;
    let slow = slowlog && limit >= 0 && micros >= limit as u64 && !cmd.has(SKIP_SLOWLOG);
    if !monitored && !slow {
        return;
    }
    // Arguments shown as `(redacted)` (passwords and ACL rules).
    let hidden = match cmd.name {
        "migrate" => super::migrate::redacted(args),
        "auth" | "hello" | "setuser" => super::acl::redacted(cmd.name, args),
        _ => Vec::new(),
    };
    let shown =
        |i: usize, a: &'_ [u8]| -> Vec<u8> { if hidden.contains(&i) { b"(redacted)".to_vec() } else { a.to_vec() } };
    if monitored {
        let args: Vec<Vec<u8>> = args.from(0).enumerate().map(|(i, a)| shown(i, a)).collect();
        feed_monitors(cx, &args);
    }
    if slow {
        let argc = args.len().min(SLOWLOG_MAX_ARGC);
        let mut kept: Vec<Vec<u8>> = Vec::with_capacity(argc);
        for (i, a) in args.from(0).enumerate().take(argc) {
            let a = &shown(i, a)[..];
            if i == argc - 1 && args.len() > argc {
                kept.push(format!("... ({} more arguments)", args.len() - argc + 1).into_bytes());
            } else if a.len() > SLOWLOG_MAX_ARGLEN {
                let mut v = a[..SLOWLOG_MAX_ARGLEN].to_vec();
                v.extend_from_slice(format!("... ({} more bytes)", a.len() - SLOWLOG_MAX_ARGLEN).as_bytes());
                kept.push(v);
            } else {
                kept.push(a.to_vec());
            }
        }
        let c = cx.srv.client(cx.key);
        // A script's command is Redis's Lua client's: no peer, no name.
        let (addr, name) = if cx.srv.in_script {
            ("?:0".to_string(), Default::default())
        } else {
            (c.addr_text(), c.name.clone().unwrap_or_default())
        };
        let entry = SlowEntry { id: cx.srv.slowlog_next_id, unix_secs: cx.now / 1000, micros, args: kept, addr, name };
        cx.srv.slowlog_next_id += 1;
        cx.srv.slowlog.push_front(entry);
        cx.srv.slowlog.truncate(cx.srv.config.slowlog_max_len);
    }
}

/// MONITOR's line for EVAL, EVALSHA, FCALL and their _RO forms: they are
/// skip_monitor (their own line would come after their commands' lines),
/// so, as Redis's `evalCommand` and `fcallCommand` do, they show
/// themselves when they start, whatever comes of them.
pub fn feed_monitors_at_start(cx: &mut Ctx, args: &Args) {
    if !cx.srv.monitors.is_empty() {
        let args: Vec<Vec<u8>> = args.from(0).map(<[u8]>::to_vec).collect();
        feed_monitors(cx, &args);
    }
}

/// Appends Redis's MONITOR line for this command to the shared feed.
fn feed_monitors(cx: &mut Ctx, args: &[Vec<u8>]) {
    let c = cx.srv.client(cx.key);
    let addr = match &c.unix {
        // A script's commands come from Redis's Lua client.
        _ if cx.srv.in_script => "lua".to_string(),
        Some(path) => format!("unix:{path}"),
        None => c.addr_text(),
    };
    let mut line = format!("+{}.{:06} [{} {}]", cx.now / 1000, (cx.now % 1000) * 1000, c.db, addr).into_bytes();
    for a in args {
        line.push(b' ');
        repr(&mut line, a);
    }
    line.extend_from_slice(b"\r\n");
    cx.srv.monitor_feed.extend_from_slice(&line);
}

/// # Format
/// `MONITOR` — from now on the connection receives every command run.
fn monitor(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let id = cx.client().id;
    if !cx.srv.monitors.contains(&(cx.key, id)) {
        cx.srv.monitors.push((cx.key, id));
    }
    cx.out.ok();
    Ok(())
}

/// # Format
/// `SLOWLOG GET [count]` — newest first; -1 for all.
fn slowlog_get(cx: &mut Ctx, args: &Args) -> CmdResult {
    let count = match args.len() {
        2 => 10,
        3 => match parse_int(args.get(2)) {
            Ok(-1) => usize::MAX,
            Ok(n) if n >= 0 => n as usize,
            _ => return Err(CmdError::msg("ERR count should be greater than or equal to -1")),
        },
        // Redis: more than a count is `addReplySubcommandSyntaxError`.
        _ => return Err(super::subcommand_syntax_error(args)),
    };
    let entries: Vec<SlowEntry> = cx.srv.slowlog.iter().take(count).cloned().collect();
    cx.out.array(entries.len());
    for e in &entries {
        cx.out.array(6);
        cx.out.int(e.id as i64);
        cx.out.int(e.unix_secs as i64);
        cx.out.int(e.micros as i64);
        cx.out.array(e.args.len());
        e.args.iter().for_each(|a| cx.out.bulk(a));
        cx.out.bulk(e.addr.as_bytes());
        cx.out.bulk(&e.name);
    }
    Ok(())
}

/// # Format
/// `SLOWLOG LEN`
fn slowlog_len(cx: &mut Ctx, _args: &Args) -> CmdResult {
    cx.out.int(cx.srv.slowlog.len() as i64);
    Ok(())
}

/// # Format
/// `SLOWLOG RESET`
fn slowlog_reset(cx: &mut Ctx, _args: &Args) -> CmdResult {
    cx.srv.slowlog.clear();
    cx.out.ok();
    Ok(())
}

/// # Format
/// `SLOWLOG HELP`
fn slowlog_help(cx: &mut Ctx, _args: &Args) -> CmdResult {
    super::server::help(
        &mut cx.out,
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    );
    Ok(())
}
