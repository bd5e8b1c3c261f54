//! Replication, ferrokv as the primary: a real `redis-server --replicaof`
//! gets the dataset and then every write (its DEBUG DIGEST equals the
//! primary's), resumes with PSYNC after a broken link, acknowledges for
//! WAIT; `redis-cli --rdb` takes a backup. The protocol's bytes (SYNC,
//! PSYNC, REPLCONF, the stream) are checked raw. The tests that need
//! redis-server or redis-cli run where they are installed (CI installs
//! them).

mod common;

use common::{Raw, RedisServer, err, fresh_dir, info_field, q, server, server_with, wait_until};
use std::io::Read;
use std::process::Command;
use std::time::{Duration, Instant};

/// True (and says so) when redis-server is not installed: the test that
/// needs it is skipped.
fn without_redis() -> bool {
    let missing = !Command::new("redis-server").arg("--version").output().is_ok_and(|o| o.status.success());
    if missing {
        eprintln!("redis-server is not installed: skipped");
    }
    missing
}

/// Writes of many kinds and to several databases, the rewritten forms
/// among them (relative expiries, SPOP, INCRBYFLOAT, a blocking pop,
/// MULTI/EXEC).
fn write_mix(c: &mut redis::Connection, round: usize) {
    let k = |name: &str| format!("{name}:{round}");
    let mut p = redis::pipe();
    p.cmd("SET").arg(k("s")).arg("v").arg("EX").arg(1000).ignore();
    p.cmd("INCRBYFLOAT").arg(k("f")).arg("1.5").ignore();
    p.cmd("RPUSH").arg(k("l")).arg(&["a", "b", "c", "d"]).ignore();
    p.cmd("LPOP").arg(k("l")).ignore();
    p.cmd("HSET").arg(k("h")).arg(&["f1", "1", "f2", "2"]).ignore();
    p.cmd("HINCRBYFLOAT").arg(k("h")).arg("f1").arg("0.25").ignore();
    p.cmd("SADD").arg(k("set")).arg(&["m1", "m2", "m3", "m4"]).ignore();
    p.cmd("SPOP").arg(k("set")).ignore();
    p.cmd("ZADD").arg(k("z")).arg(&["1", "a", "2", "b"]).ignore();
    p.cmd("EXPIRE").arg(k("z")).arg(500).ignore();
    p.cmd("XADD").arg(k("x")).arg("*").arg(&["f", "v"]).ignore();
    p.cmd("SELECT").arg(3).ignore();
    p.cmd("SET").arg(k("in3")).arg(round).ignore();
    p.cmd("BLPOP").arg(k("nolist")).arg("0.01").ignore();
    p.cmd("RPUSH").arg(k("q")).arg("x").ignore();
    p.cmd("BLPOP").arg(k("q")).arg(0).ignore();
    p.cmd("SELECT").arg(0).ignore();
    p.cmd("MULTI").ignore();
    p.cmd("INCR").arg("counter").ignore();
    p.cmd("DEL").arg(k("s")).ignore();
    p.cmd("EXEC").ignore();
    let _: () = p.query(c).unwrap();
}

fn digest(c: &mut redis::Connection) -> String {
    q(c, &["DEBUG", "DIGEST"])
}

/// A redis-server replicating the in-process server at `port`.
fn replica_of(port: u16) -> RedisServer {
    let dir = fresh_dir();
    RedisServer::start_program("redis-server", &dir, &["--replicaof", "127.0.0.1", &port.to_string()])
}

/// An in-process server with DEBUG allowed (DIGEST).
fn primary() -> common::TestServer {
    primary_with(|_| {})
}

fn primary_with(f: impl FnOnce(&mut ferrokv::Config)) -> common::TestServer {
    server_with(|c| {
        c.enable_debug_command = "yes".into();
        f(c)
    })
}

#[test]
fn a_redis_replica_gets_the_dataset_then_every_write() {
    if without_redis() {
        return;
    }
    let srv = primary();
    let mut c = srv.client();
    for round in 0..20 {
        write_mix(&mut c, round);
    }
    let replica = replica_of(srv.handle.addr.port());
    let mut r = replica.client().unwrap();
    wait_until("the replica's link", || info_field(&mut r, "replication", "master_link_status") == "up");
    for round in 20..40 {
        write_mix(&mut c, round);
    }
    let acked: i64 = q(&mut c, &["WAIT", "1", "5000"]);
    assert_eq!(acked, 1);
    assert_eq!(digest(&mut r), digest(&mut c));
    let _: () = q(&mut r, &["SELECT", "3"]);
    assert_eq!(q::<String>(&mut r, &["GET", "in3:39"]), "39");
    // The primary's view: INFO, ROLE, CLIENT LIST.
    let info: String = q(&mut c, &["INFO", "replication"]);
    let port = replica.1;
    assert!(info.contains(&format!("slave0:ip=127.0.0.1,port={port},state=online,")), "{info}");
    assert!(info.contains("connected_slaves:1\r\n") && info.contains("repl_backlog_active:1\r\n"), "{info}");
    let offset: u64 = info_field(&mut c, "replication", "master_repl_offset").parse().unwrap();
    wait_until("the replica's offset", || {
        info_field(&mut r, "replication", "slave_repl_offset").parse::<u64>().unwrap() == offset
    });
    let role: redis::Value = q(&mut c, &["ROLE"]);
    let text = format!("{role:?}");
    assert!(text.contains("master") && text.contains(&port.to_string()), "{text}");
    let list: String = q(&mut c, &["CLIENT", "LIST", "TYPE", "replica"]);
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(list.contains(" flags=S "), "{list}");
    assert_eq!(info_field(&mut c, "stats", "sync_full"), "1");
}

#[test]
fn writes_while_the_snapshot_is_written_reach_the_replica() {
    if without_redis() {
        return;
    }
    // Each key saved waits 20 µs: the snapshot takes many loop turns,
    // and the writes below land in the middle of it.
    let srv = primary_with(|c| c.rdb_key_save_delay = 20);
    let mut c = srv.client();
    let mut p = redis::pipe();
    for i in 0..20_000 {
        p.cmd("SET").arg(format!("key:{i}")).arg(i).ignore();
    }
    let _: () = p.query(&mut c).unwrap();
    let replica = replica_of(srv.handle.addr.port());
    let mut r = replica.client().unwrap();
    wait_until("the snapshot to start", || info_field(&mut c, "persistence", "rdb_bgsave_in_progress") == "1");
    let mut during = 0;
    while info_field(&mut c, "persistence", "rdb_bgsave_in_progress") == "1" {
        write_mix(&mut c, during);
        let _: () = q(&mut c, &["DEL", &format!("key:{during}")]);
        let _: () = q(&mut c, &["APPEND", &format!("key:{}", 19_999 - during), "+"]);
        during += 1;
    }
    assert!(during > 2, "the snapshot ended too soon to test anything ({during} rounds)");
    wait_until("the replica's link", || info_field(&mut r, "replication", "master_link_status") == "up");
    let acked: i64 = q(&mut c, &["WAIT", "1", "5000"]);
    assert_eq!(acked, 1);
    assert_eq!(digest(&mut r), digest(&mut c));
}

#[test]
fn a_broken_link_resumes_from_the_backlog() {
    if without_redis() {
        return;
    }
    let srv = primary();
    let mut c = srv.client();
    write_mix(&mut c, 0);
    let replica = replica_of(srv.handle.addr.port());
    let mut r = replica.client().unwrap();
    wait_until("the replica's link", || info_field(&mut r, "replication", "master_link_status") == "up");
    let killed: i64 = q(&mut c, &["CLIENT", "KILL", "TYPE", "replica"]);
    assert_eq!(killed, 1);
    write_mix(&mut c, 1);
    wait_until("the replica to come back", || info_field(&mut c, "replication", "connected_slaves") == "1");
    write_mix(&mut c, 2);
    let acked: i64 = q(&mut c, &["WAIT", "1", "5000"]);
    assert_eq!(acked, 1);
    assert_eq!(digest(&mut r), digest(&mut c));
    assert_eq!(info_field(&mut c, "stats", "sync_full"), "1");
    assert_eq!(info_field(&mut c, "stats", "sync_partial_ok"), "1");
}

#[test]
fn redis_cli_rdb_takes_a_backup_that_loads() {
    if without_redis() {
        return;
    }
    let srv = primary();
    let mut c = srv.client();
    for round in 0..10 {
        write_mix(&mut c, round);
    }
    let dir = fresh_dir();
    let file = format!("{dir}/dump.rdb");
    let out =
        Command::new("redis-cli").args(["-p", &srv.handle.addr.port().to_string(), "--rdb", &file]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("Transfer finished with success"), "{text}");
    // Redis loads the file: the same dataset.
    let redis = RedisServer::start(&dir);
    let mut rc = redis.client().unwrap();
    assert_eq!(digest(&mut rc), digest(&mut c));
    // The RDB-only client is gone and was never a replica of the stream.
    wait_until("the rdb-only client to go", || info_field(&mut c, "replication", "connected_slaves") == "0");
}

/// Reads from `raw` until `want` bytes came (or panics after 10 s).
fn read_n(raw: &mut Raw, want: usize) -> Vec<u8> {
    let mut out = vec![0; want];
    raw.0.read_exact(&mut out).unwrap();
    out
}

/// Reads one `\n`-terminated line.
fn read_line(raw: &mut Raw) -> String {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while !line.ends_with(b"\n") {
        raw.0.read_exact(&mut b).unwrap();
        line.push(b[0]);
    }
    String::from_utf8(line).unwrap()
}

/// Skips the keep-alive newlines, then reads the RDB bulk whole.
fn read_rdb(raw: &mut Raw) -> Vec<u8> {
    let mut header = read_line(raw);
    while header == "\n" {
        header = read_line(raw);
    }
    let len: usize = header.trim_end().strip_prefix('$').unwrap_or_else(|| panic!("{header:?}")).parse().unwrap();
    read_n(raw, len)
}

#[test]
fn sync_sends_the_rdb_then_the_stream_as_redis_writes_it() {
    let srv = server();
    let mut c = srv.client();
    let _: () = q(&mut c, &["SET", "before", "1"]);
    let mut raw = srv.raw();
    raw.roundtrip(b"REPLCONF listening-port 7777\r\n", b"+OK\r\n");
    raw.send(b"SYNC\r\n");
    let rdb = read_rdb(&mut raw);
    assert!(rdb.starts_with(b"REDIS0010"), "{:?}", &rdb[..9]);
    assert!(rdb.windows(6).any(|w| w == b"before"));
    // The stream: a SELECT first, then the command as called; an
    // expiry made absolute.
    let _: () = q(&mut c, &["SET", "after", "2"]);
    raw.expect(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n2\r\n");
    let _: () = q(&mut c, &["PEXPIREAT", "after", "99999999999999"]);
    raw.expect(b"*3\r\n$9\r\nPEXPIREAT\r\n$5\r\nafter\r\n$14\r\n99999999999999\r\n");
    let _: () = q(&mut c, &["SELECT", "2"]);
    let _: () = q(&mut c, &["LPUSH", "l", "x"]);
    raw.expect(b"*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*3\r\n$5\r\nLPUSH\r\n$1\r\nl\r\n$1\r\nx\r\n");
    // A read propagates nothing; the replica is listed.
    let _: Option<String> = q(&mut c, &["GET", "after"]);
    let list: String = q(&mut c, &["CLIENT", "LIST", "TYPE", "replica"]);
    assert!(list.contains(" flags=S ") && list.contains("cmd=sync"), "{list}");
    let info: String = q(&mut c, &["INFO", "replication"]);
    assert!(info.contains("slave0:ip=127.0.0.1,port=7777,state=online,offset=0,lag="), "{info}");
    // A second SYNC from a replica is ignored.
    raw.send(b"SYNC\r\n");
    let _: () = q(&mut c, &["DEL", "l"]);
    raw.expect(b"*2\r\n$3\r\nDEL\r\n$1\r\nl\r\n");
    // What went to the replica is counted as replication output.
    let repl: usize = info_field(&mut c, "stats", "total_net_repl_output_bytes").parse().unwrap();
    assert!(repl > rdb.len() + 100, "{repl}");
}

#[test]
fn psync_full_then_continue_with_the_backlog() {
    let srv = server();
    let mut c = srv.client();
    let mut raw = srv.raw();
    raw.roundtrip(b"REPLCONF capa eof capa psync2\r\n", b"+OK\r\n");
    raw.send(b"PSYNC ? -1\r\n");
    let line = read_line(&mut raw);
    let words: Vec<&str> = line.trim_end().split(' ').collect();
    assert_eq!(words[0], "+FULLRESYNC", "{line}");
    let (replid, start): (String, u64) = (words[1].into(), words[2].parse().unwrap());
    assert_eq!(replid.len(), 40);
    assert_eq!(replid, info_field(&mut c, "replication", "master_replid"));
    read_rdb(&mut raw);
    let _: () = q(&mut c, &["SET", "k", "v"]);
    let first = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
    raw.expect(first);
    raw.send(format!("REPLCONF ACK {}\r\n", start + first.len() as u64).as_bytes());
    // The link breaks; writes go on; the replica asks for what follows
    // its offset and gets exactly that.
    drop(raw);
    wait_until("the replica to go", || info_field(&mut c, "replication", "connected_slaves") == "0");
    let _: () = q(&mut c, &["INCR", "n"]);
    let mut raw = srv.raw();
    raw.roundtrip(b"REPLCONF capa psync2\r\n", b"+OK\r\n");
    let from = start + first.len() as u64 + 1;
    raw.send(format!("PSYNC {replid} {from}\r\n").as_bytes());
    raw.expect(format!("+CONTINUE {replid}\r\n").as_bytes());
    raw.expect(b"*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n");
    assert_eq!(info_field(&mut c, "stats", "sync_partial_ok"), "1");
    // An offset the backlog does not hold, or another history: a full sync.
    let mut other = srv.raw();
    other.send(format!("PSYNC {replid} 999999\r\n").as_bytes());
    assert!(read_line(&mut other).starts_with("+FULLRESYNC "));
    let mut other = srv.raw();
    other.send(format!("PSYNC {} 1\r\n", "f".repeat(40)).as_bytes());
    assert!(read_line(&mut other).starts_with("+FULLRESYNC "));
    assert_eq!(info_field(&mut c, "stats", "sync_partial_err"), "2");
    let mut bad = srv.raw();
    bad.roundtrip(b"PSYNC ? x\r\n", b"-ERR value is not an integer or out of range\r\n");
}

#[test]
fn replconf_errors_are_redis_errors() {
    let srv = server();
    let mut c = srv.client();
    assert_eq!(err(&mut c, &["REPLCONF", "listening-port"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["REPLCONF", "nope", "1"]), "ERR Unrecognized REPLCONF option: nope");
    assert_eq!(err(&mut c, &["REPLCONF", "listening-port", "x"]), "ERR value is not an integer or out of range");
    assert_eq!(err(&mut c, &["REPLCONF", "rdb-only", "2"]), "ERR value is out of range, value must between 0 and 1");
    assert_eq!(err(&mut c, &["REPLCONF", "rdb-only", "x"]), "ERR value is not an integer or out of range");
    assert_eq!(q::<String>(&mut c, &["REPLCONF", "listening-port", "-5"]), "OK");
    assert_eq!(err(&mut c, &["REPLCONF", "rdb-filter-only", "keys"]), "ERR Unsupported rdb-filter-only option: keys");
    let long = "a".repeat(300);
    assert_eq!(
        err(&mut c, &["REPLCONF", "ip-address", &long]),
        "ERR REPLCONF ip-address provided by replica instance is too long: 300 bytes"
    );
    assert_eq!(q::<String>(&mut c, &["REPLCONF", "capa", "eof", "capa", "whatever"]), "OK");
    // ACK and GETACK from a client that is no replica: no reply at all.
    let mut raw = srv.raw();
    raw.send(b"REPLCONF ACK 10\r\nREPLCONF GETACK *\r\nPING\r\n");
    raw.expect(b"+PONG\r\n");
    // A filtered RDB needs the EOF capability, as in Redis.
    let mut raw = srv.raw();
    raw.roundtrip(b"REPLCONF rdb-filter-only functions\r\n", b"+OK\r\n");
    raw.roundtrip(b"SYNC\r\n", b"-ERR Filtered replica requires EOF capability\r\n");
    // The options before a failing one keep their effect, as in Redis; a
    // SYNC behind replies not yet written is refused.
    let mut raw = srv.raw();
    raw.roundtrip(b"REPLCONF listening-port 70000 nope 1\r\n", b"-ERR Unrecognized REPLCONF option: nope\r\n");
    raw.roundtrip(b"PING\r\nSYNC\r\n", b"+PONG\r\n-ERR SYNC and PSYNC are invalid with pending output\r\n");
    raw.send(b"SYNC\r\n");
    read_rdb(&mut raw);
    let info: String = q(&mut c, &["INFO", "replication"]);
    assert!(info.contains("slave0:ip=127.0.0.1,port=70000,state=online"), "{info}");
    // SYNC and PSYNC are refused in MULTI (no-multi).
    let mut raw = srv.raw();
    raw.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    raw.roundtrip(b"SYNC\r\n", b"-ERR Command not allowed inside a transaction\r\n");
}

#[test]
fn wait_counts_the_replicas_that_acknowledged() {
    let srv = server();
    let mut c = srv.client();
    assert_eq!(q::<i64>(&mut c, &["WAIT", "0", "0"]), 0);
    assert_eq!(q::<i64>(&mut c, &["WAIT", "1", "50"]), 0);
    let (mut raw, start) = raw_replica(&srv);
    let _: () = q(&mut c, &["SET", "k", "v"]);
    let set = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
    raw.expect(set);
    // Not acknowledged: WAIT asks (REPLCONF GETACK *) and times out with 0.
    assert_eq!(q::<i64>(&mut c, &["WAIT", "1", "100"]), 0);
    raw.expect(b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n");
    // A blocked WAIT is answered by the acknowledgement of its client's
    // last write.
    let getack = b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n";
    let url = srv.url();
    let waiter = std::thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let _: () = redis::cmd("SET").arg("w").arg("1").query(&mut c).unwrap();
        redis::cmd("WAIT").arg(1).arg(0).query::<i64>(&mut c).unwrap()
    });
    let set_w = b"*3\r\n$3\r\nSET\r\n$1\r\nw\r\n$1\r\n1\r\n";
    raw.expect(set_w);
    raw.expect(getack);
    let acked = start + (set.len() + getack.len() + set_w.len()) as u64;
    // A later write of another client is not the waiter's to wait for.
    let mut other = srv.client();
    let _: () = q(&mut other, &["SET", "x", "1"]);
    raw.send(format!("REPLCONF ACK {acked}\r\n").as_bytes());
    assert_eq!(waiter.join().unwrap(), 1);
    assert_eq!(q::<i64>(&mut c, &["WAIT", "1", "0"]), 1);
    // The other client's write is not acknowledged yet: it waits, in vain.
    assert_eq!(q::<i64>(&mut other, &["WAIT", "1", "100"]), 0);
    // A client that never wrote has nothing to wait for.
    assert_eq!(q::<i64>(&mut srv.client(), &["WAIT", "1", "0"]), 1);
    let role: redis::Value = q(&mut c, &["ROLE"]);
    assert!(format!("{role:?}").contains(&acked.to_string()), "{role:?}");
    // min-replicas-to-write counts the replica that acknowledged lately.
    let _: () = q(&mut c, &["CONFIG", "SET", "min-replicas-to-write", "1"]);
    let _: () = q(&mut c, &["SET", "k", "w"]);
    let _: () = q(&mut c, &["CONFIG", "SET", "min-replicas-to-write", "2"]);
    assert_eq!(err(&mut c, &["SET", "k", "x"]), "NOREPLICAS Not enough good replicas to write.");
    // The backlog's memory is what the stream wrote, not its size.
    let _: () = q(&mut c, &["CONFIG", "SET", "repl-backlog-size", "1gb"]);
    assert_eq!(info_field(&mut c, "replication", "repl_backlog_size"), "1073741824");
    let held: u64 = info_field(&mut c, "memory", "mem_replication_backlog").parse().unwrap();
    assert!(held < 1 << 20, "{held}");
    let used: u64 = info_field(&mut c, "memory", "used_memory").parse().unwrap();
    assert!(used < 100 << 20, "{used}");
}

#[test]
fn a_replica_over_its_output_limit_or_silent_too_long_is_dropped() {
    let srv = server_with(|c| {
        c.output_limits[2] = (256 * 1024, 0, 0);
        c.repl_timeout = 1;
    });
    let mut c = srv.client();
    // Never reads: the stream piles up past the replica class's limit.
    let mut raw = srv.raw();
    raw.send(b"PSYNC ? -1\r\n");
    wait_until("the replica", || info_field(&mut c, "replication", "connected_slaves") == "1");
    let value = "x".repeat(64 * 1024);
    for i in 0..200 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), &value]);
    }
    wait_until("the replica to be dropped", || info_field(&mut c, "replication", "connected_slaves") == "0");
    // Reads but never acknowledges: dropped after repl-timeout.
    let (_raw, _) = raw_replica(&srv);
    wait_until("the replica online", || info_field(&mut c, "replication", "connected_slaves") == "1");
    let started = Instant::now();
    wait_until("the silent replica to be dropped", || info_field(&mut c, "replication", "connected_slaves") == "0");
    assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());
}

#[test]
fn a_second_replica_gets_its_own_select_and_can_join_a_running_sync() {
    // Each key saved waits 2 ms: the snapshot of 300 keys lasts long
    // enough for a second replica to join it.
    let srv = primary_with(|c| c.rdb_key_save_delay = 2000);
    let mut c = srv.client();
    for i in 0..300 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), "v"]);
    }
    let mut a = srv.raw();
    a.send(b"PSYNC ? -1\r\n");
    let first = read_line(&mut a);
    wait_until("the snapshot to start", || info_field(&mut c, "persistence", "rdb_bgsave_in_progress") == "1");
    let _: () = q(&mut c, &["SET", "during", "1"]);
    let mut b = srv.raw();
    b.send(b"PSYNC ? -1\r\n");
    // B joins A's snapshot: the same offset, the same file, the writes
    // since it started.
    assert_eq!(read_line(&mut b), first);
    assert_eq!(info_field(&mut c, "stats", "sync_full"), "2");
    assert_eq!(info_field(&mut c, "persistence", "rdb_saves"), "0");
    let (rdb_a, rdb_b) = (read_rdb(&mut a), read_rdb(&mut b));
    assert_eq!(rdb_a, rdb_b);
    let during = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$6\r\nduring\r\n$1\r\n1\r\n";
    a.expect(during);
    b.expect(during);
    // A third, once the stream has selected its database, still gets a
    // SELECT before the first write after its snapshot.
    let _: () = q(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    let mut third = srv.raw();
    third.send(b"SYNC\r\n");
    read_rdb(&mut third);
    let _: () = q(&mut c, &["SET", "after", "2"]);
    let after = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n2\r\n";
    third.expect(after);
    // A and B had their SELECT: only the command (after the third's SELECT).
    a.expect(after);
    b.expect(after);
}

#[test]
fn the_aofs_timestamps_stay_out_of_the_stream() {
    let srv = primary_with(|c| {
        c.appendonly = true;
        c.aof_timestamp_enabled = true;
    });
    let mut c = srv.client();
    wait_until("the AOF's first base", || info_field(&mut c, "persistence", "aof_rewrite_in_progress") == "0");
    let mut raw = srv.raw();
    raw.send(b"SYNC\r\n");
    read_rdb(&mut raw);
    let _: () = q(&mut c, &["SET", "k", "v"]);
    std::thread::sleep(Duration::from_millis(1100));
    let _: () = q(&mut c, &["SET", "k", "w"]);
    raw.expect(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
    raw.expect(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nw\r\n");
    // The AOF has them.
    let dir = std::path::Path::new(&srv.dir).join("appendonlydir");
    let incr = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".incr.aof"))
        .unwrap();
    wait_until("the AOF write", || std::fs::read_to_string(&incr).unwrap().matches("#TS:").count() >= 2);
}

#[test]
fn redis_cli_replica_and_functions_rdb_use_filtered_syncs() {
    if without_redis() {
        return;
    }
    let srv = primary();
    let mut c = srv.client();
    let _: () = q(&mut c, &["SET", "big", &"x".repeat(100_000)]);
    let lib = "#!lua name=mylib\nredis.register_function('f1', function() return 1 end)";
    let _: String = q(&mut c, &["FUNCTION", "LOAD", lib]);
    let port = srv.handle.addr.port().to_string();
    // --replica asks for an RDB of nothing, then prints the stream.
    // Line-buffered: redis-cli's stdout is a pipe here (stdbuf execs it).
    let mut child = Command::new("stdbuf")
        .args(["-oL", "redis-cli", "-p", &port, "--replica"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("redis-cli --replica", || info_field(&mut c, "replication", "connected_slaves") == "1");
    let _: () = q(&mut c, &["SET", "k", "v"]);
    let _: () = q(&mut c, &["SELECT", "2"]);
    let _: () = q(&mut c, &["LPUSH", "l", "z"]);
    let _: () = q(&mut c, &["SELECT", "0"]);
    // Read on a thread of its own, so that a server that never sends ends
    // the test with its message instead of hanging it.
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = stdout.read(&mut buf) {
            if tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();
    while !seen.contains("\"LPUSH\",\"l\",\"z\"") {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(bytes) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            Err(_) => {
                let _ = child.kill();
                panic!("redis-cli --replica printed only: {seen}");
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen.contains("\"SELECT\",\"0\"\n\"SET\",\"k\",\"v\"\n\"SELECT\",\"2\"\n"), "{seen}");
    // The filtered RDB held nothing: no 100 KB value went down the link.
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(stderr.contains("SYNC with master, discarding ") && !stderr.contains("100"), "{stderr}");
    // --functions-rdb: the libraries only, in a file Redis loads.
    let dir = fresh_dir();
    let file = format!("{dir}/dump.rdb");
    let out = Command::new("redis-cli").args(["-p", &port, "--functions-rdb", &file]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let redis = RedisServer::start(&dir);
    let mut rc = redis.client().unwrap();
    assert_eq!(q::<i64>(&mut rc, &["DBSIZE"]), 0);
    assert_eq!(q::<i64>(&mut rc, &["FCALL", "f1", "0"]), 1);
}

#[test]
fn replicas_are_neither_counted_nor_evicted_by_maxmemory_clients() {
    let srv = primary_with(|c| c.maxmemory_clients = 4 << 20);
    let mut c = srv.client();
    // A replica that does not read: megabytes of stream wait for it.
    let mut raw = srv.raw();
    raw.send(b"PSYNC ? -1\r\n");
    wait_until("the replica", || info_field(&mut c, "replication", "connected_slaves") == "1");
    let value = "x".repeat(512 * 1024);
    for i in 0..24 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), &value]);
        let _: String = q(&mut c, &["PING"]);
    }
    std::thread::sleep(Duration::from_millis(300));
    let _: String = q(&mut c, &["PING"]);
    assert_eq!(info_field(&mut c, "stats", "evicted_clients"), "0");
    assert_eq!(info_field(&mut c, "replication", "connected_slaves"), "1");
    let slaves: u64 = info_field(&mut c, "memory", "mem_clients_slaves").parse().unwrap();
    assert!(slaves > 4 << 20, "{slaves}");
    drop(raw);
}

/// A raw replica of `srv` that got its full sync: its connection and the
/// offset its stream starts from.
fn raw_replica(srv: &common::TestServer) -> (Raw, u64) {
    let mut raw = srv.raw();
    raw.send(b"PSYNC ? -1\r\n");
    let line = read_line(&mut raw);
    let start: u64 = line.trim_end().rsplit(' ').next().unwrap().parse().unwrap();
    read_rdb(&mut raw);
    (raw, start)
}

#[test]
fn shutdown_waits_for_lagging_replicas_with_writes_paused() {
    let srv = primary();
    let mut c = srv.client();
    let (mut raw, start) = raw_replica(&srv);
    let _: () = q(&mut c, &["SET", "k", "v"]);
    let set = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
    raw.expect(set);
    // The replica has not acknowledged: SHUTDOWN waits, asking it.
    let mut shut = srv.raw();
    shut.send(b"SHUTDOWN NOSAVE\r\n");
    let getack = b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n";
    raw.expect(getack);
    let info: String = q(&mut c, &["INFO", "server"]);
    assert!(info.contains("shutdown_in_milliseconds:"), "{info}");
    // Writes wait; reads go on.
    let mut writer = srv.raw();
    writer.send(b"SET k w\r\n");
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "v");
    writer.0.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut byte = [0u8; 1];
    assert!(writer.0.read(&mut byte).is_err(), "a write ran during the shutdown's wait");
    // SHUTDOWN ABORT: the waiting SHUTDOWN gets Redis's error, the write runs.
    assert_eq!(q::<String>(&mut c, &["SHUTDOWN", "ABORT"]), "OK");
    shut.expect(b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n");
    writer.0.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    writer.expect(b"+OK\r\n");
    raw.expect(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nw\r\n");
    // Again; this time the replica acknowledges everything: the server ends.
    shut.send(b"SHUTDOWN NOSAVE\r\n");
    raw.expect(getack);
    let end: u64 = info_field(&mut c, "replication", "master_repl_offset").parse().unwrap();
    let write = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nw\r\n";
    assert_eq!(end, start + (set.len() + 2 * getack.len() + write.len()) as u64);
    raw.send(format!("REPLCONF ACK {}\r\n", end - 1).as_bytes());
    std::thread::sleep(Duration::from_millis(300));
    assert!(std::net::TcpStream::connect(srv.handle.addr).is_ok(), "ended before the replica caught up");
    let started = Instant::now();
    raw.send(format!("REPLCONF ACK {end}\r\n").as_bytes());
    assert_eq!(shut.read_to_close(), b"");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    wait_until("the server to stop", || std::net::TcpStream::connect(srv.handle.addr).is_err());
}

#[test]
fn shutdown_gives_up_on_a_silent_replica_after_shutdown_timeout() {
    let srv = primary_with(|c| c.shutdown_timeout = 1);
    let mut c = srv.client();
    let (_raw, _) = raw_replica(&srv);
    let _: () = q(&mut c, &["SET", "k", "v"]);
    let started = Instant::now();
    let mut shut = srv.raw();
    shut.send(b"SHUTDOWN NOSAVE\r\n");
    assert_eq!(shut.read_to_close(), b"");
    assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());
    // SHUTDOWN NOW does not wait.
    let srv = primary();
    let mut c = srv.client();
    let (_raw, _) = raw_replica(&srv);
    let _: () = q(&mut c, &["SET", "k", "v"]);
    let started = Instant::now();
    let mut shut = srv.raw();
    shut.send(b"SHUTDOWN NOW NOSAVE\r\n");
    assert_eq!(shut.read_to_close(), b"");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn sigterm_waits_for_the_replicas_too() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = fresh_dir();
    let log = format!("{dir}/log.txt");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrokv"))
        .args(["--port", &port.to_string(), "--save", "", "--dir", &dir, "--logfile", &log])
        .spawn()
        .unwrap();
    let mut c = common::connect_when_up(port);
    let stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut raw = Raw(stream);
    raw.send(b"PSYNC ? -1\r\n");
    read_line(&mut raw);
    read_rdb(&mut raw);
    let _: () = q(&mut c, &["SET", "k", "v"]);
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    // The cron takes the signal and waits: the replica is asked for its offset.
    raw.expect(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
    raw.expect(b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n");
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "exited before the replica caught up");
    let end = info_field(&mut c, "replication", "master_repl_offset");
    raw.send(format!("REPLCONF ACK {end}\r\n").as_bytes());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("Waiting for replicas before shutting down."), "{text}");
    assert!(text.contains("1 of 1 replicas are in sync when shutting down."), "{text}");
}

#[test]
fn shutdown_does_not_wait_for_an_rdb_only_transfer() {
    let srv = primary_with(|c| c.rdb_key_save_delay = 100_000);
    let mut c = srv.client();
    for i in 0..50 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), "v"]);
    }
    let mut backup = srv.raw();
    backup.roundtrip(b"REPLCONF rdb-only 1\r\n", b"+OK\r\n");
    backup.send(b"SYNC\r\n");
    wait_until("the snapshot to start", || info_field(&mut c, "persistence", "rdb_bgsave_in_progress") == "1");
    // The stream moves on; the backup never acknowledges it (nor gets it).
    let _: () = q(&mut c, &["SET", "after", "1"]);
    let started = Instant::now();
    let mut shut = srv.raw();
    shut.send(b"SHUTDOWN NOSAVE\r\n");
    assert_eq!(shut.read_to_close(), b"");
    // Waiting for it would last until its 5 s snapshot went out.
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

#[test]
fn rdb_del_sync_files_removes_the_sync_rdb_when_nothing_persists() {
    for delete in [false, true] {
        // A sync to disk (dump.rdb), not the default temporary file.
        let srv = primary_with(|c| {
            c.rdb_del_sync_files = delete;
            c.repl_diskless_sync = false;
        });
        let mut c = srv.client();
        let _: () = q(&mut c, &["SET", "k", "v"]);
        let (_raw, _) = raw_replica(&srv);
        let rdb = std::path::Path::new(&srv.dir).join("dump.rdb");
        if delete {
            wait_until("the sync RDB to go", || !rdb.exists());
        } else {
            std::thread::sleep(Duration::from_millis(1500));
            assert!(rdb.exists(), "the RDB was removed without rdb-del-sync-files");
        }
    }
    // With save points the file is the snapshot: it stays.
    let srv = primary_with(|c| {
        c.rdb_del_sync_files = true;
        c.repl_diskless_sync = false;
        c.save = vec![(3600, 1)];
    });
    let (_raw, _) = raw_replica(&srv);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(std::path::Path::new(&srv.dir).join("dump.rdb").exists());
}

#[test]
fn repl_disable_tcp_nodelay_turns_nagle_on_for_the_link() {
    let srv = primary_with(|c| c.repl_disable_tcp_nodelay = true);
    let mut c = srv.client();
    let (mut raw, _) = raw_replica(&srv);
    let _: () = q(&mut c, &["SET", "k", "v"]);
    // The link still carries the stream (Nagle only batches small writes).
    raw.expect(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
    let replica_end = raw.0.local_addr().unwrap();
    assert_eq!(server_side_nodelay(replica_end), Some(false));
    // Any other client keeps TCP_NODELAY.
    let other = srv.raw();
    let _: String = q(&mut c, &["PING"]);
    assert_eq!(server_side_nodelay(other.0.local_addr().unwrap()), Some(true));
}

/// TCP_NODELAY of the in-process server's end of the connection whose
/// client end is `peer` (found among this process's descriptors).
fn server_side_nodelay(peer: std::net::SocketAddr) -> Option<bool> {
    for entry in std::fs::read_dir("/proc/self/fd").ok()? {
        let Some(fd) = entry.ok().and_then(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok())) else {
            continue;
        };
        // SAFETY: only reads socket options and the peer's address of the
        // descriptor; one that closed meanwhile makes the calls fail.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let sock = socket2::SockRef::from(&fd);
        if sock.peer_addr().ok().and_then(|a| a.as_socket()) == Some(peer)
            && let Ok(on) = sock.tcp_nodelay()
        {
            return Some(on);
        }
    }
    None
}

#[test]
fn a_diskless_sync_leaves_dump_rdb_and_the_save_counters_alone() {
    for diskless in [true, false] {
        let srv = primary_with(|c| c.repl_diskless_sync = diskless);
        let mut c = srv.client();
        let _: () = q(&mut c, &["SET", "k", "v"]);
        let (mut raw, _) = raw_replica(&srv);
        let _: () = q(&mut c, &["SET", "k2", "v"]);
        raw.expect(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$2\r\nk2\r\n$1\r\nv\r\n");
        let files: Vec<String> = std::fs::read_dir(&srv.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let saves = info_field(&mut c, "persistence", "rdb_saves");
        let dirty = info_field(&mut c, "persistence", "rdb_changes_since_last_save");
        if diskless {
            assert!(files.is_empty(), "{files:?}");
            assert_eq!((saves.as_str(), dirty.as_str()), ("0", "2"));
        } else {
            assert_eq!(files, ["dump.rdb"]);
            assert_eq!((saves.as_str(), dirty.as_str()), ("1", "1"));
        }
    }
}
