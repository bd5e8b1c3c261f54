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
//! `everysec`: once a second; `no`: never (the OS decides). What it has
//! written and fsynced is published in [`Status`]; the loop is woken when
//! an fsync completes.

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
    /// Parses a manifest (Redis's `aofLoadManifestFromFile`); the error is
    /// Redis's text.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            if !words.len().is_multiple_of(2) {
                return Err("Invalid AOF manifest file format".into());
            }
            let (mut name, mut seq, mut kind) = (None, None, None);
            for pair in words.chunks(2) {
                match pair[0] {
                    "file" => name = Some(pair[1].to_string()),
                    "seq" => seq = pair[1].parse::<u64>().ok(),
                    "type" => kind = pair[1].chars().next(),
                    _ => {}
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err("Invalid AOF manifest file format".into());
            };
            let f = AofFile { name, seq, kind };
            match kind {
                'b' => {
                    if m.base.is_some() {
                        return Err("Found duplicate base file information".into());
                    }
                    m.base = Some(f);
                }
                'h' => m.history.push(f),
                'i' => {
                    if m.incrs.last().is_some_and(|l| l.seq >= f.seq) {
                        return Err("Found a non-monotonic sequence number".into());
                    }
                    m.incrs.push(f)
                }
                _ => return Err("Unknown AOF file type".into()),
            }
        }
        if m.base.is_none() && m.incrs.is_empty() {
            return Err("Found an empty AOF manifest".into());
        }
        Ok(m)
    }

    /// The manifest's text, as Redis writes it (base, history, incrs).
    pub fn format(&self) -> String {
        let mut s = String::new();
        let line = |s: &mut String, f: &AofFile| {
            s.push_str(&format!("file {} seq {} type {}\n", f.name, f.seq, f.kind));
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

/// `appendonly.aof.N.base.rdb` / `.base.aof`.
pub fn base_name(prefix: &str, seq: u64, rdb: bool) -> String {
    format!("{prefix}.{seq}.base.{}", if rdb { "rdb" } else { "aof" })
}

/// `appendonly.aof.N.incr.aof`.
pub fn incr_name(prefix: &str, seq: u64) -> String {
    format!("{prefix}.{seq}.incr.aof")
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
    /// Bytes (of the whole stream since start) written / written and fsynced.
    pub written: AtomicU64,
    pub synced: AtomicU64,
    /// Size of the current incremental file.
    pub incr_size: AtomicU64,
    /// Redis's `aof_delayed_fsync`: fsyncs that took longer than 2 s.
    pub delayed_fsync: AtomicU64,
    /// The last write or fsync failed (text of the error), until one works.
    pub error: Mutex<Option<String>>,
    pub fsync_in_progress: AtomicBool,
    policy: AtomicU64,
}

impl Status {
    pub fn error(&self) -> Option<String> {
        self.error.lock().map(|e| e.clone()).unwrap_or(None)
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
    /// Fsync and close the current file, go on in this one.
    Switch(PathBuf),
    /// Fsync, then report back (shutdown, switching the AOF off).
    Sync(Sender<()>),
}

/// The writer thread and its channel.
pub struct Writer {
    tx: Option<Sender<Msg>>,
    thread: Option<JoinHandle<()>>,
    pub status: Arc<Status>,
}

impl Writer {
    /// Starts writing (appending) to `path`; `wake` is called when an
    /// fsync completed (the loop then releases the replies that waited).
    pub fn start(path: PathBuf, policy: Fsync, start_at: u64, wake: Box<dyn Fn() + Send>) -> std::io::Result<Writer> {
        let file = open_append(&path)?;
        let status = Arc::new(Status::default());
        status.set_policy(policy);
        status.written.store(start_at, Ordering::SeqCst);
        status.synced.store(start_at, Ordering::SeqCst);
        status.incr_size.store(file.metadata().map(|m| m.len()).unwrap_or(0), Ordering::SeqCst);
        let (tx, rx) = channel();
        let st = status.clone();
        let thread = std::thread::Builder::new()
            .name("aof-writer".into())
            .spawn(move || writer_loop(rx, file, path, st, wake))?;
        Ok(Writer { tx: Some(tx), thread: Some(thread), status })
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

    /// Waits until everything sent is written and fsynced.
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

fn writer_loop(rx: Receiver<Msg>, mut file: File, mut path: PathBuf, st: Arc<Status>, wake: Box<dyn Fn() + Send>) {
    let mut last_fsync = Instant::now();
    let mut dirty = false;
    // Bytes written but not yet in the stream count that was fsynced.
    let mut pending_total = st.written.load(Ordering::SeqCst);
    let mut waiters: Vec<Sender<()>> = Vec::new();
    loop {
        let timeout = Duration::from_millis(1000).saturating_sub(last_fsync.elapsed()).max(Duration::from_millis(1));
        let first = match rx.recv_timeout(timeout) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                let _ = file.sync_data();
                return;
            }
        };
        // Group commit: everything queued now is written before one fsync.
        let mut msgs: Vec<Msg> = first.into_iter().collect();
        msgs.extend(rx.try_iter());
        for m in msgs {
            match m {
                Msg::Data(bytes, total) => {
                    if let Err(e) = write_all_retry(&mut file, &bytes, &st) {
                        log::warn!("Error writing to the AOF file: {e}");
                        set_error(&st, Some(crate::config::strerror(&e)));
                        // The bytes stay unacknowledged: keep trying.
                        while write_all_retry(&mut file, &bytes, &st).is_err() {
                            std::thread::sleep(Duration::from_millis(100));
                        }
                        log::warn!("AOF write error looks solved, Redis can write again.");
                        set_error(&st, None);
                    }
                    pending_total = total;
                    st.written.store(total, Ordering::SeqCst);
                    dirty = true;
                }
                Msg::Switch(p) => {
                    let _ = file.sync_data();
                    match open_append(&p) {
                        Ok(f) => {
                            file = f;
                            path = p;
                            st.incr_size.store(0, Ordering::SeqCst);
                        }
                        Err(e) => {
                            log::warn!("Can't open the append-only file {}: {e}", p.display());
                        }
                    }
                    if let Some(dir) = path.parent() {
                        fsync_dir(dir);
                    }
                    st.synced.store(pending_total, Ordering::SeqCst);
                }
                Msg::Sync(done) => waiters.push(done),
            }
        }
        let policy = st.policy();
        let due = match policy {
            Fsync::Always => dirty,
            Fsync::EverySec => dirty && last_fsync.elapsed() >= Duration::from_secs(1),
            Fsync::No => false,
        };
        if due || !waiters.is_empty() {
            st.fsync_in_progress.store(true, Ordering::SeqCst);
            let started = Instant::now();
            let res = file.sync_data();
            st.fsync_in_progress.store(false, Ordering::SeqCst);
            if policy == Fsync::EverySec && started.elapsed() > Duration::from_secs(2) {
                log::warn!("{FSYNC_SLOW}");
                st.delayed_fsync.fetch_add(1, Ordering::SeqCst);
            }
            match res {
                Ok(()) => {
                    last_fsync = Instant::now();
                    dirty = false;
                    st.synced.store(pending_total, Ordering::SeqCst);
                    wake();
                }
                Err(e) => {
                    log::warn!("Can't persist the AOF file {} to disk: {e}", path.display());
                    set_error(&st, Some(crate::config::strerror(&e)));
                }
            }
            for w in waiters.drain(..) {
                let _ = w.send(());
            }
        } else if policy == Fsync::No && dirty {
            // Nothing waits for the disk: written counts as done.
            st.synced.store(pending_total, Ordering::SeqCst);
            dirty = false;
            wake();
        } else if policy == Fsync::EverySec && dirty {
            // Replies do not wait for an everysec fsync.
            st.synced.store(pending_total, Ordering::SeqCst);
        }
    }
}

fn set_error(st: &Status, e: Option<String>) {
    if let Ok(mut g) = st.error.lock() {
        *g = e;
    }
}

fn write_all_retry(file: &mut File, bytes: &[u8], st: &Status) -> std::io::Result<()> {
    file.write_all(bytes)?;
    st.incr_size.fetch_add(bytes.len() as u64, Ordering::SeqCst);
    Ok(())
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
        let mut argv = Vec::with_capacity(argc as usize);
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
}
