//! State shared by all commands (owned by the event loop) and the
//! per-client state a command may change.

use crate::config::Config;
use crate::resp::{Proto, Span};
use crate::server::latency::{Histogram, Monitor};
use crate::server::tracking::{ClientTracking, Tracking};
use crate::store::evict::Evictor;
use crate::store::lazyfree::LazyFree;
use crate::store::{Db, Key, rand::Rng};
use hashbrown::HashMap;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// A client waiting in a blocking command (BLPOP, BLMOVE, …).
#[derive(Debug)]
pub struct Blocked {
    pub db: usize,
    pub keys: Vec<Key>,
    /// The type of value that serves it (`"list"`, `"zset"`): a ready key
    /// holding another type leaves it blocked, as in Redis 7.0.
    pub wants: &'static str,
    /// Unix ms after which it times out; `None` waits forever.
    pub deadline: Option<u64>,
    /// The command, kept to run again when one of its keys gets data.
    pub data: Vec<u8>,
    pub spans: Vec<Span>,
}

/// Who waits on which key, in arrival order, and which keys got data.
///
/// Mirrors Redis's `blocking_keys` / `ready_keys`: a write that may serve a
/// waiter calls [`Blocking::signal`]; after the command, the loop retries the
/// first waiter's command for every ready key, first come first served.
#[derive(Debug, Default)]
pub struct Blocking {
    /// Per database: key → (connection key, client id) in arrival order.
    waiting: Vec<HashMap<Key, VecDeque<(usize, u64)>>>,
    /// Keys that received data while someone waits on them.
    pub ready: Vec<(usize, Key)>,
    /// Set while a blocked client's command is being retried.
    pub retrying: bool,
    /// The retried command found nothing and would block again.
    pub still_blocked: bool,
}

impl Blocking {
    /// Notes that `key` in `db` got data, if anyone waits on it.
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        let waited = self.waiting.get(db).is_some_and(|m| m.contains_key(key));
        if waited && !self.ready.iter().any(|(d, k)| *d == db && &k[..] == key) {
            self.ready.push((db, key.into()));
        }
    }

    /// Waited keys that no longer exist (expired, or deleted without a
    /// keyspace event) are signalled, so that an XREADGROUP waiting on a
    /// stream that is gone gets its error (see `Server::serve_ready`).
    pub fn signal_missing(&mut self, dbs: &[crate::store::Db], now: u64) {
        let gone: Vec<(usize, Key)> = self
            .waiting
            .iter()
            .zip(dbs)
            .enumerate()
            .flat_map(|(i, (w, d))| w.keys().filter(|k| d.get_ref(k, now).is_none()).map(move |k| (i, k.clone())))
            .collect();
        for (db, k) in gone {
            self.signal(db, &k);
        }
    }

    /// Every waited key of `db` may have data now (SWAPDB).
    pub fn signal_db(&mut self, db: usize) {
        let keys: Vec<Key> = self.waiting.get(db).map(|m| m.keys().cloned().collect()).unwrap_or_default();
        for k in keys {
            self.signal(db, &k);
        }
    }

    pub fn add(&mut self, db: usize, keys: &[Key], conn: usize, id: u64) {
        if self.waiting.len() <= db {
            self.waiting.resize_with(db + 1, HashMap::new);
        }
        for k in keys {
            self.waiting[db].entry(k.clone()).or_default().push_back((conn, id));
        }
    }

    pub fn remove(&mut self, db: usize, keys: &[Key], conn: usize, id: u64) {
        let Some(map) = self.waiting.get_mut(db) else { return };
        for k in keys {
            if let Some(q) = map.get_mut(k) {
                q.retain(|&w| w != (conn, id));
                if q.is_empty() {
                    map.remove(k);
                }
            }
        }
    }

    /// The `n`th client (from 0) waiting on `key`.
    pub fn nth(&self, db: usize, key: &[u8], n: usize) -> Option<(usize, u64)> {
        self.waiting.get(db)?.get(key)?.get(n).copied()
    }

    /// Number of clients blocked (INFO blocked_clients counts clients, but
    /// a client waits on each of its keys; the loop counts clients itself).
    pub fn is_empty(&self) -> bool {
        self.waiting.iter().all(|m| m.is_empty())
    }
}

/// Counters reported by INFO and used by tests.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub commands_processed: u64,
    pub connections_received: u64,
    pub rejected_connections: u64,
    /// Per command id (see `cmd::table::registry`).
    pub commands: Vec<CommandStat>,
    /// Error replies by their first word (`ERR`, `WRONGTYPE`, …).
    pub errors: Vec<(String, u64)>,
    pub error_replies: u64,
    /// Changes to the keyspace, counted as Redis counts `server.dirty` (INFO's
    /// `rdb_changes_since_last_save`; see [`Changes`]).
    pub dirty: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    /// What went to replicas (not in `net_output_bytes`, as in Redis).
    pub net_repl_output_bytes: u64,
    /// Keys removed to hold maxmemory.
    pub evicted_keys: u64,
    /// Clients closed to hold maxmemory-clients.
    pub evicted_clients: u64,
    /// Microseconds spent over `maxmemory` in spells that ended, and the
    /// start of the one going on (INFO's `*_eviction_exceeded_time`).
    pub eviction_exceeded_us: u64,
    pub eviction_exceeded_since: Option<std::time::Instant>,
    /// Active-expiry cycles stopped by their time budget, their time in
    /// microseconds, and Redis's running estimate (5% per cycle) of the
    /// share of sampled keys found expired (INFO's `expired_*`).
    pub expire_time_cap_reached: u64,
    pub expire_cycle_us: u64,
    pub expired_stale: f64,
    /// Reads from and writes to clients' sockets attempted (Redis's
    /// `stat_total_reads_processed`, `stat_total_writes_processed`).
    pub reads_processed: u64,
    pub writes_processed: u64,
    /// Reply buffers the clients cron shrank.
    pub reply_buffer_shrinks: u64,
}

/// One command's counters (INFO commandstats).
#[derive(Debug, Default, Clone)]
pub struct CommandStat {
    pub calls: u64,
    pub usec: u64,
    pub failed: u64,
    pub rejected: u64,
    /// Latency histogram (latency-tracking), made on first use.
    pub hist: Option<Box<Histogram>>,
}

impl Stats {
    pub fn command(&mut self, id: usize) -> &mut CommandStat {
        if self.commands.len() <= id {
            self.commands.resize(crate::cmd::table::registry().entries.len().max(id + 1), CommandStat::default());
        }
        &mut self.commands[id]
    }

    /// Counts an error reply under its code (the text up to the first space).
    pub fn error_reply(&mut self, text: &str) {
        self.error_replies += 1;
        let code = text.split(' ').next().unwrap_or("ERR");
        if let Some((_, n)) = self.errors.iter_mut().find(|(c, _)| c == code) {
            *n += 1;
        } else if self.errors.len() < 128 {
            // Bounded: codes are a small fixed set of upper-case words.
            self.errors.push((code.to_string(), 1));
        }
    }
}

/// What the running command changed, for the change counter
/// (`Stats::dirty`). Redis adds to `server.dirty` per key or element a
/// command changes: a command that counts that way says how much
/// (`Ctx::dirty`); any other write command that raised a keyspace event
/// (so changed a key) counts one, and a no-op nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Changes {
    /// Keyspace events raised (`Ctx::notify`).
    pub events: u32,
    /// The command counted its changes itself.
    pub counted: bool,
}

/// What a command asks the event loop to do after it returns.
#[derive(Debug, Default)]
pub struct LoopRequests {
    /// `timeout` changed: arm idle timers for existing connections.
    pub rearm_idle: bool,
    /// Connections to close (CLIENT KILL), by key and client id.
    pub close: Vec<(usize, u64)>,
    /// SHUTDOWN was called.
    pub shutdown: bool,
    /// SIGTERM or SIGINT came (the signal): the cron shuts down at its next
    /// tick, unless SHUTDOWN ABORT clears it first (Redis's
    /// `shutdown_asap`; DEBUG PAUSE-CRON holds it).
    pub shutdown_asap: Option<i32>,
    /// CLIENT UNBLOCK: (connection key, client id, reply with an error).
    pub unblock: Vec<(usize, u64, bool)>,
    /// CLIENT PAUSE or UNPAUSE changed the pause.
    pub pause_changed: bool,
    /// SHUTDOWN ABORT of a shutdown waiting for replicas.
    pub cancel_shutdown: bool,
    /// The server must exit at once (Redis's `exit(1)`: DEBUG LOADAOF
    /// failed), with this error.
    pub fatal: Option<String>,
}

/// CLIENT PAUSE in effect: until when, and whether all commands or only
/// writes wait.
#[derive(Debug, Clone, Copy)]
pub struct Pause {
    /// Unix ms.
    pub until: u64,
    pub all: bool,
}

/// Redis's instantaneous metrics: rates sampled every cron tick, averaged
/// over the last 16 samples (`trackInstantaneousMetric`).
#[derive(Debug, Default)]
pub struct Metrics {
    last: Option<(u64, [u64; 4])>,
    samples: [[f64; 16]; 4],
    next: usize,
}

impl Metrics {
    /// Records the counters (commands, input bytes, output bytes,
    /// replication output bytes) at `now_ms`.
    pub fn sample(&mut self, now_ms: u64, counters: [u64; 4]) {
        if let Some((t, prev)) = self.last
            && now_ms > t
        {
            for k in 0..4 {
                self.samples[k][self.next] = counters[k].saturating_sub(prev[k]) as f64 * 1000.0 / (now_ms - t) as f64;
            }
            self.next = (self.next + 1) % 16;
        }
        self.last = Some((now_ms, counters));
    }

    /// Average rate per second of metric `k` (0 ops, 1 input, 2 output).
    pub fn rate(&self, k: usize) -> f64 {
        self.samples[k].iter().sum::<f64>() / 16.0
    }
}

/// Settings that only DEBUG changes (Redis keeps them in `server`), kept
/// here for the code that will read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebugSettings {
    /// DEBUG QUICKLIST-PACKED-THRESHOLD: list elements at least this many
    /// bytes long go in a plain node of their own (Redis's quicklist
    /// `packed_threshold`, 1 GB by default, below 4 GB - 1 MB).
    pub quicklist_packed_threshold: u64,
    /// DEBUG REPLYBUFFER PEAK-RESET-TIME: ms between resets of a client's
    /// reply-buffer peak, -1 for never (Redis's default 5000).
    pub reply_buffer_peak_reset_time: i64,
    /// DEBUG REPLYBUFFER RESIZING: whether the cron resizes reply buffers.
    pub reply_buffer_resizing: bool,
    /// DEBUG SET-DISABLE-DENY-SCRIPTS: scripts may run commands flagged
    /// `noscript` (for the scripting work).
    pub disable_deny_scripts: bool,
    /// DEBUG PAUSE-CRON: the cron's ticks do nothing.
    pub pause_cron: bool,
    /// DEBUG SET-SKIP-CHECKSUM-VALIDATION: RESTORE and RDB loads do not
    /// check the CRC-64 (Redis's test hook for hand-made payloads).
    pub skip_checksum_validation: bool,
}

impl Default for DebugSettings {
    /// Redis's defaults.
    fn default() -> DebugSettings {
        DebugSettings {
            quicklist_packed_threshold: 1 << 30,
            reply_buffer_peak_reset_time: 5000,
            reply_buffer_resizing: true,
            disable_deny_scripts: false,
            pause_cron: false,
            skip_checksum_validation: false,
        }
    }
}

/// What modified a key, for [`Shared::signal_modified`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// A command of the running client.
    Write,
    Expired,
    Evicted,
}

/// Which clients WATCH which keys (Redis's `watched_keys`).
#[derive(Debug, Default)]
pub struct Watches {
    /// Per database: key → (connection key, client id).
    by_key: Vec<HashMap<Key, Vec<(usize, u64)>>>,
}

impl Watches {
    pub fn is_empty(&self) -> bool {
        self.by_key.iter().all(|m| m.is_empty())
    }

    pub fn add(&mut self, db: usize, key: &[u8], conn: usize, id: u64) {
        if self.by_key.len() <= db {
            self.by_key.resize_with(db + 1, HashMap::new);
        }
        let list = self.by_key[db].entry(key.into()).or_default();
        if !list.contains(&(conn, id)) {
            list.push((conn, id));
        }
    }

    pub fn remove(&mut self, db: usize, key: &[u8], conn: usize, id: u64) {
        if let Some(map) = self.by_key.get_mut(db)
            && let Some(list) = map.get_mut(key)
        {
            list.retain(|&w| w != (conn, id));
            if list.is_empty() {
                map.remove(key);
            }
        }
    }

    /// Clients watching `key` in `db`.
    pub fn watchers(&self, db: usize, key: &[u8]) -> &[(usize, u64)] {
        self.by_key.get(db).and_then(|m| m.get(key)).map_or(&[], |v| &v[..])
    }

    /// The watched keys of `db` with their watchers.
    pub fn keys_of_db(&self, db: usize) -> impl Iterator<Item = (&Key, &Vec<(usize, u64)>)> {
        self.by_key.get(db).into_iter().flatten()
    }
}

/// Subscribers, by channel and by pattern (shard channels apart), and the
/// messages published by the last command, which the loop delivers.
#[derive(Debug, Default)]
pub struct PubSub {
    pub channels: HashMap<Key, Vec<(usize, u64)>>,
    pub patterns: HashMap<Key, Vec<(usize, u64)>>,
    pub shard: HashMap<Key, Vec<(usize, u64)>>,
    /// Messages waiting for delivery.
    pub outbox: Vec<Outgoing>,
}

/// A published message (PUBLISH, SPUBLISH or a keyspace event) on its way
/// to its subscribers.
#[derive(Debug)]
pub struct Outgoing {
    pub channel: Key,
    pub message: Vec<u8>,
    pub shard: bool,
    /// A client the command's own connection already wrote it to (it is
    /// the publisher and a subscriber): skipped on delivery.
    pub served: Option<usize>,
}

/// One of the three subscription kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubKind {
    Channel,
    Pattern,
    Shard,
}

impl PubSub {
    pub fn map(&mut self, kind: SubKind) -> &mut HashMap<Key, Vec<(usize, u64)>> {
        match kind {
            SubKind::Channel => &mut self.channels,
            SubKind::Pattern => &mut self.patterns,
            SubKind::Shard => &mut self.shard,
        }
    }

    /// The subscriptions a message on `channel` reaches, in Redis's order
    /// (the channel's subscribers, then each matching pattern's): client,
    /// id, and the pattern for a pattern subscription.
    pub fn targets(&self, channel: &[u8], shard: bool) -> Vec<(usize, u64, Option<Key>)> {
        let mut targets = Vec::new();
        if shard {
            targets.extend(self.shard.get(channel).into_iter().flatten().map(|&(k, id)| (k, id, None)));
        } else {
            targets.extend(self.channels.get(channel).into_iter().flatten().map(|&(k, id)| (k, id, None)));
            for (pat, subs) in &self.patterns {
                if crate::glob::matches(pat, channel, false) {
                    targets.extend(subs.iter().map(|&(k, id)| (k, id, Some(pat.clone()))));
                }
            }
        }
        targets
    }

    /// How many clients a message on `channel` reaches.
    pub fn receivers(&self, channel: &[u8], shard: bool) -> usize {
        if shard {
            return self.shard.get(channel).map_or(0, |v| v.len());
        }
        let direct = self.channels.get(channel).map_or(0, |v| v.len());
        let by_pattern: usize =
            self.patterns.iter().filter(|(p, _)| crate::glob::matches(p, channel, false)).map(|(_, v)| v.len()).sum();
        direct + by_pattern
    }
}

/// One SLOWLOG entry.
#[derive(Debug, Clone)]
pub struct SlowEntry {
    pub id: u64,
    pub unix_secs: u64,
    pub micros: u64,
    /// Arguments as Redis keeps them: at most 32, each cut to 128 bytes.
    pub args: Vec<Vec<u8>>,
    pub addr: String,
    pub name: Vec<u8>,
}

/// Everything the loop owns besides connections.
pub struct Shared {
    pub dbs: Vec<Db>,
    pub config: Config,
    /// The cron frequency now (`hz`, raised by `dynamic-hz`).
    pub hz: u32,
    /// RDB snapshots and loading.
    pub persist: super::persistence::Persistence,
    /// The listening sockets (CONFIG SET port/bind rebinds them).
    pub listeners: Option<super::listen::Listeners>,
    pub stats: Stats,
    /// The running command's changes (see [`Changes`]).
    pub changes: Changes,
    pub rng: Rng,
    pub started: Instant,
    pub requests: LoopRequests,
    /// Per-connection client state, indexed by connection key.
    pub clients: Vec<Option<Client>>,
    pub metrics: Metrics,
    /// Unix ms at start (LASTSAVE, rdb_last_save_time).
    pub started_unix_ms: u64,
    /// 40 hex characters, new each start (INFO run_id).
    pub run_id: String,
    pub peak_memory: usize,
    /// DEBUG SET-ACTIVE-EXPIRE.
    pub active_expire: bool,
    /// The other settings DEBUG changes.
    pub debug: DebugSettings,
    /// `watchdog-period`'s timer (see `watchdog`).
    pub watchdog: super::watchdog::Watchdog,
    /// Replication, the primary's side (see `server::replication`).
    pub repl: super::replication::Replication,
    /// The port actually bound (INFO tcp_port).
    pub port: u16,
    /// When the next command started, in `clock::mono_ns` nanoseconds (see
    /// `cmd::dispatch`): set before each batch, then moved to the end of each
    /// command.
    pub cmd_clock: u64,
    pub blocking: Blocking,
    pub watches: Watches,
    pub pubsub: PubSub,
    /// EXEC is running its queued commands (blocking commands don't block).
    pub in_exec: bool,
    /// A script is running (its commands run with `in_exec` set too).
    pub in_script: bool,
    /// A command called from a script is running: its reply goes to the
    /// script, so messages for the caller itself wait for the call to end
    /// and go to the caller's own stream then (see `Ctx::publish_inline`).
    pub in_script_call: bool,
    /// CLIENT REPLY OFF or SKIP silences the running command's output from
    /// this offset of its client's output buffer on (see `Ctx::mute`).
    pub mute_from: Option<usize>,
    /// SLOWLOG entries, newest first, and the next id.
    pub slowlog: VecDeque<SlowEntry>,
    pub slowlog_next_id: u64,
    /// MONITOR clients, and the lines waiting to be sent to them.
    pub monitors: Vec<(usize, u64)>,
    pub monitor_feed: Vec<u8>,
    /// The eviction pool (maxmemory).
    pub evictor: Evictor,
    /// An eviction pass ran out of time: the loop goes on with it.
    pub evicting: bool,
    /// The memory of every client (each client's `mem`), what
    /// maxmemory-clients limits and INFO's `mem_clients_normal`.
    pub clients_mem: usize,
    /// The lazy-free helper thread.
    pub lazy: LazyFree,
    /// Bytes allocated when the server started (MEMORY STATS).
    pub startup_memory: usize,
    /// The latency monitor (LATENCY LATEST/HISTORY).
    pub latency: Monitor,
    /// CLIENT PAUSE, and the clients whose command waits for its end.
    pub pause: Option<Pause>,
    pub postponed: Vec<(usize, u64)>,
    /// Client-side caching (CLIENT TRACKING).
    pub tracking: Tracking,
    /// Connection key of each live client id (CLIENT TRACKING REDIRECT,
    /// the tracking table's ids).
    pub by_id: HashMap<u64, usize>,
    /// The client whose command is running (Redis's `current_client`).
    pub current: Option<usize>,
    /// A command's handler is running (Redis's CLIENT_EXECUTING_COMMAND):
    /// not while the checks before it run (an eviction there tells the
    /// client at once, before its reply).
    pub executing: bool,
    /// Resident set size as last sampled by the cron (INFO, MEMORY STATS):
    /// reading /proc on every INFO could stall the loop while the kernel
    /// takes back pages the lazy-free thread released.
    pub rss: usize,
    /// MemTotal, read once at start (INFO total_system_memory).
    pub system_memory: u64,
    /// Whether writes report the keys they modify (keyspace events, WATCH
    /// or tracking need them); kept by `sync_notify`.
    pub key_signals: bool,
    /// MIGRATE's cached connections.
    pub migrate: crate::cmd::migrate::Sockets,
    /// The propagation path (what commands changed, as Redis propagates
    /// it) and the append-only file that consumes it.
    pub prop: crate::persist::propagate::Propagator,
    pub aof: super::aof::AofState,
    /// ACL users and the ACL log.
    pub acl: crate::acl::Acl,
    /// `rename-command`s of the config file, if any (see `cmd::Renames`).
    pub renames: Option<Box<crate::cmd::Renames>>,
}

/// 40 random hex digits (a run id, a replication id).
pub fn random_hex40(rng: &mut Rng) -> String {
    (0..40).map(|_| char::from_digit(rng.below(16) as u32, 16).unwrap_or('0')).collect()
}

impl Shared {
    pub fn new(config: Config) -> Shared {
        let mut rng = Rng::from_time();
        let run_id = random_hex40(&mut rng);
        let repl_id = random_hex40(&mut rng);
        let signals = std::sync::Arc::default();
        let mut shared = Shared {
            dbs: (0..config.databases).map(|_| Db::with_signals(std::sync::Arc::clone(&signals))).collect(),
            port: config.port,
            cmd_clock: crate::clock::mono_ns(),
            hz: config.hz,
            persist: super::persistence::Persistence {
                lastsave: crate::server::unix_ms() / 1000,
                last_bgsave_ok: true,
                last_bgsave_secs: -1,
                ..Default::default()
            },
            config,
            listeners: None,
            stats: Stats::default(),
            changes: Changes::default(),
            rng,
            metrics: Metrics::default(),
            started_unix_ms: crate::server::unix_ms(),
            run_id,
            peak_memory: 0,
            active_expire: true,
            debug: DebugSettings::default(),
            watchdog: Default::default(),
            repl: super::replication::Replication::new(repl_id),
            blocking: Blocking::default(),
            watches: Watches::default(),
            pubsub: PubSub::default(),
            in_exec: false,
            in_script: false,
            in_script_call: false,
            mute_from: None,
            slowlog: VecDeque::new(),
            slowlog_next_id: 0,
            monitors: Vec::new(),
            monitor_feed: Vec::new(),
            started: Instant::now(),
            requests: LoopRequests::default(),
            clients: Vec::new(),
            evictor: Evictor::default(),
            evicting: false,
            clients_mem: 0,
            lazy: LazyFree::default(),
            startup_memory: crate::alloc::allocated(),
            latency: Monitor::default(),
            pause: None,
            postponed: Vec::new(),
            tracking: Tracking::default(),
            by_id: HashMap::new(),
            current: None,
            executing: false,
            key_signals: false,
            prop: Default::default(),
            aof: Default::default(),
            rss: crate::alloc::rss(),
            system_memory: crate::alloc::system_memory(),
            migrate: Default::default(),
            acl: Default::default(),
            renames: None,
        };
        shared.sync_tracking();
        shared.sync_notify();
        shared
    }

    /// The client of a live connection.
    pub fn client(&self, key: usize) -> &Client {
        self.clients[key].as_ref().expect("a live connection has a client")
    }

    pub fn client_mut(&mut self, key: usize) -> &mut Client {
        self.clients[key].as_mut().expect("a live connection has a client")
    }

    /// Registers the client of a new connection under `key`.
    pub fn add_client(&mut self, key: usize, client: Client) {
        if self.clients.len() <= key {
            self.clients.resize_with(key + 1, || None);
        }
        self.by_id.insert(client.id, key);
        self.clients[key] = Some(client);
    }

    /// Whether CLIENT PAUSE holds back this command of client `key`: every
    /// command under `ALL`; under `WRITE`, commands that write or may
    /// replicate (EXEC of a queue holding one, too), as Redis decides.
    pub fn pause_holds(&self, key: usize, args: &crate::cmd::Args, now: u64) -> bool {
        let Some(p) = self.pause.filter(|p| p.until > now) else { return false };
        if p.all {
            return true;
        }
        if args.get(0).eq_ignore_ascii_case(b"exec") {
            let queue = self.client(key).multi.as_deref().unwrap_or_default();
            return queue.iter().any(|(data, spans)| crate::cmd::may_replicate(&crate::cmd::Args::new(data, spans)));
        }
        crate::cmd::may_replicate(args)
    }

    /// Feeds the latency monitor: `event` took `micros`.
    pub fn latency_event(&mut self, event: &'static str, micros: u64) {
        let threshold = self.config.latency_monitor_threshold;
        if threshold > 0 && micros / 1000 >= threshold {
            self.latency.add(event, crate::server::unix_ms() / 1000, micros / 1000);
        }
    }

    /// Paused client operations (expiry, eviction) wait too.
    pub fn paused(&self, now: u64) -> bool {
        self.pause.is_some_and(|p| p.until > now)
    }

    /// CLIENT PAUSE (WRITE or ALL) began or ended: while it lasts no key is
    /// deleted for its TTL, on access either (see `Db::expire_paused`).
    pub fn set_expiry_paused(&mut self, paused: bool) {
        for db in &mut self.dbs {
            db.expire_paused = paused;
        }
    }

    pub fn connected_clients(&self) -> usize {
        self.clients.iter().filter(|c| c.is_some()).count()
    }

    /// Samples the RSS (from the cron), unless the lazy-free thread is
    /// releasing memory: then the kernel is busy with this process's pages
    /// and reading /proc/self/statm can take milliseconds; the previous
    /// sample stands until it is done.
    pub fn sample_rss(&mut self) {
        if self.lazy.pending() == 0 {
            self.rss = crate::alloc::rss();
            if crate::alloc::trim_slack(self.rss) {
                self.rss = crate::alloc::rss();
            }
        }
    }

    /// Current allocation, updating the recorded peak.
    pub fn used_memory(&mut self) -> usize {
        let used = crate::alloc::allocated();
        self.peak_memory = self.peak_memory.max(used);
        used
    }

    /// Starts watching `key` in `db` for client `conn` (WATCH).
    pub fn watch(&mut self, db: usize, key: &[u8], conn: usize, id: u64) {
        let was_empty = self.watches.is_empty();
        self.watches.add(db, key, conn, id);
        if was_empty {
            self.sync_notify();
        }
    }

    /// `key` in `db` was modified (Redis's `signalModifiedKey`):
    /// transactions watching it will fail, and clients caching it are told.
    /// `expired`: it was deleted by expiry, which does not fail the
    /// transactions that watched it while it already did not exist.
    pub fn signal_modified(&mut self, db: usize, key: &[u8], cause: Cause) {
        let expired = cause == Cause::Expired;
        if !self.watches.is_empty() {
            let mut watchers = self.watches.watchers(db, key).to_vec();
            if expired {
                watchers.retain(|&(k, id)| {
                    self.clients.get(k).and_then(|c| c.as_ref()).is_some_and(|c| {
                        c.id == id && c.watched.iter().any(|(d, w, existed)| *d == db && &w[..] == key && *existed)
                    })
                });
            }
            self.mark_dirty(&watchers);
        }
        if self.tracking.active() {
            let by = if cause == Cause::Write { self.current.map(|k| self.client(k).id) } else { None };
            self.invalidate_key(key, by);
        }
    }

    /// FLUSHDB, FLUSHALL (`with` None) and SWAPDB (`with` the other
    /// database), before the change: watchers of `db` fail where the key
    /// exists in `db` or in the database that replaces it (Redis's
    /// `touchAllWatchedKeysInDb`).
    pub fn touch_db(&mut self, db: usize, with: Option<usize>, now: u64) {
        let exists = |d: usize, k: &[u8]| self.dbs.get(d).is_some_and(|d| d.get_ref(k, now).is_some());
        let watchers: Vec<(usize, u64)> = self
            .watches
            .keys_of_db(db)
            .filter(|(k, _)| exists(db, k) || with.is_some_and(|w| exists(w, k)))
            .flat_map(|(_, list)| list.iter().copied())
            .collect();
        self.mark_dirty(&watchers);
    }

    fn mark_dirty(&mut self, watchers: &[(usize, u64)]) {
        for &(k, id) in watchers {
            if let Some(Some(c)) = self.clients.get_mut(k)
                && c.id == id
            {
                c.dirty_cas = true;
            }
        }
    }

    /// Forgets every key the client `key` watches (UNWATCH, EXEC, close).
    pub fn unwatch(&mut self, key: usize) {
        let Some(Some(c)) = self.clients.get_mut(key) else { return };
        let id = c.id;
        let watched = std::mem::take(&mut c.watched);
        c.dirty_cas = false;
        let had_watches = !watched.is_empty();
        for (db, k, _) in watched {
            self.watches.remove(db, &k, key, id);
        }
        if had_watches && self.watches.is_empty() {
            self.sync_notify();
        }
    }

    pub fn remove_client(&mut self, key: usize) {
        if let Some(slot) = self.clients.get_mut(key)
            && let Some(c) = slot.take()
        {
            self.by_id.remove(&c.id);
            self.clients_mem -= c.mem;
        }
    }

    /// The bytes all clients together may use before the biggest are
    /// closed (`maxmemory-clients`, a percentage taken of maxmemory); 0:
    /// no limit.
    pub fn client_eviction_limit(&self) -> usize {
        let m = self.config.maxmemory_clients;
        if m < 0 { (self.config.maxmemory as u128 * (-m) as u128 / 100) as usize } else { m as usize }
    }
}

/// Per-connection state visible to commands (all clients' states are
/// visible, for CLIENT LIST and CLIENT KILL).
#[derive(Debug)]
pub struct Client {
    pub id: u64,
    /// A replica (SYNC or PSYNC made it one; see `server::replication`).
    pub replica: bool,
    /// What REPLCONF set before SYNC.
    pub replconf: Option<Box<super::replication::ReplConf>>,
    /// The replication stream's offset after this client's last write
    /// (Redis's `woff`): what WAIT waits to see acknowledged.
    pub wait_offset: u64,
    pub db: usize,
    pub name: Option<Vec<u8>>,
    pub proto: Proto,
    /// Close the connection once pending replies are written (QUIT,
    /// protocol errors, CLIENT KILL of oneself).
    pub close_after_reply: bool,
    pub addr: Option<SocketAddr>,
    pub laddr: Option<SocketAddr>,
    /// The Unix socket's path, for a client connected through it.
    pub unix: Option<Arc<str>>,
    pub fd: i32,
    /// Unix ms when the connection was accepted.
    pub created_ms: u64,
    /// Unix ms of the last command.
    pub last_cmd_ms: u64,
    /// Registry id of the last command (CLIENT LIST `cmd=`).
    pub last_cmd: Option<usize>,
    /// The connection's buffers, mirrored by the loop after each read,
    /// batch of commands, write and cron visit (see `Server::mirror`):
    /// bytes in the query buffer and its size, unsent output, bytes
    /// already sent from the output buffer (CLIENT LIST's `qbuf`,
    /// `qbuf-free`, `obl`/`omem`).
    pub qbuf: usize,
    pub qbuf_cap: usize,
    pub omem: usize,
    pub wsent: usize,
    /// A command partly received: its complete arguments' count and length.
    pub partial_args: (usize, usize),
    /// The reply buffer's size and recent peak (`rbs`, `rbp`).
    pub rbs: usize,
    pub rbp: usize,
    /// Waiting for the socket to take output (`events=rw`).
    pub write_wait: bool,
    /// Memory of the connection and its buffers.
    pub conn_mem: usize,
    /// `conn_mem` and what the client holds besides ([`Client::held_mem`]),
    /// as last mirrored: what maxmemory-clients counts for it.
    pub mem: usize,
    /// Unix ms of the last read or write (CLIENT LIST's `idle`; the cron
    /// trims the buffers of a client idle for more than 2 s).
    pub last_interaction: u64,
    /// Waiting in a blocking command.
    pub blocked: Option<Box<Blocked>>,
    /// Commands queued since MULTI (`None` outside a transaction).
    pub multi: Option<Vec<(Vec<u8>, Vec<Span>)>>,
    /// The queued commands' bytes (meaningful while `multi` is Some).
    pub multi_bytes: usize,
    /// A command was rejected while queuing: EXEC will abort.
    pub multi_error: bool,
    /// WATCHed keys: (db, key, existed when watched).
    pub watched: Vec<(usize, Key, bool)>,
    /// A watched key was touched: EXEC will fail.
    pub dirty_cas: bool,
    /// CLIENT TRACKING mode, when on.
    pub tracking: Option<Box<ClientTracking>>,
    /// Subscribed channels, patterns and shard channels.
    pub subs: [Vec<Key>; 3],
    /// CLIENT REPLY OFF; CLIENT REPLY SKIP for the next command, and for
    /// the running one (Redis's REPLY_OFF, REPLY_SKIP_NEXT, REPLY_SKIP).
    pub reply_off: bool,
    pub skip_next_reply: bool,
    pub reply_skip: bool,
    /// CLIENT NO-EVICT (shown in CLIENT LIST; clients are never evicted).
    pub no_evict: bool,
    /// CLIENT NO-TOUCH: the client's commands (but TOUCH) leave the access
    /// time of the keys they look up alone.
    pub no_touch: bool,
    /// CLIENT SETINFO LIB-NAME / LIB-VER.
    pub lib_name: Option<Vec<u8>>,
    pub lib_ver: Option<Vec<u8>>,
    /// A command held back by CLIENT PAUSE, to run when the pause ends.
    pub postponed: Option<(Vec<u8>, Vec<Span>)>,
    /// The ACL user's slot (`acl::Acl`; 0 is `default`), and whether the
    /// client authenticated (or needed not: Redis's `authenticated`).
    pub user: usize,
    pub authenticated: bool,
    /// No ACL check can refuse this client's commands (see `acl`): the
    /// dispatcher's only ACL cost for it is reading this flag.
    pub acl_free: bool,
}

impl Client {
    /// What the client holds besides its connection's buffers, in
    /// constant time (lengths and capacities; like Redis's
    /// getClientMemoryUsage, not the watched keys' or channels' own bytes,
    /// which the server shares): its state, the arguments of a command it
    /// holds (blocked or paused), the commands queued since MULTI, the
    /// WATCHed keys, the subscriptions and the BCAST prefixes. CLIENT
    /// LIST's `tot-mem` is this and the buffers; maxmemory-clients counts
    /// the same.
    pub fn held_mem(&self) -> usize {
        use std::mem::size_of;
        let held = |(data, spans): (&Vec<u8>, &Vec<Span>)| data.capacity() + spans.capacity() * size_of::<Span>();
        let args = match (&self.blocked, &self.postponed) {
            (Some(b), _) => held((&b.data, &b.spans)),
            (None, Some((data, spans))) => held((data, spans)),
            (None, None) => 0,
        };
        let multi = match &self.multi {
            Some(q) => self.multi_bytes + q.capacity() * size_of::<(Vec<u8>, Vec<Span>)>(),
            None => 0,
        };
        size_of::<Client>()
            + [&self.name, &self.lib_name, &self.lib_ver]
                .iter()
                .map(|s| s.as_ref().map_or(0, Vec::capacity))
                .sum::<usize>()
            + args
            + multi
            + self.watched.capacity() * size_of::<(usize, Key, bool)>()
            + self.subs.iter().map(|s| s.capacity() * size_of::<Key>()).sum::<usize>()
            + self
                .tracking
                .as_ref()
                .map_or(0, |t| size_of::<ClientTracking>() + t.prefixes.capacity() * size_of::<Key>())
    }

    /// Connected through loopback or the Unix socket (Redis's
    /// islocalClient).
    pub fn is_local(&self) -> bool {
        self.unix.is_some() || self.addr.is_some_and(|a| super::is_loopback(a.ip()))
    }

    /// CLIENT LIST's `addr`: `ip:port`, or `path:0` on the Unix socket.
    pub fn addr_text(&self) -> String {
        match (&self.unix, self.addr) {
            (Some(path), _) => format!("{path}:0"),
            (None, Some(a)) => a.to_string(),
            (None, None) => String::new(),
        }
    }

    /// CLIENT LIST's `laddr`, likewise.
    pub fn laddr_text(&self) -> String {
        match (&self.unix, self.laddr) {
            (Some(path), _) => format!("{path}:0"),
            (None, Some(a)) => a.to_string(),
            (None, None) => String::new(),
        }
    }

    /// Channels plus patterns (the count SUBSCRIBE replies carry).
    pub fn sub_count(&self) -> usize {
        self.subs[0].len() + self.subs[1].len()
    }

    pub fn subscribed(&self) -> bool {
        self.subs.iter().any(|s| !s.is_empty())
    }
}

impl Shared {
    /// Adds or removes one subscription of client `key`; false if nothing
    /// changed (already subscribed / not subscribed).
    pub fn subscription(&mut self, key: usize, kind: SubKind, name: &[u8], on: bool) -> bool {
        let c = self.client_mut(key);
        let id = c.id;
        let list = &mut c.subs[kind as usize];
        let pos = list.iter().position(|k| &k[..] == name);
        match (on, pos) {
            (true, None) => list.push(name.into()),
            (false, Some(i)) => {
                list.swap_remove(i);
            }
            _ => return false,
        }
        let map = self.pubsub.map(kind);
        if on {
            map.entry(name.into()).or_default().push((key, id));
        } else if let Some(v) = map.get_mut(name) {
            v.retain(|&w| w != (key, id));
            if v.is_empty() {
                map.remove(name);
            }
        }
        true
    }

    /// Drops every subscription of client `key` (close, RESET).
    pub fn unsubscribe_all(&mut self, key: usize) {
        for kind in [SubKind::Channel, SubKind::Pattern, SubKind::Shard] {
            let names = std::mem::take(&mut self.client_mut(key).subs[kind as usize]);
            for n in &names {
                self.client_mut(key).subs[kind as usize].push(n.clone());
                self.subscription(key, kind, n, false);
            }
        }
    }
}

impl Client {
    pub fn new(id: u64, addr: Option<SocketAddr>, laddr: Option<SocketAddr>, fd: i32, now_ms: u64) -> Client {
        Client {
            replica: false,
            replconf: None,
            wait_offset: 0,
            id,
            db: 0,
            name: None,
            proto: Proto::Resp2,
            close_after_reply: false,
            addr,
            laddr,
            unix: None,
            fd,
            created_ms: now_ms,
            last_cmd_ms: now_ms,
            last_cmd: None,
            qbuf: 0,
            qbuf_cap: 0,
            omem: 0,
            wsent: 0,
            partial_args: (0, 0),
            rbs: 0,
            rbp: 0,
            write_wait: false,
            conn_mem: 0,
            mem: 0,
            last_interaction: now_ms,
            blocked: None,
            multi: None,
            multi_bytes: 0,
            multi_error: false,
            watched: Vec::new(),
            dirty_cas: false,
            tracking: None,
            subs: Default::default(),
            reply_off: false,
            skip_next_reply: false,
            reply_skip: false,
            no_evict: false,
            no_touch: false,
            lib_name: None,
            lib_ver: None,
            postponed: None,
            user: 0,
            authenticated: true,
            acl_free: true,
        }
    }
}
