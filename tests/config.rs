//! Drop-in configuration: every parameter Redis 7.0.15 lists, from a file,
//! the command line and CONFIG GET/SET, with Redis's defaults and error
//! texts; Debian's stock redis.conf; the Unix socket; protected mode.
//!
//! `tests/data/redis7_config_defaults.tsv` is `CONFIG GET *` of a
//! redis-server 7.0.15 started with no config file (`redis-server --port
//! 7792`, in /tmp/rdef); `tests/data/debian-redis.conf` is the
//! `/etc/redis/redis.conf` of Debian's redis-server 7.0.15 package.

mod common;

use common::{err, q, server, server_with};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ferrokv");

fn redis_defaults() -> BTreeMap<String, String> {
    let text = include_str!("data/redis7_config_defaults.tsv");
    text.lines()
        .map(|l| {
            let (k, v) = l.split_once('\t').unwrap_or((l, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn config_get_all(c: &mut redis::Connection) -> BTreeMap<String, String> {
    let v: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("*").query(c).unwrap();
    v.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ferrokv-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Where ferrokv's defaults differ from Redis's, on purpose (README).
const DIFFERENT_DEFAULTS: &[&str] = &[
    // Loopback only by default: `cargo run` must not listen on every interface.
    "bind",
    // Frees big evicted values aside (README).
    "lazyfree-lazy-eviction",
    // Run-specific (the test servers have no save points).
    "save",
    "port",
    "dir",
];

#[test]
fn config_get_star_lists_every_redis_parameter_with_its_default() {
    let srv = server();
    let mut c = srv.client();
    let ours = config_get_all(&mut c);
    let redis = redis_defaults();
    assert_eq!(redis.len(), 192);
    assert_eq!(ours.keys().collect::<Vec<_>>(), redis.keys().collect::<Vec<_>>(), "CONFIG GET * names");
    for (name, value) in &redis {
        if !DIFFERENT_DEFAULTS.contains(&name.as_str()) {
            assert_eq!(&ours[name], value, "default of {name}");
        }
    }
    // Hidden parameters answer to their exact name only, as in Redis.
    let v: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("rdb-key-save-delay").query(&mut c).unwrap();
    assert_eq!(v, ["rdb-key-save-delay", "0"]);
    assert!(!ours.contains_key("rdb-key-save-delay"));
}

#[test]
fn starts_from_a_config_setting_every_parameter_to_redis_default() {
    let dir = temp_dir("alldefaults");
    let mut text = String::new();
    for (name, value) in redis_defaults() {
        let value = match name.as_str() {
            "dir" => dir.to_string_lossy().into_owned(),
            "port" => "0".into(),
            // An empty replicaof is "wrong number of arguments" in Redis
            // too: "no one" is how a file says "no primary".
            "replicaof" | "slaveof" => "no one".into(),
            _ => value,
        };
        // Multi-word values are several arguments, as Redis rewrites them.
        let words: Vec<String> = if value.is_empty() {
            vec!["\"\"".into()]
        } else if [
            "bind",
            "client-output-buffer-limit",
            "oom-score-adj-values",
            "latency-tracking-info-percentiles",
            "save",
            "replicaof",
            "slaveof",
        ]
        .contains(&name.as_str())
        {
            value.split(' ').map(String::from).collect()
        } else {
            vec![format!("\"{value}\"")]
        };
        text.push_str(&format!("{name} {}\n", words.join(" ")));
    }
    let mut config = ferrokv::Config::default();
    config.load_text(&text).unwrap();
    config.port = 0;
    let handle = ferrokv::start(config).unwrap();
    let mut c =
        redis::Client::open(format!("redis://127.0.0.1:{}/", handle.addr.port())).unwrap().get_connection().unwrap();
    let ours = config_get_all(&mut c);
    for (name, value) in redis_defaults() {
        if !["dir", "port"].contains(&name.as_str()) {
            assert_eq!(ours[&name], value, "{name}");
        }
    }
    assert_eq!(ours["dir"], dir.to_string_lossy());
    drop(c);
    drop(handle);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs the binary with `args` and waits for its readiness line in
/// `log`; returns the pid it wrote to `pidfile`.
fn wait_ready(log: &std::path::Path, pidfile: &std::path::Path) -> u32 {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains("Ready to accept connections tcp") {
            let pid = std::fs::read_to_string(pidfile).unwrap();
            return pid.trim().parse().unwrap();
        }
        assert!(start.elapsed() < Duration::from_secs(10), "not ready: {text}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn starts_from_debians_stock_redis_conf_daemonized() {
    let dir = temp_dir("debian");
    let (log, pidfile) = (dir.join("redis.log"), dir.join("redis.pid"));
    let port = free_port();
    // Only what points at the machine's own paths changes (and the port,
    // so that tests run side by side); `daemonize yes` stays.
    let status = Command::new(BIN)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/debian-redis.conf"))
        .args(["--pidfile", pidfile.to_str().unwrap(), "--logfile", log.to_str().unwrap()])
        .args(["--dir", dir.to_str().unwrap(), "--port", &port.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "the parent exits 0 once detached");
    let pid = wait_ready(&log, &pidfile);
    let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap().get_connection().unwrap();
    let all = config_get_all(&mut c);
    assert_eq!(all.len(), 192);
    assert_eq!(all["daemonize"], "yes");
    assert_eq!(all["bind"], "127.0.0.1 -::1");
    assert_eq!(all["logfile"], log.to_string_lossy());
    assert_eq!(all["dir"], dir.to_string_lossy());
    // Debian's file leaves Redis's default save points on.
    assert_eq!(all["save"], "3600 1 300 100 60 10000");
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    // SHUTDOWN saves (save points are set), removes the pid file and says
    // goodbye in Redis's words.
    let _ = redis::cmd("SHUTDOWN").query::<()>(&mut c);
    let start = Instant::now();
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        assert!(start.elapsed() < Duration::from_secs(5), "server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!pidfile.exists());
    let text = std::fs::read_to_string(&log).unwrap();
    for line in [
        "Configuration loaded",
        "Server initialized",
        "Ready to accept connections tcp",
        "User requested shutdown...",
        "Saving the final RDB snapshot before exiting.",
        "DB saved on disk",
        "Removing the pid file.",
        "Redis is now ready to exit, bye bye...",
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn settings_that_would_turn_on_a_missing_feature_stop_startup() {
    for (args, text) in [
        (&["--replicaof", "127.0.0.1", "6380"][..], "replication not supported by ferrokv yet"),
        (&["--cluster-enabled", "yes"][..], "cluster mode not supported by ferrokv yet"),
        (&["--dir", "/nonexistent/dir"][..], "No such file or directory"),
    ] {
        let out = Command::new(BIN).args(args).stdout(Stdio::null()).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***") && err.contains(text),
            "{args:?}: {err}"
        );
    }
}

/// redis-server 7.0.15's command line, recorded (the cases of its Tcl
/// suite's "command line arguments - error cases" and more): each
/// `--name` starts a config line after the file's text (line 2 without a
/// file), a name alone takes the next argument as its value even if it
/// starts with `--`, values are quoted as `sdscatrepr` quotes them.
#[test]
fn command_line_errors_read_as_redis_server_s() {
    let cases: &[(&[&str], &str, &str)] = &[
        (&["--port"], "at line 2\n>>> 'port'\n", "wrong number of arguments"),
        (&["--port", "6380", "--loglevel"], "at line 3\n>>> 'loglevel'\n", "wrong number of arguments"),
        (&["--port", "6379", "6380"], ">>> 'port \"6379\" \"6380\"'\n", "wrong number of arguments"),
        (&["--port", "--loglevel", "verbose"], ">>> 'port \"--loglevel\" \"verbose\"'\n", "wrong number of arguments"),
        (
            &["--port", "--bla", "--loglevel", "verbose"],
            ">>> 'port \"--bla\"'\n",
            "argument couldn't be parsed into an integer",
        ),
        (
            &["--logfile", "--my--log--file", "--loglevel", "--bla"],
            "at line 3\n>>> 'loglevel \"--bla\"'\n",
            "argument(s) must be one of the following: debug, verbose, notice, warning",
        ),
        (
            &["--shutdown-on-sigint"],
            ">>> 'shutdown-on-sigint'\n",
            "argument(s) must be one of the following: default, save, nosave, now, force",
        ),
        (
            &["--shutdown-on-sigint", "now force", "--shutdown-on-sigterm"],
            "at line 3\n>>> 'shutdown-on-sigterm'\n",
            "argument(s) must be one of the following",
        ),
        (&["--replicaof", "--127.0.0.1", "--abc"], ">>> 'replicaof \"--127.0.0.1\"'\n", "wrong number of arguments"),
        (&["--port", "6380", "bar"], ">>> 'port \"6380\" \"bar\"'\n", "wrong number of arguments"),
        (&["--save", "--port", "x"], "at line 3\n>>> 'port \"x\"'\n", "argument couldn't be parsed into an integer"),
        (&["--x", "a\"b\\c\td\x01", "--port", "y"], ">>> 'x \"a\\\"b\\\\c\\td\\x01\"'\n", "Bad directive"),
        (&["--oom-score-adj-values"], ">>> 'oom-score-adj-values'\n", "wrong number of arguments"),
    ];
    for (args, at, why) in cases {
        let out = Command::new(BIN).args(*args).stdout(Stdio::null()).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***"), "{args:?}: {err}");
        assert!(err.contains(at) && err.contains(why), "{args:?}: {err}");
    }
    // A config file that cannot be read: logged with its absolute path.
    let out = Command::new(BIN).arg("no/such.conf").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let abs = std::env::current_dir().unwrap().join("no/such.conf");
    assert!(text.contains(":C "), "{text}");
    assert!(
        text.contains(&format!("# Fatal error, can't open config file '{}': No such file or directory", abs.display())),
        "{text}"
    );
}

/// The process title as Redis sets it (its Tcl test "Process title set as
/// expected"): the command line `ps aux` and `/proc/PID/cmdline` show is
/// `proc-title-template` expanded, `{title}` the executable as started,
/// and CONFIG SET of the template changes it at once; the thread name
/// (`comm`) gets the same with the base name.
#[test]
fn the_command_line_shows_the_process_title() {
    let port = free_port();
    let mut child =
        Command::new(BIN).args(["--port", &port.to_string(), "--save", ""]).stdout(Stdio::null()).spawn().unwrap();
    let mut c = common::connect_when_up(port);
    let cmdline = || {
        let raw = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap();
        String::from_utf8_lossy(&raw).trim_end_matches('\0').to_string()
    };
    assert_eq!(cmdline(), format!("{BIN} 127.0.0.1:{port}"));
    let template = "TEST {title} {listen-addr} {port} {tls-port} {unixsocket} {config-file}";
    let _: () = q(&mut c, &["CONFIG", "SET", "proc-title-template", template]);
    assert_eq!(cmdline(), format!("TEST {BIN} 127.0.0.1:{port} {port} 0"));
    let comm = std::fs::read_to_string(format!("/proc/{}/comm", child.id())).unwrap();
    assert_eq!(comm.trim_end(), "TEST ferrokv 12");
    assert!(
        err(&mut c, &["CONFIG", "SET", "proc-title-template", "{invalid-var}"]).contains("template format is invalid")
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn port_in_use_fails_with_redis_lines() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = Command::new(BIN).args(["--port", &port.to_string()]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "Could not create server TCP listening socket 127.0.0.1:{port}: bind: Address already in use"
        )),
        "{text}"
    );
    assert!(text.contains(&format!("Failed listening on port {port} (tcp), aborting.")), "{text}");
}

#[test]
fn version_line_in_redis_server_shape() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("Redis server v=7.0.15 sha=") && text.contains("build=ferrokv-"), "{text}");
}

#[test]
fn config_set_checks_as_redis() {
    let srv = server();
    let mut c = srv.client();
    let failed =
        |name: &str, why: &str| format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}");
    let cases: &[(&[&str], String)] = &[
        (
            &["loglevel", "foo"],
            failed("loglevel", "argument(s) must be one of the following: debug, verbose, notice, warning"),
        ),
        (&["port", "abc"], failed("port", "argument couldn't be parsed into an integer")),
        (&["databases", "5"], failed("databases", "can't set immutable config")),
        (&["dbfilename", "a/b"], failed("dbfilename", "can't set protected config")),
        (&["dir", "/tmp"], failed("dir", "can't set protected config")),
        (&["maxclients", "0"], failed("maxclients", "argument must be between 1 and 4294967295 inclusive")),
        (&["unixsocketperm", "999"], failed("unixsocketperm", "can't set immutable config")),
        (
            &["maxmemory-clients", "200%"],
            failed("maxmemory-clients", "percentage argument must be less or equal to 100"),
        ),
        (&["maxmemory-clients", "x"], failed("maxmemory-clients", "argument must be a memory or percent value")),
        (&["hz", "-1"], failed("hz", "argument must be between 0 and 2147483647 inclusive")),
        // A value that fails names the alias it was given by (Redis 7.0
        // registers aliases as configs of their own), in lower case.
        (
            &["HASH-MAX-ZIPLIST-ENTRIES", "x"],
            failed("hash-max-ziplist-entries", "argument couldn't be parsed into an integer"),
        ),
        (
            &["hash-max-ziplist-entries", "1", "hash-max-ziplist-entries", "2"],
            failed("hash-max-ziplist-entries", "duplicate parameter"),
        ),
        // Memory values as Redis's memtoull reads them: an overflow is
        // the largest number (out of bounds), no digits are 0.
        (
            &["hll-sparse-max-bytes", "99999999999999999999999"],
            failed("hll-sparse-max-bytes", "argument must be between 0 and 9223372036854775807 inclusive"),
        ),
        (
            &["active-defrag-ignore-bytes", ""],
            failed("active-defrag-ignore-bytes", "argument must be between 1 and 9223372036854775807 inclusive"),
        ),
        (&["hll-sparse-max-bytes", " 1"], failed("hll-sparse-max-bytes", "argument must be a memory value")),
        (
            &["appendfsync", "x"],
            failed("appendfsync", "argument(s) must be one of the following: everysec, always, no"),
        ),
        (&["save", "1 2 3"], failed("save", "Invalid save parameters")),
        (&["nosuch", "1"], "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'".into()),
        (&["timeout", "1", "timeout", "2"], failed("timeout", "duplicate parameter")),
        (&["timeout", "1", "databases", "2"], failed("databases", "can't set immutable config")),
        (&["oom-score-adj-values", "1 2"], failed("oom-score-adj-values", "wrong number of arguments")),
        (
            &["oom-score-adj-values", "0 200 5000"],
            failed("oom-score-adj-values", "Invalid oom-score-adj-values, elements must be between -2000 and 2000."),
        ),
        (
            &["proc-title-template", "{foo}"],
            failed("proc-title-template", "template format is invalid or contains unknown variables"),
        ),
        (
            &["notify-keyspace-events", "Q"],
            failed("notify-keyspace-events", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."),
        ),
        (
            &["cluster-announce-hostname", "a_b"],
            failed("cluster-announce-hostname", "Hostnames may only contain alphanumeric characters, hyphens or dots"),
        ),
        (
            &["client-output-buffer-limit", "master 1 1 1"],
            failed("client-output-buffer-limit", "Invalid client class specified in buffer limit configuration."),
        ),
        (
            &["tracking-table-max-keys", "-1"],
            failed("tracking-table-max-keys", "argument must be between 0 and 9223372036854775807 inclusive"),
        ),
        (&["maxmemory", "-1"], failed("maxmemory", "argument must be a memory value")),
        (
            &["shutdown-on-sigint", "save nosave"],
            failed("shutdown-on-sigint", "shutdown options SAVE and NOSAVE can't be used simultaneously"),
        ),
        (
            &["shutdown-on-sigint", "foo"],
            failed("shutdown-on-sigint", "argument(s) must be one of the following: default, save, nosave, now, force"),
        ),
        (
            &["shutdown-on-sigterm", " "],
            failed(
                "shutdown-on-sigterm",
                "argument(s) must be one of the following: default, save, nosave, now, force",
            ),
        ),
        (&["replicaof", "a b"], failed("replicaof", "can't set immutable config")),
        // As Redis's applyTLSPort without a certificate (tests/tls.rs has the rest).
        (&["tls-port", "6380"], failed("tls-port", "Unable to update TLS configuration. Check server logs.")),
        (
            &["activedefrag", "yes"],
            failed(
                "activedefrag",
                "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution",
            ),
        ),
        (&["io-threads", "4"], failed("io-threads", "can't set immutable config")),
        (
            &["list-compress-depth", "-1"],
            failed("list-compress-depth", "argument must be between 0 and 2147483647 inclusive"),
        ),
    ];
    for (pairs, expected) in cases {
        let mut cmd = redis::cmd("CONFIG");
        cmd.arg("SET");
        for p in pairs.iter() {
            cmd.arg(*p);
        }
        let e = cmd.query::<()>(&mut c).unwrap_err();
        let text = format!("{} {}", e.code().unwrap_or(""), e.detail().unwrap_or(""));
        assert_eq!(&text, expected, "{pairs:?}");
    }
    // A failed CONFIG SET changes nothing.
    assert_eq!(q::<Vec<String>>(&mut c, &["CONFIG", "GET", "timeout"]), ["timeout", "0"]);
    // What `CONFIG SET save ""` tools send first works, as do settings
    // that leave a feature off or only tune it.
    for (name, value, shown) in [
        ("save", "", ""),
        ("appendonly", "no", "no"),
        ("appendfsync", "ALWAYS", "always"),
        ("requirepass", "", ""),
        ("repl-backlog-size", "2mb", "2097152"),
        ("maxmemory-clients", "0", "0"),
        ("hz", "1000", "500"),
        ("tls-cert-file", "/etc/x.pem", "/etc/x.pem"),
        ("shutdown-on-sigterm", "nosave now", "nosave now"),
        ("shutdown-on-sigterm", "force now nosave default", "nosave now force"),
        ("lua-time-limit", "100", "100"),
        ("slave-read-only", "no", "no"),
        ("hash-max-ziplist-value", "1kb", "1024"),
        ("proc-title-template", "{title} {port}", "{title} {port}"),
        ("rdb-key-save-delay", "-5", "-5"),
    ] {
        assert_eq!(q::<String>(&mut c, &["CONFIG", "SET", name, value]), "OK", "{name}");
        assert_eq!(q::<Vec<String>>(&mut c, &["CONFIG", "GET", name]), [name, shown], "{name}");
    }
    // An alias beside its option is no duplicate: the last one wins.
    let pair = ["CONFIG", "SET", "hash-max-ziplist-entries", "100", "hash-max-listpack-entries", "200"];
    assert_eq!(q::<String>(&mut c, &pair), "OK");
    assert_eq!(
        q::<Vec<String>>(&mut c, &["CONFIG", "GET", "hash-max-ziplist-entries"]),
        ["hash-max-ziplist-entries", "200"]
    );
    // Redis keeps an overflowing memory value in a signed `long long`
    // for maxmemory-clients: -1, that is 1%.
    assert_eq!(q::<String>(&mut c, &["CONFIG", "SET", "maxmemory-clients", "99999999999999999999999"]), "OK");
    assert_eq!(q::<Vec<String>>(&mut c, &["CONFIG", "GET", "maxmemory-clients"]), ["maxmemory-clients", "1%"]);
    assert_eq!(q::<String>(&mut c, &["CONFIG", "SET", "maxmemory-clients", "0"]), "OK");
    for (value, shown) in [("", "0"), ("gb", "0"), ("00012", "12")] {
        assert_eq!(q::<String>(&mut c, &["CONFIG", "SET", "hll-sparse-max-bytes", value]), "OK", "{value:?}");
        assert_eq!(
            q::<Vec<String>>(&mut c, &["CONFIG", "GET", "hll-sparse-max-bytes"]),
            ["hll-sparse-max-bytes", shown]
        );
    }
    // The alias shows the same value.
    assert_eq!(q::<Vec<String>>(&mut c, &["CONFIG", "GET", "replica-read-only"]), ["replica-read-only", "no"]);
    assert_eq!(q::<Vec<String>>(&mut c, &["CONFIG", "GET", "busy-reply-threshold"]), ["busy-reply-threshold", "100"]);
}

#[test]
fn protected_configs_can_be_allowed() {
    let dir = temp_dir("protected");
    let srv = server_with(|c| c.enable_protected_configs = "local");
    let mut c = srv.client();
    let d = dir.to_string_lossy();
    assert_eq!(q::<String>(&mut c, &["CONFIG", "SET", "dir", &d, "dbfilename", "x.rdb"]), "OK");
    assert_eq!(q::<Vec<String>>(&mut c, &["CONFIG", "GET", "dir"]), ["dir", &d]);
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "dir", "/nonexistent/dir"]),
        "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory"
    );
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "dbfilename", "a/b"]),
        "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be a path, just a filename"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn config_set_port_rebinds() {
    let srv = server();
    let mut c = srv.client();
    let port = free_port();
    assert_eq!(q::<String>(&mut c, &["CONFIG", "SET", "port", &port.to_string()]), "OK");
    let mut moved = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap().get_connection().unwrap();
    assert_eq!(q::<String>(&mut moved, &["PING"]), "PONG");
    // The old port is closed: nothing answers there, or (tests run in
    // parallel, and a freed ephemeral port is handed out again) another
    // test's server does.
    if std::net::TcpStream::connect(srv.handle.addr).is_ok() {
        let run_id = |c: &mut redis::Connection| {
            let info = q::<String>(c, &["INFO", "server"]);
            info.lines().find(|l| l.starts_with("run_id:")).map(str::to_owned)
        };
        let mut other = redis::Client::open(format!("redis://{}/", srv.handle.addr)).unwrap().get_connection().unwrap();
        assert_ne!(run_id(&mut other), run_id(&mut moved), "the old port is closed");
    }
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = taken.local_addr().unwrap().port().to_string();
    assert_eq!(
        err(&mut moved, &["CONFIG", "SET", "port", &busy]),
        "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs."
    );
    assert_eq!(q::<Vec<String>>(&mut moved, &["CONFIG", "GET", "port"]), ["port", &port.to_string()]);
    assert_eq!(
        err(&mut moved, &["CONFIG", "SET", "bind", "192.0.2.254"]),
        "ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses."
    );
    assert_eq!(q::<String>(&mut moved, &["PING"]), "PONG");
}

#[test]
fn config_rewrite_round_trips_every_parameter() {
    let dir = temp_dir("rewrite");
    let path = dir.join("redis.conf");
    std::fs::write(&path, "# mine\nport 0\nmaxclients 50\nenable-debug-command local\n").unwrap();
    let mut config = ferrokv::Config::from_args(&[path.to_string_lossy().into_owned()]).unwrap();
    config.port = 0;
    config.dir = dir.to_string_lossy().into_owned();
    let handle = ferrokv::start(config).unwrap();
    let mut c = redis::Client::open(format!("redis://{}/", handle.addr)).unwrap().get_connection().unwrap();
    for (k, v) in [
        ("maxclients", "60"),
        ("repl-backlog-size", "2097152"),
        ("save", ""),
        ("client-output-buffer-limit", "normal 0 0 0 slave 1073741824 67108864 60 pubsub 33554432 8388608 30"),
        ("oom-score-adj-values", "0 300 900"),
        ("tls-ciphers", "a b"),
    ] {
        assert_eq!(q::<String>(&mut c, &["CONFIG", "SET", k, v]), "OK", "{k}");
    }
    assert_eq!(q::<String>(&mut c, &["CONFIG", "REWRITE"]), "OK");
    let before = config_get_all(&mut c);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("# mine\n") && text.contains("maxclients 60"), "{text}");
    let mut again = ferrokv::Config::default();
    again.load_text(&text).unwrap();
    again.port = 0;
    again.dir = dir.to_string_lossy().into_owned();
    let h2 = ferrokv::start(again).unwrap();
    let mut c2 = redis::Client::open(format!("redis://{}/", h2.addr)).unwrap().get_connection().unwrap();
    let after = config_get_all(&mut c2);
    for (k, v) in &before {
        if k != "port" && k != "dir" {
            assert_eq!(&after[k], v, "{k}");
        }
    }
    // DEBUG CONFIG-REWRITE-FORCE-ALL (the Tcl suite's "CONFIG REWRITE
    // sanity"): every option written, defaults too, `dir` as the absolute
    // working directory (Redis writes it always), no `replicaof` without a
    // primary; the file loads back to the same values.
    assert_eq!(q::<String>(&mut c, &["DEBUG", "CONFIG-REWRITE-FORCE-ALL"]), "OK");
    let text = std::fs::read_to_string(&path).unwrap();
    let written: Vec<&str> = text.lines().filter_map(|l| l.split_whitespace().next()).collect();
    for name in ["hz", "databases", "lazyfree-lazy-user-del", "maxclients", "dir", "logfile"] {
        assert_eq!(written.iter().filter(|w| **w == name).count(), 1, "{name} in {text}");
    }
    assert!(text.contains(&format!("dir \"{}\"", dir.display())) || text.contains(&format!("dir {}", dir.display())));
    assert!(!written.contains(&"replicaof"), "{text}");
    let mut forced = ferrokv::Config::default();
    forced.load_text(&text).unwrap();
    forced.port = 0;
    let h3 = ferrokv::start(forced).unwrap();
    let mut c3 = redis::Client::open(format!("redis://{}/", h3.addr)).unwrap().get_connection().unwrap();
    let reloaded = config_get_all(&mut c3);
    for (k, v) in &before {
        if k != "port" {
            assert_eq!(&reloaded[k], v, "{k}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unix_socket_alone_with_port_0() {
    let dir = temp_dir("unix");
    let path = dir.join("ferrokv.sock");
    let p = path.to_string_lossy().into_owned();
    let handle = ferrokv::start(ferrokv::Config {
        port: 0,
        unixsocket: p.clone(),
        unixsocketperm: 0o700,
        save: Vec::new(),
        dir: dir.to_string_lossy().into_owned(),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(handle.addr.port(), 0, "no TCP");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o700);
    let mut c = redis::Client::open(format!("redis+unix://{p}")).unwrap().get_connection().unwrap();
    assert_eq!(q::<String>(&mut c, &["SET", "k", "v"]), "OK");
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "v");
    let info: String = q(&mut c, &["CLIENT", "INFO"]);
    assert!(info.contains(&format!(" addr={p}:0 laddr={p}:0 ")), "{info}");
    assert!(info.contains(" flags=U "), "{info}");
    let port: Vec<String> = q(&mut c, &["CONFIG", "GET", "unixsocket*"]);
    assert_eq!(port, ["unixsocket", &p, "unixsocketperm", "700"]);
    drop(handle);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unix_socket_beside_tcp_and_client_kill_by_addr() {
    let dir = temp_dir("unix2");
    let p = dir.join("s.sock").to_string_lossy().into_owned();
    let port = free_port();
    let config = ferrokv::Config {
        port,
        unixsocket: format!("{p}2"),
        save: Vec::new(),
        dir: dir.to_string_lossy().into_owned(),
        ..Default::default()
    };
    let handle = ferrokv::start(config).unwrap();
    let mut tcp = redis::Client::open(format!("redis://{}/", handle.addr)).unwrap().get_connection().unwrap();
    let mut unix = redis::Client::open(format!("redis+unix://{p}2")).unwrap().get_connection().unwrap();
    assert_eq!(q::<String>(&mut unix, &["PING"]), "PONG");
    let list: String = q(&mut tcp, &["CLIENT", "LIST"]);
    assert_eq!(list.lines().count(), 2, "{list}");
    assert_eq!(q::<i64>(&mut tcp, &["CLIENT", "KILL", "ADDR", &format!("{p}2:0")]), 1);
    assert!(q::<String>(&mut tcp, &["PING"]) == "PONG");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn min_replicas_refuses_writes_without_replicas() {
    let srv = server();
    let mut c = srv.client();
    assert_eq!(q::<String>(&mut c, &["CONFIG", "SET", "min-replicas-to-write", "1"]), "OK");
    assert_eq!(err(&mut c, &["SET", "a", "b"]), "NOREPLICAS Not enough good replicas to write.");
    assert_eq!(q::<Option<String>>(&mut c, &["GET", "a"]), None);
    let mut raw = srv.raw();
    raw.roundtrip(b"MULTI\r\nSET a b\r\nEXEC\r\n", b"+OK\r\n-NOREPLICAS Not enough good replicas to write.\r\n-EXECABORT Transaction discarded because of previous errors.\r\n");
    // A lag of 0 turns the check off, as in Redis.
    assert_eq!(q::<String>(&mut c, &["CONFIG", "SET", "min-replicas-max-lag", "0"]), "OK");
    assert_eq!(q::<String>(&mut c, &["SET", "a", "b"]), "OK");
}

#[test]
fn protected_mode_refuses_other_hosts() {
    // A non-loopback address of this machine, if it has one.
    let Some(ip) = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").map(|_| s))
        .and_then(|s| s.local_addr())
        .ok()
        .map(|a| a.ip())
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
    else {
        eprintln!("no non-loopback address: only loopback is checked");
        return;
    };
    let srv = server_with(|c| c.bind = vec!["*".into()]);
    let port = srv.handle.addr.port();
    let mut s = std::net::TcpStream::connect((ip, port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut text = String::new();
    std::io::Write::write_all(&mut s, b"PING\r\n").unwrap();
    let _ = BufReader::new(s).read_line(&mut text);
    assert!(text.starts_with("-DENIED Redis is running in protected mode because protected mode is enabled"), "{text}");
    let mut local = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap().get_connection().unwrap();
    assert_eq!(q::<String>(&mut local, &["CONFIG", "SET", "protected-mode", "no"]), "OK");
    let mut other = redis::Client::open(format!("redis://{ip}:{port}/")).unwrap().get_connection().unwrap();
    assert_eq!(q::<String>(&mut other, &["PING"]), "PONG");
}

#[test]
fn readme_configuration_table_is_current() {
    let table = ferrokv::config::markdown();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let (start, end) = ("<!-- config table start -->\n", "<!-- config table end -->");
        let a = readme.find(start).expect("start marker") + start.len();
        let b = readme.find(end).expect("end marker");
        let updated = format!("{}{}{}", &readme[..a], table, &readme[b..]);
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"), updated).unwrap();
        return;
    }
    assert!(
        readme.contains(&table),
        "README's configuration table is stale: run `UPDATE_DOCS=1 cargo test --test config readme`"
    );
    assert_eq!(table.lines().count(), 2 + ferrokv::config::OPTIONS.len());
}

/// A child process killed when dropped (also when a test panics, so that
/// it does not outlive the test holding its output pipes).
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the binary until `ready` shows in its log; returns the child.
fn spawn_ready(args: &[&str], envs: &[(&str, &str)], log: &std::path::Path) -> Killed {
    let mut cmd = Command::new(BIN);
    cmd.args(args).args(["--logfile", log.to_str().unwrap()]).stdout(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let child = Killed(cmd.spawn().unwrap());
    let start = Instant::now();
    while !std::fs::read_to_string(log).unwrap_or_default().contains("Ready to accept connections") {
        assert!(start.elapsed() < Duration::from_secs(10), "not ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn supervised_systemd_is_told_ready_and_oom_score_adj_is_written() {
    use std::os::unix::net::UnixDatagram;
    let dir = temp_dir("supervised");
    let sock_path = dir.join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let port = free_port().to_string();
    let log = dir.join("log");
    let child = spawn_ready(
        &[
            "--port",
            &port,
            "--dir",
            dir.to_str().unwrap(),
            "--supervised",
            "systemd",
            "--oom-score-adj",
            "absolute",
            "--oom-score-adj-values",
            "123 200 800",
        ],
        &[("NOTIFY_SOCKET", sock_path.to_str().unwrap())],
        &log,
    );
    let mut buf = [0u8; 256];
    let n = sock.recv(&mut buf).unwrap();
    let msg = String::from_utf8_lossy(&buf[..n]);
    assert!(msg.contains("READY=1") && msg.contains("STATUS=Ready to accept connections"), "{msg}");
    let adj = std::fs::read_to_string(format!("/proc/{}/oom_score_adj", child.0.id())).unwrap();
    assert_eq!(adj.trim(), "123");
    // CONFIG SET moves it (relative to the value the process started with).
    let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap().get_connection().unwrap();
    assert_eq!(q::<String>(&mut c, &["CONFIG", "SET", "oom-score-adj-values", "321 200 800"]), "OK");
    let path = format!("/proc/{}/oom_score_adj", child.0.id());
    let adj = || std::fs::read_to_string(&path).unwrap().trim().to_string();
    assert_eq!(adj(), "321");
    // Redis's oom-score-adj.tcl: off, the file is left alone; back on, the
    // value found then is the base; off again puts it back.
    let set = |c: &mut redis::Connection, args: &[&str]| {
        let mut all = vec!["CONFIG", "SET"];
        all.extend_from_slice(args);
        assert_eq!(q::<String>(c, &all), "OK", "{args:?}");
    };
    set(&mut c, &["oom-score-adj", "no"]);
    // The child started with this process's value.
    assert_eq!(adj(), std::fs::read_to_string("/proc/self/oom_score_adj").unwrap().trim());
    std::fs::write(&path, "22").unwrap();
    set(&mut c, &["oom-score-adj-values", "23 23 23"]);
    assert_eq!(adj(), "22");
    set(&mut c, &["oom-score-adj-values", "9 9 9", "oom-score-adj", "yes"]);
    assert_eq!(adj(), "31");
    set(&mut c, &["oom-score-adj", "absolute"]);
    assert_eq!(adj(), "9");
    set(&mut c, &["oom-score-adj", "no"]);
    assert_eq!(adj(), "22");
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}
