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
use crate::resp::parse::Span;
use crate::resp::{Proto, Reply};
use crate::script::{self, Core, flags};
use std::cell::RefCell;
use std::rc::Rc;

const EVAL_NOTES: &[&str] = &["We cannot tell how the keys will be used so we assume the worst, RW and UPDATE"];
const EVAL_RO_NOTES: &[&str] = &["We cannot tell how the keys will be used so we assume the worst, RO and ACCESS"];
const EVAL_FLAGS: u32 = NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS;

pub static COMMANDS: &[Command] = &[
    row(
        "eval",
        -3,
        EVAL_FLAGS | MAY_REPLICATE,
        (0, 0, 0),
        "scripting",
        "2.6.0",
        "Execute a Lua script server side",
        eval,
    )
    .key_flags(&["RW access update"])
    .key_notes(EVAL_NOTES),
    row(
        "evalsha",
        -3,
        EVAL_FLAGS | MAY_REPLICATE,
        (0, 0, 0),
        "scripting",
        "2.6.0",
        "Execute a Lua script server side",
        evalsha,
    )
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
    pub name: RunName,
    pub flags: u32,
    /// The function, in the Lua registry.
    pub func: Rc<mlua::RegistryKey>,
    /// A function: called with the KEYS and ARGV tables as arguments
    /// (a script sees them as globals).
    pub function: bool,
}

/// What a run's error suffixes and the busy log name: a script's SHA1 in
/// hex, made on the stack for the run (the cache keeps only the 20-byte
/// SHA1), or a function's name.
pub(super) enum RunName {
    Sha([u8; 40]),
    Function(std::rc::Rc<str>),
}

impl RunName {
    fn sha(sha: &script::Sha) -> RunName {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 40];
        for (i, b) in sha.iter().enumerate() {
            out[2 * i] = HEX[usize::from(b >> 4)];
            out[2 * i + 1] = HEX[usize::from(b & 15)];
        }
        RunName::Sha(out)
    }

    pub fn as_str(&self) -> &str {
        match self {
            RunName::Sha(hex) => std::str::from_utf8(hex).unwrap_or_default(),
            RunName::Function(name) => name,
        }
    }
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
    let (chosen, core) = script::with_engine(|e| -> Result<_, CmdError> {
        let sha = if by_sha {
            script::sha_of_hex(body).ok_or(CmdError::msg(NOSCRIPT_ERR))?
        } else {
            e.load(body).map_err(CmdError::msg)?
        };
        let s = e.scripts.get(&sha).ok_or(CmdError::msg(NOSCRIPT_ERR))?;
        let chosen = Chosen { name: RunName::sha(&sha), flags: s.flags, func: s.func.clone(), function: false };
        Ok((chosen, e.core.clone()))
    })?;
    let keys = args.from(3).take(numkeys as usize);
    let argv = args.from(3 + numkeys as usize);
    let tracked = track_caller_keys(cx, args, numkeys as usize);
    let result = run_script(cx, &core, &chosen, keys, argv, ro);
    if tracked {
        forget_caller_keys();
    }
    result
}

/// What a script command is, for the checks made before it runs (Redis's
/// `evalGetCommandFlags` / `fcallGetCommandFlags`): a script with a
/// shebang, or a function, counts as a write unless `no-writes`, and is
/// refused when memory is full unless `allow-oom` or `no-writes`
/// (`scriptFlagsToCmdFlags`). Returns (write, denyoom); `None` for other
/// commands, for a script without a shebang (its commands are checked as
/// it runs them), and for one unknown or whose shebang does not parse (the
/// command itself reports that): the command's own flags apply then.
pub fn declared(name: &str, args: &Args) -> Option<(bool, bool)> {
    let f = match name {
        "eval" | "eval_ro" => {
            let body = args.get(1);
            let sha = script::sha_of_hex(script::sha1hex(body).as_bytes());
            let cached = script::with_made_engine(|e| sha.and_then(|s| e.scripts.get(&s)).map(|s| s.flags)).flatten();
            match cached {
                Some(f) => f,
                None => script::parse_shebang(body).ok()?.0,
            }
        }
        "evalsha" | "evalsha_ro" => script::with_made_engine(|e| {
            script::sha_of_hex(args.get(1)).and_then(|s| e.scripts.get(&s)).map(|s| s.flags)
        })
        .flatten()?,
        "fcall" | "fcall_ro" => script::with_made_engine(|e| e.function(args.get(1)).map(|f| f.flags)).flatten()?,
        _ => return None,
    };
    if f & flags::EVAL_COMPAT != 0 {
        return None;
    }
    Some((f & flags::NO_WRITES == 0, f & (flags::NO_WRITES | flags::ALLOW_OOM) == 0))
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
            if cx.srv.too_few_replicas(cx.now) {
                return Err(CmdError::msg("NOREPLICAS Not enough good replicas to write."));
            }
        }
        // After the write checks, as Redis: `no-writes` implies allow-oom.
        if f & (flags::ALLOW_OOM | flags::NO_WRITES) == 0 && oom_at_start {
            return Err(CmdError::msg(
                "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'",
            ));
        }
    }
    let ctl = RunCtl {
        read_only: ro || (!compat && f & flags::NO_WRITES != 0),
        allow_oom: !compat && f & flags::ALLOW_OOM != 0,
        oom_at_start,
        wrote: false,
    };
    core.vars.resp.set(2);
    core.vars.repl.set(3);
    let (db, last_cmd) = (cx.client().db, cx.client().last_cmd);
    let (start_ns, threshold) = (cx.srv.cmd_clock, cx.srv.config.busy_reply_threshold);
    let outer_exec = std::mem::replace(&mut cx.srv.in_exec, true);
    cx.srv.in_script = true;
    // A panic in a command the script ran (the loop answers it with an
    // error) must not leave the script's state behind: caught here, the
    // state restored, then passed on.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut host = ScriptHost { cx: &mut *cx, ctl };
        // SAFETY: `serve_busy` reaches the run's host only through the run
        // slot of `script::run`, which holds it just while `core.run` runs
        // (and not while a callback of the run uses it); `chosen.name`
        // outlives the guard.
        let _busy = unsafe {
            script::busy::enter(
                &core.lua,
                start_ns,
                threshold,
                chosen.function,
                chosen.name.as_str(),
                std::ptr::null(),
                serve_busy,
            )
        };
        core.run(&mut host, &chosen.func, chosen.name.as_str(), keys, argv, chosen.function)
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
    if !errors.is_empty() {
        for e in &errors {
            if !e.counted_already {
                cx.srv.stats.error_reply(&e.text);
            }
            if cx.srv.aof.replaying {
                cx.srv.log_replay_error(&e.text, last_cmd);
            }
        }
        if let Some(id) = last_cmd {
            cx.srv.stats.command(id).failed += 1;
        }
    }
    Ok(())
}

/// The busy hook's way to the run (see `script::busy`): serves the loop's
/// other clients once, through the running script's host.
///
/// # Safety
/// Called only by the hook while the run's guard lives; the host is
/// reached through `script::run`'s run slot, under its invariants.
unsafe fn serve_busy(_state: *const ()) {
    script::run::serve_busy();
}

/// An error the engine itself met (not one the script raised).
pub(super) fn lua_failure(e: mlua::Error) -> CmdError {
    CmdError::msg(format!("ERR Error running script: {e}"))
}

/// The caller's side of a run: the commands its script calls run in the
/// caller's context, under the run's rules.
struct ScriptHost<'c, 'a> {
    cx: &'c mut Ctx<'a>,
    ctl: RunCtl,
}

impl script::Host for ScriptHost<'_, '_> {
    fn call(
        &mut self,
        data: &[u8],
        spans: &[Span],
        proto: Proto,
        propagate: bool,
        reply: &mut Vec<u8>,
    ) -> Result<(), String> {
        call_from_script(self.cx, &mut self.ctl, &Args::new(data, spans), proto, propagate, reply)
    }

    fn acl_check(&mut self, data: &[u8], spans: &[Span]) -> Result<bool, &'static str> {
        acl_check_cmd(self.cx, &Args::new(data, spans))
    }

    fn reply(&mut self) -> Reply<'_> {
        Reply::new(&mut *self.cx.out.buf, self.cx.out.proto)
    }

    fn serve_busy(&mut self) {
        script::busy::set_wrote(self.ctl.wrote);
        crate::server::busy::serve(self.cx);
    }
}

/// Redis's `scriptCall`: the checks on a command a script calls, then the
/// command through the dispatcher, its reply written into `reply` (in
/// `proto`). A refusal is counted in the error statistics (and in the
/// command's rejected calls when it is one), as Redis's `afterErrorReply`
/// and `incrCommandStatsOnError` count it there; its text has a leading
/// `-` when it carries its own code.
fn call_from_script(
    cx: &mut Ctx,
    ctl: &mut RunCtl,
    args: &Args,
    proto: Proto,
    propagate: bool,
    reply: &mut Vec<u8>,
) -> Result<(), String> {
    let mut known = None;
    let refused = script_call_checks(cx, ctl, args, &mut known);
    if let Err(msg) = &refused {
        match msg.strip_prefix('-') {
            Some(text) => cx.srv.stats.error_reply(text),
            None => cx.srv.stats.error_reply(&format!("ERR {msg}")),
        }
        if let Some(run) = known {
            cx.srv.stats.command(run).rejected += 1;
        }
        return refused;
    }
    let published = cx.srv.pubsub.outbox.len();
    let mut inner = Ctx { srv: &mut *cx.srv, key: cx.key, out: Reply::new(reply, proto), now: cx.now };
    let prop_on = inner.srv.prop.on;
    inner.srv.prop.on = prop_on && propagate;
    inner.srv.in_script_call = true;
    dispatch(&mut inner, args);
    inner.srv.in_script_call = false;
    inner.srv.prop.on = prop_on;
    // Messages the command published that the caller subscribes to go to
    // the caller's stream now, before the script's reply, where Redis
    // writes them (not into the reply the script gets).
    cx.publish_inline(published);
    Ok(())
}

/// The checks of Redis's `scriptCall` before the command runs, in its
/// order; `known` gets the command's id once it is found.
fn script_call_checks(cx: &mut Ctx, ctl: &mut RunCtl, args: &Args, known: &mut Option<usize>) -> Result<(), String> {
    let reg = super::table::registry();
    let name = args.get(0);
    let id = match &cx.srv.renames {
        None => reg.id(name),
        Some(r) => r.id(name),
    };
    let Some(top) = id else { return Err("Unknown Redis command called from script".into()) };
    let run = if !reg.entries[top].cmd.subcommands.is_empty() && args.len() >= 2 {
        reg.sub_id(top, args.get(1)).ok_or("Unknown Redis command called from script")?
    } else {
        top
    };
    *known = Some(run);
    let cmd = reg.entries[run].cmd;
    let refuse = |text: String| -> Result<(), String> { Err(text) };
    if !cmd.arity_ok(args.len()) {
        return refuse("Wrong number of args calling Redis command from script".into());
    }
    if cmd.has(NOSCRIPT) && !cx.srv.debug.disable_deny_scripts {
        return refuse("This Redis command is not allowed from script".into());
    }
    if !cx.srv.client(cx.key).acl_free {
        let refs: Vec<&[u8]> = args.from(0).collect();
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
    Ok(())
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
/// command with these arguments; `Err` when there is no such command.
fn acl_check_cmd(cx: &Ctx, args: &Args) -> Result<bool, &'static str> {
    const INVALID: &str = "ERR Invalid command passed to redis.acl_check_cmd()";
    let reg = super::table::registry();
    let top = reg.id(args.get(0)).ok_or(INVALID)?;
    let run = if !reg.entries[top].cmd.subcommands.is_empty() && args.len() >= 2 {
        reg.sub_id(top, args.get(1)).ok_or(INVALID)?
    } else {
        top
    };
    let c = cx.srv.client(cx.key);
    if c.acl_free {
        return Ok(true);
    }
    let refs: Vec<&[u8]> = args.from(0).collect();
    Ok(cx.srv.acl.user(c.user).check(run, &refs).is_ok())
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
fn script_kill(cx: &mut Ctx, _args: &Args) -> CmdResult {
    script::busy::kill(true).map_err(CmdError::msg)?;
    cx.out.ok();
    Ok(())
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
