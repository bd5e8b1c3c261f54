//! Which keys each write command signals as modified — seen by WATCH and
//! by CLIENT TRACKING — replayed from tests/data/signals.txt, which
//! `scripts/signal_audit.py` recorded against redis-server 7.0.15: a
//! command that changes nothing (DEL of a missing key, SET NX on an existing
//! one, SETBIT to the same bit, …) must fail no transaction and invalidate
//! nothing, and one that changes a key must do both, for exactly its keys.

mod common;
use common::{invalidated, q, resp3, server};
use redis::Value;

const KEYS: [&str; 14] = ["s", "n", "l", "h", "st", "z", "t", "nx", "dst", "s2", "c2", "l2", "st2", "nx2"];

const SETUP: &[&[&str]] = &[
    &["FLUSHALL"],
    &["SET", "s", "hello"],
    &["SET", "n", "10"],
    &["RPUSH", "l", "a", "b", "c"],
    &["HSET", "h", "f1", "v1", "f2", "2"],
    &["SADD", "st", "a", "b", "c"],
    &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
    &["SET", "t", "x", "EX", "1000"],
];

#[test]
fn write_commands_signal_the_keys_redis_signals() {
    let s = server();
    let recorded = include_str!("data/signals.txt");
    let mut mismatches = Vec::new();
    for line in recorded.lines() {
        let (case, expected) = line.split_once('\t').expect("command<TAB>watch=…<TAB>inval=…");
        let args: Vec<&str> = case.split(' ').collect();
        let mut b = s.client();
        for c in SETUP {
            q::<()>(&mut b, c);
        }
        let mut watchers: Vec<(&str, redis::Connection)> = KEYS
            .iter()
            .map(|k| {
                let mut w = s.client();
                q::<()>(&mut w, &["WATCH", k]);
                (*k, w)
            })
            .collect();
        let (mut t, rx) = resp3(&s);
        q::<()>(&mut t, &["CLIENT", "TRACKING", "ON"]);
        for k in KEYS {
            q::<i64>(&mut t, &["EXISTS", k]);
        }
        let _ = redis::cmd(args[0]).arg(&args[1..]).query::<Value>(&mut b);
        let mut touched = Vec::new();
        for (k, w) in &mut watchers {
            let ran: Option<(String,)> = redis::pipe().atomic().cmd("PING").query(w).unwrap();
            if ran.is_none() {
                touched.push(*k);
            }
        }
        let inval: Vec<String> =
            invalidated(&mut t, &rx).into_iter().map(|keys| keys.map_or("*".into(), |k| k.join(" "))).collect();
        let got = format!("watch={}\tinval={}", touched.join(","), inval.join(","));
        if got != expected {
            mismatches.push(format!("{case}\n  redis:   {expected}\n  ferrokv: {got}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
