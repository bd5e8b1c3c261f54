//! Latency bookkeeping: per-command latency histograms (INFO latencystats,
//! LATENCY HISTOGRAM) and the latency monitor's events (LATENCY LATEST /
//! HISTORY, fed when something takes at least `latency-monitor-threshold`
//! milliseconds).
//!
//! The histogram is log-linear over nanoseconds: exact below 64 ns, then 32
//! sub-buckets per power of two (at most ~3% relative error), up to ~18
//! minutes. Recording is one index computation and one increment.

use std::collections::VecDeque;

const SUB_BITS: u32 = 5;
const SUB: usize = 1 << SUB_BITS;
/// Values at or above 2^40 ns (~18 min) land in the last bucket.
const MAX_BITS: u32 = 40;
const BUCKETS: usize = (MAX_BITS as usize - SUB_BITS as usize + 1) * SUB;

#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u64]>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram { counts: vec![0; BUCKETS].into_boxed_slice(), total: 0 }
    }
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Histogram({} values)", self.total)
    }
}

fn index(ns: u64) -> usize {
    let v = ns.min((1 << MAX_BITS) - 1);
    if v < 2 * SUB as u64 {
        return v as usize;
    }
    let msb = 63 - v.leading_zeros();
    let shift = msb - SUB_BITS;
    (shift as usize + 1) * SUB + ((v >> shift) as usize & (SUB - 1))
}

/// The highest value that lands in bucket `i`.
fn upper(i: usize) -> u64 {
    if i < 2 * SUB {
        return i as u64;
    }
    let shift = (i / SUB - 1) as u32;
    let low = ((i % SUB + SUB) as u64) << shift;
    low + (1u64 << shift) - 1
}

impl Histogram {
    pub fn record(&mut self, ns: u64) {
        self.counts[index(ns)] += 1;
        self.total += 1;
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// The value (ns) at percentile `p` (0..=100): the highest value of the
    /// bucket holding it.
    pub fn percentile(&self, p: f64) -> u64 {
        let target = ((p / 100.0 * self.total as f64).ceil() as u64).clamp(1, self.total.max(1));
        let mut seen = 0;
        for (i, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= target {
                return upper(i);
            }
        }
        0
    }

    /// Cumulative counts at power-of-two microsecond bounds (1024 ns, 2048
    /// ns, …), only where the count grows: LATENCY HISTOGRAM's
    /// `histogram_usec` as (bound in µs, count up to it).
    pub fn cumulative_usec(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let (mut seen, mut prev, mut i) = (0u64, 0u64, 0usize);
        let mut bound = 1024u64;
        while prev < self.total {
            while i < BUCKETS && upper(i) < bound {
                seen += self.counts[i];
                i += 1;
            }
            if seen > prev {
                out.push((bound / 1000, seen));
                prev = seen;
            }
            if i >= BUCKETS {
                break;
            }
            bound *= 2;
        }
        out
    }
}

/// How many samples an event keeps (Redis's `LATENCY_TS_LEN`).
const HISTORY: usize = 160;

/// One latency monitor event's samples: (unix seconds, milliseconds), one
/// per second at most (the highest), and the all-time maximum.
#[derive(Debug, Default)]
pub struct Event {
    pub samples: VecDeque<(u64, u64)>,
    pub max: u64,
}

/// The latency monitor: events by name, in first-seen order.
#[derive(Debug, Default)]
pub struct Monitor {
    pub events: Vec<(&'static str, Event)>,
}

impl Monitor {
    /// Records `ms` for `event` at unix second `now_s`.
    pub fn add(&mut self, event: &'static str, now_s: u64, ms: u64) {
        let pos = match self.events.iter().position(|(n, _)| *n == event) {
            Some(p) => p,
            None => {
                self.events.push((event, Event::default()));
                self.events.len() - 1
            }
        };
        let e = &mut self.events[pos].1;
        e.max = e.max.max(ms);
        match e.samples.back_mut() {
            Some(last) if last.0 == now_s => last.1 = last.1.max(ms),
            _ => {
                if e.samples.len() == HISTORY {
                    e.samples.pop_front();
                }
                e.samples.push_back((now_s, ms));
            }
        }
    }

    pub fn get(&self, event: &[u8]) -> Option<&Event> {
        self.events.iter().find(|(n, _)| n.as_bytes() == event).map(|(_, e)| e)
    }

    /// Forgets `event`; true if it was known.
    pub fn reset(&mut self, event: &[u8]) -> bool {
        let before = self.events.len();
        self.events.retain(|(n, _)| n.as_bytes() != event);
        before != self.events.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::{prop, proptest};

    #[test]
    fn buckets_are_contiguous_and_tight() {
        let mut prev = None;
        for i in 0..BUCKETS {
            let u = upper(i);
            if let Some(p) = prev {
                assert!(u > p, "bucket {i}");
            }
            assert_eq!(index(u), i, "upper of {i}");
            prev = Some(u);
        }
        assert_eq!(index(u64::MAX), BUCKETS - 1);
    }

    proptest! {
        #[test]
        fn values_land_within_3_percent(v in 0u64..(1 << 39)) {
            let u = upper(index(v));
            assert!(u >= v && (u - v) as f64 <= v as f64 * 0.032 + 1.0, "{v} -> {u}");
        }

        #[test]
        fn percentiles_are_within_the_bucket_error(mut vs in prop::collection::vec(1u64..10_000_000, 1..300)) {
            let mut h = Histogram::default();
            vs.iter().for_each(|&v| h.record(v));
            vs.sort();
            for p in [50.0, 99.0, 99.9, 100.0] {
                let exact = vs[((p / 100.0 * vs.len() as f64).ceil() as usize).clamp(1, vs.len()) - 1];
                let got = h.percentile(p);
                assert!(got >= exact && got as f64 <= exact as f64 * 1.032 + 1.0, "p{p}: {got} vs {exact}");
            }
        }
    }

    #[test]
    fn cumulative_usec_like_redis() {
        let mut h = Histogram::default();
        h.record(5_000); // 5 µs → the 8 µs bucket (8192 ns)
        assert_eq!(h.cumulative_usec(), vec![(8, 1)]);
        h.record(12_000);
        assert_eq!(h.cumulative_usec(), vec![(8, 1), (16, 2)]);
    }

    #[test]
    fn monitor_keeps_the_max_per_second_and_160_samples() {
        let mut m = Monitor::default();
        m.add("command", 100, 5);
        m.add("command", 100, 9);
        m.add("command", 100, 2);
        assert_eq!(m.get(b"command").unwrap().samples, [(100, 9)]);
        for s in 0..200 {
            m.add("command", 200 + s, 1);
        }
        let e = m.get(b"command").unwrap();
        assert_eq!((e.samples.len(), e.max), (160, 9));
        assert!(m.reset(b"command") && !m.reset(b"command"));
    }
}
