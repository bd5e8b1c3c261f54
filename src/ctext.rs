//! Text read as C's library reads it, for the places where Redis hands an
//! argument or a file's word to `atoi`, `atoll` or `strtol` and so takes
//! whatever number prefix it has: C strings end at their first NUL, white
//! space is C's `isspace`, and the number saturates as glibc's `strtol`.

/// A byte string as C sees it: up to its first NUL.
pub fn c_str(s: &[u8]) -> &[u8] {
    &s[..memchr::memchr(0, s).unwrap_or(s.len())]
}

/// C's `isspace` in the "C" locale.
pub fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// glibc's `strtol(s, NULL, 10)` (and so `atoll`): leading white space, a
/// sign, the digits that follow, anything after; 0 when there are none;
/// clamped to the 64-bit range.
pub fn strtol(s: &[u8]) -> i64 {
    let s = &s[s.iter().position(|&b| !is_c_space(b)).unwrap_or(s.len())..];
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for &b in digits.iter().take_while(|b| b.is_ascii_digit()) {
        let d = i64::from(b - b'0');
        n = if neg { n.saturating_mul(10).saturating_sub(d) } else { n.saturating_mul(10).saturating_add(d) };
    }
    n
}

/// glibc's `atoi`: [`strtol`] cut to an `int`.
pub fn atoi(s: &[u8]) -> i32 {
    strtol(s) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_like_glibc() {
        for (s, n) in [
            (&b"1"[..], 1),
            (b"0", 0),
            (b"abc", 0),
            (b"", 0),
            (b"  -12xyz", -12),
            (b" +7190x", 7190),
            (b"\t\x0b\x0c\r\n5", 5),
            (b"5\x009", 5),
            (b"-", 0),
            (b"9223372036854775807", i64::MAX),
            (b"99999999999999999999", i64::MAX),
            (b"-9223372036854775808", i64::MIN),
            (b"-99999999999999999999", i64::MIN),
        ] {
            assert_eq!(strtol(s), n, "{}", String::from_utf8_lossy(s));
        }
        for (s, n) in
            [(&b"4294967296"[..], 0), (b"4294967297", 1), (b"4294974486", 7190), (b"99999999999999999999", -1)]
        {
            assert_eq!(atoi(s), n, "{}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn c_strings_end_at_nul() {
        assert_eq!(c_str(b"ab\0cd"), b"ab");
        assert_eq!(c_str(b"abc"), b"abc");
    }
}
