//! The last commands of Redis 7.0's COMMAND LIST that no other part owns,
//! through a real client: LOLWUT (the version line, and VERSION 5's
//! Schotter of the asked size), LATENCY GRAPH, ROLE, WAIT, CLUSTER, READONLY,
//! READWRITE, ASKING, RESTORE-ASKING and MODULE (refused unless
//! `enable-module-command` allows it), with Redis 7.0.15's replies and
//! error texts.

mod common;
use common::transcript::run;
use common::{err, q, server, server_with};

fn r(c: &mut redis::Connection, line: &str) -> String {
    let args: Vec<&str> = line.split(' ').collect();
    run(c, &args)
}

#[test]
fn lolwut_prints_redis_s_version_line_and_schotter_on_request() {
    let s = server();
    let mut c = s.client();
    for line in ["LOLWUT", "LOLWUT VERSION", "LOLWUT 10 20", "LOLWUT VERSION 6", "LOLWUT VERSION -1"] {
        assert_eq!(r(&mut c, line), "'Redis ver. 7.0.15\\n'", "{line}");
    }
    assert_eq!(err(&mut c, &["LOLWUT", "VERSION", "x"]), "ERR value is not an integer or out of range");
    assert_eq!(err(&mut c, &["LOLWUT", "VERSION", "5", "a"]), "ERR value is not an integer or out of range");
    // 20 columns, 3 x 3 squares: 10 lines of 20 Braille characters, as
    // Redis draws them (the squares move at random).
    let art: String = q(&mut c, &["LOLWUT", "VERSION", "5", "20", "3", "3"]);
    let lines: Vec<&str> = art.lines().collect();
    assert_eq!(lines.len(), 12, "{art}");
    assert!(
        lines[..10]
            .iter()
            .all(|l| l.chars().count() == 20 && l.chars().all(|ch| ('\u{2800}'..='\u{28ff}').contains(&ch)))
    );
    assert_eq!(lines[10], "");
    assert_eq!(lines[11], "Georg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15");
    // Sizes are clamped as Redis clamps them.
    let tiny: String = q(&mut c, &["LOLWUT", "VERSION", "5", "0", "0", "0"]);
    assert_eq!(tiny.lines().count(), 3, "{tiny}");
}

#[test]
fn latency_graph_draws_an_event_and_refuses_an_unknown_one() {
    let s = server_with(|c| c.enable_debug_command = "yes".into());
    let mut c = s.client();
    assert_eq!(err(&mut c, &["LATENCY", "GRAPH", "command"]), "ERR No samples available for event 'command'");
    assert_eq!(err(&mut c, &["LATENCY", "GRAPH"]), "ERR wrong number of arguments for 'latency|graph' command");
    r(&mut c, "CONFIG SET latency-monitor-threshold 1");
    r(&mut c, "DEBUG SLEEP 0.02");
    let graph: String = q(&mut c, &["LATENCY", "GRAPH", "command"]);
    let lines: Vec<&str> = graph.lines().collect();
    assert!(lines[0].starts_with("command - high ") && lines[0].contains(" ms (all time high "), "{graph}");
    assert_eq!(lines[1], "-".repeat(80));
    // One sample: the bottom row of its column, a blank row, its age.
    assert_eq!(&lines[2..7], &[" ", " ", " ", "_", " "], "{graph}");
    assert_eq!(lines[7], "0");
    assert_eq!(lines[8], "s");
}

#[test]
fn role_is_a_master_without_replicas() {
    let s = server();
    let mut c = s.client();
    assert_eq!(r(&mut c, "ROLE"), "*['master', :0, *[]]");
    assert_eq!(err(&mut c, &["ROLE", "x"]), "ERR wrong number of arguments for 'role' command");
}

/// WAIT as Redis 7.0 answers it without replicas: 0 at once when no
/// replica is asked for (or in MULTI), otherwise 0 after the timeout, or
/// when CLIENT UNBLOCK ends the wait (recorded from redis-server 7.0.15).
#[test]
fn wait_counts_no_replicas() {
    let s = server();
    let mut c = s.client();
    assert_eq!(r(&mut c, "WAIT 0 0"), ":0");
    assert_eq!(r(&mut c, "WAIT -3 9223372036854775807"), ":0");
    let t0 = std::time::Instant::now();
    assert_eq!(r(&mut c, "WAIT 2 150"), ":0");
    assert!(t0.elapsed() >= std::time::Duration::from_millis(150));
    assert_eq!(err(&mut c, &["WAIT", "1.5", "0"]), "ERR value is not an integer or out of range");
    assert_eq!(err(&mut c, &["WAIT", "0", "1.5"]), "ERR timeout is not an integer or out of range");
    assert_eq!(err(&mut c, &["WAIT", "1", "-1"]), "ERR timeout is negative");
    assert_eq!(err(&mut c, &["WAIT", "1"]), "ERR wrong number of arguments for 'wait' command");
    let in_multi: (i64,) = redis::pipe().atomic().cmd("WAIT").arg(1).arg(0).query(&mut c).unwrap();
    assert_eq!(in_multi, (0,));
    let refused = err(&mut c, &["EVAL", "return redis.call('wait', 0, 0)", "0"]);
    assert!(refused.starts_with("ERR This Redis command is not allowed from script"), "{refused}");
    // Blocked until CLIENT UNBLOCK: TIMEOUT answers 0, ERROR the error.
    for (reason, want) in [("TIMEOUT", ":0"), ("ERROR", "-UNBLOCKED client unblocked via CLIENT UNBLOCK")] {
        let mut waiter = s.client();
        let id: i64 = q(&mut waiter, &["CLIENT", "ID"]);
        let t = std::thread::spawn(move || r(&mut waiter, "WAIT 1 0"));
        let start = std::time::Instant::now();
        while r(&mut c, "INFO clients").contains("blocked_clients:0") {
            assert!(start.elapsed() < std::time::Duration::from_secs(10), "WAIT did not block");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(q::<i64>(&mut c, &["CLIENT", "UNBLOCK", &id.to_string(), reason]), 1);
        assert_eq!(t.join().unwrap(), want);
    }
}

/// Cluster-only commands, refused as by a Redis with `cluster-enabled no`.
#[test]
fn cluster_commands_say_cluster_support_is_disabled() {
    let s = server();
    let mut c = s.client();
    for cmd in [
        &["READONLY"][..],
        &["READWRITE"],
        &["ASKING"],
        &["CLUSTER", "INFO"],
        &["CLUSTER", "HELP"],
        &["CLUSTER", "KEYSLOT", "a"],
    ] {
        assert_eq!(err(&mut c, cmd), "ERR This instance has cluster support disabled");
    }
    assert_eq!(err(&mut c, &["READONLY", "x"]), "ERR wrong number of arguments for 'readonly' command");
    assert_eq!(err(&mut c, &["CLUSTER"]), "ERR wrong number of arguments for 'cluster' command");
    assert_eq!(err(&mut c, &["CLUSTER", "INFO", "x"]), "ERR wrong number of arguments for 'cluster|info' command");
    assert_eq!(err(&mut c, &["CLUSTER", "foo"]), "ERR unknown subcommand 'foo'. Try CLUSTER HELP.");
}

#[test]
fn restore_asking_is_restore() {
    let s = server();
    let mut c = s.client();
    r(&mut c, "SET k v");
    let dump: Vec<u8> = q(&mut c, &["DUMP", "k"]);
    let ok: String = redis::cmd("RESTORE-ASKING").arg("k2").arg(0).arg(dump.as_slice()).query(&mut c).unwrap();
    assert_eq!(ok, "OK");
    assert_eq!(r(&mut c, "GET k2"), "'v'");
    assert_eq!(err(&mut c, &["RESTORE-ASKING", "k3", "0", "bad"]), "ERR DUMP payload version or checksum are wrong");
    assert_eq!(r(&mut c, "COMMAND GETKEYS RESTORE-ASKING k 0 x"), "*['k']");
}

#[test]
fn module_commands_are_refused_unless_allowed_and_find_nothing() {
    let s = server();
    let mut c = s.client();
    let refused = "ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run it \
                   from a local connection, otherwise you need to set this option in the configuration file, and then restart \
                   the server.";
    assert_eq!(r(&mut c, "MODULE LIST"), "*[]");
    for cmd in [&["MODULE", "LOAD", "/x.so"][..], &["MODULE", "LOADEX", "/x.so"], &["MODULE", "UNLOAD", "x"]] {
        assert_eq!(err(&mut c, cmd), refused);
    }
    assert_eq!(err(&mut c, &["MODULE", "FOO"]), "ERR unknown subcommand 'FOO'. Try MODULE HELP.");
    assert!(r(&mut c, "MODULE HELP").contains("LOADEX <path>"));
    let s = server_with(|c| {
        c.extra.insert("enable-module-command", "local".into());
    });
    let mut c = s.client();
    assert_eq!(
        err(&mut c, &["MODULE", "LOAD", "/x.so"]),
        "ERR Error loading the extension. Please check the server logs."
    );
    assert_eq!(err(&mut c, &["MODULE", "UNLOAD", "x"]), "ERR Error unloading module: no such module with that name");
}
