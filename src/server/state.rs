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
}

/// Everything the loop owns besides connections.
pub struct Shared {
    pub dbs: Vec<Db>,
    pub config: Config,
    pub stats: Stats,
    pub rng: Rng,
    pub started: Instant,
    pub requests: LoopRequests,
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
        }
    }
}

/// Per-connection state visible to commands.
#[derive(Debug)]
pub struct Client {
    pub id: u64,
    pub db: usize,
    pub name: Option<Vec<u8>>,
    pub proto: Proto,
    /// Close the connection once pending replies are written (QUIT,
    /// protocol errors).
    pub close_after_reply: bool,
    pub addr: Option<SocketAddr>,
}

impl Client {
    pub fn new(id: u64, addr: Option<SocketAddr>) -> Client {
        Client { id, db: 0, name: None, proto: Proto::Resp2, close_after_reply: false, addr }
    }
}
