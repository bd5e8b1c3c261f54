//! The append-only file: what is appended (Redis's propagated forms, read
//! from the incr file's bytes), the fsync policies, restarts, a truncated
//! tail, corruption, CONFIG SET appendonly yes at run time, and interop
//! with redis-server 7.0.15 and redis-check-aof when they are installed.

mod common;

use common::{fresh_dir, q, server_with};
use std::path::Path;
use std::time::{Duration, Instant};

fn on_dir(dir: &str, fsync: &'static str) -> common::TestServer {
    let dir = dir.to_string();
    server_with(move |c| {
        c.dir = dir;
        c.appendonly = true;
        c.appendfsync = fsync;
        c.enable_debug_command = "yes".into();
    })
}

/// Stops the server but keeps its directory.
fn stop_keep(srv: common::TestServer) {
    let mut srv = srv;
    srv.dir = fresh_dir();
}

fn incr(dir: &str) -> String {
    let d = Path::new(dir).join("appendonlydir");
    let m = std::fs::read_to_string(d.join("appendonly.aof.manifest")).unwrap();
    let name = m.lines().rev().find(|l| l.ends_with("type i")).unwrap().split(' ').nth(1).unwrap().to_string();
    String::from_utf8_lossy(&std::fs::read(d.join(name)).unwrap()).replace("\r\n", " ")
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(10), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn digest(c: &mut redis::Connection) -> String {
    q(c, &["DEBUG", "DIGEST"])
}

#[test]
fn appends_what_redis_propagates() {
    let dir = fresh_dir();
    let srv = on_dir(&dir, "always");
    let mut c = srv.client();
    let _: () = q(&mut c, &["SET", "a", "1"]);
    let _: () = q(&mut c, &["SET", "b", "1", "EX", "100"]);
    let _: i64 = q(&mut c, &["EXPIRE", "nokey", "10"]);
    let _: i64 = q(&mut c, &["DEL", "nokey"]);
    let _: i64 = q(&mut c, &["EXPIRE", "a", "-1"]);
    let _: String = q(&mut c, &["INCRBYFLOAT", "f", "1.5"]);
    let _: i64 = q(&mut c, &["SADD", "s", "x"]);
    let _: String = q(&mut c, &["SPOP", "s"]);
    let _: i64 = q(&mut c, &["RPUSH", "l", "1", "2"]);
    let _: Vec<String> = q(&mut c, &["BLPOP", "nol", "l", "0"]);
    let _: () = q(&mut c, &["SELECT", "2"]);
    let _: () = q(&mut c, &["SET", "z", "1"]);
    let text = incr(&dir);
    let at = text.find("PXAT $13 ").map(|i| &text[i + 9..i + 22]).unwrap().to_string();
    let want = format!(
        "*2 $6 SELECT $1 0 *3 $3 SET $1 a $1 1 *5 $3 SET $1 b $1 1 $4 PXAT $13 {at} *2 $3 DEL $1 a \
         *4 $3 SET $1 f $3 1.5 $7 KEEPTTL *3 $4 SADD $1 s $1 x *3 $4 SREM $1 s $1 x *4 $5 RPUSH $1 l $1 1 $1 2 \
         *2 $4 LPOP $1 l *2 $6 SELECT $1 2 *3 $3 SET $1 z $1 1 "
    );
    assert_eq!(text, want);
    let ms: u64 = at.parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    assert!(ms > now + 90_000 && ms <= now + 100_000);
}

#[test]
fn transactions_wrap_in_multi_exec() {
    let dir = fresh_dir();
    let srv = on_dir(&dir, "always");
    let mut c = srv.client();
    let _: () = redis::pipe().atomic().cmd("SET").arg("m").arg("1").query(&mut c).unwrap();
    let _: () = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("n")
        .arg("1")
        .cmd("GET")
        .arg("n")
        .cmd("INCR")
        .arg("n")
        .query(&mut c)
        .unwrap();
    let _: () = redis::pipe().atomic().cmd("GET").arg("n").query(&mut c).unwrap();
    assert_eq!(
        incr(&dir),
        "*2 $6 SELECT $1 0 *3 $3 SET $1 m $1 1 *1 $5 MULTI *3 $3 SET $1 n $1 1 *2 $4 INCR $1 n *1 $4 EXEC "
    );
}

fn round_trip(fsync: &'static str) {
    let dir = fresh_dir();
    let before;
    {
        let srv = on_dir(&dir, fsync);
        let mut c = srv.client();
        for i in 0..200 {
            let _: () = q(&mut c, &["SET", &format!("k{i}"), &i.to_string()]);
        }
        let _: i64 = q(&mut c, &["RPUSH", "l", "a", "b"]);
        let _: i64 = q(&mut c, &["HSET", "h", "f", "v"]);
        let _: i64 = q(&mut c, &["EXPIRE", "h", "1000"]);
        before = digest(&mut c);
        stop_keep(srv);
    }
    let srv = on_dir(&dir, fsync);
    let mut c = srv.client();
    assert_eq!(digest(&mut c), before);
    let ttl: i64 = q(&mut c, &["TTL", "h"]);
    assert!(ttl > 990 && ttl <= 1000);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn restart_round_trip_always() {
    round_trip("always");
}

#[test]
fn restart_round_trip_everysec() {
    round_trip("everysec");
}

#[test]
fn restart_round_trip_no() {
    round_trip("no");
}

fn incr_path(dir: &str) -> std::path::PathBuf {
    Path::new(dir).join("appendonlydir").join("appendonly.aof.1.incr.aof")
}

#[test]
fn truncated_tail_is_dropped_and_corruption_refused() {
    let dir = fresh_dir();
    {
        let srv = on_dir(&dir, "always");
        let mut c = srv.client();
        let _: () = q(&mut c, &["SET", "a", "1"]);
        let _: () = q(&mut c, &["SET", "b", "2"]);
        stop_keep(srv);
    }
    let path = incr_path(&dir);
    let whole = std::fs::read(&path).unwrap();
    // A power cut in the middle of the last command.
    std::fs::write(&path, &whole[..whole.len() - 5]).unwrap();
    {
        let srv = on_dir(&dir, "always");
        let mut c = srv.client();
        assert_eq!(q::<Option<String>>(&mut c, &["GET", "a"]).as_deref(), Some("1"));
        assert_eq!(q::<Option<String>>(&mut c, &["GET", "b"]), None);
        stop_keep(srv);
    }
    // Truncated again, with aof-load-truncated no: startup fails.
    let now = std::fs::read(&path).unwrap();
    std::fs::write(&path, [&now[..], b"*2\r\n$3\r\nDE"].concat()).unwrap();
    let d = dir.clone();
    let config = ferrokv::Config {
        port: 0,
        save: Vec::new(),
        dir: d,
        appendonly: true,
        aof_load_truncated: false,
        ..ferrokv::Config::default()
    };
    let e = ferrokv::start(config).err().expect("refused").to_string();
    assert!(e.contains("Unexpected end of file reading the append only file appendonly.aof.1.incr.aof"), "{e}");
    // Garbage in the middle: refused, naming the file, offset and the fix.
    std::fs::write(&path, [&now[..], b"+garbage\r\n", &now[..]].concat()).unwrap();
    let config =
        ferrokv::Config { port: 0, save: Vec::new(), dir: dir.clone(), appendonly: true, ..ferrokv::Config::default() };
    let e = ferrokv::start(config).err().expect("refused").to_string();
    assert!(e.contains("Bad file format reading the append only file appendonly.aof.1.incr.aof"), "{e}");
    assert!(e.contains(&format!("offset {}", now.len())), "{e}");
    assert!(e.contains("redis-check-aof --fix"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn config_set_appendonly_writes_a_base_first() {
    let dir = fresh_dir();
    let before;
    {
        let d = dir.clone();
        let srv = server_with(move |c| {
            c.dir = d;
            c.enable_debug_command = "yes".into();
        });
        let mut c = srv.client();
        for i in 0..100 {
            let _: () = q(&mut c, &["SET", &format!("k{i}"), "v"]);
        }
        let _: () = q(&mut c, &["CONFIG", "SET", "appendonly", "yes"]);
        let _: () = q(&mut c, &["SET", "after", "1"]);
        wait_until("the base", || {
            let info: String = q(&mut c, &["INFO", "persistence"]);
            info.contains("aof_rewrite_in_progress:0") && info.contains("aof_enabled:1")
        });
        let m = std::fs::read_to_string(Path::new(&dir).join("appendonlydir/appendonly.aof.manifest")).unwrap();
        assert_eq!(m, "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n");
        before = q::<String>(&mut c, &["DEBUG", "DIGEST"]);
        stop_keep(srv);
    }
    let srv = on_dir(&dir, "everysec");
    let mut c = srv.client();
    assert_eq!(digest(&mut c), before);
    assert_eq!(q::<String>(&mut c, &["GET", "after"]), "1");
}

fn have(tool: &str) -> bool {
    std::process::Command::new(tool).arg("--version").output().is_ok()
}

#[test]
fn redis_server_and_check_aof_accept_our_files() {
    if !have("redis-server") || !have("redis-check-aof") {
        eprintln!("redis-server or redis-check-aof not installed: skipped");
        return;
    }
    let dir = fresh_dir();
    let before;
    {
        let srv = on_dir(&dir, "everysec");
        let mut c = srv.client();
        let _: () = q(&mut c, &["SET", "s", "v"]);
        let _: i64 = q(&mut c, &["RPUSH", "l", "a", "b", "c"]);
        let _: i64 = q(&mut c, &["ZADD", "z", "1", "a", "2", "b"]);
        let _: i64 = q(&mut c, &["HSET", "h", "f", "v"]);
        let _: String = q(&mut c, &["INCRBYFLOAT", "fl", "2.5"]);
        before = digest(&mut c);
        stop_keep(srv);
    }
    let check = std::process::Command::new("redis-check-aof")
        .arg(Path::new(&dir).join("appendonlydir/appendonly.aof.manifest"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&check.stdout);
    assert!(out.contains("All AOF files and manifest are valid"), "{out}");
    // redis-server on our directory holds the same data.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--save", "", "--appendonly", "yes", "--dir", &dir])
        .args(["--enable-debug-command", "yes", "--logfile", ""])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
    let mut rc = None;
    for _ in 0..100 {
        if let Ok(c) = client.get_connection() {
            rc = Some(c);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut rc = rc.expect("redis-server up");
    wait_until("redis-server loading", || q::<String>(&mut rc, &["INFO", "persistence"]).contains("loading:0"));
    assert_eq!(digest(&mut rc), before);
    // redis-server appends; ferrokv loads its directory.
    let _: () = q(&mut rc, &["SET", "from-redis", "1"]);
    let theirs = digest(&mut rc);
    let _: () = redis::cmd("SHUTDOWN").arg("NOSAVE").query(&mut rc).unwrap_or(());
    let deadline = Instant::now() + Duration::from_secs(5);
    while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    let srv = on_dir(&dir, "everysec");
    let mut c = srv.client();
    assert_eq!(digest(&mut c), theirs);
}
