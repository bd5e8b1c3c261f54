//! A counting global allocator: the underlying allocator (the system's by
//! default, jemalloc or mimalloc with the cargo features of those names),
//! plus an atomic count of the bytes currently allocated. It gives INFO's
//! `used_memory` and what maxmemory counts.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

#[cfg(feature = "mimalloc")]
use mimalloc::MiMalloc as Inner;
#[cfg(not(any(feature = "jemalloc", feature = "mimalloc")))]
use std::alloc::System as Inner;
#[cfg(all(feature = "jemalloc", not(feature = "mimalloc")))]
use tikv_jemallocator::Jemalloc as Inner;

/// INFO's `mem_allocator`.
pub const NAME: &str = if cfg!(feature = "mimalloc") {
    "mimalloc"
} else if cfg!(feature = "jemalloc") {
    "jemalloc-5.3.0"
} else {
    "libc"
};

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

pub struct Counting;

// SAFETY: every method forwards to the inner allocator with the caller's arguments
// unchanged, so its guarantees carry over; the only addition is a
// relaxed counter update, which cannot affect the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        let p = unsafe { Inner.alloc(layout) };
        if !p.is_null() {
            ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { Inner.alloc_zeroed(layout) };
        if !p.is_null() {
            ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator with `layout` (caller's contract).
        unsafe { Inner.dealloc(ptr, layout) };
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `realloc`'s contract.
        let p = unsafe { Inner.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            ALLOCATED.fetch_add(new_size, Ordering::Relaxed);
            ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

/// Bytes currently allocated through the global allocator.
pub fn allocated() -> usize {
    ALLOCATED.load(Ordering::Relaxed)
}

/// Resident set size of this process in bytes (0 if unknown).
pub fn rss() -> usize {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<usize>().ok()))
        .unwrap_or(0);
    pages * 4096
}

/// Sets up the allocator for the server (once, at start). With glibc:
/// no fastbins (`M_MXFAST` 0). The lazy-free thread frees the millions of
/// small blocks of a big value, which the event loop allocated; glibc parks
/// such cross-thread frees of small blocks on the owning arena's fastbins,
/// and the loop's next malloc that misses its thread cache then
/// consolidates them all at once: 10-30 ms stalls while a 10,000,000-member
/// set was freed. Without fastbins each free merges at once (under the
/// arena's lock, a short hold) and the per-thread cache still serves the
/// hot path.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu", not(any(feature = "jemalloc", feature = "mimalloc"))))]
    // SAFETY: mallopt only reads its two integer arguments.
    unsafe {
        libc::mallopt(libc::M_MXFAST, 0);
    }
}

/// Hands memory that glibc keeps but nothing uses back to the system
/// (`malloc_trim`), when the resident size `rss` is more than twice what is
/// allocated and more than 32 MB over it: after thousands of connections
/// closed at once, their freed 16 KB read buffers stay resident in glibc's
/// heap otherwise (RSS 4 MB before 2,500 clients, 46 MB after they left,
/// with 3 MB allocated). At most once per 10 s, and once per 5 minutes
/// after a trim that gave back less than 8 MB (a fragmented heap, where
/// trimming again would only cost time). Returns whether it trimmed.
pub fn trim_slack(rss: usize) -> bool {
    use std::sync::atomic::AtomicU64;
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let now = crate::clock::mono_ns() / 1_000_000_000;
    if !trim_due(rss, allocated(), now, NEXT.load(Ordering::Relaxed)) {
        return false;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu", not(any(feature = "jemalloc", feature = "mimalloc"))))]
    // SAFETY: malloc_trim only takes the padding to keep.
    unsafe {
        libc::malloc_trim(0);
    }
    let freed = rss.saturating_sub(self::rss());
    NEXT.store(now + if freed < 8 << 20 { 300 } else { 10 }, Ordering::Relaxed);
    true
}

/// `MEMORY PURGE`: hands every free page glibc holds back to the system
/// (`malloc_trim(0)`, which also releases free pages inside the heap, not
/// just at its top), as Redis's jemalloc build purges its arenas. After
/// deleting 400,000 of 1,000,000 keys with 100-byte values: RSS 182 MB ->
/// 137 MB; with 2,000,000 and 800,000 deleted, 338 -> 253 MB in 13 ms of
/// the loop (a second purge: 0.1 ms). Nothing to do with jemalloc or
/// mimalloc here (Redis with libc malloc does nothing either).
pub fn purge() {
    #[cfg(all(target_os = "linux", target_env = "gnu", not(any(feature = "jemalloc", feature = "mimalloc"))))]
    // SAFETY: malloc_trim only takes the padding to keep.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Whether [`trim_slack`] trims: `rss` more than twice and 32 MB more than
/// `used`, and the second `now` at or past `next`.
fn trim_due(rss: usize, used: usize, now: u64, next: u64) -> bool {
    now >= next && rss >= used.saturating_mul(2) && rss - used >= 32 << 20
}

/// Physical memory of the machine (MemTotal), 0 if unknown.
pub fn system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
        })
        .map_or(0, |kb| kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_allocations_and_frees() {
        // Other tests allocate concurrently, so look for a change far larger
        // than their noise.
        let before = allocated();
        let big = vec![1u8; 64 << 20];
        assert!(allocated() >= before + (60 << 20));
        let grown = {
            let mut v = big;
            v.reserve_exact(64 << 20);
            v
        };
        assert!(allocated() >= before + (120 << 20));
        drop(grown);
        assert!(allocated() < before + (32 << 20));
    }

    /// Slack goes back to the system once RSS is far over what is
    /// allocated; not when it is close, nor before the next allowed time.
    #[test]
    fn slack_is_trimmed_when_large_and_not_too_often() {
        const MB: usize = 1 << 20;
        assert!(trim_due(100 * MB, 10 * MB, 5, 0));
        assert!(!trim_due(100 * MB, 60 * MB, 5, 0), "less than twice");
        assert!(!trim_due(30 * MB, MB, 5, 0), "under 32 MB of slack");
        assert!(!trim_due(100 * MB, 10 * MB, 5, 15), "too soon");
        assert!(!trim_due(0, 0, 5, 0));
        assert!(!trim_slack(allocated()), "no slack");
    }

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu", not(any(feature = "jemalloc", feature = "mimalloc"))))]
    fn small_blocks_freed_by_another_thread_are_not_parked_in_fastbins() {
        tune();
        // Blocks that other tests of this process freed before `tune` may
        // sit in the fastbins still (the test failed now and then in a
        // whole `cargo test --lib`): consolidate them first, so that what
        // is counted below is only what was freed after it.
        // SAFETY: malloc_trim only takes the padding to keep.
        unsafe {
            libc::malloc_trim(0);
        }
        let blocks: Vec<Box<[u8; 24]>> = (0..10_000).map(|i| Box::new([i as u8; 24])).collect();
        std::thread::spawn(move || drop(blocks)).join().unwrap();
        // SAFETY: mallinfo2 only reads the allocator's statistics.
        let info = unsafe { libc::mallinfo2() };
        assert_eq!(info.fsmblks, 0, "bytes in fastbins");
    }
}
