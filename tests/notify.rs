//! Keyspace notifications: `notify-keyspace-events`, and the events
//! commands, expiry and eviction publish, with Redis's names and order.

mod common;
use common::{err, q, server};
use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::time::Duration;

/// Subscribes to every keyspace and keyevent channel (over a raw socket:
/// the redis crate's PubSub unsubscribes when dropped); `events` drains
/// what arrived as (channel, payload).
struct Listener {
    reader: BufReader<TcpStream>,
}

impl Listener {
    fn new(srv: &common::TestServer) -> Listener {
        let mut raw = srv.raw();
        raw.send(b"PSUBSCRIBE __key*__:*\r\n");
        let mut l = Listener { reader: BufReader::new(raw.0) };
        let confirm = l.frame().expect("psubscribe confirmation");
        assert_eq!(confirm[0], "psubscribe");
        l
    }

    fn line(&mut self) -> Option<String> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(n) if n > 0 => Some(line.trim_end().to_string()),
            _ => None,
        }
    }

    /// One array frame of bulk strings / integers, as text.
    fn frame(&mut self) -> Option<Vec<String>> {
        let header = self.line()?;
        let n: usize = header.strip_prefix('*')?.parse().ok()?;
        let mut parts = Vec::new();
        for _ in 0..n {
            let h = self.line()?;
            if let Some(len) = h.strip_prefix('$') {
                let len: usize = len.parse().ok()?;
                let mut buf = vec![0; len + 2];
                self.reader.read_exact(&mut buf).ok()?;
                parts.push(String::from_utf8_lossy(&buf[..len]).into_owned());
            } else {
                parts.push(h[1..].to_string());
            }
        }
        Some(parts)
    }

    /// Messages until none arrives for a moment.
    fn events(&mut self) -> Vec<(String, String)> {
        self.reader.get_ref().set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        let mut out = Vec::new();
        while let Some(f) = self.frame() {
            assert_eq!(f[0], "pmessage", "{f:?}");
            out.push((f[2].clone(), f[3].clone()));
        }
        out
    }
}

fn set_flags(c: &mut redis::Connection, flags: &str) {
    let _: () = redis::cmd("CONFIG").arg("SET").arg("notify-keyspace-events").arg(flags).query(c).unwrap();
}

fn ev(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[test]
fn flags_are_parsed_and_shown_like_redis() {
    let srv = server();
    let mut c = srv.client();
    let get = |c: &mut redis::Connection| q::<Vec<String>>(c, &["CONFIG", "GET", "notify-keyspace-events"])[1].clone();
    assert_eq!(get(&mut c), "");
    set_flags(&mut c, "KEA");
    assert_eq!(get(&mut c), "AKE");
    set_flags(&mut c, "Kgxmn$lE");
    assert_eq!(get(&mut c), "g$lxnKEm");
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "Kq"]),
        "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
    );
}

#[test]
fn keyspace_and_keyevent_channels() {
    let srv = server();
    let mut c = srv.client();
    let mut l = Listener::new(&srv);
    // Off by default.
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    assert_eq!(l.events(), vec![]);

    set_flags(&mut c, "KEA");
    let _: () = redis::cmd("SET").arg("k").arg("v").arg("EX").arg(100).query(&mut c).unwrap();
    assert_eq!(
        l.events(),
        ev(&[
            ("__keyspace@0__:k", "set"),
            ("__keyevent@0__:set", "k"),
            ("__keyspace@0__:k", "expire"),
            ("__keyevent@0__:expire", "k"),
        ])
    );
    // Only keyevents of the generic class.
    set_flags(&mut c, "Eg");
    let _: i64 = redis::cmd("INCR").arg("n").query(&mut c).unwrap();
    let _: i64 = redis::cmd("DEL").arg("n").arg("k").arg("nokey").query(&mut c).unwrap();
    assert_eq!(l.events(), ev(&[("__keyevent@0__:del", "n"), ("__keyevent@0__:del", "k")]));
    // Another database shows in the channel.
    set_flags(&mut c, "KA");
    let _: () = redis::cmd("SELECT").arg(5).query(&mut c).unwrap();
    let _: i64 = redis::cmd("APPEND").arg("s").arg("x").query(&mut c).unwrap();
    assert_eq!(l.events(), ev(&[("__keyspace@5__:s", "append")]));
}

#[test]
fn events_of_each_type() {
    let srv = server();
    let mut c = srv.client();
    let mut l = Listener::new(&srv);
    set_flags(&mut c, "EA");
    let run = |c: &mut redis::Connection, args: &[&str]| {
        let mut cmd = redis::cmd(args[0]);
        args[1..].iter().for_each(|a| {
            cmd.arg(*a);
        });
        let _: redis::Value = cmd.query(c).unwrap();
    };
    /// A command, and the (event, key) pairs it must publish.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)]);
    let cases: &[Case] = &[
        (&["MSET", "a", "1", "b", "2"], &[("set", "a"), ("set", "b")]),
        (&["INCRBYFLOAT", "a", "1.5"], &[("incrbyfloat", "a")]),
        (&["SETRANGE", "b", "3", "x"], &[("setrange", "b")]),
        (&["SETBIT", "bits", "7", "1"], &[("setbit", "bits")]),
        (&["BITOP", "OR", "dest", "bits"], &[("set", "dest")]),
        (&["GETDEL", "dest"], &[("del", "dest")]),
        (&["EXPIRE", "a", "100"], &[("expire", "a")]),
        (&["PERSIST", "a"], &[("persist", "a")]),
        (&["PERSIST", "a"], &[]),
        (&["RENAME", "a", "c"], &[("rename_from", "a"), ("rename_to", "c")]),
        (&["EXPIRE", "c", "-1"], &[("del", "c")]),
        (&["RPUSH", "l", "x", "y"], &[("rpush", "l")]),
        (&["LINSERT", "l", "BEFORE", "y", "w"], &[("linsert", "l")]),
        (&["LSET", "l", "0", "z"], &[("lset", "l")]),
        (&["LMOVE", "l", "l2", "LEFT", "RIGHT"], &[("rpush", "l2"), ("lpop", "l")]),
        (&["LREM", "l", "0", "w"], &[("lrem", "l")]),
        (&["RPOP", "l"], &[("rpop", "l"), ("del", "l")]),
        (&["LTRIM", "l2", "1", "0"], &[("ltrim", "l2"), ("del", "l2")]),
        (&["HSET", "h", "f", "1"], &[("hset", "h")]),
        (&["HINCRBY", "h", "f", "2"], &[("hincrby", "h")]),
        (&["HDEL", "h", "f"], &[("hdel", "h"), ("del", "h")]),
        (&["SADD", "s", "1", "2"], &[("sadd", "s")]),
        (&["SADD", "s", "1"], &[]),
        (&["SMOVE", "s", "s2", "1"], &[("srem", "s"), ("sadd", "s2")]),
        (&["SUNIONSTORE", "s3", "s", "s2"], &[("sunionstore", "s3")]),
        (&["SPOP", "s"], &[("spop", "s"), ("del", "s")]),
        (&["SINTERSTORE", "s3", "nokey"], &[("del", "s3")]),
        (&["ZADD", "z", "1", "a", "2", "b", "3", "c"], &[("zadd", "z")]),
        (&["ZINCRBY", "z", "1", "a"], &[("zincr", "z")]),
        (&["ZREM", "z", "a"], &[("zrem", "z")]),
        (&["ZRANGESTORE", "z2", "z", "0", "-1"], &[("zrangestore", "z2")]),
        (&["ZREMRANGEBYSCORE", "z2", "-inf", "+inf"], &[("zremrangebyscore", "z2"), ("del", "z2")]),
        (&["ZPOPMIN", "z"], &[("zpopmin", "z")]),
        (&["ZUNIONSTORE", "z3", "1", "z"], &[("zunionstore", "z3")]),
        (&["ZPOPMAX", "z"], &[("zpopmax", "z"), ("del", "z")]),
        (&["COPY", "z3", "z4"], &[("copy_to", "z4")]),
    ];
    for (args, expected) in cases {
        run(&mut c, args);
        let want: Vec<(String, String)> =
            expected.iter().map(|(e, k)| (format!("__keyevent@0__:{e}"), k.to_string())).collect();
        assert_eq!(l.events(), want, "{args:?}");
    }
    run(&mut c, &["MOVE", "z4", "2"]);
    assert_eq!(l.events(), ev(&[("__keyevent@0__:move_from", "z4"), ("__keyevent@2__:move_to", "z4")]));
}

#[test]
fn expired_evicted_new_and_keymiss() {
    let srv = server();
    let mut c = srv.client();
    let mut l = Listener::new(&srv);
    set_flags(&mut c, "Exn");
    let _: () = redis::cmd("SET").arg("t").arg("v").arg("PX").arg(600).query(&mut c).unwrap();
    assert_eq!(l.events(), ev(&[("__keyevent@0__:new", "t")]));
    // The active expiry cycle finds it on its own.
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(l.events(), ev(&[("__keyevent@0__:expired", "t")]));
    // Expired (by the cycle or on access), then created again.
    set_flags(&mut c, "Egxn$");
    let _: () = redis::cmd("SET").arg("u").arg("v").arg("PX").arg(1).query(&mut c).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    let _: () = redis::cmd("SET").arg("u").arg("w").query(&mut c).unwrap();
    let got = l.events();
    let names: Vec<&str> = got.iter().map(|(ch, _)| ch.as_str()).collect();
    assert_eq!(&names[..3], ["__keyevent@0__:new", "__keyevent@0__:set", "__keyevent@0__:expire"], "{got:?}");
    // Either the cycle or the second SET expired it; the second SET then
    // made it new again.
    assert!(names.contains(&"__keyevent@0__:expired"), "{got:?}");
    assert_eq!(&names[names.len() - 2..], ["__keyevent@0__:new", "__keyevent@0__:set"], "{got:?}");

    set_flags(&mut c, "Em");
    // Writes look keys up for writing: no keymiss (as in Redis).
    let _: i64 = redis::cmd("INCR").arg("fresh").query(&mut c).unwrap();
    let _: i64 = redis::cmd("APPEND").arg("fresh2").arg("x").query(&mut c).unwrap();
    let _: Option<String> = redis::cmd("GET").arg("missing").query(&mut c).unwrap();
    assert_eq!(l.events(), ev(&[("__keyevent@0__:keymiss", "missing")]));

    set_flags(&mut c, "Ee");
    for i in 0..200 {
        let _: () = redis::cmd("SET").arg(format!("k{i}")).arg("x".repeat(100)).query(&mut c).unwrap();
    }
    let _: () = redis::cmd("CONFIG").arg("SET").arg("maxmemory-policy").arg("allkeys-random").query(&mut c).unwrap();
    let _: () = redis::cmd("CONFIG").arg("SET").arg("maxmemory").arg(1).query(&mut c).unwrap();
    let _: String = q(&mut c, &["PING"]);
    let _: () = redis::cmd("CONFIG").arg("SET").arg("maxmemory").arg(0).query(&mut c).unwrap();
    let got = l.events();
    assert!(got.len() >= 200, "{}", got.len());
    assert!(got.iter().all(|(ch, _)| ch == "__keyevent@0__:evicted"), "{got:?}");
}

#[test]
fn a_script_s_commands_publish_their_events() {
    let srv = server();
    let mut c = srv.client();
    let mut l = Listener::new(&srv);
    set_flags(&mut c, "KEA");
    let script = "redis.call('set','a','1') redis.call('incr','a') redis.call('expire','a',100) \
                  redis.pcall('lpush','a','x') redis.call('del','a') redis.call('select',3) redis.call('set','b','2') return 1";
    let _: i64 = q(&mut c, &["EVAL", script, "0"]);
    // A key set to expire during a script stays until it ends (frozen
    // time), then expires.
    let v: String = q(
        &mut c,
        &[
            "EVAL",
            "redis.call('set','e','1','px',1) local x = 0 for i=1,3000000 do x = x + i end return redis.call('get','e')",
            "0",
        ],
    );
    assert_eq!(v, "1");
    std::thread::sleep(Duration::from_millis(5));
    let _: Option<String> = q(&mut c, &["EVAL", "return redis.call('get','e')", "0"]);
    let _: String = q(
        &mut c,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=kl\nredis.register_function('kf', function(k, a) return redis.call('hset', k[1], 'f', 'v') end)",
        ],
    );
    let _: i64 = q(&mut c, &["FCALL", "kf", "1", "h"]);
    // Recorded from redis-server 7.0.15 (the failed LPUSH publishes none).
    assert_eq!(
        l.events(),
        ev(&[
            ("__keyspace@0__:a", "set"),
            ("__keyevent@0__:set", "a"),
            ("__keyspace@0__:a", "incrby"),
            ("__keyevent@0__:incrby", "a"),
            ("__keyspace@0__:a", "expire"),
            ("__keyevent@0__:expire", "a"),
            ("__keyspace@0__:a", "del"),
            ("__keyevent@0__:del", "a"),
            ("__keyspace@3__:b", "set"),
            ("__keyevent@3__:set", "b"),
            ("__keyspace@0__:e", "set"),
            ("__keyevent@0__:set", "e"),
            ("__keyspace@0__:e", "expire"),
            ("__keyevent@0__:expire", "e"),
            ("__keyspace@0__:e", "expired"),
            ("__keyevent@0__:expired", "e"),
            ("__keyspace@0__:h", "hset"),
            ("__keyevent@0__:hset", "h"),
        ])
    );
}

/// A RESP3 client subscribed to the events of the commands its own script
/// calls gets them on its connection before the script's reply, where
/// Redis writes them (they used to go into the called command's reply,
/// which the script gets, and were lost); so does a PUBLISH the script
/// makes to a channel the caller subscribes. Bytes recorded from
/// redis-server 7.0.15.
#[test]
fn a_subscribed_caller_gets_its_script_s_events_before_the_reply() {
    let srv = server();
    let mut c = srv.client();
    set_flags(&mut c, "KEA");
    let mut raw = srv.raw();
    raw.hello3();
    raw.roundtrip(b"PSUBSCRIBE __keyevent@0__:*\r\n", b">3\r\n$10\r\npsubscribe\r\n$16\r\n__keyevent@0__:*\r\n:1\r\n");
    let set = b">4\r\n$8\r\npmessage\r\n$16\r\n__keyevent@0__:*\r\n$18\r\n__keyevent@0__:set\r\n$1\r\nk\r\n";
    raw.send(b"SET k v\r\n");
    raw.expect(&[&set[..], b"+OK\r\n"].concat());
    raw.send(&common::resp(&[
        "EVAL",
        "redis.call('set','k','v2') return redis.call('expire',KEYS[1],'100')",
        "1",
        "k",
    ]));
    let expire = b">4\r\n$8\r\npmessage\r\n$16\r\n__keyevent@0__:*\r\n$21\r\n__keyevent@0__:expire\r\n$1\r\nk\r\n";
    raw.expect(&[&set[..], &expire[..], b":1\r\n"].concat());
    raw.roundtrip(b"SUBSCRIBE ch\r\n", b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:2\r\n");
    raw.send(&common::resp(&["EVAL", "return redis.call('publish','ch','hi')", "0"]));
    raw.expect(b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n:1\r\n");
}

/// Where a RESP3 client subscribed to its own commands' events gets them:
/// before the reply for the commands whose Redis handler notifies first,
/// after it for those that reply first (ZADD, ZUNIONSTORE), as
/// redis-server 7.0.15 orders them (found by the RESP3 fuzzer).
#[test]
fn own_events_come_before_or_after_the_reply_as_in_redis() {
    let srv = server();
    let mut c = srv.client();
    for setup in [
        &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"][..],
        &["SADD", "s", "a", "b", "c", "d"],
        &["RPUSH", "l", "b", "a"],
        &["GEOADD", "g", "13.36", "38.11", "p1", "15.08", "37.50", "p2"],
        &["SET", "m", "1"],
    ] {
        let _: redis::Value = q(&mut c, setup);
    }
    set_flags(&mut c, "KEA");
    let mut raw = srv.raw();
    raw.hello3();
    raw.roundtrip(b"PSUBSCRIBE __keyevent@*__:*\r\n", b">3\r\n$10\r\npsubscribe\r\n$16\r\n__keyevent@*__:*\r\n:1\r\n");
    let cases: &[(&[&str], bool)] = &[
        (&["ZADD", "z", "5", "e"], false),
        (&["ZREM", "z", "a"], true),
        (&["ZREMRANGEBYSCORE", "z", "2", "2"], true),
        (&["ZREMRANGEBYRANK", "z", "0", "0"], true),
        (&["ZUNIONSTORE", "zu", "1", "z"], false),
        (&["GEOSEARCHSTORE", "gd", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"], true),
        (&["GEORADIUS", "g", "15", "37", "200", "km", "STORE", "gd2"], true),
        // No source: the destination is deleted.
        (&["GEOSEARCHSTORE", "gd", "nosuch", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"], true),
        (&["SORT", "l", "ALPHA", "STORE", "sd"], true),
        (&["SPOP", "s"], true),
        (&["SPOP", "s", "2"], true),
        (&["MOVE", "m", "1"], true),
        (&["BLPOP", "l", "1"], false),
    ];
    for (cmd, before) in cases {
        raw.send(&[common::resp(cmd), b"PING\r\n".to_vec()].concat());
        let mut got = Vec::new();
        let mut byte = [0u8; 1];
        while !got.ends_with(b"+PONG\r\n") {
            raw.0.read_exact(&mut byte).unwrap();
            got.push(byte[0]);
        }
        assert!(got.windows(8).any(|w| w == b"pmessage"), "{cmd:?}: {}", String::from_utf8_lossy(&got));
        assert_eq!(got.starts_with(b">4\r\n$8\r\npmessage"), *before, "{cmd:?}: {}", String::from_utf8_lossy(&got));
    }
    // SPOP that empties its set: the spop event, the reply, then the del
    // (after the SADD's event, from the other connection).
    let _: i64 = q(&mut c, &["SADD", "one", "x"]);
    raw.send(b"SPOP one\r\n");
    raw.expect(
        b">4\r\n$8\r\npmessage\r\n$16\r\n__keyevent@*__:*\r\n$19\r\n__keyevent@0__:sadd\r\n$3\r\none\r\n\
          >4\r\n$8\r\npmessage\r\n$16\r\n__keyevent@*__:*\r\n$19\r\n__keyevent@0__:spop\r\n$3\r\none\r\n$1\r\nx\r\n\
          >4\r\n$8\r\npmessage\r\n$16\r\n__keyevent@*__:*\r\n$18\r\n__keyevent@0__:del\r\n$3\r\none\r\n",
    );
}
