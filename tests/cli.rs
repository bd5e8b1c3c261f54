//! The `ferrokv` binary: command line, config file, bad options, startup
//! log line and graceful shutdown on SIGTERM / SIGINT.

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ferrokv");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn unknown_option_names_it_and_exits_1() {
    let out = Command::new(BIN).args(["--port", "0", "--frobnicate", "yes"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("frobnicate") && err.contains("Bad directive"), "{err}");
}

/// Port 0 without a Unix socket or a TLS port: redis-server's line, exit 1,
/// before the data is loaded.
#[test]
fn listening_nowhere_exits() {
    let out = Command::new(BIN).args(["--port", "0", "--save", ""]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("# Configured to not listen anywhere, exiting."), "{log}");
    assert!(!log.contains("Server initialized"), "{log}");
}

#[test]
fn malformed_value_names_the_option() {
    let out = Command::new(BIN).args(["--maxclients", "many"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("maxclients") && err.contains("integer"), "{err}");
    let out = Command::new(BIN).args(["/nonexistent/ferrokv.conf"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

fn run_and_signal(signal: &str) {
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("ferrokv-cli-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("ferrokv.conf");
    std::fs::write(&conf, "# test config\nmaxclients 77\ntimeout 0\nhz 20\nproto-max-bulk-len 64mb\n").unwrap();
    let mut child = Command::new(BIN)
        .arg(&conf)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--dir", dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    // Redis's startup lines, up to the one tools wait for.
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let ready = line.contains("Ready to accept connections tcp");
        seen.push(line);
        if ready {
            break;
        }
    }
    let has = |s: &str| seen.iter().any(|l| l.contains(s));
    assert!(has("Redis is starting") && has("Configuration loaded") && has("Server initialized"), "{seen:?}");
    assert!(has(&format!("pid={}", child.id())) && has(&format!("Running mode=standalone, port={port}.")), "{seen:?}");

    let mut con = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap().get_connection().unwrap();
    let v: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("maxclients").query(&mut con).unwrap();
    assert_eq!(v, vec!["maxclients", "77"]);
    let v: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("proto-max-bulk-len").query(&mut con).unwrap();
    assert_eq!(v, vec!["proto-max-bulk-len", &(64u64 << 20).to_string()]);

    Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let name = if signal == "-TERM" { "SIGTERM" } else { "SIGINT" };
    assert!(rest.iter().any(|l| l.contains(&format!("Received {name} scheduling shutdown..."))), "{rest:?}");
    assert!(rest.last().is_some_and(|l| l.contains("Redis is now ready to exit, bye bye...")), "{rest:?}");
    // Redis's default save points are on: the signal saves first.
    assert!(rest.iter().any(|l| l.contains("Saving the final RDB snapshot before exiting.")), "{rest:?}");
    assert!(dir.join("dump.rdb").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn config_file_then_sigterm_exits_0() {
    run_and_signal("-TERM");
}

#[test]
fn sigint_exits_0() {
    run_and_signal("-INT");
}

/// Redis's Tcl test "SHUTDOWN ABORT can cancel SIGTERM": a signal's
/// shutdown runs at the cron's next tick (held by DEBUG PAUSE-CRON), and
/// SHUTDOWN ABORT cancels it until then; a second SIGINT exits at once.
#[test]
fn shutdown_abort_cancels_a_signal_s_shutdown() {
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("ferrokv-abort-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("log.txt");
    let mut child = Command::new(BIN)
        .args(["--port", &port.to_string(), "--save", "", "--enable-debug-command", "yes"])
        .args(["--dir", dir.to_str().unwrap(), "--logfile", log.to_str().unwrap()])
        .spawn()
        .unwrap();
    let mut c = common::connect_when_up(port);
    let cmd = |c: &mut redis::Connection, args: &[&str]| redis::cmd(args[0]).arg(&args[1..]).query::<String>(c);
    assert_eq!(cmd(&mut c, &["DEBUG", "PAUSE-CRON", "1"]).unwrap(), "OK");
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(cmd(&mut c, &["SHUTDOWN", "ABORT"]).unwrap(), "OK");
    assert_eq!(cmd(&mut c, &["DEBUG", "PAUSE-CRON", "0"]).unwrap(), "OK");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(cmd(&mut c, &["PING"]).unwrap(), "PONG");
    let e = cmd(&mut c, &["SHUTDOWN", "ABORT"]).unwrap_err();
    assert_eq!(e.detail(), Some("No shutdown in progress."), "{e}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("Received SIGTERM scheduling shutdown...") && text.contains("Shutdown manually aborted."),
        "{text}"
    );
    // The Tcl suite's "Temp rdb will be deleted in signal handle": SIGINT
    // starts a shutdown that saves, slowly; a second SIGINT ends it at
    // once (exit 1) and removes the temporary file.
    for i in 0..20 {
        let _: () = redis::cmd("SET").arg(i).arg(i).query(&mut c).unwrap();
    }
    assert_eq!(cmd(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "100000"]).unwrap(), "OK");
    assert_eq!(cmd(&mut c, &["CONFIG", "SET", "shutdown-on-sigint", "save"]).unwrap(), "OK");
    let temp = dir.join(format!("temp-{pid}.rdb"));
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let start = Instant::now();
    while !temp.exists() {
        assert!(start.elapsed() < Duration::from_secs(5), "the shutdown did not start saving");
        std::thread::sleep(Duration::from_millis(10));
    }
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    assert!(!temp.exists(), "the temporary RDB was left");
    assert!(std::fs::read_to_string(&log).unwrap().contains("You insist... exiting now."));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts the binary under `ulimit -n <limit>` (soft and hard) and reads its
/// log up to the ready line.
fn start_with_ulimit(limit: u32, args: &str) -> (std::process::Child, u16, Vec<String>) {
    let port = free_port();
    let mut child = Command::new("sh")
        .args(["-c", &format!("ulimit -n {limit} && exec {BIN} --port {port} --save '' {args}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.contains("Ready to accept connections") || line.contains("Exiting.");
        seen.push(line);
        if done {
            break;
        }
    }
    // Keep reading: the server's later log lines must not hit a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, port, seen)
}

#[test]
fn maxclients_is_lowered_to_what_the_open_files_limit_allows() {
    // Redis's adjustOpenFilesLimit: ulimit -n 200 holds 168 clients + 32.
    let (mut child, port, seen) = start_with_ulimit(200, "--maxclients 1000");
    let has = |s: &str| seen.iter().any(|l| l.contains(s));
    assert!(has("You requested maxclients of 1000 requiring at least 1032 max file descriptors."), "{seen:?}");
    assert!(
        has("Server can't set maximum open files to 1032 because of OS error: Operation not permitted."),
        "{seen:?}"
    );
    assert!(
        has(
            "Current maximum open files is 200. maxclients has been reduced to 168 to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'."
        ),
        "{seen:?}"
    );
    let mut con = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap().get_connection().unwrap();
    let v: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("maxclients").query(&mut con).unwrap();
    assert_eq!(v, vec!["maxclients", "168"]);
    // CONFIG SET past the limit is refused and changes nothing (Redis's
    // updateMaxclients); within it, it works.
    let err = redis::cmd("CONFIG").arg("SET").arg("maxclients").arg("500").query::<()>(&mut con).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ResponseError: CONFIG SET failed (possibly related to argument 'maxclients') - The operating system is not able to handle the specified number of clients, try with 168"
    );
    let v: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("maxclients").query(&mut con).unwrap();
    assert_eq!(v, vec!["maxclients", "168"]);
    let () = redis::cmd("CONFIG").arg("SET").arg("maxclients").arg("100").query(&mut con).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn too_low_an_open_files_limit_stops_the_start() {
    let (mut child, _, seen) = start_with_ulimit(30, "");
    assert!(
        seen.iter().any(|l| l.contains(
            "Your current 'ulimit -n' of 30 is not enough for the server to start. Please increase your open file limit to at least 10032. Exiting."
        )),
        "{seen:?}"
    );
    assert_eq!(child.wait().unwrap().code(), Some(1));
}

#[test]
fn a_closed_standard_output_does_not_stop_the_server() {
    // `ferrokv | head`: the reader goes away; later log lines are dropped,
    // as Redis's serverLog drops them, and the server goes on.
    let port = free_port();
    let mut child = Command::new(BIN)
        .args(["--port", &port.to_string(), "--save", "", "--enable-debug-command", "yes"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    assert!(lines.by_ref().map_while(Result::ok).any(|l| l.contains("Ready to accept connections")));
    drop(lines);
    let mut con = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap().get_connection().unwrap();
    for i in 0..3 {
        let () = redis::cmd("DEBUG").arg("LOG").arg(format!("line {i}")).query(&mut con).unwrap();
    }
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
    assert!(child.try_wait().unwrap().is_none(), "the server exited");
    child.kill().unwrap();
    child.wait().unwrap();
}
