//! `Bytes`: the compact binary string used for keys and string values.
//!
//! 24 bytes in all (no larger than a `Vec`'s header) and, thanks to the
//! niche in its tag, `Value` stays 24 bytes too. Up to 22 bytes live
//! inline, so typical keys (`user:1000:session`) and small values (counters,
//! flags, short ids) cost no allocation. Longer strings take an exact-size
//! heap block (no spare capacity). A string modified in place (APPEND,
//! SETRANGE, SETBIT) switches to a growable buffer, so repeated appends
//! stay amortized O(1) per byte as with Redis's sds.
//!
//! Hashing, equality and ordering are those of the byte slice, so maps keyed
//! by `Bytes` are looked up with a plain `&[u8]`.
//!
//! A string value also remembers how Redis would have encoded it where its
//! content alone does not tell (see [`Bytes::encoding_hint`]): `Grow` is
//! `raw`, and an inline string keeps two flag bits above its length.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, DerefMut};

/// Longest string stored inline.
pub const INLINE: usize = 22;

/// The bits of `Inline::len` that hold the length; the others are flags.
const LEN: u8 = 0x1f;
/// Inline flag: changed in place (APPEND, SETRANGE, SETBIT, ...): Redis's
/// `raw` whatever the content.
const RAW: u8 = 0x20;
/// Inline flag: made by INCRBYFLOAT: Redis's `embstr` even when the text
/// reads as an integer.
const EMBSTR: u8 = 0x40;
const _: () = assert!(INLINE as u8 <= LEN);

#[derive(Clone)]
pub enum Bytes {
    /// `len`: the length in the low bits ([`LEN`]), flags above.
    Inline {
        len: u8,
        buf: [u8; INLINE],
    },
    Boxed(Box<[u8]>),
    Grow(Box<Vec<u8>>),
}

impl Bytes {
    pub const fn new() -> Bytes {
        Bytes::Inline { len: 0, buf: [0; INLINE] }
    }

    pub fn from_slice(s: &[u8]) -> Bytes {
        if s.len() <= INLINE {
            let mut buf = [0; INLINE];
            buf[..s.len()].copy_from_slice(s);
            Bytes::Inline { len: s.len() as u8, buf }
        } else {
            Bytes::Boxed(s.into())
        }
    }

    pub fn from_vec(v: Vec<u8>) -> Bytes {
        if v.len() <= INLINE { Bytes::from_slice(&v) } else { Bytes::Boxed(v.into_boxed_slice()) }
    }

    pub fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Inline { len, buf } => &buf[..(*len & LEN) as usize],
            Bytes::Boxed(b) => b,
            Bytes::Grow(v) => v,
        }
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        match self {
            Bytes::Inline { len, buf } => &mut buf[..(*len & LEN) as usize],
            Bytes::Boxed(b) => b,
            Bytes::Grow(v) => v,
        }
    }

    /// The bytes as a growable vector, for in-place changes that may
    /// change the length; the string stays growable afterwards.
    pub fn vec_mut(&mut self) -> &mut Vec<u8> {
        if !matches!(self, Bytes::Grow(_)) {
            let v = match std::mem::take(self) {
                Bytes::Boxed(b) => b.into_vec(),
                other => other.as_slice().to_vec(),
            };
            *self = Bytes::Grow(Box::new(v));
        }
        match self {
            Bytes::Grow(v) => v,
            _ => unreachable!("just made growable"),
        }
    }

    /// Appends `extra`, staying inline while the result fits.
    pub fn append(&mut self, extra: &[u8]) {
        match self {
            Bytes::Inline { len, buf } if (*len & LEN) as usize + extra.len() <= INLINE => {
                let at = (*len & LEN) as usize;
                buf[at..at + extra.len()].copy_from_slice(extra);
                *len += extra.len() as u8;
            }
            _ => self.vec_mut().extend_from_slice(extra),
        }
    }

    /// Zero-extends (or truncates) to `new_len` bytes, staying inline while
    /// the result fits.
    pub fn resize_zeroed(&mut self, new_len: usize) {
        match self {
            Bytes::Inline { len, buf } if new_len <= INLINE => {
                buf[new_len.min((*len & LEN) as usize)..].fill(0);
                *len = (*len & !LEN) | new_len as u8;
            }
            _ => self.vec_mut().resize(new_len, 0),
        }
    }

    /// Marks a string value changed in place, as Redis's `raw` strings are
    /// (an exact-size heap string becomes growable, as Redis's copy does).
    pub fn mark_raw(&mut self) {
        match self {
            Bytes::Inline { len, .. } => *len = (*len & LEN) | RAW,
            Bytes::Boxed(_) => {
                self.vec_mut();
            }
            Bytes::Grow(_) => {}
        }
    }

    /// Marks a string value as INCRBYFLOAT's result: `embstr` while short.
    pub fn mark_embstr(&mut self) {
        if let Bytes::Inline { len, .. } = self {
            *len = (*len & LEN) | EMBSTR;
        }
    }

    /// The OBJECT ENCODING Redis would report for this string value where
    /// its history decides it, or `None` where its content does (`int`,
    /// `embstr` up to 44 bytes, else `raw`).
    pub fn encoding_hint(&self) -> Option<&'static str> {
        match self {
            Bytes::Inline { len, .. } if len & RAW != 0 => Some("raw"),
            Bytes::Inline { len, .. } if len & EMBSTR != 0 => Some("embstr"),
            Bytes::Inline { .. } | Bytes::Boxed(_) => None,
            Bytes::Grow(_) => Some("raw"),
        }
    }

    /// Heap bytes owned (0 when inline).
    pub fn heap_size(&self) -> usize {
        match self {
            Bytes::Inline { .. } => 0,
            Bytes::Boxed(b) => b.len(),
            Bytes::Grow(v) => std::mem::size_of::<Vec<u8>>() + v.capacity(),
        }
    }
}

impl Default for Bytes {
    fn default() -> Bytes {
        Bytes::new()
    }
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl DerefMut for Bytes {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.as_mut_slice()
    }
}

impl Borrow<[u8]> for Bytes {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Hash for Bytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}

impl PartialEq for Bytes {
    fn eq(&self, other: &Bytes) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Bytes {}

impl PartialOrd for Bytes {
    fn partial_cmp(&self, other: &Bytes) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Bytes {
    fn cmp(&self, other: &Bytes) -> std::cmp::Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

impl From<&[u8]> for Bytes {
    fn from(s: &[u8]) -> Bytes {
        Bytes::from_slice(s)
    }
}

impl<const N: usize> From<&[u8; N]> for Bytes {
    fn from(s: &[u8; N]) -> Bytes {
        Bytes::from_slice(s)
    }
}

impl From<std::borrow::Cow<'_, [u8]>> for Bytes {
    fn from(c: std::borrow::Cow<'_, [u8]>) -> Bytes {
        match c {
            std::borrow::Cow::Borrowed(b) => Bytes::from_slice(b),
            std::borrow::Cow::Owned(v) => Bytes::from_vec(v),
        }
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Bytes {
        Bytes::from_vec(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::{prop, proptest};

    #[test]
    fn sizes() {
        assert_eq!(std::mem::size_of::<Bytes>(), 24);
        assert_eq!(std::mem::size_of::<crate::store::Value>(), 24, "Value uses Bytes's niche");
    }

    #[test]
    fn inline_boxed_and_growable() {
        let short = Bytes::from_slice(b"user:1000:session:abcd");
        assert!(matches!(short, Bytes::Inline { len: 22, .. }));
        assert_eq!(short.heap_size(), 0);
        let long = Bytes::from_slice(&[7; 23]);
        assert!(matches!(long, Bytes::Boxed(_)));
        assert_eq!(long.heap_size(), 23);
        let mut s = short.clone();
        s.vec_mut().extend_from_slice(b"-more");
        assert_eq!(&s[..], b"user:1000:session:abcd-more");
        assert!(matches!(s, Bytes::Grow(_)));
        s[0] = b'U';
        assert_eq!(s.as_slice()[0], b'U');
        assert_eq!(Bytes::from_vec(vec![1, 2]), Bytes::from_slice(&[1, 2]));
        let mut a = Bytes::from_slice(b"abc");
        a.append(b"def");
        a.resize_zeroed(8);
        assert!(matches!(a, Bytes::Inline { .. }));
        assert_eq!(&a[..], b"abcdef\0\0");
        a.resize_zeroed(2);
        a.resize_zeroed(4);
        assert_eq!(&a[..], b"ab\0\0", "truncated bytes come back as zeros");
        a.append(&[1; 30]);
        assert_eq!(a.len(), 34);
    }

    #[test]
    fn encoding_flags_follow_the_bytes_and_leave_them_alone() {
        let mut a = Bytes::from_slice(b"123");
        assert_eq!(a.encoding_hint(), None);
        a.mark_raw();
        assert_eq!((a.encoding_hint(), &a[..]), (Some("raw"), &b"123"[..]));
        a.append(b"45");
        a.resize_zeroed(7);
        assert_eq!((a.encoding_hint(), &a[..]), (Some("raw"), &b"12345\0\0"[..]));
        assert_eq!(a, Bytes::from_slice(b"12345\0\0"), "flags do not take part in equality");
        let mut e = Bytes::from_slice(b"3");
        e.mark_embstr();
        assert_eq!((e.encoding_hint(), e.len()), (Some("embstr"), 1));
        let mut long = Bytes::from_slice(&[b'x'; 30]);
        long.mark_raw();
        assert!(matches!(long, Bytes::Grow(_)));
        assert_eq!((long.encoding_hint(), long.len()), (Some("raw"), 30));
        assert_eq!(Bytes::from_slice(b"new").encoding_hint(), None);
    }

    proptest! {
        #[test]
        fn behaves_like_a_vec(ops in prop::collection::vec((0u8..3, prop::collection::vec(0u8..255, 0..40)), 1..30)) {
            let mut b = Bytes::new();
            let mut v: Vec<u8> = Vec::new();
            for (op, data) in ops {
                match op {
                    0 => { b = Bytes::from_slice(&data); v = data; }
                    1 => { b.append(&data); v.extend_from_slice(&data); }
                    _ => { let n = data.len(); b.resize_zeroed(n); v.resize(n, 0); }
                }
                assert_eq!(b.as_slice(), &v[..]);
                use std::hash::BuildHasher;
                let state = std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default();
                assert_eq!(state.hash_one(&b), state.hash_one(&v[..]), "hashes like the slice");
            }
        }
    }
}
