//! The run of one script or function, on the Lua C API (through
//! `mlua::ffi`): the hot path of EVALSHA and FCALL, made to cost about
//! what Redis's `luaCallFunction` costs.
//!
//! What a run does, as Redis does it: KEYS and ARGV are set, the function
//! is called in one protected call (`lua_pcall`) under the error handler,
//! and its return value is written as the reply. `redis.call`,
//! `redis.pcall` and `redis.acl_check_cmd` are C functions registered once
//! when the state is made; they reach the running script through the
//! thread's *run slot* ([`RUNNING`]), which holds a pointer to the
//! [`Running`] state of the run in progress and is null otherwise.
//!
//! Invariants:
//! - The run slot is set only by [`with_running`], from a `&mut Running`
//!   borrowed for the whole call, and a guard puts the previous value back
//!   when the call returns or unwinds; the pointer is never reachable after
//!   the borrow ends. A callback takes the pointer out of the slot while it
//!   uses it (so a nested callback finds the slot empty and there are never
//!   two `&mut` to one `Running`) and puts it back before it returns.
//! - A Lua error unwinds with `longjmp`: in the C functions here no Rust
//!   frame that a Lua error may cross owns a value with a destructor. The
//!   Rust work (which may allocate, format, panic) runs first, in its own
//!   frames, under `catch_unwind`; only plain values (pointers, slices,
//!   numbers) are live when a Lua API function that may raise is called.
//!   A panic in a command a script ran is parked in the run and resumed
//!   once the run has been cleaned up.
//! - Nothing is allocated on the way of a run that calls commands and
//!   returns a number or a string: the argument and reply buffers are the
//!   engine's, kept between runs; KEYS and ARGV are the same two tables
//!   from run to run (refilled, and replaced when a script left anything
//!   in them that the refill does not undo), so a steady stream of
//!   EVALSHA gives Lua's collector nothing to do.

use super::lib::{check_stack, push_bytes};
use super::{Core, RunVars, convert, g_format};
use crate::resp::parse::Span;
use crate::resp::{Proto, Reply};
use mlua::ffi::{self, lua_State};
use mlua::{RegistryKey, Value as LuaValue};
use std::any::Any;
use std::cell::Cell;
use std::ffi::{CStr, c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::ptr;

/// What a run needs from the command running the script: the commands
/// its `redis.call` runs, `redis.acl_check_cmd`, and the caller's reply.
pub trait Host {
    /// Runs the command `data`/`spans` (one argument per span) for
    /// `redis.call`/`redis.pcall`, its reply written into `reply` in
    /// `proto`; `propagate` is false after `redis.set_repl` without
    /// REPL_AOF. `Err` is a refusal before the command ran (Redis's
    /// `scriptCall` checks), already counted in the error statistics: its
    /// text, with a leading `-` when it carries its own code (else it is
    /// an ERR).
    fn call(
        &mut self,
        data: &[u8],
        spans: &[Span],
        proto: Proto,
        propagate: bool,
        reply: &mut Vec<u8>,
    ) -> Result<(), String>;

    /// `redis.acl_check_cmd`: whether the caller's user may run the
    /// command `data`/`spans`; `Err` is the text to raise (the command is
    /// unknown).
    fn acl_check(&mut self, data: &[u8], spans: &[Span]) -> Result<bool, &'static str>;

    /// Where the script's reply goes.
    fn reply(&mut self) -> Reply<'_>;

    /// Serves the loop's other clients once while the script is busy
    /// (`script::busy`'s instruction hook, past `busy-reply-threshold`).
    fn serve_busy(&mut self);
}

/// Buffers a run borrows from the engine and gives back (so a run
/// allocates nothing once they have grown).
#[derive(Default)]
pub(super) struct CallBufs {
    /// The arguments of the command a script calls (KEYS then ARGV before
    /// the function is called).
    data: Vec<u8>,
    spans: Vec<Span>,
    /// The reply of the command a script called.
    reply: Vec<u8>,
    /// The text of an error to raise (`CODE message`).
    err: Vec<u8>,
}

/// A buffer above this is dropped after the run instead of kept.
const KEEP_BYTES: usize = 64 * 1024;

/// KEYS and ARGV tables with more entries than this are not kept for the
/// next run (refilling would mean clearing them entry by entry).
const KEEP_ENTRIES: usize = 64;

/// Registry slots (`luaL_ref`) made once with the state: the error
/// handler, the entry function of a run and the KEYS/ARGV tables kept
/// between runs.
pub(super) struct Slots {
    handler: RegistryKey,
    entry: RegistryKey,
    keys: RegistryKey,
    argv: RegistryKey,
    /// How many entries the kept KEYS and ARGV tables were given by the
    /// last run (what the next refill clears above its own).
    filled: Cell<[usize; 2]>,
    /// Runs in progress (a run inside a run, possible only with DEBUG
    /// SET-DISABLE-DENY-SCRIPTS, gets its own KEYS and ARGV tables).
    depth: Cell<u32>,
    /// The globals KEYS and ARGV are the kept tables (else the next run
    /// sets them again).
    globals_set: Cell<bool>,
    /// A run inside a run set the globals to its own tables.
    clobbered: Cell<bool>,
}

/// The state of the run in progress, on `Core::run`'s stack frame; the
/// C functions reach it through the run slot.
pub(super) struct Running<'h> {
    host: *mut (dyn Host + 'h),
    vars: &'h RunVars,
    bufs: CallBufs,
    /// A panic of a command the script called, resumed after the run.
    panic: Option<Box<dyn Any + Send>>,
    /// KEYS are `bufs.spans[..nkeys]`, ARGV the rest (until the first
    /// command the script calls reuses the buffers).
    nkeys: usize,
    /// A function (FCALL): KEYS and ARGV are its arguments, not globals.
    function: bool,
    /// Use the kept KEYS and ARGV tables (not in a run inside a run).
    reuse: bool,
    keys_ref: c_int,
    argv_ref: c_int,
    filled: [usize; 2],
    /// See `Slots::globals_set`.
    globals_set: bool,
}

thread_local! {
    /// The run slot: the run in progress on this thread, or null. See the
    /// module's invariants.
    static RUNNING: Cell<*mut Running<'static>> = const { Cell::new(ptr::null_mut()) };
}

/// Puts the previous value of the run slot back when dropped.
struct SlotGuard(*mut Running<'static>);

impl Drop for SlotGuard {
    fn drop(&mut self) {
        RUNNING.with(|s| s.set(self.0));
    }
}

/// Runs `f` with the run slot pointing at `run`, and restores the slot's
/// previous value after (also when `f` unwinds). The guard is local to
/// this function, so the pointer leaves the slot when `f` is done.
///
/// # Safety
/// `run` points at a live `Running` that its owner does not touch until
/// this returns (the callbacks reach it through the slot meanwhile).
unsafe fn with_running<R>(run: *mut Running<'_>, f: impl FnOnce() -> R) -> R {
    // The slot's type names no lifetime: the pointer is valid for longer
    // than it stays in the slot (the caller's contract).
    let _guard = SlotGuard(RUNNING.with(|s| s.replace(run.cast::<Running<'static>>())));
    f()
}

/// Takes the run out of the slot (null when no run is in progress, or a
/// callback of the run is already using it).
fn take_running() -> *mut Running<'static> {
    RUNNING.with(|s| s.replace(ptr::null_mut()))
}

/// Puts back what [`take_running`] took.
fn put_running(run: *mut Running<'static>) {
    RUNNING.with(|s| s.set(run));
}

/// The busy hook's call (`script::busy`): the running script's host serves
/// the loop's other clients once. Nothing happens when no run is in
/// progress or a callback of the run is using it (the slot is empty then).
pub fn serve_busy() {
    let run = take_running();
    if run.is_null() {
        return;
    }
    // Back in the slot when done, also if serving panics.
    let _guard = SlotGuard(run);
    // SAFETY: the slot held a live Running (module invariants), taken out
    // of it, so no other reference to it or its host is in use.
    let host = unsafe { &mut *(*run).host };
    host.serve_busy();
}

/// What a callback does once its Rust part is done (plain data: it is
/// live while Lua functions that may raise run).
#[derive(Clone, Copy)]
enum Step {
    /// Push the reply in `bufs.reply`.
    Reply,
    /// The reply in `bufs.reply` is an error: push its error table.
    ReplyError,
    /// Push the error table of `bufs.err` (`counted`: already in the
    /// error statistics).
    Error { counted: bool },
    /// Push a boolean.
    Bool(bool),
    /// No run in progress (or used by an outer callback).
    Idle,
    /// A command panicked (parked in the run): raise.
    Panicked,
}

/// Copies the arguments of a redis.call/pcall/acl_check_cmd into
/// `bufs.data`/`bufs.spans`: strings as they are, numbers as Redis prints
/// them (`%.17g`); `Err` is the error text (Redis's
/// `luaArgsToRedisArgv`).
///
/// # Safety
/// `l` is the state of a running C function; only reads the stack.
unsafe fn read_args(l: *mut lua_State, bufs: &mut CallBufs) -> Result<(), &'static [u8]> {
    let n = unsafe { ffi::lua_gettop(l) };
    if n == 0 {
        return Err(b"ERR Please specify at least one argument for this redis lib call");
    }
    bufs.data.clear();
    bufs.spans.clear();
    for i in 1..=n {
        let start = bufs.data.len();
        // SAFETY: index i is on the stack; lua_tolstring is called on
        // strings only, so it converts nothing and cannot raise.
        match unsafe { ffi::lua_type(l, i) } {
            ffi::LUA_TSTRING => {
                let mut len = 0usize;
                let p = unsafe { ffi::lua_tolstring(l, i, &mut len) };
                bufs.data.extend_from_slice(unsafe { std::slice::from_raw_parts(p as *const u8, len) });
            }
            ffi::LUA_TNUMBER => number_arg(&mut bufs.data, unsafe { ffi::lua_tonumber(l, i) }),
            _ => return Err(b"ERR Lua redis lib command arguments must be strings or integers"),
        }
        bufs.spans.push((start, bufs.data.len()));
    }
    Ok(())
}

/// A number as Redis 7.0 passes it to a command: C's `%.17g`.
pub(crate) fn number_arg(out: &mut Vec<u8>, n: f64) {
    if n == n.trunc() && n.abs() < 1e17 {
        // An integer below 10^17 has at most 17 digits: %.17g prints it
        // whole, as an integer.
        if n == 0.0 && n.is_sign_negative() {
            out.extend_from_slice(b"-0");
        } else {
            out.extend_from_slice(itoa::Buffer::new().format(n as i64).as_bytes());
        }
    } else if n.is_nan() {
        out.extend_from_slice(if n.is_sign_negative() { b"-nan" } else { b"nan" });
    } else if n.is_infinite() {
        out.extend_from_slice(if n > 0.0 { b"inf" } else { b"-inf" });
    } else {
        out.extend_from_slice(g_format(n, 17).as_bytes());
    }
}

/// The Rust part of redis.call/pcall: the arguments, the command.
///
/// # Safety
/// `l` is the state of the running C function.
unsafe fn call_command(l: *mut lua_State, run: &mut Running<'_>) -> Step {
    if run.panic.is_some() {
        return Step::Panicked;
    }
    let bufs = &mut run.bufs;
    if let Err(text) = unsafe { read_args(l, bufs) } {
        bufs.err.clear();
        bufs.err.extend_from_slice(text);
        return Step::Error { counted: false };
    }
    let proto = if run.vars.resp.get() == 3 { Proto::Resp3 } else { Proto::Resp2 };
    // redis.set_repl without REPL_AOF: the command is not propagated
    // (ferrokv has no replicas, the AOF is the stream's one consumer).
    let propagate = run.vars.repl.get() & 1 != 0;
    bufs.reply.clear();
    // SAFETY: the host outlives the run (see Running), and no other
    // reference to it is in use while a callback runs.
    let host = unsafe { &mut *run.host };
    match host.call(&bufs.data, &bufs.spans, proto, propagate, &mut bufs.reply) {
        Err(msg) => {
            bufs.err.clear();
            match msg.strip_prefix('-') {
                Some(text) => bufs.err.extend_from_slice(text.as_bytes()),
                None => {
                    bufs.err.extend_from_slice(b"ERR ");
                    bufs.err.extend_from_slice(msg.as_bytes());
                }
            }
            Step::Error { counted: true }
        }
        Ok(()) if bufs.reply.first() == Some(&b'-') => Step::ReplyError,
        Ok(()) => Step::Reply,
    }
}

/// The Rust part of redis.acl_check_cmd.
///
/// # Safety
/// `l` is the state of the running C function.
unsafe fn check_acl(l: *mut lua_State, run: &mut Running<'_>) -> Step {
    if run.panic.is_some() {
        return Step::Panicked;
    }
    let bufs = &mut run.bufs;
    let text = match unsafe { read_args(l, bufs) } {
        Err(text) => text,
        // SAFETY: as in call_command.
        Ok(()) => match unsafe { &mut *run.host }.acl_check(&bufs.data, &bufs.spans) {
            Ok(allowed) => return Step::Bool(allowed),
            Err(text) => text.as_bytes(),
        },
    };
    bufs.err.clear();
    bufs.err.extend_from_slice(text);
    Step::Error { counted: false }
}

/// Runs `work` on the run in the slot (taken out meanwhile), catching a
/// panic into the run. Returns the step and the run (null when idle).
fn with_slot(
    l: *mut lua_State,
    work: unsafe fn(*mut lua_State, &mut Running<'_>) -> Step,
) -> (Step, *mut Running<'static>) {
    let run = take_running();
    if run.is_null() {
        return (Step::Idle, run);
    }
    // SAFETY: the slot holds a live run (module invariants); taken out of
    // the slot, this is the only reference to it until it is put back.
    let step = match catch_unwind(AssertUnwindSafe(|| unsafe { work(l, &mut *run) })) {
        Ok(step) => step,
        Err(panic) => {
            unsafe { (*run).panic = Some(panic) };
            Step::Panicked
        }
    };
    put_running(run);
    (step, run)
}

/// Pushes the error table `{err=<text>}` (with
/// `ignore_error_stats_update=true` when `counted`).
///
/// # Safety
/// `l` has room for 3 values; may raise only a memory error.
unsafe fn push_error_table(l: *mut lua_State, text: &[u8], counted: bool) {
    unsafe {
        ffi::lua_createtable(l, 0, 2);
        push_bytes(l, b"err");
        push_bytes(l, text);
        ffi::lua_rawset(l, -3);
        if counted {
            push_bytes(l, b"ignore_error_stats_update");
            ffi::lua_pushboolean(l, 1);
            ffi::lua_rawset(l, -3);
        }
    }
}

/// Raises the error message `msg` (a string, as luaL_error would).
///
/// # Safety
/// `l` is the state of the running C function.
unsafe fn raise_text(l: *mut lua_State, msg: &CStr) -> ! {
    unsafe {
        ffi::lua_settop(l, 0);
        push_error_table(l, msg.to_bytes(), false);
        ffi::lua_error(l)
    }
}

/// `redis.call` and `redis.pcall` (Redis's `luaRedisGenericCommand`): the
/// command's reply as Lua values; an error is raised by redis.call and
/// returned by redis.pcall, as an error table.
///
/// # Safety
/// Called by Lua as a C function.
unsafe fn call_generic(l: *mut lua_State, raise: bool) -> c_int {
    // From here on only plain values are live (module invariants).
    let (step, run) = with_slot(l, call_command);
    unsafe {
        match step {
            Step::Reply => {
                // SAFETY: the run outlives this call (it is on the frame
                // of the run below us) and its reply buffer is not touched
                // until the next callback.
                let reply: &[u8] = &(*run).bufs.reply;
                ffi::lua_settop(l, 0);
                convert::push_reply(l, reply, &mut 0);
                1
            }
            Step::ReplyError => {
                let reply: &[u8] = &(*run).bufs.reply;
                ffi::lua_settop(l, 0);
                convert::push_reply(l, reply, &mut 0);
                if raise { ffi::lua_error(l) } else { 1 }
            }
            Step::Error { counted } => {
                let text: &[u8] = &(*run).bufs.err;
                ffi::lua_settop(l, 0);
                push_error_table(l, text, counted);
                if raise { ffi::lua_error(l) } else { 1 }
            }
            Step::Idle => raise_text(l, c"ERR redis.call/pcall can only be called inside a script invocation"),
            Step::Panicked | Step::Bool(_) => raise_text(l, c"ERR a command called from the script failed"),
        }
    }
}

/// `redis.call`.
unsafe extern "C-unwind" fn redis_call(l: *mut lua_State) -> c_int {
    unsafe { call_generic(l, true) }
}

/// `redis.pcall`.
unsafe extern "C-unwind" fn redis_pcall(l: *mut lua_State) -> c_int {
    unsafe { call_generic(l, false) }
}

/// `redis.acl_check_cmd(cmd, ...)` (Redis's
/// `luaRedisAclCheckCmdPermissionsCommand`).
unsafe extern "C-unwind" fn acl_check_cmd(l: *mut lua_State) -> c_int {
    let (step, run) = with_slot(l, check_acl);
    unsafe {
        match step {
            Step::Bool(b) => {
                ffi::lua_settop(l, 0);
                ffi::lua_pushboolean(l, c_int::from(b));
                1
            }
            Step::Error { counted } => {
                let text: &[u8] = &(*run).bufs.err;
                ffi::lua_settop(l, 0);
                push_error_table(l, text, counted);
                ffi::lua_error(l)
            }
            Step::Idle => raise_text(l, c"ERR redis.acl_check_cmd can only be called inside a script invocation"),
            _ => raise_text(l, c"ERR a command called from the script failed"),
        }
    }
}

/// Fills the table at the top of the stack with `items` at 1..n and
/// clears `1+n..=filled`; whether it now holds exactly those `n` entries
/// and no metatable (else a script left something in it: it is not
/// used).
///
/// # Safety
/// A table is at the top of `l`'s stack; room for 3 more values.
unsafe fn refill(l: *mut lua_State, data: &[u8], items: &[Span], filled: usize) -> bool {
    unsafe {
        if ffi::lua_getmetatable(l, -1) != 0 {
            ffi::lua_pop(l, 1);
            return false;
        }
        for (i, (a, b)) in items.iter().enumerate() {
            push_bytes(l, &data[*a..*b]);
            ffi::lua_rawseti_(l, -2, i as c_int + 1);
        }
        for i in items.len() + 1..=filled {
            ffi::lua_pushnil(l);
            ffi::lua_rawseti_(l, -2, i as c_int);
        }
        let mut count = 0;
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            ffi::lua_pop(l, 1);
            count += 1;
            if count > items.len() {
                ffi::lua_pop(l, 1);
                break;
            }
        }
        count == items.len()
    }
}

/// Pushes a new table holding `items`.
///
/// # Safety
/// Room for 2 more values on `l`'s stack.
unsafe fn new_array(l: *mut lua_State, data: &[u8], items: &[Span]) {
    unsafe {
        ffi::lua_createtable(l, items.len() as c_int, 0);
        for (i, (a, b)) in items.iter().enumerate() {
            push_bytes(l, &data[*a..*b]);
            ffi::lua_rawseti_(l, -2, i as c_int + 1);
        }
    }
}

/// Sets the global `name` (KEYS or ARGV) to `items`, in the table kept in
/// registry slot `slot` when it can be refilled (`reuse`), else in a new
/// one (kept for the next run when small). `globals_set`: the global holds
/// the kept table already. Whether the global now holds the kept table.
///
/// # Safety
/// Room for 4 more values on `l`'s stack.
#[allow(clippy::too_many_arguments)]
unsafe fn set_global_array(
    l: *mut lua_State,
    name: &CStr,
    data: &[u8],
    items: &[Span],
    slot: c_int,
    filled: &mut usize,
    reuse: bool,
    globals_set: bool,
) -> bool {
    unsafe {
        let mut ready = false;
        if reuse && items.len() <= KEEP_ENTRIES && *filled <= KEEP_ENTRIES {
            ffi::lua_rawgeti_(l, ffi::LUA_REGISTRYINDEX, slot);
            ready = ffi::lua_type(l, -1) == ffi::LUA_TTABLE && refill(l, data, items, *filled);
            if !ready {
                ffi::lua_pop(l, 1);
            }
        }
        if !ready {
            new_array(l, data, items);
            if reuse {
                ffi::lua_pushvalue(l, -1);
                ffi::lua_rawseti_(l, ffi::LUA_REGISTRYINDEX, slot);
            }
        }
        if reuse {
            *filled = items.len();
        }
        if ready && globals_set {
            ffi::lua_pop(l, 1);
            return true;
        }
        ffi::lua_pushstring_(l, name.as_ptr());
        ffi::lua_insert(l, -2);
        ffi::lua_rawset(l, ffi::LUA_GLOBALSINDEX);
        reuse
    }
}

/// The entry function of a run, called in protected mode with the run (a
/// light userdata) and the script's function: sets KEYS and ARGV (globals
/// for a script, arguments for a function) and calls the function for one
/// result (Redis's `luaCallFunction` between its `luaCreateArray`s and
/// `lua_pcall`, with the error handler of the protected call around it).
unsafe extern "C-unwind" fn run_entry(l: *mut lua_State) -> c_int {
    unsafe {
        let run = ffi::lua_touserdata(l, 1) as *mut Running<'static>;
        // SAFETY: Core::run passes its live Running; no callback runs
        // until lua_call below, so nothing else uses it meanwhile.
        let run = &mut *run;
        check_stack(l, 6, c"KEYS and ARGV");
        let data: &[u8] = &run.bufs.data;
        let (keys, argv) = run.bufs.spans.split_at(run.nkeys);
        if run.function {
            new_array(l, data, keys);
            new_array(l, data, argv);
            ffi::lua_call(l, 2, 1);
        } else {
            let (mut filled, set) = (run.filled, run.globals_set);
            let k = set_global_array(l, c"KEYS", data, keys, run.keys_ref, &mut filled[0], run.reuse, set);
            let a = set_global_array(l, c"ARGV", data, argv, run.argv_ref, &mut filled[1], run.reuse, set);
            run.filled = filled;
            run.globals_set = k && a;
            ffi::lua_call(l, 0, 1);
        }
        1
    }
}

/// The main Lua state's pointer, as a C function called by mlua sees it.
fn main_state(lua: &mlua::Lua) -> mlua::Result<*mut lua_State> {
    thread_local! {
        static SEEN: Cell<*mut lua_State> = const { Cell::new(ptr::null_mut()) };
    }
    unsafe extern "C-unwind" fn seen(l: *mut lua_State) -> c_int {
        SEEN.with(|s| s.set(l));
        0
    }
    // SAFETY: `seen` only records its argument.
    let f = unsafe { lua.create_c_function(seen)? };
    f.call::<()>(())?;
    Ok(SEEN.with(|s| s.replace(ptr::null_mut())))
}

/// Sets `call`, `pcall` and `acl_check_cmd` in the `redis` table (once,
/// for every run) and makes the registry slots of a run; returns them and
/// the main state.
pub(super) fn register(
    lua: &mlua::Lua,
    redis: &mlua::Table,
    handler: &mlua::Function,
) -> mlua::Result<(*mut lua_State, Slots)> {
    // SAFETY: each is a C function that keeps the module's invariants.
    unsafe {
        redis.raw_set("call", lua.create_c_function(redis_call)?)?;
        redis.raw_set("pcall", lua.create_c_function(redis_pcall)?)?;
        redis.raw_set("acl_check_cmd", lua.create_c_function(acl_check_cmd)?)?;
    }
    // SAFETY: as above.
    let entry = unsafe { lua.create_c_function(run_entry)? };
    let slots = Slots {
        handler: lua.create_registry_value(handler)?,
        entry: lua.create_registry_value(entry)?,
        keys: lua.create_registry_value(lua.create_table()?)?,
        argv: lua.create_registry_value(lua.create_table()?)?,
        filled: Cell::new([0, 0]),
        depth: Cell::new(0),
        globals_set: Cell::new(false),
        clobbered: Cell::new(false),
    };
    Ok((main_state(lua)?, slots))
}

/// The registry field a run's result or error goes through on its way to
/// mlua (tables and errors only).
const RESULT_FIELD: &CStr = c"ferrokv.run.result";

impl Core {
    /// Runs a script's (or, `function`, a library function's) function,
    /// stored in registry slot `func`, with these KEYS and ARGV; writes its
    /// reply (or error, named after `name`) through `host`. Returns the
    /// errors the reply holds (for the error statistics).
    pub fn run<'a>(
        &self,
        host: &mut dyn Host,
        func: &RegistryKey,
        name: &str,
        keys: impl Iterator<Item = &'a [u8]>,
        argv: impl Iterator<Item = &'a [u8]>,
        function: bool,
    ) -> mlua::Result<Vec<convert::Written>> {
        let mut bufs = self.bufs.take();
        bufs.data.clear();
        bufs.spans.clear();
        for k in keys {
            bufs.spans.push((bufs.data.len(), bufs.data.len() + k.len()));
            bufs.data.extend_from_slice(k);
        }
        let nkeys = bufs.spans.len();
        for a in argv {
            bufs.spans.push((bufs.data.len(), bufs.data.len() + a.len()));
            bufs.data.extend_from_slice(a);
        }
        let slots = &self.slots;
        let depth = slots.depth.get();
        slots.depth.set(depth + 1);
        let mut running = Running {
            host: host as *mut (dyn Host + '_),
            vars: &self.vars,
            bufs,
            panic: None,
            nkeys,
            function,
            reuse: depth == 0,
            keys_ref: slots.keys.id(),
            argv_ref: slots.argv.id(),
            filled: slots.filled.get(),
            globals_set: slots.globals_set.get(),
        };
        let l = self.state;
        // SAFETY: `l` is the main state of `self.lua`, alive as long as
        // self; the stack is left as found. The run slot points at
        // `running` only while lua_pcall runs.
        let status = unsafe {
            let base = ffi::lua_gettop(l);
            if ffi::lua_checkstack(l, 4) == 0 {
                slots.depth.set(depth);
                self.bufs.set(running.bufs);
                return Err(mlua::Error::runtime("Lua stack is full"));
            }
            ffi::lua_rawgeti_(l, ffi::LUA_REGISTRYINDEX, slots.handler.id());
            ffi::lua_rawgeti_(l, ffi::LUA_REGISTRYINDEX, slots.entry.id());
            // One pointer for the entry function and the run slot; the
            // run is not touched through `running` until lua_pcall is done.
            let rp: *mut Running<'_> = &mut running;
            ffi::lua_pushlightuserdata(l, rp.cast::<c_void>());
            ffi::lua_rawgeti_(l, ffi::LUA_REGISTRYINDEX, func.id());
            let status = with_running(rp, || ffi::lua_pcall(l, 2, 1, base + 1));
            (status, base)
        };
        slots.depth.set(depth);
        if running.reuse {
            slots.filled.set(running.filled);
        }
        if running.reuse {
            let clobbered = slots.clobbered.replace(false);
            slots.globals_set.set(running.globals_set && !clobbered);
        } else if !running.function {
            // A run inside a run set the globals to its own tables.
            slots.clobbered.set(true);
            slots.globals_set.set(false);
        }
        let (status, base) = status;
        let resp3 = self.vars.resp.get() == 3;
        let written = if running.panic.is_some() {
            Ok(Vec::new())
        } else {
            let mut out = host.reply();
            // SAFETY: the result (or error) is at the top of the stack.
            unsafe { self.write_result(l, status, &mut out, resp3, name) }
        };
        // SAFETY: drops the result and the handler.
        unsafe { ffi::lua_settop(l, base) };
        let mut bufs = running.bufs;
        for b in [&mut bufs.data, &mut bufs.reply, &mut bufs.err] {
            if b.capacity() > KEEP_BYTES {
                *b = Vec::new();
            }
        }
        if bufs.spans.capacity() > KEEP_BYTES / 16 {
            bufs.spans = Vec::new();
        }
        self.bufs.set(bufs);
        if let Some(panic) = running.panic {
            resume_unwind(panic);
        }
        written
    }

    /// Writes the value at the top of the stack as the run's reply: its
    /// return value (`status` 0) or its error.
    ///
    /// # Safety
    /// The value is at the top of `l`'s stack; the stack is left as found.
    unsafe fn write_result(
        &self,
        l: *mut lua_State,
        status: c_int,
        out: &mut Reply<'_>,
        resp3: bool,
        name: &str,
    ) -> mlua::Result<Vec<convert::Written>> {
        unsafe {
            if status == 0 {
                match ffi::lua_type(l, -1) {
                    ffi::LUA_TNUMBER => out.int(convert::number_to_int(ffi::lua_tonumber(l, -1))),
                    ffi::LUA_TSTRING => {
                        let mut len = 0usize;
                        let p = ffi::lua_tolstring(l, -1, &mut len);
                        out.bulk(std::slice::from_raw_parts(p as *const u8, len));
                    }
                    ffi::LUA_TBOOLEAN if resp3 => out.boolean(ffi::lua_toboolean(l, -1) != 0),
                    ffi::LUA_TBOOLEAN if ffi::lua_toboolean(l, -1) != 0 => out.int(1),
                    ffi::LUA_TTABLE => {
                        let v = self.take_top(l)?;
                        return Ok(convert::write_value(out, v, resp3));
                    }
                    _ => out.null(),
                }
                return Ok(Vec::new());
            }
            // An error: the error handler's table, or a string when the
            // handler could not run (Redis's "execution failure" path).
            if ffi::lua_type(l, -1) == ffi::LUA_TTABLE {
                let v = self.take_top(l)?;
                return Ok(vec![super::write_raised(out, v, name)]);
            }
            let mut len = 0usize;
            let p = ffi::lua_tolstring(l, -1, &mut len);
            let msg = if p.is_null() {
                "execution failure".to_string()
            } else {
                String::from_utf8_lossy(std::slice::from_raw_parts(p as *const u8, len.min(100))).into_owned()
            };
            let text = format!("ERR Error running script {name}, {msg}").replace(['\r', '\n'], " ");
            out.error(&text);
            Ok(vec![convert::Written { text, counted_already: false }])
        }
    }

    /// The value at the top of the stack, popped, as an mlua value
    /// (through a registry field: mlua's public API).
    ///
    /// # Safety
    /// A value is at the top of `l`'s stack.
    unsafe fn take_top(&self, l: *mut lua_State) -> mlua::Result<LuaValue> {
        unsafe { ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, RESULT_FIELD.as_ptr()) };
        let key = RESULT_FIELD.to_str().unwrap_or_default();
        let v = self.lua.named_registry_value::<LuaValue>(key);
        self.lua.unset_named_registry_value(key)?;
        v
    }
}
