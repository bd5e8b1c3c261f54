//! Server configuration: Redis's defaults, redis.conf syntax, command-line
//! `--option value` overrides, and the one options table
//! ([`options::OPTIONS`]) behind `CONFIG GET`/`SET`/`REWRITE` and the
//! README's configuration table.
//!
//! The config file, the command line and `CONFIG SET` all go through the
//! same row's setter, so an option is validated the same way, with Redis's
//! error text, wherever it is given. An option whose feature ferrokv does
//! not have yet accepts only the value that leaves the feature off
//! ([`State::OffOnly`]): anything else stops startup or fails CONFIG SET
//! with a message naming the missing feature, never silently ignored.

pub mod kind;
pub mod options;

use crate::store::evict::Policy;
pub use kind::parse_memory;
use kind::{Kind, parse_bool};
pub use options::OPTIONS;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Option flags, as Redis's config.c names them.
pub mod flag {
    /// CONFIG SET refuses it: "can't set immutable config".
    pub const IMMUTABLE: u8 = 1 << 0;
    /// CONFIG SET needs `enable-protected-configs`.
    pub const PROTECTED: u8 = 1 << 1;
    /// Its value is redacted from SLOWLOG and MONITOR.
    pub const SENSITIVE: u8 = 1 << 2;
    /// Its value is several words (`save 3600 1 300 100`).
    pub const MULTI_ARG: u8 = 1 << 3;
    /// Not matched by CONFIG GET patterns, only by its exact name.
    pub const HIDDEN: u8 = 1 << 4;
    /// CONFIG SET refuses it while a dataset loads.
    pub const DENY_LOADING: u8 = 1 << 5;
}

/// What an option does in ferrokv (the README's "state" column).
#[derive(Clone, Copy)]
pub enum State {
    /// ferrokv acts on it as Redis does.
    Works,
    /// ferrokv acts on it, with the difference given.
    Partly(&'static str),
    /// It tunes a feature ferrokv does not have yet (named): its value is
    /// checked and kept, and takes effect when the feature comes.
    Tunes(&'static str),
    /// It turns on a feature ferrokv does not have yet (named): only the
    /// value that leaves the feature off is accepted.
    OffOnly(&'static str),
    /// Accepted and kept, with no effect, for the reason given.
    Inert(&'static str),
}

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

    fn from_name(name: &str) -> LogLevel {
        LogLevel::NAMES.iter().find(|(n, _)| *n == name).map(|(_, l)| *l).unwrap_or(LogLevel::Notice)
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
    /// Empty: no Unix socket.
    pub unixsocket: String,
    pub unixsocketperm: u32,
    pub tcp_backlog: i32,
    pub socket_mark_id: u32,
    pub protected_mode: bool,
    /// Close a client after this many idle seconds (0 = never).
    pub timeout: u64,
    /// `busy-reply-threshold` (`lua-time-limit`): ms before a running
    /// script enters the BUSY state (0 = never).
    pub busy_reply_threshold: u64,
    pub tcp_keepalive: u64,
    pub databases: usize,
    pub maxclients: usize,
    pub hz: u32,
    pub dynamic_hz: bool,
    pub active_expire_effort: u32,
    pub daemonize: bool,
    /// `no`, `upstart`, `systemd` or `auto`.
    pub supervised: &'static str,
    /// Empty: no pid file (unless daemonized).
    pub pidfile: String,
    /// The working directory, absolute (`dir`); empty until set.
    pub dir: String,
    pub always_show_logo: bool,
    pub set_proc_title: bool,
    pub proc_title_template: String,
    pub oom_score_adj: &'static str,
    pub oom_score_adj_values: [i32; 3],
    pub disable_thp: bool,
    pub server_cpulist: String,
    pub bio_cpulist: String,
    pub crash_log_enabled: bool,
    /// `watchdog-period` in ms (0: off).
    pub watchdog_period: u64,
    /// `shutdown-on-sigint` / `-sigterm`: flags as words (`default`, `nosave now`).
    pub shutdown_on_sigint: String,
    pub shutdown_on_sigterm: String,
    /// `no`, `yes` or `local`, as in Redis 7.
    pub enable_protected_configs: &'static str,
    pub enable_debug_command: String,
    pub loglevel: LogLevel,
    /// Empty = standard output.
    pub logfile: String,
    pub syslog_enabled: bool,
    pub syslog_ident: String,
    pub syslog_facility: &'static str,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    /// Compact-encoding thresholds of the collections (Redis's names).
    pub list_max_listpack_size: i64,
    /// List nodes kept raw at each end (0: no compression).
    pub list_compress_depth: i64,
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub stream_node_max_bytes: usize,
    pub stream_node_max_entries: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    /// Longest sparse HyperLogLog string before it turns dense.
    pub hll_sparse_max_bytes: usize,
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
    /// `maxmemory-clients`: bytes, or a percentage of maxmemory kept as a
    /// negative number (0 = no client eviction).
    pub maxmemory_clients: i64,
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
    /// Save points: a snapshot after `seconds` when at least `changes`
    /// writes happened (Redis's default `3600 1 300 100 60 10000`).
    pub save: Vec<(u64, u64)>,
    /// A `save` line was read from the config (file and arguments): the
    /// next ones add their rules (Redis's `save_loaded`).
    pub save_loaded: bool,
    pub dbfilename: String,
    pub rdbcompression: bool,
    pub rdbchecksum: bool,
    pub stop_writes_on_bgsave_error: bool,
    /// Test hooks: microseconds to wait per key saved / loaded.
    pub rdb_key_save_delay: i64,
    pub key_load_delay: i64,
    /// Writes are refused (NOREPLICAS) with fewer good replicas (online,
    /// acknowledged within `min_replicas_max_lag` seconds) than this,
    /// when `min_replicas_max_lag` is not 0.
    pub min_replicas_to_write: u32,
    pub min_replicas_max_lag: u32,
    /// Replication, the primary's side (see `server::replication`).
    pub repl_ping_replica_period: u32,
    pub repl_timeout: u32,
    pub repl_backlog_size: u64,
    pub repl_backlog_ttl: u64,
    /// Seconds a shutdown waits for lagging replicas (0: none).
    pub shutdown_timeout: u64,
    pub repl_disable_tcp_nodelay: bool,
    /// A full sync's RDB is not the snapshot file (see `server::replication`).
    pub repl_diskless_sync: bool,
    /// Remove the RDB a full sync wrote when nothing else persists.
    pub rdb_del_sync_files: bool,
    /// The append-only file (see `persist::aof`), Redis's names.
    pub appendonly: bool,
    pub appendfilename: String,
    pub appenddirname: String,
    /// `always`, `everysec` or `no`.
    pub appendfsync: &'static str,
    pub no_appendfsync_on_rewrite: bool,
    pub auto_aof_rewrite_percentage: i64,
    pub auto_aof_rewrite_min_size: u64,
    pub aof_load_truncated: bool,
    pub aof_use_rdb_preamble: bool,
    pub aof_timestamp_enabled: bool,
    pub aof_rewrite_incremental_fsync: bool,
    pub aof_disable_auto_gc: bool,
    /// The `default` user's password (empty: none, `nopass`).
    pub requirepass: String,
    /// The ACL file (empty: users come from `user` lines).
    pub aclfile: String,
    pub acllog_max_len: u64,
    /// `allchannels` or `resetchannels`: the channels of new users.
    pub acl_pubsub_default: &'static str,
    /// `user <name> <rules...>` lines: each line's words after `user`.
    pub users: Vec<Vec<String>>,
    /// `rename-command old new` lines, in order.
    pub renames: Vec<(String, String)>,
    /// Options kept for features ferrokv does not have yet, by name, in
    /// the form CONFIG GET prints (absent: the default).
    pub extra: BTreeMap<&'static str, String>,
    /// The config file the server was started with, if any.
    pub config_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            port: 6379,
            bind: vec!["127.0.0.1".into()],
            unixsocket: String::new(),
            unixsocketperm: 0,
            tcp_backlog: 511,
            socket_mark_id: 0,
            protected_mode: true,
            timeout: 0,
            busy_reply_threshold: 5000,
            tcp_keepalive: 300,
            databases: 16,
            maxclients: 10000,
            hz: 10,
            dynamic_hz: true,
            active_expire_effort: 1,
            daemonize: false,
            supervised: "no",
            pidfile: String::new(),
            dir: String::new(),
            always_show_logo: false,
            set_proc_title: true,
            proc_title_template: "{title} {listen-addr} {server-mode}".into(),
            oom_score_adj: "no",
            oom_score_adj_values: [0, 200, 800],
            disable_thp: true,
            server_cpulist: String::new(),
            bio_cpulist: String::new(),
            crash_log_enabled: true,
            watchdog_period: 0,
            shutdown_on_sigint: "default".into(),
            shutdown_on_sigterm: "default".into(),
            enable_protected_configs: "no",
            enable_debug_command: "no".into(),
            loglevel: LogLevel::Notice,
            logfile: String::new(),
            syslog_enabled: false,
            syslog_ident: "redis".into(),
            syslog_facility: "local0",
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            list_max_listpack_size: -2,
            list_compress_depth: 0,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            stream_node_max_bytes: 4096,
            stream_node_max_entries: 100,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            hll_sparse_max_bytes: 3000,
            output_limits: [(0, 0, 0), (32 << 20, 8 << 20, 60), (256 << 20, 64 << 20, 60)],
            slowlog_log_slower_than: 10000,
            slowlog_max_len: 128,
            tracking_table_max_keys: 1_000_000,
            maxmemory: 0,
            maxmemory_clients: 0,
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
            save: vec![(3600, 1), (300, 100), (60, 10000)],
            save_loaded: false,
            dbfilename: "dump.rdb".into(),
            rdbcompression: true,
            rdbchecksum: true,
            stop_writes_on_bgsave_error: true,
            rdb_key_save_delay: 0,
            key_load_delay: 0,
            min_replicas_to_write: 0,
            min_replicas_max_lag: 10,
            repl_ping_replica_period: 10,
            repl_timeout: 60,
            repl_backlog_size: 1 << 20,
            repl_backlog_ttl: 3600,
            shutdown_timeout: 10,
            repl_disable_tcp_nodelay: false,
            repl_diskless_sync: true,
            rdb_del_sync_files: false,
            appendonly: false,
            appendfilename: "appendonly.aof".into(),
            appenddirname: "appendonlydir".into(),
            appendfsync: "everysec",
            no_appendfsync_on_rewrite: false,
            auto_aof_rewrite_percentage: 100,
            auto_aof_rewrite_min_size: 64 << 20,
            aof_load_truncated: true,
            aof_use_rdb_preamble: true,
            aof_timestamp_enabled: false,
            aof_rewrite_incremental_fsync: true,
            aof_disable_auto_gc: false,
            requirepass: String::new(),
            aclfile: String::new(),
            acllog_max_len: 128,
            acl_pubsub_default: "resetchannels",
            users: Vec::new(),
            renames: Vec::new(),
            extra: BTreeMap::new(),
            config_file: None,
        }
    }
}

type Getter = fn(&Config, &ConfigOption) -> String;
type Setter = fn(&mut Config, &ConfigOption, &str) -> Result<(), String>;

/// One configuration option: a row of [`OPTIONS`].
pub struct ConfigOption {
    pub name: &'static str,
    /// The old name Redis still accepts (`slaveof`, `hash-max-ziplist-entries`).
    pub alias: Option<&'static str>,
    /// [`flag`] bits.
    pub flags: u8,
    pub kind: Kind,
    pub state: State,
    /// One line for the README's table.
    pub doc: &'static str,
    pub get: Getter,
    pub set: Setter,
}

/// A row whose value is kept in `Config::extra` (see `with` for a field).
pub const fn opt(name: &'static str, kind: Kind, flags: u8, state: State, doc: &'static str) -> ConfigOption {
    ConfigOption { name, alias: None, flags, kind, state, doc, get: |c, o| c.stored(o), set: |c, o, v| c.store(o, v) }
}

impl ConfigOption {
    pub const fn alias(mut self, alias: &'static str) -> ConfigOption {
        self.alias = Some(alias);
        self
    }

    /// Reads and writes a field of [`Config`] instead of `extra`.
    pub const fn with(mut self, (get, set): (Getter, Setter)) -> ConfigOption {
        self.get = get;
        self.set = set;
        self
    }

    pub fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }

    pub fn bool(&self, v: &str) -> Result<bool, String> {
        parse_bool(v)
    }

    /// A number within this row's bounds (memory units where it takes them).
    pub fn int(&self, v: &str) -> Result<i64, String> {
        self.kind.number(v).map(|n| n as i64)
    }

    pub fn uint(&self, v: &str) -> Result<u64, String> {
        self.kind.number(v).map(|n| n as u64)
    }

    /// A string, checked as this row's kind says.
    pub fn string(&self, v: &str) -> Result<String, String> {
        self.kind.canonical(v)
    }

    /// One of this row's enum names, spelled as the table spells it.
    pub fn pick(&self, v: &str) -> Result<&'static str, String> {
        self.kind.pick(v)
    }

    /// The row's name and alias.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name).chain(self.alias)
    }
}

impl Config {
    /// The kept value of an option without a field.
    pub fn stored(&self, o: &ConfigOption) -> String {
        self.extra.get(o.name).cloned().unwrap_or_else(|| o.kind.default_text())
    }

    /// Checks and keeps the value of an option without a field; for a
    /// feature not there yet, only the value that leaves it off passes.
    pub fn store(&mut self, o: &ConfigOption, v: &str) -> Result<(), String> {
        let value = o.kind.canonical(v)?;
        if let State::OffOnly(feature) = o.state
            && value != o.kind.default_text()
        {
            return Err(not_yet(feature, o.name, &o.kind.default_text()));
        }
        self.extra.insert(o.name, value);
        Ok(())
    }

    /// The value of option `name` as CONFIG GET prints it.
    pub fn get(&self, name: &str) -> Option<String> {
        option(name).map(|o| (o.get)(self, o))
    }
}

/// The refusal of a value that would turn on a missing feature.
fn not_yet(feature: &str, name: &str, off: &str) -> String {
    let off = if off.is_empty() { "\"\"" } else { off };
    format!("{feature} not supported by ferrokv yet: '{name}' accepts only {off}")
}

/// `dir`: must be a directory the server can enter; kept absolute.
/// `dir` as Redis reports it: the working directory (the one set, or
/// the one the server started in), absolute.
fn get_dir(c: &Config) -> String {
    if !c.dir.is_empty() {
        return c.dir.clone();
    }
    std::env::current_dir().map(|d| d.to_string_lossy().into_owned()).unwrap_or_default()
}

fn set_dir(c: &mut Config, v: &str) -> Result<(), String> {
    let path = std::fs::canonicalize(v).map_err(|e| strerror(&e))?;
    if !path.is_dir() {
        return Err("Not a directory".into());
    }
    // Redis chdir()s here, which needs search permission: check it.
    std::fs::read_dir(&path).map_err(|e| strerror(&e))?;
    c.dir = path.to_string_lossy().into_owned();
    Ok(())
}

/// The C library's text of an I/O error, as Redis prints `strerror(errno)`.
pub fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// A `shutdown-on-sigint`/`-sigterm` value: flags among `default save
/// nosave now force`, as Redis checks them.
fn shutdown_flags(v: &str) -> Result<String, String> {
    let mut words = Vec::new();
    for w in v.split_whitespace() {
        let name = options::SHUTDOWN_NAMES
            .iter()
            .find(|n| n.eq_ignore_ascii_case(w))
            .ok_or_else(|| kind::enum_error(options::SHUTDOWN_NAMES))?;
        if !words.contains(name) {
            words.push(*name);
        }
    }
    if words.is_empty() {
        // No word (`CONFIG SET shutdown-on-sigint ""`, the name alone in a
        // file): Redis's enum error.
        return Err(kind::enum_error(options::SHUTDOWN_NAMES));
    }
    if words.contains(&"save") && words.contains(&"nosave") {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
    }
    if words.len() > 1 {
        words.retain(|w| *w != "default");
    }
    // Listed in the table's order, as Redis lists the flags set.
    words.sort_by_key(|w| options::SHUTDOWN_NAMES.iter().position(|n| n == w));
    Ok(words.join(" "))
}

/// Finds an option by name or alias (case-insensitive).
pub fn option(name: &str) -> Option<&'static ConfigOption> {
    OPTIONS.iter().find(|o| o.names().any(|n| n.eq_ignore_ascii_case(name)))
}

/// Every name CONFIG GET can match: each option, then each alias.
pub fn names() -> impl Iterator<Item = (&'static str, &'static ConfigOption)> {
    OPTIONS.iter().map(|o| (o.name, o)).chain(OPTIONS.iter().filter_map(|o| o.alias.map(|a| (a, o))))
}

/// Directives Redis 7.0 still accepts in a config file and ignores.
const DEPRECATED: &[&str] = &["list-max-ziplist-entries", "list-max-ziplist-value", "lua-replicate-commands"];

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

/// A config line for `name value`: multi-word values as separate words.
fn conf_line(o: &ConfigOption, value: &str) -> String {
    if o.has(flag::MULTI_ARG) && !value.is_empty() {
        format!("{} {}", o.name, value.split(' ').map(conf_quote).collect::<Vec<_>>().join(" "))
    } else {
        format!("{} {}", o.name, conf_quote(value))
    }
}

impl Config {
    /// CONFIG REWRITE: rewrites `text` (the config file's content) so it
    /// reflects this config. Lines of options that changed are replaced in
    /// place, comments and unknown lines are kept, later duplicates of an
    /// option are dropped, and options that differ from the default but were
    /// not in the file are appended, as Redis does; with `force_all`
    /// (DEBUG CONFIG-REWRITE-FORCE-ALL) every option is, default or not.
    pub fn rewrite(&self, text: &str, force_all: bool) -> String {
        let defaults = Config::default();
        let mut out = Vec::new();
        let mut done: Vec<&str> = Vec::new();
        for line in text.lines() {
            let word = line.split_whitespace().next().unwrap_or("");
            match option(word).filter(|_| !line.trim_start().starts_with('#')) {
                Some(opt) if done.contains(&opt.name) => {}
                Some(opt) => {
                    done.push(opt.name);
                    out.push(conf_line(opt, &(opt.get)(self, opt)));
                }
                None => out.push(line.to_string()),
            }
        }
        let mut header = false;
        for opt in OPTIONS {
            let value = (opt.get)(self, opt);
            // Redis writes `dir` always (its default is wherever the
            // server started), `replicaof` only with a primary.
            let default = value == (opt.get)(&defaults, opt) && opt.name != "dir";
            let unwritten = opt.name == "replicaof" && value.is_empty();
            if done.contains(&opt.name) || (default && !force_all) || unwritten {
                continue;
            }
            if !header {
                out.push("# Generated by CONFIG REWRITE".into());
                header = true;
            }
            out.push(conf_line(opt, &value));
        }
        out.join("\n") + "\n"
    }

    /// Applies one `name value...` directive.
    pub fn apply(&mut self, name: &str, values: &[String]) -> Result<(), String> {
        if name.eq_ignore_ascii_case("user") && !values.is_empty() {
            // Checked when the server starts (the rules need the command
            // table), as Redis loads them after the whole file.
            self.users.push(values.to_vec());
            return Ok(());
        }
        if name.eq_ignore_ascii_case("rename-command") && values.len() == 2 {
            self.renames.push((values[0].clone(), values[1].clone()));
            return Ok(());
        }
        let Some(opt) = option(name) else {
            if DEPRECATED.iter().any(|d| d.eq_ignore_ascii_case(name)) && values.len() == 1 {
                return Ok(());
            }
            return Err(match name.to_ascii_lowercase().as_str() {
                "loadmodule" => "modules (loadmodule) are not supported by ferrokv".into(),
                "sentinel" => "sentinel mode is not supported by ferrokv".into(),
                _ => "Bad directive or wrong number of arguments".into(),
            });
        };
        if !opt.has(flag::MULTI_ARG) && values.len() != 1 {
            return Err("wrong number of arguments".into());
        }
        (opt.set)(self, opt, &values.join(" "))
    }

    /// Applies the text of a config file; errors name the line, like Redis.
    pub fn load_text(&mut self, text: &str) -> Result<(), String> {
        self.load_text_depth(text, 0)
    }

    fn load_text_depth(&mut self, text: &str, depth: usize) -> Result<(), String> {
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim_matches([' ', '\t', '\r', '\n']);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let result = split_line(line).and_then(|w| match w.first().map(|s| s.to_ascii_lowercase()) {
                None => Ok(()),
                Some(name) if name == "include" && w.len() == 2 => self.include(&w[1], depth),
                // As Redis reads them: the first `save` line replaces the
                // default rules, the next ones add theirs, `save ""` clears.
                Some(name) if name == "save" => {
                    let before = std::mem::take(&mut self.save);
                    self.apply(&w[0], &w[1..])?;
                    let clear = w.len() == 2 && w[1].is_empty();
                    if std::mem::replace(&mut self.save_loaded, true) && !clear {
                        self.save.splice(0..0, before);
                    }
                    Ok(())
                }
                Some(_) => self.apply(&w[0], &w[1..]),
            });
            if let Err(e) = result {
                if e.starts_with("\n*** FATAL CONFIG FILE ERROR") {
                    return Err(e);
                }
                return Err(format!(
                    "\n*** FATAL CONFIG FILE ERROR (Redis {}) ***\nReading the configuration file, at line {}\n>>> '{}'\n{}",
                    crate::REDIS_VERSION,
                    n + 1,
                    line,
                    e
                ));
            }
        }
        Ok(())
    }

    /// `include path`: the file's lines, here; a glob pattern includes
    /// every file it matches (none is fine), as Redis does.
    fn include(&mut self, path: &str, depth: usize) -> Result<(), String> {
        if depth > 16 {
            return Err("too many nested includes".into());
        }
        let files: Vec<PathBuf> = if path.contains(['*', '?', '[']) {
            let (dir, pat) = path.rsplit_once('/').unwrap_or((".", path));
            let mut found: Vec<PathBuf> = std::fs::read_dir(if dir.is_empty() { "/" } else { dir })
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .filter(|e| crate::glob::matches(pat.as_bytes(), e.file_name().as_encoded_bytes(), false))
                        .map(|e| e.path())
                        .collect()
                })
                .unwrap_or_default();
            found.sort();
            found
        } else {
            vec![PathBuf::from(path)]
        };
        for file in files {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("Fatal error, can't open config file '{}': {}", file.display(), strerror(&e)))?;
            self.load_text_depth(&text, depth + 1)?;
        }
        Ok(())
    }

    /// Builds a config from command-line arguments like redis-server's:
    /// `[config-file] [--name value ...]`, with `-` as the first or last
    /// argument reading more of the file from standard input. The options
    /// become config lines after the file's text (see [`command_line`]),
    /// so their errors read as the file's do. An error is the config
    /// parser's report (`*** FATAL CONFIG FILE ERROR`, for standard error)
    /// or else a message redis-server logs (a file that cannot be read).
    pub fn from_args(args: &[String]) -> Result<Config, String> {
        let mut config = Config::default();
        let mut text = String::new();
        let mut start = 0;
        if let Some(first) = args.first()
            && !first.starts_with('-')
        {
            let path = absolute_path(first);
            text = std::fs::read_to_string(&path)
                .map_err(|e| format!("Fatal error, can't open config file '{}': {}", path.display(), strerror(&e)))?;
            config.config_file = Some(path);
            start = 1;
        }
        let (options, from_stdin) = command_line(args, start);
        if from_stdin {
            print!("{}", crate::logging::early_line("Reading config from stdin"));
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| format!("Reading config from stdin: {e}"))?;
        }
        text.push('\n');
        text.push_str(&options);
        config.load_text(&text)?;
        Ok(config)
    }
}

/// Redis's `getAbsolutePath`: a relative `name` (trimmed) joined to the
/// working directory, each leading `../` taking off one of its parts;
/// links are not resolved (INFO's `config_file`, the file CONFIG REWRITE
/// writes).
pub fn absolute_path(name: &str) -> PathBuf {
    let mut rel = name.trim_matches([' ', '\r', '\n', '\t']);
    if rel.starts_with('/') {
        return PathBuf::from(rel);
    }
    let Ok(cwd) = std::env::current_dir() else { return PathBuf::from(rel) };
    let mut abs = cwd.to_string_lossy().into_owned();
    if !abs.ends_with('/') {
        abs.push('/');
    }
    while let Some(rest) = rel.strip_prefix("../") {
        rel = rest;
        if abs.len() > 1 {
            let cut = abs[..abs.len() - 1].rfind('/').map_or(0, |i| i + 1);
            abs.truncate(cut);
        }
    }
    abs.push_str(rel);
    PathBuf::from(abs)
}

/// The config lines of redis-server's command line from `args[start..]`
/// (what its `main` builds): `--name` starts a line, the arguments after
/// it are its values, quoted (`sdscatrepr`); a name given alone takes the
/// next argument as its value even if it starts with `--` (`--port
/// --loglevel verbose` is the line `port "--loglevel" "verbose"`), except
/// `--save` before another option or last (`save ""`) and `--sentinel`;
/// `--name value` in one argument is a whole line. Returns the lines and
/// whether `-` (first or last) asks for the file from standard input.
fn command_line(args: &[String], start: usize) -> (String, bool) {
    let mut out = Vec::new();
    let mut from_stdin = false;
    // The option before has its value (Redis's handled_last_config_arg):
    // a `--` argument starts a new option, else it is that value.
    let mut had_value = true;
    for (j, arg) in args.iter().enumerate().skip(start) {
        let last = j + 1 == args.len();
        if arg == "-" && (j == 0 || last) {
            from_stdin = true;
        } else if had_value && arg.starts_with("--") {
            if !out.is_empty() {
                out.push(b'\n');
            }
            out.extend_from_slice(&arg.as_bytes()[2..]);
            out.push(b' ');
            let words = split_line(arg).map_or(0, |w| w.len());
            had_value = words != 1;
            if words == 1 {
                let before_option = args.get(j + 1).is_some_and(|n| n.starts_with("--"));
                if arg.eq_ignore_ascii_case("--save") && (before_option || last) {
                    out.extend_from_slice(b"\"\"");
                    had_value = true;
                } else if arg.eq_ignore_ascii_case("--sentinel") && before_option {
                    had_value = true;
                }
            }
        } else {
            crate::resp::parse::repr(&mut out, arg.as_bytes());
            out.push(b' ');
            had_value = true;
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), from_stdin)
}

/// The README's configuration table: every option, its default in
/// ferrokv, whether CONFIG SET may change it, and its state.
pub fn markdown() -> String {
    let defaults = Config::default();
    let mut out = String::from("| Parameter | Default | CONFIG SET | State in ferrokv |\n|---|---|---|---|\n");
    for o in OPTIONS {
        let mut name = format!("`{}`", o.name);
        if let Some(a) = o.alias {
            let _ = write!(name, " (`{a}`)");
        }
        let default = (o.get)(&defaults, o);
        let default = match o.name {
            "dir" => "the working directory".to_string(),
            _ if default.is_empty() => "\"\"".to_string(),
            _ => format!("`{default}`"),
        };
        let settable = if o.has(flag::IMMUTABLE) {
            "no"
        } else if o.has(flag::PROTECTED) {
            "protected"
        } else {
            "yes"
        };
        let state = match o.state {
            State::Works => format!("works: {}", o.doc),
            State::Partly(why) => format!("works: {}; {why}", o.doc),
            State::Tunes(feature) => format!("kept for {feature} (not yet in ferrokv): {}", o.doc),
            State::OffOnly(feature) => {
                format!("{feature} not yet in ferrokv: only the default is accepted ({})", o.doc)
            }
            State::Inert(why) => format!("no effect: {why} ({})", o.doc),
        };
        let _ = writeln!(out, "| {name} | {default} | {settable} | {} |", state.replace('|', "\\|"));
    }
    out
}
#[cfg(test)]
mod tests {
    use super::*;

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
        c.dir = "/tmp".into();
        let text = c.rewrite("# my config\nmaxclients 77\nhz 20\nhz 30\n", false);
        // `dir` is written whatever its value, as Redis writes it.
        assert_eq!(text, "# my config\nmaxclients 78\nhz 30\n# Generated by CONFIG REWRITE\ntimeout 5\ndir /tmp\n");
        let mut again = Config::default();
        again.load_text(&text).unwrap();
        assert_eq!((again.maxclients, again.hz, again.timeout), (78, 30, 5));
    }

    /// Found by the config fuzz target: `\v` between a name and its value
    /// was taken as a space, and CONFIG REWRITE then missed the line.
    /// redis-server 7.0.15 refuses the file: `Reading the configuration
    /// file, at line 1 >>> 'hz\v2' Bad directive or wrong number of
    /// arguments`; a `\v` after a closing quote is a space there.
    #[test]
    fn a_vertical_tab_inside_a_word_is_not_a_space() {
        let mut c = Config::default();
        let e = c.load_text("hz\x0b2\n").unwrap_err();
        assert!(e.contains("line 1") && e.contains("Bad directive or wrong number of arguments"), "{e}");
        c.load_text("\x0chz''\x0b3\n").unwrap();
        assert_eq!(c.hz, 3);
    }

    /// `save` lines as redis-server 7.0.15 reads them (recorded): the first
    /// replaces the defaults, the next add their rules, command-line ones
    /// too (they follow the file's text); `save ""` clears; CONFIG SET
    /// replaces.
    #[test]
    fn save_lines_add_up_as_in_redis() {
        let rules = |text: &str| {
            let mut c = Config::default();
            c.load_text(text).unwrap();
            c.save
        };
        assert_eq!(rules("port 1\n"), [(3600, 1), (300, 100), (60, 10000)]);
        assert_eq!(rules("save 900 1\nsave 100 100\n"), [(900, 1), (100, 100)]);
        assert_eq!(rules("save 900 1\nsave \"\"\n"), []);
        assert_eq!(rules("save \"\"\nsave 100 100\n"), [(100, 100)]);
        let args: Vec<String> = ["--save", "100", "100", "--save", "5", "1"].iter().map(|s| s.to_string()).collect();
        assert_eq!(Config::from_args(&args).unwrap().save, [(100, 100), (5, 1)]);
        let mut c = Config::default();
        c.load_text("save 900 1\n").unwrap();
        c.apply("save", &["60".into(), "5".into()]).unwrap();
        assert_eq!(c.save, [(60, 5)]);
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
