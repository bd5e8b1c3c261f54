//! SORT and SORT_RO through a real client (the `redis` crate): a transcript
//! of 120 commands recorded from Redis 7.0.15 (every option, BY and GET
//! patterns with `->field`, `nosort`, LIMIT windows, STORE, and the error
//! texts), WATCH and keyspace events of SORT ... STORE, its propagation,
//! and the movable key extraction COMMAND GETKEYS reports.

mod common;
use common::transcript::replay;
use common::{fresh_dir, q, server, server_with};
use redis::Value;

/// Replays `tests/data/sort_transcript.txt` (recorded from Redis 7.0.15).
#[test]
fn transcript_matches_redis_7_0() {
    let checked = replay(&server(), include_str!("data/sort_transcript.txt"));
    assert_eq!(checked, 120, "every recorded command is replayed");
}

fn r(c: &mut redis::Connection, line: &str) -> String {
    common::transcript::run_line(c, line)
}

#[test]
fn sort_store_touches_watched_keys_but_plain_sort_does_not() {
    let s = server();
    let mut c = s.client();
    let mut other = s.client();
    r(&mut c, "RPUSH l 3 1 2");
    r(&mut c, "SET dst x");
    for (cmd, aborts) in [("SORT l", false), ("SORT_RO l BY nosort", false), ("SORT l STORE dst", true)] {
        assert_eq!(r(&mut c, "WATCH dst l"), "+OK");
        r(&mut other, cmd);
        r(&mut c, "MULTI");
        r(&mut c, "PING");
        let ran = q::<Value>(&mut c, &["EXEC"]) != Value::Nil;
        assert_eq!(ran, !aborts, "{cmd}");
    }
    assert_eq!(r(&mut c, "LRANGE dst 0 -1"), "*['1', '2', '3']");
}

#[test]
fn sort_store_wakes_a_blocked_pop() {
    let s = server();
    let mut c = s.client();
    let mut blocked = s.client();
    r(&mut c, "RPUSH l 3 1 2");
    let t = std::thread::spawn(move || r(&mut blocked, "BLPOP dst 5"));
    common::wait_blocked(&mut c, 1);
    assert_eq!(r(&mut c, "SORT l STORE dst"), ":3");
    assert_eq!(t.join().unwrap(), "*['dst', '1']");
}

#[test]
fn sort_store_is_propagated_as_called_and_plain_sort_not_at_all() {
    let dir = fresh_dir();
    let d = dir.clone();
    let s = server_with(move |c| {
        c.dir = d;
        c.appendonly = true;
        c.appendfsync = "always";
    });
    let mut c = s.client();
    r(&mut c, "RPUSH l 2 1");
    r(&mut c, "SORT l");
    r(&mut c, "SORT l STORE dst");
    r(&mut c, "SORT nokey STORE nothing");
    let aof = std::path::Path::new(&dir).join("appendonlydir/appendonly.aof.1.incr.aof");
    let text = String::from_utf8_lossy(&std::fs::read(aof).unwrap()).replace("\r\n", " ");
    assert!(text.ends_with("*4 $4 SORT $1 l $5 STORE $3 dst "), "{text}");
    assert_eq!(text.matches("SORT").count(), 1, "{text}");
}

#[test]
fn movable_keys_are_extracted_like_redis() {
    let s = server();
    let mut c = s.client();
    assert_eq!(r(&mut c, "COMMAND GETKEYS SORT k STORE dst"), "*['k', 'dst']");
    assert_eq!(r(&mut c, "COMMAND GETKEYS SORT k BY x STORE d LIMIT 0 1 STORE e GET f"), "*['k', 'e']");
    assert_eq!(r(&mut c, "COMMAND GETKEYS SORT k GET store"), "*['k']");
    assert_eq!(r(&mut c, "COMMAND GETKEYS SORT_RO k BY x"), "*['k']");
    let flags: Vec<Value> = q(&mut c, &["COMMAND", "GETKEYSANDFLAGS", "SORT", "k", "STORE", "d"]);
    assert_eq!(format!("{flags:?}").matches("OW").count(), 1, "{flags:?}");
    let info = format!("{:?}", q::<Vec<Value>>(&mut c, &["COMMAND", "INFO", "sort", "sort_ro"]));
    assert!(info.contains("movablekeys") && info.contains("unknown") && info.contains("@dangerous"), "{info}");
}

#[test]
fn sort_events_are_redis_s() {
    let s = server();
    let mut c = s.client();
    r(&mut c, "CONFIG SET notify-keyspace-events KEA");
    let mut sub = s.raw();
    sub.send(b"SUBSCRIBE __keyevent@0__:sortstore __keyevent@0__:del\r\n");
    sub.expect(b"*3\r\n$9\r\nsubscribe\r\n$24\r\n__keyevent@0__:sortstore\r\n:1\r\n");
    sub.expect(b"*3\r\n$9\r\nsubscribe\r\n$18\r\n__keyevent@0__:del\r\n:2\r\n");
    r(&mut c, "RPUSH l 1");
    r(&mut c, "SORT l STORE dst");
    sub.expect(b"*3\r\n$7\r\nmessage\r\n$24\r\n__keyevent@0__:sortstore\r\n$3\r\ndst\r\n");
    r(&mut c, "SORT nokey STORE dst");
    sub.expect(b"*3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:del\r\n$3\r\ndst\r\n");
}
