//! Lazy free: big values (and whole flushed databases) are dropped on a
//! helper thread, so deleting a 10,000,000-member set does not stall the
//! event loop. The thread starts on first use and ends when the server's
//! state is dropped (its channel closes).
//!
//! Like Redis (`LAZYFREE_THRESHOLD`), only values whose freeing takes more
//! than 64 steps go to the thread: sending a small value would cost more
//! than dropping it. The thread runs at the lowest priority (nice 19), and
//! the bytes it has yet to free are known, so that maxmemory counts them as
//! freed already however far behind it is.

use super::value::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Sender, channel};

/// Values whose free effort is above this are freed on the helper thread.
pub const THRESHOLD: usize = 64;

pub type Garbage = Box<dyn Send>;

#[derive(Default)]
pub struct LazyFree {
    tx: Option<Sender<(Garbage, usize)>>,
    /// `bio_cpulist`: the CPUs the thread runs on (empty: any).
    pub cpus: String,
    /// Objects handed over and not yet freed; objects freed by the thread.
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    pending: AtomicU64,
    freed: AtomicU64,
    /// Bytes handed over and not yet freed (of values with a known size).
    pending_bytes: AtomicUsize,
}

impl LazyFree {
    /// Drops `value` here if it is small, else on the helper thread.
    /// Returns whether it went to the thread.
    pub fn free_value(&mut self, value: Value) -> bool {
        if value.free_effort() <= THRESHOLD {
            drop(value);
            return false;
        }
        let bytes = value.heap_size();
        self.send(Box::new(value), bytes);
        true
    }

    /// Drops anything (a whole database's map) on the helper thread.
    pub fn free<T: Send + 'static>(&mut self, garbage: Box<T>) {
        self.free_boxed(garbage);
    }

    /// [`LazyFree::free`] for an already type-erased box.
    pub fn free_boxed(&mut self, garbage: Garbage) {
        self.send(garbage, 0);
    }

    fn send(&mut self, garbage: Garbage, bytes: usize) {
        self.counts.pending.fetch_add(1, Ordering::Relaxed);
        self.counts.pending_bytes.fetch_add(bytes, Ordering::Relaxed);
        let job = match &self.tx {
            Some(tx) => match tx.send((garbage, bytes)) {
                Ok(()) => return,
                Err(e) => e.0,
            },
            None => (garbage, bytes),
        };
        // No thread yet (or it is gone): start one for this and what follows.
        let job = match self.spawn() {
            Some(tx) => match tx.send(job) {
                Ok(()) => return,
                Err(e) => e.0,
            },
            None => job,
        };
        drop(job.0);
        self.counts.done(job.1);
    }

    fn spawn(&mut self) -> Option<&Sender<(Garbage, usize)>> {
        let (tx, rx) = channel::<(Garbage, usize)>();
        let counts = Arc::clone(&self.counts);
        let cpus = self.cpus.clone();
        let spawned = std::thread::Builder::new().name("lazyfree".into()).spawn(move || {
            crate::process::set_affinity(&cpus);
            lowest_priority();
            for (garbage, bytes) in rx {
                drop(garbage);
                counts.done(bytes);
                counts.freed.fetch_add(1, Ordering::Relaxed);
            }
        });
        match spawned {
            Ok(_) => {
                self.tx = Some(tx);
                self.tx.as_ref()
            }
            Err(e) => {
                log::warn!("Can't start the lazy free thread ({e}); freeing inline");
                None
            }
        }
    }

    /// INFO's `lazyfree_pending_objects`.
    pub fn pending(&self) -> u64 {
        self.counts.pending.load(Ordering::Relaxed)
    }

    /// Bytes of handed-over values not freed yet.
    pub fn pending_bytes(&self) -> usize {
        self.counts.pending_bytes.load(Ordering::Relaxed)
    }

    /// INFO's `lazyfreed_objects`.
    pub fn freed(&self) -> u64 {
        self.counts.freed.load(Ordering::Relaxed)
    }

    /// CONFIG RESETSTAT (Redis's `lazyfreeResetStats`).
    pub fn reset_freed(&self) {
        self.counts.freed.store(0, Ordering::Relaxed);
    }
}

impl Counts {
    fn done(&self, bytes: usize) {
        self.pending.fetch_sub(1, Ordering::Relaxed);
        self.pending_bytes.fetch_sub(bytes, Ordering::Relaxed);
    }
}

/// Nice 19 for the calling thread (the lazy-free thread): when it shares a
/// core with the event loop, the loop gets the core whenever it wants it.
/// Freeing a 10,000,000-member set with both on one core: PING p99 0.12-0.19
/// ms and max 2.9-4.2 ms, against 0.8-1.05 / 5.0-6.2 ms at nice 0. It still
/// has any idle core to itself, and maxmemory counts what it has yet to
/// free as free, so eviction does not overshoot while it lags.
fn lowest_priority() {
    // SAFETY: setpriority only reads its integer arguments; `who` 0 with
    // PRIO_PROCESS is the calling thread on Linux (threads are tasks).
    if unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) } != 0 {
        log::debug!("Can't lower the lazy free thread's priority: {}", std::io::Error::last_os_error());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::set::Set;

    #[test]
    fn big_values_go_to_the_thread_small_ones_do_not() {
        let mut lazy = LazyFree::default();
        assert!(!lazy.free_value(Value::Str(b"small"[..].into())));
        let mut big = Set::default();
        for i in 0..1000 {
            big.add_bytes(format!("m{i}").as_bytes(), 512);
        }
        assert!(lazy.free_value(Value::Set(Box::new(big))));
        for _ in 0..1000 {
            if lazy.freed() == 1 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!((lazy.freed(), lazy.pending(), lazy.pending_bytes()), (1, 0, 0));
    }

    #[test]
    fn the_thread_runs_at_nice_19() {
        let nice = std::thread::spawn(|| {
            lowest_priority();
            // SAFETY: getpriority only reads its integer arguments.
            unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
        })
        .join()
        .unwrap();
        assert_eq!(nice, 19);
    }
}
