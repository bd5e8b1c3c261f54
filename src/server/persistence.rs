//! RDB persistence in the running server: the snapshot in progress and its
//! outcome, save points (`save 3600 1 ...`), SAVE/BGSAVE/SHUTDOWN's final
//! save, `stop-writes-on-bgsave-error`, loading `dir/dbfilename` at start
//! while the loop keeps serving, and INFO persistence's numbers. Log lines
//! are Redis's.

use super::state::Shared;
use crate::persist::codec;
use crate::persist::rdb::{self, Access, Loader};
use crate::persist::snapshot::{Options, Snapshot};
use std::time::{Duration, Instant};

/// How long the loop spends on a snapshot or a load per turn: short, so a
/// command that arrives meanwhile waits well under a millisecond.
pub const STEP_BUDGET: Duration = Duration::from_micros(500);
/// Redis's CONFIG_BGSAVE_RETRY_DELAY: after a failed BGSAVE, save points
/// wait this long before trying again.
const RETRY_DELAY_MS: u64 = 5000;

/// Redis's text for writes refused after a failed save.
pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

#[derive(Default)]
pub struct Persistence {
    pub snapshot: Option<Box<Snapshot>>,
    /// Unix seconds of the last successful save (LASTSAVE).
    pub lastsave: u64,
    pub last_bgsave_ok: bool,
    /// Seconds the last BGSAVE took (-1: none yet).
    pub last_bgsave_secs: i64,
    pub saves: u64,
    /// BGSAVE SCHEDULE (or BGSAVE in MULTI): start one when possible.
    pub scheduled: bool,
    /// Unix ms of the last BGSAVE attempt (for the retry delay).
    pub last_try_ms: u64,
    /// The file being loaded, and when the load started.
    pub loading: Option<(Box<Loader>, Instant)>,
    /// Keys loaded and skipped as expired by the last load.
    pub last_load: (u64, u64),
    /// The snapshot in progress is an AOF rewrite's base (see `server::aof`).
    pub aof_snapshot: bool,
    /// The snapshot in progress is a full sync's RDB in this temporary file
    /// (`repl-diskless-sync yes`), not a BGSAVE (see `server::replication`).
    pub repl_target: Option<std::path::PathBuf>,
}

impl Shared {
    pub fn snapshot_options(&self) -> Options {
        let c = &self.config;
        let policy = c.maxmemory_policy;
        let access = if policy.is_lfu() {
            Access::Freq(c.lfu_decay_time)
        } else if matches!(policy, crate::store::evict::Policy::AllKeysLru | crate::store::evict::Policy::VolatileLru) {
            Access::Idle
        } else {
            Access::None
        };
        Options {
            dir: self.data_dir(),
            filename: c.dbfilename.clone(),
            compress: c.rdbcompression,
            checksum: c.rdbchecksum,
            access,
            used_mem: crate::alloc::allocated(),
            key_delay_us: c.rdb_key_save_delay,
            aof_base: false,
            temp_path: None,
            autosync: 0,
            aof_commands: false,
            aof_timestamp: false,
            libraries: crate::script::with_made_engine(|e| e.libraries().iter().map(|l| l.code.clone()).collect())
                .unwrap_or_default(),
        }
    }

    /// The directory files go to: `dir`, or the working directory.
    pub fn data_dir(&self) -> std::path::PathBuf {
        if self.config.dir.is_empty() {
            std::env::current_dir().unwrap_or_else(|_| ".".into())
        } else {
            self.config.dir.clone().into()
        }
    }

    /// BGSAVE: starts a snapshot the loop completes a slice at a time.
    pub fn bgsave_start(&mut self, now_ms: u64) {
        let opts = self.snapshot_options();
        let dirty = self.stats.dirty;
        self.persist.snapshot = Some(Box::new(Snapshot::start(&mut self.dbs, opts, now_ms, dirty)));
        self.persist.last_try_ms = now_ms;
        self.persist.scheduled = false;
        log::info!("Background saving started by pid {}", std::process::id());
    }

    /// SAVE (and the final save of SHUTDOWN): a snapshot walked to the end
    /// now, and written before returning. A BGSAVE in progress is aborted
    /// first when `kill_bgsave` (SHUTDOWN, FLUSHALL), else it is an error.
    pub fn save_now(&mut self, now_ms: u64) -> Result<(), String> {
        // An AOF rewrite uses the same snapshot marks: its base is
        // written to the end first (SAVE blocks anyway).
        self.finish_aof_rewrite_now(now_ms);
        let opts = self.snapshot_options();
        let dirty = self.stats.dirty;
        let mut snap = Snapshot::start(&mut self.dbs, opts, now_ms, dirty);
        while !snap.walked() {
            if snap.throttled() {
                std::thread::sleep(Duration::from_micros(200));
            }
            snap.step(&mut self.dbs, now_ms, Duration::from_secs(3600));
        }
        match snap.join() {
            Ok(_) => {
                log::info!("DB saved on disk");
                self.stats.dirty = self.stats.dirty.saturating_sub(dirty);
                self.persist.lastsave = now_ms / 1000;
                self.persist.last_bgsave_ok = true;
                self.persist.saves += 1;
                Ok(())
            }
            // As Redis's rdbSave: a failed foreground save leaves the
            // BGSAVE status (and so MISCONF) alone.
            Err(e) => {
                log::warn!("{e}");
                Err(e)
            }
        }
    }

    /// Aborts a BGSAVE in progress (FLUSHALL, SHUTDOWN, DEBUG RELOAD);
    /// an AOF rewrite goes on.
    pub fn kill_bgsave(&mut self) {
        if self.persist.aof_snapshot {
            return;
        }
        if let Some(snap) = self.persist.snapshot.take() {
            match self.persist.repl_target.take() {
                Some(path) => {
                    log::warn!("Background transfer terminated by signal 10");
                    let _ = std::fs::remove_file(path);
                }
                None => log::warn!("Background saving terminated by signal 10"),
            }
            snap.abort(&mut self.dbs);
            // Replicas waiting for it are dropped (they sync again).
            self.repl_bgsave_done(false, false, crate::server::unix_ms());
        }
    }

    /// The loop's turn: walk the snapshot for a slice; when its writer is
    /// done, record the outcome. Returns whether there is more to walk.
    pub fn snapshot_turn(&mut self, now_ms: u64) -> bool {
        let Some(snap) = self.persist.snapshot.as_mut() else { return false };
        if !snap.walked() {
            snap.step(&mut self.dbs, now_ms, STEP_BUDGET);
        }
        let walking = !snap.walked();
        if let Some(outcome) = snap.poll() {
            if self.persist.aof_snapshot {
                self.persist.snapshot = None;
                self.aof_rewrite_done(outcome, now_ms);
                return walking;
            }
            if let Some(path) = self.persist.repl_target.take() {
                self.persist.snapshot = None;
                self.repl_transfer_done(outcome.is_ok(), path, now_ms);
                return walking;
            }
            let started = snap.started_ms;
            let dirty = snap.dirty_at_start;
            self.persist.snapshot = None;
            self.persist.last_bgsave_secs = (now_ms.saturating_sub(started) / 1000) as i64;
            match outcome {
                Ok(_) => {
                    log::info!("DB saved on disk");
                    log::info!("Background saving terminated with success");
                    self.stats.dirty = self.stats.dirty.saturating_sub(dirty);
                    self.persist.lastsave = now_ms / 1000;
                    self.persist.last_bgsave_ok = true;
                    self.persist.saves += 1;
                    self.repl_bgsave_done(true, true, now_ms);
                }
                Err(e) => {
                    log::warn!("{e}");
                    log::warn!("Background saving error");
                    self.persist.last_bgsave_ok = false;
                    self.repl_bgsave_done(false, true, now_ms);
                }
            }
        }
        walking
    }

    /// The cron's check of the save points and of a scheduled BGSAVE
    /// (Redis's serverCron).
    pub fn save_points(&mut self, now_ms: u64) {
        if self.persist.snapshot.is_some() || self.loading() {
            return;
        }
        if self.persist.scheduled {
            self.bgsave_start(now_ms);
            return;
        }
        let since = now_ms / 1000 - self.persist.lastsave.min(now_ms / 1000);
        let retry_ok = self.persist.last_bgsave_ok || now_ms.saturating_sub(self.persist.last_try_ms) > RETRY_DELAY_MS;
        let due = self.config.save.iter().find(|&&(secs, changes)| self.stats.dirty >= changes && since >= secs);
        if let Some(&(secs, _)) = due
            && retry_ok
        {
            log::info!("{} changes in {} seconds. Saving...", self.stats.dirty, secs);
            self.bgsave_start(now_ms);
        }
    }

    /// Copy-on-write for the snapshot in progress: the keys write command
    /// `cmd` names are saved first if the snapshot does not have them
    /// yet (COPY's `DB n` names its destination's database).
    pub fn snapshot_before_command(
        &mut self,
        db: usize,
        cmd: &crate::cmd::table::Command,
        args: &crate::cmd::Args,
        now: u64,
    ) {
        let Some(snap) = self.persist.snapshot.as_mut() else { return };
        let positions = cmd.key_positions(args.len(), |i| args.get(i));
        let mut dest_db = db;
        if cmd.name == "copy" {
            let mut i = 3;
            while i + 1 < args.len() {
                if args.get(i).eq_ignore_ascii_case(b"db") {
                    dest_db = args
                        .int(i + 1)
                        .ok()
                        .filter(|&n| n >= 0 && (n as usize) < self.dbs.len())
                        .map_or(db, |n| n as usize);
                }
                i += 1;
            }
        }
        for (n, i) in positions.into_iter().enumerate() {
            let target = if cmd.name == "copy" && n == 1 { dest_db } else { db };
            match member_write(cmd.name, args, n) {
                Some(removes) => snap.before_member_write(&mut self.dbs, target, args.get(i), removes, now),
                None => snap.before_write(&mut self.dbs, target, args.get(i), now),
            }
        }
    }

    /// Writes are refused (MISCONF) after a failed save while save points
    /// are configured and `stop-writes-on-bgsave-error` is on.
    pub fn writes_refused(&self) -> bool {
        !self.persist.last_bgsave_ok && self.config.stop_writes_on_bgsave_error && !self.config.save.is_empty()
    }

    /// The final save of SHUTDOWN and of SIGTERM/SIGINT (Redis's
    /// prepareForShutdown): saves when save points are configured (or
    /// `save`), unless `nosave`; a failed save stops the shutdown unless
    /// `force`. Returns whether the server may exit.
    pub fn prepare_for_shutdown(&mut self, save: bool, nosave: bool, force: bool, now_ms: u64) -> bool {
        if self.persist.snapshot.is_some() && !self.persist.aof_snapshot {
            log::warn!("There is a child saving an .rdb. Killing it!");
            self.kill_bgsave();
        }
        // A rewrite that would give the AOF its first base refuses the
        // shutdown unless `force`; any other is stopped.
        if !self.aof_prepare_shutdown(force) {
            return false;
        }
        if (!self.config.save.is_empty() && !nosave) || save {
            log::info!("Saving the final RDB snapshot before exiting.");
            if self.save_now(now_ms).is_err() {
                if force {
                    log::warn!("Error trying to save the DB. Exit anyway.");
                } else {
                    log::warn!("Error trying to save the DB, can't exit.");
                    return false;
                }
            }
        }
        true
    }

    /// Starts loading `dir/dbfilename` if it exists (at startup).
    pub fn load_at_start(&mut self) -> Result<(), String> {
        let path = self.data_dir().join(&self.config.dbfilename);
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(format!("Fatal error loading the DB: {}. Exiting.", crate::config::strerror(&e))),
        };
        let mut loader = self.rdb_loader(data)?;
        loader.key_delay_us = self.config.key_load_delay;
        log::info!("Loading RDB from {}", path.display());
        self.persist.loading = Some((Box::new(loader), Instant::now()));
        Ok(())
    }

    /// Loads `dir/dbfilename` to the end before returning (DEBUG RELOAD).
    pub fn load_now(&mut self, merge: bool, now_ms: u64) -> Result<(), String> {
        let path = self.data_dir().join(&self.config.dbfilename);
        let data = std::fs::read(&path)
            .map_err(|e| format!("Fatal error loading the DB: {}.", crate::config::strerror(&e)))?;
        let mut loader = self.rdb_loader(data)?;
        loader.merge = merge;
        while !loader.done {
            loader.step(&mut self.dbs, now_ms, Duration::from_secs(3600))?;
            Self::create_loaded_libraries(&mut loader)?;
        }
        loader.loaded.log_done();
        self.persist.last_load = (loader.loaded.keys, loader.loaded.expired);
        Ok(())
    }

    /// Creates the function libraries `loader` has read so far (Redis's
    /// `rdbFunctionLoad`): a library that exists already is an error
    /// unless merging (DEBUG RELOAD MERGE), and so is one that fails to
    /// compile, with Redis's log text; the load then stops.
    pub fn create_loaded_libraries(loader: &mut Loader) -> Result<(), String> {
        if loader.libraries.is_empty() {
            return Ok(());
        }
        let (codes, replace) = (std::mem::take(&mut loader.libraries), loader.merge);
        crate::script::with_engine(|e| {
            codes.iter().try_for_each(|code| {
                e.load_library(code, replace, None).map(|_| ()).map_err(|err| {
                    let err = err.strip_prefix("ERR ").unwrap_or(&err);
                    format!("Failed loading library, {err}\n{}", crate::persist::rdb::SHORT_READ)
                })
            })
        })
    }

    /// The config's encoding thresholds, for values the codec builds.
    pub fn codec_limits(&self) -> codec::Limits {
        codec::Limits::from_config(&self.config)
    }

    /// A loader for an RDB file's bytes (or an AOF's RDB base): the
    /// config's shapes, and its checksum checked unless `rdbchecksum no`
    /// or DEBUG SET-SKIP-CHECKSUM-VALIDATION 1 (as Redis's `rdbLoadRio`).
    pub fn rdb_loader(&self, data: Vec<u8>) -> Result<Loader, String> {
        let mut loader = Loader::new(data, self.codec_limits())?;
        loader.verify_checksum = self.config.rdbchecksum && !self.debug.skip_checksum_validation;
        Ok(loader)
    }

    /// The loop's turn while loading; returns Err on a corrupt file (the
    /// server then exits, as Redis does).
    pub fn loading_turn(&mut self, now_ms: u64) -> Result<bool, String> {
        let Some((loader, started)) = self.persist.loading.as_mut() else { return Ok(false) };
        loader.step(&mut self.dbs, now_ms, STEP_BUDGET).map_err(|e| {
            if e.contains("Internal error in RDB reading") { format!("{e}\n{}", rdb::TERMINATING) } else { e }
        })?;
        Self::create_loaded_libraries(loader)?;
        if !loader.done {
            return Ok(true);
        }
        let (loaded, secs) = (loader.loaded, started.elapsed().as_secs_f64());
        self.persist.loading = None;
        self.persist.last_load = (loaded.keys, loaded.expired);
        loaded.log_done();
        log::info!("DB loaded from disk: {secs:.3} seconds");
        self.persist.lastsave = now_ms / 1000;
        Ok(false)
    }
}

/// For a write command that only adds, changes or removes members of a
/// hash, set or sorted set (its key number `n`), the most members it removes from
/// that key; `None` for any other write (which may replace, rename or
/// empty the value: the snapshot then saves the value whole first).
fn member_write(name: &str, args: &crate::cmd::Args, n: usize) -> Option<usize> {
    match name {
        "hset" | "hmset" | "hsetnx" | "hincrby" | "hincrbyfloat" | "sadd" | "zadd" | "zincrby" | "geoadd" => Some(0),
        "hdel" | "srem" | "zrem" => Some(args.len().saturating_sub(2)),
        "zpopmin" | "zpopmax" if args.len() == 2 => Some(1),
        "zpopmin" | "zpopmax" if args.len() == 3 => args.int(2).ok().and_then(|c| usize::try_from(c).ok()),
        // With a count SPOP takes its members in one pass over the set.
        "spop" if args.len() == 2 => Some(1),
        "smove" => Some(usize::from(n == 0)),
        _ => None,
    }
}
