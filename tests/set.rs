//! Set commands through a real client: every command, option and error path
//! with Redis 7.0.15's replies and error texts, the intset/hashtable
//! encodings as OBJECT ENCODING shows them, empty sets deleting their key,
//! *STORE destination semantics, and a model test of random command
//! sequences against a `HashSet`.

mod common;
use common::{err, q, server};
use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestRunner};
use redis::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashSet};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const NOT_POSITIVE: &str = "ERR value is out of range, must be positive";

fn members(c: &mut redis::Connection, args: &[&str]) -> BTreeSet<String> {
    q::<Vec<String>>(c, args).into_iter().collect()
}

fn set_of(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn enc(c: &mut redis::Connection, key: &str) -> String {
    q(c, &["OBJECT", "ENCODING", key])
}

#[test]
fn sadd_srem_membership() {
    let srv = server();
    let mut c = srv.client();
    assert_eq!(q::<i64>(&mut c, &["SADD", "s", "3", "1", "2", "1"]), 3);
    assert_eq!(q::<i64>(&mut c, &["SADD", "s", "2", "a"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SCARD", "s"]), 4);
    assert_eq!(q::<i64>(&mut c, &["SCARD", "missing"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "s", "a"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "s", "1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "s", "01"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "missing", "1"]), 0);
    assert_eq!(q::<Vec<i64>>(&mut c, &["SMISMEMBER", "s", "a", "1", "zz"]), [1, 1, 0]);
    assert_eq!(q::<Vec<i64>>(&mut c, &["SMISMEMBER", "missing", "a", "b"]), [0, 0]);
    assert_eq!(members(&mut c, &["SMEMBERS", "s"]), set_of(&["1", "2", "3", "a"]));
    assert_eq!(q::<Value>(&mut c, &["SMEMBERS", "missing"]), Value::Array(vec![]));
    assert_eq!(q::<i64>(&mut c, &["SREM", "s", "1", "1", "zz"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SREM", "missing", "1"]), 0);
    assert_eq!(q::<String>(&mut c, &["TYPE", "s"]), "set");
    assert_eq!(q::<i64>(&mut c, &["SREM", "s", "2", "3", "a"]), 3);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "s"]), 0);
    // The empty member is a member like any other.
    assert_eq!(q::<i64>(&mut c, &["SADD", "e", ""]), 1);
    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "e", ""]), 1);
    assert_eq!(q::<Vec<String>>(&mut c, &["SMEMBERS", "e"]), [""]);
    let bin: Vec<u8> = (0..=255u8).collect();
    let _: i64 = redis::cmd("SADD").arg("bin").arg(&bin).query(&mut c).unwrap();
    let got: Vec<Vec<u8>> = redis::cmd("SMEMBERS").arg("bin").query(&mut c).unwrap();
    assert_eq!(got, vec![bin]);
}

#[test]
fn intset_replies_in_ascending_order_like_redis() {
    let srv = server();
    let mut c = srv.client();
    q::<i64>(&mut c, &["SADD", "i", "9223372036854775807", "-9223372036854775808", "0", "-1", "10", "2"]);
    assert_eq!(enc(&mut c, "i"), "intset");
    assert_eq!(
        q::<Vec<String>>(&mut c, &["SMEMBERS", "i"]),
        ["-9223372036854775808", "-1", "0", "2", "10", "9223372036854775807"]
    );
    q::<i64>(&mut c, &["SADD", "j", "2", "3", "10"]);
    assert_eq!(q::<Vec<String>>(&mut c, &["SINTER", "i", "j"]), ["2", "10"]);
    assert_eq!(q::<Vec<String>>(&mut c, &["SDIFF", "j", "i"]), ["3"]);
    assert_eq!(
        q::<Vec<String>>(&mut c, &["SUNION", "j", "i"]),
        ["-9223372036854775808", "-1", "0", "2", "3", "10", "9223372036854775807"]
    );
}

#[test]
fn encodings_follow_the_members_and_the_config() {
    let srv = server();
    let mut c = srv.client();
    q::<i64>(&mut c, &["SADD", "s", "1", "2", "3"]);
    assert_eq!(enc(&mut c, "s"), "intset");
    q::<i64>(&mut c, &["SADD", "s", "a"]);
    assert_eq!(enc(&mut c, "s"), "hashtable");
    q::<i64>(&mut c, &["SREM", "s", "a"]);
    assert_eq!(enc(&mut c, "s"), "hashtable");
    // Only canonical integers make an intset.
    for m in ["01", "-0", "+1", " 1", "1.0", "9223372036854775808"] {
        let key = format!("k{m}");
        q::<i64>(&mut c, &["SADD", &key, m]);
        assert_eq!(enc(&mut c, &key), "hashtable", "{m:?}");
    }
    q::<()>(&mut c, &["CONFIG", "SET", "set-max-intset-entries", "2"]);
    q::<i64>(&mut c, &["SADD", "c", "1", "2"]);
    assert_eq!(enc(&mut c, "c"), "intset");
    q::<i64>(&mut c, &["SADD", "c", "3"]);
    assert_eq!(enc(&mut c, "c"), "hashtable");
    q::<i64>(&mut c, &["SREM", "c", "3"]);
    assert_eq!(enc(&mut c, "c"), "hashtable");
    q::<i64>(&mut c, &["SADD", "c2", "1", "2", "3"]);
    q::<i64>(&mut c, &["SUNIONSTORE", "c3", "c2"]);
    assert_eq!(enc(&mut c, "c3"), "hashtable");
    q::<()>(&mut c, &["CONFIG", "SET", "set-max-intset-entries", "512"]);
    // A *STORE result is built afresh: integers make an intset again.
    for cmd in ["SUNIONSTORE", "SINTERSTORE", "SDIFFSTORE"] {
        q::<i64>(&mut c, &[cmd, "c4", "c2"]);
        assert_eq!(enc(&mut c, "c4"), "intset", "{cmd}");
    }
    // SMOVE into a missing key creates an intset for an integer.
    q::<i64>(&mut c, &["SMOVE", "c2", "moved", "1"]);
    assert_eq!(enc(&mut c, "moved"), "intset");
    q::<()>(&mut c, &["CONFIG", "SET", "set-max-intset-entries", "0"]);
    q::<i64>(&mut c, &["SADD", "zero", "1"]);
    assert_eq!(enc(&mut c, "zero"), "hashtable");
    assert_eq!(members(&mut c, &["SMEMBERS", "c"]), set_of(&["1", "2"]));
}

#[test]
fn srandmember() {
    let srv = server();
    let mut c = srv.client();
    let all = set_of(&["1", "2", "3", "a", "b"]);
    q::<i64>(&mut c, &["SADD", "s", "1", "2", "3", "a", "b"]);
    for _ in 0..20 {
        assert!(all.contains(&q::<String>(&mut c, &["SRANDMEMBER", "s"])));
    }
    assert_eq!(q::<Option<String>>(&mut c, &["SRANDMEMBER", "missing"]), None);
    for n in [1, 3, 4, 5, 10] {
        let got: Vec<String> = q(&mut c, &["SRANDMEMBER", "s", &n.to_string()]);
        assert_eq!(got.len(), n.min(5));
        assert_eq!(got.iter().collect::<HashSet<_>>().len(), got.len());
        assert!(got.iter().all(|m| all.contains(m)));
    }
    let got: Vec<String> = q(&mut c, &["SRANDMEMBER", "s", "-30"]);
    assert_eq!(got.len(), 30);
    assert!(got.iter().all(|m| all.contains(m)));
    assert_eq!(q::<Value>(&mut c, &["SRANDMEMBER", "s", "0"]), Value::Array(vec![]));
    assert_eq!(q::<Value>(&mut c, &["SRANDMEMBER", "missing", "2"]), Value::Array(vec![]));
    assert_eq!(q::<Value>(&mut c, &["SRANDMEMBER", "missing", "-2"]), Value::Array(vec![]));
    // An intset too, and every member comes up.
    q::<i64>(&mut c, &["SADD", "i", "5", "6", "7"]);
    let seen: HashSet<String> = q::<Vec<String>>(&mut c, &["SRANDMEMBER", "i", "-300"]).into_iter().collect();
    assert_eq!(seen.len(), 3);
    assert_eq!(q::<i64>(&mut c, &["SCARD", "s"]), 5);
    assert_eq!(
        err(&mut c, &["SRANDMEMBER", "s", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    assert_eq!(err(&mut c, &["SRANDMEMBER", "s", "x"]), NOT_INT);
    assert_eq!(err(&mut c, &["SRANDMEMBER", "s", "1", "2"]), "ERR syntax error");
    // Redis would try to build this reply and run out of memory; ferrokv
    // refuses a negative count whose reply would pass proto-max-bulk-len.
    assert_eq!(
        err(&mut c, &["SRANDMEMBER", "s", "-9223372036854775807"]),
        "ERR count is too large: the reply would exceed proto-max-bulk-len"
    );
}

#[test]
fn spop() {
    let srv = server();
    let mut c = srv.client();
    let all = set_of(&["1", "2", "3", "a", "b"]);
    q::<i64>(&mut c, &["SADD", "s", "1", "2", "3", "a", "b"]);
    let one: String = q(&mut c, &["SPOP", "s"]);
    assert!(all.contains(&one));
    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "s", &one]), 0);
    let two: Vec<String> = q(&mut c, &["SPOP", "s", "2"]);
    assert_eq!(two.len(), 2);
    assert!(two.iter().all(|m| all.contains(m) && *m != one));
    assert_eq!(q::<i64>(&mut c, &["SCARD", "s"]), 2);
    assert_eq!(q::<Value>(&mut c, &["SPOP", "s", "0"]), Value::Array(vec![]));
    let rest: BTreeSet<String> = members(&mut c, &["SPOP", "s", "10"]);
    assert_eq!(rest.len(), 2);
    let mut popped: BTreeSet<String> = rest;
    popped.insert(one);
    popped.extend(two);
    assert_eq!(popped, all);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "s"]), 0);
    assert_eq!(q::<Option<String>>(&mut c, &["SPOP", "s"]), None);
    assert_eq!(q::<Value>(&mut c, &["SPOP", "s", "3"]), Value::Array(vec![]));
    // The last single SPOP deletes the key too (an intset here).
    q::<i64>(&mut c, &["SADD", "one", "7"]);
    assert_eq!(q::<String>(&mut c, &["SPOP", "one"]), "7");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "one"]), 0);
    // A count that empties a hashtable set deletes it as well.
    let big: Vec<String> = (0..600).map(|i| format!("m{i}")).collect();
    let mut sadd = redis::cmd("SADD");
    sadd.arg("big").arg(&big);
    let _: i64 = sadd.query(&mut c).unwrap();
    assert_eq!(q::<Vec<String>>(&mut c, &["SPOP", "big", "400"]).len(), 400);
    assert_eq!(q::<i64>(&mut c, &["SCARD", "big"]), 200);
    assert_eq!(q::<Vec<String>>(&mut c, &["SPOP", "big", "200"]).len(), 200);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "big"]), 0);
    q::<i64>(&mut c, &["SADD", "s", "x"]);
    for bad in ["-1", "x", "1.5"] {
        assert_eq!(err(&mut c, &["SPOP", "s", bad]), NOT_POSITIVE, "{bad}");
    }
    assert_eq!(err(&mut c, &["SPOP", "s", "1", "2"]), "ERR syntax error");
    assert_eq!(q::<i64>(&mut c, &["SCARD", "s"]), 1);
}

#[test]
fn smove() {
    let srv = server();
    let mut c = srv.client();
    q::<i64>(&mut c, &["SADD", "src", "a", "b", "1"]);
    q::<i64>(&mut c, &["SADD", "dst", "x"]);
    q::<()>(&mut c, &["SET", "str", "v"]);
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "src", "dst", "a"]), 1);
    assert_eq!(members(&mut c, &["SMEMBERS", "dst"]), set_of(&["a", "x"]));
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "src", "dst", "zz"]), 0);
    // Already in the destination: still moved out of the source.
    q::<i64>(&mut c, &["SADD", "dst", "b"]);
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "src", "dst", "b"]), 1);
    assert_eq!(members(&mut c, &["SMEMBERS", "src"]), set_of(&["1"]));
    // Same key: membership only.
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "dst", "dst", "a"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "dst", "dst", "zz"]), 0);
    // The last member leaves: the source goes, a missing destination comes.
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "src", "new", "1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "src"]), 0);
    assert_eq!(q::<Vec<String>>(&mut c, &["SMEMBERS", "new"]), ["1"]);
    // A missing source answers 0 even towards a wrong type (Redis order).
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "missing", "str", "a"]), 0);
    assert_eq!(err(&mut c, &["SMOVE", "dst", "str", "a"]), WRONGTYPE);
    assert_eq!(err(&mut c, &["SMOVE", "dst", "str", "zz"]), WRONGTYPE);
    assert_eq!(err(&mut c, &["SMOVE", "str", "dst", "a"]), WRONGTYPE);
    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "dst", "a"]), 1);
}

#[test]
fn sinter_sunion_sdiff() {
    let srv = server();
    let mut c = srv.client();
    q::<i64>(&mut c, &["SADD", "s", "1", "2", "3", "a"]);
    q::<i64>(&mut c, &["SADD", "t", "a", "b", "3"]);
    q::<i64>(&mut c, &["SADD", "u", "a", "z"]);
    assert_eq!(members(&mut c, &["SINTER", "s", "t"]), set_of(&["3", "a"]));
    assert_eq!(members(&mut c, &["SINTER", "s", "t", "u"]), set_of(&["a"]));
    assert_eq!(members(&mut c, &["SINTER", "s"]), set_of(&["1", "2", "3", "a"]));
    assert_eq!(members(&mut c, &["SINTER", "s", "missing"]), set_of(&[]));
    assert_eq!(members(&mut c, &["SUNION", "s", "t", "missing"]), set_of(&["1", "2", "3", "a", "b"]));
    assert_eq!(members(&mut c, &["SUNION", "missing"]), set_of(&[]));
    assert_eq!(members(&mut c, &["SDIFF", "s", "t", "missing"]), set_of(&["1", "2"]));
    assert_eq!(members(&mut c, &["SDIFF", "s", "s"]), set_of(&[]));
    assert_eq!(members(&mut c, &["SDIFF", "missing", "s"]), set_of(&[]));
    assert_eq!(members(&mut c, &["SDIFF", "s"]), set_of(&["1", "2", "3", "a"]));
}

#[test]
fn sintercard() {
    let srv = server();
    let mut c = srv.client();
    q::<i64>(&mut c, &["SADD", "s", "1", "2", "3", "a"]);
    q::<i64>(&mut c, &["SADD", "t", "a", "b", "3"]);
    assert_eq!(q::<i64>(&mut c, &["SINTERCARD", "2", "s", "t"]), 2);
    assert_eq!(q::<i64>(&mut c, &["SINTERCARD", "1", "s"]), 4);
    assert_eq!(q::<i64>(&mut c, &["SINTERCARD", "2", "s", "t", "LIMIT", "1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SINTERCARD", "2", "s", "t", "limit", "0"]), 2);
    assert_eq!(q::<i64>(&mut c, &["SINTERCARD", "2", "s", "t", "LIMIT", "5", "LIMIT", "1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SINTERCARD", "2", "s", "missing"]), 0);
    let numkeys = "ERR numkeys should be greater than 0";
    for n in ["0", "-1", "x", "9223372036854775808"] {
        assert_eq!(err(&mut c, &["SINTERCARD", n, "s"]), numkeys, "{n}");
    }
    let too_many = "ERR Number of keys can't be greater than number of args";
    assert_eq!(err(&mut c, &["SINTERCARD", "3", "s", "t"]), too_many);
    assert_eq!(err(&mut c, &["SINTERCARD", "9223372036854775807", "s"]), too_many);
    assert_eq!(err(&mut c, &["SINTERCARD", "2", "s", "t", "LIMIT"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["SINTERCARD", "2", "s", "t", "FOO", "1"]), "ERR syntax error");
    // "2 s t" then "t" is an extra argument, not a key.
    assert_eq!(err(&mut c, &["SINTERCARD", "1", "s", "t"]), "ERR syntax error");
    for l in ["-1", "x"] {
        assert_eq!(err(&mut c, &["SINTERCARD", "2", "s", "t", "LIMIT", l]), "ERR LIMIT can't be negative");
    }
    q::<()>(&mut c, &["SET", "str", "v"]);
    assert_eq!(err(&mut c, &["SINTERCARD", "2", "s", "str"]), WRONGTYPE);
    assert_eq!(err(&mut c, &["SINTERCARD", "2", "missing", "str"]), WRONGTYPE);
    assert_eq!(err(&mut c, &["SINTERCARD", "1"]), "ERR wrong number of arguments for 'sintercard' command");
}

#[test]
fn store_commands_overwrite_and_delete_their_destination() {
    let srv = server();
    let mut c = srv.client();
    q::<i64>(&mut c, &["SADD", "s", "1", "2", "3", "a"]);
    q::<i64>(&mut c, &["SADD", "t", "a", "b", "3"]);
    // Any type is overwritten, and a TTL dropped.
    q::<()>(&mut c, &["SET", "d", "string", "EX", "100"]);
    assert_eq!(q::<i64>(&mut c, &["SINTERSTORE", "d", "s", "t"]), 2);
    assert_eq!(q::<String>(&mut c, &["TYPE", "d"]), "set");
    assert_eq!(q::<i64>(&mut c, &["TTL", "d"]), -1);
    assert_eq!(members(&mut c, &["SMEMBERS", "d"]), set_of(&["3", "a"]));
    q::<i64>(&mut c, &["HSET", "h", "f", "v"]);
    assert_eq!(q::<i64>(&mut c, &["SUNIONSTORE", "h", "s", "t"]), 5);
    assert_eq!(members(&mut c, &["SMEMBERS", "h"]), set_of(&["1", "2", "3", "a", "b"]));
    assert_eq!(q::<i64>(&mut c, &["SDIFFSTORE", "d", "s", "t"]), 2);
    assert_eq!(members(&mut c, &["SMEMBERS", "d"]), set_of(&["1", "2"]));
    // A source may be the destination.
    assert_eq!(q::<i64>(&mut c, &["SINTERSTORE", "s", "s", "t"]), 2);
    assert_eq!(members(&mut c, &["SMEMBERS", "s"]), set_of(&["3", "a"]));
    // An empty result deletes the destination, whatever it was.
    for cmd in [
        ["SINTERSTORE", "d", "s", "missing"],
        ["SUNIONSTORE", "d", "missing", "nothing"],
        ["SDIFFSTORE", "d", "s", "s"],
    ] {
        q::<()>(&mut c, &["SET", "d", "x"]);
        assert_eq!(q::<i64>(&mut c, &cmd), 0, "{cmd:?}");
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "d"]), 0, "{cmd:?}");
    }
    // A source of the wrong type is refused and the destination kept.
    q::<()>(&mut c, &["SET", "str", "v"]);
    q::<i64>(&mut c, &["SADD", "d", "keep"]);
    for cmd in ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"] {
        assert_eq!(err(&mut c, &[cmd, "d", "t", "str"]), WRONGTYPE, "{cmd}");
        // Redis 7.0 checks every source, even after a missing one.
        assert_eq!(err(&mut c, &[cmd, "d", "missing", "str"]), WRONGTYPE, "{cmd}");
    }
    assert_eq!(q::<Vec<String>>(&mut c, &["SMEMBERS", "d"]), ["keep"]);
}

#[test]
fn sscan() {
    let srv = server();
    let mut c = srv.client();
    q::<i64>(&mut c, &["SADD", "i", "3", "1", "2", "10"]);
    let (cursor, items): (String, Vec<String>) = q(&mut c, &["SSCAN", "i", "0", "COUNT", "1"]);
    assert_eq!((cursor.as_str(), items), ("0", vec!["1".to_string(), "2".into(), "3".into(), "10".into()]));
    let (_, items): (String, Vec<String>) = q(&mut c, &["SSCAN", "i", "0", "MATCH", "1*"]);
    assert_eq!(items, ["1", "10"]);
    let (cursor, items): (String, Vec<String>) = q(&mut c, &["SSCAN", "i", "999"]);
    assert_eq!((cursor.as_str(), items.len()), ("0", 4));
    let (cursor, items): (String, Vec<String>) = q(&mut c, &["SSCAN", "missing", "0", "COUNT", "x"]);
    assert_eq!((cursor.as_str(), items.len()), ("0", 0));
    assert_eq!(err(&mut c, &["SSCAN", "i", "x"]), "ERR invalid cursor");
    assert_eq!(err(&mut c, &["SSCAN", "i", "0", "COUNT", "x"]), NOT_INT);
    for args in
        [&["SSCAN", "i", "0", "COUNT", "0"][..], &["SSCAN", "i", "0", "TYPE", "set"], &["SSCAN", "i", "0", "MATCH"]]
    {
        assert_eq!(err(&mut c, args), "ERR syntax error", "{args:?}");
    }
    // A hashtable set is walked in steps, and members present throughout
    // are all returned while others come and go.
    let big: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
    let _: i64 = redis::cmd("SADD").arg("big").arg(&big).query(&mut c).unwrap();
    let (mut cursor, mut seen, mut round, mut calls) = ("0".to_string(), HashSet::new(), 0, 0);
    loop {
        let (next, items): (String, Vec<String>) = q(&mut c, &["SSCAN", "big", &cursor]);
        calls += 1;
        seen.extend(items);
        for j in 0..12 {
            q::<i64>(&mut c, &["SADD", "big", &format!("churn{round}-{j}")]);
        }
        for j in 0..12 {
            q::<i64>(&mut c, &["SREM", "big", &format!("churn{}-{j}", round / 2)]);
        }
        round += 1;
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    assert!(calls > 50, "{calls}");
    for m in &big {
        assert!(seen.contains(m), "{m} missed");
    }
}

/// Past 65,536 members a set's buckets are split in 16 tables: every command
/// still finds every member, before and after removals that move members
/// (SREM, SPOP one by one) and one that rebuilds the buckets (SPOP count).
#[test]
fn a_set_big_enough_to_split_its_buckets() {
    let srv = server();
    let mut c = srv.client();
    let n = 80_000;
    for chunk in (0..n).collect::<Vec<_>>().chunks(10_000) {
        let members: Vec<String> = chunk.iter().map(|i| format!("m{i}")).collect();
        let _: i64 = redis::cmd("SADD").arg("s").arg(&members).query(&mut c).unwrap();
    }
    assert_eq!(q::<i64>(&mut c, &["SCARD", "s"]), n);
    assert_eq!(q::<i64>(&mut c, &["SADD", "s", "m123", "m79999"]), 0);
    for i in (0..n).step_by(2) {
        assert_eq!(q::<i64>(&mut c, &["SREM", "s", &format!("m{i}")]), 1);
    }
    let popped: Vec<String> = vec![q(&mut c, &["SPOP", "s"])];
    let popped_many: Vec<String> = q(&mut c, &["SPOP", "s", "15000"]);
    assert_eq!(popped_many.len(), 15_000);
    let left = n / 2 - 1 - 15_000;
    assert_eq!(q::<i64>(&mut c, &["SCARD", "s"]), left);
    let all = members(&mut c, &["SMEMBERS", "s"]);
    assert_eq!(all.len() as i64, left);
    for m in &all {
        assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "s", m]), 1, "{m}");
        assert!(!popped.contains(m) && m[1..].parse::<i64>().unwrap() % 2 == 1);
    }
    for m in popped.iter().chain(&popped_many) {
        assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "s", m]), 0, "{m}");
    }
    let (mut cursor, mut seen) = ("0".to_string(), HashSet::new());
    loop {
        let (next, items): (String, Vec<String>) = q(&mut c, &["SSCAN", "s", &cursor, "COUNT", "1000"]);
        seen.extend(items);
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), all.len());
}

#[test]
fn wrongtype_everywhere() {
    let srv = server();
    let mut c = srv.client();
    q::<()>(&mut c, &["SET", "str", "v"]);
    q::<i64>(&mut c, &["SADD", "s", "a"]);
    for args in [
        &["SADD", "str", "a"][..],
        &["SREM", "str", "a"],
        &["SISMEMBER", "str", "a"],
        &["SMISMEMBER", "str", "a"],
        &["SCARD", "str"],
        &["SMEMBERS", "str"],
        &["SRANDMEMBER", "str"],
        &["SRANDMEMBER", "str", "2"],
        &["SPOP", "str"],
        &["SPOP", "str", "1"],
        &["SPOP", "str", "0"],
        &["SINTER", "s", "str"],
        &["SINTER", "missing", "str"],
        &["SUNION", "missing", "str"],
        &["SDIFF", "missing", "str"],
        &["SSCAN", "str", "0"],
        &["SSCAN", "str", "0", "COUNT", "0"],
    ] {
        assert_eq!(err(&mut c, args), WRONGTYPE, "{args:?}");
    }
    // Argument errors first, as Redis checks them first.
    assert_eq!(err(&mut c, &["SPOP", "str", "-1"]), NOT_POSITIVE);
    assert_eq!(err(&mut c, &["SRANDMEMBER", "str", "x"]), NOT_INT);
    assert_eq!(err(&mut c, &["SSCAN", "str", "x"]), "ERR invalid cursor");
    assert_eq!(q::<String>(&mut c, &["GET", "str"]), "v");
    assert_eq!(err(&mut c, &["GET", "s"]), WRONGTYPE);
}

#[test]
fn arity_errors_come_from_the_table() {
    let srv = server();
    let mut c = srv.client();
    for (args, name) in [
        (&["SADD", "s"][..], "sadd"),
        (&["SREM", "s"], "srem"),
        (&["SISMEMBER", "s"], "sismember"),
        (&["SMISMEMBER", "s"], "smismember"),
        (&["SCARD"], "scard"),
        (&["SMEMBERS"], "smembers"),
        (&["SRANDMEMBER"], "srandmember"),
        (&["SPOP"], "spop"),
        (&["SMOVE", "a", "b"], "smove"),
        (&["SINTER"], "sinter"),
        (&["SINTERSTORE", "d"], "sinterstore"),
        (&["SUNION"], "sunion"),
        (&["SUNIONSTORE", "d"], "sunionstore"),
        (&["SDIFF"], "sdiff"),
        (&["SDIFFSTORE", "d"], "sdiffstore"),
        (&["SSCAN", "s"], "sscan"),
    ] {
        assert_eq!(err(&mut c, args), format!("ERR wrong number of arguments for '{name}' command"));
    }
}

#[test]
fn command_info_rows() {
    let srv = server();
    let mut c = srv.client();
    let listed: Vec<String> = q(&mut c, &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "set"]);
    // Redis 7.0.15 lists the 17 set commands and SORT, SORT_RO (@set too).
    assert_eq!(listed.len(), 19, "{listed:?}");
    assert!(listed.iter().any(|n| n == "sort_ro"), "{listed:?}");
    let keys: Vec<String> = q(&mut c, &["COMMAND", "GETKEYS", "SMOVE", "a", "b", "m"]);
    assert_eq!(keys, ["a", "b"]);
    let keys: Vec<String> = q(&mut c, &["COMMAND", "GETKEYS", "SINTERSTORE", "d", "a", "b"]);
    assert_eq!(keys, ["d", "a", "b"]);
}

// ---- Model test -----------------------------------------------------------

/// A reply reduced to what the model predicts.
#[derive(Debug, Clone, PartialEq)]
enum R {
    Nil,
    Int(i64),
    Bulk(String),
    Arr(Vec<R>),
    Err(String),
}

fn norm(v: redis::RedisResult<Value>) -> R {
    match v {
        Err(e) => R::Err(format!("{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or(""))),
        Ok(Value::Nil) => R::Nil,
        Ok(Value::Int(n)) => R::Int(n),
        Ok(Value::BulkString(b)) => R::Bulk(String::from_utf8_lossy(&b).into_owned()),
        Ok(Value::SimpleString(s)) => R::Bulk(s),
        Ok(Value::Array(a) | Value::Set(a)) => R::Arr(a.into_iter().map(|v| norm(Ok(v))).collect()),
        Ok(other) => panic!("unexpected {other:?}"),
    }
}

fn bulks<'a>(it: impl IntoIterator<Item = &'a String>) -> R {
    let mut v: Vec<String> = it.into_iter().cloned().collect();
    v.sort();
    R::Arr(v.into_iter().map(R::Bulk).collect())
}

/// One key of the model: the members and whether the set was ever too big
/// or non-integer for an intset (the encoding never goes back).
#[derive(Default, Clone, Debug)]
struct MSet {
    members: BTreeSet<String>,
    converted: bool,
}

impl MSet {
    fn add(&mut self, m: &str) -> bool {
        let new = self.members.insert(m.to_string());
        let canonical = m.parse::<i64>().is_ok_and(|n| n.to_string() == m);
        if !canonical || self.members.len() > MAX_INTSET {
            self.converted = true;
        }
        new
    }

    /// A set built afresh from `members`, as the *STORE commands and SMOVE
    /// into a new key do.
    fn built(members: impl IntoIterator<Item = String>) -> MSet {
        let mut s = MSet::default();
        members.into_iter().for_each(|m| {
            s.add(&m);
        });
        s
    }
}

const MAX_INTSET: usize = 4;
const KEYS: [&str; 4] = ["s0", "s1", "s2", "str"];
const MEMBERS: [&str; 9] = ["1", "2", "-3", "10", "01", "a", "b", "", "9223372036854775807"];

/// What Redis replies to `args` given `db`, applying the change. Commands
/// with a random outcome (SPOP, SRANDMEMBER) are checked against the model
/// and the model is updated from the real reply.
/// `strs` are the keys holding strings.
fn model(db: &mut BTreeMap<String, MSet>, strs: &mut BTreeSet<String>, args: &[&str], got: &R) -> R {
    let wt = || R::Err(WRONGTYPE.into());
    let is_str = |k: &str| strs.contains(k);
    let get = |db: &BTreeMap<String, MSet>, k: &str| db.get(k).cloned().unwrap_or_default();
    let key = args[1].to_string();
    let reply = match args[0] {
        "EXISTS" => R::Int((is_str(&key) || db.contains_key(&key)) as i64),
        "TYPE" => R::Bulk(
            if is_str(&key) {
                "string"
            } else if db.contains_key(&key) {
                "set"
            } else {
                "none"
            }
            .into(),
        ),
        "OBJECT" if is_str(&key) => R::Bulk("embstr".into()),
        "OBJECT" => db.get(&key).map_or(R::Nil, |s| R::Bulk(if s.converted { "hashtable" } else { "intset" }.into())),
        "SINTER" | "SUNION" | "SDIFF" | "SINTERSTORE" | "SUNIONSTORE" | "SDIFFSTORE" | "SINTERCARD" => {
            let (dst, srcs): (Option<&str>, Vec<&str>) = match args[0] {
                "SINTERCARD" => (None, args[2..2 + args[1].parse::<usize>().unwrap()].to_vec()),
                c if c.ends_with("STORE") => (Some(args[1]), args[2..].to_vec()),
                _ => (None, args[1..].to_vec()),
            };
            if srcs.iter().any(|k| is_str(k)) {
                return wt();
            }
            let sets: Vec<BTreeSet<String>> = srcs.iter().map(|k| get(db, k).members).collect();
            let result: BTreeSet<String> = match args[0] {
                "SINTER" | "SINTERSTORE" | "SINTERCARD" => {
                    sets[0].iter().filter(|m| sets[1..].iter().all(|s| s.contains(*m))).cloned().collect()
                }
                "SUNION" | "SUNIONSTORE" => sets.iter().flatten().cloned().collect(),
                _ => sets[0].iter().filter(|m| !sets[1..].iter().any(|s| s.contains(*m))).cloned().collect(),
            };
            if args[0] == "SINTERCARD" {
                let limit: usize = args.last().unwrap().parse().unwrap();
                let n = result.len();
                return R::Int(if limit == 0 { n } else { n.min(limit) } as i64);
            }
            match dst {
                Some(dst) => {
                    let n = result.len();
                    strs.remove(dst);
                    db.remove(dst);
                    if n > 0 {
                        db.insert(dst.to_string(), MSet::built(result));
                    }
                    return R::Int(n as i64);
                }
                None => bulks(&result),
            }
        }
        _ if is_str(&key) => return wt(),
        "SADD" => {
            let s = db.entry(key.clone()).or_default();
            R::Int(args[2..].iter().filter(|m| s.add(m)).count() as i64)
        }
        "SREM" => match db.get_mut(&key) {
            None => R::Int(0),
            Some(s) => R::Int(args[2..].iter().filter(|m| s.members.remove(**m)).count() as i64),
        },
        "SISMEMBER" => R::Int(get(db, &key).members.contains(args[2]) as i64),
        "SMISMEMBER" => {
            let s = get(db, &key);
            R::Arr(args[2..].iter().map(|m| R::Int(s.members.contains(*m) as i64)).collect())
        }
        "SCARD" => R::Int(get(db, &key).members.len() as i64),
        "SMEMBERS" => bulks(&get(db, &key).members),
        "SMOVE" => {
            let (src, dst, m) = (args[1], args[2], args[3]);
            if !db.contains_key(src) {
                return R::Int(0);
            }
            if is_str(dst) {
                return wt();
            }
            let present = db[src].members.contains(m);
            if src == dst || !present {
                return R::Int(present as i64);
            }
            db.get_mut(src).unwrap().members.remove(m);
            if db[src].members.is_empty() {
                db.remove(src);
            }
            db.entry(dst.to_string()).or_default().add(m);
            R::Int(1)
        }
        "SPOP" => {
            let s = get(db, &key);
            let popped: Vec<String> = match (args.len(), got) {
                (2, R::Nil) if s.members.is_empty() => vec![],
                (2, R::Bulk(m)) => vec![m.clone()],
                (3, R::Arr(items)) => {
                    items.iter().map(|r| if let R::Bulk(m) = r { m.clone() } else { "?".into() }).collect()
                }
                _ => return R::Err(format!("unexpected SPOP reply {got:?} for {s:?}")),
            };
            let want = if args.len() == 2 {
                1.min(s.members.len())
            } else {
                args[2].parse::<usize>().unwrap().min(s.members.len())
            };
            let distinct: BTreeSet<&String> = popped.iter().collect();
            if popped.len() != want || distinct.len() != want || !popped.iter().all(|m| s.members.contains(m)) {
                return R::Err(format!("bad SPOP reply {got:?} for {s:?}"));
            }
            if let Some(s) = db.get_mut(&key) {
                popped.iter().for_each(|m| {
                    s.members.remove(m);
                });
            }
            got.clone()
        }
        "SRANDMEMBER" => {
            let s = get(db, &key);
            let n: i64 = args[2].parse().unwrap();
            let R::Arr(items) = got else { return R::Err(format!("unexpected SRANDMEMBER reply {got:?}")) };
            let items: Vec<String> =
                items.iter().map(|r| if let R::Bulk(m) = r { m.clone() } else { "?".into() }).collect();
            let len = s.members.len();
            let want = if n < 0 && len > 0 { n.unsigned_abs() as usize } else { (n.max(0) as usize).min(len) };
            let distinct = items.iter().collect::<BTreeSet<_>>().len() == items.len();
            if items.len() != want || (n > 0 && !distinct) || !items.iter().all(|m| s.members.contains(m)) {
                return R::Err(format!("bad SRANDMEMBER reply {got:?} for {s:?}"));
            }
            got.clone()
        }
        other => panic!("no model for {other}"),
    };
    if db.get(&key).is_some_and(|s| s.members.is_empty()) {
        db.remove(&key);
    }
    reply
}

/// A random command over a few keys and members.
fn command() -> impl Strategy<Value = Vec<&'static str>> {
    let key = prop::sample::select(&KEYS[..]);
    let m = prop::sample::select(&MEMBERS[..]);
    let n = prop::sample::select(&["0", "1", "2", "5", "-1", "-3"][..]);
    let pos = prop::sample::select(&["0", "1", "2", "5"][..]);
    prop_oneof![
        5 => (key.clone(), m.clone(), m.clone()).prop_map(|(k, a, b)| vec!["SADD", k, a, b]),
        3 => (key.clone(), m.clone(), m.clone()).prop_map(|(k, a, b)| vec!["SREM", k, a, b]),
        1 => (key.clone(), m.clone()).prop_map(|(k, a)| vec!["SISMEMBER", k, a]),
        1 => (key.clone(), m.clone(), m.clone()).prop_map(|(k, a, b)| vec!["SMISMEMBER", k, a, b]),
        1 => key.clone().prop_map(|k| vec!["SCARD", k]),
        2 => key.clone().prop_map(|k| vec!["SMEMBERS", k]),
        1 => (key.clone(), n).prop_map(|(k, n)| vec!["SRANDMEMBER", k, n]),
        1 => key.clone().prop_map(|k| vec!["SPOP", k]),
        1 => (key.clone(), pos.clone()).prop_map(|(k, n)| vec!["SPOP", k, n]),
        2 => (key.clone(), key.clone(), m).prop_map(|(a, b, m)| vec!["SMOVE", a, b, m]),
        1 => (key.clone(), key.clone()).prop_map(|(a, b)| vec!["SINTER", a, b]),
        1 => (key.clone(), key.clone(), key.clone()).prop_map(|(a, b, c)| vec!["SUNION", a, b, c]),
        1 => (key.clone(), key.clone()).prop_map(|(a, b)| vec!["SDIFF", a, b]),
        1 => (key.clone(), key.clone(), pos).prop_map(|(a, b, l)| vec!["SINTERCARD", "2", a, b, "LIMIT", l]),
        1 => (key.clone(), key.clone(), key.clone()).prop_map(|(d, a, b)| vec!["SINTERSTORE", d, a, b]),
        1 => (key.clone(), key.clone(), key.clone()).prop_map(|(d, a, b)| vec!["SUNIONSTORE", d, a, b]),
        1 => (key.clone(), key.clone(), key.clone()).prop_map(|(d, a, b)| vec!["SDIFFSTORE", d, a, b]),
        1 => key.clone().prop_map(|k| vec!["EXISTS", k]),
        1 => key.clone().prop_map(|k| vec!["TYPE", k]),
        2 => key.prop_map(|k| vec!["OBJECT", k]),
    ]
}

/// Sorts the replies whose order is the table's.
fn canon(cmd: &str, r: R) -> R {
    match (cmd, r) {
        ("SMEMBERS" | "SINTER" | "SUNION" | "SDIFF", R::Arr(mut v)) => {
            v.sort_by_key(|x| format!("{x:?}"));
            R::Arr(v)
        }
        (_, r) => r,
    }
}

#[test]
fn random_command_sequences_match_a_model() {
    let srv = server();
    let con = RefCell::new(srv.client());
    q::<()>(&mut con.borrow_mut(), &["CONFIG", "SET", "set-max-intset-entries", &MAX_INTSET.to_string()]);
    let mut runner = TestRunner::new(PropConfig { cases: 64, failure_persistence: None, ..PropConfig::default() });
    let result = runner.run(&prop::collection::vec(command(), 1..60), |cmds| {
        let mut c = con.borrow_mut();
        q::<()>(&mut c, &["FLUSHALL"]);
        q::<()>(&mut c, &["SET", "str", "v"]);
        let mut db = BTreeMap::new();
        let mut strs = BTreeSet::from(["str".to_string()]);
        for args in cmds {
            let real: Vec<&str> = if args[0] == "OBJECT" { vec!["OBJECT", "ENCODING", args[1]] } else { args.clone() };
            let mut cmd = redis::cmd(real[0]);
            real[1..].iter().for_each(|a| {
                cmd.arg(*a);
            });
            let got = canon(args[0], norm(cmd.query::<Value>(&mut *c)));
            let expected = canon(args[0], model(&mut db, &mut strs, &args, &got));
            prop_assert_eq!(got, expected, "{:?}", args);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
