//! maxmemory eviction: the policies, the per-key access data they read, and
//! Redis's approximated LRU/LFU with an eviction pool.
//!
//! Every entry has one 32-bit access field (it sits in padding, so it costs
//! nothing). Under an LRU or non-LFU policy it holds the unix second of the
//! last access; under an LFU policy it holds Redis's LFU data: the minute of
//! the last decrement in the upper 16 bits and a logarithmic access counter
//! (0..=255, new keys start at 5) in the low 8 bits. As in Redis, switching
//! between LRU and LFU at run time does not convert existing keys.
//!
//! Victims are chosen as Redis does: each round samples `maxmemory-samples`
//! keys of every database into a pool of the 16 best candidates seen so far
//! (the pool survives between rounds), then evicts the best candidate that
//! still exists.

use super::db::{Db, Key};
use super::rand::Rng;

/// `maxmemory-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    NoEviction,
    AllKeysLru,
    AllKeysLfu,
    AllKeysRandom,
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
}

impl Policy {
    pub const ALL: [(&'static str, Policy); 8] = [
        ("volatile-lru", Policy::VolatileLru),
        ("volatile-lfu", Policy::VolatileLfu),
        ("volatile-random", Policy::VolatileRandom),
        ("volatile-ttl", Policy::VolatileTtl),
        ("allkeys-lru", Policy::AllKeysLru),
        ("allkeys-lfu", Policy::AllKeysLfu),
        ("allkeys-random", Policy::AllKeysRandom),
        ("noeviction", Policy::NoEviction),
    ];

    pub fn name(self) -> &'static str {
        Policy::ALL.iter().find(|(_, p)| *p == self).map(|(n, _)| *n).unwrap_or("noeviction")
    }

    pub fn parse(s: &str) -> Option<Policy> {
        Policy::ALL.iter().find(|(n, _)| n.eq_ignore_ascii_case(s)).map(|(_, p)| *p)
    }

    pub fn is_lfu(self) -> bool {
        matches!(self, Policy::AllKeysLfu | Policy::VolatileLfu)
    }

    /// Only keys with a TTL may be evicted.
    pub fn volatile_only(self) -> bool {
        matches!(self, Policy::VolatileLru | Policy::VolatileLfu | Policy::VolatileRandom | Policy::VolatileTtl)
    }
}

/// How a database records accesses (set from the config on every change).
#[derive(Debug, Clone, Copy)]
pub struct Track {
    pub lfu: bool,
    /// `lfu-log-factor`.
    pub log_factor: u32,
    /// `lfu-decay-time`, minutes per counter decrement (0 = never).
    pub decay_time: u32,
}

impl Default for Track {
    fn default() -> Track {
        Track { lfu: false, log_factor: 10, decay_time: 1 }
    }
}

/// Redis's `LFU_INIT_VAL`: new keys start here so they are not evicted at once.
const LFU_INIT_VAL: u32 = 5;

/// Redis's `LRU_CLOCK_MAX`: the LRU clock is 24 bits of unix seconds, as
/// Redis's `robj.lru` (it wraps every 194 days; idle times account for one
/// wrap, as in Redis).
pub const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;

/// The LRU clock: unix seconds, 24 bits.
pub fn lru_clock(now_ms: u64) -> u32 {
    (now_ms / 1000) as u32 & LRU_CLOCK_MAX
}

/// Seconds since an LRU field's time (Redis's `estimateObjectIdleTime`).
pub fn lru_idle(field: u32, now_ms: u64) -> u64 {
    let clock = lru_clock(now_ms);
    if clock >= field { (clock - field) as u64 } else { (clock + (LRU_CLOCK_MAX - field)) as u64 }
}

/// The LRU field of a key idle for `idle` seconds (RESTORE's IDLETIME, an
/// RDB file's idle time). What redis-server 7.0.15 does, measured (its
/// source reads as if an idle time past the clock's value gave half a
/// turn, but OBJECT IDLETIME then shows 2000000 for 2000000, 3222784 for
/// 20000000 and 10144256 for 1000000000 with the clock at 1151859): a time
/// before the clock's last wrap goes back one turn (`LRU_CLOCK_MAX`), the
/// result kept to 24 bits.
pub fn lru_field_idle(idle: u64, now_ms: u64) -> u32 {
    let clock = lru_clock(now_ms) as i64;
    let mut abs = clock - idle.min(i64::MAX as u64 / 2) as i64;
    if abs < 0 {
        abs += LRU_CLOCK_MAX as i64;
    }
    abs.rem_euclid(1 << 24) as u32
}

/// Unix minutes, 16 bits (Redis's `LFUGetTimeInMinutes`).
fn lfu_minutes(now_ms: u64) -> u32 {
    ((now_ms / 60_000) & 0xffff) as u32
}

/// The access field of a new key.
pub fn fresh(track: Track, now_ms: u64) -> u32 {
    if track.lfu { (lfu_minutes(now_ms) << 8) | LFU_INIT_VAL } else { lru_clock(now_ms) }
}

/// The access field after one access.
pub fn touched(field: u32, track: Track, now_ms: u64, rng: &mut Rng) -> u32 {
    if !track.lfu {
        return lru_clock(now_ms);
    }
    let counter = lfu_log_incr(lfu_decayed(field, track.decay_time, now_ms), track.log_factor, rng);
    (lfu_minutes(now_ms) << 8) | counter
}

/// The LFU counter with the decay since its last decrement applied
/// (Redis's `LFUDecrAndReturn`; what OBJECT FREQ shows).
pub fn lfu_decayed(field: u32, decay_time: u32, now_ms: u64) -> u32 {
    // 16 bits of minutes, as in Redis's 24-bit field: LRU data read as
    // LFU data after a policy switch must not overflow.
    let (ldt, counter) = ((field >> 8) & 0xffff, field & 0xff);
    let now = lfu_minutes(now_ms);
    let elapsed = if now >= ldt { now - ldt } else { 65535 - ldt + now };
    let periods = elapsed.checked_div(decay_time).unwrap_or(0);
    counter.saturating_sub(periods)
}

/// The access field of a key loaded with LFU counter `counter` (RDB's
/// FREQ, RESTORE's FREQ): decremented now.
pub fn lfu_field(counter: u32, now_ms: u64) -> u32 {
    (lfu_minutes(now_ms) << 8) | counter.min(255)
}

/// Logarithmic increment: the higher the counter, the less likely an access
/// raises it (Redis's `LFULogIncr`).
fn lfu_log_incr(counter: u32, log_factor: u32, rng: &mut Rng) -> u32 {
    if counter >= 255 {
        return 255;
    }
    let r = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
    let p = 1.0 / (base * log_factor as f64 + 1.0);
    if r < p { counter + 1 } else { counter }
}

/// Redis's `EVPOOL_SIZE`.
const POOL_SIZE: usize = 16;

/// A candidate for eviction: higher `score` = better victim.
#[derive(Debug)]
struct Candidate {
    score: u64,
    db: usize,
    key: Key,
}

/// The eviction pool, kept sorted by ascending score, plus the round-robin
/// position of the random policies.
#[derive(Debug, Default)]
pub struct Evictor {
    pool: Vec<Candidate>,
    next_db: usize,
}

/// A key chosen for eviction.
pub struct Victim {
    pub db: usize,
    pub key: Key,
}

impl Evictor {
    /// Chooses the next key to evict under `policy`, or `None` when no key
    /// may be evicted (empty keyspace, or no volatile key for volatile-*).
    pub fn pick(&mut self, dbs: &mut [Db], policy: Policy, samples: usize, now: u64, rng: &mut Rng) -> Option<Victim> {
        match policy {
            Policy::NoEviction => None,
            Policy::AllKeysRandom | Policy::VolatileRandom => self.pick_random(dbs, policy.volatile_only(), rng),
            _ => self.pick_pooled(dbs, policy, samples, now, rng),
        }
    }

    fn pick_random(&mut self, dbs: &[Db], volatile: bool, rng: &mut Rng) -> Option<Victim> {
        for _ in 0..dbs.len() {
            self.next_db = (self.next_db + 1) % dbs.len();
            let db = &dbs[self.next_db];
            let n = if volatile { db.volatile_len() } else { db.len() };
            if n == 0 {
                continue;
            }
            let i = if volatile { db.volatile_index(rng.below(n)) } else { rng.below(n) };
            let e = db.entry_at(i)?;
            return Some(Victim { db: self.next_db, key: crate::store::Key::from_slice(e.key()) });
        }
        None
    }

    fn pick_pooled(
        &mut self,
        dbs: &mut [Db],
        policy: Policy,
        samples: usize,
        now: u64,
        rng: &mut Rng,
    ) -> Option<Victim> {
        let volatile = policy.volatile_only();
        loop {
            let mut total = 0;
            for (d, db) in dbs.iter().enumerate() {
                let n = if volatile { db.volatile_len() } else { db.len() };
                if n == 0 {
                    continue;
                }
                total += n;
                for _ in 0..samples.min(n) {
                    let i = if volatile { db.volatile_index(rng.below(n)) } else { rng.below(n) };
                    if let Some(e) = db.entry_at(i) {
                        let key = e.key();
                        let score = match policy {
                            Policy::VolatileTtl => u64::MAX - db.expire_at_index(i).unwrap_or(u64::MAX),
                            p if p.is_lfu() => 255 - lfu_decayed(e.access(), db.track.decay_time, now) as u64,
                            _ => lru_idle(e.access(), now) * 1000,
                        };
                        self.offer(score, d, key);
                    }
                }
            }
            if total == 0 {
                return None;
            }
            // Best candidates first; ones deleted since they were pooled
            // (or that lost their TTL, for volatile policies) are skipped.
            while let Some(c) = self.pool.pop() {
                let Some(db) = dbs.get(c.db) else { continue };
                if db.has_key(&c.key, volatile) {
                    return Some(Victim { db: c.db, key: c.key });
                }
            }
        }
    }

    /// Inserts a candidate in score order, dropping the worst when full.
    fn offer(&mut self, score: u64, db: usize, key: &[u8]) {
        let at = self.pool.partition_point(|c| c.score < score);
        if self.pool.len() == POOL_SIZE {
            if at == 0 {
                return;
            }
            self.pool.remove(0);
            self.pool.insert(at - 1, Candidate { score, db, key: Key::from_slice(key) });
        } else {
            self.pool.insert(at, Candidate { score, db, key: Key::from_slice(key) });
        }
    }

    /// Forgets every candidate (FLUSHALL, SWAPDB).
    pub fn clear(&mut self) {
        self.pool.clear();
    }
}

/// How long one eviction pass may run, from `maxmemory-eviction-tenacity`
/// (Redis's `evictionTimeLimitUs`); `None` = unlimited.
pub fn time_limit_us(tenacity: u32) -> Option<u64> {
    match tenacity {
        0..=10 => Some(50 * tenacity as u64),
        11..=99 => Some((500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::db::Expiry;
    use crate::store::value::{Str, Value};

    fn s() -> Value {
        Value::Str(Str::from_slice(b"v"))
    }

    #[test]
    fn lfu_counter_grows_logarithmically_and_decays() {
        let track = Track { lfu: true, log_factor: 10, decay_time: 1 };
        let mut rng = Rng::new(7);
        let now = 10 * 60_000;
        let mut f = fresh(track, now);
        assert_eq!(lfu_decayed(f, 1, now), 5);
        for _ in 0..1000 {
            f = touched(f, track, now, &mut rng);
        }
        let c = lfu_decayed(f, 1, now);
        // Redis's table for factor 10: about 18 after 1k hits (from 0).
        assert!((10..=30).contains(&c), "{c}");
        // Three minutes later, three decrements.
        assert_eq!(lfu_decayed(f, 1, now + 3 * 60_000), c - 3);
        assert_eq!(lfu_decayed(f, 0, now + 3 * 60_000), c, "decay time 0: never");
        // LRU data (unix seconds) read as LFU data after a policy switch.
        let lru = lru_clock(1_800_000_000_000);
        assert!(lfu_decayed(lru, 1, 1_800_000_000_000) <= 255);
        touched(lru, track, 1_800_000_000_000, &mut rng);
    }

    #[test]
    fn the_lru_clock_is_24_bits_and_idle_times_wrap_as_in_redis() {
        let now = 1_800_000_000_000; // unix seconds 1,800,000,000
        let clock = lru_clock(now);
        assert_eq!(clock, 1_800_000_000 & LRU_CLOCK_MAX);
        assert_eq!(lru_idle(clock, now), 0);
        assert_eq!(lru_idle(lru_field_idle(1000, now), now), 1000);
        // A field from before the clock's wrap (Redis's second branch).
        assert_eq!(lru_idle(LRU_CLOCK_MAX - 10, now), clock as u64 + 10);
        // Longer idle than the clock's value: redis-server 7.0.15's
        // replies, measured with its clock at 1151859.
        let at = 1151859 * 1000;
        for (idle, shown) in [(1151000, 1151000), (2000000, 2000000), (20000000, 3222784), (1000000000, 10144256)] {
            assert_eq!(lru_idle(lru_field_idle(idle, at), at), shown, "IDLETIME {idle}");
        }
        assert!(lru_field_idle(u64::MAX, now) <= LRU_CLOCK_MAX);
    }

    #[test]
    fn time_limits_match_redis() {
        assert_eq!(time_limit_us(10), Some(500));
        assert_eq!(time_limit_us(0), Some(0));
        assert_eq!(time_limit_us(100), None);
        assert!(time_limit_us(50).is_some_and(|t| t > 100_000));
    }

    #[test]
    fn lru_pool_prefers_the_idlest_key() {
        let mut dbs = vec![Db::new(), Db::new()];
        // Old keys in db 1, recent ones in db 0.
        for i in 0..50 {
            dbs[1].set(format!("old{i}").as_bytes(), s(), Expiry::None, 1_000);
            dbs[0].set(format!("new{i}").as_bytes(), s(), Expiry::None, 500_000);
        }
        let mut ev = Evictor::default();
        let mut rng = Rng::new(1);
        for _ in 0..20 {
            let v = ev.pick(&mut dbs, Policy::AllKeysLru, 5, 600_000, &mut rng).unwrap();
            assert_eq!(v.db, 1);
            assert!(dbs[1].remove(&v.key, 600_000).is_some());
        }
    }

    #[test]
    fn volatile_policies_never_pick_persistent_keys() {
        let mut dbs = vec![Db::new()];
        for i in 0..20 {
            dbs[0].set(format!("p{i}").as_bytes(), s(), Expiry::None, 0);
        }
        dbs[0].set(b"t1", s(), Expiry::At(5_000), 0);
        dbs[0].set(b"t2", s(), Expiry::At(9_000), 0);
        let mut ev = Evictor::default();
        let mut rng = Rng::new(2);
        for policy in [Policy::VolatileLru, Policy::VolatileLfu, Policy::VolatileRandom, Policy::VolatileTtl] {
            let v = ev.pick(&mut dbs, policy, 5, 0, &mut rng).unwrap();
            assert!(v.key.starts_with(b"t"), "{policy:?}");
        }
        assert_eq!(&ev.pick(&mut dbs, Policy::VolatileTtl, 5, 0, &mut rng).unwrap().key[..], b"t1");
        dbs[0].remove(b"t1", 0);
        dbs[0].remove(b"t2", 0);
        ev.clear();
        assert!(ev.pick(&mut dbs, Policy::VolatileLru, 5, 0, &mut rng).is_none());
        assert!(ev.pick(&mut dbs, Policy::VolatileRandom, 5, 0, &mut rng).is_none());
        assert!(ev.pick(&mut dbs, Policy::AllKeysRandom, 5, 0, &mut rng).is_some());
    }
}
