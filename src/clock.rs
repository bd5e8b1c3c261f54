//! Clock reads for the per-command path: `clock_gettime` straight into
//! integers. `Instant` and `SystemTime` read the same clocks, but their
//! `Duration` arithmetic costs more than the read itself (callgrind: about
//! 90 of the ~1,700 instructions a pipelined SET or GET took in all).

/// Nanoseconds on the monotonic clock (arbitrary origin; only differences
/// mean something).
pub fn mono_ns() -> u64 {
    read(libc::CLOCK_MONOTONIC)
}

/// Milliseconds since the Unix epoch (0 before it).
pub fn unix_ms() -> u64 {
    read(libc::CLOCK_REALTIME) / 1_000_000
}

fn read(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec that outlives the call, and
    // clock_gettime writes nothing else.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc != 0 || ts.tv_sec < 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    #[test]
    fn monotonic_nanos_follow_instant() {
        let (t0, i0) = (mono_ns(), Instant::now());
        std::thread::sleep(Duration::from_millis(20));
        let (t1, i1) = (mono_ns(), Instant::now());
        let ours = t1 - t0;
        let std = i1.duration_since(i0).as_nanos() as u64;
        assert!(ours >= 20_000_000, "{ours}");
        assert!(ours.abs_diff(std) < 5_000_000, "{ours} vs {std}");
    }

    #[test]
    fn unix_millis_match_system_time() {
        let std = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        assert!(unix_ms().abs_diff(std) < 1_000);
    }
}
