//! MULTI/EXEC/DISCARD/WATCH/UNWATCH through a real client and raw bytes.

mod common;
use common::{err, q, server};
use redis::Value;
use std::time::Duration;

#[test]
fn queued_commands_run_on_exec_with_per_command_errors() {
    let s = server();
    let mut r = s.raw();
    r.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    r.roundtrip(b"SET a 1\r\n", b"+QUEUED\r\n");
    r.roundtrip(b"INCR a\r\n", b"+QUEUED\r\n");
    r.roundtrip(b"LPUSH a x\r\n", b"+QUEUED\r\n");
    r.roundtrip(
        b"EXEC\r\n",
        b"*3\r\n+OK\r\n:2\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    );
    // Through the client library's transaction support too.
    let mut c = s.client();
    let (x, y): (i64, i64) = redis::pipe().atomic().cmd("INCR").arg("n").cmd("INCR").arg("n").query(&mut c).unwrap();
    assert_eq!((x, y), (1, 2));
}

#[test]
fn queuing_errors_abort_exec() {
    let s = server();
    let mut r = s.raw();
    r.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    r.roundtrip(b"SET a 1\r\n", b"+QUEUED\r\n");
    r.roundtrip(b"FOO\r\n", b"-ERR unknown command 'FOO', with args beginning with: \r\n");
    r.roundtrip(b"GET\r\n", b"-ERR wrong number of arguments for 'get' command\r\n");
    r.roundtrip(b"EXEC\r\n", b"-EXECABORT Transaction discarded because of previous errors.\r\n");
    r.roundtrip(b"GET a\r\n", b"$-1\r\n");
    r.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    r.roundtrip(b"SHUTDOWN\r\n", b"-ERR Command not allowed inside a transaction\r\n");
    r.roundtrip(b"EXEC\r\n", b"-EXECABORT Transaction discarded because of previous errors.\r\n");
}

#[test]
fn misuse_errors() {
    let s = server();
    let mut r = s.raw();
    r.roundtrip(b"EXEC\r\n", b"-ERR EXEC without MULTI\r\n");
    r.roundtrip(b"DISCARD\r\n", b"-ERR DISCARD without MULTI\r\n");
    r.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    r.roundtrip(b"MULTI\r\n", b"-ERR MULTI calls can not be nested\r\n");
    r.roundtrip(b"WATCH x\r\n", b"-ERR WATCH inside MULTI is not allowed\r\n");
    r.roundtrip(b"SET a 1\r\n", b"+QUEUED\r\n");
    r.roundtrip(b"DISCARD\r\n", b"+OK\r\n");
    r.roundtrip(b"GET a\r\n", b"$-1\r\n");
    r.roundtrip(b"WATCH\r\n", b"-ERR wrong number of arguments for 'watch' command\r\n");
}

#[test]
fn blocking_commands_do_not_block_inside_exec() {
    let s = server();
    let mut r = s.raw();
    r.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    r.roundtrip(b"BLPOP none 0\r\n", b"+QUEUED\r\n");
    r.roundtrip(b"EXEC\r\n", b"*1\r\n*-1\r\n");
}

/// Runs WATCH k, then `between` on another connection, then MULTI/SET/EXEC;
/// returns whether EXEC ran.
fn watched_exec(s: &common::TestServer, between: impl FnOnce(&mut redis::Connection)) -> bool {
    let mut c = s.client();
    let mut other = s.client();
    assert_eq!(q::<String>(&mut c, &["WATCH", "k"]), "OK");
    between(&mut other);
    q::<String>(&mut c, &["MULTI"]);
    q::<String>(&mut c, &["SET", "k", "mine"]);
    match q::<Value>(&mut c, &["EXEC"]) {
        Value::Nil => false,
        Value::Array(v) => {
            assert_eq!(v, vec![Value::Okay]);
            true
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn watch_aborts_when_the_key_is_touched() {
    let s = server();
    assert!(watched_exec(&s, |_| {}), "untouched: runs");
    assert!(!watched_exec(&s, |o| q::<()>(o, &["SET", "k", "theirs"])), "SET from another client");
    assert!(!watched_exec(&s, |o| q::<()>(o, &["DEL", "k"])), "DEL");
    // Only real changes count, as in Redis: nothing to delete, flush or
    // swap in, a refused SET.
    q::<()>(&mut s.client(), &["DEL", "k"]);
    assert!(watched_exec(&s, |o| q::<()>(o, &["DEL", "k"])), "DEL of a missing key: runs");
    q::<()>(&mut s.client(), &["DEL", "k"]);
    assert!(watched_exec(&s, |o| q::<()>(o, &["FLUSHDB"])), "FLUSHDB without the key: runs");
    assert!(watched_exec(&s, |o| q::<()>(o, &["SET", "k", "x", "NX"])), "refused SET NX: runs");
    assert!(watched_exec(&s, |o| q::<()>(o, &["PERSIST", "k"])), "PERSIST without a TTL: runs");
    assert!(!watched_exec(&s, |o| q::<()>(o, &["EXPIRE", "k", "100", "NX"])), "EXPIRE NX on a key without TTL");
    assert!(watched_exec(&s, |o| q::<()>(o, &["SETBIT", "k", "0", "0"])), "SETBIT to the same bit: runs");
    q::<()>(&mut s.client(), &["SET", "k", "v"]);
    assert!(!watched_exec(&s, |o| q::<()>(o, &["FLUSHDB"])), "FLUSHDB");
    q::<()>(&mut s.client(), &["SET", "k", "v"]);
    assert!(!watched_exec(&s, |o| q::<()>(o, &["FLUSHALL"])), "FLUSHALL");
    q::<()>(&mut s.client(), &["SET", "k", "v"]);
    assert!(!watched_exec(&s, |o| q::<()>(o, &["SWAPDB", "0", "1"])), "SWAPDB");
    assert!(watched_exec(&s, |o| q::<()>(o, &["SWAPDB", "2", "3"])), "SWAPDB of other databases: runs");
    q::<()>(&mut s.client(), &["FLUSHALL"]);
    let mut db1 = s.client();
    q::<()>(&mut db1, &["SELECT", "1"]);
    q::<()>(&mut db1, &["SET", "k", "in1"]);
    assert!(!watched_exec(&s, |o| q::<()>(o, &["SWAPDB", "0", "1"])), "SWAPDB bringing the key in");
    assert!(watched_exec(&s, |o| q::<()>(o, &["SET", "other", "x"])), "another key: runs");
    assert!(watched_exec(&s, |o| q::<Option<String>>(o, &["GET", "k"]).map(|_| ()).unwrap_or(())), "a read: runs");
}

#[test]
fn watch_aborts_when_the_key_expires() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "k", "v", "PX", "50"]);
    q::<String>(&mut c, &["WATCH", "k"]);
    std::thread::sleep(Duration::from_millis(100));
    q::<String>(&mut c, &["MULTI"]);
    q::<String>(&mut c, &["SET", "k", "mine"]);
    assert_eq!(q::<Value>(&mut c, &["EXEC"]), Value::Nil);
}

#[test]
fn unwatch_and_exec_forget_watches() {
    let s = server();
    let mut c = s.client();
    let mut other = s.client();
    q::<String>(&mut c, &["WATCH", "k"]);
    q::<String>(&mut c, &["UNWATCH"]);
    q::<()>(&mut other, &["SET", "k", "x"]);
    q::<String>(&mut c, &["MULTI"]);
    q::<String>(&mut c, &["SET", "k", "mine"]);
    assert_eq!(q::<Value>(&mut c, &["EXEC"]), Value::Array(vec![Value::Okay]));
    // After EXEC the old watch is gone: a new transaction is unaffected.
    q::<()>(&mut other, &["SET", "k", "y"]);
    q::<String>(&mut c, &["MULTI"]);
    q::<String>(&mut c, &["GET", "k"]);
    assert_eq!(q::<Value>(&mut c, &["EXEC"]), Value::Array(vec![Value::BulkString(b"y".to_vec())]));
    assert_eq!(err(&mut c, &["EXEC"]), "ERR EXEC without MULTI");
}

#[test]
fn reset_discards_a_transaction() {
    let s = server();
    let mut r = s.raw();
    r.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    r.roundtrip(b"SET a 1\r\n", b"+QUEUED\r\n");
    r.roundtrip(b"RESET\r\n", b"+RESET\r\n");
    r.roundtrip(b"EXEC\r\n", b"-ERR EXEC without MULTI\r\n");
    r.roundtrip(b"GET a\r\n", b"$-1\r\n");
}

/// The commandstats line of `cmd`.
fn cmdstat(c: &mut redis::Connection, cmd: &str) -> String {
    let info: String = q(c, &["INFO", "commandstats"]);
    info.lines().find(|l| l.starts_with(&format!("cmdstat_{cmd}:"))).unwrap_or_default().to_string()
}

#[test]
fn no_multi_commands_are_refused_while_queuing_and_abort_exec() {
    // Bytes recorded from Redis 7.0.15, whose no_multi commands ferrokv has
    // only SHUTDOWN of (the others are SAVE, SYNC, PSYNC).
    let s = server();
    let mut r = s.raw();
    r.send(b"MULTI\r\nSHUTDOWN\r\nECHO a\r\nEXEC\r\n");
    r.expect(
        b"+OK\r\n-ERR Command not allowed inside a transaction\r\n+QUEUED\r\n\
          -EXECABORT Transaction discarded because of previous errors.\r\n",
    );
    r.send(b"MULTI\r\nshutdown nosave abort\r\nDISCARD\r\nPING\r\n");
    r.expect(b"+OK\r\n-ERR Command not allowed inside a transaction\r\n+OK\r\n+PONG\r\n");
    // Before the command's own argument checks; WATCH and MULTI answer
    // their own error, which does not abort the transaction.
    r.send(b"MULTI\r\nSHUTDOWN a b c d e f\r\nEXEC\r\n");
    r.expect(
        b"+OK\r\n-ERR Command not allowed inside a transaction\r\n\
          -EXECABORT Transaction discarded because of previous errors.\r\n",
    );
    r.send(b"MULTI\r\nWATCH k\r\nMULTI\r\nECHO a\r\nEXEC\r\n");
    r.expect(
        b"+OK\r\n-ERR WATCH inside MULTI is not allowed\r\n-ERR MULTI calls can not be nested\r\n+QUEUED\r\n*1\r\n$1\r\na\r\n",
    );
    // Counted as rejected calls, as in Redis.
    let mut c = s.client();
    assert!(
        cmdstat(&mut c, "shutdown").contains("calls=0,") && cmdstat(&mut c, "shutdown").contains("rejected_calls=3,")
    );
    // The transaction check comes before the memory check.
    q::<()>(&mut c, &["CONFIG", "SET", "maxmemory", "1"]);
    r.send(b"MULTI\r\nSHUTDOWN\r\nSET a 1\r\nEXEC\r\n");
    r.expect(
        b"+OK\r\n-ERR Command not allowed inside a transaction\r\n\
          -OOM command not allowed when used memory > 'maxmemory'.\r\n\
          -EXECABORT Transaction discarded because of previous errors.\r\n",
    );
    q::<()>(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
    assert!(cmdstat(&mut c, "set").contains("rejected_calls=1,"), "{}", cmdstat(&mut c, "set"));
}

#[test]
fn exec_runs_what_follows_a_subscribe_in_its_queue() {
    // Redis 7.0.15 runs the queued GET although the client subscribed
    // just before, inside the same EXEC (RESP2).
    let s = server();
    let mut r = s.raw();
    r.send(b"MULTI\r\nSUBSCRIBE c\r\nGET a\r\nEXEC\r\nGET a\r\n");
    r.expect(b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n$-1\r\n");
    r.expect(
        b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
    );
}
