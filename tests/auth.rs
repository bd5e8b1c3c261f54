//! Authentication: requirepass (config and CONFIG SET), AUTH [user] pass,
//! HELLO ... AUTH, RESET, which commands an unauthenticated client may run,
//! what happens to the clients of a deleted or changed user, and
//! `rename-command`. Texts recorded from redis-server 7.0.15.

mod common;
use common::{err, q, server, server_with};

const NOAUTH: &[u8] = b"-NOAUTH Authentication required.\r\n";
const NOAUTH_HELLO: &[u8] = b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n";
const WRONGPASS: &[u8] = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n";

#[test]
fn requirepass_from_the_config_asks_every_client() {
    let s = server_with(|c| c.requirepass = "secret".into());
    let mut r = s.raw();
    r.roundtrip(b"GET k\r\n", NOAUTH);
    // An unknown command is reported as such first, as Redis checks it first.
    r.roundtrip(b"FOO\r\n", b"-ERR unknown command 'FOO', with args beginning with: \r\n");
    r.roundtrip(b"GET\r\n", b"-ERR wrong number of arguments for 'get' command\r\n");
    r.roundtrip(b"HELLO 3\r\n", NOAUTH_HELLO);
    r.roundtrip(b"AUTH x\r\n", WRONGPASS);
    r.roundtrip(b"AUTH default x\r\n", WRONGPASS);
    r.roundtrip(b"AUTH nobody secret\r\n", WRONGPASS);
    r.roundtrip(b"AUTH a b c\r\n", b"-ERR syntax error\r\n");
    r.roundtrip(b"AUTH\r\n", b"-ERR wrong number of arguments for 'auth' command\r\n");
    r.roundtrip(b"AUTH secret\r\n", b"+OK\r\n");
    r.roundtrip(b"PING\r\n", b"+PONG\r\n");
    r.roundtrip(b"ACL WHOAMI\r\n", b"$7\r\ndefault\r\n");
    // RESET: back to not authenticated.
    r.roundtrip(b"RESET\r\n", b"+RESET\r\n");
    r.roundtrip(b"PING\r\n", NOAUTH);
    // QUIT needs no authentication.
    r.roundtrip(b"QUIT\r\n", b"+OK\r\n");
    assert_eq!(r.read_to_close(), b"");
    // A client library's password in the URL.
    let client = redis::Client::open(format!("redis://:secret@{}/", s.handle.addr)).unwrap();
    let mut c = client.get_connection().unwrap();
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
    assert_eq!(q::<Vec<String>>(&mut c, &["CONFIG", "GET", "requirepass"]), ["requirepass", "secret"]);
}

#[test]
fn hello_authenticates_and_names_in_one_call() {
    let s = server_with(|c| c.requirepass = "secret".into());
    let mut r = s.raw();
    r.roundtrip(b"HELLO 3 AUTH default nope\r\n", WRONGPASS);
    // Redis 7.0 checks the credentials before the name: a bad name fails the
    // call, the authentication stays.
    let hello = |pass: &str| {
        format!(
            "*7\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n${}\r\n{pass}\r\n$7\r\nSETNAME\r\n$3\r\na b\r\n",
            pass.len()
        )
    };
    r.roundtrip(hello("nope").as_bytes(), WRONGPASS);
    r.roundtrip(b"PING\r\n", NOAUTH);
    r.roundtrip(
        hello("secret").as_bytes(),
        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
    );
    r.roundtrip(b"PING\r\n", b"+PONG\r\n");
    r.roundtrip(b"HELLO 4 AUTH default nope\r\n", b"-NOPROTO unsupported protocol version\r\n");
    r.send(b"HELLO 3 AUTH default secret SETNAME app\r\n");
    r.expect(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n");
    let mut tail = Vec::new();
    let mut byte = [0u8; 1];
    while !tail.ends_with(b"modules\r\n*0\r\n") {
        std::io::Read::read_exact(&mut r.0, &mut byte).unwrap();
        tail.push(byte[0]);
    }
    r.roundtrip(b"CLIENT GETNAME\r\n", b"$3\r\napp\r\n");
    let client = redis::Client::open(format!("redis://default:secret@{}/?protocol=resp3", s.handle.addr)).unwrap();
    let mut c = client.get_connection().unwrap();
    assert_eq!(q::<String>(&mut c, &["ACL", "WHOAMI"]), "default");
}

#[test]
fn config_set_requirepass_keeps_authenticated_connections() {
    let s = server();
    let mut admin = s.client();
    let mut before = s.raw();
    before.roundtrip(b"PING\r\n", b"+PONG\r\n");
    assert_eq!(q::<String>(&mut admin, &["CONFIG", "SET", "requirepass", "pw"]), "OK");
    // Connected while no password was needed: still authenticated.
    before.roundtrip(b"PING\r\n", b"+PONG\r\n");
    assert_eq!(q::<String>(&mut admin, &["PING"]), "PONG");
    let mut after = s.raw();
    after.roundtrip(b"PING\r\n", NOAUTH);
    after.roundtrip(b"AUTH pw\r\n", b"+OK\r\n");
    assert_eq!(
        q::<Vec<String>>(&mut admin, &["ACL", "LIST"]),
        ["user default on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~* &* +@all"]
    );
    // Back to no password: new clients need no AUTH; AUTH <pass> alone is
    // then an error.
    assert_eq!(q::<String>(&mut admin, &["CONFIG", "SET", "requirepass", ""]), "OK");
    let mut free = s.raw();
    free.roundtrip(b"PING\r\n", b"+PONG\r\n");
    free.roundtrip(
        b"AUTH x\r\n",
        b"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n",
    );
    // A client that connected while the password was needed and never
    // authenticated may run commands now, but HELLO still refuses it, as
    // in Redis.
    let s2 = server_with(|c| c.requirepass = "pw".into());
    let mut late = s2.raw();
    late.roundtrip(b"PING\r\n", NOAUTH);
    let mut a2 = redis::Client::open(format!("redis://:pw@{}/", s2.handle.addr)).unwrap().get_connection().unwrap();
    assert_eq!(q::<String>(&mut a2, &["CONFIG", "SET", "requirepass", ""]), "OK");
    late.roundtrip(b"PING\r\n", b"+PONG\r\n");
    late.send(b"HELLO 2\r\n");
    late.expect(b"-NOAUTH HELLO must be called");
}

#[test]
fn users_authenticate_and_deleted_users_are_disconnected() {
    let s = server();
    let mut admin = s.client();
    assert_eq!(q::<String>(&mut admin, &["ACL", "SETUSER", "alice", "on", ">pw", "+@all", "~*"]), "OK");
    assert_eq!(q::<String>(&mut admin, &["ACL", "SETUSER", "bob", "off", ">pw", "+@all", "~*"]), "OK");
    assert_eq!(q::<String>(&mut admin, &["ACL", "SETUSER", "carol", "on", "nopass", "+@all"]), "OK");
    let mut r = s.raw();
    r.roundtrip(b"AUTH alice nope\r\n", WRONGPASS);
    r.roundtrip(b"AUTH bob pw\r\n", WRONGPASS);
    r.roundtrip(b"AUTH carol anything\r\n", b"+OK\r\n");
    r.roundtrip(b"ACL WHOAMI\r\n", b"$5\r\ncarol\r\n");
    r.roundtrip(b"AUTH alice pw\r\n", b"+OK\r\n");
    r.roundtrip(b"ACL WHOAMI\r\n", b"$5\r\nalice\r\n");
    let list: String = q(&mut admin, &["CLIENT", "LIST"]);
    assert!(list.contains(" user=alice "), "{list}");
    // Disabling the user or changing its password leaves the connection
    // as it is (Redis 7.0 only disconnects a deleted user's clients).
    assert_eq!(q::<String>(&mut admin, &["ACL", "SETUSER", "alice", "off", "resetpass", ">new"]), "OK");
    r.roundtrip(b"PING\r\n", b"+PONG\r\n");
    // New connections need the new password, and the user enabled.
    let mut r2 = s.raw();
    r2.roundtrip(b"AUTH alice pw\r\n", WRONGPASS);
    r2.roundtrip(b"AUTH alice new\r\n", WRONGPASS);
    assert_eq!(q::<String>(&mut admin, &["ACL", "SETUSER", "alice", "on"]), "OK");
    r2.roundtrip(b"AUTH alice new\r\n", b"+OK\r\n");
    // Deleted: both are closed.
    assert_eq!(q::<i64>(&mut admin, &["ACL", "DELUSER", "alice", "nobody"]), 1);
    assert_eq!(r.read_to_close(), b"");
    assert_eq!(r2.read_to_close(), b"");
    // The deleting client itself: its reply, then the close.
    let mut me = s.raw();
    me.roundtrip(b"AUTH carol x\r\n", b"+OK\r\n");
    me.send(b"ACL DELUSER carol\r\n");
    assert_eq!(me.read_to_close(), b":1\r\n");
    assert_eq!(q::<String>(&mut admin, &["PING"]), "PONG");
}

#[test]
fn client_kill_user() {
    let s = server();
    let mut admin = s.client();
    assert_eq!(q::<String>(&mut admin, &["ACL", "SETUSER", "dan", "on", "nopass", "+@all"]), "OK");
    let mut r = s.raw();
    r.roundtrip(b"AUTH dan x\r\n", b"+OK\r\n");
    assert_eq!(q::<i64>(&mut admin, &["CLIENT", "KILL", "USER", "dan"]), 1);
    assert_eq!(r.read_to_close(), b"");
    assert_eq!(err(&mut admin, &["CLIENT", "KILL", "USER", "eve"]), "ERR No such user 'eve'");
}

#[test]
fn a_disabled_default_user_asks_for_auth() {
    let s = server();
    let mut admin = s.client();
    assert_eq!(q::<String>(&mut admin, &["ACL", "SETUSER", "root", "on", ">pw", "+@all", "~*", "&*"]), "OK");
    assert_eq!(q::<String>(&mut admin, &["ACL", "SETUSER", "default", "off"]), "OK");
    let mut r = s.raw();
    r.roundtrip(b"PING\r\n", NOAUTH);
    r.roundtrip(b"AUTH root pw\r\n", b"+OK\r\n");
    r.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn rename_command_from_the_config() {
    let s = server_with(|c| {
        c.renames = vec![("FLUSHALL".into(), "wipe".into()), ("config".into(), "".into())];
    });
    let mut c = s.client();
    assert_eq!(q::<String>(&mut c, &["SET", "k", "v"]), "OK");
    assert_eq!(err(&mut c, &["FLUSHALL"]), "ERR unknown command 'FLUSHALL', with args beginning with: ");
    assert_eq!(
        err(&mut c, &["CONFIG", "GET", "port"]),
        "ERR unknown command 'CONFIG', with args beginning with: 'GET' 'port' "
    );
    assert_eq!(q::<String>(&mut c, &["WIPE"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
    // ACL rules name commands by their own names.
    assert_eq!(q::<String>(&mut c, &["ACL", "SETUSER", "u", "+flushall"]), "OK");
    for (pairs, text) in [
        (vec![("nope", "x")], "No such command in rename-command"),
        (vec![("get", "set")], "Target command name already exists"),
    ] {
        let mut config = ferrokv::Config { port: 0, save: Vec::new(), dir: common::fresh_dir(), ..Default::default() };
        config.renames = pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        let e = ferrokv::start(config).err().expect("refused");
        assert!(e.to_string().contains(text), "{e}");
    }
}

#[test]
fn a_password_lifts_protected_mode() {
    // A non-loopback address of this machine, if it has one.
    let Some(ip) = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").map(|_| s))
        .and_then(|s| s.local_addr())
        .ok()
        .map(|a| a.ip())
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
    else {
        eprintln!("no non-loopback address: nothing to check");
        return;
    };
    let s = server_with(|c| {
        c.bind = vec!["*".into()];
        c.requirepass = "pw".into();
    });
    let mut r = common::Raw(std::net::TcpStream::connect((ip, s.handle.addr.port())).unwrap());
    r.0.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    r.roundtrip(b"PING\r\n", NOAUTH);
    r.roundtrip(b"AUTH pw\r\n", b"+OK\r\n");
    r.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn credentials_are_redacted_in_slowlog_and_monitor() {
    let s = server();
    let mut c = s.client();
    assert_eq!(q::<String>(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]), "OK");
    let mut m = s.raw();
    m.roundtrip(b"MONITOR\r\n", b"+OK\r\n");
    let mut r = s.raw();
    r.roundtrip(b"AUTH x y\r\n", WRONGPASS);
    r.send(b"HELLO 2 AUTH default x SETNAME n\r\n");
    let mut byte = [0u8; 1];
    let mut reply = Vec::new();
    while !reply.ends_with(b"modules\r\n*0\r\n") {
        std::io::Read::read_exact(&mut r.0, &mut byte).unwrap();
        reply.push(byte[0]);
    }
    r.roundtrip(b"ACL SETUSER zz on >x\r\n", b"+OK\r\n");
    let mut line = Vec::new();
    let mut lines = Vec::new();
    while lines.len() < 2 {
        std::io::Read::read_exact(&mut m.0, &mut byte).unwrap();
        line.push(byte[0]);
        if line.ends_with(b"\r\n") {
            let text = String::from_utf8_lossy(&line).into_owned();
            lines.push(text[text.find(']').unwrap() + 2..].to_string());
            line.clear();
        }
    }
    assert_eq!(
        lines,
        [
            "\"AUTH\" \"(redacted)\" \"(redacted)\"\r\n",
            "\"HELLO\" \"2\" \"AUTH\" \"(redacted)\" \"(redacted)\" \"SETNAME\" \"n\"\r\n"
        ]
    );
    let log: Vec<Vec<redis::Value>> = q(&mut c, &["SLOWLOG", "GET", "3"]);
    let args = |e: &Vec<redis::Value>| format!("{:?}", e[3]);
    let setuser = args(&log[0]);
    assert!(setuser.contains("SETUSER") && setuser.matches("(redacted)").count() == 3, "{setuser}");
}

#[test]
fn a_deleted_users_blocked_command_is_not_served() {
    let s = server();
    let mut admin = s.client();
    assert_eq!(q::<String>(&mut admin, &["ACL", "SETUSER", "w", "on", "nopass", "+@all", "~*"]), "OK");
    let mut r = s.raw();
    r.roundtrip(b"AUTH w x\r\n", b"+OK\r\n");
    r.send(b"BLPOP q 0\r\n");
    common::wait_blocked(&mut admin, 1);
    assert_eq!(q::<i64>(&mut admin, &["ACL", "DELUSER", "w"]), 1);
    assert_eq!(q::<i64>(&mut admin, &["LPUSH", "q", "v"]), 1);
    let rest = r.read_to_close();
    assert!(rest.is_empty() || rest == NOAUTH, "{}", String::from_utf8_lossy(&rest));
    assert_eq!(q::<Vec<String>>(&mut admin, &["LRANGE", "q", "0", "-1"]), ["v"]);
}

/// HELLO's options take effect one by one as Redis 7.0.15 reads them: a
/// name is set even when NOAUTH or a later syntax error follows, a bad name
/// before AUTH stops the authentication, an AUTH before a bad option stays
/// (each case recorded from redis-server 7.0.15; found by the fuzzer's
/// `HELLO 3 SETNAME COUNT 'bad name'`).
#[test]
fn hello_options_take_effect_in_order() {
    let s = server_with(|c| c.requirepass = "secret".into());
    let bad_name = b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n";
    let mut r = s.raw();
    r.roundtrip(b"HELLO 3 SETNAME pre\r\n", NOAUTH_HELLO);
    r.roundtrip(b"AUTH secret\r\n", b"+OK\r\n");
    r.roundtrip(b"CLIENT GETNAME\r\n", b"$3\r\npre\r\n");
    r.roundtrip(b"HELLO 2 SETNAME x bogus\r\n", b"-ERR Syntax error in HELLO option 'bogus'\r\n");
    r.roundtrip(b"CLIENT GETNAME\r\n", b"$1\r\nx\r\n");
    let mut r = s.raw();
    r.roundtrip(&common::resp(&["HELLO", "2", "SETNAME", "a b", "AUTH", "default", "secret"]), bad_name);
    r.roundtrip(b"PING\r\n", NOAUTH);
    let mut r = s.raw();
    r.roundtrip(b"HELLO 3 AUTH default secret bogus\r\n", b"-ERR Syntax error in HELLO option 'bogus'\r\n");
    r.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

/// Redis's Tcl test "For unauthenticated clients multibulk and bulk length
/// are limited" (texts recorded from redis-server 7.0.15): a client that
/// must authenticate and has not may send at most 10 arguments of at most
/// 16 KB each; past that, a protocol error and the connection closes.
/// Authenticated, the limits are gone.
#[test]
fn unauthenticated_clients_send_small_commands_only() {
    let s = server_with(|c| c.requirepass = "secret".into());
    for (req, want) in [
        (&b"*11\r\n"[..], &b"-ERR Protocol error: unauthenticated multibulk length\r\n"[..]),
        (b"*1\r\n$16385\r\n", b"-ERR Protocol error: unauthenticated bulk length\r\n"),
        (b"*1\r\n$100000000\r\n", b"-ERR Protocol error: unauthenticated bulk length\r\n"),
    ] {
        let mut raw = s.raw();
        raw.send(req);
        assert_eq!(raw.read_to_close(), want);
    }
    // Within the limits: the usual NOAUTH.
    let mut raw = s.raw();
    let ten = format!("*10\r\n$3\r\nDEL\r\n{}", "$1\r\nx\r\n".repeat(9));
    raw.roundtrip(ten.as_bytes(), b"-NOAUTH Authentication required.\r\n");
    let big = format!("*2\r\n$4\r\nECHO\r\n$16384\r\n{}\r\n", "y".repeat(16384));
    raw.roundtrip(big.as_bytes(), b"-NOAUTH Authentication required.\r\n");
    // Authenticated, in the same connection: no such limit.
    raw.roundtrip(b"AUTH secret\r\n", b"+OK\r\n");
    let eleven = format!("*12\r\n$4\r\nMSET\r\n{}", "$1\r\nk\r\n$1\r\nv\r\n".repeat(5) + "$1\r\nz\r\n");
    raw.roundtrip(eleven.as_bytes(), b"-ERR wrong number of arguments for 'mset' command\r\n");
    let big = format!("*2\r\n$4\r\nECHO\r\n$20000\r\n{}\r\n", "y".repeat(20000));
    raw.send(big.as_bytes());
    let mut head = [0u8; 8];
    std::io::Read::read_exact(&mut raw.0, &mut head).unwrap();
    assert_eq!(&head, b"$20000\r\n");
}
