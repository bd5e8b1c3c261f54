//! Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT
//! (LOAD, EXISTS, FLUSH, KILL, HELP), and how a script's `redis.call`
//! runs a command.
//!
//! A script runs inside the caller's command: its commands go through the
//! one dispatcher (`cmd::dispatch`) as EXEC's queued commands do — with
//! `in_exec` set, so blocking commands do not block, the OOM and tracking
//! checks of a top-level command are skipped and the propagation path
//! collects what they changed into one call (wrapped in MULTI/EXEC when
//! more than one, Redis 7.0's effects replication). Before that, each
//! passes the checks Redis's `scriptCall` makes, with its texts. The
//! script's own database (SELECT inside a script) and the caller's last
//! command are the caller's again when it ends.

use super::table::{Command, container, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx, dispatch};
use crate::resp::{Proto, Reply};
use crate::script::{self, Core, convert, flags};
use mlua::{MultiValue, Value as LuaValue};
use std::cell::RefCell;

const EVAL_NOTES: &[&str] = &["We cannot tell how the keys will be used so we assume the worst, RW and UPDATE"];
const EVAL_RO_NOTES: &[&str] = &["We cannot tell how the keys will be used so we assume the worst, RO and ACCESS"];
const EVAL_FLAGS: u32 = NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS;

pub static COMMANDS: &[Command] = &[
    row("eval", -3, EVAL_FLAGS, (0, 0, 0), "scripting", "2.6.0", "Execute a Lua script server side", eval)
        .key_flags(&["RW access update"])
        .key_notes(EVAL_NOTES),
    row("evalsha", -3, EVAL_FLAGS, (0, 0, 0), "scripting", "2.6.0", "Execute a Lua script server side", evalsha)
        .key_flags(&["RW access update"]),
    row(
        "eval_ro",
        -3,
        READONLY | EVAL_FLAGS,
        (0, 0, 0),
        "scripting",
        "7.0.0",
        "Execute a read-only Lua script server side",
        eval_ro,
    )
    .key_flags(&["RO access"])
    .key_notes(EVAL_RO_NOTES),
    row(
        "evalsha_ro",
        -3,
        READONLY | EVAL_FLAGS,
        (0, 0, 0),
        "scripting",
        "7.0.0",
        "Execute a read-only Lua script server side",
        evalsha_ro,
    )
    .key_flags(&["RO access"]),
    Command {
        subcommands: SCRIPT_SUBCOMMANDS,
        ..row(
            "script",
            -2,
            0,
            (0, 0, 0),
            "scripting",
            "2.6.0",
            "A container for Lua scripts management commands",
            container,
        )
    },
];

static SCRIPT_SUBCOMMANDS: &[Command] = &[
    row(
        "exists",
        -3,
        NOSCRIPT,
        (0, 0, 0),
        "scripting",
        "2.6.0",
        "Check existence of scripts in the script cache.",
        script_exists,
    )
    .tips(&["request_policy:all_shards", "response_policy:agg_logical_and"]),
    row(
        "flush",
        -2,
        NOSCRIPT,
        (0, 0, 0),
        "scripting",
        "2.6.0",
        "Remove all the scripts from the script cache.",
        script_flush,
    )
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    row(
        "load",
        3,
        NOSCRIPT | STALE,
        (0, 0, 0),
        "scripting",
        "2.6.0",
        "Load the specified Lua script into the script cache.",
        script_load,
    )
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    row(
        "kill",
        2,
        NOSCRIPT | ALLOW_BUSY,
        (0, 0, 0),
        "scripting",
        "2.6.0",
        "Kill the script currently in execution.",
        script_kill,
    )
    .tips(&["request_policy:all_shards", "response_policy:one_succeeded"]),
    row(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "scripting",
        "5.0.0",
        "Show helpful text about the different subcommands",
        script_help,
    ),
];

/// The script (or function) a run executes.
pub(super) struct Chosen {
    /// What error suffixes name: the script's SHA1, or the function's name.
    pub sha: String,
    pub flags: u32,
    pub func: mlua::Function,
    /// A function: called with the KEYS and ARGV tables as arguments
    /// (a script sees them as globals).
    pub function: bool,
}

/// # Format
/// `EVAL script numkeys [key [key ...]] [arg [arg ...]]`
fn eval(cx: &mut Ctx, args: &Args) -> CmdResult {
    eval_generic(cx, args, false, false)
}

/// # Format
/// `EVALSHA sha1 numkeys [key [key ...]] [arg [arg ...]]`
fn evalsha(cx: &mut Ctx, args: &Args) -> CmdResult {
    eval_generic(cx, args, true, false)
}

/// # Format
/// `EVAL_RO script numkeys [key [key ...]] [arg [arg ...]]`
fn eval_ro(cx: &mut Ctx, args: &Args) -> CmdResult {
    eval_generic(cx, args, false, true)
}

/// # Format
/// `EVALSHA_RO sha1 numkeys [key [key ...]] [arg [arg ...]]`
fn evalsha_ro(cx: &mut Ctx, args: &Args) -> CmdResult {
    eval_generic(cx, args, true, true)
}

const NOSCRIPT_ERR: &str = "NOSCRIPT No matching script. Please use EVAL.";

/// Redis's `evalGenericCommand`: numkeys, the script (compiled and cached
/// on first EVAL), the flag rules, the run.
fn eval_generic(cx: &mut Ctx, args: &Args, by_sha: bool, ro: bool) -> CmdResult {
    super::introspect::feed_monitors_at_start(cx, args);
    // Redis's evalShaCommand: no SHA1 of this length before numkeys is read.
    if by_sha && args.get(1).len() != 40 {
        return Err(CmdError::msg(NOSCRIPT_ERR));
    }
    let numkeys = args.int(2)?;
    if numkeys > args.len() as i64 - 3 {
        return Err(CmdError::msg("ERR Number of keys can't be greater than number of args"));
    }
    if numkeys < 0 {
        return Err(CmdError::msg("ERR Number of keys can't be negative"));
    }
    let body = args.get(1);
    let chosen = script::with_engine(|e| -> Result<Chosen, CmdError> {
        let sha = if by_sha {
            script::sha_of_hex(body).ok_or(CmdError::msg(NOSCRIPT_ERR))?
        } else {
            e.load(body).map_err(CmdError::msg)?
        };
        let s = e.scripts.get(&sha).ok_or(CmdError::msg(NOSCRIPT_ERR))?;
        let func = e.core.lua.registry_value(&s.func).map_err(lua_failure)?;
        Ok(Chosen { sha: script::sha_hex(&sha), flags: s.flags, func, function: false })
    })?;
    let core = script::with_engine(|e| e.core.clone());
    let keys = args.from(3).take(numkeys as usize);
    let argv = args.from(3 + numkeys as usize);
    let tracked = track_caller_keys(cx, args, numkeys as usize);
    let result = run_script(cx, &core, &chosen, keys, argv, ro);
    if tracked {
        forget_caller_keys();
    }
    result
}

thread_local! {
    /// The keys the running script's caller declared (EVAL's or FCALL's
    /// KEYS) while a client with client-side caching on runs one.
    static CALLER_KEYS: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// Client-side caching of a script's reads, as Redis 7.0.15 does it: each
/// read-only command the script runs makes the caller remember the keys
/// the *caller's* command declares (EVAL's KEYS, found through its key
/// specs), not the keys of the inner command. Keeps them for the run when
/// the caller tracks; whether it did.
pub(super) fn track_caller_keys(cx: &mut Ctx, args: &Args, numkeys: usize) -> bool {
    if cx.srv.tracking.clients == 0 || cx.srv.client(cx.key).tracking.is_none() {
        return false;
    }
    CALLER_KEYS.with(|k| *k.borrow_mut() = args.from(3).take(numkeys).map(<[u8]>::to_vec).collect());
    true
}

/// The end of a run [`track_caller_keys`] kept the keys for.
pub(super) fn forget_caller_keys() {
    CALLER_KEYS.with(|k| k.borrow_mut().clear());
}

/// Remembers the running script's caller's keys for client-side caching
/// (see [`track_caller_keys`]).
pub(super) fn remember_caller_keys(cx: &mut Ctx) {
    CALLER_KEYS.with(|k| cx.srv.remember_keys(cx.key, k.borrow().iter().map(|k| &k[..])));
}

/// What a run needs to decide on each command a script calls.
struct RunCtl {
    read_only: bool,
    allow_oom: bool,
    /// Memory was over `maxmemory` when the script started.
    oom_at_start: bool,
    /// A write command ran.
    wrote: bool,
}

/// Redis's `scriptPrepareForRun`, the run and `scriptResetRun`.
pub(super) fn run_script<'a>(
    cx: &mut Ctx,
    core: &Core,
    chosen: &Chosen,
    keys: impl ExactSizeIterator<Item = &'a [u8]>,
    argv: impl ExactSizeIterator<Item = &'a [u8]>,
    ro: bool,
) -> CmdResult {
    let f = chosen.flags;
    let compat = f & flags::EVAL_COMPAT != 0;
    let oom_at_start =
        cx.srv.config.maxmemory != 0 && cx.srv.perform_evictions(cx.now) == crate::server::evict::Evicted::Fail;
    if !compat {
        if f & flags::ALLOW_OOM == 0 && oom_at_start {
            return Err(CmdError::msg(
                "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'",
            ));
        }
        if f & flags::NO_WRITES == 0 {
            if cx.srv.writes_refused() {
                return Err(CmdError::msg(
                    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts.",
                ));
            }
            if let Some(e) = cx.srv.aof_write_error() {
                return Err(CmdError::msg(format!(
                    "MISCONF Redis is configured to persist data to AOF, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts. AOF error: {e}"
                )));
            }
            if ro {
                return Err(CmdError::msg("ERR Can not execute a script with write flag using *_ro command."));
            }
        }
    }
    let ctl = RunCtl {
        read_only: ro || (!compat && f & flags::NO_WRITES != 0),
        allow_oom: !compat && f & flags::ALLOW_OOM != 0,
        oom_at_start,
        wrote: false,
    };
    let call_args = if chosen.function {
        let table = |items: Vec<&[u8]>| -> mlua::Result<LuaValue> {
            let t = core.lua.create_table_with_capacity(items.len(), 0)?;
            for (i, a) in items.iter().enumerate() {
                t.raw_seti(i + 1, core.lua.create_string(a)?)?;
            }
            Ok(LuaValue::Table(t))
        };
        let mut m = MultiValue::new();
        m.push_back(table(keys.collect()).map_err(lua_failure)?);
        m.push_back(table(argv.collect()).map_err(lua_failure)?);
        m
    } else {
        core.set_keys_argv(keys, argv).map_err(lua_failure)?;
        MultiValue::new()
    };
    core.vars.resp.set(2);
    core.vars.repl.set(3);
    let (db, last_cmd) = (cx.client().db, cx.client().last_cmd);
    let outer_exec = std::mem::replace(&mut cx.srv.in_exec, true);
    cx.srv.in_script = true;
    let mut reply = Vec::new();
    let proto = cx.out.proto;
    // A panic in a command the script ran (the loop answers it with an
    // error) must not leave the script's state behind: caught here, the
    // state restored, then passed on.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let state = RefCell::new((&mut *cx, ctl));
        core.lua.scope(|scope| {
            let call = scope.create_function(|lua, args: MultiValue| {
                let mut st = state.try_borrow_mut().map_err(|_| mlua::Error::RecursiveMutCallback)?;
                let (cx, ctl) = &mut *st;
                lua_call(lua, cx, ctl, core, args, true)
            })?;
            let pcall = scope.create_function(|lua, args: MultiValue| {
                let mut st = state.try_borrow_mut().map_err(|_| mlua::Error::RecursiveMutCallback)?;
                let (cx, ctl) = &mut *st;
                lua_call(lua, cx, ctl, core, args, false)
            })?;
            let acl_check = scope.create_function(|_, args: MultiValue| {
                let st = state.try_borrow().map_err(|_| mlua::Error::RecursiveMutCallback)?;
                acl_check_cmd(st.0, args)
            })?;
            core.redis.raw_set("call", call)?;
            core.redis.raw_set("pcall", pcall)?;
            core.redis.raw_set("acl_check_cmd", acl_check)?;
            let result = core.run(&chosen.func, call_args)?;
            let mut out = Reply::new(&mut reply, proto);
            let resp3 = core.vars.resp.get() == 3;
            Ok(match result {
                Ok(values) => {
                    let v = values.into_iter().next().unwrap_or(LuaValue::Nil);
                    convert::write_value(&mut out, v, resp3)
                }
                Err(e) => vec![write_raised(&mut out, e, &chosen.sha)],
            })
        })
    }));
    cx.srv.in_exec = outer_exec;
    cx.srv.in_script = false;
    let c = cx.client();
    c.db = db;
    c.last_cmd = last_cmd;
    let errors = match outcome {
        Ok(r) => r.map_err(lua_failure)?,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    cx.out.buf.extend_from_slice(&reply);
    if !errors.is_empty() {
        for e in &errors {
            if !e.counted_already {
                cx.srv.stats.error_reply(&e.text);
            }
        }
        if let Some(id) = last_cmd {
            cx.srv.stats.command(id).failed += 1;
        }
    }
    Ok(())
}

/// An error the engine itself met (not one the script raised).
pub(super) fn lua_failure(e: mlua::Error) -> CmdError {
    CmdError::msg(format!("ERR Error running script: {e}"))
}

/// The reply to a script that raised `e` (an error table from the error
/// handler): the message, then where it happened, as Redis writes it.
fn write_raised(out: &mut Reply, e: LuaValue, sha: &str) -> convert::Written {
    let mut text = String::from("ERR Error running script");
    let mut counted_already = false;
    if let LuaValue::Table(t) = &e {
        // A number counts as a string here (Lua's lua_isstring), written
        // as Lua prints it.
        text = match t.raw_get::<LuaValue>("err").ok().as_ref().and_then(script::lua_bytes) {
            Some(s) => String::from_utf8_lossy(&s).into_owned(),
            None => "ERR Error running script (the error raised is a table without an 'err' field)".into(),
        };
        counted_already = matches!(t.raw_get::<LuaValue>("ignore_error_stats_update"), Ok(LuaValue::Boolean(true)));
        let source = t.raw_get::<LuaValue>("source").ok().and_then(|v| script::lua_bytes(&v));
        let line = t.raw_get::<LuaValue>("line").ok().and_then(|v| script::lua_bytes(&v));
        if let (Some(source), Some(line)) = (source, line) {
            text.push_str(&format!(
                " script: {sha}, on {}:{}.",
                String::from_utf8_lossy(&source),
                String::from_utf8_lossy(&line)
            ));
        }
    }
    let text = text.replace(['\r', '\n'], " ");
    out.error(&text);
    convert::Written { text, counted_already }
}

/// The arguments of `redis.call`/`redis.pcall` (after the raise flag):
/// strings, and numbers as Redis prints them (`%.17g`).
fn lua_args(args: &MultiValue) -> Result<Vec<Vec<u8>>, &'static str> {
    if args.is_empty() {
        return Err("Please specify at least one argument for this redis lib call");
    }
    args.iter()
        .map(|v| match v {
            LuaValue::String(s) => Ok(s.as_bytes().to_vec()),
            // (an integral double: %.17g too, 1e17 is `1e+17`)
            LuaValue::Integer(n) => Ok(script::g_format(*n as f64, 17).into_bytes()),
            LuaValue::Number(n) => Ok(script::g_format(*n, 17).into_bytes()),
            _ => Err("Lua redis lib command arguments must be strings or integers"),
        })
        .collect()
}

/// `redis.call` (`raise`) and `redis.pcall`: runs the command and returns
/// its reply; an error is raised by redis.call, returned as an error table
/// by redis.pcall.
fn lua_call(
    lua: &mlua::Lua,
    cx: &mut Ctx,
    ctl: &mut RunCtl,
    core: &Core,
    args: MultiValue,
    raise: bool,
) -> mlua::Result<LuaValue> {
    let fail = |text: Vec<u8>, counted: bool| -> mlua::Result<LuaValue> {
        let r = script::Raised { text, counted };
        if raise { Err(mlua::Error::external(r)) } else { Ok(LuaValue::Table(script::raised_table(lua, &r)?)) }
    };
    let argv = match lua_args(&args) {
        Ok(a) => a,
        Err(msg) => return fail(format!("ERR {msg}").into_bytes(), false),
    };
    let proto = if core.vars.resp.get() == 3 { Proto::Resp3 } else { Proto::Resp2 };
    // redis.set_repl without REPL_AOF: the command is not propagated
    // (ferrokv has no replicas, the AOF is the stream's one consumer).
    let propagate = core.vars.repl.get() & 1 != 0;
    match call_from_script(cx, ctl, &argv, proto, propagate) {
        Err((msg, run)) => {
            // Redis's scriptCall counts the refusal where it happens (the
            // error statistics, the command's rejected_calls) and marks the
            // error so the script's own reply does not count it again.
            let text = msg.strip_prefix('-').map_or_else(|| format!("ERR {msg}"), str::to_string);
            cx.srv.stats.error_reply(&text);
            if let Some(run) = run {
                cx.srv.stats.command(run).rejected += 1;
            }
            fail(text.into_bytes(), true)
        }
        Ok(bytes) => {
            let (v, is_err) = convert::read_reply(lua, &bytes, &mut 0)?;
            if is_err && raise {
                let text = match &v {
                    LuaValue::Table(t) => script::lua_bytes(&t.raw_get::<LuaValue>("err")?).unwrap_or_default(),
                    _ => Vec::new(),
                };
                return fail(text, true);
            }
            Ok(v)
        }
    }
}

/// Redis's `scriptCall`: the checks on a command a script calls, then the
/// command through the dispatcher; its reply bytes (in `proto`), or the
/// error text (a leading `-` when it carries its own code) and the
/// refused command when it is a known one.
fn call_from_script(
    cx: &mut Ctx,
    ctl: &mut RunCtl,
    argv: &[Vec<u8>],
    proto: Proto,
    propagate: bool,
) -> Result<Vec<u8>, (String, Option<usize>)> {
    let reg = super::table::registry();
    let name = &argv[0];
    let id = match &cx.srv.renames {
        None => reg.id(name),
        Some(r) => r.id(name),
    };
    const UNKNOWN: &str = "Unknown Redis command called from script";
    let Some(top) = id else { return Err((UNKNOWN.into(), None)) };
    let run = if !reg.entries[top].cmd.subcommands.is_empty() && argv.len() >= 2 {
        reg.sub_id(top, &argv[1]).ok_or((UNKNOWN.to_string(), None))?
    } else {
        top
    };
    let cmd = reg.entries[run].cmd;
    let refuse = |text: String| Err((text, Some(run)));
    if !cmd.arity_ok(argv.len()) {
        return refuse("Wrong number of args calling Redis command from script".into());
    }
    if cmd.has(NOSCRIPT) && !cx.srv.debug.disable_deny_scripts {
        return refuse("This Redis command is not allowed from script".into());
    }
    if !cx.srv.client(cx.key).acl_free {
        let refs: Vec<&[u8]> = argv.iter().map(|a| &a[..]).collect();
        let user = cx.srv.acl.user(cx.srv.client(cx.key).user);
        if let Err((why, pos)) = user.check(run, &refs) {
            let object = match why {
                crate::acl::Denied::Command => reg.entries[run].fullname.as_bytes().to_vec(),
                _ => refs[pos].to_vec(),
            };
            let now = cx.now;
            cx.srv.acl_log(cx.key, why, &object, None, now);
            return refuse(acl_denied_text(why).into());
        }
    }
    // Redis 7.0 counts may-replicate commands (PUBLISH, PFCOUNT) as
    // writes for a read-only script.
    if ctl.read_only && (cmd.has(WRITE) || cmd.has(MAY_REPLICATE)) {
        return refuse("Write commands are not allowed from read-only scripts.".into());
    }
    if cmd.has(WRITE) {
        if cx.srv.writes_refused() {
            return refuse(format!("-{}", crate::server::persistence::MISCONF));
        }
        if let Some(e) = cx.srv.aof_write_error() {
            return refuse(format!("-MISCONF Errors writing to the AOF file: {e}"));
        }
    }
    if !ctl.allow_oom && ctl.oom_at_start && !ctl.wrote && cmd.has(DENYOOM) {
        return refuse(format!("-{}", super::OOM_ERROR));
    }
    if cmd.has(WRITE) {
        ctl.wrote = true;
    }
    let mut data = Vec::new();
    let mut spans = Vec::with_capacity(argv.len());
    for a in argv {
        spans.push((data.len(), data.len() + a.len()));
        data.extend_from_slice(a);
    }
    let mut buf = Vec::new();
    let mut inner = Ctx { srv: &mut *cx.srv, key: cx.key, out: Reply::new(&mut buf, proto), now: cx.now };
    let prop_on = inner.srv.prop.on;
    inner.srv.prop.on = prop_on && propagate;
    dispatch(&mut inner, &Args::new(&data, &spans));
    inner.srv.prop.on = prop_on;
    Ok(buf)
}

/// Redis's texts for a command a script may not run (`scriptVerifyACL`).
fn acl_denied_text(why: crate::acl::Denied) -> &'static str {
    use crate::acl::Denied;
    match why {
        Denied::Command => "The user executing the script can't run this command or subcommand",
        Denied::Key => {
            "The user executing the script can't access at least one of the keys mentioned in the command arguments"
        }
        Denied::Channel => "The user executing the script can't publish to the channel mentioned in the command",
        #[allow(unreachable_patterns)]
        _ => "The user executing the script is lacking the permissions for the command",
    }
}

/// `redis.acl_check_cmd(cmd, ...)`: whether the caller's user may run the
/// command with these arguments.
fn acl_check_cmd(cx: &Ctx, args: MultiValue) -> mlua::Result<bool> {
    let fail = |msg: &str| script::raise(msg.strip_prefix("ERR ").unwrap_or(msg));
    if args.is_empty() {
        return fail("ERR Please specify at least one argument for this redis lib call");
    }
    let mut argv = Vec::with_capacity(args.len());
    for v in args.iter() {
        match v {
            LuaValue::String(s) => argv.push(s.as_bytes().to_vec()),
            LuaValue::Integer(n) => argv.push(script::g_format(*n as f64, 17).into_bytes()),
            LuaValue::Number(n) => argv.push(script::g_format(*n, 17).into_bytes()),
            _ => return fail("ERR Lua redis lib command arguments must be strings or integers"),
        }
    }
    let reg = super::table::registry();
    let Some(top) = reg.id(&argv[0]) else { return fail("ERR Invalid command passed to redis.acl_check_cmd()") };
    let run = if !reg.entries[top].cmd.subcommands.is_empty() && argv.len() >= 2 {
        match reg.sub_id(top, &argv[1]) {
            Some(r) => r,
            None => return fail("ERR Invalid command passed to redis.acl_check_cmd()"),
        }
    } else {
        top
    };
    let c = cx.srv.client(cx.key);
    let refs: Vec<&[u8]> = argv.iter().map(|a| &a[..]).collect();
    Ok(c.acl_free || cx.srv.acl.user(c.user).check(run, &refs).is_ok())
}

/// # Format
/// `SCRIPT EXISTS sha1 [sha1 ...]`
fn script_exists(cx: &mut Ctx, args: &Args) -> CmdResult {
    let found: Vec<bool> = script::with_engine(|e| {
        args.from(2).map(|hex| script::sha_of_hex(hex).is_some_and(|sha| e.scripts.contains_key(&sha))).collect()
    });
    cx.out.array(found.len());
    for f in found {
        cx.out.int(i64::from(f));
    }
    Ok(())
}

/// # Format
/// `SCRIPT FLUSH [ASYNC | SYNC]`
fn script_flush(cx: &mut Ctx, args: &Args) -> CmdResult {
    match args.len() {
        2 => {}
        3 if args.get(2).eq_ignore_ascii_case(b"sync") || args.get(2).eq_ignore_ascii_case(b"async") => {}
        _ => return Err(CmdError::msg("ERR SCRIPT FLUSH only support SYNC|ASYNC option")),
    }
    script::with_engine(|e| e.flush()).map_err(lua_failure)?;
    cx.out.ok();
    Ok(())
}

/// # Format
/// `SCRIPT LOAD script`
fn script_load(cx: &mut Ctx, args: &Args) -> CmdResult {
    let sha = script::with_engine(|e| e.load(args.get(2))).map_err(CmdError::msg)?;
    cx.out.bulk(script::sha_hex(&sha).as_bytes());
    Ok(())
}

/// # Format
/// `SCRIPT KILL`
fn script_kill(_cx: &mut Ctx, _args: &Args) -> CmdResult {
    // A script runs to its end before the loop reads another command.
    Err(CmdError::msg("NOTBUSY No scripts in execution right now."))
}

/// # Format
/// `SCRIPT HELP`
fn script_help(cx: &mut Ctx, _args: &Args) -> CmdResult {
    super::server::help(
        &mut cx.out,
        "SCRIPT",
        &[
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    );
    Ok(())
}
