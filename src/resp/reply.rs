//! RESP2/RESP3 reply writer: appends frames straight into a connection's
//! output buffer, with no intermediate reply tree.
//!
//! Aggregates are written as a header followed by their elements; the caller
//! is responsible for writing exactly the announced number of elements. In
//! RESP2 a map of `n` pairs becomes an array of `2n`, a set an array, a double
//! a bulk string and null `$-1` (or `*-1` for null arrays), as Redis does.

/// The protocol version a connection speaks (`HELLO 2|3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Resp2,
    Resp3,
}

/// Writer over a connection's output buffer.
pub struct Reply<'a> {
    pub buf: &'a mut Vec<u8>,
    pub proto: Proto,
}

impl<'a> Reply<'a> {
    pub fn new(buf: &'a mut Vec<u8>, proto: Proto) -> Reply<'a> {
        Reply { buf, proto }
    }

    fn header(&mut self, tag: u8, n: i64) {
        self.buf.push(tag);
        self.buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// `+<s>`; `s` must not contain CR or LF.
    pub fn simple(&mut self, s: &str) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `-<msg>`; newlines in `msg` are replaced by spaces so the frame stays
    /// well formed (Redis does the same).
    pub fn error(&mut self, msg: &str) {
        self.buf.push(b'-');
        self.buf.extend(msg.bytes().map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn int(&mut self, n: i64) {
        self.header(b':', n);
    }

    pub fn bulk(&mut self, data: &[u8]) {
        self.header(b'$', data.len() as i64);
        self.buf.extend_from_slice(data);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// A null bulk string (`$-1` in RESP2, `_` in RESP3).
    pub fn null(&mut self) {
        match self.proto {
            Proto::Resp2 => self.buf.extend_from_slice(b"$-1\r\n"),
            Proto::Resp3 => self.buf.extend_from_slice(b"_\r\n"),
        }
    }

    /// A null array (`*-1` in RESP2, `_` in RESP3).
    pub fn null_array(&mut self) {
        match self.proto {
            Proto::Resp2 => self.buf.extend_from_slice(b"*-1\r\n"),
            Proto::Resp3 => self.buf.extend_from_slice(b"_\r\n"),
        }
    }

    pub fn array(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }

    /// A map of `n` key/value pairs.
    pub fn map(&mut self, n: usize) {
        match self.proto {
            Proto::Resp2 => self.header(b'*', 2 * n as i64),
            Proto::Resp3 => self.header(b'%', n as i64),
        }
    }

    /// An out-of-band push (pub/sub messages): `>` in RESP3, an array in RESP2.
    pub fn push(&mut self, n: usize) {
        match self.proto {
            Proto::Resp2 => self.header(b'*', n as i64),
            Proto::Resp3 => self.header(b'>', n as i64),
        }
    }

    pub fn set(&mut self, n: usize) {
        match self.proto {
            Proto::Resp2 => self.header(b'*', n as i64),
            Proto::Resp3 => self.header(b'~', n as i64),
        }
    }

    /// A double, formatted like Redis (`%.17g`, `inf`, `-inf`).
    pub fn double(&mut self, d: f64) {
        let s = format_double(d);
        match self.proto {
            Proto::Resp2 => self.bulk(s.as_bytes()),
            Proto::Resp3 => {
                self.buf.push(b',');
                self.buf.extend_from_slice(s.as_bytes());
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    /// A bulk string of text (verbatim `txt` in RESP3).
    pub fn verbatim(&mut self, text: &[u8]) {
        match self.proto {
            Proto::Resp2 => self.bulk(text),
            Proto::Resp3 => {
                self.header(b'=', text.len() as i64 + 4);
                self.buf.extend_from_slice(b"txt:");
                self.buf.extend_from_slice(text);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }
}

/// Formats a double the way Redis replies with scores: `%.17g`, with
/// `inf`/`-inf`, and the shortest form for integral values.
pub fn format_double(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d == d.trunc() && d.abs() < 1e17 {
        return format!("{}", d as i64);
    }
    // Rust's shortest round-trip repr matches %.17g in value; use it, with
    // an exponent form like C's for very large or small magnitudes.
    let s = format!("{d}");
    if s.len() > 24 { format!("{d:e}") } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(proto: Proto, f: impl FnOnce(&mut Reply)) -> String {
        let mut buf = Vec::new();
        f(&mut Reply::new(&mut buf, proto));
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn resp2_frames() {
        assert_eq!(out(Proto::Resp2, |r| r.int(-42)), ":-42\r\n");
        assert_eq!(out(Proto::Resp2, |r| r.bulk(b"hi")), "$2\r\nhi\r\n");
        assert_eq!(out(Proto::Resp2, |r| r.null()), "$-1\r\n");
        assert_eq!(out(Proto::Resp2, |r| r.null_array()), "*-1\r\n");
        assert_eq!(out(Proto::Resp2, |r| r.map(2)), "*4\r\n");
        assert_eq!(out(Proto::Resp2, |r| r.error("ERR a\r\nb")), "-ERR a  b\r\n");
        assert_eq!(out(Proto::Resp2, |r| r.double(1.5)), "$3\r\n1.5\r\n");
    }

    #[test]
    fn resp3_frames() {
        assert_eq!(out(Proto::Resp3, |r| r.null()), "_\r\n");
        assert_eq!(out(Proto::Resp3, |r| r.map(2)), "%2\r\n");
        assert_eq!(out(Proto::Resp3, |r| r.set(1)), "~1\r\n");
        assert_eq!(out(Proto::Resp3, |r| r.double(f64::NEG_INFINITY)), ",-inf\r\n");
        assert_eq!(out(Proto::Resp3, |r| r.verbatim(b"x")), "=5\r\ntxt:x\r\n");
    }
}
