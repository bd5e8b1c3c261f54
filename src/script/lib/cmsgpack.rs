//! `cmsgpack`: lua-cmsgpack 0.4.0 as Redis 7.0 builds it
//! (`deps/lua/src/lua_cmsgpack.c`).
//!
//! `pack(...)` encodes each argument and concatenates them: strings as
//! fixraw/raw8/16/32, numbers that are exact 64-bit integers in the smallest
//! integer encoding, other numbers as a float when the float is exact and a
//! double otherwise, booleans, tables as arrays when their keys are exactly
//! 1..n and as maps otherwise, anything else (and tables nested 16 deep,
//! which stops cycles) as nil. `unpack(s)` decodes every value of the
//! stream, `unpack_one(s [,offset])` and `unpack_limit(s, n [,offset])`
//! some of them after the next offset (-1 at the end).
//!
//! Decoding never trusts a header: tables are grown as elements arrive (a
//! 4 GB array length in 5 bytes costs nothing until its elements are
//! there), nesting is walked with an explicit stack, and the Lua stack's
//! own limit ends deep input with lua-cmsgpack's `stack overflow` error.

// SAFETY (every `unsafe` in this file): these are Lua C functions and their
// helpers, called by Lua with a valid `lua_State` whose arguments they read
// through the lauxlib checks (`luaL_check*`, `luaL_argerror`), which raise
// Lua errors instead of reading out of bounds; no Rust value with a
// destructor lives across a call that may raise (see `script::lib`'s
// header). The unit tests below run each function against redis-server's
// recorded replies, errors included.

use super::CFn;
use mlua::ffi::{self, lua_State};
use std::ffi::{CStr, c_int};

/// Tables nested this deep are packed as nil.
const MAX_NESTING: c_int = 16;

/// C's `(int)d` on x86-64: truncation, `INT_MIN` when out of range.
fn cvt_int(d: f64) -> c_int {
    if d > -2147483649.0 && d < 2147483648.0 { d as c_int } else { c_int::MIN }
}

/// `IS_INT64_EQUIVALENT`: a finite double that `(int64_t)` keeps exactly.
fn is_int64(d: f64) -> bool {
    (-9223372036854775808.0..9223372036854775808.0).contains(&d) && (d as i64) as f64 == d
}

// ===== Encoding =====

fn encode_bytes(buf: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        buf.push(0xa0 | len as u8);
    } else if len <= 0xff {
        buf.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        buf.push(0xda);
        buf.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        buf.push(0xdb);
        buf.extend_from_slice(&(len as u32).to_be_bytes());
    }
    buf.extend_from_slice(s);
}

/// `mp_encode_double`: a float when the float is the same number.
fn encode_double(buf: &mut Vec<u8>, d: f64) {
    let f = d as f32;
    if d == f64::from(f) {
        buf.push(0xca);
        buf.extend_from_slice(&f.to_be_bytes());
    } else {
        buf.push(0xcb);
        buf.extend_from_slice(&d.to_be_bytes());
    }
}

/// `mp_encode_int`: the smallest encoding of `n`.
pub fn encode_int(buf: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            buf.push(n as u8);
        } else if n <= 0xff {
            buf.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            buf.push(0xcd);
            buf.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            buf.push(0xce);
            buf.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            buf.push(0xcf);
            buf.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        buf.push(n as i8 as u8);
    } else if n >= -128 {
        buf.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        buf.push(0xd1);
        buf.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2147483648 {
        buf.push(0xd2);
        buf.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        buf.push(0xd3);
        buf.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_header(buf: &mut Vec<u8>, n: u64, fix: u8, b16: u8, b32: u8) {
    if n <= 15 {
        buf.push(fix | n as u8);
    } else if n <= 65535 {
        buf.push(b16);
        buf.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        buf.push(b32);
        buf.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// `table_is_an_array`: keys exactly 1..n (positive numbers that are ints).
unsafe fn table_is_an_array(l: *mut lua_State) -> bool {
    let mut count: c_int = 0;
    let mut max: c_int = 0;
    unsafe {
        let top = ffi::lua_gettop(l);
        super::check_stack(l, 2, c"in function table_is_an_array");
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            ffi::lua_settop(l, -2);
            let n = if ffi::lua_type(l, -1) == ffi::LUA_TNUMBER { ffi::lua_tonumber(l, -1) } else { 0.0 };
            if ffi::lua_type(l, -1) != ffi::LUA_TNUMBER || n <= 0.0 || f64::from(cvt_int(n)) != n {
                ffi::lua_settop(l, top);
                return false;
            }
            if n > f64::from(max) {
                max = cvt_int(n);
            }
            count = count.wrapping_add(1);
        }
        ffi::lua_settop(l, top);
    }
    max == count
}

/// `mp_encode_lua_type`: the value on the top of the stack, popped.
unsafe fn encode_value(l: *mut lua_State, buf: &mut Vec<u8>, level: c_int) {
    unsafe {
        let mut t = ffi::lua_type(l, -1);
        if t == ffi::LUA_TTABLE && level == MAX_NESTING {
            t = ffi::LUA_TNIL;
        }
        match t {
            ffi::LUA_TSTRING => encode_bytes(buf, super::to_bytes(l, -1).unwrap_or_default()),
            ffi::LUA_TBOOLEAN => buf.push(if ffi::lua_toboolean(l, -1) != 0 { 0xc3 } else { 0xc2 }),
            ffi::LUA_TNUMBER => {
                let n = ffi::lua_tonumber(l, -1);
                if is_int64(n) {
                    encode_int(buf, n as i64);
                } else {
                    encode_double(buf, n);
                }
            }
            ffi::LUA_TTABLE => {
                if table_is_an_array(l) {
                    let len = ffi::lua_objlen(l, -1);
                    encode_header(buf, len as u64, 0x90, 0xdc, 0xdd);
                    super::check_stack(l, 1, c"in function mp_encode_lua_table_as_array");
                    for j in 1..=len {
                        ffi::lua_pushnumber(l, j as f64);
                        ffi::lua_gettable_(l, -2);
                        encode_value(l, buf, level + 1);
                    }
                } else {
                    super::check_stack(l, 3, c"in function mp_encode_lua_table_as_map");
                    let mut len: u64 = 0;
                    ffi::lua_pushnil(l);
                    while ffi::lua_next(l, -2) != 0 {
                        ffi::lua_settop(l, -2);
                        len += 1;
                    }
                    encode_header(buf, len, 0x80, 0xde, 0xdf);
                    ffi::lua_pushnil(l);
                    while ffi::lua_next(l, -2) != 0 {
                        ffi::lua_pushvalue(l, -2);
                        encode_value(l, buf, level + 1);
                        encode_value(l, buf, level + 1);
                    }
                }
            }
            _ => buf.push(0xc0),
        }
        ffi::lua_settop(l, -2);
    }
}

/// `cmsgpack.pack(...)`.
unsafe extern "C-unwind" fn pack(l: *mut lua_State) -> c_int {
    unsafe {
        let nargs = ffi::lua_gettop(l);
        if nargs == 0 {
            super::arg_error(l, 0, c"MessagePack pack needs input.");
        }
        if ffi::lua_checkstack(l, nargs) == 0 {
            super::arg_error(l, 0, c"Too many arguments for MessagePack pack.");
        }
        let buf: &mut Vec<u8> = super::new_owned(l, c"ferrokv.cmsgpack.buffer");
        for i in 1..=nargs {
            super::check_stack(l, 1, c"in function mp_check");
            ffi::lua_pushvalue(l, i);
            encode_value(l, buf, 0);
        }
        super::push_bytes(l, buf);
    }
    1
}

// ===== Decoding =====

/// Why decoding stopped.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fail {
    /// `MP_CUR_ERROR_EOF`.
    Eof,
    /// `MP_CUR_ERROR_BADFMT`.
    BadFmt,
}

/// A container being filled.
#[derive(Clone, Copy)]
enum Frame {
    /// An array with `left` elements to come, the next at `index` (pushed).
    Array { left: usize, index: f64 },
    /// A map with `left` pairs to come; `key` once the pair's key is pushed.
    Map { left: usize, key: bool },
}

/// The decoder's cursor.
struct Cursor<'a> {
    s: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn left(&self) -> usize {
        self.s.len() - self.at
    }

    fn need(&self, n: usize) -> Result<(), Fail> {
        if self.left() < n { Err(Fail::Eof) } else { Ok(()) }
    }

    fn byte(&self, i: usize) -> u8 {
        self.s.get(self.at + i).copied().unwrap_or(0)
    }

    fn be<const N: usize>(&self) -> [u8; N] {
        let mut b = [0u8; N];
        b.copy_from_slice(&self.s[self.at + 1..self.at + 1 + N]);
        b
    }
}

/// What one header starts.
enum Item {
    /// A complete value, pushed.
    Done,
    /// A container of this many elements (an array) or pairs (a map),
    /// its table pushed.
    Array(usize),
    Map(usize),
}

/// Decodes the header at the cursor, pushing a scalar or a new table.
unsafe fn decode_header(l: *mut lua_State, c: &mut Cursor) -> Result<Item, Fail> {
    c.need(1)?;
    unsafe {
        super::check_stack(l, 1, c"too many return values at once; use unpack_one or unpack_limit instead.");
        let b = c.byte(0);
        let push_int = |v: f64| ffi::lua_pushnumber(l, v);
        match b {
            0xcc => {
                c.need(2)?;
                push_int(f64::from(c.byte(1)));
                c.at += 2;
            }
            0xd0 => {
                c.need(2)?;
                push_int(f64::from(c.byte(1) as i8));
                c.at += 2;
            }
            0xcd => {
                c.need(3)?;
                push_int(f64::from(u16::from_be_bytes(c.be())));
                c.at += 3;
            }
            0xd1 => {
                c.need(3)?;
                push_int(f64::from(i16::from_be_bytes(c.be())));
                c.at += 3;
            }
            0xce => {
                c.need(5)?;
                push_int(f64::from(u32::from_be_bytes(c.be())));
                c.at += 5;
            }
            0xd2 => {
                c.need(5)?;
                push_int(f64::from(i32::from_be_bytes(c.be())));
                c.at += 5;
            }
            0xcf => {
                // lua_pushinteger of the uint64: past 2^63 it is negative.
                c.need(9)?;
                push_int(u64::from_be_bytes(c.be()) as i64 as f64);
                c.at += 9;
            }
            0xd3 => {
                c.need(9)?;
                push_int(i64::from_be_bytes(c.be()) as f64);
                c.at += 9;
            }
            0xc0 => {
                ffi::lua_pushnil(l);
                c.at += 1;
            }
            0xc3 | 0xc2 => {
                ffi::lua_pushboolean(l, c_int::from(b == 0xc3));
                c.at += 1;
            }
            0xca => {
                c.need(5)?;
                push_int(f64::from(f32::from_be_bytes(c.be())));
                c.at += 5;
            }
            0xcb => {
                c.need(9)?;
                push_int(f64::from_be_bytes(c.be()));
                c.at += 9;
            }
            0xd9 => {
                c.need(2)?;
                let len = usize::from(c.byte(1));
                c.need(2 + len)?;
                super::push_bytes(l, &c.s[c.at + 2..c.at + 2 + len]);
                c.at += 2 + len;
            }
            0xda => {
                c.need(3)?;
                let len = usize::from(u16::from_be_bytes(c.be()));
                c.need(3 + len)?;
                super::push_bytes(l, &c.s[c.at + 3..c.at + 3 + len]);
                c.at += 3 + len;
            }
            0xdb => {
                c.need(5)?;
                let len = u32::from_be_bytes(c.be()) as usize;
                c.at += 5;
                c.need(len)?;
                super::push_bytes(l, &c.s[c.at..c.at + len]);
                c.at += len;
            }
            0xdc | 0xde => {
                c.need(3)?;
                let len = usize::from(u16::from_be_bytes(c.be()));
                c.at += 3;
                return Ok(new_table(l, b == 0xdc, len));
            }
            0xdd | 0xdf => {
                c.need(5)?;
                let len = u32::from_be_bytes(c.be()) as usize;
                c.at += 5;
                return Ok(new_table(l, b == 0xdd, len));
            }
            _ if b & 0x80 == 0 => {
                push_int(f64::from(b));
                c.at += 1;
            }
            _ if b & 0xe0 == 0xe0 => {
                push_int(f64::from(b as i8));
                c.at += 1;
            }
            _ if b & 0xe0 == 0xa0 => {
                let len = usize::from(b & 0x1f);
                c.need(1 + len)?;
                super::push_bytes(l, &c.s[c.at + 1..c.at + 1 + len]);
                c.at += 1 + len;
            }
            _ if b & 0xf0 == 0x90 || b & 0xf0 == 0x80 => {
                c.at += 1;
                return Ok(new_table(l, b & 0xf0 == 0x90, usize::from(b & 0xf)));
            }
            _ => return Err(Fail::BadFmt),
        }
    }
    Ok(Item::Done)
}

/// `lua_newtable` for a decoded container (never sized from the header).
unsafe fn new_table(l: *mut lua_State, array: bool, len: usize) -> Item {
    unsafe {
        ffi::lua_createtable(l, 0, 0);
        if array {
            super::check_stack(l, 1, c"in function mp_decode_to_lua_array");
            Item::Array(len)
        } else {
            Item::Map(len)
        }
    }
}

/// `mp_decode_to_lua_type`: one whole value pushed, nesting walked with
/// `stack` in the C recursion's order (an array element's index is pushed
/// before the element, a map's key before its value, each pair set once
/// complete).
unsafe fn decode_value(l: *mut lua_State, c: &mut Cursor, stack: &mut Vec<Frame>) -> Result<(), Fail> {
    stack.clear();
    unsafe {
        'value: loop {
            match decode_header(l, c)? {
                Item::Done => {}
                Item::Array(0) | Item::Map(0) => {}
                Item::Array(left) => {
                    stack.push(Frame::Array { left, index: 1.0 });
                    ffi::lua_pushnumber(l, 1.0);
                    continue 'value;
                }
                Item::Map(left) => {
                    stack.push(Frame::Map { left, key: false });
                    continue 'value;
                }
            }
            // A value is complete on the top of the stack.
            loop {
                let Some(frame) = stack.last_mut() else { return Ok(()) };
                match frame {
                    Frame::Array { left, index } => {
                        ffi::lua_settable(l, -3);
                        *left -= 1;
                        if *left == 0 {
                            stack.pop();
                            continue;
                        }
                        *index += 1.0;
                        ffi::lua_pushnumber(l, *index);
                        continue 'value;
                    }
                    Frame::Map { key: key @ false, .. } => {
                        *key = true;
                        continue 'value;
                    }
                    Frame::Map { left, key } => {
                        ffi::lua_settable(l, -3);
                        *key = false;
                        *left -= 1;
                        if *left == 0 {
                            stack.pop();
                            continue;
                        }
                        continue 'value;
                    }
                }
            }
        }
    }
}

/// `mp_unpack_full`: up to `limit` values from `offset` (all of them when
/// both are 0), then the next offset unless all were asked for.
unsafe fn unpack_full(l: *mut lua_State, limit: ffi::lua_Integer, offset: ffi::lua_Integer) -> c_int {
    unsafe {
        let s = super::check_bytes(l, 1);
        let len = s.len();
        if offset < 0 || limit < 0 {
            ffi::luaL_error(
                l,
                c"Invalid request to unpack with offset of %d and limit of %d.".as_ptr(),
                offset as c_int,
                len as c_int,
            );
        } else if offset as u64 > len as u64 {
            ffi::luaL_error(
                l,
                c"Start offset %d greater than input length %d.".as_ptr(),
                offset as c_int,
                len as c_int,
            );
        }
        let decode_all = limit == 0 && offset == 0;
        let limit = if decode_all { ffi::lua_Integer::from(c_int::MAX) } else { limit };
        // The explicit stack is the module's (upvalue 1), not on the Lua
        // stack, whose room is part of the behaviour. Decoding runs no Lua
        // code (no metamethods on fresh tables; Redis has no `newproxy`, so
        // no `__gc` in Lua), so it is never re-entered.
        let stack = &mut *(ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)) as *mut Vec<Frame>);
        let mut c = Cursor { s, at: offset as usize };
        let mut cnt: c_int = 0;
        while c.left() > 0 && ffi::lua_Integer::from(cnt) < limit {
            match decode_value(l, &mut c, stack) {
                Ok(()) => {}
                Err(Fail::Eof) => {
                    ffi::luaL_error(l, c"Missing bytes in input.".as_ptr());
                }
                Err(Fail::BadFmt) => {
                    ffi::luaL_error(l, c"Bad data format in input.".as_ptr());
                }
            }
            cnt += 1;
        }
        if !decode_all {
            super::check_stack(l, 1, c"in function mp_unpack_full");
            let next = if c.left() == 0 { -1 } else { c.at as ffi::lua_Integer };
            ffi::lua_pushinteger(l, next);
            ffi::lua_insert(l, 2);
            cnt += 1;
        }
        cnt
    }
}

/// `cmsgpack.unpack(s)`.
unsafe extern "C-unwind" fn unpack(l: *mut lua_State) -> c_int {
    unsafe { unpack_full(l, 0, 0) }
}

/// `lua_pop(L, lua_gettop(L)-1)`: keeps the first argument (pushes nothing
/// when there is none).
unsafe fn keep_first(l: *mut lua_State) {
    unsafe { ffi::lua_settop(l, -(ffi::lua_gettop(l) - 1) - 1) }
}

/// `cmsgpack.unpack_one(s [, offset])`.
unsafe extern "C-unwind" fn unpack_one(l: *mut lua_State) -> c_int {
    unsafe {
        let offset = ffi::luaL_optinteger(l, 2, 0);
        keep_first(l);
        unpack_full(l, 1, offset)
    }
}

/// `cmsgpack.unpack_limit(s, limit [, offset])`.
unsafe extern "C-unwind" fn unpack_limit(l: *mut lua_State) -> c_int {
    unsafe {
        let limit = ffi::luaL_checkinteger(l, 2);
        let offset = ffi::luaL_optinteger(l, 3, 0);
        keep_first(l);
        unpack_full(l, limit, offset)
    }
}

const FUNCS: &[(&CStr, CFn)] =
    &[(c"pack", pack), (c"unpack", unpack), (c"unpack_one", unpack_one), (c"unpack_limit", unpack_limit)];

/// Pushes a new `cmsgpack` table.
pub(crate) unsafe fn open_raw(l: *mut lua_State) {
    unsafe {
        ffi::lua_createtable(l, 0, FUNCS.len() as c_int + 4);
        let _: &mut Vec<Frame> = super::new_owned(l, c"ferrokv.cmsgpack.stack");
        super::set_funcs(l, FUNCS, 1);
        for (k, v) in [
            (c"_NAME", c"cmsgpack"),
            (c"_VERSION", c"lua-cmsgpack 0.4.0"),
            (c"_COPYRIGHT", c"Copyright (C) 2012, Salvatore Sanfilippo"),
            (c"_DESCRIPTION", c"MessagePack C implementation for Lua"),
        ] {
            ffi::lua_pushstring_(l, v.as_ptr());
            ffi::lua_setfield(l, -2, k.as_ptr());
        }
    }
}

/// Opens `cmsgpack` as a global in `lua`.
pub fn open(lua: &mlua::Lua) -> mlua::Result<()> {
    super::open_global(lua, c"cmsgpack", open_raw)
}

#[cfg(test)]
mod tests {
    /// Lua expressions and what redis-server 7.0.15 returned for them
    /// (recorded with scripts/record_lualib.py).
    const CASES: &[(&str, &str)] = &[
        (
            r#"cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION"#,
            r#""cmsgpack" "lua-cmsgpack 0.4.0" "Copyright (C) 2012, Salvatore Sanfilippo" "MessagePack C implementation for Lua""#,
        ),
        (
            r#"cmsgpack.pack(0), cmsgpack.pack(1), cmsgpack.pack(127), cmsgpack.pack(128), cmsgpack.pack(255), cmsgpack.pack(256), cmsgpack.pack(65535), cmsgpack.pack(65536), cmsgpack.pack(2^32-1), cmsgpack.pack(2^32), cmsgpack.pack(2^53)"#,
            r#""\00" "\01" "\7f" "\cc\80" "\cc\ff" "\cd\01\00" "\cd\ff\ff" "\ce\00\01\00\00" "\ce\ff\ff\ff\ff" "\cf\00\00\00\01\00\00\00\00" "\cf\00 \00\00\00\00\00\00""#,
        ),
        (
            r#"cmsgpack.pack(-1), cmsgpack.pack(-32), cmsgpack.pack(-33), cmsgpack.pack(-128), cmsgpack.pack(-129), cmsgpack.pack(-32768), cmsgpack.pack(-32769), cmsgpack.pack(-2^31), cmsgpack.pack(-2^31-1), cmsgpack.pack(-2^63)"#,
            r#""\ff" "\e0" "\d0\df" "\d0\80" "\d1\ff\7f" "\d1\80\00" "\d2\ff\ff\7f\ff" "\d2\80\00\00\00" "\d3\ff\ff\ff\ff\7f\ff\ff\ff" "\d3\80\00\00\00\00\00\00\00""#,
        ),
        (
            r#"cmsgpack.pack(2^63), cmsgpack.pack(2^64), cmsgpack.pack(-2^64), cmsgpack.pack(1e300), cmsgpack.pack(0.5), cmsgpack.pack(0.1), cmsgpack.pack(-1.5), cmsgpack.pack(1/0), cmsgpack.pack(-1/0), cmsgpack.pack(0/0), cmsgpack.pack(-0.0)"#,
            r#""\ca_\00\00\00" "\ca_\80\00\00" "\ca\df\80\00\00" "\cb~7\e4<\88\00u\9c" "\ca?\00\00\00" "\cb?\b9\99\99\99\99\99\9a" "\ca\bf\c0\00\00" "\ca\7f\80\00\00" "\ca\ff\80\00\00" "\cb\ff\f8\00\00\00\00\00\00" "\00""#,
        ),
        (
            r#"cmsgpack.pack(''), cmsgpack.pack('a'), cmsgpack.pack(string.rep('x', 31)):byte(1), cmsgpack.pack(string.rep('x', 32)):sub(1,3), #cmsgpack.pack(string.rep('x', 255)), cmsgpack.pack(string.rep('x', 256)):sub(1,4), cmsgpack.pack(string.rep('x', 65536)):sub(1,6), cmsgpack.pack('\0\255')"#,
            r#""\a0" "\a1a" 191 "\d9 x" 257 "\da\01\00x" "\db\00\01\00\00x" "\a2\00\ff""#,
        ),
        (
            r#"cmsgpack.pack(true), cmsgpack.pack(false), cmsgpack.pack(nil), cmsgpack.pack(cjson.null), cmsgpack.pack(type), cmsgpack.pack(coroutine.create(function() end))"#,
            r#""\c3" "\c2" "\c0" "\c0" "\c0" "\c0""#,
        ),
        (
            r#"cmsgpack.pack({}), cmsgpack.pack({1,2,3}), cmsgpack.pack({a=1}), cmsgpack.pack({[1]=1,[3]=3}), cmsgpack.pack({[2]=1}), cmsgpack.pack({[1.5]=1}), cmsgpack.pack({[0]=1}), cmsgpack.pack({[-1]=1}), cmsgpack.pack({1, x=2})"#,
            r#""\90" "\93\01\02\03" "\81\a1a\01" "\82\01\01\03\03" "\81\02\01" "\81\ca?\c0\00\00\01" "\81\00\01" "\81\ff\01" "\82\01\01\a1x\02""#,
        ),
        (
            r#"cmsgpack.pack({1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16}):sub(1,4), cmsgpack.pack({[true]=false}), cmsgpack.pack({[{}]={}})"#,
            r#""\dc\00\10\01" "\81\c3\c2" "\81\90\90""#,
        ),
        (r#"cmsgpack.pack({[2^31]=1}), cmsgpack.pack({1, nil, 3})"#, r#""\81\ce\80\00\00\00\01" "\82\01\01\03\03""#),
        (
            r#"(function() local t = {} for i=1,70000 do t[i]=i%100 end return cmsgpack.pack(t):sub(1,6) end)()"#,
            r#""\dd\00\01\11p\01""#,
        ),
        (
            r#"(function() local t = {} for i=1,20 do t['k'..i]=i end return #cmsgpack.pack(t), cmsgpack.pack(t):sub(1,3) end)()"#,
            r#"94 "\de\00\14""#,
        ),
        (
            r#"(function() local t = {} t[1] = t return cmsgpack.pack(t) end)()"#,
            r#""\91\91\91\91\91\91\91\91\91\91\91\91\91\91\91\91\c0""#,
        ),
        (
            r#"(function() local t = {} t.a = t return cmsgpack.pack(t) end)()"#,
            r#""\81\a1a\81\a1a\81\a1a\81\a1a\81\a1a\81\a1a\81\a1a\81\a1a\81\a1a\81\a1a\81\a1a\81\a1a\81\a1a\81\a1a\81\a1a\81\a1a\c0""#,
        ),
        (
            r#"cmsgpack.pack({{{{{{{{{{{{{{{{{{1}}}}}}}}}}}}}}}}}})"#,
            r#""\91\91\91\91\91\91\91\91\91\91\91\91\91\91\91\91\c0""#,
        ),
        (r#"cmsgpack.pack(1, 'a', {2}), cmsgpack.pack(nil, nil)"#, r#""\01\a1a\91\02" "\c0\c0""#),
        (r#"cmsgpack.pack()"#, r#"ERR:"user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)""#),
        (
            r#"(function() local f = cmsgpack.pack return f() end)()"#,
            r#"ERR:"user_script:1: bad argument #0 to 'f' (MessagePack pack needs input.)""#,
        ),
        (
            r#"cmsgpack.unpack(cmsgpack.pack(1, -1, 200, -200, 70000, -70000, 2^40, -2^40, 0.5, 0.1, 'str', true, false))"#,
            r#"1 -1 200 -200 70000 -70000 1099511627776 -1099511627776 0.5 0.10000000000000001 "str" true false"#,
        ),
        (r#"cmsgpack.unpack(cmsgpack.pack({1,2,{a={b='c'}}, 'x'}))"#, r#"{1=1,2=2,3={"a"={"b"="c"}},4="x"}"#),
        (r#"cmsgpack.unpack('\192'), cmsgpack.unpack('\195\194')"#, r#"nil true false"#),
        (
            r#"cmsgpack.unpack('\207\255\255\255\255\255\255\255\255'), cmsgpack.unpack('\207\128\0\0\0\0\0\0\0'), cmsgpack.unpack('\211\128\0\0\0\0\0\0\0'), cmsgpack.unpack('\211\255\255\255\255\255\255\255\254')"#,
            r#"-1 -9.2233720368547758e+18 -9.2233720368547758e+18 -2"#,
        ),
        (
            r#"cmsgpack.unpack('\204\200'), cmsgpack.unpack('\208\200'), cmsgpack.unpack('\205\255\254'), cmsgpack.unpack('\209\255\254'), cmsgpack.unpack('\206\255\255\255\254'), cmsgpack.unpack('\210\255\255\255\254'), cmsgpack.unpack('\127'), cmsgpack.unpack('\224'), cmsgpack.unpack('\255')"#,
            r#"200 -56 65534 -2 4294967294 -2 127 -32 -1"#,
        ),
        (
            r#"cmsgpack.unpack('\202\127\128\0\0'), cmsgpack.unpack('\202\127\192\0\0'), cmsgpack.unpack('\203\63\240\0\0\0\0\0\0'), cmsgpack.unpack('\202\63\192\0\0')"#,
            r#"inf nan 1 1.5"#,
        ),
        (
            r#"cmsgpack.unpack('\217\3abc'), cmsgpack.unpack('\218\0\3abc'), cmsgpack.unpack('\219\0\0\0\3abc'), cmsgpack.unpack('\163abc'), cmsgpack.unpack('\160')"#,
            r#""abc" "abc" "abc" "abc" """#,
        ),
        (
            r#"cmsgpack.unpack('\144'), cmsgpack.unpack('\128'), cmsgpack.unpack('\146\1\2'), cmsgpack.unpack('\130\1\2\3\4'), cmsgpack.unpack('\220\0\2\1\2'), cmsgpack.unpack('\221\0\0\0\1\7'), cmsgpack.unpack('\222\0\1\1\2'), cmsgpack.unpack('\223\0\0\0\1\161a\1')"#,
            r#"{} {} {1=1,2=2} {1=2,3=4} {1=1,2=2} {1=7} {1=2} {"a"=1}"#,
        ),
        (r#"cmsgpack.unpack('\129\192\1')"#, r#"ERR:"table index is nil""#),
        (r#"cmsgpack.unpack('\129\203\255\248\0\0\0\0\0\0\1')"#, r#"ERR:"table index is NaN""#),
        (r#"cmsgpack.unpack('\130\1\2\1\3')"#, r#"{1=3}"#),
        (r#"cmsgpack.unpack('\145\145\145\145\1')"#, r#"{1={1={1={1=1}}}}"#),
        (r#"cmsgpack.unpack('')"#, r#""#),
        (r#"cmsgpack.unpack('\193')"#, r#"ERR:"user_script:1: Bad data format in input.""#),
        (r#"cmsgpack.unpack('\196\1a')"#, r#"ERR:"user_script:1: Bad data format in input.""#),
        (r#"cmsgpack.unpack('\212\1\1')"#, r#"ERR:"user_script:1: Bad data format in input.""#),
        (r#"cmsgpack.unpack('\204')"#, r#"ERR:"user_script:1: Missing bytes in input.""#),
        (r#"cmsgpack.unpack('\163ab')"#, r#"ERR:"user_script:1: Missing bytes in input.""#),
        (r#"cmsgpack.unpack('\219\255\255\255\255abc')"#, r#"ERR:"user_script:1: Missing bytes in input.""#),
        (r#"cmsgpack.unpack('\221\255\255\255\255')"#, r#"ERR:"user_script:1: Missing bytes in input.""#),
        (r#"cmsgpack.unpack('\221\255\255\255\255\1\2\3')"#, r#"ERR:"user_script:1: Missing bytes in input.""#),
        (r#"cmsgpack.unpack('\223\255\255\255\255\1\2\3')"#, r#"ERR:"user_script:1: Missing bytes in input.""#),
        (
            r#"cmsgpack.unpack('\221\255\255\255\255' .. string.rep('\192', 100))"#,
            r#"ERR:"user_script:1: Missing bytes in input.""#,
        ),
        (r#"cmsgpack.unpack('\147\1\2')"#, r#"ERR:"user_script:1: Missing bytes in input.""#),
        (r#"cmsgpack.unpack('\1\2\193')"#, r#"ERR:"user_script:1: Bad data format in input.""#),
        (r#"cmsgpack.unpack('\1\204')"#, r#"ERR:"user_script:1: Missing bytes in input.""#),
        (r#"cmsgpack.unpack()"#, r#"ERR:"user_script:1: bad argument #1 to 'unpack' (string expected, got no value)""#),
        (r#"cmsgpack.unpack({})"#, r#"ERR:"user_script:1: bad argument #1 to 'unpack' (string expected, got table)""#),
        (r#"cmsgpack.unpack(12)"#, r#"49 50"#),
        (r#"cmsgpack.unpack('\1', 'ignored')"#, r#"1"#),
        (
            r#"cmsgpack.unpack_one('\1\2\3'), cmsgpack.unpack_one('\1\2\3', 1), cmsgpack.unpack_one('\1\2\3', 2), cmsgpack.unpack_one('\1\2\3', 3)"#,
            r#"1 2 -1 -1"#,
        ),
        (r#"cmsgpack.unpack_one('\1\2\3', 4)"#, r#"ERR:"user_script:1: Start offset 4 greater than input length 3.""#),
        (
            r#"cmsgpack.unpack_one('\1\2\3', -1)"#,
            r#"ERR:"user_script:1: Invalid request to unpack with offset of -1 and limit of 3.""#,
        ),
        (
            r#"cmsgpack.unpack_one('\1\2\3', 'x')"#,
            r#"ERR:"user_script:1: bad argument #2 to 'unpack_one' (number expected, got string)""#,
        ),
        (r#"cmsgpack.unpack_one('')"#, r#"-1"#),
        (r#"cmsgpack.unpack_one('', 0), cmsgpack.unpack_one('\1', 0, 'extra')"#, r#"-1 -1 1"#),
        (
            r#"cmsgpack.unpack_limit('\1\2\3', 2), cmsgpack.unpack_limit('\1\2\3', 2, 1), cmsgpack.unpack_limit('\1\2\3', 5), cmsgpack.unpack_limit('\1\2\3', 0, 1)"#,
            r#"2 -1 -1 1"#,
        ),
        (r#"cmsgpack.unpack_limit('\1\2\3', 0)"#, r#"1 2 3"#),
        (
            r#"cmsgpack.unpack_limit('\1\2\3', -1)"#,
            r#"ERR:"user_script:1: Invalid request to unpack with offset of 0 and limit of 3.""#,
        ),
        (
            r#"cmsgpack.unpack_limit('\1\2\3', 1, -5)"#,
            r#"ERR:"user_script:1: Invalid request to unpack with offset of -5 and limit of 3.""#,
        ),
        (
            r#"cmsgpack.unpack_limit('\1\2\3')"#,
            r#"ERR:"user_script:1: bad argument #2 to 'unpack_limit' (number expected, got no value)""#,
        ),
        (
            r#"cmsgpack.unpack_limit('\1\2\3', 'x')"#,
            r#"ERR:"user_script:1: bad argument #2 to 'unpack_limit' (number expected, got string)""#,
        ),
        (
            r#"cmsgpack.unpack_limit('\1\2\3', 1, 9)"#,
            r#"ERR:"user_script:1: Start offset 9 greater than input length 3.""#,
        ),
        (r#"cmsgpack.unpack_limit('\1\2\193', 5)"#, r#"ERR:"user_script:1: Bad data format in input.""#),
        (r#"(function() return select('#', cmsgpack.unpack(string.rep('\1', 7990))) end)()"#, r#"7990"#),
        (
            r#"(function() return select('#', cmsgpack.unpack(string.rep('\1', 9000))) end)()"#,
            r#"ERR:"user_script:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)""#,
        ),
        (
            r#"(function() return pcall(cmsgpack.unpack, string.rep('\145', 10000) .. '\1') end)()"#,
            r#"false "stack overflow (in function mp_decode_to_lua_array)""#,
        ),
        (
            r#"(function() return pcall(cmsgpack.unpack, string.rep('\129', 10000) .. '\1') end)()"#,
            r#"false "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)""#,
        ),
        (
            r#"(function() return pcall(cmsgpack.unpack, string.rep('\129\1', 10000) .. '\1') end)()"#,
            r#"false "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)""#,
        ),
        (
            r#"(function() local s = cmsgpack.pack({a={1,2,{b='c'}}, d='e', [1.5]=true}) local t = cmsgpack.unpack(s) return t.a[3].b, t.d, t[1.5], #t.a end)()"#,
            r#""c" "e" true 3"#,
        ),
        (
            r#"cmsgpack.unpack(cmsgpack.pack('\0\1\127\255', 1e308, -1e-308, 2^63, -2^63, 0/0 ~= 0/0))"#,
            r#""\00\01\7f\ff" 1e+308 -9.9999999999999991e-309 9.2233720368547758e+18 -9.2233720368547758e+18 true"#,
        ),
        (r#"(function() local x = cmsgpack.unpack(cmsgpack.pack(0/0)) return x ~= x end)()"#, r#"true"#),
    ];

    #[test]
    fn same_as_redis() {
        super::super::check(super::super::open_all, CASES);
    }

    /// Headers announcing 4 GB (arrays, maps, strings) cost only the bytes
    /// that are there: each fails with `Missing bytes in input.` and the
    /// state's memory stays small.
    #[test]
    fn hostile_headers_allocate_nothing_big() {
        let lua = mlua::Lua::new();
        super::open(&lua).expect("open");
        let unpack: mlua::Function =
            lua.globals().get::<mlua::Table>("cmsgpack").and_then(|t| t.get("unpack")).expect("unpack");
        let before = lua.used_memory();
        for header in [
            &b"\xdd\xff\xff\xff\xff"[..],
            b"\xdf\xff\xff\xff\xff",
            b"\xdb\xff\xff\xff\xff",
            b"\xdc\xff\xff\x91\xdd\xff\xff\xff\xff",
        ] {
            let mut input = header.to_vec();
            input.extend(std::iter::repeat_n(1u8, 1000));
            let s = lua.create_string(&input).expect("string");
            let err = unpack.call::<mlua::Value>(s).expect_err("truncated input");
            assert!(err.to_string().contains("Missing bytes in input."), "{err}");
        }
        lua.gc_collect().expect("gc");
        assert!(lua.used_memory() < before + (1 << 20), "{} then {}", before, lua.used_memory());
    }
}
