//! Client-side caching: CLIENT TRACKING (default, BCAST, OPTIN/OPTOUT,
//! NOLOOP, REDIRECT), CLIENT CACHING/GETREDIR/TRACKINGINFO, and the
//! invalidation messages, through the `redis` crate's RESP3 push support
//! and, where exact bytes matter, raw RESP.

mod common;
use common::{err, invalidated, q, resp3, server, server_with};
use redis::Value;
use std::time::Duration;

fn keys(k: &[&str]) -> Option<Vec<String>> {
    Some(k.iter().map(|s| s.to_string()).collect())
}

#[test]
fn default_mode_invalidates_keys_that_were_read() {
    let s = server();
    let (mut t, rx) = resp3(&s);
    let mut other = s.client();
    assert_eq!(q::<String>(&mut t, &["CLIENT", "TRACKING", "ON"]), "OK");
    q::<()>(&mut other, &["SET", "k", "1"]);
    assert_eq!(invalidated(&mut t, &rx), vec![], "nothing read yet");
    q::<Option<String>>(&mut t, &["GET", "k"]);
    q::<Vec<Option<String>>>(&mut t, &["MGET", "a", "b"]);
    q::<()>(&mut other, &["SET", "k", "2"]);
    q::<()>(&mut other, &["SET", "k", "3"]);
    assert_eq!(invalidated(&mut t, &rx), vec![keys(&["k"])], "once: the key leaves the table");
    // Only real modifications count; a missing key read is tracked too.
    q::<()>(&mut other, &["DEL", "nothing"]);
    q::<()>(&mut other, &["SET", "a", "1", "XX"]);
    assert_eq!(invalidated(&mut t, &rx), vec![]);
    q::<()>(&mut other, &["MSET", "a", "1", "b", "2"]);
    assert_eq!(invalidated(&mut t, &rx), vec![keys(&["a"]), keys(&["b"])]);
    // The table holds names, not databases: a write in db 3 counts.
    q::<Option<String>>(&mut t, &["GET", "k"]);
    q::<()>(&mut other, &["SELECT", "3"]);
    q::<()>(&mut other, &["SET", "k", "x"]);
    assert_eq!(invalidated(&mut t, &rx), vec![keys(&["k"])]);
    // A read that fails with WRONGTYPE still tracks its key.
    q::<()>(&mut other, &["SELECT", "0"]);
    q::<()>(&mut other, &["RPUSH", "list", "x"]);
    assert!(err(&mut t, &["GET", "list"]).starts_with("WRONGTYPE"));
    q::<()>(&mut other, &["RPUSH", "list", "y"]);
    assert_eq!(invalidated(&mut t, &rx), vec![keys(&["list"])]);
    // A numkeys past the arguments (a syntax error) tracks no key at all,
    // as Redis's key extraction gives none.
    q::<()>(&mut other, &["ZADD", "z4", "1", "a"]);
    assert_eq!(err(&mut t, &["ZUNION", "7", "z5", "z4"]), "ERR syntax error");
    assert_eq!(err(&mut t, &["SINTERCARD", "3", "z4"]), "ERR Number of keys can't be greater than number of args");
    q::<()>(&mut other, &["ZADD", "z4", "2", "b"]);
    assert_eq!(invalidated(&mut t, &rx), vec![]);
    q::<Vec<String>>(&mut t, &["ZUNION", "2", "z5", "z4"]);
    q::<()>(&mut other, &["ZADD", "z4", "3", "c"]);
    assert_eq!(invalidated(&mut t, &rx), vec![keys(&["z4"])]);
    // Writes by the tracking client itself are invalidated too.
    q::<Option<String>>(&mut t, &["GET", "k"]);
    q::<()>(&mut t, &["SET", "k", "mine"]);
    assert_eq!(invalidated(&mut t, &rx), vec![keys(&["k"])]);
    // OFF: nothing more.
    q::<Option<String>>(&mut t, &["GET", "k"]);
    assert_eq!(q::<String>(&mut t, &["CLIENT", "TRACKING", "OFF"]), "OK");
    q::<()>(&mut other, &["SET", "k", "4"]);
    assert_eq!(invalidated(&mut t, &rx), vec![]);
}

#[test]
fn flush_expiry_and_eviction_invalidate() {
    let s = server();
    let (mut t, rx) = resp3(&s);
    let mut other = s.client();
    q::<()>(&mut t, &["CLIENT", "TRACKING", "ON"]);
    q::<()>(&mut other, &["FLUSHDB"]);
    assert_eq!(invalidated(&mut t, &rx), vec![None], "a flush invalidates everything");
    q::<()>(&mut other, &["FLUSHALL", "ASYNC"]);
    assert_eq!(invalidated(&mut t, &rx), vec![None]);
    q::<()>(&mut other, &["SWAPDB", "0", "1"]);
    assert_eq!(invalidated(&mut t, &rx), vec![], "SWAPDB does not, as in Redis");
    // A key read while alive, deleted by the active expiry cycle.
    q::<()>(&mut other, &["SET", "x", "1", "PX", "50"]);
    q::<Option<String>>(&mut t, &["GET", "x"]);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(invalidated(&mut t, &rx), vec![keys(&["x"])]);
    // Eviction.
    q::<Option<String>>(&mut t, &["GET", "big"]);
    q::<()>(&mut other, &["SET", "big", &"v".repeat(100_000)]);
    assert_eq!(invalidated(&mut t, &rx), vec![keys(&["big"])]);
    q::<Option<String>>(&mut t, &["GET", "big"]);
    q::<()>(&mut other, &["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]);
    q::<()>(&mut other, &["CONFIG", "SET", "maxmemory", "1"]);
    assert!(err(&mut other, &["SET", "y", "1"]).starts_with("OOM"), "everything evicted, still over");
    q::<()>(&mut other, &["CONFIG", "SET", "maxmemory", "0"]);
    let got = invalidated(&mut t, &rx);
    assert!(got.contains(&keys(&["big"])), "{got:?}");
}

#[test]
fn a_key_read_as_expired_stays_tracked() {
    let s = server_with(|c| c.enable_debug_command = "yes".into());
    let (mut t, rx) = resp3(&s);
    let mut other = s.client();
    q::<()>(&mut other, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    q::<()>(&mut t, &["CLIENT", "TRACKING", "ON"]);
    q::<()>(&mut other, &["SET", "k", "v", "PX", "20"]);
    std::thread::sleep(Duration::from_millis(60));
    // The read deletes the expired key, then remembers it as read.
    assert_eq!(q::<Option<String>>(&mut t, &["GET", "k"]), None);
    let _ = invalidated(&mut t, &rx);
    q::<()>(&mut other, &["SET", "k", "again"]);
    assert_eq!(invalidated(&mut t, &rx), vec![keys(&["k"])], "the next write is reported");
}

#[test]
fn bcast_hears_of_keys_the_expiry_cycle_deletes() {
    let s = server();
    let (mut t, rx) = resp3(&s);
    let mut other = s.client();
    q::<()>(&mut t, &["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "e:"]);
    q::<()>(&mut other, &["SET", "e:1", "v", "PX", "20"]);
    assert_eq!(invalidated(&mut t, &rx), vec![keys(&["e:1"])]);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(invalidated(&mut t, &rx), vec![keys(&["e:1"])], "deleted by the cycle");
}

#[test]
fn the_running_clients_own_invalidation_follows_its_reply() {
    let s = server();
    let mut r = s.raw();
    r.hello3();
    r.roundtrip(b"CLIENT TRACKING on\r\n", b"+OK\r\n");
    r.roundtrip(b"GET k\r\n", b"_\r\n");
    r.roundtrip(b"SET k 1\r\n", b"+OK\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n");
    r.roundtrip(b"FLUSHALL\r\n", b"+OK\r\n>2\r\n$10\r\ninvalidate\r\n_\r\n");
    // Inside a transaction, after EXEC's whole reply.
    r.send(b"MULTI\r\nGET m\r\nSET m 1\r\nEXEC\r\n");
    r.expect(b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n_\r\n+OK\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nm\r\n");
    // NOLOOP: its own writes are not reported.
    r.roundtrip(b"CLIENT TRACKING on NOLOOP\r\n", b"+OK\r\n");
    r.roundtrip(b"GET k\r\n", b"_\r\n");
    r.roundtrip(b"SET k 2\r\n", b"+OK\r\n");
    r.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn bcast_sends_one_message_per_prefix_and_loop_turn() {
    let s = server();
    let (mut t, rx) = resp3(&s);
    let mut other = s.client();
    q::<()>(&mut t, &["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "obj"]);
    let mut pipe = redis::pipe();
    pipe.cmd("SET").arg("user:2").arg(1).ignore();
    pipe.cmd("SET").arg("user:1").arg(1).ignore();
    pipe.cmd("SET").arg("user:2").arg(2).ignore();
    pipe.cmd("SET").arg("other").arg(1).ignore();
    pipe.cmd("SET").arg("objx").arg(1).ignore();
    pipe.query::<()>(&mut other).unwrap();
    let mut got = invalidated(&mut t, &rx);
    got.sort();
    assert_eq!(got, vec![keys(&["objx"]), keys(&["user:1", "user:2"])], "sorted, without repeats");
    // Nothing is remembered from reads in BCAST mode; own writes count.
    q::<Option<String>>(&mut t, &["GET", "other"]);
    q::<()>(&mut other, &["SET", "other", "2"]);
    q::<()>(&mut t, &["SET", "user:9", "x"]);
    assert_eq!(invalidated(&mut t, &rx), vec![keys(&["user:9"])]);
    // NOLOOP leaves out the client's own writes.
    q::<()>(&mut t, &["CLIENT", "TRACKING", "OFF"]);
    q::<()>(&mut t, &["CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP"]);
    q::<()>(&mut t, &["SET", "mine", "x"]);
    assert_eq!(invalidated(&mut t, &rx), vec![]);
    q::<()>(&mut other, &["SET", "theirs", "x"]);
    assert_eq!(invalidated(&mut t, &rx), vec![keys(&["theirs"])]);
    let info: String = q(&mut other, &["INFO", "stats"]);
    assert!(info.contains("tracking_total_prefixes:1\r\n"), "{info}");
}

#[test]
fn bcast_prefixes_of_many_lengths_and_clients() {
    let s = server();
    let (mut a, rx_a) = resp3(&s);
    let (mut b, rx_b) = resp3(&s);
    let (mut c, rx_c) = resp3(&s);
    let mut other = s.client();
    q::<()>(&mut a, &["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a:", "PREFIX", "bb:"]);
    q::<()>(&mut b, &["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a:", "PREFIX", "bb:x"]);
    q::<()>(&mut c, &["CLIENT", "TRACKING", "ON", "BCAST"]);
    q::<()>(&mut other, &["SET", "bb:xy", "1"]);
    assert_eq!(invalidated(&mut a, &rx_a), vec![keys(&["bb:xy"])]);
    assert_eq!(invalidated(&mut b, &rx_b), vec![keys(&["bb:xy"])]);
    assert_eq!(invalidated(&mut c, &rx_c), vec![keys(&["bb:xy"])], "the empty prefix matches every key");
    // A's prefixes go away with its tracking; B's (one shared with A) stay.
    q::<()>(&mut a, &["CLIENT", "TRACKING", "OFF"]);
    q::<()>(&mut c, &["CLIENT", "TRACKING", "OFF"]);
    q::<()>(&mut other, &["SET", "bb:q", "1"]);
    q::<()>(&mut other, &["SET", "a:", "1"]);
    q::<()>(&mut other, &["SET", "bb:x1", "1"]);
    let mut got = invalidated(&mut b, &rx_b);
    got.sort();
    assert_eq!(got, vec![keys(&["a:"]), keys(&["bb:x1"])], "a key as long as its prefix matches it");
    assert_eq!(invalidated(&mut a, &rx_a), vec![]);
    // Thousands of prefixes: a key is matched by its own, however many there are.
    let mut cmd = vec!["CLIENT".to_string(), "TRACKING".into(), "ON".into(), "BCAST".into()];
    for i in 0..3000 {
        cmd.push("PREFIX".into());
        cmd.push(format!("p:{i:05}:"));
    }
    let cmd: Vec<&str> = cmd.iter().map(|s| s.as_str()).collect();
    q::<()>(&mut a, &cmd);
    q::<()>(&mut other, &["SET", "p:01234:k", "1"]);
    q::<()>(&mut other, &["SET", "p:1234:k", "1"]);
    assert_eq!(invalidated(&mut a, &rx_a), vec![keys(&["p:01234:k"])]);
    let info: String = q(&mut other, &["INFO", "stats"]);
    assert!(info.contains("tracking_total_prefixes:3002\r\n"), "{info}");
    assert_eq!(invalidated(&mut c, &rx_c), vec![]);
}

#[test]
fn optin_and_optout_follow_client_caching() {
    let s = server();
    let (mut t, rx) = resp3(&s);
    let mut other = s.client();
    q::<()>(&mut t, &["CLIENT", "TRACKING", "ON", "OPTIN"]);
    q::<Option<String>>(&mut t, &["GET", "a"]);
    q::<()>(&mut other, &["SET", "a", "1"]);
    assert_eq!(invalidated(&mut t, &rx), vec![], "OPTIN: not cached without CACHING YES");
    q::<()>(&mut t, &["CLIENT", "CACHING", "YES"]);
    q::<Option<String>>(&mut t, &["GET", "a"]);
    q::<Option<String>>(&mut t, &["GET", "b"]);
    q::<()>(&mut other, &["MSET", "a", "2", "b", "2"]);
    assert_eq!(invalidated(&mut t, &rx), vec![keys(&["a"])], "CACHING YES covers the next command only");
    // ... the next command that is not CLIENT, or a whole transaction.
    q::<()>(&mut t, &["CLIENT", "CACHING", "YES"]);
    q::<Value>(&mut t, &["CLIENT", "TRACKINGINFO"]);
    let mut tx = redis::pipe();
    tx.atomic().cmd("GET").arg("a").cmd("GET").arg("b");
    tx.query::<Value>(&mut t).unwrap();
    q::<()>(&mut other, &["MSET", "a", "3", "b", "3"]);
    assert_eq!(invalidated(&mut t, &rx), vec![keys(&["a"]), keys(&["b"])]);
    assert_eq!(
        err(&mut t, &["CLIENT", "CACHING", "NO"]),
        "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
    );
    q::<()>(&mut t, &["CLIENT", "TRACKING", "OFF"]);
    q::<()>(&mut t, &["CLIENT", "TRACKING", "ON", "OPTOUT"]);
    q::<()>(&mut t, &["CLIENT", "CACHING", "NO"]);
    q::<Option<String>>(&mut t, &["GET", "a"]);
    q::<Option<String>>(&mut t, &["GET", "b"]);
    q::<()>(&mut other, &["MSET", "a", "4", "b", "4"]);
    assert_eq!(invalidated(&mut t, &rx), vec![keys(&["b"])], "OPTOUT: CACHING NO skips the next read");
    assert_eq!(
        err(&mut t, &["CLIENT", "CACHING", "YES"]),
        "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
    );
}

#[test]
fn redirect_to_a_resp2_subscriber_and_broken_redirects() {
    let s = server();
    let mut sub_con = s.client();
    let sub_id: i64 = q(&mut sub_con, &["CLIENT", "ID"]);
    let mut sub = sub_con.as_pubsub();
    sub.subscribe("__redis__:invalidate").unwrap();
    sub.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut c = s.client();
    let id = sub_id.to_string();
    assert_eq!(q::<String>(&mut c, &["CLIENT", "TRACKING", "ON", "REDIRECT", &id]), "OK");
    assert_eq!(q::<i64>(&mut c, &["CLIENT", "GETREDIR"]), sub_id);
    q::<Option<String>>(&mut c, &["GET", "r"]);
    q::<()>(&mut s.client(), &["SET", "r", "1"]);
    let msg = sub.get_message().unwrap();
    assert_eq!(msg.get_channel_name(), "__redis__:invalidate");
    assert_eq!(msg.get_payload::<Vec<String>>().unwrap(), vec!["r"]);
    q::<()>(&mut s.client(), &["FLUSHALL"]);
    let msg = sub.get_message().unwrap();
    assert_eq!(msg.get_payload::<Value>().unwrap(), Value::Nil);
    let list: String = q(&mut c, &["CLIENT", "INFO"]);
    assert!(list.contains(" flags=t ") && list.contains(&format!(" redir={sub_id} ")), "{list}");
    drop(sub);
    drop(sub_con);
    // The redirect client is gone: RESP3 clients are told so, RESP2 ones
    // only see it in TRACKINGINFO and CLIENT LIST.
    let start = std::time::Instant::now();
    while q::<String>(&mut c, &["CLIENT", "LIST"]).contains(&format!("id={sub_id} ")) {
        assert!(start.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(10));
    }
    q::<Option<String>>(&mut c, &["GET", "r"]);
    q::<()>(&mut s.client(), &["SET", "r", "2"]);
    let info: Value = q(&mut c, &["CLIENT", "TRACKINGINFO"]);
    let flags = |v: &Value| format!("{v:?}");
    assert!(flags(&info).contains("broken_redirect"), "{info:?}");
    assert!(q::<String>(&mut c, &["CLIENT", "INFO"]).contains(" flags=tR "));
    let mut r = s.raw();
    r.hello3();
    let mut helper = s.client();
    let helper_id: i64 = q(&mut helper, &["CLIENT", "ID"]);
    r.roundtrip(format!("CLIENT TRACKING on REDIRECT {helper_id}\r\n").as_bytes(), b"+OK\r\n");
    drop(helper);
    std::thread::sleep(Duration::from_millis(100));
    r.roundtrip(b"GET z\r\n", b"_\r\n");
    q::<()>(&mut s.client(), &["SET", "z", "1"]);
    r.expect(format!(">2\r\n$21\r\ntracking-redir-broken\r\n:{helper_id}\r\n").as_bytes());
}

#[test]
fn trackinginfo_getredir_and_client_list() {
    let s = server();
    let mut c = s.client();
    assert_eq!(q::<i64>(&mut c, &["CLIENT", "GETREDIR"]), -1);
    let mut r = s.raw();
    r.roundtrip(
        b"CLIENT TRACKINGINFO\r\n",
        b"*6\r\n$5\r\nflags\r\n*1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*0\r\n",
    );
    r.roundtrip(b"CLIENT TRACKING on BCAST PREFIX b PREFIX a NOLOOP\r\n", b"+OK\r\n");
    r.roundtrip(
        b"CLIENT TRACKINGINFO\r\n",
        b"*6\r\n$5\r\nflags\r\n*3\r\n$2\r\non\r\n$5\r\nbcast\r\n$6\r\nnoloop\r\n$8\r\nredirect\r\n:0\r\n\
          $8\r\nprefixes\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
    );
    r.roundtrip(b"CLIENT GETREDIR\r\n", b":0\r\n");
    r.hello3();
    r.roundtrip(b"CLIENT TRACKING off\r\n", b"+OK\r\n");
    r.roundtrip(b"CLIENT TRACKING on OPTIN\r\n", b"+OK\r\n");
    r.roundtrip(b"CLIENT CACHING yes\r\n", b"+OK\r\n");
    r.roundtrip(
        b"CLIENT TRACKINGINFO\r\n",
        b"%3\r\n$5\r\nflags\r\n~3\r\n$2\r\non\r\n$5\r\noptin\r\n$11\r\ncaching-yes\r\n$8\r\nredirect\r\n:0\r\n\
          $8\r\nprefixes\r\n*0\r\n",
    );
    let list: String = q(&mut c, &["CLIENT", "LIST"]);
    assert!(list.contains(" flags=t ") && list.contains(" redir=0 "), "{list}");
    assert!(list.contains(" redir=-1 "), "{list}");
    let info: String = q(&mut c, &["INFO", "clients"]);
    assert!(info.contains("tracking_clients:1\r\n"), "{info}");
    // RESET turns tracking off.
    r.roundtrip(b"RESET\r\n", b"+RESET\r\n");
    r.roundtrip(b"CLIENT GETREDIR\r\n", b":-1\r\n");
    let info: String = q(&mut c, &["INFO", "clients"]);
    assert!(info.contains("tracking_clients:0\r\n"), "{info}");
}

#[test]
fn tracking_errors() {
    let s = server();
    let mut c = s.client();
    let e = |c: &mut redis::Connection, args: &[&str]| err(c, args);
    assert_eq!(e(&mut c, &["CLIENT", "TRACKING"]), "ERR wrong number of arguments for 'client|tracking' command");
    assert_eq!(e(&mut c, &["CLIENT", "TRACKING", "maybe"]), "ERR syntax error");
    assert_eq!(e(&mut c, &["CLIENT", "TRACKING", "on", "foo"]), "ERR syntax error");
    assert_eq!(e(&mut c, &["CLIENT", "TRACKING", "on", "prefix"]), "ERR syntax error");
    assert_eq!(
        e(&mut c, &["CLIENT", "TRACKING", "on", "prefix", "a"]),
        "ERR PREFIX option requires BCAST mode to be enabled"
    );
    assert_eq!(
        e(&mut c, &["CLIENT", "TRACKING", "on", "redirect", "999"]),
        "ERR The client ID you want redirect to does not exist"
    );
    assert_eq!(
        e(&mut c, &["CLIENT", "TRACKING", "on", "redirect", "x"]),
        "ERR value is not an integer or out of range"
    );
    let me: i64 = q(&mut c, &["CLIENT", "ID"]);
    let me = me.to_string();
    assert_eq!(
        e(&mut c, &["CLIENT", "TRACKING", "on", "redirect", &me, "redirect", &me]),
        "ERR A client can only redirect to a single other client"
    );
    assert_eq!(
        e(&mut c, &["CLIENT", "TRACKING", "on", "bcast", "optin"]),
        "ERR OPTIN and OPTOUT are not compatible with BCAST"
    );
    assert_eq!(
        e(&mut c, &["CLIENT", "TRACKING", "on", "optin", "optout"]),
        "ERR You can't specify both OPTIN mode and OPTOUT mode"
    );
    assert_eq!(
        e(&mut c, &["CLIENT", "TRACKING", "on", "bcast", "prefix", "zz", "prefix", "zzz"]),
        "ERR Prefix 'zz' overlaps with another provided prefix 'zzz'. Prefixes for a single client must not overlap."
    );
    assert_eq!(
        e(&mut c, &["CLIENT", "CACHING", "yes"]),
        "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"
    );
    q::<()>(&mut c, &["CLIENT", "TRACKING", "on", "bcast", "prefix", "user:"]);
    assert_eq!(
        e(&mut c, &["CLIENT", "TRACKING", "on", "bcast", "prefix", "us"]),
        "ERR Prefix 'us' overlaps with an existing prefix 'user:'. Prefixes for a single client must not overlap."
    );
    assert_eq!(
        e(&mut c, &["CLIENT", "TRACKING", "on"]),
        "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it \
         with a different mode."
    );
    q::<()>(&mut c, &["CLIENT", "TRACKING", "off"]);
    q::<()>(&mut c, &["CLIENT", "TRACKING", "on", "optin"]);
    assert_eq!(
        e(&mut c, &["CLIENT", "TRACKING", "on", "optout"]),
        "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it \
         with a different mode."
    );
    assert_eq!(e(&mut c, &["CLIENT", "CACHING", "maybe"]), "ERR syntax error");
    assert_eq!(e(&mut c, &["CLIENT", "CACHING"]), "ERR wrong number of arguments for 'client|caching' command");
    assert_eq!(e(&mut c, &["CLIENT", "GETREDIR", "x"]), "ERR wrong number of arguments for 'client|getredir' command");
    assert_eq!(
        e(&mut c, &["CLIENT", "TRACKINGINFO", "x"]),
        "ERR wrong number of arguments for 'client|trackinginfo' command"
    );
}

#[test]
fn the_table_stays_within_tracking_table_max_keys() {
    let s = server_with(|c| c.tracking_table_max_keys = 100);
    let (mut t, rx) = resp3(&s);
    q::<()>(&mut t, &["CLIENT", "TRACKING", "ON"]);
    for i in 0..300 {
        q::<Option<String>>(&mut t, &["GET", &format!("key:{i}")]);
    }
    let info: String = q(&mut t, &["INFO", "stats"]);
    let total: usize =
        info.lines().find_map(|l| l.strip_prefix("tracking_total_keys:")).and_then(|v| v.trim().parse().ok()).unwrap();
    assert!(total <= 101, "{total}");
    // The keys dropped from the table were invalidated for the client.
    let dropped: usize = invalidated(&mut t, &rx).len();
    assert!(dropped >= 199, "{dropped}");
    let mut c = s.client();
    let conf: Vec<String> = q(&mut c, &["CONFIG", "GET", "tracking-table-max-keys"]);
    assert_eq!(conf, vec!["tracking-table-max-keys", "100"]);
}

/// Reads `n` invalidation pushes of two-byte keys (`k0`…) from a raw RESP3
/// connection (failing on a timeout), returning each key's second byte.
fn read_key_pushes(r: &mut common::Raw, n: usize) -> Vec<u8> {
    let mut keys = Vec::new();
    for _ in 0..n {
        let mut frame = [0u8; 33];
        std::io::Read::read_exact(&mut r.0, &mut frame).unwrap();
        assert_eq!(&frame[..29], b">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\n");
        assert_eq!(&frame[31..], b"\r\n");
        keys.push(frame[30]);
    }
    keys
}

#[test]
fn a_lowered_table_limit_invalidates_on_an_idle_server() {
    // Redis's cron runs trackingLimitUsedSlots too: the tracking client
    // hears of the dropped keys without anyone sending a command.
    let s = server();
    let mut r = s.raw();
    r.hello3();
    r.roundtrip(b"CLIENT TRACKING on\r\n", b"+OK\r\n");
    for k in 0..5 {
        r.roundtrip(format!("GET k{k}\r\n").as_bytes(), b"_\r\n");
    }
    let mut c = s.client();
    q::<()>(&mut c, &["CONFIG", "SET", "tracking-table-max-keys", "2"]);
    let mut got = read_key_pushes(&mut r, 3);
    got.sort_unstable();
    got.dedup();
    assert_eq!(got.len(), 3, "three distinct keys: {got:?}");
    assert!(got.iter().all(|k| (b'0'..=b'4').contains(k)));
    let info: String = q(&mut c, &["INFO", "stats"]);
    assert!(info.contains("tracking_total_keys:2\r\n"), "{info}");
    r.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn the_table_limit_reaches_the_running_client_before_its_reply() {
    // CONFIG SET and PING in one packet: the limit is applied before PING
    // runs (not by the cron), and, as in Redis 7.0.15, the client about to
    // run PING hears of its dropped keys before the PONG.
    let s = server();
    let mut r = s.raw();
    r.hello3();
    r.roundtrip(b"CLIENT TRACKING on\r\n", b"+OK\r\n");
    for k in 0..5 {
        r.roundtrip(format!("GET k{k}\r\n").as_bytes(), b"_\r\n");
    }
    r.send(b"CONFIG SET tracking-table-max-keys 3\r\nPING\r\n");
    r.expect(b"+OK\r\n");
    assert_eq!(read_key_pushes(&mut r, 2).len(), 2);
    r.expect(b"+PONG\r\n");
    // NOLOOP: Redis counts the running client as the one changing the
    // keys, so it is not told; the keys still leave the table.
    r.roundtrip(b"CONFIG SET tracking-table-max-keys 0\r\n", b"+OK\r\n");
    r.roundtrip(b"CLIENT TRACKING off\r\n", b"+OK\r\n");
    r.roundtrip(b"CLIENT TRACKING on NOLOOP\r\n", b"+OK\r\n");
    for k in 0..5 {
        r.roundtrip(format!("GET n{k}\r\n").as_bytes(), b"_\r\n");
    }
    r.send(b"CONFIG SET tracking-table-max-keys 3\r\nPING\r\n");
    r.expect(b"+OK\r\n+PONG\r\n");
    let mut c = s.client();
    let info: String = q(&mut c, &["INFO", "stats"]);
    assert!(info.contains("tracking_total_keys:3\r\n"), "{info}");
    r.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

/// A key evicted before a command runs (the eviction pass ahead of it) is
/// invalidated before that command's reply, as Redis 7.0.15 sends it (the
/// client is not executing a command yet; its tcl test "Tracking
/// invalidation message of eviction keys should be before response").
#[test]
fn an_eviction_before_the_command_is_told_before_its_reply() {
    let s = server();
    let mut c = s.client();
    let mut r = s.raw();
    r.hello3();
    r.roundtrip(b"CLIENT TRACKING on\r\n", b"+OK\r\n");
    r.roundtrip(b"SETEX volatile-key 10000 x\r\n", b"+OK\r\n");
    r.roundtrip(b"GET volatile-key\r\n", b"$1\r\nx\r\n");
    let info: String = q(&mut c, &["INFO", "memory"]);
    let used: u64 = info.lines().find_map(|l| l.strip_prefix("used_memory:")).unwrap().trim().parse().unwrap();
    q::<()>(&mut c, &["CONFIG", "SET", "maxmemory-policy", "volatile-random"]);
    q::<()>(&mut c, &["CONFIG", "SET", "maxmemory", &(used + 1024 * 1024).to_string()]);
    // 2 MB: over the limit once it ran.
    r.roundtrip(b"SETBIT big-key 16000000 0\r\n", b":0\r\n");
    r.roundtrip(b"GETBIT big-key 0\r\n", b">2\r\n$10\r\ninvalidate\r\n*1\r\n$12\r\nvolatile-key\r\n:0\r\n");
}
