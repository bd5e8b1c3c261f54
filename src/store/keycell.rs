//! `KeyCell`: a keyspace key and its entry's bookkeeping in 24 bytes.
//!
//! A keyspace entry is a key, a 24-byte [`Value`](super::Value) and 56 bits
//! of bookkeeping (the position of its expiry, the snapshot mark and the
//! 24-bit LRU/LFU field). With the key as a separate 24-byte compact string
//! the three took 56 bytes; here the key and the bookkeeping share one
//! 24-byte cell, so an entry is 48 bytes. Keys of up to 16 bytes (redis-
//! benchmark's `key:000000123456`, `user:1000:session`) live inline; longer
//! ones take an exact-size heap block, as `Bytes` does past 22 bytes.
//!
//! The cell is a plain enum: its one-byte tag tells the three shapes apart
//! (exactly 16 bytes, shorter with a length byte, on the heap), and each
//! shape has the 7 bookkeeping bytes in the same place, so no unsafe code is
//! needed for the small-string layout.

/// Longest key stored inline.
pub const INLINE: usize = 16;

#[derive(Clone)]
pub enum KeyCell {
    /// A key of exactly `INLINE` bytes.
    Full { meta: [u8; 7], buf: [u8; INLINE] },
    /// A shorter key: its length, then its bytes.
    Short { meta: [u8; 7], len: u8, buf: [u8; INLINE - 1] },
    /// A longer key, in an exact-size block.
    Heap { meta: [u8; 7], key: Box<[u8]> },
}

const _: () = assert!(std::mem::size_of::<KeyCell>() == 24);

impl KeyCell {
    /// A cell for `key` with bookkeeping `meta` (its low 56 bits).
    pub fn new(key: &[u8], meta: u64) -> KeyCell {
        let meta = pack(meta);
        if key.len() == INLINE {
            let mut buf = [0; INLINE];
            buf.copy_from_slice(key);
            KeyCell::Full { meta, buf }
        } else if key.len() < INLINE {
            let mut buf = [0; INLINE - 1];
            buf[..key.len()].copy_from_slice(key);
            KeyCell::Short { meta, len: key.len() as u8, buf }
        } else {
            KeyCell::Heap { meta, key: key.into() }
        }
    }

    pub fn key(&self) -> &[u8] {
        match self {
            KeyCell::Full { buf, .. } => buf,
            KeyCell::Short { len, buf, .. } => &buf[..*len as usize],
            KeyCell::Heap { key, .. } => key,
        }
    }

    /// The 56 bits of bookkeeping.
    pub fn meta(&self) -> u64 {
        let (KeyCell::Full { meta, .. } | KeyCell::Short { meta, .. } | KeyCell::Heap { meta, .. }) = self;
        let [a, b, c, d, e, f, g] = *meta;
        u64::from_le_bytes([a, b, c, d, e, f, g, 0])
    }

    /// Replaces the bookkeeping with the low 56 bits of `m`.
    pub fn set_meta(&mut self, m: u64) {
        let (KeyCell::Full { meta, .. } | KeyCell::Short { meta, .. } | KeyCell::Heap { meta, .. }) = self;
        *meta = pack(m);
    }

    /// Heap bytes owned (0 when inline).
    pub fn heap_size(&self) -> usize {
        match self {
            KeyCell::Heap { key, .. } => key.len(),
            _ => 0,
        }
    }
}

fn pack(m: u64) -> [u8; 7] {
    let [a, b, c, d, e, f, g, _] = m.to_le_bytes();
    [a, b, c, d, e, f, g]
}

impl std::fmt::Debug for KeyCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}/{:#x}", String::from_utf8_lossy(self.key()), self.meta())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_every_length_keep_their_bytes_and_bookkeeping() {
        for n in 0..40 {
            let key: Vec<u8> = (0..n as u8).map(|i| i.wrapping_mul(37)).collect();
            let mut c = KeyCell::new(&key, 0x00ab_cdef_0123_4567);
            assert_eq!(c.key(), &key[..]);
            assert_eq!(c.meta(), 0x00ab_cdef_0123_4567);
            c.set_meta(u64::MAX);
            assert_eq!((c.key(), c.meta()), (&key[..], (1 << 56) - 1), "only 56 bits are kept");
            assert_eq!(c.heap_size(), if n > INLINE { n } else { 0 });
            assert_eq!(c.clone().key(), &key[..]);
        }
        assert!(matches!(KeyCell::new(b"key:000000123456", 0), KeyCell::Full { .. }));
    }
}
