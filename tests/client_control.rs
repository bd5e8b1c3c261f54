//! CLIENT REPLY, CLIENT NO-EVICT, CLIENT PAUSE / UNPAUSE.

mod common;
use common::{Raw, err, q, server};
use std::io::Read;
use std::time::Duration;

/// Asserts that nothing arrives on `raw` for a while.
fn assert_silent(raw: &mut Raw) {
    raw.0.set_read_timeout(Some(Duration::from_millis(150))).unwrap();
    let mut buf = [0u8; 64];
    match raw.0.read(&mut buf) {
        Ok(n) => panic!("unexpected reply: {:?}", String::from_utf8_lossy(&buf[..n])),
        Err(e) => assert!(matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut), "{e}"),
    }
    raw.0.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
}

#[test]
fn client_reply_off_and_skip_drop_replies() {
    let srv = server();
    let mut raw = srv.raw();
    // OFF: nothing comes back until ON, whose +OK is the only reply.
    raw.send(b"CLIENT REPLY OFF\r\nSET a 1\r\nGET a\r\nNOSUCHCMD\r\nCLIENT REPLY ON\r\n");
    raw.expect(b"+OK\r\n");
    raw.roundtrip(b"GET a\r\n", b"$1\r\n1\r\n");
    // SKIP: the next command's reply only.
    raw.send(b"CLIENT REPLY SKIP\r\nSET b 2\r\nGET b\r\n");
    raw.expect(b"$1\r\n2\r\n");
    // SKIP while OFF changes nothing.
    raw.send(b"CLIENT REPLY OFF\r\nCLIENT REPLY SKIP\r\nSET c 3\r\nCLIENT REPLY ON\r\nGET c\r\n");
    raw.expect(b"+OK\r\n$1\r\n3\r\n");
    assert_silent(&mut raw);
    let mut c = srv.client();
    assert_eq!(err(&mut c, &["CLIENT", "REPLY", "maybe"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["CLIENT", "REPLY"]), "ERR wrong number of arguments for 'client|reply' command");
}

#[test]
fn client_no_evict_sets_the_flag() {
    let srv = server();
    let mut c = srv.client();
    assert_eq!(q::<String>(&mut c, &["CLIENT", "NO-EVICT", "on"]), "OK");
    assert!(q::<String>(&mut c, &["CLIENT", "INFO"]).contains(" flags=e "));
    assert_eq!(q::<String>(&mut c, &["CLIENT", "NO-EVICT", "OFF"]), "OK");
    assert!(q::<String>(&mut c, &["CLIENT", "INFO"]).contains(" flags=N "));
    assert_eq!(err(&mut c, &["CLIENT", "NO-EVICT", "maybe"]), "ERR syntax error");
}

#[test]
fn client_pause_write_holds_writes_only() {
    let srv = server();
    let mut admin = srv.client();
    let mut reader = srv.client();
    let mut writer = srv.raw();
    let _: () = redis::cmd("SET").arg("k").arg("before").query(&mut admin).unwrap();
    assert_eq!(q::<String>(&mut admin, &["CLIENT", "PAUSE", "100000", "WRITE"]), "OK");
    // Reads go on; a write waits, and so do the commands behind it.
    assert_eq!(q::<String>(&mut reader, &["GET", "k"]), "before");
    writer.send(b"SET k after\r\nGET k\r\n");
    assert_silent(&mut writer);
    assert!(q::<String>(&mut admin, &["CLIENT", "LIST"]).contains("flags=b"), "the paused client shows as blocked");
    // EXEC of a queue with a write waits too; queuing itself does not.
    let mut tx = srv.raw();
    tx.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    tx.roundtrip(b"GET k\r\n", b"+QUEUED\r\n");
    tx.roundtrip(b"EXEC\r\n", b"*1\r\n$6\r\nbefore\r\n");
    assert_eq!(q::<String>(&mut reader, &["GET", "k"]), "before");
    assert_eq!(q::<String>(&mut admin, &["CLIENT", "UNPAUSE"]), "OK");
    writer.expect(b"+OK\r\n$5\r\nafter\r\n");
    assert_eq!(q::<String>(&mut reader, &["GET", "k"]), "after");
}

#[test]
fn client_pause_all_holds_everything_until_it_ends() {
    let srv = server();
    let mut admin = srv.client();
    let mut other = srv.raw();
    assert_eq!(q::<String>(&mut admin, &["CLIENT", "PAUSE", "300"]), "OK");
    let start = std::time::Instant::now();
    other.send(b"PING\r\n");
    assert_silent(&mut other);
    // Ends by itself.
    other.expect(b"+PONG\r\n");
    assert!(start.elapsed() >= Duration::from_millis(250), "answered after {:?}", start.elapsed());
    // A shorter pause does not cut a longer one short; ALL outranks WRITE.
    assert_eq!(q::<String>(&mut admin, &["CLIENT", "PAUSE", "100000", "ALL"]), "OK");
    let mut admin2 = srv.raw();
    admin2.send(b"CLIENT PAUSE 10 WRITE\r\n");
    assert_silent(&mut admin2);
}

#[test]
fn client_pause_errors() {
    let srv = server();
    let mut c = srv.client();
    assert_eq!(err(&mut c, &["CLIENT", "PAUSE", "abc"]), "ERR timeout is not an integer or out of range");
    assert_eq!(err(&mut c, &["CLIENT", "PAUSE", "-1"]), "ERR timeout is negative");
    assert_eq!(err(&mut c, &["CLIENT", "PAUSE", "10", "foo"]), "ERR CLIENT PAUSE mode must be WRITE or ALL");
    assert_eq!(
        err(&mut c, &["CLIENT", "PAUSE", "10", "write", "x"]),
        "ERR unknown subcommand or wrong number of arguments for 'pause'. Try CLIENT HELP."
    );
    assert_eq!(err(&mut c, &["CLIENT", "UNPAUSE", "x"]), "ERR wrong number of arguments for 'client|unpause' command");
    assert_eq!(q::<String>(&mut c, &["CLIENT", "UNPAUSE"]), "OK");
}
