//! Busy scripts (#19): a script or function running past
//! `busy-reply-threshold` (`lua-time-limit`) lets the loop answer the other
//! clients, `-BUSY` to all but the `allow_busy` commands; SCRIPT KILL and
//! FUNCTION KILL stop one that has not written; SHUTDOWN NOSAVE ends the
//! server. Every expected reply was recorded from redis-server 7.0.15 with
//! the same commands in the same order (`CONFIG SET busy-reply-threshold
//! 100`, a second and third connection).

mod common;

use common::{Raw, check, resp};
use std::io::Read;
use std::time::{Duration, Instant};

const BUSY_EVAL: &[u8] = b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n";
const BUSY_FUNCTION: &[u8] =
    b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n";
const NOTBUSY: &[u8] = b"-NOTBUSY No scripts in execution right now.\r\n";
const UNKILLABLE: &[u8] = b"-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n";
const SPIN: &str = "local i=0 while true do i=i+1 end";
const LIBRARY: &str = "#!lua name=lib\nredis.register_function('spin', function() while true do end end)\nredis.register_function('wspin', function(k) redis.call('set', k[1], 'v') while true do end end)";

/// Sends PING until the answer is a `-BUSY` error (a PING read before the
/// script started gets PONG); returns that error line.
fn wait_busy(raw: &mut Raw) -> Vec<u8> {
    let start = Instant::now();
    loop {
        raw.send(b"PING\r\n");
        let line = read_line(raw);
        if line.starts_with(b"-BUSY") {
            return line;
        }
        assert_eq!(line, b"+PONG\r\n");
        assert!(start.elapsed() < Duration::from_secs(20), "the script never got busy");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn read_line(raw: &mut Raw) -> Vec<u8> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        raw.0.read_exact(&mut byte).unwrap();
        line.push(byte[0]);
    }
    line
}

/// Sends each command and compares its whole reply with Redis's bytes
/// (`check` without its closing PING, which is BUSY here).
fn replies(raw: &mut Raw, cases: &[(&[&str], &[u8])]) {
    for (args, want) in cases {
        raw.send(&resp(args));
        raw.expect(want);
    }
}

fn set_threshold(raw: &mut Raw, name: &str) {
    raw.roundtrip(&resp(&["config", "set", name, "100"]), b"+OK\r\n");
}

#[test]
fn a_busy_eval_answers_busy_and_script_kill_stops_it() {
    let s = common::server();
    let mut setup = s.raw();
    set_threshold(&mut setup, "busy-reply-threshold");
    setup.roundtrip(&resp(&["config", "get", "lua-time-limit"]), b"*2\r\n$14\r\nlua-time-limit\r\n$3\r\n100\r\n");
    // Idle: nothing to kill.
    check(&mut setup, &[(&["script", "kill"], NOTBUSY), (&["function", "kill"], NOTBUSY)]);
    let mut a = s.raw();
    // The caller's next command waits for the script.
    let mut sent = resp(&["eval", SPIN, "0"]);
    sent.extend_from_slice(&resp(&["ping"]));
    a.send(&sent);
    let mut b = s.raw();
    assert_eq!(wait_busy(&mut b), BUSY_EVAL);
    replies(
        &mut b,
        &[
            (&["get", "x"], BUSY_EVAL),
            (&["set", "x", "1"], BUSY_EVAL),
            (&["nosuchcmd"], b"-ERR unknown command 'nosuchcmd', with args beginning with: \r\n"),
            (&["get"], b"-ERR wrong number of arguments for 'get' command\r\n"),
            (&["info"], BUSY_EVAL),
            (&["client", "id"], BUSY_EVAL),
            (&["function", "stats"], BUSY_EVAL),
            (&["function", "kill"], BUSY_EVAL),
            (&["multi"], b"+OK\r\n"),
            (&["get", "x"], BUSY_EVAL),
            (
                &["exec"],
                b"-EXECABORT Transaction discarded because of: BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n",
            ),
            (&["multi"], b"+OK\r\n"),
            (&["discard"], b"+OK\r\n"),
            (&["watch", "x"], b"+OK\r\n"),
            (&["unwatch"], b"+OK\r\n"),
            (
                &["auth", "nope"],
                b"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n",
            ),
            (&["auth", "a", "b"], b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
            (&["reset"], b"+RESET\r\n"),
            (&["shutdown"], BUSY_EVAL),
            (&["shutdown", "save"], BUSY_EVAL),
            (&["script", "flush"], BUSY_EVAL),
            (&["eval", "return 1", "0"], BUSY_EVAL),
        ],
    );
    b.roundtrip(b"PING\r\n", BUSY_EVAL);
    b.roundtrip(&resp(&["hello", "2"]), b"*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n");
    let mut rest = vec![0; 200];
    let n = b.0.read(&mut rest).unwrap();
    assert!(rest[..n].ends_with(b"$7\r\nmodules\r\n*0\r\n"));
    // A connection made now is accepted and answered.
    let mut c = s.raw();
    c.roundtrip(b"PING\r\n", BUSY_EVAL);
    // The caller's input arriving meanwhile waits for the script's end.
    a.send(&resp(&["echo", "later"]));
    std::thread::sleep(Duration::from_millis(50));
    b.roundtrip(&resp(&["script", "kill"]), b"+OK\r\n");
    a.expect(b"-ERR Script killed by user with SCRIPT KILL... script: 653db1ceb7ef061910af88dc7ebf80737358169d, on @user_script:1.\r\n+PONG\r\n$5\r\nlater\r\n");
    check(&mut b, &[(&["script", "kill"], NOTBUSY), (&["function", "kill"], NOTBUSY), (&["ping"], b"+PONG\r\n")]);
    c.roundtrip(b"PING\r\n", b"+PONG\r\n");
    // The rejections were counted as Redis counts them.
    let info = String::from_utf8(info(&mut b, "errorstats")).unwrap();
    assert!(info.contains("errorstat_BUSY:count=14\r\n"), "{info}");
    assert!(info.contains("errorstat_EXECABORT:count=1\r\n"), "{info}");
}

fn info(raw: &mut Raw, section: &str) -> Vec<u8> {
    raw.send(&resp(&["info", section]));
    let head = read_line(raw);
    let len: usize = std::str::from_utf8(&head[1..head.len() - 2]).unwrap().parse().unwrap();
    let mut body = vec![0; len + 2];
    raw.0.read_exact(&mut body).unwrap();
    body
}

#[test]
fn function_kill_stops_a_busy_function() {
    let s = common::server();
    let mut setup = s.raw();
    set_threshold(&mut setup, "lua-time-limit");
    setup.roundtrip(&resp(&["function", "load", LIBRARY]), b"$3\r\nlib\r\n");
    let mut a = s.raw();
    a.send(&resp(&["fcall", "spin", "0"]));
    let mut b = s.raw();
    assert_eq!(wait_busy(&mut b), BUSY_FUNCTION);
    b.roundtrip(&resp(&["script", "kill"]), BUSY_FUNCTION);
    // FUNCTION STATS names the running function and its FCALL.
    b.send(&resp(&["function", "stats"]));
    b.expect(b"*4\r\n$14\r\nrunning_script\r\n*6\r\n$4\r\nname\r\n$4\r\nspin\r\n$7\r\ncommand\r\n*3\r\n$5\r\nfcall\r\n$4\r\nspin\r\n$1\r\n0\r\n$11\r\nduration_ms\r\n");
    let ms = read_line(&mut b);
    let ms: u64 = std::str::from_utf8(&ms[1..ms.len() - 2]).unwrap().parse().unwrap();
    assert!(ms >= 100, "{ms}");
    b.expect(
        b"$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:2\r\n",
    );
    b.roundtrip(&resp(&["get", "x"]), BUSY_FUNCTION);
    b.roundtrip(&resp(&["function", "kill"]), b"+OK\r\n");
    a.expect(b"-ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.\r\n");
    check(&mut b, &[(&["function", "kill"], NOTBUSY), (
                &["function", "stats"],
                b"*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:2\r\n",
            )]);
}

#[test]
fn pcall_does_not_catch_the_kill() {
    let s = common::server();
    let mut setup = s.raw();
    set_threshold(&mut setup, "busy-reply-threshold");
    let mut a = s.raw();
    let script = "local i = 0\nwhile true do\n  pcall(function() while true do i = i + 1 end end)\nend";
    a.send(&resp(&["eval", script, "0"]));
    let mut b = s.raw();
    assert_eq!(wait_busy(&mut b), BUSY_EVAL);
    b.roundtrip(&resp(&["script", "kill"]), b"+OK\r\n");
    a.expect(b"-ERR Script killed by user with SCRIPT KILL... script: b484fa70c9ecd80ec5a3e44646128d1832e30da4, on @user_script:3.\r\n");
    // The next scripts run as usual (the hook is the counting one again).
    check(
        &mut a,
        &[(&["eval", "return redis.pcall('get', 'x')", "0"], b"$-1\r\n"), (&["eval", "return 1", "0"], b":1\r\n")],
    );
}

#[test]
fn a_busy_script_that_ends_replies_normally() {
    let s = common::server();
    let mut setup = s.raw();
    setup.roundtrip(&resp(&["config", "set", "busy-reply-threshold", "20"]), b"+OK\r\n");
    let mut a = s.raw();
    a.send(&resp(&["eval", "local n = 0 for i = 1, 40000000 do n = n + 1 end return n", "0"]));
    let mut b = s.raw();
    assert_eq!(wait_busy(&mut b), BUSY_EVAL);
    a.expect(b":40000000\r\n");
    b.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn no_busy_state_with_a_zero_threshold() {
    let s = common::server();
    let mut setup = s.raw();
    setup.roundtrip(&resp(&["config", "set", "busy-reply-threshold", "0"]), b"+OK\r\n");
    let mut a = s.raw();
    a.send(&resp(&["eval", "local n = 0 for i = 1, 20000000 do n = n + 1 end return n", "0"]));
    std::thread::sleep(Duration::from_millis(20));
    let mut b = s.raw();
    // Answered once the script is over, never BUSY.
    b.roundtrip(b"PING\r\n", b"+PONG\r\n");
    a.expect(b":20000000\r\n");
}

#[test]
fn a_script_that_wrote_is_unkillable_and_shutdown_nosave_ends_the_server() {
    for (call, kill, busy) in [
        (vec!["eval", "redis.call('set',KEYS[1],'v') while true do end", "1", "k"], "script", BUSY_EVAL),
        (vec!["fcall", "wspin", "1", "k"], "function", BUSY_FUNCTION),
    ] {
        let s = common::server();
        let mut setup = s.raw();
        set_threshold(&mut setup, "busy-reply-threshold");
        setup.roundtrip(&resp(&["function", "load", LIBRARY]), b"$3\r\nlib\r\n");
        let mut a = s.raw();
        a.send(&resp(&call));
        let mut b = s.raw();
        assert_eq!(wait_busy(&mut b), busy);
        b.roundtrip(&resp(&[kill, "kill"]), UNKILLABLE);
        b.roundtrip(&resp(&["shutdown"]), busy);
        b.send(&resp(&["shutdown", "nosave"]));
        // Neither the caller of SHUTDOWN nor the script's gets a reply.
        assert_eq!(b.read_to_close(), b"");
        assert_eq!(a.read_to_close(), b"");
        let addr = s.handle.addr;
        let start = Instant::now();
        while std::net::TcpStream::connect(addr).is_ok() {
            assert!(start.elapsed() < Duration::from_secs(10), "the server still accepts connections");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn what_a_script_stopped_by_shutdown_wrote_is_not_in_the_aof() {
    let s = common::server_with(|c| c.appendonly = true);
    let mut setup = s.raw();
    set_threshold(&mut setup, "busy-reply-threshold");
    let mut a = s.raw();
    a.send(&resp(&["eval", "redis.call('set',KEYS[1],'stopped') while true do end", "1", "k"]));
    let mut b = s.raw();
    assert_eq!(wait_busy(&mut b), BUSY_EVAL);
    b.send(&resp(&["shutdown", "nosave"]));
    assert_eq!(b.read_to_close(), b"");
    assert_eq!(a.read_to_close(), b"");
    let start = Instant::now();
    while std::net::TcpStream::connect(s.handle.addr).is_ok() {
        assert!(start.elapsed() < Duration::from_secs(10), "the server still accepts connections");
        std::thread::sleep(Duration::from_millis(20));
    }
    // As Redis, which exits inside SHUTDOWN: the script's SET was never
    // propagated.
    let dir = std::path::Path::new(&s.dir).join("appendonlydir");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        files += 1;
        assert!(!data.windows(7).any(|w| w == b"stopped"), "{}", String::from_utf8_lossy(&data));
    }
    assert!(files >= 2, "no AOF in {dir:?}");
}
