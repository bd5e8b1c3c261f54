//! CLIENT LIST / CLIENT INFO fields and the buffer accounting behind them,
//! CLIENT SETINFO and CLIENT NO-TOUCH (Redis 7.2).

mod common;
use common::{Raw, err, q, server};
use std::io::Read;
use std::time::{Duration, Instant};

/// Redis 7.0.15's CLIENT INFO fields in its order, then Redis 7.2's two.
const FIELDS: &[&str] = &[
    "id",
    "addr",
    "laddr",
    "fd",
    "name",
    "age",
    "idle",
    "flags",
    "db",
    "sub",
    "psub",
    "ssub",
    "multi",
    "qbuf",
    "qbuf-free",
    "argv-mem",
    "multi-mem",
    "rbs",
    "rbp",
    "obl",
    "oll",
    "omem",
    "tot-mem",
    "events",
    "cmd",
    "user",
    "redir",
    "resp",
    "lib-name",
    "lib-ver",
];

/// The `name=value` pairs of one CLIENT LIST line.
fn fields(line: &str) -> Vec<(String, String)> {
    line.trim_end()
        .split(' ')
        .map(|f| {
            let (k, v) = f.split_once('=').unwrap_or_else(|| panic!("field without '=': {f:?} in {line}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn field(line: &str, name: &str) -> String {
    fields(line).into_iter().find(|(k, _)| k == name).map(|(_, v)| v).unwrap_or_else(|| panic!("{name} in {line}"))
}

fn num(line: &str, name: &str) -> usize {
    field(line, name).parse().unwrap_or_else(|_| panic!("{name} is a number in {line}"))
}

/// The CLIENT LIST line of the client named `name`, if there is one.
fn find_line(c: &mut redis::Connection, name: &str) -> Option<String> {
    let list: String = q(c, &["CLIENT", "LIST"]);
    list.lines().find(|l| l.contains(&format!(" name={name} "))).map(String::from)
}

/// The CLIENT LIST line of the client named `name`.
fn line_of(c: &mut redis::Connection, name: &str) -> String {
    find_line(c, name).unwrap_or_else(|| panic!("no client named {name}"))
}

/// Polls `name`'s line until `ok` holds (the cron acts within a second).
fn wait_line(c: &mut redis::Connection, name: &str, secs: u64, ok: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let line = find_line(c, name);
        if let Some(line) = line.as_deref().filter(|l| ok(l)) {
            return line.to_string();
        }
        assert!(start.elapsed() < Duration::from_secs(secs), "never: {line:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Reads one RESP2 bulk string from `raw`.
fn read_bulk(raw: &mut Raw) -> String {
    let mut header = Vec::new();
    let mut b = [0u8; 1];
    while !header.ends_with(b"\r\n") {
        raw.0.read_exact(&mut b).unwrap();
        header.push(b[0]);
    }
    let text = String::from_utf8(header).unwrap();
    let len: usize = text.trim_end().strip_prefix('$').unwrap_or_else(|| panic!("{text}")).parse().unwrap();
    let mut body = vec![0; len + 2];
    raw.0.read_exact(&mut body).unwrap();
    body.truncate(len);
    String::from_utf8(body).unwrap()
}

#[test]
fn client_info_has_redis_fields_in_redis_order() {
    let srv = server();
    let mut raw = srv.raw();
    // The request redis-cli sends for `client info`: 26 bytes, arguments
    // of 6 and 4 bytes. Redis 7.0.15 answers (but for addresses, fd and
    // allocation sizes) `... flags=N db=0 sub=0 psub=0 ssub=0 multi=-1
    // qbuf=26 qbuf-free=20448 argv-mem=10 multi-mem=0 rbs=16384 rbp=16384
    // obl=0 oll=0 omem=0 tot-mem=37658 events=r cmd=client|info
    // user=default redir=-1 resp=2`.
    raw.send(b"*2\r\n$6\r\nclient\r\n$4\r\ninfo\r\n");
    let line = read_bulk(&mut raw);
    assert!(line.ends_with('\n') && !line.ends_with("\n\n"), "{line:?}");
    let names: Vec<String> = fields(&line).into_iter().map(|(k, _)| k).collect();
    assert_eq!(names, FIELDS, "{line}");
    for (name, want) in [
        ("name", ""),
        ("age", "0"),
        ("idle", "0"),
        ("flags", "N"),
        ("db", "0"),
        ("sub", "0"),
        ("psub", "0"),
        ("ssub", "0"),
        ("multi", "-1"),
        ("qbuf", "26"),
        ("argv-mem", "10"),
        ("multi-mem", "0"),
        ("obl", "0"),
        ("oll", "0"),
        ("omem", "0"),
        ("events", "r"),
        ("cmd", "client|info"),
        ("user", "default"),
        ("redir", "-1"),
        ("resp", "2"),
        ("lib-name", ""),
        ("lib-ver", ""),
    ] {
        assert_eq!(field(&line, name), want, "{name} in {line}");
    }
    let addr = raw.0.local_addr().unwrap().to_string();
    assert_eq!(field(&line, "addr"), addr);
    assert_eq!(field(&line, "laddr"), srv.handle.addr.to_string());
    assert!(num(&line, "fd") > 2);
    assert!(num(&line, "qbuf-free") >= 16 * 1024 - 26, "a 16 KB read buffer: {line}");
    assert!(num(&line, "tot-mem") > num(&line, "qbuf") + num(&line, "qbuf-free"), "{line}");
    // The same fields in CLIENT LIST, and through a real client; the
    // `redis` crate names itself with CLIENT SETINFO on connecting.
    let mut c = srv.client();
    let id: i64 = q(&mut c, &["CLIENT", "ID"]);
    let list: String = q(&mut c, &["CLIENT", "LIST", "ID", &id.to_string()]);
    let names: Vec<String> = fields(&list).into_iter().map(|(k, _)| k).collect();
    assert_eq!(names, FIELDS);
    assert_eq!(field(&list, "cmd"), "client|list");
    let argv = "CLIENT".len() + "LIST".len() + "ID".len() + id.to_string().len();
    assert_eq!(num(&list, "argv-mem"), argv, "{list}");
    assert_eq!(field(&list, "lib-name"), "redis-rs");
    assert!(!field(&list, "lib-ver").is_empty());
}

#[test]
fn a_pipelined_batch_counts_in_qbuf_and_obl() {
    // Recorded from Redis 7.0.15: the query buffer holds the whole batch
    // while it runs, and the replies so far wait in the reply buffer.
    let srv = server();
    let mut raw = srv.raw();
    raw.send(b"CLIENT NO-EVICT on\r\nRESET\r\nCLIENT INFO\r\n");
    raw.expect(b"+OK\r\n+RESET\r\n");
    let line = read_bulk(&mut raw);
    for (name, want) in [("flags", "e"), ("qbuf", "40"), ("argv-mem", "10"), ("obl", "13"), ("oll", "0"), ("omem", "0")]
    {
        assert_eq!(field(&line, name), want, "{name} in {line}");
    }
    assert!(num(&line, "rbp") >= 13 && num(&line, "rbs") >= num(&line, "rbp"), "{line}");
}

#[test]
fn multi_blocked_and_subscribed_clients() {
    let srv = server();
    let mut admin = srv.client();
    // Redis 7.0.15: multi=2 multi-mem=81 (5 + 3 pointers, 12 + 5 pointers).
    let mut m = srv.client();
    q::<()>(&mut m, &["CLIENT", "SETNAME", "multi"]);
    redis::cmd("MULTI").exec(&mut m).unwrap();
    let _: redis::Value = redis::cmd("SET").arg("a").arg("1").query(&mut m).unwrap();
    let _: redis::Value = redis::cmd("RPUSH").arg("l").arg("x").arg("y").arg("zzzz").query(&mut m).unwrap();
    let line = line_of(&mut admin, "multi");
    for (name, want) in [("flags", "x"), ("multi", "2"), ("multi-mem", "81"), ("argv-mem", "0"), ("cmd", "rpush")] {
        assert_eq!(field(&line, name), want, "{name} in {line}");
    }
    // Redis 7.0.15: a blocked BLPOP holds its 11 bytes of arguments.
    let mut b = srv.raw();
    b.send(b"CLIENT SETNAME blocked\r\n*3\r\n$5\r\nBLPOP\r\n$5\r\nqueue\r\n$1\r\n0\r\n");
    b.expect(b"+OK\r\n");
    let line = wait_line(&mut admin, "blocked", 5, |l| l.contains(" flags=b "));
    assert_eq!(field(&line, "argv-mem"), "11", "{line}");
    assert_eq!(field(&line, "cmd"), "blpop", "{line}");
    assert!(num(&line, "tot-mem") > num(&line, "qbuf-free") + 11, "the copy kept for the retry counts: {line}");
    // Subscriptions are counted by kind.
    let mut s = srv.raw();
    s.send(b"CLIENT SETNAME sub\r\nSUBSCRIBE c1 c2\r\nPSUBSCRIBE p*\r\nSSUBSCRIBE s\r\n");
    let line = wait_line(&mut admin, "sub", 5, |l| l.contains(" ssub=1 "));
    for (name, want) in [("flags", "P"), ("sub", "2"), ("psub", "1"), ("cmd", "ssubscribe")] {
        assert_eq!(field(&line, name), want, "{name} in {line}");
    }
}

#[test]
fn a_partly_sent_big_argument_stays_in_the_query_buffer() {
    let srv = server();
    let mut admin = srv.client();
    let mut p = srv.raw();
    p.roundtrip(b"CLIENT SETNAME partial\r\n", b"+OK\r\n");
    p.send(b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$65536\r\n");
    p.send(&[b'x'; 40_000]);
    // Redis 7.0.15: qbuf=40000 qbuf-free=25536 argv-mem=6, for as long as
    // the argument is incomplete (here the command's header bytes count
    // too). The buffer is sized for the argument, not doubled past it.
    let line = wait_line(&mut admin, "partial", 5, |l| num(l, "qbuf") >= 40_000);
    assert_eq!(field(&line, "argv-mem"), "6", "{line}");
    assert!(num(&line, "qbuf") < 40_100, "{line}");
    let size = num(&line, "qbuf") + num(&line, "qbuf-free");
    assert!(size <= 65_600, "not grown past the argument: {line}");
    // Several cron visits later, nothing was trimmed.
    std::thread::sleep(Duration::from_millis(1500));
    let later = line_of(&mut admin, "partial");
    assert_eq!(num(&later, "qbuf"), num(&line, "qbuf"), "{later}");
    assert_eq!(num(&later, "qbuf-free"), num(&line, "qbuf-free"), "{later}");
    p.send(&[b'x'; 25_536]);
    p.roundtrip(b"\r\n", b"+OK\r\n");
    let done = line_of(&mut admin, "partial");
    assert_eq!((field(&done, "qbuf"), field(&done, "argv-mem")), ("0".into(), "0".into()), "{done}");
    // An active client's buffer over 32 KB and over twice its recent peak
    // shrinks back to that peak (Redis's clientsCronResizeQueryBuffer).
    wait_line(&mut admin, "partial", 3, |l| num(l, "qbuf-free") == 0);
    let v: String = q(&mut admin, &["GET", "big"]);
    assert_eq!(v.len(), 65_536);
}

#[test]
fn an_idle_clients_buffers_shrink_back() {
    let srv = server();
    let mut idle = srv.client();
    q::<()>(&mut idle, &["CLIENT", "SETNAME", "idler"]);
    q::<()>(&mut idle, &["SET", "k", &"x".repeat(1000)]);
    let _: String = q(&mut idle, &["GET", "k"]);
    let mut admin = srv.client();
    let line = line_of(&mut admin, "idler");
    // Where Redis 7.0 keeps a 16 KB query buffer until the client has been
    // idle 2 s, ferrokv lends the loop's read buffer for each read and
    // takes it back once the input is consumed (as Valkey 8 shares one).
    assert_eq!((num(&line, "qbuf"), num(&line, "qbuf-free")), (0, 0), "no read buffer between commands: {line}");
    assert!(num(&line, "rbs") > 1000, "a reply buffer: {line}");
    // More than 2 idle seconds: the reply buffer is given back.
    let line = wait_line(&mut admin, "idler", 6, |l| num(l, "qbuf-free") == 0 && num(l, "rbs") == 0);
    assert!(num(&line, "idle") >= 2, "{line}");
    assert!(num(&line, "tot-mem") < 4096, "{line}");
    // The connection still works, of course.
    let v: String = q(&mut idle, &["GET", "k"]);
    assert_eq!(v.len(), 1000);
    let line = line_of(&mut admin, "idler");
    assert_eq!(num(&line, "idle"), 0, "{line}");
}

#[test]
fn a_stalled_subscriber_shows_its_backlog() {
    let srv = server();
    let mut c = srv.client();
    let mut slow = srv.raw();
    slow.roundtrip(b"CLIENT SETNAME slow\r\n", b"+OK\r\n");
    slow.roundtrip(b"SUBSCRIBE backlog\r\n", b"*3\r\n$9\r\nsubscribe\r\n$7\r\nbacklog\r\n:1\r\n");
    let payload = "x".repeat(64 * 1024);
    // 8 MB, more than the socket buffers take.
    for _ in 0..128 {
        q::<i64>(&mut c, &["PUBLISH", "backlog", &payload]);
    }
    // More than the socket takes: a full reply buffer, the rest in 16 KB
    // blocks, and the loop waiting for the socket.
    let line = line_of(&mut c, "slow");
    assert_eq!(field(&line, "obl"), "16384", "{line}");
    assert_eq!(field(&line, "rbs"), "16384", "{line}");
    assert_eq!(field(&line, "events"), "rw", "{line}");
    let omem = num(&line, "omem");
    assert!(omem > 64 * 1024, "{line}");
    assert_eq!(num(&line, "oll"), omem.div_ceil(16 * 1024), "{line}");
    assert!(num(&line, "tot-mem") > omem, "{line}");
}

#[test]
fn client_setinfo_names_the_library() {
    // Redis 7.2's CLIENT SETINFO (its tests/unit/introspection.tcl).
    let srv = server();
    let mut c = srv.client();
    assert_eq!(q::<String>(&mut c, &["CLIENT", "SETINFO", "lib-name", "redis.py"]), "OK");
    assert_eq!(q::<String>(&mut c, &["CLIENT", "SETINFO", "LIB-VER", "1.2.3"]), "OK");
    let info: String = q(&mut c, &["CLIENT", "INFO"]);
    assert!(info.trim_end().ends_with(" resp=2 lib-name=redis.py lib-ver=1.2.3"), "{info}");
    assert_eq!(
        err(&mut c, &["CLIENT", "SETINFO", "lib-name"]),
        "ERR wrong number of arguments for 'client|setinfo' command"
    );
    assert_eq!(
        err(&mut c, &["CLIENT", "SETINFO", "lib-name", "redis py"]),
        "ERR lib-name cannot contain spaces, newlines or special characters."
    );
    assert_eq!(
        err(&mut c, &["CLIENT", "SETINFO", "LIB-VER", "1.2\n"]),
        "ERR LIB-VER cannot contain spaces, newlines or special characters."
    );
    assert_eq!(err(&mut c, &["CLIENT", "SETINFO", "badger", "hamster"]), "ERR Unrecognized option 'badger'");
    let info: String = q(&mut c, &["CLIENT", "INFO"]);
    assert!(info.contains(" lib-name=redis.py lib-ver=1.2.3"), "errors change nothing: {info}");
    // RESET keeps them; an empty value clears one.
    let mut raw = srv.raw();
    raw.roundtrip(b"CLIENT SETINFO lib-name x.y\r\nRESET\r\n", b"+OK\r\n+RESET\r\n");
    raw.send(b"CLIENT INFO\r\n");
    assert!(read_bulk(&mut raw).contains(" lib-name=x.y lib-ver="));
    assert_eq!(q::<String>(&mut c, &["CLIENT", "SETINFO", "lib-name", ""]), "OK");
    let info: String = q(&mut c, &["CLIENT", "INFO"]);
    assert!(info.contains(" lib-name= lib-ver=1.2.3"), "{info}");
}

/// OBJECT FREQ of `key` (allkeys-lfu).
fn freq(c: &mut redis::Connection, key: &str) -> i64 {
    q(c, &["OBJECT", "FREQ", key])
}

#[test]
fn client_no_touch_leaves_access_times_alone() {
    let srv = server();
    let mut c = srv.client();
    q::<()>(&mut c, &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
    q::<()>(&mut c, &["SET", "k", "v"]);
    q::<()>(&mut c, &["SET", "other", "v"]);
    // A new key's LFU counter is 5; the first access always counts.
    assert_eq!(freq(&mut c, "k"), 5);
    assert_eq!(q::<String>(&mut c, &["CLIENT", "NO-TOUCH", "on"]), "OK");
    assert!(q::<String>(&mut c, &["CLIENT", "INFO"]).contains(" flags=T "));
    for _ in 0..10 {
        assert_eq!(q::<String>(&mut c, &["GET", "k"]), "v");
    }
    q::<i64>(&mut c, &["APPEND", "k", "w"]);
    q::<i64>(&mut c, &["EXISTS", "k"]);
    // Inside a transaction too.
    let (v,): (String,) = redis::pipe().atomic().cmd("GET").arg("k").query(&mut c).unwrap();
    assert_eq!(v, "vw");
    assert_eq!(freq(&mut c, "k"), 5, "reads and writes of a NO-TOUCH client do not count");
    // TOUCH does, by design.
    assert_eq!(q::<i64>(&mut c, &["TOUCH", "k"]), 1);
    assert_eq!(freq(&mut c, "k"), 6);
    // Other clients are not affected.
    let mut other = srv.client();
    let _: String = q(&mut other, &["GET", "other"]);
    assert_eq!(freq(&mut c, "other"), 6);
    assert_eq!(q::<String>(&mut c, &["CLIENT", "NO-TOUCH", "OFF"]), "OK");
    assert!(q::<String>(&mut c, &["CLIENT", "INFO"]).contains(" flags=N "));
    let _: String = q(&mut c, &["GET", "other"]);
    assert!(freq(&mut c, "other") >= 6);
    let _: String = q(&mut c, &["GET", "k"]);
    assert!(freq(&mut c, "k") >= 6);
    assert_eq!(err(&mut c, &["CLIENT", "NO-TOUCH", "maybe"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["CLIENT", "NO-TOUCH"]), "ERR wrong number of arguments for 'client|no-touch' command");
    // RESET ends it (Redis 7.2).
    let mut raw = srv.raw();
    raw.roundtrip(b"CLIENT NO-TOUCH on\r\nRESET\r\n", b"+OK\r\n+RESET\r\n");
    raw.send(b"CLIENT INFO\r\n");
    assert!(read_bulk(&mut raw).contains(" flags=N "));
}

#[test]
fn client_no_touch_keeps_lru_idle_time() {
    let srv = server();
    let mut c = srv.client();
    q::<()>(&mut c, &["SET", "k", "v"]);
    q::<()>(&mut c, &["CLIENT", "NO-TOUCH", "ON"]);
    std::thread::sleep(Duration::from_millis(2100));
    let _: String = q(&mut c, &["GET", "k"]);
    let idle: i64 = q(&mut c, &["OBJECT", "IDLETIME", "k"]);
    assert!(idle >= 2, "GET under NO-TOUCH left the LRU clock: {idle}");
    q::<i64>(&mut c, &["TOUCH", "k"]);
    let idle: i64 = q(&mut c, &["OBJECT", "IDLETIME", "k"]);
    assert_eq!(idle, 0);
}
