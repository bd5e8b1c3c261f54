//! The append-only file when things go wrong: the server killed (SIGKILL)
//! in the middle of a rewrite, an everysec fsync that takes seconds (a
//! test hook slows it), and a full disk under `appendfsync always` (a tiny
//! tmpfs, when this user may mount one). Nothing acknowledged is lost.

mod common;

use common::{fresh_dir, q, server_with, wait_until};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ferrokv");

fn field(info: &str, name: &str) -> String {
    info.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')))
        .unwrap_or_else(|| panic!("no {name} in {info}"))
        .trim()
        .to_string()
}

fn info(c: &mut redis::Connection) -> String {
    q(c, &["INFO", "persistence"])
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// ferrokv as a process of its own (so it can be killed), on `dir`.
struct Server(Child, u16);

impl Server {
    fn start(dir: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let child = Command::new(BIN)
            .args(["--port", &port.to_string(), "--dir", dir, "--save", "", "--appendonly", "yes"])
            .args(["--enable-debug-command", "yes"])
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let s = Server(child, port);
        wait_until("the server", || {
            s.client().is_some_and(|mut c| {
                redis::cmd("INFO").arg("persistence").query::<String>(&mut c).is_ok_and(|i| field(&i, "loading") == "0")
            })
        });
        s
    }

    fn client(&self) -> Option<redis::Connection> {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.1)).ok()?.get_connection().ok()
    }

    /// SIGKILL: no shutdown, nothing flushed by the server.
    fn kill(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Killed while a rewrite writes its base: the files of before the
/// rewrite (and the new incr file the manifest already names) still load,
/// with every acknowledged write.
#[test]
fn kill_during_a_rewrite_loses_nothing() {
    let dir = fresh_dir();
    let srv = Server::start(&dir, &["--appendfsync", "always", "--rdb-key-save-delay", "10000"], &[]);
    let mut c = srv.client().unwrap();
    for i in 0..300 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), &format!("v{i}")]);
    }
    assert_eq!(q::<String>(&mut c, &["BGREWRITEAOF"]), "Background append only file rewriting started");
    assert_eq!(field(&info(&mut c), "aof_rewrite_in_progress"), "1");
    let t = Instant::now();
    // Pipelined: the walk sleeps per key (the test hook), so each
    // round trip waits for it.
    let mut p = redis::pipe();
    for i in 0..100 {
        p.cmd("INCR").arg(format!("n{i}")).cmd("RPUSH").arg("list").arg(i);
    }
    p.cmd("SET").arg("k0").arg("changed");
    let _: () = p.query(&mut c).unwrap();
    assert_eq!(field(&info(&mut c), "aof_rewrite_in_progress"), "1", "{:?}", t.elapsed());
    let before: String = q(&mut c, &["DEBUG", "DIGEST"]);
    srv.kill();
    let m = std::fs::read_to_string(Path::new(&dir).join("appendonlydir/appendonly.aof.manifest")).unwrap();
    assert_eq!(
        m,
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n\
         file appendonly.aof.2.incr.aof seq 2 type i\n"
    );
    let srv = Server::start(&dir, &[], &[]);
    let mut c = srv.client().unwrap();
    assert_eq!(q::<String>(&mut c, &["DEBUG", "DIGEST"]), before);
    assert_eq!(q::<String>(&mut c, &["GET", "k0"]), "changed");
    assert_eq!(q::<i64>(&mut c, &["LLEN", "list"]), 100);
    // The next rewrite takes over: one base, one incr file.
    assert_eq!(q::<String>(&mut c, &["BGREWRITEAOF"]), "Background append only file rewriting started");
    wait_until("the rewrite", || field(&info(&mut c), "aof_rewrite_in_progress") == "0");
    let m = std::fs::read_to_string(Path::new(&dir).join("appendonlydir/appendonly.aof.manifest")).unwrap();
    assert_eq!(m, "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.3.incr.aof seq 3 type i\n");
    srv.kill();
    let srv = Server::start(&dir, &[], &[]);
    let mut c = srv.client().unwrap();
    assert_eq!(q::<String>(&mut c, &["DEBUG", "DIGEST"]), before);
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

/// An everysec fsync that takes 3 seconds: writes wait up to 2 seconds,
/// then go ahead (Redis's log line, `aof_delayed_fsync`); every
/// acknowledged write is in the file.
#[test]
fn slow_everysec_fsync_delays_writes_and_loses_none() {
    let dir = fresh_dir();
    let log = Path::new(&dir).join("server.log");
    let srv = Server::start(
        &dir,
        &["--appendfsync", "everysec", "--logfile", log.to_str().unwrap()],
        &[("FERROKV_TEST_AOF_FSYNC_DELAY_MS", "3000")],
    );
    let mut c = srv.client().unwrap();
    let start = Instant::now();
    let mut n = 0;
    let mut pending_seen = false;
    while start.elapsed() < Duration::from_secs(6) {
        let _: () = q(&mut c, &["SET", &format!("k{n}"), "v"]);
        n += 1;
        if n % 50 == 0 {
            pending_seen |= field(&info(&mut c), "aof_pending_bio_fsync") == "1";
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(pending_seen);
    let delayed: u64 = field(&info(&mut c), "aof_delayed_fsync").parse().unwrap();
    assert!(delayed >= 1, "{delayed}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis."),
        "{text}"
    );
    // Waiting writes are written within 2 seconds: then a kill loses none.
    wait_until("the buffer written", || field(&info(&mut c), "aof_buffer_length") == "0");
    srv.kill();
    let srv = Server::start(&dir, &[], &[]);
    let mut c = srv.client().unwrap();
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), n);
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `appendfsync always` with a disk that takes 1.5 seconds per fsync: a
/// SET is acknowledged only after its fsync, while another client's reads
/// (and a write that changes nothing, so propagates nothing) are answered
/// at once, not behind that fsync (Redis fsyncs on its only thread, so
/// there every reply waits for it).
#[test]
fn always_holds_writers_not_readers() {
    let dir = fresh_dir();
    let srv = Server::start(&dir, &["--appendfsync", "always"], &[("FERROKV_TEST_AOF_FSYNC_DELAY_MS", "1500")]);
    let mut r = srv.client().unwrap();
    let _: () = q(&mut r, &["SET", "k", "old"]);
    let mut w = srv.client().unwrap();
    let writer = std::thread::spawn(move || {
        let start = Instant::now();
        let _: () = q(&mut w, &["SET", "n", "1"]);
        start.elapsed()
    });
    // The SET reaches the server and its fsync starts.
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    for _ in 0..20 {
        assert_eq!(q::<String>(&mut r, &["GET", "k"]), "old");
        assert_eq!(q::<String>(&mut r, &["PING"]), "PONG");
        assert_eq!(q::<i64>(&mut r, &["DEL", "missing"]), 0);
    }
    let reads = start.elapsed();
    let write = writer.join().unwrap();
    assert!(write >= Duration::from_millis(1400), "the SET was acknowledged before its fsync: {write:?}");
    assert!(reads < Duration::from_millis(700), "reads waited for the fsync: {reads:?}");
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `no-appendfsync-on-rewrite yes`: while a rewrite runs no fsync is
/// started, so the slow disk holds nothing back (no fsync pending, no
/// delayed write); after it, fsyncs come back.
#[test]
fn no_appendfsync_on_rewrite_skips_fsyncs_during_a_rewrite() {
    let dir = fresh_dir();
    let srv = Server::start(
        &dir,
        &["--appendfsync", "everysec", "--no-appendfsync-on-rewrite", "yes", "--rdb-key-save-delay", "20000"],
        &[("FERROKV_TEST_AOF_FSYNC_DELAY_MS", "3000")],
    );
    let mut c = srv.client().unwrap();
    let mut p = redis::pipe();
    for i in 0..200 {
        p.cmd("SET").arg(format!("k{i}")).arg("v");
    }
    let _: () = p.query(&mut c).unwrap();
    // The first fsync (of the writes above) may still run: wait for it.
    wait_until("no fsync pending", || field(&info(&mut c), "aof_pending_bio_fsync") == "0");
    assert_eq!(q::<String>(&mut c, &["BGREWRITEAOF"]), "Background append only file rewriting started");
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < Duration::from_secs(3) {
        let _: () = q(&mut c, &["SET", &format!("n{n}"), "v"]);
        n += 1;
        let i = info(&mut c);
        assert_eq!(field(&i, "aof_rewrite_in_progress"), "1");
        assert_eq!(field(&i, "aof_pending_bio_fsync"), "0");
    }
    assert_eq!(field(&info(&mut c), "aof_delayed_fsync"), "0");
    let _: () = q(&mut c, &["CONFIG", "SET", "no-appendfsync-on-rewrite", "no"]);
    wait_until("an fsync again", || {
        let _: () = q(&mut c, &["SET", "x", "1"]);
        field(&info(&mut c), "aof_pending_bio_fsync") == "1"
    });
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A tmpfs mounted for the test, unmounted when dropped.
struct Mount(String);

impl Mount {
    fn tmpfs(size: &str) -> Option<Mount> {
        let dir = fresh_dir();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs", &dir])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Mount(dir))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Fills the file system of `path` with a file there.
fn fill(path: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    let block = vec![0u8; 4096];
    while f.write_all(&block).is_ok() {}
    let _ = f.sync_all();
}

/// `appendfsync always` on a full disk: the write waits (its reply with
/// it), other writes and PING get Redis's MISCONF, reads go on; once space
/// is back the server recovers by itself and the held write is
/// acknowledged, and on disk.
#[test]
fn full_disk_with_always_refuses_writes_then_recovers() {
    let Some(mount) = Mount::tmpfs("512k") else {
        eprintln!("cannot mount a tmpfs here: skipped");
        return;
    };
    let dir = format!("{}/data", mount.0);
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.clone();
    let srv = server_with(move |c| {
        c.dir = d;
        c.appendonly = true;
        c.appendfsync = "always";
    });
    let mut c = srv.client();
    wait_until("the load", || field(&info(&mut c), "loading") == "0");
    let _: () = q(&mut c, &["SET", "a", "1"]);
    let filler = Path::new(&mount.0).join("filler");
    fill(&filler);
    // This write cannot reach the disk: no reply yet.
    let mut held = srv.raw();
    held.0.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let value = "x".repeat(8192);
    held.send(format!("*3\r\n$3\r\nSET\r\n$4\r\nheld\r\n$8192\r\n{value}\r\n").as_bytes());
    let mut byte = [0u8; 1];
    assert!(std::io::Read::read(&mut held.0, &mut byte).is_err(), "a reply came before the write was on disk");
    let misconf = "MISCONF Errors writing to the AOF file: No space left on device";
    assert_eq!(common::err(&mut c, &["SET", "b", "1"]), misconf);
    assert_eq!(common::err(&mut c, &["PING"]), misconf);
    assert_eq!(q::<String>(&mut c, &["GET", "a"]), "1");
    assert_eq!(field(&info(&mut c), "aof_last_write_status"), "err");
    std::fs::remove_file(&filler).unwrap();
    held.0.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    held.expect(b"+OK\r\n");
    wait_until("the recovery", || field(&info(&mut c), "aof_last_write_status") == "ok");
    let _: () = q(&mut c, &["SET", "b", "1"]);
    let mut srv = srv;
    srv.dir = fresh_dir();
    drop(srv);
    let d = dir.clone();
    let srv = server_with(move |c| {
        c.dir = d;
        c.appendonly = true;
    });
    let mut c = srv.client();
    wait_until("the load", || field(&info(&mut c), "loading") == "0");
    assert_eq!(q::<String>(&mut c, &["GET", "held"]), value);
    assert_eq!(q::<String>(&mut c, &["GET", "b"]), "1");
    drop(c);
    drop(srv);
    drop(mount);
}

/// Commands of an AOF that fail when replayed are skipped, each with
/// Redis's "== CRITICAL ==" log line (its text as Redis shows it: a plain
/// ERR message bare, any other code kept), and the load goes on. Inside
/// MULTI the loader queues every command unchecked, as Redis's does: EXEC
/// runs the good ones, and each failure (a wrong arity, a nested MULTI)
/// is logged naming the EXEC, as redis-server 7.0.15 logs them.
#[test]
fn failing_commands_in_an_aof_are_logged_as_redis_logs_them() {
    let dir = fresh_dir();
    let mut aof = Vec::new();
    for argv in [
        &["SET", "k", "v"][..],
        &["LPUSH", "k", "x"],
        &["INCR", "k"],
        &["EXEC"],
        &["SET", "j", "w"],
        &["MULTI"],
        &["INCR", "k"],
        &["HSET", "h", "f"],
        &["MULTI"],
        &["SET", "t", "in-tx"],
        &["EXEC"],
    ] {
        aof.extend_from_slice(format!("*{}\r\n", argv.len()).as_bytes());
        for a in argv {
            aof.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
    }
    // A single-file AOF, as Redis 6 wrote it (moved into the directory).
    std::fs::write(Path::new(&dir).join("appendonly.aof"), &aof).unwrap();
    let log = Path::new(&dir).join("server.log");
    let srv = Server::start(&dir, &["--logfile", log.to_str().unwrap()], &[]);
    let mut c = srv.client().unwrap();
    assert_eq!(q::<Vec<String>>(&mut c, &["MGET", "k", "j", "t"]), ["v", "w", "in-tx"]);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "h"]), 0);
    let text = std::fs::read_to_string(&log).unwrap();
    let critical: Vec<&str> =
        text.lines().filter_map(|l| l.split_once("# == CRITICAL == ").map(|(_, rest)| rest)).collect();
    let said = |err: &str, cmd: &str| {
        format!(
            "This server is sending an error to its AOF-loading-client: '{err}' after processing the command '{cmd}'"
        )
    };
    assert_eq!(
        critical,
        [
            said("-WRONGTYPE Operation against a key holding the wrong kind of value", "lpush"),
            said("value is not an integer or out of range", "incr"),
            said("EXEC without MULTI", "exec"),
            said("value is not an integer or out of range", "exec"),
            said("wrong number of arguments for 'hset' command", "exec"),
            said("MULTI calls can not be nested", "exec"),
        ],
        "{text}"
    );
    srv.kill();
    let _ = std::fs::remove_dir_all(&dir);
}
