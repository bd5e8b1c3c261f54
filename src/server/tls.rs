//! TLS on rustls (`tls-port` and the `tls-*` options): the server's TLS
//! context, built from the config as Redis's `tlsConfigure` builds its
//! `SSL_CTX`, and the stream a TLS client's bytes go through.
//!
//! A TLS connection is a [`TlsStream`]: the TCP socket and a rustls
//! `ServerConnection`, driven on readiness inside the one loop
//! (`read_tls`/`process_new_packets`/`write_tls`), so the handshake never
//! blocks. Above it a TLS client reads and writes plaintext through the
//! same `Conn` buffers, parser and reply path as a plain one.
//!
//! Invariants: a context is replaced only by one that was built whole (a
//! failed CONFIG SET leaves the old one, as Redis's atomic reconfigure);
//! connections keep the context they were accepted with.
//!
//! What rustls does not do, and so differs from Redis's OpenSSL build:
//! TLSv1 and TLSv1.1 (refused alone, ignored beside TLSv1.2/1.3), cipher
//! suites other than rustls's (TLS 1.2: the six ECDHE AES-GCM/ChaCha20
//! ones by their OpenSSL names; OpenSSL's cipher-string keywords other
//! than DEFAULT/ALL/HIGH are ignored), DH parameters (no finite-field DHE)
//! and private keys encrypted with a passphrase (refused with a message
//! saying so).

use crate::config::Config;
use mio::net::TcpStream;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{NoServerSessionStorage, StoresServerSessions, WebPkiClientVerifier};
use rustls::{RootCertStore, ServerConfig, ServerConnection, SupportedProtocolVersion};
use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `tls-auth-clients`: whether a client must show a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    No,
    Yes,
    Optional,
}

impl Auth {
    fn from_name(name: &str) -> Auth {
        match name {
            "no" => Auth::No,
            "optional" => Auth::Optional,
            _ => Auth::Yes,
        }
    }
}

/// The `tls-*` options the context is built from (each change of one
/// rebuilds it, as Redis's `applyTlsCfg`), by their config names.
const CONTEXT_OPTIONS: &[&str] = &[
    "tls-cert-file",
    "tls-key-file",
    "tls-key-file-pass",
    "tls-ca-cert-file",
    "tls-ca-cert-dir",
    "tls-protocols",
    "tls-ciphers",
    "tls-ciphersuites",
    "tls-prefer-server-ciphers",
    "tls-session-caching",
    "tls-session-cache-size",
    "tls-session-cache-timeout",
    "tls-auth-clients",
];

/// The `tls-port` option's value.
pub fn port(config: &Config) -> u16 {
    config.get("tls-port").and_then(|p| p.parse().ok()).unwrap_or(0)
}

/// The first context option whose value differs between two configs.
pub fn changed(new: &Config, old: &Config) -> Option<&'static str> {
    CONTEXT_OPTIONS.iter().copied().find(|name| new.get(name) != old.get(name))
}

/// The server's TLS context (`tls-auth-clients` is part of it: CONFIG SET
/// of it rebuilds the context, where Redis applies it per connection).
pub struct Context {
    config: Arc<ServerConfig>,
}

impl Context {
    /// Builds the context `config` describes. The error is the log line
    /// Redis writes for the same cause.
    pub fn build(config: &Config) -> Result<Context, String> {
        let get = |name: &str| config.get(name).unwrap_or_default();
        let cert_file = get("tls-cert-file");
        let key_file = get("tls-key-file");
        let ca_file = get("tls-ca-cert-file");
        let ca_dir = get("tls-ca-cert-dir");
        let auth = Auth::from_name(&get("tls-auth-clients"));
        if cert_file.is_empty() {
            return Err("No tls-cert-file configured!".into());
        }
        if key_file.is_empty() {
            return Err("No tls-key-file configured!".into());
        }
        if auth != Auth::No && ca_file.is_empty() && ca_dir.is_empty() {
            return Err("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!".into());
        }
        let versions = protocols(&get("tls-protocols"))?;
        let base = rustls::crypto::ring::default_provider();
        let mut suites = Vec::new();
        let tls12 = get("tls-ciphers");
        if tls12.is_empty() {
            suites.extend(base.cipher_suites.iter().filter(|s| s.tls13().is_none()).copied());
        } else {
            let chosen = select_suites(&base, &tls12, false);
            if chosen.is_empty() {
                return Err(format!("Failed to configure ciphers: {tls12}"));
            }
            suites.extend(chosen);
        }
        let tls13 = get("tls-ciphersuites");
        if tls13.is_empty() {
            suites.extend(base.cipher_suites.iter().filter(|s| s.tls13().is_some()).copied());
        } else {
            let chosen = select_suites(&base, &tls13, true);
            if chosen.is_empty() {
                return Err(format!("Failed to configure ciphersuites: {tls13}"));
            }
            suites.extend(chosen);
        }
        // TLS 1.3 suites first, so a client offering both versions gets 1.3.
        suites.sort_by_key(|s| s.tls13().is_none());
        let provider = Arc::new(CryptoProvider { cipher_suites: suites, ..base });
        let certs = load_certs(&cert_file).map_err(|e| format!("Failed to load certificate: {cert_file}: {e}"))?;
        let key = load_key(&key_file, &get("tls-key-file-pass"))
            .map_err(|e| format!("Failed to load private key: {key_file}: {e}"))?;
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions)
            .map_err(|e| format!("Failed to configure ciphers: {e}"))?;
        let builder = if auth == Auth::No {
            builder.with_no_client_auth()
        } else {
            let roots = load_roots(&ca_file, &ca_dir)
                .map_err(|e| format!("Failed to configure CA certificate(s) file/directory: {e}"))?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if auth == Auth::Optional { verifier.allow_unauthenticated() } else { verifier };
            let verifier =
                verifier.build().map_err(|e| format!("Failed to configure CA certificate(s) file/directory: {e}"))?;
            builder.with_client_cert_verifier(verifier)
        };
        let mut server =
            builder.with_single_cert(certs, key).map_err(|e| format!("Failed to load private key: {key_file}: {e}"))?;
        server.ignore_client_order = get("tls-prefer-server-ciphers") == "yes";
        if get("tls-session-caching") == "yes" {
            let size = get("tls-session-cache-size").parse().unwrap_or(20480);
            let timeout = get("tls-session-cache-timeout").parse().unwrap_or(300);
            server.session_storage = Arc::new(SessionCache::new(size, Duration::from_secs(timeout)));
        } else {
            server.session_storage = Arc::new(NoServerSessionStorage {});
            server.send_tls13_tickets = 0;
        }
        Ok(Context { config: Arc::new(server) })
    }

    /// A new TLS connection on an accepted socket.
    pub fn accept(&self, sock: TcpStream) -> io::Result<TlsStream> {
        let tls = ServerConnection::new(self.config.clone()).map_err(io::Error::other)?;
        Ok(TlsStream { sock, tls, deny: None })
    }
}

/// `tls-protocols`: Redis's names, case-insensitive, space-separated;
/// empty means TLSv1.2 and TLSv1.3 (Redis's default too).
fn protocols(value: &str) -> Result<Vec<&'static SupportedProtocolVersion>, String> {
    let mut out = Vec::new();
    let mut old = false;
    for word in value.split(' ').filter(|w| !w.is_empty()) {
        match word.to_ascii_lowercase().as_str() {
            "tlsv1" | "tlsv1.1" => old = true,
            "tlsv1.2" => out.push(&rustls::version::TLS12),
            "tlsv1.3" => out.push(&rustls::version::TLS13),
            _ => {
                return Err("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.".into());
            }
        }
    }
    if out.is_empty() && old {
        return Err("Invalid tls-protocols specified: TLSv1 and TLSv1.1 are not supported by ferrokv (rustls); use TLSv1.2 or TLSv1.3.".into());
    }
    if old {
        log::warn!("tls-protocols: TLSv1 and TLSv1.1 are not supported by ferrokv (rustls) and are ignored.");
    }
    if out.is_empty() {
        out = vec![&rustls::version::TLS12, &rustls::version::TLS13];
    }
    Ok(out)
}

/// The suites a `tls-ciphers` (OpenSSL cipher string, TLS 1.2) or
/// `tls-ciphersuites` (TLS 1.3) value names, in its order. Names rustls
/// does not have are skipped, as OpenSSL skips names it does not know;
/// DEFAULT, ALL and HIGH stand for all of rustls's; `!name` and `-name`
/// take a suite out.
fn select_suites(base: &CryptoProvider, value: &str, tls13: bool) -> Vec<rustls::SupportedCipherSuite> {
    let of_version: Vec<_> = base.cipher_suites.iter().copied().filter(|s| s.tls13().is_some() == tls13).collect();
    let mut out: Vec<rustls::SupportedCipherSuite> = Vec::new();
    for word in value.split([':', ',', ' ']).filter(|w| !w.is_empty()) {
        let (remove, name) = match word.as_bytes()[0] {
            b'!' | b'-' => (true, &word[1..]),
            b'+' => continue,
            _ => (false, word),
        };
        let upper = name.to_ascii_uppercase();
        let matching: Vec<_> = if !tls13 && matches!(upper.as_str(), "DEFAULT" | "ALL" | "HIGH") {
            of_version.clone()
        } else {
            of_version.iter().copied().filter(|s| openssl_name(s) == upper).collect()
        };
        for s in matching {
            out.retain(|o| o.suite() != s.suite());
            if !remove {
                out.push(s);
            }
        }
    }
    out
}

/// OpenSSL's name of a suite (TLS 1.3 suites go by their IANA names).
fn openssl_name(s: &rustls::SupportedCipherSuite) -> &'static str {
    use rustls::CipherSuite as C;
    match s.suite() {
        C::TLS13_AES_256_GCM_SHA384 => "TLS_AES_256_GCM_SHA384",
        C::TLS13_AES_128_GCM_SHA256 => "TLS_AES_128_GCM_SHA256",
        C::TLS13_CHACHA20_POLY1305_SHA256 => "TLS_CHACHA20_POLY1305_SHA256",
        C::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => "ECDHE-ECDSA-AES256-GCM-SHA384",
        C::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => "ECDHE-ECDSA-AES128-GCM-SHA256",
        C::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => "ECDHE-ECDSA-CHACHA20-POLY1305",
        C::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => "ECDHE-RSA-AES256-GCM-SHA384",
        C::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => "ECDHE-RSA-AES128-GCM-SHA256",
        C::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => "ECDHE-RSA-CHACHA20-POLY1305",
        _ => "",
    }
}

fn load_certs(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<_> =
        CertificateDer::pem_file_iter(path).map_err(pem_error)?.collect::<Result<_, _>>().map_err(pem_error)?;
    if certs.is_empty() {
        return Err("no certificate found in the file".into());
    }
    Ok(certs)
}

/// The private key; one encrypted with a passphrase is refused with a
/// message saying so (rustls reads only unencrypted keys).
fn load_key(path: &str, pass: &str) -> Result<PrivateKeyDer<'static>, String> {
    let text = std::fs::read(path).map_err(|e| crate::config::strerror(&e))?;
    let encrypted = memchr::memmem::find(&text, b"ENCRYPTED PRIVATE KEY").is_some()
        || memchr::memmem::find(&text, b"Proc-Type: 4,ENCRYPTED").is_some();
    if encrypted {
        let given = if pass.is_empty() { "no tls-key-file-pass is set" } else { "tls-key-file-pass is set" };
        return Err(format!(
            "the key is encrypted with a passphrase ({given}), which ferrokv's TLS (rustls) cannot read; \
             give it an unencrypted key (openssl pkey -in KEY -out PLAIN.key)"
        ));
    }
    PrivateKeyDer::from_pem_slice(&text).map_err(pem_error)
}

/// The CA certificates of `tls-ca-cert-file` and of every file in
/// `tls-ca-cert-dir` (OpenSSL's hashed directory: each file one PEM CA).
fn load_roots(file: &str, dir: &str) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    let mut add = |path: &std::path::Path, strict: bool| -> Result<(), String> {
        let iter = match CertificateDer::pem_file_iter(path) {
            Ok(iter) => iter,
            Err(e) if strict => return Err(pem_error(e)),
            Err(_) => return Ok(()),
        };
        for cert in iter {
            match cert {
                Ok(c) => roots.add(c).map_err(|e| e.to_string())?,
                Err(e) if strict => return Err(pem_error(e)),
                Err(_) => return Ok(()),
            }
        }
        Ok(())
    };
    if !file.is_empty() {
        add(std::path::Path::new(file), true)?;
    }
    if !dir.is_empty()
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
        paths.sort();
        for p in paths {
            add(&p, false)?;
        }
    }
    if roots.is_empty() {
        return Err("no CA certificate found".into());
    }
    Ok(roots)
}

fn pem_error(e: rustls::pki_types::pem::Error) -> String {
    match e {
        rustls::pki_types::pem::Error::Io(e) => crate::config::strerror(&e),
        rustls::pki_types::pem::Error::NoItemsFound => "no PEM item of the expected type found".into(),
        e => format!("{e:?}"),
    }
}

/// Redis's server-side session cache (`tls-session-cache-size` sessions
/// at most, 0 for no limit, each kept `tls-session-cache-timeout`
/// seconds), for rustls's session ids (TLS 1.2) and stateful tickets
/// (TLS 1.3). The oldest session goes first when full.
#[derive(Debug)]
struct SessionCache {
    size: usize,
    timeout: Duration,
    inner: Mutex<Sessions>,
}

#[derive(Debug, Default)]
struct Sessions {
    map: HashMap<Vec<u8>, (Vec<u8>, Instant)>,
    order: VecDeque<Vec<u8>>,
}

impl SessionCache {
    fn new(size: usize, timeout: Duration) -> SessionCache {
        SessionCache { size, timeout, inner: Mutex::new(Sessions::default()) }
    }

    fn lookup(&self, key: &[u8], remove: bool) -> Option<Vec<u8>> {
        let mut s = self.inner.lock().ok()?;
        let (value, at) = s.map.get(key)?;
        let live = at.elapsed() < self.timeout;
        let value = live.then(|| value.clone());
        if remove || !live {
            s.map.remove(key);
        }
        value
    }
}

impl StoresServerSessions for SessionCache {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        let Ok(mut s) = self.inner.lock() else { return false };
        if s.map.insert(key.clone(), (value, Instant::now())).is_none() {
            s.order.push_back(key);
        }
        // Forgotten keys (taken or expired) leave the order lazily.
        while (self.size > 0 && s.map.len() > self.size) || s.order.len() > 2 * s.map.len() + 16 {
            let Some(old) = s.order.pop_front() else { break };
            if self.size > 0 && s.map.len() > self.size {
                s.map.remove(&old);
            } else if s.map.contains_key(&old) {
                s.order.push_back(old);
            }
        }
        true
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.lookup(key, false)
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.lookup(key, true)
    }

    fn can_cache(&self) -> bool {
        true
    }
}

/// The socket as rustls reads it, noting whether a read was short.
struct ShortRead<'a> {
    sock: &'a mut TcpStream,
    short: bool,
}

impl Read for ShortRead<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.sock.read(buf)?;
        self.short = n < buf.len();
        Ok(n)
    }
}

/// A TLS client's socket and its rustls connection.
pub struct TlsStream {
    pub sock: TcpStream,
    tls: ServerConnection,
    /// Sent once the handshake is done, then the connection closes (a
    /// protected-mode refusal: Redis writes it after its TLS accept).
    deny: Option<&'static [u8]>,
}

impl TlsStream {
    /// Decrypted input into `buf`: what rustls holds, then what the socket
    /// has, until `buf` is full or the socket would block. Returns the
    /// bytes and whether the socket was drained (it would block).
    /// Handshake messages are answered on the way. `Ok((0, _))` is the
    /// end of the stream.
    pub fn read_plain(&mut self, buf: &mut [u8]) -> io::Result<(usize, bool)> {
        let mut filled = 0;
        // The last socket read was short: the socket had no more then (the
        // plain path's heuristic; it saves a read that would block).
        let mut short = false;
        loop {
            match self.tls.reader().read(&mut buf[filled..]) {
                Ok(0) if filled == 0 && !buf.is_empty() => return Ok((0, false)),
                Ok(n) => {
                    filled += n;
                    if filled == buf.len() || n == 0 {
                        return Ok((filled, false));
                    }
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if short && filled > 0 {
                        return Ok((filled, true));
                    }
                }
                // Closed without close_notify: the end, after what came.
                Err(e) => {
                    if filled > 0 {
                        return Ok((filled, false));
                    }
                    log::debug!("Reading from client: {e}");
                    return Err(e);
                }
            }
            let mut sock = ShortRead { sock: &mut self.sock, short: false };
            let read = self.tls.read_tls(&mut sock);
            short = sock.short;
            match read {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return if filled > 0 { Ok((filled, true)) } else { Err(e) };
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            let handshaking = self.tls.is_handshaking();
            if let Err(e) = self.tls.process_new_packets() {
                // The alert rustls queued goes out before the close.
                let _ = self.send_pending();
                if handshaking {
                    log::warn!("Error accepting a client connection: {e}");
                } else {
                    log::debug!("Reading from client: {e}");
                }
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
            if let Some(text) = self.deny.filter(|_| !self.tls.is_handshaking()) {
                // Sent as the connection closes (`Conn` flushes then).
                let _ = self.tls.writer().write_all(text);
                let _ = self.send_pending();
                return Err(io::ErrorKind::ConnectionAborted.into());
            }
            match self.send_pending() {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Refuses the client with `text` once the handshake is done.
    pub fn deny_after_handshake(&mut self, text: &'static [u8]) {
        self.deny = Some(text);
    }

    /// Encrypts what rustls accepts of `buf` (after sending what it held)
    /// and sends as much as the socket takes.
    pub fn write_plain(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.send_pending()?;
        let n = self.tls.writer().write(buf)?;
        match self.send_pending() {
            Ok(()) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(n),
            Err(e) => Err(e),
        }
    }

    /// Sends the encrypted bytes rustls holds (handshake messages, alerts,
    /// records); `WouldBlock` if the socket filled first.
    pub fn send_pending(&mut self) -> io::Result<()> {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut self.sock) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Encrypted bytes are waiting for the socket.
    pub fn has_pending(&self) -> bool {
        self.tls.wants_write()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssl_names_of_rustls_suites() {
        let base = rustls::crypto::ring::default_provider();
        let names: Vec<&str> = base.cipher_suites.iter().map(openssl_name).collect();
        for n in [
            "TLS_AES_256_GCM_SHA384",
            "TLS_AES_128_GCM_SHA256",
            "TLS_CHACHA20_POLY1305_SHA256",
            "ECDHE-ECDSA-AES256-GCM-SHA384",
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "ECDHE-ECDSA-CHACHA20-POLY1305",
            "ECDHE-RSA-AES256-GCM-SHA384",
            "ECDHE-RSA-AES128-GCM-SHA256",
            "ECDHE-RSA-CHACHA20-POLY1305",
        ] {
            assert!(names.contains(&n), "{n} not in {names:?}");
        }
    }

    #[test]
    fn cipher_strings() {
        let base = rustls::crypto::ring::default_provider();
        assert!(select_suites(&base, "FOO", false).is_empty());
        let one = select_suites(&base, "FOO:ECDHE-RSA-AES256-GCM-SHA384", false);
        assert_eq!(one.len(), 1);
        let all_but = select_suites(&base, "DEFAULT:!ECDHE-RSA-AES256-GCM-SHA384", false);
        assert_eq!(all_but.len(), 5);
        assert_eq!(select_suites(&base, "TLS_AES_128_GCM_SHA256", true).len(), 1);
        assert!(select_suites(&base, "ECDHE-RSA-AES256-GCM-SHA384", true).is_empty());
    }

    #[test]
    fn protocol_lists() {
        assert_eq!(protocols("").unwrap().len(), 2);
        assert_eq!(protocols("TLSv1.2").unwrap().len(), 1);
        assert_eq!(protocols("tlsv1.3 TLSv1.1").unwrap().len(), 1);
        assert!(protocols("TLSv1").unwrap_err().contains("not supported"));
        assert!(protocols("TLSv1.2 foo").unwrap_err().starts_with("Invalid tls-protocols specified."));
    }

    #[test]
    fn session_cache_size_and_timeout() {
        let c = SessionCache::new(2, Duration::from_secs(60));
        for i in 0..3u8 {
            c.put(vec![i], vec![i]);
        }
        assert_eq!(c.get(&[0]), None);
        assert_eq!(c.get(&[2]), Some(vec![2]));
        assert_eq!(c.take(&[1]), Some(vec![1]));
        assert_eq!(c.get(&[1]), None);
        let gone = SessionCache::new(0, Duration::ZERO);
        gone.put(vec![1], vec![1]);
        assert_eq!(gone.get(&[1]), None);
    }
}
