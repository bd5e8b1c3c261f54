//! List commands through a real client, and the blocking pops: woken by
//! another connection, timeouts, FIFO fairness, disconnects, CLIENT UNBLOCK.

mod common;
use common::{err, q, server, wait_blocked};
use redis::Value;
use std::time::{Duration, Instant};

#[test]
fn push_pop_range_index() {
    let s = server();
    let mut c = s.client();
    assert_eq!(q::<i64>(&mut c, &["RPUSH", "l", "a", "b", "c"]), 3);
    assert_eq!(q::<i64>(&mut c, &["LPUSH", "l", "z", "y"]), 5);
    assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "l", "0", "-1"]), ["y", "z", "a", "b", "c"]);
    assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "l", "-2", "100"]), ["b", "c"]);
    assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "l", "3", "1"]), Vec::<String>::new());
    assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "nokey", "0", "-1"]), Vec::<String>::new());
    assert_eq!(q::<i64>(&mut c, &["LLEN", "l"]), 5);
    assert_eq!(q::<String>(&mut c, &["LINDEX", "l", "-1"]), "c");
    assert_eq!(q::<Option<String>>(&mut c, &["LINDEX", "l", "10"]), None);
    assert_eq!(q::<String>(&mut c, &["LPOP", "l"]), "y");
    assert_eq!(q::<Vec<String>>(&mut c, &["RPOP", "l", "2"]), ["c", "b"]);
    assert_eq!(q::<Vec<String>>(&mut c, &["LPOP", "l", "0"]), Vec::<String>::new());
    assert_eq!(q::<Value>(&mut c, &["LPOP", "nokey", "2"]), Value::Nil);
    assert_eq!(q::<Option<String>>(&mut c, &["LPOP", "nokey"]), None);
    assert_eq!(q::<Vec<String>>(&mut c, &["LPOP", "l", "10"]), ["z", "a"]);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "l"]), 0, "an emptied list is deleted");
    assert_eq!(q::<i64>(&mut c, &["LPUSHX", "l", "a"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "l"]), 0);
    q::<i64>(&mut c, &["RPUSH", "l", "a"]);
    assert_eq!(q::<i64>(&mut c, &["RPUSHX", "l", "b", "c"]), 3);
    assert_eq!(q::<String>(&mut c, &["TYPE", "l"]), "list");
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "l"]), "quicklist");
}

#[test]
fn lset_linsert_lrem_ltrim_lpos() {
    let s = server();
    let mut c = s.client();
    q::<i64>(&mut c, &["RPUSH", "l", "a", "b", "a", "c", "a"]);
    assert_eq!(q::<String>(&mut c, &["LSET", "l", "0", "A"]), "OK");
    assert_eq!(err(&mut c, &["LSET", "l", "10", "x"]), "ERR index out of range");
    assert_eq!(err(&mut c, &["LSET", "nokey", "0", "x"]), "ERR no such key");
    assert_eq!(q::<i64>(&mut c, &["LINSERT", "l", "AFTER", "c", "x"]), 6);
    assert_eq!(q::<i64>(&mut c, &["LINSERT", "l", "before", "zz", "x"]), -1);
    assert_eq!(q::<i64>(&mut c, &["LINSERT", "nokey", "before", "zz", "x"]), 0);
    assert_eq!(err(&mut c, &["LINSERT", "l", "middle", "c", "x"]), "ERR syntax error");
    assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "l", "0", "-1"]), ["A", "b", "a", "c", "x", "a"]);
    assert_eq!(q::<i64>(&mut c, &["LPOS", "l", "a"]), 2);
    assert_eq!(q::<Vec<i64>>(&mut c, &["LPOS", "l", "a", "COUNT", "0"]), [2, 5]);
    assert_eq!(q::<Vec<i64>>(&mut c, &["LPOS", "l", "a", "RANK", "-1", "COUNT", "2"]), [5, 2]);
    assert_eq!(q::<Option<i64>>(&mut c, &["LPOS", "l", "a", "RANK", "2", "MAXLEN", "3"]), None);
    assert_eq!(q::<Option<i64>>(&mut c, &["LPOS", "l", "zz"]), None);
    assert!(err(&mut c, &["LPOS", "l", "a", "RANK", "0"]).starts_with("ERR RANK can't be zero"));
    assert_eq!(err(&mut c, &["LPOS", "l", "a", "COUNT", "-1"]), "ERR COUNT can't be negative");
    assert_eq!(err(&mut c, &["LPOS", "l", "a", "MAXLEN", "-1"]), "ERR MAXLEN can't be negative");
    assert_eq!(err(&mut c, &["LPOS", "l", "a", "FOO", "1"]), "ERR syntax error");
    assert_eq!(q::<i64>(&mut c, &["LREM", "l", "-1", "a"]), 1);
    assert_eq!(q::<i64>(&mut c, &["LREM", "l", "0", "a"]), 1);
    assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "l", "0", "-1"]), ["A", "b", "c", "x"]);
    assert_eq!(q::<String>(&mut c, &["LTRIM", "l", "1", "-2"]), "OK");
    assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "l", "0", "-1"]), ["b", "c"]);
    assert_eq!(q::<String>(&mut c, &["LTRIM", "l", "5", "1"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "l"]), 0);
}

#[test]
fn lmove_rpoplpush_lmpop() {
    let s = server();
    let mut c = s.client();
    q::<i64>(&mut c, &["RPUSH", "src", "a", "b", "c"]);
    assert_eq!(q::<String>(&mut c, &["LMOVE", "src", "dst", "RIGHT", "LEFT"]), "c");
    assert_eq!(q::<String>(&mut c, &["RPOPLPUSH", "src", "dst"]), "b");
    assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "dst", "0", "-1"]), ["b", "c"]);
    assert_eq!(q::<String>(&mut c, &["LMOVE", "dst", "dst", "LEFT", "RIGHT"]), "b");
    assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "dst", "0", "-1"]), ["c", "b"]);
    assert_eq!(q::<Option<String>>(&mut c, &["LMOVE", "nokey", "dst", "LEFT", "LEFT"]), None);
    assert_eq!(err(&mut c, &["LMOVE", "src", "dst", "UP", "LEFT"]), "ERR syntax error");
    q::<()>(&mut c, &["SET", "str", "x"]);
    assert_eq!(
        err(&mut c, &["LMOVE", "src", "str", "LEFT", "LEFT"]),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "src", "0", "-1"]), ["a"], "nothing moved");
    let v: Value = q(&mut c, &["LMPOP", "2", "nokey", "dst", "RIGHT", "COUNT", "10"]);
    assert_eq!(
        v,
        Value::Array(vec![
            Value::BulkString(b"dst".to_vec()),
            Value::Array(vec![Value::BulkString(b"b".to_vec()), Value::BulkString(b"c".to_vec())])
        ])
    );
    assert_eq!(q::<Value>(&mut c, &["LMPOP", "1", "nokey", "LEFT"]), Value::Nil);
    assert_eq!(err(&mut c, &["LMPOP", "0", "src", "LEFT"]), "ERR numkeys should be greater than 0");
    assert_eq!(err(&mut c, &["LMPOP", "2", "src", "LEFT"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["LMPOP", "1", "src", "LEFT", "COUNT", "0"]), "ERR count should be greater than 0");
}

#[test]
fn list_errors() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "str", "x"]);
    let wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value";
    for args in [
        &["LPUSH", "str", "a"][..],
        &["RPUSH", "str", "a"],
        &["LPOP", "str"],
        &["LLEN", "str"],
        &["LRANGE", "str", "0", "1"],
        &["LINDEX", "str", "0"],
        &["BLPOP", "str", "0.01"],
    ] {
        assert_eq!(err(&mut c, args), wrongtype, "{args:?}");
    }
    q::<i64>(&mut c, &["RPUSH", "l", "a"]);
    assert_eq!(err(&mut c, &["GET", "l"]), wrongtype);
    assert_eq!(err(&mut c, &["LPOP", "l", "-1"]), "ERR value is out of range, must be positive");
    assert_eq!(err(&mut c, &["LPOP", "l", "x"]), "ERR value is out of range, must be positive");
    assert_eq!(err(&mut c, &["LINDEX", "l", "x"]), "ERR value is not an integer or out of range");
    assert_eq!(err(&mut c, &["LPUSH", "l"]), "ERR wrong number of arguments for 'lpush' command");
    assert_eq!(err(&mut c, &["BLPOP", "l2", "-1"]), "ERR timeout is negative");
    assert_eq!(err(&mut c, &["BLPOP", "l2", "x"]), "ERR timeout is not a float or out of range");
    assert_eq!(err(&mut c, &["BLPOP", "l2", "1e300"]), "ERR timeout is negative");
}

/// Sends a raw command on a fresh connection (it then blocks).
fn raw_block(s: &common::TestServer, cmd: &[u8]) -> common::Raw {
    let mut r = s.raw();
    r.send(cmd);
    r
}

#[test]
fn blpop_is_woken_by_a_push_from_another_client() {
    let s = server();
    let mut c = s.client();
    let mut waiter = raw_block(&s, b"BLPOP q1 q2 0\r\n");
    wait_blocked(&mut c, 1);
    q::<i64>(&mut c, &["RPUSH", "q2", "hello"]);
    waiter.expect(b"*2\r\n$2\r\nq2\r\n$5\r\nhello\r\n");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "q2"]), 0, "the element was consumed");
    // Data already there: no blocking at all.
    q::<i64>(&mut c, &["RPUSH", "q1", "x"]);
    waiter.roundtrip(b"BRPOP q1 0\r\n", b"*2\r\n$2\r\nq1\r\n$1\r\nx\r\n");
}

#[test]
fn blocking_timeout_answers_null_array() {
    let s = server();
    let mut r = s.raw();
    let start = Instant::now();
    r.roundtrip(b"BLPOP nothing 0.2\r\n", b"*-1\r\n");
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(200) && waited < Duration::from_secs(2), "{waited:?}");
    r.roundtrip(b"BRPOPLPUSH nothing dst 0.05\r\n", b"*-1\r\n");
    r.roundtrip(b"BLMOVE nothing dst LEFT LEFT 0.05\r\n", b"*-1\r\n");
    r.roundtrip(b"BLMPOP 0.05 1 nothing LEFT\r\n", b"*-1\r\n");
    // The connection keeps working afterwards.
    r.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn waiters_are_served_first_come_first_served() {
    let s = server();
    let mut c = s.client();
    let mut waiters = Vec::new();
    for i in 0..3 {
        waiters.push(raw_block(&s, b"BLPOP fifo 0\r\n"));
        wait_blocked(&mut c, i + 1);
    }
    q::<i64>(&mut c, &["RPUSH", "fifo", "1", "2", "3"]);
    for (i, w) in waiters.iter_mut().enumerate() {
        let v = (i + 1).to_string();
        w.expect(format!("*2\r\n$4\r\nfifo\r\n$1\r\n{v}\r\n").as_bytes());
    }
    wait_blocked(&mut c, 0);
}

#[test]
fn one_push_serves_one_waiter_and_others_keep_waiting() {
    let s = server();
    let mut c = s.client();
    let mut a = raw_block(&s, b"BLPOP k 0\r\n");
    wait_blocked(&mut c, 1);
    let mut b = raw_block(&s, b"BLPOP k 0\r\n");
    wait_blocked(&mut c, 2);
    q::<i64>(&mut c, &["LPUSH", "k", "only"]);
    a.expect(b"*2\r\n$1\r\nk\r\n$4\r\nonly\r\n");
    wait_blocked(&mut c, 1);
    q::<i64>(&mut c, &["LPUSH", "k", "next"]);
    b.expect(b"*2\r\n$1\r\nk\r\n$4\r\nnext\r\n");
}

#[test]
fn a_disconnected_waiter_is_forgotten() {
    let s = server();
    let mut c = s.client();
    let gone = raw_block(&s, b"BLPOP k 0\r\n");
    wait_blocked(&mut c, 1);
    drop(gone);
    wait_blocked(&mut c, 0);
    let mut live = raw_block(&s, b"BLPOP k 0\r\n");
    wait_blocked(&mut c, 1);
    q::<i64>(&mut c, &["RPUSH", "k", "v"]);
    live.expect(b"*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
}

#[test]
fn blmove_and_blmpop_wake_up() {
    let s = server();
    let mut c = s.client();
    let mut m = raw_block(&s, b"BLMOVE src dst RIGHT LEFT 0\r\n");
    wait_blocked(&mut c, 1);
    q::<i64>(&mut c, &["RPUSH", "src", "a", "b"]);
    m.expect(b"$1\r\nb\r\n");
    assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "dst", "0", "-1"]), ["b"]);
    let mut p = raw_block(&s, b"BLMPOP 0 2 x y LEFT COUNT 5\r\n");
    wait_blocked(&mut c, 1);
    q::<i64>(&mut c, &["RPUSH", "y", "1", "2"]);
    p.expect(b"*2\r\n$1\r\ny\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
}

#[test]
fn commands_sent_while_blocked_run_after_the_wakeup() {
    let s = server();
    let mut c = s.client();
    let mut w = raw_block(&s, b"BLPOP k 0\r\nPING\r\nECHO after\r\n");
    wait_blocked(&mut c, 1);
    q::<i64>(&mut c, &["RPUSH", "k", "v"]);
    w.expect(b"*2\r\n$1\r\nk\r\n$1\r\nv\r\n+PONG\r\n$5\r\nafter\r\n");
}

#[test]
fn client_unblock_with_timeout_or_error() {
    let s = server();
    let mut c = s.client();
    let mut w = s.raw();
    w.send(b"CLIENT ID\r\n");
    let mut buf = [0u8; 32];
    let n = std::io::Read::read(&mut w.0, &mut buf).unwrap();
    let id = String::from_utf8_lossy(&buf[1..n - 2]).to_string();
    w.send(b"BLPOP k 0\r\n");
    wait_blocked(&mut c, 1);
    assert_eq!(q::<i64>(&mut c, &["CLIENT", "UNBLOCK", &id]), 1);
    w.expect(b"*-1\r\n");
    w.send(b"BLPOP k 0\r\n");
    wait_blocked(&mut c, 1);
    assert_eq!(q::<i64>(&mut c, &["CLIENT", "UNBLOCK", &id, "ERROR"]), 1);
    w.expect(b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
    assert_eq!(q::<i64>(&mut c, &["CLIENT", "UNBLOCK", &id]), 0, "not blocked any more");
    assert_eq!(q::<i64>(&mut c, &["CLIENT", "UNBLOCK", "99999"]), 0);
    assert_eq!(err(&mut c, &["CLIENT", "UNBLOCK", &id, "FOO"]), "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
}

mod model {
    use super::common::server;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[derive(Debug, Clone)]
    enum Op {
        Push(bool, u8, u8),
        Pop(bool, u8),
        Range(u8, i64, i64),
        Index(u8, i64),
        Rem(u8, i64, u8),
        Len(u8),
        Trim(u8, i64, i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (any::<bool>(), 0u8..2, 0u8..3).prop_map(|(l, k, v)| Op::Push(l, k, v)),
            (any::<bool>(), 0u8..2).prop_map(|(l, k)| Op::Pop(l, k)),
            (0u8..2, -5i64..5, -5i64..5).prop_map(|(k, a, b)| Op::Range(k, a, b)),
            (0u8..2, -5i64..5).prop_map(|(k, i)| Op::Index(k, i)),
            (0u8..2, -2i64..3, 0u8..3).prop_map(|(k, n, v)| Op::Rem(k, n, v)),
            (0u8..2).prop_map(Op::Len),
            (0u8..2, -4i64..4, -4i64..4).prop_map(|(k, a, b)| Op::Trim(k, a, b)),
        ]
    }

    fn idx(len: usize, i: i64) -> Option<usize> {
        let i = if i < 0 { len as i64 + i } else { i };
        (0..len as i64).contains(&i).then_some(i as usize)
    }

    fn range(len: usize, a: i64, b: i64) -> std::ops::Range<usize> {
        let len = len as i64;
        let s = (if a < 0 { len + a } else { a }).max(0);
        let e = if b < 0 { len + b } else { b };
        if s > e || s >= len { 0..0 } else { s as usize..e.min(len - 1) as usize + 1 }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn list_commands_match_a_vec_model(ops in prop::collection::vec(op(), 1..60)) {
            let s = server();
            let mut c = s.client();
            let mut m: HashMap<u8, Vec<String>> = HashMap::new();
            for op in ops {
                match op {
                    Op::Push(left, k, v) => {
                        let l = m.entry(k).or_default();
                        let v = v.to_string();
                        if left { l.insert(0, v.clone()) } else { l.push(v.clone()) }
                        let n: usize = redis::cmd(if left { "LPUSH" } else { "RPUSH" }).arg(k).arg(v).query(&mut c).unwrap();
                        prop_assert_eq!(n, l.len());
                    }
                    Op::Pop(left, k) => {
                        let l = m.entry(k).or_default();
                        let want = if l.is_empty() { None } else if left { Some(l.remove(0)) } else { l.pop() };
                        let got: Option<String> = redis::cmd(if left { "LPOP" } else { "RPOP" }).arg(k).query(&mut c).unwrap();
                        prop_assert_eq!(got, want);
                    }
                    Op::Range(k, a, b) => {
                        let l = m.entry(k).or_default();
                        let want = l[range(l.len(), a, b)].to_vec();
                        let got: Vec<String> = redis::cmd("LRANGE").arg(k).arg(a).arg(b).query(&mut c).unwrap();
                        prop_assert_eq!(got, want);
                    }
                    Op::Index(k, i) => {
                        let l = m.entry(k).or_default();
                        let want = idx(l.len(), i).map(|i| l[i].clone());
                        let got: Option<String> = redis::cmd("LINDEX").arg(k).arg(i).query(&mut c).unwrap();
                        prop_assert_eq!(got, want);
                    }
                    Op::Rem(k, n, v) => {
                        let l = m.entry(k).or_default();
                        let v = v.to_string();
                        let limit = if n == 0 { usize::MAX } else { n.unsigned_abs() as usize };
                        let mut removed = 0;
                        if n >= 0 {
                            let mut i = 0;
                            while i < l.len() && removed < limit { if l[i] == v { l.remove(i); removed += 1; } else { i += 1; } }
                        } else {
                            let mut i = l.len();
                            while i > 0 && removed < limit { i -= 1; if l[i] == v { l.remove(i); removed += 1; } }
                        }
                        let got: usize = redis::cmd("LREM").arg(k).arg(n).arg(v).query(&mut c).unwrap();
                        prop_assert_eq!(got, removed);
                    }
                    Op::Len(k) => {
                        let got: usize = redis::cmd("LLEN").arg(k).query(&mut c).unwrap();
                        prop_assert_eq!(got, m.entry(k).or_default().len());
                    }
                    Op::Trim(k, a, b) => {
                        let l = m.entry(k).or_default();
                        let r = range(l.len(), a, b);
                        *l = l[r].to_vec();
                        let _: () = redis::cmd("LTRIM").arg(k).arg(a).arg(b).query(&mut c).unwrap();
                    }
                }
                for (k, l) in &m {
                    let exists: i64 = redis::cmd("EXISTS").arg(*k).query(&mut c).unwrap();
                    prop_assert_eq!(exists, (!l.is_empty()) as i64, "empty lists are deleted");
                }
            }
        }
    }
}

#[test]
fn rename_copy_and_move_into_a_waited_key_wake_the_waiter() {
    let s = server();
    let mut c = s.client();
    let mut w = raw_block(&s, b"BLPOP target 0\r\n");
    wait_blocked(&mut c, 1);
    q::<i64>(&mut c, &["RPUSH", "src", "a"]);
    q::<String>(&mut c, &["RENAME", "src", "target"]);
    w.expect(b"*2\r\n$6\r\ntarget\r\n$1\r\na\r\n");
    w.send(b"BLPOP target 0\r\n");
    wait_blocked(&mut c, 1);
    q::<i64>(&mut c, &["RPUSH", "src2", "b"]);
    q::<i64>(&mut c, &["COPY", "src2", "target"]);
    w.expect(b"*2\r\n$6\r\ntarget\r\n$1\r\nb\r\n");
    w.send(b"SELECT 1\r\n");
    w.expect(b"+OK\r\n");
    w.send(b"BLPOP target 0\r\n");
    wait_blocked(&mut c, 1);
    q::<i64>(&mut c, &["RPUSH", "target", "c"]);
    q::<i64>(&mut c, &["MOVE", "target", "1"]);
    w.expect(b"*2\r\n$6\r\ntarget\r\n$1\r\nc\r\n");
}

#[test]
fn swapdb_wakes_waiters_whose_key_now_has_data() {
    let s = server();
    let mut c = s.client();
    let mut w = raw_block(&s, b"BLPOP k 0\r\n");
    wait_blocked(&mut c, 1);
    q::<()>(&mut c, &["SELECT", "1"]);
    q::<i64>(&mut c, &["RPUSH", "k", "from-db1"]);
    q::<String>(&mut c, &["SWAPDB", "0", "1"]);
    w.expect(b"*2\r\n$1\r\nk\r\n$8\r\nfrom-db1\r\n");
}

/// A deterministic random source for the command mixes.
fn xorshift() -> impl FnMut(u64) -> u64 {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    }
}

/// Every list command stays correct whatever `list-max-listpack-size` makes
/// of the nodes (one entry each, two, five, 4 KB, 64 KB): a deterministic
/// random mix of commands, each checked against a model, with elements big
/// enough to cross the byte limits and edits in the middle (LINSERT, LSET,
/// LREM, LTRIM) that split and merge nodes.
#[test]
fn list_max_listpack_size_keeps_every_command_correct() {
    let s = server();
    let mut c = s.client();
    let mut rand = xorshift();
    for setting in ["1", "2", "5", "-1", "-5", "0", "-2"] {
        assert_eq!(q::<String>(&mut c, &["CONFIG", "SET", "list-max-listpack-size", setting]), "OK");
        assert_eq!(q::<Vec<String>>(&mut c, &["CONFIG", "GET", "list-max-listpack-size"])[1], setting);
        command_mix(&mut c, setting, |w| ((b'a' + w as u8) as char).to_string(), 0, &mut rand);
    }
}

/// The same mix with `list-compress-depth` 1 to 3 over small nodes of
/// compressible values, so most edits land on compressed interior nodes;
/// the list starts with `prefill` elements.
#[test]
fn list_compress_depth_keeps_every_command_correct() {
    let s = server();
    let mut c = s.client();
    let mut rand = xorshift();
    for (fill, depth) in [("5", "1"), ("8", "2"), ("-1", "1"), ("3", "3"), ("16", "1")] {
        q::<()>(&mut c, &["CONFIG", "SET", "list-max-listpack-size", fill, "list-compress-depth", depth]);
        assert_eq!(q::<Vec<String>>(&mut c, &["CONFIG", "GET", "list-compress-depth"]), ["list-compress-depth", depth]);
        command_mix(&mut c, &format!("{fill}/{depth}"), |w| format!("value:{:06}", w * 111), 600, &mut rand);
    }
}

/// Runs 400 random list commands on `l` (emptied first, then given
/// `prefill` elements) and on a model, checking every reply; `word(0..4)`
/// are the values that pivots, LREM and LPOS look for.
fn command_mix(
    c: &mut redis::Connection,
    setting: &str,
    word: fn(u64) -> String,
    prefill: usize,
    rand: &mut impl FnMut(u64) -> u64,
) {
    q::<i64>(c, &["DEL", "l", "other"]);
    let mut m: std::collections::VecDeque<String> = (0..prefill).map(|i| word(i as u64 % 5)).collect();
    if !m.is_empty() {
        let mut args = vec!["RPUSH".to_string(), "l".to_string()];
        args.extend(m.iter().cloned());
        assert_eq!(q::<i64>(c, &args.iter().map(String::as_str).collect::<Vec<_>>()), prefill as i64);
    }
    for step in 0..400 {
        // Mostly the probe words (so pivots and LREM find matches),
        // sometimes long values (past a 4 KB node).
        let value = match rand(10) {
            0 => "x".repeat(500 + rand(6000) as usize),
            1 => format!("v{step}"),
            _ => word(rand(4)),
        };
        let len = m.len() as i64;
        let idx = if len > 0 { rand(len as u64 * 2) as i64 - len } else { 0 };
        match rand(12) {
            0..=2 => {
                let n = 1 + rand(20) as usize;
                let vals: Vec<String> = (0..n).map(|k| format!("{value}{}", k % 3)).collect();
                let mut args = vec!["RPUSH", "l"];
                args.extend(vals.iter().map(String::as_str));
                m.extend(vals.iter().cloned());
                assert_eq!(q::<i64>(c, &args), m.len() as i64);
            }
            3 => {
                assert_eq!(q::<i64>(c, &["LPUSH", "l", &value]), m.len() as i64 + 1);
                m.push_front(value);
            }
            4 => {
                let pivot = word(rand(4));
                let after = rand(2) == 0;
                let pos = m.iter().position(|e| *e == pivot);
                let where_ = if after { "AFTER" } else { "BEFORE" };
                let want = match pos {
                    Some(p) => {
                        m.insert(p + after as usize, value.clone());
                        m.len() as i64
                    }
                    None if m.is_empty() => 0,
                    None => -1,
                };
                assert_eq!(q::<i64>(c, &["LINSERT", "l", where_, &pivot, &value]), want);
            }
            5 if len > 0 => {
                let i = (if idx < 0 { idx + len } else { idx }) as usize;
                assert_eq!(q::<String>(c, &["LSET", "l", &idx.to_string(), &value]), "OK");
                m[i] = value;
            }
            6 => {
                let target = word(rand(4));
                let count = rand(5) as i64 - 2;
                let mut hits: Vec<usize> =
                    m.iter().enumerate().filter(|(_, e)| **e == target).map(|(i, _)| i).collect();
                if count < 0 {
                    hits.reverse();
                }
                hits.truncate(if count == 0 { usize::MAX } else { count.unsigned_abs() as usize });
                hits.sort_unstable();
                hits.iter().rev().for_each(|&i| {
                    m.remove(i);
                });
                assert_eq!(q::<i64>(c, &["LREM", "l", &count.to_string(), &target]), hits.len() as i64);
            }
            7 if rand(4) == 0 => {
                let (a, b) = (rand(5) as i64, -1 - rand(5) as i64);
                assert_eq!(q::<String>(c, &["LTRIM", "l", &a.to_string(), &b.to_string()]), "OK");
                let end = (len + b + 1).max(0) as usize;
                m = m.iter().take(end).skip(a as usize).cloned().collect();
            }
            8 => {
                let n = rand(4);
                let got: Vec<String> = q(c, &["RPOP", "l", &n.to_string()]);
                let want: Vec<String> = (0..n).filter_map(|_| m.pop_back()).collect();
                if m.is_empty() && want.is_empty() {
                    continue;
                }
                assert_eq!(got, want);
            }
            9 => {
                let got: Option<String> = q(c, &["LMOVE", "l", "l", "LEFT", "RIGHT"]);
                let v = m.pop_front();
                assert_eq!(got, v);
                m.extend(v);
            }
            10 if len > 0 => {
                let i = (if idx < 0 { idx + len } else { idx }) as usize;
                assert_eq!(q::<String>(c, &["LINDEX", "l", &idx.to_string()]), m[i]);
                let (a, b) = (idx, idx + rand(30) as i64);
                let s = (if a < 0 { a + len } else { a }) as usize;
                let e = (if b < 0 { b + len } else { b }).min(len - 1);
                let want: Vec<String> = if e < s as i64 { vec![] } else { m.range(s..=e as usize).cloned().collect() };
                assert_eq!(q::<Vec<String>>(c, &["LRANGE", "l", &a.to_string(), &b.to_string()]), want);
            }
            _ => {
                let target = word(rand(4));
                let want: Vec<i64> =
                    m.iter().enumerate().rev().filter(|(_, e)| **e == target).map(|(i, _)| i as i64).collect();
                assert_eq!(q::<Vec<i64>>(c, &["LPOS", "l", &target, "RANK", "-1", "COUNT", "0"]), want);
            }
        }
        assert_eq!(q::<i64>(c, &["LLEN", "l"]), m.len() as i64, "{setting} step {step}");
        if step % 20 == 0 || m.len() < 30 {
            assert_eq!(q::<Vec<String>>(c, &["LRANGE", "l", "0", "-1"]), Vec::from(m.clone()), "{setting} step {step}");
        }
    }
    assert_eq!(q::<Vec<String>>(c, &["LRANGE", "l", "0", "-1"]), Vec::from(m.clone()));
    if !m.is_empty() {
        assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "l"]), "quicklist");
    }
}

/// CONFIG SET applies to writes after it: a list built one entry per node
/// keeps working (and reads the same) as it grows under a bigger limit, and
/// the old name `list-max-ziplist-size` is the same setting. Out-of-range
/// settings are accepted and clamped internally, as in Redis.
#[test]
fn list_max_listpack_size_changes_at_runtime() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["CONFIG", "SET", "list-max-ziplist-size", "1"]);
    assert_eq!(q::<Vec<String>>(&mut c, &["CONFIG", "GET", "list-max-listpack-size"]), ["list-max-listpack-size", "1"]);
    let first: Vec<String> = (0..100).map(|i| i.to_string()).collect();
    let mut args = vec!["RPUSH", "l"];
    args.extend(first.iter().map(String::as_str));
    q::<i64>(&mut c, &args);
    for setting in ["-2", "100000", "-100", "3"] {
        q::<()>(&mut c, &["CONFIG", "SET", "list-max-listpack-size", setting]);
        assert_eq!(q::<Vec<String>>(&mut c, &["CONFIG", "GET", "list-max-ziplist-size"])[1], setting);
        q::<i64>(&mut c, &["LPUSH", "l", setting]);
        q::<i64>(&mut c, &["LINSERT", "l", "AFTER", "50", setting]);
    }
    let all: Vec<String> = q(&mut c, &["LRANGE", "l", "0", "-1"]);
    assert_eq!(all.len(), 108);
    assert_eq!(&all[..4], ["3", "-100", "100000", "-2"]);
    assert_eq!(&all[54..59], ["50", "3", "-100", "100000", "-2"]);
    assert_eq!(q::<String>(&mut c, &["LINDEX", "l", "-1"]), "99");
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "l"]), "quicklist");
    assert!(err(&mut c, &["CONFIG", "SET", "list-max-listpack-size", "abc"]).contains("list-max-listpack-size"));
}

#[test]
fn a_transaction_that_leaves_no_list_wakes_nobody() {
    // As for the sorted-set pops: readiness is judged when EXEC is over, so
    // a key that got a list and then became a string serves nobody; the
    // waiter stays blocked and a later push serves it.
    let s = server();
    let mut c = s.client();
    let waits: [(&[u8], &[u8]); 5] = [
        (b"BLPOP k 0\r\n", b"*2\r\n$1\r\nk\r\n$1\r\nb\r\n"),
        (b"BRPOP k 0\r\n", b"*2\r\n$1\r\nk\r\n$1\r\nb\r\n"),
        (b"BLMPOP 0 1 k LEFT\r\n", b"*2\r\n$1\r\nk\r\n*1\r\n$1\r\nb\r\n"),
        (b"BLMOVE k d LEFT LEFT 0\r\n", b"$1\r\nb\r\n"),
        (b"BRPOPLPUSH k d 0\r\n", b"$1\r\nb\r\n"),
    ];
    for (block, reply) in waits {
        let mut r = raw_block(&s, block);
        wait_blocked(&mut c, 1);
        q::<()>(&mut c, &["MULTI"]);
        for cmd in [&["LPUSH", "k", "a"][..], &["DEL", "k"], &["SET", "k", "x"]] {
            assert_eq!(q::<String>(&mut c, cmd), "QUEUED");
        }
        q::<Value>(&mut c, &["EXEC"]);
        q::<i64>(&mut c, &["DEL", "k"]);
        wait_blocked(&mut c, 1);
        q::<i64>(&mut c, &["RPUSH", "k", "b"]);
        r.expect(reply);
        wait_blocked(&mut c, 0);
        q::<i64>(&mut c, &["DEL", "d"]);
    }
}

#[test]
fn a_waiter_is_served_from_the_key_that_got_data_first() {
    let s = server();
    let mut c = s.client();
    let mut r = raw_block(&s, b"BLPOP b a 0\r\n");
    wait_blocked(&mut c, 1);
    q::<()>(&mut c, &["MULTI"]);
    q::<String>(&mut c, &["LPUSH", "a", "x"]);
    q::<String>(&mut c, &["LPUSH", "b", "y"]);
    q::<Value>(&mut c, &["EXEC"]);
    r.expect(b"*2\r\n$1\r\na\r\n$1\r\nx\r\n");
    // Another key of the command holding a string does not matter.
    q::<i64>(&mut c, &["DEL", "a", "b"]);
    r.send(b"BLMPOP 0 2 b a LEFT COUNT 5\r\n");
    wait_blocked(&mut c, 1);
    q::<()>(&mut c, &["SET", "b", "str"]);
    q::<i64>(&mut c, &["LPUSH", "a", "x", "x2"]);
    r.expect(b"*2\r\n$1\r\na\r\n*2\r\n$2\r\nx2\r\n$1\r\nx\r\n");
}

/// `list-compress-depth`: Redis's default, range and error texts, and a
/// depth past any list's length (nothing to compress, every command works).
#[test]
fn list_compress_depth_setting() {
    let s = server();
    let mut c = s.client();
    assert_eq!(q::<Vec<String>>(&mut c, &["CONFIG", "GET", "list-compress-depth"]), ["list-compress-depth", "0"]);
    let failed = "ERR CONFIG SET failed (possibly related to argument 'list-compress-depth') - ";
    for (bad, why) in [
        ("-1", "argument must be between 0 and 2147483647 inclusive"),
        ("2147483648", "argument must be between 0 and 2147483647 inclusive"),
        ("abc", "argument couldn't be parsed into an integer"),
    ] {
        assert_eq!(err(&mut c, &["CONFIG", "SET", "list-compress-depth", bad]), format!("{failed}{why}"));
    }
    assert_eq!(q::<Vec<String>>(&mut c, &["CONFIG", "GET", "list-compress-depth"])[1], "0");
    q::<()>(&mut c, &["CONFIG", "SET", "list-compress-depth", "2147483647", "list-max-listpack-size", "4"]);
    assert_eq!(q::<Vec<String>>(&mut c, &["CONFIG", "GET", "list-compress-depth"])[1], "2147483647");
    let vals: Vec<String> = (0..1000).map(|i| format!("value:{i:06}")).collect();
    let mut args = vec!["RPUSH", "l"];
    args.extend(vals.iter().map(String::as_str));
    q::<i64>(&mut c, &args);
    assert_eq!(q::<String>(&mut c, &["LSET", "l", "500", "x"]), "OK");
    assert_eq!(q::<String>(&mut c, &["LINDEX", "l", "500"]), "x");
    assert_eq!(q::<i64>(&mut c, &["LREM", "l", "0", "value:000501"]), 1);
    assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "l", "499", "501"]), ["value:000499", "x", "value:000502"]);
}

fn rpush_all(c: &mut redis::Connection, key: &str, vals: &[String]) {
    for chunk in vals.chunks(1000) {
        let mut args = vec!["RPUSH", key];
        args.extend(chunk.iter().map(String::as_str));
        q::<i64>(c, &args);
    }
}

/// With depth 1 a list of compressible values takes much less memory
/// (MEMORY USAGE counts the compressed nodes) and reads the same: LRANGE,
/// LINDEX and LPOS reach into compressed nodes; LSET, LINSERT, LREM and
/// LTRIM edit them.
#[test]
fn compressed_lists_are_smaller_and_read_the_same() {
    let s = server();
    let mut c = s.client();
    let mut m: Vec<String> = (0..20_000).map(|i| format!("value:{i:06}")).collect();
    rpush_all(&mut c, "plain", &m);
    q::<()>(&mut c, &["CONFIG", "SET", "list-compress-depth", "1"]);
    rpush_all(&mut c, "l", &m);
    let plain: i64 = q(&mut c, &["MEMORY", "USAGE", "plain"]);
    let packed: i64 = q(&mut c, &["MEMORY", "USAGE", "l"]);
    assert!(packed * 10 < plain * 6, "{packed} compressed vs {plain}");
    assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "l", "0", "-1"]), m);
    assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "l", "9000", "9004"]), &m[9000..9005]);
    assert_eq!(q::<String>(&mut c, &["LINDEX", "l", "12345"]), m[12345]);
    assert_eq!(q::<i64>(&mut c, &["LPOS", "l", "value:010000"]), 10_000);
    assert_eq!(q::<i64>(&mut c, &["LPOS", "l", "value:010000", "RANK", "-1"]), 10_000);
    assert_eq!(q::<String>(&mut c, &["LSET", "l", "7000", "changed"]), "OK");
    m[7000] = "changed".into();
    assert_eq!(q::<i64>(&mut c, &["LINSERT", "l", "BEFORE", "value:015000", "inserted"]), 20_001);
    m.insert(15_000, "inserted".into());
    for i in 3000..3600 {
        assert_eq!(q::<i64>(&mut c, &["LREM", "l", "1", &format!("value:{i:06}")]), 1);
    }
    m.drain(3000..3600);
    assert_eq!(q::<String>(&mut c, &["LTRIM", "l", "1000", "-1001"]), "OK");
    m = m[1000..m.len() - 1000].to_vec();
    assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "l", "0", "-1"]), m);
    let after: i64 = q(&mut c, &["MEMORY", "USAGE", "l"]);
    assert!(after < packed, "edited nodes are compressed again: {after} vs {packed}");
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "l"]), "quicklist");
}

/// Pops of every kind, blocking ones included, drain a compressed list in
/// order as interior nodes reach the ends; an LMOVE from it wakes a waiter.
#[test]
fn pops_and_moves_drain_a_compressed_list() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["CONFIG", "SET", "list-compress-depth", "1", "list-max-listpack-size", "16"]);
    let mut m: std::collections::VecDeque<String> = (0..3000).map(|i| format!("value:{i:06}")).collect();
    rpush_all(&mut c, "l", &Vec::from(m.clone()));
    let mut waiter = raw_block(&s, b"BLPOP dst 0\r\n");
    wait_blocked(&mut c, 1);
    assert_eq!(q::<String>(&mut c, &["LMOVE", "l", "dst", "LEFT", "RIGHT"]), "value:000000");
    waiter.expect(b"*2\r\n$3\r\ndst\r\n$12\r\nvalue:000000\r\n");
    m.pop_front();
    let mut round = 0;
    while !m.is_empty() {
        round += 1;
        match round % 7 {
            0 => assert_eq!(q::<Vec<String>>(&mut c, &["BLPOP", "l", "0"]), ["l".to_string(), m.pop_front().unwrap()]),
            1 => assert_eq!(q::<Vec<String>>(&mut c, &["BRPOP", "l", "0"]), ["l".to_string(), m.pop_back().unwrap()]),
            2 => {
                let want: Vec<String> = (0..40).filter_map(|_| m.pop_back()).collect();
                let got: (String, Vec<String>) = q(&mut c, &["LMPOP", "1", "l", "RIGHT", "COUNT", "40"]);
                assert_eq!(got, ("l".to_string(), want));
            }
            3 => {
                let want: Vec<String> = (0..40).filter_map(|_| m.pop_front()).collect();
                let got: (String, Vec<String>) = q(&mut c, &["BLMPOP", "0", "1", "l", "LEFT", "COUNT", "40"]);
                assert_eq!(got, ("l".to_string(), want));
            }
            4 => {
                assert_eq!(q::<String>(&mut c, &["BLMOVE", "l", "other", "RIGHT", "LEFT", "0"]), m.pop_back().unwrap())
            }
            5 => assert_eq!(q::<String>(&mut c, &["BRPOPLPUSH", "l", "other", "0"]), m.pop_back().unwrap()),
            _ => {
                let want: Vec<String> = (0..25).filter_map(|_| m.pop_front()).collect();
                assert_eq!(q::<Vec<String>>(&mut c, &["LPOP", "l", "25"]), want);
            }
        }
        if round % 10 == 0 {
            assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "l", "0", "-1"]), Vec::from(m.clone()));
        }
    }
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "l"]), 0);
}

/// CONFIG SET list-compress-depth applies to every list from its next
/// write on (Redis fixes the depth when a list is created): a list built
/// uncompressed gets compressed nodes where it is written after the SET,
/// and nodes compressed under one depth are read and edited under another.
#[test]
fn list_compress_depth_changes_at_runtime() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["CONFIG", "SET", "list-max-listpack-size", "32"]);
    let mut m: Vec<String> = (0..5000).map(|i| format!("value:{i:06}")).collect();
    rpush_all(&mut c, "l", &m);
    for (depth, at) in [("1", 100), ("3", 2500), ("0", 4000), ("2", 1200)] {
        q::<()>(&mut c, &["CONFIG", "SET", "list-compress-depth", depth]);
        // Pushes that add nodes at the head move raw nodes past the window.
        let head: Vec<String> = (0..100).map(|i| format!("head:{depth}:{i:03}")).collect();
        for v in &head {
            q::<i64>(&mut c, &["LPUSH", "l", v]);
        }
        m.splice(0..0, head.into_iter().rev());
        let at = at + 100;
        assert_eq!(q::<String>(&mut c, &["LSET", "l", &at.to_string(), depth]), "OK");
        m[at] = depth.to_string();
        assert_eq!(q::<i64>(&mut c, &["LINSERT", "l", "AFTER", &m[at + 40].clone(), "ins"]), m.len() as i64 + 1);
        m.insert(at + 41, "ins".into());
        assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "l", "0", "-1"]), m, "depth {depth}");
    }
    assert_eq!(q::<i64>(&mut c, &["LREM", "l", "0", "ins"]), 4);
    m.retain(|v| v != "ins");
    assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "l", "0", "-1"]), m);
    // Nodes added after a SET to depth 1 are compressed as they pass the
    // window: growing the old list costs much less than a list built with
    // compression off.
    let more: Vec<String> = (0..2000).map(|i| format!("more:{i:06}")).collect();
    q::<()>(&mut c, &["CONFIG", "SET", "list-compress-depth", "0"]);
    rpush_all(&mut c, "ref", &more);
    let plain: i64 = q(&mut c, &["MEMORY", "USAGE", "ref"]);
    q::<()>(&mut c, &["CONFIG", "SET", "list-compress-depth", "1"]);
    let before: i64 = q(&mut c, &["MEMORY", "USAGE", "l"]);
    rpush_all(&mut c, "l", &more);
    let grown = q::<i64>(&mut c, &["MEMORY", "USAGE", "l"]) - before;
    assert!(grown * 10 < plain * 7, "{grown} bytes more for 2000 compressed elements vs {plain} uncompressed");
    m.extend(more);
    assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "l", "0", "-1"]), m);
}

/// Redis's CRC-64 (Jones, reflected), which ends a DUMP payload.
fn crc64(data: &[u8]) -> u64 {
    let mut crc = 0u64;
    for &b in data {
        crc ^= b as u64;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0x95ac_9329_ac4b_c9b5 } else { crc >> 1 };
        }
    }
    crc
}

/// An RDB length (6-bit, 14-bit or 32-bit form).
fn rdb_len(out: &mut Vec<u8>, n: usize) {
    match n {
        0..=63 => out.push(n as u8),
        64..=16383 => out.extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]),
        _ => {
            out.push(0x80);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }
}

fn read_rdb_len(p: &[u8], at: &mut usize) -> usize {
    let b = p[*at];
    let (n, size) = match b >> 6 {
        0 => ((b & 0x3f) as usize, 1),
        1 => ((((b & 0x3f) as usize) << 8) | p[*at + 1] as usize, 2),
        _ => (u32::from_be_bytes(p[*at + 1..*at + 5].try_into().unwrap()) as usize, 5),
    };
    *at += size;
    n
}

/// The LZF that quicklist nodes use (and the RDB work will reuse) is
/// liblzf's format both ways, checked against a real Redis through the
/// LZF-encoded strings of DUMP payloads: ferrokv decompresses what Redis's
/// `lzf_compress` wrote, and Redis's RESTORE reads what ferrokv's wrote.
/// Needs a redis-server (ignored by default):
/// `REDIS_REF_URL=redis://127.0.0.1:6390/9 cargo test --test list -- --ignored`.
#[test]
#[ignore]
fn lzf_streams_interoperate_with_redis() {
    assert_eq!(crc64(b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    let url = std::env::var("REDIS_REF_URL").expect("REDIS_REF_URL=redis://host:port/db of a redis-server");
    let mut r = redis::Client::open(url).unwrap().get_connection().unwrap();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut noisy = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let samples: Vec<Vec<u8>> = vec![
        (0..5000).flat_map(|i| format!("value:{i:06}").into_bytes()).collect(),
        b"the quick brown fox jumps over the lazy dog ".repeat(300),
        vec![b'a'; 100_000],
        (0..20_000).map(|_| b"abcd"[(noisy() % 4) as usize]).collect(),
        (0..3000u32).flat_map(|i| (i % 700).to_le_bytes()).collect(),
    ];
    for (k, v) in samples.iter().enumerate() {
        // Redis to ferrokv.
        q::<()>(&mut r, &["DEL", "lzf"]);
        let _: () = redis::cmd("SET").arg("lzf").arg(&v[..]).query(&mut r).unwrap();
        let dump: Vec<u8> = redis::cmd("DUMP").arg("lzf").query(&mut r).unwrap();
        assert_eq!(&dump[..2], [0x00, 0xC3], "sample {k}: an LZF string");
        let mut at = 2;
        let clen = read_rdb_len(&dump, &mut at);
        let len = read_rdb_len(&dump, &mut at);
        let mut out = vec![0; len];
        assert_eq!(ferrokv::lzf::decompress(&dump[at..at + clen], &mut out), Some(v.len()), "sample {k}");
        assert_eq!(&out, v, "sample {k}");
        // ferrokv to Redis.
        let stream = ferrokv::lzf::compress(v, v.len()).expect("compressible");
        let mut payload = vec![0x00, 0xC3];
        rdb_len(&mut payload, stream.len());
        rdb_len(&mut payload, v.len());
        payload.extend_from_slice(&stream);
        payload.extend_from_slice(&[10, 0]);
        let crc = crc64(&payload);
        payload.extend_from_slice(&crc.to_le_bytes());
        let _: () = redis::cmd("RESTORE").arg("lzf").arg(0).arg(payload).arg("REPLACE").query(&mut r).unwrap();
        let back: Vec<u8> = redis::cmd("GET").arg("lzf").query(&mut r).unwrap();
        assert_eq!(&back, v, "sample {k}: Redis read ferrokv's stream");
    }
    q::<()>(&mut r, &["DEL", "lzf"]);
}
