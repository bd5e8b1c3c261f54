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

#[derive(Default)]
pub struct ActiveExpire {
    next_db: usize,
    /// The last cycle stopped because of its budget, not because it was done.
    pub timed_out: bool,
}

impl ActiveExpire {
    pub fn run(&mut self, dbs: &mut [Db], now_ms: u64, budget: Duration, rng: &mut Rng) {
        let start = Instant::now();
        self.timed_out = false;
        let n = dbs.len();
        for _ in 0..n {
            self.next_db %= n;
            let db = &mut dbs[self.next_db];
            let mut steps = 0u32;
            while db.volatile_len() > 0 {
                let (sampled, expired) = db.expire_sample(now_ms, KEYS_PER_LOOP, rng);
                steps += 1;
                if steps.is_multiple_of(4) && start.elapsed() > budget {
                    self.timed_out = true;
                    return;
                }
                if expired * 100 <= sampled * ACCEPTABLE_STALE {
                    break;
                }
            }
            self.next_db += 1;
        }
    }
}
