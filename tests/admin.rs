//! Server and connection administration through a real client: INFO,
//! CLIENT, RESET, SWAPDB, TIME, LASTSAVE, SHUTDOWN, DEBUG, CONFIG
//! RESETSTAT/REWRITE.

mod common;
use common::{err, q, server, server_with};
use std::collections::HashMap;
use std::time::Duration;

/// INFO as a field map.
fn info(c: &mut redis::Connection, section: &str) -> HashMap<String, String> {
    let text: String = q(c, &["INFO", section]);
    text.lines().filter_map(|l| l.split_once(':')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn info_has_the_fields_tools_read() {
    let s = server();
    let mut c = s.client();
    // The client library's own handshake commands are not part of the test.
    q::<()>(&mut c, &["CONFIG", "RESETSTAT"]);
    q::<()>(&mut c, &["SET", "a", "1"]);
    q::<()>(&mut c, &["SET", "b", "1", "EX", "100"]);
    q::<Option<String>>(&mut c, &["GET", "a"]);
    q::<Option<String>>(&mut c, &["GET", "missing"]);
    let _ = err(&mut c, &["INCR", "nope", "x"]);
    let all = info(&mut c, "everything");
    for field in [
        "redis_version",
        "ferrokv_version",
        "uptime_in_seconds",
        "connected_clients",
        "used_memory",
        "used_memory_human",
        "used_memory_rss",
        "used_memory_peak",
        "maxmemory_policy",
        "total_commands_processed",
        "instantaneous_ops_per_sec",
        "keyspace_hits",
        "keyspace_misses",
        "expired_keys",
        "total_connections_received",
        "role",
        "used_cpu_sys",
        "cluster_enabled",
        "tcp_port",
        "mem_allocator",
    ] {
        assert!(all.contains_key(field), "INFO lacks {field}");
    }
    assert_eq!(all["redis_version"], "7.0.15");
    assert_eq!(all["role"], "master");
    assert_eq!(all["connected_clients"], "1");
    assert_eq!(all["keyspace_hits"], "1");
    assert_eq!(all["keyspace_misses"], "1");
    assert_eq!(all["db0"], "keys=2,expires=1,avg_ttl=0");
    assert_eq!(all["tcp_port"], s.handle.addr.port().to_string());
    assert!(all["used_memory"].parse::<u64>().unwrap() > 0);
    assert!(all["cmdstat_set"].starts_with("calls=2,usec="), "{}", all["cmdstat_set"]);
    assert!(all["cmdstat_incr"].ends_with("rejected_calls=1,failed_calls=0"), "{}", all["cmdstat_incr"]);
    assert_eq!(all["errorstat_ERR"], "count=1");
    // Sections: default leaves commandstats out; names are case-insensitive;
    // unknown sections give an empty reply.
    let text: String = q(&mut c, &["INFO"]);
    assert!(text.starts_with("# Server\r\n") && !text.contains("# Commandstats") && text.contains("# Keyspace"));
    let text: String = q(&mut c, &["INFO", "KEYSPACE", "server"]);
    assert!(text.starts_with("# Server\r\n"));
    assert!(text.ends_with("# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\n"), "{text:?}");
    assert_eq!(q::<String>(&mut c, &["INFO", "nosuchsection"]), "");
}

/// INFO stats and memory list every field redis-server 7.0.15 lists, in
/// its order (recorded from it), and the counters move as Redis's do.
#[test]
fn info_stats_and_memory_have_redis_7_0_fields() {
    const STATS: &str = "total_connections_received total_commands_processed instantaneous_ops_per_sec \
        total_net_input_bytes total_net_output_bytes total_net_repl_input_bytes total_net_repl_output_bytes \
        instantaneous_input_kbps instantaneous_output_kbps instantaneous_input_repl_kbps \
        instantaneous_output_repl_kbps rejected_connections sync_full sync_partial_ok sync_partial_err expired_keys \
        expired_stale_perc expired_time_cap_reached_count expire_cycle_cpu_milliseconds evicted_keys evicted_clients \
        total_eviction_exceeded_time current_eviction_exceeded_time keyspace_hits keyspace_misses pubsub_channels \
        pubsub_patterns pubsubshard_channels latest_fork_usec total_forks migrate_cached_sockets \
        slave_expires_tracked_keys active_defrag_hits active_defrag_misses active_defrag_key_hits \
        active_defrag_key_misses total_active_defrag_time current_active_defrag_time tracking_total_keys \
        tracking_total_items tracking_total_prefixes unexpected_error_replies total_error_replies \
        dump_payload_sanitizations total_reads_processed total_writes_processed io_threaded_reads_processed \
        io_threaded_writes_processed reply_buffer_shrinks reply_buffer_expands";
    const MEMORY: &str = "used_memory used_memory_human used_memory_rss used_memory_rss_human used_memory_peak \
        used_memory_peak_human used_memory_peak_perc used_memory_overhead used_memory_startup used_memory_dataset \
        used_memory_dataset_perc allocator_allocated allocator_active allocator_resident total_system_memory \
        total_system_memory_human used_memory_lua used_memory_vm_eval used_memory_lua_human \
        used_memory_scripts_eval number_of_cached_scripts number_of_functions number_of_libraries \
        used_memory_vm_functions used_memory_vm_total used_memory_vm_total_human used_memory_functions \
        used_memory_scripts used_memory_scripts_human maxmemory maxmemory_human maxmemory_policy \
        allocator_frag_ratio allocator_frag_bytes allocator_rss_ratio allocator_rss_bytes rss_overhead_ratio \
        rss_overhead_bytes mem_fragmentation_ratio mem_fragmentation_bytes mem_not_counted_for_evict \
        mem_replication_backlog mem_total_replication_buffers mem_clients_slaves mem_clients_normal \
        mem_cluster_links mem_aof_buffer mem_allocator active_defrag_running lazyfree_pending_objects \
        lazyfreed_objects";
    let s = server_with(|c| c.enable_debug_command = "yes".into());
    let target = server();
    let mut c = s.client();
    for (section, want) in [("stats", STATS), ("memory", MEMORY)] {
        let text: String = q(&mut c, &["INFO", section]);
        let names: Vec<&str> = text.lines().skip(1).filter_map(|l| l.split_once(':')).map(|(k, _)| k).collect();
        assert_eq!(names, want.split_whitespace().collect::<Vec<_>>(), "INFO {section}");
    }

    // Reads and writes of client sockets: one each per command here.
    let before = info(&mut c, "stats");
    for _ in 0..10 {
        q::<()>(&mut c, &["SET", "k", "v"]);
    }
    let after = info(&mut c, "stats");
    let moved = |name: &str| after[name].parse::<u64>().unwrap() - before[name].parse::<u64>().unwrap();
    assert!(moved("total_reads_processed") >= 11, "{}", moved("total_reads_processed"));
    assert!(moved("total_writes_processed") >= 10, "{}", moved("total_writes_processed"));

    // MIGRATE keeps its connection for 10 s.
    let port = target.handle.addr.port().to_string();
    assert_eq!(q::<String>(&mut c, &["MIGRATE", "127.0.0.1", &port, "k", "0", "1000"]), "OK");
    assert_eq!(info(&mut c, "stats")["migrate_cached_sockets"], "1");

    // Deep checks of RESTORE payloads are counted (a small hash is one
    // listpack), only with sanitize-dump-payload.
    q::<i64>(&mut c, &["HSET", "h", "f", "v"]);
    let payload: Vec<u8> = redis::cmd("DUMP").arg("h").query(&mut c).unwrap();
    let restore = |c: &mut redis::Connection| {
        redis::cmd("RESTORE").arg("h2").arg(0).arg(&payload).arg("REPLACE").query::<()>(c).unwrap()
    };
    restore(&mut c);
    assert_eq!(info(&mut c, "stats")["dump_payload_sanitizations"], "0");
    q::<()>(&mut c, &["CONFIG", "SET", "sanitize-dump-payload", "yes"]);
    restore(&mut c);
    assert_eq!(info(&mut c, "stats")["dump_payload_sanitizations"], "1");

    // Active expiry: a cycle that finds every sampled key expired moves
    // the running estimate by 5%.
    for i in 0..50 {
        q::<()>(&mut c, &["SET", &format!("t{i}"), "v", "PX", "1"]);
    }
    let start = std::time::Instant::now();
    while info(&mut c, "stats")["expired_keys"] != "50" {
        assert!(start.elapsed() < Duration::from_secs(5), "not expired");
        std::thread::sleep(Duration::from_millis(20));
    }
    let stale: f64 = info(&mut c, "stats")["expired_stale_perc"].parse().unwrap();
    assert!(stale > 0.0 && stale <= 100.0, "{stale}");

    // Time over maxmemory: counted while writes are refused, added to
    // the total when memory is back under the limit.
    q::<()>(&mut c, &["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
    q::<()>(&mut c, &["CONFIG", "SET", "maxmemory", "1"]);
    assert!(err(&mut c, &["SET", "x", "y"]).starts_with("OOM "));
    std::thread::sleep(Duration::from_millis(30));
    let over = info(&mut c, "stats");
    assert!(over["current_eviction_exceeded_time"].parse::<u64>().unwrap() >= 20, "{over:?}");
    // (As in Redis, the spell ends at the first eviction check under the
    // limit: with maxmemory 0 there is none and it goes on counting.)
    q::<()>(&mut c, &["CONFIG", "SET", "maxmemory", "1gb"]);
    q::<()>(&mut c, &["SET", "x", "y"]);
    q::<()>(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
    let back = info(&mut c, "stats");
    assert_eq!(back["current_eviction_exceeded_time"], "0");
    assert!(back["total_eviction_exceeded_time"].parse::<u64>().unwrap() >= 20, "{back:?}");

    // Memory: overhead and dataset add up to used_memory. (Enough keys for
    // the dataset to outweigh the startup memory, which counts the two Lua
    // states, ~110 KB, and whatever other servers of this test process
    // hold: memory is counted for the whole process.)
    q::<()>(&mut c, &["DEBUG", "POPULATE", "50000"]);
    let m = info(&mut c, "memory");
    let n = |k: &str| m[k].parse::<u64>().unwrap();
    assert_eq!(n("used_memory_overhead") + n("used_memory_dataset"), n("used_memory"));
    assert!(n("used_memory_startup") < n("used_memory_overhead"));
    assert!(n("used_memory_dataset") > n("used_memory") / 2, "{m:?}");

    // CONFIG RESETSTAT zeroes what Redis's resetServerStats does.
    q::<()>(&mut c, &["CONFIG", "RESETSTAT"]);
    let stats = info(&mut c, "stats");
    for name in ["dump_payload_sanitizations", "total_eviction_exceeded_time", "expired_keys"] {
        assert_eq!(stats[name], "0", "{name}");
    }
    assert_eq!(stats["expired_stale_perc"], "0.00");
}

/// Commands are counted as Redis 7.0.15 counts them (values recorded from
/// it with the same commands): rejected and queued commands are not
/// processed commands; EXEC and each command it runs are; a blocking
/// command is one call when it blocks, served or timed out, and a failure
/// when it is woken with an error.
#[test]
fn calls_are_counted_as_redis_counts_them() {
    let s = server();
    let mut c = s.client();
    let stat = |c: &mut redis::Connection, name: &str| info(c, "commandstats").get(name).cloned().unwrap_or_default();
    q::<()>(&mut c, &["CONFIG", "RESETSTAT"]);
    let _ = err(&mut c, &["FOO"]);
    let _ = err(&mut c, &["SET", "a"]);
    q::<()>(&mut c, &["MULTI"]);
    q::<String>(&mut c, &["SET", "a", "1"]);
    q::<String>(&mut c, &["GET", "a"]);
    q::<Vec<redis::Value>>(&mut c, &["EXEC"]);
    // RESETSTAT, MULTI, EXEC, SET, GET.
    assert_eq!(info(&mut c, "stats")["total_commands_processed"], "5");
    assert!(stat(&mut c, "cmdstat_set").starts_with("calls=1,"), "{}", stat(&mut c, "cmdstat_set"));

    let url = s.url();
    let blocked = std::thread::spawn(move || {
        let mut b = redis::Client::open(url).unwrap().get_connection().unwrap();
        q::<Vec<String>>(&mut b, &["BLPOP", "list", "0"])
    });
    common::wait_blocked(&mut c, 1);
    q::<i64>(&mut c, &["RPUSH", "list", "x"]);
    assert_eq!(blocked.join().unwrap(), ["list", "x"]);
    let _: Option<Vec<String>> = q(&mut c, &["BLPOP", "none", "0.05"]);
    assert!(stat(&mut c, "cmdstat_blpop").starts_with("calls=2,"), "{}", stat(&mut c, "cmdstat_blpop"));
    assert!(stat(&mut c, "cmdstat_blpop").ends_with("rejected_calls=0,failed_calls=0"));

    q::<String>(&mut c, &["XADD", "s", "*", "f", "v"]);
    q::<()>(&mut c, &["XGROUP", "CREATE", "s", "g", "$"]);
    let url = s.url();
    let blocked = std::thread::spawn(move || {
        let mut b = redis::Client::open(url).unwrap().get_connection().unwrap();
        err(&mut b, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"])
    });
    common::wait_blocked(&mut c, 1);
    q::<i64>(&mut c, &["XGROUP", "DESTROY", "s", "g"]);
    assert!(blocked.join().unwrap().starts_with("NOGROUP "));
    let x = stat(&mut c, "cmdstat_xreadgroup");
    assert!(x.starts_with("calls=1,") && x.ends_with("rejected_calls=0,failed_calls=1"), "{x}");

    // CLIENT UNBLOCK: ERROR is an error reply (errorstats) and a failure;
    // TIMEOUT a failure too (Redis 7.0.15's updateStatsOnUnblock(.., 1)).
    q::<()>(&mut c, &["CONFIG", "RESETSTAT"]);
    for (mode, reply) in [("ERROR", "UNBLOCKED client unblocked via CLIENT UNBLOCK"), ("TIMEOUT", "nil")] {
        let url = s.url();
        let blocked = std::thread::spawn(move || {
            let mut b = redis::Client::open(url).unwrap().get_connection().unwrap();
            let id: i64 = q(&mut b, &["CLIENT", "ID"]);
            (id, redis::cmd("BLPOP").arg("list").arg(0).query::<Option<Vec<String>>>(&mut b))
        });
        common::wait_blocked(&mut c, 1);
        let list: String = q(&mut c, &["CLIENT", "LIST"]);
        let id = list.lines().find(|l| l.contains(" cmd=blpop ")).and_then(|l| l[3..].split(' ').next()).unwrap();
        assert_eq!(q::<i64>(&mut c, &["CLIENT", "UNBLOCK", id, mode]), 1);
        let (_, got) = blocked.join().unwrap();
        match got {
            Ok(v) => assert_eq!(format!("{v:?}").replace("None", "nil"), reply),
            Err(e) => assert_eq!(format!("{} {}", e.code().unwrap_or_default(), e.detail().unwrap()), reply),
        }
    }
    let b = stat(&mut c, "cmdstat_blpop");
    assert!(b.starts_with("calls=2,") && b.ends_with("rejected_calls=0,failed_calls=2"), "{b}");
    let stats = info(&mut c, "errorstats");
    assert_eq!(stats["errorstat_UNBLOCKED"], "count=1");
    assert_eq!(info(&mut c, "stats")["total_error_replies"], "1");
}

#[test]
fn config_resetstat_clears_counters() {
    let s = server();
    let mut c = s.client();
    q::<Option<String>>(&mut c, &["GET", "x"]);
    assert_eq!(q::<String>(&mut c, &["CONFIG", "RESETSTAT"]), "OK");
    let stats = info(&mut c, "stats");
    assert_eq!(stats["keyspace_misses"], "0");
    assert_eq!(stats["total_commands_processed"], "1");
    // The cron's rate sampling outlives counters that went back to zero
    // (it once panicked on the subtraction).
    for _ in 0..50 {
        q::<Option<String>>(&mut c, &["GET", "x"]);
    }
    std::thread::sleep(std::time::Duration::from_millis(150));
    assert_eq!(q::<String>(&mut c, &["CONFIG", "RESETSTAT"]), "OK");
    std::thread::sleep(std::time::Duration::from_millis(250));
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
    // As Redis's resetServerStats: the saves counted too.
    q::<String>(&mut c, &["BGSAVE"]);
    while info(&mut c, "persistence")["rdb_bgsave_in_progress"] != "0" {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(info(&mut c, "persistence")["rdb_saves"], "1");
    q::<()>(&mut c, &["CONFIG", "RESETSTAT"]);
    assert_eq!(info(&mut c, "persistence")["rdb_saves"], "0");
}

#[test]
fn client_id_name_list_info() {
    let s = server();
    let mut a = s.client();
    let mut b = s.client();
    let id_a: i64 = q(&mut a, &["CLIENT", "ID"]);
    let id_b: i64 = q(&mut b, &["CLIENT", "ID"]);
    assert!(id_b > id_a);
    assert_eq!(q::<Option<String>>(&mut a, &["CLIENT", "GETNAME"]), None);
    assert_eq!(q::<String>(&mut a, &["CLIENT", "SETNAME", "worker-1"]), "OK");
    assert_eq!(q::<String>(&mut a, &["CLIENT", "GETNAME"]), "worker-1");
    assert_eq!(
        err(&mut a, &["CLIENT", "SETNAME", "a b"]),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
    let list: String = q(&mut b, &["CLIENT", "LIST"]);
    assert_eq!(list.lines().count(), 2);
    let line_a = list.lines().find(|l| l.starts_with(&format!("id={id_a} "))).unwrap();
    assert!(line_a.contains(" name=worker-1 ") && line_a.contains(" db=0 ") && line_a.contains(" resp=2"), "{line_a}");
    assert!(line_a.contains(" cmd=client|setname "), "{line_a}");
    let only_b: String = q(&mut b, &["CLIENT", "LIST", "ID", &id_b.to_string()]);
    assert_eq!(only_b.lines().count(), 1);
    let info_line: String = q(&mut b, &["CLIENT", "INFO"]);
    assert!(info_line.starts_with(&format!("id={id_b} addr=127.0.0.1:")) && info_line.contains(" cmd=client|info "));
    assert_eq!(err(&mut b, &["CLIENT", "LIST", "TYPE", "foo"]), "ERR Unknown client type 'foo'");
    assert_eq!(err(&mut b, &["CLIENT", "LIST", "ID", "x"]), "ERR Invalid client ID");
    assert_eq!(err(&mut b, &["CLIENT", "FOO"]), "ERR unknown subcommand 'FOO'. Try CLIENT HELP.");
    assert_eq!(q::<String>(&mut a, &["CLIENT", "SETNAME", ""]), "OK");
    assert_eq!(q::<Option<String>>(&mut a, &["CLIENT", "GETNAME"]), None);
}

#[test]
fn client_kill_by_id_addr_and_old_form() {
    let s = server();
    let mut admin = s.client();
    let mut victim = s.raw();
    victim.roundtrip(b"CLIENT ID\r\n", b"");
    let mut buf = [0u8; 32];
    let n = std::io::Read::read(&mut victim.0, &mut buf).unwrap();
    let id = String::from_utf8_lossy(&buf[1..n - 2]).to_string();
    assert_eq!(q::<i64>(&mut admin, &["CLIENT", "KILL", "ID", "999999"]), 0);
    assert_eq!(q::<i64>(&mut admin, &["CLIENT", "KILL", "ID", &id]), 1);
    assert_eq!(victim.read_to_close(), b"");
    let mut victim2 = s.raw();
    victim2.roundtrip(b"PING\r\n", b"+PONG\r\n");
    let addr = victim2.0.local_addr().unwrap().to_string();
    assert_eq!(q::<String>(&mut admin, &["CLIENT", "KILL", &addr]), "OK");
    assert_eq!(victim2.read_to_close(), b"");
    assert_eq!(err(&mut admin, &["CLIENT", "KILL", "1.2.3.4:5"]), "ERR No such client");
    assert_eq!(err(&mut admin, &["CLIENT", "KILL", "ID", "x"]), "ERR client-id should be greater than 0");
    assert_eq!(err(&mut admin, &["CLIENT", "KILL", "FOO", "bar"]), "ERR syntax error");
    assert_eq!(err(&mut admin, &["CLIENT", "KILL", "USER", "bob"]), "ERR No such user 'bob'");
    // SKIPME yes (the default) spares the caller.
    assert_eq!(q::<i64>(&mut admin, &["CLIENT", "KILL", "TYPE", "normal"]), 0);
    assert_eq!(q::<String>(&mut admin, &["PING"]), "PONG");
}

#[test]
fn reset_restores_fresh_state() {
    let s = server();
    let mut r = s.raw();
    r.roundtrip(b"SELECT 3\r\n", b"+OK\r\n");
    r.roundtrip(b"CLIENT SETNAME x\r\n", b"+OK\r\n");
    r.roundtrip(b"RESET\r\n", b"+RESET\r\n");
    r.roundtrip(b"CLIENT GETNAME\r\n", b"$-1\r\n");
    r.roundtrip(b"SET k v\r\n", b"+OK\r\n");
    let mut c = s.client();
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "v", "RESET went back to db 0");
}

#[test]
fn swapdb_time_lastsave() {
    let s = server();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "k", "db0"]);
    assert_eq!(q::<String>(&mut c, &["SWAPDB", "0", "1"]), "OK");
    assert_eq!(q::<Option<String>>(&mut c, &["GET", "k"]), None);
    q::<()>(&mut c, &["SELECT", "1"]);
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "db0");
    assert_eq!(err(&mut c, &["SWAPDB", "x", "1"]), "ERR invalid first DB index");
    assert_eq!(err(&mut c, &["SWAPDB", "0", "x"]), "ERR invalid second DB index");
    assert_eq!(err(&mut c, &["SWAPDB", "0", "16"]), "ERR DB index is out of range");
    let (secs, micros): (u64, u64) = q(&mut c, &["TIME"]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(secs.abs_diff(now) <= 1 && micros < 1_000_000);
    let last: u64 = q(&mut c, &["LASTSAVE"]);
    assert!(last <= now && now - last < 60);
}

#[test]
fn shutdown_stops_the_server() {
    let s = server();
    let mut c = s.client();
    assert_eq!(err(&mut c, &["SHUTDOWN", "FOO"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["SHUTDOWN", "ABORT"]), "ERR No shutdown in progress.");
    let mut r = s.raw();
    r.send(b"SHUTDOWN NOSAVE\r\n");
    assert_eq!(r.read_to_close(), b"");
    std::thread::sleep(Duration::from_millis(100));
    assert!(std::net::TcpStream::connect(s.handle.addr).is_err(), "still listening");
}

#[test]
fn debug_is_off_by_default_like_redis() {
    let s = server();
    let mut c = s.client();
    assert!(err(&mut c, &["DEBUG", "SLEEP", "0"]).starts_with("ERR DEBUG command not allowed."));
}

#[test]
fn debug_subcommands_when_enabled() {
    let s = server_with(|c| c.enable_debug_command = "yes".into());
    let mut c = s.client();
    let start = std::time::Instant::now();
    assert_eq!(q::<String>(&mut c, &["DEBUG", "SLEEP", "0.2"]), "OK");
    assert!(start.elapsed() >= Duration::from_millis(200));
    q::<()>(&mut c, &["SET", "k", "hello"]);
    let obj: String = q(&mut c, &["DEBUG", "OBJECT", "k"]);
    assert!(obj.starts_with("Value at:") && obj.contains(" refcount:1 encoding:embstr serializedlength:5 "), "{obj}");
    assert_eq!(err(&mut c, &["DEBUG", "OBJECT", "nokey"]), "ERR no such key");
    assert!(
        err(&mut c, &["DEBUG", "FOO"]).starts_with("ERR unknown subcommand or wrong number of arguments for 'FOO'")
    );
    // With active expiry off, an untouched expired key stays counted.
    assert_eq!(q::<String>(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), "OK");
    q::<()>(&mut c, &["SET", "t", "v", "PX", "10"]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 2);
    assert_eq!(q::<String>(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), "OK");
    let start = std::time::Instant::now();
    while q::<i64>(&mut c, &["DBSIZE"]) != 1 {
        assert!(start.elapsed() < Duration::from_secs(3), "active expiry did not resume");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn config_rewrite_writes_back_the_file() {
    let dir = std::env::temp_dir().join(format!("ferrokv-rewrite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ferrokv.conf");
    std::fs::write(&path, "# keep me\nmaxclients 100\n").unwrap();
    let s = server_with(|c| c.config_file = Some(path.clone()));
    let mut c = s.client();
    q::<()>(&mut c, &["CONFIG", "SET", "maxclients", "200", "timeout", "7"]);
    assert_eq!(q::<String>(&mut c, &["CONFIG", "REWRITE"]), "OK");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("# keep me\nmaxclients 200\n"), "{text}");
    assert!(text.contains("timeout 7"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
    let plain = server();
    let mut c = plain.client();
    assert_eq!(err(&mut c, &["CONFIG", "REWRITE"]), "ERR The server is running without a config file");
}

#[test]
fn slowlog_records_slow_commands_like_redis() {
    let s = server();
    let mut c = s.client();
    assert_eq!(
        q::<Vec<String>>(&mut c, &["CONFIG", "GET", "slowlog-*"]),
        ["slowlog-log-slower-than", "10000", "slowlog-max-len", "128"]
    );
    q::<()>(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    q::<()>(&mut c, &["SLOWLOG", "RESET"]);
    q::<()>(&mut c, &["CLIENT", "SETNAME", "me"]);
    let long = "a".repeat(200);
    q::<()>(&mut c, &["SET", "k", &long]);
    let mut many = vec!["RPUSH", "l"];
    let items: Vec<String> = (0..40).map(|i| i.to_string()).collect();
    many.extend(items.iter().map(|s| s.as_str()));
    q::<i64>(&mut c, &many);
    let entries: Vec<redis::Value> = q(&mut c, &["SLOWLOG", "GET", "3"]);
    assert_eq!(entries.len(), 3);
    let fields = |v: &redis::Value| match v {
        redis::Value::Array(f) => f.clone(),
        _ => panic!(),
    };
    let newest = fields(&entries[0]);
    let args: Vec<String> = redis::from_redis_value(newest[3].clone()).unwrap();
    assert_eq!(args.len(), 32);
    assert_eq!(args[31], "... (11 more arguments)");
    let set_entry = fields(&entries[1]);
    let args: Vec<String> = redis::from_redis_value(set_entry[3].clone()).unwrap();
    assert_eq!(args[2], format!("{}... (72 more bytes)", "a".repeat(128)));
    let name: String = redis::from_redis_value(set_entry[5].clone()).unwrap();
    assert_eq!(name, "me");
    let addr: String = redis::from_redis_value(set_entry[4].clone()).unwrap();
    assert!(addr.starts_with("127.0.0.1:"));
    assert!(q::<i64>(&mut c, &["SLOWLOG", "LEN"]) >= 3);
    assert_eq!(err(&mut c, &["SLOWLOG", "GET", "-2"]), "ERR count should be greater than or equal to -1");
    assert_eq!(
        err(&mut c, &["slowlog", "Get", "1", "2"]),
        "ERR unknown subcommand or wrong number of arguments for 'Get'. Try SLOWLOG HELP."
    );
    q::<()>(&mut c, &["CONFIG", "SET", "slowlog-max-len", "2"]);
    q::<()>(&mut c, &["PING"]);
    assert_eq!(q::<i64>(&mut c, &["SLOWLOG", "LEN"]), 2);
    q::<()>(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
    q::<()>(&mut c, &["SLOWLOG", "RESET"]);
    q::<()>(&mut c, &["PING"]);
    assert_eq!(q::<i64>(&mut c, &["SLOWLOG", "LEN"]), 0);
}

#[test]
fn monitor_streams_other_clients_commands() {
    let s = server();
    let mut m = s.raw();
    m.roundtrip(b"MONITOR\r\n", b"+OK\r\n");
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "a key", "a\"b\n"]);
    q::<Vec<String>>(&mut c, &["CONFIG", "GET", "hz"]);
    q::<Option<String>>(&mut c, &["GET", "a key"]);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    // The `redis` crate names itself first (CLIENT SETINFO, Redis 7.2).
    let shown = |got: &[u8]| {
        let text = String::from_utf8_lossy(got);
        text.split_inclusive('\n').filter(|l| l.ends_with('\n') && !l.contains(r#""CLIENT" "SETINFO""#)).count()
    };
    while shown(&got) < 2 {
        let n = std::io::Read::read(&mut m.0, &mut buf).unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8(got).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.contains(r#""CLIENT" "SETINFO""#)).collect();
    let strip = |l: &str| l.split_once("] ").map(|(_, rest)| rest.to_string()).unwrap();
    assert!(lines[0].starts_with('+') && lines[0].contains(" [0 127.0.0.1:"), "{}", lines[0]);
    assert_eq!(strip(lines[0]), r#""SET" "a key" "a\"b\n""#);
    // CONFIG is an admin command: not shown, as in Redis.
    assert_eq!(strip(lines[1]), r#""GET" "a key""#);
}
