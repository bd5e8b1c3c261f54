//! Conversions between Lua values and RESP, both ways, as Redis 7.0's
//! `script_lua.c` makes them.
//!
//! Redis → Lua (a reply of a command a script called, in the script's
//! protocol, `redis.setresp`): integer → number, bulk → string, array →
//! table, status → `{ok=...}`, error → `{err=...}`, RESP2 null → false;
//! RESP3 adds map → `{map={...}}`, set → `{set={k=true}}`, null → nil,
//! boolean → boolean, double → `{double=n}`, big number →
//! `{big_number="..."}`, verbatim → `{verbatim_string={format=,string=}}`
//! (attributes are skipped).
//!
//! Lua → Redis (what a script returns, written in the caller's protocol):
//! string → bulk, number → integer (truncated), boolean → 1 / null in a
//! RESP2 script, a RESP3 boolean after `redis.setresp(3)`, and a table is
//! the first of: `err`, `ok`, `double`, `big_number`, `map`, `set`,
//! `verbatim_string` fields, else an array up to its first nil.

use super::lib::{check_stack, push_bytes};
use crate::resp::{Proto, Reply};
use mlua::ffi::{self, lua_State};
use mlua::{Table, Value as LuaValue};
use std::ffi::c_int;

/// Nesting at which Redis's Lua stack runs out while writing a reply
/// (`reached lua stack limit`), counted from the value returned.
const MAX_DEPTH: usize = 7995;

/// An error written into a reply: its text and whether Redis leaves it out
/// of the error statistics (it was counted when the command a script
/// called replied with it).
pub struct Written {
    pub text: String,
    pub counted_already: bool,
}

/// Redis's `(long long)` of a Lua number (x86: out of range and NaN give
/// the smallest integer).
pub fn number_to_int(n: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if n.is_nan() || !(-LIMIT..LIMIT).contains(&n) { i64::MIN } else { n as i64 }
}

fn map_crlf(b: &[u8]) -> String {
    String::from_utf8_lossy(b).replace(['\r', '\n'], " ")
}

fn field(t: &Table, name: &str) -> LuaValue {
    t.raw_get(name).unwrap_or(LuaValue::Nil)
}

/// Writes `v` as a reply into `out`; `resp3` is the script's protocol
/// (which decides how booleans go). Returns the errors written.
pub fn write_value(out: &mut Reply, v: LuaValue, resp3: bool) -> Vec<Written> {
    let mut errors = Vec::new();
    let mut work: Vec<(LuaValue, usize)> = vec![(v, 0)];
    while let Some((v, depth)) = work.pop() {
        if depth >= MAX_DEPTH {
            let text = "ERR reached lua stack limit".to_string();
            out.error(&text);
            errors.push(Written { text, counted_already: false });
            continue;
        }
        match v {
            LuaValue::String(s) => out.bulk(&s.as_bytes()),
            LuaValue::Integer(n) => out.int(n),
            LuaValue::Number(n) => out.int(number_to_int(n)),
            LuaValue::Boolean(b) if resp3 => out.boolean(b),
            LuaValue::Boolean(true) => out.int(1),
            LuaValue::Table(t) => write_table(out, t, depth, &mut work, &mut errors),
            _ => out.null(),
        }
    }
    errors
}

fn write_table(out: &mut Reply, t: Table, depth: usize, work: &mut Vec<(LuaValue, usize)>, errors: &mut Vec<Written>) {
    if let LuaValue::String(e) = field(&t, "err") {
        let text = map_crlf(&e.as_bytes());
        out.error(&text);
        let counted_already = matches!(field(&t, "ignore_error_stats_update"), LuaValue::Boolean(true));
        errors.push(Written { text, counted_already });
        return;
    }
    if let LuaValue::String(s) = field(&t, "ok") {
        out.simple(&map_crlf(&s.as_bytes()));
        return;
    }
    match field(&t, "double") {
        LuaValue::Number(d) => return out.double(d),
        LuaValue::Integer(d) => return out.double(d as f64),
        _ => {}
    }
    if let LuaValue::String(s) = field(&t, "big_number") {
        out.bignum(map_crlf(&s.as_bytes()).as_bytes());
        return;
    }
    if let LuaValue::Table(m) = field(&t, "map") {
        let pairs: Vec<(LuaValue, LuaValue)> = m.pairs::<LuaValue, LuaValue>().filter_map(Result::ok).collect();
        out.map(pairs.len());
        for (k, v) in pairs.into_iter().rev() {
            work.push((v, depth + 1));
            work.push((k, depth + 1));
        }
        return;
    }
    if let LuaValue::Table(s) = field(&t, "set") {
        let keys: Vec<LuaValue> = s.pairs::<LuaValue, LuaValue>().filter_map(Result::ok).map(|(k, _)| k).collect();
        out.set(keys.len());
        for k in keys.into_iter().rev() {
            work.push((k, depth + 1));
        }
        return;
    }
    if let LuaValue::Table(v) = field(&t, "verbatim_string")
        && let (LuaValue::String(format), LuaValue::String(text)) = (field(&v, "format"), field(&v, "string"))
    {
        let (format, text) = (format.as_bytes(), text.as_bytes());
        match out.proto {
            Proto::Resp2 => out.bulk(&text),
            Proto::Resp3 => {
                let mut f = [b' '; 3];
                for (d, s) in f.iter_mut().zip(format.iter()) {
                    *d = *s;
                }
                out.buf.extend_from_slice(format!("={}\r\n", text.len() + 4).as_bytes());
                out.buf.extend_from_slice(&f);
                out.buf.push(b':');
                out.buf.extend_from_slice(&text);
                out.buf.extend_from_slice(b"\r\n");
            }
        }
        return;
    }
    let mut items = Vec::new();
    for i in 1.. {
        match t.raw_get::<LuaValue>(i) {
            Ok(LuaValue::Nil) | Err(_) => break,
            Ok(v) => items.push(v),
        }
    }
    out.array(items.len());
    for v in items.into_iter().rev() {
        work.push((v, depth + 1));
    }
}

/// `CODE msg` from an error text as Redis reads `-CODE msg` (Redis's
/// `luaPushErrorBuff`): without a space the whole text is the message,
/// under ERR; line breaks at either end of the message go. The code and
/// the message, as slices of `text`.
pub fn error_parts(text: &[u8]) -> (&[u8], &[u8]) {
    let (code, msg): (&[u8], &[u8]) = match memchr::memchr(b' ', text) {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (b"ERR", text),
    };
    let is_crlf = |b: &u8| *b == b'\r' || *b == b'\n';
    let start = msg.iter().position(|b| !is_crlf(b)).unwrap_or(msg.len());
    let end = msg.iter().rposition(|b| !is_crlf(b)).map_or(start, |i| i + 1);
    (code, &msg[start..end.max(start)])
}

/// [`error_parts`] joined: `CODE msg`.
pub fn error_text(text: &[u8]) -> Vec<u8> {
    let (code, msg) = error_parts(text);
    let mut out = code.to_vec();
    out.push(b' ');
    out.extend_from_slice(msg);
    out
}

/// The line at `*at` (up to its CR LF), moving `*at` past it.
fn line<'b>(buf: &'b [u8], at: &mut usize) -> &'b [u8] {
    let start = (*at).min(buf.len());
    // Most lines are a few bytes (a length, an integer): a plain loop
    // finds their end sooner than memchr's set-up.
    let rest = &buf[start..];
    let end = match rest.iter().take(16).position(|b| *b == b'\r') {
        Some(i) => start + i,
        None => memchr::memchr(b'\r', rest).map_or(buf.len(), |i| start + i),
    };
    *at = (end + 2).min(buf.len());
    &buf[start..end]
}

/// A decimal integer (0 when it is not one: the dispatcher wrote it).
fn int_of(b: &[u8]) -> i64 {
    let (neg, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    let mut n: i64 = 0;
    for d in digits {
        if !d.is_ascii_digit() {
            return 0;
        }
        n = n.wrapping_mul(10).wrapping_add(i64::from(d - b'0'));
    }
    if neg { n.wrapping_neg() } else { n }
}

/// The `n` bytes at `*at` (a bulk's body), moving `*at` past them and
/// their CR LF.
fn body<'b>(buf: &'b [u8], at: &mut usize, n: usize) -> &'b [u8] {
    let start = (*at).min(buf.len());
    let end = start.saturating_add(n).min(buf.len());
    *at = (end + 2).min(buf.len());
    &buf[start..end]
}

/// Pushes `{name=<value at the top>}` in place of the value.
///
/// # Safety
/// A value is at the top of `l`'s stack, with room for 2 more.
unsafe fn wrap(l: *mut lua_State, name: &[u8]) {
    unsafe {
        ffi::lua_createtable(l, 0, 1);
        push_bytes(l, name);
        ffi::lua_pushvalue(l, -3);
        ffi::lua_rawset(l, -3);
        ffi::lua_replace(l, -2);
    }
}

/// Pushes the error table of the error line `text` (without its `-`):
/// `{err="CODE msg", ignore_error_stats_update=true}` (the command that
/// replied with it counted it already).
///
/// # Safety
/// Room for 4 more values on `l`'s stack.
pub(crate) unsafe fn push_reply_error(l: *mut lua_State, text: &[u8]) {
    let (code, msg) = error_parts(text);
    unsafe {
        ffi::lua_createtable(l, 0, 2);
        push_bytes(l, b"err");
        push_bytes(l, code);
        push_bytes(l, b" ");
        push_bytes(l, msg);
        ffi::lua_concat(l, 3);
        ffi::lua_rawset(l, -3);
        push_bytes(l, b"ignore_error_stats_update");
        ffi::lua_pushboolean(l, 1);
        ffi::lua_rawset(l, -3);
    }
}

/// Pushes the reply at `buf[*at..]` (the reply of a command a script
/// called, written by the dispatcher in the script's protocol) as one Lua
/// value (Redis's `redisProtocolToLuaType`), moving `*at` past it.
///
/// Only plain values live in these frames: a Lua error (no room on the
/// stack, no memory) may cross them.
///
/// # Safety
/// `l` is the state of a running C function with room for 6 more values
/// (an aggregate makes room for its elements itself).
pub(crate) unsafe fn push_reply(l: *mut lua_State, buf: &[u8], at: &mut usize) {
    unsafe {
        if *at >= buf.len() {
            ffi::lua_pushnil(l);
            return;
        }
        let tag = buf[*at];
        *at += 1;
        let l1 = line(buf, at);
        match tag {
            b'+' => {
                push_bytes(l, l1);
                wrap(l, b"ok");
            }
            b'-' => push_reply_error(l, l1),
            b':' => ffi::lua_pushnumber(l, int_of(l1) as f64),
            b'$' => match usize::try_from(int_of(l1)) {
                Ok(n) => push_bytes(l, body(buf, at, n)),
                Err(_) => ffi::lua_pushboolean(l, 0),
            },
            b'*' | b'~' | b'%' | b'>' => {
                let Ok(n) = usize::try_from(int_of(l1)) else {
                    ffi::lua_pushboolean(l, 0);
                    return;
                };
                // Room for this table, a key and a value, and what a
                // scalar element pushes (the caller guarantees room for
                // one value and an error table: LUA_MINSTACK).
                check_stack(l, 8, c"redis.call reply");
                // Maps and sets start empty and grow as Redis's do
                // (lua_newtable, then one insertion per pair in reply
                // order): the table's layout, so the order `next` walks
                // it in when the script returns it, is then Redis's.
                match tag {
                    b'%' => {
                        ffi::lua_createtable(l, 0, 0);
                        for _ in 0..n {
                            push_reply(l, buf, at);
                            push_reply(l, buf, at);
                            if ffi::lua_type(l, -2) == ffi::LUA_TNIL {
                                ffi::lua_pop(l, 2);
                            } else {
                                ffi::lua_rawset(l, -3);
                            }
                        }
                        wrap(l, b"map");
                    }
                    b'~' => {
                        ffi::lua_createtable(l, 0, 0);
                        for _ in 0..n {
                            push_reply(l, buf, at);
                            if ffi::lua_type(l, -1) == ffi::LUA_TNIL {
                                ffi::lua_pop(l, 1);
                            } else {
                                ffi::lua_pushboolean(l, 1);
                                ffi::lua_rawset(l, -3);
                            }
                        }
                        wrap(l, b"set");
                    }
                    _ => {
                        ffi::lua_createtable(l, n.min(1 << 16) as c_int, 0);
                        for i in 0..n {
                            push_reply(l, buf, at);
                            ffi::lua_rawseti_(l, -2, (i + 1) as c_int);
                        }
                    }
                }
            }
            b'_' => ffi::lua_pushnil(l),
            b'#' => ffi::lua_pushboolean(l, c_int::from(l1 == b"t")),
            b',' => {
                let d = match l1 {
                    b"inf" => f64::INFINITY,
                    b"-inf" => f64::NEG_INFINITY,
                    b"nan" => f64::NAN,
                    b"-nan" => -f64::NAN,
                    _ => std::str::from_utf8(l1).ok().and_then(|s| s.parse().ok()).unwrap_or(0.0),
                };
                ffi::lua_pushnumber(l, d);
                wrap(l, b"double");
            }
            b'(' => {
                push_bytes(l, l1);
                wrap(l, b"big_number");
            }
            b'=' => {
                let all = body(buf, at, usize::try_from(int_of(l1)).unwrap_or(0));
                let (format, text) = if all.len() >= 4 { (&all[..3], &all[4..]) } else { (&b"txt"[..], all) };
                ffi::lua_createtable(l, 0, 2);
                push_bytes(l, b"format");
                push_bytes(l, format);
                ffi::lua_rawset(l, -3);
                push_bytes(l, b"string");
                push_bytes(l, text);
                ffi::lua_rawset(l, -3);
                wrap(l, b"verbatim_string");
            }
            b'|' => {
                check_stack(l, 8, c"redis.call reply");
                // An attribute: its pairs are skipped, the reply follows.
                for _ in 0..int_of(l1).max(0) * 2 {
                    push_reply(l, buf, at);
                    ffi::lua_pop(l, 1);
                }
                push_reply(l, buf, at);
            }
            _ => ffi::lua_pushnil(l),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_texts_get_a_code() {
        assert_eq!(error_text(b"ERR value is bad"), b"ERR value is bad");
        assert_eq!(error_text(b"WRONGTYPE Operation"), b"WRONGTYPE Operation");
        assert_eq!(error_text(b"FOO"), b"ERR FOO");
        assert_eq!(error_text(b""), b"ERR ");
        assert_eq!(error_text(b"ERR x\r\n"), b"ERR x");
    }

    #[test]
    fn numbers_truncate_like_c() {
        assert_eq!(number_to_int(1.9), 1);
        assert_eq!(number_to_int(-1.9), -1);
        assert_eq!(number_to_int(1e20), i64::MIN);
        assert_eq!(number_to_int(f64::NAN), i64::MIN);
        assert_eq!(number_to_int(f64::INFINITY), i64::MIN);
    }
}
