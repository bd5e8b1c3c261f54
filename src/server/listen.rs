//! Listening sockets: TCP on every `bind` address and `port`, and the Unix
//! socket (`unixsocket`, `unixsocketperm`), bound as Redis binds them, and
//! the one stream type a connection reads and writes through.
//!
//! Bind addresses follow Redis 7: `*` is every IPv4 address, `::*` every
//! IPv6 one, and a `-` prefix makes an address optional (skipped when the
//! machine does not have it). `port 0` listens on no TCP port. CONFIG SET
//! `port`/`bind` binds the new sockets first and keeps the old ones if
//! that fails, as Redis's changeListenPort/changeBindAddr do.

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

/// A client's socket.
pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    pub fn fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
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
        }
    }

    fn reregister(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.reregister(r, t, i),
            Stream::Unix(s) => s.reregister(r, t, i),
        }
    }

    fn deregister(&mut self, r: &Registry) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.deregister(r),
            Stream::Unix(s) => s.deregister(r),
        }
    }
}

/// The server's listening sockets.
pub struct Listeners {
    pub tcp: Vec<TcpListener>,
    pub unix: Option<(UnixListener, PathBuf)>,
    registry: Registry,
}

/// Why binding failed: the address and the error, for Redis's log lines.
#[derive(Debug)]
pub struct BindError {
    pub addr: String,
    pub error: io::Error,
    /// It was the Unix socket.
    pub unix: bool,
}

impl Listeners {
    /// Binds what `config` asks for and registers it. `any_port` makes
    /// `port 0` mean "a free port" (tests) instead of "no TCP".
    pub fn open(config: &mut Config, registry: &Registry, any_port: bool) -> Result<Listeners, BindError> {
        let registry = registry.try_clone().map_err(|error| BindError { addr: "poll".into(), error, unix: false })?;
        let mut l = Listeners { tcp: Vec::new(), unix: None, registry };
        if config.port != 0 || any_port {
            let (tcp, port) = bind_all(config)?;
            config.port = port;
            l.set_tcp(tcp);
        }
        if !config.unixsocket.is_empty() {
            let path = PathBuf::from(&config.unixsocket);
            let mut u = bind_unix(&path, config.unixsocketperm).map_err(|error| BindError {
                addr: config.unixsocket.clone(),
                error,
                unix: true,
            })?;
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

    /// CONFIG SET port/bind: the new sockets, or the old ones kept.
    pub fn rebind(&mut self, config: &mut Config) -> Result<(), BindError> {
        if config.port == 0 {
            self.set_tcp(Vec::new());
            return Ok(());
        }
        let (tcp, _) = bind_all(config)?;
        self.set_tcp(tcp);
        Ok(())
    }

    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.tcp.iter().filter_map(|l| l.local_addr().ok()).collect()
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
fn bind_all(config: &Config) -> Result<(Vec<TcpListener>, u16), BindError> {
    let mut port = config.port;
    let mut out = Vec::new();
    for host in &config.bind {
        let Some((ip, optional)) = parse_bind(host) else {
            let error = io::Error::new(io::ErrorKind::InvalidInput, "Invalid bind address");
            return Err(BindError { addr: format!("{host}:{port}"), error, unix: false });
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
                return Err(BindError { addr, error, unix: false });
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
