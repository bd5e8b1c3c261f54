//! The wire protocol, byte for byte: inline commands, pipelining, partial
//! frames, and every protocol error Redis reports before closing.

mod common;
use common::{q, server, server_with};
use std::io::Write;
use std::time::Duration;

#[test]
fn inline_commands_work() {
    let s = server();
    let mut r = s.raw();
    r.roundtrip(b"PING\r\n", b"+PONG\r\n");
    r.roundtrip(b"set k \"a b\"\n", b"+OK\r\n");
    r.roundtrip(b"GET k\r\n", b"$3\r\na b\r\n");
    r.roundtrip(b"\r\n\r\nECHO 'it''s'\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n");
    assert_eq!(r.read_to_close(), b"");
}

#[test]
fn pipelined_bytes_in_one_write() {
    let s = server();
    let mut r = s.raw();
    r.roundtrip(
        b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$4\r\nINCR\r\n$1\r\na\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nz\r\n",
        b"+OK\r\n:2\r\n+PONG\r\n$-1\r\n",
    );
}

#[test]
fn frames_split_at_every_byte() {
    let s = server();
    let mut r = s.raw();
    let req = b"*3\r\n$3\r\nSET\r\n$5\r\nsplit\r\n$5\r\nvalue\r\n";
    for &b in req.iter() {
        r.send(&[b]);
        std::thread::sleep(Duration::from_millis(1));
    }
    r.expect(b"+OK\r\n");
    r.roundtrip(b"*2\r\n$3\r\nGET\r\n$5\r\nsplit\r\n", b"$5\r\nvalue\r\n");
}

#[test]
fn large_value_in_many_pieces() {
    let s = server();
    let mut r = s.raw();
    let value = vec![b'v'; 20 << 20];
    let mut req = format!("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n${}\r\n", value.len()).into_bytes();
    req.extend_from_slice(&value);
    req.extend_from_slice(b"\r\n");
    for chunk in req.chunks(64 * 1024) {
        r.send(chunk);
    }
    r.expect(b"+OK\r\n");
    let mut c = s.client();
    let got: Vec<u8> = q(&mut c, &["GET", "big"]);
    assert_eq!(got.len(), value.len());
}

/// Sends `req` and expects `-ERR Protocol error: <what>` and a close.
fn protocol_error(req: &[u8], what: &str) {
    let s = server();
    let mut r = s.raw();
    r.send(req);
    let got = r.read_to_close();
    assert_eq!(String::from_utf8_lossy(&got), format!("-ERR Protocol error: {what}\r\n"));
    // The server keeps serving others.
    let mut c = s.client();
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
}

#[test]
fn protocol_errors_reply_and_close() {
    protocol_error(b"*abc\r\n", "invalid multibulk length");
    protocol_error(b"*3000000000\r\n", "invalid multibulk length");
    protocol_error(b"*1\r\n$-1\r\n", "invalid bulk length");
    protocol_error(b"*1\r\n$9999999999\r\n", "invalid bulk length");
    protocol_error(b"*1\r\nX3\r\nfoo\r\n", "expected '$', got 'X'");
    protocol_error(b"SET k \"unterminated\r\n", "unbalanced quotes in request");
    protocol_error(&vec![b'a'; 70 * 1024], "too big inline request");
    let mut big = b"*".to_vec();
    big.extend(vec![b'9'; 70 * 1024]);
    protocol_error(&big, "too big mbulk count string");
    let mut big = b"*1\r\n$".to_vec();
    big.extend(vec![b'9'; 70 * 1024]);
    protocol_error(&big, "too big bulk count string");
}

#[test]
fn commands_before_a_protocol_error_still_run() {
    let s = server();
    let mut r = s.raw();
    r.send(b"SET before 1\r\n*1\r\n$x\r\n");
    assert_eq!(r.read_to_close(), b"+OK\r\n-ERR Protocol error: invalid bulk length\r\n");
    let mut c = s.client();
    assert_eq!(q::<String>(&mut c, &["GET", "before"]), "1");
}

#[test]
fn bulk_over_proto_max_bulk_len_is_rejected() {
    let s = server_with(|c| c.proto_max_bulk_len = 1024 * 1024);
    let mut r = s.raw();
    r.send(b"*2\r\n$4\r\nECHO\r\n$1048577\r\n");
    assert_eq!(r.read_to_close(), b"-ERR Protocol error: invalid bulk length\r\n");
}

#[test]
fn query_buffer_limit_closes_the_client() {
    let s = server_with(|c| c.client_query_buffer_limit = 1024 * 1024);
    let mut r = s.raw();
    // A bulk announced within limits but never finished: the buffer grows
    // past the query buffer limit and the client is dropped without reply.
    r.send(b"*2\r\n$4\r\nECHO\r\n$100000000\r\n");
    let chunk = vec![b'x'; 64 * 1024];
    let mut closed = false;
    for _ in 0..64 {
        if r.0.write_all(&chunk).is_err() {
            closed = true;
            break;
        }
    }
    if !closed {
        assert_eq!(r.read_to_close(), b"");
    }
    let mut c = s.client();
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
}

#[test]
fn half_frames_and_garbage_do_not_hurt_others() {
    let s = server();
    for junk in [&b"*2\r\n$3\r\nGET"[..], b"\x00\xff\xfe garbage", b"*1\r\n$4\r\nPI", b"$$$$\r\n"] {
        let mut r = s.raw();
        r.send(junk);
        drop(r);
    }
    let mut c = s.client();
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
}

#[test]
fn empty_multibulk_is_ignored() {
    let s = server();
    let mut r = s.raw();
    r.roundtrip(b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n", b"+PONG\r\n");
}

#[test]
fn client_that_does_not_read_replies_is_not_lost() {
    // 200k GETs of a 1 KB value produce ~200 MB of replies; the client
    // writes everything before reading anything. The server pauses that
    // client when its unsent output passes the limit, and the kernel's
    // buffers hold the rest of the requests until it drains.
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "v", &"x".repeat(1024)]);
    let mut r = s.raw();
    let n = 200_000;
    let writer = {
        let mut w = r.0.try_clone().unwrap();
        std::thread::spawn(move || {
            let req = b"*2\r\n$3\r\nGET\r\n$1\r\nv\r\n".repeat(1000);
            for _ in 0..n / 1000 {
                w.write_all(&req).unwrap();
            }
        })
    };
    // Start reading only once the server has had time to fill its limit.
    std::thread::sleep(Duration::from_millis(1500));
    let reply = format!("$1024\r\n{}\r\n", "x".repeat(1024)).into_bytes();
    for _ in 0..n {
        r.expect(&reply);
    }
    writer.join().unwrap();
}
