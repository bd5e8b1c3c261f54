//! Server commands: COMMAND, CONFIG, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB,
//! TIME, SHUTDOWN (DEBUG is in `debug.rs`, SAVE/BGSAVE/LASTSAVE in
//! `persist.rs`).
//!
//! COMMAND answers entirely from the command table, so every row shows up in
//! `COMMAND COUNT/INFO/DOCS/LIST` without being listed again.

use super::table::{self, Command, FindKeys, flag, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx, lossy, parse_int};
use crate::config;
use crate::glob;
use crate::resp::Reply;

pub static COMMANDS: &[Command] = &[
    row(
        "dbsize",
        1,
        READONLY | FAST,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Return the number of keys in the selected database",
        dbsize,
    )
    .tips(&["request_policy:all_shards", "response_policy:agg_sum"])
    .acl(&["@keyspace"]),
    row("flushdb", -1, WRITE, (0, 0, 0), "server", "1.0.0", "Remove all keys from the current database", flushdb)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .acl(&["@keyspace", "@dangerous"]),
    row("flushall", -1, WRITE, (0, 0, 0), "server", "1.0.0", "Remove all keys from all databases", flushall)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .acl(&["@keyspace", "@dangerous"]),
    row("swapdb", 3, WRITE | FAST, (0, 0, 0), "server", "4.0.0", "Swaps two Redis databases", swapdb)
        .acl(&["@keyspace", "@dangerous"]),
    row("time", 1, LOADING | STALE | FAST, (0, 0, 0), "server", "2.6.0", "Return the current server time", time)
        .tips(&["nondeterministic_output"]),
    row(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | SENTINEL | ALLOW_BUSY,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Synchronously save the dataset to disk and then shut down the server",
        shutdown,
    ),
    Command {
        subcommands: COMMAND_SUBCOMMANDS,
        ..row(
            "command",
            -1,
            LOADING | STALE,
            (0, 0, 0),
            "server",
            "2.8.13",
            "Get array of Redis command details",
            command,
        )
        .tips(&["nondeterministic_output_order"])
        .acl(&["@connection"])
    },
    Command {
        subcommands: CONFIG_SUBCOMMANDS,
        ..row(
            "config",
            -2,
            0,
            (0, 0, 0),
            "server",
            "2.0.0",
            "A container for server configuration commands",
            table::container,
        )
    },
];

static COMMAND_SUBCOMMANDS: &[Command] = &[
    row(
        "count",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Get total number of Redis commands",
        command_count,
    )
    .acl(&["@connection"]),
    row(
        "info",
        -2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Get array of specific Redis command details, or all when no argument is given.",
        command_info,
    )
    .tips(&["nondeterministic_output_order"])
    .acl(&["@connection"]),
    row(
        "docs",
        -2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "7.0.0",
        "Get array of specific Redis command documentation",
        command_docs,
    )
    .tips(&["nondeterministic_output_order"])
    .acl(&["@connection"]),
    row("list", -2, LOADING | STALE, (0, 0, 0), "server", "7.0.0", "Get an array of Redis command names", command_list)
        .tips(&["nondeterministic_output_order"])
        .acl(&["@connection"]),
    row(
        "getkeys",
        -4,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Extract keys given a full Redis command",
        command_getkeys,
    )
    .acl(&["@connection"]),
    row(
        "getkeysandflags",
        -4,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "7.0.0",
        "Extract keys and access flags given a full Redis command",
        command_getkeysandflags,
    )
    .acl(&["@connection"]),
    row(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "5.0.0",
        "Show helpful text about the different subcommands",
        command_help,
    )
    .acl(&["@connection"]),
];

static CONFIG_SUBCOMMANDS: &[Command] = &[
    row(
        "get",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.0.0",
        "Get the values of configuration parameters",
        config_get,
    ),
    row(
        "set",
        -4,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.0.0",
        "Set configuration parameters to the given values",
        config_set,
    )
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    row(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "5.0.0",
        "Show helpful text about the different subcommands",
        config_help,
    ),
    row(
        "resetstat",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.0.0",
        "Reset the stats returned by INFO",
        config_resetstat,
    ),
    row(
        "rewrite",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.0",
        "Rewrite the configuration file with the in memory configuration",
        config_rewrite,
    ),
];

/// Writes a `HELP` reply: the header line, then each line, as status replies.
pub fn help(out: &mut Reply, name: &str, lines: &[&str]) {
    out.array(lines.len() + 3);
    out.simple(&format!("{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
    for l in lines {
        out.simple(l);
    }
    out.simple("HELP");
    out.simple("    Prints this help.");
}

/// # Format
/// `DBSIZE`
fn dbsize(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let n = cx.db().len();
    cx.out.int(n as i64);
    Ok(())
}

/// `[ASYNC | SYNC]` of FLUSHDB/FLUSHALL: whether to free on the lazy-free
/// thread (no argument: `lazyfree-lazy-user-flush`).
fn flush_async(cx: &Ctx, args: &Args) -> Result<bool, CmdError> {
    match args.len() {
        1 => Ok(cx.srv.config.lazyfree_lazy_user_flush),
        2 if args.get(1).eq_ignore_ascii_case(b"sync") => Ok(false),
        2 if args.get(1).eq_ignore_ascii_case(b"async") => Ok(true),
        _ => Err(CmdError::Syntax),
    }
}

/// Empties database `db`, handing its contents to the lazy-free thread if
/// `lazy` (the loop goes on at once, whatever the size). Counts one change
/// per key removed (those whose TTL passed too), as Redis's `emptyData`.
fn empty_db(cx: &mut Ctx, db: usize, lazy: bool) {
    let now = cx.now;
    let keys = cx.srv.dbs[db].len() as u64;
    cx.dirty(keys);
    cx.srv.touch_db(db, None, now);
    if lazy && !cx.srv.dbs[db].is_empty() {
        let contents = cx.srv.dbs[db].take_contents();
        cx.srv.lazy.free(Box::new(contents));
    } else {
        cx.srv.dbs[db].clear();
    }
    // An XREADGROUP waiting on a stream of this database gets Redis's
    // UNBLOCKED error (its stream is gone); other waiters stay.
    cx.srv.blocking.signal_db(db);
}

/// # Format
/// `FLUSHDB [ASYNC | SYNC]`
fn flushdb(cx: &mut Ctx, args: &Args) -> CmdResult {
    let lazy = flush_async(cx, args)?;
    let db = cx.db_index();
    let now = cx.now;
    // A snapshot in progress keeps the database as it was when it began.
    if let Some(snap) = cx.srv.persist.snapshot.as_mut() {
        snap.before_flush(&mut cx.srv.dbs, db, now);
    }
    empty_db(cx, db, lazy);
    cx.srv.invalidate_all();
    cx.out.ok();
    Ok(())
}

/// # Format
/// `FLUSHALL [ASYNC | SYNC]`
fn flushall(cx: &mut Ctx, args: &Args) -> CmdResult {
    let lazy = flush_async(cx, args)?;
    // An AOF rewrite in progress keeps the dataset as it was when it began.
    if cx.srv.persist.aof_snapshot
        && let Some(snap) = cx.srv.persist.snapshot.as_mut()
    {
        let now = cx.now;
        for db in 0..cx.srv.dbs.len() {
            snap.before_flush(&mut cx.srv.dbs, db, now);
        }
    }
    for db in 0..cx.srv.dbs.len() {
        empty_db(cx, db, lazy);
    }
    cx.srv.invalidate_all();
    cx.srv.evictor.clear();
    // As Redis's flushAllDataAndResetRDB: a BGSAVE in progress is killed
    // and, with save points, the (empty) dataset saved at once.
    cx.srv.kill_bgsave();
    if !cx.srv.config.save.is_empty() {
        let now = cx.now;
        let _ = cx.srv.save_now(now);
    }
    cx.out.ok();
    Ok(())
}

/// A command's full name: `get`, or `config|get` for a subcommand.
fn full_name(parent: Option<&Command>, cmd: &Command) -> String {
    match parent {
        Some(p) => format!("{}|{}", p.name, cmd.name),
        None => cmd.name.to_string(),
    }
}

/// The flags `COMMAND INFO` prints, in Redis's order: `may_replicate` and
/// `sentinel` are hidden, as Redis hides them, and `movablekeys` comes
/// before `allow_busy`.
fn info_flags(cmd: &Command) -> Vec<&'static str> {
    let mut flags: Vec<&str> = flag::NAMES
        .iter()
        .filter(|(f, _)| cmd.has(*f) && *f != MAY_REPLICATE && *f != SENTINEL && *f != ALLOW_BUSY)
        .map(|(_, n)| *n)
        .collect();
    if cmd.movable_keys() {
        flags.push("movablekeys");
    }
    if cmd.has(ALLOW_BUSY) {
        flags.push("allow_busy");
    }
    flags
}

/// One `COMMAND INFO` entry, in Redis 7's ten-field shape.
fn write_info(out: &mut Reply, parent: Option<&Command>, cmd: &Command) {
    out.array(10);
    out.bulk(full_name(parent, cmd).as_bytes());
    out.int(cmd.arity as i64);
    let flags = info_flags(cmd);
    out.set(flags.len());
    flags.iter().for_each(|f| out.simple(f));
    let (first, last, step) = cmd.keys;
    out.int(first as i64);
    out.int(last as i64);
    out.int(step as i64);
    let cats = cmd.acl_categories();
    out.set(cats.len());
    cats.iter().for_each(|c| out.simple(c));
    out.set(cmd.tips.len());
    cmd.tips.iter().for_each(|t| out.bulk(t.as_bytes()));
    // Key specs are a set in RESP3, as Redis sends them; subcommands a set
    // when there are none, else an array.
    let specs = cmd.key_specs();
    out.set(specs.len());
    specs.iter().for_each(|s| write_key_spec(out, s));
    if cmd.subcommands.is_empty() {
        out.set(0);
    } else {
        out.array(cmd.subcommands.len());
    }
    for sub in cmd.subcommands {
        write_info(out, Some(cmd), sub);
    }
}

/// One key spec, as Redis 7 prints it.
fn write_key_spec(out: &mut Reply, spec: &table::KeySpec) {
    out.map(3 + usize::from(!spec.notes.is_empty()));
    if !spec.notes.is_empty() {
        out.bulk(b"notes");
        out.bulk(spec.notes.as_bytes());
    }
    out.bulk(b"flags");
    let flags: Vec<&str> = spec.flags.split(' ').collect();
    out.set(flags.len());
    flags.iter().for_each(|f| out.simple(f));
    out.bulk(b"begin_search");
    out.map(2);
    out.bulk(b"type");
    match spec.begin {
        table::Begin::Index(index) => {
            out.bulk(b"index");
            out.bulk(b"spec");
            out.map(1);
            out.bulk(b"index");
            out.int(index as i64);
        }
        table::Begin::Keyword { keyword, startfrom } => {
            out.bulk(b"keyword");
            out.bulk(b"spec");
            out.map(2);
            out.bulk(b"keyword");
            out.bulk(keyword.as_bytes());
            out.bulk(b"startfrom");
            out.int(startfrom as i64);
        }
        table::Begin::Unknown => {
            out.bulk(b"unknown");
            out.bulk(b"spec");
            out.map(0);
        }
    }
    out.bulk(b"find_keys");
    out.map(2);
    out.bulk(b"type");
    match spec.find {
        FindKeys::Range { lastkey, step, limit } => {
            out.bulk(b"range");
            out.bulk(b"spec");
            out.map(3);
            out.bulk(b"lastkey");
            out.int(lastkey as i64);
            out.bulk(b"keystep");
            out.int(step as i64);
            out.bulk(b"limit");
            out.int(limit as i64);
        }
        FindKeys::Unknown => {
            out.bulk(b"unknown");
            out.bulk(b"spec");
            out.map(0);
        }
        FindKeys::Keynum { keynumidx, firstkey, step } => {
            out.bulk(b"keynum");
            out.bulk(b"spec");
            out.map(3);
            out.bulk(b"keynumidx");
            out.int(keynumidx as i64);
            out.bulk(b"firstkey");
            out.int(firstkey as i64);
            out.bulk(b"keystep");
            out.int(step as i64);
        }
    }
}

/// One `COMMAND DOCS` entry (the value side of the map): the row's summary,
/// since and group, then Redis's documentation of it (`docs`).
fn write_docs(out: &mut Reply, parent: Option<&Command>, cmd: &Command) {
    let has_subs = !cmd.subcommands.is_empty();
    let docs = super::docs::lookup(&full_name(parent, cmd));
    out.map(3 + docs.map_or(0, |d| d.fields()) + has_subs as usize);
    out.bulk(b"summary");
    out.bulk(cmd.summary.as_bytes());
    out.bulk(b"since");
    out.bulk(cmd.since.as_bytes());
    out.bulk(b"group");
    out.bulk(cmd.group.as_bytes());
    if let Some(d) = docs {
        d.write(out);
    }
    if has_subs {
        out.bulk(b"subcommands");
        out.map(cmd.subcommands.len());
        for sub in cmd.subcommands {
            out.bulk(full_name(Some(cmd), sub).as_bytes());
            write_docs(out, Some(cmd), sub);
        }
    }
}

/// # Format
/// `COMMAND` — information about every command.
fn command(cx: &mut Ctx, _args: &Args) -> CmdResult {
    cx.out.array(table::all().count());
    for c in table::all() {
        write_info(&mut cx.out, None, c);
    }
    Ok(())
}

/// # Format
/// `COMMAND COUNT`
fn command_count(cx: &mut Ctx, _args: &Args) -> CmdResult {
    cx.out.int(table::all().count() as i64);
    Ok(())
}

/// Resolves `name` or `container|sub` to its row.
fn resolve(name: &[u8]) -> Option<(Option<&'static Command>, &'static Command)> {
    match name.iter().position(|&b| b == b'|') {
        None => table::lookup(name).map(|c| (None, c)),
        Some(bar) => {
            let parent = table::lookup(&name[..bar])?;
            parent.subcommand(&name[bar + 1..]).map(|s| (Some(parent), s))
        }
    }
}

/// # Format
/// `COMMAND INFO [command-name [command-name ...]]`
fn command_info(cx: &mut Ctx, args: &Args) -> CmdResult {
    if args.len() == 2 {
        return command(cx, args);
    }
    cx.out.array(args.len() - 2);
    for name in args.from(2) {
        match resolve(name) {
            Some((parent, c)) => write_info(&mut cx.out, parent, c),
            None => cx.out.null(),
        }
    }
    Ok(())
}

/// # Format
/// `COMMAND DOCS [command-name [command-name ...]]`
fn command_docs(cx: &mut Ctx, args: &Args) -> CmdResult {
    if args.len() == 2 {
        cx.out.map(table::all().count());
        for c in table::all() {
            cx.out.bulk(c.name.as_bytes());
            write_docs(&mut cx.out, None, c);
        }
        return Ok(());
    }
    let found: Vec<_> = args.from(2).filter_map(|n| resolve(n).map(|r| (n, r))).collect();
    cx.out.map(found.len());
    for (_, (parent, c)) in found {
        cx.out.bulk(full_name(parent, c).as_bytes());
        write_docs(&mut cx.out, parent, c);
    }
    Ok(())
}

/// # Format
/// `COMMAND LIST [FILTERBY MODULE module-name | ACLCAT category | PATTERN pattern]`
fn command_list(cx: &mut Ctx, args: &Args) -> CmdResult {
    let mut names = Vec::new();
    for c in table::all() {
        names.push((full_name(None, c), c));
        for s in c.subcommands {
            names.push((full_name(Some(c), s), s));
        }
    }
    match args.len() {
        2 => {}
        5 if args.get(2).eq_ignore_ascii_case(b"filterby") => {
            let (kind, value) = (args.get(3), args.get(4));
            if kind.eq_ignore_ascii_case(b"module") {
                names.clear();
            } else if kind.eq_ignore_ascii_case(b"aclcat") {
                let cat = format!("@{}", lossy(value)).to_ascii_lowercase();
                names.retain(|(_, c)| c.acl_categories().contains(&cat.as_str()));
            } else if kind.eq_ignore_ascii_case(b"pattern") {
                names.retain(|(n, _)| glob::matches(value, n.as_bytes(), true));
            } else {
                return Err(CmdError::Syntax);
            }
        }
        _ => return Err(CmdError::Syntax),
    }
    cx.out.array(names.len());
    names.iter().for_each(|(n, _)| cx.out.bulk(n.as_bytes()));
    Ok(())
}

/// # Format
/// `COMMAND GETKEYS command [arg [arg ...]]`
fn command_getkeys(cx: &mut Ctx, args: &Args) -> CmdResult {
    getkeys(cx, args, false)
}

/// # Format
/// `COMMAND GETKEYSANDFLAGS command [arg [arg ...]]` — each key with the
/// flags of its key spec.
fn command_getkeysandflags(cx: &mut Ctx, args: &Args) -> CmdResult {
    getkeys(cx, args, true)
}

/// Redis's `getKeysSubcommandImpl`: the command (a container's subcommand
/// when one is named), then whether it has keys, then its arity, then the
/// keys of this call.
fn getkeys(cx: &mut Ctx, args: &Args, with_flags: bool) -> CmdResult {
    let argv: Vec<&[u8]> = args.from(2).collect();
    let cmd = table::lookup(argv[0]).and_then(|c| match argv.get(1) {
        Some(sub) if !c.subcommands.is_empty() => c.subcommand(sub),
        _ => Some(c),
    });
    let Some(cmd) = cmd else {
        return Err(CmdError::msg("ERR Invalid command specified"));
    };
    if !cmd.has_keys() {
        return Err(CmdError::msg("ERR The command has no key arguments"));
    }
    if !cmd.arity_ok(argv.len()) {
        return Err(CmdError::msg("ERR Invalid number of arguments specified for command"));
    }
    // No keys found (none named, or a bad numkeys): an empty list for a
    // command whose keys are optional (EVAL, FCALL: no_mandatory_keys),
    // an error for any other.
    let none = |cx: &mut Ctx| {
        if cmd.has(NO_MANDATORY_KEYS) {
            cx.out.array(0);
            Ok(())
        } else {
            Err(CmdError::msg("ERR Invalid arguments specified for command"))
        }
    };
    if let Some(at) = cmd.numkeys_at() {
        let n = argv.get(at).and_then(|a| parse_int(a).ok());
        if !n.is_some_and(|n| n > 0 && (at as i64).saturating_add(n) < argv.len() as i64) {
            return none(cx);
        }
    }
    let keys = cmd.key_positions(argv.len(), |i| argv[i]);
    if keys.is_empty() {
        return none(cx);
    }
    cx.out.array(keys.len());
    for &i in &keys {
        if with_flags {
            cx.out.array(2);
            cx.out.bulk(argv[i]);
            let flags: Vec<&str> = cmd.call_key_flags(&argv, i).split(' ').collect();
            cx.out.set(flags.len());
            flags.iter().for_each(|f| cx.out.simple(f));
        } else {
            cx.out.bulk(argv[i]);
        }
    }
    Ok(())
}

/// # Format
/// `COMMAND HELP`
fn command_help(cx: &mut Ctx, _args: &Args) -> CmdResult {
    help(
        &mut cx.out,
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    );
    Ok(())
}

/// # Format
/// `CONFIG GET parameter [parameter ...]` — glob patterns allowed; hidden
/// parameters answer only to their exact name, as in Redis.
fn config_get(cx: &mut Ctx, args: &Args) -> CmdResult {
    let found: Vec<_> = config::names()
        .filter(|(name, o)| {
            args.from(2).any(|pat| {
                if o.has(config::flag::HIDDEN) {
                    pat.eq_ignore_ascii_case(name.as_bytes())
                } else {
                    glob::matches(pat, name.as_bytes(), true)
                }
            })
        })
        .collect();
    cx.out.map(found.len());
    for (name, o) in found {
        cx.out.bulk(name.as_bytes());
        cx.out.bulk((o.get)(&cx.srv.config, o).as_bytes());
    }
    Ok(())
}

/// # Format
/// `CONFIG SET parameter value [parameter value ...]` — all or nothing.
/// As Redis's configSetCommand: every name is looked up and checked
/// (unknown, immutable, protected, duplicate) before any value is set; then
/// the values are set in order, the first bad one failing the whole call.
fn config_set(cx: &mut Ctx, args: &Args) -> CmdResult {
    // Past the table's arity check (at least one pair), an odd count is a
    // syntax error in Redis.
    if !args.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    let failed = |name: &str, why: &str| {
        CmdError::msg(format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"))
    };
    let protected_ok = match cx.srv.config.enable_protected_configs {
        "yes" => true,
        "local" => cx.srv.client(cx.key).is_local(),
        _ => false,
    };
    // Each option with its value and the name it was given by: Redis 7.0
    // registers an alias as a config of its own, so a value that fails
    // names the alias (`hash-max-ziplist-entries`), and an alias beside
    // its option is no duplicate (the last one wins).
    let mut chosen: Vec<(&config::ConfigOption, String, &'static str)> = Vec::new();
    for i in (2..args.len()).step_by(2) {
        let name = lossy(args.get(i));
        let Some(opt) = config::option(&name) else {
            return Err(CmdError::msg(format!("ERR Unknown option or number of arguments for CONFIG SET - '{name}'")));
        };
        if opt.has(config::flag::IMMUTABLE) {
            return Err(failed(&name, "can't set immutable config"));
        }
        // `appendonly` and the like wait for the end of a load (Redis
        // answers its shared LOADING error).
        if opt.has(config::flag::DENY_LOADING) && cx.srv.loading() {
            return Err(CmdError::msg("LOADING Redis is loading the dataset in memory"));
        }
        if opt.has(config::flag::PROTECTED) && !protected_ok {
            return Err(failed(&name, "can't set protected config"));
        }
        let registered = opt.names().find(|n| n.eq_ignore_ascii_case(&name)).unwrap_or(opt.name);
        if chosen.iter().any(|(_, _, r)| *r == registered) {
            return Err(failed(&name, "duplicate parameter"));
        }
        chosen.push((opt, lossy(args.get(i + 1)).into_owned(), registered));
    }
    let mut next = cx.srv.config.clone();
    for (opt, value, registered) in &chosen {
        (opt.set)(&mut next, opt, value).map_err(|e| failed(registered, &e))?;
    }
    let old = std::mem::replace(&mut cx.srv.config, next);
    if let Err(e) = cx.srv.apply_config(&old) {
        let name = chosen.iter().find(|(o, _, _)| e.0 == o.name).map_or(e.0, |(_, _, r)| r);
        log::warn!(
            "Failed applying new configuration. Possibly related to new {name} setting. Restoring previous settings."
        );
        cx.srv.config = old;
        return Err(failed(name, &e.1));
    }
    cx.out.ok();
    Ok(())
}

/// # Format
/// `CONFIG HELP`
fn config_help(cx: &mut Ctx, _args: &Args) -> CmdResult {
    help(
        &mut cx.out,
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    );
    Ok(())
}

/// # Format
/// `CONFIG RESETSTAT`
fn config_resetstat(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let dirty = cx.srv.stats.dirty;
    cx.srv.stats = Default::default();
    cx.srv.stats.dirty = dirty;
    crate::persist::codec::SANITIZATIONS.store(0, std::sync::atomic::Ordering::Relaxed);
    // And what Redis's `resetServerStats` resets outside its stats: the
    // saves and rewrites counted, lazily freed objects, delayed fsyncs.
    cx.srv.persist.saves = 0;
    cx.srv.aof.rewrites = 0;
    cx.srv.aof.consecutive_failures = 0;
    cx.srv.lazy.reset_freed();
    if let Some(w) = &cx.srv.aof.writer {
        w.status.delayed_fsync.store(0, std::sync::atomic::Ordering::SeqCst);
    }
    // The instantaneous rates start over too (their counters just did).
    cx.srv.metrics = Default::default();
    for db in &mut cx.srv.dbs {
        db.hits = 0;
        db.misses = 0;
        db.expired = 0;
    }
    cx.out.ok();
    Ok(())
}

/// # Format
/// `CONFIG REWRITE` — writes the running config back to the config file
/// the server was started with (atomically: a temporary file, then rename).
fn config_rewrite(cx: &mut Ctx, _args: &Args) -> CmdResult {
    if cx.srv.config.config_file.is_none() {
        return Err(CmdError::msg("ERR The server is running without a config file"));
    }
    rewrite_config_file(cx, false)
        .map_err(|e| CmdError::msg(format!("ERR Rewriting config file: {}", crate::config::strerror(&e))))?;
    log::info!("CONFIG REWRITE executed with success.");
    cx.out.ok();
    Ok(())
}

/// Writes the running config into the config file (atomically: a
/// temporary file, then rename); `force_all`: every option, defaults too
/// (DEBUG CONFIG-REWRITE-FORCE-ALL).
pub fn rewrite_config_file(cx: &mut Ctx, force_all: bool) -> std::io::Result<()> {
    let Some(path) = cx.srv.config.config_file.clone() else {
        return Err(std::io::Error::from(std::io::ErrorKind::NotFound));
    };
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let text = super::acl::rewrite_users(cx.srv, &cx.srv.config.rewrite(&old, force_all));
    let tmp = path.with_extension("rewrite.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, &path)
}

/// `SWAPDB` index argument, with Redis's per-position error text.
fn swap_index(cx: &Ctx, arg: &[u8], which: &str) -> Result<usize, CmdError> {
    let n = parse_int(arg).map_err(|_| CmdError::msg(format!("ERR invalid {which} DB index")))?;
    if n < 0 || n as usize >= cx.srv.dbs.len() {
        return Err(CmdError::DbIndex);
    }
    Ok(n as usize)
}

/// # Format
/// `SWAPDB index1 index2`
fn swapdb(cx: &mut Ctx, args: &Args) -> CmdResult {
    let a = swap_index(cx, args.get(1), "first")?;
    let b = swap_index(cx, args.get(2), "second")?;
    let now = cx.now;
    cx.srv.touch_db(a, Some(b), now);
    cx.srv.touch_db(b, Some(a), now);
    cx.srv.dbs.swap(a, b);
    if let Some(snap) = cx.srv.persist.snapshot.as_mut() {
        snap.swapdb(a, b);
    }
    cx.srv.blocking.signal_db(a);
    cx.srv.blocking.signal_db(b);
    // One change, even swapping a database with itself.
    cx.dirty(1);
    cx.out.ok();
    Ok(())
}

/// # Format
/// `TIME`
fn time(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    cx.out.array(2);
    cx.out.bulk(itoa::Buffer::new().format(now.as_secs()).as_bytes());
    cx.out.bulk(itoa::Buffer::new().format(now.subsec_micros()).as_bytes());
    Ok(())
}

/// # Format
/// `SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]` — saves (with save
/// points configured, or SAVE; not with NOSAVE), then stops the server;
/// the connection closes without a reply, as in Redis. A failed save stops
/// the shutdown unless FORCE. There are no replicas to wait for, so NOW
/// changes nothing; ABORT cancels a shutdown a signal asked for that the
/// cron has not run yet.
fn shutdown(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (mut nosave, mut save, mut abort, mut force, mut now_flag) = (false, false, false, false, false);
    for opt in args.from(1) {
        match opt.to_ascii_lowercase().as_slice() {
            b"nosave" => nosave = true,
            b"save" => save = true,
            b"now" => now_flag = true,
            b"force" => force = true,
            b"abort" => abort = true,
            _ => return Err(CmdError::Syntax),
        }
    }
    if (nosave && save) || (abort && args.len() > 2) {
        return Err(CmdError::Syntax);
    }
    if abort {
        // A shutdown waiting for replicas (the loop ends the wait), or a
        // signal's shutdown the cron has not run yet (Redis's abortShutdown).
        if cx.srv.repl.shutdown.is_some() {
            cx.srv.requests.cancel_shutdown = true;
        } else if cx.srv.requests.shutdown_asap.take().is_none() {
            return Err(CmdError::msg("ERR No shutdown in progress."));
        }
        crate::server::SHUTDOWN_PENDING.store(false, std::sync::atomic::Ordering::SeqCst);
        log::info!("Shutdown manually aborted.");
        cx.out.ok();
        return Ok(());
    }
    // While a script is busy only SHUTDOWN NOSAVE goes through.
    if let Some(busy) = crate::script::busy::rejecting()
        && !nosave
    {
        return Err(CmdError::msg(busy));
    }
    let now = cx.now;
    let waiting = cx.srv.repl.shutdown.is_some();
    if !waiting {
        log::warn!("User requested shutdown...");
    }
    if waiting || cx.srv.shutdown_wait_start((save, nosave, force), now_flag, now) {
        // Replicas are behind: the client waits with the shutdown, which
        // the loop ends once they caught up (or with an error).
        cx.block(&[], crate::server::replication::SHUTDOWN, None, args);
        let id = cx.srv.client(cx.key).id;
        if let Some(w) = cx.srv.repl.shutdown.as_mut() {
            w.clients.push((cx.key, id));
        }
        return Ok(());
    }
    if !cx.srv.prepare_for_shutdown(save, nosave, force, now) {
        return Err(CmdError::msg("ERR Errors trying to SHUTDOWN. Check logs."));
    }
    cx.srv.requests.shutdown = true;
    cx.client().close_after_reply = true;
    Ok(())
}
