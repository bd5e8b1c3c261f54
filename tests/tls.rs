//! TLS (`tls-port` and the `tls-*` options, #17): the redis crate over
//! `rediss://`, a rustls client where handshake details matter, raw TCP
//! for a plain client on the TLS port, redis-cli `--tls`, and the binary
//! refusing a passphrase-protected key at start. Certificates are made
//! here with rcgen: a CA, a server certificate for localhost/127.0.0.1, a
//! client certificate, and a second CA with its own client certificate.

mod common;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use redis::{ClientTlsConfig, TlsCertificates};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A certificate and its key, in PEM.
struct Pair {
    cert: String,
    key: String,
}

struct Certs {
    dir: PathBuf,
    ca: String,
    server: Pair,
    client: Pair,
    other_ca: String,
    /// A client certificate the server's CA did not sign.
    stranger: Pair,
}

fn ca(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), Issuer::new(params, key))
}

fn leaf(names: &[&str], cn: &str, issuer: &Issuer<'static, KeyPair>) -> Pair {
    let mut params = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, cn);
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    Pair { cert: cert.pem(), key: key.serialize_pem() }
}

impl Certs {
    fn new() -> Certs {
        let dir = PathBuf::from(common::fresh_dir());
        let (ca_pem, issuer) = ca("ferrokv test CA");
        let (other_ca, other) = ca("another CA");
        let certs = Certs {
            ca: ca_pem,
            server: leaf(&["localhost", "127.0.0.1"], "localhost", &issuer),
            client: leaf(&[], "client", &issuer),
            other_ca,
            stranger: leaf(&[], "stranger", &other),
            dir,
        };
        for (name, text) in [
            ("ca.crt", &certs.ca),
            ("server.crt", &certs.server.cert),
            ("server.key", &certs.server.key),
            ("other-ca.crt", &certs.other_ca),
        ] {
            std::fs::write(certs.dir.join(name), text).unwrap();
        }
        std::fs::write(certs.dir.join("client.crt"), &certs.client.cert).unwrap();
        std::fs::write(certs.dir.join("client.key"), &certs.client.key).unwrap();
        certs
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for Certs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn set(c: &mut ferrokv::Config, name: &str, value: &str) {
    c.apply(name, &[value.to_string()]).unwrap();
}

/// A server with the TLS port on, its certificates from `certs`, and
/// `f` for the rest; returns it and the TLS port's address.
fn tls_server(certs: &Certs, f: impl Fn(&mut ferrokv::Config)) -> (common::TestServer, SocketAddr) {
    for _ in 0..20 {
        let port = free_port();
        let mut config = ferrokv::Config { port: 0, save: Vec::new(), dir: common::fresh_dir(), ..Default::default() };
        set(&mut config, "tls-port", &port.to_string());
        set(&mut config, "tls-cert-file", &certs.path("server.crt"));
        set(&mut config, "tls-key-file", &certs.path("server.key"));
        set(&mut config, "tls-ca-cert-file", &certs.path("ca.crt"));
        f(&mut config);
        let dir = config.dir.clone();
        // Another test may have taken the port meanwhile: try another.
        if let Ok(handle) = ferrokv::start(config) {
            return (common::TestServer { handle, dir }, SocketAddr::from(([127, 0, 0, 1], port)));
        }
    }
    panic!("no free port for the TLS server");
}

/// The redis crate over TLS, trusting `ca`, with `client` as its
/// certificate if given.
fn rediss(addr: SocketAddr, ca: &str, client: Option<&Pair>) -> redis::RedisResult<redis::Connection> {
    let certs = TlsCertificates {
        client_tls: client.map(|p| ClientTlsConfig {
            client_cert: p.cert.as_bytes().to_vec(),
            client_key: p.key.as_bytes().to_vec(),
        }),
        root_cert: Some(ca.as_bytes().to_vec()),
    };
    let client = redis::Client::build_with_tls(format!("rediss://{addr}/"), certs)?;
    let mut con = client.get_connection_with_timeout(Duration::from_secs(10))?;
    con.set_read_timeout(Some(Duration::from_secs(10)))?;
    // The server checks a client certificate at the end of the
    // handshake: a refusal shows at the first exchange.
    redis::cmd("PING").query::<String>(&mut con)?;
    Ok(con)
}

/// A rustls client (for what the redis crate does not show: the
/// handshake kind, the exact bytes).
fn rustls_client(certs: &Certs, with_cert: bool) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(certs.ca.as_bytes()).unwrap()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions().unwrap();
    let builder = builder.with_root_certificates(roots);
    let config = if with_cert {
        let chain = vec![CertificateDer::from_pem_slice(certs.client.cert.as_bytes()).unwrap()];
        let key = PrivateKeyDer::from_pem_slice(certs.client.key.as_bytes()).unwrap();
        builder.with_client_auth_cert(chain, key).unwrap()
    } else {
        builder.with_no_client_auth()
    };
    Arc::new(config)
}

type TlsConn = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

fn rustls_connect(addr: SocketAddr, config: &Arc<rustls::ClientConfig>) -> TlsConn {
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(config.clone(), name).unwrap();
    let sock = TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut s = rustls::StreamOwned::new(conn, sock);
    while s.conn.is_handshaking() {
        s.conn.complete_io(&mut s.sock).unwrap();
    }
    s
}

fn expect(s: &mut impl Read, want: &[u8]) {
    let mut got = vec![0; want.len()];
    s.read_exact(&mut got).unwrap();
    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(want));
}

#[test]
fn rediss_with_a_client_certificate() {
    let certs = Certs::new();
    let (srv, addr) = tls_server(&certs, |_| {});
    let mut con = rediss(addr, &certs.ca, Some(&certs.client)).unwrap();
    redis::cmd("SET").arg("k").arg("over tls").query::<()>(&mut con).unwrap();
    let got: String = redis::cmd("GET").arg("k").query(&mut con).unwrap();
    assert_eq!(got, "over tls");
    // The same keyspace through the plain port.
    let got: String = redis::cmd("GET").arg("k").query(&mut srv.client()).unwrap();
    assert_eq!(got, "over tls");
    // CLIENT LIST shows the TLS port as the local address.
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut con).unwrap();
    assert!(list.contains(&format!("laddr={addr} ")), "{list}");
    // Without a certificate the default (tls-auth-clients yes) refuses.
    assert!(rediss(addr, &certs.ca, None).is_err());
    // A certificate from a CA the server does not trust is refused.
    assert!(rediss(addr, &certs.ca, Some(&certs.stranger)).is_err());
    // The server goes on serving.
    let got: String = redis::cmd("GET").arg("k").query(&mut con).unwrap();
    assert_eq!(got, "over tls");
}

#[test]
fn auth_clients_no_and_optional() {
    let certs = Certs::new();
    let (_srv, addr) = tls_server(&certs, |c| set(c, "tls-auth-clients", "no"));
    let mut con = rediss(addr, &certs.ca, None).unwrap();
    redis::cmd("SET").arg("a").arg("1").query::<()>(&mut con).unwrap();
    // `no` asks for no certificate: even a stranger's is not looked at.
    assert!(rediss(addr, &certs.ca, Some(&certs.stranger)).is_ok());

    // CONFIG SET applies to new connections.
    redis::cmd("CONFIG").arg("SET").arg("tls-auth-clients").arg("optional").query::<()>(&mut con).unwrap();
    assert!(rediss(addr, &certs.ca, None).is_ok());
    assert!(rediss(addr, &certs.ca, Some(&certs.client)).is_ok());
    assert!(rediss(addr, &certs.ca, Some(&certs.stranger)).is_err());
    redis::cmd("CONFIG").arg("SET").arg("tls-auth-clients").arg("yes").query::<()>(&mut con).unwrap();
    assert!(rediss(addr, &certs.ca, None).is_err());
    assert!(rediss(addr, &certs.ca, Some(&certs.client)).is_ok());
    // The connection made before goes on.
    let got: String = redis::cmd("GET").arg("a").query(&mut con).unwrap();
    assert_eq!(got, "1");
}

#[test]
fn client_refuses_a_server_its_ca_did_not_sign() {
    let certs = Certs::new();
    let (_srv, addr) = tls_server(&certs, |c| set(c, "tls-auth-clients", "no"));
    assert!(rediss(addr, &certs.other_ca, None).is_err());
    assert!(rediss(addr, &certs.ca, None).is_ok());
}

#[test]
fn plain_client_on_the_tls_port_is_closed() {
    let certs = Certs::new();
    let (srv, addr) = tls_server(&certs, |_| {});
    let mut raw = common::Raw(TcpStream::connect(addr).unwrap());
    raw.0.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    raw.send(b"PING\r\n");
    let got = raw.read_to_close();
    // At most a TLS alert record (content type 21), never a RESP reply.
    assert!(got.is_empty() || got[0] == 21, "{got:?}");
    let mut raw = common::Raw(TcpStream::connect(addr).unwrap());
    raw.0.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    raw.send(b"*1\r\n$4\r\nPING\r\n");
    raw.read_to_close();
    // Nothing else is disturbed.
    srv.raw().roundtrip(b"PING\r\n", b"+PONG\r\n");
    assert!(rediss(addr, &certs.ca, Some(&certs.client)).is_ok());
}

#[test]
fn large_pipelined_values_cross_records() {
    let certs = Certs::new();
    let (_srv, addr) = tls_server(&certs, |_| {});
    let config = rustls_client(&certs, true);
    let mut s = rustls_connect(addr, &config);
    // 20 SETs of 1 MB and 20 GETs in one write: requests and replies
    // span many TLS records and many reads.
    let value: Vec<u8> = (0..1 << 20).map(|i| b'a' + (i % 26) as u8).collect();
    let mut req = Vec::new();
    for i in 0..20 {
        let key = format!("key:{i}");
        req.extend_from_slice(format!("*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n", key.len(), value.len()).as_bytes());
        req.extend_from_slice(&value);
        req.extend_from_slice(b"\r\n");
    }
    for i in 0..20 {
        let key = format!("key:{i}");
        req.extend_from_slice(format!("*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len()).as_bytes());
    }
    // The replies wait in the server's buffer until this side reads.
    s.write_all(&req).unwrap();
    s.flush().unwrap();
    let reader = &mut s;
    for _ in 0..20 {
        expect(reader, b"+OK\r\n");
    }
    for _ in 0..20 {
        expect(reader, format!("${}\r\n", value.len()).as_bytes());
        let mut got = vec![0; value.len() + 2];
        reader.read_exact(&mut got).unwrap();
        assert!(got[..value.len()] == value[..] && got.ends_with(b"\r\n"));
    }
    // Small requests split at every byte still parse.
    for b in b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n" {
        s.write_all(&[*b]).unwrap();
        s.flush().unwrap();
    }
    expect(&mut s, b"$2\r\nhi\r\n");
}

#[test]
fn session_resumption_follows_session_caching() {
    let certs = Certs::new();
    let (srv, addr) = tls_server(&certs, |_| {});
    let config = rustls_client(&certs, true);
    for round in 0..2 {
        let mut first = rustls_connect(addr, &config);
        first.write_all(b"PING\r\n").unwrap();
        first.flush().unwrap();
        expect(&mut first, b"+PONG\r\n");
        let mut second = rustls_connect(addr, &config);
        second.write_all(b"PING\r\n").unwrap();
        second.flush().unwrap();
        expect(&mut second, b"+PONG\r\n");
        let kind = second.conn.handshake_kind();
        if round == 0 {
            assert_eq!(kind, Some(rustls::HandshakeKind::Resumed));
            redis::cmd("CONFIG")
                .arg("SET")
                .arg("tls-session-caching")
                .arg("no")
                .query::<()>(&mut srv.client())
                .unwrap();
        } else {
            assert_eq!(kind, Some(rustls::HandshakeKind::Full));
        }
    }
}

#[test]
fn config_set_of_tls_options() {
    let certs = Certs::new();
    let (srv, addr) = tls_server(&certs, |_| {});
    let mut con = srv.client();
    let err = |con: &mut redis::Connection, name: &str, value: &str| {
        let e = redis::cmd("CONFIG").arg("SET").arg(name).arg(value).query::<()>(con).unwrap_err();
        e.to_string()
    };
    let update = "Unable to update TLS configuration. Check server logs.";
    // Without a certificate, tls-replication and tls-cluster cannot be
    // turned on either, port or not (Redis's applyTlsCfg).
    let plain = common::server();
    let mut pc = plain.client();
    for name in ["tls-replication", "tls-cluster"] {
        assert!(err(&mut pc, name, "yes").contains(&format!("(possibly related to argument '{name}') - {update}")));
        assert_eq!(common::q::<Vec<String>>(&mut pc, &["CONFIG", "GET", name]), [name, "no"]);
    }
    for (name, value) in [
        ("tls-cert-file", "/nonexistent/server.crt"),
        ("tls-key-file", "/nonexistent/server.key"),
        ("tls-ca-cert-file", "/nonexistent/ca.crt"),
        ("tls-protocols", "TLSv1.2 foo"),
        ("tls-protocols", "TLSv1.1"),
        ("tls-ciphers", "FOO:BAR"),
        ("tls-ciphersuites", "FOO"),
    ] {
        let e = err(&mut con, name, value);
        assert!(e.contains(&format!("CONFIG SET failed (possibly related to argument '{name}') - {update}")), "{e}");
    }
    let e = err(&mut con, "tls-auth-clients", "maybe");
    assert!(e.contains("argument(s) must be one of the following: no, yes, optional"), "{e}");
    let e = err(&mut con, "tls-session-cache-size", "-1");
    assert!(e.contains("argument must be between 0 and 2147483647 inclusive"), "{e}");
    // Failed sets changed nothing.
    let got: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("tls-cert-file").query(&mut con).unwrap();
    assert_eq!(got[1], certs.path("server.crt"));
    assert!(rediss(addr, &certs.ca, Some(&certs.client)).is_ok());
    // Good values apply.
    for (name, value) in [
        ("tls-protocols", "TLSv1.2"),
        ("tls-ciphers", "FOO:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384"),
        ("tls-prefer-server-ciphers", "yes"),
    ] {
        redis::cmd("CONFIG").arg("SET").arg(name).arg(value).query::<()>(&mut con).unwrap();
    }
    let config = rustls_client(&certs, true);
    let s = rustls_connect(addr, &config);
    assert_eq!(s.conn.protocol_version(), Some(rustls::ProtocolVersion::TLSv1_2));
    let suite = s.conn.negotiated_cipher_suite().unwrap().suite();
    assert!(format!("{suite:?}").contains("AES_256_GCM_SHA384"), "{suite:?}");
    redis::cmd("CONFIG").arg("SET").arg("tls-protocols").arg("TLSv1.3").query::<()>(&mut con).unwrap();
    let s = rustls_connect(addr, &config);
    assert_eq!(s.conn.protocol_version(), Some(rustls::ProtocolVersion::TLSv1_3));
}

#[test]
fn config_set_reloads_the_certificate() {
    let certs = Certs::new();
    let (srv, addr) = tls_server(&certs, |c| set(c, "tls-auth-clients", "no"));
    // A new server certificate from another CA: new connections get it.
    let (other_ca, issuer) = ca("reloaded CA");
    let second = leaf(&["localhost", "127.0.0.1"], "localhost", &issuer);
    std::fs::write(certs.dir.join("second.crt"), &second.cert).unwrap();
    std::fs::write(certs.dir.join("second.key"), &second.key).unwrap();
    let mut old = rediss(addr, &certs.ca, None).unwrap();
    let mut con = srv.client();
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("tls-cert-file")
        .arg(certs.path("second.crt"))
        .arg("tls-key-file")
        .arg(certs.path("second.key"))
        .query::<()>(&mut con)
        .unwrap();
    assert!(rediss(addr, &other_ca, None).is_ok());
    assert!(rediss(addr, &certs.ca, None).is_err());
    // The connection made before keeps its session.
    assert_eq!(redis::cmd("PING").query::<String>(&mut old).unwrap(), "PONG");
    // A key that does not go with the certificate is refused.
    let e = redis::cmd("CONFIG")
        .arg("SET")
        .arg("tls-key-file")
        .arg(certs.path("server.key"))
        .query::<()>(&mut con)
        .unwrap_err();
    assert!(e.to_string().contains("Unable to update TLS configuration"), "{e}");
}

#[test]
fn config_set_tls_port_opens_and_closes_it() {
    let certs = Certs::new();
    let srv = common::server_with(|c| {
        set(c, "tls-cert-file", &certs.path("server.crt"));
        set(c, "tls-key-file", &certs.path("server.key"));
        set(c, "tls-auth-clients", "no");
    });
    let mut con = srv.client();
    let port = free_port();
    redis::cmd("CONFIG").arg("SET").arg("tls-port").arg(port).query::<()>(&mut con).unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    assert!(rediss(addr, &certs.ca, None).is_ok());
    let got: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("tls-port").query(&mut con).unwrap();
    assert_eq!(got[1], port.to_string());
    // No CA: client certificates cannot be checked (see the option's note).
    let e = redis::cmd("CONFIG").arg("SET").arg("tls-auth-clients").arg("optional").query::<()>(&mut con).unwrap_err();
    assert!(
        e.to_string()
            .contains("(possibly related to argument 'tls-auth-clients') - Unable to update TLS configuration"),
        "{e}"
    );
    redis::cmd("CONFIG").arg("SET").arg("tls-port").arg(0).query::<()>(&mut con).unwrap();
    assert!(TcpStream::connect(addr).is_err());
    // Without a CA, tls-auth-clients yes cannot work: refused.
    redis::cmd("CONFIG").arg("SET").arg("tls-auth-clients").arg("yes").query::<()>(&mut con).unwrap();
    let e = redis::cmd("CONFIG").arg("SET").arg("tls-port").arg(port).query::<()>(&mut con).unwrap_err();
    assert!(
        e.to_string().contains("(possibly related to argument 'tls-port') - Unable to update TLS configuration"),
        "{e}"
    );
}

#[test]
fn start_refuses_a_bad_tls_setup() {
    let certs = Certs::new();
    let start = |f: &dyn Fn(&mut ferrokv::Config)| {
        let mut config = ferrokv::Config { port: 0, save: Vec::new(), dir: common::fresh_dir(), ..Default::default() };
        set(&mut config, "tls-port", &free_port().to_string());
        set(&mut config, "tls-cert-file", &certs.path("server.crt"));
        set(&mut config, "tls-key-file", &certs.path("server.key"));
        f(&mut config);
        let dir = config.dir.clone();
        let r = ferrokv::start(config).map(|_| ()).map_err(|e| e.to_string());
        let _ = std::fs::remove_dir_all(dir);
        r
    };
    let e = start(&|_| {}).unwrap_err();
    assert_eq!(
        e,
        "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!"
    );
    let e = start(&|c| set(c, "tls-cert-file", "")).unwrap_err();
    assert_eq!(e, "No tls-cert-file configured!");
    let e = start(&|c| {
        set(c, "tls-auth-clients", "no");
        set(c, "tls-key-file", "/nonexistent.key");
    })
    .unwrap_err();
    assert_eq!(e, "Failed to load private key: /nonexistent.key: No such file or directory");
    // A CA directory works in place of the file.
    std::fs::create_dir_all(certs.dir.join("cas")).unwrap();
    std::fs::write(certs.dir.join("cas/ca.pem"), &certs.ca).unwrap();
    assert!(start(&|c| set(c, "tls-ca-cert-dir", &certs.path("cas"))).is_ok());
}

/// An encrypted copy of the server key (openssl's PKCS#8 form, as
/// `openssl pkcs8 -topk8 -passout` writes it).
fn encrypted_key(certs: &Certs) -> String {
    let path = certs.path("encrypted.key");
    let made = std::process::Command::new("openssl")
        .args(["pkcs8", "-topk8", "-in", &certs.path("server.key"), "-out", &path, "-passout", "pass:secret"])
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        // Without openssl, the same shape.
        std::fs::write(&path, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFLTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQIgYcqZBDxFNcCAggA\n-----END ENCRYPTED PRIVATE KEY-----\n").unwrap();
    }
    path
}

#[test]
fn passphrase_key_is_refused_at_start_with_a_message() {
    let certs = Certs::new();
    let key = encrypted_key(&certs);
    let port = free_port().to_string();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferrokv"))
        .args(["--port", "0", "--save", "", "--tls-port", &port, "--tls-auth-clients", "no"])
        .args(["--tls-cert-file", &certs.path("server.crt"), "--tls-key-file", &key])
        .args(["--tls-key-file-pass", "secret"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains(&format!("Failed to load private key: {key}: the key is encrypted with a passphrase")),
        "{log}"
    );
    assert!(log.contains("cannot read"), "{log}");
    assert!(log.contains("Failed to configure TLS. Check logs for more info."), "{log}");
    // CONFIG SET refuses it too, and keeps the working key.
    let (srv, addr) = tls_server(&certs, |c| set(c, "tls-auth-clients", "no"));
    let e = redis::cmd("CONFIG").arg("SET").arg("tls-key-file").arg(&key).query::<()>(&mut srv.client()).unwrap_err();
    assert!(e.to_string().contains("Unable to update TLS configuration"), "{e}");
    assert!(rediss(addr, &certs.ca, None).is_ok());
}

#[test]
fn redis_cli_over_tls() {
    let certs = Certs::new();
    let (_srv, addr) = tls_server(&certs, |_| {});
    let port = addr.port().to_string();
    let cli = |extra: &[&str]| {
        std::process::Command::new("redis-cli")
            .args(["-p", &port, "--tls", "--cacert", &certs.path("ca.crt")])
            .args(extra)
            .output()
            .expect("redis-cli (redis-tools) is installed")
    };
    let out = cli(&["--cert", &certs.path("client.crt"), "--key", &certs.path("client.key"), "SET", "cli", "yes"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "OK\n");
    let out = cli(&["--cert", &certs.path("client.crt"), "--key", &certs.path("client.key"), "GET", "cli"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "yes\n");
    // No client certificate: refused (redis-cli's own wording varies).
    let out = cli(&["GET", "cli"]);
    assert_ne!(String::from_utf8_lossy(&out.stdout), "yes\n");
}

#[test]
fn protected_mode_refusal_comes_after_the_handshake() {
    // A non-loopback address of this machine, if it has one.
    let Some(ip) = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").map(|_| s))
        .and_then(|s| s.local_addr())
        .ok()
        .map(|a| a.ip())
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
    else {
        eprintln!("no non-loopback address: protected mode over TLS not checked");
        return;
    };
    let certs = Certs::new();
    let (srv, addr) = tls_server(&certs, |c| c.bind = vec!["*".into()]);
    let config = rustls_client(&certs, true);
    let mut s = rustls_connect(SocketAddr::new(ip, addr.port()), &config);
    let mut text = Vec::new();
    let _ = s.read_to_end(&mut text);
    let text = String::from_utf8_lossy(&text);
    assert!(text.starts_with("-DENIED Redis is running in protected mode because protected mode is enabled"), "{text}");
    let local = format!("redis://127.0.0.1:{}/", srv.handle.addr.port());
    let mut local = redis::Client::open(local).unwrap().get_connection().unwrap();
    let info: String = redis::cmd("INFO").arg("stats").query(&mut local).unwrap();
    assert!(info.contains("rejected_connections:1\r\n"), "{info}");
    // Loopback is served.
    assert!(rediss(addr, &certs.ca, Some(&certs.client)).is_ok());
}
