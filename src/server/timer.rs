//! A hashed timer wheel for idle deadlines and (later) blocking timeouts.
//!
//! Time is cut into ticks of `tick_ms`; a timer lands in slot
//! `tick % slots`. Advancing visits only the slots whose tick has fully
//! elapsed and fires the entries that are due; entries for a later turn of
//! the wheel stay in their slot. Insert is O(1); advancing costs the slots
//! passed plus the entries in them. Timers fire at most one tick late.
//!
//! Cancelling is lazy: owners check on firing whether the timer still
//! applies (e.g. an idle timer re-checks the connection's last activity and
//! re-arms itself), which makes "reset the deadline on every read" O(1).

pub struct TimerWheel<T> {
    slots: Vec<Vec<(u64, T)>>,
    tick_ms: u64,
    /// The first tick not yet processed.
    next_tick: u64,
    len: usize,
}

impl<T> TimerWheel<T> {
    pub fn new(tick_ms: u64, slots: usize, now_ms: u64) -> TimerWheel<T> {
        TimerWheel { slots: (0..slots).map(|_| Vec::new()).collect(), tick_ms, next_tick: now_ms / tick_ms, len: 0 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Schedules `item` to fire at `deadline_ms` (or at the next tick, if
    /// that is already past).
    pub fn insert(&mut self, deadline_ms: u64, item: T) {
        let tick = (deadline_ms / self.tick_ms).max(self.next_tick);
        let n = self.slots.len() as u64;
        self.slots[(tick % n) as usize].push((deadline_ms, item));
        self.len += 1;
    }

    /// Moves time to `now_ms`, appending every due item to `fired`.
    pub fn advance(&mut self, now_ms: u64, fired: &mut Vec<T>) {
        let now_tick = now_ms / self.tick_ms;
        let n = self.slots.len() as u64;
        let mut visited = 0;
        while self.next_tick < now_tick {
            let slot = &mut self.slots[(self.next_tick % n) as usize];
            let mut i = 0;
            while i < slot.len() {
                if slot[i].0 <= now_ms {
                    fired.push(slot.swap_remove(i).1);
                    self.len -= 1;
                } else {
                    i += 1;
                }
            }
            self.next_tick += 1;
            visited += 1;
            if visited == n {
                // A whole turn visited every slot: skip to now.
                self.next_tick = now_tick;
            }
        }
    }

    /// Milliseconds until the next tick is due, if any timer is pending.
    pub fn next_timeout(&self, now_ms: u64) -> Option<u64> {
        (self.len > 0).then(|| ((self.next_tick + 1) * self.tick_ms).saturating_sub(now_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_when_due_and_not_before() {
        let mut w = TimerWheel::new(10, 8, 0);
        w.insert(25, "a");
        w.insert(500, "b"); // several turns away
        let mut fired = Vec::new();
        w.advance(20, &mut fired);
        assert!(fired.is_empty());
        w.advance(31, &mut fired);
        assert_eq!(fired, vec!["a"]);
        w.advance(499, &mut fired);
        assert_eq!(fired, vec!["a"]);
        w.advance(515, &mut fired);
        assert_eq!(fired, vec!["a", "b"]);
        assert!(w.is_empty());
    }

    #[test]
    fn past_deadlines_fire_next_tick_and_long_sleeps_catch_up() {
        let mut w = TimerWheel::new(10, 4, 1000);
        w.insert(5, 1);
        w.insert(1200, 2);
        let mut fired = Vec::new();
        w.advance(1011, &mut fired);
        assert_eq!(fired, vec![1]);
        w.advance(100_000, &mut fired);
        assert_eq!(fired, vec![1, 2]);
        assert_eq!(w.next_timeout(100_000), None);
    }
}
