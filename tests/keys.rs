//! Key commands through a real client: DEL, EXISTS, EXPIRE family, TTL,
//! PERSIST, SELECT, DBSIZE, FLUSHDB, FLUSHALL, and active expiry.

mod common;
use common::{err, q, server};
use std::time::{Duration, Instant};

#[test]
fn del_and_exists_count() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["MSET", "a", "1", "b", "2"]);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "a", "a", "b", "nope"]), 3);
    assert_eq!(q::<i64>(&mut c, &["DEL", "a", "nope", "a"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "a"]), 0);
    assert_eq!(err(&mut c, &["DEL"]), "ERR wrong number of arguments for 'del' command");
    assert_eq!(err(&mut c, &["EXISTS"]), "ERR wrong number of arguments for 'exists' command");
}

#[test]
fn expire_conditions() {
    let s = server();
    let mut c = s.client();
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "nokey", "10"]), 0);
    q::<()>(&mut c, &["SET", "k", "v"]);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "10", "XX"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "10", "GT"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "10", "NX"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "20", "NX"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "5", "GT"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "50", "GT"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "60", "LT"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "30", "lt"]), 1);
    assert_eq!(q::<i64>(&mut c, &["TTL", "k"]), 30);
    assert_eq!(q::<i64>(&mut c, &["PEXPIRE", "k", "40000", "XX"]), 1);
    assert_eq!(q::<i64>(&mut c, &["TTL", "k"]), 40);
    assert_eq!(q::<i64>(&mut c, &["PERSIST", "k"]), 1);
    assert_eq!(q::<i64>(&mut c, &["PERSIST", "k"]), 0);
    assert_eq!(q::<i64>(&mut c, &["TTL", "k"]), -1);
    // LT on a key without TTL sets it (no TTL counts as infinite).
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "100", "LT"]), 1);
}

#[test]
fn expire_at_and_past_times_delete() {
    let s = server();
    let mut c = s.client();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    q::<()>(&mut c, &["SET", "k", "v"]);
    assert_eq!(q::<i64>(&mut c, &["EXPIREAT", "k", &(now.as_secs() + 100).to_string()]), 1);
    assert!((99..=100).contains(&q::<i64>(&mut c, &["TTL", "k"])));
    assert_eq!(q::<i64>(&mut c, &["PEXPIREAT", "k", &(now.as_millis() + 5000).to_string()]), 1);
    assert!((4..=5).contains(&q::<i64>(&mut c, &["TTL", "k"])));
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "-1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]), 0);
    q::<()>(&mut c, &["SET", "k", "v"]);
    assert_eq!(q::<i64>(&mut c, &["EXPIREAT", "k", "0"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]), 0);
}

#[test]
fn expire_errors() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "k", "v"]);
    assert_eq!(
        err(&mut c, &["EXPIRE", "k", "10", "NX", "XX"]),
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    );
    assert_eq!(
        err(&mut c, &["EXPIRE", "k", "10", "GT", "LT"]),
        "ERR GT and LT options at the same time are not compatible"
    );
    assert_eq!(err(&mut c, &["EXPIRE", "k", "10", "FOO"]), "ERR Unsupported option FOO");
    assert_eq!(err(&mut c, &["EXPIRE", "k", "abc"]), "ERR value is not an integer or out of range");
    assert_eq!(err(&mut c, &["EXPIRE", "k", "9223372036854775807"]), "ERR invalid expire time in 'expire' command");
    assert_eq!(err(&mut c, &["PEXPIRE", "k", "9223372036854775807"]), "ERR invalid expire time in 'pexpire' command");
    assert_eq!(err(&mut c, &["EXPIRE", "k"]), "ERR wrong number of arguments for 'expire' command");
    assert_eq!(q::<i64>(&mut c, &["TTL", "k"]), -1);
}

#[test]
fn select_dbsize_flush() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["MSET", "a", "1", "b", "2"]);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 2);
    q::<()>(&mut c, &["SELECT", "15"]);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
    q::<()>(&mut c, &["SET", "a", "db15"]);
    assert_eq!(err(&mut c, &["SELECT", "16"]), "ERR DB index is out of range");
    assert_eq!(err(&mut c, &["SELECT", "-1"]), "ERR DB index is out of range");
    assert_eq!(err(&mut c, &["SELECT", "x"]), "ERR value is not an integer or out of range");
    q::<()>(&mut c, &["SELECT", "0"]);
    assert_eq!(q::<String>(&mut c, &["GET", "a"]), "1");
    assert_eq!(q::<String>(&mut c, &["FLUSHDB"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
    q::<()>(&mut c, &["SELECT", "15"]);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 1);
    assert_eq!(err(&mut c, &["FLUSHALL", "NOW"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["FLUSHDB", "ASYNC", "SYNC"]), "ERR syntax error");
    assert_eq!(q::<String>(&mut c, &["FLUSHALL", "ASYNC"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
    q::<()>(&mut c, &["SET", "x", "1"]);
    assert_eq!(q::<String>(&mut c, &["FLUSHALL", "sync"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
}

#[test]
fn databases_option_limits_select() {
    let s = common::server_with(|c| c.databases = 2);
    let mut c = s.client();
    q::<()>(&mut c, &["SELECT", "1"]);
    assert_eq!(err(&mut c, &["SELECT", "2"]), "ERR DB index is out of range");
}

#[test]
fn active_expiry_removes_untouched_keys() {
    let s = common::server_with(|c| c.enable_debug_command = "yes".into());
    let mut c = s.client();
    // Off while the keys are written: on a loaded machine some would
    // expire before DBSIZE counts them.
    q::<()>(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let mut pipe = redis::pipe();
    for i in 0..5000 {
        pipe.cmd("SET").arg(format!("k{i}")).arg("v").arg("PX").arg(100).ignore();
    }
    pipe.cmd("SET").arg("keep").arg("v").ignore();
    pipe.query::<()>(&mut c).unwrap();
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 5001);
    q::<()>(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    // DBSIZE never touches the keys, so only the active cycle can remove them.
    let start = Instant::now();
    while q::<i64>(&mut c, &["DBSIZE"]) > 1 {
        assert!(start.elapsed() < Duration::from_secs(5), "active expiry too slow");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(q::<String>(&mut c, &["GET", "keep"]), "v");
}

fn expired_keys(c: &mut redis::Connection) -> i64 {
    let info: String = q(c, &["INFO", "stats"]);
    info.lines().find_map(|l| l.strip_prefix("expired_keys:")).and_then(|v| v.trim().parse().ok()).unwrap()
}

#[test]
fn client_pause_keeps_expired_keys_until_it_ends() {
    // Redis 7.0's expireIfNeeded while clients are paused (WRITE or ALL):
    // a key whose TTL passed reads as missing but is not deleted, not
    // counted, and no event goes out; active expiry waits too.
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "Ex"]);
    let mut sub = s.raw();
    sub.roundtrip(
        b"SUBSCRIBE __keyevent@0__:expired\r\n",
        b"*3\r\n$9\r\nsubscribe\r\n$22\r\n__keyevent@0__:expired\r\n:1\r\n",
    );
    let mut pipe = redis::pipe();
    pipe.cmd("SET").arg("k").arg("v").arg("PX").arg(100).ignore();
    pipe.cmd("SET").arg("k2").arg("v").arg("PX").arg(100).ignore();
    pipe.cmd("SET").arg("j").arg("v").ignore();
    pipe.cmd("CLIENT").arg("PAUSE").arg(100_000).arg("WRITE").ignore();
    pipe.query::<()>(&mut c).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(expired_keys(&mut c), 0);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 3);
    assert_eq!(q::<Option<String>>(&mut c, &["GET", "k"]), None);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k2"]), 0);
    assert_eq!(q::<i64>(&mut c, &["TTL", "k"]), -2);
    assert_eq!(q::<(String, Vec<String>)>(&mut c, &["SCAN", "0"]).1, ["j"]);
    assert_eq!(q::<Vec<String>>(&mut c, &["KEYS", "*"]), ["j"]);
    assert_eq!(q::<String>(&mut c, &["RANDOMKEY"]), "j");
    assert_eq!(expired_keys(&mut c), 0);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 3);
    // No event went out: the subscriber's next frame is its PING's reply.
    sub.roundtrip(b"PING\r\n", b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    // After UNPAUSE, expiry resumes: on access, and by the active cycle.
    q::<()>(&mut c, &["CLIENT", "UNPAUSE"]);
    assert_eq!(q::<Option<String>>(&mut c, &["GET", "k"]), None);
    assert!(expired_keys(&mut c) >= 1);
    let start = Instant::now();
    while q::<i64>(&mut c, &["DBSIZE"]) > 1 {
        assert!(start.elapsed() < Duration::from_secs(5), "active expiry did not resume");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(expired_keys(&mut c), 2);
    // Both events, in the order expiry met the keys.
    let k: &[u8] = b"*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:expired\r\n$1\r\nk\r\n";
    let k2: &[u8] = b"*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:expired\r\n$2\r\nk2\r\n";
    let mut got = vec![0; k.len() + k2.len()];
    std::io::Read::read_exact(&mut sub.0, &mut got).unwrap();
    assert!(got == [k, k2].concat() || got == [k2, k].concat(), "{}", String::from_utf8_lossy(&got));
    // A pause ALL that times out: the keys that expired during it are gone
    // before the commands it held back run (Redis's expire cycle is what
    // ends the pause, then runs).
    let mut pipe = redis::pipe();
    pipe.cmd("SET").arg("a").arg("v").arg("PX").arg(100).ignore();
    pipe.cmd("CLIENT").arg("PAUSE").arg(400).arg("ALL").ignore();
    pipe.query::<()>(&mut c).unwrap();
    let mut other = s.client();
    assert_eq!(q::<i64>(&mut other, &["DBSIZE"]), 1);
    assert_eq!(expired_keys(&mut other), 3);
}

#[test]
fn unlink_touch_type() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["MSET", "a", "1", "b", "2"]);
    assert_eq!(q::<String>(&mut c, &["TYPE", "a"]), "string");
    assert_eq!(q::<String>(&mut c, &["TYPE", "nokey"]), "none");
    assert_eq!(q::<i64>(&mut c, &["TOUCH", "a", "nokey", "a"]), 2);
    assert_eq!(q::<i64>(&mut c, &["UNLINK", "a", "b", "nokey"]), 2);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
    assert_eq!(err(&mut c, &["UNLINK"]), "ERR wrong number of arguments for 'unlink' command");
    assert_eq!(err(&mut c, &["TYPE"]), "ERR wrong number of arguments for 'type' command");
}

#[test]
fn keys_and_randomkey() {
    let s = server();
    let mut c = s.client();
    assert_eq!(q::<Option<String>>(&mut c, &["RANDOMKEY"]), None);
    q::<()>(&mut c, &["MSET", "user:1", "a", "user:2", "b", "item:1", "c", "u[x]", "d"]);
    let mut got: Vec<String> = q(&mut c, &["KEYS", "user:*"]);
    got.sort();
    assert_eq!(got, vec!["user:1", "user:2"]);
    let got: Vec<String> = q(&mut c, &["KEYS", "*"]);
    assert_eq!(got.len(), 4);
    let got: Vec<String> = q(&mut c, &["KEYS", "u\\[x\\]"]);
    assert_eq!(got, vec!["u[x]"]);
    let got: Vec<String> = q(&mut c, &["KEYS", "?tem:[0-9]"]);
    assert_eq!(got, vec!["item:1"]);
    let k: String = q(&mut c, &["RANDOMKEY"]);
    assert!(["user:1", "user:2", "item:1", "u[x]"].contains(&k.as_str()));
    // Expired keys are never returned.
    q::<()>(&mut c, &["FLUSHALL"]);
    q::<()>(&mut c, &["SET", "gone", "1", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(q::<Vec<String>>(&mut c, &["KEYS", "*"]), Vec::<String>::new());
    assert_eq!(q::<Option<String>>(&mut c, &["RANDOMKEY"]), None);
}

#[test]
fn rename_and_renamenx() {
    let s = server();
    let mut c = s.client();
    assert_eq!(err(&mut c, &["RENAME", "nokey", "b"]), "ERR no such key");
    assert_eq!(err(&mut c, &["RENAMENX", "nokey", "b"]), "ERR no such key");
    q::<()>(&mut c, &["SET", "a", "1", "EX", "100"]);
    assert_eq!(q::<String>(&mut c, &["RENAME", "a", "a"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["RENAMENX", "a", "a"]), 0);
    assert_eq!(q::<String>(&mut c, &["RENAME", "a", "b"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "a"]), 0);
    assert_eq!(q::<String>(&mut c, &["GET", "b"]), "1");
    assert!(q::<i64>(&mut c, &["TTL", "b"]) > 90, "TTL moves with the key");
    q::<()>(&mut c, &["SET", "c", "3"]);
    assert_eq!(q::<i64>(&mut c, &["RENAMENX", "b", "c"]), 0);
    assert_eq!(q::<i64>(&mut c, &["RENAMENX", "b", "d"]), 1);
    assert_eq!(q::<String>(&mut c, &["RENAME", "d", "c"]), "OK");
    assert_eq!(q::<String>(&mut c, &["GET", "c"]), "1");
}

#[test]
fn copy_and_move() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "a", "1", "EX", "100"]);
    assert_eq!(err(&mut c, &["COPY", "a", "a"]), "ERR source and destination objects are the same");
    assert_eq!(err(&mut c, &["COPY", "a", "b", "DB", "16"]), "ERR DB index is out of range");
    assert_eq!(err(&mut c, &["COPY", "a", "b", "DB", "x"]), "ERR value is not an integer or out of range");
    assert_eq!(err(&mut c, &["COPY", "a", "b", "FOO"]), "ERR syntax error");
    assert_eq!(q::<i64>(&mut c, &["COPY", "nokey", "b"]), 0);
    assert_eq!(q::<i64>(&mut c, &["COPY", "a", "b"]), 1);
    assert!(q::<i64>(&mut c, &["TTL", "b"]) > 90);
    assert_eq!(q::<i64>(&mut c, &["COPY", "a", "b"]), 0);
    q::<()>(&mut c, &["SET", "a", "2"]);
    assert_eq!(q::<i64>(&mut c, &["COPY", "a", "b", "REPLACE"]), 1);
    assert_eq!(q::<String>(&mut c, &["GET", "b"]), "2");
    assert_eq!(q::<i64>(&mut c, &["COPY", "a", "a", "DB", "3"]), 1);
    assert_eq!(err(&mut c, &["MOVE", "a", "0"]), "ERR source and destination objects are the same");
    assert_eq!(err(&mut c, &["MOVE", "a", "16"]), "ERR DB index is out of range");
    assert_eq!(q::<i64>(&mut c, &["MOVE", "nokey", "1"]), 0);
    assert_eq!(q::<i64>(&mut c, &["MOVE", "a", "3"]), 0, "exists in db 3");
    assert_eq!(q::<i64>(&mut c, &["MOVE", "b", "1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "b"]), 0);
    q::<()>(&mut c, &["SELECT", "1"]);
    assert_eq!(q::<String>(&mut c, &["GET", "b"]), "2");
}

#[test]
fn expiretime_and_object() {
    let s = server();
    let mut c = s.client();
    assert_eq!(q::<i64>(&mut c, &["EXPIRETIME", "nokey"]), -2);
    q::<()>(&mut c, &["SET", "a", "1"]);
    assert_eq!(q::<i64>(&mut c, &["EXPIRETIME", "a"]), -1);
    assert_eq!(q::<i64>(&mut c, &["PEXPIRETIME", "a"]), -1);
    q::<()>(&mut c, &["PEXPIREAT", "a", "33177117420000"]);
    assert_eq!(q::<i64>(&mut c, &["EXPIRETIME", "a"]), 33177117420);
    assert_eq!(q::<i64>(&mut c, &["PEXPIRETIME", "a"]), 33177117420000);
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "a"]), "int");
    q::<()>(&mut c, &["SET", "e", "hello"]);
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "e"]), "embstr");
    q::<()>(&mut c, &["SET", "r", &"x".repeat(45)]);
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "r"]), "raw");
    q::<()>(&mut c, &["SET", "big", "12345678901234567890"]);
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "big"]), "embstr");
    assert_eq!(q::<Option<String>>(&mut c, &["OBJECT", "ENCODING", "nokey"]), None);
    assert_eq!(q::<i64>(&mut c, &["OBJECT", "REFCOUNT", "a"]), 2147483647);
    assert_eq!(q::<i64>(&mut c, &["OBJECT", "REFCOUNT", "e"]), 1);
    assert_eq!(q::<i64>(&mut c, &["OBJECT", "IDLETIME", "e"]), 0);
    assert!(err(&mut c, &["OBJECT", "FREQ", "e"]).starts_with("ERR An LFU maxmemory policy is not selected"));
    assert_eq!(err(&mut c, &["OBJECT", "FOO"]), "ERR unknown subcommand 'FOO'. Try OBJECT HELP.");
    assert_eq!(err(&mut c, &["OBJECT"]), "ERR wrong number of arguments for 'object' command");
    let help: Vec<String> = q(&mut c, &["OBJECT", "HELP"]);
    assert!(help[0].starts_with("OBJECT <subcommand>"));
}

#[test]
fn object_idletime_grows_and_get_resets_it() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "k", "v"]);
    std::thread::sleep(Duration::from_millis(2100));
    assert!(q::<i64>(&mut c, &["OBJECT", "IDLETIME", "k"]) >= 1);
    // TTL and TYPE do not count as an access; GET does.
    q::<i64>(&mut c, &["TTL", "k"]);
    assert!(q::<i64>(&mut c, &["OBJECT", "IDLETIME", "k"]) >= 1);
    q::<String>(&mut c, &["GET", "k"]);
    assert_eq!(q::<i64>(&mut c, &["OBJECT", "IDLETIME", "k"]), 0);
}

#[test]
fn scan_options_and_errors() {
    let s = server();
    let mut c = s.client();
    for i in 0..100 {
        q::<()>(&mut c, &["SET", &format!("k:{i}"), "v"]);
    }
    q::<()>(&mut c, &["SET", "other", "v"]);
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let (next, keys): (String, Vec<String>) = q(&mut c, &["SCAN", &cursor, "MATCH", "k:*", "COUNT", "7"]);
        assert!(keys.len() <= 7);
        seen.extend(keys);
        if next == "0" {
            break;
        }
        cursor = next;
    }
    assert_eq!(seen.len(), 100);
    assert!(!seen.contains("other"));
    let (_, keys): (String, Vec<String>) = q(&mut c, &["SCAN", "0", "COUNT", "1000", "TYPE", "string"]);
    assert_eq!(keys.len(), 101);
    let (_, keys): (String, Vec<String>) = q(&mut c, &["SCAN", "0", "COUNT", "1000", "TYPE", "list"]);
    assert!(keys.is_empty());
    assert_eq!(err(&mut c, &["SCAN", "x"]), "ERR invalid cursor");
    assert_eq!(err(&mut c, &["SCAN", "18446744073709551616"]), "ERR invalid cursor");
    assert_eq!(err(&mut c, &["SCAN", " 1"]), "ERR invalid cursor");
    assert_eq!(err(&mut c, &["SCAN", "0", "COUNT", "0"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["SCAN", "0", "COUNT", "x"]), "ERR value is not an integer or out of range");
    assert_eq!(err(&mut c, &["SCAN", "0", "MATCH"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["SCAN", "0", "FOO", "bar"]), "ERR syntax error");
    // An out-of-range cursor is undefined in Redis too, but must not fail.
    let (next, keys): (String, Vec<String>) = q(&mut c, &["SCAN", "18446744073709551615"]);
    assert!(next.parse::<u64>().is_ok() && keys.len() <= 10);
    let (_, keys): (String, Vec<String>) = q(&mut c, &["SCAN", "-1"]);
    assert!(keys.len() <= 10);
}

#[test]
fn scan_returns_every_key_while_another_client_churns() {
    let s = server();
    let mut c = s.client();
    let n = 100_000;
    let mut pipe = redis::pipe();
    for i in 0..n {
        pipe.cmd("SET").arg(format!("stable:{i}")).arg("v").ignore();
    }
    pipe.query::<()>(&mut c).unwrap();
    let url = s.url();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churn = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut w = redis::Client::open(url).unwrap().get_connection().unwrap();
            let mut round = 0u64;
            // Grows the keyspace by far more than it started with, and
            // deletes as it goes, so the table resizes during the scan.
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && round < 400 {
                let mut p = redis::pipe();
                for j in 0..500 {
                    p.cmd("SET").arg(format!("churn:{round}:{j}")).arg("v").ignore();
                }
                if round > 0 {
                    for j in 0..400 {
                        p.cmd("DEL").arg(format!("churn:{}:{j}", round - 1)).ignore();
                    }
                }
                p.query::<()>(&mut w).unwrap();
                round += 1;
            }
        })
    };
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let (next, keys): (String, Vec<String>) = q(&mut c, &["SCAN", &cursor, "COUNT", "500"]);
        seen.extend(keys.into_iter().filter(|k| k.starts_with("stable:")));
        if next == "0" {
            break;
        }
        cursor = next;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    churn.join().unwrap();
    let missing: Vec<usize> = (0..n).filter(|i| !seen.contains(&format!("stable:{i}"))).collect();
    assert!(missing.is_empty(), "{} keys missed, e.g. {:?}", missing.len(), &missing[..missing.len().min(5)]);
}

#[test]
fn memory_usage_estimates() {
    let s = common::server_with(|c| c.enable_debug_command = "yes".into());
    let mut c = s.client();
    assert_eq!(q::<Option<i64>>(&mut c, &["MEMORY", "USAGE", "nokey"]), None);
    q::<()>(&mut c, &["SET", "small", "hello"]);
    q::<()>(&mut c, &["SET", "big", &"x".repeat(10_000)]);
    let small: i64 = q(&mut c, &["MEMORY", "USAGE", "small"]);
    let big: i64 = q(&mut c, &["MEMORY", "USAGE", "big", "SAMPLES", "5"]);
    assert!((11..200).contains(&small), "{small}");
    assert!((10_000..10_300).contains(&big), "{big}");
    assert_eq!(
        err(&mut c, &["MEMORY", "USAGE", "small", "SAMPLES", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(err(&mut c, &["MEMORY", "USAGE", "small", "FOO", "5"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["MEMORY", "USAGE", "small", "SAMPLES", "5", "x"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["MEMORY", "FOO"]), "ERR unknown subcommand 'FOO'. Try MEMORY HELP.");
    // A key whose TTL passed but is still stored counts, and stays, as in
    // Redis 7.0.15 (its MEMORY USAGE looks in the dict itself); the next
    // lookup removes it.
    q::<()>(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    q::<()>(&mut c, &["SET", "gone", "3", "PXAT", "1"]);
    assert!(q::<Option<i64>>(&mut c, &["MEMORY", "USAGE", "gone"]).is_some());
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 3);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "gone"]), 0);
    assert_eq!(q::<Option<i64>>(&mut c, &["MEMORY", "USAGE", "gone"]), None);
}
