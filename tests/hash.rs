//! Hash commands through a real client: every command, option and error
//! path with Redis 7.0.15's replies and error texts, the listpack/hashtable
//! encodings as OBJECT ENCODING shows them, empty hashes deleting their key,
//! and a model test of random command sequences against a `HashMap`.

mod common;
use common::{err, q, server};
use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestRunner};
use redis::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_INT: &str = "ERR value is not an integer or out of range";

/// HSCAN to the end: every (field, value) returned, and how many calls.
fn hscan_all(c: &mut redis::Connection, key: &str, extra: &[&str]) -> (Vec<(String, String)>, usize) {
    let mut cursor = "0".to_string();
    let (mut out, mut calls) = (Vec::new(), 0);
    loop {
        let mut args = vec!["HSCAN", key, &cursor];
        args.extend_from_slice(extra);
        let (next, items): (String, Vec<String>) = q(c, &args);
        calls += 1;
        out.extend(items.chunks(2).map(|p| (p[0].clone(), p[1].clone())));
        cursor = next;
        if cursor == "0" {
            return (out, calls);
        }
    }
}

#[test]
fn hset_hget_and_friends() {
    let srv = server();
    let mut c = srv.client();
    assert_eq!(q::<i64>(&mut c, &["HSET", "h", "a", "1", "b", "2", "c", "3"]), 3);
    // Updating counts nothing new; a repeated field counts once.
    assert_eq!(q::<i64>(&mut c, &["HSET", "h", "a", "9", "d", "4", "d", "5"]), 1);
    assert_eq!(q::<String>(&mut c, &["HGET", "h", "a"]), "9");
    assert_eq!(q::<String>(&mut c, &["HGET", "h", "d"]), "5");
    assert_eq!(q::<Option<String>>(&mut c, &["HGET", "h", "zz"]), None);
    assert_eq!(q::<Option<String>>(&mut c, &["HGET", "missing", "a"]), None);
    assert_eq!(q::<String>(&mut c, &["HMSET", "h", "e", "5"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["HSETNX", "h", "a", "x"]), 0);
    assert_eq!(q::<i64>(&mut c, &["HSETNX", "h", "f", "6"]), 1);
    assert_eq!(q::<i64>(&mut c, &["HSETNX", "new", "f", "6"]), 1);
    assert_eq!(q::<String>(&mut c, &["HGET", "h", "a"]), "9");
    assert_eq!(
        q::<Vec<Option<String>>>(&mut c, &["HMGET", "h", "b", "zz", "c"]),
        vec![Some("2".into()), None, Some("3".into())]
    );
    assert_eq!(q::<Vec<Option<String>>>(&mut c, &["HMGET", "missing", "a", "b"]), vec![None, None]);
    assert_eq!(q::<i64>(&mut c, &["HLEN", "h"]), 6);
    assert_eq!(q::<i64>(&mut c, &["HLEN", "missing"]), 0);
    q::<i64>(&mut c, &["HSET", "h", "long", "hello world"]);
    assert_eq!(q::<i64>(&mut c, &["HSTRLEN", "h", "long"]), 11);
    assert_eq!(q::<i64>(&mut c, &["HSTRLEN", "h", "zz"]), 0);
    assert_eq!(q::<i64>(&mut c, &["HSTRLEN", "missing", "zz"]), 0);
    assert_eq!(q::<i64>(&mut c, &["HEXISTS", "h", "a"]), 1);
    assert_eq!(q::<i64>(&mut c, &["HEXISTS", "h", "zz"]), 0);
    assert_eq!(q::<i64>(&mut c, &["HEXISTS", "missing", "a"]), 0);
    assert_eq!(q::<String>(&mut c, &["TYPE", "h"]), "hash");
    // Empty field and value are fine; binary data round-trips.
    assert_eq!(q::<i64>(&mut c, &["HSET", "e", "", ""]), 1);
    assert_eq!(q::<String>(&mut c, &["HGET", "e", ""]), "");
    let bin: Vec<u8> = (0..=255u8).collect();
    let _: i64 = redis::cmd("HSET").arg("bin").arg(&bin).arg(&bin).query(&mut c).unwrap();
    let got: Vec<u8> = redis::cmd("HGET").arg("bin").arg(&bin).query(&mut c).unwrap();
    assert_eq!(got, bin);
}

/// Past 65,536 fields a hash's buckets are split in 16 tables: updates,
/// deletions (which move the last pair into the hole) and HSCAN still see
/// every field exactly as written.
#[test]
fn a_hash_big_enough_to_split_its_buckets() {
    let srv = server();
    let mut c = srv.client();
    let n = 70_000;
    for chunk in (0..n).collect::<Vec<_>>().chunks(10_000) {
        let mut cmd = redis::cmd("HSET");
        cmd.arg("h");
        for i in chunk {
            cmd.arg(format!("f{i}")).arg(format!("v{i}"));
        }
        let _: i64 = cmd.query(&mut c).unwrap();
    }
    assert_eq!(q::<i64>(&mut c, &["HLEN", "h"]), n);
    assert_eq!(q::<i64>(&mut c, &["HSET", "h", "f7", "new"]), 0);
    let mut del = redis::cmd("HDEL");
    del.arg("h");
    for i in (0..n).filter(|i| i % 3 == 0) {
        del.arg(format!("f{i}"));
    }
    let _: i64 = del.query(&mut c).unwrap();
    let (pairs, _) = hscan_all(&mut c, "h", &["COUNT", "1000"]);
    let got: HashMap<String, String> = pairs.into_iter().collect();
    assert_eq!(got.len() as i64, q::<i64>(&mut c, &["HLEN", "h"]));
    for i in 0..n {
        let want = match i {
            _ if i % 3 == 0 => None,
            7 => Some("new".to_string()),
            _ => Some(format!("v{i}")),
        };
        assert_eq!(got.get(&format!("f{i}")), want.as_ref(), "f{i}");
    }
    assert_eq!(q::<Option<String>>(&mut c, &["HGET", "h", "f69998"]), Some("v69998".into()));
    assert_eq!(q::<Option<String>>(&mut c, &["HGET", "h", "f69999"]), None);
}

#[test]
fn listpack_order_is_insertion_order_like_redis() {
    let srv = server();
    let mut c = srv.client();
    q::<i64>(&mut c, &["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    q::<i64>(&mut c, &["HSET", "h", "a", "9"]);
    // Redis 7.0.15: an update stays in place.
    assert_eq!(q::<Vec<String>>(&mut c, &["HGETALL", "h"]), ["a", "9", "b", "2", "c", "3"]);
    q::<i64>(&mut c, &["HDEL", "h", "a"]);
    q::<i64>(&mut c, &["HSET", "h", "a", "1"]);
    // ...and a re-added field goes to the end.
    assert_eq!(q::<Vec<String>>(&mut c, &["HKEYS", "h"]), ["b", "c", "a"]);
    assert_eq!(q::<Vec<String>>(&mut c, &["HVALS", "h"]), ["2", "3", "1"]);
    let v: Value = q(&mut c, &["HGETALL", "missing"]);
    assert_eq!(v, Value::Array(vec![]));
    assert_eq!(q::<Value>(&mut c, &["HKEYS", "missing"]), Value::Array(vec![]));
    assert_eq!(q::<Value>(&mut c, &["HVALS", "missing"]), Value::Array(vec![]));
}

#[test]
fn hdel_counts_and_deletes_the_empty_key() {
    let srv = server();
    let mut c = srv.client();
    q::<i64>(&mut c, &["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(q::<i64>(&mut c, &["HDEL", "h", "a", "a", "zz"]), 1);
    assert_eq!(q::<i64>(&mut c, &["HDEL", "missing", "a"]), 0);
    assert_eq!(q::<i64>(&mut c, &["HDEL", "h", "b", "c"]), 2);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "h"]), 0);
    assert_eq!(q::<String>(&mut c, &["TYPE", "h"]), "none");
    // Same for a hashtable-encoded hash.
    let big = "x".repeat(100);
    q::<i64>(&mut c, &["HSET", "t", "f", &big]);
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "t"]), "hashtable");
    assert_eq!(q::<i64>(&mut c, &["HDEL", "t", "f"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "t"]), 0);
}

#[test]
fn hset_keeps_the_ttl_and_wrong_arity_writes_nothing() {
    let srv = server();
    let mut c = srv.client();
    q::<i64>(&mut c, &["HSET", "h", "a", "1"]);
    q::<i64>(&mut c, &["EXPIRE", "h", "100"]);
    q::<i64>(&mut c, &["HSET", "h", "b", "2"]);
    assert!(q::<i64>(&mut c, &["TTL", "h"]) > 0);
    assert_eq!(err(&mut c, &["HSET", "n", "a", "1", "b"]), "ERR wrong number of arguments for 'hset' command");
    assert_eq!(err(&mut c, &["HMSET", "n", "a", "1", "b"]), "ERR wrong number of arguments for 'hmset' command");
    assert_eq!(err(&mut c, &["HSET", "n", "a"]), "ERR wrong number of arguments for 'hset' command");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "n"]), 0);
}

#[test]
fn hincrby() {
    let srv = server();
    let mut c = srv.client();
    assert_eq!(q::<i64>(&mut c, &["HINCRBY", "h", "n", "5"]), 5);
    assert_eq!(q::<i64>(&mut c, &["HINCRBY", "h", "n", "-7"]), -2);
    assert_eq!(q::<String>(&mut c, &["HGET", "h", "n"]), "-2");
    q::<i64>(&mut c, &["HSET", "h", "max", "9223372036854775807", "min", "-9223372036854775808"]);
    assert_eq!(err(&mut c, &["HINCRBY", "h", "max", "1"]), "ERR increment or decrement would overflow");
    assert_eq!(err(&mut c, &["HINCRBY", "h", "min", "-1"]), "ERR increment or decrement would overflow");
    assert_eq!(q::<i64>(&mut c, &["HINCRBY", "h", "min", "9223372036854775807"]), -1);
    for v in ["abc", " 1", "1.0", "01", "", "99999999999999999999"] {
        q::<i64>(&mut c, &["HSET", "h", "bad", v]);
        assert_eq!(err(&mut c, &["HINCRBY", "h", "bad", "1"]), "ERR hash value is not an integer", "{v:?}");
    }
    assert_eq!(err(&mut c, &["HINCRBY", "h", "n", "x"]), NOT_INT);
    assert_eq!(err(&mut c, &["HINCRBY", "h", "n", "1.5"]), NOT_INT);
    // A failed HINCRBY on a missing key creates nothing.
    assert_eq!(err(&mut c, &["HINCRBY", "none", "n", "x"]), NOT_INT);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "none"]), 0);
}

#[test]
fn hincrbyfloat() {
    let srv = server();
    let mut c = srv.client();
    // Replies Redis 7.0.15 gives for the same sequence.
    for (by, want) in [("1.5", "1.5"), ("-3.5", "-2"), ("2", "0"), ("0", "0"), ("1e2", "100"), ("5.0e3", "5100")] {
        assert_eq!(q::<String>(&mut c, &["HINCRBYFLOAT", "h", "f", by]), want, "{by}");
    }
    assert_eq!(q::<String>(&mut c, &["HGET", "h", "f"]), "5100");
    assert_eq!(q::<String>(&mut c, &["HINCRBYFLOAT", "h", "x", ".5"]), "0.5");
    assert_eq!(q::<String>(&mut c, &["HINCRBYFLOAT", "h", "y", "1."]), "1");
    assert_eq!(q::<String>(&mut c, &["HINCRBYFLOAT", "h", "z", "-0"]), "0");
    assert_eq!(q::<String>(&mut c, &["HINCRBYFLOAT", "h", "w", "-0.0"]), "0");
    q::<i64>(&mut c, &["HSET", "h", "int", "10"]);
    assert_eq!(q::<String>(&mut c, &["HINCRBYFLOAT", "h", "int", "0.25"]), "10.25");
    q::<i64>(&mut c, &["HSET", "h", "dec", "1.0"]);
    assert_eq!(q::<String>(&mut c, &["HINCRBYFLOAT", "h", "dec", "1"]), "2");
    let not_float = "ERR value is not a valid float";
    for by in ["abc", "", " 1", "1 ", "1e", "nan"] {
        assert_eq!(err(&mut c, &["HINCRBYFLOAT", "h", "f", by]), not_float, "{by:?}");
    }
    for by in ["inf", "-inf", "+inf"] {
        assert_eq!(err(&mut c, &["HINCRBYFLOAT", "h", "f", by]), "ERR value is NaN or Infinity");
    }
    for v in ["abc", " 1", ""] {
        q::<i64>(&mut c, &["HSET", "h", "bad", v]);
        assert_eq!(err(&mut c, &["HINCRBYFLOAT", "h", "bad", "1"]), "ERR hash value is not a float", "{v:?}");
    }
    // Redis adds in long double, which still holds this sum: its 309 digits.
    q::<i64>(&mut c, &["HSET", "h", "huge", "1.7e308"]);
    let sum: String = q(&mut c, &["HINCRBYFLOAT", "h", "huge", "1.7e308"]);
    assert!(sum.starts_with("340000000000000000006273556050395193590540427779388267466087"), "{sum}");
    assert_eq!((sum.len(), q::<String>(&mut c, &["HGET", "h", "huge"])), (309, sum.clone()));
    q::<i64>(&mut c, &["HSET", "h", "huge", "1e4932"]);
    assert_eq!(err(&mut c, &["HINCRBYFLOAT", "h", "huge", "1e4932"]), "ERR increment would produce NaN or Infinity");
    assert_eq!(err(&mut c, &["HINCRBYFLOAT", "none", "f", "inf"]), "ERR value is NaN or Infinity");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "none"]), 0);
}

#[test]
fn hrandfield() {
    let srv = server();
    let mut c = srv.client();
    let fields = ["a", "b", "c", "d", "e"];
    for (i, f) in fields.iter().enumerate() {
        q::<i64>(&mut c, &["HSET", "h", f, &i.to_string()]);
    }
    let model: HashMap<String, String> =
        fields.iter().enumerate().map(|(i, f)| (f.to_string(), i.to_string())).collect();
    for _ in 0..20 {
        let f: String = q(&mut c, &["HRANDFIELD", "h"]);
        assert!(model.contains_key(&f));
    }
    assert_eq!(q::<Option<String>>(&mut c, &["HRANDFIELD", "missing"]), None);
    // Positive count: distinct fields, at most the hash.
    for n in [1, 3, 4, 5, 10] {
        let got: Vec<String> = q(&mut c, &["HRANDFIELD", "h", &n.to_string()]);
        assert_eq!(got.len(), n.min(5));
        assert_eq!(got.iter().collect::<HashSet<_>>().len(), got.len());
        assert!(got.iter().all(|f| model.contains_key(f)));
    }
    // Negative count: exactly that many, repeats allowed.
    let got: Vec<String> = q(&mut c, &["HRANDFIELD", "h", "-20"]);
    assert_eq!(got.len(), 20);
    assert!(got.iter().all(|f| model.contains_key(f)));
    // WITHVALUES: pairs that belong together (RESP2: a flat array).
    for n in ["3", "-8", "100"] {
        let got: Vec<String> = q(&mut c, &["HRANDFIELD", "h", n, "WITHVALUES"]);
        let pairs = n.parse::<i64>().unwrap().unsigned_abs().min(if n.starts_with('-') { 100 } else { 5 });
        assert_eq!(got.len() as u64, pairs * 2, "{n}");
        for p in got.chunks(2) {
            assert_eq!(model.get(&p[0]), Some(&p[1]));
        }
    }
    assert_eq!(q::<Vec<String>>(&mut c, &["HRANDFIELD", "h", "0"]), Vec::<String>::new());
    assert_eq!(q::<Vec<String>>(&mut c, &["HRANDFIELD", "h", "0", "withvalues"]), Vec::<String>::new());
    assert_eq!(q::<Vec<String>>(&mut c, &["HRANDFIELD", "missing", "5", "WITHVALUES"]), Vec::<String>::new());
    // Every field comes up eventually (a hashtable too).
    let big = "x".repeat(80);
    q::<i64>(&mut c, &["HSET", "t", "a", &big, "b", "1", "c", "2"]);
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "t"]), "hashtable");
    let seen: HashSet<String> = q::<Vec<String>>(&mut c, &["HRANDFIELD", "t", "-300"]).into_iter().collect();
    assert_eq!(seen.len(), 3);
    let two: Vec<String> = q(&mut c, &["HRANDFIELD", "t", "2", "WITHVALUES"]);
    assert_eq!(two.len(), 4);
}

#[test]
fn hrandfield_errors() {
    let srv = server();
    let mut c = srv.client();
    q::<i64>(&mut c, &["HSET", "h", "a", "1"]);
    assert_eq!(
        err(&mut c, &["HRANDFIELD", "h", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    assert_eq!(err(&mut c, &["HRANDFIELD", "h", "abc"]), NOT_INT);
    // The count is checked before the option (Redis 7.0.15 order).
    assert_eq!(err(&mut c, &["HRANDFIELD", "h", "x", "withvalue"]), NOT_INT);
    assert_eq!(err(&mut c, &["HRANDFIELD", "h", "1", "withvalue"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["HRANDFIELD", "h", "1", "withvalues", "x"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["HRANDFIELD", "missing", "1", "withvalue"]), "ERR syntax error");
    for n in ["-9223372036854775807", "-4611686018427387904", "4611686018427387904"] {
        assert_eq!(err(&mut c, &["HRANDFIELD", "h", n, "WITHVALUES"]), "ERR value is out of range");
    }
    // Redis would try to build this reply and run out of memory; ferrokv
    // refuses a negative count whose reply would pass proto-max-bulk-len.
    assert_eq!(
        err(&mut c, &["HRANDFIELD", "h", "-4611686018427387903", "WITHVALUES"]),
        "ERR count is too large: the reply would exceed proto-max-bulk-len"
    );
    assert_eq!(
        err(&mut c, &["HRANDFIELD", "h", "-9223372036854775807"]),
        "ERR count is too large: the reply would exceed proto-max-bulk-len"
    );
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
}

#[test]
fn hscan() {
    let srv = server();
    let mut c = srv.client();
    q::<i64>(&mut c, &["HSET", "h", "a", "1", "b", "2", "ab", "3"]);
    // A listpack comes back whole with cursor 0, whatever COUNT says.
    let (cursor, items): (String, Vec<String>) = q(&mut c, &["HSCAN", "h", "0", "COUNT", "1"]);
    assert_eq!(
        (cursor.as_str(), items),
        ("0", vec!["a".into(), "1".into(), "b".into(), "2".into(), "ab".into(), "3".into()])
    );
    let (_, items): (String, Vec<String>) = q(&mut c, &["HSCAN", "h", "0", "MATCH", "a*"]);
    assert_eq!(items, ["a", "1", "ab", "3"]);
    let (_, items): (String, Vec<String>) = q(&mut c, &["HSCAN", "h", "0", "match", "[b]", "count", "5"]);
    assert_eq!(items, ["b", "2"]);
    // Any cursor on a listpack (Redis 7.0.15 does the same).
    let (cursor, items): (String, Vec<String>) = q(&mut c, &["HSCAN", "h", "12345"]);
    assert_eq!((cursor.as_str(), items.len()), ("0", 6));
    let (cursor, items): (String, Vec<String>) = q(&mut c, &["HSCAN", "missing", "0"]);
    assert_eq!((cursor.as_str(), items.len()), ("0", 0));
    // A missing key answers before the options are read.
    let (cursor, _): (String, Vec<String>) = q(&mut c, &["HSCAN", "missing", "0", "COUNT", "abc"]);
    assert_eq!(cursor, "0");
    assert_eq!(err(&mut c, &["HSCAN", "h", "x"]), "ERR invalid cursor");
    assert_eq!(err(&mut c, &["HSCAN", "missing", "x"]), "ERR invalid cursor");
    assert_eq!(err(&mut c, &["HSCAN", "h", "18446744073709551616"]), "ERR invalid cursor");
    assert_eq!(err(&mut c, &["HSCAN", "h", " 1"]), "ERR invalid cursor");
    for args in [
        &["HSCAN", "h", "0", "COUNT", "0"][..],
        &["HSCAN", "h", "0", "COUNT", "-1"],
        &["HSCAN", "h", "0", "TYPE", "string"],
        &["HSCAN", "h", "0", "MATCH"],
        &["HSCAN", "h", "0", "FOO", "bar"],
    ] {
        assert_eq!(err(&mut c, args), "ERR syntax error", "{args:?}");
    }
    assert_eq!(err(&mut c, &["HSCAN", "h", "0", "COUNT", "x"]), NOT_INT);
}

#[test]
fn hscan_hashtable_walks_everything_through_changes() {
    let srv = server();
    let mut c = srv.client();
    for i in 0..1000 {
        q::<i64>(&mut c, &["HSET", "big", &format!("f{i}"), &i.to_string()]);
    }
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "big"]), "hashtable");
    let (all, calls) = hscan_all(&mut c, "big", &[]);
    assert!(calls > 10, "{calls}");
    let fields: HashMap<String, String> = all.into_iter().collect();
    assert_eq!(fields.len(), 1000);
    assert_eq!(fields["f7"], "7");
    let (matched, _) = hscan_all(&mut c, "big", &["MATCH", "f99*", "COUNT", "100"]);
    let mut names: Vec<String> = matched.into_iter().map(|(f, _)| f).collect();
    names.sort();
    assert_eq!(names, ["f99", "f990", "f991", "f992", "f993", "f994", "f995", "f996", "f997", "f998", "f999"]);
    // Add and delete other fields between calls: every field present
    // throughout is still returned.
    let mut cursor = "0".to_string();
    let mut seen = HashSet::new();
    let mut round = 0;
    loop {
        let (next, items): (String, Vec<String>) = q(&mut c, &["HSCAN", "big", &cursor, "COUNT", "25"]);
        seen.extend(items.chunks(2).map(|p| p[0].clone()));
        for j in 0..30 {
            q::<i64>(&mut c, &["HSET", "big", &format!("churn{round}-{j}"), "x"]);
        }
        for j in 0..30 {
            q::<i64>(&mut c, &["HDEL", "big", &format!("churn{}-{j}", round / 2)]);
        }
        round += 1;
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    for i in 0..1000 {
        assert!(seen.contains(&format!("f{i}")), "f{i} missed");
    }
}

#[test]
fn encodings_follow_the_config() {
    let srv = server();
    let mut c = srv.client();
    let enc = |c: &mut redis::Connection, k: &str| q::<String>(c, &["OBJECT", "ENCODING", k]);
    q::<i64>(&mut c, &["HSET", "h", "a", "1"]);
    assert_eq!(enc(&mut c, "h"), "listpack");
    q::<()>(&mut c, &["CONFIG", "SET", "hash-max-listpack-entries", "2"]);
    q::<i64>(&mut c, &["HSET", "h", "b", "2"]);
    assert_eq!(enc(&mut c, "h"), "listpack");
    q::<i64>(&mut c, &["HSET", "h", "c", "3"]);
    assert_eq!(enc(&mut c, "h"), "hashtable");
    // Never back to a listpack.
    q::<i64>(&mut c, &["HDEL", "h", "c", "b"]);
    assert_eq!(enc(&mut c, "h"), "hashtable");
    q::<()>(&mut c, &["CONFIG", "SET", "hash-max-listpack-entries", "512"]);
    // Value and field length: 64 bytes fit, 65 do not.
    let (fit, over) = ("x".repeat(64), "x".repeat(65));
    q::<i64>(&mut c, &["HSET", "v", "f", &fit]);
    assert_eq!(enc(&mut c, "v"), "listpack");
    q::<i64>(&mut c, &["HSET", "v", "f", &over]);
    assert_eq!(enc(&mut c, "v"), "hashtable");
    q::<i64>(&mut c, &["HSET", "k", &over, "1"]);
    assert_eq!(enc(&mut c, "k"), "hashtable");
    // HSETNX on an existing field stores nothing, so converts nothing.
    q::<i64>(&mut c, &["HSET", "nx", "f", "1"]);
    q::<i64>(&mut c, &["HSETNX", "nx", "f", &over]);
    assert_eq!(enc(&mut c, "nx"), "listpack");
    q::<i64>(&mut c, &["HSETNX", "nx", "g", &over]);
    assert_eq!(enc(&mut c, "nx"), "hashtable");
    // HINCRBY with a long field converts too (Redis 7.0.15's hashTypeSet).
    q::<i64>(&mut c, &["HINCRBY", "inc", &over, "1"]);
    assert_eq!(enc(&mut c, "inc"), "hashtable");
    q::<()>(&mut c, &["CONFIG", "SET", "hash-max-listpack-value", "3"]);
    q::<i64>(&mut c, &["HSET", "three", "abc", "1"]);
    assert_eq!(enc(&mut c, "three"), "listpack");
    q::<String>(&mut c, &["HINCRBYFLOAT", "three", "abc", "0.5"]);
    assert_eq!(enc(&mut c, "three"), "listpack");
    q::<String>(&mut c, &["HINCRBYFLOAT", "three", "abc", "0.25"]);
    assert_eq!(q::<String>(&mut c, &["HGET", "three", "abc"]), "1.75");
    assert_eq!(enc(&mut c, "three"), "hashtable");
    // The ziplist names are aliases of the same settings.
    q::<()>(&mut c, &["CONFIG", "SET", "hash-max-ziplist-entries", "0"]);
    q::<i64>(&mut c, &["HSET", "zero", "a", "1"]);
    assert_eq!(enc(&mut c, "zero"), "hashtable");
    // Contents survive every conversion.
    assert_eq!(q::<String>(&mut c, &["HGET", "v", "f"]), over);
    assert_eq!(q::<Vec<String>>(&mut c, &["HGETALL", "h"]), ["a", "1"]);
}

#[test]
fn memory_usage_grows_with_the_hash() {
    let srv = server();
    let mut c = srv.client();
    q::<i64>(&mut c, &["HSET", "h", "a", "1"]);
    let small: i64 = q(&mut c, &["MEMORY", "USAGE", "h"]);
    for i in 0..1000 {
        q::<i64>(&mut c, &["HSET", "h", &format!("field{i}"), "some value here"]);
    }
    let big: i64 = q(&mut c, &["MEMORY", "USAGE", "h"]);
    assert!(big > small + 1000 * 30, "{small} {big}");
}

#[test]
fn wrongtype_everywhere() {
    let srv = server();
    let mut c = srv.client();
    q::<()>(&mut c, &["SET", "str", "v"]);
    for args in [
        &["HSET", "str", "a", "b"][..],
        &["HMSET", "str", "a", "b"],
        &["HSETNX", "str", "a", "b"],
        &["HGET", "str", "a"],
        &["HMGET", "str", "a"],
        &["HDEL", "str", "a"],
        &["HLEN", "str"],
        &["HSTRLEN", "str", "a"],
        &["HEXISTS", "str", "a"],
        &["HKEYS", "str"],
        &["HVALS", "str"],
        &["HGETALL", "str"],
        &["HINCRBY", "str", "a", "1"],
        &["HINCRBYFLOAT", "str", "a", "1"],
        &["HRANDFIELD", "str"],
        &["HRANDFIELD", "str", "1"],
        &["HRANDFIELD", "str", "-1", "WITHVALUES"],
        &["HSCAN", "str", "0"],
        // WRONGTYPE comes before the options are read.
        &["HSCAN", "str", "0", "COUNT", "0"],
    ] {
        assert_eq!(err(&mut c, args), WRONGTYPE, "{args:?}");
    }
    // Argument errors come first where Redis checks them first.
    assert_eq!(err(&mut c, &["HINCRBY", "str", "a", "x"]), NOT_INT);
    assert_eq!(err(&mut c, &["HINCRBYFLOAT", "str", "a", "x"]), "ERR value is not a valid float");
    assert_eq!(err(&mut c, &["HRANDFIELD", "str", "x"]), NOT_INT);
    assert_eq!(err(&mut c, &["HSCAN", "str", "x"]), "ERR invalid cursor");
    assert_eq!(err(&mut c, &["HSET", "str", "a", "b", "c"]), "ERR wrong number of arguments for 'hset' command");
    assert_eq!(q::<String>(&mut c, &["GET", "str"]), "v");
    // And string commands refuse a hash.
    q::<i64>(&mut c, &["HSET", "h", "a", "1"]);
    assert_eq!(err(&mut c, &["GET", "h"]), WRONGTYPE);
}

#[test]
fn arity_errors_come_from_the_table() {
    let srv = server();
    let mut c = srv.client();
    for (args, name) in [
        (&["HSET", "h", "a"][..], "hset"),
        (&["HSETNX", "h", "a"], "hsetnx"),
        (&["HGET", "h"], "hget"),
        (&["HMSET", "h"], "hmset"),
        (&["HMGET", "h"], "hmget"),
        (&["HDEL", "h"], "hdel"),
        (&["HLEN"], "hlen"),
        (&["HSTRLEN", "h"], "hstrlen"),
        (&["HEXISTS", "h"], "hexists"),
        (&["HKEYS"], "hkeys"),
        (&["HVALS", "a", "b"], "hvals"),
        (&["HGETALL"], "hgetall"),
        (&["HINCRBY", "h", "f"], "hincrby"),
        (&["HINCRBYFLOAT", "h", "f"], "hincrbyfloat"),
        (&["HRANDFIELD"], "hrandfield"),
        (&["HSCAN", "h"], "hscan"),
    ] {
        assert_eq!(err(&mut c, args), format!("ERR wrong number of arguments for '{name}' command"));
    }
}

#[test]
fn command_info_rows() {
    let srv = server();
    let mut c = srv.client();
    let info: Value = q(&mut c, &["COMMAND", "INFO", "hset", "hgetall"]);
    let Value::Array(rows) = info else { panic!("{info:?}") };
    let Value::Array(hset) = &rows[0] else { panic!() };
    assert_eq!(hset[1], Value::Int(-4));
    let flags = format!("{:?}", hset[2]);
    assert!(flags.contains("write") && flags.contains("denyoom") && flags.contains("fast"), "{flags}");
    let cats = format!("{:?}", hset[6]);
    assert!(cats.contains("@hash") && cats.contains("@write") && cats.contains("@fast"), "{cats}");
    let Value::Array(hgetall) = &rows[1] else { panic!() };
    let cats = format!("{:?}", hgetall[6]);
    assert!(cats.contains("@hash") && cats.contains("@read") && cats.contains("@slow"), "{cats}");
    let listed: Vec<String> = q(&mut c, &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "hash"]);
    assert_eq!(listed.len(), 16, "{listed:?}");
}

// ---- Model test -----------------------------------------------------------

/// A reply reduced to what the model predicts.
#[derive(Debug, Clone, PartialEq)]
enum R {
    Nil,
    Int(i64),
    Bulk(String),
    Arr(Vec<R>),
    Ok,
    Err(String),
}

fn norm(v: redis::RedisResult<Value>) -> R {
    match v {
        Err(e) => R::Err(format!("{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or(""))),
        Ok(Value::Nil) => R::Nil,
        Ok(Value::Int(n)) => R::Int(n),
        Ok(Value::BulkString(b)) => R::Bulk(String::from_utf8_lossy(&b).into_owned()),
        Ok(Value::Okay) => R::Ok,
        Ok(Value::SimpleString(s)) => R::Bulk(s),
        Ok(Value::Array(a)) => R::Arr(a.into_iter().map(|v| norm(Ok(v))).collect()),
        Ok(other) => panic!("unexpected {other:?}"),
    }
}

fn sorted(mut r: R) -> R {
    if let R::Arr(a) = &mut r {
        a.sort_by_key(|x| format!("{x:?}"));
    }
    r
}

/// Pairs of a flat field/value array in a fixed order.
fn sort_pairs(items: Vec<R>) -> Vec<R> {
    let mut pairs: Vec<Vec<R>> = items.chunks(2).map(|p| p.to_vec()).collect();
    pairs.sort_by_key(|p| format!("{p:?}"));
    pairs.concat()
}

/// Puts replies whose order is the table's in a fixed order, the same for
/// the model and the server.
fn canon(cmd: &str, r: R) -> R {
    match (cmd, r) {
        ("HKEYS" | "HVALS", r) => sorted(r),
        ("HGETALL", R::Arr(items)) => R::Arr(sort_pairs(items)),
        ("HSCAN", R::Arr(mut v)) => {
            if let Some(R::Arr(items)) = v.get_mut(1) {
                *items = sort_pairs(std::mem::take(items));
            }
            R::Arr(v)
        }
        (_, r) => r,
    }
}

fn bulks<'a>(it: impl IntoIterator<Item = &'a String>) -> R {
    sorted(R::Arr(it.into_iter().map(|s| R::Bulk(s.clone())).collect()))
}

/// One key of the model: a hash and whether it was ever too big for a
/// listpack (the encoding never goes back).
#[derive(Default, Clone)]
struct MHash {
    map: HashMap<String, String>,
    converted: bool,
}

const ENTRIES: usize = 4;
const VALUE: usize = 8;
const KEYS: [&str; 3] = ["h0", "h1", "str"];
const FIELDS: [&str; 6] = ["a", "b", "c", "d", "", "a-field-longer-than-8"];
const VALUES: [&str; 8] = ["1", "-3", "9223372036854775807", "abc", "1.5", "", "long-value-of-17b", "0"];

/// What Redis replies to `args` given `db`, applying the change.
fn model(db: &mut BTreeMap<String, MHash>, args: &[&str]) -> R {
    let wt = || R::Err(WRONGTYPE.into());
    let key = args[1].to_string();
    match (key.as_str(), args[0]) {
        ("str", "EXISTS") => return R::Int(1),
        ("str", "TYPE") => return R::Bulk("string".into()),
        ("str", "OBJECT") => return R::Bulk("embstr".into()),
        ("str", _) => return wt(),
        _ => {}
    }
    let note = |h: &mut MHash| {
        if h.map.len() > ENTRIES || h.map.iter().any(|(f, v)| f.len() > VALUE || v.len() > VALUE) {
            h.converted = true;
        }
    };
    let get = |db: &BTreeMap<String, MHash>| db.get(&key).cloned();
    let reply = match args[0] {
        "HSET" => {
            let h = db.entry(key.clone()).or_default();
            let mut n = 0;
            for p in args[2..].chunks(2) {
                n += h.map.insert(p[0].into(), p[1].into()).is_none() as i64;
                note(h);
            }
            R::Int(n)
        }
        "HSETNX" => {
            let h = db.entry(key.clone()).or_default();
            if h.map.contains_key(args[2]) {
                R::Int(0)
            } else {
                h.map.insert(args[2].into(), args[3].into());
                note(h);
                R::Int(1)
            }
        }
        "HGET" => get(db).and_then(|h| h.map.get(args[2]).cloned()).map_or(R::Nil, R::Bulk),
        "HMGET" => {
            let h = get(db).unwrap_or_default();
            R::Arr(args[2..].iter().map(|f| h.map.get(*f).cloned().map_or(R::Nil, R::Bulk)).collect())
        }
        "HDEL" => {
            let Some(h) = db.get_mut(&key) else { return R::Int(0) };
            let n = args[2..].iter().filter(|f| h.map.remove(**f).is_some()).count();
            R::Int(n as i64)
        }
        "HLEN" => R::Int(get(db).map_or(0, |h| h.map.len()) as i64),
        "HSTRLEN" => R::Int(get(db).and_then(|h| h.map.get(args[2]).map(|v| v.len())).unwrap_or(0) as i64),
        "HEXISTS" => R::Int(get(db).is_some_and(|h| h.map.contains_key(args[2])) as i64),
        "HKEYS" => bulks(get(db).unwrap_or_default().map.keys()),
        "HVALS" => bulks(get(db).unwrap_or_default().map.values()),
        "HGETALL" | "HSCAN" => {
            let h = get(db).unwrap_or_default();
            let mut pairs: Vec<_> = h.map.iter().collect();
            pairs.sort();
            let flat = R::Arr(pairs.into_iter().flat_map(|(f, v)| [R::Bulk(f.clone()), R::Bulk(v.clone())]).collect());
            if args[0] == "HSCAN" { R::Arr(vec![R::Bulk("0".into()), flat]) } else { flat }
        }
        "HINCRBY" => {
            let by: i64 = args[3].parse().unwrap();
            let cur = match get(db).and_then(|h| h.map.get(args[2]).cloned()) {
                None => 0,
                Some(v) => match v.parse::<i64>() {
                    Ok(n) if n.to_string() == v => n,
                    _ => return R::Err("ERR hash value is not an integer".into()),
                },
            };
            let Some(n) = cur.checked_add(by) else {
                return R::Err("ERR increment or decrement would overflow".into());
            };
            let h = db.entry(key.clone()).or_default();
            h.map.insert(args[2].into(), n.to_string());
            note(h);
            R::Int(n)
        }
        "EXISTS" => R::Int(db.contains_key(&key) as i64),
        "TYPE" => R::Bulk(if db.contains_key(&key) { "hash" } else { "none" }.into()),
        "OBJECT" => match get(db) {
            None => R::Nil,
            Some(h) => R::Bulk(if h.converted { "hashtable" } else { "listpack" }.into()),
        },
        other => panic!("no model for {other}"),
    };
    if db.get(&key).is_some_and(|h| h.map.is_empty()) {
        db.remove(&key);
    }
    reply
}

/// A random command over a few keys, fields and values.
fn command() -> impl Strategy<Value = Vec<&'static str>> {
    let key = prop::sample::select(&KEYS[..]);
    let field = prop::sample::select(&FIELDS[..]);
    let value = prop::sample::select(&VALUES[..]);
    let by = prop::sample::select(&["1", "-5", "100", "9223372036854775807", "-9223372036854775808"][..]);
    prop_oneof![
        4 => (key.clone(), field.clone(), value.clone()).prop_map(|(k, f, v)| vec!["HSET", k, f, v]),
        2 => (key.clone(), field.clone(), value.clone(), field.clone(), value.clone())
            .prop_map(|(k, f, v, f2, v2)| vec!["HSET", k, f, v, f2, v2]),
        1 => (key.clone(), field.clone(), value.clone()).prop_map(|(k, f, v)| vec!["HSETNX", k, f, v]),
        2 => (key.clone(), field.clone()).prop_map(|(k, f)| vec!["HGET", k, f]),
        1 => (key.clone(), field.clone(), field.clone()).prop_map(|(k, f, g)| vec!["HMGET", k, f, g]),
        3 => (key.clone(), field.clone(), field.clone()).prop_map(|(k, f, g)| vec!["HDEL", k, f, g]),
        1 => key.clone().prop_map(|k| vec!["HLEN", k]),
        1 => (key.clone(), field.clone()).prop_map(|(k, f)| vec!["HSTRLEN", k, f]),
        1 => (key.clone(), field.clone()).prop_map(|(k, f)| vec!["HEXISTS", k, f]),
        1 => key.clone().prop_map(|k| vec!["HKEYS", k]),
        1 => key.clone().prop_map(|k| vec!["HVALS", k]),
        1 => key.clone().prop_map(|k| vec!["HGETALL", k]),
        1 => key.clone().prop_map(|k| vec!["HSCAN", k, "0", "COUNT", "1000"]),
        2 => (key.clone(), field.clone(), by).prop_map(|(k, f, b)| vec!["HINCRBY", k, f, b]),
        1 => key.clone().prop_map(|k| vec!["EXISTS", k]),
        1 => key.clone().prop_map(|k| vec!["TYPE", k]),
        1 => key.prop_map(|k| vec!["OBJECT", k]),
    ]
}

#[test]
fn random_command_sequences_match_a_model() {
    let srv = server();
    let con = RefCell::new(srv.client());
    q::<()>(&mut con.borrow_mut(), &["CONFIG", "SET", "hash-max-listpack-entries", &ENTRIES.to_string()]);
    q::<()>(&mut con.borrow_mut(), &["CONFIG", "SET", "hash-max-listpack-value", &VALUE.to_string()]);
    let mut runner = TestRunner::new(PropConfig { cases: 64, failure_persistence: None, ..PropConfig::default() });
    let result = runner.run(&prop::collection::vec(command(), 1..60), |cmds| {
        let mut c = con.borrow_mut();
        q::<()>(&mut c, &["FLUSHALL"]);
        q::<()>(&mut c, &["SET", "str", "v"]);
        let mut db = BTreeMap::new();
        for args in cmds {
            let expected = model(&mut db, &args);
            let real: Vec<&str> = if args[0] == "OBJECT" { vec!["OBJECT", "ENCODING", args[1]] } else { args.clone() };
            let mut cmd = redis::cmd(real[0]);
            real[1..].iter().for_each(|a| {
                cmd.arg(*a);
            });
            let got = canon(args[0], norm(cmd.query::<Value>(&mut *c)));
            let expected = canon(args[0], expected);
            prop_assert_eq!(got, expected, "{:?}", args);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
