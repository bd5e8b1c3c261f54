//! Geo commands through a real client (the `redis` crate): a transcript of
//! ~160 commands recorded from Redis 7.0.15 (every option and error text,
//! coordinates and distances compared as text), GEOADD as ZADD (its event,
//! its counts and its propagated form), the store forms' events and WATCH,
//! COMMAND GETKEYS for GEORADIUS's STORE, a search of ~50 results out of
//! thousands, and RESP3 coordinates as doubles.

mod common;
use common::transcript::replay;
use common::{fresh_dir, q, server, server_with};
use redis::Value;

/// Replays `tests/data/geo_transcript.txt` (recorded from Redis 7.0.15).
#[test]
fn transcript_matches_redis_7_0() {
    let checked = replay(&server(), include_str!("data/geo_transcript.txt"));
    assert_eq!(checked, 165, "every recorded command is replayed");
}

fn r(c: &mut redis::Connection, line: &str) -> String {
    common::transcript::run_line(c, line)
}

#[test]
fn geoadd_is_a_zadd_for_events_counts_and_the_aof() {
    let dir = fresh_dir();
    let d = dir.clone();
    let s = server_with(move |c| {
        c.dir = d;
        c.appendonly = true;
        c.appendfsync = "always";
    });
    let mut c = s.client();
    let before: i64 = q::<String>(&mut c, &["INFO", "persistence"])
        .lines()
        .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert_eq!(r(&mut c, "GEOADD g CH 13.361389 38.115556 Palermo 15.087269 37.502669 Catania"), ":2");
    assert_eq!(r(&mut c, "GEOADD g 13.361389 38.115556 Palermo"), ":0");
    assert_eq!(r(&mut c, "TYPE g"), "+zset");
    assert_eq!(r(&mut c, "ZSCORE g Palermo"), "'3479099956230698'");
    let after: i64 = q::<String>(&mut c, &["INFO", "persistence"])
        .lines()
        .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert_eq!(after - before, 2, "two members added, the no-op GEOADD counts nothing");
    let aof = std::path::Path::new(&dir).join("appendonlydir/appendonly.aof.1.incr.aof");
    let text = String::from_utf8_lossy(&std::fs::read(aof).unwrap()).replace("\r\n", " ");
    assert!(
        text.contains("*7 $4 zadd $1 g $2 CH $16 3479099956230698 $7 Palermo $16 3479447370796909 $7 Catania"),
        "{text}"
    );
    assert_eq!(text.matches("zadd").count(), 1, "the GEOADD that changed nothing is not propagated: {text}");
}

#[test]
fn store_forms_touch_watched_keys_and_replace_any_value() {
    let s = server();
    let mut c = s.client();
    let mut other = s.client();
    r(&mut c, "GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania");
    r(&mut c, "SET dst x");
    r(&mut c, "EXPIRE dst 100");
    assert_eq!(r(&mut c, "WATCH dst"), "+OK");
    assert_eq!(r(&mut other, "GEOSEARCHSTORE dst g FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST"), ":2");
    r(&mut c, "MULTI");
    r(&mut c, "PING");
    assert_eq!(q::<Value>(&mut c, &["EXEC"]), Value::Nil);
    assert_eq!(r(&mut c, "TTL dst"), ":-1");
    assert_eq!(
        r(&mut c, "ZRANGE dst 0 -1 WITHSCORES"),
        "*['Catania', '56.441257870158204', 'Palermo', '190.44242984775784']"
    );
    // An empty result deletes the destination.
    assert_eq!(r(&mut c, "GEORADIUS g 0 0 1 km STORE dst"), ":0");
    assert_eq!(r(&mut c, "EXISTS dst"), ":0");
}

#[test]
fn georadius_store_keys_are_found_like_redis() {
    let s = server();
    let mut c = s.client();
    assert_eq!(r(&mut c, "COMMAND GETKEYS GEORADIUS k 1 2 3 km STORE d STOREDIST e"), "*['k', 'd', 'e']");
    assert_eq!(r(&mut c, "COMMAND GETKEYS GEORADIUSBYMEMBER k m 3 km STORE d STORE e"), "*['k', 'd']");
    assert_eq!(r(&mut c, "COMMAND GETKEYS GEORADIUS k 1 2 3 km WITHDIST"), "*['k']");
    assert_eq!(r(&mut c, "COMMAND GETKEYS GEOSEARCHSTORE d s FROMLONLAT 1 1 BYRADIUS 1 km"), "*['d', 's']");
    let info: Vec<Value> = q(&mut c, &["COMMAND", "INFO", "georadius"]);
    let text = format!("{info:?}");
    assert!(text.contains("movablekeys") && text.contains("STOREDIST") && text.contains("@geo"), "{text}");
}

#[test]
fn a_search_finds_its_neighbours_among_thousands() {
    let s = server();
    let mut c = s.client();
    // A 100 x 100 grid, 0.001 degree apart (~111 m): a 400 m radius holds
    // the points within 3.6 steps of the centre.
    for row in 0..100 {
        let mut cmd = redis::cmd("GEOADD");
        cmd.arg("grid");
        for col in 0..100 {
            cmd.arg(10.0 + col as f64 * 0.001).arg(45.0 + row as f64 * 0.001).arg(format!("p{row}_{col}"));
        }
        let _: i64 = cmd.query(&mut c).unwrap();
    }
    let found: Vec<String> = q(&mut c, &["GEOSEARCH", "grid", "FROMMEMBER", "p50_50", "BYRADIUS", "400", "m", "ASC"]);
    assert_eq!(found[0], "p50_50");
    let expect = (-4i32..=4)
        .flat_map(|dr| (-4i32..=4).map(move |dc| (dr, dc)))
        .filter(|&(dr, dc)| {
            let (dy, dx) = (dr as f64 * 111.2, dc as f64 * 111.2 * 45f64.to_radians().cos());
            (dy * dy + dx * dx).sqrt() <= 399.0
        })
        .count();
    assert!(found.len() >= expect && found.len() <= expect + 8, "{} vs {expect}", found.len());
    let any: Vec<String> =
        q(&mut c, &["GEOSEARCH", "grid", "FROMMEMBER", "p50_50", "BYBOX", "1", "1", "km", "COUNT", "5", "ANY"]);
    assert_eq!(any.len(), 5);
}

#[test]
fn resp3_coordinates_are_doubles() {
    let s = server();
    let mut raw = s.raw();
    raw.hello3();
    raw.roundtrip(b"GEOADD g 13.361389 38.115556 Palermo\r\n", b":1\r\n");
    raw.roundtrip(b"GEOPOS g Palermo nope\r\n", b"*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n");
    raw.roundtrip(
        b"GEOSEARCH g FROMLONLAT 13 38 BYRADIUS 100 km WITHDIST WITHCOORD\r\n",
        b"*1\r\n*3\r\n$7\r\nPalermo\r\n$7\r\n34.1601\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n",
    );
}
