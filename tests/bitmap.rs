//! Bitmap commands through a real client: SETBIT, GETBIT, BITCOUNT, BITPOS,
//! BITOP, BITFIELD, BITFIELD_RO. Every expected reply and error text below
//! was first observed on redis-server 7.0.15 with the same commands.
//!
//! `differential_against_redis` (ignored by default) replays random bitmap
//! commands against ferrokv and a real Redis and compares every reply:
//! `REDIS_REF_URL=redis://127.0.0.1:6390/9 cargo test --test bitmap -- --ignored`.

mod common;
use common::{err, q, server, server_with};
use redis::Value;

const OFFSET: &str = "ERR bit offset is not an integer or out of range";
const BIT: &str = "ERR bit is not an integer or out of range";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";
const BAD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

fn set_bytes(c: &mut redis::Connection, key: &str, v: &[u8]) {
    let _: () = redis::cmd("SET").arg(key).arg(v).query(c).unwrap();
}

fn get_bytes(c: &mut redis::Connection, key: &str) -> Option<Vec<u8>> {
    redis::cmd("GET").arg(key).query(c).unwrap()
}

/// The length of the string at `key` (ferrokv has no STRLEN yet).
fn strlen(c: &mut redis::Connection, key: &str) -> usize {
    get_bytes(c, key).map_or(0, |v| v.len())
}

/// A BITFIELD / BITFIELD_RO reply: one entry per operation, `None` for null.
fn bf(c: &mut redis::Connection, args: &[&str]) -> Vec<Option<i64>> {
    q(c, args)
}

#[test]
fn setbit_getbit() {
    let s = server();
    let mut c = s.client();
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "k", "7", "1"]), 0);
    assert_eq!(get_bytes(&mut c, "k"), Some(vec![1]));
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "k", "7", "1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "k", "7"]), 1);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "k", "6"]), 0);
    // Clearing a bit past the end still grows the string with zeros.
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "k", "100", "0"]), 0);
    assert_eq!(strlen(&mut c, "k"), 13);
    assert_eq!(get_bytes(&mut c, "k").unwrap(), [&[1u8][..], &[0; 12]].concat());
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "k", "7", "0"]), 1);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "k", "7"]), 0);
    // Reads past the end and on missing keys are 0, without creating anything.
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "k", "1000000"]), 0);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "k", "4294967295"]), 0);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "missing", "5"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "missing"]), 0);
    // SETBIT 0 on a missing key creates a one-byte string.
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "z", "0", "0"]), 0);
    assert_eq!(get_bytes(&mut c, "z"), Some(vec![0]));
    // Works on any string, bit 0 being the top bit of the first byte.
    q::<()>(&mut c, &["SET", "s", "A"]); // 0100_0001
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "s", "1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "s", "6", "1"]), 0);
    assert_eq!(q::<String>(&mut c, &["GET", "s"]), "C");
}

#[test]
fn setbit_keeps_ttl() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "s", "foo", "EX", "100"]);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "s", "100", "1"]), 0);
    assert!(q::<i64>(&mut c, &["TTL", "s"]) > 90);
    assert_eq!(strlen(&mut c, "s"), 13);
    // A key whose TTL passed is missing: SETBIT starts a new string.
    q::<()>(&mut c, &["SET", "t", "\u{ff}", "PX", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "t", "1", "1"]), 0);
    assert_eq!(get_bytes(&mut c, "t"), Some(vec![0x40]));
    assert_eq!(q::<i64>(&mut c, &["TTL", "t"]), -1);
}

#[test]
fn setbit_getbit_errors() {
    let s = server();
    let mut c = s.client();
    for off in ["-1", "4294967296", "x", "#1", "01", "", "1.0", " 1", "9223372036854775808"] {
        assert_eq!(err(&mut c, &["SETBIT", "k", off, "1"]), OFFSET, "{off:?}");
        assert_eq!(err(&mut c, &["GETBIT", "k", off]), OFFSET, "{off:?}");
    }
    for bit in ["2", "-1", "x", "01", " 1", "", "1.0"] {
        assert_eq!(err(&mut c, &["SETBIT", "k", "1", bit]), BIT, "{bit:?}");
    }
    // The offset is checked before the bit.
    assert_eq!(err(&mut c, &["SETBIT", "k", "4294967296", "2"]), OFFSET);
    assert_eq!(err(&mut c, &["SETBIT", "k", "4294967295", "2"]), BIT);
    assert_eq!(err(&mut c, &["SETBIT", "k", "1"]), "ERR wrong number of arguments for 'setbit' command");
    assert_eq!(err(&mut c, &["GETBIT", "k"]), "ERR wrong number of arguments for 'getbit' command");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]), 0);
}

/// The largest bit offset is `proto-max-bulk-len * 8 - 1` (512 MB → 2^32 - 1).
/// Checked with a 1 MB limit so the test does not allocate 512 MB.
#[test]
fn offsets_are_limited_by_proto_max_bulk_len() {
    let s = server_with(|c| c.proto_max_bulk_len = 1024 * 1024);
    let mut c = s.client();
    assert_eq!(err(&mut c, &["SETBIT", "p", "8388608", "1"]), OFFSET);
    assert_eq!(err(&mut c, &["GETBIT", "p", "8388608"]), OFFSET);
    assert_eq!(err(&mut c, &["BITFIELD", "p", "GET", "u8", "8388608"]), OFFSET);
    assert_eq!(err(&mut c, &["BITFIELD", "p", "GET", "u8", "#1048576"]), OFFSET);
    assert_eq!(err(&mut c, &["BITFIELD", "p", "GET", "i64", "#131072"]), OFFSET);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "p", "8388607", "1"]), 0);
    assert_eq!(strlen(&mut c, "p"), 1048576);
    // A field may start at the last bit and run past the limit.
    assert_eq!(bf(&mut c, &["BITFIELD", "p", "GET", "u8", "8388607"]), [Some(128)]);
    assert_eq!(bf(&mut c, &["BITFIELD", "p", "SET", "u8", "8388607", "1"]), [Some(128)]);
    assert_eq!(strlen(&mut c, "p"), 1048577);
    // The limit follows CONFIG SET, as in Redis.
    q::<()>(&mut c, &["CONFIG", "SET", "proto-max-bulk-len", "2mb"]);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "p", "8388608", "1"]), 0);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "p", "16777215"]), 0);
    assert_eq!(err(&mut c, &["GETBIT", "p", "16777216"]), OFFSET);
}

#[test]
fn bitcount() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "s", "foobar"]);
    for (args, n) in [
        (&["BITCOUNT", "s"][..], 26),
        (&["BITCOUNT", "s", "0", "0"], 4),
        (&["BITCOUNT", "s", "1", "1"], 6),
        (&["BITCOUNT", "s", "1", "1", "BYTE"], 6),
        (&["BITCOUNT", "s", "5", "30", "BIT"], 17),
        (&["BITCOUNT", "s", "5", "30", "bit"], 17),
        (&["BITCOUNT", "s", "-1", "-1"], 4),
        (&["BITCOUNT", "s", "-2", "-1", "BIT"], 1),
        (&["BITCOUNT", "s", "-1", "-2"], 0),
        (&["BITCOUNT", "s", "-100", "100"], 26),
        (&["BITCOUNT", "s", "3", "1"], 0),
        (&["BITCOUNT", "s", "7", "8", "bit"], 0),
        (&["BITCOUNT", "s", "47", "47", "bit"], 0),
        (&["BITCOUNT", "s", "48", "48", "bit"], 0),
        (&["BITCOUNT", "s", "-3", "-5", "bit"], 0),
        (&["BITCOUNT", "s", "0", "-9223372036854775808"], 4),
        (&["BITCOUNT", "s", "-9223372036854775808", "-1", "bit"], 26),
        (&["BITCOUNT", "s", "9223372036854775807", "9223372036854775807"], 0),
        (&["BITCOUNT", "s", "0", "9223372036854775807", "BIT"], 26),
        // Both negative and start > end: 0 before BYTE|BIT is even read.
        (&["BITCOUNT", "s", "-1", "-2", "bits"], 0),
        (&["BITCOUNT", "missing"], 0),
    ] {
        assert_eq!(q::<i64>(&mut c, args), n, "{args:?}");
    }
    q::<()>(&mut c, &["SET", "e", ""]);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "e"]), 0);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "e", "0", "-1"]), 0);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "e", "0", "-1", "BIT"]), 0);
    // A long string exercises the word-at-a-time count.
    let long: Vec<u8> = (0..1000u32).map(|i| (i * 37 % 256) as u8).collect();
    set_bytes(&mut c, "l", &long);
    let ones: u32 = long.iter().map(|b| b.count_ones()).sum();
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "l"]), ones as i64);
    let mid: u32 = long[3..997].iter().map(|b| b.count_ones()).sum::<u32>() + (long[2] & 1).count_ones();
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "l", "23", "7975", "BIT"]), mid as i64);
}

#[test]
fn bitcount_errors() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "s", "foobar"]);
    for args in [
        &["BITCOUNT", "s", "0"][..],
        &["BITCOUNT", "s", "0", "1", "2"],
        &["BITCOUNT", "s", "0", "1", "BIT", "x"],
        &["BITCOUNT", "s", "0", "1", "bitz"],
        &["BITCOUNT", "s", "-2", "-1", "bits"],
        &["BITCOUNT", "s", "-1", "-2", "bit", "x"],
    ] {
        assert_eq!(err(&mut c, args), SYNTAX, "{args:?}");
    }
    assert_eq!(err(&mut c, &["BITCOUNT", "s", "a", "1"]), NOT_INT);
    assert_eq!(err(&mut c, &["BITCOUNT", "s", "0", "b"]), NOT_INT);
    assert_eq!(err(&mut c, &["BITCOUNT", "s", "0", "9223372036854775808"]), NOT_INT);
    // Redis 7.0 looks the key up first: a missing key is 0 whatever follows.
    for args in [
        &["BITCOUNT", "missing", "0"][..],
        &["BITCOUNT", "missing", "a", "b"],
        &["BITCOUNT", "missing", "0", "1", "foo"],
        &["BITCOUNT", "missing", "0", "1", "bit", "x"],
    ] {
        assert_eq!(q::<i64>(&mut c, args), 0, "{args:?}");
    }
    assert_eq!(err(&mut c, &["BITCOUNT"]), "ERR wrong number of arguments for 'bitcount' command");
}

#[test]
fn bitpos() {
    let s = server();
    let mut c = s.client();
    set_bytes(&mut c, "ones", &[0xff; 3]);
    set_bytes(&mut c, "zeros", &[0; 3]);
    set_bytes(&mut c, "x", &[0xff, 0xf0, 0x00]);
    q::<()>(&mut c, &["SET", "s", "foobar"]);
    q::<()>(&mut c, &["SET", "e", ""]);
    for (args, n) in [
        // Looking for 0 in all ones: past the end unless an end was given.
        (&["BITPOS", "ones", "0"][..], 24),
        (&["BITPOS", "ones", "0", "0"], 24),
        (&["BITPOS", "ones", "0", "1"], 24),
        (&["BITPOS", "ones", "0", "-1"], 24),
        (&["BITPOS", "ones", "0", "0", "-1"], -1),
        (&["BITPOS", "ones", "0", "0", "-1", "bit"], -1),
        (&["BITPOS", "ones", "0", "0", "100", "bit"], -1),
        (&["BITPOS", "ones", "0", "5"], -1),
        (&["BITPOS", "ones", "1", "5"], -1),
        (&["BITPOS", "zeros", "1"], -1),
        (&["BITPOS", "zeros", "0"], 0),
        (&["BITPOS", "zeros", "0", "2"], 16),
        (&["BITPOS", "zeros", "1", "0", "-1", "bit"], -1),
        (&["BITPOS", "x", "0"], 12),
        (&["BITPOS", "x", "1"], 0),
        (&["BITPOS", "x", "1", "1"], 8),
        (&["BITPOS", "x", "0", "0", "0"], -1),
        (&["BITPOS", "x", "0", "0", "11", "bit"], -1),
        (&["BITPOS", "x", "0", "0", "12", "bit"], 12),
        (&["BITPOS", "x", "0", "0", "12", "BIT"], 12),
        (&["BITPOS", "x", "0", "0", "0", "BYTE"], -1),
        (&["BITPOS", "x", "1", "12", "23", "bit"], -1),
        (&["BITPOS", "x", "1", "3", "5", "bit"], 3),
        (&["BITPOS", "x", "0", "3", "5", "bit"], -1),
        (&["BITPOS", "x", "0", "9", "9", "bit"], -1),
        (&["BITPOS", "x", "0", "12", "12", "bit"], 12),
        (&["BITPOS", "x", "1", "-12", "-1", "bit"], -1),
        (&["BITPOS", "x", "0", "-13", "-12", "bit"], 12),
        (&["BITPOS", "s", "1", "2", "1"], -1),
        (&["BITPOS", "s", "1", "-1", "-2"], -1),
        (&["BITPOS", "s", "1", "-100", "-90"], 1),
        (&["BITPOS", "s", "1", "-100", "-200"], 1),
        (&["BITPOS", "s", "0", "-100", "-200", "bit"], 0),
        (&["BITPOS", "s", "0", "-100"], 0),
        (&["BITPOS", "s", "1", "100"], -1),
        (&["BITPOS", "e", "0"], -1),
        (&["BITPOS", "e", "1"], -1),
        (&["BITPOS", "e", "0", "0"], -1),
        // A missing key is all zeros, answered before the range is parsed.
        (&["BITPOS", "missing", "0"], 0),
        (&["BITPOS", "missing", "1"], -1),
        (&["BITPOS", "missing", "1", "a"], -1),
        (&["BITPOS", "missing", "0", "0", "0", "foo"], 0),
    ] {
        assert_eq!(q::<i64>(&mut c, args), n, "{args:?}");
    }
    // Long runs exercise the word-at-a-time scan.
    let mut long = vec![0u8; 1000];
    long[777] = 0x08;
    set_bytes(&mut c, "l", &long);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "l", "1"]), 777 * 8 + 4);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "l", "1", "6221", "-1", "BIT"]), -1);
    let mut long = vec![0xffu8; 1000];
    long[901] = 0xfe;
    set_bytes(&mut c, "l", &long);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "l", "0", "3"]), 901 * 8 + 7);
}

#[test]
fn bitpos_errors() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "s", "foobar"]);
    let bit01 = "ERR The bit argument must be 1 or 0.";
    assert_eq!(err(&mut c, &["BITPOS", "s", "2"]), bit01);
    assert_eq!(err(&mut c, &["BITPOS", "s", "-1"]), bit01);
    assert_eq!(err(&mut c, &["BITPOS", "missing", "2"]), bit01);
    assert_eq!(err(&mut c, &["BITPOS", "s", "01"]), NOT_INT);
    assert_eq!(err(&mut c, &["BITPOS", "s", "a"]), NOT_INT);
    assert_eq!(err(&mut c, &["BITPOS", "missing", "x"]), NOT_INT);
    assert_eq!(err(&mut c, &["BITPOS", "s", "1", "a"]), NOT_INT);
    assert_eq!(err(&mut c, &["BITPOS", "s", "1", "0", "a"]), NOT_INT);
    assert_eq!(err(&mut c, &["BITPOS", "s", "1", "a", "1", "foo"]), NOT_INT);
    assert_eq!(err(&mut c, &["BITPOS", "s", "1", "0", "a", "bit"]), NOT_INT);
    // The unit is read after the start and before the end.
    assert_eq!(err(&mut c, &["BITPOS", "s", "1", "0", "a", "foo"]), SYNTAX);
    assert_eq!(err(&mut c, &["BITPOS", "s", "1", "0", "1", "foo"]), SYNTAX);
    assert_eq!(err(&mut c, &["BITPOS", "s", "1", "0", "1", "bit", "x"]), SYNTAX);
    assert_eq!(err(&mut c, &["BITPOS", "s"]), "ERR wrong number of arguments for 'bitpos' command");
}

#[test]
fn bitop() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "a", "foobar"]);
    q::<()>(&mut c, &["SET", "b", "abc"]);
    q::<()>(&mut c, &["SET", "e", ""]);
    assert_eq!(q::<i64>(&mut c, &["BITOP", "and", "d", "a", "b"]), 6);
    assert_eq!(get_bytes(&mut c, "d").unwrap(), b"`bc\0\0\0");
    assert_eq!(q::<i64>(&mut c, &["BITOP", "OR", "d", "a", "b"]), 6);
    assert_eq!(get_bytes(&mut c, "d").unwrap(), b"goobar");
    assert_eq!(q::<i64>(&mut c, &["BITOP", "Xor", "d", "a", "b"]), 6);
    assert_eq!(get_bytes(&mut c, "d").unwrap(), b"\x07\x0d\x0cbar");
    assert_eq!(q::<i64>(&mut c, &["BITOP", "NOT", "d", "b"]), 3);
    assert_eq!(get_bytes(&mut c, "d").unwrap(), [!b'a', !b'b', !b'c']);
    // Missing keys are empty strings, padded with zeros.
    assert_eq!(q::<i64>(&mut c, &["BITOP", "and", "d", "a", "missing"]), 6);
    assert_eq!(get_bytes(&mut c, "d").unwrap(), [0; 6]);
    assert_eq!(q::<i64>(&mut c, &["BITOP", "or", "d", "missing", "a"]), 6);
    assert_eq!(get_bytes(&mut c, "d").unwrap(), b"foobar");
    // The destination may be a source; its TTL is dropped.
    q::<()>(&mut c, &["SET", "d", "x", "EX", "100"]);
    assert_eq!(q::<i64>(&mut c, &["BITOP", "and", "d", "a"]), 6);
    assert_eq!(q::<i64>(&mut c, &["TTL", "d"]), -1);
    assert_eq!(q::<i64>(&mut c, &["BITOP", "not", "d", "d"]), 6);
    assert_eq!(q::<i64>(&mut c, &["BITOP", "xor", "d", "d", "d", "a"]), 6);
    assert_eq!(get_bytes(&mut c, "d").unwrap(), b"foobar");
    // An empty result deletes the destination.
    for args in [
        &["BITOP", "not", "d", "missing"][..],
        &["BITOP", "and", "d", "missing", "missing2"],
        &["BITOP", "or", "d", "e"],
    ] {
        q::<()>(&mut c, &["SET", "d", "x"]);
        assert_eq!(q::<i64>(&mut c, args), 0, "{args:?}");
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "d"]), 0, "{args:?}");
    }
    // Long inputs of different lengths.
    let x: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
    let y: Vec<u8> = (0..257u32).map(|i| (i * 13 + 5) as u8).collect();
    set_bytes(&mut c, "x", &x);
    set_bytes(&mut c, "y", &y);
    let pad = |v: &[u8]| [v, &vec![0; 300 - v.len()]].concat();
    let (xp, yp) = (pad(&x), pad(&y));
    for (op, f) in [("AND", (|a, b| a & b) as fn(u8, u8) -> u8), ("OR", |a, b| a | b), ("XOR", |a, b| a ^ b)] {
        assert_eq!(q::<i64>(&mut c, &["BITOP", op, "d", "x", "y"]), 300);
        let want: Vec<u8> = xp.iter().zip(&yp).map(|(&a, &b)| f(a, b)).collect();
        assert_eq!(get_bytes(&mut c, "d").unwrap(), want, "{op}");
    }
}

#[test]
fn bitop_errors() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "a", "foobar"]);
    q::<()>(&mut c, &["SET", "b", "abc"]);
    let not1 = "ERR BITOP NOT must be called with a single source key.";
    assert_eq!(err(&mut c, &["BITOP", "not", "d", "a", "b"]), not1);
    for op in ["nand", "andx", "foo", "", "an"] {
        assert_eq!(err(&mut c, &["BITOP", op, "d", "a"]), SYNTAX, "{op:?}");
    }
    let arity = "ERR wrong number of arguments for 'bitop' command";
    assert_eq!(err(&mut c, &["BITOP", "a", "d"]), arity);
    assert_eq!(err(&mut c, &["BITOP", "and", "d"]), arity);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "d"]), 0);
}

#[test]
fn bitfield_get_set_incrby() {
    let s = server();
    let mut c = s.client();
    // No operations, or only GETs: nothing is created.
    assert_eq!(bf(&mut c, &["BITFIELD", "f"]), []);
    assert_eq!(bf(&mut c, &["BITFIELD", "f", "GET", "u8", "0"]), [Some(0)]);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "f"]), 0);
    assert_eq!(bf(&mut c, &["BITFIELD", "f", "set", "u8", "0", "255", "get", "u8", "0"]), [Some(0), Some(255)]);
    assert_eq!(bf(&mut c, &["BITFIELD", "f", "INCRBY", "u8", "0", "10"]), [Some(9)]);
    assert_eq!(bf(&mut c, &["BITFIELD", "f", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "300"]), [Some(255)]);
    assert_eq!(bf(&mut c, &["BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1"]), [None]);
    assert_eq!(bf(&mut c, &["BITFIELD", "f", "overflow", "wrap", "incrby", "u8", "0", "1"]), [Some(0)]);
    assert_eq!(
        bf(&mut c, &["BITFIELD", "f", "SET", "i8", "0", "-128", "INCRBY", "i8", "0", "-1"]),
        [Some(0), Some(127)]
    );
    // SET replies with the old value; SAT/WRAP/FAIL apply to it too.
    assert_eq!(
        bf(&mut c, &["BITFIELD", "f", "OVERFLOW", "SAT", "SET", "i8", "0", "200", "GET", "i8", "0"]),
        [Some(127), Some(127)]
    );
    assert_eq!(
        bf(&mut c, &["BITFIELD", "f", "OVERFLOW", "SAT", "SET", "u8", "0", "-1", "GET", "u8", "0"]),
        [Some(127), Some(255)]
    );
    assert_eq!(
        bf(&mut c, &["BITFIELD", "f", "OVERFLOW", "WRAP", "SET", "u8", "0", "-1", "GET", "u8", "0"]),
        [Some(255), Some(255)]
    );
    assert_eq!(
        bf(&mut c, &["BITFIELD", "f", "OVERFLOW", "FAIL", "SET", "u8", "0", "-1", "GET", "u8", "0"]),
        [None, Some(255)]
    );
    assert_eq!(bf(&mut c, &["BITFIELD", "f", "OVERFLOW", "FAIL", "SET", "u8", "0", "256"]), [None]);
    assert_eq!(bf(&mut c, &["BITFIELD", "f", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "-1000"]), [Some(0)]);
    assert_eq!(
        bf(&mut c, &["BITFIELD", "f", "OVERFLOW", "WRAP", "SET", "i8", "0", "200", "GET", "i8", "0"]),
        [Some(0), Some(-56)]
    );
    // Redis quirk: a SET far below a signed field's minimum saturates to its
    // maximum (Redis computes max - value in 64 bits, which wraps).
    let far = "-9223372036854775800";
    assert_eq!(
        bf(&mut c, &["BITFIELD", "f", "OVERFLOW", "SAT", "SET", "i8", "0", far, "GET", "i8", "0"]),
        [Some(-56), Some(127)]
    );
    let near = "-9223372036854775680";
    assert_eq!(
        bf(&mut c, &["BITFIELD", "f", "OVERFLOW", "SAT", "SET", "i8", "0", near, "GET", "i8", "0"]),
        [Some(127), Some(-128)]
    );
    // 64-bit fields.
    let (max, min) = ("9223372036854775807", "-9223372036854775808");
    assert_eq!(
        bf(
            &mut c,
            &["BITFIELD", "g", "SET", "i64", "0", "-1", "GET", "u63", "0", "GET", "i64", "0", "GET", "u63", "1"]
        ),
        [Some(0), Some(i64::MAX), Some(-1), Some(i64::MAX)]
    );
    assert_eq!(bf(&mut c, &["BITFIELD", "g", "OVERFLOW", "SAT", "INCRBY", "i64", "0", min]), [Some(i64::MIN)]);
    assert_eq!(bf(&mut c, &["BITFIELD", "g", "OVERFLOW", "WRAP", "INCRBY", "i64", "0", min]), [Some(0)]);
    assert_eq!(
        bf(
            &mut c,
            &[
                "BITFIELD", "g", "SET", "i64", "0", max, "OVERFLOW", "SAT", "INCRBY", "i64", "0", "1", "OVERFLOW",
                "WRAP", "INCRBY", "i64", "0", "1", "OVERFLOW", "FAIL", "INCRBY", "i64", "0", "-1",
            ]
        ),
        [Some(0), Some(i64::MAX), Some(i64::MIN), None]
    );
    // OVERFLOW lines may pile up with nothing else.
    assert_eq!(bf(&mut c, &["BITFIELD", "g", "OVERFLOW", "SAT", "OVERFLOW", "WRAP"]), []);
}

#[test]
fn bitfield_layout_and_growth() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "g", "A"]); // 0100_0001
    assert_eq!(
        bf(
            &mut c,
            &[
                "BITFIELD", "g", "GET", "u16", "0", "GET", "u4", "4", "GET", "i4", "4", "GET", "u3", "6", "GET", "u8",
                "1", "GET", "u12", "4", "GET", "i64", "1", "GET", "u63", "0",
            ]
        ),
        [
            Some(16640),
            Some(1),
            Some(1),
            Some(2),
            Some(130),
            Some(256),
            Some(-9079256848778919936),
            Some(2341871806232657920)
        ]
    );
    assert_eq!(bf(&mut c, &["BITFIELD", "g", "SET", "u4", "6", "15", "GET", "u16", "0"]), [Some(4), Some(17344)]);
    assert_eq!(get_bytes(&mut c, "g").unwrap(), [0x43, 0xc0]);
    // `#n` offsets are n times the width.
    assert_eq!(
        bf(&mut c, &["BITFIELD", "h", "SET", "u8", "#1", "200", "GET", "u8", "8", "GET", "u4", "#2"]),
        [Some(0), Some(200), Some(12)]
    );
    // Writes keep the TTL and grow the string to the last bit written.
    q::<()>(&mut c, &["SET", "t", "x", "EX", "100"]);
    assert_eq!(bf(&mut c, &["BITFIELD", "t", "SET", "u8", "64", "1"]), [Some(0)]);
    assert!(q::<i64>(&mut c, &["TTL", "t"]) > 90);
    assert_eq!(strlen(&mut c, "t"), 9);
    // Even a write refused by OVERFLOW FAIL creates and grows the key.
    assert_eq!(bf(&mut c, &["BITFIELD", "n", "OVERFLOW", "FAIL", "SET", "u8", "100", "256"]), [None]);
    assert_eq!(strlen(&mut c, "n"), 14);
    assert_eq!(bf(&mut c, &["BITFIELD", "n2", "OVERFLOW", "FAIL", "INCRBY", "u8", "100", "256"]), [None]);
    assert_eq!(strlen(&mut c, "n2"), 14);
    // GETs past the end read zeros and do not grow anything.
    assert_eq!(
        bf(&mut c, &["BITFIELD", "n", "GET", "u8", "4294967295", "GET", "i64", "#67108863"]),
        [Some(0), Some(0)]
    );
    assert_eq!(strlen(&mut c, "n"), 14);
    // `#n * width` wraps like Redis's 64-bit arithmetic: 2^58 * 64 = 0.
    set_bytes(&mut c, "w", &[0x80, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(bf(&mut c, &["BITFIELD", "w", "GET", "i64", "#288230376151711744"]), [Some(i64::MIN)]);
}

#[test]
fn bitfield_errors() {
    let s = server();
    let mut c = s.client();
    for ty in ["u64", "i65", "i0", "u0", "x8", "I8", "U8", "i08", "i+8", "", "i", "i-1"] {
        assert_eq!(err(&mut c, &["BITFIELD", "f", "GET", ty, "0"]), BAD_TYPE, "{ty:?}");
    }
    for off in ["-1", "#", "#-1", "4294967296", "#536870912", "x", "#144115188075855872", "#9223372036854775807"] {
        let ty = if off.starts_with("#1") || off.starts_with("#9") { "i64" } else { "u8" };
        assert_eq!(err(&mut c, &["BITFIELD", "f", "GET", ty, off]), OFFSET, "{off:?}");
    }
    for args in [
        &["BITFIELD", "f", "OVERFLOW"][..],
        &["BITFIELD", "f", "GET", "u8"],
        &["BITFIELD", "f", "SET", "u8", "0"],
        &["BITFIELD", "f", "INCRBY", "u8", "0"],
        &["BITFIELD", "f", "FOO"],
        &["BITFIELD", "f", "GET", "u8", "0", "FOO"],
        &["BITFIELD", "f", "GET", "u8", "0", "OVERFLOW"],
    ] {
        assert_eq!(err(&mut c, args), SYNTAX, "{args:?}");
    }
    let bad_overflow = "ERR Invalid OVERFLOW type specified";
    assert_eq!(err(&mut c, &["BITFIELD", "f", "OVERFLOW", "foo"]), bad_overflow);
    assert_eq!(err(&mut c, &["BITFIELD", "f", "OVERFLOW", "foo", "GET", "u8", "0"]), bad_overflow);
    for v in ["x", "1.5", "99999999999999999999", ""] {
        assert_eq!(err(&mut c, &["BITFIELD", "f", "SET", "u8", "0", v]), NOT_INT, "{v:?}");
        assert_eq!(err(&mut c, &["BITFIELD", "f", "INCRBY", "u8", "0", v]), NOT_INT, "{v:?}");
    }
    // Type, then offset, then value.
    assert_eq!(err(&mut c, &["BITFIELD", "f", "SET", "x8", "x", "x"]), BAD_TYPE);
    assert_eq!(err(&mut c, &["BITFIELD", "f", "SET", "u8", "x", "x"]), OFFSET);
    // Every operation is parsed before any runs: nothing was written.
    assert_eq!(err(&mut c, &["BITFIELD", "f", "SET", "u8", "0", "1", "GET", "u8", "-1"]), OFFSET);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "f"]), 0);
    assert_eq!(err(&mut c, &["BITFIELD"]), "ERR wrong number of arguments for 'bitfield' command");
}

#[test]
fn bitfield_ro() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "f", "A"]);
    assert_eq!(bf(&mut c, &["BITFIELD_RO", "f", "GET", "u8", "0", "get", "i4", "#1"]), [Some(65), Some(1)]);
    assert_eq!(bf(&mut c, &["BITFIELD_RO", "f", "OVERFLOW", "SAT", "GET", "u8", "0"]), [Some(65)]);
    assert_eq!(bf(&mut c, &["BITFIELD_RO", "f"]), []);
    assert_eq!(bf(&mut c, &["BITFIELD_RO", "missing", "GET", "u8", "0"]), [Some(0)]);
    let ro = "ERR BITFIELD_RO only supports the GET subcommand";
    for args in [
        &["BITFIELD_RO", "f", "SET", "u8", "0", "1"][..],
        &["BITFIELD_RO", "f", "GET", "u8", "0", "SET", "u8", "0", "1"],
        &["BITFIELD_RO", "f", "INCRBY", "u8", "0", "1"],
        &["BITFIELD_RO", "missing", "SET", "u8", "0", "1"],
    ] {
        assert_eq!(err(&mut c, args), ro, "{args:?}");
    }
    // Parsing errors come first, as in BITFIELD.
    assert_eq!(err(&mut c, &["BITFIELD_RO", "f", "SET", "u8", "0", "x"]), NOT_INT);
    assert_eq!(err(&mut c, &["BITFIELD_RO", "f", "FOO"]), SYNTAX);
    assert_eq!(err(&mut c, &["BITFIELD_RO", "f", "GET", "x8", "0"]), BAD_TYPE);
    assert_eq!(err(&mut c, &["BITFIELD_RO", "f", "OVERFLOW", "foo"]), "ERR Invalid OVERFLOW type specified");
    assert_eq!(q::<String>(&mut c, &["GET", "f"]), "A");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "missing"]), 0);
}

/// `COMMAND INFO` rows and ACL categories as Redis 7.0.15 reports them.
#[test]
fn command_info() {
    let s = server();
    let mut c = s.client();
    let rows = [
        ("setbit", 4, &["write", "denyoom"][..], (1, 1, 1), &["@write", "@bitmap", "@slow"][..]),
        ("getbit", 3, &["readonly", "fast"], (1, 1, 1), &["@read", "@bitmap", "@fast"]),
        ("bitcount", -2, &["readonly"], (1, 1, 1), &["@read", "@bitmap", "@slow"]),
        ("bitpos", -3, &["readonly"], (1, 1, 1), &["@read", "@bitmap", "@slow"]),
        ("bitop", -4, &["write", "denyoom"], (2, -1, 1), &["@write", "@bitmap", "@slow"]),
        ("bitfield", -2, &["write", "denyoom"], (1, 1, 1), &["@write", "@bitmap", "@slow"]),
        ("bitfield_ro", -2, &["readonly", "fast"], (1, 1, 1), &["@read", "@bitmap", "@fast"]),
    ];
    for (name, arity, flags, (first, last, step), cats) in rows {
        let info: Vec<Value> = q(&mut c, &["COMMAND", "INFO", name]);
        let Value::Array(row) = &info[0] else { panic!("{info:?}") };
        assert_eq!(row[0], Value::BulkString(name.as_bytes().to_vec()));
        assert_eq!(row[1], Value::Int(arity), "{name}");
        let names = |v: &Value| match v {
            Value::Array(a) | Value::Set(a) => a
                .iter()
                .map(|x| match x {
                    Value::SimpleString(s) => s.clone(),
                    Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
                    other => panic!("{other:?}"),
                })
                .collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(names(&row[2]), flags, "{name}");
        assert_eq!((&row[3], &row[4], &row[5]), (&Value::Int(first), &Value::Int(last), &Value::Int(step)), "{name}");
        assert_eq!(names(&row[6]), cats, "{name}");
    }
    let docs: Vec<Value> = q(&mut c, &["COMMAND", "DOCS", "bitpos"]);
    let Value::Array(fields) = &docs[1] else { panic!("{docs:?}") };
    assert_eq!(fields[1], Value::BulkString(b"Find first bit set or clear in a string".to_vec()));
    assert_eq!(fields[3], Value::BulkString(b"2.8.7".to_vec()));
    assert_eq!(fields[5], Value::BulkString(b"bitmap".to_vec()));
}

/// xorshift64*: a tiny deterministic generator for the differential test.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }

    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    fn pick(&mut self, xs: &[&str]) -> String {
        xs[self.below(xs.len() as u64) as usize].to_string()
    }

    /// A number argument: mostly small, sometimes invalid or extreme.
    fn num(&mut self) -> String {
        if self.below(10) < 8 {
            self.int(-40, 40).to_string()
        } else {
            self.pick(&["x", "01", "9223372036854775807", "-9223372036854775808", "-9223372036854775800", "4294967296"])
        }
    }

    fn command(&mut self, keys: &[&str]) -> Vec<String> {
        let key = self.pick(keys);
        let mut args: Vec<String> = Vec::new();
        match self.below(10) {
            0 => args.extend(["SETBIT".into(), key, self.int(0, 120).to_string(), self.pick(&["0", "1", "1", "2"])]),
            1 => args.extend(["GETBIT".into(), key, self.int(-2, 140).to_string()]),
            2 => {
                args.extend(["BITCOUNT".into(), key]);
                for _ in 0..self.below(4) {
                    args.push(self.num());
                }
                if self.below(2) == 1 {
                    args.push(self.pick(&["BIT", "byte", "x"]));
                }
            }
            3 => {
                args.extend(["BITPOS".into(), key, self.pick(&["0", "1", "1", "0", "2"])]);
                for _ in 0..self.below(3) {
                    args.push(self.num());
                }
                if self.below(3) == 1 {
                    args.push(self.pick(&["BIT", "byte", "x"]));
                }
            }
            4 => {
                args.extend(["BITOP".into(), self.pick(&["AND", "or", "XOR", "NOT", "nope"]), key]);
                for _ in 0..self.int(1, 3) {
                    args.push(self.pick(keys));
                }
            }
            5 => args.extend(["DEL".into(), key]),
            _ => {
                args.extend([self.pick(&["BITFIELD", "BITFIELD", "BITFIELD_RO"]), key]);
                for _ in 0..self.below(4) {
                    let ty = format!("{}{}", self.pick(&["i", "u"]), self.int(1, 64));
                    let off =
                        if self.below(5) == 0 { format!("#{}", self.int(0, 12)) } else { self.int(0, 150).to_string() };
                    match self.below(4) {
                        0 => args.extend(["GET".into(), ty, off]),
                        1 => args.extend(["SET".into(), ty, off, self.num()]),
                        2 => args.extend(["INCRBY".into(), ty, off, self.num()]),
                        _ => args.extend(["OVERFLOW".into(), self.pick(&["WRAP", "SAT", "FAIL", "x"])]),
                    }
                }
            }
        }
        args
    }
}

/// Replays random bitmap commands on ferrokv and on a real Redis at
/// `REDIS_REF_URL` (keys `bmdiff:*`, deleted first) and compares every reply
/// and the final values. `BMDIFF_SEED` and `BMDIFF_N` vary the run.
#[test]
#[ignore = "needs a real Redis: set REDIS_REF_URL"]
fn differential_against_redis() {
    let Ok(url) = std::env::var("REDIS_REF_URL") else {
        eprintln!("REDIS_REF_URL not set; skipping");
        return;
    };
    let s = server();
    let mut ours = s.client();
    let mut theirs = redis::Client::open(url).unwrap().get_connection().unwrap();
    let keys = ["bmdiff:a", "bmdiff:b", "bmdiff:c"];
    for k in keys {
        let _: () = redis::cmd("DEL").arg(k).query(&mut theirs).unwrap();
    }
    let env = |name: &str, default: u64| std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default);
    let mut rng = Rng(env("BMDIFF_SEED", 1).max(1));
    let run = |con: &mut redis::Connection, args: &[String]| {
        let mut cmd = redis::cmd(&args[0]);
        for a in &args[1..] {
            cmd.arg(a);
        }
        match cmd.query::<Value>(con) {
            Ok(v) => format!("{v:?}"),
            Err(e) => format!("error {:?} {:?}", e.code(), e.detail()),
        }
    };
    for i in 0..env("BMDIFF_N", 20_000) {
        let args = rng.command(&keys);
        assert_eq!(run(&mut ours, &args), run(&mut theirs, &args), "command #{i}: {args:?}");
    }
    for k in keys {
        assert_eq!(get_bytes(&mut ours, k), get_bytes(&mut theirs, k), "{k}");
    }
}

#[test]
fn bitmap_commands_refuse_other_types() {
    let s = common::server();
    let mut c = s.client();
    common::q::<i64>(&mut c, &["RPUSH", "l", "a"]);
    let wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value";
    for args in [
        &["SETBIT", "l", "0", "1"][..],
        &["GETBIT", "l", "0"],
        &["BITCOUNT", "l"],
        &["BITPOS", "l", "1"],
        &["BITFIELD", "l", "GET", "u8", "0"],
        &["BITOP", "NOT", "dst", "l"],
    ] {
        assert_eq!(common::err(&mut c, args), wrongtype, "{args:?}");
    }
}
