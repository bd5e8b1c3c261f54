//! The set value type, in Redis 7.0's two encodings.
//!
//! - `intset`: a sorted `Vec<i64>`, used while every member is a canonical
//!   64-bit integer (the text Redis's `string2ll` accepts: no sign `+`, no
//!   leading zeros, no `-0`) and there are at most `set-max-intset-entries`
//!   members. Lookups are binary searches; members come out in ascending
//!   order, as from Redis's intset.
//! - `hashtable`: the keyspace's [`Table`](crate::store::table::Table) (a
//!   `hashbrown` table of positions over a dense vector of members), which
//!   gives O(1) uniform sampling for SRANDMEMBER/SPOP, an SSCAN cursor that
//!   stays valid while the set changes (see [`Set::scan`]), and, past 65,536
//!   members, buckets split in 16 that grow one at a time (no whole-set
//!   rehash stalling the server).
//!
//! A set becomes a hashtable when a non-integer is added or it outgrows the
//! limit, and never goes back (Redis 7.0 has no listpack sets).
//!
//! Hashtable members are compact strings (`Bytes`): up to 22 bytes live
//! inside the table's entry, with no allocation of their own.
//!
//! Invariant (hashtable): `bytes` is the sum of the members' own heap
//! sizes, so [`Set::heap_size`] is O(1).

use crate::resp::parse::parse_i64;
use crate::store::bytes::Bytes;
use crate::store::snaptrack::{Slot, Track};

/// The hashtable encoding.
type Table = crate::store::table::Table<(Bytes, ())>;

/// A member as stored: an integer of an intset or the bytes of a hashtable
/// member. Both read as the same text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl<'a> Member<'a> {
    /// The member for the text `s`: `Int` when `s` is a canonical integer.
    pub fn parse(s: &'a [u8]) -> Member<'a> {
        match canonical_int(s) {
            Some(n) => Member::Int(n),
            None => Member::Str(s),
        }
    }

    /// Runs `f` on the member's text.
    pub fn with_bytes<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Member::Int(n) => f(itoa::Buffer::new().format(n).as_bytes()),
            Member::Str(s) => f(s),
        }
    }

    pub fn to_vec(self) -> Vec<u8> {
        self.with_bytes(|b| b.to_vec())
    }
}

/// `s` as an integer if it is the canonical text of one (Redis's
/// `isSdsRepresentableAsLongLong`).
pub fn canonical_int(s: &[u8]) -> Option<i64> {
    if s.len() > 20 { None } else { parse_i64(s) }
}

/// A set value.
#[derive(Debug, Clone)]
pub struct Set {
    repr: Repr,
}

#[derive(Debug, Clone)]
enum Repr {
    Intset(Vec<i64>),
    /// `track`: what a snapshot writing this set still owes (see
    /// [`snaptrack`](crate::store::snaptrack)).
    Table {
        set: Table,
        bytes: usize,
        track: Slot<(Bytes, ())>,
    },
}

impl Default for Set {
    fn default() -> Set {
        Set { repr: Repr::Intset(Vec::new()) }
    }
}

/// Equal when they hold the same members, whatever the encoding or order.
impl PartialEq for Set {
    fn eq(&self, other: &Set) -> bool {
        self.len() == other.len() && self.iter().all(|m| other.contains(m))
    }
}

impl Set {
    /// An empty set (an intset, as Redis creates for a first integer; the
    /// first non-integer converts it).
    pub fn new() -> Set {
        Set::default()
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Intset(v) => v.len(),
            Repr::Table { set, .. } => set.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Intset(_) => "intset",
            Repr::Table { .. } => "hashtable",
        }
    }

    /// Heap bytes owned: the integer vector, or the table's slots (entry,
    /// index and control byte) plus every member allocation.
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Intset(v) => v.capacity() * std::mem::size_of::<i64>(),
            Repr::Table { set, bytes, .. } => set.heap_size() + bytes,
        }
    }

    pub fn contains(&self, m: Member) -> bool {
        match (&self.repr, m) {
            (Repr::Intset(v), Member::Int(n)) => v.binary_search(&n).is_ok(),
            (Repr::Intset(_), Member::Str(s)) => canonical_int(s).is_some_and(|n| self.contains(Member::Int(n))),
            (Repr::Table { set, .. }, m) => m.with_bytes(|b| set.contains(b)),
        }
    }

    /// Whether the text `s` is a member.
    pub fn contains_bytes(&self, s: &[u8]) -> bool {
        self.contains(Member::Str(s))
    }

    /// Adds a member; true if it is new. `max_intset` is
    /// `set-max-intset-entries` (Redis's `setTypeAdd`).
    pub fn add(&mut self, m: Member, max_intset: usize) -> bool {
        if let Repr::Intset(v) = &mut self.repr {
            let int = match m {
                Member::Int(n) => Some(n),
                Member::Str(s) => canonical_int(s),
            };
            match int {
                Some(n) => {
                    let Err(at) = v.binary_search(&n) else { return false };
                    v.insert(at, n);
                    if v.len() > max_intset {
                        self.convert();
                    }
                    return true;
                }
                None => self.convert(),
            }
        }
        match &mut self.repr {
            Repr::Table { set, bytes, track } => m.with_bytes(|b| {
                if set.contains(b) {
                    return false;
                }
                let member = Bytes::from_slice(b);
                *bytes += member.heap_size();
                let pos = set.insert_new(member, (), usize::MAX);
                if let Some(t) = track.live() {
                    t.inserted(pos);
                }
                true
            }),
            Repr::Intset(_) => false,
        }
    }

    /// Adds the text `s`; true if it is new.
    pub fn add_bytes(&mut self, s: &[u8], max_intset: usize) -> bool {
        self.add(Member::Str(s), max_intset)
    }

    /// Removes a member; true if it was there. A hashtable removes by moving
    /// its last member into the hole, which keeps [`Set::scan`] cursors valid.
    pub fn remove(&mut self, m: Member) -> bool {
        match &mut self.repr {
            Repr::Intset(v) => {
                let n = match m {
                    Member::Int(n) => n,
                    Member::Str(s) => match canonical_int(s) {
                        Some(n) => n,
                        None => return false,
                    },
                };
                match v.binary_search(&n) {
                    Ok(i) => {
                        v.remove(i);
                        true
                    }
                    Err(_) => false,
                }
            }
            Repr::Table { set, bytes, track } => {
                m.with_bytes(|b| match set.get_index_of(b).and_then(|i| take_at(set, track, i)) {
                    Some(old) => {
                        *bytes -= old.heap_size();
                        true
                    }
                    None => false,
                })
            }
        }
    }

    /// Removes the text `s`; true if it was there.
    pub fn remove_bytes(&mut self, s: &[u8]) -> bool {
        self.remove(Member::Str(s))
    }

    /// Every member: ascending for an intset, table order for a hashtable.
    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Intset(v) => Iter::Intset(v.iter()),
            Repr::Table { set, .. } => Iter::Table(set.entries().iter()),
        }
    }

    /// The member at position `i` (O(1)); random sampling uses it.
    pub fn nth(&self, i: usize) -> Option<Member<'_>> {
        match &self.repr {
            Repr::Intset(v) => v.get(i).map(|&n| Member::Int(n)),
            Repr::Table { set, .. } => set.get_index(i).map(|(b, _)| Member::Str(b)),
        }
    }

    /// Removes and returns the member at position `i`.
    pub fn take_nth(&mut self, i: usize) -> Option<Vec<u8>> {
        match &mut self.repr {
            Repr::Intset(v) => (i < v.len()).then(|| Member::Int(v.remove(i)).to_vec()),
            Repr::Table { set, bytes, track } => take_at(set, track, i).map(|b| {
                *bytes -= b.heap_size();
                b.to_vec()
            }),
        }
    }

    /// Removes the members at the positions flagged in `take` (one flag per
    /// member) and returns them, in one pass (SPOP with a count).
    pub fn take_flagged(&mut self, take: &[bool]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        match &mut self.repr {
            Repr::Intset(v) => {
                let mut i = 0;
                v.retain(|&n| {
                    let t = take.get(i).copied().unwrap_or(false);
                    i += 1;
                    if t {
                        out.push(Member::Int(n).to_vec());
                    }
                    !t
                });
            }
            Repr::Table { set, bytes, track } => {
                if let Some(t) = track.live() {
                    t.save_all(set.entries());
                }
                let mut i = 0;
                set.retain(|b, _| {
                    let t = take.get(i).copied().unwrap_or(false);
                    i += 1;
                    if t {
                        *bytes -= b.heap_size();
                        out.push(b.to_vec());
                    }
                    !t
                });
            }
        }
        out
    }

    /// One SSCAN step from `cursor`: visits members and returns the next
    /// cursor, 0 when the iteration is complete.
    ///
    /// An intset is returned whole with cursor 0, as Redis does. A hashtable
    /// visits about `count` positions of its dense member vector from the
    /// top down, the cursor being the number of positions left (the
    /// technique of `Db::scan`): removal only moves the last member down into
    /// a hole and insertion appends at the top, so a member present for the
    /// whole iteration is returned at least once however the set changes.
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut visit: impl FnMut(Member<'a>)) -> u64 {
        match &self.repr {
            Repr::Intset(v) => {
                v.iter().for_each(|&n| visit(Member::Int(n)));
                0
            }
            Repr::Table { set, .. } => {
                let mut pos =
                    if cursor == 0 { set.len() } else { usize::try_from(cursor).unwrap_or(usize::MAX).min(set.len()) };
                let end = pos.saturating_sub(count.max(1));
                while pos > end {
                    pos -= 1;
                    if let Some((b, _)) = set.get_index(pos) {
                        visit(Member::Str(b));
                    }
                }
                pos as u64
            }
        }
    }

    /// A snapshot (alive while `owner` is) starts writing this hashtable
    /// set a slice at a time: from now on each change first hands it
    /// what it still owes. False for an intset (written whole).
    pub fn snap_start(&mut self, owner: std::sync::Weak<()>) -> bool {
        match &mut self.repr {
            Repr::Table { set, track, .. } => {
                track.0 = Some(Box::new(Track::new(set.len(), owner)));
                true
            }
            Repr::Intset(_) => false,
        }
    }

    /// Up to `n` of the members the snapshot owes, to `write`; returns how
    /// many, with how many are left (0 when done).
    pub fn snap_slice(&mut self, n: usize, mut write: impl FnMut(&[u8])) -> Option<(usize, usize)> {
        let Repr::Table { set, track, .. } = &mut self.repr else { return None };
        let t = track.live()?;
        let done = t.slice(set.entries(), n, |(m, ())| write(m));
        Some((done, t.left()))
    }

    /// The snapshot is done with this set (or gave up).
    pub fn snap_end(&mut self) {
        if let Repr::Table { track, .. } = &mut self.repr {
            track.0 = None;
        }
    }

    /// Bytes of the members a snapshot saved before they changed.
    pub fn snap_held(&self) -> usize {
        match &self.repr {
            Repr::Table { track: Slot(Some(t)), .. } => t.saved_size(|(m, ())| m.heap_size()),
            _ => 0,
        }
    }

    /// Intset → hashtable (Redis's `setTypeConvert`).
    fn convert(&mut self) {
        if let Repr::Intset(v) = &self.repr {
            let mut set = Table::with_capacity(v.len() + 1);
            let mut bytes = 0;
            for &n in v {
                let text = Bytes::from_slice(itoa::Buffer::new().format(n).as_bytes());
                bytes += text.heap_size();
                set.insert_new(text, (), usize::MAX);
            }
            self.repr = Repr::Table { set, bytes, track: Slot::default() };
        }
    }
}

/// Removes the member at `i` (moving the last into its place), handing it
/// to the snapshot's track when it still owes it.
fn take_at(set: &mut Table, track: &mut Slot<(Bytes, ())>, i: usize) -> Option<Bytes> {
    if i >= set.len() {
        return None;
    }
    let last = set.len() - 1;
    let claimed = track.live().is_some_and(|t| t.claim(i));
    let (b, ()) = set.swap_remove_index(i)?;
    if let Some(t) = track.live() {
        t.removed(i, last);
        if claimed {
            t.save((b.clone(), ()));
        }
    }
    Some(b)
}

/// Iterator over a set's members.
pub enum Iter<'a> {
    Intset(std::slice::Iter<'a, i64>),
    Table(std::slice::Iter<'a, (Bytes, ())>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Member<'a>;

    fn next(&mut self) -> Option<Member<'a>> {
        match self {
            Iter::Intset(it) => it.next().map(|&n| Member::Int(n)),
            Iter::Table(it) => it.next().map(|(b, _)| Member::Str(b)),
        }
    }

    /// O(1) for both encodings (a snapshot resumes a big set by position).
    fn nth(&mut self, n: usize) -> Option<Member<'a>> {
        match self {
            Iter::Intset(it) => it.nth(n).map(|&n| Member::Int(n)),
            Iter::Table(it) => it.nth(n).map(|(b, _)| Member::Str(b)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Iter::Intset(it) => it.size_hint(),
            Iter::Table(it) => it.size_hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn members(s: &Set) -> Vec<Vec<u8>> {
        s.iter().map(|m| m.to_vec()).collect()
    }

    #[test]
    fn canonical_integers_only() {
        for ok in ["0", "-1", "9223372036854775807", "-9223372036854775808", "12"] {
            assert!(canonical_int(ok.as_bytes()).is_some(), "{ok}");
        }
        for bad in ["", "01", "-0", "+1", " 1", "1 ", "9223372036854775808", "1.0", "0x1", "-"] {
            assert!(canonical_int(bad.as_bytes()).is_none(), "{bad}");
        }
    }

    #[test]
    fn intset_is_sorted_and_converts_on_a_string() {
        let mut s = Set::new();
        for n in ["5", "-3", "10", "5"] {
            s.add_bytes(n.as_bytes(), 512);
        }
        assert_eq!(s.encoding(), "intset");
        assert_eq!(members(&s), vec![b"-3".to_vec(), b"5".to_vec(), b"10".to_vec()]);
        assert!(s.contains_bytes(b"10"));
        assert!(!s.contains_bytes(b"010"));
        assert!(!s.remove_bytes(b"010"));
        assert!(s.add_bytes(b"010", 512));
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains_bytes(b"10") && s.contains_bytes(b"010") && s.contains(Member::Int(-3)));
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn intset_converts_past_the_limit_and_never_back() {
        let mut s = Set::new();
        for n in 0..3 {
            s.add(Member::Int(n), 3);
        }
        assert_eq!(s.encoding(), "intset");
        s.add(Member::Int(3), 3);
        assert_eq!(s.encoding(), "hashtable");
        for n in 0..4 {
            assert!(s.remove(Member::Int(n)));
        }
        assert!(s.is_empty());
        assert_eq!(s.encoding(), "hashtable");
    }

    #[test]
    fn take_nth_and_flagged() {
        let mut s = Set::new();
        for n in 0..10 {
            s.add(Member::Int(n), 512);
        }
        assert_eq!(s.take_nth(0), Some(b"0".to_vec()));
        let mut flags = vec![false; 9];
        flags[0] = true;
        flags[8] = true;
        assert_eq!(s.take_flagged(&flags), vec![b"1".to_vec(), b"9".to_vec()]);
        assert_eq!(s.len(), 7);
        s.add_bytes(b"x", 512);
        let n = s.len();
        let got = s.take_flagged(&vec![true; n]);
        assert_eq!(got.len(), 8);
        assert!(s.is_empty());
    }

    #[test]
    fn scan_returns_every_stable_member_through_churn() {
        let mut s = Set::new();
        for i in 0..1000 {
            s.add_bytes(format!("stable{i}").as_bytes(), 512);
        }
        let mut seen = HashSet::new();
        let (mut cursor, mut round) = (0, 0);
        loop {
            cursor = s.scan(cursor, 5, |m| {
                seen.insert(m.to_vec());
            });
            for j in 0..7 {
                s.add_bytes(format!("churn{round}-{j}").as_bytes(), 512);
            }
            for j in 0..7 {
                s.remove_bytes(format!("churn{}-{j}", round / 3).as_bytes());
            }
            round += 1;
            if cursor == 0 {
                break;
            }
        }
        for i in 0..1000 {
            assert!(seen.contains(format!("stable{i}").as_bytes()), "stable{i} missed");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn behaves_like_a_hashset(
            ops in prop::collection::vec((0u8..4, prop::sample::select(vec!["0", "1", "-5", "7", "01", "a", "b", "", "-0", "99"])), 1..100),
            max in 0usize..6,
        ) {
            let mut s = Set::new();
            let mut model: HashSet<Vec<u8>> = HashSet::new();
            for (op, m) in ops {
                let m = m.as_bytes();
                match op {
                    0 | 1 => prop_assert_eq!(s.add_bytes(m, max), model.insert(m.to_vec())),
                    2 => prop_assert_eq!(s.remove_bytes(m), model.remove(m)),
                    _ => prop_assert_eq!(s.contains_bytes(m), model.contains(m)),
                }
                prop_assert_eq!(s.len(), model.len());
                if s.encoding() == "intset" {
                    prop_assert!(model.len() <= max && model.iter().all(|m| canonical_int(m).is_some()));
                }
                let got: HashSet<Vec<u8>> = members(&s).into_iter().collect();
                prop_assert_eq!(&got, &model);
                for i in 0..s.len() {
                    prop_assert!(model.contains(&s.nth(i).unwrap().to_vec()));
                }
            }
        }
    }
}
