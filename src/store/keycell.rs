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

/// `#[repr(u8)]` lays each shape out as a C struct after the tag, so the
/// bookkeeping sits at the same offsets in all three (`access` at 1,
/// `vbits` at 4) and reading it needs no branch on the shape.
#[derive(Clone)]
#[repr(u8)]
pub enum KeyCell {
    /// A key of exactly `INLINE` bytes.
    Full { access: [u8; 3], vbits: u32, buf: [u8; INLINE] },
    /// A shorter key: its length, then its bytes.
    Short { access: [u8; 3], vbits: u32, len: u8, buf: [u8; INLINE - 1] },
    /// A longer key, in an exact-size block.
    Heap { access: [u8; 3], vbits: u32, key: Box<[u8]> },
}

const _: () = assert!(std::mem::size_of::<KeyCell>() == 24);

impl KeyCell {
    /// A cell for `key` with bookkeeping `vbits` and `access` (its low 24
    /// bits).
    pub fn new(key: &[u8], vbits: u32, access: u32) -> KeyCell {
        let access = pack(access);
        if key.len() == INLINE {
            let mut buf = [0; INLINE];
            buf.copy_from_slice(key);
            KeyCell::Full { access, vbits, buf }
        } else if key.len() < INLINE {
            let mut buf = [0; INLINE - 1];
            buf[..key.len()].copy_from_slice(key);
            KeyCell::Short { access, vbits, len: key.len() as u8, buf }
        } else {
            KeyCell::Heap { access, vbits, key: key.into() }
        }
    }

    pub fn key(&self) -> &[u8] {
        match self {
            KeyCell::Full { buf, .. } => buf,
            KeyCell::Short { len, buf, .. } => &buf[..*len as usize],
            KeyCell::Heap { key, .. } => key,
        }
    }

    /// 32 bits of bookkeeping (the entry's TTL-index position and marks).
    pub fn vbits(&self) -> u32 {
        let (KeyCell::Full { vbits, .. } | KeyCell::Short { vbits, .. } | KeyCell::Heap { vbits, .. }) = self;
        *vbits
    }

    pub fn set_vbits(&mut self, v: u32) {
        let (KeyCell::Full { vbits, .. } | KeyCell::Short { vbits, .. } | KeyCell::Heap { vbits, .. }) = self;
        *vbits = v;
    }

    /// 24 bits of bookkeeping (the entry's LRU/LFU field).
    pub fn access(&self) -> u32 {
        let (KeyCell::Full { access, .. } | KeyCell::Short { access, .. } | KeyCell::Heap { access, .. }) = self;
        let [a, b, c] = *access;
        u32::from_le_bytes([a, b, c, 0])
    }

    /// Replaces the 24-bit field with the low 24 bits of `a`.
    pub fn set_access(&mut self, a: u32) {
        let (KeyCell::Full { access, .. } | KeyCell::Short { access, .. } | KeyCell::Heap { access, .. }) = self;
        *access = pack(a);
    }

    /// Heap bytes owned (0 when inline).
    pub fn heap_size(&self) -> usize {
        match self {
            KeyCell::Heap { key, .. } => key.len(),
            _ => 0,
        }
    }
}

fn pack(a: u32) -> [u8; 3] {
    let [a, b, c, _] = a.to_le_bytes();
    [a, b, c]
}

impl std::fmt::Debug for KeyCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}/{:#x}/{:#x}", String::from_utf8_lossy(self.key()), self.vbits(), self.access())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_every_length_keep_their_bytes_and_bookkeeping() {
        for n in 0..40 {
            let key: Vec<u8> = (0..n as u8).map(|i| i.wrapping_mul(37)).collect();
            let mut c = KeyCell::new(&key, 0x0123_4567, 0xab_cdef);
            assert_eq!((c.key(), c.vbits(), c.access()), (&key[..], 0x0123_4567, 0xab_cdef));
            c.set_vbits(u32::MAX);
            c.set_access(u32::MAX);
            assert_eq!((c.key(), c.vbits(), c.access()), (&key[..], u32::MAX, 0xff_ffff), "24 bits of access");
            c.set_access(0x12_3456);
            assert_eq!((c.key(), c.vbits(), c.access()), (&key[..], u32::MAX, 0x12_3456));
            assert_eq!(c.heap_size(), if n > INLINE { n } else { 0 });
            assert_eq!(c.clone().key(), &key[..]);
        }
        assert!(matches!(KeyCell::new(b"key:000000123456", 0, 0), KeyCell::Full { .. }));
    }
}
