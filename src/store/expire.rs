//! Active expiry, after Redis's `activeExpireCycle`.
//!
//! Lazy expiry alone would keep keys that are never touched again, so each
//! cron tick samples keys with a TTL: per database, repeatedly sample 20
//! volatile keys and delete the expired ones, moving on once no more than 10%
//! of a sample was stale. The whole cycle stops when its time budget is used
//! up (checked every 4 steps of 20) and remembers which database to resume
//! from. When a cycle runs out of time, `timed_out` tells the event loop to
//! run short extra cycles between polls (Redis's "fast cycle") so a mass
//! expiry is worked off quickly without a long pause.

use super::{Db, rand::Rng};
use std::time::{Duration, Instant};

/// Keys sampled per step (`ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP`).
const KEYS_PER_LOOP: usize = 20;
/// Stop sampling a database once at most this percent of a sample expired.
const ACCEPTABLE_STALE: usize = 10;

/// What `active-expire-effort` (1..=10) changes, as Redis's
/// activeExpireCycle scales it: more keys per step, a lower stale
/// threshold, and a longer time budget (25% + 2% per level of the tick).
pub fn effort(effort: u32, budget: Duration) -> (usize, usize, Duration) {
    let e = effort.clamp(1, 10) as usize - 1;
    let keys = KEYS_PER_LOOP + KEYS_PER_LOOP / 4 * e;
    let stale = ACCEPTABLE_STALE - e;
    (keys, stale, budget * (25 + 2 * e as u32) / 25)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effort_scales_as_redis() {
        let b = Duration::from_micros(500);
        assert_eq!(effort(1, b), (20, 10, b));
        assert_eq!(effort(10, b), (65, 1, Duration::from_micros(860)));
    }
}

#[derive(Default)]
pub struct ActiveExpire {
    next_db: usize,
    /// The last cycle stopped because of its budget, not because it was done.
    pub timed_out: bool,
}

impl ActiveExpire {
    /// One cycle at `active-expire-effort` level `level` (1 = Redis's
    /// default). Returns the keys it sampled and how many of them had
    /// expired.
    pub fn run(&mut self, dbs: &mut [Db], now_ms: u64, budget: Duration, level: u32, rng: &mut Rng) -> (usize, usize) {
        let (keys_per_loop, acceptable_stale, budget) = effort(level, budget);
        let start = Instant::now();
        self.timed_out = false;
        let n = dbs.len();
        let (mut total_sampled, mut total_expired) = (0, 0);
        for _ in 0..n {
            self.next_db %= n;
            let db = &mut dbs[self.next_db];
            let mut steps = 0u32;
            while db.volatile_len() > 0 {
                let (sampled, expired) = db.expire_sample(now_ms, keys_per_loop, rng);
                total_sampled += sampled;
                total_expired += expired;
                steps += 1;
                if steps.is_multiple_of(4) && start.elapsed() > budget {
                    self.timed_out = true;
                    return (total_sampled, total_expired);
                }
                if expired * 100 <= sampled * acceptable_stale {
                    break;
                }
            }
            self.next_db += 1;
        }
        (total_sampled, total_expired)
    }
}
