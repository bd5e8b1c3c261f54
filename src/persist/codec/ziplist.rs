//! Redis's ziplist (RDB types written before Redis 7.0: list, hash and
//! sorted-set ziplists and the ziplist nodes of quicklists), read only.
//! Redis 7.0 converts every ziplist it loads, and so does ferrokv, so the
//! blob is always checked in full, as Redis's `ziplistValidateIntegrity`
//! with `deep` does whatever `sanitize-dump-payload` says.
//!
//! Layout: total bytes (`u32` LE), offset of the last entry (`u32` LE),
//! entry count (`u16` LE, 65535 meaning "count them"), the entries, then
//! `0xFF`. An entry is the previous entry's size (1 byte below 254, else
//! `0xFE` and a `u32` LE), an encoding, and the payload:
//!
//! | encoding | payload |
//! | --- | --- |
//! | `00pppppp` | a string of up to 63 bytes |
//! | `01pppppp qqqqqqqq` | a string, 14-bit length (big endian) |
//! | `10______` + 4 | a string, `u32` BE length |
//! | `0xC0`, `0xD0`, `0xE0` | an `i16`, `i32`, `i64` LE |
//! | `0xF0`, `0xFE` | a 24-bit or 8-bit signed integer |
//! | `0xF1`..`0xFD` | the integer 0..12, no payload |

use super::Error;
use crate::store::list::Elem;

/// Header bytes: total size, tail offset, count.
const HDR: usize = 10;
const END: u8 = 0xFF;
/// `ZIP_BIG_PREVLEN`: a 4-byte previous length follows.
const BIG_PREVLEN: u8 = 0xFE;

fn corrupt(what: &str, at: usize) -> Error {
    Error::Corrupt(format!("ziplist: {what} at byte {at}"))
}

/// Reads the ziplist `zl`, calling `f` on each entry in order; returns the
/// number of entries. Checked as `ziplistValidateIntegrity(deep)`: the
/// header's size, tail offset and count, the terminator, each entry's
/// encoding, bounds and recorded previous length.
pub fn read<'a>(zl: &'a [u8], mut f: impl FnMut(Elem<'a>) -> Result<(), Error>) -> Result<usize, Error> {
    if zl.len() < HDR + 1 {
        return Err(Error::Corrupt(format!("ziplist of {} bytes is shorter than its header", zl.len())));
    }
    let total = u32::from_le_bytes([zl[0], zl[1], zl[2], zl[3]]) as usize;
    if total != zl.len() {
        return Err(Error::Corrupt(format!("ziplist header says {total} bytes, the blob has {}", zl.len())));
    }
    let last = zl.len() - 1;
    if zl[last] != END {
        return Err(corrupt("no terminator", last));
    }
    let tail = u32::from_le_bytes([zl[4], zl[5], zl[6], zl[7]]) as usize;
    if tail > last {
        return Err(corrupt("tail offset past the end", 4));
    }
    let header_count = u16::from_le_bytes([zl[8], zl[9]]);
    let (mut p, mut prev, mut prev_size, mut count) = (HDR, None, 0usize, 0usize);
    while zl[p] != END {
        let (e, size, prevlen) = entry(zl, p, last)?;
        if prevlen != prev_size {
            return Err(corrupt("previous entry length does not match", p));
        }
        f(e)?;
        prev = Some(p);
        prev_size = size;
        p += size;
        count += 1;
    }
    if p != last {
        return Err(corrupt("terminator before the end", p));
    }
    if prev.is_some_and(|at| at != tail) {
        return Err(corrupt("tail offset is not the last entry", 4));
    }
    if header_count != u16::MAX && header_count as usize != count {
        return Err(Error::Corrupt(format!("ziplist header counts {header_count} entries, it holds {count}")));
    }
    Ok(count)
}

/// The entry at `p`: its element, its whole size and the previous length
/// it records. Everything must end by `last` (the terminator's index).
fn entry(zl: &[u8], p: usize, last: usize) -> Result<(Elem<'_>, usize, usize), Error> {
    let within = |n: usize| n <= last;
    let (prevlen, prevsize) = if zl[p] < BIG_PREVLEN {
        (zl[p] as usize, 1)
    } else {
        if !within(p + 5) {
            return Err(corrupt("previous length past the end", p));
        }
        (u32::from_le_bytes([zl[p + 1], zl[p + 2], zl[p + 3], zl[p + 4]]) as usize, 5)
    };
    let q = p + prevsize;
    if !within(q) {
        return Err(corrupt("encoding past the end", p));
    }
    let enc = zl[q];
    let lensize = match enc {
        0x00..=0x3F => 1,
        0x40..=0x7F => 2,
        0x80..=0xBF => 5,
        0xC0 | 0xD0 | 0xE0 | 0xF0 | 0xFE | 0xF1..=0xFD => 1,
        _ => return Err(corrupt(&format!("invalid encoding {enc:#04x}"), q)),
    };
    if !within(q + lensize) {
        return Err(corrupt("entry header past the end", p));
    }
    let data = q + lensize;
    let len = match enc {
        0x00..=0x3F => (enc & 0x3f) as usize,
        0x40..=0x7F => (((enc & 0x3f) as usize) << 8) | zl[q + 1] as usize,
        0x80..=0xBF => u32::from_be_bytes([zl[q + 1], zl[q + 2], zl[q + 3], zl[q + 4]]) as usize,
        0xC0 => 2,
        0xD0 => 4,
        0xE0 => 8,
        0xF0 => 3,
        0xFE => 1,
        _ => 0,
    };
    let end = data.checked_add(len).filter(|&e| within(e)).ok_or_else(|| corrupt("entry past the end", p))?;
    if prevlen > p - HDR {
        return Err(corrupt("previous length before the start", p));
    }
    let int = |width: usize| {
        let mut le = [0u8; 8];
        le[..width].copy_from_slice(&zl[data..data + width]);
        let shift = 64 - 8 * width as u32;
        ((u64::from_le_bytes(le) << shift) as i64) >> shift
    };
    let e = match enc {
        0x00..=0xBF => Elem::Bytes(&zl[data..end]),
        0xF1..=0xFD => Elem::Int((enc & 0x0f) as i64 - 1),
        _ => Elem::Int(int(len)),
    };
    Ok((e, end - p, prevlen))
}

/// A ziplist as Redis 6 wrote one (tests build pre-7.0 payloads with it).
#[cfg(test)]
pub fn write(elems: &[Elem]) -> Vec<u8> {
    let mut out = vec![0u8; HDR];
    let (mut prev, mut tail) = (0usize, HDR);
    for &e in elems {
        let start = out.len();
        tail = start;
        if prev < BIG_PREVLEN as usize {
            out.push(prev as u8);
        } else {
            out.push(BIG_PREVLEN);
            out.extend_from_slice(&(prev as u32).to_le_bytes());
        }
        match e {
            Elem::Int(v @ 0..=12) => out.push(0xF1 + v as u8),
            Elem::Int(v) if i8::try_from(v).is_ok() => out.extend_from_slice(&[0xFE, v as u8]),
            Elem::Int(v) if i16::try_from(v).is_ok() => {
                out.push(0xC0);
                out.extend_from_slice(&(v as i16).to_le_bytes());
            }
            Elem::Int(v @ -0x80_0000..=0x7f_ffff) => {
                out.push(0xF0);
                out.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            Elem::Int(v) if i32::try_from(v).is_ok() => {
                out.push(0xD0);
                out.extend_from_slice(&(v as i32).to_le_bytes());
            }
            Elem::Int(v) => {
                out.push(0xE0);
                out.extend_from_slice(&v.to_le_bytes());
            }
            Elem::Bytes(s) => {
                match s.len() {
                    n if n < 64 => out.push(n as u8),
                    n if n < 16384 => out.extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]),
                    n => {
                        out.push(0x80);
                        out.extend_from_slice(&(n as u32).to_be_bytes());
                    }
                }
                out.extend_from_slice(s);
            }
        }
        prev = out.len() - start;
    }
    out.push(END);
    let total = out.len() as u32;
    out[..4].copy_from_slice(&total.to_le_bytes());
    out[4..8].copy_from_slice(&(tail as u32).to_le_bytes());
    let count = elems.len().min(u16::MAX as usize) as u16;
    out[8..10].copy_from_slice(&count.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(zl: &[u8]) -> Result<Vec<Elem<'_>>, Error> {
        let mut v = Vec::new();
        read(zl, |e| {
            v.push(e);
            Ok(())
        })?;
        Ok(v)
    }

    #[test]
    fn every_encoding_round_trips() {
        let big = vec![b'z'; 300];
        let huge = vec![b'h'; 20_000];
        let elems = [
            Elem::Int(0),
            Elem::Int(12),
            Elem::Int(13),
            Elem::Int(-128),
            Elem::Int(1000),
            Elem::Int(-0x80_0000),
            Elem::Int(0x7f_ffff),
            Elem::Int(i32::MIN as i64),
            Elem::Int(i64::MAX),
            Elem::Bytes(b""),
            Elem::Bytes(&big),
            Elem::Bytes(b"after a big one"),
            Elem::Bytes(&huge),
        ];
        let zl = write(&elems);
        assert_eq!(all(&zl).unwrap(), elems);
        assert_eq!(all(&write(&[])).unwrap(), []);
    }

    /// The ziplist of a hash as Redis 6 dumped it (two-byte fields and
    /// values `a\0` ... `d\0`), from Redis's own corrupt-dump tests, and
    /// the two corruptions those tests make of it.
    #[test]
    fn reads_redis_6_bytes() {
        let zl = [0x1B, 0, 0, 0, 0x16, 0, 0, 0, 4, 0, 0, 2, b'a', 0, 4, 2, b'b', 0, 4, 2, b'c', 0, 4, 2, b'd', 0, 0xFF];
        assert_eq!(
            all(&zl).unwrap(),
            [Elem::Bytes(b"a\0"), Elem::Bytes(b"b\0"), Elem::Bytes(b"c\0"), Elem::Bytes(b"d\0")]
        );
        // "invalid entry len" and "invalid zlbytes header".
        let mut bad = zl;
        bad[19] = 0x14;
        assert!(all(&bad).is_err());
        let mut bad = zl;
        bad[0] = 0x25;
        assert!(all(&bad).is_err());
    }

    #[test]
    fn hostile_blobs_are_refused() {
        let good = write(&[Elem::Bytes(b"hello"), Elem::Int(1000), Elem::Bytes(&[7; 300])]);
        assert_eq!(all(&good).unwrap().len(), 3);
        // Wrong total, tail, count, prevlen, terminator.
        for (at, b) in [(0, 9u8), (4, 11), (8, 2), (10 + 7, 3), (11, 0x3F)] {
            let mut bad = good.clone();
            bad[at] = b;
            assert!(all(&bad).is_err(), "byte {at} = {b}");
        }
        let mut bad = good.clone();
        *bad.last_mut().unwrap() = 0;
        assert!(all(&bad).is_err());
        // A 32-bit string length near u32::MAX.
        let mut bad = write(&[Elem::Bytes(&[1; 20_000])]);
        bad[11..15].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xF0]);
        assert!(all(&bad).is_err());
        for cut in 0..good.len() {
            let _ = all(&good[..cut]);
        }
        for i in 0..good.len() {
            for b in [0u8, 0x3F, 0x40, 0x80, 0xC0, 0xE0, 0xF0, 0xFE, 0xFF] {
                let mut bad = good.clone();
                bad[i] = b;
                let _ = all(&bad);
            }
        }
    }
}
