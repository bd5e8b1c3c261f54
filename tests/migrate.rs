//! MIGRATE: argument errors, key extraction and connection failures (no
//! other server needed), then transfers to a real redis-server (skipped,
//! passing, when redis-server is not installed; CI installs it): every type
//! and encoding with TTLs, COPY, REPLACE, KEYS, NOKEY, destination
//! databases, the target's errors passed through, AUTH/AUTH2, the cached
//! connection (reused, SELECT only on change, closed after 10 s unused,
//! replaced when the target dropped it), the stall of a target that never
//! answers, and the deletion's signals (del events, WATCH, dirty counter).
//! Error texts are checked against redis-server as a source too: the same
//! scenario from both must give the same replies.

mod common;

use common::{q, server, server_with};
use redis::Value;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The reply as text: a status, or `CODE detail` for an error.
fn run(c: &mut redis::Connection, args: &[&str]) -> String {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    match cmd.query::<Value>(c) {
        Ok(Value::Okay) => "OK".into(),
        Ok(Value::SimpleString(s)) => s,
        Ok(other) => format!("{other:?}"),
        Err(e) => format!("{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or("")),
    }
}

fn info_field(c: &mut redis::Connection, section: &str, field: &str) -> Option<String> {
    let text: String = q(c, &["INFO", section]);
    text.lines().find_map(|l| l.strip_prefix(&format!("{field}:"))).map(|v| v.trim().to_string())
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn redis_installed() -> bool {
    Command::new("redis-server").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// A redis-server of our own on a free port, stopped (by its pid) when
/// dropped.
struct Redis {
    child: Child,
    port: u16,
    password: Option<String>,
}

impl Redis {
    fn start(password: Option<&str>) -> Redis {
        let port = closed_port();
        let mut args: Vec<String> =
            ["--port", &port.to_string(), "--save", "", "--appendonly", "no", "--enable-debug-command", "yes"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        // A directory of its own: no dump.rdb to load from anywhere else.
        let dir = std::env::temp_dir().join(format!("ferrokv-migrate-redis-{port}"));
        std::fs::create_dir_all(&dir).unwrap();
        args.extend(["--dir".into(), dir.to_string_lossy().into_owned()]);
        if let Some(p) = password {
            args.extend(["--requirepass".into(), p.into()]);
        }
        let child = Command::new("redis-server").args(&args).stdout(Stdio::null()).spawn().unwrap();
        let r = Redis { child, port, password: password.map(String::from) };
        let start = Instant::now();
        while r.try_client().is_none() {
            assert!(start.elapsed() < Duration::from_secs(10), "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        r
    }

    fn try_client(&self) -> Option<redis::Connection> {
        let auth = self.password.as_ref().map_or(String::new(), |p| format!(":{p}@"));
        let mut c =
            redis::Client::open(format!("redis://{auth}127.0.0.1:{}/", self.port)).ok()?.get_connection().ok()?;
        redis::cmd("PING").query::<String>(&mut c).ok()?;
        c.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        Some(c)
    }

    fn client(&self) -> redis::Connection {
        self.try_client().expect("redis-server answers")
    }

    fn port(&self) -> String {
        self.port.to_string()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A redis-server, or `None` (with a note) when it is not installed.
fn redis(password: Option<&str>) -> Option<Redis> {
    if !redis_installed() {
        eprintln!("redis-server not installed: MIGRATE to it not checked");
        return None;
    }
    Some(Redis::start(password))
}

/// The ids of the target's connections that MIGRATE made (their last
/// command is a RESTORE), from CLIENT LIST.
fn migrate_clients(target: &mut redis::Connection) -> Vec<String> {
    let list: String = q(target, &["CLIENT", "LIST"]);
    list.lines()
        .filter(|l| l.contains(" cmd=restore "))
        .filter_map(|l| l.split(' ').find_map(|f| f.strip_prefix("id=")).map(String::from))
        .collect()
}

fn calls(target: &mut redis::Connection, cmd: &str) -> u64 {
    info_field(target, "commandstats", &format!("cmdstat_{cmd}"))
        .and_then(|v| v.split(',').find_map(|f| f.strip_prefix("calls=").map(|n| n.parse().unwrap())))
        .unwrap_or(0)
}

#[test]
fn argument_errors_and_nokey_as_redis() {
    let s = server();
    let mut c = s.client();
    let p = closed_port().to_string();
    let m = |rest: &[&'static str]| {
        let mut v = vec!["MIGRATE", "127.0.0.1", p.as_str()];
        v.extend_from_slice(rest);
        v
    };
    let _: () = q(&mut c, &["SET", "k", "v"]);
    assert_eq!(run(&mut c, &["MIGRATE", "h", "1", "k", "0"]), "ERR wrong number of arguments for 'migrate' command");
    // Options are read before the numbers, and in order.
    assert_eq!(run(&mut c, &m(&["k", "x", "y", "foo"])), "ERR syntax error");
    assert_eq!(run(&mut c, &m(&["k", "0", "10", "copy", "nope"])), "ERR syntax error");
    assert_eq!(run(&mut c, &m(&["k", "0", "10", "auth"])), "ERR syntax error");
    assert_eq!(run(&mut c, &m(&["k", "0", "10", "auth2", "u"])), "ERR syntax error");
    let keys_err = "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string";
    assert_eq!(run(&mut c, &m(&["k", "0", "10", "keys", "a"])), keys_err);
    assert_eq!(run(&mut c, &m(&["k", "0", "10", "KEYS"])), keys_err);
    // Whatever follows KEYS is a key, not an option.
    assert_eq!(run(&mut c, &m(&["", "0", "10", "keys", "foo", "copy"])), "NOKEY");
    assert_eq!(run(&mut c, &m(&["k", "x", "10"])), "ERR value is not an integer or out of range");
    assert_eq!(run(&mut c, &m(&["k", "0", "1.5"])), "ERR value is not an integer or out of range");
    assert_eq!(run(&mut c, &m(&["k", "99999999999999999999", "10"])), "ERR value is not an integer or out of range");
    // No key here: nothing is sent, whatever the address.
    assert_eq!(run(&mut c, &m(&["nokey", "0", "10"])), "NOKEY");
    assert_eq!(run(&mut c, &m(&["", "0", "10", "keys", "a", "b"])), "NOKEY");
    assert_eq!(run(&mut c, &m(&["", "0", "10", "keys"])), "NOKEY");
    assert_eq!(run(&mut c, &m(&["", "0", "10", "AUTH2", "u", "p", "REPLACE", "COPY", "AUTH", "p"])), "NOKEY");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]), 1);
    let errs = info_field(&mut c, "errorstats", "errorstat_ERR").unwrap();
    assert!(errs.starts_with("count=10"), "{errs}");
}

#[test]
fn keys_and_flags_in_command_introspection() {
    let s = server();
    let mut c = s.client();
    let keys = |c: &mut redis::Connection, rest: &[&str]| {
        let mut v = vec!["COMMAND", "GETKEYS", "MIGRATE", "h", "p"];
        v.extend_from_slice(rest);
        run_keys(c, &v)
    };
    // As redis-server 7.0.15 answers.
    assert_eq!(keys(&mut c, &["k", "0", "10"]), ["k"]);
    assert_eq!(keys(&mut c, &["", "0", "10", "COPY", "KEYS", "a", "b"]), ["a", "b"]);
    assert_eq!(keys(&mut c, &["", "0", "10", "AUTH", "keys", "x"]), [""]);
    assert_eq!(keys(&mut c, &["", "0", "10", "AUTH2", "u", "p", "KEYS", "c"]), ["c"]);
    assert_eq!(keys(&mut c, &["", "0", "10", "keys"]), [""]);
    assert_eq!(
        run(&mut c, &["COMMAND", "GETKEYS", "MIGRATE", "h", "p", "k", "0", "10", "KEYS", "a"]),
        "ERR Invalid arguments specified for command"
    );
    assert_eq!(
        run(&mut c, &["COMMAND", "GETKEYS", "MIGRATE", "h", "p", "k", "0"]),
        "ERR Invalid number of arguments specified for command"
    );
    let info: Vec<Value> = q(&mut c, &["COMMAND", "INFO", "migrate"]);
    let Value::Array(row) = &info[0] else { panic!("{info:?}") };
    assert_eq!(row[1], Value::Int(-6));
    let flags: Vec<String> = redis::from_redis_value(row[2].clone()).unwrap();
    assert_eq!(flags, ["write", "movablekeys"]);
    let pos: Vec<i64> = row[3..6].iter().map(|v| redis::from_redis_value(v.clone()).unwrap()).collect();
    assert_eq!(pos, [3, 3, 1]);
    let docs: Vec<Value> = q(&mut c, &["COMMAND", "DOCS", "migrate"]);
    let text = format!("{docs:?}");
    assert!(text.contains("generic") && text.contains("2.6.0"), "{text}");
}

fn run_keys(c: &mut redis::Connection, args: &[&str]) -> Vec<String> {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

#[test]
fn passwords_are_redacted_in_slowlog_and_monitor() {
    let s = server_with(|c| c.slowlog_log_slower_than = 0);
    let mut mon = s.raw();
    mon.roundtrip(b"MONITOR\r\n", b"+OK\r\n");
    let mut c = s.client();
    assert_eq!(
        run(&mut c, &["MIGRATE", "h", "1", "k", "0", "10", "AUTH2", "user", "pw", "COPY", "AUTH", "pw2"]),
        "NOKEY"
    );
    let log: Vec<Value> = q(&mut c, &["SLOWLOG", "GET", "1"]);
    let text = format!("{log:?}");
    assert!(text.contains("(redacted)") && !text.contains("pw") && !text.contains("user"), "{text}");
    // The client's own connection setup comes first.
    let line = loop {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while !line.ends_with(b"\r\n") {
            std::io::Read::read_exact(&mut mon.0, &mut byte).unwrap();
            line.push(byte[0]);
        }
        let line = String::from_utf8(line).unwrap();
        if line.contains("MIGRATE") {
            break line;
        }
    };
    assert!(
        line.ends_with(
            "\"MIGRATE\" \"h\" \"1\" \"k\" \"0\" \"10\" \"AUTH2\" \"(redacted)\" \"(redacted)\" \"COPY\" \"AUTH\" \"(redacted)\"\r\n"
        ),
        "{line}"
    );
}

#[test]
fn connection_failures_are_ioerr() {
    let s = server();
    let mut c = s.client();
    let _: () = q(&mut c, &["SET", "k", "v"]);
    // A name that does not resolve, a negative port: no connection starts.
    let connecting = "IOERR error or timeout connecting to the client";
    assert_eq!(run(&mut c, &["MIGRATE", "", "6379", "k", "0", "1000"]), connecting);
    assert_eq!(run(&mut c, &["MIGRATE", "127.0.0.1", "-1", "k", "0", "1000"]), connecting);
    // A closed port: as in Redis 7.0 the connect is not checked, the
    // first write fails (and is retried once).
    let p = closed_port().to_string();
    assert_eq!(
        run(&mut c, &["MIGRATE", "127.0.0.1", &p, "k", "0", "1000"]),
        "IOERR error or timeout writing to target instance"
    );
    assert_eq!(
        run(&mut c, &["MIGRATE", "127.0.0.1", "abc", "k", "0", "1000"]),
        "IOERR error or timeout writing to target instance"
    );
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "v");
    let errs = info_field(&mut c, "errorstats", "errorstat_IOERR").unwrap();
    assert!(errs.starts_with("count=4"), "{errs}");
}

/// A target that accepts and never answers: the reply waits for the
/// timeout, and so does every other client, since MIGRATE is synchronous
/// in the event loop as in Redis (the stall is bounded by the timeout).
#[test]
fn a_silent_target_times_out_and_stalls_the_loop_until_then() {
    let s = server();
    let mut c = s.client();
    let _: () = q(&mut c, &["SET", "k", "v"]);
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let holder = std::thread::spawn(move || {
        let (conn, _) = silent.accept().unwrap();
        std::thread::sleep(Duration::from_secs(3));
        drop(conn);
    });
    let start = Instant::now();
    let migrating = std::thread::spawn(move || {
        let r = run(&mut c, &["MIGRATE", "127.0.0.1", &port, "k", "0", "800"]);
        (r, start.elapsed(), c)
    });
    std::thread::sleep(Duration::from_millis(150));
    let mut other = s.client();
    assert_eq!(q::<String>(&mut other, &["PING"]), "PONG");
    let pong_at = start.elapsed();
    let (reply, took, mut c) = migrating.join().unwrap();
    assert_eq!(reply, "IOERR error or timeout reading to target instance");
    assert!(took >= Duration::from_millis(800) && took < Duration::from_millis(2500), "{took:?}");
    assert!(pong_at >= Duration::from_millis(750), "PING answered at {pong_at:?}, during the MIGRATE");
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "v");
    holder.join().unwrap();
}

/// Keys of every type and encoding, with the encodings Redis gives them.
fn load_dataset(c: &mut redis::Connection) -> Vec<String> {
    common::load_every_encoding(c, 3000, false)
}

/// Each key's value digest, encoding and TTL.
fn describe(c: &mut redis::Connection, keys: &[String]) -> Vec<(Vec<String>, String, i64)> {
    keys.iter()
        .map(|k| {
            let d: Vec<String> = q(c, &["DEBUG", "DIGEST-VALUE", k]);
            let e: String = q(c, &["OBJECT", "ENCODING", k]);
            let t: i64 = q(c, &["PTTL", k]);
            (d, e, t)
        })
        .collect()
}

#[test]
fn every_type_and_encoding_moves_with_its_ttl() {
    let Some(r) = redis(None) else { return };
    let s = server_with(|c| c.enable_debug_command = "yes".into());
    let mut c = s.client();
    let keys = load_dataset(&mut c);
    let before = describe(&mut c, &keys);
    let port = r.port();
    let mut args = vec!["MIGRATE", "127.0.0.1", &port, "", "0", "5000", "KEYS"];
    args.extend(keys.iter().map(|k| k.as_str()));
    args.push("missing");
    assert_eq!(run(&mut c, &args), "OK");
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
    let mut t = r.client();
    let after = describe(&mut t, &keys);
    for ((k, b), a) in keys.iter().zip(&before).zip(&after) {
        assert_eq!((&b.0, &b.1), (&a.0, &a.1), "{k}: value digest and encoding");
        if b.2 < 0 {
            assert_eq!(a.2, -1, "{k} has no TTL");
        } else {
            assert!(a.2 > b.2 - 5000 && a.2 <= b.2, "{k}: TTL {} then {}", b.2, a.2);
        }
    }
}

#[test]
fn copy_replace_keys_nokey_and_destination_db() {
    let Some(r) = redis(None) else { return };
    let s = server();
    let mut c = s.client();
    let mut t = r.client();
    let port = r.port();
    let m = |c: &mut redis::Connection, rest: &[&str]| {
        let mut v = vec!["MIGRATE", "127.0.0.1", port.as_str()];
        v.extend_from_slice(rest);
        run(c, &v)
    };
    let _: () = q(&mut c, &["MSET", "a", "1", "b", "2", "c", "3"]);
    // COPY keeps the source; the key lands in the database named.
    assert_eq!(m(&mut c, &["a", "5", "1000", "COPY"]), "OK");
    assert_eq!(q::<String>(&mut c, &["GET", "a"]), "1");
    let _: () = q(&mut t, &["SELECT", "5"]);
    assert_eq!(q::<String>(&mut t, &["GET", "a"]), "1");
    // Again without REPLACE: the target's error, and the key stays here.
    assert_eq!(
        m(&mut c, &["a", "5", "1000"]),
        "ERR Target instance replied with error: BUSYKEY Target key name already exists."
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "a"]), 1);
    let _: () = q(&mut c, &["SET", "a", "new"]);
    assert_eq!(m(&mut c, &["a", "5", "1000", "REPLACE"]), "OK");
    assert_eq!(q::<String>(&mut t, &["GET", "a"]), "new");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "a"]), 0);
    // KEYS: the missing ones are skipped, the others move together.
    assert_eq!(m(&mut c, &["", "5", "1000", "KEYS", "nope", "b", "a", "c"]), "OK");
    assert_eq!(q::<Vec<String>>(&mut t, &["MGET", "b", "c"]), ["2", "3"]);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
    assert_eq!(m(&mut c, &["", "5", "1000", "KEYS", "b", "c"]), "NOKEY");
    // Some keys taken, one refused: the error, the accepted ones deleted.
    let _: () = q(&mut c, &["MSET", "x", "1", "b", "9", "y", "2"]);
    assert_eq!(
        m(&mut c, &["", "5", "1000", "KEYS", "x", "b", "y"]),
        "ERR Target instance replied with error: BUSYKEY Target key name already exists."
    );
    assert_eq!(q::<Vec<Option<String>>>(&mut c, &["MGET", "x", "b", "y"]), [None, Some("9".into()), None]);
    assert_eq!(q::<Vec<String>>(&mut t, &["MGET", "x", "b", "y"]), ["1", "2", "2"]);
    // A database the target does not have: its SELECT error.
    assert_eq!(
        m(&mut c, &["b", "100", "1000"]),
        "ERR Target instance replied with error: ERR DB index is out of range"
    );
    assert_eq!(q::<String>(&mut c, &["GET", "b"]), "9");
}

/// The same scenarios from redis-server as the source must give the same
/// replies as from ferrokv.
#[test]
fn replies_equal_redis_servers_as_a_source() {
    let Some(target) = redis(Some("sekret")) else { return };
    let source = Redis::start(None);
    let s = server();
    let port = target.port();
    let scenario = |c: &mut redis::Connection, t: &mut redis::Connection| -> Vec<String> {
        let _: () = q(t, &["FLUSHALL"]);
        let m = |c: &mut redis::Connection, rest: &[&str]| {
            let mut v = vec!["MIGRATE", "127.0.0.1", port.as_str()];
            v.extend_from_slice(rest);
            run(c, &v)
        };
        let _: () = q(c, &["MSET", "k", "v", "j", "w"]);
        vec![
            m(c, &["k", "0", "1000"]),
            m(c, &["k", "0", "1000", "AUTH", "wrong"]),
            m(c, &["k", "0", "1000", "AUTH2", "default", "wrong"]),
            m(c, &["k", "0", "1000", "AUTH2", "nobody", "sekret"]),
            m(c, &["k", "0", "1000", "AUTH", "sekret", "COPY"]),
            // The connection stays authenticated.
            m(c, &["k", "0", "1000"]),
            m(c, &["k", "0", "1000", "REPLACE"]),
            m(c, &["", "3", "1000", "AUTH2", "default", "sekret", "KEYS", "j", "k"]),
            m(c, &["k", "3", "1000"]),
            m(c, &["nope", "3", "1000"]),
            m(c, &["k", "x", "1000"]),
            m(c, &["", "3", "1000", "AUTH", "sekret", "KEYS"]),
            m(c, &["j", "3", "1000", "KEYS", "j"]),
            m(c, &["j", "3", "1000", "AUTH"]),
            q::<String>(c, &["SET", "j", "w"]),
            m(c, &["j", "-1", "1000"]),
            format!("{:?}", q::<Vec<Option<String>>>(c, &["MGET", "k", "j"])),
        ]
    };
    let mut t = target.client();
    let theirs = scenario(&mut source.client(), &mut t);
    let ours = scenario(&mut s.client(), &mut t);
    assert_eq!(ours, theirs);
    assert!(
        theirs.iter().any(|r| r.contains("NOAUTH")) && theirs.iter().any(|r| r.contains("WRONGPASS")),
        "{theirs:?}"
    );
}

#[test]
fn the_connection_is_cached_selects_on_change_and_closes_when_idle() {
    let Some(r) = redis(None) else { return };
    let s = server();
    let mut c = s.client();
    let mut t = r.client();
    let port = r.port();
    let m = |c: &mut redis::Connection, rest: &[&str]| {
        let mut v = vec!["MIGRATE", "127.0.0.1", port.as_str()];
        v.extend_from_slice(rest);
        run(c, &v)
    };
    let _: () = q(&mut c, &["MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"]);
    assert_eq!(m(&mut c, &["a", "0", "1000"]), "OK");
    let first = migrate_clients(&mut t);
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(m(&mut c, &["b", "0", "1000"]), "OK");
    assert_eq!(migrate_clients(&mut t), first, "the same connection is reused");
    assert_eq!(calls(&mut t, "select"), 1, "SELECT once for database 0");
    assert_eq!(m(&mut c, &["c", "1", "1000"]), "OK");
    assert_eq!(m(&mut c, &["d", "1", "1000"]), "OK");
    assert_eq!(calls(&mut t, "select"), 2, "SELECT again only on the change");
    // After the target's error the database is selected again.
    let _: () = q(&mut t, &["SELECT", "1"]);
    let _: () = q(&mut t, &["SET", "e", "x"]);
    assert!(m(&mut c, &["e", "1", "1000"]).contains("BUSYKEY"));
    assert_eq!(m(&mut c, &["e", "1", "1000", "REPLACE"]), "OK");
    // (3 + 1: the SELECT above is counted too.)
    assert_eq!(calls(&mut t, "select"), 4, "SELECT after an error");
    assert_eq!(calls(&mut t, "restore"), 6);
    assert_eq!(migrate_clients(&mut t), first);
    // Another spelling of the address is another connection.
    let _: () = q(&mut c, &["SET", "f", "6"]);
    assert_eq!(run(&mut c, &["MIGRATE", "localhost", &port, "f", "1", "1000"]), "OK");
    assert_eq!(migrate_clients(&mut t).len(), 2);
    // Unused for more than 10 seconds, both are closed by the cron.
    let idle = Instant::now();
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(migrate_clients(&mut t).len(), 2);
    while !migrate_clients(&mut t).is_empty() {
        assert!(idle.elapsed() < Duration::from_secs(16), "still open: {:?}", migrate_clients(&mut t));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(idle.elapsed() >= Duration::from_secs(10), "closed after {:?}", idle.elapsed());
}

#[test]
fn a_connection_the_target_dropped_is_replaced() {
    let Some(r) = redis(None) else { return };
    let s = server();
    let mut c = s.client();
    let mut t = r.client();
    let port = r.port();
    let _: () = q(&mut c, &["MSET", "a", "1", "b", "2"]);
    assert_eq!(run(&mut c, &["MIGRATE", "127.0.0.1", &port, "a", "0", "1000"]), "OK");
    let first = migrate_clients(&mut t);
    assert_eq!(q::<i64>(&mut t, &["CLIENT", "KILL", "ID", &first[0]]), 1);
    // The write to the dead connection goes through, its reply never
    // comes: retried once on a new connection (SELECT included).
    assert_eq!(run(&mut c, &["MIGRATE", "127.0.0.1", &port, "b", "0", "1000"]), "OK");
    let second = migrate_clients(&mut t);
    assert_eq!(second.len(), 1);
    assert_ne!(second[0], first[0]);
    assert_eq!(q::<Vec<String>>(&mut t, &["MGET", "a", "b"]), ["1", "2"]);
    assert_eq!(calls(&mut t, "select"), 2);
}

#[test]
fn deletion_signals_events_watch_and_the_dirty_counter() {
    let Some(r) = redis(None) else { return };
    let s = server();
    let port = r.port();
    let mut c = s.client();
    let _: () = q(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "Eg"]);
    let mut sub = s.client();
    let mut ps = sub.as_pubsub();
    ps.subscribe("__keyevent@0__:del").unwrap();
    ps.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _: () = q(&mut c, &["MSET", "a", "1", "b", "2", "c", "3", "w", "0"]);
    // A transaction watching a copied key still runs; one watching a
    // moved key fails.
    let mut watcher = s.client();
    let _: () = q(&mut watcher, &["WATCH", "a"]);
    assert_eq!(run(&mut c, &["MIGRATE", "127.0.0.1", &port, "a", "0", "1000", "COPY"]), "OK");
    let _: () = q(&mut watcher, &["MULTI"]);
    let _: String = q(&mut watcher, &["SET", "w", "1"]);
    assert_eq!(q::<Value>(&mut watcher, &["EXEC"]), Value::Array(vec![Value::Okay]));
    let _: () = q(&mut watcher, &["WATCH", "a"]);
    let dirty = |c: &mut redis::Connection| -> u64 {
        info_field(c, "persistence", "rdb_changes_since_last_save").unwrap().parse().unwrap()
    };
    let before = dirty(&mut c);
    assert_eq!(
        run(&mut c, &["MIGRATE", "127.0.0.1", &port, "", "0", "1000", "REPLACE", "KEYS", "a", "nope", "b", "c"]),
        "OK"
    );
    assert_eq!(dirty(&mut c), before + 3, "one change per key deleted, as Redis counts");
    let _: () = q(&mut watcher, &["MULTI"]);
    let _: String = q(&mut watcher, &["SET", "w", "2"]);
    assert_eq!(q::<Value>(&mut watcher, &["EXEC"]), Value::Nil);
    let got: Vec<String> = (0..3).map(|_| ps.get_message().unwrap().get_payload().unwrap()).collect();
    assert_eq!(got, ["a", "b", "c"]);
    // In a transaction too.
    let _: () = q(&mut c, &["SET", "d", "4"]);
    let _: () = q(&mut c, &["MULTI"]);
    assert_eq!(run(&mut c, &["MIGRATE", "127.0.0.1", &port, "d", "0", "1000"]), "QUEUED");
    assert_eq!(q::<Value>(&mut c, &["EXEC"]), Value::Array(vec![Value::Okay]));
    assert_eq!(ps.get_message().unwrap().get_payload::<String>().unwrap(), "d");
    assert_eq!(q::<i64>(&mut r.client(), &["DBSIZE"]), 4);
}

/// redis-server MIGRATEs into ferrokv (its RESTORE).
#[test]
fn redis_server_migrates_into_ferrokv() {
    let Some(r) = redis(None) else { return };
    let s = server_with(|c| c.enable_debug_command = "yes".into());
    let mut theirs = r.client();
    let keys = load_dataset(&mut theirs);
    let before = describe(&mut theirs, &keys);
    let port = s.handle.addr.port().to_string();
    let mut args: Vec<&str> = vec!["MIGRATE", "127.0.0.1", &port, "", "2", "5000", "KEYS"];
    args.extend(keys.iter().map(|k| k.as_str()));
    assert_eq!(run(&mut theirs, &args), "OK");
    assert_eq!(q::<i64>(&mut theirs, &["DBSIZE"]), 0);
    let mut c = s.client();
    let _: () = q(&mut c, &["SELECT", "2"]);
    let after = describe(&mut c, &keys);
    for ((k, b), a) in keys.iter().zip(&before).zip(&after) {
        assert_eq!((&b.0, &b.1), (&a.0, &a.1), "{k}");
        assert!(if b.2 < 0 { a.2 == -1 } else { a.2 > b.2 - 5000 && a.2 <= b.2 }, "{k}: TTL {} then {}", b.2, a.2);
    }
    // Again: BUSYKEY from ferrokv's RESTORE, passed through by Redis.
    let _: () = q(&mut theirs, &["SET", "int", "1"]);
    assert_eq!(
        run(&mut theirs, &["MIGRATE", "127.0.0.1", &port, "int", "2", "5000"]),
        "ERR Target instance replied with error: BUSYKEY Target key name already exists."
    );
}

/// At most 64 connections are cached: a 65th address closes one of them.
/// (Ports spelled with leading zeros are other cache entries for the same
/// target, as in Redis, whose cache is keyed by the text given.)
#[test]
fn at_most_64_connections_are_cached() {
    let Some(r) = redis(None) else { return };
    let s = server();
    let mut c = s.client();
    let mut t = r.client();
    for i in 0..65 {
        let port = format!("{}{}", "0".repeat(i), r.port());
        let _: () = q(&mut c, &["SET", "k", "v"]);
        assert_eq!(run(&mut c, &["MIGRATE", "127.0.0.1", &port, "k", "0", "1000", "REPLACE"]), "OK", "{port}");
        let open = migrate_clients(&mut t).len();
        let want = (i + 1).min(64);
        // The closed one may still be listed for a moment.
        let start = Instant::now();
        let mut open = open;
        while open != want && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
            open = migrate_clients(&mut t).len();
        }
        assert_eq!(open, want, "after {} addresses", i + 1);
    }
}
