//! What the loop does when it has nothing to do: poll the sockets for a
//! few microseconds before it sleeps in `epoll_wait`, when the last idle
//! gap was that short.
//!
//! Why (docs/benchmarks.md, "-P 1 round trip: why"): at `-P 1` with many
//! connections the loop finishes a batch of requests a few microseconds
//! before the client's next ones arrive, blocks in `epoll_wait`, and is
//! woken by the client's `sendto` a moment later. Each such sleep costs
//! both sides: the client's `sendto` has to wake the sleeping thread on
//! the other core (a rescheduling IPI: on a virtual machine an exit to the
//! hypervisor, paid inside the client's system call), and the server pays
//! the switch out, the idle entry and exit and the switch back in, with
//! the reply leaving only after all that. redis-server, slower per
//! request, is rarely idle and so rarely sleeps: 0.08-0.13 sleeps per GET
//! against ferrokv's 0.14-0.24 (0.01-0.04 against 0.26-0.31 on TLS), and
//! with the client's core full the client's extra work per sleep decides
//! the throughput. Polling with a zero timeout for up to [`SPIN_US`]
//! instead catches nearly all of those gaps awake (0.17 -> 0.002-0.005
//! sleeps per GET, the client's CPU per request back to what it is against
//! Redis). The price: the idle time is now spent polling, counted as the
//! server's CPU (+5-6% per request on the plain port at `-P 1 -c 50`; on
//! TLS, where a sleep cost more, less CPU per request than before).
//!
//! The policy, [`Spin`]: poll awake only while the load makes the next
//! event likely within the budget, that is when the previous idle gap
//! (from the loop running out of work to the next event, awake or asleep)
//! was no longer than the budget. A server that is idle, or whose clients
//! pause longer than that, blocks at once after one long gap: at most one
//! budget of polling per long gap, never a busy loop. One CPU (nothing
//! else can run while the loop polls) or `FERROKV_POLL_SPIN_US=0` turns
//! it off.
//!
//! Between two polls the loop yields its core (`sched_yield`): when the
//! server is pinned to one core, its own helper threads (the AOF writer
//! whose fsync releases `appendfsync always` replies, the fsync thread,
//! a snapshot) and the kernel's (the journal commit an fsync waits for)
//! share that core, and a loop that polled without yielding made them
//! wait for the end of its budget: `appendfsync always` SET at `-c 50`
//! went from 1.01x to 1.06x redis-server's rps (median of six alternating
//! rounds) with the yield; `-P 1` GET/SET without AOF did not move.

use std::time::Duration;

/// The default polling budget, in microseconds. It is about what one
/// sleep and wake-up cost here, so polling that finds nothing costs at
/// most what the sleep it failed to avoid costs (the classic
/// spin-then-block bound: never more than twice the better choice).
pub const SPIN_US: u64 = 50;

/// Overrides [`SPIN_US`] (microseconds; 0 turns polling off), read once at
/// start: for comparing the two behaviours side by side.
pub const SPIN_ENV: &str = "FERROKV_POLL_SPIN_US";

/// The spin-then-block policy (pure bookkeeping; the loop does the polls).
#[derive(Debug, Clone)]
pub struct Spin {
    /// Polling budget in nanoseconds; 0: never poll awake.
    budget_ns: u64,
    /// The last idle gap in nanoseconds (`u64::MAX` before the first).
    last_gap_ns: u64,
}

impl Spin {
    /// A policy with a budget of `budget_us` microseconds.
    pub fn new(budget_us: u64) -> Spin {
        Spin { budget_ns: budget_us.saturating_mul(1000), last_gap_ns: u64::MAX }
    }

    /// The policy for this process: [`SPIN_US`] or the environment's
    /// override, off on a single CPU.
    pub fn from_env() -> Spin {
        let us = std::env::var(SPIN_ENV).ok().and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(SPIN_US);
        Spin::new(if online_cpus() < 2 { 0 } else { us })
    }

    /// How long to poll awake before blocking for at most `timeout`:
    /// zero unless the last gap fitted in the budget; never past the
    /// timeout.
    pub fn budget(&self, timeout: Duration) -> Duration {
        if self.budget_ns == 0 || self.last_gap_ns > self.budget_ns {
            return Duration::ZERO;
        }
        Duration::from_nanos(self.budget_ns).min(timeout)
    }

    /// Notes an idle gap that ended (events came, or the timeout passed).
    pub fn gap(&mut self, ns: u64) {
        self.last_gap_ns = ns;
    }
}

/// CPUs online (not this thread's affinity: a server pinned to one core
/// still shares the machine with its clients on the others).
fn online_cpus() -> i64 {
    // SAFETY: sysconf reads a system value and touches no memory of ours.
    unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(100);

    #[test]
    fn no_polling_before_a_short_gap() {
        let s = Spin::new(50);
        assert_eq!(s.budget(MS), Duration::ZERO);
    }

    #[test]
    fn polls_after_a_short_gap_and_stops_after_a_long_one() {
        let mut s = Spin::new(50);
        s.gap(12_000);
        assert_eq!(s.budget(MS), Duration::from_micros(50));
        s.gap(50_000);
        assert_eq!(s.budget(MS), Duration::from_micros(50));
        s.gap(50_001);
        assert_eq!(s.budget(MS), Duration::ZERO);
        s.gap(3_000);
        assert_eq!(s.budget(MS), Duration::from_micros(50));
    }

    #[test]
    fn never_past_the_timeout() {
        let mut s = Spin::new(50);
        s.gap(1_000);
        assert_eq!(s.budget(Duration::from_micros(20)), Duration::from_micros(20));
        assert_eq!(s.budget(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn zero_budget_never_polls() {
        let mut s = Spin::new(0);
        s.gap(0);
        assert_eq!(s.budget(MS), Duration::ZERO);
    }
}
