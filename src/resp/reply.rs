//! RESP2/RESP3 reply writer: appends frames straight into a connection's
//! output buffer, with no intermediate reply tree.
//!
//! Aggregates are written as a header followed by their elements; the caller
//! is responsible for writing exactly the announced number of elements. In
//! RESP2 a map of `n` pairs becomes an array of `2n`, a set an array, a double
//! or a big number a bulk string, a boolean the integer 1 or 0, a verbatim
//! string a bulk string, and null `$-1` (or `*-1` for null arrays), as Redis
//! does; attributes exist only in RESP3.

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
        // Most lengths and counts are below 100: one fixed-size copy.
        match n {
            0..=9 => self.buf.extend_from_slice(&[tag, b'0' + n as u8, b'\r', b'\n']),
            10..=99 => self.buf.extend_from_slice(&[tag, b'0' + (n / 10) as u8, b'0' + (n % 10) as u8, b'\r', b'\n']),
            _ => {
                self.buf.push(tag);
                self.buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
                self.buf.extend_from_slice(b"\r\n");
            }
        }
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

    /// A boolean: `#t` / `#f` in RESP3, the integer 1 or 0 in RESP2.
    pub fn boolean(&mut self, b: bool) {
        match self.proto {
            Proto::Resp2 => self.int(i64::from(b)),
            Proto::Resp3 => self.buf.extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" }),
        }
    }

    /// A big number given as its decimal digits: `(` in RESP3, a bulk
    /// string in RESP2. `digits` must not contain CR or LF.
    pub fn bignum(&mut self, digits: &[u8]) {
        match self.proto {
            Proto::Resp2 => self.bulk(digits),
            Proto::Resp3 => {
                self.buf.push(b'(');
                self.buf.extend_from_slice(digits);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    /// The header of an attribute of `n` key/value pairs (`|n`), which
    /// the caller follows with the pairs and then the real reply. RESP3
    /// only: RESP2 has no attributes, and a caller leaves them out there,
    /// as Redis does (so nothing is written in RESP2).
    pub fn attribute(&mut self, n: usize) {
        if self.proto == Proto::Resp3 {
            self.header(b'|', n as i64);
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

/// Formats a double the way Redis 7.0 replies with one (`addReplyDouble`):
/// C's `%.17g` (17 significant digits, trailing zeros dropped, exponent
/// form below 1e-4 and from 1e17 on), with `inf`, `-inf` and `-0`.
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        // glibc's %.17g shows the sign bit: 0/0 computed on x86-64 is -nan.
        return if d.is_sign_negative() { "-nan".into() } else { "nan".into() };
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    // 17 significant digits, correctly rounded (ties to even, as glibc).
    let sci = format!("{:.16e}", d.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    while digits.len() > 1 && digits.last() == Some(&b'0') {
        digits.pop();
    }
    let mut out = String::with_capacity(24);
    if d < 0.0 {
        out.push('-');
    }
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    if !(-4..17).contains(&exp) {
        out.push(digits[0] as char);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&text(&digits[1..]));
        }
        out.push_str(&format!("e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs()));
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&text(&digits));
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
        } else {
            out.push_str(&text(&digits[..int_len]));
            out.push('.');
            out.push_str(&text(&digits[int_len..]));
        }
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
        out.push_str(&text(&digits));
    }
    out
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
        for n in [-1, 0, 7, 9, 10, 42, 99, 100, 12345, i64::MIN, i64::MAX] {
            assert_eq!(out(Proto::Resp2, |r| r.int(n)), format!(":{n}\r\n"));
        }
        assert_eq!(out(Proto::Resp2, |r| r.bulk(&[b'x'; 100])), format!("${}\r\n{}\r\n", 100, "x".repeat(100)));
        assert_eq!(out(Proto::Resp2, |r| r.bulk(b"hi")), "$2\r\nhi\r\n");
        assert_eq!(out(Proto::Resp2, |r| r.null()), "$-1\r\n");
        assert_eq!(out(Proto::Resp2, |r| r.null_array()), "*-1\r\n");
        assert_eq!(out(Proto::Resp2, |r| r.map(2)), "*4\r\n");
        assert_eq!(out(Proto::Resp2, |r| r.error("ERR a\r\nb")), "-ERR a  b\r\n");
        assert_eq!(out(Proto::Resp2, |r| r.double(1.5)), "$3\r\n1.5\r\n");
        assert_eq!(out(Proto::Resp2, |r| r.boolean(true)), ":1\r\n");
        assert_eq!(out(Proto::Resp2, |r| r.boolean(false)), ":0\r\n");
        assert_eq!(
            out(Proto::Resp2, |r| r.bignum(b"-123456789012345678901234567890")),
            "$31\r\n-123456789012345678901234567890\r\n"
        );
        assert_eq!(out(Proto::Resp2, |r| r.attribute(2)), "");
        assert_eq!(out(Proto::Resp2, |r| r.verbatim(b"a\nb")), "$3\r\na\nb\r\n");
    }

    #[test]
    fn resp3_frames() {
        assert_eq!(out(Proto::Resp3, |r| r.null()), "_\r\n");
        assert_eq!(out(Proto::Resp3, |r| r.map(2)), "%2\r\n");
        assert_eq!(out(Proto::Resp3, |r| r.set(1)), "~1\r\n");
        assert_eq!(out(Proto::Resp3, |r| r.double(f64::NEG_INFINITY)), ",-inf\r\n");
        assert_eq!(out(Proto::Resp3, |r| r.verbatim(b"x")), "=5\r\ntxt:x\r\n");
        assert_eq!(out(Proto::Resp3, |r| r.boolean(true)), "#t\r\n");
        assert_eq!(out(Proto::Resp3, |r| r.boolean(false)), "#f\r\n");
        assert_eq!(
            out(Proto::Resp3, |r| r.bignum(b"-123456789012345678901234567890")),
            "(-123456789012345678901234567890\r\n"
        );
        assert_eq!(out(Proto::Resp3, |r| r.attribute(1)), "|1\r\n");
        assert_eq!(out(Proto::Resp3, |r| r.attribute(12)), "|12\r\n");
    }

    #[test]
    // x.25 and x.75 are exact here: ties at the 17th digit, rounded to even.
    #[allow(clippy::excessive_precision)]
    fn doubles_print_like_c_percent_17g() {
        // Each pair is what Redis 7.0.15 answers (ZSCORE after ZADD).
        let cases: &[(f64, &str)] = &[
            (1.1, "1.1000000000000001"),
            (0.1, "0.10000000000000001"),
            (1e20, "1e+20"),
            (1e17, "1e+17"),
            (1e16, "10000000000000000"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (99999999999999999.0, "1e+17"),
            (3.0, "3"),
            (-0.0, "-0"),
            (0.0, "0"),
            (1.5e-7, "1.4999999999999999e-07"),
            (1e300, "1.0000000000000001e+300"),
            (0.000001, "9.9999999999999995e-07"),
            (0.0001, "0.0001"),
            (0.00001, "1.0000000000000001e-05"),
            (-2.5e-5, "-2.5000000000000001e-05"),
            (12345.678, "12345.678"),
            (123456789.0, "123456789"),
            (1234567890123456.25, "1234567890123456.2"),
            (1234567890123456.75, "1234567890123456.8"),
            (5e-324, "4.9406564584124654e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (1e-310, "9.9999999999999694e-311"),
            (-0.05, "-0.050000000000000003"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for &(d, want) in cases {
            assert_eq!(format_double(d), want, "{d:e}");
        }
    }
}
