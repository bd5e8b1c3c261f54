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

use crate::resp::{Proto, Reply};
use mlua::{Lua, Table, Value as LuaValue};

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

/// The error table Redis pushes for an error reply `text` (without the
/// leading `-`): `{err="CODE msg", ignore_error_stats_update=true}`, the
/// code ERR when the text has none (Redis's `luaPushErrorBuff`).
pub fn error_table(lua: &Lua, text: &[u8], counted: bool) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("err", lua.create_string(error_text(text))?)?;
    if counted {
        t.raw_set("ignore_error_stats_update", true)?;
    }
    Ok(t)
}

/// `CODE msg` from an error text as Redis reads `-CODE msg`: without a
/// space the whole text is the message, under ERR; line breaks at either
/// end go.
pub fn error_text(text: &[u8]) -> Vec<u8> {
    let (code, msg): (&[u8], &[u8]) = match memchr::memchr(b' ', text) {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (b"ERR", text),
    };
    let is_crlf = |b: &u8| *b == b'\r' || *b == b'\n';
    let start = msg.iter().position(|b| !is_crlf(b)).unwrap_or(msg.len());
    let end = msg.iter().rposition(|b| !is_crlf(b)).map_or(start, |i| i + 1);
    let mut out = code.to_vec();
    out.push(b' ');
    out.extend_from_slice(&msg[start..end.max(start)]);
    out
}

/// Reads one reply from `buf` at `*at` as a Lua value (the reply of a
/// command a script called, written by the dispatcher in `proto`).
/// Returns the value and whether it is an error.
pub fn read_reply(lua: &Lua, buf: &[u8], at: &mut usize) -> mlua::Result<(LuaValue, bool)> {
    let line = |at: &mut usize| -> &[u8] {
        let start = *at;
        let end = memchr::memmem::find(&buf[start..], b"\r\n").map_or(buf.len(), |i| start + i);
        *at = (end + 2).min(buf.len());
        &buf[start..end]
    };
    let num = |b: &[u8]| -> i64 { std::str::from_utf8(b).ok().and_then(|s| s.parse().ok()).unwrap_or(0) };
    if *at >= buf.len() {
        return Ok((LuaValue::Nil, false));
    }
    let tag = buf[*at];
    *at += 1;
    let l = line(at);
    Ok(match tag {
        b'+' => {
            let t = lua.create_table()?;
            t.raw_set("ok", lua.create_string(l)?)?;
            (LuaValue::Table(t), false)
        }
        b'-' => (LuaValue::Table(error_table(lua, l, true)?), true),
        b':' => (LuaValue::Number(num(l) as f64), false),
        b'$' => {
            let n = num(l);
            if n < 0 {
                (LuaValue::Boolean(false), false)
            } else {
                let start = *at;
                let end = (start + n as usize).min(buf.len());
                *at = (end + 2).min(buf.len());
                (LuaValue::String(lua.create_string(&buf[start..end])?), false)
            }
        }
        b'*' | b'~' | b'%' | b'>' => {
            let n = num(l);
            if n < 0 {
                return Ok((LuaValue::Boolean(false), false));
            }
            let n = n as usize;
            match tag {
                b'%' => {
                    let m = lua.create_table()?;
                    for _ in 0..n {
                        let (k, _) = read_reply(lua, buf, at)?;
                        let (v, _) = read_reply(lua, buf, at)?;
                        if !k.is_nil() {
                            m.raw_set(k, v)?;
                        }
                    }
                    let t = lua.create_table()?;
                    t.raw_set("map", m)?;
                    (LuaValue::Table(t), false)
                }
                b'~' => {
                    let s = lua.create_table()?;
                    for _ in 0..n {
                        let (k, _) = read_reply(lua, buf, at)?;
                        if !k.is_nil() {
                            s.raw_set(k, true)?;
                        }
                    }
                    let t = lua.create_table()?;
                    t.raw_set("set", s)?;
                    (LuaValue::Table(t), false)
                }
                _ => {
                    let t = lua.create_table_with_capacity(n, 0)?;
                    for i in 0..n {
                        let (v, _) = read_reply(lua, buf, at)?;
                        t.raw_set(i + 1, v)?;
                    }
                    (LuaValue::Table(t), false)
                }
            }
        }
        b'_' => (LuaValue::Nil, false),
        b'#' => (LuaValue::Boolean(l == b"t"), false),
        b',' => {
            let d = match l {
                b"inf" => f64::INFINITY,
                b"-inf" => f64::NEG_INFINITY,
                b"nan" => f64::NAN,
                b"-nan" => -f64::NAN,
                _ => std::str::from_utf8(l).ok().and_then(|s| s.parse().ok()).unwrap_or(0.0),
            };
            let t = lua.create_table()?;
            t.raw_set("double", d)?;
            (LuaValue::Table(t), false)
        }
        b'(' => {
            let t = lua.create_table()?;
            t.raw_set("big_number", lua.create_string(l)?)?;
            (LuaValue::Table(t), false)
        }
        b'=' => {
            let n = num(l).max(0) as usize;
            let start = *at;
            let end = (start + n).min(buf.len());
            *at = (end + 2).min(buf.len());
            let body = &buf[start..end];
            let (format, text) = if body.len() >= 4 { (&body[..3], &body[4..]) } else { (&b"txt"[..], body) };
            let v = lua.create_table()?;
            v.raw_set("format", lua.create_string(format)?)?;
            v.raw_set("string", lua.create_string(text)?)?;
            let t = lua.create_table()?;
            t.raw_set("verbatim_string", v)?;
            (LuaValue::Table(t), false)
        }
        b'|' => {
            // An attribute: its pairs are skipped, the reply follows.
            for _ in 0..num(l).max(0) * 2 {
                read_reply(lua, buf, at)?;
            }
            return read_reply(lua, buf, at);
        }
        _ => (LuaValue::Nil, false),
    })
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
