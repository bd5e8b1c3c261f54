//! Listening sockets: TCP on every `bind` address and `port`, TLS on every
//! `bind` address and `tls-port`, and the Unix socket (`unixsocket`,
//! `unixsocketperm`), bound as Redis binds them, and the one stream type a
//! connection reads and writes through (plain TCP, TLS over TCP, or Unix).
//!
//! Bind addresses follow Redis 7: `*` is every IPv4 address, `::*` every
//! IPv6 one, and a `-` prefix makes an address optional (skipped when the
//! machine does not have it). `port 0` listens on no TCP port. CONFIG SET
//! `port`/`bind` binds the new sockets first and keeps the old ones if
//! that fails, as Redis's changeListenPort/changeBindAddr do.

use super::tls::{self, TlsStream};
use crate::config::Config;
use mio::event::Source;
use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use mio::{Interest, Registry, Token};
use socket2::{Domain, Socket, Type};
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// Listener `i` has token `LISTENER_BASE + i`; the Unix socket has
/// `UNIX_LISTENER`; connection tokens are slab keys.
pub const LISTENER_BASE: usize = usize::MAX / 2;
pub const UNIX_LISTENER: Token = Token(usize::MAX - 3);
/// TLS listener `i` has token `TLS_LISTENER_BASE + i` (at most 16 `bind`
/// addresses, so the ranges stay apart).
pub const TLS_LISTENER_BASE: usize = LISTENER_BASE + 4096;

/// A client's socket. The TLS layer sits under the connection's buffers:
/// commands and replies take the same path whatever the variant.
pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
    Tls(Box<TlsStream>),
}

impl Stream {
    pub fn fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
            Stream::Tls(s) => s.sock.as_raw_fd(),
        }
    }

    /// Sets TCP_NODELAY (no effect on a Unix socket).
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_nodelay(on),
            Stream::Unix(_) => Ok(()),
            Stream::Tls(s) => s.sock.set_nodelay(on),
        }
    }

    /// Reads into `buf`; returns the bytes read and whether the socket had
    /// no more at that moment (a short read; for TLS, the socket would
    /// block). 0 bytes is the end of the stream.
    #[inline]
    pub fn read_some(&mut self, buf: &mut [u8]) -> io::Result<(usize, bool)> {
        match self {
            Stream::Tcp(s) => s.read(buf).map(|n| (n, n < buf.len())),
            Stream::Unix(s) => s.read(buf).map(|n| (n, n < buf.len())),
            Stream::Tls(s) => s.read_plain(buf),
        }
    }

    /// Encrypted bytes wait for the socket (TLS only).
    #[inline]
    pub fn tls_pending(&self) -> bool {
        match self {
            Stream::Tls(s) => s.has_pending(),
            _ => false,
        }
    }

    /// Sends what the TLS layer holds (a no-op for plain streams);
    /// `WouldBlock` if the socket filled first.
    #[inline]
    pub fn send_pending(&mut self) -> io::Result<()> {
        match self {
            Stream::Tls(s) => s.send_pending(),
            _ => Ok(()),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_some(buf).map(|(n, _)| n)
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
            Stream::Tls(s) => s.write_plain(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Source for Stream {
    fn register(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.register(r, t, i),
            Stream::Unix(s) => s.register(r, t, i),
            Stream::Tls(s) => s.sock.register(r, t, i),
        }
    }

    fn reregister(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.reregister(r, t, i),
            Stream::Unix(s) => s.reregister(r, t, i),
            Stream::Tls(s) => s.sock.reregister(r, t, i),
        }
    }

    fn deregister(&mut self, r: &Registry) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.deregister(r),
            Stream::Unix(s) => s.deregister(r),
            Stream::Tls(s) => s.sock.deregister(r),
        }
    }
}

/// The server's listening sockets.
pub struct Listeners {
    pub tcp: Vec<TcpListener>,
    pub unix: Option<(UnixListener, PathBuf)>,
    /// The TLS port's sockets and the TLS context (built when `tls-port`
    /// is set; kept while the port is off and its options do not change).
    pub tls: Vec<TcpListener>,
    pub tls_context: Option<tls::Context>,
    registry: Registry,
}

/// Why binding failed: the address and the error, for Redis's log lines.
#[derive(Debug)]
pub struct BindError {
    pub addr: String,
    pub error: io::Error,
    /// It was the Unix socket.
    pub unix: bool,
    /// It was the TLS port.
    pub tls: bool,
    /// The TLS context could not be built: why (Redis's log line).
    pub tls_error: Option<String>,
}

impl BindError {
    pub fn new(addr: String, error: io::Error) -> BindError {
        BindError { addr, error, unix: false, tls: false, tls_error: None }
    }
}

impl Listeners {
    /// Binds what `config` asks for and registers it. `any_port` makes
    /// `port 0` mean "a free port" (tests) instead of "no TCP".
    pub fn open(config: &mut Config, registry: &Registry, any_port: bool) -> Result<Listeners, BindError> {
        let registry = registry.try_clone().map_err(|error| BindError::new("poll".into(), error))?;
        let mut l = Listeners { tcp: Vec::new(), unix: None, tls: Vec::new(), tls_context: None, registry };
        let tls_port = tls::port(config);
        if tls_port != 0 {
            // As Redis's initServer: the context before any socket.
            let context = tls::Context::build(config).map_err(|e| BindError {
                tls_error: Some(e),
                ..BindError::new(String::new(), io::ErrorKind::InvalidInput.into())
            })?;
            l.tls_context = Some(context);
        }
        if config.port != 0 || any_port {
            let (tcp, port) = bind_all(config, config.port)?;
            config.port = port;
            l.set_tcp(tcp);
        }
        if tls_port != 0 {
            let (tls, _) = bind_all(config, tls_port).map_err(|e| BindError { tls: true, ..e })?;
            l.set_tls(tls);
        }
        if !config.unixsocket.is_empty() {
            let path = PathBuf::from(&config.unixsocket);
            let mut u = bind_unix(&path, config.unixsocketperm)
                .map_err(|error| BindError { unix: true, ..BindError::new(config.unixsocket.clone(), error) })?;
            let _ = l.registry.register(&mut u, UNIX_LISTENER, Interest::READABLE);
            l.unix = Some((u, path));
        }
        Ok(l)
    }

    fn set_tcp(&mut self, tcp: Vec<TcpListener>) {
        for mut old in std::mem::take(&mut self.tcp) {
            let _ = self.registry.deregister(&mut old);
        }
        self.tcp = tcp;
        for (i, l) in self.tcp.iter_mut().enumerate() {
            let _ = self.registry.register(l, Token(LISTENER_BASE + i), Interest::READABLE);
        }
    }

    fn set_tls(&mut self, tls: Vec<TcpListener>) {
        for mut old in std::mem::take(&mut self.tls) {
            let _ = self.registry.deregister(&mut old);
        }
        self.tls = tls;
        for (i, l) in self.tls.iter_mut().enumerate() {
            let _ = self.registry.register(l, Token(TLS_LISTENER_BASE + i), Interest::READABLE);
        }
    }

    /// CONFIG SET port/bind: the new sockets, or the old ones kept. A
    /// `bind` change moves the TLS port's sockets too (Redis's
    /// changeBindAddr rebinds both).
    pub fn rebind(&mut self, config: &mut Config, bind_changed: bool) -> Result<(), BindError> {
        let tls_port = tls::port(config);
        let tls = if bind_changed && tls_port != 0 { Some(bind_all(config, tls_port)?.0) } else { None };
        if config.port == 0 {
            self.set_tcp(Vec::new());
        } else {
            let (tcp, _) = bind_all(config, config.port)?;
            self.set_tcp(tcp);
        }
        if let Some(tls) = tls {
            self.set_tls(tls);
        }
        Ok(())
    }

    /// CONFIG SET of `tls-port` or of the context's options (Redis's
    /// applyTLSPort and applyTlsCfg): the context is rebuilt when an
    /// option changed or none was built yet, then the port is bound. On
    /// an error nothing changes; the error is what CONFIG SET says.
    pub fn apply_tls(&mut self, config: &Config, old: &Config) -> Result<(), (&'static str, String)> {
        let port = tls::port(config);
        let port_changed = port != tls::port(old);
        // tls-replication and tls-cluster want the context too, port or
        // not (Redis's applyTlsCfg): turning one on without a certificate
        // fails as Redis's does.
        let flags = ["tls-replication", "tls-cluster"];
        let flag_on = |c: &Config| flags.iter().any(|f| c.get(f).as_deref() == Some("yes"));
        let changed = tls::changed(config, old).or_else(|| flags.into_iter().find(|f| config.get(f) != old.get(f)));
        let mut context = None;
        if (port != 0 || flag_on(config)) && (changed.is_some() || self.tls_context.is_none()) {
            let name = if port_changed && changed.is_none() { "tls-port" } else { changed.unwrap_or("tls-port") };
            let built = tls::Context::build(config).map_err(|e| {
                log::warn!("{e}");
                (name, "Unable to update TLS configuration. Check server logs.".to_string())
            })?;
            context = Some(built);
        }
        if port_changed {
            let sockets = if port == 0 {
                Vec::new()
            } else {
                bind_all(config, port)
                    .map_err(|e| {
                        log::warn!("Could not create server TCP listening socket {}: {}", e.addr, e.error);
                        ("tls-port", "Unable to listen on this port. Check server logs.".to_string())
                    })?
                    .0
            };
            self.set_tls(sockets);
        }
        if context.is_some() {
            self.tls_context = context;
        } else if changed.is_some() {
            // Changed while the port is off: built afresh when it opens.
            self.tls_context = None;
        }
        Ok(())
    }

    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.tcp.iter().filter_map(|l| l.local_addr().ok()).collect()
    }

    /// The TLS port's addresses.
    pub fn tls_addrs(&self) -> Vec<SocketAddr> {
        self.tls.iter().filter_map(|l| l.local_addr().ok()).collect()
    }

    /// Removes the Unix socket's file (at exit, as Redis does).
    pub fn remove_unix_file(&mut self) {
        if let Some((_, path)) = self.unix.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The address `host` of `bind` means, and whether it is optional.
fn parse_bind(host: &str) -> Option<(IpAddr, bool)> {
    let (host, optional) = match host.strip_prefix('-') {
        Some(h) => (h, true),
        None => (host, false),
    };
    let ip = match host {
        "*" => IpAddr::from([0u8; 4]),
        "::*" => IpAddr::from([0u16; 8]),
        h => h.parse().ok()?,
    };
    Some((ip, optional))
}

/// Binds every `bind` address on `port`; returns the sockets and the port
/// (the kernel's choice when `port` is 0: every address then shares the
/// first one's).
fn bind_all(config: &Config, port: u16) -> Result<(Vec<TcpListener>, u16), BindError> {
    let mut port = port;
    let mut out = Vec::new();
    for host in &config.bind {
        let Some((ip, optional)) = parse_bind(host) else {
            let error = io::Error::new(io::ErrorKind::InvalidInput, "Invalid bind address");
            return Err(BindError::new(format!("{host}:{port}"), error));
        };
        match bind_tcp(SocketAddr::new(ip, port), config.tcp_backlog, config.socket_mark_id) {
            Ok(l) => {
                if port == 0 {
                    port = l.local_addr().map(|a| a.port()).unwrap_or(0);
                }
                out.push(l);
            }
            // As Redis: an optional address the machine lacks is skipped.
            Err(e)
                if optional
                    && matches!(
                        e.raw_os_error(),
                        Some(libc::EADDRNOTAVAIL | libc::EAFNOSUPPORT | libc::EPROTONOSUPPORT | libc::ENOPROTOOPT)
                    ) => {}
            Err(error) => {
                let addr = if ip.is_ipv6() { format!("[{ip}]:{port}") } else { format!("{ip}:{port}") };
                let addr = if host.trim_start_matches('-').contains('*') {
                    format!("{}:{port}", host.trim_start_matches('-'))
                } else {
                    addr
                };
                return Err(BindError::new(addr, error));
            }
        }
    }
    Ok((out, port))
}

fn bind_tcp(addr: SocketAddr, backlog: i32, mark: u32) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    if mark != 0 {
        socket.set_mark(mark)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    socket.set_nonblocking(true)?;
    Ok(TcpListener::from_std(socket.into()))
}

/// Binds the Unix socket: a stale file is removed first, and the
/// permissions set when `perm` is not 0, as Redis does.
fn bind_unix(path: &PathBuf, perm: u32) -> io::Result<UnixListener> {
    let _ = std::fs::remove_file(path);
    let l = UnixListener::bind(path)?;
    if perm != 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm))?;
    }
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_addresses_as_redis() {
        assert_eq!(parse_bind("*"), Some(("0.0.0.0".parse().unwrap(), false)));
        assert_eq!(parse_bind("-::*"), Some(("::".parse().unwrap(), true)));
        assert_eq!(parse_bind("-::1"), Some(("::1".parse().unwrap(), true)));
        assert_eq!(parse_bind("127.0.0.1"), Some(("127.0.0.1".parse().unwrap(), false)));
        assert_eq!(parse_bind("nonsense"), None);
    }
}
