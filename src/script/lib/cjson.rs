//! `cjson`: lua-cjson 2.1.0 as Redis 7.0 builds it (`deps/lua/src/lua_cjson.c`
//! with its `fpconv.c` and `strbuf.c`).
//!
//! Encoding: strings escaped as lua-cjson does (`"` `\` `/`, control bytes
//! and 0x7f; other bytes, invalid UTF-8 included, pass through), numbers
//! with `%.14g` (`encode_number_precision` 1..14), a table is an array when
//! all its keys are positive integers and it is not excessively sparse
//! (`encode_sparse_array`: convert, ratio 2, safe 10), otherwise an object
//! with string or number keys; nesting is limited (`encode_max_depth`,
//! 1000). NaN and infinities are refused unless `encode_invalid_numbers`.
//!
//! Decoding: JSON into tables, `cjson.null` (a NULL light userdata) for
//! `null`, numbers through C's `strtod` (so `decode_invalid_numbers`, on by
//! default, also accepts hex, `inf`, `nan` and a leading `+`), `\u` escapes
//! with surrogate pairs to UTF-8, nesting limited by `decode_max_depth`
//! (1000) and by the Lua stack; errors name the expected token and the
//! 1-based character, e.g. `Expected value but found T_END at character 1`.
//!
//! Each module table (`cjson`, and each `cjson.new()`) has its own
//! configuration, a userdata shared as upvalue 1 by its functions; the
//! encode buffer and the decoder's string buffer live in it, so a Lua error
//! while encoding or decoding leaves nothing on the Rust stack to free.

use super::CFn;
use mlua::ffi::{self, lua_State};
use std::ffi::{CStr, c_char, c_int};

const DEFAULT_SPARSE_CONVERT: c_int = 0;
const DEFAULT_SPARSE_RATIO: c_int = 2;
const DEFAULT_SPARSE_SAFE: c_int = 10;
const DEFAULT_ENCODE_MAX_DEPTH: c_int = 1000;
const DEFAULT_DECODE_MAX_DEPTH: c_int = 1000;
const DEFAULT_ENCODE_INVALID_NUMBERS: c_int = 0;
const DEFAULT_DECODE_INVALID_NUMBERS: c_int = 1;
const DEFAULT_ENCODE_KEEP_BUFFER: c_int = 1;
const DEFAULT_ENCODE_NUMBER_PRECISION: c_int = 14;

/// Buffers bigger than this are released after use instead of kept.
const KEEP_CAPACITY: usize = 64 * 1024;

/// One module table's configuration and buffers.
struct Config {
    encode_sparse_convert: c_int,
    encode_sparse_ratio: c_int,
    encode_sparse_safe: c_int,
    encode_max_depth: c_int,
    encode_invalid_numbers: c_int,
    encode_number_precision: c_int,
    encode_keep_buffer: c_int,
    decode_invalid_numbers: c_int,
    decode_max_depth: c_int,
    /// The encoder's output.
    buf: Vec<u8>,
    /// The decoder's current string.
    tmp: Vec<u8>,
    /// The encoder's open tables, outermost first (explicit, not recursion:
    /// nesting can go as deep as the Lua stack, about 8000).
    enc: Vec<EncFrame>,
    /// The decoder's open arrays (their next index) and objects (`None`).
    dec: Vec<Option<c_int>>,
}

/// A table being encoded.
#[derive(Clone, Copy)]
enum EncFrame {
    /// An array of `len` elements, `i` of them started.
    Array { len: c_int, i: c_int },
    /// An object; its current key is on the Lua stack.
    Object { comma: bool },
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    String,
    Number,
    Boolean,
    Null,
    Colon,
    Comma,
    End,
    Whitespace,
    Error,
    Unknown,
}

impl Tok {
    fn name(self) -> &'static CStr {
        match self {
            Tok::ObjBegin => c"T_OBJ_BEGIN",
            Tok::ObjEnd => c"T_OBJ_END",
            Tok::ArrBegin => c"T_ARR_BEGIN",
            Tok::ArrEnd => c"T_ARR_END",
            Tok::String => c"T_STRING",
            Tok::Number => c"T_NUMBER",
            Tok::Boolean => c"T_BOOLEAN",
            Tok::Null => c"T_NULL",
            Tok::Colon => c"T_COLON",
            Tok::Comma => c"T_COMMA",
            Tok::End => c"T_END",
            Tok::Whitespace => c"T_WHITESPACE",
            Tok::Error => c"T_ERROR",
            Tok::Unknown => c"T_UNKNOWN",
        }
    }
}

/// `ch2token`: the token a byte starts.
fn ch2token(c: u8) -> Tok {
    match c {
        b'{' => Tok::ObjBegin,
        b'}' => Tok::ObjEnd,
        b'[' => Tok::ArrBegin,
        b']' => Tok::ArrEnd,
        b',' => Tok::Comma,
        b':' => Tok::Colon,
        0 => Tok::End,
        b' ' | b'\t' | b'\n' | b'\r' => Tok::Whitespace,
        b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'"' | b'+' | b'-' | b'0'..=b'9' => Tok::Unknown,
        _ => Tok::Error,
    }
}

/// `escape2char`: what a backslash escape stands for (0: invalid; `u`:
/// a unicode escape).
fn escape2char(c: u8) -> u8 {
    match c {
        b'"' => b'"',
        b'\\' => b'\\',
        b'/' => b'/',
        b'b' => 8,
        b't' => b'\t',
        b'n' => b'\n',
        b'f' => 12,
        b'r' => b'\r',
        b'u' => b'u',
        _ => 0,
    }
}

/// `char2escape`: how the encoder writes a byte that needs escaping.
fn char2escape(c: u8) -> Option<&'static [u8]> {
    const LOW: [&[u8]; 32] = [
        b"\\u0000", b"\\u0001", b"\\u0002", b"\\u0003", b"\\u0004", b"\\u0005", b"\\u0006", b"\\u0007", b"\\b", b"\\t",
        b"\\n", b"\\u000b", b"\\f", b"\\r", b"\\u000e", b"\\u000f", b"\\u0010", b"\\u0011", b"\\u0012", b"\\u0013",
        b"\\u0014", b"\\u0015", b"\\u0016", b"\\u0017", b"\\u0018", b"\\u0019", b"\\u001a", b"\\u001b", b"\\u001c",
        b"\\u001d", b"\\u001e", b"\\u001f",
    ];
    match c {
        0..=31 => Some(LOW[c as usize]),
        b'"' => Some(b"\\\""),
        b'/' => Some(b"\\/"),
        b'\\' => Some(b"\\\\"),
        0x7f => Some(b"\\u007f"),
        _ => None,
    }
}

/// The configuration behind the running function's upvalue 1.
unsafe fn fetch_config<'a>(l: *mut lua_State) -> &'a mut Config {
    unsafe {
        let p = ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)) as *mut Config;
        if p.is_null() {
            ffi::luaL_error(l, c"BUG: Unable to fetch CJSON configuration".as_ptr());
        }
        &mut *p
    }
}

/// `json_arg_init`: at most `args` arguments, padded with nils.
unsafe fn arg_init<'a>(l: *mut lua_State, args: c_int) -> &'a mut Config {
    unsafe {
        if ffi::lua_gettop(l) > args {
            super::arg_error(l, args + 1, c"found too many arguments");
        }
        while ffi::lua_gettop(l) < args {
            ffi::lua_pushnil(l);
        }
        fetch_config(l)
    }
}

/// `json_integer_option`: sets from argument `idx` when given (within
/// `min..=max`), then pushes the setting.
unsafe fn integer_option(l: *mut lua_State, idx: c_int, setting: &mut c_int, min: c_int, max: c_int) -> c_int {
    unsafe {
        if ffi::lua_type(l, idx) != ffi::LUA_TNIL {
            let value = ffi::luaL_checkinteger(l, idx) as c_int;
            if !(min <= value && value <= max) {
                ffi::lua_pushfstring(l, c"expected integer between %d and %d".as_ptr(), min, max);
                ffi::luaL_argerror(l, 1, ffi::lua_tostring(l, -1));
            }
            *setting = value;
        }
        ffi::lua_pushinteger(l, *setting as ffi::lua_Integer);
    }
    1
}

/// `json_enum_option`: sets from argument `idx` (a boolean, or one of
/// `options`) when given, then pushes the setting (a boolean for off/on).
unsafe fn enum_option(l: *mut lua_State, idx: c_int, setting: &mut c_int, options: Option<&[&CStr]>) -> c_int {
    const BOOL_OPTIONS: &[&CStr] = &[c"off", c"on"];
    let options = options.unwrap_or(BOOL_OPTIONS);
    let bool_true = 1;
    unsafe {
        if ffi::lua_type(l, idx) != ffi::LUA_TNIL {
            if ffi::lua_type(l, idx) == ffi::LUA_TBOOLEAN {
                *setting = ffi::lua_toboolean(l, idx) * bool_true;
            } else {
                let mut list: [*const c_char; 4] = [std::ptr::null(); 4];
                for (slot, o) in list.iter_mut().zip(options) {
                    *slot = o.as_ptr();
                }
                *setting = ffi::luaL_checkoption(l, idx, std::ptr::null(), list.as_ptr());
            }
        }
        if *setting == 0 || *setting == bool_true {
            ffi::lua_pushboolean(l, *setting);
        } else {
            let name = options.get(*setting as usize).copied().unwrap_or(c"");
            ffi::lua_pushstring_(l, name.as_ptr());
        }
    }
    1
}

unsafe extern "C-unwind" fn cfg_encode_sparse_array(l: *mut lua_State) -> c_int {
    unsafe {
        let cfg = arg_init(l, 3);
        enum_option(l, 1, &mut cfg.encode_sparse_convert, None);
        integer_option(l, 2, &mut cfg.encode_sparse_ratio, 0, c_int::MAX);
        integer_option(l, 3, &mut cfg.encode_sparse_safe, 0, c_int::MAX);
    }
    3
}

unsafe extern "C-unwind" fn cfg_encode_max_depth(l: *mut lua_State) -> c_int {
    unsafe {
        let cfg = arg_init(l, 1);
        integer_option(l, 1, &mut cfg.encode_max_depth, 1, c_int::MAX)
    }
}

unsafe extern "C-unwind" fn cfg_decode_max_depth(l: *mut lua_State) -> c_int {
    unsafe {
        let cfg = arg_init(l, 1);
        integer_option(l, 1, &mut cfg.decode_max_depth, 1, c_int::MAX)
    }
}

unsafe extern "C-unwind" fn cfg_encode_number_precision(l: *mut lua_State) -> c_int {
    unsafe {
        let cfg = arg_init(l, 1);
        integer_option(l, 1, &mut cfg.encode_number_precision, 1, 14)
    }
}

unsafe extern "C-unwind" fn cfg_encode_keep_buffer(l: *mut lua_State) -> c_int {
    unsafe {
        let cfg = arg_init(l, 1);
        enum_option(l, 1, &mut cfg.encode_keep_buffer, None);
        if cfg.encode_keep_buffer == 0 {
            cfg.buf = Vec::new();
        }
    }
    1
}

unsafe extern "C-unwind" fn cfg_encode_invalid_numbers(l: *mut lua_State) -> c_int {
    unsafe {
        let cfg = arg_init(l, 1);
        enum_option(l, 1, &mut cfg.encode_invalid_numbers, Some(&[c"off", c"on", c"null"]))
    }
}

unsafe extern "C-unwind" fn cfg_decode_invalid_numbers(l: *mut lua_State) -> c_int {
    unsafe {
        let cfg = arg_init(l, 1);
        enum_option(l, 1, &mut cfg.decode_invalid_numbers, None)
    }
}

unsafe extern "C-unwind" fn destroy_config(l: *mut lua_State) -> c_int {
    unsafe {
        let p = ffi::lua_touserdata(l, 1) as *mut Config;
        if !p.is_null() {
            std::ptr::drop_in_place(p);
        }
    }
    0
}

/// `json_create_config`: pushes a new configuration userdata.
unsafe fn create_config(l: *mut lua_State) {
    unsafe {
        let p = ffi::lua_newuserdata(l, std::mem::size_of::<Config>()) as *mut Config;
        std::ptr::write(
            p,
            Config {
                encode_sparse_convert: DEFAULT_SPARSE_CONVERT,
                encode_sparse_ratio: DEFAULT_SPARSE_RATIO,
                encode_sparse_safe: DEFAULT_SPARSE_SAFE,
                encode_max_depth: DEFAULT_ENCODE_MAX_DEPTH,
                encode_invalid_numbers: DEFAULT_ENCODE_INVALID_NUMBERS,
                encode_number_precision: DEFAULT_ENCODE_NUMBER_PRECISION,
                encode_keep_buffer: DEFAULT_ENCODE_KEEP_BUFFER,
                decode_invalid_numbers: DEFAULT_DECODE_INVALID_NUMBERS,
                decode_max_depth: DEFAULT_DECODE_MAX_DEPTH,
                buf: Vec::new(),
                tmp: Vec::new(),
                enc: Vec::new(),
                dec: Vec::new(),
            },
        );
        ffi::lua_createtable(l, 0, 1);
        ffi::lua_pushcclosure(l, destroy_config, 0);
        ffi::lua_setfield(l, -2, c"__gc".as_ptr());
        ffi::lua_setmetatable(l, -2);
    }
}

// ===== Encoding =====

/// `json_encode_exception`: `Cannot serialise <type>: <reason>`.
unsafe fn encode_exception(l: *mut lua_State, lindex: c_int, reason: &CStr) -> ! {
    unsafe {
        ffi::luaL_error(
            l,
            c"Cannot serialise %s: %s".as_ptr(),
            ffi::lua_typename(l, ffi::lua_type(l, lindex)),
            reason.as_ptr(),
        );
    }
    unreachable!("luaL_error returned")
}

/// `json_append_string`: the string at `lindex`, quoted and escaped.
unsafe fn append_string(l: *mut lua_State, json: &mut Vec<u8>, lindex: c_int) {
    let s = unsafe { super::to_bytes(l, lindex) }.unwrap_or_default();
    json.reserve(s.len() + 2);
    json.push(b'"');
    for &c in s {
        match char2escape(c) {
            Some(e) => json.extend_from_slice(e),
            None => json.push(c),
        }
    }
    json.push(b'"');
}

/// C's `(int)d` on x86-64: truncation, `INT_MIN` when out of range.
fn cvt_int(d: f64) -> c_int {
    if d > -2147483649.0 && d < 2147483648.0 { d as c_int } else { c_int::MIN }
}

/// `lua_array_length`: the array length of the table on the top of the
/// stack, or -1 when it is to be an object.
unsafe fn array_length(l: *mut lua_State, cfg: &Config) -> c_int {
    let mut max: c_int = 0;
    let mut items: c_int = 0;
    unsafe {
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            if ffi::lua_type(l, -2) == ffi::LUA_TNUMBER {
                let k = ffi::lua_tonumber(l, -2);
                if k != 0.0 && k.floor() == k && k >= 1.0 {
                    if k > f64::from(max) {
                        max = cvt_int(k);
                    }
                    items = items.wrapping_add(1);
                    ffi::lua_settop(l, -2);
                    continue;
                }
            }
            ffi::lua_settop(l, -3);
            return -1;
        }
        if cfg.encode_sparse_ratio > 0
            && max > items.wrapping_mul(cfg.encode_sparse_ratio)
            && max > cfg.encode_sparse_safe
        {
            if cfg.encode_sparse_convert == 0 {
                encode_exception(l, -1, c"excessively sparse array");
            }
            return -1;
        }
    }
    max
}

/// `json_check_encode_depth`.
unsafe fn check_encode_depth(l: *mut lua_State, cfg: &Config, depth: c_int) {
    unsafe {
        if depth <= cfg.encode_max_depth && ffi::lua_checkstack(l, 3) != 0 {
            return;
        }
        // The error unwinds the stack anyway; emptying it leaves the error
        // text room when the stack is what ran out.
        ffi::lua_settop(l, 0);
        ffi::luaL_error(l, c"Cannot serialise, excessive nesting (%d)".as_ptr(), depth);
    }
}

/// `json_append_number`: the number at `lindex`.
unsafe fn append_number(l: *mut lua_State, cfg: &mut Config, lindex: c_int) {
    let num = unsafe { ffi::lua_tonumber(l, lindex) };
    if cfg.encode_invalid_numbers == 0 {
        if num.is_infinite() || num.is_nan() {
            unsafe { encode_exception(l, lindex, c"must not be NaN or Inf") };
        }
    } else if cfg.encode_invalid_numbers == 1 {
        if num.is_nan() {
            cfg.buf.extend_from_slice(b"nan");
            return;
        }
    } else if num.is_infinite() || num.is_nan() {
        cfg.buf.extend_from_slice(b"null");
        return;
    }
    format_number(&mut cfg.buf, num, cfg.encode_number_precision);
}

/// `fpconv_g_fmt`: `%.<precision>g` through the C library, as Redis does.
pub fn format_number(out: &mut Vec<u8>, num: f64, precision: c_int) {
    let mut text = [0u8; 32];
    let fmt = c"%.*g";
    // SAFETY: the buffer is 32 bytes and snprintf writes at most that.
    let n = unsafe { libc::snprintf(text.as_mut_ptr() as *mut c_char, text.len(), fmt.as_ptr(), precision, num) };
    let n = (n.max(0) as usize).min(text.len() - 1);
    out.extend_from_slice(&text[..n]);
}

/// A scalar (or an unsupported value) on the top of the stack.
unsafe fn append_scalar(l: *mut lua_State, cfg: &mut Config) {
    unsafe {
        match ffi::lua_type(l, -1) {
            ffi::LUA_TSTRING => append_string(l, &mut cfg.buf, -1),
            ffi::LUA_TNUMBER => append_number(l, cfg, -1),
            ffi::LUA_TBOOLEAN => {
                let text: &[u8] = if ffi::lua_toboolean(l, -1) != 0 { b"true" } else { b"false" };
                cfg.buf.extend_from_slice(text);
            }
            ffi::LUA_TNIL => cfg.buf.extend_from_slice(b"null"),
            ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, -1).is_null() => cfg.buf.extend_from_slice(b"null"),
            _ => encode_exception(l, -1, c"type not supported"),
        }
    }
}

/// `json_append_data` for the value on the top of the stack, the nesting
/// walked with `cfg.enc` instead of recursion. The order of everything
/// (output, checks, errors) is the C recursion's: a table is checked for
/// depth then classified (`lua_array_length`) when it is reached; an array
/// takes elements 1..len with `lua_rawgeti`, an object follows `lua_next`
/// with its keys (number or string) written before each value.
unsafe fn append_data(l: *mut lua_State, cfg: &mut Config) {
    cfg.enc.clear();
    unsafe {
        'value: loop {
            let mut opened = false;
            if ffi::lua_type(l, -1) == ffi::LUA_TTABLE {
                let depth = cfg.enc.len() as c_int + 1;
                check_encode_depth(l, cfg, depth);
                let len = array_length(l, cfg);
                if len > 0 {
                    cfg.buf.push(b'[');
                    cfg.enc.push(EncFrame::Array { len, i: 0 });
                } else {
                    cfg.buf.push(b'{');
                    ffi::lua_pushnil(l);
                    cfg.enc.push(EncFrame::Object { comma: false });
                }
                opened = true;
            } else {
                append_scalar(l, cfg);
            }
            loop {
                if !opened {
                    // A value is done: the top level stays (it is the
                    // argument), an element or member value is popped.
                    if cfg.enc.is_empty() {
                        return;
                    }
                    ffi::lua_settop(l, -2);
                }
                opened = false;
                let Some(&frame) = cfg.enc.last() else { return };
                match frame {
                    EncFrame::Array { len, i } => {
                        if i >= len {
                            cfg.buf.push(b']');
                            cfg.enc.pop();
                            continue;
                        }
                        if i > 0 {
                            cfg.buf.push(b',');
                        }
                        if let Some(top) = cfg.enc.last_mut() {
                            *top = EncFrame::Array { len, i: i + 1 };
                        }
                        ffi::lua_rawgeti_(l, -1, i + 1);
                        continue 'value;
                    }
                    EncFrame::Object { comma } => {
                        if ffi::lua_next(l, -2) == 0 {
                            cfg.buf.push(b'}');
                            cfg.enc.pop();
                            continue;
                        }
                        if comma {
                            cfg.buf.push(b',');
                        }
                        if let Some(top) = cfg.enc.last_mut() {
                            *top = EncFrame::Object { comma: true };
                        }
                        match ffi::lua_type(l, -2) {
                            ffi::LUA_TNUMBER => {
                                cfg.buf.push(b'"');
                                append_number(l, cfg, -2);
                                cfg.buf.extend_from_slice(b"\":");
                            }
                            ffi::LUA_TSTRING => {
                                append_string(l, &mut cfg.buf, -2);
                                cfg.buf.push(b':');
                            }
                            _ => encode_exception(l, -2, c"table key must be a number or string"),
                        }
                        continue 'value;
                    }
                }
            }
        }
    }
}

/// `cjson.encode(value)`.
unsafe extern "C-unwind" fn encode(l: *mut lua_State) -> c_int {
    unsafe {
        let cfg = fetch_config(l);
        if ffi::lua_gettop(l) != 1 {
            super::arg_error(l, 1, c"expected 1 argument");
        }
        cfg.buf.clear();
        if cfg.buf.capacity() > KEEP_CAPACITY || cfg.encode_keep_buffer == 0 {
            cfg.buf = Vec::new();
        }
        append_data(l, cfg);
        super::push_bytes(l, &cfg.buf);
        if cfg.encode_keep_buffer == 0 || cfg.buf.capacity() > KEEP_CAPACITY {
            cfg.buf = Vec::new();
        }
    }
    1
}

// ===== Decoding =====

#[derive(Clone, Copy)]
struct Token {
    kind: Tok,
    /// 0-based offset of the token (or of the error).
    index: usize,
    number: f64,
    boolean: bool,
    /// For `Tok::Error`: what is wrong.
    error: &'static CStr,
}

/// The decoder's cursor over the JSON text, which Lua keeps NUL-terminated.
struct Parser<'a> {
    data: &'a [u8],
    ptr: usize,
    cfg: *mut Config,
    depth: c_int,
}

impl Parser<'_> {
    /// The byte at `i`, 0 at and past the end (the C string's terminator).
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn starts_with(&self, word: &[u8]) -> bool {
        word.iter().enumerate().all(|(i, &c)| self.at(self.ptr + i) == c)
    }

    fn cfg(&mut self) -> &mut Config {
        // SAFETY: the configuration userdata is an upvalue of the running
        // function, alive for the whole call.
        unsafe { &mut *self.cfg }
    }

    fn set_error(&self, token: &mut Token, what: &'static CStr) {
        token.kind = Tok::Error;
        token.index = self.ptr;
        token.error = what;
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let mut v = 0;
        for i in 0..4 {
            let d = (self.at(at + i) as char).to_digit(16)?;
            v = (v << 4) | d;
        }
        Some(v)
    }

    /// `json_append_unicode_escape`: `\uXXXX` (or a surrogate pair) as
    /// UTF-8 in the string buffer.
    fn unicode_escape(&mut self) -> bool {
        let Some(mut cp) = self.hex4(self.ptr + 2) else { return false };
        let mut escape_len = 6;
        if cp & 0xF800 == 0xD800 {
            if cp & 0x400 != 0 {
                return false;
            }
            if self.at(self.ptr + escape_len) != b'\\' || self.at(self.ptr + escape_len + 1) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.ptr + 2 + escape_len) else { return false };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            escape_len = 12;
        }
        let mut utf8 = [0u8; 4];
        let len = if cp <= 0x7F {
            utf8[0] = cp as u8;
            1
        } else if cp <= 0x7FF {
            utf8[0] = ((cp >> 6) | 0xC0) as u8;
            utf8[1] = ((cp & 0x3F) | 0x80) as u8;
            2
        } else if cp <= 0xFFFF {
            utf8[0] = ((cp >> 12) | 0xE0) as u8;
            utf8[1] = (((cp >> 6) & 0x3F) | 0x80) as u8;
            utf8[2] = ((cp & 0x3F) | 0x80) as u8;
            3
        } else {
            utf8[0] = ((cp >> 18) | 0xF0) as u8;
            utf8[1] = (((cp >> 12) & 0x3F) | 0x80) as u8;
            utf8[2] = (((cp >> 6) & 0x3F) | 0x80) as u8;
            utf8[3] = ((cp & 0x3F) | 0x80) as u8;
            4
        };
        self.cfg().tmp.extend_from_slice(&utf8[..len]);
        self.ptr += escape_len;
        true
    }

    /// `json_next_string_token`: the string starting at `"` into `tmp`.
    fn string_token(&mut self, token: &mut Token) {
        self.ptr += 1;
        self.cfg().tmp.clear();
        loop {
            let mut ch = self.at(self.ptr);
            if ch == b'"' {
                break;
            }
            if ch == 0 {
                self.set_error(token, c"unexpected end of string");
                return;
            }
            if ch == b'\\' {
                ch = escape2char(self.at(self.ptr + 1));
                if ch == b'u' {
                    if self.unicode_escape() {
                        continue;
                    }
                    self.set_error(token, c"invalid unicode escape code");
                    return;
                }
                if ch == 0 {
                    self.set_error(token, c"invalid escape code");
                    return;
                }
                self.ptr += 1;
            }
            self.cfg().tmp.push(ch);
            self.ptr += 1;
        }
        self.ptr += 1;
        token.kind = Tok::String;
    }

    /// `json_is_invalid_number`: text strtod takes but strict JSON does not
    /// (a leading `+`, hex, leading zeros, inf, nan).
    fn is_invalid_number(&self) -> bool {
        let mut p = self.ptr;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        let c = self.at(p);
        if c == b'0' {
            let ch2 = self.at(p + 1);
            return ch2 | 0x20 == b'x' || ch2.is_ascii_digit();
        } else if c <= b'9' || c >= 0x80 {
            // C compares a signed char: bytes from 0x80 are below '9' too.
            return false;
        }
        let word = |w: &[u8]| (0..3).all(|i| self.at(p + i).eq_ignore_ascii_case(&w[i]));
        word(b"inf") || word(b"nan")
    }

    /// `json_next_number_token`: C's strtod from the cursor.
    fn number_token(&mut self, token: &mut Token) {
        token.kind = Tok::Number;
        let start = self.data.as_ptr().wrapping_add(self.ptr) as *const c_char;
        let mut end: *mut c_char = std::ptr::null_mut();
        // SAFETY: Lua strings are NUL-terminated, so strtod stops in bounds.
        token.number = unsafe { libc::strtod(start, &mut end) };
        let used = (end as usize).wrapping_sub(start as usize);
        if end.is_null() || used == 0 || used > self.data.len() - self.ptr {
            self.set_error(token, c"invalid number");
        } else {
            self.ptr += used;
        }
    }

    /// `json_next_token`.
    fn next_token(&mut self) -> Token {
        let mut token = Token { kind: Tok::End, index: 0, number: 0.0, boolean: false, error: c"" };
        let mut ch;
        loop {
            ch = self.at(self.ptr);
            token.kind = ch2token(ch);
            if token.kind != Tok::Whitespace {
                break;
            }
            self.ptr += 1;
        }
        token.index = self.ptr;
        match token.kind {
            Tok::Error => {
                self.set_error(&mut token, c"invalid token");
                return token;
            }
            Tok::End => return token,
            Tok::Unknown => {}
            _ => {
                self.ptr += 1;
                return token;
            }
        }
        let decode_invalid = self.cfg().decode_invalid_numbers != 0;
        if ch == b'"' {
            self.string_token(&mut token);
        } else if ch == b'-' || ch.is_ascii_digit() {
            if !decode_invalid && self.is_invalid_number() {
                self.set_error(&mut token, c"invalid number");
            } else {
                self.number_token(&mut token);
            }
        } else if self.starts_with(b"true") {
            token.kind = Tok::Boolean;
            token.boolean = true;
            self.ptr += 4;
        } else if self.starts_with(b"false") {
            token.kind = Tok::Boolean;
            token.boolean = false;
            self.ptr += 5;
        } else if self.starts_with(b"null") {
            token.kind = Tok::Null;
            self.ptr += 4;
        } else if decode_invalid && self.is_invalid_number() {
            self.number_token(&mut token);
        } else {
            self.set_error(&mut token, c"invalid token");
        }
        token
    }
}

/// `json_throw_parse_error`: `Expected <exp> but found <token> at character <n>`.
unsafe fn parse_error(l: *mut lua_State, exp: &CStr, token: &Token) -> ! {
    let found = if token.kind == Tok::Error { token.error } else { token.kind.name() };
    let at = (token.index as c_int).wrapping_add(1);
    unsafe {
        ffi::luaL_error(l, c"Expected %s but found %s at character %d".as_ptr(), exp.as_ptr(), found.as_ptr(), at);
    }
    unreachable!("luaL_error returned")
}

/// `json_decode_descend`: one level deeper, within the configured depth and
/// the Lua stack.
unsafe fn descend(l: *mut lua_State, p: &mut Parser, slots: c_int) {
    p.depth += 1;
    unsafe {
        if p.depth <= p.cfg().decode_max_depth && ffi::lua_checkstack(l, slots) != 0 {
            return;
        }
        ffi::lua_settop(l, 0);
        ffi::luaL_error(
            l,
            c"Found too many nested data structures (%d) at character %d".as_ptr(),
            p.depth,
            p.ptr as c_int,
        );
    }
}

/// Pushes the key string of an object member and consumes its colon,
/// leaving `token` on the member's value.
unsafe fn object_key(l: *mut lua_State, p: &mut Parser, token: &mut Token) {
    unsafe {
        if token.kind != Tok::String {
            parse_error(l, c"object key string", token);
        }
        super::push_bytes(l, &p.cfg().tmp);
        *token = p.next_token();
        if token.kind != Tok::Colon {
            parse_error(l, c"colon", token);
        }
        *token = p.next_token();
    }
}

/// `json_process_value` with the object and array contexts, walked with
/// `cfg.dec` instead of recursion (in the C order: a container descends
/// before its table is made, a finished element is set, then the next
/// token must be a comma or the end of its container).
unsafe fn process_value(l: *mut lua_State, p: &mut Parser, first: Token) {
    p.cfg().dec.clear();
    let mut token = first;
    unsafe {
        'value: loop {
            match token.kind {
                Tok::String => super::push_bytes(l, &p.cfg().tmp),
                Tok::Number => ffi::lua_pushnumber(l, token.number),
                Tok::Boolean => ffi::lua_pushboolean(l, c_int::from(token.boolean)),
                Tok::Null => ffi::lua_pushlightuserdata(l, std::ptr::null_mut()),
                Tok::ObjBegin => {
                    descend(l, p, 3);
                    ffi::lua_createtable(l, 0, 0);
                    token = p.next_token();
                    if token.kind == Tok::ObjEnd {
                        p.depth -= 1;
                    } else {
                        p.cfg().dec.push(None);
                        object_key(l, p, &mut token);
                        continue 'value;
                    }
                }
                Tok::ArrBegin => {
                    descend(l, p, 2);
                    ffi::lua_createtable(l, 0, 0);
                    token = p.next_token();
                    if token.kind == Tok::ArrEnd {
                        p.depth -= 1;
                    } else {
                        p.cfg().dec.push(Some(1));
                        continue 'value;
                    }
                }
                _ => parse_error(l, c"value", &token),
            }
            // A value is complete on the top of the stack: store it in its
            // container, then go on with the container.
            loop {
                let Some(&frame) = p.cfg().dec.last() else { return };
                match frame {
                    Some(i) => {
                        ffi::lua_rawseti_(l, -2, i);
                        if let Some(top) = p.cfg().dec.last_mut() {
                            *top = Some(i.wrapping_add(1));
                        }
                        token = p.next_token();
                        if token.kind == Tok::ArrEnd {
                            p.depth -= 1;
                            p.cfg().dec.pop();
                            continue;
                        }
                        if token.kind != Tok::Comma {
                            parse_error(l, c"comma or array end", &token);
                        }
                        token = p.next_token();
                        continue 'value;
                    }
                    None => {
                        ffi::lua_rawset(l, -3);
                        token = p.next_token();
                        if token.kind == Tok::ObjEnd {
                            p.depth -= 1;
                            p.cfg().dec.pop();
                            continue;
                        }
                        if token.kind != Tok::Comma {
                            parse_error(l, c"comma or object end", &token);
                        }
                        token = p.next_token();
                        object_key(l, p, &mut token);
                        continue 'value;
                    }
                }
            }
        }
    }
}

/// `cjson.decode(text)`.
unsafe extern "C-unwind" fn decode(l: *mut lua_State) -> c_int {
    unsafe {
        if ffi::lua_gettop(l) != 1 {
            super::arg_error(l, 1, c"expected 1 argument");
        }
        let cfg = fetch_config(l);
        let data = super::check_bytes(l, 1);
        if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
            ffi::luaL_error(l, c"JSON parser does not support UTF-16 or UTF-32".as_ptr());
        }
        if cfg.tmp.capacity() > KEEP_CAPACITY {
            cfg.tmp = Vec::new();
        }
        let mut p = Parser { data, ptr: 0, cfg, depth: 0 };
        let token = p.next_token();
        process_value(l, &mut p, token);
        let token = p.next_token();
        if token.kind != Tok::End {
            parse_error(l, c"the end", &token);
        }
        if p.cfg().tmp.capacity() > KEEP_CAPACITY {
            p.cfg().tmp = Vec::new();
        }
    }
    1
}

// ===== Initialisation =====

const FUNCS: &[(&CStr, CFn)] = &[
    (c"encode", encode),
    (c"decode", decode),
    (c"encode_sparse_array", cfg_encode_sparse_array),
    (c"encode_max_depth", cfg_encode_max_depth),
    (c"decode_max_depth", cfg_decode_max_depth),
    (c"encode_number_precision", cfg_encode_number_precision),
    (c"encode_keep_buffer", cfg_encode_keep_buffer),
    (c"encode_invalid_numbers", cfg_encode_invalid_numbers),
    (c"decode_invalid_numbers", cfg_decode_invalid_numbers),
    (c"new", new),
];

/// `lua_cjson_new` (also `cjson.new()`): a module table with a fresh
/// configuration.
unsafe extern "C-unwind" fn new(l: *mut lua_State) -> c_int {
    unsafe {
        ffi::lua_createtable(l, 0, FUNCS.len() as c_int + 3);
        create_config(l);
        super::set_funcs(l, FUNCS, 1);
        ffi::lua_pushlightuserdata(l, std::ptr::null_mut());
        ffi::lua_setfield(l, -2, c"null".as_ptr());
        ffi::lua_pushstring_(l, c"cjson".as_ptr());
        ffi::lua_setfield(l, -2, c"_NAME".as_ptr());
        ffi::lua_pushstring_(l, c"2.1.0".as_ptr());
        ffi::lua_setfield(l, -2, c"_VERSION".as_ptr());
    }
    1
}

/// Pushes a new `cjson` table.
pub(crate) unsafe fn open_raw(l: *mut lua_State) {
    unsafe {
        new(l);
    }
}

/// Opens `cjson` as a global in `lua`.
pub fn open(lua: &mlua::Lua) -> mlua::Result<()> {
    super::open_global(lua, c"cjson", open_raw)
}

#[cfg(test)]
mod tests {
    /// Lua expressions and what redis-server 7.0.15 returned for them
    /// (recorded with scripts/record_lualib.py).
    const CASES: &[(&str, &str)] = &[
        (
            r#"cjson._NAME, cjson._VERSION, cjson.null, type(cjson.new), type(cjson.null)"#,
            r#""cjson" "2.1.0" userdata "function" "userdata""#,
        ),
        (
            r#"cjson.encode(1), cjson.encode(-0.5), cjson.encode(0.1), cjson.encode(1/3), cjson.encode(1e300), cjson.encode(-1e-300), cjson.encode(2^53), cjson.encode(123456789012345678), cjson.encode(-0.0)"#,
            r#""1" "-0.5" "0.1" "0.33333333333333" "1e+300" "-1e-300" "9.007199254741e+15" "1.2345678901235e+17" "-0""#,
        ),
        (
            r#"cjson.encode(100), cjson.encode(1e14), cjson.encode(1e15), cjson.encode(12345678901234.5), cjson.encode(0.000012345), cjson.encode(3.14159265358979)"#,
            r#""100" "1e+14" "1e+15" "12345678901234" "1.2345e-05" "3.1415926535898""#,
        ),
        (
            r#"cjson.encode('abc'), cjson.encode(''), cjson.encode('a"b\\c/d'), cjson.encode('\0\1\8\9\10\12\13\31\127'), cjson.encode('\128\255\226\130\172'), cjson.encode(' ~')"#,
            r#"""abc"" """" ""a\"b\\c\/d"" ""\u0000\u0001\b\t\n\f\r\u001f\u007f"" ""\80\ff\e2\82\ac"" "" ~"""#,
        ),
        (
            r#"cjson.encode(true), cjson.encode(false), cjson.encode(nil), cjson.encode(cjson.null)"#,
            r#""true" "false" "null" "null""#,
        ),
        (
            r#"cjson.encode({}), cjson.encode({1,2,3}), cjson.encode({'a',{},{{}}}), cjson.encode({a=1}), cjson.encode({[1]=1,[3]=3}), cjson.encode({[1]='x', [2]=cjson.null, [3]=false})"#,
            r#""{}" "[1,2,3]" "["a",{},[{}]]" "{"a":1}" "[1,null,3]" "["x",null,false]""#,
        ),
        (
            r#"cjson.encode({[2]=1}), cjson.encode({[10]=1}), cjson.encode({[1]=1,[2]=2,[4]=4}), cjson.encode({[0]=1}), cjson.encode({[-1]=1}), cjson.encode({[1.5]=1}), cjson.encode({[1]=1, x=2})"#,
            r#""[null,1]" "[null,null,null,null,null,null,null,null,null,1]" "[1,2,null,4]" "{"0":1}" "{"-1":1}" "{"1.5":1}" "{"1":1,"x":2}""#,
        ),
        (r#"cjson.encode({[11]=1})"#, r#"ERR:"user_script:1: Cannot serialise table: excessively sparse array""#),
        (
            r#"cjson.encode({[20]=1, [1]=1, [2]=2, [3]=3, [4]=4, [5]=5, [6]=6, [7]=7, [8]=8, [9]=9, [10]=10})"#,
            r#""[1,2,3,4,5,6,7,8,9,10,null,null,null,null,null,null,null,null,null,1]""#,
        ),
        (
            r#"cjson.encode({[21]=1, [1]=1, [2]=2, [3]=3, [4]=4, [5]=5, [6]=6, [7]=7, [8]=8, [9]=9, [10]=10})"#,
            r#""[1,2,3,4,5,6,7,8,9,10,null,null,null,null,null,null,null,null,null,null,1]""#,
        ),
        (r#"cjson.encode({[2^31]=1})"#, r#""{"2147483648":1}""#),
        (r#"cjson.encode({[2^40]=1, [1]=2})"#, r#""[2]""#),
        (r#"cjson.encode({{{{{{{{{{'deep'}}}}}}}}}})"#, r#""[[[[[[[[[["deep"]]]]]]]]]]""#),
        (
            r#"cjson.encode({[true]=1})"#,
            r#"ERR:"user_script:1: Cannot serialise boolean: table key must be a number or string""#,
        ),
        (
            r#"cjson.encode({[{}]=1})"#,
            r#"ERR:"user_script:1: Cannot serialise table: table key must be a number or string""#,
        ),
        (r#"cjson.encode(function() end)"#, r#"ERR:"user_script:1: Cannot serialise function: type not supported""#),
        (r#"cjson.encode({f=type})"#, r#"ERR:"user_script:1: Cannot serialise function: type not supported""#),
        (
            r#"cjson.encode(coroutine.create(function() end))"#,
            r#"ERR:"user_script:1: Cannot serialise thread: type not supported""#,
        ),
        (r#"cjson.encode(0/0)"#, r#"ERR:"user_script:1: Cannot serialise number: must not be NaN or Inf""#),
        (r#"cjson.encode(1/0)"#, r#"ERR:"user_script:1: Cannot serialise number: must not be NaN or Inf""#),
        (r#"cjson.encode(-1/0)"#, r#"ERR:"user_script:1: Cannot serialise number: must not be NaN or Inf""#),
        (r#"cjson.encode({1/0})"#, r#"ERR:"user_script:1: Cannot serialise number: must not be NaN or Inf""#),
        (r#"cjson.encode({[1/0]=1})"#, r#"ERR:"user_script:1: Cannot serialise number: must not be NaN or Inf""#),
        (r#"cjson.encode()"#, r#"ERR:"user_script:1: bad argument #1 to 'encode' (expected 1 argument)""#),
        (r#"cjson.encode(1, 2)"#, r#"ERR:"user_script:1: bad argument #1 to 'encode' (expected 1 argument)""#),
        (
            r#"(function() local t = {} t[1] = t return cjson.encode(t) end)()"#,
            r#"ERR:"user_script:1: Cannot serialise, excessive nesting (1001)""#,
        ),
        (
            r#"(function() local t = {} local c = t for i=1,999 do c[1] = {} c = c[1] end return #cjson.encode(t) end)()"#,
            r#"2000"#,
        ),
        (
            r#"(function() local t = {} local c = t for i=1,1000 do c[1] = {} c = c[1] end return cjson.encode(t) end)()"#,
            r#"ERR:"user_script:1: Cannot serialise, excessive nesting (1001)""#,
        ),
        (
            r#"(function() local t = {} local c = t for i=1,1000 do c.k = {} c = c.k end return cjson.encode(t) end)()"#,
            r#"ERR:"user_script:1: Cannot serialise, excessive nesting (1001)""#,
        ),
        (
            r#"cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision(), cjson.encode_keep_buffer(), cjson.encode_invalid_numbers(), cjson.decode_invalid_numbers(), cjson.encode_sparse_array()"#,
            r#"1000 1000 14 true false true false 2 10"#,
        ),
        (r#"cjson.encode_max_depth(5), cjson.encode({{{{{1}}}}})"#, r#"5 "[[[[[1]]]]]""#),
        (
            r#"(function() cjson.encode_max_depth(5) return cjson.encode({{{{{{1}}}}}}) end)()"#,
            r#"ERR:"user_script:1: Cannot serialise, excessive nesting (6)""#,
        ),
        (
            r#"cjson.encode_max_depth(0)"#,
            r#"ERR:"user_script:1: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)""#,
        ),
        (
            r#"cjson.encode_max_depth(-1)"#,
            r#"ERR:"user_script:1: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)""#,
        ),
        (
            r#"cjson.encode_max_depth('x')"#,
            r#"ERR:"user_script:1: bad argument #1 to 'encode_max_depth' (number expected, got string)""#,
        ),
        (
            r#"cjson.encode_max_depth(1, 2)"#,
            r#"ERR:"user_script:1: bad argument #2 to 'encode_max_depth' (found too many arguments)""#,
        ),
        (r#"cjson.encode_max_depth(2^32+3)"#, r#"3"#),
        (r#"cjson.encode_max_depth('7')"#, r#"7"#),
        (
            r#"cjson.encode_number_precision(3), cjson.encode(1/3), cjson.encode(12345), cjson.encode(0.0001234)"#,
            r#"3 "0.333" "1.23e+04" "0.000123""#,
        ),
        (
            r#"cjson.encode_number_precision(0)"#,
            r#"ERR:"user_script:1: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)""#,
        ),
        (
            r#"cjson.encode_number_precision(15)"#,
            r#"ERR:"user_script:1: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)""#,
        ),
        (r#"cjson.encode_number_precision(1), cjson.encode(15), cjson.encode(0.25)"#, r#"1 "2e+01" "0.2""#),
        (
            r#"cjson.encode_invalid_numbers(true), cjson.encode(0/0), cjson.encode(1/0), cjson.encode(-1/0), cjson.encode({[1/0]=1})"#,
            r#"true "nan" "inf" "-inf" "{"inf":1}""#,
        ),
        (
            r#"cjson.encode_invalid_numbers('null'), cjson.encode(0/0), cjson.encode(1/0), cjson.encode({-1/0})"#,
            r#""null" "null" "null" "[null]""#,
        ),
        (
            r#"cjson.encode_invalid_numbers('on'), cjson.encode_invalid_numbers('off'), cjson.encode_invalid_numbers(false), cjson.encode_invalid_numbers()"#,
            r#"true false false false"#,
        ),
        (
            r#"cjson.encode_invalid_numbers('maybe')"#,
            r#"ERR:"user_script:1: bad argument #1 to 'encode_invalid_numbers' (invalid option 'maybe')""#,
        ),
        (
            r#"cjson.encode_invalid_numbers(1)"#,
            r#"ERR:"user_script:1: bad argument #1 to 'encode_invalid_numbers' (invalid option '1')""#,
        ),
        (
            r#"cjson.decode_invalid_numbers('null')"#,
            r#"ERR:"user_script:1: bad argument #1 to 'decode_invalid_numbers' (invalid option 'null')""#,
        ),
        (
            r#"cjson.decode_invalid_numbers('off'), cjson.decode_invalid_numbers('on'), cjson.decode_invalid_numbers(false)"#,
            r#"false true false"#,
        ),
        (
            r#"cjson.encode_keep_buffer(false), cjson.encode({1,'a'}), cjson.encode_keep_buffer('on'), cjson.encode({2})"#,
            r#"false "[1,"a"]" true "[2]""#,
        ),
        (
            r#"cjson.encode_keep_buffer('yes')"#,
            r#"ERR:"user_script:1: bad argument #1 to 'encode_keep_buffer' (invalid option 'yes')""#,
        ),
        (
            r#"cjson.encode_sparse_array(true), cjson.encode({[20]=1}), cjson.encode({[1]=1,[4]=1})"#,
            r#"true "{"20":1}" "[1,null,null,1]""#,
        ),
        (
            r#"cjson.encode_sparse_array(false, 0), cjson.encode({[1000]=1}) == '[' .. string.rep('null,', 999) .. '1]'"#,
            r#"false true"#,
        ),
        (
            r#"cjson.encode_sparse_array(nil, 1, 0), cjson.encode({[2]=1}), cjson.encode({1,2})"#,
            r#"ERR:"user_script:1: Cannot serialise table: excessively sparse array""#,
        ),
        (r#"cjson.encode_sparse_array(nil, nil, 100), cjson.encode({[50]=true}):sub(1,10)"#, r#"false "[null,null""#),
        (
            r#"cjson.encode_sparse_array(1)"#,
            r#"ERR:"user_script:1: bad argument #1 to 'encode_sparse_array' (invalid option '1')""#,
        ),
        (
            r#"cjson.encode_sparse_array(true, -1)"#,
            r#"ERR:"user_script:1: bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)""#,
        ),
        (
            r#"cjson.encode_sparse_array(true, 1, -1)"#,
            r#"ERR:"user_script:1: bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)""#,
        ),
        (
            r#"cjson.encode_sparse_array(true, 1, 1, 1)"#,
            r#"ERR:"user_script:1: bad argument #4 to 'encode_sparse_array' (found too many arguments)""#,
        ),
        (r#"cjson.encode_sparse_array('on', 3, 4)"#, r#"true 3 4"#),
        (r#"cjson.encode_sparse_array('off')"#, r#"false 2 10"#),
        (
            r#"cjson.decode('1'), cjson.decode('-0.5'), cjson.decode('1e3'), cjson.decode('1E-2'), cjson.decode('  7  '), cjson.decode('123456789012345678901234567890')"#,
            r#"1 -0.5 1000 0.01 7 1.2345678901234568e+29"#,
        ),
        (
            r#"cjson.decode('"abc"'), cjson.decode('""'), cjson.decode('"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t"'), cjson.decode('"\\u0041\\u00e9\\u20ac\\ud83d\\ude00"'), cjson.decode('"\\u0000x"')"#,
            r#""abc" "" "a"b\c/d\08\0c\0a\0d\09" "A\c3\a9\e2\82\ac\f0\9f\98\80" "\00x""#,
        ),
        (
            r#"cjson.decode('true'), cjson.decode('false'), cjson.decode('null') == cjson.null, cjson.decode('[null]')[1] == cjson.null"#,
            r#"true false true true"#,
        ),
        (
            r#"cjson.decode('[]'), cjson.decode('{}'), cjson.decode('[1,"a",[true,{}]]'), cjson.decode('{"a":1,"b":[1,2],"c":{"d":null}}'), cjson.decode(' [ 1 , 2 ] ')"#,
            r#"{} {} {1=1,2="a",3={1=true,2={}}} {"a"=1,"b"={1=1,2=2},"c"={"d"=userdata}} {1=1,2=2}"#,
        ),
        (
            r#"cjson.decode('{"1":1,"2":2}'), cjson.decode('{"a":1,"a":2}'), cjson.decode('[1,2,3]')[3]"#,
            r#"{"1"=1,"2"=2} {"a"=2} 3"#,
        ),
        (
            r#"cjson.decode('0x10'), cjson.decode('+5'), cjson.decode('inf'), cjson.decode('-inf'), cjson.decode('nan'), cjson.decode('-Infinity'), cjson.decode('01'), cjson.decode('1.'), cjson.decode('0x1p4'), cjson.decode('-0')"#,
            r#"16 5 inf -inf nan -inf 1 1 16 -0"#,
        ),
        (r#"cjson.decode('NaN')"#, r#"nan"#),
        (
            r#"cjson.decode('[nan]')[1] ~= cjson.decode('[nan]')[1], cjson.decode('-nan') ~= cjson.decode('-nan'), cjson.decode('Inf'), cjson.decode('INFINITY'), cjson.decode('-0x10')"#,
            r#"true true inf inf -16"#,
        ),
        (r#"cjson.decode('.5')"#, r#"ERR:"user_script:1: Expected value but found invalid token at character 1""#),
        (r#"cjson.decode('1.5.2')"#, r#"ERR:"user_script:1: Expected the end but found invalid token at character 4""#),
        (r#"cjson.decode('-')"#, r#"ERR:"user_script:1: Expected value but found invalid number at character 1""#),
        (r#"cjson.decode('- 1')"#, r#"ERR:"user_script:1: Expected value but found invalid number at character 1""#),
        (r#"cjson.decode('infx')"#, r#"ERR:"user_script:1: Expected the end but found invalid token at character 4""#),
        (r#"cjson.decode('nul')"#, r#"ERR:"user_script:1: Expected value but found invalid token at character 1""#),
        (r#"cjson.decode('tru')"#, r#"ERR:"user_script:1: Expected value but found invalid token at character 1""#),
        (r#"cjson.decode('True')"#, r#"ERR:"user_script:1: Expected value but found invalid token at character 1""#),
        (r#"cjson.decode('')"#, r#"ERR:"user_script:1: Expected value but found T_END at character 1""#),
        (r#"cjson.decode(' ')"#, r#"ERR:"user_script:1: Expected value but found T_END at character 2""#),
        (r#"cjson.decode('[')"#, r#"ERR:"user_script:1: Expected value but found T_END at character 2""#),
        (r#"cjson.decode('[1')"#, r#"ERR:"user_script:1: Expected comma or array end but found T_END at character 3""#),
        (r#"cjson.decode('[1,')"#, r#"ERR:"user_script:1: Expected value but found T_END at character 4""#),
        (r#"cjson.decode('[1,]')"#, r#"ERR:"user_script:1: Expected value but found T_ARR_END at character 4""#),
        (
            r#"cjson.decode('[1 2]')"#,
            r#"ERR:"user_script:1: Expected comma or array end but found T_NUMBER at character 4""#,
        ),
        (r#"cjson.decode(']')"#, r#"ERR:"user_script:1: Expected value but found T_ARR_END at character 1""#),
        (r#"cjson.decode('{')"#, r#"ERR:"user_script:1: Expected object key string but found T_END at character 2""#),
        (r#"cjson.decode('{"a"')"#, r#"ERR:"user_script:1: Expected colon but found T_END at character 5""#),
        (r#"cjson.decode('{"a":')"#, r#"ERR:"user_script:1: Expected value but found T_END at character 6""#),
        (
            r#"cjson.decode('{"a":1')"#,
            r#"ERR:"user_script:1: Expected comma or object end but found T_END at character 7""#,
        ),
        (
            r#"cjson.decode('{"a":1,}')"#,
            r#"ERR:"user_script:1: Expected object key string but found T_OBJ_END at character 8""#,
        ),
        (r#"cjson.decode('{"a" 1}')"#, r#"ERR:"user_script:1: Expected colon but found T_NUMBER at character 6""#),
        (
            r#"cjson.decode('{1:1}')"#,
            r#"ERR:"user_script:1: Expected object key string but found T_NUMBER at character 2""#,
        ),
        (
            r#"cjson.decode('{"a":1 "b":2}')"#,
            r#"ERR:"user_script:1: Expected comma or object end but found T_STRING at character 8""#,
        ),
        (
            r#"cjson.decode('"abc')"#,
            r#"ERR:"user_script:1: Expected value but found unexpected end of string at character 5""#,
        ),
        (
            r#"cjson.decode('"a\\qb"')"#,
            r#"ERR:"user_script:1: Expected value but found invalid escape code at character 3""#,
        ),
        (
            r#"cjson.decode('"a\\u12"')"#,
            r#"ERR:"user_script:1: Expected value but found invalid unicode escape code at character 3""#,
        ),
        (
            r#"cjson.decode('"a\\u12zz"')"#,
            r#"ERR:"user_script:1: Expected value but found invalid unicode escape code at character 3""#,
        ),
        (
            r#"cjson.decode('"\\ud800"')"#,
            r#"ERR:"user_script:1: Expected value but found invalid unicode escape code at character 2""#,
        ),
        (
            r#"cjson.decode('"\\ud800\\u0041"')"#,
            r#"ERR:"user_script:1: Expected value but found invalid unicode escape code at character 2""#,
        ),
        (
            r#"cjson.decode('"\\udc00\\udc00"')"#,
            r#"ERR:"user_script:1: Expected value but found invalid unicode escape code at character 2""#,
        ),
        (
            r#"cjson.decode('"a\0b"')"#,
            r#"ERR:"user_script:1: Expected value but found unexpected end of string at character 3""#,
        ),
        (r#"cjson.decode('[1]\0garbage')"#, r#"{1=1}"#),
        (r#"cjson.decode('1 2')"#, r#"ERR:"user_script:1: Expected the end but found T_NUMBER at character 3""#),
        (r#"cjson.decode('[1] x')"#, r#"ERR:"user_script:1: Expected the end but found invalid token at character 5""#),
        (r#"cjson.decode('\0\0')"#, r#"ERR:"user_script:1: JSON parser does not support UTF-16 or UTF-32""#),
        (r#"cjson.decode('a\0')"#, r#"ERR:"user_script:1: JSON parser does not support UTF-16 or UTF-32""#),
        (r#"cjson.decode('@')"#, r#"ERR:"user_script:1: Expected value but found invalid token at character 1""#),
        (r#"cjson.decode('\255')"#, r#"ERR:"user_script:1: Expected value but found invalid token at character 1""#),
        (r#"cjson.decode('"\255\254"'), cjson.decode('"\192\128"')"#, r#""\ff\fe" "\c0\80""#),
        (r#"cjson.decode()"#, r#"ERR:"user_script:1: bad argument #1 to 'decode' (expected 1 argument)""#),
        (r#"cjson.decode(1, 2)"#, r#"ERR:"user_script:1: bad argument #1 to 'decode' (expected 1 argument)""#),
        (r#"cjson.decode({})"#, r#"ERR:"user_script:1: bad argument #1 to 'decode' (string expected, got table)""#),
        (r#"cjson.decode(12)"#, r#"12"#),
        (
            r#"cjson.decode_invalid_numbers(false), pcall(cjson.decode, '0x10'), pcall(cjson.decode, '+1'), pcall(cjson.decode, 'inf'), pcall(cjson.decode, 'nan'), pcall(cjson.decode, '01'), pcall(cjson.decode, '-0'), pcall(cjson.decode, '0.5'), pcall(cjson.decode, '-NaN')"#,
            r#"false false false false false false true true false "Expected value but found invalid number at character 1""#,
        ),
        (
            r#"(function() cjson.decode_invalid_numbers(false) return cjson.decode('0x10') end)()"#,
            r#"ERR:"user_script:1: Expected value but found invalid number at character 1""#,
        ),
        (
            r#"(function() cjson.decode_invalid_numbers(false) return cjson.decode('[+1]') end)()"#,
            r#"ERR:"user_script:1: Expected value but found invalid token at character 2""#,
        ),
        (
            r#"(function() cjson.decode_invalid_numbers(false) return cjson.decode('Infinity') end)()"#,
            r#"ERR:"user_script:1: Expected value but found invalid token at character 1""#,
        ),
        (r#"(function() return #cjson.decode(string.rep('[', 1000) .. string.rep(']', 1000)) end)()"#, r#"1"#),
        (
            r#"(function() return cjson.decode(string.rep('[', 1001) .. string.rep(']', 1001)) end)()"#,
            r#"ERR:"user_script:1: Found too many nested data structures (1001) at character 1001""#,
        ),
        (
            r#"(function() return cjson.decode(string.rep('{"a":', 1001) .. '1' .. string.rep('}', 1001)) end)()"#,
            r#"ERR:"user_script:1: Found too many nested data structures (1001) at character 5001""#,
        ),
        (
            r#"(function() cjson.decode_max_depth(3) return cjson.decode('[[[1]]]'), pcall(cjson.decode, '[[[[1]]]]') end)()"#,
            r#"{1={1={1=1}}} false "Found too many nested data structures (4) at character 4""#,
        ),
        (
            r#"(function() cjson.decode_max_depth(100000) return pcall(cjson.decode, string.rep('[', 100000)) end)()"#,
            r#"false "Found too many nested data structures (7999) at character 7999""#,
        ),
        (
            r#"(function() cjson.decode_max_depth(100000) return pcall(cjson.decode, string.rep('{"":', 100000)) end)()"#,
            r#"false "Found too many nested data structures (4000) at character 15997""#,
        ),
        (
            r#"(function() cjson.encode_max_depth(100000) local t = {} t[1] = t return pcall(cjson.encode, t) end)()"#,
            r#"false "Cannot serialise, excessive nesting (7998)""#,
        ),
        (
            r#"(function() cjson.encode_max_depth(100000) local t = {} t.a = t return pcall(cjson.encode, t) end)()"#,
            r#"false "Cannot serialise, excessive nesting (4000)""#,
        ),
        (
            r#"(function() local c = cjson.new() c.encode_max_depth(2) return c.encode_max_depth(), cjson.encode_max_depth(), c._NAME, c.null == cjson.null, pcall(c.encode, {{{1}}}) end)()"#,
            r#"2 1000 "cjson" true false "Cannot serialise, excessive nesting (3)""#,
        ),
        (
            r#"(function() local s = cjson.encode({a={1,2,{b='c'}}, d='e'}) local t = cjson.decode(s) return t.a[3].b, t.d, #t.a end)()"#,
            r#""c" "e" 3"#,
        ),
        (r#"cjson.decode(cjson.encode('\0\1\127\255 \226\130\172"\\/'))"#, r#""\00\01\7f\ff \e2\82\ac"\/""#),
        (
            r#"cjson.decode(cjson.encode({1.5, -2, 1e100, 'x', true, false, {}}))"#,
            r#"{1=1.5,2=-2,3=1e+100,4="x",5=true,6=false,7={}}"#,
        ),
        (r#"cjson.encode(cjson.decode('{"a":[1,2,{"b":null}]}'))"#, r#""{"a":[1,2,{"b":null}]}""#),
        (
            r#"(function() local f = cjson.encode return f(1, 2) end)()"#,
            r#"ERR:"user_script:1: bad argument #1 to 'f' (expected 1 argument)""#,
        ),
        (r#"pcall(cjson.encode, 1, 2)"#, r#"false "bad argument #1 to '?' (expected 1 argument)""#),
        (r#"cjson.encode({[1]=1, [2]=2, [3]=nil, [4]=4})"#, r#""[1,2,null,4]""#),
        (r#"cjson.encode({1, 2, nil, 4})"#, r#""[1,2,null,4]""#),
        (r#"cjson.encode({n=1, [1]=2})"#, r#""{"1":2,"n":1}""#),
        (r#"cjson.encode(setmetatable({}, {__index=function() return 1 end}))"#, r#""{}""#),
        (r#"cjson.encode('\226\128\168\226\128\169')"#, r#"""\e2\80\a8\e2\80\a9"""#),
    ];

    #[test]
    fn same_as_redis() {
        super::super::check(super::open, CASES);
    }
}
