//! MEMORY: per-key memory estimates (MEMORY USAGE, used by
//! `redis-cli --memkeys`), the memory breakdown (STATS) and a short report
//! of memory problems (DOCTOR).

use super::table::{Command, container, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx};
use crate::server::state::Shared;

pub static COMMANDS: &[Command] = &[Command {
    subcommands: MEMORY_SUBCOMMANDS,
    ..row("memory", -2, 0, (0, 0, 0), "server", "4.0.0", "A container for memory diagnostics commands", container)
}];

static MEMORY_SUBCOMMANDS: &[Command] = &[
    row("usage", -3, READONLY, (2, 2, 1), "server", "4.0.0", "Estimate the memory usage of a key", memory_usage)
        .key_flags(&["RO"]),
    row("stats", 2, 0, (0, 0, 0), "server", "4.0.0", "Show memory usage details", memory_stats).tips(&[
        "nondeterministic_output",
        "request_policy:all_shards",
        "response_policy:special",
    ]),
    row("doctor", 2, 0, (0, 0, 0), "server", "4.0.0", "Outputs memory problems report", memory_doctor).tips(&[
        "nondeterministic_output",
        "request_policy:all_shards",
        "response_policy:special",
    ]),
    row("malloc-stats", 2, 0, (0, 0, 0), "server", "4.0.0", "Show allocator internal stats", memory_malloc_stats)
        .tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]),
    row("purge", 2, 0, (0, 0, 0), "server", "4.0.0", "Ask the allocator to release memory", memory_purge)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    row(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "4.0.0",
        "Show helpful text about the different subcommands",
        memory_help,
    ),
];

/// # Format
/// `MEMORY USAGE key [SAMPLES count]` — values are not nested yet, so the
/// estimate is exact for every key and SAMPLES is only validated.
fn memory_usage(cx: &mut Ctx, args: &Args) -> CmdResult {
    match args.len() {
        3 => {}
        5 if args.get(3).eq_ignore_ascii_case(b"samples") => {
            if args.int(4)? < 0 {
                return Err(CmdError::Syntax);
            }
        }
        _ => return Err(CmdError::Syntax),
    }
    match cx.db().memory_usage(args.get(2)) {
        Some(n) => cx.out.int(n as i64),
        None => cx.out.null(),
    }
    Ok(())
}

/// # Format
/// `MEMORY HELP`
fn memory_help(cx: &mut Ctx, _args: &Args) -> CmdResult {
    super::server::help(
        &mut cx.out,
        "MEMORY",
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    );
    Ok(())
}

/// Memory figures shared by MEMORY STATS, MEMORY DOCTOR and INFO memory.
pub struct Breakdown {
    pub peak: usize,
    pub total: usize,
    pub startup: usize,
    clients: usize,
    /// Per database with keys: (index, main table bytes, TTL index bytes).
    tables: Vec<(usize, usize, usize)>,
    keys: usize,
    pub rss: usize,
}

impl Breakdown {
    pub fn of(srv: &mut Shared) -> Breakdown {
        let total = srv.used_memory();
        let per_client = std::mem::size_of::<crate::server::state::Client>() + 512;
        let clients = srv.clients.iter().flatten().map(|c| c.qbuf_cap + c.omem + per_client).sum();
        let tables = srv
            .dbs
            .iter()
            .enumerate()
            .filter(|(_, db)| !db.is_empty())
            .map(|(i, db)| {
                let (main, expires) = db.table_bytes();
                (i, main, expires)
            })
            .collect();
        let keys = srv.dbs.iter().map(|db| db.len()).sum();
        Breakdown { peak: srv.peak_memory, total, startup: srv.startup_memory, clients, tables, keys, rss: srv.rss }
    }

    /// Redis's `overhead_total`: the memory at start, the clients' and
    /// the keyspace tables' (at most the total).
    pub fn overhead(&self) -> usize {
        (self.startup + self.clients + self.tables.iter().map(|(_, m, e)| m + e).sum::<usize>()).min(self.total)
    }

    /// Redis's `dataset`: what is not overhead.
    pub fn dataset(&self) -> usize {
        self.total - self.overhead()
    }

    /// The dataset's share of the memory allocated since start, in percent
    /// (Redis's `dataset_perc`).
    pub fn dataset_perc(&self) -> f64 {
        let net = self.total.saturating_sub(self.startup);
        if net == 0 { 0.0 } else { self.dataset() as f64 * 100.0 / net as f64 }
    }
}

/// # Format
/// `MEMORY STATS` — Redis's fields; those of features ferrokv does not
/// have (replication, AOF, Lua) are 0.
fn memory_stats(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let b = Breakdown::of(cx.srv);
    let (overhead, dataset) = (b.overhead(), b.dataset());
    let net = b.total.saturating_sub(b.startup);
    let pct = |part: usize, whole: usize| if whole == 0 { 0.0 } else { part as f64 * 100.0 / whole as f64 };
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let out = &mut cx.out;
    out.map(27 + b.tables.len());
    let ints: [(&str, usize); 10] = [
        ("peak.allocated", b.peak),
        ("total.allocated", b.total),
        ("startup.allocated", b.startup),
        ("replication.backlog", 0),
        ("clients.slaves", 0),
        ("clients.normal", b.clients),
        ("cluster.links", 0),
        ("aof.buffer", 0),
        ("lua.caches", 0),
        ("functions.caches", 0),
    ];
    for (name, v) in ints {
        out.bulk(name.as_bytes());
        out.int(v as i64);
    }
    for (db, main, expires) in &b.tables {
        out.bulk(format!("db.{db}").as_bytes());
        out.map(3);
        out.bulk(b"overhead.hashtable.main");
        out.int(*main as i64);
        out.bulk(b"overhead.hashtable.expires");
        out.int(*expires as i64);
        out.bulk(b"overhead.hashtable.slot-to-keys");
        out.int(0);
    }
    out.bulk(b"overhead.total");
    out.int(overhead as i64);
    out.bulk(b"keys.count");
    out.int(b.keys as i64);
    out.bulk(b"keys.bytes-per-key");
    out.int(net.checked_div(b.keys).unwrap_or(0) as i64);
    out.bulk(b"dataset.bytes");
    out.int(dataset as i64);
    out.bulk(b"dataset.percentage");
    out.double(b.dataset_perc());
    out.bulk(b"peak.percentage");
    out.double(pct(b.total, b.peak));
    // One allocator underneath: its figures are the process's.
    let allocator: [(&str, usize); 3] =
        [("allocator.allocated", b.total), ("allocator.active", b.total), ("allocator.resident", b.rss)];
    for (name, v) in allocator {
        out.bulk(name.as_bytes());
        out.int(v as i64);
    }
    let over_rss = b.rss as i64 - b.total as i64;
    let frag: [(&str, f64, &str, i64); 4] = [
        ("allocator-fragmentation.ratio", 1.0, "allocator-fragmentation.bytes", 0),
        ("allocator-rss.ratio", ratio(b.rss, b.total), "allocator-rss.bytes", over_rss),
        ("rss-overhead.ratio", 1.0, "rss-overhead.bytes", 0),
        ("fragmentation", ratio(b.rss, b.total), "fragmentation.bytes", over_rss),
    ];
    for (ratio_name, r, bytes_name, bytes) in frag {
        out.bulk(ratio_name.as_bytes());
        out.double(r);
        out.bulk(bytes_name.as_bytes());
        out.int(bytes);
    }
    Ok(())
}

/// # Format
/// `MEMORY DOCTOR` — Redis's report texts for the checks that apply:
/// too little data to judge, a past peak, high RSS overhead, big client
/// buffers.
fn memory_doctor(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let b = Breakdown::of(cx.srv);
    let connected = cx.srv.connected_clients().max(1);
    let text = if b.total < 5 << 20 {
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.".to_string()
    } else {
        let mut issues = String::new();
        if b.peak as f64 / b.total as f64 > 1.5 {
            issues.push_str(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n");
        }
        if b.rss as f64 / b.total as f64 > 1.4 && b.rss - b.total > 10 << 20 {
            issues.push_str(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"");
            issues.push_str(crate::alloc::NAME);
            issues.push_str("\".\n\n");
        }
        if b.clients / connected > 200 * 1024 {
            issues.push_str(" * Big client buffers: The clients output buffers are in general greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n");
        }
        if issues.is_empty() {
            "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base."
                .to_string()
        } else {
            format!(
                "Sam, I detected a few issues in this Redis instance memory implants:\n\n{issues}I'm here to keep you safe, Sam. I want to help you.\n"
            )
        }
    };
    cx.out.verbatim(text.as_bytes());
    Ok(())
}

/// # Format
/// `MEMORY MALLOC-STATS` — the system allocator keeps no report to give.
fn memory_malloc_stats(cx: &mut Ctx, _args: &Args) -> CmdResult {
    cx.out.bulk(b"Stats not supported for the current allocator");
    Ok(())
}

/// # Format
/// `MEMORY PURGE` — gives the allocator's free pages back to the system
/// (glibc's `malloc_trim`, see `alloc::purge`).
fn memory_purge(cx: &mut Ctx, _args: &Args) -> CmdResult {
    crate::alloc::purge();
    cx.out.ok();
    Ok(())
}
