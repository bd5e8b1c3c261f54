//! Streams through a real client: every command against replies recorded
//! from Redis 7.0.15 (a transcript), consumer-group state after each
//! command, blocking reads woken by XADD, XGROUP DESTROY and key deletion,
//! timeouts, MULTI, and DUMP/RESTORE of streams.

mod common;
use common::transcript::replay;
use common::{err, q, server, server_with, wait_blocked};
use redis::Value;
use std::time::{Duration, Instant};

#[test]
fn replies_match_redis_7_0() {
    let checked = replay(&debug_server(), include_str!("data/stream_transcript.txt"));
    assert_eq!(checked, 266, "every recorded command is replayed");
}

fn debug_server() -> common::TestServer {
    server_with(|c| c.enable_debug_command = "yes".into())
}

#[test]
fn add_range_len_and_types() {
    let s = server();
    let mut c = s.client();
    let id: String = q(&mut c, &["XADD", "s", "*", "f", "v"]);
    let (ms, seq) = id.split_once('-').unwrap();
    assert!(ms.parse::<u64>().unwrap() > 1_600_000_000_000 && seq == "0", "{id}");
    let next: String = q(&mut c, &["XADD", "s", &format!("{ms}-*"), "f", "w"]);
    assert_eq!(next, format!("{ms}-1"));
    assert_eq!(q::<i64>(&mut c, &["XLEN", "s"]), 2);
    assert_eq!(q::<String>(&mut c, &["TYPE", "s"]), "stream");
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "s"]), "stream");
    assert_eq!(q::<Vec<String>>(&mut c, &["KEYS", "*"]), ["s"]);
    let scanned: (String, Vec<String>) = q(&mut c, &["SCAN", "0", "TYPE", "stream"]);
    assert_eq!(scanned.1, ["s"]);
    let range: Vec<(String, Vec<String>)> = q(&mut c, &["XREVRANGE", "s", "+", "-", "COUNT", "1"]);
    assert_eq!(range, [(next.clone(), vec!["f".to_string(), "w".to_string()])]);
    assert_eq!(
        err(&mut c, &["XADD", "s", &id, "f", "v"]),
        "ERR The ID specified in XADD is equal or smaller than the target stream top item"
    );
    assert_eq!(q::<Value>(&mut c, &["XADD", "nokey", "NOMKSTREAM", "*", "f", "v"]), Value::Nil);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "nokey"]), 0);
    q::<()>(&mut c, &["SET", "str", "x"]);
    assert_eq!(
        err(&mut c, &["XADD", "str", "*", "f", "v"]),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    assert_eq!(err(&mut c, &["XLEN", "str"]), "WRONGTYPE Operation against a key holding the wrong kind of value");
    // Trimming as Redis: whole nodes with `~`, exactly with `=`.
    q::<()>(&mut c, &["CONFIG", "SET", "stream-node-max-entries", "10"]);
    for i in 1..=95 {
        q::<String>(&mut c, &["XADD", "t", &format!("{i}-0"), "n", &i.to_string()]);
    }
    assert_eq!(q::<i64>(&mut c, &["XTRIM", "t", "MAXLEN", "~", "50"]), 40);
    assert_eq!(q::<i64>(&mut c, &["XTRIM", "t", "MAXLEN", "=", "50"]), 5);
    assert_eq!(q::<i64>(&mut c, &["XTRIM", "t", "MINID", "60"]), 14);
    let first: Vec<(String, Vec<String>)> = q(&mut c, &["XRANGE", "t", "-", "+", "COUNT", "1"]);
    assert_eq!(first[0].0, "60-0");
    assert_eq!(q::<i64>(&mut c, &["XDEL", "t", "60-0", "61-0", "999-0"]), 2);
    assert_eq!(q::<i64>(&mut c, &["XLEN", "t"]), 34);
}

#[test]
fn consumer_group_state_after_each_command() {
    let s = server();
    let mut c = s.client();
    for i in 1..=4 {
        q::<String>(&mut c, &["XADD", "s", &format!("{i}-0"), "f", &i.to_string()]);
    }
    assert_eq!(q::<String>(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]), "OK");
    let groups = |c: &mut redis::Connection| -> Vec<Vec<Value>> { q(c, &["XINFO", "GROUPS", "s"]) };
    let field = |row: &[Value], name: &str| -> Value {
        let i = row.iter().position(|v| *v == Value::BulkString(name.as_bytes().to_vec())).unwrap();
        row[i + 1].clone()
    };
    assert_eq!(field(&groups(&mut c)[0], "lag"), Value::Int(4));
    let read: Value = q(&mut c, &["XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">"]);
    assert!(format!("{read:?}").contains("2-0") && !format!("{read:?}").contains("3-0"));
    let g = &groups(&mut c)[0];
    assert_eq!(field(g, "pending"), Value::Int(2));
    assert_eq!(field(g, "last-delivered-id"), Value::BulkString(b"2-0".to_vec()));
    assert_eq!(field(g, "entries-read"), Value::Int(2));
    assert_eq!(field(g, "lag"), Value::Int(2));
    let summary: (i64, String, String, Vec<(String, String)>) = q(&mut c, &["XPENDING", "s", "g"]);
    assert_eq!(summary, (2, "1-0".into(), "2-0".into(), vec![("alice".into(), "2".into())]));
    assert_eq!(q::<i64>(&mut c, &["XACK", "s", "g", "1-0", "1-0"]), 1);
    let claimed: Vec<String> = q(&mut c, &["XCLAIM", "s", "g", "bob", "0", "2-0", "JUSTID"]);
    assert_eq!(claimed, ["2-0"]);
    let rows: Vec<(String, String, i64, i64)> = q(&mut c, &["XPENDING", "s", "g", "-", "+", "10"]);
    assert_eq!((rows[0].0.as_str(), rows[0].1.as_str(), rows[0].3), ("2-0", "bob", 1));
    // XAUTOCLAIM reports entries deleted meanwhile and drops them.
    q::<Value>(&mut c, &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"]);
    assert_eq!(q::<i64>(&mut c, &["XDEL", "s", "3-0"]), 1);
    let auto: (String, Vec<String>, Vec<String>) = q(&mut c, &["XAUTOCLAIM", "s", "g", "carol", "0", "0", "JUSTID"]);
    assert_eq!(auto, ("0-0".into(), vec!["2-0".into(), "4-0".into()], vec!["3-0".into()]));
    assert_eq!(q::<i64>(&mut c, &["XGROUP", "DELCONSUMER", "s", "g", "carol"]), 2);
    assert_eq!(q::<i64>(&mut c, &["XGROUP", "CREATECONSUMER", "s", "g", "dave"]), 1);
    let consumers: Vec<Vec<Value>> = q(&mut c, &["XINFO", "CONSUMERS", "s", "g"]);
    let names: Vec<Value> = consumers.iter().map(|r| field(r, "name")).collect();
    assert_eq!(names, [b"alice".as_slice(), b"bob", b"dave"].map(|n| Value::BulkString(n.to_vec())));
    assert_eq!(q::<(i64, Value, Value, Value)>(&mut c, &["XPENDING", "s", "g"]).0, 0);
    assert_eq!(err(&mut c, &["XGROUP", "CREATE", "s", "g", "$"]), "BUSYGROUP Consumer Group name already exists");
    assert_eq!(q::<i64>(&mut c, &["XGROUP", "DESTROY", "s", "g"]), 1);
    assert_eq!(q::<Vec<Value>>(&mut c, &["XINFO", "GROUPS", "s"]), Vec::<Value>::new());
}

fn raw_block(s: &common::TestServer, cmd: &[u8]) -> common::Raw {
    let mut r = s.raw();
    r.send(cmd);
    r
}

#[test]
fn blocked_xread_is_woken_by_xadd() {
    let s = server();
    let mut c = s.client();
    q::<String>(&mut c, &["XADD", "s", "1-0", "a", "1"]);
    let mut waiter = raw_block(&s, b"XREAD BLOCK 0 STREAMS other s $ $\r\n");
    wait_blocked(&mut c, 1);
    q::<String>(&mut c, &["XADD", "s", "2-0", "b", "2"]);
    waiter.expect(b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n");
    // A deleted stream leaves XREAD waiting; data after its id serves it.
    let mut waiter = raw_block(&s, b"XREAD COUNT 1 BLOCK 0 STREAMS s 5-0\r\n");
    wait_blocked(&mut c, 1);
    q::<i64>(&mut c, &["DEL", "s"]);
    q::<String>(&mut c, &["XADD", "s", "3-0", "c", "3"]);
    q::<()>(&mut c, &["SET", "x", "y"]);
    q::<String>(&mut c, &["XADD", "s", "6-0", "d", "4"]);
    waiter.expect(b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n6-0\r\n*2\r\n$1\r\nd\r\n$1\r\n4\r\n");
}

#[test]
fn blocked_reads_time_out_and_never_block_in_multi() {
    let s = server();
    let mut r = s.raw();
    let start = Instant::now();
    r.roundtrip(b"XREAD BLOCK 200 STREAMS s $\r\n", b"*-1\r\n");
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(200) && waited < Duration::from_secs(2), "{waited:?}");
    r.roundtrip(b"XGROUP CREATE s g $ MKSTREAM\r\n", b"+OK\r\n");
    r.roundtrip(b"XREADGROUP GROUP g c BLOCK 50 STREAMS s >\r\n", b"*-1\r\n");
    r.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    r.roundtrip(b"XREAD BLOCK 0 STREAMS s $\r\n", b"+QUEUED\r\n");
    r.roundtrip(b"EXEC\r\n", b"*1\r\n*-1\r\n");
    r.roundtrip(b"XREAD BLOCK -1 STREAMS s $\r\n", b"-ERR timeout is negative\r\n");
}

#[test]
fn blocked_xreadgroup_is_woken_by_xadd_destroy_and_deletion() {
    let s = server();
    let mut c = s.client();
    q::<String>(&mut c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    let mut waiter = raw_block(&s, b"XREADGROUP GROUP g alice BLOCK 0 STREAMS s >\r\n");
    wait_blocked(&mut c, 1);
    q::<String>(&mut c, &["XADD", "s", "1-0", "a", "1"]);
    waiter.expect(b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n");
    assert_eq!(q::<(i64, String, String, Value)>(&mut c, &["XPENDING", "s", "g"]).0, 1);
    waiter.send(b"XREADGROUP GROUP g alice BLOCK 0 STREAMS s >\r\n");
    wait_blocked(&mut c, 1);
    q::<i64>(&mut c, &["XGROUP", "DESTROY", "s", "g"]);
    waiter.expect(b"-NOGROUP the consumer group this client was blocked on no longer exists\r\n");
    q::<String>(&mut c, &["XGROUP", "CREATE", "s", "g", "$"]);
    waiter.send(b"XREADGROUP GROUP g alice BLOCK 0 STREAMS s >\r\n");
    wait_blocked(&mut c, 1);
    q::<i64>(&mut c, &["DEL", "s"]);
    waiter.expect(b"-UNBLOCKED the stream key no longer exists\r\n");
    // FLUSHALL, FLUSHDB, SWAPDB and expiry take the stream too (as
    // redis-server 7.0.15 answers each); a list waiter is left waiting.
    let mut list_waiter = raw_block(&s, b"BLPOP l 0\r\n");
    for gone in [&["FLUSHALL"][..], &["FLUSHDB"], &["SWAPDB", "0", "1"], &["PEXPIRE", "s", "50"]] {
        q::<()>(&mut c, &["FLUSHDB"]);
        q::<String>(&mut c, &["SELECT", "1"]);
        q::<()>(&mut c, &["FLUSHDB"]);
        q::<String>(&mut c, &["SELECT", "0"]);
        q::<String>(&mut c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
        waiter.send(b"XREADGROUP GROUP g alice BLOCK 0 STREAMS s >\r\n");
        wait_blocked(&mut c, 2);
        q::<Value>(&mut c, gone);
        waiter.expect(b"-UNBLOCKED the stream key no longer exists\r\n");
    }
    q::<i64>(&mut c, &["RPUSH", "l", "x"]);
    list_waiter.expect(b"*2\r\n$1\r\nl\r\n$1\r\nx\r\n");
}

#[test]
fn dump_restore_and_digest() {
    let s = debug_server();
    let mut c = s.client();
    for i in 1..=300 {
        q::<String>(&mut c, &["XADD", "s", &format!("{i}-1"), "field", &format!("value-{i}"), "n", &i.to_string()]);
    }
    q::<i64>(&mut c, &["XDEL", "s", "7-1"]);
    q::<String>(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]);
    q::<Value>(&mut c, &["XREADGROUP", "GROUP", "g", "c", "COUNT", "3", "STREAMS", "s", ">"]);
    let digest: Vec<String> = q(&mut c, &["DEBUG", "DIGEST-VALUE", "s"]);
    let dump: Vec<u8> = q(&mut c, &["DUMP", "s"]);
    let mut cmd = redis::cmd("RESTORE");
    cmd.arg("copy").arg(0).arg(&dump);
    let _: () = cmd.query(&mut c).unwrap();
    assert_eq!(q::<Vec<String>>(&mut c, &["DEBUG", "DIGEST-VALUE", "copy"]), digest);
    assert_eq!(q::<Vec<u8>>(&mut c, &["DUMP", "copy"]), dump, "a restored stream dumps the same bytes");
    let info: Vec<Value> = q(&mut c, &["XINFO", "STREAM", "copy"]);
    assert_eq!(info[1], Value::Int(299));
    // A corrupt payload is refused, never loaded.
    let mut bad = dump.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x55;
    let mut cmd = redis::cmd("RESTORE");
    cmd.arg("bad").arg(0).arg(&bad);
    assert!(cmd.query::<()>(&mut c).is_err());
}

fn aof_server(dir: &str) -> common::TestServer {
    let dir = dir.to_string();
    server_with(move |c| {
        c.dir = dir;
        c.appendonly = true;
        c.appendfsync = "always";
        c.enable_debug_command = "yes".into();
    })
}

/// The incr AOF as text, each Unix-ms time (13 digits) as `T`.
fn incr_text(dir: &str) -> String {
    let d = std::path::Path::new(dir).join("appendonlydir");
    let m = std::fs::read_to_string(d.join("appendonly.aof.manifest")).unwrap();
    let name = m.lines().rev().find(|l| l.ends_with("type i")).unwrap().split(' ').nth(1).unwrap().to_string();
    let text = String::from_utf8_lossy(&std::fs::read(d.join(name)).unwrap()).replace("\r\n", " ");
    text.split(' ')
        .map(|w| if w.len() == 13 && w.bytes().all(|b| b.is_ascii_digit()) { "T" } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What redis-server 7.0.15 appends for the same commands (its incr file,
/// read the same way): XADD's `*` and `ms-*` as the id, `~` trims as `=`
/// and the resulting length, reads and claims as XCLAIM ... FORCE JUSTID
/// LASTID, a NOACK read as XGROUP CREATECONSUMER and SETID.
#[test]
fn propagates_as_redis() {
    let dir = common::fresh_dir();
    let srv = aof_server(&dir);
    let mut c = srv.client();
    let run = |c: &mut redis::Connection, args: &[&str]| {
        let _: Value = q(c, args);
    };
    run(&mut c, &["XADD", "s", "1-1", "a", "1"]);
    run(&mut c, &["XADD", "s", "2-*", "a", "1"]);
    run(&mut c, &["XADD", "s", "MAXLEN", "~", "1", "3-1", "a", "1"]);
    run(&mut c, &["XTRIM", "s", "MAXLEN", "1"]);
    run(&mut c, &["XADD", "s", "5-1", "b", "2"]);
    run(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]);
    run(&mut c, &["XGROUP", "CREATE", "s", "g2", "0"]);
    run(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "s", ">"]);
    run(&mut c, &["XREADGROUP", "GROUP", "g2", "c9", "NOACK", "STREAMS", "s", ">"]);
    run(&mut c, &["XCLAIM", "s", "g", "c2", "0", "3-1", "TIME", "1000", "RETRYCOUNT", "3"]);
    run(&mut c, &["XDEL", "s", "3-1"]);
    run(&mut c, &["XAUTOCLAIM", "s", "g", "c4", "0", "0"]);
    let text = incr_text(&dir);
    let want = [
        "*5 $4 XADD $1 s $3 1-1 $1 a $1 1",
        "*5 $4 XADD $1 s $3 2-0 $1 a $1 1",
        "*8 $4 XADD $1 s $6 MAXLEN $1 = $1 3 $3 3-1 $1 a $1 1",
        "*4 $5 XTRIM $1 s $6 MAXLEN $1 1",
        "*14 $6 XCLAIM $1 s $1 g $2 c1 $1 0 $3 3-1 $4 TIME $13 T $10 RETRYCOUNT $1 1 $5 FORCE $6 JUSTID $6 LASTID $3 3-1",
        "*1 $5 MULTI *5 $6 XGROUP $14 CREATECONSUMER $1 s $2 g2 $2 c9 *7 $6 XGROUP $5 SETID $1 s $2 g2 $3 5-1 $11 ENTRIESREAD $1 4 *1 $4 EXEC",
        "*14 $6 XCLAIM $1 s $1 g $2 c2 $1 0 $3 3-1 $4 TIME $4 1000 $10 RETRYCOUNT $1 3 $5 FORCE $6 JUSTID $6 LASTID $3 3-1",
        "*3 $4 XDEL $1 s $3 3-1",
        "*14 $6 XCLAIM $1 s $1 g $2 c2 $1 0 $3 3-1 $4 TIME $4 1000 $10 RETRYCOUNT $1 3 $5 FORCE $6 JUSTID $6 LASTID $3 3-1",
    ];
    let mut at = 0;
    for w in want {
        let found = text[at..].find(w).unwrap_or_else(|| panic!("{w}\nnot found in order in\n{text}"));
        at += found + w.len();
    }
    // Replaying the file rebuilds the same data.
    let before: String = q(&mut c, &["DEBUG", "DIGEST"]);
    drop(c);
    let mut srv = srv;
    srv.dir = common::fresh_dir();
    drop(srv);
    let srv = aof_server(&dir);
    let mut c = srv.client();
    assert_eq!(q::<String>(&mut c, &["DEBUG", "DIGEST"]), before);
}

/// Streams with groups, PELs, consumers, tombstones and several nodes.
fn load_streams(c: &mut redis::Connection) {
    for i in 1..=250 {
        q::<String>(c, &["XADD", "big", &format!("{i}-0"), "f", &format!("v{i}"), "n", &i.to_string()]);
    }
    q::<i64>(c, &["XDEL", "big", "3-0", "120-0"]);
    q::<String>(c, &["XGROUP", "CREATE", "big", "g1", "0"]);
    q::<String>(c, &["XGROUP", "CREATE", "big", "g2", "$"]);
    q::<Value>(c, &["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "5", "STREAMS", "big", ">"]);
    q::<Value>(c, &["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "2", "STREAMS", "big", ">"]);
    q::<i64>(c, &["XACK", "big", "g1", "1-0"]);
    q::<i64>(c, &["XGROUP", "CREATECONSUMER", "big", "g2", "idle"]);
    q::<String>(c, &["XADD", "small", "5-5", "other", "fields", "x", "1"]);
    q::<String>(c, &["XGROUP", "CREATE", "empty", "g", "$", "MKSTREAM"]);
    q::<String>(c, &["XSETID", "empty", "9-9", "ENTRIESADDED", "3", "MAXDELETEDID", "8-0"]);
}

fn full_info(c: &mut redis::Connection) -> Vec<Value> {
    ["big", "small", "empty"].iter().map(|k| q::<Value>(c, &["XINFO", "STREAM", k, "FULL"])).collect()
}

/// An RDB file with streams moves both ways: ferrokv's is read by
/// redis-server (and redis-check-rdb) with the same digest and XINFO
/// STREAM FULL, and redis-server's is read back by ferrokv.
#[test]
fn rdb_files_with_streams_move_between_redis_and_ferrokv() {
    if std::process::Command::new("redis-server").arg("--version").output().is_err() {
        eprintln!("redis-server not installed: interop not checked");
        return;
    }
    let dir = common::fresh_dir();
    let (digest, info);
    {
        let d = dir.clone();
        let srv = server_with(move |c| {
            c.dir = d;
            c.enable_debug_command = "yes".into();
        });
        let mut c = srv.client();
        load_streams(&mut c);
        digest = q::<String>(&mut c, &["DEBUG", "DIGEST"]);
        info = full_info(&mut c);
        assert_eq!(q::<String>(&mut c, &["SAVE"]), "OK");
        let mut srv = srv;
        srv.dir = common::fresh_dir();
    }
    let rdb = std::path::Path::new(&dir).join("dump.rdb");
    let check = std::process::Command::new("redis-check-rdb").arg(&rdb).output().unwrap();
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success() && text.contains("RDB looks OK!"), "{text}");
    let redis = common::RedisServer::start(&dir);
    let mut rc = redis.client().unwrap();
    assert_eq!(q::<String>(&mut rc, &["DEBUG", "DIGEST"]), digest);
    assert_eq!(full_info(&mut rc), info);
    q::<String>(&mut rc, &["XADD", "small", "6-0", "from", "redis"]);
    let theirs = q::<String>(&mut rc, &["DEBUG", "DIGEST"]);
    let their_info = full_info(&mut rc);
    assert_eq!(q::<String>(&mut rc, &["SAVE"]), "OK");
    drop(redis);
    let d = dir.clone();
    let srv = server_with(move |c| {
        c.dir = d;
        c.enable_debug_command = "yes".into();
    });
    let mut c = srv.client();
    assert_eq!(q::<String>(&mut c, &["DEBUG", "DIGEST"]), theirs);
    assert_eq!(full_info(&mut c), their_info);
}

/// Keyspace events as redis-server 7.0.15 sends them for the same commands
/// (recorded with a PSUBSCRIBE on both servers).
#[test]
fn keyspace_events_as_redis() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "Et"]);
    let mut sub = s.raw();
    sub.roundtrip(b"PSUBSCRIBE __keyevent@0__:*\r\n", b"*3\r\n$10\r\npsubscribe\r\n$16\r\n__keyevent@0__:*\r\n:1\r\n");
    let cmds: &[&[&str]] = &[
        &["XADD", "s", "1-1", "a", "1"],
        &["XADD", "s", "MAXLEN", "1", "2-1", "a", "1"],
        &["XTRIM", "s", "MAXLEN", "0"],
        &["XADD", "s", "3-1", "a", "1"],
        &["XDEL", "s", "3-1"],
        &["XSETID", "s", "9-9"],
        &["XGROUP", "CREATE", "s", "g", "0"],
        &["XGROUP", "CREATE", "m", "g", "0", "MKSTREAM"],
        &["XADD", "s", "10-1", "a", "1"],
        &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
        &["XGROUP", "CREATECONSUMER", "s", "g", "d"],
        &["XCLAIM", "s", "g", "e", "0", "10-1"],
        &["XAUTOCLAIM", "s", "g", "f", "0", "0"],
        &["XACK", "s", "g", "10-1"],
        &["XGROUP", "DELCONSUMER", "s", "g", "d"],
        &["XGROUP", "SETID", "s", "g", "0"],
        &["XGROUP", "DESTROY", "s", "g"],
    ];
    for cmd in cmds {
        q::<Value>(&mut c, cmd);
    }
    let events = [
        ("xadd", "s"),
        ("xadd", "s"),
        ("xtrim", "s"),
        ("xtrim", "s"),
        ("xadd", "s"),
        ("xdel", "s"),
        ("xsetid", "s"),
        ("xgroup-create", "s"),
        ("xgroup-create", "m"),
        ("xadd", "s"),
        ("xgroup-createconsumer", "s"),
        ("xgroup-createconsumer", "s"),
        ("xgroup-createconsumer", "s"),
        ("xgroup-createconsumer", "s"),
        ("xgroup-delconsumer", "s"),
        ("xgroup-setid", "s"),
        ("xgroup-destroy", "s"),
    ];
    let mut want = Vec::new();
    for (ev, key) in events {
        let channel = format!("__keyevent@0__:{ev}");
        want.extend_from_slice(
            format!(
                "*4\r\n$8\r\npmessage\r\n$16\r\n__keyevent@0__:*\r\n${}\r\n{channel}\r\n${}\r\n{key}\r\n",
                channel.len(),
                key.len()
            )
            .as_bytes(),
        );
    }
    sub.expect(&want);
}

/// The commands of `store::stream::rewrite_commands` (Redis's AOF rewrite
/// form) rebuild the same stream, groups and PELs on a fresh server.
#[test]
fn rewrite_commands_rebuild_the_stream() {
    let a = debug_server();
    let mut c = a.client();
    load_streams(&mut c);
    q::<i64>(&mut c, &["XDEL", "big", "250-0"]);
    let keys = ["big", "small", "empty"];
    let digest: String = q(&mut c, &["DEBUG", "DIGEST"]);
    // Consumers' seen times are those of the rebuild, as in Redis.
    let state = |c: &mut redis::Connection| -> Vec<Value> {
        let mut v: Vec<Value> = keys.iter().map(|k| q::<Value>(c, &["XINFO", "STREAM", k])).collect();
        v.extend(keys.iter().map(|k| q::<Value>(c, &["XINFO", "GROUPS", k])));
        v.push(q(c, &["XPENDING", "big", "g1"]));
        let rows: Vec<(String, String, i64, i64)> = q(c, &["XPENDING", "big", "g1", "-", "+", "100"]);
        v.extend(rows.into_iter().map(|(id, who, _, n)| {
            Value::Array(vec![Value::BulkString(id.into_bytes()), Value::BulkString(who.into_bytes()), Value::Int(n)])
        }));
        v
    };
    let info = state(&mut c);
    let b = debug_server();
    let mut d = b.client();
    for k in keys {
        let dump: Vec<u8> = q(&mut c, &["DUMP", k]);
        let payload = ferrokv::persist::codec::undump(&dump, &Default::default(), true, true).unwrap();
        let ferrokv::store::Value::Stream(st) = payload else { panic!("{k} is not a stream") };
        for argv in ferrokv::store::stream::rewrite_commands(k.as_bytes(), &st) {
            let mut cmd = redis::cmd(std::str::from_utf8(&argv[0]).unwrap());
            argv[1..].iter().for_each(|a| {
                cmd.arg(a.as_slice());
            });
            let _: Value = cmd.query(&mut d).unwrap();
        }
    }
    assert_eq!(q::<String>(&mut d, &["DEBUG", "DIGEST"]), digest);
    assert_eq!(state(&mut d), info);
}

/// Which stream commands count as modifying the key for client-side
/// caching and WATCH, as redis-server 7.0.15 measured (it calls
/// `signalModifiedKey` for XADD, XDEL, XTRIM and a stream MKSTREAM
/// creates, not for consumer-group changes, XACK, XCLAIM, XAUTOCLAIM or
/// XSETID); the keyspace events of all of them are still published.
#[test]
fn only_entry_changes_invalidate_a_stream() {
    let s = server();
    let (mut t, rx) = common::resp3(&s);
    let _: () = q(&mut t, &["CLIENT", "TRACKING", "ON", "BCAST"]);
    let cases: &[(&[&str], bool)] = &[
        (&["XADD", "s", "1-1", "f", "v"], true),
        (&["XADD", "s", "2-1", "f", "v"], true),
        (&["XGROUP", "CREATE", "s", "g", "0"], false),
        (&["XGROUP", "CREATE", "s2", "g", "0", "MKSTREAM"], true),
        (&["XGROUP", "SETID", "s", "g", "0"], false),
        (&["XGROUP", "CREATECONSUMER", "s", "g", "c1"], false),
        (&["XREADGROUP", "GROUP", "g", "c2", "COUNT", "1", "STREAMS", "s", ">"], false),
        (&["XREADGROUP", "GROUP", "g", "c3", "STREAMS", "s", "0"], false),
        (&["XACK", "s", "g", "1-1"], false),
        (&["XCLAIM", "s", "g", "c4", "0", "2-1"], false),
        (&["XAUTOCLAIM", "s", "g", "c5", "0", "0"], false),
        (&["XGROUP", "DELCONSUMER", "s", "g", "c1"], false),
        (&["XSETID", "s", "5-1"], false),
        (&["XDEL", "s", "1-1"], true),
        (&["XTRIM", "s", "MAXLEN", "0"], true),
        (&["XGROUP", "DESTROY", "s", "g"], false),
    ];
    for (cmd, invalidates) in cases {
        let _: Value = q(&mut t, cmd);
        assert_eq!(!common::invalidated(&mut t, &rx).is_empty(), *invalidates, "{cmd:?}");
    }
    // WATCH agrees: only XDEL aborts the transaction here.
    let mut a = s.client();
    let mut b = s.client();
    for (cmd, aborts) in [
        (&["XGROUP", "CREATE", "w", "g2", "0"][..], false),
        (&["XGROUP", "SETID", "w", "g", "0"], false),
        (&["XREADGROUP", "GROUP", "g", "new", "STREAMS", "w", ">"], false),
        (&["XACK", "w", "g", "1-1"], false),
        (&["XSETID", "w", "9-9"], false),
        (&["XGROUP", "DESTROY", "w", "g"], false),
        (&["XDEL", "w", "1-1"], true),
    ] {
        let _: () = q(&mut a, &["DEL", "w"]);
        let _: String = q(&mut a, &["XADD", "w", "1-1", "f", "v"]);
        let _: () = q(&mut a, &["XGROUP", "CREATE", "w", "g", "0"]);
        let _: () = q(&mut a, &["WATCH", "w"]);
        let _: () = q(&mut a, &["MULTI"]);
        let _: () = q(&mut a, &["PING"]);
        let _: Value = q(&mut b, cmd);
        let exec: Value = q(&mut a, &["EXEC"]);
        assert_eq!(exec == Value::Nil, aborts, "{cmd:?}: {exec:?}");
    }
}
