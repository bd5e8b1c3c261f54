//! Redis's listpack, as RDB payloads carry it (small hashes and sorted
//! sets, quicklist nodes, Redis 7.2's small sets): written exactly as
//! `listpack.c` writes it, read with every bound checked.
//!
//! Layout: total bytes (`u32` LE), element count (`u16` LE, 65535 meaning
//! "count them"), the entries, then `0xFF`. An entry is an encoding byte
//! (with the length or value for the short forms), the payload, and the
//! entry's size written backwards in 1 to 5 bytes ("backlen"):
//!
//! | first byte | entry |
//! | --- | --- |
//! | `0xxxxxxx` | the integer 0..127 |
//! | `10xxxxxx` | a string of up to 63 bytes |
//! | `110xxxxx` + 1 | a 13-bit signed integer |
//! | `1110xxxx` + 1 | a string of up to 4095 bytes |
//! | `0xF0` + 4 | a string, `u32` LE length |
//! | `0xF1`..`0xF4` | an integer of 2, 3, 4 or 8 bytes LE |
//!
//! A string that is the canonical decimal form of an integer is written
//! as the integer, as `lpAppend` does.

use super::Error;
use crate::store::list::Elem;

/// Header bytes: total size and count.
const HDR: usize = 6;
/// The terminator.
const EOF: u8 = 0xFF;
/// `LP_HDR_NUMELE_UNKNOWN`.
const COUNT_UNKNOWN: u16 = u16::MAX;

/// Builds a listpack the way Redis appends to one.
pub struct Writer {
    buf: Vec<u8>,
    count: usize,
}

impl Default for Writer {
    fn default() -> Writer {
        Writer::new()
    }
}

impl Writer {
    pub fn new() -> Writer {
        Writer { buf: vec![0; HDR], count: 0 }
    }

    /// Appends the text `s` (as an integer when it reads as one).
    pub fn push_str(&mut self, s: &[u8]) {
        self.push(Elem::of(s));
    }

    /// Appends an element: integers in the smallest encoding that holds
    /// them, strings with the shortest length header.
    pub fn push(&mut self, e: Elem) {
        // One encoder with the stream nodes' listpacks (`store::stream::lp`).
        crate::store::stream::lp::encode(&mut self.buf, e);
        self.count += 1;
    }

    /// The finished listpack.
    pub fn finish(mut self) -> Vec<u8> {
        self.seal();
        self.buf
    }

    /// The finished listpack, keeping the buffer for [`Writer::clear`].
    pub fn sealed(&mut self) -> &[u8] {
        self.seal();
        &self.buf
    }

    /// Empties the writer for the next listpack (the buffer stays).
    pub fn clear(&mut self) {
        self.buf.truncate(HDR);
        self.count = 0;
    }

    fn seal(&mut self) {
        self.buf.push(EOF);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let count = if self.count < COUNT_UNKNOWN as usize { self.count as u16 } else { COUNT_UNKNOWN };
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
    }
}

/// Bytes `lpEncodeBacklen` takes for an entry of `len` bytes (the stream
/// nodes' listpack code has the one copy).
use crate::store::stream::lp::backlen_size;

/// `lpDecodeBacklen` at `end` (exclusive), reading no byte below index
/// `floor`: the value, or `None` when it runs past 5 bytes or the floor.
fn read_backlen(lp: &[u8], end: usize, floor: usize) -> Option<usize> {
    let (mut val, mut shift, mut p) = (0usize, 0, end);
    loop {
        if p <= floor || shift > 28 {
            return None;
        }
        p -= 1;
        val |= ((lp[p] & 127) as usize) << shift;
        if lp[p] & 128 == 0 {
            return Some(val);
        }
        shift += 7;
    }
}

fn corrupt(what: &str, at: usize) -> Error {
    Error::Corrupt(format!("listpack: {what} at byte {at}"))
}

/// Reads the listpack `lp`, calling `f` on each entry in order; returns
/// the number of entries.
///
/// Always checked, whatever `deep` says (ferrokv converts every entry, so
/// it must read each one safely): the header's total size against the blob,
/// the terminator, every entry's encoding and that it ends before the
/// terminator, and that the entries end exactly at it. With `deep`, also
/// Redis's sanitize checks: each entry's backlen, and the header's count
/// against the entries found.
pub fn read<'a>(lp: &'a [u8], deep: bool, mut f: impl FnMut(Elem<'a>) -> Result<(), Error>) -> Result<usize, Error> {
    super::count_sanitization(deep);
    if lp.len() < HDR + 1 {
        return Err(Error::Corrupt(format!("listpack of {} bytes is shorter than its header", lp.len())));
    }
    let total = u32::from_le_bytes([lp[0], lp[1], lp[2], lp[3]]) as usize;
    if total != lp.len() {
        return Err(Error::Corrupt(format!("listpack header says {total} bytes, the blob has {}", lp.len())));
    }
    let end = lp.len() - 1;
    if lp[end] != EOF {
        return Err(corrupt("no terminator", end));
    }
    let header_count = u16::from_le_bytes([lp[4], lp[5]]);
    let mut p = HDR;
    let mut count = 0usize;
    while lp[p] != EOF {
        let (e, next) = entry(lp, p, end, deep)?;
        f(e)?;
        count += 1;
        p = next;
    }
    if p != end {
        return Err(corrupt("terminator before the end", p));
    }
    if deep && header_count != COUNT_UNKNOWN && header_count as usize != count {
        return Err(Error::Corrupt(format!("listpack header counts {header_count} entries, it holds {count}")));
    }
    Ok(count)
}

/// The entry at `p` (not the terminator) and where the next one starts,
/// which is at most `end` (the terminator's index).
fn entry(lp: &[u8], p: usize, end: usize, deep: bool) -> Result<(Elem<'_>, usize), Error> {
    let b = lp[p];
    // Bytes of the header (encoding byte included) the entry needs.
    let hdr = match b {
        0x00..=0xBF => 1,
        0xC0..=0xEF => 2,
        0xF0 => 5,
        0xF1..=0xF4 => 1,
        _ => return Err(corrupt(&format!("invalid entry encoding {b:#04x}"), p)),
    };
    if p + hdr > end {
        return Err(corrupt("entry header past the end", p));
    }
    let int = |width: usize| -> Result<i64, Error> {
        let bytes = lp.get(p + 1..p + 1 + width).filter(|_| p + 1 + width <= end);
        let bytes = bytes.ok_or_else(|| corrupt("integer past the end", p))?;
        let mut le = [0u8; 8];
        le[..width].copy_from_slice(bytes);
        let shift = 64 - 8 * width as u32;
        Ok(((u64::from_le_bytes(le) << shift) as i64) >> shift)
    };
    let string = |at: usize, n: usize| -> Result<Elem<'_>, Error> {
        let stop = at.checked_add(n).filter(|&s| s <= end).ok_or_else(|| corrupt("string past the end", p))?;
        Ok(Elem::Bytes(&lp[at..stop]))
    };
    let (e, len) = match b {
        0x00..=0x7F => (Elem::Int(b as i64), 1),
        0x80..=0xBF => {
            let n = (b & 0x3f) as usize;
            (string(p + 1, n)?, 1 + n)
        }
        0xC0..=0xDF => {
            let u = (((b & 0x1f) as u64) << 8) | lp[p + 1] as u64;
            (Elem::Int(((u << 51) as i64) >> 51), 2)
        }
        0xE0..=0xEF => {
            let n = (((b & 0x0f) as usize) << 8) | lp[p + 1] as usize;
            (string(p + 2, n)?, 2 + n)
        }
        0xF0 => {
            let n = u32::from_le_bytes([lp[p + 1], lp[p + 2], lp[p + 3], lp[p + 4]]) as usize;
            (string(p + 5, n)?, 5usize.saturating_add(n))
        }
        0xF1 => (Elem::Int(int(2)?), 3),
        0xF2 => (Elem::Int(int(3)?), 4),
        0xF3 => (Elem::Int(int(4)?), 5),
        _ => (Elem::Int(int(8)?), 9),
    };
    let back = backlen_size(len);
    let next = (p + len).checked_add(back).filter(|&n| n <= end).ok_or_else(|| corrupt("backlen past the end", p))?;
    if deep && read_backlen(lp, next, p + len) != Some(len) {
        return Err(corrupt("backlen does not match the entry", p));
    }
    Ok((e, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(lp: &[u8], deep: bool) -> Result<Vec<Elem<'_>>, Error> {
        let mut v = Vec::new();
        read(lp, deep, |e| {
            v.push(e);
            Ok(())
        })?;
        Ok(v)
    }

    #[test]
    fn every_encoding_round_trips() {
        let elems = [
            Elem::Int(0),
            Elem::Int(127),
            Elem::Int(128),
            Elem::Int(-1),
            Elem::Int(4095),
            Elem::Int(-4096),
            Elem::Int(4096),
            Elem::Int(-32768),
            Elem::Int(32768),
            Elem::Int(-0x80_0000),
            Elem::Int(0x80_0000),
            Elem::Int(i32::MIN as i64),
            Elem::Int(i32::MAX as i64 + 1),
            Elem::Int(i64::MIN),
            Elem::Int(i64::MAX),
            Elem::Bytes(b""),
            Elem::Bytes(&[b'a'; 63]),
            Elem::Bytes(&[b'b'; 64]),
            Elem::Bytes(&[b'c'; 4095]),
            Elem::Bytes(&[b'd'; 4096]),
            Elem::Bytes(&[b'e'; 20_000]),
        ];
        let mut w = Writer::new();
        elems.iter().for_each(|&e| w.push(e));
        let lp = w.finish();
        assert_eq!(all(&lp, true).unwrap(), elems);
        assert_eq!(all(&lp, false).unwrap(), elems);
    }

    /// `DEBUG LISTPACK`-era bytes from redis-server 7.0.15: the body of
    /// `DUMP h` after `HSET h f1 v1 123 -5 big 1099511627776`.
    #[test]
    fn reads_and_writes_redis_bytes() {
        let hex = "2300000006008266310382763103 7b01 dffb02 8362696704 f4000000000001000009 ff";
        let lp: Vec<u8> = hex
            .split_whitespace()
            .collect::<String>()
            .as_bytes()
            .chunks(2)
            .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
            .collect();
        let want = [
            Elem::Bytes(b"f1"),
            Elem::Bytes(b"v1"),
            Elem::Int(123),
            Elem::Int(-5),
            Elem::Bytes(b"big"),
            Elem::Int(1 << 40),
        ];
        assert_eq!(all(&lp, true).unwrap(), want);
        let mut w = Writer::new();
        for s in ["f1", "v1", "123", "-5", "big", "1099511627776"] {
            w.push_str(s.as_bytes());
        }
        assert_eq!(w.finish(), lp);
    }

    /// Writes the backlen of an entry of `len` bytes: the most significant
    /// 7-bit group first, every group but that one with bit 7 set, so it reads
    /// from the end backwards.
    fn put_backlen(out: &mut Vec<u8>, len: usize) {
        let n = backlen_size(len);
        for i in (0..n).rev() {
            let group = ((len >> (7 * i)) & 127) as u8;
            out.push(if i + 1 == n { group } else { group | 128 });
        }
        // lpEncodeBacklen writes the first byte unmasked (`l >> 7`, `l >> 14`,
        // ...), which is the same group: the ranges keep it under 128.
    }

    #[test]
    fn backlens_of_every_size() {
        for len in [1usize, 127, 128, 16382, 16383, 2097150, 2097151] {
            let mut v = vec![0u8; 3];
            put_backlen(&mut v, len);
            assert_eq!(v.len() - 3, backlen_size(len), "{len}");
            assert_eq!(read_backlen(&v, v.len(), 3), Some(len), "{len}");
        }
    }

    #[test]
    fn hostile_blobs_are_refused() {
        let mut w = Writer::new();
        w.push_str(b"hello");
        w.push(Elem::Int(1000));
        let good = w.finish();
        assert!(all(&good, true).is_ok());
        // Too short, wrong size, no terminator, trailing terminator.
        assert!(all(&good[..5], false).is_err());
        assert!(all(&good[..good.len() - 1], false).is_err());
        let mut bad = good.clone();
        *bad.last_mut().unwrap() = 0;
        assert!(all(&bad, false).is_err());
        // An entry length running past the end.
        let mut bad = good.clone();
        bad[6] = 0xBF;
        assert!(all(&bad, false).is_err());
        // An invalid encoding byte.
        let mut bad = good.clone();
        bad[6] = 0xF7;
        assert!(all(&bad, false).is_err());
        // A wrong backlen or count only fails the deep check.
        let mut bad = good.clone();
        bad[12] = 9;
        assert!(all(&bad, false).is_ok());
        assert!(all(&bad, true).is_err());
        let mut bad = good.clone();
        bad[4] = 3;
        assert!(all(&bad, false).is_ok());
        assert!(all(&bad, true).is_err());
        // A 32-bit string length near u32::MAX.
        let blob = [12, 0, 0, 0, 1, 0, 0xF0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        assert!(all(&blob, true).is_err());
        // Every truncation and every single-byte change: an error or entries, never a panic.
        for cut in 0..good.len() {
            let _ = all(&good[..cut], true);
        }
        for i in 0..good.len() {
            for b in [0u8, 0x7f, 0x80, 0xC0, 0xE0, 0xF0, 0xF4, 0xFF] {
                let mut bad = good.clone();
                bad[i] = b;
                let _ = all(&bad, true);
                let _ = all(&bad, false);
            }
        }
    }
}
