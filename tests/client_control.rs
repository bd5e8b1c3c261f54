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
    // The paused client shows as blocked, with the command it waits to
    // run, and counts in blocked_clients (as in Redis 7.0.15).
    let list: String = q(&mut admin, &["CLIENT", "LIST"]);
    let line = list.lines().find(|l| l.contains("flags=b")).expect(&list);
    assert!(line.contains(" cmd=set user=default "), "{line}");
    let info: String = q(&mut admin, &["INFO", "clients"]);
    assert!(info.contains("\r\nblocked_clients:1\r\n"), "{info}");
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
        "ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP."
    );
    // The subcommand as typed, as Redis 7.0.15 echoes it.
    assert_eq!(
        err(&mut c, &["CLIENT", "Pause", "10", "write", "x"]),
        "ERR unknown subcommand or wrong number of arguments for 'Pause'. Try CLIENT HELP."
    );
    assert_eq!(
        err(&mut c, &["CLIENT", "UnBLOCK", "a", "TIMEOUT", "GET"]),
        "ERR unknown subcommand or wrong number of arguments for 'UnBLOCK'. Try CLIENT HELP."
    );
    assert_eq!(err(&mut c, &["CLIENT", "UNBLOCK", "1", "x"]), "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
    assert_eq!(err(&mut c, &["CLIENT", "UNPAUSE", "x"]), "ERR wrong number of arguments for 'client|unpause' command");
    assert_eq!(q::<String>(&mut c, &["CLIENT", "UNPAUSE"]), "OK");
}

/// Sends `cmds` (inline, pipelined) on a fresh connection and expects
/// exactly `reply`, then silence.
fn pipeline(srv: &common::TestServer, cmds: &[&str], reply: &[u8]) {
    let mut raw = srv.raw();
    let mut req = Vec::new();
    for c in cmds {
        req.extend_from_slice(c.as_bytes());
        req.extend_from_slice(b"\r\n");
    }
    raw.send(&req);
    raw.expect(reply);
    assert_silent(&mut raw);
}

#[test]
fn client_reply_modes_combine_as_in_redis() {
    // Each reply recorded from Redis 7.0.15.
    let srv = server();
    // ON ends a SKIP: its +OK is the reply that comes.
    pipeline(&srv, &["CLIENT REPLY SKIP", "CLIENT REPLY ON", "ECHO a", "ECHO b"], b"+OK\r\n$1\r\na\r\n$1\r\nb\r\n");
    pipeline(
        &srv,
        &["CLIENT REPLY SKIP", "CLIENT REPLY OFF", "ECHO a", "CLIENT REPLY ON", "ECHO b"],
        b"+OK\r\n$1\r\nb\r\n",
    );
    pipeline(&srv, &["CLIENT REPLY SKIP", "CLIENT REPLY SKIP", "ECHO a", "ECHO b"], b"$1\r\nb\r\n");
    pipeline(
        &srv,
        &["CLIENT REPLY OFF", "CLIENT REPLY SKIP", "ECHO a", "CLIENT REPLY ON", "ECHO b"],
        b"+OK\r\n$1\r\nb\r\n",
    );
    pipeline(
        &srv,
        &["CLIENT REPLY OFF", "CLIENT REPLY OFF", "ECHO a", "CLIENT REPLY ON", "CLIENT REPLY ON", "ECHO b"],
        b"+OK\r\n+OK\r\n$1\r\nb\r\n",
    );
    pipeline(&srv, &["CLIENT REPLY ON", "ECHO a"], b"+OK\r\n$1\r\na\r\n");
    pipeline(
        &srv,
        &["CLIENT REPLY OFF", "CLIENT REPLY ON", "CLIENT REPLY SKIP", "CLIENT REPLY ON", "ECHO b"],
        b"+OK\r\n+OK\r\n$1\r\nb\r\n",
    );
    // Errors are skipped too, a failed CLIENT REPLY included.
    pipeline(&srv, &["CLIENT REPLY SKIP", "NOSUCH", "ECHO b"], b"$1\r\nb\r\n");
    pipeline(&srv, &["CLIENT REPLY SKIP", "CLIENT REPLY bad", "ECHO b"], b"$1\r\nb\r\n");
    pipeline(&srv, &["CLIENT REPLY OFF", "CLIENT REPLY bad", "CLIENT REPLY ON"], b"+OK\r\n");
    // Inside a transaction the mode changes between two replies of EXEC.
    pipeline(
        &srv,
        &["MULTI", "CLIENT REPLY OFF", "ECHO a", "EXEC", "ECHO b", "CLIENT REPLY ON"],
        b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n",
    );
    pipeline(
        &srv,
        &["MULTI", "CLIENT REPLY SKIP", "ECHO a", "EXEC", "ECHO b"],
        b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n$1\r\na\r\n",
    );
    pipeline(
        &srv,
        &["CLIENT REPLY OFF", "MULTI", "CLIENT REPLY ON", "ECHO a", "EXEC", "ECHO b"],
        b"+OK\r\n$1\r\na\r\n$1\r\nb\r\n",
    );
    pipeline(
        &srv,
        &["MULTI", "CLIENT REPLY SKIP", "CLIENT REPLY ON", "ECHO a", "EXEC"],
        b"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n$1\r\na\r\n",
    );
    // RESET ends OFF (its own reply is sent), not the SKIP of itself.
    pipeline(&srv, &["CLIENT REPLY OFF", "RESET", "ECHO a"], b"+RESET\r\n$1\r\na\r\n");
    pipeline(&srv, &["CLIENT REPLY SKIP", "RESET", "ECHO a"], b"$1\r\na\r\n");
}

#[test]
fn client_reply_off_still_sends_pubsub_pushes() {
    // Recorded from Redis 7.0.15: confirmations and messages are pushes,
    // which CLIENT REPLY OFF does not silence; PING's reply it does.
    let srv = server();
    let mut publisher = srv.client();
    let mut raw = srv.raw();
    raw.send(b"CLIENT REPLY OFF\r\nSUBSCRIBE a b\r\n");
    raw.expect(b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n");
    assert_eq!(q::<i64>(&mut publisher, &["PUBLISH", "a", "hi"]), 1);
    raw.expect(b"*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n");
    raw.send(b"PSUBSCRIBE p*\r\n");
    raw.expect(b"*3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n:3\r\n");
    assert_eq!(q::<i64>(&mut publisher, &["PUBLISH", "pq", "x"]), 1);
    raw.expect(b"*4\r\n$8\r\npmessage\r\n$2\r\np*\r\n$2\r\npq\r\n$1\r\nx\r\n");
    raw.send(b"UNSUBSCRIBE a\r\nPUNSUBSCRIBE\r\nPUNSUBSCRIBE\r\nPING\r\nSSUBSCRIBE s\r\n");
    raw.expect(b"*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:2\r\n*3\r\n$12\r\npunsubscribe\r\n$2\r\np*\r\n:1\r\n");
    raw.expect(b"*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:1\r\n*3\r\n$10\r\nssubscribe\r\n$1\r\ns\r\n:1\r\n");
    assert_eq!(q::<i64>(&mut publisher, &["SPUBLISH", "s", "y"]), 1);
    raw.expect(b"*3\r\n$8\r\nsmessage\r\n$1\r\ns\r\n$1\r\ny\r\n");
    raw.send(b"SUNSUBSCRIBE\r\nUNSUBSCRIBE\r\nCLIENT REPLY ON\r\nPING\r\n");
    raw.expect(b"*3\r\n$12\r\nsunsubscribe\r\n$1\r\ns\r\n:0\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n");
    raw.expect(b"+OK\r\n+PONG\r\n");
    assert_silent(&mut raw);
    // SKIP does not silence the confirmation either.
    pipeline(
        &srv,
        &["CLIENT REPLY SKIP", "SUBSCRIBE a", "UNSUBSCRIBE"],
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n",
    );
}

#[test]
fn client_reply_off_still_sends_resp3_pushes() {
    // A RESP3 client (the `redis` crate) that turns replies off keeps
    // getting its subscriptions confirmed and its messages.
    let srv = server();
    let mut publisher = srv.client();
    let mut raw = srv.raw();
    raw.hello3();
    raw.send(b"CLIENT REPLY OFF\r\nSUBSCRIBE a\r\n");
    raw.expect(b">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n");
    assert_eq!(q::<i64>(&mut publisher, &["PUBLISH", "a", "hi"]), 1);
    raw.expect(b">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n");
    // Its own PUBLISH: the message comes, the count does not.
    raw.send(b"PUBLISH a x\r\nPING\r\nCLIENT REPLY ON\r\n");
    raw.expect(b">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nx\r\n+OK\r\n");
    assert_silent(&mut raw);

    let (mut con, rx) = common::resp3(&srv);
    redis::cmd("CLIENT").arg("REPLY").arg("OFF").exec(&mut con).ok();
    con.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    // The connection sees no reply for SUBSCRIBE (it times out), but the
    // confirmation arrives as a push.
    let _ = redis::cmd("SUBSCRIBE").arg("news").exec(&mut con);
    let start = std::time::Instant::now();
    while q::<i64>(&mut publisher, &["PUBLISH", "news", "hello"]) == 0 {
        assert!(start.elapsed() < Duration::from_secs(5), "never subscribed");
    }
    let mut kinds = Vec::new();
    while kinds.len() < 2 && start.elapsed() < Duration::from_secs(5) {
        let _ = redis::cmd("PING").exec(&mut con);
        while let Ok(p) = rx.try_recv() {
            kinds.push(p.kind.clone());
        }
    }
    assert_eq!(kinds[..2], [redis::PushKind::Subscribe, redis::PushKind::Message], "{kinds:?}");
}

#[test]
fn client_reply_skip_outlives_a_blocking_wait() {
    // Redis 7.0.15 drops the reply that ends the wait, timeout or data;
    // under OFF the timeout reply is dropped too.
    let srv = server();
    let mut raw = srv.raw();
    raw.send(b"CLIENT REPLY SKIP\r\nBLPOP q 0.2\r\nECHO a\r\n");
    raw.expect(b"$1\r\na\r\n");
    raw.send(b"CLIENT REPLY SKIP\r\nBLPOP q2 0\r\nECHO b\r\n");
    assert_silent(&mut raw);
    let mut c = srv.client();
    assert_eq!(q::<i64>(&mut c, &["RPUSH", "q2", "x"]), 1);
    raw.expect(b"$1\r\nb\r\n");
    assert_eq!(q::<i64>(&mut c, &["LLEN", "q2"]), 0, "the skipped BLPOP popped");
    raw.send(b"CLIENT REPLY OFF\r\nBLPOP q 0.2\r\n");
    assert_silent(&mut raw);
    std::thread::sleep(Duration::from_millis(300));
    raw.roundtrip(b"CLIENT REPLY ON\r\n", b"+OK\r\n");
    assert_silent(&mut raw);
}

/// CLIENT PAUSE WRITE holds what Redis 7.0.15 holds: writes and commands
/// that may replicate (EVAL/EVALSHA/FCALL, PFCOUNT), a script with a
/// shebang or a function as its flags declare. Recorded side by side with
/// redis-server (its tcl tests "Test scripts are blocked by pause RO",
/// "Test RO scripts are not blocked by pause RO").
#[test]
fn client_pause_write_holds_scripts_by_their_flags() {
    let srv = server();
    let mut admin = srv.client();
    let lib = "#!lua name=f1\nredis.register_function{function_name='ro', callback=function() return 'hello' end, flags={'no-writes'}}";
    let _: String = q(&mut admin, &["FUNCTION", "LOAD", lib]);
    assert_eq!(q::<String>(&mut admin, &["CLIENT", "PAUSE", "100000", "WRITE"]), "OK");
    let held: &[&[&str]] =
        &[&["EVAL", "return 1", "0"], &["EVAL", "#!lua\nreturn 1", "0"], &["FCALL", "nosuch", "0"], &["PFCOUNT", "x"]];
    let mut waiting = Vec::new();
    for cmd in held {
        let mut r = srv.raw();
        r.send(&common::resp(cmd));
        waiting.push(r);
    }
    let mut c = srv.client();
    assert_eq!(q::<i64>(&mut c, &["EVAL", "#!lua flags=no-writes\nreturn 3", "0"]), 3);
    assert_eq!(q::<String>(&mut c, &["FCALL", "ro", "0"]), "hello");
    assert_eq!(q::<i64>(&mut c, &["EVAL_RO", "return 1", "0"]), 1);
    common::wait_blocked(&mut admin, 4);
    assert_eq!(q::<String>(&mut admin, &["CLIENT", "UNPAUSE"]), "OK");
    waiting[0].expect(b":1\r\n");
    waiting[1].expect(b":1\r\n");
    waiting[2].expect(b"-ERR Function not found\r\n");
    waiting[3].expect(b":0\r\n");
}
