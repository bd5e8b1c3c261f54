//! State shared by all commands (owned by the event loop) and the
//! per-client state a command may change.

use crate::config::Config;
use crate::resp::Proto;
use crate::store::{Db, rand::Rng};
use std::net::SocketAddr;
use std::time::Instant;

/// Counters reported by INFO and used by tests.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub commands_processed: u64,
    pub connections_received: u64,
    pub rejected_connections: u64,
}

/// What a command asks the event loop to do after it returns.
#[derive(Debug, Default)]
pub struct LoopRequests {
    /// `timeout` changed: arm idle timers for existing connections.
    pub rearm_idle: bool,
    /// Connections to close (CLIENT KILL), by key and client id.
    pub close: Vec<(usize, u64)>,
    /// SHUTDOWN was called.
    pub shutdown: bool,
}

/// Everything the loop owns besides connections.
pub struct Shared {
    pub dbs: Vec<Db>,
    pub config: Config,
    pub stats: Stats,
    pub rng: Rng,
    pub started: Instant,
    pub requests: LoopRequests,
    /// Per-connection client state, indexed by connection key.
    pub clients: Vec<Option<Client>>,
}

impl Shared {
    pub fn new(config: Config) -> Shared {
        Shared {
            dbs: (0..config.databases).map(|_| Db::new()).collect(),
            config,
            stats: Stats::default(),
            rng: Rng::from_time(),
            started: Instant::now(),
            requests: LoopRequests::default(),
            clients: Vec::new(),
        }
    }

    /// The client of a live connection.
    pub fn client(&self, key: usize) -> &Client {
        self.clients[key].as_ref().expect("a live connection has a client")
    }

    pub fn client_mut(&mut self, key: usize) -> &mut Client {
        self.clients[key].as_mut().expect("a live connection has a client")
    }

    /// Registers the client of a new connection under `key`.
    pub fn add_client(&mut self, key: usize, client: Client) {
        if self.clients.len() <= key {
            self.clients.resize_with(key + 1, || None);
        }
        self.clients[key] = Some(client);
    }

    pub fn remove_client(&mut self, key: usize) {
        if let Some(slot) = self.clients.get_mut(key) {
            *slot = None;
        }
    }
}

/// Per-connection state visible to commands (all clients' states are
/// visible, for CLIENT LIST and CLIENT KILL).
#[derive(Debug)]
pub struct Client {
    pub id: u64,
    pub db: usize,
    pub name: Option<Vec<u8>>,
    pub proto: Proto,
    /// Close the connection once pending replies are written (QUIT,
    /// protocol errors, CLIENT KILL of oneself).
    pub close_after_reply: bool,
    pub addr: Option<SocketAddr>,
    pub laddr: Option<SocketAddr>,
    pub fd: i32,
    /// Unix ms when the connection was accepted.
    pub created_ms: u64,
    /// Unix ms of the last command.
    pub last_cmd_ms: u64,
    /// Full name of the last command (`get`, `client|list`).
    pub last_cmd: (&'static str, Option<&'static str>),
    /// Buffer sizes mirrored from the connection after each batch.
    pub qbuf: usize,
    pub qbuf_cap: usize,
    pub omem: usize,
}

impl Client {
    pub fn new(id: u64, addr: Option<SocketAddr>, laddr: Option<SocketAddr>, fd: i32, now_ms: u64) -> Client {
        Client {
            id,
            db: 0,
            name: None,
            proto: Proto::Resp2,
            close_after_reply: false,
            addr,
            laddr,
            fd,
            created_ms: now_ms,
            last_cmd_ms: now_ms,
            last_cmd: ("NULL", None),
            qbuf: 0,
            qbuf_cap: 0,
            omem: 0,
        }
    }
}
