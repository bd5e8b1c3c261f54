//! Shared test harness: an in-process server on an ephemeral port, a real
//! client (the `redis` crate) and a raw TCP client for exact bytes.
#![allow(dead_code)]

pub mod transcript;

use ferrokv::{Config, Handle};
use redis::{PushInfo, PushKind, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

pub struct TestServer {
    pub handle: Handle,
    /// The server's `dir` (removed when the server is dropped).
    pub dir: String,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A server with default settings on 127.0.0.1 and a free port.
pub fn server() -> TestServer {
    server_with(|_| {})
}

/// A server whose config `f` adjusts first.
pub fn server_with(f: impl FnOnce(&mut Config)) -> TestServer {
    // No save points and a directory of its own: a test server neither
    // snapshots into the working directory nor loads a dump.rdb from it.
    let mut config = Config { port: 0, save: Vec::new(), dir: fresh_dir(), ..Config::default() };
    f(&mut config);
    let dir = config.dir.clone();
    TestServer { handle: ferrokv::start(config).expect("server starts"), dir }
}

/// A new empty directory under the system's temporary directory.
pub fn fresh_dir() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir =
        std::env::temp_dir().join(format!("ferrokv-test-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.to_string_lossy().into_owned()
}

impl TestServer {
    pub fn url(&self) -> String {
        format!("redis://{}/", self.handle.addr)
    }

    /// A connection through the `redis` crate.
    pub fn client(&self) -> redis::Connection {
        let client = redis::Client::open(self.url()).unwrap();
        let con = client.get_connection().expect("connect");
        con.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        con
    }

    /// A raw TCP connection for byte-exact exchanges.
    pub fn raw(&self) -> Raw {
        let s = TcpStream::connect(self.handle.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Raw(s)
    }
}

pub struct Raw(pub TcpStream);

impl Raw {
    /// Switches the connection to RESP3, reading HELLO's reply whole.
    pub fn hello3(&mut self) {
        self.roundtrip(b"HELLO 3\r\n", b"%7\r\n");
        let mut tail = Vec::new();
        let mut byte = [0u8; 1];
        while !tail.ends_with(b"modules\r\n*0\r\n") {
            self.0.read_exact(&mut byte).unwrap();
            tail.push(byte[0]);
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.0.write_all(bytes).unwrap();
    }

    /// Reads exactly `expected.len()` bytes and compares them.
    pub fn expect(&mut self, expected: &[u8]) {
        let mut got = vec![0; expected.len()];
        self.0.read_exact(&mut got).unwrap();
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(expected));
    }

    /// Reads until the server closes the connection (EOF or reset);
    /// returns what came. Fails on a timeout.
    pub fn read_to_close(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match self.0.read(&mut buf) {
                Ok(0) => return out,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return out,
                Err(e) => panic!("waiting for the server to close: {e}"),
            }
        }
    }

    /// Sends `req`, then expects exactly `reply`.
    pub fn roundtrip(&mut self, req: &[u8], reply: &[u8]) {
        self.send(req);
        self.expect(reply);
    }
}

/// Runs a command and returns its error line (`CODE detail`), panicking if
/// the command succeeded.
pub fn err(con: &mut redis::Connection, args: &[&str]) -> String {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    match c.query::<redis::Value>(con) {
        Ok(v) => panic!("{args:?} succeeded with {v:?}"),
        Err(e) => format!("{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or("")),
    }
}

/// Runs a command and converts its reply.
pub fn q<T: redis::FromRedisValue>(con: &mut redis::Connection, args: &[&str]) -> T {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
}

/// Waits (at most 30 s) until `f` holds; panics naming `what` otherwise.
pub fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Field `field` of INFO `section`, trimmed; panics when it is missing.
pub fn info_field(c: &mut redis::Connection, section: &str, field: &str) -> String {
    let info: String = q(c, &["INFO", section]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("INFO {section} has no {field}: {info}"))
        .trim()
        .to_string()
}

/// Waits (up to 30 s) until the server has loaded its data: an AOF or RDB
/// loads in slices after the server starts answering (`-LOADING`).
pub fn wait_loaded(srv: &TestServer) {
    let mut c = srv.client();
    let start = std::time::Instant::now();
    loop {
        let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
        if info.lines().any(|l| l.trim() == "loading:0") {
            return;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "still loading");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Waits until INFO reports `n` blocked clients (blocking-command tests).
pub fn wait_blocked(c: &mut redis::Connection, n: usize) {
    let start = std::time::Instant::now();
    loop {
        let info: String = q(c, &["INFO", "clients"]);
        if info.contains(&format!("blocked_clients:{n}\r\n")) {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "never saw {n} blocked clients: {info}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A RESP3 connection whose pushes arrive on the returned channel.
pub fn resp3(s: &TestServer) -> (redis::Connection, Receiver<PushInfo>) {
    let client = redis::Client::open(format!("redis://{}/?protocol=resp3", s.handle.addr)).unwrap();
    let mut con = client.get_connection().unwrap();
    con.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let (tx, rx) = channel();
    con.set_push_sender(tx);
    (con, rx)
}

/// The keys of the invalidations received so far (after a PING, so that
/// the connection has read everything the server sent before it); `None`
/// stands for a flush's null.
pub fn invalidated(con: &mut redis::Connection, rx: &Receiver<PushInfo>) -> Vec<Option<Vec<String>>> {
    q::<String>(con, &["PING"]);
    let mut out = Vec::new();
    while let Ok(p) = rx.try_recv() {
        assert_eq!(p.kind, PushKind::Invalidate, "{p:?}");
        out.push(match &p.data[..] {
            [Value::Nil] => None,
            [Value::Array(keys)] => Some(
                keys.iter()
                    .map(|k| match k {
                        Value::BulkString(b) => String::from_utf8(b.clone()).unwrap(),
                        other => panic!("{other:?}"),
                    })
                    .collect(),
            ),
            other => panic!("{other:?}"),
        });
    }
    out
}

/// Keys of every type and encoding (big collections of `big_n` elements,
/// past the listpack limits), TTLs, and with `other_db` a key in db 3;
/// returns db 0's key names.
pub fn load_every_encoding(c: &mut redis::Connection, big_n: usize, other_db: bool) -> Vec<String> {
    let big: String = (0..2000).map(|i| char::from(b'a' + (i % 7) as u8)).collect();
    let cmds: Vec<Vec<String>> = vec![
        vec!["SET".into(), "int".into(), "12345".into()],
        vec!["SET".into(), "neg".into(), "-9000000000".into()],
        vec!["SET".into(), "embstr".into(), "hello world".into()],
        vec!["SET".into(), "raw".into(), "x".repeat(100)],
        vec!["SET".into(), "compressible".into(), big.clone()],
        vec!["SET".into(), "bin".into(), "\u{0}\u{1}\u{ff}bin".into()],
        vec!["SET".into(), "ttl".into(), "v".into(), "PX".into(), "900000".into()],
        vec!["RPUSH".into(), "smalllist".into(), "a".into(), "1".into(), "-7".into(), "bb".into()],
        vec!["HSET".into(), "smallhash".into(), "f1".into(), "v1".into(), "f2".into(), "22".into()],
        vec!["SADD".into(), "intset".into(), "1".into(), "2".into(), "-30000".into(), "70000000000".into()],
        vec!["SADD".into(), "strset".into(), "a".into(), "b".into(), "c".into()],
        vec![
            "ZADD".into(),
            "smallz".into(),
            "1.5".into(),
            "a".into(),
            "-2".into(),
            "b".into(),
            "inf".into(),
            "c".into(),
        ],
    ];
    let other: Vec<Vec<String>> = if other_db {
        vec![
            vec!["SELECT".into(), "3".into()],
            vec!["SET".into(), "in-db-3".into(), "yes".into()],
            vec!["SELECT".into(), "0".into()],
        ]
    } else {
        Vec::new()
    };
    for cmd in cmds.into_iter().chain(other) {
        let mut r = redis::cmd(&cmd[0]);
        for a in &cmd[1..] {
            r.arg(a);
        }
        let _: redis::Value = r.query(c).unwrap();
    }
    let mut p = redis::pipe();
    for i in 0..big_n {
        p.cmd("RPUSH").arg("biglist").arg(format!("item:{i}")).ignore();
        p.cmd("HSET").arg("bighash").arg(format!("field:{i}")).arg(i).ignore();
        p.cmd("SADD").arg("bigset").arg(format!("m{i}")).ignore();
        p.cmd("SADD").arg("bigintset").arg(i * 3).ignore();
        p.cmd("ZADD").arg("bigz").arg(i as f64 / 7.0).arg(format!("m{i}")).ignore();
    }
    p.cmd("EXPIRE").arg("bighash").arg(1000).ignore();
    let _: () = p.query(c).unwrap();
    [
        "int",
        "neg",
        "embstr",
        "raw",
        "compressible",
        "bin",
        "ttl",
        "smalllist",
        "smallhash",
        "intset",
        "strset",
        "smallz",
        "biglist",
        "bighash",
        "bigset",
        "bigintset",
        "bigz",
    ]
    .map(String::from)
    .to_vec()
}

/// A command in RESP, as a client sends it.
pub fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Sends each command and compares its whole reply with Redis's bytes.
pub fn check(raw: &mut Raw, cases: &[(&[&str], &[u8])]) {
    for (args, want) in cases {
        raw.send(&resp(args));
        let mut got = vec![0; want.len()];
        raw.0.read_exact(&mut got).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(want), "{args:?}");
    }
    // Nothing more than Redis's reply came.
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

/// A connection to 127.0.0.1:`port` once a server just spawned there
/// listens (at most 10 s).
pub fn connect_when_up(port: u16) -> redis::Connection {
    let start = std::time::Instant::now();
    loop {
        if let Ok(c) = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap().get_connection() {
            return c;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A redis-server 7.0 child process on a free port, in `dir`, without
/// saves, with DEBUG enabled; killed when dropped (interop tests). Also
/// ferrokv's own binary, where a test needs a process of its own (memory
/// figures are the whole process's).
pub struct RedisServer(pub std::process::Child, pub u16);

impl RedisServer {
    pub fn start(dir: &str) -> RedisServer {
        RedisServer::start_program("redis-server", dir, &[])
    }

    /// The ferrokv binary, started as [`RedisServer::start`] starts Redis.
    pub fn ferrokv(dir: &str) -> RedisServer {
        RedisServer::start_program(env!("CARGO_BIN_EXE_ferrokv"), dir, &[])
    }

    /// `program` (a path, or a name on PATH) with `extra` arguments after
    /// the usual ones.
    pub fn start_program(program: &str, dir: &str, extra: &[&str]) -> RedisServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new(program)
            .args(["--port", &port.to_string(), "--dir", dir, "--save", "", "--enable-debug-command", "yes"])
            .args(extra)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let r = RedisServer(child, port);
        let mut c = connect_when_up(port);
        let _: String = redis::cmd("PING").query(&mut c).unwrap_or_else(|e| panic!("{program}: {e}"));
        r
    }

    pub fn client(&self) -> Option<redis::Connection> {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.1)).ok()?.get_connection().ok()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
