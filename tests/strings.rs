//! String commands through a real client: GET, SET and every option,
//! INCR/DECR family, MGET/MSET, with Redis's error texts.

mod common;
use common::{err, q, server};
use redis::Value;

#[test]
fn get_set_roundtrip_binary_safe() {
    let s = server();
    let mut c = s.client();
    let bin: Vec<u8> = (0..=255u8).collect();
    let _: () = redis::cmd("SET").arg("bin").arg(&bin).query(&mut c).unwrap();
    let got: Vec<u8> = redis::cmd("GET").arg("bin").query(&mut c).unwrap();
    assert_eq!(got, bin);
    assert_eq!(q::<Option<String>>(&mut c, &["GET", "missing"]), None);
    assert_eq!(q::<String>(&mut c, &["SET", "empty", ""]), "OK");
    assert_eq!(q::<String>(&mut c, &["GET", "empty"]), "");
}

#[test]
fn set_nx_xx_get() {
    let s = server();
    let mut c = s.client();
    assert_eq!(q::<Option<String>>(&mut c, &["SET", "k", "1", "XX"]), None);
    assert_eq!(q::<Option<String>>(&mut c, &["SET", "k", "1", "NX"]), Some("OK".into()));
    assert_eq!(q::<Option<String>>(&mut c, &["SET", "k", "2", "NX"]), None);
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "1");
    assert_eq!(q::<Option<String>>(&mut c, &["SET", "k", "3", "xx", "get"]), Some("1".into()));
    assert_eq!(q::<Option<String>>(&mut c, &["SET", "new", "x", "GET"]), None);
    // NX with GET: returns the old value and does not overwrite.
    assert_eq!(q::<Option<String>>(&mut c, &["SET", "k", "4", "NX", "GET"]), Some("3".into()));
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "3");
}

#[test]
fn set_expiry_options() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "k", "v", "EX", "100"]);
    let ttl: i64 = q(&mut c, &["TTL", "k"]);
    assert!((99..=100).contains(&ttl), "{ttl}");
    q::<()>(&mut c, &["SET", "k", "v", "PX", "100000"]);
    let pttl: i64 = q(&mut c, &["PTTL", "k"]);
    assert!((99_000..=100_000).contains(&pttl), "{pttl}");
    q::<()>(&mut c, &["SET", "k", "v2", "KEEPTTL"]);
    assert!(q::<i64>(&mut c, &["PTTL", "k"]) > 98_000);
    q::<()>(&mut c, &["SET", "k", "v3"]);
    assert_eq!(q::<i64>(&mut c, &["TTL", "k"]), -1);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let at = (now.as_secs() + 1000).to_string();
    q::<()>(&mut c, &["SET", "k", "v", "EXAT", &at]);
    assert!((999..=1000).contains(&q::<i64>(&mut c, &["TTL", "k"])));
    let at_ms = (now.as_millis() + 50_000).to_string();
    q::<()>(&mut c, &["SET", "k", "v", "PXAT", &at_ms]);
    assert!((48..=50).contains(&q::<i64>(&mut c, &["TTL", "k"])));
    // A time in the past makes the key vanish.
    q::<()>(&mut c, &["SET", "k", "v", "PXAT", "1"]);
    assert_eq!(q::<Option<String>>(&mut c, &["GET", "k"]), None);
    // Repeating the same option is allowed, the last wins (as in Redis).
    q::<()>(&mut c, &["SET", "k", "v", "EX", "10", "EX", "20"]);
    assert!(q::<i64>(&mut c, &["TTL", "k"]) > 10);
}

#[test]
fn set_expires_lazily() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "k", "v", "PX", "50"]);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]), 1);
    std::thread::sleep(std::time::Duration::from_millis(80));
    assert_eq!(q::<Option<String>>(&mut c, &["GET", "k"]), None);
    assert_eq!(q::<i64>(&mut c, &["TTL", "k"]), -2);
}

#[test]
fn set_errors() {
    let s = server();
    let mut c = s.client();
    let syntax = "ERR syntax error";
    for args in [
        &["SET", "k", "v", "NX", "XX"][..],
        &["SET", "k", "v", "EX", "10", "PX", "100"],
        &["SET", "k", "v", "KEEPTTL", "EX", "10"],
        &["SET", "k", "v", "EX", "10", "KEEPTTL"],
        &["SET", "k", "v", "EX"],
        &["SET", "k", "v", "FOO"],
    ] {
        assert_eq!(err(&mut c, args), syntax, "{args:?}");
    }
    let bad_expire = "ERR invalid expire time in 'set' command";
    for t in ["0", "-1"] {
        assert_eq!(err(&mut c, &["SET", "k", "v", "EX", t]), bad_expire);
    }
    assert_eq!(err(&mut c, &["SET", "k", "v", "EX", "9223372036854775807"]), bad_expire);
    assert_eq!(err(&mut c, &["SET", "k", "v", "PX", "9223372036854775807"]), bad_expire);
    assert_eq!(err(&mut c, &["SET", "k", "v", "EX", "abc"]), "ERR value is not an integer or out of range");
    assert_eq!(err(&mut c, &["SET", "k"]), "ERR wrong number of arguments for 'set' command");
    assert_eq!(err(&mut c, &["GET"]), "ERR wrong number of arguments for 'get' command");
    assert_eq!(err(&mut c, &["GET", "a", "b"]), "ERR wrong number of arguments for 'get' command");
    // Nothing was written by the failed commands.
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]), 0);
}

#[test]
fn incr_family() {
    let s = server();
    let mut c = s.client();
    assert_eq!(q::<i64>(&mut c, &["INCR", "n"]), 1);
    assert_eq!(q::<i64>(&mut c, &["INCRBY", "n", "41"]), 42);
    assert_eq!(q::<i64>(&mut c, &["DECR", "n"]), 41);
    assert_eq!(q::<i64>(&mut c, &["DECRBY", "n", "-9"]), 50);
    assert_eq!(q::<String>(&mut c, &["GET", "n"]), "50");
    assert_eq!(q::<i64>(&mut c, &["INCRBY", "neg", "-5"]), -5);
    // INCR keeps the TTL.
    q::<()>(&mut c, &["SET", "t", "1", "EX", "100"]);
    q::<i64>(&mut c, &["INCR", "t"]);
    assert!(q::<i64>(&mut c, &["TTL", "t"]) > 0);
}

#[test]
fn incr_errors() {
    let s = server();
    let mut c = s.client();
    let not_int = "ERR value is not an integer or out of range";
    for v in ["abc", " 1", "1 ", "01", "+1", "1.5", "", "99999999999999999999"] {
        q::<()>(&mut c, &["SET", "s", v]);
        assert_eq!(err(&mut c, &["INCR", "s"]), not_int, "value {v:?}");
    }
    assert_eq!(err(&mut c, &["INCRBY", "n", "x"]), not_int);
    q::<()>(&mut c, &["SET", "max", "9223372036854775807"]);
    assert_eq!(err(&mut c, &["INCR", "max"]), "ERR increment or decrement would overflow");
    q::<()>(&mut c, &["SET", "min", "-9223372036854775808"]);
    assert_eq!(err(&mut c, &["DECR", "min"]), "ERR increment or decrement would overflow");
    assert_eq!(err(&mut c, &["DECRBY", "n", "-9223372036854775808"]), "ERR decrement would overflow");
    assert_eq!(q::<String>(&mut c, &["GET", "max"]), "9223372036854775807");
}

#[test]
fn mset_mget() {
    let s = server();
    let mut c = s.client();
    assert_eq!(q::<String>(&mut c, &["MSET", "a", "1", "b", "2"]), "OK");
    let got: Vec<Option<String>> = q(&mut c, &["MGET", "a", "nope", "b"]);
    assert_eq!(got, vec![Some("1".into()), None, Some("2".into())]);
    assert_eq!(err(&mut c, &["MSET", "a", "1", "b"]), "ERR wrong number of arguments for 'mset' command");
    assert_eq!(err(&mut c, &["MSET", "a"]), "ERR wrong number of arguments for 'mset' command");
    // MSET clears TTLs like SET.
    q::<()>(&mut c, &["SET", "t", "1", "EX", "100"]);
    q::<()>(&mut c, &["MSET", "t", "2"]);
    assert_eq!(q::<i64>(&mut c, &["TTL", "t"]), -1);
    let v: Value = q(&mut c, &["MGET", "x"]);
    assert_eq!(v, Value::Array(vec![Value::Nil]));
}

#[test]
fn setnx_setex_psetex() {
    let s = server();
    let mut c = s.client();
    assert_eq!(q::<i64>(&mut c, &["SETNX", "k", "1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SETNX", "k", "2"]), 0);
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "1");
    assert_eq!(q::<String>(&mut c, &["SETEX", "k", "10", "v"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["TTL", "k"]), 10);
    assert_eq!(q::<String>(&mut c, &["PSETEX", "p", "5000", "v"]), "OK");
    assert!((4900..=5000).contains(&q::<i64>(&mut c, &["PTTL", "p"])));
    assert_eq!(err(&mut c, &["SETEX", "k", "0", "v"]), "ERR invalid expire time in 'setex' command");
    assert_eq!(err(&mut c, &["SETEX", "k", "-1", "v"]), "ERR invalid expire time in 'setex' command");
    assert_eq!(err(&mut c, &["PSETEX", "k", "0", "v"]), "ERR invalid expire time in 'psetex' command");
    assert_eq!(err(&mut c, &["SETEX", "k", "x", "v"]), "ERR value is not an integer or out of range");
    assert_eq!(err(&mut c, &["SETEX", "k", "9223372036854775807", "v"]), "ERR invalid expire time in 'setex' command");
    assert_eq!(err(&mut c, &["SETEX", "k", "1"]), "ERR wrong number of arguments for 'setex' command");
}

#[test]
fn getset_getdel_getex() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "k", "old", "EX", "100"]);
    assert_eq!(q::<String>(&mut c, &["GETSET", "k", "new"]), "old");
    assert_eq!(q::<i64>(&mut c, &["TTL", "k"]), -1, "GETSET clears the TTL");
    assert_eq!(q::<Option<String>>(&mut c, &["GETSET", "nokey", "x"]), None);
    assert_eq!(q::<String>(&mut c, &["GETDEL", "k"]), "new");
    assert_eq!(q::<Option<String>>(&mut c, &["GETDEL", "k"]), None);
    q::<()>(&mut c, &["SET", "n", "v"]);
    assert_eq!(q::<String>(&mut c, &["GETEX", "n", "EX", "100"]), "v");
    assert_eq!(q::<i64>(&mut c, &["TTL", "n"]), 100);
    assert_eq!(q::<String>(&mut c, &["GETEX", "n", "PX", "50000"]), "v");
    assert_eq!(q::<i64>(&mut c, &["TTL", "n"]), 50);
    assert_eq!(q::<String>(&mut c, &["GETEX", "n", "PERSIST"]), "v");
    assert_eq!(q::<i64>(&mut c, &["TTL", "n"]), -1);
    assert_eq!(q::<String>(&mut c, &["GETEX", "n"]), "v");
    assert_eq!(q::<Option<String>>(&mut c, &["GETEX", "missing", "EX", "10"]), None);
    assert_eq!(err(&mut c, &["GETEX", "n", "EX", "0"]), "ERR invalid expire time in 'getex' command");
    for bad in [
        &["GETEX", "n", "EX", "10", "PX", "10"][..],
        &["GETEX", "n", "PERSIST", "EX", "10"],
        &["GETEX", "n", "NX"],
        &["GETEX", "n", "FOO"],
    ] {
        assert_eq!(err(&mut c, bad), "ERR syntax error", "{bad:?}");
    }
    // A time in the past deletes the key after returning it.
    assert_eq!(q::<String>(&mut c, &["GETEX", "n", "EXAT", "1"]), "v");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "n"]), 0);
}

#[test]
fn msetnx_is_all_or_nothing() {
    let s = server();
    let mut c = s.client();
    assert_eq!(q::<i64>(&mut c, &["MSETNX", "a", "1", "b", "2"]), 1);
    assert_eq!(q::<i64>(&mut c, &["MSETNX", "a", "9", "c", "3"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "c"]), 0);
    assert_eq!(q::<String>(&mut c, &["GET", "a"]), "1");
    assert_eq!(err(&mut c, &["MSETNX", "a", "1", "b"]), "ERR wrong number of arguments for 'msetnx' command");
}

#[test]
fn append_strlen_getrange_setrange() {
    let s = server();
    let mut c = s.client();
    assert_eq!(q::<i64>(&mut c, &["APPEND", "s", "hello"]), 5);
    assert_eq!(q::<i64>(&mut c, &["APPEND", "s", " world"]), 11);
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "s"]), 11);
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "nokey"]), 0);
    q::<()>(&mut c, &["SET", "s", "This is a string"]);
    for (a, b, want) in [
        ("0", "3", "This"),
        ("-3", "-1", "ing"),
        ("0", "-1", "This is a string"),
        ("10", "100", "string"),
        ("5", "3", ""),
        ("-100", "-50", "T"),
        ("-1", "-5", ""),
    ] {
        assert_eq!(q::<String>(&mut c, &["GETRANGE", "s", a, b]), want, "GETRANGE {a} {b}");
    }
    assert_eq!(q::<String>(&mut c, &["SUBSTR", "s", "0", "3"]), "This");
    assert_eq!(q::<String>(&mut c, &["GETRANGE", "nokey", "0", "1"]), "");
    assert_eq!(err(&mut c, &["GETRANGE", "s", "x", "1"]), "ERR value is not an integer or out of range");
    assert_eq!(q::<i64>(&mut c, &["SETRANGE", "s", "5", "XX"]), 16);
    assert_eq!(q::<String>(&mut c, &["GET", "s"]), "This XX a string");
    assert_eq!(q::<i64>(&mut c, &["SETRANGE", "nk", "3", "ab"]), 5);
    assert_eq!(q::<Vec<u8>>(&mut c, &["GET", "nk"]), b"\0\0\0ab");
    assert_eq!(q::<i64>(&mut c, &["SETRANGE", "empty", "0", ""]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "empty"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SETRANGE", "s", "0", ""]), 16);
    assert_eq!(err(&mut c, &["SETRANGE", "s", "-1", "x"]), "ERR offset is out of range");
    assert_eq!(
        err(&mut c, &["SETRANGE", "s", "536870912", "x"]),
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
    q::<()>(&mut c, &["CONFIG", "SET", "proto-max-bulk-len", "1mb"]);
    let big = "x".repeat(1024 * 1024);
    assert_eq!(err(&mut c, &["APPEND", "s", &big]), "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "s"]), 16);
}

#[test]
fn incrbyfloat_formats_like_redis() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "f", "10.50"]);
    assert_eq!(q::<String>(&mut c, &["INCRBYFLOAT", "f", "0.1"]), "10.6");
    assert_eq!(q::<String>(&mut c, &["INCRBYFLOAT", "f", "-5"]), "5.6");
    q::<()>(&mut c, &["SET", "e", "5.0e3"]);
    assert_eq!(q::<String>(&mut c, &["INCRBYFLOAT", "e", "0"]), "5000");
    assert_eq!(q::<String>(&mut c, &["INCRBYFLOAT", "new", "3"]), "3");
    assert_eq!(q::<String>(&mut c, &["INCRBYFLOAT", "new2", "1.0"]), "1");
    assert_eq!(q::<String>(&mut c, &["GET", "new2"]), "1");
    q::<()>(&mut c, &["SET", "t", "1", "EX", "100"]);
    q::<String>(&mut c, &["INCRBYFLOAT", "t", "1.5"]);
    assert!(q::<i64>(&mut c, &["TTL", "t"]) > 0, "keeps the TTL");
    let not_float = "ERR value is not a valid float";
    assert_eq!(err(&mut c, &["INCRBYFLOAT", "f", "abc"]), not_float);
    assert_eq!(err(&mut c, &["INCRBYFLOAT", "f", "nan"]), not_float);
    q::<()>(&mut c, &["SET", "sp", " 1"]);
    assert_eq!(err(&mut c, &["INCRBYFLOAT", "sp", "1"]), not_float);
    assert_eq!(err(&mut c, &["INCRBYFLOAT", "f", "inf"]), "ERR increment would produce NaN or Infinity");
    assert_eq!(q::<String>(&mut c, &["GET", "f"]), "5.6");
}

#[test]
fn lcs_all_forms() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["MSET", "l1", "ohmytext", "l2", "mynewtext"]);
    assert_eq!(q::<String>(&mut c, &["LCS", "l1", "l2"]), "mytext");
    assert_eq!(q::<i64>(&mut c, &["LCS", "l1", "l2", "LEN"]), 6);
    let v: Value = q(&mut c, &["LCS", "l1", "l2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]);
    let range = |a: i64, b: i64| Value::Array(vec![Value::Int(a), Value::Int(b)]);
    assert_eq!(
        v,
        Value::Array(vec![
            Value::BulkString(b"matches".to_vec()),
            Value::Array(vec![Value::Array(vec![range(4, 7), range(5, 8), Value::Int(4)])]),
            Value::BulkString(b"len".to_vec()),
            Value::Int(6),
        ])
    );
    let v: Value = q(&mut c, &["LCS", "l1", "l2", "IDX"]);
    let Value::Array(items) = v else { panic!() };
    assert_eq!(
        items[1],
        Value::Array(vec![Value::Array(vec![range(4, 7), range(5, 8)]), Value::Array(vec![range(2, 3), range(0, 1)])])
    );
    assert_eq!(q::<String>(&mut c, &["LCS", "l1", "nokey"]), "");
    assert_eq!(
        err(&mut c, &["LCS", "l1", "l2", "LEN", "IDX"]),
        "ERR If you want both the length and indexes, please just use IDX."
    );
    assert_eq!(err(&mut c, &["LCS", "l1", "l2", "FOO"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["LCS", "l1", "l2", "MINMATCHLEN", "x"]), "ERR value is not an integer or out of range");
}
