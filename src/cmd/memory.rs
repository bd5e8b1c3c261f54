//! MEMORY: per-key memory estimates (MEMORY USAGE, used by
//! `redis-cli --memkeys`). STATS and DOCTOR come with the maxmemory work.

use super::table::{Command, container, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx};

pub static COMMANDS: &[Command] = &[Command {
    subcommands: MEMORY_SUBCOMMANDS,
    ..row("memory", -2, 0, (0, 0, 0), "server", "4.0.0", "A container for memory diagnostics commands.", container)
}];

static MEMORY_SUBCOMMANDS: &[Command] = &[
    row("usage", -3, READONLY, (2, 2, 1), "server", "4.0.0", "Estimates the memory usage of a key.", memory_usage),
    row(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "4.0.0",
        "Returns helpful text about the different subcommands.",
        memory_help,
    ),
];

/// # Format
/// `MEMORY USAGE key [SAMPLES count]` — values are not nested yet, so the
/// estimate is exact for every key and SAMPLES is only validated.
fn memory_usage(cx: &mut Ctx, args: &Args) -> CmdResult {
    match args.len() {
        3 => {}
        5 if args.get(3).eq_ignore_ascii_case(b"samples") => {
            args.int(4)?;
        }
        _ => return Err(CmdError::Syntax),
    }
    let now = cx.now;
    match cx.db().memory_usage(args.get(2), now) {
        Some(n) => cx.out.int(n as i64),
        None => cx.out.null(),
    }
    Ok(())
}

/// # Format
/// `MEMORY HELP`
fn memory_help(cx: &mut Ctx, _args: &Args) -> CmdResult {
    super::server::help(
        &mut cx.out,
        "MEMORY",
        &[
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    );
    Ok(())
}
