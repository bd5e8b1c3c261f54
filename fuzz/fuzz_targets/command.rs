//! Every command's argument parsing: random argument vectors run against
//! the command table on an in-process server state (no socket), through
//! `server::run_command`, the path a connection's commands take. Nothing
//! may panic (libfuzzer-sys aborts on a panic even where the server would
//! catch it), and every reply must be well-formed RESP.
//!
//! Input: one control byte (bit 0: RESP3; bit 1: a small `maxmemory`, so
//! the OOM paths run), then commands one a line, arguments separated by
//! single spaces. A first word `#xy` names registry entry `xy` (two bytes,
//! any command or subcommand), so the fuzzer reaches every row without
//! having to spell its name. A fresh state runs each input, with a fixed
//! random seed so a crash replays.
#![no_main]

use ferrokv::cmd::{Args, table};
use ferrokv::config::Config;
use ferrokv::resp::Proto;
use ferrokv::server::run_command;
use ferrokv::server::state::{Client, Shared};
use ferrokv::store::rand::Rng;
use libfuzzer_sys::fuzz_target;

/// Commands that reach outside the process (files, sockets, the process
/// itself) or take seconds on purpose; they are not argument parsing.
const SKIP: &[&str] = &[
    "shutdown",
    "debug|reload",
    "debug|loadaof",
    "debug|sleep",
    "debug|populate",
    "debug|segfault",
    "debug|config-rewrite-force-all",
    "save",
    "bgsave",
    "bgrewriteaof",
    // They start a BGSAVE for the replica they make of the client.
    "sync",
    "psync",
    "migrate",
    "config|set",
    "config|rewrite",
    "acl|save",
    "acl|load",
    "monitor",
    // Redis's own self-test: seconds of work by design.
    "pfselftest",
];

/// Checks that `b[at..]` starts with one complete RESP2/RESP3 value and
/// returns the index after it.
fn value(b: &[u8], at: usize) -> Result<usize, String> {
    let nl =
        |from: usize| -> Result<usize, String> { memchr(b, from).ok_or_else(|| format!("no CRLF after byte {from}")) };
    let kind = *b.get(at).ok_or("reply ends early")?;
    let end = nl(at + 1)?;
    let line = std::str::from_utf8(&b[at + 1..end]).map_err(|_| "header not text")?;
    let count = || line.parse::<i64>().map_err(|_| format!("bad length {line:?}"));
    let next = end + 2;
    match kind {
        b'+' | b'-' | b':' | b',' | b'#' | b'(' | b'_' => Ok(next),
        b'$' | b'=' | b'!' => {
            let n = count()?;
            if n < 0 {
                return Ok(next);
            }
            let stop = next + n as usize;
            if b.get(stop..stop + 2) != Some(b"\r\n") {
                return Err("bulk length does not match".into());
            }
            Ok(stop + 2)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = count()?;
            let items = if matches!(kind, b'%' | b'|') { n * 2 } else { n };
            let mut at = next;
            for _ in 0..items.max(0) {
                at = value(b, at)?;
            }
            Ok(at)
        }
        other => Err(format!("unknown type byte {:?}", other as char)),
    }
}

fn memchr(b: &[u8], from: usize) -> Option<usize> {
    b.get(from..)?.windows(2).position(|w| w == b"\r\n").map(|i| from + i)
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, text)) = data.split_first() else { return };
    let reg = table::registry();
    // Big but legal sizes (SETRANGE at 512 MB) only cost time here.
    let config =
        Config { proto_max_bulk_len: 1 << 20, maxmemory: if control & 2 != 0 { 1 } else { 0 }, ..Config::default() };
    let mut srv = Shared::new(config);
    srv.rng = Rng::new(7);
    let mut key = 0;
    srv.add_client(key, Client::new(1, None, None, -1, 0));
    if control & 1 != 0 {
        srv.client_mut(key).proto = Proto::Resp3;
    }
    for line in text.split(|&b| b == b'\n').take(32) {
        let mut words: Vec<Vec<u8>> = line.split(|&b| b == b' ').map(<[u8]>::to_vec).collect();
        if let Some(pick) = words[0].strip_prefix(b"#")
            && pick.len() == 2
        {
            let i = usize::from(u16::from_le_bytes([pick[0], pick[1]])) % reg.entries.len();
            let name: Vec<Vec<u8>> = reg.entries[i].fullname.split('|').map(|w| w.as_bytes().to_vec()).collect();
            words.splice(0..1, name);
        }
        let lower = String::from_utf8_lossy(&words[0]).to_ascii_lowercase();
        let full = match words.get(1) {
            Some(sub) => format!("{lower}|{}", String::from_utf8_lossy(sub).to_ascii_lowercase()),
            None => lower.clone(),
        };
        if SKIP.contains(&lower.as_str()) || SKIP.contains(&full.as_str()) {
            continue;
        }
        let mut data = Vec::new();
        let mut spans = Vec::new();
        for w in &words {
            spans.push((data.len(), data.len() + w.len()));
            data.extend_from_slice(w);
        }
        let mut out = Vec::new();
        run_command(&mut srv, key, &mut out, &Args::new(&data, &spans), 1_700_000_000_000);
        let mut at = 0;
        while at < out.len() {
            match value(&out, at) {
                Ok(next) => at = next,
                Err(e) => panic!("malformed reply to {:?} ({e}): {:?}", lossy(&words), String::from_utf8_lossy(&out)),
            }
        }
        let c = srv.client(key);
        if out.is_empty() && c.blocked.is_none() && !c.reply_off && !c.reply_skip && !c.skip_next_reply {
            // Only CLIENT REPLY OFF/SKIP (and blocking) send nothing, and
            // REPLCONF ACK and GETACK, as in Redis.
            let quiet = full == "client|reply" || full == "replconf";
            assert!(quiet, "no reply to {:?}", lossy(&words));
        }
        if c.blocked.is_some() || c.close_after_reply {
            // Nothing wakes it here, or it is gone: a new client goes on.
            let proto = c.proto;
            key += 1;
            srv.add_client(key, Client::new(key as u64 + 1, None, None, -1, 0));
            srv.client_mut(key).proto = proto;
        }
    }
});

fn lossy(words: &[Vec<u8>]) -> Vec<String> {
    words.iter().map(|w| String::from_utf8_lossy(w).into_owned()).collect()
}
