//! The event loop: one thread, one `mio::Poll`, connections in a `Slab`.
//!
//! Each wake-up: accept until `WouldBlock`; for each ready connection read,
//! parse and execute every complete command (pipelining), then write the
//! batch of replies once. WRITABLE interest is registered only while a write
//! would block. A connection that produced too much unsent output is paused
//! (no reads, no execution) until the socket drains, so memory stays bounded
//! and the kernel pushes back on the client. A connection that has had many
//! reads in one wake-up is put on `pending` and served again after the others
//! (fairness).
//!
//! Between polls the timer wheel fires idle deadlines, and the cron runs
//! `hz` times a second (active expiry).

pub mod aof;
pub mod busy;
pub mod conn;
pub mod evict;
pub mod idle;
pub mod latency;
pub mod listen;
pub mod notify;
pub mod persistence;
pub mod prefetch;
pub mod reconfig;
pub mod repl_backlog;
pub mod replication;
pub mod state;
pub mod timer;
pub mod tls;
pub mod tracking;
pub mod watchdog;

use crate::cmd::pubsub::write_message;
use crate::cmd::{self, Args, Ctx};
use crate::config::Config;
use crate::resp::{ProtoError, Reply};
use crate::store::expire::ActiveExpire;
use conn::{Conn, READ_CHUNK, ReadResult};
use listen::{LISTENER_BASE, Listeners, Stream, TLS_LISTENER_BASE, UNIX_LISTENER};
use mio::{Events, Interest, Poll, Token, Waker};
use slab::Slab;
use state::{Client, Shared};
use std::collections::VecDeque;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use timer::TimerWheel;

const WAKER: Token = Token(usize::MAX - 1);
const SIGNALS: Token = Token(usize::MAX - 2);

/// Clients the cron looks at per tick at least (Redis's
/// `CLIENTS_CRON_MIN_ITERATIONS`); else a `hz`th of them, so each is seen
/// about once a second.
const CLIENTS_CRON_MIN: usize = 5;
/// Reads per connection per wake-up before others get a turn.
const MAX_READS_PER_TURN: usize = 16;
/// Unsent output above which a connection is paused.
const OUTPUT_PAUSE: usize = 64 * 1024 * 1024;
/// Longest a single active-expiry cycle may run: short, so that a command
/// arriving during a mass expiry waits well under a millisecond.
const EXPIRE_BUDGET: Duration = Duration::from_micros(500);
/// Minimum spacing of the extra ("fast") expiry cycles: with the budget
/// above, at most half the loop's time goes to expiry.
const FAST_EXPIRE_EVERY_MS: u64 = 1;

/// What a client outside loopback gets in protected mode (Redis 7.0.15's
/// text, typo included).
const PROTECTED_MODE_DENIED: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Loopback, including IPv4 loopback mapped into IPv6.
pub(crate) fn is_loopback(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => v4.is_loopback(),
        std::net::IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

/// Unix time in milliseconds.
pub use crate::clock::unix_ms;

enum Timer {
    Idle {
        key: usize,
        id: u64,
    },
    /// CLIENT PAUSE may have ended.
    Pause,
    /// A blocked client's timeout; `deadline` (unix ms) tells it apart from
    /// a later block of the same client.
    Block {
        key: usize,
        id: u64,
        deadline: u64,
    },
}

/// Stops a running server from another thread.
#[derive(Clone)]
pub struct Stopper {
    flag: Arc<AtomicBool>,
    waker: Arc<Waker>,
}

impl Stopper {
    pub fn stop(&self) {
        self.flag.store(true, Ordering::SeqCst);
        let _ = self.waker.wake();
    }
}

/// Connections accepted from one listener in one loop turn (Redis's
/// `MAX_ACCEPTS_PER_CALL`).
const MAX_ACCEPTS_PER_CALL: usize = 1000;

pub struct Server {
    poll: Poll,
    conns: Slab<Conn>,
    shared: Shared,
    timers: TimerWheel<Timer>,
    expire: ActiveExpire,
    next_client_id: u64,
    pending: VecDeque<usize>,
    /// Listeners that had more connections waiting after an accept turn
    /// took its `MAX_ACCEPTS_PER_CALL` (accepted again next turn).
    accept_again: Vec<Token>,
    write_queue: Vec<usize>,
    /// The loop's read buffer, lent to a connection for its reads (see
    /// `serve`): a client whose input was all consumed gives it back, so
    /// an idle connection holds no 16 KB query buffer of its own.
    spare_rbuf: Vec<u8>,
    stop: Arc<AtomicBool>,
    waker: Arc<Waker>,
    signals: Option<signal_hook_mio::v1_0::Signals>,
    /// `clock::mono_ns()` when the server started.
    started_ns: u64,
    next_cron: u64,
    /// When `replication_cron` runs next (once a second).
    next_repl_cron: u64,
    last_fast_expire: u64,
    /// The pid file main wrote, removed at exit.
    pub pidfile: Option<String>,
    /// Where the clients cron goes on (a slab key).
    clients_cron_next: usize,
    /// Who to tell when ready (`supervised`), and whether the readiness
    /// lines are logged (main's server; not the tests').
    pub supervisor: Option<&'static str>,
    pub announce: bool,
    /// `appendfsync always`: clients whose commands propagated in this
    /// batch, and clients whose replies wait for an fsync.
    aof_marked: Vec<usize>,
    aof_held: Vec<usize>,
    /// Whether to poll awake before sleeping (see `idle`).
    spin: idle::Spin,
    /// The clocks of this loop turn: milliseconds since start when the
    /// wait for events ended, and the Unix time in milliseconds, read at
    /// its first use in the turn. The bookkeeping that needs no finer
    /// time (a connection's last activity, as Redis's cached
    /// `server.unixtime`) takes them instead of reading the clock per
    /// request: at `-P 1` that was 4 of the 7 clock reads per request.
    woke_ms: u64,
    turn_unix_ms: Option<u64>,
}

impl Server {
    /// Binds what the config asks for, as redis-server: every `bind`
    /// address on `port` (0 = no TCP) and the Unix socket, if any.
    pub fn bind(config: Config) -> Result<Server, listen::BindError> {
        Server::bind_with(config, false)
    }

    /// As [`Server::bind`], with `port 0` meaning a free port chosen by the
    /// kernel (how the tests run servers side by side).
    pub fn bind_with(mut config: Config, any_port: bool) -> Result<Server, listen::BindError> {
        crate::alloc::tune();
        let fail = |error| listen::BindError::new("poll".into(), error);
        let poll = Poll::new().map_err(fail)?;
        let listeners = Listeners::open(&mut config, poll.registry(), any_port)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER).map_err(fail)?);
        let mut shared = Shared::new(config);
        shared.listeners = Some(listeners);
        // The AOF writer wakes the loop when an fsync completed.
        let w = waker.clone();
        shared.aof.wake = Some(Arc::new(move || {
            let _ = w.wake();
        }));
        shared.lazy.cpus = shared.config.bio_cpulist.clone();
        Ok(Server {
            poll,
            conns: Slab::new(),
            timers: TimerWheel::new(10, 1024, 0),
            expire: ActiveExpire::default(),
            next_client_id: 1,
            pending: VecDeque::new(),
            accept_again: Vec::new(),
            write_queue: Vec::new(),
            spare_rbuf: Vec::new(),
            stop: Arc::new(AtomicBool::new(false)),
            waker,
            signals: None,
            started_ns: crate::clock::mono_ns(),
            next_cron: 0,
            next_repl_cron: 0,
            last_fast_expire: 0,
            pidfile: None,
            clients_cron_next: 0,
            supervisor: None,
            announce: false,
            aof_marked: Vec::new(),
            aof_held: Vec::new(),
            spin: idle::Spin::from_env(),
            woke_ms: 0,
            turn_unix_ms: None,
            shared,
        })
    }

    /// The TCP addresses actually bound (tests bind port 0).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.shared.listeners.as_ref().map(|l| l.local_addrs()).unwrap_or_default()
    }

    /// Starts loading `dir/dbfilename` when it exists; the loop loads it
    /// a slice at a time, answering `-LOADING` meanwhile, and announces
    /// readiness when done (at once when there is nothing to load).
    pub fn begin(&mut self) -> Result<(), String> {
        // What the server holds before any data (Redis's
        // `initial_memory_usage`, taken at the end of its init too).
        self.shared.startup_memory = crate::alloc::allocated();
        self.shared.acl_boot()?;
        if self.shared.config.appendonly {
            // With the AOF on, it is loaded instead of the RDB (a slice
            // per turn too).
            self.shared.aof_boot(unix_ms())?;
            if !self.shared.loading() {
                self.ready();
            }
            return Ok(());
        }
        self.shared.load_at_start()?;
        if self.shared.persist.loading.is_none() {
            self.ready();
        }
        Ok(())
    }

    /// Redis's readiness lines (tools wait for them) and the supervisor's
    /// notification.
    fn ready(&mut self) {
        if !self.announce {
            return;
        }
        if !self.local_addrs().is_empty() {
            log::info!("Ready to accept connections tcp");
        }
        if self.shared.listeners.as_ref().is_some_and(|l| !l.tls.is_empty()) {
            log::info!("Ready to accept connections tls");
        }
        if !self.shared.config.unixsocket.is_empty() {
            log::info!("Ready to accept connections unix");
        }
        crate::process::notify_ready(self.supervisor);
    }

    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Whether any socket is bound: TCP, TLS or Unix (redis-server exits
    /// when none is).
    pub fn listens_anywhere(&self) -> bool {
        self.shared.listeners.as_ref().is_some_and(|l| !l.tcp.is_empty() || !l.tls.is_empty() || l.unix.is_some())
    }

    pub fn stopper(&self) -> Stopper {
        Stopper { flag: self.stop.clone(), waker: self.waker.clone() }
    }

    /// Stop gracefully on SIGINT and SIGTERM; a second SIGINT while that
    /// shutdown is pending or saving ends the process from the signal
    /// handler itself, as Redis's `sigShutdownHandler` (the loop may be
    /// busy writing the shutdown's snapshot): "You insist... exiting now.",
    /// the temporary RDB removed, exit code 1.
    pub fn handle_signals(&mut self) -> io::Result<()> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = signal_hook_mio::v1_0::Signals::new([SIGINT, SIGTERM])?;
        self.poll.registry().register(&mut signals, SIGNALS, Interest::READABLE)?;
        self.signals = Some(signals);
        let temp = self.shared.data_dir().join(format!("temp-{}.rdb", std::process::id()));
        let temp = std::ffi::CString::new(temp.as_os_str().as_encoded_bytes()).map_err(io::Error::other)?;
        // SAFETY: the action runs in the signal handler and only makes
        // async-signal-safe calls (an atomic load, `raw_log_line`,
        // `unlink` of a path it owns, `_exit`).
        unsafe {
            signal_hook::low_level::register(SIGINT, move || {
                if SHUTDOWN_PENDING.load(Ordering::SeqCst) {
                    crate::process::raw_log_line(b"You insist... exiting now.");
                    libc::unlink(temp.as_ptr());
                    libc::_exit(1);
                }
            })?;
        }
        Ok(())
    }

    /// Monotonic milliseconds since the server started (timers).
    fn mono_ms(&self) -> u64 {
        self.since_start_ms(crate::clock::mono_ns())
    }

    /// A `clock::mono_ns()` reading as milliseconds since the start.
    fn since_start_ms(&self, mono_ns: u64) -> u64 {
        mono_ns.saturating_sub(self.started_ns) / 1_000_000
    }

    /// Runs the loop until stopped.
    pub fn run(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        let mut fired = Vec::new();
        // The Lua states exist from the start, made on this thread (theirs),
        // and count in the startup memory, as Redis makes them in its init:
        // used_memory does not jump by their size at the first INFO or
        // script (the Tcl suite's maxmemory tests measure from there).
        let before = crate::alloc::allocated();
        crate::script::with_engine(|_| ());
        self.shared.startup_memory += crate::alloc::allocated().saturating_sub(before);
        // The watchdog's timer aims at this thread.
        self.shared.apply_watchdog();
        loop {
            let timeout = self.poll_timeout();
            let waited = self.wait(&mut events, timeout);
            self.turn_unix_ms = None;
            if let Err(e) = waited {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            for ev in events.iter() {
                match ev.token() {
                    // An fsync completed: its held replies go at the end
                    // of this turn (`flush_queued`), after the replies of
                    // the commands read in it.
                    WAKER => {}
                    SIGNALS => self.on_signal(),
                    t @ (UNIX_LISTENER | Token(LISTENER_BASE..)) => self.accept_on(t),
                    Token(key) => {
                        let readable = ev.is_readable() || ev.is_read_closed() || ev.is_error();
                        self.on_conn_event(key, readable, ev.is_writable(), ev.is_read_closed());
                    }
                }
            }
            for t in std::mem::take(&mut self.accept_again) {
                self.accept_on(t);
            }
            for _ in 0..self.pending.len() {
                if let Some(key) = self.pending.pop_front() {
                    self.on_conn_event(key, true, false, false);
                }
            }
            if self.shared.tracking.clients > 0 {
                self.shared.broadcast_invalidations();
                self.deliver_invalidations();
            }
            self.flush_queued();
            if !self.aof_held.is_empty() {
                // Replies wait for an `appendfsync always` fsync: the
                // writer thread that does it may share this core (the
                // process pinned to one), and a loop that always has work
                // (readers filling the core) kept it waiting for the
                // scheduler's tick: the writers' p99 was 2x Redis's. One
                // yield a turn lets it in at once (a no-op when nothing
                // else waits for the core): writers' p99 4.3-5.7 ms ->
                // 2.2-2.6 (Redis 2.3-2.6), readers unchanged
                // (docs/benchmarks.md, "Ninth round").
                std::thread::yield_now();
            }
            self.evict_clients();
            if self.shared.persist.loading.is_some() {
                match self.shared.loading_turn(unix_ms()) {
                    Ok(true) => {}
                    Ok(false) => self.ready(),
                    Err(e) => return Err(fatal_logged(e)),
                }
            }
            if self.shared.aof.loading.is_some() {
                match self.shared.aof_loading_turn(unix_ms()) {
                    Ok(true) => {}
                    Ok(false) => self.ready(),
                    Err(e) => return Err(fatal_logged(e)),
                }
            }
            if self.shared.persist.snapshot.is_some() {
                self.shared.snapshot_turn(unix_ms());
            }
            if let Some(e) = self.shared.requests.fatal.take() {
                return Err(io::Error::other(e));
            }
            if self.shared.requests.shutdown {
                self.stop.store(true, Ordering::SeqCst);
            }
            if self.stop.load(Ordering::SeqCst) {
                self.prepare_for_shutdown();
                return Ok(());
            }
            let now = self.mono_ms();
            self.timers.advance(now, &mut fired);
            for t in fired.drain(..) {
                self.on_timer(t, now);
            }
            self.cron(now);
        }
    }

    /// Waits at most `timeout` for events: first polling awake for the
    /// idle policy's budget when the last idle gap was short (see `idle`),
    /// then blocking for the rest.
    fn wait(&mut self, events: &mut Events, timeout: Duration) -> io::Result<()> {
        if timeout.is_zero() {
            let res = self.poll.poll(events, Some(Duration::ZERO));
            self.woke_ms = self.mono_ms();
            return res;
        }
        let start = crate::clock::mono_ns();
        let spin = self.spin.budget(timeout);
        if !spin.is_zero() {
            let until = start.saturating_add(spin.as_nanos() as u64);
            loop {
                self.poll.poll(events, Some(Duration::ZERO))?;
                let now = crate::clock::mono_ns();
                if !events.is_empty() {
                    self.spin.gap(now.saturating_sub(start));
                    self.woke_ms = self.since_start_ms(now);
                    return Ok(());
                }
                if now >= until {
                    break;
                }
                // Our helper threads and the kernel's may share this core.
                std::thread::yield_now();
            }
        }
        let spent = Duration::from_nanos(crate::clock::mono_ns().saturating_sub(start));
        let res = self.poll.poll(events, Some(timeout.saturating_sub(spent)));
        let now = crate::clock::mono_ns();
        self.spin.gap(now.saturating_sub(start));
        self.woke_ms = self.since_start_ms(now);
        res
    }

    /// The last steps before exiting, with Redis's log lines: the pid
    /// file and the Unix socket's file are removed.
    fn prepare_for_shutdown(&mut self) {
        if self.shared.aof_on() {
            log::info!("Calling fsync() on the AOF file.");
            self.shared.aof_stop();
        }
        if let Some(path) = self.pidfile.take() {
            log::info!("Removing the pid file.");
            let _ = std::fs::remove_file(path);
        }
        if let Some(l) = self.shared.listeners.as_mut()
            && l.unix.is_some()
        {
            log::info!("Removing the unix socket file.");
            l.remove_unix_file();
        }
        log::warn!("Redis is now ready to exit, bye bye...");
    }

    fn poll_timeout(&self) -> Duration {
        let now = self.mono_ms();
        if !self.pending.is_empty() || !self.accept_again.is_empty() || self.shared.evicting || self.shared.loading() {
            return Duration::ZERO;
        }
        if let Some(snap) = self.shared.persist.snapshot.as_ref() {
            // Walking: no sleep; writing, or waiting for the writer: look
            // again soon.
            return if snap.walked() || snap.throttled() { Duration::from_millis(1) } else { Duration::ZERO };
        }
        let mut ms = self.next_cron.saturating_sub(now);
        if self.expire.timed_out {
            ms = ms.min(FAST_EXPIRE_EVERY_MS);
        }
        if let Some(t) = self.timers.next_timeout(now) {
            ms = ms.min(t);
        }
        if let Some(due) = self.shared.aof_gather_wait_ms() {
            ms = ms.min(due);
        }
        Duration::from_millis(ms)
    }

    fn on_signal(&mut self) {
        if let Some(signals) = self.signals.as_mut() {
            let sigs: Vec<i32> = signals.pending().collect();
            for sig in sigs {
                // (A second SIGINT never gets here: see `handle_signals`.)
                let int = sig == signal_hook::consts::SIGINT;
                if self.shared.loading() {
                    log::warn!("Received shutdown signal during loading, scheduling shutdown.");
                } else {
                    log::warn!("Received {} scheduling shutdown...", if int { "SIGINT" } else { "SIGTERM" });
                }
                self.shared.requests.shutdown_asap = Some(sig);
                SHUTDOWN_PENDING.store(true, Ordering::SeqCst);
            }
        }
    }

    /// The shutdown a signal asked for, at the cron's tick (Redis's
    /// serverCron): with the signal's `shutdown-on-*` flags, or without
    /// saving while loading.
    fn shutdown_on_signal(&mut self) {
        let Some(sig) = self.shared.requests.shutdown_asap.take() else { return };
        let int = sig == signal_hook::consts::SIGINT;
        let c = &self.shared.config;
        let flags = if int { &c.shutdown_on_sigint } else { &c.shutdown_on_sigterm };
        let has = |f: &str| flags.split(' ').any(|w| w == f);
        let (save, nosave, force) =
            if self.shared.loading() { (false, true, false) } else { (has("save"), has("nosave"), has("force")) };
        if self.shared.repl.shutdown.is_some()
            || self.shared.shutdown_wait_start((save, nosave, force), has("now"), unix_ms())
        {
            // It ends once the replicas caught up (`shutdown_wait_turn`).
            return;
        }
        if !self.shared.prepare_for_shutdown(save, nosave, force, unix_ms()) {
            SHUTDOWN_PENDING.store(false, Ordering::SeqCst);
            let name = if int { "SIGINT" } else { "SIGTERM" };
            log::warn!(
                "{name} received but errors trying to shut down the server, check the logs for more information"
            );
            return;
        }
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Periodic work: the cron at `hz`, and extra expiry cycles while the
    /// last one ran out of time.
    fn cron(&mut self, now: u64) {
        for (key, id) in std::mem::take(&mut self.shared.requests.close) {
            if self.conns.get(key).is_some_and(|c| c.id == id) {
                self.close(key);
            }
        }
        if self.shared.requests.rearm_idle {
            self.shared.requests.rearm_idle = false;
            self.arm_idle_timers(now);
        }
        let mut due = now >= self.next_cron;
        if due {
            // Before DEBUG PAUSE-CRON's test, as Redis's serverCron.
            self.shared.watchdog.tick();
        }
        let paused = self.shared.debug.pause_cron;
        if due && paused {
            // DEBUG PAUSE-CRON 1: the tick passes without its work (Redis's
            // serverCron returns at once).
            self.next_cron = now + 1000 / self.shared.hz as u64;
            due = false;
        }
        let fast = !paused && self.expire.timed_out && now >= self.last_fast_expire + FAST_EXPIRE_EVERY_MS;
        if due && self.shared.requests.shutdown_asap.is_some() {
            self.shutdown_on_signal();
        }
        if due {
            let s = &self.shared.stats;
            let counters = [s.commands_processed, s.net_input_bytes, s.net_output_bytes, s.net_repl_output_bytes];
            self.shared.metrics.sample(now, counters);
            self.shared.used_memory();
            self.shared.sample_rss();
        }
        if self.shared.evicting {
            let start = Instant::now();
            self.shared.perform_evictions(unix_ms());
            self.shared.latency_event("eviction-cycle", start.elapsed().as_micros() as u64);
        }
        if due && !self.shared.blocking.is_empty() {
            // Keys that expired under a waiting XREADGROUP (Redis signals
            // those at the deletion; here within a cron tick).
            let shared = &mut self.shared;
            shared.blocking.signal_missing(&shared.dbs, unix_ms());
            if !shared.blocking.ready.is_empty() {
                self.serve_ready(unix_ms());
            }
        }
        if due {
            for i in 0..self.shared.dbs.len() {
                if let Some(old) = self.shared.dbs[i].shrink_if_sparse() {
                    // Unmapping the old arrays takes milliseconds: aside.
                    self.shared.lazy.free_boxed(old);
                }
            }
            self.clients_cron(now);
            self.shared.migrate.close_idle(unix_ms() / 1000);
        }
        // Not while loading: a key whose TTL passed may be needed by the
        // replay's next commands (see `Db::loading`), and Redis's cron does
        // not run while it loads.
        if (due || fast) && self.shared.active_expire && !self.shared.paused(unix_ms()) && !self.shared.loading() {
            self.expire_cycle();
            self.last_fast_expire = now;
        }
        if self.shared.tracking.clients > 0 {
            if due {
                // A limit lowered by CONFIG SET applies on an idle server too.
                self.shared.limit_tracking_table();
            }
            // BCAST keys expired or evicted just now go out before sleeping.
            self.shared.broadcast_invalidations();
        }
        if !self.shared.pubsub.outbox.is_empty() || !self.shared.tracking.sends.is_empty() {
            // Keyspace events and invalidations of expiry and eviction.
            self.deliver();
            self.deliver_invalidations();
            self.flush_queued();
        }
        if due && now >= self.next_repl_cron {
            self.next_repl_cron = now + 1000;
            self.shared.replication_cron(unix_ms());
        }
        if due && self.shared.repl.shutdown.is_some() {
            self.shutdown_wait_turn(unix_ms());
        }
        if !self.shared.repl.replicas.is_empty() {
            // A snapshot that just ended, the cron's PINGs and newlines.
            self.flush_queued();
        }
        if due {
            self.shared.aof_cron(unix_ms());
            self.shared.save_points(unix_ms());
            self.shared.hz = self.hz();
            self.next_cron = now + 1000 / self.shared.hz as u64;
        }
    }

    /// The cron frequency: `hz`, doubled while there are more than 200
    /// clients per tick when `dynamic-hz` is on (Redis's serverCron), at
    /// most 500.
    fn hz(&self) -> u32 {
        let mut hz = self.shared.config.hz.max(1);
        if self.shared.config.dynamic_hz {
            while self.conns.len() / hz as usize > 200 && hz < 500 {
                hz = (hz * 2).min(500);
            }
        }
        hz
    }

    /// Redis's `clientsCron` buffer work: a share of the clients per tick,
    /// round robin, get their query and reply buffers resized and their
    /// soft output limit's time checked.
    fn clients_cron(&mut self, now: u64) {
        let n = self.conns.len();
        let hz = self.shared.config.hz.max(1) as usize;
        let mut todo = (n / hz).max(n.min(CLIENTS_CRON_MIN));
        let slots = self.conns.capacity();
        let unix_s = unix_ms() / 1000;
        let mut key = self.clients_cron_next;
        for _ in 0..slots {
            if todo == 0 {
                break;
            }
            key = if key + 1 >= slots { 0 } else { key + 1 };
            let Some(conn) = self.conns.get_mut(key) else { continue };
            todo -= 1;
            // Redis compares whole seconds: idle means more than 2 of them.
            let idle = unix_s.saturating_sub(self.shared.client(key).last_interaction / 1000) > 2;
            conn.resize_query_buffer(idle);
            self.shared.stats.reply_buffer_shrinks += conn.resize_reply_buffer(now, idle) as u64;
            let over_soft = conn.soft_limit_since.is_some();
            mirror(conn, &mut self.shared, key);
            // A client over its soft limit is closed when the limit's
            // seconds pass even if nothing more is written to it (Redis's
            // clientsCron checks the output limits too).
            if over_soft {
                self.check_output_limit(key);
            }
        }
        self.clients_cron_next = key;
    }

    /// One active-expiry cycle, within its time budget.
    fn expire_cycle(&mut self) {
        let shared = &mut self.shared;
        let start = Instant::now();
        let effort = shared.config.active_expire_effort;
        let (sampled, expired) = self.expire.run(&mut shared.dbs, unix_ms(), EXPIRE_BUDGET, effort, &mut shared.rng);
        let st = &mut shared.stats;
        st.expire_time_cap_reached += self.expire.timed_out as u64;
        st.expire_cycle_us += start.elapsed().as_micros() as u64;
        // Redis's running average, this cycle weighing 5%.
        let stale = if sampled == 0 { 0.0 } else { expired as f64 / sampled as f64 };
        st.expired_stale = stale * 0.05 + st.expired_stale * 0.95;
        if shared.prop.on {
            // Each alone, as Redis propagates active expiry; not joined
            // to the next command's call.
            shared.propagate_expired(unix_ms());
        }
        shared.latency_event("expire-cycle", start.elapsed().as_micros() as u64);
        shared.flush_db_events();
    }

    /// Accepts the connections waiting on listener `t` (see
    /// [`Parts::accept_on`]); a listener not drained is accepted from
    /// again next turn.
    fn accept_on(&mut self, t: Token) {
        let now = self.mono_ms();
        if !self.parts().accept_on(t, now) {
            self.accept_again.push(t);
        }
    }

    /// The parts connections are added to and closed from.
    fn parts(&mut self) -> Parts<'_> {
        Parts {
            poll: &self.poll,
            conns: &mut self.conns,
            shared: &mut self.shared,
            next_client_id: &mut self.next_client_id,
            timers: Some(&mut self.timers),
        }
    }

    fn arm_idle(&mut self, key: usize, now: u64) {
        let timeout_ms = self.shared.config.timeout.saturating_mul(1000);
        if let Some(conn) = self.conns.get_mut(key) {
            conn.idle_timer_armed = true;
            let deadline = conn.last_active.max(now.saturating_sub(timeout_ms)) + timeout_ms;
            self.timers.insert(deadline, Timer::Idle { key, id: conn.id });
        }
    }

    fn arm_idle_timers(&mut self, now: u64) {
        if self.shared.config.timeout == 0 {
            return;
        }
        let keys: Vec<usize> = self.conns.iter().filter(|(_, c)| !c.idle_timer_armed).map(|(k, _)| k).collect();
        for key in keys {
            self.arm_idle(key, now);
        }
    }

    fn on_timer(&mut self, timer: Timer, now: u64) {
        match timer {
            Timer::Block { key, id, deadline } => {
                let current = self
                    .conns
                    .get(key)
                    .filter(|c| c.id == id)
                    .and_then(|_| self.shared.client(key).blocked.as_ref().and_then(|b| b.deadline));
                if current == Some(deadline) {
                    self.unblock(key, id, Unblock::Timeout);
                    self.flush_queued();
                }
            }
            Timer::Pause => {
                let now_ms = unix_ms();
                if self.shared.pause.is_some() && !self.shared.paused(now_ms) && self.shared.active_expire {
                    // Redis notices the end of a pause in its expire cycle,
                    // which then runs: keys whose TTL passed during the pause
                    // are gone before the commands it held back run.
                    self.shared.set_expiry_paused(false);
                    self.expire_cycle();
                }
                self.end_pause(now_ms);
                self.flush_queued();
            }
            Timer::Idle { key, id } => {
                let Some(conn) = self.conns.get_mut(key).filter(|c| c.id == id) else {
                    return;
                };
                let timeout_ms = self.shared.config.timeout.saturating_mul(1000);
                // Blocked clients wait for data, not for input: no idle limit.
                // Subscribers wait for messages: no idle limit either.
                // Replicas are timed out by `repl-timeout` instead.
                let client = self.shared.client(key);
                let blocked = client.blocked.is_some() || client.subscribed() || client.replica;
                if timeout_ms == 0 {
                    conn.idle_timer_armed = false;
                } else if now >= conn.last_active + timeout_ms && !blocked {
                    log::debug!("Closing idle client");
                    self.close(key);
                } else {
                    let deadline = if blocked { now + timeout_ms } else { conn.last_active + timeout_ms };
                    self.timers.insert(deadline, Timer::Idle { key, id });
                }
            }
        }
    }

    fn close(&mut self, key: usize) {
        self.parts().close(key);
    }

    fn on_conn_event(&mut self, key: usize, readable: bool, writable: bool, read_closed: bool) {
        let Some(conn) = self.conns.get_mut(key) else { return };
        // Output held for an AOF fsync is not written early.
        let held = conn.aof_wait > 0 && !self.shared.aof_synced(conn.aof_wait);
        if writable && !held && conn.flush(&mut self.shared.stats).is_err() {
            return self.close(key);
        }
        let mut readable = readable;
        if conn.paused && conn.pending_output() < OUTPUT_PAUSE / 2 {
            conn.paused = false;
            readable = true;
        }
        if readable && self.serve(key, read_closed).is_err() {
            return self.close(key);
        }
        let conn = &mut self.conns[key];
        if conn.has_output() && !conn.write_queued {
            // Written after every ready connection was served (see `run`).
            conn.write_queued = true;
            self.write_queue.push(key);
        } else if !conn.write_queued {
            self.after_io(key);
        }
    }

    /// Writes the replies produced in this wake-up, one write per client,
    /// like Redis's `handleClientsWithPendingWrites` before it sleeps.
    /// Replies of many clients then leave together, which lets a client
    /// that drives many connections (redis-benchmark) collect them with
    /// fewer wake-ups of its own.
    fn flush_queued(&mut self) {
        // The batch's propagated commands go to the AOF writer first
        // (Redis's beforeSleep order); under `appendfsync always` the
        // replies of the clients whose commands propagated wait for the
        // fsync, the others' go now.
        if self.shared.repl.backlog.is_some() {
            self.repl_turn();
        }
        let seq = self.shared.aof_feed_turn();
        for key in std::mem::take(&mut self.aof_marked) {
            if let Some(conn) = self.conns.get_mut(key) {
                conn.aof_wait = seq;
            }
        }
        let mut queue = std::mem::take(&mut self.write_queue);
        for key in queue.drain(..) {
            let Some(conn) = self.conns.get_mut(key) else { continue };
            if conn.aof_wait > 0 && !self.shared.aof_synced(conn.aof_wait) {
                self.aof_held.push(key);
                continue;
            }
            conn.write_queued = false;
            if conn.flush(&mut self.shared.stats).is_err() {
                self.close(key);
                continue;
            }
            self.after_io(key);
        }
        self.write_queue = queue;
        self.release_aof_held();
    }

    /// Replies held for an fsync of the AOF that has completed go. Called
    /// at the end of every turn, after the turn's own replies: a client
    /// that only reads never waits behind the writers' replies an fsync
    /// released, and a reply whose fsync finished during the turn goes
    /// without waiting for the writer thread's wake-up.
    fn release_aof_held(&mut self) {
        if self.aof_held.is_empty() {
            return;
        }
        for key in std::mem::take(&mut self.aof_held) {
            let Some(conn) = self.conns.get_mut(key) else { continue };
            if !self.shared.aof_synced(conn.aof_wait) {
                self.aof_held.push(key);
                continue;
            }
            conn.aof_wait = 0;
            conn.write_queued = false;
            if conn.flush(&mut self.shared.stats).is_err() {
                self.close(key);
                continue;
            }
            self.after_io(key);
        }
    }

    /// After reading and writing: close if done, else fix WRITABLE interest.
    fn after_io(&mut self, key: usize) {
        let Some(conn) = self.conns.get_mut(key) else { return };
        if std::mem::take(&mut conn.wrote) {
            let now = *self.turn_unix_ms.get_or_insert_with(unix_ms);
            self.shared.client_mut(key).last_interaction = now;
        }
        let pending = conn.has_output();
        if self.shared.client(key).close_after_reply && !pending {
            return self.close(key);
        }
        if pending != conn.want_write {
            let interest = if pending { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE };
            if self.poll.registry().reregister(&mut conn.stream, Token(key), interest).is_err() {
                return self.close(key);
            }
            conn.want_write = pending;
        }
        mirror(conn, &mut self.shared, key);
    }

    /// Executes buffered commands, then reads and executes until the socket
    /// is drained. `Err` means: close the connection.
    fn serve(&mut self, key: usize, read_closed: bool) -> Result<(), ()> {
        self.execute(key)?;
        let conn = &mut self.conns[key];
        if conn.rlen == 0 && conn.rbuf.is_empty() {
            // Read into the loop's buffer (Valkey 8's shared query buffer).
            std::mem::swap(&mut conn.rbuf, &mut self.spare_rbuf);
        }
        let served = self.read_and_execute(key, read_closed);
        if let Some(conn) = self.conns.get_mut(key)
            && conn.rlen == 0
            && self.spare_rbuf.is_empty()
            && conn.rbuf.len() <= READ_CHUNK
        {
            // All input consumed: the buffer goes back to the loop. One
            // with a partial command stays with its client.
            std::mem::swap(&mut conn.rbuf, &mut self.spare_rbuf);
            mirror(conn, &mut self.shared, key);
        }
        served
    }

    /// The read loop of `serve`: reads and runs commands until the socket
    /// is drained, the client pauses or its turn's reads are used up.
    fn read_and_execute(&mut self, key: usize, read_closed: bool) -> Result<(), ()> {
        let now = self.woke_ms;
        let limit = self.shared.config.client_query_buffer_limit as usize;
        let mut reads = 0;
        loop {
            let conn = &mut self.conns[key];
            if conn.paused || self.shared.client(key).close_after_reply {
                break;
            }
            if reads == MAX_READS_PER_TURN {
                self.pending.push_back(key);
                break;
            }
            self.shared.stats.reads_processed += 1;
            match conn.read() {
                Ok(ReadResult::Data { n, drained }) => {
                    reads += 1;
                    self.shared.stats.net_input_bytes += n as u64;
                    conn.last_active = now;
                    if conn.rlen > limit {
                        log::warn!("Closing client that reached max query buffer length");
                        return Err(());
                    }
                    self.execute(key)?;
                    // A short read emptied the socket; with edge-triggered
                    // polling new data brings a new event, so skip the read
                    // that would only return WouldBlock. Not when the peer
                    // closed: that edge has already been reported.
                    if drained && !read_closed {
                        break;
                    }
                }
                Ok(ReadResult::WouldBlock) => break,
                Ok(ReadResult::Eof) | Err(_) => return Err(()),
            }
        }
        Ok(())
    }

    /// Parses and runs every complete command in the read buffer, until
    /// the client blocks, pauses or is to be closed.
    fn execute(&mut self, key: usize) -> Result<(), ()> {
        if self.conns[key].rlen == 0 {
            // Nothing read (`serve` looks for buffered commands before it
            // reads): no command to run.
            return Ok(());
        }
        let max_bulk = self.shared.config.proto_max_bulk_len as usize;
        let now = unix_ms();
        self.shared.cmd_clock = crate::clock::mono_ns();
        {
            // What CLIENT LIST shows for this client while its commands
            // run: the whole input read so far, as Redis's query buffer.
            self.shared.client_mut(key).last_interaction = now;
            mirror(&self.conns[key], &mut self.shared, key);
        }
        // A client whose input pushed the clients over maxmemory-clients
        // may be evicted before its command runs, as in Redis.
        let lim = self.shared.client_eviction_limit();
        if lim > 0 && self.shared.clients_mem >= lim {
            self.evict_clients();
            if !self.conns.contains(key) {
                return Err(());
            }
        }
        // Commands whose keys are prefetched and not yet run (see
        // `prefetch`); `prefetching` stops the asking once it found
        // nothing to do.
        let (mut ahead, mut prefetching) = (0, true);
        loop {
            let client = self.shared.client(key);
            if prefetching && ahead == 0 {
                ahead = self.shared.dbs.get(client.db).map_or(0, |db| prefetch::commands(&self.conns[key], db));
                prefetching = ahead > 0;
            }
            ahead = ahead.saturating_sub(1);
            let conn = &mut self.conns[key];
            if conn.paused
                || conn.doomed
                || client.close_after_reply
                || client.blocked.is_some()
                || client.postponed.is_some()
            {
                break;
            }
            let id = conn.id;
            conn.parser.unauthenticated = !client.authenticated && self.shared.acl.auth_required();
            match conn.next_command(max_bulk) {
                Ok(None) => break,
                Ok(Some((args, src, wbuf))) => {
                    if self.shared.pause.is_some() && self.shared.pause_holds(key, &args, now) {
                        // CLIENT PAUSE: keep the command for when it ends
                        // (CLIENT LIST shows it as the client's command).
                        let client = self.shared.client_mut(key);
                        client.last_cmd = cmd::table::registry().run_id(&args);
                        client.postponed = Some(args.to_owned_parts());
                        self.shared.postponed.push((key, id));
                        break;
                    }
                    let before = self.shared.prop.out.len();
                    if busy::may_run_script(&args) {
                        self.run_scripted(key, src, now);
                    } else {
                        run_command(&mut self.shared, key, wbuf, &args, now);
                    }
                    if self.shared.prop.out.len() != before {
                        self.shared.note_write_offset(key);
                        if self.shared.aof_always() {
                            self.aof_marked.push(key);
                        }
                    }
                    if self.shared.config.output_limits[0] != (0, 0, 0) {
                        // Before any of it is written (see `Conn::doomed`).
                        self.check_output_limit(key);
                    }
                    let conn = &mut self.conns[key];
                    if conn.pending_output() > OUTPUT_PAUSE {
                        conn.flush(&mut self.shared.stats).map_err(|_| ())?;
                        conn.paused = conn.pending_output() > OUTPUT_PAUSE;
                    }
                }
                Err(e) => protocol_error(&mut self.shared, key, &mut self.conns[key].wbuf, e),
            }
            self.after_command(key, now);
        }
        let conn = &mut self.conns[key];
        conn.compact();
        conn.note_output();
        mirror(conn, &mut self.shared, key);
        Ok(())
    }

    /// Work a command may leave for the loop: arm the timeout of a client
    /// that just blocked, serve clients blocked on keys that got data, and
    /// carry out CLIENT UNBLOCK.
    fn after_command(&mut self, key: usize, now: u64) {
        if let Some(b) = &self.shared.client(key).blocked
            && let Some(deadline) = b.deadline
        {
            let id = self.conns[key].id;
            let at = self.mono_ms() + deadline.saturating_sub(now);
            self.timers.insert(at, Timer::Block { key, id, deadline });
        }
        if !self.shared.blocking.ready.is_empty() {
            self.serve_ready(now);
        }
        if !self.shared.pubsub.outbox.is_empty() {
            self.deliver();
        }
        if !self.shared.tracking.sends.is_empty() {
            self.deliver_invalidations();
        }
        if !self.shared.monitor_feed.is_empty() {
            let feed = std::mem::take(&mut self.shared.monitor_feed);
            for (k, id) in self.shared.monitors.clone() {
                if let Some(conn) = self.conns.get_mut(k).filter(|c| c.id == id) {
                    conn.wbuf.extend_from_slice(&feed);
                    self.resume_write(k);
                }
            }
        }
        if self.shared.config.output_limits[0] != (0, 0, 0) {
            self.check_output_limit(key);
        }
        if !self.shared.requests.unblock.is_empty() {
            for (k, id, error) in std::mem::take(&mut self.shared.requests.unblock) {
                self.unblock(k, id, if error { Unblock::Error } else { Unblock::Released });
            }
        }
        if std::mem::take(&mut self.shared.requests.cancel_shutdown)
            && let Some(wait) = self.shared.repl.shutdown.take()
        {
            self.cancel_shutdown_wait(wait, now);
        }
        if std::mem::take(&mut self.shared.requests.pause_changed) {
            match self.shared.pause {
                Some(p) => {
                    self.shared.set_expiry_paused(p.until > now);
                    let at = self.mono_ms() + p.until.saturating_sub(now);
                    self.timers.insert(at, Timer::Pause);
                }
                None => self.end_pause(now),
            }
        }
    }

    /// Runs the commands CLIENT PAUSE held back once it is over (or lifted),
    /// in arrival order, then lets those clients go on.
    fn end_pause(&mut self, now: u64) {
        if self.shared.paused(now) {
            return;
        }
        self.shared.pause = None;
        self.shared.set_expiry_paused(false);
        for (k, id) in std::mem::take(&mut self.shared.postponed) {
            if self.conns.get(k).is_none_or(|c| c.id != id) {
                continue;
            }
            let Some((data, spans)) = self.shared.client_mut(k).postponed.take() else { continue };
            self.shared.cmd_clock = crate::clock::mono_ns();
            let before = self.shared.prop.out.len();
            run_command(&mut self.shared, k, &mut self.conns[k].wbuf, &Args::new(&data, &spans), now);
            if self.shared.prop.out.len() != before {
                self.shared.note_write_offset(k);
            }
            self.after_command(k, now);
            self.resume(k);
        }
    }

    /// Serves clients blocked on keys that got data, once the command (or
    /// the whole transaction) that gave it is over, as Redis's
    /// `handleClientsBlockedOnKeys` does: for each ready key in the order
    /// they got data, if it now holds a value of the type a waiter wants,
    /// that waiter's command runs again narrowed to this key; if it is
    /// served it leaves the queue and the next waiter gets a turn, until
    /// one finds nothing. Waiters for another type stay blocked (a key
    /// that got a list, then became a string, serves nobody).
    fn serve_ready(&mut self, now: u64) {
        while !self.shared.blocking.ready.is_empty() {
            for (db, rkey) in std::mem::take(&mut self.shared.blocking.ready) {
                let mut skipped = 0;
                while let Some((k, id)) = self.shared.blocking.nth(db, &rkey, skipped) {
                    let live = self.conns.get(k).is_some_and(|c| c.id == id);
                    let Some(blocked) = live.then(|| self.shared.client_mut(k).blocked.take()).flatten() else {
                        self.shared.blocking.remove(db, std::slice::from_ref(&rkey), k, id);
                        continue;
                    };
                    let held = self.shared.dbs[db].get_ref(&rkey, now).map(|e| e.value.type_name());
                    if held != Some(blocked.wants) && cmd::stream::reads_group(&blocked) {
                        // Redis 7.0: an XREADGROUP waiting on a stream that
                        // was deleted or replaced gets an error.
                        self.shared.client_mut(k).blocked = Some(blocked);
                        self.unblock(k, id, Unblock::StreamGone);
                        continue;
                    }
                    if held != Some(blocked.wants) {
                        self.shared.client_mut(k).blocked = Some(blocked);
                        if held.is_none() {
                            break;
                        }
                        skipped += 1;
                        continue;
                    }
                    self.shared.blocking.retrying = true;
                    self.shared.blocking.still_blocked = false;
                    let (data, spans) = cmd::retry_parts(&blocked, &rkey);
                    let args = Args::new(&data, &spans);
                    self.shared.cmd_clock = crate::clock::mono_ns();
                    let before = self.shared.prop.out.len();
                    run_command(&mut self.shared, k, &mut self.conns[k].wbuf, &args, now);
                    if self.shared.prop.out.len() != before {
                        self.shared.note_write_offset(k);
                        if self.shared.aof_always() {
                            self.aof_marked.push(k);
                        }
                    }
                    self.shared.blocking.retrying = false;
                    if self.shared.blocking.still_blocked {
                        self.shared.client_mut(k).blocked = Some(blocked);
                        break;
                    }
                    self.shared.blocking.remove(blocked.db, &blocked.keys, k, id);
                    self.resume(k);
                }
            }
        }
    }

    /// Writes published messages into each subscriber's output buffer:
    /// `message` to channel subscribers, `pmessage` to matching patterns,
    /// `smessage` to shard subscribers.
    fn deliver(&mut self) {
        for msg in std::mem::take(&mut self.shared.pubsub.outbox) {
            for (k, id, pattern) in self.shared.pubsub.targets(&msg.channel, msg.shard) {
                if msg.served == Some(k) {
                    continue;
                }
                let Some(conn) = self.conns.get_mut(k).filter(|c| c.id == id) else { continue };
                let mut out = Reply::new(&mut conn.wbuf, self.shared.client(k).proto);
                write_message(&mut out, &msg, pattern.as_deref());
                self.resume_write(k);
                self.check_output_limit(k);
            }
        }
    }

    /// Writes the invalidation messages tracking produced into their
    /// clients' output buffers.
    fn deliver_invalidations(&mut self) {
        let sends = std::mem::take(&mut self.shared.tracking.sends);
        for &(k, id, start, end) in &sends {
            let Some(conn) = self.conns.get_mut(k).filter(|c| c.id == id) else { continue };
            conn.wbuf.extend_from_slice(&self.shared.tracking.buf[start..end]);
            self.resume_write(k);
            self.check_output_limit(k);
        }
        // Emptied, and given back past 16 KB: held capacity counts against
        // maxmemory, so the invalidations of one eviction pass would make
        // the next one evict more.
        let buf = &mut self.shared.tracking.buf;
        buf.clear();
        buf.shrink_to(16 * 1024);
        self.shared.tracking.sends = sends;
        self.shared.tracking.sends.clear();
    }

    /// Queues client `key` for the end-of-wake-up write (output was added
    /// to its buffer from outside its own commands: messages, pushes).
    fn resume_write(&mut self, key: usize) {
        let Some(conn) = self.conns.get_mut(key) else { return };
        conn.note_output();
        mirror(conn, &mut self.shared, key);
        if !conn.write_queued {
            conn.write_queued = true;
            self.write_queue.push(key);
        }
    }

    /// `maxmemory-clients`: while the clients together use the limit or
    /// more, the one using the most is closed, as Redis's `evictClients`
    /// does before the loop sleeps. CLIENT NO-EVICT clients count towards
    /// the total but are never chosen; replicas neither count nor are
    /// chosen (Redis counts normal and pubsub clients only).
    fn evict_clients(&mut self) {
        let limit = self.shared.client_eviction_limit();
        if limit == 0 {
            return;
        }
        let replicas: usize = self.shared.repl.replicas.iter().map(|r| self.shared.client(r.key).mem).sum();
        while self.shared.clients_mem.saturating_sub(replicas) >= limit {
            let shared = &self.shared;
            let victim = self
                .conns
                .iter()
                .map(|(k, _)| k)
                .filter(|&k| !shared.client(k).no_evict && !shared.client(k).replica)
                .max_by_key(|&k| shared.client(k).mem);
            let Some(key) = victim else { break };
            log::info!("Evicting client: {}", crate::cmd::conn::client_info_text(shared, key, unix_ms()));
            self.shared.stats.evicted_clients += 1;
            self.close(key);
        }
    }

    /// Enforces `client-output-buffer-limit` for the client's class
    /// (pubsub when subscribed, else normal): over the hard limit, or over
    /// the soft limit for longer than its seconds, the client is closed.
    fn check_output_limit(&mut self, key: usize) {
        let now = self.mono_ms();
        let Some(conn) = self.conns.get_mut(key) else { return };
        let client = self.shared.client(key);
        if client.replica {
            // Its stream is checked with what it holds (`check_replica_limit`).
            return;
        }
        let class = if client.subscribed() { 1 } else { 0 };
        let limits = self.shared.config.output_limits[class];
        let pending = conn.pending_output() as u64;
        if conn.over_output_limit(pending, limits, now) && !conn.doomed {
            log::warn!("Client id={} scheduled to be closed ASAP for overcoming of output buffer limits.", conn.id);
            conn.doomed = true;
            let id = conn.id;
            self.shared.requests.close.push((key, id));
        }
    }

    /// A client that stopped blocking: send its reply and go on with the
    /// commands it sent meanwhile.
    fn resume(&mut self, key: usize) {
        self.resume_write(key);
        self.pending.push_back(key);
    }

    /// Ends a client's wait without data: the timeout reply (a null array,
    /// for every blocking list command) or CLIENT UNBLOCK's error.
    fn unblock(&mut self, key: usize, id: u64, how: Unblock) {
        if self.conns.get(key).is_none_or(|c| c.id != id) {
            return;
        }
        let client = self.shared.client_mut(key);
        let Some(b) = client.blocked.take() else { return };
        let proto = client.proto;
        let silent = std::mem::take(&mut client.skip_next_reply) || client.reply_off;
        self.shared.blocking.remove(b.db, &b.keys, key, id);
        let error = match how {
            Unblock::Error => Some("UNBLOCKED client unblocked via CLIENT UNBLOCK"),
            Unblock::StreamGone => Some("UNBLOCKED the stream key no longer exists"),
            Unblock::ShutdownFailed => Some("ERR Errors trying to SHUTDOWN. Check logs."),
            Unblock::Timeout | Unblock::Released => None,
        };
        // Counted as Redis 7.0.15 counts it: an error reply in the error
        // stats; the command's failure for an error and for any CLIENT
        // UNBLOCK (its `updateStatsOnUnblock(target, 0, 0, 1)`).
        if let Some(text) = error {
            self.shared.stats.error_reply(text);
        }
        if error.is_some() || how == Unblock::Released {
            let args = cmd::Args::new(&b.data, &b.spans);
            if let Some(run) = cmd::table::registry().run_id(&args) {
                self.shared.stats.command(run).failed += 1;
            }
        }
        let acked = (b.wants == cmd::repl::WAIT).then(|| cmd::repl::wait_reply(&self.shared, key, &b).0);
        let mut out = Reply::new(&mut self.conns[key].wbuf, proto);
        match (how, error) {
            _ if silent => {}
            (_, Some(text)) => out.error(text),
            // WAIT: the replicas that acknowledged by now.
            _ if let Some(n) = acked => out.int(n as i64),
            _ => out.null_array(),
        }
        self.resume(key);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Unblock {
    /// Its timeout passed.
    Timeout,
    /// CLIENT UNBLOCK (TIMEOUT): the timeout's reply.
    Released,
    /// CLIENT UNBLOCK ERROR.
    Error,
    /// The stream an XREADGROUP waited on was deleted or replaced.
    StreamGone,
    /// A SHUTDOWN that waited for replicas did not end the server.
    ShutdownFailed,
}

/// The loop's parts a connection's arrival and departure touch, borrowed
/// apart from the rest of the server: the busy-script server
/// (`busy::serve`) has these and not the server.
struct Parts<'a> {
    poll: &'a Poll,
    conns: &'a mut Slab<Conn>,
    shared: &'a mut Shared,
    next_client_id: &'a mut u64,
    /// Where idle deadlines go (`None` while a script is busy: the cron
    /// arms them later).
    timers: Option<&'a mut TimerWheel<Timer>>,
}

impl Parts<'_> {
    /// Accepts the connections waiting on listener `t`, at most
    /// `MAX_ACCEPTS_PER_CALL` in one loop turn as Redis does, so that a
    /// flood of connections cannot hold the clients already connected
    /// waiting: the rest are accepted in the next turns (the listener's
    /// readiness, edge-triggered, is not reported again for them).
    /// Returns whether the listener is drained.
    fn accept_on(&mut self, t: Token, now: u64) -> bool {
        match t {
            UNIX_LISTENER => self.accept_unix(now),
            // A client on the TLS port: its handshake runs in the loop,
            // driven by the connection's reads and writes (see
            // `tls::TlsStream`).
            Token(i) if i >= TLS_LISTENER_BASE => self.accept_tcp(i - TLS_LISTENER_BASE, true, now),
            Token(i) => self.accept_tcp(i - LISTENER_BASE, false, now),
        }
    }

    /// Returns whether the listener is drained (`false`: the turn's
    /// accepts ran out first).
    fn accept_tcp(&mut self, index: usize, tls: bool, now: u64) -> bool {
        for _ in 0..MAX_ACCEPTS_PER_CALL {
            let Some(l) = self.shared.listeners.as_ref() else { return true };
            let Some(listener) = (if tls { l.tls.get(index) } else { l.tcp.get(index) }) else {
                return true;
            };
            let (stream, addr) = match listener.accept() {
                Ok(pair) => pair,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::warn!("Accepting client connection: {e}");
                    return true;
                }
            };
            let _ = stream.set_nodelay(true);
            if self.shared.config.tcp_keepalive > 0 {
                let ka = socket2::TcpKeepalive::new().with_time(Duration::from_secs(self.shared.config.tcp_keepalive));
                let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(&ka);
            }
            let laddr = stream.local_addr().ok();
            let stream = if tls {
                // (The context exists while the TLS port is open.)
                let Some(context) = self.shared.listeners.as_ref().and_then(|l| l.tls_context.as_ref()) else {
                    continue;
                };
                match context.accept(stream) {
                    Ok(t) => Stream::Tls(Box::new(t)),
                    Err(e) => {
                        log::warn!("Error accepting a client connection: {e}");
                        continue;
                    }
                }
            } else {
                Stream::Tcp(stream)
            };
            self.add_conn(stream, Some(addr), laddr, None, now);
        }
        false
    }

    fn accept_unix(&mut self, now: u64) -> bool {
        for _ in 0..MAX_ACCEPTS_PER_CALL {
            let Some((listener, path)) = self.shared.listeners.as_ref().and_then(|l| l.unix.as_ref()) else {
                return true;
            };
            let path: Arc<str> = path.to_string_lossy().into();
            let stream = match listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::warn!("Accepting client connection: {e}");
                    return true;
                }
            };
            self.add_conn(Stream::Unix(stream), None, None, Some(path), now);
        }
        false
    }

    /// Takes a new connection in (`now`: the loop's monotonic ms); its
    /// key, unless it was refused.
    fn add_conn(
        &mut self,
        mut stream: Stream,
        addr: Option<SocketAddr>,
        laddr: Option<SocketAddr>,
        unix: Option<Arc<str>>,
        now: u64,
    ) -> Option<usize> {
        if self.conns.len() >= self.shared.config.maxclients {
            let _ = stream.write(b"-ERR max number of clients reached\r\n");
            self.shared.stats.rejected_connections += 1;
            return None;
        }
        // Protected mode (Redis's acceptCommonHandler): with no password
        // for the default user, only loopback and Unix-socket clients.
        if self.shared.config.protected_mode
            && self.shared.acl.default_user().nopass
            && unix.is_none()
            && !addr.is_some_and(|a| is_loopback(a.ip()))
        {
            self.shared.stats.rejected_connections += 1;
            match &mut stream {
                // Over TLS the text can only go after the handshake.
                Stream::Tls(t) => t.deny_after_handshake(PROTECTED_MODE_DENIED),
                _ => {
                    let _ = stream.write(PROTECTED_MODE_DENIED);
                    return None;
                }
            }
        }
        let entry = self.conns.vacant_entry();
        let key = entry.key();
        if let Err(e) = self.poll.registry().register(&mut stream, Token(key), Interest::READABLE) {
            log::warn!("Registering client connection: {e}");
            return None;
        }
        let id = *self.next_client_id;
        *self.next_client_id += 1;
        self.shared.stats.connections_received += 1;
        let fd = stream.fd();
        entry.insert(Conn::new(stream, id, now));
        let mut client = Client::new(id, addr, laddr, fd, unix_ms());
        client.unix = unix;
        log::debug!("Accepted {}", client.addr_text());
        self.shared.add_client(key, client);
        self.shared.acl_default_auth(key);
        let timeout_ms = self.shared.config.timeout.saturating_mul(1000);
        if timeout_ms > 0 {
            match self.timers.as_mut() {
                Some(timers) => {
                    self.conns[key].idle_timer_armed = true;
                    timers.insert(now + timeout_ms, Timer::Idle { key, id });
                }
                None => self.shared.requests.rearm_idle = true,
            }
        }
        Some(key)
    }

    /// Closes connection `key` and forgets its client.
    fn close(&mut self, key: usize) {
        if let Some(mut conn) = self.conns.try_remove(key) {
            let _ = conn.flush(&mut self.shared.stats);
            let _ = self.poll.registry().deregister(&mut conn.stream);
            if let Some(b) = self.shared.client_mut(key).blocked.take() {
                self.shared.blocking.remove(b.db, &b.keys, key, conn.id);
            }
            self.shared.unwatch(key);
            self.shared.unsubscribe_all(key);
            self.shared.disable_tracking(key);
            let id = conn.id;
            self.shared.monitors.retain(|&m| m != (key, id));
            if self.shared.client(key).replica {
                self.shared.repl_forget(key, id, unix_ms());
            }
            self.shared.remove_client(key);
        }
    }
}

/// Copies what CLIENT LIST, INFO and MEMORY report of connection `key`
/// into its client (commands see only `Shared`), and keeps the total of
/// the clients' memory.
/// A signal asked for a shutdown that has not ended (or failed, or been
/// aborted): a second SIGINT exits at once (see `Server::handle_signals`).
pub static SHUTDOWN_PENDING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A load that cannot go on: its message logged a line at a time, as Redis
/// logs its lines, and returned as `InvalidData`, which `main` does not
/// log again.
pub fn fatal_logged(e: String) -> io::Error {
    for line in e.lines() {
        log::warn!("{line}");
    }
    io::Error::new(io::ErrorKind::InvalidData, e)
}

fn mirror(conn: &Conn, shared: &mut Shared, key: usize) {
    let client = shared.client_mut(key);
    let before = client.mem;
    client.qbuf = conn.qbuf_len();
    client.qbuf_cap = conn.rbuf.len();
    client.omem = conn.pending_output();
    client.wsent = conn.wpos;
    client.partial_args = conn.partial_args();
    client.rbs = conn.wbuf.capacity();
    client.rbp = conn.wpeak;
    client.write_wait = conn.want_write;
    client.conn_mem = conn.memory();
    client.mem = client.conn_mem + client.held_mem();
    let after = client.mem;
    shared.clients_mem = shared.clients_mem + after - before;
}

/// A request that breaks the protocol: Redis's error, then the connection
/// closes once it is written.
fn protocol_error(shared: &mut Shared, key: usize, wbuf: &mut Vec<u8>, e: ProtoError) {
    let msg = e.message();
    let client = shared.client_mut(key);
    log::debug!("Protocol error ({msg}) from client id={}", client.id);
    Reply::new(wbuf, client.proto).error(&msg);
    client.close_after_reply = true;
}

/// Runs one command for client `key`, its reply going to `wbuf`.
/// CLIENT REPLY OFF / SKIP drop the reply (pushes aside, see `Ctx::mute`).
/// Public as the way to run a command without a socket (fuzz/).
pub fn run_command(shared: &mut Shared, key: usize, wbuf: &mut Vec<u8>, args: &Args, now: u64) {
    let client = shared.client_mut(key);
    let proto = client.proto;
    client.reply_skip = std::mem::take(&mut client.skip_next_reply);
    let muted = client.reply_skip || client.reply_off;
    shared.mute_from = muted.then_some(wbuf.len());
    shared.current = Some(key);
    let mut cx = Ctx { srv: shared, key, out: Reply::new(wbuf, proto), now };
    // A bug in one command must not take the server down with every other
    // client: answer with an error instead.
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cmd::dispatch(&mut cx, args)));
    if ran.is_err() {
        log::error!("Internal error while running a command; the client gets an error reply");
        cx.out.error("ERR internal error");
    }
    if let Some(from) = shared.mute_from.take() {
        wbuf.truncate(from);
    }
    let still_blocked = shared.blocking.retrying && shared.blocking.still_blocked;
    let client = shared.client_mut(key);
    if client.blocked.is_some() || still_blocked {
        // A SKIP outlives a blocking wait: it drops the reply that ends it
        // (data or timeout), as in Redis.
        client.skip_next_reply |= client.reply_skip;
    }
    client.reply_skip = false;
    shared.flush_pending_invalidations();
    shared.current = None;
}
