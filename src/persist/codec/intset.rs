//! Redis's intset (`RDB_TYPE_SET_INTSET`): a sorted array of integers of
//! one width. Layout: the width in bytes (`u32` LE: 2, 4 or 8), the count
//! (`u32` LE), then the integers, little-endian, ascending.

use super::Error;

const HDR: usize = 8;

/// Writes an intset of `values` (ascending, distinct) in the narrowest
/// width that holds them all, as Redis's `intsetAdd` upgrades to.
pub fn write(values: &[i64]) -> Vec<u8> {
    let fits = |w: u32| values.iter().all(|&v| v >> (8 * w - 1) == 0 || v >> (8 * w - 1) == -1);
    let width: usize = if fits(2) {
        2
    } else if fits(4) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(HDR + width * values.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(values.len() as u32).to_le_bytes());
    for &v in values {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

/// Reads the intset `blob`, calling `f` on each integer in order; returns
/// the count. Always checked (`intsetValidateIntegrity`): the width, the
/// size against the count, and that it is not empty; with `deep`, also
/// that the integers are strictly ascending.
pub fn read(blob: &[u8], deep: bool, mut f: impl FnMut(i64) -> Result<(), Error>) -> Result<usize, Error> {
    super::count_sanitization(deep);
    if blob.len() < HDR {
        return Err(Error::Corrupt(format!("intset of {} bytes is shorter than its header", blob.len())));
    }
    let width = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    if ![2, 4, 8].contains(&width) {
        return Err(Error::Corrupt(format!("intset of width {width}")));
    }
    let count = u32::from_le_bytes([blob[4], blob[5], blob[6], blob[7]]) as usize;
    if count.checked_mul(width).and_then(|n| n.checked_add(HDR)) != Some(blob.len()) {
        return Err(Error::Corrupt(format!("intset of {count} {width}-byte integers in {} bytes", blob.len())));
    }
    if count == 0 {
        return Err(Error::Corrupt("empty intset".into()));
    }
    let mut prev = None;
    for chunk in blob[HDR..].chunks_exact(width) {
        let mut le = [0u8; 8];
        le[..width].copy_from_slice(chunk);
        let shift = 64 - 8 * width as u32;
        let v = ((u64::from_le_bytes(le) << shift) as i64) >> shift;
        if deep && prev.is_some_and(|p| p >= v) {
            return Err(Error::Corrupt("intset not strictly ascending".into()));
        }
        prev = Some(v);
        f(v)?;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(blob: &[u8], deep: bool) -> Result<Vec<i64>, Error> {
        let mut v = Vec::new();
        read(blob, deep, |n| {
            v.push(n);
            Ok(())
        })?;
        Ok(v)
    }

    /// `DUMP` bodies from redis-server 7.0.15 (`SADD s 1 2 3`,
    /// `SADD s -40000 5`, `SADD s 5000000000 -1`), without the RDB string
    /// length byte in front.
    #[test]
    fn reads_and_writes_redis_bytes() {
        let cases: [(&str, &[i64]); 3] = [
            ("0200000003000000010002000300", &[1, 2, 3]),
            ("0400000002000000c063ffff05000000", &[-40000, 5]),
            ("0800000002000000ffffffffffffffff00f2052a01000000", &[-1, 5_000_000_000]),
        ];
        for (hex, want) in cases {
            let blob: Vec<u8> =
                (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
            assert_eq!(all(&blob, true).unwrap(), want);
            assert_eq!(write(want), blob);
        }
    }

    #[test]
    fn widths_follow_the_values() {
        assert_eq!(write(&[-32768, 32767])[0], 2);
        assert_eq!(write(&[-32769])[0], 4);
        assert_eq!(write(&[i32::MAX as i64])[0], 4);
        assert_eq!(write(&[i32::MIN as i64 - 1])[0], 8);
        assert_eq!(all(&write(&[i64::MIN, 0, i64::MAX]), true).unwrap(), [i64::MIN, 0, i64::MAX]);
    }

    #[test]
    fn hostile_blobs_are_refused() {
        let good = write(&[1, 2, 3]);
        assert!(all(&good[..7], false).is_err());
        assert!(all(&good[..good.len() - 1], false).is_err());
        assert!(all(&[3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0], false).is_err(), "width 3");
        assert!(all(&[2, 0, 0, 0, 0, 0, 0, 0], false).is_err(), "empty");
        assert!(all(&[2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 0], false).is_err(), "count near u32::MAX");
        let unsorted = [2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 1, 0];
        assert_eq!(all(&unsorted, false).unwrap(), [5, 1]);
        assert!(all(&unsorted, true).is_err());
        let dup = [2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 5, 0];
        assert!(all(&dup, true).is_err());
    }
}
