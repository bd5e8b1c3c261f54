//! ferrokv: a Redis-compatible key-value server.
//!
//! One thread runs one `mio` event loop that owns the whole keyspace (see
//! `server`). [`start`] runs a server on a background thread, which is how
//! the integration tests use it; `main.rs` runs it on the main thread.

pub mod acl;
pub mod alloc;
pub mod clock;
pub mod cmd;
pub mod config;
pub mod ctext;
pub mod geohash;
pub mod glob;
pub mod logging;
pub mod longdouble;
pub mod lzf;
pub mod persist;
pub mod pqsort;
pub mod process;
pub mod proctitle;
pub mod resp;
pub mod script;
pub mod server;
pub mod store;

pub use config::Config;
use std::io;
use std::net::SocketAddr;
use std::thread::JoinHandle;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// The version of Redis whose behaviour ferrokv follows.
pub const REDIS_VERSION: &str = "7.0.15";

/// A server running on a background thread; stopped when dropped.
pub struct Handle {
    /// The first bound address (with the real port when port 0 was asked).
    pub addr: SocketAddr,
    stopper: server::Stopper,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl Handle {
    /// Stops the server and waits for its thread.
    pub fn stop(mut self) -> io::Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> io::Result<()> {
        self.stopper.stop();
        match self.thread.take() {
            Some(t) => t.join().unwrap_or_else(|_| Err(io::Error::other("server thread panicked"))),
            None => Ok(()),
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// Binds the configured addresses and serves on a new thread. Unlike
/// redis-server, `port 0` here means a free port chosen by the kernel,
/// unless a Unix socket is configured (then it means no TCP, and `addr` is
/// `0.0.0.0:0`).
pub fn start(config: Config) -> io::Result<Handle> {
    let any_port = config.unixsocket.is_empty();
    let mut srv = server::Server::bind_with(config, any_port).map_err(|e| {
        io::Error::new(e.error.kind(), e.tls_error.unwrap_or_else(|| format!("{}: {}", e.addr, e.error)))
    })?;
    let addr = srv.local_addrs().first().copied().unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
    srv.begin().map_err(io::Error::other)?;
    let stopper = srv.stopper();
    let thread = std::thread::Builder::new().name("ferrokv".into()).spawn(move || srv.run())?;
    Ok(Handle { addr, stopper, thread: Some(thread) })
}
