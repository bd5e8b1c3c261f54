//! Lazy free: big values (and whole flushed databases) are dropped on a
//! helper thread, so deleting a 10,000,000-member set does not stall the
//! event loop. The thread starts on first use and ends when the server's
//! state is dropped (its channel closes).
//!
//! Like Redis (`LAZYFREE_THRESHOLD`), only values whose freeing takes more
//! than 64 steps go to the thread: sending a small value would cost more
//! than dropping it.

use super::value::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Sender, channel};

/// Values whose free effort is above this are freed on the helper thread.
pub const THRESHOLD: usize = 64;

pub type Garbage = Box<dyn Send>;

#[derive(Default)]
pub struct LazyFree {
    tx: Option<Sender<Garbage>>,
    /// Objects handed over and not yet freed; objects freed by the thread.
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    pending: AtomicU64,
    freed: AtomicU64,
}

impl LazyFree {
    /// Drops `value` here if it is small, else on the helper thread.
    /// Returns whether it went to the thread.
    pub fn free_value(&mut self, value: Value) -> bool {
        if value.free_effort() <= THRESHOLD {
            drop(value);
            return false;
        }
        self.free(Box::new(value));
        true
    }

    /// Drops anything (a whole database's map) on the helper thread.
    pub fn free<T: Send + 'static>(&mut self, garbage: Box<T>) {
        self.free_boxed(garbage);
    }

    /// [`LazyFree::free`] for an already type-erased box.
    pub fn free_boxed(&mut self, garbage: Garbage) {
        self.counts.pending.fetch_add(1, Ordering::Relaxed);
        let garbage = match &self.tx {
            Some(tx) => match tx.send(garbage) {
                Ok(()) => return,
                Err(e) => e.0,
            },
            None => garbage,
        };
        // No thread yet (or it is gone): start one for this and what follows.
        match self.spawn() {
            Some(tx) => {
                if let Err(e) = tx.send(garbage) {
                    drop(e.0);
                    self.counts.pending.fetch_sub(1, Ordering::Relaxed);
                }
            }
            None => {
                drop(garbage);
                self.counts.pending.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    fn spawn(&mut self) -> Option<&Sender<Garbage>> {
        let (tx, rx) = channel::<Garbage>();
        let counts = Arc::clone(&self.counts);
        let spawned = std::thread::Builder::new().name("lazyfree".into()).spawn(move || {
            for garbage in rx {
                drop(garbage);
                counts.pending.fetch_sub(1, Ordering::Relaxed);
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

    /// INFO's `lazyfreed_objects`.
    pub fn freed(&self) -> u64 {
        self.counts.freed.load(Ordering::Relaxed)
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
        assert_eq!((lazy.freed(), lazy.pending()), (1, 0));
    }
}
