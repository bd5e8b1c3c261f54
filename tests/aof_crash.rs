//! The short form of `scripts/aof_crash.py`: with `appendfsync always`, a
//! server killed with SIGKILL while a writer pipelines SET / INCR / RPUSH /
//! HSET comes back with every acknowledged write, and its keyspace is the
//! writer's model after a prefix of the commands sent (nothing half-applied,
//! reordered or invented).

mod common;
use common::fresh_dir;
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ferrokv");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The server process, killed when dropped (also when an assertion fails,
/// so no server outlives the test).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &str, port: u16) -> (Server, redis::Client) {
    let child = Command::new(BIN)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--dir", dir, "--save", ""])
        .args(["--appendonly", "yes", "--appendfsync", "always", "--loglevel", "warning"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let child = Server(child);
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).unwrap();
    let t0 = Instant::now();
    loop {
        if let Ok(mut c) = client.get_connection()
            && redis::cmd("PING").query::<String>(&mut c).is_ok()
        {
            return (child, client);
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "the server never answered");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// What a key holds in the model and in the server.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Str(String),
    List(Vec<String>),
    Hash(BTreeMap<String, String>),
}

/// The write at position `seq` of the run: keys and values derive from
/// `seq`, so each value is unique and the log is just a count.
fn command(seq: usize) -> Vec<String> {
    let k = (seq * 7919) % 40;
    match seq % 4 {
        0 => vec!["SET".into(), format!("s:{k}"), format!("v{seq}")],
        1 => vec!["INCR".into(), format!("c:{}", k % 10)],
        2 => vec!["RPUSH".into(), format!("l:{}", k % 10), format!("e{seq}")],
        _ => vec!["HSET".into(), format!("h:{}", k % 10), format!("f{}", seq % 5), format!("v{seq}")],
    }
}

fn apply(model: &mut BTreeMap<String, Val>, cmd: &[String]) {
    let key = cmd[1].clone();
    match cmd[0].as_str() {
        "SET" => {
            model.insert(key, Val::Str(cmd[2].clone()));
        }
        "INCR" => {
            let n = match model.get(&key) {
                Some(Val::Str(s)) => s.parse::<i64>().unwrap() + 1,
                _ => 1,
            };
            model.insert(key, Val::Str(n.to_string()));
        }
        "RPUSH" => match model.entry(key).or_insert_with(|| Val::List(vec![])) {
            Val::List(l) => l.push(cmd[2].clone()),
            other => panic!("model: {other:?}"),
        },
        _ => match model.entry(key).or_insert_with(|| Val::Hash(BTreeMap::new())) {
            Val::Hash(h) => {
                h.insert(cmd[2].clone(), cmd[3].clone());
            }
            other => panic!("model: {other:?}"),
        },
    }
}

fn keyspace(c: &mut redis::Connection) -> BTreeMap<String, Val> {
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(c).unwrap();
    let mut out = BTreeMap::new();
    for k in keys {
        let t: String = redis::cmd("TYPE").arg(&k).query(c).unwrap();
        let v = match t.as_str() {
            "string" => Val::Str(redis::cmd("GET").arg(&k).query(c).unwrap()),
            "list" => Val::List(redis::cmd("LRANGE").arg(&k).arg(0).arg(-1).query(c).unwrap()),
            "hash" => Val::Hash(redis::cmd("HGETALL").arg(&k).query(c).unwrap()),
            other => panic!("unexpected type {other} of {k}"),
        };
        out.insert(k, v);
    }
    out
}

#[test]
fn sigkill_under_load_keeps_every_acknowledged_write() {
    let dir = fresh_dir();
    let port = free_port();
    let (mut child, mut client) = start(&dir, port);
    // `sent` commands 0..sent went out; the first `acked` were answered.
    let mut applied = 0usize;
    for round in 0..3 {
        let sent = Arc::new(AtomicUsize::new(applied));
        let acked = Arc::new(AtomicUsize::new(applied));
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (sent, acked, stop) = (sent.clone(), acked.clone(), stop.clone());
            let mut c = client.get_connection().unwrap();
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let from = sent.load(Ordering::SeqCst);
                    let mut pipe = redis::pipe();
                    for seq in from..from + 20 {
                        let cmd = command(seq);
                        pipe.cmd(&cmd[0]).arg(&cmd[1..]);
                    }
                    sent.store(from + 20, Ordering::SeqCst);
                    match pipe.query::<Vec<redis::Value>>(&mut c) {
                        Ok(_) => acked.store(from + 20, Ordering::SeqCst),
                        Err(_) => return,
                    }
                }
            })
        };
        std::thread::sleep(Duration::from_millis(300 + 200 * round));
        child.0.kill().unwrap(); // SIGKILL
        child.0.wait().unwrap();
        stop.store(true, Ordering::SeqCst);
        writer.join().unwrap();
        let (sent, acked) = (sent.load(Ordering::SeqCst), acked.load(Ordering::SeqCst));
        assert!(acked > applied, "round {round}: no write was acknowledged");
        (child, client) = start(&dir, port);
        let got = keyspace(&mut client.get_connection().unwrap());
        let mut model = BTreeMap::new();
        for seq in 0..acked {
            apply(&mut model, &command(seq));
        }
        let mut prefix = acked;
        while model != got && prefix < sent {
            apply(&mut model, &command(prefix));
            prefix += 1;
        }
        assert_eq!(got, model, "round {round}: acked {acked}, sent {sent}");
        applied = prefix;
    }
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}
