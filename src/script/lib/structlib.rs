//! `struct`: binary packing as Redis 7.0 builds it (`deps/lua/src/lua_struct.c`,
//! struct.c 1.4 with Redis's fixes: the integral size overflow check and
//! `offset must be 1 or greater`).
//!
//! Formats: `>` `<` endianness, `![n]` alignment, `x` padding, `b/B h/H
//! l/L T i[n]/I[n]` integers (sizes as on x86-64: 1, 2, 8, 8, 4 by default;
//! at most 32), `c[n]` fixed strings (`c0`: the whole string when packing,
//! the previous number as length when unpacking), `s` zero-terminated
//! strings, `f` float, `d` double, spaces ignored. The format stops at its
//! first NUL byte, as the C string it is there.
//!
//! Numbers are Lua 5.1 doubles; their conversions to 64-bit integers follow
//! what the x86-64 build of Redis does (an out-of-range or NaN value becomes
//! 0x8000000000000000), checked against redis-server.

// SAFETY (every `unsafe` in this file): these are Lua C functions and their
// helpers, called by Lua with a valid `lua_State` whose arguments they read
// through the lauxlib checks (`luaL_check*`, `luaL_argerror`), which raise
// Lua errors instead of reading out of bounds; no Rust value with a
// destructor lives across a call that may raise (see `script::lib`'s
// header). The unit tests below run each function against redis-server's
// recorded replies, errors included.

use super::CFn;
use mlua::ffi::{self, lua_State};
use std::ffi::{c_char, c_int};

const MAXINTSIZE: c_int = 32;
/// `MAXALIGN` on x86-64: the padding of `struct { char c; double d; }`.
const MAXALIGN: c_int = 8;
const SIZE_SHORT: usize = 2;
const SIZE_LONG: usize = 8;
const SIZE_INT: c_int = 4;

struct Header {
    little: bool,
    align: usize,
}

impl Header {
    fn new() -> Header {
        Header { little: cfg!(target_endian = "little"), align: 1 }
    }
}

/// The format as C sees it: up to its first NUL, 0 past the end.
struct Fmt<'a> {
    s: &'a [u8],
    at: usize,
}

impl Fmt<'_> {
    fn peek(&self) -> u8 {
        self.s.get(self.at).copied().unwrap_or(0)
    }
}

/// C's `(long)d` on x86-64: truncation, 0x8000000000000000 when out of range.
pub fn cvt_i64(d: f64) -> i64 {
    if (-9223372036854775808.0..9223372036854775808.0).contains(&d) { d as i64 } else { i64::MIN }
}

/// C's `(unsigned long)d` as gcc compiles it on x86-64.
pub fn cvt_u64(d: f64) -> u64 {
    if d.is_nan() {
        1 << 63
    } else if d < 9223372036854775808.0 {
        cvt_i64(d) as u64
    } else {
        (cvt_i64(d - 9223372036854775808.0) as u64) ^ (1 << 63)
    }
}

/// `getnum`: a decimal size after an option, or `df`.
unsafe fn getnum(l: *mut lua_State, fmt: &mut Fmt, df: c_int) -> c_int {
    if !fmt.peek().is_ascii_digit() {
        return df;
    }
    let mut a: c_int = 0;
    while fmt.peek().is_ascii_digit() {
        let d = c_int::from(fmt.peek() - b'0');
        if a > c_int::MAX / 10 || a * 10 > c_int::MAX - d {
            unsafe { ffi::luaL_error(l, c"integral size overflow".as_ptr()) };
        }
        a = a * 10 + d;
        fmt.at += 1;
    }
    a
}

/// `optsize`: the bytes option `opt` takes (0 for the control options).
unsafe fn optsize(l: *mut lua_State, opt: u8, fmt: &mut Fmt) -> usize {
    match opt {
        b'B' | b'b' | b'x' => 1,
        b'H' | b'h' => SIZE_SHORT,
        b'L' | b'l' | b'T' | b'd' => SIZE_LONG,
        b'f' => 4,
        b'c' => unsafe { getnum(l, fmt, 1) as usize },
        b'i' | b'I' => {
            let sz = unsafe { getnum(l, fmt, SIZE_INT) };
            if sz > MAXINTSIZE {
                unsafe {
                    ffi::luaL_error(l, c"integral size %d is larger than limit of %d".as_ptr(), sz, MAXINTSIZE);
                }
            }
            sz as usize
        }
        _ => 0,
    }
}

/// `gettoalign`: padding before an item of `size` at offset `len`.
fn gettoalign(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size.wrapping_sub(len & (size - 1))) & (size - 1)
}

/// `controloptions`: endianness, alignment, spaces; anything else is an
/// invalid option.
unsafe fn controloptions(l: *mut lua_State, opt: u8, fmt: &mut Fmt, h: &mut Header) {
    match opt {
        b' ' => {}
        b'>' => h.little = false,
        b'<' => h.little = true,
        b'!' => {
            let a = unsafe { getnum(l, fmt, MAXALIGN) };
            if a <= 0 || a & (a - 1) != 0 {
                unsafe { ffi::luaL_error(l, c"alignment %d is not a power of 2".as_ptr(), a) };
            }
            h.align = a as usize;
        }
        _ => unsafe {
            let msg = ffi::lua_pushfstring(l, c"invalid format option '%c'".as_ptr(), c_int::from(opt));
            ffi::luaL_argerror(l, 1, msg);
        },
    }
}

/// The format argument, cut at its first NUL.
unsafe fn format<'a>(l: *mut lua_State) -> Fmt<'a> {
    let s = unsafe { super::check_bytes(l, 1) };
    let end = s.iter().position(|&c| c == 0).unwrap_or(s.len());
    Fmt { s: &s[..end], at: 0 }
}

unsafe fn add(b: *mut ffi::luaL_Buffer, bytes: &[u8]) {
    unsafe { ffi::luaL_addlstring(b, bytes.as_ptr() as *const c_char, bytes.len()) }
}

/// `putinteger`: the number at `arg` in `size` bytes.
unsafe fn putinteger(l: *mut lua_State, b: *mut ffi::luaL_Buffer, arg: c_int, little: bool, size: usize) {
    let n = unsafe { ffi::luaL_checknumber(l, arg) };
    let mut value = if n < 0.0 { cvt_i64(n) as u64 } else { cvt_u64(n) };
    let mut buff = [0u8; MAXINTSIZE as usize];
    for i in 0..size {
        let at = if little { i } else { size - 1 - i };
        buff[at] = (value & 0xff) as u8;
        value = value.checked_shr(8).unwrap_or(0);
    }
    unsafe { add(b, &buff[..size]) }
}

/// Native bytes of a float or double put in the header's order.
fn ordered<const N: usize>(mut bytes: [u8; N], little: bool) -> [u8; N] {
    if little != cfg!(target_endian = "little") {
        bytes.reverse();
    }
    bytes
}

/// `struct.pack(fmt, ...)`.
unsafe extern "C-unwind" fn pack(l: *mut lua_State) -> c_int {
    unsafe {
        let mut fmt = format(l);
        let mut h = Header::new();
        let mut arg: c_int = 2;
        let mut totalsize: usize = 0;
        ffi::lua_pushnil(l);
        let mut buf = std::mem::MaybeUninit::<ffi::luaL_Buffer>::uninit();
        let b = buf.as_mut_ptr();
        ffi::luaL_buffinit(l, b);
        while fmt.at < fmt.s.len() {
            let opt = fmt.s[fmt.at];
            fmt.at += 1;
            let mut size = optsize(l, opt, &mut fmt);
            let toalign = gettoalign(totalsize, &h, opt, size);
            totalsize = totalsize.wrapping_add(toalign);
            for _ in 0..toalign {
                add(b, b"\0");
            }
            match opt {
                b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                    putinteger(l, b, arg, h.little, size);
                    arg += 1;
                }
                b'x' => add(b, b"\0"),
                b'f' => {
                    let f = ffi::luaL_checknumber(l, arg) as f32;
                    arg += 1;
                    add(b, &ordered(f.to_ne_bytes(), h.little));
                }
                b'd' => {
                    let d = ffi::luaL_checknumber(l, arg);
                    arg += 1;
                    add(b, &ordered(d.to_ne_bytes(), h.little));
                }
                b'c' | b's' => {
                    let s = super::check_bytes(l, arg);
                    arg += 1;
                    if size == 0 {
                        size = s.len();
                    }
                    if s.len() < size {
                        super::arg_error(l, arg, c"string too short");
                    }
                    add(b, &s[..size]);
                    if opt == b's' {
                        add(b, b"\0");
                        size += 1;
                    }
                }
                _ => controloptions(l, opt, &mut fmt, &mut h),
            }
            totalsize = totalsize.wrapping_add(size);
        }
        ffi::luaL_pushresult(b);
    }
    1
}

/// `getinteger`: `size` bytes as a number, sign-extended for the lower-case
/// options (the shift count taken modulo 64 as x86-64 does for sizes past 8).
fn getinteger(buff: &[u8], little: bool, signed: bool) -> f64 {
    let size = buff.len();
    let mut l: u64 = 0;
    for i in 0..size {
        let byte = if little { buff[size - 1 - i] } else { buff[i] };
        l = (l << 8) | u64::from(byte);
    }
    if !signed {
        return l as f64;
    }
    let shift = ((size as i64) * 8 - 1) & 63;
    let mask = u64::MAX << shift;
    if l & mask != 0 {
        l |= mask;
    }
    l as i64 as f64
}

/// C's `(size_t)d` on x86-64 for a length read from a number.
fn cvt_size(d: f64) -> usize {
    cvt_u64(d) as usize
}

/// `struct.unpack(fmt, data [, pos])`: the values then the next position.
unsafe extern "C-unwind" fn unpack(l: *mut lua_State) -> c_int {
    unsafe {
        let mut fmt = format(l);
        let data = super::check_bytes(l, 2);
        let ld = data.len();
        let pos = ffi::luaL_optinteger(l, 3, 1) as usize;
        if pos == 0 {
            super::arg_error(l, 3, c"offset must be 1 or greater");
        }
        let mut pos = pos - 1;
        let mut n: c_int = 0;
        let mut h = Header::new();
        while fmt.at < fmt.s.len() {
            let opt = fmt.s[fmt.at];
            fmt.at += 1;
            let mut size = optsize(l, opt, &mut fmt);
            pos = pos.wrapping_add(gettoalign(pos, &h, opt, size));
            if !(size <= ld && pos <= ld - size) {
                super::arg_error(l, 2, c"data string too short");
            }
            super::check_stack(l, 2, c"too many results");
            match opt {
                b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                    let v = getinteger(&data[pos..pos + size], h.little, opt.is_ascii_lowercase());
                    ffi::lua_pushnumber(l, v);
                    n += 1;
                }
                b'x' => {}
                b'f' => {
                    let mut b = [0u8; 4];
                    b.copy_from_slice(&data[pos..pos + 4]);
                    ffi::lua_pushnumber(l, f64::from(f32::from_ne_bytes(ordered(b, h.little))));
                    n += 1;
                }
                b'd' => {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&data[pos..pos + 8]);
                    ffi::lua_pushnumber(l, f64::from_ne_bytes(ordered(b, h.little)));
                    n += 1;
                }
                b'c' => {
                    if size == 0 {
                        if n == 0 || ffi::lua_isnumber(l, -1) == 0 {
                            ffi::luaL_error(l, c"format 'c0' needs a previous size".as_ptr());
                        }
                        size = cvt_size(ffi::lua_tonumber(l, -1));
                        ffi::lua_settop(l, -2);
                        n -= 1;
                        if !(size <= ld && pos <= ld - size) {
                            super::arg_error(l, 2, c"data string too short");
                        }
                    }
                    super::push_bytes(l, &data[pos..pos + size]);
                    n += 1;
                }
                b's' => {
                    let Some(e) = data[pos..].iter().position(|&c| c == 0) else {
                        ffi::luaL_error(l, c"unfinished string in data".as_ptr());
                        unreachable!("luaL_error returned");
                    };
                    size = e + 1;
                    super::push_bytes(l, &data[pos..pos + e]);
                    n += 1;
                }
                _ => controloptions(l, opt, &mut fmt, &mut h),
            }
            pos = pos.wrapping_add(size);
        }
        ffi::lua_pushinteger(l, pos.wrapping_add(1) as ffi::lua_Integer);
        n + 1
    }
}

/// `struct.size(fmt)`: the bytes `pack` would give for a fixed-size format.
unsafe extern "C-unwind" fn size(l: *mut lua_State) -> c_int {
    unsafe {
        let mut fmt = format(l);
        let mut h = Header::new();
        let mut pos: usize = 0;
        while fmt.at < fmt.s.len() {
            let opt = fmt.s[fmt.at];
            fmt.at += 1;
            let size = optsize(l, opt, &mut fmt);
            pos = pos.wrapping_add(gettoalign(pos, &h, opt, size));
            if opt == b's' {
                super::arg_error(l, 1, c"option 's' has no fixed size");
            } else if opt == b'c' && size == 0 {
                super::arg_error(l, 1, c"option 'c0' has no fixed size");
            }
            if !opt.is_ascii_alphanumeric() {
                controloptions(l, opt, &mut fmt, &mut h);
            }
            pos = pos.wrapping_add(size);
        }
        ffi::lua_pushinteger(l, pos as ffi::lua_Integer);
    }
    1
}

const FUNCS: &[(&std::ffi::CStr, CFn)] = &[(c"pack", pack), (c"unpack", unpack), (c"size", size)];

/// Pushes a new `struct` table.
pub(crate) unsafe fn open_raw(l: *mut lua_State) {
    unsafe {
        ffi::lua_createtable(l, 0, FUNCS.len() as c_int);
        super::set_funcs(l, FUNCS, 0);
    }
}

/// Opens `struct` as a global in `lua`.
pub fn open(lua: &mlua::Lua) -> mlua::Result<()> {
    super::open_global(lua, c"struct", open_raw)
}

#[cfg(test)]
mod tests {
    /// Lua expressions and what redis-server 7.0.15 returned for them
    /// (recorded with scripts/record_lualib.py).
    const CASES: &[(&str, &str)] = &[
        (
            r#"struct.pack('>i', 1), struct.pack('<i', 1), struct.pack('i', -2), struct.pack('>I2', 65535), struct.pack('<h', -2), struct.pack('>H', 65537)"#,
            r#""\00\00\00\01" "\01\00\00\00" "\fe\ff\ff\ff" "\ff\ff" "\fe\ff" "\00\01""#,
        ),
        (
            r#"struct.pack('bBhHlLT', -1, 255, -300, 300, -5, 5, 7)"#,
            r#""\ff\ff\d4\fe,\01\fb\ff\ff\ff\ff\ff\ff\ff\05\00\00\00\00\00\00\00\07\00\00\00\00\00\00\00""#,
        ),
        (
            r#"struct.pack('>l<l', 2^62, -2^62), struct.pack('>L<L', 0/0, 2^64), struct.pack('>L', -1), struct.pack('>l', 1e300), struct.pack('>l', -1e300)"#,
            r#""@\00\00\00\00\00\00\00\00\00\00\00\00\00\00\c0" "\80\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00" "\ff\ff\ff\ff\ff\ff\ff\ff" "\00\00\00\00\00\00\00\00" "\80\00\00\00\00\00\00\00""#,
        ),
        (
            r#"struct.pack('>b', 1.9), struct.pack('>b', -1.9), struct.pack('>B', 256), struct.pack('>i3', 0x123456), struct.pack('<I5', 2^33+1)"#,
            r#""\01" "\ff" "\00" "\124V" "\01\00\00\00\02""#,
        ),
        (
            r#"struct.pack('<i16', -2), struct.pack('>i16', -2), struct.pack('>I32', 1), struct.pack('>i0', 5)"#,
            r#""\fe\ff\ff\ff\ff\ff\ff\ff\00\00\00\00\00\00\00\00" "\00\00\00\00\00\00\00\00\ff\ff\ff\ff\ff\ff\ff\fe" "\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\01" """#,
        ),
        (
            r#"struct.pack('>f<f', 1.5, -0.1), struct.pack('>d<d', 1.5, -0.1), struct.pack('>d', 0/0), struct.pack('>f', 1/0), struct.pack('f', 1e300)"#,
            r#""?\c0\00\00\cd\cc\cc\bd" "?\f8\00\00\00\00\00\00\9a\99\99\99\99\99\b9\bf" "\ff\f8\00\00\00\00\00\00" "\7f\80\00\00" "\00\00\80\7f""#,
        ),
        (
            r#"struct.pack('c', 'abc'), struct.pack('c0', 'abc'), struct.pack('c2', 'abc'), struct.pack('s', 'ab'), struct.pack('s', ''), struct.pack('c0s', 'x\0y', 'z')"#,
            r#""a" "abc" "ab" "ab\00" "\00" "x\00yz\00""#,
        ),
        (
            r#"struct.pack('x'), struct.pack('xx b x', 1), struct.pack(' > < '), struct.pack(''), struct.pack('b\0b', 1, 2)"#,
            r#""\00" "\00\00\01\00" "" "" "\01""#,
        ),
        (
            r#"struct.pack('!4bi', 1, 2), struct.pack('!4bh', 1, 2), struct.pack('!bd', 1, 2), struct.pack('!2bd', 1, 2), struct.pack('!4bi3', 1, 2), struct.pack('!8bxi8', 1, 2), struct.pack('!4c1i', 'a', 2), struct.pack('!16bd', 1, 2)"#,
            r#""\01\00\00\00\02\00\00\00" "\01\00\02\00" "\01\00\00\00\00\00\00\00\00\00\00\00\00\00\00@" "\01\00\00\00\00\00\00\00\00@" "\01\00\00\02\00\00" "\01\00\00\00\00\00\00\00\02\00\00\00\00\00\00\00" "a\00\00\00\02\00\00\00" "\01\00\00\00\00\00\00\00\00\00\00\00\00\00\00@""#,
        ),
        (r#"struct.pack('i99999999999', 1)"#, r#"ERR:"user_script:1: integral size overflow""#),
        (r#"struct.pack('i33', 1)"#, r#"ERR:"user_script:1: integral size 33 is larger than limit of 32""#),
        (r#"struct.pack('c99999999999', 'a')"#, r#"ERR:"user_script:1: integral size overflow""#),
        (r#"struct.pack('!3i', 1)"#, r#"ERR:"user_script:1: alignment 3 is not a power of 2""#),
        (r#"struct.pack('!0i', 1)"#, r#"ERR:"user_script:1: alignment 0 is not a power of 2""#),
        (r#"struct.pack('y', 1)"#, r#"ERR:"user_script:1: bad argument #1 to 'pack' (invalid format option 'y')""#),
        (r#"struct.pack('%', 1)"#, r#"ERR:"user_script:1: bad argument #1 to 'pack' (invalid format option '%')""#),
        (r#"struct.pack('c5', 'abc')"#, r#"ERR:"user_script:1: bad argument #3 to 'pack' (string too short)""#),
        (r#"struct.pack('bc5', 1, 'abc')"#, r#"ERR:"user_script:1: bad argument #4 to 'pack' (string too short)""#),
        (r#"struct.pack('i', 'x')"#, r#"ERR:"user_script:1: bad argument #2 to 'pack' (number expected, got string)""#),
        (r#"struct.pack('i')"#, r#"ERR:"user_script:1: bad argument #2 to 'pack' (number expected, got nil)""#),
        (r#"struct.pack('s', {})"#, r#"ERR:"user_script:1: bad argument #2 to 'pack' (string expected, got table)""#),
        (r#"struct.pack('d', nil)"#, r#"ERR:"user_script:1: bad argument #2 to 'pack' (number expected, got nil)""#),
        (r#"struct.pack()"#, r#"ERR:"user_script:1: bad argument #1 to 'pack' (string expected, got no value)""#),
        (r#"struct.pack({})"#, r#"ERR:"user_script:1: bad argument #1 to 'pack' (string expected, got table)""#),
        (r#"struct.pack(12, 1)"#, r#"ERR:"user_script:1: bad argument #1 to 'pack' (invalid format option '1')""#),
        (
            r#"struct.unpack('>i', '\0\0\0\1'), struct.unpack('<i', '\1\0\0\0'), struct.unpack('>I2', '\255\255'), struct.unpack('<h', '\254\255')"#,
            r#"1 1 65535 -2 3"#,
        ),
        (
            r#"struct.unpack('bBhHlLT', struct.pack('bBhHlLT', -1, 255, -300, 300, -5, 5, 7))"#,
            r#"-1 255 -300 300 -5 5 7 31"#,
        ),
        (
            r#"struct.unpack('>L', string.rep('\255', 8)), struct.unpack('>l', '\128\0\0\0\0\0\0\0'), struct.unpack('>I3', '\255\255\255'), struct.unpack('>i3', '\255\255\254')"#,
            r#"1.8446744073709552e+19 -9.2233720368547758e+18 16777215 -2 4"#,
        ),
        (
            r#"struct.unpack('<i16', struct.pack('<i16', -2)), struct.unpack('>i16', string.rep('\255', 16)), struct.unpack('>I16', string.rep('\1', 16)), struct.unpack('>i0', 'ab')"#,
            r#"-2 -1 72340172838076672 0 1"#,
        ),
        (
            r#"struct.unpack('>f<f', struct.pack('>f<f', 1.5, -0.1)), struct.unpack('>d<d', struct.pack('>d<d', 1.5, -0.1)), struct.unpack('d', struct.pack('d', 1/0))"#,
            r#"1.5 1.5 inf 9"#,
        ),
        (r#"struct.unpack('c0', '3abc')"#, r#"ERR:"user_script:1: format 'c0' needs a previous size""#),
        (r#"{struct.unpack('bc0', '\3abcdef')}, {struct.unpack('bc0b', '\0\5')}"#, r#"{1="abc",2=5} {1="",2=5,3=3}"#),
        (r#"struct.unpack('c2c0', '1xyz')"#, r#"ERR:"user_script:1: format 'c0' needs a previous size""#),
        (r#"struct.unpack('c1c0', '2xyz')"#, r#""xy" 4"#),
        (
            r#"{struct.unpack('bc0', '\1abc', 2)}, {struct.unpack('c0', 'a3xyz', 2)}"#,
            r#"ERR:"user_script:1: bad argument #2 to 'unpack' (data string too short)""#,
        ),
        (
            r#"struct.unpack('bc0', '\255abc')"#,
            r#"ERR:"user_script:1: bad argument #2 to 'unpack' (data string too short)""#,
        ),
        (
            r#"struct.unpack('bc0', '\9abc')"#,
            r#"ERR:"user_script:1: bad argument #2 to 'unpack' (data string too short)""#,
        ),
        (r#"struct.unpack('s', 'abc')"#, r#"ERR:"user_script:1: unfinished string in data""#),
        (
            r#"struct.unpack('ss', 'ab\0\0c\0'), struct.unpack('c3', 'abcd'), struct.unpack('c', 'abc', 3)"#,
            r#""ab" "abc" "c" 4"#,
        ),
        (
            r#"struct.unpack('b', 'abc', 0)"#,
            r#"ERR:"user_script:1: bad argument #3 to 'unpack' (offset must be 1 or greater)""#,
        ),
        (
            r#"struct.unpack('b', 'abc', -5)"#,
            r#"ERR:"user_script:1: bad argument #2 to 'unpack' (data string too short)""#,
        ),
        (
            r#"struct.unpack('b', 'abc', 4)"#,
            r#"ERR:"user_script:1: bad argument #2 to 'unpack' (data string too short)""#,
        ),
        (r#"struct.unpack('b', 'abc', 3), struct.unpack('b', 'abc', 2.5), struct.unpack('', 'abc', 9)"#, r#"99 98 9"#),
        (r#"struct.unpack('i', 'abc')"#, r#"ERR:"user_script:1: bad argument #2 to 'unpack' (data string too short)""#),
        (
            r#"struct.unpack('!4bi', struct.pack('!4bi', 1, 2)), struct.unpack('!8bd', struct.pack('!8bd', 1, 2)), struct.unpack('xxb', '\1\2\3')"#,
            r#"1 1 3 4"#,
        ),
        (
            r#"struct.unpack('y', 'a')"#,
            r#"ERR:"user_script:1: bad argument #1 to 'unpack' (invalid format option 'y')""#,
        ),
        (
            r#"struct.unpack('#', 'a')"#,
            r#"ERR:"user_script:1: bad argument #1 to 'unpack' (invalid format option '#')""#,
        ),
        (
            r#"struct.unpack('b')"#,
            r#"ERR:"user_script:1: bad argument #2 to 'unpack' (string expected, got no value)""#,
        ),
        (
            r#"struct.unpack('b', {})"#,
            r#"ERR:"user_script:1: bad argument #2 to 'unpack' (string expected, got table)""#,
        ),
        (r#"struct.unpack('i99999999999', 'a')"#, r#"ERR:"user_script:1: integral size overflow""#),
        (
            r#"struct.unpack('b', 'abc', 'x')"#,
            r#"ERR:"user_script:1: bad argument #3 to 'unpack' (number expected, got string)""#,
        ),
        (r#"struct.unpack('b\0b', '\1\2')"#, r#"1 2"#),
        (r#"struct.size('s')"#, r#"ERR:"user_script:1: bad argument #1 to 'size' (option 's' has no fixed size)""#),
        (r#"struct.size('c0')"#, r#"ERR:"user_script:1: bad argument #1 to 'size' (option 'c0' has no fixed size)""#),
        (
            r#"struct.size('!8bd'), struct.size('bd'), struct.size('!4bi3c5'), struct.size('y'), struct.size(''), struct.size('c10i16'), struct.size('>i<h x')"#,
            r#"16 9 11 0 0 26 7"#,
        ),
        (r#"struct.size('#')"#, r#"ERR:"user_script:1: bad argument #1 to 'size' (invalid format option '#')""#),
        (r#"struct.size('!3')"#, r#"ERR:"user_script:1: alignment 3 is not a power of 2""#),
        (r#"struct.size()"#, r#"ERR:"user_script:1: bad argument #1 to 'size' (string expected, got no value)""#),
        (r#"struct.size('i40')"#, r#"ERR:"user_script:1: integral size 40 is larger than limit of 32""#),
    ];

    #[test]
    fn same_as_redis() {
        super::super::check(super::open, CASES);
    }
}
