//! Client libraries other than the `redis` crate, driven against the
//! in-process server: ioredis (Node.js) runs `tests/clients/ioredis_smoke.js`.
//! CI installs ioredis 5 into `target/ioredis` (`.ci/run`); where Node.js or
//! ioredis is missing the test says so and checks nothing.

mod common;
use common::server;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where ioredis is installed: `FERROKV_IOREDIS_DIR` or `target/ioredis`
/// (holding `node_modules/ioredis`), when Node.js is there too.
fn ioredis_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("FERROKV_IOREDIS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/ioredis"));
    let node = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    (node && dir.join("node_modules/ioredis").is_dir()).then_some(dir)
}

#[test]
fn ioredis_works() {
    let Some(dir) = ioredis_dir() else {
        eprintln!("Node.js with ioredis not installed (npm install --prefix target/ioredis ioredis@5): not checked");
        return;
    };
    let s = server();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/ioredis_smoke.js");
    let mut child = Command::new("node")
        .arg(&script)
        .arg(s.handle.addr.port().to_string())
        .env("NODE_PATH", dir.join("node_modules"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs");
    // A client that hangs fails the test instead of the run.
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("ALL OK"), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
}
