//! The list value type: a ring buffer of elements.
//!
//! Push and pop at both ends are O(1); indexing anywhere (LINDEX, LRANGE,
//! LSET) is O(1) to find the element, with no allocation. Redis 7.0 reports
//! every list as `quicklist`, and so does ferrokv.
//!
//! Not yet compact: each element is its own allocation. Packing elements
//! into byte-buffer nodes (Redis's listpack-in-quicklist) is a planned
//! memory optimisation that does not change this interface.

use std::collections::VecDeque;

/// A list value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct List {
    items: VecDeque<Box<[u8]>>,
}

/// LEFT (head) or RIGHT (tail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Left,
    Right,
}

impl List {
    pub fn new() -> List {
        List::default()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The encoding OBJECT ENCODING reports (Redis 7.0 says `quicklist`).
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Heap bytes owned: the ring buffer plus each element.
    pub fn heap_size(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<Box<[u8]>>() + self.items.iter().map(|e| e.len()).sum::<usize>()
    }

    pub fn push(&mut self, end: End, value: &[u8]) {
        match end {
            End::Left => self.items.push_front(value.into()),
            End::Right => self.items.push_back(value.into()),
        }
    }

    pub fn pop(&mut self, end: End) -> Option<Box<[u8]>> {
        match end {
            End::Left => self.items.pop_front(),
            End::Right => self.items.pop_back(),
        }
    }

    /// Resolves a Redis index (negative counts from the tail).
    pub fn index(&self, i: i64) -> Option<usize> {
        let len = self.items.len() as i64;
        let i = if i < 0 { len.checked_add(i)? } else { i };
        (0..len).contains(&i).then_some(i as usize)
    }

    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.items.get(i).map(|b| &b[..])
    }

    pub fn set(&mut self, i: usize, value: &[u8]) {
        if let Some(slot) = self.items.get_mut(i) {
            *slot = value.into();
        }
    }

    /// Elements from `start` to `end` inclusive, Redis range rules
    /// (negative from the tail, clamped); empty when out of range.
    pub fn range(&self, start: i64, end: i64) -> impl Iterator<Item = &[u8]> {
        let (s, e) = clamp_range(start, end, self.items.len());
        self.items.range(s..e).map(|b| &b[..])
    }

    /// Keeps only `start..=end` (LTRIM).
    pub fn trim(&mut self, start: i64, end: i64) {
        let (s, e) = clamp_range(start, end, self.items.len());
        self.items.truncate(e);
        self.items.drain(..s.min(self.items.len()));
    }

    /// Inserts `value` before or after the first `pivot`; false if absent.
    pub fn insert(&mut self, pivot: &[u8], after: bool, value: &[u8]) -> bool {
        match self.items.iter().position(|e| &e[..] == pivot) {
            Some(i) => {
                self.items.insert(i + after as usize, value.into());
                true
            }
            None => false,
        }
    }

    /// Removes up to `count` occurrences of `value` (LREM: positive from the
    /// head, negative from the tail, 0 all). Returns how many went.
    pub fn remove(&mut self, value: &[u8], count: i64) -> usize {
        let limit = if count == 0 { usize::MAX } else { count.unsigned_abs().min(usize::MAX as u64) as usize };
        let mut removed = 0;
        if count >= 0 {
            let mut i = 0;
            while i < self.items.len() && removed < limit {
                if &self.items[i][..] == value {
                    self.items.remove(i);
                    removed += 1;
                } else {
                    i += 1;
                }
            }
        } else {
            let mut i = self.items.len();
            while i > 0 && removed < limit {
                i -= 1;
                if &self.items[i][..] == value {
                    self.items.remove(i);
                    removed += 1;
                }
            }
        }
        removed
    }

    /// Index iterator from the head or the tail (LPOS).
    pub fn positions(&self, from_tail: bool) -> Box<dyn Iterator<Item = (usize, &[u8])> + '_> {
        let it = self.items.iter().enumerate().map(|(i, e)| (i, &e[..]));
        if from_tail { Box::new(it.rev()) } else { Box::new(it) }
    }
}

/// Redis's LRANGE/LTRIM index arithmetic: returns a half-open `start..end`.
fn clamp_range(start: i64, end: i64, len: usize) -> (usize, usize) {
    let len = len as i64;
    let mut s = if start < 0 { len.saturating_add(start) } else { start };
    let mut e = if end < 0 { len.saturating_add(end) } else { end };
    if s < 0 {
        s = 0;
    }
    if s > e || s >= len {
        return (0, 0);
    }
    if e >= len {
        e = len - 1;
    }
    (s as usize, e as usize + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn list(items: &[&str]) -> List {
        let mut l = List::new();
        for i in items {
            l.push(End::Right, i.as_bytes());
        }
        l
    }

    fn items(l: &List) -> Vec<String> {
        l.range(0, -1).map(|b| String::from_utf8_lossy(b).into_owned()).collect()
    }

    #[test]
    fn ranges_like_redis() {
        let l = list(&["a", "b", "c", "d", "e"]);
        let r = |s, e| l.range(s, e).map(|b| b[0] as char).collect::<String>();
        assert_eq!(r(0, -1), "abcde");
        assert_eq!(r(-2, -1), "de");
        assert_eq!(r(1, 100), "bcde");
        assert_eq!(r(3, 1), "");
        assert_eq!(r(-100, 0), "a");
        assert_eq!(r(5, 10), "");
        assert_eq!(r(i64::MIN, i64::MAX), "abcde");
    }

    #[test]
    fn trim_insert_remove() {
        let mut l = list(&["a", "b", "a", "c", "a"]);
        assert_eq!(l.remove(b"a", -2), 2);
        assert_eq!(items(&l), ["a", "b", "c"]);
        assert!(l.insert(b"b", true, b"x"));
        assert!(!l.insert(b"zz", false, b"y"));
        assert_eq!(items(&l), ["a", "b", "x", "c"]);
        l.trim(1, -2);
        assert_eq!(items(&l), ["b", "x"]);
        l.trim(5, 1);
        assert!(l.is_empty());
    }

    proptest! {
        #[test]
        fn matches_a_vec_model(ops in prop::collection::vec((0u8..6, 0u8..4, -6i64..6, -6i64..6), 1..100)) {
            let mut l = List::new();
            let mut m: Vec<Vec<u8>> = Vec::new();
            for (op, v, a, b) in ops {
                let val = vec![b'a' + v];
                match op {
                    0 => { l.push(End::Left, &val); m.insert(0, val); }
                    1 => { l.push(End::Right, &val); m.push(val); }
                    2 => { prop_assert_eq!(l.pop(End::Left).map(|b| b.to_vec()), (!m.is_empty()).then(|| m.remove(0))); }
                    3 => { prop_assert_eq!(l.pop(End::Right).map(|b| b.to_vec()), m.pop()); }
                    4 => {
                        let len = m.len() as i64;
                        let (mut s, mut e) = (if a < 0 { len + a } else { a }, if b < 0 { len + b } else { b });
                        s = s.max(0);
                        let want: Vec<Vec<u8>> = if s > e || s >= len { vec![] } else { e = e.min(len - 1); m[s as usize..=e as usize].to_vec() };
                        let got: Vec<Vec<u8>> = l.range(a, b).map(|x| x.to_vec()).collect();
                        prop_assert_eq!(got, want);
                    }
                    _ => {
                        let n = l.remove(&val, a);
                        let mut removed = 0;
                        let limit = if a == 0 { usize::MAX } else { a.unsigned_abs() as usize };
                        if a >= 0 {
                            let mut i = 0;
                            while i < m.len() && removed < limit { if m[i] == val { m.remove(i); removed += 1; } else { i += 1; } }
                        } else {
                            let mut i = m.len();
                            while i > 0 && removed < limit { i -= 1; if m[i] == val { m.remove(i); removed += 1; } }
                        }
                        prop_assert_eq!(n, removed);
                    }
                }
                prop_assert_eq!(l.len(), m.len());
            }
        }
    }
}
