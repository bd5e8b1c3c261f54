//! Redis's zipmap (`RDB_TYPE_HASH_ZIPMAP`, written by Redis 2.4 and
//! older), read only and always checked in full, as Redis 7.0 does.
//!
//! Layout: a count byte (exact below 254), then `<len>field<len><free>value`
//! repeated, then `0xFF`. A length is one byte below 254, else `0xFE` (or
//! `0xFF`, which Redis reads the same way) and a `u32` LE; `<free>` is one
//! byte counting unused bytes after the value.

use super::Error;

const BIGLEN: u8 = 254;
const END: u8 = 0xFF;

fn corrupt(what: &str, at: usize) -> Error {
    Error::Corrupt(format!("zipmap: {what} at byte {at}"))
}

/// A length at `p` and the bytes it took; everything up to and including
/// it must lie before `last` (the terminator's index).
fn length(zm: &[u8], p: usize, last: usize) -> Result<(usize, usize), Error> {
    if zm[p] < BIGLEN {
        return Ok((zm[p] as usize, 1));
    }
    if p + 5 > last {
        return Err(corrupt("length past the end", p));
    }
    Ok((u32::from_le_bytes([zm[p + 1], zm[p + 2], zm[p + 3], zm[p + 4]]) as usize, 5))
}

/// Reads the zipmap `zm`, calling `f` on each field and value in order;
/// returns the number of pairs. Checked as `zipmapValidateIntegrity`: the
/// terminator, every length within the blob, not empty, and the count
/// byte when it is exact.
pub fn read<'a>(zm: &'a [u8], mut f: impl FnMut(&'a [u8], &'a [u8]) -> Result<(), Error>) -> Result<usize, Error> {
    if zm.len() < 2 {
        return Err(Error::Corrupt(format!("zipmap of {} bytes", zm.len())));
    }
    let last = zm.len() - 1;
    if zm[last] != END {
        return Err(corrupt("no terminator", last));
    }
    let (mut p, mut count) = (1, 0usize);
    while zm[p] != END {
        let (flen, s) = length(zm, p, last)?;
        let field_at = p + s;
        let value_len_at =
            field_at.checked_add(flen).filter(|&q| q < last).ok_or_else(|| corrupt("field past the end", p))?;
        let (vlen, s) = length(zm, value_len_at, last)?;
        let free_at = value_len_at + s;
        if free_at >= last {
            return Err(corrupt("value header past the end", value_len_at));
        }
        let value_at = free_at + 1;
        let next = value_at
            .checked_add(vlen)
            .and_then(|n| n.checked_add(zm[free_at] as usize))
            .filter(|&n| n <= last)
            .ok_or_else(|| corrupt("value past the end", value_len_at))?;
        f(&zm[field_at..field_at + flen], &zm[value_at..value_at + vlen])?;
        count += 1;
        p = next;
    }
    if p != last {
        return Err(corrupt("terminator before the end", p));
    }
    if count == 0 {
        return Err(Error::Corrupt("empty zipmap".into()));
    }
    if zm[0] < BIGLEN && zm[0] as usize != count {
        return Err(Error::Corrupt(format!("zipmap header counts {} pairs, it holds {count}", zm[0])));
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Pairs<'a> = Vec<(&'a [u8], &'a [u8])>;

    fn all(zm: &[u8]) -> Result<Pairs<'_>, Error> {
        let mut v = Vec::new();
        read(zm, |f, val| {
            v.push((f, val));
            Ok(())
        })?;
        Ok(v)
    }

    /// zipmap.c's own example: `"foo" => "bar", "hello" => "world"`, plus
    /// a value with free bytes and one with a 5-byte length.
    #[test]
    fn reads_the_documented_layout() {
        let zm = b"\x02\x03foo\x03\x00bar\x05hello\x05\x00world\xff";
        assert_eq!(all(zm).unwrap(), [(&b"foo"[..], &b"bar"[..]), (b"hello", b"world")]);
        let mut big = vec![2u8, 1, b'a', 1, 2, b'x', 0, 0, 1, b'b', 0xFE];
        big.extend_from_slice(&300u32.to_le_bytes());
        big.push(0);
        big.extend_from_slice(&[b'y'; 300]);
        big.push(END);
        let got = all(&big).unwrap();
        assert_eq!(got[0], (&b"a"[..], &b"x"[..]));
        assert_eq!((got[1].0, got[1].1.len()), (&b"b"[..], 300));
    }

    #[test]
    fn hostile_blobs_are_refused() {
        let good = b"\x02\x03foo\x03\x00bar\x05hello\x05\x00world\xff".to_vec();
        assert!(all(b"\x00\xff").is_err(), "empty");
        assert!(all(b"\x05\x03foo\x03\x00bar\xff").is_err(), "count");
        assert!(all(b"\xfe\x03foo\x03\x00bar\xff").is_ok(), "uncounted");
        assert!(all(b"\x01\x03foo\x03\x09bar\xff").is_err(), "free past the end");
        assert!(all(b"\x01\xfe\xff\xff\xff\xff\x03\x00bar\xff").is_err(), "huge field");
        for cut in 0..good.len() {
            let _ = all(&good[..cut]);
        }
        for i in 0..good.len() {
            for b in [0u8, 3, 0x7f, 0xFE, 0xFF] {
                let mut bad = good.clone();
                bad[i] = b;
                let _ = all(&bad);
            }
        }
    }
}
