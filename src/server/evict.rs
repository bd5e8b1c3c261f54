//! Holding `maxmemory`: the eviction pass run before each command (Redis's
//! `performEvictions`), and the time-sliced continuation the loop runs
//! while a pass ran out of time.

use super::state::Shared;
use crate::store::evict::{self, Policy};
use std::time::Instant;

/// The outcome of an eviction pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evicted {
    /// Memory is within `maxmemory` (or no limit is set).
    Ok,
    /// Over the limit, keys are being evicted, the pass ran out of time;
    /// the loop continues it. Commands still run.
    Running,
    /// Over the limit and nothing can be evicted: `denyoom` commands fail.
    Fail,
}

impl Shared {
    /// Keeps the per-database access tracking in step with the config
    /// (at start and after CONFIG SET).
    pub fn sync_tracking(&mut self) {
        self.set_grow_budgets();
        let c = &self.config;
        let track = evict::Track {
            lfu: c.maxmemory_policy.is_lfu(),
            log_factor: c.lfu_log_factor,
            decay_time: c.lfu_decay_time,
        };
        for db in &mut self.dbs {
            db.track = track;
        }
    }

    /// Memory that counts against `maxmemory`: everything allocated,
    /// except table slots that are allocated but empty (new keys reuse them
    /// without allocating; an evicted key's slot becomes one) and values the
    /// lazy-free thread has yet to free and big values a snapshot copied on
    /// write (Redis does not count its fork's copied pages either), plus
    /// what is held back for tables about to double.
    pub fn used_for_maxmemory(&self) -> usize {
        let (vacant, reserved) =
            self.dbs.iter().fold((0, 0), |(v, r), db| (v + db.vacant_bytes(), r + db.reserve_bytes()));
        let copies = self.persist.snapshot.as_ref().map_or(0, |s| s.held_bytes(&self.dbs));
        // As Redis: what replicas have yet to take is not counted (the
        // backlog is).
        let replicas = if self.repl.replicas.is_empty() { 0 } else { self.replica_buffers() };
        crate::alloc::allocated().saturating_sub(vacant + self.lazy.pending_bytes() + copies + replicas) + reserved
    }

    /// Bytes over `maxmemory`, if any.
    fn over_limit(&self) -> Option<usize> {
        let max = self.config.maxmemory as usize;
        if max == 0 {
            return None;
        }
        let used = self.used_for_maxmemory();
        (used > max).then(|| used - max)
    }

    /// Gives each table the headroom left under `maxmemory` for its next
    /// growth (none needed without a limit).
    pub fn set_grow_budgets(&mut self) {
        let max = self.config.maxmemory as usize;
        let budget = if max == 0 { usize::MAX } else { max.saturating_sub(crate::alloc::allocated()) };
        for db in &mut self.dbs {
            db.set_grow_budget(budget);
        }
    }

    /// Evicts keys by `maxmemory-policy` until memory is back under
    /// `maxmemory`, for at most the tenacity's time slice; then sets the
    /// tables' growth budgets.
    pub fn perform_evictions(&mut self, now: u64) -> Evicted {
        let result = self.evict_pass(now);
        // Time spent over the limit (Redis's `update_metrics`).
        let st = &mut self.stats;
        match (result, st.eviction_exceeded_since) {
            (Evicted::Running | Evicted::Fail, None) => st.eviction_exceeded_since = Some(Instant::now()),
            (Evicted::Ok, Some(since)) => {
                st.eviction_exceeded_us += since.elapsed().as_micros() as u64;
                st.eviction_exceeded_since = None;
            }
            _ => {}
        }
        // Evicted keys leave empty slots, which count as free for the pass;
        // if the memory in use is still over the limit, give them back.
        if crate::alloc::allocated() > self.config.maxmemory as usize {
            for db in &mut self.dbs {
                db.trim_vacancy();
            }
        }
        self.set_grow_budgets();
        result
    }

    fn evict_pass(&mut self, now: u64) -> Evicted {
        // CLIENT PAUSE keeps the dataset still: no eviction meanwhile.
        let over = match self.over_limit() {
            Some(over) if !self.paused(now) => over,
            _ => {
                self.evicting = false;
                return Evicted::Ok;
            }
        };
        let policy = self.config.maxmemory_policy;
        if policy == Policy::NoEviction {
            self.evicting = false;
            return Evicted::Fail;
        }
        let limit = evict::time_limit_us(self.config.maxmemory_eviction_tenacity);
        let samples = self.config.maxmemory_samples as usize;
        let start = Instant::now();
        // Values handed to the lazy-free thread count as freed at once (see
        // `used_for_maxmemory`), or the pass would evict far more than
        // needed while the thread catches up.
        //
        // As Redis's performEvictions: what is to be freed is measured once,
        // and only what each deletion itself frees counts against it, not
        // what its propagation and invalidation messages allocate (they
        // go once written); re-measuring the total after each key let the
        // invalidations of many tracking clients drain the dataset (Redis's
        // tcl test "client tracking don't cause eviction feedback loop").
        let mut keys = 0u64;
        let mut freed = 0usize;
        while freed < over {
            let Some(v) = self.evictor.pick(&mut self.dbs, policy, samples, now, &mut self.rng) else {
                self.evicting = false;
                return Evicted::Fail;
            };
            if let Some(snap) = self.persist.snapshot.as_mut() {
                snap.before_evict(&mut self.dbs, v.db, &v.key, now);
            }
            // The key's own bytes (MEMORY USAGE's estimate; a shared key
            // or a value a snapshot holds is not given back at once, the
            // next pass sees that).
            freed += self.dbs[v.db].memory_usage(&v.key).unwrap_or(0);
            let Some(entry) = self.dbs[v.db].evict(&v.key) else { continue };
            if self.config.lazyfree_lazy_eviction {
                self.lazy.free_value(entry.value);
            }
            self.stats.evicted_keys += 1;
            // Propagated as DEL (UNLINK with lazyfree-lazy-eviction).
            let lazy = self.config.lazyfree_lazy_eviction;
            self.prop.deletion(v.db, &v.key, lazy, now);
            self.notify(crate::server::notify::EVICTED, "evicted", &v.key, v.db);
            keys += 1;
            if keys.is_multiple_of(16) && limit.is_some_and(|us| start.elapsed().as_micros() as u64 > us) {
                self.evicting = true;
                return Evicted::Running;
            }
        }
        self.evicting = false;
        Evicted::Ok
    }
}
