//! Incremental, zero-copy RESP request parser.
//!
//! Mirrors `processMultibulkBuffer` / `processInlineBuffer` in Redis's
//! `networking.c`. The parser keeps its position between calls, so a command
//! whose bytes arrive in many reads is never re-scanned from its start: a
//! pending bulk of `n` bytes costs one length comparison per read. Arguments of
//! a multibulk request are spans relative to the command's first byte in the
//! read buffer; inline requests (telnet style) are unquoted into a scratch
//! buffer owned by the caller, since quoting means they cannot be slices.
//!
//! Invariants: `start <= pos <= buf.len()`; while a multibulk command is in
//! progress, `spans` holds the arguments already complete.

use memchr::{memchr, memchr2};

/// Longest inline request, and longest `*<n>` / `$<n>` header line
/// (Redis's `PROTO_INLINE_MAX_SIZE`).
pub const INLINE_MAX: usize = 64 * 1024;

/// A span of one argument: `(start, end)` offsets.
pub type Span = (usize, usize);

/// A protocol error; Redis replies `-ERR Protocol error: <text>` and closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtoError {
    InvalidMultibulkLength,
    InvalidBulkLength,
    ExpectedDollar(u8),
    UnbalancedQuotes,
    TooBigInline,
    TooBigMbulkCount,
    TooBigBulkCount,
    UnauthenticatedMultibulkLength,
    UnauthenticatedBulkLength,
}

impl ProtoError {
    /// The full error line Redis writes (without `-` and CRLF).
    pub fn message(&self) -> String {
        let what = match self {
            ProtoError::InvalidMultibulkLength => "invalid multibulk length".to_string(),
            ProtoError::InvalidBulkLength => "invalid bulk length".to_string(),
            ProtoError::ExpectedDollar(c) => format!("expected '$', got '{}'", *c as char),
            ProtoError::UnbalancedQuotes => "unbalanced quotes in request".to_string(),
            ProtoError::TooBigInline => "too big inline request".to_string(),
            ProtoError::TooBigMbulkCount => "too big mbulk count string".to_string(),
            ProtoError::TooBigBulkCount => "too big bulk count string".to_string(),
            ProtoError::UnauthenticatedMultibulkLength => "unauthenticated multibulk length".to_string(),
            ProtoError::UnauthenticatedBulkLength => "unauthenticated bulk length".to_string(),
        };
        format!("ERR Protocol error: {what}")
    }
}

/// Where the arguments of a parsed command live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Spans are relative to `base` in the read buffer. `one_pass`: the
    /// command was parsed by the one-pass path (`Parser::whole_command`),
    /// so its bytes from `base` on are `*<n>\r?` then `$<len>\r?<arg>??`
    /// for each argument, every number in its one canonical form; only the
    /// bytes shown `?` are unread (Redis's parser does not look at them
    /// either). Where they are all LF and CRLF, the command's bytes are
    /// exactly what `persist::propagate::write_command` writes of its
    /// arguments (see `cmd::Args::resp_frame`).
    Buffer { base: usize, one_pass: bool },
    /// Spans index the caller's inline scratch buffer.
    Inline,
}

/// Parser state for one connection.
#[derive(Debug, Default)]
pub struct Parser {
    /// First byte of the command in progress (everything before is consumed).
    start: usize,
    /// Scan position inside the command in progress.
    pos: usize,
    /// Arguments still expected; 0 when the header is not parsed yet.
    multibulk: usize,
    /// Length of the bulk being read, if its `$` line was parsed.
    bulk: Option<usize>,
    /// The client must authenticate and has not: at most 10 arguments of
    /// at most 16 KB each (Redis's `authRequired` limits), so that a
    /// stranger cannot make the server hold big requests.
    pub unauthenticated: bool,
}

/// Most arguments, and bytes in one, of an unauthenticated client's command.
const UNAUTH_ARGS: i64 = 10;
const UNAUTH_BULK: usize = 16384;

impl Parser {
    pub fn new() -> Parser {
        Parser::default()
    }

    /// Bytes of the buffer fully consumed by complete commands.
    pub fn consumed(&self) -> usize {
        self.start
    }

    /// The caller removed the first `n` consumed bytes from its buffer.
    pub fn rebase(&mut self, n: usize) {
        debug_assert!(n <= self.start);
        self.start -= n;
        self.pos -= n;
    }

    /// Bytes the command in progress still needs at least, when known
    /// (used to grow the read buffer once instead of many times).
    pub fn pending_bulk_end(&self) -> Option<usize> {
        self.bulk.map(|b| self.pos + b + 2)
    }

    /// Length of the bulk being read, once its `$` line has been parsed.
    pub fn pending_bulk(&self) -> Option<usize> {
        self.bulk
    }

    /// A multibulk command has begun (its header is parsed) but is not
    /// complete; `spans` then holds its complete arguments.
    pub fn in_progress(&self) -> bool {
        self.multibulk > 0
    }

    /// Parses the next complete command from `buf`.
    ///
    /// `Ok(None)` means more bytes are needed. Empty commands (`*0`, blank
    /// inline lines) are skipped, as Redis does.
    pub fn next(
        &mut self,
        buf: &[u8],
        spans: &mut Vec<Span>,
        inline: &mut Vec<u8>,
        max_bulk: usize,
    ) -> Result<Option<Source>, ProtoError> {
        loop {
            if self.start >= buf.len() {
                return Ok(None);
            }
            let done = if buf[self.start] == b'*' || self.multibulk > 0 {
                if self.multibulk == 0
                    && let Some(src) = self.whole_command(buf, spans, max_bulk)
                {
                    return Ok(Some(src));
                }
                self.multibulk(buf, spans, max_bulk)?
            } else {
                self.inline(buf, spans, inline)?
            };
            match done {
                Step::Incomplete => return Ok(None),
                Step::Empty => continue,
                Step::Done(src) => return Ok(Some(src)),
            }
        }
    }

    /// The second argument (the first key, for most commands) of each
    /// whole command buffered from where the parser stands (nothing while
    /// a command is half parsed), up to `max` commands, without consuming
    /// anything: what the executor prefetches
    /// before it runs them (see `server::prefetch`). Stops at the first
    /// command that is incomplete or not a plain multibulk (the kind
    /// [`Parser::whole_command`] takes in one pass). Returns how many
    /// commands it went through.
    #[inline]
    pub fn peek_keys<'a>(&self, buf: &'a [u8], max: usize, mut f: impl FnMut(&'a [u8])) -> usize {
        if self.multibulk > 0 {
            return 0;
        }
        let mut pos = self.start;
        for seen in 0..max {
            let Some(next) = whole_frame_key(buf, pos) else { return seen };
            if let Some(key) = next.1 {
                f(key);
            }
            pos = next.0;
        }
        max
    }

    fn finish(&mut self) -> usize {
        let base = self.start;
        self.start = self.pos;
        self.multibulk = 0;
        self.bulk = None;
        base
    }

    /// The common case in one pass: a multibulk command that has arrived
    /// whole, with plain headers (see [`quick_header`]) and at most 1,024
    /// arguments. Anything else (incomplete, unusual, wrong) returns `None`
    /// having changed nothing but `spans`, and [`Parser::multibulk`] takes
    /// it from the start with the same outcome.
    #[inline]
    fn whole_command(&mut self, buf: &[u8], spans: &mut Vec<Span>, max_bulk: usize) -> Option<Source> {
        let start = self.start;
        let (n, nl) = quick_header(buf, start)?;
        if n == 0 || n > 1024 || (self.unauthenticated && n > UNAUTH_ARGS as u64) {
            return None;
        }
        spans.clear();
        let mut pos = nl + 2;
        for _ in 0..n {
            if *buf.get(pos)? != b'$' {
                return None;
            }
            let (len, nl) = quick_header(buf, pos)?;
            if len > max_bulk as u64 || (self.unauthenticated && len > UNAUTH_BULK as u64) {
                return None;
            }
            let from = nl + 2;
            let to = from + len as usize;
            if buf.len() < to + 2 {
                return None;
            }
            spans.push((from - start, to - start));
            pos = to + 2;
        }
        self.start = pos;
        self.pos = pos;
        Some(Source::Buffer { base: start, one_pass: true })
    }

    fn multibulk(&mut self, buf: &[u8], spans: &mut Vec<Span>, max_bulk: usize) -> Result<Step, ProtoError> {
        if self.multibulk == 0 {
            spans.clear();
            self.pos = self.start;
            let (n, nl) = match quick_header(buf, self.pos) {
                Some((n, nl)) => (Some(n as i64), nl),
                None => {
                    let Some(nl) = find_line(buf, self.pos) else {
                        if buf.len() - self.pos > INLINE_MAX {
                            return Err(ProtoError::TooBigMbulkCount);
                        }
                        return Ok(Step::Incomplete);
                    };
                    (parse_i64(&buf[self.pos + 1..nl]), nl)
                }
            };
            let n = match n {
                Some(n) if n <= i32::MAX as i64 => n,
                _ => return Err(ProtoError::InvalidMultibulkLength),
            };
            if self.unauthenticated && n > UNAUTH_ARGS {
                return Err(ProtoError::UnauthenticatedMultibulkLength);
            }
            self.pos = nl + 2;
            if n <= 0 {
                self.finish();
                return Ok(Step::Empty);
            }
            self.multibulk = n as usize;
            spans.reserve(self.multibulk.min(1024));
        }
        while self.multibulk > 0 {
            let len = match self.bulk {
                Some(len) => len,
                None => {
                    let (len, nl) = match quick_header(buf, self.pos) {
                        Some((l, nl)) if buf[self.pos] == b'$' => (Some(l as i64), nl),
                        _ => {
                            let Some(nl) = find_line(buf, self.pos) else {
                                if buf.len() - self.pos > INLINE_MAX {
                                    return Err(ProtoError::TooBigBulkCount);
                                }
                                return Ok(Step::Incomplete);
                            };
                            if buf[self.pos] != b'$' {
                                return Err(ProtoError::ExpectedDollar(buf[self.pos]));
                            }
                            (parse_i64(&buf[self.pos + 1..nl]), nl)
                        }
                    };
                    let len = match len {
                        Some(l) if l >= 0 && (l as u64) <= max_bulk as u64 => l as usize,
                        _ => return Err(ProtoError::InvalidBulkLength),
                    };
                    if self.unauthenticated && len > UNAUTH_BULK {
                        return Err(ProtoError::UnauthenticatedBulkLength);
                    }
                    self.pos = nl + 2;
                    self.bulk = Some(len);
                    len
                }
            };
            // Redis skips the two bytes after a bulk without looking at them.
            if buf.len() - self.pos < len + 2 {
                return Ok(Step::Incomplete);
            }
            spans.push((self.pos - self.start, self.pos - self.start + len));
            self.pos += len + 2;
            self.bulk = None;
            self.multibulk -= 1;
        }
        let base = self.finish();
        Ok(Step::Done(Source::Buffer { base, one_pass: false }))
    }

    fn inline(&mut self, buf: &[u8], spans: &mut Vec<Span>, scratch: &mut Vec<u8>) -> Result<Step, ProtoError> {
        // Redis looks for the newline with `strchr`, which stops at a NUL:
        // a NUL before the newline means no line yet, until the inline
        // limit ends it with an error (redis-server 7.0.15 does this).
        let rest = &buf[self.start..];
        let Some(off) = memchr2(b'\n', 0, rest).filter(|&i| rest[i] == b'\n') else {
            if buf.len() - self.start > INLINE_MAX {
                return Err(ProtoError::TooBigInline);
            }
            return Ok(Step::Incomplete);
        };
        let nl = self.start + off;
        let mut line = &buf[self.start..nl];
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        spans.clear();
        scratch.clear();
        split_args(line, scratch, spans)?;
        self.pos = nl + 1;
        self.finish();
        if spans.is_empty() {
            return Ok(Step::Empty);
        }
        Ok(Step::Done(Source::Inline))
    }
}

enum Step {
    Incomplete,
    Empty,
    Done(Source),
}

/// Fast path for the usual header line: the byte at `at` (`*` or `$`,
/// checked by the caller), then 1 to 18 digits without a leading zero, then
/// `\r` with one more byte after it. Returns the number and the `\r`'s index,
/// or `None` for anything else (incomplete, signed, malformed, long), which
/// the general path (`find_line` + `parse_i64`) handles with the same result
/// and Redis's errors. Header lines are a few bytes long, where a scan by hand
/// costs far less than setting up `memchr`.
#[inline(always)]
fn quick_header(buf: &[u8], at: usize) -> Option<(u64, usize)> {
    let first = buf.get(at + 1)?.wrapping_sub(b'0');
    if first > 9 {
        return None;
    }
    let mut v = first as u64;
    let mut i = at + 2;
    loop {
        let c = *buf.get(i)?;
        let d = c.wrapping_sub(b'0');
        if d <= 9 {
            // A second digit after a leading zero, or a 19th digit.
            if v == 0 || i - at > 18 {
                return None;
            }
            v = v * 10 + d as u64;
            i += 1;
        } else if c == b'\r' && i + 1 < buf.len() {
            return Some((v, i));
        } else {
            return None;
        }
    }
}

/// The whole plain multibulk command at `pos` (see [`Parser::peek_keys`]):
/// where the next one starts and its second argument, if it has one.
#[inline(always)]
fn whole_frame_key(buf: &[u8], pos: usize) -> Option<(usize, Option<&[u8]>)> {
    if *buf.get(pos)? != b'*' {
        return None;
    }
    let (n, nl) = quick_header(buf, pos)?;
    let mut pos = nl + 2;
    let mut key = None;
    for i in 0..n {
        if *buf.get(pos)? != b'$' {
            return None;
        }
        let (len, nl) = quick_header(buf, pos)?;
        let from = nl + 2;
        let to = from.checked_add(len as usize).filter(|&to| to + 2 <= buf.len())?;
        if i == 1 {
            key = Some(&buf[from..to]);
        }
        pos = to + 2;
    }
    Some((pos, key))
}

/// Finds the `\r` ending the header line that starts at `from`; the `\n`
/// after it must have arrived too (Redis's check).
fn find_line(buf: &[u8], from: usize) -> Option<usize> {
    let cr = from + memchr(b'\r', &buf[from..])?;
    if cr + 1 >= buf.len() { None } else { Some(cr) }
}

/// Redis's strict `string2ll`: optional `-`, no `+`, no leading zeros, no
/// spaces, must fit in an `i64`.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s {
        [] => return None,
        [b'0'] => return Some(0),
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    if digits.len() > 19 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// C's `isspace`: what `sdssplitargs` skips between arguments and wants
/// after a closing quote.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c)
}

/// What ends an unquoted argument in `sdssplitargs`: not `\v` or `\f`,
/// which `isspace` counts: Redis 7.0.15 takes `SET a\vb c` as a SET of the
/// key `a\vb` and refuses `hz\v2` in a config file (one word).
fn ends_word(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t')
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Redis's `sdscatrepr`, what [`split_args`] reads back: `s` in double
/// quotes, with C escapes for backslash, quote, `\n \r \t \a \b` and
/// `\xHH` for the other bytes outside printable ASCII.
pub fn repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            b if b.is_ascii_graphic() || b == b' ' => out.push(b),
            b => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// [`repr`] of a text, as a text (the escapes are ASCII).
pub fn repr_str(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    repr(&mut out, s.as_bytes());
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits an inline line like Redis's `sdssplitargs`: whitespace separates
/// arguments; `"..."` understands `\n \r \t \b \a \xHH` and `\<c>`; `'...'`
/// understands `\'`; a closing quote must be followed by a space or the end.
/// Redis reads the line as a C string: a NUL byte ends it (the config file,
/// ACL selectors, the AOF manifest; an inline request with a NUL never
/// finds its newline, in Redis as here).
pub fn split_args(line: &[u8], out: &mut Vec<u8>, spans: &mut Vec<Span>) -> Result<(), ProtoError> {
    let line = &line[..memchr(0, line).unwrap_or(line.len())];
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Ok(());
        }
        let begin = out.len();
        let (mut inq, mut insq) = (false, false);
        loop {
            if inq {
                if i >= n {
                    return Err(ProtoError::UnbalancedQuotes);
                }
                let c = line[i];
                if c == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && let (Some(h), Some(l)) = (hex_val(line[i + 2]), hex_val(line[i + 3]))
                {
                    out.push(h * 16 + l);
                    i += 4;
                    continue;
                }
                if c == b'\\' && i + 1 < n {
                    i += 1;
                    out.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return Err(ProtoError::UnbalancedQuotes);
                    }
                    i += 1;
                    break;
                } else {
                    out.push(c);
                }
                i += 1;
            } else if insq {
                if i >= n {
                    return Err(ProtoError::UnbalancedQuotes);
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    out.push(b'\'');
                    i += 1;
                } else if c == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return Err(ProtoError::UnbalancedQuotes);
                    }
                    i += 1;
                    break;
                } else {
                    out.push(c);
                }
                i += 1;
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    c if ends_word(c) => break,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => out.push(c),
                }
                i += 1;
            }
        }
        spans.push((begin, out.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MAX: usize = 512 * 1024 * 1024;

    #[test]
    fn repr_escapes_like_redis_and_splits_back() {
        let mut out = Vec::new();
        let raw = b"a\"b\\c\n\x01 d\x07\x08\t\r\xff'";
        repr(&mut out, raw);
        assert_eq!(out, b"\"a\\\"b\\\\c\\n\\x01 d\\a\\b\\t\\r\\xff'\"");
        let (mut back, mut spans) = (Vec::new(), Vec::new());
        split_args(&out, &mut back, &mut spans).unwrap();
        assert_eq!(spans.len(), 1);
        assert_eq!(&back[spans[0].0..spans[0].1], raw);
    }

    /// Parses everything in `buf`, returning each command's arguments.
    fn parse_all(buf: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ProtoError> {
        let mut p = Parser::new();
        let (mut spans, mut inline) = (Vec::new(), Vec::new());
        let mut out = Vec::new();
        while let Some(src) = p.next(buf, &mut spans, &mut inline, MAX)? {
            out.push(args_of(buf, &inline, &spans, src));
        }
        Ok(out)
    }

    fn args_of(buf: &[u8], inline: &[u8], spans: &[Span], src: Source) -> Vec<Vec<u8>> {
        let data = match src {
            Source::Buffer { base, .. } => &buf[base..],
            Source::Inline => inline,
        };
        spans.iter().map(|&(s, e)| data[s..e].to_vec()).collect()
    }

    /// Feeds `chunks` one at a time, compacting the buffer like the server.
    fn parse_chunked(chunks: &[&[u8]]) -> Result<Vec<Vec<Vec<u8>>>, ProtoError> {
        let mut p = Parser::new();
        let (mut spans, mut inline, mut buf) = (Vec::new(), Vec::new(), Vec::new());
        let mut out = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            while let Some(src) = p.next(&buf, &mut spans, &mut inline, MAX)? {
                out.push(args_of(&buf, &inline, &spans, src));
            }
            let n = p.consumed();
            buf.drain(..n);
            p.rebase(n);
        }
        Ok(out)
    }

    fn cmd(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn multibulk_and_pipeline() {
        let got = parse_all(b"*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n").unwrap();
        assert_eq!(got, vec![cmd(&["PING"]), cmd(&["SET", "k", ""])]);
    }

    #[test]
    fn inline_commands() {
        assert_eq!(parse_all(b"PING\r\n").unwrap(), vec![cmd(&["PING"])]);
        assert_eq!(parse_all(b"set a b\n").unwrap(), vec![cmd(&["set", "a", "b"])]);
        assert_eq!(
            parse_all(b"set \"a b\" 'c\\'d' \"\\x41\\n\"\r\n").unwrap(),
            vec![cmd(&["set", "a b", "c'd", "A\n"])]
        );
        assert_eq!(parse_all(b"\r\n\r\nPING\r\n").unwrap(), vec![cmd(&["PING"])]);
        assert_eq!(parse_all(b"echo \"\"\r\n").unwrap(), vec![cmd(&["echo", ""])]);
    }

    /// Recorded from redis-server 7.0.15 (inline requests): `\v` and `\f`
    /// are skipped between arguments and accepted after a closing quote,
    /// but do not end an unquoted one (`SET a\vb c` is +OK, `ECHO x\v`
    /// echoes two bytes, `SET k\fv` has too few arguments).
    #[test]
    fn vertical_tab_and_form_feed_are_spaces_only_between_arguments() {
        assert_eq!(parse_all(b"SET a\x0bb c\r\n").unwrap(), vec![cmd(&["SET", "a\x0bb", "c"])]);
        assert_eq!(parse_all(b"SET k\x0cv\r\n").unwrap(), vec![cmd(&["SET", "k\x0cv"])]);
        assert_eq!(parse_all(b"ECHO x\x0b\r\n").unwrap(), vec![cmd(&["ECHO", "x\x0b"])]);
        assert_eq!(parse_all(b"ECHO \"x\"\x0b\r\n").unwrap(), vec![cmd(&["ECHO", "x"])]);
        assert_eq!(parse_all(b"\x0b\x0cPING\r\n").unwrap(), vec![cmd(&["PING"])]);
    }

    /// `sdssplitargs` reads a C string: a NUL ends the line (a config
    /// line, an ACL selector), and inside quotes it is an unclosed quote.
    #[test]
    fn split_args_stops_at_a_nul() {
        let split = |line: &[u8]| {
            let (mut out, mut spans) = (Vec::new(), Vec::new());
            split_args(line, &mut out, &mut spans)
                .map(|()| spans.iter().map(|&(a, b)| out[a..b].to_vec()).collect::<Vec<_>>())
        };
        assert_eq!(split(b"hz 3\0 4").unwrap(), cmd(&["hz", "3"]));
        assert_eq!(split(b"hz 3\x004").unwrap(), cmd(&["hz", "3"]));
        assert_eq!(split(b"\0hz").unwrap(), Vec::<Vec<u8>>::new());
        assert_eq!(split(b"'a\0b'").unwrap_err(), ProtoError::UnbalancedQuotes);
        assert_eq!(split(b"\"a\0b\"").unwrap_err(), ProtoError::UnbalancedQuotes);
    }

    /// Redis finds an inline request's newline with `strchr`: a NUL before
    /// it hides it, and the bytes wait for the inline limit (recorded from
    /// redis-server 7.0.15: `\0\r\nPING\r\n` gets no reply at all).
    #[test]
    fn a_nul_hides_the_inline_newline() {
        assert_eq!(parse_all(b"\0\r\nPING\r\n").unwrap(), Vec::<Vec<Vec<u8>>>::new());
        assert_eq!(parse_all(b"PING\0\r\n").unwrap(), Vec::<Vec<Vec<u8>>>::new());
        assert_eq!(parse_all(b"PING\r\n\0\n").unwrap(), vec![cmd(&["PING"])]);
        let mut big = b"PING\r\n\0".to_vec();
        big.extend(vec![b'x'; INLINE_MAX]);
        big.extend_from_slice(b"\r\n");
        assert_eq!(parse_all(&big).unwrap_err(), ProtoError::TooBigInline);
        // Inside a bulk a NUL is data.
        assert_eq!(parse_all(b"*1\r\n$2\r\n\0\n\r\n").unwrap(), vec![vec![b"\0\n".to_vec()]]);
    }

    #[test]
    fn empty_multibulk_is_skipped() {
        assert_eq!(parse_all(b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n").unwrap(), vec![cmd(&["PING"])]);
    }

    #[test]
    fn protocol_errors() {
        let err = |b: &[u8]| parse_all(b).unwrap_err();
        assert_eq!(err(b"*x\r\n"), ProtoError::InvalidMultibulkLength);
        assert_eq!(err(b"*3000000000\r\n"), ProtoError::InvalidMultibulkLength);
        assert_eq!(err(b"*1\r\n$-1\r\n"), ProtoError::InvalidBulkLength);
        assert_eq!(err(b"*1\r\n$abc\r\n"), ProtoError::InvalidBulkLength);
        assert_eq!(err(b"*1\r\n$600000000\r\n"), ProtoError::InvalidBulkLength);
        assert_eq!(err(b"*1\r\nfoo\r\n"), ProtoError::ExpectedDollar(b'f'));
        assert_eq!(err(b"set \"a\r\n"), ProtoError::UnbalancedQuotes);
        assert_eq!(err(b"set \"a\"b\r\n"), ProtoError::UnbalancedQuotes);
        assert_eq!(err(b"set 'a\r\n"), ProtoError::UnbalancedQuotes);
        assert_eq!(err(&vec![b'a'; INLINE_MAX + 1]), ProtoError::TooBigInline);
        let mut big = b"*".to_vec();
        big.extend(vec![b'1'; INLINE_MAX + 1]);
        assert_eq!(err(&big), ProtoError::TooBigMbulkCount);
        let mut big = b"*1\r\n$".to_vec();
        big.extend(vec![b'1'; INLINE_MAX + 1]);
        assert_eq!(err(&big), ProtoError::TooBigBulkCount);
        assert_eq!(ProtoError::ExpectedDollar(b'X').message(), "ERR Protocol error: expected '$', got 'X'");
    }

    #[test]
    fn incomplete_waits() {
        let mut p = Parser::new();
        let (mut spans, mut inline) = (Vec::new(), Vec::new());
        for part in [&b"*2\r\n$3\r\nGET"[..], b"*2\r\n$3\r\nGET\r\n$1\r", b"PIN"] {
            assert_eq!(p.next(part, &mut spans, &mut inline, MAX), Ok(None));
            p = Parser::new();
        }
    }

    #[test]
    fn big_bulk_in_small_pieces_is_linear() {
        // A 4 MB bulk fed in 1 KB pieces: each feed is O(1) work beyond the copy.
        let payload = vec![b'x'; 4 << 20];
        let mut stream = format!("*2\r\n$4\r\nECHO\r\n${}\r\n", payload.len()).into_bytes();
        stream.extend_from_slice(&payload);
        stream.extend_from_slice(b"\r\n");
        let chunks: Vec<&[u8]> = stream.chunks(1024).collect();
        let got = parse_chunked(&chunks).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0][1].len(), payload.len());
    }

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        for bad in [&b""[..], b"-", b"-0", b"01", b"+1", b" 1", b"1 ", b"9223372036854775808", b"1a"] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    fn encode(cmds: &[Vec<Vec<u8>>]) -> Vec<u8> {
        let mut out = Vec::new();
        for c in cmds {
            out.extend_from_slice(format!("*{}\r\n", c.len()).as_bytes());
            for a in c {
                out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                out.extend_from_slice(a);
                out.extend_from_slice(b"\r\n");
            }
        }
        out
    }

    /// What `peek_keys` reports from a parser in `p`'s state over `buf`.
    fn peeked(p: &Parser, buf: &[u8], max: usize) -> Vec<Vec<u8>> {
        let mut keys = Vec::new();
        p.peek_keys(buf, max, |k| keys.push(k.to_vec()));
        keys
    }

    #[test]
    fn peek_keys_reports_the_second_argument_of_whole_commands_ahead() {
        let buf = b"*3\r\n$3\r\nSET\r\n$2\r\nk1\r\n$1\r\nv\r\n*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$2\r\nk2\r\n*2\r\n$3\r\nGET\r\n$2\r\nk";
        let mut p = Parser::new();
        assert_eq!(peeked(&p, buf, 32), [b"k1".to_vec(), b"k2".to_vec()]);
        assert_eq!(peeked(&p, buf, 1), [b"k1".to_vec()]);
        assert_eq!(p.peek_keys(buf, 32, |_| {}), 3);
        assert_eq!(p.peek_keys(buf, 2, |_| {}), 2);
        // From the command after the ones consumed, consuming nothing.
        let (mut spans, mut inline) = (Vec::new(), Vec::new());
        assert!(p.next(buf, &mut spans, &mut inline, MAX).unwrap().is_some());
        assert_eq!(peeked(&p, buf, 32), [b"k2".to_vec()]);
        assert_eq!(peeked(&p, buf, 32), [b"k2".to_vec()]);
        // Nothing from an inline command on, nor in the middle of a command.
        assert!(peeked(&Parser::new(), b"GET k1\r\n*2\r\n$3\r\nGET\r\n$2\r\nk2\r\n", 32).is_empty());
        let mut p = Parser::new();
        assert!(p.next(b"*2\r\n$3\r\nGET\r\n", &mut spans, &mut inline, MAX).unwrap().is_none());
        assert!(peeked(&p, b"*2\r\n$3\r\nGET\r\n$2\r\nk2\r\n", 32).is_empty());
    }

    proptest! {
        /// `peek_keys` sees exactly the commands the parser will return
        /// whole from the same bytes (at most `max` of them).
        #[test]
        fn peek_keys_agrees_with_the_parser(
            cmds in prop::collection::vec(
                prop::collection::vec(prop::collection::vec(any::<u8>(), 0..20), 1..4), 1..8),
            cut in any::<prop::sample::Index>(),
            max in 0usize..10,
        ) {
            let stream = encode(&cmds);
            let buf = &stream[..cut.index(stream.len() + 1)];
            let whole = parse_all(buf).unwrap();
            let want: Vec<Vec<u8>> = whole.iter().take(max).filter_map(|c| c.get(1).cloned()).collect();
            prop_assert_eq!(peeked(&Parser::new(), buf, max), want);
        }

        #[test]
        fn peek_keys_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            peeked(&Parser::new(), &bytes, 32);
        }

        #[test]
        fn random_splits_parse_identically(
            cmds in prop::collection::vec(
                prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..5), 1..8),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
        ) {
            let stream = encode(&cmds);
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(stream.len() + 1)).collect();
            points.sort();
            let mut chunks = Vec::new();
            let mut prev = 0;
            for p in points { chunks.push(&stream[prev..p]); prev = p; }
            chunks.push(&stream[prev..]);
            prop_assert_eq!(parse_chunked(&chunks).unwrap(), cmds);
        }

        #[test]
        fn every_single_byte_split(args in prop::collection::vec("[a-z ]{0,6}", 1..4)) {
            let cmds = vec![args.iter().map(|a| a.as_bytes().to_vec()).collect::<Vec<_>>()];
            let stream = encode(&cmds);
            for cut in 0..=stream.len() {
                let got = parse_chunked(&[&stream[..cut], &stream[cut..]]).unwrap();
                prop_assert_eq!(&got, &cmds);
            }
        }

        /// The fast header path only answers where the general one gives the
        /// same number and line end.
        #[test]
        fn quick_header_agrees_with_the_general_path(line in "[*$][-+0-9 a\r\n]{0,24}", tail in 0usize..2) {
            let buf = format!("{line}{}", "\n".repeat(tail)).into_bytes();
            if let Some((v, cr)) = quick_header(&buf, 0) {
                prop_assert_eq!(find_line(&buf, 0), Some(cr));
                prop_assert_eq!(parse_i64(&buf[1..cr]), Some(v as i64));
            }
        }

        #[test]
        fn quick_header_takes_the_usual_lengths(n in 0u64..1_000_000_000_000_000_000) {
            let buf = format!("${n}\r\n").into_bytes();
            prop_assert_eq!(quick_header(&buf, 0), Some((n, buf.len() - 2)));
        }

        #[test]
        fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_all(&bytes);
        }
    }
}
