//! Replies rendered the way `scripts/resp_transcript.py` prints them, and
//! the replay of a transcript recorded with it against Redis: every command
//! runs through the real client and its reply must match Redis's.

use super::TestServer;
use redis::Value;

/// A reply rendered the way `scripts/resp_transcript.py` prints it.
pub fn render(v: &Value) -> String {
    match v {
        Value::Nil => "nil".into(),
        Value::Int(n) => format!(":{n}"),
        Value::BulkString(b) => py_repr(&String::from_utf8_lossy(b)),
        Value::Array(a) => format!("*[{}]", a.iter().map(render).collect::<Vec<_>>().join(", ")),
        Value::SimpleString(s) => format!("+{s}"),
        Value::Okay => "+OK".into(),
        other => format!("{other:?}"),
    }
}

/// A string as Python's `repr` writes it (the script renders bulk strings
/// so): single quotes, or double quotes when only a single quote is in it.
fn py_repr(s: &str) -> String {
    let q = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::from(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// [`run`] of a space-separated command line (no quoting).
#[allow(dead_code)]
pub fn run_line(con: &mut redis::Connection, line: &str) -> String {
    let args: Vec<&str> = line.split(' ').collect();
    run(con, &args)
}

/// Runs a command and renders its reply or error (`-CODE detail`).
pub fn run<A: AsRef<[u8]>>(con: &mut redis::Connection, args: &[A]) -> String {
    let mut c = redis::cmd(std::str::from_utf8(args[0].as_ref()).expect("command name"));
    for a in &args[1..] {
        c.arg(a.as_ref());
    }
    match c.query::<Value>(con) {
        Ok(v) => render(&v),
        Err(e) => format!("-{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or("")),
    }
}

/// Splits a transcript command: words separated by spaces, `"..."` or
/// `'...'` quoting (no escapes; `''` is an empty argument).
pub fn split_words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c == ' ' {
            chars.next();
            continue;
        }
        let mut word = String::new();
        if c == '"' || c == '\'' {
            chars.next();
            for d in chars.by_ref() {
                if d == c {
                    break;
                }
                word.push(d);
            }
        } else {
            while let Some(&d) = chars.peek() {
                if d == ' ' {
                    break;
                }
                word.push(d);
                chars.next();
            }
        }
        out.push(word);
    }
    out
}

/// Replays a transcript (`command  =>  reply` lines; `#` lines and blank
/// lines skipped) on one connection and asserts every reply; returns how
/// many commands it checked.
pub fn replay(s: &TestServer, text: &str) -> usize {
    let mut c = s.client();
    let mut checked = 0;
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let (cmd, want) = line.split_once("  =>  ").expect("transcript line");
        // The client library reads a null array as nil too (GEOPOS has
        // them inside an array).
        let want = want.replace("nil*", "nil");
        let got = run(&mut c, &split_words(cmd));
        assert_eq!(got, want, "{cmd}");
        checked += 1;
    }
    checked
}
