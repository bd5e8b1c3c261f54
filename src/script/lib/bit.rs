//! `bit`: LuaBitOp 1.0.2 as Redis 7.0 builds it (`deps/lua/src/lua_bit.c`).
//!
//! Lua 5.1 numbers are doubles; every argument is normalised to a 32-bit
//! integer as BitOp does it, by adding 2^52+2^51 and keeping the low 32 bits
//! of the sum's representation (so 2^32+1 is 1, 1.5 rounds to even, NaN and
//! infinities are 0), and results come back as signed 32-bit numbers.
//! Shift counts use their low 5 bits. A non-number argument is
//! `bad argument #n to 'f' (number expected, got T)`.

// SAFETY (every `unsafe` in this file): these are Lua C functions and their
// helpers, called by Lua with a valid `lua_State` whose arguments they read
// through the lauxlib checks (`luaL_check*`, `luaL_argerror`), which raise
// Lua errors instead of reading out of bounds; no Rust value with a
// destructor lives across a call that may raise (see `script::lib`'s
// header). The unit tests below run each function against redis-server's
// recorded replies, errors included.

use super::CFn;
use mlua::ffi::{self, lua_State};
use std::ffi::c_int;

/// `barg`: argument `idx` as BitOp's 32-bit value.
unsafe fn barg(l: *mut lua_State, idx: c_int) -> u32 {
    unsafe {
        let n = ffi::lua_tonumber(l, idx);
        let b = norm(n);
        if b == 0 && ffi::lua_isnumber(l, idx) == 0 {
            ffi::luaL_typerror(l, idx, c"number".as_ptr());
        }
        b
    }
}

/// The normalisation: the low 32 bits of `n + 2^52 + 2^51`.
pub fn norm(n: f64) -> u32 {
    (n + 6755399441055744.0).to_bits() as u32
}

/// `BRET`: a 32-bit result as a signed Lua number.
unsafe fn bret(l: *mut lua_State, b: u32) -> c_int {
    unsafe { ffi::lua_pushnumber(l, b as i32 as f64) };
    1
}

unsafe extern "C-unwind" fn tobit(l: *mut lua_State) -> c_int {
    unsafe { bret(l, barg(l, 1)) }
}

unsafe extern "C-unwind" fn bnot(l: *mut lua_State) -> c_int {
    unsafe { bret(l, !barg(l, 1)) }
}

/// The variadic operators: the first argument folded with the others from
/// the last down (the order only matters for which error is raised first).
unsafe fn fold(l: *mut lua_State, op: fn(u32, u32) -> u32) -> c_int {
    unsafe {
        let mut b = barg(l, 1);
        let mut i = ffi::lua_gettop(l);
        while i > 1 {
            b = op(b, barg(l, i));
            i -= 1;
        }
        bret(l, b)
    }
}

unsafe extern "C-unwind" fn band(l: *mut lua_State) -> c_int {
    unsafe { fold(l, |a, b| a & b) }
}

unsafe extern "C-unwind" fn bor(l: *mut lua_State) -> c_int {
    unsafe { fold(l, |a, b| a | b) }
}

unsafe extern "C-unwind" fn bxor(l: *mut lua_State) -> c_int {
    unsafe { fold(l, |a, b| a ^ b) }
}

/// The shifts and rotations: count from argument 2, low 5 bits.
unsafe fn shift(l: *mut lua_State, op: fn(u32, u32) -> u32) -> c_int {
    unsafe {
        let b = barg(l, 1);
        let n = barg(l, 2) & 31;
        bret(l, op(b, n))
    }
}

unsafe extern "C-unwind" fn lshift(l: *mut lua_State) -> c_int {
    unsafe { shift(l, |b, n| b << n) }
}

unsafe extern "C-unwind" fn rshift(l: *mut lua_State) -> c_int {
    unsafe { shift(l, |b, n| b >> n) }
}

unsafe extern "C-unwind" fn arshift(l: *mut lua_State) -> c_int {
    unsafe { shift(l, |b, n| ((b as i32) >> n) as u32) }
}

unsafe extern "C-unwind" fn rol(l: *mut lua_State) -> c_int {
    unsafe { shift(l, |b, n| b.rotate_left(n)) }
}

unsafe extern "C-unwind" fn ror(l: *mut lua_State) -> c_int {
    unsafe { shift(l, |b, n| b.rotate_right(n)) }
}

unsafe extern "C-unwind" fn bswap(l: *mut lua_State) -> c_int {
    unsafe { bret(l, barg(l, 1).swap_bytes()) }
}

/// `tohex(x [,n])`: the low `|n|` hex digits (8 by default, at most 8),
/// upper case when `n` is negative.
unsafe extern "C-unwind" fn tohex(l: *mut lua_State) -> c_int {
    unsafe {
        let b = barg(l, 1);
        let n = if ffi::lua_type(l, 2) == ffi::LUA_TNONE { 8 } else { barg(l, 2) as i32 };
        let text = hex(b, n);
        super::push_bytes(l, text.as_bytes());
    }
    1
}

/// The text `tohex` returns: upper case for a negative `n`, at most 8
/// digits (`i32::MIN` too: redis-server gives 8 upper-case digits).
pub fn hex(mut b: u32, n: i32) -> String {
    let digits = if n < 0 { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
    let n = n.unsigned_abs().min(8) as usize;
    let mut buf = [0u8; 8];
    for i in (0..n).rev() {
        buf[i] = digits[(b & 15) as usize];
        b >>= 4;
    }
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

const FUNCS: &[(&std::ffi::CStr, CFn)] = &[
    (c"tobit", tobit),
    (c"bnot", bnot),
    (c"band", band),
    (c"bor", bor),
    (c"bxor", bxor),
    (c"lshift", lshift),
    (c"rshift", rshift),
    (c"arshift", arshift),
    (c"rol", rol),
    (c"ror", ror),
    (c"bswap", bswap),
    (c"tohex", tohex),
];

/// Pushes a new `bit` table.
pub(crate) unsafe fn open_raw(l: *mut lua_State) {
    unsafe {
        ffi::lua_createtable(l, 0, FUNCS.len() as c_int);
        super::set_funcs(l, FUNCS, 0);
    }
}

/// Opens `bit` as a global in `lua`.
pub fn open(lua: &mlua::Lua) -> mlua::Result<()> {
    super::open_global(lua, c"bit", open_raw)
}

#[cfg(test)]
mod tests {
    /// Lua expressions and what redis-server 7.0.15 returned for them
    /// (recorded with scripts/record_lualib.py).
    const CASES: &[(&str, &str)] = &[
        (
            r#"bit.tobit(0), bit.tobit(2^32+1), bit.tobit(1.5), bit.tobit(2.5), bit.tobit(-1.5), bit.tobit(0/0), bit.tobit(1/0), bit.tobit(-1/0)"#,
            r#"0 1 2 2 -2 0 0 0"#,
        ),
        (
            r#"bit.tobit(-1), bit.tobit(2^31), bit.tobit(2^31-1), bit.tobit(-2^31), bit.tobit(-2^31-1), bit.tobit(2^52), bit.tobit(2^53+3), bit.tobit(1e300)"#,
            r#"-1 -2147483648 2147483647 -2147483648 2147483647 0 2 -2013235812"#,
        ),
        (r#"bit.tobit('12'), bit.tobit('0x10'), bit.tobit(' 7 ')"#, r#"12 16 7"#),
        (r#"bit.tobit('x')"#, r#"ERR:"user_script:1: bad argument #1 to 'tobit' (number expected, got string)""#),
        (r#"bit.tobit()"#, r#"ERR:"user_script:1: bad argument #1 to 'tobit' (number expected, got no value)""#),
        (r#"bit.tobit({})"#, r#"ERR:"user_script:1: bad argument #1 to 'tobit' (number expected, got table)""#),
        (r#"bit.tobit(nil)"#, r#"ERR:"user_script:1: bad argument #1 to 'tobit' (number expected, got nil)""#),
        (r#"bit.bnot(0), bit.bnot(-1), bit.bnot(0x7fffffff)"#, r#"-1 0 -2147483648"#),
        (
            r#"bit.band(0xff, '0x0f', 7), bit.bor(1,2,4,8), bit.bxor(5,3,1), bit.band(-1), bit.bor(5), bit.bxor(2^32+3, 1)"#,
            r#"7 15 7 -1 5 2"#,
        ),
        (r#"bit.band()"#, r#"ERR:"user_script:1: bad argument #1 to 'band' (number expected, got no value)""#),
        (r#"bit.band(1, {})"#, r#"ERR:"user_script:1: bad argument #2 to 'band' (number expected, got table)""#),
        (r#"bit.bor(1, 2, 'z')"#, r#"ERR:"user_script:1: bad argument #3 to 'bor' (number expected, got string)""#),
        (
            r#"bit.lshift(1,31), bit.lshift(1,32), bit.lshift(1,33), bit.lshift(1,-1), bit.rshift(-1, 1), bit.rshift(-1, 0), bit.rshift(256, 36)"#,
            r#"-2147483648 1 2 -2147483648 2147483647 -1 16"#,
        ),
        (
            r#"bit.arshift(-8, 2), bit.arshift(-1, 31), bit.arshift(0x7fffffff, 30), bit.arshift(-256, 68)"#,
            r#"-2 -1 1 -16"#,
        ),
        (
            r#"bit.rol(0x80000001, 1), bit.rol(1, 0), bit.rol(1, 32), bit.ror(1, 1), bit.ror(0x12345678, 12), bit.ror(1, -1)"#,
            r#"3 1 1 -2147483648 1736516421 2"#,
        ),
        (r#"bit.bswap(0x12345678), bit.bswap(-1), bit.bswap(0xff)"#, r#"2018915346 -1 -16777216"#),
        (r#"bit.lshift(1)"#, r#"ERR:"user_script:1: bad argument #2 to 'lshift' (number expected, got no value)""#),
        (r#"bit.rshift()"#, r#"ERR:"user_script:1: bad argument #1 to 'rshift' (number expected, got no value)""#),
        (
            r#"bit.tohex(255), bit.tohex(-1), bit.tohex(255, -4), bit.tohex(255, 0), bit.tohex(255, 20), bit.tohex(0x1234abcd, 3), bit.tohex(0x1234abcd, -3)"#,
            r#""000000ff" "ffffffff" "00FF" "" "000000ff" "bcd" "BCD""#,
        ),
        (
            r#"bit.tohex(1, -2147483648), bit.tohex(255, -2147483648), bit.tohex(-1, 2147483647), bit.tohex(1, 2^32+2), bit.tohex(1, 2^32-2)"#,
            r#""00000001" "000000FF" "ffffffff" "01" "01""#,
        ),
        (r#"bit.tohex('x')"#, r#"ERR:"user_script:1: bad argument #1 to 'tohex' (number expected, got string)""#),
        (r#"bit.tohex(1, 'x')"#, r#"ERR:"user_script:1: bad argument #2 to 'tohex' (number expected, got string)""#),
        (r#"bit.tohex(1, nil)"#, r#"ERR:"user_script:1: bad argument #2 to 'tohex' (number expected, got nil)""#),
        (
            r#"(function() local f = bit.band return f(1, 'q') end)()"#,
            r#"ERR:"user_script:1: bad argument #2 to 'f' (number expected, got string)""#,
        ),
    ];

    #[test]
    fn same_as_redis() {
        super::super::check(super::open, CASES);
    }
}
