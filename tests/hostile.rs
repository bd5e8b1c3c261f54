//! Hostile and broken clients at a small scale (issue #17; the full-scale
//! runs against redis-server are scripts/hostile_clients.py, results in
//! docs/hostile-clients.md): too many connections, slow clients, a client
//! that never reads its replies, reset and half-closed connections,
//! garbage, and bulk headers whose bytes never come. Each test checks the
//! bytes Redis 7.0.15 sends, that another client is still served
//! afterwards, and that the clients' memory (INFO `mem_clients_normal`)
//! stays bounded and comes back.

mod common;

use common::{q, server_with};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// What one remaining client's buffers may grow by between two readings
/// of INFO (its reply buffer holds INFO's text).
const SLACK: i64 = 32 * 1024;

/// A numeric field of INFO.
fn info(c: &mut redis::Connection, field: &str) -> i64 {
    let text: String = q(c, &["INFO", "everything"]);
    let line = text.lines().find_map(|l| l.strip_prefix(&format!("{field}:")));
    line.unwrap_or_else(|| panic!("no {field} in INFO")).trim().parse().unwrap()
}

/// Waits up to 10 s for `cond` on INFO field `field`; its last value.
fn wait_info(c: &mut redis::Connection, field: &str, cond: impl Fn(i64) -> bool) -> i64 {
    let start = Instant::now();
    loop {
        let v = info(c, field);
        if cond(v) || start.elapsed() > Duration::from_secs(10) {
            return v;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What the peer sends until it closes; `None` if it is still open after
/// `wait`.
fn until_close(s: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return Some(out),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return None,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Many connection attempts at once over `maxclients`: the clients the
/// server has keep being served, each one too many gets Redis's error and
/// is closed, and the clients' memory comes back once they are gone.
#[test]
fn connections_over_maxclients_get_redis_error_and_memory_returns() {
    let s = server_with(|c| c.maxclients = 20);
    let mut c = s.client();
    let base = wait_info(&mut c, "mem_clients_normal", |_| true);
    let conns: Vec<TcpStream> = (0..300).map(|_| TcpStream::connect(s.handle.addr).unwrap()).collect();
    // The one client there first still answers while they pour in.
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
    std::thread::sleep(Duration::from_millis(300));
    let (mut kept, mut refused) = (Vec::new(), 0);
    for mut conn in conns {
        conn.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 64];
        match conn.read(&mut buf) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => kept.push(conn),
            Ok(n) => {
                assert_eq!(&buf[..n], b"-ERR max number of clients reached\r\n");
                conn.set_nonblocking(false).unwrap();
                assert_eq!(until_close(&mut conn, Duration::from_secs(5)), Some(Vec::new()));
                refused += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!((kept.len(), refused), (19, 281));
    for conn in &mut kept {
        conn.set_nonblocking(false).unwrap();
        conn.write_all(b"PING\r\n").unwrap();
        let mut buf = [0u8; 7];
        conn.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"+PONG\r\n");
    }
    assert_eq!(info(&mut c, "connected_clients"), 20);
    assert_eq!(info(&mut c, "rejected_connections"), 281);
    drop(kept);
    assert_eq!(wait_info(&mut c, "connected_clients", |n| n == 1), 1);
    // The one client left holds what it held (its buffers may have grown
    // by an INFO reply); nothing of the 300 is left.
    let after = wait_info(&mut c, "mem_clients_normal", |m| m <= base + SLACK);
    assert!(after <= base + SLACK, "clients' memory {after}, {base} before");
}

/// A command header whose bulk never comes, as many slow clients send it.
const NEVER_DONE: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000000\r\n";

/// Slow clients trickling a command that never ends: with `timeout 0`
/// they stay, each holding only what it sent (the query buffer grows with
/// the bytes that arrived, and `client-query-buffer-limit` ends one that
/// sends too much), and a PING loop beside them keeps its latency.
#[test]
fn slow_clients_are_bounded_and_do_not_slow_others() {
    let s = server_with(|c| c.client_query_buffer_limit = 1 << 20);
    let mut c = s.client();
    let mut slow: Vec<TcpStream> = (0..50).map(|_| TcpStream::connect(s.handle.addr).unwrap()).collect();
    for conn in &mut slow {
        conn.write_all(NEVER_DONE).unwrap();
    }
    let mut worst = Duration::ZERO;
    for round in 0..20 {
        for conn in &mut slow {
            conn.write_all(&[b'x'; 10][..1 + round % 10]).unwrap();
        }
        let t = Instant::now();
        assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
        worst = worst.max(t.elapsed());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(worst < Duration::from_millis(500), "a PING took {worst:?} beside slow clients");
    assert_eq!(info(&mut c, "connected_clients"), 51);
    // 50 clients of a few hundred bytes each, not 50 MB of announced bulks.
    let mem = info(&mut c, "mem_clients_normal");
    assert!(mem < 50 * 64 * 1024, "mem_clients_normal {mem}");
    // One that sends past client-query-buffer-limit is closed, no reply.
    let mut big = TcpStream::connect(s.handle.addr).unwrap();
    big.write_all(b"*2\r\n$3\r\nGET\r\n$100000000\r\n").unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..32 {
        if big.write_all(&chunk).is_err() {
            break;
        }
    }
    assert_eq!(until_close(&mut big, Duration::from_secs(5)), Some(Vec::new()));
    assert_eq!(info(&mut c, "connected_clients"), 51);
    drop(slow);
    assert_eq!(wait_info(&mut c, "connected_clients", |n| n == 1), 1);
}

/// With `timeout 1` a client stalled in the middle of a command is
/// closed without a word, as Redis closes it, while one that keeps
/// sending (even a byte at a time) stays.
#[test]
fn stalled_clients_are_closed_by_timeout() {
    let s = server_with(|c| c.timeout = 1);
    let mut stalled: Vec<TcpStream> = (0..20).map(|_| TcpStream::connect(s.handle.addr).unwrap()).collect();
    for conn in &mut stalled {
        conn.write_all(NEVER_DONE).unwrap();
    }
    // A byte every 400 ms: two PINGs over 4.8 s.
    let mut busy = TcpStream::connect(s.handle.addr).unwrap();
    let mut trickle = busy.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        for b in b"PING\r\nPING\r\n" {
            trickle.write_all(&[*b]).unwrap();
            std::thread::sleep(Duration::from_millis(400));
        }
    });
    let started = Instant::now();
    for (i, conn) in stalled.iter_mut().enumerate() {
        let wait = Duration::from_secs(6).saturating_sub(started.elapsed());
        assert_eq!(until_close(conn, wait), Some(Vec::new()), "stalled client {i}");
    }
    // Redis compares whole seconds (idle: more than `timeout` of them), so
    // a client may go after a little more than 1 s.
    assert!(started.elapsed() >= Duration::from_millis(900), "closed after {:?}", started.elapsed());
    writer.join().unwrap();
    let mut buf = [0u8; 14];
    busy.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"+PONG\r\n+PONG\r\n");
    assert_eq!(q::<String>(&mut s.client(), &["PING"]), "PONG");
}

/// A client pipelining GETs of a 1 MB value without reading any reply:
/// `client-output-buffer-limit normal` closes it once its pending output
/// passes the hard limit; the others are served and the memory it held
/// is given back.
#[test]
fn unread_big_replies_hit_the_output_buffer_limit() {
    let s = server_with(|c| c.output_limits[0] = (4 << 20, 0, 0));
    let mut c = s.client();
    let base = info(&mut c, "mem_clients_normal");
    q::<()>(&mut c, &["SET", "big", &"v".repeat(1 << 20)]);
    let mut hog = TcpStream::connect(s.handle.addr).unwrap();
    hog.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    for _ in 0..64 {
        if hog.write_all(b"GET big\r\n").is_err() {
            break;
        }
    }
    let mut writer = c;
    assert_eq!(wait_info(&mut writer, "connected_clients", |n| n == 1), 1, "the hog is closed");
    // It got at most what fits under the limit plus the socket buffers.
    let got = until_close(&mut hog, Duration::from_secs(5)).expect("closed");
    assert!(got.len() < 32 << 20, "{} bytes sent", got.len());
    assert_eq!(q::<i64>(&mut writer, &["STRLEN", "big"]), 1 << 20);
    let after = wait_info(&mut writer, "mem_clients_normal", |m| m <= base + 64 * 1024);
    assert!(after <= base + 64 * 1024, "mem_clients_normal {after}, {base} before");
}

/// Redis's Tcl tests "No response for single command / for multi commands
/// in pipeline if client output buffer hard limit is enforced" and
/// "Execute transactions completely even if ...": the reply that crosses
/// the hard limit is never sent (nor anything after it in the batch: the
/// rest of the pipeline does not run), a transaction still runs whole, and
/// the client is closed.
#[test]
fn the_reply_over_the_hard_limit_is_never_sent() {
    let s = server_with(|c| c.output_limits[0] = (100_000, 0, 0));
    let mut c = s.client();
    let item = "x".repeat(1000);
    for _ in 0..150 {
        q::<i64>(&mut c, &["LPUSH", "mylist", &item]);
    }
    q::<()>(&mut c, &["SET", "bigkey", &"x".repeat(10_000)]);
    // One command whose reply is 150 KB: nothing of it arrives.
    let mut one = TcpStream::connect(s.handle.addr).unwrap();
    one.write_all(b"LRANGE mylist 0 -1\r\n").unwrap();
    assert_eq!(until_close(&mut one, Duration::from_secs(5)).expect("closed").len(), 0, "bytes of the reply sent");
    // A pipeline in one write: what the commands before the crossing
    // replied is not sent either, and the commands after it do not run.
    let mut buf = String::new();
    for i in 0..15 {
        buf.push_str(&format!("SET p{i} {i}\r\nGET p{i}\r\nDEL p{i}\r\nGET bigkey\r\n"));
    }
    buf.push_str("SET after-the-limit 1\r\n");
    let mut many = TcpStream::connect(s.handle.addr).unwrap();
    many.write_all(buf.as_bytes()).unwrap();
    assert_eq!(until_close(&mut many, Duration::from_secs(5)).expect("closed").len(), 0, "bytes of the replies sent");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "after-the-limit", "p14"]), 0);
    // A transaction runs whole; its reply is not sent.
    let mut tx = TcpStream::connect(s.handle.addr).unwrap();
    tx.write_all(b"SET k1 v1\r\nMULTI\r\nSET k2 v2\r\nGET k2\r\nLRANGE mylist 0 -1\r\nSET k3 v3\r\nDEL k1\r\nEXEC\r\n")
        .unwrap();
    let got = until_close(&mut tx, Duration::from_secs(5)).expect("closed");
    assert!(!got.ends_with(b":1\r\n"), "EXEC's reply was sent: {} bytes", got.len());
    let v: (Option<String>, String, String) = redis::pipe().get("k1").get("k2").get("k3").query(&mut c).unwrap();
    assert_eq!(v, (None, "v2".into(), "v3".into()));
}

/// With no output limit (Redis's default for normal clients) but
/// `maxmemory-clients`, the same client is evicted; under CLIENT NO-EVICT
/// it is kept, and ferrokv stops running its commands while 64 MB of its
/// output wait, so its memory stays bounded and every reply arrives in the
/// end.
#[test]
fn unread_big_replies_under_maxmemory_clients_and_no_evict() {
    let s = server_with(|c| c.maxmemory_clients = 8 << 20);
    let mut c = s.client();
    q::<()>(&mut c, &["CLIENT", "NO-EVICT", "on"]);
    q::<()>(&mut c, &["SET", "big", &"v".repeat(1 << 20)]);
    let mut hog = TcpStream::connect(s.handle.addr).unwrap();
    hog.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    for _ in 0..64 {
        if hog.write_all(b"GET big\r\n").is_err() {
            break;
        }
    }
    assert!(until_close(&mut hog, Duration::from_secs(5)).is_some(), "evicted");
    assert_eq!(info(&mut c, "evicted_clients"), 1);
    // The same under NO-EVICT: kept, bounded, served in full.
    let mut kept = TcpStream::connect(s.handle.addr).unwrap();
    kept.write_all(b"CLIENT NO-EVICT on\r\n").unwrap();
    let mut ok = [0u8; 5];
    kept.read_exact(&mut ok).unwrap();
    assert_eq!(&ok, b"+OK\r\n");
    // 100 MB of replies asked: ferrokv stops running the client's commands
    // once 64 MB wait unsent (Redis would keep going, its memory growing
    // with every reply), so the buffer stays under twice that.
    let n = 100;
    kept.write_all(&b"GET big\r\n".repeat(n)).unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    let mem = info(&mut c, "mem_clients_normal");
    assert!(mem < 140 << 20, "mem_clients_normal {mem} with {n} MB of replies pending");
    assert_eq!(info(&mut c, "evicted_clients"), 1);
    let reply_len = format!("$1048576\r\n{}\r\n", "v".repeat(1 << 20)).len();
    let mut all = vec![0u8; reply_len * n];
    kept.read_exact(&mut all).unwrap();
    assert!(all.starts_with(b"$1048576\r\nvvv") && all.ends_with(b"vvv\r\n"));
}

/// A reset (SO_LINGER 0) in the middle of a command and a half-close
/// after one: the reset client is dropped, the half-closed one gets its
/// reply then the close, as from Redis; the others carry on.
#[test]
fn reset_and_half_closed_connections() {
    let s = server_with(|_| {});
    let mut c = s.client();
    for _ in 0..20 {
        let conn = TcpStream::connect(s.handle.addr).unwrap();
        (&conn).write_all(b"*2\r\n$3\r\nGET\r\n$10\r\nabc").unwrap();
        socket2::SockRef::from(&conn).set_linger(Some(Duration::ZERO)).unwrap();
        drop(conn);
    }
    assert_eq!(wait_info(&mut c, "connected_clients", |n| n == 1), 1);
    let mut half = TcpStream::connect(s.handle.addr).unwrap();
    half.write_all(b"SET k v\r\nGET k\r\n").unwrap();
    half.shutdown(Shutdown::Write).unwrap();
    assert_eq!(until_close(&mut half, Duration::from_secs(5)).as_deref(), Some(&b"+OK\r\n$1\r\nv\r\n"[..]));
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "v");
    assert_eq!(wait_info(&mut c, "connected_clients", |n| n == 1), 1);
}

/// Garbage after a valid frame: the frame is answered, then Redis's
/// protocol error, then the close. An inline line with a NUL before its
/// newline is never a line for Redis (it looks for the newline with
/// `strchr`): no reply, until the inline limit's error.
#[test]
fn garbage_after_a_valid_frame() {
    let s = server_with(|_| {});
    let mut c = s.client();
    let cases: [(&[u8], &[u8]); 4] = [
        (b"*1\r\n$4\r\nPING\r\n*abc\r\n", b"+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*1\r\n$4\r\nPING\r\n*1\r\nfoo\r\n", b"+PONG\r\n-ERR Protocol error: expected '$', got 'f'\r\n"),
        (b"PING\r\n*1\r\n$-5\r\n", b"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n"),
        (b"PING\r\nset \"a\r\n", b"+PONG\r\n-ERR Protocol error: unbalanced quotes in request\r\n"),
    ];
    for (req, reply) in cases {
        let mut conn = TcpStream::connect(s.handle.addr).unwrap();
        conn.write_all(req).unwrap();
        let got = until_close(&mut conn, Duration::from_secs(5)).expect("closed");
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(reply));
    }
    let mut conn = TcpStream::connect(s.handle.addr).unwrap();
    conn.write_all(b"PING\r\n\x00\r\nPING\r\n").unwrap();
    let mut pong = [0u8; 7];
    conn.read_exact(&mut pong).unwrap();
    assert_eq!(&pong, b"+PONG\r\n");
    assert_eq!(until_close(&mut conn, Duration::from_millis(500)), None, "no reply, still open");
    conn.write_all(&vec![b'x'; 70 * 1024]).unwrap();
    let got = until_close(&mut conn, Duration::from_secs(5)).expect("closed");
    assert_eq!(String::from_utf8_lossy(&got), "-ERR Protocol error: too big inline request\r\n");
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
}

/// Bulk headers announcing 512 MB whose bytes never come: nothing is
/// allocated for what has not arrived, other clients are served, and the
/// memory comes back when they leave. One more byte of announced length
/// than `proto-max-bulk-len` gets Redis's error.
#[test]
fn huge_bulk_headers_that_never_arrive() {
    let s = server_with(|_| {});
    let mut c = s.client();
    let base = info(&mut c, "mem_clients_normal");
    let mut conns: Vec<TcpStream> = (0..20).map(|_| TcpStream::connect(s.handle.addr).unwrap()).collect();
    for conn in &mut conns {
        conn.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\n").unwrap();
        conn.write_all(&[b'x'; 4096]).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
    let mem = info(&mut c, "mem_clients_normal");
    assert!(mem < base + 20 * 256 * 1024, "mem_clients_normal {mem}, {base} before");
    let mut over = TcpStream::connect(s.handle.addr).unwrap();
    over.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870913\r\n").unwrap();
    let got = until_close(&mut over, Duration::from_secs(5)).expect("closed");
    assert_eq!(got, b"-ERR Protocol error: invalid bulk length\r\n");
    drop(conns);
    assert_eq!(wait_info(&mut c, "connected_clients", |n| n == 1), 1);
    let after = wait_info(&mut c, "mem_clients_normal", |m| m <= base + SLACK);
    assert!(after <= base + SLACK, "mem_clients_normal {after}, {base} before");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]), 0);
}

/// Found by the `acl` fuzz target: a selector whose key pattern holds a
/// parenthesis is listed in a form that does not read back (ACL LOAD would
/// see a selector `(~)` and a stray `-@all)`). redis-server 7.0.15 lists
/// it the same way, so ferrokv does too; the target now leaves such users
/// out of its round-trip check.
#[test]
fn acl_list_of_a_pattern_with_a_parenthesis_is_redis_own() {
    let s = server_with(|_| {});
    let mut c = s.client();
    q::<()>(&mut c, &["ACL", "SETUSER", "x", "(~))"]);
    q::<()>(&mut c, &["ACL", "SETUSER", "y", "(~a)b)"]);
    let list: Vec<String> = q(&mut c, &["ACL", "LIST"]);
    assert_eq!(
        list,
        [
            "user default on nopass ~* &* +@all",
            "user x off resetchannels -@all (~) resetchannels -@all)",
            "user y off resetchannels -@all (~a)b resetchannels -@all)",
        ]
    );
}

/// More connections waiting than one loop turn accepts (Redis's
/// MAX_ACCEPTS_PER_CALL, 1,000): the turn takes 1,000 and the next turns
/// the rest, without a new connection to wake the loop. The server sleeps
/// (DEBUG SLEEP) while 1,200 connect, so they all wait in the backlog.
#[test]
fn a_backlog_over_one_turns_accepts_is_accepted_in_the_next_turns() {
    // 1,200 sockets on each side, both in this process.
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit with a valid rlimit struct.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    if lim.rlim_max < 4096 {
        eprintln!("skipped: the hard limit of open files is {} (< 4096)", lim.rlim_max);
        return;
    }
    if lim.rlim_cur < 4096 {
        lim.rlim_cur = 4096;
        // SAFETY: as above.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    }
    let s = server_with(|c| {
        c.tcp_backlog = 2048;
        c.maxclients = 2000;
        c.enable_debug_command = "yes".into();
    });
    let mut c = s.client();
    let addr = s.handle.addr;
    let sleeper = std::thread::spawn(move || {
        let _: () = q(&mut c, &["DEBUG", "SLEEP", "1"]);
        c
    });
    std::thread::sleep(Duration::from_millis(200));
    let mut conns: Vec<TcpStream> = (0..1200).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let mut c = sleeper.join().unwrap();
    for conn in &mut conns {
        conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        conn.write_all(b"PING\r\n").unwrap();
    }
    for conn in &mut conns {
        let mut buf = [0u8; 7];
        conn.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"+PONG\r\n");
    }
    assert_eq!(info(&mut c, "connected_clients"), 1201);
}
