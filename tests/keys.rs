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
    let s = server();
    let mut c = s.client();
    let mut pipe = redis::pipe();
    for i in 0..5000 {
        pipe.cmd("SET").arg(format!("k{i}")).arg("v").arg("PX").arg(100).ignore();
    }
    pipe.cmd("SET").arg("keep").arg("v").ignore();
    pipe.query::<()>(&mut c).unwrap();
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 5001);
    // DBSIZE never touches the keys, so only the active cycle can remove them.
    let start = Instant::now();
    while q::<i64>(&mut c, &["DBSIZE"]) > 1 {
        assert!(start.elapsed() < Duration::from_secs(5), "active expiry too slow");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(q::<String>(&mut c, &["GET", "keep"]), "v");
}
