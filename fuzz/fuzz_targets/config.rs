//! The config parser: config file text, then CONFIG SET. The input is the
//! text of a config file, then (after a NUL byte) `name value` lines for
//! CONFIG SET. Nothing may panic, and:
//! - a file that loads survives CONFIG REWRITE: the rewritten text loads
//!   too and gives every option the same value (CONFIG GET's text);
//! - a CONFIG SET that succeeds leaves a value that CONFIG SET takes back
//!   unchanged (what CONFIG GET prints is valid input).
//!
//! `include` lines are dropped (they read other files), and CONFIG SET
//! leaves alone the options that act outside the process (`dir`,
//! `appendonly` creating files, `port`/`bind` opening sockets,
//! `oom-score-adj` changing the process).
#![no_main]

use ferrokv::cmd::Args;
use ferrokv::config::{self, Config};
use ferrokv::resp::parse::split_args;
use ferrokv::server::run_command;
use ferrokv::server::state::{Client, Shared};
use libfuzzer_sys::fuzz_target;

const SKIP_SET: &[&str] = &["dir", "appendonly", "port", "bind", "oom-score-adj", "oom-score-adj-values"];

/// The text without its `include` lines (split the way the loader does).
fn without_includes(text: &str) -> String {
    let mut out = String::new();
    for raw in text.lines() {
        let line = raw.trim_matches([' ', '\t', '\r', '\n']);
        let (mut words, mut spans) = (Vec::new(), Vec::new());
        let include = split_args(line.as_bytes(), &mut words, &mut spans).is_ok()
            && spans.first().is_some_and(|&(s, e)| words[s..e].eq_ignore_ascii_case(b"include"));
        if !include {
            out.push_str(raw);
        }
        out.push('\n');
    }
    out
}

/// CONFIG GET's text of every option.
fn values(c: &Config) -> Vec<(&'static str, Option<String>)> {
    config::names().map(|(name, _)| (name, c.get(name))).collect()
}

/// Runs one command as client 0; its raw reply.
fn run(srv: &mut Shared, argv: &[&[u8]]) -> Vec<u8> {
    let mut data = Vec::new();
    let mut spans = Vec::new();
    for w in argv {
        spans.push((data.len(), data.len() + w.len()));
        data.extend_from_slice(w);
    }
    let mut out = Vec::new();
    run_command(srv, 0, &mut out, &Args::new(&data, &spans), 1_700_000_000_000);
    out
}

/// The value of a one-element CONFIG GET reply `*2 $n name $n value`.
fn got(reply: &[u8]) -> Option<Vec<u8>> {
    let text = reply.strip_prefix(b"*2\r\n")?;
    let mut parts = text.split(|&b| b == b'\n');
    parts.next()?;
    parts.next()?;
    let header = parts.next()?;
    let len: usize = std::str::from_utf8(header.strip_prefix(b"$")?.strip_suffix(b"\r")?).ok()?.parse().ok()?;
    let start = text.len() - len - 2;
    Some(text[start..start + len].to_vec())
}

fuzz_target!(|data: &[u8]| {
    let (file, sets) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(file) = std::str::from_utf8(file) else { return };
    let file = without_includes(file);
    let mut loaded = Config::default();
    let config = match loaded.load_text(&file) {
        Ok(()) => {
            // CONFIG REWRITE, and DEBUG CONFIG-REWRITE-FORCE-ALL (every
            // option written) when the file's length is odd.
            let rewritten = loaded.rewrite(&file, file.len() % 2 == 1);
            let mut again = Config::default();
            if let Err(e) = again.load_text(&rewritten) {
                panic!("the rewritten file does not load: {e}\n{rewritten}");
            }
            assert_eq!(values(&loaded), values(&again), "rewritten:\n{rewritten}");
            loaded
        }
        Err(_) => Config::default(),
    };
    let mut srv = Shared::new(config);
    srv.add_client(0, Client::new(1, None, None, -1, 0));
    for line in sets.split(|&b| b == b'\n').take(16) {
        let (name, value) = match line.iter().position(|&b| b == b' ') {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line, &[][..]),
        };
        let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
        if config::option(&lower).is_some_and(|o| o.names().any(|n| SKIP_SET.contains(&n))) {
            continue;
        }
        if run(&mut srv, &[b"config", b"set", name, value]) != b"+OK\r\n" {
            continue;
        }
        let reply = run(&mut srv, &[b"config", b"get", name]);
        let Some(now) = got(&reply) else {
            panic!("CONFIG GET after a CONFIG SET: {:?}", String::from_utf8_lossy(&reply));
        };
        let back = run(&mut srv, &[b"config", b"set", name, &now]);
        assert_eq!(
            String::from_utf8_lossy(&back),
            "+OK\r\n",
            "CONFIG SET {lower} {:?} (as CONFIG GET printed it)",
            String::from_utf8_lossy(&now)
        );
        let after = got(&run(&mut srv, &[b"config", b"get", name]));
        assert_eq!(after.as_deref(), Some(&now[..]), "CONFIG GET {lower} changed after setting it to itself");
    }
});
