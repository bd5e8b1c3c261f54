//! The append-only file in the running server: the propagation path's
//! glue (what the dispatcher calls around a command), turning the AOF on
//! (at start, or by CONFIG SET with a base written first, forkless), the
//! rewrite (a snapshot of the keyspace as the new base while a new
//! incremental file takes the writes, then the manifest switched
//! atomically), loading the manifest's files at start and by DEBUG
//! LOADAOF, and INFO's `aof_*` numbers. Log lines are Redis 7.0's.

use super::state::{Client, Shared};
use crate::cmd::{self, Args, Ctx};
use crate::persist::aof::{self, AofFile, Fsync, Manifest, ReadError, Writer};
use crate::persist::propagate::{Facts, Mark};
use crate::persist::rdb::Loader;
use crate::persist::snapshot::Snapshot;
use crate::resp::Reply;
use crate::store::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The AOF's state in the loop.
#[derive(Default)]
pub struct AofState {
    /// The writer of the current incremental file (AOF on or waiting for
    /// its first base).
    pub writer: Option<Writer>,
    /// The manifest as on disk.
    pub manifest: Manifest,
    /// Bytes of the propagated stream handed to the writer so far.
    pub fed: u64,
    /// A rewrite in progress: the base being written and the incremental
    /// file opened when it started.
    pub rewrite: Option<(AofFile, AofFile, u64)>,
    pub rewrite_scheduled: bool,
    /// The AOF waits for its first base (Redis's AOF_WAIT_REWRITE).
    pub waiting_base: bool,
    pub last_rewrite_ok: bool,
    pub last_rewrite_secs: i64,
    pub rewrites: u64,
    /// Size of the base and of the AOF when the last rewrite ended.
    pub base_size: u64,
    /// Wakes the loop (an fsync completed: replies may go).
    pub wake: Option<Arc<dyn Fn() + Send + Sync>>,
}

/// How replaying a file ended.
enum End {
    Whole,
    Truncated,
    Format(usize),
}

/// The fake client's slot and id while AOF commands are replayed.
const LOADER_ID: u64 = u64::MAX;

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
    fn sync_propagation(&mut self) {
        let on = self.aof_on();
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
        self.prop.on.then(|| Mark(self.prop.changes + self.dbs.iter().map(|d| d.changes).sum::<u64>()))
    }

    /// After a command: keys it found expired go out as DEL, its own
    /// propagated form joins the call (if it is a write that changed
    /// something), and at the end of a top-level call the call's commands
    /// go to the stream.
    pub fn after_call(&mut self, db: usize, name: &str, args: &Args, mark: Option<Mark>, ok: bool, now: u64) {
        if !self.prop.on {
            return;
        }
        self.propagate_expired(now);
        if let Some(mark) = mark {
            let db_changes: u64 = self.dbs.iter().map(|d| d.changes).sum();
            let keyless = ["flushall", "flushdb", "swapdb"].contains(&name);
            let changed = self.prop.changed_since(mark, db_changes) || (keyless && ok);
            let d = &self.dbs[db];
            let string_after = |k: &[u8]| match d.get_raw(k).map(|e| &e.value) {
                Some(Value::Str(s)) => Some(s.to_vec()),
                _ => None,
            };
            let field_after = |k: &[u8], f: &[u8]| match d.get_raw(k).map(|e| &e.value) {
                Some(Value::Hash(h)) => h.get(f).map(|v| v.to_vec()),
                _ => None,
            };
            let exists_after = |k: &[u8]| d.get_raw(k).is_some();
            let facts = Facts {
                now,
                lazy_expire: self.config.lazyfree_lazy_expire,
                lazy_server_del: self.config.lazyfree_lazy_server_del,
                string_after: &string_after,
                field_after: &field_after,
                exists_after: &exists_after,
            };
            self.prop.add_call(db, name, args, changed, &facts);
        }
        if !self.in_exec {
            self.prop.end_call(now);
        }
    }

    /// Keys deleted by expiry since the last look go to the stream as DEL
    /// (UNLINK with `lazyfree-lazy-expire`).
    pub fn propagate_expired(&mut self, now: u64) {
        let lazy = self.config.lazyfree_lazy_expire;
        for db in 0..self.dbs.len() {
            if let Some(log) = self.dbs[db].expired_log.as_mut()
                && !log.is_empty()
            {
                for key in std::mem::take(log) {
                    self.prop.deletion(db, &key, lazy, now);
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
        if !self.prop.out.is_empty()
            && let Some(w) = &self.aof.writer
        {
            let data = std::mem::take(&mut self.prop.out);
            self.aof.fed += data.len() as u64;
            w.send(data, self.aof.fed);
        }
        self.aof.fed
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
        let wake = self.aof.wake.clone();
        let wake: Box<dyn Fn() + Send> = Box::new(move || {
            if let Some(w) = &wake {
                w()
            }
        });
        let w = Writer::start(path, policy, self.aof.fed, wake)
            .map_err(|e| format!("Can't open the append-only file {name}: {}", crate::config::strerror(&e)))?;
        self.aof.writer = Some(w);
        self.sync_propagation();
        Ok(())
    }

    fn write_manifest(&mut self, m: &Manifest) -> Result<(), String> {
        let dir = self.aof_dir();
        let name = aof::manifest_name(&self.config.appendfilename);
        aof::write_atomic(&dir, &name, m.format().as_bytes())
            .map_err(|e| format!("Can't persist the AOF manifest file {name}: {}", crate::config::strerror(&e)))?;
        self.aof.manifest = m.clone();
        Ok(())
    }

    /// Start with `appendonly yes`: the manifest's files are loaded (or an
    /// old single-file AOF, migrated into the directory), else the server
    /// starts empty and writes its first base; then appending starts.
    pub fn aof_boot(&mut self, now: u64) -> Result<(), String> {
        let dir = self.aof_dir();
        let prefix = self.config.appendfilename.clone();
        let manifest_path = dir.join(aof::manifest_name(&prefix));
        let old_single = self.data_dir().join(&prefix);
        if let Ok(text) = std::fs::read_to_string(&manifest_path) {
            let m = Manifest::parse(&text)?;
            self.load_aof_files(&m, now)?;
            self.aof.manifest = m;
        } else if old_single.exists() {
            // Redis 7's upgrade of a single-file AOF: it becomes the base.
            std::fs::create_dir_all(&dir).map_err(|e| format!("Can't create AOF directory: {e}"))?;
            std::fs::rename(&old_single, dir.join(&prefix))
                .map_err(|e| format!("Error moving the AOF file {prefix} into the AOF directory: {e}"))?;
            let m = Manifest { base: Some(AofFile { name: prefix.clone(), seq: 1, kind: 'b' }), ..Default::default() };
            self.write_manifest(&m)?;
            log::info!("Successfully migrated an old-style AOF into the AOF directory {}.", self.config.appenddirname);
            self.load_aof_files(&m, now)?;
        } else {
            // No AOF yet: the first base, written now (the dataset is empty).
            std::fs::create_dir_all(&dir).map_err(|e| format!("Can't create AOF directory: {e}"))?;
            let base = AofFile { name: aof::base_name(&prefix, 1, true), seq: 1, kind: 'b' };
            log::info!("Creating AOF base file {} on server start", base.name);
            self.write_base_now(&base.name, now)?;
            let incr = AofFile { name: aof::incr_name(&prefix, 1), seq: 1, kind: 'i' };
            log::info!("Creating AOF incr file {} on server start", incr.name);
            std::fs::File::create(dir.join(&incr.name)).map_err(|e| format!("Can't create AOF file: {e}"))?;
            self.write_manifest(&Manifest { base: Some(base), history: Vec::new(), incrs: vec![incr] })?;
        }
        let mut m = self.aof.manifest.clone();
        if m.incrs.is_empty() {
            let seq = m.incr_seq() + 1;
            let incr = AofFile { name: aof::incr_name(&prefix, seq), seq, kind: 'i' };
            m.incrs.push(incr);
            self.write_manifest(&m)?;
        }
        self.aof.base_size =
            m.base.as_ref().and_then(|b| std::fs::metadata(dir.join(&b.name)).ok()).map_or(0, |md| md.len());
        let last = m.incrs.last().map(|f| f.name.clone()).unwrap_or_default();
        self.start_writer(&last)?;
        self.aof.last_rewrite_ok = true;
        Ok(())
    }

    /// A base written to the end before returning (start, empty dataset).
    fn write_base_now(&mut self, name: &str, now: u64) -> Result<u64, String> {
        let mut opts = self.snapshot_options();
        opts.dir = self.aof_dir();
        opts.filename = name.to_string();
        opts.aof_base = true;
        let mut snap = Snapshot::start(&mut self.dbs, opts, now, self.stats.dirty);
        while !snap.walked() {
            snap.step(&mut self.dbs, now, Duration::from_secs(3600));
        }
        snap.join()
    }

    /// CONFIG SET appendonly yes / no.
    pub fn aof_switch(&mut self, on: bool, now: u64) -> Result<(), String> {
        if on && !self.aof_on() && !self.aof.waiting_base {
            self.aof.waiting_base = true;
            self.aof.manifest =
                std::fs::read_to_string(self.aof_dir().join(aof::manifest_name(&self.config.appendfilename)))
                    .ok()
                    .and_then(|t| Manifest::parse(&t).ok())
                    .unwrap_or_default();
            if self.persist.snapshot.is_some() {
                self.aof.rewrite_scheduled = true;
                log::info!(
                    "AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible."
                );
                return Ok(());
            }
            self.aof_rewrite_start(now)?;
            log::info!("Background append only file rewriting started");
        } else if !on && (self.aof_on() || self.aof.waiting_base) {
            self.aof_stop();
        }
        Ok(())
    }

    /// Appending stops (CONFIG SET appendonly no, shutdown): what is
    /// pending is written and fsynced first.
    pub fn aof_stop(&mut self) {
        self.aof_feed();
        if self.aof.rewrite.take().is_some()
            && self.persist.aof_snapshot
            && let Some(snap) = self.persist.snapshot.take()
        {
            self.persist.aof_snapshot = false;
            snap.abort(&mut self.dbs);
            log::info!("Killing running AOF rewrite child");
        }
        if let Some(w) = self.aof.writer.take() {
            w.stop();
        }
        self.aof.waiting_base = false;
        self.aof.rewrite_scheduled = false;
        self.sync_propagation();
    }

    /// BGREWRITEAOF (and turning the AOF on): a new incremental file takes
    /// the writes from now on, and a forkless snapshot of the keyspace as
    /// it is now becomes the new base.
    pub fn aof_rewrite_start(&mut self, now: u64) -> Result<(), String> {
        let dir = self.aof_dir();
        std::fs::create_dir_all(&dir).map_err(|e| format!("Can't create AOF directory: {e}"))?;
        let prefix = self.config.appendfilename.clone();
        self.aof_feed();
        let mut m = self.aof.manifest.clone();
        let seq = m.incr_seq() + 1;
        let incr = AofFile { name: aof::incr_name(&prefix, seq), seq, kind: 'i' };
        std::fs::File::create(dir.join(&incr.name)).map_err(|e| format!("Can't open the append-only file: {e}"))?;
        if self.aof_on() {
            // The new incr file is in the manifest before a write goes to it:
            // a crash during the rewrite loses nothing.
            m.incrs.push(incr.clone());
            self.write_manifest(&m)?;
            if let Some(w) = &self.aof.writer {
                w.switch(dir.join(&incr.name));
            }
            self.prop.reselect();
        } else {
            self.start_writer(&incr.name)?;
        }
        let bseq = m.base_seq() + 1;
        let base = AofFile { name: aof::base_name(&prefix, bseq, true), seq: bseq, kind: 'b' };
        let mut opts = self.snapshot_options();
        opts.dir = dir;
        opts.filename = base.name.clone();
        opts.aof_base = true;
        self.persist.snapshot = Some(Box::new(Snapshot::start(&mut self.dbs, opts, now, self.stats.dirty)));
        self.persist.aof_snapshot = true;
        self.aof.rewrite = Some((base, incr, now));
        self.aof.rewrite_scheduled = false;
        Ok(())
    }

    /// The base of a rewrite is on disk (or failed): the manifest switches
    /// to it, the older files become history and are removed.
    pub fn aof_rewrite_done(&mut self, outcome: Result<u64, String>, now: u64) {
        self.persist.aof_snapshot = false;
        let Some((base, incr, started)) = self.aof.rewrite.take() else { return };
        self.aof.last_rewrite_secs = (now.saturating_sub(started) / 1000) as i64;
        let size = match outcome {
            Ok(size) => size,
            Err(e) => {
                log::warn!("{e}");
                log::warn!("Background AOF rewrite terminated with error");
                self.aof.last_rewrite_ok = false;
                if self.aof.waiting_base {
                    self.aof.rewrite_scheduled = true;
                }
                return;
            }
        };
        let old = self.aof.manifest.clone();
        let mut history: Vec<AofFile> = old.history.clone();
        history.extend(old.base.iter().cloned());
        history.extend(old.incrs.iter().filter(|f| f.name != incr.name).cloned());
        for f in &mut history {
            f.kind = 'h';
        }
        let mut m = Manifest { base: Some(base), history, incrs: vec![incr] };
        if !self.config.aof_disable_auto_gc {
            let dir = self.aof_dir();
            let gone = std::mem::take(&mut m.history);
            if let Err(e) = self.write_manifest(&m) {
                log::warn!("{e}");
                self.aof.last_rewrite_ok = false;
                return;
            }
            for f in gone {
                let _ = std::fs::remove_file(dir.join(&f.name));
                log::info!("Removing the history file {} in the background", f.name);
            }
        } else if let Err(e) = self.write_manifest(&m) {
            log::warn!("{e}");
            self.aof.last_rewrite_ok = false;
            return;
        }
        self.aof.base_size = size;
        self.aof.waiting_base = false;
        self.aof.last_rewrite_ok = true;
        self.aof.rewrites += 1;
        log::info!("Background AOF rewrite terminated with success");
        log::info!("Background AOF rewrite finished successfully");
    }

    /// The cron: a scheduled rewrite starts when no snapshot runs.
    pub fn aof_cron(&mut self, now: u64) {
        if self.aof.rewrite_scheduled && self.persist.snapshot.is_none() && self.persist.loading.is_none() {
            if let Err(e) = self.aof_rewrite_start(now) {
                log::warn!("{e}");
            } else {
                log::info!("Background append only file rewriting started");
            }
        }
    }

    /// Loads the files of `m` (base, then incr files) into the keyspace,
    /// to the end before returning.
    pub fn load_aof_files(&mut self, m: &Manifest, now: u64) -> Result<(), String> {
        let dir = self.aof_dir();
        let started = Instant::now();
        let files: Vec<&AofFile> = m.base.iter().chain(m.incrs.iter()).collect();
        let total = files.len();
        for (i, f) in files.into_iter().enumerate() {
            let path = dir.join(&f.name);
            let t = Instant::now();
            let data = match std::fs::read(&path) {
                Ok(d) => d,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && f.kind == 'i' => continue,
                Err(e) => {
                    return Err(format!(
                        "Fatal error: can't open the append log file {} for reading: {}",
                        f.name,
                        crate::config::strerror(&e)
                    ));
                }
            };
            self.load_aof_data(&f.name, data, i + 1 == total, now)?;
            let kind = if f.kind == 'b' { "base" } else { "incr" };
            log::info!("DB loaded from {kind} file {}: {:.3} seconds", f.name, t.elapsed().as_secs_f64());
        }
        log::info!("DB loaded from append only file: {:.3} seconds", started.elapsed().as_secs_f64());
        Ok(())
    }

    /// One AOF file's bytes: an RDB preamble if it starts with one, then
    /// RESP commands run through the dispatcher by a fake client.
    fn load_aof_data(&mut self, name: &str, data: Vec<u8>, last: bool, now: u64) -> Result<(), String> {
        let mut pos = 0;
        let len = data.len();
        let data = if data.starts_with(b"REDIS") {
            log::info!("Reading RDB base file on AOF loading...");
            let mut loader = Loader::new(data, self.codec_limits())?;
            while !loader.done {
                loader.step(&mut self.dbs, now, Duration::from_secs(3600))?;
            }
            pos = loader.progress().0;
            let data = loader.into_data();
            if pos < len {
                log::info!("Reading the remaining AOF tail...");
            }
            data
        } else {
            data
        };
        // The fake client: a slot no connection has, removed at the end.
        let key = self.clients.len();
        self.add_client(key, Client::new(LOADER_ID, None, None, -1, now));
        let mut sink = Vec::new();
        // Where the last whole command outside a MULTI ended.
        let mut valid = pos;
        let end = loop {
            match aof::read_command(&data, &mut pos) {
                Ok(None) => break End::Whole,
                Ok(Some(argv)) => {
                    let mut buf = Vec::new();
                    let mut spans = Vec::with_capacity(argv.len());
                    for a in &argv {
                        spans.push((buf.len(), buf.len() + a.len()));
                        buf.extend_from_slice(a);
                    }
                    sink.clear();
                    let mut cx = Ctx { srv: self, key, out: Reply::new(&mut sink, crate::resp::Proto::Resp2), now };
                    cmd::dispatch(&mut cx, &Args::new(&buf, &spans));
                    if self.client(key).multi.is_none() {
                        valid = pos;
                    }
                }
                Err(ReadError::Truncated { .. }) => break End::Truncated,
                Err(ReadError::Format { offset }) => break End::Format(offset),
            }
        };
        // A file that ends inside a MULTI is a truncated one (Redis reverts
        // to before the MULTI).
        let end = if matches!(end, End::Whole) && self.client(key).multi.is_some() { End::Truncated } else { end };
        self.remove_client(key);
        self.flush_db_events();
        self.pubsub.outbox.clear();
        match end {
            End::Whole => Ok(()),
            End::Truncated => {
                if !(last && self.config.aof_load_truncated) {
                    return Err(format!(
                        "Unexpected end of file reading the append only file {name}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."
                    ));
                }
                log::warn!("!!! Warning: short read while loading the AOF file {name}!!!");
                log::warn!("!!! Truncating the AOF {name} at offset {valid} !!!");
                let path = self.aof_dir().join(name);
                let cut = std::fs::OpenOptions::new().write(true).open(&path).and_then(|f| f.set_len(valid as u64));
                if let Err(e) = cut {
                    return Err(format!("Error truncating the AOF file {name}: {}", crate::config::strerror(&e)));
                }
                log::warn!("AOF {name} loaded anyway because aof-load-truncated is enabled");
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
        let on = self.aof_on() || a.waiting_base;
        if tail {
            let Some(w) = a.writer.as_ref().filter(|_| on) else { return String::new() };
            let incr = w.status.incr_size.load(Ordering::SeqCst);
            let pending = w.status.written.load(Ordering::SeqCst) < a.fed;
            return format!(
                "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:{}\r\naof_buffer_length:{}\r\naof_pending_bio_fsync:{}\r\naof_delayed_fsync:{}\r\n",
                a.base_size + incr,
                a.base_size,
                a.rewrite_scheduled as u8,
                a.fed.saturating_sub(w.status.written.load(Ordering::SeqCst)),
                (pending || w.status.fsync_in_progress.load(Ordering::SeqCst)) as u8,
                w.status.delayed_fsync.load(Ordering::SeqCst),
            );
        }
        let now = super::unix_ms();
        let current = a.rewrite.as_ref().map_or(-1, |r| (now.saturating_sub(r.2) / 1000) as i64);
        format!(
            "aof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\naof_last_rewrite_time_sec:{}\r\n\
             aof_current_rewrite_time_sec:{current}\r\naof_last_bgrewrite_status:{}\r\naof_rewrites:{}\r\n\
             aof_rewrites_consecutive_failures:0\r\naof_last_write_status:{}\r\naof_last_cow_size:0\r\n",
            on as u8,
            a.rewrite.is_some() as u8,
            a.rewrite_scheduled as u8,
            if a.rewrites == 0 && a.last_rewrite_secs == 0 { -1 } else { a.last_rewrite_secs },
            if a.last_rewrite_ok || a.rewrites == 0 && a.rewrite.is_none() { "ok" } else { "err" },
            a.rewrites,
            if self.aof_write_error().is_some() { "err" } else { "ok" },
        )
    }
}
