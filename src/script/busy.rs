//! The busy state of a long script, as Redis 7.0's `scriptInterrupt`
//! (script.c) and `luaMaskCountHook` (script_lua.c) run it.
//!
//! An instruction-count hook, installed once on the Lua state, fires every
//! [`CHECK_EVERY`] VM instructions. Outside a run, or before the run has
//! lasted `busy-reply-threshold` ms, it only reads the clock. Past the
//! threshold it logs Redis's "Slow script detected" line once, and from
//! then on each firing lets the event loop serve the *other* clients (the
//! run's `serve` callback, see `cmd::script` and `server::busy`): they get
//! `-BUSY` except for the commands flagged `allow_busy` (SCRIPT KILL,
//! FUNCTION KILL, SHUTDOWN NOSAVE, AUTH, HELLO, MULTI, ...). SCRIPT KILL or
//! FUNCTION KILL mark the run killed; the hook then raises Redis's error
//! and, as Redis, fires on every line from then on so that a `pcall` in
//! the script cannot swallow it.
//!
//! Invariants: [`RUN`] holds the running script's bookkeeping for exactly
//! the length of its run ([`enter`] returns the guard that clears it); the
//! `state` pointer in it is only dereferenced by the `serve` function that
//! came with it, while the guard lives.

use mlua::{HookTriggers, Lua, VmState};
use std::cell::Cell;

/// VM instructions between two looks at the clock (Redis's
/// `lua_sethook(lua, luaMaskCountHook, LUA_MASKCOUNT, 100000)`).
pub const CHECK_EVERY: u32 = 100_000;

/// Redis's `shared.slowevalerr`: what other clients get while an EVAL runs.
pub const SLOW_EVAL: &str = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
/// Redis's `shared.slowscripterr`: while a function (FCALL) runs.
pub const SLOW_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
const NOTBUSY: &str = "NOTBUSY No scripts in execution right now.";
const UNKILLABLE: &str = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
/// What the killed script raises (its caller gets it with the
/// `script: ..., on ...:line.` suffix).
const KILLED: &str = "ERR Script killed by user with SCRIPT KILL...";

/// Why a run is stopped.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SCRIPT KILL or FUNCTION KILL.
    Killed,
    /// SHUTDOWN NOSAVE: the server exits once the run has unwound.
    Shutdown,
}

/// The running script, as the hook and SCRIPT/FUNCTION KILL see it
/// (Redis's `curr_run_ctx` flags).
#[derive(Clone, Copy)]
struct Run {
    /// `clock::mono_ns()` when the run's command started.
    start_ns: u64,
    /// `busy-reply-threshold` when the run started (0: never busy).
    threshold_ms: u64,
    /// A function (FCALL), not an EVAL script.
    function: bool,
    /// The script's SHA1 or the function's name (lives as long as the run).
    name: *const str,
    /// The run's context, opaque here: handed to `serve`.
    state: *const (),
    /// Serves the other clients once (Redis's `processEventsWhileBlocked`).
    serve: unsafe fn(*const ()),
    /// Past the threshold (Redis's SCRIPT_TIMEDOUT).
    timed_out: bool,
    /// A write command ran (Redis's SCRIPT_WRITE_DIRTY), as `serve` last
    /// saw it.
    wrote: bool,
    stop: Option<Stop>,
}

thread_local! {
    static RUN: Cell<Option<Run>> = const { Cell::new(None) };
    /// The error other clients get while the run is busy (read by the
    /// dispatcher on every command: one thread-local load).
    static REJECT: Cell<Option<&'static str>> = const { Cell::new(None) };
    /// While FUNCTION LOAD runs a library's code: when (`clock::mono_ns`)
    /// it times out.
    static LOAD_DEADLINE: Cell<Option<u64>> = const { Cell::new(None) };
}

/// FUNCTION LOAD's time limit for a library's code (Redis's
/// `LOAD_TIMEOUT_MS`): past it the hook raises "FUNCTION LOAD timeout"
/// (the load's code cannot catch it: `pcall` is not among its globals).
/// Without it, `while 1 do end` in a library would hang the server.
pub const LOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

/// Clears the load's deadline when the load ends.
pub struct LoadGuard(Option<u64>);

impl Drop for LoadGuard {
    fn drop(&mut self) {
        LOAD_DEADLINE.set(self.0);
    }
}

/// A library's code runs for at most `timeout` from now (None: no limit,
/// as for libraries loaded from an RDB, the AOF or FUNCTION RESTORE).
pub fn load_deadline(timeout: Option<std::time::Duration>) -> LoadGuard {
    let deadline = timeout.map(|t| crate::clock::mono_ns() + t.as_nanos() as u64);
    LoadGuard(LOAD_DEADLINE.replace(deadline))
}

/// Installs the hook on the Lua state (once, when the state is made).
pub fn install(lua: &Lua) -> mlua::Result<()> {
    lua.set_hook(HookTriggers::new().every_nth_instruction(CHECK_EVERY), |lua, _| interrupt(lua))
}

/// Clears the run's bookkeeping when the run ends, and gives the Lua
/// state its count hook back if a kill switched it to every line.
pub struct Guard<'a> {
    lua: &'a Lua,
    prev: Option<Run>,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        let stopped = RUN.get().is_some_and(|r| r.stop.is_some());
        RUN.set(self.prev);
        REJECT.set(None);
        if stopped && install(self.lua).is_err() {
            log::warn!("Could not restore the script hook");
        }
    }
}

/// Registers a run for its length. `start_ns` is when its command started
/// (`clock::mono_ns`), `name` the SHA1 or the function name.
///
/// # Safety
/// `serve(state)` must be sound to call whenever the hook fires while the
/// returned guard lives (it is only ever called from the hook, on this
/// thread, while Lua code of this run executes), and `name` must outlive
/// the guard.
pub unsafe fn enter<'a>(
    lua: &'a Lua,
    start_ns: u64,
    threshold_ms: u64,
    function: bool,
    name: &'a str,
    state: *const (),
    serve: unsafe fn(*const ()),
) -> Guard<'a> {
    let run = Run {
        start_ns,
        threshold_ms,
        function,
        name: name as *const str,
        state,
        serve,
        timed_out: false,
        wrote: false,
        stop: None,
    };
    Guard { lua, prev: RUN.replace(Some(run)) }
}

/// The hook: Redis's `luaMaskCountHook` over `scriptInterrupt`.
fn interrupt(lua: &Lua) -> mlua::Result<VmState> {
    let Some(mut run) = RUN.get() else {
        if LOAD_DEADLINE.get().is_some_and(|d| crate::clock::mono_ns() > d) {
            let text = b"ERR FUNCTION LOAD timeout".to_vec();
            return Err(mlua::Error::external(super::Raised { text, counted: false }));
        }
        return Ok(VmState::Continue);
    };
    if run.stop.is_some() {
        // Killed: raised again on every line (a pcall caught it).
        return Err(killed());
    }
    if !run.timed_out {
        if run.threshold_ms == 0 {
            return Ok(VmState::Continue);
        }
        let elapsed = crate::clock::mono_ns().saturating_sub(run.start_ns) / 1_000_000;
        if elapsed < run.threshold_ms {
            return Ok(VmState::Continue);
        }
        // SAFETY: `name` outlives the run (`enter`'s contract).
        let name = unsafe { &*run.name };
        log::warn!(
            "Slow script detected: still in execution after {elapsed} milliseconds. You can try killing the script using the {} command. Script name is: {name}.",
            if run.function { "FUNCTION KILL" } else { "SCRIPT KILL" }
        );
        run.timed_out = true;
        RUN.set(Some(run));
    }
    REJECT.set(Some(if run.function { SLOW_FUNCTION } else { SLOW_EVAL }));
    // SAFETY: called from the hook while the run's guard lives (`enter`).
    unsafe { (run.serve)(run.state) };
    REJECT.set(None);
    let Some(run) = RUN.get() else { return Ok(VmState::Continue) };
    match run.stop {
        None => Ok(VmState::Continue),
        Some(stop) => {
            if stop == Stop::Killed {
                log::warn!("Lua script killed by user with SCRIPT KILL.");
            }
            // On every line of the script's own code (not the runner's,
            // which must hand the error back to the caller).
            lua.set_hook(HookTriggers::EVERY_LINE, |_, debug| {
                if debug.source().source.as_deref() == Some(super::INTERNAL) {
                    return Ok(VmState::Continue);
                }
                Err(killed())
            })?;
            Err(killed())
        }
    }
}

fn killed() -> mlua::Error {
    mlua::Error::external(super::Raised { text: KILLED.as_bytes().to_vec(), counted: false })
}

/// The `-BUSY` error a command of another client gets now, if a script is
/// busy and that client is being served.
#[inline]
pub fn rejecting() -> Option<&'static str> {
    REJECT.get()
}

/// Whether a script runs past its threshold (the loop serves others).
pub fn timed_out() -> bool {
    RUN.get().is_some_and(|r| r.timed_out)
}

/// Notes whether the run has written (read by SCRIPT/FUNCTION KILL).
pub fn set_wrote(wrote: bool) {
    if let Some(mut run) = RUN.get() {
        run.wrote = wrote;
        RUN.set(Some(run));
    }
}

/// Stops the run as SHUTDOWN NOSAVE does (no log line, no reply check).
pub fn stop_for_shutdown() {
    if let Some(mut run) = RUN.get() {
        run.stop = Some(Stop::Shutdown);
        RUN.set(Some(run));
    }
}

/// Redis's `scriptKill`: SCRIPT KILL (`eval`) or FUNCTION KILL. `Err` is
/// the error reply.
pub fn kill(eval: bool) -> Result<(), &'static str> {
    let Some(mut run) = RUN.get() else { return Err(NOTBUSY) };
    if run.wrote {
        return Err(UNKILLABLE);
    }
    if eval && run.function {
        return Err(SLOW_FUNCTION);
    }
    if !eval && !run.function {
        return Err(SLOW_EVAL);
    }
    run.stop = Some(Stop::Killed);
    RUN.set(Some(run));
    Ok(())
}

/// The running script for FUNCTION STATS: whether it is a function, its
/// name and how long it has run (ms).
pub fn running() -> Option<(bool, String, u64)> {
    let run = RUN.get()?;
    // SAFETY: `name` outlives the run (`enter`'s contract).
    let name = unsafe { &*run.name }.to_string();
    Some((run.function, name, crate::clock::mono_ns().saturating_sub(run.start_ns) / 1_000_000))
}
