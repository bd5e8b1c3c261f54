//! The append-only file in the running server: the propagation path's
//! glue (what the dispatcher calls around a command), turning the AOF on
//! (at start, or by CONFIG SET with a base written first, forkless), the
//! rewrite (BGREWRITEAOF, automatic on growth, and the one that turns the
//! AOF on), loading the manifest's files (at start a slice per loop turn,
//! `-LOADING` meanwhile, as the RDB load; DEBUG LOADAOF at once), and
//! INFO's `aof_*` numbers. Log lines are Redis 7.0's.
//!
//! The rewrite is Redis 7.0's multi-part rewrite without the fork: when it
//! starts, a new incremental file takes the writes (the manifest names it
//! before any write reaches it, so a crash at any moment loses nothing),
//! and the forkless snapshot of the keyspace as it was at that moment is
//! written as the new base. When the base is on disk the manifest
//! switches atomically (temporary file, fsync, rename, directory fsync):
//! the new base, the new incremental file, and the older files as history,
//! then removed (unless `aof-disable-auto-gc`). While the AOF waits for its
//! first base (CONFIG SET appendonly yes, Redis's AOF_WAIT_REWRITE), the
//! writes go to `temp-<appendfilename>.incr`, renamed into the manifest
//! when the base is done.

use super::state::{Client, Shared};
use crate::cmd::{self, Args, Ctx};
use crate::persist::aof::{self, AofFile, Fsync, Manifest, ReadError, Writer};
use crate::persist::propagate::{After, Facts, Form, Mark};
use crate::persist::rdb::Loader;
use crate::persist::snapshot::Snapshot;
use crate::resp::Reply;
use crate::store::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Under `everysec` and `no`, the loop hands the stream to the writer
/// thread once this many bytes have gathered ...
const GATHER: usize = 256 << 10;
/// ... or this long after the last hand-over.
const GATHER_NS: u64 = 4_000_000;

/// A rewrite in progress (Redis's AOF rewrite child).
pub struct Rewrite {
    /// The base being written.
    pub base: AofFile,
    /// The snapshot's temporary file (for the log).
    pub temp: String,
    /// Unix ms when it started.
    pub started_ms: u64,
    /// The stream's total when it started: what follows is in the new
    /// incremental file.
    pub fed_at_start: u64,
}

/// The AOF's state in the loop.
pub struct AofState {
    /// The writer of the current incremental file (AOF on or waiting for
    /// its first base).
    pub writer: Option<Writer>,
    /// The manifest as on disk.
    pub manifest: Manifest,
    /// Bytes of the propagated stream handed to the writer so far.
    pub fed: u64,
    /// When the loop last handed bytes to the writer (monotonic ns).
    pub fed_at_ns: u64,
    pub rewrite: Option<Rewrite>,
    pub rewrite_scheduled: bool,
    /// The AOF waits for its first base (Redis's AOF_WAIT_REWRITE).
    pub waiting_base: bool,
    pub last_rewrite_ok: bool,
    /// Seconds the last rewrite took (-1: none yet).
    pub last_rewrite_secs: i64,
    /// Rewrites started (Redis's `stat_aof_rewrites`).
    pub rewrites: u64,
    pub consecutive_failures: u64,
    /// Redis's `aofRewriteLimited` state: the delay (minutes) and the
    /// unix ms before which automatic rewrites wait.
    limit_delay_min: u64,
    limit_until_ms: u64,
    /// `aof_current_size` is `size_mark` plus the stream written since
    /// `written_mark`.
    size_mark: u64,
    written_mark: u64,
    /// Redis's `aof_rewrite_base_size`: the size after the last rewrite
    /// (of the base at start).
    pub base_size: u64,
    /// The files being loaded.
    pub loading: Option<Box<AofLoad>>,
    /// The loader's fake client is running a command of a file.
    pub replaying: bool,
    /// Wakes the loop (an fsync completed: replies may go).
    pub wake: Option<aof::Wake>,
}

impl Default for AofState {
    fn default() -> AofState {
        AofState {
            writer: None,
            manifest: Manifest::default(),
            fed: 0,
            fed_at_ns: 0,
            rewrite: None,
            rewrite_scheduled: false,
            waiting_base: false,
            last_rewrite_ok: true,
            last_rewrite_secs: -1,
            rewrites: 0,
            consecutive_failures: 0,
            limit_delay_min: 0,
            limit_until_ms: 0,
            size_mark: 0,
            written_mark: 0,
            base_size: 0,
            loading: None,
            replaying: false,
            wake: None,
        }
    }
}

/// Loading the files of a manifest, one slice per call.
pub struct AofLoad {
    files: Vec<AofFile>,
    next: usize,
    cur: Option<FileLoad>,
    pub started: Instant,
    /// Bytes of the files done, and of all of them.
    done_bytes: u64,
    total_bytes: u64,
    base_size: u64,
    /// The fake client that runs the commands, between slices.
    client: Option<Client>,
}

/// One file being loaded: its RDB part first, if it has one, then its
/// commands.
struct FileLoad {
    name: String,
    kind: char,
    last: bool,
    started: Instant,
    rdb: Option<Box<Loader>>,
    data: Vec<u8>,
    pos: usize,
    /// Where the last whole command outside a MULTI ended.
    valid: usize,
}

impl AofLoad {
    /// Bytes read so far and in all (INFO `loading_*`).
    pub fn progress(&self) -> (usize, usize) {
        let cur = self.cur.as_ref().map_or(0, |f| match &f.rdb {
            Some(l) => l.progress().0,
            None => f.pos,
        });
        (self.done_bytes as usize + cur, self.total_bytes as usize)
    }
}

/// How replaying a file ended.
enum End {
    Whole,
    Truncated,
    Format(usize),
}

/// Redis's dirCreateIfMissing: a file where the directory should be is
/// "Not a directory".
fn create_dir(dir: &std::path::Path) -> std::io::Result<()> {
    match std::fs::create_dir_all(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(std::io::Error::from_raw_os_error(20)),
        other => other,
    }
}

/// The fake client's id while AOF commands are replayed.
const LOADER_ID: u64 = u64::MAX;

/// Redis's AOF_REWRITE_LIMITE_THRESHOLD and _MAX_MINUTES.
const LIMIT_THRESHOLD: u64 = 3;
const LIMIT_MAX_MINUTES: u64 = 60;

/// Redis's REDIS_AUTOSYNC_BYTES (`aof-rewrite-incremental-fsync`).
const AUTOSYNC_BYTES: u64 = 4 * 1024 * 1024;

/// Redis's reply when a rewrite cannot start.
pub const CANT_REWRITE: &str =
    "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.";

impl Shared {
    /// The AOF directory: `dir/appenddirname`.
    pub fn aof_dir(&self) -> PathBuf {
        self.data_dir().join(&self.config.appenddirname)
    }

    /// Whether the AOF is on (commands are appended).
    pub fn aof_on(&self) -> bool {
        self.aof.writer.is_some()
    }

    /// The propagation path follows the AOF: on while it is on.
    pub fn sync_propagation(&mut self) {
        // Replicas take the stream too, while the backlog exists.
        let on = self.aof_on() || self.repl.backlog.is_some();
        if self.prop.on != on {
            self.prop.set_on(on);
        }
        self.prop.timestamps = self.config.aof_timestamp_enabled;
        for db in &mut self.dbs {
            if on != db.expired_log.is_some() {
                db.expired_log = on.then(Vec::new);
            }
        }
    }

    /// The dispatcher's mark before a write command runs (see
    /// `persist::propagate`); `None` when nothing is propagated.
    pub fn prop_mark(&self) -> Option<Mark> {
        self.prop.on.then(|| Mark(self.prop.changes + self.db_scan().0))
    }

    /// What every propagated command needs to know of the databases: the
    /// sum of their change counters, and whether any holds keys deleted by
    /// expiry that are not yet in the stream (their shared `Signals`).
    fn db_scan(&self) -> (u64, bool) {
        self.dbs.first().map_or((0, false), |d| d.signals.read())
    }

    /// After a command of form `form`: keys it found expired go out as
    /// DEL, its own propagated form joins the call (if it is a write that
    /// changed something), and at the end of a top-level call the call's
    /// commands go to the stream.
    #[inline]
    pub fn after_call(&mut self, db: usize, form: Form, args: &Args, mark: Option<Mark>, ok: bool, now: u64) {
        if !self.prop.on {
            return;
        }
        let (db_changes, expired) = self.db_scan();
        if expired {
            self.propagate_expired_now(now, true);
        }
        if let Some(mark) = mark {
            let changed = self.prop.changed_since(mark, db_changes) || (ok && form == Form::Keyless);
            let facts = Facts {
                now,
                lazy_expire: self.config.lazyfree_lazy_expire,
                lazy_server_del: self.config.lazyfree_lazy_server_del,
                after: &self.dbs[db],
            };
            self.prop.add_call(db, form, args, changed, &facts, !self.in_exec);
        }
        if !self.in_exec && self.prop.in_call() {
            self.prop.end_call(now);
        }
    }

    /// Keys deleted by expiry since the last look go to the stream as DEL
    /// (UNLINK with `lazyfree-lazy-expire`).
    pub fn propagate_expired(&mut self, now: u64) {
        if self.db_scan().1 {
            self.propagate_expired_now(now, false);
        }
    }

    /// `in_call`: the running command found them (they join its call).
    fn propagate_expired_now(&mut self, now: u64, in_call: bool) {
        if let Some(d) = self.dbs.first() {
            d.signals.expired.store(false, std::sync::atomic::Ordering::Relaxed);
        }
        let lazy = self.config.lazyfree_lazy_expire;
        for db in 0..self.dbs.len() {
            if let Some(log) = self.dbs[db].expired_log.as_mut()
                && !log.is_empty()
            {
                for key in std::mem::take(log) {
                    if in_call {
                        self.prop.deletion_in_call(db, &key, lazy);
                    } else {
                        self.prop.deletion(db, &key, lazy, now);
                    }
                }
            }
        }
    }

    /// Hands the stream produced since the last call to the writer;
    /// returns the stream's total (what the replies of this batch wait for
    /// under `appendfsync always`).
    pub fn aof_feed(&mut self) -> u64 {
        if self.prop.on {
            self.propagate_expired(super::unix_ms());
        }
        self.repl_absorb();
        if !self.prop.out.is_empty()
            && let Some(w) = &self.aof.writer
        {
            let data = std::mem::replace(&mut self.prop.out, w.spare());
            self.prop.repl_fed = 0;
            self.prop.ts_spans.clear();
            self.aof.fed += data.len() as u64;
            self.aof.fed_at_ns = crate::clock::mono_ns();
            w.send(data, self.aof.fed);
        }
        self.aof.fed
    }

    /// [`Shared::aof_feed`] at the end of a loop turn. Under `everysec`
    /// and `no` nothing waits for the bytes, so they are handed over once
    /// [`GATHER`] bytes have gathered or [`GATHER_NS`] have passed since
    /// the last hand-over (the loop sleeps no longer than that, see
    /// [`Shared::aof_gather_wait_ms`]), not at every turn: each hand-over
    /// wakes the writer thread, which preempts the loop when they share a
    /// core. A crash loses at most those milliseconds more, well inside
    /// everysec's second.
    ///
    /// 256 KiB / 4 ms, from 64 KiB / 1 ms (SET `-P 16`, ~50 MB/s of
    /// stream): the writer's wake-ups ~1,500/s -> ~200/s, its CPU per
    /// request halved (fewer switches, fewer and larger writes);
    /// docs/benchmarks.md, "Tenth round".
    pub fn aof_feed_turn(&mut self) -> u64 {
        if !self.aof_always() && self.prop.out.len() < GATHER {
            let now = crate::clock::mono_ns();
            if self.prop.out.is_empty() || now.saturating_sub(self.aof.fed_at_ns) < GATHER_NS {
                return self.aof.fed;
            }
        }
        self.aof_feed()
    }

    /// INFO's `mem_aof_buffer`: the buffer the stream gathers in for the
    /// writer (Redis's `aof_buf`).
    pub fn aof_buffer_bytes(&self) -> usize {
        if self.aof.writer.is_some() { self.prop.out.capacity() } else { 0 }
    }

    /// Whether propagated bytes wait for [`Shared::aof_feed_turn`].
    pub fn aof_gathering(&self) -> bool {
        !self.prop.out.is_empty() && self.aof.writer.is_some()
    }

    /// While bytes gather: the milliseconds (rounded up) until they are
    /// due for the writer, the longest the loop may sleep.
    pub fn aof_gather_wait_ms(&self) -> Option<u64> {
        if !self.aof_gathering() {
            return None;
        }
        let due = self.aof.fed_at_ns.saturating_add(GATHER_NS);
        Some(due.saturating_sub(crate::clock::mono_ns()).div_ceil(1_000_000))
    }

    /// Replies waiting for stream byte `seq` may go (always: once fsynced).
    pub fn aof_synced(&self, seq: u64) -> bool {
        match &self.aof.writer {
            Some(w) if w.status.policy() == Fsync::Always => w.status.synced.load(Ordering::SeqCst) >= seq,
            _ => true,
        }
    }

    /// Whether replies wait for the fsync (`appendfsync always`).
    pub fn aof_always(&self) -> bool {
        self.aof.writer.as_ref().is_some_and(|w| w.status.policy() == Fsync::Always)
    }

    /// The error of the last AOF write, while writes fail (MISCONF).
    pub fn aof_write_error(&self) -> Option<String> {
        self.aof.writer.as_ref().and_then(|w| w.status.error())
    }

    fn start_writer(&mut self, name: &str) -> Result<(), String> {
        let path = self.aof_dir().join(name);
        let policy = Fsync::from_name(self.config.appendfsync);
        let wake: aof::Wake = match &self.aof.wake {
            Some(w) => w.clone(),
            None => Arc::new(|| {}),
        };
        let w = Writer::start(path, policy, self.aof.fed, wake, &self.config.bio_cpulist)
            .map_err(|e| format!("Can't open the append-only file {name}: {}", crate::config::strerror(&e)))?;
        self.aof.writer = Some(w);
        self.sync_propagation();
        Ok(())
    }

    fn write_manifest(&mut self, m: &Manifest) -> Result<(), String> {
        let dir = self.aof_dir();
        let name = aof::manifest_name(&self.config.appendfilename);
        aof::write_atomic(&dir, &name, m.format().as_bytes()).map_err(|e| {
            format!("Error trying to write the AOF manifest file {name}: {}", crate::config::strerror(&e))
        })?;
        self.aof.manifest = m.clone();
        Ok(())
    }

    /// Whether the AOF is on and has its base (Redis's AOF_ON).
    fn aof_state_on(&self) -> bool {
        self.aof.writer.is_some() && !self.aof.waiting_base
    }

    /// Whether a file is being loaded (RDB or AOF): commands get -LOADING.
    pub fn loading(&self) -> bool {
        self.persist.loading.is_some() || self.aof.loading.is_some()
    }

    /// `aof_current_size`.
    pub fn aof_current_size(&self) -> u64 {
        let written =
            self.aof.writer.as_ref().map_or(self.aof.written_mark, |w| w.status.written.load(Ordering::SeqCst));
        self.aof.size_mark + written.saturating_sub(self.aof.written_mark)
    }

    fn aof_file_size(&self, name: &str) -> u64 {
        std::fs::metadata(self.aof_dir().join(name)).map_or(0, |m| m.len())
    }

    /// Start with `appendonly yes`: the manifest is read (an old
    /// single-file AOF is moved into the directory first, as Redis 7
    /// does), and its files start loading, a slice per loop turn; the AOF
    /// opens when they are loaded (at once when there is nothing to load).
    pub fn aof_boot(&mut self, now: u64) -> Result<(), String> {
        let dir = self.aof_dir();
        let prefix = self.config.appendfilename.clone();
        let manifest_path = dir.join(aof::manifest_name(&prefix));
        let old_single = self.data_dir().join(&prefix);
        let mut m = match std::fs::read_to_string(&manifest_path) {
            Ok(text) => Manifest::parse(&text)?,
            Err(_) => Manifest::default(),
        };
        let upgrade = m.base.is_none() && m.incrs.is_empty()
            || (m.incrs.is_empty() && m.base.as_ref().is_some_and(|b| b.name == prefix) && !dir.join(&prefix).exists());
        if old_single.is_file() && upgrade {
            // Redis 7's upgrade of a single-file AOF: it becomes the base.
            create_dir(&dir).map_err(|e| {
                format!(
                    "Can't open or create append-only dir {}: {}",
                    self.config.appenddirname,
                    crate::config::strerror(&e)
                )
            })?;
            m = Manifest { base: Some(AofFile { name: prefix.clone(), seq: 1, kind: 'b' }), ..Default::default() };
            self.write_manifest(&m)?;
            std::fs::rename(&old_single, dir.join(&prefix)).map_err(|e| {
                format!(
                    "Error trying to move the old AOF file {prefix} into dir {}: {}",
                    self.config.appenddirname,
                    crate::config::strerror(&e)
                )
            })?;
            log::info!(
                "Successfully migrated an old-style AOF file ({prefix}) into the AOF directory ({}).",
                self.config.appenddirname
            );
        }
        self.aof.manifest = m.clone();
        if self.aof_start_loading(&m)? {
            return Ok(());
        }
        self.aof_open_on_start(now)
    }

    /// Starts loading the files of `m`; false when there is nothing to
    /// load (no files, or all empty).
    fn aof_start_loading(&mut self, m: &Manifest) -> Result<bool, String> {
        let files: Vec<AofFile> = m.base.iter().chain(m.incrs.iter()).cloned().collect();
        if files.is_empty() {
            return Ok(false);
        }
        let dir = self.aof_dir();
        let mut total = 0;
        for f in &files {
            match std::fs::metadata(dir.join(&f.name)) {
                Ok(md) => total += md.len(),
                Err(e) => {
                    return Err(format!(
                        "Unable to obtain the AOF file {} length. stat: {}",
                        f.name,
                        crate::config::strerror(&e)
                    ));
                }
            }
        }
        if total == 0 {
            return Ok(false);
        }
        let base_size = m.base.as_ref().map_or(0, |b| self.aof_file_size(&b.name));
        self.aof.loading = Some(Box::new(AofLoad {
            files,
            next: 0,
            cur: None,
            started: Instant::now(),
            done_bytes: 0,
            total_bytes: total,
            base_size,
            client: None,
        }));
        Ok(true)
    }

    /// After loading at start (Redis's `aofOpenIfNeededOnServerStart`):
    /// a base is written if there is none (empty dataset), the last
    /// incremental file (or a new one) opened, the manifest persisted,
    /// history removed.
    fn aof_open_on_start(&mut self, now: u64) -> Result<(), String> {
        let dir = self.aof_dir();
        let prefix = self.config.appendfilename.clone();
        create_dir(&dir).map_err(|e| {
            format!(
                "Can't open or create append-only dir {}: {}",
                self.config.appenddirname,
                crate::config::strerror(&e)
            )
        })?;
        let mut m = self.aof.manifest.clone();
        let mut dirty = false;
        if m.base.is_none() && m.incrs.is_empty() {
            let seq = m.base_seq() + 1;
            let base = AofFile { name: aof::base_name(&prefix, seq, self.config.aof_use_rdb_preamble), seq, kind: 'b' };
            self.write_base_now(&base.name, now)?;
            log::info!("Creating AOF base file {} on server start", base.name);
            m.base = Some(base);
            dirty = true;
        }
        let had_incr = !m.incrs.is_empty();
        if !had_incr {
            let seq = m.incr_seq() + 1;
            m.incrs.push(AofFile { name: aof::incr_name(&prefix, seq), seq, kind: 'i' });
            dirty = true;
        }
        let last = m.incrs.last().map(|f| f.name.clone()).unwrap_or_default();
        self.start_writer(&last)?;
        if dirty {
            self.write_manifest(&m)?;
        }
        self.aof.manifest = m;
        self.aof.written_mark = self.aof.fed;
        if had_incr {
            log::info!("Opening AOF incr file {last} on server start");
        } else {
            log::info!("Creating AOF incr file {last} on server start");
        }
        self.aof_del_history();
        Ok(())
    }

    /// A base written to the end before returning (start, empty dataset).
    fn write_base_now(&mut self, name: &str, now: u64) -> Result<u64, String> {
        let opts = self.base_options(name);
        let mut snap = Snapshot::start(&mut self.dbs, opts, now, self.stats.dirty);
        while !snap.walked() {
            if snap.throttled() {
                std::thread::sleep(Duration::from_micros(200));
            }
            snap.step(&mut self.dbs, now, Duration::from_secs(3600));
        }
        snap.join()
    }

    fn base_options(&self, name: &str) -> crate::persist::snapshot::Options {
        let mut opts = self.snapshot_options();
        opts.dir = self.aof_dir();
        opts.filename = name.to_string();
        opts.aof_base = true;
        // In `dir`, as Redis's child writes it.
        opts.temp_path = Some(self.data_dir().join(format!("temp-rewriteaof-bg-{}.aof", std::process::id())));
        opts.autosync = if self.config.aof_rewrite_incremental_fsync { AUTOSYNC_BYTES } else { 0 };
        opts.aof_commands = name.ends_with(".aof");
        opts.aof_timestamp = self.config.aof_timestamp_enabled;
        opts
    }

    /// CONFIG SET appendonly yes / no (Redis's startAppendOnly and
    /// stopAppendOnly).
    pub fn aof_switch(&mut self, on: bool, now: u64) -> Result<(), String> {
        if on && self.aof.writer.is_none() && !self.aof.waiting_base {
            self.aof.waiting_base = true;
            self.aof.manifest =
                std::fs::read_to_string(self.aof_dir().join(aof::manifest_name(&self.config.appendfilename)))
                    .ok()
                    .and_then(|t| Manifest::parse(&t).ok())
                    .unwrap_or_default();
            if self.persist.snapshot.is_some() && !self.persist.aof_snapshot {
                self.aof.rewrite_scheduled = true;
                log::warn!(
                    "AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible."
                );
            } else if self.in_exec {
                self.aof.rewrite_scheduled = true;
                log::warn!(
                    "AOF was enabled during a transaction. An AOF background was scheduled to start when possible."
                );
            } else {
                if self.aof.rewrite.is_some() {
                    log::warn!(
                        "AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now."
                    );
                    self.kill_aof_rewrite();
                }
                if !self.aof_rewrite_start(now) {
                    self.aof.waiting_base = false;
                    return Err("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.".into());
                }
            }
        } else if !on && (self.aof.writer.is_some() || self.aof.waiting_base) {
            self.aof_stop();
        }
        Ok(())
    }

    /// Appending stops (CONFIG SET appendonly no, shutdown): what is
    /// pending is written and fsynced first; a rewrite in progress is
    /// stopped.
    pub fn aof_stop(&mut self) {
        self.aof_feed();
        if let Some(w) = self.aof.writer.take() {
            w.stop();
        }
        self.aof.waiting_base = false;
        self.aof.rewrite_scheduled = false;
        self.kill_aof_rewrite();
        self.sync_propagation();
    }

    /// Stops a rewrite in progress, removing its temporary file (Redis's
    /// killAppendOnlyChild).
    pub fn kill_aof_rewrite(&mut self) {
        if self.aof.rewrite.take().is_some() {
            log::info!("Killing running AOF rewrite child: {}", std::process::id());
            if self.persist.aof_snapshot
                && let Some(snap) = self.persist.snapshot.take()
            {
                snap.abort(&mut self.dbs);
            }
            self.persist.aof_snapshot = false;
        }
    }

    /// SHUTDOWN with a rewrite in progress (Redis's prepareForShutdown):
    /// refused while the AOF waits for its first base, unless `force`;
    /// else the rewrite is stopped (the files it would replace hold the
    /// whole dataset).
    pub fn aof_prepare_shutdown(&mut self, force: bool) -> bool {
        if self.aof.rewrite.is_none() || (self.aof.writer.is_none() && !self.aof.waiting_base) {
            return true;
        }
        if self.aof.waiting_base {
            if force {
                log::warn!("Writing initial AOF. Exit anyway.");
            } else {
                log::warn!("Writing initial AOF, can't exit.");
                return false;
            }
        }
        log::warn!("There is a child rewriting the AOF. Killing it!");
        self.kill_aof_rewrite();
        true
    }

    /// BGREWRITEAOF: Redis's reply, or its error.
    pub fn bgrewriteaof(&mut self, now: u64) -> Result<&'static str, &'static str> {
        if self.aof.rewrite.is_some() {
            Err("ERR Background append only file rewriting already in progress")
        } else if self.persist.snapshot.is_some() || self.in_exec {
            self.aof.rewrite_scheduled = true;
            // A rewrite asked for by hand is not held back by failures.
            self.aof.consecutive_failures = 0;
            Ok("Background append only file rewriting scheduled")
        } else if self.aof_rewrite_start(now) {
            Ok("Background append only file rewriting started")
        } else {
            Err(CANT_REWRITE)
        }
    }

    /// Starts a rewrite (Redis's rewriteAppendOnlyFileBackground): with
    /// the AOF on, a new incremental file takes the writes from now on
    /// (named in the manifest first); waiting for the first base, the
    /// temporary incremental file does; then the forkless snapshot of the
    /// keyspace as it is now is written as the new base. Whether it
    /// started (failures are logged).
    pub fn aof_rewrite_start(&mut self, now: u64) -> bool {
        if self.persist.snapshot.is_some() {
            return false;
        }
        let dir = self.aof_dir();
        if let Err(e) = create_dir(&dir) {
            log::warn!(
                "Can't open or create append-only dir {}: {}",
                self.config.appenddirname,
                crate::config::strerror(&e)
            );
            self.aof.last_rewrite_ok = false;
            return false;
        }
        // The next command written selects its database again.
        self.prop.reselect();
        self.aof_feed();
        let fed_at_start = self.aof.fed;
        if let Err(e) = self.open_new_incr() {
            log::warn!("{e}");
            self.aof.last_rewrite_ok = false;
            return false;
        }
        self.aof.rewrites += 1;
        let prefix = self.config.appendfilename.clone();
        let seq = self.aof.manifest.base_seq() + 1;
        let base = AofFile { name: aof::base_name(&prefix, seq, self.config.aof_use_rdb_preamble), seq, kind: 'b' };
        let opts = self.base_options(&base.name);
        let temp = opts.temp_path.as_ref().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned());
        let temp = temp.unwrap_or_default();
        self.persist.snapshot = Some(Box::new(Snapshot::start(&mut self.dbs, opts, now, self.stats.dirty)));
        self.persist.aof_snapshot = true;
        log::info!("Background append only file rewriting started by pid {}", std::process::id());
        self.aof.rewrite = Some(Rewrite { base, temp, started_ms: now, fed_at_start });
        self.aof.rewrite_scheduled = false;
        self.aof_refresh_no_fsync();
        true
    }

    /// Redis's openNewIncrAofForAppend.
    fn open_new_incr(&mut self) -> Result<(), String> {
        let dir = self.aof_dir();
        let prefix = self.config.appendfilename.clone();
        if self.aof.waiting_base {
            // The writes wait in a temporary file until the base is in.
            let name = aof::temp_incr_name(&prefix);
            if let Some(w) = self.aof.writer.take() {
                w.stop();
            }
            std::fs::File::create(dir.join(&name))
                .map_err(|e| format!("Can't open the append-only file {name}: {}", crate::config::strerror(&e)))?;
            self.start_writer(&name)?;
            log::info!("Creating AOF incr file {name} on background rewrite");
            return Ok(());
        }
        if self.aof.writer.is_none() {
            return Ok(());
        }
        let mut m = self.aof.manifest.clone();
        let seq = m.incr_seq() + 1;
        let incr = AofFile { name: aof::incr_name(&prefix, seq), seq, kind: 'i' };
        std::fs::File::create(dir.join(&incr.name))
            .map_err(|e| format!("Can't open the append-only file {}: {}", incr.name, crate::config::strerror(&e)))?;
        // In the manifest before a write goes to it.
        m.incrs.push(incr.clone());
        self.write_manifest(&m)?;
        log::info!("Creating AOF incr file {} on background rewrite", incr.name);
        if let Some(w) = &self.aof.writer {
            w.switch(dir.join(&incr.name));
        }
        Ok(())
    }

    /// The base of a rewrite is on disk (or failed): Redis's
    /// backgroundRewriteDoneHandler.
    pub fn aof_rewrite_done(&mut self, outcome: Result<u64, String>, now: u64) {
        self.persist.aof_snapshot = false;
        let Some(rw) = self.aof.rewrite.take() else { return };
        match outcome {
            Ok(_) => {
                log::info!("Successfully created the temporary AOF base file {}", rw.temp);
                log::info!("Background AOF rewrite terminated with success");
                if self.install_rewrite(&rw).is_ok() {
                    self.aof.last_rewrite_ok = true;
                    self.aof.consecutive_failures = 0;
                    log::info!("Background AOF rewrite finished successfully");
                    self.aof.waiting_base = false;
                } else {
                    self.aof.last_rewrite_ok = false;
                    self.aof.consecutive_failures += 1;
                }
            }
            Err(e) => {
                log::warn!("{e}");
                self.aof.last_rewrite_ok = false;
                self.aof.consecutive_failures += 1;
                log::warn!("Background AOF rewrite terminated with error");
            }
        }
        if self.aof.waiting_base {
            // The writes kept for the base that failed are dropped; a new
            // rewrite will start over.
            if let Some(w) = self.aof.writer.take() {
                w.stop();
            }
            let name = aof::temp_incr_name(&self.config.appendfilename);
            log::info!("Removing the temp incr aof file {name} in the background");
            let _ = std::fs::remove_file(self.aof_dir().join(name));
            self.sync_propagation();
            self.aof.rewrite_scheduled = true;
        }
        self.aof.last_rewrite_secs = (now.saturating_sub(rw.started_ms) / 1000) as i64;
        self.aof_refresh_no_fsync();
    }

    /// The manifest switches to the new base (and, waiting for the first
    /// base, to the temporary incremental file under its name); the older
    /// files become history, then are removed.
    fn install_rewrite(&mut self, rw: &Rewrite) -> Result<(), ()> {
        let dir = self.aof_dir();
        let prefix = self.config.appendfilename.clone();
        let mut m = self.aof.manifest.clone();
        if let Some(mut old) = m.base.take() {
            old.kind = 'h';
            m.history.insert(0, old);
        }
        m.base = Some(rw.base.clone());
        log::info!("Successfully renamed the temporary AOF base file {} into {}", rw.temp, rw.base.name);
        let mut new_incr = None;
        if self.aof.waiting_base {
            let temp = aof::temp_incr_name(&prefix);
            let seq = m.incr_seq() + 1;
            let incr = AofFile { name: aof::incr_name(&prefix, seq), seq, kind: 'i' };
            if let Err(e) = std::fs::rename(dir.join(&temp), dir.join(&incr.name)) {
                log::warn!(
                    "Error trying to rename the temporary AOF incr file {} into {}: {}",
                    dir.join(&temp).display(),
                    dir.join(&incr.name).display(),
                    crate::config::strerror(&e)
                );
                let _ = std::fs::remove_file(dir.join(&rw.base.name));
                return Err(());
            }
            log::info!("Successfully renamed the temporary AOF incr file {temp} into {}", incr.name);
            new_incr = Some(incr.name.clone());
            m.incrs.push(incr);
        }
        // Redis's markRewrittenIncrAofAsHistory: every incremental file but
        // the one being written (when the AOF is on) becomes history.
        let mut incrs = std::mem::take(&mut m.incrs);
        let current = if self.aof.writer.is_some() { incrs.pop() } else { None };
        for f in &mut incrs {
            f.kind = 'h';
        }
        incrs.append(&mut m.history);
        m.history = incrs;
        m.incrs = current.into_iter().collect();
        if let Err(e) = self.write_manifest(&m) {
            log::warn!("{e}");
            let _ = std::fs::remove_file(dir.join(&rw.base.name));
            if let Some(n) = new_incr {
                let _ = std::fs::remove_file(dir.join(n));
            }
            return Err(());
        }
        if let Some(w) = &self.aof.writer {
            let written = w.status.written.load(Ordering::SeqCst);
            let size = self.aof_file_size(&rw.base.name) + written.saturating_sub(rw.fed_at_start);
            self.aof.size_mark = size;
            self.aof.written_mark = written;
            self.aof.base_size = size;
        }
        self.aof_del_history();
        Ok(())
    }

    /// Redis's aofDelHistoryFiles: the manifest no longer names the
    /// history files, and they are removed on a helper thread.
    ///
    /// The manifest goes first: removing files of tens of MB beside it
    /// made this write (its fsyncs, on the loop) the slowest of a
    /// rewrite's three: 2.3-5.2 ms against 0.5-0.9, 0.5-0.8 ms once the
    /// removal follows it (SET `-P 16` with a rewrite every ~1.4 s). A
    /// crash between the two leaves files no manifest names, as Redis's
    /// background unlink can.
    fn aof_del_history(&mut self) {
        if self.config.aof_disable_auto_gc || self.aof.manifest.history.is_empty() {
            return;
        }
        let dir = self.aof_dir();
        let mut m = self.aof.manifest.clone();
        let mut paths = Vec::new();
        for f in m.history.drain(..) {
            log::info!("Removing the history file {} in the background", f.name);
            paths.push(dir.join(&f.name));
        }
        if let Err(e) = self.write_manifest(&m) {
            log::warn!("{e}");
        }
        let _ = std::thread::Builder::new().name("aof-unlink".into()).spawn(move || {
            for p in paths {
                let _ = std::fs::remove_file(p);
            }
        });
    }

    /// Redis's aofRewriteLimited: after 3 failures in a row, automatic
    /// rewrites wait 1 minute, then 2, 4, … up to an hour.
    fn aof_rewrite_limited(&mut self, now: u64) -> bool {
        let a = &mut self.aof;
        if a.consecutive_failures < LIMIT_THRESHOLD {
            a.limit_delay_min = 0;
            a.limit_until_ms = 0;
            return false;
        }
        if a.limit_until_ms != 0 {
            if now < a.limit_until_ms {
                return true;
            }
            a.limit_until_ms = 0;
            return false;
        }
        a.limit_delay_min = if a.limit_delay_min == 0 { 1 } else { (a.limit_delay_min * 2).min(LIMIT_MAX_MINUTES) };
        a.limit_until_ms = now + a.limit_delay_min * 60_000;
        log::warn!(
            "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {} minutes",
            a.limit_delay_min
        );
        true
    }

    /// The cron (Redis's serverCron): a scheduled rewrite starts when no
    /// snapshot runs; with the AOF on, a rewrite starts when it grew by
    /// `auto-aof-rewrite-percentage` over its size after the last one and
    /// is over `auto-aof-rewrite-min-size`.
    pub fn aof_cron(&mut self, now: u64) {
        self.aof_refresh_no_fsync();
        if self.loading() {
            return;
        }
        if self.aof.rewrite_scheduled && self.persist.snapshot.is_none() && !self.aof_rewrite_limited(now) {
            self.aof_rewrite_start(now);
        }
        let perc = self.config.auto_aof_rewrite_percentage;
        if self.persist.snapshot.is_none() && self.aof_state_on() && perc > 0 {
            let current = self.aof_current_size();
            if current > self.config.auto_aof_rewrite_min_size {
                let base = self.aof.base_size.max(1);
                let growth = (current * 100 / base) as i64 - 100;
                if growth >= perc && !self.aof_rewrite_limited(now) {
                    log::info!("Starting automatic rewriting of AOF on {growth}% growth");
                    self.aof_rewrite_start(now);
                }
            }
        }
    }

    /// `no-appendfsync-on-rewrite`: the writer skips fsyncs while a
    /// snapshot (a rewrite or a BGSAVE) runs.
    pub fn aof_refresh_no_fsync(&self) {
        if let Some(w) = &self.aof.writer {
            let skip = self.config.no_appendfsync_on_rewrite && self.persist.snapshot.is_some();
            w.status.no_fsync.store(skip, Ordering::SeqCst);
        }
    }

    /// SAVE (and what saves at once) while a rewrite runs: the rewrite's
    /// base is written to the end first (both would use the keyspace's
    /// snapshot marks).
    pub fn finish_aof_rewrite_now(&mut self, now: u64) {
        if !self.persist.aof_snapshot {
            return;
        }
        let Some(mut snap) = self.persist.snapshot.take() else { return };
        while !snap.walked() {
            if snap.throttled() {
                std::thread::sleep(Duration::from_micros(200));
            }
            snap.step(&mut self.dbs, now, Duration::from_secs(3600));
        }
        let outcome = snap.join();
        self.aof_rewrite_done(outcome, now);
    }

    /// The loop's turn while the AOF loads at start; `Ok(false)` once it
    /// is loaded and the AOF is open. An error stops the server.
    pub fn aof_loading_turn(&mut self, now: u64) -> Result<bool, String> {
        if self.aof_load_step(now, super::persistence::STEP_BUDGET)? {
            return Ok(true);
        }
        self.aof_open_on_start(now)?;
        Ok(false)
    }

    /// DEBUG LOADAOF: what is pending is written, the dataset emptied,
    /// the manifest read again and its files loaded (to the end).
    pub fn debug_loadaof(&mut self, now: u64) -> Result<(), String> {
        // A rewrite in progress gets its base from the dataset before.
        self.finish_aof_rewrite_now(now);
        self.aof_feed();
        if let Some(w) = &self.aof.writer {
            w.sync();
        }
        for db in 0..self.dbs.len() {
            self.touch_db(db, None, now);
            self.dbs[db].clear();
        }
        // Redis's emptyData: the functions go too (the files have them).
        crate::script::with_made_engine(|e| e.edit_libraries(Vec::clear));
        let path = self.aof_dir().join(aof::manifest_name(&self.config.appendfilename));
        let m = match std::fs::read_to_string(&path) {
            Ok(text) => Manifest::parse(&text)?,
            Err(_) => Manifest::default(),
        };
        if m.base.is_none() && m.incrs.is_empty() {
            // Redis 7.0 exits then too (AOF_NOT_EXIST).
            return Err(format!("No AOF files found in the AOF directory {}", self.config.appenddirname));
        }
        self.aof.manifest = m.clone();
        self.aof_del_history();
        if self.aof_start_loading(&m)? {
            while self.aof_load_step(now, Duration::from_secs(3600))? {}
        }
        Ok(())
    }

    /// Loads for up to `budget`; true while there is more.
    fn aof_load_step(&mut self, now: u64, budget: Duration) -> Result<bool, String> {
        let Some(mut load) = self.aof.loading.take() else { return Ok(false) };
        let started = Instant::now();
        // The fake client, in a slot no connection has during this turn.
        let key = self.clients.len();
        let client = load.client.take().unwrap_or_else(|| Client::new(LOADER_ID, None, None, -1, now));
        self.add_client(key, client);
        // What is replayed is not appended again (DEBUG LOADAOF with the
        // AOF on).
        let propagating = std::mem::replace(&mut self.prop.on, false);
        // Replayed commands count as changes (Redis's dirty) but not in the
        // command statistics: Redis runs them without `call()`.
        let stats = self.stats.clone();
        self.aof.replaying = true;
        self.dbs.iter_mut().for_each(|db| db.loading = true);
        let result = self.aof_load_files(&mut load, key, now, budget, started);
        self.dbs.iter_mut().for_each(|db| db.loading = false);
        self.aof.replaying = false;
        let (dirty, evicted) = (self.stats.dirty, self.stats.evicted_keys);
        self.stats = stats;
        self.stats.dirty = dirty;
        self.stats.evicted_keys = evicted;
        self.prop.on = propagating;
        for db in &mut self.dbs {
            if let Some(log) = db.expired_log.as_mut() {
                log.clear();
            }
        }
        load.client = self.clients.get_mut(key).and_then(|c| c.take());
        self.by_id.remove(&LOADER_ID);
        self.flush_db_events();
        self.pubsub.outbox.clear();
        match result {
            Ok(true) => {
                self.aof.loading = Some(load);
                Ok(true)
            }
            Ok(false) => {
                log::info!("DB loaded from append only file: {:.3} seconds", load.started.elapsed().as_secs_f64());
                self.aof.size_mark = load.total_bytes;
                self.aof.written_mark =
                    self.aof.writer.as_ref().map_or(self.aof.fed, |w| w.status.written.load(Ordering::SeqCst));
                self.aof.base_size = load.base_size;
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    fn aof_load_files(
        &mut self,
        load: &mut AofLoad,
        key: usize,
        now: u64,
        budget: Duration,
        started: Instant,
    ) -> Result<bool, String> {
        let dir = self.aof_dir();
        loop {
            if load.cur.is_none() {
                let Some(f) = load.files.get(load.next).cloned() else { return Ok(false) };
                let last = load.next + 1 == load.files.len();
                let data = std::fs::read(dir.join(&f.name)).map_err(|e| {
                    format!(
                        "Fatal error: can't open the append log file {} for reading: {}",
                        f.name,
                        crate::config::strerror(&e)
                    )
                })?;
                let (rdb, data) = if data.starts_with(b"REDIS") {
                    if f.name == self.config.appendfilename {
                        log::info!("Reading RDB preamble from AOF file...");
                    } else {
                        log::info!("Reading RDB base file on AOF loading...");
                    }
                    let mut l = self
                        .rdb_loader(data)
                        .map_err(|e| format!("{e}\nError reading the RDB base file {}, AOF loading aborted", f.name))?;
                    l.key_delay_us = self.config.key_load_delay;
                    l.keep_expired = true;
                    (Some(Box::new(l)), Vec::new())
                } else {
                    (None, data)
                };
                load.cur = Some(FileLoad {
                    name: f.name.clone(),
                    kind: f.kind,
                    last,
                    started: Instant::now(),
                    rdb,
                    data,
                    pos: 0,
                    valid: 0,
                });
            }
            let Some(cur) = load.cur.as_mut() else { return Ok(false) };
            if let Some(l) = cur.rdb.as_mut() {
                let left = budget.saturating_sub(started.elapsed());
                l.step(&mut self.dbs, now, left)
                    .and_then(|_| Self::create_loaded_libraries(l))
                    .map_err(|e| format!("{e}\nError reading the RDB base file {}, AOF loading aborted", cur.name))?;
                if !l.done {
                    return Ok(true);
                }
                l.loaded.log_done();
                let pos = l.progress().0;
                if let Some(l) = cur.rdb.take() {
                    cur.data = l.into_data();
                }
                cur.pos = pos;
                cur.valid = pos;
                if cur.name == self.config.appendfilename {
                    log::info!("Reading the remaining AOF tail...");
                }
            }
            let mut n = 0u32;
            let end = loop {
                n += 1;
                if (n.is_multiple_of(64) || self.config.key_load_delay > 0) && started.elapsed() > budget {
                    break None;
                }
                match aof::read_command(&cur.data, &mut cur.pos) {
                    Ok(None) => break Some(End::Whole),
                    Ok(Some(argv)) => {
                        self.replay(key, &argv, &cur.name, now)?;
                        if self.client(key).multi.is_none() {
                            cur.valid = cur.pos;
                        }
                        if self.config.key_load_delay > 0 {
                            std::thread::sleep(Duration::from_micros(self.config.key_load_delay as u64));
                        }
                    }
                    Err(ReadError::Truncated { .. }) => break Some(End::Truncated),
                    Err(ReadError::Format { offset }) => break Some(End::Format(offset)),
                }
            };
            let Some(end) = end else { return Ok(true) };
            // A file that ends inside a MULTI is a truncated one (Redis
            // reverts to before the MULTI).
            let end = if matches!(end, End::Whole) && self.client(key).multi.is_some() {
                log::warn!("Revert incomplete MULTI/EXEC transaction in AOF file {}", cur.name);
                End::Truncated
            } else {
                end
            };
            if self.client(key).multi.is_some() {
                self.client_mut(key).multi = None;
            }
            self.aof_file_end(cur, end)?;
            let kind = if cur.kind == 'b' { "base" } else { "incr" };
            log::info!("DB loaded from {kind} file {}: {:.3} seconds", cur.name, cur.started.elapsed().as_secs_f64());
            load.done_bytes += cur.data.len() as u64;
            load.cur = None;
            load.next += 1;
            if started.elapsed() > budget {
                return Ok(true);
            }
        }
    }

    /// Runs one command of an AOF as the fake client `key`. Inside MULTI
    /// every command but EXEC is queued unchecked, as Redis's loader does
    /// (`queueMultiCommand`): EXEC then runs each and its errors (arity
    /// included) are logged, instead of one bad command discarding the
    /// whole transaction.
    fn replay(&mut self, key: usize, argv: &[Vec<u8>], file: &str, now: u64) -> Result<(), String> {
        if cmd::table::registry().id(&argv[0]).is_none() {
            return Err(format!(
                "Unknown command '{}' reading the append only file {file}",
                String::from_utf8_lossy(&argv[0])
            ));
        }
        let mut buf = Vec::new();
        let mut spans = Vec::with_capacity(argv.len());
        for a in argv {
            spans.push((buf.len(), buf.len() + a.len()));
            buf.extend_from_slice(a);
        }
        if !argv[0].eq_ignore_ascii_case(b"exec")
            && let Some(queue) = self.client_mut(key).multi.as_mut()
        {
            queue.push((buf, spans));
            return Ok(());
        }
        let mut sink = Vec::new();
        let mut cx = Ctx { srv: self, key, out: Reply::new(&mut sink, crate::resp::Proto::Resp2), now };
        cmd::dispatch(&mut cx, &Args::new(&buf, &spans));
        Ok(())
    }

    /// Redis's `afterErrorReply` for its AOF-loading client: a replayed
    /// command failed (its effect may be partial, so the operator is told).
    /// `text` is the error as sent (`ERR ...`, `WRONGTYPE ...`); Redis shows
    /// the text its code passed: a plain `ERR` message without its code,
    /// any other with it (`-WRONGTYPE ...`); at most 4,096 bytes. The
    /// command named is the client's `lastcmd`: inside EXEC, the EXEC.
    pub fn log_replay_error(&self, text: &str, run: Option<usize>) {
        let shown = match text.strip_prefix("ERR ") {
            Some(msg) => msg.to_string(),
            None => format!("-{text}"),
        };
        let cut = (0..=shown.len().min(4096)).rev().find(|&i| shown.is_char_boundary(i)).unwrap_or(0);
        let reg = cmd::table::registry();
        let cmd = match run {
            _ if self.in_exec => "exec",
            Some(id) => reg.entries[id].fullname.as_str(),
            None => "<unknown>",
        };
        log::warn!(
            "== CRITICAL == This server is sending an error to its AOF-loading-client: '{}' after processing the command '{cmd}'",
            &shown[..cut]
        );
    }

    /// How a file's replay ended: truncated (cut at the last whole command
    /// with `aof-load-truncated`, if it is the last file), a format error.
    fn aof_file_end(&mut self, cur: &FileLoad, end: End) -> Result<(), String> {
        let name = &cur.name;
        match end {
            End::Whole => Ok(()),
            End::Truncated => {
                let fail = format!(
                    "Unexpected end of file reading the append only file {name}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."
                );
                if !self.config.aof_load_truncated {
                    return Err(fail);
                }
                let valid = cur.valid;
                log::warn!("!!! Warning: short read while loading the AOF file {name}!!!");
                log::warn!("!!! Truncating the AOF {name} at offset {valid} !!!");
                let path = self.aof_dir().join(name);
                let cut = std::fs::OpenOptions::new().write(true).open(&path).and_then(|f| f.set_len(valid as u64));
                if let Err(e) = cut {
                    log::warn!("Error truncating the AOF file {name}: {}", crate::config::strerror(&e));
                    return Err(fail);
                }
                log::warn!("AOF {name} loaded anyway because aof-load-truncated is enabled");
                if !cur.last {
                    return Err("Fatal error: the truncated file is not the last file".into());
                }
                Ok(())
            }
            End::Format(offset) => {
                log::warn!("Bad file format at offset {offset} of the append only file {name}");
                Err(format!(
                    "Bad file format reading the append only file {name} (offset {offset}): make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>"
                ))
            }
        }
    }

    /// INFO persistence's `aof_*` lines: the fixed ones (`tail` false) and
    /// those Redis adds while the AOF is on (`tail` true).
    pub fn aof_info(&self, tail: bool) -> String {
        let a = &self.aof;
        let on = a.writer.is_some() || a.waiting_base;
        if tail {
            let Some(w) = a.writer.as_ref().filter(|_| on) else { return String::new() };
            let written = w.status.written.load(Ordering::SeqCst);
            return format!(
                "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:{}\r\naof_buffer_length:{}\r\naof_pending_bio_fsync:{}\r\naof_delayed_fsync:{}\r\n",
                self.aof_current_size(),
                a.base_size,
                a.rewrite_scheduled as u8,
                a.fed.saturating_sub(written),
                w.status.fsync_in_progress.load(Ordering::SeqCst) as u8,
                w.status.delayed_fsync.load(Ordering::SeqCst),
            );
        }
        let now = super::unix_ms();
        let current = a.rewrite.as_ref().map_or(-1, |r| (now.saturating_sub(r.started_ms) / 1000) as i64);
        format!(
            "aof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\naof_last_rewrite_time_sec:{}\r\n\
             aof_current_rewrite_time_sec:{current}\r\naof_last_bgrewrite_status:{}\r\naof_rewrites:{}\r\n\
             aof_rewrites_consecutive_failures:{}\r\naof_last_write_status:{}\r\naof_last_cow_size:0\r\n",
            on as u8,
            a.rewrite.is_some() as u8,
            a.rewrite_scheduled as u8,
            a.last_rewrite_secs,
            if a.last_rewrite_ok { "ok" } else { "err" },
            a.rewrites,
            a.consecutive_failures,
            if self.aof_write_error().is_some() { "err" } else { "ok" },
        )
    }
}

/// What a rewrite reads of the command's database after it ran.
impl After for crate::store::db::Db {
    fn string(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.get_raw(key).map(|e| &e.value) {
            Some(Value::Str(s)) => Some(s.to_vec()),
            _ => None,
        }
    }

    fn field(&self, key: &[u8], field: &[u8]) -> Option<Vec<u8>> {
        match self.get_raw(key).map(|e| &e.value) {
            Some(Value::Hash(h)) => h.get(field).map(|v| v.to_vec()),
            _ => None,
        }
    }

    fn exists(&self, key: &[u8]) -> bool {
        self.get_raw(key).is_some()
    }
}
