//! LATENCY: the latency monitor's events (LATEST, HISTORY, RESET, DOCTOR,
//! GRAPH)
//! and the per-command latency histograms (HISTOGRAM).

use super::table::{Command, container, flag::*, registry, row};
use super::{Args, CmdResult, Ctx};
use crate::server::latency::Event;

pub static COMMANDS: &[Command] = &[Command {
    subcommands: LATENCY_SUBCOMMANDS,
    ..row("latency", -2, 0, (0, 0, 0), "server", "2.8.13", "A container for latency diagnostics commands", container)
}];

const FLAGS: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

static LATENCY_SUBCOMMANDS: &[Command] = &[
    row("latest", 2, FLAGS, (0, 0, 0), "server", "2.8.13", "Return the latest latency samples for all events.", latest)
        .tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]),
    row("history", 3, FLAGS, (0, 0, 0), "server", "2.8.13", "Return timestamp-latency samples for the event.", history)
        .tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]),
    row("reset", -2, FLAGS, (0, 0, 0), "server", "2.8.13", "Reset latency data for one or more events.", reset)
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    row("graph", 3, FLAGS, (0, 0, 0), "server", "2.8.13", "Return a latency graph for the event.", graph).tips(&[
        "nondeterministic_output",
        "request_policy:all_nodes",
        "response_policy:special",
    ]),
    row("doctor", 2, FLAGS, (0, 0, 0), "server", "2.8.13", "Return a human readable latency analysis report.", doctor)
        .tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]),
    row(
        "histogram",
        -2,
        FLAGS,
        (0, 0, 0),
        "server",
        "7.0.0",
        "Return the cumulative distribution of latencies of a subset of commands or all.",
        histogram,
    )
    .tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]),
    row(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Show helpful text about the different subcommands.",
        help,
    ),
];

/// # Format
/// `LATENCY LATEST` — per event: name, time of the latest sample, its
/// latency and the all-time maximum (ms).
fn latest(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let out = &mut cx.out;
    let events = &cx.srv.latency.events;
    out.array(events.len());
    for (name, e) in events {
        let (t, ms) = e.samples.back().copied().unwrap_or_default();
        out.array(4);
        out.bulk(name.as_bytes());
        out.int(t as i64);
        out.int(ms as i64);
        out.int(e.max as i64);
    }
    Ok(())
}

/// # Format
/// `LATENCY HISTORY event` — (time, ms) pairs, oldest first; empty for an
/// unknown event.
fn history(cx: &mut Ctx, args: &Args) -> CmdResult {
    let samples: Vec<(u64, u64)> =
        cx.srv.latency.get(args.get(2)).map(|e| e.samples.iter().copied().collect()).unwrap_or_default();
    cx.out.array(samples.len());
    for (t, ms) in samples {
        cx.out.array(2);
        cx.out.int(t as i64);
        cx.out.int(ms as i64);
    }
    Ok(())
}

/// # Format
/// `LATENCY RESET [event ...]` — the number of events reset (all of them
/// when none is named).
fn reset(cx: &mut Ctx, args: &Args) -> CmdResult {
    let monitor = &mut cx.srv.latency;
    let n = if args.len() == 2 {
        std::mem::take(&mut monitor.events).len()
    } else {
        args.from(2).filter(|e| monitor.reset(e)).count()
    };
    cx.out.int(n as i64);
    Ok(())
}

/// Average, mean deviation and period (seconds between samples) of an
/// event's samples.
fn analyse(e: &Event) -> (u64, u64, f64) {
    let n = e.samples.len().max(1) as u64;
    let avg = e.samples.iter().map(|s| s.1).sum::<u64>() / n;
    let mad = e.samples.iter().map(|s| s.1.abs_diff(avg)).sum::<u64>() / n;
    let span = match (e.samples.front(), e.samples.back()) {
        (Some(a), Some(b)) => b.0 - a.0,
        _ => 0,
    };
    (avg, mad, span as f64 / n as f64)
}

/// Columns of a latency graph (`LATENCY_GRAPH_COLS`).
const GRAPH_COLS: usize = 80;

/// One sample of a sparkline: its value and its label.
struct Sample {
    value: f64,
    label: Option<String>,
}

/// Redis's `sparklineRenderRange` with `SPARKLINE_FILL`: `rows` rows of
/// `_o#` (and `|` below the top of a column) for the samples
/// `offset..offset + len`, scaled between the sequence's `min` and `max`,
/// then, when any sample has a label, a blank line and the labels written
/// downwards, one character per row.
fn sparkline_range(out: &mut String, seq: &[Sample], min: f64, max: f64, rows: usize, offset: usize, len: usize) {
    const CHARSET_FILL: &[u8] = b"_o#";
    let charset_len = CHARSET_FILL.len() as i64;
    let labels = seq.iter().any(|s| s.label.is_some());
    let relmax = if max - min == 0.0 { 1.0 } else { max - min };
    let steps = charset_len * rows as i64;
    let mut row = 0usize;
    loop {
        let mut more = false;
        let mut chars = vec![b' '; len];
        for (j, c) in chars.iter_mut().enumerate() {
            let s = &seq[j + offset];
            let relval = s.value - min;
            // C: `(int) (relval*steps)/relmax`, the cast before the division.
            let mut step = (((relval * steps as f64) as i32) as f64 / relmax) as i64;
            step = step.clamp(0, steps - 1);
            if row < rows {
                let charidx = step - (rows - row - 1) as i64 * charset_len;
                more = true;
                if (0..charset_len).contains(&charidx) {
                    *c = CHARSET_FILL[charidx as usize];
                } else if charidx >= charset_len {
                    *c = b'|';
                }
            } else {
                // One blank row between the graph and the labels.
                if labels && row - rows < 1 {
                    more = true;
                    break;
                }
                if let Some(label) = &s.label {
                    let at = row - rows - 1;
                    if let Some(&b) = label.as_bytes().get(at) {
                        more = true;
                        *c = b;
                    }
                }
            }
        }
        if !more {
            return;
        }
        row += 1;
        out.push_str(&String::from_utf8_lossy(&chars));
        out.push('\n');
    }
}

/// `LATENCY GRAPH`'s text (`latencyCommandGenSparkeline`): a header with
/// the highest and lowest samples and the all-time maximum, a rule, and
/// the samples as a 4-row sparkline labelled with their age, 80 columns
/// per block.
fn graph_text(name: &str, e: &Event, now_s: u64) -> String {
    let seq: Vec<Sample> = e
        .samples
        .iter()
        .map(|&(t, ms)| {
            let elapsed = now_s as i64 - t as i64;
            let label = match elapsed {
                e if e < 60 => format!("{e}s"),
                e if e < 3600 => format!("{}m", e / 60),
                e if e < 3600 * 24 => format!("{}h", e / 3600),
                e => format!("{}d", e / (3600 * 24)),
            };
            Sample { value: ms as f64, label: Some(label) }
        })
        .collect();
    let high = e.samples.iter().map(|s| s.1).max().unwrap_or(0);
    let low = e.samples.iter().map(|s| s.1).min().unwrap_or(0);
    let mut out = format!("{name} - high {high} ms, low {low} ms (all time high {} ms)\n", e.max);
    out.push_str(&"-".repeat(GRAPH_COLS));
    out.push('\n');
    let (min, max) = (low as f64, high as f64);
    let mut j = 0;
    while j < seq.len() {
        let len = (seq.len() - j).min(GRAPH_COLS);
        if j != 0 {
            out.push('\n');
        }
        sparkline_range(&mut out, &seq, min, max, 4, j, len);
        j += GRAPH_COLS;
    }
    out
}

/// # Format
/// `LATENCY GRAPH event` — an ASCII graph of the event's samples.
fn graph(cx: &mut Ctx, args: &Args) -> CmdResult {
    let now_s = cx.now / 1000;
    let Some((name, e)) = cx.srv.latency.events.iter().find(|(n, _)| n.as_bytes() == args.get(2)) else {
        return Err(super::CmdError::msg(format!(
            "ERR No samples available for event '{}'",
            super::lossy(args.get(2))
        )));
    };
    let text = graph_text(name, e, now_s);
    cx.out.verbatim(text.as_bytes());
    Ok(())
}

/// # Format
/// `LATENCY DOCTOR` — Redis's report: no spike, or each event's spikes.
fn doctor(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let events = &cx.srv.latency.events;
    let text = if events.is_empty() {
        "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n".to_string()
    } else {
        let mut t = "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n".to_string();
        for (i, (name, e)) in events.iter().enumerate() {
            let (avg, mad, period) = analyse(e);
            t.push_str(&format!(
                "{}. {name}: {} latency spikes (average {avg}ms, mean deviation {mad}ms, period {period:.2} sec). Worst all time event {}ms.\n",
                i + 1,
                e.samples.len(),
                e.max
            ));
        }
        t.push_str("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
        t
    };
    cx.out.verbatim(text.as_bytes());
    Ok(())
}

/// # Format
/// `LATENCY HISTOGRAM [command ...]` — per command called at least once
/// (a container's subcommands when it is named): its calls and cumulative
/// counts at power-of-two microsecond bounds. A subcommand is named
/// `container|sub`; unknown names are skipped.
fn histogram(cx: &mut Ctx, args: &Args) -> CmdResult {
    let reg = registry();
    let mut ids: Vec<usize> = Vec::new();
    if args.len() == 2 {
        ids.extend(0..reg.entries.len());
    } else {
        for name in args.from(2) {
            let Some(top) = reg.id_by_fullname(name) else { continue };
            if reg.entries[top].cmd.subcommands.is_empty() {
                ids.push(top);
            } else {
                let prefix = format!("{}|", reg.entries[top].cmd.name);
                ids.extend(
                    reg.entries.iter().enumerate().filter(|(_, e)| e.fullname.starts_with(&prefix)).map(|(i, _)| i),
                );
            }
        }
    }
    let stats = &cx.srv.stats.commands;
    let found: Vec<(usize, &crate::server::latency::Histogram)> = ids
        .into_iter()
        .filter_map(|i| stats.get(i).and_then(|s| s.hist.as_deref()).filter(|h| h.total() > 0).map(|h| (i, h)))
        .collect();
    let out = &mut cx.out;
    out.map(found.len());
    for (i, h) in found {
        out.bulk(reg.entries[i].fullname.as_bytes());
        out.map(2);
        out.bulk(b"calls");
        out.int(h.total() as i64);
        out.bulk(b"histogram_usec");
        let buckets = h.cumulative_usec();
        out.map(buckets.len());
        for (usec, count) in buckets {
            out.int(usec as i64);
            out.int(count as i64);
        }
    }
    Ok(())
}

/// # Format
/// `LATENCY HELP`
fn help(cx: &mut Ctx, _args: &Args) -> CmdResult {
    super::server::help(
        &mut cx.out,
        "LATENCY",
        &[
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_graph_is_redis_s_sparkline() {
        // Samples of 5, 21, 10, 42 and 3 ms, 6 to 1 seconds ago: what
        // redis-server 7.0.15 drew for them (DEBUG SLEEP under
        // latency-monitor-threshold 1).
        let e = Event { samples: [(100, 5), (101, 21), (102, 10), (103, 42), (105, 3)].into_iter().collect(), max: 42 };
        let want = "command - high 42 ms, low 3 ms (all time high 42 ms)\n".to_string()
            + &"-".repeat(80)
            + "\n   # \n   | \n # | \n_|#|_\n     \n65431\nsssss\n";
        assert_eq!(graph_text("command", &e, 106), want);
    }

    #[test]
    fn long_series_wrap_at_80_columns_and_old_samples_say_minutes_hours_days() {
        let samples = (0..90u64).map(|i| (1_000_000 + i, i % 7)).collect();
        let e = Event { samples, max: 6 };
        let text = graph_text("x", &e, 1_000_000 + 200_000);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[2].len(), 80, "{text}");
        assert!(lines.contains(&""), "a blank line between blocks: {text}");
        assert!(text.contains("2d\n") || text.lines().any(|l| l.starts_with('2')), "{text}");
    }
}
