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
