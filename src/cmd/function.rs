//! Functions (Redis 7.0): FCALL, FCALL_RO and FUNCTION (LOAD, LIST,
//! DELETE, FLUSH, STATS, KILL, HELP). A library's code runs once at LOAD,
//! registering its functions (`redis.register_function`); FCALL runs one
//! of them as EVAL runs a script (`script::run_script`), with the keys and
//! arguments as its two arguments.
//!
//! FUNCTION DUMP and RESTORE move libraries as Redis's payload
//! (`persist::codec::functions`): every library's code, in load order.
//! RESTORE compiles the payload's libraries apart from the loaded ones
//! first (Redis's fresh library context), then joins them by its policy
//! (FLUSH, APPEND, REPLACE): all of them or none. The RDB and AOF rewrite
//! save the same codes (`server::persistence`).

use super::script::{Chosen, RunName, lua_failure, run_script};
use super::table::{Command, container, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx};
use crate::persist::codec::functions;
use crate::script::{self, Engine, Library};

const FCALL_FLAGS: u32 = NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS;

pub static COMMANDS: &[Command] = &[
    row("fcall", -3, FCALL_FLAGS | MAY_REPLICATE, (0, 0, 0), "scripting", "7.0.0", "Invoke a function", fcall)
        .key_flags(&["RW access update"])
        .key_notes(&["We cannot tell how the keys will be used so we assume the worst, RW and UPDATE"]),
    row(
        "fcall_ro",
        -3,
        READONLY | FCALL_FLAGS,
        (0, 0, 0),
        "scripting",
        "7.0.0",
        "Invoke a read-only function",
        fcall_ro,
    )
    .key_flags(&["RO access"])
    .key_notes(&["We cannot tell how the keys will be used so we assume the worst, RO and ACCESS"]),
    Command {
        subcommands: FUNCTION_SUBCOMMANDS,
        ..row("function", -2, 0, (0, 0, 0), "scripting", "7.0.0", "A container for function commands", container)
    },
];

static FUNCTION_SUBCOMMANDS: &[Command] = &[
    row(
        "load",
        -3,
        WRITE | DENYOOM | NOSCRIPT,
        (0, 0, 0),
        "scripting",
        "7.0.0",
        "Create a function with the given arguments (name, code, description)",
        function_load,
    )
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    row(
        "list",
        -2,
        NOSCRIPT,
        (0, 0, 0),
        "scripting",
        "7.0.0",
        "List information about all the functions",
        function_list,
    )
    .tips(&["nondeterministic_output_order"]),
    row("delete", 3, WRITE | NOSCRIPT, (0, 0, 0), "scripting", "7.0.0", "Delete a function by name", function_delete)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    row("flush", -2, WRITE | NOSCRIPT, (0, 0, 0), "scripting", "7.0.0", "Deleting all functions", function_flush)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    row(
        "stats",
        2,
        NOSCRIPT | ALLOW_BUSY,
        (0, 0, 0),
        "scripting",
        "7.0.0",
        "Return information about the function currently running (name, description, duration)",
        function_stats,
    )
    .tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]),
    row(
        "kill",
        2,
        NOSCRIPT | ALLOW_BUSY,
        (0, 0, 0),
        "scripting",
        "7.0.0",
        "Kill the function currently in execution.",
        function_kill,
    )
    .tips(&["request_policy:all_shards", "response_policy:one_succeeded"]),
    row(
        "dump",
        2,
        NOSCRIPT,
        (0, 0, 0),
        "scripting",
        "7.0.0",
        "Dump all functions into a serialized binary payload",
        function_dump,
    ),
    row(
        "restore",
        -3,
        WRITE | DENYOOM | NOSCRIPT,
        (0, 0, 0),
        "scripting",
        "7.0.0",
        "Restore all the functions on the given payload",
        function_restore,
    )
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    row(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "scripting",
        "7.0.0",
        "Show helpful text about the different subcommands",
        function_help,
    ),
];

/// # Format
/// `FCALL function numkeys [key [key ...]] [arg [arg ...]]`
fn fcall(cx: &mut Ctx, args: &Args) -> CmdResult {
    fcall_generic(cx, args, false)
}

/// # Format
/// `FCALL_RO function numkeys [key [key ...]] [arg [arg ...]]`
fn fcall_ro(cx: &mut Ctx, args: &Args) -> CmdResult {
    fcall_generic(cx, args, true)
}

/// Redis's `fcallCommandGeneric`: the function, numkeys, the run.
fn fcall_generic(cx: &mut Ctx, args: &Args, ro: bool) -> CmdResult {
    super::introspect::feed_monitors_at_start(cx, args);
    let found = script::with_engine(|e| e.function(args.get(1)).map(|f| (f.clone(), e.fcore.clone())));
    let Some((f, core)) = found else { return Err(CmdError::msg("ERR Function not found")) };
    let numkeys = args.int(2).map_err(|_| CmdError::msg("ERR Bad number of keys provided"))?;
    if numkeys > args.len() as i64 - 3 {
        return Err(CmdError::msg("ERR Number of keys can't be greater than number of args"));
    }
    if numkeys < 0 {
        return Err(CmdError::msg("ERR Number of keys can't be negative"));
    }
    let chosen = Chosen { name: RunName::Function(f.name), flags: f.flags, func: f.callback, function: true };
    let keys = args.from(3).take(numkeys as usize);
    let argv = args.from(3 + numkeys as usize);
    let tracked = super::script::track_caller_keys(cx, args, numkeys as usize);
    let prev = FCALL_ARGS.replace(args as *const Args as *const ());
    let ran = run_script(cx, &core, &chosen, keys, argv, ro);
    FCALL_ARGS.set(prev);
    if tracked {
        super::script::forget_caller_keys();
    }
    ran
}

thread_local! {
    /// The FCALL whose function runs (FUNCTION STATS shows it while the
    /// function is busy): set for the length of `run_script` only.
    static FCALL_ARGS: std::cell::Cell<*const ()> = const { std::cell::Cell::new(std::ptr::null()) };
}

/// # Format
/// `FUNCTION LOAD [REPLACE] function-code`
fn function_load(cx: &mut Ctx, args: &Args) -> CmdResult {
    let mut replace = false;
    let mut i = 2;
    while i < args.len() - 1 {
        if args.get(i).eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else {
            return Err(CmdError::msg(format!("ERR Unknown option given: {}", super::lossy(args.get(i)))));
        }
        i += 1;
    }
    let code = args.get(args.len() - 1);
    // A library replayed from the AOF loads without the time limit (Redis's
    // mustObeyClient).
    let timeout = (!cx.must_obey()).then_some(script::busy::LOAD_TIMEOUT);
    let name = script::with_engine(|e| e.load_library(code, replace, timeout)).map_err(CmdError::msg)?;
    changed(cx);
    cx.out.bulk(name.as_bytes());
    Ok(())
}

/// The libraries changed: one change for the save points, and the
/// command is propagated (to the AOF) as called, as Redis does.
fn changed(cx: &mut Ctx) {
    cx.dirty(1);
    cx.srv.prop.changes += 1;
}

/// # Format
/// `FUNCTION LIST [LIBRARYNAME library-name-pattern] [WITHCODE]`
fn function_list(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (mut pattern, mut with_code) = (None, false);
    let mut i = 2;
    while i < args.len() {
        let a = args.get(i);
        if a.eq_ignore_ascii_case(b"withcode") && !with_code {
            with_code = true;
        } else if a.eq_ignore_ascii_case(b"libraryname") && pattern.is_none() {
            if i + 1 >= args.len() {
                return Err(CmdError::msg("ERR library name argument was not given"));
            }
            pattern = Some(args.get(i + 1));
            i += 1;
        } else {
            return Err(CmdError::msg(format!("ERR Unknown argument {}", super::lossy(a))));
        }
        i += 1;
    }
    let out = &mut cx.out;
    script::with_engine(|e| {
        let libs: Vec<&script::Library> = e
            .libraries()
            .iter()
            .filter(|l| pattern.is_none_or(|p| crate::glob::matches(p, l.name.as_bytes(), false)))
            .collect();
        out.array(libs.len());
        for l in libs {
            out.map(if with_code { 4 } else { 3 });
            out.bulk(b"library_name");
            out.bulk(l.name.as_bytes());
            out.bulk(b"engine");
            out.bulk(b"LUA");
            out.bulk(b"functions");
            out.array(l.functions.len());
            for f in &l.functions {
                out.map(3);
                out.bulk(b"name");
                out.bulk(f.name.as_bytes());
                out.bulk(b"description");
                match &f.description {
                    Some(d) => out.bulk(d),
                    None => out.null(),
                }
                out.bulk(b"flags");
                let names: Vec<&str> =
                    script::flags::NAMES.iter().filter(|(b, _)| f.flags & b != 0).map(|(_, n)| *n).collect();
                out.set(names.len());
                names.iter().for_each(|n| out.simple(n));
            }
            if with_code {
                out.bulk(b"library_code");
                out.bulk(&l.code);
            }
        }
    });
    Ok(())
}

/// # Format
/// `FUNCTION DELETE library-name`
fn function_delete(cx: &mut Ctx, args: &Args) -> CmdResult {
    let name = args.get(2);
    let removed = script::with_engine(|e| {
        let at = e.libraries().iter().position(|l| l.name.as_bytes() == name);
        let removed = at.map(|i| e.edit_libraries(|libs| libs.remove(i))).is_some();
        // Empty the registry slots of its functions (a dropped key's slot
        // keeps the function until it is reused).
        e.fcore.lua.expire_registry_values();
        removed
    });
    if !removed {
        return Err(CmdError::msg("ERR Library not found"));
    }
    changed(cx);
    cx.out.ok();
    Ok(())
}

/// # Format
/// `FUNCTION FLUSH [ASYNC | SYNC]`
fn function_flush(cx: &mut Ctx, args: &Args) -> CmdResult {
    match args.len() {
        2 => {}
        3 if args.get(2).eq_ignore_ascii_case(b"sync") || args.get(2).eq_ignore_ascii_case(b"async") => {}
        3 => return Err(CmdError::msg("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")),
        _ => {
            return Err(super::subcommand_syntax_error(args));
        }
    }
    script::with_engine(|e| {
        e.edit_libraries(Vec::clear);
        e.fcore.lua.expire_registry_values();
        e.fcore.lua.gc_collect()
    })
    .map_err(lua_failure)?;
    changed(cx);
    cx.out.ok();
    Ok(())
}

/// # Format
/// `FUNCTION DUMP`
///
/// Every library's code in Redis's payload (compressed as `rdbcompression`
/// says), which `FUNCTION RESTORE` here or on redis-server takes back.
fn function_dump(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let compress = cx.srv.config.rdbcompression;
    let payload = script::with_engine(|e| {
        let codes: Vec<&[u8]> = e.libraries().iter().map(|l| &*l.code).collect();
        functions::encode_dump_with(&codes, compress)
    });
    cx.out.bulk(&payload);
    Ok(())
}

/// What `FUNCTION RESTORE` does with libraries already loaded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Policy {
    Flush,
    Append,
    Replace,
}

/// # Format
/// `FUNCTION RESTORE serialized-value [FLUSH | APPEND | REPLACE]`
fn function_restore(cx: &mut Ctx, args: &Args) -> CmdResult {
    if args.len() > 4 {
        return Err(super::subcommand_syntax_error(args));
    }
    let policy = match args.len() {
        4 => match args.get(3).to_ascii_lowercase().as_slice() {
            b"flush" => Policy::Flush,
            b"append" => Policy::Append,
            b"replace" => Policy::Replace,
            _ => {
                return Err(CmdError::msg(
                    "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
                ));
            }
        },
        _ => Policy::Append,
    };
    let codes = functions::decode_dump(args.get(2)).map_err(CmdError::msg)?;
    script::with_engine(|e| restore(e, &codes, policy)).map_err(CmdError::msg)?;
    changed(cx);
    cx.out.ok();
    Ok(())
}

/// Redis's `functionRestoreCommand` after the payload is read: the codes
/// are compiled as libraries of their own (a name twice in the payload is
/// `Library 'x' already exists`), then joined with the loaded ones as
/// `libraryJoin` does. On any error the loaded libraries are as before.
fn restore(e: &mut Engine, codes: &[Vec<u8>], policy: Policy) -> Result<(), String> {
    let loaded = e.edit_libraries(std::mem::take);
    let compiled = codes.iter().try_for_each(|c| e.load_library(c, false, None).map(|_| ()));
    let new = e.edit_libraries(|libs| std::mem::replace(libs, loaded));
    compiled?;
    if policy == Policy::Flush {
        e.edit_libraries(|libs| *libs = new);
        return Ok(());
    }
    let replaced = |l: &Library| new.iter().any(|n| n.name == l.name);
    if policy == Policy::Append
        && let Some(l) = e.libraries().iter().find(|l| replaced(l))
    {
        return Err(format!("ERR Library {} already exists", l.name));
    }
    for f in new.iter().flat_map(|l| l.functions.iter()) {
        let taken = e
            .libraries()
            .iter()
            .filter(|l| !replaced(l))
            .any(|l| l.functions.iter().any(|g| g.name.eq_ignore_ascii_case(&f.name)));
        if taken {
            return Err(format!("ERR Function {} already exists", f.name));
        }
    }
    let names: Vec<String> = new.iter().map(|l| l.name.clone()).collect();
    e.edit_libraries(|libs| {
        libs.retain(|l| !names.contains(&l.name));
        libs.extend(new);
    });
    Ok(())
}

/// # Format
/// `FUNCTION STATS`
fn function_stats(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let (libs, funcs) =
        script::with_engine(|e| (e.libraries().len(), e.libraries().iter().map(|l| l.functions.len()).sum::<usize>()));
    let running = script::busy::running();
    if running.as_ref().is_some_and(|r| !r.0) {
        // An EVAL is busy: Redis answers as to any other command.
        return Err(CmdError::msg(script::busy::SLOW_EVAL));
    }
    let out = &mut cx.out;
    out.map(2);
    out.bulk(b"running_script");
    let fcall = FCALL_ARGS.get();
    match running {
        Some((_, name, ms)) if !fcall.is_null() => {
            // SAFETY: FCALL_ARGS points at the running FCALL's arguments
            // while its `run_script` runs, which is when FUNCTION STATS can
            // see a running function (served from the busy hook).
            let args = unsafe { &*(fcall as *const Args) };
            out.map(3);
            out.bulk(b"name");
            out.bulk(name.as_bytes());
            out.bulk(b"command");
            out.array(args.len());
            for a in args.from(0) {
                out.bulk(a);
            }
            out.bulk(b"duration_ms");
            out.int(ms as i64);
        }
        _ => out.null(),
    }
    out.bulk(b"engines");
    out.map(1);
    out.bulk(b"LUA");
    out.map(2);
    out.bulk(b"libraries_count");
    out.int(libs as i64);
    out.bulk(b"functions_count");
    out.int(funcs as i64);
    Ok(())
}

/// # Format
/// `FUNCTION KILL`
fn function_kill(cx: &mut Ctx, _args: &Args) -> CmdResult {
    script::busy::kill(false).map_err(CmdError::msg)?;
    cx.out.ok();
    Ok(())
}

/// # Format
/// `FUNCTION HELP`
fn function_help(cx: &mut Ctx, _args: &Args) -> CmdResult {
    super::server::help(
        &mut cx.out,
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    );
    Ok(())
}
