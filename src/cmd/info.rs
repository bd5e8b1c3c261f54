//! INFO: the server's state in Redis's exact `field:value` format, section
//! by section, with the fields monitoring tools and redis-cli read.

use super::table::{Command, flag::*, registry, row};
use super::{Args, CmdResult, Ctx};
use crate::server::state::Shared;
use std::fmt::Write as _;

pub static COMMANDS: &[Command] = &[row(
    "info",
    -1,
    LOADING | STALE,
    (0, 0, 0),
    "server",
    "1.0.0",
    "Get information and statistics about the server",
    info,
)
.tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"])
.acl(&["@dangerous"])];

/// Sections printed by `INFO` / `INFO default`.
const DEFAULT: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];
/// Sections printed by `INFO all` / `INFO everything`.
const ALL: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];

/// Redis's `bytesToHuman`: `512B`, `1.50K`, `642.34M`, `1.25G`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [(f64, &str); 5] =
        [(1024.0, "K"), (1048576.0, "M"), (1073741824.0, "G"), (1099511627776.0, "T"), (1125899906842624.0, "P")];
    if n < 1024 {
        return format!("{n}B");
    }
    let v = n as f64;
    for (i, (div, unit)) in UNITS.iter().enumerate() {
        if i + 1 == UNITS.len() || v < UNITS[i + 1].0 {
            return format!("{:.2}{unit}", v / div);
        }
    }
    format!("{n}B")
}

/// CPU seconds (user, system) of this process, from /proc.
fn cpu_times(path: &str) -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string(path) else { return (0.0, 0.0) };
    let Some(after) = stat.rsplit_once(')').map(|(_, rest)| rest) else { return (0.0, 0.0) };
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 100.0;
    (ticks(11), ticks(12))
}

fn section(out: &mut String, srv: &mut Shared, name: &str, now: u64) {
    let w = out;
    match name {
        "server" => {
            let uptime = now.saturating_sub(srv.started_unix_ms) / 1000;
            let _ = write!(
                w,
                "# Server\r\nredis_version:{}\r\nferrokv_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\n\
                 redis_build_id:0\r\nredis_mode:standalone\r\nos:{} {}\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\n\
                 multiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\ngcc_version:0.0.0\r\nprocess_id:{}\r\n\
                 process_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{}\r\n\
                 uptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\nexecutable:{}\r\nconfig_file:{}\r\n\
                 io_threads_active:0\r\n",
                crate::REDIS_VERSION,
                env!("CARGO_PKG_VERSION"),
                std::env::consts::OS,
                std::env::consts::ARCH,
                std::process::id(),
                srv.run_id,
                srv.port,
                now * 1000,
                uptime,
                uptime / 86400,
                srv.hz,
                srv.config.hz,
                (now / 1000) & 0xFF_FFFF,
                std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
                srv.config.config_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
            );
            w.push_str(&srv.shutdown_info(now));
        }
        "clients" => {
            let (mut max_in, mut max_out, mut blocked) = (0, 0, 0);
            for c in srv.clients.iter().flatten() {
                max_in = max_in.max(c.qbuf_cap);
                max_out = max_out.max(c.omem);
                // As Redis: a command held back by CLIENT PAUSE blocks too.
                blocked += (c.blocked.is_some() || c.postponed.is_some()) as usize;
            }
            let _ = write!(
                w,
                "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\n\
                 client_recent_max_input_buffer:{max_in}\r\nclient_recent_max_output_buffer:{max_out}\r\n\
                 blocked_clients:{blocked}\r\ntracking_clients:{}\r\nclients_in_timeout_table:0\r\n",
                srv.connected_clients(),
                srv.config.maxclients,
                srv.tracking.clients,
            );
        }
        "memory" => {
            let b = super::memory::Breakdown::of(srv);
            let (used, peak, rss) = (b.total as u64, b.peak as u64, b.rss as u64);
            let total = srv.system_memory;
            let max = srv.config.maxmemory;
            let ratio = |a: u64, b: u64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
            // One allocator underneath and no allocator statistics of its
            // own: the allocator's figures are the process's (allocated =
            // active = used_memory, resident = RSS), as in MEMORY STATS.
            let over_rss = rss as i64 - used as i64;
            let backlog = srv.repl.backlog.as_ref().map_or(0, |b| b.memory());
            let slaves = srv.replica_clients_mem();
            let _ = write!(
                w,
                "# Memory\r\nused_memory:{used}\r\nused_memory_human:{}\r\nused_memory_rss:{rss}\r\n\
                 used_memory_rss_human:{}\r\nused_memory_peak:{peak}\r\nused_memory_peak_human:{}\r\n\
                 used_memory_peak_perc:{:.2}%\r\nused_memory_overhead:{}\r\nused_memory_startup:{}\r\n\
                 used_memory_dataset:{}\r\nused_memory_dataset_perc:{:.2}%\r\nallocator_allocated:{used}\r\n\
                 allocator_active:{used}\r\nallocator_resident:{rss}\r\ntotal_system_memory:{total}\r\n\
                 total_system_memory_human:{}\r\n{}maxmemory:{max}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\n\
                 allocator_frag_ratio:1.00\r\nallocator_frag_bytes:0\r\nallocator_rss_ratio:{:.2}\r\n\
                 allocator_rss_bytes:{over_rss}\r\nrss_overhead_ratio:1.00\r\nrss_overhead_bytes:0\r\n\
                 mem_fragmentation_ratio:{:.2}\r\nmem_fragmentation_bytes:{over_rss}\r\n\
                 mem_not_counted_for_evict:{}\r\nmem_replication_backlog:{backlog}\r\n\
                 mem_total_replication_buffers:{}\r\nmem_clients_slaves:{slaves}\r\nmem_clients_normal:{}\r\nmem_cluster_links:0\r\nmem_aof_buffer:{}\r\n\
                 mem_allocator:{}\r\nactive_defrag_running:0\r\nlazyfree_pending_objects:{}\r\nlazyfreed_objects:{}\r\n",
                human_bytes(used),
                human_bytes(rss),
                human_bytes(peak),
                ratio(used * 100, peak),
                b.overhead(),
                b.startup,
                b.dataset(),
                b.dataset_perc(),
                human_bytes(total),
                crate::script::info_memory(human_bytes),
                human_bytes(max),
                srv.config.maxmemory_policy.name(),
                ratio(rss, used),
                ratio(rss, used),
                b.total.saturating_sub(srv.used_for_maxmemory()),
                backlog + srv.replica_buffers(),
                srv.clients_mem - slaves.min(srv.clients_mem),
                srv.aof_buffer_bytes(),
                crate::alloc::NAME,
                srv.lazy.pending(),
                srv.lazy.freed(),
            );
        }
        "persistence" => {
            let p = &srv.persist;
            let now_s = crate::server::unix_ms() / 1000;
            // An AOF rewrite's base counts among the keys processed, not
            // as a BGSAVE.
            let (saving, keys, current) = match p.snapshot.as_deref() {
                Some(snap) if !p.aof_snapshot => (1, snap.keys, (now_s.saturating_sub(snap.started_ms / 1000)) as i64),
                Some(snap) => (0, snap.keys, -1),
                None => (0, 0, -1),
            };
            let total_keys: usize = if p.snapshot.is_some() { srv.dbs.iter().map(|d| d.len()).sum() } else { 0 };
            let _ = write!(
                w,
                "# Persistence\r\nloading:{}\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\n\
                 current_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:{keys}\r\n\
                 current_save_keys_total:{total_keys}\r\nrdb_changes_since_last_save:{}\r\n\
                 rdb_bgsave_in_progress:{saving}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\n\
                 rdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{current}\r\nrdb_saves:{}\r\n\
                 rdb_last_cow_size:0\r\nrdb_last_load_keys_expired:{}\r\nrdb_last_load_keys_loaded:{}\r\n\
                 {}module_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n{}",
                srv.loading() as u8,
                srv.stats.dirty,
                p.lastsave,
                if p.last_bgsave_ok { "ok" } else { "err" },
                p.last_bgsave_secs,
                p.saves,
                p.last_load.1,
                p.last_load.0,
                srv.aof_info(false),
                srv.aof_info(true),
            );
            let progress = match (p.loading.as_ref(), srv.aof.loading.as_ref()) {
                (Some((loader, started)), _) => Some((loader.progress(), started)),
                (None, Some(load)) => Some((load.progress(), &load.started)),
                _ => None,
            };
            if let Some(((done, total), started)) = progress {
                let elapsed = started.elapsed().as_secs_f64();
                let perc = if total == 0 { 0.0 } else { done as f64 * 100.0 / total as f64 };
                let eta = if done == 0 { 1 } else { ((total - done) as f64 * elapsed / done as f64) as u64 };
                let _ = write!(
                    w,
                    "loading_start_time:{}\r\nloading_total_bytes:{total}\r\nloading_rdb_used_mem:0\r\n\
                     loading_loaded_bytes:{done}\r\nloading_loaded_perc:{perc:.2}\r\nloading_eta_seconds:{eta}\r\n",
                    now_s.saturating_sub(elapsed as u64),
                );
            }
        }
        "stats" => {
            let (expired, hits, misses): (u64, u64, u64) =
                srv.dbs.iter().fold((0, 0, 0), |(e, h, m), db| (e + db.expired, h + db.hits, m + db.misses));
            let s = &srv.stats;
            let exceeded_now = s.eviction_exceeded_since.map_or(0, |t| t.elapsed().as_micros() as u64);
            // No active defrag nor I/O threads: their counters stay 0, as
            // on a Redis that does not use them.
            let _ = write!(
                w,
                "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\n\
                 instantaneous_ops_per_sec:{}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\n\
                 total_net_repl_input_bytes:0\r\ntotal_net_repl_output_bytes:{}\r\n\
                 instantaneous_input_kbps:{:.2}\r\ninstantaneous_output_kbps:{:.2}\r\n\
                 instantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:{:.2}\r\nrejected_connections:{}\r\n\
                 sync_full:{}\r\nsync_partial_ok:{}\r\nsync_partial_err:{}\r\nexpired_keys:{expired}\r\n\
                 expired_stale_perc:{:.2}\r\nexpired_time_cap_reached_count:{}\r\nexpire_cycle_cpu_milliseconds:{}\r\n\
                 evicted_keys:{}\r\nevicted_clients:{}\r\ntotal_eviction_exceeded_time:{}\r\n\
                 current_eviction_exceeded_time:{}\r\nkeyspace_hits:{hits}\r\nkeyspace_misses:{misses}\r\n\
                 pubsub_channels:{}\r\npubsub_patterns:{}\r\npubsubshard_channels:{}\r\nlatest_fork_usec:0\r\n\
                 total_forks:0\r\nmigrate_cached_sockets:{}\r\nslave_expires_tracked_keys:0\r\n\
                 active_defrag_hits:0\r\nactive_defrag_misses:0\r\nactive_defrag_key_hits:0\r\n\
                 active_defrag_key_misses:0\r\ntotal_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\n\
                 tracking_total_keys:{}\r\ntracking_total_items:{}\r\n\
                 tracking_total_prefixes:{}\r\nunexpected_error_replies:0\r\ntotal_error_replies:{}\r\n\
                 dump_payload_sanitizations:{}\r\ntotal_reads_processed:{}\r\ntotal_writes_processed:{}\r\n\
                 io_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\n\
                 reply_buffer_shrinks:{}\r\nreply_buffer_expands:0\r\n",
                s.connections_received,
                s.commands_processed,
                srv.metrics.rate(0).round() as u64,
                s.net_input_bytes,
                s.net_output_bytes,
                s.net_repl_output_bytes,
                srv.metrics.rate(1) / 1024.0,
                srv.metrics.rate(2) / 1024.0,
                srv.metrics.rate(3) / 1024.0,
                s.rejected_connections,
                srv.repl.sync_full,
                srv.repl.sync_partial_ok,
                srv.repl.sync_partial_err,
                s.expired_stale * 100.0,
                s.expire_time_cap_reached,
                s.expire_cycle_us / 1000,
                s.evicted_keys,
                s.evicted_clients,
                (s.eviction_exceeded_us + exceeded_now) / 1000,
                exceeded_now / 1000,
                srv.pubsub.channels.len(),
                srv.pubsub.patterns.len(),
                srv.pubsub.shard.len(),
                srv.migrate.cached(),
                srv.tracking.total_keys(),
                srv.tracking.total_items(),
                srv.tracking.total_prefixes(),
                s.error_replies,
                crate::persist::codec::SANITIZATIONS.load(std::sync::atomic::Ordering::Relaxed),
                s.reads_processed,
                s.writes_processed,
                s.reply_buffer_shrinks,
            );
        }
        "replication" => w.push_str(&srv.replication_info(crate::server::unix_ms())),
        "cpu" => {
            let (user, sys) = cpu_times("/proc/self/stat");
            let (tuser, tsys) = cpu_times("/proc/thread-self/stat");
            let _ = write!(
                w,
                "# CPU\r\nused_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\nused_cpu_sys_children:0.000000\r\n\
                 used_cpu_user_children:0.000000\r\nused_cpu_sys_main_thread:{tsys:.6}\r\n\
                 used_cpu_user_main_thread:{tuser:.6}\r\n",
            );
        }
        "modules" => w.push_str("# Modules\r\n"),
        "commandstats" => {
            w.push_str("# Commandstats\r\n");
            let reg = registry();
            for (id, st) in srv.stats.commands.iter().enumerate() {
                if st.calls == 0 && st.rejected == 0 && st.failed == 0 {
                    continue;
                }
                let per_call = if st.calls > 0 { st.usec as f64 / st.calls as f64 } else { 0.0 };
                let _ = write!(
                    w,
                    "cmdstat_{}:calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}\r\n",
                    reg.entries[id].fullname, st.calls, st.usec, st.rejected, st.failed
                );
            }
        }
        "errorstats" => {
            w.push_str("# Errorstats\r\n");
            for (code, n) in &srv.stats.errors {
                let _ = write!(w, "errorstat_{code}:count={n}\r\n");
            }
        }
        "latencystats" => {
            w.push_str("# Latencystats\r\n");
            let reg = registry();
            for (id, st) in srv.stats.commands.iter().enumerate() {
                let Some(h) = st.hist.as_deref().filter(|h| h.total() > 0) else { continue };
                let _ = write!(w, "latency_percentiles_usec_{}:", reg.entries[id].fullname);
                for (i, p) in srv.config.latency_tracking_info_percentiles.iter().enumerate() {
                    let sep = if i == 0 { "" } else { "," };
                    let _ = write!(w, "{sep}p{p}={:.3}", h.percentile(*p) as f64 / 1000.0);
                }
                w.push_str("\r\n");
            }
        }
        "cluster" => w.push_str("# Cluster\r\ncluster_enabled:0\r\n"),
        "keyspace" => {
            w.push_str("# Keyspace\r\n");
            for (i, db) in srv.dbs.iter().enumerate() {
                if !db.is_empty() {
                    let _ =
                        write!(w, "db{i}:keys={},expires={},avg_ttl={}\r\n", db.len(), db.volatile_len(), db.avg_ttl);
                }
            }
        }
        _ => {}
    }
}

/// # Format
/// `INFO [section [section ...]]` — `default`, `all`, `everything`, or names.
fn info(cx: &mut Ctx, args: &Args) -> CmdResult {
    let mut wanted: Vec<&str> = Vec::new();
    if args.len() == 1 {
        wanted.extend(DEFAULT);
    }
    for arg in args.from(1) {
        let name = String::from_utf8_lossy(arg).to_ascii_lowercase();
        let names: &[&str] = match name.as_str() {
            "default" => DEFAULT,
            "all" | "everything" => ALL,
            other => match ALL.iter().find(|s| **s == other) {
                Some(s) => std::slice::from_ref(s),
                None => &[],
            },
        };
        for n in names {
            if !wanted.contains(n) {
                wanted.push(n);
            }
        }
    }
    // Print in Redis's order, whatever order they were asked in.
    wanted.sort_by_key(|n| ALL.iter().position(|s| s == n));
    let now = cx.now;
    // Grown as the sections are written, not reserved up front: the
    // memory section measures used_memory with the text so far allocated
    // (as Redis's info string), and 4 KB held ahead of it read as memory
    // over maxmemory right after an eviction.
    let mut text = String::new();
    for (i, name) in wanted.iter().enumerate() {
        if i > 0 {
            text.push_str("\r\n");
        }
        section(&mut text, cx.srv, name, now);
    }
    cx.out.verbatim(text.as_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn human_bytes_like_redis() {
        assert_eq!(human_bytes(200), "200B");
        assert_eq!(human_bytes(32768), "32.00K");
        assert_eq!(human_bytes(673547232), "642.34M");
        assert_eq!(human_bytes(1344591784), "1.25G");
    }
}
