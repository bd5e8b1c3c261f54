//! The append-only file in Redis 7.0's multi-part layout: the manifest
//! (`appendonly.aof.manifest`: `file <name> seq <n> type <b|h|i>` lines),
//! the base file (`appendonly.aof.N.base.rdb`, an RDB with `aof-base` set,
//! or `.base.aof`) and the incremental files (`appendonly.aof.N.incr.aof`,
//! RESP commands); the writer thread that does the file I/O and the fsync
//! policy; and the reader of RESP commands used to load the files.
//!
//! The writer thread never touches the keyspace: the loop hands it bytes
//! (the propagated stream of a batch), it writes them and fsyncs as the
//! policy says — `always`: after every group of batches, before it reports
//! them done (the loop holds the replies of the writers until then);
//! `everysec`: once a second on a second thread (Redis's bio fsync), a
//! write waiting up to 2 s for an fsync in progress before it goes ahead
//! (`aof_delayed_fsync`); `no`: never (the OS decides). A failed write
//! keeps its bytes and is tried again every 100 ms (a short write is cut
//! off the file first), refusing writes meanwhile (MISCONF); the replies
//! of `always` writes wait until their bytes are on disk. What it has
//! written and fsynced is published in [`Status`]; the loop is woken when
//! an `always` fsync completes.

use crate::store::Value;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One file of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AofFile {
    pub name: String,
    pub seq: u64,
    /// `b` base, `h` history, `i` incremental.
    pub kind: char,
}

/// The manifest: a base (optional), history files, incremental files in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<AofFile>,
    pub history: Vec<AofFile>,
    pub incrs: Vec<AofFile>,
}

impl Manifest {
    /// Parses a manifest as Redis 7.0's `aofLoadManifestFromFile` does:
    /// `#` comment lines; every other line `sdssplitargs` words in `key
    /// value` pairs, at least `file`, `seq` and `type` (keys in any case,
    /// unknown keys skipped), each line ending in a newline and at most
    /// 1,023 bytes before it (checked against redis-server: 1,024 is "too
    /// long"); a file name, never a path. One difference: a negative
    /// `seq`, which Redis's `atoll` takes, is refused as an invalid format
    /// (Redis never writes one). The error is Redis's log text:
    /// the banner, the line and its number, and the reason.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        let mut rest = text;
        let mut number = 0;
        while !rest.is_empty() {
            number += 1;
            let (raw, newline, next) = match rest.find('\n') {
                Some(i) => (&rest[..i], true, &rest[i + 1..]),
                None => (rest, false, ""),
            };
            rest = next;
            if raw.starts_with('#') && raw.len() < MANIFEST_LINE_MAX {
                continue;
            }
            let line = raw.trim_matches([' ', '\t', '\r']);
            let fail = |err: &str| {
                Err(format!(
                    "\n*** FATAL AOF MANIFEST FILE ERROR ***\nReading the manifest file, at line {number}\n>>> '{line}'\n{err}"
                ))
            };
            if !newline || raw.len() >= MANIFEST_LINE_MAX {
                // Redis has not taken the line yet: no line in the log.
                return Err(
                    "\n*** FATAL AOF MANIFEST FILE ERROR ***\nThe AOF manifest file contains too long line".into()
                );
            }
            let (mut bytes, mut spans) = (Vec::new(), Vec::new());
            if line.is_empty() || crate::resp::parse::split_args(line.as_bytes(), &mut bytes, &mut spans).is_err() {
                return fail("Invalid AOF manifest file format");
            }
            let words: Vec<&[u8]> = spans.iter().map(|&(s, e)| &bytes[s..e]).collect();
            if words.len() < 6 || !words.len().is_multiple_of(2) {
                return fail("Invalid AOF manifest file format");
            }
            let (mut name, mut seq, mut kind) = (None, 0, None);
            for pair in words.chunks(2) {
                let (key, value) = (pair[0], pair[1]);
                if key.eq_ignore_ascii_case(b"file") {
                    if value.contains(&b'/') || value.contains(&b'\\') {
                        return fail("File can't be a path, just a filename");
                    }
                    name = String::from_utf8(value.to_vec()).ok();
                } else if key.eq_ignore_ascii_case(b"seq") {
                    seq = crate::ctext::strtol(value);
                } else if key.eq_ignore_ascii_case(b"type") {
                    kind = value.first().map(|&c| c as char);
                }
            }
            // An empty name (`file ""`, which Redis takes and then
            // writes back bare, unreadable) names no file either.
            let (Some(name), Some(kind)) = (name.filter(|n| !n.is_empty()), kind) else {
                return fail("Invalid AOF manifest file format");
            };
            let Ok(seq @ 1..) = u64::try_from(seq) else {
                return fail("Invalid AOF manifest file format");
            };
            let f = AofFile { name, seq, kind };
            match kind {
                'b' => {
                    if m.base.is_some() {
                        return fail("Found duplicate base file information");
                    }
                    m.base = Some(f);
                }
                'h' => m.history.push(f),
                'i' => {
                    if m.incrs.last().is_some_and(|l| l.seq >= f.seq) {
                        return fail("Found a non-monotonic sequence number");
                    }
                    m.incrs.push(f)
                }
                _ => return fail("Unknown AOF file type"),
            }
        }
        if m.base.is_none() && m.incrs.is_empty() {
            return Err("Found an empty AOF manifest".into());
        }
        Ok(m)
    }

    /// The manifest's text, as Redis writes it (base, history, incrs; a
    /// name with spaces, quotes or unprintable bytes quoted, as
    /// `sdscatrepr` does).
    pub fn format(&self) -> String {
        let mut s = String::new();
        let line = |s: &mut String, f: &AofFile| {
            let name = if needs_repr(&f.name) { crate::resp::parse::repr_str(&f.name) } else { f.name.clone() };
            s.push_str(&format!("file {name} seq {} type {}\n", f.seq, f.kind));
        };
        if let Some(b) = &self.base {
            line(&mut s, b);
        }
        self.history.iter().for_each(|f| line(&mut s, f));
        self.incrs.iter().for_each(|f| line(&mut s, f));
        s
    }

    pub fn base_seq(&self) -> u64 {
        self.base.as_ref().map_or(0, |b| b.seq)
    }

    pub fn incr_seq(&self) -> u64 {
        self.incrs.last().map_or(0, |f| f.seq)
    }
}

/// Redis reads a manifest line into a 1,024-byte buffer
/// (`AOF_ANNOTATION_LINE_MAX_LEN`): a line of this many bytes or more,
/// newline excluded, does not fit.
const MANIFEST_LINE_MAX: usize = 1024;

/// Whether a name must be quoted in the manifest: Redis's `sdsneedsrepr`,
/// and a single quote, which `sdssplitargs` reads as the start of a quoted
/// part (Redis writes such a name bare and then cannot read it back).
fn needs_repr(s: &str) -> bool {
    s.bytes()
        .any(|c| matches!(c, b'\\' | b'"' | b'\'' | b'\n' | b'\r' | b'\t' | 0x07 | 0x08) || !(0x21..0x7f).contains(&c))
}

/// `appendonly.aof.N.base.rdb` / `.base.aof`.
pub fn base_name(prefix: &str, seq: u64, rdb: bool) -> String {
    format!("{prefix}.{seq}.base.{}", if rdb { "rdb" } else { "aof" })
}

/// `appendonly.aof.N.incr.aof`.
pub fn incr_name(prefix: &str, seq: u64) -> String {
    format!("{prefix}.{seq}.incr.aof")
}

/// `temp-appendonly.aof.incr`: the writes while the AOF waits for its
/// first base.
pub fn temp_incr_name(prefix: &str) -> String {
    format!("temp-{prefix}.incr")
}

/// `appendonly.aof.manifest`.
pub fn manifest_name(prefix: &str) -> String {
    format!("{prefix}.manifest")
}

/// Writes `text` to `dir/name` atomically: a temporary file, fsync,
/// rename, fsync of the directory (Redis's `writeAofManifestFile`).
pub fn write_atomic(dir: &Path, name: &str, text: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!("temp-{name}"));
    {
        let mut f = File::create(&tmp)?;
        f.write_all(text)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(name))?;
    fsync_dir(dir);
    Ok(())
}

/// fsync of a directory (a rename in it survives a crash).
pub fn fsync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The fsync policy (`appendfsync`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Fsync {
    Always,
    EverySec,
    No,
}

impl Fsync {
    pub fn from_name(name: &str) -> Fsync {
        match name {
            "always" => Fsync::Always,
            "no" => Fsync::No,
            _ => Fsync::EverySec,
        }
    }

    fn code(self) -> u64 {
        self as u64
    }

    fn from_code(c: u64) -> Fsync {
        match c {
            0 => Fsync::Always,
            1 => Fsync::EverySec,
            _ => Fsync::No,
        }
    }
}

/// What the writer thread publishes for the loop.
#[derive(Default)]
pub struct Status {
    /// Bytes of the stream (since start) written to the file.
    pub written: AtomicU64,
    /// Bytes of the stream whose writers' replies may go: written and
    /// fsynced under `always`, written under the other policies.
    pub synced: AtomicU64,
    /// Size of the current incremental file.
    pub incr_size: AtomicU64,
    /// Redis's `aof_delayed_fsync`: writes that waited 2 s for an
    /// everysec fsync and then went ahead without it.
    pub delayed_fsync: AtomicU64,
    /// The last write failed (text of the error), until one works.
    pub write_error: Mutex<Option<String>>,
    /// The last background fsync failed, until one works.
    pub fsync_error: Mutex<Option<String>>,
    /// An everysec fsync runs on the fsync thread.
    pub fsync_in_progress: AtomicBool,
    /// `no-appendfsync-on-rewrite` while a snapshot runs: no fsync.
    pub no_fsync: AtomicBool,
    policy: AtomicU64,
    /// Which of the errors above are set (bit 1: write, 2: fsync): what
    /// every write command checks first, without taking the locks.
    any_error: std::sync::atomic::AtomicU8,
}

impl Status {
    /// The error that refuses writes (MISCONF): a failed write, else a
    /// failed background fsync.
    pub fn error(&self) -> Option<String> {
        if self.any_error.load(Ordering::Acquire) == 0 {
            return None;
        }
        let get = |m: &Mutex<Option<String>>| m.lock().map(|e| e.clone()).unwrap_or(None);
        get(&self.write_error).or_else(|| get(&self.fsync_error))
    }

    pub fn set_policy(&self, p: Fsync) {
        self.policy.store(p.code(), Ordering::SeqCst);
    }

    pub fn policy(&self) -> Fsync {
        Fsync::from_code(self.policy.load(Ordering::SeqCst))
    }
}

enum Msg {
    /// Bytes of the stream; the stream's total once they are written.
    Data(Vec<u8>, u64),
    /// Write what is pending, hand the current file to the fsync thread
    /// (fsync and close), go on in this one.
    Switch(PathBuf),
    /// Write and fsync, then report back (shutdown, switching the AOF
    /// off, DEBUG LOADAOF).
    Sync(Sender<()>),
}

/// The writer thread and its channel.
pub struct Writer {
    tx: Option<Sender<Msg>>,
    /// Buffers the thread has written out, empty, for the loop to fill
    /// again (see [`Writer::spare`]).
    spare: Receiver<Vec<u8>>,
    thread: Option<JoinHandle<()>>,
    pub status: Arc<Status>,
}

/// The loop's waker: called when replies held for an fsync may go.
pub type Wake = Arc<dyn Fn() + Send + Sync>;

impl Writer {
    /// Starts writing (appending) to `path`; `wake` is called when an
    /// fsync completed (the loop then releases the replies that waited).
    /// The writer and fsync threads are Redis's bio threads: they run on
    /// the CPUs of `cpus` (`bio_cpulist`; empty: wherever the process may).
    pub fn start(path: PathBuf, policy: Fsync, start_at: u64, wake: Wake, cpus: &str) -> std::io::Result<Writer> {
        let file = open_append(&path)?;
        let status = Arc::new(Status::default());
        status.set_policy(policy);
        status.written.store(start_at, Ordering::SeqCst);
        status.synced.store(start_at, Ordering::SeqCst);
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        status.incr_size.store(size, Ordering::SeqCst);
        let (tx, rx) = channel();
        let (spare_tx, spare) = channel();
        let st = status.clone();
        let cpus = cpus.to_owned();
        let thread = std::thread::Builder::new().name("aof-writer".into()).spawn(move || {
            crate::process::set_affinity(&cpus);
            let mut w = WriterThread {
                file,
                path,
                size,
                buf: Vec::new(),
                buf_total: start_at,
                written: start_at,
                dirty: false,
                last_fsync: Instant::now(),
                postponed: None,
                last_error_log: None,
                fsync: Fsyncer::start(st.clone(), wake.clone(), &cpus),
                st,
                wake,
                spare: spare_tx,
                delay: fsync_delay(),
            };
            w.run(rx)
        })?;
        Ok(Writer { tx: Some(tx), spare, thread: Some(thread), status })
    }

    /// An empty buffer with room, handed back by the thread after it
    /// wrote its bytes, or a new one: the loop's stream is filled in it
    /// next, so it does not grow a fresh vector (a realloc and copy at
    /// every doubling) after each hand-over.
    pub fn spare(&self) -> Vec<u8> {
        self.spare.try_recv().unwrap_or_default()
    }

    pub fn send(&self, data: Vec<u8>, total: u64) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(Msg::Data(data, total));
        }
    }

    pub fn switch(&self, path: PathBuf) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(Msg::Switch(path));
        }
    }

    /// Waits until everything sent is written and fsynced (as far as the
    /// disk lets it: a failing disk is tried once more, not waited for).
    pub fn sync(&self) {
        let (done, wait) = channel();
        if let Some(tx) = &self.tx
            && tx.send(Msg::Sync(done)).is_ok()
        {
            let _ = wait.recv();
        }
    }

    /// Writes and fsyncs what is pending, then ends the thread.
    pub fn stop(mut self) {
        self.sync();
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// Redis logs this when an everysec fsync keeps the writes waiting.
pub const FSYNC_SLOW: &str = "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.";

/// How long a write waits for an everysec fsync in progress (Redis: 2 s).
const POSTPONE_MAX: Duration = Duration::from_secs(2);
/// How often a failing write is tried again.
const RETRY_EVERY: Duration = Duration::from_millis(100);
/// Redis's AOF_WRITE_LOG_ERROR_RATE: one log line of a write error per
/// 30 seconds.
const ERROR_LOG_EVERY: Duration = Duration::from_secs(30);

/// A test hook, read when the writer starts: every everysec fsync and
/// every `always` fsync first sleeps this many milliseconds (a disk that
/// is busy).
const FSYNC_DELAY_ENV: &str = "FERROKV_TEST_AOF_FSYNC_DELAY_MS";

fn fsync_delay() -> u64 {
    std::env::var(FSYNC_DELAY_ENV).ok().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

/// The fsync thread of `everysec` (Redis's bio fsync job): it fsyncs the
/// file it is given, so the writer goes on writing meanwhile.
struct Fsyncer {
    tx: Sender<(File, bool)>,
}

impl Fsyncer {
    fn start(st: Arc<Status>, wake: Wake, cpus: &str) -> Fsyncer {
        let (tx, rx) = channel::<(File, bool)>();
        let delay = fsync_delay();
        let cpus = cpus.to_owned();
        let _ = std::thread::Builder::new().name("aof-fsync".into()).spawn(move || {
            crate::process::set_affinity(&cpus);
            for (file, counted) in rx {
                if delay > 0 && counted {
                    std::thread::sleep(Duration::from_millis(delay));
                }
                let res = file.sync_data();
                if counted {
                    let e = res.err().map(|e| {
                        log::warn!("Fail to fsync the AOF file: {e}");
                        crate::config::strerror(&e)
                    });
                    set(&st, &st.fsync_error, e);
                    st.fsync_in_progress.store(false, Ordering::SeqCst);
                    wake();
                }
            }
        });
        Fsyncer { tx }
    }

    /// Fsyncs `file` in the background; `counted`: an everysec fsync the
    /// writer waits for (else the close of a file the writer left).
    fn submit(&self, st: &Status, file: &File, counted: bool) {
        if let Ok(f) = file.try_clone() {
            if counted {
                st.fsync_in_progress.store(true, Ordering::SeqCst);
            }
            if self.tx.send((f, counted)).is_err() && counted {
                st.fsync_in_progress.store(false, Ordering::SeqCst);
            }
        }
    }
}

struct WriterThread {
    file: File,
    path: PathBuf,
    /// Size of the current file as written (a short write is cut back to
    /// it, as Redis's ftruncate to `aof_last_incr_size`).
    size: u64,
    /// Bytes received and not written yet, and the stream's total after
    /// them.
    buf: Vec<u8>,
    buf_total: u64,
    /// The stream's total written.
    written: u64,
    /// Written since the last fsync.
    dirty: bool,
    last_fsync: Instant,
    /// Since when a write waits for an everysec fsync in progress.
    postponed: Option<Instant>,
    last_error_log: Option<Instant>,
    fsync: Fsyncer,
    st: Arc<Status>,
    wake: Wake,
    /// Where emptied buffers go back to the loop ([`Writer::spare`]).
    spare: Sender<Vec<u8>>,
    /// Milliseconds each `always` fsync sleeps first (test hook).
    delay: u64,
}

/// Largest buffer handed back to the loop for reuse (a larger one, after a
/// burst, is freed).
const SPARE_MAX: usize = 4 << 20;

impl WriterThread {
    /// Hands an emptied buffer back to the loop.
    fn give_back(&self, mut v: Vec<u8>) {
        if v.capacity() > 0 && v.capacity() <= SPARE_MAX {
            v.clear();
            let _ = self.spare.send(v);
        }
    }

    fn run(&mut self, rx: Receiver<Msg>) {
        let mut waiters: Vec<Sender<()>> = Vec::new();
        loop {
            let timeout = if !self.buf.is_empty() || (self.dirty && self.st.policy() == Fsync::Always) {
                RETRY_EVERY
            } else {
                Duration::from_millis(1000).saturating_sub(self.last_fsync.elapsed()).max(Duration::from_millis(10))
            };
            let first = match rx.recv_timeout(timeout) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => {
                    self.flush(true);
                    self.fsync_now();
                    return;
                }
            };
            // Group commit: everything queued now is written before one fsync.
            for m in first.into_iter().chain(rx.try_iter()) {
                match m {
                    Msg::Data(bytes, total) => {
                        if self.buf.is_empty() {
                            let old = std::mem::replace(&mut self.buf, bytes);
                            self.give_back(old);
                        } else {
                            self.buf.extend_from_slice(&bytes);
                            self.give_back(bytes);
                        }
                        self.buf_total = total;
                    }
                    Msg::Switch(p) => self.switch(p),
                    Msg::Sync(done) => waiters.push(done),
                }
            }
            let force = !waiters.is_empty();
            self.flush(force);
            if force {
                self.fsync_now();
                for w in waiters.drain(..) {
                    let _ = w.send(());
                }
            }
        }
    }

    /// Redis's `flushAppendOnlyFile`: writes the buffer (unless an
    /// everysec fsync is in progress and `force` is off: then the write
    /// waits, up to 2 seconds), then fsyncs as the policy says.
    fn flush(&mut self, force: bool) {
        let policy = self.st.policy();
        if self.buf.is_empty() {
            // Nothing new, but written bytes wait for their fsync: an
            // everysec one a second later, an `always` one that failed.
            let everysec_due = policy == Fsync::EverySec
                && self.last_fsync.elapsed() >= Duration::from_secs(1)
                && !self.st.fsync_in_progress.load(Ordering::SeqCst);
            if self.dirty && (policy == Fsync::Always || everysec_due) {
                self.try_fsync(policy);
            }
            return;
        }
        if policy == Fsync::EverySec && !force && self.st.fsync_in_progress.load(Ordering::SeqCst) {
            match self.postponed {
                None => {
                    self.postponed = Some(Instant::now());
                    return;
                }
                Some(t) if t.elapsed() < POSTPONE_MAX => return,
                Some(_) => {
                    self.st.delayed_fsync.fetch_add(1, Ordering::SeqCst);
                    log::info!("{FSYNC_SLOW}");
                }
            }
        }
        self.postponed = None;
        let (n, res) = write_some(&mut self.file, &self.buf);
        if let Err(e) = res {
            let can_log = self.last_error_log.is_none_or(|t| t.elapsed() > ERROR_LOG_EVERY);
            if can_log {
                self.last_error_log = Some(Instant::now());
            }
            let mut err = e;
            if n > 0 {
                if can_log {
                    log::warn!(
                        "Short write while writing to the AOF file: (nwritten={n}, expected={})",
                        self.buf.len()
                    );
                }
                // A short write is cut off so the file stays whole.
                if let Err(te) = self.file.set_len(self.size) {
                    if can_log {
                        log::warn!(
                            "Could not remove short write from the append-only file.  Redis may refuse to load the AOF the next time it starts.  ftruncate: {}",
                            crate::config::strerror(&te)
                        );
                    }
                    self.size += n as u64;
                    self.st.incr_size.store(self.size, Ordering::SeqCst);
                    self.buf.drain(..n);
                }
                err = std::io::Error::from_raw_os_error(28);
            } else if can_log {
                log::warn!("Error writing to the AOF file: {}", crate::config::strerror(&err));
            }
            set(&self.st, &self.st.write_error, Some(crate::config::strerror(&err)));
            return;
        }
        if self.st.write_error.lock().map(|e| e.is_some()).unwrap_or(false) {
            log::warn!("AOF write error looks solved, Redis can write again.");
            set(&self.st, &self.st.write_error, None);
        }
        self.size += n as u64;
        self.st.incr_size.store(self.size, Ordering::SeqCst);
        self.buf.clear();
        self.written = self.buf_total;
        self.st.written.store(self.written, Ordering::SeqCst);
        self.dirty = true;
        self.try_fsync(policy);
    }

    /// After a write: the fsync the policy asks for.
    fn try_fsync(&mut self, policy: Fsync) {
        // no-appendfsync-on-rewrite: no fsync while a snapshot runs.
        if self.st.no_fsync.load(Ordering::SeqCst) || policy == Fsync::No {
            self.release(policy);
            return;
        }
        match policy {
            Fsync::Always => {
                // The replies of these writes wait for this fsync.
                if self.delay > 0 {
                    std::thread::sleep(Duration::from_millis(self.delay));
                }
                match self.file.sync_data() {
                    Ok(()) => {
                        if self.st.write_error.lock().map(|e| e.is_some()).unwrap_or(false) {
                            log::warn!("AOF write error looks solved, Redis can write again.");
                            set(&self.st, &self.st.write_error, None);
                        }
                        self.dirty = false;
                        self.last_fsync = Instant::now();
                        self.release(policy);
                    }
                    Err(e) => {
                        log::warn!(
                            "Can't persist AOF for fsync error when the AOF fsync policy is 'always': {}",
                            crate::config::strerror(&e)
                        );
                        set(&self.st, &self.st.write_error, Some(crate::config::strerror(&e)));
                    }
                }
            }
            _ => {
                self.release(policy);
                if self.last_fsync.elapsed() >= Duration::from_secs(1) {
                    if !self.st.fsync_in_progress.load(Ordering::SeqCst) {
                        self.fsync.submit(&self.st, &self.file, true);
                        self.dirty = false;
                    }
                    self.last_fsync = Instant::now();
                }
            }
        }
    }

    /// The written stream may be acknowledged.
    fn release(&self, policy: Fsync) {
        self.st.synced.store(self.written, Ordering::SeqCst);
        if policy == Fsync::Always {
            (self.wake)();
        }
    }

    /// An fsync in this thread (shutdown, the end of a file).
    fn fsync_now(&mut self) {
        if self.dirty {
            match self.file.sync_data() {
                Ok(()) => self.dirty = false,
                Err(e) => log::warn!("Fail to fsync the AOF file: {}", crate::config::strerror(&e)),
            }
        }
        self.st.synced.store(self.written, Ordering::SeqCst);
        (self.wake)();
    }

    /// A new incremental file: what is pending goes to the old one first,
    /// which the fsync thread then fsyncs and closes.
    fn switch(&mut self, p: PathBuf) {
        self.flush(true);
        match open_append(&p) {
            Ok(f) => {
                let old = std::mem::replace(&mut self.file, f);
                if self.st.policy() != Fsync::No {
                    self.fsync.submit(&self.st, &old, false);
                }
                self.path = p;
                self.size = 0;
                self.dirty = false;
                self.st.incr_size.store(0, Ordering::SeqCst);
            }
            Err(e) => log::warn!("Can't open the append-only file {}: {e}", p.display()),
        }
        if let Some(dir) = self.path.parent() {
            fsync_dir(dir);
        }
    }
}

/// Writes as much of `bytes` as the file takes: how much, and the error
/// that stopped it.
fn write_some(file: &mut File, bytes: &[u8]) -> (usize, std::io::Result<()>) {
    let mut done = 0;
    while done < bytes.len() {
        match file.write(&bytes[done..]) {
            Ok(0) => return (done, Err(std::io::Error::from_raw_os_error(28))),
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return (done, Err(e)),
        }
    }
    (done, Ok(()))
}

/// Sets one of `st`'s errors (`m`) and its bit of the flags that tell
/// whether any is set.
fn set(st: &Status, m: &Mutex<Option<String>>, v: Option<String>) {
    let bit = if std::ptr::eq(m, &st.write_error) { 1 } else { 2 };
    if let Ok(mut g) = m.lock() {
        if v.is_some() {
            st.any_error.fetch_or(bit, Ordering::AcqRel);
        } else {
            st.any_error.fetch_and(!bit, Ordering::AcqRel);
        }
        *g = v;
    }
}

/// Redis's AOF_REWRITE_ITEMS_PER_CMD: elements per RPUSH/SADD/ZADD/HMSET
/// of a rewritten base.
const ITEMS_PER_CMD: usize = 64;

/// The commands that rebuild `key` (Redis's `rewriteAppendOnlyFileRio`,
/// for a `.base.aof` with `aof-use-rdb-preamble no`): SET, or RPUSH /
/// SADD / ZADD / HMSET of at most 64 elements each, then PEXPIREAT when it
/// has a TTL.
pub fn write_key_commands(out: &mut Vec<u8>, key: &[u8], value: &Value, expire_at: Option<u64>) {
    use crate::persist::propagate::write_command;
    // One command per chunk of `per` argument groups.
    let mut chunked = |name: &[u8], items: Vec<Vec<u8>>, per: usize| {
        for chunk in items.chunks(ITEMS_PER_CMD * per) {
            let mut argv: Vec<&[u8]> = Vec::with_capacity(chunk.len() + 2);
            argv.push(name);
            argv.push(key);
            argv.extend(chunk.iter().map(|a| a.as_slice()));
            write_command(out, &argv);
        }
    };
    match value {
        Value::Str(s) => write_command(out, &[&b"SET"[..], key, s]),
        Value::List(l) => {
            let mut items = Vec::new();
            let mut buf = itoa::Buffer::new();
            l.for_range(0, -1, |el| items.push(el.bytes(&mut buf).to_vec()));
            chunked(b"RPUSH", items, 1);
        }
        Value::Set(set) => {
            let mut items = Vec::new();
            set.iter().for_each(|m| m.with_bytes(|b| items.push(b.to_vec())));
            chunked(b"SADD", items, 1);
        }
        Value::ZSet(z) => {
            let mut items = Vec::new();
            for (member, score) in z.iter() {
                items.push(crate::resp::reply::format_double(score).into_bytes());
                items.push(member.to_vec());
            }
            chunked(b"ZADD", items, 2);
        }
        Value::Hash(h) => {
            let mut items = Vec::new();
            for (field, value) in h.iter() {
                items.push(field.to_vec());
                items.push(value.to_vec());
            }
            chunked(b"HMSET", items, 2);
        }
        Value::Stream(st) => {
            for argv in crate::store::stream::rewrite_commands(key, st) {
                let argv: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
                write_command(out, &argv);
            }
        }
    }
    if let Some(at) = expire_at {
        write_command(out, &[&b"PEXPIREAT"[..], key, at.to_string().as_bytes()]);
    }
}

/// How reading a command of an AOF ended.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The file ends inside a command; the commands before `valid_up_to`
    /// are whole.
    Truncated { valid_up_to: usize },
    /// Not RESP at `offset`.
    Format { offset: usize },
}

/// Reads the command at `*pos` of an AOF (RESP arrays of bulk strings;
/// `#` annotation lines are skipped). `Ok(None)` at the end.
pub fn read_command(data: &[u8], pos: &mut usize) -> Result<Option<Vec<Vec<u8>>>, ReadError> {
    loop {
        let start = *pos;
        if start >= data.len() {
            return Ok(None);
        }
        if data[start] == b'#' {
            match memchr::memchr(b'\n', &data[start..]) {
                Some(i) => {
                    *pos = start + i + 1;
                    continue;
                }
                None => return Err(ReadError::Truncated { valid_up_to: start }),
            }
        }
        let trunc = ReadError::Truncated { valid_up_to: start };
        let line = |p: usize, lead: u8| -> Result<(i64, usize), ReadError> {
            if p >= data.len() {
                return Err(ReadError::Truncated { valid_up_to: start });
            }
            if data[p] != lead {
                return Err(ReadError::Format { offset: p });
            }
            let Some(i) = memchr::memchr(b'\n', &data[p..]) else {
                return Err(ReadError::Truncated { valid_up_to: start });
            };
            let text = &data[p + 1..p + i];
            let text = text.strip_suffix(b"\r").ok_or(ReadError::Format { offset: p })?;
            let n = crate::resp::parse::parse_i64(text).ok_or(ReadError::Format { offset: p })?;
            Ok((n, p + i + 1))
        };
        let (argc, mut p) = line(start, b'*')?;
        if argc < 1 {
            return Err(ReadError::Format { offset: start });
        }
        // Each argument takes 6 bytes at least (`$0\r\n\r\n`): a count
        // the rest of the file cannot hold reserves no more than it can (a
        // corrupt `*2663333392` would otherwise ask for 64 GB and abort).
        let mut argv = Vec::with_capacity((argc as usize).min((data.len() - p) / 6));
        for _ in 0..argc {
            let (len, q) = line(p, b'$')?;
            if len < 0 {
                return Err(ReadError::Format { offset: p });
            }
            let end = q + len as usize;
            if end + 2 > data.len() {
                return Err(trunc);
            }
            if &data[end..end + 2] != b"\r\n" {
                return Err(ReadError::Format { offset: end });
            }
            argv.push(data[q..end].to_vec());
            p = end + 2;
        }
        *pos = p;
        return Ok(Some(argv));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trip() {
        let text = "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.format(), text);
        assert_eq!((m.base_seq(), m.incr_seq()), (1, 1));
        assert!(Manifest::parse("").is_err());
        assert!(Manifest::parse("file x seq 1 type z\n").is_err());
    }

    /// The error of parsing `text`, whose banner and line are Redis's.
    fn manifest_error(text: &str) -> String {
        let e = Manifest::parse(text).unwrap_err();
        assert!(e.starts_with("\n*** FATAL AOF MANIFEST FILE ERROR ***\n"), "{e}");
        e
    }

    #[test]
    fn manifests_are_read_as_redis_reads_them() {
        // Comments, keys in any case, unknown keys, quoted names.
        let text = "# a comment\nFILE \"my aof.1.base.rdb\" Seq 1 TYPE b future x\nfile a.1.incr.aof seq 1 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.base.as_ref().unwrap().name, "my aof.1.base.rdb");
        assert_eq!(m.format(), "file \"my aof.1.base.rdb\" seq 1 type b\nfile a.1.incr.aof seq 1 type i\n");
        assert_eq!(Manifest::parse(&m.format()).unwrap(), m);
        // A file name, never a path.
        let e = manifest_error("file ../etc/passwd seq 1 type b\n");
        assert!(
            e.ends_with("at line 1\n>>> 'file ../etc/passwd seq 1 type b'\nFile can't be a path, just a filename"),
            "{e}"
        );
        assert!(manifest_error("file a\\\\b seq 1 type b\n").ends_with("just a filename"));
        // Every line ends in a newline, within 1,023 bytes.
        let e = manifest_error("file a seq 1 type b\nfile b seq 1 type i");
        assert_eq!(e, "\n*** FATAL AOF MANIFEST FILE ERROR ***\nThe AOF manifest file contains too long line");
        // 1,023 bytes and a newline fit, 1,024 do not (as in redis-server).
        let line = |len: usize| format!("file {} seq 1 type b\n", "a".repeat(len - 18));
        assert!(Manifest::parse(&line(1023)).is_ok());
        assert!(manifest_error(&line(1024)).ends_with("too long line"));
        // Blank lines, odd or too few words, seq 0 or missing: invalid.
        for bad in [
            "file a seq 1 type b\n\nfile b seq 1 type i\n",
            "file a seq 1 type\n",
            "file a seq 1\n",
            "file a seq 0 type b\n",
            "file a sq 1 type b\n",
            "file \"a seq 1 type b\n",
            "file \"\" seq 1 type b\n",
        ] {
            let e = manifest_error(bad);
            assert!(
                e.contains("Reading the manifest file, at line ") && e.ends_with("Invalid AOF manifest file format"),
                "{e}"
            );
        }
        assert!(
            manifest_error("file a seq 2 type i\nfile b seq 2 type i\n").ends_with("non-monotonic sequence number")
        );
        assert!(
            manifest_error("file a seq 1 type b\nfile b seq 2 type b\n").ends_with("duplicate base file information")
        );
        // atoll: leading digits count.
        assert_eq!(Manifest::parse("file a seq 12x type i\n").unwrap().incr_seq(), 12);
    }

    #[test]
    fn commands_and_truncation() {
        let data = b"#TS:1\r\n*2\r\n$3\r\nDEL\r\n$1\r\na\r\n*2\r\n$3\r\nDEL";
        let mut pos = 0;
        assert_eq!(read_command(data, &mut pos).unwrap().unwrap(), vec![b"DEL".to_vec(), b"a".to_vec()]);
        let whole = pos;
        assert_eq!(read_command(data, &mut pos), Err(ReadError::Truncated { valid_up_to: whole }));
        let mut pos = 0;
        assert_eq!(read_command(b"*1\r\n+OK\r\n", &mut pos), Err(ReadError::Format { offset: 4 }));
        // Every cut inside a command is a truncation, never a format error.
        let one = b"*2\r\n$3\r\nDEL\r\n$1\r\na\r\n";
        for cut in 1..one.len() {
            let mut pos = 0;
            assert_eq!(read_command(&one[..cut], &mut pos), Err(ReadError::Truncated { valid_up_to: 0 }), "{cut}");
        }
    }

    /// Found by fuzz/aof: a count no file could hold asked for its whole
    /// argument vector up front (64 GB here) and aborted the process.
    #[test]
    fn a_huge_count_is_read_as_what_follows_it() {
        let mut pos = 0;
        assert_eq!(read_command(b"*2663333392\r\n", &mut pos), Err(ReadError::Truncated { valid_up_to: 0 }));
        assert_eq!(read_command(b"*2663333392\r\n\r\n", &mut pos), Err(ReadError::Format { offset: 13 }));
        let big = format!("*{}\r\n$1\r\na\r\n", i64::MAX);
        assert_eq!(read_command(big.as_bytes(), &mut pos), Err(ReadError::Truncated { valid_up_to: 0 }));
    }
}
