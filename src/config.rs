//! Server configuration: Redis's defaults, redis.conf syntax, command-line
//! `--option value` overrides, and the one options table behind
//! `CONFIG GET`/`CONFIG SET`.
//!
//! Every option is one row in [`OPTIONS`]: its name, whether it may change at
//! run time, and how to print and parse it. The config file, the command line
//! and `CONFIG SET` all go through the same parse functions, so an option is
//! validated the same way wherever it is given.

use crate::store::evict::Policy;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Log verbosity, with Redis's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
}

impl LogLevel {
    const NAMES: [(&'static str, LogLevel); 4] = [
        ("debug", LogLevel::Debug),
        ("verbose", LogLevel::Verbose),
        ("notice", LogLevel::Notice),
        ("warning", LogLevel::Warning),
    ];

    pub fn name(self) -> &'static str {
        LogLevel::NAMES.iter().find(|(_, l)| *l == self).map(|(n, _)| *n).unwrap_or("notice")
    }

    /// The `log` crate's filter for this level.
    pub fn filter(self) -> log::LevelFilter {
        match self {
            LogLevel::Debug => log::LevelFilter::Trace,
            LogLevel::Verbose => log::LevelFilter::Debug,
            LogLevel::Notice => log::LevelFilter::Info,
            LogLevel::Warning => log::LevelFilter::Warn,
        }
    }
}

/// The server's settings. Field names follow redis.conf.
#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub bind: Vec<String>,
    /// Close a client after this many idle seconds (0 = never).
    pub timeout: u64,
    pub tcp_keepalive: u64,
    pub databases: usize,
    pub maxclients: usize,
    pub hz: u32,
    pub loglevel: LogLevel,
    /// Empty = standard output.
    pub logfile: String,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    /// `no`, `yes` or `local` (loopback clients only), as in Redis 7.
    pub enable_debug_command: String,
    /// Compact-encoding thresholds of the collections (Redis's names).
    pub list_max_listpack_size: i64,
    pub list_compress_depth: i64,
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    /// `client-output-buffer-limit`: (hard, soft, soft seconds) for the
    /// normal, pubsub and replica classes, bytes; 0 = no limit.
    pub output_limits: [(u64, u64, u64); 3],
    /// Log commands slower than this many microseconds (negative: never).
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: usize,
    /// Keys the client-side caching table remembers at most (0: no limit).
    pub tracking_table_max_keys: u64,
    /// Bytes of memory before eviction starts (0 = no limit).
    pub maxmemory: u64,
    pub maxmemory_policy: Policy,
    pub maxmemory_samples: u32,
    pub maxmemory_eviction_tenacity: u32,
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
    /// Free big values on the lazy-free thread: when evicting, expiring,
    /// on implicit deletes (server-del), on DEL (user-del), on FLUSH*.
    pub lazyfree_lazy_eviction: bool,
    pub lazyfree_lazy_expire: bool,
    pub lazyfree_lazy_server_del: bool,
    pub lazyfree_lazy_user_del: bool,
    pub lazyfree_lazy_user_flush: bool,
    /// `notify-keyspace-events` as flags (see `server::notify`).
    pub notify_keyspace_events: u32,
    /// Record events taking at least this many ms (0 = off).
    pub latency_monitor_threshold: u64,
    /// Per-command latency histograms (INFO latencystats).
    pub latency_tracking: bool,
    pub latency_tracking_info_percentiles: Vec<f64>,
    /// The config file the server was started with, if any.
    pub config_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            port: 6379,
            bind: vec!["127.0.0.1".into()],
            timeout: 0,
            tcp_keepalive: 300,
            databases: 16,
            maxclients: 10000,
            hz: 10,
            loglevel: LogLevel::Notice,
            logfile: String::new(),
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            enable_debug_command: "no".into(),
            list_max_listpack_size: -2,
            list_compress_depth: 0,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            output_limits: [(0, 0, 0), (32 << 20, 8 << 20, 60), (256 << 20, 64 << 20, 60)],
            slowlog_log_slower_than: 10000,
            slowlog_max_len: 128,
            tracking_table_max_keys: 1_000_000,
            maxmemory: 0,
            maxmemory_policy: Policy::NoEviction,
            maxmemory_samples: 5,
            maxmemory_eviction_tenacity: 10,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            // Redis defaults to `no`; evicting a big value synchronously is
            // the pause a cache must not have, so ferrokv frees it aside.
            lazyfree_lazy_eviction: true,
            lazyfree_lazy_expire: false,
            lazyfree_lazy_server_del: false,
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            notify_keyspace_events: 0,
            latency_monitor_threshold: 0,
            latency_tracking: true,
            latency_tracking_info_percentiles: vec![50.0, 99.0, 99.9],
            config_file: None,
        }
    }
}

type Getter = fn(&Config) -> String;
type Setter = fn(&mut Config, &str) -> Result<(), String>;

/// One configuration option.
pub struct ConfigOption {
    pub name: &'static str,
    /// `CONFIG SET` may change it while running.
    pub mutable: bool,
    pub get: Getter,
    pub set: Setter,
}

/// Every option ferrokv knows, in one table.
pub static OPTIONS: &[ConfigOption] = &[
    ConfigOption {
        name: "port",
        mutable: false,
        get: |c| c.port.to_string(),
        set: |c, v| int(v, 0, 65535).map(|n| c.port = n as u16),
    },
    ConfigOption {
        name: "bind",
        mutable: false,
        get: |c| c.bind.join(" "),
        set: |c, v| {
            let addrs: Vec<String> = v.split_whitespace().map(String::from).collect();
            if addrs.is_empty() {
                return Err("Too many bind addresses specified.".into());
            }
            c.bind = addrs;
            Ok(())
        },
    },
    ConfigOption {
        name: "timeout",
        mutable: true,
        get: |c| c.timeout.to_string(),
        set: |c, v| int(v, 0, i32::MAX as i64).map(|n| c.timeout = n as u64),
    },
    ConfigOption {
        name: "tcp-keepalive",
        mutable: true,
        get: |c| c.tcp_keepalive.to_string(),
        set: |c, v| int(v, 0, i32::MAX as i64).map(|n| c.tcp_keepalive = n as u64),
    },
    ConfigOption {
        name: "databases",
        mutable: false,
        get: |c| c.databases.to_string(),
        set: |c, v| int(v, 1, i32::MAX as i64).map(|n| c.databases = n as usize),
    },
    ConfigOption {
        name: "maxclients",
        mutable: true,
        get: |c| c.maxclients.to_string(),
        set: |c, v| int(v, 1, u32::MAX as i64).map(|n| c.maxclients = n as usize),
    },
    ConfigOption {
        name: "hz",
        mutable: true,
        // Redis clamps hz to 1..=500 instead of rejecting it.
        get: |c| c.hz.to_string(),
        set: |c, v| int(v, 0, i32::MAX as i64).map(|n| c.hz = n.clamp(1, 500) as u32),
    },
    ConfigOption {
        name: "loglevel",
        mutable: true,
        get: |c| c.loglevel.name().into(),
        set: |c, v| {
            let found = LogLevel::NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(v));
            match found {
                Some((_, l)) => {
                    c.loglevel = *l;
                    log::set_max_level(l.filter());
                    Ok(())
                }
                None => Err("argument(s) must be one of the following: debug, verbose, notice, warning".into()),
            }
        },
    },
    ConfigOption {
        name: "logfile",
        mutable: false,
        get: |c| c.logfile.clone(),
        set: |c, v| {
            c.logfile = v.into();
            Ok(())
        },
    },
    ConfigOption {
        name: "proto-max-bulk-len",
        mutable: true,
        get: |c| c.proto_max_bulk_len.to_string(),
        set: |c, v| memory(v, 1024 * 1024, i64::MAX as u64).map(|n| c.proto_max_bulk_len = n),
    },
    ConfigOption {
        name: "client-query-buffer-limit",
        mutable: true,
        get: |c| c.client_query_buffer_limit.to_string(),
        set: |c, v| memory(v, 1024 * 1024, i64::MAX as u64).map(|n| c.client_query_buffer_limit = n),
    },
    ConfigOption {
        name: "enable-debug-command",
        mutable: false,
        get: |c| c.enable_debug_command.clone(),
        set: |c, v| match v.to_ascii_lowercase().as_str() {
            v @ ("no" | "yes" | "local") => {
                c.enable_debug_command = v.into();
                Ok(())
            }
            _ => Err("argument(s) must be one of the following: no, yes, local".into()),
        },
    },
    ConfigOption {
        name: "list-max-listpack-size",
        mutable: true,
        get: |c| c.list_max_listpack_size.to_string(),
        set: |c, v| int(v, i32::MIN as i64, i32::MAX as i64).map(|n| c.list_max_listpack_size = n),
    },
    ConfigOption {
        name: "list-compress-depth",
        mutable: true,
        get: |c| c.list_compress_depth.to_string(),
        set: |c, v| int(v, 0, i32::MAX as i64).map(|n| c.list_compress_depth = n),
    },
    ConfigOption {
        name: "hash-max-listpack-entries",
        mutable: true,
        get: |c| c.hash_max_listpack_entries.to_string(),
        set: |c, v| int(v, 0, i64::MAX).map(|n| c.hash_max_listpack_entries = n as usize),
    },
    ConfigOption {
        name: "hash-max-listpack-value",
        mutable: true,
        get: |c| c.hash_max_listpack_value.to_string(),
        set: |c, v| int(v, 0, i64::MAX).map(|n| c.hash_max_listpack_value = n as usize),
    },
    ConfigOption {
        name: "set-max-intset-entries",
        mutable: true,
        get: |c| c.set_max_intset_entries.to_string(),
        set: |c, v| int(v, 0, i64::MAX).map(|n| c.set_max_intset_entries = n as usize),
    },
    ConfigOption {
        name: "zset-max-listpack-entries",
        mutable: true,
        get: |c| c.zset_max_listpack_entries.to_string(),
        set: |c, v| int(v, 0, i64::MAX).map(|n| c.zset_max_listpack_entries = n as usize),
    },
    ConfigOption {
        name: "zset-max-listpack-value",
        mutable: true,
        get: |c| c.zset_max_listpack_value.to_string(),
        set: |c, v| int(v, 0, i64::MAX).map(|n| c.zset_max_listpack_value = n as usize),
    },
    ConfigOption {
        name: "client-output-buffer-limit",
        mutable: true,
        get: |c| {
            let [n, p, r] = c.output_limits;
            format!("normal {} {} {} slave {} {} {} pubsub {} {} {}", n.0, n.1, n.2, r.0, r.1, r.2, p.0, p.1, p.2)
        },
        set: |c, v| {
            let words: Vec<&str> = v.split_whitespace().collect();
            if words.is_empty() || !words.len().is_multiple_of(4) {
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
                let hard = parse_memory(w[1]).ok_or_else(bad)?;
                let soft = parse_memory(w[2]).ok_or_else(bad)?;
                let secs = w[3].parse::<u64>().map_err(|_| bad())?;
                limits[class] = (hard, soft, secs);
            }
            c.output_limits = limits;
            Ok(())
        },
    },
    ConfigOption {
        name: "slowlog-log-slower-than",
        mutable: true,
        get: |c| c.slowlog_log_slower_than.to_string(),
        set: |c, v| int(v, -1, i64::MAX).map(|n| c.slowlog_log_slower_than = n),
    },
    ConfigOption {
        name: "slowlog-max-len",
        mutable: true,
        get: |c| c.slowlog_max_len.to_string(),
        set: |c, v| int(v, 0, i64::MAX).map(|n| c.slowlog_max_len = n as usize),
    },
    ConfigOption {
        name: "tracking-table-max-keys",
        mutable: true,
        get: |c| c.tracking_table_max_keys.to_string(),
        set: |c, v| int(v, 0, i64::MAX).map(|n| c.tracking_table_max_keys = n as u64),
    },
    ConfigOption {
        name: "maxmemory",
        mutable: true,
        get: |c| c.maxmemory.to_string(),
        set: |c, v| memory(v, 0, u64::MAX).map(|n| c.maxmemory = n),
    },
    ConfigOption {
        name: "maxmemory-policy",
        mutable: true,
        get: |c| c.maxmemory_policy.name().into(),
        set: |c, v| match Policy::parse(v.trim()) {
            Some(p) => {
                c.maxmemory_policy = p;
                Ok(())
            }
            None => Err(format!(
                "argument(s) must be one of the following: {}",
                Policy::ALL.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            )),
        },
    },
    ConfigOption {
        name: "maxmemory-samples",
        mutable: true,
        get: |c| c.maxmemory_samples.to_string(),
        set: |c, v| int(v, 1, i32::MAX as i64).map(|n| c.maxmemory_samples = n as u32),
    },
    ConfigOption {
        name: "maxmemory-eviction-tenacity",
        mutable: true,
        get: |c| c.maxmemory_eviction_tenacity.to_string(),
        set: |c, v| int(v, 0, 100).map(|n| c.maxmemory_eviction_tenacity = n as u32),
    },
    ConfigOption {
        name: "lfu-log-factor",
        mutable: true,
        get: |c| c.lfu_log_factor.to_string(),
        set: |c, v| int(v, 0, i32::MAX as i64).map(|n| c.lfu_log_factor = n as u32),
    },
    ConfigOption {
        name: "lfu-decay-time",
        mutable: true,
        get: |c| c.lfu_decay_time.to_string(),
        set: |c, v| int(v, 0, i32::MAX as i64).map(|n| c.lfu_decay_time = n as u32),
    },
    ConfigOption {
        name: "lazyfree-lazy-eviction",
        mutable: true,
        get: |c| yes(c.lazyfree_lazy_eviction),
        set: |c, v| yes_no(v).map(|b| c.lazyfree_lazy_eviction = b),
    },
    ConfigOption {
        name: "lazyfree-lazy-expire",
        mutable: true,
        get: |c| yes(c.lazyfree_lazy_expire),
        set: |c, v| yes_no(v).map(|b| c.lazyfree_lazy_expire = b),
    },
    ConfigOption {
        name: "lazyfree-lazy-server-del",
        mutable: true,
        get: |c| yes(c.lazyfree_lazy_server_del),
        set: |c, v| yes_no(v).map(|b| c.lazyfree_lazy_server_del = b),
    },
    ConfigOption {
        name: "lazyfree-lazy-user-del",
        mutable: true,
        get: |c| yes(c.lazyfree_lazy_user_del),
        set: |c, v| yes_no(v).map(|b| c.lazyfree_lazy_user_del = b),
    },
    ConfigOption {
        name: "lazyfree-lazy-user-flush",
        mutable: true,
        get: |c| yes(c.lazyfree_lazy_user_flush),
        set: |c, v| yes_no(v).map(|b| c.lazyfree_lazy_user_flush = b),
    },
    ConfigOption {
        name: "notify-keyspace-events",
        mutable: true,
        get: |c| crate::server::notify::format(c.notify_keyspace_events),
        set: |c, v| crate::server::notify::parse(v).map(|f| c.notify_keyspace_events = f),
    },
    ConfigOption {
        name: "latency-monitor-threshold",
        mutable: true,
        get: |c| c.latency_monitor_threshold.to_string(),
        set: |c, v| int(v, 0, i64::MAX).map(|n| c.latency_monitor_threshold = n as u64),
    },
    ConfigOption {
        name: "latency-tracking",
        mutable: true,
        get: |c| yes(c.latency_tracking),
        set: |c, v| yes_no(v).map(|b| c.latency_tracking = b),
    },
    ConfigOption {
        name: "latency-tracking-info-percentiles",
        mutable: true,
        get: |c| c.latency_tracking_info_percentiles.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(" "),
        set: |c, v| {
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
        },
    },
    // Persistence is not implemented: these report it as off, which is
    // what tools such as redis-benchmark ask for before they run.
    ConfigOption {
        name: "save",
        mutable: false,
        get: |_| String::new(),
        set: |_, v| if v.trim().is_empty() { Ok(()) } else { Err("persistence is not supported".into()) },
    },
    ConfigOption {
        name: "appendonly",
        mutable: false,
        get: |_| "no".into(),
        set: |_, v| match yes_no(v)? {
            false => Ok(()),
            true => Err("persistence is not supported".into()),
        },
    },
];

/// Old names Redis still accepts (`alias`, `option`).
pub static ALIASES: &[(&str, &str)] = &[
    ("list-max-ziplist-size", "list-max-listpack-size"),
    ("hash-max-ziplist-entries", "hash-max-listpack-entries"),
    ("hash-max-ziplist-value", "hash-max-listpack-value"),
    ("zset-max-ziplist-entries", "zset-max-listpack-entries"),
    ("zset-max-ziplist-value", "zset-max-listpack-value"),
];

/// Finds an option by name or alias (case-insensitive).
pub fn option(name: &str) -> Option<&'static ConfigOption> {
    let name = ALIASES.iter().find(|(a, _)| a.eq_ignore_ascii_case(name)).map_or(name, |(_, o)| o);
    OPTIONS.iter().find(|o| o.name.eq_ignore_ascii_case(name))
}

/// Every name CONFIG GET can match: each option, then each alias.
pub fn names() -> impl Iterator<Item = (&'static str, &'static ConfigOption)> {
    OPTIONS.iter().map(|o| (o.name, o)).chain(ALIASES.iter().filter_map(|(a, o)| option(o).map(|opt| (*a, opt))))
}

fn int(v: &str, min: i64, max: i64) -> Result<i64, String> {
    let n: i64 = v.trim().parse().map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
    if n < min || n > max {
        return Err(format!("argument must be between {min} and {max} inclusive"));
    }
    Ok(n)
}

fn yes(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

fn yes_no(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

fn memory(v: &str, min: u64, max: u64) -> Result<u64, String> {
    let n = parse_memory(v).ok_or_else(|| "argument must be a memory value".to_string())?;
    if n < min || n > max {
        return Err(format!("argument must be between {min} and {max} inclusive"));
    }
    Ok(n)
}

/// Parses a redis.conf memory value: `1k` = 1000, `1kb` = 1024, likewise
/// `m`/`mb`/`g`/`gb`, case-insensitive; a bare number is bytes.
pub fn parse_memory(v: &str) -> Option<u64> {
    let v = v.trim().to_ascii_lowercase();
    let units: [(&str, u64); 7] = [
        ("kb", 1024),
        ("mb", 1024 * 1024),
        ("gb", 1024 * 1024 * 1024),
        ("k", 1000),
        ("m", 1000 * 1000),
        ("g", 1000 * 1000 * 1000),
        ("b", 1),
    ];
    let (num, mul) =
        units.iter().find_map(|(suffix, mul)| v.strip_suffix(suffix).map(|n| (n, *mul))).unwrap_or((v.as_str(), 1));
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    num.parse::<u64>().ok()?.checked_mul(mul)
}

/// Splits a redis.conf line into arguments (quotes as in Redis).
fn split_line(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut spans = Vec::new();
    crate::resp::parse::split_args(line.as_bytes(), &mut out, &mut spans)
        .map_err(|_| "Unbalanced quotes in configuration line".to_string())?;
    Ok(spans.iter().map(|&(s, e)| String::from_utf8_lossy(&out[s..e]).into_owned()).collect())
}

/// Quotes a value for redis.conf when it needs it.
fn conf_quote(v: &str) -> String {
    if !v.is_empty() && !v.contains(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '\\') {
        return v.to_string();
    }
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

impl Config {
    /// CONFIG REWRITE: rewrites `text` (the config file's content) so it
    /// reflects this config. Lines of options that changed are replaced in
    /// place, comments and unknown lines are kept, later duplicates of an
    /// option are dropped, and options that differ from the default but were
    /// not in the file are appended, as Redis does.
    pub fn rewrite(&self, text: &str) -> String {
        let defaults = Config::default();
        let mut out = Vec::new();
        let mut done: Vec<&str> = Vec::new();
        for line in text.lines() {
            let word = line.split_whitespace().next().unwrap_or("");
            match option(word).filter(|_| !line.trim_start().starts_with('#')) {
                Some(opt) if done.contains(&opt.name) => {}
                Some(opt) => {
                    done.push(opt.name);
                    out.push(format!("{} {}", opt.name, conf_quote(&(opt.get)(self))));
                }
                None => out.push(line.to_string()),
            }
        }
        let mut header = false;
        for opt in OPTIONS {
            let value = (opt.get)(self);
            if done.contains(&opt.name) || value == (opt.get)(&defaults) {
                continue;
            }
            if !header {
                out.push("# Generated by CONFIG REWRITE".into());
                header = true;
            }
            out.push(format!("{} {}", opt.name, conf_quote(&value)));
        }
        out.join("\n") + "\n"
    }

    /// Applies one `name value...` directive.
    pub fn apply(&mut self, name: &str, values: &[String]) -> Result<(), String> {
        let opt = option(name).ok_or_else(|| "Bad directive or wrong number of arguments".to_string())?;
        if values.is_empty() {
            return Err("wrong number of arguments".into());
        }
        (opt.set)(self, &values.join(" "))
    }

    /// Applies the text of a config file; errors name the line, like Redis.
    pub fn load_text(&mut self, text: &str) -> Result<(), String> {
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words = split_line(line);
            let result = words.and_then(|w| self.apply(&w[0], &w[1..]));
            if let Err(e) = result {
                return Err(format!(
                    "*** FATAL CONFIG FILE ERROR ***\nReading the configuration file, at line {}\n>>> '{}'\n{}",
                    n + 1,
                    line,
                    e
                ));
            }
        }
        Ok(())
    }

    /// Builds a config from command-line arguments like redis-server's:
    /// `[config-file] [--name value ...]`.
    pub fn from_args(args: &[String]) -> Result<Config, String> {
        let mut config = Config::default();
        let mut rest = args;
        if let Some(first) = rest.first()
            && !first.starts_with("--")
        {
            let text = std::fs::read_to_string(first)
                .map_err(|e| format!("Fatal error, can't open config file '{first}': {e}"))?;
            config.load_text(&text)?;
            config.config_file = Some(PathBuf::from(first));
            rest = &rest[1..];
        }
        // Like redis-server, `--name v1 v2` becomes the line `name v1 v2`.
        let mut text = String::new();
        for arg in rest {
            match arg.strip_prefix("--") {
                Some(name) => {
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    text.push_str(name);
                }
                None if text.is_empty() => return Err(format!("Invalid argument '{arg}': options start with --")),
                None => {
                    let _ = write!(text, " \"{}\"", arg.replace('\\', "\\\\").replace('"', "\\\""));
                }
            }
        }
        config.load_text(&text)?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("1gb"), Some(1 << 30));
        assert_eq!(parse_memory("100MB"), Some(100 << 20));
        assert_eq!(parse_memory("64k"), Some(64_000));
        assert_eq!(parse_memory("12"), Some(12));
        assert_eq!(parse_memory("1.5gb"), None);
        assert_eq!(parse_memory("-1"), None);
        assert_eq!(parse_memory("gb"), None);
    }

    #[test]
    fn file_and_args() {
        let args: Vec<String> =
            ["--port", "7000", "--bind", "127.0.0.1", "::1", "--timeout", "5"].iter().map(|s| s.to_string()).collect();
        let c = Config::from_args(&args).unwrap();
        assert_eq!((c.port, c.timeout), (7000, 5));
        assert_eq!(c.bind, vec!["127.0.0.1", "::1"]);
        let mut c = Config::default();
        c.load_text("# comment\nhz 1000\nproto-max-bulk-len 2mb\n").unwrap();
        assert_eq!(c.hz, 500);
        assert_eq!(c.proto_max_bulk_len, 2 << 20);
    }

    #[test]
    fn rewrite_keeps_comments_and_updates_values() {
        let mut c = Config::default();
        c.load_text("# my config\nmaxclients 77\nhz 20\nhz 30\n").unwrap();
        c.timeout = 5;
        c.maxclients = 78;
        let text = c.rewrite("# my config\nmaxclients 77\nhz 20\nhz 30\n");
        assert_eq!(text, "# my config\nmaxclients 78\nhz 30\n# Generated by CONFIG REWRITE\ntimeout 5\n");
        let mut again = Config::default();
        again.load_text(&text).unwrap();
        assert_eq!((again.maxclients, again.hz, again.timeout), (78, 30, 5));
    }

    #[test]
    fn errors_name_the_option() {
        let mut c = Config::default();
        let e = c.load_text("port 6379\nfrobnicate yes\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("frobnicate"), "{e}");
        let e = c.load_text("maxclients lots\n").unwrap_err();
        assert!(e.contains("maxclients") && e.contains("integer"), "{e}");
        let e = Config::from_args(&["--port".into()]).unwrap_err();
        assert!(e.contains("port"), "{e}");
    }
}
