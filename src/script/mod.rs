//! Lua scripting: two Lua 5.1 states (mlua, vendored) owned by the event
//! loop's thread, one for EVAL scripts and one for function libraries, as
//! Redis 7.0 keeps them, each with Redis's environment (see
//! `prelude.lua`); the script cache of EVAL/SCRIPT LOAD, the libraries and
//! the run of one script.
//!
//! The states live in a thread-local: the loop's thread makes them on first
//! use and is the only one to touch them (mlua's `Lua` is not `Send`, and the
//! server is built on one thread and run on another). A run (see `run.rs`)
//! reaches the caller's command context for `redis.call` through a
//! [`run::Host`] it is given for the length of the run; `redis.call`,
//! `redis.pcall` and `redis.acl_check_cmd` are registered once with each
//! state, and the commands a script calls go through the one dispatcher
//! (`cmd::script::call_from_script`).
//!
//! Invariants: nothing a script does outlives it (the global table and the
//! library tables are read-only); time is frozen for the whole run (the
//! caller's `now` is every inner command's `now`).

pub mod busy;
pub mod convert;
pub mod lib;
pub mod run;

pub use run::Host;

use hashbrown::HashMap;
use mlua::{Function, Lua, LuaOptions, MultiValue, RegistryKey, StdLib, Table, Value as LuaValue};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

/// Shebang flags (`#!lua flags=...`), as Redis names them.
pub mod flags {
    pub const NO_WRITES: u32 = 1 << 0;
    pub const ALLOW_OOM: u32 = 1 << 1;
    pub const ALLOW_STALE: u32 = 1 << 2;
    pub const NO_CLUSTER: u32 = 1 << 3;
    pub const ALLOW_CROSS_SLOT: u32 = 1 << 4;
    /// No shebang: a script as before Redis 7.0 (no flag rules apply).
    pub const EVAL_COMPAT: u32 = 1 << 8;

    pub const NAMES: &[(u32, &str)] = &[
        (NO_WRITES, "no-writes"),
        (ALLOW_OOM, "allow-oom"),
        (ALLOW_STALE, "allow-stale"),
        (NO_CLUSTER, "no-cluster"),
        (ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
    ];
}

/// The shebang of an EVAL script (Redis's `evalExtractShebangFlags`): its
/// flags and the length of the shebang line (the body compiled starts at
/// the line feed that ends it, so line numbers stay the user's).
pub fn parse_shebang(body: &[u8]) -> Result<(u32, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((flags::EVAL_COMPAT, 0));
    }
    let Some(end) = memchr::memchr(b'\n', body) else {
        return Err("ERR Invalid script shebang".into());
    };
    let parts = shebang_parts(&body[..end]);
    let mut parts = parts.iter().map(|p| p.as_str());
    let Some(engine) = parts.next() else {
        return Err("ERR Invalid engine in script shebang".into());
    };
    if engine != "#!lua" {
        return Err(format!("ERR Unexpected engine in script shebang: {engine}"));
    }
    let mut out = 0;
    for part in parts {
        let Some(list) = part.strip_prefix("flags=") else {
            return Err(format!("ERR Unknown lua shebang option: {part}"));
        };
        // `flags=` alone names no flag (Redis splits an empty list into
        // none); an empty name inside a list is an unknown flag.
        for f in list.split(',').filter(|_| !list.is_empty()) {
            match flags::NAMES.iter().find(|(_, n)| *n == f) {
                Some((bit, _)) => out |= bit,
                None => return Err(format!("ERR Unexpected flag in script shebang: {f}")),
            }
        }
    }
    Ok((out, end))
}

/// An error a Rust function of the `redis` API raises: Redis raises an
/// error table (`{err=...}`), which mlua cannot raise from Rust, so this
/// travels as the error and the error handler (or the script's pcall)
/// turns it into the table.
#[derive(Debug, Clone)]
pub struct Raised {
    /// `CODE message`.
    pub text: Vec<u8>,
    /// The error was counted in the error statistics already (the reply
    /// of a command the script called).
    pub counted: bool,
}

impl std::fmt::Display for Raised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.text))
    }
}

impl std::error::Error for Raised {}

/// Raises `{err="ERR <msg>"}` from a Rust function.
pub fn raise<T>(msg: &str) -> mlua::Result<T> {
    Err(mlua::Error::external(Raised { text: format!("ERR {msg}").into_bytes(), counted: false }))
}

/// The [`Raised`] inside an error mlua hands back, if it is one.
pub fn raised_of(e: &mlua::Error) -> Option<&Raised> {
    match e {
        mlua::Error::CallbackError { cause, .. } => raised_of(cause),
        mlua::Error::ExternalError(ext) => ext.downcast_ref::<Raised>(),
        _ => None,
    }
}

/// The error table of a raised error (what Redis's scripts see).
pub fn raised_table(lua: &Lua, r: &Raised) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("err", lua.create_string(&r.text)?)?;
    if r.counted {
        t.raw_set("ignore_error_stats_update", true)?;
    }
    Ok(t)
}

/// One cached script (EVAL, SCRIPT LOAD). Its body is not kept: nothing
/// reads it once compiled (effects, not scripts, are propagated), and it
/// would be most of what the cache holds outside the Lua state.
pub struct Script {
    pub flags: u32,
    /// The compiled function, held in the Lua registry: an mlua `Function`
    /// held in Rust takes a slot of mlua's auxiliary stack, which has
    /// fewer than 8,000 (Lua's LUAI_MAXCSTACK), and a cache holds more.
    pub func: Rc<RegistryKey>,
}

/// State a run changes through the `redis` API and the engine reads back:
/// shared with the Rust helpers of the prelude.
#[derive(Default)]
pub struct RunVars {
    /// `redis.setresp`: 2 or 3.
    pub resp: Cell<u8>,
    /// `redis.set_repl`: REPL_* bits.
    pub repl: Cell<u8>,
    /// The rand48 state of `math.random`.
    pub rand: Cell<u64>,
    /// Functions registered by the library FUNCTION LOAD is running.
    pub registered: RefCell<Vec<Func>>,
    /// FUNCTION LOAD is running a library's code (`register_function`
    /// works only then).
    pub loading: Cell<bool>,
}

/// The Lua state and the handles a run needs (shared through an `Rc`: a
/// run takes it out of the thread-local, so a command a script calls may
/// look at the engine, e.g. INFO).
pub struct Core {
    pub lua: Lua,
    /// The main state of `lua`, for the C API (valid as long as `lua`).
    state: *mut mlua::ffi::lua_State,
    /// The table scripts see as their globals.
    pub env: Table,
    /// The real `redis` table.
    pub redis: Table,
    /// The global table of functions' libraries (see `prelude.lua`).
    fenv: Table,
    /// Switches `fenv` to the loading API (true) and back.
    set_loading: Function,
    /// `xpcall(f, handler)` for a library's code as it loads.
    runner: Function,
    handler: Function,
    /// The registry slots of a run.
    slots: run::Slots,
    /// The buffers of a run, kept between runs.
    bufs: Cell<run::CallBufs>,
    pub vars: Rc<RunVars>,
}

/// The Lua states, the script cache and the function libraries.
pub struct Engine {
    /// The state EVAL scripts run in.
    pub core: Rc<Core>,
    /// The state function libraries load and run in.
    pub fcore: Rc<Core>,
    /// The script cache, by SHA1 (20 bytes, not the 40 of its hex).
    pub scripts: HashMap<Sha, Script>,
    /// Function libraries (FUNCTION LOAD), in load order; changed only by
    /// [`Engine::load_library`] and [`Engine::edit_libraries`], which
    /// keep `functions` right.
    libraries: Vec<Library>,
    /// Every library's functions by name (Redis's `functions` dict): what
    /// FCALL looks up, without walking the libraries.
    functions: HashMap<Box<[u8]>, Callable>,
}

/// What FCALL needs of a function: shared, so a call copies no name.
#[derive(Clone)]
pub struct Callable {
    pub name: Rc<str>,
    pub callback: Rc<RegistryKey>,
    pub flags: u32,
}

/// A function's entry in the by-name index.
/// A function's entry in the by-name index, whose keys are lower case:
/// FCALL finds a function whatever the case of its name, and two names
/// that differ only in case collide (Redis 7.0's `functions` dict compares
/// names without case; a library's own list keeps them as registered).
fn index_entry(f: &Func) -> (Box<[u8]>, Callable) {
    let call = Callable { name: f.name.as_str().into(), callback: f.callback.clone(), flags: f.flags };
    (f.name.to_ascii_lowercase().into_bytes().into(), call)
}

/// A function library.
pub struct Library {
    pub name: String,
    pub code: Box<[u8]>,
    pub functions: Vec<Func>,
}

/// A function a library registered.
#[derive(Clone)]
pub struct Func {
    pub name: String,
    /// In the Lua registry, as a cached script's function is.
    pub callback: Rc<RegistryKey>,
    pub flags: u32,
    pub description: Option<Vec<u8>>,
}

/// Redis's rand48 (`redisLrand48`): the same sequence as redis-server's
/// `math.random`.
fn rand48_next(state: &Cell<u64>) -> i32 {
    let x = state.get().wrapping_mul(0x5_DEEC_E66D).wrapping_add(0xB) & ((1 << 48) - 1);
    state.set(x);
    (x >> 17) as i32
}

/// rand48's state before any seed (Redis never seeds it at start).
const RAND48_START: u64 = 0x1234_ABCD_330E;

/// The state `redisSrand48(seed)` leaves.
fn rand48_seed(seed: i32) -> u64 {
    (((seed as u32 as u64) & 0xffff_ffff) << 16) | 0x330E
}

/// Lowercase hex SHA1 of `data`.
pub fn sha1hex(data: &[u8]) -> String {
    sha1_smol::Sha1::from(data).digest().to_string()
}

/// A script's SHA1, the script cache's key.
pub type Sha = [u8; 20];

/// The SHA1 a 40-character hex text names, in either case (Redis looks
/// scripts up case-insensitively); `None` for any other text.
pub fn sha_of_hex(hex: &[u8]) -> Option<Sha> {
    if hex.len() != 40 {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; 20];
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        *o = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(out)
}

/// The lowercase hex of a SHA1.
pub fn sha_hex(sha: &Sha) -> String {
    sha.iter().map(|b| format!("{b:02x}")).collect()
}

/// The text of a Lua value as Lua's `tostring` would give it for strings
/// and numbers (what the redis API accepts as a string).
pub fn lua_bytes(v: &LuaValue) -> Option<Vec<u8>> {
    match v {
        LuaValue::String(s) => Some(s.as_bytes().to_vec()),
        // Lua 5.1's numbers are doubles: mlua hands integral ones over as
        // integers, printed as Lua prints any number.
        LuaValue::Integer(n) => Some(lua_number_text(*n as f64).into_bytes()),
        LuaValue::Number(n) => Some(lua_number_text(*n).into_bytes()),
        _ => None,
    }
}

/// A number as Lua 5.1 prints it (`%.14g`).
pub fn lua_number_text(n: f64) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan".into() } else { "nan".into() };
    }
    if n.is_infinite() {
        return if n > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if n == 0.0 && n.is_sign_negative() {
        return "-0".into();
    }
    // Up to 14 digits an integer prints whole; from 1e14 on, %.14g
    // writes an exponent.
    if n == n.trunc() && n.abs() < 1e14 {
        return format!("{}", n as i64);
    }
    g_format(n, 14)
}

/// C's `%.<prec>g`.
pub fn g_format(n: f64, prec: usize) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan".into() } else { "nan".into() };
    }
    if n.is_infinite() {
        return if n > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if n == 0.0 {
        return if n.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let sci = format!("{:.*e}", prec - 1, n);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let mant = trim_zeros(mant);
        format!("{mant}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        trim_zeros(&format!("{:.*}", decimals, n)).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { s }
}

const PRELUDE: &str = include_str!("prelude.lua");

/// The chunk name of the prelude: frames from it are never "where the
/// error happened".
const INTERNAL: &str = "=ferrokv";

impl Engine {
    /// Two fresh Lua states with Redis's environment, one for EVAL scripts
    /// and one for function libraries, as Redis keeps them (INFO reports
    /// each one's memory; SCRIPT FLUSH and FUNCTION FLUSH each empty their
    /// own). They share the run's variables: one run at a time, and one
    /// `math.random` sequence, as Redis's one rand48.
    pub fn new() -> mlua::Result<Engine> {
        let vars = Rc::new(RunVars {
            resp: Cell::new(2),
            repl: Cell::new(3),
            rand: Cell::new(RAND48_START),
            registered: RefCell::new(Vec::new()),
            loading: Cell::new(false),
        });
        Ok(Engine {
            core: Rc::new(Core::new(vars.clone())?),
            fcore: Rc::new(Core::new(vars)?),
            scripts: HashMap::new(),
            libraries: Vec::new(),
            functions: HashMap::new(),
        })
    }
}

impl Core {
    /// A fresh Lua state with Redis's environment (the `redis` API, the
    /// scripts' globals and the libraries' loading API).
    fn new(vars: Rc<RunVars>) -> mlua::Result<Core> {
        let lua = Lua::new_with(StdLib::STRING | StdLib::TABLE | StdLib::MATH, LuaOptions::default())?;
        lib::open_all(&lua)?;
        busy::install(&lua)?;
        let globals = lua.globals();
        let rust = lua.create_table()?;
        let v = vars.clone();
        rust.raw_set(
            "random",
            lua.create_function(move |lua, args: MultiValue| {
                // Redis's math_random over redisLrand48; errors worded as
                // luaL_argerror words them.
                let at = where_(lua);
                let r = (rand48_next(&v.rand) % i32::MAX) as f64 / i32::MAX as f64;
                let num = |i: usize| match args.get(i) {
                    Some(LuaValue::Integer(n)) => Ok(*n as f64),
                    Some(LuaValue::Number(n)) => Ok(*n),
                    Some(LuaValue::String(s)) => {
                        s.to_str().ok().and_then(|s| s.trim().parse::<f64>().ok()).ok_or_else(|| {
                            mlua::Error::runtime(format!(
                                "{at}bad argument #{} to 'random' (number expected, got string)",
                                i + 1
                            ))
                        })
                    }
                    other => Err(mlua::Error::runtime(format!(
                        "{at}bad argument #{} to 'random' (number expected, got {})",
                        i + 1,
                        other.map_or("no value", |o| o.type_name())
                    ))),
                };
                match args.len() {
                    0 => Ok(LuaValue::Number(r)),
                    1 => {
                        let u = num(0)?.trunc();
                        if u < 1.0 {
                            return Err(mlua::Error::runtime(format!(
                                "{at}bad argument #1 to 'random' (interval is empty)"
                            )));
                        }
                        Ok(LuaValue::Number((r * u).floor() + 1.0))
                    }
                    2 => {
                        let (l, u) = (num(0)?.trunc(), num(1)?.trunc());
                        if l > u {
                            return Err(mlua::Error::runtime(format!(
                                "{at}bad argument #2 to 'random' (interval is empty)"
                            )));
                        }
                        Ok(LuaValue::Number((r * (u - l + 1.0)).floor() + l))
                    }
                    _ => Err(mlua::Error::runtime(format!("{at}wrong number of arguments"))),
                }
            })?,
        )?;
        let v = vars.clone();
        rust.raw_set(
            "randomseed",
            lua.create_function(move |_, seed: f64| {
                v.rand.set(rand48_seed(seed as i64 as i32));
                Ok(())
            })?,
        )?;
        let v = vars.clone();
        rust.raw_set(
            "setresp",
            lua.create_function(move |_, args: MultiValue| {
                if args.len() != 1 {
                    return raise("redis.setresp() requires one argument.");
                }
                let n = match &args[0] {
                    LuaValue::Integer(n) => *n as f64,
                    LuaValue::Number(n) => *n,
                    LuaValue::String(s) => s.to_str().ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0.0),
                    _ => 0.0,
                };
                if n != 2.0 && n != 3.0 {
                    return raise("RESP version must be 2 or 3.");
                }
                v.resp.set(n as u8);
                Ok(())
            })?,
        )?;
        let v = vars.clone();
        rust.raw_set(
            "set_repl",
            lua.create_function(move |_, args: MultiValue| {
                if args.len() != 1 {
                    return raise("redis.set_repl() requires two arguments.");
                }
                let n = match &args[0] {
                    LuaValue::Integer(n) => *n,
                    LuaValue::Number(n) => *n as i64,
                    _ => -1,
                };
                if !(0..=3).contains(&n) {
                    return raise("Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
                }
                v.repl.set(n as u8);
                Ok(())
            })?,
        )?;
        rust.raw_set(
            "log",
            lua.create_function(|_, args: MultiValue| {
                if args.len() < 2 {
                    return raise("redis.log() requires two arguments or more.");
                }
                let level = match &args[0] {
                    LuaValue::Integer(n) => *n,
                    LuaValue::Number(n) => *n as i64,
                    _ => return raise("First argument must be a number (log level)."),
                };
                if !(0..=3).contains(&level) {
                    return raise("Invalid debug level.");
                }
                let parts: Vec<String> = args
                    .iter()
                    .skip(1)
                    .filter_map(lua_bytes)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .collect();
                let msg = parts.join(" ");
                match level {
                    0 => log::debug!("{msg}"),
                    1 => log::debug!("{msg}"),
                    2 => log::info!("{msg}"),
                    _ => log::warn!("{msg}"),
                }
                Ok(())
            })?,
        )?;
        rust.raw_set(
            "sha1hex",
            lua.create_function(|_, args: MultiValue| {
                if args.len() != 1 {
                    return raise("wrong number of arguments");
                }
                Ok(sha1hex(&lua_bytes(&args[0]).unwrap_or_default()))
            })?,
        )?;
        rust.raw_set(
            "unwrap_error",
            lua.create_function(|lua, v: LuaValue| match &v {
                LuaValue::Error(e) => match raised_of(e) {
                    Some(r) => Ok(LuaValue::Table(raised_table(lua, r)?)),
                    None => Ok(LuaValue::String(lua.create_string(root_message(e))?)),
                },
                _ => Ok(v),
            })?,
        )?;
        rust.raw_set("version", crate::REDIS_VERSION)?;
        rust.raw_set("version_num", version_num(crate::REDIS_VERSION))?;
        let handler = lua.create_function(error_handler)?;
        rust.raw_set("error_handler", handler.clone())?;
        let v = vars.clone();
        rust.raw_set(
            "register_function",
            lua.create_function(move |lua, args: MultiValue| register_function(lua, &v, args))?,
        )?;
        let (env, redis, fenv, set_loading): (Table, Table, Table, Function) =
            lua.load(PRELUDE).set_name(INTERNAL).call((globals, rust))?;
        let runner: Function = lua
            .load(
                "local xpcall, select, unpack = xpcall, select, unpack \
                 return function(f, h, ...) \
                   local n, a = select('#', ...), {...} \
                   return xpcall(function() return f(unpack(a, 1, n)) end, h) \
                 end",
            )
            .set_name(INTERNAL)
            .call(())?;
        let (state, slots) = run::register(&lua, &redis, &handler)?;
        // What building the environment left behind: a fresh state reports
        // only what it holds.
        lua.gc_collect()?;
        Ok(Core {
            lua,
            state,
            env,
            redis,
            fenv,
            set_loading,
            runner,
            handler,
            slots,
            bufs: Cell::new(run::CallBufs::default()),
            vars,
        })
    }
}

impl Engine {
    /// Caches `body` under its SHA1 (compiling it once); returns the SHA1.
    pub fn load(&mut self, body: &[u8]) -> Result<Sha, String> {
        let sha = sha1_smol::Sha1::from(body).digest().bytes();
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, shebang_len) = parse_shebang(body)?;
        let func = self.core.compile(body, shebang_len)?;
        let func = self.core.lua.create_registry_value(func).map_err(|e| format!("ERR {e}"))?;
        self.scripts.insert(sha, Script { flags, func: Rc::new(func) });
        Ok(sha)
    }

    /// SCRIPT FLUSH: forgets every script (function libraries stay) and
    /// collects what they held.
    pub fn flush(&mut self) -> mlua::Result<()> {
        self.scripts = HashMap::new();
        // The registry's slots of the dropped keys are emptied now, not
        // when they are reused, so the collection frees the functions.
        self.core.lua.expire_registry_values();
        self.core.lua.gc_collect()
    }

    /// The function named `name`.
    /// (Names are looked up in lower case, copied on the stack: FCALL
    /// does not allocate for it.)
    pub fn function(&self, name: &[u8]) -> Option<&Callable> {
        let mut lower: smallvec::SmallVec<[u8; 64]> = smallvec::SmallVec::from_slice(name);
        lower.make_ascii_lowercase();
        self.functions.get(&lower[..])
    }

    /// The function libraries, in load order.
    pub fn libraries(&self) -> &[Library] {
        &self.libraries
    }

    /// Changes the libraries with `f`; the by-name index is built anew
    /// (FUNCTION DELETE, FLUSH, RESTORE: `load_library` keeps it up to
    /// date itself, so loading many libraries stays linear).
    pub fn edit_libraries<R>(&mut self, f: impl FnOnce(&mut Vec<Library>) -> R) -> R {
        let r = f(&mut self.libraries);
        self.functions = self.libraries.iter().flat_map(|l| l.functions.iter()).map(index_entry).collect();
        r
    }

    /// FUNCTION LOAD: runs the library's code, which registers its
    /// functions; returns the library's name, or Redis's error text.
    /// `timeout`: FUNCTION LOAD's limit on the code's run (see
    /// [`busy::LOAD_TIMEOUT`]).
    pub fn load_library(&mut self, code: &[u8], replace: bool, timeout: Option<Duration>) -> Result<String, String> {
        let (name, shebang_len) = parse_library_shebang(code)?;
        let existing = self.libraries.iter().position(|l| l.name == name);
        if existing.is_some() && !replace {
            return Err(format!("ERR Library '{name}' already exists"));
        }
        let core = &self.fcore;
        let f = core
            .lua
            .load(&code[shebang_len..])
            .set_name("@user_function")
            .set_environment(core.fenv.clone())
            .into_function()
            .map_err(|e| {
                let msg = match &e {
                    mlua::Error::SyntaxError { message, .. } => message.clone(),
                    other => other.to_string(),
                };
                format!("ERR Error compiling function: {msg}")
            })?;
        // While the code runs, its globals are the loading API alone.
        core.set_loading.call::<()>(true).map_err(|e| e.to_string())?;
        core.vars.loading.set(true);
        core.vars.registered.borrow_mut().clear();
        let deadline = busy::load_deadline(timeout);
        let ran = core.call_protected(&f, MultiValue::new());
        drop(deadline);
        core.vars.loading.set(false);
        core.set_loading.call::<()>(false).map_err(|e| e.to_string())?;
        let functions = std::mem::take(&mut *core.vars.registered.borrow_mut());
        match ran {
            Err(e) => return Err(format!("ERR Error registering functions: {e}")),
            Ok(Err(LuaValue::Table(t))) => {
                let msg = t.raw_get::<LuaValue>("err").ok().and_then(|v| lua_bytes(&v)).unwrap_or_default();
                return Err(format!("ERR Error registering functions: {}", String::from_utf8_lossy(&msg)));
            }
            Ok(Err(_)) => return Err("ERR Error registering functions: ERR execution failure".into()),
            Ok(Ok(_)) => {}
        }
        if functions.is_empty() {
            return Err("ERR No functions registered".into());
        }
        let replaced = existing.map(|i| &self.libraries[i]);
        for (i, f) in functions.iter().enumerate() {
            let same = |g: &Func| g.name.eq_ignore_ascii_case(&f.name);
            let own = replaced.is_some_and(|l| l.functions.iter().any(same));
            let taken = !own && self.functions.contains_key(f.name.to_ascii_lowercase().as_bytes());
            if taken || functions[..i].iter().any(same) {
                return Err(format!("ERR Function {} already exists", f.name));
            }
        }
        self.functions.extend(functions.iter().map(index_entry));
        let lib = Library { name: name.clone(), code: code.into(), functions };
        match existing {
            Some(i) => {
                let old = std::mem::replace(&mut self.libraries[i], lib);
                for f in &old.functions {
                    if !self.libraries[i].functions.iter().any(|g| g.name.eq_ignore_ascii_case(&f.name)) {
                        self.functions.remove(f.name.to_ascii_lowercase().as_bytes());
                    }
                }
            }
            None => self.libraries.push(lib),
        }
        Ok(name)
    }

    /// Bytes the scripts' Lua state uses (INFO used_memory_lua).
    pub fn memory(&self) -> usize {
        self.core.lua.used_memory()
    }

    /// Bytes the libraries' Lua state uses (INFO used_memory_vm_functions).
    pub fn functions_vm_memory(&self) -> usize {
        self.fcore.lua.used_memory()
    }

    /// Bytes the function libraries hold outside the Lua state (INFO
    /// used_memory_functions): each library's name and code, each
    /// function's name and description, the vectors that hold them and
    /// the index by name.
    pub fn functions_memory(&self) -> u64 {
        let lib = |l: &Library| {
            l.name.capacity()
                + l.code.len()
                + l.functions.capacity() * std::mem::size_of::<Func>()
                + l.functions
                    .iter()
                    .map(|f| f.name.capacity() + f.description.as_ref().map_or(0, |d| d.capacity()))
                    .sum::<usize>()
        };
        // The by-name index: its slots, each key's bytes, each shared
        // name's block (two counts and the bytes).
        let index = self.functions.capacity() * std::mem::size_of::<(Box<[u8]>, Callable)>()
            + self.functions.iter().map(|(k, c)| k.len() + 16 + c.name.len()).sum::<usize>();
        let total = self.libraries.capacity() * std::mem::size_of::<Library>()
            + self.libraries.iter().map(lib).sum::<usize>()
            + index;
        total as u64
    }
}

impl Core {
    /// Compiles `body` (after its shebang of `shebang_len` bytes) as a
    /// script function; the error is Redis's text.
    pub fn compile(&self, body: &[u8], shebang_len: usize) -> Result<Function, String> {
        self.lua
            .load(&body[shebang_len..])
            .set_name("@user_script")
            .set_environment(self.env.clone())
            .into_function()
            .map_err(|e| {
                let msg = match &e {
                    mlua::Error::SyntaxError { message, .. } => message.clone(),
                    other => other.to_string(),
                };
                format!("ERR Error compiling script (new function): {msg}")
            })
    }

    /// Runs `f(args)` under Redis's error handler: `Ok(values)` when it
    /// returned, `Err(error table)` when it raised.
    pub fn call_protected(&self, f: &Function, args: MultiValue) -> mlua::Result<Result<MultiValue, LuaValue>> {
        let mut all = MultiValue::new();
        all.push_back(LuaValue::Function(f.clone()));
        all.push_back(LuaValue::Function(self.handler.clone()));
        all.extend(args);
        let mut out: MultiValue = self.runner.call(all)?;
        let ok = matches!(out.pop_front(), Some(LuaValue::Boolean(true)));
        if ok { Ok(Ok(out)) } else { Ok(Err(out.pop_front().unwrap_or(LuaValue::Nil))) }
    }
}

/// `7.0.15` as Redis's REDIS_VERSION_NUM (0x00070015 read as decimal
/// digits per byte: major << 16 | minor << 8 | patch).
fn version_num(v: &str) -> i64 {
    let mut parts = v.split('.').map(|p| p.parse::<i64>().unwrap_or(0));
    let (a, b, c) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (a << 16) | (b << 8) | c
}

/// Redis's `__redis__err__handler`: turns what a script raised into an
/// error table `{err=..., source=..., line=...}` naming where it happened
/// (the innermost frame of user code: neither C nor the prelude).
fn error_handler(lua: &Lua, err: LuaValue) -> mlua::Result<Table> {
    let t = match err {
        LuaValue::Table(t) => t,
        LuaValue::Error(e) if raised_of(&e).is_some() => match raised_of(&e) {
            Some(r) => raised_table(lua, r)?,
            None => lua.create_table()?,
        },
        other => {
            let text = match &other {
                LuaValue::String(s) => s.as_bytes().to_vec(),
                // A Rust function's error: its message (the functions
                // that raise put where the script called them in it, as
                // luaL_error does).
                LuaValue::Error(e) => root_message(e).into_bytes(),
                LuaValue::Nil => b"nil".to_vec(),
                LuaValue::Boolean(b) => b.to_string().into_bytes(),
                v => lua_bytes(v).unwrap_or_else(|| format!("{}: {:p}", v.type_name(), v.to_pointer()).into_bytes()),
            };
            let t = lua.create_table()?;
            let mut msg = b"ERR ".to_vec();
            msg.extend_from_slice(&text);
            t.raw_set("err", lua.create_string(&msg)?)?;
            t
        }
    };
    for level in 1..64 {
        let frame = lua.inspect_stack(level, |d| {
            let s = d.source();
            (s.what, s.source.map(|c| c.into_owned()), d.current_line())
        });
        let Some((what, source, line)) = frame else { break };
        if what == "C" || source.as_deref() == Some(INTERNAL) {
            continue;
        }
        if let Some(source) = source {
            t.raw_set("source", source)?;
        }
        if let Some(line) = line {
            t.raw_set("line", line)?;
        }
        break;
    }
    Ok(t)
}

/// The reply to a run that raised `e` (an error table from the error
/// handler): the message, then where it happened, as Redis's
/// `luaCallFunction` writes it (`script: <name>, on <source>:<line>.`).
pub fn write_raised(out: &mut crate::resp::Reply, e: LuaValue, name: &str) -> convert::Written {
    let mut text = String::from("ERR Error running script");
    let mut counted_already = false;
    if let LuaValue::Table(t) = &e {
        // A number counts as a string here (Lua's lua_isstring), written
        // as Lua prints it.
        text = match t.raw_get::<LuaValue>("err").ok().as_ref().and_then(lua_bytes) {
            Some(s) => String::from_utf8_lossy(&s).into_owned(),
            None => "ERR Error running script (the error raised is a table without an 'err' field)".into(),
        };
        counted_already = matches!(t.raw_get::<LuaValue>("ignore_error_stats_update"), Ok(LuaValue::Boolean(true)));
        let source = t.raw_get::<LuaValue>("source").ok().and_then(|v| lua_bytes(&v));
        let line = t.raw_get::<LuaValue>("line").ok().and_then(|v| lua_bytes(&v));
        if let (Some(source), Some(line)) = (source, line) {
            text.push_str(&format!(
                " script: {name}, on {}:{}.",
                String::from_utf8_lossy(&source),
                String::from_utf8_lossy(&line)
            ));
        }
    }
    let text = text.replace(['\r', '\n'], " ");
    out.error(&text);
    convert::Written { text, counted_already }
}

/// The message of an mlua error without its wrapping and traceback.
fn root_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { cause, .. } => root_message(cause),
        mlua::Error::RuntimeError(m) => m.clone(),
        other => other.to_string(),
    }
}

/// `short_src:line: ` of the innermost frame of user code (Lua's
/// `luaL_where`), empty when there is none.
fn where_(lua: &Lua) -> String {
    for level in 1..64 {
        let frame = lua.inspect_stack(level, |d| {
            let s = d.source();
            (s.what, s.source.map(|c| c.into_owned()), s.short_src.map(|c| c.into_owned()), d.current_line())
        });
        let Some((what, source, short, line)) = frame else { break };
        if what == "C" || source.as_deref() == Some(INTERNAL) {
            continue;
        }
        if let (Some(short), Some(line)) = (short, line) {
            return format!("{short}:{line}: ");
        }
        break;
    }
    String::new()
}

/// The scripting lines of INFO memory, in Redis's order (`human` formats
/// a byte count as INFO does).
pub fn info_memory(human: impl Fn(u64) -> String) -> String {
    let (lua, fvm, scripts, n, funcs, libs, code) = with_engine(|e| {
        (
            e.memory() as u64,
            e.functions_vm_memory() as u64,
            // The table, and each script's two small allocations: its SHA1
            // hex (an `Rc<str>`) and its registry key's `Rc`.
            (e.scripts.allocation_size() + e.scripts.len() * (2 * 16 + 40 + std::mem::size_of::<RegistryKey>())) as u64,
            e.scripts.len(),
            e.functions.len(),
            e.libraries.len(),
            e.functions_memory(),
        )
    });
    // Redis's meanings: used_memory_vm_* is Lua's own count of each state
    // (scripts' and libraries'); used_memory_scripts_eval what the script
    // cache holds outside it (for Redis the SHA1 and body strings and the
    // dict, for ferrokv the table of SHA1 -> registry slot and flags);
    // used_memory_functions the same for the libraries.
    format!(
        "used_memory_lua:{lua}\r\nused_memory_vm_eval:{lua}\r\nused_memory_lua_human:{}\r\n\
         used_memory_scripts_eval:{scripts}\r\nnumber_of_cached_scripts:{n}\r\nnumber_of_functions:{funcs}\r\n\
         number_of_libraries:{libs}\r\nused_memory_vm_functions:{fvm}\r\nused_memory_vm_total:{}\r\n\
         used_memory_vm_total_human:{}\r\nused_memory_functions:{code}\r\nused_memory_scripts:{}\r\n\
         used_memory_scripts_human:{}\r\n",
        human(lua),
        lua + fvm,
        human(lua + fvm),
        scripts + code,
        human(scripts + code)
    )
}

/// Whether `name` is a valid library or function name: letters, digits
/// and underscores, at least one.
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

const BAD_NAME: &str =
    "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// The shebang of a library (`#!lua name=<lib>`): its name and the
/// shebang's length (Redis's `functionExtractLibMetaData`).
/// A shebang line's words as Redis splits them (`sdssplitargs`: quotes and
/// escapes); none when its quotes do not close.
fn shebang_parts(line: &[u8]) -> Vec<String> {
    let (mut out, mut spans) = (Vec::new(), Vec::new());
    if crate::resp::parse::split_args(line, &mut out, &mut spans).is_err() {
        return Vec::new();
    }
    spans.iter().map(|&(s, e)| String::from_utf8_lossy(&out[s..e]).into_owned()).collect()
}

fn parse_library_shebang(code: &[u8]) -> Result<(String, usize), String> {
    if !code.starts_with(b"#!") {
        return Err("ERR Missing library metadata".into());
    }
    let Some(end) = memchr::memchr(b'\n', code) else { return Err("ERR Invalid library metadata".into()) };
    let parts = shebang_parts(&code[..end]);
    let mut parts = parts.iter().map(|p| p.as_str());
    let Some(first) = parts.next() else { return Err("ERR Invalid library metadata".into()) };
    let engine = &first[first.len().min(2)..];
    let mut name = None;
    for part in parts {
        match part.get(..5) {
            Some(p) if p.eq_ignore_ascii_case("name=") => {
                if name.is_some() {
                    return Err("ERR Invalid metadata value, name argument was given multiple times".into());
                }
                name = Some(part[5..].to_string())
            }
            _ => return Err(format!("ERR Invalid metadata value given: {part}")),
        }
    }
    let Some(name) = name else { return Err("ERR Library name was not given".into()) };
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(format!("ERR Engine '{engine}' not found"));
    }
    if !valid_name(name.as_bytes()) {
        return Err(format!("ERR {BAD_NAME}"));
    }
    Ok((name, end))
}

/// `redis.register_function(name, callback)` or
/// `redis.register_function{function_name=, callback=, flags=, description=}`
/// while a library loads.
fn register_function(lua: &Lua, vars: &RunVars, args: MultiValue) -> mlua::Result<()> {
    if !vars.loading.get() {
        return raise("redis.register_function can only be called on FUNCTION LOAD command");
    }
    let (mut name, mut callback, mut flags, mut description) = (None, None, 0u32, None);
    match args.len() {
        1 => {
            let LuaValue::Table(t) = &args[0] else {
                return raise(
                    "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).",
                );
            };
            for pair in t.pairs::<LuaValue, LuaValue>() {
                let (k, v) = pair?;
                let key = match &k {
                    LuaValue::String(s) => s.to_str().map(|s| s.to_string()).unwrap_or_default(),
                    _ => return raise("named argument key given to redis.register_function is not a string"),
                };
                match (key.as_str(), v) {
                    ("function_name", LuaValue::String(s)) => name = Some(s.as_bytes().to_vec()),
                    ("function_name", _) => {
                        return raise("function_name argument given to redis.register_function must be a string");
                    }
                    ("description", LuaValue::String(s)) => description = Some(s.as_bytes().to_vec()),
                    ("description", _) => {
                        return raise("description argument given to redis.register_function must be a string");
                    }
                    ("callback", LuaValue::Function(f)) => callback = Some(f),
                    ("callback", _) => {
                        return raise("callback argument given to redis.register_function must be a function");
                    }
                    ("flags", LuaValue::Table(fl)) => {
                        for v in fl.sequence_values::<LuaValue>() {
                            let f = match v? {
                                LuaValue::String(s) => s.as_bytes().to_vec(),
                                _ => return raise("unknown flag given"),
                            };
                            match flags::NAMES.iter().find(|(_, n)| n.as_bytes() == &f[..]) {
                                Some((bit, _)) => flags |= bit,
                                None => return raise("unknown flag given"),
                            }
                        }
                    }
                    ("flags", _) => {
                        return raise(
                            "flags argument to redis.register_function must be a table representing function flags",
                        );
                    }
                    _ => return raise("unknown argument given to redis.register_function"),
                }
            }
        }
        2 => {
            match lua_bytes(&args[0]) {
                Some(s) => name = Some(s),
                None => return raise("first argument to redis.register_function must be a string"),
            }
            match &args[1] {
                LuaValue::Function(f) => callback = Some(f.clone()),
                _ => return raise("second argument to redis.register_function must be a function"),
            }
        }
        _ => return raise("wrong number of arguments to redis.register_function"),
    }
    let Some(name) = name else { return raise("redis.register_function must get a function name argument") };
    let Some(callback) = callback else { return raise("redis.register_function must get a callback argument") };
    if !valid_name(&name) {
        return raise(BAD_NAME);
    }
    let name = String::from_utf8_lossy(&name).into_owned();
    let mut registered = vars.registered.borrow_mut();
    if registered.iter().any(|f| f.name == name) {
        return raise("Function already exists in the library");
    }
    let callback = Rc::new(lua.create_registry_value(callback)?);
    registered.push(Func { name, callback, flags, description });
    Ok(())
}

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's engine if it has been made (saving or
/// emptying the libraries need not build a Lua state).
pub fn with_made_engine<R>(f: impl FnOnce(&mut Engine) -> R) -> Option<R> {
    ENGINE.with(|e| e.borrow_mut().as_mut().map(f))
}

/// Runs `f` with this thread's engine (made on first use).
pub fn with_engine<R>(f: impl FnOnce(&mut Engine) -> R) -> R {
    ENGINE.with(|e| {
        let mut e = e.borrow_mut();
        if e.is_none() {
            *e = Some(Engine::new().expect("the Lua state is created"));
        }
        f(e.as_mut().expect("just made"))
    })
}
