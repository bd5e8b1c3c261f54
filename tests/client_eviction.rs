//! `maxmemory-clients` (client eviction, Redis 7.0): when the clients
//! together use the limit or more, the biggest one is closed, whether its
//! memory is input not yet run or output not yet read; CLIENT NO-EVICT
//! clients are never chosen; INFO shows `mem_clients_normal` and
//! `evicted_clients`.

mod common;
use common::{err, q, server_with};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

fn info_field(c: &mut redis::Connection, field: &str) -> i64 {
    let info: String = q(c, &["INFO"]);
    let line = info.lines().find(|l| l.starts_with(&format!("{field}:"))).unwrap_or_else(|| panic!("{field}"));
    line[field.len() + 1..].trim().parse().unwrap()
}

/// Reads until the server closes the connection (or 10 s pass); the bytes
/// read.
fn read_to_close(s: &mut std::net::TcpStream) -> Vec<u8> {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return out,
            Err(e) => panic!("the server did not close the connection: {e}"),
        }
    }
}

fn big_set(key: &str, len: usize) -> Vec<u8> {
    let mut cmd = format!("*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${len}\r\n", key.len()).into_bytes();
    cmd.resize(cmd.len() + len, b'x');
    cmd.extend_from_slice(b"\r\n");
    cmd
}

#[test]
fn a_big_query_is_evicted_before_it_runs() {
    let srv = server_with(|c| c.maxmemory_clients = 1 << 20);
    let mut c = srv.client();
    assert!(info_field(&mut c, "mem_clients_normal") > 0);
    let mut raw = srv.raw();
    // Written from a thread: the server may close the socket mid-send.
    let cmd = big_set("k", 2_000_000);
    let mut writer = raw.0.try_clone().unwrap();
    let t = std::thread::spawn(move || {
        let _ = writer.write_all(&cmd);
    });
    assert_eq!(read_to_close(&mut raw.0), b"", "no reply: the command never ran");
    t.join().unwrap();
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]), 0);
    assert_eq!(info_field(&mut c, "evicted_clients"), 1);
    // The other clients were not touched and still answer.
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
}

#[test]
fn unread_output_is_evicted_and_no_evict_clients_are_kept() {
    let srv = server_with(|c| c.maxmemory_clients = 1 << 20);
    let mut c = srv.client();
    q::<()>(&mut c, &["CLIENT", "NO-EVICT", "on"]);
    let value = "v".repeat(300_000);
    q::<()>(&mut c, &["SET", "big", &value]);
    // A client that pipelines GETs of the 300 KB value and reads nothing.
    let mut raw = srv.raw();
    raw.0.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    for _ in 0..100 {
        if raw.0.write_all(b"GET big\r\n").is_err() {
            break;
        }
    }
    // Read nothing until the server has closed it: a reader started at
    // once can drain the replies as fast as they are made (the kernel's
    // buffers here reach tens of MB), and then nothing is left to evict.
    let t0 = Instant::now();
    while info_field(&mut c, "evicted_clients") == 0 {
        assert!(t0.elapsed() < Duration::from_secs(10), "the client was not evicted");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(info_field(&mut c, "evicted_clients"), 1);
    let got = read_to_close(&mut raw.0);
    assert!(got.len() < 100 * 300_000, "closed before all replies: {} bytes", got.len());
    // The NO-EVICT client's own big input is kept, whatever the total.
    let mut keep = srv.raw();
    keep.send(b"CLIENT NO-EVICT on\r\n");
    keep.expect(b"+OK\r\n");
    keep.send(&big_set("k2", 2_000_000));
    keep.expect(b"+OK\r\n");
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "k2"]), 2_000_000);
    assert_eq!(info_field(&mut c, "evicted_clients"), 1);
}

#[test]
fn maxmemory_clients_takes_bytes_or_a_percentage_of_maxmemory() {
    let srv = server_with(|_| {});
    let mut c = srv.client();
    assert_eq!(q::<Vec<String>>(&mut c, &["CONFIG", "GET", "maxmemory-clients"]), ["maxmemory-clients", "0"]);
    let failed = |m: &str| format!("ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - {m}");
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "maxmemory-clients", "101%"]),
        failed("percentage argument must be less or equal to 100")
    );
    for bad in ["-1", "abc"] {
        assert_eq!(
            err(&mut c, &["CONFIG", "SET", "maxmemory-clients", bad]),
            failed("argument must be a memory or percent value")
        );
    }
    q::<()>(&mut c, &["CONFIG", "SET", "maxmemory-clients", "5%"]);
    assert_eq!(q::<Vec<String>>(&mut c, &["CONFIG", "GET", "maxmemory-clients"]), ["maxmemory-clients", "5%"]);
    // 5% of 20 MB is 1 MB: a 2 MB query is evicted.
    q::<()>(&mut c, &["CONFIG", "SET", "maxmemory", "20mb"]);
    let mut raw = srv.raw();
    let cmd = big_set("k", 2_000_000);
    let mut writer = raw.0.try_clone().unwrap();
    let t = std::thread::spawn(move || {
        let _ = writer.write_all(&cmd);
    });
    assert_eq!(read_to_close(&mut raw.0), b"");
    t.join().unwrap();
    assert_eq!(info_field(&mut c, "evicted_clients"), 1);
    // 0 turns it off: the same query runs.
    q::<()>(&mut c, &["CONFIG", "SET", "maxmemory-clients", "0"]);
    q::<()>(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
    let mut raw = srv.raw();
    raw.send(&big_set("k", 2_000_000));
    raw.expect(b"+OK\r\n");
}

/// The `j`th command of a kind.
type Command<'a> = dyn Fn(usize) -> Vec<String> + 'a;

/// What a client holds besides its buffers counts too (Redis's
/// client-eviction.tcl): commands queued after MULTI, WATCHed keys,
/// subscriptions (channels, patterns, shard channels) and BCAST prefixes.
/// Each client adds to it one command at a time until it is evicted; a
/// control client holding nothing stays.
#[test]
fn queued_commands_watched_keys_and_subscriptions_count() {
    let srv = server_with(|c| c.maxmemory_clients = 200_000);
    let mut control = srv.client();
    q::<()>(&mut control, &["CLIENT", "NO-EVICT", "on"]);
    let value = "v".repeat(50_000);
    let kinds: [(&str, &Command); 6] = [
        ("multi", &|_| vec!["SET".into(), "k".into(), value.clone()]),
        ("watch", &|j| vec!["WATCH".into(), j.to_string()]),
        ("subscribe", &|j| vec!["SUBSCRIBE".into(), j.to_string()]),
        ("psubscribe", &|j| vec!["PSUBSCRIBE".into(), j.to_string()]),
        ("ssubscribe", &|j| vec!["SSUBSCRIBE".into(), j.to_string()]),
        ("bcast", &|j| {
            vec!["CLIENT".into(), "TRACKING".into(), "on".into(), "BCAST".into(), "PREFIX".into(), format!("p{j:06}")]
        }),
    ];
    for (i, (kind, command)) in kinds.iter().enumerate() {
        let mut raw = srv.raw();
        if *kind == "multi" {
            raw.send(b"MULTI\r\n");
            raw.expect(b"+OK\r\n");
        }
        let mut evicted_after = None;
        for j in 0..20_000 {
            let args = command(j);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            if raw.0.write_all(&common::resp(&args)).is_err() {
                evicted_after = Some(j);
                break;
            }
            let mut buf = [0u8; 256];
            match raw.0.read(&mut buf) {
                Ok(0) | Err(_) => {
                    evicted_after = Some(j);
                    break;
                }
                Ok(_) => {}
            }
        }
        let n = evicted_after.unwrap_or_else(|| panic!("{kind}: never evicted"));
        assert!(n > 2, "{kind}: evicted after {n} commands");
        assert_eq!(info_field(&mut control, "evicted_clients"), i as i64 + 1, "{kind}");
    }
    assert_eq!(q::<String>(&mut control, &["PING"]), "PONG");
}
