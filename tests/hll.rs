//! HyperLogLog commands through a real client: PFADD, PFCOUNT, PFMERGE,
//! PFDEBUG, PFSELFTEST.
//!
//! `replays_redis_7_0_15` replays tests/data/hll-7.0.15.txt, recorded from
//! redis-server 7.0.15 by tests/data/hll-record.py: every reply, and every
//! HLL string's bytes (GET), must equal Redis's, for sparse and dense HLLs,
//! several `hll-sparse-max-bytes`, corrupted values and every error. The
//! other tests check what the transcript cannot: keyspace events, WATCH,
//! the dirty counter and the AOF, each as observed on redis-server 7.0.15.

mod common;
use common::{err, fresh_dir, q, server, server_with};
use redis::Value;

const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const INVALID: &str = "INVALIDOBJ Corrupted HLL object detected";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

/// A reply the way tests/data/hll-record.py writes it.
fn render(v: &Value) -> String {
    match v {
        Value::Nil => "nil".into(),
        Value::Int(n) => format!(":{n}"),
        Value::BulkString(b) => format!("${}", hex(b)),
        Value::Array(a) => format!("*[{}]", a.iter().map(render).collect::<Vec<_>>().join(",")),
        Value::SimpleString(s) => format!("+{s}"),
        Value::Okay => "+OK".into(),
        other => format!("{other:?}"),
    }
}

fn run(c: &mut redis::Connection, args: &[Vec<u8>]) -> String {
    let mut cmd = redis::cmd(std::str::from_utf8(&args[0]).expect("command name"));
    for a in &args[1..] {
        cmd.arg(&a[..]);
    }
    match cmd.query::<Value>(c) {
        Ok(v) => render(&v),
        Err(e) => format!("-{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or("")),
    }
}

#[test]
fn replays_redis_7_0_15() {
    let s = server();
    let mut c = s.client();
    let text = include_str!("data/hll-7.0.15.txt");
    let mut n = 0;
    for line in text.lines() {
        let (args, want) = line.split_once('\t').expect("a recorded line");
        let args: Vec<Vec<u8>> = args.split(',').map(unhex).collect();
        let got = run(&mut c, &args);
        let shown: Vec<String> = args.iter().map(|a| String::from_utf8_lossy(&a[..a.len().min(40)]).into()).collect();
        assert!(got == want, "line {}: {shown:?}\n want {want:.300}\n  got {got:.300}", n + 1);
        n += 1;
    }
    assert_eq!(n, 653, "every recorded command is replayed");
}

#[test]
fn counts_and_errors() {
    let s = server();
    let mut c = s.client();
    assert_eq!(q::<i64>(&mut c, &["PFADD", "h", "a", "b", "c"]), 1);
    assert_eq!(q::<i64>(&mut c, &["PFADD", "h", "a"]), 0);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "h"]), 3);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "nokey"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "nokey"]), 0);
    assert_eq!(q::<String>(&mut c, &["PFMERGE", "m", "h", "nokey"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "m", "h"]), 3);
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "m"]), "raw");
    q::<()>(&mut c, &["SET", "s", "not an hll"]);
    q::<i64>(&mut c, &["RPUSH", "l", "x"]);
    for key in ["s", "l"] {
        let want =
            if key == "s" { NOT_HLL } else { "WRONGTYPE Operation against a key holding the wrong kind of value" };
        assert_eq!(err(&mut c, &["PFADD", key, "a"]), want);
        assert_eq!(err(&mut c, &["PFCOUNT", key]), want);
        assert_eq!(err(&mut c, &["PFCOUNT", "h", key]), want);
        assert_eq!(err(&mut c, &["PFMERGE", "h", key]), want);
        assert_eq!(err(&mut c, &["PFMERGE", key, "h"]), want);
        assert_eq!(err(&mut c, &["PFDEBUG", "GETREG", key]), want);
    }
    // A sparse HLL whose opcodes cover too few registers.
    let mut bad = b"HYLL\x01".to_vec();
    bad.extend_from_slice(&[0; 10]);
    bad.push(0x80);
    bad.extend_from_slice(&[0x7f, 0xfe]);
    let _: () = redis::cmd("SET").arg("bad").arg(&bad).query(&mut c).unwrap();
    assert_eq!(err(&mut c, &["PFCOUNT", "bad"]), INVALID);
    assert_eq!(err(&mut c, &["PFCOUNT", "bad", "h"]), INVALID);
    assert_eq!(err(&mut c, &["PFMERGE", "m", "bad"]), INVALID);
    assert_eq!(err(&mut c, &["PFDEBUG", "TODENSE", "bad"]), INVALID);
    assert_eq!(err(&mut c, &["PFDEBUG", "GETREG", "bad"]), INVALID);
    assert_eq!(q::<String>(&mut c, &["PFDEBUG", "DECODE", "bad"]), "Z:16383");
    assert_eq!(err(&mut c, &["PFDEBUG", "GETREG", "nokey"]), "ERR The specified key does not exist");
    assert_eq!(err(&mut c, &["PFDEBUG", "what", "h"]), "ERR Unknown PFDEBUG subcommand 'what'");
    assert_eq!(q::<i64>(&mut c, &["PFDEBUG", "TODENSE", "h"]), 1);
    assert_eq!(err(&mut c, &["PFDEBUG", "DECODE", "h"]), "ERR HLL encoding is not sparse");
    assert_eq!(err(&mut c, &["PFDEBUG", "GETREG"]), "ERR wrong number of arguments for 'pfdebug' command");
}

#[test]
fn sparse_limit_is_configurable() {
    let s = server_with(|c| c.hll_sparse_max_bytes = 40);
    let mut c = s.client();
    let enc = |c: &mut redis::Connection| q::<String>(c, &["PFDEBUG", "ENCODING", "h"]);
    q::<i64>(&mut c, &["PFADD", "h", "a", "b", "c"]);
    assert_eq!(enc(&mut c), "sparse");
    q::<i64>(&mut c, &["PFADD", "h", "d", "e", "f", "g", "h", "i", "j", "k"]);
    assert_eq!(enc(&mut c), "dense");
    q::<()>(&mut c, &["CONFIG", "SET", "hll-sparse-max-bytes", "3000"]);
    assert_eq!(q::<Vec<String>>(&mut c, &["CONFIG", "GET", "hll-sparse-max-bytes"])[1], "3000");
    q::<i64>(&mut c, &["PFADD", "h2", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"]);
    assert_eq!(q::<String>(&mut c, &["PFDEBUG", "ENCODING", "h2"]), "sparse");
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "h"]), q::<i64>(&mut c, &["PFCOUNT", "h2"]));
}

#[test]
fn selftest_passes() {
    let s = server();
    // Ten million additions: no read timeout (a debug build takes a while).
    let mut c = redis::Client::open(s.url()).unwrap().get_connection().unwrap();
    assert_eq!(q::<String>(&mut c, &["PFSELFTEST"]), "OK");
}

/// What each command tells WATCH, as on redis-server 7.0.15: a PFCOUNT
/// that rewrites its cache counts as a modification; PFDEBUG TODENSE, a
/// PFCOUNT from the cache and a PFADD that raises nothing do not.
#[test]
fn watch_sees_what_redis_signals() {
    let s = server();
    let mut a = s.client();
    let mut b = s.client();
    let cases: &[(&[&str], &[&str], bool)] = &[
        (&["PFADD", "w", "x"], &["PFDEBUG", "TODENSE", "w"], true),
        (&["PFADD", "w", "x"], &["PFCOUNT", "w"], false),
        (&["PFCOUNT", "w"], &["PFCOUNT", "w"], true),
        (&["PFADD", "w", "x"], &["PFADD", "w", "x"], true),
        (&["PFADD", "w", "x"], &["PFADD", "w", "y"], false),
        (&["PFADD", "w", "x"], &["PFMERGE", "w"], false),
    ];
    for (setup, cmd, runs) in cases {
        q::<i64>(&mut a, &["DEL", "w"]);
        q::<Value>(&mut a, setup);
        q::<()>(&mut a, &["WATCH", "w"]);
        q::<Value>(&mut b, cmd);
        q::<()>(&mut a, &["MULTI"]);
        q::<Value>(&mut a, &["PING"]);
        let exec: Value = q(&mut a, &["EXEC"]);
        assert_eq!(exec != Value::Nil, *runs, "{cmd:?} after {setup:?}");
    }
}

/// `rdb_changes_since_last_save` after each command, as redis-server
/// 7.0.15 counts: one per raised register (and one for a created key),
/// one for a PFCOUNT that rewrites its cache, for a PFMERGE, and for a
/// PFDEBUG conversion.
#[test]
fn dirty_counter_like_redis() {
    let s = server();
    let mut c = s.client();
    let dirty = |c: &mut redis::Connection| -> i64 {
        let info: String = q(c, &["INFO", "persistence"]);
        info.lines().find_map(|l| l.strip_prefix("rdb_changes_since_last_save:")).unwrap().trim().parse().unwrap()
    };
    let base = dirty(&mut c);
    let steps: &[(&[&str], i64)] = &[
        (&["PFADD", "h", "a", "b", "c", "d", "e"], 6),
        (&["PFADD", "h", "a"], 0),
        (&["PFCOUNT", "h"], 1),
        (&["PFCOUNT", "h"], 0),
        (&["PFCOUNT", "h", "h"], 0),
        (&["PFMERGE", "h"], 1),
        (&["PFDEBUG", "TODENSE", "h"], 1),
        (&["PFDEBUG", "GETREG", "h"], 0),
        (&["PFADD", "n"], 1),
    ];
    let mut want = base;
    for (cmd, n) in steps {
        q::<Value>(&mut c, cmd);
        want += n;
        assert_eq!(dirty(&mut c), want, "{cmd:?}");
    }
}

#[test]
fn keyspace_events_like_redis() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    let mut sub = s.raw();
    sub.send(b"PSUBSCRIBE __keyevent@0__:*\r\n");
    sub.expect(b"*3\r\n$10\r\npsubscribe\r\n$16\r\n__keyevent@0__:*\r\n:1\r\n");
    q::<i64>(&mut c, &["PFADD", "h", "a"]);
    q::<i64>(&mut c, &["PFADD", "h", "a"]); // nothing raised: no event
    q::<i64>(&mut c, &["PFCOUNT", "h"]); // the cache: no event
    q::<String>(&mut c, &["PFMERGE", "h"]);
    q::<i64>(&mut c, &["PFDEBUG", "TODENSE", "h"]);
    q::<()>(&mut c, &["SET", "end", "1"]);
    let msg = |event: &str, key: &str| {
        let ch = format!("__keyevent@0__:{event}");
        format!(
            "*4\r\n$8\r\npmessage\r\n$16\r\n__keyevent@0__:*\r\n${}\r\n{ch}\r\n${}\r\n{key}\r\n",
            ch.len(),
            key.len()
        )
    };
    let want = [msg("pfadd", "h"), msg("pfadd", "h"), msg("set", "end")].concat();
    sub.expect(want.as_bytes());
}

/// The AOF gets PFADD and PFMERGE as called, and PFCOUNT when it rewrote
/// its cache (as redis-server 7.0.15 writes it); PFDEBUG TODENSE too.
#[test]
fn aof_gets_what_redis_propagates() {
    let dir = fresh_dir();
    let d = dir.clone();
    let srv = server_with(move |c| {
        c.dir = d;
        c.appendonly = true;
        c.appendfsync = "always";
    });
    let mut c = srv.client();
    q::<i64>(&mut c, &["PFADD", "h", "a", "b"]);
    q::<i64>(&mut c, &["PFADD", "h", "a"]);
    q::<i64>(&mut c, &["PFCOUNT", "h"]);
    q::<i64>(&mut c, &["PFCOUNT", "h"]);
    q::<i64>(&mut c, &["PFCOUNT", "h", "h"]);
    q::<String>(&mut c, &["PFMERGE", "m", "h"]);
    q::<i64>(&mut c, &["PFDEBUG", "TODENSE", "h"]);
    q::<i64>(&mut c, &["PFDEBUG", "TODENSE", "h"]);
    let path = std::path::Path::new(&dir).join("appendonlydir/appendonly.aof.1.incr.aof");
    let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).replace("\r\n", " ");
    assert_eq!(
        text,
        "*2 $6 SELECT $1 0 *4 $5 PFADD $1 h $1 a $1 b *2 $7 PFCOUNT $1 h *3 $7 PFMERGE $1 m $1 h \
         *3 $7 PFDEBUG $7 TODENSE $1 h "
    );
    // The file replays to the same HLLs.
    let before: Vec<u8> = redis::cmd("GET").arg("h").query(&mut c).unwrap();
    drop(c);
    let mut srv = srv;
    srv.dir = fresh_dir();
    drop(srv);
    let d = dir.clone();
    let again = server_with(move |c| {
        c.dir = d;
        c.appendonly = true;
    });
    common::wait_loaded(&again);
    let mut c = again.client();
    let after: Vec<u8> = redis::cmd("GET").arg("h").query(&mut c).unwrap();
    assert_eq!(after, before);
}

/// Client-side caching, as on redis-server 7.0.15: a PFCOUNT that rewrites
/// its cache invalidates the key for the clients that read it; one that
/// answers from the cache does not.
#[test]
fn tracking_hears_of_a_rewritten_cache() {
    let s = server();
    let mut c = s.client();
    let (mut t, rx) = common::resp3(&s);
    q::<i64>(&mut c, &["PFADD", "trk", "a"]);
    q::<()>(&mut t, &["CLIENT", "TRACKING", "ON"]);
    q::<Value>(&mut t, &["GET", "trk"]);
    q::<i64>(&mut c, &["PFCOUNT", "trk"]);
    assert_eq!(common::invalidated(&mut t, &rx), vec![Some(vec!["trk".to_string()])]);
    q::<Value>(&mut t, &["GET", "trk"]);
    q::<i64>(&mut c, &["PFCOUNT", "trk"]);
    assert_eq!(common::invalidated(&mut t, &rx), vec![]);
    q::<i64>(&mut c, &["PFADD", "trk", "b"]);
    assert_eq!(common::invalidated(&mut t, &rx), vec![Some(vec!["trk".to_string()])]);
}
