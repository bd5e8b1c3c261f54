//! The Lua libraries Redis 7.0 builds into its scripting engine, written in
//! Rust over the Lua 5.1 C API (through `mlua::ffi`): `cjson` (lua-cjson
//! 2.1.0), `cmsgpack` (lua-cmsgpack 0.4.0), `bit` (LuaBitOp 1.0.2) and
//! `struct` (Roberto Ierusalimschy's struct library), each as Redis's
//! `deps/lua/src/lua_*.c` behaves: same results, same error texts (argument
//! errors come from lauxlib itself, so they name the function as the caller
//! spelled it, exactly as in Redis).
//!
//! Invariant that keeps raw Lua errors sound: a Lua error unwinds with
//! `longjmp`, so no Rust frame that may be unwound by one owns a value with
//! a destructor. Growable buffers and explicit nesting stacks live inside
//! Lua userdata that Lua frees (`__gc`), never on the Rust stack; error
//! texts are formatted by `luaL_error`/`luaL_argerror` themselves. Nesting
//! (JSON, msgpack) is walked with explicit stacks, not recursion, so input
//! as deep as the Lua stack allows (about 8000 levels) cannot overflow the
//! thread's stack.

pub mod bit;
pub mod cjson;
pub mod cmsgpack;
pub mod structlib;

use mlua::ffi::{self, lua_State};
use std::ffi::{CStr, c_char, c_int};

/// A Lua C function.
pub(crate) type CFn = unsafe extern "C-unwind" fn(*mut lua_State) -> c_int;

/// Opens `cjson`, `cmsgpack`, `bit` and `struct` as globals, as Redis's
/// `luaLoadLibraries` does.
pub fn open_all(lua: &mlua::Lua) -> mlua::Result<()> {
    cjson::open(lua)?;
    cmsgpack::open(lua)?;
    bit::open(lua)?;
    structlib::open(lua)
}

/// Runs `open` (which leaves one table on the stack) in protected mode and
/// stores its table as the global `name`.
pub(crate) fn open_global(lua: &mlua::Lua, name: &'static CStr, open: unsafe fn(*mut lua_State)) -> mlua::Result<()> {
    // SAFETY: exec_raw runs the closure in protected mode on a checked stack;
    // `open` pushes exactly one table, which setglobal pops.
    unsafe {
        lua.exec_raw::<()>((), |l| {
            open(l);
            ffi::lua_setglobal(l, name.as_ptr());
        })
    }
}

/// `luaL_setfuncs`: sets each function in the table below the `nup`
/// upvalues on the top of the stack, as closures sharing those upvalues,
/// then pops the upvalues.
pub(crate) unsafe fn set_funcs(l: *mut lua_State, funcs: &[(&CStr, CFn)], nup: c_int) {
    unsafe {
        for (name, f) in funcs {
            for _ in 0..nup {
                ffi::lua_pushvalue(l, -nup);
            }
            ffi::lua_pushcclosure(l, *f, nup);
            ffi::lua_setfield(l, -(nup + 2), name.as_ptr());
        }
        ffi::lua_settop(l, -nup - 1);
    }
}

/// Pushes a byte string.
pub(crate) unsafe fn push_bytes(l: *mut lua_State, b: &[u8]) {
    unsafe { ffi::lua_pushlstring_(l, b.as_ptr() as *const c_char, b.len()) }
}

/// `luaL_checklstring` as a byte slice.
pub(crate) unsafe fn check_bytes<'a>(l: *mut lua_State, idx: c_int) -> &'a [u8] {
    let mut len = 0usize;
    unsafe {
        let p = ffi::luaL_checklstring(l, idx, &mut len);
        std::slice::from_raw_parts(p as *const u8, len)
    }
}

/// The bytes of the string (or number, converted in place) at `idx`.
pub(crate) unsafe fn to_bytes<'a>(l: *mut lua_State, idx: c_int) -> Option<&'a [u8]> {
    let mut len = 0usize;
    // SAFETY: Lua keeps the string alive while it is on the stack.
    unsafe {
        let p = ffi::lua_tolstring(l, idx, &mut len);
        if p.is_null() { None } else { Some(std::slice::from_raw_parts(p as *const u8, len)) }
    }
}

/// A `T` owned by a Lua userdata (dropped by its `__gc`), so a Lua error
/// raised while it is in use cannot leak it. Pushes the userdata and
/// returns the value, valid while the userdata is on the stack. `tname`
/// names the metatable, one per type.
pub(crate) unsafe fn new_owned<'a, T: Default>(l: *mut lua_State, tname: &CStr) -> &'a mut T {
    unsafe extern "C-unwind" fn gc<T>(l: *mut lua_State) -> c_int {
        // SAFETY: only values made by new_owned::<T> get this metatable,
        // and __gc runs once.
        unsafe {
            let p = ffi::lua_touserdata(l, 1) as *mut T;
            if !p.is_null() {
                std::ptr::drop_in_place(p);
            }
        }
        0
    }
    unsafe {
        let p = ffi::lua_newuserdata(l, std::mem::size_of::<T>()) as *mut T;
        std::ptr::write(p, T::default());
        if ffi::luaL_newmetatable_(l, tname.as_ptr()) != 0 {
            ffi::lua_pushcclosure(l, gc::<T>, 0);
            ffi::lua_setfield(l, -2, c"__gc".as_ptr());
        }
        ffi::lua_setmetatable(l, -2);
        &mut *p
    }
}

/// `luaL_checkstack`: room for `n` more values, or the error
/// `stack overflow (<msg>)`. When there is no room the stack is emptied
/// first (the error unwinds it anyway), so the error text itself has room:
/// Lua's API checks (on in debug builds) would abort otherwise.
pub(crate) unsafe fn check_stack(l: *mut lua_State, n: c_int, msg: &CStr) {
    unsafe {
        if ffi::lua_checkstack(l, n) == 0 {
            ffi::lua_settop(l, 0);
            ffi::luaL_error(l, c"stack overflow (%s)".as_ptr(), msg.as_ptr());
        }
    }
}

/// `luaL_argerror(l, narg, msg)` with a Rust message.
pub(crate) unsafe fn arg_error(l: *mut lua_State, narg: c_int, msg: &CStr) -> ! {
    unsafe {
        ffi::luaL_argerror(l, narg, msg.as_ptr());
    }
    unreachable!("luaL_argerror returned")
}

/// The unit tests' renderer, the same one line as the recorder that asked
/// redis-server 7.0.15 (kept in `scripts/record_lualib.py`): `D(pcall(...))`
/// gives the results (strings quoted with non-printable bytes as `\xx`,
/// numbers as `%.17g`, tables as sorted `{k=v}`) or `ERR:` and the error.
#[cfg(test)]
const PRELUDE: &str = concat!(
    "local function S(v,d) d=d or 0 if d>40 then return '...' end local t=type(v) ",
    "if t=='string' then return '\"'..(v:gsub('[^%w%p ]',function(c) return string.format('\\\\%02x',c:byte()) end))..'\"' ",
    "elseif t=='number' then if v~=v then return 'nan' elseif v==1/0 then return 'inf' elseif v==-1/0 then return '-inf' end return string.format('%.17g',v) ",
    "elseif t=='table' then local ks={} for k in pairs(v) do ks[#ks+1]=k end local r={} for _,k in ipairs(ks) do r[#r+1]=S(k,d+1)..'='..S(v[k],d+1) end table.sort(r) return '{'..table.concat(r,',')..'}' ",
    "else return tostring(t=='userdata' and 'userdata' or t=='function' and 'function' or v) end end ",
    "local function D(ok,...) local n=select('#',...) local r={} for i=1,n do r[i]=S((select(i,...))) end ",
    "if ok then return table.concat(r,' ') else return 'ERR:'..table.concat(r,' ') end end ",
);

/// Runs each case (a Lua expression) in a fresh state with `open` loaded and
/// compares its rendering with what redis-server 7.0.15 gave.
#[cfg(test)]
pub(crate) fn check(open: fn(&mlua::Lua) -> mlua::Result<()>, cases: &[(&str, &str)]) {
    let mut failed = Vec::new();
    for (expr, want) in cases {
        let lua = mlua::Lua::new();
        open(&lua).expect("open");
        let code = format!("{PRELUDE}return D(pcall(function() return {expr} end))");
        let got = lua
            .load(code.as_str())
            .set_name("=user_script")
            .eval::<mlua::String>()
            .map(|s| String::from_utf8_lossy(&s.as_bytes()).into_owned())
            .unwrap_or_else(|e| format!("SCRIPTERR:{e}"));
        if got != *want {
            failed.push(format!("{expr}\n   want {want}\n   got  {got}"));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} cases differ from redis-server:\n{}",
        failed.len(),
        cases.len(),
        failed.join("\n")
    );
}
