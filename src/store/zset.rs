//! The sorted set value type: unique members (binary strings), each with a
//! score (a non-NaN `f64`), ordered by `(score, member bytes)`.
//!
//! Two encodings, switched like Redis's (`OBJECT ENCODING` tells which):
//!
//! - **listpack** (small sets): one `Vec` of `(member, score)` kept sorted.
//!   Every operation is a linear scan or a binary search over at most
//!   `zset-max-listpack-entries` pairs.
//! - **skiplist** (the name Redis reports; the structure is different): an
//!   arena of tree nodes forming a treap (a binary search tree kept balanced
//!   by random priorities) with subtree sizes, plus a hash table from member
//!   to node. Lookup by member is O(1); insert, delete, rank, "element at
//!   rank" and score/lex range bounds are O(log n) expected; a range of `k`
//!   elements is iterated in O(log n + k). Each member is stored once (the
//!   hash table holds only node indices).
//!
//! A set converts from listpack to skiplist when an insert would make it
//! longer than `zset-max-listpack-entries` or adds a member longer than
//! `zset-max-listpack-value`, and never back, as in Redis. Sets built whole
//! (the results of ZUNIONSTORE and friends) get the encoding their size
//! calls for ([`ZSet::from_sorted`]).
//!
//! Like Redis's listpack, which stores an integral score as an integer, the
//! listpack encoding does not keep the sign of a zero score (`-0` reads back
//! as `0`); the skiplist encoding keeps it.

use super::rand::Rng;
use hashbrown::{DefaultHashBuilder, HashTable};
use std::cmp::Ordering;
use std::hash::BuildHasher;

/// The conversion thresholds (`zset-max-listpack-entries`, `-value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub entries: usize,
    pub value: usize,
}

/// ZADD's conditions (`NX`, `XX`, `GT`, `LT`, `INCR`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
}

/// What [`ZSet::add`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddOutcome {
    /// A new member was inserted.
    Added,
    /// An existing member got a different score.
    Updated,
    /// An existing member was processed but its score did not change.
    Unchanged,
    /// Nothing was done (NX/XX/GT/LT said no).
    Nop,
}

/// The resulting score of an increment would be NaN (`inf + -inf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotANumber;

/// Orders `(score, member)` pairs as the sorted set does. Scores are never
/// NaN; `-0` and `0` compare equal (then the member decides), as in Redis.
pub fn cmp_key(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    s1.partial_cmp(&s2).unwrap_or(Ordering::Equal).then_with(|| m1.cmp(m2))
}

/// The score as the listpack stores it (Redis writes an integral score as
/// an integer, which drops the sign of zero).
fn listpack_score(score: f64) -> f64 {
    if score == 0.0 { 0.0 } else { score }
}

/// A sorted set.
#[derive(Debug, Clone)]
pub struct ZSet {
    enc: Enc,
}

#[derive(Debug, Clone)]
enum Enc {
    Listpack(Vec<(Box<[u8]>, f64)>),
    Skiplist(Box<Tree>),
}

impl Default for ZSet {
    fn default() -> ZSet {
        ZSet::new()
    }
}

impl PartialEq for ZSet {
    /// Same members with the same scores (whatever the encodings).
    fn eq(&self, other: &ZSet) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a.0 == b.0 && a.1 == b.1)
    }
}

impl ZSet {
    /// An empty set, listpack-encoded.
    pub fn new() -> ZSet {
        ZSet { enc: Enc::Listpack(Vec::new()) }
    }

    /// A set from pairs already sorted by `(score, member)` with unique
    /// members, encoded as their count and longest member call for.
    pub fn from_sorted(items: Vec<(Box<[u8]>, f64)>, lim: Limits) -> ZSet {
        let fits = items.len() <= lim.entries && items.iter().all(|(m, _)| m.len() <= lim.value);
        if fits {
            let items = items.into_iter().map(|(m, s)| (m, listpack_score(s))).collect();
            ZSet { enc: Enc::Listpack(items) }
        } else {
            let mut tree = Tree::with_capacity(items.len());
            for (m, s) in items {
                tree.insert(m, s);
            }
            ZSet { enc: Enc::Skiplist(Box::new(tree)) }
        }
    }

    pub fn len(&self) -> usize {
        match &self.enc {
            Enc::Listpack(v) => v.len(),
            Enc::Skiplist(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match &self.enc {
            Enc::Listpack(_) => "listpack",
            Enc::Skiplist(_) => "skiplist",
        }
    }

    /// Heap bytes owned (allocation sizes; allocator rounding not counted).
    pub fn heap_size(&self) -> usize {
        match &self.enc {
            Enc::Listpack(v) => {
                v.capacity() * std::mem::size_of::<(Box<[u8]>, f64)>() + v.iter().map(|(m, _)| m.len()).sum::<usize>()
            }
            Enc::Skiplist(t) => std::mem::size_of::<Tree>() + t.heap_size(),
        }
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.enc {
            Enc::Listpack(v) => v.iter().find(|(m, _)| &m[..] == member).map(|(_, s)| *s),
            Enc::Skiplist(t) => t.find(member).map(|i| t.nodes[i as usize].score),
        }
    }

    /// The 0-based ascending rank of `member`.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match &self.enc {
            Enc::Listpack(v) => v.iter().position(|(m, _)| &m[..] == member),
            Enc::Skiplist(t) => t.find(member).map(|i| t.rank_of(i)),
        }
    }

    /// The member and score at ascending rank `rank`.
    pub fn get_by_rank(&self, rank: usize) -> Option<(&[u8], f64)> {
        match &self.enc {
            Enc::Listpack(v) => v.get(rank).map(|(m, s)| (&m[..], *s)),
            Enc::Skiplist(t) => t.select(rank).map(|i| (&t.nodes[i as usize].member[..], t.nodes[i as usize].score)),
        }
    }

    /// How many leading elements (in ascending order) satisfy `pred`, which
    /// must hold for a prefix of the order and fail after it (a score or lex
    /// lower/upper bound). O(log n) for the skiplist encoding.
    pub fn prefix_len(&self, pred: impl Fn(&[u8], f64) -> bool) -> usize {
        match &self.enc {
            Enc::Listpack(v) => v.partition_point(|(m, s)| pred(m, *s)),
            Enc::Skiplist(t) => t.prefix_len(pred),
        }
    }

    /// Elements at ascending ranks `start..end` (clamped to the length),
    /// from `start` up, or from `end - 1` down when `rev`.
    pub fn range(&self, start: usize, end: usize, rev: bool) -> Iter<'_> {
        let end = end.min(self.len());
        let start = start.min(end);
        let inner = match &self.enc {
            Enc::Listpack(v) => Inner::List(v[start..end].iter()),
            Enc::Skiplist(t) => {
                Inner::Tree { tree: t, stack: t.seek(if rev { end.saturating_sub(1) } else { start }, rev) }
            }
        };
        Iter { inner, rev, remaining: end - start }
    }

    /// All elements in ascending order.
    pub fn iter(&self) -> Iter<'_> {
        self.range(0, usize::MAX, false)
    }

    /// ZADD's core (Redis's `zsetAdd`): adds `member` or updates its score
    /// under the conditions in `f`. Returns what happened and the member's
    /// resulting score (with INCR, the incremented one).
    pub fn add(
        &mut self,
        member: &[u8],
        score: f64,
        f: AddFlags,
        lim: Limits,
    ) -> Result<(AddOutcome, f64), NotANumber> {
        if score.is_nan() {
            return Err(NotANumber);
        }
        match self.score(member) {
            Some(cur) => {
                if f.nx {
                    return Ok((AddOutcome::Nop, cur));
                }
                let mut new = score;
                if f.incr {
                    new += cur;
                    if new.is_nan() {
                        return Err(NotANumber);
                    }
                }
                if (f.lt && new >= cur) || (f.gt && new <= cur) {
                    return Ok((AddOutcome::Nop, cur));
                }
                if new == cur {
                    return Ok((AddOutcome::Unchanged, new));
                }
                self.update(member, new);
                Ok((AddOutcome::Updated, new))
            }
            None if f.xx => Ok((AddOutcome::Nop, score)),
            None => {
                self.insert_new(member, score, lim);
                Ok((AddOutcome::Added, score))
            }
        }
    }

    /// Sets the score of `member`, adding it if absent. Returns the old score.
    pub fn insert(&mut self, member: &[u8], score: f64, lim: Limits) -> Option<f64> {
        match self.score(member) {
            Some(old) => {
                self.update(member, score);
                Some(old)
            }
            None => {
                self.insert_new(member, score, lim);
                None
            }
        }
    }

    /// Inserts a member known to be absent, converting first if needed.
    fn insert_new(&mut self, member: &[u8], score: f64, lim: Limits) {
        if let Enc::Listpack(v) = &self.enc
            && (v.len() + 1 > lim.entries || member.len() > lim.value)
        {
            self.convert_to_skiplist();
        }
        match &mut self.enc {
            Enc::Listpack(v) => {
                let score = listpack_score(score);
                let pos = v.partition_point(|(m, s)| cmp_key(*s, m, score, member) == Ordering::Less);
                v.insert(pos, (member.into(), score));
            }
            Enc::Skiplist(t) => t.insert(member.into(), score),
        }
    }

    /// Changes the score of an existing member.
    fn update(&mut self, member: &[u8], score: f64) {
        match &mut self.enc {
            Enc::Listpack(v) => {
                if let Some(i) = v.iter().position(|(m, _)| &m[..] == member) {
                    let (m, _) = v.remove(i);
                    let score = listpack_score(score);
                    let pos = v.partition_point(|(x, s)| cmp_key(*s, x, score, &m) == Ordering::Less);
                    v.insert(pos, (m, score));
                }
            }
            Enc::Skiplist(t) => {
                if let Some(i) = t.find(member) {
                    t.set_score(i, score);
                }
            }
        }
    }

    fn convert_to_skiplist(&mut self) {
        if let Enc::Listpack(v) = &mut self.enc {
            let items = std::mem::take(v);
            let mut tree = Tree::with_capacity(items.len() + 1);
            for (m, s) in items {
                tree.insert(m, s);
            }
            self.enc = Enc::Skiplist(Box::new(tree));
        }
    }

    /// Removes `member`; returns its score if it was there.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match &mut self.enc {
            Enc::Listpack(v) => {
                let i = v.iter().position(|(m, _)| &m[..] == member)?;
                Some(v.remove(i).1)
            }
            Enc::Skiplist(t) => {
                let i = t.find(member)?;
                let (_, s) = t.remove_node(i);
                t.maybe_compact();
                Some(s)
            }
        }
    }

    /// Removes the elements at ascending ranks `start..end` (clamped);
    /// returns how many were removed.
    pub fn remove_range(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        match &mut self.enc {
            Enc::Listpack(v) => {
                v.drain(start..end);
            }
            Enc::Skiplist(t) => {
                t.remove_ranks(start, end);
                t.maybe_compact();
            }
        }
        end - start
    }

    /// Removes and returns the lowest (or, with `max`, the highest) element.
    pub fn pop(&mut self, max: bool) -> Option<(Box<[u8]>, f64)> {
        match &mut self.enc {
            Enc::Listpack(v) => {
                if v.is_empty() {
                    None
                } else if max {
                    v.pop()
                } else {
                    Some(v.remove(0))
                }
            }
            Enc::Skiplist(t) => {
                let n = t.len();
                let i = t.select(if max { n.checked_sub(1)? } else { 0 })?;
                let out = t.remove_node(i);
                t.maybe_compact();
                Some(out)
            }
        }
    }

    /// A uniformly random element (`None` when empty).
    pub fn random(&self, rng: &mut Rng) -> Option<(&[u8], f64)> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        self.get_by_rank(rng.below(n))
    }

    /// One ZSCAN step: visits elements from `cursor` and returns the next
    /// cursor (0 when done). A listpack is returned whole in one step, as
    /// Redis does. For the skiplist encoding the cursor counts the arena
    /// slots not yet visited (visited from the top down, `count` slots per
    /// step); slots only ever move down (compaction keeps their order) and
    /// new elements take free slots or the top, so an element present for
    /// the whole iteration is returned at least once.
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut visit: impl FnMut(&'a [u8], f64)) -> u64 {
        match &self.enc {
            Enc::Listpack(v) => {
                for (m, s) in v {
                    visit(m, *s);
                }
                0
            }
            Enc::Skiplist(t) => {
                let len = t.nodes.len() as u64;
                let mut pos = if cursor == 0 { len } else { cursor.min(len) };
                let mut steps = 0;
                while pos > 0 && steps < count {
                    pos -= 1;
                    steps += 1;
                    let node = &t.nodes[pos as usize];
                    if node.size != 0 {
                        visit(&node.member, node.score);
                    }
                }
                pos
            }
        }
    }

    /// Whether the listpack encoding is in use (ZSCAN prints its scores as
    /// the listpack stores them).
    pub fn is_listpack(&self) -> bool {
        matches!(self.enc, Enc::Listpack(_))
    }

    /// Checks the internal invariants (tests).
    #[cfg(test)]
    fn check(&self) {
        match &self.enc {
            Enc::Listpack(v) => {
                for w in v.windows(2) {
                    assert_eq!(cmp_key(w[0].1, &w[0].0, w[1].1, &w[1].0), Ordering::Less);
                }
            }
            Enc::Skiplist(t) => t.check(),
        }
    }
}

/// Iterator over a rank range of a [`ZSet`].
pub struct Iter<'a> {
    inner: Inner<'a>,
    rev: bool,
    remaining: usize,
}

enum Inner<'a> {
    List(std::slice::Iter<'a, (Box<[u8]>, f64)>),
    Tree { tree: &'a Tree, stack: Vec<u32> },
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<(&'a [u8], f64)> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        match &mut self.inner {
            Inner::List(it) => {
                let (m, s) = if self.rev { it.next_back()? } else { it.next()? };
                Some((&m[..], *s))
            }
            Inner::Tree { tree, stack } => {
                let tree: &'a Tree = tree;
                let i = tree.step(stack, self.rev)?;
                let node = &tree.nodes[i as usize];
                Some((&node.member[..], node.score))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// "No node".
const NIL: u32 = u32::MAX;

/// A tree node; `size == 0` marks a free arena slot.
#[derive(Debug, Clone)]
struct Node {
    member: Box<[u8]>,
    score: f64,
    left: u32,
    right: u32,
    /// Nodes in this subtree, this one included.
    size: u32,
    /// Treap priority: a parent's is never below its children's.
    prio: u32,
}

/// The skiplist encoding: a treap over an arena plus a member index.
#[derive(Clone)]
struct Tree {
    nodes: Vec<Node>,
    /// Free arena slots.
    free: Vec<u32>,
    root: u32,
    /// Member → node index, hashed by member bytes.
    index: HashTable<u32>,
    /// Hashes members, and draws priorities (randomly seeded, so the tree
    /// shape cannot be predicted from the input).
    hasher: DefaultHashBuilder,
    ticks: u64,
    member_bytes: usize,
}

impl std::fmt::Debug for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tree").field("len", &self.len()).field("slots", &self.nodes.len()).finish()
    }
}

impl Tree {
    fn with_capacity(n: usize) -> Tree {
        Tree {
            nodes: Vec::with_capacity(n),
            free: Vec::new(),
            root: NIL,
            index: HashTable::with_capacity(n),
            hasher: DefaultHashBuilder::default(),
            ticks: 0,
            member_bytes: 0,
        }
    }

    fn len(&self) -> usize {
        self.size(self.root)
    }

    fn heap_size(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.free.capacity() * std::mem::size_of::<u32>()
            + self.index.capacity() * (std::mem::size_of::<u32>() + 1)
            + self.member_bytes
    }

    fn size(&self, t: u32) -> usize {
        if t == NIL { 0 } else { self.nodes[t as usize].size as usize }
    }

    fn left(&self, t: u32) -> u32 {
        self.nodes[t as usize].left
    }

    fn right(&self, t: u32) -> u32 {
        self.nodes[t as usize].right
    }

    fn pull(&mut self, t: u32) {
        let size = 1 + self.size(self.left(t)) + self.size(self.right(t));
        self.nodes[t as usize].size = size as u32;
    }

    /// Whether node `a` orders before node `b`.
    fn less(&self, a: u32, b: u32) -> bool {
        let (a, b) = (&self.nodes[a as usize], &self.nodes[b as usize]);
        cmp_key(a.score, &a.member, b.score, &b.member) == Ordering::Less
    }

    fn find(&self, member: &[u8]) -> Option<u32> {
        let hash = self.hasher.hash_one(member);
        self.index.find(hash, |&i| &self.nodes[i as usize].member[..] == member).copied()
    }

    /// Adds a member known to be absent.
    fn insert(&mut self, member: Box<[u8]>, score: f64) {
        self.ticks += 1;
        let prio = self.hasher.hash_one(self.ticks) as u32;
        self.member_bytes += member.len();
        let node = Node { member, score, left: NIL, right: NIL, size: 1, prio };
        let i = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        let Tree { index, nodes, hasher, .. } = self;
        let hash = hasher.hash_one(&nodes[i as usize].member[..]);
        index.insert_unique(hash, i, |&j| hasher.hash_one(&nodes[j as usize].member[..]));
        self.root = self.insert_at(self.root, i);
    }

    fn insert_at(&mut self, t: u32, n: u32) -> u32 {
        if t == NIL {
            return n;
        }
        if self.nodes[n as usize].prio > self.nodes[t as usize].prio {
            let (l, r) = self.split(t, n);
            let node = &mut self.nodes[n as usize];
            node.left = l;
            node.right = r;
            self.pull(n);
            return n;
        }
        if self.less(n, t) {
            let l = self.insert_at(self.left(t), n);
            self.nodes[t as usize].left = l;
        } else {
            let r = self.insert_at(self.right(t), n);
            self.nodes[t as usize].right = r;
        }
        self.nodes[t as usize].size += 1;
        t
    }

    /// Splits subtree `t` into the nodes ordering before node `n` and the rest.
    fn split(&mut self, t: u32, n: u32) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        if self.less(t, n) {
            let (a, b) = self.split(self.right(t), n);
            self.nodes[t as usize].right = a;
            self.pull(t);
            (t, b)
        } else {
            let (a, b) = self.split(self.left(t), n);
            self.nodes[t as usize].left = b;
            self.pull(t);
            (a, t)
        }
    }

    /// Splits subtree `t` into its first `k` nodes and the rest.
    fn split_rank(&mut self, t: u32, k: usize) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        let ls = self.size(self.left(t));
        if k <= ls {
            let (a, b) = self.split_rank(self.left(t), k);
            self.nodes[t as usize].left = b;
            self.pull(t);
            (a, t)
        } else {
            let (a, b) = self.split_rank(self.right(t), k - ls - 1);
            self.nodes[t as usize].right = a;
            self.pull(t);
            (t, b)
        }
    }

    /// Joins two subtrees, every node of `a` ordering before every node of `b`.
    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.nodes[a as usize].prio >= self.nodes[b as usize].prio {
            let r = self.merge(self.right(a), b);
            self.nodes[a as usize].right = r;
            self.pull(a);
            a
        } else {
            let l = self.merge(a, self.left(b));
            self.nodes[b as usize].left = l;
            self.pull(b);
            b
        }
    }

    /// Unlinks node `n` from subtree `t` (where it is).
    fn erase(&mut self, t: u32, n: u32) -> u32 {
        if t == NIL {
            return NIL;
        }
        if t == n {
            return self.merge(self.left(n), self.right(n));
        }
        if self.less(n, t) {
            let l = self.erase(self.left(t), n);
            self.nodes[t as usize].left = l;
        } else {
            let r = self.erase(self.right(t), n);
            self.nodes[t as usize].right = r;
        }
        self.pull(t);
        t
    }

    /// Gives node `i` a new score, moving it to its new place.
    fn set_score(&mut self, i: u32, score: f64) {
        self.root = self.erase(self.root, i);
        let node = &mut self.nodes[i as usize];
        node.score = score;
        node.left = NIL;
        node.right = NIL;
        node.size = 1;
        self.root = self.insert_at(self.root, i);
    }

    /// Unlinks node `i` and frees its slot; returns its member and score.
    fn remove_node(&mut self, i: u32) -> (Box<[u8]>, f64) {
        self.root = self.erase(self.root, i);
        self.release(i)
    }

    /// Drops node `i` (already unlinked) from the index and frees its slot.
    fn release(&mut self, i: u32) -> (Box<[u8]>, f64) {
        let hash = self.hasher.hash_one(&self.nodes[i as usize].member[..]);
        if let Ok(entry) = self.index.find_entry(hash, |&j| j == i) {
            entry.remove();
        }
        let node = &mut self.nodes[i as usize];
        let member = std::mem::take(&mut node.member);
        let score = node.score;
        node.size = 0;
        node.left = NIL;
        node.right = NIL;
        self.member_bytes -= member.len();
        self.free.push(i);
        (member, score)
    }

    /// Removes the nodes at ranks `start..end`.
    fn remove_ranks(&mut self, start: usize, end: usize) {
        let (a, rest) = self.split_rank(self.root, start);
        let (mid, c) = self.split_rank(rest, end - start);
        self.root = self.merge(a, c);
        let mut stack = vec![mid];
        while let Some(t) = stack.pop() {
            if t != NIL {
                stack.push(self.left(t));
                stack.push(self.right(t));
                self.release(t);
            }
        }
    }

    /// Ascending rank of node `n`.
    fn rank_of(&self, n: u32) -> usize {
        let (mut t, mut r) = (self.root, 0);
        while t != NIL {
            if t == n {
                return r + self.size(self.left(t));
            }
            if self.less(n, t) {
                t = self.left(t);
            } else {
                r += self.size(self.left(t)) + 1;
                t = self.right(t);
            }
        }
        r
    }

    /// The node at ascending rank `k`.
    fn select(&self, mut k: usize) -> Option<u32> {
        let mut t = self.root;
        while t != NIL {
            let ls = self.size(self.left(t));
            match k.cmp(&ls) {
                Ordering::Less => t = self.left(t),
                Ordering::Equal => return Some(t),
                Ordering::Greater => {
                    k -= ls + 1;
                    t = self.right(t);
                }
            }
        }
        None
    }

    fn prefix_len(&self, pred: impl Fn(&[u8], f64) -> bool) -> usize {
        let (mut t, mut c) = (self.root, 0);
        while t != NIL {
            let node = &self.nodes[t as usize];
            if pred(&node.member, node.score) {
                c += self.size(node.left) + 1;
                t = node.right;
            } else {
                t = node.left;
            }
        }
        c
    }

    /// The iteration stack positioned at rank `k` (its top is that node);
    /// `rev` prepares for walking down the order instead of up.
    fn seek(&self, mut k: usize, rev: bool) -> Vec<u32> {
        let mut stack = Vec::with_capacity(48);
        let mut t = self.root;
        while t != NIL {
            let ls = self.size(self.left(t));
            match k.cmp(&ls) {
                Ordering::Less => {
                    if !rev {
                        stack.push(t);
                    }
                    t = self.left(t);
                }
                Ordering::Equal => {
                    stack.push(t);
                    break;
                }
                Ordering::Greater => {
                    if rev {
                        stack.push(t);
                    }
                    k -= ls + 1;
                    t = self.right(t);
                }
            }
        }
        stack
    }

    /// Pops the current node and pushes the path to the next one.
    fn step(&self, stack: &mut Vec<u32>, rev: bool) -> Option<u32> {
        let t = stack.pop()?;
        let mut c = if rev { self.left(t) } else { self.right(t) };
        while c != NIL {
            stack.push(c);
            c = if rev { self.right(c) } else { self.left(c) };
        }
        Some(t)
    }

    /// Reclaims free slots once they are over half the arena: live nodes
    /// move down, keeping their relative order (see [`ZSet::scan`]).
    fn maybe_compact(&mut self) {
        if self.free.len() < 64 || self.free.len() * 2 < self.nodes.len() {
            return;
        }
        let old = std::mem::take(&mut self.nodes);
        let mut remap = vec![NIL; old.len()];
        let mut nodes = Vec::with_capacity(old.len() - self.free.len());
        for (i, node) in old.into_iter().enumerate() {
            if node.size != 0 {
                remap[i] = nodes.len() as u32;
                nodes.push(node);
            }
        }
        let map = |x: u32| if x == NIL { NIL } else { remap[x as usize] };
        for node in &mut nodes {
            node.left = map(node.left);
            node.right = map(node.right);
        }
        self.root = map(self.root);
        for slot in self.index.iter_mut() {
            *slot = map(*slot);
        }
        self.nodes = nodes;
        self.free = Vec::new();
        let Tree { index, nodes, hasher, .. } = self;
        index.shrink_to_fit(|&j| hasher.hash_one(&nodes[j as usize].member[..]));
    }

    /// Checks order, sizes, heap property and the index (tests).
    #[cfg(test)]
    fn check(&self) {
        fn walk(t: &Tree, n: u32, out: &mut Vec<u32>) -> usize {
            if n == NIL {
                return 0;
            }
            let node = &t.nodes[n as usize];
            for c in [node.left, node.right] {
                if c != NIL {
                    assert!(t.nodes[c as usize].prio <= node.prio, "heap order");
                }
            }
            let l = walk(t, node.left, out);
            out.push(n);
            let r = walk(t, node.right, out);
            assert_eq!(node.size as usize, l + r + 1, "size");
            l + r + 1
        }
        let mut order = Vec::new();
        let n = walk(self, self.root, &mut order);
        for w in order.windows(2) {
            assert!(self.less(w[0], w[1]), "order");
        }
        assert_eq!(n, self.index.len());
        assert_eq!(n + self.free.len(), self.nodes.len());
        for &i in &order {
            assert_eq!(self.find(&self.nodes[i as usize].member), Some(i));
        }
        let bytes: usize = order.iter().map(|&i| self.nodes[i as usize].member.len()).sum();
        assert_eq!(bytes, self.member_bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, HashMap};

    const BIG: Limits = Limits { entries: 128, value: 64 };

    fn set_of(n: usize, lim: Limits) -> ZSet {
        let mut z = ZSet::new();
        for i in 0..n {
            z.insert(format!("m{i:06}").as_bytes(), (i / 3) as f64, lim);
        }
        z
    }

    #[test]
    fn converts_on_entries_and_value_and_never_back() {
        let mut z = set_of(128, BIG);
        assert_eq!(z.encoding(), "listpack");
        z.insert(b"m000000", 5.0, BIG);
        assert_eq!(z.encoding(), "listpack");
        z.insert(b"new", 1.0, BIG);
        assert_eq!(z.encoding(), "skiplist");
        z.remove_range(0, 120);
        assert_eq!(z.encoding(), "skiplist");
        z.check();

        let mut z = ZSet::new();
        z.insert(&[b'x'; 64], 1.0, BIG);
        assert_eq!(z.encoding(), "listpack");
        z.insert(&[b'y'; 65], 1.0, BIG);
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.len(), 2);
        z.check();

        let mut z = ZSet::new();
        z.insert(b"a", 1.0, Limits { entries: 0, value: 64 });
        assert_eq!(z.encoding(), "skiplist");
    }

    #[test]
    fn from_sorted_picks_the_encoding() {
        let items = |n: usize| (0..n).map(|i| (format!("{i:04}").into_bytes().into_boxed_slice(), 1.0)).collect();
        assert_eq!(ZSet::from_sorted(items(128), BIG).encoding(), "listpack");
        let z = ZSet::from_sorted(items(129), BIG);
        assert_eq!(z.encoding(), "skiplist");
        z.check();
        assert_eq!(z.len(), 129);
    }

    #[test]
    fn listpack_drops_the_sign_of_zero_skiplist_keeps_it() {
        let mut z = ZSet::new();
        z.insert(b"a", -0.0, BIG);
        assert!(z.score(b"a").unwrap().is_sign_positive());
        let tiny = Limits { entries: 0, value: 0 };
        let mut z = ZSet::new();
        z.insert(b"a", -0.0, tiny);
        assert!(z.score(b"a").unwrap().is_sign_negative());
    }

    #[test]
    fn add_flags() {
        let f = |s: &str| AddFlags {
            nx: s.contains('n'),
            xx: s.contains('x'),
            gt: s.contains('g'),
            lt: s.contains('l'),
            incr: s.contains('i'),
        };
        let mut z = ZSet::new();
        assert_eq!(z.add(b"a", 1.0, f("x"), BIG), Ok((AddOutcome::Nop, 1.0)));
        assert_eq!(z.add(b"a", 1.0, f(""), BIG), Ok((AddOutcome::Added, 1.0)));
        assert_eq!(z.add(b"a", 2.0, f("n"), BIG), Ok((AddOutcome::Nop, 1.0)));
        assert_eq!(z.add(b"a", 0.5, f("g"), BIG), Ok((AddOutcome::Nop, 1.0)));
        assert_eq!(z.add(b"a", 3.0, f("gx"), BIG), Ok((AddOutcome::Updated, 3.0)));
        assert_eq!(z.add(b"a", 3.0, f(""), BIG), Ok((AddOutcome::Unchanged, 3.0)));
        assert_eq!(z.add(b"a", 2.0, f("i"), BIG), Ok((AddOutcome::Updated, 5.0)));
        assert_eq!(z.add(b"a", -1.0, f("ig"), BIG), Ok((AddOutcome::Nop, 5.0)));
        assert_eq!(z.add(b"a", f64::INFINITY, f("i"), BIG), Ok((AddOutcome::Updated, f64::INFINITY)));
        assert_eq!(z.add(b"a", f64::NEG_INFINITY, f("i"), BIG), Err(NotANumber));
        assert_eq!(z.add(b"b", f64::NAN, f(""), BIG), Err(NotANumber));
        assert_eq!(z.score(b"a"), Some(f64::INFINITY));
    }

    #[test]
    fn rank_range_and_pop_on_a_big_tree() {
        let n = 20_000;
        let mut z = set_of(n, BIG);
        assert_eq!(z.encoding(), "skiplist");
        z.check();
        for r in [0, 1, 777, n / 2, n - 1] {
            let (m, s) = z.get_by_rank(r).unwrap();
            assert_eq!(m, format!("m{r:06}").as_bytes());
            assert_eq!(s, (r / 3) as f64);
            assert_eq!(z.rank(m), Some(r));
        }
        let fwd: Vec<_> = z.range(100, 105, false).map(|(m, _)| m.to_vec()).collect();
        assert_eq!(fwd, (100..105).map(|i| format!("m{i:06}").into_bytes()).collect::<Vec<_>>());
        let rev: Vec<_> = z.range(100, 105, true).map(|(m, _)| m.to_vec()).collect();
        assert_eq!(rev, (100..105).rev().map(|i| format!("m{i:06}").into_bytes()).collect::<Vec<_>>());
        assert_eq!(z.prefix_len(|_, s| s < 10.0), 30);
        assert_eq!(z.pop(false).unwrap().0.as_ref(), b"m000000");
        assert_eq!(z.pop(true).unwrap().0.as_ref(), format!("m{:06}", n - 1).as_bytes());
        assert_eq!(z.remove_range(0, n), n - 2);
        assert!(z.is_empty());
        z.check();
    }

    #[test]
    fn scan_returns_every_stable_member_through_churn_and_compaction() {
        let mut z = set_of(3000, BIG);
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            cursor = z.scan(cursor, 50, |m, _| {
                seen.insert(m.to_vec());
            });
            // Churn: add then delete many others (forces compaction).
            for j in 0..200 {
                z.insert(format!("churn{round}-{j}").as_bytes(), 1.0, BIG);
            }
            for j in 0..200 {
                z.remove(format!("churn{round}-{j}").as_bytes());
            }
            if round % 5 == 0 {
                for i in (round * 10)..(round * 10 + 10) {
                    z.remove(format!("m{:06}", 2000 + i).as_bytes());
                }
            }
            round += 1;
            z.check();
            if cursor == 0 {
                break;
            }
        }
        for i in 0..2000 {
            assert!(seen.contains(format!("m{i:06}").as_bytes()), "m{i:06} missed");
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, i8),
        Remove(u8),
        RemoveRange(u8, u8),
        Pop(bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<u8>(), -4i8..4).prop_map(|(m, s)| Op::Insert(m, s)),
            2 => any::<u8>().prop_map(Op::Remove),
            1 => (any::<u8>(), 0u8..8).prop_map(|(a, n)| Op::RemoveRange(a, n)),
            1 => any::<bool>().prop_map(Op::Pop),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn matches_a_btreemap_model(ops in prop::collection::vec(op(), 1..400), entries in 0usize..40) {
            let lim = Limits { entries, value: 2 };
            let mut z = ZSet::new();
            let mut model: HashMap<Vec<u8>, f64> = HashMap::new();
            let sorted = |model: &HashMap<Vec<u8>, f64>| {
                let mut v: Vec<(Vec<u8>, f64)> = model.iter().map(|(m, s)| (m.clone(), *s)).collect();
                v.sort_by(|a, b| cmp_key(a.1, &a.0, b.1, &b.0));
                v
            };
            for op in ops {
                match op {
                    Op::Insert(m, s) => {
                        // Members of 1..3 bytes so the value limit also converts.
                        let member = vec![b'a' + m % 7; 1 + (m as usize / 7) % 3];
                        let score = s as f64 / 2.0;
                        prop_assert_eq!(z.insert(&member, score, lim), model.insert(member, score));
                    }
                    Op::Remove(m) => {
                        let member = vec![b'a' + m % 7; 1 + (m as usize / 7) % 3];
                        prop_assert_eq!(z.remove(&member), model.remove(&member));
                    }
                    Op::RemoveRange(a, n) => {
                        let v = sorted(&model);
                        let start = a as usize % (v.len() + 1);
                        let end = (start + n as usize).min(v.len());
                        for (m, _) in &v[start..end] {
                            model.remove(m);
                        }
                        prop_assert_eq!(z.remove_range(start, end), end - start);
                    }
                    Op::Pop(max) => {
                        let v = sorted(&model);
                        let want = if max { v.last() } else { v.first() }.cloned();
                        if let Some((m, _)) = &want {
                            model.remove(m);
                        }
                        prop_assert_eq!(z.pop(max).map(|(m, s)| (m.to_vec(), s)), want);
                    }
                }
                z.check();
                let v = sorted(&model);
                prop_assert_eq!(z.len(), v.len());
                let got: Vec<(Vec<u8>, f64)> = z.iter().map(|(m, s)| (m.to_vec(), s)).collect();
                prop_assert_eq!(&got, &v);
                for (r, (m, s)) in v.iter().enumerate() {
                    prop_assert_eq!(z.rank(m), Some(r));
                    prop_assert_eq!(z.score(m), Some(*s));
                    let at = z.get_by_rank(r).map(|(m, s)| (m.to_vec(), s));
                    prop_assert_eq!(at, Some((m.clone(), *s)));
                }
                if !v.is_empty() {
                    let mid = v[v.len() / 2].1;
                    prop_assert_eq!(z.prefix_len(|_, s| s < mid), v.iter().filter(|(_, s)| *s < mid).count());
                    let (a, b) = (v.len() / 3, v.len() - v.len() / 4);
                    let rev: Vec<(Vec<u8>, f64)> = z.range(a, b, true).map(|(m, s)| (m.to_vec(), s)).collect();
                    let want: Vec<(Vec<u8>, f64)> = v[a..b].iter().rev().cloned().collect();
                    prop_assert_eq!(rev, want);
                }
                if v.len() > entries {
                    prop_assert_eq!(z.encoding(), "skiplist");
                }
            }
            let model_tree: BTreeMap<Vec<u8>, f64> = model.into_iter().collect();
            let mut via_scan = BTreeMap::new();
            let mut cursor = 0;
            loop {
                cursor = z.scan(cursor, 7, |m, s| { via_scan.insert(m.to_vec(), s); });
                if cursor == 0 { break; }
            }
            prop_assert_eq!(via_scan, model_tree);
        }
    }
}
