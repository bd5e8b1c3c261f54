//! Copy-on-write per member for a big hash, set or sorted set that a
//! snapshot is writing a slice at a time (see `persist::snapshot`).
//!
//! The snapshot must write the members the collection held when the
//! snapshot started, each exactly once, while commands go on adding,
//! changing and removing members between its slices. It walks the dense
//! member vector of the collection's table from the top down, as SCAN
//! does; a [`Track`] kept beside the table says which positions below the
//! walk do *not* hold a member to write:
//!
//! - a member about to change or go that the walk has not passed is
//!   handed to the track first (the original: the removed entry itself,
//!   or a copy of the pair whose value changes), and its position is
//!   marked skipped;
//! - removal moves the last member into the hole: its mark (or its lack
//!   of one) moves with it; a member moved down from above the walk was
//!   written already or is new, so the hole stays skipped;
//! - a member added below the walk (the table shrank under it) is new:
//!   skipped.
//!
//! So every original member is written once, from the table when the walk
//! meets it or from the track's saved ones, and no other member is.
//!
//! A sorted set's tree nodes live in an arena whose slots never move
//! (its compaction waits while a track is on): the same walk over the
//! arena, with the free slots skipped from the start and a removed
//! member's slot left skipped ([`Track::with_holes`]). The
//! cost of a write is a set lookup and at most one copy of a pair, where
//! writing the rest of the value first stalled the loop for 35-90 ms at
//! 2,000,000 members.

use hashbrown::HashSet;
use std::sync::Weak;

/// What is left to write of a collection's original members.
#[derive(Debug)]
pub struct Track<E> {
    /// Positions below this have not been walked yet.
    next: usize,
    /// Positions below `next` whose entry is not an original to write.
    skip: HashSet<u32>,
    /// Originals taken out before a change, not written yet.
    saved: Vec<E>,
    /// Members still to write (the count announced, less those written).
    left: usize,
    /// Alive while the snapshot is: a track whose snapshot ended however
    /// it ended (finished, failed, aborted) is dropped at the next change.
    owner: Weak<()>,
}

impl<E: Clone> Track<E> {
    /// Tracks a table of `len` members, all to be written, for the
    /// snapshot that holds `owner`'s `Arc`.
    pub fn new(len: usize, owner: Weak<()>) -> Track<E> {
        Track { next: len, skip: HashSet::new(), saved: Vec::new(), left: len, owner }
    }

    /// Tracks an arena of `slots` positions whose `holes` hold no member
    /// (free slots): every other position is an original to write. An
    /// arena's entries never move, so neither [`Track::removed`] nor
    /// [`Track::inserted`] is needed: a removed entry's slot stays
    /// skipped (it was claimed), so an entry added there later is skipped
    /// too, and one added at the top is above the walk.
    pub fn with_holes(slots: usize, holes: impl IntoIterator<Item = usize>, owner: Weak<()>) -> Track<E> {
        let skip: HashSet<u32> = holes.into_iter().filter(|&h| h < slots).map(|h| h as u32).collect();
        Track { next: slots, left: slots - skip.len(), skip, saved: Vec::new(), owner }
    }

    /// Whether the entry at `i` is an original not written yet; if so it
    /// is marked skipped (the caller saves it with [`Track::save`]).
    pub fn claim(&mut self, i: usize) -> bool {
        i < self.next && self.skip.insert(i as u32)
    }

    /// Keeps an original the caller took out after [`Track::claim`].
    pub fn save(&mut self, e: E) {
        self.saved.push(e);
    }

    /// The entry at `i` was removed (after [`Track::claim`]) and the last
    /// one, at `last`, moved into its place (none moved when `i == last`).
    pub fn removed(&mut self, i: usize, last: usize) {
        if i != last && last < self.next {
            // The moved entry keeps its standing: skipped or to write.
            if !self.skip.remove(&(last as u32)) {
                self.skip.remove(&(i as u32));
            }
        } else if i == last {
            self.skip.remove(&(i as u32));
        }
        // Position `last` is gone.
        self.next = self.next.min(last);
    }

    /// An entry was added at position `pos`.
    pub fn inserted(&mut self, pos: usize) {
        if pos < self.next {
            self.skip.insert(pos as u32);
        }
    }

    /// Saves every original the walk has not reached (a change the track
    /// does not follow entry by entry is coming), then stops walking.
    pub fn save_all(&mut self, entries: &[E]) {
        for (pos, e) in entries.iter().enumerate().take(self.next) {
            if !self.skip.contains(&(pos as u32)) {
                self.saved.push(e.clone());
            }
        }
        self.next = 0;
        self.skip = HashSet::new();
    }

    /// Hands up to `n` originals to `write`: the saved ones first, then
    /// the walk's. Returns how many.
    pub fn slice(&mut self, entries: &[E], n: usize, mut write: impl FnMut(&E)) -> usize {
        let mut done = 0;
        while done < n
            && let Some(e) = self.saved.pop()
        {
            write(&e);
            done += 1;
        }
        while done < n && self.next > 0 {
            self.next -= 1;
            if self.skip.remove(&(self.next as u32)) {
                continue;
            }
            if let Some(e) = entries.get(self.next) {
                write(e);
                done += 1;
            }
        }
        self.left = self.left.saturating_sub(done);
        done
    }

    /// Whether every original has been handed out.
    pub fn is_done(&self) -> bool {
        self.next == 0 && self.saved.is_empty()
    }

    /// Originals not handed out yet: 0 when done, unless the bookkeeping
    /// went wrong (the snapshot checks it: the count is in the file).
    pub fn left(&self) -> usize {
        self.left
    }

    /// Bytes the saved originals hold (by `size`, for each).
    pub fn saved_size(&self, size: impl Fn(&E) -> usize) -> usize {
        self.saved.capacity() * std::mem::size_of::<E>() + self.saved.iter().map(size).sum::<usize>()
    }
}

/// A collection's optional track. Cloning the collection (COPY, a
/// snapshot's copy) does not clone it: the copy is not being written.
#[derive(Debug)]
pub struct Slot<E>(pub Option<Box<Track<E>>>);

impl<E> Default for Slot<E> {
    fn default() -> Slot<E> {
        Slot(None)
    }
}

impl<E> Clone for Slot<E> {
    fn clone(&self) -> Slot<E> {
        Slot(None)
    }
}

impl<E> Slot<E> {
    /// The track, if its snapshot still runs (a stale one is dropped).
    pub fn live(&mut self) -> Option<&mut Track<E>> {
        if self.0.as_ref().is_some_and(|t| t.owner.strong_count() == 0) {
            self.0 = None;
        }
        self.0.as_deref_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model table: a dense vector with swap-remove, as `Table`.
    struct Model {
        entries: Vec<(u32, u32)>,
        track: Track<(u32, u32)>,
        written: Vec<(u32, u32)>,
    }

    impl Model {
        fn new(n: u32) -> Model {
            let entries: Vec<_> = (0..n).map(|i| (i, 0)).collect();
            Model { track: Track::new(entries.len(), Weak::new()), entries, written: Vec::new() }
        }
        fn set(&mut self, i: usize, v: u32) {
            if self.track.claim(i) {
                self.track.save(self.entries[i]);
            }
            self.entries[i].1 = v;
        }
        fn remove(&mut self, i: usize) {
            let claimed = self.track.claim(i);
            let last = self.entries.len() - 1;
            let e = self.entries.swap_remove(i);
            if claimed {
                self.track.save(e);
            }
            self.track.removed(i, last);
        }
        fn add(&mut self, k: u32) {
            self.entries.push((k, 1));
            self.track.inserted(self.entries.len() - 1);
        }
        fn step(&mut self, n: usize) {
            let out = &mut self.written;
            self.track.slice(&self.entries, n, |e| out.push(*e));
        }
    }

    /// Random writes between slices: exactly the original pairs come out.
    #[test]
    fn writes_exactly_the_originals_whatever_changes() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n.max(1) as u64) as usize
        };
        for round in 0..200 {
            let n = 1 + rnd(300) as u32;
            let mut m = Model::new(n);
            let mut next_key = n;
            let slice = 1 + rnd(40);
            while !m.track.is_done() {
                for _ in 0..rnd(20) {
                    match rnd(4) {
                        0 if !m.entries.is_empty() => {
                            let i = rnd(m.entries.len());
                            m.remove(i);
                        }
                        1 => {
                            m.add(next_key);
                            next_key += 1;
                        }
                        _ if !m.entries.is_empty() => {
                            let i = rnd(m.entries.len());
                            m.set(i, 2);
                        }
                        _ => {}
                    }
                }
                if round % 7 == 0 && rnd(10) == 0 {
                    m.track.save_all(&m.entries);
                }
                m.step(slice);
            }
            m.written.sort();
            let want: Vec<_> = (0..n).map(|i| (i, 0)).collect();
            assert_eq!(m.written, want, "round {round}");
            assert_eq!(m.track.left(), 0);
        }
    }

    #[test]
    fn a_clone_of_the_slot_is_empty() {
        let owner = std::sync::Arc::new(());
        let s = Slot(Some(Box::new(Track::<(u32, u32)>::new(3, std::sync::Arc::downgrade(&owner)))));
        assert!(s.clone().0.is_none());
    }

    #[test]
    fn a_track_outliving_its_snapshot_is_dropped() {
        let owner = std::sync::Arc::new(());
        let mut s = Slot(Some(Box::new(Track::<(u32, u32)>::new(3, std::sync::Arc::downgrade(&owner)))));
        assert!(s.live().is_some());
        drop(owner);
        assert!(s.live().is_none());
        assert!(s.0.is_none());
    }
}
