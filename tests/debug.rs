//! DEBUG as operators and test tooling use it: DIGEST / DIGEST-VALUE
//! against digests recorded from redis-server 7.0.15, POPULATE, PROTOCOL
//! (exact bytes in RESP2 and RESP3), OBJECT, LISTPACK, the switches, and
//! Redis's error texts.

mod common;

use common::{TestServer, err, q, server, server_with};
use std::time::{Duration, Instant};

fn debug_server() -> TestServer {
    server_with(|c| c.enable_debug_command = "yes".into())
}

/// A command from string arguments.
fn cmd(args: &[String]) -> redis::Cmd {
    let mut c = redis::cmd(&args[0]);
    for a in &args[1..] {
        c.arg(a.as_str());
    }
    c
}

fn strs(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// The fixed data set of the recorded digests: (db, command). Every type
/// in each encoding (int/embstr/raw strings, a binary string, a small and
/// a many-node list, intset and hashtable sets, listpack and hashtable
/// hashes, listpack and skiplist sorted sets with awkward scores), keys
/// with a TTL, three databases, and DEBUG POPULATE keys.
fn fixture() -> Vec<(i64, Vec<String>)> {
    const TTL: &str = "10000000";
    let mut f = vec![
        (0, strs(&["SET", "s:int", "12345"])),
        (0, strs(&["SET", "s:embstr", "hello world"])),
        (0, vec!["SET".into(), "s:raw".into(), "raw".repeat(100)]),
        (0, strs(&["SET", "s:bin", "a\r\nb\0c"])),
        (0, strs(&["SET", "s:ttl", "v", "PX", TTL])),
        (0, strs(&["RPUSH", "l:small", "a", "b", "c", "1", "2", "-3", "1000", "100000"])),
        (0, strs(&["SADD", "set:ints", "1", "2", "3", "-5"])),
        (0, strs(&["SADD", "set:strs", "a", "b", "c"])),
        (0, strs(&["HSET", "h:small", "a", "1", "b", "two", "num", "12"])),
        (
            0,
            strs(&[
                "ZADD", "z:small", "1.1", "a", "0.1", "b", "2", "c", "-0", "d", "inf", "e", "-inf", "f", "1e20", "g",
            ]),
        ),
        (0, strs(&["ZADD", "z:ttl", "1", "a"])),
        (0, strs(&["PEXPIRE", "z:ttl", TTL])),
        (1, strs(&["SET", "s:int", "12345"])),
        (1, strs(&["HSET", "h:small", "a", "1"])),
        (5, strs(&["DEBUG", "POPULATE", "10", "pfx", "12"])),
        (5, strs(&["RPUSH", "l:small", "a", "b", "c"])),
    ];
    // The last z:small member in its own command keeps the line short.
    f.push((0, strs(&["ZADD", "z:small", "2.5e-5", "h"])));
    let mut big = strs(&["RPUSH", "l:big"]);
    big.extend((0..3000).map(|i| format!("item:{i}")));
    f.push((0, big));
    let mut big = strs(&["SADD", "set:big"]);
    big.extend((0..600).map(|i| format!("m{i}")));
    f.push((0, big));
    let mut big = strs(&["HSET", "h:big"]);
    big.extend((0..600).flat_map(|i| [format!("field{i}"), format!("value{i}")]));
    f.push((0, big));
    let mut big = strs(&["ZADD", "z:big"]);
    big.extend((0..300).flat_map(|i| [format!("{}", i as f64 / 7.0), format!("member{i}")]));
    f.push((0, big));
    f
}

/// DEBUG DIGEST-VALUE of each fixture key and DEBUG DIGEST of the whole,
/// as redis-server 7.0.15 answered them: its `--enable-debug-command yes`
/// on an empty server, the fixture's commands sent with a raw-socket client
/// (the same commands as [`fixture`], the z:big scores written as Python's
/// `repr(i / 7)`, which reads back as the same doubles), then DEBUG
/// DIGEST-VALUE per key in its database and DEBUG DIGEST. ferrokv gave the
/// same values through scripts/digest_vs_redis.py's loader.
const RECORDED: &[(i64, &str, &str, &str)] = &[
    // (db, key, Redis's encoding, digest)
    (0, "h:big", "hashtable", "9d76021bfcbe883a80dd5d8b1a8bb466c04601c3"),
    (0, "h:small", "listpack", "77492399ceaa917d486a171588cb1bbc417ce3a0"),
    (0, "l:big", "quicklist", "1bd1669094b5abd4141e702ccb74c1029eb55393"),
    (0, "l:small", "quicklist", "0a917467217d0da41340fccbed12384eb14e15e0"),
    (0, "s:bin", "embstr", "57b8c0c38ddc7e2a06a6f0a65cd892e08d3e9ae8"),
    (0, "s:embstr", "embstr", "19bfad8f2007c7c5d8559839d8798339f62ccc52"),
    (0, "s:int", "int", "e1cf90774e995ae03de66e8109dc5cb9d9c2dc83"),
    (0, "s:raw", "raw", "b47ebcede8847a88be2904d3f65c8f8dac30a3db"),
    (0, "s:ttl", "embstr", "311b17018163335616e089f6b951c82c477335ac"),
    (0, "set:big", "hashtable", "c56d3f42794a2c10083dc404b113e5e0eac3277b"),
    (0, "set:ints", "intset", "5e497276f46b9037a75afe0286ef7a77cbed85e4"),
    (0, "set:strs", "hashtable", "593c2414786d75446e97f4ea5d4b731f3313da72"),
    (0, "z:big", "skiplist", "189fe5ce4f7292ba7039a38f677dd75980fe892f"),
    (0, "z:small", "listpack", "20985eabf46e168df51dde7769db1b56faed0a5d"),
    (0, "z:ttl", "listpack", "a5846e39316350ab396b7c4cb0705de2747e1916"),
    (1, "h:small", "listpack", "626a7b57a269f8f179a44902458ecb2f5920d35d"),
    (1, "s:int", "int", "e1cf90774e995ae03de66e8109dc5cb9d9c2dc83"),
    (5, "l:small", "quicklist", "8bf72d812571eea9b927f3c11beb0c4165a6ff89"),
    (5, "pfx:0", "embstr", "4c4acf43b9fc32c42f9417b9151bfc9220719abe"),
    (5, "pfx:1", "embstr", "063da665dab59ec9e7a1dfa3520e4f9de7a48258"),
    (5, "pfx:2", "embstr", "fc572058bd5f43db3e52ddce46edbe13c3fc3a4e"),
    (5, "pfx:3", "embstr", "dc04559f51e7692dc30b352e3f41e636ac8584d8"),
    (5, "pfx:4", "embstr", "5a21e592c73a43abdc5a7db7a357366658aec36c"),
    (5, "pfx:5", "embstr", "f1824af094b1da9a7a821c5fbc0182b9783723bd"),
    (5, "pfx:6", "embstr", "baa04f96cbdb577128ff3a099c1136b02159fd5e"),
    (5, "pfx:7", "embstr", "17ea79d8b6bce5c355d6d4663b35e5e08fb56a93"),
    (5, "pfx:8", "embstr", "c8f16c3f2d9fbaf730ab51b065df55fd09338b8c"),
    (5, "pfx:9", "embstr", "4119429ff4ae9266d544850b86596823f8005bb3"),
];
const RECORDED_DATASET: &str = "5778baf31d5dbc867bb54df6cf3aa2ecf882d29d";
const ZEROS: &str = "0000000000000000000000000000000000000000";

fn load_fixture(c: &mut redis::Connection) {
    for (db, args) in fixture() {
        q::<()>(c, &["SELECT", &db.to_string()]);
        cmd(&args).query::<redis::Value>(c).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    }
    q::<()>(c, &["SELECT", "0"]);
}

#[test]
fn digests_equal_those_recorded_from_redis() {
    let s = debug_server();
    let mut c = s.client();
    assert_eq!(q::<String>(&mut c, &["DEBUG", "DIGEST"]), ZEROS);
    load_fixture(&mut c);
    for &(db, key, encoding, digest) in RECORDED {
        q::<()>(&mut c, &["SELECT", &db.to_string()]);
        assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", key]), encoding, "{key} encoding");
        assert_eq!(q::<Vec<String>>(&mut c, &["DEBUG", "DIGEST-VALUE", key]), [digest], "db {db} {key}");
    }
    for db in [0, 1, 5] {
        q::<()>(&mut c, &["SELECT", &db.to_string()]);
        let n = RECORDED.iter().filter(|r| r.0 == db).count();
        assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), n as i64, "db {db} has only the recorded keys");
    }
    assert_eq!(q::<String>(&mut c, &["DEBUG", "DIGEST"]), RECORDED_DATASET);
    // Several keys at once, a missing one giving zeros, and none at all.
    q::<()>(&mut c, &["SELECT", "1"]);
    assert_eq!(
        q::<Vec<String>>(&mut c, &["DEBUG", "DIGEST-VALUE", "s:int", "nokey", "h:small"]),
        ["e1cf90774e995ae03de66e8109dc5cb9d9c2dc83", ZEROS, "626a7b57a269f8f179a44902458ecb2f5920d35d"]
    );
    assert!(q::<Vec<String>>(&mut c, &["DEBUG", "DIGEST-VALUE"]).is_empty());
    // The same data in another database is another data set.
    q::<()>(&mut c, &["SWAPDB", "1", "2"]);
    assert_ne!(q::<String>(&mut c, &["DEBUG", "DIGEST"]), RECORDED_DATASET);
    q::<()>(&mut c, &["SWAPDB", "1", "2"]);
    assert_eq!(q::<String>(&mut c, &["DEBUG", "DIGEST"]), RECORDED_DATASET);
    q::<()>(&mut c, &["FLUSHALL"]);
    assert_eq!(q::<String>(&mut c, &["DEBUG", "DIGEST"]), ZEROS);
}

/// DIGEST-VALUE of `key` in the selected database.
fn digest_of(c: &mut redis::Connection, key: &str) -> String {
    let mut v = q::<Vec<String>>(c, &["DEBUG", "DIGEST-VALUE", key]);
    v.pop().unwrap()
}

#[test]
fn digests_ignore_encodings_and_set_order_but_not_list_order_or_ttl() {
    let s = debug_server();
    let mut c = s.client();
    // The same elements in both encodings of each type.
    q::<()>(&mut c, &["SADD", "a", "1", "2", "3"]);
    q::<()>(&mut c, &["SADD", "b", "3", "2", "1", "x"]);
    q::<()>(&mut c, &["SREM", "b", "x"]);
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "b"]), "hashtable");
    assert_eq!(digest_of(&mut c, "a"), digest_of(&mut c, "b"));
    q::<()>(&mut c, &["HSET", "h1", "f", "v", "g", "w"]);
    q::<()>(&mut c, &["HSET", "h2", "g", "w", "f", "v", "long", &"x".repeat(100)]);
    q::<()>(&mut c, &["HDEL", "h2", "long"]);
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "h2"]), "hashtable");
    assert_eq!(digest_of(&mut c, "h1"), digest_of(&mut c, "h2"));
    q::<()>(&mut c, &["ZADD", "z1", "1.5", "a", "2", "b"]);
    q::<()>(&mut c, &["ZADD", "z2", "2", "b", "1.5", "a", "0", &"y".repeat(100)]);
    q::<()>(&mut c, &["ZREM", "z2", &"y".repeat(100)]);
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "z2"]), "skiplist");
    assert_eq!(digest_of(&mut c, "z1"), digest_of(&mut c, "z2"));
    // A score is part of it.
    q::<()>(&mut c, &["ZADD", "z1", "1.25", "a"]);
    assert_ne!(digest_of(&mut c, "z1"), digest_of(&mut c, "z2"));
    // Lists keep their order.
    q::<()>(&mut c, &["RPUSH", "l1", "a", "b"]);
    q::<()>(&mut c, &["RPUSH", "l2", "b", "a"]);
    assert_ne!(digest_of(&mut c, "l1"), digest_of(&mut c, "l2"));
    q::<()>(&mut c, &["LPUSH", "l3", "b", "a"]);
    assert_eq!(digest_of(&mut c, "l1"), digest_of(&mut c, "l3"));
    // An integer string and its text are the same string.
    q::<()>(&mut c, &["SET", "n1", "42"]);
    q::<()>(&mut c, &["INCRBY", "n2", "42"]);
    assert_eq!(digest_of(&mut c, "n1"), digest_of(&mut c, "n2"));
    // A TTL is part of it, not its value; the key name only of DIGEST.
    let before = digest_of(&mut c, "n1");
    let whole = q::<String>(&mut c, &["DEBUG", "DIGEST"]);
    q::<()>(&mut c, &["EXPIRE", "n1", "1000"]);
    let with_ttl = digest_of(&mut c, "n1");
    assert_ne!(with_ttl, before);
    q::<()>(&mut c, &["EXPIRE", "n1", "2000"]);
    assert_eq!(digest_of(&mut c, "n1"), with_ttl);
    assert_ne!(q::<String>(&mut c, &["DEBUG", "DIGEST"]), whole);
    q::<()>(&mut c, &["PERSIST", "n1"]);
    assert_eq!(digest_of(&mut c, "n1"), before);
    assert_eq!(q::<String>(&mut c, &["DEBUG", "DIGEST"]), whole);
    q::<()>(&mut c, &["RENAME", "n1", "n3"]);
    assert_eq!(digest_of(&mut c, "n3"), before);
    assert_ne!(q::<String>(&mut c, &["DEBUG", "DIGEST"]), whole);
}

#[test]
fn digests_see_expired_keys_not_yet_deleted() {
    let s = debug_server();
    let mut c = s.client();
    q::<()>(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    q::<()>(&mut c, &["SET", "k", "v", "PX", "1"]);
    let stored = digest_of(&mut c, "k");
    std::thread::sleep(Duration::from_millis(20));
    // Like Redis's dictFind and dict walk: the expired key still counts.
    assert_eq!(digest_of(&mut c, "k"), stored);
    assert_ne!(q::<String>(&mut c, &["DEBUG", "DIGEST"]), ZEROS);
    let obj: String = q(&mut c, &["DEBUG", "OBJECT", "k"]);
    assert!(obj.contains("encoding:embstr"), "{obj}");
    // A lookup deletes it; then it is gone from both.
    assert_eq!(q::<Option<String>>(&mut c, &["GET", "k"]), None);
    assert_eq!(digest_of(&mut c, "k"), ZEROS);
    assert_eq!(q::<String>(&mut c, &["DEBUG", "DIGEST"]), ZEROS);
    assert_eq!(err(&mut c, &["DEBUG", "OBJECT", "k"]), "ERR no such key");
}

/// DEBUG PAUSE-CRON 1: the cron's ticks do nothing (no active expiry,
/// among the rest) until PAUSE-CRON 0.
#[test]
fn pause_cron_stops_the_periodic_work() {
    let s = debug_server();
    let mut c = s.client();
    assert_eq!(q::<String>(&mut c, &["DEBUG", "PAUSE-CRON", "1"]), "OK");
    q::<()>(&mut c, &["SET", "k", "v", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(300));
    let keyspace: String = q(&mut c, &["INFO", "keyspace"]);
    assert!(keyspace.contains("db0:keys=1,"), "expired but kept while paused: {keyspace}");
    assert_eq!(q::<String>(&mut c, &["DEBUG", "PAUSE-CRON", "0"]), "OK");
    let start = std::time::Instant::now();
    while q::<String>(&mut c, &["INFO", "keyspace"]).contains("db0:") {
        assert!(start.elapsed() < Duration::from_secs(5), "never expired");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn populate_names_sizes_and_skips_like_redis() {
    let s = debug_server();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "key:1", "mine"]);
    assert_eq!(q::<String>(&mut c, &["DEBUG", "POPULATE", "3"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 3);
    assert_eq!(q::<String>(&mut c, &["GET", "key:0"]), "value:0");
    assert_eq!(q::<String>(&mut c, &["GET", "key:1"]), "mine");
    assert_eq!(q::<String>(&mut c, &["GET", "key:2"]), "value:2");
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "key:2"]), "embstr");
    // A prefix; a size pads with zero bytes or cuts.
    q::<()>(&mut c, &["DEBUG", "POPULATE", "2", "p", "10"]);
    assert_eq!(q::<Vec<u8>>(&mut c, &["GET", "p:1"]), b"value:1\0\0\0");
    q::<()>(&mut c, &["DEBUG", "POPULATE", "12", "cut", "3"]);
    assert_eq!(q::<String>(&mut c, &["GET", "cut:11"]), "val");
    // Size 0 means no size.
    q::<()>(&mut c, &["DEBUG", "POPULATE", "1", "z", "0"]);
    assert_eq!(q::<String>(&mut c, &["GET", "z:0"]), "value:0");
    // The selected database; count 0 does nothing.
    q::<()>(&mut c, &["SELECT", "3"]);
    q::<()>(&mut c, &["DEBUG", "POPULATE", "0"]);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
    q::<()>(&mut c, &["DEBUG", "POPULATE", "5"]);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 5);
    // The key is built in a 128-byte C buffer: a long prefix is cut, and
    // the keys that collide are skipped.
    let long = "x".repeat(130);
    q::<()>(&mut c, &["DEBUG", "POPULATE", "3", &long]);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 6);
    assert_eq!(q::<String>(&mut c, &["GET", &"x".repeat(127)]), "value:0");
}

#[test]
fn populate_errors_are_redis_texts() {
    let s = debug_server();
    let mut c = s.client();
    let positive = "ERR value is out of range, must be positive";
    assert_eq!(err(&mut c, &["DEBUG", "POPULATE", "-1"]), positive);
    assert_eq!(err(&mut c, &["DEBUG", "POPULATE", "abc"]), positive);
    assert_eq!(err(&mut c, &["DEBUG", "POPULATE", "3", "p", "-1"]), positive);
    assert_eq!(err(&mut c, &["DEBUG", "POPULATE", "3", "p", "x"]), positive);
    assert_eq!(
        err(&mut c, &["DEBUG", "POPULATE", "1", "p", "1", "extra"]),
        "ERR unknown subcommand or wrong number of arguments for 'POPULATE'. Try DEBUG HELP."
    );
    assert_eq!(
        err(&mut c, &["DEBUG", "POPULATE", "1", "p", "600000000"]),
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
    // Nothing was written by the refused calls.
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
}

/// A `pmessage` frame of the `__key*__:*` pattern.
fn pmessage(channel: &str, payload: &str) -> Vec<u8> {
    format!(
        "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n${}\r\n{channel}\r\n${}\r\n{payload}\r\n",
        channel.len(),
        payload.len()
    )
    .into_bytes()
}

#[test]
fn populate_touches_watched_keys_and_raises_only_new() {
    let s = debug_server();
    let mut c = s.client();
    q::<()>(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "KEAn"]);
    let mut sub = s.raw();
    sub.roundtrip(b"PSUBSCRIBE __key*__:*\r\n", b"*3\r\n$10\r\npsubscribe\r\n$10\r\n__key*__:*\r\n:1\r\n");
    q::<()>(&mut c, &["WATCH", "key:0"]);
    q::<()>(&mut c, &["DEBUG", "POPULATE", "1"]);
    q::<()>(&mut c, &["MULTI"]);
    q::<()>(&mut c, &["PING"]);
    assert_eq!(q::<Option<Vec<String>>>(&mut c, &["EXEC"]), None, "the watched key was touched");
    // `new` and nothing else for key:0: the next events are the marker's.
    q::<()>(&mut c, &["SET", "marker", "1"]);
    sub.expect(&pmessage("__keyspace@0__:key:0", "new"));
    sub.expect(&pmessage("__keyevent@0__:new", "key:0"));
    sub.expect(&pmessage("__keyspace@0__:marker", "new"));
}

/// Sends `DEBUG PROTOCOL <t>` and expects exactly `bytes`.
fn protocol(r: &mut common::Raw, t: &str, bytes: &[u8]) {
    r.roundtrip(format!("DEBUG PROTOCOL {t}\r\n").as_bytes(), bytes);
}

// Each reply as redis-server 7.0.15 wrote it (read from a raw socket).
const BOTH: &[(&str, &[u8])] = &[
    ("string", b"$11\r\nHello World\r\n"),
    ("integer", b":12345\r\n"),
    ("array", b"*3\r\n:0\r\n:1\r\n:2\r\n"),
    (
        "foo",
        b"-ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false\r\n",
    ),
];

#[test]
fn protocol_resp2_bytes() {
    let s = debug_server();
    let mut r = s.raw();
    for (t, bytes) in BOTH {
        protocol(&mut r, t, bytes);
    }
    protocol(&mut r, "double", b"$5\r\n3.141\r\n");
    protocol(&mut r, "bignum", b"$37\r\n1234567999999999999999999999999999999\r\n");
    protocol(&mut r, "null", b"$-1\r\n");
    protocol(&mut r, "set", b"*3\r\n:0\r\n:1\r\n:2\r\n");
    protocol(&mut r, "map", b"*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n");
    protocol(&mut r, "attrib", b"$39\r\nSome real reply following the attribute\r\n");
    protocol(&mut r, "push", b"-ERR RESP2 is not supported by this command\r\n");
    protocol(&mut r, "verbatim", b"$25\r\nThis is a verbatim\nstring\r\n");
    protocol(&mut r, "true", b":1\r\n");
    protocol(&mut r, "FALSE", b":0\r\n");
}

#[test]
fn protocol_resp3_bytes() {
    let s = debug_server();
    let mut r = s.raw();
    r.hello3();
    for (t, bytes) in BOTH {
        protocol(&mut r, t, bytes);
    }
    protocol(&mut r, "double", b",3.141\r\n");
    protocol(&mut r, "bignum", b"(1234567999999999999999999999999999999\r\n");
    protocol(&mut r, "null", b"_\r\n");
    protocol(&mut r, "set", b"~3\r\n:0\r\n:1\r\n:2\r\n");
    protocol(&mut r, "map", b"%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n");
    protocol(
        &mut r,
        "attrib",
        b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n",
    );
    protocol(
        &mut r,
        "push",
        b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push reply\r\n",
    );
    protocol(&mut r, "verbatim", b"=29\r\ntxt:This is a verbatim\nstring\r\n");
    protocol(&mut r, "True", b"#t\r\n");
    protocol(&mut r, "false", b"#f\r\n");
    r.roundtrip(
        b"DEBUG PROTOCOL\r\n",
        b"-ERR unknown subcommand or wrong number of arguments for 'PROTOCOL'. Try DEBUG HELP.\r\n",
    );
}

#[test]
fn help_is_redis_text_for_what_exists() {
    let s = debug_server();
    let mut c = s.client();
    let lines: Vec<String> = q(&mut c, &["DEBUG", "HELP"]);
    assert_eq!(lines[0], "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    assert_eq!(lines[lines.len() - 2..], ["HELP", "    Prints this help."]);
    for l in [
        "DIGEST-VALUE <key> [<key> ...]",
        "    Output a hex signature of the values of all the specified keys.",
        "POPULATE <count> [<prefix>] [<size>]",
        "    Stop the server for <seconds>. Decimals allowed.",
        "REPLYBUFFER RESIZING <0|1>",
        "    Enable or disable the reply buffer resize cron job",
        "PAUSE-CRON <0|1>",
    ] {
        assert!(lines.iter().any(|x| x == l), "missing {l:?}");
    }
    // No line for what ferrokv does not have (yet).
    assert!(lines.iter().any(|x| x == "RELOAD [option ...]"), "RELOAD comes with RDB persistence");
    assert!(lines.iter().any(|x| x == "LOADAOF"), "LOADAOF comes with the append-only file");
    assert!(!lines.iter().any(|x| x == "JMAP"), "JMAP listed");
    // Every subcommand named in the help is answered (with some argument
    // count; STRINGMATCH-TEST has its own test, being slow; LOADAOF has
    // its own in tests/aof.rs: without an AOF it ends the server, as in
    // Redis 7.0; SEGFAULT ends the process, tested on a child process).
    let known = |r: redis::RedisResult<redis::Value>| match r {
        Ok(_) => true,
        Err(e) => !e.detail().unwrap_or("").starts_with("unknown subcommand"),
    };
    for l in lines.iter().skip(1).filter(|l| !l.starts_with(' ') && *l != "HELP") {
        let sub = l.split(' ').next().unwrap();
        if sub == "STRINGMATCH-TEST" || sub == "LOADAOF" || sub == "SEGFAULT" {
            continue;
        }
        let answered = [&[][..], &["k"], &["peak-reset-time", "never"]].iter().any(|extra| {
            let mut call = redis::cmd("DEBUG");
            call.arg(sub).arg(*extra);
            known(call.query(&mut c))
        });
        assert!(answered, "{sub} is not answered");
    }
    assert_eq!(
        err(&mut c, &["DEBUG", "HELP", "extra"]),
        "ERR unknown subcommand or wrong number of arguments for 'HELP'. Try DEBUG HELP."
    );
}

#[test]
fn unknown_subcommands_and_argument_counts() {
    let s = debug_server();
    let mut c = s.client();
    let e = |sub: &str| format!("ERR unknown subcommand or wrong number of arguments for '{sub}'. Try DEBUG HELP.");
    assert_eq!(err(&mut c, &["DEBUG", "jmap"]), e("jmap"));
    assert_eq!(err(&mut c, &["DEBUG", "stringmatch-len"]), e("stringmatch-len"));
    assert_eq!(err(&mut c, &["DEBUG", "digest", "x"]), e("digest"));
    assert_eq!(err(&mut c, &["DEBUG", "object"]), e("object"));
    assert_eq!(err(&mut c, &["DEBUG", "sleep"]), e("sleep"));
    assert_eq!(err(&mut c, &["DEBUG", "change-repl-id", "x"]), e("change-repl-id"));
    assert_eq!(err(&mut c, &["DEBUG", "quicklist-packed-threshold"]), e("quicklist-packed-threshold"));
    assert_eq!(err(&mut c, &["DEBUG", "listpack"]), e("listpack"));
    assert_eq!(err(&mut c, &["DEBUG", "set-active-expire"]), e("set-active-expire"));
    assert_eq!(err(&mut c, &["DEBUG", "set-disable-deny-scripts"]), e("set-disable-deny-scripts"));
    assert_eq!(err(&mut c, &["DEBUG", "stringmatch-test", "1"]), e("stringmatch-test"));
    assert_eq!(err(&mut c, &["DEBUG", "log"]), e("log"));
    assert_eq!(err(&mut c, &["DEBUG", "error"]), e("error"));
    // The name as typed, cut at 128 bytes.
    let long = "Q".repeat(200);
    assert_eq!(err(&mut c, &["DEBUG", &long]), e(&"Q".repeat(128)));
    assert_eq!(err(&mut c, &["DEBUG"]), "ERR wrong number of arguments for 'debug' command");
}

#[test]
fn not_allowed_unless_enabled_even_in_multi() {
    let s = server();
    let mut c = s.client();
    let refused = err(&mut c, &["DEBUG", "DIGEST"]);
    assert!(refused.starts_with("ERR DEBUG command not allowed. If the enable-debug-command option"), "{refused}");
    // The arity check comes first, as in Redis.
    assert_eq!(err(&mut c, &["DEBUG"]), "ERR wrong number of arguments for 'debug' command");
    // Refused when queued, which aborts the transaction.
    let mut r = s.raw();
    r.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    r.send(b"DEBUG SLEEP 0\r\n");
    r.expect(format!("-{refused}\r\n").as_bytes());
    r.roundtrip(b"EXEC\r\n", b"-EXECABORT Transaction discarded because of previous errors.\r\n");
    // `local` lets a loopback client in.
    let local = server_with(|c| c.enable_debug_command = "local".into());
    let mut c = local.client();
    assert_eq!(q::<String>(&mut c, &["DEBUG", "DIGEST"]), ZEROS);
}

#[test]
fn object_shows_list_nodes() {
    let s = debug_server();
    let mut c = s.client();
    q::<()>(&mut c, &["RPUSH", "l", "a", "b", "c", "1", "2"]);
    let obj: String = q(&mut c, &["DEBUG", "OBJECT", "l"]);
    assert!(obj.starts_with("Value at:0x"), "{obj}");
    assert!(obj.contains(" refcount:1 encoding:quicklist serializedlength:"), "{obj}");
    assert!(
        obj.contains(" ql_nodes:1 ql_avg_node:5.00 ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:"),
        "{obj}"
    );
    // Many nodes: 8 KB nodes of 100-byte elements.
    let v = "v".repeat(100);
    for _ in 0..300 {
        q::<()>(&mut c, &["RPUSH", "big", &v]);
    }
    let obj: String = q(&mut c, &["DEBUG", "OBJECT", "big"]);
    let field = |name: &str| -> f64 {
        let at = obj.find(&format!(" {name}:")).unwrap_or_else(|| panic!("{name} in {obj}")) + name.len() + 2;
        obj[at..].split(' ').next().unwrap().parse().unwrap()
    };
    let nodes = field("ql_nodes");
    assert!(nodes > 1.0, "{obj}");
    assert_eq!(format!("{:.2}", 300.0 / nodes), format!("{:.2}", field("ql_avg_node")));
    assert!(field("ql_uncompressed_size") > 30000.0, "{obj}");
    q::<()>(&mut c, &["CONFIG", "SET", "list-max-listpack-size", "100000"]);
    let obj: String = q(&mut c, &["DEBUG", "OBJECT", "big"]);
    assert!(obj.contains(" ql_listpack_max:32767 "), "{obj}");
    // Other types have no ql_ fields.
    q::<()>(&mut c, &["SADD", "s", "1"]);
    let obj: String = q(&mut c, &["DEBUG", "OBJECT", "s"]);
    assert!(obj.contains("encoding:intset") && !obj.contains("ql_"), "{obj}");
}

#[test]
fn listpack_of_listpack_values_only() {
    let s = debug_server();
    let mut c = s.client();
    q::<()>(&mut c, &["HSET", "h", "a", "b", "num", "12"]);
    q::<()>(&mut c, &["ZADD", "z", "1.5", "a", "2", "b", "-3", "ccc"]);
    q::<()>(&mut c, &["SET", "s", "v"]);
    q::<()>(&mut c, &["RPUSH", "l", "v"]);
    q::<()>(&mut c, &["SADD", "set", "1"]);
    assert_eq!(q::<String>(&mut c, &["DEBUG", "LISTPACK", "h"]), "Listpack structure printed on stdout");
    assert_eq!(q::<String>(&mut c, &["DEBUG", "LISTPACK", "z"]), "Listpack structure printed on stdout");
    for k in ["s", "l", "set"] {
        assert_eq!(err(&mut c, &["DEBUG", "LISTPACK", k]), "ERR Not a listpack encoded object.");
    }
    q::<()>(&mut c, &["HSET", "h", "long", &"x".repeat(100)]);
    assert_eq!(err(&mut c, &["DEBUG", "LISTPACK", "h"]), "ERR Not a listpack encoded object.");
    assert_eq!(err(&mut c, &["DEBUG", "LISTPACK", "nokey"]), "ERR no such key");
}

#[test]
fn quicklist_packed_threshold_validation() {
    let s = debug_server();
    let mut c = s.client();
    // Each accepted or refused as redis-server 7.0.15 does.
    for ok in ["0", "1", "1k", "1gb", "4095mb", "3g", "4293918720", "00012", "1B", "1Kb", "", "k"] {
        assert_eq!(q::<String>(&mut c, &["DEBUG", "QUICKLIST-PACKED-THRESHOLD", ok]), "OK", "{ok:?}");
    }
    for bad in ["4gb", "4096mb", "4293918721", "5g", "-1", "abc", "+5", " 5", "1.5k", "99999999999999999999"] {
        assert_eq!(
            err(&mut c, &["DEBUG", "QUICKLIST-PACKED-THRESHOLD", bad]),
            "ERR argument must be a memory value bigger than 1 and smaller than 4gb",
            "{bad:?}"
        );
    }
}

#[test]
fn switches_read_their_arguments_like_redis() {
    let s = debug_server();
    let mut c = s.client();
    for args in [
        &["REPLYBUFFER", "PEAK-RESET-TIME", "never"][..],
        &["REPLYBUFFER", "peak-reset-time", "RESET"],
        &["REPLYBUFFER", "PEAK-RESET-TIME", "100"],
        &["REPLYBUFFER", "PEAK-RESET-TIME", "-5"],
        &["REPLYBUFFER", "RESIZING", "0"],
        &["REPLYBUFFER", "RESIZING", "abc"],
        &["REPLYBUFFER", "RESIZING", "1"],
        &["SET-DISABLE-DENY-SCRIPTS", "1"],
        &["SET-DISABLE-DENY-SCRIPTS", "x"],
        &["SET-DISABLE-DENY-SCRIPTS", "0"],
        &["SLEEP", "abc"],
        &["SLEEP", "-1"],
        &["SLEEP", "0"],
        &["LOG", "hello from the test"],
    ] {
        let mut full = vec!["DEBUG"];
        full.extend_from_slice(args);
        assert_eq!(q::<String>(&mut c, &full), "OK", "{args:?}");
    }
    assert_eq!(
        err(&mut c, &["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "abc"]),
        "ERR value is not an integer or out of range"
    );
    let bad = "ERR unknown subcommand or wrong number of arguments for 'replybuffer'. Try DEBUG HELP.";
    assert_eq!(err(&mut c, &["DEBUG", "replybuffer", "foo", "1"]), bad);
    assert_eq!(err(&mut c, &["DEBUG", "replybuffer", "resizing"]), bad);
    assert_eq!(err(&mut c, &["DEBUG", "replybuffer"]), bad);
    // DEBUG ERROR replies its argument as the error line, which is not
    // counted as an error.
    q::<()>(&mut c, &["CONFIG", "RESETSTAT"]);
    assert_eq!(err(&mut c, &["DEBUG", "ERROR", "MYERR something\r\nbad"]), "MYERR something  bad");
    let stats: String = q(&mut c, &["INFO", "errorstats"]);
    assert!(!stats.contains("MYERR"), "{stats}");
    // SLEEP reads a decimal prefix.
    let start = Instant::now();
    assert_eq!(q::<String>(&mut c, &["DEBUG", "SLEEP", "0.15s"]), "OK");
    assert!(start.elapsed() >= Duration::from_millis(150));
}

#[test]
fn set_active_expire_reads_atoi() {
    let s = debug_server();
    let mut c = s.client();
    // atoi("abc") is 0: active expiry off, so an untouched expired key stays.
    assert_eq!(q::<String>(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "abc"]), "OK");
    q::<()>(&mut c, &["SET", "t", "v", "PX", "10"]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 1);
    assert_eq!(q::<String>(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "7"]), "OK");
    let start = Instant::now();
    while q::<i64>(&mut c, &["DBSIZE"]) != 0 {
        assert!(start.elapsed() < Duration::from_secs(3), "active expiry did not resume");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn change_repl_id_changes_master_replid_only() {
    let s = debug_server();
    let mut c = s.client();
    let field = |c: &mut redis::Connection, section: &str, name: &str| -> String {
        let info: String = q(c, &["INFO", section]);
        let line = info.lines().find(|l| l.starts_with(&format!("{name}:"))).unwrap_or_else(|| panic!("{name}"));
        line[name.len() + 1..].to_string()
    };
    let (id, run) = (field(&mut c, "replication", "master_replid"), field(&mut c, "server", "run_id"));
    assert_eq!(id.len(), 40);
    assert_ne!(id, run, "the replication id is not the run id");
    assert_eq!(q::<String>(&mut c, &["DEBUG", "CHANGE-REPL-ID"]), "OK");
    let new = field(&mut c, "replication", "master_replid");
    assert!(new.len() == 40 && new.bytes().all(|b| b.is_ascii_hexdigit()) && new != id, "{new}");
    assert_eq!(field(&mut c, "replication", "master_replid2"), ZEROS);
    assert_eq!(field(&mut c, "replication", "second_repl_offset"), "-1");
    assert_eq!(field(&mut c, "server", "run_id"), run);
}

#[test]
fn stringmatch_test_runs_the_fuzzer() {
    let s = debug_server();
    let mut c = s.client();
    // A million matches take a few seconds in a debug build.
    c.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    assert_eq!(q::<String>(&mut c, &["DEBUG", "STRINGMATCH-TEST"]), "Apparently Redis did not crash: test passed");
}

/// DEBUG SEGFAULT, and a crash by signal in general (the Tcl suite's
/// "Crash report generated on DEBUG SEGFAULT / on SIGABRT"): Redis's bug
/// report with the signal and a stack trace goes to the log, then the
/// process ends by that signal.
#[test]
fn a_crash_by_signal_logs_redis_s_bug_report() {
    use std::os::unix::process::ExitStatusExt;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_ferrokv"))
        .args(["--port", &port.to_string(), "--save", "", "--enable-debug-command", "yes"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut c = common::connect_when_up(port);
    assert!(redis::cmd("DEBUG").arg("SEGFAULT").query::<()>(&mut c).is_err(), "no reply: the server is gone");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.signal(), Some(libc::SIGSEGV));
    let log = String::from_utf8_lossy(&out.stdout);
    for line in [
        "=== REDIS BUG REPORT START: Cut & paste starting from here ===",
        "# Redis 7.0.15 crashed by signal: 11, si_code:",
        "------ STACK TRACE ------",
        "=== REDIS BUG REPORT END. Make sure to include from START to END. ===",
        // The frames name ferrokv's functions (.cargo/config.toml: -rdynamic).
        "(_ZN7ferrokv3cmd5debug",
    ] {
        assert!(log.contains(line), "{line} in {log}");
    }
}

/// `watchdog-period` (the Tcl suite's "Server is able to generate a stack
/// trace"): a loop held longer than the period logs Redis's watchdog lines
/// and a stack trace, and goes on; a period under two cron ticks is raised
/// to that, as Redis does; 0 turns it off.
#[test]
fn the_watchdog_logs_where_the_loop_is_held() {
    let dir = common::fresh_dir();
    let log = format!("{dir}/log");
    let srv = common::RedisServer::start_program(env!("CARGO_BIN_EXE_ferrokv"), &dir, &["--logfile", &log]);
    let mut c = srv.client().unwrap();
    let set = |c: &mut redis::Connection, v: &str| {
        assert_eq!(q::<String>(c, &["CONFIG", "SET", "watchdog-period", v]), "OK");
    };
    set(&mut c, "50");
    assert_eq!(q::<Vec<String>>(&mut c, &["CONFIG", "GET", "watchdog-period"]), ["watchdog-period", "200"]);
    assert_eq!(q::<String>(&mut c, &["DEBUG", "SLEEP", "0.1"]), "OK");
    // Idle, the cron keeps putting the timer off.
    std::thread::sleep(Duration::from_millis(500));
    assert!(!std::fs::read_to_string(&log).unwrap().contains("WATCHDOG"), "held less than the period");
    assert_eq!(q::<String>(&mut c, &["DEBUG", "SLEEP", "0.6"]), "OK");
    let text = std::fs::read_to_string(&log).unwrap();
    for line in
        [":signal-handler (", "\n--- WATCHDOG TIMER EXPIRED ---", "------ STACK TRACE ------", "EIP:", "Backtrace:"]
    {
        assert!(text.contains(line), "{line} in {text}");
    }
    assert!(text.contains(") --------\n"), "{text}");
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
    set(&mut c, "0");
    assert_eq!(q::<Vec<String>>(&mut c, &["CONFIG", "GET", "watchdog-period"]), ["watchdog-period", "0"]);
    let before = std::fs::read_to_string(&log).unwrap().matches("WATCHDOG").count();
    assert_eq!(q::<String>(&mut c, &["DEBUG", "SLEEP", "0.6"]), "OK");
    assert_eq!(std::fs::read_to_string(&log).unwrap().matches("WATCHDOG").count(), before);
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}
