//! Connection and server behaviour through a real client: PING, ECHO,
//! QUIT, COMMAND, CONFIG, concurrency, pipelining, maxclients, idle timeout.

mod common;
use common::{err, q, resp, server, server_with};
use redis::Value;
use std::time::{Duration, Instant};

#[test]
fn ping_echo() {
    let s = server();
    let mut c = s.client();
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
    assert_eq!(q::<String>(&mut c, &["PING", "hello"]), "hello");
    assert_eq!(err(&mut c, &["PING", "a", "b"]), "ERR wrong number of arguments for 'ping' command");
    assert_eq!(q::<String>(&mut c, &["ECHO", "x y"]), "x y");
    assert_eq!(err(&mut c, &["ECHO"]), "ERR wrong number of arguments for 'echo' command");
}

#[test]
fn unknown_command_text() {
    let s = server();
    let mut c = s.client();
    assert_eq!(err(&mut c, &["FOO", "a", "b"]), "ERR unknown command 'FOO', with args beginning with: 'a' 'b' ");
    assert_eq!(err(&mut c, &["nosuch"]), "ERR unknown command 'nosuch', with args beginning with: ");
    let long = "x".repeat(200);
    let e = err(&mut c, &["FOO", &long, "b"]);
    assert_eq!(e, format!("ERR unknown command 'FOO', with args beginning with: '{}' ", "x".repeat(128)));
    assert_eq!(err(&mut c, &["CONFIG", "FOO"]), "ERR unknown subcommand 'FOO'. Try CONFIG HELP.");
    assert_eq!(err(&mut c, &["CONFIG"]), "ERR wrong number of arguments for 'config' command");
    assert_eq!(err(&mut c, &["CONFIG", "GET"]), "ERR wrong number of arguments for 'config|get' command");
    // Case does not matter.
    assert_eq!(q::<String>(&mut c, &["pInG"]), "PONG");
}

#[test]
fn quit_closes_after_ok() {
    let s = server();
    let mut raw = s.raw();
    raw.send(b"*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n");
    assert_eq!(raw.read_to_close(), b"+OK\r\n");
}

#[test]
fn command_introspection_comes_from_the_table() {
    let s = server();
    let mut c = s.client();
    let count: i64 = q(&mut c, &["COMMAND", "COUNT"]);
    let all: Vec<Value> = q(&mut c, &["COMMAND"]);
    assert_eq!(all.len() as i64, count);
    assert!(count >= 20);
    let list: Vec<String> = q(&mut c, &["COMMAND", "LIST"]);
    for name in ["get", "set", "config", "config|get", "command|docs", "incr", "select"] {
        assert!(list.contains(&name.to_string()), "{name} missing");
    }
    let info: Vec<Value> = q(&mut c, &["COMMAND", "INFO", "get", "nosuch"]);
    assert_eq!(info.len(), 2);
    assert_eq!(info[1], Value::Nil);
    let Value::Array(get) = &info[0] else { panic!("{info:?}") };
    assert_eq!(get.len(), 10);
    assert_eq!(get[0], Value::BulkString(b"get".to_vec()));
    assert_eq!(get[1], Value::Int(2));
    assert_eq!((&get[3], &get[4], &get[5]), (&Value::Int(1), &Value::Int(1), &Value::Int(1)));
    // DOCS is a map of name -> fields (a flat array in RESP2).
    let docs: Vec<Value> = q(&mut c, &["COMMAND", "DOCS", "set"]);
    assert_eq!(docs[0], Value::BulkString(b"set".to_vec()));
    let all_docs: Vec<Value> = q(&mut c, &["COMMAND", "DOCS"]);
    assert_eq!(all_docs.len() as i64, 2 * count);
    let keys: Vec<String> = q(&mut c, &["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"]);
    assert_eq!(keys, vec!["a", "b"]);
    assert_eq!(err(&mut c, &["COMMAND", "GETKEYS", "PING", "x"]), "ERR The command has no key arguments");
    assert_eq!(err(&mut c, &["COMMAND", "GETKEYS", "nosuch", "x"]), "ERR Invalid command specified");
    // Movable keys: counted by `numkeys`, after a destination or timeout.
    let keys: Vec<String> = q(&mut c, &["COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"]);
    assert_eq!(keys, ["d", "a", "b"]);
    let keys: Vec<String> = q(&mut c, &["COMMAND", "GETKEYS", "BLMPOP", "0", "2", "a", "b", "LEFT"]);
    assert_eq!(keys, ["a", "b"]);
    let keys: Vec<String> = q(&mut c, &["COMMAND", "GETKEYS", "SINTERCARD", "1", "a", "LIMIT", "2"]);
    assert_eq!(keys, ["a"]);
    for bad in ["0", "x", "5"] {
        assert_eq!(
            err(&mut c, &["COMMAND", "GETKEYS", "ZUNION", bad, "a"]),
            "ERR Invalid arguments specified for command"
        );
    }
    let filtered: Vec<String> = q(&mut c, &["COMMAND", "LIST", "FILTERBY", "PATTERN", "inc*"]);
    assert_eq!(filtered, vec!["incr", "incrby", "incrbyfloat"]);
    let help: Vec<String> = q(&mut c, &["COMMAND", "HELP"]);
    assert!(help[0].starts_with("COMMAND <subcommand>"));
}

/// `tests/data/command_transcript.txt`: what Redis 7.0.15 answers (made
/// with `scripts/resp_transcript.py`) to COMMAND INFO of every command
/// ferrokv has (flags with `movablekeys`, ACL categories, tips, key specs),
/// to unknown names and sub-subcommands, and to COMMAND GETKEYS and
/// GETKEYSANDFLAGS with keys of every kind and every error.
#[test]
fn command_info_and_getkeys_match_redis_7_0() {
    let checked = common::transcript::replay(&server(), include_str!("data/command_transcript.txt"));
    assert_eq!(checked, 441, "every recorded command is replayed");
}

/// `tests/data/command_docs_transcript.txt`: what Redis 7.0.15 answers to
/// COMMAND DOCS of every command and subcommand ferrokv has (summary,
/// complexity, doc flags, history, the argument tree redis-cli's `HELP`
/// and typing hints are made of).
#[test]
fn command_docs_match_redis_7_0() {
    let checked = common::transcript::replay(&server(), include_str!("data/command_docs_transcript.txt"));
    assert_eq!(checked, 347, "every recorded command is replayed");
}

/// `tests/data/help_transcript.txt`: the HELP of every container command
/// (CONFIG, OBJECT, XINFO, …) as redis-server 7.0.15 prints it.
#[test]
fn container_help_matches_redis_7_0() {
    let checked = common::transcript::replay(&server(), include_str!("data/help_transcript.txt"));
    assert_eq!(checked, 14, "every recorded command is replayed");
}

/// RESP3's types in COMMAND DOCS, bytes as redis-server 7.0.15 sends them:
/// doc flags a set of simple strings, the argument list an array of maps.
#[test]
fn command_docs_resp3_bytes() {
    let s = server();
    let mut raw = s.raw();
    raw.hello3();
    raw.roundtrip(
        &resp(&["COMMAND", "DOCS", "getset"]),
        b"%1\r\n$6\r\ngetset\r\n%8\r\n$7\r\nsummary\r\n$54\r\nSet the string value of a key and return its old value\r\n\
          $5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n\
          $9\r\ndoc_flags\r\n~1\r\n+deprecated\r\n$16\r\ndeprecated_since\r\n$5\r\n6.2.0\r\n\
          $11\r\nreplaced_by\r\n$30\r\n`SET` with the `!GET` argument\r\n$9\r\narguments\r\n*2\r\n\
          %3\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n\
          %2\r\n$4\r\nname\r\n$5\r\nvalue\r\n$4\r\ntype\r\n$6\r\nstring\r\n",
    );
}

#[test]
fn command_list_filterby_aclcat_names_what_redis_names() {
    // Redis 7.0.15's COMMAND LIST FILTERBY ACLCAT, kept to the commands
    // ferrokv has (Redis lists in hash order: compared as sets).
    let cases: &[(&str, &str)] = &[
        (
            "dangerous",
            "acl|deluser acl|dryrun acl|getuser acl|list acl|load acl|log acl|save acl|setuser acl|users \
             bgrewriteaof bgsave migrate restore save client|kill client|list client|no-evict client|pause client|unblock client|unpause \
             cluster|addslots cluster|addslotsrange cluster|bumpepoch cluster|count-failure-reports cluster|delslots \
             cluster|delslotsrange cluster|failover cluster|flushslots cluster|forget cluster|meet cluster|replicas \
             cluster|replicate cluster|reset cluster|saveconfig cluster|set-config-epoch cluster|setslot cluster|slaves config|get \
            config|resetstat config|rewrite config|set debug flushall flushdb info keys lastsave latency|doctor \
            latency|graph latency|histogram latency|history latency|latest latency|reset module|list module|load \
            module|loadex module|unload monitor pfdebug pfselftest psync replconf restore-asking role shutdown slowlog|get \
            slowlog|len slowlog|reset sort sort_ro swapdb sync",
        ),
        ("hyperloglog", "pfadd pfcount pfdebug pfmerge pfselftest"),
        ("blocking", "blmove blmpop blpop brpop brpoplpush bzmpop bzpopmax bzpopmin xread xreadgroup"),
        ("transaction", "discard exec multi unwatch watch"),
        (
            "keyspace",
            "dump migrate restore restore-asking copy dbsize del exists expire expireat expiretime flushall flushdb keys move object|encoding \
            object|freq object|help object|idletime object|refcount persist pexpire pexpireat pexpiretime pttl \
            randomkey rename renamenx scan swapdb touch ttl type unlink",
        ),
    ];
    let s = server();
    let mut c = s.client();
    for (cat, want) in cases {
        let mut got: Vec<String> = q(&mut c, &["COMMAND", "LIST", "FILTERBY", "ACLCAT", cat]);
        got.sort();
        let mut want: Vec<&str> = want.split_whitespace().collect();
        want.sort();
        assert_eq!(got, want, "{cat}");
    }
}

#[test]
fn config_get_set() {
    let s = server();
    let mut c = s.client();
    let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "maxclients"]);
    assert_eq!(v, vec!["maxclients", "10000"]);
    // What redis-benchmark asks before running.
    let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "save"]);
    assert_eq!(v, vec!["save", ""]);
    let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "appendonly"]);
    assert_eq!(v, vec!["appendonly", "no"]);
    let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "*max-bulk*", "maxclients", "timeout"]);
    assert_eq!(v, vec!["timeout", "0", "maxclients", "10000", "proto-max-bulk-len", "536870912"]);
    // Old ziplist names still work, as aliases.
    assert_eq!(q::<String>(&mut c, &["CONFIG", "SET", "hash-max-ziplist-entries", "100"]), "OK");
    let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "hash-max-*-entries"]);
    assert_eq!(v, vec!["hash-max-listpack-entries", "100", "hash-max-ziplist-entries", "100"]);
    let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "nothing-like-this"]);
    assert!(v.is_empty());
    assert_eq!(q::<String>(&mut c, &["CONFIG", "SET", "hz", "20", "maxclients", "50"]), "OK");
    let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "hz"]);
    assert_eq!(v, vec!["hz", "20"]);
    assert_eq!(q::<String>(&mut c, &["CONFIG", "SET", "proto-max-bulk-len", "2mb"]), "OK");
    let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "proto-max-bulk-len"]);
    assert_eq!(v[1], "2097152");
    assert_eq!(q::<String>(&mut c, &["CONFIG", "SET", "loglevel", "warning"]), "OK");
}

#[test]
fn config_set_errors_change_nothing() {
    let s = server();
    let mut c = s.client();
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "foo", "bar"]),
        "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
    );
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "timeout", "abc"]),
        "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer"
    );
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "timeout", "1", "timeout", "2"]),
        "ERR CONFIG SET failed (possibly related to argument 'timeout') - duplicate parameter"
    );
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "databases", "3"]),
        "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"
    );
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "hz", "-1"]),
        "ERR CONFIG SET failed (possibly related to argument 'hz') - argument must be between 0 and 2147483647 inclusive"
    );
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "proto-max-bulk-len", "1"]),
        "ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive"
    );
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "client-query-buffer-limit", "lots"]),
        "ERR CONFIG SET failed (possibly related to argument 'client-query-buffer-limit') - argument must be a memory value"
    );
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "loglevel", "loud"]),
        "ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning"
    );
    assert_eq!(err(&mut c, &["CONFIG", "SET", "timeout"]), "ERR wrong number of arguments for 'config|set' command");
    assert_eq!(err(&mut c, &["CONFIG", "SET", "timeout", "1", "hz"]), "ERR syntax error");
    // All or nothing: the valid first pair was not applied.
    assert!(err(&mut c, &["CONFIG", "SET", "hz", "50", "timeout", "x"]).contains("timeout"));
    let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "hz"]);
    assert_eq!(v, vec!["hz", "10"]);
}

#[test]
fn two_clients_see_each_others_writes() {
    let s = server();
    let (mut a, mut b) = (s.client(), s.client());
    q::<()>(&mut a, &["SET", "shared", "1"]);
    assert_eq!(q::<String>(&mut b, &["GET", "shared"]), "1");
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let url = s.url();
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                for _ in 0..1000 {
                    q::<i64>(&mut c, &["INCR", "counter"]);
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert_eq!(q::<i64>(&mut a, &["GET", "counter"]), 2000);
}

#[test]
fn pipeline_of_ten_thousand() {
    let s = server();
    let mut c = s.client();
    let mut pipe = redis::pipe();
    for i in 0..10_000 {
        pipe.cmd("SET").arg(format!("key:{i}")).arg(i).ignore();
    }
    for i in 0..10_000 {
        pipe.cmd("GET").arg(format!("key:{i}"));
    }
    let got: Vec<i64> = pipe.query(&mut c).unwrap();
    assert_eq!(got, (0..10_000).collect::<Vec<i64>>());
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 10_000);
}

#[test]
fn maxclients_rejects_with_redis_error() {
    let s = server_with(|c| c.maxclients = 2);
    let _a = s.client();
    let _b = s.raw();
    std::thread::sleep(Duration::from_millis(50));
    let mut third = s.raw();
    assert_eq!(third.read_to_close(), b"-ERR max number of clients reached\r\n");
    drop(_b);
    std::thread::sleep(Duration::from_millis(50));
    let mut c = s.client();
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
}

#[test]
fn idle_timeout_closes_quiet_clients_only() {
    let s = server();
    let mut admin = s.client();
    let mut idle = s.raw();
    idle.roundtrip(b"PING\r\n", b"+PONG\r\n");
    assert_eq!(q::<String>(&mut admin, &["CONFIG", "SET", "timeout", "1"]), "OK");
    let start = Instant::now();
    // A client that keeps talking stays; the quiet one is closed.
    let mut busy = s.raw();
    let closed = std::thread::spawn(move || idle.read_to_close());
    for _ in 0..25 {
        busy.roundtrip(b"PING\r\n", b"+PONG\r\n");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(closed.join().unwrap(), b"");
    let waited = start.elapsed();
    assert!(waited >= Duration::from_secs(1), "{waited:?}");
    busy.roundtrip(b"PING\r\n", b"+PONG\r\n");
    // timeout 0 turns it off again.
    let mut c = s.client();
    q::<()>(&mut c, &["CONFIG", "SET", "timeout", "0"]);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
}

#[test]
fn idle_connections_give_their_buffers_back() {
    let srv = common::server();
    let mut idle = srv.client();
    let _: () = redis::cmd("CLIENT").arg("SETNAME").arg("idler").query(&mut idle).unwrap();
    let big = "x".repeat(40_000);
    let _: () = redis::cmd("SET").arg("k").arg(&big).query(&mut idle).unwrap();
    let mut admin = srv.client();
    // Read buffer free space plus reply buffer size.
    let buffers = |admin: &mut redis::Connection| -> u64 {
        let list: String = redis::cmd("CLIENT").arg("LIST").query(admin).unwrap();
        let line = list.lines().find(|l| l.contains("name=idler")).unwrap().to_string();
        let num =
            |name: &str| -> u64 { line.split(' ').find_map(|f| f.strip_prefix(name)).unwrap().parse::<u64>().unwrap() };
        num("qbuf-free=") + num("rbs=")
    };
    // The cron gives them back (the big read buffer at once, the rest
    // after two idle seconds).
    let start = std::time::Instant::now();
    while buffers(&mut admin) != 0 {
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "buffers kept");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // The connection still works, of course.
    let v: String = redis::cmd("GET").arg("k").query(&mut idle).unwrap();
    assert_eq!(v.len(), 40_000);
}
