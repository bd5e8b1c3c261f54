//! MIGRATE: moves keys to another server (Redis's `migrateCommand` in
//! cluster.c). The values are serialised with the DUMP encoder
//! (`persist::codec`), sent as one pipelined batch of `RESTORE key ttl
//! payload [REPLACE]` commands (preceded by AUTH and SELECT when needed),
//! and deleted here once the target acknowledged each, unless COPY.
//!
//! As in Redis the transfer is synchronous: the event loop waits for it, so
//! other clients are stalled for one batch's transfer, bounded by the
//! `timeout` argument (per connection attempt, per write of 64 KiB and per
//! wait for reply bytes). Connections are cached per `host:port` as typed
//! (at most 64; a random one is closed to make room), remember the database
//! last selected on them so that SELECT is sent only when it changes, are
//! closed on any socket error, and are closed by the cron after 10 seconds
//! unused ([`Sockets::close_idle`]).
//!
//! Redis's quirks are kept on purpose: the connection is made the way
//! 7.0's `connBlockingConnect` makes it (a refused or timed-out connect is
//! noticed only by the first write, hence "writing" errors for a closed
//! port), a reply counts as an error only if its first line starts with
//! `-`, reply lines are read up to 1023 bytes, and a socket error before
//! any RESTORE reply was read is retried once on a fresh connection unless
//! it was a timeout.

use super::table::{Begin, Command, FindKeys, KeySpec, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx};
use crate::server::notify as ev;
use crate::server::state::Shared;
use hashbrown::HashMap;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

pub static COMMANDS: &[Command] = &[row(
    "migrate",
    -6,
    WRITE,
    (3, 3, 1),
    "generic",
    "2.6.0",
    "Atomically transfer a key from a Redis instance to another one.",
    migrate,
)
.key_flags(&["RW access delete"])
// The keys of the KEYS form (the key argument is then empty).
.extra_specs(&[KeySpec {
    flags: "RW access delete incomplete",
    notes: "",
    begin: Begin::Keyword { keyword: "KEYS", startfrom: -2 },
    find: FindKeys::Range { lastkey: -1, step: 1, limit: 0 },
}])
.tips(&["nondeterministic_output"])
.acl(&["@keyspace", "@dangerous"])];

/// Most connections kept (Redis's `MIGRATE_SOCKET_CACHE_ITEMS`).
const CACHE_ITEMS: usize = 64;
/// A connection unused for longer than this many seconds is closed
/// (`MIGRATE_SOCKET_CACHE_TTL`).
const CACHE_TTL_SECS: u64 = 10;
/// The batch is written in chunks of this size, each within the timeout.
const WRITE_CHUNK: usize = 64 * 1024;
/// Redis reads each reply line into a 1024-byte buffer: at most 1023 bytes
/// of a line are taken, the rest is left for the next read.
const LINE_MAX: usize = 1023;

const CONNECT_ERR: &str = "IOERR error or timeout connecting to the client";

/// One cached connection (Redis's `migrateCachedSocket`).
struct Cached {
    /// Replies are read through the buffer, which stays with the
    /// connection: bytes a reply line left behind are the next read's.
    conn: BufReader<TcpStream>,
    /// The database last selected successfully; `None` forces SELECT.
    last_db: Option<i64>,
    /// Unix seconds of the last use.
    last_use: u64,
}

/// The cached connections, by `host:port` as given to MIGRATE.
#[derive(Default)]
pub struct Sockets {
    map: HashMap<Vec<u8>, Cached>,
}

impl Sockets {
    /// The connections cached (INFO's `migrate_cached_sockets`).
    pub fn cached(&self) -> usize {
        self.map.len()
    }

    /// Closes the connections unused for more than 10 seconds (Redis's
    /// `migrateCloseTimedoutSockets`, from the cron); `now_secs` is Unix
    /// seconds.
    pub fn close_idle(&mut self, now_secs: u64) {
        if !self.map.is_empty() {
            self.map.retain(|_, c| now_secs.saturating_sub(c.last_use) <= CACHE_TTL_SECS);
        }
    }
}

/// Key positions of a MIGRATE call with `argc` arguments (Redis 7.0.15's
/// `migrateGetKeys`, as COMMAND GETKEYS shows it): argument 3, or, when a
/// `KEYS` that is not the last argument follows the options (COPY and
/// REPLACE skipped, AUTH's and AUTH2's values stepped over), the arguments
/// after it — none if the key argument is not empty (a syntax error).
pub fn key_positions<'a>(argc: usize, arg: impl Fn(usize) -> &'a [u8]) -> Vec<usize> {
    let mut i = 6;
    while i + 1 < argc {
        let a = arg(i);
        if a.eq_ignore_ascii_case(b"keys") {
            return if arg(3).is_empty() { (i + 1..argc).collect() } else { Vec::new() };
        }
        if a.eq_ignore_ascii_case(b"auth") {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"auth2") {
            i += 2;
        }
        i += 1;
    }
    if argc > 3 { vec![3] } else { Vec::new() }
}

/// MIGRATE's options.
struct Options<'a> {
    copy: bool,
    replace: bool,
    user: Option<&'a [u8]>,
    password: Option<&'a [u8]>,
    /// The keys named: the key argument, or those after KEYS.
    keys: Vec<&'a [u8]>,
}

/// The options after the timeout, in Redis's order and with its errors.
fn options<'a>(args: &Args<'a>) -> Result<Options<'a>, CmdError> {
    let mut o = Options { copy: false, replace: false, user: None, password: None, keys: vec![args.get(3)] };
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let a = args.get(j);
        if a.eq_ignore_ascii_case(b"copy") {
            o.copy = true;
        } else if a.eq_ignore_ascii_case(b"replace") {
            o.replace = true;
        } else if a.eq_ignore_ascii_case(b"auth") {
            if more == 0 {
                return Err(CmdError::Syntax);
            }
            j += 1;
            o.password = Some(args.get(j));
        } else if a.eq_ignore_ascii_case(b"auth2") {
            if more < 2 {
                return Err(CmdError::Syntax);
            }
            o.user = Some(args.get(j + 1));
            o.password = Some(args.get(j + 2));
            j += 2;
        } else if a.eq_ignore_ascii_case(b"keys") {
            if !args.get(3).is_empty() {
                return Err(CmdError::msg(
                    "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
                ));
            }
            o.keys = args.from(j + 1).collect();
            break;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// Argument positions MONITOR and SLOWLOG show as `(redacted)`: the
/// passwords (and AUTH2's user name) of a MIGRATE call, as Redis's
/// `redactClientCommandArgument` hides them.
pub fn redacted(args: &Args) -> Vec<usize> {
    let mut hidden = Vec::new();
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let a = args.get(j);
        if a.eq_ignore_ascii_case(b"auth") && more >= 1 {
            hidden.push(j + 1);
            j += 1;
        } else if a.eq_ignore_ascii_case(b"auth2") && more >= 2 {
            hidden.extend([j + 1, j + 2]);
            j += 2;
        } else if a.eq_ignore_ascii_case(b"keys")
            || !(a.eq_ignore_ascii_case(b"copy") || a.eq_ignore_ascii_case(b"replace"))
        {
            break;
        }
        j += 1;
    }
    hidden
}

/// # Format
/// `MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
/// [AUTH password | AUTH2 username password] [KEYS key [key ...]]`
///
/// Replies `+OK` once the target stored every key (they are deleted here
/// unless COPY), `+NOKEY` when none of the keys exists, `-IOERR …` on a
/// connection problem, or the target's first error reply.
fn migrate(cx: &mut Ctx, args: &Args) -> CmdResult {
    let o = options(args)?;
    // Redis reads the timeout first, then the database.
    let timeout = args.int(5)?;
    let dbid = args.int(4)?;
    let timeout = Duration::from_millis(if timeout <= 0 { 1000 } else { timeout as u64 });
    let now = cx.now;
    let db = cx.db_index();
    // Look the keys up as reads (hits, misses, lazy expiry); an absent key
    // is skipped, as the key may simply have expired.
    let found: Vec<&[u8]> = o.keys.iter().copied().filter(|k| cx.srv.dbs[db].get(k, now).is_some()).collect();
    if found.is_empty() {
        cx.out.simple("NOKEY");
        return Ok(());
    }
    let (host, port) = (args.get(1), args.get(2));
    let mut name = Vec::with_capacity(host.len() + 1 + port.len());
    name.extend_from_slice(host);
    name.push(b':');
    name.extend_from_slice(port);
    let mut may_retry = true;
    // Redis's `try_again` loop: a socket error before any key was
    // acknowledged is retried once on a new connection, unless it was a
    // timeout.
    loop {
        let mut cs = match socket(cx.srv, &name, host, port, timeout, now / 1000) {
            Some(cs) => cs,
            None => return Err(CmdError::msg(CONNECT_ERR)),
        };
        // SELECT only when the connection has another database selected.
        let select = cs.last_db != Some(dbid);
        let (batch, sent) = batch(cx.srv, db, &o, &found, dbid, select, now);
        let stream = cs.conn.get_ref();
        let timeouts = stream.set_read_timeout(Some(timeout)).and_then(|_| stream.set_write_timeout(Some(timeout)));
        if let Err(e) = timeouts.and_then(|_| write_batch(cs.conn.get_mut(), &batch)) {
            // The connection is dropped, closing it.
            if may_retry && !timed_out(&e) {
                may_retry = false;
                continue;
            }
            return Err(io_error(true));
        }
        let mut prelude = Vec::new(); // AUTH's and SELECT's replies
        let mut failed = None;
        for _ in 0..usize::from(o.password.is_some()) + usize::from(select) {
            match read_line(&mut cs.conn) {
                Ok(line) => prelude.push(line),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = failed {
            if may_retry && !timed_out(&e) {
                may_retry = false;
                continue;
            }
            return Err(io_error(false));
        }
        let prelude_error = prelude.iter().find(|l| l.first() == Some(&b'-'));
        // The RESTORE replies, one per key sent, in order.
        let mut target_error: Option<Vec<u8>> = None;
        let mut socket_error = None;
        let mut read = 0;
        let mut deleted = 0u64;
        for key in &sent {
            let line = match read_line(&mut cs.conn) {
                Ok(line) => line,
                Err(e) => {
                    socket_error = Some(e);
                    break;
                }
            };
            read += 1;
            if prelude_error.is_some() || line.first() == Some(&b'-') {
                if target_error.is_none() {
                    // After an error the selected database is not trusted.
                    cs.last_db = None;
                    target_error = Some(prelude_error.unwrap_or(&line)[1..].to_vec());
                }
            } else if !o.copy {
                delete(cx, key);
                deleted += 1;
            }
        }
        if let Some(e) = &socket_error
            && target_error.is_none()
            && read == 0
            && may_retry
            && !timed_out(e)
        {
            may_retry = false;
            continue;
        }
        // Redis counts a change per key deleted; the dispatcher counts one
        // for a write that succeeded, so here one less when it will.
        let succeeded = target_error.is_none() && socket_error.is_none();
        cx.srv.stats.dirty += if succeeded { deleted.saturating_sub(1) } else { deleted };
        if socket_error.is_none() {
            if target_error.is_none() {
                cs.last_db = Some(dbid);
            }
            cx.srv.migrate.map.insert(name, cs);
        }
        return match target_error {
            Some(text) => {
                // Redis's reply buffers are C strings: the text ends at a NUL.
                let text = text.split(|&b| b == 0).next().unwrap_or_default();
                Err(CmdError::msg(format!("ERR Target instance replied with error: {}", String::from_utf8_lossy(text))))
            }
            None if socket_error.is_some() => Err(io_error(false)),
            None => {
                cx.out.ok();
                Ok(())
            }
        };
    }
}

/// The commands of one attempt: AUTH if a password was given, SELECT if
/// `select`, then a RESTORE per key still alive, with its remaining TTL.
/// Returns the bytes and the keys whose RESTORE is in them.
fn batch<'a>(
    srv: &mut Shared,
    db: usize,
    o: &Options,
    keys: &[&'a [u8]],
    dbid: i64,
    select: bool,
    now: u64,
) -> (Vec<u8>, Vec<&'a [u8]>) {
    let mut out = Vec::new();
    if let Some(password) = o.password {
        let mut auth: Vec<&[u8]> = vec![b"AUTH"];
        auth.extend(o.user);
        auth.push(password);
        command(&mut out, &auth);
    }
    if select {
        command(&mut out, &[b"SELECT", dbid.to_string().as_bytes()]);
    }
    // The TTLs are taken against the clock now, as Redis's `mstime()`:
    // serialising big keys takes time, and a key that expired meanwhile is
    // left out.
    let wall = crate::server::unix_ms() as i64;
    let compress = srv.config.rdbcompression;
    let mut sent = Vec::with_capacity(keys.len());
    for &key in keys {
        let d = &mut srv.dbs[db];
        let Some(expire_at) = d.expiry(key, now) else { continue };
        let ttl = match expire_at {
            None => 0,
            Some(at) if (at as i64) < wall => continue,
            Some(at) => (at as i64 - wall).max(1),
        };
        let Some(entry) = d.get_raw(key) else { continue };
        let payload = crate::persist::codec::dump_with(&entry.value, compress);
        let ttl = ttl.to_string();
        let mut restore: Vec<&[u8]> = vec![b"RESTORE", key, ttl.as_bytes(), &payload];
        if o.replace {
            restore.push(b"REPLACE");
        }
        command(&mut out, &restore);
        sent.push(key);
    }
    (out, sent)
}

/// Appends one command in RESP.
fn command(out: &mut Vec<u8>, parts: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", parts.len()).as_bytes());
    for p in parts {
        out.extend_from_slice(format!("${}\r\n", p.len()).as_bytes());
        out.extend_from_slice(p);
        out.extend_from_slice(b"\r\n");
    }
}

/// Removes a key the target acknowledged, as Redis's `dbDelete` with its
/// signals: the `del` event, WATCH and client-side caching. Redis signals
/// even when the key was already gone (named twice under KEYS).
fn delete(cx: &mut Ctx, key: &[u8]) {
    let (now, db) = (cx.now, cx.db_index());
    if let Some(e) = cx.srv.dbs[db].remove(key, now)
        && cx.srv.config.lazyfree_lazy_server_del
    {
        cx.srv.lazy.free_value(e.value);
    }
    cx.notify(ev::GENERIC, "del", key);
}

/// The `-IOERR` reply after a socket error.
fn io_error(writing: bool) -> CmdError {
    CmdError::msg(format!("IOERR error or timeout {} to target instance", if writing { "writing" } else { "reading" }))
}

/// Whether an I/O error is the timeout running out (Redis's ETIMEDOUT),
/// which is not retried.
fn timed_out(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

/// The cached connection to `name`, taken out of the cache while in use,
/// or a new one (Redis's `migrateGetSocket`); `None` if no connection
/// could even be started.
fn socket(srv: &mut Shared, name: &[u8], host: &[u8], port: &[u8], timeout: Duration, now_secs: u64) -> Option<Cached> {
    if let Some(mut cs) = srv.migrate.map.remove(name) {
        cs.last_use = now_secs;
        return Some(cs);
    }
    if srv.migrate.map.len() >= CACHE_ITEMS {
        // Too many: one at random goes.
        let victim = srv.rng.below(srv.migrate.map.len());
        let key = srv.migrate.map.keys().nth(victim).cloned();
        key.map(|k| srv.migrate.map.remove(&k));
    }
    let stream = connect(host, port, timeout)?;
    Some(Cached { conn: BufReader::new(stream), last_db: None, last_use: now_secs })
}

/// Redis 7.0's `connBlockingConnect`: resolve `host`, start a non-blocking
/// connect to the first address that accepts the attempt, then wait up to
/// `timeout` for it to become writable. Whether the connection was refused
/// or is still pending is not checked (Redis does not either): the first
/// write finds out. `None` when no address accepted an attempt.
fn connect(host: &[u8], port: &[u8], timeout: Duration) -> Option<TcpStream> {
    // C strings: a host ends at a NUL; the port is read with `atoi`.
    let host = host.split(|&b| b == 0).next().unwrap_or_default();
    let host = std::str::from_utf8(host).ok()?;
    // The port goes to getaddrinfo as text: a negative one is refused, a
    // larger one keeps its low 16 bits.
    let port = crate::ctext::atoi(port);
    if port < 0 {
        return None;
    }
    let port = port as u16;
    for addr in (host, port).to_socket_addrs().ok()? {
        let Ok(sock) = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)) else { continue };
        if sock.set_nonblocking(true).is_err() {
            continue;
        }
        match sock.connect(&SockAddr::from(addr)) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(_) => continue,
        }
        wait_writable(&sock, timeout);
        sock.set_nonblocking(false).ok()?;
        let _ = sock.set_tcp_nodelay(true);
        return Some(sock.into());
    }
    None
}

/// Waits until `sock` is writable or `timeout` passes (Redis's `aeWait`).
fn wait_writable(sock: &Socket, timeout: Duration) {
    let deadline = Instant::now().checked_add(timeout);
    loop {
        let left = deadline
            .map_or(i32::MAX, |d| d.saturating_duration_since(Instant::now()).as_millis().min(i32::MAX as u128) as i32);
        let mut pfd = libc::pollfd { fd: sock.as_raw_fd(), events: libc::POLLOUT, revents: 0 };
        // SAFETY: one valid pollfd for the duration of the call.
        let n = unsafe { libc::poll(&mut pfd, 1, left.max(0)) };
        if n >= 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted || left <= 0 {
            return;
        }
    }
}

/// Writes the batch in 64 KiB chunks (Redis's loop of `connSyncWrite`).
fn write_batch(stream: &mut TcpStream, batch: &[u8]) -> io::Result<()> {
    for chunk in batch.chunks(WRITE_CHUNK) {
        stream.write_all(chunk)?;
    }
    Ok(())
}

/// One reply line as Redis's `syncReadLine` reads it into its 1024-byte
/// buffer: up to the newline (dropped, with a `\r` before it) or 1023
/// bytes. An empty line, the peer closing and the timeout are errors.
fn read_line(r: &mut BufReader<TcpStream>) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    while line.len() < LINE_MAX {
        let buf = match r.fill_buf() {
            Ok([]) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let take = &buf[..buf.len().min(LINE_MAX - line.len())];
        if let Some(p) = memchr::memchr(b'\n', take) {
            line.extend_from_slice(&take[..p]);
            r.consume(p + 1);
            if line.is_empty() {
                return Err(io::ErrorKind::InvalidData.into());
            }
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(line);
        }
        let n = take.len();
        line.extend_from_slice(take);
        r.consume(n);
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn positions(args: &[&str]) -> Vec<usize> {
        key_positions(args.len(), |i| args[i].as_bytes())
    }

    #[test]
    fn keys_as_redis_7_0_15_extracts_them() {
        // Each as `COMMAND GETKEYS` answered on redis-server 7.0.15.
        let m = |rest: &str| {
            let mut v = vec!["migrate", "h", "p"];
            v.extend(rest.split(' ').map(|a| if a == "''" { "" } else { a }));
            positions(&v)
        };
        assert_eq!(m("k 0 10"), [3]);
        assert_eq!(m("'' 0 10"), [3]);
        assert_eq!(m("'' 0 10 keys a b"), [7, 8]);
        assert_eq!(m("k 0 10 keys a b"), Vec::<usize>::new());
        assert_eq!(m("'' 0 10 copy keys a"), [8]);
        assert_eq!(m("'' 0 10 auth keys x"), [3]);
        assert_eq!(m("'' 0 10 keys"), [3]);
        assert_eq!(m("k 0 10 keys"), [3]);
        assert_eq!(m("k 0 10 keys keys"), Vec::<usize>::new());
        assert_eq!(m("'' 0 10 replace keys keys"), [8]);
        assert_eq!(m("'' 0 10 auth2 a keys b"), [3]);
        assert_eq!(m("'' 0 10 auth2 a b keys c"), [10]);
        assert_eq!(m("'' 0 10 AUTH2 a b KEYS c d"), [10, 11]);
        assert_eq!(m("'' 0 10 foo keys a"), [8]);
        assert_eq!(m("'' 0 10 KEYS a keys b"), [7, 8, 9]);
    }

    #[test]
    fn passwords_are_redacted() {
        let data = ["migrate", "h", "p", "", "0", "10", "copy", "auth", "pw", "auth2", "u", "p2", "keys", "auth", "x"];
        let spans: Vec<(usize, usize)> = {
            let mut at = 0;
            data.iter()
                .map(|a| {
                    at += a.len();
                    (at - a.len(), at)
                })
                .collect()
        };
        let bytes = data.concat();
        assert_eq!(redacted(&Args::new(bytes.as_bytes(), &spans)), [8, 10, 11]);
    }
}
