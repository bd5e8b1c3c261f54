//! The list value type: a quicklist-like chain of packed nodes.
//!
//! Elements live in nodes of about 8 KB (Redis's default
//! `list-max-listpack-size -2`): each node is one byte buffer holding its
//! elements back to back plus their start offsets, so an element costs its
//! bytes and 2 bytes of offset instead of an allocation of its own. Push and
//! pop at both ends touch only the end nodes; finding element `i` skips whole
//! nodes (O(n / node size)), and reading a range costs no allocation.
//! Redis 7.0 reports every list as `quicklist`, and so does ferrokv.
//!
//! Invariants: no node is empty; `len` is the sum of the nodes' counts.

use std::collections::VecDeque;

/// Bytes after which a node is full (Redis's `list-max-listpack-size -2`).
const NODE_BYTES: usize = 8 * 1024;

/// One node: elements packed back to back; `starts[i]` is where element `i`
/// begins, and it ends where the next begins (or at the end of `data`).
/// Offsets fit in `u16`: an element is only added to a node whose data,
/// element included, stays within `NODE_BYTES` (a bigger element gets a node
/// of its own, at offset 0).
#[derive(Debug, Clone, PartialEq, Default)]
struct Node {
    data: Vec<u8>,
    starts: Vec<u16>,
}

impl Node {
    fn count(&self) -> usize {
        self.starts.len()
    }

    fn get(&self, i: usize) -> &[u8] {
        let s = self.starts[i] as usize;
        let e = self.starts.get(i + 1).map_or(self.data.len(), |&e| e as usize);
        &self.data[s..e]
    }

    fn full(&self, extra: usize) -> bool {
        !self.starts.is_empty() && self.data.len() + extra > NODE_BYTES
    }

    /// Makes room for one more element of `extra` bytes, growing by about
    /// a quarter instead of doubling: the copying stays amortised O(1) per
    /// byte while a node keeps at most ~25% slack (Redis sizes listpacks
    /// exactly; doubling would waste up to half).
    fn reserve(&mut self, extra: usize) {
        if self.data.capacity() < self.data.len() + extra {
            self.data.reserve_exact(extra.max(self.data.len() / 4 + 16));
        }
        if self.starts.capacity() == self.starts.len() {
            self.starts.reserve_exact(self.starts.len() / 4 + 4);
        }
    }

    fn push_back(&mut self, v: &[u8]) {
        self.reserve(v.len());
        self.starts.push(self.data.len() as u16);
        self.data.extend_from_slice(v);
    }

    fn push_front(&mut self, v: &[u8]) {
        self.reserve(v.len());
        self.data.splice(0..0, v.iter().copied());
        for s in &mut self.starts {
            *s += v.len() as u16;
        }
        self.starts.insert(0, 0);
    }

    fn pop_back(&mut self) -> Option<Box<[u8]>> {
        let s = self.starts.pop()? as usize;
        let v = self.data[s..].into();
        self.data.truncate(s);
        Some(v)
    }

    fn pop_front(&mut self) -> Option<Box<[u8]>> {
        if self.starts.is_empty() {
            return None;
        }
        let end = self.starts.get(1).map_or(self.data.len(), |&e| e as usize);
        let v: Box<[u8]> = self.data[..end].into();
        self.data.drain(..end);
        self.starts.remove(0);
        for s in &mut self.starts {
            *s -= end as u16;
        }
        Some(v)
    }

    fn from_items<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> Node {
        let mut n = Node::default();
        for v in items {
            n.push_back(v);
        }
        n
    }

    fn items(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.count()).map(move |i| self.get(i))
    }
}

/// A list value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct List {
    nodes: VecDeque<Node>,
    len: usize,
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
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The encoding OBJECT ENCODING reports (Redis 7.0 says `quicklist`).
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Heap bytes owned: node buffers, offsets and the node ring.
    pub fn heap_size(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.nodes.iter().map(|n| n.data.capacity() + n.starts.capacity() * 2).sum::<usize>()
    }

    pub fn push(&mut self, end: End, value: &[u8]) {
        match end {
            End::Left => match self.nodes.front_mut() {
                Some(n) if !n.full(value.len()) => n.push_front(value),
                _ => {
                    if let Some(n) = self.nodes.front_mut() {
                        n.data.shrink_to_fit();
                        n.starts.shrink_to_fit();
                    }
                    self.nodes.push_front(Node::from_items([value]));
                }
            },
            End::Right => match self.nodes.back_mut() {
                Some(n) if !n.full(value.len()) => n.push_back(value),
                _ => {
                    if let Some(n) = self.nodes.back_mut() {
                        n.data.shrink_to_fit();
                        n.starts.shrink_to_fit();
                    }
                    self.nodes.push_back(Node::from_items([value]));
                }
            },
        }
        self.len += 1;
    }

    pub fn pop(&mut self, end: End) -> Option<Box<[u8]>> {
        let (v, empty) = match end {
            End::Left => {
                let n = self.nodes.front_mut()?;
                (n.pop_front()?, n.count() == 0)
            }
            End::Right => {
                let n = self.nodes.back_mut()?;
                (n.pop_back()?, n.count() == 0)
            }
        };
        if empty {
            match end {
                End::Left => self.nodes.pop_front(),
                End::Right => self.nodes.pop_back(),
            };
        }
        self.len -= 1;
        Some(v)
    }

    /// Resolves a Redis index (negative counts from the tail).
    pub fn index(&self, i: i64) -> Option<usize> {
        let len = self.len as i64;
        let i = if i < 0 { len.checked_add(i)? } else { i };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// The node holding element `i` and the element's place in it, walking
    /// from whichever end is nearer.
    fn locate(&self, i: usize) -> Option<(usize, usize)> {
        if i >= self.len {
            return None;
        }
        if i < self.len / 2 {
            let mut skipped = 0;
            for (n, node) in self.nodes.iter().enumerate() {
                if i < skipped + node.count() {
                    return Some((n, i - skipped));
                }
                skipped += node.count();
            }
        } else {
            let mut after = self.len;
            for (n, node) in self.nodes.iter().enumerate().rev() {
                let first = after - node.count();
                if i >= first {
                    return Some((n, i - first));
                }
                after = first;
            }
        }
        None
    }

    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.locate(i).map(|(n, j)| self.nodes[n].get(j))
    }

    pub fn set(&mut self, i: usize, value: &[u8]) {
        if let Some((n, j)) = self.locate(i) {
            let node = &self.nodes[n];
            let rebuilt = Node::from_items(node.items().enumerate().map(|(k, v)| if k == j { value } else { v }));
            self.nodes[n] = rebuilt;
        }
    }

    /// Every element from the head.
    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.nodes.iter().flat_map(|n| n.items())
    }

    /// Elements from `start` to `end` inclusive, Redis range rules
    /// (negative from the tail, clamped); empty when out of range.
    pub fn range(&self, start: i64, end: i64) -> impl Iterator<Item = &[u8]> {
        let (s, e) = clamp_range(start, end, self.len);
        let first = if s < e { self.locate(s) } else { None };
        let (n0, j0) = first.unwrap_or((self.nodes.len(), 0));
        self.nodes
            .range(n0..)
            .enumerate()
            .flat_map(move |(k, node)| node.items().skip(if k == 0 { j0 } else { 0 }))
            .take(e - s)
    }

    /// Keeps only `start..=end` (LTRIM).
    pub fn trim(&mut self, start: i64, end: i64) {
        let (s, e) = clamp_range(start, end, self.len);
        let (front, back) = (s, self.len - e.max(s));
        if s >= e {
            *self = List::new();
            return;
        }
        for _ in 0..front {
            self.pop(End::Left);
        }
        for _ in 0..back {
            self.pop(End::Right);
        }
    }

    /// Rebuilds the list from `items` (mid-list edits: LINSERT, LREM).
    fn rebuild(&mut self, items: Vec<Box<[u8]>>) {
        let mut l = List::new();
        for v in &items {
            l.push(End::Right, v);
        }
        *self = l;
    }

    /// Inserts `value` before or after the first `pivot`; false if absent.
    pub fn insert(&mut self, pivot: &[u8], after: bool, value: &[u8]) -> bool {
        let Some(pos) = self.iter().position(|e| e == pivot) else { return false };
        let mut items: Vec<Box<[u8]>> = self.iter().map(Box::from).collect();
        items.insert(pos + after as usize, value.into());
        self.rebuild(items);
        true
    }

    /// Removes up to `count` occurrences of `value` (LREM: positive from the
    /// head, negative from the tail, 0 all). Returns how many went.
    pub fn remove(&mut self, value: &[u8], count: i64) -> usize {
        let limit = if count == 0 { usize::MAX } else { count.unsigned_abs().min(usize::MAX as u64) as usize };
        let mut items: Vec<Box<[u8]>> = self.iter().map(Box::from).collect();
        let mut removed = 0;
        if count >= 0 {
            let mut i = 0;
            while i < items.len() && removed < limit {
                if &items[i][..] == value {
                    items.remove(i);
                    removed += 1;
                } else {
                    i += 1;
                }
            }
        } else {
            let mut i = items.len();
            while i > 0 && removed < limit {
                i -= 1;
                if &items[i][..] == value {
                    items.remove(i);
                    removed += 1;
                }
            }
        }
        if removed > 0 {
            self.rebuild(items);
        }
        removed
    }

    /// Index iterator from the head or the tail (LPOS).
    pub fn positions(&self, from_tail: bool) -> Box<dyn Iterator<Item = (usize, &[u8])> + '_> {
        let it = self.iter().enumerate();
        if from_tail {
            let all: Vec<(usize, &[u8])> = it.collect();
            Box::new(all.into_iter().rev())
        } else {
            Box::new(it)
        }
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

    #[test]
    fn many_nodes_behave_like_a_deque() {
        let mut l = List::new();
        let mut m: std::collections::VecDeque<Vec<u8>> = Default::default();
        let mut rng = crate::store::rand::Rng::new(9);
        for i in 0..20_000u32 {
            // Mostly small elements, sometimes one bigger than a node.
            let size = if i % 997 == 0 { 9000 } else { rng.below(40) };
            let v: Vec<u8> = (0..size).map(|k| (k as u32 + i) as u8).collect();
            match rng.below(6) {
                0 | 1 => {
                    l.push(End::Left, &v);
                    m.push_front(v);
                }
                2 | 3 => {
                    l.push(End::Right, &v);
                    m.push_back(v);
                }
                4 => assert_eq!(l.pop(End::Left).map(|b| b.to_vec()), m.pop_front()),
                _ => assert_eq!(l.pop(End::Right).map(|b| b.to_vec()), m.pop_back()),
            }
        }
        assert_eq!(l.len(), m.len());
        assert!(l.nodes.len() > 10, "spread over many nodes");
        for i in (0..m.len()).step_by(37) {
            assert_eq!(l.get(i), Some(&m[i][..]));
        }
        let mid = m.len() as i64 / 2;
        let got: Vec<&[u8]> = l.range(mid, mid + 500).collect();
        let want: Vec<&[u8]> = m.iter().skip(mid as usize).take(501).map(|v| &v[..]).collect();
        assert_eq!(got, want);
        l.set(mid as usize, b"changed");
        assert_eq!(l.get(mid as usize), Some(&b"changed"[..]));
        l.trim(10, -11);
        assert_eq!(l.len(), m.len() - 20);
        assert_eq!(l.get(0), Some(&m[10][..]));
        assert!(l.nodes.iter().all(|n| n.count() > 0));
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
