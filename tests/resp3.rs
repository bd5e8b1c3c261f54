//! HELLO, AUTH and RESP3 replies (maps, sets, nulls, verbatim strings).

mod common;
use common::{err, q, server};
use redis::Value;

#[test]
fn hello_errors_and_auth() {
    let s = server();
    let mut r = s.raw();
    r.roundtrip(b"HELLO 4\r\n", b"-NOPROTO unsupported protocol version\r\n");
    r.roundtrip(b"HELLO x\r\n", b"-ERR Protocol version is not an integer or out of range\r\n");
    r.roundtrip(b"HELLO 3 FOO\r\n", b"-ERR Syntax error in HELLO option 'FOO'\r\n");
    r.roundtrip(b"HELLO 2 AUTH bob x\r\n", b"-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    r.roundtrip(b"HELLO 2 AUTH default\r\n", b"-ERR Syntax error in HELLO option 'AUTH'\r\n");
    let mut c = s.client();
    assert!(err(&mut c, &["AUTH", "x"]).starts_with("ERR AUTH <password> called without any password configured"));
    assert_eq!(q::<String>(&mut c, &["AUTH", "default", "x"]), "OK");
    assert_eq!(err(&mut c, &["AUTH", "bob", "x"]), "WRONGPASS invalid username-password pair or user is disabled.");
}

#[test]
fn hello_3_switches_reply_types() {
    let s = server();
    let mut r = s.raw();
    r.send(b"HELLO 3 SETNAME app\r\n");
    r.expect(
        b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:",
    );
    let mut rest = [0u8; 1];
    while rest != [b'\n'] {
        std::io::Read::read_exact(&mut r.0, &mut rest).unwrap();
    }
    r.expect(b"$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n");
    r.roundtrip(b"CLIENT GETNAME\r\n", b"$3\r\napp\r\n");
    r.roundtrip(b"GET nokey\r\n", b"_\r\n");
    r.roundtrip(b"CONFIG GET maxclients\r\n", b"%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n");
    r.roundtrip(b"LPOP nokey 2\r\n", b"_\r\n");
    r.roundtrip(b"HELLO 2\r\n", b"*14\r\n");
}

#[test]
fn resp3_through_the_client_library() {
    let s = server();
    let client = redis::Client::open(format!("redis://{}/?protocol=resp3", s.handle.addr)).unwrap();
    let mut c = client.get_connection().unwrap();
    let v: Value = q(&mut c, &["CONFIG", "GET", "timeout"]);
    assert_eq!(v, Value::Map(vec![(Value::BulkString(b"timeout".to_vec()), Value::BulkString(b"0".to_vec()))]));
    assert_eq!(q::<Value>(&mut c, &["GET", "nokey"]), Value::Nil);
    let info: Value = q(&mut c, &["INFO", "server"]);
    assert!(matches!(info, Value::VerbatimString { .. }), "{info:?}");
    let cmd: Value = q(&mut c, &["COMMAND", "INFO", "get"]);
    let Value::Array(entries) = cmd else { panic!() };
    let Value::Array(get) = &entries[0] else { panic!() };
    assert!(matches!(get[2], Value::Set(_)), "flags are a set: {:?}", get[2]);
    let line: String = q(&mut c, &["CLIENT", "INFO"]);
    assert!(line.contains(" resp=3 lib-name=redis-rs "), "{line}");
}

/// Reply types Redis 7.0.15 sends in RESP3 where an array might be expected
/// (found by `scripts/fuzz_vs_redis.py --resp3`): COMMAND INFO's key specs,
/// their flags and an empty subcommand list are sets; PUBSUB NUMSUB stays a
/// flat array.
#[test]
fn resp3_shapes_of_command_info_and_numsub() {
    let s = server();
    let mut r = s.raw();
    r.hello3();
    r.roundtrip(
        b"COMMAND INFO get\r\n",
        b"*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n\
~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n\
$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n\
:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n",
    );
    r.roundtrip(b"PUBSUB NUMSUB a b\r\n", b"*4\r\n$1\r\na\r\n:0\r\n$1\r\nb\r\n:0\r\n");
    r.roundtrip(b"PUBSUB SHARDNUMSUB\r\n", b"*0\r\n");
}

/// A push the command causes for its own connection goes where Redis
/// writes it: a PUBLISH to one's own channel and most keyspace events come
/// before the reply; LPUSH, HSET and EXPIRE notify after replying.
#[test]
fn own_pushes_come_where_redis_puts_them() {
    let s = server();
    let mut r = s.raw();
    r.hello3();
    r.roundtrip(b"SUBSCRIBE ch\r\n", b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    r.roundtrip(b"PUBLISH ch hi\r\n", b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n:1\r\n");
    r.roundtrip(b"CONFIG SET notify-keyspace-events KA\r\n", b"+OK\r\n");
    r.roundtrip(b"PSUBSCRIBE __keyspace@0__:*\r\n", b">3\r\n$10\r\npsubscribe\r\n$16\r\n__keyspace@0__:*\r\n:2\r\n");
    let event = |key: &str, name: &str| {
        format!(
            ">4\r\n$8\r\npmessage\r\n$16\r\n__keyspace@0__:*\r\n$16\r\n__keyspace@0__:{key}\r\n${}\r\n{name}\r\n",
            name.len()
        )
    };
    r.roundtrip(b"SET k v\r\n", format!("{}+OK\r\n", event("k", "set")).as_bytes());
    r.roundtrip(b"LPUSH l x\r\n", format!(":1\r\n{}", event("l", "lpush")).as_bytes());
    r.roundtrip(b"HSET h f v\r\n", format!(":1\r\n{}", event("h", "hset")).as_bytes());
    r.roundtrip(b"EXPIRE k 100\r\n", format!(":1\r\n{}", event("k", "expire")).as_bytes());
    r.roundtrip(b"INCR n\r\n", format!("{}:1\r\n", event("n", "incrby")).as_bytes());
}
