//! `INFO persistence` `rdb_changes_since_last_save` (Redis's `server.dirty`)
//! moves as in Redis 7.0: per key or element changed, nothing for a no-op.
//! `tests/data/dirty_transcript.txt` was recorded against Redis 7.0.15
//! (`--save ''`) with `scripts/dirty_audit.py`; every command is replayed
//! here through the real client, checking its reply and how much the
//! counter moved (`?` stands for a random reply, SPOP's).

mod common;
use common::server_with;
use common::transcript::{run, split_words};
use std::time::Duration;

fn changes(c: &mut redis::Connection) -> i64 {
    let info: String = common::q(c, &["INFO", "persistence"]);
    info.lines()
        .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("rdb_changes_since_last_save in INFO persistence")
}

#[test]
fn the_change_counter_moves_as_in_redis_7_0() {
    let s = server_with(|c| c.enable_debug_command = "yes".into());
    let mut c = s.client();
    let (mut checked, mut in_multi, mut multi_before) = (0, false, 0);
    for line in include_str!("data/dirty_transcript.txt").lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(ms) = line.strip_prefix("!sleep ") {
            std::thread::sleep(Duration::from_millis(ms.parse().expect("sleep ms")));
            continue;
        }
        let mut parts = line.split("  =>  ");
        let (cmd, want, delta) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
        let want = if want == "nil*" { "nil" } else { want };
        let delta: i64 = delta.strip_prefix('+').and_then(|d| d.parse().ok()).expect("+delta");
        // `hex:` arguments are the bytes they spell (DUMP payloads).
        let args: Vec<Vec<u8>> = split_words(cmd)
            .into_iter()
            .map(|w| match w.strip_prefix("hex:") {
                Some(h) => (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap()).collect(),
                None => w.into_bytes(),
            })
            .collect();
        let name = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
        // Inside MULTI, INFO would be queued: the counter is read before
        // MULTI and after EXEC/DISCARD, as the script does.
        if name == "MULTI" {
            multi_before = changes(&mut c);
        }
        let (got, moved) = if in_multi || name == "MULTI" {
            let got = run(&mut c, &args);
            in_multi = !(name == "EXEC" || name == "DISCARD");
            (got, if in_multi { 0 } else { changes(&mut c) - multi_before })
        } else {
            let before = changes(&mut c);
            let got = run(&mut c, &args);
            (got, changes(&mut c) - before)
        };
        if want != "?" {
            assert_eq!(got, want, "{cmd}");
        }
        assert_eq!(moved, delta, "{cmd}: rdb_changes_since_last_save moved by {moved}, Redis by {delta}");
        checked += 1;
    }
    assert_eq!(checked, 361, "every recorded command is replayed");
}

#[test]
fn a_blocked_pop_served_later_counts_as_in_redis_7_0() {
    // Measured against Redis 7.0.15: the push counts its elements; the pop
    // that serves the waiter adds its count for BLMPOP and the sorted-set
    // pops, nothing for BLPOP and BLMOVE.
    let s = server_with(|_| {});
    let mut c = s.client();
    let cases: [(&[u8], &[&str], i64); 5] = [
        (b"BLPOP q 0\r\n", &["RPUSH", "q", "a", "b", "c"], 3),
        (b"BLMPOP 0 1 q LEFT COUNT 2\r\n", &["RPUSH", "q", "a", "b", "c"], 5),
        (b"BZPOPMIN q 0\r\n", &["ZADD", "q", "1", "a", "2", "b"], 3),
        (b"BZMPOP 0 1 q MIN COUNT 2\r\n", &["ZADD", "q", "1", "a", "2", "b", "3", "c"], 5),
        (b"BLMOVE q d LEFT LEFT 0\r\n", &["RPUSH", "q", "a", "b"], 2),
    ];
    for (block, push, delta) in cases {
        common::q::<()>(&mut c, &["FLUSHALL"]);
        let mut r = s.raw();
        r.send(block);
        common::wait_blocked(&mut c, 1);
        let before = changes(&mut c);
        common::q::<i64>(&mut c, push);
        common::wait_blocked(&mut c, 0);
        assert_eq!(changes(&mut c) - before, delta, "{}", String::from_utf8_lossy(block));
    }
}

#[test]
fn every_write_command_is_in_the_transcript() {
    let text = include_str!("data/dirty_transcript.txt");
    let recorded: std::collections::HashSet<String> = text
        .lines()
        .filter(|l| l.contains("  =>  ") && !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
        .map(|w| w.to_ascii_lowercase())
        .collect();
    for c in ferrokv::cmd::table::all().filter(|c| c.has(ferrokv::cmd::table::flag::WRITE)) {
        assert!(recorded.contains(c.name), "{} is missing from scripts/dirty_audit.py", c.name);
    }
}
