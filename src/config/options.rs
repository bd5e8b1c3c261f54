//! The one configuration table: every parameter Redis 7.0.15 knows (the
//! 192 names `CONFIG GET *` lists, aliases included, plus the hidden ones
//! its test suite sets by name), with Redis's type, bounds, default and
//! mutability, and what the parameter does in ferrokv.
//!
//! Options ferrokv acts on read and write a typed field of [`Config`]; the
//! others keep their checked value in `Config::extra` so that `CONFIG GET`
//! shows what was set and `CONFIG REWRITE` writes it back. The README's
//! configuration table is generated from these rows (`--config-md`).

use super::kind::{INT_MAX, INT_MIN, Kind, LONG_MAX, UINT_MAX, ULLONG_MAX, enum_error, is_base_name, yes};
use super::{ConfigOption, LogLevel, State, flag::*, opt};
use crate::store::evict::Policy;

const fn int(min: i128, max: i128, default: i64) -> Kind {
    Kind::Int { min, max, default }
}
const fn mem(min: i128, max: i128, default: u64) -> Kind {
    Kind::Mem { min, max, default }
}
const fn boolean(default: bool) -> Kind {
    Kind::Bool(default)
}
const fn string(default: &'static str) -> Kind {
    Kind::Str { default, check: None }
}
const fn one_of(names: &'static [&'static str], default: &'static str) -> Kind {
    Kind::Enum { names, default }
}

/// ferrokv is a replication primary (`server::replication`), not yet a replica.
const REPL: &str = "the replica side of replication";
const CLUSTER: &str = "cluster mode";
const TLS: &str = "TLS";
const DEFRAG: &str = "ferrokv has no active defragmentation (Rust allocations are not moved)";

const FACILITIES: &[&str] = &["user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"];
const SUPERVISED: &[&str] = &["upstart", "systemd", "auto", "no"];
const OOM_ADJ: &[&str] = &["no", "yes", "relative", "absolute"];
const PROTECTED_ACTION: &[&str] = &["no", "yes", "local"];
const SHUTDOWN_FLAGS: &[&str] = &["default", "save", "nosave", "now", "force"];

fn valid_dbfilename(v: &str) -> Result<(), &'static str> {
    if is_base_name(v) { Ok(()) } else { Err("dbfilename can't be a path, just a filename") }
}
fn valid_appendfilename(v: &str) -> Result<(), &'static str> {
    match v {
        "" => Err("appendfilename can't be empty"),
        v if !is_base_name(v) => Err("appendfilename can't be a path, just a filename"),
        _ => Ok(()),
    }
}
fn valid_appenddirname(v: &str) -> Result<(), &'static str> {
    match v {
        "" => Err("appenddirname can't be empty"),
        v if !is_base_name(v) => Err("appenddirname can't be a path, just a dirname"),
        _ => Ok(()),
    }
}
fn valid_hostname(v: &str) -> Result<(), &'static str> {
    if v.len() >= 256 {
        return Err("Hostnames must be less than 256 characters");
    }
    if !v.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.') {
        return Err("Hostnames may only contain alphanumeric characters, hyphens or dots");
    }
    Ok(())
}
fn valid_title(v: &str) -> Result<(), &'static str> {
    crate::proctitle::validate(v).then_some(()).ok_or("template format is invalid or contains unknown variables")
}

/// A bool field's getter and setter.
macro_rules! bool_field {
    ($f:ident) => {
        (|c, _| yes(c.$f).into(), |c, o, v| o.bool(v).map(|b| c.$f = b))
    };
}
/// An integer field's getter and setter (bounds from the row's kind).
macro_rules! int_field {
    ($f:ident, $t:ty) => {
        (|c, _| c.$f.to_string(), |c, o, v| o.int(v).map(|n| c.$f = n as $t))
    };
}
/// A string field's getter and setter (checks from the row's kind).
macro_rules! str_field {
    ($f:ident) => {
        (|c, _| c.$f.clone(), |c, o, v| o.string(v).map(|s| c.$f = s))
    };
}

macro_rules! rows {
    ($($row:expr,)*) => { &[$($row,)*] };
}

pub static OPTIONS: &[ConfigOption] = rows![
    // --- Network and clients ---
    opt("port", int(0, 65535, 6379), 0, State::Works, "TCP port (0 = no TCP, e.g. with `unixsocket`); CONFIG SET rebinds")
        .with(int_field!(port, u16)),
    opt("bind", Kind::Special("127.0.0.1"), MULTI_ARG, State::Works,
        "addresses to listen on (`*` = all IPv4, `::*` = all IPv6, `-` prefix = skip if unavailable); CONFIG SET rebinds. Redis's default is `* -::*`")
        .with((|c, _| c.bind.join(" "), |c, _, v| {
            let addrs: Vec<String> = v.split_whitespace().map(String::from).collect();
            if addrs.len() > 16 {
                return Err("Too many bind addresses specified.".into());
            }
            c.bind = addrs;
            Ok(())
        })),
    opt("unixsocket", string(""), IMMUTABLE, State::Works, "path of a Unix socket to listen on as well")
        .with(str_field!(unixsocket)),
    opt("unixsocketperm", Kind::Octal { min: 0, max: 0o777, default: 0 }, IMMUTABLE, State::Works,
        "permissions of the Unix socket (octal; 0 = as the umask leaves them)")
        .with((|c, _| format!("{:o}", c.unixsocketperm), |c, o, v| o.int(v).map(|n| c.unixsocketperm = n as u32))),
    opt("tcp-backlog", int(0, INT_MAX, 511), IMMUTABLE, State::Works, "listen(2) backlog of the TCP sockets")
        .with(int_field!(tcp_backlog, i32)),
    opt("socket-mark-id", int(0, UINT_MAX, 0), IMMUTABLE, State::Works, "SO_MARK of the listening sockets (needs CAP_NET_ADMIN)")
        .with(int_field!(socket_mark_id, u32)),
    opt("protected-mode", boolean(true), 0, State::Works,
        "refuse clients not on loopback or a Unix socket while the default user has no password")
        .with(bool_field!(protected_mode)),
    opt("timeout", int(0, INT_MAX, 0), 0, State::Works, "close clients idle this many seconds (0 = never)")
        .with(int_field!(timeout, u64)),
    opt("tcp-keepalive", int(0, INT_MAX, 300), 0, State::Works, "TCP keepalive time in seconds (0 = off)")
        .with(int_field!(tcp_keepalive, u64)),
    opt("maxclients", int(1, UINT_MAX, 10000), 0, State::Works, "more connections get `-ERR max number of clients reached`; lowered to the open-files limit minus 32 when `ulimit -n` is too low, as Redis")
        .with(int_field!(maxclients, usize)),
    opt("proto-max-bulk-len", mem(1024 * 1024, LONG_MAX, 512 << 20), 0, State::Works, "largest bulk string in a request")
        .with((|c, _| c.proto_max_bulk_len.to_string(), |c, o, v| o.uint(v).map(|n| c.proto_max_bulk_len = n))),
    opt("client-query-buffer-limit", mem(1024 * 1024, LONG_MAX, 1 << 30), 0, State::Works,
        "unparsed input a client may accumulate")
        .with((|c, _| c.client_query_buffer_limit.to_string(), |c, o, v| o.uint(v).map(|n| c.client_query_buffer_limit = n))),
    opt("client-output-buffer-limit", Kind::Special("normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"),
        MULTI_ARG, State::Works, "hard, soft limit and seconds per client class (normal, replica, pubsub)")
        .with((|c, _| {
            let [n, p, r] = c.output_limits;
            format!("normal {} {} {} slave {} {} {} pubsub {} {} {}", n.0, n.1, n.2, r.0, r.1, r.2, p.0, p.1, p.2)
        }, |c, _, v| {
            let words: Vec<&str> = v.split_whitespace().collect();
            if !words.len().is_multiple_of(4) {
                return Err("Wrong number of arguments in buffer limit configuration.".into());
            }
            let mut limits = c.output_limits;
            for w in words.chunks(4) {
                let class = match w[0].to_ascii_lowercase().as_str() {
                    "normal" => 0,
                    "pubsub" => 1,
                    "replica" | "slave" => 2,
                    _ => return Err("Invalid client class specified in buffer limit configuration.".into()),
                };
                let bad = || "Error in hard, soft or soft_seconds setting in buffer limit configuration.".to_string();
                let hard = super::kind::parse_memory(w[1]).ok_or_else(bad)?;
                let soft = super::kind::parse_memory(w[2]).ok_or_else(bad)?;
                let secs = w[3].parse::<u64>().map_err(|_| bad())?;
                limits[class] = (hard, soft, secs);
            }
            c.output_limits = limits;
            Ok(())
        })),
    opt("maxmemory-clients", Kind::MemPercent { min: -100, max: LONG_MAX, default: 0 }, 0, State::Works,
        "memory all clients together may use (bytes or % of maxmemory) before the biggest are closed")
        .with((|c, _| crate::config::kind::percent_text(c.maxmemory_clients), |c, o, v| o.int(v).map(|n| c.maxmemory_clients = n))),
    opt("tracking-table-max-keys", int(0, LONG_MAX, 1_000_000), 0, State::Works,
        "keys the client-side caching table remembers (0 = no limit); past it, keys are invalidated")
        .with(int_field!(tracking_table_max_keys, u64)),

    // --- Process ---
    opt("daemonize", boolean(false), IMMUTABLE, State::Works, "detach from the terminal and run in the background")
        .with(bool_field!(daemonize)),
    opt("supervised", one_of(SUPERVISED, "no"), IMMUTABLE, State::Works,
        "tell systemd (sd_notify READY=1, STATUS=) or upstart (SIGSTOP) when ready; `auto` detects systemd")
        .with((|c, _| c.supervised.into(), |c, o, v| o.pick(v).map(|s| c.supervised = s))),
    opt("pidfile", string(""), IMMUTABLE, State::Works,
        "write the pid here at start, remove it at exit (daemonized without one: /var/run/redis.pid, as Redis)")
        .with(str_field!(pidfile)),
    opt("dir", Kind::Special(""), PROTECTED | DENY_LOADING, State::Works,
        "working directory (must exist; files such as snapshots go here); CONFIG SET needs enable-protected-configs")
        .with((|c, _| super::get_dir(c), |c, _, v| super::set_dir(c, v))),
    opt("databases", int(1, INT_MAX, 16), IMMUTABLE, State::Works, "number of databases for SELECT")
        .with(int_field!(databases, usize)),
    opt("hz", int(0, INT_MAX, 10), 0, State::Works, "cron frequency (active expiry, timeouts), clamped to 1..500")
        .with((|c, _| c.hz.to_string(), |c, o, v| o.int(v).map(|n| c.hz = n.clamp(1, 500) as u32))),
    opt("dynamic-hz", boolean(true), 0, State::Works, "raise the cron frequency with the number of clients, as Redis")
        .with(bool_field!(dynamic_hz)),
    opt("active-expire-effort", int(1, 10, 1), 0, State::Works, "how hard active expiry works per cycle (1..10, Redis's scale)")
        .with(int_field!(active_expire_effort, u32)),
    opt("always-show-logo", boolean(false), IMMUTABLE, State::Works, "print the startup banner even when logging to a file")
        .with(bool_field!(always_show_logo)),
    opt("set-proc-title", boolean(true), IMMUTABLE, State::Works,
        "set the process title from proc-title-template: the command line (ps aux, /proc/PID/cmdline) as Redis rewrites it, and the 15-byte thread name (ps -o comm, top)")
        .with(bool_field!(set_proc_title)),
    opt("proc-title-template", Kind::Str { default: "{title} {listen-addr} {server-mode}", check: Some(valid_title) }, 0,
        State::Works, "process title (CONFIG SET applies it at once); variables {title} {listen-addr} {server-mode} {port} {tls-port} {unixsocket} {config-file}")
        .with(str_field!(proc_title_template)),
    opt("oom-score-adj", one_of(OOM_ADJ, "no"), 0, State::Works, "write /proc/self/oom_score_adj from oom-score-adj-values")
        .with((|c, _| c.oom_score_adj.into(), |c, o, v| o.pick(v).map(|s| c.oom_score_adj = s))),
    opt("oom-score-adj-values", Kind::Special("0 200 800"), MULTI_ARG, State::Works,
        "oom_score_adj for the primary, a replica and a background child (ferrokv uses the first)")
        .with((|c, _| c.oom_score_adj_values.map(|v| v.to_string()).join(" "), |c, _, v| {
            let words: Vec<&str> = v.split(' ').collect();
            if words.len() != 3 {
                return Err("wrong number of arguments".into());
            }
            let mut values = [0i32; 3];
            for (slot, w) in values.iter_mut().zip(&words) {
                *slot = w.parse::<i32>().ok().filter(|n| (-2000..=2000).contains(n))
                    .ok_or("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")?;
            }
            c.oom_score_adj_values = values;
            Ok(())
        })),
    opt("disable-thp", boolean(true), IMMUTABLE, State::Works, "turn transparent huge pages off for the process (prctl)")
        .with(bool_field!(disable_thp)),
    opt("server_cpulist", string(""), IMMUTABLE, State::Works, "CPUs the event loop runs on (`0,2-3`, `0-7:2`)")
        .with(str_field!(server_cpulist)),
    opt("bio_cpulist", string(""), IMMUTABLE, State::Works, "CPUs the helper threads (lazy free, AOF write and fsync) run on")
        .with(str_field!(bio_cpulist)),
    opt("aof_rewrite_cpulist", string(""), IMMUTABLE, State::Inert("nothing forks: AOF rewrites run in the loop"),
        "CPUs of the AOF rewrite child"),
    opt("bgsave_cpulist", string(""), IMMUTABLE, State::Inert("nothing forks: snapshots will be taken in the loop"),
        "CPUs of the BGSAVE child"),
    opt("io-threads", int(1, 128, 1), IMMUTABLE, State::Inert("one thread by design: the loop already outruns the network"),
        "I/O threads"),
    opt("io-threads-do-reads", boolean(false), IMMUTABLE, State::Inert("one thread by design"), "reads on the I/O threads too"),
    opt("jemalloc-bg-thread", boolean(true), 0, State::Inert("ferrokv uses the system allocator, not jemalloc"),
        "jemalloc's purging thread"),
    opt("activedefrag", boolean(false), 0, State::Inert(DEFRAG), "active defragmentation (`yes` is refused, as by a Redis without its jemalloc)")
        .with((|c, o| c.stored(o), |c, o, v| {
            if o.bool(v)? {
                return Err("Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution".into());
            }
            c.store(o, v)
        })),
    opt("active-defrag-ignore-bytes", mem(1, LONG_MAX, 100 << 20), 0, State::Inert(DEFRAG), "defragmentation threshold"),
    opt("active-defrag-threshold-lower", int(0, 1000, 10), 0, State::Inert(DEFRAG), "defragmentation threshold"),
    opt("active-defrag-threshold-upper", int(0, 1000, 100), 0, State::Inert(DEFRAG), "defragmentation threshold"),
    opt("active-defrag-cycle-min", int(1, 99, 1), 0, State::Inert(DEFRAG), "defragmentation CPU share"),
    opt("active-defrag-cycle-max", int(1, 99, 25), 0, State::Inert(DEFRAG), "defragmentation CPU share"),
    opt("active-defrag-max-scan-fields", int(1, LONG_MAX, 1000), 0, State::Inert(DEFRAG), "defragmentation batch"),
    opt("activerehashing", boolean(true), 0,
        State::Inert("tables grow in 16 parts at a time instead of rehashing incrementally (README)"), "incremental rehashing in the cron"),
    opt("ignore-warnings", string(""), 0, State::Inert("ferrokv checks for no kernel bugs to warn about"), "startup warnings to silence"),
    opt("crash-log-enabled", boolean(true), 0, State::Works, "log Redis's bug report (the panic or the signal, and a stack trace) when the server panics or crashes by SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT")
        .with(bool_field!(crash_log_enabled)),
    opt("crash-memcheck-enabled", boolean(true), 0, State::Inert("no memory test after a crash: a panic is not memory corruption"),
        "memory test after a crash"),
    opt("use-exit-on-panic", boolean(false), HIDDEN, State::Inert("a panic always exits"), "exit() instead of abort() on a crash"),
    opt("watchdog-period", int(0, INT_MAX, 0), HIDDEN, State::Works,
        "ms the loop may go without its cron before SIGALRM logs a stack trace of where it is (0: off; at least two cron ticks)")
        .with(int_field!(watchdog_period, u64)),
    opt("shutdown-on-sigint", Kind::Special("default"), MULTI_ARG, State::Works,
        "what SIGINT does: `default` (save if save points are set), or `save`, `nosave`, `now`, `force`")
        .with((|c, _| c.shutdown_on_sigint.clone(), |c, _, v| super::shutdown_flags(v).map(|s| c.shutdown_on_sigint = s))),
    opt("shutdown-on-sigterm", Kind::Special("default"), MULTI_ARG, State::Works, "what SIGTERM does, as shutdown-on-sigint")
        .with((|c, _| c.shutdown_on_sigterm.clone(), |c, _, v| super::shutdown_flags(v).map(|s| c.shutdown_on_sigterm = s))),
    opt("shutdown-timeout", int(0, INT_MAX, 10), 0, State::Works,
        "seconds SHUTDOWN (and SIGTERM/SIGINT) waits, writes paused, for replicas to catch up")
        .with(int_field!(shutdown_timeout, u64)),
    opt("enable-protected-configs", one_of(PROTECTED_ACTION, "no"), IMMUTABLE, State::Works,
        "allow CONFIG SET of `dir` and `dbfilename`: `yes`, or `local` for loopback clients")
        .with((|c, _| c.enable_protected_configs.into(), |c, o, v| o.pick(v).map(|s| c.enable_protected_configs = s))),
    opt("enable-debug-command", one_of(PROTECTED_ACTION, "no"), IMMUTABLE, State::Works, "allow DEBUG: `yes`, or `local` for loopback clients")
        .with((|c, _| c.enable_debug_command.clone(), |c, o, v| o.pick(v).map(|s| c.enable_debug_command = s.into()))),
    opt("enable-module-command", one_of(PROTECTED_ACTION, "no"), IMMUTABLE,
        State::Partly("allows MODULE LOAD/LOADEX/UNLOAD, which then find no module: ferrokv loads none"),
        "allow MODULE: `yes`, or `local` for loopback clients"),

    // --- Logging ---
    opt("loglevel", one_of(&["debug", "verbose", "notice", "warning"], "notice"), 0, State::Works, "debug, verbose, notice, warning")
        .with((|c, _| c.loglevel.name().into(), |c, o, v| {
            let l = LogLevel::from_name(o.pick(v)?);
            c.loglevel = l;
            Ok(())
        })),
    opt("logfile", string(""), IMMUTABLE, State::Works, "log file (empty = standard output)")
        .with(str_field!(logfile)),
    opt("syslog-enabled", boolean(false), IMMUTABLE, State::Works, "also send log lines to syslog")
        .with(bool_field!(syslog_enabled)),
    opt("syslog-ident", string("redis"), IMMUTABLE, State::Works, "syslog identity").with(str_field!(syslog_ident)),
    opt("syslog-facility", one_of(FACILITIES, "local0"), IMMUTABLE, State::Works, "syslog facility")
        .with((|c, _| c.syslog_facility.into(), |c, o, v| o.pick(v).map(|s| c.syslog_facility = s))),
    opt("slowlog-log-slower-than", int(-1, LONG_MAX, 10000), 0, State::Works, "SLOWLOG threshold in µs (-1 = off)")
        .with(int_field!(slowlog_log_slower_than, i64)),
    opt("slowlog-max-len", int(0, LONG_MAX, 128), 0, State::Works, "SLOWLOG length").with(int_field!(slowlog_max_len, usize)),
    opt("latency-monitor-threshold", int(0, LONG_MAX, 0), 0, State::Works, "LATENCY events for anything taking at least this many ms (0 = off)")
        .with(int_field!(latency_monitor_threshold, u64)),
    opt("latency-tracking", boolean(true), 0, State::Works, "per-command latency histograms for INFO latencystats")
        .with(bool_field!(latency_tracking)),
    opt("latency-tracking-info-percentiles", Kind::Special("50 99 99.9"), MULTI_ARG, State::Works, "percentiles INFO latencystats shows")
        .with((|c, _| c.latency_tracking_info_percentiles.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(" "), |c, _, v| {
            let mut ps = Vec::new();
            for word in v.split_whitespace() {
                let p: f64 = word.parse().map_err(|_| "Invalid latency-tracking-info-percentiles parameters")?;
                if !(0.0..=100.0).contains(&p) {
                    return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
                }
                ps.push(p);
            }
            c.latency_tracking_info_percentiles = ps;
            Ok(())
        })),
    opt("notify-keyspace-events", Kind::Special(""), 0, State::Works, "keyspace notification classes (`KEA` = all)")
        .with((|c, _| crate::server::notify::format(c.notify_keyspace_events), |c, _, v| {
            crate::server::notify::parse(v).map(|f| c.notify_keyspace_events = f)
        })),

    // --- Memory and eviction ---
    opt("maxmemory", mem(0, ULLONG_MAX, 0), 0, State::Works, "memory limit (0 = none); over it, keys are evicted by the policy")
        .with((|c, _| c.maxmemory.to_string(), |c, o, v| o.uint(v).map(|n| c.maxmemory = n))),
    opt("maxmemory-policy", one_of(&["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru",
        "allkeys-lfu", "allkeys-random", "noeviction"], "noeviction"), 0, State::Works,
        "`noeviction`, `allkeys-lru`, `allkeys-lfu`, `allkeys-random`, `volatile-lru`, `volatile-lfu`, `volatile-random`, `volatile-ttl`")
        .with((|c, _| c.maxmemory_policy.name().into(), |c, o, v| {
            let name = o.pick(v)?;
            c.maxmemory_policy = Policy::parse(name).ok_or_else(|| enum_error(&[name]))?;
            Ok(())
        })),
    opt("maxmemory-samples", int(1, INT_MAX, 5), 0, State::Works, "keys sampled per eviction round")
        .with(int_field!(maxmemory_samples, u32)),
    opt("maxmemory-eviction-tenacity", int(0, 100, 10), 0, State::Works, "time slice of an eviction pass (Redis's scale)")
        .with(int_field!(maxmemory_eviction_tenacity, u32)),
    opt("lfu-log-factor", int(0, INT_MAX, 10), 0, State::Works, "LFU counter growth").with(int_field!(lfu_log_factor, u32)),
    opt("lfu-decay-time", int(0, INT_MAX, 1), 0, State::Works, "LFU counter decay (minutes)").with(int_field!(lfu_decay_time, u32)),
    opt("lazyfree-lazy-eviction", boolean(false), 0, State::Partly("default **yes** in ferrokv: evicting a big value inline is a pause"),
        "free evicted values of more than 64 elements on the lazy-free thread")
        .with(bool_field!(lazyfree_lazy_eviction)),
    opt("lazyfree-lazy-expire", boolean(false), 0, State::Partly("accepted; expired values are freed inline"), "free expired values aside")
        .with(bool_field!(lazyfree_lazy_expire)),
    opt("lazyfree-lazy-server-del", boolean(false), 0, State::Partly("accepted; overwritten values are freed inline"),
        "free values deleted implicitly aside")
        .with(bool_field!(lazyfree_lazy_server_del)),
    opt("lazyfree-lazy-user-del", boolean(false), 0, State::Works, "DEL acts as UNLINK").with(bool_field!(lazyfree_lazy_user_del)),
    opt("lazyfree-lazy-user-flush", boolean(false), 0, State::Works, "FLUSHALL/FLUSHDB without a mode act as ASYNC")
        .with(bool_field!(lazyfree_lazy_user_flush)),

    // --- Encodings ---
    opt("hash-max-listpack-entries", int(0, LONG_MAX, 512), 0, State::Works, "compact hash limit (entries)")
        .alias("hash-max-ziplist-entries").with(int_field!(hash_max_listpack_entries, usize)),
    opt("hash-max-listpack-value", mem(0, LONG_MAX, 64), 0, State::Works, "compact hash limit (bytes per value)")
        .alias("hash-max-ziplist-value").with(int_field!(hash_max_listpack_value, usize)),
    opt("set-max-intset-entries", int(0, LONG_MAX, 512), 0, State::Works, "intset limit")
        .with(int_field!(set_max_intset_entries, usize)),
    opt("zset-max-listpack-entries", int(0, LONG_MAX, 128), 0, State::Works, "compact sorted-set limit (entries)")
        .alias("zset-max-ziplist-entries").with(int_field!(zset_max_listpack_entries, usize)),
    opt("zset-max-listpack-value", mem(0, LONG_MAX, 64), 0, State::Works, "compact sorted-set limit (bytes per member)")
        .alias("zset-max-ziplist-value").with(int_field!(zset_max_listpack_value, usize)),
    opt("list-max-listpack-size", int(INT_MIN, INT_MAX, -2), 0, State::Works, "list node limit: N entries, or -1..-5 = 4..64 KB")
        .alias("list-max-ziplist-size").with(int_field!(list_max_listpack_size, i64)),
    opt("list-compress-depth", int(0, INT_MAX, 0), 0, State::Partly("read at each write, like list-max-listpack-size, where Redis fixes it per list at creation"),
        "LZF-compress list nodes except this many at each end (0 = none)")
        .with(int_field!(list_compress_depth, i64)),
    opt("hll-sparse-max-bytes", mem(0, LONG_MAX, 3000), 0, State::Works, "longest sparse HyperLogLog (header included) before it turns dense")
        .with(int_field!(hll_sparse_max_bytes, usize)),
    opt("stream-node-max-bytes", mem(0, LONG_MAX, 4096), 0, State::Works, "stream node size limit (bytes)")
        .with(int_field!(stream_node_max_bytes, usize)),
    opt("stream-node-max-entries", int(0, LONG_MAX, 100), 0, State::Works, "stream node size limit (entries)")
        .with(int_field!(stream_node_max_entries, usize)),

    // --- Persistence ---
    opt("save", Kind::Special("3600 1 300 100 60 10000"), MULTI_ARG, State::Works,
        "snapshot rules `seconds changes ...`: BGSAVE after `seconds` when at least `changes` writes happened (`\"\"` = none)")
        .with((|c, _| c.save.iter().map(|(s, n)| format!("{s} {n}")).collect::<Vec<_>>().join(" "), |c, _, v| {
            let words: Vec<&str> = v.split_whitespace().collect();
            let mut rules = Vec::new();
            for pair in words.chunks(2) {
                match (pair.first().and_then(|s| s.parse::<i64>().ok()), pair.get(1).and_then(|n| n.parse::<i64>().ok())) {
                    (Some(s), Some(n)) if s >= 1 && n >= 0 => rules.push((s as u64, n as u64)),
                    _ => return Err("Invalid save parameters".into()),
                }
            }
            c.save = rules;
            Ok(())
        })),
    opt("dbfilename", Kind::Str { default: "dump.rdb", check: Some(valid_dbfilename) }, PROTECTED, State::Works,
        "snapshot file name, in `dir`")
        .with(str_field!(dbfilename)),
    opt("rdbcompression", boolean(true), 0, State::Works, "LZF-compress strings in snapshots").with(bool_field!(rdbcompression)),
    opt("rdbchecksum", boolean(true), IMMUTABLE, State::Works, "CRC-64 at the end of snapshots (checked at load)")
        .with(bool_field!(rdbchecksum)),
    opt("rdb-del-sync-files", boolean(false), 0, State::Works,
        "delete the RDB a full sync wrote once sent, when neither save points nor the AOF are on")
        .with(bool_field!(rdb_del_sync_files)),
    opt("rdb-save-incremental-fsync", boolean(true), 0, State::Partly("a snapshot is fsynced once, when complete, before the rename"),
        "fsync snapshots every 4 MB"),
    opt("stop-writes-on-bgsave-error", boolean(true), 0, State::Works, "refuse writes (MISCONF) after a failed snapshot")
        .with(bool_field!(stop_writes_on_bgsave_error)),
    opt("rdb-key-save-delay", int(INT_MIN, INT_MAX, 0), HIDDEN, State::Works, "test hook: delay per key saved (µs)")
        .with(int_field!(rdb_key_save_delay, i64)),
    opt("key-load-delay", int(INT_MIN, INT_MAX, 0), HIDDEN, State::Works, "test hook: delay per key loaded (µs)")
        .with(int_field!(key_load_delay, i64)),
    opt("loading-process-events-interval-bytes", int(1024, INT_MAX, 2 << 20), HIDDEN,
        State::Inert("the loader hands the loop back every 0.5 ms, whatever the bytes"),
        "serve events every this many bytes while loading"),
    opt("sanitize-dump-payload", one_of(&["no", "yes", "clients"], "no"), 0, State::Works, "deep checks of RESTORE payloads; `clients` checks every client's (ferrokv has no master link nor ACL users that skip them)"),
    opt("appendonly", boolean(false), DENY_LOADING, State::Works,
        "append-only file (Redis 7's multi-part layout in `appenddirname`); CONFIG SET yes writes a base first")
        .with(bool_field!(appendonly)),
    opt("appendfilename", Kind::Str { default: "appendonly.aof", check: Some(valid_appendfilename) }, IMMUTABLE, State::Works,
        "base name of the AOF files")
        .with(str_field!(appendfilename)),
    opt("appenddirname", Kind::Str { default: "appendonlydir", check: Some(valid_appenddirname) }, IMMUTABLE, State::Works,
        "directory of the AOF files, in `dir`")
        .with(str_field!(appenddirname)),
    opt("appendfsync", one_of(&["everysec", "always", "no"], "everysec"), 0, State::Partly("fsync runs on a helper thread; with `always` only the replies of writes wait for it"),
        "fsync policy")
        .with((|c, _| c.appendfsync.into(), |c, o, v| o.pick(v).map(|s| c.appendfsync = s))),
    opt("no-appendfsync-on-rewrite", boolean(false), 0, State::Works,
        "skip fsync during a rewrite")
        .with(bool_field!(no_appendfsync_on_rewrite)),
    opt("auto-aof-rewrite-percentage", int(0, INT_MAX, 100), 0, State::Works, "rewrite when the AOF grew this much")
        .with(int_field!(auto_aof_rewrite_percentage, i64)),
    opt("auto-aof-rewrite-min-size", mem(0, LONG_MAX, 64 << 20), 0, State::Works, "smallest AOF to rewrite")
        .with((|c, _| c.auto_aof_rewrite_min_size.to_string(), |c, o, v| o.int(v).map(|n| c.auto_aof_rewrite_min_size = n as u64))),
    opt("aof-load-truncated", boolean(true), 0, State::Works, "load an AOF with a truncated tail").with(bool_field!(aof_load_truncated)),
    opt("aof-use-rdb-preamble", boolean(true), 0, State::Works, "base file in RDB format")
        .with(bool_field!(aof_use_rdb_preamble)),
    opt("aof-timestamp-enabled", boolean(false), 0, State::Works, "timestamp annotations in the AOF")
        .with(bool_field!(aof_timestamp_enabled)),
    opt("aof-rewrite-incremental-fsync", boolean(true), 0, State::Works, "fsync the rewrite every 4 MB")
        .with(bool_field!(aof_rewrite_incremental_fsync)),
    opt("aof-disable-auto-gc", boolean(false), 0, State::Works, "keep history AOF files").with(bool_field!(aof_disable_auto_gc)),

    // --- Security ---
    opt("requirepass", string(""), SENSITIVE, State::Works, "password of the default user (CONFIG SET changes it; connections already authenticated stay so)")
        .with(str_field!(requirepass)),
    opt("aclfile", string(""), IMMUTABLE, State::Works, "ACL file: users loaded at start and by ACL LOAD, written by ACL SAVE")
        .with(str_field!(aclfile)),
    opt("acllog-max-len", int(0, LONG_MAX, 128), 0, State::Works, "ACL LOG length").with(int_field!(acllog_max_len, u64)),
    opt("acl-pubsub-default", one_of(&["allchannels", "resetchannels"], "resetchannels"), 0, State::Works, "channels new users may use")
        .with((|c, _| c.acl_pubsub_default.into(), |c, o, v| o.pick(v).map(|s| c.acl_pubsub_default = s))),
    opt("tls-port", int(0, 65535, 0), 0, State::Works, "TLS port on the `bind` addresses (0 = off); CONFIG SET binds it"),
    opt("tls-cert-file", string(""), 0, State::Works, "server certificate chain (PEM); CONFIG SET of a tls-* file reloads the TLS context"),
    opt("tls-key-file", string(""), 0, State::Works, "server private key (PEM: PKCS#8, PKCS#1 or SEC1)"),
    opt("tls-key-file-pass", string(""), 0,
        State::Partly("rustls reads unencrypted keys only: a key encrypted with a passphrase is refused (at start, and by CONFIG SET) with a message saying so"),
        "server key passphrase"),
    opt("tls-client-cert-file", string(""), 0, State::Tunes(TLS), "client certificate"),
    opt("tls-client-key-file", string(""), 0, State::Tunes(TLS), "client key"),
    opt("tls-client-key-file-pass", string(""), 0, State::Tunes(TLS), "client key passphrase"),
    opt("tls-dh-params-file", string(""), 0, State::Tunes(TLS), "DH parameters"),
    opt("tls-ca-cert-file", string(""), 0, State::Works, "CA certificates that client certificates are checked against"),
    opt("tls-ca-cert-dir", string(""), 0,
        State::Partly("every PEM file in it is read when the TLS context is built (OpenSSL looks files up by hash at each handshake); no CA certificate there is an error"),
        "CA certificate directory"),
    opt("tls-protocols", string(""), 0,
        State::Partly("TLSv1.2 and TLSv1.3 only (rustls): TLSv1 and TLSv1.1 are ignored beside them, refused alone"),
        "TLS versions (empty = TLSv1.2 TLSv1.3)"),
    opt("tls-ciphers", string(""), 0,
        State::Partly("rustls's six ECDHE AES-GCM/ChaCha20 suites by their OpenSSL names, DEFAULT/ALL/HIGH and `!name`; other OpenSSL cipher-string words are skipped, none left is an error"),
        "TLS 1.2 ciphers"),
    opt("tls-ciphersuites", string(""), 0,
        State::Partly("rustls has TLS_AES_256_GCM_SHA384, TLS_AES_128_GCM_SHA256 and TLS_CHACHA20_POLY1305_SHA256; other names are skipped, none left is an error"),
        "TLS 1.3 cipher suites"),
    opt("tls-prefer-server-ciphers", boolean(false), 0, State::Works, "server cipher order"),
    opt("tls-session-caching", boolean(true), 0, State::Works, "TLS session resumption from a server-side cache"),
    opt("tls-session-cache-size", int(0, INT_MAX, 20480), 0, State::Works, "TLS sessions kept (0 = no limit)"),
    opt("tls-session-cache-timeout", int(0, INT_MAX, 300), 0, State::Works, "seconds a TLS session stays resumable"),
    opt("tls-auth-clients", one_of(&["no", "yes", "optional"], "yes"), 0,
        State::Partly("CONFIG SET to yes/optional with no CA configured is refused while the TLS port is open, where Redis accepts it and then fails every handshake"),
        "client certificates: required, not asked for, or checked when given; CONFIG SET applies to new connections"),
    opt("tls-replication", boolean(false), 0, State::Tunes(REPL), "TLS for the link to the primary"),
    opt("tls-cluster", boolean(false), 0, State::Tunes(TLS), "TLS for the cluster bus"),

    // --- Replication ---
    opt("replicaof", Kind::Special(""), IMMUTABLE | MULTI_ARG, State::OffOnly(REPL), "primary to replicate (`no one` = none)")
        .alias("slaveof")
        .with((|c, o| c.stored(o), |c, o, v| {
            let words: Vec<&str> = v.split_whitespace().collect();
            if words.len() != 2 {
                return Err("wrong number of arguments".into());
            }
            if words[0].eq_ignore_ascii_case("no") && words[1].eq_ignore_ascii_case("one") {
                return c.store(o, "");
            }
            if words[1].parse::<u16>().is_err() {
                return Err("Invalid master port".into());
            }
            c.store(o, v)
        })),
    opt("min-replicas-to-write", int(0, INT_MAX, 0), 0, State::Works,
        "refuse writes (NOREPLICAS) with fewer good replicas (online, lag within min-replicas-max-lag) than this")
        .alias("min-slaves-to-write").with(int_field!(min_replicas_to_write, u32)),
    opt("min-replicas-max-lag", int(0, INT_MAX, 10), 0, State::Works, "seconds of lag a good replica may have (0 disables the check)")
        .alias("min-slaves-max-lag").with(int_field!(min_replicas_max_lag, u32)),
    opt("masterauth", string(""), SENSITIVE, State::Tunes(REPL), "password for the primary"),
    opt("masteruser", string(""), SENSITIVE, State::Tunes(REPL), "user for the primary"),
    opt("replica-serve-stale-data", boolean(true), 0, State::Tunes(REPL), "serve reads while the link is down")
        .alias("slave-serve-stale-data"),
    opt("replica-read-only", boolean(true), 0, State::Tunes(REPL), "refuse writes on a replica").alias("slave-read-only"),
    opt("replica-lazy-flush", boolean(false), 0, State::Tunes(REPL), "flush asynchronously on full sync").alias("slave-lazy-flush"),
    opt("replica-ignore-maxmemory", boolean(true), 0, State::Tunes(REPL), "a replica does not evict").alias("slave-ignore-maxmemory"),
    opt("replica-priority", int(0, INT_MAX, 100), 0, State::Tunes(REPL), "Sentinel promotion priority").alias("slave-priority"),
    opt("replica-announce-ip", string(""), 0, State::Tunes(REPL), "address announced to the primary").alias("slave-announce-ip"),
    opt("replica-announce-port", int(0, 65535, 0), 0, State::Tunes(REPL), "port announced to the primary").alias("slave-announce-port"),
    opt("replica-announced", boolean(true), 0, State::Tunes(REPL), "shown to Sentinel"),
    opt("replica-ignore-disk-write-errors", boolean(false), 0, State::Tunes(REPL), "keep replicating after disk errors"),
    opt("repl-ping-replica-period", int(1, INT_MAX, 10), 0, State::Works, "seconds between the PINGs a primary sends its replicas")
        .alias("repl-ping-slave-period").with(int_field!(repl_ping_replica_period, u32)),
    opt("repl-timeout", int(1, INT_MAX, 60), 0, State::Partly("ferrokv is no replica, which times its primary out with it too"),
        "seconds a replica may stay silent before its primary drops it").with(int_field!(repl_timeout, u32)),
    opt("repl-backlog-size", mem(1, LONG_MAX, 1 << 20), 0, State::Works, "backlog for partial resyncs")
        .with((|c, _| c.repl_backlog_size.to_string(), |c, o, v| o.uint(v).map(|n| c.repl_backlog_size = n))),
    opt("repl-backlog-ttl", int(0, LONG_MAX, 3600), 0, State::Works, "backlog lifetime without replicas")
        .with(int_field!(repl_backlog_ttl, u64)),
    opt("repl-disable-tcp-nodelay", boolean(false), 0, State::Works, "Nagle on the replication link (set at SYNC)")
        .with(bool_field!(repl_disable_tcp_nodelay)),
    opt("repl-diskless-sync", boolean(true), 0,
        State::Partly("the RDB goes through a temporary file removed once sent, not straight to the socket"),
        "a full sync leaves dump.rdb and the save counters alone (`no`: it is a BGSAVE to dump.rdb)")
        .with(bool_field!(repl_diskless_sync)),
    opt("repl-diskless-sync-delay", int(0, INT_MAX, 5), 0, State::Inert("a full sync starts at once; a replica that comes during one joins it"), "wait for more replicas before a diskless sync"),
    opt("repl-diskless-sync-max-replicas", int(0, INT_MAX, 0), 0, State::Inert("a full sync starts at once; a replica that comes during one joins it"), "start a diskless sync at this many replicas"),
    opt("repl-diskless-load", one_of(&["disabled", "on-empty-db", "swapdb"], "disabled"), DENY_LOADING, State::Tunes(REPL),
        "load a full sync from the socket"),
    opt("propagation-error-behavior", one_of(&["ignore", "panic", "panic-on-replicas"], "ignore"), 0, State::Tunes(REPL),
        "what a replica does with a failing replicated command"),
    opt("bind-source-addr", string(""), 0, State::Tunes(REPL), "source address of outgoing connections"),
    opt("busy-reply-threshold", int(0, LONG_MAX, 5000), 0, State::Works,
        "ms a script runs before other clients get `-BUSY` and SCRIPT KILL / FUNCTION KILL can stop it (0 = never)")
        .with(int_field!(busy_reply_threshold, u64))
        .alias("lua-time-limit"),

    // --- Cluster ---
    opt("cluster-enabled", boolean(false), IMMUTABLE, State::OffOnly(CLUSTER), "cluster mode"),
    opt("cluster-config-file", string("nodes.conf"), IMMUTABLE, State::Tunes(CLUSTER), "cluster state file"),
    opt("cluster-port", int(0, 65535, 0), IMMUTABLE, State::Tunes(CLUSTER), "cluster bus port"),
    opt("cluster-node-timeout", int(0, LONG_MAX, 15000), 0, State::Tunes(CLUSTER), "node timeout (ms)"),
    opt("cluster-replica-validity-factor", int(0, INT_MAX, 10), 0, State::Tunes(CLUSTER), "replica data age factor")
        .alias("cluster-slave-validity-factor"),
    opt("cluster-replica-no-failover", boolean(false), 0, State::Tunes(CLUSTER), "no automatic failover")
        .alias("cluster-slave-no-failover"),
    opt("cluster-migration-barrier", int(0, INT_MAX, 1), 0, State::Tunes(CLUSTER), "replicas a primary keeps"),
    opt("cluster-allow-replica-migration", boolean(true), 0, State::Tunes(CLUSTER), "replica migration"),
    opt("cluster-require-full-coverage", boolean(true), 0, State::Tunes(CLUSTER), "stop when slots are uncovered"),
    opt("cluster-allow-reads-when-down", boolean(false), 0, State::Tunes(CLUSTER), "reads while down"),
    opt("cluster-allow-pubsubshard-when-down", boolean(true), 0, State::Tunes(CLUSTER), "shard pub/sub while down"),
    opt("cluster-announce-ip", string(""), 0, State::Tunes(CLUSTER), "announced address"),
    opt("cluster-announce-hostname", Kind::Str { default: "", check: Some(valid_hostname) }, 0, State::Tunes(CLUSTER),
        "announced hostname"),
    opt("cluster-announce-port", int(0, 65535, 0), 0, State::Tunes(CLUSTER), "announced port"),
    opt("cluster-announce-tls-port", int(0, 65535, 0), 0, State::Tunes(CLUSTER), "announced TLS port"),
    opt("cluster-announce-bus-port", int(0, 65535, 0), 0, State::Tunes(CLUSTER), "announced bus port"),
    opt("cluster-preferred-endpoint-type", one_of(&["ip", "hostname", "unknown-endpoint"], "ip"), 0, State::Tunes(CLUSTER),
        "endpoint shown to clients"),
    opt("cluster-link-sendbuf-limit", mem(0, ULLONG_MAX, 0), 0, State::Tunes(CLUSTER), "bus link buffer limit"),
];

/// The flags a `shutdown-on-sig*` value may combine (Redis's
/// `shutdown_on_sig_enum`), checked as Redis checks them.
pub const SHUTDOWN_NAMES: &[&str] = SHUTDOWN_FLAGS;
